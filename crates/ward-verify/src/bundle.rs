//! Sigstore bundles (v0.1, v0.2, v0.3, both media-type spellings), verified
//! by the `sigstore-verify` crate.
//!
//! ward adds what a gate needs around it: size and depth limits, a named
//! reason for unknown versions, weak algorithms and DSSE subjects that are
//! about something else, identity patterns, the Fulcio certificate's CI
//! claims, and bundles signed offline with a plain key (no log entry, no
//! timestamp: what `ward sign` writes), which `sigstore-verify` refuses by
//! design and ward verifies as a plain-key signature with no log proof.

use crate::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::keys::{PublicKey, check_certificate_algorithms};
use crate::signer::SignerRequirement;
use crate::statement::Statement;
use crate::trust::TrustRoot;
use crate::{Fact, SignerIdentity};
use crate::{VerifyError, evidence};
use base64::Engine as _;
use sigstore_verify::types::{ArtifactDigest, Bundle, HashAlgorithm, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, VerificationResult};
use std::path::Path;

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
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct ArtifactRef<'a> {
    /// Its SHA-256.
    pub sha256: [u8; 32],
    /// Its SHA-512, when known (npm attestations bind on it).
    pub sha512: Option<[u8; 64]>,
    /// Its path, when the bytes are available (needed for Ed25519).
    pub path: Option<&'a Path>,
}

/// The Fulcio certificate's claims about the build that signed
/// (OIDs 1.3.6.1.4.1.57264.1.*). Claims, made trustworthy by the verified chain.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CertificateClaims {
    /// Source Repository URI.
    pub source_repository: Option<String>,
    /// Source Repository Digest (the commit).
    pub source_commit: Option<String>,
    /// Source Repository Ref.
    pub source_ref: Option<String>,
    /// Runner Environment (`github-hosted` / `self-hosted`).
    pub runner_environment: Option<String>,
    /// Build Signer URI (the workflow that signed).
    pub build_signer: Option<String>,
    /// Build Config URI (the workflow that ran).
    pub build_config: Option<String>,
    /// Run Invocation URI.
    pub run_invocation: Option<String>,
}

/// What a verified bundle proved.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifiedBundle {
    /// Who signed.
    pub signer: SignerIdentity,
    /// The verified signing time, if one was established.
    pub signed_at: Option<jiff::Timestamp>,
    /// Whether a transparency-log proof verified.
    pub transparency_log: bool,
    /// For keyless bundles, the certificate's CI claims.
    pub claims: Option<CertificateClaims>,
    /// For DSSE bundles, the signed statement (bound to the artifact).
    pub statement: Option<Statement>,
    /// The evidence label.
    pub evidence: String,
}

impl VerifiedBundle {
    /// The signature fact.
    pub fn signature_fact(&self) -> Fact {
        Fact::Signature {
            signer: self.signer.clone(),
            evidence: self.evidence.clone(),
            signed_at: self.signed_at,
            transparency_log: self.transparency_log,
            predicate_type: self.statement.as_ref().map(|s| s.predicate_type.clone()),
        }
    }
}

/// A parsed bundle, ready to verify.
#[derive(Debug)]
pub struct SigstoreBundle {
    bundle: Bundle,
    raw: serde_json::Value,
    uses_public_key: bool,
    statement: Option<Statement>,
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
        Self::from_value(evidence::parse_json(bytes)?, label)
    }

    /// Parses a bundle from an already parsed JSON value (depth already checked).
    pub fn from_value(value: serde_json::Value, label: impl Into<String>) -> Result<Self, VerifyError> {
        let media_type = value
            .get("mediaType")
            .and_then(|m| m.as_str())
            .ok_or_else(|| VerifyError::Malformed("no mediaType".into()))?;
        if !KNOWN_MEDIA_TYPES.contains(&media_type) {
            return Err(VerifyError::UnknownVersion(media_type.to_string()));
        }
        check_weak_algorithms(&value)?;
        let uses_public_key = value.pointer("/verificationMaterial/publicKey").is_some();
        let statement = match value.get("dsseEnvelope") {
            Some(envelope) => {
                let payload_type = envelope.get("payloadType").and_then(|p| p.as_str()).unwrap_or_default();
                if payload_type != IN_TOTO_PAYLOAD_TYPE {
                    return Err(VerifyError::PayloadType(payload_type.to_string()));
                }
                let payload = envelope.get("payload").and_then(|p| p.as_str()).unwrap_or_default();
                Some(Statement::parse(&crate::dsse::decode_base64(payload)?)?)
            }
            None => None,
        };
        let bundle: Bundle =
            serde_json::from_value(value.clone()).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        Ok(Self {
            bundle,
            raw: value,
            uses_public_key,
            statement,
            label: label.into(),
        })
    }

    /// Whether the bundle is signed with a plain key (a public-key hint)
    /// rather than a Fulcio certificate.
    pub fn uses_public_key(&self) -> bool {
        self.uses_public_key
    }

    /// The public-key hint, if any.
    pub fn key_hint(&self) -> Option<&str> {
        self.raw
            .pointer("/verificationMaterial/publicKey/hint")
            .and_then(|h| h.as_str())
    }

    /// For a DSSE bundle, the in-toto predicate type of its statement.
    pub fn predicate_type(&self) -> Option<&str> {
        self.statement.as_ref().map(|s| s.predicate_type.as_str())
    }

    /// Verifies the bundle and returns the signature fact; a keyless signer
    /// must satisfy `signer`.
    pub fn verify(
        &self,
        root: &TrustRoot,
        artifact: ArtifactRef<'_>,
        keys: &[PublicKey],
        signer: &SignerRequirement,
    ) -> Result<Fact, VerifyError> {
        self.verify_detailed(root, artifact, keys, Some(signer))
            .map(|v| v.signature_fact())
    }

    /// Verifies the bundle over the artifact: with `keys` when it carries a
    /// public-key hint, else as a keyless bundle. With `signer: None` any
    /// keyless identity is accepted and reported (the caller's policy must
    /// judge it).
    pub fn verify_detailed(
        &self,
        root: &TrustRoot,
        artifact: ArtifactRef<'_>,
        keys: &[PublicKey],
        signer: Option<&SignerRequirement>,
    ) -> Result<VerifiedBundle, VerifyError> {
        if let Some(statement) = &self.statement {
            statement.bind(artifact.sha256, artifact.sha512)?;
        }
        if self.uses_public_key {
            self.verify_with_keys(root, artifact, keys)
        } else {
            self.verify_keyless(root, artifact, signer)
        }
    }

    fn digest_for(&self, artifact: ArtifactRef<'_>) -> ArtifactDigest {
        let wants_sha512 = self.statement.as_ref().and_then(|s| s.preferred_algorithm()) == Some("sha512");
        match (wants_sha512, artifact.sha512) {
            (true, Some(sha512)) => ArtifactDigest::new(HashAlgorithm::Sha2512, sha512.to_vec())
                .unwrap_or_else(|_| ArtifactDigest::sha256(Sha256Hash::new(artifact.sha256))),
            _ => ArtifactDigest::sha256(Sha256Hash::new(artifact.sha256)),
        }
    }

    fn run(
        &self,
        root: &TrustRoot,
        artifact: ArtifactRef<'_>,
        policy: &(impl sigstore_verify::Policy + ?Sized),
    ) -> Result<VerificationResult, VerifyError> {
        let verifier = root.verifier();
        match verifier.verify(self.digest_for(artifact), &self.bundle, policy) {
            // Some schemes (Ed25519 over a message) need the bytes themselves.
            Err(sigstore_verify::Error::UnsupportedArtifact(_)) if artifact.path.is_some() => {
                let bytes = crate::keys::read_bounded(artifact.path.unwrap_or_else(|| Path::new("")))?;
                Ok(verifier.verify(bytes.as_slice(), &self.bundle, policy)?)
            }
            other => Ok(other?),
        }
    }

    fn verify_keyless(
        &self,
        root: &TrustRoot,
        artifact: ArtifactRef<'_>,
        signer: Option<&SignerRequirement>,
    ) -> Result<VerifiedBundle, VerifyError> {
        let mut policy = VerificationPolicy::any_identity();
        if let Some(req) = signer {
            if let Some(crate::signer::IdentityRule::Exact(id)) = &req.identity {
                policy = policy.require_identity(id.as_str());
            }
            if let Some(issuer) = &req.issuer {
                policy = policy.require_issuer(issuer.as_str());
            }
        }
        let result = self.run(root, artifact, &policy)?;
        let identity = result.identity().map(|i| i.as_str().to_string()).unwrap_or_default();
        let issuer = result.issuer().unwrap_or_default().to_string();
        if let Some(req) = signer {
            req.check(&identity, &issuer)?;
        }
        let claims = result.certificate().map(|c| {
            let ci = &c.ci_claims;
            CertificateClaims {
                source_repository: ci.source_repository_uri.clone(),
                source_commit: ci.source_repository_digest.clone(),
                source_ref: ci.source_repository_ref.clone(),
                runner_environment: ci.runner_environment.clone(),
                build_signer: ci.build_signer_uri.clone(),
                build_config: ci.build_config_uri.clone(),
                run_invocation: ci.run_invocation_uri.clone(),
            }
        });
        Ok(self.verified(SignerIdentity::Keyless { identity, issuer }, &result, claims))
    }

    fn verify_with_keys(
        &self,
        root: &TrustRoot,
        artifact: ArtifactRef<'_>,
        keys: &[PublicKey],
    ) -> Result<VerifiedBundle, VerifyError> {
        if keys.is_empty() {
            let hint = self.key_hint().map(|h| format!(" {h}")).unwrap_or_default();
            return Err(VerifyError::KeyNotTrusted(format!(
                " (signed with key{hint}; no trusted key was given)"
            )));
        }
        let mut last = None;
        for key in keys {
            let outcome = if self.is_offline() {
                self.verify_offline(artifact, key)
            } else {
                let policy = PublicKeyVerificationPolicy::new(key.sigstore_key());
                self.run(root, artifact, &policy)
                    .map(|result| self.verified(key_signer(key), &result, None))
            };
            match outcome {
                Ok(v) => return Ok(v),
                Err(e) => last = Some(e),
            }
        }
        match (keys.len(), last) {
            (1, Some(e)) => Err(e),
            (n, _) => Err(VerifyError::KeyNotTrusted(format!(" (tried {n} trusted keys)"))),
        }
    }

    /// A key-signed bundle with neither log entries nor timestamps: what an
    /// offline signer writes.
    fn is_offline(&self) -> bool {
        let empty = |p: &str| {
            self.raw
                .pointer(p)
                .and_then(|v| v.as_array())
                .is_none_or(|a| a.is_empty())
        };
        empty("/verificationMaterial/tlogEntries")
            && empty("/verificationMaterial/timestampVerificationData/rfc3161Timestamps")
    }

    fn verify_offline(&self, artifact: ArtifactRef<'_>, key: &PublicKey) -> Result<VerifiedBundle, VerifyError> {
        let b64 = |p: &str| -> Result<Vec<u8>, VerifyError> {
            let s = self
                .raw
                .pointer(p)
                .and_then(|v| v.as_str())
                .ok_or_else(|| VerifyError::Malformed(format!("no {p}")))?;
            crate::dsse::decode_base64(s)
        };
        if let Some(envelope) = self.raw.get("dsseEnvelope") {
            Envelope::from_value(envelope)?.verify(std::slice::from_ref(key))?;
        } else {
            let digest = b64("/messageSignature/messageDigest/digest")?;
            let algorithm = self
                .raw
                .pointer("/messageSignature/messageDigest/algorithm")
                .and_then(|a| a.as_str());
            if algorithm != Some("SHA2_256") || digest != artifact.sha256 {
                return Err(VerifyError::DigestMismatch(
                    "the bundle's message digest is not the artifact's SHA-256".into(),
                ));
            }
            let signature = b64("/messageSignature/signature")?;
            key.verify_detached(&artifact.sha256, artifact.path, &signature)?;
        }
        Ok(VerifiedBundle {
            signer: key_signer(key),
            signed_at: None,
            transparency_log: false,
            claims: None,
            statement: self.statement.clone(),
            evidence: self.label.clone(),
        })
    }

    fn verified(
        &self,
        signer: SignerIdentity,
        result: &VerificationResult,
        claims: Option<CertificateClaims>,
    ) -> VerifiedBundle {
        VerifiedBundle {
            signer,
            signed_at: result
                .integrated_time()
                .or_else(|| result.verified_timestamps().first().copied()),
            transparency_log: result.tlog_verified(),
            claims,
            statement: self.statement.clone(),
            evidence: self.label.clone(),
        }
    }
}

fn key_signer(key: &PublicKey) -> SignerIdentity {
    SignerIdentity::Key {
        fingerprint: key.fingerprint().to_string(),
        algorithm: format!("{:?}", key.kind()),
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
        && let Err(e @ (VerifyError::WeakAlgorithm(_) | VerifyError::UnknownAlgorithm(_))) =
            check_certificate_algorithms(&der)
    {
        // Undecodable base64 is left to the full parser, which names it.
        return Err(e);
    }
    Ok(())
}
