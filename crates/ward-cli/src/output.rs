//! The output layer: the only module that prints.
//!
//! Each format is its own module writing to any `impl Write`: `text`,
//! `json` and `sarif` (and `diagnostics` for policy files). The functions
//! here pick the stream (standard output for results, standard error for
//! errors and warnings) and hand it to them.

#![allow(clippy::print_stdout, clippy::print_stderr)]

pub(crate) mod advisories;
pub(crate) mod audit;
pub(crate) mod diagnostics;
pub(crate) mod generated;
pub(crate) mod json;
pub(crate) mod monitor;
pub(crate) mod proxy_log;
pub(crate) mod rebuild;
pub(crate) mod recover;
pub(crate) mod sarif;
pub(crate) mod text;

use crate::args::{Format, VerifyFormat};
use std::io::{self, Write as _};
use ward_core::Reason;
use ward_gate::Evaluation;
use ward_verify::Fact;

pub(crate) fn clap_error(e: &clap::Error) {
    // clap renders usage, help and version itself, to the right stream.
    let _ = e.print();
}

pub(crate) fn error(message: &str) {
    eprintln!("ward: error: {message}");
}

pub(crate) fn reason(reason: &Reason) {
    eprintln!("deny: {reason}");
}

/// Runs `f` on standard output. A reader that went away (a closed pipe) is
/// not an error worth a message; any other write failure is reported.
fn to_stdout(f: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) {
    let mut out = io::stdout().lock();
    if let Err(e) = f(&mut out).and_then(|()| out.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        error(&format!("cannot write the output: {e}"));
    }
}

pub(crate) fn bundle_ok(fact: &Fact) {
    to_stdout(|w| text::bundle_ok(w, fact));
}

pub(crate) fn evaluation(e: &Evaluation, recorded: Option<&ward_gate::Recorded>, format: VerifyFormat) {
    to_stdout(|w| match format {
        VerifyFormat::Json => json::evaluation(w, e, recorded),
        VerifyFormat::Text => text::evaluation(w, e, recorded),
        VerifyFormat::Sarif => sarif::evaluation(w, e),
    });
}

pub(crate) fn reason_codes(format: Format) {
    to_stdout(|w| match format {
        Format::Json => json::reason_codes(w),
        Format::Text => text::reason_codes(w),
    });
}

/// `now` (ward's clock) dates the expiry warnings.
pub(crate) fn policy_ok(policy: &ward_policy::Policy, now: jiff::Timestamp) {
    to_stdout(|w| text::policy_ok(w, policy));
    // Exceptions and allows that no longer apply, or soon will not, are worth knowing before a scan finds out.
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let warnings = policy.warnings_at(today);
    let mut err = io::stderr().lock();
    if let Err(e) = diagnostics::render(&mut err, &policy.path, &policy.source, &warnings) {
        error(&format!("cannot show the policy's warnings: {e}"));
    }
}

pub(crate) fn policy_explain(policy: &ward_policy::Policy, id: &ward_core::PackageId) {
    to_stdout(|w| text::policy_explain(w, policy, id));
}

pub(crate) fn scan_report(
    r: &ward_core::TriagedReport,
    db: &ward_scan::AdvisoryDb,
    age: Option<i64>,
    max_age: u32,
    outcome: &ScanVerdict<'_>,
    format: crate::args::ScanFormat,
) {
    use crate::args::ScanFormat;
    let stale = stale_warning(age, max_age);
    to_stdout(|w| match format {
        ScanFormat::Sarif => sarif::scan(w, r, outcome.reasons),
        ScanFormat::Json => json::scan(w, r, db, age, stale.is_some(), outcome),
        ScanFormat::Text => text::scan(w, r, outcome),
    });
    if let Some(w) = stale {
        eprintln!("{w}");
    }
}

/// A policy that does not load: every error and warning found, on stderr
/// (the caller's summary line follows).
pub(crate) fn policy_invalid(e: &ward_policy::PolicyError) {
    let mut err = std::io::stderr().lock();
    if let Err(io) = diagnostics::render(&mut err, &e.file, &e.source, &e.diagnostics) {
        // The one-line forms still say everything.
        eprintln!("{e}");
        error(&format!("cannot show the policy's diagnostics: {io}"));
    }
}

pub(crate) fn keygen_ok(private: &std::path::Path, public: &std::path::Path, fingerprint: &str) {
    println!(
        "wrote {} (private, mode 0600) and {} (public), key {fingerprint}",
        private.display(),
        public.display()
    );
}

/// `ward keygen --pkcs11`: the key is on the token, only its public half was written.
pub(crate) fn keygen_token_ok(key_uri: &str, public: &std::path::Path, fingerprint: &str) {
    println!(
        "generated {key_uri} on the token (the private key stays there), wrote {} (public), key {fingerprint}",
        public.display()
    );
}

/// `ward sign|attest`; `on_token` says, for a key on a PKCS#11 token,
/// whether the token reports it was generated there and never left it.
pub(crate) fn wrote(path: &std::path::Path, fingerprint: &str, on_token: Option<bool>) {
    let origin = match on_token {
        None => "",
        Some(true) => ", on a PKCS#11 token that generated it and never let it out",
        Some(false) => ", on a PKCS#11 token it was imported into: it existed outside the token before",
    };
    println!("wrote {} (signed by key {fingerprint}{origin})", path.display());
}

/// `ward trust update` and `ward trust log` text (already formatted lines).
pub(crate) fn trust(text: &str) {
    print!("{text}");
}

pub(crate) fn json_value(v: &serde_json::Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => error(&e.to_string()),
    }
}

/// An inclusion proof in the c2sp.org/tlog-proof form.
pub(crate) fn tlog_proof(index: u64, proof: &[ward_ledger::Hash], checkpoint: &str) {
    use base64::Engine as _;
    println!("c2sp.org/tlog-proof@v1");
    println!("index {index}");
    for h in proof {
        println!("{}", base64::engine::general_purpose::STANDARD.encode(h));
    }
    println!();
    print!("{checkpoint}");
}

pub(crate) fn ledger_verified(entries: u64, root: &ward_ledger::Hash) {
    println!(
        "ok: recomputed {entries} entries; root {} matches the signed checkpoint",
        hex_of(root)
    );
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn search_hits(hits: &[(u64, ward_ledger::record::DecisionRecord)]) {
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

pub(crate) fn event_hits(hits: &[(u64, ward_ledger::event::EventRecord)]) {
    if hits.is_empty() {
        println!("no event found");
    }
    for (i, e) in hits {
        let p = &e.predicate;
        let code = p.code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
        let summary = if p.summary.is_empty() {
            String::new()
        } else {
            format!(": {}", p.summary)
        };
        println!(
            "entry {i}: {}{code} {} at {}{summary}",
            p.kind,
            e.subject_name().unwrap_or("?"),
            p.time,
        );
    }
}

pub(crate) fn checkpoint(note: &str, vkey: &str) {
    print!("{note}");
    println!("verifier key: {vkey}");
}

pub(crate) fn exported(out: &std::path::Path, files: u64, size: u64) {
    println!(
        "wrote {files} files for {size} entries to {} (tlog-tiles layout)",
        out.display()
    );
}

pub(crate) fn listening(addr: &std::net::SocketAddr) {
    server_banner(&format!("listening on http://{addr}\n"));
}

/// A long-running server's banner on standard output. A reader that closed
/// the pipe after the first line (a supervisor, `| head -1`, a test) must not
/// end the server, so write errors are ignored here, and only here.
fn server_banner(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// What `ward init` wrote.
pub(crate) fn init_written(summary: &str) {
    println!("{summary}");
}

pub(crate) fn monitor_ok(message: &str) {
    println!("ok: {message}");
}

pub(crate) fn alert(message: &str) {
    eprintln!("{message}");
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

/// What a scan concluded: reasons with the mode each counts in.
pub(crate) struct ScanVerdict<'a> {
    pub denied: bool,
    pub reasons: &'a [(ward_policy::Mode, ward_core::Reason)],
}

/// `ward proxy` has started.
pub(crate) fn proxy_listening(base: &str) {
    server_banner(&format!(
        "ward proxy listening on {base}\n  pip:   --index-url {base}/pypi/simple/\n  npm:   --registry {base}/npm/ --replace-registry-host=always\n  cargo: [source.ward] registry = \"sparse+{base}/cargo/index/\"\n"
    ));
}

/// `ward audit`'s report in the format asked for.
pub(crate) fn audit_report(report: &ward_audit::AuditReport, format: crate::args::AuditFormat) {
    use crate::args::AuditFormat;
    to_stdout(|w| match format {
        AuditFormat::Sarif => sarif::audit(w, report),
        AuditFormat::Json => audit::json(w, report),
        AuditFormat::Text => audit::text(w, report),
    });
}

/// `ward drill` output: the report (table, JSON or HTML) or the scenario list, already formatted.
pub(crate) fn drill_text(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `ward drill run` progress, one line per scenario on standard error.
pub(crate) fn drill_progress(line: &str) {
    eprintln!("{line}");
}
