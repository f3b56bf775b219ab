//! The scenarios shipped under `drills/`: every one loads, builds, and its
//! stand-ins are inert (their only scripts are the marker writers, and
//! running them writes nothing but the marker inside the drill's directory).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use ward_drill::scenario::{Ecosystem, Scenario};
use ward_drill::standin::{self, MARKER_VARIABLE};
use ward_drill::upstream;

fn drills() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../drills")
}

fn shipped() -> Vec<Scenario> {
    Scenario::load_dir(&drills()).expect("the shipped scenarios load")
}

/// Every file in a tarball or wheel: (path, bytes).
fn files(eco: Ecosystem, bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    match eco {
        Ecosystem::Npm => {
            let mut a = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
            for e in a.entries().unwrap() {
                let mut e = e.unwrap();
                let path = String::from_utf8_lossy(&e.path_bytes()).into_owned();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                out.push((path, data));
            }
        }
        Ecosystem::Pypi => {
            let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            for i in 0..z.len() {
                let mut f = z.by_index(i).unwrap();
                let mut data = Vec::new();
                f.read_to_end(&mut data).unwrap();
                let name = f.name().unwrap().to_string();
                out.push((name, data));
            }
        }
    }
    out
}

#[test]
fn the_issue_s_eleven_incidents_are_shipped() {
    let names: Vec<String> = shipped().into_iter().map(|s| s.name).collect();
    for want in [
        "chalk-debug-2025",
        "tinycolor-worm-2025",
        "event-stream-2018",
        "ua-parser-js-2021",
        "ultralytics-2024",
        "litellm-2026",
        "axios-2026",
        "republished-release",
        "tampered-tarball",
        "dependency-confusion",
        "typosquat",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
}

#[test]
fn every_added_script_is_the_inert_marker_writer() {
    for s in shipped() {
        let built = upstream::build_all(&s).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        for release in s.releases.iter().filter(|r| r.stand_in.is_some()) {
            let b = &built[&release.id()];
            let id = release.id();
            for (path, data) in files(s.ecosystem, &b.bytes) {
                if path.ends_with(".pth") {
                    assert_eq!(
                        String::from_utf8_lossy(&data),
                        standin::pth_marker_line(&id),
                        "{id} {path}"
                    );
                }
                if path.matches('/').count() == 1 && path.ends_with("/package.json") {
                    let m: serde_json::Value = serde_json::from_slice(&data).unwrap();
                    for hook in ["preinstall", "install", "postinstall"] {
                        if let Some(script) = m["scripts"][hook].as_str() {
                            assert_eq!(script, standin::npm_marker_script(&id), "{id} {hook}");
                        }
                    }
                }
            }
            // The stand-in differs from what it stands in for.
            let clean = s
                .releases
                .iter()
                .any(|r| r.stand_in.is_none() && r.name == release.name);
            if clean || release.stand_in.as_ref().is_some_and(|x| x.republished) {
                assert_ne!(b.bytes, b.honest, "{id}: the stand-in has its traits");
            }
        }
    }
}

#[test]
fn running_the_stand_in_scripts_writes_only_the_marker_inside_the_drill_directory() {
    let have_node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let have_python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    for s in shipped() {
        let built = upstream::build_all(&s).unwrap();
        for release in s.releases.iter().filter(|r| r.stand_in.is_some()) {
            let id = release.id();
            let scripts: Vec<(String, Vec<u8>)> = files(s.ecosystem, &built[&id].bytes)
                .into_iter()
                .filter(|(p, _)| p.ends_with(".pth") || p.ends_with("/package.json"))
                .collect();
            for (path, data) in scripts {
                let work = tempfile::tempdir().unwrap();
                let (cwd, home, markers) = (
                    work.path().join("pkg"),
                    work.path().join("home"),
                    work.path().join("markers"),
                );
                for d in [&cwd, &home, &markers] {
                    std::fs::create_dir_all(d).unwrap();
                }
                let mut cmd = if path.ends_with(".pth") {
                    if !have_python {
                        continue;
                    }
                    std::fs::write(cwd.join("x.pth"), &data).unwrap();
                    let mut c = Command::new("python3");
                    c.args(["-S", "-c", "import site, sys; site.addsitedir(sys.argv[1])"])
                        .arg(&cwd);
                    c
                } else {
                    let m: serde_json::Value = serde_json::from_slice(&data).unwrap();
                    let Some(script) = ["preinstall", "install", "postinstall"]
                        .iter()
                        .find_map(|h| m["scripts"][h].as_str().map(String::from))
                    else {
                        continue;
                    };
                    if !have_node {
                        continue;
                    }
                    let mut c = Command::new("sh");
                    c.args(["-c", &script]);
                    c
                };
                let out = cmd
                    .current_dir(&cwd)
                    .env("HOME", &home)
                    .env(MARKER_VARIABLE, &markers)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{id}: {}", String::from_utf8_lossy(&out.stderr));
                let written: Vec<String> = walk(work.path())
                    .into_iter()
                    .filter(|p| !p.ends_with("x.pth"))
                    .collect();
                assert_eq!(
                    written,
                    vec![format!("markers/{}", standin::marker_name(&id))],
                    "{id}: only the marker is written"
                );
                // Without the variable, the script does nothing at all.
                std::fs::remove_file(markers.join(standin::marker_name(&id))).unwrap();
                let out = cmd.env_remove(MARKER_VARIABLE).output().unwrap();
                assert!(out.status.success());
                assert!(
                    walk(work.path()).iter().all(|p| p.ends_with("x.pth")),
                    "{id}: nothing written without {MARKER_VARIABLE}"
                );
            }
        }
    }
}

/// Every regular file under `dir`, relative, sorted.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_upstream_lists_a_release_only_while_it_is_published() {
    let s = shipped().into_iter().find(|s| s.name == "chalk-debug-2025").unwrap();
    let built = upstream::build_all(&s).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let during = dir.path().join("during");
    upstream::write(&s, &built, s.timeline.install_at(), &during).unwrap();
    let packument: serde_json::Value =
        serde_json::from_slice(&std::fs::read(during.join("chalk/package.json")).unwrap()).unwrap();
    assert_eq!(packument["dist-tags"]["latest"], "5.6.1");
    assert!(packument["versions"]["5.6.2"].is_null(), "not yet published");
    assert_eq!(packument["time"]["5.6.1"], "2025-09-08T13:00:00Z");
    assert_eq!(packument["versions"]["5.6.1"]["_npmUser"]["name"], "qix");
    let after = dir.path().join("after");
    upstream::write(&s, &built, "2025-09-09T00:00:00Z".parse().unwrap(), &after).unwrap();
    let packument: serde_json::Value =
        serde_json::from_slice(&std::fs::read(after.join("chalk/package.json")).unwrap()).unwrap();
    assert!(packument["versions"]["5.6.1"].is_null(), "removed");
    assert_eq!(packument["dist-tags"]["latest"], "5.6.2");
    // The real clean release is served byte for byte.
    assert_eq!(
        std::fs::read(after.join("chalk/chalk-5.6.2.tgz")).unwrap(),
        std::fs::read(drills().join("releases/npm/chalk-5.6.2.tgz")).unwrap()
    );
}

#[test]
fn a_tampered_release_is_indexed_with_the_genuine_integrity() {
    let s = shipped().into_iter().find(|s| s.name == "tampered-tarball").unwrap();
    let built = upstream::build_all(&s).unwrap();
    let b = &built["ms@2.1.3"];
    assert_eq!(
        b.indexed,
        std::fs::read(drills().join("releases/npm/ms-2.1.3.tgz")).unwrap()
    );
    assert_ne!(b.bytes, b.indexed);
}

#[test]
fn the_binary_carries_every_file_under_drills() {
    let mut on_disk = walk(&drills());
    on_disk.retain(|p| !p.ends_with("README.md"));
    let mut compiled: Vec<String> = ward_drill::shipped::FILES.iter().map(|(n, _)| n.to_string()).collect();
    compiled.sort();
    assert_eq!(
        compiled, on_disk,
        "crates/ward-drill/src/shipped.rs lists every file under drills/"
    );
}
