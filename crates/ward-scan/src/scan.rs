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
}

impl ScanReport {
    /// Findings at or above `level`.
    pub fn at_least(&self, level: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.rating.level >= level)
    }
}

/// Scans components; versions that cannot be read in their ecosystem's
/// order are reported as unevaluable.
pub fn scan(db: &AdvisoryDb, components: &[Component], unpinned: Vec<Unpinned>) -> ScanReport {
    let mut report = ScanReport {
        components: components.len(),
        findings: Vec::new(),
        unevaluable: unpinned,
    };
    for c in components {
        let version = c.id.version.clone().unwrap_or_default();
        if VersionScheme::for_ecosystem(c.id.ecosystem).is_none() {
            continue;
        }
        let mut seen: Vec<&str> = Vec::new();
        for (advisory, affected) in db.lookup(c.id.ecosystem, &c.id.normalized_name()) {
            if seen.contains(&advisory.id.as_str()) {
                continue;
            }
            match affected.matches(&version) {
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
    report.findings.sort_by(|a, b| {
        b.rating
            .level
            .cmp(&a.rating.level)
            .then_with(|| a.package.cmp(&b.package))
    });
    report
}
