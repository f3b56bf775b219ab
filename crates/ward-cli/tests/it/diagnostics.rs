//! What a person sees when a policy is wrong (every problem at once, each
//! with its code, the source line and a caret under the key) or about to
//! lapse (warnings in the same form); `ward verify --format sarif`; and
//! SARIF regions at the lockfile line of each finding.

use crate::common::{TEST_NOW, TestContext, json_of, shared, test_day};

#[test]
fn policy_check_shows_every_error_with_its_line_and_a_caret_under_the_key() {
    let ctx = TestContext::new();
    let policy = ctx.path("ward.toml");
    std::fs::write(
        &policy,
        "[[scope]]\npackages = [\"nuget:x\"]\n\n[[scope]]\npackages = [\"npm:*\"]\n\n[scope.provenance]\nsorce = \"https://github.com/acme/.*\"\n\n[[exception]]\nadvisory = \"GHSA-*\"\npackage = \"npm:x\"\njustification = \"not reachable from our code\"\nexpires = \"2027-01-31\"\n",
    )
    .unwrap();
    let run = ctx.ward(["policy", "check", policy.to_str().unwrap()]);
    run.expect(2).reason("policy-invalid");
    let err = &run.stderr;
    let file = policy.display().to_string();
    // Each error: its code and message, where it is, the line, the caret.
    assert!(err.contains("error[unknown-key]: unknown field `sorce`"), "{err}");
    assert!(err.contains(&format!("┌─ {file}:8:1")), "{err}");
    assert!(err.contains("8 │ sorce = \"https://github.com/acme/.*\""), "{err}");
    assert!(err.contains("  │ ^^^^^ scope[2]"), "{err}");
    assert!(err.contains("error[invalid-package-pattern]"), "{err}");
    assert!(err.contains(&format!("┌─ {file}:2:13")), "{err}");
    assert!(
        err.contains("error[invalid-target]: name one advisory id or alias (no wildcards)"),
        "{err}"
    );
    assert!(err.contains("^^^^^^^^ exception[1].advisory"), "{err}");
    // In file order, then one summary line with the count and the stable code.
    let pattern = err.find("invalid-package-pattern").unwrap();
    let key = err.find("unknown-key").unwrap();
    let target = err.find("invalid-target").unwrap();
    assert!(pattern < key && key < target, "{err}");
    assert!(
        err.trim_end().ends_with(&format!(
            "ward: error: {file}: the policy does not load (3 errors) [policy-invalid]"
        )),
        "{err}"
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn policy_check_warns_about_lapsing_exceptions_at_the_expires_key() {
    let ctx = TestContext::new().at(TEST_NOW);
    let policy = ctx.path("ward.toml");
    let soon = test_day(5);
    let past = test_day(-1);
    std::fs::write(
        &policy,
        format!(
            "[[exception]]\nadvisory = \"GHSA-aaaa-bbbb-cccc\"\npackage = \"npm:x\"\njustification = \"not reachable from our code\"\nexpires = \"{soon}\"\n\n[[exception]]\nadvisory = \"GHSA-dddd-eeee-ffff\"\npackage = \"npm:y\"\njustification = \"not reachable from our code\"\nexpires = \"{past}\"\n"
        ),
    )
    .unwrap();
    let run = ctx.ward(["policy", "check", policy.to_str().unwrap()]);
    run.expect(0);
    assert!(run.stdout.starts_with("ok: "), "{}", run.stdout);
    let err = &run.stderr;
    let file = policy.display().to_string();
    assert!(
        err.contains(&format!(
            "warning[exception-expiring]: the exception for GHSA-aaaa-bbbb-cccc expires on {soon} (5 days)"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("┌─ {file}:5:11")), "{err}");
    assert!(
        err.contains(&format!(
            "warning[exception-expired]: the exception for GHSA-dddd-eeee-ffff expired on {past}"
        )),
        "{err}"
    );
    assert!(err.contains("exception[2].expires"), "{err}");
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn policy_errors_stop_verify_with_the_same_diagnostics() {
    let ctx = TestContext::new();
    let policy = ctx.path("ward.toml");
    std::fs::write(&policy, "[[scope]]\npackages = []\nthreshold = 0\n").unwrap();
    let art = ctx.path("a.txt");
    std::fs::write(&art, b"x").unwrap();
    let run = ctx.ward(["verify", art.to_str().unwrap(), "--policy", policy.to_str().unwrap()]);
    run.expect(2).reason("policy-invalid");
    assert!(run.stderr.contains("error[empty-list]"), "{}", run.stderr);
    assert!(run.stderr.contains("error[invalid-threshold]"), "{}", run.stderr);
    assert!(run.stderr.contains("(2 errors)"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing is decided: {}", run.stdout);
}

#[test]
fn verify_format_sarif_reports_each_reason_as_a_result() {
    let ctx = TestContext::new();
    let art = ctx.path("a.txt");
    std::fs::write(&art, b"unsigned").unwrap();
    let run = ctx.ward(["verify", art.to_str().unwrap(), "--format", "sarif"]);
    run.expect(1);
    let doc = json_of(&run);
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
    let sarif_run = &doc["runs"][0];
    assert_eq!(sarif_run["tool"]["driver"]["name"], "ward");
    let rules = sarif_run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = sarif_run["results"].as_array().unwrap();
    let missing = results
        .iter()
        .find(|r| r["ruleId"] == "signature-missing")
        .expect("the deny reason is a result");
    assert_eq!(missing["level"], "error");
    assert!(
        missing["message"]["text"].as_str().unwrap().contains("denied"),
        "{missing}"
    );
    let at = &missing["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], "a.txt");
    assert_eq!(at["region"]["startLine"], 1);
    for r in results {
        assert!(
            rules.iter().any(|d| d["id"] == r["ruleId"]),
            "every result's rule is declared: {r}"
        );
    }
    let rule = rules.iter().find(|d| d["id"] == "signature-missing").unwrap();
    assert!(
        rule["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .starts_with("No signature was found"),
        "{rule}"
    );
}

#[test]
fn scan_sarif_points_each_finding_at_its_lockfile_entry() {
    let ctx = TestContext::new();
    let db = ctx.path("db");
    ctx.ward([
        "advisories",
        "import",
        "--db",
        db.to_str().unwrap(),
        shared().join("advisories").join("rustsec").to_str().unwrap(),
    ])
    .expect(0);
    let lock = ctx.path("Cargo.lock");
    std::fs::write(
        &lock,
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
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
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let finding = results
        .iter()
        .find(|r| r["ruleId"] == "RUSTSEC-2021-0003")
        .expect("the smallvec advisory");
    let at = &finding["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], lock.display().to_string());
    // `[[package]]` of smallvec is line 7, not the file's first line.
    assert_eq!(at["region"]["startLine"], 7, "{finding}");
}
