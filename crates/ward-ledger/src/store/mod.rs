//! Ledger storage behind one trait. The embedded backend is the default:
//! one directory, no server, crash-safe. The PostgreSQL backend serves
//! teams with many gates: the database's row lock is the one sequencer.
//! Everything above the trait (proofs, tiles, export, the full audit) is
//! written once for both.

mod embedded;
mod group;
mod pins;
mod postgres;
mod releases;

pub use embedded::EmbeddedLedger;
pub use group::{Appended, MAX_GROUP, SharedLedger};
pub use pins::ReleasePin;
pub use postgres::PostgresLedger;
pub use releases::{ReleaseRow, package_key};

use crate::checkpoint::SignedCheckpoint;
use crate::hash::{Hash, leaf_hash};
use crate::note::{NoteError, NoteSigner, NoteVerifier};
use crate::tiles::{TILE_HEIGHT, TILE_WIDTH, encode_bundle, entries_path, parse_index, tile_path};
use crate::tree::{Frontier, NodeSource, TreeError};
use std::path::Path;

/// Largest entry, so that every entry fits a tlog-tiles entry bundle.
pub const MAX_ENTRY_BYTES: usize = 65_535;

/// Why a ledger operation failed. Nothing is acknowledged on any error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A file could not be read or written (a full disk lands here).
    #[error("ledger I/O on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database failed (a lost connection lands here).
    #[error("ledger database: {0}")]
    Database(String),
    /// The ledger's index of release pins could not be read or written.
    #[error("ledger index {0}")]
    Index(String),
    /// The stored log contradicts its own signed checkpoint.
    #[error("ledger is corrupt: {0}")]
    Corrupt(String),
    /// The checkpoint is missing or older than entries the log had already
    /// acknowledged: it was deleted or replaced by an older copy. The log
    /// is left exactly as it is; nothing is cut.
    #[error("ledger checkpoint {path}: {detail}")]
    Rollback {
        /// The checkpoint file.
        path: String,
        /// What was found.
        detail: String,
    },
    /// A ledger file that is read whole (the checkpoint, the key) is not a
    /// regular file or is larger than its limit.
    #[error(transparent)]
    Input(#[from] ward_input::InputError),
    /// A checkpoint or key problem.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// A proof request outside the tree.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// An entry over [`MAX_ENTRY_BYTES`].
    #[error("entry of {0} bytes is larger than the {MAX_ENTRY_BYTES}-byte limit")]
    EntryTooLarge(usize),
    /// A size or count from the ledger's files does not fit this platform's
    /// `usize`, so it cannot be read into memory.
    #[error("ledger {what} of {value} does not fit in this platform's address space")]
    TooLarge {
        /// What was being sized (for example "leaf hash bytes").
        what: &'static str,
        /// The value that does not fit.
        value: u64,
        /// The failed conversion.
        #[source]
        source: std::num::TryFromIntError,
    },
    /// A read-only snapshot was asked to append.
    #[error("this ledger was opened read-only (a snapshot beside the running writer); it cannot append")]
    ReadOnly,
    /// The group commit this entry was part of failed (the same error is
    /// handed to every caller in the batch; none is acknowledged).
    #[error(transparent)]
    Shared(std::sync::Arc<LedgerError>),
    /// No such entry.
    #[error("no entry {index}: the ledger has {size}")]
    NoEntry {
        /// Requested.
        index: u64,
        /// Ledger size.
        size: u64,
    },
}

/// Signs the checkpoint of a tree of `size` leaves with this root.
pub(crate) fn sign_tree(signer: &NoteSigner, size: u64, root: Hash) -> Result<String, NoteError> {
    let cp = crate::checkpoint::Checkpoint {
        origin: signer.name().to_string(),
        size,
        root,
        extensions: vec![],
    };
    cp.sign(signer)
}

/// A store read as a [`NodeSource`], for proofs.
struct StoreNodes<'a, S: ?Sized>(&'a mut S);

impl<S: LedgerStore + ?Sized> NodeSource for StoreNodes<'_, S> {
    type Error = LedgerError;

    fn tree_size(&self) -> u64 {
        self.0.size()
    }

    fn node(&mut self, level: u32, index: u64) -> Result<Hash, LedgerError> {
        self.0.node(level, index)
    }
}

/// `value` as a `usize`, or [`LedgerError::TooLarge`] naming `what`.
pub(crate) fn to_usize(value: u64, what: &'static str) -> Result<usize, LedgerError> {
    usize::try_from(value).map_err(|source| LedgerError::TooLarge { what, value, source })
}

/// Refuses a batch holding an entry over [`MAX_ENTRY_BYTES`], before anything is written.
pub(crate) fn refuse_oversize(entries: &[Vec<u8>]) -> Result<(), LedgerError> {
    match entries.iter().find(|e| e.len() > MAX_ENTRY_BYTES) {
        Some(big) => Err(LedgerError::EntryTooLarge(big.len())),
        None => Ok(()),
    }
}

/// What an acknowledged append returns.
#[derive(Clone, Debug)]
pub struct Receipt {
    /// Index of the first entry of the batch.
    pub first_index: u64,
    /// Tree size after the batch.
    pub size: u64,
    /// The signed checkpoint at that size.
    pub checkpoint: String,
}

/// The result of recomputing the whole tree from the entries.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    /// Entries read and hashed.
    pub entries: u64,
    /// The recomputed root, equal to the checkpoint's.
    pub root: Hash,
}

/// A ledger backend.
pub trait LedgerStore: Send {
    /// Appends a batch; returns only once it is durable and covered by a
    /// signed checkpoint. On error nothing is acknowledged.
    fn append(&mut self, entries: &[Vec<u8>]) -> Result<Receipt, LedgerError>;
    /// Catches up with appends made by other writers.
    fn refresh(&mut self) -> Result<(), LedgerError>;
    /// Entry `index`.
    fn entry(&mut self, index: u64) -> Result<Vec<u8>, LedgerError>;
    /// The latest signed checkpoint known to this handle.
    fn checkpoint(&self) -> &str;
    /// The log's key (checkpoints and decision records).
    fn signer(&self) -> &NoteSigner;
    /// Number of entries the latest checkpoint known to this handle covers.
    fn size(&self) -> u64;
    /// The hash of the complete subtree over leaves
    /// `[index·2^level, (index+1)·2^level)` (level 0: the leaf hash),
    /// read from the stored tree: O(1) reads, never a scan.
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, LedgerError>;

    /// Leaf hashes `[start, end)` (backends override this to read in bulk).
    fn leaves(&mut self, start: u64, end: u64) -> Result<Vec<Hash>, LedgerError> {
        (start..end).map(|i| self.node(0, i)).collect()
    }

    /// The stored interior nodes in the order an append completes them
    /// (slots `[first, first + count)`, see [`crate::tree::interior_slot`]),
    /// for the full audit; `None` when the backend keeps none.
    fn interior(&mut self, first: u64, count: u64) -> Result<Option<Vec<Hash>>, LedgerError> {
        let _ = (first, count);
        Ok(None)
    }

    /// The bytes the log first allowed for this package file (`purl`, file
    /// name), and the entry that allowed them. Backends answer from an
    /// index; this default scans every entry.
    fn release_pin(&mut self, purl: &str, file: &str) -> Result<Option<ReleasePin>, LedgerError> {
        self.release_pin_by_scan(purl, file)
    }

    /// The newest `limit` releases of a package (its purl without a
    /// version) the log allowed, from the backend's release index; a
    /// backend without one refuses (the history rules then cannot be
    /// evaluated, and say so) rather than scan the log.
    fn release_history(&mut self, package: &str, limit: usize) -> Result<Vec<ReleaseRow>, LedgerError> {
        let _ = (package, limit);
        Err(releases::not_indexed())
    }

    /// [`LedgerStore::release_pin`] by reading every entry (a read-only
    /// snapshot has no index).
    fn release_pin_by_scan(&mut self, purl: &str, file: &str) -> Result<Option<ReleasePin>, LedgerError> {
        for index in 0..self.size() {
            if let Some((p, f, sha256)) =
                crate::record::IndexedRecord::decode(&self.entry(index)?).and_then(|r| pins::allowed_file(&r))
                && p == purl
                && f == file
            {
                return Ok(Some(ReleasePin { sha256, index }));
            }
        }
        Ok(None)
    }

    /// The root at `size` (at most the current size).
    fn root_at(&mut self, size: u64) -> Result<Hash, LedgerError> {
        crate::tree::root_at(&mut StoreNodes(self), size)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    fn inclusion_proof(&mut self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        crate::tree::inclusion_proof(&mut StoreNodes(self), index, size)
    }

    /// The consistency proof from `old` to `new` entries.
    fn consistency_proof(&mut self, old: u64, new: u64) -> Result<Vec<Hash>, LedgerError> {
        crate::tree::consistency_proof(&mut StoreNodes(self), old, new)
    }

    /// Entries `[start, end)`, in order (backends override this to read in bulk).
    fn entries(&mut self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        (start..end).map(|i| self.entry(i)).collect()
    }

    /// The verifier key.
    fn verifier(&self) -> NoteVerifier {
        self.signer().verifier()
    }

    /// Recomputes the tree from every entry and compares it with the
    /// checkpoint: the full audit. Every entry is re-hashed and compared
    /// with its stored leaf hash, every stored interior node (which proofs
    /// and the open-time check are built from) with the recomputed one, and
    /// the recomputed root with the signed checkpoint's. Memory is bounded
    /// (one chunk of entries and the O(log n) frontier).
    fn verify_all(&mut self) -> Result<VerifyReport, LedgerError> {
        self.refresh()?;
        let cp = SignedCheckpoint::verify(self.checkpoint().as_bytes(), &self.verifier())?;
        let mut frontier = Frontier::new();
        let mut created = Vec::new();
        let mut slot = 0u64;
        let mut start = 0;
        while start < cp.checkpoint.size {
            let end = (start + 10_000).min(cp.checkpoint.size);
            let stored = self.leaves(start, end)?;
            for ((i, e), stored) in (start..).zip(self.entries(start, end)?).zip(stored) {
                let leaf = leaf_hash(&e);
                if leaf != stored {
                    return Err(LedgerError::Corrupt(format!(
                        "entry {i} does not match its stored leaf hash"
                    )));
                }
                frontier.push(leaf, &mut created);
            }
            if let Some(stored) = self.interior(slot, created.len() as u64)?
                && let Some(k) = (0..created.len()).find(|&k| stored.get(k) != Some(&created[k]))
            {
                return Err(LedgerError::Corrupt(format!(
                    "stored interior node {} (nodes.bin) differs from the one recomputed from the entries",
                    slot + k as u64
                )));
            }
            slot += created.len() as u64;
            created.clear();
            start = end;
        }
        if frontier.root() != cp.checkpoint.root {
            return Err(LedgerError::Corrupt(format!(
                "recomputed root {} differs from the checkpoint's {} at size {}",
                hex::encode(frontier.root()),
                hex::encode(cp.checkpoint.root),
                cp.checkpoint.size
            )));
        }
        Ok(VerifyReport {
            entries: frontier.size(),
            root: frontier.root(),
        })
    }

    /// The bytes at a tlog-tiles path (`checkpoint`, `tile/L/N[.p/W]`,
    /// `tile/entries/N[.p/W]`), or `None` when no such file exists at the
    /// current size. Tiles are immutable, so a partial tile of width W is
    /// served whenever at least W hashes exist.
    fn read_path(&mut self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        if path == "checkpoint" {
            return Ok(Some(self.checkpoint().as_bytes().to_vec()));
        }
        let Some(rest) = path.strip_prefix("tile/") else {
            return Ok(None);
        };
        let (kind, rest) = rest.split_once('/').unwrap_or((rest, ""));
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, text)) => match text.parse::<u64>() {
                Ok(w) if (1..TILE_WIDTH).contains(&w) && w.to_string() == text => (i, w),
                _ => return Ok(None),
            },
            None => (rest, TILE_WIDTH),
        };
        let elements: Vec<&str> = index_part.split('/').collect();
        let Some(index) = parse_index(&elements) else {
            return Ok(None);
        };
        let start = index.saturating_mul(TILE_WIDTH);
        if kind == "entries" {
            if start.saturating_add(width) > self.size() {
                return Ok(None);
            }
            let entries = self.entries(start, start + width)?;
            let bundle = encode_bundle(entries.iter().map(Vec::as_slice))
                .map_err(|e| LedgerError::Corrupt(format!("entries {start}..{}: {e}", start + width)))?;
            return Ok(Some(bundle));
        }
        let Ok(level) = kind.parse::<usize>() else {
            return Ok(None);
        };
        if kind != level.to_string() || level > 7 {
            return Ok(None);
        }
        // `level` is at most 7 (checked above), so this always converts.
        let Ok(level) = u32::try_from(level * TILE_HEIGHT) else {
            return Ok(None);
        };
        if start.saturating_add(width) > self.size() >> level {
            return Ok(None);
        }
        let hashes = if level == 0 {
            self.leaves(start, start + width)?
        } else {
            (start..start + width)
                .map(|i| self.node(level, i))
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(Some(hashes.concat()))
    }

    /// Writes the whole log as static files in the tlog-tiles layout.
    fn export(&mut self, out: &Path) -> Result<u64, LedgerError> {
        let io = |p: &Path, source| LedgerError::Io {
            path: p.display().to_string(),
            source,
        };
        let write = |rel: &str, data: &[u8]| -> Result<(), LedgerError> {
            let p = out.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            std::fs::write(&p, data).map_err(|e| io(&p, e))
        };
        let size = self.size();
        let checkpoint = self.checkpoint().to_string();
        let mut files = 0;
        let mut level = 0usize;
        loop {
            let nodes = size >> (level * TILE_HEIGHT);
            if nodes == 0 {
                break;
            }
            for n in 0..nodes.div_ceil(TILE_WIDTH) {
                let width = (nodes - n * TILE_WIDTH).min(TILE_WIDTH);
                let mut paths = vec![tile_path(level, n, width)];
                if level == 0 {
                    paths.push(entries_path(n, width));
                }
                for rel in paths {
                    if let Some(bytes) = self.read_path(&rel)? {
                        write(&rel, &bytes)?;
                        files += 1;
                    }
                }
            }
            level += 1;
        }
        // The checkpoint last, so a mirror never points at tiles it lacks.
        write("checkpoint", checkpoint.as_bytes())?;
        Ok(files + 1)
    }
}
