//! Importing real advisory databases (RustSec in both layouts, PyPA YAML,
//! Go, GHSA Maven), saving, loading, and refusing bad records loudly.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use ward_core::Ecosystem;
use ward_core::Severity;
use ward_scan::AdvisoryDb;

fn advisories() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/advisories")
}

#[test]
fn imports_every_shared_database_and_merges_the_two_rustsec_layouts() {
    let sources: Vec<PathBuf> = ["rustsec", "rustsec-osv", "pypa", "go", "maven-ghsa"]
        .iter()
        .map(|d| advisories().join(d))
        .collect();
    let (db, report) = AdvisoryDb::import(&sources, "2026-11-24T00:00:00Z").unwrap();
    assert!(report.records > 9_000, "{report:?}");
    assert!(
        report.malformed.is_empty(),
        "malformed: {:?}",
        &report.malformed[..report.malformed.len().min(5)]
    );
    // The RustSec Markdown and OSV layouts describe the same advisories.
    assert!(report.merged > 1_000, "merged {}", report.merged);
    for eco in ["cargo", "pypi", "golang", "maven"] {
        assert!(db.stats()[eco].advisories > 300, "{eco}: {:?}", db.stats()[eco]);
        assert!(db.stats()[eco].newest_modified.is_some());
    }
    // Severity is computed from CVSS vectors (RustSec, PyPA and GHSA carry them).
    let scored = db
        .advisories()
        .unwrap()
        .iter()
        .filter(|a| a.rating.score.is_some())
        .count();
    let critical = db
        .advisories()
        .unwrap()
        .iter()
        .filter(|a| a.rating.level == Severity::Critical)
        .count();
    assert!(scored > 500 && critical > 50, "{scored} scored, {critical} critical");
    let all = db.advisories().unwrap();
    let a = all
        .iter()
        .find(|a| a.rating.vector.as_deref() == Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"))
        .unwrap();
    assert_eq!(a.rating.score, Some(9.8));

    let dir = tempfile::tempdir().unwrap();
    db.save(dir.path()).unwrap();
    let loaded = AdvisoryDb::load(dir.path()).unwrap();
    assert_eq!(loaded.len(), db.len());
    let smallvec: Vec<_> = loaded
        .lookup(Ecosystem::Cargo, "smallvec")
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(smallvec.len() >= 2);
    // Every record reads back as it was written.
    let all = loaded.advisories().unwrap();
    assert_eq!(all.len(), db.len());
    assert_eq!(
        serde_json::to_string(&all).unwrap(),
        serde_json::to_string(&db.advisories().unwrap()).unwrap()
    );

    // A damaged records file is an error for the packages it touches, never a silent miss.
    let records = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("records-"))
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&records).unwrap();
    let garbage = bytes.len() / 2;
    bytes[garbage..garbage + 64].fill(b'#');
    std::fs::write(&records, &bytes).unwrap();
    let damaged = AdvisoryDb::load(dir.path()).unwrap();
    assert!(damaged.advisories().is_err());
    std::fs::write(&records, &bytes[..10]).unwrap();
    assert!(
        AdvisoryDb::load(dir.path()).is_err(),
        "a truncated records file is refused at load"
    );
}

#[test]
fn malformed_and_withdrawn_records_are_counted_never_silently_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"id":"TEST-1","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.1"}]}]}]}"#;
    let withdrawn = r#"{"id":"TEST-2","modified":"2026-01-01T00:00:00Z","withdrawn":"2026-02-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"x"}}]}"#;
    std::fs::write(dir.path().join("good.json"), good).unwrap();
    std::fs::write(dir.path().join("withdrawn.json"), withdrawn).unwrap();
    std::fs::write(dir.path().join("truncated.json"), &good[..40]).unwrap();
    std::fs::write(dir.path().join("wrong-shape.json"), r#"{"id": 5}"#).unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "id: [unclosed").unwrap();
    let (db, report) = AdvisoryDb::import(&[dir.path().to_path_buf()], "2026-11-24T00:00:00Z").unwrap();
    assert_eq!((report.records, report.advisories, report.withdrawn), (5, 1, 1));
    assert_eq!(report.malformed.len(), 3, "{:?}", report.malformed);
    assert_eq!(db.lookup(Ecosystem::Npm, "left-pad").count(), 1);
    assert!(AdvisoryDb::import(&[dir.path().join("missing")], "now").is_err());
    assert!(matches!(
        AdvisoryDb::load(&dir.path().join("nothing")),
        Err(ward_scan::DbError::Missing(_))
    ));
    std::fs::create_dir_all(dir.path().join("corrupt")).unwrap();
    std::fs::write(dir.path().join("corrupt").join(ward_scan::db::DB_FILE), b"{").unwrap();
    assert!(matches!(
        AdvisoryDb::load(&dir.path().join("corrupt")),
        Err(ward_scan::DbError::Corrupt(..))
    ));
}

#[test]
fn an_import_that_keeps_no_advisory_is_an_error_naming_what_was_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("truncated.json"), r#"{"id":"X-1","affected":[{"#).unwrap();
    std::fs::write(dir.path().join("huge.json"), vec![b' '; (16 << 20) + 1]).unwrap();
    std::fs::write(dir.path().join("broken.md"), "```toml\n[advisory\n```\n").unwrap();
    std::fs::write(dir.path().join("README.md"), "# not an advisory\n").unwrap();
    let err = AdvisoryDb::import(&[dir.path().to_path_buf()], "now").err().unwrap();
    let text = err.to_string();
    assert!(matches!(err, ward_scan::DbError::NothingImported(_)), "{text}");
    assert!(text.contains("3 malformed"), "{text}");
    assert!(text.contains("huge.json") && text.contains("limit"), "{text}");
    assert!(text.contains("broken.md"), "{text}");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(matches!(
        AdvisoryDb::import(&[empty], "now"),
        Err(ward_scan::DbError::NothingImported(_))
    ));
}

#[test]
fn a_fifo_in_place_of_the_database_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join(ward_scan::db::DB_FILE);
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let err = AdvisoryDb::load(dir.path()).err().unwrap();
    assert!(err.to_string().contains("FIFO"), "{err}");
}

#[test]
fn symbolic_links_back_to_a_parent_are_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"id":"TEST-1","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.1"}]}]}]}"#;
    let root = dir.path().join("osv");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("good.json"), good).unwrap();
    // Two links to the parent in every directory: 2^32 paths if followed blindly.
    std::os::unix::fs::symlink(&root, root.join("a")).unwrap();
    std::os::unix::fs::symlink(&root, root.join("b")).unwrap();
    let start = std::time::Instant::now();
    let (_, report) = AdvisoryDb::import(&[root], "now").unwrap();
    assert_eq!((report.records, report.advisories), (1, 1), "{report:?}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}
