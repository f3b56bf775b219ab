//! ward's own trusted state: Sigstore's trusted root and the npm registry
//! keys, refreshed from Sigstore's TUF repository, plus the history of
//! every root version ward accepted.
//!
//! Layout under the state directory (ward's data directory `trust/`):
//!
//! ```text
//! current -> state-XXXX        symlink, swapped atomically by an update
//! state-XXXX/tuf/              trusted TUF metadata (root.json, timestamp.json, …)
//! state-XXXX/targets/          the verified targets, under their quoted paths
//! state-XXXX/manifest.json     length and hashes of each stored target
//! state-XXXX/history.jsonl     every accepted root, as received, with when
//! .lock                        held by the one update running
//! ```
//!
//! An update works on a copy of the current state and swaps it in only when
//! everything verified: a refused update leaves the previous state as it
//! was. The state it replaced is removed by the next update. Readers check the stored targets against the manifest: a stored
//! file that does not match is an error, never a silent fallback.

use crate::metadata::{TargetFile, check_length_and_hashes};
use crate::updater::quote;
use crate::{Fetcher, Limits, TufError, Updater};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The seed: version 15 of Sigstore's root metadata (see `seed/README.md`).
pub const SEED_ROOT: &[u8] = include_bytes!("../seed/sigstore-root.json");
/// Sigstore's public-good TUF repository (metadata at its top, targets under `targets/`).
pub const DEFAULT_REPOSITORY: &str = "https://tuf-repo-cdn.sigstore.dev/";
/// The target holding Sigstore's trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// The target holding the npm registry's keys (found through a delegation).
pub const NPM_KEYS_TARGET: &str = "registry.npmjs.org/keys.json";
/// The targets an update fetches.
pub const TARGETS: [&str; 2] = [TRUSTED_ROOT_TARGET, NPM_KEYS_TARGET];

/// Largest stored manifest.
const MANIFEST_MAX: u64 = 1 << 20;
/// Largest history file (Sigstore's roots are about 6 KB each).
const HISTORY_MAX: u64 = 64 << 20;

/// Why the trusted state could not be updated or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The repository's metadata or a target was refused.
    #[error("{0}")]
    Tuf(#[from] TufError),
    /// A file of the state could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// Which file or directory.
        what: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A stored file does not match what the update verified.
    #[error("trusted state {path}: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A seed root was given, but ward already trusts a root.
    #[error("ward already has a trusted TUF root in {0}; a seed root applies only to the first update")]
    AlreadySeeded(String),
    /// Another update holds the lock.
    #[error("another `ward trust update` is running (lock {0})")]
    Locked(String),
    /// The caller's record of the update (the ledger event) could not be
    /// made, so the update was not switched to.
    #[error("the update could not be recorded: {0}")]
    Record(String),
}

impl StoreError {
    /// A stable code: the TUF rule for a refused repository, else what failed.
    pub fn rule(&self) -> &'static str {
        match self {
            StoreError::Tuf(e) => e.rule(),
            StoreError::Io { .. } => "io",
            StoreError::Corrupt { .. } => "corrupt-state",
            StoreError::AlreadySeeded(_) => "already-seeded",
            StoreError::Locked(_) => "locked",
            StoreError::Record(_) => "record",
        }
    }
}

fn io(what: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        what: what.display().to_string(),
        source,
    }
}

fn corrupt(path: &Path, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// One accepted root, as the history file keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Accepted {
    /// When ward accepted it.
    #[serde(with = "crate::history::rfc3339")]
    pub accepted_at: jiff::Timestamp,
    /// Its version.
    pub version: u64,
    /// `seed` for the first root, `update` for one fetched and verified.
    pub how: String,
    /// The repository it came from (empty for a seed).
    #[serde(default)]
    pub repository: String,
    /// The root metadata exactly as received.
    pub root: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    #[serde(with = "crate::history::rfc3339")]
    updated_at: jiff::Timestamp,
    repository: String,
    targets: BTreeMap<String, StoredTarget>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredTarget {
    length: u64,
    hashes: BTreeMap<String, String>,
}

/// Called by [`TrustStore::update_recorded`] with what an update verified
/// (the report, and the root versions newly accepted) before it is
/// switched to; an error keeps the previous state.
pub type Recorder<'a> = dyn FnMut(&Updated, &[Accepted]) -> Result<(), String> + 'a;

/// What an update did.
#[derive(Debug, Clone)]
pub struct Updated {
    /// Root version before (`None` on first use).
    pub root_before: Option<u64>,
    /// Root version after.
    pub root_after: u64,
    /// Root versions accepted by this update (including a seed on first use).
    pub accepted: Vec<u64>,
    /// Each target: its path, SHA-256, and whether it differs from before.
    pub targets: Vec<(String, String, bool)>,
}

/// ward's trusted state in one directory.
pub struct TrustStore {
    dir: PathBuf,
}

impl TrustStore {
    /// The state in `dir` (created by the first update).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current state directory, if an update ever succeeded.
    pub fn current(&self) -> Result<Option<PathBuf>, StoreError> {
        let link = self.dir.join("current");
        match std::fs::symlink_metadata(&link) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&link)(e)),
            Ok(_) => {
                let target = std::fs::read_link(&link).map_err(io(&link))?;
                let dir = self.dir.join(&target);
                if !dir.is_dir() {
                    return Err(corrupt(
                        &link,
                        format!("points at {}, which is not a directory", target.display()),
                    ));
                }
                Ok(Some(dir))
            }
        }
    }

    /// A target from the last successful update, checked against the
    /// manifest; `None` if ward never updated (use the bundled copy).
    pub fn target(&self, target_path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(state) = self.current()? else { return Ok(None) };
        let manifest = read_manifest(&state)?;
        let path = state.join("targets").join(quote(target_path));
        let stored = manifest
            .targets
            .get(target_path)
            .ok_or_else(|| corrupt(&state.join("manifest.json"), format!("{target_path} is not listed")))?;
        let data =
            ward_input::read_bounded(&path, "stored TUF target", stored.length).map_err(|e| corrupt(&path, e))?;
        check_length_and_hashes(target_path, &data, Some(stored.length), Some(&stored.hashes))
            .map_err(|e| corrupt(&path, e))?;
        Ok(Some(data))
    }

    /// Every root ward accepted, oldest first (empty if it never updated).
    pub fn history(&self) -> Result<Vec<Accepted>, StoreError> {
        let Some(state) = self.current()? else {
            return Ok(Vec::new());
        };
        read_history(&state.join("history.jsonl"))
    }

    /// When the last successful update ran and from where.
    pub fn last_update(&self) -> Result<Option<(jiff::Timestamp, String)>, StoreError> {
        let Some(state) = self.current()? else { return Ok(None) };
        let m = read_manifest(&state)?;
        Ok(Some((m.updated_at, m.repository)))
    }

    /// Refreshes the state from a TUF repository: the root chain, timestamp,
    /// snapshot, targets and the npm delegation, then the two targets, all
    /// verified against `now`. On first use the chain starts from `seed`
    /// (default [`SEED_ROOT`]). Nothing changes unless everything verified.
    pub fn update(
        &self,
        metadata_url: &str,
        targets_url: &str,
        fetcher: &dyn Fetcher,
        seed: Option<&[u8]>,
        now: jiff::Timestamp,
        accepted_at: jiff::Timestamp,
    ) -> Result<Updated, StoreError> {
        self.update_recorded(
            metadata_url,
            targets_url,
            fetcher,
            seed,
            now,
            accepted_at,
            &mut |_, _| Ok(()),
        )
    }

    /// [`TrustStore::update`], calling `record` with what was verified
    /// (the report and the root versions newly accepted, as received) after
    /// every check passed and before the switch: if `record` fails (the
    /// ledger cannot take the event), the update is not switched to, so
    /// every root the state trusts was recorded.
    #[allow(clippy::too_many_arguments)]
    pub fn update_recorded(
        &self,
        metadata_url: &str,
        targets_url: &str,
        fetcher: &dyn Fetcher,
        seed: Option<&[u8]>,
        now: jiff::Timestamp,
        accepted_at: jiff::Timestamp,
        record: &mut Recorder<'_>,
    ) -> Result<Updated, StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let lock_path = self.dir.join(".lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(lock_path.display().to_string())),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let current = self.current()?;
        self.remove_leftovers(current.as_deref());
        let staging = tempfile::Builder::new()
            .prefix(".staging-")
            .tempdir_in(&self.dir)
            .map_err(io(&self.dir))?;
        let tuf = staging.path().join("tuf");
        let targets = staging.path().join("targets");
        std::fs::create_dir_all(&targets).map_err(io(&targets))?;
        let history_path = staging.path().join("history.jsonl");
        let mut history = Vec::new();
        let mut accepted = Vec::new();
        let mut before_targets = BTreeMap::new();
        match &current {
            Some(state) => {
                if seed.is_some() {
                    return Err(StoreError::AlreadySeeded(self.dir.display().to_string()));
                }
                copy_files(&state.join("tuf"), &tuf)?;
                history = read_history(&state.join("history.jsonl"))?;
                before_targets = read_manifest(state)?.targets;
            }
            None => {
                let root = seed.unwrap_or(SEED_ROOT);
                crate::init(&tuf, root, now)?;
                let entry = accepted_entry(root, accepted_at, "seed", "")?;
                accepted.push(entry.version);
                history.push(entry);
            }
        }
        let mut updater = Updater::new(&tuf, metadata_url, fetcher, now, Limits::default())?;
        let root_before = current.as_ref().map(|_| updater.trusted().root().version);
        updater.refresh()?;
        for root in updater.accepted_roots() {
            let entry = accepted_entry(root, accepted_at, "update", metadata_url)?;
            accepted.push(entry.version);
            history.push(entry);
        }
        let mut manifest = Manifest {
            updated_at: accepted_at,
            repository: metadata_url.to_string(),
            targets: BTreeMap::new(),
        };
        let mut report = Vec::new();
        for name in TARGETS {
            let info: TargetFile = updater.target_info(name)?;
            updater.download_target(targets_url, &targets, name, &info)?;
            let sha256 = info.hashes.get("sha256").cloned().unwrap_or_default();
            let changed = before_targets.get(name).is_none_or(|b| b.hashes != info.hashes);
            report.push((name.to_string(), sha256, changed));
            manifest.targets.insert(
                name.to_string(),
                StoredTarget {
                    length: info.length,
                    hashes: info.hashes,
                },
            );
        }
        let root_after = updater.trusted().root().version;
        let updated = Updated {
            root_before,
            root_after,
            accepted,
            targets: report,
        };
        let new_entries = &history[history.len().saturating_sub(updated.accepted.len())..];
        record(&updated, new_entries).map_err(StoreError::Record)?;
        write_history(&history_path, &history)?;
        let manifest_json = serde_json::to_vec_pretty(&manifest).map_err(|e| corrupt(&self.dir, e))?;
        write_file(&staging.path().join("manifest.json"), &manifest_json)?;

        // Swap: the staging directory becomes a state, `current` points at it.
        let staged = staging.keep();
        let suffix = staged
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(".staging-"))
            .unwrap_or("new")
            .to_string();
        let name = format!("state-{suffix}");
        let state = self.dir.join(&name);
        std::fs::rename(&staged, &state).map_err(io(&state))?;
        let tmp_link = self.dir.join(format!(".current-{suffix}"));
        std::os::unix::fs::symlink(&name, &tmp_link).map_err(io(&tmp_link))?;
        let link = self.dir.join("current");
        std::fs::rename(&tmp_link, &link).map_err(io(&link))?;
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        // The previous state stays until the next update (which removes
        // it), so a command that resolved `current` just before the swap
        // still reads a complete state.
        drop(lock);
        Ok(updated)
    }
}

impl TrustStore {
    /// Removes what earlier updates left (staging directories of an
    /// interrupted one, link candidates, states no longer current). Called
    /// with the lock held.
    fn remove_leftovers(&self, current: Option<&Path>) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let path = entry.path();
            let stale = name.starts_with(".staging-")
                || name.starts_with(".current-")
                || (name.starts_with("state-")
                    && current.and_then(Path::file_name) != Some(entry.file_name().as_os_str()));
            if stale {
                // Best effort: a leftover only takes space.
                let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
            }
        }
    }
}

fn accepted_entry(root: &[u8], at: jiff::Timestamp, how: &str, repository: &str) -> Result<Accepted, StoreError> {
    let env: crate::metadata::Envelope<crate::metadata::Root> = crate::metadata::parse(root, "root")?;
    let text = String::from_utf8(root.to_vec()).map_err(|e| TufError::Format {
        what: "root".into(),
        reason: e.to_string(),
    })?;
    Ok(Accepted {
        accepted_at: at,
        version: env.version,
        how: how.to_string(),
        repository: repository.to_string(),
        root: text,
    })
}

fn read_manifest(state: &Path) -> Result<Manifest, StoreError> {
    let path = state.join("manifest.json");
    let data =
        ward_input::read_bounded(&path, "trusted state manifest", MANIFEST_MAX).map_err(|e| corrupt(&path, e))?;
    serde_json::from_slice(&data).map_err(|e| corrupt(&path, e))
}

fn read_history(path: &Path) -> Result<Vec<Accepted>, StoreError> {
    let text =
        ward_input::read_string_bounded(path, "trusted root history", HISTORY_MAX).map_err(|e| corrupt(path, e))?;
    let mut out: Vec<Accepted> = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let entry: Accepted = serde_json::from_str(line).map_err(|e| corrupt(path, format!("line {}: {e}", n + 1)))?;
        if let Some(prev) = out.last()
            && entry.version != prev.version + 1
        {
            return Err(corrupt(
                path,
                format!(
                    "line {}: root version {} follows {}",
                    n + 1,
                    entry.version,
                    prev.version
                ),
            ));
        }
        out.push(entry);
    }
    if out.is_empty() {
        return Err(corrupt(path, "no accepted root"));
    }
    Ok(out)
}

fn write_history(path: &Path, history: &[Accepted]) -> Result<(), StoreError> {
    let mut out = Vec::new();
    for entry in history {
        serde_json::to_writer(&mut out, entry).map_err(|e| corrupt(path, e))?;
        out.push(b'\n');
    }
    write_file(path, &out)
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    let mut f = std::fs::File::create(path).map_err(io(path))?;
    f.write_all(data).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Copies the regular files of `from` (the trusted metadata) into `to`.
fn copy_files(from: &Path, to: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        if entry.file_type().map_err(io(&entry.path()))?.is_file() {
            let dest = to.join(entry.file_name());
            std::fs::copy(entry.path(), &dest).map_err(io(&dest))?;
        }
    }
    Ok(())
}
