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

/// Owner rules, every pattern compiled once (when the rules are built),
/// not again for each finding.
#[derive(Debug, Default)]
pub struct Owners {
    /// The `[owners]` table, in its (sorted) key order.
    table: Vec<TableRule>,
    codeowners: Option<(PathBuf, Vec<Rule>)>,
}

/// One `[owners]` entry: its pattern, how it matches, and its owners.
#[derive(Debug)]
struct TableRule {
    pattern: String,
    matcher: TableMatcher,
    owners: Vec<String>,
}

/// How an `[owners]` pattern matches.
#[derive(Debug)]
enum TableMatcher {
    /// `pkg:…`: a glob over the purl.
    Purl,
    /// A CODEOWNERS pattern over the location, compiled for the rules'
    /// root (`None`: it does not compile, and matches nothing).
    Path(Option<Gitignore>),
}

#[cfg(test)]
thread_local! {
    /// Patterns compiled on this thread (tests count them).
    static COMPILED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A CODEOWNERS pattern as a gitignore matcher rooted at `root`.
fn compile(root: &Path, pattern: &str) -> Result<Gitignore, ignore::Error> {
    #[cfg(test)]
    COMPILED.with(|c| c.set(c.get() + 1));
    let mut b = GitignoreBuilder::new(root);
    b.add_line(None, pattern)?;
    b.build()
}

/// The `[owners]` table compiled for `root`.
fn compile_table(table: impl IntoIterator<Item = (String, Vec<String>)>, root: &Path) -> Vec<TableRule> {
    table
        .into_iter()
        .map(|(pattern, owners)| TableRule {
            matcher: if pattern.starts_with("pkg:") {
                TableMatcher::Purl
            } else {
                TableMatcher::Path(compile(root, &pattern).ok())
            },
            pattern,
            owners,
        })
        .collect()
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
            table: compile_table(table, Path::new("")),
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
            #[cfg(test)]
            COMPILED.with(|c| c.set(c.get() + 1));
            let matcher = b
                .build()
                .map_err(|e| AlertError::Config(format!("{}:{}: {e}", file.display(), n + 1)))?;
            rules.push((matcher, owners));
        }
        // The table's path patterns are matched under the same root.
        let table = std::mem::take(&mut self.table);
        self.table = compile_table(table.into_iter().map(|r| (r.pattern, r.owners)), root);
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
        let root = self.codeowners.as_ref().map_or(Path::new(""), |(r, _)| r.as_path());
        let rel = under(root, location);
        let best = self
            .table
            .iter()
            .filter(|rule| match &rule.matcher {
                TableMatcher::Purl => glob_match(&rule.pattern, purl),
                TableMatcher::Path(m) => m
                    .as_ref()
                    .zip(rel)
                    .is_some_and(|(m, rel)| m.matched_path_or_any_parents(rel, false).is_ignore()),
            })
            .max_by_key(|rule| rule.pattern.len());
        if let Some(rule) = best {
            return rule.owners.clone();
        }
        let Some((_, rules)) = &self.codeowners else {
            return Vec::new();
        };
        let Some(rel) = rel else {
            return Vec::new();
        };
        rules
            .iter()
            .rev()
            .find(|(m, _)| m.matched_path_or_any_parents(rel, false).is_ignore())
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
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

    /// Each pattern is compiled once when the rules are built (and once
    /// more when a CODEOWNERS file moves the table's root), never per
    /// finding: a thousand findings compile nothing more.
    #[test]
    fn patterns_are_compiled_once_not_per_finding() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("CODEOWNERS");
        std::fs::write(&file, "* @everyone\n/services/api/ @api-team\n").unwrap();
        let table = BTreeMap::from([
            ("pkg:npm/*".to_string(), vec!["@web".to_string()]),
            ("services/".to_string(), vec!["@services".to_string()]),
            ("*.lock".to_string(), vec!["@locks".to_string()]),
        ]);
        let count = || COMPILED.with(std::cell::Cell::get);
        let start = count();
        let o = Owners::from_table(table).with_codeowners(&file, dir.path()).unwrap();
        let built = count() - start;
        // Two table paths, twice (root moved), and two CODEOWNERS lines.
        assert_eq!(built, 6);
        for i in 0..1000 {
            let location = format!("services/api/{i}/Cargo.lock");
            assert_eq!(o.owners_for("pkg:cargo/a@1", &location), ["@services"]);
            assert_eq!(o.owners_for("pkg:npm/a@1", "x"), ["@web"]);
            assert_eq!(o.owners_for("pkg:pypi/a@1", "other"), ["@everyone"]);
        }
        assert_eq!(count() - start, built);
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
