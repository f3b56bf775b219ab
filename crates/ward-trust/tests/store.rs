//! ward's trusted state over Sigstore's real repository (served from memory
//! in its published layout, clock pinned): an update from root v1 reaches
//! v15, stores the verified trusted root and npm keys and the history of
//! accepted roots; a refused update keeps the previous state; a stored file
//! that no longer matches is an error.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use sha2::Digest as _;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use ward_trust::store::{NPM_KEYS_TARGET, TRUSTED_ROOT_TARGET, TrustStore};
use ward_trust::{Fetcher, TufError};

const META: &str = "http://tuf.invalid/";
const TARGETS: &str = "http://tuf.invalid/targets/";

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sigstore-tuf-repo")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(repo_dir().join(rel)).unwrap()
}

fn pinned() -> jiff::Timestamp {
    "2026-08-27T00:00:00Z".parse().unwrap()
}

#[derive(Default, Clone)]
struct Served(BTreeMap<String, Vec<u8>>);

impl Fetcher for Served {
    fn open(&self, url: &str) -> Result<Box<dyn Read + '_>, TufError> {
        match self.0.get(url) {
            Some(d) => Ok(Box::new(std::io::Cursor::new(d.clone()))),
            None => Err(TufError::NotFound { url: url.to_string() }),
        }
    }
}

fn served() -> Served {
    let mut s = Served::default();
    for n in 1..=15 {
        s.0.insert(
            format!("{META}{n}.root.json"),
            read(&format!("metadata/root_history/{n}.root.json")),
        );
    }
    s.0.insert(format!("{META}timestamp.json"), read("metadata/timestamp.json"));
    for role in ["snapshot", "targets", "registry.npmjs.org"] {
        let data = read(&format!("metadata/{role}.json"));
        let v: serde_json::Value = serde_json::from_slice(&data).unwrap();
        s.0.insert(format!("{META}{}.{role}.json", v["signed"]["version"]), data);
    }
    for target in [TRUSTED_ROOT_TARGET, NPM_KEYS_TARGET] {
        let data = read(&format!("targets/{target}"));
        let digest = hex::encode(sha2::Sha256::digest(&data));
        let (dir, base) = target
            .rsplit_once('/')
            .map_or((String::new(), target), |(d, b)| (format!("{d}/"), b));
        s.0.insert(format!("{TARGETS}{dir}{digest}.{base}"), data);
    }
    s
}

fn update(
    store: &TrustStore,
    repo: &Served,
    seed: Option<&[u8]>,
    at: jiff::Timestamp,
) -> Result<ward_trust::store::Updated, ward_trust::store::StoreError> {
    store.update(META, TARGETS, repo, seed, at, "2026-12-01T00:00:00Z".parse().unwrap())
}

/// Every file of the state directory, for before/after comparisons.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() && e.file_name() != ".lock" {
                out.insert(e.path(), std::fs::read(e.path()).unwrap());
            } else if t.is_symlink() {
                out.insert(
                    e.path(),
                    std::fs::read_link(e.path())
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                );
            }
        }
    }
    out
}

#[test]
fn an_update_from_root_v1_stores_the_trusted_root_npm_keys_and_history() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TrustStore::new(tmp.path().join("trust"));
    assert!(
        store.target(TRUSTED_ROOT_TARGET).unwrap().is_none(),
        "nothing before the first update"
    );
    assert!(store.history().unwrap().is_empty());

    let repo = served();
    let report = update(
        &store,
        &repo,
        Some(&read("metadata/root_history/1.root.json")),
        pinned(),
    )
    .unwrap();
    assert_eq!(report.root_before, None);
    assert_eq!(report.root_after, 15);
    assert_eq!(report.accepted, (1..=15).collect::<Vec<_>>());
    assert!(report.targets.iter().all(|(_, _, changed)| *changed));
    assert_eq!(
        store.target(TRUSTED_ROOT_TARGET).unwrap().unwrap(),
        read("targets/trusted_root.json")
    );
    assert_eq!(
        store.target(NPM_KEYS_TARGET).unwrap().unwrap(),
        read("targets/registry.npmjs.org/keys.json")
    );
    let history = store.history().unwrap();
    assert_eq!(
        history.iter().map(|h| h.version).collect::<Vec<_>>(),
        (1..=15).collect::<Vec<_>>()
    );
    assert_eq!(history[0].how, "seed");
    assert_eq!(history[14].root.as_bytes(), read("metadata/root_history/15.root.json"));

    // Again: nothing new, nothing changed, history unchanged.
    let report = update(&store, &repo, None, pinned()).unwrap();
    assert_eq!((report.root_before, report.root_after), (Some(15), 15));
    assert!(report.accepted.is_empty());
    assert!(report.targets.iter().all(|(_, _, changed)| !changed));
    assert_eq!(store.history().unwrap().len(), 15);
    // The current state and the one it replaced are left, no more.
    let states = || {
        std::fs::read_dir(store.dir())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("state-"))
            .count()
    };
    assert_eq!(states(), 2);
    update(&store, &repo, None, pinned()).unwrap();
    assert_eq!(states(), 2);

    // A seed root once ward trusts a root: refused.
    let err = update(
        &store,
        &repo,
        Some(&read("metadata/root_history/1.root.json")),
        pinned(),
    )
    .unwrap_err();
    assert_eq!(err.rule(), "already-seeded");
}

#[test]
fn the_compiled_in_seed_is_sigstore_root_v15() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TrustStore::new(tmp.path());
    // What an interrupted update would leave behind is cleaned up.
    std::fs::create_dir_all(tmp.path().join(".staging-abc/tuf")).unwrap();
    std::fs::create_dir_all(tmp.path().join("state-old")).unwrap();
    let report = update(&store, &served(), None, pinned()).unwrap();
    assert_eq!(report.accepted, [15]);
    assert!(!tmp.path().join(".staging-abc").exists());
    assert!(!tmp.path().join("state-old").exists());
    assert!(store.target(NPM_KEYS_TARGET).unwrap().is_some());
    assert_eq!(ward_trust::store::SEED_ROOT, read("metadata/root_history/15.root.json"));
}

#[test]
fn a_refused_update_keeps_the_previous_state() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TrustStore::new(tmp.path());

    // First use, a byte flipped in snapshot.json: nothing is stored.
    let mut bad = served();
    let key = bad.0.keys().find(|k| k.ends_with(".snapshot.json")).unwrap().clone();
    let data = bad.0.get_mut(&key).unwrap();
    let at = data.len() / 2;
    data[at] ^= 0x01;
    let err = update(&store, &bad, None, pinned()).unwrap_err();
    // Sigstore's timestamp gives the snapshot's version only (no hashes):
    // the flipped byte is caught by the snapshot's signature.
    assert_eq!(err.rule(), "threshold", "{err}");
    assert!(store.current().unwrap().is_none());
    assert!(store.target(TRUSTED_ROOT_TARGET).unwrap().is_none());

    update(&store, &served(), None, pinned()).unwrap();
    let before = snapshot(tmp.path());

    // A target whose bytes differ from the signed metadata: refused, kept.
    let mut bad = served();
    let key = bad.0.keys().find(|k| k.ends_with(".keys.json")).unwrap().clone();
    bad.0.get_mut(&key).unwrap()[10] ^= 0x01;
    let err = update(&store, &bad, None, pinned()).unwrap_err();
    assert_eq!(err.rule(), "hash", "{err}");
    assert_eq!(snapshot(tmp.path()), before);

    // A month later the timestamp has expired: a freeze, state kept.
    let err = update(&store, &served(), None, "2026-09-30T00:00:00Z".parse().unwrap()).unwrap_err();
    assert_eq!(err.rule(), "freeze", "{err}");
    assert_eq!(snapshot(tmp.path()), before);
    assert_eq!(
        store.target(TRUSTED_ROOT_TARGET).unwrap().unwrap(),
        read("targets/trusted_root.json")
    );
}

#[test]
fn a_stored_file_that_no_longer_matches_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let store = TrustStore::new(tmp.path());
    update(&store, &served(), None, pinned()).unwrap();
    let state = store.current().unwrap().unwrap();
    let path = state.join("targets").join("trusted_root.json");
    let mut data = std::fs::read(&path).unwrap();
    data[5] ^= 0x01;
    std::fs::write(&path, data).unwrap();
    let err = store.target(TRUSTED_ROOT_TARGET).unwrap_err();
    assert_eq!(err.rule(), "corrupt-state", "{err}");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(store.target(TRUSTED_ROOT_TARGET).unwrap_err().rule(), "corrupt-state");

    // A history with a gap is corrupt too.
    let hist = state.join("history.jsonl");
    std::fs::write(&hist, "").unwrap();
    assert_eq!(store.history().unwrap_err().rule(), "corrupt-state");
}
