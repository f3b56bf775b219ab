//! The ledger: every decision in a tamper-evident transparency log.
//!
//! - [`tree`]: the RFC 6962 / RFC 9162 Merkle tree, proofs for any size.
//! - [`proof`]: proof verification (by `sigstore-merkle`).
//! - [`note`] and [`checkpoint`]: C2SP `signed-note` (Ed25519) and
//!   `tlog-checkpoint`, with witness cosignatures (`tlog-cosignature`).
//! - [`tiles`]: the C2SP `tlog-tiles` layout, for serving and reading logs.
//! - [`store`]: the embedded, crash-safe backend, PostgreSQL, and
//!   [`SharedLedger`]: group commit for concurrent appenders.
//! - [`record`]: decision records as DSSE-signed in-toto statements.
//! - [`open`]: where a ledger is ([`LedgerLocation`]: a directory or a
//!   PostgreSQL URL), opening it for appending or as a read-only snapshot.
//! - [`event`]: event records (alerts, tickets, trust roots, rollbacks),
//!   signed and appended the same way, told apart by their predicate type.

#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod event;
pub mod hash;
pub mod monitor;
pub mod note;
pub mod open;
pub mod proof;
pub mod record;
pub mod store;
pub mod tiles;
pub mod tree;

pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use note::{Note, NoteError, NoteSigner, NoteVerifier};
pub use open::{LedgerLocation, OpenError, OpenOptions, open, open_for_reading};

pub use hash::{Hash, empty_root, leaf_hash, node_hash};
pub use proof::{ProofError, verify_consistency, verify_inclusion};
pub use store::{
    Appended, EmbeddedLedger, LedgerError, LedgerStore, PostgresLedger, Receipt, ReleasePin, SharedLedger, VerifyReport,
};
pub use tree::{MerkleTree, TreeError};
