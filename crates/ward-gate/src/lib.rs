//! The gate: one function from artifact and evidence to a decision.
//!
//! `ward verify`, the registry proxy and the audit of installed packages all
//! call [`Gate::evaluate`], so they cannot drift apart. The stages run in
//! pipeline order: identify (digests, identity, archive safety), verify
//! (every piece of evidence presented: bundles, detached signatures,
//! attestations), decide (the policy, or ward's safe default: every check
//! passes and at least one signature or attestation verified).

#![forbid(unsafe_code)]

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use ward_core::{
    Artifact, ArtifactKind, Check, Decision, EvidenceRef, Fact, PackageId, Reason, ReasonCode, SignerIdentity,
};
use ward_identify::{Limits, Options};
use ward_ledger::{LedgerError, LedgerStore, SharedLedger};
use ward_policy::{DecisionInput, Policy};
use ward_verify::{
    ArtifactRef, AttestationContext, PublicKey, RegistryKeys, SignerRequirement, SigstoreBundle, TrustRoot, VerifyError,
};

/// The evidence presented with an artifact.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// Sigstore bundles that sign the artifact itself.
    pub bundles: Vec<PathBuf>,
    /// Detached signature files (raw or base64), checked with the keys.
    pub signatures: Vec<PathBuf>,
    /// Attestation files (bundles, DSSE envelopes, JSONL, npm and PyPI formats).
    pub attestations: Vec<PathBuf>,
    /// Trusted public keys given on the command line.
    pub keys: Vec<PublicKey>,
    /// Keys that were presented but refused (weak, unknown or malformed),
    /// with why: each is a failed check, so the artifact is denied.
    pub refused_keys: Vec<(String, Reason)>,
    /// The keyless signer trusted for `bundles` when no policy is used.
    pub signer: SignerRequirement,
    /// Digests the artifact must have, and who says so (the ledger's
    /// earlier allow, the registry index): other bytes deny.
    pub expected: Vec<ExpectedDigest>,
    /// npm registry signatures from the packument's `dist.signatures`.
    pub npm_registry_signatures: Vec<NpmRegistrySignature>,
}

/// One of npm's `dist.signatures`, with the `dist.integrity` it covers.
#[derive(Clone, Debug)]
pub struct NpmRegistrySignature {
    /// `keyid`.
    pub key_id: String,
    /// `sig`, base64.
    pub signature: String,
    /// `dist.integrity` (SRI) of the version.
    pub integrity: String,
}

/// `(purl, file name)` to `(sha256, ledger entry index)` of recorded allows.
pub type RecordedAllows = std::collections::HashMap<(String, String), (String, u64)>;

/// A digest an artifact must have.
#[derive(Clone, Debug)]
pub struct ExpectedDigest {
    /// `sha256` or `sha512`.
    pub algorithm: &'static str,
    /// Lower-case hex.
    pub hex: String,
    /// Who says so, for the message ("ledger entry 12", "the registry index").
    pub source: String,
    /// The reason code when it differs.
    pub code: ReasonCode,
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

    /// Adds sidecar files next to the artifact when none of their kind was
    /// given: `NAME.sigstore.json` / `NAME.sigstore` (bundles), `NAME.sig`
    /// (with a key), `NAME.intoto.jsonl` (attestations).
    pub fn discover_sidecars(&mut self, artifact: &Path) {
        let name = artifact.as_os_str().to_string_lossy().into_owned();
        let exists = |suffix: &str| Some(PathBuf::from(format!("{name}{suffix}"))).filter(|p| p.is_file());
        if self.bundles.is_empty() && self.signatures.is_empty() {
            self.bundles
                .extend([".sigstore.json", ".sigstore"].iter().filter_map(|s| exists(s)));
            if !self.keys.is_empty() {
                self.signatures.extend(exists(".sig"));
            }
        }
        if self.attestations.is_empty() {
            self.attestations.extend(exists(".intoto.jsonl"));
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
    /// The first-seen store cannot be read or written.
    #[error("first-seen store: {0}")]
    FirstSeen(String),
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
    /// Every evidence file, by digest.
    pub evidence: Vec<EvidenceRef>,
    /// Known vulnerabilities found, when an advisory database is configured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<ward_scan::Finding>,
    /// When the decision was made (RFC 3339).
    pub time: String,
}

/// Where a decision was recorded, with the proof a third party can check.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    /// The entry's index in the ledger.
    pub index: u64,
    /// The ledger size after the append.
    pub size: u64,
    /// The entry's leaf hash (hex).
    pub leaf_hash: String,
    /// The inclusion proof against `checkpoint` (hex hashes, leaf to root).
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint at `size`.
    pub checkpoint: String,
    /// The ledger's verifier key (checks the checkpoint and the record).
    pub verifier_key: String,
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
    registry_keys: RegistryKeys,
    policy: Option<Arc<Policy>>,
    limits: Limits,
    ledger: Option<SharedLedger>,
    advisories: Option<(Arc<ward_scan::AdvisoryDb>, Option<ward_scan::Severity>)>,
    first_seen: Option<Arc<Mutex<ward_scan::FirstSeenStore>>>,
    pins: Option<Arc<Mutex<RecordedAllows>>>,
}

impl Gate {
    /// A gate over a trusted root, with the bundled npm registry keys, no
    /// policy (ward's safe default) and default archive limits.
    pub fn new(trust_root: TrustRoot) -> Self {
        Self {
            trust_root,
            registry_keys: RegistryKeys::bundled().unwrap_or_default(),
            policy: None,
            limits: Limits::default(),
            ledger: None,
            advisories: None,
            first_seen: None,
            pins: None,
        }
    }

    /// Scans every artifact (its own package and the components of a
    /// verified SBOM attestation) against this database. Findings at or
    /// above the policy's threshold deny; `fail_on` replaces that threshold.
    pub fn with_advisories(mut self, db: Arc<ward_scan::AdvisoryDb>, fail_on: Option<ward_scan::Severity>) -> Self {
        self.advisories = Some((db, fail_on));
        self
    }

    /// Keeps when each finding was first seen in this store, so that
    /// remediation deadlines count from the first sighting.
    pub fn with_first_seen(mut self, store: ward_scan::FirstSeenStore) -> Self {
        self.first_seen = Some(Arc::new(Mutex::new(store)));
        self
    }

    /// Records every decision in this ledger. Concurrent decisions share
    /// one batch (group commit: one fsync or transaction per batch).
    pub fn with_ledger(mut self, ledger: Box<dyn LedgerStore>) -> Self {
        self.ledger = Some(SharedLedger::new(ledger));
        self
    }

    /// Appends the decision to the ledger (one batch, durable before this
    /// returns) and returns its inclusion proof. `Ok(None)` when the gate
    /// has no ledger. An error means the decision is **not** recorded.
    pub fn record(&self, e: &Evaluation, context: &str) -> Result<Option<Recorded>, LedgerError> {
        let Some(ledger) = &self.ledger else { return Ok(None) };
        let record = ward_ledger::record::DecisionRecord {
            artifact: &e.artifact,
            checks: &e.checks,
            decision: &e.decision,
            evidence: &e.evidence,
            time: e.time.clone(),
            version: env!("CARGO_PKG_VERSION"),
            context,
        };
        let entry = record.sign(ledger.signer()?);
        let receipt = ledger.append_one(entry.clone())?;
        if e.decision.allowed()
            && let Some(pins) = &self.pins
            && let Ok(mut pins) = pins.lock()
        {
            pins.entry((e.artifact.id.to_purl(), e.artifact.file_name.clone()))
                .or_insert_with(|| (e.artifact.digests.sha256.to_hex(), receipt.index));
        }
        Ok(Some(Recorded {
            index: receipt.index,
            size: receipt.size,
            leaf_hash: hex::encode(ward_ledger::leaf_hash(&entry)),
            inclusion_proof: receipt.inclusion_proof.iter().map(hex::encode).collect(),
            checkpoint: receipt.checkpoint,
            verifier_key: ledger.verifier()?.to_vkey(),
        }))
    }

    /// Holds every package file to the bytes the ledger first allowed for it:
    /// other bytes under the same package and file name deny with
    /// `release-changed` (a republished or tampered release). Reads the whole
    /// ledger once, then keeps the pins up to date with every recorded allow.
    pub fn with_release_pins(mut self) -> Result<Self, LedgerError> {
        self.pins = Some(Arc::new(Mutex::new(self.recorded_allows()?)));
        Ok(self)
    }

    /// Every package file the ledger records as allowed: `(purl, file name)`
    /// to `(sha256, entry index)`, the first allow winning.
    fn recorded_allows(&self) -> Result<RecordedAllows, LedgerError> {
        let mut out = std::collections::HashMap::new();
        let Some(ledger) = &self.ledger else { return Ok(out) };
        let verifier = ledger.verifier()?;
        ledger.with_store(|ledger| -> Result<(), LedgerError> {
            for i in 0..ledger.size() {
                let statement = ward_ledger::record::open_record(&ledger.entry(i)?, &verifier)
                    .map_err(|e| LedgerError::Corrupt(format!("entry {i}: {e}")))?;
                let p = &statement["predicate"];
                if p["verificationResult"] != "PASSED" {
                    continue;
                }
                let subject = &statement["subject"][0];
                if let (Some(purl), Some(file), Some(sha)) = (
                    subject["name"].as_str(),
                    p["artifact"]["fileName"].as_str(),
                    subject["digest"]["sha256"].as_str(),
                ) {
                    out.entry((purl.to_string(), file.to_string()))
                        .or_insert_with(|| (sha.to_string(), i));
                }
            }
            Ok(())
        })??;
        Ok(out)
    }

    /// Replaces the archive limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Decides with this policy instead of the safe default.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = Some(Arc::new(policy));
        self
    }

    /// Replaces the npm registry keys.
    pub fn with_registry_keys(mut self, keys: RegistryKeys) -> Self {
        self.registry_keys = keys;
        self
    }

    /// The policy in use, if any.
    pub fn policy(&self) -> Option<&Policy> {
        self.policy.as_deref()
    }

    /// Runs the pipeline for one artifact, now.
    pub fn evaluate(
        &self,
        artifact_path: &Path,
        purl: Option<PackageId>,
        evidence: &Evidence,
    ) -> Result<Evaluation, GateError> {
        self.evaluate_at(artifact_path, purl, evidence, jiff::Timestamp::now())
    }

    /// Runs the pipeline for one artifact at a given time (for tests and replays).
    pub fn evaluate_at(
        &self,
        artifact_path: &Path,
        purl: Option<PackageId>,
        evidence: &Evidence,
        now: jiff::Timestamp,
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
        let pinned = self.pins.as_ref().and_then(|pins| {
            let pins = pins.lock().ok()?;
            let (sha256, index) = pins.get(&(artifact.id.to_purl(), artifact.file_name.clone()))?;
            Some(ExpectedDigest {
                algorithm: "sha256",
                hex: sha256.clone(),
                source: format!("ledger entry {index}"),
                code: ReasonCode::ReleaseChanged,
            })
        });
        for expected in evidence.expected.iter().chain(pinned.as_ref()) {
            let actual = match expected.algorithm {
                "sha512" => artifact.digests.sha512.to_hex(),
                _ => artifact.digests.sha256.to_hex(),
            };
            if !expected.hex.eq_ignore_ascii_case(&actual) {
                checks.push(Check::fail(
                    "digest",
                    Some(expected.source.clone()),
                    Reason::new(
                        expected.code,
                        format!(
                            "{} ({}) has {} {actual}, but {} says {}",
                            artifact.id, artifact.file_name, expected.algorithm, expected.source, expected.hex
                        ),
                    ),
                ));
            }
        }
        // The registry's signature binds the tarball's own name and version to
        // the integrity the packument lists (which the bytes were checked against).
        for sig in &evidence.npm_registry_signatures {
            let label = Some(format!("npm registry signature {}", sig.key_id));
            checks.push(
                match ward_verify::npm::verify_registry_signature(
                    &self.registry_keys,
                    &artifact.id,
                    &sig.integrity,
                    &sig.key_id,
                    &sig.signature,
                ) {
                    Ok(()) => Check::pass("npm-registry-signature", label, Vec::new()),
                    Err(e) => Check::fail("npm-registry-signature", label, e.to_reason()),
                },
            );
        }
        for (label, reason) in &evidence.refused_keys {
            checks.push(Check::fail("key", Some(label.clone()), reason.clone()));
        }
        // Keys the policy trusts for this package verify evidence too; the
        // policy then decides which signers count.
        let mut keys = evidence.keys.clone();
        if let Some(policy) = &self.policy {
            for scope in policy.scopes_for(&artifact.id) {
                keys.extend(scope.keys.iter().map(|k| k.value.clone()));
            }
        }
        let target = ArtifactRef {
            sha256: artifact.digests.sha256.0,
            sha512: Some(artifact.digests.sha512.0),
            path: Some(artifact_path),
        };
        // Keyless bundles and attestations meet the same signer requirement.
        // With a policy and no identity on the command line, keyless signers
        // are accepted here and judged by the policy's scopes' `signers`.
        let signer = match (&self.policy, &evidence.signer.identity) {
            (Some(_), None) => None,
            _ => Some(&evidence.signer),
        };
        for path in &evidence.bundles {
            checks.push(self.check_bundle(path, target, &keys, signer)?);
        }
        for path in &evidence.signatures {
            checks.push(check_detached(path, target, &keys)?);
        }
        let ctx = AttestationContext {
            root: &self.trust_root,
            keys: &keys,
            registry_keys: &self.registry_keys,
            artifact: target,
            package: &artifact.id,
            file_name: &artifact.file_name,
            signer,
        };
        for path in &evidence.attestations {
            let results = ward_verify::attestation::verify_file(path, &ctx).map_err(GateError::Evidence)?;
            for r in results {
                checks.push(match r.outcome {
                    Ok(facts) => Check::pass("attestation", Some(r.label), facts),
                    Err(e) => Check::fail("attestation", Some(r.label), e.to_reason()),
                });
            }
        }
        let mut report = scan_report(self.advisories.as_ref().map(|(db, _)| &**db), &artifact, &checks);
        if let Some(store) = &self.first_seen {
            let mut store = store
                .lock()
                .map_err(|_| GateError::FirstSeen("a previous writer panicked".into()))?;
            store.observe(&mut report.findings, &now.to_string());
            store.save().map_err(|e| GateError::FirstSeen(e.to_string()))?;
        }
        let fail_on = self.advisories.as_ref().and_then(|(_, f)| *f);
        let decision = match &self.policy {
            Some(policy) => {
                let notes = policy.triage(&mut report.findings, now);
                checks.push(Check::pass("scan", None, Vec::new()));
                policy.decide(&DecisionInput {
                    artifact: &artifact,
                    checks: &checks,
                    now,
                    scan: Some(&report),
                    notes: &notes,
                    fail_on,
                    keyless_checked: signer.is_some(),
                })
            }
            None => {
                // No policy: the built-in rules judge the scan, and any
                // denial is a failed check like every other.
                let builtin = Policy::builtin();
                builtin.triage(&mut report.findings, now);
                let denied = builtin
                    .scan_reasons(&report, Some(&artifact.id), fail_on)
                    .into_iter()
                    .find(|(mode, _)| *mode == ward_policy::Mode::Enforce);
                checks.push(match denied {
                    Some((_, reason)) => Check::fail("scan", None, reason),
                    None => Check::pass("scan", None, Vec::new()),
                });
                Decision::from_checks(&checks)
            }
        };
        let findings = report.findings;
        let evidence = evidence_refs(evidence);
        Ok(Evaluation {
            artifact,
            checks,
            decision,
            evidence,
            findings,
            time: now.to_string(),
        })
    }

    fn check_bundle(
        &self,
        path: &Path,
        target: ArtifactRef<'_>,
        keys: &[PublicKey],
        signer: Option<&SignerRequirement>,
    ) -> Result<Check, GateError> {
        let label = Some(path.display().to_string());
        let outcome = SigstoreBundle::from_file(path)
            .and_then(|bundle| bundle.verify_detailed(&self.trust_root, target, keys, signer));
        match outcome {
            Ok(verified) => Ok(Check::pass("sigstore-bundle", label, vec![verified.signature_fact()])),
            Err(e) if e.is_unreadable() => Err(GateError::Evidence(e)),
            Err(e) => Ok(Check::fail("sigstore-bundle", label, e.to_reason())),
        }
    }
}

fn check_detached(path: &Path, target: ArtifactRef<'_>, keys: &[PublicKey]) -> Result<Check, GateError> {
    let label = Some(path.display().to_string());
    // Bounded like every evidence file; an oversized one is a failed check, not a crash.
    let bytes = match ward_verify::evidence::read_evidence(path) {
        Ok(b) => b,
        Err(e) if e.is_unreadable() => return Err(GateError::Evidence(e)),
        Err(e) => return Ok(Check::fail("signature", label, e.to_reason())),
    };
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

/// Names every evidence file by its SHA-256 (a file that vanished since it
/// was read is named with an empty digest rather than failing the decision).
fn evidence_refs(evidence: &Evidence) -> Vec<EvidenceRef> {
    evidence
        .bundles
        .iter()
        .chain(&evidence.signatures)
        .chain(&evidence.attestations)
        .map(|p| EvidenceRef {
            uri: p.display().to_string(),
            // Streamed in constant memory: a file refused for its size is still
            // named. Regular files only: a FIFO or device swapped in since the
            // file was read is named with an empty digest, never read.
            sha256: ward_input::InputFile::new(p, "evidence file", u64::MAX)
                .open()
                .ok()
                .and_then(|f| ward_identify::hash::digest_reader(f).ok())
                .map(|(d, _)| d.sha256.to_hex())
                .unwrap_or_default(),
        })
        .collect()
}

/// SBOM predicate types whose verified statements are scanned.
const SBOM_PREDICATES: &[&str] = &["https://cyclonedx.org/bom", "https://spdx.dev/Document"];

/// The scan stage: the artifact's own package (and its declared licence),
/// plus every component of a verified SBOM statement, against the advisory
/// database when there is one.
fn scan_report(db: Option<&ward_scan::AdvisoryDb>, artifact: &Artifact, checks: &[Check]) -> ward_scan::ScanReport {
    let (components, unevaluable) = scanned_components(artifact, checks);
    match db {
        Some(db) => ward_scan::scan(db, &components, unevaluable),
        // No advisory data: licences can still be judged.
        None => ward_scan::ScanReport {
            components: components.len(),
            licenses: ward_scan::scan::licenses_of(&components),
            ..Default::default()
        },
    }
}

/// What the scan stage scans for one evaluated artifact: its own package
/// (with its declared licence) and the components of every *verified*
/// CycloneDX or SPDX statement about it. SBOMs that cannot be read are
/// "could not evaluate".
pub fn scanned_components(
    artifact: &Artifact,
    checks: &[Check],
) -> (Vec<ward_scan::Component>, Vec<ward_scan::Unpinned>) {
    let mut components = Vec::new();
    let mut unevaluable = Vec::new();
    if artifact.id.version.is_some() {
        let mut own = ward_scan::Component::new(artifact.id.clone(), artifact.file_name.clone());
        own.license = artifact.license.clone();
        // Packages state their licence in their metadata; a plain file does not.
        own.states_licenses = artifact.kind != ArtifactKind::File;
        // Malicious-package records may list the artifact's own digests.
        own.digests = vec![
            ("sha256".into(), artifact.digests.sha256.to_hex()),
            ("sha512".into(), artifact.digests.sha512.to_hex()),
        ];
        components.push(own);
    }
    for fact in checks.iter().flat_map(|c| &c.facts) {
        if let Fact::Statement {
            predicate_type,
            predicate: Some(p),
            evidence,
            ..
        } = fact
            && SBOM_PREDICATES.iter().any(|t| predicate_type.starts_with(t))
        {
            match ward_scan::sbom::read(p, evidence) {
                Ok((c, u)) => {
                    components.extend(c);
                    unevaluable.extend(u);
                }
                Err(e) => unevaluable.push(ward_scan::Unpinned {
                    entry: evidence.clone(),
                    source: evidence.clone(),
                    reason: e,
                }),
            }
        }
    }
    (components, unevaluable)
}
