//! Identify: reading npm tarballs, wheels, sdists and crates, and refusing
//! hostile archives (path traversal, links, bombs, lies about identity).

use crate::archives_differential::{
    EVIL, GOOD, GOOD_META, Header, META_DIR, Tar, WHEEL, ZipEntry, crate_corpus, npm_corpus, raw_zip, wheel_corpus,
};
use crate::common::{Entry, TestContext, TestKey, tgz, zip};
use sigstore_verify::crypto::KeyAlgorithm;
use std::path::Path;
use std::process::Command;

pub(crate) struct Signed {
    pub(crate) dir: tempfile::TempDir,
    key: TestKey,
    pub(crate) ctx: TestContext,
}

pub(crate) fn setup() -> Signed {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = TestKey::generate(dir.path(), "test-publisher", KeyAlgorithm::EcdsaP256);
    Signed {
        dir,
        key,
        ctx: TestContext::new(),
    }
}

impl Signed {
    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Signs the artifact, so that the archive check is the only thing that can deny.
    pub(crate) fn verify(&self, artifact: &Path, extra: &[&str]) -> crate::common::Run {
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
        self.ctx.ward(&args)
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

/// Writes one case of a corpus and verifies it.
fn case(s: &Signed, corpus: &[(&'static str, Vec<u8>, bool)], which: &str, file_name: &str) -> crate::common::Run {
    let (_, bytes, _) = corpus
        .iter()
        .find(|(c, _, _)| *c == which)
        .unwrap_or_else(|| panic!("no case {which}"));
    let dir = s.path(which.trim_end_matches(".tgz"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let p = dir.join(file_name);
    std::fs::write(&p, bytes).expect("write");
    s.verify(&p, &[])
}

#[test]
fn npm_conflicting_gnu_and_pax_names_are_refused() {
    let s = setup();
    let corpus = npm_corpus();
    case(&s, &corpus, "gnu-and-pax.tgz", "good-pkg-1.0.0.tgz")
        .expect(1)
        .reason("archive-ambiguous");
    // PAX and GNU long names on their own are read.
    for ok in ["ok-pax-long-path.tgz", "ok-gnu-long-name.tgz"] {
        let run = case(&s, &corpus, ok, "good-pkg-1.0.0.tgz");
        assert_eq!(json(run.expect(0))["artifact"]["id"], "pkg:npm/good-pkg@1.0.0");
    }
}

#[test]
fn npm_data_after_a_single_zero_block_is_refused() {
    let s = setup();
    case(&s, &npm_corpus(), "single-zero-block.tgz", "good-pkg-1.0.0.tgz")
        .expect(1)
        .reason("archive-ambiguous");
    // A second gzip member: node-tar reads on, cargo stops.
    case(&s, &npm_corpus(), "two-members.tgz", "good-pkg-1.0.0.tgz")
        .expect(1)
        .reason("archive-ambiguous");
}

#[test]
fn a_bomb_after_the_end_of_archive_blocks_is_counted() {
    let s = setup();
    let mut tar = Tar::default();
    tar.file("package/package.json", GOOD).zero_block().zero_block();
    tar.0.extend(std::iter::repeat_n(0u8, 32 << 20));
    let art = s.path("bomb-after-eof.tgz");
    std::fs::write(&art, crate::archives_differential::gz(&tar.0)).expect("write");
    s.verify(&art, &[]).expect(1).reason("archive-compression-ratio");
}

#[test]
fn npm_entries_are_read_after_strip_one_like_node_tar() {
    let s = setup();
    let corpus = npm_corpus();
    for hostile in ["dot-root.tgz", "other-top-too.tgz", "dot-package.tgz"] {
        case(&s, &corpus, hostile, "good-pkg-1.0.0.tgz")
            .expect(1)
            .reason("archive-ambiguous");
    }
    let run = case(&s, &corpus, "ok-other-top.tgz", "good-pkg-1.0.0.tgz");
    assert_eq!(json(run.expect(0))["artifact"]["id"], "pkg:npm/good-pkg@1.0.0");
}

#[test]
fn tar_headers_node_tar_reads_differently_are_refused() {
    let s = setup();
    let corpus = npm_corpus();
    for hostile in [
        "dir-with-data.tgz",
        "file-with-slash.tgz",
        "cksum-unterminated.tgz",
        "pax-size.tgz",
        "global-size.tgz",
        "pax-type.tgz",
        "file-with-linkname.tgz",
        "empty-pax.tgz",
        "pax-non-ascii-over-manifest.tgz",
    ] {
        let run = case(&s, &corpus, hostile, "good-pkg-1.0.0.tgz");
        run.expect(1);
        assert!(
            run.all().contains("archive-ambiguous") || run.all().contains("archive-malformed"),
            "{hostile}: {}",
            run.all()
        );
    }
}

#[test]
fn names_colliding_after_case_folding_or_nfc_are_refused() {
    let s = setup();
    let npm = npm_corpus();
    for hostile in ["case-collision.tgz", "nfc-nfd.tgz"] {
        case(&s, &npm, hostile, "good-pkg-1.0.0.tgz")
            .expect(1)
            .reason("archive-ambiguous");
    }
    let wheels = wheel_corpus();
    for hostile in ["case-collision", "nfc-nfd"] {
        case(&s, &wheels, hostile, WHEEL).expect(1).reason("archive-ambiguous");
    }
    case(&s, &crate_corpus(), "case-collision", "good-pkg-1.0.0.crate")
        .expect(1)
        .reason("archive-ambiguous");
}

#[test]
fn zip_local_and_central_names_must_agree_and_be_unique() {
    let s = setup();
    let wheels = wheel_corpus();
    for hostile in [
        "local-central-mismatch",
        "duplicate-init",
        "duplicate-metadata",
        "hidden-local-entry",
    ] {
        case(&s, &wheels, hostile, WHEEL).expect(1).reason("archive-ambiguous");
    }
    let run = case(&s, &wheels, "ok", WHEEL);
    assert_eq!(json(run.expect(0))["artifact"]["id"], "pkg:pypi/good-pkg@1.0.0");
}

#[test]
fn invalid_npm_names_are_refused() {
    let s = setup();
    for bad in [
        "../../etc",
        ".hidden",
        "_under",
        " spaced",
        "a/b",
        "@scope/../x",
        "@scope/",
        "node_modules",
        "caf\u{e9}",
        &"x".repeat(215),
    ] {
        let art = s.path("bad-name.tgz");
        let pj = serde_json::json!({"name": bad, "version": "1.0.0"}).to_string();
        tgz(&art, &[Entry::File("package/package.json", pj.as_bytes())]);
        s.verify(&art, &[]).expect(1).reason("metadata-malformed");
    }
    // Legacy names with capitals are still installable from the registry.
    for good in ["JSONStream", "@acme/left-pad", "lodash.merge"] {
        let art = s.path("good-name.tgz");
        let pj = serde_json::json!({"name": good, "version": "1.0.0"}).to_string();
        tgz(&art, &[Entry::File("package/package.json", pj.as_bytes())]);
        s.verify(&art, &[]).expect(0);
    }
}

#[test]
fn wheel_version_and_dist_info_must_match_metadata() {
    let s = setup();
    case(&s, &wheel_corpus(), "version-lie", WHEEL)
        .expect(1)
        .reason("package-name-mismatch");
    // The .dist-info directory says another version than METADATA and the file name.
    let whl = s.path(WHEEL);
    std::fs::write(
        &whl,
        raw_zip(&[
            ZipEntry::new("good_pkg/__init__.py", b""),
            ZipEntry::new("good_pkg-6.6.6.dist-info/METADATA", GOOD_META),
        ]),
    )
    .expect("write");
    s.verify(&whl, &[]).expect(1).reason("package-name-mismatch");
    // A normalised spelling of the same version is the same version.
    let whl = s.path("good_pkg-1.0-py3-none-any.whl");
    std::fs::write(
        &whl,
        raw_zip(&[ZipEntry::new(
            "good_pkg-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: Good.Pkg\nVersion: 1.0.0\n",
        )]),
    )
    .expect("write");
    s.verify(&whl, &[]).expect(0);
    let _ = META_DIR;
}

#[test]
fn folded_metadata_headers_are_refused() {
    let s = setup();
    case(&s, &wheel_corpus(), "folded-name", WHEEL)
        .expect(1)
        .reason("metadata-malformed");
}

#[test]
fn sdist_file_name_must_match_pkg_info() {
    let s = setup();
    let pkg_info = b"Metadata-Version: 2.1\nName: Good_Pkg\nVersion: 1.0.0\n";
    for (file, ok) in [
        ("good_pkg-1.0.0.tar.gz", true),
        ("good-pkg-1.0.tar.gz", true),
        ("Good.Pkg-1.0.0.tar.gz", true),
        ("evil-pkg-1.0.0.tar.gz", false),
        ("good_pkg-6.6.6.tar.gz", false),
    ] {
        let art = s.path(file);
        tgz(
            &art,
            &[Entry::File(
                &format!("{}/PKG-INFO", file.trim_end_matches(".tar.gz")),
                pkg_info,
            )],
        );
        let run = s.verify(&art, &[]);
        if ok {
            run.expect(0);
        } else {
            run.expect(1).reason("package-name-mismatch");
        }
    }
    let zip_sdist = s.path("good_pkg-6.6.6.zip");
    zip(&zip_sdist, &[("good_pkg-6.6.6/PKG-INFO", pkg_info)]);
    s.verify(&zip_sdist, &[]).expect(1).reason("package-name-mismatch");
}

#[test]
fn crate_entries_must_sit_under_name_version() {
    let s = setup();
    let corpus = crate_corpus();
    for hostile in ["outside-prefix", "dot-prefix", "gnu-and-pax", "single-zero-block"] {
        case(&s, &corpus, hostile, "good-pkg-1.0.0.crate").expect(1);
    }
    case(&s, &corpus, "ok", "good-pkg-1.0.0.crate").expect(0);
    let _ = (EVIL, Header::new("x", b'0', 0));
}

#[test]
fn an_artifact_that_is_not_a_regular_file_is_unreadable() {
    let s = setup();
    let fifo = s.path("pipe.tgz");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    for artifact in [Path::new("/dev/zero"), fifo.as_path()] {
        // The deadline turns the old endless hash (or a blocked open) into a failure.
        let out = s
            .ctx
            .ward_within(
                std::time::Duration::from_secs(30),
                ["verify", artifact.to_str().unwrap_or_default(), "--format", "json"],
            )
            .unwrap_or_else(|| panic!("{}: ward did not end within 30 s", artifact.display()));
        let all = out.all();
        assert_eq!(out.code, 2, "{}: {all}", artifact.display());
        assert!(all.contains("artifact-unreadable"), "{all}");
    }
}
