//! Installed trees built in temporary directories, hostile ones included:
//! a RECORD naming `../../etc/passwd`, a 2 GB `package.json` (sparse), a
//! symbolic link loop, links leaving the package, a RECORD path through a
//! linked directory, `vendor/` entries that are links, tens of thousands of
//! unlisted files (capped findings), plus the plain deviations (modified,
//! missing, extra, no digest recorded) and the ledger's allows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine as _;
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use support::{b64, tar_gz};
use ward_audit::{AlertKind, Allow, Allows, AuditContext, AuditReport, audit};

fn now() -> jiff::Timestamp {
    "2026-12-02T00:00:00Z".parse().unwrap()
}

/// A site directory with one distribution `demo 1.0` whose RECORD lists
/// its files (and `extra_rows`, verbatim).
fn site(extra_rows: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let pkg = site.join("demo");
    let dist = site.join("demo-1.0.dist-info");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::create_dir_all(&dist).unwrap();
    let files: &[(&str, &[u8])] = &[
        ("demo/__init__.py", b"VALUE = 1\n"),
        ("demo/util.py", b"def f():\n    return 2\n"),
        (
            "demo-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n",
        ),
        ("demo-1.0.dist-info/INSTALLER", b"pip\n"),
    ];
    let mut record = String::new();
    for (p, body) in files {
        std::fs::write(site.join(p), body).unwrap();
        record.push_str(&format!("{p},sha256={},{}\n", b64(body), body.len()));
    }
    record.push_str("demo-1.0.dist-info/RECORD,,\n");
    record.push_str(extra_rows);
    std::fs::write(dist.join("RECORD"), record).unwrap();
    (dir, site)
}

fn run(paths: &[&Path], allows: &Allows) -> AuditReport {
    let ctx = AuditContext::new(allows, now());
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    audit(&paths, &ctx).unwrap()
}

fn kinds(r: &AuditReport) -> Vec<(AlertKind, Option<String>)> {
    r.findings.iter().map(|f| (f.kind, f.file.clone())).collect()
}

#[test]
fn an_intact_distribution_is_only_unvetted_without_an_allow() {
    let (_d, site) = site("");
    let r = run(&[&site], &Allows::empty());
    assert_eq!(kinds(&r), vec![(AlertKind::Unvetted, None)]);
    assert_eq!(r.packages.len(), 1);
    assert_eq!(r.packages[0].id.to_purl(), "pkg:pypi/demo@1.0");
    assert_eq!(r.packages[0].installer.as_deref(), Some("pip"));
    assert_eq!(r.stats.hashed_files, 4);
}

#[test]
fn modified_missing_extra_and_unrecorded_files_are_each_reported() {
    let (_d, site) = site("demo/nohash.py,,\n");
    std::fs::write(site.join("demo/nohash.py"), b"x = 1\n").unwrap();
    // Same size, other bytes: found by the digest.
    std::fs::write(site.join("demo/__init__.py"), b"VALUE = 9\n").unwrap();
    std::fs::remove_file(site.join("demo/util.py")).unwrap();
    std::fs::write(site.join("demo/payload.py"), b"import os\n").unwrap();
    std::fs::write(site.join("evil.pth"), b"import demo.payload\n").unwrap();
    let r = run(&[&site], &Allows::empty());
    let k = kinds(&r);
    assert!(
        k.contains(&(AlertKind::Modified, Some("demo/__init__.py".into()))),
        "{k:?}"
    );
    assert!(k.contains(&(AlertKind::Missing, Some("demo/util.py".into()))), "{k:?}");
    assert!(k.contains(&(AlertKind::Extra, Some("demo/payload.py".into()))), "{k:?}");
    assert!(
        k.contains(&(AlertKind::Unverifiable, Some("demo/nohash.py".into()))),
        "{k:?}"
    );
    let modified = r.of_kind(AlertKind::Modified).next().unwrap();
    let (expected, found) = (modified.expected.as_ref().unwrap(), modified.found.as_ref().unwrap());
    assert_eq!(expected.sha256.as_deref().map(str::len), Some(64));
    assert_ne!(expected.sha256, found.sha256);
    assert_eq!(found.size, Some(10));
}

#[test]
fn record_paths_leaving_the_environment_are_reported_and_never_opened() {
    let (_d, site) = site("../../etc/passwd,sha256=AAAA,1\n/etc/shadow,,\n");
    let r = run(&[&site], &Allows::empty());
    let escapes: Vec<_> = r
        .of_kind(AlertKind::PathEscapes)
        .map(|f| f.file.clone().unwrap())
        .collect();
    assert_eq!(escapes, ["../../etc/passwd", "/etc/shadow"]);
    // Not opened: no digest or size of /etc/passwd anywhere in the report.
    assert!(
        r.findings
            .iter()
            .all(|f| f.found.is_none() || f.kind != AlertKind::Modified)
    );
}

#[test]
fn links_are_never_followed_and_a_loop_costs_nothing() {
    let (_d, site) = site("");
    std::os::unix::fs::symlink("loop", site.join("demo/loop")).unwrap();
    std::os::unix::fs::symlink("/etc", site.join("demo/etc")).unwrap();
    // A recorded file replaced by a link to a secret.
    std::fs::remove_file(site.join("demo/util.py")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", site.join("demo/util.py")).unwrap();
    let r = run(&[&site], &Allows::empty());
    let k = kinds(&r);
    assert!(k.contains(&(AlertKind::Extra, Some("demo/loop".into()))), "{k:?}");
    assert!(k.contains(&(AlertKind::LinkEscapes, Some("demo/etc".into()))), "{k:?}");
    assert!(k.contains(&(AlertKind::Modified, Some("demo/util.py".into()))), "{k:?}");
    assert!(
        k.contains(&(AlertKind::LinkEscapes, Some("demo/util.py".into()))),
        "{k:?}"
    );
}

fn npm_tree(root: &Path, name: &str, version: &str) -> PathBuf {
    let dir = root.join("node_modules").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("package.json"),
        format!("{{\"name\": \"{name}\", \"version\": \"{version}\"}}"),
    )
    .unwrap();
    std::fs::write(dir.join("index.js"), b"module.exports = 1;\n").unwrap();
    dir
}

#[test]
fn a_two_gigabyte_package_json_is_reported_without_being_read() {
    let d = tempfile::tempdir().unwrap();
    let dir = npm_tree(d.path(), "big", "1.0.0");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("package.json"))
        .unwrap();
    f.set_len(2 << 30).unwrap();
    let r = run(&[d.path()], &Allows::empty());
    let found: Vec<_> = r.of_kind(AlertKind::Unverifiable).collect();
    assert_eq!(found.len(), 1, "{:?}", kinds(&r));
    assert_eq!(found[0].file.as_deref(), Some("package.json"));
    assert_eq!(found[0].found.as_ref().and_then(|s| s.size), Some(2 << 30));
    assert_eq!(r.stats.hashed_bytes, 0);
}

#[test]
fn npm_packages_are_vetted_by_their_integrity_and_compared_with_the_allowed_tarball() {
    let d = tempfile::tempdir().unwrap();
    let dir = npm_tree(d.path(), "left", "1.0.0");
    // The allowed tarball, in the proxy cache under its sha256.
    let cache = d.path().join("cache");
    std::fs::create_dir_all(cache.join("blobs")).unwrap();
    let tgz = {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        for (p, body) in [
            ("package/package.json", std::fs::read(dir.join("package.json")).unwrap()),
            ("package/index.js", b"module.exports = 1;\n".to_vec()),
            ("package/README.md", b"# left\n".to_vec()),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, p, &body[..]).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    };
    let sha256 = hex::encode(sha2::Sha256::digest(&tgz));
    let sha512 = sha2::Sha512::digest(&tgz);
    std::fs::write(cache.join("blobs").join(&sha256), &tgz).unwrap();
    std::fs::write(
        d.path().join("node_modules/.package-lock.json"),
        serde_json::json!({"packages": {"node_modules/left": {
            "version": "1.0.0",
            "integrity": format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(sha512)),
        }}})
        .to_string(),
    )
    .unwrap();
    std::fs::write(dir.join("index.js"), b"module.exports = 2;\n").unwrap();
    std::fs::write(dir.join("postinstall.js"), b"steal()\n").unwrap();
    let mut allows = Allows::empty();
    allows.push(allow(
        7,
        "pkg:npm/left@1.0.0",
        "left-1.0.0.tgz",
        &sha256,
        Some(hex::encode(sha512)),
    ));
    let ctx = AuditContext::new(&allows, now()).with_cache(cache.clone());
    let r = audit(&[d.path().to_path_buf()], &ctx).unwrap();
    let k = kinds(&r);
    assert_eq!(
        k,
        vec![
            (AlertKind::Missing, Some("README.md".into())),
            (AlertKind::Modified, Some("index.js".into())),
            (AlertKind::Extra, Some("postinstall.js".into())),
        ]
    );
    assert_eq!(r.packages[0].allow.as_ref().map(|a| a.index), Some(7));
    // Without the tarball at hand, the files cannot be verified: said, never passed.
    let r = run(&[d.path()], &allows);
    assert_eq!(kinds(&r), vec![(AlertKind::Unverifiable, None)]);
    // Integrity no decision allowed: unvetted, and other bytes than the pin.
    let mut other = Allows::empty();
    other.push(allow(
        1,
        "pkg:npm/left@1.0.0",
        "left-1.0.0.tgz",
        &"a".repeat(64),
        Some("b".repeat(128)),
    ));
    let r = run(&[d.path()], &other);
    assert_eq!(
        kinds(&r),
        vec![(AlertKind::ReleaseChanged, None), (AlertKind::Unvetted, None)]
    );
}

fn allow(index: u64, purl: &str, file: &str, sha256: &str, sha512: Option<String>) -> Allow {
    let record = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": purl, "digest": {"sha256": sha256, "sha512": sha512}}],
        "predicateType": ward_ledger::record::DECISION_PREDICATE,
        "predicate": {
            "verifier": {"id": "https://ward.invalid/ward", "version": "0"},
            "timeVerified": "2026-11-01T00:00:00Z",
            "resourceUri": purl,
            "artifact": {"fileName": file, "kind": "npm-tarball", "size": 1},
            "policy": {"uri": "ward:safe-default"},
            "verificationResult": "PASSED",
        },
    });
    let record: ward_ledger::record::DecisionRecord = serde_json::from_value(record).unwrap();
    Allow::from_record(index, &record).unwrap()
}

#[test]
fn tens_of_thousands_of_unlisted_files_are_counted_past_the_cap() {
    let d = tempfile::tempdir().unwrap();
    let dir = npm_tree(d.path(), "many", "1.0.0");
    let (_s, site) = site("");
    let junk = site.join("demo/junk");
    std::fs::create_dir_all(&junk).unwrap();
    for i in 0..20_000 {
        std::fs::write(junk.join(format!("f{i}")), b"").unwrap();
    }
    let _ = dir;
    let r = run(&[&site], &Allows::empty());
    let extras = r.of_kind(AlertKind::Extra).count();
    // 100 listed, one summary of the rest.
    assert_eq!(extras, 101);
    assert_eq!(r.stats.findings_omitted, 19_900);
}

/// The million-file case: slow to build (about a minute), so run on demand
/// (`cargo test -p ward-audit --test hostile -- --ignored`); the benchmark
/// reports its time and peak memory.
#[test]
#[ignore]
fn a_directory_of_a_million_files_is_walked_as_a_stream() {
    let (_s, site) = site("");
    let junk = site.join("demo/junk");
    std::fs::create_dir_all(&junk).unwrap();
    for i in 0..1_000_000 {
        std::fs::write(junk.join(format!("f{i}")), b"").unwrap();
    }
    let r = run(&[&site], &Allows::empty());
    assert_eq!(r.stats.findings_omitted, 1_000_000 - 100);
}

const MANIFEST: &[u8] = b"[package]\nname = \"tiny\"\nversion = \"0.1.0\"\n";
const LIB: &[u8] = b"pub fn f() {}\n";

#[test]
fn vendored_crates_are_checked_against_their_checksums_and_the_ledger() {
    let d = tempfile::tempdir().unwrap();
    let krate = d.path().join("vendor/tiny");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(krate.join("Cargo.toml"), MANIFEST).unwrap();
    std::fs::write(krate.join("src/lib.rs"), LIB).unwrap();
    let crate_bytes = tar_gz(&[("tiny-0.1.0/Cargo.toml", MANIFEST), ("tiny-0.1.0/src/lib.rs", LIB)]);
    let package = hex::encode(sha2::Sha256::digest(&crate_bytes));
    let sums = serde_json::json!({
        "files": {
            "Cargo.toml": hex::encode(sha2::Sha256::digest(MANIFEST)),
            "src/lib.rs": hex::encode(sha2::Sha256::digest(LIB)),
            "../../outside": "00",
        },
        "package": package,
    });
    std::fs::write(krate.join(".cargo-checksum.json"), sums.to_string()).unwrap();
    let mut allows = Allows::empty();
    allows.push(allow(3, "pkg:cargo/tiny@0.1.0", "tiny-0.1.0.crate", &package, None));
    let r = run(&[d.path()], &allows);
    assert_eq!(kinds(&r), vec![(AlertKind::PathEscapes, Some("../../outside".into()))]);
    assert_eq!(r.packages[0].allow.as_ref().map(|a| a.index), Some(3));
    std::fs::write(krate.join("src/lib.rs"), b"pub fn f() { evil() }\n").unwrap();
    let r = run(&[d.path()], &Allows::empty());
    let k = kinds(&r);
    assert!(k.contains(&(AlertKind::Unvetted, None)), "{k:?}");
    assert!(k.contains(&(AlertKind::Modified, Some("src/lib.rs".into()))), "{k:?}");
}

#[test]
fn a_cargo_homes_sources_are_compared_with_the_crate_they_came_from() {
    let d = tempfile::tempdir().unwrap();
    let src = d
        .path()
        .join("registry/src/index.crates.io-1949cf8c6b5b557f/tiny-0.1.0");
    let cache = d.path().join("registry/cache/index.crates.io-1949cf8c6b5b557f");
    std::fs::create_dir_all(src.join("src")).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    let crate_bytes = tar_gz(&[("tiny-0.1.0/Cargo.toml", MANIFEST), ("tiny-0.1.0/src/lib.rs", LIB)]);
    std::fs::write(cache.join("tiny-0.1.0.crate"), &crate_bytes).unwrap();
    std::fs::write(src.join("Cargo.toml"), MANIFEST).unwrap();
    std::fs::write(src.join("src/lib.rs"), b"pub fn f() { evil() }\n").unwrap();
    std::fs::write(src.join(".cargo-ok"), b"{\"v\":1}").unwrap();
    std::fs::write(src.join("build.rs"), b"fn main() {}\n").unwrap();
    let package = hex::encode(sha2::Sha256::digest(&crate_bytes));
    let mut allows = Allows::empty();
    allows.push(allow(0, "pkg:cargo/tiny@0.1.0", "tiny-0.1.0.crate", &package, None));
    let r = run(&[d.path()], &allows);
    assert_eq!(
        kinds(&r),
        vec![
            (AlertKind::Modified, Some("src/lib.rs".into())),
            (AlertKind::Extra, Some("build.rs".into())),
        ]
    );
}

#[test]
fn a_cached_artifact_that_is_not_the_allowed_bytes_is_not_believed() {
    let d = tempfile::tempdir().unwrap();
    let dir = npm_tree(d.path(), "swap", "1.0.0");
    let tgz = tar_gz(&[
        (
            "package/package.json",
            &std::fs::read(dir.join("package.json")).unwrap(),
        ),
        ("package/index.js", b"module.exports = 1;\n"),
    ]);
    let sha256 = hex::encode(sha2::Sha256::digest(&tgz));
    let cache = d.path().join("cache");
    std::fs::create_dir_all(cache.join("blobs")).unwrap();
    // Other bytes under the allowed digest's name.
    std::fs::write(
        cache.join("blobs").join(&sha256),
        tar_gz(&[("package/index.js", b"evil")]),
    )
    .unwrap();
    let mut allows = Allows::empty();
    allows.push(allow(0, "pkg:npm/swap@1.0.0", "swap-1.0.0.tgz", &sha256, None));
    let ctx = AuditContext::new(&allows, now()).with_cache(cache);
    let r = audit(&[d.path().to_path_buf()], &ctx).unwrap();
    let f: Vec<_> = r.of_kind(AlertKind::Unverifiable).collect();
    assert!(
        !f.is_empty() && f[0].detail.contains("is not the artifact"),
        "{:?}",
        kinds(&r)
    );
    assert!(r.of_kind(AlertKind::Modified).next().is_none());
}

/// A directory on a RECORD path that is a symbolic link is not walked
/// through: `demo/` moved elsewhere and linked back, its files intact
/// (so their digests would match), is `link-escapes` for each file, and
/// none of them is opened (no digest of theirs in the report).
#[test]
fn record_paths_through_a_linked_directory_are_link_escapes() {
    let (d, site) = site("");
    let elsewhere = d.path().join("elsewhere");
    std::fs::rename(site.join("demo"), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, site.join("demo")).unwrap();
    let r = run(&[&site], &Allows::empty());
    let escapes: Vec<_> = r
        .of_kind(AlertKind::LinkEscapes)
        .filter_map(|f| f.file.clone())
        .collect();
    assert!(escapes.contains(&"demo/__init__.py".to_string()), "{:?}", kinds(&r));
    assert!(escapes.contains(&"demo/util.py".to_string()), "{:?}", kinds(&r));
    for f in r.of_kind(AlertKind::LinkEscapes) {
        assert!(f.found.as_ref().is_none_or(|s| s.sha256.is_none()), "{f:?}");
    }
    // Files not on the linked path are checked as before.
    assert!(
        r.findings
            .iter()
            .all(|f| f.file.as_deref().is_none_or(|p| !p.starts_with("demo-1.0.dist-info"))),
        "{:?}",
        kinds(&r)
    );
}

/// A `vendor/` entry that is a symbolic link is reported, never followed:
/// `link-escapes` when it leaves `vendor/`, `unverifiable` (audit it where
/// it lives) when it points at another vendored crate.
#[test]
fn vendored_crates_that_are_links_are_reported() {
    let d = tempfile::tempdir().unwrap();
    let vendor = d.path().join("vendor");
    let krate = vendor.join("tiny");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(krate.join("Cargo.toml"), MANIFEST).unwrap();
    std::fs::write(krate.join("src/lib.rs"), LIB).unwrap();
    let sums = serde_json::json!({
        "files": {
            "Cargo.toml": hex::encode(sha2::Sha256::digest(MANIFEST)),
            "src/lib.rs": hex::encode(sha2::Sha256::digest(LIB)),
        },
        "package": "00".repeat(32),
    });
    std::fs::write(krate.join(".cargo-checksum.json"), sums.to_string()).unwrap();
    let outside = d.path().join("outside-crate");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, vendor.join("evil")).unwrap();
    std::os::unix::fs::symlink("tiny", vendor.join("alias")).unwrap();
    let r = run(&[d.path()], &Allows::empty());
    let at = |kind: AlertKind| -> Vec<PathBuf> { r.of_kind(kind).map(|f| f.location.clone()).collect() };
    assert!(
        at(AlertKind::LinkEscapes).contains(&vendor.join("evil")),
        "{:?}",
        kinds(&r)
    );
    assert!(
        at(AlertKind::Unverifiable).contains(&vendor.join("alias")),
        "{:?}",
        kinds(&r)
    );
    // The real crate is audited as before (unvetted: no allow).
    assert!(at(AlertKind::Unvetted).contains(&krate), "{:?}", kinds(&r));
}
