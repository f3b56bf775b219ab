//! The release history a decision compares: what the registry's listing
//! says about this release and the ones before it (handed in by the proxy
//! as [`crate::Evidence::release`]), and the releases of the package the
//! ledger allowed, from the ledger's release index (one indexed lookup per
//! artifact, never a scan of the log).
//!
//! Looked up only when the policy has a cooldown or history rule for the
//! package; what was compared is recorded with the decision.

use crate::Gate;
use crate::evidence::{BaselineAttestations, Loaded};
use ward_core::Artifact;
use ward_policy::release::{FetchedProvenance, ProvenanceSource, RecordedRelease, RegistryReleases, ReleaseHistory};
use ward_verify::Fact;

impl Gate {
    /// The history the policy's cooldown and history rules compare for this
    /// artifact, cut to the largest `history.window` that applies; `None`
    /// when no such rule applies.
    pub(crate) fn release_history(
        &self,
        artifact: &Artifact,
        registry: Option<&RegistryReleases>,
        baseline: &[BaselineAttestations],
    ) -> Option<ReleaseHistory> {
        let id = &artifact.id;
        if !self.policy.wants_release_metadata(id) {
            return None;
        }
        let window = self
            .policy
            .scopes_for(id)
            .iter()
            .filter_map(|s| s.history.as_ref())
            .map(|h| usize::try_from(h.window.value).unwrap_or(usize::MAX))
            .max()
            .unwrap_or(0);
        let mut history = ReleaseHistory {
            registry: registry.cloned(),
            ledger: self.ledger.is_some(),
            ..ReleaseHistory::default()
        };
        if let Some(r) = &mut history.registry {
            r.earlier.truncate(window);
        }
        if window > 0
            && let Some(ledger) = &self.ledger
        {
            let mut package = id.clone();
            package.version = None;
            // One row per version; a few more than the window, since the
            // release being decided may be among them.
            match ledger.release_history(&package.to_purl(), window + 1) {
                Ok(rows) => {
                    history.recorded = rows
                        .into_iter()
                        .map(|r| RecordedRelease {
                            provenance: (r.repository.is_some() || r.workflow.is_some() || r.builder.is_some()).then(
                                || ProvenanceSource {
                                    repository: r.repository.as_deref().map(ward_policy::release::normalize_repository),
                                    workflow: r.workflow,
                                    builder: r.builder,
                                },
                            ),
                            version: r.version,
                            index: r.index,
                            published: r.published.and_then(|s| jiff::Timestamp::from_second(s).ok()),
                            publisher: r.publisher,
                        })
                        .collect();
                }
                Err(e) => history.recorded_unreadable = Some(e.to_string()),
            }
        }
        // The fetched attestations are verified only when the ledger knows no
        // verified source in the window (a first sight): the ledger's is the
        // baseline otherwise, and a verification costs more than the rest.
        let ledger_knows = history.recorded.iter().take(window).any(|r| r.provenance.is_some());
        if window > 0 && !ledger_knows {
            history.fetched = baseline.iter().map(|b| self.baseline_provenance(b)).collect();
        }
        Some(history)
    }

    /// Whether the ledger's indexed history of `id`'s package names a
    /// verified provenance source among its last `window` releases: then an
    /// earlier release's attestations are never needed (the gate compares
    /// with the ledger's source), and the proxy need not fetch them.
    /// `false` when there is no ledger or it cannot be read (fetch, and let
    /// the history rule say what it could not learn).
    pub fn ledger_knows_provenance(&self, id: &ward_core::PackageId, window: usize) -> bool {
        let Some(ledger) = &self.ledger else {
            return false;
        };
        let mut package = id.clone();
        package.version = None;
        ledger
            .release_history(&package.to_purl(), window + 1)
            .is_ok_and(|rows| {
                rows.iter()
                    .take(window)
                    .any(|r| r.repository.is_some() || r.workflow.is_some() || r.builder.is_some())
            })
    }

    /// Where an earlier release was built, from its attestations verified
    /// against the digest the registry lists for it (the same verification
    /// as the artifact's own), or why that could not be learnt.
    fn baseline_provenance(&self, b: &BaselineAttestations) -> FetchedProvenance {
        let mut out = FetchedProvenance {
            version: b.package.version.clone().unwrap_or_default(),
            evidence: b.source.label.clone(),
            provenance: None,
            unverified: None,
        };
        if let Some(e) = &b.fetch_error {
            out.unverified = Some(format!("could not be fetched: {e}"));
            return out;
        }
        let sha512: Option<[u8; 64]> = hex::decode(&b.sha512).ok().and_then(|v| v.try_into().ok());
        let Some(sha512) = sha512 else {
            out.unverified = Some("the registry lists no sha512 for it".into());
            return out;
        };
        let file = match Loaded::read(&b.source) {
            Ok(Loaded::Read(file)) => file,
            Ok(Loaded::Refused { reason, .. }) => {
                out.unverified = Some(reason.message);
                return out;
            }
            Err(e) => {
                out.unverified = Some(e.to_string());
                return out;
            }
        };
        let ctx = ward_verify::AttestationContext {
            root: &self.trust_root,
            keys: &[],
            registry_keys: &self.registry_keys,
            // Bound by the sha512 the registry lists (npm subjects carry no sha256).
            artifact: ward_verify::ArtifactRef {
                sha256: [0; 32],
                sha512: Some(sha512),
                path: None,
            },
            package: &b.package,
            file_name: &b.file_name,
            signer: None,
        };
        let mut errors = Vec::new();
        for r in ward_verify::attestation::verify_evidence(&file, &ctx) {
            match r.outcome {
                Ok(facts) => {
                    if let Some(p) = facts.iter().find_map(|f| match f {
                        Fact::Provenance { provenance, .. } => Some(ProvenanceSource::of(provenance)),
                        _ => None,
                    }) {
                        out.provenance.get_or_insert(p);
                    }
                }
                Err(e) => errors.push(format!("{}: {e}", r.label)),
            }
        }
        if !errors.is_empty() {
            // Any item that fails (forged or about other bytes): nothing from this file counts.
            out.provenance = None;
            out.unverified = Some(errors.join("; "));
        } else if out.provenance.is_none() {
            out.unverified = Some("no provenance statement among its attestations".into());
        }
        out
    }
}
