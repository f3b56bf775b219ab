//! The configured gate and its builders: trust root, registry keys, policy,
//! archive limits, ledger, advisory database and first-seen store.

use crate::pins::RecordedAllows;
use std::sync::{Arc, Mutex};
use ward_identify::Limits;
use ward_ledger::{LedgerStore, SharedLedger};
use ward_policy::Policy;
use ward_verify::{RegistryKeys, TrustRoot};

/// The configured gate. Build once, evaluate many artifacts.
#[derive(Clone)]
pub struct Gate {
    pub(crate) trust_root: TrustRoot,
    pub(crate) registry_keys: RegistryKeys,
    /// The one decider: the policy file, or `Policy::builtin()`.
    pub(crate) policy: Arc<Policy>,
    /// Whether `policy` is a policy file (it then judges keyless signers by
    /// its scopes' `signers`) rather than the built-in default.
    pub(crate) custom_policy: bool,
    pub(crate) limits: Limits,
    pub(crate) ledger: Option<SharedLedger>,
    pub(crate) advisories: Option<(Arc<ward_scan::AdvisoryDb>, Option<ward_core::Severity>)>,
    /// Deny (`advisories-stale`) when the advisory data is older than this.
    pub(crate) advisories_deny_after: Option<jiff::SignedDuration>,
    pub(crate) first_seen: Option<Arc<Mutex<ward_scan::FirstSeenStore>>>,
    pub(crate) pins: Option<Arc<Mutex<RecordedAllows>>>,
    /// The traits of allowed releases, for the risky-change rules.
    pub(crate) release_traits: Option<Arc<crate::risky::ReleaseTraits>>,
}

impl Gate {
    /// A gate over a trusted root, with the bundled npm registry keys, the
    /// built-in policy (ward's safe default) and default archive limits.
    pub fn new(trust_root: TrustRoot) -> Self {
        Self {
            trust_root,
            registry_keys: RegistryKeys::bundled().unwrap_or_default(),
            policy: Arc::new(Policy::builtin()),
            custom_policy: false,
            limits: Limits::default(),
            ledger: None,
            advisories: None,
            advisories_deny_after: None,
            first_seen: None,
            pins: None,
            release_traits: None,
        }
    }

    /// Scans every artifact (its own package and the components of a
    /// verified SBOM attestation) against this database. Findings at or
    /// above the policy's threshold deny; `fail_on` replaces that threshold.
    pub fn with_advisories(mut self, db: Arc<ward_scan::AdvisoryDb>, fail_on: Option<ward_core::Severity>) -> Self {
        self.advisories = Some((db, fail_on));
        self
    }

    /// Denies every artifact (`advisories-stale`) while the advisory data
    /// is older than `max` at the time of the decision (see
    /// `AdvisoryDb::age_at`), or has no date at all.
    pub fn with_advisories_deny_after(mut self, max: jiff::SignedDuration) -> Self {
        self.advisories_deny_after = Some(max);
        self
    }

    /// The advisory database the gate scans with, if any.
    pub fn advisories(&self) -> Option<&ward_scan::AdvisoryDb> {
        self.advisories.as_ref().map(|(db, _)| &**db)
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

    /// Replaces the archive limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Decides with this policy instead of the safe default. The built-in
    /// policy (with VEX documents added, say) stays the safe default.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.custom_policy = policy.path != Policy::builtin().path;
        self.policy = Arc::new(policy);
        self
    }

    /// Replaces the npm registry keys.
    pub fn with_registry_keys(mut self, keys: RegistryKeys) -> Self {
        self.registry_keys = keys;
        self
    }

    /// The policy file in use; `None` when the built-in default decides.
    pub fn policy(&self) -> Option<&Policy> {
        self.custom_policy.then_some(&*self.policy)
    }
}
