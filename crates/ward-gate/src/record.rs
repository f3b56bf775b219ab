//! Recording: a decision appended to the ledger (one group-committed batch)
//! and the inclusion proof a third party can check.

use crate::{Evaluation, Gate};
use serde::Serialize;
use ward_ledger::LedgerError;
use ward_ledger::record::{DecisionRecord, RecordError};

/// Why a decision was not recorded (it then does not allow).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordFailed {
    /// The ledger could not append it.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The record could not be built or signed.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// Where a decision was recorded, with the proof a third party can check.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    /// The entry's index in the ledger.
    pub index: u64,
    /// The ledger size after the append.
    pub size: u64,
    /// The entry's leaf hash (hex).
    pub leaf_hash: String,
    /// The inclusion proof against `checkpoint` (hex hashes, leaf to root).
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint at `size`.
    pub checkpoint: String,
    /// The ledger's verifier key (checks the checkpoint and the record).
    pub verifier_key: String,
}

impl Gate {
    /// Appends the decision to the ledger (one batch, durable before this
    /// returns) and returns its inclusion proof. `Ok(None)` when the gate
    /// has no ledger. An error means the decision is **not** recorded.
    pub fn record(&self, e: &Evaluation, context: &str) -> Result<Option<Recorded>, RecordFailed> {
        let Some(ledger) = &self.ledger else { return Ok(None) };
        let record = DecisionRecord::new(
            &e.artifact,
            &e.checks,
            &e.decision,
            &e.evidence,
            e.time,
            env!("CARGO_PKG_VERSION"),
            context,
        )?;
        // What the cooldown and history rules compared, recorded with the decision.
        let record = match &e.release {
            Some(release) => record.with_release(
                serde_json::to_value(release)
                    .map_err(|err| RecordError(format!("cannot serialise the release history: {err}")))?,
            ),
            None => record,
        };
        let entry = record.sign(ledger.signer()?)?;
        let receipt = ledger.append_one(entry.clone())?;
        if e.decision.allowed()
            && let (Some(store), Some(traits)) = (&self.release_traits, &e.traits)
        {
            // The decision is recorded; a store that cannot be written
            // loses only this release as a future baseline.
            let _ = store.remember(&e.artifact, traits, Some(receipt.index));
        }
        if e.decision.allowed()
            && let Some(pins) = &self.pins
            && let Ok(mut pins) = pins.lock()
        {
            pins.entry((e.artifact.id.to_purl(), e.artifact.file_name.clone()))
                .or_insert_with(|| (e.artifact.digests.sha256.to_hex(), receipt.index));
        }
        Ok(Some(Recorded {
            index: receipt.index,
            size: receipt.size,
            leaf_hash: hex::encode(ward_ledger::leaf_hash(&entry)),
            inclusion_proof: receipt.inclusion_proof.iter().map(hex::encode).collect(),
            checkpoint: receipt.checkpoint,
            verifier_key: ledger.verifier()?.to_vkey(),
        }))
    }
}
