//! Why an audit could not run at all. Problems with single files are
//! findings (`unreadable`), not errors: the rest of the tree is still audited.

use std::path::PathBuf;

/// Why an audit could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A path given to audit cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A path holds nothing ward can audit.
    #[error(
        "{0}: not an environment ward can audit (a Python environment or site directory with *.dist-info, a node_modules tree, a cargo vendor/ directory or a cargo home)"
    )]
    NotAnEnvironment(PathBuf),
    /// The ledger cannot be read.
    #[error(transparent)]
    Ledger(#[from] ward_ledger::LedgerError),
    /// The advisory findings could not be triaged (the first-seen store
    /// could not be updated).
    #[error("advisories: {0}")]
    Triage(#[from] ward_gate::GateError),
}
