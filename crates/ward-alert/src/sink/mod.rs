//! Sinks: where alert changes are delivered. Each sink gets every change,
//! in order; a sink that fails is reported and never stops the others or
//! the audit (the ledger already holds the change).
//!
//! - [`webhook`]: JSON POST through an on-disk spool ([`spool`]), delivered
//!   in order by a background thread with exponential backoff.
//! - [`jsonl`]: one JSON object a line, appended to a file.
//! - [`syslog`]: RFC 3164 messages to the local syslog socket (journald
//!   listens on it too).

pub mod jsonl;
pub mod spool;
pub mod syslog;
pub mod webhook;

use crate::AlertError;
use crate::alert::AlertChange;

/// Somewhere alert changes go.
pub trait Sink: Send {
    /// A short name for messages (`webhook https://…`, `file /var/log/…`).
    fn name(&self) -> String;
    /// Delivers (or, for a spooling sink, durably queues) one change.
    /// Must not block for long: a slow receiver is the sink's own problem.
    fn deliver(&mut self, change: &AlertChange) -> Result<(), AlertError>;
    /// For a spooling sink: waits until nothing waits or `timeout` passed,
    /// and says whether nothing waits. Others deliver at once: `true`.
    fn flush(&self, _timeout: std::time::Duration) -> bool {
        true
    }
    /// For a spooling sink: how many changes wait, and why the last
    /// attempt failed.
    fn backlog(&self) -> (usize, Option<String>) {
        (0, None)
    }
}
