//! DSSE envelopes: parsing (standard and URL-safe base64), the
//! pre-authentication encoding exactly as the DSSE spec defines it, and
//! verification of bare envelopes with plain keys.
//!
//! Written here because no maintained crate implements DSSE with the
//! key types ward accepts; the signature arithmetic is aws-lc-rs through
//! `sigstore-crypto`. Envelopes inside Sigstore bundles are verified by
//! `sigstore-verify` instead.

use crate::VerifyError;
use crate::keys::{KeyKind, PublicKey};
use base64::Engine as _;
use serde::Deserialize;
use sigstore_verify::crypto::{SigningScheme, VerificationKey};
use sigstore_verify::types::{DerPublicKey, SignatureBytes};

/// The payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope with its payload decoded.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Envelope {
    /// The payload type.
    pub payload_type: String,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    /// The decoded signatures, with their optional key ids.
    pub signatures: Vec<(Option<String>, Vec<u8>)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelope {
    payload_type: String,
    payload: String,
    signatures: Vec<RawSignature>,
}

#[derive(Deserialize)]
struct RawSignature {
    #[serde(default)]
    keyid: Option<String>,
    sig: String,
}

/// Decodes standard or URL-safe base64, padded or not, as DSSE allows.
pub fn decode_base64(s: &str) -> Result<Vec<u8>, VerifyError> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s = s.trim();
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(s).ok())
        .ok_or_else(|| VerifyError::Malformed("invalid base64 in DSSE envelope".into()))
}

impl Envelope {
    /// Parses an envelope from its JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, VerifyError> {
        let raw: RawEnvelope = serde_json::from_value(value.clone())
            .map_err(|e| VerifyError::AttestationMalformed(format!("not a DSSE envelope: {e}")))?;
        let signatures = raw
            .signatures
            .iter()
            .map(|s| Ok((s.keyid.clone().filter(|k| !k.is_empty()), decode_base64(&s.sig)?)))
            .collect::<Result<Vec<_>, VerifyError>>()?;
        Ok(Self {
            payload_type: raw.payload_type,
            payload: decode_base64(&raw.payload)?,
            signatures,
        })
    }

    /// The pre-authentication encoding that signatures cover:
    /// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// Verifies the envelope with the given keys. Returns the fingerprints of
    /// the distinct keys that produced a valid signature; a signature that
    /// matches no key is ignored, but at least one must verify.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<Vec<String>, VerifyError> {
        if self.signatures.is_empty() {
            return Err(VerifyError::SignatureInvalid(
                "the DSSE envelope has no signatures".into(),
            ));
        }
        if keys.is_empty() {
            return Err(VerifyError::KeyNotTrusted(
                " (a bare DSSE envelope needs a trusted key: pass --key)".into(),
            ));
        }
        let message = self.pae();
        let mut verified: Vec<String> = Vec::new();
        for (_, sig) in &self.signatures {
            for key in keys {
                if verify_message(key, &message, sig) && !verified.iter().any(|f| f == key.fingerprint()) {
                    verified.push(key.fingerprint().to_string());
                }
            }
        }
        if verified.is_empty() {
            return Err(VerifyError::SignatureInvalid(format!(
                "none of the envelope's {} signature(s) verifies under the {} trusted key(s)",
                self.signatures.len(),
                keys.len()
            )));
        }
        Ok(verified)
    }
}

/// DSSE's pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The signature schemes tried for a key over a whole message.
pub(crate) fn message_schemes(kind: KeyKind) -> &'static [SigningScheme] {
    match kind {
        KeyKind::Ed25519 => &[SigningScheme::Ed25519],
        KeyKind::EcdsaP256 => &[SigningScheme::EcdsaP256Sha256],
        KeyKind::EcdsaP384 => &[SigningScheme::EcdsaP384Sha384, SigningScheme::EcdsaP384Sha256],
        KeyKind::Rsa(_) => &[
            SigningScheme::RsaPssSha256,
            SigningScheme::RsaPkcs1Sha256,
            SigningScheme::RsaPssSha384,
            SigningScheme::RsaPkcs1Sha384,
            SigningScheme::RsaPssSha512,
            SigningScheme::RsaPkcs1Sha512,
        ],
    }
}

/// Whether `sig` is a valid signature by `key` over `message`.
pub(crate) fn verify_message(key: &PublicKey, message: &[u8], sig: &[u8]) -> bool {
    let der = DerPublicKey::new(key.der().to_vec());
    let sig = SignatureBytes::new(sig.to_vec());
    message_schemes(key.kind()).iter().any(|scheme| {
        VerificationKey::from_der(&der, *scheme)
            .and_then(|k| k.verify(message, &sig))
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn both_base64_alphabets_decode() {
        assert_eq!(decode_base64("-_8").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_base64("+/8=").unwrap(), vec![0xfb, 0xff]);
        assert!(decode_base64("!!").is_err());
    }
}
