//! The publisher side: what `ward keygen`, `ward sign` and `ward attest`
//! write, `ward verify` accepts; and tampering is caught.

use crate::common::{HOSTED, Publisher, SLSA_V1, TestContext, json_of, slsa_v1};

#[test]
fn keygen_sign_verify_round_trip_for_both_algorithms() {
    let ctx = TestContext::new();
    for alg in ["ed25519", "ecdsa-p256"] {
        let p = Publisher::new(alg);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p.key).expect("key").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "private key must be 0600");
        }
        let art = p.artifact("release.bin", b"the release");
        ctx.ward(["sign", "--key", p.key.to_str().unwrap(), art.to_str().unwrap()])
            .expect(0);
        // The bundle lands beside the artifact and is found there.
        let run = ctx.ward([
            "verify",
            art.to_str().unwrap(),
            "--key",
            p.public.to_str().unwrap(),
            "--format",
            "json",
        ]);
        run.expect(0);
        let doc = json_of(&run);
        let fact = &doc["checks"][1]["facts"][0];
        assert_eq!(fact["signer"]["kind"], "key", "{alg}");
        assert_eq!(fact["transparency_log"], false, "offline signatures carry no log proof");

        std::fs::write(&art, b"the release, changed").expect("tamper");
        ctx.ward(["verify", art.to_str().unwrap(), "--key", p.public.to_str().unwrap()])
            .expect(1);
        // Another key does not verify it either.
        let other = Publisher::new(alg);
        std::fs::write(&art, b"the release").expect("restore");
        ctx.ward(["verify", art.to_str().unwrap(), "--key", other.public.to_str().unwrap()])
            .expect(1)
            .reason("signature-invalid");
    }
}

#[test]
fn an_encrypted_key_needs_its_passphrase() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("test-enc");
    let out = ctx
        .command()
        .args([
            "keygen",
            "--output",
            prefix.to_str().unwrap(),
            "--passphrase-env",
            "WARD_TEST_PASSPHRASE",
        ])
        .env("WARD_TEST_PASSPHRASE", "test passphrase, not a secret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = dir.path().join("test-enc.key");
    assert!(std::fs::read_to_string(&key).unwrap().contains("ENCRYPTED PRIVATE KEY"));
    let art = dir.path().join("a.bin");
    std::fs::write(&art, b"x").unwrap();
    let run = ctx.ward(["sign", "--key", key.to_str().unwrap(), art.to_str().unwrap()]);
    run.expect(2);
    assert!(run.stderr.contains("encrypted"), "{}", run.stderr);
    let ok = ctx
        .command()
        .args([
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--passphrase-env",
            "WARD_TEST_PASSPHRASE",
            art.to_str().unwrap(),
        ])
        .env("WARD_TEST_PASSPHRASE", "test passphrase, not a secret")
        .output()
        .unwrap();
    assert!(ok.status.success());
    // keygen never overwrites without --force.
    ctx.ward(["keygen", "--output", prefix.to_str().unwrap()]).expect(2);
}

#[test]
fn attest_round_trips_into_provenance_facts() {
    let ctx = TestContext::new();
    let p = Publisher::new("ecdsa-p256");
    let art = p.artifact("tool.tar.gz.bin", b"tool bytes");
    let predicate = slsa_v1(
        "https://github.com/acme/tool",
        "refs/tags/v1.0.0",
        HOSTED,
        "github-hosted",
    );
    let att = p.attest(&art, SLSA_V1, &predicate, "tool.intoto.json");
    let run = ctx.ward([
        "verify",
        art.to_str().unwrap(),
        "--key",
        p.public.to_str().unwrap(),
        "--attestation",
        att.to_str().unwrap(),
        "--format",
        "json",
    ]);
    run.expect(0);
    let doc = json_of(&run);
    let facts = doc["checks"][1]["facts"].as_array().unwrap();
    let prov = facts
        .iter()
        .find(|f| f["type"] == "provenance")
        .expect("provenance fact");
    assert_eq!(prov["source_repository"], "https://github.com/acme/tool");
    assert_eq!(prov["source_ref"], "refs/tags/v1.0.0");
    assert_eq!(prov["runner_environment"], "github-hosted");

    // The default output appends to ARTIFACT.intoto.jsonl, which verify finds by itself.
    let pred = p.path("p.json");
    std::fs::write(&pred, serde_json::to_vec(&predicate).unwrap()).unwrap();
    for _ in 0..2 {
        ctx.ward([
            "attest",
            "--key",
            p.key.to_str().unwrap(),
            "--predicate",
            pred.to_str().unwrap(),
            "--type",
            SLSA_V1,
            art.to_str().unwrap(),
        ])
        .expect(0);
    }
    let lines = std::fs::read_to_string(format!("{}.intoto.jsonl", art.display())).unwrap();
    assert_eq!(lines.lines().count(), 2);
    let run = ctx.ward([
        "verify",
        art.to_str().unwrap(),
        "--key",
        p.public.to_str().unwrap(),
        "--format",
        "json",
    ]);
    run.expect(0);
    assert_eq!(
        json_of(&run)["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["check"] == "attestation")
            .count(),
        2
    );
}
