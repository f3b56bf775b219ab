//! `ward trust update` and `ward trust log` against a directory copy of
//! Sigstore's real TUF repository in its published layout (versioned
//! metadata names, hash-prefixed targets), clock pinned with `--at`; then
//! `ward verify` uses the updated trusted root and npm keys, and a corrupt
//! stored file is an error, never a fallback to the compiled-in ones.

use crate::common::{FakeRegistry, Run, TestContext, shared};
use sha2::Digest as _;
use std::path::{Path, PathBuf};

const AT: &str = "2026-08-27T00:00:00Z";

fn repo() -> PathBuf {
    shared().join("sigstore-tuf-repo")
}

/// Lays the repository out as it is served: `N.root.json`,
/// `timestamp.json`, `V.ROLE.json`, `targets/[DIR/]SHA256.NAME`.
fn mirror(dir: &Path) -> PathBuf {
    let m = dir.join("mirror");
    std::fs::create_dir_all(m.join("targets/registry.npmjs.org")).unwrap();
    for n in 1..=15 {
        std::fs::copy(
            repo().join(format!("metadata/root_history/{n}.root.json")),
            m.join(format!("{n}.root.json")),
        )
        .unwrap();
    }
    std::fs::copy(repo().join("metadata/timestamp.json"), m.join("timestamp.json")).unwrap();
    for role in ["snapshot", "targets", "registry.npmjs.org"] {
        let data = std::fs::read(repo().join(format!("metadata/{role}.json"))).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&data).unwrap();
        std::fs::write(m.join(format!("{}.{role}.json", v["signed"]["version"])), data).unwrap();
    }
    for target in ["trusted_root.json", "registry.npmjs.org/keys.json"] {
        let data = std::fs::read(repo().join("targets").join(target)).unwrap();
        let digest = hex::encode(sha2::Sha256::digest(&data));
        let (dir, base) = target.rsplit_once('/').unwrap_or(("", target));
        std::fs::write(m.join("targets").join(dir).join(format!("{digest}.{base}")), data).unwrap();
    }
    m
}

fn update(ctx: &TestContext, data: &Path, mirror: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["trust", "update", "--repo", mirror.to_str().unwrap()];
    args.extend_from_slice(extra);
    ctx.ward_in(data, args)
}

fn seed_v1() -> String {
    repo().join("metadata/root_history/1.root.json").display().to_string()
}

/// The stored state's files (the `current` link resolved).
fn stored(data: &Path, file: &str) -> PathBuf {
    data.join("trust/current").join(file)
}

#[test]
fn trust_update_from_a_mirror_then_trust_log_shows_the_real_history() {
    let ctx = TestContext::new();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mirror = mirror(tmp.path());
    ctx.ward_in(&data, ["trust", "log"])
        .expect(0)
        .stdout
        .contains("has not updated")
        .then_some(())
        .expect("log before any update");

    let run = update(&ctx, &data, &mirror, &["--at", AT, "--seed-root", &seed_v1()]);
    run.expect(0);
    assert!(
        run.stdout.contains("root v15 (accepted root v1 to v15)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("trusted_root.json  sha256:"), "{}", run.stdout);
    assert!(
        run.stdout.contains("registry.npmjs.org/keys.json  sha256:"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read(stored(&data, "targets/trusted_root.json")).unwrap(),
        std::fs::read(repo().join("targets/trusted_root.json")).unwrap()
    );
    assert_eq!(
        std::fs::read(stored(&data, "targets/registry.npmjs.org%2Fkeys.json")).unwrap(),
        std::fs::read(repo().join("targets/registry.npmjs.org/keys.json")).unwrap()
    );

    let log = ctx.ward_in(&data, ["trust", "log"]);
    log.expect(0);
    let text = &log.stdout;
    assert!(text.starts_with("last update 20"), "{text}");
    for v in 1..=15 {
        assert!(text.contains(&format!("root v{v} ")), "v{v} missing:\n{text}");
    }
    assert!(text.contains("key added: 75e867ab10e121fd"), "{text}");
    assert!(text.contains("key removed: bdde902f5ec66817"), "{text}");
    assert!(text.contains("(@lance; root, targets)"), "{text}");
    assert!(text.contains("key re-encoded (same key, new key ID)"), "{text}");
    assert!(text.contains("thresholds: root 3 of 5"), "{text}");

    let json = ctx.ward_in(&data, ["trust", "log", "--format", "json"]);
    json.expect(0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let entries = doc.as_array().unwrap();
    assert_eq!(entries.len(), 15);
    let changed: Vec<u64> = entries
        .iter()
        .filter(|e| e["root_keys_changed"] == true)
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!(changed, [4, 13]);
    for v in [5usize, 9, 10] {
        let e = &entries[v - 1];
        assert!(!e["reencoded"].as_array().unwrap().is_empty(), "v{v}");
        assert_eq!(e["root_keys_changed"], false, "v{v}");
    }
    assert_eq!(entries[0]["how"], "seed");
    assert_eq!(entries[14]["how"], "update");
    assert!(entries[14]["accepted_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(entries[14]["expires"], "2026-11-20T13:58:18Z");
    assert!(entries[14]["signed_by"].as_array().unwrap().len() >= 3);

    // A second update with nothing new keeps the history and says so.
    let run = update(&ctx, &data, &mirror, &["--at", AT]);
    run.expect(0);
    assert!(run.stdout.contains("no new root version"), "{}", run.stdout);
    assert!(run.stdout.contains("unchanged"), "{}", run.stdout);
}

#[test]
fn a_tampered_or_expired_repository_is_refused_and_the_previous_state_kept() {
    let ctx = TestContext::new();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mirror = mirror(tmp.path());

    // A byte flipped in snapshot.json: refused, nothing stored.
    let snap = std::fs::read_dir(&mirror)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".snapshot.json"))
        .unwrap();
    let good = std::fs::read(&snap).unwrap();
    let mut bad = good.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0x01;
    std::fs::write(&snap, &bad).unwrap();
    let run = update(&ctx, &data, &mirror, &["--at", AT]);
    run.expect(1);
    assert!(run.stderr.contains("tuf threshold: snapshot"), "{}", run.stderr);
    assert!(run.stderr.contains("previous trusted state is kept"), "{}", run.stderr);
    assert!(!data.join("trust/current").exists());
    std::fs::write(&snap, &good).unwrap();

    update(&ctx, &data, &mirror, &["--at", AT]).expect(0);
    let root_before = std::fs::read(stored(&data, "targets/trusted_root.json")).unwrap();
    let log_before = ctx.ward_in(&data, ["trust", "log", "--format", "json"]).stdout;

    // On 2026-09-01 the timestamp (expires 2026-08-28) has expired: without
    // --at ward's clock decides, and the update is refused as a freeze
    // attack, the state kept.
    let later = TestContext::new().at("2026-09-01T00:00:00Z");
    let run = update(&later, &data, &mirror, &[]);
    run.expect(1);
    assert!(run.stderr.contains("tuf freeze"), "{}", run.stderr);
    assert!(run.stderr.contains("expired"), "{}", run.stderr);

    // A target whose bytes are not the signed ones: refused, kept.
    let keys = std::fs::read_dir(mirror.join("targets/registry.npmjs.org"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bad = std::fs::read(&keys).unwrap();
    bad[10] ^= 0x01;
    std::fs::write(&keys, &bad).unwrap();
    let run = update(&ctx, &data, &mirror, &["--at", AT]);
    run.expect(1);
    assert!(run.stderr.contains("tuf hash"), "{}", run.stderr);

    assert_eq!(
        std::fs::read(stored(&data, "targets/trusted_root.json")).unwrap(),
        root_before
    );
    assert_eq!(
        ctx.ward_in(&data, ["trust", "log", "--format", "json"]).stdout,
        log_before
    );

    // Bad arguments are usage errors.
    update(&ctx, &data, &tmp.path().join("missing"), &[]).expect(2);
    update(&ctx, &data, &mirror, &["--at", "yesterday"]).expect(2);
    update(&ctx, &data, &mirror, &["--at", AT, "--seed-root", &seed_v1()]).expect(2);
}

#[test]
fn verify_uses_the_updated_trust_and_a_corrupt_stored_file_is_an_error() {
    let ctx = TestContext::new();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mirror = mirror(tmp.path());
    update(&ctx, &data, &mirror, &["--at", AT]).expect(0);

    let npm = shared().join("npm-attestations");
    let tgz = npm.join("gundam-visor-cli-v1-tag.tgz");
    let att = npm.join("gundam-visor-cli-v1-tag.tgz.json");
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", tgz.to_str().unwrap(), "--attestation", att.to_str().unwrap()];
        args.extend_from_slice(extra);
        ctx.ward_in(&data, args)
    };
    // The updated npm keys (with the January 2025 rotation's windows) and
    // trusted root verify a registry attestation made before the rotation.
    verify(&[]).expect(0);

    // A corrupt stored npm keys file: exit 2, no fallback to the bundled keys.
    let keys = stored(&data, "targets/registry.npmjs.org%2Fkeys.json");
    let good_keys = std::fs::read(&keys).unwrap();
    let mut bad = good_keys.clone();
    bad[3] ^= 0x01;
    std::fs::write(&keys, &bad).unwrap();
    let run = verify(&[]);
    run.expect(2);
    assert!(run.stderr.contains("corrupt-state"), "{}", run.stderr);
    // An explicit --npm-keys does not read the stored keys.
    verify(&["--npm-keys", npm.join("npm-registry-keys.json").to_str().unwrap()]).expect(0);
    std::fs::write(&keys, &good_keys).unwrap();

    // A corrupt stored trusted root: exit 2, unless --trusted-root is given.
    let root = stored(&data, "targets/trusted_root.json");
    let mut bad = std::fs::read(&root).unwrap();
    bad[3] ^= 0x01;
    std::fs::write(&root, &bad).unwrap();
    let run = verify(&[]);
    run.expect(2);
    assert!(run.stderr.contains("corrupt-state"), "{}", run.stderr);
    verify(&[
        "--trusted-root",
        repo().join("targets/trusted_root.json").to_str().unwrap(),
    ])
    .expect(0);
    std::fs::remove_file(&root).unwrap();
    verify(&[]).expect(2);
}

#[test]
fn trust_update_over_http_from_a_loopback_copy_of_the_repository() {
    let ctx = TestContext::new();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let up = FakeRegistry::start();
    up.put_dir(&mirror(tmp.path()));
    let url = format!("{}/", up.base());
    let run = ctx.ward_in(
        &data,
        [
            "trust",
            "update",
            "--repo",
            url.as_str(),
            "--at",
            AT,
            "--seed-root",
            &seed_v1(),
        ],
    );
    run.expect(0);
    assert!(
        run.stdout.contains("root v15 (accepted root v1 to v15)"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read(stored(&data, "targets/registry.npmjs.org%2Fkeys.json")).unwrap(),
        std::fs::read(repo().join("targets/registry.npmjs.org/keys.json")).unwrap()
    );
    let log = ctx.ward_in(&data, ["trust", "log", "--format", "json"]);
    log.expect(0);
    let doc: serde_json::Value = serde_json::from_str(&log.stdout).unwrap();
    assert_eq!(doc[14]["repository"], url.as_str());

    // A repository that is not there: refused, the state kept.
    let run = ctx.ward_in(&data, ["trust", "update", "--repo", "http://127.0.0.1:9/", "--at", AT]);
    run.expect(1);
    assert!(run.stderr.contains("tuf fetch"), "{}", run.stderr);
    assert!(stored(&data, "targets/trusted_root.json").is_file());
}

/// Issue 15 item 2: every root version and key set an update accepts is a
/// signed event in the ledger (digest: the bytes as received); an update
/// with nothing new records nothing; an update the ledger cannot take is
/// not switched to.
#[test]
fn every_accepted_root_and_key_set_is_a_ledger_event() {
    let ctx = TestContext::new();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mirror = mirror(tmp.path());

    // A ledger that cannot be opened: the update is refused, nothing switched to.
    let blocker = tmp.path().join("not-a-directory");
    std::fs::write(&blocker, b"x").unwrap();
    let ledger_arg = blocker.join("ledger").display().to_string();
    let run = update(
        &ctx,
        &data,
        &mirror,
        &["--at", AT, "--seed-root", &seed_v1(), "--ledger", &ledger_arg],
    );
    run.expect(2);
    assert!(run.stderr.contains("could not be recorded"), "{}", run.stderr);
    assert!(!data.join("trust/current").exists());

    update(&ctx, &data, &mirror, &["--at", AT, "--seed-root", &seed_v1()]).expect(0);
    let events = crate::key_lifetimes::events(&data.join("ledger"));
    let roots: Vec<&(String, String, serde_json::Value)> =
        events.iter().filter(|e| e.1.starts_with("tuf-root:")).collect();
    assert_eq!(roots.len(), 15, "{events:?}");
    assert!(events.iter().all(|e| e.0 == "trust-root-accepted"));
    for (v, e) in (1..=15u64).zip(&roots) {
        assert_eq!(e.2["version"], v);
        assert!(e.1.ends_with(&format!("#v{v}")), "{}", e.1);
    }
    assert_eq!(roots[0].2["how"], "seed");
    let changed: Vec<u64> = roots
        .iter()
        .filter(|e| e.2["root_keys_changed"] == true)
        .map(|e| e.2["version"].as_u64().unwrap())
        .collect();
    assert_eq!(changed, [4, 13]);
    let targets: Vec<&str> = events.iter().filter_map(|e| e.1.strip_prefix("tuf-target:")).collect();
    assert_eq!(targets, ["trusted_root.json", "registry.npmjs.org/keys.json"]);
    // The digests are of the bytes as received.
    let ledger = ward_ledger::EmbeddedLedger::open_snapshot(&data.join("ledger")).unwrap();
    let (entry, verifier) = (ledger.entry(14).unwrap(), ledger.verifier());
    let ward_ledger::event::LedgerRecord::Event(v15) = ward_ledger::event::read_entry(&entry, &verifier).unwrap()
    else {
        panic!("entry 14 is not an event");
    };
    let root15 = std::fs::read(repo().join("metadata/root_history/15.root.json")).unwrap();
    assert_eq!(
        v15.subject[0].digest["sha256"],
        hex::encode(sha2::Sha256::digest(&root15))
    );

    let listed = ctx.ward_in(&data, ["ledger", "search", "--kind", "trust-root-accepted"]);
    listed.expect(0);
    assert!(
        listed.stdout.contains("tuf-root:") && listed.stdout.contains("#v15"),
        "{}",
        listed.stdout
    );

    // Nothing new: nothing recorded.
    update(&ctx, &data, &mirror, &["--at", AT]).expect(0);
    assert_eq!(crate::key_lifetimes::events(&data.join("ledger")).len(), events.len());
}
