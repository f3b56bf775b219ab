//! Scan: what is known bad about a package.
//!
//! - [`version`]: each ecosystem's version order (SemVer, PEP 440, Maven);
//! - [`osv`]: OSV `affected` evaluation (`SEMVER` and `ECOSYSTEM` ranges with
//!   `introduced`, `fixed`, `last_affected`, `limit`; `versions` lists);
//! - [`advisory`], [`db`]: advisories, their severity, and the local database;
//! - [`malicious`]: known-malicious packages (OSV `MAL-`, RustSec
//!   `malicious`), a kind of finding of its own;
//! - [`target`]: what a scan target is (by name and content), handed to
//!   its reader: [`lockfile`] (`Cargo.lock`, `poetry.lock`, `uv.lock`),
//!   [`npm_lock`], [`requirements`], [`sbom`], each read as its own tool
//!   reads it;
//! - [`scan`]: matching components against the database;
//! - [`first_seen`]: when findings were first seen.
//!
//! A version that cannot be parsed, or a record that cannot be read, is
//! "could not evaluate", never "not affected". What the scan produces
//! (components, findings, severities) is ward-core's vocabulary; the policy
//! over findings (thresholds, exceptions, OpenVEX statements, licence
//! rules, deadlines, scan attestations made elsewhere) lives in
//! `ward-policy`.

#![forbid(unsafe_code)]

pub mod advisory;
pub mod db;
pub mod first_seen;
pub mod lockfile;
pub mod malicious;
pub mod npm_lock;
pub mod osv;
pub mod requirements;
mod rustsec_md;
pub mod sbom;
pub mod scan;
pub mod target;
pub mod version;

pub use advisory::Advisory;
pub use db::{AdvisoryDb, DbError, ImportReport, SourceInfo};
pub use first_seen::FirstSeenStore;
pub use osv::{Affected, Event, OsvRecord, Range, RangeKind, is_affected};
pub use scan::scan;
pub use target::TargetError;
pub use version::{Version, VersionError, VersionScheme};
