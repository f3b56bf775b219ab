//! `ward scan`: lockfiles, SBOMs and artifacts against the advisory database.

use super::advisories::{age_days, db_dir};
use super::{data_dir, or_usage};
use crate::args::{Level, ScanArgs};
use crate::output;
use ward_policy::{Mode, Policy};
use ward_scan::{AdvisoryDb, FirstSeenStore, Severity};

/// The gate that verifies artifact targets of `ward scan` (no ledger: a
/// scan decides nothing about installing).
fn artifact_gate(args: &ScanArgs, policy: &Policy) -> Result<ward_gate::Gate, super::Usage> {
    let gate = ward_gate::Gate::new(super::trust_root(&args.trust)?);
    Ok(if policy.path == "(built-in)" {
        gate
    } else {
        gate.with_policy(policy.clone())
    })
}

/// An artifact's own package and the components of its verified SBOM
/// attestations. Attestations that fail to verify are reported as could
/// not evaluate: their SBOM cannot be trusted.
fn artifact_components(
    gate: &ward_gate::Gate,
    args: &ScanArgs,
    artifact: &std::path::Path,
) -> Result<(Vec<ward_scan::Component>, Vec<ward_scan::Unpinned>), super::Usage> {
    let mut evidence = ward_gate::Evidence {
        attestations: args.attestation.iter().map(Into::into).collect(),
        ..ward_gate::Evidence::default()
    };
    for key in &args.key {
        evidence.add_key_file(key)?;
    }
    evidence.discover_sidecars(artifact);
    let evaluation = gate
        .evaluate(artifact, None, &evidence)
        .map_err(|e| super::Usage(e.to_string()))?;
    let (components, mut unevaluable) = ward_gate::scanned_components(&evaluation.artifact, &evaluation.checks);
    let packaged = evaluation.artifact.kind != ward_core::ArtifactKind::File;
    if components.is_empty() || (!packaged && components.iter().all(|c| c.source == evaluation.artifact.file_name)) {
        unevaluable.push(ward_scan::Unpinned {
            entry: evaluation.artifact.file_name.clone(),
            source: artifact.display().to_string(),
            reason: "not a lockfile, SBOM or package, and no verified SBOM attestation lists what it contains".into(),
        });
    }
    for check in &evaluation.checks {
        if let (
            ward_core::CheckOutcome::Fail { reason },
            ward_core::CheckKind::Attestation | ward_core::CheckKind::Archive,
        ) = (&check.outcome, check.check)
        {
            unevaluable.push(ward_scan::Unpinned {
                entry: check
                    .evidence
                    .clone()
                    .unwrap_or_else(|| evaluation.artifact.file_name.clone()),
                source: artifact.display().to_string(),
                reason: format!("{}: {}", reason.code, reason.message),
            });
        }
    }
    Ok((components, unevaluable))
}

/// The severity a `--fail-on` level names.
pub fn severity(level: Level) -> Severity {
    match level {
        Level::None => Severity::None,
        Level::Low => Severity::Low,
        Level::Medium => Severity::Medium,
        Level::High => Severity::High,
        Level::Critical => Severity::Critical,
    }
}

/// The advisory database `ward verify` scans with: `--db`, else the
/// imported one in the data directory, else none (no scan stage).
pub fn verify_db(explicit: Option<&std::path::Path>) -> Result<Option<AdvisoryDb>, super::Usage> {
    match explicit {
        Some(dir) => Ok(Some(AdvisoryDb::load(dir)?)),
        None => {
            let dir = data_dir().join("advisories");
            if dir.join(ward_scan::db::DB_FILE).is_file() {
                Ok(Some(AdvisoryDb::load(&dir)?))
            } else {
                Ok(None)
            }
        }
    }
}

pub fn run(args: ScanArgs) -> u8 {
    or_usage(|| {
        let database = AdvisoryDb::load(&db_dir(&args.db))?;
        let mut policy = match &args.policy {
            Some(path) => Policy::load(path).map_err(super::policy_invalid)?,
            None => Policy::builtin(),
        };
        for v in &args.vex {
            let bytes = ward_input::read_bounded(v, "VEX document", ward_input::limits::POLICY)?;
            policy.vex.add_document(&bytes, &v.display().to_string())?;
        }
        let (mut components, mut unpinned) = (Vec::new(), Vec::new());
        let mut gate = None;
        for t in &args.targets {
            match ward_scan::target::read(t) {
                Ok((c, u)) => {
                    components.extend(c);
                    unpinned.extend(u);
                }
                // Not a lockfile or SBOM: an artifact, scanned with what its verified attestations say.
                Err(ward_scan::TargetError::Unknown(_)) => {
                    if gate.is_none() {
                        gate = Some(artifact_gate(&args, &policy)?);
                    }
                    if let Some(gate) = &gate {
                        let (c, u) = artifact_components(gate, &args, t)?;
                        components.extend(c);
                        unpinned.extend(u);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        let report = ward_scan::scan(&database, &components, unpinned);
        let now = jiff::Timestamp::now();
        let mut first_seen = FirstSeenStore::open(&data_dir())?;
        let seen = first_seen.observe(&report.findings, now);
        first_seen.save()?;
        let triage = policy.triage(&report.findings, &seen, now);
        let (report, notes) = (report.triaged(triage.statuses), triage.notes);
        let mut reasons = policy.scan_reasons(&report, None, args.fail_on.map(severity));
        reasons.extend(notes.into_iter().map(|n| (Mode::Warn, n)));
        let denied = reasons.iter().any(|(mode, _)| *mode == Mode::Enforce);
        let age = age_days(&database);
        let outcome = output::ScanVerdict {
            denied,
            reasons: &reasons,
        };
        output::scan_report(&report, &database, age, args.max_age_days, &outcome, args.format);
        Ok(if denied { crate::EXIT_DENY } else { crate::EXIT_ALLOW })
    })
}
