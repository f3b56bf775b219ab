//! Scopes that require hardware-backed keys: only keys the policy registers
//! (a `hardware` table in the key's entry) count; a trusted key that is not
//! registered is refused as `key-not-hardware-backed`; a registration
//! without who made it, with a PIN, or a scope that cannot be satisfied is
//! refused when the policy loads. (The keys here are key files: the rule is
//! about the policy's registration, which is what ward can check; the
//! SoftHSM2 test in pkcs11.rs registers a key made on a token.)

use crate::common::{Publisher, Run, TestContext};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Two publishers' keys in the test's directory: `test-hw.pub` (to be
/// registered) and `test-soft.pub`; ward runs in the test's context.
struct Keys {
    hw: Publisher,
    soft: Publisher,
    ctx: TestContext,
}

fn keys() -> Keys {
    let hw = Publisher::new("ecdsa-p256");
    let soft = Publisher::new("ed25519");
    let ctx = TestContext::new();
    std::fs::copy(&hw.public, ctx.path("test-hw.pub")).unwrap();
    std::fs::copy(&soft.public, ctx.path("test-soft.pub")).unwrap();
    Keys { hw, soft, ctx }
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

/// Signs `name` with `signer`'s key and verifies it under `policy`, in
/// the keys' context.
fn verify(k: &Keys, signer: &Publisher, policy: &str, name: &str) -> Run {
    let art = k.ctx.path(name);
    std::fs::write(&art, format!("{name} bytes")).unwrap();
    k.ctx.ward(["sign", "--key", s(&signer.key), s(&art)]).expect(0);
    let policy_path = k.ctx.path("ward.toml");
    std::fs::write(&policy_path, policy).unwrap();
    k.ctx.ward(["verify", s(&art), "--policy", s(&policy_path)])
}

#[test]
fn a_scope_requiring_hardware_keys_counts_registered_keys_only() {
    let k = keys();
    assert!(POLICY.contains(HW_ENTRY));
    // The registered key: allowed.
    verify(&k, &k.hw, POLICY, "acme-a.bin").expect(0);
    // A key the scope trusts, not registered: refused, with the rule's line.
    let run = verify(&k, &k.soft, POLICY, "acme-b.bin");
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
    verify(&k, &k.soft, &relaxed, "acme-c.bin").expect(0);
    // In warn mode the refusal is a warning, like other policy rules.
    let warn = POLICY.replace("require_hardware_keys", "mode = \"warn\"\nrequire_hardware_keys");
    let run = verify(&k, &k.soft, &warn, "acme-d.bin");
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
        let run = verify(&k, &k.hw, &policy, "acme-x.bin");
        run.expect(2);
        assert!(run.stderr.contains(says), "{says}:\n{}", run.stderr);
    }
    // `ward policy check` says the same.
    let bad = k.ctx.path("bad.toml");
    std::fs::write(
        &bad,
        POLICY.replace("object=release", "object=release?pin-source=file:/pin"),
    )
    .unwrap();
    let run = k.ctx.ward(["policy", "check", s(&bad)]);
    run.expect(2);
    assert!(run.all().contains("PIN"), "{}", run.all());
}
