//! The publisher side: `ward keygen`, `ward sign`, `ward attest`.
//!
//! Keys are Ed25519 or ECDSA P-256, stored as PKCS#8 PEM (optionally
//! encrypted with a passphrase: PBES2, scrypt and AES-256-CBC, by the
//! `pkcs8` crate). Signatures are made by aws-lc-rs. What this crate writes
//! is a Sigstore bundle v0.3 with a public-key hint and no transparency-log
//! entry (signing is offline), which `ward verify --key` accepts; the
//! decision records that no log proof exists.
//!
//! A key can also live on a PKCS#11 token ([`pkcs11`]): generated there,
//! used there, only its public key exported; the bundles are the same.

#![forbid(unsafe_code)]

pub mod pkcs11;
pub mod rotation;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::Path;
use zeroize::Zeroizing;

/// Largest artifact signed with Ed25519 (which signs the whole message).
pub const MAX_ED25519_MESSAGE: u64 = ward_verify::keys::MAX_ED25519_MESSAGE;

/// Key algorithms `ward keygen` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// Ed25519.
    Ed25519,
    /// ECDSA over P-256 with SHA-256.
    EcdsaP256,
}

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An input file was refused or unreadable (not a regular file, too large).
    #[error(transparent)]
    Input(#[from] ward_input::InputError),
    /// The private key is unusable.
    #[error("unusable private key: {0}")]
    Key(String),
    /// The key is encrypted and no passphrase was given, or it was wrong.
    #[error("the private key is encrypted: {0}")]
    Passphrase(String),
    /// The predicate file is not JSON.
    #[error("predicate is not JSON: {0}")]
    Predicate(String),
    /// The artifact is too large for the algorithm.
    #[error("{0}")]
    TooLarge(String),
    /// A key on a PKCS#11 token could not be used.
    #[error(transparent)]
    Pkcs11(#[from] pkcs11::Pkcs11Error),
}

/// A new key pair as PEM text.
pub struct GeneratedKey {
    /// PKCS#8 private key (`PRIVATE KEY` or `ENCRYPTED PRIVATE KEY`).
    pub private_pem: Zeroizing<String>,
    /// SubjectPublicKeyInfo (`PUBLIC KEY`).
    pub public_pem: String,
    /// `sha256:` fingerprint of the public key, as ward names keys.
    pub fingerprint: String,
}

pub(crate) fn pem(tag: &str, der: &[u8]) -> Result<String, SignError> {
    pkcs8::der::pem::encode_string(tag, pkcs8::LineEnding::LF, der).map_err(|e| SignError::Key(e.to_string()))
}

/// Generates a key pair, encrypting the private key when a passphrase is given.
pub fn keygen(algorithm: Algorithm, passphrase: Option<&str>) -> Result<GeneratedKey, SignError> {
    let rng = SystemRandom::new();
    let pkcs8_doc = match algorithm {
        Algorithm::Ed25519 => Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| SignError::Key(e.to_string()))?,
        Algorithm::EcdsaP256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|e| SignError::Key(e.to_string()))?,
    };
    let key = SigningKey::from_pkcs8(pkcs8_doc.as_ref())?;
    let private_pem = match passphrase {
        None => Zeroizing::new(pem("PRIVATE KEY", pkcs8_doc.as_ref())?),
        Some(pass) => {
            let info =
                pkcs8::PrivateKeyInfo::try_from(pkcs8_doc.as_ref()).map_err(|e| SignError::Key(e.to_string()))?;
            let encrypted = info
                .encrypt(pkcs8::rand_core::OsRng, pass.as_bytes())
                .map_err(|e| SignError::Key(e.to_string()))?;
            Zeroizing::new(pem("ENCRYPTED PRIVATE KEY", encrypted.as_bytes())?)
        }
    };
    Ok(GeneratedKey {
        private_pem,
        public_pem: pem("PUBLIC KEY", &key.spki_der)?,
        fingerprint: key.fingerprint(),
    })
}

enum Inner {
    Ed25519(Ed25519KeyPair),
    EcdsaP256(EcdsaKeyPair),
    /// On a PKCS#11 token: signatures are made there.
    Token(Box<pkcs11::TokenKey>),
}

/// A private key ready to sign.
pub struct SigningKey {
    inner: Inner,
    spki_der: Vec<u8>,
}

pub(crate) const ED25519_SPKI_PREFIX: [u8; 12] =
    [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
pub(crate) const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

impl SigningKey {
    /// Reads a PKCS#8 PEM private key, decrypting it with `passphrase` when it is encrypted.
    pub fn from_pem(text: &str, passphrase: Option<&str>) -> Result<Self, SignError> {
        let (tag, der) =
            pkcs8::der::pem::decode_vec(text.trim().as_bytes()).map_err(|e| SignError::Key(format!("not PEM: {e}")))?;
        let der = Zeroizing::new(der);
        match tag {
            "PRIVATE KEY" => Self::from_pkcs8(&der),
            "ENCRYPTED PRIVATE KEY" => {
                let pass = passphrase.ok_or_else(|| {
                    SignError::Passphrase("give the passphrase (--passphrase-env or --passphrase-file)".into())
                })?;
                let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
                    .map_err(|e| SignError::Key(e.to_string()))?;
                let plain = encrypted
                    .decrypt(pass.as_bytes())
                    .map_err(|e| SignError::Passphrase(format!("wrong passphrase ({e})")))?;
                Self::from_pkcs8(plain.as_bytes())
            }
            other => Err(SignError::Key(format!(
                "PEM block {other:?} is not a PKCS#8 private key"
            ))),
        }
    }

    /// Opens a key on a PKCS#11 token (see [`pkcs11`]): the private key stays there.
    pub fn from_pkcs11(uri: &pkcs11::Pkcs11Uri, config: &pkcs11::TokenConfig) -> Result<Self, SignError> {
        let key = pkcs11::TokenKey::open(uri, config)?;
        Ok(Self {
            spki_der: key.public_key_der().to_vec(),
            inner: Inner::Token(Box::new(key)),
        })
    }

    /// For a key on a token: whether the token says it was generated there
    /// and never left ([`pkcs11::TokenKey::generated_on_token`]); `None` for a key file.
    pub fn generated_on_token(&self) -> Option<bool> {
        match &self.inner {
            Inner::Token(key) => Some(key.generated_on_token()),
            _ => None,
        }
    }

    /// Reads a key file.
    pub fn from_file(path: &Path, passphrase: Option<&str>) -> Result<Self, SignError> {
        let text = Zeroizing::new(ward_input::read_string_bounded(
            path,
            "private key",
            ward_input::limits::KEY,
        )?);
        Self::from_pem(&text, passphrase)
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, SignError> {
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8(der) {
            let mut spki = ED25519_SPKI_PREFIX.to_vec();
            spki.extend_from_slice(pair.public_key().as_ref());
            return Ok(Self {
                inner: Inner::Ed25519(pair),
                spki_der: spki,
            });
        }
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            let mut spki = P256_SPKI_PREFIX.to_vec();
            spki.extend_from_slice(pair.public_key().as_ref());
            return Ok(Self {
                inner: Inner::EcdsaP256(pair),
                spki_der: spki,
            });
        }
        Err(SignError::Key(
            "only Ed25519 and ECDSA P-256 PKCS#8 keys can sign".into(),
        ))
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// `sha256:<hex>` of the public key, as `ward verify` reports signers.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.spki_der)
    }

    /// Signs a message (ECDSA hashes it with SHA-256).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.inner {
            Inner::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            Inner::EcdsaP256(pair) => {
                let sig = pair
                    .sign(&SystemRandom::new(), message)
                    .map_err(|e| SignError::Key(e.to_string()))?;
                Ok(sig.as_ref().to_vec())
            }
            Inner::Token(key) => Ok(key.sign(message)?),
        }
    }

    /// Signs a file: ECDSA over its streamed SHA-256, Ed25519 over its bytes.
    fn sign_file(&self, path: &Path, sha256: &[u8; 32]) -> Result<Vec<u8>, SignError> {
        let io = |source| SignError::Io {
            path: path.display().to_string(),
            source,
        };
        match &self.inner {
            Inner::Token(key) if key.algorithm() == Algorithm::EcdsaP256 => Ok(key.sign_sha256(sha256)?),
            Inner::EcdsaP256(pair) => {
                let digest = aws_lc_rs::digest::Digest::import_less_safe(sha256, &aws_lc_rs::digest::SHA256)
                    .map_err(|e| SignError::Key(e.to_string()))?;
                let sig = pair.sign_digest(&digest).map_err(|e| SignError::Key(e.to_string()))?;
                Ok(sig.as_ref().to_vec())
            }
            Inner::Ed25519(_) | Inner::Token(_) => {
                let bytes = ward_verify::keys::read_bounded(path).map_err(|e| match e {
                    ward_verify::VerifyError::Unreadable { source, .. } => io(source),
                    _ => SignError::TooLarge(format!(
                        "Ed25519 signs the whole artifact; use an ECDSA P-256 key for artifacts over {MAX_ED25519_MESSAGE} bytes"
                    )),
                })?;
                self.sign(&bytes)
            }
        }
    }
}

/// `sha256:<hex>` of a DER SubjectPublicKeyInfo, as `ward verify` names keys.
pub(crate) fn fingerprint(spki_der: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex_lower(&sha2::Sha256::digest(spki_der)))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn digests(path: &Path) -> Result<ward_core::Digests, SignError> {
    let file = ward_input::InputFile::new(path, "artifact", u64::MAX).open()?;
    let (d, _) = ward_identify::hash::digest_reader(file).map_err(|source| SignError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(d)
}

fn material(key: &SigningKey) -> Value {
    json!({ "publicKey": { "hint": key.fingerprint() }, "tlogEntries": [] })
}

/// `ward sign`: a Sigstore bundle v0.3 with a message signature over the artifact.
pub fn sign_artifact(key: &SigningKey, artifact: &Path) -> Result<Value, SignError> {
    let d = digests(artifact)?;
    let signature = key.sign_file(artifact, &d.sha256.0)?;
    Ok(json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": material(key),
        "messageSignature": {
            "messageDigest": { "algorithm": "SHA2_256", "digest": b64(&d.sha256.0) },
            "signature": b64(&signature)
        }
    }))
}

/// `ward attest`: an in-toto Statement v1 about the artifact, in a DSSE
/// envelope, in a Sigstore bundle v0.3.
pub fn attest(key: &SigningKey, artifact: &Path, predicate_type: &str, predicate: Value) -> Result<Value, SignError> {
    let d = digests(artifact)?;
    let name = artifact
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": name, "digest": { "sha256": d.sha256.to_hex(), "sha512": d.sha512.to_hex() } }],
        "predicateType": predicate_type,
        "predicate": predicate
    });
    let payload = serde_json::to_vec(&statement).map_err(|e| SignError::Predicate(e.to_string()))?;
    let signature = key.sign(&ward_verify::dsse::pae(
        ward_verify::dsse::IN_TOTO_PAYLOAD_TYPE,
        &payload,
    ))?;
    Ok(json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": material(key),
        "dsseEnvelope": {
            "payload": b64(&payload),
            "payloadType": ward_verify::dsse::IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{ "keyid": key.fingerprint(), "sig": b64(&signature) }]
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_load_back_and_encryption_needs_the_passphrase() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            let k = keygen(alg, None).unwrap();
            let key = SigningKey::from_pem(&k.private_pem, None).unwrap();
            assert_eq!(key.fingerprint(), k.fingerprint);
            let public = ward_verify::PublicKey::parse(k.public_pem.as_bytes(), "t").unwrap();
            assert_eq!(public.fingerprint(), k.fingerprint);

            let enc = keygen(alg, Some("correct horse")).unwrap();
            assert!(enc.private_pem.contains("ENCRYPTED PRIVATE KEY"));
            assert!(matches!(
                SigningKey::from_pem(&enc.private_pem, None),
                Err(SignError::Passphrase(_))
            ));
            assert!(matches!(
                SigningKey::from_pem(&enc.private_pem, Some("wrong")),
                Err(SignError::Passphrase(_))
            ));
            assert!(SigningKey::from_pem(&enc.private_pem, Some("correct horse")).is_ok());
        }
    }
}
