//! Version orders, one per ecosystem: OSV's SemVer (npm, crates.io, Go),
//! PEP 440 (PyPI, by `pep440_rs`), and Maven's `ComparableVersion`.

mod maven;
mod semver;

pub use maven::MavenVersion;
pub use semver::SemverVersion;
use std::cmp::Ordering;
use std::str::FromStr;
use ward_core::Ecosystem;

/// Which order applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionScheme {
    /// SemVer 2.0 as OSV reads it (lenient: `v` prefix, missing components).
    Semver,
    /// PEP 440.
    Pep440,
    /// Maven's ComparableVersion.
    Maven,
}

impl VersionScheme {
    /// The order an ecosystem's versions follow.
    pub fn for_ecosystem(ecosystem: Ecosystem) -> Option<Self> {
        match ecosystem {
            Ecosystem::Npm | Ecosystem::Cargo | Ecosystem::Golang => Some(Self::Semver),
            Ecosystem::Pypi => Some(Self::Pep440),
            Ecosystem::Maven => Some(Self::Maven),
            Ecosystem::Generic => None,
        }
    }

    /// Parses a version in this scheme.
    pub fn parse(self, text: &str) -> Result<Version, VersionError> {
        let bad = || VersionError {
            version: text.to_string(),
            scheme: self,
            detail: None,
        };
        Ok(match self {
            Self::Semver => Version::Semver(SemverVersion::parse(text).ok_or_else(bad)?),
            Self::Pep440 => Version::Pep440(pep440_rs::Version::from_str(text.trim()).map_err(|e| VersionError {
                detail: Some(e.to_string()),
                ..bad()
            })?),
            Self::Maven => Version::Maven(MavenVersion::parse(text).ok_or_else(bad)?),
        })
    }
}

/// A version that cannot be parsed in its ecosystem's order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{version:?} is not a valid {scheme:?} version{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
pub struct VersionError {
    /// The text.
    pub version: String,
    /// The scheme it was read in.
    pub scheme: VersionScheme,
    /// The parser's own explanation, when it gives one.
    pub detail: Option<String>,
}

/// A parsed version. Versions of different schemes never compare.
#[derive(Clone, Debug)]
pub enum Version {
    /// SemVer.
    Semver(SemverVersion),
    /// PEP 440.
    Pep440(pep440_rs::Version),
    /// Maven.
    Maven(MavenVersion),
}

impl Version {
    /// Compares two versions of the same scheme.
    pub fn compare(&self, other: &Version) -> Option<Ordering> {
        match (self, other) {
            (Version::Semver(a), Version::Semver(b)) => Some(a.cmp(b)),
            (Version::Pep440(a), Version::Pep440(b)) => Some(a.cmp(b)),
            (Version::Maven(a), Version::Maven(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}
