//! Release pins: every package file is held to the bytes the ledger first
//! allowed for it, so a republished or tampered release denies with
//! `release-changed`.

use crate::{ExpectedDigest, Gate};
use std::sync::{Arc, Mutex};
use ward_core::{Artifact, ReasonCode};
use ward_ledger::LedgerError;

/// `(purl, file name)` to `(sha256, ledger entry index)` of recorded allows.
pub type RecordedAllows = std::collections::HashMap<(String, String), (String, u64)>;

impl Gate {
    /// Holds every package file to the bytes the ledger first allowed for it:
    /// other bytes under the same package and file name deny with
    /// `release-changed` (a republished or tampered release). Reads the whole
    /// ledger once, then keeps the pins up to date with every recorded allow.
    pub fn with_release_pins(mut self) -> Result<Self, LedgerError> {
        self.pins = Some(Arc::new(Mutex::new(self.recorded_allows()?)));
        Ok(self)
    }

    /// Every package file the ledger records as allowed: `(purl, file name)`
    /// to `(sha256, entry index)`, the first allow winning.
    fn recorded_allows(&self) -> Result<RecordedAllows, LedgerError> {
        let mut out = std::collections::HashMap::new();
        let Some(ledger) = &self.ledger else { return Ok(out) };
        let verifier = ledger.verifier()?;
        ledger.with_store(|ledger| -> Result<(), LedgerError> {
            for i in 0..ledger.size() {
                let statement = ward_ledger::record::open_record(&ledger.entry(i)?, &verifier)
                    .map_err(|e| LedgerError::Corrupt(format!("entry {i}: {e}")))?;
                let p = &statement["predicate"];
                if p["verificationResult"] != "PASSED" {
                    continue;
                }
                let subject = &statement["subject"][0];
                if let (Some(purl), Some(file), Some(sha)) = (
                    subject["name"].as_str(),
                    p["artifact"]["fileName"].as_str(),
                    subject["digest"]["sha256"].as_str(),
                ) {
                    out.entry((purl.to_string(), file.to_string()))
                        .or_insert_with(|| (sha.to_string(), i));
                }
            }
            Ok(())
        })??;
        Ok(out)
    }

    /// The digest the ledger pinned for this artifact's package file, if any.
    pub(crate) fn pinned(&self, artifact: &Artifact) -> Option<ExpectedDigest> {
        let pins = self.pins.as_ref()?.lock().ok()?;
        let (sha256, index) = pins.get(&(artifact.id.to_purl(), artifact.file_name.clone()))?;
        Some(ExpectedDigest {
            algorithm: "sha256",
            hex: sha256.clone(),
            source: format!("ledger entry {index}"),
            code: ReasonCode::ReleaseChanged,
        })
    }
}
