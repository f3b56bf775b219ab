//! The policy over scan results: severity thresholds, exceptions and VEX,
//! remediation deadlines, licences, and scan attestations made elsewhere.
//!
//! [`Policy::triage`] says of each finding whether it is silenced (by an
//! unexpired exception or a VEX `not_affected`/`fixed` statement) and
//! when it is due, as a separate [`Triage`] (the findings stay as the
//! scanner made them); [`Policy::scan_reasons`] turns the triaged report
//! into reasons. An overdue finding denies in every mode; a silenced one is
//! reported with the exception's justification, never dropped.

use crate::license::LicenseVerdict;
use crate::model::{Mode, Policy, Scope};
use crate::vex::VexStatus;
use jiff::Timestamp;
use ward_core::{
    Finding, FindingStatus, MaliciousFinding, Severity, Silenced, SilencedBy, TriagedFinding, TriagedReport,
};
use ward_core::{PackageId, Reason, ReasonCode};
use ward_verify::Fact;

/// What triage made of a list of findings.
#[derive(Clone, Debug, Default)]
pub struct Triage {
    /// One status per finding, in the order of the findings.
    pub statuses: Vec<FindingStatus>,
    /// Warnings: exceptions and allows that have expired or soon will.
    pub notes: Vec<Reason>,
}

/// Exceptions expiring within this many days are reported as warnings.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// The threshold used when neither the scope nor the defaults set one:
/// every rated vulnerability counts, as in cargo-audit and osv-scanner.
pub const DEFAULT_FAIL_ON: Severity = Severity::Low;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::None => "unrated",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

fn fixed_phrase(f: &Finding) -> String {
    if f.fixed.is_empty() {
        "no fixed version is known".into()
    } else {
        format!("fixed in {}", f.fixed.join(", "))
    }
}

/// Where a dated entry (`[[exception]]`, `[[allow]]`) stands today.
#[derive(Debug, PartialEq, Eq)]
enum Expiry {
    /// Past its last day: it counts no more.
    Expired,
    /// Within [`EXPIRY_WARNING_DAYS`]: it counts, with a warning.
    Soon(i32),
    /// Further off.
    Later,
}

fn expiry(expires: jiff::civil::Date, today: jiff::civil::Date) -> Expiry {
    if today > expires {
        return Expiry::Expired;
    }
    let left = (expires - today).get_days();
    if i64::from(left) <= EXPIRY_WARNING_DAYS {
        Expiry::Soon(left)
    } else {
        Expiry::Later
    }
}

impl Policy {
    /// Triages findings: which are silenced (by an unexpired exception, a
    /// VEX `not_affected`/`fixed` statement, or for a malicious record an
    /// `[[allow]]` of the artifact's sha256), and each remediation
    /// deadline, counted from the finding's first sighting
    /// (`first_seen[i]` for `findings[i]`; today when there is none). The
    /// findings are not changed: the result is one [`FindingStatus`] per
    /// finding, in order, with warnings about exceptions and allows that
    /// have expired or soon will.
    pub fn triage(&self, findings: &[Finding], first_seen: &[Timestamp], now: Timestamp) -> Triage {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let mut notes: Vec<Reason> = Vec::new();
        let mut note = |r: Reason| {
            if !notes.iter().any(|n| n.message == r.message) {
                notes.push(r);
            }
        };
        let mut statuses = Vec::with_capacity(findings.len());
        for (i, f) in findings.iter().enumerate() {
            let mut status = FindingStatus {
                first_seen: first_seen.get(i).copied(),
                ..FindingStatus::default()
            };
            let package = &f.package;
            // Malicious is not a severity: no exception, VEX statement or
            // deadline applies; only an `[[allow]]` naming the artifact's sha256.
            if let Some(m) = &f.malicious {
                let Some(sha256) = m.sha256.as_deref() else {
                    statuses.push(status);
                    continue;
                };
                for a in self.allows.iter().filter(|a| a.names(package) && a.sha256 == sha256) {
                    let at = format!("{}:{}", self.path, a.line);
                    match expiry(a.expires, today) {
                        Expiry::Expired => {
                            note(Reason::new(
                                ReasonCode::AllowExpired,
                                format!(
                                    "the [[allow]] of {}@{} (sha256 {sha256}) expired on {} ({at}); {} is denied again",
                                    a.package.text, a.version, a.expires, f.advisory
                                ),
                            )
                            .at(self.location(a.line)));
                            continue;
                        }
                        Expiry::Soon(left) => note(
                            Reason::new(
                                ReasonCode::AllowExpiring,
                                format!(
                                    "the [[allow]] of {}@{} (sha256 {sha256}) expires on {} ({left} days; {at})",
                                    a.package.text, a.version, a.expires
                                ),
                            )
                            .at(self.location(a.line)),
                        ),
                        Expiry::Later => {}
                    }
                    status.silenced = Some(Silenced {
                        by: SilencedBy::Allow,
                        source: at,
                        justification: format!("reviewed by {}: {}", a.reviewer, a.justification),
                        expires: Some(a.expires),
                    });
                    break;
                }
                statuses.push(status);
                continue;
            }
            let ids: Vec<&str> = std::iter::once(f.advisory.as_str())
                .chain(f.aliases.iter().map(String::as_str))
                .collect();
            for e in self.exceptions.iter().filter(|e| e.covers(&ids, package)) {
                let at = format!("{}:{}", self.path, e.line);
                if expiry(e.expires, today) == Expiry::Expired {
                    note(
                        Reason::new(
                            ReasonCode::ExceptionExpired,
                            format!(
                                "the exception for {} on {} expired on {} ({at}); the finding counts again",
                                e.advisory, e.package.text, e.expires
                            ),
                        )
                        .at(self.location(e.line)),
                    );
                    continue;
                }
                if let Expiry::Soon(left) = expiry(e.expires, today) {
                    note(
                        Reason::new(
                            ReasonCode::ExceptionExpiring,
                            format!(
                                "the exception for {} on {} expires on {} ({left} days; {at})",
                                e.advisory, e.package.text, e.expires
                            ),
                        )
                        .at(self.location(e.line)),
                    );
                }
                status.silenced = Some(Silenced {
                    by: SilencedBy::Exception,
                    source: at,
                    justification: e.justification.clone(),
                    expires: Some(e.expires),
                });
                break;
            }
            if status.silenced.is_none()
                && let Some(s) = self.vex.lookup(&ids, package)
                && matches!(s.status, VexStatus::NotAffected | VexStatus::Fixed)
            {
                let vex_status = if s.status == VexStatus::Fixed {
                    "fixed"
                } else {
                    "not_affected"
                };
                status.silenced = Some(Silenced {
                    by: SilencedBy::Vex,
                    source: s.source.clone(),
                    justification: format!("{vex_status}: {}", s.why()).trim_end_matches(": ").to_string(),
                    expires: None,
                });
            }
            if let Some((_, days)) = self.remediation.iter().find(|(l, _)| *l == f.rating.level) {
                let first = status.first_seen.unwrap_or(now);
                let due = first.saturating_add(jiff::SignedDuration::from_hours(24 * i64::from(days.value)));
                if let Ok(due) = due {
                    status.due = Some(due);
                    status.overdue = status.silenced.is_none() && now > due;
                }
            }
            statuses.push(status);
        }
        Triage { statuses, notes }
    }

    /// The severity threshold for a package: the strictest among its
    /// scopes, else the defaults', else high. `over` (a command-line
    /// `--fail-on`) replaces them all.
    pub fn fail_on_for(&self, scopes: &[&Scope], over: Option<Severity>) -> (Severity, String) {
        if let Some(s) = over {
            return (s, "--fail-on".into());
        }
        let from_scopes = scopes
            .iter()
            .filter_map(|s| {
                s.fail_on_severity
                    .as_ref()
                    .map(|f| (f.value, format!("{}:{}", self.path, f.line)))
            })
            .min_by_key(|(s, _)| *s);
        from_scopes
            .or_else(|| {
                self.defaults
                    .fail_on_severity
                    .as_ref()
                    .map(|f| (f.value, format!("{}:{}", self.path, f.line)))
            })
            .unwrap_or((DEFAULT_FAIL_ON, "the default threshold".into()))
    }

    /// A malicious-package finding: denied in every mode unless an
    /// unexpired `[[allow]]` names the artifact's sha256 (set by triage).
    fn malicious_reason(&self, f: &Finding, status: &FindingStatus, m: &MaliciousFinding) -> (Mode, Reason) {
        let ids = std::iter::once(f.advisory.as_str())
            .chain(f.aliases.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(", ");
        let how = match m.matched_by.strip_prefix("digest:") {
            Some(alg) => format!("the artifact's {alg} digest is one the record lists"),
            None => "by name and version".to_string(),
        };
        let suspect = m
            .suspect
            .as_ref()
            .map(|why| format!("; the record is SUSPECT: {why}; if this artifact is clean, an [[allow]] naming its sha256 lets it through knowingly"))
            .unwrap_or_default();
        if let Some(s) = status.silenced.as_ref().filter(|s| s.by == SilencedBy::Allow) {
            let until = s.expires.as_ref().map(|e| format!(" until {e}")).unwrap_or_default();
            return (
                Mode::Audit,
                Reason::new(
                    ReasonCode::AllowedByReview,
                    format!(
                        "{ids} marks {} as malicious ({how}){suspect}; allowed for sha256 {} by the [[allow]] at {}{until}, {}",
                        f.package,
                        m.sha256.as_deref().unwrap_or("?"),
                        s.source,
                        s.justification
                    ),
                ),
            );
        }
        let other_allows: Vec<String> = self
            .allows
            .iter()
            .filter(|a| a.names(&f.package))
            .map(|a| format!("{}:{} (sha256 {}, expires {})", self.path, a.line, a.sha256, a.expires))
            .collect();
        let allows = if other_allows.is_empty() {
            String::new()
        } else {
            format!(
                "; the [[allow]] at {} does not apply (this artifact's sha256 is {}, or the entry expired)",
                other_allows.join(", "),
                m.sha256.as_deref().unwrap_or("unknown here")
            )
        };
        (
            Mode::Enforce,
            Reason::new(
                ReasonCode::PackageMalicious,
                format!(
                    "{} is a known-malicious package: {ids} ({how}; {}). What the record says to do: {}{suspect}{allows}",
                    f.package,
                    f.summary,
                    m.advice.trim_end_matches('.')
                ),
            ),
        )
    }

    fn mode_of(&self, scopes: &[&Scope]) -> Mode {
        scopes
            .iter()
            .map(|s| s.mode)
            .min_by_key(|m| match m {
                Mode::Enforce => 0,
                Mode::Warn => 1,
                Mode::Audit => 2,
            })
            .unwrap_or(self.defaults.mode)
    }

    /// Reasons from a triaged scan report, each with the mode it counts in.
    /// With `subject` (one artifact under `ward verify`), the artifact's
    /// scopes judge every component of it; without (a lockfile under `ward
    /// scan`), each component is judged by its own scopes.
    pub fn scan_reasons(
        &self,
        report: &TriagedReport,
        subject: Option<&PackageId>,
        fail_on: Option<Severity>,
    ) -> Vec<(Mode, Reason)> {
        let subject_scopes = subject.map(|s| self.scopes_for(s));
        let scopes_of = |id: &PackageId| -> Vec<&Scope> {
            match &subject_scopes {
                Some(s) => s.clone(),
                None => self.scopes_for(id),
            }
        };
        // An entry that could not be evaluated names no exact package: its
        // text is read as a purl when it is one.
        let scopes_of_entry = |entry: &str| -> Vec<&Scope> {
            match &subject_scopes {
                Some(s) => s.clone(),
                None => entry
                    .parse::<PackageId>()
                    .map(|id| self.scopes_for(&id))
                    .unwrap_or_default(),
            }
        };
        let mut out = Vec::new();
        for TriagedFinding { finding: f, status } in &report.findings {
            let scopes = scopes_of(&f.package);
            let (threshold, set_at) = self.fail_on_for(&scopes, fail_on);
            if let Some(m) = &f.malicious {
                out.push(self.malicious_reason(f, status, m));
                continue;
            }
            let what = format!(
                "{} affects {} ({}; {})",
                f.advisory,
                f.package,
                level(f.rating.level),
                fixed_phrase(f)
            );
            if let Some(s) = &status.silenced {
                let until = s.expires.as_ref().map(|e| format!(" until {e}")).unwrap_or_default();
                let by = match s.by {
                    SilencedBy::Exception => "exception",
                    SilencedBy::Vex => "VEX statement",
                    SilencedBy::Allow => "allow",
                };
                out.push((
                    Mode::Audit,
                    Reason::new(
                        ReasonCode::AdvisorySilenced,
                        format!("{what}: silenced by {by} at {}{until}: {}", s.source, s.justification),
                    ),
                ));
                continue;
            }
            if status.overdue {
                let line = self
                    .remediation
                    .iter()
                    .find(|(l, _)| *l == f.rating.level)
                    .map(|(_, d)| d.line)
                    .unwrap_or(0);
                out.push((
                    Mode::Enforce,
                    Reason::new(
                        ReasonCode::AdvisoryOverdue,
                        format!(
                            "{what}: first seen {}, remediation deadline {} has passed ({}:{line})",
                            status.first_seen.map_or_else(|| "now".to_string(), |t| t.to_string()),
                            status.due.map_or_else(|| "?".to_string(), |t| t.to_string()),
                            self.path
                        ),
                    ),
                ));
                continue;
            }
            if f.rating.level >= threshold {
                out.push((
                    self.mode_of(&scopes),
                    Reason::new(
                        ReasonCode::AdvisoryFound,
                        format!("{what}; threshold {} ({set_at})", level(threshold)),
                    ),
                ));
            }
        }
        for u in &report.unevaluable {
            out.push((
                self.mode_of(&scopes_of_entry(&u.entry)),
                Reason::new(
                    ReasonCode::AdvisoryUnevaluable,
                    format!("could not check {} against the advisories: {}", u.entry, u.reason),
                ),
            ));
        }
        for l in &report.licenses {
            let scopes = scopes_of(&l.package);
            let (rule, at) = match scopes.iter().find_map(|s| s.licenses.as_ref().map(|r| (r, s))) {
                Some((r, s)) => (r, format!("(scope {:?}, {}:{})", s.name, self.path, r.line)),
                None => match &self.defaults.licenses {
                    Some(r) => (r, format!("({}:{})", self.path, r.line)),
                    None => continue,
                },
            };
            let reason = match rule.rule.judge(l.license.as_deref()) {
                LicenseVerdict::Allowed => continue,
                LicenseVerdict::Refused { refused } => Reason::new(
                    ReasonCode::LicenseDenied,
                    format!(
                        "{} is licensed {}; not allowed: {} {at}",
                        l.package,
                        l.license.as_deref().unwrap_or_default(),
                        refused.join(", ")
                    ),
                ),
                LicenseVerdict::Unknown { reason } => Reason::new(
                    ReasonCode::LicenseUnknown,
                    format!("{}: {reason}, and licences are restricted {at}", l.package),
                ),
            };
            out.push((self.mode_of(&scopes), reason));
        }
        out
    }
}

/// The scope's required scan attestation, judged over the verified facts.
pub(crate) fn scan_attestation_reasons(scope: &Scope, facts: &[&Fact], now: Timestamp) -> Vec<(ReasonCode, String)> {
    let Some(rule) = &scope.scan_attestation else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut trusted = Vec::new();
    let mut untrusted = Vec::new();
    for f in facts {
        if let Fact::Statement {
            predicate_type,
            predicate: Some(p),
            ..
        } = f
            && crate::scan_attestation::is_scan_predicate(predicate_type)
        {
            match crate::scan_attestation::read(predicate_type, p) {
                Ok(summary) if rule.trusts(&summary.scanner) => trusted.push(summary),
                Ok(summary) => untrusted.push(summary.scanner),
                Err(e) => out.push((
                    ReasonCode::ScanAttestationFinding,
                    format!("a verified scan attestation cannot be read: {e}"),
                )),
            }
        }
    }
    if trusted.is_empty() {
        if rule.required {
            let seen = if untrusted.is_empty() {
                String::new()
            } else {
                format!(" (scans by {} are not trusted)", untrusted.join(", "))
            };
            out.push((
                ReasonCode::ScanAttestationMissing,
                format!("no verified scan attestation by {}{seen}", rule.scanners.join(" or ")),
            ));
        }
        return out;
    }
    let newest = trusted
        .iter()
        .filter_map(|s| {
            s.finished_on
                .as_deref()
                .and_then(|t| t.parse::<Timestamp>().ok())
                .map(|t| (t, s))
        })
        .max_by_key(|(t, _)| *t);
    if let Some(max) = rule.max_age_days {
        let limit = jiff::SignedDuration::from_hours(24 * i64::from(max));
        match newest {
            None => out.push((
                ReasonCode::ScanAttestationTooOld,
                format!("no trusted scan states when it finished, and scans may be at most {max} days old"),
            )),
            Some((t, _)) if now.duration_since(t) > limit => out.push((
                ReasonCode::ScanAttestationTooOld,
                format!("the newest trusted scan finished {t}, more than {max} days ago"),
            )),
            Some(_) => {}
        }
    }
    // Judge the newest trusted scan (or, with no times, every trusted one).
    let judged: Vec<_> = match newest {
        Some((_, s)) => vec![s],
        None => trusted.iter().collect(),
    };
    for s in judged {
        let over: Vec<_> = s
            .vulnerabilities
            .iter()
            .filter(|v| v.severity >= rule.fail_on)
            .collect();
        if let Some(first) = over.first() {
            out.push((
                ReasonCode::ScanAttestationFinding,
                format!(
                    "the scan by {} reports {} at or above {} (first: {}, {})",
                    s.scanner,
                    over.len(),
                    level(rule.fail_on),
                    first.id,
                    level(first.severity)
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::{Rating, ScanReport};

    fn finding(advisory: &str, name: &str, level: Severity) -> Finding {
        Finding {
            advisory: advisory.into(),
            aliases: vec![],
            summary: String::new(),
            rating: Rating {
                level,
                score: None,
                vector: None,
                assumed: false,
            },
            package: PackageId::npm(name, Some("1.0.0".into())),
            source: "package-lock.json".into(),
            line: None,
            fixed: vec![],
            malicious: None,
        }
    }

    #[test]
    fn triage_returns_statuses_and_leaves_the_findings_as_scanned() {
        let policy = Policy::parse(
            r#"
[remediation]
high = 30

[[exception]]
advisory = "GHSA-aaaa-aaaa-aaaa"
package = "npm:left-pad"
justification = "not reachable from our code"
expires = "2099-01-31"
"#,
            "ward.toml",
            std::path::Path::new("."),
        )
        .unwrap();
        let findings = vec![
            finding("GHSA-aaaa-aaaa-aaaa", "left-pad", Severity::High),
            finding("GHSA-bbbb-bbbb-bbbb", "lodash", Severity::High),
            finding("GHSA-cccc-cccc-cccc", "chalk", Severity::High),
        ];
        let before = serde_json::to_string(&findings).unwrap();
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let now = t("2026-06-01T00:00:00Z");
        // The third finding has no first sighting: its deadline counts from now.
        let first_seen = [t("2026-01-01T00:00:00Z"), t("2026-01-01T00:00:00Z")];
        let triage = policy.triage(&findings, &first_seen, now);
        assert_eq!(serde_json::to_string(&findings).unwrap(), before);
        assert_eq!(triage.statuses.len(), 3);
        let [silenced, overdue, fresh] = &triage.statuses[..] else {
            panic!("{:?}", triage.statuses)
        };
        assert_eq!(silenced.silenced.as_ref().map(|s| s.by), Some(SilencedBy::Exception));
        assert_eq!(
            silenced.silenced.as_ref().map(|s| s.source.as_str()),
            Some("ward.toml:5")
        );
        assert!(!silenced.overdue, "a silenced finding is never overdue");
        assert_eq!(overdue.first_seen, Some(t("2026-01-01T00:00:00Z")));
        assert_eq!(overdue.due, Some(t("2026-01-31T00:00:00Z")));
        assert!(overdue.overdue && overdue.silenced.is_none());
        assert_eq!(fresh.first_seen, None);
        assert_eq!(fresh.due, Some(t("2026-07-01T00:00:00Z")));
        assert!(!fresh.overdue);
        // The triaged report writes the documented JSON fields per finding.
        let report = ScanReport {
            components: 3,
            findings,
            ..ScanReport::default()
        }
        .triaged(triage.statuses);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["findings"][1]["due"], "2026-01-31T00:00:00Z");
        assert_eq!(json["findings"][1]["overdue"], true);
        assert_eq!(json["findings"][0]["silenced"]["by"], "exception");
        assert_eq!(json["findings"][1]["package"], "pkg:npm/lodash@1.0.0");
    }
}
