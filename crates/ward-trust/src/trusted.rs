//! The trusted metadata set: the checks of the TUF client workflow
//! (specification 1.0, section 5.3–5.6) on bytes, without any I/O. Each
//! `update_*` either accepts the new metadata into the set or refuses it
//! with the rule that failed, leaving the set as it was (except where the
//! workflow keeps an expired or stale file as the baseline for rollback
//! checks, as python-tuf's `TrustedMetadataSet` does).

use crate::TufError;
use crate::metadata::{self, Envelope, KeyMap, RoleKeys, Root, Snapshot, Targets, Timestamp};
use std::collections::BTreeMap;

/// What [`TrustedSet::update_timestamp`] did with a new timestamp.
#[derive(Debug, PartialEq, Eq)]
pub enum TimestampUpdate {
    /// A newer timestamp was accepted (persist it).
    New,
    /// Same version as the trusted one: the trusted one stays (nothing to persist).
    Unchanged,
}

/// Metadata verified so far, against one reference time.
#[derive(Debug)]
pub struct TrustedSet {
    now: jiff::Timestamp,
    root: Envelope<Root>,
    timestamp: Option<Envelope<Timestamp>>,
    snapshot: Option<Envelope<Snapshot>>,
    targets: BTreeMap<String, Envelope<Targets>>,
}

impl TrustedSet {
    /// Starts from a trusted root (5.2): it must be well-formed and signed
    /// by a threshold of its own root keys. Its expiry is not checked here
    /// (a newer root may replace it).
    pub fn new(root: &[u8], now: jiff::Timestamp) -> Result<Self, TufError> {
        let root: Envelope<Root> = metadata::parse(root, "root")?;
        root.verify("root", &root.body.keys, &root.body.role("root"))?;
        Ok(Self {
            now,
            root,
            timestamp: None,
            snapshot: None,
            targets: BTreeMap::new(),
        })
    }

    /// The trusted root.
    pub fn root(&self) -> &Envelope<Root> {
        &self.root
    }

    /// The trusted timestamp, if any.
    pub fn timestamp(&self) -> Option<&Envelope<Timestamp>> {
        self.timestamp.as_ref()
    }

    /// The trusted snapshot, if any.
    pub fn snapshot(&self) -> Option<&Envelope<Snapshot>> {
        self.snapshot.as_ref()
    }

    /// A trusted targets role (top-level `targets` or delegated).
    pub fn targets(&self, role: &str) -> Option<&Envelope<Targets>> {
        self.targets.get(role)
    }

    /// 5.3: the next root version, signed by a threshold of the trusted
    /// root's keys *and* of its own, with exactly the next version number.
    pub fn update_root(&mut self, data: &[u8]) -> Result<(), TufError> {
        if self.timestamp.is_some() {
            return Err(TufError::format("root", "cannot update root after timestamp"));
        }
        let new: Envelope<Root> = metadata::parse(data, "root")?;
        new.verify("root", &self.root.body.keys, &self.root.body.role("root"))?;
        if new.version != self.root.version + 1 {
            return Err(TufError::MixAndMatch {
                role: "root".into(),
                expected: self.root.version + 1,
                got: new.version,
            });
        }
        new.verify("root", &new.body.keys, &new.body.role("root"))?;
        self.root = new;
        Ok(())
    }

    /// 5.4: a timestamp signed by the root's timestamp keys, not older than
    /// the trusted one, and not pointing at an older snapshot. An expired
    /// one is kept as the rollback baseline but refused (`freeze`).
    pub fn update_timestamp(&mut self, data: &[u8]) -> Result<TimestampUpdate, TufError> {
        if self.snapshot.is_some() {
            return Err(TufError::format("timestamp", "cannot update timestamp after snapshot"));
        }
        // 5.3.10: the final root must not have expired.
        self.root.check_expiry("root", self.now)?;
        let new: Envelope<Timestamp> = metadata::parse(data, "timestamp")?;
        new.verify("timestamp", &self.root.body.keys, &self.root.body.role("timestamp"))?;
        if let Some(trusted) = &self.timestamp {
            if new.version < trusted.version {
                return Err(TufError::Rollback {
                    role: "timestamp".into(),
                    trusted: trusted.version,
                    got: new.version,
                });
            }
            if new.version == trusted.version {
                return Ok(TimestampUpdate::Unchanged);
            }
            let (old_snap, new_snap) = (trusted.body.snapshot_meta.version, new.body.snapshot_meta.version);
            if new_snap < old_snap {
                return Err(TufError::Rollback {
                    role: "snapshot".into(),
                    trusted: old_snap,
                    got: new_snap,
                });
            }
        }
        self.timestamp = Some(new);
        self.check_final_timestamp()?;
        Ok(TimestampUpdate::New)
    }

    fn check_final_timestamp(&self) -> Result<&Envelope<Timestamp>, TufError> {
        let ts = self
            .timestamp
            .as_ref()
            .ok_or_else(|| TufError::format("snapshot", "no trusted timestamp"))?;
        ts.check_expiry("timestamp", self.now)?;
        Ok(ts)
    }

    /// 5.5: a snapshot matching the timestamp's length and hashes (unless
    /// `local`: a previously verified file, checked only for signature and
    /// rollback baseline), signed by the snapshot keys, never dropping or
    /// rolling back a targets role the trusted snapshot lists; then it must
    /// be the version the timestamp names (`mix-and-match`) and unexpired.
    pub fn update_snapshot(&mut self, data: &[u8], local: bool) -> Result<(), TufError> {
        if !self.targets.is_empty() {
            return Err(TufError::format("snapshot", "cannot update snapshot after targets"));
        }
        let ts = self.check_final_timestamp()?;
        if !local {
            let meta = &ts.body.snapshot_meta;
            metadata::check_length_and_hashes("snapshot", data, meta.length, meta.hashes.as_ref())?;
        }
        let new: Envelope<Snapshot> = metadata::parse(data, "snapshot")?;
        new.verify("snapshot", &self.root.body.keys, &self.root.body.role("snapshot"))?;
        if let Some(trusted) = &self.snapshot {
            for (name, old) in &trusted.body.meta {
                let Some(now) = new.body.meta.get(name) else {
                    return Err(TufError::RoleRemoved { name: name.clone() });
                };
                if now.version < old.version {
                    return Err(TufError::Rollback {
                        role: name.trim_end_matches(".json").to_string(),
                        trusted: old.version,
                        got: now.version,
                    });
                }
            }
        }
        self.snapshot = Some(new);
        self.check_final_snapshot()
    }

    fn check_final_snapshot(&self) -> Result<(), TufError> {
        let ts = self.check_final_timestamp()?;
        let snap = self
            .snapshot
            .as_ref()
            .ok_or_else(|| TufError::format("targets", "no trusted snapshot"))?;
        snap.check_expiry("snapshot", self.now)?;
        if snap.version != ts.body.snapshot_meta.version {
            return Err(TufError::MixAndMatch {
                role: "snapshot".into(),
                expected: ts.body.snapshot_meta.version,
                got: snap.version,
            });
        }
        Ok(())
    }

    /// The keys and delegation `delegator` gives `role` (`root` delegates
    /// `targets`).
    fn delegation(&self, role: &str, delegator: &str) -> Result<(KeyMap, RoleKeys), TufError> {
        if delegator == "root" {
            return Ok((self.root.body.keys.clone(), self.root.body.role("targets")));
        }
        let parent = self.targets.get(delegator).ok_or_else(|| TufError::Delegation {
            role: role.to_string(),
            reason: format!("delegator {delegator} is not trusted"),
        })?;
        let delegations = parent.body.delegations.as_ref().ok_or_else(|| TufError::Delegation {
            role: role.to_string(),
            reason: format!("{delegator} delegates nothing"),
        })?;
        let entry = delegations
            .roles
            .iter()
            .find(|r| r.name == role)
            .ok_or_else(|| TufError::Delegation {
                role: role.to_string(),
                reason: format!("{delegator} does not delegate it"),
            })?;
        Ok((delegations.keys.clone(), entry.keys.clone()))
    }

    /// Checks that an already trusted role is also validly signed for the
    /// delegation `delegator` gives it: a role reached through a second
    /// delegator does not inherit trust from the first.
    pub fn verify_cached(&self, role: &str, delegator: &str) -> Result<(), TufError> {
        let (keys, role_keys) = self.delegation(role, delegator)?;
        let cached = self.targets.get(role).ok_or_else(|| TufError::Delegation {
            role: role.to_string(),
            reason: "not trusted".into(),
        })?;
        cached.verify(role, &keys, &role_keys)
    }

    /// 5.6 / 5.7: a targets role listed in the snapshot, matching its
    /// length, hashes and version, signed by the delegator's keys for it,
    /// and unexpired.
    pub fn update_delegated_targets(&mut self, data: &[u8], role: &str, delegator: &str) -> Result<(), TufError> {
        self.check_final_snapshot()?;
        let name = format!("{role}.json");
        let meta = self
            .snapshot
            .as_ref()
            .and_then(|s| s.body.meta.get(&name))
            .ok_or_else(|| TufError::Delegation {
                role: role.to_string(),
                reason: "not listed in the trusted snapshot".into(),
            })?
            .clone();
        metadata::check_length_and_hashes(role, data, meta.length, meta.hashes.as_ref())?;
        let new: Envelope<Targets> = metadata::parse(data, role)?;
        let (keys, role_keys) = self.delegation(role, delegator)?;
        new.verify(role, &keys, &role_keys)?;
        if new.version != meta.version {
            return Err(TufError::MixAndMatch {
                role: role.to_string(),
                expected: meta.version,
                got: new.version,
            });
        }
        new.check_expiry(role, self.now)?;
        self.targets.insert(role.to_string(), new);
        Ok(())
    }
}
