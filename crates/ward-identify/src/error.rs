//! Why an artifact could not be identified safely.

use std::path::PathBuf;
use ward_core::{Reason, ReasonCode};

/// An artifact that cannot be read at all (exit code 2: could not evaluate):
/// missing, unreadable, or not a regular file (a FIFO, a device such as
/// `/dev/zero`, a directory).
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source} [{}]", path.display(), ReasonCode::ArtifactUnreadable.as_str())]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// A readable artifact that fails a safety or identity check (a deny).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// Not a valid archive of the claimed kind.
    #[error("archive is malformed: {0}")]
    Malformed(String),
    /// An entry path is absolute or contains `..`.
    #[error("archive entry {0:?} escapes the package directory (absolute path or `..`)")]
    PathTraversal(String),
    /// A symlink or hard link entry.
    #[error("archive entry {0:?} is a link; links in packages are refused")]
    LinkEntry(String),
    /// A device, FIFO or other special entry.
    #[error("archive entry {0:?} has special type {1}; only files and directories are allowed")]
    EntryType(String, String),
    /// More entries than allowed.
    #[error("archive has more than {limit} entries")]
    TooManyEntries {
        /// The configured limit.
        limit: u64,
    },
    /// Unpacks to more than allowed.
    #[error("archive unpacks to more than {limit} bytes")]
    TooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// Compression ratio over the limit.
    #[error("archive expands more than {limit}x ({unpacked} bytes from {compressed})")]
    CompressionRatio {
        /// The configured ratio.
        limit: u64,
        /// Bytes unpacked when the limit was hit.
        unpacked: u64,
        /// Compressed bytes consumed by then.
        compressed: u64,
    },
    /// The installer could read the archive differently from ward.
    #[error("archive is ambiguous: {0}")]
    Ambiguous(String),
    /// The ecosystem's metadata file is absent.
    #[error("{0} not found in the archive")]
    MetadataMissing(String),
    /// The metadata file is unreadable or incomplete.
    #[error("package metadata is malformed: {0}")]
    MetadataMalformed(String),
    /// The file name or `--purl` disagrees with the package's own metadata.
    #[error("{what}: expected {expected:?}, the package itself says {found:?}")]
    NameMismatch {
        /// What disagrees (`name in file name`, `version in --purl`, …).
        what: String,
        /// What the outside label said.
        expected: String,
        /// What the package metadata says.
        found: String,
    },
}

impl ReadError {
    /// The stable reason code: always `artifact-unreadable`.
    pub fn code(&self) -> ReasonCode {
        ReasonCode::ArtifactUnreadable
    }
}

impl ArchiveError {
    /// The stable reason code for this failure.
    pub fn code(&self) -> ReasonCode {
        match self {
            ArchiveError::Malformed(_) => ReasonCode::ArchiveMalformed,
            ArchiveError::PathTraversal(_) => ReasonCode::ArchivePathTraversal,
            ArchiveError::LinkEntry(_) => ReasonCode::ArchiveLinkEntry,
            ArchiveError::EntryType(..) => ReasonCode::ArchiveEntryType,
            ArchiveError::TooManyEntries { .. } => ReasonCode::ArchiveTooManyEntries,
            ArchiveError::TooLarge { .. } => ReasonCode::ArchiveTooLarge,
            ArchiveError::CompressionRatio { .. } => ReasonCode::ArchiveCompressionRatio,
            ArchiveError::Ambiguous(_) => ReasonCode::ArchiveAmbiguous,
            ArchiveError::MetadataMissing(_) => ReasonCode::MetadataMissing,
            ArchiveError::MetadataMalformed(_) => ReasonCode::MetadataMalformed,
            ArchiveError::NameMismatch { .. } => ReasonCode::PackageNameMismatch,
        }
    }

    /// As a decision reason.
    pub fn to_reason(&self) -> Reason {
        Reason::new(self.code(), self.to_string())
    }
}
