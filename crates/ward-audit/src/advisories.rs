//! Today's advisories against the decisions that allowed what is
//! installed. Matching is ward-scan's ([`ward_scan::scan`], by version and
//! by artifact digest for malicious records); first sightings and triage go
//! through the gate's one step ([`ward_gate::scan::observe_and_triage`]),
//! so silencing and deadlines (exceptions, VEX, `[[allow]]`,
//! `[remediation]`) are judged as `ward scan` and the proxy judge them.
//!
//! A match the allowing decision did not weigh (its id and aliases are
//! not named in the decision's reasons, warnings or audit notes) is
//! `newly-vulnerable` or `newly-malicious`; ward keeps no per-advisory
//! import time, so the decision record is what says what was known.
//! A vulnerability past its deadline is also `overdue`.

use crate::AuditContext;
use crate::model::{AdvisoryRef, AlertKind, AuditFinding};
use crate::run::Checked;
use std::collections::HashMap;
use ward_core::{Component, Severity};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::None => "unrated",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// The advisory findings, each with the index of its package in `checked`.
pub(crate) fn findings(
    ctx: &AuditContext<'_>,
    checked: &[Checked],
) -> Result<Vec<(usize, AuditFinding)>, ward_gate::GateError> {
    let Some(db) = ctx.advisories else {
        return Ok(Vec::new());
    };
    let mut components = Vec::new();
    let mut owner: HashMap<(String, String), usize> = HashMap::new();
    for (i, c) in checked.iter().enumerate() {
        let id = &c.installed.id;
        if id.version.is_none() || id.ecosystem == ward_core::Ecosystem::Generic {
            continue;
        }
        let source = c.installed.location.display().to_string();
        let mut comp = Component::new(id.clone(), source.clone());
        if let Some(a) = &c.installed.artifact {
            comp.digests = a
                .sha256
                .iter()
                .map(|h| ("sha256".to_string(), h.clone()))
                .chain(a.sha512.iter().map(|h| ("sha512".to_string(), h.clone())))
                .collect();
        }
        owner.insert((id.to_purl(), source), i);
        components.push(comp);
    }
    let report = ward_scan::scan(db, &components, Vec::new());
    let builtin;
    let policy = match ctx.policy {
        Some(p) => p,
        None => {
            builtin = ward_policy::Policy::builtin();
            &builtin
        }
    };
    // The same first-seen and triage step as the gate's and `ward scan`'s.
    let (report, _notes) = ward_gate::scan::observe_and_triage(report, ctx.first_seen, policy, ctx.now)?;
    let mut out = Vec::new();
    for u in &report.unevaluable {
        let Some(&i) = owner
            .iter()
            .find(|((p, s), _)| *p == u.entry && *s == u.source)
            .map(|(_, i)| i)
        else {
            continue;
        };
        let c = &checked[i];
        out.push((
            i,
            AuditFinding::new(
                AlertKind::Unverifiable,
                c.installed.id.clone(),
                c.installed.location.clone(),
                format!("an advisory could not be evaluated for this version: {}", u.reason),
            ),
        ));
    }
    for ward_core::TriagedFinding { finding, status } in &report.findings {
        let Some(&i) = owner.get(&(finding.package.to_purl(), finding.source.clone())) else {
            continue;
        };
        if status.silenced.is_some() {
            continue;
        }
        let c = &checked[i];
        let ids: Vec<&str> = std::iter::once(finding.advisory.as_str())
            .chain(finding.aliases.iter().map(String::as_str))
            .collect();
        let weighed = c
            .allow
            .as_ref()
            .is_some_and(|a| a.weighed.iter().any(|w| ids.contains(&w.as_str())));
        let advisory = AdvisoryRef {
            id: finding.advisory.clone(),
            aliases: finding.aliases.clone(),
            summary: finding.summary.clone(),
            severity: if finding.malicious.is_some() {
                Severity::None
            } else {
                finding.rating.level
            },
        };
        let decided = match &c.allow {
            Some(a) => format!("allowed by ledger entry {} on {}", a.index, a.time),
            None => "installed without an allow".into(),
        };
        let base = |kind, detail: String| {
            let mut f = AuditFinding::new(kind, c.installed.id.clone(), c.installed.location.clone(), detail);
            f.advisory = Some(advisory.clone());
            f.due = status.due;
            f
        };
        if !weighed {
            let (kind, what) = match &finding.malicious {
                Some(m) => (
                    AlertKind::NewlyMalicious,
                    format!(
                        "{} marks this package malicious ({}): {}",
                        finding.advisory, m.matched_by, m.advice
                    ),
                ),
                None => (
                    AlertKind::NewlyVulnerable,
                    format!(
                        "{} ({}): {}{}",
                        finding.advisory,
                        level(finding.rating.level),
                        finding.summary,
                        if finding.fixed.is_empty() {
                            String::new()
                        } else {
                            format!("; fixed in {}", finding.fixed.join(", "))
                        }
                    ),
                ),
            };
            out.push((i, base(kind, format!("{what}; {decided}, which did not weigh it"))));
        }
        if status.overdue
            && let Some(due) = status.due
        {
            out.push((
                i,
                base(
                    AlertKind::Overdue,
                    format!(
                        "{} ({}) was due for remediation on {due} (first seen {})",
                        finding.advisory,
                        level(finding.rating.level),
                        status.first_seen.map_or_else(|| "now".to_string(), |t| t.to_string())
                    ),
                ),
            ));
        }
    }
    Ok(out)
}
