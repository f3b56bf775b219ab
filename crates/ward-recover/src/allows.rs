//! The ledger's allow decisions, indexed by the digests of the bytes they
//! allowed, read in one pass over the log.
//!
//! Every decision entry's DSSE signature is checked against the ledger's
//! key as it is read (an entry that fails is an error, never skipped).
//! Entries that are not decision records (events: alerts, snapshots,
//! reports) are passed over: they allow nothing.

use crate::RecoverError;
use std::collections::HashMap;
use ward_ledger::LedgerStore;
use ward_ledger::event::{LedgerRecord, read_entry};
use ward_ledger::record::DecisionRecord;

/// Entries read from the ledger at a time.
const BATCH: u64 = 1024;

/// One allow decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allow {
    /// Its ledger entry.
    pub index: u64,
    /// The package URL it allowed.
    pub purl: String,
    /// The artifact's SHA-256, lower-case hex.
    pub sha256: String,
    /// The artifact's SHA-512, lower-case hex, when recorded.
    pub sha512: Option<String>,
    /// The artifact's file name.
    pub file: String,
    /// When it was decided.
    pub time: jiff::Timestamp,
}

/// Every allow of a ledger, by digest.
#[derive(Debug, Default)]
pub struct AllowIndex {
    /// The same allows, as `ward audit` reads them.
    audit: ward_audit::Allows,
    allows: Vec<Allow>,
    by_sha256: HashMap<String, Vec<usize>>,
    by_sha512: HashMap<String, Vec<usize>>,
}

impl AllowIndex {
    /// Reads every entry of `ledger` (its current size).
    pub fn read(ledger: &mut dyn LedgerStore) -> Result<Self, RecoverError> {
        let verifier = ledger.verifier();
        let size = ledger.size();
        let mut index = Self::default();
        let mut start = 0;
        while start < size {
            let end = size.min(start + BATCH);
            for (offset, entry) in ledger.entries(start, end)?.iter().enumerate() {
                let i = start + offset as u64;
                // Events (alerts, snapshots, reports) allow nothing.
                if let LedgerRecord::Decision(record) = read_entry(entry, &verifier)
                    .map_err(|e| RecoverError::format(format!("ledger entry {i}"), e.to_string()))?
                {
                    index.add(i, &record);
                }
            }
            start = end;
        }
        Ok(index)
    }

    /// Adds one decision (denies are ignored). Decisions are added in
    /// ledger order.
    pub fn add(&mut self, index: u64, record: &DecisionRecord) {
        if !record.allowed() {
            return;
        }
        let Some(subject) = record.subject.first() else {
            return;
        };
        self.audit.add(index, record);
        let allow = Allow {
            index,
            purl: subject.name.clone(),
            sha256: subject.digest.sha256.to_ascii_lowercase(),
            sha512: subject.digest.sha512.as_ref().map(|s| s.to_ascii_lowercase()),
            file: record.predicate.artifact.file_name.clone(),
            time: record.predicate.time_verified,
        };
        let at = self.allows.len();
        self.by_sha256.entry(allow.sha256.clone()).or_default().push(at);
        if let Some(s) = &allow.sha512 {
            self.by_sha512.entry(s.clone()).or_default().push(at);
        }
        self.allows.push(allow);
    }

    /// The first allow of these bytes (by `sha256` or `sha512` hex).
    pub fn first(&self, algorithm: &str, hex: &str) -> Option<&Allow> {
        let map = match algorithm {
            "sha256" => &self.by_sha256,
            "sha512" => &self.by_sha512,
            _ => return None,
        };
        map.get(&hex.to_ascii_lowercase())
            .and_then(|v| v.first())
            .and_then(|&i| self.allows.get(i))
    }

    /// The allow recorded at ledger entry `index`, if that entry is an allow.
    pub fn at(&self, index: u64) -> Option<&Allow> {
        self.allows
            .binary_search_by_key(&index, |a| a.index)
            .ok()
            .and_then(|i| self.allows.get(i))
    }

    /// Every allow of a package version (purl compared as written by the gate).
    pub fn of_purl<'a>(&'a self, purl: &'a str) -> impl Iterator<Item = &'a Allow> + 'a {
        self.allows.iter().filter(move |a| a.purl == purl)
    }

    /// The allows, as `ward audit` reads them.
    pub fn for_audit(&self) -> &ward_audit::Allows {
        &self.audit
    }

    /// How many allows the ledger holds.
    pub fn len(&self) -> usize {
        self.allows.len()
    }

    /// Whether the ledger holds no allow.
    pub fn is_empty(&self) -> bool {
        self.allows.is_empty()
    }
}
