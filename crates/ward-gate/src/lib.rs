//! The gate: one function from artifact and evidence to a decision.
//!
//! `ward verify`, the registry proxy and the audit of installed packages all
//! call [`Gate::evaluate`], so they cannot drift apart. The stages run in
//! the order of the pipeline: identify (digests, identity, archive safety),
//! verify (every piece of evidence presented), decide (ward's safe default:
//! every check passes and at least one signature verified).

#![forbid(unsafe_code)]

use serde::Serialize;
use std::path::{Path, PathBuf};
use ward_core::{Artifact, Check, Decision, Fact, PackageId, Reason, ReasonCode, SignerIdentity};
use ward_identify::{Limits, Options};
use ward_verify::{ArtifactRef, PublicKey, SignerRequirement, SigstoreBundle, TrustRoot, VerifyError};

/// The evidence presented with an artifact.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// Sigstore bundle files.
    pub bundles: Vec<PathBuf>,
    /// Detached signature files (raw or base64), checked with `keys`.
    pub signatures: Vec<PathBuf>,
    /// Trusted public keys (for detached signatures and key-hint bundles).
    pub keys: Vec<PublicKey>,
    /// Keys that were presented but refused (weak, unknown or malformed),
    /// with why: each is a failed check, so the artifact is denied.
    pub refused_keys: Vec<(String, Reason)>,
    /// The keyless signer that is trusted.
    pub signer: SignerRequirement,
}

impl Evidence {
    /// Reads a key file into `keys`, or into `refused_keys` when the key is
    /// weak, unknown or malformed. Only an unreadable file is an error.
    pub fn add_key_file(&mut self, path: &Path) -> Result<(), GateError> {
        match PublicKey::from_file(path) {
            Ok(key) => self.keys.push(key),
            Err(e) if e.is_unreadable() => return Err(GateError::Evidence(e)),
            Err(e) => self.refused_keys.push((path.display().to_string(), e.to_reason())),
        }
        Ok(())
    }

    /// Adds sidecar files next to the artifact (`NAME.sigstore.json`,
    /// `NAME.sigstore`, `NAME.sig`) when no bundle or signature was given.
    pub fn discover_sidecars(&mut self, artifact: &Path) {
        if !self.bundles.is_empty() || !self.signatures.is_empty() {
            return;
        }
        let name = artifact.as_os_str().to_string_lossy();
        for suffix in [".sigstore.json", ".sigstore"] {
            let candidate = PathBuf::from(format!("{name}{suffix}"));
            if candidate.is_file() {
                self.bundles.push(candidate);
            }
        }
        let sig = PathBuf::from(format!("{name}.sig"));
        if sig.is_file() && !self.keys.is_empty() {
            self.signatures.push(sig);
        }
    }
}

/// Why an artifact could not be evaluated at all (exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// The artifact is unreadable.
    #[error(transparent)]
    Artifact(#[from] ward_identify::ReadError),
    /// An evidence file is unreadable.
    #[error(transparent)]
    Evidence(VerifyError),
}

/// Everything ward found out about one artifact, and the decision.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// The identified artifact.
    pub artifact: Artifact,
    /// Each check, in pipeline order.
    pub checks: Vec<Check>,
    /// The decision.
    pub decision: Decision,
}

impl Evaluation {
    /// The verified facts, across all checks.
    pub fn facts(&self) -> impl Iterator<Item = &Fact> {
        self.checks.iter().flat_map(|c| &c.facts)
    }
}

/// The configured gate. Build once, evaluate many artifacts.
#[derive(Clone)]
pub struct Gate {
    trust_root: TrustRoot,
    limits: Limits,
}

impl Gate {
    /// A gate over a trusted root with default archive limits.
    pub fn new(trust_root: TrustRoot) -> Self {
        Self {
            trust_root,
            limits: Limits::default(),
        }
    }

    /// Replaces the archive limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Runs the pipeline for one artifact.
    pub fn evaluate(
        &self,
        artifact_path: &Path,
        purl: Option<PackageId>,
        evidence: &Evidence,
    ) -> Result<Evaluation, GateError> {
        let identified = ward_identify::identify(
            artifact_path,
            &Options {
                purl,
                limits: self.limits.clone(),
            },
        )?;
        let artifact = identified.artifact;
        let mut checks = vec![match &identified.problem {
            None => Check::pass("archive", None, Vec::new()),
            Some(problem) => Check::fail("archive", None, problem.to_reason()),
        }];
        for (label, reason) in &evidence.refused_keys {
            checks.push(Check::fail("key", Some(label.clone()), reason.clone()));
        }
        let target = ArtifactRef {
            sha256: artifact.digests.sha256.0,
            path: Some(artifact_path),
        };
        for path in &evidence.bundles {
            checks.push(self.check_bundle(path, target, evidence)?);
        }
        for path in &evidence.signatures {
            checks.push(check_detached(path, target, &evidence.keys)?);
        }
        let decision = Decision::from_checks(&checks);
        Ok(Evaluation {
            artifact,
            checks,
            decision,
        })
    }

    fn check_bundle(&self, path: &Path, target: ArtifactRef<'_>, evidence: &Evidence) -> Result<Check, GateError> {
        let label = Some(path.display().to_string());
        let outcome = SigstoreBundle::from_file(path)
            .and_then(|bundle| bundle.verify(&self.trust_root, target, &evidence.keys, &evidence.signer));
        match outcome {
            Ok(fact) => Ok(Check::pass("sigstore-bundle", label, vec![fact])),
            Err(e) if e.is_unreadable() => Err(GateError::Evidence(e)),
            Err(e) => Ok(Check::fail("sigstore-bundle", label, e.to_reason())),
        }
    }
}

fn check_detached(path: &Path, target: ArtifactRef<'_>, keys: &[PublicKey]) -> Result<Check, GateError> {
    let label = Some(path.display().to_string());
    let bytes = std::fs::read(path).map_err(|source| {
        GateError::Evidence(VerifyError::Unreadable {
            path: path.to_path_buf(),
            source,
        })
    })?;
    if keys.is_empty() {
        let reason = Reason::new(
            ReasonCode::KeyNotTrusted,
            "a detached signature needs a trusted key: pass --key",
        );
        return Ok(Check::fail("signature", label, reason));
    }
    let signature = ward_verify::read_detached_signature(&bytes);
    let mut last = None;
    for key in keys {
        match key.verify_detached(&target.sha256, target.path, &signature) {
            Ok(scheme) => {
                let fact = Fact::Signature {
                    signer: SignerIdentity::Key {
                        fingerprint: key.fingerprint().to_string(),
                        algorithm: scheme.name().to_string(),
                    },
                    evidence: path.display().to_string(),
                    signed_at: None,
                    transparency_log: false,
                    predicate_type: None,
                };
                return Ok(Check::pass("signature", label, vec![fact]));
            }
            Err(e) if e.is_unreadable() => return Err(GateError::Evidence(e)),
            Err(e) => last = Some(e),
        }
    }
    let reason = match (keys.len(), last) {
        (1, Some(e)) => e.to_reason(),
        (n, _) => Reason::new(
            ReasonCode::SignatureInvalid,
            format!(
                "the signature in {} verifies under none of the {n} trusted keys",
                path.display()
            ),
        ),
    };
    Ok(Check::fail("signature", label, reason))
}
