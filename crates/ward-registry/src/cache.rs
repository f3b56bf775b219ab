//! The proxy's disk cache: allowed artifacts by digest, the decision that
//! allowed each (valid only under the policy digest it was made with), and
//! the last good copy of each metadata document (served when upstream is
//! down).
//!
//! Layout under the cache directory:
//! `blobs/<sha256>` (artifact bytes), `decisions/<key hash>.json`,
//! `denials.jsonl` (refusals remembered across restarts, see [`crate::denials`]),
//! `meta/<key hash>` (with `meta/<key hash>.info`: URL, time, validators), `spool/` (in-flight downloads, same file system so a
//! verified spool file is renamed into `blobs/`, never copied). Every file
//! is written to a temporary name and renamed, so a crash leaves whole files.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// An allow, cached.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CachedAllow {
    /// The request key (registry, package, file).
    pub key: String,
    /// The artifact's SHA-256.
    pub sha256: String,
    /// Its size.
    pub size: u64,
    /// The policy digest the decision was made under.
    pub policy: String,
    /// The ledger entry that recorded it.
    pub ledger_index: Option<u64>,
    /// `warn` or `audit` when rules in that mode failed, with their reason codes (for the log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relaxed: Option<(String, Vec<String>)>,
}

/// Where and when a cached metadata document was fetched.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetaInfo {
    /// The final URL it came from (relative links resolve against it).
    pub url: String,
    /// Unix time, in seconds, of the fetch or last successful revalidation.
    pub checked: i64,
    /// Its validators.
    pub validators: crate::upstream::Validators,
}

/// The cache directory.
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

fn key_hash(key: &str) -> String {
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

impl Cache {
    /// Opens (creating) a cache directory.
    pub fn open(root: &Path) -> std::io::Result<Self> {
        for sub in ["blobs", "decisions", "meta", "spool"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        // Spool files of a previous run were never verified: drop them.
        if let Ok(entries) = std::fs::read_dir(root.join("spool")) {
            for e in entries.flatten() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The cache directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A fresh spool directory for one download.
    pub fn spool_dir(&self) -> std::io::Result<tempfile::TempDir> {
        tempfile::tempdir_in(self.root.join("spool"))
    }

    /// Where an artifact's bytes are kept.
    pub fn blob(&self, sha256: &str) -> PathBuf {
        self.root.join("blobs").join(sha256)
    }

    /// The cached allow for `key` under `policy`, if its blob is intact in size.
    pub fn allowed(&self, key: &str, policy: &str) -> Option<CachedAllow> {
        let bytes = std::fs::read(self.root.join("decisions").join(format!("{}.json", key_hash(key)))).ok()?;
        let allow: CachedAllow = serde_json::from_slice(&bytes).ok()?;
        // The digest names a file: only 64 hex digits may.
        if allow.sha256.len() != 64 || !allow.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let size = std::fs::metadata(self.blob(&allow.sha256)).ok()?.len();
        (allow.key == key && allow.policy == policy && size == allow.size).then_some(allow)
    }

    /// Moves a verified spool file into the blob store and records the allow.
    pub fn store_allowed(&self, spooled: &Path, allow: &CachedAllow) -> std::io::Result<()> {
        let blob = self.blob(&allow.sha256);
        if !blob.exists() {
            std::fs::rename(spooled, &blob)?;
        }
        let json = serde_json::to_vec(allow).map_err(std::io::Error::other)?;
        write_atomic(
            &self
                .root
                .join("decisions")
                .join(format!("{}.json", key_hash(&allow.key))),
            &json,
        )
    }

    /// Keeps the last good copy of a metadata document.
    pub fn put_meta(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        write_atomic(&self.root.join("meta").join(key_hash(key)), bytes)
    }

    /// The last good copy of a metadata document.
    pub fn meta(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join("meta").join(key_hash(key))).ok()
    }

    /// Where and when a metadata document was fetched, and its validators.
    pub fn put_meta_info(&self, key: &str, info: &MetaInfo) -> std::io::Result<()> {
        let json = serde_json::to_vec(info).map_err(std::io::Error::other)?;
        write_atomic(&self.root.join("meta").join(format!("{}.info", key_hash(key))), &json)
    }

    /// What [`Cache::put_meta_info`] kept.
    pub fn meta_info(&self, key: &str) -> Option<MetaInfo> {
        let bytes = std::fs::read(self.root.join("meta").join(format!("{}.info", key_hash(key)))).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}
