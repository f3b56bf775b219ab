//! Where an entry lands when the installer unpacks it, and names that
//! collide there.
//!
//! npm (node-tar with `strip: 1`) drops the first component of every entry,
//! whatever it is, so `./package.json` and `x/package.json` both become the
//! package's `package.json`; cargo refuses entries outside
//! `<name>-<version>/`; pip drops a leading directory all entries share. So
//! every tar entry must sit under one first component (for a crate, the
//! file's own stem), and no two entries may land on the same path, compared
//! after Unicode NFC normalisation and case folding, because macOS and
//! Windows file systems treat those as one file.

use crate::error::ArchiveError;
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

/// The key two names collide on: NFC, lower-cased, NFC again.
fn fold(parts: &[&str]) -> String {
    let nfc: String = parts.join("/").nfc().collect();
    nfc.to_lowercase().nfc().collect()
}

/// Every entry name seen so far, by collision key.
#[derive(Default)]
pub(crate) struct Seen {
    names: HashMap<String, (String, bool)>,
}

impl Seen {
    /// Records an entry; refuses a second file (or a file and a directory)
    /// at the same place. Directories may be listed twice.
    pub(crate) fn add(&mut self, parts: &[&str], name: &str, is_dir: bool) -> Result<(), ArchiveError> {
        if parts.is_empty() {
            return Ok(());
        }
        let key = fold(parts);
        match self.names.get(&key) {
            Some((_, true)) if is_dir => Ok(()),
            Some((first, _)) => Err(ArchiveError::Ambiguous(if first == name {
                format!("entry {name:?} appears twice; installers disagree on which copy wins")
            } else {
                format!(
                    "entries {first:?} and {name:?} are the same file on case-insensitive or normalising file systems"
                )
            })),
            None => {
                self.names.insert(key, (name.to_string(), is_dir));
                Ok(())
            }
        }
    }
}

/// How a tar archive's entries map onto the installed package.
pub(crate) enum Root<'a> {
    /// npm and sdists: one shared first component, stripped.
    Shared,
    /// A crate: every entry under exactly this directory (cargo's rule).
    Crate(&'a str),
}

/// Checks the first component of each tar entry against the layout.
#[derive(Default)]
pub(crate) struct TopDir {
    first: Option<String>,
}

impl TopDir {
    /// `raw` is the entry name as stored, `parts` its normalised components.
    pub(crate) fn check(&mut self, root: &Root<'_>, raw: &str, parts: &[&str]) -> Result<(), ArchiveError> {
        if raw.contains('\\') {
            return Err(ArchiveError::Ambiguous(format!(
                "entry {raw:?} has a backslash, a separator on Windows and a plain character elsewhere"
            )));
        }
        // The component node-tar strips is the raw one: `./package.json` strips `.`.
        let top = raw.split('/').next().unwrap_or_default();
        if top == "." || top.is_empty() || parts.first() != Some(&top) {
            return Err(ArchiveError::Ambiguous(format!(
                "entry {raw:?} starts with {top:?}; npm strips it, other tools keep it"
            )));
        }
        if let Root::Crate(stem) = root
            && top != *stem
        {
            return Err(ArchiveError::Malformed(format!(
                "entry {raw:?} is outside {stem}/; cargo refuses such a crate"
            )));
        }
        match &self.first {
            None => {
                self.first = Some(top.to_string());
                Ok(())
            }
            Some(first) if first == top => Ok(()),
            Some(first) => Err(ArchiveError::Ambiguous(format!(
                "entries under both {first}/ and {top}/; npm strips the first component of each, so both land in the package root"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_normalisation_collide() {
        let mut seen = Seen::default();
        seen.add(&["package", "package.json"], "package/package.json", false)
            .unwrap();
        assert!(
            seen.add(&["package", "PACKAGE.JSON"], "package/PACKAGE.JSON", false)
                .is_err()
        );
        seen.add(&["package", "caf\u{e9}.js"], "a", false).unwrap();
        assert!(seen.add(&["package", "cafe\u{301}.js"], "b", false).is_err());
        seen.add(&["package", "lib"], "package/lib/", true).unwrap();
        seen.add(&["package", "lib"], "package/lib/", true).unwrap();
        assert!(seen.add(&["package", "LIB"], "package/LIB", false).is_err());
    }
}
