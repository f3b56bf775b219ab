//! `ward proxy` and `ward run` with the real clients: pip, npm and cargo
//! install through the proxy from upstream registries laid out on disk (a
//! directory of distributions, verdaccio's storage layout, a sparse index),
//! populated with packages these tests build and sign. Allowed packages
//! install; tampered ones fail with ward's reason in the client's output.
//!
//! The clients are required when `WARD_REQUIRE_CLIENTS=1` (set by
//! scripts/test.sh, which installs them); elsewhere a missing client skips.

use crate::common::{Entry, FakeRegistry, ProxyOptions, Publisher, TestContext, read_banner, sha512_sri, tgz, zip};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Upstream registries on disk, and the key their packages are signed with.
pub(crate) struct Registries {
    pub publisher: Publisher,
    pub pypi: PathBuf,
    pub npm: PathBuf,
    pub cargo: PathBuf,
    pub policy: PathBuf,
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

impl Registries {
    pub(crate) fn new() -> Self {
        let publisher = Publisher::new("ecdsa-p256");
        let root = publisher.path("upstream");
        let (pypi, npm, cargo) = (root.join("pypi"), root.join("npm"), root.join("cargo"));
        for d in [&pypi, &npm, &cargo] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(
            cargo.join("config.json"),
            br#"{"dl": "unused-for-a-directory-upstream"}"#,
        )
        .unwrap();
        std::fs::copy(&publisher.public, publisher.path("release.pub")).unwrap();
        let policy = publisher.path("ward.toml");
        std::fs::write(
            &policy,
            "version = 1\n\n[[scope]]\nname = \"our packages\"\npackages = [\"*\"]\nkeys = [\"release.pub\"]\n",
        )
        .unwrap();
        Self {
            publisher,
            pypi,
            npm,
            cargo,
            policy,
        }
    }

    fn sign(&self, path: &Path) {
        self.publisher
            .ctx
            .ward([
                "sign",
                "--key",
                self.publisher.key.to_str().unwrap(),
                path.to_str().unwrap(),
            ])
            .expect(0);
    }

    /// Signs `good`, then (when tampering) writes `bad` over it: the
    /// signature no longer matches, as after a compromised upload.
    fn finish(&self, path: &Path, tamper: Option<&dyn Fn(&Path)>) {
        self.sign(path);
        if let Some(t) = tamper {
            t(path);
        }
    }

    /// A pure-Python wheel `NAME-VERSION-py3-none-any.whl`.
    pub(crate) fn wheel(&self, name: &str, version: &str, tamper: bool) -> PathBuf {
        let module = name.replace('-', "_");
        let path = self.pypi.join(format!("{module}-{version}-py3-none-any.whl"));
        let write = |p: &Path, body: &str| {
            let metadata =
                format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense-Expression: MIT\n\n");
            let wheel = "Wheel-Version: 1.0\nGenerator: ward-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
            let init = format!("VALUE = {body:?}\n");
            let record = format!(
                "{module}/__init__.py,,\n{module}-{version}.dist-info/METADATA,,\n{module}-{version}.dist-info/WHEEL,,\n{module}-{version}.dist-info/RECORD,,\n"
            );
            zip(
                p,
                &[
                    (&format!("{module}/__init__.py"), init.as_bytes()),
                    (&format!("{module}-{version}.dist-info/METADATA"), metadata.as_bytes()),
                    (&format!("{module}-{version}.dist-info/WHEEL"), wheel.as_bytes()),
                    (&format!("{module}-{version}.dist-info/RECORD"), record.as_bytes()),
                ],
            );
        };
        write(&path, "genuine");
        let tampered = |p: &Path| write(p, "tampered");
        self.finish(&path, tamper.then_some(&tampered as &dyn Fn(&Path)));
        path
    }

    /// An npm package in verdaccio's storage layout: `NAME/package.json` and the tarball.
    pub(crate) fn npm_package(&self, name: &str, version: &str, tamper: bool) -> PathBuf {
        let dir = self.npm.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let file = format!("{name}-{version}.tgz");
        let path = dir.join(&file);
        let write = |p: &Path, body: &str| {
            let manifest = format!(
                "{{\"name\": \"{name}\", \"version\": \"{version}\", \"license\": \"MIT\", \"main\": \"index.js\"}}"
            );
            let index = format!("module.exports = {body:?};\n");
            tgz(
                p,
                &[
                    Entry::File("package/package.json", manifest.as_bytes()),
                    Entry::File("package/index.js", index.as_bytes()),
                ],
            );
        };
        write(&path, "genuine");
        let tampered = |p: &Path| write(p, "tampered");
        self.finish(&path, tamper.then_some(&tampered as &dyn Fn(&Path)));
        // The packument lists the bytes upstream now has, as a compromised registry would.
        let bytes = std::fs::read(&path).unwrap();
        let packument = serde_json::json!({
            "name": name,
            "dist-tags": {"latest": version},
            "versions": {version: {
                "name": name, "version": version,
                "dist": {"tarball": format!("http://upstream.invalid/{name}/-/{file}"), "integrity": sha512_sri(&bytes)},
            }},
        });
        std::fs::write(dir.join("package.json"), serde_json::to_vec_pretty(&packument).unwrap()).unwrap();
        path
    }

    /// A library crate in a sparse index directory (`crates/NAME/NAME-VERSION.crate`).
    pub(crate) fn crate_file(&self, name: &str, version: &str, tamper: bool) -> PathBuf {
        let dir = self.cargo.join("crates").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}-{version}.crate"));
        let write = |p: &Path, body: &str| {
            let manifest = format!(
                "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\nlicense = \"MIT\"\ndescription = \"test crate\"\n\n[lib]\npath = \"src/lib.rs\"\n"
            );
            let lib = format!("pub const VALUE: &str = {body:?};\n");
            tgz(
                p,
                &[
                    Entry::File(&format!("{name}-{version}/Cargo.toml"), manifest.as_bytes()),
                    Entry::File(&format!("{name}-{version}/src/lib.rs"), lib.as_bytes()),
                ],
            );
        };
        write(&path, "genuine");
        let tampered = |p: &Path| write(p, "tampered");
        self.finish(&path, tamper.then_some(&tampered as &dyn Fn(&Path)));
        let bytes = std::fs::read(&path).unwrap();
        let line = serde_json::json!({"name": name, "vers": version, "deps": [], "cksum": sha256_hex(&bytes), "features": {}, "yanked": false});
        let n = name.to_ascii_lowercase();
        let index = match n.len() {
            1 => self.cargo.join("1").join(&n),
            2 => self.cargo.join("2").join(&n),
            3 => self.cargo.join("3").join(&n[..1]).join(&n),
            _ => self.cargo.join(&n[..2]).join(&n[2..4]).join(&n),
        };
        std::fs::create_dir_all(index.parent().unwrap()).unwrap();
        std::fs::write(&index, format!("{line}\n")).unwrap();
        path
    }

    /// A proxy of these registries under this policy.
    pub(crate) fn proxy_options(&self) -> ProxyOptions {
        ProxyOptions::new().args(self.upstream_args())
    }

    /// The same as arguments (of `ward run`, which starts its own proxy).
    pub(crate) fn upstream_args(&self) -> Vec<String> {
        vec![
            "--pypi-upstream".into(),
            self.pypi.display().to_string(),
            "--npm-upstream".into(),
            self.npm.display().to_string(),
            "--cargo-upstream".into(),
            self.cargo.display().to_string(),
            "--policy".into(),
            self.policy.display().to_string(),
        ]
    }
}

/// Whether a client program is available; with `WARD_REQUIRE_CLIENTS=1` a
/// missing one fails the test instead of skipping it.
#[allow(clippy::print_stderr)]
pub(crate) fn have(program: &str, version_arg: &str) -> bool {
    let ok = Command::new(program)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("WARD_REQUIRE_CLIENTS").is_none(),
            "{program} is required (WARD_REQUIRE_CLIENTS is set) but not installed; run scripts/clients.sh"
        );
        eprintln!("{program} is not installed: skipped");
    }
    ok
}

pub(crate) struct Output {
    pub ok: bool,
    pub text: String,
}

pub(crate) fn client(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run client");
    Output {
        ok: out.status.success(),
        text: format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

pub(crate) fn pip(base: &str, target: &Path, requirement: &str) -> Output {
    pip_with(base, target, &[requirement])
}

/// `pip install` through the proxy at `base` into `target`, with these
/// requirements and options.
pub(crate) fn pip_with(base: &str, target: &Path, args: &[&str]) -> Output {
    client(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .args(["--index-url", &format!("{base}/pypi/simple/")])
            .arg("--target")
            .arg(target)
            .args(args)
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env_remove("PIP_FIND_LINKS")
            .env_remove("PIP_INDEX_URL")
            .env_remove("PIP_EXTRA_INDEX_URL"),
    )
}

/// `npm install` through the proxy at `base` into `prefix`.
pub(crate) fn npm(base: &str, prefix: &Path, spec: &str) -> Output {
    std::fs::create_dir_all(prefix).unwrap();
    client(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-update-notifier",
                "--ignore-scripts",
            ])
            .args(["--registry", &format!("{base}/npm/")])
            .arg("--prefix")
            .arg(prefix)
            .arg("--cache")
            .arg(prefix.join(".npm-cache"))
            .arg(spec)
            .env("npm_config_userconfig", "/dev/null"),
    )
}

/// A cargo project depending on `dep = "=VERSION"`, with crates-io replaced by the proxy.
fn cargo_project(dir: &Path, base: &str, dep: &str, version: &str) -> PathBuf {
    let project = dir.join(format!("uses-{dep}"));
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::create_dir_all(project.join(".cargo")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        format!("[package]\nname = \"uses-{dep}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{dep} = \"={version}\"\n\n[workspace]\n"),
    )
    .unwrap();
    let module = dep.replace('-', "_");
    std::fs::write(
        project.join("src/main.rs"),
        format!("fn main() {{ println!(\"{{}}\", {module}::VALUE); }}\n"),
    )
    .unwrap();
    std::fs::write(
        project.join(".cargo/config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"ward\"\n\n[source.ward]\nregistry = \"sparse+{base}/cargo/index/\"\n"
        ),
    )
    .unwrap();
    project
}

fn cargo(project: &Path, home: &Path, args: &[&str]) -> Output {
    client(
        Command::new("cargo")
            .args(args)
            .current_dir(project)
            .env("CARGO_HOME", home)
            .env("CARGO_TARGET_DIR", project.join("target"))
            .env("CARGO_NET_RETRY", "0")
            .env_remove("RUSTC_WRAPPER"),
    )
}

/// The ledger's size, from its signed checkpoint file.
pub(crate) fn ledger_size(data: &Path) -> u64 {
    let text = std::fs::read_to_string(data.join("ledger/checkpoint")).unwrap_or_default();
    text.lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no size in checkpoint: {text}"))
}

#[test]
fn pip_installs_allowed_wheels_and_shows_the_reason_for_refused_ones() {
    let ctx = TestContext::new();
    if !have("python3", "--version") {
        return;
    }
    let reg = Registries::new();
    reg.wheel("demo-pkg", "1.0.0", false);
    reg.wheel("evil-pkg", "1.0.0", true);
    let data = reg.publisher.path("data");
    let proxy = ctx.proxy(reg.proxy_options().data(&data));
    let target = reg.publisher.path("site");
    let ok = pip(&proxy.base, &target, "demo-pkg==1.0.0");
    assert!(ok.ok, "{}", ok.text);
    assert!(target.join("demo_pkg/__init__.py").is_file());
    let refused = pip(&proxy.base, &reg.publisher.path("site2"), "evil-pkg==1.0.0");
    assert!(!refused.ok, "{}", refused.text);
    assert!(
        refused.text.contains("403") && refused.text.contains("ward: artifact-digest-mismatch"),
        "pip's output should carry ward's reason:\n{}",
        refused.text
    );
    // Both decisions are in the ledger, which can be read and verified
    // while the proxy holds its writer's lock.
    assert_eq!(ledger_size(&data), 2);
    ctx.ward_in(&data, ["ledger", "verify"]).expect(0);
    let shown = ctx.ward_in(&data, ["ledger", "show", "1"]);
    shown.expect(0);
    assert!(
        shown.stdout.contains("pkg:pypi/evil-pkg@1.0.0") && shown.stdout.contains("FAILED"),
        "{}",
        shown.stdout
    );
    // The second install is served from the cache: no new decision.
    let again = pip(&proxy.base, &reg.publisher.path("site3"), "demo-pkg==1.0.0");
    assert!(again.ok, "{}", again.text);
    assert_eq!(ledger_size(&data), 2);
    drop(proxy);

    // The wheel is replaced upstream by other bytes, validly signed. A proxy
    // with an empty cache fetches them, and the ledger's earlier allow of
    // this file refuses them, although the registry names no package.
    let wheel = reg.wheel("demo-pkg", "1.0.0", true);
    reg.sign(&wheel);
    let proxy = ctx.proxy(reg.proxy_options().data(&data).cache(reg.publisher.path("fresh-cache")));
    let changed = pip(&proxy.base, &reg.publisher.path("site4"), "demo-pkg==1.0.0");
    assert!(!changed.ok);
    assert!(changed.text.contains("ward: release-changed"), "{}", changed.text);
}

#[test]
fn npm_installs_allowed_tarballs_and_shows_the_reason_for_refused_ones() {
    let ctx = TestContext::new();
    if !have("npm", "--version") {
        return;
    }
    let reg = Registries::new();
    reg.npm_package("demo-pkg", "1.0.0", false);
    reg.npm_package("evil-pkg", "1.0.0", true);
    let data = reg.publisher.path("data");
    let proxy = ctx.proxy(reg.proxy_options().data(&data));
    let prefix = reg.publisher.path("app");
    let ok = npm(&proxy.base, &prefix, "demo-pkg@1.0.0");
    assert!(ok.ok, "{}", ok.text);
    assert!(prefix.join("node_modules/demo-pkg/index.js").is_file());
    let refused = npm(&proxy.base, &reg.publisher.path("app2"), "evil-pkg@1.0.0");
    assert!(!refused.ok, "{}", refused.text);
    assert!(
        refused.text.contains("403") && refused.text.contains("ward: "),
        "npm's output should carry ward's reason:\n{}",
        refused.text
    );
    assert_eq!(ledger_size(&data), 2);
}

#[test]
fn cargo_builds_with_allowed_crates_and_shows_the_reason_for_refused_ones() {
    let ctx = TestContext::new();
    if !have("cargo", "--version") {
        return;
    }
    let reg = Registries::new();
    reg.crate_file("demo-crate", "1.0.0", false);
    reg.crate_file("evil-crate", "1.0.0", true);
    let data = reg.publisher.path("data");
    let proxy = ctx.proxy(reg.proxy_options().data(&data));
    let home = reg.publisher.path("cargo-home");
    let good = cargo_project(&reg.publisher.path("work"), &proxy.base, "demo-crate", "1.0.0");
    let fetched = cargo(&good, &home, &["fetch"]);
    assert!(fetched.ok, "{}", fetched.text);
    let built = cargo(&good, &home, &["run", "--offline", "-q"]);
    assert!(built.ok && built.text.contains("genuine"), "{}", built.text);
    let bad = cargo_project(&reg.publisher.path("work"), &proxy.base, "evil-crate", "1.0.0");
    let refused = cargo(&bad, &home, &["fetch"]);
    assert!(!refused.ok, "{}", refused.text);
    assert!(
        refused.text.contains("403") && refused.text.contains("ward: "),
        "cargo's output should carry ward's reason:\n{}",
        refused.text
    );
    assert_eq!(ledger_size(&data), 2);
    // The refused version stays in the index it serves now, marked yanked
    // (so cargo resolves to another version); index files carry an ETag,
    // and a matching If-None-Match gets 304.
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let evil = agent
        .get(&format!("{}/cargo/index/ev/il/evil-crate", proxy.base))
        .call()
        .unwrap();
    assert_eq!(evil.status(), 200);
    let body = evil.into_body().read_to_string().unwrap();
    let line: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    assert_eq!(
        (line["vers"].as_str(), line["yanked"].as_bool()),
        (Some("1.0.0"), Some(true))
    );
    // And cargo, asked again, says the version is yanked instead of fetching it.
    std::fs::remove_file(bad.join("Cargo.lock")).ok();
    let yanked = cargo(&bad, &home, &["fetch"]);
    assert!(!yanked.ok && yanked.text.contains("yanked"), "{}", yanked.text);
    assert_eq!(ledger_size(&data), 2);
    let demo = format!("{}/cargo/index/de/mo/demo-crate", proxy.base);
    let first = agent.get(&demo).call().unwrap();
    let etag = first.headers().get("etag").unwrap().to_str().unwrap().to_string();
    let again = agent.get(&demo).header("If-None-Match", &etag).call().unwrap();
    assert_eq!(again.status(), 304);
}

#[test]
fn pip_sees_a_refused_version_as_yanked_with_the_reason_even_after_a_restart() {
    let ctx = TestContext::new();
    if !have("python3", "--version") {
        return;
    }
    let reg = Registries::new();
    reg.wheel("evil-pkg", "0.9.0", false);
    let refused_wheel = reg.wheel("evil-pkg", "1.0.0", true);
    // Its PEP 658 metadata beside it, as PyPI serves for every wheel: pip
    // resolves from that, so it reads the listing's yanked mark before it
    // downloads the wheel.
    std::fs::write(
        format!("{}.metadata", refused_wheel.display()),
        "Metadata-Version: 2.1\nName: evil-pkg\nVersion: 1.0.0\nLicense-Expression: MIT\n\n",
    )
    .unwrap();
    let data = reg.publisher.path("data");
    let proxy = ctx.proxy(reg.proxy_options().data(&data));
    let refused = pip(&proxy.base, &reg.publisher.path("site1"), "evil-pkg==1.0.0");
    assert!(!refused.ok && refused.text.contains("403"), "{}", refused.text);
    assert_eq!(ledger_size(&data), 1);
    // Asked again, pip sees the version yanked with ward's reason (PEP 592)
    // and prints it; the download is still refused, from memory.
    let again = pip(&proxy.base, &reg.publisher.path("site2"), "evil-pkg==1.0.0");
    assert!(!again.ok, "{}", again.text);
    assert!(
        again.text.contains("yanked") && again.text.contains("ward: refused: artifact-digest-mismatch"),
        "pip should show ward's reason for the yanked version:\n{}",
        again.text
    );
    assert_eq!(ledger_size(&data), 1);
    // Unpinned, pip resolves to the version that is not refused.
    let site = reg.publisher.path("site3");
    let other = pip(&proxy.base, &site, "evil-pkg");
    assert!(other.ok, "{}", other.text);
    assert!(site.join("evil_pkg-0.9.0.dist-info").is_dir(), "{}", other.text);
    assert_eq!(ledger_size(&data), 2);
    drop(proxy);

    // Restarted: the refusal is remembered (by digest, under the same
    // policy), in both page formats, and its download is not fetched or
    // recorded again.
    let proxy = ctx.proxy(reg.proxy_options().data(&data));
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let page = format!("{}/pypi/simple/evil-pkg/", proxy.base);
    let html = agent.get(&page).call().unwrap().into_body().read_to_string().unwrap();
    let refused_link = html.lines().find(|l| l.contains("evil_pkg-1.0.0")).unwrap();
    assert!(
        refused_link.contains("data-yanked=\"ward: refused: artifact-digest-mismatch"),
        "{html}"
    );
    assert!(
        !html
            .lines()
            .find(|l| l.contains("evil_pkg-0.9.0"))
            .unwrap()
            .contains("data-yanked")
    );
    let json = agent
        .get(&page)
        .header("Accept", "application/vnd.pypi.simple.v1+json")
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let files = json["files"].as_array().unwrap();
    let yanked = |name: &str| files.iter().find(|f| f["filename"] == name).unwrap()["yanked"].clone();
    assert!(
        yanked("evil_pkg-1.0.0-py3-none-any.whl")
            .as_str()
            .is_some_and(|r| r.starts_with("ward: refused: artifact-digest-mismatch")),
        "{json}"
    );
    assert!(yanked("evil_pkg-0.9.0-py3-none-any.whl").is_null());
    let again = pip(&proxy.base, &reg.publisher.path("site4"), "evil-pkg==1.0.0");
    assert!(
        !again.ok && again.text.contains("403") && again.text.contains("ward: refused: artifact-digest-mismatch"),
        "{}",
        again.text
    );
    assert_eq!(ledger_size(&data), 2, "a remembered refusal is not recorded again");
}

#[test]
fn npm_sees_a_refused_version_as_deprecated_with_the_reason_and_picks_another() {
    let ctx = TestContext::new();
    if !have("npm", "--version") {
        return;
    }
    let reg = Registries::new();
    reg.npm_package("evil-pkg", "0.9.0", false);
    let older: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reg.npm.join("evil-pkg/package.json")).unwrap()).unwrap();
    reg.npm_package("evil-pkg", "1.0.0", true);
    // One packument with both versions; `latest` is the refused one.
    let packument_path = reg.npm.join("evil-pkg/package.json");
    let mut packument: serde_json::Value = serde_json::from_slice(&std::fs::read(&packument_path).unwrap()).unwrap();
    packument["versions"]["0.9.0"] = older["versions"]["0.9.0"].clone();
    std::fs::write(&packument_path, serde_json::to_vec(&packument).unwrap()).unwrap();
    let data = reg.publisher.path("data");
    let proxy = ctx.proxy(reg.proxy_options().data(&data));
    let refused = npm(&proxy.base, &reg.publisher.path("app1"), "evil-pkg@1.0.0");
    assert!(!refused.ok && refused.text.contains("403"), "{}", refused.text);
    // npm shows the version as deprecated with ward's reason...
    let cache = reg.publisher.path("view-cache");
    let view = client(
        Command::new("npm")
            .args(["view", "evil-pkg@1.0.0", "deprecated", "--no-update-notifier"])
            .args(["--registry", &format!("{}/npm/", proxy.base)])
            .arg("--cache")
            .arg(&cache)
            .env("npm_config_userconfig", "/dev/null"),
    );
    assert!(
        view.ok && view.text.contains("ward: refused: artifact-digest-mismatch"),
        "npm should show ward's reason for the deprecated version:\n{}",
        view.text
    );
    // ...and, asked for the package with no version, resolves past it to
    // the one that is not refused, although `latest` names the refused one.
    let prefix = reg.publisher.path("app2");
    let other = npm(&proxy.base, &prefix, "evil-pkg");
    assert!(other.ok, "{}", other.text);
    let installed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(prefix.join("node_modules/evil-pkg/package.json")).unwrap()).unwrap();
    assert_eq!(installed["version"], "0.9.0");
    // The refused download still answers 403 with the reason.
    let again = npm(&proxy.base, &reg.publisher.path("app3"), "evil-pkg@1.0.0");
    assert!(
        !again.ok && again.text.contains("ward: artifact-digest-mismatch"),
        "{}",
        again.text
    );
    assert_eq!(ledger_size(&data), 2);
}

/// `ward run -- COMMAND` with a proxy of its own, as in CI.
fn ward_run(reg: &Registries, data: &Path, command: &[&str], dir: &Path, env: &[(&str, &Path)]) -> Output {
    let ctx = TestContext::new();
    let mut cmd = ctx.command_in(data);
    cmd.arg("run")
        .args(reg.upstream_args())
        .arg("--")
        .args(command)
        .current_dir(dir)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("npm_config_userconfig", "/dev/null")
        .env("CARGO_NET_RETRY", "0")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_INDEX_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    client(&mut cmd)
}

#[test]
fn ward_run_gates_pip_npm_and_cargo_and_passes_their_exit_status_on() {
    let reg = Registries::new();
    reg.wheel("demo-pkg", "1.0.0", false);
    reg.wheel("evil-pkg", "1.0.0", true);
    reg.npm_package("demo-pkg", "1.0.0", false);
    reg.crate_file("demo-crate", "1.0.0", false);
    reg.crate_file("evil-crate", "1.0.0", true);
    let data = reg.publisher.path("data");
    let work = reg.publisher.path("work");
    std::fs::create_dir_all(&work).unwrap();
    if have("python3", "--version") {
        let target = work.join("site");
        let t = target.to_str().unwrap();
        let pip = ["python3", "-m", "pip", "install", "--no-cache-dir", "--target", t];
        let ok = ward_run(&reg, &data, &[&pip[..], &["demo-pkg==1.0.0"]].concat(), &work, &[]);
        assert!(ok.ok, "{}", ok.text);
        assert!(target.join("demo_pkg/__init__.py").is_file());
        let refused = ward_run(&reg, &data, &[&pip[..], &["evil-pkg==1.0.0"]].concat(), &work, &[]);
        assert!(!refused.ok);
        assert!(
            refused.text.contains("ward: artifact-digest-mismatch"),
            "{}",
            refused.text
        );
        // After pip's own words, ward's summary names the refusal.
        assert!(
            refused
                .text
                .contains("ward: refused pkg:pypi/evil-pkg@1.0.0: artifact-digest-mismatch ("),
            "{}",
            refused.text
        );
    }
    if have("npm", "--version") {
        let app = work.join("app");
        std::fs::create_dir_all(&app).unwrap();
        let cache = app.join(".npm-cache");
        let ok = ward_run(
            &reg,
            &data,
            &[
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--cache",
                cache.to_str().unwrap(),
                "demo-pkg@1.0.0",
            ],
            &app,
            &[],
        );
        assert!(ok.ok, "{}", ok.text);
        assert!(app.join("node_modules/demo-pkg/index.js").is_file());
    }
    if have("cargo", "--version") {
        // No .cargo/config.toml here: ward run points cargo at the proxy itself.
        let project = work.join("uses-demo");
        std::fs::create_dir_all(project.join("src")).unwrap();
        let manifest = |dep: &str| {
            format!(
                "[package]\nname = \"uses\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{dep} = \"=1.0.0\"\n\n[workspace]\n"
            )
        };
        std::fs::write(project.join("Cargo.toml"), manifest("demo-crate")).unwrap();
        std::fs::write(
            project.join("src/main.rs"),
            "fn main() { println!(\"{}\", demo_crate::VALUE); }\n",
        )
        .unwrap();
        let target = project.join("target");
        let env = [("CARGO_TARGET_DIR", target.as_path())];
        let ok = ward_run(&reg, &data, &["cargo", "run", "-q"], &project, &env);
        assert!(ok.ok && ok.text.contains("genuine"), "{}", ok.text);
        std::fs::write(project.join("Cargo.toml"), manifest("evil-crate")).unwrap();
        std::fs::write(project.join("src/main.rs"), "fn main() {}\n").unwrap();
        let refused = ward_run(&reg, &data, &["cargo", "fetch"], &project, &env);
        assert!(!refused.ok);
        assert!(
            refused.text.contains("ward: artifact-digest-mismatch"),
            "{}",
            refused.text
        );
    }
    // The command's own exit status comes back.
    let status = ward_run(&reg, &data, &["sh", "-c", "exit 7"], &work, &[]);
    assert!(!status.ok);
    let code = TestContext::new()
        .command_in(&data)
        .args(["run", "--", "sh", "-c", "test -n \"$PIP_INDEX_URL\" && exit 3"])
        .status()
        .unwrap()
        .code();
    assert_eq!(code, Some(3), "the clients' environment points at the proxy");
}

#[test]
fn pip_installs_through_the_proxy_from_a_remote_pep_503_index() {
    let ctx = TestContext::new();
    if !have("python3", "--version") {
        return;
    }
    let reg = Registries::new();
    let good = reg.wheel("demo-pkg", "1.0.0", false);
    let bad = reg.wheel("evil-pkg", "1.0.0", true);
    // A PEP 503 tree: simple/<project>/index.html linking ../../files/<file>#sha256=…
    let root = reg.publisher.path("remote");
    let files = root.join("files");
    std::fs::create_dir_all(&files).unwrap();
    for (project, wheel) in [("demo-pkg", &good), ("evil-pkg", &bad)] {
        let name = wheel.file_name().unwrap().to_str().unwrap().to_string();
        std::fs::copy(wheel, files.join(&name)).unwrap();
        let sidecar = format!("{}.sigstore.json", wheel.display());
        std::fs::copy(&sidecar, files.join(format!("{name}.sigstore.json"))).unwrap();
        let sha = sha256_hex(&std::fs::read(wheel).unwrap());
        let page = root.join("simple").join(project);
        std::fs::create_dir_all(&page).unwrap();
        std::fs::write(
            page.join("index.html"),
            format!("<!DOCTYPE html><html><body><a href=\"../../files/{name}#sha256={sha}\" data-requires-python=\"&gt;=3.7\">{name}</a></body></html>"),
        )
        .unwrap();
    }
    let index = FakeRegistry::start();
    index.put_dir(&root);
    let data = reg.publisher.path("data");
    let proxy = ctx.proxy(
        ProxyOptions::new()
            .data(&data)
            .pypi(index.base())
            .probe("pypi")
            .policy(&reg.policy),
    );
    // The page the proxy serves, in both forms.
    let html = client(Command::new("python3").args([
        "-c",
        &format!(
            "import urllib.request as u; print(u.urlopen('{}/pypi/simple/demo-pkg/').read().decode())",
            proxy.base
        ),
    ]));
    assert!(
        html.text.contains("#sha256=") && html.text.contains("data-requires-python=\"&gt;=3.7\""),
        "{}",
        html.text
    );
    let ok = pip(&proxy.base, &reg.publisher.path("site"), "demo-pkg==1.0.0");
    assert!(ok.ok, "{}", ok.text);
    let refused = pip(&proxy.base, &reg.publisher.path("site2"), "evil-pkg==1.0.0");
    assert!(!refused.ok);
    assert!(
        refused.text.contains("ward: artifact-digest-mismatch"),
        "{}",
        refused.text
    );
}

/// `ward run ARGS -- sh -c SCRIPT` with the registries on disk.
fn ward_run_sh(
    reg: &Registries,
    data: &Path,
    args: &[&str],
    script: &str,
    env: &[(&str, &str)],
) -> std::process::Output {
    let ctx = TestContext::new();
    let mut cmd = ctx.command_in(data);
    cmd.arg("run")
        .args(reg.upstream_args())
        .args(args)
        .args(["--", "sh", "-c", script]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn ward_run_summarises_allowed_and_refused_artifacts_after_the_command() {
    if !have("curl", "--version") {
        return;
    }
    let reg = Registries::new();
    reg.npm_package("demo-pkg", "1.0.0", false);
    reg.npm_package("evil-pkg", "1.0.0", true);
    let data = reg.publisher.path("data");
    let script = "for p in demo-pkg evil-pkg; do curl -s -o /dev/null \"${npm_config_registry}$p/-/$p-1.0.0.tgz\"; done; echo done";
    let out = ward_run_sh(&reg, &data, &["--listen", "127.0.0.1:0"], script, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success() && stdout.contains("done"), "{stdout}{stderr}");
    assert!(
        stderr.contains("ward: 1 allowed, 0 warned, 1 refused, 0 failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ward: refused pkg:npm/evil-pkg@1.0.0: artifact-digest-mismatch ("),
        "{stderr}"
    );
    // The summary comes after the command's own output ends.
    assert!(!stderr.contains("demo-pkg"), "allows are counted, not listed: {stderr}");
}

#[test]
fn ward_run_listens_on_a_stable_per_user_port_or_where_it_is_told() {
    let reg = Registries::new();
    let data = reg.publisher.path("data");
    let uid: u32 = text(&Command::new("id").arg("-u").output().unwrap().stdout)
        .trim()
        .parse()
        .unwrap();
    let default = format!("http://127.0.0.1:{}/npm/", 20000 + uid % 10000);
    let registry = |args: &[&str]| {
        let out = ward_run_sh(&reg, &data, args, "echo \"$npm_config_registry\"", &[]);
        (
            text(&out.stdout).trim().to_string(),
            text(&out.stderr),
            out.status.code(),
        )
    };
    let (first, err1, _) = registry(&[]);
    let (second, err2, _) = registry(&[]);
    // Another test's ward run may hold the port this moment: then ward says so.
    if !err1.contains("is busy") && !err2.contains("is busy") {
        assert_eq!(first, default, "{err1}");
        assert_eq!(second, default, "{err2}");
    } else {
        assert!(err1.contains("is busy") || first == default, "{err1}");
    }
    // --listen and `listen` in the config are honoured.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let (told, err, _) = registry(&["--listen", &format!("127.0.0.1:{port}")]);
    assert_eq!(told, format!("http://127.0.0.1:{port}/npm/"), "{err}");
    let config = reg.publisher.path("run.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\n")).unwrap();
    let (configured, err, _) = registry(&["--config", config.to_str().unwrap()]);
    assert_eq!(configured, format!("http://127.0.0.1:{port}/npm/"), "{err}");
    // A busy address that was asked for is a usage error naming it.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let (_, err, code) = registry(&["--listen", &addr]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot listen on {addr}")) && err.contains("--listen"),
        "{err}"
    );
}

#[test]
fn ward_run_clears_variables_that_add_other_package_sources() {
    let reg = Registries::new();
    let data = reg.publisher.path("data");
    let out = ward_run_sh(
        &reg,
        &data,
        &["--listen", "127.0.0.1:0"],
        "echo \"[$PIP_EXTRA_INDEX_URL][$PIP_FIND_LINKS][$UV_EXTRA_INDEX_URL][$UV_FIND_LINKS]\"; env | grep -c 'npm_config_@corp' || true; echo \"$PIP_INDEX_URL\"",
        &[
            ("PIP_EXTRA_INDEX_URL", "https://pypi.org/simple"),
            ("PIP_FIND_LINKS", "/tmp/wheels"),
            ("UV_EXTRA_INDEX_URL", "https://pypi.org/simple"),
            ("UV_FIND_LINKS", "/tmp/wheels"),
            ("npm_config_@corp:registry", "https://registry.npmjs.org/"),
            ("PIP_INDEX_URL", "https://pypi.org/simple"),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "[][][][]", "{stdout}{stderr}");
    assert_eq!(lines[1], "0", "{stdout}");
    assert!(
        lines[2].starts_with("http://127.0.0.1:") && lines[2].ends_with("/pypi/simple/"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "ward: cleared PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, UV_EXTRA_INDEX_URL, UV_FIND_LINKS, npm_config_@corp:registry"
        ),
        "{stderr}"
    );
}

#[test]
fn sigterm_to_ward_run_reaches_the_command_and_leaves_no_temporary_cargo_home() {
    let reg = Registries::new();
    let data = reg.publisher.path("data");
    let mark = reg.publisher.path("got-term");
    let home_file = reg.publisher.path("cargo-home");
    let script = format!(
        "trap 'echo term > {m}; exit 7' TERM; echo \"$CARGO_HOME\" > {h}; while true; do sleep 0.05; done",
        m = mark.display(),
        h = home_file.display()
    );
    let ctx = TestContext::new();
    let mut child = ctx
        .command_in(&data)
        .arg("run")
        .args(reg.upstream_args())
        .args(["--listen", "127.0.0.1:0", "--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_to_string(&home_file).is_ok_and(|t| t.ends_with('\n')) {
        assert!(std::time::Instant::now() < until, "the command did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let home = PathBuf::from(std::fs::read_to_string(&home_file).unwrap().trim());
    assert!(home.join("config.toml").is_file());
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(7), "ward run passes the command's exit status on");
    assert_eq!(std::fs::read_to_string(&mark).unwrap().trim(), "term");
    assert!(!home.exists(), "{} left behind", home.display());
}

/// A loopback port that counts the connections made to it (and answers none):
/// the "other index" a configuration file names.
fn counting_port() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = std::sync::Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, count)
}

#[test]
fn ward_run_overrides_client_configuration_files_that_add_other_sources() {
    use std::sync::atomic::Ordering;
    let reg = Registries::new();
    let data = reg.publisher.path("data");
    let work = reg.publisher.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let (port, elsewhere) = counting_port();
    let other = format!("http://127.0.0.1:{port}");

    // pip: extra-index-url and find-links in pip.conf.
    if have("python3", "--version") {
        let conf = work.join("pip.conf");
        std::fs::write(
            &conf,
            format!("[global]\nextra-index-url = {other}/simple/\n\n[install]\nfind-links = {other}/wheels/\n"),
        )
        .unwrap();
        let target = work.join("site");
        let out = ward_run(
            &reg,
            &data,
            &[
                "python3",
                "-m",
                "pip",
                "install",
                "--no-cache-dir",
                "--target",
                target.to_str().unwrap(),
                "bypass-pkg",
            ],
            &work,
            &[("PIP_CONFIG_FILE", &conf)],
        );
        assert!(!out.ok, "{}", out.text);
        assert!(
            out.text.contains(&format!(
                "ward: overrode extra-index-url, find-links in {}",
                conf.display()
            )),
            "{}",
            out.text
        );
        assert_eq!(
            elsewhere.load(Ordering::SeqCst),
            0,
            "pip reached the other index:\n{}",
            out.text
        );
    }

    // npm: a per-scope registry in the project's .npmrc.
    if have("npm", "--version") {
        let project = work.join("app");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(
            project.join("package.json"),
            "{\"name\": \"app\", \"version\": \"1.0.0\"}",
        )
        .unwrap();
        std::fs::write(project.join(".npmrc"), format!("@corp:registry={other}/\n")).unwrap();
        let cache = work.join("npm-cache");
        let out = ward_run(
            &reg,
            &data,
            &[
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--cache",
                cache.to_str().unwrap(),
                "@corp/secret@1.0.0",
            ],
            &project,
            &[],
        );
        assert!(!out.ok, "{}", out.text);
        assert!(
            out.text.contains("ward: pointed @corp at ward for this command"),
            "{}",
            out.text
        );
        assert_eq!(
            elsewhere.load(Ordering::SeqCst),
            0,
            "npm reached the other registry:\n{}",
            out.text
        );
    }

    // uv: extra-index-url in uv.toml means no configuration file for this command.
    std::fs::write(
        work.join("uv.toml"),
        format!("extra-index-url = [\"{other}/simple/\"]\n"),
    )
    .unwrap();
    let out = ward_run(&reg, &data, &["sh", "-c", "echo \"uv:$UV_NO_CONFIG\""], &work, &[]);
    assert!(out.ok && out.text.contains("uv:1"), "{}", out.text);
    assert!(
        out.text.contains("UV_NO_CONFIG=1") && out.text.contains("extra-index-url in"),
        "{}",
        out.text
    );

    // cargo: the user's other [source] entries are left out of ward's copy
    // of their configuration...
    let cargo_home = work.join("cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();
    std::fs::write(
        cargo_home.join("config.toml"),
        format!("[source.crates-io]\nreplace-with = \"mirror\"\n\n[source.mirror]\nregistry = \"sparse+{other}/\"\n\n[net]\nretry = 0\n"),
    )
    .unwrap();
    let out = ward_run(
        &reg,
        &data,
        &["sh", "-c", "cat \"$CARGO_HOME/config.toml\""],
        &work,
        &[("CARGO_HOME", &cargo_home)],
    );
    assert!(out.ok, "{}", out.text);
    assert!(out.text.contains("left out [source] mirror"), "{}", out.text);
    assert!(
        !out.text.contains(&other) && out.text.contains("retry = 0"),
        "{}",
        out.text
    );
    // ...and a project whose own configuration replaces crates-io (which
    // outranks ward's) is refused before anything runs.
    let crate_dir = work.join("crate");
    std::fs::create_dir_all(crate_dir.join(".cargo")).unwrap();
    std::fs::write(
        crate_dir.join(".cargo/config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"elsewhere\"\n\n[source.elsewhere]\nregistry = \"sparse+{other}/\"\n"
        ),
    )
    .unwrap();
    let out = ward_run(&reg, &data, &["sh", "-c", "echo ran"], &crate_dir, &[]);
    assert!(!out.ok && !out.text.contains("ran\n"), "{}", out.text);
    assert!(
        out.text
            .contains(&crate_dir.join(".cargo/config.toml").display().to_string())
            && out.text.contains("bypass ward"),
        "{}",
        out.text
    );
    assert_eq!(elsewhere.load(Ordering::SeqCst), 0);
}

#[test]
fn the_ledger_names_the_policy_by_absolute_path_and_search_filters_by_time() {
    let reg = Registries::new();
    reg.crate_file("demo-crate", "1.0.0", false);
    let data = reg.publisher.path("data");
    // The policy named relative to where the proxy starts.
    let ctx = TestContext::new();
    let dir = reg.policy.parent().unwrap().to_path_buf();
    let mut args = reg.upstream_args();
    let at = args.iter().position(|a| a == "--policy").unwrap();
    args[at + 1] = "ward.toml".into();
    let proxy = ctx.proxy(ProxyOptions::new().data(&data).args(args).current_dir(&dir));
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let got = agent
        .get(&format!("{}/cargo/api/v1/crates/demo-crate/1.0.0/download", proxy.base))
        .call()
        .unwrap();
    assert_eq!(got.status(), 200);
    drop(proxy);
    let shown = ctx.ward_in(&data, ["ledger", "show", "0"]);
    shown.expect(0);
    let absolute = std::fs::canonicalize(&reg.policy).unwrap();
    assert!(
        shown.stdout.contains(&absolute.display().to_string()),
        "the recorded policy path should be absolute: {}",
        shown.stdout
    );
    // --since: an age, a date, an RFC 3339 time; none found exits 1; nonsense is a usage error.
    ctx.ward_in(&data, ["ledger", "search", "--since", "1h"]).expect(0);
    ctx.ward_in(
        &data,
        [
            "ledger",
            "search",
            "--since",
            "2000-01-01",
            "--purl",
            "pkg:cargo/demo-crate",
        ],
    )
    .expect(0);
    ctx.ward_in(&data, ["ledger", "search", "--since", "2999-01-01T00:00:00Z"])
        .expect(1);
    let bad = ctx.ward_in(&data, ["ledger", "search", "--since", "yesterday"]);
    bad.expect(2);
    assert!(bad.stderr.contains("--since"), "{}", bad.stderr);
}

#[test]
fn a_proxy_whose_output_pipes_are_closed_keeps_serving() {
    // A supervisor or `ward proxy | head -1` closes the pipes: the banner
    // and the decision log then fail to write, and the proxy must go on
    // (Rust's println!/eprintln! would panic and take every client with it).
    let reg = Registries::new();
    reg.crate_file("demo-crate", "1.0.0", false);
    let data = reg.publisher.path("data");
    let ctx = TestContext::new();
    let mut child = ctx
        .proxy_command(&reg.proxy_options().data(&data))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let base = read_banner(&mut out);
    drop(out);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    for _ in 0..2 {
        let got = agent
            .get(&format!("{base}/cargo/api/v1/crates/demo-crate/1.0.0/download"))
            .call()
            .unwrap();
        assert_eq!(got.status(), 200);
    }
    assert!(child.try_wait().unwrap().is_none(), "the proxy ended");
    let _ = child.kill();
    let _ = child.wait();
}
