//! The gate: one function from artifact and evidence to a decision.
//!
//! `ward verify`, `ward scan`, the registry proxy and the audit of installed
//! packages all call [`Gate::evaluate`], so they cannot drift apart. The
//! stages run in pipeline order: identify (digests, identity, archive
//! safety), verify (every piece of evidence presented: bundles, detached
//! signatures, attestations), scan, decide (the policy, or ward's safe
//! default), record (the ledger).
//!
//! One concern a module:
//! - [`evidence`]: what is presented with an artifact, and how it is named in the record;
//! - [`gate`]: the configured [`Gate`] and its builders;
//! - [`history`]: the release history a decision compares (registry listing and ledger index);
//! - [`pipeline`]: identify → verify → scan → decide for one artifact;
//! - [`pins`]: release pins, the bytes the ledger first allowed for a package file;
//! - `rebuild`: rebuild attestations checked, and held against the provenance;
//! - [`record`]: appending a decision to the ledger, with its inclusion proof;
//! - [`risky`]: risky-change signals, the traits of the releases ward allowed;
//! - [`scan`]: what the scan stage scans for one artifact.
//!
//! The stores a gate keeps (advisory database, first-seen store,
//! release traits, ledger) are opened up front as [`Stores`] and handed to
//! the gate once ([`Gate::with_stores`]), so a caller builds the whole gate
//! before the first artifact and never reaches back into it.

#![forbid(unsafe_code)]

pub mod evidence;
mod gate;
pub mod history;
pub mod pins;
mod pipeline;
mod rebuild;
mod record;
pub mod risky;
pub mod scan;

pub use evidence::{BaselineAttestations, Evidence, EvidenceSource, ExpectedDigest, NpmRegistrySignature};
pub use gate::Gate;
pub use pins::RecordedAllows;
pub use record::{RecordFailed, Recorded};
pub use risky::ReleaseTraits;
pub use scan::{ScanOutcome, scanned_components};

use serde::Serialize;
use ward_core::{Artifact, Decision, EvidenceRef};
use ward_verify::VerifyError;
use ward_verify::{Check, Fact};

/// Why an artifact could not be evaluated at all (exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// The artifact is unreadable.
    #[error(transparent)]
    Artifact(#[from] ward_identify::ReadError),
    /// An evidence file is unreadable.
    #[error(transparent)]
    Evidence(VerifyError),
    /// The first-seen store cannot be read or written.
    #[error("first-seen store: {0}")]
    FirstSeen(String),
    /// The release-traits store (risky-change rules) cannot be opened.
    #[error(transparent)]
    ReleaseTraits(crate::risky::StoreError),
    /// A `ward scan` target is not a lockfile, SBOM or artifact ward can read.
    #[error(transparent)]
    Target(ward_scan::TargetError),
    /// `ward scan` needs an advisory database.
    #[error("no advisory database: import one with `ward advisories import`")]
    NoAdvisoryDatabase,
    /// The advisory database cannot be loaded.
    #[error(transparent)]
    Advisories(#[from] ward_scan::DbError),
}

/// The stores a gate reads and writes, opened before the gate is built:
/// the advisory database, the first-seen store, the release-traits store
/// and the ledger. The caller can look at what was opened (say, warn that
/// the advisory data is old) before handing everything to
/// [`Gate::with_stores`].
#[derive(Default)]
#[non_exhaustive]
pub struct Stores {
    advisories: Option<std::sync::Arc<ward_scan::AdvisoryDb>>,
    first_seen: Option<ward_scan::FirstSeenStore>,
    release_traits: Option<risky::ReleaseTraits>,
    ledger: Option<Box<dyn ward_ledger::LedgerStore>>,
}

impl Stores {
    /// Opens the scan data in `data_dir` (created when missing): the
    /// advisory database in `explicit` (which must load), else the one
    /// imported into `data_dir/advisories` when there is one (else none:
    /// licences are still judged), the first-seen store beside it, and the
    /// release-traits store. A release-traits store that cannot be opened
    /// is an error only when `policy` (the policy file; `None` for the
    /// built-in default) compares releases (risky-change rules).
    pub fn open_scan_data(
        explicit: Option<&std::path::Path>,
        data_dir: &std::path::Path,
        policy: Option<&ward_policy::Policy>,
    ) -> Result<Self, GateError> {
        let builtin;
        let policy = match policy {
            Some(policy) => policy,
            None => {
                builtin = ward_policy::Policy::builtin();
                &builtin
            }
        };
        let compares = policy.scopes.iter().any(|s| s.risky.compares());
        // Each store below reports its own failure to open.
        let _ = std::fs::create_dir_all(data_dir);
        let mut stores = Self::default();
        match risky::ReleaseTraits::open(&data_dir.join(risky::STORE_FILE)) {
            Ok(store) => stores.release_traits = Some(store),
            Err(e) if compares => return Err(GateError::ReleaseTraits(e)),
            Err(_) => {}
        }
        let db = match explicit {
            Some(dir) => ward_scan::AdvisoryDb::load(dir)?,
            None => {
                let dir = data_dir.join("advisories");
                if !dir.join(ward_scan::db::DB_FILE).is_file() {
                    return Ok(stores);
                }
                ward_scan::AdvisoryDb::load(&dir)?
            }
        };
        stores.first_seen =
            Some(ward_scan::FirstSeenStore::open(data_dir).map_err(|e| GateError::FirstSeen(e.to_string()))?);
        stores.advisories = Some(std::sync::Arc::new(db));
        Ok(stores)
    }

    /// Records every decision in this ledger as well.
    pub fn with_ledger(mut self, ledger: Box<dyn ward_ledger::LedgerStore>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// The advisory database opened, if any.
    pub fn advisories(&self) -> Option<&ward_scan::AdvisoryDb> {
        self.advisories.as_deref()
    }
}

impl Gate {
    /// Keeps these stores: scans with the advisory database (findings at
    /// or above the policy's threshold deny; `fail_on` replaces that
    /// threshold), keeps first sightings and release traits, and records
    /// every decision in the ledger. A store `stores` lacks is left as it
    /// was.
    pub fn with_stores(mut self, stores: Stores, fail_on: Option<ward_core::Severity>) -> Self {
        if let Some(store) = stores.release_traits {
            self = self.with_release_traits(store);
        }
        if let Some(db) = stores.advisories {
            self = self.with_advisories(db, fail_on);
        }
        if let Some(store) = stores.first_seen {
            self = self.with_first_seen(store);
        }
        if let Some(ledger) = stores.ledger {
            self = self.with_ledger(ledger);
        }
        self
    }
}

/// Everything ward found out about one artifact, and the decision.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// The identified artifact.
    pub artifact: Artifact,
    /// Each check, in pipeline order.
    pub checks: Vec<Check>,
    /// The decision.
    pub decision: Decision,
    /// Every evidence file, by digest.
    pub evidence: Vec<EvidenceRef>,
    /// Known vulnerabilities found, when an advisory database is configured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<ward_core::TriagedFinding>,
    /// When the decision was made (RFC 3339 in JSON).
    pub time: jiff::Timestamp,
    /// What the archive does at install (install scripts, dependencies,
    /// `.pth` files, native binaries), when ward could read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traits: Option<ward_core::ArchiveTraits>,
    /// The release history the cooldown and history rules compared (when
    /// the policy has such rules for this package).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<ward_policy::release::ReleaseHistory>,
}

impl Evaluation {
    /// The verified facts, across all checks.
    pub fn facts(&self) -> impl Iterator<Item = &Fact> {
        self.checks.iter().flat_map(|c| c.facts())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPARING_POLICY: &str = r#"
[defaults]
mode = "enforce"

[[scope]]
name = "risky"
packages = ["npm:*"]
deny_new_install_scripts = true
"#;

    fn gate() -> Gate {
        Gate::new(ward_verify::TrustRoot::production().unwrap())
    }

    /// An advisory database with one record, saved in `dir`.
    fn save_advisories(dir: &std::path::Path) {
        let record = serde_json::json!({
            "id": "GHSA-test-0001",
            "schema_version": "1.5.0",
            "modified": "2025-09-16T00:00:00Z",
            "summary": "A test advisory",
            "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"}, "versions": ["1.0.0"]}]
        });
        let path = dir.join("GHSA-test-0001.json");
        std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();
        let (db, _) = ward_scan::AdvisoryDb::import(&[path], "2025-09-16T00:00:00Z").unwrap();
        db.save(&dir.join("advisories")).unwrap();
    }

    #[test]
    fn without_advisory_data_only_the_release_traits_are_opened() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let stores = Stores::open_scan_data(None, &data, None).unwrap();
        assert!(stores.advisories().is_none());
        assert!(stores.first_seen.is_none());
        assert!(stores.release_traits.is_some());
        assert!(data.join(risky::STORE_FILE).is_file());
        let gate = gate().with_stores(stores, None);
        assert!(gate.advisories().is_none());
        assert!(gate.release_traits.is_some());
    }

    #[test]
    fn imported_advisories_in_the_data_directory_are_opened_with_the_first_seen_store() {
        let tmp = tempfile::tempdir().unwrap();
        save_advisories(tmp.path());
        let stores = Stores::open_scan_data(None, tmp.path(), None).unwrap();
        assert!(stores.advisories().is_some());
        assert!(stores.first_seen.is_some());
        let gate = gate().with_stores(stores, Some(ward_core::Severity::High));
        assert!(gate.advisories().is_some());
        assert!(gate.first_seen.is_some());
        assert_eq!(
            gate.advisories.as_ref().map(|(_, fail_on)| *fail_on),
            Some(Some(ward_core::Severity::High))
        );
        // The same database, named explicitly.
        let explicit = Stores::open_scan_data(Some(&tmp.path().join("advisories")), tmp.path(), None).unwrap();
        assert!(explicit.advisories().is_some());
    }

    #[test]
    fn an_explicit_advisory_database_must_load() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("no-such-db");
        let Err(e) = Stores::open_scan_data(Some(&missing), tmp.path(), None) else {
            panic!("a missing database opened")
        };
        assert!(matches!(e, GateError::Advisories(_)), "{e:?}");
    }

    #[test]
    fn a_release_traits_store_that_cannot_open_stops_only_a_policy_that_compares_releases() {
        let tmp = tempfile::tempdir().unwrap();
        // A directory where the store's database file should be.
        std::fs::create_dir_all(tmp.path().join(risky::STORE_FILE).join("x")).unwrap();
        let stores = Stores::open_scan_data(None, tmp.path(), None).unwrap();
        assert!(stores.release_traits.is_none());
        let policy = ward_policy::Policy::parse(COMPARING_POLICY, "ward.toml", tmp.path()).unwrap();
        let Err(e) = Stores::open_scan_data(None, tmp.path(), Some(&policy)) else {
            panic!("a comparing policy ran without its store")
        };
        assert!(matches!(e, GateError::ReleaseTraits(_)), "{e:?}");
    }

    #[test]
    fn a_gate_built_with_a_ledger_records_its_decisions() {
        let tmp = tempfile::tempdir().unwrap();
        let ledger = ward_ledger::EmbeddedLedger::open(&tmp.path().join("ledger"), "ward-test/stores").unwrap();
        let gate = gate().with_stores(Stores::default().with_ledger(Box::new(ledger)), None);
        let artifact = tmp.path().join("a.txt");
        std::fs::write(&artifact, b"unsigned").unwrap();
        let evaluation = gate.evaluate(&artifact, None, &Evidence::default()).unwrap();
        let recorded = gate.record(&evaluation, "test").unwrap();
        assert!(recorded.is_some());
        // Without a ledger nothing is recorded.
        let unrecorded = self::gate().with_stores(Stores::default(), None);
        assert!(unrecorded.record(&evaluation, "test").unwrap().is_none());
    }
}
