//! Matching components against the advisory database.

use crate::advisory::{Rating, Severity};
use crate::db::AdvisoryDb;
use crate::lockfile::{Component, Unpinned};
use crate::version::VersionScheme;
use serde::Serialize;

/// A known vulnerability in a component.
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
    /// The affected component (purl with version).
    pub package: String,
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

/// A component's declared licence.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ComponentLicense {
    /// The component (purl with version).
    pub package: String,
    /// The SPDX expression as declared; `None` when nothing is declared.
    pub license: Option<String>,
    /// Where the component was found.
    pub source: String,
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

/// The declared licences of the components whose source states licences.
pub fn licenses_of(components: &[Component]) -> Vec<ComponentLicense> {
    components
        .iter()
        .filter(|c| c.license.is_some() || c.states_licenses)
        .map(|c| ComponentLicense {
            package: c.id.to_purl(),
            license: c.license.clone(),
            source: c.source.clone(),
        })
        .collect()
}

/// Malicious records that list the component's own digest but name another
/// package (a copy republished under a new name): a finding all the same.
fn digest_findings(db: &AdvisoryDb, c: &Component, report: &mut ScanReport) {
    let purl = c.id.to_purl();
    for (alg, hex) in &c.digests {
        for found in db.lookup_digest(alg, hex) {
            let advisory = match found {
                Ok(a) => a,
                Err(e) => {
                    report.unevaluable.push(Unpinned {
                        entry: purl.clone(),
                        source: c.source.clone(),
                        reason: format!("the advisory database cannot be read: {e}"),
                    });
                    continue;
                }
            };
            let Some(m) = &advisory.malicious else {
                continue;
            };
            if report
                .findings
                .iter()
                .any(|f| f.advisory == advisory.id && f.package == purl && f.source == c.source)
            {
                continue;
            }
            report.findings.push(Finding {
                advisory: advisory.id.clone(),
                aliases: advisory.aliases.clone(),
                summary: advisory.summary.clone(),
                rating: advisory.rating.clone(),
                package: purl.clone(),
                source: c.source.clone(),
                fixed: Vec::new(),
                first_seen: None,
                due: None,
                overdue: false,
                silenced: None,
                malicious: Some(MaliciousFinding {
                    advice: m.advice.clone(),
                    suspect: m.suspect.clone(),
                    matched_by: format!("digest:{alg}"),
                    sha256: c.digests.iter().find(|(a, _)| a == "sha256").map(|(_, h)| h.clone()),
                }),
            });
        }
    }
}

/// Scans components; versions that cannot be read in their ecosystem's
/// order are reported as unevaluable.
pub fn scan(db: &AdvisoryDb, components: &[Component], unpinned: Vec<Unpinned>) -> ScanReport {
    let mut report = ScanReport {
        components: components.len(),
        findings: Vec::new(),
        unevaluable: unpinned,
        licenses: licenses_of(components),
    };
    for c in components {
        let version = c.id.version.clone().unwrap_or_default();
        if VersionScheme::for_ecosystem(c.id.ecosystem).is_none() {
            continue;
        }
        let mut seen: Vec<&str> = Vec::new();
        for found in db.lookup(c.id.ecosystem, &c.id.normalized_name()) {
            let (advisory, affected) = match found {
                Ok(pair) => pair,
                Err(e) => {
                    report.unevaluable.push(Unpinned {
                        entry: c.id.to_purl(),
                        source: c.source.clone(),
                        reason: format!("the advisory database cannot be read: {e}"),
                    });
                    continue;
                }
            };
            if seen.contains(&advisory.id.as_str()) {
                continue;
            }
            // A malicious record that lists the artifact's own digest matches
            // whatever version the artifact claims.
            let by_digest = advisory.malicious.as_ref().and_then(|m| {
                c.digests
                    .iter()
                    .find(|(alg, hex)| crate::malicious::indicator_matches(m, alg, hex))
                    .map(|(alg, _)| format!("digest:{alg}"))
            });
            let matched = match (&by_digest, affected.matches(&version)) {
                (Some(_), _) => Ok(true),
                (None, m) => m,
            };
            match matched {
                Ok(true) => {
                    seen.push(&advisory.id);
                    report.findings.push(Finding {
                        advisory: advisory.id.clone(),
                        aliases: advisory.aliases.clone(),
                        summary: advisory.summary.clone(),
                        rating: advisory.rating.clone(),
                        package: c.id.to_purl(),
                        source: c.source.clone(),
                        fixed: affected.fixed_versions(),
                        first_seen: None,
                        due: None,
                        overdue: false,
                        silenced: None,
                        malicious: advisory.malicious.as_ref().map(|m| MaliciousFinding {
                            advice: m.advice.clone(),
                            suspect: m.suspect.clone(),
                            matched_by: by_digest.clone().unwrap_or_else(|| "version".into()),
                            sha256: c
                                .digests
                                .iter()
                                .find(|(alg, _)| alg == "sha256")
                                .map(|(_, h)| h.clone()),
                        }),
                    });
                }
                Ok(false) => {}
                Err(e) => {
                    seen.push(&advisory.id);
                    report.unevaluable.push(Unpinned {
                        entry: c.id.to_purl(),
                        source: c.source.clone(),
                        reason: format!("{}: {e}", advisory.id),
                    });
                }
            }
        }
    }
    for c in components {
        digest_findings(db, c, &mut report);
    }
    report.findings.sort_by(|a, b| {
        b.malicious
            .is_some()
            .cmp(&a.malicious.is_some())
            .then_with(|| b.rating.level.cmp(&a.rating.level))
            .then_with(|| a.package.cmp(&b.package))
    });
    report
}
