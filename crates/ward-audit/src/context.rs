//! What an audit checks against: what the ledger allowed ([`Allows`]), the
//! advisory database, the policy (exceptions, VEX, remediation deadlines),
//! the proxy cache holding the allowed bytes, the clock, the limits and a
//! progress callback.
//!
//! The ledger keeps an index of release pins by package file (purl, file
//! name), not by digest, so [`Allows::from_ledger`] builds an in-memory
//! index of every allowing decision once per audit: one pass over the
//! entries (the DSSE payloads are parsed, the signatures are not checked
//! here: the entries are the ones the signed checkpoint covers), keeping
//! per allow its purl, file name, digests, time and the advisory ids its
//! reasons name. About 200 bytes an allow.

use crate::error::AuditError;
use base64::Engine as _;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use ward_ledger::LedgerStore;
use ward_ledger::record::DecisionRecord;
use ward_policy::Policy;
use ward_scan::{AdvisoryDb, FirstSeenStore};

/// One allowing decision of the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Allow {
    /// The ledger entry index.
    pub index: u64,
    /// The package URL the decision was about.
    pub purl: String,
    /// The artifact's file name.
    pub file_name: String,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
    /// Its SHA-512, lower-case hex.
    pub sha512: Option<String>,
    /// When it was decided.
    pub time: jiff::Timestamp,
    /// Advisory ids the decision's reasons, warnings and audit notes name
    /// (what the decision weighed and still allowed).
    pub weighed: Vec<String>,
}

impl Allow {
    /// The allow a decision record states (`None` for a deny).
    pub fn from_record(index: u64, record: &DecisionRecord) -> Option<Self> {
        if !record.allowed() {
            return None;
        }
        let subject = record.subject.first()?;
        let p = &record.predicate;
        let weighed = p
            .reasons
            .iter()
            .chain(&p.warnings)
            .chain(&p.audit)
            .flat_map(|r| advisory_ids(&r.message))
            .collect();
        Some(Self {
            index,
            purl: subject.name.clone(),
            file_name: p.artifact.file_name.clone(),
            sha256: subject.digest.sha256.to_ascii_lowercase(),
            sha512: subject.digest.sha512.as_ref().map(|s| s.to_ascii_lowercase()),
            time: p.time_verified,
            weighed,
        })
    }
}

/// Words of a reason message that look like advisory ids (`GHSA-…`,
/// `CVE-…`, `PYSEC-…`, `RUSTSEC-…`, `MAL-…`, `GO-…`, `OSV-…`).
fn advisory_ids(message: &str) -> Vec<String> {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| {
            let (prefix, rest) = w.split_once('-').unwrap_or(("", ""));
            !rest.is_empty()
                && prefix.len() >= 2
                && prefix.bytes().all(|b| b.is_ascii_uppercase())
                && rest.bytes().any(|b| b.is_ascii_digit())
        })
        .map(str::to_string)
        .collect()
}

/// Every allow of the ledger, indexed by purl and by digest.
#[derive(Debug, Default)]
pub struct Allows {
    list: Vec<Allow>,
    by_purl: HashMap<String, Vec<usize>>,
    by_sha256: HashMap<String, Vec<usize>>,
    by_sha512: HashMap<String, Vec<usize>>,
}

/// The parts of a stored entry the index needs (the payload is read
/// without checking its signature: see the module documentation).
#[derive(Deserialize)]
struct Envelope {
    payload: String,
}

impl Allows {
    /// No allows at all (every package is `unvetted`).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Reads every entry of the ledger once (in chunks; entries that are
    /// not decision records, and denies, are skipped).
    pub fn from_ledger(ledger: &mut dyn LedgerStore) -> Result<Self, AuditError> {
        ledger.refresh()?;
        let size = ledger.size();
        let mut allows = Self::empty();
        let mut start = 0;
        while start < size {
            let end = (start + 4096).min(size);
            for (index, entry) in (start..).zip(ledger.entries(start, end)?) {
                if let Some(record) = payload_record(&entry) {
                    allows.add(index, &record);
                }
            }
            start = end;
        }
        Ok(allows)
    }

    /// Adds one decision record (a deny is ignored).
    pub fn add(&mut self, index: u64, record: &DecisionRecord) {
        if let Some(allow) = Allow::from_record(index, record) {
            self.push(allow);
        }
    }

    /// Adds one allow.
    pub fn push(&mut self, allow: Allow) {
        let i = self.list.len();
        self.by_purl.entry(allow.purl.clone()).or_default().push(i);
        self.by_sha256.entry(allow.sha256.clone()).or_default().push(i);
        if let Some(s) = &allow.sha512 {
            self.by_sha512.entry(s.clone()).or_default().push(i);
        }
        self.list.push(allow);
    }

    /// Number of allows.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The allows of a package (its purl, with version), oldest first.
    pub fn for_purl(&self, purl: &str) -> impl Iterator<Item = &Allow> {
        self.by_purl.get(purl).into_iter().flatten().map(|&i| &self.list[i])
    }

    /// The allows of an artifact by its SHA-256 (lower-case hex), oldest first.
    pub fn by_sha256(&self, hex: &str) -> impl Iterator<Item = &Allow> {
        self.by_sha256.get(hex).into_iter().flatten().map(|&i| &self.list[i])
    }

    /// The allows of an artifact by its SHA-512 (lower-case hex), oldest first.
    pub fn by_sha512(&self, hex: &str) -> impl Iterator<Item = &Allow> {
        self.by_sha512.get(hex).into_iter().flatten().map(|&i| &self.list[i])
    }

    /// The release pin of a package file: the first allow of this purl and
    /// file name.
    pub fn pin(&self, purl: &str, file_name: &str) -> Option<&Allow> {
        self.for_purl(purl).find(|a| a.file_name == file_name)
    }
}

fn payload_record(entry: &[u8]) -> Option<DecisionRecord> {
    let env: Envelope = serde_json::from_slice(entry).ok()?;
    let payload = base64::engine::general_purpose::STANDARD.decode(env.payload).ok()?;
    let record: DecisionRecord = serde_json::from_slice(&payload).ok()?;
    (record.predicate_type == ward_ledger::record::DECISION_PREDICATE).then_some(record)
}

/// Told as the audit goes (the CLI draws a progress bar on a terminal).
pub trait Progress: Sync {
    /// The number of packages found, before they are checked.
    fn found(&self, packages: u64) {
        let _ = packages;
    }

    /// One package checked, with the files and bytes it hashed.
    fn checked(&self, files: u64, bytes: u64) {
        let _ = (files, bytes);
    }
}

/// Bounds on what one audit reads and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditLimits {
    /// Largest metadata file read whole (`package.json`, `METADATA`,
    /// `direct_url.json`, `.package-lock.json` entries are streamed).
    pub metadata_bytes: u64,
    /// Largest manifest read whole (`RECORD`, `.cargo-checksum.json`,
    /// `node_modules/.package-lock.json`).
    pub manifest_bytes: u64,
    /// Largest cached artifact opened for comparison.
    pub artifact_bytes: u64,
    /// Most entries of a cached artifact.
    pub artifact_entries: u64,
    /// Per-file findings listed for one package and kind; the rest are
    /// counted in one summary finding.
    pub findings_per_package: usize,
    /// Threads hashing packages (at least 1).
    pub threads: usize,
}

impl Default for AuditLimits {
    fn default() -> Self {
        Self {
            metadata_bytes: 4 << 20,
            manifest_bytes: 64 << 20,
            artifact_bytes: 1 << 30,
            artifact_entries: 200_000,
            findings_per_package: 100,
            threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        }
    }
}

/// Everything an audit checks against. Build with [`AuditContext::new`]
/// and the `with_` methods.
#[non_exhaustive]
pub struct AuditContext<'a> {
    /// What the ledger allowed.
    pub allows: &'a Allows,
    /// Today's advisories (none: no `newly-*` or `overdue` findings).
    pub advisories: Option<&'a AdvisoryDb>,
    /// The policy: exceptions, VEX and `[[allow]]` silence advisories;
    /// `[remediation]` sets the deadlines.
    pub policy: Option<&'a Policy>,
    /// When findings were first seen (deadlines count from there); new
    /// sightings are recorded in it, the caller saves it.
    pub first_seen: Option<&'a Mutex<FirstSeenStore>>,
    /// The proxy cache directory (`blobs/<sha256>`), where the allowed
    /// artifacts' bytes are compared from.
    pub cache: Option<PathBuf>,
    /// The time the audit runs at.
    pub now: jiff::Timestamp,
    /// Bounds.
    pub limits: AuditLimits,
    /// Told as packages are checked.
    pub progress: Option<&'a dyn Progress>,
}

impl<'a> AuditContext<'a> {
    /// A context with these allows, at `now`, and nothing else.
    pub fn new(allows: &'a Allows, now: jiff::Timestamp) -> Self {
        Self {
            allows,
            advisories: None,
            policy: None,
            first_seen: None,
            cache: None,
            now,
            limits: AuditLimits::default(),
            progress: None,
        }
    }

    /// With today's advisory database.
    pub fn with_advisories(mut self, db: &'a AdvisoryDb) -> Self {
        self.advisories = Some(db);
        self
    }

    /// With a policy.
    pub fn with_policy(mut self, policy: &'a Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// With a first-seen store.
    pub fn with_first_seen(mut self, store: &'a Mutex<FirstSeenStore>) -> Self {
        self.first_seen = Some(store);
        self
    }

    /// With the proxy cache directory.
    pub fn with_cache(mut self, dir: PathBuf) -> Self {
        self.cache = Some(dir);
        self
    }

    /// With other limits.
    pub fn with_limits(mut self, limits: AuditLimits) -> Self {
        self.limits = limits;
        self
    }

    /// With a progress callback.
    pub fn with_progress(mut self, progress: &'a dyn Progress) -> Self {
        self.progress = Some(progress);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_ids_are_found_in_reason_messages() {
        assert_eq!(
            advisory_ids("pkg:npm/a@1: GHSA-abcd-1234-xyz9 (high), also CVE-2024-1234."),
            ["GHSA-abcd-1234-xyz9", "CVE-2024-1234"]
        );
        assert!(advisory_ids("signature-missing: no bundle").is_empty());
    }
}
