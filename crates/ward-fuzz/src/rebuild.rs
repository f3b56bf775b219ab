//! Targets for ward-verify's rebuild evidence, through
//! `ward_verify::rebuild::verify` (what `--rebuild FILE` and the proxy's
//! rebuild sidecars call): OSS Rebuild attestations (`rebuild_attestation`:
//! DSSE envelopes, one a line, each an in-toto statement) and rebuilderd's
//! in-toto links (`rebuild_link`: a `{"signed", "signatures"}` metablock).
//!
//! Their statements and links are read only after a trusted key's
//! signature verifies, so the targets sign what the fuzzer writes with the
//! fuzz keys ([`crate::signing`]): a line of a `rebuild_attestation` input
//! that is not a DSSE envelope is the statement itself, wrapped in an
//! envelope signed by the first fuzz key; a `rebuild_link` input's `signed`
//! is signed in canonical JSON. Envelopes in the input are kept as they are,
//! so the real OSS Rebuild file in the corpus verifies under its own key.
//! The artifact is the one the input's equivalence statement (or the
//! link's first product) names, so that well-formed inputs get past the
//! subject check.
//!
//! Checked beyond "no panic": verifying the same file twice gives the same
//! answer, and an accepted file gives one `Signature` and one `Rebuild`
//! fact per trusted signer, in that order.

use crate::signing::{self, TestKey};
use base64::Engine as _;
use serde_json::Value;
use ward_verify::rebuild::{ARTIFACT_DIVERGENCE, ARTIFACT_EQUIVALENCE};
use ward_verify::{ArtifactRef, EvidenceFile, Fact, PublicKey};

/// Lines of a `rebuild_attestation` input that are read (the reader
/// refuses files of more than 16 envelopes anyway).
const MAX_LINES: usize = 32;

thread_local! {
    static OSS_REBUILD: Option<PublicKey> =
        PublicKey::parse(include_bytes!("../assets/oss-rebuild.pub"), "oss-rebuild").ok();
}

fn keys(fuzz: &TestKey) -> Vec<PublicKey> {
    let mut keys = vec![fuzz.public.clone()];
    OSS_REBUILD.with(|k| keys.extend(k.iter().cloned()));
    keys
}

/// The digests a JSON `digest` object gives, as the artifact's.
fn artifact_of(digest: Option<&Value>) -> ([u8; 32], Option<[u8; 64]>) {
    let hex_of = |alg: &str| {
        digest
            .and_then(|d| d.get(alg))
            .and_then(Value::as_str)
            .and_then(|h| hex::decode(h).ok())
    };
    let sha256 = hex_of("sha256")
        .and_then(|d| <[u8; 32]>::try_from(d).ok())
        .unwrap_or([0; 32]);
    (sha256, hex_of("sha512").and_then(|d| <[u8; 64]>::try_from(d).ok()))
}

/// Verifies `bytes` twice and checks the answer.
fn verify_and_check(bytes: Vec<u8>, sha256: [u8; 32], sha512: Option<[u8; 64]>, keys: &[PublicKey]) {
    let file = EvidenceFile::from_bytes("fuzz.rebuild.intoto.jsonl", bytes);
    let artifact = || ArtifactRef {
        sha256,
        sha512,
        path: None,
    };
    let first = ward_verify::rebuild::verify(&file, artifact(), keys);
    let second = ward_verify::rebuild::verify(&file, artifact(), keys);
    assert_eq!(
        format!("{first:?}"),
        format!("{second:?}"),
        "the same rebuild file verified twice gave two answers"
    );
    match first {
        Ok(facts) => {
            assert!(
                !facts.is_empty() && facts.len() % 2 == 0,
                "an accepted rebuild file gave {} facts, not a Signature and a Rebuild per signer",
                facts.len()
            );
            for pair in facts.chunks(2) {
                assert!(
                    matches!(pair, [Fact::Signature { .. }, Fact::Rebuild { .. }]),
                    "an accepted rebuild file's facts are not Signature, Rebuild pairs: {pair:?}"
                );
            }
            let _ = ward_verify::rebuild::reconcile_with_provenance(facts.iter());
        }
        Err(e) => {
            let _ = (e.code(), e.is_unreadable(), e.to_reason());
        }
    }
}

/// The statement a line carries: an envelope's decoded payload, or the line.
fn statement_of(line: &Value) -> Option<Value> {
    if signing::is_envelope(line) {
        let payload = line.get("payload")?.as_str()?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(payload).ok()?;
        serde_json::from_slice(&bytes).ok()
    } else {
        Some(line.clone())
    }
}

/// The file `rebuild_attestation` verifies for `data` (lines that are not
/// envelopes wrapped and signed by `fuzz`) and the artifact's digests.
fn attestation_file(data: &[u8], fuzz: &TestKey) -> (Vec<u8>, [u8; 32], Option<[u8; 64]>) {
    let mut file = Vec::new();
    let mut digest = None;
    for line in data.split(|b| *b == b'\n').take(MAX_LINES) {
        let parsed = serde_json::from_slice::<Value>(line).ok();
        if digest.is_none()
            && let Some(st) = parsed.as_ref().and_then(statement_of)
            && matches!(
                st.pointer("/predicate/buildDefinition/buildType")
                    .and_then(Value::as_str),
                Some(ARTIFACT_EQUIVALENCE | ARTIFACT_DIVERGENCE)
            )
        {
            digest = st.pointer("/subject/0/digest").cloned();
        }
        if parsed.as_ref().is_some_and(signing::is_envelope) || line.trim_ascii().is_empty() {
            file.extend_from_slice(line);
        } else {
            let envelope = signing::envelope(line, &[fuzz]);
            file.extend_from_slice(&serde_json::to_vec(&envelope).unwrap_or_default());
        }
        file.push(b'\n');
    }
    let (sha256, sha512) = artifact_of(digest.as_ref());
    (file, sha256, sha512)
}

/// The link `rebuild_link` verifies for `data` (its `signed` signed by
/// `fuzz`) and the artifact's digests.
fn link_file(data: &[u8], fuzz: &TestKey) -> (Vec<u8>, [u8; 32], Option<[u8; 64]>) {
    let Ok(mut link) = serde_json::from_slice::<Value>(data) else {
        // Not JSON: the reader falls back to JSON Lines and refuses it.
        return (data.to_vec(), [0; 32], None);
    };
    let product = link
        .pointer("/signed/products")
        .and_then(Value::as_object)
        .and_then(|p| p.values().next())
        .cloned();
    let (sha256, sha512) = artifact_of(product.as_ref());
    if let Some(signed) = link.get("signed")
        && let Ok(message) = ward_verify::rebuild_link::canonical_json(signed)
        && let Some(map) = link.as_object_mut()
    {
        let ours = serde_json::json!({"keyid": "", "sig": hex::encode(fuzz.sign(&message))});
        match map.get_mut("signatures") {
            Some(Value::Array(list)) => list.push(ours),
            Some(_) => {}
            None => {
                map.insert("signatures".into(), Value::Array(vec![ours]));
            }
        }
    }
    (serde_json::to_vec(&link).unwrap_or_default(), sha256, sha512)
}

/// An OSS Rebuild attestation file (JSON Lines of DSSE envelopes); a line
/// that is not an envelope is a statement, signed here.
pub fn rebuild_attestation(data: &[u8]) {
    signing::with_keys(|fuzz, _| {
        let (file, sha256, sha512) = attestation_file(data, fuzz);
        verify_and_check(file, sha256, sha512, &keys(fuzz));
    });
}

/// A rebuilderd in-toto link; its `signed` is signed here (after any
/// signatures the input carries).
pub fn rebuild_link(data: &[u8]) {
    signing::with_keys(|fuzz, _| {
        let (file, sha256, sha512) = link_file(data, fuzz);
        verify_and_check(file, sha256, sha512, &keys(fuzz));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(target: &str, name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/corpus/{target}/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn verified(prepared: (Vec<u8>, [u8; 32], Option<[u8; 64]>)) -> Result<Vec<Fact>, String> {
        let (file, sha256, sha512) = prepared;
        signing::with_keys(|fuzz, _| {
            let file = EvidenceFile::from_bytes("seed", file);
            let artifact = ArtifactRef {
                sha256,
                sha512,
                path: None,
            };
            ward_verify::rebuild::verify(&file, artifact, &keys(fuzz)).map_err(|e| e.to_string())
        })
        .unwrap()
    }

    /// The targets are worth running only if their seeds get past the
    /// signature and subject checks into the statement and link readers.
    #[test]
    fn the_seeds_verify_so_the_fuzzer_starts_past_the_signatures() {
        signing::with_keys(|fuzz, _| {
            for name in ["chalk-5.6.0.tgz.rebuild.intoto.jsonl", "chalk-statements.jsonl"] {
                let facts = verified(attestation_file(&seed("rebuild_attestation", name), fuzz)).unwrap();
                assert_eq!(facts.len(), 2, "{name}");
                let Fact::Rebuild { rebuild, .. } = &facts[1] else {
                    panic!("{name}: {facts:?}")
                };
                assert_eq!(rebuild.source_repository.as_deref(), Some("https://github.com/chalk/chalk"));
            }
            let diverged = verified(attestation_file(&seed("rebuild_attestation", "chalk-divergence.jsonl"), fuzz));
            assert!(
                matches!(&diverged.unwrap()[1], Fact::Rebuild { rebuild, .. } if rebuild.outcome == ward_verify::RebuildOutcome::Diverged)
            );
            // Signed by two different rebuilders: refused past the signatures.
            let mixed = attestation_file(
                &seed("rebuild_attestation", "chalk-signed-equivalence-unsigned-rebuild.jsonl"),
                fuzz,
            );
            assert!(verified(mixed).unwrap_err().contains("different keys"));
            let link = verified(link_file(&seed("rebuild_link", "rebuilderd-chalk-5.6.0.link"), fuzz)).unwrap();
            assert_eq!(link.len(), 2);
            let not_rebuild = link_file(&seed("rebuild_link", "not-a-rebuild-step.link"), fuzz);
            assert!(verified(not_rebuild).unwrap_err().contains("not a rebuild"));
        })
        .unwrap();
    }
}
