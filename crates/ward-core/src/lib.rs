//! The shared vocabulary of ward.
//!
//! Every stage of the pipeline (identify → verify → scan → decide → record)
//! speaks in these types and nothing else: a [`Digests`] pair computed from the
//! artifact's bytes, a [`PackageId`] (a purl), an [`Artifact`], the kinds of
//! check ([`CheckKind`]), the scanned [`Component`]s and their [`Finding`]s,
//! and the [`Decision`] with its [`Reason`]s. Each reason carries a stable,
//! documented [`ReasonCode`] that users can grep for and suppress.
//!
//! Verified facts and the checks that carry them are not here: they live in
//! `ward-verify`, the only crate that can make them.
//!
//! This crate does no I/O.

#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums, clippy::exhaustive_structs)]

pub mod artifact;
pub mod component;
pub mod decision;
pub mod digest;
pub mod finding;
pub mod purl;
pub mod reason;
pub mod traits;

pub use artifact::{Artifact, ArtifactKind, EvidenceRef};
pub use component::{Component, ComponentLicense, Unpinned};
pub use decision::{CheckKind, Decision, PolicyRef, Verdict};
pub use digest::{Digests, Sha256, Sha512};
pub use finding::{
    Finding, FindingStatus, MaliciousFinding, Rating, ScanReport, Severity, Silenced, SilencedBy, TriagedFinding,
    TriagedReport,
};
pub use purl::{Ecosystem, PackageId, PurlError};
pub use reason::{Location, Reason, ReasonCode};
pub use traits::{ArchiveTraits, BinaryFormat, FileDigest, NativeBinary};
