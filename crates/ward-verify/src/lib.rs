//! Verify: which claims about an artifact are proven.
//!
//! - [`SigstoreBundle`]: Sigstore bundles v0.1–v0.3 (message signatures and
//!   DSSE), verified offline by the `sigstore-verify` crate against a
//!   [`TrustRoot`] that is parsed once per process.
//! - [`PublicKey`]: plain PEM keys (Ed25519, ECDSA P-256/P-384, RSA ≥ 2048)
//!   for detached signatures and for bundles with a public-key hint.
//! - [`detached`]: detached signatures over the artifact, checked with those keys.
//! - [`attestation`]: every attestation format ward reads.
//! - [`EvidenceFile`]: an evidence file read once, with limits; its bytes
//!   are both verified and named (by SHA-256) in the decision record.
//! - [`rebuild`]: rebuild attestations (OSS Rebuild's equivalence and
//!   rebuild statements) as evidence that the artifact reproduces.
//! - Weak algorithms (SHA-1, MD5, DSA, short RSA) are refused by name.
//!
//! Every failure is a [`VerifyError`] with a stable reason code; every
//! success is a [`crate::Fact`]. Nothing here touches the network.

#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums, clippy::exhaustive_structs)]

pub mod attestation;
pub mod build_inputs;
mod bundle;
pub mod check;
pub mod detached;
pub mod dsse;
mod error;
pub mod evidence;
pub mod fact;
pub mod keys;
pub mod npm;
pub mod provenance;
pub mod pypi;
pub mod rebuild;
pub mod rebuild_link;
mod signer;
pub mod slsa;
pub mod statement;
mod trust;

pub use attestation::{AttestationContext, AttestationResult};
pub use bundle::{ArtifactRef, CertificateClaims, KNOWN_MEDIA_TYPES, SigstoreBundle, VerifiedBundle};
pub use check::{Check, CheckOutcome};
pub use error::VerifyError;
pub use evidence::EvidenceFile;
pub use fact::{BuildInputs, Fact, Provenance, Rebuild, RebuildOutcome, SignerIdentity};
pub use keys::{KeyKind, PublicKey};
pub use npm::RegistryKeys;
pub use signer::{IdentityRule, SignerRequirement, anchored_regex};
pub use trust::{PRODUCTION_TRUSTED_ROOT, STAGING_TRUSTED_ROOT, TrustRoot};

pub use detached::read_detached_signature;
