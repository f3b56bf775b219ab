//! A policy that does not load: every diagnostic the loader found, with
//! the text they point into so the CLI can show snippets.

use crate::diagnostic::Diagnostic;
use std::fmt;
use std::sync::Arc;

/// A policy file that cannot be used: at least one error, and any warnings
/// found in the same pass, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The file, as named to the loader.
    pub file: Arc<str>,
    /// Its text (empty when it could not be read).
    pub source: Arc<str>,
    /// Every error and warning, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl PolicyError {
    /// The errors (not the warnings), in file order.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The first error (the loader never returns a `PolicyError` without one).
    pub fn first(&self) -> Option<&Diagnostic> {
        self.errors().next()
    }
}

/// One line per error, `FILE:LINE:COLUMN: KEY: message [code]`.
impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for d in self.errors() {
            if !first {
                f.write_str("\n")?;
            }
            first = false;
            if d.primary().is_none() {
                write!(f, "{}: ", self.file)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyError {}

/// Where each line of a text starts, so a byte offset's line and column are
/// found by binary search instead of rescanning the text for every span (a
/// policy with 10,000 scopes asks for tens of thousands of positions).
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    /// Indexes `text` in one pass.
    pub(crate) fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            starts,
            len: text.len(),
        }
    }

    /// Line and column (1-based; the column counts bytes) of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len);
        // The number of line starts at or before `offset` is the line number.
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        (line.max(1), offset - start + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    /// The obvious quadratic definition the index replaces.
    fn slow(text: &str, offset: usize) -> (usize, usize) {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rfind('\n').map_or(before.len(), |i| before.len() - i - 1) + 1;
        (line, col)
    }

    #[test]
    fn agrees_with_rescanning_at_every_offset() {
        for text in ["", "a", "\n", "ab\ncd\n\nefg", "\n\nx\n"] {
            let index = LineIndex::new(text);
            for offset in 0..=text.len() + 2 {
                assert_eq!(index.line_col(offset), slow(text, offset), "{text:?} at {offset}");
            }
        }
    }
}
