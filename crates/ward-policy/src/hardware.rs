//! Keys registered as hardware-backed, and scopes that require them.
//!
//! A `keys` entry may be a table whose `hardware` table registers the key
//! as living on a token (an HSM, a smart card): who registered it, and
//! optionally the token's PKCS#11 URI and a note. A scope with
//! `require_hardware_keys = true` counts only signatures by keys registered
//! so; a signature by another key the scope trusts is refused with
//! [`ReasonCode::KeyNotHardwareBacked`] when the threshold is not met
//! without it.
//!
//! What this proves: that the key which signed is one the policy's author
//! *registered* as hardware-backed. A signature alone cannot show where its
//! key lives, and ward checks no key attestation (a token's certificate
//! that a key was generated inside it), so the registration is the
//! operator's statement, and `registered_by` names who made it. The policy
//! refuses a PIN in `pkcs11_uri`: a policy is read by everyone.

use crate::model::{HardwareKey, Scope};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;
use ward_core::ReasonCode;
use ward_verify::SignerIdentity;

/// A `keys` entry as written: `"path.pub"`, or
/// `{ path = "path.pub", hardware = { registered_by = "…", pkcs11_uri = "…", note = "…" } }`,
/// optionally with a lifetime (`valid_from`, `valid_until`, `revoked_at`:
/// RFC 3339 times) and `rotations = "DIR"` ([`crate::lifetime`], [`crate::rotation`]).
#[derive(Debug, Default)]
pub(crate) struct RawKey {
    pub path: String,
    pub hardware: Option<RawHardware>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub revoked_at: Option<String>,
    pub rotations: Option<String>,
}

/// The `hardware` table of a key entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHardware {
    pub registered_by: String,
    #[serde(default)]
    pub pkcs11_uri: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyTable {
    path: String,
    #[serde(default)]
    hardware: Option<RawHardware>,
    #[serde(default)]
    valid_from: Option<String>,
    #[serde(default)]
    valid_until: Option<String>,
    #[serde(default)]
    revoked_at: Option<String>,
    #[serde(default)]
    rotations: Option<String>,
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key file path, or a table { path = \"…\", hardware = { registered_by = \"…\" }, valid_from = \"…\", valid_until = \"…\", revoked_at = \"…\", rotations = \"DIR\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawKey, E> {
                Ok(RawKey {
                    path: v.to_string(),
                    ..RawKey::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawKey, A::Error> {
                let t = RawKeyTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawKey {
                    path: t.path,
                    hardware: t.hardware,
                    valid_from: t.valid_from,
                    valid_until: t.valid_until,
                    revoked_at: t.revoked_at,
                    rotations: t.rotations,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Checks a registration; the message says what is wrong.
pub(crate) fn registration(raw: &RawHardware, fingerprint: String, line: usize) -> Result<HardwareKey, String> {
    if raw.registered_by.trim().is_empty() {
        return Err("hardware.registered_by must name who registered the key as hardware-backed".into());
    }
    if let Some(uri) = &raw.pkcs11_uri {
        if !uri.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("pkcs11:")) {
            return Err(format!("hardware.pkcs11_uri {uri:?} is not a pkcs11: URI"));
        }
        let lower = uri.to_ascii_lowercase();
        if lower.contains("pin-value") || lower.contains("pin-source") {
            return Err(
                "hardware.pkcs11_uri must not carry a PIN (pin-value, pin-source): a policy is not a secret".into(),
            );
        }
    }
    Ok(HardwareKey {
        fingerprint,
        registered_by: raw.registered_by.clone(),
        pkcs11_uri: raw.pkcs11_uri.clone(),
        note: raw.note.clone(),
        line,
    })
}

/// What is wrong with a scope that requires hardware-backed keys, if anything:
/// keyless signers listed, or fewer registered keys than the threshold.
pub(crate) fn scope_problem(signers: usize, registered: usize, threshold: u32) -> Option<String> {
    if signers > 0 {
        return Some(
            "require_hardware_keys: a scope that requires hardware-backed keys cannot list keyless `signers` (their keys are made for one signature and never registered); list registered keys only".into(),
        );
    }
    if registered < threshold.max(1) as usize {
        return Some(format!(
            "require_hardware_keys: {registered} key(s) registered as hardware-backed (a `hardware` table in the key's entry), and the threshold needs {}",
            threshold.max(1)
        ));
    }
    None
}

/// The registration of a signer in the scope, if it is a registered key.
pub(crate) fn registered<'s>(scope: &'s Scope, signer: &SignerIdentity) -> Option<&'s HardwareKey> {
    match signer {
        SignerIdentity::Key { fingerprint, .. } => scope.hardware_keys.iter().find(|h| h.fingerprint == *fingerprint),
        SignerIdentity::Keyless { .. } => None,
    }
}

/// For a scope that requires hardware-backed keys: the reason a set of
/// trusted signers falls short because some are not registered, if so.
/// `counted` is how many distinct registered keys signed; `others` the
/// trusted signers that are not registered.
pub(crate) fn shortfall(scope: &Scope, counted: usize, others: &[String]) -> Option<(ReasonCode, String)> {
    scope.require_hardware_keys?;
    if others.is_empty() || counted >= scope.threshold.value as usize {
        return None;
    }
    Some((
        ReasonCode::KeyNotHardwareBacked,
        format!(
            "signed by {}, which the scope trusts but which is not registered as hardware-backed, and the scope requires hardware-backed keys (require_hardware_keys): {counted} signature(s) by registered keys, threshold {}",
            others.join(", "),
            scope.threshold.value
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        keys: Vec<RawKey>,
    }

    #[test]
    fn a_key_entry_is_a_path_or_a_table() {
        let d: Doc = toml::from_str(
            r#"keys = ["a.pub", { path = "b.pub", hardware = { registered_by = "alice", pkcs11_uri = "pkcs11:token=t;object=k" } }]"#,
        )
        .unwrap();
        assert_eq!(d.keys[0].path, "a.pub");
        assert!(d.keys[0].hardware.is_none());
        assert_eq!(d.keys[1].hardware.as_ref().unwrap().registered_by, "alice");
        // Unknown fields are refused with the field named, including an attestation ward cannot check.
        let e = toml::from_str::<Doc>(
            r#"keys = [{ path = "b.pub", hardware = { registered_by = "a", attested_by = "x" } }]"#,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("attested_by"), "{e}");
        assert!(toml::from_str::<Doc>(r#"keys = [{ path = "b.pub", hardware_backed = true }]"#).is_err());
    }

    #[test]
    fn a_registration_names_who_and_carries_no_pin() {
        let ok = RawHardware {
            registered_by: "alice@example.com".into(),
            pkcs11_uri: Some("pkcs11:token=release;object=ward".into()),
            note: None,
        };
        assert!(registration(&ok, "sha256:00".into(), 1).is_ok());
        for (who, uri, says) in [
            ("", None, "registered_by"),
            ("a", Some("token=x"), "not a pkcs11: URI"),
            ("a", Some("pkcs11:token=x?pin-value=1234"), "PIN"),
            ("a", Some("pkcs11:token=x?pin-source=file:/p"), "PIN"),
        ] {
            let raw = RawHardware {
                registered_by: who.into(),
                pkcs11_uri: uri.map(String::from),
                note: None,
            };
            let e = registration(&raw, "sha256:00".into(), 1).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn a_scope_requiring_hardware_lists_enough_registered_keys_and_no_keyless_signers() {
        assert!(scope_problem(0, 1, 1).is_none());
        assert!(scope_problem(0, 2, 2).is_none());
        assert!(scope_problem(1, 1, 1).unwrap().contains("keyless"));
        assert!(scope_problem(0, 1, 2).unwrap().contains("threshold needs 2"));
        assert!(scope_problem(0, 0, 1).is_some());
    }
}
