//! The one error type of the TUF client. Every refusal names the TUF rule
//! that failed ([`TufError::rule`]), so a caller can report it in one line
//! and a test can assert on the rule rather than on message text.

use thiserror::Error;

/// Why a TUF update or download was refused.
#[derive(Debug, Error)]
pub enum TufError {
    /// Metadata that is not well-formed TUF metadata (bad JSON, a missing or
    /// mistyped field, an unsupported specification version, …).
    #[error("{what}: malformed metadata: {reason}")]
    Format {
        /// Which metadata, e.g. "timestamp".
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The `_type` field names another role (a snapshot served as timestamp).
    #[error("{role}: metadata has type {found:?}, expected {role:?}")]
    WrongType {
        /// The role that was expected.
        role: String,
        /// The `_type` found.
        found: String,
    },
    /// Fewer than `threshold` distinct trusted keys signed the metadata.
    #[error("{role}: {valid} valid signature(s) from distinct trusted keys, threshold is {threshold}")]
    Threshold {
        /// The role whose signatures were counted.
        role: String,
        /// How many distinct keys produced a valid signature.
        valid: usize,
        /// How many are needed.
        threshold: u64,
    },
    /// A version lower than the trusted one: a rollback attack.
    #[error("{role}: version {got} is older than the trusted version {trusted}")]
    Rollback {
        /// The role.
        role: String,
        /// The version already trusted.
        trusted: u64,
        /// The version offered.
        got: u64,
    },
    /// Metadata whose version is not the one the referring metadata (or the
    /// URL) promised: pieces from different repository states mixed.
    #[error("{role}: version {got} does not match the expected version {expected}")]
    MixAndMatch {
        /// The role.
        role: String,
        /// The version that was expected.
        expected: u64,
        /// The version found.
        got: u64,
    },
    /// The new snapshot no longer lists a role the trusted snapshot listed.
    #[error("snapshot: new snapshot drops {name}, which the trusted snapshot lists")]
    RoleRemoved {
        /// The metadata file name, e.g. "delegated.json".
        name: String,
    },
    /// Metadata past its expiry date: a freeze attack (or a stale mirror).
    #[error("{role}: expired at {expires} (reference time {now})")]
    Expired {
        /// The role.
        role: String,
        /// Its expiry.
        expires: jiff::Timestamp,
        /// The reference time the caller passed in.
        now: jiff::Timestamp,
    },
    /// More data than the limit for this file: an endless-data attack.
    #[error("{what}: more than {limit} bytes")]
    TooLong {
        /// What was being downloaded.
        what: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A length that differs from the one the trusted metadata states.
    #[error("{what}: length {got} differs from the trusted length {expected}")]
    Length {
        /// What was checked.
        what: String,
        /// The trusted length.
        expected: u64,
        /// The length received.
        got: u64,
    },
    /// A digest that differs from the one the trusted metadata states.
    #[error("{what}: {algorithm} digest does not match the trusted metadata")]
    Hash {
        /// What was checked.
        what: String,
        /// The algorithm whose digest differed.
        algorithm: String,
    },
    /// A hash algorithm this client cannot compute: the file cannot be checked.
    #[error("{what}: unsupported hash algorithm {algorithm:?}")]
    UnknownHashAlgorithm {
        /// What was checked.
        what: String,
        /// The algorithm named.
        algorithm: String,
    },
    /// More root versions than the rotation bound in one update.
    #[error("root: more than {limit} root rotations in one update")]
    TooManyRootRotations {
        /// The bound.
        limit: u64,
    },
    /// A delegation problem: a role used but not listed in snapshot, a
    /// delegated role named like a top-level role, …
    #[error("delegation {role}: {reason}")]
    Delegation {
        /// The delegated role.
        role: String,
        /// What is wrong.
        reason: String,
    },
    /// The target path is not in any targets metadata the search may visit.
    #[error("target {0:?} not found in the repository's targets metadata")]
    TargetNotFound(String),
    /// A file the repository does not have (HTTP 403/404 or no such file).
    #[error("{url}: not found")]
    NotFound {
        /// Where.
        url: String,
    },
    /// The repository could not be reached or answered with an error.
    #[error("{url}: {reason}")]
    Fetch {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// A local file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// Which file or directory.
        what: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// No trusted root: the metadata directory was never initialised, or
    /// its root.json cannot be read.
    #[error("trusted root: {0}")]
    NoTrustedRoot(String),
}

impl TufError {
    /// The TUF rule that failed, as a stable kebab-case code: `rollback`,
    /// `freeze`, `threshold`, `mix-and-match`, `length`, `hash`,
    /// `endless-data`, `delegation`, … Callers report it; tests assert it.
    pub fn rule(&self) -> &'static str {
        match self {
            TufError::Format { .. } => "malformed",
            TufError::WrongType { .. } => "wrong-type",
            TufError::Threshold { .. } => "threshold",
            TufError::Rollback { .. } => "rollback",
            TufError::MixAndMatch { .. } => "mix-and-match",
            TufError::RoleRemoved { .. } => "rollback",
            TufError::Expired { .. } => "freeze",
            TufError::TooLong { .. } => "endless-data",
            TufError::Length { .. } => "length",
            TufError::Hash { .. } => "hash",
            TufError::UnknownHashAlgorithm { .. } => "hash",
            TufError::TooManyRootRotations { .. } => "root-rotation-limit",
            TufError::Delegation { .. } => "delegation",
            TufError::TargetNotFound(_) => "target-not-found",
            TufError::NotFound { .. } => "not-found",
            TufError::Fetch { .. } => "fetch",
            TufError::Io { .. } => "io",
            TufError::NoTrustedRoot(_) => "no-trusted-root",
        }
    }

    pub(crate) fn format(what: &str, reason: impl Into<String>) -> Self {
        TufError::Format {
            what: what.to_string(),
            reason: reason.into(),
        }
    }
}
