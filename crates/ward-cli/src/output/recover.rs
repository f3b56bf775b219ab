//! Output of `ward snapshot`, `ward rollback` and `ward playbook`: text
//! for people, JSON (the library's own types, serialised) for tools.

use super::{error, to_stdout};
use crate::args::Format;
use std::io::Write;
use std::path::{Path, PathBuf};
use ward_recover::apply::Applied;
use ward_recover::plan::{Action, Plan};
use ward_recover::playbook::Report;
use ward_recover::snapshot::{SignedBy, Snapshot};

/// A stored snapshot as listed: read (with the verdict of its check), or not.
pub(crate) enum SnapshotRow {
    /// Read; `Some(why)` when its signature or anchor does not check out.
    Read(Box<Snapshot>, Option<String>),
    /// Its file does not read.
    Unreadable(PathBuf, String),
}

fn json(w: &mut impl Write, v: &serde_json::Value) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, v).map_err(std::io::Error::other)?;
    writeln!(w)
}

fn signer(s: &Snapshot) -> String {
    match &s.signed_by {
        SignedBy::Ledger { .. } => "the ledger's key".into(),
        SignedBy::Key { fingerprint, .. } => format!("key {fingerprint}"),
    }
}

fn snapshot_json(s: &Snapshot, problem: Option<&str>) -> serde_json::Value {
    let body = s.body.as_ref();
    serde_json::json!({
        "name": body.map(|b| b.name.clone()),
        "created": body.map(|b| b.created.to_string()),
        "from": body.map(|b| b.from.clone()),
        "ledger": body.map(|b| &b.ledger),
        "signedBy": s.signed_by,
        "anchor": s.anchor,
        "verified": problem.is_none(),
        "problem": problem,
        "members": body.map(|b| &b.members),
    })
}

pub(crate) fn snapshot_created(s: &Snapshot, path: &Path, format: Format) {
    to_stdout(|w| match format {
        Format::Json => {
            let mut v = snapshot_json(s, None);
            v["file"] = serde_json::json!(path.display().to_string());
            json(w, &v)
        }
        Format::Text => {
            let (name, n, from) = s
                .body
                .as_ref()
                .map(|b| (b.name.as_str(), b.members.len(), b.from.as_str()))
                .unwrap_or_default();
            writeln!(
                w,
                "snapshot {name}: {n} packages from {from}, signed by {}, anchored at ledger entry {}",
                signer(s),
                s.anchor.map(|a| a.to_string()).unwrap_or_else(|| "-".into())
            )?;
            writeln!(w, "stored in {}", path.display())
        }
    });
}

pub(crate) fn snapshot_list(rows: &[SnapshotRow], format: Format) {
    to_stdout(|w| match format {
        Format::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| match r {
                    SnapshotRow::Read(s, problem) => {
                        let mut v = snapshot_json(s, problem.as_deref());
                        if let Some(o) = v.as_object_mut() {
                            o.remove("members");
                            o.insert(
                                "packages".into(),
                                serde_json::json!(s.body.as_ref().map(|b| b.members.len())),
                            );
                        }
                        v
                    }
                    SnapshotRow::Unreadable(path, e) => {
                        serde_json::json!({"file": path.display().to_string(), "verified": false, "problem": e})
                    }
                })
                .collect();
            json(w, &serde_json::Value::Array(v))
        }
        Format::Text => {
            if rows.is_empty() {
                writeln!(w, "no snapshots (ward snapshot create NAME --from PATH takes one)")?;
            }
            for r in rows {
                match r {
                    SnapshotRow::Read(s, problem) => {
                        if let Some(b) = &s.body {
                            let state = problem
                                .as_deref()
                                .map(|p| format!("INVALID: {p}"))
                                .unwrap_or_else(|| "verified".into());
                            writeln!(
                                w,
                                "{}  {}  {} packages  from {}  ({state})",
                                b.name,
                                b.created,
                                b.members.len(),
                                b.from
                            )?;
                        }
                    }
                    SnapshotRow::Unreadable(path, e) => writeln!(w, "{}  UNREADABLE: {e}", path.display())?,
                }
            }
            Ok(())
        }
    });
}

pub(crate) fn snapshot_show(s: &Snapshot, problem: Option<&str>, format: Format) {
    to_stdout(|w| match format {
        Format::Json => json(w, &snapshot_json(s, problem)),
        Format::Text => {
            let Some(b) = &s.body else { return Ok(()) };
            writeln!(w, "snapshot {}, taken {} from {}", b.name, b.created, b.from)?;
            writeln!(
                w,
                "signed by {}; anchored at ledger entry {}",
                signer(s),
                s.anchor.map(|a| a.to_string()).unwrap_or_else(|| "-".into())
            )?;
            match problem {
                None => writeln!(w, "signature and anchor: verified")?,
                Some(p) => writeln!(w, "INVALID: {p}")?,
            }
            for m in &b.members {
                writeln!(w, "  {}  sha256:{}  allowed at entry {}", m.purl, m.sha256, m.allow)?;
            }
            Ok(())
        }
    });
    if let Some(p) = problem {
        error(p);
    }
}

fn action(a: Action) -> &'static str {
    match a {
        Action::Install => "install",
        Action::Remove => "remove",
        Action::Replace => "replace",
        Action::Keep => "keep",
    }
}

pub(crate) fn plan(p: &Plan, written: &[PathBuf], format: Format) {
    to_stdout(|w| match format {
        Format::Json => {
            let mut v = serde_json::to_value(p).map_err(std::io::Error::other)?;
            v["lockfiles"] = serde_json::json!(written.iter().map(|x| x.display().to_string()).collect::<Vec<_>>());
            json(w, &v)
        }
        Format::Text => {
            writeln!(
                w,
                "roll back to snapshot {} (taken {}, {} packages)",
                p.snapshot,
                p.created,
                p.members.len()
            )?;
            for s in &p.skipped {
                writeln!(w, "  passed over {}: {}", s.snapshot, s.message)?;
            }
            for c in &p.changes {
                let (from, to) = (c.from.as_deref().unwrap_or("-"), c.to.as_deref().unwrap_or("-"));
                writeln!(w, "  {:<8} {}  {from} -> {to}", action(c.action), c.package)?;
            }
            if p.changes.is_empty() {
                for m in &p.members {
                    writeln!(w, "  {}  sha256:{}", m.purl, m.sha256)?;
                }
            } else if p.is_noop() {
                writeln!(w, "what is installed is already this set")?;
            }
            for path in written {
                writeln!(w, "wrote {}", path.display())?;
            }
            Ok(())
        }
    });
}

pub(crate) fn applied(a: &Applied, format: Format) {
    to_stdout(|w| match format {
        Format::Json => json(w, &serde_json::to_value(a).map_err(std::io::Error::other)?),
        Format::Text => {
            writeln!(
                w,
                "rolled {} back to snapshot {} ({} packages); installed now equals the plan",
                a.environment, a.snapshot, a.members
            )?;
            for c in a.changes.iter().filter(|c| c.action != Action::Keep) {
                let (from, to) = (c.from.as_deref().unwrap_or("-"), c.to.as_deref().unwrap_or("-"));
                writeln!(w, "  {:<8} {}  {from} -> {to}", action(c.action), c.package)?;
            }
            for l in &a.lockfiles {
                writeln!(w, "lockfile: {l}")?;
            }
            if let Some(i) = a.ledger_index {
                writeln!(w, "recorded at ledger entry {i}")?;
            }
            Ok(())
        }
    });
}

pub(crate) fn playbook_report(r: &Report, index: u64, format: Format) {
    to_stdout(|w| match format {
        Format::Json => {
            let mut v = serde_json::to_value(r).map_err(std::io::Error::other)?;
            v["ledgerIndex"] = serde_json::json!(index);
            json(w, &v)
        }
        Format::Text => {
            writeln!(w, "playbook {} on {}", r.playbook, r.environment)?;
            for s in &r.steps {
                let mark = if s.ok { "ok  " } else { "FAIL" };
                writeln!(w, "  {mark} {:<12} {:>7} ms", s.step, s.millis)?;
                if !s.ok {
                    for line in s.detail.lines() {
                        writeln!(w, "       {line}")?;
                    }
                }
            }
            writeln!(
                w,
                "{} (report: ledger entry {index})",
                if r.passed { "passed" } else { "FAILED" }
            )
        }
    });
}
