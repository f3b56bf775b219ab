//! Today's advisories against the decisions that allowed what is installed:
//! a match the allowing decision did not weigh is newly-vulnerable or
//! newly-malicious (the real OpenSSF record for flatmap-stream), one it
//! named is not; the policy's exceptions silence, its remediation deadline
//! (counted from the first sighting) makes it overdue.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Mutex;
use ward_audit::{AlertKind, Allow, Allows, AuditContext, audit};

fn t(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

/// npm's hidden lockfile: each package's integrity is the sha512 its allow names (`index` as 128 hex digits).
fn lock(root: &Path, packages: &[(&str, u64)]) {
    use base64::Engine as _;
    let mut entries = serde_json::Map::new();
    for (name, index) in packages {
        let raw = hex::decode(format!("{index:0128x}")).unwrap();
        let sri = format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(raw));
        entries.insert(format!("node_modules/{name}"), serde_json::json!({"integrity": sri}));
    }
    std::fs::write(
        root.join("node_modules/.package-lock.json"),
        serde_json::json!({"packages": entries}).to_string(),
    )
    .unwrap();
}

fn package(root: &Path, name: &str, version: &str) {
    let dir = root.join("node_modules").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("package.json"),
        format!("{{\"name\": \"{name}\", \"version\": \"{version}\"}}"),
    )
    .unwrap();
}

fn allow(index: u64, purl: &str, reasons: &[&str]) -> Allow {
    let record = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": purl, "digest": {"sha256": format!("{index:064x}"), "sha512": format!("{index:0128x}")}}],
        "predicateType": ward_ledger::record::DECISION_PREDICATE,
        "predicate": {
            "verifier": {"id": "https://ward.invalid/ward", "version": "0"},
            "timeVerified": "2026-11-01T00:00:00Z",
            "resourceUri": purl,
            "artifact": {"fileName": "x.tgz", "kind": "npm-tarball", "size": 1},
            "policy": {"uri": "ward:safe-default"},
            "verificationResult": "PASSED",
            "warnings": reasons.iter().map(|m| serde_json::json!({"code": "advisory-found", "message": m})).collect::<Vec<_>>(),
        },
    });
    let record: ward_ledger::record::DecisionRecord = serde_json::from_value(record).unwrap();
    Allow::from_record(index, &record).unwrap()
}

fn database(dir: &Path) -> ward_scan::AdvisoryDb {
    let src = dir.join("osv");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("GHSA-left-0001-test.json"),
        serde_json::json!({
            "id": "GHSA-left-0001-test", "modified": "2026-11-20T00:00:00Z",
            "summary": "left leaks memory",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
            "affected": [{"package": {"ecosystem": "npm", "name": "left"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}],
        })
        .to_string(),
    )
    .unwrap();
    let mal = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/advisories/malicious/npm/MAL-2025-20690.json");
    std::fs::copy(mal, src.join("MAL-2025-20690.json")).unwrap();
    ward_scan::AdvisoryDb::import(&[src], "2026-12-01T00:00:00Z").unwrap().0
}

fn kinds(r: &ward_audit::AuditReport) -> Vec<(AlertKind, String)> {
    r.findings
        .iter()
        .filter(|f| f.advisory.is_some())
        .map(|f| (f.kind, f.advisory.as_ref().unwrap().id.clone()))
        .collect()
}

#[test]
fn advisories_the_decision_did_not_weigh_are_new_and_deadlines_make_them_overdue() {
    let d = tempfile::tempdir().unwrap();
    package(d.path(), "left", "1.0.0");
    package(d.path(), "flatmap-stream", "0.1.1");
    lock(d.path(), &[("left", 1), ("flatmap-stream", 2)]);
    let db = database(d.path());
    let mut allows = Allows::empty();
    allows.push(allow(1, "pkg:npm/left@1.0.0", &[]));
    allows.push(allow(2, "pkg:npm/flatmap-stream@0.1.1", &[]));
    let paths = [d.path().to_path_buf()];
    let ctx = AuditContext::new(&allows, t("2026-12-02T00:00:00Z")).with_advisories(&db);
    let r = audit(&paths, &ctx).unwrap();
    assert_eq!(
        kinds(&r),
        vec![
            (AlertKind::NewlyMalicious, "MAL-2025-20690".into()),
            (AlertKind::NewlyVulnerable, "GHSA-left-0001-test".into()),
        ]
    );

    // Weighed by the decision (named in its warnings): not new.
    let mut weighed = Allows::empty();
    weighed.push(allow(
        1,
        "pkg:npm/left@1.0.0",
        &["GHSA-left-0001-test (high): accepted in warn mode"],
    ));
    let ctx = AuditContext::new(&weighed, t("2026-12-02T00:00:00Z")).with_advisories(&db);
    let r = audit(&paths, &ctx).unwrap();
    assert!(
        !kinds(&r).iter().any(|(_, id)| id == "GHSA-left-0001-test"),
        "{:?}",
        kinds(&r)
    );

    // Deadlines count from the first sighting.
    let policy = ward_policy::Policy::parse("[remediation]\nhigh = 30\n", "ward.toml", Path::new(".")).unwrap();
    let store_dir = d.path().join("data");
    std::fs::create_dir_all(&store_dir).unwrap();
    let store = Mutex::new(ward_scan::FirstSeenStore::open(&store_dir).unwrap());
    let at = |now: &str| {
        let ctx = AuditContext::new(&allows, t(now))
            .with_advisories(&db)
            .with_policy(&policy)
            .with_first_seen(&store);
        audit(&paths, &ctx).unwrap()
    };
    let first = at("2026-12-02T00:00:00Z");
    assert!(first.of_kind(AlertKind::Overdue).next().is_none());
    let due = first.of_kind(AlertKind::NewlyVulnerable).next().unwrap().due.unwrap();
    assert_eq!(due, t("2027-01-01T00:00:00Z"));
    let later = at("2027-01-15T00:00:00Z");
    let overdue: Vec<_> = later.of_kind(AlertKind::Overdue).collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].advisory.as_ref().unwrap().id, "GHSA-left-0001-test");

    // An exception silences it.
    let excepted = ward_policy::Policy::parse(
        "[[exception]]\nadvisory = \"GHSA-left-0001-test\"\npackage = \"npm:left\"\njustification = \"not reachable\"\nexpires = \"2099-01-01\"\n",
        "ward.toml",
        Path::new("."),
    )
    .unwrap();
    let ctx = AuditContext::new(&allows, t("2026-12-02T00:00:00Z"))
        .with_advisories(&db)
        .with_policy(&excepted);
    let r = audit(&paths, &ctx).unwrap();
    assert_eq!(kinds(&r), vec![(AlertKind::NewlyMalicious, "MAL-2025-20690".into())]);
}
