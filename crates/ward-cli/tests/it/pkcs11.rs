//! Hardware-backed keys through PKCS#11, against SoftHSM2: `ward keygen
//! --pkcs11` makes the key on the token and writes only the public key,
//! `ward sign|attest --pkcs11` sign on the token, `ward verify --key` accepts
//! what they write; a missing module, a wrong PIN, a token without the key:
//! a clear error and exit 2, the PIN never shown.
//!
//! Each test makes its own token in a temporary directory (its own
//! `SOFTHSM2_CONF` and token directory). SoftHSM2 is Debian's `softhsm2`,
//! installed by `scripts/softhsm.sh` (run by `scripts/test.sh`). Without it
//! these tests fail when `CI` or `WARD_REQUIRE_SOFTHSM=1` is set, and are
//! skipped, loudly, otherwise.

use crate::common::{HOSTED, Run, SLSA_V1, TestContext, json_of, run, slsa_v1};
use base64::Engine as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The user PIN of every test token (made for these tests, not a secret).
const TEST_PIN: &str = "test-pin-1234";
const TEST_SO_PIN: &str = "test-so-pin-5678";

/// A SoftHSM2 installation with a private token directory.
struct SoftHsm {
    /// The test's context: ward runs in it, the token directory is in it.
    ctx: TestContext,
    conf: PathBuf,
    module: PathBuf,
    /// ward's data directory for this test (its ledger).
    data: PathBuf,
}

fn module_path() -> Option<PathBuf> {
    if let Some(m) = std::env::var_os("WARD_TEST_SOFTHSM_MODULE") {
        return Some(PathBuf::from(m)).filter(|p| p.is_file());
    }
    let mut candidates = vec![PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")];
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().ends_with("-linux-gnu") {
                candidates.push(e.path().join("softhsm/libsofthsm2.so"));
            }
        }
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// SoftHSM2 with one initialised token labelled `label`, or `None` (skip)
/// when it is not installed and not required.
fn softhsm(label: &str) -> Option<SoftHsm> {
    let util = Command::new("softhsm2-util").arg("--version").output();
    let module = module_path();
    if util.is_err() || module.is_none() {
        let required = std::env::var_os("CI").is_some_and(|v| !v.is_empty())
            || std::env::var("WARD_REQUIRE_SOFTHSM").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "SoftHSM2 is required here (CI or WARD_REQUIRE_SOFTHSM=1) but softhsm2-util or libsofthsm2.so is missing: run scripts/softhsm.sh (apt-get install softhsm2)"
        );
        // Straight to the stderr handle: the test harness captures eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: SoftHSM2 is not installed (apt-get install softhsm2, or scripts/softhsm.sh); the PKCS#11 tests did not run ***\n"
        );
        return None;
    }
    let ctx = TestContext::new();
    let tokens = ctx.path("tokens");
    std::fs::create_dir_all(&tokens).expect("token dir");
    let conf = ctx.path("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("softhsm2.conf");
    let data = ctx.data.clone();
    let hsm = SoftHsm {
        ctx,
        conf,
        module: module.expect("module"),
        data,
    };
    hsm.init_token(label);
    Some(hsm)
}

impl SoftHsm {
    fn init_token(&self, label: &str) {
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &self.conf)
            .args([
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                TEST_SO_PIN,
                "--pin",
                TEST_PIN,
            ])
            .output()
            .expect("softhsm2-util");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    fn path(&self, name: &str) -> PathBuf {
        self.ctx.path(name)
    }

    /// ward with this token directory, the module and the PIN in the environment.
    fn command(&self) -> Command {
        let mut cmd = self.ctx.command_in(&self.data);
        cmd.env("SOFTHSM2_CONF", &self.conf)
            .env("WARD_PKCS11_MODULE", &self.module)
            .env("WARD_PKCS11_PIN", TEST_PIN);
        cmd
    }

    fn ward<const N: usize>(&self, args: [&str; N]) -> Run {
        run(self.command().args(args))
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `sha256:…` as ward prints a key.
fn fingerprint_in(text: &str) -> String {
    let at = text.find("key sha256:").expect("a key fingerprint") + 4;
    text[at..at + 71].to_string()
}

#[test]
fn pkcs11_keygen_sign_verify_round_trip_ecdsa_and_ed25519() {
    let Some(hsm) = softhsm("ward-test") else { return };
    for alg in ["ecdsa-p256", "ed25519"] {
        let uri = format!("pkcs11:token=ward-test;object=test-release-{alg}");
        let prefix = hsm.path(&format!("test-hsm-{alg}"));
        let made = hsm.ward(["keygen", "--pkcs11", &uri, "--algorithm", alg, "--output", s(&prefix)]);
        made.expect(0);
        let public = hsm.path(&format!("test-hsm-{alg}.pub"));
        assert!(public.is_file(), "the public key is written");
        assert!(
            !hsm.path(&format!("test-hsm-{alg}.key")).exists(),
            "no private key file: the private key stays on the token"
        );
        let pem = std::fs::read_to_string(&public).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
        let fp = fingerprint_in(&made.stdout);
        assert!(made.stdout.contains("token=ward-test"), "{}", made.stdout);

        let art = hsm.path(&format!("release-{alg}.bin"));
        std::fs::write(&art, b"the release, signed on a token").unwrap();
        let signed = hsm.ward(["sign", "--pkcs11", &uri, s(&art)]);
        signed.expect(0);
        assert!(
            signed.stdout.contains("generated it and never let it out"),
            "{}",
            signed.stdout
        );
        assert_eq!(fingerprint_in(&signed.stdout), fp, "signed by the key keygen made");
        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(format!("{}.sigstore.json", art.display())).unwrap()).unwrap();
        assert_eq!(bundle["verificationMaterial"]["publicKey"]["hint"], fp.as_str());
        let sig = base64::engine::general_purpose::STANDARD
            .decode(bundle["messageSignature"]["signature"].as_str().unwrap())
            .unwrap();
        if alg == "ecdsa-p256" {
            // DER ECDSA-Sig-Value, not the token's raw r || s.
            assert_eq!(sig[0], 0x30, "DER SEQUENCE");
            assert_eq!(usize::from(sig[1]) + 2, sig.len(), "DER length");
        } else {
            assert_eq!(sig.len(), 64, "Ed25519 signature");
        }

        let verified = hsm.ward(["verify", s(&art), "--key", s(&public), "--format", "json"]);
        verified.expect(0);
        let doc = json_of(&verified);
        let fact = &doc["checks"][1]["facts"][0];
        assert_eq!(fact["signer"]["kind"], "key");
        assert_eq!(fact["signer"]["fingerprint"], fp.as_str(), "{fact}");

        std::fs::write(&art, b"the release, changed").unwrap();
        hsm.ward(["verify", s(&art), "--key", s(&public)])
            .expect(1)
            .reason("artifact-digest-mismatch");
    }
}

#[test]
fn pkcs11_attest_verifies_as_provenance() {
    let Some(hsm) = softhsm("ward-test") else { return };
    let uri = "pkcs11:token=ward-test;object=test-builder";
    let prefix = hsm.path("test-builder");
    hsm.ward(["keygen", "--pkcs11", uri, "--output", s(&prefix)]).expect(0);
    let public = hsm.path("test-builder.pub");
    let art = hsm.path("tool.bin");
    std::fs::write(&art, b"tool bytes").unwrap();
    let predicate = slsa_v1(
        "https://github.com/acme/tool",
        "refs/tags/v1.0.0",
        HOSTED,
        "github-hosted",
    );
    let pred = hsm.path("predicate.json");
    std::fs::write(&pred, serde_json::to_vec(&predicate).unwrap()).unwrap();
    let out = hsm.path("tool.intoto.json");
    hsm.ward([
        "attest",
        "--pkcs11",
        uri,
        "--predicate",
        s(&pred),
        "--type",
        SLSA_V1,
        "--output",
        s(&out),
        s(&art),
    ])
    .expect(0);
    let run = hsm.ward([
        "verify",
        s(&art),
        "--key",
        s(&public),
        "--attestation",
        s(&out),
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
    // The DSSE signature is DER too.
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let sig = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    assert_eq!(sig[0], 0x30, "DER SEQUENCE");
}

#[test]
fn pkcs11_bad_input_is_a_clear_error_with_exit_2_and_the_pin_never_shown() {
    let Some(hsm) = softhsm("ward-test") else { return };
    let uri = "pkcs11:token=ward-test;object=test-key";
    hsm.ward(["keygen", "--pkcs11", uri, "--output", s(&hsm.path("test-key"))])
        .expect(0);
    let art = hsm.path("a.bin");
    std::fs::write(&art, b"x").unwrap();

    // A second key with the same label is refused (it would make the URI ambiguous).
    let again = hsm.ward(["keygen", "--pkcs11", uri, "--output", s(&hsm.path("test-key-2"))]);
    again.expect(2);
    assert!(again.stderr.contains("already has a key"), "{}", again.stderr);

    // The module is missing.
    let missing = run(hsm
        .command()
        .env("WARD_PKCS11_MODULE", "/nonexistent/libtest-pkcs11.so")
        .args(["sign", "--pkcs11", uri, s(&art)]));
    missing.expect(2);
    assert!(
        missing
            .stderr
            .contains("cannot load the PKCS#11 module /nonexistent/libtest-pkcs11.so"),
        "{}",
        missing.stderr
    );
    // No module named at all.
    let none = run(hsm
        .command()
        .env_remove("WARD_PKCS11_MODULE")
        .args(["sign", "--pkcs11", uri, s(&art)]));
    none.expect(2);
    assert!(none.stderr.contains("WARD_PKCS11_MODULE"), "{}", none.stderr);

    // A wrong PIN, from the environment and from the URI: refused, never echoed.
    let from_env = run(hsm
        .command()
        .env("WARD_PKCS11_PIN", "wrong-test-pin")
        .args(["sign", "--pkcs11", uri, s(&art)]));
    let in_uri = format!("{uri}?pin-value=wrong-test-pin");
    let from_uri = hsm.ward(["sign", "--pkcs11", &in_uri, s(&art)]);
    for wrong in [&from_env, &from_uri] {
        wrong.expect(2);
        assert!(wrong.stderr.contains("refused the PIN"), "{}", wrong.stderr);
        assert!(
            !wrong.all().contains("wrong-test-pin"),
            "the PIN is shown:\n{}",
            wrong.all()
        );
        assert!(!wrong.all().contains(TEST_PIN), "the PIN is shown:\n{}", wrong.all());
    }
    // No PIN at all.
    let no_pin = run(hsm
        .command()
        .env_remove("WARD_PKCS11_PIN")
        .args(["sign", "--pkcs11", uri, s(&art)]));
    no_pin.expect(2);
    assert!(no_pin.stderr.contains("needs its user PIN"), "{}", no_pin.stderr);
    // The PIN from a file (pin-source) works.
    let pin_file = hsm.path("pin.txt");
    std::fs::write(&pin_file, format!("{TEST_PIN}\n")).unwrap();
    let from_file = format!("{uri}?pin-source=file:{}", pin_file.display());
    run(hsm
        .command()
        .env_remove("WARD_PKCS11_PIN")
        .args(["sign", "--pkcs11", &from_file, s(&art)]))
    .expect(0);

    // A token without the key.
    hsm.init_token("ward-test-empty");
    let no_key = hsm.ward([
        "sign",
        "--pkcs11",
        "pkcs11:token=ward-test-empty;object=test-key",
        s(&art),
    ]);
    no_key.expect(2);
    assert!(
        no_key.stderr.contains("has no private key matching"),
        "{}",
        no_key.stderr
    );
    // No such token: the ones there are are listed.
    let no_token = hsm.ward([
        "sign",
        "--pkcs11",
        "pkcs11:token=ward-test-absent;object=test-key",
        s(&art),
    ]);
    no_token.expect(2);
    assert!(
        no_token.stderr.contains("no token matches") && no_token.stderr.contains("\"ward-test-empty\""),
        "{}",
        no_token.stderr
    );
    // A URI that names no key, and one that is not a PKCS#11 URI.
    hsm.ward(["sign", "--pkcs11", "pkcs11:token=ward-test", s(&art)])
        .expect(2);
    let bad = hsm.ward(["sign", "--pkcs11", "token=ward-test", s(&art)]);
    bad.expect(2);
    assert!(bad.stderr.contains("pkcs11:"), "{}", bad.stderr);
    // --key and --pkcs11 together are a usage error.
    hsm.ward(["sign", "--pkcs11", uri, "--key", "x.key", s(&art)]).expect(2);
}

#[test]
fn pkcs11_an_imported_key_signs_and_is_reported_as_imported() {
    let Some(hsm) = softhsm("ward-test") else { return };
    // A key made in software, then imported: usable, but it was outside the token.
    let prefix = hsm.path("test-imported");
    hsm.ward(["keygen", "--algorithm", "ecdsa-p256", "--output", s(&prefix)])
        .expect(0);
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &hsm.conf)
        .args(["--import", s(&hsm.path("test-imported.key")), "--token", "ward-test"])
        .args(["--label", "test-imported", "--id", "0a0b", "--pin", TEST_PIN])
        .output()
        .expect("softhsm2-util --import");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let art = hsm.path("a.bin");
    std::fs::write(&art, b"x").unwrap();
    let signed = hsm.ward(["sign", "--pkcs11", "pkcs11:token=ward-test;id=%0a%0b", s(&art)]);
    signed.expect(0);
    assert!(signed.stdout.contains("imported"), "{}", signed.stdout);
    hsm.ward(["verify", s(&art), "--key", s(&hsm.path("test-imported.pub"))])
        .expect(0);
}

#[test]
fn pkcs11_a_token_key_registered_in_the_policy_passes_a_scope_requiring_hardware_keys() {
    let Some(hsm) = softhsm("ward-test") else { return };
    let uri = "pkcs11:token=ward-test;object=test-release";
    hsm.ward(["keygen", "--pkcs11", uri, "--output", s(&hsm.path("test-release"))])
        .expect(0);
    let art = hsm.path("acme-tool.bin");
    std::fs::write(&art, b"acme tool").unwrap();
    hsm.ward(["sign", "--pkcs11", uri, s(&art)]).expect(0);
    let policy = hsm.path("ward.toml");
    std::fs::write(
        &policy,
        format!(
            r#"[[scope]]
packages = ["generic:acme-*"]
require_hardware_keys = true
keys = [{{ path = "test-release.pub", hardware = {{ registered_by = "test operator", pkcs11_uri = "{uri}" }} }}]
"#
        ),
    )
    .unwrap();
    hsm.ward(["verify", s(&art), "--policy", s(&policy)]).expect(0);
}

/// Issue 15: a key on a token rotates to a new one like a key file does;
/// the rotation statement carries the token's signature and the new key's,
/// and a policy following the old key reads the chain.
#[test]
fn pkcs11_a_token_key_rotates_to_a_new_key() {
    let Some(hsm) = softhsm("ward-test-rotate") else { return };
    let uri = "pkcs11:token=ward-test-rotate;object=test-old";
    let old = hsm.path("test-old");
    hsm.ward(["keygen", "--pkcs11", uri, "--output", s(&old)]).expect(0);
    let new = hsm.path("test-new");
    hsm.ward(["keygen", "--output", s(&new)]).expect(0);
    let rotations = hsm.path("rotations");
    let run = hsm.ward([
        "keys",
        "rotate",
        "--old-pkcs11",
        uri,
        "--new",
        &format!("{}.key", new.display()),
        "--at",
        "2026-12-01T00:00:00Z",
        "--out-dir",
        s(&rotations),
    ]);
    run.expect(0);
    assert!(run.stdout.contains("signed by both keys"), "{}", run.all());
    let file = std::fs::read_dir(&rotations).unwrap().next().unwrap().unwrap().path();
    let statement: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(statement["signatures"].as_array().unwrap().len(), 2);
    std::fs::write(
        hsm.path("ward.toml"),
        "[[scope]]\npackages = [\"generic:acme-*\"]\nkeys = [{ path = \"test-old.pub\", rotations = \"rotations\" }]\n",
    )
    .unwrap();
    hsm.ward(["policy", "check", s(&hsm.path("ward.toml"))]).expect(0);
    // A wrong PIN: a clear error, exit 2, nothing written.
    let bad = run_with_pin(
        &hsm,
        "wrong-pin",
        uri,
        &format!("{}.key", new.display()),
        &hsm.path("rot2"),
    );
    bad.expect(2);
    assert!(
        !bad.all().contains("wrong-pin"),
        "the PIN is never shown: {}",
        bad.all()
    );
    assert!(!hsm.path("rot2").exists() || std::fs::read_dir(hsm.path("rot2")).unwrap().next().is_none());
}

fn run_with_pin(hsm: &SoftHsm, pin: &str, uri: &str, new: &str, out: &Path) -> Run {
    run(hsm.command().env("WARD_PKCS11_PIN", pin).args([
        "keys",
        "rotate",
        "--old-pkcs11",
        uri,
        "--new",
        new,
        "--out-dir",
        s(out),
    ]))
}
