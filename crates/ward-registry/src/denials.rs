//! Denials remembered across restarts: a small append-only file in the
//! cache directory (`denials.jsonl`, one JSON object a line), so that a file
//! the gate refused is neither fetched nor recorded in the ledger again
//! after the proxy restarts, and listings can keep marking it as refused.
//!
//! A denial is keyed by the request key (registry, package, file), the
//! artifact's digests and the policy digest it was made under. It applies
//! to a later request only when the registry index names the same digest
//! (PyPI sha256, npm sha512, cargo `cksum`) and the policy is the same: other
//! bytes under the same name, or a changed policy, are fetched and judged
//! again. Only denials of the current policy are loaded.
//!
//! Bounded: at most `max_entries` denials are kept in memory (the oldest
//! forgotten first); the file is rewritten to the remembered ones when it
//! holds twice as many lines. Forgetting a denial only means the file is
//! fetched and judged again. A line that does not parse is skipped; losing
//! the file loses nothing but the shortcut. Hand-written: a few lines of
//! JSON need no database.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How many denials are remembered by default.
pub const DEFAULT_REMEMBERED_DENIALS: usize = 10_000;

/// Longest line read back (a longer one is skipped) and longest reason kept.
const MAX_LINE: usize = 8 * 1024;
const MAX_REASON: usize = 2 * 1024;

/// One remembered denial.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Denial {
    /// The request key (registry, package, file).
    pub key: String,
    /// The policy digest it was made under.
    pub policy: String,
    /// The artifact's SHA-256, hex.
    pub sha256: String,
    /// The artifact's SHA-512, hex.
    pub sha512: String,
    /// `code: message`, as the client is told.
    pub reason: String,
    /// The reason codes.
    #[serde(default)]
    pub codes: Vec<String>,
    /// The ledger entry that recorded the decision.
    #[serde(default)]
    pub ledger_index: Option<u64>,
}

impl Denial {
    /// Whether the registry index names these bytes: any listed digest
    /// (`sha256` or `sha512`, hex) equal to the denied artifact's.
    pub fn same_bytes(&self, index_digests: &[(&str, String)]) -> bool {
        index_digests.iter().any(|(algorithm, hex)| {
            let mine = match *algorithm {
                "sha256" => &self.sha256,
                "sha512" => &self.sha512,
                _ => return false,
            };
            !hex.is_empty() && mine.eq_ignore_ascii_case(hex)
        })
    }
}

struct Inner {
    by_key: HashMap<String, Denial>,
    /// Keys in the order they were remembered (oldest first).
    order: VecDeque<String>,
    /// Lines in the file.
    lines: usize,
}

/// The store.
pub struct Denials {
    path: PathBuf,
    policy: String,
    max_entries: usize,
    inner: Mutex<Inner>,
}

impl Denials {
    /// Opens (or starts) `denials.jsonl` in `dir`, keeping the current
    /// policy's newest `max_entries` denials.
    pub fn open(dir: &Path, policy: &str, max_entries: usize) -> Self {
        let path = dir.join("denials.jsonl");
        let mut inner = Inner {
            by_key: HashMap::new(),
            order: VecDeque::new(),
            lines: 0,
        };
        if let Ok(file) = std::fs::File::open(&path) {
            let mut reader = std::io::BufReader::new(file);
            let mut line = Vec::new();
            loop {
                line.clear();
                // Reads at most MAX_LINE + 1 bytes of a line; a longer line is skipped whole.
                match (&mut reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                inner.lines += 1;
                if line.len() > MAX_LINE && !line.ends_with(b"\n") {
                    // Skip the rest of the line in bounded pieces: a damaged
                    // file with no newline must not be read into memory whole.
                    let mut rest = Vec::new();
                    loop {
                        rest.clear();
                        match (&mut reader).take(MAX_LINE as u64).read_until(b'\n', &mut rest) {
                            Ok(0) | Err(_) => break,
                            Ok(_) if rest.ends_with(b"\n") => break,
                            Ok(_) => {}
                        }
                    }
                    continue;
                }
                if let Ok(d) = serde_json::from_slice::<Denial>(&line)
                    && d.policy == policy
                {
                    remember(&mut inner, d, max_entries);
                }
            }
        }
        let store = Self {
            path,
            policy: policy.to_string(),
            max_entries: max_entries.max(1),
            inner: Mutex::new(inner),
        };
        store.compact_if_large();
        store
    }

    /// The same store keeping at most `max_entries` (the oldest forgotten now).
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries.max(1);
        if let Ok(mut inner) = self.inner.lock() {
            while inner.order.len() > self.max_entries {
                if let Some(old) = inner.order.pop_front() {
                    inner.by_key.remove(&old);
                }
            }
        }
        self.compact_if_large();
        self
    }

    /// The policy digest denials are remembered under.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// The remembered denial of `key` under this policy, whatever its bytes.
    pub fn get(&self, key: &str) -> Option<Denial> {
        self.inner.lock().ok()?.by_key.get(key).cloned()
    }

    /// The remembered denial of `key` under this policy, if the index names the same bytes.
    pub fn matching(&self, key: &str, index_digests: &[(&str, String)]) -> Option<Denial> {
        self.get(key).filter(|d| d.same_bytes(index_digests))
    }

    /// How many denials are remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.by_key.len()).unwrap_or(0)
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remembers a denial (its policy is this store's) and appends it to the file.
    pub fn insert(&self, mut denial: Denial) {
        denial.policy.clone_from(&self.policy);
        if denial.reason.len() > MAX_REASON {
            let mut cut = MAX_REASON;
            while !denial.reason.is_char_boundary(cut) {
                cut -= 1;
            }
            denial.reason.truncate(cut);
        }
        let Ok(mut line) = serde_json::to_vec(&denial) else {
            return;
        };
        line.push(b'\n');
        {
            let Ok(mut inner) = self.inner.lock() else { return };
            remember(&mut inner, denial, self.max_entries);
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .and_then(|mut f| f.write_all(&line));
            if appended.is_ok() {
                inner.lines += 1;
            }
        }
        self.compact_if_large();
    }

    /// Rewrites the file to the remembered denials when it holds more than
    /// twice as many lines (other policies' denials are dropped then).
    fn compact_if_large(&self) {
        let Ok(mut inner) = self.inner.lock() else { return };
        if inner.lines <= self.max_entries.saturating_mul(2) {
            return;
        }
        let mut text = Vec::new();
        for key in &inner.order {
            if let Some(d) = inner.by_key.get(key)
                && let Ok(line) = serde_json::to_vec(d)
            {
                text.extend_from_slice(&line);
                text.push(b'\n');
            }
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut tmp| {
            tmp.write_all(&text)?;
            tmp.persist(&self.path).map_err(|e| e.error)?;
            Ok(())
        });
        if written.is_ok() {
            inner.lines = inner.order.len();
        }
    }
}

fn remember(inner: &mut Inner, d: Denial, max: usize) {
    if inner.by_key.insert(d.key.clone(), d.clone()).is_some() {
        inner.order.retain(|k| *k != d.key);
    }
    inner.order.push_back(d.key);
    while inner.order.len() > max.max(1) {
        if let Some(old) = inner.order.pop_front() {
            inner.by_key.remove(&old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denial(key: &str, sha: &str) -> Denial {
        Denial {
            key: key.into(),
            policy: String::new(),
            sha256: sha.into(),
            sha512: "ff".into(),
            reason: "signature-missing: none".into(),
            codes: vec!["signature-missing".into()],
            ledger_index: Some(3),
        }
    }

    #[test]
    fn denials_survive_a_reopen_under_the_same_policy_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Denials::open(dir.path(), "policy-a", 10);
        store.insert(denial("npm/a/a-1.tgz", "aa"));
        drop(store);
        let again = Denials::open(dir.path(), "policy-a", 10);
        let got = again.matching("npm/a/a-1.tgz", &[("sha256", "AA".into())]).unwrap();
        assert_eq!(got.policy, "policy-a");
        assert_eq!(got.ledger_index, Some(3));
        // Other bytes under the same name are judged again.
        assert!(again.matching("npm/a/a-1.tgz", &[("sha256", "ab".into())]).is_none());
        assert!(again.matching("npm/a/a-1.tgz", &[]).is_none());
        assert!(again.matching("npm/a/a-1.tgz", &[("sha512", "FF".into())]).is_some());
        // Another policy remembers nothing.
        assert!(Denials::open(dir.path(), "policy-b", 10).is_empty());
    }

    #[test]
    fn the_store_is_bounded_in_memory_and_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = Denials::open(dir.path(), "p", 3);
        for i in 0..20 {
            store.insert(denial(&format!("k{i}"), "aa"));
        }
        assert_eq!(store.len(), 3);
        assert!(store.get("k0").is_none() && store.get("k19").is_some());
        let lines = std::fs::read_to_string(dir.path().join("denials.jsonl"))
            .unwrap()
            .lines()
            .count();
        assert!(lines <= 6, "{lines} lines");
        // Garbage and over-long lines are skipped, not fatal.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("denials.jsonl"))
            .unwrap();
        f.write_all(b"not json\n").unwrap();
        f.write_all(&vec![b'x'; MAX_LINE * 10]).unwrap();
        f.write_all(b"\n").unwrap();
        drop(f);
        let again = Denials::open(dir.path(), "p", 3);
        assert_eq!(again.len(), 3);
        assert!(again.get("k19").is_some());
    }
}
