//! When each finding was first seen, kept across runs so that remediation
//! deadlines count from the first sighting, not from today's scan. The
//! store answers with times; it writes nothing into findings.
//!
//! One JSON file (`first-seen.json` in ward's data directory), keyed by
//! advisory id and package purl, replaced atomically (write a temporary
//! file, fsync, rename) so that a crash leaves the old or the new file,
//! never half of one.

use jiff::Timestamp;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use ward_core::Finding;

/// The file name inside the data directory.
pub const FILE: &str = "first-seen.json";

/// Largest store read (about a million findings).
const MAX_BYTES: u64 = 256 << 20;

/// Why the store cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FirstSeenError {
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Not ward's format: refusing to overwrite it.
    #[error("{0}: not a first-seen store ward wrote ({1}); move it away to start afresh")]
    Malformed(String, String),
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct OnDisk {
    version: u32,
    first_seen: BTreeMap<String, Timestamp>,
}

/// The store, loaded.
pub struct FirstSeenStore {
    path: PathBuf,
    seen: BTreeMap<String, Timestamp>,
    dirty: bool,
}

fn key(f: &Finding) -> String {
    format!("{} {}", f.advisory, f.package)
}

impl FirstSeenStore {
    /// Opens the store in `dir` (an absent file is an empty store).
    pub fn open(dir: &Path) -> Result<Self, FirstSeenError> {
        let path = dir.join(FILE);
        let io = |source| FirstSeenError::Io {
            path: path.display().to_string(),
            source,
        };
        let seen = match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io(e)),
            Ok(m) if m.len() > MAX_BYTES => {
                return Err(FirstSeenError::Malformed(
                    path.display().to_string(),
                    format!("larger than {MAX_BYTES} bytes"),
                ));
            }
            Ok(_) => {
                // Bounded and regular files only: a FIFO here fails at once.
                let bytes = ward_input::read_bounded(&path, "first-seen store", MAX_BYTES)
                    .map_err(|e| FirstSeenError::Malformed(path.display().to_string(), e.to_string()))?;
                let disk: OnDisk = serde_json::from_slice(&bytes)
                    .map_err(|e| FirstSeenError::Malformed(path.display().to_string(), e.to_string()))?;
                if disk.version != 1 {
                    return Err(FirstSeenError::Malformed(
                        path.display().to_string(),
                        format!("version {}", disk.version),
                    ));
                }
                disk.first_seen
            }
        };
        Ok(Self {
            path,
            seen,
            dirty: false,
        })
    }

    /// When each finding was first seen (one time per finding, in order),
    /// recording `now` for new ones.
    pub fn observe(&mut self, findings: &[Finding], now: Timestamp) -> Vec<Timestamp> {
        findings
            .iter()
            .map(|f| {
                *self.seen.entry(key(f)).or_insert_with(|| {
                    self.dirty = true;
                    now
                })
            })
            .collect()
    }

    /// Writes the store if anything new was seen.
    pub fn save(&mut self) -> Result<(), FirstSeenError> {
        if !self.dirty {
            return Ok(());
        }
        let io = |source| FirstSeenError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        let disk = OnDisk {
            version: 1,
            first_seen: std::mem::take(&mut self.seen),
        };
        let written = serde_json::to_vec(&disk)
            .map_err(std::io::Error::other)
            .and_then(|b| tmp.write_all(&b))
            .and_then(|()| tmp.as_file().sync_all());
        self.seen = disk.first_seen;
        written.map_err(io)?;
        tmp.persist(&self.path).map_err(|e| io(e.error))?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::{PackageId, Rating, Severity};

    fn finding(id: &str) -> Finding {
        Finding {
            advisory: id.into(),
            aliases: vec![],
            summary: String::new(),
            rating: Rating {
                level: Severity::High,
                score: None,
                vector: None,
                assumed: false,
            },
            package: PackageId::npm("x", Some("1.0.0".into())),
            source: "t".into(),
            line: None,
            fixed: vec![],
            malicious: None,
        }
    }

    #[test]
    fn keeps_the_first_sighting_across_runs_and_refuses_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FirstSeenStore::open(dir.path()).unwrap();
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        store.observe(&[finding("GHSA-1")], t("2026-01-01T00:00:00Z"));
        store.save().unwrap();
        let mut store = FirstSeenStore::open(dir.path()).unwrap();
        let seen = store.observe(&[finding("GHSA-1"), finding("GHSA-2")], t("2026-03-01T00:00:00Z"));
        assert_eq!(seen, vec![t("2026-01-01T00:00:00Z"), t("2026-03-01T00:00:00Z")]);
        store.save().unwrap();
        // The file keeps RFC 3339 text.
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(
            text.contains("\"GHSA-1 pkg:npm/x@1.0.0\":\"2026-01-01T00:00:00Z\""),
            "{text}"
        );
        std::fs::write(dir.path().join(FILE), b"{\"something\": 1}").unwrap();
        assert!(matches!(
            FirstSeenStore::open(dir.path()),
            Err(FirstSeenError::Malformed(..))
        ));
    }

    #[test]
    fn a_fifo_in_place_of_the_store_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join(FILE);
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let err = FirstSeenStore::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("FIFO"), "{err}");
    }
}
