//! After the install: alerts, their sinks, the watch loop, and remediation
//! tickets.
//!
//! - [`alert`]: an [`Alert`] (one finding, with a stable key) and the
//!   [`AlertChange`] (raised or resolved) that sinks deliver.
//! - [`state`]: the open alerts, on disk, so each finding is alerted once
//!   until it resolves, across restarts.
//! - [`ledger`]: every change appended to the ledger as a signed event.
//! - [`sink`]: where changes go: a webhook (spooled to disk, delivered in
//!   order, retried with backoff, never blocking), JSON lines, syslog.
//! - [`monitor`]: one round: diff, record, deliver.
//! - [`watch`]: what starts a round: an interval, file changes, a
//!   re-imported advisory database.
//! - [`config`]: the `[watch]` and `[owners]` tables.
//! - [`tickets`]: one ticket per finding, its owner and due date, its
//!   state transitions recorded in the ledger, and export to trackers.
//!
//! Nothing here prints; the CLI renders what these functions return.

#![forbid(unsafe_code)]

pub mod alert;
pub mod config;
mod error;
pub mod http;
pub mod ledger;
pub mod monitor;
pub mod sink;
pub mod state;
pub mod tickets;
pub mod watch;

pub use alert::{Alert, AlertChange, ChangeKind, Urgency};
pub use error::AlertError;
pub use monitor::{Monitor, RoundReport};
pub use state::AlertState;
