//! Scan: what is known bad about a package.
//!
//! This first part holds the foundations: each ecosystem's version order
//! ([`version`]) and OSV `affected` evaluation ([`osv`]): `SEMVER` and
//! `ECOSYSTEM` ranges with `introduced`, `fixed`, `last_affected` and
//! `limit`, and explicit `versions` lists. A version that cannot be parsed
//! is an error ("could not evaluate"), never "not affected".

#![forbid(unsafe_code)]

pub mod advisory;
pub mod db;
pub mod first_seen;
pub mod license;
pub mod lockfile;
pub mod osv;
pub mod sbom;
pub mod scan;
pub mod scan_attestation;
pub mod version;
pub mod vex;

pub use advisory::{Advisory, Rating, Severity};
pub use db::{AdvisoryDb, DbError, ImportReport};
pub use first_seen::FirstSeenStore;
pub use license::{LicenseRule, LicenseVerdict};
pub use lockfile::{Component, LockfileError, Unpinned};
pub use osv::{Affected, Event, OsvRecord, Range, RangeKind, is_affected};
pub use scan::{ComponentLicense, Finding, ScanReport, Silenced, SilencedBy, scan};
pub use version::{Version, VersionError, VersionScheme};
pub use vex::{VexSet, VexStatement, VexStatus};
