//! Why a piece of evidence did not verify, with its stable reason code.

use std::path::PathBuf;
use ward_core::{Reason, ReasonCode};

/// A verification failure. Every variant maps to one [`ReasonCode`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The evidence file cannot be read (exit code 2).
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The evidence file is over the size limit.
    #[error("evidence is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The evidence nests JSON too deeply.
    #[error("evidence nests JSON deeper than {limit} levels")]
    TooDeep {
        /// The depth limit.
        limit: usize,
    },
    /// Not valid JSON, or not a valid bundle.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// A media type ward does not know.
    #[error("unknown bundle media type {0:?} (expected Sigstore bundle v0.1, v0.2 or v0.3)")]
    UnknownVersion(String),
    /// A refused algorithm (SHA-1, MD5, DSA, short RSA).
    #[error("weak algorithm refused: {0}")]
    WeakAlgorithm(String),
    /// An algorithm ward does not recognise.
    #[error("unsupported algorithm: {0}")]
    UnknownAlgorithm(String),
    /// The key file is unreadable as a public key.
    #[error("unreadable public key: {0}")]
    KeyMalformed(String),
    /// The trusted root is unusable.
    #[error("trusted root is unusable: {0}")]
    TrustedRoot(String),
    /// The signature does not verify.
    #[error("signature does not verify: {0}")]
    SignatureInvalid(String),
    /// The evidence is about other bytes.
    #[error("evidence is for a different artifact: {0}")]
    DigestMismatch(String),
    /// The bundle is signed by a key none of the trusted keys match.
    #[error("bundle is signed with a public key, and no trusted key verifies it{0}")]
    KeyNotTrusted(String),
    /// A detached signature was presented and no trusted key was given to check it.
    #[error("a detached signature needs a trusted key: pass --key")]
    NoKeyForSignature,
    /// Keyless signature verified but no identity was required.
    #[error(
        "signed by {identity} (issuer {issuer}), but no trusted identity is configured: pass --certificate-identity and --certificate-oidc-issuer, or use a policy"
    )]
    IdentityUnconstrained {
        /// The certificate SAN.
        identity: String,
        /// The OIDC issuer.
        issuer: String,
    },
    /// The certificate's identity is not the required one.
    #[error("signer identity {found} does not match {expected}")]
    IdentityMismatch {
        /// What was required.
        expected: String,
        /// What the certificate says.
        found: String,
    },
    /// The certificate's issuer is not the required one.
    #[error("OIDC issuer {found} does not match {expected}")]
    IssuerMismatch {
        /// What was required.
        expected: String,
        /// What the certificate says.
        found: String,
    },
    /// Not an attestation format ward reads, or an unparsable statement.
    #[error("{0}")]
    AttestationMalformed(String),
    /// A DSSE payload type other than in-toto.
    #[error("DSSE payload type {0:?} is not {IN_TOTO:?}; ward only binds in-toto statements to artifacts", IN_TOTO = crate::dsse::IN_TOTO_PAYLOAD_TYPE)]
    PayloadType(String),
    /// A statement whose subjects are other artifacts.
    #[error("signed statement is not about this artifact: {0}")]
    SubjectMismatch(String),
    /// The signing key was outside its validity window.
    #[error("{0}")]
    RegistryKeyExpired(String),
    /// The publisher named in an attestation is not the package's.
    #[error("{0}")]
    PublisherMismatch(String),
    /// Provenance claims contradicted by the certificate.
    #[error("{0}")]
    ClaimsMismatch(String),
    /// Any other failure reported by `sigstore-verify`.
    #[error("{0}")]
    Sigstore(#[from] sigstore_verify::Error),
}

impl VerifyError {
    /// Whether this means "could not evaluate" (exit 2) rather than a deny.
    pub fn is_unreadable(&self) -> bool {
        matches!(self, VerifyError::Unreadable { .. })
    }

    /// The stable reason code.
    pub fn code(&self) -> ReasonCode {
        use sigstore_verify::{CertificateError as C, Error as E, TimestampError as T, TransparencyLogError as L};
        match self {
            VerifyError::Unreadable { .. } => ReasonCode::ArtifactUnreadable,
            VerifyError::TooLarge { .. } => ReasonCode::BundleTooLarge,
            VerifyError::TooDeep { .. } => ReasonCode::BundleTooDeep,
            VerifyError::Malformed(_) => ReasonCode::BundleMalformed,
            VerifyError::UnknownVersion(_) => ReasonCode::BundleUnknownVersion,
            VerifyError::WeakAlgorithm(_) => ReasonCode::WeakAlgorithm,
            VerifyError::UnknownAlgorithm(_) => ReasonCode::UnknownAlgorithm,
            VerifyError::KeyMalformed(_) => ReasonCode::KeyMalformed,
            VerifyError::TrustedRoot(_) => ReasonCode::TrustedRootInvalid,
            VerifyError::SignatureInvalid(_) => ReasonCode::SignatureInvalid,
            VerifyError::DigestMismatch(_) => ReasonCode::ArtifactDigestMismatch,
            VerifyError::KeyNotTrusted(_) | VerifyError::NoKeyForSignature => ReasonCode::KeyNotTrusted,
            VerifyError::IdentityUnconstrained { .. } => ReasonCode::IdentityUnconstrained,
            VerifyError::IdentityMismatch { .. } => ReasonCode::IdentityMismatch,
            VerifyError::IssuerMismatch { .. } => ReasonCode::IssuerMismatch,
            VerifyError::AttestationMalformed(_) => ReasonCode::AttestationMalformed,
            VerifyError::PayloadType(_) => ReasonCode::AttestationPayloadType,
            VerifyError::SubjectMismatch(_) => ReasonCode::AttestationSubjectMismatch,
            VerifyError::RegistryKeyExpired(_) => ReasonCode::RegistryKeyExpired,
            VerifyError::PublisherMismatch(_) => ReasonCode::PublisherMismatch,
            VerifyError::ClaimsMismatch(_) => ReasonCode::ProvenanceClaimsMismatch,
            VerifyError::Sigstore(e) => match e {
                E::IdentityMismatch { .. } => ReasonCode::IdentityMismatch,
                E::IssuerMismatch { .. } => ReasonCode::IssuerMismatch,
                E::SignatureInvalid(_) => ReasonCode::SignatureInvalid,
                E::ArtifactMismatch(_) => ReasonCode::ArtifactDigestMismatch,
                E::Certificate(C::Expired { .. } | C::NotYetValid { .. }) => ReasonCode::CertificateExpired,
                // webpki reports validity failures inside a chain error; name them.
                E::Certificate(C::ChainInvalid(detail))
                    if detail.contains("CertExpired") || detail.contains("CertNotValidYet") =>
                {
                    ReasonCode::CertificateExpired
                }
                E::Certificate(C::Sct(_)) => ReasonCode::SctInvalid,
                E::Certificate(_) | E::TrustedCertificate(_) => ReasonCode::CertificateUntrusted,
                E::TransparencyLog(L::EntryMismatch(_)) => ReasonCode::ArtifactDigestMismatch,
                E::TransparencyLog(L::IntegratedTime(_)) => ReasonCode::TimestampInvalid,
                E::TransparencyLog(_) => ReasonCode::TlogInvalid,
                E::Timestamp(T::Invalid(_) | T::OutsideAuthorityValidity { .. } | T::NoVerifiedTimestamp(_)) => {
                    ReasonCode::TimestampInvalid
                }
                E::InvalidTrustRoot(_) | E::TrustRoot(_) => ReasonCode::TrustedRootInvalid,
                E::Crypto(_) => ReasonCode::SignatureInvalid,
                E::Bundle(b) => {
                    use sigstore_verify::bundle::error::Error as B;
                    match b {
                        B::MissingInclusionPromise(_)
                        | B::MissingInclusionProof(_)
                        | B::MissingCheckpoint
                        | B::LogIndexOutOfRange { .. }
                        | B::CheckpointRootMismatch => ReasonCode::TlogInvalid,
                        B::MissingTimestamp | B::MissingSigningTimeEvidence => ReasonCode::TimestampInvalid,
                        _ => ReasonCode::BundleMalformed,
                    }
                }
                _ => ReasonCode::BundleMalformed,
            },
        }
    }

    /// As a decision reason.
    pub fn to_reason(&self) -> Reason {
        Reason::new(self.code(), self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_of_ward_s_own_checks_carry_their_codes() {
        assert_eq!(
            VerifyError::TrustedRoot("x".into()).code(),
            ReasonCode::TrustedRootInvalid
        );
        assert_eq!(
            VerifyError::ClaimsMismatch("x".into()).code(),
            ReasonCode::ProvenanceClaimsMismatch
        );
    }
}
