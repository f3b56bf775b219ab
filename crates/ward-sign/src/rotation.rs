//! Writing key rotation and revocation statements (`ward keys rotate`,
//! `ward keys revoke`).
//!
//! Each is an in-toto Statement v1 in a bare DSSE envelope (JSON). The
//! format, and the rules for reading one (a rotation must verify under
//! both its keys), are documented with the reader,
//! `ward_policy::rotation`, and in docs/trust.md; the predicate types here
//! are the same strings, and ward-cli's tests read back what this writes.
//! The multi-signature envelope is written by hand (no maintained crate
//! writes DSSE with these key types); signatures are made by
//! [`SigningKey::sign`] over the DSSE pre-authentication encoding.

use crate::{SignError, SigningKey, b64, fingerprint};
use serde_json::{Value, json};
use sha2::Digest as _;

/// The predicate type of a rotation statement.
pub const ROTATION_PREDICATE: &str = "https://ward.invalid/attestation/key-rotation/v1";
/// The predicate type of a revocation statement.
pub const REVOCATION_PREDICATE: &str = "https://ward.invalid/attestation/key-revocation/v1";

fn key_json(spki_der: &[u8]) -> Value {
    json!({ "fingerprint": fingerprint(spki_der), "rawBytes": b64(spki_der) })
}

fn subject(name: &str, spki_der: &[u8]) -> Value {
    json!({ "name": name, "digest": { "sha256": crate::hex_lower(&sha2::Sha256::digest(spki_der)) } })
}

/// Signs `statement` with every key in `signers` into one DSSE envelope.
fn envelope(statement: &Value, signers: &[&SigningKey]) -> Result<Value, SignError> {
    let payload = serde_json::to_vec(statement).map_err(|e| SignError::Predicate(e.to_string()))?;
    let pae = ward_verify::dsse::pae(ward_verify::dsse::IN_TOTO_PAYLOAD_TYPE, &payload);
    let mut signatures = Vec::new();
    for key in signers {
        signatures.push(json!({ "keyid": key.fingerprint(), "sig": b64(&key.sign(&pae)?) }));
    }
    Ok(json!({
        "payloadType": ward_verify::dsse::IN_TOTO_PAYLOAD_TYPE,
        "payload": b64(&payload),
        "signatures": signatures
    }))
}

/// What a rotation says besides its two keys.
#[derive(Clone, Debug, Default)]
pub struct RotationTerms {
    /// When the new key takes over (RFC 3339).
    pub rotated_at: String,
    /// Until when the old key's signatures still count (RFC 3339); `None`: `rotated_at`.
    pub old_key_valid_until: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

/// A rotation statement from `old` to `new`, signed by both.
pub fn rotation_statement(old: &SigningKey, new: &SigningKey, terms: &RotationTerms) -> Result<Value, SignError> {
    if old.fingerprint() == new.fingerprint() {
        return Err(SignError::Key(
            "the old and the new key are the same key; a rotation needs a new key".into(),
        ));
    }
    let mut predicate = json!({
        "oldKey": key_json(old.public_key_der()),
        "newKey": key_json(new.public_key_der()),
        "rotatedAt": terms.rotated_at,
    });
    if let Some(until) = &terms.old_key_valid_until {
        predicate["oldKeyValidUntil"] = json!(until);
    }
    if let Some(reason) = &terms.reason {
        predicate["reason"] = json!(reason);
    }
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [subject("old-key", old.public_key_der()), subject("new-key", new.public_key_der())],
        "predicateType": ROTATION_PREDICATE,
        "predicate": predicate
    });
    envelope(&statement, &[old, new])
}

/// A revocation statement for the key whose DER SubjectPublicKeyInfo is
/// `revoked_spki`, from `revoked_at` (RFC 3339), signed by `signers`
/// (possibly none: a lost key is revoked without its signature).
pub fn revocation_statement(
    revoked_spki: &[u8],
    revoked_at: &str,
    reason: Option<&str>,
    signers: &[&SigningKey],
) -> Result<Value, SignError> {
    let mut predicate = json!({ "key": key_json(revoked_spki), "revokedAt": revoked_at });
    if let Some(reason) = reason {
        predicate["reason"] = json!(reason);
    }
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [subject("revoked-key", revoked_spki)],
        "predicateType": REVOCATION_PREDICATE,
        "predicate": predicate
    });
    envelope(&statement, signers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_carries_both_signatures_over_one_statement() {
        let old = SigningKey::from_pem(
            &crate::keygen(crate::Algorithm::Ed25519, None).unwrap().private_pem,
            None,
        )
        .unwrap();
        let new = SigningKey::from_pem(
            &crate::keygen(crate::Algorithm::EcdsaP256, None).unwrap().private_pem,
            None,
        )
        .unwrap();
        let terms = RotationTerms {
            rotated_at: "2026-12-02T00:00:00Z".into(),
            ..RotationTerms::default()
        };
        let env = rotation_statement(&old, &new, &terms).unwrap();
        let envelope = ward_verify::dsse::Envelope::from_value(&env).unwrap();
        let keys = [
            ward_verify::PublicKey::parse(old.public_key_der(), "old").unwrap(),
            ward_verify::PublicKey::parse(new.public_key_der(), "new").unwrap(),
        ];
        let signed = envelope.verify(&keys).unwrap();
        assert_eq!(signed.len(), 2, "both keys sign");
        assert!(rotation_statement(&old, &old, &terms).is_err());
    }
}
