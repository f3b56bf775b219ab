//! What is installed, checked against what was allowed: `ward audit`.
//!
//! [`audit`] reads the environments at the paths given (Python site
//! directories and virtual environments, npm `node_modules`, cargo
//! `vendor/` directories and cargo homes), and for each installed package
//! reports, as [`AuditFinding`]s of a stable [`AlertKind`]:
//! files that differ from what was recorded or allowed (`modified`,
//! `missing`, `extra`, rpm -V style: which file, expected and found digest
//! and size), bytes that cannot be tied to a digest (`unverifiable`, never
//! a pass), links and manifest paths that leave the package or environment
//! (never followed), artifacts without an allow in the ledger
//! (`unvetted`) or other than the first allowed bytes (`release-changed`),
//! advisories the allowing decision did not weigh (`newly-vulnerable`,
//! `newly-malicious`), deadlines passed (`overdue`), and what could not be
//! read (`unreadable`). It repairs nothing and writes nothing in the tree.
//!
//! One concern a module:
//! - [`model`]: the report, findings and installed packages (the stable interface);
//! - [`context`]: what is checked against (ledger allows, advisories, policy, cache, limits);
//! - `discover`: which environments a path holds;
//! - `python`, `npm`, `cargo`: each ecosystem's installed packages and manifests;
//! - `fsio`: bounded reads, streamed hashing that notices changes, symlinks never followed;
//! - `archive`: the files of an allowed artifact from the proxy cache;
//! - `compare`: a package directory against its expected files;
//! - `advisories`: today's advisories against the allowing decisions;
//! - `vet`: which allow covers a package, and which bytes to compare it with;
//! - `run`: the audit itself, packages hashed in parallel.

#![forbid(unsafe_code)]

mod advisories;
mod archive;
mod cargo;
mod compare;
pub mod context;
mod discover;
mod error;
mod fsio;
pub mod model;
mod npm;
mod python;
mod run;
mod vet;

pub use context::{Allow, Allows, AuditContext, AuditLimits, Progress};
pub use error::AuditError;
pub use model::{
    AdvisoryRef, AlertKind, AllowRef, ArtifactDigest, AuditFinding, AuditReport, AuditStats, Environment,
    EnvironmentKind, FileState, Installed,
};
pub use run::audit;
