//! Scopes that require hardware-backed keys: only keys the policy registers
//! (a `hardware` table in the key's entry) count; a trusted key that is not
//! registered is refused as `key-not-hardware-backed`; a registration
//! without who made it, with a PIN, or a scope that cannot be satisfied is
//! refused when the policy loads. (The keys here are key files: the rule is
//! about the policy's registration, which is what ward can check; the
//! SoftHSM2 test in pkcs11.rs registers a key made on a token.)

use crate::common::{Publisher, Run};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Two publishers' keys in one directory: `test-hw.pub` (to be registered) and `test-soft.pub`.
struct Keys {
    hw: Publisher,
    soft: Publisher,
    dir: tempfile::TempDir,
}

fn keys() -> Keys {
    let hw = Publisher::new("ecdsa-p256");
    let soft = Publisher::new("ed25519");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&hw.public, dir.path().join("test-hw.pub")).unwrap();
    std::fs::copy(&soft.public, dir.path().join("test-soft.pub")).unwrap();
    Keys { hw, soft, dir }
}

const POLICY: &str = r#"[[scope]]
name = "release"
packages = ["generic:acme-*"]
require_hardware_keys = true
keys = [
  { path = "test-hw.pub", hardware = { registered_by = "test operator", pkcs11_uri = "pkcs11:token=test;object=release", note = "test key, not on a token" } },
  "test-soft.pub",
]
"#;

/// The registered entry of [`POLICY`].
const HW_ENTRY: &str = r#"{ path = "test-hw.pub", hardware = { registered_by = "test operator", pkcs11_uri = "pkcs11:token=test;object=release", note = "test key, not on a token" } }"#;

/// Runs ward with `data` as its data directory.
fn ward_in<const N: usize>(data: &Path, args: [&str; N]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ward"))
        .env("WARD_DATA_DIR", data)
        .args(args)
        .output()
        .expect("run ward");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Signs `name` with `signer`'s key and verifies it under `policy`, with
/// ward's data directory in `dir`.
fn verify(signer: &Publisher, dir: &Path, policy: &str, name: &str) -> Run {
    let data = dir.join("data");
    let art = dir.join(name);
    std::fs::write(&art, format!("{name} bytes")).unwrap();
    ward_in(&data, ["sign", "--key", s(&signer.key), s(&art)]).expect(0);
    let policy_path = dir.join("ward.toml");
    std::fs::write(&policy_path, policy).unwrap();
    ward_in(&data, ["verify", s(&art), "--policy", s(&policy_path)])
}

#[test]
fn a_scope_requiring_hardware_keys_counts_registered_keys_only() {
    let k = keys();
    assert!(POLICY.contains(HW_ENTRY));
    // The registered key: allowed.
    verify(&k.hw, k.dir.path(), POLICY, "acme-a.bin").expect(0);
    // A key the scope trusts, not registered: refused, with the rule's line.
    let run = verify(&k.soft, k.dir.path(), POLICY, "acme-b.bin");
    run.expect(1).reason("key-not-hardware-backed");
    assert!(
        run.all().contains("ward.toml:4"),
        "names require_hardware_keys' line:\n{}",
        run.all()
    );
    assert!(
        !run.all().contains("[signer-not-trusted]"),
        "one reason, not two:\n{}",
        run.all()
    );
    // The same policy without the requirement allows it: the rule is what denied.
    let relaxed = POLICY.replace("require_hardware_keys = true\n", "");
    verify(&k.soft, k.dir.path(), &relaxed, "acme-c.bin").expect(0);
    // In warn mode the refusal is a warning, like other policy rules.
    let warn = POLICY.replace("require_hardware_keys", "mode = \"warn\"\nrequire_hardware_keys");
    let run = verify(&k.soft, k.dir.path(), &warn, "acme-d.bin");
    run.expect(0).reason("key-not-hardware-backed");
}

#[test]
fn a_hardware_registration_that_cannot_hold_is_refused_at_load() {
    let k = keys();
    for (policy, says) in [
        // Nobody registered it.
        (
            POLICY.replace("registered_by = \"test operator\"", "registered_by = \"\""),
            "registered_by",
        ),
        // A PIN in a policy.
        (
            POLICY.replace("object=release", "object=release?pin-value=1234"),
            "PIN",
        ),
        // A key attestation ward would not check.
        (
            POLICY.replace("note = ", "attested_by = \"yubico\", note = "),
            "attested_by",
        ),
        // No registered key to satisfy the requirement.
        (POLICY.replace(HW_ENTRY, "\"test-hw.pub\""), "require_hardware_keys"),
        // Keyless signers cannot be registered.
        (
            POLICY.replace(
                "require_hardware_keys = true\n",
                "require_hardware_keys = true\nsigners = [{ issuer = \"https://token.actions.githubusercontent.com\", identity = \"https://github.com/acme/x/.github/workflows/r.yml@refs/heads/main\" }]\n",
            ),
            "keyless",
        ),
    ] {
        let run = verify(&k.hw, k.dir.path(), &policy, "acme-x.bin");
        run.expect(2);
        assert!(run.stderr.contains(says), "{says}:\n{}", run.stderr);
    }
    // `ward policy check` says the same.
    let bad = k.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        POLICY.replace("object=release", "object=release?pin-source=file:/pin"),
    )
    .unwrap();
    let run = ward_in(&k.dir.path().join("data"), ["policy", "check", s(&bad)]);
    run.expect(2);
    assert!(run.all().contains("PIN"), "{}", run.all());
}
