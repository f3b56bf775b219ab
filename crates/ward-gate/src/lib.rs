//! The gate: one function from artifact and evidence to a decision.
//!
//! `ward verify`, `ward scan`, the registry proxy and the audit of installed
//! packages all call [`Gate::evaluate`], so they cannot drift apart. The
//! stages run in pipeline order: identify (digests, identity, archive
//! safety), verify (every piece of evidence presented: bundles, detached
//! signatures, attestations), scan, decide (the policy, or ward's safe
//! default), record (the ledger).
//!
//! One concern a module:
//! - [`evidence`]: what is presented with an artifact, and how it is named in the record;
//! - [`gate`]: the configured [`Gate`] and its builders;
//! - [`history`]: the release history a decision compares (registry listing and ledger index);
//! - [`pipeline`]: identify → verify → scan → decide for one artifact;
//! - [`pins`]: release pins, the bytes the ledger first allowed for a package file;
//! - `rebuild`: rebuild attestations checked, and held against the provenance;
//! - [`record`]: appending a decision to the ledger, with its inclusion proof;
//! - [`risky`]: risky-change signals, the traits of the releases ward allowed;
//! - [`scan`]: what the scan stage scans for one artifact.

#![forbid(unsafe_code)]

pub mod evidence;
mod gate;
pub mod history;
pub mod pins;
mod pipeline;
mod rebuild;
mod record;
pub mod risky;
pub mod scan;

pub use evidence::{BaselineAttestations, Evidence, EvidenceSource, ExpectedDigest, NpmRegistrySignature};
pub use gate::Gate;
pub use pins::RecordedAllows;
pub use record::{RecordFailed, Recorded};
pub use risky::ReleaseTraits;
pub use scan::{ScanOutcome, scanned_components};

use serde::Serialize;
use ward_core::{Artifact, Decision, EvidenceRef};
use ward_verify::VerifyError;
use ward_verify::{Check, Fact};

/// Why an artifact could not be evaluated at all (exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// The artifact is unreadable.
    #[error(transparent)]
    Artifact(#[from] ward_identify::ReadError),
    /// An evidence file is unreadable.
    #[error(transparent)]
    Evidence(VerifyError),
    /// The first-seen store cannot be read or written.
    #[error("first-seen store: {0}")]
    FirstSeen(String),
    /// The release-traits store (risky-change rules) cannot be opened.
    #[error(transparent)]
    ReleaseTraits(crate::risky::StoreError),
    /// A `ward scan` target is not a lockfile, SBOM or artifact ward can read.
    #[error(transparent)]
    Target(ward_scan::TargetError),
    /// `ward scan` needs an advisory database.
    #[error("no advisory database: import one with `ward advisories import`")]
    NoAdvisoryDatabase,
    /// The advisory database cannot be loaded.
    #[error(transparent)]
    Advisories(#[from] ward_scan::DbError),
}

/// Everything ward found out about one artifact, and the decision.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// The identified artifact.
    pub artifact: Artifact,
    /// Each check, in pipeline order.
    pub checks: Vec<Check>,
    /// The decision.
    pub decision: Decision,
    /// Every evidence file, by digest.
    pub evidence: Vec<EvidenceRef>,
    /// Known vulnerabilities found, when an advisory database is configured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<ward_core::TriagedFinding>,
    /// When the decision was made (RFC 3339 in JSON).
    pub time: jiff::Timestamp,
    /// What the archive does at install (install scripts, dependencies,
    /// `.pth` files, native binaries), when ward could read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traits: Option<ward_core::ArchiveTraits>,
    /// The release history the cooldown and history rules compared (when
    /// the policy has such rules for this package).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<ward_policy::release::ReleaseHistory>,
}

impl Evaluation {
    /// The verified facts, across all checks.
    pub fn facts(&self) -> impl Iterator<Item = &Fact> {
        self.checks.iter().flat_map(|c| c.facts())
    }
}
