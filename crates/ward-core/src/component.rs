//! What a scan looks at: a package at an exact version and the file it was
//! found in, an entry that could not be pinned down, and a component's
//! declared licence.

use crate::purl::PackageId;
use serde::Serialize;

/// A package at an exact version, and where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct Component {
    /// The package (with version).
    pub id: PackageId,
    /// The file it came from.
    pub source: String,
    /// The 1-based line of its entry in `source`, when the reader knows it
    /// (SARIF output points there).
    pub line: Option<usize>,
    /// The declared licence (SPDX expression), when the source states one.
    pub license: Option<String>,
    /// Whether the source states licences at all (an SBOM or lockfile
    /// that does, but not for this component, leaves it unknown).
    pub states_licenses: bool,
    /// Digests of the component's artifact, where known: (`sha1` |
    /// `sha256` | `sha512`, lower-case hex). Compared with the hashes a
    /// malicious-package record lists.
    pub digests: Vec<(String, String)>,
}

impl Component {
    /// A component from a source that states no licences.
    pub fn new(id: PackageId, source: impl Into<String>) -> Self {
        Self {
            id,
            source: source.into(),
            line: None,
            license: None,
            states_licenses: false,
            digests: Vec::new(),
        }
    }

    /// The same component, at this line of its source.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

/// An entry that names a package but not an exact version, or that could
/// not be checked for another reason ("could not evaluate", never "clean").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct Unpinned {
    /// What was read.
    pub entry: String,
    /// The file.
    pub source: String,
    /// Why it cannot be evaluated.
    pub reason: String,
}

/// A component's declared licence.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct ComponentLicense {
    /// The component (with its version); written as a purl.
    pub package: PackageId,
    /// The SPDX expression as declared; `None` when nothing is declared.
    pub license: Option<String>,
    /// Where the component was found.
    pub source: String,
}
