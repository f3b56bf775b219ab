//! The Sigstore conformance suite's verification cases, offline: every case
//! directory, in both the file form and the `sha256:<hex>` digest form.

use crate::common::{BEACON_IDENTITY, GITHUB_ISSUER, TestContext, conformance};
use std::path::Path;

fn case_args(dir: &Path) -> Vec<String> {
    let mut args = vec![
        "sigstore".into(),
        "verify-bundle".into(),
        "--bundle".into(),
        dir.join("bundle.sigstore.json").display().to_string(),
    ];
    if dir.join("key.pub").exists() {
        args.extend(["--key".into(), dir.join("key.pub").display().to_string()]);
    } else {
        let read = |f: &str, default: &str| {
            std::fs::read_to_string(dir.join(f))
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| default.into())
        };
        args.extend(["--certificate-identity".into(), read("identity", BEACON_IDENTITY)]);
        args.extend(["--certificate-oidc-issuer".into(), read("issuer", GITHUB_ISSUER)]);
    }
    if dir.join("trusted_root.json").exists() {
        args.extend([
            "--trusted-root".into(),
            dir.join("trusted_root.json").display().to_string(),
        ]);
    }
    args
}

#[test]
fn every_conformance_case_in_both_forms() {
    let ctx = TestContext::new();
    let root = conformance();
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("sigstore-conformance test data beside the project (../shared/testdata)")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite has 70 cases");
    let (mut passed, mut failures) = (0, Vec::new());
    for dir in &cases {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let should_fail = name.ends_with("_fail");
        let artifact = if dir.join("artifact").exists() {
            dir.join("artifact")
        } else {
            root.join("a.txt")
        };
        let digest = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(std::fs::read(&artifact).expect("artifact")))
        };
        for target in [artifact.display().to_string(), format!("sha256:{digest}")] {
            let mut args = case_args(dir);
            args.push(target.clone());
            let run = ctx.ward(&args);
            let ok = if should_fail {
                run.code == 1 || run.code == 2
            } else {
                run.code == 0
            };
            if ok && !run.stderr.contains("panicked") {
                passed += 1;
            } else {
                failures.push(format!("{name} ({target}): exit {} {}", run.code, run.all().trim()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 140 failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(passed, 140);
}

#[test]
fn failing_cases_name_the_right_reason() {
    let ctx = TestContext::new();
    // A sample of cases whose cause is unambiguous, checked for the stable code.
    let expect = [
        ("bundle-unknown-version_fail", "bundle-unknown-version"),
        ("bundle-malformed-json_fail", "bundle-malformed"),
        ("signature-mismatch_fail", "signature-invalid"),
        ("message-digest-mismatch_fail", "artifact-digest-mismatch"),
        ("inclusion-proof-corrupted-hash_fail", "tlog-invalid"),
        ("invalid-ct-key_fail", "sct-invalid"),
        ("intoto-expired-certificate_fail", "certificate-expired"),
        ("managed-key-no-key_fail", "key-not-trusted"),
        (
            "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
            "timestamp-invalid",
        ),
    ];
    for (case, code) in expect {
        let dir = conformance().join(case);
        let artifact = if dir.join("artifact").exists() {
            dir.join("artifact")
        } else {
            conformance().join("a.txt")
        };
        let mut args = case_args(&dir);
        args.push(artifact.display().to_string());
        ctx.ward(&args).expect(1).reason(code);
    }
}
