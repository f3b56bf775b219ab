//! The alerts that are open, kept on disk across restarts, so a finding is
//! alerted once until it goes away (no floods), and its going away is
//! noticed even after `ward watch` restarted.
//!
//! One JSON file (`alerts.json` in the watch state directory), replaced
//! atomically (temporary file, fsync, rename): a crash leaves the old or
//! the new file, never half of one. A file ward did not write is refused,
//! never overwritten.

use crate::alert::{Alert, AlertChange, ChangeKind};
use crate::error::AlertError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The file name inside the state directory.
pub const FILE: &str = "alerts.json";

/// Largest state file read.
const MAX_BYTES: u64 = 256 << 20;

/// An alert that is open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpenAlert {
    /// The alert as last seen.
    pub alert: Alert,
    /// When it was raised.
    pub raised_at: jiff::Timestamp,
    /// The ledger entry that recorded it.
    #[serde(default)]
    pub ledger_index: Option<u64>,
}

#[derive(Serialize, Deserialize, Default)]
struct OnDisk {
    version: u32,
    open: BTreeMap<String, OpenAlert>,
}

/// The open alerts, by key.
#[derive(Debug)]
pub struct AlertState {
    path: PathBuf,
    open: BTreeMap<String, OpenAlert>,
}

impl AlertState {
    /// Opens the state in `dir` (an absent file: nothing open).
    pub fn open(dir: &Path) -> Result<Self, AlertError> {
        let path = dir.join(FILE);
        let open = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(AlertError::io(&path, e)),
            Ok(_) => {
                let bytes = ward_input::read_bounded(&path, "alert state", MAX_BYTES)
                    .map_err(|e| AlertError::State(path.display().to_string(), e.to_string()))?;
                let disk: OnDisk = serde_json::from_slice(&bytes)
                    .map_err(|e| AlertError::State(path.display().to_string(), e.to_string()))?;
                if disk.version != 1 {
                    return Err(AlertError::State(
                        path.display().to_string(),
                        format!("version {}", disk.version),
                    ));
                }
                disk.open
            }
        };
        Ok(Self { path, open })
    }

    /// The open alerts, by key.
    pub fn open_alerts(&self) -> &BTreeMap<String, OpenAlert> {
        &self.open
    }

    /// What changed between the open alerts and `current` (the alerts of a
    /// run that read everything `covered` accepts): new keys are raised,
    /// open keys no longer present and covered by this run are resolved.
    /// An alert the run could not have seen (another path, a path that
    /// could not be read) stays open. Nothing is changed here: apply the
    /// changes with [`AlertState::apply`] once they are recorded.
    pub fn diff(&self, current: &[Alert], covered: &dyn Fn(&Alert) -> bool, now: jiff::Timestamp) -> Vec<AlertChange> {
        let mut changes = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for alert in current {
            let key = alert.key();
            if !seen.insert(key.clone()) || self.open.contains_key(&key) {
                continue;
            }
            changes.push(AlertChange {
                event: ChangeKind::AlertRaised,
                key,
                time: now,
                raised_at: now,
                ledger_index: None,
                alert: alert.clone(),
            });
        }
        for (key, open) in &self.open {
            if !seen.contains(key) && covered(&open.alert) {
                changes.push(AlertChange {
                    event: ChangeKind::AlertResolved,
                    key: key.clone(),
                    time: now,
                    raised_at: open.raised_at,
                    ledger_index: None,
                    alert: open.alert.clone(),
                });
            }
        }
        changes
    }

    /// Applies recorded changes and writes the file.
    pub fn apply(&mut self, changes: &[AlertChange]) -> Result<(), AlertError> {
        for c in changes {
            match c.event {
                ChangeKind::AlertRaised => {
                    self.open.insert(
                        c.key.clone(),
                        OpenAlert {
                            alert: c.alert.clone(),
                            raised_at: c.raised_at,
                            ledger_index: c.ledger_index,
                        },
                    );
                }
                ChangeKind::AlertResolved => {
                    self.open.remove(&c.key);
                }
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        self.save()
    }

    fn save(&self) -> Result<(), AlertError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| AlertError::io(dir, e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| AlertError::io(dir, e))?;
        let disk = OnDisk {
            version: 1,
            open: self.open.clone(),
        };
        serde_json::to_vec(&disk)
            .map_err(std::io::Error::other)
            .and_then(|b| tmp.write_all(&b))
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| AlertError::io(&self.path, e))?;
        tmp.persist(&self.path)
            .map_err(|e| AlertError::io(&self.path, e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn one_alert_per_finding_until_it_resolves_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let a = Alert::new("modified", "pkg:pypi/a@1", "/venv", "a/x.py", "changed");
        let b = Alert::new("unvetted", "pkg:pypi/b@2", "/other", "", "no allow");
        let all = |_: &Alert| true;
        let mut state = AlertState::open(dir.path()).unwrap();
        let first = state.diff(&[a.clone(), a.clone(), b.clone()], &all, t("2026-12-02T00:00:00Z"));
        assert_eq!(first.len(), 2, "a duplicate in one run is one alert");
        state.apply(&first).unwrap();
        // Restarted: the same findings raise nothing new.
        let mut state = AlertState::open(dir.path()).unwrap();
        assert!(
            state
                .diff(&[a.clone(), b.clone()], &all, t("2026-12-02T01:00:00Z"))
                .is_empty()
        );
        // b's path was not read this time: it stays open; a went away: resolved.
        let only_venv = |x: &Alert| x.location == "/venv";
        let gone = state.diff(&[], &only_venv, t("2026-12-02T02:00:00Z"));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].event, ChangeKind::AlertResolved);
        assert_eq!(gone[0].raised_at, t("2026-12-02T00:00:00Z"));
        state.apply(&gone).unwrap();
        // It comes back: a new alert.
        let again = state.diff(&[a.clone(), b], &all, t("2026-12-02T03:00:00Z"));
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].event, ChangeKind::AlertRaised);
    }

    #[test]
    fn a_file_ward_did_not_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "not json").unwrap();
        assert!(matches!(AlertState::open(dir.path()), Err(AlertError::State(..))));
    }
}
