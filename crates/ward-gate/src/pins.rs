//! Release pins: every package file is held to the bytes the ledger first
//! allowed for it, so a republished or tampered release denies with
//! `release-changed`.
//!
//! The pins come from the ledger's own index (`LedgerStore::release_pin`:
//! one lookup per artifact, never a scan of the log, so starting a gate
//! costs the same at a million entries as at none). The gate keeps the
//! pins it looked up or recorded in this process in a map in front of it.

use crate::{ExpectedDigest, Gate};
use std::sync::{Arc, Mutex};
use ward_core::{Artifact, ReasonCode};
use ward_ledger::LedgerError;

/// `(purl, file name)` to `(sha256, ledger entry index)` of recorded allows
/// this gate has looked up or recorded.
pub type RecordedAllows = std::collections::HashMap<(String, String), (String, u64)>;

impl Gate {
    /// Holds every package file to the bytes the ledger first allowed for it:
    /// other bytes under the same package and file name deny with
    /// `release-changed` (a republished or tampered release). Reads nothing
    /// now: each artifact's pin is looked up in the ledger's index.
    pub fn with_release_pins(mut self) -> Result<Self, LedgerError> {
        self.pins = Some(Arc::new(Mutex::new(RecordedAllows::new())));
        Ok(self)
    }

    /// The digest the ledger pinned for this artifact's package file, if
    /// any. A pin that cannot be looked up denies (fail closed).
    pub(crate) fn pinned(&self, artifact: &Artifact) -> Option<ExpectedDigest> {
        let pins = self.pins.as_ref()?;
        let key = (artifact.id.to_purl(), artifact.file_name.clone());
        let known = pins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        let (sha256, index) = match known {
            Some(pin) => pin,
            None => match self.ledger.as_ref()?.release_pin(&key.0, &key.1) {
                Ok(Some(pin)) => {
                    let pin = (pin.sha256, pin.index);
                    pins.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .entry(key)
                        .or_insert(pin)
                        .clone()
                }
                Ok(None) => return None,
                Err(e) => {
                    return Some(ExpectedDigest {
                        algorithm: "sha256",
                        hex: String::new(),
                        source: format!("the ledger's release pins (unreadable: {e})"),
                        code: ReasonCode::ReleaseChanged,
                    });
                }
            },
        };
        Some(ExpectedDigest {
            algorithm: "sha256",
            hex: sha256,
            source: format!("ledger entry {index}"),
            code: ReasonCode::ReleaseChanged,
        })
    }
}
