//! Plain-text output: what `ward verify`, `ward scan`, `ward policy` and
//! `ward reasons` print for people. Every function writes to the
//! `impl Write` it is given; the caller picks the stream.
//!
//! The text is a contract too (tests and users' scripts read it): change it
//! only on purpose.

use std::io::{self, Write};
use ward_core::{ReasonCode, Verdict};
use ward_gate::Evaluation;
use ward_verify::{CheckOutcome, Fact, SignerIdentity};

fn describe_signer(signer: &SignerIdentity) -> String {
    match signer {
        SignerIdentity::Keyless { identity, issuer, .. } => format!("{identity} (issuer {issuer})"),
        SignerIdentity::Key {
            fingerprint, algorithm, ..
        } => format!("key {fingerprint} ({algorithm})"),
    }
}

/// A verified fact in one line.
pub(crate) fn describe_fact(fact: &Fact) -> String {
    match fact {
        Fact::Signature {
            signer,
            evidence,
            signed_at,
            transparency_log,
            predicate_type,
            ..
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
        Fact::Rebuild { rebuild: r, signer, .. } => {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
            let outcome = match r.outcome {
                ward_verify::RebuildOutcome::Reproduced => "reproduced",
                ward_verify::RebuildOutcome::Diverged => "DIVERGED",
            };
            format!(
                "rebuild {outcome} by {} (signed by {}) from {}@{}, build steps {}, rebuilt {}",
                show(&r.rebuilder),
                describe_signer(signer),
                show(&r.source_repository),
                show(&r.source_commit),
                show(&r.build_steps_digest),
                show(&r.rebuilt_digest)
            )
        }
        Fact::BuildInputs { inputs: b, signer, .. } => {
            let mut parts: Vec<String> = b.toolchains.iter().map(|(k, v)| format!("{k} {v}")).collect();
            parts.extend(b.lockfile.iter().map(|l| format!("lockfile {l}")));
            parts.extend(b.config_files.iter().map(|c| format!("config {c}")));
            parts.extend(b.environment.iter().map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => format!("{k} unset"),
            }));
            parts.extend(b.container_image.iter().map(|i| format!("image {i}")));
            parts.extend(b.warnings.iter().map(|w| format!("WARNING: {w}")));
            format!(
                "build inputs (signed by {}): {}",
                describe_signer(signer),
                parts.join("; ")
            )
        }
        other => format!("{other:?}"),
    }
}

/// `ward bundle verify`: the fact a bundle proved.
pub(crate) fn bundle_ok(w: &mut impl Write, fact: &Fact) -> io::Result<()> {
    writeln!(w, "ok: {}", describe_fact(fact))
}

/// `ward verify` as text: the verdict, what was proved, every reason.
pub(crate) fn evaluation(w: &mut impl Write, e: &Evaluation, recorded: Option<&ward_gate::Recorded>) -> io::Result<()> {
    let a = &e.artifact;
    let verdict = match e.decision.verdict() {
        Verdict::Allow => "allow",
        Verdict::Deny => "deny",
    };
    writeln!(w, "{verdict} {} sha256:{}", a.id, a.digests.sha256)?;
    for check in &e.checks {
        if let CheckOutcome::Pass = check.outcome() {
            // A statement's signature line already names its predicate type.
            for fact in check.facts().iter().filter(|f| !matches!(f, Fact::Statement { .. })) {
                writeln!(w, "  ok: {}", describe_fact(fact))?;
            }
        }
    }
    for r in &e.decision.reasons {
        writeln!(w, "  deny: {r}")?;
    }
    for r in &e.decision.warnings {
        writeln!(w, "  warn: {r}")?;
    }
    if let Some(p) = &e.decision.policy {
        writeln!(w, "  policy: {} ({})", p.path, p.digest)?;
    }
    if let Some(r) = recorded {
        writeln!(w, "  recorded: ledger entry {} (ledger size {})", r.index, r.size)?;
    }
    Ok(())
}

/// `ward reasons`: every code with its description.
pub(crate) fn reason_codes(w: &mut impl Write) -> io::Result<()> {
    for c in ReasonCode::ALL {
        writeln!(w, "{:<28} {}", c.as_str(), c.description())?;
    }
    Ok(())
}

/// `ward policy check`: the policy loaded (warnings are diagnostics, on stderr).
pub(crate) fn policy_ok(w: &mut impl Write, policy: &ward_policy::Policy) -> io::Result<()> {
    writeln!(
        w,
        "ok: {} is valid: {} scope(s), {} exception(s), {} VEX statement(s), digest {}",
        policy.path,
        policy.scopes.len(),
        policy.exceptions.len(),
        policy.vex.len(),
        policy.digest
    )?;
    Ok(())
}

/// A release cooldown as `ward policy explain` shows it.
fn cooldown_line(w: &mut impl Write, policy: &ward_policy::Policy, c: &ward_policy::Cooldown) -> io::Result<()> {
    let level = match c.level {
        ward_policy::Mode::Enforce => "deny",
        ward_policy::Mode::Warn => "warn",
        ward_policy::Mode::Audit => "audit",
    };
    let exempt: Vec<&str> = c.exempt.iter().map(|p| p.text.as_str()).collect();
    let exempt = if exempt.is_empty() {
        String::new()
    } else {
        format!(", except {}", exempt.join(", "))
    };
    writeln!(
        w,
        "  cooldown: {} at {level}{exempt} ({}:{})",
        c.written, policy.path, c.line
    )
}

/// `ward policy explain`: the scopes and rules that apply to a package.
pub(crate) fn policy_explain(
    w: &mut impl Write,
    policy: &ward_policy::Policy,
    id: &ward_core::PackageId,
) -> io::Result<()> {
    let scopes = policy.scopes_for(id);
    if scopes.is_empty() {
        let rule = match policy.defaults.unmatched {
            ward_policy::Unmatched::Deny => "denied (unmatched = \"deny\")",
            ward_policy::Unmatched::RequireSignature => {
                "at least one verified signature or attestation required (the default)"
            }
        };
        writeln!(w, "{id}: no scope in {} matches; {rule}", policy.path)?;
        if let Some(c) = &policy.defaults.cooldown {
            cooldown_line(w, policy, c)?;
        }
        return Ok(());
    }
    writeln!(w, "{id}: {} scope(s) apply, every one must pass", scopes.len())?;
    for s in scopes {
        writeln!(w, "scope {:?} ({}:{}), mode {:?}", s.name, policy.path, s.line, s.mode)?;
        if s.has_trust() {
            for signer in &s.signers {
                writeln!(w, "  signer: {} (line {})", signer.describe(), signer.line)?;
            }
            for k in &s.keys {
                writeln!(
                    w,
                    "  key: {} {} (line {})",
                    k.value.fingerprint(),
                    k.value.label,
                    k.line
                )?;
                let fingerprint = k.value.fingerprint();
                for l in s.key_lifetimes.iter().filter(|l| l.fingerprint == fingerprint) {
                    writeln!(
                        w,
                        "    counts only for signatures with a verified time: {} ({})",
                        l.window(),
                        l.source
                    )?;
                }
            }
            writeln!(w, "  threshold: {} distinct trusted signer(s)", s.threshold.value)?;
        } else {
            writeln!(w, "  signature: any verified signature or attestation")?;
        }
        if let Some(age) = &s.max_signature_age_days {
            writeln!(w, "  max signature age: {} days (line {})", age.value, age.line)?;
        }
        if let Some(p) = &s.provenance {
            writeln!(
                w,
                "  provenance: {} (line {})",
                if p.required { "required" } else { "checked when present" },
                p.line
            )?;
            if let Some(b) = &p.builders {
                writeln!(w, "    builders: {}", b.value.join(", "))?;
            }
            if let Some(src) = &p.source {
                writeln!(w, "    source matches: {}", src.value.as_str())?;
            }
            if let Some(r) = &p.git_ref {
                writeln!(w, "    ref matches: {}", r.value.as_str())?;
            }
            if p.deny_self_hosted.as_ref().is_some_and(|d| d.value) {
                writeln!(w, "    self-hosted runners denied")?;
            }
        }
        for t in &s.required_predicate_types {
            writeln!(w, "  required attestation: {} (line {})", t.value, t.line)?;
        }
        let (threshold, at) = policy.fail_on_for(&[s], None);
        writeln!(w, "  vulnerabilities: deny at or above {threshold:?} ({at})")?;
        if let Some(l) = s.licenses.as_ref().or(policy.defaults.licenses.as_ref()) {
            writeln!(w, "  licences: restricted ({}:{})", policy.path, l.line)?;
        }
        if let Some(a) = &s.scan_attestation {
            writeln!(
                w,
                "  scan attestation: by {}{}, nothing at or above {:?} (line {})",
                a.scanners.join(" or "),
                a.max_age_days
                    .map(|d| format!(", at most {d} days old"))
                    .unwrap_or_default(),
                a.fail_on,
                a.line
            )?;
        }
        if let Some(r) = &s.rego {
            writeln!(w, "  rego: {}", r.files.join(", "))?;
        }
        let risky = [
            ("deny_new_install_scripts", &s.risky.new_install_scripts),
            ("deny_new_dependencies_in_patch", &s.risky.new_dependencies_in_patch),
            ("deny_pth_files", &s.risky.pth_files),
            ("deny_setup_py_only", &s.risky.setup_py_only),
            ("native_binaries", &s.risky.native_binaries),
        ];
        for (key, rule) in risky {
            if let Some(r) = rule {
                let level = match r.value {
                    ward_policy::Mode::Enforce => "deny",
                    ward_policy::Mode::Warn => "warn",
                    ward_policy::Mode::Audit => "audit",
                };
                writeln!(w, "  {key}: {level} (line {})", r.line)?;
            }
        }
        if let Some(c) = &s.cooldown {
            cooldown_line(w, policy, c)?;
        }
        if let Some(h) = &s.history {
            let word = |l: ward_policy::RuleLevel| match l {
                ward_policy::RuleLevel::Deny => "deny",
                ward_policy::RuleLevel::Warn => "warn",
                ward_policy::RuleLevel::Audit => "audit",
                ward_policy::RuleLevel::Off => "off",
            };
            writeln!(
                w,
                "  history: provenance_regression {}, publisher_change {}, over the last {} releases (line {})",
                word(h.provenance_regression.value),
                word(h.publisher_change.value),
                h.window.value,
                h.line
            )?;
        }
        if let Some(r) = &s.rebuild {
            let word = |l: ward_policy::rebuild::DivergenceLevel| match l {
                ward_policy::rebuild::DivergenceLevel::Deny => "deny",
                ward_policy::rebuild::DivergenceLevel::Warn => "warn",
                ward_policy::rebuild::DivergenceLevel::Audit => "audit",
            };
            writeln!(
                w,
                "  rebuild: {} of {} reproduced (line {}); divergence: {}; regression over the last {} releases: {}",
                r.required.value,
                r.rebuilders.join(", "),
                r.line,
                word(r.on_divergence.value),
                r.window.value,
                r.on_regression.as_ref().map_or("off", |l| word(l.value)),
            )?;
        }
    }
    Ok(())
}

/// `ward scan` as text: a table grouped by package, then the notices.
pub(crate) fn scan(
    w: &mut impl Write,
    r: &ward_core::TriagedReport,
    outcome: &super::ScanVerdict<'_>,
) -> io::Result<()> {
    let verdict = if outcome.denied { "deny" } else { "allow" };
    let silenced = r.findings.iter().filter(|f| f.status.silenced.is_some()).count();
    writeln!(
        w,
        "{verdict}: {} components, {} findings ({silenced} silenced), {} could not be evaluated",
        r.components,
        r.findings.len(),
        r.unevaluable.len()
    )?;
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
            writeln!(w, "{} ({})", f.package, f.source)?;
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
                    ward_core::SilencedBy::Exception => "exception",
                    ward_core::SilencedBy::Vex => "VEX",
                    ward_core::SilencedBy::Allow => "allow",
                },
                s.source,
                s.justification
            ),
            (None, true, Some(due)) => format!(" [OVERDUE since {due}]"),
            (None, false, Some(due)) => format!(" [due {due}]"),
            _ => String::new(),
        };
        writeln!(
            w,
            "  {:<20} {:<8}{:<11} {} ({fix}){status}",
            f.advisory,
            match &f.malicious {
                Some(m) if m.suspect.is_some() => "MALICIOUS (suspect record)".to_string(),
                Some(_) => "MALICIOUS".to_string(),
                None => format!("{:?}", f.rating.level).to_lowercase(),
            },
            score,
            f.summary
        )?;
    }
    for u in &r.unevaluable {
        writeln!(w, "  could not evaluate {} ({}): {}", u.entry, u.source, u.reason)?;
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
            writeln!(w, "{mode}: {}: {}", reason.code, reason.message)?;
        }
    }
    Ok(())
}
