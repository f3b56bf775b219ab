//! Decision records: what the ledger stores for each decision.
//!
//! A record is an in-toto Statement v1 whose subject is the artifact
//! (purl, SHA-256, SHA-512) and whose predicate, shaped after the SLSA
//! Verification Summary Attestation, says when, under which policy, on which
//! evidence, with which verified facts and reasons ward decided. It is signed
//! as a DSSE envelope with the ledger's own Ed25519 key, so a third party
//! holding only the verifier key can check both the checkpoint and the record.
//!
//! [`DecisionRecord`] is the one typed shape of a record: the gate builds it
//! to write an entry ([`DecisionRecord::sign`]) and every reader gets it back
//! from an entry ([`read_record`]), so nothing reads ledger JSON by string
//! keys; the indexes derived from the log read the same entries through
//! `IndexedRecord`, a typed view that also reads records of earlier formats
//! (decoded once per entry for both the pins and the release history).
//! Entries are written as JSON with sorted keys (the record is turned
//! into a [`serde_json::Value`] first), byte for byte as before the type
//! existed. The facts are carried as the JSON they were serialised to:
//! proven facts are only ever made by verification, never read back into
//! facts.
//!
//! Entries of other kinds (alerts, ticket transitions, trust roots, …) are
//! [`crate::event::EventRecord`]s, told apart by their predicate type;
//! [`crate::event::read_entry`] reads any entry by that tag.

use crate::note::{NoteSigner, NoteVerifier};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ward_core::{Artifact, ArtifactKind, Decision, EvidenceRef, Reason};
use ward_verify::Check;

/// The predicate type of ward's decision records.
pub const DECISION_PREDICATE: &str = "https://ward.invalid/attestation/decision/v1";
const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub(crate) const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub(crate) const VERIFIER_ID: &str = "https://ward.invalid/ward";
/// How a decision made without a policy file names its policy.
pub const SAFE_DEFAULT_POLICY: &str = "ward:safe-default";

/// A decision record: an in-toto statement about one artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionRecord {
    /// `https://in-toto.io/Statement/v1`.
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The artifact: its purl and digests.
    pub subject: Vec<RecordSubject>,
    /// [`DECISION_PREDICATE`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// What ward decided, and why.
    pub predicate: DecisionPredicate,
}

/// The artifact a record is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordSubject {
    /// The package URL.
    pub name: String,
    /// Its digests, lower-case hex.
    pub digest: SubjectDigest,
}

/// A subject's digests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubjectDigest {
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// SHA-512, lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
}

/// Allow or deny, as the SLSA Verification Summary names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum VerificationResult {
    /// Allowed.
    #[serde(rename = "PASSED")]
    Passed,
    /// Denied (and what a record that says neither is read as).
    #[default]
    #[serde(rename = "FAILED")]
    Failed,
}

/// What ward decided about the subject, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DecisionPredicate {
    /// Who decided: ward and its version.
    pub verifier: RecordVerifier,
    /// When.
    pub time_verified: jiff::Timestamp,
    /// The package URL again, as the VSA has it.
    pub resource_uri: String,
    /// Where the decision was made (`verify`, `proxy`).
    #[serde(default)]
    pub context: String,
    /// The artifact's file name, kind and size.
    pub artifact: RecordedArtifact,
    /// The policy, or [`SAFE_DEFAULT_POLICY`].
    pub policy: RecordedPolicy,
    /// Every evidence file, by the digest of the bytes verified.
    #[serde(default)]
    pub input_attestations: Vec<RecordedEvidence>,
    /// Allow (`PASSED`) or deny (`FAILED`).
    pub verification_result: VerificationResult,
    /// The verified facts, as serialised when the record was written.
    #[serde(default)]
    pub facts: Vec<Value>,
    /// Whether the facts were left out to keep the entry within its size limit.
    #[serde(default)]
    pub facts_omitted: bool,
    /// Why it was denied.
    #[serde(default)]
    pub reasons: Vec<Reason>,
    /// Failures of rules in `warn` mode.
    #[serde(default)]
    pub warnings: Vec<Reason>,
    /// Failures of rules in `audit` mode.
    #[serde(default)]
    pub audit: Vec<Reason>,
    /// The release history the cooldown and history rules compared (the
    /// registry's publish time, publisher and attestation flags of this and
    /// earlier releases, and the ledger's earlier allows), when the policy
    /// has such rules for the package. Absent from older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Value>,
}

/// Who decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordVerifier {
    /// `https://ward.invalid/ward`.
    pub id: String,
    /// ward's version.
    pub version: String,
}

/// The artifact's file name, kind and size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RecordedArtifact {
    /// The file name it was presented under.
    pub file_name: String,
    /// What kind of file it is.
    pub kind: ArtifactKind,
    /// Its size in bytes.
    pub size: u64,
}

/// The policy a decision was made under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordedPolicy {
    /// The policy file, or [`SAFE_DEFAULT_POLICY`].
    pub uri: String,
    /// The policy's digest (absent for the safe default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Sha256Digest>,
}

/// An evidence file, by the SHA-256 of the bytes verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordedEvidence {
    /// Where it came from (the path given, or the URL fetched).
    pub uri: String,
    /// Its digest.
    pub digest: Sha256Digest,
}

/// `{"sha256": "<hex>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Sha256Digest {
    /// Lower-case hex.
    pub sha256: String,
}

impl DecisionRecord {
    /// The record of one decision, facts included.
    pub fn new(
        artifact: &Artifact,
        checks: &[Check],
        decision: &Decision,
        evidence: &[EvidenceRef],
        time: jiff::Timestamp,
        version: &str,
        context: &str,
    ) -> Result<Self, RecordError> {
        let facts = checks
            .iter()
            .flat_map(|c| c.facts())
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| RecordError(format!("cannot serialise a fact: {e}")))?;
        let purl = artifact.id.to_purl();
        let policy = match &decision.policy {
            Some(p) => RecordedPolicy {
                uri: p.path.clone(),
                digest: Some(Sha256Digest {
                    sha256: p.digest.trim_start_matches("sha256:").to_string(),
                }),
            },
            None => RecordedPolicy {
                uri: SAFE_DEFAULT_POLICY.into(),
                digest: None,
            },
        };
        Ok(Self {
            statement_type: STATEMENT_TYPE.into(),
            subject: vec![RecordSubject {
                name: purl.clone(),
                digest: SubjectDigest {
                    sha256: artifact.digests.sha256.to_hex(),
                    sha512: Some(artifact.digests.sha512.to_hex()),
                },
            }],
            predicate_type: DECISION_PREDICATE.into(),
            predicate: DecisionPredicate {
                verifier: RecordVerifier {
                    id: VERIFIER_ID.into(),
                    version: version.into(),
                },
                time_verified: time,
                resource_uri: purl,
                context: context.into(),
                artifact: RecordedArtifact {
                    file_name: artifact.file_name.clone(),
                    kind: artifact.kind,
                    size: artifact.size,
                },
                policy,
                input_attestations: evidence
                    .iter()
                    .map(|e| RecordedEvidence {
                        uri: e.uri.clone(),
                        digest: Sha256Digest {
                            sha256: e.sha256.clone(),
                        },
                    })
                    .collect(),
                verification_result: if decision.allowed() {
                    VerificationResult::Passed
                } else {
                    VerificationResult::Failed
                },
                facts,
                facts_omitted: false,
                reasons: decision.reasons.clone(),
                warnings: decision.warnings.clone(),
                audit: decision.audit.clone(),
                release: None,
            },
        })
    }

    /// The same record with the release history its rules compared.
    pub fn with_release(mut self, release: Value) -> Self {
        self.predicate.release = Some(release);
        self
    }

    /// The artifact's package URL (the first subject's name).
    pub fn purl(&self) -> Option<&str> {
        self.subject.first().map(|s| s.name.as_str())
    }

    /// The artifact's SHA-256 (the first subject's), lower-case hex.
    pub fn sha256(&self) -> Option<&str> {
        self.subject.first().map(|s| s.digest.sha256.as_str())
    }

    /// Whether the decision allowed the artifact.
    pub fn allowed(&self) -> bool {
        self.predicate.verification_result == VerificationResult::Passed
    }

    /// The signed entry bytes (compact DSSE JSON), at most 64 KiB: when the
    /// facts would not fit, they are left out (and the record says so). A
    /// record that cannot be serialised is an error, never an empty payload.
    pub fn sign(&self, signer: &NoteSigner) -> Result<Vec<u8>, RecordError> {
        let full = envelope(&self.statement()?, signer)?;
        if full.len() <= crate::store::MAX_ENTRY_BYTES {
            return Ok(full);
        }
        let mut lean = self.clone();
        lean.predicate.facts.clear();
        lean.predicate.facts_omitted = true;
        envelope(&lean.statement()?, signer)
    }

    /// The statement as JSON with sorted keys (the entry's payload).
    pub fn statement(&self) -> Result<Value, RecordError> {
        serde_json::to_value(self).map_err(|e| RecordError(format!("cannot serialise the record: {e}")))
    }
}

fn pae(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", PAYLOAD_TYPE.len(), PAYLOAD_TYPE, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope over one statement, signed with the ledger key.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload_type: String,
    payload: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Serialize, Deserialize)]
struct EnvelopeSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

pub(crate) fn envelope(statement: &Value, signer: &NoteSigner) -> Result<Vec<u8>, RecordError> {
    let payload =
        serde_json::to_vec(statement).map_err(|e| RecordError(format!("cannot serialise the statement: {e}")))?;
    let sig = signer.sign_bytes(&pae(&payload));
    let b64 = base64::engine::general_purpose::STANDARD;
    let env = Envelope {
        payload_type: PAYLOAD_TYPE.into(),
        payload: b64.encode(&payload),
        signatures: vec![EnvelopeSignature {
            keyid: signer.verifier().to_vkey(),
            sig: b64.encode(sig),
        }],
    };
    // Through a Value, so the envelope's keys are sorted as they always were.
    let env = serde_json::to_value(&env).map_err(|e| RecordError(format!("cannot serialise the envelope: {e}")))?;
    serde_json::to_vec(&env).map_err(|e| RecordError(format!("cannot serialise the envelope: {e}")))
}

/// Why an entry is not a valid record of this ledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid decision record: {0}")]
pub struct RecordError(pub String);

/// Checks an entry's DSSE signature with the ledger key and returns its
/// statement as stored (for showing it whole, `ward ledger show`).
pub fn open_record(entry: &[u8], key: &NoteVerifier) -> Result<Value, RecordError> {
    let payload = verified_payload(entry, key)?;
    serde_json::from_slice(&payload).map_err(|e| RecordError(format!("payload is not JSON: {e}")))
}

/// Checks an entry's DSSE signature with the ledger key and reads it as a
/// [`DecisionRecord`].
pub fn read_record(entry: &[u8], key: &NoteVerifier) -> Result<DecisionRecord, RecordError> {
    let payload = verified_payload(entry, key)?;
    let record: DecisionRecord =
        serde_json::from_slice(&payload).map_err(|e| RecordError(format!("not a decision record: {e}")))?;
    if record.predicate_type != DECISION_PREDICATE {
        return Err(RecordError(format!(
            "predicate type {:?} is not a ward decision",
            record.predicate_type
        )));
    }
    Ok(record)
}

/// What the indexes derived from the log (release pins, release history)
/// read from a decision record: a typed view that tolerates records from
/// earlier formats, which may lack fields a [`DecisionRecord`] requires
/// (a pin must not be lost because its record is old).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IndexedRecord {
    predicate_type: String,
    #[serde(default)]
    subject: Vec<RecordSubject>,
    predicate: IndexedPredicate,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexedPredicate {
    artifact: IndexedArtifact,
    #[serde(default)]
    verification_result: VerificationResult,
    #[serde(default)]
    facts: Vec<Value>,
    #[serde(default)]
    release: Option<Value>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexedArtifact {
    file_name: String,
}

impl IndexedRecord {
    /// Reads an entry without checking its signature (the indexes read only
    /// entries the log itself appended, and can always be rebuilt from it).
    /// `None` for an entry that is not a decision record.
    pub(crate) fn decode(entry: &[u8]) -> Option<Self> {
        let env: Envelope = serde_json::from_slice(entry).ok()?;
        let payload = base64::engine::general_purpose::STANDARD.decode(&env.payload).ok()?;
        let record: Self = serde_json::from_slice(&payload).ok()?;
        (record.predicate_type == DECISION_PREDICATE).then_some(record)
    }

    /// Whether ward allowed the artifact.
    pub(crate) fn allowed(&self) -> bool {
        self.predicate.verification_result == VerificationResult::Passed
    }

    /// The package URL (the first subject's name).
    pub(crate) fn purl(&self) -> Option<&str> {
        self.subject.first().map(|s| s.name.as_str())
    }

    /// The artifact's SHA-256, lower-case hex.
    pub(crate) fn sha256(&self) -> Option<&str> {
        self.subject.first().map(|s| s.digest.sha256.as_str())
    }

    /// The file name the artifact was presented under.
    pub(crate) fn file_name(&self) -> &str {
        &self.predicate.artifact.file_name
    }

    /// The recorded facts, read back as [`RecordedFact`]s (those that do not
    /// read are skipped).
    pub(crate) fn recorded_facts(&self) -> impl Iterator<Item = RecordedFact> + '_ {
        self.predicate
            .facts
            .iter()
            .filter_map(|f| RecordedFact::deserialize(f).ok())
    }

    /// What the registry said about this release when it was decided, if
    /// the record keeps it (`predicate.release.registry.release`).
    pub(crate) fn recorded_release_meta(&self) -> Option<RecordedReleaseMeta> {
        #[derive(Deserialize)]
        struct Release {
            #[serde(default)]
            registry: Option<Registry>,
        }
        #[derive(Deserialize)]
        struct Registry {
            #[serde(default)]
            release: Option<RecordedReleaseMeta>,
        }
        let release = Release::deserialize(self.predicate.release.as_ref()?).ok()?;
        release.registry?.release
    }
}

/// The part of a recorded fact the release history reads back: its type
/// and, for provenance, where it was built. A plain record of what was
/// written, never a verified fact again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct RecordedFact {
    /// `signature`, `statement`, `provenance`, `rebuild`, `build-inputs`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Provenance: the source repository.
    #[serde(default)]
    pub source_repository: Option<String>,
    /// Provenance: the workflow path.
    #[serde(default)]
    pub workflow_path: Option<String>,
    /// Provenance: the builder id.
    #[serde(default)]
    pub builder_id: Option<String>,
}

/// The registry's word on the release, as the record keeps it
/// (`predicate.release.registry.release`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct RecordedReleaseMeta {
    /// When the registry says it was published (RFC 3339, as written; see
    /// [`RecordedReleaseMeta::published_at`]).
    #[serde(default)]
    pub published: Option<String>,
    /// Who the registry says published it.
    #[serde(default)]
    pub publisher: Option<String>,
}

impl RecordedReleaseMeta {
    /// The publish time, when it is a valid timestamp.
    pub(crate) fn published_at(&self) -> Option<jiff::Timestamp> {
        self.published.as_deref()?.parse().ok()
    }
}

pub(crate) fn verified_payload(entry: &[u8], key: &NoteVerifier) -> Result<Vec<u8>, RecordError> {
    let env: Envelope = serde_json::from_slice(entry).map_err(|e| RecordError(format!("not a DSSE envelope: {e}")))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64
        .decode(&env.payload)
        .map_err(|e| RecordError(format!("the payload is not base64: {e}")))?;
    let sig = env
        .signatures
        .first()
        .and_then(|s| b64.decode(&s.sig).ok())
        .ok_or_else(|| RecordError("no signature".into()))?;
    if env.payload_type != PAYLOAD_TYPE {
        return Err(RecordError("not an in-toto payload".into()));
    }
    // aws-lc-rs reports a failed check as `Unspecified`, which says nothing more.
    let verified = aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, key.public)
        .verify(&pae(&payload), &sig)
        .is_ok();
    if !verified {
        return Err(RecordError("the record's signature is not the ledger's".into()));
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::{CheckKind, Digests, PolicyRef, ReasonCode};

    fn artifact() -> Artifact {
        Artifact {
            id: "pkg:npm/a@1.0.0".parse().unwrap(),
            kind: ArtifactKind::NpmTarball,
            file_name: "a-1.0.0.tgz".into(),
            size: 3,
            digests: Digests::of(b"abc"),
            license: None,
        }
    }

    /// The record the gate writes is the record every reader gets back,
    /// field for field, from the signed entry.
    #[test]
    fn a_record_reads_back_as_written() {
        let signer = NoteSigner::generate("test.invalid/ledger", crate::note::ALG_ED25519).unwrap();
        let decision = Decision::new(
            vec![Reason::new(ReasonCode::SignatureMissing, "none")],
            Vec::new(),
            Vec::new(),
            Some(PolicyRef {
                path: "ward.toml".into(),
                digest: "sha256:ab".into(),
            }),
        );
        let checks = [Check::pass(CheckKind::Archive, None, Vec::new())];
        let evidence = [EvidenceRef {
            uri: "https://example.invalid/a.sigstore.json".into(),
            sha256: "cd".into(),
        }];
        let time: jiff::Timestamp = "2026-12-02T03:04:05.123Z".parse().unwrap();
        let record = DecisionRecord::new(&artifact(), &checks, &decision, &evidence, time, "0.1.0", "verify").unwrap();
        let entry = record.sign(&signer).unwrap();
        let back = read_record(&entry, &signer.verifier()).unwrap();
        assert_eq!(back, record);
        assert!(!back.allowed());
        assert_eq!(back.purl(), Some("pkg:npm/a@1.0.0"));
        assert_eq!(back.predicate.time_verified, time);
        assert_eq!(back.predicate.input_attestations[0].uri, evidence[0].uri);
        // The stored statement keeps the documented shape: sorted keys, the
        // time as RFC 3339 text, the safe default named when no policy was used.
        let raw = open_record(&entry, &signer.verifier()).unwrap();
        assert_eq!(raw["predicate"]["timeVerified"], "2026-12-02T03:04:05.123Z");
        assert_eq!(raw["predicate"]["verificationResult"], "FAILED");
        assert_eq!(raw["predicate"]["policy"]["digest"]["sha256"], "ab");
        assert_eq!(
            raw["subject"][0]["digest"]["sha256"],
            artifact().digests.sha256.to_hex()
        );
    }

    #[test]
    fn a_record_of_another_kind_is_not_read_as_a_decision() {
        let signer = NoteSigner::generate("test.invalid/ledger", crate::note::ALG_ED25519).unwrap();
        let decision = Decision::new(Vec::new(), Vec::new(), Vec::new(), None);
        let mut record = DecisionRecord::new(
            &artifact(),
            &[],
            &decision,
            &[],
            jiff::Timestamp::UNIX_EPOCH,
            "0.1.0",
            "proxy",
        )
        .unwrap();
        assert!(record.allowed());
        let entry = record.sign(&signer).unwrap();
        let raw = open_record(&entry, &signer.verifier()).unwrap();
        assert_eq!(raw["predicate"]["policy"]["uri"], SAFE_DEFAULT_POLICY);
        record.predicate_type = "https://example.invalid/other".into();
        let entry = record.sign(&signer).unwrap();
        assert!(read_record(&entry, &signer.verifier()).is_err());
        // Another ledger's key does not open it.
        let other = NoteSigner::generate("test.invalid/other", crate::note::ALG_ED25519).unwrap();
        assert!(read_record(&entry, &other.verifier()).is_err());
    }
}
