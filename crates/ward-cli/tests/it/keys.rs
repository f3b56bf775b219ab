//! Plain public keys and detached signatures: every accepted algorithm, and
//! every refused one by name.

use crate::common::{TestContext, TestKey, fixtures};
use sigstore_verify::crypto::KeyAlgorithm;
use std::path::Path;

fn keys() -> std::path::PathBuf {
    fixtures().join("keys")
}

fn verify_sig(ctx: &TestContext, artifact: &Path, key: &Path, sig: &Path) -> crate::common::Run {
    ctx.ward([
        "verify",
        artifact.to_str().unwrap_or_default(),
        "--key",
        key.to_str().unwrap_or_default(),
        "--signature",
        sig.to_str().unwrap_or_default(),
    ])
}

#[test]
fn every_strong_algorithm_verifies() {
    let ctx = TestContext::new();
    let art = keys().join("artifact.txt");
    for (key, sig) in [
        ("test-rsa2048.pub.pem", "artifact.txt.rsa2048-pkcs1-sha256.sig"),
        ("test-rsa2048.pub.pem", "artifact.txt.rsa2048-pss-sha512.sig"),
        ("test-p384.pub.pem", "artifact.txt.p384-sha384.sig"),
        ("test-ed25519.pub.pem", "artifact.txt.ed25519.sig.b64"),
    ] {
        let run = verify_sig(&ctx, &art, &keys().join(key), &keys().join(sig));
        run.expect(0);
        assert!(run.stdout.contains("signed by key sha256:"), "{key}: {}", run.stdout);
    }
}

#[test]
fn generated_p256_keys_round_trip_and_catch_tampering() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let (name, alg) = ("test-p256", KeyAlgorithm::EcdsaP256);
    let art = dir.path().join(format!("{name}.bin"));
    std::fs::write(&art, b"release bytes").expect("write");
    let key = TestKey::generate(dir.path(), name, alg);
    let sig = key.sign_file(&art);
    verify_sig(&ctx, &art, &key.pub_pem, &sig).expect(0);
    // The sidecar ARTIFACT.sig is found when a key is given.
    ctx.ward([
        "verify",
        art.to_str().unwrap_or_default(),
        "--key",
        key.pub_pem.to_str().unwrap_or_default(),
    ])
    .expect(0);
    std::fs::write(&art, b"release bytez").expect("tamper");
    verify_sig(&ctx, &art, &key.pub_pem, &sig)
        .expect(1)
        .reason("signature-invalid");
}

#[test]
fn a_changed_artifact_fails_under_every_algorithm() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let art = dir.path().join("artifact.txt");
    std::fs::write(&art, b"a test artifact signed by test-only keys, changed\n").expect("write");
    for (key, sig) in [
        ("test-rsa2048.pub.pem", "artifact.txt.rsa2048-pkcs1-sha256.sig"),
        ("test-p384.pub.pem", "artifact.txt.p384-sha384.sig"),
        ("test-ed25519.pub.pem", "artifact.txt.ed25519.sig.b64"),
    ] {
        verify_sig(&ctx, &art, &keys().join(key), &keys().join(sig))
            .expect(1)
            .reason("signature-invalid");
    }
}

#[test]
fn the_wrong_key_is_denied() {
    let ctx = TestContext::new();
    let art = keys().join("artifact.txt");
    verify_sig(
        &ctx,
        &art,
        &keys().join("test-rsa2048.pub.pem"),
        &keys().join("artifact.txt.p384-sha384.sig"),
    )
    .expect(1)
    .reason("signature-invalid");
}

#[test]
fn weak_and_unknown_keys_are_refused_by_name() {
    let ctx = TestContext::new();
    let art = keys().join("artifact.txt");
    let sig = keys().join("artifact.txt.rsa1024.sig");
    let run = verify_sig(&ctx, &art, &keys().join("test-rsa1024-weak.pub.pem"), &sig);
    run.expect(1).reason("weak-algorithm");
    assert!(run.stdout.contains("1024 bits"), "{}", run.stdout);
    verify_sig(&ctx, &art, &keys().join("test-dsa-weak.pub.pem"), &sig)
        .expect(1)
        .reason("weak-algorithm");
    verify_sig(&ctx, &art, &keys().join("test-secp256k1-unknown.pub.pem"), &sig)
        .expect(1)
        .reason("unknown-algorithm");
    verify_sig(&ctx, &art, &keys().join("artifact.txt"), &sig)
        .expect(1)
        .reason("key-malformed");
}

#[test]
fn a_signature_without_a_key_is_not_trusted() {
    let ctx = TestContext::new();
    let art = keys().join("artifact.txt");
    ctx.ward([
        "verify",
        art.to_str().unwrap_or_default(),
        "--signature",
        keys().join("artifact.txt.p384-sha384.sig").to_str().unwrap_or_default(),
    ])
    .expect(1)
    .reason("key-not-trusted");
}

#[test]
fn an_oversized_signature_file_is_refused_without_reading_it_all() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let sig = dir.path().join("huge.sig");
    std::fs::File::create(&sig).unwrap().set_len((64 << 20) + 1).unwrap();
    let art = keys().join("artifact.txt");
    verify_sig(&ctx, &art, &keys().join("test-p384.pub.pem"), &sig)
        .expect(1)
        .reason("bundle-too-large");
}
