//! Snapshots, rollback and the recovery playbooks (issue 14 items 4, 5).
//!
//! The shipped playbooks (`playbooks/pypi.toml`, `playbooks/npm.toml`) run
//! with real pip and npm through `ward run` against a loopback HTTP
//! upstream: a clean set is installed and snapshotted, upgraded to a
//! release the real OpenSSF `MAL-` record then marks malicious (litellm
//! 1.82.7, chalk 5.6.1: inert stand-ins built here; the clean releases are
//! stand-in wheels and the real chalk 5.6.0 tarball), `ward audit` alerts,
//! `ward rollback apply` reinstalls the snapshot from the proxy cache, and
//! the audit is clean. Each refusal of `ward snapshot` and `ward rollback`
//! has its own test with its reason code.

use crate::common::{Entry, FakeRegistry, Run, TestContext, json_of, shared, tgz, zip};
use crate::proxy::have;
use base64::Engine as _;
use sha2::Digest as _;
use std::path::{Path, PathBuf};

/// A pure-Python wheel whose RECORD lists every file's sha256 and size (as
/// real wheels do), written to `dir`; its bytes.
fn wheel(dir: &Path, name: &str, version: &str, body: &str) -> Vec<u8> {
    let module = name.replace('-', "_");
    let file = format!("{module}-{version}-py3-none-any.whl");
    let info = format!("{module}-{version}.dist-info");
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            format!("{module}/__init__.py"),
            format!("VERSION = {version:?}\n{body}\n").into_bytes(),
        ),
        (
            format!("{info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense-Expression: MIT\n\n")
                .into_bytes(),
        ),
        (
            format!("{info}/WHEEL"),
            b"Wheel-Version: 1.0\nGenerator: ward-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_vec(),
        ),
    ];
    let mut record = String::new();
    for (path, bytes) in &files {
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(bytes));
        record.push_str(&format!("{path},sha256={digest},{}\n", bytes.len()));
    }
    record.push_str(&format!("{info}/RECORD,,\n"));
    let mut entries: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let record_path = format!("{info}/RECORD");
    entries.push((&record_path, record.as_bytes()));
    let path = dir.join(&file);
    zip(&path, &entries);
    std::fs::read(&path).unwrap()
}

/// Serves from `up` the simple page of a project listing these wheels, and the wheels.
fn simple_page(up: &FakeRegistry, project: &str, wheels: &[(&str, &[u8])]) {
    let mut links = String::new();
    for (file, bytes) in wheels {
        links.push_str(&format!(
            "<a href=\"../../files/{file}#sha256={}\">{file}</a>\n",
            hex::encode(sha2::Sha256::digest(bytes))
        ));
        up.put(&format!("/files/{file}"), bytes.to_vec());
    }
    up.put(
        &format!("/simple/{project}/"),
        format!("<!DOCTYPE html><html><body>\n{links}</body></html>"),
    );
}

/// Serves from `up` an npm packument for these (version, tarball) under `/npm/NAME`.
fn packument(up: &FakeRegistry, name: &str, versions: &[(&str, &[u8])]) {
    let mut v = serde_json::Map::new();
    for (version, tarball) in versions {
        let file = format!("{name}-{version}.tgz");
        let integrity = crate::common::sha512_sri(tarball);
        v.insert(
            version.to_string(),
            serde_json::json!({"name": name, "version": version,
                "dist": {"tarball": format!("{}/npm/{name}/-/{file}", up.base()), "integrity": integrity}}),
        );
        up.put(&format!("/npm/{name}/-/{file}"), tarball.to_vec());
    }
    let latest = versions.last().map(|(v, _)| *v).unwrap_or_default();
    let doc = serde_json::json!({"name": name, "dist-tags": {"latest": latest}, "versions": v});
    up.put(&format!("/npm/{name}"), serde_json::to_vec(&doc).unwrap());
}

/// A proxy configuration (docs/proxy.md) for this upstream, with a policy
/// that lets unsigned packages through with a warning (the real tarballs
/// carry no signature a test key could make).
fn proxy_config(dir: &Path, up: &FakeRegistry) -> PathBuf {
    // The alert webhook: what is POSTed is recorded; it answers 200.
    up.put("/hook", "{}");
    std::fs::write(
        dir.join("ward.toml"),
        "version = 1\n\n[[scope]]\nname = \"everything\"\npackages = [\"*\"]\nmode = \"warn\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("watch.toml"),
        format!(
            "[watch]\n\n[[watch.webhook]]\nurl = \"{}/hook\"\ntimeout = \"5s\"\n",
            up.base()
        ),
    )
    .unwrap();
    let path = dir.join("proxy.toml");
    std::fs::write(
        &path,
        format!(
            "policy = \"ward.toml\"\nmetadata_ttl = 0\n\n[pypi]\nupstream = \"{base}\"\n\n[npm]\nupstream = \"{base}/npm\"\n",
            base = up.base()
        ),
    )
    .unwrap();
    path
}

/// The playbooks shipped in the repository.
fn playbook(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks").join(name)
}

fn malicious(path: &str) -> PathBuf {
    shared().join("advisories/malicious").join(path)
}

/// The PyPI world: litellm 1.82.6 (clean) and 1.82.7 (an inert stand-in of
/// the release MAL-2026-2144 names).
fn pypi_world(ctx: &TestContext) -> (FakeRegistry, PathBuf) {
    let up = FakeRegistry::start();
    let files = ctx.path("files");
    std::fs::create_dir_all(&files).unwrap();
    let good = wheel(&files, "litellm", "1.82.6", "");
    let bad = wheel(&files, "litellm", "1.82.7", "# inert stand-in of the malicious release");
    simple_page(
        &up,
        "litellm",
        &[
            ("litellm-1.82.6-py3-none-any.whl", &good),
            ("litellm-1.82.7-py3-none-any.whl", &bad),
        ],
    );
    let config = proxy_config(ctx.dir(), &up);
    (up, config)
}

/// The npm world: the real chalk 5.6.0 tarball, and an inert stand-in of
/// 5.6.1 (its files, version changed), which MAL-2025-46969 names.
fn npm_world(ctx: &TestContext) -> (FakeRegistry, PathBuf) {
    let up = FakeRegistry::start();
    let good = std::fs::read(shared().join("npm-neighbours/chalk-5.6.0.tgz")).unwrap();
    let manifest = r#"{"name": "chalk", "version": "5.6.1", "license": "MIT", "type": "module", "main": "index.js"}"#;
    let stand_in = ctx.path("chalk-5.6.1.tgz");
    tgz(
        &stand_in,
        &[
            Entry::File("package/package.json", manifest.as_bytes()),
            Entry::File(
                "package/index.js",
                b"// inert stand-in of the malicious release\nexport default {};\n",
            ),
        ],
    );
    let bad = std::fs::read(&stand_in).unwrap();
    packument(&up, "chalk", &[("5.6.0", &good), ("5.6.1", &bad)]);
    let config = proxy_config(ctx.dir(), &up);
    (up, config)
}

fn run_playbook(ctx: &TestContext, name: &str, config: &Path, advisory: &Path) -> Run {
    let work = ctx.path("work");
    std::fs::create_dir_all(&work).unwrap();
    ctx.ward_within(
        std::time::Duration::from_secs(300),
        [
            "playbook".as_ref(),
            "run".as_ref(),
            playbook(name).as_os_str(),
            "--workdir".as_ref(),
            work.as_os_str(),
            "--var".as_ref(),
            format!("PROXY_CONFIG={}", config.display()).as_ref(),
            "--var".as_ref(),
            format!("WATCH_CONFIG={}", ctx.path("watch.toml").display()).as_ref(),
            "--var".as_ref(),
            format!("ADVISORY={}", advisory.display()).as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
        ],
    )
    .expect("the playbook ends within five minutes")
}

/// Asserts a playbook passed every step in order and its report is the
/// ledger's signed `playbook-report` event.
fn assert_passed(ctx: &TestContext, up: &FakeRegistry, run: &Run) {
    assert_eq!(run.code, 0, "the playbook failed:\n{}", run.all());
    let report = json_of(run);
    let steps: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "setup",
            "snapshot",
            "change",
            "mark",
            "audit",
            "alert",
            "rollback",
            "audit-after"
        ]
    );
    assert!(report["steps"].as_array().unwrap().iter().all(|s| s["ok"] == true));
    let index = report["ledgerIndex"].as_u64().unwrap().to_string();
    let shown = ctx.ward(["ledger", "show", &index]);
    shown.expect(0);
    let event = json_of(&shown);
    assert_eq!(event["predicate"]["kind"], "playbook-report");
    assert_eq!(event["predicate"]["code"], "passed");
    // The webhook received the alert.
    let posted = up.posted("/hook");
    assert!(
        posted
            .iter()
            .any(|b| b.contains("alert-raised") && b.contains("newly-malicious")),
        "the webhook received: {posted:?}"
    );
    assert_eq!(event["predicate"]["detail"]["steps"].as_array().unwrap().len(), 8);
}

#[test]
fn the_pypi_playbook_rolls_a_malicious_upgrade_back_with_real_pip() {
    if !have("python3", "--version") {
        return;
    }
    let ctx = TestContext::new();
    let (up, config) = pypi_world(&ctx);
    let run = run_playbook(&ctx, "pypi.toml", &config, &malicious("pypi/MAL-2026-2144.json"));
    assert_passed(&ctx, &up, &run);
    // The environment is the clean release again, and the audit says so.
    let site = ctx.path("work/site");
    assert!(site.join("litellm-1.82.6.dist-info").is_dir());
    assert!(!site.join("litellm-1.82.7.dist-info").exists());
    let init = std::fs::read_to_string(site.join("litellm/__init__.py")).unwrap();
    assert!(init.contains("1.82.6") && !init.contains("stand-in"), "{init}");
    ctx.ward(["audit".as_ref(), site.as_os_str()]).expect(0);
}

#[test]
fn the_npm_playbook_rolls_a_malicious_upgrade_back_with_real_npm() {
    if !have("npm", "--version") {
        return;
    }
    let ctx = TestContext::new();
    let (up, config) = npm_world(&ctx);
    let run = run_playbook(&ctx, "npm.toml", &config, &malicious("npm/MAL-2025-46969.json"));
    assert_passed(&ctx, &up, &run);
    let manifest = std::fs::read_to_string(ctx.path("work/app/node_modules/chalk/package.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(v["version"], "5.6.0");
    ctx.ward(["audit".as_ref(), ctx.path("work/app").as_os_str()]).expect(0);
}

/// A world without clients: artifacts allowed by `ward verify` (a policy
/// that lets unsigned packages through with a warning), snapshots taken
/// from lockfiles, the clock pinned per step.
struct Offline {
    ctx: TestContext,
    policy: PathBuf,
    files: PathBuf,
}

const T1: &str = "2026-11-01T00:00:00Z";
const T2: &str = "2026-11-15T00:00:00Z";
const T3: &str = "2026-12-01T00:00:00Z";

/// A stand-in crate's `Cargo.toml` and `src/lib.rs`.
fn stand_in_manifest(name: &str, version: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\nlicense = \"MIT\"\n")
}
const STAND_IN_LIB: &[u8] = b"// inert stand-in\n";

impl Offline {
    fn new() -> Self {
        let ctx = TestContext::new();
        let files = ctx.path("files");
        std::fs::create_dir_all(&files).unwrap();
        let policy = ctx.path("warn.toml");
        std::fs::write(
            &policy,
            "version = 1\n\n[[scope]]\npackages = [\"*\"]\nmode = \"warn\"\n",
        )
        .unwrap();
        Self { ctx, policy, files }
    }

    /// Runs ward with the clock at `at`.
    fn ward_at(&self, at: &str, args: &[&str]) -> Run {
        self.ctx.ward_at(at, args)
    }

    /// `ward verify` allows the artifact and records it; returns its sha256.
    fn allow(&self, artifact: &Path) -> String {
        self.ward_at(
            T1,
            &[
                "verify",
                "--policy",
                self.policy.to_str().unwrap(),
                artifact.to_str().unwrap(),
            ],
        )
        .expect(0);
        hex::encode(sha2::Sha256::digest(std::fs::read(artifact).unwrap()))
    }

    /// A stand-in .crate of NAME VERSION, allowed at T1, and a Cargo.lock
    /// (beside `extra` packages) naming it with its checksum; returns the
    /// crate's path, its sha256 and the lockfile.
    fn locked_crate(&self, name: &str, version: &str, extra: &str) -> (PathBuf, String, PathBuf) {
        let krate = self.files.join(format!("{name}-{version}.crate"));
        let manifest = stand_in_manifest(name, version);
        tgz(
            &krate,
            &[
                Entry::File(&format!("{name}-{version}/Cargo.toml"), manifest.as_bytes()),
                Entry::File(&format!("{name}-{version}/src/lib.rs"), STAND_IN_LIB),
            ],
        );
        let sha = self.allow(&krate);
        let lock = self.ctx.path("Cargo.lock");
        std::fs::write(
            &lock,
            format!(
                "version = 4\n{extra}\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sha}\"\n"
            ),
        )
        .unwrap();
        (krate, sha, lock)
    }

    /// A wheel of litellm VERSION, allowed; returns its sha256.
    fn litellm(&self, version: &str) -> String {
        wheel(&self.files, "litellm", version, "");
        self.allow(&self.files.join(format!("litellm-{version}-py3-none-any.whl")))
    }

    /// A requirements file pinning litellm VERSION to these bytes.
    fn requirements(&self, name: &str, version: &str, sha256: &str) -> PathBuf {
        let path = self.ctx.path(&format!("{name}-requirements.txt"));
        std::fs::write(&path, format!("litellm=={version} \\\n    --hash=sha256:{sha256}\n")).unwrap();
        path
    }

    fn snapshot(&self, at: &str, name: &str, from: &Path) -> Run {
        self.ward_at(at, &["snapshot", "create", name, "--from", from.to_str().unwrap()])
    }

    fn import_malicious(&self) {
        self.ward_at(
            T3,
            &[
                "advisories",
                "import",
                malicious("pypi/MAL-2026-2144.json").to_str().unwrap(),
            ],
        )
        .expect(0);
    }

    /// A site directory with litellm VERSION installed (its dist-info).
    fn site(&self, version: &str) -> PathBuf {
        let site = self.ctx.path("site");
        let info = site.join(format!("litellm-{version}.dist-info"));
        std::fs::create_dir_all(&info).unwrap();
        std::fs::write(
            info.join("METADATA"),
            format!("Metadata-Version: 2.1\nName: litellm\nVersion: {version}\n\n"),
        )
        .unwrap();
        site
    }
}

#[test]
fn a_snapshot_needs_an_allow_for_every_member() {
    let w = Offline::new();
    let sha = w.litellm("1.82.6");
    let unknown = "ab".repeat(32);
    let lock = w.ctx.path("requirements.txt");
    std::fs::write(
        &lock,
        format!("litellm==1.82.6 --hash=sha256:{sha}\nrequests==2.31.0 --hash=sha256:{unknown}\n"),
    )
    .unwrap();
    let run = w.snapshot(T1, "mixed", &lock);
    run.expect(1).reason("snapshot-unvetted");
    assert!(run.all().contains("pkg:pypi/requests@2.31.0"), "{}", run.all());
    assert!(!w.ctx.data.join("snapshots/mixed.json").exists(), "nothing is written");
    // The vetted set alone is taken, signed and anchored.
    let good = w.requirements("good", "1.82.6", &sha);
    w.snapshot(T1, "good", &good).expect(0);
    let shown = w.ward_at(T1, &["snapshot", "show", "good", "--format", "json"]);
    shown.expect(0);
    let v = json_of(&shown);
    assert_eq!(v["verified"], true);
    assert_eq!(v["members"][0]["purl"], "pkg:pypi/litellm@1.82.6");
    assert_eq!(v["members"][0]["sha256"], sha);
    let anchor = v["anchor"].as_u64().unwrap().to_string();
    let event = json_of(&w.ward_at(T1, &["ledger", "show", &anchor]));
    assert_eq!(event["predicate"]["kind"], "snapshot-created");
    assert_eq!(event["subject"][0]["name"], "snapshot:good");
    // A name is never reused.
    w.snapshot(T1, "good", &good).expect(2);
}

#[test]
fn a_tampered_snapshot_is_invalid_and_never_a_target() {
    let w = Offline::new();
    let sha = w.litellm("1.82.6");
    w.snapshot(T1, "good", &w.requirements("good", "1.82.6", &sha))
        .expect(0);
    w.import_malicious();
    let file = w.ctx.data.join("snapshots/good.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(doc["envelope"]["payload"].as_str().unwrap())
        .unwrap();
    let mut body: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    body["members"][0]["sha256"] = serde_json::json!("cd".repeat(32));
    doc["envelope"]["payload"] =
        serde_json::json!(base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&body).unwrap()));
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    w.ward_at(T3, &["snapshot", "show", "good"])
        .expect(1)
        .reason("snapshot-invalid");
    w.ward_at(T3, &["rollback", "plan", "--to", "good"])
        .expect(1)
        .reason("snapshot-invalid");
    let listed = w.ward_at(T3, &["snapshot", "list"]);
    assert!(listed.expect(0).stdout.contains("INVALID"), "{}", listed.stdout);
    // A file that is not a snapshot at all is listed as unreadable, never
    // skipped silently, and is no target either.
    std::fs::write(w.ctx.data.join("snapshots/garbage.json"), b"\x00not json").unwrap();
    let listed = w.ward_at(T3, &["snapshot", "list"]);
    assert!(
        listed.expect(0).stdout.contains("garbage.json  UNREADABLE"),
        "{}",
        listed.stdout
    );
    w.ward_at(T3, &["rollback", "plan", "--to", "garbage"])
        .expect(1)
        .reason("snapshot-invalid");
    w.ward_at(T3, &["rollback", "plan", "--before", T3])
        .expect(1)
        .reason("rollback-no-target");
    // A playbook with a key this version does not know is refused before anything runs.
    let playbook = w.ctx.path("typo.toml");
    std::fs::write(
        &playbook,
        "version = 1\nname = \"t\"\necosystem = \"pypi\"\nenvironment = \"site\"\nsnapshot = \"s\"\n[change]\nrun = [[\"true\"]]\n[rollbak]\nargs = []\n",
    )
    .unwrap();
    let run = w.ward_at(T3, &["playbook", "run", playbook.to_str().unwrap()]);
    assert!(run.expect(2).stderr.contains("rollbak"), "{}", run.stderr);
}

#[test]
fn a_plan_takes_the_newest_set_allowed_then_and_clean_now() {
    let w = Offline::new();
    let good = w.litellm("1.82.6");
    let bad = w.litellm("1.82.7");
    w.snapshot(T1, "before-upgrade", &w.requirements("a", "1.82.6", &good))
        .expect(0);
    w.snapshot(T2, "after-upgrade", &w.requirements("b", "1.82.7", &bad))
        .expect(0);
    // Before the record arrives, the newest set is the upgrade.
    w.ward_at(
        T2,
        &[
            "advisories",
            "import",
            malicious("npm/MAL-2025-46969.json").to_str().unwrap(),
        ],
    )
    .expect(0);
    let run = w.ward_at(T3, &["rollback", "plan", "--before", T3, "--format", "json"]);
    assert_eq!(json_of(run.expect(0))["snapshot"], "after-upgrade");
    // Once litellm 1.82.7 is known malicious, it is passed over, with the reason.
    w.import_malicious();
    let site = w.site("1.82.7");
    let run = w.ward_at(
        T3,
        &[
            "rollback",
            "plan",
            "--before",
            T3,
            "--env",
            site.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let plan = json_of(run.expect(0));
    assert_eq!(plan["snapshot"], "before-upgrade");
    assert_eq!(plan["skipped"][0]["snapshot"], "after-upgrade");
    assert_eq!(plan["skipped"][0]["code"], "rollback-target-malicious");
    assert_eq!(plan["changes"][0]["action"], "replace");
    assert_eq!(plan["changes"][0]["from"], "pkg:pypi/litellm@1.82.7");
    assert_eq!(plan["changes"][0]["to"], "pkg:pypi/litellm@1.82.6");
    // --drop names the advisory; --to a set that now matches it is refused.
    let dropped = w.ward_at(T3, &["rollback", "plan", "--drop", "MAL-2026-2144", "--format", "json"]);
    assert_eq!(json_of(dropped.expect(0))["snapshot"], "before-upgrade");
    w.ward_at(T3, &["rollback", "plan", "--to", "after-upgrade"])
        .expect(1)
        .reason("rollback-target-malicious");
    // Nothing taken before the first snapshot.
    w.ward_at(T3, &["rollback", "plan", "--before", "2026-10-01"])
        .expect(1)
        .reason("rollback-no-target");
}

#[test]
fn apply_names_bytes_missing_from_the_cache_and_changes_nothing() {
    let w = Offline::new();
    let good = w.litellm("1.82.6");
    w.snapshot(T1, "good", &w.requirements("a", "1.82.6", &good)).expect(0);
    w.import_malicious();
    let site = w.site("1.82.7");
    let before = std::fs::read_dir(&site).unwrap().count();
    // `ward verify` keeps no bytes: the proxy cache has none of them.
    let run = w.ward_at(
        T3,
        &["rollback", "apply", "--to", "good", "--env", site.to_str().unwrap()],
    );
    run.expect(1).reason("rollback-bytes-missing");
    assert!(
        run.all().contains(&good) && run.all().contains("litellm-1.82.6-py3-none-any.whl"),
        "{}",
        run.all()
    );
    assert_eq!(std::fs::read_dir(&site).unwrap().count(), before);
    assert!(site.join("litellm-1.82.7.dist-info").is_dir());
    let parent: Vec<_> = std::fs::read_dir(site.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".ward-"))
        .collect();
    assert!(parent.is_empty(), "no staging directory is left behind");
}

#[test]
fn a_set_of_another_ecosystem_than_the_environment_is_a_partial_rollback() {
    let w = Offline::new();
    let chalk = shared().join("npm-neighbours/chalk-5.6.0.tgz");
    w.allow(&chalk);
    let integrity = crate::common::sha512_sri(&std::fs::read(&chalk).unwrap());
    let lock = w.ctx.path("package-lock.json");
    std::fs::write(
        &lock,
        serde_json::json!({"name": "app", "lockfileVersion": 3, "packages": {
            "": {"name": "app", "dependencies": {"chalk": "5.6.0"}},
            "node_modules/chalk": {"version": "5.6.0", "integrity": integrity}}})
        .to_string(),
    )
    .unwrap();
    w.snapshot(T1, "npm-set", &lock).expect(0);
    w.import_malicious();
    let site = w.site("1.82.7");
    w.ward_at(
        T3,
        &["rollback", "apply", "--to", "npm-set", "--env", site.to_str().unwrap()],
    )
    .expect(1)
    .reason("rollback-partial");
    assert!(site.join("litellm-1.82.7.dist-info").is_dir());
}

#[test]
fn a_playbook_that_fails_names_the_step_in_its_signed_report() {
    let w = Offline::new();
    let file = w.ctx.path("broken.toml");
    std::fs::write(
        &file,
        "version = 1\nname = \"broken\"\necosystem = \"pypi\"\nenvironment = \"site\"\nsnapshot = \"s\"\n\n[change]\nrun = [[\"false\"]]\n",
    )
    .unwrap();
    std::fs::create_dir_all(w.ctx.path("work/site")).unwrap();
    let run = w.ward_at(
        T1,
        &[
            "playbook",
            "run",
            file.to_str().unwrap(),
            "--workdir",
            w.ctx.path("work").to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    run.expect(1).reason("playbook-failed");
    let report = json_of(&run);
    // The snapshot of an empty site directory fails first: nothing to record.
    assert_eq!(report["passed"], false);
    let failed: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["ok"] == false)
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 1);
    let event = json_of(&w.ward_at(T1, &["ledger", "show", &report["ledgerIndex"].to_string()]));
    assert_eq!(event["predicate"]["code"], "failed");
    assert_eq!(event["predicate"]["kind"], "playbook-report");
    // An unknown variable stops the playbook before anything runs.
    std::fs::write(
        &file,
        "version = 1\nname = \"vars\"\necosystem = \"pypi\"\nenvironment = \"site\"\nsnapshot = \"s\"\n\n[change]\nrun = [[\"touch\", \"${NOPE}\"]]\n",
    )
    .unwrap();
    w.ward_at(T1, &["playbook", "run", file.to_str().unwrap()]).expect(2);
}

#[test]
fn a_reinstall_that_fails_leaves_the_environment_as_it_was() {
    let w = Offline::new();
    let good = w.litellm("1.82.6");
    w.snapshot(T1, "good", &w.requirements("a", "1.82.6", &good)).expect(0);
    w.import_malicious();
    // The bytes are in the cache, so the reinstall is attempted: with a
    // "python" that fails, it fails in the staging directory.
    let blobs = w.ctx.data.join("proxy-cache/blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::copy(w.files.join("litellm-1.82.6-py3-none-any.whl"), blobs.join(&good)).unwrap();
    let site = w.site("1.82.7");
    let run = w.ward_at(
        T3,
        &[
            "rollback",
            "apply",
            "--to",
            "good",
            "--env",
            site.to_str().unwrap(),
            "--python",
            "false",
        ],
    );
    run.expect(1).reason("rollback-mismatch");
    assert!(run.all().contains("was not changed"), "{}", run.all());
    assert!(site.join("litellm-1.82.7.dist-info").is_dir());
    assert!(!site.join("litellm-1.82.6.dist-info").exists());
    let left: Vec<_> = std::fs::read_dir(site.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".ward-"))
        .collect();
    assert!(left.is_empty(), "no staging directory is left behind");
    // The hash-pinned lockfile was written all the same, for a person to use.
    let plan = w.ward_at(
        T3,
        &[
            "rollback",
            "plan",
            "--to",
            "good",
            "--lockfile-out",
            w.ctx.path("out").to_str().unwrap(),
        ],
    );
    plan.expect(0);
    let lock = std::fs::read_to_string(w.ctx.path("out/requirements.txt")).unwrap();
    assert!(
        lock.contains(&format!("litellm==1.82.6 \\\n    --hash=sha256:{good}")),
        "{lock}"
    );
}

#[test]
fn a_snapshot_signed_with_a_key_of_the_users_verifies_with_that_key() {
    let w = Offline::new();
    let sha = w.litellm("1.82.6");
    let prefix = w.ctx.path("team");
    w.ward_at(T1, &["keygen", "--output", prefix.to_str().unwrap()])
        .expect(0);
    let key = w.ctx.path("team.key");
    let run = w.ward_at(
        T1,
        &[
            "snapshot",
            "create",
            "keyed",
            "--from",
            w.requirements("k", "1.82.6", &sha).to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    run.expect(0);
    assert!(run.stdout.contains("signed by key sha256:"), "{}", run.stdout);
    let v = json_of(&w.ward_at(T1, &["snapshot", "show", "keyed", "--format", "json"]));
    assert_eq!(v["verified"], true);
    assert_eq!(v["signedBy"]["kind"], "key");
}

#[test]
fn a_cargo_set_is_snapshotted_from_its_lockfile_and_written_back_but_not_reinstalled() {
    let w = Offline::new();
    let (krate, sha, lock) = w.locked_crate(
        "demo-crate",
        "1.0.0",
        "\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n",
    );
    w.snapshot(T1, "crates", &lock).expect(0);
    w.import_malicious();
    let blobs = w.ctx.data.join("proxy-cache/blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::copy(&krate, blobs.join(&sha)).unwrap();
    let out = w.ctx.path("out");
    w.ward_at(
        T3,
        &[
            "rollback",
            "plan",
            "--to",
            "crates",
            "--lockfile-out",
            out.to_str().unwrap(),
        ],
    )
    .expect(0);
    let written = std::fs::read_to_string(out.join("Cargo.lock")).unwrap();
    assert!(
        written.contains(&format!("name = \"demo-crate\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sha}\"")),
        "{written}"
    );
    // A vendor directory as `cargo vendor` writes it.
    let vendor = w.ctx.path("vendor");
    std::fs::create_dir_all(vendor.join("demo-crate/src")).unwrap();
    std::fs::write(
        vendor.join("demo-crate/Cargo.toml"),
        stand_in_manifest("demo-crate", "1.0.0"),
    )
    .unwrap();
    std::fs::write(vendor.join("demo-crate/src/lib.rs"), STAND_IN_LIB).unwrap();
    std::fs::write(
        vendor.join("demo-crate/.cargo-checksum.json"),
        serde_json::json!({"files": {}, "package": sha}).to_string(),
    )
    .unwrap();
    w.ward_at(
        T3,
        &["rollback", "apply", "--to", "crates", "--env", vendor.to_str().unwrap()],
    )
    .expect(1)
    .reason("rollback-partial");
}

#[test]
fn a_set_with_a_vulnerability_past_its_remediation_deadline_is_no_target() {
    let w = Offline::new();
    // smallvec 1.6.0 has RUSTSEC-2021-0003 (critical); a stand-in crate of it, allowed at T1.
    let (_, _, lock) = w.locked_crate("smallvec", "1.6.0", "");
    w.snapshot(T1, "with-smallvec", &lock).expect(0);
    // The advisory arrives, and a scan at T1 is the finding's first sighting.
    let rustsec = shared().join("advisories/rustsec");
    w.ward_at(T1, &["advisories", "import", rustsec.to_str().unwrap()])
        .expect(0);
    let scan = w.ward_at(T1, &["scan", "--format", "json", lock.to_str().unwrap()]);
    let found = json_of(&scan);
    let finding = found["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["advisory"] == "RUSTSEC-2021-0003")
        .unwrap_or_else(|| panic!("{}", scan.all()));
    assert_eq!(finding["first_seen"], T1);
    // Critical findings are due within 7 days of their first sighting.
    let policy = w.ctx.path("deadlines.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[[scope]]\npackages = [\"*\"]\nmode = \"warn\"\n\n[remediation]\ncritical = 7\n",
    )
    .unwrap();
    let plan = |at: &str| {
        w.ward_at(
            at,
            &[
                "rollback",
                "plan",
                "--to",
                "with-smallvec",
                "--policy",
                policy.to_str().unwrap(),
            ],
        )
    };
    // Six days later the deadline has not passed: the set is a target.
    plan("2026-11-07T00:00:00Z").expect(0);
    // At T3 (30 days) it has: refused, naming the package, the advisory and the due date.
    let run = plan(T3);
    run.expect(1).reason("rollback-target-overdue");
    assert!(
        run.all()
            .contains("pkg:cargo/smallvec@1.6.0 has RUSTSEC-2021-0003 (due 2026-11-08T00:00:00Z)"),
        "{}",
        run.all()
    );
    // Taken with --before, the set is passed over with the same reason.
    let run = w.ward_at(
        T3,
        &[
            "rollback",
            "plan",
            "--before",
            T3,
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    run.expect(1).reason("rollback-no-target");
}
