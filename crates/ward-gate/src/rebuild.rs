//! The rebuild stage of verification: each rebuild attestation presented
//! (`--rebuild`, the `ARTIFACT.rebuild.intoto.jsonl` sidecar, or fetched by
//! the proxy) verified by `ward_verify::rebuild` under the keys given and
//! the policy's `[[rebuilder]]` keys, then every verified rebuild held
//! against the verified SLSA provenance (`rebuild-source-mismatch`).

use crate::evidence::Loaded;
use crate::{Gate, GateError};
use ward_core::{Check, CheckKind};
use ward_verify::{ArtifactRef, PublicKey};

impl Gate {
    /// One check per rebuild file, then one failed check per rebuild whose
    /// source contradicts the verified provenance.
    pub(crate) fn check_rebuilds(
        &self,
        files: &[Loaded],
        target: ArtifactRef<'_>,
        keys: &[PublicKey],
        checks: &mut Vec<Check>,
    ) -> Result<(), GateError> {
        let mut keys = keys.to_vec();
        keys.extend(self.policy.rebuilder_keys().cloned());
        for loaded in files {
            checks.push(match loaded {
                Loaded::Read(file) => {
                    let label = Some(file.label().to_string());
                    match ward_verify::rebuild::verify(file, target, &keys) {
                        Ok(facts) => Check::pass(CheckKind::Rebuild, label, facts),
                        Err(ward_verify::rebuild::RebuildError::Verify(e)) if e.is_unreadable() => {
                            return Err(GateError::Evidence(e));
                        }
                        Err(e) => Check::fail(CheckKind::Rebuild, label, e.to_reason()),
                    }
                }
                Loaded::Refused { reference, reason } => {
                    Check::fail(CheckKind::Rebuild, Some(reference.uri.clone()), reason.clone())
                }
            });
        }
        let reasons = ward_verify::rebuild::reconcile_with_provenance(checks.iter().flat_map(|c| c.facts.iter()));
        for reason in reasons {
            checks.push(Check::fail(CheckKind::Rebuild, None, reason));
        }
        Ok(())
    }
}
