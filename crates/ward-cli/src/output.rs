//! The output layer: the only module that prints.

#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod proxy_log;

use crate::args::Format;
use serde::Serialize;
use ward_core::{CheckOutcome, Fact, Reason, ReasonCode, SignerIdentity, Verdict};
use ward_gate::Evaluation;

/// The version of the JSON document `ward verify --format json` prints.
pub const VERIFY_SCHEMA: &str = "https://ward.invalid/schemas/verify/v1";

pub fn clap_error(e: &clap::Error) {
    // clap renders usage, help and version itself, to the right stream.
    let _ = e.print();
}

pub fn error(message: &str) {
    eprintln!("ward: error: {message}");
}

pub fn reason(reason: &Reason) {
    eprintln!("deny: {reason}");
}

pub fn bundle_ok(fact: &Fact) {
    println!("ok: {}", describe_fact(fact));
}

fn describe_signer(signer: &SignerIdentity) -> String {
    match signer {
        SignerIdentity::Keyless { identity, issuer } => format!("{identity} (issuer {issuer})"),
        SignerIdentity::Key { fingerprint, algorithm } => format!("key {fingerprint} ({algorithm})"),
    }
}

fn describe_fact(fact: &Fact) -> String {
    match fact {
        Fact::Signature {
            signer,
            evidence,
            signed_at,
            transparency_log,
            predicate_type,
        } => {
            let mut s = format!("signed by {} in {evidence}", describe_signer(signer));
            if let Some(t) = signed_at {
                s.push_str(&format!(" at {t}"));
            }
            if *transparency_log {
                s.push_str(", logged in Rekor");
            }
            if let Some(p) = predicate_type {
                s.push_str(&format!(", statement {p}"));
            }
            s
        }
        Fact::Statement {
            predicate_type,
            signer,
            evidence,
            ..
        } => {
            format!(
                "attestation {predicate_type} by {} in {evidence}",
                describe_signer(signer)
            )
        }
        Fact::Provenance { provenance: p, .. } => {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
            format!(
                "built by {} from {}@{} ({}), runner {}",
                show(&p.builder_id),
                show(&p.source_repository),
                show(&p.source_commit),
                show(&p.source_ref),
                show(&p.runner_environment)
            )
        }
        other => format!("{other:?}"),
    }
}

#[derive(Serialize)]
struct VerifyDocument<'a> {
    schema: &'static str,
    ward_version: &'static str,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger: Option<&'a ward_gate::Recorded>,
}

pub fn evaluation(e: &Evaluation, recorded: Option<&ward_gate::Recorded>, format: Format) {
    match format {
        Format::Json => {
            let doc = VerifyDocument {
                schema: VERIFY_SCHEMA,
                ward_version: env!("CARGO_PKG_VERSION"),
                evaluation: e,
                ledger: recorded,
            };
            match serde_json::to_string_pretty(&doc) {
                Ok(s) => println!("{s}"),
                Err(err) => error(&format!("cannot render JSON: {err}")),
            }
        }
        Format::Text => {
            let a = &e.artifact;
            let verdict = match e.decision.verdict {
                Verdict::Allow => "allow",
                Verdict::Deny => "deny",
            };
            println!("{verdict} {} sha256:{}", a.id, a.digests.sha256);
            for check in &e.checks {
                if let CheckOutcome::Pass = check.outcome {
                    // A statement's signature line already names its predicate type.
                    for fact in check.facts.iter().filter(|f| !matches!(f, Fact::Statement { .. })) {
                        println!("  ok: {}", describe_fact(fact));
                    }
                }
            }
            for r in &e.decision.reasons {
                println!("  deny: {r}");
            }
            for r in &e.decision.warnings {
                println!("  warn: {r}");
            }
            if let Some(p) = &e.decision.policy {
                println!("  policy: {} ({})", p.path, p.digest);
            }
            if let Some(r) = recorded {
                println!("  recorded: ledger entry {} (ledger size {})", r.index, r.size);
            }
        }
    }
}

pub fn reason_codes(format: Format) {
    match format {
        Format::Json => {
            let list: Vec<_> = ReasonCode::ALL
                .iter()
                .map(|c| serde_json::json!({"code": c.as_str(), "description": c.description()}))
                .collect();
            println!("{}", serde_json::Value::Array(list));
        }
        Format::Text => {
            for c in ReasonCode::ALL {
                println!("{:<28} {}", c.as_str(), c.description());
            }
        }
    }
}

pub fn policy_ok(policy: &ward_policy::Policy) {
    println!(
        "ok: {} is valid: {} scope(s), {} exception(s), {} VEX statement(s), digest {}",
        policy.path,
        policy.scopes.len(),
        policy.exceptions.len(),
        policy.vex.len(),
        policy.digest
    );
    // Exceptions that no longer apply, or soon will not, are worth knowing before a scan finds out.
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    for e in &policy.exceptions {
        let left = (e.expires - today).get_days();
        if left < 0 {
            eprintln!(
                "warning: {}:{}: the exception for {} expired on {}",
                policy.path, e.line, e.advisory, e.expires
            );
        } else if i64::from(left) <= ward_policy::EXPIRY_WARNING_DAYS {
            eprintln!(
                "warning: {}:{}: the exception for {} expires on {} ({left} days)",
                policy.path, e.line, e.advisory, e.expires
            );
        }
    }
}

pub fn policy_explain(policy: &ward_policy::Policy, id: &ward_core::PackageId) {
    let scopes = policy.scopes_for(id);
    if scopes.is_empty() {
        let rule = match policy.defaults.unmatched {
            ward_policy::Unmatched::Deny => "denied (unmatched = \"deny\")",
            ward_policy::Unmatched::RequireSignature => {
                "at least one verified signature or attestation required (the default)"
            }
        };
        println!("{id}: no scope in {} matches; {rule}", policy.path);
        return;
    }
    println!("{id}: {} scope(s) apply, every one must pass", scopes.len());
    for s in scopes {
        println!("scope {:?} ({}:{}), mode {:?}", s.name, policy.path, s.line, s.mode);
        if s.has_trust() {
            for signer in &s.signers {
                println!("  signer: {} (line {})", signer.describe(), signer.line);
            }
            for k in &s.keys {
                println!("  key: {} {} (line {})", k.value.fingerprint(), k.value.label, k.line);
            }
            println!("  threshold: {} distinct trusted signer(s)", s.threshold.value);
        } else {
            println!("  signature: any verified signature or attestation");
        }
        if let Some(age) = &s.max_signature_age_days {
            println!("  max signature age: {} days (line {})", age.value, age.line);
        }
        if let Some(p) = &s.provenance {
            println!(
                "  provenance: {} (line {})",
                if p.required { "required" } else { "checked when present" },
                p.line
            );
            if let Some(b) = &p.builders {
                println!("    builders: {}", b.value.join(", "));
            }
            if let Some(src) = &p.source {
                println!("    source matches: {}", src.value.as_str());
            }
            if let Some(r) = &p.git_ref {
                println!("    ref matches: {}", r.value.as_str());
            }
            if p.deny_self_hosted.as_ref().is_some_and(|d| d.value) {
                println!("    self-hosted runners denied");
            }
        }
        for t in &s.required_predicate_types {
            println!("  required attestation: {} (line {})", t.value, t.line);
        }
        let (threshold, at) = policy.fail_on_for(&[s], None);
        println!("  vulnerabilities: deny at or above {threshold:?} ({at})");
        if let Some(l) = s.licenses.as_ref().or(policy.defaults.licenses.as_ref()) {
            println!("  licences: restricted ({}:{})", policy.path, l.line);
        }
        if let Some(a) = &s.scan_attestation {
            println!(
                "  scan attestation: by {}{}, nothing at or above {:?} (line {})",
                a.scanners.join(" or "),
                a.max_age_days
                    .map(|d| format!(", at most {d} days old"))
                    .unwrap_or_default(),
                a.fail_on,
                a.line
            );
        }
        if let Some(r) = &s.rego {
            println!("  rego: {}", r.files.join(", "));
        }
    }
}

pub fn keygen_ok(private: &std::path::Path, public: &std::path::Path, fingerprint: &str) {
    println!(
        "wrote {} (private, mode 0600) and {} (public), key {fingerprint}",
        private.display(),
        public.display()
    );
}

pub fn wrote(path: &std::path::Path, fingerprint: &str) {
    println!("wrote {} (signed by key {fingerprint})", path.display());
}

/// `ward trust update` and `ward trust log` text (already formatted lines).
pub fn trust(text: &str) {
    print!("{text}");
}

pub fn json_value(v: &serde_json::Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => error(&e.to_string()),
    }
}

/// An inclusion proof in the c2sp.org/tlog-proof form.
pub fn tlog_proof(index: u64, proof: &[ward_ledger::Hash], checkpoint: &str) {
    use base64::Engine as _;
    println!("c2sp.org/tlog-proof@v1");
    println!("index {index}");
    for h in proof {
        println!("{}", base64::engine::general_purpose::STANDARD.encode(h));
    }
    println!();
    print!("{checkpoint}");
}

pub fn ledger_verified(entries: u64, root: &ward_ledger::Hash) {
    println!(
        "ok: recomputed {entries} entries; root {} matches the signed checkpoint",
        hex_of(root)
    );
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn search_hits(hits: &[(u64, ward_ledger::record::DecisionRecord)]) {
    if hits.is_empty() {
        println!("no decision found");
    }
    for (i, r) in hits {
        let p = &r.predicate;
        println!(
            "entry {i}: {} {} at {} under policy {} ({})",
            if r.allowed() { "PASSED" } else { "FAILED" },
            r.purl().unwrap_or("?"),
            p.time_verified,
            p.policy.uri,
            p.policy
                .digest
                .as_ref()
                .map(|d| format!("sha256:{}", d.sha256))
                .unwrap_or_else(|| "no digest".into()),
        );
    }
}

pub fn checkpoint(note: &str, vkey: &str) {
    print!("{note}");
    println!("verifier key: {vkey}");
}

pub fn exported(out: &std::path::Path, files: u64, size: u64) {
    println!(
        "wrote {files} files for {size} entries to {} (tlog-tiles layout)",
        out.display()
    );
}

pub fn listening(addr: &std::net::SocketAddr) {
    println!("listening on http://{addr}");
}

pub fn monitor_ok(message: &str) {
    println!("ok: {message}");
}

pub fn alert(message: &str) {
    eprintln!("{message}");
}

pub fn import_report(r: &ward_scan::ImportReport, dir: &std::path::Path, took: std::time::Duration) {
    println!(
        "imported {} advisories from {} records into {} in {:.2} s ({} merged by alias, {} withdrawn, {} in other ecosystems)",
        r.advisories,
        r.records,
        dir.display(),
        took.as_secs_f64(),
        r.merged,
        r.withdrawn,
        r.unsupported
    );
    malicious_summary(r);
    if !r.malformed.is_empty() {
        eprintln!("warning: {} malformed records skipped:", r.malformed.len());
        for (file, why) in r.malformed.iter().take(20) {
            eprintln!("  {file}: {why}");
        }
        if r.malformed.len() > 20 {
            eprintln!("  … and {} more", r.malformed.len() - 20);
        }
    }
}

fn stale_warning(age: Option<i64>, max: u32) -> Option<String> {
    match age {
        None => Some("warning: the advisory data has no modification dates; its freshness is unknown".into()),
        Some(a) if a > i64::from(max) => Some(format!(
            "warning: the advisory data is {a} days old (more than {max}): re-import to see recent advisories"
        )),
        _ => None,
    }
}

/// Malicious-package records and suspect ones, per import source.
fn malicious_summary(r: &ward_scan::ImportReport) {
    for (source, n) in &r.sources {
        println!("  source {source}: {n} records");
    }
    println!(
        "  {} malicious-package records ({} suspect)",
        r.malicious,
        r.suspect.len()
    );
    for (id, why) in &r.suspect {
        println!("  suspect {id}: {why}");
    }
}

pub fn db_status(db: &ward_scan::AdvisoryDb, age: Option<i64>, max: u32) {
    println!("{} advisories, built {}", db.len(), db.built_at());
    for (eco, s) in db.stats() {
        println!(
            "  {eco:<8} {:>6} advisories, newest modified {}",
            s.advisories,
            s.newest_modified.as_deref().unwrap_or("unknown")
        );
    }
    let r = db.report();
    println!("  {} malformed records skipped at import", r.malformed.len());
    malicious_summary(r);
    if let Some(w) = stale_warning(age, max) {
        eprintln!("{w}");
    }
}

#[derive(Serialize)]
struct ScanDocument<'a> {
    schema: &'static str,
    database: serde_json::Value,
    verdict: &'static str,
    #[serde(flatten)]
    report: &'a ward_core::TriagedReport,
    /// Every reason, with the mode it counts in (`enforce` denies).
    reasons: Vec<serde_json::Value>,
}

/// What a scan concluded: reasons with the mode each counts in.
pub struct ScanVerdict<'a> {
    pub denied: bool,
    pub reasons: &'a [(ward_policy::Mode, ward_core::Reason)],
}

pub fn scan_report(
    r: &ward_core::TriagedReport,
    db: &ward_scan::AdvisoryDb,
    age: Option<i64>,
    max_age: u32,
    outcome: &ScanVerdict<'_>,
    format: crate::args::ScanFormat,
) {
    use crate::args::ScanFormat;
    use ward_core::ReasonCode;
    let stale = stale_warning(age, max_age);
    let verdict = if outcome.denied { "deny" } else { "allow" };
    match format {
        ScanFormat::Sarif => match serde_json::to_string_pretty(&sarif(r, outcome.reasons)) {
            Ok(s) => println!("{s}"),
            Err(e) => error(&e.to_string()),
        },
        ScanFormat::Json => {
            let doc = ScanDocument {
                schema: "https://ward.invalid/schemas/scan/v1",
                database: serde_json::json!({"built_at": db.built_at(), "newest_modified": db.newest_modified(), "age_days": age, "stale": stale.is_some()}),
                verdict,
                report: r,
                reasons: outcome
                    .reasons
                    .iter()
                    .map(|(mode, reason)| serde_json::json!({"code": reason.code, "message": reason.message, "mode": mode}))
                    .collect(),
            };
            match serde_json::to_string_pretty(&doc) {
                Ok(s) => println!("{s}"),
                Err(e) => error(&e.to_string()),
            }
        }
        ScanFormat::Text => {
            let silenced = r.findings.iter().filter(|f| f.status.silenced.is_some()).count();
            println!(
                "{verdict}: {} components, {} findings ({silenced} silenced), {} could not be evaluated",
                r.components,
                r.findings.len(),
                r.unevaluable.len()
            );
            // Grouped by package, packages in the order of their worst finding.
            let mut packages: Vec<&ward_core::PackageId> = Vec::new();
            for f in &r.findings {
                if !packages.contains(&&f.package) {
                    packages.push(&f.package);
                }
            }
            let grouped = packages
                .iter()
                .flat_map(|p| r.findings.iter().filter(move |f| f.package == **p));
            let mut last = None;
            for f in grouped {
                if last != Some(&f.package) {
                    println!("{} ({})", f.package, f.source);
                    last = Some(&f.package);
                }
                let score = match (f.rating.score, f.rating.assumed) {
                    // Malicious is not a severity: no score to show.
                    _ if f.malicious.is_some() => String::new(),
                    (Some(s), _) => format!(" {s:.1}"),
                    (None, true) => " (unrated)".into(),
                    (None, false) => String::new(),
                };
                let fix = if f.fixed.is_empty() {
                    "no fixed version".to_string()
                } else {
                    format!("fixed in {}", f.fixed.join(", "))
                };
                let status = match (&f.status.silenced, f.status.overdue, &f.status.due) {
                    (Some(s), _, _) => format!(
                        " [silenced by {} {}: {}]",
                        match s.by {
                            ward_scan::SilencedBy::Exception => "exception",
                            ward_scan::SilencedBy::Vex => "VEX",
                            ward_scan::SilencedBy::Allow => "allow",
                        },
                        s.source,
                        s.justification
                    ),
                    (None, true, Some(due)) => format!(" [OVERDUE since {due}]"),
                    (None, false, Some(due)) => format!(" [due {due}]"),
                    _ => String::new(),
                };
                println!(
                    "  {:<20} {:<8}{:<11} {} ({fix}){status}",
                    f.advisory,
                    match &f.malicious {
                        Some(m) if m.suspect.is_some() => "MALICIOUS (suspect record)".to_string(),
                        Some(_) => "MALICIOUS".to_string(),
                        None => format!("{:?}", f.rating.level).to_lowercase(),
                    },
                    score,
                    f.summary
                );
            }
            for u in &r.unevaluable {
                println!("  could not evaluate {} ({}): {}", u.entry, u.source, u.reason);
            }
            // Licences, exception and allow notices, and what a malicious
            // record says to do, are not in the table above.
            for (mode, reason) in outcome.reasons {
                if matches!(
                    reason.code,
                    ReasonCode::LicenseDenied
                        | ReasonCode::LicenseUnknown
                        | ReasonCode::ExceptionExpired
                        | ReasonCode::ExceptionExpiring
                        | ReasonCode::PackageMalicious
                        | ReasonCode::AllowedByReview
                        | ReasonCode::AllowExpired
                        | ReasonCode::AllowExpiring
                ) {
                    let mode = format!("{mode:?}").to_lowercase();
                    println!("{mode}: {}: {}", reason.code, reason.message);
                }
            }
        }
    }
    if let Some(w) = stale {
        eprintln!("{w}");
    }
}

/// SARIF 2.1.0: one rule per advisory, one result per finding (located at
/// the lockfile or SBOM it came from), and one per component that could not
/// be evaluated. `security-severity` carries the CVSS score (or the level's
/// floor) so code-scanning UIs rank results.
fn sarif(r: &ward_core::TriagedReport, reasons: &[(ward_policy::Mode, ward_core::Reason)]) -> serde_json::Value {
    use serde_json::json;
    use ward_scan::Severity;
    let level_of = |s: Severity| match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::None => "note",
    };
    let floor = |s: Severity| match s {
        Severity::Critical => 9.0,
        Severity::High => 7.0,
        Severity::Medium => 4.0,
        Severity::Low => 0.1,
        Severity::None => 0.0,
    };
    let mut rules: Vec<serde_json::Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in &r.findings {
        if seen.insert(f.advisory.clone()) {
            let score = f.rating.score.unwrap_or_else(|| floor(f.rating.level));
            rules.push(json!({
                "id": f.advisory,
                "shortDescription": {"text": if f.summary.is_empty() { f.advisory.clone() } else { f.summary.clone() }},
                "helpUri": format!("https://osv.dev/vulnerability/{}", f.advisory),
                "properties": {"security-severity": format!("{score:.1}"), "tags": ["security", "vulnerability"], "aliases": f.aliases},
            }));
        }
    }
    if !r.unevaluable.is_empty() {
        rules.push(json!({
            "id": "ward/could-not-evaluate",
            "shortDescription": {"text": "A component could not be checked against advisories"},
            "properties": {"security-severity": "7.0", "tags": ["security"]},
        }));
    }
    let location =
        |uri: &str| json!([{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}}}]);
    let mut results: Vec<serde_json::Value> = r
        .findings
        .iter()
        .map(|f| {
            let fix = if f.fixed.is_empty() {
                "no fixed version is known".to_string()
            } else {
                format!("fixed in {}", f.fixed.join(", "))
            };
            let mut result = json!({
                "ruleId": f.advisory,
                "level": level_of(f.rating.level),
                "message": {"text": format!("{} is affected by {} ({fix})", f.package, f.advisory)},
                "locations": location(&f.source),
                "partialFingerprints": {"ward/package-advisory": format!("{}|{}", f.package, f.advisory)},
            });
            // Code-scanning UIs show suppressed results as dismissed, with the reason.
            if let Some(s) = &f.status.silenced {
                result["suppressions"] = json!([{"kind": "external", "status": "accepted", "justification": format!("{}: {}", s.source, s.justification)}]);
            }
            result
        })
        .collect();
    results.extend(r.unevaluable.iter().map(|u| {
        json!({
            "ruleId": "ward/could-not-evaluate",
            "level": "error",
            "message": {"text": format!("{}: {}", u.entry, u.reason)},
            "locations": location(&u.source),
        })
    }));
    let licence_reasons: Vec<_> = reasons
        .iter()
        .filter(|(_, r)| {
            matches!(
                r.code,
                ward_core::ReasonCode::LicenseDenied | ward_core::ReasonCode::LicenseUnknown
            )
        })
        .collect();
    if !licence_reasons.is_empty() {
        rules.push(json!({
            "id": "ward/license",
            "shortDescription": {"text": "A component's licence is not allowed by the policy"},
            "properties": {"tags": ["license"]},
        }));
    }
    results.extend(licence_reasons.iter().map(|(mode, reason)| {
        json!({
            "ruleId": "ward/license",
            "level": if *mode == ward_policy::Mode::Enforce { "error" } else { "warning" },
            "message": {"text": format!("{}: {}", reason.code, reason.message)},
            "locations": location(r.licenses.first().map(|l| l.source.as_str()).unwrap_or("")),
        })
    }));
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "ward", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://ward.invalid/", "rules": rules}},
            "results": results,
        }],
    })
}

/// `ward proxy` has started.
pub fn proxy_listening(base: &str) {
    println!("ward proxy listening on {base}");
    println!("  pip:   --index-url {base}/pypi/simple/");
    println!("  npm:   --registry {base}/npm/ --replace-registry-host=always");
    println!("  cargo: [source.ward] registry = \"sparse+{base}/cargo/index/\"");
}
