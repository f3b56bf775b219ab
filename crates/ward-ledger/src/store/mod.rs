//! Ledger storage. The embedded backend is the default: one directory, no
//! server, crash-safe.

mod embedded;

pub use embedded::{EmbeddedLedger, Receipt, VerifyReport};

use crate::note::NoteError;
use crate::tree::TreeError;

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
    /// The stored log contradicts its own signed checkpoint.
    #[error("ledger is corrupt: {0}")]
    Corrupt(String),
    /// A checkpoint or key problem.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// A proof request outside the tree.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// An entry over [`MAX_ENTRY_BYTES`].
    #[error("entry of {0} bytes is larger than the {MAX_ENTRY_BYTES}-byte limit")]
    EntryTooLarge(usize),
    /// No such entry.
    #[error("no entry {index}: the ledger has {size}")]
    NoEntry {
        /// Requested.
        index: u64,
        /// Ledger size.
        size: u64,
    },
}
