//! The rebuild stage of verification: each rebuild attestation presented
//! (`--rebuild`, the `ARTIFACT.rebuild.intoto.jsonl` sidecar, or fetched by
//! the proxy) verified by `ward_verify::rebuild` under the keys given and
//! the policy's `[[rebuilder]]` keys, then every verified rebuild held
//! against the verified SLSA provenance (`rebuild-source-mismatch`); and
//! the earlier releases' rebuilds the ledger recorded, for the policy's
//! `rebuild-regressed`.

use crate::evidence::Loaded;
use crate::{Gate, GateError};
use ward_core::{Artifact, CheckKind};
use ward_policy::rebuild::{EarlierRelease, RebuildHistory};
use ward_verify::Check;
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
        let reasons = ward_verify::rebuild::reconcile_with_provenance(checks.iter().flat_map(|c| c.facts().iter()));
        for reason in reasons {
            checks.push(Check::fail(CheckKind::Rebuild, None, reason));
        }
        Ok(())
    }
}

impl Gate {
    /// What the ledger says about earlier releases' rebuilds, when a scope
    /// checks for regressions: the package's allowed releases from the
    /// ledger's release index (one lookup, newest first), then each one's
    /// decision record (one entry read each, its signature checked) for a
    /// reproduced rebuild fact. Never a scan of the log.
    pub(crate) fn rebuild_history(&self, artifact: &Artifact) -> Option<RebuildHistory> {
        let window = self.policy.rebuild_window(&artifact.id)?;
        let Some(ledger) = &self.ledger else {
            return Some(RebuildHistory {
                unreadable: Some("no ledger is configured".into()),
                ..RebuildHistory::default()
            });
        };
        let read = || -> Result<Vec<EarlierRelease>, String> {
            let mut package = artifact.id.clone();
            package.version = None;
            let rows = ledger
                .release_history(&package.to_purl(), window + 1)
                .map_err(|e| e.to_string())?;
            let verifier = ledger.verifier().map_err(|e| e.to_string())?;
            rows.into_iter()
                .map(|row| {
                    let entry = ledger
                        .with_store(|s| s.entry(row.index))
                        .and_then(|r| r)
                        .map_err(|e| e.to_string())?;
                    let record = ward_ledger::record::read_record(&entry, &verifier)
                        .map_err(|e| format!("ledger entry {}: {e}", row.index))?;
                    let reproduced_by = record
                        .predicate
                        .facts
                        .iter()
                        .filter(|f| f["type"] == "rebuild" && f["outcome"] == "reproduced")
                        .filter_map(|f| f["signer"]["fingerprint"].as_str().map(str::to_string))
                        .collect();
                    Ok(EarlierRelease {
                        version: row.version,
                        index: row.index,
                        reproduced_by,
                    })
                })
                .collect()
        };
        Some(match read() {
            Ok(earlier) => RebuildHistory {
                earlier,
                unreadable: None,
            },
            Err(why) => RebuildHistory {
                earlier: Vec::new(),
                unreadable: Some(why),
            },
        })
    }
}
