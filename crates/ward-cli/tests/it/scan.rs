//! `ward advisories` and `ward scan` with real advisory data.

use crate::common::{TestContext, json_of, shared};
use std::path::{Path, PathBuf};

fn import(ctx: &TestContext, db: &Path, sources: &[&str]) -> crate::common::Run {
    let mut args = vec![
        "advisories".to_string(),
        "import".into(),
        "--db".into(),
        db.display().to_string(),
    ];
    args.extend(
        sources
            .iter()
            .map(|s| shared().join("advisories").join(s).display().to_string()),
    );
    ctx.ward(&args)
}

fn scan(ctx: &TestContext, db: &Path, targets: &[&Path], extra: &[&str]) -> crate::common::Run {
    let mut args = vec![
        "scan".to_string(),
        "--db".into(),
        db.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(targets.iter().map(|t| t.display().to_string()));
    ctx.ward(&args)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_cargo_lock_with_a_known_vulnerable_crate() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    import(&ctx, &db, &["rustsec"]).expect(0);
    let lock = write(
        dir.path(),
        "Cargo.lock",
        "version = 4\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"mine\"\nversion = \"0.1.0\"\n",
    );
    let run = scan(&ctx, &db, &[&lock], &[]);
    run.expect(1);
    let doc = json_of(&run);
    assert_eq!(doc["components"], 2, "the path dependency is not from the registry");
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["advisory"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"RUSTSEC-2021-0003"), "{ids:?}");
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["package"] == "pkg:cargo/smallvec@1.6.0")
    );
    // The real lockfile from osv-scanner has no affected crate versions.
    scan(&ctx, &db, &[&shared().join("lockfiles/Cargo.lock")], &[]).expect(0);
}

#[test]
fn requirements_findings_fixed_versions_and_unpinned_lines() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    import(&ctx, &db, &["pypa"]).expect(0);
    let req = write(
        dir.path(),
        "requirements.txt",
        "# pinned\nDjango==3.2.0 ; python_version > \"3\"\nrequests>=2.0\n",
    );
    let run = scan(&ctx, &db, &[&req], &[]);
    run.expect(1);
    let doc = json_of(&run);
    let django: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"] == "pkg:pypi/django@3.2.0")
        .collect();
    assert!(django.len() > 10, "{}", django.len());
    assert!(
        django
            .iter()
            .any(|f| f["fixed"].as_array().unwrap().iter().any(|v| v == "3.2.5"))
    );
    assert_eq!(doc["unevaluable"][0]["entry"], "requests>=2.0");
    // A version no advisory covers is clean.
    let clean = write(dir.path(), "requirements-clean.txt", "django==5.99.0\n");
    scan(&ctx, &db, &[&clean], &[]).expect(0);
}

#[test]
fn package_lock_with_a_written_npm_advisory_and_severity_thresholds() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let adv = dir.path().join("osv");
    std::fs::create_dir_all(&adv).unwrap();
    // An npm record in the published OSV schema (no npm data ships in ../shared).
    write(
        &adv,
        "GHSA-test-ajv.json",
        r#"{"id":"GHSA-test-0001","modified":"2026-11-01T00:00:00Z","summary":"test advisory for ajv","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"}],"affected":[{"package":{"ecosystem":"npm","name":"ajv"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"6.12.7"}]}]}]}"#,
    );
    let db = dir.path().join("db");
    ctx.ward([
        "advisories",
        "import",
        "--db",
        db.to_str().unwrap(),
        adv.to_str().unwrap(),
    ])
    .expect(0);
    let lock = shared().join("lockfiles/npm-package-lock.json");
    let run = scan(&ctx, &db, &[&lock], &[]);
    run.expect(1);
    let doc = json_of(&run);
    assert_eq!(doc["findings"][0]["advisory"], "GHSA-test-0001");
    assert_eq!(doc["findings"][0]["rating"]["level"], "low");
    assert_eq!(doc["findings"][0]["rating"]["score"], 3.7);
    // Below the threshold: reported, allowed.
    let run = scan(&ctx, &db, &[&lock], &["--fail-on", "high"]);
    run.expect(0);
    assert_eq!(json_of(&run)["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn status_and_staleness_are_reported() {
    // ward's clock pinned years past the shared data's newest record.
    let ctx = TestContext::new().at("2030-01-01T00:00:00Z");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let run = import(&ctx, &db, &["go", "maven-ghsa"]);
    run.expect(0);
    assert!(run.stdout.contains("imported"), "{}", run.stdout);
    let run = ctx.ward(["advisories", "status", "--db", db.to_str().unwrap()]);
    run.expect(0);
    assert!(
        run.stdout.contains("golang") && run.stdout.contains("maven"),
        "{}",
        run.stdout
    );
    // The shared data is years old then: never silently.
    assert!(run.stderr.contains("days old"), "{}", run.stderr);
    let lock = write(dir.path(), "requirements.txt", "six==1.16.0\n");
    let run = scan(&ctx, &db, &[&lock], &[]);
    run.expect(0);
    assert_eq!(json_of(&run)["database"]["stale"], true);
    assert!(run.stderr.contains("days old"));
    // No database at all is a usage error, not a clean scan.
    ctx.ward([
        "scan",
        "--db",
        dir.path().join("none").to_str().unwrap(),
        lock.to_str().unwrap(),
    ])
    .expect(2);
    // A file that is neither a lockfile, an SBOM nor a package, with no
    // verified SBOM, could not be evaluated: a deny, never a clean scan.
    let other = write(dir.path(), "notes.txt", "hello");
    let run = scan(&ctx, &db, &[&other], &[]);
    run.expect(1);
    assert!(
        json_of(&run)["unevaluable"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not a lockfile, SBOM or package"),
        "{}",
        run.stdout
    );
}

#[test]
fn cyclonedx_and_spdx_sboms() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    import(&ctx, &db, &["rustsec-osv", "go"]).expect(0);
    let cdx = write(
        dir.path(),
        "bom.cdx.json",
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
            {"type":"library","name":"smallvec","version":"1.6.0","purl":"pkg:cargo/smallvec@1.6.0",
             "components":[{"type":"library","name":"net","version":"v0.0.1","purl":"pkg:golang/golang.org/x/net@v0.0.1"}]},
            {"type":"library","name":"mystery","version":"1.0"},
            {"type":"library","name":"openssl","version":"3.0","purl":"pkg:deb/debian/openssl@3.0"},
            {"type":"file","name":"README"}]}"#,
    );
    let run = scan(&ctx, &db, &[&cdx], &[]);
    run.expect(1);
    let doc = json_of(&run);
    let packages: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["package"].as_str().unwrap())
        .collect();
    assert!(packages.contains(&"pkg:cargo/smallvec@1.6.0"), "{packages:?}");
    assert!(
        packages.iter().any(|p| p.starts_with("pkg:golang/golang.org/x/net@")),
        "nested components are scanned: {packages:?}"
    );
    let unevaluable: Vec<&str> = doc["unevaluable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["entry"].as_str().unwrap())
        .collect();
    assert_eq!(
        unevaluable,
        ["mystery@1.0", "openssl@3.0"],
        "no purl, or an ecosystem ward does not scan"
    );

    let spdx = write(
        dir.path(),
        "sbom.spdx.json",
        r#"{"spdxVersion":"SPDX-2.3","packages":[{"name":"smallvec","versionInfo":"1.6.0","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:cargo/smallvec@1.6.0"}]}]}"#,
    );
    let run = scan(&ctx, &db, &[&spdx], &[]);
    run.expect(1);
    assert!(
        json_of(&run)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["advisory"] == "RUSTSEC-2021-0003")
    );
    let old = write(
        dir.path(),
        "old.cdx.json",
        r#"{"bomFormat":"CycloneDX","specVersion":"1.2","components":[]}"#,
    );
    ctx.ward(["scan", "--db", db.to_str().unwrap(), old.to_str().unwrap()])
        .expect(2);
}

#[test]
fn sarif_output_for_code_scanning() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    import(&ctx, &db, &["rustsec"]).expect(0);
    let lock = write(
        dir.path(),
        "Cargo.lock",
        "version = 4\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    );
    let run = ctx.ward([
        "scan",
        "--db",
        db.to_str().unwrap(),
        "--format",
        "sarif",
        lock.to_str().unwrap(),
    ]);
    run.expect(1);
    let doc = json_of(&run);
    assert_eq!(doc["version"], "2.1.0");
    let sarif_run = &doc["runs"][0];
    assert_eq!(sarif_run["tool"]["driver"]["name"], "ward");
    let rules = sarif_run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = sarif_run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let rule = rules
            .iter()
            .find(|x| x["id"] == r["ruleId"])
            .expect("every result's rule is declared");
        let severity: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&severity));
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            lock.display().to_string()
        );
        assert!(
            r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("pkg:cargo/smallvec@1.6.0")
        );
    }
    assert!(results.iter().any(|r| r["ruleId"] == "RUSTSEC-2021-0003"));
}

fn signed_crate(p: &crate::common::Publisher, name: &str, version: &str) -> PathBuf {
    signed_crate_licensed(p, name, version, None)
}

/// A signed `.crate` with its own Cargo.toml (and `license`, if given).
pub(crate) fn signed_crate_licensed(
    p: &crate::common::Publisher,
    name: &str,
    version: &str,
    license: Option<&str>,
) -> PathBuf {
    use crate::common::{Entry, tgz};
    let path = p.path(&format!("{name}-{version}.crate"));
    let mut manifest = format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\n");
    if let Some(l) = license {
        manifest.push_str(&format!("license = \"{l}\"\n"));
    }
    tgz(
        &path,
        &[Entry::File(
            &format!("{name}-{version}/Cargo.toml"),
            manifest.as_bytes(),
        )],
    );
    p.ctx
        .ward(["sign", "--key", p.key.to_str().unwrap(), path.to_str().unwrap()])
        .expect(0);
    path
}

#[test]
fn verify_scans_the_artifact_itself() {
    let ctx = TestContext::new();
    let p = crate::common::Publisher::new("ecdsa-p256");
    let db = p.path("db");
    import(&ctx, &db, &["rustsec"]).expect(0);
    let verify = |artifact: &Path, extra: &[&str]| {
        let mut args = vec![
            "verify".to_string(),
            artifact.display().to_string(),
            "--key".into(),
            p.public.display().to_string(),
            "--db".into(),
            db.display().to_string(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        ctx.ward(&args)
    };
    let vulnerable = signed_crate(&p, "smallvec", "1.6.0");
    let run = verify(&vulnerable, &[]);
    run.expect(1).reason("advisory-found");
    let doc = json_of(&run);
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["advisory"] == "RUSTSEC-2021-0003")
    );
    let reason = doc["decision"]["reasons"][0]["message"].as_str().unwrap();
    assert!(
        reason.contains("pkg:cargo/smallvec@1.6.0") && reason.contains("fixed in"),
        "{reason}"
    );
    let clean = signed_crate(&p, "smallvec", "1.13.2");
    let run = verify(&clean, &[]);
    run.expect(0);
    assert!(
        json_of(&run)["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "scan" && c["result"] == "pass")
    );
}

#[test]
fn verify_scans_a_verified_sbom_attestation() {
    let ctx = TestContext::new();
    let p = crate::common::Publisher::new("ecdsa-p256");
    let db = p.path("db");
    import(&ctx, &db, &["rustsec"]).expect(0);
    let art = p.artifact("app.bin", b"an application binary");
    ctx.ward(["sign", "--key", p.key.to_str().unwrap(), art.to_str().unwrap()])
        .expect(0);
    let bom = |components: serde_json::Value| serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": components});
    let verify = |att: &Path| {
        ctx.ward([
            "verify",
            art.to_str().unwrap(),
            "--key",
            p.public.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--attestation",
            att.to_str().unwrap(),
        ])
    };
    let vulnerable = p.attest(&art, "https://cyclonedx.org/bom", &bom(serde_json::json!([{"type": "library", "name": "smallvec", "version": "1.6.0", "purl": "pkg:cargo/smallvec@1.6.0"}])), "vuln.bom.json");
    let run = verify(&vulnerable);
    run.expect(1).reason("advisory-found");
    assert!(run.stdout.contains("RUSTSEC-2021-0003"), "{}", run.stdout);
    let unknown = p.attest(
        &art,
        "https://cyclonedx.org/bom",
        &bom(serde_json::json!([{"type": "library", "name": "mystery", "version": "1.0"}])),
        "unknown.bom.json",
    );
    verify(&unknown).expect(1).reason("advisory-unevaluable");
    let clean = p.attest(&art, "https://cyclonedx.org/bom", &bom(serde_json::json!([{"type": "library", "name": "smallvec", "version": "1.13.2", "purl": "pkg:cargo/smallvec@1.13.2"}])), "clean.bom.json");
    verify(&clean).expect(0);
}

/// cargo-audit, if installed (`cargo install cargo-audit`): on PATH or in ~/.cargo/bin.
pub(crate) fn cargo_audit() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("cargo-audit")).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo").into_os_string()))
    {
        candidates.push(PathBuf::from(home).join("bin/cargo-audit"));
    }
    candidates.into_iter().find(|p| p.is_file())
}

#[test]
#[allow(clippy::print_stderr)]
fn agrees_with_cargo_audit_on_a_real_lockfile_and_database() {
    let ctx = TestContext::new();
    let Some(audit) = cargo_audit() else {
        eprintln!("cargo-audit is not installed: comparison skipped (cargo install cargo-audit)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    import(&ctx, &db, &["rustsec"]).expect(0);
    let lock = crate::common::fixtures().join("audit/Cargo.lock");
    // cargo-audit offline, on the same RustSec checkout.
    let out = std::process::Command::new(&audit)
        .args(["audit", "--no-fetch", "--no-yanked", "--stale", "--json", "--db"])
        .arg(shared().join("advisories/rustsec"))
        .arg("--file")
        .arg(&lock)
        .output()
        .unwrap();
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("cargo-audit JSON: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    let mut their_vulns: Vec<String> = theirs["vulnerabilities"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["advisory"]["id"].as_str().unwrap().to_string())
        .collect();
    let mut their_warnings: Vec<String> = theirs["warnings"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .flat_map(|list| list.as_array().into_iter().flatten())
        .filter_map(|w| w["advisory"]["id"].as_str().map(String::from))
        .collect();
    let run = scan(&ctx, &db, &[&lock], &["--fail-on", "none"]);
    run.expect(1);
    let doc = json_of(&run);
    let findings = doc["findings"].as_array().unwrap();
    let ours = |informational: bool| {
        let mut ids: Vec<String> = findings
            .iter()
            .filter(|f| (f["rating"]["level"] == "none") == informational)
            .map(|f| f["advisory"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    their_vulns.sort();
    their_vulns.dedup();
    their_warnings.sort();
    their_warnings.dedup();
    assert!(
        their_vulns.len() >= 15,
        "the fixture should exercise many advisories: {their_vulns:?}"
    );
    assert_eq!(ours(false), their_vulns, "vulnerabilities differ from cargo-audit's");
    // cargo-audit reports unmaintained/unsound advisories as warnings; ward rates them `none`.
    assert_eq!(
        ours(true),
        their_warnings,
        "informational advisories differ from cargo-audit's warnings"
    );
}

#[test]
fn scan_of_an_artifact_uses_its_own_package_and_its_verified_sbom_only() {
    let ctx = TestContext::new();
    let p = crate::common::Publisher::new("ecdsa-p256");
    let db = p.path("db");
    import(&ctx, &db, &["rustsec"]).expect(0);
    let key = p.public.to_str().unwrap().to_string();
    // A crate is its own component.
    let crate_file = signed_crate(&p, "smallvec", "1.6.0");
    let run = scan(&ctx, &db, &[&crate_file], &["--key", &key]);
    run.expect(1);
    assert_eq!(json_of(&run)["findings"][0]["advisory"], "RUSTSEC-2021-0003");
    // A binary is scanned through its verified SBOM attestation.
    let art = p.artifact("app.bin", b"an application binary");
    let bom = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": [{"type": "library", "name": "smallvec", "version": "1.6.0", "purl": "pkg:cargo/smallvec@1.6.0"}]});
    let att = p.attest(&art, "https://cyclonedx.org/bom", &bom, "app.bom.json");
    let run = scan(
        &ctx,
        &db,
        &[&art],
        &["--key", &key, "--attestation", att.to_str().unwrap()],
    );
    run.expect(1);
    let doc = json_of(&run);
    assert_eq!(doc["findings"][0]["package"], "pkg:cargo/smallvec@1.6.0");
    // The same SBOM about another artifact proves nothing about this one.
    let other = p.artifact("other.bin", b"another binary");
    let run = scan(
        &ctx,
        &db,
        &[&other],
        &["--key", &key, "--attestation", att.to_str().unwrap()],
    );
    run.expect(1);
    let doc = json_of(&run);
    assert!(doc["findings"].as_array().unwrap().is_empty());
    let reasons: Vec<&str> = doc["unevaluable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.starts_with("attestation-subject-mismatch")),
        "{reasons:?}"
    );
    // Without the key the attestation is not verified, so its SBOM is not used.
    let run = scan(&ctx, &db, &[&art], &["--attestation", att.to_str().unwrap()]);
    run.expect(1);
    assert!(json_of(&run)["findings"].as_array().unwrap().is_empty());
}

/// A database with one npm advisory (`victim` below 2.0.0) and one PyPI
/// advisory (`victim` below 2.0.0).
fn victim_db(ctx: &TestContext, dir: &Path) -> PathBuf {
    let adv = dir.join("osv");
    std::fs::create_dir_all(&adv).unwrap();
    for (eco, id) in [("npm", "GHSA-test-npm1"), ("PyPI", "PYSEC-test-1")] {
        write(
            &adv,
            &format!("{id}.json"),
            &format!(
                r#"{{"id":"{id}","modified":"2026-11-01T00:00:00Z","summary":"victim is bad","severity":[{{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],"affected":[{{"package":{{"ecosystem":"{eco}","name":"victim"}},"ranges":[{{"type":"{}","events":[{{"introduced":"0"}},{{"fixed":"2.0.0"}}]}}]}}]}}"#,
                if eco == "npm" { "SEMVER" } else { "ECOSYSTEM" }
            ),
        );
    }
    let db = dir.join("db");
    ctx.ward([
        "advisories",
        "import",
        "--db",
        db.to_str().unwrap(),
        adv.to_str().unwrap(),
    ])
    .expect(0);
    db
}

fn advisories_of(run: &crate::common::Run) -> Vec<String> {
    json_of(run)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["advisory"].as_str().unwrap(), f["package"].as_str().unwrap()))
        .collect()
}

#[test]
fn package_lock_keys_npm_normalises_are_scanned_under_the_installed_name() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = victim_db(&ctx, dir.path());
    for key in [
        "node_modules/victim/",
        "node_modules/@scope/../victim",
        "node_modules/./victim",
    ] {
        let lock = write(
            dir.path(),
            "package-lock.json",
            &serde_json::json!({"lockfileVersion": 3, "packages": {"": {"name": "app"}, key: {"version": "1.0.0"}}})
                .to_string(),
        );
        let run = scan(&ctx, &db, &[&lock], &[]);
        run.expect(1).reason("advisory-found");
        assert_eq!(advisories_of(&run), ["GHSA-test-npm1 pkg:npm/victim@1.0.0"], "{key}");
    }
    // A key outside the project: could not evaluate, naming the key.
    let lock = write(
        dir.path(),
        "package-lock.json",
        r#"{"lockfileVersion":3,"packages":{"node_modules/../../victim":{"version":"1.0.0"}}}"#,
    );
    let run = scan(&ctx, &db, &[&lock], &[]);
    run.expect(1).reason("advisory-unevaluable");
    assert_eq!(json_of(&run)["unevaluable"][0]["entry"], "node_modules/../../victim");
}

#[test]
fn requirements_includes_are_followed_and_editables_are_unevaluable() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = victim_db(&ctx, dir.path());
    write(dir.path(), "other.txt", "victim==1.0.0\n");
    let req = write(dir.path(), "requirements.txt", "-r other.txt\n");
    let run = scan(&ctx, &db, &[&req], &[]);
    run.expect(1).reason("advisory-found");
    assert_eq!(advisories_of(&run), ["PYSEC-test-1 pkg:pypi/victim@1.0.0"]);
    // Outside the project: refused with a reason, not followed.
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let req = write(&project, "requirements.txt", "-r ../other.txt\n");
    let run = scan(&ctx, &db, &[&req], &[]);
    run.expect(1).reason("advisory-unevaluable");
    let doc = json_of(&run);
    assert!(doc["findings"].as_array().unwrap().is_empty());
    assert!(
        doc["unevaluable"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("outside the project"),
        "{doc}"
    );
    // An editable from git and a direct URL: could not evaluate, naming the line.
    let req = write(
        dir.path(),
        "requirements.txt",
        "-e git+https://github.com/acme/victim#egg=victim\nvictim @ https://example.com/victim-1.0.0.tar.gz\n",
    );
    let run = scan(&ctx, &db, &[&req], &[]);
    run.expect(1).reason("advisory-unevaluable");
    let doc = json_of(&run);
    let unevaluable = doc["unevaluable"].as_array().unwrap();
    assert_eq!(unevaluable.len(), 2, "{doc}");
    for (i, u) in unevaluable.iter().enumerate() {
        assert!(u["source"].as_str().unwrap().ends_with("requirements.txt"), "{u}");
        assert!(
            u["reason"].as_str().unwrap().starts_with(&format!("line {}: ", i + 1)),
            "{u}"
        );
    }
}

#[test]
fn an_unparsable_purl_in_an_sbom_is_unevaluable_never_clean() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = victim_db(&ctx, dir.path());
    let bom = write(
        dir.path(),
        "bom.json",
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"victim","version":"1.0.0","purl":"pkg:npm/%ZZ%@@@1"}]}"#,
    );
    let run = scan(&ctx, &db, &[&bom], &[]);
    run.expect(1).reason("advisory-unevaluable");
    assert!(
        json_of(&run)["unevaluable"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("pkg:npm/%ZZ%@@@1")
    );
}

#[test]
fn fifos_and_devices_as_scan_inputs_fail_at_once() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = victim_db(&ctx, dir.path());
    let fifo = dir.path().join("package-lock.json");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let start = std::time::Instant::now();
    let run = scan(&ctx, &db, &[&fifo], &[]);
    run.expect(2);
    assert!(run.stderr.contains("FIFO"), "{}", run.stderr);
    let run = scan(&ctx, &db, &[Path::new("/dev/zero")], &[]);
    run.expect(2);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    // A VEX document that is a FIFO.
    let lock = write(dir.path(), "requirements.txt", "victim==2.0.0\n");
    let vex = dir.path().join("vex.json");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&vex)
            .status()
            .unwrap()
            .success()
    );
    let run = scan(&ctx, &db, &[&lock], &["--vex", vex.to_str().unwrap()]);
    run.expect(2);
    assert!(run.stderr.contains("FIFO"), "{}", run.stderr);
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn an_import_that_reads_nothing_fails_and_keeps_the_database() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let db = victim_db(&ctx, dir.path());
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    write(&bad, "truncated.json", r#"{"id":"X-1","affected":[{"#);
    write(&bad, "wrong.json", r#"{"id": 5}"#);
    // Over the advisory size limit.
    std::fs::write(bad.join("huge.json"), vec![b' '; (16 << 20) + 1]).unwrap();
    write(&bad, "broken.md", "```toml\n[advisory\n```\n# x\n");
    let run = ctx.ward([
        "advisories",
        "import",
        "--db",
        db.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    run.expect(2);
    assert!(run.stderr.contains("4 "), "{}", run.stderr);
    assert!(run.stderr.contains("huge.json"), "{}", run.stderr);
    // The good database is still there.
    let lock = write(dir.path(), "requirements.txt", "victim==1.0.0\n");
    scan(&ctx, &db, &[&lock], &[]).expect(1).reason("advisory-found");
    // Nothing at all to read is an error too.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    ctx.ward([
        "advisories",
        "import",
        "--db",
        db.to_str().unwrap(),
        empty.to_str().unwrap(),
    ])
    .expect(2);
    scan(&ctx, &db, &[&lock], &[]).expect(1).reason("advisory-found");
    // A FIFO among the sources is counted as unreadable, never waited on.
    let fifo = dir.path().join("adv.json");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let run = ctx.ward([
        "advisories",
        "import",
        "--db",
        db.to_str().unwrap(),
        fifo.to_str().unwrap(),
    ]);
    run.expect(2);
    assert!(run.stderr.contains("FIFO"), "{}", run.stderr);
}
