//! Signing for targets whose parser runs only after a signature verifies
//! (rebuild attestations and links, key rotation statements): the target
//! signs what the fuzzer wrote with a fixed test key, so mutations of the
//! signed content reach the reader instead of stopping at the signature.
//!
//! The keys are Ed25519 note keys ([`ward_ledger::NoteSigner`], the only
//! signer among this crate's dependencies): the Tessera test log's
//! published test key, and a second key derived from a public string
//! (SHA-256 of `ward-fuzz rotation test key 2` as the seed) for
//! statements that need two signers. Both are test-only; their public
//! halves are turned into the SubjectPublicKeyInfo that ward-verify reads.

use base64::Engine as _;
use ward_ledger::NoteSigner;
use ward_verify::PublicKey;
use ward_verify::dsse::{IN_TOTO_PAYLOAD_TYPE, pae};

/// The first fuzz key: the Tessera test log's (see [`crate::ledger::TEST_SKEY`]).
pub const KEY_A: &str = crate::ledger::TEST_SKEY;
/// The second fuzz key.
pub const KEY_B: &str = "PRIVATE+KEY+ward-fuzz/rotation-new+2976987a+AdY+Yi3EGFWee697AVnAc6oao0sY6NKXZypVOuzLdolS";

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// A fuzz signing key and its public key as ward-verify reads it.
pub struct TestKey {
    signer: NoteSigner,
    /// The public key.
    pub public: PublicKey,
}

impl TestKey {
    /// Parses a note private key.
    pub fn parse(skey: &str) -> Option<Self> {
        let signer = NoteSigner::parse(skey).ok()?;
        let vkey = signer.verifier().to_vkey();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(vkey.splitn(3, '+').nth(2)?)
            .ok()?;
        let (_alg, key) = raw.split_first()?;
        let mut der = ED25519_SPKI_PREFIX.to_vec();
        der.extend_from_slice(key);
        let public = PublicKey::parse(&der, signer.name().to_string()).ok()?;
        Some(Self { signer, public })
    }

    /// The SubjectPublicKeyInfo DER of the public key.
    pub fn spki(&self) -> &[u8] {
        self.public.der()
    }

    /// Signs raw bytes.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signer.sign_bytes(message)
    }
}

thread_local! {
    static KEYS: Option<(TestKey, TestKey)> = TestKey::parse(KEY_A).zip(TestKey::parse(KEY_B));
}

/// Runs `f` with the two fuzz keys (nothing when they cannot be built).
pub fn with_keys<R>(f: impl FnOnce(&TestKey, &TestKey) -> R) -> Option<R> {
    KEYS.with(|k| k.as_ref().map(|(a, b)| f(a, b)))
}

/// A DSSE envelope (JSON) around `payload` of type in-toto, signed by `signers`.
pub fn envelope(payload: &[u8], signers: &[&TestKey]) -> serde_json::Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    let message = pae(IN_TOTO_PAYLOAD_TYPE, payload);
    let signatures: Vec<serde_json::Value> = signers
        .iter()
        .map(|k| serde_json::json!({"keyid": "", "sig": b64.encode(k.sign(&message))}))
        .collect();
    serde_json::json!({
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": b64.encode(payload),
        "signatures": signatures,
    })
}

/// Whether a JSON value is already a DSSE envelope (then it is read as it is).
pub fn is_envelope(v: &serde_json::Value) -> bool {
    v.get("payloadType").is_some() || v.get("payload").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_fuzz_keys_are_usable() {
        for skey in [KEY_A, KEY_B] {
            let signer = NoteSigner::parse(skey).unwrap_or_else(|e| panic!("{skey}: {e}"));
            let vkey = signer.verifier().to_vkey();
            let raw = base64::engine::general_purpose::STANDARD
                .decode(vkey.splitn(3, '+').nth(2).unwrap())
                .unwrap();
            let mut der = ED25519_SPKI_PREFIX.to_vec();
            der.extend_from_slice(&raw[1..]);
            PublicKey::parse(&der, "k").unwrap_or_else(|e| panic!("{vkey}: {e}"));
            assert!(TestKey::parse(skey).is_some());
        }
    }
}
