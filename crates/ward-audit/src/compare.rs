//! One package's files against what was expected of them, rpm -V style:
//! each expected file is looked at (never through a link), its size
//! compared before anything is read, then its digest; the package's
//! directories are walked as a stream for files nothing expected. Findings
//! are capped per kind ([`Findings`]), the rest counted.

use crate::fsio::{self, ReadProblem};
use crate::model::{AlertKind, AuditFinding, FileState};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use ward_core::PackageId;

/// What a file was recorded or allowed as.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Expected {
    /// SHA-256, lower-case hex (`None`: no digest recorded).
    pub(crate) sha256: Option<String>,
    /// Size in bytes, when recorded.
    pub(crate) size: Option<u64>,
    /// Where the expectation comes from (`RECORD`, `the allowed wheel`, …).
    pub(crate) source: &'static str,
}

impl Expected {
    fn state(&self) -> FileState {
        FileState::file(self.sha256.clone(), self.size)
    }
}

/// The findings of one package, capped per kind.
pub(crate) struct Findings {
    pub(crate) package: PackageId,
    pub(crate) location: PathBuf,
    list: Vec<AuditFinding>,
    per_kind: HashMap<AlertKind, u64>,
    cap: usize,
    pub(crate) files: u64,
    pub(crate) hashed_files: u64,
    pub(crate) hashed_bytes: u64,
}

impl Findings {
    pub(crate) fn new(package: PackageId, location: PathBuf, cap: usize) -> Self {
        Self {
            package,
            location,
            list: Vec::new(),
            per_kind: HashMap::new(),
            cap,
            files: 0,
            hashed_files: 0,
            hashed_bytes: 0,
        }
    }

    /// Whether another finding of this kind would still be listed.
    pub(crate) fn room(&self, kind: AlertKind) -> bool {
        self.per_kind.get(&kind).copied().unwrap_or(0) < self.cap as u64
    }

    /// A finding about this package.
    pub(crate) fn finding(&self, kind: AlertKind, detail: impl Into<String>) -> AuditFinding {
        AuditFinding::new(kind, self.package.clone(), self.location.clone(), detail)
    }

    pub(crate) fn push(&mut self, f: AuditFinding) {
        let n = self.per_kind.entry(f.kind).or_insert(0);
        *n += 1;
        if *n <= self.cap as u64 {
            self.list.push(f);
        }
    }

    /// Adds a package-level finding.
    pub(crate) fn add(&mut self, kind: AlertKind, detail: impl Into<String>) {
        let f = self.finding(kind, detail);
        self.push(f);
    }

    /// Adds a finding about one file.
    pub(crate) fn add_file(
        &mut self,
        kind: AlertKind,
        file: &str,
        expected: Option<FileState>,
        found: Option<FileState>,
        detail: impl Into<String>,
    ) {
        let f = self.finding(kind, detail).with_file(file).with_states(expected, found);
        self.push(f);
    }

    /// The findings, with one summary finding per kind over the cap, and
    /// how many were left out.
    pub(crate) fn finish(mut self) -> (Vec<AuditFinding>, u64, Self) {
        let mut omitted = 0;
        let mut over: Vec<(AlertKind, u64)> = self
            .per_kind
            .iter()
            .filter(|(_, n)| **n > self.cap as u64)
            .map(|(k, n)| (*k, *n - self.cap as u64))
            .collect();
        over.sort();
        for (kind, more) in over {
            omitted += more;
            let f = self.finding(
                kind,
                format!("and {more} more {kind} findings in this package (not listed)"),
            );
            self.list.push(f);
        }
        let list = std::mem::take(&mut self.list);
        (list, omitted, self)
    }

    /// Checks one expected file: `abs` on disk (resolved from a manifest
    /// path relative to `base`), `rel` as reported. A directory on the
    /// manifest's part of the path that is a symbolic link is
    /// `link-escapes`, and nothing is opened through it.
    pub(crate) fn check_file(&mut self, base: &Path, abs: &Path, rel: &str, expected: &Expected) {
        self.files += 1;
        if let Some((link, target)) = fsio::linked_parent(base, abs) {
            self.add_file(
                AlertKind::LinkEscapes,
                rel,
                Some(expected.state()),
                Some(FileState::link(target.display().to_string())),
                format!(
                    "{rel}: {} on its path is a symbolic link to {} (not followed)",
                    link.display(),
                    target.display()
                ),
            );
            return;
        }
        let meta = match std::fs::symlink_metadata(abs) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.add_file(
                    AlertKind::Missing,
                    rel,
                    Some(expected.state()),
                    None,
                    format!("{rel} is listed in {} but not on disk", expected.source),
                );
                return;
            }
            Err(e) => {
                self.add_file(
                    AlertKind::Unreadable,
                    rel,
                    Some(expected.state()),
                    None,
                    format!("{rel}: {e}"),
                );
                return;
            }
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(abs).unwrap_or_default();
            self.add_file(
                AlertKind::Modified,
                rel,
                Some(expected.state()),
                Some(FileState::link(target.display().to_string())),
                format!(
                    "{rel} is a symbolic link, not the file {} lists (not followed)",
                    expected.source
                ),
            );
            self.check_link_escape(abs, rel, &target);
            return;
        }
        if !meta.is_file() {
            self.add_file(
                AlertKind::Modified,
                rel,
                Some(expected.state()),
                None,
                format!(
                    "{rel} is a {}, not the file {} lists",
                    fsio::kind_of(&meta),
                    expected.source
                ),
            );
            return;
        }
        if let Some(size) = expected.size
            && size != meta.len()
        {
            // Not read: a file of the wrong size is modified whatever its digest.
            self.add_file(
                AlertKind::Modified,
                rel,
                Some(expected.state()),
                Some(FileState::file(None, Some(meta.len()))),
                format!("{rel}: {} bytes on disk, {size} in {}", meta.len(), expected.source),
            );
            return;
        }
        let Some(want) = &expected.sha256 else {
            self.add_file(
                AlertKind::Unverifiable,
                rel,
                Some(expected.state()),
                Some(FileState::file(None, Some(meta.len()))),
                format!("{rel}: {} records no digest for it", expected.source),
            );
            return;
        };
        match fsio::hash_file(abs) {
            Ok(h) => {
                self.hashed_files += 1;
                self.hashed_bytes += h.size;
                if &h.sha256 != want {
                    self.add_file(
                        AlertKind::Modified,
                        rel,
                        Some(expected.state()),
                        Some(FileState::file(Some(h.sha256), Some(h.size))),
                        format!("{rel}: digest differs from {}", expected.source),
                    );
                }
            }
            Err(p) => self.read_problem(rel, Some(expected.state()), &p),
        }
    }

    /// Reports why a file could not be hashed.
    pub(crate) fn read_problem(&mut self, rel: &str, expected: Option<FileState>, p: &ReadProblem) {
        let kind = match p {
            ReadProblem::Changed => AlertKind::Unverifiable,
            ReadProblem::NotFound => AlertKind::Missing,
            ReadProblem::NotAFile(_) | ReadProblem::TooLarge(_) => AlertKind::Modified,
            ReadProblem::Io(_) => AlertKind::Unreadable,
        };
        self.add_file(kind, rel, expected, None, format!("{rel}: {p}"));
    }

    /// A symbolic link inside the package pointing out of it.
    pub(crate) fn check_link_escape(&mut self, abs: &Path, rel: &str, target: &Path) {
        if !fsio::link_stays_within(&self.location, abs, target) {
            self.add_file(
                AlertKind::LinkEscapes,
                rel,
                None,
                Some(FileState::link(target.display().to_string())),
                format!("{rel} links to {} outside the package (not followed)", target.display()),
            );
        }
    }

    /// Walks `dir` (as a stream, never through links) and reports every
    /// file or link `is_expected` does not claim as `extra`; `skip` names
    /// directories (relative to `base`) not to enter. Paths are reported
    /// relative to `base`.
    pub(crate) fn walk_extras(
        &mut self,
        base: &Path,
        dir: &Path,
        skip: &dyn Fn(&str) -> bool,
        is_expected: &dyn Fn(&str) -> bool,
    ) {
        let walker = walkdir::WalkDir::new(dir)
            .follow_links(false)
            // Not even when the directory itself is a link.
            .follow_root_links(false)
            .into_iter()
            .filter_entry(|e| {
                e.path()
                    .strip_prefix(base)
                    .map(|r| !(e.file_type().is_dir() && skip(&fsio::rel_text(r))))
                    .unwrap_or(true)
            });
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let rel = e
                        .path()
                        .and_then(|p| p.strip_prefix(base).ok())
                        .map(fsio::rel_text)
                        .unwrap_or_else(|| dir.display().to_string());
                    self.add_file(AlertKind::Unreadable, &rel, None, None, format!("{rel}: {e}"));
                    continue;
                }
            };
            let t = entry.file_type();
            if t.is_dir() {
                continue;
            }
            let Ok(rel_path) = entry.path().strip_prefix(base) else {
                continue;
            };
            let rel = fsio::rel_text(rel_path);
            if is_expected(&rel) {
                continue;
            }
            self.files += 1;
            if t.is_symlink() {
                let target = std::fs::read_link(entry.path()).unwrap_or_default();
                self.add_file(
                    AlertKind::Extra,
                    &rel,
                    None,
                    Some(FileState::link(target.display().to_string())),
                    format!("{rel} is not listed (a symbolic link)"),
                );
                self.check_link_escape(entry.path(), &rel, &target);
                continue;
            }
            // Listed findings carry the digest; past the cap only the count is kept.
            let found = if self.room(AlertKind::Extra) && t.is_file() {
                match fsio::hash_file(entry.path()) {
                    Ok(h) => {
                        self.hashed_files += 1;
                        self.hashed_bytes += h.size;
                        Some(FileState::file(Some(h.sha256), Some(h.size)))
                    }
                    Err(_) => entry.metadata().ok().map(|m| FileState::file(None, Some(m.len()))),
                }
            } else {
                None
            };
            self.add_file(AlertKind::Extra, &rel, None, found, format!("{rel} is not listed"));
        }
    }
}
