//! One advisory as ward keeps it: what matching needs, from any source.

use crate::osv::{Affected, OsvRecord};
use crate::version::{VersionError, VersionScheme};
use serde::{Deserialize, Serialize};
use ward_core::Ecosystem;
// Rating and Severity are ward-core's; db.rs names them through this module.
pub(crate) use ward_core::{Rating, Severity};

/// Computes a rating from a CVSS v3.x or v4.0 vector with the `cvss` crate.
pub fn rate_vector(vector: &str) -> Option<Rating> {
    let score = if vector.starts_with("CVSS:4.0/") {
        vector.parse::<cvss::v4::Vector>().ok()?.score().value()
    } else if vector.starts_with("CVSS:3.") {
        vector.parse::<cvss::v3::Vector>().ok()?.score().value()
    } else {
        return None;
    };
    Some(Rating {
        level: Severity::from_score(score),
        score: Some(score),
        vector: Some(vector.to_string()),
        assumed: false,
    })
}

/// How an advisory decides whether a version is affected.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Matcher {
    /// OSV ranges and version lists.
    Osv(Affected),
    /// RustSec's semver requirements: affected unless patched or unaffected.
    Rustsec {
        /// Versions that carry the fix.
        patched: Vec<String>,
        /// Versions never affected.
        unaffected: Vec<String>,
    },
}

/// One affected package of an advisory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AffectedPackage {
    /// The ecosystem.
    pub ecosystem: Ecosystem,
    /// The package name, normalised for lookup.
    pub name: String,
    /// How to match versions.
    pub matcher: Matcher,
}

/// An advisory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Advisory {
    /// Its id.
    pub id: String,
    /// Other ids (CVE, GHSA, …), merged across sources.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One-line summary.
    #[serde(default)]
    pub summary: String,
    /// Last modified (RFC 3339).
    #[serde(default)]
    pub modified: Option<String>,
    /// Severity.
    pub rating: Rating,
    /// What it affects.
    pub affected: Vec<AffectedPackage>,
    /// Set when the record is about a malicious package (an OSV `MAL-`
    /// record, a RustSec `malicious` advisory): its own kind of finding, not
    /// a severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malicious: Option<crate::malicious::Malicious>,
}

impl AffectedPackage {
    /// Whether `version` is affected. An unparsable version (or bound) is an
    /// error: the caller reports "could not evaluate".
    pub fn matches(&self, version: &str) -> Result<bool, VersionError> {
        let scheme = VersionScheme::for_ecosystem(self.ecosystem).unwrap_or(VersionScheme::Semver);
        match &self.matcher {
            Matcher::Osv(a) => {
                let v = scheme.parse(version)?;
                crate::osv::is_affected(a, scheme, &v, version)
            }
            Matcher::Rustsec { patched, unaffected } => {
                let v = semver::Version::parse(version).map_err(|e| VersionError {
                    version: version.to_string(),
                    scheme: VersionScheme::Semver,
                    detail: Some(e.to_string()),
                })?;
                for req in patched.iter().chain(unaffected) {
                    let r = semver::VersionReq::parse(req).map_err(|e| VersionError {
                        version: req.clone(),
                        scheme: VersionScheme::Semver,
                        detail: Some(e.to_string()),
                    })?;
                    if r.matches(&v) {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }

    /// Versions that fix the advisory, for "upgrade to" hints.
    pub fn fixed_versions(&self) -> Vec<String> {
        match &self.matcher {
            Matcher::Osv(a) => a
                .ranges
                .iter()
                .flat_map(|r| &r.events)
                .filter_map(|e| e.fixed.clone())
                .collect(),
            Matcher::Rustsec { patched, .. } => patched.clone(),
        }
    }
}

/// The ecosystems ward scans, by their OSV names.
pub fn ecosystem_of(osv: &str) -> Option<Ecosystem> {
    Some(match osv {
        "PyPI" => Ecosystem::Pypi,
        "npm" => Ecosystem::Npm,
        "crates.io" => Ecosystem::Cargo,
        "Go" => Ecosystem::Golang,
        "Maven" => Ecosystem::Maven,
        _ => return None,
    })
}

/// The lookup form of a package name.
pub fn normalize_name(ecosystem: Ecosystem, name: &str) -> String {
    ward_core::PackageId::new(ecosystem, None, name, None).normalized_name()
}

impl Advisory {
    /// From an OSV record; `None` when withdrawn or about no ecosystem ward scans.
    pub fn from_osv(record: OsvRecord, db_severity: Option<&str>, vectors: &[String]) -> Option<Self> {
        if record.withdrawn.is_some() {
            return None;
        }
        let affected: Vec<AffectedPackage> = record
            .affected
            .iter()
            .filter_map(|a| {
                let p = a.package.as_ref()?;
                let ecosystem = ecosystem_of(p.ecosystem.split(':').next().unwrap_or_default())?;
                Some(AffectedPackage {
                    ecosystem,
                    name: normalize_name(ecosystem, &p.name),
                    matcher: Matcher::Osv(a.clone()),
                })
            })
            .collect();
        if affected.is_empty() {
            return None;
        }
        let rating = vectors
            .iter()
            .filter_map(|v| rate_vector(v))
            .max_by(|a, b| a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0)))
            .or_else(|| {
                db_severity.and_then(Severity::from_word).map(|level| Rating {
                    level,
                    score: None,
                    vector: None,
                    assumed: false,
                })
            })
            .unwrap_or_else(Rating::unrated);
        Some(Self {
            id: record.id,
            aliases: record.aliases,
            summary: record.summary.filter(|s| !s.is_empty()).unwrap_or_else(|| {
                let first = record
                    .details
                    .as_deref()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default();
                first.chars().take(120).collect()
            }),
            modified: record.modified,
            rating,
            affected,
            malicious: None,
        })
    }
}
