//! Malicious-package records (issue 13 item 1): the OpenSSF feed's `MAL-`
//! records in `../shared/testdata/advisories/malicious`, the same in an OSV
//! `all.zip`, and RustSec `malicious` advisories.

#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use ward_core::Component;
use ward_core::PackageId;
use ward_scan::{AdvisoryDb, scan};

fn advisories() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/advisories")
}

fn npm(name: &str, version: &str) -> Component {
    Component::new(PackageId::npm(name, Some(version.to_string())), "test")
}

const NOW: &str = "2026-12-01T00:00:00Z";

#[test]
fn the_feed_imports_as_malicious_with_advice_and_the_suspect_record_flagged() {
    let (db, report) = AdvisoryDb::import(&[advisories().join("malicious")], NOW).unwrap();
    assert!(report.malformed.is_empty(), "{:?}", report.malformed);
    assert_eq!(report.malicious, 5);
    assert_eq!(report.suspect.len(), 1, "{:?}", report.suspect);
    assert_eq!(report.suspect[0].0, "MAL-2025-47141");
    assert_eq!(report.sources.values().sum::<usize>(), 5);

    let components = vec![
        npm("chalk", "5.6.1"),
        npm("chalk", "5.6.0"),
        npm("chalk", "5.6.2"),
        npm("debug", "4.4.2"),
        npm("debug", "4.4.1"),
        npm("debug", "4.4.3"),
        npm("flatmap-stream", "0.1.1"),
        npm("@ctrl/tinycolor", "4.1.1"),
        npm("@ctrl/tinycolor", "4.2.0"),
        Component::new(
            PackageId::new(ward_core::Ecosystem::Pypi, None, "litellm", Some("1.82.8".into())),
            "t",
        ),
        Component::new(
            PackageId::new(ward_core::Ecosystem::Pypi, None, "litellm", Some("1.82.6".into())),
            "t",
        ),
    ];
    let r = scan(&db, &components, Vec::new());
    let hit: Vec<(String, bool)> = r
        .findings
        .iter()
        .map(|f| (f.package.to_purl(), f.malicious.as_ref().unwrap().suspect.is_some()))
        .collect();
    assert_eq!(
        hit,
        vec![
            ("pkg:npm/%40ctrl/tinycolor@4.1.1".to_string(), true),
            ("pkg:npm/%40ctrl/tinycolor@4.2.0".to_string(), true),
            ("pkg:npm/chalk@5.6.1".to_string(), false),
            ("pkg:npm/debug@4.4.2".to_string(), false),
            ("pkg:npm/flatmap-stream@0.1.1".to_string(), false),
            ("pkg:pypi/litellm@1.82.8".to_string(), false),
        ]
    );
    let chalk = r
        .findings
        .iter()
        .find(|f| f.package.to_purl().contains("chalk"))
        .unwrap();
    let advice = &chalk.malicious.as_ref().unwrap().advice;
    assert!(
        advice.contains("fully compromised") && advice.contains("rotated"),
        "{advice}"
    );
}

#[test]
fn rustsec_malicious_crates_are_malicious_not_a_severity() {
    let (db, report) = AdvisoryDb::import(&[advisories().join("rustsec")], NOW).unwrap();
    assert!(report.malicious >= 70, "{}", report.malicious);
    let c = Component::new(
        PackageId::new(ward_core::Ecosystem::Cargo, None, "win-crypto", Some("0.1.0".into())),
        "t",
    );
    let r = scan(&db, &[c], Vec::new());
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].advisory, "RUSTSEC-2023-0109");
    assert!(r.findings[0].malicious.is_some());
}

fn zip_with(entries: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let f = std::fs::File::create(dir.path().join("all.zip")).unwrap();
    let mut z = zip::ZipWriter::new(f);
    for (name, body) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(body.as_bytes()).unwrap();
    }
    z.finish().unwrap();
    dir
}

#[test]
fn mal_records_in_all_zip_match_by_digest_and_malformed_ones_are_counted() {
    let sha512 = "ab".repeat(64);
    let good = format!(
        r#"{{"id":"MAL-2099-1","modified":"2099-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"npm","name":"evil"}},"versions":["1.0.0"]}}],"database_specific":{{"indicators":{{"package_integrity":["{sha512}"]}}}}}}"#
    );
    let bad_indicator = r#"{"id":"MAL-2099-2","affected":[{"package":{"ecosystem":"npm","name":"evil2"},"versions":["1.0.0"]}],"database_specific":{"indicators":{"package_integrity":"md5-xyz"}}}"#;
    let no_versions = r#"{"id":"MAL-2099-3","affected":[{"package":{"ecosystem":"npm","name":"evil3"}}]}"#;
    let dir = zip_with(&[
        ("MAL-2099-1.json", &good),
        ("MAL-2099-2.json", bad_indicator),
        ("MAL-2099-3.json", no_versions),
    ]);
    let (db, report) = AdvisoryDb::import(&[dir.path().join("all.zip")], NOW).unwrap();
    assert_eq!(report.malicious, 1);
    assert_eq!(report.malformed.len(), 2, "{:?}", report.malformed);
    assert!(report.malformed.iter().any(|(_, why)| why.contains("md5-xyz")));
    assert!(
        report
            .malformed
            .iter()
            .any(|(_, why)| why.contains("no versions or ranges"))
    );

    // Another version, but the record lists this artifact's digest.
    let mut c = npm("evil", "2.0.0");
    c.digests = vec![("sha512".into(), sha512.clone())];
    let r = scan(&db, &[c], Vec::new());
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].malicious.as_ref().unwrap().matched_by, "digest:sha512");
    // The same bytes under another name (a republished copy), after a save and load.
    let saved = tempfile::tempdir().unwrap();
    db.save(saved.path()).unwrap();
    let db = AdvisoryDb::load(saved.path()).unwrap();
    let mut c = npm("innocent-name", "9.9.9");
    c.digests = vec![("sha512".into(), sha512.clone())];
    let r = scan(&db, &[c], Vec::new());
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    assert_eq!(r.findings[0].advisory, "MAL-2099-1");
    assert_eq!(r.findings[0].package.to_purl(), "pkg:npm/innocent-name@9.9.9");
    // A clean version with another digest is not reported.
    let mut c = npm("evil", "2.0.0");
    c.digests = vec![("sha512".into(), "cd".repeat(64))];
    assert!(scan(&db, &[c], Vec::new()).findings.is_empty());
}

/// A database saved before ward knew malicious records would judge a `MAL-`
/// record as an ordinary advisory: refused until re-imported.
#[test]
fn a_database_from_before_malicious_records_must_be_reimported() {
    let (db, _) = AdvisoryDb::import(&[advisories().join("malicious")], NOW).unwrap();
    let dir = tempfile::tempdir().unwrap();
    db.save(dir.path()).unwrap();
    let index = dir.path().join("index.json");
    let text = std::fs::read_to_string(&index).unwrap();
    assert!(text.contains("\"format\":4"));
    std::fs::write(&index, text.replace("\"format\":4", "\"format\":2")).unwrap();
    let err = AdvisoryDb::load(dir.path()).expect_err("format 2 refused").to_string();
    assert!(err.contains("re-import"), "{err}");
}
