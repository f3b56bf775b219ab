//! The release history a decision compares: what the registry's listing
//! says about this release and the ones before it (handed in by the proxy
//! as [`crate::Evidence::release`]), and the releases of the package the
//! ledger allowed, from the ledger's release index (one indexed lookup per
//! artifact, never a scan of the log).
//!
//! Looked up only when the policy has a cooldown or history rule for the
//! package; what was compared is recorded with the decision.

use crate::Gate;
use ward_core::Artifact;
use ward_policy::release::{ProvenanceSource, RecordedRelease, RegistryReleases, ReleaseHistory};

impl Gate {
    /// The history the policy's cooldown and history rules compare for this
    /// artifact, cut to the largest `history.window` that applies; `None`
    /// when no such rule applies.
    pub(crate) fn release_history(
        &self,
        artifact: &Artifact,
        registry: Option<&RegistryReleases>,
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
        Some(history)
    }
}
