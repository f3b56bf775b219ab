//! Attestations: DSSE and in-toto bad input with generated keys, and real
//! provenance from npm and PyPI.

use crate::common::{HOSTED, Publisher, SLSA_V1, TestContext, json_of, shared, slsa_v1};
use base64::Engine as _;
use serde_json::json;
use std::path::{Path, PathBuf};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A bare DSSE envelope over `payload`, signed with the publisher's key.
fn envelope(p: &Publisher, payload_type: &str, payload: &[u8], url_safe: bool) -> serde_json::Value {
    let key = ward_sign::SigningKey::from_file(&p.key, None).unwrap();
    let sig = key.sign(&ward_verify::dsse::pae(payload_type, payload)).unwrap();
    let enc = |b: &[u8]| {
        if url_safe {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        } else {
            b64(b)
        }
    };
    json!({"payloadType": payload_type, "payload": enc(payload), "signatures": [{"keyid": "", "sig": enc(&sig)}]})
}

fn statement(
    kind: &str,
    subject_digest: serde_json::Value,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "_type": format!("https://in-toto.io/Statement/{kind}"),
        "subject": [{"name": "x", "digest": subject_digest}],
        "predicateType": predicate_type,
        "predicate": predicate
    }))
    .unwrap()
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

fn write(p: &Publisher, name: &str, v: &serde_json::Value) -> PathBuf {
    let path = p.path(name);
    std::fs::write(&path, serde_json::to_vec(v).unwrap()).unwrap();
    path
}

fn verify_att(p: &Publisher, art: &Path, atts: &[&Path], extra: &[&str]) -> crate::common::Run {
    let mut args = vec![
        "verify".to_string(),
        art.display().to_string(),
        "--key".into(),
        p.public.display().to_string(),
    ];
    for a in atts {
        args.extend(["--attestation".into(), a.display().to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    p.ctx.ward(&args)
}

#[test]
fn bare_envelopes_verify_in_both_base64_alphabets_and_both_statement_versions() {
    let p = Publisher::new("ecdsa-p256");
    let art = p.artifact("a.bin", b"artifact");
    let predicate = slsa_v1("https://github.com/acme/a", "refs/tags/v1", HOSTED, "github-hosted");
    for (kind, url_safe) in [("v1", false), ("v0.1", true)] {
        let payload = statement(kind, json!({"sha256": sha256_hex(&art)}), SLSA_V1, predicate.clone());
        let env = write(
            &p,
            &format!("{kind}.dsse.json"),
            &envelope(&p, "application/vnd.in-toto+json", &payload, url_safe),
        );
        let run = verify_att(&p, &art, &[&env], &["--format", "json"]);
        run.expect(0);
        assert!(
            json_of(&run)["checks"][1]["facts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["type"] == "provenance")
        );
    }
}

#[test]
fn a_payload_type_other_than_in_toto_is_refused() {
    let p = Publisher::new("ed25519");
    let art = p.artifact("a.bin", b"artifact");
    let payload = statement("v1", json!({"sha256": sha256_hex(&art)}), SLSA_V1, json!({}));
    let env = write(&p, "e.json", &envelope(&p, "application/json", &payload, false));
    verify_att(&p, &art, &[&env], &[])
        .expect(1)
        .reason("attestation-payload-type");
}

#[test]
fn a_signed_statement_about_another_artifact_is_refused() {
    let p = Publisher::new("ecdsa-p256");
    let art = p.artifact("a.bin", b"artifact");
    let payload = statement("v1", json!({"sha256": "00".repeat(32)}), SLSA_V1, json!({}));
    let env = write(
        &p,
        "e.json",
        &envelope(&p, "application/vnd.in-toto+json", &payload, false),
    );
    verify_att(&p, &art, &[&env], &[])
        .expect(1)
        .reason("attestation-subject-mismatch");
}

#[test]
fn a_subject_with_only_another_digest_algorithm_is_refused() {
    let p = Publisher::new("ecdsa-p256");
    let art = p.artifact("a.bin", b"artifact");
    let payload = statement(
        "v1",
        json!({"sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}),
        SLSA_V1,
        json!({}),
    );
    let env = write(
        &p,
        "e.json",
        &envelope(&p, "application/vnd.in-toto+json", &payload, false),
    );
    let run = verify_att(&p, &art, &[&env], &[]);
    run.expect(1).reason("attestation-subject-mismatch");
    assert!(run.stdout.contains("sha1"), "{}", run.stdout);
}

#[test]
fn a_forged_envelope_denies_even_beside_a_good_one() {
    let p = Publisher::new("ecdsa-p256");
    let art = p.artifact("a.bin", b"artifact");
    // The good envelope carries no provenance; the forged one does.
    let publish = statement(
        "v1",
        json!({"sha256": sha256_hex(&art)}),
        "https://example.com/reviewed/v1",
        json!({}),
    );
    let good = write(
        &p,
        "good.json",
        &envelope(&p, "application/vnd.in-toto+json", &publish, false),
    );
    let prov = statement(
        "v1",
        json!({"sha256": sha256_hex(&art)}),
        SLSA_V1,
        slsa_v1("https://github.com/acme/a", "refs/tags/v1", HOSTED, "github-hosted"),
    );
    let mut forged = envelope(&p, "application/vnd.in-toto+json", &prov, false);
    forged["signatures"][0]["sig"] = json!(b64(&[7u8; 70]));
    let forged = write(&p, "forged.json", &forged);
    verify_att(&p, &art, &[&good], &[]).expect(0);
    let run = verify_att(&p, &art, &[&good, &forged], &["--format", "json"]);
    run.expect(1).reason("signature-invalid");
    // The forged provenance never became a fact.
    assert!(!run.stdout.contains("\"type\": \"provenance\""), "{}", run.stdout);
}

#[test]
fn an_envelope_signed_by_an_unknown_key_is_not_trusted() {
    let p = Publisher::new("ecdsa-p256");
    let stranger = Publisher::new("ecdsa-p256");
    let art = p.artifact("a.bin", b"artifact");
    let payload = statement("v1", json!({"sha256": sha256_hex(&art)}), SLSA_V1, json!({}));
    let env = write(
        &p,
        "e.json",
        &envelope(&stranger, "application/vnd.in-toto+json", &payload, false),
    );
    verify_att(&p, &art, &[&env], &[]).expect(1).reason("signature-invalid");
}

#[test]
fn unknown_formats_and_jsonl_lines() {
    let p = Publisher::new("ecdsa-p256");
    let art = p.artifact("a.bin", b"artifact");
    let junk = write(&p, "junk.json", &json!({"hello": "world"}));
    verify_att(&p, &art, &[&junk], &[])
        .expect(1)
        .reason("attestation-malformed");
    // In JSON Lines, unknown lines are ignored and known ones verified.
    let payload = statement("v1", json!({"sha256": sha256_hex(&art)}), SLSA_V1, json!({}));
    let env = envelope(&p, "application/vnd.in-toto+json", &payload, false);
    let jsonl = p.path("all.jsonl");
    std::fs::write(
        &jsonl,
        format!(
            "{{\"unrelated\": true}}\nnot json\n{}\n",
            serde_json::to_string(&env).unwrap()
        ),
    )
    .unwrap();
    verify_att(&p, &art, &[&jsonl], &[]).expect(0);
}

fn npm() -> PathBuf {
    shared().join("npm-attestations")
}

#[test]
fn real_npm_packages_with_registry_attestations() {
    let ctx = TestContext::new();
    let cases = [
        (
            "gundam-visor-cli-v1-tag",
            "https://github.com/ramonpetgrave64/gundam-visor",
        ),
        (
            "provenance-npm-test-cli-v02-prega",
            "https://github.com/laurentsimon/provenance-npm-test",
        ),
        (
            "provenance-npm-test-cli-v1-prega",
            "https://github.com/sigstore/sigstore-js",
        ),
        (
            "provenance-npm-test-ossf",
            "https://github.com/laurentsimon/provenance-npm-test",
        ),
        (
            "supreme-googles-cli-v02-tag",
            "https://github.com/trishankatdatadog/supreme-goggles",
        ),
    ];
    for (name, repo) in cases {
        let tgz = npm().join(format!("{name}.tgz"));
        let att = npm().join(format!("{name}.tgz.json"));
        let run = ctx.ward([
            "verify",
            tgz.to_str().unwrap(),
            "--attestation",
            att.to_str().unwrap(),
            "--format",
            "json",
        ]);
        run.expect(0);
        let doc = json_of(&run);
        let facts: Vec<serde_json::Value> = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["facts"].as_array().cloned().unwrap_or_default())
            .collect();
        let prov = facts
            .iter()
            .find(|f| f["type"] == "provenance")
            .unwrap_or_else(|| panic!("{name}: no provenance"));
        assert_eq!(prov["source_repository"], repo, "{name}");
        assert!(facts.iter().any(|f| f["type"] == "statement"
            && f["predicate_type"] == "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"));
        for variant in ["invalidsigprov", "invalidsigpub"] {
            let tgz = npm().join(format!("{name}-{variant}.tgz"));
            let att = npm().join(format!("{name}-{variant}.tgz.json"));
            ctx.ward(["verify", tgz.to_str().unwrap(), "--attestation", att.to_str().unwrap()])
                .expect(1)
                .reason("signature-invalid");
        }
    }
}

#[test]
fn npm_attestations_for_another_package_are_refused() {
    let ctx = TestContext::new();
    let tgz = npm().join("supreme-googles-cli-v02-tag.tgz");
    let att = npm().join("gundam-visor-cli-v1-tag.tgz.json");
    ctx.ward(["verify", tgz.to_str().unwrap(), "--attestation", att.to_str().unwrap()])
        .expect(1)
        .reason("attestation-subject-mismatch");
}

#[test]
fn npm_registry_keys_are_replaceable_and_windows_enforced() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let mut keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(npm().join("npm-registry-keys.json")).unwrap()).unwrap();
    for k in keys["keys"].as_array_mut().unwrap() {
        k["publicKey"]["validFor"] = json!({"start": "2025-01-01T00:00:00Z"});
    }
    let path = dir.path().join("keys.json");
    std::fs::write(&path, serde_json::to_vec(&keys).unwrap()).unwrap();
    let tgz = npm().join("gundam-visor-cli-v1-tag.tgz");
    let att = npm().join("gundam-visor-cli-v1-tag.tgz.json");
    ctx.ward([
        "verify",
        tgz.to_str().unwrap(),
        "--attestation",
        att.to_str().unwrap(),
        "--npm-keys",
        path.to_str().unwrap(),
    ])
    .expect(1)
    .reason("registry-key-expired");
}

fn pypi() -> PathBuf {
    shared().join("pypi-attestations")
}

/// Copies a distribution and one attestation into a fresh directory (so no sidecar is picked up).
fn pypi_case(dist: &str, attestation: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join(dist);
    let a = dir.path().join(attestation);
    std::fs::copy(pypi().join(dist), &d).unwrap();
    std::fs::copy(pypi().join(attestation), &a).unwrap();
    (dir, d, a)
}

const TRAIL_OF_BITS_RELEASE: &str =
    "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19";

/// PEP 740 attestations are keyless: like any keyless evidence they count
/// only from a named signer (issue 10, finding 1), and then they verify.
#[test]
fn real_pypi_attestations_and_provenance() {
    let ctx = TestContext::new();
    let dist = "pypi_attestations-0.0.19.tar.gz";
    for att in [
        "pypi_attestations-0.0.19.tar.gz.provenance",
        "pypi_attestations-0.0.19.tar.gz.publish.attestation",
        "pypi_attestations-0.0.19.tar.gz.slsa.attestation",
    ] {
        let (_d, dist, att) = pypi_case(dist, att);
        let (dist, att) = (dist.to_str().unwrap(), att.to_str().unwrap());
        ctx.ward(["verify", dist, "--attestation", att])
            .expect(1)
            .reason("identity-unconstrained");
        let run = ctx.ward([
            "verify",
            dist,
            "--attestation",
            att,
            "--certificate-identity",
            TRAIL_OF_BITS_RELEASE,
            "--certificate-oidc-issuer",
            crate::common::GITHUB_ISSUER,
            "--format",
            "json",
        ]);
        run.expect(0);
        assert_eq!(json_of(&run)["artifact"]["id"], "pkg:pypi/pypi-attestations@0.0.19");
    }
    let (_d, dist, att) = pypi_case(
        "gitlab_oidc_project-0.0.3.tar.gz",
        "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation",
    );
    let run = ctx.ward([
        "verify",
        dist.to_str().unwrap(),
        "--attestation",
        att.to_str().unwrap(),
        "--certificate-identity",
        "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main",
        "--certificate-oidc-issuer",
        "https://gitlab.com",
    ]);
    run.expect(0);
    assert!(run.stdout.contains("https://gitlab.com/facutuesca/gitlab-oidc-project"));
    // Signed against Sigstore's staging instance: fails on production, passes with --staging.
    let (_d, dist, att) = pypi_case(
        "rfc8785-0.1.2-py3-none-any.whl",
        "rfc8785-0.1.2-py3-none-any.whl.publish.attestation",
    );
    let signer = [
        "--certificate-identity",
        "william@yossarian.net",
        "--certificate-oidc-issuer",
        "https://github.com/login/oauth",
    ];
    let base = ["verify", dist.to_str().unwrap(), "--attestation", att.to_str().unwrap()];
    ctx.ward(base.iter().chain(&signer)).expect(1).reason("tlog-invalid");
    ctx.ward(base.iter().chain(&signer).chain(&["--staging"])).expect(0);
}

#[test]
fn a_trusted_publisher_that_is_not_the_signer_is_refused() {
    let ctx = TestContext::new();
    let (dir, dist, att) = pypi_case(
        "pypi_attestations-0.0.19.tar.gz",
        "pypi_attestations-0.0.19.tar.gz.provenance",
    );
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&att).unwrap()).unwrap();
    v["attestation_bundles"][0]["publisher"]["repository"] = json!("evil/pypi-attestations");
    let forged = dir.path().join("forged.provenance");
    std::fs::write(&forged, serde_json::to_vec(&v).unwrap()).unwrap();
    ctx.ward([
        "verify",
        dist.to_str().unwrap(),
        "--attestation",
        forged.to_str().unwrap(),
    ])
    .expect(1)
    .reason("publisher-mismatch");
    v["attestation_bundles"][0]["publisher"]["repository"] = json!("trailofbits/pypi-attestations");
    v["attestation_bundles"][0]["publisher"]["workflow"] = json!("other.yml");
    std::fs::write(&forged, serde_json::to_vec(&v).unwrap()).unwrap();
    ctx.ward([
        "verify",
        dist.to_str().unwrap(),
        "--attestation",
        forged.to_str().unwrap(),
    ])
    .expect(1)
    .reason("publisher-mismatch");
}

#[test]
fn pypi_attestations_for_another_distribution_are_refused() {
    let ctx = TestContext::new();
    let (dir, dist, _) = pypi_case(
        "gitlab_oidc_project-0.0.3.tar.gz",
        "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation",
    );
    let other = dir.path().join("p.provenance");
    std::fs::copy(pypi().join("pypi_attestations-0.0.19.tar.gz.provenance"), &other).unwrap();
    ctx.ward([
        "verify",
        dist.to_str().unwrap(),
        "--attestation",
        other.to_str().unwrap(),
    ])
    .expect(1)
    .reason("attestation-subject-mismatch");
}

/// The SLSA provenance bundle alone, out of npm's attestations response, as
/// a bare Sigstore bundle and as a response with only that entry.
fn npm_slsa_only(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(npm().join(format!("{name}.tgz.json"))).unwrap()).unwrap();
    let entry = doc["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["predicateType"]
                .as_str()
                .unwrap()
                .starts_with("https://slsa.dev/provenance/")
        })
        .unwrap()
        .clone();
    let bare = dir.join("slsa.sigstore.json");
    std::fs::write(&bare, serde_json::to_vec(&entry["bundle"]).unwrap()).unwrap();
    let response = dir.join("slsa-only.json");
    std::fs::write(
        &response,
        serde_json::to_vec(&json!({"attestations": [entry]})).unwrap(),
    )
    .unwrap();
    (bare, response)
}

/// The SLSA generator's reusable workflow signed the provenance of provenance-npm-test-ossf.
const OSSF_SIGNER: &str = r"https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/.*";
const ACME_RELEASE: &str = "https://github.com/acme/x/.github/workflows/release.yml@refs/tags/v1";

/// Issue 10, finding 1: anyone can sign a statement about any digest with
/// their own CI identity, so a keyless attestation needs a trusted identity
/// exactly as a keyless bundle does.
#[test]
fn a_keyless_attestation_needs_the_same_trusted_identity_as_a_keyless_bundle() {
    let ctx = TestContext::new();
    let dir = tempfile::tempdir().unwrap();
    let tgz = npm().join("provenance-npm-test-ossf.tgz");
    let tgz = tgz.to_str().unwrap();
    let (bare, response) = npm_slsa_only(dir.path(), "provenance-npm-test-ossf");
    for att in [&bare, &response] {
        let att = att.to_str().unwrap();
        let run = ctx.ward(["verify", tgz, "--attestation", att, "--format", "json"]);
        run.expect(1).reason("identity-unconstrained");
        // The unconstrained provenance never became a fact.
        assert!(!run.stdout.contains("\"type\": \"provenance\""), "{}", run.stdout);
        ctx.ward([
            "verify",
            tgz,
            "--attestation",
            att,
            "--certificate-identity",
            ACME_RELEASE,
            "--certificate-oidc-issuer",
            crate::common::GITHUB_ISSUER,
        ])
        .expect(1)
        .reason("identity-mismatch");
        ctx.ward([
            "verify",
            tgz,
            "--attestation",
            att,
            "--certificate-identity-regexp",
            OSSF_SIGNER,
            "--certificate-oidc-issuer",
            "https://accounts.google.com",
        ])
        .expect(1)
        .reason("issuer-mismatch");
        // Named, the signer it really has is trusted.
        ctx.ward([
            "verify",
            tgz,
            "--attestation",
            att,
            "--certificate-identity-regexp",
            OSSF_SIGNER,
            "--certificate-oidc-issuer",
            crate::common::GITHUB_ISSUER,
        ])
        .expect(0);
    }
    // The same signer through --bundle: the same answer.
    ctx.ward(["verify", tgz, "--bundle", bare.to_str().unwrap()])
        .expect(1)
        .reason("identity-unconstrained");
}

/// npm's own rule: the SLSA provenance that the registry serves beside its
/// registry-signed publish attestation was checked by the registry at
/// publish. A named identity still binds it.
#[test]
fn npm_provenance_counts_beside_the_registry_publish_attestation_unless_another_identity_is_named() {
    let ctx = TestContext::new();
    let tgz = npm().join("provenance-npm-test-ossf.tgz");
    let att = npm().join("provenance-npm-test-ossf.tgz.json");
    let (tgz, att) = (tgz.to_str().unwrap(), att.to_str().unwrap());
    ctx.ward(["verify", tgz, "--attestation", att]).expect(0);
    ctx.ward([
        "verify",
        tgz,
        "--attestation",
        att,
        "--certificate-identity",
        ACME_RELEASE,
        "--certificate-oidc-issuer",
        crate::common::GITHUB_ISSUER,
    ])
    .expect(1)
    .reason("identity-mismatch");
    // The publish attestation of another package does not vouch for this one's provenance.
    let dir = tempfile::tempdir().unwrap();
    let (_, slsa) = npm_slsa_only(dir.path(), "provenance-npm-test-ossf");
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&slsa).unwrap()).unwrap();
    let other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(npm().join("gundam-visor-cli-v1-tag.tgz.json")).unwrap()).unwrap();
    let publish = other["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["predicateType"].as_str().unwrap().contains("/publish/"))
        .unwrap()
        .clone();
    doc["attestations"].as_array_mut().unwrap().push(publish);
    let mixed = dir.path().join("mixed.json");
    std::fs::write(&mixed, serde_json::to_vec(&doc).unwrap()).unwrap();
    ctx.ward(["verify", tgz, "--attestation", mixed.to_str().unwrap()])
        .expect(1)
        .reason("identity-unconstrained");
}

/// Issue 10, finding 6, with key-signed envelopes: under a `warn` or
/// `audit` scope a wrong payload type, a statement about other bytes and a
/// signature by a key the scope does not trust still deny; a missing
/// required predicate type is only a warning.
#[test]
fn forged_envelopes_deny_under_warn_and_audit_scopes() {
    let ctx = TestContext::new();
    let p = Publisher::new("ecdsa-p256");
    let stranger = Publisher::new("ecdsa-p256");
    let art = p.artifact("a.bin", b"artifact");
    let digest = json!({"sha256": sha256_hex(&art)});
    let good = statement("v1", digest.clone(), SLSA_V1, json!({}));
    let in_toto = "application/vnd.in-toto+json";
    let cases = [
        (
            "payload.json",
            envelope(&p, "application/json", &good, false),
            "attestation-payload-type",
        ),
        (
            "other.json",
            envelope(
                &p,
                in_toto,
                &statement("v1", json!({"sha256": "00".repeat(32)}), SLSA_V1, json!({})),
                false,
            ),
            "attestation-subject-mismatch",
        ),
        (
            "stranger.json",
            envelope(&stranger, in_toto, &good, false),
            "signature-invalid",
        ),
    ];
    for mode in ["warn", "audit"] {
        let policy = p.path("ward.toml");
        std::fs::write(
            &policy,
            format!(
                "[[scope]]\npackages = [\"*\"]\nmode = \"{mode}\"\nkeys = [{:?}]\nrequired_predicate_types = [\"https://example.com/never\"]\n",
                p.public.display().to_string()
            ),
        )
        .unwrap();
        let run_with = |file: &Path| {
            ctx.ward([
                "verify",
                art.to_str().unwrap(),
                "--attestation",
                file.to_str().unwrap(),
                "--policy",
                policy.to_str().unwrap(),
            ])
        };
        let ok = write(&p, "good.json", &envelope(&p, in_toto, &good, false));
        run_with(&ok).expect(0);
        for (name, env, code) in &cases {
            run_with(&write(&p, name, env)).expect(1).reason(code);
        }
    }
}
