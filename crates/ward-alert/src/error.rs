//! The one error type of this crate: what went wrong, in words a user can
//! act on (the CLI prints it as is).

use std::path::Path;

/// Why an alert, a sink, the watch or a ticket operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A state file ward did not write (refused, never overwritten).
    #[error("{0}: not a state file ward wrote ({1}); move it away to start afresh")]
    State(String, String),
    /// The `[watch]` / `[owners]` configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// The ledger refused or failed an append.
    #[error("ledger: {0}")]
    Ledger(String),
    /// The webhook spool holds as many alerts as it may.
    #[error(
        "webhook spool {path} is full ({max} alerts waiting): the alert is in the ledger and the other sinks, not in the spool"
    )]
    SpoolFull {
        /// The spool directory.
        path: String,
        /// Its bound.
        max: usize,
    },
    /// A delivery failed (the alert stays spooled when the sink spools).
    #[error("{sink}: {why}")]
    Delivery {
        /// The sink.
        sink: String,
        /// What went wrong.
        why: String,
    },
    /// Watching files for changes.
    #[error("watching {path}: {why}")]
    Watch {
        /// The path.
        path: String,
        /// What went wrong.
        why: String,
    },
    /// The ticket store.
    #[error("ticket store {path}: {why}")]
    Tickets {
        /// The sqlite file.
        path: String,
        /// What went wrong.
        why: String,
    },
}

impl AlertError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        AlertError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
