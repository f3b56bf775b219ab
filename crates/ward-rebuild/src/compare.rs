//! Comparing a published artifact with a rebuild of it, after the
//! normalisation OSS Rebuild documents for its equivalence statements:
//! entry order, timestamps, owners, modes and compression bytes do not
//! count; names, types and contents do.
//!
//! Both sides are read by `ward_identify::entries`, so everything ward
//! refuses to install (data after the gzip stream, two entries that land on
//! one path after case folding or Unicode normalisation, duplicate
//! entries, links, bombs) is a difference here too, never "equal": a
//! normaliser that drops what an installer reads would hide a real change.
//! Directories an entry's path already implies are not compared (one tool
//! writes them, another does not); empty directories are.
//!
//! Unified diffs of small text files come from the `similar` crate.

use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use ward_identify::entries::{Container, Entry, Listing};
use ward_identify::{Limits, ReadError};

/// Files up to this size are kept in memory to show a unified diff.
pub const DIFF_LIMIT: u64 = 64 * 1024;

/// Which artifact of the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The published artifact.
    Original,
    /// The rebuild.
    Rebuilt,
}

/// One file's size and digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileState {
    /// `file` or `directory`.
    pub kind: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// `sha256:` of the content.
    pub sha256: String,
}

/// One way the two differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "difference", rename_all = "kebab-case")]
pub enum Difference {
    /// ward refuses one side as an archive: never equal to anything.
    Refused {
        /// Which side.
        side: Side,
        /// The reason code (`archive-ambiguous`, …).
        code: String,
        /// Why.
        message: String,
    },
    /// Different containers (a tarball and a zip).
    Container {
        /// The original's.
        original: String,
        /// The rebuild's.
        rebuilt: String,
    },
    /// The packages say they are different packages or versions.
    Package {
        /// The original's purl.
        original: String,
        /// The rebuild's purl.
        rebuilt: String,
    },
    /// A path only one side has.
    Only {
        /// The side that has it.
        side: Side,
        /// The path.
        path: String,
        /// What is there.
        state: FileState,
    },
    /// A path both have, with other content or of another kind.
    Changed {
        /// The path.
        path: String,
        /// The original's.
        original: FileState,
        /// The rebuild's.
        rebuilt: FileState,
        /// A unified diff, for small UTF-8 text files.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
    },
}

/// What was compared, and how it came out.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The original's purl, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Files compared on each side (directories not counted).
    pub files: (usize, usize),
    /// Every difference; empty when the two are equivalent.
    pub differences: Vec<Difference>,
}

impl Comparison {
    /// Whether the rebuild is equivalent to the original.
    pub fn equivalent(&self) -> bool {
        self.differences.is_empty()
    }
}

fn container_name(c: Container) -> &'static str {
    match c {
        Container::TarGz => "gzip tarball",
        Container::Zip => "zip",
        Container::File => "plain file",
    }
}

fn state(e: &Entry) -> FileState {
    FileState {
        kind: if e.is_dir { "directory" } else { "file" },
        size: e.size,
        sha256: format!("sha256:{}", hex::encode(e.sha256)),
    }
}

/// The entries compared: files, and directories no file lies under. The
/// directories files imply are collected once (linear in the paths'
/// lengths), so a listing of many directories costs no more than its size.
fn compared(listing: &Listing) -> BTreeMap<&str, &Entry> {
    let mut implied: HashSet<&str> = HashSet::new();
    for e in listing.entries.iter().filter(|e| !e.is_dir) {
        let mut path = e.path.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            if !implied.insert(parent) {
                break;
            }
            path = parent;
        }
    }
    listing
        .entries
        .iter()
        .filter(|e| !e.is_dir || !implied.contains(e.path.as_str()))
        .map(|e| (e.path.as_str(), e))
        .collect()
}

/// How long all the unified diffs of one comparison may take: Myers' diff
/// of two unlike texts grows with their size times their difference, and
/// an archive can hold thousands of small changed files.
const DIFF_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// The most unified diffs one comparison shows (the rest are listed with
/// their sizes and digests only).
const MAX_DIFFS: usize = 200;

/// A unified diff of two small UTF-8 texts; `None` for binary content, or
/// once `deadline` has passed (a diff cut by the deadline is coarser, never
/// wrong: it still shows every changed line).
fn text_diff(path: &str, a: &[u8], b: &[u8], deadline: std::time::Instant) -> Option<String> {
    if std::time::Instant::now() >= deadline {
        return None;
    }
    let (a, b) = (std::str::from_utf8(a).ok()?, std::str::from_utf8(b).ok()?);
    if a.contains('\0') || b.contains('\0') {
        return None;
    }
    let diff = similar::TextDiff::configure().deadline(deadline).diff_lines(a, b);
    Some(
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("original/{path}"), &format!("rebuilt/{path}"))
            .to_string(),
    )
}

/// Compares the two artifacts. `Err` only when a file cannot be read at all.
pub fn compare(original: &Path, rebuilt: &Path, limits: &Limits) -> Result<Comparison, ReadError> {
    let a = ward_identify::entries::list(original, limits, DIFF_LIMIT)?;
    let b = ward_identify::entries::list(rebuilt, limits, DIFF_LIMIT)?;
    let mut differences = Vec::new();
    let refused = |side, e: &ward_identify::ArchiveError| Difference::Refused {
        side,
        code: e.code().as_str().to_string(),
        message: e.to_string(),
    };
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            if let Err(e) = &a {
                differences.push(refused(Side::Original, e));
            }
            if let Err(e) = &b {
                differences.push(refused(Side::Rebuilt, e));
            }
            return Ok(Comparison {
                package: a.as_ref().ok().map(|l| l.purl.clone()),
                files: (0, 0),
                differences,
            });
        }
    };
    if a.container != b.container {
        differences.push(Difference::Container {
            original: container_name(a.container).into(),
            rebuilt: container_name(b.container).into(),
        });
    }
    if a.purl != b.purl {
        differences.push(Difference::Package {
            original: a.purl.clone(),
            rebuilt: b.purl.clone(),
        });
    }
    let (ea, eb) = (compared(&a), compared(&b));
    let deadline = std::time::Instant::now() + DIFF_TIME;
    let mut diffs = 0usize;
    for (path, x) in &ea {
        match eb.get(path) {
            None => differences.push(Difference::Only {
                side: Side::Original,
                path: (*path).to_string(),
                state: state(x),
            }),
            Some(y) if x.is_dir != y.is_dir || x.sha256 != y.sha256 || x.size != y.size => {
                let diff = match (&x.content, &y.content) {
                    (Some(p), Some(q)) if diffs < MAX_DIFFS => text_diff(path, p, q, deadline),
                    _ => None,
                };
                diffs += usize::from(diff.is_some());
                differences.push(Difference::Changed {
                    path: (*path).to_string(),
                    original: state(x),
                    rebuilt: state(y),
                    diff,
                });
            }
            Some(_) => {}
        }
    }
    for (path, y) in &eb {
        if !ea.contains_key(path) {
            differences.push(Difference::Only {
                side: Side::Rebuilt,
                path: (*path).to_string(),
                state: state(y),
            });
        }
    }
    let count = |l: &Listing| l.entries.iter().filter(|e| !e.is_dir).count();
    Ok(Comparison {
        package: Some(a.purl.clone()),
        files: (count(&a), count(&b)),
        differences,
    })
}
