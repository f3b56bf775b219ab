//! The scan stage for one evaluated artifact: its own package (with its
//! declared licence and digests) and the components of every verified SBOM
//! statement about it, against the advisory database when there is one.

use ward_core::{Artifact, ArtifactKind, Check, Fact};

/// SBOM predicate types whose verified statements are scanned.
const SBOM_PREDICATES: &[&str] = &["https://cyclonedx.org/bom", "https://spdx.dev/Document"];

/// The scan stage: the artifact's own package (and its declared licence),
/// plus every component of a verified SBOM statement, against the advisory
/// database when there is one.
pub(crate) fn scan_report(
    db: Option<&ward_scan::AdvisoryDb>,
    artifact: &Artifact,
    checks: &[Check],
) -> ward_scan::ScanReport {
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
