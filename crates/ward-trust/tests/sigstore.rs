//! The real Sigstore TUF repository (`../shared/testdata/sigstore-tuf-repo`,
//! served from memory under its consistent-snapshot names, clock pinned):
//! every root from version 1 (hex-encoded ECDSA keys) to 15, then the
//! timestamp, snapshot, targets, the npm registry's delegated role, and its
//! `keys.json` target.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use sha2::Digest as _;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use ward_trust::{Fetcher, Limits, TrustedSet, TufError, Updater};

const META: &str = "http://tuf.invalid/metadata/";
const TARGETS: &str = "http://tuf.invalid/targets/";

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sigstore-tuf-repo")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(repo_dir().join(rel)).unwrap()
}

fn version(data: &[u8]) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(data).unwrap();
    v["signed"]["version"].as_u64().unwrap()
}

/// The time the repository's timestamp, snapshot and targets were all valid.
fn pinned() -> jiff::Timestamp {
    "2026-08-27T00:00:00Z".parse().unwrap()
}

#[derive(Default)]
struct Served {
    files: BTreeMap<String, Vec<u8>>,
    log: RefCell<Vec<String>>,
}

impl Fetcher for Served {
    fn open(&self, url: &str) -> Result<Box<dyn Read + '_>, TufError> {
        self.log.borrow_mut().push(url.to_string());
        match self.files.get(url) {
            Some(d) => Ok(Box::new(std::io::Cursor::new(d.clone()))),
            None => Err(TufError::NotFound { url: url.to_string() }),
        }
    }
}

fn served() -> Served {
    let mut s = Served::default();
    for n in 1..=15 {
        s.files.insert(
            format!("{META}{n}.root.json"),
            read(&format!("metadata/root_history/{n}.root.json")),
        );
    }
    s.files
        .insert(format!("{META}timestamp.json"), read("metadata/timestamp.json"));
    for role in ["snapshot", "targets", "registry.npmjs.org"] {
        let data = read(&format!("metadata/{role}.json"));
        s.files.insert(format!("{META}{}.{role}.json", version(&data)), data);
    }
    let keys = read("targets/registry.npmjs.org/keys.json");
    let digest = hex::encode(sha2::Sha256::digest(&keys));
    s.files
        .insert(format!("{TARGETS}registry.npmjs.org/{digest}.keys.json"), keys);
    s
}

#[test]
fn every_sigstore_root_version_verifies_against_its_predecessor() {
    let mut set = TrustedSet::new(&read("metadata/root_history/1.root.json"), pinned()).unwrap();
    for n in 2..=15 {
        set.update_root(&read(&format!("metadata/root_history/{n}.root.json")))
            .unwrap_or_else(|e| panic!("root v{n}: {e}"));
    }
    assert_eq!(set.root().version, 15);
    // Skipping a version is refused: each root must be the next one.
    let mut set = TrustedSet::new(&read("metadata/root_history/3.root.json"), pinned()).unwrap();
    let err = set.update_root(&read("metadata/root_history/5.root.json")).unwrap_err();
    assert_eq!(err.rule(), "mix-and-match", "{err}");
}

#[test]
fn from_root_v1_to_the_npm_registry_keys() {
    let repo = served();
    let dir = tempfile::tempdir().unwrap();
    ward_trust::init(dir.path(), &read("metadata/root_history/1.root.json"), pinned()).unwrap();
    let mut up = Updater::new(dir.path(), META, &repo, pinned(), Limits::default()).unwrap();
    up.refresh().unwrap();
    assert_eq!(up.trusted().root().version, 15);
    let info = up.target_info("registry.npmjs.org/keys.json").unwrap();
    let out = tempfile::tempdir().unwrap();
    let path = up
        .download_target(TARGETS, out.path(), "registry.npmjs.org/keys.json", &info)
        .unwrap();
    assert_eq!(
        std::fs::read(path).unwrap(),
        read("targets/registry.npmjs.org/keys.json")
    );
    // The root on disk is the repository's v15, byte for byte.
    assert_eq!(
        std::fs::read(dir.path().join("root.json")).unwrap(),
        read("metadata/root_history/15.root.json")
    );

    // A month later the timestamp has expired: refused as a freeze.
    let later: jiff::Timestamp = "2026-09-30T00:00:00Z".parse().unwrap();
    let mut up = Updater::new(dir.path(), META, &repo, later, Limits::default()).unwrap();
    assert_eq!(up.refresh().unwrap_err().rule(), "freeze");
}

#[test]
fn a_directory_mirror_serves_the_same_repository_and_a_fifo_is_refused() {
    // Lay the repository out as it is served (versioned names, hashed targets).
    let mirror = tempfile::tempdir().unwrap();
    let meta = mirror.path().join("metadata");
    let targets = mirror.path().join("targets");
    for (url, data) in served().files {
        let path = match (url.strip_prefix(META), url.strip_prefix(TARGETS)) {
            (Some(rel), _) => meta.join(rel),
            (None, Some(rel)) => targets.join(rel),
            _ => unreachable!(),
        };
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    ward_trust::init(dir.path(), &read("metadata/root_history/14.root.json"), pinned()).unwrap();
    let base = format!("{}/", meta.display());
    let mut up = Updater::new(dir.path(), &base, &ward_trust::DirFetcher, pinned(), Limits::default()).unwrap();
    let info = up.target_info("registry.npmjs.org/keys.json").unwrap();
    let out = tempfile::tempdir().unwrap();
    up.download_target(
        &format!("{}/", targets.display()),
        out.path(),
        "registry.npmjs.org/keys.json",
        &info,
    )
    .unwrap();
    assert_eq!(up.trusted().root().version, 15);

    // A mirror whose timestamp.json is a FIFO: refused at once, no hang.
    std::fs::remove_file(meta.join("timestamp.json")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(meta.join("timestamp.json"))
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_file(dir.path().join("timestamp.json")).unwrap();
    let mut up = Updater::new(dir.path(), &base, &ward_trust::DirFetcher, pinned(), Limits::default()).unwrap();
    assert_eq!(up.refresh().unwrap_err().rule(), "fetch");
}
