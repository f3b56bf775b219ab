//! The artifact under decision: what it is, what it is called, and its digests.

use crate::{Digests, PackageId};
use serde::{Deserialize, Serialize};

/// The kind of file an artifact is, as read from its own bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(
    clippy::exhaustive_enums,
    reason = "closed on purpose: a new variant must break every match on it (each stage decides what it means) rather than fall into a wildcard arm"
)]
pub enum ArtifactKind {
    /// An npm package tarball (`.tgz` with `package/package.json`).
    NpmTarball,
    /// A Python wheel (`.whl`, a zip with `*.dist-info/METADATA`).
    Wheel,
    /// A Python source distribution (`.tar.gz` or `.zip` with `PKG-INFO`).
    Sdist,
    /// A Rust crate (`.crate`, a gzip tar with `Cargo.toml`).
    Crate,
    /// Any other file; identity comes from `--purl` or the file name.
    File,
}

/// An identified artifact: its package id, kind, size and digests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct Artifact {
    /// The package this artifact is a release of.
    pub id: PackageId,
    /// What kind of file it is.
    pub kind: ArtifactKind,
    /// The file name it was presented under.
    pub file_name: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 and SHA-512 of its bytes.
    pub digests: Digests,
    /// The licence its own metadata declares (SPDX expression, as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// An evidence file presented with an artifact, named by its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct EvidenceRef {
    /// The file as given.
    pub uri: String,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
}
