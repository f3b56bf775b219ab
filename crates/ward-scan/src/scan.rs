//! Matching components against the advisory database.

use crate::db::AdvisoryDb;
use crate::version::VersionScheme;
use ward_core::{Component, ComponentLicense, Finding, MaliciousFinding, ScanReport, Unpinned};

/// The declared licences of the components whose source states licences.
pub fn licenses_of(components: &[Component]) -> Vec<ComponentLicense> {
    components
        .iter()
        .filter(|c| c.license.is_some() || c.states_licenses)
        .map(|c| ComponentLicense {
            package: c.id.clone(),
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
        // A file inside the archive: `file-sha256:PATH`, looked up as `file-sha256`.
        let (alg, file) = match alg.split_once(':') {
            Some((a, path)) if a == crate::malicious::FILE_SHA256 => (a, Some(path)),
            _ => (alg.as_str(), None),
        };
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
                .any(|f| f.advisory == advisory.id && f.package == c.id && f.source == c.source)
            {
                continue;
            }
            report.findings.push(Finding {
                advisory: advisory.id.clone(),
                aliases: advisory.aliases.clone(),
                summary: advisory.summary.clone(),
                rating: advisory.rating.clone(),
                package: c.id.clone(),
                source: c.source.clone(),
                line: c.line,
                fixed: Vec::new(),
                malicious: Some(MaliciousFinding {
                    advice: m.advice.clone(),
                    suspect: m.suspect.clone(),
                    matched_by: match file {
                        Some(path) => format!(
                            "file:{} (sha256 {hex})",
                            path.chars().take(200).collect::<String>().escape_debug()
                        ),
                        None => format!("digest:{alg}"),
                    },
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
                        package: c.id.clone(),
                        source: c.source.clone(),
                        line: c.line,
                        fixed: affected.fixed_versions(),
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
    // Malicious first, then most severe, then by purl; equal keys keep their order.
    report.findings.sort_by_cached_key(|f| {
        (
            f.malicious.is_none(),
            std::cmp::Reverse(f.rating.level),
            f.package.to_purl(),
        )
    });
    report
}
