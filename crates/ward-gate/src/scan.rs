//! The scan stage: for one evaluated artifact, its own package (with its
//! declared licence and digests) and the components of every verified SBOM
//! statement about it; for `ward scan`, lockfiles, SBOMs and artifacts
//! ([`Gate::scan_targets`]). Both run against the advisory database, then
//! first-seen, triage and the one decider, the policy.

use crate::{Evidence, Gate, GateError};
use std::path::{Path, PathBuf};
use ward_core::{Artifact, ArtifactKind, CheckKind, Reason};
use ward_policy::Mode;
use ward_verify::{Check, CheckOutcome, Fact};

/// The scan stage's own check: a fail (`advisories-stale`) when the gate
/// was told to deny past an age and the advisory data is older at `now` (or
/// has no date at all); else a pass.
pub(crate) fn freshness_check(gate: &Gate, now: jiff::Timestamp) -> Check {
    let (Some((db, _)), Some(max)) = (&gate.advisories, gate.advisories_deny_after) else {
        return Check::pass(CheckKind::Scan, None, Vec::new());
    };
    let stale = db.stale_sources(now, max);
    if stale.is_empty() {
        return Check::pass(CheckKind::Scan, None, Vec::new());
    }
    let days = |d: jiff::SignedDuration| d.as_secs() / 86_400;
    let named: Vec<String> = stale
        .iter()
        .map(|(s, age)| match age {
            Some(a) => format!("{} is {} days old", s.name, days(*a)),
            None => format!("{} has no dates", s.name),
        })
        .collect();
    Check::fail(
        CheckKind::Scan,
        Some("advisory database".into()),
        Reason::new(
            ward_core::ReasonCode::AdvisoriesStale,
            format!(
                "the advisory data is older than the {} days allowed ({}): run `ward advisories update`",
                days(max),
                named.join(", ")
            ),
        ),
    )
}

/// What `ward scan` found and what the policy says about it.
#[derive(Debug)]
#[non_exhaustive]
pub struct ScanOutcome {
    /// Every component scanned, the findings (first-seen kept, triaged) and
    /// what could not be evaluated.
    pub report: ward_core::TriagedReport,
    /// The policy's reasons, each with the mode it applies in; triage notes
    /// (exceptions expired or expiring) are warnings.
    pub reasons: Vec<(Mode, Reason)>,
}

impl ScanOutcome {
    /// Whether any reason denies (a rule in `enforce` mode).
    pub fn denied(&self) -> bool {
        self.reasons.iter().any(|(mode, _)| *mode == Mode::Enforce)
    }
}

impl Gate {
    /// `ward scan`: reads each target as a lockfile or SBOM, or else as an
    /// artifact (identified and verified like `ward verify`, with `evidence`
    /// and the sidecars beside it; its own package and the components of its
    /// verified SBOM attestations are scanned). Then scan → first-seen →
    /// triage → the policy's scan rules, at `now`. Needs an advisory
    /// database ([`Gate::with_advisories`]).
    pub fn scan_targets(
        &self,
        targets: &[PathBuf],
        evidence: &Evidence,
        now: jiff::Timestamp,
    ) -> Result<ScanOutcome, GateError> {
        let Some((db, fail_on)) = &self.advisories else {
            return Err(GateError::NoAdvisoryDatabase);
        };
        let (mut components, mut unpinned) = (Vec::new(), Vec::new());
        for target in targets {
            match ward_scan::target::read(target) {
                Ok((c, u)) => {
                    components.extend(c);
                    unpinned.extend(u);
                }
                // Not a lockfile or SBOM: an artifact, scanned with what its verified attestations say.
                Err(ward_scan::TargetError::Unknown(_)) => {
                    let (c, u) = self.artifact_components(target, evidence)?;
                    components.extend(c);
                    unpinned.extend(u);
                }
                Err(e) => return Err(GateError::Target(e)),
            }
        }
        let report = ward_scan::scan(db, &components, unpinned);
        let (report, notes) = self.observe_and_triage(report, now)?;
        let mut reasons = self.policy.scan_reasons(&report, None, *fail_on);
        reasons.extend(notes.into_iter().map(|n| (Mode::Warn, n)));
        Ok(ScanOutcome { report, reasons })
    }

    /// An artifact's own package and the components of its verified SBOM
    /// attestations. Attestations that fail to verify are reported as could
    /// not evaluate: their SBOM cannot be trusted.
    fn artifact_components(
        &self,
        path: &Path,
        evidence: &Evidence,
    ) -> Result<(Vec<ward_core::Component>, Vec<ward_core::Unpinned>), GateError> {
        let mut evidence = evidence.clone();
        evidence.discover_sidecars(path);
        let verified = self.identify_and_verify(path, None, &evidence)?;
        let artifact = &verified.artifact;
        let (components, mut unevaluable) = scanned_components(artifact, &verified.checks);
        let packaged = artifact.kind != ArtifactKind::File;
        if components.is_empty() || (!packaged && components.iter().all(|c| c.source == artifact.file_name)) {
            unevaluable.push(ward_core::Unpinned {
                entry: artifact.file_name.clone(),
                source: path.display().to_string(),
                reason: "not a lockfile, SBOM or package, and no verified SBOM attestation lists what it contains"
                    .into(),
            });
        }
        for check in &verified.checks {
            if let (CheckOutcome::Fail { reason }, CheckKind::Attestation | CheckKind::Archive) =
                (check.outcome(), check.kind())
            {
                unevaluable.push(ward_core::Unpinned {
                    entry: check.evidence().unwrap_or(&artifact.file_name).to_string(),
                    source: path.display().to_string(),
                    reason: format!("{}: {}", reason.code, reason.message),
                });
            }
        }
        Ok((components, unevaluable))
    }
}

/// First-seen, then triage, of a scan report: the one sequence every entry
/// point that scans runs after matching (the gate's scan stage, `ward scan`,
/// `ward audit`, rollback plans). First sightings are recorded and saved
/// (so remediation deadlines count from the first time any of them saw a
/// finding); the policy then silences and dates, and never edits findings.
pub fn observe_and_triage(
    report: ward_core::ScanReport,
    first_seen: Option<&std::sync::Mutex<ward_scan::FirstSeenStore>>,
    policy: &ward_policy::Policy,
    now: jiff::Timestamp,
) -> Result<(ward_core::TriagedReport, Vec<Reason>), GateError> {
    let seen = match first_seen {
        Some(store) => {
            let mut store = store
                .lock()
                .map_err(|e| GateError::FirstSeen(format!("a previous writer panicked ({e})")))?;
            let seen = store.observe(&report.findings, now);
            store.save().map_err(|e| GateError::FirstSeen(e.to_string()))?;
            seen
        }
        None => Vec::new(),
    };
    let triage = policy.triage(&report.findings, &seen, now);
    Ok((report.triaged(triage.statuses), triage.notes))
}

/// SBOM predicate types whose verified statements are scanned.
const SBOM_PREDICATES: &[&str] = &["https://cyclonedx.org/bom", "https://spdx.dev/Document"];

/// The scan stage: the artifact's own package (and its declared licence),
/// plus every component of a verified SBOM statement, against the advisory
/// database when there is one.
pub(crate) fn scan_report(
    db: Option<&ward_scan::AdvisoryDb>,
    artifact: &Artifact,
    checks: &[Check],
    files: &[ward_core::FileDigest],
) -> ward_core::ScanReport {
    let (mut components, unevaluable) = scanned_components(artifact, checks);
    // Malicious-package records may list files inside the archive.
    if let Some(own) = components.first_mut().filter(|c| c.id == artifact.id) {
        own.digests.extend(files.iter().map(|f| {
            (
                format!("{}:{}", ward_scan::malicious::FILE_SHA256, f.path),
                f.sha256.clone(),
            )
        }));
    }
    match db {
        Some(db) => ward_scan::scan(db, &components, unevaluable),
        // No advisory data: licences can still be judged.
        None => ward_core::ScanReport {
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
) -> (Vec<ward_core::Component>, Vec<ward_core::Unpinned>) {
    let mut components = Vec::new();
    let mut unevaluable = Vec::new();
    if artifact.id.version.is_some() {
        let mut own = ward_core::Component::new(artifact.id.clone(), artifact.file_name.clone());
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
    for fact in checks.iter().flat_map(|c| c.facts()) {
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
                Err(e) => unevaluable.push(ward_core::Unpinned {
                    entry: evidence.clone(),
                    source: evidence.clone(),
                    reason: e,
                }),
            }
        }
    }
    (components, unevaluable)
}
