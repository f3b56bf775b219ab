//! Risky-change rules through the gate: the real tarballs next to the 2025
//! npm compromises (`../shared/testdata/npm-neighbours`) pass and become
//! baselines; inert stand-ins built here from them (a tinycolor release with
//! an added postinstall that only writes a marker, event-stream 3.3.6 with
//! flatmap-stream, a wheel with a `.pth`, a pure-Python sdist, a prebuilt
//! ELF) are refused with their own reason codes, and the earlier release's
//! traits come from the store the gate writes when it records an allow.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use ward_core::{ReasonCode, Verdict};
use ward_gate::{Evaluation, Evidence, Gate, ReleaseTraits};

fn neighbours() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/npm-neighbours")
}

const POLICY: &str = r#"
[defaults]
mode = "warn"

[[scope]]
name = "risky"
packages = ["npm:*", "pypi:*"]
mode = "warn"
deny_new_install_scripts = true
deny_new_dependencies_in_patch = true
deny_pth_files = true
deny_setup_py_only = true
native_binaries = "deny"
"#;

struct Env {
    dir: tempfile::TempDir,
    gate: Gate,
}

impl Env {
    fn new() -> Self {
        Self::with_policy(POLICY)
    }

    fn with_policy(text: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let policy = ward_policy::Policy::parse(text, "ward.toml", dir.path()).unwrap();
        let ledger = ward_ledger::EmbeddedLedger::open(&dir.path().join("ledger"), "ward-test/risky").unwrap();
        let store = ReleaseTraits::open(&dir.path().join(ward_gate::risky::STORE_FILE)).unwrap();
        let gate = Gate::new(ward_verify::TrustRoot::production().unwrap())
            .with_policy(policy)
            .with_ledger(Box::new(ledger))
            .with_release_traits(store);
        Self { dir, gate }
    }

    /// Evaluates and records, as the proxy and `ward verify` do.
    fn run(&self, path: &Path) -> Evaluation {
        let e = self.gate.evaluate(path, None, &Evidence::default()).unwrap();
        self.gate.record(&e, "test").unwrap();
        e
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

fn codes(e: &Evaluation, verdict: Verdict) -> Vec<ReasonCode> {
    let reasons = match verdict {
        Verdict::Deny => &e.decision.reasons,
        Verdict::Allow => &e.decision.warnings,
    };
    reasons.iter().map(|r| r.code).collect()
}

fn message(e: &Evaluation, code: ReasonCode) -> String {
    e.decision
        .reasons
        .iter()
        .chain(&e.decision.warnings)
        .find(|r| r.code == code)
        .map(|r| r.message.clone())
        .unwrap_or_else(|| panic!("no {code:?} in {:?}", e.decision))
}

const RISKY: &[ReasonCode] = &[
    ReasonCode::InstallScriptAdded,
    ReasonCode::DependencyAddedInPatch,
    ReasonCode::PthFile,
    ReasonCode::SdistOnly,
    ReasonCode::NativeBinaryAdded,
    ReasonCode::RiskyChangeUnevaluable,
];

/// A real npm tarball rebuilt with its package.json edited and files added.
fn repack(src: &Path, edit: impl Fn(&mut serde_json::Value), extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(src).unwrap()));
    let mut builder = tar::Builder::new(Vec::new());
    let add = |builder: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, data).unwrap();
    };
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if path == "package/package.json" {
            let mut json: serde_json::Value = serde_json::from_slice(&data).unwrap();
            edit(&mut json);
            data = serde_json::to_vec_pretty(&json).unwrap();
        }
        add(&mut builder, &path, &data);
    }
    for (path, data) in extra {
        add(&mut builder, path, data);
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

/// The inert payload of the stand-ins: writes a marker file, nothing else.
const MARKER_JS: &[u8] = b"require('fs').writeFileSync(require('path').join(__dirname, 'ward-drill-marker'), 'ran');\n";

fn tinycolor_worm(version: &str) -> Vec<u8> {
    let v = version.to_string();
    repack(
        &neighbours().join("ctrl-tinycolor-4.1.0.tgz"),
        move |j| {
            j["version"] = v.clone().into();
            j["scripts"]["postinstall"] = "node bundle.js".into();
        },
        &[("package/bundle.js", MARKER_JS)],
    )
}

fn event_stream_336() -> Vec<u8> {
    repack(
        &neighbours().join("event-stream-3.3.5.tgz"),
        |j| {
            j["version"] = "3.3.6".into();
            j["dependencies"]["flatmap-stream"] = "^0.1.0".into();
        },
        &[],
    )
}

#[test]
fn clean_neighbours_pass_in_order_and_become_baselines() {
    let env = Env::new();
    for name in [
        "ms-2.1.3.tgz",
        "chalk-5.6.0.tgz",
        "chalk-5.6.2.tgz",
        "debug-4.4.1.tgz",
        "debug-4.4.3.tgz",
        "ctrl-tinycolor-4.1.0.tgz",
        "ctrl-tinycolor-4.2.0.tgz",
        "event-stream-3.3.5.tgz",
    ] {
        let e = env.run(&neighbours().join(name));
        assert!(e.decision.allowed(), "{name}: {:?}", e.decision);
        let all: Vec<ReasonCode> = [codes(&e, Verdict::Deny), codes(&e, Verdict::Allow)].concat();
        assert!(!all.iter().any(|c| RISKY.contains(c)), "{name}: {all:?}");
        assert!(e.traits.is_some(), "{name}: traits read");
        assert!(
            env.gate.release_traits().unwrap().holds(&e.artifact).unwrap(),
            "{name} kept"
        );
    }
    // debug 4.4.3 was compared with 4.4.1: same dependency, nothing added.
    let debug = env.run(&neighbours().join("debug-4.4.3.tgz"));
    let deps = debug.traits.unwrap().dependencies.unwrap();
    assert_eq!(deps.get("ms").map(String::as_str), Some("^2.1.3"));
}

#[test]
fn a_postinstall_added_in_a_patch_release_is_refused_and_says_what_changed() {
    let env = Env::new();
    assert!(
        env.run(&neighbours().join("ctrl-tinycolor-4.1.0.tgz"))
            .decision
            .allowed()
    );
    let worm = env.write("ctrl-tinycolor-4.1.1.tgz", &tinycolor_worm("4.1.1"));
    let e = env.run(&worm);
    assert_eq!(e.decision.verdict(), Verdict::Deny, "{:?}", e.decision);
    assert_eq!(codes(&e, Verdict::Deny), [ReasonCode::InstallScriptAdded]);
    let m = message(&e, ReasonCode::InstallScriptAdded);
    assert!(
        m.starts_with("postinstall added in 4.1.1: `node bundle.js` (4.1.0 had none)"),
        "{m}"
    );
    assert!(m.contains("ward.toml:"), "{m}");
    // A denied release is not a baseline: 4.1.2 is still compared with 4.1.0.
    assert!(!env.gate.release_traits().unwrap().holds(&e.artifact).unwrap());
    let again = env.run(&env.write("ctrl-tinycolor-4.1.2.tgz", &tinycolor_worm("4.1.2")));
    assert!(message(&again, ReasonCode::InstallScriptAdded).contains("(4.1.0 had none)"));
}

#[test]
fn a_binding_gyp_that_was_not_there_counts_as_an_install_script() {
    let env = Env::new();
    env.run(&neighbours().join("chalk-5.6.0.tgz"));
    let gyp = repack(
        &neighbours().join("chalk-5.6.0.tgz"),
        |j| j["version"] = "5.6.1".into(),
        &[("package/binding.gyp", b"{ 'targets': [] }")],
    );
    let e = env.run(&env.write("chalk-5.6.1.tgz", &gyp));
    assert_eq!(codes(&e, Verdict::Deny), [ReasonCode::InstallScriptAdded]);
    assert!(message(&e, ReasonCode::InstallScriptAdded).contains("binding.gyp added in 5.6.1: `node-gyp rebuild`"));
}

#[test]
fn a_dependency_added_in_a_patch_release_is_refused_but_not_in_a_major_one() {
    let env = Env::new();
    env.run(&neighbours().join("event-stream-3.3.5.tgz"));
    let e = env.run(&env.write("event-stream-3.3.6.tgz", &event_stream_336()));
    assert_eq!(codes(&e, Verdict::Deny), [ReasonCode::DependencyAddedInPatch]);
    let m = message(&e, ReasonCode::DependencyAddedInPatch);
    assert!(
        m.starts_with("dependency added in the patch release 3.3.5 → 3.3.6: flatmap-stream ^0.1.0"),
        "{m}"
    );
    // The same change in a major release is what major releases are for.
    let major = repack(
        &neighbours().join("event-stream-3.3.5.tgz"),
        |j| {
            j["version"] = "4.0.0".into();
            j["dependencies"]["flatmap-stream"] = "^0.1.0".into();
        },
        &[],
    );
    let e = env.run(&env.write("event-stream-4.0.0.tgz", &major));
    assert!(e.decision.allowed(), "{:?}", e.decision);
}

#[test]
fn with_no_earlier_release_the_new_rules_warn_instead_of_guessing() {
    let env = Env::new();
    let e = env.run(&env.write("ctrl-tinycolor-4.1.1.tgz", &tinycolor_worm("4.1.1")));
    assert!(e.decision.allowed(), "{:?}", e.decision);
    assert!(codes(&e, Verdict::Allow).contains(&ReasonCode::NoEarlierRelease));
    assert!(message(&e, ReasonCode::NoEarlierRelease).contains("postinstall `node bundle.js`"));
}

#[test]
fn a_native_binary_that_was_not_shipped_before_is_refused() {
    let env = Env::new();
    env.run(&neighbours().join("ctrl-tinycolor-4.1.0.tgz"));
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(256, 0);
    let with_binary = repack(
        &neighbours().join("ctrl-tinycolor-4.1.0.tgz"),
        |j| j["version"] = "4.1.3".into(),
        &[("package/prebuilds/linux-x64/tiny.node", &elf)],
    );
    let e = env.run(&env.write("ctrl-tinycolor-4.1.3.tgz", &with_binary));
    assert_eq!(codes(&e, Verdict::Deny), [ReasonCode::NativeBinaryAdded]);
    assert!(
        message(&e, ReasonCode::NativeBinaryAdded)
            .contains("`prebuilds/linux-x64/tiny.node` (ELF) (4.1.0 shipped none)")
    );
    // At "warn" the same release is allowed with a warning.
    let env = Env::with_policy(&POLICY.replace(r#"native_binaries = "deny""#, r#"native_binaries = "warn""#));
    env.run(&neighbours().join("ctrl-tinycolor-4.1.0.tgz"));
    let e = env.run(&env.write("ctrl-tinycolor-4.1.3.tgz", &with_binary));
    assert!(e.decision.allowed());
    assert!(codes(&e, Verdict::Allow).contains(&ReasonCode::NativeBinaryAdded));
}

fn wheel(name: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let meta = format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nRequires-Dist: requests\n");
    let dist = format!("{name}-1.0.dist-info/METADATA");
    for (path, data) in [(dist.as_str(), meta.as_bytes())]
        .into_iter()
        .chain(files.iter().copied())
    {
        w.start_file(path, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_wheel_with_a_top_level_pth_is_refused() {
    let env = Env::new();
    let bad = wheel(
        "litellm",
        &[
            ("litellm_init.pth", b"import os; os.system('true')\n"),
            ("litellm/__init__.py", b""),
        ],
    );
    let e = env.run(&env.write("litellm-1.0-py3-none-any.whl", &bad));
    assert_eq!(codes(&e, Verdict::Deny), [ReasonCode::PthFile]);
    assert!(message(&e, ReasonCode::PthFile).contains("installs `litellm_init.pth` into site-packages"));
    let good = wheel("clean", &[("clean/__init__.py", b""), ("clean/data.pth.txt", b"")]);
    let e = env.run(&env.write("clean-1.0-py3-none-any.whl", &good));
    assert!(e.decision.allowed(), "{:?}", e.decision);
}

fn sdist(name: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let meta = format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n");
    let pkg_info = format!("{name}-1.0/PKG-INFO");
    for (path, data) in [(pkg_info.as_str(), meta.as_bytes())]
        .into_iter()
        .chain(files.iter().copied())
    {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&builder.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn an_sdist_of_a_pure_python_project_is_refused_but_one_with_extension_sources_is_not() {
    let env = Env::new();
    let pure = sdist(
        "purepy",
        &[("purepy-1.0/setup.py", b"from setuptools import setup\nsetup()\n")],
    );
    let e = env.run(&env.write("purepy-1.0.tar.gz", &pure));
    assert_eq!(codes(&e, Verdict::Deny), [ReasonCode::SdistOnly]);
    assert!(
        message(&e, ReasonCode::SdistOnly)
            .contains("purepy-1.0.tar.gz is a source distribution of a pure-Python project")
    );
    let native = sdist(
        "speedy",
        &[
            ("speedy-1.0/setup.py", b"setup()\n"),
            ("speedy-1.0/src/_speedy.c", b"int x;\n"),
        ],
    );
    let e = env.run(&env.write("speedy-1.0.tar.gz", &native));
    assert!(e.decision.allowed(), "{:?}", e.decision);
}

#[test]
fn a_store_that_cannot_be_read_fails_closed() {
    let env = Env::new();
    env.run(&neighbours().join("ctrl-tinycolor-4.1.0.tgz"));
    let conn = rusqlite::Connection::open(env.dir.path().join(ward_gate::risky::STORE_FILE)).unwrap();
    conn.execute_batch("DROP TABLE releases;").unwrap();
    let e = env.run(&env.write("ctrl-tinycolor-4.1.1.tgz", &tinycolor_worm("4.1.1")));
    assert_eq!(codes(&e, Verdict::Deny), [ReasonCode::RiskyChangeUnevaluable]);
}

#[test]
fn rules_that_are_off_say_nothing() {
    let env = Env::with_policy("[defaults]\nmode = \"warn\"\n[[scope]]\npackages = [\"npm:*\"]\nmode = \"warn\"\n");
    env.run(&neighbours().join("ctrl-tinycolor-4.1.0.tgz"));
    let e = env.run(&env.write("ctrl-tinycolor-4.1.1.tgz", &tinycolor_worm("4.1.1")));
    assert!(e.decision.allowed());
    assert!(!codes(&e, Verdict::Allow).iter().any(|c| RISKY.contains(c)));
}

#[test]
fn a_malicious_record_listing_a_file_inside_the_archive_matches_by_that_file() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let marker = hex::encode(sha2::Sha256::digest(MARKER_JS));
    // A record for another name and version: only the file hash can match.
    let record = serde_json::json!({
        "id": "MAL-0000-0001",
        "schema_version": "1.5.0",
        "modified": "2025-09-16T00:00:00Z",
        "summary": "Malicious code in test-worm (npm)",
        "details": "Test record (generated for ward's tests).",
        "affected": [{
            "package": {"ecosystem": "npm", "name": "test-worm"},
            "versions": ["9.9.9"],
            "database_specific": {"indicators": {"files": [{"path": "bundle.js", "sha256": marker}]}}
        }]
    });
    let path = dir.path().join("MAL-0000-0001.json");
    std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();
    let (db, report) = ward_scan::AdvisoryDb::import(&[path], "2025-09-16T00:00:00Z").unwrap();
    assert_eq!(report.malformed.len(), 0, "{report:?}");
    assert!(db.has_file_indicators());
    let gate = Gate::new(ward_verify::TrustRoot::production().unwrap()).with_advisories(std::sync::Arc::new(db), None);
    let worm = dir.path().join("ctrl-tinycolor-4.1.1.tgz");
    std::fs::write(&worm, tinycolor_worm("4.1.1")).unwrap();
    let e = gate.evaluate(&worm, None, &Evidence::default()).unwrap();
    assert!(
        codes(&e, Verdict::Deny).contains(&ReasonCode::PackageMalicious),
        "{:?}",
        e.decision
    );
    let finding = e
        .findings
        .iter()
        .find(|f| f.finding.advisory == "MAL-0000-0001")
        .expect("finding");
    let matched = &finding.finding.malicious.as_ref().unwrap().matched_by;
    assert_eq!(matched, &format!("file:bundle.js (sha256 {marker})"));
    // The clean release has no such file.
    let e = gate
        .evaluate(
            &neighbours().join("ctrl-tinycolor-4.1.0.tgz"),
            None,
            &Evidence::default(),
        )
        .unwrap();
    assert!(!codes(&e, Verdict::Deny).contains(&ReasonCode::PackageMalicious));
}

fn listed(versions: &[(&str, &Path)]) -> ward_gate::risky::RegistryBaseline {
    // What a packument would say: each version's own manifest.
    ward_gate::risky::RegistryBaseline::new(
        "the npm packument",
        ward_core::Ecosystem::Npm,
        versions
            .iter()
            .map(|(v, p)| {
                let id = ward_identify::identify(p, &ward_identify::Options::default()).unwrap();
                ((*v).to_string(), id.traits.unwrap())
            })
            .collect(),
    )
}

#[test]
fn with_no_allowed_release_the_registry_listing_is_the_baseline() {
    let env = Env::new();
    let worm = env.write("ctrl-tinycolor-4.1.1.tgz", &tinycolor_worm("4.1.1"));
    let evidence = Evidence {
        registry_traits: Some(std::sync::Arc::new(listed(&[
            ("4.1.0", &neighbours().join("ctrl-tinycolor-4.1.0.tgz")),
            ("4.1.1", &worm),
            ("4.2.0", &neighbours().join("ctrl-tinycolor-4.2.0.tgz")),
        ]))),
        ..Evidence::default()
    };
    let e = env.gate.evaluate(&worm, None, &evidence).unwrap();
    assert_eq!(codes(&e, Verdict::Deny), [ReasonCode::InstallScriptAdded]);
    let m = message(&e, ReasonCode::InstallScriptAdded);
    assert!(
        m.starts_with("postinstall added in 4.1.1: `node bundle.js` (4.1.0 (per the npm packument) had none)"),
        "{m}"
    );
    // A native binary cannot be compared with a listing: a warning, not a deny.
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(256, 0);
    let with_binary = env.write(
        "ctrl-tinycolor-4.1.3.tgz",
        &repack(
            &neighbours().join("ctrl-tinycolor-4.1.0.tgz"),
            |j| j["version"] = "4.1.3".into(),
            &[("package/prebuilds/linux-x64/tiny.node", &elf)],
        ),
    );
    let e = env.gate.evaluate(&with_binary, None, &evidence).unwrap();
    assert!(e.decision.allowed(), "{:?}", e.decision);
    assert!(message(&e, ReasonCode::NoEarlierRelease).contains("does not say which files it held"));
}

#[test]
fn the_nearer_earlier_release_wins_between_the_store_and_the_listing() {
    let env = Env::new();
    // ward allowed 4.1.0; the listing also names a 4.0.0 with a postinstall.
    env.run(&neighbours().join("ctrl-tinycolor-4.1.0.tgz"));
    let old = env.write(
        "ctrl-tinycolor-4.0.0.tgz",
        &repack(
            &neighbours().join("ctrl-tinycolor-4.1.0.tgz"),
            |j| {
                j["version"] = "4.0.0".into();
                j["scripts"]["postinstall"] = "node bundle.js".into();
            },
            &[],
        ),
    );
    let evidence = Evidence {
        registry_traits: Some(std::sync::Arc::new(listed(&[("4.0.0", &old)]))),
        ..Evidence::default()
    };
    let worm = env.write("ctrl-tinycolor-4.1.1.tgz", &tinycolor_worm("4.1.1"));
    let e = env.gate.evaluate(&worm, None, &evidence).unwrap();
    assert!(
        message(&e, ReasonCode::InstallScriptAdded).contains("(4.1.0 had none)"),
        "{:?}",
        e.decision
    );
}

#[test]
fn rego_rules_see_the_traits_and_the_earlier_release() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.rego"),
        r#"package ward

import rego.v1

deny contains msg if {
	cmd := input.traits.install_scripts.postinstall
	not input.earlier_release.traits.install_scripts.postinstall
	msg := sprintf("postinstall %s is new since %s (from %s)", [cmd, input.earlier_release.version, input.earlier_release.from])
}
"#,
    )
    .unwrap();
    let policy = ward_policy::Policy::parse(
        "[defaults]\nmode = \"warn\"\n[[scope]]\npackages = [\"npm:*\"]\nmode = \"enforce\"\nkeys = []\nrego = [\"rules.rego\"]\n",
        "ward.toml",
        dir.path(),
    )
    .unwrap();
    let gate = Gate::new(ward_verify::TrustRoot::production().unwrap()).with_policy(policy);
    let worm = dir.path().join("ctrl-tinycolor-4.1.1.tgz");
    std::fs::write(&worm, tinycolor_worm("4.1.1")).unwrap();
    let evidence = Evidence {
        registry_traits: Some(std::sync::Arc::new(listed(&[(
            "4.1.0",
            &neighbours().join("ctrl-tinycolor-4.1.0.tgz"),
        )]))),
        ..Evidence::default()
    };
    let e = gate.evaluate(&worm, None, &evidence).unwrap();
    let m = message(&e, ReasonCode::RegoDeny);
    assert!(
        m.contains("postinstall node bundle.js is new since 4.1.0 (from the npm packument)"),
        "{m}"
    );
}
