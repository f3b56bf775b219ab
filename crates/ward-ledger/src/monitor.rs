//! Watching a log: remember the last verified checkpoint, and on each run
//! check that the new one is signed by the log's key and extends it.
//!
//! The new tree is rebuilt from the level-0 tiles (32 bytes per entry) and
//! both roots are recomputed: a rollback (smaller tree), a fork (same size,
//! another root, or a tree that does not extend the old one) or a bad
//! signature is an alert. Proof-based checking from higher tile levels would
//! read less for very large logs; this reads every leaf hash once.

use crate::checkpoint::SignedCheckpoint;
use crate::hash::Hash;
use crate::note::{NoteError, NoteVerifier};
use crate::tiles::{TILE_WIDTH, TileError, TileSource, decode_tile, tile_path};
use crate::tree::MerkleTree;

/// What a monitor run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorOutcome {
    /// First run: the checkpoint verified and its tiles produce its root.
    FirstSeen {
        /// Size.
        size: u64,
    },
    /// The new checkpoint extends the remembered one.
    Consistent {
        /// Remembered size.
        from: u64,
        /// New size.
        to: u64,
    },
}

/// An alert: the log misbehaved (or could not be read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorAlert {
    /// The checkpoint's signature (or format) is bad.
    #[error("ALERT bad checkpoint: {0}")]
    BadCheckpoint(#[from] NoteError),
    /// The log shrank.
    #[error("ALERT rollback: the log now has {now} entries, {before} were verified before")]
    Rollback {
        /// Remembered size.
        before: u64,
        /// New size.
        now: u64,
    },
    /// Same size, different root, or a tree that does not extend the old one.
    #[error("ALERT fork: {0}")]
    Fork(String),
    /// The tiles do not produce the checkpoint's root.
    #[error("ALERT the log's tiles do not match its checkpoint: {0}")]
    TilesMismatch(String),
    /// Too few of the required witnesses cosigned the checkpoint.
    #[error("ALERT witnesses: {0}")]
    Witnesses(NoteError),
    /// The log could not be read.
    #[error("cannot read the log: {0}")]
    Unreachable(#[from] TileError),
}

/// Rebuilds the tree of `size` leaves from level-0 tiles.
pub fn tree_from_tiles(source: &dyn TileSource, size: u64) -> Result<MerkleTree, MonitorAlert> {
    let mut tree = MerkleTree::new();
    let mut n = 0;
    while n * TILE_WIDTH < size {
        let width = (size - n * TILE_WIDTH).min(TILE_WIDTH);
        for h in decode_tile(&source.read(&tile_path(0, n, width))?, width)? {
            tree.push(h);
        }
        n += 1;
    }
    Ok(tree)
}

/// Which witnesses must cosign a checkpoint before the monitor trusts it.
#[derive(Clone, Debug, Default)]
pub struct WitnessPolicy {
    /// The named witnesses (cosignature keys).
    pub witnesses: Vec<NoteVerifier>,
    /// How many distinct ones must have cosigned.
    pub quorum: usize,
}

/// One monitor run: verifies the log's current checkpoint against the
/// remembered one (`previous`, a checkpoint note) and returns the outcome
/// and the note to remember next.
pub fn check(
    source: &dyn TileSource,
    key: &NoteVerifier,
    previous: Option<&[u8]>,
) -> Result<(MonitorOutcome, Vec<u8>), MonitorAlert> {
    check_with_witnesses(source, key, previous, &WitnessPolicy::default())
}

/// [`check`], also requiring `witnesses.quorum` of `witnesses.witnesses`
/// to have cosigned the new checkpoint.
pub fn check_with_witnesses(
    source: &dyn TileSource,
    key: &NoteVerifier,
    previous: Option<&[u8]>,
    witnesses: &WitnessPolicy,
) -> Result<(MonitorOutcome, Vec<u8>), MonitorAlert> {
    let bytes = source.read("checkpoint")?;
    let new = SignedCheckpoint::verify(&bytes, key)?;
    if witnesses.quorum > 0 {
        new.note
            .verify_witnesses(&witnesses.witnesses, witnesses.quorum)
            .map_err(MonitorAlert::Witnesses)?;
    }
    let old = previous.map(|p| SignedCheckpoint::verify(p, key)).transpose()?;
    let (n, new_root): (u64, Hash) = (new.checkpoint.size, new.checkpoint.root);
    if let Some(old) = &old {
        let (m, old_root) = (old.checkpoint.size, old.checkpoint.root);
        if n < m {
            return Err(MonitorAlert::Rollback { before: m, now: n });
        }
        if n == m && new_root != old_root {
            return Err(MonitorAlert::Fork(format!(
                "two checkpoints of size {n} with different roots"
            )));
        }
    }
    let tree = tree_from_tiles(source, n)?;
    if tree.root() != new_root {
        return Err(MonitorAlert::TilesMismatch(format!(
            "the {n} leaf hashes do not produce the signed root"
        )));
    }
    let outcome = match old {
        None => MonitorOutcome::FirstSeen { size: n },
        Some(old) => {
            let m = old.checkpoint.size;
            let recomputed = tree.root_at(m).map_err(|e| MonitorAlert::Fork(e.to_string()))?;
            if recomputed != old.checkpoint.root {
                return Err(MonitorAlert::Fork(format!(
                    "the new tree of {n} entries does not extend the verified tree of {m}"
                )));
            }
            MonitorOutcome::Consistent { from: m, to: n }
        }
    };
    Ok((outcome, bytes))
}
