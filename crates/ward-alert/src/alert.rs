//! Alerts: one finding that needs someone's attention, with a stable key so
//! that the same finding is alerted once until it goes away, and the change
//! (raised, resolved) that sinks deliver and the ledger records.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// How urgent an alert is (the finding's severity; `none` when unrated).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// Unrated.
    #[default]
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl From<ward_core::Severity> for Urgency {
    fn from(s: ward_core::Severity) -> Self {
        match s {
            ward_core::Severity::Critical => Urgency::Critical,
            ward_core::Severity::High => Urgency::High,
            ward_core::Severity::Medium => Urgency::Medium,
            ward_core::Severity::Low => Urgency::Low,
            ward_core::Severity::None => Urgency::None,
        }
    }
}

impl Urgency {
    /// The word written in alerts and tickets.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::None => "none",
            Urgency::Low => "low",
            Urgency::Medium => "medium",
            Urgency::High => "high",
            Urgency::Critical => "critical",
        }
    }
}

/// One finding that needs attention.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Alert {
    /// The alert code (`newly-malicious`, `modified`, `vulnerable`, …;
    /// docs/monitoring.md lists them).
    pub code: String,
    /// What it is about: a purl, or a path when no package is known.
    pub subject: String,
    /// Where it was found (the environment, lockfile or directory).
    pub location: String,
    /// What tells it apart from other alerts of its code on the same
    /// subject and location: the advisory id, the file name, or empty.
    pub id: String,
    /// How urgent.
    #[serde(default)]
    pub urgency: Urgency,
    /// One line for people.
    pub summary: String,
    /// Anything else the producer knows (expected and found digests, …).
    #[serde(default)]
    pub detail: Value,
}

impl Alert {
    /// An alert of `code` about `subject` found at `location`, told apart by `id`.
    pub fn new(code: &str, subject: &str, location: &str, id: &str, summary: &str) -> Self {
        Self {
            code: code.into(),
            subject: subject.into(),
            location: location.into(),
            id: id.into(),
            urgency: Urgency::None,
            summary: summary.into(),
            detail: Value::Null,
        }
    }

    /// Sets the urgency.
    pub fn with_urgency(mut self, urgency: Urgency) -> Self {
        self.urgency = urgency;
        self
    }

    /// Sets the detail.
    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }

    /// The stable key: the SHA-256 (first 32 hex digits) of the code,
    /// subject, location and id. The same finding always has the same key;
    /// the summary and detail may change without making it a new alert.
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        for part in [&self.code, &self.subject, &self.location, &self.id] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        hex::encode(&h.finalize()[..16])
    }
}

/// Raised or resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A new alert.
    AlertRaised,
    /// An alert whose finding went away.
    AlertResolved,
}

impl ChangeKind {
    /// As written (`alert-raised`, `alert-resolved`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::AlertRaised => "alert-raised",
            ChangeKind::AlertResolved => "alert-resolved",
        }
    }
}

/// What sinks deliver: one alert raised or resolved (the documented JSON
/// shape of webhook bodies and JSON lines).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AlertChange {
    /// `alert-raised` or `alert-resolved`.
    pub event: ChangeKind,
    /// The alert's key.
    pub key: String,
    /// When this change happened.
    pub time: jiff::Timestamp,
    /// When the alert was first raised.
    pub raised_at: jiff::Timestamp,
    /// The ledger entry that records this change, when a ledger is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_index: Option<u64>,
    /// The alert.
    pub alert: Alert,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_names_the_finding_not_its_wording() {
        let a = Alert::new("modified", "pkg:pypi/a@1", "/venv", "a/x.py", "one");
        let b = Alert::new("modified", "pkg:pypi/a@1", "/venv", "a/x.py", "two").with_urgency(Urgency::High);
        assert_eq!(a.key(), b.key());
        assert_ne!(
            a.key(),
            Alert::new("modified", "pkg:pypi/a@1", "/venv", "a/y.py", "one").key()
        );
        assert_ne!(
            a.key(),
            Alert::new("missing", "pkg:pypi/a@1", "/venv", "a/x.py", "one").key()
        );
        // Parts cannot run into each other.
        assert_ne!(
            Alert::new("a", "bc", "", "", "").key(),
            Alert::new("ab", "c", "", "", "").key()
        );
    }
}
