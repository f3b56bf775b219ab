//! The pipeline for one artifact: identify (digests, identity, archive
//! safety), verify (expected digests, npm registry signatures, bundles,
//! detached signatures, attestations), scan, decide.

use crate::evidence::Loaded;
use crate::{Evaluation, Evidence, Gate, GateError};
use std::path::Path;
use ward_core::{Artifact, CheckKind, EvidenceRef, PackageId, Reason};
use ward_identify::Options;
use ward_policy::DecisionInput;
use ward_verify::Check;
use ward_verify::{ArtifactRef, AttestationContext, EvidenceFile, PublicKey, SignerRequirement, SigstoreBundle};

/// What identify and verify established about one artifact.
pub(crate) struct Verified {
    /// The identified artifact.
    pub(crate) artifact: Artifact,
    /// Every check so far, in pipeline order.
    pub(crate) checks: Vec<Check>,
    /// Every evidence file, named by the digest of the bytes verified.
    pub(crate) evidence: Vec<EvidenceRef>,
    /// Whether keyless signers were held to an identity named outside the
    /// policy (see [`DecisionInput::keyless_checked`]).
    pub(crate) keyless_checked: bool,
    /// What the archive does at install, when it could be read.
    pub(crate) traits: Option<ward_core::ArchiveTraits>,
    /// The sha256 of every file inside, when the advisory data lists file hashes.
    pub(crate) files: Vec<ward_core::FileDigest>,
}

impl Gate {
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
        let (listed, baseline) = (evidence.release.as_ref(), evidence.baseline.as_slice());
        let registry_traits = evidence.registry_traits.clone();
        let Verified {
            artifact,
            mut checks,
            evidence,
            keyless_checked,
            traits,
            files,
        } = self.identify_and_verify(artifact_path, purl, evidence)?;
        let report = crate::scan::scan_report(
            self.advisories.as_ref().map(|(db, _)| &**db),
            &artifact,
            &checks,
            &files,
        );
        let risky = self.risky_input(&artifact, traits.as_ref(), registry_traits.as_deref());
        let (report, notes) = self.observe_and_triage(report, now)?;
        checks.push(crate::scan::freshness_check(self, now));
        let release = self.release_history(&artifact, listed, baseline);
        // The one decider: the configured policy, else the built-in one.
        let mut decision = self.policy.decide(&DecisionInput {
            artifact: &artifact,
            checks: &checks,
            now,
            scan: Some(&report),
            notes: &notes,
            fail_on: self.advisories.as_ref().and_then(|(_, f)| *f),
            keyless_checked,
            release: release.as_ref(),
            risky: risky.as_ref(),
        });
        if let Some(history) = self.rebuild_history(&artifact) {
            self.policy
                .add_rebuild_regression(&mut decision, &artifact, &checks, &history);
        }
        if !self.custom_policy {
            // ward's safe default is recorded as such, not as a policy file.
            decision.policy = None;
        }
        Ok(Evaluation {
            artifact,
            checks,
            decision,
            evidence,
            findings: report.findings,
            time: now,
            release,
            traits,
        })
    }

    /// Identify and verify: the artifact, every check on its evidence, and
    /// how each evidence file is named in the record.
    pub(crate) fn identify_and_verify(
        &self,
        artifact_path: &Path,
        purl: Option<PackageId>,
        evidence: &Evidence,
    ) -> Result<Verified, GateError> {
        let identified = ward_identify::identify_with(
            artifact_path,
            &Options {
                purl,
                limits: self.limits.clone(),
            },
            self.file_digests(),
        )?;
        let artifact = identified.artifact;
        let mut checks = vec![match &identified.problem {
            None => Check::pass(CheckKind::Archive, None, Vec::new()),
            Some(problem) => Check::fail(CheckKind::Archive, None, problem.to_reason()),
        }];
        let pinned = self.pinned(&artifact);
        for expected in evidence.expected.iter().chain(pinned.as_ref()) {
            let actual = match expected.algorithm {
                "sha512" => artifact.digests.sha512.to_hex(),
                _ => artifact.digests.sha256.to_hex(),
            };
            if !expected.hex.eq_ignore_ascii_case(&actual) {
                checks.push(Check::fail(
                    CheckKind::Digest,
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
                    Ok(()) => Check::pass(CheckKind::NpmRegistrySignature, label, Vec::new()),
                    Err(e) => Check::fail(CheckKind::NpmRegistrySignature, label, e.to_reason()),
                },
            );
        }
        for (label, reason) in &evidence.refused_keys {
            checks.push(Check::fail(CheckKind::Key, Some(label.clone()), reason.clone()));
        }
        // Keys the policy trusts for this package verify evidence too; the
        // policy then decides which signers count.
        let mut keys = evidence.keys.clone();
        for scope in self.policy.scopes_for(&artifact.id) {
            keys.extend(scope.keys.iter().map(|k| k.value.clone()));
        }
        let target = ArtifactRef {
            sha256: artifact.digests.sha256.0,
            sha512: Some(artifact.digests.sha512.0),
            path: Some(artifact_path),
        };
        // Keyless bundles and attestations meet the same signer requirement.
        // With a policy and no identity on the command line, keyless signers
        // are accepted here and judged by the policy's scopes' `signers`.
        let signer = match (self.custom_policy, &evidence.signer.identity) {
            (true, None) => None,
            _ => Some(&evidence.signer),
        };
        // Every evidence file is read once: these bytes are verified and recorded.
        let read = |sources: &[crate::evidence::EvidenceSource]| -> Result<Vec<Loaded>, GateError> {
            sources.iter().map(Loaded::read).collect()
        };
        let (bundles, signatures, attestations) = (
            read(&evidence.bundles)?,
            read(&evidence.signatures)?,
            read(&evidence.attestations)?,
        );
        for loaded in &bundles {
            checks.push(match loaded {
                Loaded::Read(file) => self.check_bundle(file, target, &keys, signer)?,
                Loaded::Refused { reference, reason } => {
                    Check::fail(CheckKind::SigstoreBundle, Some(reference.uri.clone()), reason.clone())
                }
            });
        }
        for loaded in &signatures {
            checks.push(match loaded {
                Loaded::Read(file) => check_detached(file, target, &keys)?,
                Loaded::Refused { reference, reason } => {
                    Check::fail(CheckKind::Signature, Some(reference.uri.clone()), reason.clone())
                }
            });
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
        for loaded in &attestations {
            match loaded {
                Loaded::Read(file) => {
                    for r in ward_verify::attestation::verify_evidence(file, &ctx) {
                        checks.push(match r.outcome {
                            Ok(facts) => Check::pass(CheckKind::Attestation, Some(r.label), facts),
                            Err(e) if e.is_unreadable() => return Err(GateError::Evidence(e)),
                            Err(e) => Check::fail(CheckKind::Attestation, Some(r.label), e.to_reason()),
                        });
                    }
                }
                Loaded::Refused { reference, reason } => checks.push(Check::fail(
                    CheckKind::Attestation,
                    Some(reference.uri.clone()),
                    reason.clone(),
                )),
            }
        }
        let rebuilds = read(&evidence.rebuilds)?;
        self.check_rebuilds(&rebuilds, target, &evidence.keys, &mut checks)?;
        let evidence = bundles
            .iter()
            .chain(&signatures)
            .chain(&attestations)
            .chain(&rebuilds)
            .map(Loaded::reference)
            .collect();
        Ok(Verified {
            artifact,
            checks,
            evidence,
            keyless_checked: signer.is_some(),
            traits: identified.traits,
            files: identified.files,
        })
    }

    /// Keeps when each finding was first seen (when the gate has a store),
    /// then triages the findings under the policy: the report with each
    /// finding's status, and warnings about exceptions expired or expiring.
    pub(crate) fn observe_and_triage(
        &self,
        report: ward_core::ScanReport,
        now: jiff::Timestamp,
    ) -> Result<(ward_core::TriagedReport, Vec<Reason>), GateError> {
        crate::scan::observe_and_triage(report, self.first_seen.as_deref(), &self.policy, now)
    }

    fn check_bundle(
        &self,
        file: &EvidenceFile,
        target: ArtifactRef<'_>,
        keys: &[PublicKey],
        signer: Option<&SignerRequirement>,
    ) -> Result<Check, GateError> {
        let label = Some(file.label().to_string());
        let outcome = SigstoreBundle::parse(file.bytes(), file.label())
            .and_then(|bundle| bundle.verify_detailed(&self.trust_root, target, keys, signer));
        match outcome {
            Ok(verified) => Ok(Check::pass(
                CheckKind::SigstoreBundle,
                label,
                vec![verified.signature_fact()],
            )),
            Err(e) if e.is_unreadable() => Err(GateError::Evidence(e)),
            Err(e) => Ok(Check::fail(CheckKind::SigstoreBundle, label, e.to_reason())),
        }
    }
}

/// A detached signature, checked by ward-verify with every trusted key.
fn check_detached(file: &EvidenceFile, target: ArtifactRef<'_>, keys: &[PublicKey]) -> Result<Check, GateError> {
    let label = Some(file.label().to_string());
    match ward_verify::detached::verify(file, target, keys) {
        Ok(fact) => Ok(Check::pass(CheckKind::Signature, label, vec![fact])),
        Err(e) if e.is_unreadable() => Err(GateError::Evidence(e)),
        Err(e) => Ok(Check::fail(CheckKind::Signature, label, e.to_reason())),
    }
}

#[cfg(test)]
mod tests {
    //! The safe default, decided by the one decider (`Policy::builtin()`):
    //! the rules `Decision::from_checks` used to apply on its own.

    use super::*;
    use ward_core::{ArtifactKind, Digests, ReasonCode, Verdict};
    use ward_policy::Policy;
    use ward_verify::{Fact, fact::unverified};

    fn artifact() -> Artifact {
        Artifact {
            id: "pkg:npm/a@1.0.0".parse().unwrap(),
            kind: ArtifactKind::NpmTarball,
            file_name: "a-1.0.0.tgz".into(),
            size: 1,
            digests: Digests::of(b"a"),
            license: None,
        }
    }

    fn sig_fact() -> Fact {
        unverified::signature(unverified::key_signer("sha256:00", "ED25519"), "a.sig")
    }

    fn decide(checks: &[Check]) -> ward_core::Decision {
        Policy::builtin().decide(&DecisionInput {
            artifact: &artifact(),
            checks,
            now: jiff::Timestamp::UNIX_EPOCH,
            scan: None,
            notes: &[],
            fail_on: None,
            keyless_checked: true,
            release: None,
            risky: None,
        })
    }

    #[test]
    fn no_signature_is_a_deny() {
        let d = decide(&[Check::pass(CheckKind::Archive, None, vec![])]);
        assert_eq!(d.verdict(), Verdict::Deny);
        assert_eq!(d.reasons[0].code, ReasonCode::SignatureMissing);
    }

    #[test]
    fn one_failed_check_denies_even_with_a_good_signature() {
        let d = decide(&[
            Check::pass(CheckKind::Signature, None, vec![sig_fact()]),
            Check::fail(
                CheckKind::SigstoreBundle,
                None,
                Reason::new(ReasonCode::SignatureInvalid, "bad"),
            ),
        ]);
        assert_eq!(d.verdict(), Verdict::Deny);
        assert_eq!(d.reasons.len(), 1);
    }

    #[test]
    fn verified_signature_and_no_failure_allows() {
        let d = decide(&[Check::pass(CheckKind::Signature, None, vec![sig_fact()])]);
        assert!(d.allowed());
        assert!(d.reasons.is_empty());
    }
}
