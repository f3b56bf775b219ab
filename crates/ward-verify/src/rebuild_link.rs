//! rebuilderd-style rebuild links: an in-toto link (metadata v0.9, the
//! `{"signed": …, "signatures": […]}` metablock) that a rebuilder signs
//! when its rebuild of a package equals the published file. rebuilderd
//! writes one per artifact with `in_toto_run("rebuild FILE", …)`: the
//! build input as its material, the rebuilt file as its product, SHA-256
//! and SHA-512 of each.
//!
//! Each signature covers the canonical JSON of `signed` (OLPC canonical
//! JSON, as in-toto and securesystemslib write it, by the `olpc-cjson`
//! crate); signatures are hex, as in-toto writes them. A product must carry
//! this artifact's digests (every SHA-256 or SHA-512 it names). Several
//! rebuilders agreeing (Debian's "two rebuilders must agree") is the
//! policy's `rebuild.required`, one link per rebuilder.

use crate::rebuild::RebuildError;
use crate::{ArtifactRef, EvidenceFile, PublicKey, VerifyError};
use crate::{Fact, Rebuild, RebuildOutcome, SignerIdentity};
use serde::Serialize as _;
use serde_json::Value;
use std::collections::BTreeMap;

/// The build type a link's facts carry.
pub const IN_TOTO_LINK: &str = "https://in-toto.io/link/v0.9";

/// Most signatures checked on one link (rebuilderd writes one).
const MAX_SIGNATURES: usize = 16;

/// Whether a JSON value looks like an in-toto metablock holding a link.
pub(crate) fn is_link(v: &Value) -> bool {
    v.get("signed").and_then(|s| s.get("_type")).and_then(Value::as_str) == Some("link")
        && v.get("signatures").is_some()
}

/// OLPC canonical JSON of a value: the bytes in-toto signatures cover.
pub fn canonical_json(v: &Value) -> Result<Vec<u8>, RebuildError> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, olpc_cjson::CanonicalFormatter::new());
    v.serialize(&mut ser)
        .map_err(|e| RebuildError::Malformed(format!("the link cannot be put in canonical JSON: {e}")))?;
    Ok(out)
}

fn digests(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, d)| d.as_str().map(|d| (k.clone(), d.to_ascii_lowercase())))
                .collect()
        })
        .unwrap_or_default()
}

/// Verifies a link for the artifact: a [`Fact::Signature`] and a
/// [`Fact::Rebuild`] for each trusted key that signed it.
pub fn verify(
    file: &EvidenceFile,
    value: &Value,
    artifact: ArtifactRef<'_>,
    keys: &[PublicKey],
) -> Result<Vec<Fact>, RebuildError> {
    if keys.is_empty() {
        return Err(RebuildError::NoKey);
    }
    let signed = value
        .get("signed")
        .ok_or_else(|| RebuildError::Malformed("the link has no `signed`".into()))?;
    let signatures = value
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| RebuildError::Malformed("the link's `signatures` is not a list".into()))?;
    if signatures.len() > MAX_SIGNATURES {
        return Err(RebuildError::Malformed(format!(
            "the link has {} signatures; ward checks at most {MAX_SIGNATURES}",
            signatures.len()
        )));
    }
    let message = canonical_json(signed)?;
    let mut fingerprints: Vec<String> = Vec::new();
    for sig in signatures {
        let Some(bytes) = sig.get("sig").and_then(Value::as_str).and_then(|s| hex::decode(s).ok()) else {
            return Err(RebuildError::Malformed("a link signature is not hex".into()));
        };
        for key in keys {
            if crate::dsse::verify_message(key, &message, &bytes)
                && !fingerprints.iter().any(|f| f == key.fingerprint())
            {
                fingerprints.push(key.fingerprint().to_string());
            }
        }
    }
    if fingerprints.is_empty() {
        return Err(VerifyError::SignatureInvalid(format!(
            "none of the link's {} signature(s) verifies under the {} trusted key(s)",
            signatures.len(),
            keys.len()
        ))
        .into());
    }
    let name = signed.get("name").and_then(Value::as_str).unwrap_or_default();
    if name != "rebuild" && !name.starts_with("rebuild ") {
        return Err(RebuildError::Malformed(format!(
            "the link is for step {name:?}, not a rebuild"
        )));
    }
    let ours = {
        let mut m = BTreeMap::from([("sha256".to_string(), hex::encode(artifact.sha256))]);
        if let Some(sha512) = artifact.sha512 {
            m.insert("sha512".into(), hex::encode(sha512));
        }
        m
    };
    let products = signed.get("products").and_then(Value::as_object);
    let matching = products.into_iter().flatten().find(|(_, d)| {
        let d = digests(d);
        let shared: Vec<_> = d.iter().filter(|(k, _)| ours.contains_key(*k)).collect();
        !shared.is_empty() && shared.iter().all(|(k, v)| ours.get(*k) == Some(v))
    });
    let Some((product, _)) = matching else {
        return Err(RebuildError::SubjectMismatch(format!(
            "none of the link's {} product(s) has this artifact's digests (sha256 {})",
            products.map_or(0, serde_json::Map::len),
            hex::encode(artifact.sha256)
        )));
    };
    let rebuild = Rebuild {
        outcome: RebuildOutcome::Reproduced,
        build_type: IN_TOTO_LINK.into(),
        rebuilder: None,
        package: Some(product.clone()),
        source_repository: None,
        source_commit: None,
        rebuild_type: Some(name.to_string()),
        build_steps_digest: None,
        rebuilt_digest: Some(format!("sha256:{}", hex::encode(artifact.sha256))),
    };
    let signer_of = |fp: &String| SignerIdentity::Key {
        fingerprint: fp.clone(),
        algorithm: keys
            .iter()
            .find(|k| k.fingerprint() == fp)
            .map(|k| format!("{:?}", k.kind()))
            .unwrap_or_default(),
    };
    Ok(fingerprints
        .iter()
        .flat_map(|fp| {
            [
                Fact::Signature {
                    signer: signer_of(fp),
                    evidence: file.label().to_string(),
                    signed_at: None,
                    transparency_log: false,
                    predicate_type: Some(IN_TOTO_LINK.into()),
                },
                Fact::Rebuild {
                    rebuild: rebuild.clone(),
                    signer: signer_of(fp),
                    evidence: file.label().to_string(),
                },
            ]
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;
    use sigstore_verify::crypto::{KeyAlgorithm, KeyPair};
    use ward_core::ReasonCode;

    fn key() -> (KeyPair, PublicKey) {
        // rebuilderd signs with Ed25519; key generation here offers ECDSA P-256, which links carry the same way.
        let pair = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let der = pair.public_key_der().unwrap();
        let public = PublicKey::parse(der.as_bytes(), "test-rebuilder").unwrap();
        (pair, public)
    }

    fn link(pair: &KeyPair, product: &[u8]) -> Value {
        let signed = serde_json::json!({
            "_type": "link",
            "name": "rebuild demo-1.0.0.tgz",
            "materials": {"demo-1.0.0.buildinfo": {"sha256": "00"}},
            "products": {"demo-1.0.0.tgz": {
                "sha256": hex::encode(sha2::Sha256::digest(product)),
                "sha512": hex::encode(sha2::Sha512::digest(product)),
            }},
            "byproducts": {}, "command": [], "environment": {},
        });
        let sig = pair.sign(&canonical_json(&signed).unwrap()).unwrap();
        serde_json::json!({"signatures": [{"keyid": "test", "sig": hex::encode(sig.as_bytes())}], "signed": signed})
    }

    fn target(bytes: &[u8]) -> ArtifactRef<'static> {
        ArtifactRef {
            sha256: sha2::Sha256::digest(bytes).into(),
            sha512: Some(sha2::Sha512::digest(bytes).into()),
            path: None,
        }
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let v = serde_json::json!({"b": [1, "x\"y"], "a": {"d": true, "c": null}});
        assert_eq!(
            canonical_json(&v).unwrap(),
            br#"{"a":{"c":null,"d":true},"b":[1,"x\"y"]}"#.to_vec()
        );
    }

    #[test]
    fn a_signed_link_for_the_artifact_verifies_and_nothing_else_does() {
        let (pair, public) = key();
        let artifact = b"the published bytes";
        let v = link(&pair, artifact);
        let file = EvidenceFile::from_bytes("demo.link", serde_json::to_vec(&v).unwrap());
        let facts = verify(&file, &v, target(artifact), std::slice::from_ref(&public)).unwrap();
        assert!(
            facts
                .iter()
                .any(|f| matches!(f, Fact::Rebuild { rebuild, .. } if rebuild.outcome == RebuildOutcome::Reproduced))
        );
        // Another artifact.
        let e = verify(&file, &v, target(b"other bytes"), std::slice::from_ref(&public)).unwrap_err();
        assert_eq!(e.code(), ReasonCode::RebuildSubjectMismatch);
        // Another key.
        let (_, other) = key();
        let e = verify(&file, &v, target(artifact), &[other]).unwrap_err();
        assert_eq!(e.code(), ReasonCode::SignatureInvalid);
        // A changed link: the signature no longer covers it.
        let mut changed = v.clone();
        changed["signed"]["products"]["demo-1.0.0.tgz"]["sha256"] = Value::String("00".repeat(32));
        let e = verify(&file, &changed, target(artifact), std::slice::from_ref(&public)).unwrap_err();
        assert_eq!(e.code(), ReasonCode::SignatureInvalid);
        // Not a rebuild step.
        let mut other_step = v;
        other_step["signed"]["name"] = Value::String("package".into());
        let sig = pair.sign(&canonical_json(&other_step["signed"]).unwrap()).unwrap();
        other_step["signatures"][0]["sig"] = Value::String(hex::encode(sig.as_bytes()));
        let e = verify(&file, &other_step, target(artifact), &[public]).unwrap_err();
        assert_eq!(e.code(), ReasonCode::RebuildMalformed);
    }
}
