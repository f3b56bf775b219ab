//! Every decision of `ward verify`, allow or deny, lands in the ledger with a
//! proof a third party can check with only the checkpoint key.

use crate::common::{BEACON_IDENTITY, GITHUB_ISSUER, conformance, json_of, ward};
use std::path::Path;
use ward_ledger::{NoteVerifier, SignedCheckpoint, leaf_hash, record::open_record, verify_inclusion};

fn verify_into(ledger: &Path, identity: &str) -> crate::common::Run {
    let art = conformance().join("a.txt");
    let bundle = conformance().join("happy-path-v0.3/bundle.sigstore.json");
    ward([
        "verify",
        art.to_str().unwrap(),
        "--bundle",
        bundle.to_str().unwrap(),
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
        "--ledger",
        ledger.to_str().unwrap(),
        "--format",
        "json",
    ])
}

/// What an auditor does with a `--format json` receipt and nothing else.
fn check_receipt(doc: &serde_json::Value, ledger: &Path) {
    let r = &doc["ledger"];
    let key = NoteVerifier::parse(r["verifier_key"].as_str().unwrap()).unwrap();
    let cp = SignedCheckpoint::verify(r["checkpoint"].as_str().unwrap().as_bytes(), &key).unwrap();
    let index = r["index"].as_u64().unwrap();
    let proof: Vec<[u8; 32]> = r["inclusion_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();
    let leaf: [u8; 32] = hex::decode(r["leaf_hash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    verify_inclusion(&leaf, index, cp.checkpoint.size, &proof, &cp.checkpoint.root).unwrap();
    // The stored entry is the leaf, and its record is signed by the same key.
    let stored = ward_ledger::EmbeddedLedger::open(ledger, "unused")
        .unwrap()
        .entry(index)
        .unwrap();
    assert_eq!(leaf_hash(&stored), leaf);
    let statement = open_record(&stored, &key).unwrap();
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        doc["artifact"]["digests"]["sha256"]
    );
    let want = if doc["decision"]["verdict"] == "allow" {
        "PASSED"
    } else {
        "FAILED"
    };
    assert_eq!(statement["predicate"]["verificationResult"], want);
}

#[test]
fn allows_and_denies_are_both_recorded_with_checkable_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let allow = verify_into(&ledger, BEACON_IDENTITY);
    allow.expect(0);
    let doc = json_of(&allow);
    assert_eq!(doc["ledger"]["index"], 0);
    check_receipt(&doc, &ledger);
    let deny = verify_into(&ledger, "https://github.com/someone/else");
    deny.expect(1);
    let doc = json_of(&deny);
    assert_eq!(doc["ledger"]["index"], 1);
    check_receipt(&doc, &ledger);

    let l = ledger.to_str().unwrap();
    let run = ward(["ledger", "verify", "--ledger", l]);
    run.expect(0);
    assert!(run.stdout.contains("recomputed 2 entries"));
    let run = ward(["ledger", "search", "--purl", "pkg:generic/a.txt", "--ledger", l]);
    run.expect(0);
    assert!(
        run.stdout.contains("entry 0: PASSED") && run.stdout.contains("entry 1: FAILED"),
        "{}",
        run.stdout
    );
    let sha = doc["artifact"]["digests"]["sha256"].as_str().unwrap();
    ward(["ledger", "search", "--digest", sha, "--ledger", l]).expect(0);
    ward(["ledger", "search", "--digest", &"0".repeat(64), "--ledger", l]).expect(1);
    let run = ward(["ledger", "show", "1", "--ledger", l]);
    run.expect(0);
    assert_eq!(json_of(&run)["predicate"]["reasons"][0]["code"], "identity-mismatch");
    let run = ward(["ledger", "prove", "0", "--ledger", l]);
    run.expect(0);
    assert!(
        run.stdout.starts_with("c2sp.org/tlog-proof@v1\nindex 0\n"),
        "{}",
        run.stdout
    );
    ward(["ledger", "show", "5", "--ledger", l]).expect(2);
}

#[test]
fn a_tampered_ledger_fails_its_audit() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    for _ in 0..3 {
        verify_into(&ledger, BEACON_IDENTITY).expect(0);
    }
    let log = ledger.join("entries.log");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[20] ^= 1;
    std::fs::write(&log, bytes).unwrap();
    let run = ward(["ledger", "verify", "--ledger", ledger.to_str().unwrap()]);
    run.expect(1);
    assert!(run.stderr.contains("FAILED"), "{}", run.stderr);
}

#[test]
fn a_ledger_that_cannot_be_opened_blocks_the_install() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    verify_into(&not_a_dir, BEACON_IDENTITY).expect(2);
}
