//! Risky-change rules end to end (issue 13 item 4): real npm installs
//! through `ward proxy` from a loopback HTTP upstream serving the real
//! tarballs next to the 2025 compromises (`../shared/testdata/npm-neighbours`)
//! and inert stand-ins of the attacks built here: @ctrl/tinycolor 4.1.1 with
//! a postinstall that only writes a marker, and event-stream 3.3.6 with the
//! added flatmap-stream dependency (its other dependencies are inert stubs).
//! The clean releases install and become the baseline; each stand-in is
//! refused with its own reason code in npm's output. Real pip, from the same
//! kind of upstream serving PEP 503 pages, installs a clean wheel and is
//! refused a litellm stand-in that ships a `.pth` (`pth-file`) and a
//! pure-Python sdist (`sdist-only`).

use crate::common::{Entry, FakeRegistry, ProxyOptions, TestContext, npm_manifest, repack, shared, tgz, zip};
use crate::proxy::{have, npm, pip_with};
use std::path::{Path, PathBuf};

/// Serves `versions` (version → tarball bytes) of `name` from `up`: the
/// packument and each tarball, with their real integrity.
fn publish(up: &FakeRegistry, name: &str, versions: &[(&str, Vec<u8>)]) {
    let base_name = name.rsplit('/').next().unwrap();
    let mut docs = serde_json::Map::new();
    let mut times = serde_json::Map::new();
    for (version, bytes) in versions {
        let path = format!("/{name}/-/{base_name}-{version}.tgz");
        let mut doc = npm_manifest(bytes);
        doc["dist"] = serde_json::json!({
            "tarball": format!("{}{path}", up.base()),
            "integrity": crate::common::sha512_sri(bytes),
        });
        docs.insert((*version).to_string(), doc);
        times.insert((*version).to_string(), "2025-01-01T00:00:00.000Z".into());
        up.put(&path, bytes.clone());
    }
    let latest = versions.last().map(|(v, _)| *v).unwrap_or_default();
    let packument = serde_json::json!({
        "name": name,
        "dist-tags": {"latest": latest},
        "versions": docs,
        "time": times,
    });
    up.put(&format!("/{name}"), serde_json::to_vec(&packument).unwrap());
}

/// Serves from `up` a PEP 503 project page listing `files` (name → bytes) and the files.
fn publish_pypi(up: &FakeRegistry, project: &str, files: &[(String, Vec<u8>)]) {
    use sha2::Digest as _;
    let mut links = String::new();
    for (name, bytes) in files {
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        links.push_str(&format!("<a href=\"../../files/{name}#sha256={sha}\">{name}</a>\n"));
        up.put(&format!("/files/{name}"), bytes.clone());
    }
    up.put(
        &format!("/simple/{project}/"),
        format!("<!DOCTYPE html><html><body>\n{links}</body></html>"),
    );
}

/// An inert stub package (a dependency of event-stream).
fn stub(name: &str, version: &str, dir: &Path) -> Vec<u8> {
    let manifest = format!("{{\"name\": \"{name}\", \"version\": \"{version}\", \"license\": \"MIT\"}}");
    let out = dir.join(format!("{name}-{version}.tgz"));
    tgz(
        &out,
        &[
            Entry::File("package/package.json", manifest.as_bytes()),
            Entry::File("package/index.js", b"module.exports = {};\n"),
        ],
    );
    std::fs::read(&out).unwrap()
}

const MARKER_JS: &[u8] = b"require('fs').writeFileSync(require('path').join(__dirname, 'ward-drill-marker'), 'ran');\n";

struct Drill {
    ctx: TestContext,
    up: FakeRegistry,
    policy: PathBuf,
}

impl Drill {
    fn new() -> Self {
        let ctx = TestContext::new();
        let n = shared().join("npm-neighbours");
        let read = |f: &str| std::fs::read(n.join(f)).unwrap();
        let up = FakeRegistry::start();
        let worm = repack(
            &n.join("ctrl-tinycolor-4.1.0.tgz"),
            |j| {
                j["version"] = "4.1.1".into();
                j["scripts"]["postinstall"] = "node bundle.js".into();
            },
            &[("package/bundle.js", MARKER_JS)],
            &ctx.path("repacked.tgz"),
        );
        publish(
            &up,
            "@ctrl/tinycolor",
            &[
                ("4.1.0", read("ctrl-tinycolor-4.1.0.tgz")),
                ("4.1.1", worm),
                ("4.2.0", read("ctrl-tinycolor-4.2.0.tgz")),
            ],
        );
        publish(
            &up,
            "chalk",
            &[("5.6.0", read("chalk-5.6.0.tgz")), ("5.6.2", read("chalk-5.6.2.tgz"))],
        );
        publish(
            &up,
            "debug",
            &[("4.4.1", read("debug-4.4.1.tgz")), ("4.4.3", read("debug-4.4.3.tgz"))],
        );
        publish(&up, "ms", &[("2.1.3", read("ms-2.1.3.tgz"))]);
        let es336 = repack(
            &n.join("event-stream-3.3.5.tgz"),
            |j| {
                j["version"] = "3.3.6".into();
                j["dependencies"]["flatmap-stream"] = "^0.1.0".into();
            },
            &[],
            &ctx.path("repacked.tgz"),
        );
        publish(
            &up,
            "event-stream",
            &[("3.3.5", read("event-stream-3.3.5.tgz")), ("3.3.6", es336)],
        );
        for (name, version) in [
            ("duplexer", "0.1.1"),
            ("from", "0.1.7"),
            ("map-stream", "0.0.7"),
            ("pause-stream", "0.0.11"),
            ("split", "1.0.1"),
            ("stream-combiner", "0.2.2"),
            ("through", "2.3.8"),
            ("flatmap-stream", "0.1.0"),
        ] {
            publish(&up, name, &[(version, stub(name, version, ctx.dir()))]);
        }
        // Unsigned packages only warn; the risky-change rules deny.
        let policy = ctx.path("ward.toml");
        std::fs::write(
            &policy,
            "version = 1\n\n[defaults]\nmode = \"warn\"\n\n[[scope]]\nname = \"npm\"\npackages = [\"npm:*\"]\nmode = \"warn\"\ndeny_new_install_scripts = true\ndeny_new_dependencies_in_patch = true\nnative_binaries = \"warn\"\n",
        )
        .unwrap();
        Self { ctx, up, policy }
    }

    fn proxy(&self) -> crate::common::ProxyProcess {
        self.ctx
            .proxy(ProxyOptions::new().npm(self.up.base()).policy(&self.policy))
    }

    fn prefix(&self, name: &str) -> PathBuf {
        self.ctx.path(name)
    }
}

#[test]
fn npm_installs_the_clean_neighbours_and_refuses_the_risky_stand_ins() {
    if !have("npm", "--version") {
        return;
    }
    let drill = Drill::new();
    let proxy = drill.proxy();

    // The clean neighbours install, each compared with the one before.
    for (n, spec) in [
        "chalk@5.6.0",
        "chalk@5.6.2",
        "debug@4.4.1",
        "debug@4.4.3",
        "@ctrl/tinycolor@4.1.0",
        "event-stream@3.3.5",
    ]
    .iter()
    .enumerate()
    {
        let out = npm(&proxy.base, &drill.prefix(&format!("clean{n}")), spec);
        assert!(out.ok, "{spec}: {}", out.text);
    }
    assert!(
        drill
            .prefix("clean4")
            .join("node_modules/@ctrl/tinycolor/package.json")
            .is_file()
    );

    // The worm's stand-in: a postinstall 4.1.0 did not have.
    let worm = drill.prefix("worm");
    let out = npm(&proxy.base, &worm, "@ctrl/tinycolor@4.1.1");
    assert!(!out.ok, "{}", out.text);
    assert!(
        out.text.contains("install-script-added"),
        "npm's output should carry ward's reason:\n{}",
        out.text
    );
    assert!(!worm.join("node_modules/@ctrl/tinycolor/bundle.js").exists());
    let log = proxy.log_with("install-script-added");
    assert!(log.contains("install-script-added"), "{log}");

    // event-stream 3.3.6: a dependency added in a patch release.
    let out = npm(&proxy.base, &drill.prefix("es"), "event-stream@3.3.6");
    assert!(!out.ok, "{}", out.text);
    assert!(out.text.contains("dependency-added-in-patch"), "{}", out.text);

    // The next clean release still installs.
    let out = npm(&proxy.base, &drill.prefix("clean-next"), "@ctrl/tinycolor@4.2.0");
    assert!(out.ok, "{}", out.text);
}

fn pip(base: &str, target: &Path, requirement: &str) -> crate::proxy::Output {
    pip_with(base, target, &["--no-deps", requirement])
}

/// A pure-Python wheel, with extra files at its top level.
fn wheel(dir: &Path, name: &str, version: &str, extra: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let file = format!("{name}-{version}-py3-none-any.whl");
    let info = format!("{name}-{version}.dist-info");
    let metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense-Expression: MIT\n\n");
    let wheel = "Wheel-Version: 1.0\nGenerator: ward-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    let mut record = format!("{name}/__init__.py,,\n{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n");
    for (path, _) in extra {
        record.push_str(&format!("{path},,\n"));
    }
    let (init, meta_path, wheel_path, record_path) = (
        format!("{name}/__init__.py"),
        format!("{info}/METADATA"),
        format!("{info}/WHEEL"),
        format!("{info}/RECORD"),
    );
    let mut files: Vec<(&str, &[u8])> = vec![
        (&init, b"VALUE = 1\n"),
        (&meta_path, metadata.as_bytes()),
        (&wheel_path, wheel.as_bytes()),
    ];
    files.extend(extra.iter().copied());
    files.push((&record_path, record.as_bytes()));
    let path = dir.join(&file);
    zip(&path, &files);
    (file, std::fs::read(&path).unwrap())
}

#[test]
fn pip_refuses_a_wheel_with_a_pth_file_and_a_pure_python_sdist() {
    if !have("python3", "--version") {
        return;
    }
    let ctx = TestContext::new();
    let up = FakeRegistry::start();
    // litellm 1.82.8 ran its payload from a .pth at interpreter start; the
    // stand-in's .pth only names a path, which Python adds to sys.path.
    publish_pypi(
        &up,
        "litellm",
        &[
            wheel(ctx.dir(), "litellm", "1.82.6", &[]),
            wheel(
                ctx.dir(),
                "litellm",
                "1.82.8",
                &[("litellm_init.pth", b"ward-drill-marker-dir\n")],
            ),
        ],
    );
    let sdist = ctx.path("purepy-1.0.tar.gz");
    tgz(
        &sdist,
        &[
            Entry::File(
                "purepy-1.0/PKG-INFO",
                b"Metadata-Version: 2.1\nName: purepy\nVersion: 1.0\n",
            ),
            Entry::File(
                "purepy-1.0/setup.py",
                b"from setuptools import setup\nsetup(name='purepy', version='1.0')\n",
            ),
            Entry::File("purepy-1.0/purepy/__init__.py", b""),
        ],
    );
    publish_pypi(
        &up,
        "purepy",
        &[("purepy-1.0.tar.gz".into(), std::fs::read(&sdist).unwrap())],
    );
    let policy = ctx.path("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n\n[defaults]\nmode = \"warn\"\n\n[[scope]]\nname = \"pypi\"\npackages = [\"pypi:*\"]\nmode = \"warn\"\ndeny_pth_files = true\ndeny_setup_py_only = true\n",
    )
    .unwrap();
    let proxy = ctx.proxy(ProxyOptions::new().pypi(up.base()).policy(&policy));
    let ok = pip(&proxy.base, &ctx.path("site-ok"), "litellm==1.82.6");
    assert!(ok.ok, "{}", ok.text);
    assert!(ctx.path("site-ok/litellm/__init__.py").is_file());
    let site = ctx.path("site-pth");
    let refused = pip(&proxy.base, &site, "litellm==1.82.8");
    assert!(!refused.ok, "{}", refused.text);
    assert!(
        refused.text.contains("pth-file"),
        "pip's output should carry ward's reason:\n{}",
        refused.text
    );
    assert!(!site.join("litellm_init.pth").exists());
    let sdist_only = pip(&proxy.base, &ctx.path("site-sdist"), "purepy==1.0");
    assert!(!sdist_only.ok, "{}", sdist_only.text);
    assert!(sdist_only.text.contains("sdist-only"), "{}", sdist_only.text);
}

#[test]
fn a_proxy_that_allowed_nothing_yet_compares_with_the_packument() {
    if !have("npm", "--version") {
        return;
    }
    let drill = Drill::new();
    let proxy = drill.proxy();
    // The first thing this proxy ever sees is the attack itself.
    let out = npm(&proxy.base, &drill.prefix("worm"), "@ctrl/tinycolor@4.1.1");
    assert!(!out.ok, "{}", out.text);
    assert!(out.text.contains("install-script-added"), "{}", out.text);
    let log = proxy.log_with("per the npm packument");
    assert!(log.contains("4.1.0 (per the npm packument) had none"), "{log}");
    let out = npm(&proxy.base, &drill.prefix("es"), "event-stream@3.3.6");
    assert!(!out.ok, "{}", out.text);
    assert!(out.text.contains("dependency-added-in-patch"), "{}", out.text);
    // The clean release next to it installs.
    let out = npm(&proxy.base, &drill.prefix("clean"), "@ctrl/tinycolor@4.2.0");
    assert!(out.ok, "{}", out.text);
}

#[test]
fn policy_explain_lists_the_risky_change_rules_with_their_levels() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("ward.toml");
    std::fs::write(
        &policy,
        "[[scope]]\npackages = [\"npm:*\"]\ndeny_new_install_scripts = true\nnative_binaries = \"warn\"\ndeny_pth_files = false\n",
    )
    .unwrap();
    let run =
        crate::common::TestContext::new().ward(["policy", "explain", policy.to_str().unwrap(), "pkg:npm/chalk@5.6.2"]);
    run.expect(0);
    assert!(
        run.stdout.contains("  deny_new_install_scripts: deny (line 3)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  native_binaries: warn (line 4)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("deny_pth_files"), "{}", run.stdout);
}
