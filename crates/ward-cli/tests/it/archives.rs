//! Identify: reading npm tarballs, wheels, sdists and crates, and refusing
//! hostile archives (path traversal, links, bombs, lies about identity).

use crate::common::{Entry, TestKey, tgz, ward, zip};
use sigstore_verify::crypto::KeyAlgorithm;
use std::path::Path;

struct Signed {
    dir: tempfile::TempDir,
    key: TestKey,
}

fn setup() -> Signed {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = TestKey::generate(dir.path(), "test-publisher", KeyAlgorithm::EcdsaP256);
    Signed { dir, key }
}

impl Signed {
    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Signs the artifact, so that the archive check is the only thing that can deny.
    fn verify(&self, artifact: &Path, extra: &[&str]) -> crate::common::Run {
        let sig = self.key.sign_file(artifact);
        let mut args = vec![
            "verify".to_string(),
            artifact.display().to_string(),
            "--key".into(),
            self.key.pub_pem.display().to_string(),
            "--signature".into(),
            sig.display().to_string(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        ward(&args)
    }
}

fn json(run: &crate::common::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).expect("JSON output")
}

const PKG_JSON: &[u8] = br#"{"name": "@acme/left-pad", "version": "1.3.0"}"#;

#[test]
fn npm_tarball_identity_comes_from_package_json() {
    let s = setup();
    let art = s.path("acme-left-pad-1.3.0.tgz");
    tgz(
        &art,
        &[
            Entry::File("package/package.json", PKG_JSON),
            Entry::File("package/index.js", b"module.exports = 1;\n"),
        ],
    );
    let run = s.verify(&art, &[]);
    run.expect(0);
    let doc = json(&run);
    assert_eq!(doc["artifact"]["id"], "pkg:npm/%40acme/left-pad@1.3.0");
    assert_eq!(doc["artifact"]["kind"], "npm-tarball");
    let bytes = std::fs::read(&art).expect("read");
    assert_eq!(doc["artifact"]["size"], bytes.len());
    assert_eq!(doc["artifact"]["digests"]["sha512"].as_str().map(str::len), Some(128));
}

#[test]
fn wheel_sdist_and_crate_identities() {
    let s = setup();
    let whl = s.path("demo_pkg-1.0-py3-none-any.whl");
    zip(
        &whl,
        &[
            ("demo_pkg/__init__.py", b""),
            (
                "demo_pkg-1.0.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: demo_pkg\nVersion: 1.0\n",
            ),
        ],
    );
    assert_eq!(
        json(s.verify(&whl, &[]).expect(0))["artifact"]["id"],
        "pkg:pypi/demo-pkg@1.0"
    );

    let sdist = s.path("demo-2.0.tar.gz");
    tgz(
        &sdist,
        &[
            Entry::File(
                "demo-2.0/PKG-INFO",
                b"Metadata-Version: 2.1\nName: Demo\nVersion: 2.0\n",
            ),
            Entry::File("demo-2.0/setup.py", b""),
        ],
    );
    let doc = json(s.verify(&sdist, &[]).expect(0));
    assert_eq!(doc["artifact"]["id"], "pkg:pypi/demo@2.0");
    assert_eq!(doc["artifact"]["kind"], "sdist");

    let krate = s.path("demo-0.1.0.crate");
    tgz(
        &krate,
        &[
            Entry::File(
                "demo-0.1.0/Cargo.toml",
                b"[package]\nname = \"demo\"\nversion = \"0.1.0\"\n",
            ),
            Entry::File("demo-0.1.0/src/lib.rs", b""),
        ],
    );
    assert_eq!(
        json(s.verify(&krate, &[]).expect(0))["artifact"]["id"],
        "pkg:cargo/demo@0.1.0"
    );
}

#[test]
fn path_traversal_is_refused_in_tar_and_zip() {
    let s = setup();
    for name in [&b"package/../../evil.js"[..], b"/etc/evil"] {
        let art = s.path("trav.tgz");
        tgz(
            &art,
            &[
                Entry::File("package/package.json", PKG_JSON),
                Entry::RawName(name, b"x"),
            ],
        );
        s.verify(&art, &[]).expect(1).reason("archive-path-traversal");
    }
    let whl = s.path("demo_pkg-1.0-py3-none-any.whl");
    zip(
        &whl,
        &[
            ("demo_pkg-1.0.dist-info/METADATA", b"Name: demo_pkg\nVersion: 1.0\n"),
            ("../../evil.py", b"x"),
        ],
    );
    s.verify(&whl, &[]).expect(1).reason("archive-path-traversal");
}

#[test]
fn symlink_entries_are_refused() {
    let s = setup();
    let art = s.path("link.tgz");
    tgz(
        &art,
        &[
            Entry::File("package/package.json", PKG_JSON),
            Entry::Symlink("package/.cargo-ok", "/etc/passwd"),
        ],
    );
    s.verify(&art, &[]).expect(1).reason("archive-link-entry");
}

#[test]
fn special_file_entries_are_refused() {
    let s = setup();
    let art = s.path("fifo.tgz");
    tgz(
        &art,
        &[
            Entry::File("package/package.json", PKG_JSON),
            Entry::Fifo("package/pipe"),
        ],
    );
    s.verify(&art, &[]).expect(1).reason("archive-entry-type");
}

#[test]
fn a_thousandfold_decompression_bomb_is_refused() {
    let s = setup();
    let zeros = vec![0u8; 32 << 20];
    let art = s.path("bomb.tgz");
    tgz(
        &art,
        &[
            Entry::File("package/package.json", PKG_JSON),
            Entry::File("package/zeros.bin", &zeros),
        ],
    );
    let ratio = zeros.len() as u64 / std::fs::metadata(&art).expect("stat").len();
    assert!(ratio >= 1000, "the test bomb must be at least 1000x, is {ratio}x");
    s.verify(&art, &[]).expect(1).reason("archive-compression-ratio");

    let whl = s.path("demo_pkg-1.0-py3-none-any.whl");
    zip(
        &whl,
        &[
            ("demo_pkg-1.0.dist-info/METADATA", b"Name: demo_pkg\nVersion: 1.0\n"),
            ("demo_pkg/zeros.bin", &zeros),
        ],
    );
    s.verify(&whl, &[]).expect(1).reason("archive-compression-ratio");
}

#[test]
fn entry_count_and_unpacked_size_limits_apply() {
    let s = setup();
    let art = s.path("many.tgz");
    let names: Vec<String> = (0..10).map(|i| format!("package/f{i}.js")).collect();
    let mut entries = vec![Entry::File("package/package.json", PKG_JSON)];
    entries.extend(names.iter().map(|n| Entry::File(n, b"x")));
    tgz(&art, &entries);
    s.verify(&art, &["--max-entries", "5"])
        .expect(1)
        .reason("archive-too-many-entries");
    s.verify(&art, &["--max-unpacked", "1000"])
        .expect(1)
        .reason("archive-too-large");
    s.verify(&art, &[]).expect(0);
}

#[test]
fn identity_lies_are_refused() {
    let s = setup();
    let whl = s.path("other_pkg-1.0-py3-none-any.whl");
    zip(
        &whl,
        &[("demo_pkg-1.0.dist-info/METADATA", b"Name: demo_pkg\nVersion: 1.0\n")],
    );
    s.verify(&whl, &[]).expect(1).reason("package-name-mismatch");

    let art = s.path("left-pad.tgz");
    tgz(&art, &[Entry::File("package/package.json", PKG_JSON)]);
    s.verify(&art, &["--purl", "pkg:npm/%40acme/left-pad@1.3.1"])
        .expect(1)
        .reason("package-name-mismatch");
    s.verify(&art, &["--purl", "pkg:npm/left-pad@1.3.0"])
        .expect(1)
        .reason("package-name-mismatch");
    s.verify(&art, &["--purl", "pkg:npm/%40acme/left-pad@1.3.0"]).expect(0);
}

#[test]
fn broken_archives_are_malformed_or_missing_metadata() {
    let s = setup();
    let art = s.path("fake.tgz");
    std::fs::write(&art, b"not gzip at all").expect("write");
    s.verify(&art, &[]).expect(1).reason("archive-malformed");

    let good = s.path("good.tgz");
    tgz(
        &good,
        &[
            Entry::File("package/package.json", PKG_JSON),
            Entry::File("package/a.js", &[7u8; 100_000]),
        ],
    );
    let bytes = std::fs::read(&good).expect("read");
    let truncated = s.path("truncated.tgz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    s.verify(&truncated, &[]).expect(1).reason("archive-malformed");

    let empty = s.path("nometa.tgz");
    tgz(&empty, &[Entry::File("package/index.js", b"")]);
    s.verify(&empty, &[]).expect(1).reason("metadata-missing");

    let bad = s.path("badmeta.tgz");
    tgz(&bad, &[Entry::File("package/package.json", b"{\"name\": 5}")]);
    s.verify(&bad, &[]).expect(1).reason("metadata-malformed");
}
