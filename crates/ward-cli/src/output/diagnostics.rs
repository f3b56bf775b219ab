//! Policy diagnostics shown like a compiler's: the code, the message, the
//! source line with a caret under the key, and notes. Rendered by
//! `codespan-reporting` (the renderer cargo-deny uses) into any
//! `impl Write`, without colour so the text is the same on a terminal, in
//! a pipe and in CI logs.

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};
use std::io::{self, Write};
use ward_policy::Level;

/// Writes each diagnostic about `file` (whose text is `source`), then a
/// blank line after each, as codespan-reporting lays them out.
pub(crate) fn render(
    w: &mut impl Write,
    file: &str,
    source: &str,
    diagnostics: &[ward_policy::Diagnostic],
) -> io::Result<()> {
    let mut files = SimpleFiles::new();
    let id = files.add(file, source);
    let config = Config::default();
    for d in diagnostics {
        let severity = match d.severity {
            Level::Warning => Severity::Warning,
            _ => Severity::Error,
        };
        let labels = d
            .labels
            .iter()
            .enumerate()
            // A span past the text (never made by the loader) would fail the
            // whole rendering; it is clamped instead.
            .map(|(i, l)| {
                let end = l.span.end.min(source.len());
                let start = l.span.start.min(end);
                let label = if i == 0 {
                    Label::primary(id, start..end)
                } else {
                    Label::secondary(id, start..end)
                };
                label.with_message(l.message.clone())
            })
            .collect();
        let diagnostic = Diagnostic::new(severity)
            .with_code(d.code.as_str())
            .with_message(d.message.clone())
            .with_labels(labels)
            .with_notes(d.notes.clone());
        term::emit_to_io_write(w, &config, &files, &diagnostic).map_err(io::Error::other)?;
    }
    Ok(())
}

/// "1 error", "3 errors".
pub(crate) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
