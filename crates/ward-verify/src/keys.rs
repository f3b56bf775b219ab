//! Plain public keys: reading PEM/DER, refusing weak algorithms, and
//! verifying detached signatures.
//!
//! Accepted: Ed25519, ECDSA P-256 and P-384, RSA of 2048 bits or more with
//! PKCS#1 v1.5 or PSS over SHA-256/384/512. Refused with `weak-algorithm`:
//! DSA, RSA under 2048 bits, and certificates signed with SHA-1 or MD5.
//! Signature checking itself is done by `sigstore-crypto` (aws-lc-rs).

use crate::VerifyError;
use der::{Decode, Encode};
use sha2::Digest as _;
use sigstore_verify::crypto::{SigningScheme, VerificationKey};
use sigstore_verify::types::{DerPublicKey, SignatureBytes};
use spki::SubjectPublicKeyInfoRef;
use std::io::Read;
use std::path::Path;

const RSA: &str = "1.2.840.113549.1.1.1";
const DSA: &str = "1.2.840.10040.4.1";
const EC: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const ED25519: &str = "1.3.101.112";

/// Certificate signature algorithms ward refuses, with their names.
const WEAK_SIGNATURE_ALGORITHMS: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.2", "MD2 with RSA"),
    ("1.2.840.113549.1.1.4", "MD5 with RSA"),
    ("1.2.840.113549.1.1.5", "SHA-1 with RSA"),
    ("1.2.840.10045.4.1", "ECDSA with SHA-1"),
    ("1.2.840.10040.4.3", "DSA with SHA-1"),
    ("2.16.840.1.101.3.4.3.2", "DSA with SHA-256"),
];

/// Largest artifact read whole for Ed25519 (which signs the message, not a digest).
pub const MAX_ED25519_MESSAGE: u64 = 1 << 30;

/// The algorithm family of an accepted key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// Ed25519.
    Ed25519,
    /// ECDSA on P-256.
    EcdsaP256,
    /// ECDSA on P-384.
    EcdsaP384,
    /// RSA with this many modulus bits (at least 2048).
    Rsa(usize),
}

/// A trusted public key.
#[derive(Clone, Debug)]
pub struct PublicKey {
    der: Vec<u8>,
    kind: KeyKind,
    fingerprint: String,
    /// Where it came from (a file name), for reports.
    pub label: String,
}

impl PublicKey {
    /// Reads a PEM (`PUBLIC KEY`) or DER SubjectPublicKeyInfo.
    pub fn parse(bytes: &[u8], label: impl Into<String>) -> Result<Self, VerifyError> {
        let der = match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => {
                let start = text.find("-----BEGIN").unwrap_or(0);
                let (tag, der) = pem_rfc7468::decode_vec(text[start..].trim().as_bytes())
                    .map_err(|e| VerifyError::KeyMalformed(format!("not a PEM key: {e}")))?;
                match tag {
                    "PUBLIC KEY" => der,
                    "DSA PUBLIC KEY" => return Err(VerifyError::WeakAlgorithm("DSA keys".into())),
                    "RSA PUBLIC KEY" => {
                        return Err(VerifyError::KeyMalformed(
                            "PKCS#1 `RSA PUBLIC KEY`; convert it to SubjectPublicKeyInfo (`openssl rsa -RSAPublicKey_in -pubout`)".into(),
                        ));
                    }
                    other => {
                        return Err(VerifyError::KeyMalformed(format!(
                            "PEM block {other:?} is not a public key"
                        )));
                    }
                }
            }
            _ => bytes.to_vec(),
        };
        let kind = classify_spki(&der)?;
        let fingerprint = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&der)));
        Ok(Self {
            der,
            kind,
            fingerprint,
            label: label.into(),
        })
    }

    /// Reads a key file: a regular file of at most
    /// [`ward_input::limits::KEY`] bytes (a FIFO or device is unreadable).
    pub fn from_file(path: &Path) -> Result<Self, VerifyError> {
        let bytes = ward_input::InputFile::new(path, "key file", ward_input::limits::KEY)
            .read()
            .map_err(|e| crate::evidence::input_error(path, e))?;
        Self::parse(&bytes, path.display().to_string())
    }

    /// `sha256:<hex>` of the DER SubjectPublicKeyInfo.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The algorithm family.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub(crate) fn sigstore_key(&self) -> DerPublicKey {
        DerPublicKey::new(self.der.clone())
    }

    /// Verifies a detached signature over the artifact. Returns the scheme
    /// that verified. `sha256` is the artifact's digest (already computed);
    /// `path` lets schemes that need another digest, or the whole message,
    /// read the artifact again.
    pub fn verify_detached(
        &self,
        sha256: &[u8; 32],
        path: Option<&Path>,
        signature: &[u8],
    ) -> Result<SigningScheme, VerifyError> {
        let sig = SignatureBytes::new(signature.to_vec());
        let der = self.sigstore_key();
        let try_scheme = |scheme: SigningScheme, digest: &[u8]| -> bool {
            VerificationKey::from_der(&der, scheme)
                .and_then(|k| k.verify_prehashed(digest, &sig))
                .is_ok()
        };
        let need_path = || {
            path.ok_or_else(|| {
                VerifyError::SignatureInvalid(
                    "this key's algorithm needs the artifact bytes, not only its digest".into(),
                )
            })
        };
        match self.kind {
            KeyKind::Ed25519 => {
                let message = read_bounded(need_path()?)?;
                let key = VerificationKey::from_der(&der, SigningScheme::Ed25519)
                    .map_err(|e| VerifyError::KeyMalformed(e.to_string()))?;
                #[expect(
                    clippy::map_err_ignore,
                    reason = "any failure here means the signature does not match this key, reported alike for every scheme"
                )]
                key.verify(&message, &sig).map_err(|_| self.no_match())?;
                Ok(SigningScheme::Ed25519)
            }
            KeyKind::EcdsaP256 => {
                if try_scheme(SigningScheme::EcdsaP256Sha256, sha256) {
                    return Ok(SigningScheme::EcdsaP256Sha256);
                }
                Err(self.no_match())
            }
            KeyKind::EcdsaP384 => {
                if try_scheme(SigningScheme::EcdsaP384Sha256, sha256) {
                    return Ok(SigningScheme::EcdsaP384Sha256);
                }
                let (d384, _) = other_digests(need_path()?)?;
                if try_scheme(SigningScheme::EcdsaP384Sha384, &d384) {
                    return Ok(SigningScheme::EcdsaP384Sha384);
                }
                Err(self.no_match())
            }
            KeyKind::Rsa(_) => {
                for scheme in [SigningScheme::RsaPkcs1Sha256, SigningScheme::RsaPssSha256] {
                    if try_scheme(scheme, sha256) {
                        return Ok(scheme);
                    }
                }
                let Some(path) = path else { return Err(self.no_match()) };
                let (d384, d512) = other_digests(path)?;
                for (scheme, digest) in [
                    (SigningScheme::RsaPkcs1Sha384, &d384[..]),
                    (SigningScheme::RsaPssSha384, &d384[..]),
                    (SigningScheme::RsaPkcs1Sha512, &d512[..]),
                    (SigningScheme::RsaPssSha512, &d512[..]),
                ] {
                    if try_scheme(scheme, digest) {
                        return Ok(scheme);
                    }
                }
                Err(self.no_match())
            }
        }
    }

    fn no_match(&self) -> VerifyError {
        VerifyError::SignatureInvalid(format!(
            "the signature does not match the artifact under key {} ({}): the artifact changed after signing, or another key signed it",
            self.label, self.fingerprint
        ))
    }
}

/// Reads a whole artifact for schemes that sign the message itself
/// (Ed25519), refusing one larger than [`MAX_ED25519_MESSAGE`].
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, VerifyError> {
    match ward_input::InputFile::new(path, "artifact", MAX_ED25519_MESSAGE).read() {
        Ok(bytes) => Ok(bytes),
        Err(ward_input::InputError::TooLarge { .. }) => Err(VerifyError::UnknownAlgorithm(format!(
            "Ed25519 signatures over artifacts larger than {MAX_ED25519_MESSAGE} bytes"
        ))),
        Err(e) => Err(crate::evidence::input_error(path, e)),
    }
}

/// SHA-384 and SHA-512 of a file, in one pass (only for keys that need them).
fn other_digests(path: &Path) -> Result<([u8; 48], [u8; 64]), VerifyError> {
    let unreadable = |source| VerifyError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let mut file = ward_input::InputFile::new(path, "artifact", u64::MAX)
        .open()
        .map_err(|e| crate::evidence::input_error(path, e))?;
    let (mut h384, mut h512) = (sha2::Sha384::new(), sha2::Sha512::new());
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        h384.update(&buf[..n]);
        h512.update(&buf[..n]);
    }
    Ok((h384.finalize().into(), h512.finalize().into()))
}

/// Classifies a DER SubjectPublicKeyInfo, refusing weak and unknown keys.
pub fn classify_spki(der: &[u8]) -> Result<KeyKind, VerifyError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|e| VerifyError::KeyMalformed(format!("not a SubjectPublicKeyInfo: {e}")))?;
    let oid = spki.algorithm.oid.to_string();
    match oid.as_str() {
        ED25519 => Ok(KeyKind::Ed25519),
        EC => match spki.algorithm.parameters_oid().map(|o| o.to_string()).as_deref() {
            Ok(P256) => Ok(KeyKind::EcdsaP256),
            Ok(P384) => Ok(KeyKind::EcdsaP384),
            Ok(other) => Err(VerifyError::UnknownAlgorithm(format!(
                "ECDSA curve {other}; ward accepts P-256 and P-384"
            ))),
            Err(_) => Err(VerifyError::KeyMalformed("ECDSA key without a named curve".into())),
        },
        RSA => {
            let bits = rsa_modulus_bits(spki.subject_public_key.raw_bytes())?;
            if bits < 2048 {
                return Err(VerifyError::WeakAlgorithm(format!(
                    "RSA key of {bits} bits (at least 2048 required)"
                )));
            }
            Ok(KeyKind::Rsa(bits))
        }
        DSA => Err(VerifyError::WeakAlgorithm("DSA keys".into())),
        other => Err(VerifyError::UnknownAlgorithm(format!("key algorithm {other}"))),
    }
}

fn rsa_modulus_bits(pkcs1: &[u8]) -> Result<usize, VerifyError> {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        #[allow(dead_code)]
        public_exponent: der::asn1::UintRef<'a>,
    }
    let key = RsaPublicKey::from_der(pkcs1).map_err(|e| VerifyError::KeyMalformed(format!("bad RSA key: {e}")))?;
    let m = key.modulus.as_bytes();
    Ok(match m.first() {
        Some(&first) => (m.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    })
}

/// Refuses a certificate signed with a weak algorithm or holding a weak key.
pub fn check_certificate_algorithms(cert_der: &[u8]) -> Result<(), VerifyError> {
    let cert = x509_cert::Certificate::from_der(cert_der)
        .map_err(|e| VerifyError::Malformed(format!("signing certificate is not valid DER: {e}")))?;
    let sig_oid = cert.signature_algorithm.oid.to_string();
    if let Some((_, name)) = WEAK_SIGNATURE_ALGORITHMS.iter().find(|(oid, _)| *oid == sig_oid) {
        return Err(VerifyError::WeakAlgorithm(format!("certificate signed with {name}")));
    }
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| VerifyError::Malformed(format!("certificate key: {e}")))?;
    classify_spki(&spki).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExRRST79+PsrRBnGAI4cMu6Omz2Jh\nfwlMW+gIutNKVRaMyS4rQKvgngc5p8UbLj55pVHhIoAxi/SRgURZI0J3Xw==\n-----END PUBLIC KEY-----\n";

    /// Issue 10, finding 15: key files are bounded and regular files only.
    #[test]
    fn key_files_are_bounded_regular_files() {
        let e = PublicKey::from_file(Path::new("/dev/zero")).unwrap_err();
        assert!(e.is_unreadable() && e.to_string().contains("character device"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.pem");
        let mut text = P256_PEM.to_string();
        text.push_str(&" ".repeat(usize::try_from(ward_input::limits::KEY).unwrap() + 1));
        std::fs::write(&big, text).unwrap();
        assert!(matches!(PublicKey::from_file(&big), Err(VerifyError::TooLarge { .. })));
        let ok = dir.path().join("ok.pem");
        std::fs::write(&ok, P256_PEM).unwrap();
        assert!(PublicKey::from_file(&ok).is_ok());
    }

    #[test]
    fn reads_a_p256_key() {
        let k = PublicKey::parse(P256_PEM.as_bytes(), "test").unwrap();
        assert_eq!(k.kind(), KeyKind::EcdsaP256);
        assert!(k.fingerprint().starts_with("sha256:"));
    }

    #[test]
    fn garbage_is_key_malformed() {
        assert!(matches!(
            PublicKey::parse(b"hello", "t"),
            Err(VerifyError::KeyMalformed(_))
        ));
        assert!(matches!(
            PublicKey::parse(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "t"),
            Err(VerifyError::KeyMalformed(_))
        ));
    }
}
