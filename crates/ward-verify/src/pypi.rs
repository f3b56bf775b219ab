//! PyPI PEP 740 attestations and provenance objects, and Trusted Publisher
//! matching as the `pypi-attestations` reference implementation does it.

use crate::VerifyError;
use crate::bundle::CertificateClaims;
use serde_json::{Value, json};

/// The PyPI publish attestation predicate.
pub const PYPI_PUBLISH_V1: &str = "https://docs.pypi.org/attestations/publish/v1";

/// A Trusted Publisher named in a provenance object.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Publisher {
    /// `GitHub` or `GitLab` (others are reported, not matched).
    pub kind: String,
    /// `owner/repo` (GitHub) or `group/project` (GitLab).
    pub repository: String,
    /// The workflow file name (GitHub) or CI file path (GitLab).
    pub workflow: String,
}

impl Publisher {
    fn from_value(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        Some(Self {
            kind: s("kind")?,
            repository: s("repository")?,
            workflow: s("workflow").or_else(|| s("workflow_filepath")).unwrap_or_default(),
        })
    }

    /// Checks the signing certificate's claims against the publisher.
    pub fn check(&self, claims: Option<&CertificateClaims>) -> Result<(), VerifyError> {
        let claims = claims.ok_or_else(|| {
            VerifyError::PublisherMismatch("a Trusted Publisher attestation must be signed keylessly".into())
        })?;
        let (repo_url, signer_prefix) = match self.kind.as_str() {
            "GitHub" => (
                format!("https://github.com/{}", self.repository),
                format!(
                    "https://github.com/{}/.github/workflows/{}@",
                    self.repository, self.workflow
                ),
            ),
            "GitLab" => (
                format!("https://gitlab.com/{}", self.repository),
                format!("https://gitlab.com/{}//{}@", self.repository, self.workflow),
            ),
            other => {
                return Err(VerifyError::PublisherMismatch(format!(
                    "Trusted Publisher kind {other:?} is not supported"
                )));
            }
        };
        let source = claims.source_repository.as_deref().unwrap_or_default();
        if !source.eq_ignore_ascii_case(&repo_url) {
            return Err(VerifyError::PublisherMismatch(format!(
                "Trusted Publisher repository is {repo_url}, but the certificate was issued to {source}"
            )));
        }
        let signer = claims.build_signer.as_deref().unwrap_or_default();
        if !signer
            .to_ascii_lowercase()
            .starts_with(&signer_prefix.to_ascii_lowercase())
        {
            return Err(VerifyError::PublisherMismatch(format!(
                "Trusted Publisher workflow is {signer_prefix}…, but the certificate's build signer is {signer}"
            )));
        }
        Ok(())
    }
}

/// Whether the value is a PEP 740 attestation object.
pub fn is_attestation(v: &Value) -> bool {
    v.get("envelope").is_some() && v.get("verification_material").is_some()
}

/// Whether the value is a PEP 740 provenance object.
pub fn is_provenance(v: &Value) -> bool {
    v.get("attestation_bundles").is_some_and(|b| b.is_array())
}

/// Converts a PEP 740 attestation into the equivalent Sigstore bundle v0.3.
pub fn attestation_to_bundle(v: &Value) -> Result<Value, VerifyError> {
    let bad = |what: &str| VerifyError::AttestationMalformed(format!("PyPI attestation without {what}"));
    if v.get("version").and_then(|x| x.as_u64()) != Some(1) {
        return Err(VerifyError::AttestationMalformed(
            "PyPI attestation version is not 1".into(),
        ));
    }
    let cert = v
        .pointer("/verification_material/certificate")
        .and_then(|c| c.as_str())
        .ok_or_else(|| bad("a certificate"))?;
    let entries = v
        .pointer("/verification_material/transparency_entries")
        .cloned()
        .ok_or_else(|| bad("transparency entries"))?;
    let statement = v
        .pointer("/envelope/statement")
        .and_then(|s| s.as_str())
        .ok_or_else(|| bad("a statement"))?;
    let signature = v
        .pointer("/envelope/signature")
        .and_then(|s| s.as_str())
        .ok_or_else(|| bad("a signature"))?;
    Ok(json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": { "certificate": { "rawBytes": cert }, "tlogEntries": entries },
        "dsseEnvelope": {
            "payload": statement,
            "payloadType": crate::dsse::IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{ "sig": signature }]
        }
    }))
}

/// The bundles of a provenance object, each with its publisher.
pub fn provenance_bundles(v: &Value) -> Vec<(Option<Publisher>, Result<Value, VerifyError>)> {
    let mut out = Vec::new();
    for b in v
        .get("attestation_bundles")
        .and_then(|x| x.as_array())
        .into_iter()
        .flatten()
    {
        let publisher = b.get("publisher").and_then(Publisher::from_value);
        for a in b.get("attestations").and_then(|x| x.as_array()).into_iter().flatten() {
            out.push((publisher.clone(), attestation_to_bundle(a)));
        }
    }
    out
}
