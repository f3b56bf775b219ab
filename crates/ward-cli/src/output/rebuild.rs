//! Output of `ward rebuild compare`: each difference in a line (and a
//! unified diff for small text files) for people, the library's own types
//! serialised for tools.

use super::to_stdout;
use crate::args::Format;
use std::io::{self, Write};
use std::path::PathBuf;
use ward_rebuild::Comparison;
use ward_rebuild::compare::{Difference, FileState, Side};

fn side(s: Side) -> &'static str {
    match s {
        Side::Original => "original",
        Side::Rebuilt => "rebuilt",
    }
}

fn describe(s: &FileState) -> String {
    if s.kind == "directory" {
        "directory".into()
    } else {
        format!("{} bytes, {}", s.size, s.sha256)
    }
}

fn text(w: &mut impl Write, c: &Comparison, written: Option<&(PathBuf, String)>) -> io::Result<()> {
    let package = c.package.as_deref().unwrap_or("the artifacts");
    if c.equivalent() {
        writeln!(
            w,
            "equivalent: {package}: the rebuild matches after normalisation ({} files)",
            c.files.0
        )?;
    } else {
        writeln!(
            w,
            "divergent: {package}: {} difference(s) ({} files in the original, {} in the rebuild)",
            c.differences.len(),
            c.files.0,
            c.files.1
        )?;
    }
    for d in &c.differences {
        match d {
            Difference::Refused { side: s, code, message } => {
                writeln!(
                    w,
                    "  refused: the {} is not a package ward reads [{code}]: {message}",
                    side(*s)
                )?;
            }
            Difference::Container { original, rebuilt } => {
                writeln!(w, "  container: the original is a {original}, the rebuild a {rebuilt}")?;
            }
            Difference::Package { original, rebuilt } => {
                writeln!(w, "  package: the original is {original}, the rebuild {rebuilt}")?;
            }
            Difference::Only { side: s, path, state } => {
                writeln!(w, "  only in {}: {path} ({})", side(*s), describe(state))?;
            }
            Difference::Changed {
                path,
                original,
                rebuilt,
                diff,
            } => {
                writeln!(
                    w,
                    "  changed: {path}: original {}; rebuilt {}",
                    describe(original),
                    describe(rebuilt)
                )?;
                if let Some(diff) = diff {
                    for line in diff.lines() {
                        writeln!(w, "    {line}")?;
                    }
                }
            }
        }
    }
    if let Some((path, fingerprint)) = written {
        let what = if c.equivalent() { "equivalence" } else { "divergence" };
        writeln!(w, "wrote {what} statement {} (key {fingerprint})", path.display())?;
    }
    Ok(())
}

fn json(w: &mut impl Write, c: &Comparison, written: Option<&(PathBuf, String)>) -> io::Result<()> {
    let v = serde_json::json!({
        "schema": "https://ward.invalid/schemas/rebuild-compare/v1",
        "equivalent": c.equivalent(),
        "package": c.package,
        "files": { "original": c.files.0, "rebuilt": c.files.1 },
        "differences": c.differences,
        "statement": written.map(|(p, k)| serde_json::json!({ "path": p.display().to_string(), "key": k })),
    });
    serde_json::to_writer_pretty(&mut *w, &v).map_err(io::Error::other)?;
    writeln!(w)
}

/// `ward rebuild compare`: the comparison, and the statement written if any.
pub(crate) fn comparison(c: &Comparison, written: Option<&(PathBuf, String)>, format: Format) {
    to_stdout(|w| match format {
        Format::Text => text(w, c, written),
        Format::Json => json(w, c, written),
    });
}

/// How `ward rebuild run` made its rebuild.
pub(crate) struct RunReport<'a> {
    /// The commit built.
    pub commit: &'a str,
    /// The toolchain's versions.
    pub toolchain: &'a str,
    /// The commands that ran.
    pub steps: &'a [String],
    /// The ledger entry the result was recorded in.
    pub ledger_index: u64,
}

/// `ward rebuild run`: how it was rebuilt, then the comparison.
pub(crate) fn rebuilt(r: &RunReport<'_>, c: &Comparison, written: Option<&(PathBuf, String)>, format: Format) {
    to_stdout(|w| match format {
        Format::Text => {
            writeln!(w, "rebuilt from commit {} with {}", r.commit, r.toolchain)?;
            for step in r.steps {
                writeln!(w, "  $ {step}")?;
            }
            text(w, c, written)?;
            writeln!(w, "recorded: ledger entry {}", r.ledger_index)
        }
        Format::Json => {
            let v = serde_json::json!({
                "schema": "https://ward.invalid/schemas/rebuild-run/v1",
                "commit": r.commit,
                "toolchain": r.toolchain,
                "steps": r.steps,
                "equivalent": c.equivalent(),
                "package": c.package,
                "files": { "original": c.files.0, "rebuilt": c.files.1 },
                "differences": c.differences,
                "statement": written.map(|(p, k)| serde_json::json!({ "path": p.display().to_string(), "key": k })),
                "ledgerIndex": r.ledger_index,
            });
            serde_json::to_writer_pretty(&mut *w, &v).map_err(io::Error::other)?;
            writeln!(w)
        }
    });
}
