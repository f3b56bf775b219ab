//! The policy over scan results, with real RustSec data: thresholds,
//! exceptions that expire, OpenVEX, remediation deadlines, licences and
//! scan attestations made elsewhere.

use crate::common::{Publisher, TEST_NOW, TestContext, json_of, shared, test_day};
use std::path::{Path, PathBuf};

/// A Cargo.lock with smallvec 1.6.0: RUSTSEC-2021-0003 (critical 9.8, alias CVE-2021-25900).
const VULNERABLE_LOCK: &str = "version = 4\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";

struct Setup {
    dir: tempfile::TempDir,
    db: PathBuf,
    lock: PathBuf,
    /// Pinned to [`TEST_NOW`]: exceptions and deadlines expire relative to it.
    ctx: TestContext,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let ctx = TestContext::new().at(TEST_NOW);
        ctx.ward([
            "advisories",
            "import",
            "--db",
            db.to_str().unwrap(),
            shared().join("advisories/rustsec").to_str().unwrap(),
        ])
        .expect(0);
        let lock = dir.path().join("Cargo.lock");
        std::fs::write(&lock, VULNERABLE_LOCK).unwrap();
        Self { dir, db, lock, ctx }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `ward scan --format json` with its own data directory.
    fn scan(&self, data: &Path, extra: &[&str]) -> crate::common::Run {
        let mut args = vec![
            "scan".to_string(),
            "--db".into(),
            self.db.display().to_string(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(self.lock.display().to_string());
        self.ctx.ward_in(data, &args)
    }
}

fn day(offset_days: i64) -> String {
    test_day(offset_days)
}

fn exception_policy(expires: &str) -> String {
    format!(
        "version = 1\n\n[[exception]]\nadvisory = \"CVE-2021-25900\"\npackage = \"crates:smallvec@1.6.0\"\njustification = \"insert_many is never called with an untrusted iterator\"\nexpires = \"{expires}\"\n"
    )
}

fn codes(doc: &serde_json::Value) -> Vec<(String, String)> {
    doc["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_string(),
                r["mode"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn exceptions_silence_by_alias_warn_before_expiry_and_stop_after() {
    let s = Setup::new();
    let data = s.dir.path().join("data");
    // In force: silenced, named, allowed; the exception matched by alias.
    let policy = s.file("ward.toml", &exception_policy(&day(90)));
    let run = s.scan(&data, &["--policy", policy.to_str().unwrap()]);
    run.expect(0);
    let doc = json_of(&run);
    let f = &doc["findings"][0];
    assert_eq!(f["advisory"], "RUSTSEC-2021-0003");
    assert_eq!(f["silenced"]["by"], "exception");
    assert!(
        f["silenced"]["source"].as_str().unwrap().ends_with("ward.toml:3"),
        "{f}"
    );
    assert!(f["silenced"]["justification"].as_str().unwrap().contains("insert_many"));
    assert_eq!(codes(&doc), vec![("advisory-silenced".into(), "audit".into())]);

    // Expiring within 14 days: still silenced, with a warning.
    let policy = s.file("soon.toml", &exception_policy(&day(5)));
    let run = s.scan(&data, &["--policy", policy.to_str().unwrap()]);
    run.expect(0);
    assert!(codes(&json_of(&run)).contains(&("exception-expiring".into(), "warn".into())));

    // Expired yesterday: the finding counts again and the expiry is named.
    let policy = s.file("old.toml", &exception_policy(&day(-1)));
    let run = s.scan(&data, &["--policy", policy.to_str().unwrap()]);
    run.expect(1);
    let doc = json_of(&run);
    assert!(doc["findings"][0]["silenced"].is_null());
    let c = codes(&doc);
    assert!(c.contains(&("advisory-found".into(), "enforce".into())), "{c:?}");
    assert!(c.contains(&("exception-expired".into(), "warn".into())), "{c:?}");

    // Another version is not covered by a version-pinned exception.
    std::fs::write(&s.lock, VULNERABLE_LOCK.replace("1.6.0", "1.5.0")).unwrap();
    let policy = s.file("ward.toml", &exception_policy(&day(90)));
    s.scan(&data, &["--policy", policy.to_str().unwrap()]).expect(1);

    // ward's clock decides: the exception in force on TEST_NOW has expired
    // 91 days later, and a clock pinned to no time is an error, never today.
    std::fs::write(&s.lock, VULNERABLE_LOCK).unwrap();
    let scan_at = |now: &str| {
        TestContext::new().at(now).ward_in(
            &data,
            [
                "scan",
                "--db",
                s.db.to_str().unwrap(),
                "--format",
                "json",
                "--policy",
                policy.to_str().unwrap(),
                s.lock.to_str().unwrap(),
            ],
        )
    };
    scan_at(TEST_NOW).expect(0);
    let later = scan_at(&format!("{}T12:00:00Z", day(91)));
    later.expect(1);
    assert!(codes(&json_of(&later)).contains(&("exception-expired".into(), "warn".into())));
    let unpinned = scan_at("yesterday");
    unpinned.expect(2);
    assert!(unpinned.stderr.contains("WARD_TEST_NOW"), "{}", unpinned.stderr);
}

#[test]
fn exceptions_without_justification_or_date_are_refused_at_load() {
    let s = Setup::new();
    let data = s.dir.path().join("data");
    let bad = exception_policy("2027-01-31").replace("insert_many is never called with an untrusted iterator", "ok");
    let policy = s.file("bad.toml", &bad);
    let run = s.scan(&data, &["--policy", policy.to_str().unwrap()]);
    run.expect(2);
    assert!(
        run.stderr.contains("bad.toml:6") && run.stderr.contains("justification"),
        "{}",
        run.stderr
    );
    let policy = s.file("date.toml", &exception_policy("next tuesday"));
    let run = s.scan(&data, &["--policy", policy.to_str().unwrap()]);
    run.expect(2);
    assert!(run.stderr.contains("expires"), "{}", run.stderr);
}

#[test]
fn openvex_not_affected_silences_and_affected_does_not() {
    let s = Setup::new();
    let data = s.dir.path().join("data");
    let vex = |status: &str, extra: &str| {
        format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.invalid/vex/1", "author": "ward tests",
               "timestamp": "2026-01-01T00:00:00Z", "version": 1,
               "statements": [{{"vulnerability": {{"name": "CVE-2021-25900"}},
                                "products": [{{"@id": "pkg:cargo/smallvec@1.6.0"}}],
                                "status": "{status}"{extra}}}]}}"#
        )
    };
    let not_affected = s.file(
        "na.openvex.json",
        &vex(
            "not_affected",
            r#", "justification": "vulnerable_code_not_in_execute_path""#,
        ),
    );
    let run = s.scan(&data, &["--vex", not_affected.to_str().unwrap()]);
    run.expect(0);
    let doc = json_of(&run);
    assert_eq!(doc["findings"][0]["silenced"]["by"], "vex");
    assert_eq!(
        doc["findings"][0]["silenced"]["justification"],
        "not_affected: vulnerable_code_not_in_execute_path"
    );
    // The same document named by the policy.
    let policy = s.file("ward.toml", "version = 1\nvex = [\"na.openvex.json\"]\n");
    s.scan(&data, &["--policy", policy.to_str().unwrap()]).expect(0);

    let affected = s.file(
        "a.openvex.json",
        &vex("affected", r#", "action_statement": "upgrade to 1.6.1""#),
    );
    s.scan(&data, &["--vex", affected.to_str().unwrap()]).expect(1);
    // not_affected with no justification would silence without a reason: refused.
    let unjustified = s.file("u.openvex.json", &vex("not_affected", ""));
    let run = s.scan(&data, &["--vex", unjustified.to_str().unwrap()]);
    run.expect(2);
    assert!(run.stderr.contains("justification"), "{}", run.stderr);
}

#[test]
fn remediation_deadlines_count_from_first_sighting_and_deny_even_in_warn_mode() {
    let s = Setup::new();
    let data = s.dir.path().join("data");
    // Warn mode: a critical finding alone is allowed with a warning.
    let policy = s.file(
        "ward.toml",
        "version = 1\n[defaults]\nmode = \"warn\"\n\n[remediation]\ncritical = 7\nhigh = 30\n",
    );
    let run = s.scan(&data, &["--policy", policy.to_str().unwrap()]);
    run.expect(0);
    let doc = json_of(&run);
    let first_seen = doc["findings"][0]["first_seen"].as_str().unwrap().to_string();
    assert_eq!(doc["findings"][0]["overdue"], false);
    let due: jiff::Timestamp = doc["findings"][0]["due"].as_str().unwrap().parse().unwrap();
    let seen: jiff::Timestamp = first_seen.parse().unwrap();
    assert_eq!(due.duration_since(seen).as_hours(), 7 * 24);
    // A second run keeps the first sighting.
    let again = json_of(&s.scan(&data, &["--policy", policy.to_str().unwrap()]));
    assert_eq!(again["findings"][0]["first_seen"], first_seen.as_str());

    // Seen ten days ago: past the 7-day deadline, which denies even in warn mode.
    let store = data.join("first-seen.json");
    let text = std::fs::read_to_string(&store).unwrap();
    let now: jiff::Timestamp = TEST_NOW.parse().unwrap();
    let ten_days_ago = now - jiff::SignedDuration::from_hours(240);
    std::fs::write(&store, text.replace(&first_seen, &ten_days_ago.to_string())).unwrap();
    let run = s.scan(&data, &["--policy", policy.to_str().unwrap()]);
    run.expect(1);
    let doc = json_of(&run);
    assert_eq!(doc["findings"][0]["overdue"], true);
    assert!(codes(&doc).contains(&("advisory-overdue".into(), "enforce".into())));
    let text = s.ctx.ward_in(
        &data,
        [
            "scan",
            "--db",
            s.db.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            s.lock.to_str().unwrap(),
        ],
    );
    assert!(text.stdout.contains("OVERDUE since"), "{}", text.stdout);
}

#[test]
fn thresholds_are_per_scope_modes_apply_and_the_flag_replaces_them() {
    let s = Setup::new();
    let data = s.dir.path().join("data");
    // RUSTSEC-2021-0003 is critical: a "critical" threshold denies, "none" too;
    // a scope for other packages does not apply.
    let policy = s.file(
        "ward.toml",
        "version = 1\n[defaults]\nfail_on_severity = \"critical\"\n\n[[scope]]\npackages = [\"crates:serde\"]\nfail_on_severity = \"low\"\n",
    );
    s.scan(&data, &["--policy", policy.to_str().unwrap()]).expect(1);
    // The reason names the threshold and where it was set.
    let run = s.scan(&data, &["--policy", policy.to_str().unwrap()]);
    let doc = json_of(&run);
    let msg = doc["reasons"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("threshold critical") && msg.contains("ward.toml:3"),
        "{msg}"
    );
    // A scope in audit mode records instead of denying.
    let audit = s.file(
        "audit.toml",
        "version = 1\n\n[[scope]]\npackages = [\"crates:smallvec\"]\nmode = \"audit\"\n",
    );
    let run = s.scan(&data, &["--policy", audit.to_str().unwrap()]);
    run.expect(0);
    assert_eq!(codes(&json_of(&run)), vec![("advisory-found".into(), "audit".into())]);

    // A low finding (a written OSV record against the real npm lockfile):
    // under a scope's "medium" threshold it is reported and allowed; the
    // command line's --fail-on replaces the policy's threshold.
    let osv = s.dir.path().join("osv");
    std::fs::create_dir_all(&osv).unwrap();
    std::fs::write(
        osv.join("GHSA-test-0001.json"),
        r#"{"id":"GHSA-test-0001","modified":"2026-11-01T00:00:00Z","summary":"test advisory for ajv","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"}],"affected":[{"package":{"ecosystem":"npm","name":"ajv"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"6.12.7"}]}]}]}"#,
    )
    .unwrap();
    let npm_db = s.dir.path().join("npm-db");
    s.ctx
        .ward([
            "advisories",
            "import",
            "--db",
            npm_db.to_str().unwrap(),
            osv.to_str().unwrap(),
        ])
        .expect(0);
    let medium = s.file(
        "medium.toml",
        "version = 1\n\n[[scope]]\npackages = [\"npm:ajv\"]\nfail_on_severity = \"medium\"\n",
    );
    let lock = shared().join("lockfiles/npm-package-lock.json");
    let npm = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--db",
            npm_db.to_str().unwrap(),
            "--format",
            "json",
            "--policy",
            medium.to_str().unwrap(),
        ];
        args.extend(extra);
        args.push(lock.to_str().unwrap());
        s.ctx.ward_in(&data, &args)
    };
    let run = npm(&[]);
    run.expect(0);
    assert_eq!(json_of(&run)["findings"][0]["rating"]["level"], "low");
    npm(&["--fail-on", "low"]).expect(1).reason("advisory-found");
}

#[test]
fn licences_are_judged_as_spdx_expressions_per_scope() {
    let ctx = TestContext::new();
    let p = Publisher::new("ecdsa-p256");
    let policy = p.path("ward.toml");
    std::fs::copy(&p.public, p.path("vendor.pub")).unwrap();
    std::fs::write(
        &policy,
        "version = 1\n\n[[scope]]\npackages = [\"crates:*\"]\nkeys = [\"vendor.pub\"]\nlicenses = { allow = [\"MIT\", \"Apache-2.0\"], deny = [\"GPL-3.0-only\"] }\n",
    )
    .unwrap();
    let verify = |artifact: &Path| {
        ctx.ward([
            "verify",
            artifact.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            "json",
        ])
    };
    verify(&crate::scan::signed_crate_licensed(
        &p,
        "dual",
        "1.0.0",
        Some("MIT OR Apache-2.0"),
    ))
    .expect(0);
    verify(&crate::scan::signed_crate_licensed(
        &p,
        "choice",
        "1.0.0",
        Some("GPL-3.0-only OR MIT"),
    ))
    .expect(0);
    let run = verify(&crate::scan::signed_crate_licensed(
        &p,
        "both",
        "1.0.0",
        Some("MIT AND GPL-3.0-only"),
    ));
    run.expect(1).reason("license-denied");
    let msg = json_of(&run)["decision"]["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("GPL-3.0-only") && msg.contains("ward.toml:6"), "{msg}");
    verify(&crate::scan::signed_crate_licensed(
        &p,
        "bsd",
        "1.0.0",
        Some("BSD-3-Clause"),
    ))
    .expect(1)
    .reason("license-denied");
    verify(&crate::scan::signed_crate_licensed(&p, "none", "1.0.0", None))
        .expect(1)
        .reason("license-unknown");
    verify(&crate::scan::signed_crate_licensed(
        &p,
        "prose",
        "1.0.0",
        Some("see the LICENSE file"),
    ))
    .expect(1)
    .reason("license-unknown");
}

#[test]
fn package_lock_licences_with_a_policy() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    ctx.ward([
        "advisories",
        "import",
        "--db",
        db.to_str().unwrap(),
        shared().join("advisories/go").to_str().unwrap(),
    ])
    .expect(0);
    let policy = dir.path().join("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n[defaults]\nlicenses = { allow = [\"MIT\", \"ISC\"] }\n",
    )
    .unwrap();
    let scan = |lock: &Path| {
        ctx.ward([
            "scan",
            "--db",
            db.to_str().unwrap(),
            "--format",
            "json",
            "--policy",
            policy.to_str().unwrap(),
            lock.to_str().unwrap(),
        ])
    };
    // npm copies each package's `license` into package-lock.json v2/v3.
    let lock = dir.path().join("package-lock.json");
    std::fs::write(
        &lock,
        r#"{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": {
            "": {"name": "app", "version": "1.0.0", "license": "MIT"},
            "node_modules/ms": {"version": "2.1.3", "license": "MIT"},
            "node_modules/semver": {"version": "7.6.0", "license": "ISC"},
            "node_modules/dual": {"version": "1.0.0", "license": "(MIT OR GPL-3.0-only)"}}}"#,
    )
    .unwrap();
    let run = scan(&lock);
    run.expect(0);
    assert_eq!(json_of(&run)["licenses"].as_array().unwrap().len(), 3);
    std::fs::write(
        &lock,
        std::fs::read_to_string(&lock)
            .unwrap()
            .replace("\"ISC\"}", "\"AGPL-3.0-only\"}"),
    )
    .unwrap();
    let run = scan(&lock);
    run.expect(1);
    let doc = json_of(&run);
    let refused: Vec<&str> = doc["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "license-denied")
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].starts_with("pkg:npm/semver@7.6.0 is licensed AGPL-3.0-only"),
        "{}",
        refused[0]
    );
    // The real lockfile from osv-scanner states no licences for its
    // dependencies: with licences restricted, each is unknown, never allowed.
    let run = scan(&shared().join("lockfiles/npm-package-lock.json"));
    run.expect(1);
    let doc = json_of(&run);
    let unknown = codes(&doc).iter().filter(|(c, _)| c == "license-unknown").count();
    assert_eq!(unknown, usize::try_from(doc["components"].as_u64().unwrap()).unwrap());
}

#[test]
fn scan_attestations_from_trusted_scanners() {
    let ctx = TestContext::new().at(TEST_NOW);
    let p = Publisher::new("ecdsa-p256");
    std::fs::copy(&p.public, p.path("vendor.pub")).unwrap();
    let policy = p.path("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[[scope]]\npackages = [\"*\"]\nkeys = [\"vendor.pub\"]\nscan_attestation = { scanners = [\"https://github.com/aquasecurity/trivy\"], max_age_days = 7, fail_on_severity = \"high\" }\n",
    )
    .unwrap();
    let art = p.artifact("app.bin", b"an application");
    ctx.ward(["sign", "--key", p.key.to_str().unwrap(), art.to_str().unwrap()])
        .expect(0);
    let now: jiff::Timestamp = TEST_NOW.parse().unwrap();
    let scan = |scanner: &str, finished: jiff::Timestamp, severities: &[&str], name: &str| {
        let result: Vec<serde_json::Value> = severities
            .iter()
            .enumerate()
            .map(|(i, s)| serde_json::json!({"id": format!("CVE-2026-{i:04}"), "severity": [{"method": "nvd", "score": s}]}))
            .collect();
        p.attest(
            &art,
            "https://in-toto.io/attestation/vulns/v0.2",
            &serde_json::json!({"scanner": {"uri": scanner, "version": "0.50.0", "result": result},
                                 "metadata": {"scanStartedOn": finished.to_string(), "scanFinishedOn": finished.to_string()}}),
            name,
        )
    };
    let verify = |att: Option<&Path>| {
        let mut args = vec![
            "verify".to_string(),
            art.display().to_string(),
            "--purl".into(),
            "pkg:generic/app@1.0".into(),
            "--policy".into(),
            policy.display().to_string(),
        ];
        if let Some(a) = att {
            args.extend(["--attestation".to_string(), a.display().to_string()]);
        }
        ctx.ward(&args)
    };
    let trivy = "https://github.com/aquasecurity/trivy";
    verify(Some(&scan(trivy, now, &["LOW", "5.0"], "clean.json"))).expect(0);
    verify(None).expect(1).reason("scan-attestation-missing");
    verify(Some(&scan("https://example.invalid/scanner", now, &[], "other.json")))
        .expect(1)
        .reason("scan-attestation-missing");
    let old = now - jiff::SignedDuration::from_hours(24 * 30);
    verify(Some(&scan(trivy, old, &[], "old.json")))
        .expect(1)
        .reason("scan-attestation-too-old");
    let run = verify(Some(&scan(trivy, now, &["LOW", "9.8"], "critical.json")));
    run.expect(1).reason("scan-attestation-finding");
    assert!(run.stdout.contains("CVE-2026-0001"), "{}", run.stdout);
}
