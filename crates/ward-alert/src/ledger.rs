//! Alert changes and ticket transitions as ledger events
//! ([`ward_ledger::event::EventRecord`]), signed with the ledger's key and
//! appended through the group commit, so alerts and remediation are as
//! tamper-evident as decisions. `ward ledger search --events` lists them.

use crate::AlertError;
use crate::alert::{AlertChange, ChangeKind};
use ward_ledger::SharedLedger;
use ward_ledger::event::{EventKind, EventRecord};

/// Appends `event` and returns its entry index.
pub fn append(ledger: &SharedLedger, event: &EventRecord) -> Result<u64, AlertError> {
    let signer = ledger.signer().map_err(|e| AlertError::Ledger(e.to_string()))?;
    let entry = event.sign(signer).map_err(|e| AlertError::Ledger(e.to_string()))?;
    ledger
        .append_one(entry)
        .map(|a| a.index)
        .map_err(|e| AlertError::Ledger(e.to_string()))
}

/// The event that records an alert change: its kind, the alert's code, the
/// subject (the purl, with the artifact's SHA-256 when the alert names one
/// as `detail.sha256`), and the whole change as detail.
pub fn alert_event(change: &AlertChange, version: &str) -> Result<EventRecord, AlertError> {
    let kind = match change.event {
        ChangeKind::AlertRaised => EventKind::AlertRaised,
        ChangeKind::AlertResolved => EventKind::AlertResolved,
    };
    let mut event = EventRecord::new(kind, &change.alert.subject, change.time, version)
        .with_code(&change.alert.code)
        .with_summary(&change.alert.summary)
        .with_detail(change)
        .map_err(|e| AlertError::Ledger(e.to_string()))?;
    if let Some(sha) = change.alert.detail.get("sha256").and_then(|v| v.as_str())
        && sha.len() == 64
        && sha.bytes().all(|b| b.is_ascii_hexdigit())
    {
        event = event.with_digest("sha256", sha);
    }
    Ok(event)
}
