//! Reproducible builds: is a published artifact what its source builds to?
//!
//! - [`compare`]: two artifacts compared after normalisation (entry order,
//!   timestamps, owners, modes and compression do not count), file by file,
//!   with unified diffs of small text files; anything ward refuses to
//!   install is a difference, never "equal".
//! - [`attest`]: the comparison signed as an OSS Rebuild-style equivalence
//!   (or divergence) statement that `ward verify --rebuild` accepts, so a
//!   team can be its own rebuilder.
//! - [`inputs`]: a build's recorded inputs (`ward attest --build-inputs`).
//! - [`run`]: a rebuild from a local git checkout (`npm pack`, `cargo
//!   package`) in a clean, offline environment, to compare with.
//!
//! Verifying rebuild statements is `ward_verify::rebuild`; deciding on them
//! is `ward_policy::rebuild`.

#![forbid(unsafe_code)]

pub mod attest;
pub mod compare;
pub mod inputs;
pub mod run;

pub use compare::{Comparison, Difference, compare};
