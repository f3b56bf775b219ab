//! The TUF client workflow over a metadata directory and a repository: the
//! root chain, timestamp, snapshot and targets (5.3–5.6), the delegation
//! search (5.6.7: pre-order depth-first, bounded), and target downloads
//! (5.7) with length and hash checks and a verified local cache.
//!
//! The reference time is the caller's: this module never reads a clock.

use crate::TufError;
use crate::fetch::{Fetcher, read_limited};
use crate::metadata::{TargetFile, check_length_and_hashes};
use crate::trusted::{TimestampUpdate, TrustedSet};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Bounds on one update, as python-tuf's `UpdaterConfig`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most root versions accepted in one update (more is refused).
    pub max_root_rotations: u64,
    /// Most delegated roles visited in one target search.
    pub max_delegations: usize,
    /// Most bytes of one root.json.
    pub root_max_length: u64,
    /// Most bytes of timestamp.json.
    pub timestamp_max_length: u64,
    /// Most bytes of snapshot.json when the timestamp gives no length.
    pub snapshot_max_length: u64,
    /// Most bytes of a targets role when the snapshot gives no length.
    pub targets_max_length: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_root_rotations: 256,
            max_delegations: 32,
            root_max_length: 512_000,
            timestamp_max_length: 16_384,
            snapshot_max_length: 2_000_000,
            targets_max_length: 5_000_000,
        }
    }
}

/// Characters Python's `urllib.parse.quote(s, "")` leaves alone.
const QUOTE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'.').remove(b'-').remove(b'~');

/// A role name or target path as one safe file or URL path component.
pub fn quote(name: &str) -> String {
    let quoted = utf8_percent_encode(name, QUOTE).to_string();
    match quoted.as_str() {
        "" | "." | ".." => quoted.replace('.', "%2E") + "%00",
        _ => quoted,
    }
}

/// Writes the first trusted root into an empty metadata directory (the
/// conformance `init`): it must be well-formed and self-signed.
pub fn init(metadata_dir: &Path, root: &[u8], now: jiff::Timestamp) -> Result<(), TufError> {
    TrustedSet::new(root, now)?;
    std::fs::create_dir_all(metadata_dir).map_err(|source| TufError::Io {
        what: metadata_dir.display().to_string(),
        source,
    })?;
    write_atomic(metadata_dir, "root.json", root)
}

fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> Result<(), TufError> {
    let io = |source| TufError::Io {
        what: dir.join(name).display().to_string(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(data).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(dir.join(name)).map_err(|e| io(e.error))?;
    Ok(())
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

/// A TUF client bound to one metadata directory, one repository and one
/// reference time.
pub struct Updater<'f> {
    dir: PathBuf,
    metadata_url: String,
    fetcher: &'f dyn Fetcher,
    limits: Limits,
    trusted: TrustedSet,
    refreshed: bool,
    accepted_roots: Vec<Vec<u8>>,
}

impl<'f> Updater<'f> {
    /// Loads the trusted root from `metadata_dir/root.json` and verifies it;
    /// nothing is fetched yet.
    pub fn new(
        metadata_dir: &Path,
        metadata_url: &str,
        fetcher: &'f dyn Fetcher,
        now: jiff::Timestamp,
        limits: Limits,
    ) -> Result<Self, TufError> {
        let path = metadata_dir.join("root.json");
        let root = ward_input::read_bounded(&path, "trusted TUF root", limits.root_max_length)
            .map_err(|e| TufError::NoTrustedRoot(e.to_string()))?;
        Ok(Self {
            dir: metadata_dir.to_path_buf(),
            metadata_url: with_slash(metadata_url),
            fetcher,
            trusted: TrustedSet::new(&root, now)?,
            limits,
            refreshed: false,
            accepted_roots: Vec::new(),
        })
    }

    /// The metadata verified so far.
    pub fn trusted(&self) -> &TrustedSet {
        &self.trusted
    }

    /// The root versions this updater accepted (5.3), oldest first, each
    /// exactly as received: the audit trail of a rotation.
    pub fn accepted_roots(&self) -> &[Vec<u8>] {
        &self.accepted_roots
    }

    /// Updates root, timestamp, snapshot and top-level targets (5.3–5.6).
    /// Each file is written to the metadata directory as soon as it is
    /// accepted, exactly as received; a refused file leaves the trusted one.
    pub fn refresh(&mut self) -> Result<(), TufError> {
        self.refreshed = true;
        self.load_root()?;
        self.load_timestamp()?;
        self.load_snapshot()?;
        self.load_targets("targets", "root")
    }

    fn download(&self, role: &str, limit: u64, version: Option<u64>) -> Result<Vec<u8>, TufError> {
        let url = match version {
            Some(v) => format!("{}{v}.{}.json", self.metadata_url, quote(role)),
            None => format!("{}{}.json", self.metadata_url, quote(role)),
        };
        read_limited(self.fetcher.open(&url)?, limit, &url)
    }

    fn local(&self, role: &str, limit: u64) -> Option<Vec<u8>> {
        ward_input::read_bounded(&self.dir.join(format!("{}.json", quote(role))), "TUF metadata", limit).ok()
    }

    fn persist(&self, role: &str, data: &[u8]) -> Result<(), TufError> {
        write_atomic(&self.dir, &format!("{}.json", quote(role)), data)
    }

    fn remove(&self, role: &str) -> Result<(), TufError> {
        match std::fs::remove_file(self.dir.join(format!("{role}.json"))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(TufError::Io {
                what: format!("{role}.json"),
                source: e,
            }),
            _ => Ok(()),
        }
    }

    /// 5.3: every next root version until the repository has no more, each
    /// verified by the previous root and by itself; at most
    /// `max_root_rotations` of them. If the timestamp or snapshot keys
    /// changed, the trusted timestamp and snapshot are deleted (5.3.11), so
    /// a repository recovering from a fast-forward attack can roll them back.
    fn load_root(&mut self) -> Result<(), TufError> {
        let start = self.trusted.root().version;
        let before = [
            self.trusted.root().body.role_key_set("timestamp"),
            self.trusted.root().body.role_key_set("snapshot"),
        ];
        for n in 1..=self.limits.max_root_rotations.saturating_add(1) {
            let data = match self.download("root", self.limits.root_max_length, Some(start + n)) {
                Err(TufError::NotFound { .. }) => break,
                other => other?,
            };
            if n > self.limits.max_root_rotations {
                return Err(TufError::TooManyRootRotations {
                    limit: self.limits.max_root_rotations,
                });
            }
            self.trusted.update_root(&data)?;
            self.persist("root", &data)?;
            self.accepted_roots.push(data);
        }
        let after = [
            self.trusted.root().body.role_key_set("timestamp"),
            self.trusted.root().body.role_key_set("snapshot"),
        ];
        if !same_keys(&before[0], &after[0]) || !same_keys(&before[1], &after[1]) {
            self.remove("timestamp")?;
            self.remove("snapshot")?;
        }
        Ok(())
    }

    /// 5.4: the local timestamp (if still valid) is the rollback baseline;
    /// the repository's is then checked against it.
    fn load_timestamp(&mut self) -> Result<(), TufError> {
        let limit = self.limits.timestamp_max_length;
        if let Some(local) = self.local("timestamp", limit) {
            // A local file that fails (expired, keys rotated) is no baseline.
            let _ = self.trusted.update_timestamp(&local);
        }
        let data = self.download("timestamp", limit, None)?;
        if self.trusted.update_timestamp(&data)? == TimestampUpdate::New {
            self.persist("timestamp", &data)?;
        }
        Ok(())
    }

    /// 5.5: the local snapshot, if it is the one the timestamp names, is
    /// kept; otherwise it is the baseline for the repository's.
    fn load_snapshot(&mut self) -> Result<(), TufError> {
        if let Some(local) = self.local("snapshot", self.limits.snapshot_max_length)
            && self.trusted.update_snapshot(&local, true).is_ok()
        {
            return Ok(());
        }
        let meta = self
            .trusted
            .timestamp()
            .map(|t| t.body.snapshot_meta.clone())
            .ok_or_else(|| TufError::format("snapshot", "no trusted timestamp"))?;
        let limit = meta.length.unwrap_or(self.limits.snapshot_max_length);
        let version = self.trusted.root().body.consistent_snapshot.then_some(meta.version);
        let data = self.download("snapshot", limit, version)?;
        self.trusted.update_snapshot(&data, false)?;
        self.persist("snapshot", &data)
    }

    /// 5.6: a targets role, from the trusted set (re-verified against this
    /// delegator), the metadata directory, or the repository.
    fn load_targets(&mut self, role: &str, delegator: &str) -> Result<(), TufError> {
        if self.trusted.targets(role).is_some() {
            return self.trusted.verify_cached(role, delegator);
        }
        if let Some(local) = self.local(role, self.limits.targets_max_length)
            && self.trusted.update_delegated_targets(&local, role, delegator).is_ok()
        {
            return Ok(());
        }
        let meta = self
            .trusted
            .snapshot()
            .and_then(|s| s.body.meta.get(&format!("{role}.json")))
            .cloned()
            .ok_or_else(|| TufError::Delegation {
                role: role.to_string(),
                reason: "delegated but not listed in the trusted snapshot".into(),
            })?;
        let limit = meta.length.unwrap_or(self.limits.targets_max_length);
        let version = self.trusted.root().body.consistent_snapshot.then_some(meta.version);
        let data = self.download(role, limit, version)?;
        self.trusted.update_delegated_targets(&data, role, delegator)?;
        self.persist(role, &data)
    }

    /// Finds `target_path` in the targets metadata (refreshing first if this
    /// updater has not): pre-order depth-first through the delegations, in
    /// their listed order, stopping at a terminating match, visiting each
    /// (role, delegator) pair once and at most `max_delegations` roles.
    pub fn target_info(&mut self, target_path: &str) -> Result<TargetFile, TufError> {
        if !self.refreshed {
            self.refresh()?;
        }
        let mut stack = vec![("targets".to_string(), "root".to_string())];
        let mut visited: Vec<(String, String)> = Vec::new();
        while visited.len() <= self.limits.max_delegations {
            let Some((role, delegator)) = stack.pop() else { break };
            if visited.contains(&(role.clone(), delegator.clone())) {
                continue;
            }
            self.load_targets(&role, &delegator)?;
            let Some(targets) = self.trusted.targets(&role) else {
                break;
            };
            if let Some(found) = targets.body.targets.get(target_path) {
                return Ok(found.clone());
            }
            let mut children = Vec::new();
            if let Some(delegations) = &targets.body.delegations {
                for child in &delegations.roles {
                    if child.covers(target_path) {
                        children.push((child.name.clone(), role.clone()));
                        if child.terminating {
                            stack.clear();
                            break;
                        }
                    }
                }
            }
            visited.push((role, delegator));
            stack.extend(children.into_iter().rev());
        }
        Err(TufError::TargetNotFound(target_path.to_string()))
    }

    /// The verified local copy of a target in `target_dir`, if there is one
    /// with the trusted length and hashes.
    pub fn cached_target(&self, target_dir: &Path, target_path: &str, info: &TargetFile) -> Option<PathBuf> {
        let path = target_dir.join(quote(target_path));
        let data = ward_input::read_bounded(&path, "cached TUF target", info.length).ok()?;
        check_length_and_hashes(target_path, &data, Some(info.length), Some(&info.hashes)).ok()?;
        Some(path)
    }

    /// Downloads a target (hash-prefixed name under consistent snapshots),
    /// reading at most its trusted length, checks length and every hash,
    /// and only then writes it to `target_dir`.
    pub fn download_target(
        &self,
        target_base_url: &str,
        target_dir: &Path,
        target_path: &str,
        info: &TargetFile,
    ) -> Result<PathBuf, TufError> {
        // The path is joined to a URL or a mirror directory: it must stay
        // below it, whatever the (signed) metadata says.
        if target_path.split('/').any(|part| matches!(part, "" | "." | "..")) || target_path.contains('\\') {
            return Err(TufError::format(
                "targets",
                format!("target path {target_path:?} is not a relative path below the targets URL"),
            ));
        }
        let mut remote = target_path.to_string();
        if self.trusted.root().body.consistent_snapshot
            && let Some(hash) = info.hashes.values().next()
        {
            let (dir, base) = match target_path.rsplit_once('/') {
                Some((dir, base)) => (format!("{dir}/"), base),
                None => (String::new(), target_path),
            };
            remote = format!("{dir}{hash}.{base}");
        }
        let url = format!("{}{remote}", with_slash(target_base_url));
        let data = read_limited(self.fetcher.open(&url)?, info.length, &url)?;
        check_length_and_hashes(target_path, &data, Some(info.length), Some(&info.hashes))?;
        let name = quote(target_path);
        write_atomic(target_dir, &name, &data)?;
        Ok(target_dir.join(name))
    }
}

fn same_keys(a: &(Vec<Option<crate::keys::PublicKey>>, u64), b: &(Vec<Option<crate::keys::PublicKey>>, u64)) -> bool {
    a.1 == b.1 && a.0.iter().all(|k| b.0.contains(k)) && b.0.iter().all(|k| a.0.contains(k))
}
