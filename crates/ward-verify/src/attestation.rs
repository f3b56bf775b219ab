//! Attestation files: every format ward reads, turned into verified facts.
//!
//! A file may be a Sigstore bundle, a bare DSSE envelope, a `.jsonl` of
//! either (unknown lines ignored), the npm registry's attestations response
//! (`{"attestations": [{"predicateType", "bundle"}]}`), or a PyPI PEP 740
//! attestation or provenance object. Each item is verified on its own and
//! yields either facts or the reason it failed: evidence that is presented
//! and fails is reported, never skipped.
//!
//! Who may sign (docs/security.md, "Attestations and identities"): a
//! key-signed item must verify under a trusted key (the npm publish
//! attestation under the npm registry key); a keyless item must come from
//! the configured signer, exactly as a keyless bundle, because anyone can get
//! a Fulcio certificate for their own CI and sign a statement about any
//! digest. The one fixed exception is npm's: the SLSA provenance in an npm
//! attestations response beside a publish attestation that the registry key
//! signed for this artifact was checked by the registry at publish, so it
//! counts when no identity is configured (a configured identity still binds
//! it).

use crate::bundle::{ArtifactRef, SigstoreBundle, VerifiedBundle};
use crate::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::evidence::EvidenceFile;
use crate::keys::PublicKey;
use crate::npm::{self, RegistryKeys};
use crate::pypi::{self, Publisher};
use crate::signer::SignerRequirement;
use crate::statement::Statement;
use crate::trust::TrustRoot;
use crate::{Fact, SignerIdentity};
use crate::{VerifyError, evidence, provenance};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use ward_core::PackageId;

/// What an attestation is checked against.
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct AttestationContext<'a> {
    /// The Sigstore trusted root.
    pub root: &'a TrustRoot,
    /// Trusted plain keys (bare envelopes, key-signed bundles).
    pub keys: &'a [PublicKey],
    /// Registry keys (npm publish attestations).
    pub registry_keys: &'a RegistryKeys,
    /// The artifact's digests and path.
    pub artifact: ArtifactRef<'a>,
    /// The artifact's identity, from its own metadata.
    pub package: &'a PackageId,
    /// The artifact's file name.
    pub file_name: &'a str,
    /// The keyless signer every keyless attestation must come from, as for
    /// a keyless bundle. `None` when a policy judges keyless signers instead
    /// (its scopes' `signers`); `Some` without an identity when none was
    /// configured: a keyless attestation then fails `identity-unconstrained`
    /// (save npm's registry-vouched provenance, see the module docs).
    pub signer: Option<&'a SignerRequirement>,
}

/// One item of an attestation file and how it came out.
#[derive(Debug)]
#[non_exhaustive]
pub struct AttestationResult {
    /// `FILE`, or `FILE#N (predicate type)` for files with several items.
    pub label: String,
    /// The facts it proved, or why it failed.
    pub outcome: Result<Vec<Fact>, VerifyError>,
}

/// Where an item came from, for the fixed rules of registry-issued evidence.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A bundle or envelope of its own, or a PyPI object.
    Plain,
    /// An entry of npm's attestations response.
    NpmResponse,
}

enum Item {
    Bundle(Value, Option<Publisher>, Origin),
    Envelope(Value),
    Broken(VerifyError),
}

/// Who signed a verified item.
#[derive(Clone, PartialEq, Eq)]
enum SignedBy {
    /// The npm registry's attestation key.
    RegistryKey,
    /// A trusted plain key.
    Key,
    /// A Fulcio certificate with this identity and issuer.
    Keyless { identity: String, issuer: String },
}

/// A verified item, before the signer rules are applied.
struct Verified {
    facts: Vec<Fact>,
    predicate_type: String,
    signed_by: SignedBy,
}

/// OIDC issuers npm accepts provenance from (GitHub Actions, GitLab CI).
const NPM_PROVENANCE_ISSUERS: &[&str] = &["https://token.actions.githubusercontent.com", "https://gitlab.com"];

fn classify(v: Value, publisher: Option<Publisher>) -> Option<Vec<Item>> {
    if v.get("mediaType")
        .and_then(|m| m.as_str())
        .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"))
    {
        return Some(vec![Item::Bundle(v, publisher, Origin::Plain)]);
    }
    if v.get("payloadType").is_some() && v.get("signatures").is_some() {
        return Some(vec![Item::Envelope(v)]);
    }
    if let Some(list) = v.get("attestations").and_then(|a| a.as_array()) {
        let items = list
            .iter()
            .map(|a| match a.get("bundle") {
                Some(b) => Item::Bundle(b.clone(), None, Origin::NpmResponse),
                None => Item::Broken(VerifyError::AttestationMalformed(
                    "npm attestation entry without a bundle".into(),
                )),
            })
            .collect();
        return Some(items);
    }
    if pypi::is_provenance(&v) {
        let items = pypi::provenance_bundles(&v)
            .into_iter()
            .map(|(publisher, bundle)| match bundle {
                Ok(b) => Item::Bundle(b, publisher, Origin::Plain),
                Err(e) => Item::Broken(e),
            })
            .collect();
        return Some(items);
    }
    if pypi::is_attestation(&v) {
        return Some(vec![match pypi::attestation_to_bundle(&v) {
            Ok(b) => Item::Bundle(b, publisher, Origin::Plain),
            Err(e) => Item::Broken(e),
        }]);
    }
    None
}

fn read_items(bytes: &[u8], jsonl: bool) -> Vec<Item> {
    if !jsonl {
        return match evidence::parse_json(bytes) {
            Ok(v) => classify(v, None).unwrap_or_else(|| {
                vec![Item::Broken(VerifyError::AttestationMalformed(
                    "not a Sigstore bundle, DSSE envelope, npm attestations response or PyPI attestation".into(),
                ))]
            }),
            Err(e) => vec![Item::Broken(e)],
        };
    }
    let mut items = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        // Unknown or unparsable lines are ignored, as the in-toto bundle format allows.
        if let Ok(v) = evidence::parse_json(line)
            && let Some(found) = classify(v, None)
        {
            items.extend(found);
        }
    }
    if items.is_empty() {
        items.push(Item::Broken(VerifyError::AttestationMalformed(
            "no attestation found in the JSON Lines file".into(),
        )));
    }
    items
}

/// Reads and verifies every attestation in a file. `Err` only when the
/// file cannot be read (exit 2); everything else is a per-item outcome.
pub fn verify_file(path: &Path, ctx: &AttestationContext<'_>) -> Result<Vec<AttestationResult>, VerifyError> {
    Ok(verify_evidence(
        &EvidenceFile::read(path, path.display().to_string())?,
        ctx,
    ))
}

/// Verifies every attestation in an evidence file already read: each item's
/// facts, or the reason it failed. A label ending in `.jsonl` (or bytes
/// that look like JSON Lines) is read line by line.
pub fn verify_evidence(file: &EvidenceFile, ctx: &AttestationContext<'_>) -> Vec<AttestationResult> {
    let bytes = file.bytes();
    let jsonl = file.label().ends_with(".jsonl") || looks_like_jsonl(bytes);
    let items = read_items(bytes, jsonl);
    let many = items.len() > 1;
    let base = file.label().to_string();
    let verified: Vec<(String, Origin, Result<Verified, VerifyError>)> = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let label = if many {
                format!("{base}#{}", i + 1)
            } else {
                base.clone()
            };
            let (origin, outcome) = match item {
                Item::Bundle(v, publisher, origin) => (origin, verify_bundle(v, publisher, &label, ctx)),
                Item::Envelope(v) => (Origin::Plain, verify_envelope(&v, &label, ctx)),
                Item::Broken(e) => (Origin::Plain, Err(e)),
            };
            (label, origin, outcome)
        })
        .collect();
    // npm's publish attestation, signed by the registry for this artifact
    // (bound to its digest, name and version), vouches for the provenance
    // served beside it.
    let npm_vouched = verified.iter().any(|(_, origin, outcome)| {
        *origin == Origin::NpmResponse
            && matches!(outcome, Ok(v) if v.signed_by == SignedBy::RegistryKey && v.predicate_type == npm::NPM_PUBLISH_V01)
    });
    verified
        .into_iter()
        .map(|(label, origin, outcome)| {
            let outcome = outcome.and_then(|v| {
                check_signer(&v, origin, npm_vouched, ctx.signer)?;
                Ok(v.facts)
            });
            AttestationResult { label, outcome }
        })
        .collect()
}

/// Applies the signer rules to one verified item: keys were checked when
/// it verified; a keyless signer must be the configured one, save npm's
/// registry-vouched provenance when no identity is configured.
fn check_signer(
    v: &Verified,
    origin: Origin,
    npm_vouched: bool,
    required: Option<&SignerRequirement>,
) -> Result<(), VerifyError> {
    let (SignedBy::Keyless { identity, issuer }, Some(required)) = (&v.signed_by, required) else {
        return Ok(());
    };
    let npm_rule = required.identity.is_none()
        && required.issuer.is_none()
        && npm_vouched
        && origin == Origin::NpmResponse
        && provenance::is_provenance(&v.predicate_type)
        && NPM_PROVENANCE_ISSUERS.contains(&issuer.as_str());
    if npm_rule {
        return Ok(());
    }
    required.check(identity, issuer)
}

fn looks_like_jsonl(bytes: &[u8]) -> bool {
    let text = bytes.trim_ascii();
    text.starts_with(b"{")
        && text.iter().filter(|b| **b == b'\n').count() > 0
        && serde_json::from_slice::<Value>(text).is_err()
}

fn verify_bundle(
    v: Value,
    publisher: Option<Publisher>,
    label: &str,
    ctx: &AttestationContext<'_>,
) -> Result<Verified, VerifyError> {
    let bundle = SigstoreBundle::from_value(v, label)?;
    let Some(predicate_type) = bundle.predicate_type().map(str::to_string) else {
        return Err(VerifyError::AttestationMalformed(
            "a message-signature bundle is a signature, not an attestation: pass it with --bundle".into(),
        ));
    };
    let registry_key = bundle
        .key_hint()
        .filter(|hint| ctx.registry_keys.knows(hint))
        .map(|hint| ctx.registry_keys.find(hint, "npm:attestations"));
    let registry_signed = registry_key.is_some();
    let verified = match registry_key {
        Some(candidates) => {
            let keys: Vec<PublicKey> = candidates.iter().map(|k| k.key.clone()).collect();
            let v = bundle.verify_detailed(ctx.root, ctx.artifact, &keys, None)?;
            let key = candidates
                .iter()
                .find(|k| matches!(&v.signer, SignerIdentity::Key { fingerprint, .. } if fingerprint == k.key.fingerprint()))
                .ok_or_else(|| VerifyError::KeyNotTrusted(" (registry key)".into()))?;
            key.check_window(v.signed_at)?;
            v
        }
        None => bundle.verify_detailed(ctx.root, ctx.artifact, ctx.keys, None)?,
    };
    if let Some(p) = &publisher {
        p.check(verified.claims.as_ref())?;
    }
    let signed_by = match &verified.signer {
        _ if registry_signed => SignedBy::RegistryKey,
        SignerIdentity::Key { .. } => SignedBy::Key,
        SignerIdentity::Keyless { identity, issuer } => SignedBy::Keyless {
            identity: identity.clone(),
            issuer: issuer.clone(),
        },
    };
    Ok(Verified {
        facts: facts(&verified, &predicate_type, ctx)?,
        predicate_type,
        signed_by,
    })
}

fn facts(v: &VerifiedBundle, predicate_type: &str, ctx: &AttestationContext<'_>) -> Result<Vec<Fact>, VerifyError> {
    let statement = v
        .statement
        .as_ref()
        .ok_or_else(|| VerifyError::AttestationMalformed("no statement".into()))?;
    let subject = statement.bind(ctx.artifact.sha256, ctx.artifact.sha512)?;
    let mut out = vec![v.signature_fact()];
    out.extend(statement_facts(
        statement,
        &subject.name,
        v.signer.clone(),
        &v.evidence,
        v.claims.as_ref(),
        ctx,
    )?);
    debug_assert_eq!(statement.predicate_type, predicate_type);
    Ok(out)
}

fn statement_facts(
    statement: &Statement,
    subject_name: &str,
    signer: SignerIdentity,
    evidence: &str,
    claims: Option<&crate::bundle::CertificateClaims>,
    ctx: &AttestationContext<'_>,
) -> Result<Vec<Fact>, VerifyError> {
    let predicate_type = statement.predicate_type.as_str();
    if predicate_type == npm::NPM_PUBLISH_V01 {
        npm::check_publish(&statement.predicate, subject_name, ctx.package)?;
    }
    if predicate_type == pypi::PYPI_PUBLISH_V1 && !subject_name.is_empty() && subject_name != ctx.file_name {
        return Err(VerifyError::SubjectMismatch(format!(
            "PyPI attestation is for {subject_name:?}, the artifact is {:?}",
            ctx.file_name
        )));
    }
    let mut out = vec![Fact::Statement {
        predicate_type: predicate_type.to_string(),
        signer: signer.clone(),
        evidence: evidence.to_string(),
        predicate: Some(Arc::new(statement.predicate.clone())),
    }];
    if predicate_type == crate::build_inputs::BUILD_INPUTS {
        out.push(Fact::BuildInputs {
            inputs: crate::build_inputs::read(&statement.predicate)?,
            signer: signer.clone(),
            evidence: evidence.to_string(),
        });
    }
    if provenance::is_provenance(predicate_type) {
        let provenance = provenance::reconcile(provenance::read(statement), claims)?;
        out.push(Fact::Provenance {
            provenance,
            signer,
            evidence: evidence.to_string(),
        });
    }
    Ok(out)
}

fn verify_envelope(v: &Value, label: &str, ctx: &AttestationContext<'_>) -> Result<Verified, VerifyError> {
    let envelope = Envelope::from_value(v)?;
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(VerifyError::PayloadType(envelope.payload_type));
    }
    let statement = Statement::parse(&envelope.payload)?;
    let subject = statement.bind(ctx.artifact.sha256, ctx.artifact.sha512)?;
    let fingerprints = envelope.verify(ctx.keys)?;
    let signer_of = |fp: &str| {
        let key = ctx.keys.iter().find(|k| k.fingerprint() == fp);
        SignerIdentity::Key {
            fingerprint: fp.to_string(),
            algorithm: key.map(|k| format!("{:?}", k.kind())).unwrap_or_default(),
        }
    };
    let mut out: Vec<Fact> = fingerprints
        .iter()
        .map(|fp| Fact::Signature {
            signer: signer_of(fp),
            evidence: label.to_string(),
            signed_at: None,
            transparency_log: false,
            predicate_type: Some(statement.predicate_type.clone()),
        })
        .collect();
    let first = signer_of(&fingerprints[0]);
    out.extend(statement_facts(&statement, &subject.name, first, label, None, ctx)?);
    Ok(Verified {
        facts: out,
        predicate_type: statement.predicate_type,
        signed_by: SignedBy::Key,
    })
}
