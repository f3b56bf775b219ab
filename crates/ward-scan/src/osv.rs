//! OSV records (the subset matching needs) and `affected` evaluation, as
//! the OSV schema specifies it: for each `SEMVER` or `ECOSYSTEM` range,
//! events sorted by version; `introduced` opens, `fixed` closes at,
//! `last_affected` closes after; `limit` bounds the range. Other range types
//! (`GIT`) are skipped, not treated as "not affected" for the whole record.

use crate::version::{Version, VersionError, VersionScheme};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// An OSV record.
#[derive(Clone, Debug, Deserialize)]
pub struct OsvRecord {
    /// The id (`GHSA-…`, `PYSEC-…`, `RUSTSEC-…`, `GO-…`).
    pub id: String,
    /// Last modified (RFC 3339).
    #[serde(default)]
    pub modified: Option<String>,
    /// Set when the advisory was withdrawn.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// Other ids for the same vulnerability.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Short summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Longer description (its first line stands in for a missing summary).
    #[serde(default)]
    pub details: Option<String>,
    /// Severity vectors (`CVSS_V3`, `CVSS_V4`).
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    /// Database-specific fields (GHSA puts its rating here).
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
    /// What is affected.
    #[serde(default)]
    pub affected: Vec<Affected>,
}

/// One `severity` entry.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SeverityEntry {
    /// `CVSS_V3`, `CVSS_V4`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector.
    pub score: String,
}

/// One `affected` entry.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Affected {
    /// The package.
    #[serde(default)]
    pub package: Option<AffectedPackage>,
    /// Version ranges.
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Database-specific fields of this entry (malicious-package indicators
    /// may be here); read at import, not kept in the database.
    #[serde(default, skip_serializing)]
    pub database_specific: Option<serde_json::Value>,
}

/// The package an `affected` entry names.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct AffectedPackage {
    /// OSV ecosystem (`PyPI`, `npm`, `crates.io`, `Go`, `Maven`).
    pub ecosystem: String,
    /// The name.
    pub name: String,
}

/// The kind of a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeKind {
    /// SemVer 2.0 versions.
    Semver,
    /// The ecosystem's own order.
    Ecosystem,
    /// Git commits (not evaluated by version).
    Git,
    /// Anything else.
    #[serde(other)]
    Other,
}

/// A range.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Range {
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: RangeKind,
    /// Its events.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One range event.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Event {
    /// Affected from this version (`0`: from the start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// Fixed in this version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Affected up to and including this version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// The range ends before this version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

enum Bound {
    Zero,
    At(Version),
}

fn bound(text: &str, scheme: VersionScheme) -> Result<Bound, VersionError> {
    if text == "0" {
        Ok(Bound::Zero)
    } else {
        scheme.parse(text).map(Bound::At)
    }
}

fn cmp_to(v: &Version, b: &Bound) -> Ordering {
    match b {
        Bound::Zero => Ordering::Greater,
        Bound::At(x) => v.compare(x).unwrap_or(Ordering::Equal),
    }
}

/// Whether `version` (already parsed in `scheme`) is affected. `text` is the
/// version as written, for exact matches against `versions`.
pub fn is_affected(
    affected: &Affected,
    scheme: VersionScheme,
    version: &Version,
    text: &str,
) -> Result<bool, VersionError> {
    if affected.versions.iter().any(|v| v == text) {
        return Ok(true);
    }
    for range in &affected.ranges {
        let range_scheme = match range.kind {
            RangeKind::Semver => VersionScheme::Semver,
            RangeKind::Ecosystem => scheme,
            RangeKind::Git | RangeKind::Other => continue,
        };
        let v = if range_scheme == scheme {
            version.clone()
        } else {
            range_scheme.parse(text)?
        };
        let mut events = Vec::new();
        let mut limits = Vec::new();
        for e in &range.events {
            if let Some(x) = &e.introduced {
                events.push((0u8, bound(x, range_scheme)?));
            }
            if let Some(x) = &e.fixed {
                events.push((1, bound(x, range_scheme)?));
            }
            if let Some(x) = &e.last_affected {
                events.push((2, bound(x, range_scheme)?));
            }
            if let Some(x) = &e.limit {
                limits.push(bound(x, range_scheme)?);
            }
        }
        events.sort_by(|(_, a), (_, b)| match (a, b) {
            (Bound::Zero, Bound::Zero) => Ordering::Equal,
            (Bound::Zero, _) => Ordering::Less,
            (_, Bound::Zero) => Ordering::Greater,
            (Bound::At(x), Bound::At(y)) => x.compare(y).unwrap_or(Ordering::Equal),
        });
        let mut vulnerable = false;
        for (kind, at) in &events {
            let c = cmp_to(&v, at);
            match kind {
                0 if c != Ordering::Less => vulnerable = true,
                1 if c != Ordering::Less => vulnerable = false,
                2 if c == Ordering::Greater => vulnerable = false,
                _ => {}
            }
        }
        if vulnerable && !limits.is_empty() && !limits.iter().any(|l| cmp_to(&v, l) == Ordering::Less) {
            vulnerable = false;
        }
        if vulnerable {
            return Ok(true);
        }
    }
    Ok(false)
}
