//! Keys with lifetimes (issue 15 item 3): a policy key's `valid_from`,
//! `valid_until` and `revoked_at`, judged on the signature's verified
//! signing time (a real Rekor-logged, key-signed bundle from the Sigstore
//! conformance suite, integrated 2025-12-18T17:04:39Z); offline signatures
//! with no verified time; `ward keys rotate|revoke` and policies that
//! follow a key's rotations; the npm registry's real January 2025 key
//! rotation, judged by `validFor` window on real attestations.

use crate::common::{Publisher, Run, TestContext, conformance, shared};
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The conformance suite's key-signed bundle with a Rekor entry and its key.
struct Managed {
    ctx: TestContext,
    artifact: PathBuf,
    bundle: PathBuf,
}

fn managed() -> Managed {
    let ctx = TestContext::new().at("2026-06-01T00:00:00Z");
    let case = conformance().join("managed-key-happy-path");
    std::fs::copy(case.join("key.pub"), ctx.path("test-managed.pub")).unwrap();
    Managed {
        artifact: conformance().join("a.txt"),
        bundle: case.join("bundle.sigstore.json"),
        ctx,
    }
}

impl Managed {
    fn verify_with(&self, key_entry: &str) -> Run {
        let policy = self.ctx.path("ward.toml");
        std::fs::write(
            &policy,
            format!("[[scope]]\nname = \"managed\"\npackages = [\"generic:*\"]\nkeys = [\n  {key_entry},\n]\n"),
        )
        .unwrap();
        self.ctx.ward([
            "verify",
            s(&self.artifact),
            "--bundle",
            s(&self.bundle),
            "--policy",
            s(&policy),
        ])
    }
}

#[test]
fn a_logged_signature_counts_only_inside_its_keys_window() {
    let m = managed();
    // No lifetime: the key counts (the bundle's log entry is from 2025-12-18).
    m.verify_with(r#""test-managed.pub""#).expect(0);
    m.verify_with(
        r#"{ path = "test-managed.pub", valid_from = "2025-01-01T00:00:00Z", valid_until = "2026-01-01T00:00:00Z" }"#,
    )
    .expect(0);
    // The clock (2026-06-01) is past valid_until: what counts is when it was signed.
    m.verify_with(r#"{ path = "test-managed.pub", valid_until = "2025-12-19T00:00:00Z" }"#)
        .expect(0);
    let run = m.verify_with(r#"{ path = "test-managed.pub", valid_until = "2025-12-18T00:00:00Z" }"#);
    run.expect(1).reason("key-expired");
    assert!(
        run.all().contains("2025-12-18T17:04:39Z"),
        "names the signing time:\n{}",
        run.all()
    );
    assert!(
        run.all().contains("ward.toml:5"),
        "names the key's entry:\n{}",
        run.all()
    );
    assert!(
        !run.all().contains("[signer-not-trusted]"),
        "one reason:\n{}",
        run.all()
    );
    m.verify_with(r#"{ path = "test-managed.pub", valid_from = "2026-01-01T00:00:00Z" }"#)
        .expect(1)
        .reason("key-not-yet-valid");
    m.verify_with(r#"{ path = "test-managed.pub", revoked_at = "2025-12-18T00:00:00Z" }"#)
        .expect(1)
        .reason("key-revoked");
    // Revoked after it signed: what it signed before still counts.
    m.verify_with(r#"{ path = "test-managed.pub", revoked_at = "2025-12-19T00:00:00Z" }"#)
        .expect(0);
    // Forged or compromised is not a preference: warn mode does not relax a revoked key.
    let policy = m.ctx.path("ward.toml");
    std::fs::write(
        &policy,
        "[[scope]]\npackages = [\"generic:*\"]\nmode = \"warn\"\nkeys = [{ path = \"test-managed.pub\", revoked_at = \"2025-01-01T00:00:00Z\" }]\n",
    )
    .unwrap();
    m.ctx
        .ward([
            "verify",
            s(&m.artifact),
            "--bundle",
            s(&m.bundle),
            "--policy",
            s(&policy),
        ])
        .expect(1)
        .reason("key-revoked");
}

#[test]
fn bad_lifetimes_are_refused_when_the_policy_loads() {
    let m = managed();
    for (entry, says) in [
        (
            r#"{ path = "test-managed.pub", valid_until = "2026-01-01" }"#,
            "valid_until",
        ),
        (
            r#"{ path = "test-managed.pub", revoked_at = "yesterday" }"#,
            "revoked_at",
        ),
        (
            r#"{ path = "test-managed.pub", valid_from = "2026-01-02T00:00:00Z", valid_until = "2026-01-01T00:00:00Z" }"#,
            "before valid_from",
        ),
        (r#"{ path = "test-managed.pub", valid_for = "1y" }"#, "valid_for"),
        (
            r#"{ path = "test-managed.pub", rotations = "no-such-dir" }"#,
            "rotations",
        ),
    ] {
        let run = m.verify_with(entry);
        run.expect(2).reason("policy-invalid");
        assert!(run.all().contains(says), "{entry}: {}", run.all());
    }
}

/// Signs `name` offline (no log, no timestamp) with `p`'s key in `ctx`.
fn sign_offline(ctx: &TestContext, p: &Publisher, name: &str) -> PathBuf {
    let art = ctx.path(name);
    std::fs::write(&art, format!("{name} bytes")).unwrap();
    ctx.ward(["sign", "--key", s(&p.key), s(&art)]).expect(0);
    art
}

fn write_policy(ctx: &TestContext, name: &str, body: &str) -> PathBuf {
    let policy = ctx.path(name);
    std::fs::write(&policy, body).unwrap();
    policy
}

#[test]
fn an_offline_signature_does_not_count_for_a_key_with_a_window() {
    let ctx = TestContext::new().at("2026-06-01T00:00:00Z");
    let p = Publisher::new("ed25519");
    std::fs::copy(&p.public, ctx.path("test-key.pub")).unwrap();
    let art = sign_offline(&ctx, &p, "acme-a.bin");
    let open = write_policy(
        &ctx,
        "open.toml",
        "[[scope]]\npackages = [\"generic:acme-*\"]\nkeys = [\"test-key.pub\"]\n",
    );
    ctx.ward(["verify", s(&art), "--policy", s(&open)]).expect(0);
    // Even a window that contains now: the signature's time is unknown.
    let windowed = write_policy(
        &ctx,
        "windowed.toml",
        "[[scope]]\npackages = [\"generic:acme-*\"]\nkeys = [{ path = \"test-key.pub\", valid_until = \"2030-01-01T00:00:00Z\" }]\n",
    );
    let run = ctx.ward(["verify", s(&art), "--policy", s(&windowed)]);
    run.expect(1).reason("signing-time-unverified");
}

/// Reads every event of the embedded ledger at `dir`: (kind, subject, detail).
pub(crate) fn events(dir: &Path) -> Vec<(String, String, serde_json::Value)> {
    let ledger = ward_ledger::EmbeddedLedger::open_snapshot(dir).expect("ledger");
    let verifier = ledger.verifier();
    (0..ledger.size())
        .filter_map(|i| {
            match ward_ledger::event::read_entry(&ledger.entry(i).expect("entry"), &verifier).expect("record") {
                ward_ledger::event::LedgerRecord::Event(e) => Some((
                    e.predicate.kind.to_string(),
                    e.subject_name().unwrap_or_default().to_string(),
                    e.predicate.detail.clone(),
                )),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn a_policy_follows_a_key_through_its_signed_rotations() {
    let ctx = TestContext::new().at("2026-06-01T00:00:00Z");
    let old = Publisher::new("ed25519");
    let new = Publisher::new("ecdsa-p256");
    std::fs::copy(&old.public, ctx.path("test-old.pub")).unwrap();
    let rotations = ctx.path("rotations");
    let run = ctx.ward([
        "keys",
        "rotate",
        "--old",
        s(&old.key),
        "--new",
        s(&new.key),
        "--at",
        "2026-05-01T00:00:00Z",
        "--reason",
        "test rotation",
        "--out-dir",
        s(&rotations),
    ]);
    run.expect(0);
    assert!(run.stdout.contains("signed by both keys"), "{}", run.all());
    assert!(run.stdout.contains("key-rotated"), "{}", run.all());
    let files: Vec<PathBuf> = std::fs::read_dir(&rotations)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let statement: serde_json::Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(statement["signatures"].as_array().unwrap().len(), 2);
    // Recorded in the ledger as a key-rotated event.
    let recorded = events(&ctx.ledger());
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].0, "key-rotated");
    assert_eq!(recorded[0].2["rotated_at"], "2026-05-01T00:00:00Z");

    // The policy names only the old key, and its rotations.
    let follow = write_policy(
        &ctx,
        "follow.toml",
        "[[scope]]\npackages = [\"generic:acme-*\"]\nkeys = [{ path = \"test-old.pub\", rotations = \"rotations\" }]\n",
    );
    let without = write_policy(
        &ctx,
        "without.toml",
        "[[scope]]\npackages = [\"generic:acme-*\"]\nkeys = [\"test-old.pub\"]\n",
    );
    let by_new = sign_offline(&ctx, &new, "acme-new.bin");
    // Without following rotations the new key is unknown: its signature
    // does not verify under the keys the policy names.
    ctx.ward(["verify", s(&by_new), "--policy", s(&without)])
        .expect(1)
        .reason("signature-invalid");
    // Followed, the new key is trusted from the rotation: an offline
    // signature has no verified time, so it does not count yet either.
    ctx.ward(["verify", s(&by_new), "--policy", s(&follow)])
        .expect(1)
        .reason("signing-time-unverified");
    // And the old key now has an end: its offline signatures stop counting too.
    let by_old = sign_offline(&ctx, &old, "acme-old.bin");
    ctx.ward(["verify", s(&by_old), "--policy", s(&follow)])
        .expect(1)
        .reason("signing-time-unverified");
    // `ward policy check` reads the chain; `explain` shows each key's window and where it came from.
    ctx.ward(["policy", "check", s(&follow)]).expect(0);
    let explained = ctx.ward(["policy", "explain", s(&follow), "pkg:generic/acme-x@1"]);
    explained.expect(0);
    assert!(
        explained
            .stdout
            .contains("counts only for signatures with a verified time: valid open to 2026-05-01T00:00:00Z")
            && explained
                .stdout
                .contains("counts only for signatures with a verified time: valid 2026-05-01T00:00:00Z to open")
            && explained.stdout.contains("rotated from"),
        "{}",
        explained.stdout
    );

    // A statement signed by one of the two keys only is refused: the policy does not load.
    let mut forged = statement.clone();
    forged["signatures"].as_array_mut().unwrap().truncate(1);
    std::fs::write(&files[0], serde_json::to_vec(&forged).unwrap()).unwrap();
    let run = ctx.ward(["verify", s(&by_new), "--policy", s(&follow)]);
    run.expect(2).reason("policy-invalid");
    assert!(run.all().contains("signed by both keys"), "{}", run.all());
    // Nor is a statement whose payload was changed after signing.
    let mut changed = statement.clone();
    let payload = String::from_utf8(ward_verify::dsse::decode_base64(statement["payload"].as_str().unwrap()).unwrap())
        .unwrap()
        .replace("2026-05-01T00:00:00Z", "2020-01-01T00:00:00Z");
    changed["payload"] = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, payload).into();
    std::fs::write(&files[0], serde_json::to_vec(&changed).unwrap()).unwrap();
    ctx.ward(["verify", s(&by_new), "--policy", s(&follow)])
        .expect(2)
        .reason("policy-invalid");
}

#[test]
fn a_revocation_is_recorded_and_honoured() {
    let m = managed();
    let rotations = m.ctx.path("rotations");
    // The revoked key's public half only: a lost key is revoked without its signature.
    let run = m.ctx.ward([
        "keys",
        "revoke",
        s(&m.ctx.path("test-managed.pub")),
        "--since",
        "2025-12-01T00:00:00Z",
        "--reason",
        "test: key leaked",
        "--out-dir",
        s(&rotations),
    ]);
    run.expect(0);
    assert!(run.stdout.contains("unsigned"), "{}", run.all());
    let recorded = events(&m.ctx.ledger());
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].0, "key-revoked");
    assert_eq!(recorded[0].2["revoked_at"], "2025-12-01T00:00:00Z");
    assert_eq!(recorded[0].2["reason"], "test: key leaked");
    let run = m.verify_with(r#"{ path = "test-managed.pub", rotations = "rotations" }"#);
    run.expect(1).reason("key-revoked");
    assert!(run.all().contains("revocation-"), "names the statement:\n{}", run.all());
    // A second revocation of the same key is a new file, never an overwrite.
    m.ctx
        .ward([
            "keys",
            "revoke",
            s(&m.ctx.path("test-managed.pub")),
            "--since",
            "2025-12-02T00:00:00Z",
            "--out-dir",
            s(&rotations),
        ])
        .expect(2);
    assert_eq!(
        events(&m.ctx.ledger()).len(),
        1,
        "nothing recorded for a refused revocation"
    );
}

fn npm() -> PathBuf {
    shared().join("npm-attestations")
}

/// The npm registry's real `keys.json` from Sigstore's TUF repository:
/// the old key valid until 2025-01-29, the new one from 2025-01-13.
fn npm_keys_2025() -> PathBuf {
    shared().join("sigstore-tuf-repo/targets/registry.npmjs.org/keys.json")
}

#[test]
fn the_npm_key_rotation_of_january_2025_is_honoured_by_window() {
    // Long after the old key's end: what counts is when the registry signed.
    let ctx = TestContext::new().at("2026-12-01T00:00:00Z");
    let verify = |name: &str, keys: &Path| {
        let tgz = npm().join(format!("{name}.tgz"));
        let att = npm().join(format!("{name}.tgz.json"));
        ctx.ward(["verify", s(&tgz), "--attestation", s(&att), "--npm-keys", s(keys)])
    };
    // Signed 2024-06-03 and 2024-05-16 by the old key: inside its window.
    verify("gundam-visor-cli-v1-tag", &npm_keys_2025()).expect(0);
    verify("provenance-npm-test-cli-v1-prega", &npm_keys_2025()).expect(0);
    // The same file with the old key's attestation window ending
    // 2024-06-01: the 2024-06-03 signature is after it, the 2024-05-16 one is not.
    let mut keys: serde_json::Value = serde_json::from_slice(&std::fs::read(npm_keys_2025()).unwrap()).unwrap();
    for k in keys["keys"].as_array_mut().unwrap() {
        if k["keyId"] == "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA" {
            k["publicKey"]["validFor"]["end"] = "2024-06-01T00:00:00.000Z".into();
        }
    }
    let early_end = ctx.path("keys-early-end.json");
    std::fs::write(&early_end, serde_json::to_vec(&keys).unwrap()).unwrap();
    let run = verify("gundam-visor-cli-v1-tag", &early_end);
    run.expect(1).reason("registry-key-expired");
    assert!(
        run.all().contains("2024-06-03"),
        "names the signing time:\n{}",
        run.all()
    );
    verify("provenance-npm-test-cli-v1-prega", &early_end).expect(0);
    // Only the new key (the old one dropped): the old signatures name an unknown key.
    let mut new_only = keys.clone();
    new_only["keys"]
        .as_array_mut()
        .unwrap()
        .retain(|k| k["keyId"] != "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA");
    let path = ctx.path("keys-new-only.json");
    std::fs::write(&path, serde_json::to_vec(&new_only).unwrap()).unwrap();
    verify("gundam-visor-cli-v1-tag", &path)
        .expect(1)
        .reason("key-not-trusted");
}
