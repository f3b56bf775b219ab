//! `ward scan`: lockfiles, SBOMs and artifacts against the advisory
//! database. The gate runs scan → first-seen → triage → decide
//! ([`ward_gate::Gate::scan_targets`]); this module reads the arguments and
//! renders the outcome.

use super::advisories::{age_days, db_dir};
use super::{data_dir, or_usage};
use crate::args::{Level, ScanArgs};
use crate::output;
use std::sync::Arc;
use ward_core::Severity;
use ward_policy::Policy;
use ward_scan::{AdvisoryDb, FirstSeenStore};

/// The severity a `--fail-on` level names.
pub(super) fn severity(level: Level) -> Severity {
    match level {
        Level::None => Severity::None,
        Level::Low => Severity::Low,
        Level::Medium => Severity::Medium,
        Level::High => Severity::High,
        Level::Critical => Severity::Critical,
    }
}

pub(super) fn run(args: ScanArgs) -> u8 {
    or_usage(|| {
        let database = Arc::new(AdvisoryDb::load(&db_dir(&args.db))?);
        let mut policy = match &args.policy {
            Some(path) => Policy::load(path).map_err(super::policy_invalid)?,
            None => Policy::builtin(),
        };
        for v in &args.vex {
            let bytes = ward_input::read_bounded(v, "VEX document", ward_input::limits::POLICY)?;
            policy.vex.add_document(&bytes, &v.display().to_string())?;
        }
        // Artifact targets are verified with these keys and attestations
        // (and the sidecars beside each).
        let mut evidence = ward_gate::Evidence {
            attestations: args.attestation.iter().map(Into::into).collect(),
            ..ward_gate::Evidence::default()
        };
        for key in &args.key {
            evidence.add_key_file(key)?;
        }
        // No ledger: a scan decides nothing about installing.
        let gate = ward_gate::Gate::new(super::trust_root(&args.trust)?)
            .with_policy(policy)
            .with_advisories(Arc::clone(&database), args.fail_on.map(severity))
            .with_first_seen(FirstSeenStore::open(&data_dir())?);
        let now = crate::clock::now()?;
        let outcome = gate.scan_targets(&args.targets, &evidence, now)?;
        let denied = outcome.denied();
        let age = age_days(&database, now);
        let verdict = output::ScanVerdict {
            denied,
            reasons: &outcome.reasons,
        };
        let max_age_days = super::advisories::max_age_days(args.max_age_days)?;
        output::scan_report(&outcome.report, &database, age, max_age_days, &verdict, args.format);
        Ok(if denied { crate::EXIT_DENY } else { crate::EXIT_ALLOW })
    })
}
