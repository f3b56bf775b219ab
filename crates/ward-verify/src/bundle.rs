//! Sigstore bundles (v0.1, v0.2, v0.3, both media-type spellings), verified
//! by the `sigstore-verify` crate.
//!
//! ward adds what a gate needs around it: size and depth limits, a named
//! reason for unknown versions and weak algorithms, identity patterns, and
//! turning the result into a [`Fact`].

use crate::keys::{PublicKey, check_certificate_algorithms};
use crate::signer::SignerRequirement;
use crate::trust::TrustRoot;
use crate::{VerifyError, evidence};
use base64::Engine as _;
use sigstore_verify::types::{Bundle, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, VerificationResult};
use std::path::Path;
use ward_core::{Fact, SignerIdentity};

/// The bundle media types ward reads.
pub const KNOWN_MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

const STRONG_DIGESTS: &[&str] = &["SHA2_256", "SHA2_384", "SHA2_512", "SHA3_256", "SHA3_384"];
const WEAK_DIGESTS: &[&str] = &["SHA1", "SHA-1", "SHA_1", "MD5", "MD-5"];

/// The artifact a bundle is checked against.
#[derive(Clone, Copy, Debug)]
pub struct ArtifactRef<'a> {
    /// Its SHA-256.
    pub sha256: [u8; 32],
    /// Its path, when the bytes are available (needed for Ed25519).
    pub path: Option<&'a Path>,
}

/// A parsed bundle, ready to verify.
#[derive(Debug)]
pub struct SigstoreBundle {
    bundle: Bundle,
    uses_public_key: bool,
    predicate_type: Option<String>,
    /// Where it came from, for reports.
    pub label: String,
}

impl SigstoreBundle {
    /// Reads and parses a bundle file.
    pub fn from_file(path: &Path) -> Result<Self, VerifyError> {
        let bytes = evidence::read_evidence(path)?;
        Self::parse(&bytes, path.display().to_string())
    }

    /// Parses bundle JSON, refusing unknown versions and weak algorithms by name.
    pub fn parse(bytes: &[u8], label: impl Into<String>) -> Result<Self, VerifyError> {
        let value = evidence::parse_json(bytes)?;
        let media_type = value
            .get("mediaType")
            .and_then(|m| m.as_str())
            .ok_or_else(|| VerifyError::Malformed("no mediaType".into()))?;
        if !KNOWN_MEDIA_TYPES.contains(&media_type) {
            return Err(VerifyError::UnknownVersion(media_type.to_string()));
        }
        check_weak_algorithms(&value)?;
        let material = value.get("verificationMaterial");
        let uses_public_key = material.and_then(|m| m.get("publicKey")).is_some();
        let predicate_type = dsse_predicate_type(&value);
        let bundle: Bundle = serde_json::from_value(value).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        Ok(Self {
            bundle,
            uses_public_key,
            predicate_type,
            label: label.into(),
        })
    }

    /// Whether the bundle is signed with a plain key (a public-key hint)
    /// rather than a Fulcio certificate.
    pub fn uses_public_key(&self) -> bool {
        self.uses_public_key
    }

    /// For a DSSE bundle, the in-toto predicate type of its statement.
    pub fn predicate_type(&self) -> Option<&str> {
        self.predicate_type.as_deref()
    }

    /// Verifies the bundle over the artifact: with `keys` when it carries a
    /// public-key hint, else as a keyless bundle whose signer must satisfy `signer`.
    pub fn verify(
        &self,
        root: &TrustRoot,
        artifact: ArtifactRef<'_>,
        keys: &[PublicKey],
        signer: &SignerRequirement,
    ) -> Result<Fact, VerifyError> {
        if self.uses_public_key {
            self.verify_with_keys(root, artifact, keys)
        } else {
            self.verify_keyless(root, artifact, signer)
        }
    }

    fn run(
        &self,
        root: &TrustRoot,
        artifact: ArtifactRef<'_>,
        policy: &(impl sigstore_verify::Policy + ?Sized),
    ) -> Result<VerificationResult, VerifyError> {
        let verifier = root.verifier();
        match verifier.verify(Sha256Hash::new(artifact.sha256), &self.bundle, policy) {
            // Some schemes (Ed25519 over a message) need the bytes themselves.
            Err(sigstore_verify::Error::UnsupportedArtifact(_)) if artifact.path.is_some() => {
                let path = artifact.path.unwrap_or_else(|| Path::new(""));
                let file = std::fs::File::open(path).map_err(|source| VerifyError::Unreadable {
                    path: path.to_path_buf(),
                    source,
                })?;
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(file, crate::keys::MAX_ED25519_MESSAGE),
                    &mut bytes,
                )
                .map_err(|source| VerifyError::Unreadable {
                    path: path.to_path_buf(),
                    source,
                })?;
                Ok(verifier.verify(bytes.as_slice(), &self.bundle, policy)?)
            }
            other => Ok(other?),
        }
    }

    fn verify_keyless(
        &self,
        root: &TrustRoot,
        artifact: ArtifactRef<'_>,
        signer: &SignerRequirement,
    ) -> Result<Fact, VerifyError> {
        let mut policy = VerificationPolicy::any_identity();
        if let Some(crate::signer::IdentityRule::Exact(id)) = &signer.identity {
            policy = policy.require_identity(id.as_str());
        }
        if let Some(issuer) = &signer.issuer {
            policy = policy.require_issuer(issuer.as_str());
        }
        let result = self.run(root, artifact, &policy)?;
        let identity = result.identity().map(|i| i.as_str().to_string()).unwrap_or_default();
        let issuer = result.issuer().unwrap_or_default().to_string();
        signer.check(&identity, &issuer)?;
        Ok(self.fact(SignerIdentity::Keyless { identity, issuer }, &result))
    }

    fn verify_with_keys(
        &self,
        root: &TrustRoot,
        artifact: ArtifactRef<'_>,
        keys: &[PublicKey],
    ) -> Result<Fact, VerifyError> {
        if keys.is_empty() {
            return Err(VerifyError::KeyNotTrusted(" (no key was given: pass --key)".into()));
        }
        let mut last = None;
        for key in keys {
            let policy = PublicKeyVerificationPolicy::new(key.sigstore_key());
            match self.run(root, artifact, &policy) {
                Ok(result) => {
                    let algorithm = format!("{:?}", key.kind());
                    let signer = SignerIdentity::Key {
                        fingerprint: key.fingerprint().to_string(),
                        algorithm,
                    };
                    return Ok(self.fact(signer, &result));
                }
                Err(e) => last = Some(e),
            }
        }
        match (keys.len(), last) {
            (1, Some(e)) => Err(e),
            (n, _) => Err(VerifyError::KeyNotTrusted(format!(" (tried {n} trusted keys)"))),
        }
    }

    fn fact(&self, signer: SignerIdentity, result: &VerificationResult) -> Fact {
        let signed_at = result
            .integrated_time()
            .or_else(|| result.verified_timestamps().first().copied());
        Fact::Signature {
            signer,
            evidence: self.label.clone(),
            signed_at: signed_at.map(|t| t.to_string()),
            transparency_log: result.tlog_verified(),
            predicate_type: self.predicate_type.clone(),
        }
    }
}

/// Refuses weak message digests and weak signing certificates by name,
/// before the full parse (which would only say "unknown variant").
fn check_weak_algorithms(value: &serde_json::Value) -> Result<(), VerifyError> {
    if let Some(alg) = value
        .pointer("/messageSignature/messageDigest/algorithm")
        .and_then(|a| a.as_str())
    {
        if WEAK_DIGESTS.iter().any(|w| w.eq_ignore_ascii_case(alg)) {
            return Err(VerifyError::WeakAlgorithm(format!("message digest {alg}")));
        }
        if !STRONG_DIGESTS.contains(&alg) {
            return Err(VerifyError::UnknownAlgorithm(format!("message digest {alg}")));
        }
    }
    let cert = value
        .pointer("/verificationMaterial/certificate/rawBytes")
        .or_else(|| value.pointer("/verificationMaterial/x509CertificateChain/certificates/0/rawBytes"))
        .and_then(|c| c.as_str());
    if let Some(b64) = cert
        && let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64)
    {
        // Undecodable base64 is left to the full parser, which names it.
        if let Err(e @ (VerifyError::WeakAlgorithm(_) | VerifyError::UnknownAlgorithm(_))) =
            check_certificate_algorithms(&der)
        {
            return Err(e);
        }
    }
    Ok(())
}

fn dsse_predicate_type(value: &serde_json::Value) -> Option<String> {
    let payload = value.pointer("/dsseEnvelope/payload")?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(payload).ok()?;
    let statement: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    statement.get("predicateType")?.as_str().map(str::to_string)
}
