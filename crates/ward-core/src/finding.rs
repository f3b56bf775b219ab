//! What a scan finds: a known advisory that affects a component, how bad it
//! is, and everything a scan of many components found.
//!
//! ward-scan produces these; ward-policy judges them; the CLI prints them.
//! The types here hold no behaviour beyond their own vocabulary (ordering
//! severities, reading a database's own severity word).

use crate::component::{ComponentLicense, Unpinned};
use crate::purl::PackageId;
use serde::{Deserialize, Serialize};

/// How bad, from a CVSS vector (computed) or the database's own rating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No rating (informational advisories: unmaintained, notices).
    None,
    /// CVSS 0.1–3.9.
    Low,
    /// CVSS 4.0–6.9.
    Medium,
    /// CVSS 7.0–8.9.
    High,
    /// CVSS 9.0–10.0.
    Critical,
}

impl Severity {
    /// The qualitative rating of a CVSS base score.
    pub fn from_score(score: f64) -> Self {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::None,
        }
    }

    /// Parses a database's own word (GHSA's `MODERATE` is medium).
    pub fn from_word(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" => Severity::Low,
            "none" | "informational" => Severity::None,
            _ => return None,
        })
    }
}

/// A severity with where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    /// The level.
    pub level: Severity,
    /// The CVSS base score, when computed from a vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The vector it was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    /// True when the source gave no rating and ward assumed `high` (an
    /// unrated vulnerability is not a harmless one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub assumed: bool,
}

impl Rating {
    /// The rating of an advisory whose source gave none.
    pub fn unrated() -> Self {
        Rating {
            level: Severity::High,
            score: None,
            vector: None,
            assumed: true,
        }
    }

    /// The rating of an informational advisory (unmaintained, notice).
    pub fn informational() -> Self {
        Rating {
            level: Severity::None,
            score: None,
            vector: None,
            assumed: false,
        }
    }
}

/// A known vulnerability (or malicious-package record) in a component.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The advisory id.
    pub advisory: String,
    /// Its aliases.
    pub aliases: Vec<String>,
    /// Its summary.
    pub summary: String,
    /// How bad.
    pub rating: Rating,
    /// The affected component (with its version); written as a purl.
    pub package: PackageId,
    /// Where the component was found.
    pub source: String,
    /// Versions that fix it.
    pub fixed: Vec<String>,
    /// When ward first saw this advisory on this package (RFC 3339), if a
    /// first-seen store is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// The remediation deadline (RFC 3339), when the policy sets one for this severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// Past its deadline.
    pub overdue: bool,
    /// The exception or VEX statement that silenced it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silenced: Option<Silenced>,
    /// Set when the advisory is a malicious-package record: its own kind of
    /// finding, which no exception or VEX statement silences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub malicious: Option<MaliciousFinding>,
}

/// What a malicious-package finding adds.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MaliciousFinding {
    /// What the record says to do.
    pub advice: String,
    /// Why the record is suspect (it marks every version), if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspect: Option<String>,
    /// How it matched: `version` or `digest:ALG` (the artifact's digest is
    /// one the record lists).
    pub matched_by: String,
    /// The component artifact's sha256, when ward has it (what an
    /// `[[allow]]` entry names).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// What silenced a finding, and why.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Silenced {
    /// `exception`, `vex` or `allow`.
    pub by: SilencedBy,
    /// Where: `FILE:LINE` of the exception, or the VEX document.
    pub source: String,
    /// The written justification.
    pub justification: String,
    /// When the exception expires (exceptions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// The kinds of silencing.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SilencedBy {
    /// A policy `[[exception]]`.
    Exception,
    /// An OpenVEX `not_affected` or `fixed` statement.
    Vex,
    /// A policy `[[allow]]` naming the artifact's sha256 (the only thing
    /// that lets a malicious-package finding through).
    Allow,
}

/// Everything a scan found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanReport {
    /// Components scanned.
    pub components: usize,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Components (or entries) that could not be evaluated.
    pub unevaluable: Vec<Unpinned>,
    /// Each component's declared licence, where the source states licences
    /// (SBOMs, `package-lock.json`, the artifact's own metadata).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<ComponentLicense>,
}

impl ScanReport {
    /// Findings at or above `level` that nothing silenced.
    pub fn at_least(&self, level: Severity) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| f.rating.level >= level && f.silenced.is_none())
    }
}
