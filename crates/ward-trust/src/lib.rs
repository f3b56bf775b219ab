//! Trust that changes over time. This crate is a TUF client (The Update
//! Framework, specification 1.0.x, section 5 "detailed client workflow"),
//! on python-tuf's `ngclient` model:
//!
//! * [`TrustedSet`]: the checks on bytes (signature thresholds over the
//!   canonical JSON of the `signed` object as received, versions, rollback,
//!   expiry against a caller-given time, lengths and hashes), no I/O;
//! * [`Updater`]: the workflow over a metadata directory and a [`Fetcher`]
//!   (root chain with a rotation bound, fast-forward recovery, consistent
//!   snapshots, the delegation search, bounded downloads, target cache);
//! * [`store::TrustStore`]: ward's trusted state (Sigstore's trusted root,
//!   the npm registry keys, the history of accepted roots), updated all or
//!   nothing; [`history`]: what each accepted root changed.
//!
//! Every refusal is a [`TufError`] naming the TUF rule that failed.

pub mod canonical;
mod error;
pub mod fetch;
pub mod history;
pub mod keys;
pub mod metadata;
mod pattern;
pub mod store;
pub mod trusted;
pub mod updater;

pub use error::TufError;
pub use fetch::{DirFetcher, Fetcher, HttpFetcher};
pub use trusted::TrustedSet;
pub use updater::{Limits, Updater, init};
