//! Decision records: what the ledger stores for each decision.
//!
//! A record is an in-toto Statement v1 whose subject is the artifact
//! (purl, SHA-256, SHA-512) and whose predicate, shaped after the SLSA
//! Verification Summary Attestation, says when, under which policy, on which
//! evidence, with which verified facts and reasons ward decided. It is signed
//! as a DSSE envelope with the ledger's own Ed25519 key, so a third party
//! holding only the verifier key can check both the checkpoint and the record.

use crate::note::{NoteSigner, NoteVerifier};
use base64::Engine as _;
use serde_json::{Value, json};
use ward_core::{Artifact, Check, Decision, EvidenceRef, Verdict};

/// The predicate type of ward's decision records.
pub const DECISION_PREDICATE: &str = "https://ward.invalid/attestation/decision/v1";
const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Everything a record says.
pub struct DecisionRecord<'a> {
    /// The artifact.
    pub artifact: &'a Artifact,
    /// The checks (their facts are recorded).
    pub checks: &'a [Check],
    /// The decision.
    pub decision: &'a Decision,
    /// The evidence files.
    pub evidence: &'a [EvidenceRef],
    /// When (RFC 3339).
    pub time: String,
    /// ward's version.
    pub version: &'a str,
    /// Where the decision was made (`verify`, `proxy`).
    pub context: &'a str,
}

fn pae(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", PAYLOAD_TYPE.len(), PAYLOAD_TYPE, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

impl DecisionRecord<'_> {
    /// The in-toto statement.
    pub fn statement(&self, with_facts: bool) -> Value {
        let a = self.artifact;
        let facts: Vec<&ward_core::Fact> = if with_facts {
            self.checks.iter().flat_map(|c| &c.facts).collect()
        } else {
            Vec::new()
        };
        let policy = match &self.decision.policy {
            Some(p) => json!({"uri": p.path, "digest": {"sha256": p.digest.trim_start_matches("sha256:")}}),
            None => json!({"uri": "ward:safe-default"}),
        };
        json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": a.id.to_purl(), "digest": {"sha256": a.digests.sha256.to_hex(), "sha512": a.digests.sha512.to_hex()}}],
            "predicateType": DECISION_PREDICATE,
            "predicate": {
                "verifier": {"id": "https://ward.invalid/ward", "version": self.version},
                "timeVerified": self.time,
                "resourceUri": a.id.to_purl(),
                "context": self.context,
                "artifact": {"fileName": a.file_name, "kind": a.kind, "size": a.size},
                "policy": policy,
                "inputAttestations": self.evidence.iter().map(|e| json!({"uri": e.uri, "digest": {"sha256": e.sha256}})).collect::<Vec<_>>(),
                "verificationResult": if self.decision.verdict == Verdict::Allow { "PASSED" } else { "FAILED" },
                "facts": facts,
                "factsOmitted": !with_facts,
                "reasons": self.decision.reasons,
                "warnings": self.decision.warnings,
                "audit": self.decision.audit,
            }
        })
    }

    /// The signed entry bytes (compact DSSE JSON), at most 64 KiB: when the
    /// facts would not fit, they are left out (and the record says so).
    pub fn sign(&self, signer: &NoteSigner) -> Vec<u8> {
        let full = self.envelope(signer, true);
        if full.len() <= crate::store::MAX_ENTRY_BYTES {
            return full;
        }
        self.envelope(signer, false)
    }

    fn envelope(&self, signer: &NoteSigner, with_facts: bool) -> Vec<u8> {
        let payload = serde_json::to_vec(&self.statement(with_facts)).unwrap_or_default();
        let sig = signer.sign_bytes(&pae(&payload));
        let b64 = base64::engine::general_purpose::STANDARD;
        let env = json!({
            "payloadType": PAYLOAD_TYPE,
            "payload": b64.encode(&payload),
            "signatures": [{"keyid": signer.verifier().to_vkey(), "sig": b64.encode(sig)}],
        });
        serde_json::to_vec(&env).unwrap_or_default()
    }
}

/// Why an entry is not a valid record of this ledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid decision record: {0}")]
pub struct RecordError(pub String);

/// Checks an entry's DSSE signature with the ledger key and returns its statement.
pub fn open_record(entry: &[u8], key: &NoteVerifier) -> Result<Value, RecordError> {
    let env: Value = serde_json::from_slice(entry).map_err(|e| RecordError(format!("not JSON: {e}")))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = env["payload"]
        .as_str()
        .and_then(|p| b64.decode(p).ok())
        .ok_or_else(|| RecordError("no payload".into()))?;
    let sig = env["signatures"][0]["sig"]
        .as_str()
        .and_then(|s| b64.decode(s).ok())
        .ok_or_else(|| RecordError("no signature".into()))?;
    if env["payloadType"] != PAYLOAD_TYPE {
        return Err(RecordError("not an in-toto payload".into()));
    }
    aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, key.public)
        .verify(&pae(&payload), &sig)
        .map_err(|_| RecordError("the record's signature is not the ledger's".into()))?;
    serde_json::from_slice(&payload).map_err(|e| RecordError(format!("payload is not JSON: {e}")))
}
