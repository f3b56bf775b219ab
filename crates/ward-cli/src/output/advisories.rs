//! What `ward advisories import|status|update` print, the stale-data
//! warning every command that scans prints, and the download progress bar
//! (`indicatif`, drawn only when standard error is a terminal).

use std::io::IsTerminal as _;
use ward_scan::{AdvisoryDb, SourceInfo};

/// Whole days in a duration (rounded down).
fn days(d: jiff::SignedDuration) -> i64 {
    d.as_secs() / 86_400
}

/// One line about a source as imported.
fn source_line(s: &SourceInfo) -> String {
    let r = &s.report;
    format!(
        "source {}: {} advisories ({} malicious) from {} records ({} merged by alias, {} withdrawn, {} in other ecosystems, {} rejected)",
        s.name,
        s.advisories,
        s.malicious,
        r.records,
        r.merged,
        r.withdrawn,
        r.unsupported,
        r.rejected()
    )
}

/// Where a source came from, what each path gave, its malicious and
/// suspect records.
fn details(s: &SourceInfo) {
    let r = &s.report;
    println!("  origin {} ({})", s.origin, s.digest);
    for (path, n) in &r.sources {
        println!("  read {path}: {n} records");
    }
    println!(
        "  {} malicious-package records ({} suspect)",
        s.malicious,
        r.suspect.len()
    );
    for (id, why) in &r.suspect {
        println!("  suspect {id}: {why}");
    }
}

/// The malformed records of an import, on stderr (the first 20).
fn rejected(s: &SourceInfo) {
    let r = &s.report;
    if !r.malformed.is_empty() {
        eprintln!("warning: {}: {} malformed records skipped:", s.name, r.malformed.len());
        for (file, why) in r.malformed.iter().take(20) {
            eprintln!("  {file}: {why}");
        }
        if r.malformed.len() > 20 {
            eprintln!("  … and {} more", r.malformed.len() - 20);
        }
    }
}

/// `ward advisories import`: each source imported, then the database.
pub(crate) fn imported(db: &AdvisoryDb, names: &[String], dir: &std::path::Path, took: std::time::Duration) {
    for s in db.sources().iter().filter(|s| names.contains(&s.name)) {
        println!("{}", source_line(s));
        details(s);
        rejected(s);
    }
    println!(
        "imported into {} in {:.2} s: {} advisories from {} sources ({})",
        dir.display(),
        took.as_secs_f64(),
        db.len(),
        db.sources().len(),
        db.sources()
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// `ward advisories status`.
pub(crate) fn status(db: &AdvisoryDb, now: jiff::Timestamp, max_age: jiff::SignedDuration) {
    println!(
        "{} advisories ({} malicious) from {} sources, built {}",
        db.len(),
        db.report().malicious,
        db.sources().len(),
        db.built_at()
    );
    for s in db.sources() {
        let age = s
            .age_at(now)
            .map_or("unknown".to_string(), |a| format!("{} days", days(a)));
        println!("{}", source_line(s));
        println!(
            "  imported {}, newest record modified {}, last confirmed current {}, age {age}",
            s.imported_at,
            s.newest_modified.as_deref().unwrap_or("unknown"),
            s.checked_at.as_deref().unwrap_or("never (imported by hand)")
        );
        details(s);
        if let Some(e) = &s.ecosystem {
            println!("  restricted to {e}");
        }
    }
    for (eco, s) in db.stats() {
        println!(
            "  {eco:<8} {:>6} advisories, newest modified {}",
            s.advisories,
            s.newest_modified.as_deref().unwrap_or("unknown")
        );
    }
    stale(db, now, max_age);
}

/// The warning, on stderr, for each source older than `max_age` (or of
/// unknown age). Printed by every command that scans.
pub(crate) fn stale(db: &AdvisoryDb, now: jiff::Timestamp, max_age: jiff::SignedDuration) {
    for (s, age) in db.stale_sources(now, max_age) {
        match age {
            Some(a) => eprintln!(
                "warning: the advisory data of source {} is {} days old (more than {}): run `ward advisories update` or re-import it",
                s.name,
                days(a),
                days(max_age)
            ),
            None => eprintln!(
                "warning: the advisory data of source {} has no dates; its freshness is unknown",
                s.name
            ),
        }
    }
}

/// `ward advisories update`: a source the server says is unchanged.
pub(crate) fn update_unchanged(name: &str, why: &str) {
    println!("{name}: unchanged ({why})");
}

/// `ward advisories update`: a source fetched and checked.
pub(crate) fn update_fetched(s: &SourceInfo, bytes: u64) {
    println!("{name}: fetched {bytes} bytes; {}", source_line(s), name = s.name);
    details(s);
    rejected(s);
}

/// `ward advisories update`: a source that failed; its old data stays.
pub(crate) fn update_failed(name: &str, why: &str) {
    eprintln!("error: {name}: {why}; its data in the database is unchanged");
}

/// `ward advisories update`: the swap.
pub(crate) fn update_done(db: &AdvisoryDb, dir: &std::path::Path, changed: usize) {
    println!(
        "{} in {}: {} advisories from {} sources",
        if changed > 0 { "updated" } else { "checked" },
        dir.display(),
        db.len(),
        db.sources().len()
    );
}

/// A download's progress: a bar on a terminal, nothing otherwise.
pub(crate) struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// Progress of downloading source `name`.
    pub(crate) fn download(name: &str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} {msg} {bytes} ({binary_bytes_per_sec}, {elapsed})")
        {
            bar.set_style(style);
        }
        bar.set_message(name.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Self(Some(bar))
    }

    /// `n` more bytes arrived.
    pub(crate) fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
