//! Package identity as a Package URL (purl), parsed and printed by the `packageurl` crate.
//!
//! ward names packages the way every SBOM and advisory database does:
//! `pkg:npm/%40acme/left-pad@1.3.0`, `pkg:pypi/requests@2.31.0`,
//! `pkg:cargo/serde@1.0.0`. Names are kept as the package's own metadata
//! spells them; [`PackageId::normalized_name`] gives the form used for
//! matching (PEP 503 for PyPI, lower case for crates).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The package ecosystems ward knows how to identify and scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(
    clippy::exhaustive_enums,
    reason = "closed on purpose: a new variant must break every match on it (each stage decides what it means) rather than fall into a wildcard arm"
)]
pub enum Ecosystem {
    /// npm (purl type `npm`).
    Npm,
    /// PyPI (purl type `pypi`).
    Pypi,
    /// crates.io (purl type `cargo`).
    Cargo,
    /// Go modules (purl type `golang`).
    Golang,
    /// Maven (purl type `maven`).
    Maven,
    /// Anything else: a plain file (purl type `generic`).
    Generic,
}

impl Ecosystem {
    /// The purl type string.
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Cargo => "cargo",
            Ecosystem::Golang => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::Generic => "generic",
        }
    }

    /// Parses a purl type string.
    pub fn from_purl_type(s: &str) -> Option<Self> {
        Some(match s {
            "npm" => Ecosystem::Npm,
            "pypi" => Ecosystem::Pypi,
            "cargo" => Ecosystem::Cargo,
            "golang" => Ecosystem::Golang,
            "maven" => Ecosystem::Maven,
            "generic" => Ecosystem::Generic,
            _ => return None,
        })
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.purl_type())
    }
}

/// A package name and (optionally) version in one ecosystem.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PackageId {
    /// Which ecosystem the package lives in.
    pub ecosystem: Ecosystem,
    /// The purl namespace: the npm scope with its `@`, a Maven group id, a Go module path prefix.
    pub namespace: Option<String>,
    /// The package name, as its own metadata spells it.
    pub name: String,
    /// The version, if known.
    pub version: Option<String>,
}

/// Why a string is not a usable purl.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PurlError {
    /// The text does not parse as a purl at all.
    #[error("not a package URL: {0}")]
    Syntax(String),
    /// The purl type is not one ward handles.
    #[error("unsupported package type {0:?} (ward knows npm, pypi, cargo, golang, maven, generic)")]
    UnsupportedType(String),
}

impl PackageId {
    /// A package id with a version.
    pub fn new(
        ecosystem: Ecosystem,
        namespace: Option<String>,
        name: impl Into<String>,
        version: Option<String>,
    ) -> Self {
        Self {
            ecosystem,
            namespace,
            name: name.into(),
            version,
        }
    }

    /// An npm package from its full name (`left-pad` or `@acme/left-pad`).
    pub fn npm(full_name: &str, version: Option<String>) -> Self {
        match full_name.strip_prefix('@').and_then(|rest| rest.split_once('/')) {
            Some((scope, name)) => Self::new(Ecosystem::Npm, Some(format!("@{scope}")), name, version),
            None => Self::new(Ecosystem::Npm, None, full_name, version),
        }
    }

    /// The full name as the ecosystem writes it (`@acme/left-pad`, `org.example:lib`).
    pub fn full_name(&self) -> String {
        match (&self.namespace, self.ecosystem) {
            (Some(ns), Ecosystem::Maven) => format!("{ns}:{}", self.name),
            (Some(ns), _) => format!("{ns}/{}", self.name),
            (None, _) => self.name.clone(),
        }
    }

    /// The name normalised for matching: PEP 503 for PyPI, lower case for crates and npm.
    pub fn normalized_name(&self) -> String {
        let full = self.full_name();
        match self.ecosystem {
            Ecosystem::Pypi => normalize_pypi_name(&full),
            Ecosystem::Cargo | Ecosystem::Npm => full.to_ascii_lowercase(),
            _ => full,
        }
    }

    /// The canonical purl string.
    pub fn to_purl(&self) -> String {
        let name = match self.ecosystem {
            Ecosystem::Pypi => normalize_pypi_name(&self.name),
            _ => self.name.clone(),
        };
        let mut purl = match packageurl::PackageUrl::new(self.ecosystem.purl_type(), name.as_str()) {
            Ok(p) => p,
            // The constructor only fails on an empty type or name; fall back to plain text.
            Err(_) => return format!("pkg:{}/{}", self.ecosystem.purl_type(), name),
        };
        let with_parts = match &self.namespace {
            Some(ns) => purl.with_namespace(ns.as_str()).map(|_| ()),
            None => Ok(()),
        }
        .and_then(|()| match &self.version {
            Some(v) => purl.with_version(v.as_str()).map(|_| ()),
            None => Ok(()),
        });
        match with_parts {
            Ok(()) => purl.to_string(),
            Err(_) => format!("pkg:{}/{}", self.ecosystem.purl_type(), self.full_name()),
        }
    }
}

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_purl())
    }
}

impl FromStr for PackageId {
    type Err = PurlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let purl = packageurl::PackageUrl::from_str(s).map_err(|e| PurlError::Syntax(e.to_string()))?;
        let ecosystem =
            Ecosystem::from_purl_type(purl.ty()).ok_or_else(|| PurlError::UnsupportedType(purl.ty().to_string()))?;
        Ok(Self {
            ecosystem,
            namespace: purl.namespace().map(str::to_string),
            name: purl.name().to_string(),
            version: purl.version().map(str::to_string),
        })
    }
}

impl Serialize for PackageId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_purl())
    }
}

impl<'de> Deserialize<'de> for PackageId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// PEP 503 name normalisation: lower case, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_pypi_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_npm_round_trip() {
        let id = PackageId::npm("@acme/left-pad", Some("1.3.0".into()));
        assert_eq!(id.full_name(), "@acme/left-pad");
        let purl = id.to_purl();
        assert_eq!(purl, "pkg:npm/%40acme/left-pad@1.3.0");
        assert_eq!(purl.parse::<PackageId>().unwrap(), id);
    }

    #[test]
    fn pypi_names_are_normalised() {
        assert_eq!(normalize_pypi_name("Sample_Project..X"), "sample-project-x");
        let id: PackageId = "pkg:pypi/Requests@2.31.0".parse().unwrap();
        assert_eq!(id.normalized_name(), "requests");
    }

    #[test]
    fn unknown_type_is_an_error() {
        assert!(matches!(
            "pkg:nuget/x@1".parse::<PackageId>(),
            Err(PurlError::UnsupportedType(_))
        ));
        assert!(matches!("not a purl".parse::<PackageId>(), Err(PurlError::Syntax(_))));
    }
}
