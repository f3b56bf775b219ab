//! Targets for what is read after an install and around it: the
//! installed-package manifests `ward audit` trusts nothing of (a wheel's
//! `RECORD`, npm's `package.json` and `node_modules/.package-lock.json`,
//! cargo's `.cargo-checksum.json`), each laid out in a scratch environment
//! and audited through `ward_audit::audit`, and drill scenario files
//! (`ward_drill::Scenario::load`, then building every release).

use crate::scratch;
use std::path::PathBuf;

/// Audits `root` with no ledger allows, no advisories and a fixed clock:
/// whatever the manifests say, the audit must end in findings or an
/// error, never a panic, a hang or reading outside `root`.
fn audit(root: PathBuf) {
    let allows = ward_audit::Allows::empty();
    let now = jiff::Timestamp::UNIX_EPOCH;
    let ctx = ward_audit::AuditContext::new(&allows, now);
    let _ = ward_audit::audit(&[root], &ctx);
}

/// A wheel's `RECORD` in an installed Python environment (paths that
/// leave it, bad digests and sizes, CSV quoting, huge lines).
pub fn installed_record(data: &[u8]) {
    let Some(dir) = scratch::dir() else { return };
    let site = dir.path().join("site-packages");
    let files: [(&str, &[u8]); 4] = [
        ("demo/__init__.py", b"VALUE = 1\n"),
        (
            "demo-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        ),
        ("demo-1.0.dist-info/INSTALLER", b"pip\n"),
        ("demo-1.0.dist-info/RECORD", data),
    ];
    for (name, bytes) in files {
        if scratch::write(&site, name, bytes).is_none() {
            return;
        }
    }
    audit(site);
}

/// npm's `package.json` and `node_modules/.package-lock.json`, separated
/// by a NUL byte.
pub fn installed_npm(data: &[u8]) {
    let parts = scratch::split(data, b"\0", 2);
    let Some(dir) = scratch::dir() else { return };
    let modules = dir.path().join("node_modules");
    let files: [(&str, &[u8]); 3] = [
        ("demo/package.json", &parts[0]),
        ("demo/index.js", b"module.exports = 1;\n"),
        (".package-lock.json", &parts[1]),
    ];
    for (name, bytes) in files {
        if scratch::write(&modules, name, bytes).is_none() {
            return;
        }
    }
    audit(modules);
}

/// A vendored crate's `.cargo-checksum.json`.
pub fn cargo_checksum(data: &[u8]) {
    let Some(dir) = scratch::dir() else { return };
    let vendor = dir.path().join("vendor");
    let files: [(&str, &[u8]); 3] = [
        ("demo/Cargo.toml", b"[package]\nname = \"demo\"\nversion = \"1.0.0\"\n"),
        ("demo/src/lib.rs", b"pub const VALUE: u8 = 1;\n"),
        ("demo/.cargo-checksum.json", data),
    ];
    for (name, bytes) in files {
        if scratch::write(&vendor, name, bytes).is_none() {
            return;
        }
    }
    audit(vendor);
}

/// A drill scenario file: loaded and, when it loads, every release built
/// (stand-ins included) and laid out as the upstream at its T0.
pub fn drill_scenario(data: &[u8]) {
    let Some(dir) = scratch::dir() else { return };
    let Some(path) = scratch::write(dir.path(), "scenario.toml", data) else {
        return;
    };
    let Ok(scenario) = ward_drill::Scenario::load(&path) else {
        return;
    };
    let Ok(built) = ward_drill::upstream::build_all(&scenario) else {
        return;
    };
    let _ = ward_drill::upstream::write(&scenario, &built, scenario.timeline.published, &dir.path().join("up"));
}
