//! The same suite against both backends (embedded and PostgreSQL), plus what
//! only a shared database has: many concurrent writers with one sequencer,
//! and a connection lost mid-batch.
//!
//! PostgreSQL comes from `WARD_TEST_POSTGRES_URL`, which `scripts/test.sh`
//! sets after starting a private server on 127.0.0.1. When
//! `WARD_REQUIRE_POSTGRES=1` (as in the test script), its absence fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr, missing_docs)]

use ward_ledger::note::ALG_ED25519;
use ward_ledger::record::DecisionRecord;
use ward_ledger::{
    EmbeddedLedger, LedgerError, LedgerStore, MerkleTree, NoteSigner, PostgresLedger, ReleasePin, SignedCheckpoint,
    leaf_hash, verify_consistency, verify_inclusion,
};

fn entry(i: u64) -> Vec<u8> {
    format!("decision-{i}").into_bytes()
}

fn postgres_url() -> Option<String> {
    match std::env::var("WARD_TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("WARD_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("WARD_REQUIRE_POSTGRES=1 but WARD_TEST_POSTGRES_URL is not set")
        }
        Err(_) => {
            eprintln!("PostgreSQL tests skipped: run scripts/test.sh, which starts a server");
            None
        }
    }
}

/// A fresh schema per test, dropped afterwards.
struct PgSchema {
    url: String,
    name: String,
    key: String,
}

impl PgSchema {
    fn new() -> Option<Self> {
        let url = postgres_url()?;
        let mut bytes = [0u8; 6];
        aws_lc_rs::rand::fill(&mut bytes).unwrap();
        let name = format!("ward_test_{}", hex::encode(bytes));
        let key = NoteSigner::generate("ward.test/pg", ALG_ED25519).unwrap().to_skey();
        Some(Self { url, name, key })
    }

    fn open(&self) -> PostgresLedger {
        PostgresLedger::open(&self.url, &self.name, NoteSigner::parse(&self.key).unwrap()).unwrap()
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// A signed decision record (the pin index reads it as one: subject,
/// file name, verdict), with the subject's sha256 set to `sha`.
fn record(purl: &str, file: &str, sha: &str, allowed: bool) -> Vec<u8> {
    static SIGNER: std::sync::OnceLock<NoteSigner> = std::sync::OnceLock::new();
    let signer = SIGNER.get_or_init(|| NoteSigner::generate("ward.test/backends", ALG_ED25519).unwrap());
    let artifact = ward_core::Artifact {
        id: purl.parse().unwrap(),
        kind: ward_core::ArtifactKind::NpmTarball,
        file_name: file.into(),
        size: 1,
        digests: ward_core::Digests::of(sha.as_bytes()),
        license: None,
    };
    let reasons = if allowed {
        Vec::new()
    } else {
        vec![ward_core::Reason::new(ward_core::ReasonCode::SignatureMissing, "no")]
    };
    let decision = ward_core::Decision::new(reasons, Vec::new(), Vec::new(), None);
    let mut rec =
        DecisionRecord::new(&artifact, &[], &decision, &[], jiff::Timestamp::UNIX_EPOCH, "0", "test").unwrap();
    rec.subject[0].digest.sha256 = sha.into();
    rec.sign(signer).unwrap()
}

fn pin(sha: &str, index: u64) -> Option<ReleasePin> {
    Some(ReleasePin {
        sha256: sha.into(),
        index,
    })
}

// ---- the shared suite ----

fn suite_release_pins_come_from_the_index(open: &dyn Fn() -> Box<dyn LedgerStore>) {
    let (a, b, c) = ("pkg:npm/a@1.0.0", "pkg:npm/b@2.0.0", "pkg:pypi/c@3.0");
    {
        let mut l = open();
        l.append(&[
            record(a, "a-1.0.0.tgz", "aa01", false),
            record(a, "a-1.0.0.tgz", "aa02", true),
            b"not a decision record".to_vec(),
            record(a, "a-1.0.0.tgz", "aa03", true),
            record(b, "b-2.0.0.tgz", "bb01", true),
        ])
        .unwrap();
        l.append(&[
            record(c, "c-3.0.tar.gz", "cc01", true),
            record(b, "b-2.0.0.tgz", "bb02", true),
        ])
        .unwrap();
        assert_eq!(
            l.release_pin(a, "a-1.0.0.tgz").unwrap(),
            pin("aa02", 1),
            "the first allow wins"
        );
        assert_eq!(l.release_pin(c, "c-3.0.tar.gz").unwrap(), pin("cc01", 5));
    }
    let mut l = open();
    assert_eq!(l.release_pin(a, "a-1.0.0.tgz").unwrap(), pin("aa02", 1));
    assert_eq!(l.release_pin(b, "b-2.0.0.tgz").unwrap(), pin("bb01", 4));
    assert_eq!(l.release_pin(c, "c-3.0.tar.gz").unwrap(), pin("cc01", 5));
    assert_eq!(
        l.release_pin(a, "a-1.0.0-other.tgz").unwrap(),
        None,
        "pins are per file"
    );
    assert_eq!(l.release_pin("pkg:npm/z@1.0.0", "z.tgz").unwrap(), None);
    for (p, f) in [(a, "a-1.0.0.tgz"), (b, "b-2.0.0.tgz"), (c, "c-3.0.tar.gz"), (a, "x")] {
        assert_eq!(l.release_pin(p, f).unwrap(), l.release_pin_by_scan(p, f).unwrap());
    }
}

fn suite_proofs_from_the_stored_tree(open: &dyn Fn() -> Box<dyn LedgerStore>) {
    let mut reference = MerkleTree::new();
    let mut sizes = vec![];
    {
        let mut l = open();
        let mut i = 0;
        for batch in [1u64, 2, 5, 1, 64, 3, 200, 1, 19] {
            let entries: Vec<Vec<u8>> = (i..i + batch).map(entry).collect();
            l.append(&entries).unwrap();
            for e in &entries {
                reference.push(leaf_hash(e));
            }
            i += batch;
            sizes.push(i);
        }
    }
    // A fresh handle knows only the frontier: every proof reads the stored nodes.
    let mut l = open();
    let size = l.size();
    assert_eq!(size, reference.size());
    for &at in &sizes {
        let root = l.root_at(at).unwrap();
        assert_eq!(root, reference.root_at(at).unwrap());
        for index in [0, at / 3, at / 2, at - 1] {
            let proof = l.inclusion_proof(index, at).unwrap();
            assert_eq!(proof, reference.inclusion_proof(index, at).unwrap());
            verify_inclusion(&leaf_hash(&entry(index)), index, at, &proof, &root).unwrap();
        }
        let proof = l.consistency_proof(at, size).unwrap();
        if at < size {
            verify_consistency(at, size, &proof, &root, &reference.root()).unwrap();
        }
    }
    assert!(l.inclusion_proof(size, size).is_err());
    assert!(l.node(0, size).is_err(), "no node past the tree");
    // The tiles a mirror serves are the stored nodes.
    let tile = l.read_path("tile/1/000.p/1").unwrap().unwrap();
    assert_eq!(tile, reference.root_at(256).unwrap());
}

fn suite_append_prove_reopen(open: &dyn Fn() -> Box<dyn LedgerStore>) {
    {
        let mut l = open();
        assert_eq!(l.size(), 0);
        for batch in 0..6u64 {
            let r = l
                .append(&(batch * 5..batch * 5 + 5).map(entry).collect::<Vec<_>>())
                .unwrap();
            assert_eq!((r.first_index, r.size), (batch * 5, batch * 5 + 5));
        }
    }
    let mut l = open();
    assert_eq!(l.size(), 30);
    let cp = SignedCheckpoint::verify(l.checkpoint().as_bytes(), &l.verifier()).unwrap();
    assert_eq!(cp.checkpoint.size, 30);
    for i in [0, 17, 29] {
        assert_eq!(l.entry(i).unwrap(), entry(i));
        let proof = l.inclusion_proof(i, 30).unwrap();
        verify_inclusion(&leaf_hash(&entry(i)), i, 30, &proof, &cp.checkpoint.root).unwrap();
    }
    assert!(matches!(l.entry(30), Err(LedgerError::NoEntry { .. })));
    assert_eq!(l.verify_all().unwrap().entries, 30);
    assert!(l.read_path("tile/0/000.p/30").unwrap().is_some());
    assert!(l.read_path("tile/entries/000.p/31").unwrap().is_none());
}

fn suite_oversize_is_refused(open: &dyn Fn() -> Box<dyn LedgerStore>) {
    let mut l = open();
    l.append(&[entry(0)]).unwrap();
    assert!(matches!(
        l.append(&[entry(1), vec![1; 70_000]]),
        Err(LedgerError::EntryTooLarge(70_000))
    ));
    assert_eq!(l.size(), 1);
    l.append(&[entry(1)]).unwrap();
    drop(l);
    assert_eq!(open().verify_all().unwrap().entries, 2);
}

/// Concurrent single appenders through the group commit: every caller gets
/// its own index and a proof against a signed checkpoint covering it, and
/// the batches (one transaction each on PostgreSQL) hold them all.
fn suite_group_commit(open: &dyn Fn() -> Box<dyn LedgerStore>) {
    let shared = ward_ledger::SharedLedger::new(open());
    let verifier = shared.verifier().unwrap();
    let answers: Vec<(u64, ward_ledger::Appended)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16u64)
            .map(|t| {
                let shared = shared.clone();
                s.spawn(move || {
                    (0..4u64)
                        .map(|k| (t * 4 + k, shared.append_one(entry(1000 + t * 4 + k)).unwrap()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut indices: Vec<u64> = answers.iter().map(|(_, a)| a.index).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..64).collect::<Vec<_>>());
    for (n, a) in &answers {
        let cp = SignedCheckpoint::verify(a.checkpoint.as_bytes(), &verifier).unwrap();
        assert_eq!(cp.checkpoint.size, a.size);
        verify_inclusion(
            &leaf_hash(&entry(1000 + n)),
            a.index,
            a.size,
            &a.inclusion_proof,
            &cp.checkpoint.root,
        )
        .unwrap();
    }
    drop(shared);
    let mut l = open();
    assert_eq!(l.verify_all().unwrap().entries, 64);
    for (n, a) in &answers {
        assert_eq!(l.entry(a.index).unwrap(), entry(1000 + n));
    }
}

#[test]
fn embedded_passes_the_suite() {
    for suite in [
        suite_append_prove_reopen,
        suite_oversize_is_refused,
        suite_group_commit,
        suite_release_pins_come_from_the_index,
        suite_proofs_from_the_stored_tree,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        // The embedded writer holds the directory lock, so the suite's
        // handles are opened one at a time (each dropped before the next).
        suite(&move || Box::new(EmbeddedLedger::open(&path, "ward.test/embedded").unwrap()));
    }
}

#[test]
fn postgres_passes_the_suite() {
    for suite in [
        suite_append_prove_reopen,
        suite_oversize_is_refused,
        suite_group_commit,
        suite_release_pins_come_from_the_index,
        suite_proofs_from_the_stored_tree,
    ] {
        let Some(schema) = PgSchema::new() else { return };
        suite(&|| Box::new(schema.open()));
    }
}

#[test]
fn a_postgres_log_written_before_nodes_and_pins_is_migrated_when_opened() {
    // Format 1 of the PostgreSQL backend had no ward_nodes, no ward_pins and
    // no pins_size: take them away from a log and reopen it.
    let Some(schema) = PgSchema::new() else { return };
    let s = &schema.name;
    let mut reference = MerkleTree::new();
    {
        let mut l = schema.open();
        for k in 0..7u64 {
            let entries: Vec<Vec<u8>> = (k * 10..k * 10 + 10)
                .map(|i| {
                    record(
                        &format!("pkg:npm/p{}@1.0.0", i % 4),
                        "p.tgz",
                        &format!("{i:04x}"),
                        i % 3 != 0,
                    )
                })
                .collect();
            for e in &entries {
                reference.push(leaf_hash(e));
            }
            l.append(&entries).unwrap();
        }
    }
    schema
        .client()
        .batch_execute(&format!(
            "DROP TABLE {s}.ward_nodes; DROP TABLE {s}.ward_pins; ALTER TABLE {s}.ward_log DROP COLUMN pins_size;"
        ))
        .unwrap();
    let mut l = schema.open();
    assert_eq!(l.size(), 70);
    let root = reference.root();
    for index in [0, 33, 69] {
        let proof = l.inclusion_proof(index, 70).unwrap();
        verify_inclusion(&reference.leaf(index).unwrap(), index, 70, &proof, &root).unwrap();
    }
    assert_eq!(l.verify_all().unwrap().entries, 70, "every migrated node checks out");
    // p1: entries 1 (allowed: 1 % 3 != 0), the first allow.
    assert_eq!(l.release_pin("pkg:npm/p1@1.0.0", "p.tgz").unwrap(), pin("0001", 1));
    // p0: entry 0 is a deny (0 % 3 == 0), entry 4 the first allow.
    assert_eq!(l.release_pin("pkg:npm/p0@1.0.0", "p.tgz").unwrap(), pin("0004", 4));
    // A release without the index appends; the next handle catches up, and
    // an earlier allow it indexes late still wins over a later one.
    schema
        .client()
        .batch_execute(&format!(
            "DELETE FROM {s}.ward_pins; UPDATE {s}.ward_log SET pins_size = 0;"
        ))
        .unwrap();
    l.append(&[record("pkg:npm/late@1.0.0", "late.tgz", "1a7e", true)])
        .unwrap();
    let mut l = schema.open();
    assert_eq!(l.release_pin("pkg:npm/p0@1.0.0", "p.tgz").unwrap(), pin("0004", 4));
    assert_eq!(
        l.release_pin("pkg:npm/late@1.0.0", "late.tgz").unwrap(),
        pin("1a7e", 70)
    );
    // Nodes deleted behind an open handle's back: the next open rebuilds them.
    schema
        .client()
        .batch_execute(&format!("DELETE FROM {s}.ward_nodes WHERE slot >= 20"))
        .unwrap();
    let mut l = schema.open();
    assert_eq!(l.verify_all().unwrap().entries, 71);
}

#[test]
fn postgres_detects_a_tampered_entry() {
    let Some(schema) = PgSchema::new() else { return };
    let mut l = schema.open();
    l.append(&(0..10).map(entry).collect::<Vec<_>>()).unwrap();
    schema
        .client()
        .execute(
            &format!("UPDATE {}.ward_entries SET data = 'forged' WHERE idx = 4", schema.name),
            &[],
        )
        .unwrap();
    assert!(matches!(l.verify_all(), Err(LedgerError::Corrupt(_))));
    // A rewritten checkpoint without the key is refused on the next read.
    schema
        .client()
        .execute(
            &format!(
                "UPDATE {}.ward_log SET checkpoint = replace(checkpoint, E'\\n10\\n', E'\\n11\\n')",
                schema.name
            ),
            &[],
        )
        .unwrap();
    assert!(l.refresh().is_err());
}

#[test]
fn postgres_serialises_many_concurrent_writers() {
    let Some(schema) = PgSchema::new() else { return };
    drop(schema.open());
    let writers = 6u64;
    let batches = 40u64;
    let received: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let schema = &schema;
                s.spawn(move || {
                    let mut l = schema.open();
                    (0..batches)
                        .map(|b| {
                            l.append(&(0..5).map(|k| entry(w * 1_000_000 + b * 10 + k)).collect::<Vec<_>>())
                                .unwrap()
                                .first_index
                        })
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut firsts: Vec<u64> = received.into_iter().flatten().collect();
    firsts.sort_unstable();
    // Every batch got its own five consecutive indexes: no gaps, no overlaps.
    assert_eq!(firsts, (0..writers * batches).map(|i| i * 5).collect::<Vec<_>>());
    let mut l = schema.open();
    assert_eq!(l.size(), writers * batches * 5);
    assert_eq!(l.verify_all().unwrap().entries, writers * batches * 5);
}

#[test]
fn postgres_connection_lost_mid_batch_records_nothing() {
    let Some(schema) = PgSchema::new() else { return };
    let mut l = schema.open();
    l.append(&(0..3).map(entry).collect::<Vec<_>>()).unwrap();
    // Kill every other session of this schema's writer while a large batch runs.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killer = {
        let url = schema.url.clone();
        let pattern = format!("INSERT INTO {}.%", schema.name);
        let done = done.clone();
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let killed: i64 = c
                    .query_one(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE $1",
                        &[&pattern],
                    )
                    .unwrap()
                    .get(0);
                if killed > 0 {
                    return true;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            false
        })
    };
    let big: Vec<Vec<u8>> = (0..200_000).map(|i| vec![(i % 251) as u8; 200]).collect();
    let result = l.append(&big);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let killed = killer.join().unwrap();
    assert!(killed, "the test could not catch the batch in flight");
    assert!(
        matches!(result, Err(LedgerError::Database(_))),
        "a batch whose connection died must not be acknowledged"
    );
    assert_eq!(l.size(), 3, "the handle's tree is rolled back");
    let mut fresh = schema.open();
    assert_eq!(fresh.size(), 3);
    assert_eq!(fresh.verify_all().unwrap().entries, 3);
    fresh.append(&[entry(3)]).unwrap();
    assert_eq!(fresh.verify_all().unwrap().entries, 4);
}
