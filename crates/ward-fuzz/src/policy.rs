//! Targets for ward-policy: the TOML policy loader (with this crate's
//! `assets/` as the policy's directory, so that `keys`, `rego` and `vex`
//! entries can name real files) and the Rego loader.
//!
//! `rego_eval` also evaluates the module (`data.ward.deny`) over a fixed
//! input, under the engine's own time, nesting, stack and memory limits.

use crate::scratch;
use ward_core::PackageId;
use ward_policy::{Policy, RegoRules};

/// A policy file, as `ward policy check` and `--policy` read it.
pub fn policy_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(policy) = Policy::parse(text, "fuzz/ward.toml", scratch::assets()) else {
        return;
    };
    for purl in [
        "pkg:npm/sigstore@2.3.1",
        "pkg:pypi/example-x@1.0",
        "pkg:cargo/serde@1.0.0",
    ] {
        if let Ok(id) = purl.parse::<PackageId>() {
            for scope in policy.scopes_for(&id) {
                let _ = (scope.has_trust(), scope.matches(&id));
            }
        }
    }
}

/// A Rego module, loaded (parsed and compiled) as a scope's rule file.
pub fn rego(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = RegoRules::load(&[("fuzz.rego".to_string(), text.to_string())]);
}

/// A Rego module, loaded and evaluated (`data.ward.deny`) over a fixed
/// decision input.
pub fn rego_eval(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(rules) = RegoRules::load(&[("fuzz.rego".to_string(), text.to_string())]) else {
        return;
    };
    let input = serde_json::json!({
        "package": {"purl": "pkg:npm/fuzz-pkg@1.0.0", "name": "fuzz-pkg", "version": "1.0.0", "ecosystem": "npm"},
        "artifact": {"file_name": "fuzz-pkg-1.0.0.tgz", "sha256": "00", "size": 1},
        "facts": [{"kind": "signature", "signer": "https://github.com/acme/x/.github/workflows/release.yml@refs/tags/v1"}],
        "findings": [],
        "scope": {"name": "fuzz", "mode": "enforce"}
    });
    let _ = rules.deny_messages(&input);
}
