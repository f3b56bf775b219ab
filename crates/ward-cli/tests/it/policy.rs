//! Policy as code: every rule decides, every reason names its rule and line,
//! and a broken policy is refused at load.

use crate::common::{HOSTED, Publisher, SLSA_V1, TEST_NOW, TestContext, shared, slsa_v1};
use std::path::{Path, PathBuf};

/// Line (1-based) of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in policy"))
}

fn write_policy(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("ward.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const PROVENANCE_POLICY: &str = r#"version = 1

[[scope]]
name = "acme"
packages = ["generic:acme-*"]
keys = ["test-publisher.pub"]

[scope.provenance]
required = true
builders = ["https://github.com/actions/runner/github-hosted"]
source = "https://github\\.com/acme/.*"
ref = "refs/tags/v.*"
deny_self_hosted = true
"#;

/// Verifies a key-signed artifact with a provenance attestation under PROVENANCE_POLICY.
fn provenance_case(repo: &str, git_ref: &str, builder: &str, runner: &str) -> (crate::common::Run, PathBuf) {
    let p = Publisher::new("ecdsa-p256");
    let art = p.artifact("acme-tool.bin", b"acme tool 1.0.0");
    p.ctx
        .ward(["sign", "--key", p.key.to_str().unwrap(), art.to_str().unwrap()])
        .expect(0);
    let att = p.attest(&art, SLSA_V1, &slsa_v1(repo, git_ref, builder, runner), "prov.json");
    let policy = write_policy(p.dir.path(), PROVENANCE_POLICY);
    let run = p.ctx.ward([
        "verify",
        art.to_str().unwrap(),
        "--purl",
        "pkg:generic/acme-tool@1.0.0",
        "--attestation",
        att.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    // Keep the directory alive until the run is inspected: leak it into the temp dir's lifetime.
    let dir = p.dir.keep();
    (run, dir.join("ward.toml"))
}

#[test]
fn good_provenance_passes() {
    let (run, _) = provenance_case(
        "https://github.com/acme/tool",
        "refs/tags/v1.0.0",
        HOSTED,
        "github-hosted",
    );
    run.expect(0);
}

#[test]
fn provenance_from_a_fork_names_the_rule_and_line() {
    let (run, policy) = provenance_case(
        "https://github.com/evil/tool",
        "refs/tags/v1.0.0",
        HOSTED,
        "github-hosted",
    );
    run.expect(1).reason("provenance-source-mismatch");
    let line = line_of(PROVENANCE_POLICY, "source =");
    let expected = format!(
        "provenance source https://github.com/evil/tool does not match https://github\\.com/acme/.* (scope \"acme\", {}:{line})",
        policy.display()
    );
    assert!(
        run.stdout.contains(&expected),
        "expected {expected:?} in:\n{}",
        run.stdout
    );
}

#[test]
fn builder_ref_and_runner_rules() {
    let (run, _) = provenance_case(
        "https://github.com/acme/tool",
        "refs/tags/v1.0.0",
        "https://evil.example/builder",
        "github-hosted",
    );
    run.expect(1).reason("provenance-builder-mismatch");
    let (run, _) = provenance_case(
        "https://github.com/acme/tool",
        "refs/heads/feature",
        HOSTED,
        "github-hosted",
    );
    run.expect(1).reason("provenance-ref-mismatch");
    let (run, _) = provenance_case(
        "https://github.com/acme/tool",
        "refs/tags/v1.0.0",
        HOSTED,
        "self-hosted",
    );
    run.expect(1).reason("provenance-self-hosted");
}

#[test]
fn required_provenance_that_is_missing_denies() {
    let ctx = TestContext::new();
    let p = Publisher::new("ecdsa-p256");
    let art = p.artifact("acme-tool.bin", b"acme tool");
    ctx.ward(["sign", "--key", p.key.to_str().unwrap(), art.to_str().unwrap()])
        .expect(0);
    let policy = write_policy(p.dir.path(), PROVENANCE_POLICY);
    ctx.ward([
        "verify",
        art.to_str().unwrap(),
        "--purl",
        "pkg:generic/acme-tool@1",
        "--policy",
        policy.to_str().unwrap(),
    ])
    .expect(1)
    .reason("provenance-missing");
}

#[test]
fn threshold_counts_distinct_keys() {
    let ctx = TestContext::new();
    let a = Publisher::new("ecdsa-p256");
    let b = Publisher::new("ed25519");
    let art = a.artifact("acme-lib.bin", b"acme lib");
    std::fs::copy(&b.public, a.path("second.pub")).unwrap();
    let policy = write_policy(
        a.dir.path(),
        "[[scope]]\npackages = [\"generic:acme-*\"]\nkeys = [\"test-publisher.pub\", \"second.pub\"]\nthreshold = 2\n",
    );
    let sign = |key: &Path, out: &str| {
        ctx.ward([
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--output",
            a.path(out).to_str().unwrap(),
            art.to_str().unwrap(),
        ])
        .expect(0);
    };
    sign(&a.key, "s1.json");
    sign(&a.key, "s2.json");
    let verify = |bundles: &[&str]| {
        let mut args = vec![
            "verify".to_string(),
            art.display().to_string(),
            "--purl".into(),
            "pkg:generic/acme-lib@1".into(),
            "--policy".into(),
            policy.display().to_string(),
        ];
        for b in bundles {
            args.extend(["--bundle".into(), a.path(b).display().to_string()]);
        }
        ctx.ward(&args)
    };
    // The same key signing twice is one signer.
    verify(&["s1.json", "s2.json"]).expect(1).reason("threshold-not-met");
    sign(&b.key, "s3.json");
    verify(&["s1.json", "s3.json"]).expect(0);
}

#[test]
fn a_typo_in_the_policy_is_refused_at_load_with_file_line_and_key() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let text = "[[scope]]\npackages = [\"npm:*\"]\n\n[scope.provenance]\nsorce = \"https://github.com/acme/.*\"\n";
    let policy = write_policy(dir.path(), text);
    let run = ctx.ward(["policy", "check", policy.to_str().unwrap()]);
    run.expect(2);
    assert!(
        run.stderr.contains(&format!("{}:5:1", policy.display())),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("sorce") && run.stderr.contains("[policy-invalid]"),
        "{}",
        run.stderr
    );
    let art = dir.path().join("a.txt");
    std::fs::write(&art, b"x").unwrap();
    ctx.ward(["verify", art.to_str().unwrap(), "--policy", policy.to_str().unwrap()])
        .expect(2);

    for (bad, needle) in [
        ("[defaults]\nmode = \"enforcing\"\n", "enforcing"),
        ("[[scope]]\npackages = [\"nuget:x\"]\n", "nuget"),
        (
            "[[scope]]\npackages = [\"npm:*\"]\nsigners = [{ issuer = \"i\", identity = \"^https://x$\" }]\n",
            "identity_regex",
        ),
        (
            "[[scope]]\npackages = [\"npm:*\"]\nkeys = [\"missing.pub\"]\n",
            "missing.pub",
        ),
        (
            "[[scope]]\npackages = [\"npm:*\"]\nthreshold = 2\nkeys = []\n",
            "threshold",
        ),
        (
            "[[scope]]\npackages = [\"npm:*\"]\n[scope.provenance]\nsource = \"(\"\n",
            "regular expression",
        ),
    ] {
        let policy = write_policy(dir.path(), bad);
        let run = ctx.ward(["policy", "check", policy.to_str().unwrap()]);
        run.expect(2);
        assert!(
            run.stderr.contains(needle) && run.stderr.contains("ward.toml:"),
            "{bad:?} gave:\n{}",
            run.stderr
        );
    }
}

fn npm_case(name: &str) -> (PathBuf, PathBuf) {
    let dir = shared().join("npm-attestations");
    (dir.join(format!("{name}.tgz")), dir.join(format!("{name}.tgz.json")))
}

fn verify_npm(ctx: &TestContext, name: &str, policy: &Path) -> crate::common::Run {
    let (tgz, att) = npm_case(name);
    ctx.ward([
        "verify",
        tgz.to_str().unwrap(),
        "--attestation",
        att.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ])
}

const SIGSTORE_SIGNER: &str = r#"{ issuer = "https://token.actions.githubusercontent.com", identity = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main" }"#;

#[test]
fn real_npm_provenance_under_policy() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let ok = format!(
        "[[scope]]\nname = \"sigstore\"\npackages = [\"npm:sigstore\"]\nsigners = [{SIGSTORE_SIGNER}]\n[scope.provenance]\nsource = \"https://github\\\\.com/sigstore/.*\"\n"
    );
    verify_npm(&ctx, "provenance-npm-test-cli-v1-prega", &write_policy(dir.path(), &ok)).expect(0);

    let fork = ok.replace("sigstore/.*", "acme/.*");
    let run = verify_npm(
        &ctx,
        "provenance-npm-test-cli-v1-prega",
        &write_policy(dir.path(), &fork),
    );
    run.expect(1).reason("provenance-source-mismatch");
    assert!(run.stdout.contains("provenance source https://github.com/sigstore/sigstore-js does not match https://github\\.com/acme/.* (scope \"sigstore\""), "{}", run.stdout);

    let other_signer = ok.replace("sigstore/sigstore-js/", "acme/sigstore-js/");
    verify_npm(
        &ctx,
        "provenance-npm-test-cli-v1-prega",
        &write_policy(dir.path(), &other_signer),
    )
    .expect(1)
    .reason("signer-not-trusted");

    // Signed 2024-05-16 (its Rekor integrated time): too old for 30 days
    // on the pinned clock, young enough two weeks after signing.
    let young = ok.replace("[scope.provenance]", "max_signature_age_days = 30\n[scope.provenance]");
    let young = write_policy(dir.path(), &young);
    verify_npm(
        &TestContext::new().at(TEST_NOW),
        "provenance-npm-test-cli-v1-prega",
        &young,
    )
    .expect(1)
    .reason("signature-too-old");
    verify_npm(
        &TestContext::new().at("2024-05-30T00:00:00Z"),
        "provenance-npm-test-cli-v1-prega",
        &young,
    )
    .expect(0);

    let warn = fork.replace("packages =", "mode = \"warn\"\npackages =");
    let run = verify_npm(
        &ctx,
        "provenance-npm-test-cli-v1-prega",
        &write_policy(dir.path(), &warn),
    );
    run.expect(0);
    assert!(
        run.stdout.contains("warn:") && run.stdout.contains("[provenance-source-mismatch]"),
        "{}",
        run.stdout
    );

    let audit = fork.replace("packages =", "mode = \"audit\"\npackages =");
    verify_npm(
        &ctx,
        "provenance-npm-test-cli-v1-prega",
        &write_policy(dir.path(), &audit),
    )
    .expect(0);

    // Presented evidence that fails still denies under an enforcing policy.
    verify_npm(
        &ctx,
        "provenance-npm-test-cli-v1-prega-invalidsigprov",
        &write_policy(dir.path(), &ok),
    )
    .expect(1)
    .reason("signature-invalid");
}

#[test]
fn unmatched_packages_follow_the_default() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(
        dir.path(),
        "[defaults]\nunmatched = \"deny\"\n\n[[scope]]\npackages = [\"npm:@acme/*\"]\n",
    );
    verify_npm(&ctx, "gundam-visor-cli-v1-tag", &policy)
        .expect(1)
        .reason("no-matching-scope");
    let policy = write_policy(dir.path(), "[[scope]]\npackages = [\"npm:@acme/*\"]\n");
    verify_npm(&ctx, "gundam-visor-cli-v1-tag", &policy).expect(0);
}

#[test]
fn required_predicate_types() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(
        dir.path(),
        "[[scope]]\npackages = [\"npm:*\"]\nrequired_predicate_types = [\"https://in-toto.io/attestation/vulns/v0.2\"]\n",
    );
    verify_npm(&ctx, "gundam-visor-cli-v1-tag", &policy)
        .expect(1)
        .reason("predicate-type-missing");
}

fn rego_policy(dir: &Path, rego: &str) -> PathBuf {
    std::fs::write(dir.join("rule.rego"), rego).unwrap();
    write_policy(dir, "[[scope]]\npackages = [\"npm:*\"]\nrego = [\"rule.rego\"]\n")
}

#[test]
fn rego_denies_with_its_own_message() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let policy = rego_policy(
        dir.path(),
        "package ward\nimport rego.v1\ndeny contains msg if {\n  input.artifact.name == \"gundam-visor\"\n  msg := sprintf(\"%s is on the blocklist\", [input.artifact.name])\n}\n",
    );
    let run = verify_npm(&ctx, "gundam-visor-cli-v1-tag", &policy);
    run.expect(1).reason("rego-deny");
    assert!(
        run.stdout.contains("rego: gundam-visor is on the blocklist"),
        "{}",
        run.stdout
    );
    verify_npm(&ctx, "supreme-googles-cli-v02-tag", &policy).expect(0);
}

#[test]
fn rego_that_errors_or_runs_too_long_fails_closed() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let policy = rego_policy(
        dir.path(),
        "package ward\nimport rego.v1\ndeny contains 42 if { true }\n",
    );
    verify_npm(&ctx, "gundam-visor-cli-v1-tag", &policy)
        .expect(1)
        .reason("rego-error");
    let policy = rego_policy(
        dir.path(),
        "package ward\nimport rego.v1\ndeny contains msg if {\n  some i in numbers.range(1, 1000000)\n  some j in numbers.range(1, 1000000)\n  i + j < 0\n  msg := \"never\"\n}\n",
    );
    let start = std::time::Instant::now();
    verify_npm(&ctx, "gundam-visor-cli-v1-tag", &policy)
        .expect(1)
        .reason("rego-error");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "the time limit must stop a runaway rule"
    );
    // A syntax error is a broken policy: refused at load.
    let policy = rego_policy(dir.path(), "package ward\ndeny contains msg if {{{\n");
    ctx.ward(["policy", "check", policy.to_str().unwrap()]).expect(2);
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policy")
}

#[test]
fn the_shipped_example_policy_loads_and_decides() {
    let ctx = TestContext::new();
    let policy = examples().join("ward.toml");
    ctx.ward(["policy", "check", policy.to_str().unwrap()]).expect(0);
    let run = ctx.ward(["policy", "explain", policy.to_str().unwrap(), "pkg:npm/sigstore@2.3.1"]);
    run.expect(0);
    assert!(
        run.stdout.contains("scope \"sigstore-js\"") && run.stdout.contains("self-hosted runners denied"),
        "{}",
        run.stdout
    );
    verify_npm(&ctx, "provenance-npm-test-cli-v1-prega", &policy).expect(0);
    verify_npm(&ctx, "provenance-npm-test-cli-v1-prega-invalidsigpub", &policy).expect(1);
    let run = ctx.ward(["policy", "explain", policy.to_str().unwrap(), "pkg:npm/left-pad@1.3.0"]);
    assert!(run.stdout.contains("no scope"), "{}", run.stdout);
}

/// Issue 10, finding 4: ward anchors patterns as `^(?:P)$`; a P that is not
/// a regular expression on its own (`…release)|(.*`) would close ward's
/// group and match every value. Each way a pattern comes in refuses it.
#[test]
fn a_pattern_that_would_escape_the_anchors_is_refused_everywhere() {
    let ctx = TestContext::new();
    const ESCAPE: &str = r"https://github\.com/acme/release)|(.*";
    let dir = tempfile::tempdir().unwrap();
    let toml_escape = ESCAPE.replace('\\', "\\\\");
    for (key, text, line) in [
        (
            "identity_regex",
            format!(
                "[[scope]]\npackages = [\"npm:*\"]\nsigners = [\n  {{ issuer = \"https://token.actions.githubusercontent.com\", identity_regex = \"{toml_escape}\" }},\n]\n"
            ),
            4,
        ),
        (
            "provenance.source",
            format!("[[scope]]\npackages = [\"npm:*\"]\n\n[scope.provenance]\nsource = \"{toml_escape}\"\n"),
            5,
        ),
        (
            "provenance.ref",
            format!("[[scope]]\npackages = [\"npm:*\"]\n\n[scope.provenance]\nref = \"{toml_escape}\"\n"),
            5,
        ),
    ] {
        let policy = write_policy(dir.path(), &text);
        let run = ctx.ward(["policy", "check", policy.to_str().unwrap()]);
        run.expect(2).reason("policy-invalid");
        assert!(
            run.stderr.contains(&format!("{}:{line}:", policy.display())) && run.stderr.contains(key),
            "{key}: {}",
            run.stderr
        );
    }
    let (tgz, att) = npm_case("provenance-npm-test-ossf");
    let run = ctx.ward([
        "verify",
        tgz.to_str().unwrap(),
        "--attestation",
        att.to_str().unwrap(),
        "--certificate-identity-regexp",
        ESCAPE,
        "--certificate-oidc-issuer",
        "https://token.actions.githubusercontent.com",
    ]);
    run.expect(2);
    assert!(run.stderr.contains("--certificate-identity-regexp"), "{}", run.stderr);
    // A pattern that is whole on its own still works, anchored.
    let good = r"https://github\.com/slsa-framework/slsa-github-generator/.*";
    for (pattern, code) in [(good, 0), (&good[..good.len() - 2], 1)] {
        ctx.ward([
            "verify",
            tgz.to_str().unwrap(),
            "--attestation",
            att.to_str().unwrap(),
            "--certificate-identity-regexp",
            pattern,
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
        ])
        .expect(code);
    }
}

/// Issue 10, finding 6: warn and audit relax missing evidence and policy
/// rules, never forged evidence. The invalid-signature npm attestations
/// deny under a warn or audit scope, as under an enforcing one.
#[test]
fn forged_evidence_denies_in_every_mode() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    for mode in ["warn", "audit"] {
        let policy = write_policy(
            dir.path(),
            &format!(
                "[[scope]]\nname = \"relaxed\"\npackages = [\"npm:*\"]\nmode = \"{mode}\"\nsigners = [{SIGSTORE_SIGNER}]\n"
            ),
        );
        // Missing evidence and unmet rules are relaxed: the signer is not
        // the scope's, yet the artifact is allowed.
        verify_npm(&ctx, "provenance-npm-test-ossf", &policy).expect(0);
        for variant in ["invalidsigprov", "invalidsigpub"] {
            for name in ["provenance-npm-test-ossf", "gundam-visor-cli-v1-tag"] {
                let run = verify_npm(&ctx, &format!("{name}-{variant}"), &policy);
                run.expect(1).reason("signature-invalid");
                assert!(run.stdout.contains("deny:"), "{mode} {name}-{variant}: {}", run.stdout);
            }
        }
        // A statement about other bytes is forged evidence for this artifact.
        let (tgz, _) = npm_case("supreme-googles-cli-v02-tag");
        let (_, att) = npm_case("gundam-visor-cli-v1-tag");
        ctx.ward([
            "verify",
            tgz.to_str().unwrap(),
            "--attestation",
            att.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ])
        .expect(1)
        .reason("attestation-subject-mismatch");
    }
}

/// Issue 10, finding 1, under a policy: a keyless signer that no scope's
/// `signers` name neither signs nor brings provenance.
#[test]
fn an_unnamed_keyless_attestation_neither_signs_nor_proves_provenance_under_a_policy() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let (tgz, att) = npm_case("provenance-npm-test-ossf");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&att).unwrap()).unwrap();
    let slsa: Vec<serde_json::Value> = doc["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["predicateType"].as_str().unwrap().starts_with("https://slsa.dev/"))
        .cloned()
        .collect();
    let only = dir.path().join("slsa-only.json");
    std::fs::write(
        &only,
        serde_json::to_vec(&serde_json::json!({"attestations": slsa})).unwrap(),
    )
    .unwrap();
    let verify = |text: &str| {
        let policy = write_policy(dir.path(), text);
        ctx.ward([
            "verify",
            tgz.to_str().unwrap(),
            "--attestation",
            only.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            "json",
        ])
    };
    // A scope that names no signers: the keyless signature is not trusted.
    verify("[[scope]]\npackages = [\"npm:*\"]\n")
        .expect(1)
        .reason("identity-unconstrained");
    // No scope: the default needs a signature by a trusted key or named signer.
    verify("[[scope]]\npackages = [\"pypi:*\"]\n")
        .expect(1)
        .reason("signature-missing");
    // Provenance from a signer the scope does not name does not count, even
    // when it says the right source.
    let run = verify(&format!(
        "[[scope]]\npackages = [\"npm:*\"]\nmode = \"warn\"\nsigners = [{SIGSTORE_SIGNER}]\n[scope.provenance]\nsource = \"https://github\\\\.com/laurentsimon/.*\"\n"
    ));
    run.expect(0);
    assert!(run.stdout.contains("provenance-missing"), "{}", run.stdout);
    let named = r#"{ issuer = "https://token.actions.githubusercontent.com", identity_regex = "https://github\\.com/slsa-framework/slsa-github-generator/.*" }"#;
    let run = verify(&format!(
        "[[scope]]\npackages = [\"npm:*\"]\nsigners = [{named}]\n[scope.provenance]\nsource = \"https://github\\\\.com/laurentsimon/.*\"\n"
    ));
    run.expect(0);
}

/// A scope that names its keys counts provenance only from those keys: a
/// statement signed by a key another scope trusts (another vendor) is that
/// vendor's word about someone else's package, and must not satisfy this
/// scope's provenance rules.
#[test]
fn provenance_counts_only_from_the_keys_its_scope_names() {
    let ctx = TestContext::new();
    let acme = Publisher::new("ecdsa-p256");
    let other = Publisher::new("ed25519");
    std::fs::copy(&other.public, acme.path("other-vendor.pub")).unwrap();
    let art = acme.artifact("acme-tool.bin", b"acme tool 1.0.0");
    ctx.ward(["sign", "--key", acme.key.to_str().unwrap(), art.to_str().unwrap()])
        .expect(0);
    let policy = write_policy(
        acme.dir.path(),
        r#"version = 1

[[scope]]
name = "everything generic"
packages = ["generic:*"]
keys = ["test-publisher.pub", "other-vendor.pub"]

[[scope]]
name = "acme"
packages = ["generic:acme-*"]
keys = ["test-publisher.pub"]

[scope.provenance]
required = true
source = "https://github\\.com/acme/.*"
"#,
    );
    let provenance = slsa_v1(
        "https://github.com/acme/tool",
        "refs/tags/v1.0.0",
        HOSTED,
        "github-hosted",
    );
    let verify = |attestation: &Path| {
        ctx.ward([
            "verify",
            art.to_str().unwrap(),
            "--purl",
            "pkg:generic/acme-tool@1.0.0",
            "--attestation",
            attestation.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ])
    };
    // The other vendor's key signs a provenance claiming acme's repository.
    let pred = acme.path("foreign.predicate.json");
    std::fs::write(&pred, serde_json::to_vec(&provenance).unwrap()).unwrap();
    let foreign = acme.path("foreign.intoto.json");
    ctx.ward([
        "attest",
        "--key",
        other.key.to_str().unwrap(),
        "--predicate",
        pred.to_str().unwrap(),
        "--type",
        SLSA_V1,
        "--output",
        foreign.to_str().unwrap(),
        art.to_str().unwrap(),
    ])
    .expect(0);
    verify(&foreign).expect(1).reason("provenance-missing");
    // The same statement under acme's own key satisfies the rule.
    let own = acme.attest(&art, SLSA_V1, &provenance, "own.intoto.json");
    verify(&own).expect(0);
}

#[test]
fn verify_records_the_policy_by_absolute_path_whatever_the_working_directory() {
    let ctx = TestContext::new();
    let p = Publisher::new("ecdsa-p256");
    let art = p.artifact("acme-tool.bin", b"acme tool");
    let policy = write_policy(p.dir.path(), PROVENANCE_POLICY);
    let run = {
        let mut cmd = ctx.command();
        cmd.current_dir(p.dir.path()).args([
            "verify",
            art.to_str().unwrap(),
            "--purl",
            "pkg:generic/acme-tool@1",
            "--policy",
            "ward.toml",
        ]);
        cmd.output().unwrap()
    };
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let shown = ctx.ward(["ledger", "show", "0"]);
    shown.expect(0);
    let absolute = std::path::absolute(&policy).unwrap();
    assert!(
        shown.stdout.contains(&format!("\"{}\"", absolute.display())),
        "the recorded policy path should be absolute: {}",
        shown.stdout
    );
}
