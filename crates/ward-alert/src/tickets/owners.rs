//! Who owns a finding: the `[owners]` table first, then a `CODEOWNERS`
//! file.
//!
//! `[owners]` keys starting `pkg:` match the package's purl (`*` matches
//! any run of characters); other keys are CODEOWNERS patterns matched
//! against where the finding was found. When several keys match, the
//! longest (most specific) wins.
//!
//! `CODEOWNERS` follows GitHub's rules: one pattern and its owners a line,
//! `#` comments, the last matching line wins. Its patterns are gitignore
//! patterns, matched here by the `ignore` crate's gitignore engine (the one
//! ripgrep uses) rather than by hand; paths are taken relative to the
//! directory that holds the `.github/`, `docs/` or top-level `CODEOWNERS`.

use crate::AlertError;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The largest CODEOWNERS file read.
const MAX_BYTES: u64 = 4 << 20;

/// One CODEOWNERS line: its pattern, compiled, and its owners.
type Rule = (Gitignore, Vec<String>);

/// Owner rules.
#[derive(Debug, Default)]
pub struct Owners {
    table: BTreeMap<String, Vec<String>>,
    codeowners: Option<(PathBuf, Vec<Rule>)>,
}

/// `*` as "any run of characters"; everything else literal.
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

impl Owners {
    /// Owners from the `[owners]` table alone.
    pub fn from_table(table: BTreeMap<String, Vec<String>>) -> Self {
        Self {
            table,
            codeowners: None,
        }
    }

    /// Adds a `CODEOWNERS` file; paths are matched relative to `root`.
    pub fn with_codeowners(mut self, file: &Path, root: &Path) -> Result<Self, AlertError> {
        let text = ward_input::read_string_bounded(file, "CODEOWNERS", MAX_BYTES)
            .map_err(|e| AlertError::Config(e.to_string()))?;
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split_once(" #").map_or(line, |(l, _)| l).trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let Some(pattern) = words.next() else { continue };
            let owners: Vec<String> = words.map(str::to_string).collect();
            let mut b = GitignoreBuilder::new(root);
            b.add_line(None, pattern)
                .map_err(|e| AlertError::Config(format!("{}:{}: pattern {pattern:?}: {e}", file.display(), n + 1)))?;
            let matcher = b
                .build()
                .map_err(|e| AlertError::Config(format!("{}:{}: {e}", file.display(), n + 1)))?;
            rules.push((matcher, owners));
        }
        self.codeowners = Some((root.to_path_buf(), rules));
        Ok(self)
    }

    /// Finds `CODEOWNERS` where GitHub looks for it (`.github/`, the root,
    /// `docs/`) under `root`.
    pub fn find_codeowners(root: &Path) -> Option<PathBuf> {
        [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]
            .iter()
            .map(|p| root.join(p))
            .find(|p| p.is_file())
    }

    /// The owners of a finding in `purl` found at `location`.
    pub fn owners_for(&self, purl: &str, location: &str) -> Vec<String> {
        let best = self
            .table
            .iter()
            .filter(|(pattern, _)| match pattern.strip_prefix("pkg:") {
                Some(_) => glob_match(pattern, purl),
                None => self.path_matches(pattern, location),
            })
            .max_by_key(|(pattern, _)| pattern.len());
        if let Some((_, owners)) = best {
            return owners.clone();
        }
        let Some((root, rules)) = &self.codeowners else {
            return Vec::new();
        };
        let Some(rel) = under(root, location) else {
            return Vec::new();
        };
        rules
            .iter()
            .rev()
            .find(|(m, _)| m.matched_path_or_any_parents(rel, false).is_ignore())
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
    }

    fn path_matches(&self, pattern: &str, location: &str) -> bool {
        let root = self.codeowners.as_ref().map_or(Path::new(""), |(r, _)| r.as_path());
        let mut b = GitignoreBuilder::new(root);
        if b.add_line(None, pattern).is_err() {
            return false;
        }
        let Ok(m) = b.build() else { return false };
        under(root, location).is_some_and(|rel| m.matched_path_or_any_parents(rel, false).is_ignore())
    }
}

/// `location` relative to `root`; `None` for an absolute path elsewhere
/// (the matcher only takes paths under its root, and panics on others).
fn under<'a>(root: &Path, location: &'a str) -> Option<&'a Path> {
    let path = Path::new(location);
    match path.strip_prefix(root) {
        Ok(rel) => Some(rel),
        Err(_) if path.has_root() => None,
        Err(_) => Some(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_wins_then_the_last_codeowners_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("CODEOWNERS");
        std::fs::write(
            &file,
            "# owners\n* @everyone\n/services/api/ @api-team # the API\n*.lock @rust-team\n",
        )
        .unwrap();
        let table = BTreeMap::from([
            ("pkg:npm/*".to_string(), vec!["@web".to_string()]),
            ("pkg:npm/left-pad*".to_string(), vec!["@pad".to_string()]),
        ]);
        let o = Owners::from_table(table).with_codeowners(&file, dir.path()).unwrap();
        assert_eq!(o.owners_for("pkg:npm/left-pad@1.0.0", "x"), ["@pad"]);
        assert_eq!(o.owners_for("pkg:npm/react@18.0.0", "x"), ["@web"]);
        let api = dir.path().join("services/api/requirements.txt");
        assert_eq!(o.owners_for("pkg:pypi/a@1", &api.display().to_string()), ["@api-team"]);
        assert_eq!(o.owners_for("pkg:cargo/a@1", "Cargo.lock"), ["@rust-team"]);
        assert_eq!(o.owners_for("pkg:pypi/a@1", "other/requirements.txt"), ["@everyone"]);
        assert!(Owners::default().owners_for("pkg:pypi/a@1", "x").is_empty());
    }

    #[test]
    fn a_location_outside_the_root_has_no_path_owner_and_no_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("CODEOWNERS");
        std::fs::write(
            &file,
            "* @everyone
",
        )
        .unwrap();
        let table = BTreeMap::from([("/opt/".to_string(), vec!["@ops".to_string()])]);
        let o = Owners::from_table(table).with_codeowners(&file, dir.path()).unwrap();
        assert!(o.owners_for("pkg:pypi/a@1", "/opt/venv/lib/site-packages").is_empty());
    }
}
