//! `ward audit` against real installs through `ward proxy` (upstreams laid
//! out on disk, see proxy.rs): a virtual environment made by Python's
//! `venv` and filled by real pip, a `node_modules` written by real npm, a
//! cargo home and `vendor/` directory written by real cargo. Clean, each
//! audits clean against the ledger's allows and the proxy cache; a file
//! changed after the install is `modified` (for pip even when the attacker
//! rewrote `RECORD` to match, because the files are compared with the
//! allowed wheel). A file the auditing user cannot read makes the audit
//! incomplete (exit 2), never a pass.

use crate::common::{TestContext, json_of};
use crate::proxy::{Registries, have};
use std::path::Path;
use std::process::Command;

/// A venv (without pip of its own: only what the test installs is in it)
/// with `requirement` installed by the system's pip through the proxy.
fn venv_with(base: &str, dir: &Path, requirement: &str) -> std::path::PathBuf {
    let venv = dir.join("venv");
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    let out = Command::new("python3")
        .args(["-m", "pip", "--python"])
        .arg(venv.join("bin/python"))
        .args([
            "install",
            "--no-cache-dir",
            "--no-compile",
            "--disable-pip-version-check",
            "--no-input",
            "--index-url",
            &format!("{base}/pypi/simple/"),
            requirement,
        ])
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    venv
}

fn site(venv: &Path) -> std::path::PathBuf {
    let lib = venv.join("lib");
    let py = std::fs::read_dir(&lib).unwrap().next().unwrap().unwrap().path();
    py.join("site-packages")
}

#[test]
fn a_real_pip_install_audits_clean_and_a_changed_file_is_modified_even_with_record_rewritten() {
    if !have("python3", "--version") {
        return;
    }
    let ctx = TestContext::new();
    let reg = Registries::new();
    reg.wheel("demo-pkg", "1.0.0", false);
    let data = reg.publisher.path("data");
    let proxy = ctx.proxy(reg.proxy_options().data(&data));
    let venv = venv_with(&proxy.base, &reg.publisher.path("work"), "demo-pkg==1.0.0");
    drop(proxy);
    let venv_arg = venv.to_str().unwrap();

    let clean = ctx.ward_in(&data, ["audit", venv_arg]);
    clean.expect(0);
    assert!(clean.stdout.contains("clean"), "{}", clean.stdout);
    let doc = json_of(&ctx.ward_in(&data, ["audit", venv_arg, "--format", "json"]));
    assert_eq!(doc["verdict"], "clean");
    assert_eq!(doc["packages"][0]["id"], "pkg:pypi/demo-pkg@1.0.0");
    assert_eq!(doc["packages"][0]["installer"], "pip");
    // The allow was found by content: ledger entry 0 allowed the wheel.
    assert_eq!(doc["packages"][0]["allow"]["index"], 0);

    // Tamper with the installed module, and rewrite RECORD to match it.
    let site = site(&venv);
    let module = site.join("demo_pkg/__init__.py");
    let tampered = b"import os; os.system('curl evil')\n";
    std::fs::write(&module, tampered).unwrap();
    let record_path = std::fs::read_dir(&site)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".dist-info"))
        .unwrap()
        .join("RECORD");
    let record = std::fs::read_to_string(&record_path).unwrap();
    let digest = {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(tampered))
    };
    let rewritten: String = record
        .lines()
        .map(|l| {
            if l.starts_with("demo_pkg/__init__.py,") {
                format!("demo_pkg/__init__.py,sha256={digest},{}\n", tampered.len())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&record_path, rewritten).unwrap();

    let alert = ctx.ward_in(&data, ["audit", venv_arg]);
    alert.expect(1);
    assert!(
        alert.stdout.contains("modified") && alert.stdout.contains("demo_pkg/__init__.py"),
        "{}",
        alert.stdout
    );
    assert!(alert.stdout.contains("the allowed wheel"), "{}", alert.stdout);
    let doc = json_of(&ctx.ward_in(&data, ["audit", venv_arg, "--format", "json"]));
    assert_eq!(doc["verdict"], "alert");
    let f = &doc["findings"][0];
    assert_eq!(f["kind"], "modified");
    assert_eq!(f["found"]["size"], tampered.len());
    let sarif = json_of(&ctx.ward_in(&data, ["audit", venv_arg, "--format", "sarif"]));
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "modified");

    // Without the ledger's allows, the same tree is unvetted.
    let empty = ctx.path("empty-data");
    let unvetted = ctx.ward_in(&empty, ["audit", venv_arg]);
    unvetted.expect(1);
    assert!(unvetted.stdout.contains("unvetted"), "{}", unvetted.stdout);
}

#[test]
fn a_file_the_auditor_cannot_read_makes_the_audit_incomplete() {
    let ctx = TestContext::new();
    let site = ctx.path("site");
    std::fs::create_dir_all(site.join("demo")).unwrap();
    std::fs::create_dir_all(site.join("demo-1.0.dist-info")).unwrap();
    std::fs::write(site.join("demo/__init__.py"), b"x = 1\n").unwrap();
    std::fs::write(
        site.join("demo-1.0.dist-info/METADATA"),
        b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n",
    )
    .unwrap();
    std::fs::write(
        site.join("demo-1.0.dist-info/RECORD"),
        "demo/__init__.py,sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,6\ndemo-1.0.dist-info/RECORD,,\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(site.join("demo/__init__.py"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads everything: audit as an unprivileged user then.
    let is_root = Command::new("id").arg("-u").output().unwrap().stdout.starts_with(b"0");
    let data = ctx.path("nobody-data");
    std::fs::create_dir_all(&data).unwrap();
    for p in [
        ctx.dir(),
        &site,
        &site.join("demo"),
        &site.join("demo-1.0.dist-info"),
        &data,
    ] {
        let mode = if p == data { 0o777 } else { 0o755 };
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    for f in ["demo-1.0.dist-info/METADATA", "demo-1.0.dist-info/RECORD"] {
        std::fs::set_permissions(site.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let mut cmd = if is_root {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_ward"),
        ]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_ward"))
    };
    let out = cmd
        .args(["audit", "--format", "json"])
        .arg(&site)
        .env_clear()
        .env("WARD_DATA_DIR", &data)
        .env("HOME", &data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["verdict"], "incomplete");
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "unreadable" && f["file"] == "demo/__init__.py"),
        "{stdout}"
    );
}

#[test]
fn a_path_that_is_no_environment_is_a_usage_error() {
    let ctx = TestContext::new();
    std::fs::create_dir_all(ctx.path("empty")).unwrap();
    let run = ctx.ward(["audit", ctx.path("empty").to_str().unwrap()]);
    run.expect(2);
    assert!(
        run.stderr.contains("not an environment ward can audit"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_real_npm_install_audits_clean_against_the_allowed_tarball_and_a_changed_file_is_modified() {
    if !have("npm", "--version") {
        return;
    }
    let ctx = TestContext::new();
    let reg = Registries::new();
    reg.npm_package("demo-pkg", "1.0.0", false);
    let data = reg.publisher.path("data");
    let proxy = ctx.proxy(reg.proxy_options().data(&data));
    let app = reg.publisher.path("app");
    let out = crate::proxy::npm(&proxy.base, &app, "demo-pkg@1.0.0");
    assert!(out.ok, "{}", out.text);
    drop(proxy);
    let app_arg = app.to_str().unwrap();
    let doc = json_of(&ctx.ward_in(&data, ["audit", app_arg, "--format", "json"]));
    assert_eq!(doc["verdict"], "clean", "{doc:#}");
    assert_eq!(doc["packages"][0]["id"], "pkg:npm/demo-pkg@1.0.0");
    // The integrity npm recorded is the allowed tarball's.
    assert!(doc["packages"][0]["artifact"]["sha512"].is_string(), "{doc:#}");
    std::fs::write(
        app.join("node_modules/demo-pkg/index.js"),
        b"module.exports = 'changed';\n",
    )
    .unwrap();
    let alert = ctx.ward_in(&data, ["audit", app_arg]);
    alert.expect(1);
    assert!(
        alert.stdout.contains("modified")
            && alert.stdout.contains("index.js")
            && alert.stdout.contains("the allowed tarball"),
        "{}",
        alert.stdout
    );
}

#[test]
fn a_real_cargo_home_audits_clean_and_a_changed_source_is_modified() {
    if !have("cargo", "--version") {
        return;
    }
    let ctx = TestContext::new();
    let reg = Registries::new();
    reg.crate_file("demo-crate", "1.0.0", false);
    let data = reg.publisher.path("data");
    let proxy = ctx.proxy(reg.proxy_options().data(&data));
    let home = reg.publisher.path("cargo-home");
    let project = reg.publisher.path("work/uses-demo");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::create_dir_all(project.join(".cargo")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"uses-demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ndemo-crate = \"=1.0.0\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(project.join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(
        project.join(".cargo/config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"ward\"\n\n[source.ward]\nregistry = \"sparse+{}/cargo/index/\"\n",
            proxy.base
        ),
    )
    .unwrap();
    let out = Command::new("cargo")
        .args(["fetch"])
        .current_dir(&project)
        .env("CARGO_HOME", &home)
        .env("CARGO_NET_RETRY", "0")
        .env_remove("RUSTC_WRAPPER")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // `cargo fetch` downloads; the sources are unpacked on first build.
    let vendor = Command::new("cargo")
        .args(["vendor", "--offline", "--quiet", "--respect-source-config"])
        .current_dir(&project)
        .env("CARGO_HOME", &home)
        .env_remove("RUSTC_WRAPPER")
        .output()
        .unwrap();
    assert!(vendor.status.success(), "{}", String::from_utf8_lossy(&vendor.stderr));
    drop(proxy);
    for tree in [home.clone(), project.join("vendor")] {
        let arg = tree.to_str().unwrap();
        let doc = json_of(&ctx.ward_in(&data, ["audit", arg, "--format", "json"]));
        assert_eq!(doc["verdict"], "clean", "{}: {doc:#}", tree.display());
        assert_eq!(doc["packages"][0]["id"], "pkg:cargo/demo-crate@1.0.0");
        assert_eq!(doc["packages"][0]["allow"]["index"], 0);
    }
    let lib = project.join("vendor/demo-crate/src/lib.rs");
    std::fs::write(&lib, "pub const VALUE: &str = \"changed\";\n").unwrap();
    let alert = ctx.ward_in(&data, ["audit", project.join("vendor").to_str().unwrap()]);
    alert.expect(1);
    assert!(
        alert.stdout.contains("modified") && alert.stdout.contains("src/lib.rs"),
        "{}",
        alert.stdout
    );
}
