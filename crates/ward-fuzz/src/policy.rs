//! Targets for ward-policy: the TOML policy loader (with this crate's
//! `assets/` as the policy's directory, so that `keys`, `rego` and `vex`
//! entries can name real files) and the Rego loader.
//!
//! Rego *evaluation* is not fuzzed here: evaluating attacker-written Rego
//! is finding 11/12 of issue 10 (recursion and builtins that exhaust the
//! stack or memory), owned by the policy engine's fix.

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
