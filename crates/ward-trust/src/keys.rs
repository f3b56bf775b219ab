//! TUF public keys in securesystemslib's encodings, and signature checks.
//!
//! Supported: `ed25519` (hex public key), `ecdsa` / `ecdsa-sha2-nistp256` /
//! `ecdsa-sha2-nistp384` (PEM SubjectPublicKeyInfo, or hex: an uncompressed
//! point or a DER SubjectPublicKeyInfo; DER signatures), and `rsa` with
//! `rsassa-pss-sha256/384/512` or `rsa-pkcs1v15-sha256/384/512` (PEM).
//! Signatures are hex. All verification is done by aws-lc-rs.

use aws_lc_rs::signature::{self, VerificationAlgorithm};
use serde_json::Value;
use spki::der::Decode as _;

/// A public key a role may be signed with.
#[derive(Debug, Clone)]
pub struct PublicKey {
    algorithm: &'static dyn VerificationAlgorithm,
    /// The key in the form aws-lc-rs takes (raw point, raw Ed25519 key, or
    /// PKCS#1 RSAPublicKey DER). Two keys are the same key when these bytes
    /// and the algorithm agree, whatever their JSON encoding.
    bytes: Vec<u8>,
    scheme: String,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.scheme == other.scheme && self.bytes == other.bytes
    }
}
impl Eq for PublicKey {}

const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_RSA: &str = "1.2.840.113549.1.1.1";

impl PublicKey {
    /// Parses a key object `{"keytype", "scheme", "keyval": {"public"}}`.
    /// Unknown extra fields are allowed (they count for the key ID only).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let keytype = v.get("keytype").and_then(Value::as_str).ok_or("key without keytype")?;
        let scheme = v.get("scheme").and_then(Value::as_str).ok_or("key without scheme")?;
        let public = v
            .get("keyval")
            .and_then(|k| k.get("public"))
            .and_then(Value::as_str)
            .ok_or("key without keyval.public")?;
        let (algorithm, bytes): (&'static dyn VerificationAlgorithm, Vec<u8>) = match (keytype, scheme) {
            ("ed25519", "ed25519") => {
                let raw = hex::decode(public).map_err(|e| format!("ed25519 key: {e}"))?;
                if raw.len() != 32 {
                    return Err(format!("ed25519 key of {} bytes", raw.len()));
                }
                (&signature::ED25519, raw)
            }
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
                (&signature::ECDSA_P256_SHA256_ASN1, ec_point(public, OID_P256, 65)?)
            }
            ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => {
                (&signature::ECDSA_P384_SHA384_ASN1, ec_point(public, OID_P384, 97)?)
            }
            ("rsa", scheme) => {
                let alg: &'static dyn VerificationAlgorithm = match scheme {
                    "rsassa-pss-sha256" => &signature::RSA_PSS_2048_8192_SHA256,
                    "rsassa-pss-sha384" => &signature::RSA_PSS_2048_8192_SHA384,
                    "rsassa-pss-sha512" => &signature::RSA_PSS_2048_8192_SHA512,
                    "rsa-pkcs1v15-sha256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                    "rsa-pkcs1v15-sha384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                    "rsa-pkcs1v15-sha512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                    other => return Err(format!("unsupported rsa scheme {other:?}")),
                };
                let der = pem_spki(public)?;
                let (oid, _, key) = spki_parts(&der)?;
                if oid != OID_RSA {
                    return Err(format!("rsa key with algorithm {oid}"));
                }
                (alg, key)
            }
            (keytype, scheme) => return Err(format!("unsupported key type {keytype:?} with scheme {scheme:?}")),
        };
        Ok(PublicKey {
            algorithm,
            bytes,
            scheme: scheme.to_string(),
        })
    }

    /// Whether `sig_hex` is a valid signature by this key over `message`.
    /// A signature that is not hex (or empty) is simply not valid.
    pub fn verify(&self, message: &[u8], sig_hex: &str) -> bool {
        let Ok(sig) = hex::decode(sig_hex) else { return false };
        if sig.is_empty() {
            return false;
        }
        signature::UnparsedPublicKey::new(self.algorithm, &self.bytes)
            .verify(message, &sig)
            .is_ok()
    }
}

/// Decodes a PEM `PUBLIC KEY` block to its DER bytes.
fn pem_spki(public: &str) -> Result<Vec<u8>, String> {
    let (label, der) = pem_rfc7468::decode_vec(public.trim().as_bytes()).map_err(|e| format!("PEM key: {e}"))?;
    if label != "PUBLIC KEY" {
        return Err(format!("PEM label {label:?}, expected PUBLIC KEY"));
    }
    Ok(der)
}

/// The algorithm OID, its parameter OID (if an OID) and the key bits of a
/// DER SubjectPublicKeyInfo.
fn spki_parts(der: &[u8]) -> Result<(String, Option<String>, Vec<u8>), String> {
    let info = spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| format!("SubjectPublicKeyInfo: {e}"))?;
    let param = info
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<spki::ObjectIdentifier>().ok())
        .map(|o| o.to_string());
    let key = info
        .subject_public_key
        .as_bytes()
        .ok_or("key bits not a whole number of bytes")?
        .to_vec();
    Ok((info.algorithm.oid.to_string(), param, key))
}

/// An uncompressed EC point on the named curve, from PEM or hex.
fn ec_point(public: &str, curve: &str, point_len: usize) -> Result<Vec<u8>, String> {
    let trimmed = public.trim();
    let der = if trimmed.starts_with("-----BEGIN") {
        pem_spki(trimmed)?
    } else {
        let raw = hex::decode(trimmed).map_err(|e| format!("ecdsa key: neither PEM nor hex: {e}"))?;
        if raw.len() == point_len && raw.first() == Some(&4) {
            return Ok(raw);
        }
        raw
    };
    let (oid, param, key) = spki_parts(&der)?;
    if oid != OID_EC || param.as_deref() != Some(curve) {
        return Err(format!("ecdsa key on {param:?} ({oid}), expected curve {curve}"));
    }
    if key.len() != point_len {
        return Err(format!("ecdsa point of {} bytes", key.len()));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _};
    use serde_json::json;

    #[test]
    fn ecdsa_key_in_pem_and_hex_is_the_same_key() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let hex_key = PublicKey::from_json(&json!({"keytype": "ecdsa-sha2-nistp256", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": hex::encode(&point)}})).unwrap();
        // The same point as a DER SubjectPublicKeyInfo in PEM.
        let mut der = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        der.extend_from_slice(&point);
        let pem = pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &der).unwrap();
        let pem_key = PublicKey::from_json(
            &json!({"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": pem}}),
        )
        .unwrap();
        assert_eq!(hex_key, pem_key);
        let sig = pair.sign(&rng, b"message").unwrap();
        assert!(pem_key.verify(b"message", &hex::encode(sig.as_ref())));
        assert!(!pem_key.verify(b"other", &hex::encode(sig.as_ref())));
        assert!(!pem_key.verify(b"message", ""));
        assert!(!pem_key.verify(b"message", "zz"));
    }

    #[test]
    fn unsupported_and_mismatched_keys_are_refused() {
        assert!(PublicKey::from_json(&json!({"keytype": "dsa", "scheme": "dsa", "keyval": {"public": "00"}})).is_err());
        assert!(
            PublicKey::from_json(&json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "0011"}}))
                .is_err()
        );
        assert!(
            PublicKey::from_json(
                &json!({"keytype": "ed25519", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": "00"}})
            )
            .is_err()
        );
    }
}
