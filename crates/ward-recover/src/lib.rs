//! The way back after a bad install: known-good sets and rollback.
//!
//! - [`allows`]: the ledger's allow decisions, indexed by digest, read in
//!   one pass (every entry's signature checked);
//! - [`snapshot`]: a named, signed set of `(purl, sha256, ledger index of
//!   its allow)`, anchored in the ledger by a `snapshot-created` event, kept
//!   in the data directory;
//! - [`installed`]: what a path holds (a lockfile, an npm project, a
//!   Python site directory), tied to the ledger's allows;
//! - [`lockfile`]: what a lockfile pins (with the digests it records) and
//!   hash-pinned lockfiles written back (`requirements.txt` with `--hash`,
//!   `package-lock.json` with `integrity`, `Cargo.lock` with `checksum`);
//! - [`plan`]: which snapshot to go back to (the newest one allowed then
//!   and still clean now) and its difference from what is installed;
//! - [`apply`]: the checks before anything changes (every byte present in
//!   the proxy cache), a staged reinstall, and the swap into place;
//! - [`playbook`]: recovery playbooks as data (TOML), and their report;
//! - [`capture`]: commands run with their output kept in bounded memory.
//!
//! Refusals carry a stable reason code ([`RecoverError::Refused`]); the
//! CLI renders them. Nothing here prints.

#![forbid(unsafe_code)]

pub mod allows;
pub mod apply;
pub mod capture;
pub mod installed;
pub mod lockfile;
pub mod plan;
pub mod playbook;
pub mod snapshot;

use ward_core::ReasonCode;

/// Why a snapshot, plan, rollback or playbook could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecoverError {
    /// ward refuses, for a documented reason (the code says which).
    #[error("{message} [{code}]")]
    Refused {
        /// The stable reason code.
        code: ReasonCode,
        /// What was refused and why, in one line.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An input file was refused (not a regular file, too large).
    #[error(transparent)]
    Input(#[from] ward_input::InputError),
    /// The ledger could not be read or appended to.
    #[error(transparent)]
    Ledger(#[from] ward_ledger::LedgerError),
    /// A file is not in the expected format.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] ward_sign::SignError),
    /// The advisory database could not be read.
    #[error(transparent)]
    Db(#[from] ward_scan::DbError),
    /// An environment could not be audited.
    #[error(transparent)]
    Audit(#[from] ward_audit::AuditError),
    /// A usage problem (a bad name, a bad time).
    #[error("{0}")]
    Usage(String),
}

impl RecoverError {
    /// A refusal with its reason code.
    pub fn refused(code: ReasonCode, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
        }
    }

    /// The reason code of a refusal.
    pub fn code(&self) -> Option<ReasonCode> {
        match self {
            Self::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn format(path: impl std::fmt::Display, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// The DSSE pre-authentication encoding (`DSSEv1 <len> <type> <len> <payload>`).
pub(crate) fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Lower-case hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}
