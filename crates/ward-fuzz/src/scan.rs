//! Targets for ward-scan: advisories (OSV JSON and YAML, RustSec
//! Markdown) through the same import path as `ward advisories import`,
//! lockfiles, SBOMs (CycloneDX, SPDX), OpenVEX, scan attestations, and the
//! small strings everything else is built on (package URLs, versions in
//! each ecosystem's order, CVSS vectors, SPDX licence expressions).

use crate::scratch;
use serde_json::Value;
use std::path::PathBuf;
use ward_core::PackageId;
use ward_policy::{LicenseRule, VexSet};
use ward_scan::AdvisoryDb;
use ward_scan::version::VersionScheme;

/// Versions every imported advisory is matched against.
const PROBES: &[&str] = &[
    "0.0.0",
    "0.1.0",
    "1.0.0",
    "1.0.0-rc.1",
    "1.2.3",
    "2.0",
    "10.0.0.post1",
    "99999999",
];

fn import(name: &str, data: &[u8]) {
    let Some(dir) = scratch::dir() else { return };
    let Some(path) = scratch::write(dir.path(), name, data) else {
        return;
    };
    let Ok((db, _report)) = AdvisoryDb::import(&[PathBuf::from(&path)], "2026-01-01T00:00:00Z") else {
        return;
    };
    let Ok(advisories) = db.advisories() else { return };
    for a in advisories {
        for p in &a.affected {
            for v in PROBES {
                let _ = p.matches(v);
            }
            for hit in db.lookup(p.ecosystem, &p.name) {
                let _ = hit.map(|(a, _)| a.id.len());
            }
        }
    }
}

/// An OSV record (a record, a list, or `{"vulns": [...]}`) as JSON.
pub fn osv_json(data: &[u8]) {
    import("GHSA-fuzz.json", data);
}

/// An OSV record as YAML (the PyPA advisory database).
pub fn osv_yaml(data: &[u8]) {
    import("PYSEC-fuzz.yaml", data);
}

/// A RustSec advisory: TOML front matter in Markdown.
pub fn rustsec_md(data: &[u8]) {
    import("crates/fuzz/RUSTSEC-0000-0000.md", data);
}

fn lockfile(name: &str, data: &[u8]) {
    let Some(dir) = scratch::dir() else { return };
    if let Some(path) = scratch::write(dir.path(), name, data) {
        let _ = ward_scan::target::read(&path);
    }
}

/// An npm `package-lock.json` (v2/v3).
pub fn package_lock(data: &[u8]) {
    lockfile("package-lock.json", data);
}

/// A pip `requirements.txt`.
pub fn requirements_txt(data: &[u8]) {
    lockfile("requirements.txt", data);
}

/// A `Cargo.lock`.
pub fn cargo_lock(data: &[u8]) {
    lockfile("Cargo.lock", data);
}

/// A `poetry.lock`, and the same bytes as a `uv.lock`.
pub fn poetry_lock(data: &[u8]) {
    lockfile("poetry.lock", data);
    lockfile("uv.lock", data);
}

/// A CycloneDX or SPDX JSON SBOM, as `ward scan` reads a file and as a
/// verified SBOM attestation's predicate is read.
pub fn sbom(data: &[u8]) {
    lockfile("bom.json", data);
    if let Ok(v) = serde_json::from_slice::<Value>(data)
        && ward_scan::sbom::is_sbom(&v)
    {
        let _ = ward_scan::sbom::read(&v, "fuzz.json");
    }
}

/// An OpenVEX document, then a lookup for each product it names.
pub fn openvex(data: &[u8]) {
    let mut set = VexSet::default();
    if set.add_document(data, "fuzz.openvex.json").is_err() {
        return;
    }
    let probe: PackageId = match "pkg:cargo/smallvec@1.6.0".parse() {
        Ok(p) => p,
        Err(_) => return,
    };
    let _ = set.lookup(&["CVE-2021-25900", "RUSTSEC-2021-0003"], &probe);
}

/// A scan attestation's predicate (`{"predicateType": …, "predicate": …}`).
pub fn scan_attestation(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let predicate_type = v.get("predicateType").and_then(Value::as_str).unwrap_or_default();
    let _ = ward_policy::scan_attestation::is_scan_predicate(predicate_type);
    if let Some(predicate) = v.get("predicate") {
        let _ = ward_policy::scan_attestation::read(predicate_type, predicate);
    }
}

/// One string per line: each read as a package URL, a package pattern, a
/// version in every scheme (compared with the previous line's), a CVSS
/// vector and an SPDX licence expression.
pub fn purl_version(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let rule = LicenseRule::new(
        Some(&["MIT".to_string(), "Apache-2.0".to_string()]),
        &["GPL-3.0-only".to_string()],
    );
    let mut previous: Vec<Option<ward_scan::Version>> = vec![None, None, None];
    let mut purls: Vec<PackageId> = Vec::new();
    for line in text.lines().take(64) {
        if let Ok(id) = line.parse::<PackageId>() {
            let _ = id.to_string();
            purls.push(id);
        }
        if let Ok(pattern) = ward_policy::PackagePattern::parse(line) {
            for id in &purls {
                let _ = pattern.matches(id);
            }
        }
        for (i, scheme) in [VersionScheme::Semver, VersionScheme::Pep440, VersionScheme::Maven]
            .into_iter()
            .enumerate()
        {
            let parsed = scheme.parse(line).ok();
            if let (Some(a), Some(b)) = (&parsed, &previous[i]) {
                let _ = a.compare(b);
            }
            previous[i] = parsed;
        }
        let _ = ward_scan::advisory::rate_vector(line);
        if let Ok(rule) = &rule {
            let _ = rule.judge(Some(line));
        }
    }
}
