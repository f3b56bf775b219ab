//! SARIF 2.1.0 output (`ward scan --format sarif`, `ward verify --format
//! sarif`), built from the `serde-sarif` crate's types, for GitHub code
//! scanning and other SARIF viewers. Every function writes to the
//! `impl Write` it is given.
//!
//! A result's region is the line where its cause is written when ward knows
//! it (a finding's lockfile or requirements entry, a reason located at a
//! policy rule's line); otherwise it is the file from line 1, because GitHub
//! code scanning requires a `startLine`.

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag, Region,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent,
};
use std::collections::BTreeMap;
use std::io::{self, Write};
use ward_core::{ReasonCode, Severity, Verdict};
use ward_gate::Evaluation;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A location in `uri`, at `line` (and `column`) when known. Without a
/// known line the region is the file from its first line: GitHub code
/// scanning requires a `startLine`, and the result is about the whole file.
fn location(uri: &str, line: Option<usize>, column: Option<usize>) -> Location {
    let region = Some(Region {
        start_line: i64::try_from(line.unwrap_or(1)).ok(),
        start_column: column.and_then(|c| i64::try_from(c).ok()),
        ..Region::default()
    });
    Location {
        physical_location: Some(PhysicalLocation {
            artifact_location: Some(ArtifactLocation {
                uri: Some(uri.to_string()),
                ..ArtifactLocation::default()
            }),
            region,
            ..PhysicalLocation::default()
        }),
        ..Location::default()
    }
}

/// Where a reason is written, if it says.
fn reason_location(reason: &ward_core::Reason) -> Option<Location> {
    reason
        .location
        .as_ref()
        .map(|l| location(&l.file, Some(l.line), l.column))
}

fn message(text: impl Into<String>) -> Message {
    Message {
        text: Some(text.into()),
        ..Message::default()
    }
}

fn text(text: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

fn properties(tags: &[&str], extra: impl IntoIterator<Item = (&'static str, serde_json::Value)>) -> PropertyBag {
    PropertyBag {
        tags: Some(tags.iter().map(|t| t.to_string()).collect()),
        additional_properties: extra.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    }
}

fn rule(id: &str, description: &str, props: PropertyBag) -> ReportingDescriptor {
    ReportingDescriptor::builder()
        .id(id)
        .short_description(text(description))
        .properties(props)
        .build()
}

fn result(rule_id: &str, level: ResultLevel, text: String, locations: Vec<Location>) -> SarifResult {
    SarifResult::builder()
        .rule_id(rule_id)
        .level(level)
        .message(message(text))
        .locations(locations)
        .build()
}

/// One run of ward with these rules and results, written pretty-printed.
fn write_run(w: &mut impl Write, rules: Vec<ReportingDescriptor>, results: Vec<SarifResult>) -> io::Result<()> {
    let driver = ToolComponent::builder()
        .name("ward")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://ward.invalid/")
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let sarif = Sarif::builder()
        .schema(SCHEMA)
        .version(serde_json::Value::String("2.1.0".into()))
        .runs(vec![run])
        .build();
    super::json::pretty(w, &sarif)
}

fn level_of(s: Severity) -> ResultLevel {
    match s {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::None => ResultLevel::Note,
    }
}

/// The lowest CVSS score of a level, for advisories rated without a score.
fn floor(s: Severity) -> f64 {
    match s {
        Severity::Critical => 9.0,
        Severity::High => 7.0,
        Severity::Medium => 4.0,
        Severity::Low => 0.1,
        Severity::None => 0.0,
    }
}

/// `ward scan --format sarif`: one rule per advisory, one result per
/// finding (located at the lockfile or SBOM entry it came from), one per
/// component that could not be evaluated, and one per licence reason.
/// `security-severity` carries the CVSS score (or the level's floor) so
/// code-scanning UIs rank results.
pub(crate) fn scan(
    w: &mut impl Write,
    r: &ward_core::TriagedReport,
    reasons: &[(ward_policy::Mode, ward_core::Reason)],
) -> io::Result<()> {
    let mut rules = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in &r.findings {
        if seen.insert(f.advisory.clone()) {
            let score = f.rating.score.unwrap_or_else(|| floor(f.rating.level));
            let mut d = rule(
                &f.advisory,
                if f.summary.is_empty() { &f.advisory } else { &f.summary },
                properties(
                    &["security", "vulnerability"],
                    [
                        ("security-severity", serde_json::json!(format!("{score:.1}"))),
                        ("aliases", serde_json::json!(f.aliases)),
                    ],
                ),
            );
            d.help_uri = Some(format!("https://osv.dev/vulnerability/{}", f.advisory));
            rules.push(d);
        }
    }
    if !r.unevaluable.is_empty() {
        rules.push(rule(
            "ward/could-not-evaluate",
            "A component could not be checked against advisories",
            properties(&["security"], [("security-severity", serde_json::json!("7.0"))]),
        ));
    }
    let mut results: Vec<SarifResult> = r
        .findings
        .iter()
        .map(|f| {
            let fix = if f.fixed.is_empty() {
                "no fixed version is known".to_string()
            } else {
                format!("fixed in {}", f.fixed.join(", "))
            };
            let mut result = result(
                &f.advisory,
                level_of(f.rating.level),
                format!("{} is affected by {} ({fix})", f.package, f.advisory),
                vec![location(&f.source, f.line, None)],
            );
            result.partial_fingerprints = Some(BTreeMap::from([(
                "ward/package-advisory".to_string(),
                format!("{}|{}", f.package, f.advisory),
            )]));
            // Code-scanning UIs show suppressed results as dismissed, with the reason.
            if let Some(s) = &f.status.silenced {
                result.suppressions = Some(vec![
                    Suppression::builder()
                        .kind(serde_json::json!("external"))
                        .status(serde_json::json!("accepted"))
                        .justification(format!("{}: {}", s.source, s.justification))
                        .build(),
                ]);
            }
            result
        })
        .collect();
    results.extend(r.unevaluable.iter().map(|u| {
        result(
            "ward/could-not-evaluate",
            ResultLevel::Error,
            format!("{}: {}", u.entry, u.reason),
            vec![location(&u.source, None, None)],
        )
    }));
    let licence_reasons: Vec<_> = reasons
        .iter()
        .filter(|(_, r)| matches!(r.code, ReasonCode::LicenseDenied | ReasonCode::LicenseUnknown))
        .collect();
    if !licence_reasons.is_empty() {
        rules.push(rule(
            "ward/license",
            "A component's licence is not allowed by the policy",
            properties(&["license"], []),
        ));
    }
    let licence_file = r.licenses.first().map(|l| l.source.as_str()).unwrap_or("");
    results.extend(licence_reasons.iter().map(|(mode, reason)| {
        result(
            "ward/license",
            if *mode == ward_policy::Mode::Enforce {
                ResultLevel::Error
            } else {
                ResultLevel::Warning
            },
            format!("{}: {}", reason.code, reason.message),
            vec![reason_location(reason).unwrap_or_else(|| location(licence_file, None, None))],
        )
    }));
    write_run(w, rules, results)
}

/// `ward verify --format sarif`: one rule per reason code that occurs, one
/// result per deny reason (`error`) and per warning (`warning`), located
/// where the reason says its rule is written, else at the artifact.
pub(crate) fn evaluation(w: &mut impl Write, e: &Evaluation) -> io::Result<()> {
    let mut codes: Vec<ReasonCode> = e
        .decision
        .reasons
        .iter()
        .chain(&e.decision.warnings)
        .map(|r| r.code)
        .collect();
    codes.sort();
    codes.dedup();
    let rules = codes
        .iter()
        .map(|c| {
            let mut d = rule(
                c.as_str(),
                c.description(),
                properties(&["security", "supply-chain"], []),
            );
            d.help_uri = Some(format!("https://ward.invalid/docs/reasons#{}", c.as_str()));
            d
        })
        .collect();
    let artifact = location(&e.artifact.file_name, None, None);
    let verdict = match e.decision.verdict() {
        Verdict::Allow => "allowed",
        Verdict::Deny => "denied",
    };
    let mut results = Vec::new();
    for (reasons, level) in [
        (&e.decision.reasons, ResultLevel::Error),
        (&e.decision.warnings, ResultLevel::Warning),
    ] {
        for reason in reasons {
            let mut locations = vec![artifact.clone()];
            if let Some(at) = reason_location(reason) {
                // The rule's own place first: that is where a fix is made.
                locations.insert(0, at);
            }
            let mut r = result(
                reason.code.as_str(),
                level,
                format!("{} {verdict}: {}", e.artifact.id, reason.message),
                locations,
            );
            r.partial_fingerprints = Some(BTreeMap::from([(
                "ward/artifact-reason".to_string(),
                format!("{}|sha256:{}|{}", e.artifact.id, e.artifact.digests.sha256, reason.code),
            )]));
            results.push(r);
        }
    }
    write_run(w, rules, results)
}

/// `ward audit --format sarif`: one rule per alert kind that occurs, one
/// result per finding, located at the file it is about (else the package
/// directory); `unreadable`, `newly-malicious`, `modified` and the like are
/// errors, `extra` and `unverifiable` warnings.
pub(crate) fn audit(w: &mut impl Write, report: &ward_audit::AuditReport) -> io::Result<()> {
    use ward_audit::AlertKind;
    let mut kinds: Vec<AlertKind> = report.findings.iter().map(|f| f.kind).collect();
    kinds.sort();
    kinds.dedup();
    let rules = kinds
        .iter()
        .map(|k| {
            let mut d = rule(k.code(), k.summary(), properties(&["security", "supply-chain"], []));
            d.help_uri = Some(format!("https://ward.invalid/docs/monitoring#{}", k.code()));
            d
        })
        .collect();
    let results = report
        .findings
        .iter()
        .map(|f| {
            let level = match f.kind {
                AlertKind::Extra | AlertKind::Unverifiable | AlertKind::Overdue => ResultLevel::Warning,
                AlertKind::NewlyVulnerable => f
                    .advisory
                    .as_ref()
                    .map_or(ResultLevel::Warning, |a| level_of(a.severity)),
                _ => ResultLevel::Error,
            };
            let place = match &f.file {
                Some(file) => f.location.join(file),
                None => f.location.clone(),
            };
            let mut r = result(
                f.kind.code(),
                level,
                format!("{}: {}", f.package, f.detail),
                vec![location(&place.display().to_string(), None, None)],
            );
            r.partial_fingerprints = Some(BTreeMap::from([("ward/audit-finding".to_string(), f.key())]));
            r
        })
        .collect();
    write_run(w, rules, results)
}
