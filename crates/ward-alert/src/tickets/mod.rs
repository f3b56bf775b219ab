//! Remediation tickets: one per finding, kept in step with what scans and
//! audits find.
//!
//! A ticket is keyed by the advisory (its aliases merged: a finding named
//! `GHSA-…` today and `CVE-…` tomorrow is the same ticket), the package
//! (its purl without the version, so an upgrade that is still affected
//! keeps the ticket) and where it was found. Its owner comes from the
//! `[owners]` table or a `CODEOWNERS` file ([`owners`]); its due date is
//! the first sighting plus the policy's remediation deadline for its
//! severity (computed by the policy's triage and handed in).
//!
//! States: `open`, `silenced` (an exception or VEX statement covers it),
//! `overdue` (past its due date), `resolved` (the finding is gone from a
//! location that was read), `reopened` (a resolved finding came back: the
//! same ticket, never a new one). Every transition, creation included, is
//! a `ticket-transition` event in the ledger, appended before the store
//! commits: a ledger failure leaves the store as it was.
//!
//! - [`store`]: the SQLite file (`tickets.sqlite`).
//! - [`owners`]: `[owners]` and `CODEOWNERS`.
//! - [`export`]: GitHub and Jira REST payloads, and pushing them.

pub mod export;
pub mod owners;
pub mod store;

use crate::alert::Urgency;
use serde::{Deserialize, Serialize};

/// A ticket's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketState {
    /// Found, within its deadline.
    Open,
    /// Covered by an exception or VEX statement.
    Silenced,
    /// Past its due date.
    Overdue,
    /// Gone.
    Resolved,
    /// Came back after it was resolved.
    Reopened,
}

impl TicketState {
    /// As written (`open`, `silenced`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Open => "open",
            TicketState::Silenced => "silenced",
            TicketState::Overdue => "overdue",
            TicketState::Resolved => "resolved",
            TicketState::Reopened => "reopened",
        }
    }

    /// Reads what [`TicketState::as_str`] wrote.
    pub fn parse(text: &str) -> Option<Self> {
        [
            TicketState::Open,
            TicketState::Silenced,
            TicketState::Overdue,
            TicketState::Resolved,
            TicketState::Reopened,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A finding, as tickets need it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TicketFinding {
    /// The advisory id (or, for an audit finding with no advisory, its alert code).
    pub advisory: String,
    /// The advisory's aliases.
    pub aliases: Vec<String>,
    /// The package's purl, with its version.
    pub package: String,
    /// Where it was found.
    pub location: String,
    /// How bad.
    pub urgency: Urgency,
    /// One line.
    pub summary: String,
    /// First seen.
    pub first_seen: Option<jiff::Timestamp>,
    /// Due (first seen + the remediation deadline for its severity).
    pub due: Option<jiff::Timestamp>,
    /// What silenced it, if anything.
    pub silenced: Option<String>,
    /// Versions that fix it.
    pub fixed: Vec<String>,
}

impl TicketFinding {
    /// A finding of `advisory` (with `aliases`) in `package` (a purl) found
    /// at `location`; the rest unset (`none`, no dates, not silenced).
    pub fn from_parts(advisory: &str, aliases: &[String], package: &str, location: &str) -> Self {
        Self {
            advisory: advisory.into(),
            aliases: aliases.to_vec(),
            package: package.into(),
            location: location.into(),
            urgency: Urgency::None,
            summary: String::new(),
            first_seen: None,
            due: None,
            silenced: None,
            fixed: Vec::new(),
        }
    }

    /// From a scan finding and its triage.
    pub fn from_triaged(f: &ward_core::TriagedFinding) -> Self {
        Self {
            advisory: f.advisory.clone(),
            aliases: f.aliases.clone(),
            package: f.package.to_purl(),
            location: f.source.clone(),
            urgency: f.rating.level.into(),
            summary: f.summary.clone(),
            first_seen: f.status.first_seen,
            due: f.status.due,
            silenced: f.status.silenced.as_ref().map(|s| {
                let by = match s.by {
                    ward_core::SilencedBy::Exception => "exception",
                    ward_core::SilencedBy::Vex => "vex",
                    ward_core::SilencedBy::Allow => "allow",
                };
                format!("{by} {}", s.source)
            }),
            fixed: f.fixed.clone(),
        }
    }
}

/// A ticket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ticket {
    /// Its number in the store.
    pub id: i64,
    /// The advisory id it was opened for.
    pub advisory: String,
    /// Every other id the advisory is known by.
    pub aliases: Vec<String>,
    /// The package's purl without its version.
    pub package: String,
    /// The version last found.
    pub version: String,
    /// Where it was found.
    pub location: String,
    /// How bad.
    pub urgency: Urgency,
    /// One line.
    pub summary: String,
    /// Who owns it (empty: nobody matched).
    pub owners: Vec<String>,
    /// First seen.
    pub first_seen: Option<jiff::Timestamp>,
    /// Due.
    pub due: Option<jiff::Timestamp>,
    /// Its state.
    pub state: TicketState,
    /// What silenced it.
    pub silenced_by: Option<String>,
    /// Versions that fix it.
    pub fixed: Vec<String>,
    /// When it was opened.
    pub opened_at: jiff::Timestamp,
    /// When its state last changed.
    pub changed_at: jiff::Timestamp,
}

/// One state change of one ticket (`from` is `None` when it was created).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transition {
    /// The ticket after the change.
    pub ticket: Ticket,
    /// The state before.
    pub from: Option<TicketState>,
    /// The state after.
    pub to: TicketState,
    /// When.
    pub time: jiff::Timestamp,
    /// The ledger entry that records it, when a ledger is kept.
    pub ledger_index: Option<u64>,
}

/// The event that records a transition: subject `ticket:N`, code the new state.
pub fn transition_event(t: &Transition, version: &str) -> Result<ward_ledger::event::EventRecord, crate::AlertError> {
    let from = t.from.map_or("new", TicketState::as_str);
    ward_ledger::event::EventRecord::new(
        ward_ledger::event::EventKind::TicketTransition,
        &format!("ticket:{}", t.ticket.id),
        t.time,
        version,
    )
    .with_code(t.to.as_str())
    .with_summary(&format!(
        "{} in {} ({}): {from} -> {}",
        t.ticket.advisory,
        t.ticket.package,
        t.ticket.location,
        t.to.as_str()
    ))
    .with_detail(t)
    .map_err(|e| crate::AlertError::Ledger(e.to_string()))
}
