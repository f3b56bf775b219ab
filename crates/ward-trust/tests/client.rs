//! The TUF client against in-memory repositories: the hostile inputs the
//! conformance suite does not cover (an endless timestamp.json, a root
//! chain of 10,000 versions, delegation loops and endless chains), and the
//! rule each refusal names.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::{Value, json};
use sha2::Digest as _;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::Read;
use ward_trust::{Fetcher, Limits, TufError, Updater};

const BASE: &str = "http://repo.invalid/metadata/";
const FAR: &str = "2099-01-01T00:00:00Z";

fn now() -> jiff::Timestamp {
    "2030-01-01T00:00:00Z".parse().unwrap()
}

struct Key {
    pair: Ed25519KeyPair,
    id: String,
    json: Value,
}

fn cjson(v: &Value) -> Vec<u8> {
    ward_trust::canonical::canonical_json(v).unwrap()
}

fn key() -> Key {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let json = json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": hex::encode(pair.public_key().as_ref())}});
    let id = hex::encode(sha2::Sha256::digest(cjson(&json)));
    Key { pair, id, json }
}

fn sign(signed: &Value, keys: &[(&str, &Key)]) -> Vec<u8> {
    let canonical = cjson(signed);
    let sigs: Vec<Value> = keys
        .iter()
        .map(|(id, k)| json!({"keyid": id, "sig": hex::encode(k.pair.sign(&canonical).as_ref())}))
        .collect();
    serde_json::to_vec(&json!({"signed": signed, "signatures": sigs})).unwrap()
}

fn root(version: u64, k: &Key, expires: &str) -> Value {
    let role = json!({"keyids": [k.id], "threshold": 1});
    json!({"_type": "root", "spec_version": "1.0.31", "version": version, "expires": expires,
           "consistent_snapshot": true, "keys": {k.id.clone(): k.json},
           "roles": {"root": role, "timestamp": role, "snapshot": role, "targets": role}})
}

fn timestamp(version: u64, snapshot: u64, expires: &str) -> Value {
    json!({"_type": "timestamp", "spec_version": "1.0.31", "version": version, "expires": expires,
           "meta": {"snapshot.json": {"version": snapshot}}})
}

fn snapshot(version: u64, roles: &[(&str, u64)]) -> Value {
    let meta: serde_json::Map<String, Value> = roles
        .iter()
        .map(|(r, v)| (format!("{r}.json"), json!({"version": v})))
        .collect();
    json!({"_type": "snapshot", "spec_version": "1.0.31", "version": version, "expires": FAR, "meta": meta})
}

fn targets(version: u64, files: Value, delegations: Option<Value>) -> Value {
    let mut t =
        json!({"_type": "targets", "spec_version": "1.0.31", "version": version, "expires": FAR, "targets": files});
    if let Some(d) = delegations {
        t["delegations"] = d;
    }
    t
}

/// Delegations from one role to `children`, all with key `k`, paths `*`.
fn delegate(k: &Key, children: &[&str]) -> Value {
    let roles: Vec<Value> = children
        .iter()
        .map(|c| json!({"name": c, "keyids": [k.id], "threshold": 1, "terminating": false, "paths": ["*"]}))
        .collect();
    json!({"keys": {k.id.clone(): k.json}, "roles": roles})
}

/// A repository in memory; logs every URL opened.
#[derive(Default)]
struct Repo {
    files: RefCell<BTreeMap<String, Vec<u8>>>,
    log: RefCell<Vec<String>>,
}

impl Repo {
    fn put(&self, name: &str, data: Vec<u8>) {
        self.files.borrow_mut().insert(format!("{BASE}{name}"), data);
    }
    fn opened(&self, name: &str) -> usize {
        self.log
            .borrow()
            .iter()
            .filter(|u| u.ends_with(&format!("/{name}")))
            .count()
    }
}

impl Fetcher for Repo {
    fn open(&self, url: &str) -> Result<Box<dyn Read + '_>, TufError> {
        self.log.borrow_mut().push(url.to_string());
        match self.files.borrow().get(url) {
            Some(d) => Ok(Box::new(std::io::Cursor::new(d.clone()))),
            None => Err(TufError::NotFound { url: url.to_string() }),
        }
    }
}

/// A repository with top-level metadata signed by `k` and the given
/// targets metadata; returns the metadata directory, initialised with root v1.
fn setup(repo: &Repo, k: &Key, top: Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r1 = sign(&root(1, k, FAR), &[(&k.id, k)]);
    ward_trust::init(dir.path(), &r1, now()).unwrap();
    repo.put("timestamp.json", sign(&timestamp(1, 1, FAR), &[(&k.id, k)]));
    let snap = snapshot(1, &[("targets", top["version"].as_u64().unwrap())]);
    repo.put("1.snapshot.json", sign(&snap, &[(&k.id, k)]));
    repo.put("1.targets.json", sign(&top, &[(&k.id, k)]));
    dir
}

fn updater<'f>(dir: &tempfile::TempDir, f: &'f dyn Fetcher) -> Updater<'f> {
    Updater::new(dir.path(), BASE, f, now(), Limits::default()).unwrap()
}

/// Hands out an endless timestamp.json (think 1 GB), counting the bytes.
struct EndlessTimestamp<'a> {
    inner: &'a Repo,
    served: &'a Cell<u64>,
}

struct Spaces<'a>(&'a Cell<u64>);
impl Read for Spaces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.get() >= 1 << 30 {
            return Ok(0);
        }
        buf.fill(b' ');
        self.0.set(self.0.get() + buf.len() as u64);
        Ok(buf.len())
    }
}

impl Fetcher for EndlessTimestamp<'_> {
    fn open(&self, url: &str) -> Result<Box<dyn Read + '_>, TufError> {
        if url.ends_with("/timestamp.json") {
            return Ok(Box::new(Spaces(self.served)));
        }
        self.inner.open(url)
    }
}

#[test]
fn a_gigabyte_timestamp_is_refused_after_its_length_limit() {
    let (repo, k) = (Repo::default(), key());
    let dir = setup(&repo, &k, targets(1, json!({}), None));
    let served = Cell::new(0);
    let f = EndlessTimestamp {
        inner: &repo,
        served: &served,
    };
    let err = updater(&dir, &f).refresh().unwrap_err();
    assert_eq!(err.rule(), "endless-data", "{err}");
    let limit = Limits::default().timestamp_max_length;
    assert!(
        served.get() <= limit + 1,
        "read {} bytes of a 1 GB timestamp",
        served.get()
    );
    assert!(!dir.path().join("timestamp.json").exists());
}

/// Serves root versions 2..=last on demand, each signed by the one key.
struct LongChain<'a> {
    key: &'a Key,
    last: u64,
    opened: Cell<u64>,
}

impl Fetcher for LongChain<'_> {
    fn open(&self, url: &str) -> Result<Box<dyn Read + '_>, TufError> {
        self.opened.set(self.opened.get() + 1);
        let name = url.trim_start_matches(BASE);
        let version = name.strip_suffix(".root.json").and_then(|v| v.parse::<u64>().ok());
        match version {
            Some(v) if v <= self.last => {
                let data = sign(&root(v, self.key, FAR), &[(&self.key.id, self.key)]);
                Ok(Box::new(std::io::Cursor::new(data)))
            }
            _ => Err(TufError::NotFound { url: url.to_string() }),
        }
    }
}

#[test]
fn a_root_chain_of_ten_thousand_versions_is_refused_after_the_rotation_bound() {
    let k = key();
    let dir = tempfile::tempdir().unwrap();
    ward_trust::init(dir.path(), &sign(&root(1, &k, FAR), &[(&k.id, &k)]), now()).unwrap();
    let chain = LongChain {
        key: &k,
        last: 10_000,
        opened: Cell::new(0),
    };
    let mut up = updater(&dir, &chain);
    let err = up.refresh().unwrap_err();
    assert_eq!(err.rule(), "root-rotation-limit", "{err}");
    let bound = Limits::default().max_root_rotations;
    assert_eq!(chain.opened.get(), bound + 1, "fetches stop at the bound");
    // The versions verified so far are kept: the next update goes on from there.
    assert_eq!(up.trusted().root().version, 1 + bound);
    let on_disk: Value = serde_json::from_slice(&std::fs::read(dir.path().join("root.json")).unwrap()).unwrap();
    assert_eq!(on_disk["signed"]["version"], json!(1 + bound));
}

#[test]
fn a_delegation_loop_ends_and_fetches_each_role_once() {
    let (repo, k) = (Repo::default(), key());
    let dir = setup(&repo, &k, targets(1, json!({}), Some(delegate(&k, &["A"]))));
    // targets -> A -> B -> A, and B -> B.
    repo.put(
        "1.A.json",
        sign(&targets(1, json!({}), Some(delegate(&k, &["B"]))), &[(&k.id, &k)]),
    );
    repo.put(
        "1.B.json",
        sign(&targets(1, json!({}), Some(delegate(&k, &["A", "B"]))), &[(&k.id, &k)]),
    );
    let snap = snapshot(1, &[("targets", 1), ("A", 1), ("B", 1)]);
    repo.put("1.snapshot.json", sign(&snap, &[(&k.id, &k)]));
    let mut up = updater(&dir, &repo);
    let err = up.target_info("missing").unwrap_err();
    assert_eq!(err.rule(), "target-not-found", "{err}");
    assert_eq!(repo.opened("1.A.json"), 1);
    assert_eq!(repo.opened("1.B.json"), 1);
}

#[test]
fn an_endless_delegation_chain_stops_at_the_delegation_bound() {
    let (repo, k) = (Repo::default(), key());
    let dir = setup(&repo, &k, targets(1, json!({}), Some(delegate(&k, &["R0"]))));
    let mut listed = vec![("targets".to_string(), 1)];
    for i in 0..100 {
        let next = format!("R{}", i + 1);
        repo.put(
            &format!("1.R{i}.json"),
            sign(&targets(1, json!({}), Some(delegate(&k, &[&next]))), &[(&k.id, &k)]),
        );
        listed.push((format!("R{i}"), 1));
    }
    let listed: Vec<(&str, u64)> = listed.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    repo.put("1.snapshot.json", sign(&snapshot(1, &listed), &[(&k.id, &k)]));
    let mut up = updater(&dir, &repo);
    assert_eq!(up.target_info("missing").unwrap_err().rule(), "target-not-found");
    let fetched = repo.log.borrow().iter().filter(|u| u.contains(".R")).count();
    assert_eq!(fetched, Limits::default().max_delegations, "delegated roles fetched");
}

#[test]
fn a_found_target_is_downloaded_and_checked() {
    let (repo, k) = (Repo::default(), key());
    let content = b"hello";
    let digest = hex::encode(sha2::Sha256::digest(content));
    let files = json!({"dir/a.txt": {"length": 5, "hashes": {"sha256": digest}}});
    let dir = setup(&repo, &k, targets(1, files, None));
    let out = tempfile::tempdir().unwrap();
    let base = "http://repo.invalid/targets/";
    repo.files
        .borrow_mut()
        .insert(format!("{base}dir/{digest}.a.txt"), b"hellp".to_vec());
    let mut up = updater(&dir, &repo);
    let info = up.target_info("dir/a.txt").unwrap();
    let err = up.download_target(base, out.path(), "dir/a.txt", &info).unwrap_err();
    assert_eq!(err.rule(), "hash", "{err}");
    assert!(up.cached_target(out.path(), "dir/a.txt", &info).is_none());
    repo.files
        .borrow_mut()
        .insert(format!("{base}dir/{digest}.a.txt"), content.to_vec());
    let path = up.download_target(base, out.path(), "dir/a.txt", &info).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), content);
    assert_eq!(up.cached_target(out.path(), "dir/a.txt", &info), Some(path));
}

#[test]
fn timestamp_rollback_and_expiry_name_their_rules_and_keep_the_trusted_file() {
    let (repo, k) = (Repo::default(), key());
    let dir = setup(&repo, &k, targets(1, json!({}), None));
    repo.put("timestamp.json", sign(&timestamp(2, 1, FAR), &[(&k.id, &k)]));
    updater(&dir, &repo).refresh().unwrap();
    let trusted = std::fs::read(dir.path().join("timestamp.json")).unwrap();

    repo.put("timestamp.json", sign(&timestamp(1, 1, FAR), &[(&k.id, &k)]));
    assert_eq!(updater(&dir, &repo).refresh().unwrap_err().rule(), "rollback");
    assert_eq!(std::fs::read(dir.path().join("timestamp.json")).unwrap(), trusted);

    repo.put(
        "timestamp.json",
        sign(&timestamp(3, 1, "2020-01-01T00:00:00Z"), &[(&k.id, &k)]),
    );
    assert_eq!(updater(&dir, &repo).refresh().unwrap_err().rule(), "freeze");
    assert_eq!(std::fs::read(dir.path().join("timestamp.json")).unwrap(), trusted);

    // Signed by a key the root does not list: under threshold.
    let other = key();
    repo.put("timestamp.json", sign(&timestamp(3, 1, FAR), &[(&other.id, &other)]));
    assert_eq!(updater(&dir, &repo).refresh().unwrap_err().rule(), "threshold");
}

#[test]
fn one_key_listed_under_two_key_ids_counts_once() {
    let k = key();
    let mut r = root(1, &k, FAR);
    // The same key again under a second ID; threshold 2 over the two IDs.
    r["keys"]["alias"] = k.json.clone();
    r["roles"]["root"] = json!({"keyids": [k.id, "alias"], "threshold": 2});
    let data = sign(&r, &[(&k.id, &k), ("alias", &k)]);
    let err = ward_trust::TrustedSet::new(&data, now()).unwrap_err();
    assert_eq!(err.rule(), "threshold", "{err}");
}

#[test]
fn unknown_fields_are_covered_by_the_signature() {
    let k = key();
    let mut r = root(1, &k, FAR);
    r["x-custom"] = json!({"b": [1, 2], "a": "ü"});
    let data = sign(&r, &[(&k.id, &k)]);
    ward_trust::TrustedSet::new(&data, now()).unwrap();
    // Changing only the unknown field breaks the signature.
    let mut tampered: Value = serde_json::from_slice(&data).unwrap();
    tampered["signed"]["x-custom"]["a"] = json!("u");
    let err = ward_trust::TrustedSet::new(&serde_json::to_vec(&tampered).unwrap(), now()).unwrap_err();
    assert_eq!(err.rule(), "threshold");
}

#[test]
fn signatures_cover_strings_exactly_as_securesystemslib_canonicalises_them() {
    // Signed by python-tuf / securesystemslib 1.4.0: a custom field whose
    // accents are decomposed (not Unicode NFC). securesystemslib signs the
    // string as is; a canonicaliser that normalises it would refuse the root.
    let data = include_bytes!("data/root-non-nfc.json");
    ward_trust::TrustedSet::new(data, now()).unwrap();
}

#[test]
fn a_target_path_that_climbs_out_of_the_targets_url_is_refused() {
    let (repo, k) = (Repo::default(), key());
    let digest = hex::encode(sha2::Sha256::digest(b"x"));
    let files = json!({"../../etc/passwd": {"length": 1, "hashes": {"sha256": digest}}});
    let dir = setup(&repo, &k, targets(1, files, None));
    let out = tempfile::tempdir().unwrap();
    let mut up = updater(&dir, &repo);
    let info = up.target_info("../../etc/passwd").unwrap();
    let err = up
        .download_target("http://repo.invalid/targets/", out.path(), "../../etc/passwd", &info)
        .unwrap_err();
    assert_eq!(err.rule(), "malformed", "{err}");
    assert!(
        repo.log.borrow().iter().all(|u| !u.contains("passwd")),
        "nothing fetched"
    );
}
