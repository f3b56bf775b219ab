//! Event records: what the ledger stores for things that happen after a
//! decision (an alert raised or resolved, a ticket changing state, a trust
//! root accepted, a key rotated or revoked, a snapshot, a rollback, a
//! playbook report).
//!
//! An event is an in-toto Statement v1 like a decision record, told apart
//! by its predicate type ([`EVENT_PREDICATE`]), signed the same way (a DSSE
//! envelope with the ledger's key) and appended through the same path
//! ([`crate::SharedLedger::append_one`] or [`crate::LedgerStore::append`]),
//! so events are as tamper-evident as decisions. Readers that want any
//! entry use [`read_entry`], which dispatches on the predicate type; old
//! ledgers (decisions only) read exactly as before, and decision readers
//! ([`crate::record::read_record`]) refuse an event instead of misreading it.
//!
//! The statement's subject names what the event is about (a purl, a
//! finding key, a trust root); its digest map holds the digests that are
//! known (for example the artifact's SHA-256 or the accepted root's) and is
//! empty when none is: a ticket transition is about a finding, not bytes.
//! What is particular to each kind is in `detail`, a JSON object the
//! producer serialises from its own typed struct and reads back with
//! [`EventRecord::detail_as`].

use crate::note::{NoteSigner, NoteVerifier};
use crate::record::{DECISION_PREDICATE, DecisionRecord, RecordError, RecordVerifier};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// The predicate type of ward's event records.
pub const EVENT_PREDICATE: &str = "https://ward.invalid/attestation/event/v1";

/// What happened. Written as kebab-case text (`alert-raised`); a kind this
/// version does not know reads back as [`EventKind::Other`], never an error.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EventKind {
    /// An alert was raised (`ward watch`, `ward audit`).
    AlertRaised,
    /// An alert's finding went away.
    AlertResolved,
    /// A remediation ticket changed state (`ward tickets`).
    TicketTransition,
    /// A trust root (or key set) was accepted (`ward trust update`).
    TrustRootAccepted,
    /// A key was rotated (`ward keys rotate`).
    KeyRotated,
    /// A key was revoked (`ward keys revoke`).
    KeyRevoked,
    /// A snapshot of an allowed set was created.
    SnapshotCreated,
    /// A rollback was applied.
    RollbackApplied,
    /// A recovery playbook ran.
    PlaybookReport,
    /// A kind written by a later version of ward.
    Other(String),
}

impl EventKind {
    /// Every kind this version writes.
    pub const KNOWN: [EventKind; 9] = [
        EventKind::AlertRaised,
        EventKind::AlertResolved,
        EventKind::TicketTransition,
        EventKind::TrustRootAccepted,
        EventKind::KeyRotated,
        EventKind::KeyRevoked,
        EventKind::SnapshotCreated,
        EventKind::RollbackApplied,
        EventKind::PlaybookReport,
    ];

    /// The kind as written in the record.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::AlertRaised => "alert-raised",
            EventKind::AlertResolved => "alert-resolved",
            EventKind::TicketTransition => "ticket-transition",
            EventKind::TrustRootAccepted => "trust-root-accepted",
            EventKind::KeyRotated => "key-rotated",
            EventKind::KeyRevoked => "key-revoked",
            EventKind::SnapshotCreated => "snapshot-created",
            EventKind::RollbackApplied => "rollback-applied",
            EventKind::PlaybookReport => "playbook-report",
            EventKind::Other(s) => s,
        }
    }

    /// The kind written as `text` (any text: unknown kinds are [`EventKind::Other`]).
    pub fn parse(text: &str) -> Self {
        Self::KNOWN
            .iter()
            .find(|k| k.as_str() == text)
            .cloned()
            .unwrap_or_else(|| EventKind::Other(text.to_string()))
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(Self::parse(&text))
    }
}

/// An event record: an in-toto statement about one subject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventRecord {
    /// `https://in-toto.io/Statement/v1`.
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What the event is about.
    pub subject: Vec<EventSubject>,
    /// [`EVENT_PREDICATE`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// What happened.
    pub predicate: EventPredicate,
}

/// What an event is about: a purl, a finding key, a trust root, a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventSubject {
    /// Its name.
    pub name: String,
    /// The digests known for it (algorithm to lower-case hex); may be empty.
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

/// What happened, when, and the kind's own details.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EventPredicate {
    /// Who recorded it: ward and its version.
    pub verifier: RecordVerifier,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub time: jiff::Timestamp,
    /// A stable code for the event (an alert code such as `newly-malicious`,
    /// a ticket state), when the kind has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// One line for people.
    #[serde(default)]
    pub summary: String,
    /// The kind's own fields (a JSON object; `null` when there are none).
    #[serde(default)]
    pub detail: Value,
}

impl EventRecord {
    /// An event of `kind` about `subject` at `time`, recorded by ward `version`.
    pub fn new(kind: EventKind, subject: &str, time: jiff::Timestamp, version: &str) -> Self {
        Self {
            statement_type: crate::record::STATEMENT_TYPE.into(),
            subject: vec![EventSubject {
                name: subject.into(),
                digest: BTreeMap::new(),
            }],
            predicate_type: EVENT_PREDICATE.into(),
            predicate: EventPredicate {
                verifier: RecordVerifier {
                    id: crate::record::VERIFIER_ID.into(),
                    version: version.into(),
                },
                kind,
                time,
                code: None,
                summary: String::new(),
                detail: Value::Null,
            },
        }
    }

    /// Adds a digest of the subject (`sha256`, lower-case hex).
    pub fn with_digest(mut self, algorithm: &str, hex: &str) -> Self {
        if let Some(s) = self.subject.first_mut() {
            s.digest.insert(algorithm.into(), hex.to_ascii_lowercase());
        }
        self
    }

    /// Sets the event's stable code.
    pub fn with_code(mut self, code: &str) -> Self {
        self.predicate.code = Some(code.into());
        self
    }

    /// Sets the one-line summary.
    pub fn with_summary(mut self, summary: &str) -> Self {
        self.predicate.summary = summary.into();
        self
    }

    /// Sets the detail from any serialisable value (the producer's typed struct).
    pub fn with_detail<T: Serialize>(mut self, detail: &T) -> Result<Self, RecordError> {
        self.predicate.detail =
            serde_json::to_value(detail).map_err(|e| RecordError(format!("cannot serialise the event detail: {e}")))?;
        Ok(self)
    }

    /// The detail read back as the producer's type.
    pub fn detail_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, RecordError> {
        T::deserialize(&self.predicate.detail)
            .map_err(|e| RecordError(format!("the {} event's detail: {e}", self.predicate.kind)))
    }

    /// What the event is about (the first subject's name).
    pub fn subject_name(&self) -> Option<&str> {
        self.subject.first().map(|s| s.name.as_str())
    }

    /// The statement as JSON with sorted keys (the entry's payload).
    pub fn statement(&self) -> Result<Value, RecordError> {
        serde_json::to_value(self).map_err(|e| RecordError(format!("cannot serialise the event: {e}")))
    }

    /// The signed entry bytes (compact DSSE JSON). An event larger than an
    /// entry may be ([`crate::store::MAX_ENTRY_BYTES`]) is an error: its
    /// detail is never cut silently.
    pub fn sign(&self, signer: &NoteSigner) -> Result<Vec<u8>, RecordError> {
        let entry = crate::record::envelope(&self.statement()?, signer)?;
        if entry.len() > crate::store::MAX_ENTRY_BYTES {
            return Err(RecordError(format!(
                "the {} event is {} bytes, more than an entry may hold ({})",
                self.predicate.kind,
                entry.len(),
                crate::store::MAX_ENTRY_BYTES
            )));
        }
        Ok(entry)
    }
}

/// Checks an entry's DSSE signature with the ledger key and reads it as an
/// [`EventRecord`].
pub fn read_event(entry: &[u8], key: &NoteVerifier) -> Result<EventRecord, RecordError> {
    match read_entry(entry, key)? {
        LedgerRecord::Event(e) => Ok(*e),
        LedgerRecord::Decision(_) => Err(RecordError("a decision, not an event".into())),
        LedgerRecord::Other(t) => Err(RecordError(format!("predicate type {t:?} is not a ward event"))),
    }
}

/// One ledger entry, read by its type tag (the statement's predicate type).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LedgerRecord {
    /// A decision ([`DECISION_PREDICATE`]).
    Decision(Box<DecisionRecord>),
    /// An event ([`EVENT_PREDICATE`]).
    Event(Box<EventRecord>),
    /// A statement signed by this ledger whose predicate type this version
    /// does not know (written by a later version).
    Other(String),
}

#[derive(Deserialize)]
struct TypeTag {
    #[serde(rename = "predicateType", default)]
    predicate_type: String,
}

/// Checks an entry's DSSE signature with the ledger key and reads it as
/// whatever its predicate type says it is.
pub fn read_entry(entry: &[u8], key: &NoteVerifier) -> Result<LedgerRecord, RecordError> {
    let payload = crate::record::verified_payload(entry, key)?;
    let tag: TypeTag =
        serde_json::from_slice(&payload).map_err(|e| RecordError(format!("payload is not JSON: {e}")))?;
    match tag.predicate_type.as_str() {
        DECISION_PREDICATE => serde_json::from_slice(&payload)
            .map(|r| LedgerRecord::Decision(Box::new(r)))
            .map_err(|e| RecordError(format!("not a decision record: {e}"))),
        EVENT_PREDICATE => serde_json::from_slice(&payload)
            .map(|r| LedgerRecord::Event(Box::new(r)))
            .map_err(|e| RecordError(format!("not an event record: {e}"))),
        other => Ok(LedgerRecord::Other(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct AlertDetail {
        purl: String,
        path: String,
    }

    fn signer() -> NoteSigner {
        NoteSigner::generate("test.invalid/ledger", crate::note::ALG_ED25519).unwrap()
    }

    /// An event written through the ledger's append path reads back field
    /// for field, typed detail included, and is not misread as a decision.
    #[test]
    fn an_event_appended_to_the_ledger_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = crate::EmbeddedLedger::open(dir.path(), "test.invalid/ledger").unwrap();
        let detail = AlertDetail {
            purl: "pkg:pypi/a@1.0".into(),
            path: "/venv".into(),
        };
        let time: jiff::Timestamp = "2026-12-02T05:00:00Z".parse().unwrap();
        let event = EventRecord::new(EventKind::AlertRaised, "pkg:pypi/a@1.0", time, "0.1.0")
            .with_digest("sha256", "AB01")
            .with_code("newly-malicious")
            .with_summary("a 1.0 matches MAL-2026-1")
            .with_detail(&detail)
            .unwrap();
        let entry = event.sign(ledger.signer()).unwrap();
        ledger.append(&[entry]).unwrap();
        let shared = crate::SharedLedger::new(Box::new(ledger));
        let second = EventRecord::new(EventKind::AlertResolved, "pkg:pypi/a@1.0", time, "0.1.0");
        let appended = shared
            .append_one(second.sign(shared.signer().unwrap()).unwrap())
            .unwrap();
        assert_eq!(appended.index, 1);
        let key = shared.verifier().unwrap();
        let stored = shared.with_store(|s| s.entry(0)).unwrap().unwrap();
        let back = read_event(&stored, &key).unwrap();
        assert_eq!(back, event);
        assert_eq!(back.detail_as::<AlertDetail>().unwrap(), detail);
        assert_eq!(back.subject[0].digest["sha256"], "ab01");
        assert!(crate::record::read_record(&stored, &key).is_err());
        let raw = crate::record::open_record(&stored, &key).unwrap();
        assert_eq!(raw["predicate"]["kind"], "alert-raised");
        assert_eq!(raw["predicate"]["time"], "2026-12-02T05:00:00Z");
        // An event is never read as an allow by the release-pin index.
        assert_eq!(shared.release_pin("pkg:pypi/a@1.0", "").unwrap(), None);
        let stored = shared.with_store(|s| s.entry(1)).unwrap().unwrap();
        assert!(
            matches!(read_entry(&stored, &key).unwrap(), LedgerRecord::Event(e) if e.predicate.kind == EventKind::AlertResolved)
        );
    }

    #[test]
    fn unknown_kinds_and_predicate_types_read_back_without_error() {
        let s = signer();
        let time = jiff::Timestamp::UNIX_EPOCH;
        let event = EventRecord::new(EventKind::parse("future-thing"), "x", time, "9.9.9");
        assert_eq!(event.predicate.kind, EventKind::Other("future-thing".into()));
        let back = read_event(&event.sign(&s).unwrap(), &s.verifier()).unwrap();
        assert_eq!(back.predicate.kind.as_str(), "future-thing");
        for k in EventKind::KNOWN {
            assert_eq!(EventKind::parse(k.as_str()), k);
        }
        let mut other = EventRecord::new(EventKind::PlaybookReport, "x", time, "0.1.0");
        other.predicate_type = "https://example.invalid/other".into();
        let entry = other.sign(&s).unwrap();
        assert_eq!(
            read_entry(&entry, &s.verifier()).unwrap(),
            LedgerRecord::Other("https://example.invalid/other".into())
        );
        assert!(read_event(&entry, &s.verifier()).is_err());
        // Another ledger's key does not open it.
        assert!(read_entry(&entry, &signer().verifier()).is_err());
    }

    #[test]
    fn an_event_too_large_for_an_entry_is_refused_not_cut() {
        let s = signer();
        let big = "x".repeat(crate::store::MAX_ENTRY_BYTES);
        let event = EventRecord::new(EventKind::PlaybookReport, "p", jiff::Timestamp::UNIX_EPOCH, "0.1.0")
            .with_detail(&serde_json::json!({ "log": big }))
            .unwrap();
        assert!(event.sign(&s).is_err());
    }
}
