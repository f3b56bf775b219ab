//! The database kept per source: importing RustSec, then PyPA, then Go
//! keeps all three; a source of the same name is replaced; records that
//! name each other across sources are one advisory; an import that fails
//! (nothing usable, the wrong ecosystem, a damaged archive, a second
//! writer) leaves the database as it was; a format-3 database still loads.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use ward_core::Ecosystem;
use ward_scan::AdvisoryDb;
use ward_scan::db::{Change, DbError, SourceOptions, commit, read_source};

const NOW: &str = "2026-11-24T00:00:00Z";

fn advisories() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/advisories")
}

fn put(dir: &Path, path: &Path, options: &SourceOptions, replace: bool) -> Result<AdvisoryDb, DbError> {
    let source = read_source(&[path.to_path_buf()], options, NOW)?;
    commit(dir, vec![Change::Put(Box::new(source))], replace, NOW)
}

fn names(db: &AdvisoryDb) -> Vec<&str> {
    db.sources().iter().map(|s| s.name.as_str()).collect()
}

fn any() -> SourceOptions {
    SourceOptions::default()
}

#[test]
fn importing_rustsec_then_pypa_then_go_keeps_all_three() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    put(&dir, &advisories().join("rustsec"), &any(), false).unwrap();
    put(&dir, &advisories().join("pypa"), &any(), false).unwrap();
    let db = put(&dir, &advisories().join("go"), &any(), false).unwrap();
    assert_eq!(names(&db), ["rustsec", "osv-pypi", "osv-go"]);
    for (eco, name) in [
        (Ecosystem::Cargo, "smallvec"),
        (Ecosystem::Pypi, "django"),
        (Ecosystem::Golang, "github.com/gin-gonic/gin"),
    ] {
        assert!(db.lookup(eco, name).count() > 0, "{eco:?} {name}");
    }
    // A few records of different feeds share an alias (a CVE) and are merged.
    let total: usize = db.sources().iter().map(|s| s.advisories).sum();
    assert!(db.len() <= total && db.len() + 100 > total, "{} of {total}", db.len());
    let go = &db.sources()[2];
    assert!(go.origin.ends_with("advisories/go"), "{}", go.origin);
    assert!(
        go.digest.starts_with("sha256:") && go.digest.len() == 71,
        "{}",
        go.digest
    );
    assert!(go.newest_modified.is_some() && go.imported_at == NOW);

    // The same name again replaces that source alone (and the same data has the same digest).
    let again = put(&dir, &advisories().join("pypa"), &any(), false).unwrap();
    assert_eq!(names(&again), ["rustsec", "osv-pypi", "osv-go"]);
    assert_eq!(again.sources()[1].digest, db.sources()[1].digest);
    assert_eq!(again.len(), db.len());

    // The old files of the replaced source are gone; each source has one file.
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("source-"))
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");

    // --replace: only what is imported now.
    let replaced = put(&dir, &advisories().join("go"), &any(), true).unwrap();
    assert_eq!(names(&replaced), ["osv-go"]);
    assert_eq!(AdvisoryDb::load(&dir).unwrap().sources().len(), 1);
}

#[test]
fn records_that_name_each_other_across_sources_are_one_advisory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let md = put(&dir, &advisories().join("rustsec"), &any(), false).unwrap();
    let only_md = md.len();
    let named = SourceOptions {
        name: Some("rustsec-osv".into()),
        ..any()
    };
    let both = put(&dir, &advisories().join("rustsec-osv"), &named, false).unwrap();
    assert_eq!(names(&both), ["rustsec", "rustsec-osv"]);
    // The OSV export describes the same advisories: merged, not doubled.
    assert!(
        both.len() < only_md + both.sources()[1].advisories / 2,
        "{} vs {only_md}",
        both.len()
    );
    assert!(both.report().merged > 1_000, "{}", both.report().merged);
    let ids = |db: &AdvisoryDb| {
        let mut ids: Vec<String> = db
            .lookup(Ecosystem::Cargo, "smallvec")
            .map(|r| r.unwrap().0.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    assert_eq!(ids(&both), ids(&md));
    assert!(!ids(&md).is_empty());
}

#[test]
fn a_failed_import_leaves_every_source_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    put(&dir, &advisories().join("go"), &any(), false).unwrap();
    let before = std::fs::read(dir.join(ward_scan::db::DB_FILE)).unwrap();

    // Nothing usable.
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("x.json"), "<html>not json</html>").unwrap();
    let named = SourceOptions {
        name: Some("osv-go".into()),
        ..any()
    };
    assert!(matches!(
        put(&dir, &bad, &named, false),
        Err(DbError::NothingImported(_))
    ));

    // Records about another ecosystem than the source's.
    let pypi = SourceOptions {
        name: Some("osv-go".into()),
        ecosystem: Some("Go".into()),
        ..any()
    };
    let err = put(&dir, &advisories().join("pypa"), &pypi, false).unwrap_err();
    assert!(matches!(err, DbError::WrongEcosystem { .. }), "{err}");
    assert!(err.to_string().contains("about PyPI"), "{err}");

    // A truncated zip, read strictly (as downloads are).
    let zip = tmp.path().join("all.zip");
    write_zip(
        &zip,
        &[(
            "GO-1.json",
            &std::fs::read(advisories().join("go/osv/GO-2020-0001.json")).unwrap(),
        )],
    );
    let whole = std::fs::read(&zip).unwrap();
    std::fs::write(&zip, &whole[..whole.len() / 2]).unwrap();
    let strict = SourceOptions {
        name: Some("osv-go".into()),
        strict_archives: true,
        ..any()
    };
    assert!(matches!(put(&dir, &zip, &strict, false), Err(DbError::BadArchive(..))));

    // A second writer while one holds the lock.
    let lock = std::fs::File::create(dir.join(".lock")).unwrap();
    lock.try_lock().unwrap();
    let err = put(&dir, &advisories().join("go"), &any(), false).unwrap_err();
    assert!(matches!(err, DbError::Busy(_)), "{err}");
    drop(lock);

    assert_eq!(std::fs::read(dir.join(ward_scan::db::DB_FILE)).unwrap(), before);
    assert_eq!(names(&AdvisoryDb::load(&dir).unwrap()), ["osv-go"]);
}

fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

#[test]
fn a_github_archive_of_the_rustsec_database_reads_like_a_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let crates = advisories().join("rustsec/crates");
    let mut entries: Vec<(String, Vec<u8>)> = vec![
        (
            "advisory-db-main/README.md".into(),
            b"# RustSec advisory database\n".to_vec(),
        ),
        (
            "advisory-db-main/.github/workflows/x.json".into(),
            b"not an advisory".to_vec(),
        ),
    ];
    for krate in ["smallvec", "abi_stable"] {
        for f in std::fs::read_dir(crates.join(krate)).unwrap() {
            let f = f.unwrap();
            entries.push((
                format!("advisory-db-main/crates/{krate}/{}", f.file_name().to_string_lossy()),
                std::fs::read(f.path()).unwrap(),
            ));
        }
    }
    let zip = tmp.path().join("main.zip");
    let refs: Vec<(&str, &[u8])> = entries.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    write_zip(&zip, &refs);
    let strict = SourceOptions {
        ecosystem: Some("crates.io".into()),
        strict_archives: true,
        ..any()
    };
    let source = read_source(&[zip], &strict, NOW).unwrap();
    assert_eq!(source.info.name, "rustsec");
    assert_eq!(source.info.advisories, entries.len() - 2);
    assert!(
        source.info.report.malformed.is_empty(),
        "{:?}",
        source.info.report.malformed
    );
}

#[test]
fn a_format_3_database_loads_as_one_legacy_source_and_keeps_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let go = put(&dir, &advisories().join("go"), &any(), false).unwrap();
    // Rewrite the index as ward wrote it before sources: format 3, paths as strings.
    let index = dir.join(ward_scan::db::DB_FILE);
    let mut header: serde_json::Value = serde_json::from_slice(&std::fs::read(&index).unwrap()).unwrap();
    header["format"] = 3.into();
    header["sources"] = serde_json::json!(["/old/go"]);
    std::fs::write(&index, serde_json::to_vec(&header).unwrap()).unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy().starts_with("source-") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let old = AdvisoryDb::load(&dir).unwrap();
    assert_eq!(names(&old), ["legacy"]);
    assert_eq!(old.sources()[0].origin, "/old/go");
    let both = put(&dir, &advisories().join("pypa"), &any(), false).unwrap();
    assert_eq!(names(&both), ["legacy", "osv-pypi"]);
    assert!(both.lookup(Ecosystem::Golang, "github.com/gin-gonic/gin").count() > 0);
    assert!(both.len() <= go.len() + both.sources()[1].advisories && both.len() > go.len());
}

#[test]
fn age_is_the_stalest_source_counted_from_its_last_confirmation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let db = put(&dir, &advisories().join("go"), &any(), false).unwrap();
    let newest: jiff::Timestamp = db.sources()[0].newest_modified.as_deref().unwrap().parse().unwrap();
    let later = newest.checked_add(jiff::SignedDuration::from_hours(240)).unwrap();
    assert_eq!(db.age_at(later), Some(jiff::SignedDuration::from_hours(240)));
    assert_eq!(
        db.stale_sources(later, jiff::SignedDuration::from_hours(24 * 7)).len(),
        1
    );
    assert!(
        db.stale_sources(later, jiff::SignedDuration::from_hours(24 * 11))
            .is_empty()
    );
    // A server's confirmation makes the data current as of then.
    let confirmed = later.to_string();
    let db = commit(
        &dir,
        vec![Change::Checked {
            name: "osv-go".into(),
            at: confirmed.clone(),
        }],
        false,
        NOW,
    )
    .unwrap();
    assert_eq!(db.sources()[0].checked_at.as_deref(), Some(confirmed.as_str()));
    assert_eq!(db.age_at(later), Some(jiff::SignedDuration::ZERO));
}

#[test]
fn a_damaged_source_file_stops_the_next_import_instead_of_merging_other_records() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    put(&dir, &advisories().join("malicious"), &any(), false).unwrap();
    let stored = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("source-"))
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&stored).unwrap();
    // Keep the JSON valid: flip one letter inside the file.
    let at = bytes.iter().position(|&b| b == b'a').unwrap();
    bytes[at] = b'b';
    std::fs::write(&stored, &bytes).unwrap();
    let err = put(&dir, &advisories().join("go"), &any(), false).unwrap_err();
    assert!(err.to_string().contains("does not match the digest"), "{err}");
    // The database as committed still loads: the damaged file is only read when merging.
    assert_eq!(names(&AdvisoryDb::load(&dir).unwrap()).len(), 1);
}

/// Every file under `dir`, sorted (the order `git archive` writes).
fn files_sorted(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            files_sorted(&e, out);
        } else {
            out.push(e);
        }
    }
}

/// A gzip-compressed tar of `dir` under the prefix `advisory-db-main/`, in
/// path order (as GitHub serves an archive), with a symbolic link entry added.
fn tar_gz_of(dir: &Path, out: &Path) {
    let gz = flate2::write::GzEncoder::new(std::fs::File::create(out).unwrap(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    let mut files = Vec::new();
    files_sorted(dir, &mut files);
    for f in files {
        let name = Path::new("advisory-db-main").join(f.strip_prefix(dir).unwrap());
        b.append_path_with_name(&f, name).unwrap();
    }
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "advisory-db-main/crates/evil.md", "/etc/passwd")
        .unwrap();
    b.into_inner().unwrap().finish().unwrap();
}

#[test]
fn a_tar_gz_archive_reads_like_the_checkout_and_damage_refuses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("advisory-db-main.tar.gz");
    tar_gz_of(&advisories().join("rustsec"), &archive);
    let strict = SourceOptions {
        name: Some("rustsec".into()),
        ecosystem: Some("crates.io".into()),
        strict_archives: true,
        ..any()
    };
    let from_dir = read_source(&[advisories().join("rustsec")], &strict, NOW).unwrap();
    let from_tar = read_source(std::slice::from_ref(&archive), &strict, NOW).unwrap();
    assert!(from_tar.advisories.len() > 1000, "{}", from_tar.advisories.len());
    assert_eq!(from_tar.advisories.len(), from_dir.advisories.len());
    assert_eq!(
        from_tar.info.report.malformed.len(),
        from_dir.info.report.malformed.len()
    );
    let ids = |s: &ward_scan::db::ImportedSource| {
        let mut v: Vec<String> = s.advisories.iter().map(|a| a.id.clone()).collect();
        v.sort();
        v
    };
    let (a, b) = (ids(&from_tar), ids(&from_dir));
    let only_tar: Vec<&String> = a.iter().filter(|x| !b.contains(x)).collect();
    let only_dir: Vec<&String> = b.iter().filter(|x| !a.contains(x)).collect();
    assert!(
        only_tar.is_empty() && only_dir.is_empty(),
        "tar only {only_tar:?}, dir only {only_dir:?}"
    );

    let whole = std::fs::read(&archive).unwrap();
    // Truncated, and one byte flipped in the compressed stream (the gzip CRC
    // or the deflate data no longer check out): refused whole, strictly.
    let truncated = whole[..whole.len() / 2].to_vec();
    let mut flipped = whole.clone();
    let at = whole.len() - 6;
    flipped[at] ^= 0x55;
    for (bytes, what) in [(truncated, "truncated"), (flipped, "flipped")] {
        std::fs::write(&archive, &bytes).unwrap();
        let err = read_source(std::slice::from_ref(&archive), &strict, NOW).unwrap_err();
        assert!(matches!(err, DbError::BadArchive(..)), "{what}: {err}");
    }
    // Garbage with the right name.
    std::fs::write(&archive, b"<html>rate limited</html>").unwrap();
    let err = read_source(std::slice::from_ref(&archive), &strict, NOW).unwrap_err();
    assert!(matches!(err, DbError::BadArchive(..)), "{err}");
}
