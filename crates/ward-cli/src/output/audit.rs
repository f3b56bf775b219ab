//! `ward audit` output: the text report (one line per finding, rpm -V
//! style, then the totals), the JSON document (docs/monitoring.md), and a
//! progress bar on standard error when it is a terminal. SARIF is in
//! `sarif.rs` with the other SARIF documents.

#![allow(clippy::print_stderr)]

use serde::Serialize;
use std::io::{self, IsTerminal as _, Write};
use ward_audit::{AuditFinding, AuditReport, EnvironmentKind};

/// The version of the JSON document `ward audit --format json` prints.
pub(crate) const AUDIT_SCHEMA: &str = "https://ward.invalid/schemas/audit/v1";

/// `clean`, `alert` or `incomplete`.
pub(crate) fn verdict(report: &AuditReport) -> &'static str {
    if report.incomplete() {
        "incomplete"
    } else if report.is_clean() {
        "clean"
    } else {
        "alert"
    }
}

#[derive(Serialize)]
struct AuditDocument<'a> {
    schema: &'static str,
    ward_version: &'static str,
    verdict: &'static str,
    #[serde(flatten)]
    report: &'a AuditReport,
}

/// `ward audit --format json`.
pub(crate) fn json(w: &mut impl Write, report: &AuditReport) -> io::Result<()> {
    super::json::pretty(
        w,
        &AuditDocument {
            schema: AUDIT_SCHEMA,
            ward_version: env!("CARGO_PKG_VERSION"),
            verdict: verdict(report),
            report,
        },
    )
}

fn finding_line(w: &mut impl Write, f: &AuditFinding) -> io::Result<()> {
    write!(w, "{:<16} {}", f.kind.code(), f.package)?;
    if let Some(file) = &f.file {
        write!(w, "  {file}")?;
    }
    writeln!(w)?;
    writeln!(w, "{:16} {}", "", f.detail)?;
    if f.expected.is_some() || f.found.is_some() {
        let show = |s: &Option<ward_audit::FileState>| s.as_ref().map_or("-".to_string(), ToString::to_string);
        writeln!(w, "{:16} expected {}, found {}", "", show(&f.expected), show(&f.found))?;
    }
    if let Some(due) = f.due {
        writeln!(w, "{:16} due {due}", "")?;
    }
    Ok(())
}

/// `ward audit` (text): each finding, then one summary line.
pub(crate) fn text(w: &mut impl Write, report: &AuditReport) -> io::Result<()> {
    for env in &report.environments {
        let kind = match env.kind {
            EnvironmentKind::Python => "Python site directory",
            EnvironmentKind::Npm => "node_modules",
            EnvironmentKind::CargoVendor => "cargo vendor directory",
            EnvironmentKind::CargoHome => "cargo home",
            _ => "environment",
        };
        writeln!(w, "audited {} ({kind})", env.path.display())?;
    }
    for f in &report.findings {
        finding_line(w, f)?;
    }
    let s = &report.stats;
    write!(
        w,
        "{} packages, {} files checked, {} hashed ({} bytes): ",
        s.packages, s.files, s.hashed_files, s.hashed_bytes
    )?;
    match verdict(report) {
        "clean" => writeln!(w, "clean"),
        v => writeln!(
            w,
            "{} findings{} ({v})",
            report.findings.len() as u64 + s.findings_omitted,
            if s.findings_omitted > 0 {
                format!(", {} of them counted but not listed", s.findings_omitted)
            } else {
                String::new()
            }
        ),
    }
}

/// A progress bar over packages, drawn on standard error when it is a
/// terminal (nothing otherwise).
pub(crate) struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    pub(crate) fn new() -> Self {
        if !io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} auditing {pos}/{len} packages, {msg} [{elapsed_precise}]",
        ) {
            bar.set_style(style);
        }
        Self(Some(bar))
    }

    pub(crate) fn done(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl ward_audit::Progress for Bar {
    fn found(&self, packages: u64) {
        if let Some(b) = &self.0 {
            b.set_length(packages);
        }
    }

    fn checked(&self, files: u64, bytes: u64) {
        if let Some(b) = &self.0 {
            b.inc(1);
            let _ = (files, bytes);
        }
    }
}
