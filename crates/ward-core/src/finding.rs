//! What a scan finds: a known advisory that affects a component, how bad it
//! is, and everything a scan of many components found.
//!
//! ward-scan produces these; ward-policy judges them; the CLI prints them.
//! The types here hold no behaviour beyond their own vocabulary (ordering
//! severities, reading a database's own severity word).

use crate::component::{ComponentLicense, Unpinned};
use crate::purl::PackageId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// How bad, from a CVSS vector (computed) or the database's own rating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(
    clippy::exhaustive_enums,
    reason = "closed on purpose: a new variant must break every match on it (each stage decides what it means) rather than fall into a wildcard arm"
)]
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
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
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
///
/// What the scanner found, and nothing else: whether a policy silenced it,
/// and by when it must be fixed, is a [`FindingStatus`] beside it, never
/// written into it.
#[derive(Clone, Debug, Serialize)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
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
    /// The line of the component's entry in `source`, when known. Not in
    /// the JSON documents (their schema is fixed); SARIF regions use it.
    #[serde(skip)]
    pub line: Option<usize>,
    /// Versions that fix it.
    pub fixed: Vec<String>,
    /// Set when the advisory is a malicious-package record: its own kind of
    /// finding, which no exception or VEX statement silences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub malicious: Option<MaliciousFinding>,
}

/// What the policy made of one finding (its triage): when it was first
/// seen, whether something silenced it, and its remediation deadline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct FindingStatus {
    /// When ward first saw this advisory on this package, if a first-seen
    /// store is kept.
    pub first_seen: Option<Timestamp>,
    /// The remediation deadline, when the policy sets one for this severity.
    pub due: Option<Timestamp>,
    /// Past its deadline (and not silenced).
    pub overdue: bool,
    /// The exception, VEX statement or allow that silenced it, if any.
    pub silenced: Option<Silenced>,
}

/// A finding with its triage. It reads as the finding it wraps (through
/// `Deref`); JSON writes both as one object, in the documented shape.
#[derive(Clone, Debug)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct TriagedFinding {
    /// What the scanner found.
    pub finding: Finding,
    /// What the policy made of it.
    pub status: FindingStatus,
}

impl std::ops::Deref for TriagedFinding {
    type Target = Finding;

    fn deref(&self) -> &Finding {
        &self.finding
    }
}

impl Serialize for TriagedFinding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The field order of the scan and verify JSON documents.
        #[derive(Serialize)]
        struct Wire<'a> {
            advisory: &'a str,
            aliases: &'a [String],
            summary: &'a str,
            rating: &'a Rating,
            package: &'a PackageId,
            source: &'a str,
            fixed: &'a [String],
            #[serde(skip_serializing_if = "Option::is_none")]
            first_seen: Option<&'a Timestamp>,
            #[serde(skip_serializing_if = "Option::is_none")]
            due: Option<&'a Timestamp>,
            overdue: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            silenced: Option<&'a Silenced>,
            #[serde(skip_serializing_if = "Option::is_none")]
            malicious: Option<&'a MaliciousFinding>,
        }
        let (f, t) = (&self.finding, &self.status);
        Wire {
            advisory: &f.advisory,
            aliases: &f.aliases,
            summary: &f.summary,
            rating: &f.rating,
            package: &f.package,
            source: &f.source,
            fixed: &f.fixed,
            first_seen: t.first_seen.as_ref(),
            due: t.due.as_ref(),
            overdue: t.overdue,
            silenced: t.silenced.as_ref(),
            malicious: f.malicious.as_ref(),
        }
        .serialize(s)
    }
}

/// What a malicious-package finding adds.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
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
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct Silenced {
    /// `exception`, `vex` or `allow`.
    pub by: SilencedBy,
    /// Where: `FILE:LINE` of the exception, or the VEX document.
    pub source: String,
    /// The written justification.
    pub justification: String,
    /// The last day the exception or `[[allow]]` holds (`2026-12-31` in JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<jiff::civil::Date>,
}

/// The kinds of silencing.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[allow(
    clippy::exhaustive_enums,
    reason = "closed on purpose: a new variant must break every match on it (each stage decides what it means) rather than fall into a wildcard arm"
)]
pub enum SilencedBy {
    /// A policy `[[exception]]`.
    Exception,
    /// An OpenVEX `not_affected` or `fixed` statement.
    Vex,
    /// A policy `[[allow]]` naming the artifact's sha256 (the only thing
    /// that lets a malicious-package finding through).
    Allow,
}

/// Everything a scan found: `ScanReport` as the scanner returns it, and
/// [`TriagedReport`] once the policy has triaged each finding.
#[derive(Clone, Debug, Serialize)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct ScanReport<F = Finding> {
    /// Components scanned.
    pub components: usize,
    /// Findings, most severe first.
    pub findings: Vec<F>,
    /// Components (or entries) that could not be evaluated.
    pub unevaluable: Vec<Unpinned>,
    /// Each component's declared licence, where the source states licences
    /// (SBOMs, `package-lock.json`, the artifact's own metadata).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<ComponentLicense>,
}

/// A scan report whose findings carry their triage.
pub type TriagedReport = ScanReport<TriagedFinding>;

impl<F> Default for ScanReport<F> {
    fn default() -> Self {
        Self {
            components: 0,
            findings: Vec::new(),
            unevaluable: Vec::new(),
            licenses: Vec::new(),
        }
    }
}

impl ScanReport {
    /// Pairs each finding with its status, in order (`statuses[i]` is the
    /// triage of `findings[i]`, as the policy's triage returns them). A
    /// finding without a status counts untriaged: not silenced.
    pub fn triaged(self, statuses: Vec<FindingStatus>) -> TriagedReport {
        let mut statuses = statuses.into_iter();
        ScanReport {
            components: self.components,
            findings: self
                .findings
                .into_iter()
                .map(|finding| TriagedFinding {
                    finding,
                    status: statuses.next().unwrap_or_default(),
                })
                .collect(),
            unevaluable: self.unevaluable,
            licenses: self.licenses,
        }
    }
}
