//! Malicious-package records (issue 13): the OpenSSF feed's real `MAL-`
//! records and RustSec `malicious` advisories deny in every mode, ignore
//! exceptions and VEX, and let one reviewed artifact through only by an
//! `[[allow]]` naming its sha256.

use crate::common::{Entry, TEST_NOW, TestContext, TestKey, json_of, shared, test_day, tgz};
use sha2::Digest as _;
use std::path::{Path, PathBuf};

struct Setup {
    dir: tempfile::TempDir,
    db: PathBuf,
    /// Pinned to [`TEST_NOW`]: allows expire relative to it, not to today.
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
            shared().join("advisories/malicious").to_str().unwrap(),
        ])
        .expect(0);
        Self { dir, db, ctx }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A package-lock.json v3 with these (name, version) packages at the top level.
    fn lock(&self, packages: &[(&str, &str)]) -> PathBuf {
        let mut map = serde_json::Map::new();
        map.insert("".into(), serde_json::json!({"name": "app", "version": "1.0.0"}));
        for (name, version) in packages {
            let base = name.rsplit('/').next().unwrap();
            map.insert(
                format!("node_modules/{name}"),
                serde_json::json!({
                    "version": version,
                    "resolved": format!("https://registry.npmjs.org/{name}/-/{base}-{version}.tgz"),
                }),
            );
        }
        let doc = serde_json::json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": map});
        self.file("package-lock.json", &doc.to_string())
    }

    fn scan(&self, target: &Path, extra: &[&str]) -> crate::common::Run {
        let data = self.dir.path().join("data");
        let mut args = vec![
            "scan".to_string(),
            "--db".into(),
            self.db.display().to_string(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(target.display().to_string());
        self.ctx.ward_in(&data, &args)
    }
}

fn day(offset_days: i64) -> String {
    test_day(offset_days)
}

fn reasons(run: &crate::common::Run) -> Vec<(String, String, String)> {
    json_of(run)["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_string(),
                r["mode"].as_str().unwrap_or_default().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn import_and_status_count_malicious_records_and_flag_the_suspect_one() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let run = ctx.ward([
        "advisories",
        "import",
        "--db",
        db.to_str().unwrap(),
        shared().join("advisories/malicious").to_str().unwrap(),
    ]);
    run.expect(0);
    assert!(
        run.stdout.contains("5 malicious-package records (1 suspect)"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("suspect MAL-2025-47141"), "{}", run.all());
    let status = ctx.ward(["advisories", "status", "--db", db.to_str().unwrap()]);
    status.expect(0);
    for want in [
        "5 malicious-package records (1 suspect)",
        "suspect MAL-2025-47141",
        "introduced: \"0\"",
        ": 5 records",
    ] {
        assert!(status.stdout.contains(want), "{want}: {}", status.all());
    }
}

/// chalk 5.6.1 denies under enforce, warn and audit alike, with the record's
/// id and what the record says to do.
#[test]
fn chalk_5_6_1_is_denied_in_every_mode() {
    let s = Setup::new();
    let lock = s.lock(&[("chalk", "5.6.1"), ("ms", "2.1.3")]);
    for mode in ["enforce", "warn", "audit"] {
        let policy = s.file(
            &format!("{mode}.toml"),
            &format!(
                "[defaults]\nmode = \"{mode}\"\n\n[[scope]]\npackages = [\"npm:*\"]\nmode = \"{mode}\"\nkeys = []\n"
            ),
        );
        let run = s.scan(&lock, &["--policy", policy.to_str().unwrap()]);
        run.expect(1).reason("package-malicious");
        let r = reasons(&run);
        let (_, m, msg) = r.iter().find(|(c, _, _)| c == "package-malicious").unwrap();
        assert_eq!(m, "enforce", "{mode}");
        assert!(
            msg.contains("MAL-2025-46969") && msg.contains("pkg:npm/chalk@5.6.1"),
            "{msg}"
        );
        assert!(msg.contains("fully compromised") && msg.contains("rotated"), "{msg}");
        let doc = json_of(&run);
        assert_eq!(doc["findings"][0]["malicious"]["matched_by"], "version");
    }
    // Text output says what the record says to do.
    let data = s.dir.path().join("data");
    let text = s
        .ctx
        .ward_in(&data, ["scan", "--db", s.db.to_str().unwrap(), lock.to_str().unwrap()]);
    text.expect(1);
    assert!(text.stdout.contains("MALICIOUS"), "{}", text.stdout);
    assert!(
        text.stdout.contains("enforce: package-malicious:") && text.stdout.contains("rotated immediately"),
        "{}",
        text.stdout
    );
    // No policy, and a threshold no severity reaches: still denied.
    s.scan(&lock, &["--fail-on", "none"])
        .expect(1)
        .reason("package-malicious");
}

#[test]
fn neither_an_exception_nor_vex_silences_a_malicious_package() {
    let s = Setup::new();
    let lock = s.lock(&[("chalk", "5.6.1")]);
    let vex = s.file(
        "app.openvex.json",
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"t","timestamp":"2026-01-01T00:00:00Z","version":1,
            "statements":[{"vulnerability":{"name":"MAL-2025-46969"},"products":[{"@id":"pkg:npm/chalk@5.6.1"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}"#,
    );
    let policy = s.file(
        "ward.toml",
        &format!(
            "vex = [\"app.openvex.json\"]\n\n[[exception]]\nadvisory = \"MAL-2025-46969\"\npackage = \"npm:chalk@5.6.1\"\njustification = \"we only use it in tests, honestly\"\nexpires = \"{}\"\n",
            day(60)
        ),
    );
    let _ = vex;
    let run = s.scan(&lock, &["--policy", policy.to_str().unwrap()]);
    run.expect(1).reason("package-malicious");
    assert!(!run.all().contains("advisory-silenced"), "{}", run.all());
    assert!(json_of(&run)["findings"][0].get("silenced").is_none(), "{}", run.stdout);
    // The same VEX given on the command line does not either.
    let vex_path = s.dir.path().join("app.openvex.json");
    s.scan(&lock, &["--vex", vex_path.to_str().unwrap()])
        .expect(1)
        .reason("package-malicious");
}

/// The real clean releases around the attacks are not malicious; the
/// tinycolor record's unbounded range marks its clean neighbours too, and
/// says so (suspect).
#[test]
fn clean_neighbours_pass_and_the_suspect_record_says_it_is_suspect() {
    let s = Setup::new();
    let dir = shared().join("npm-neighbours");
    for clean in [
        "chalk-5.6.0.tgz",
        "chalk-5.6.2.tgz",
        "debug-4.4.1.tgz",
        "debug-4.4.3.tgz",
    ] {
        let run = s.scan(&dir.join(clean), &[]);
        run.expect(0);
        assert!(!run.all().contains("package-malicious"), "{clean}: {}", run.all());
    }
    for version in ["4.1.0", "4.2.0"] {
        let run = s.scan(&dir.join(format!("ctrl-tinycolor-{version}.tgz")), &[]);
        run.expect(1).reason("package-malicious");
        let r = reasons(&run);
        let (_, _, msg) = r.iter().find(|(c, _, _)| c == "package-malicious").unwrap();
        assert!(msg.contains("MAL-2025-47141") && msg.contains("SUSPECT"), "{msg}");
        assert!(json_of(&run)["findings"][0]["malicious"]["suspect"].is_string());
    }
    // A lockfile with the neighbours at the top level: chalk and debug clean.
    let lock = s.lock(&[("chalk", "5.6.2"), ("debug", "4.4.3")]);
    s.scan(&lock, &[]).expect(0);
}

#[test]
fn rustsec_malicious_crates_are_malicious_not_a_severity() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let run = ctx.ward([
        "advisories",
        "import",
        "--db",
        db.to_str().unwrap(),
        shared().join("advisories/rustsec").to_str().unwrap(),
    ]);
    run.expect(0);
    let lock = dir.path().join("Cargo.lock");
    std::fs::write(
        &lock,
        "version = 4\n\n[[package]]\nname = \"win-crypto\"\nversion = \"0.1.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let run = ctx.ward_in(
        &dir.path().join("data"),
        [
            "scan",
            "--db",
            db.to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            "critical",
            lock.to_str().unwrap(),
        ],
    );
    run.expect(1).reason("package-malicious");
    assert_eq!(json_of(&run)["findings"][0]["advisory"], "RUSTSEC-2023-0109");
    assert!(!run.all().contains("advisory-found"), "{}", run.all());
}

/// A tarball named and versioned like a MAL record, signed by a key the
/// policy trusts, so only the malicious rule decides.
struct Signed {
    setup: Setup,
    art: PathBuf,
    key: TestKey,
    sha256: String,
}

fn signed_chalk() -> Signed {
    let setup = Setup::new();
    let art = setup.dir.path().join("chalk-5.6.1.tgz");
    tgz(
        &art,
        &[Entry::File(
            "package/package.json",
            br#"{"name":"chalk","version":"5.6.1","license":"MIT"}"#,
        )],
    );
    let key = TestKey::generate(
        setup.dir.path(),
        "release",
        sigstore_verify::crypto::KeyAlgorithm::EcdsaP256,
    );
    key.sign_file(&art);
    let sha256 = hex::encode(sha2::Sha256::digest(std::fs::read(&art).unwrap()));
    Signed {
        setup,
        art,
        key,
        sha256,
    }
}

impl Signed {
    fn policy(&self, allow: &str) -> PathBuf {
        self.setup.file(
            "ward.toml",
            &format!(
                "[[scope]]\npackages = [\"npm:chalk\"]\nkeys = [\"{}\"]\n{allow}",
                self.key.pub_pem.file_name().unwrap().to_str().unwrap()
            ),
        )
    }

    fn verify(&self, policy: &Path) -> crate::common::Run {
        self.setup.ctx.ward_in(
            &self.setup.dir.path().join("data"),
            [
                "verify",
                self.art.to_str().unwrap(),
                "--key",
                self.key.pub_pem.to_str().unwrap(),
                "--policy",
                policy.to_str().unwrap(),
                "--db",
                self.setup.db.to_str().unwrap(),
                "--format",
                "json",
            ],
        )
    }
}

/// Under `ward verify` (the gate the proxy uses too) a warn or audit scope
/// does not relax the malicious record.
#[test]
fn verify_denies_a_malicious_artifact_in_warn_and_audit_scopes() {
    let s = signed_chalk();
    for mode in ["warn", "audit"] {
        let policy = s.setup.file(
            &format!("{mode}.toml"),
            &format!(
                "[defaults]\nmode = \"{mode}\"\n\n[[scope]]\npackages = [\"npm:chalk\"]\nmode = \"{mode}\"\nkeys = [\"{}\"]\n",
                s.key.pub_pem.file_name().unwrap().to_str().unwrap()
            ),
        );
        s.verify(&policy).expect(1).reason("package-malicious");
    }
}

fn allow(sha256: &str, expires: &str) -> String {
    format!(
        "\n[[allow]]\npurl = \"pkg:npm/chalk@5.6.1\"\nsha256 = \"{sha256}\"\nreviewer = \"alice@example.com\"\njustification = \"rebuilt from the reviewed 5.6.0 sources\"\nexpires = \"{expires}\"\n"
    )
}

#[test]
fn allow_lets_only_the_exact_reviewed_digest_through() {
    let s = signed_chalk();
    // Without an allow: the signature is fine, the record denies.
    s.verify(&s.policy("")).expect(1).reason("package-malicious");
    // With the right sha256: allowed, and the decision says who allowed it.
    let run = s.verify(&s.policy(&allow(&s.sha256, &day(60))));
    run.expect(0).reason("allowed-by-review");
    assert!(
        run.stdout.contains("alice@example.com") && run.stdout.contains("ward.toml:"),
        "{}",
        run.stdout
    );
    // Another sha256: denied, and the message says the allow does not apply.
    let run = s.verify(&s.policy(&allow(&"0".repeat(64), &day(60))));
    run.expect(1).reason("package-malicious");
    assert!(run.stdout.contains("does not apply"), "{}", run.stdout);
    // Expiring soon: allowed with a warning; expired: denied again.
    s.verify(&s.policy(&allow(&s.sha256, &day(5))))
        .expect(0)
        .reason("allow-expiring");
    s.verify(&s.policy(&allow(&s.sha256, &day(-1))))
        .expect(1)
        .reason("package-malicious")
        .reason("allow-expired");
}

#[test]
fn an_allow_missing_a_field_is_a_load_error_with_its_line() {
    let s = Setup::new();
    let ok = allow(&"a".repeat(64), "2027-01-31");
    for (drop, key) in [
        ("reviewer = ", "reviewer"),
        ("sha256 = ", "sha256"),
        ("expires = ", "expires"),
        ("justification = ", "justification"),
        ("purl = ", "purl"),
    ] {
        let text: String = ok
            .lines()
            .filter(|l| !l.starts_with(drop))
            .map(|l| format!("{l}\n"))
            .collect();
        let policy = s.file("bad.toml", &text);
        let run = s.ctx.ward(["policy", "check", policy.to_str().unwrap()]);
        run.expect(2);
        assert!(
            run.stderr.contains("bad.toml:2") && run.stderr.contains(key),
            "{key}: {}",
            run.stderr
        );
    }
    // `package` + `version` is the other spelling; wildcards and ranges are refused.
    let by_package = ok.replace(
        "purl = \"pkg:npm/chalk@5.6.1\"",
        "package = \"npm:chalk\"\nversion = \"5.6.1\"",
    );
    s.ctx
        .ward(["policy", "check", s.file("pkg.toml", &by_package).to_str().unwrap()])
        .expect(0);
    for bad in [
        ok.replace("pkg:npm/chalk@5.6.1", "pkg:npm/chalk"),
        ok.replace("pkg:npm/chalk@5.6.1", "pkg:npm/ch*@5.6.1"),
        by_package.replace("version = \"5.6.1\"", "version = \"^5.6.1\""),
        ok.replace(&"a".repeat(64), "abc"),
    ] {
        let run = s
            .ctx
            .ward(["policy", "check", s.file("wild.toml", &bad).to_str().unwrap()]);
        run.expect(2);
        assert!(run.stderr.contains("wild.toml:"), "{}", run.stderr);
    }
    let short = ok.replace("rebuilt from the reviewed 5.6.0 sources", "ok");
    let run = s
        .ctx
        .ward(["policy", "check", s.file("short.toml", &short).to_str().unwrap()]);
    run.expect(2);
    assert!(run.stderr.contains("justification"), "{}", run.stderr);
}
