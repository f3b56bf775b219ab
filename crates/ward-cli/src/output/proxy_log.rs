//! The proxy's decision log and `ward run`'s closing summary, on standard
//! error: one line per event, as text or as JSON lines.

#![allow(clippy::print_stderr)]

use crate::args::LogFormat;
use ward_registry::{ArtifactEvent, Event, Outcome};

fn millis(d: std::time::Duration) -> u128 {
    d.as_millis()
}

fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn client(c: Option<std::net::SocketAddr>) -> String {
    c.map(|c| c.to_string()).unwrap_or_else(|| "-".into())
}

/// One event as a text line.
pub(crate) fn text(event: &Event, time: &str) -> String {
    match event {
        Event::Artifact(a) => artifact_text(a, time),
        Event::Metadata {
            client: c,
            what,
            status,
            reason,
        } => format!("ward: {time} {} metadata {what} {status}: {reason}", client(*c)),
        Event::EvidenceAbsent { source, reason } => {
            format!("ward: {time} evidence absent (optional, not found or unreadable): {source}: {reason}")
        }
        _ => format!("ward: {time} {event:?}"),
    }
}

fn artifact_text(a: &ArtifactEvent, time: &str) -> String {
    let prefix = match a.outcome {
        Outcome::Warn => "ward: warning:",
        _ => "ward:",
    };
    let codes = if a.codes.is_empty() {
        "-".to_string()
    } else {
        a.codes.join(",")
    };
    let mut line = format!(
        "{prefix} {time} {} {} {} {} codes={codes} ledger={} total={}ms upstream={}ms cache={}",
        client(a.client),
        a.outcome.as_str(),
        a.purl.as_deref().unwrap_or("-"),
        a.file,
        a.ledger_index.map(|i| i.to_string()).unwrap_or_else(|| "-".into()),
        millis(a.total),
        millis(a.upstream),
        if a.cache_hit { "hit" } else { "miss" },
    );
    if let Some(r) = &a.reason {
        line.push_str(&format!(" reason={r:?}"));
    }
    line
}

/// One event as a JSON object.
pub(crate) fn json(event: &Event, time: &str) -> serde_json::Value {
    match event {
        Event::Artifact(a) => serde_json::json!({
            "time": time,
            "event": "artifact",
            "client": a.client.map(|c| c.to_string()),
            "purl": a.purl,
            "file": a.file,
            "verdict": a.outcome.as_str(),
            "codes": a.codes,
            "reason": a.reason,
            "ledger_index": a.ledger_index,
            "total_ms": millis(a.total),
            "upstream_ms": millis(a.upstream),
            "cache_hit": a.cache_hit,
        }),
        Event::Metadata {
            client: c,
            what,
            status,
            reason,
        } => serde_json::json!({
            "time": time, "event": "metadata", "client": c.map(|c| c.to_string()),
            "what": what, "status": status, "reason": reason,
        }),
        Event::EvidenceAbsent { source, reason } => serde_json::json!({
            "time": time, "event": "evidence-absent", "source": source, "reason": reason,
        }),
        _ => serde_json::json!({"time": time, "event": format!("{event:?}")}),
    }
}

/// Prints one event. The decision log is for operators; the ledger is the
/// record. A closed or full standard error must not take the proxy down with
/// it (`eprintln!` would panic on a broken pipe), so write errors are ignored.
pub(crate) fn event(event: &Event, format: LogFormat) {
    use std::io::Write as _;
    let time = now();
    let line = match format {
        LogFormat::Text => text(event, &time),
        LogFormat::Json => json(event, &time).to_string(),
    };
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// `ward run`'s summary after the command ended.
pub(crate) fn run_summary(allowed: usize, warned: usize, refused: usize, failed: usize, lines: &[String]) {
    eprintln!("ward: {allowed} allowed, {warned} warned, {refused} refused, {failed} failed");
    for line in lines {
        eprintln!("{line}");
    }
}

/// A note from `ward run` (a cleared variable, a port fallback).
pub(crate) fn run_note(message: &str) {
    eprintln!("ward: {message}");
}
