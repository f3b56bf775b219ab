//! Rebuild attestations: an independent rebuilder's signed word that it
//! rebuilt the artifact from source and got the same thing (or did not).
//!
//! The format is OSS Rebuild's (`rebuild.intoto.jsonl`): DSSE envelopes, one
//! a line, each an in-toto Statement v1 with an SLSA v1 predicate.
//!
//! - `ArtifactEquivalence@v0.1`: the subject is the published artifact; its
//!   `externalParameters.candidate` names the rebuilt one, whose digests are
//!   in `resolvedDependencies`.
//! - `Rebuild@v0.1` (optional): the subject is the rebuilt artifact (the
//!   candidate); it names the package, the source repository and commit
//!   (`git+…` in `resolvedDependencies`) and the build steps (`steps.json`,
//!   `Dockerfile` byproducts).
//! - ward's own `ArtifactDivergence@v0.1` (written by `ward rebuild compare
//!   --attest` when the rebuild differs) has the equivalence's layout and
//!   says the opposite.
//!
//! rebuilderd's signed in-toto links (`rebuild FILE`, with the rebuilt
//! file as a product) are read by [`crate::rebuild_link`].
//!
//! Every envelope must verify under a trusted key, the equivalence's subject
//! must carry exactly this artifact's SHA-256 and SHA-512 (each one it
//! names), and the Rebuild statement's subject must be the candidate the
//! equivalence compared, signed by the same rebuilder. Written here because
//! no crate reads these statements; DSSE is [`crate::dsse`].

use crate::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::provenance::normalize_repo;
use crate::statement::{Statement, Subject};
use crate::{ArtifactRef, EvidenceFile, PublicKey, VerifyError};
use crate::{Fact, Rebuild, RebuildOutcome, SignerIdentity};
use base64::Engine as _;
use serde_json::Value;
use sha2::Digest as _;
use std::collections::BTreeMap;
use ward_core::{Reason, ReasonCode};

/// OSS Rebuild's equivalence build type: the artifact equals the rebuild.
pub const ARTIFACT_EQUIVALENCE: &str = "https://docs.oss-rebuild.dev/builds/ArtifactEquivalence@v0.1";
/// OSS Rebuild's rebuild build type: how the candidate was built.
pub const REBUILD: &str = "https://docs.oss-rebuild.dev/builds/Rebuild@v0.1";
/// ward's divergence build type: the rebuild does not equal the artifact.
pub const ARTIFACT_DIVERGENCE: &str = "https://ward.invalid/builds/ArtifactDivergence@v0.1";
/// The payload type OSS Rebuild writes (the statement type, not the DSSE
/// media type); accepted beside `application/vnd.in-toto+json`.
pub const OSS_REBUILD_PAYLOAD_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The sidecar suffix: `ARTIFACT.rebuild.intoto.jsonl`.
pub const SIDECAR_SUFFIX: &str = ".rebuild.intoto.jsonl";

/// Most envelopes read from one rebuild file (OSS Rebuild writes two).
const MAX_ENVELOPES: usize = 16;

/// Why a rebuild attestation was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RebuildError {
    /// Not a rebuild attestation ward reads.
    #[error("malformed rebuild attestation: {0}")]
    Malformed(String),
    /// The equivalence statement is about other bytes.
    #[error("rebuild attestation is not about this artifact: {0}")]
    SubjectMismatch(String),
    /// The Rebuild statement is about another candidate.
    #[error("rebuild statements disagree: {0}")]
    CandidateMismatch(String),
    /// No key to check the rebuilder's signature with.
    #[error("a rebuild attestation needs the rebuilder's public key: pass --key, or name it in a policy [[rebuilder]]")]
    NoKey,
    /// The envelope failed to verify (signature, key, payload type, size).
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl RebuildError {
    /// The stable reason code.
    pub fn code(&self) -> ReasonCode {
        match self {
            RebuildError::Malformed(_) => ReasonCode::RebuildMalformed,
            RebuildError::SubjectMismatch(_) => ReasonCode::RebuildSubjectMismatch,
            RebuildError::CandidateMismatch(_) => ReasonCode::RebuildCandidateMismatch,
            RebuildError::NoKey => ReasonCode::KeyNotTrusted,
            RebuildError::Verify(e) => e.code(),
        }
    }

    /// Whether the file could not be read at all (exit 2).
    pub fn is_unreadable(&self) -> bool {
        matches!(self, RebuildError::Verify(e) if e.is_unreadable())
    }

    /// As a decision reason.
    pub fn to_reason(&self) -> Reason {
        Reason::new(self.code(), self.to_string())
    }
}

/// One verified statement: which trusted keys signed it, and what it says.
struct Signed {
    fingerprints: Vec<String>,
    statement: Statement,
    build_type: String,
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Reads every envelope in the file (JSON lines, or one JSON value) and
/// verifies each under `keys`: an envelope no trusted key signed refuses
/// the whole file.
fn read_signed(bytes: &[u8], keys: &[PublicKey]) -> Result<Vec<Signed>, RebuildError> {
    if keys.is_empty() {
        return Err(RebuildError::NoKey);
    }
    crate::evidence::check_depth(bytes, crate::evidence::MAX_JSON_DEPTH)?;
    let lines =
        std::str::from_utf8(bytes).map_err(|e| RebuildError::Malformed(format!("the file is not UTF-8: {e}")))?;
    let mut values = Vec::new();
    for (n, line) in lines.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        if values.len() == MAX_ENVELOPES {
            return Err(RebuildError::Malformed(format!(
                "more than {MAX_ENVELOPES} envelopes in one file"
            )));
        }
        let value: Value = serde_json::from_str(line)
            .map_err(|e| RebuildError::Malformed(format!("line {}: not JSON: {e}", n + 1)))?;
        values.push(value);
    }
    if values.is_empty() {
        return Err(RebuildError::Malformed("the file holds no envelopes".into()));
    }
    values
        .iter()
        .map(|value| {
            let envelope = Envelope::from_value(value)
                .map_err(|e| RebuildError::Malformed(format!("not a DSSE envelope: {e}")))?;
            if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE && envelope.payload_type != OSS_REBUILD_PAYLOAD_TYPE {
                return Err(VerifyError::PayloadType(envelope.payload_type).into());
            }
            // The signature first: nothing an untrusted party wrote is read.
            let fingerprints = envelope.verify(keys)?;
            let statement = Statement::parse(&envelope.payload).map_err(|e| RebuildError::Malformed(e.to_string()))?;
            let build_type = text(&statement.predicate, "/buildDefinition/buildType").unwrap_or_default();
            Ok(Signed {
                fingerprints,
                statement,
                build_type,
            })
        })
        .collect()
}

/// The digests two descriptions share must be equal, and they must share one.
fn same_digests(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Result<(), String> {
    let mut shared = 0;
    for (alg, x) in a {
        if let Some(y) = b.get(alg) {
            if !x.eq_ignore_ascii_case(y) {
                return Err(format!("{alg} {x} is not {y}"));
            }
            shared += 1;
        }
    }
    if shared == 0 {
        return Err("no digest algorithm in common".into());
    }
    Ok(())
}

/// The artifact's digests, as a statement would list them.
fn artifact_digests(artifact: ArtifactRef<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::from([("sha256".to_string(), hex::encode(artifact.sha256))]);
    if let Some(sha512) = artifact.sha512 {
        out.insert("sha512".into(), hex::encode(sha512));
    }
    out
}

/// The subject that is this artifact: every digest it names that ward
/// computed must be equal, and it must name sha256 or sha512.
fn artifact_subject<'s>(statement: &'s Statement, artifact: ArtifactRef<'_>) -> Result<&'s Subject, RebuildError> {
    let ours = artifact_digests(artifact);
    let mut why = Vec::new();
    for subject in &statement.subject {
        match same_digests(&subject.digest, &ours) {
            Ok(()) => return Ok(subject),
            Err(e) => why.push(format!("{:?}: {e}", subject.name)),
        }
    }
    Err(RebuildError::SubjectMismatch(if why.is_empty() {
        "the equivalence statement has no subject".into()
    } else {
        format!(
            "the equivalence statement's subject is other bytes ({}); the artifact has sha256 {}",
            why.join("; "),
            hex::encode(artifact.sha256)
        )
    }))
}

/// A `resolvedDependencies` entry's digests, by its name.
fn dependency_digests(predicate: &Value, name: &str) -> Option<BTreeMap<String, String>> {
    predicate
        .pointer("/buildDefinition/resolvedDependencies")?
        .as_array()?
        .iter()
        .find(|d| d.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|d| serde_json::from_value(d.get("digest")?.clone()).ok())
}

/// `sha256:` of a byproduct's decoded content, by name.
fn byproduct_digest(predicate: &Value, name: &str) -> Option<String> {
    let content = predicate
        .pointer("/runDetails/byproducts")?
        .as_array()?
        .iter()
        .find(|b| b.get("name").and_then(Value::as_str) == Some(name))?
        .get("content")?
        .as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(content).ok()?;
    Some(format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes))))
}

/// The source a Rebuild statement names: the first `git+` dependency.
fn source(predicate: &Value) -> (Option<String>, Option<String>) {
    let deps = predicate
        .pointer("/buildDefinition/resolvedDependencies")
        .and_then(Value::as_array);
    for dep in deps.into_iter().flatten() {
        let name = dep
            .get("name")
            .or_else(|| dep.get("uri"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        // `git+URL` names the repository; a bare `git` (ward rebuild run
        // from a checkout with no known URL) only the commit.
        let repo = match name.strip_prefix("git+") {
            Some(repo) => Some(normalize_repo(repo.split_once('@').map_or(repo, |(r, _)| r))),
            None if name == "git" => None,
            None => continue,
        };
        let commit = text(dep, "/digest/gitCommit").or_else(|| text(dep, "/digest/sha1"));
        return (repo, commit.map(|c| c.to_ascii_lowercase()));
    }
    (None, None)
}

/// Verifies a rebuild attestation file for the artifact. On success,
/// returns for each trusted key that signed the equivalence (or
/// divergence) a [`Fact::Signature`] and a [`Fact::Rebuild`].
pub fn verify(file: &EvidenceFile, artifact: ArtifactRef<'_>, keys: &[PublicKey]) -> Result<Vec<Fact>, RebuildError> {
    crate::evidence::check_depth(file.bytes(), crate::evidence::MAX_JSON_DEPTH)?;
    // A whole-file JSON value that is an in-toto link: rebuilderd's format.
    if let Ok(value) = serde_json::from_slice::<Value>(file.bytes())
        && crate::rebuild_link::is_link(&value)
    {
        return crate::rebuild_link::verify(file, &value, artifact, keys);
    }
    let signed = read_signed(file.bytes(), keys)?;
    let mut comparisons = signed
        .iter()
        .filter(|s| s.build_type == ARTIFACT_EQUIVALENCE || s.build_type == ARTIFACT_DIVERGENCE);
    let comparison = comparisons.next().ok_or_else(|| {
        RebuildError::Malformed(format!(
            "no statement of build type {ARTIFACT_EQUIVALENCE} (or {ARTIFACT_DIVERGENCE}) in the file"
        ))
    })?;
    if comparisons.next().is_some() {
        return Err(RebuildError::Malformed(
            "more than one equivalence statement in one file; which one counts is ambiguous".into(),
        ));
    }
    let rebuilds: Vec<&Signed> = signed.iter().filter(|s| s.build_type == REBUILD).collect();
    if rebuilds.len() > 1 {
        return Err(RebuildError::Malformed(
            "more than one Rebuild statement in one file".into(),
        ));
    }
    let p = &comparison.statement.predicate;
    let subject = artifact_subject(&comparison.statement, artifact)?;
    let candidate = text(p, "/buildDefinition/externalParameters/candidate")
        .ok_or_else(|| RebuildError::Malformed("the equivalence statement names no candidate".into()))?;
    let candidate_digests = dependency_digests(p, &candidate).ok_or_else(|| {
        RebuildError::Malformed(format!(
            "the equivalence statement gives no digest for its candidate {candidate:?}"
        ))
    })?;
    // The upstream artifact it compared against must be the subject too.
    if let Some(target) = text(p, "/buildDefinition/externalParameters/target")
        && let Some(target_digests) = dependency_digests(p, &target)
        && let Err(e) = same_digests(&target_digests, &subject.digest)
    {
        return Err(RebuildError::SubjectMismatch(format!(
            "the equivalence statement compared {target} but its subject is other bytes ({e})"
        )));
    }
    let candidate_sha256 = candidate_digests.get("sha256").map(|d| format!("sha256:{d}"));
    let mut rebuild = Rebuild {
        outcome: if comparison.build_type == ARTIFACT_DIVERGENCE {
            RebuildOutcome::Diverged
        } else {
            RebuildOutcome::Reproduced
        },
        build_type: comparison.build_type.clone(),
        rebuilder: text(p, "/runDetails/builder/id"),
        package: None,
        source_repository: None,
        source_commit: None,
        rebuild_type: None,
        build_steps_digest: None,
        rebuilt_digest: candidate_sha256,
    };
    let mut signers = comparison.fingerprints.clone();
    if let Some(r) = rebuilds.first() {
        let matches = r
            .statement
            .subject
            .iter()
            .any(|s| same_digests(&s.digest, &candidate_digests).is_ok());
        if !matches {
            return Err(RebuildError::CandidateMismatch(format!(
                "the Rebuild statement's subject is not the candidate {candidate:?} the equivalence statement compared"
            )));
        }
        // One rebuilder's word: the keys that signed both statements.
        signers.retain(|fp| r.fingerprints.contains(fp));
        if signers.is_empty() {
            return Err(RebuildError::CandidateMismatch(
                "the Rebuild and equivalence statements are signed by different keys".into(),
            ));
        }
        let rp = &r.statement.predicate;
        let ext = |k: &str| text(rp, &format!("/buildDefinition/externalParameters/{k}"));
        rebuild.package = match (ext("ecosystem"), ext("package"), ext("version")) {
            (Some(e), Some(n), Some(v)) => Some(format!("{e}/{n}@{v}")),
            (_, Some(n), Some(v)) => Some(format!("{n}@{v}")),
            _ => None,
        };
        (rebuild.source_repository, rebuild.source_commit) = source(rp);
        rebuild.build_steps_digest = byproduct_digest(rp, "steps.json").or_else(|| byproduct_digest(rp, "Dockerfile"));
        rebuild.rebuild_type = Some(r.build_type.clone());
    }
    let signer_of = |fp: &String| SignerIdentity::Key {
        fingerprint: fp.clone(),
        algorithm: keys
            .iter()
            .find(|k| k.fingerprint() == fp)
            .map(|k| format!("{:?}", k.kind()))
            .unwrap_or_default(),
    };
    let mut facts = Vec::new();
    for fp in &signers {
        facts.push(Fact::Signature {
            signer: signer_of(fp),
            evidence: file.label().to_string(),
            signed_at: None,
            transparency_log: false,
            predicate_type: Some(comparison.build_type.clone()),
        });
        facts.push(Fact::Rebuild {
            rebuild: rebuild.clone(),
            signer: signer_of(fp),
            evidence: file.label().to_string(),
        });
    }
    Ok(facts)
}

/// Rebuilds from another source than the verified provenance names:
/// `rebuild-source-mismatch`, one reason for each disagreeing pair.
pub fn reconcile_with_provenance<'f>(facts: impl Iterator<Item = &'f Fact> + Clone) -> Vec<Reason> {
    let mut out = Vec::new();
    for f in facts.clone() {
        let Fact::Rebuild { rebuild, evidence, .. } = f else {
            continue;
        };
        for p in facts.clone() {
            let Fact::Provenance { provenance, .. } = p else {
                continue;
            };
            let commit = match (&rebuild.source_commit, &provenance.source_commit) {
                (Some(r), Some(p)) if !r.eq_ignore_ascii_case(p) => {
                    Some(format!("commit {r}, the provenance names {p}"))
                }
                _ => None,
            };
            let repo = match (&rebuild.source_repository, &provenance.source_repository) {
                (Some(r), Some(p)) if !normalize_repo(r).eq_ignore_ascii_case(&normalize_repo(p)) => {
                    Some(format!("repository {r}, the provenance names {p}"))
                }
                _ => None,
            };
            for what in [repo, commit].into_iter().flatten() {
                out.push(Reason::new(
                    ReasonCode::RebuildSourceMismatch,
                    format!("the rebuild in {evidence} was built from {what}"),
                ));
            }
        }
    }
    out.sort_by(|a, b| a.message.cmp(&b.message));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn data() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/oss-rebuild")
    }

    fn chalk() -> (ArtifactRef<'static>, EvidenceFile, PublicKey) {
        let bytes = std::fs::read(data().join("chalk-5.6.0.tgz")).unwrap();
        let file = EvidenceFile::read(&data().join("chalk-5.6.0.tgz.rebuild.intoto.jsonl"), "chalk.rebuild").unwrap();
        let key = PublicKey::from_file(&data().join("oss-rebuild.pub")).unwrap();
        (target(&bytes), file, key)
    }

    fn target(bytes: &[u8]) -> ArtifactRef<'static> {
        ArtifactRef {
            sha256: sha2::Sha256::digest(bytes).into(),
            sha512: Some(sha2::Sha512::digest(bytes).into()),
            path: None,
        }
    }

    /// The real OSS Rebuild attestation for chalk 5.6.0 verifies under the
    /// service's real key, with the source and build facts it states.
    #[test]
    fn real_chalk_attestation_verifies() {
        let (artifact, file, key) = chalk();
        let facts = verify(&file, artifact, std::slice::from_ref(&key)).unwrap();
        let rebuild = facts
            .iter()
            .find_map(|f| match f {
                Fact::Rebuild { rebuild, .. } => Some(rebuild),
                _ => None,
            })
            .unwrap();
        assert_eq!(rebuild.outcome, RebuildOutcome::Reproduced);
        assert_eq!(
            rebuild.rebuilder.as_deref(),
            Some("https://docs.oss-rebuild.dev/hosts/Google")
        );
        assert_eq!(rebuild.package.as_deref(), Some("npm/chalk@5.6.0"));
        assert_eq!(
            rebuild.source_repository.as_deref(),
            Some("https://github.com/chalk/chalk")
        );
        assert_eq!(
            rebuild.source_commit.as_deref(),
            Some("5c91505e184aff4609c0a7fb235770c2f71db4a3")
        );
        assert_eq!(
            rebuild.rebuilt_digest.as_deref(),
            Some("sha256:6ecef29710252b6d46f639e45c6a1ba8b400f499dbc8eff645045d07ce08bf45")
        );
        assert!(rebuild.build_steps_digest.as_deref().unwrap().starts_with("sha256:"));
        assert!(
            matches!(&facts[0], Fact::Signature { signer: SignerIdentity::Key { fingerprint, .. }, .. } if fingerprint == key.fingerprint())
        );
    }

    #[test]
    fn a_changed_byte_is_another_artifact() {
        let (_, file, key) = chalk();
        let mut bytes = std::fs::read(data().join("chalk-5.6.0.tgz")).unwrap();
        bytes[100] ^= 1;
        let e = verify(&file, target(&bytes), &[key]).unwrap_err();
        assert_eq!(e.code(), ReasonCode::RebuildSubjectMismatch, "{e}");
    }

    #[test]
    fn another_key_does_not_verify() {
        let (artifact, file, _) = chalk();
        let other = PublicKey::parse(
            b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExRRST79+PsrRBnGAI4cMu6Omz2Jh\nfwlMW+gIutNKVRaMyS4rQKvgngc5p8UbLj55pVHhIoAxi/SRgURZI0J3Xw==\n-----END PUBLIC KEY-----\n",
            "other",
        )
        .unwrap();
        let e = verify(&file, artifact, &[other]).unwrap_err();
        assert_eq!(e.code(), ReasonCode::SignatureInvalid, "{e}");
        let e = verify(&file, artifact, &[]).unwrap_err();
        assert_eq!(e.code(), ReasonCode::KeyNotTrusted, "{e}");
    }

    /// A real statement about another file (the neighbouring release) does
    /// not vouch for this one.
    #[test]
    fn statements_of_another_artifact_are_refused() {
        let (_, file, key) = chalk();
        let other = std::fs::read(data().join("../npm-neighbours/chalk-5.6.2.tgz")).unwrap();
        let e = verify(&file, target(&other), &[key]).unwrap_err();
        assert_eq!(e.code(), ReasonCode::RebuildSubjectMismatch, "{e}");
    }

    /// A Rebuild statement from one file and an equivalence from another:
    /// signed, each real, but not one rebuild. Modelled by giving the
    /// equivalence a candidate the Rebuild statement is not about.
    #[test]
    fn malformed_files_are_refused() {
        let (artifact, _, key) = chalk();
        for bytes in [&b""[..], b"not json\n", b"{\"payloadType\":\"x\"}\n"] {
            let file = EvidenceFile::from_bytes("bad", bytes.to_vec());
            let e = verify(&file, artifact, std::slice::from_ref(&key)).unwrap_err();
            assert_eq!(e.code(), ReasonCode::RebuildMalformed, "{e}");
        }
        // Only the Rebuild line: no equivalence statement.
        let text = std::fs::read_to_string(data().join("chalk-5.6.0.tgz.rebuild.intoto.jsonl")).unwrap();
        let second = text.lines().nth(1).unwrap();
        let file = EvidenceFile::from_bytes("half", second.as_bytes().to_vec());
        let e = verify(&file, artifact, &[key]).unwrap_err();
        assert_eq!(e.code(), ReasonCode::RebuildMalformed, "{e}");
    }

    #[test]
    fn provenance_from_another_commit_is_a_source_mismatch() {
        let (artifact, file, key) = chalk();
        let facts = verify(&file, artifact, &[key]).unwrap();
        let provenance = |commit: &str| Fact::Provenance {
            provenance: crate::Provenance {
                source_repository: Some("https://github.com/chalk/chalk".into()),
                source_commit: Some(commit.into()),
                ..Default::default()
            },
            signer: SignerIdentity::Key {
                fingerprint: "sha256:x".into(),
                algorithm: String::new(),
            },
            evidence: "prov".into(),
        };
        let same = provenance("5C91505E184AFF4609C0A7FB235770C2F71DB4A3");
        assert!(reconcile_with_provenance(facts.iter().chain([&same])).is_empty());
        let other = provenance("0000000000000000000000000000000000000000");
        let reasons = reconcile_with_provenance(facts.iter().chain([&other]));
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].code, ReasonCode::RebuildSourceMismatch);
    }
}
