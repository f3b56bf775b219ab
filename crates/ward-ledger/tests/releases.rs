//! The release history index: allowed decisions, per package, with the
//! publish time and publisher the record carries and the source of their
//! verified provenance; one indexed lookup, newest first, and built again
//! from the log when an index from before it exists.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use ward_core::{Artifact, ArtifactKind, CheckKind, Decision, Digests, Reason, ReasonCode};
use ward_ledger::record::DecisionRecord;
use ward_ledger::store::ReleaseRow;
use ward_ledger::{EmbeddedLedger, LedgerStore, NoteSigner, PostgresLedger};
use ward_verify::{Check, fact::unverified};

fn record(signer: &NoteSigner, purl: &str, allowed: bool, repo: Option<&str>, publisher: &str) -> Vec<u8> {
    let artifact = Artifact {
        id: purl.parse().unwrap(),
        kind: ArtifactKind::NpmTarball,
        file_name: "a.tgz".into(),
        size: 1,
        digests: Digests::of(purl.as_bytes()),
        license: None,
    };
    let facts = repo
        .map(|r| {
            let mut p = unverified::provenance_of_type("https://slsa.dev/provenance/v1");
            p.source_repository = Some(r.into());
            p.workflow_path = Some(".github/workflows/release.yml".into());
            p.builder_id = Some("https://github.com/actions/runner/github-hosted".into());
            unverified::provenance(p, unverified::keyless_signer("x", "y"), "e")
        })
        .into_iter()
        .collect();
    let checks = vec![Check::pass(CheckKind::Attestation, None, facts)];
    let reasons = if allowed {
        Vec::new()
    } else {
        vec![Reason::new(ReasonCode::SignatureMissing, "no")]
    };
    let decision = Decision::new(reasons, Vec::new(), Vec::new(), None);
    let version = purl.rsplit('@').next().unwrap();
    DecisionRecord::new(
        &artifact,
        &checks,
        &decision,
        &[],
        jiff::Timestamp::UNIX_EPOCH,
        "0",
        "test",
    )
    .unwrap()
    .with_release(serde_json::json!({"registry": {"release": {
        "version": version, "published": "2026-01-0{}T00:00:00Z".replace("{}", &version[4..5]), "publisher": publisher
    }}}))
    .sign(signer)
    .unwrap()
}

/// Appends the four decisions and checks the index answers.
fn append_and_check(l: &mut dyn LedgerStore) {
    let entries = {
        let signer = l.signer();
        vec![
            record(
                signer,
                "pkg:npm/a@1.0.1",
                true,
                Some("git+https://github.com/o/r.git"),
                "alice",
            ),
            record(signer, "pkg:npm/other@1.0.1", true, None, "bob"),
            record(signer, "pkg:npm/a@1.0.2", false, None, "mallory"),
            record(signer, "pkg:npm/a@1.0.3", true, None, "alice"),
        ]
    };
    l.append(&entries).unwrap();
    let rows = l.release_history("pkg:npm/a", 10).unwrap();
    let versions: Vec<&str> = rows.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["1.0.3", "1.0.1"], "a denied release is no baseline");
    assert_eq!(
        rows[1],
        ReleaseRow {
            version: "1.0.1".into(),
            index: 0,
            published: Some(1_767_225_600),
            publisher: Some("alice".into()),
            repository: Some("git+https://github.com/o/r.git".into()),
            workflow: Some(".github/workflows/release.yml".into()),
            builder: Some("https://github.com/actions/runner/github-hosted".into()),
        }
    );
    assert_eq!(l.release_history("pkg:npm/a", 1).unwrap().len(), 1);
}

#[test]
fn allowed_releases_are_indexed_per_package_newest_first_and_rebuilt_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    append_and_check(&mut EmbeddedLedger::open(dir.path(), "ward.test/releases").unwrap());
    // An index from before the release history: the table is missing, and opening builds it from the log.
    {
        let conn = rusqlite::Connection::open(dir.path().join("pins.sqlite")).unwrap();
        conn.execute_batch("DROP TABLE ward_releases;").unwrap();
    }
    let mut l = EmbeddedLedger::open(dir.path(), "ward.test/releases").unwrap();
    let versions: Vec<String> = l
        .release_history("pkg:npm/a", 10)
        .unwrap()
        .into_iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(versions, ["1.0.3", "1.0.1"]);
    // A read-only snapshot keeps no index and refuses rather than scan.
    let mut snap = EmbeddedLedger::open_snapshot(dir.path()).unwrap();
    assert!(snap.release_history("pkg:npm/a", 10).is_err());
}

#[test]
fn postgres_keeps_the_same_release_index() {
    let Ok(url) = std::env::var("WARD_TEST_POSTGRES_URL") else {
        assert_ne!(
            std::env::var("WARD_REQUIRE_POSTGRES").as_deref(),
            Ok("1"),
            "WARD_REQUIRE_POSTGRES=1 but WARD_TEST_POSTGRES_URL is not set"
        );
        return;
    };
    let schema = format!("ward_test_releases_{}", std::process::id());
    let key = NoteSigner::generate("ward.test/pg", ward_ledger::note::ALG_ED25519)
        .unwrap()
        .to_skey();
    let open = || PostgresLedger::open(&url, &schema, NoteSigner::parse(&key).unwrap()).unwrap();
    append_and_check(&mut open());
    // A schema indexed before the release history is indexed again.
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP TABLE {schema}.ward_releases")).unwrap();
    let mut l = open();
    assert_eq!(l.release_history("pkg:npm/a", 10).unwrap().len(), 2);
    let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
}
