//! `ward verify` with Sigstore bundles: the happy path, and every way a
//! bundle can be wrong.

use crate::common::{BEACON_IDENTITY, GITHUB_ISSUER, TestContext, conformance, fixtures};
use std::path::{Path, PathBuf};

struct Case {
    _dir: tempfile::TempDir,
    artifact: PathBuf,
    bundle: PathBuf,
}

/// a.txt and the v0.3 happy-path bundle, copied into a fresh directory.
fn happy() -> Case {
    let dir = tempfile::tempdir().expect("tempdir");
    let artifact = dir.path().join("a.txt");
    let bundle = dir.path().join("a.txt.bundle.json");
    std::fs::copy(conformance().join("a.txt"), &artifact).expect("copy artifact");
    std::fs::copy(conformance().join("happy-path-v0.3/bundle.sigstore.json"), &bundle).expect("copy bundle");
    Case {
        _dir: dir,
        artifact,
        bundle,
    }
}

fn verify(ctx: &TestContext, artifact: &Path, bundle: &Path, extra: &[&str]) -> crate::common::Run {
    let mut args: Vec<String> = vec![
        "verify".into(),
        artifact.display().to_string(),
        "--bundle".into(),
        bundle.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    ctx.ward(&args)
}

const SIGNER: [&str; 4] = [
    "--certificate-identity",
    BEACON_IDENTITY,
    "--certificate-oidc-issuer",
    GITHUB_ISSUER,
];

#[test]
fn a_good_bundle_with_the_right_signer_is_allowed() {
    let ctx = TestContext::new();
    let c = happy();
    let run = verify(&ctx, &c.artifact, &c.bundle, &SIGNER);
    run.expect(0);
    assert!(
        run.stdout.starts_with("allow pkg:generic/a.txt sha256:"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(BEACON_IDENTITY));
}

#[test]
fn identity_regexp_matches_the_whole_identity() {
    let ctx = TestContext::new();
    let c = happy();
    let pattern = "https://github.com/sigstore-conformance/.*@refs/heads/main";
    verify(
        &ctx,
        &c.artifact,
        &c.bundle,
        &[
            "--certificate-identity-regexp",
            pattern,
            "--certificate-oidc-issuer",
            GITHUB_ISSUER,
        ],
    )
    .expect(0);
    // A prefix alone does not match: the pattern is anchored at both ends.
    verify(
        &ctx,
        &c.artifact,
        &c.bundle,
        &[
            "--certificate-identity-regexp",
            "https://github.com/sigstore-conformance/",
            "--certificate-oidc-issuer",
            GITHUB_ISSUER,
        ],
    )
    .expect(1)
    .reason("identity-mismatch");
}

#[test]
fn artifact_changed_after_signing_is_denied() {
    let ctx = TestContext::new();
    let c = happy();
    let mut bytes = std::fs::read(&c.artifact).expect("read");
    bytes[10] ^= 1;
    std::fs::write(&c.artifact, bytes).expect("write");
    verify(&ctx, &c.artifact, &c.bundle, &SIGNER)
        .expect(1)
        .reason("artifact-digest-mismatch");
}

#[test]
fn bundle_for_another_artifact_is_denied() {
    let ctx = TestContext::new();
    let c = happy();
    let other = conformance().join("intoto-with-custom-trust-root");
    let root = other.join("trusted_root.json").display().to_string();
    let mut extra = SIGNER.to_vec();
    extra.extend(["--trusted-root", root.as_str()]);
    let run = verify(&ctx, &c.artifact, &other.join("bundle.sigstore.json"), &extra);
    run.expect(1);
    assert!(run.stdout.contains("deny:"), "{}", run.stdout);
    // The same bundle with its own artifact passes, so the deny is about the subject.
    verify(
        &ctx,
        &other.join("artifact"),
        &other.join("bundle.sigstore.json"),
        &extra,
    )
    .expect(0);
}

#[test]
fn identity_and_issuer_mismatches_are_named() {
    let ctx = TestContext::new();
    let c = happy();
    verify(
        &ctx,
        &c.artifact,
        &c.bundle,
        &[
            "--certificate-identity",
            "https://github.com/evil/x",
            "--certificate-oidc-issuer",
            GITHUB_ISSUER,
        ],
    )
    .expect(1)
    .reason("identity-mismatch");
    verify(
        &ctx,
        &c.artifact,
        &c.bundle,
        &[
            "--certificate-identity",
            BEACON_IDENTITY,
            "--certificate-oidc-issuer",
            "https://accounts.google.com",
        ],
    )
    .expect(1)
    .reason("issuer-mismatch");
}

#[test]
fn a_keyless_signature_without_a_trusted_identity_is_not_enough() {
    let ctx = TestContext::new();
    let c = happy();
    verify(&ctx, &c.artifact, &c.bundle, &[])
        .expect(1)
        .reason("identity-unconstrained");
}

#[test]
fn no_evidence_at_all_is_denied() {
    let ctx = TestContext::new();
    let c = happy();
    ctx.ward(["verify", c.artifact.to_str().unwrap_or_default()])
        .expect(1)
        .reason("signature-missing");
}

#[test]
fn sidecar_bundles_are_found_next_to_the_artifact() {
    let ctx = TestContext::new();
    let c = happy();
    std::fs::copy(&c.bundle, format!("{}.sigstore.json", c.artifact.display())).expect("copy");
    let mut args = vec!["verify".to_string(), c.artifact.display().to_string()];
    args.extend(SIGNER.iter().map(|s| s.to_string()));
    ctx.ward(&args).expect(0);
}

#[test]
fn truncated_and_malformed_bundles_are_denied() {
    let ctx = TestContext::new();
    let c = happy();
    let full = std::fs::read(&c.bundle).expect("read");
    std::fs::write(&c.bundle, &full[..full.len() / 2]).expect("truncate");
    verify(&ctx, &c.artifact, &c.bundle, &SIGNER)
        .expect(1)
        .reason("bundle-malformed");
    std::fs::write(&c.bundle, b"this is not json").expect("write");
    verify(&ctx, &c.artifact, &c.bundle, &SIGNER)
        .expect(1)
        .reason("bundle-malformed");
    std::fs::write(
        &c.bundle,
        br#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}"#,
    )
    .expect("write");
    verify(&ctx, &c.artifact, &c.bundle, &SIGNER)
        .expect(1)
        .reason("bundle-malformed");
}

#[test]
fn oversized_bundle_is_refused_without_reading_it_all() {
    let ctx = TestContext::new();
    let c = happy();
    let f = std::fs::File::create(&c.bundle).expect("create");
    f.set_len((64 << 20) + 1).expect("sparse file");
    verify(&ctx, &c.artifact, &c.bundle, &SIGNER)
        .expect(1)
        .reason("bundle-too-large");
}

#[test]
fn deeply_nested_json_is_refused() {
    let ctx = TestContext::new();
    let c = happy();
    let deep = format!("{{\"mediaType\": {}1{}}}", "[".repeat(200), "]".repeat(200));
    std::fs::write(&c.bundle, deep).expect("write");
    verify(&ctx, &c.artifact, &c.bundle, &SIGNER)
        .expect(1)
        .reason("bundle-too-deep");
}

fn edit_bundle(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json");
    edit(&mut v);
    std::fs::write(path, serde_json::to_vec(&v).expect("json")).expect("write");
}

#[test]
fn unknown_bundle_version_is_refused() {
    let ctx = TestContext::new();
    let c = happy();
    edit_bundle(&c.bundle, |v| {
        v["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.9+json".into()
    });
    verify(&ctx, &c.artifact, &c.bundle, &SIGNER)
        .expect(1)
        .reason("bundle-unknown-version");
}

#[test]
fn sha1_and_md5_message_digests_are_weak() {
    let ctx = TestContext::new();
    for alg in ["SHA1", "MD5"] {
        let c = happy();
        edit_bundle(&c.bundle, |v| {
            v["messageSignature"]["messageDigest"]["algorithm"] = alg.into()
        });
        let run = verify(&ctx, &c.artifact, &c.bundle, &SIGNER);
        run.expect(1).reason("weak-algorithm");
        assert!(run.stdout.contains(alg));
    }
}

#[test]
fn a_certificate_signed_with_sha1_is_weak() {
    let ctx = TestContext::new();
    use base64::Engine as _;
    let c = happy();
    let pem = std::fs::read_to_string(fixtures().join("keys/test-sha1-weak-cert.pem")).expect("cert");
    let (_, der) = pem_rfc7468::decode_vec(pem.as_bytes()).expect("pem");
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    edit_bundle(&c.bundle, |v| {
        v["verificationMaterial"]["certificate"]["rawBytes"] = b64.into()
    });
    verify(&ctx, &c.artifact, &c.bundle, &SIGNER)
        .expect(1)
        .reason("weak-algorithm");
}

#[test]
fn expired_and_not_yet_valid_certificates_are_named() {
    let ctx = TestContext::new();
    for case in ["intoto-expired-certificate_fail", "integrated-time-in-future_fail"] {
        let dir = conformance().join(case);
        let artifact = if dir.join("artifact").exists() {
            dir.join("artifact")
        } else {
            conformance().join("a.txt")
        };
        let mut extra: Vec<String> = SIGNER.iter().map(|s| s.to_string()).collect();
        if dir.join("identity").exists() {
            extra[1] = std::fs::read_to_string(dir.join("identity"))
                .expect("identity")
                .trim()
                .into();
            extra[3] = std::fs::read_to_string(dir.join("issuer"))
                .expect("issuer")
                .trim()
                .into();
        }
        if dir.join("trusted_root.json").exists() {
            extra.extend([
                "--trusted-root".into(),
                dir.join("trusted_root.json").display().to_string(),
            ]);
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        verify(&ctx, &artifact, &dir.join("bundle.sigstore.json"), &extra)
            .expect(1)
            .reason("certificate-expired");
    }
}

#[test]
fn unreadable_inputs_exit_2() {
    let ctx = TestContext::new();
    let c = happy();
    let missing = c.artifact.with_file_name("missing.txt");
    verify(&ctx, &missing, &c.bundle, &SIGNER).expect(2);
    verify(&ctx, &c.artifact, &missing, &SIGNER).expect(2);
    ctx.ward(["verify"]).expect(2);
}

#[test]
fn json_output_follows_the_documented_schema() {
    let ctx = TestContext::new();
    let c = happy();
    let mut extra = SIGNER.to_vec();
    extra.extend(["--format", "json"]);
    let run = verify(&ctx, &c.artifact, &c.bundle, &extra);
    run.expect(0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    assert_eq!(doc["schema"], "https://ward.invalid/schemas/verify/v1");
    assert_eq!(doc["artifact"]["id"], "pkg:generic/a.txt");
    assert_eq!(doc["artifact"]["kind"], "file");
    let sha = doc["artifact"]["digests"]["sha256"].as_str().expect("sha256");
    assert_eq!(sha.len(), 64);
    assert_eq!(doc["decision"]["verdict"], "allow");
    let bundle_check = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["check"] == "sigstore-bundle")
        .expect("bundle check");
    assert_eq!(bundle_check["result"], "pass");
    assert_eq!(bundle_check["facts"][0]["signer"]["identity"], BEACON_IDENTITY);
    assert_eq!(bundle_check["facts"][0]["transparency_log"], true);

    // A deny carries the code and message of each reason.
    let run = verify(&ctx, &c.artifact, &c.bundle, &["--format", "json"]);
    run.expect(1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    assert_eq!(doc["decision"]["verdict"], "deny");
    assert_eq!(doc["decision"]["reasons"][0]["code"], "identity-unconstrained");
}

/// Issue 10, finding 15: `--bundle /dev/zero` spun without end, and a FIFO
/// as evidence blocked forever. Both are refused at once, by name.
#[test]
fn a_device_or_fifo_as_evidence_fails_fast_with_a_clear_message() {
    let ctx = TestContext::new();
    let case = happy();
    let fifo = case._dir.path().join("evidence.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let zero = Path::new("/dev/zero");
    for (flag, path, kind) in [
        ("--bundle", zero, "character device"),
        ("--attestation", fifo.as_path(), "FIFO"),
        ("--bundle", fifo.as_path(), "FIFO"),
        ("--npm-keys", zero, "character device"),
    ] {
        let args = [
            "verify".as_ref(),
            case.artifact.as_os_str(),
            "--certificate-identity".as_ref(),
            BEACON_IDENTITY.as_ref(),
            "--certificate-oidc-issuer".as_ref(),
            GITHUB_ISSUER.as_ref(),
            flag.as_ref(),
            path.as_os_str(),
        ];
        let run = ctx
            .ward_within(std::time::Duration::from_secs(10), args)
            .unwrap_or_else(|| panic!("ward verify {flag} {} did not finish in 10 s", path.display()));
        run.expect(2);
        assert!(
            run.stderr.contains(&path.display().to_string()) && run.stderr.contains(kind),
            "{flag} {}: {}",
            path.display(),
            run.stderr
        );
    }
}

/// The production trusted root with the staging Fulcio CAs in place of its
/// own: the real bundle's transparency-log entry still verifies, but its
/// certificate chains to no trusted CA.
#[test]
fn a_certificate_from_a_ca_the_root_does_not_trust_is_certificate_untrusted() {
    let ctx = TestContext::new();
    let c = happy();
    let trust = crate::common::shared().join("sigstore-trust");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(trust.join(name)).unwrap()).unwrap()
    };
    let mut root = read("production.trusted_root.json");
    root["certificateAuthorities"] = read("staging.trusted_root.json")["certificateAuthorities"].clone();
    let mixed = ctx.path("mixed.trusted_root.json");
    std::fs::write(&mixed, serde_json::to_vec(&root).unwrap()).unwrap();
    let mut extra = SIGNER.to_vec();
    extra.extend(["--trusted-root", mixed.to_str().unwrap()]);
    verify(&ctx, &c.artifact, &c.bundle, &extra)
        .expect(1)
        .reason("certificate-untrusted");
}

#[test]
fn an_unusable_trusted_root_stops_the_run_and_names_it() {
    let ctx = TestContext::new();
    let c = happy();
    let root = ctx.path("garbage.trusted_root.json");
    std::fs::write(&root, br#"{"garbage": true}"#).unwrap();
    let mut extra = SIGNER.to_vec();
    extra.extend(["--trusted-root", root.to_str().unwrap()]);
    let run = verify(&ctx, &c.artifact, &c.bundle, &extra);
    run.expect(2);
    assert!(run.stderr.contains("trusted root is unusable"), "{}", run.stderr);
}
