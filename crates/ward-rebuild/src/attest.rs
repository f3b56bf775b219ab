//! Signing what a comparison found, in the layout OSS Rebuild publishes, so
//! that `ward verify --rebuild` reads a team's own rebuilds exactly as it
//! reads OSS Rebuild's: an in-toto Statement v1 with an SLSA v1 predicate of
//! build type `ArtifactEquivalence@v0.1` (the rebuild matches) or ward's
//! `ArtifactDivergence@v0.1` (it does not; the differing paths are a
//! `differences.json` byproduct), in a DSSE envelope, one line of JSON.
//! `ward rebuild run` adds a `Rebuild@v0.1` statement about the rebuilt
//! artifact, naming the commit built and the steps that ran.

use crate::compare::Comparison;
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::Path;
use ward_core::Digests;
use ward_verify::dsse::{IN_TOTO_PAYLOAD_TYPE, pae};
use ward_verify::rebuild::{ARTIFACT_DIVERGENCE, ARTIFACT_EQUIVALENCE};

/// The builder id ward writes when none is given.
pub const DEFAULT_BUILDER_ID: &str = "https://ward.invalid/rebuild/compare";

/// Why a statement could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    /// An artifact could not be read to hash it.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key could not sign.
    #[error(transparent)]
    Sign(#[from] ward_sign::SignError),
    /// The statement could not be serialised.
    #[error("cannot serialise the statement: {0}")]
    Json(#[from] serde_json::Error),
}

fn digests(path: &Path) -> Result<Digests, AttestError> {
    let err = |source| AttestError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = ward_input::InputFile::new(path, "artifact", u64::MAX)
        .open()
        .map_err(|e| err(std::io::Error::other(e)))?;
    ward_identify::hash::digest_reader(file).map(|(d, _)| d).map_err(err)
}

fn digest_json(d: &Digests) -> Value {
    json!({ "sha256": d.sha256.to_hex(), "sha512": d.sha512.to_hex() })
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The unsigned statement: the original is the subject, the rebuild its candidate.
pub fn statement(
    original: &Path,
    rebuilt: &Path,
    comparison: &Comparison,
    builder_id: &str,
    now: jiff::Timestamp,
) -> Result<Value, AttestError> {
    let (a, b) = (digests(original)?, digests(rebuilt)?);
    let target = name_of(original);
    let candidate = format!("rebuild/{}", name_of(rebuilt));
    let build_type = if comparison.equivalent() {
        ARTIFACT_EQUIVALENCE
    } else {
        ARTIFACT_DIVERGENCE
    };
    let mut run = json!({
        "builder": { "id": builder_id },
        "metadata": { "finishedOn": now.to_string() },
    });
    if !comparison.equivalent() {
        let differences = serde_json::to_vec(&comparison.differences)?;
        run["byproducts"] = json!([{
            "name": "differences.json",
            "content": base64::engine::general_purpose::STANDARD.encode(differences),
        }]);
    }
    Ok(json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": target, "digest": digest_json(&a) }],
        "predicateType": ward_verify::provenance::SLSA_V1,
        "predicate": {
            "buildDefinition": {
                "buildType": build_type,
                "externalParameters": { "candidate": candidate, "target": target },
                "resolvedDependencies": [
                    { "name": candidate, "digest": digest_json(&b) },
                    { "name": target, "digest": digest_json(&a) },
                ],
            },
            "runDetails": run,
        }
    }))
}

/// The `Rebuild@v0.1` statement `ward rebuild run` writes beside the
/// equivalence: its subject is the rebuilt artifact (the equivalence's
/// candidate), its git dependency the commit built (named by
/// `repository` when known, else `git`), and its `steps.json` byproduct
/// the toolchain and commands that ran.
pub fn rebuild_statement(
    original: &Path,
    rebuilt: &Path,
    run: &crate::run::Rebuilt,
    repository: Option<&str>,
    builder_id: &str,
    now: jiff::Timestamp,
) -> Result<Value, AttestError> {
    let b = digests(rebuilt)?;
    let steps = serde_json::to_vec(&json!({ "toolchain": run.toolchain, "steps": run.steps }))?;
    let git = repository.map_or_else(|| "git".to_string(), |r| format!("git+{r}"));
    Ok(json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": format!("rebuild/{}", name_of(rebuilt)), "digest": digest_json(&b) }],
        "predicateType": ward_verify::provenance::SLSA_V1,
        "predicate": {
            "buildDefinition": {
                "buildType": ward_verify::rebuild::REBUILD,
                "externalParameters": { "artifact": name_of(original) },
                "resolvedDependencies": [{ "name": git, "digest": { "sha1": run.commit } }],
            },
            "runDetails": {
                "builder": { "id": builder_id },
                "metadata": { "finishedOn": now.to_string() },
                "byproducts": [{
                    "name": "steps.json",
                    "content": base64::engine::general_purpose::STANDARD.encode(steps),
                }],
            },
        }
    }))
}

/// The statement signed in a DSSE envelope, as one line of JSON.
pub fn sign(statement: &Value, key: &ward_sign::SigningKey) -> Result<String, AttestError> {
    let payload = serde_json::to_vec(statement)?;
    let signature = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload))?;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let envelope = json!({
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": b64(&payload),
        "signatures": [{ "keyid": key.fingerprint(), "sig": b64(&signature) }],
    });
    Ok(format!("{}\n", serde_json::to_string(&envelope)?))
}
