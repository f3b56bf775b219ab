//! `compare`: what normalisation forgives, and what it must never hide.

#![allow(clippy::unwrap_used)]

use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};
use ward_identify::Limits;
use ward_rebuild::compare;
use ward_rebuild::compare::{Difference, Side};

/// One tar entry: name, content, mtime, mode, uid; `None` content is a directory.
struct E<'a>(&'a str, Option<&'a [u8]>, u64, u32, u64);

fn tar(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for E(name, data, mtime, mode, uid) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(*mtime);
        h.set_mode(*mode);
        h.set_uid(*uid);
        h.set_username("someone").unwrap();
        match data {
            Some(d) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(d.len() as u64);
                h.set_path(name).unwrap();
                h.set_cksum();
                b.append(&h, *d).unwrap();
            }
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_path(name).unwrap();
                h.set_cksum();
                b.append(&h, &[][..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn gz(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const PKG: &[u8] = br#"{"name":"demo","version":"1.0.0"}"#;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let sub = dir.join(format!("{}-{}", name, bytes.len()));
    std::fs::create_dir_all(&sub).unwrap();
    let p = sub.join("demo-1.0.0.tgz");
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run(a: &[u8], b: &[u8]) -> ward_rebuild::Comparison {
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (write(dir.path(), "a", a), write(dir.path(), "b", b));
    compare(&pa, &pb, &Limits::default()).unwrap()
}

#[test]
fn order_timestamps_owners_modes_and_compression_are_noise() {
    let a = gz(
        &tar(&[
            E("package/package.json", Some(PKG), 1, 0o644, 0),
            E("package/index.js", Some(b"module.exports = 1;\n"), 1, 0o644, 0),
        ]),
        9,
    );
    let b = gz(
        &tar(&[
            E("package/", None, 7, 0o755, 1000),
            E(
                "package/index.js",
                Some(b"module.exports = 1;\n"),
                1_700_000_000,
                0o600,
                1000,
            ),
            E("package/package.json", Some(PKG), 1_700_000_000, 0o777, 1000),
        ]),
        1,
    );
    assert_ne!(a, b);
    let c = run(&a, &b);
    assert!(c.equivalent(), "{:?}", c.differences);
    assert_eq!(c.files, (2, 2));
}

#[test]
fn a_changed_file_is_reported_with_sizes_digests_and_a_diff() {
    let a = gz(
        &tar(&[
            E("package/package.json", Some(PKG), 1, 0o644, 0),
            E("package/index.js", Some(b"a\nb\nc\n"), 1, 0o644, 0),
            E("package/gone.js", Some(b"x"), 1, 0o644, 0),
        ]),
        6,
    );
    let b = gz(
        &tar(&[
            E("package/package.json", Some(PKG), 1, 0o644, 0),
            E("package/index.js", Some(b"a\nEVIL\nc\n"), 1, 0o644, 0),
            E("package/empty/", None, 1, 0o755, 0),
        ]),
        6,
    );
    let c = run(&a, &b);
    assert!(!c.equivalent());
    let changed = c
        .differences
        .iter()
        .find_map(|d| match d {
            Difference::Changed {
                path,
                original,
                rebuilt,
                diff,
            } => Some((path, original, rebuilt, diff)),
            _ => None,
        })
        .unwrap();
    assert_eq!(changed.0, "package/index.js");
    assert_eq!((changed.1.size, changed.2.size), (6, 9));
    assert_ne!(changed.1.sha256, changed.2.sha256);
    let diff = changed.3.as_deref().unwrap();
    assert!(diff.contains("-b\n") && diff.contains("+EVIL\n"), "{diff}");
    assert!(c.differences.contains(&Difference::Only {
        side: Side::Original,
        path: "package/gone.js".into(),
        state: ward_rebuild::compare::FileState {
            kind: "file",
            size: 1,
            sha256: "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881".into(),
        },
    }));
    assert!(
        c.differences
            .iter()
            .any(|d| matches!(d, Difference::Only { side: Side::Rebuilt, path, .. } if path == "package/empty")),
        "an empty directory is content: {:?}",
        c.differences
    );
}

fn refused(c: &ward_rebuild::Comparison, side: Side) -> bool {
    c.differences
        .iter()
        .any(|d| matches!(d, Difference::Refused { side: s, code, .. } if *s == side && code == "archive-ambiguous"))
}

/// A careless normaliser decompresses the first gzip member and stops; npm
/// reads on. The same tar with a second member after it is never equal.
#[test]
fn trailing_data_after_the_gzip_stream_is_a_divergence() {
    let good = gz(&tar(&[E("package/package.json", Some(PKG), 1, 0o644, 0)]), 6);
    let mut bad = good.clone();
    bad.extend(gz(&tar(&[E("package/evil.js", Some(b"steal()"), 1, 0o644, 0)]), 6));
    let c = run(&good, &bad);
    assert!(!c.equivalent());
    assert!(refused(&c, Side::Rebuilt), "{:?}", c.differences);
    // Both sides hostile: still not equal.
    let c = run(&bad, &bad);
    assert!(!c.equivalent() && refused(&c, Side::Original) && refused(&c, Side::Rebuilt));
}

/// Two entries that land on one path once names are normalised (case,
/// Unicode) or that repeat: which copy an installer keeps is not knowable,
/// so the archive is refused rather than one copy compared.
#[test]
fn shadowing_and_duplicate_entries_are_divergences() {
    let good = gz(
        &tar(&[
            E("package/package.json", Some(PKG), 1, 0o644, 0),
            E("package/index.js", Some(b"ok"), 1, 0o644, 0),
        ]),
        6,
    );
    for hostile in [
        vec![
            E("package/package.json", Some(PKG), 1, 0o644, 0),
            E("package/index.js", Some(b"ok"), 1, 0o644, 0),
            E("package/INDEX.js", Some(b"evil"), 1, 0o644, 0),
        ],
        vec![
            E("package/package.json", Some(PKG), 1, 0o644, 0),
            E("package/index.js", Some(b"ok"), 1, 0o644, 0),
            E("package/index.js", Some(b"evil"), 1, 0o644, 0),
        ],
        vec![
            E("package/package.json", Some(PKG), 1, 0o644, 0),
            E("package/caf\u{e9}.js", Some(b"ok"), 1, 0o644, 0),
            E("package/cafe\u{301}.js", Some(b"evil"), 1, 0o644, 0),
        ],
    ] {
        let c = run(&good, &gz(&tar(&hostile), 6));
        assert!(!c.equivalent());
        assert!(refused(&c, Side::Rebuilt), "{:?}", c.differences);
    }
}

#[test]
fn a_zip_and_a_tarball_are_not_equal_and_zips_compare_too() {
    use zip::write::SimpleFileOptions;
    let zip = |level: i64, files: &[(&str, &[u8])]| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in files {
            let o = SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(level));
            w.start_file(*name, o).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    let meta: &[u8] = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n";
    let a = zip(
        9,
        &[("demo/__init__.py", b"x = 1\n"), ("demo-1.0.dist-info/METADATA", meta)],
    );
    let b = zip(
        1,
        &[("demo-1.0.dist-info/METADATA", meta), ("demo/__init__.py", b"x = 1\n")],
    );
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&pa).unwrap();
    std::fs::create_dir_all(&pb).unwrap();
    let (wa, wb) = (
        pa.join("demo-1.0-py3-none-any.whl"),
        pb.join("demo-1.0-py3-none-any.whl"),
    );
    std::fs::write(&wa, &a).unwrap();
    std::fs::write(&wb, &b).unwrap();
    let c = compare(&wa, &wb, &Limits::default()).unwrap();
    assert!(c.equivalent(), "{:?}", c.differences);
    let changed = zip(
        1,
        &[("demo-1.0.dist-info/METADATA", meta), ("demo/__init__.py", b"x = 2\n")],
    );
    std::fs::write(&wb, &changed).unwrap();
    assert!(!compare(&wa, &wb, &Limits::default()).unwrap().equivalent());
}

/// The real chalk tarball against itself re-packed (other compression,
/// other order, other timestamps) is equivalent; against the next release
/// it is not.
#[test]
fn real_chalk_releases() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    let original = data.join("oss-rebuild/chalk-5.6.0.tgz");
    let next = data.join("npm-neighbours/chalk-5.6.2.tgz");
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("chalk-5.6.2.tgz");
    std::fs::copy(&next, &other).unwrap();
    let c = compare(&original, &other, &Limits::default()).unwrap();
    assert!(!c.equivalent());
    assert!(c.differences.iter().any(|d| matches!(d, Difference::Package { .. })));
    assert!(
        c.differences
            .iter()
            .any(|d| matches!(d, Difference::Changed { path, .. } if path == "package/package.json"))
    );
    // Re-pack chalk 5.6.0: reverse order, new times, level 1.
    let bytes = std::fs::read(&original).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut files: Vec<(String, Vec<u8>)> = archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).unwrap();
            (name, data)
        })
        .collect();
    files.reverse();
    let entries: Vec<E<'_>> = files
        .iter()
        .map(|(n, d)| E(n, Some(d), 1_234_567_890, 0o600, 501))
        .collect();
    let repacked = dir.path().join("chalk-5.6.0.tgz");
    std::fs::write(&repacked, gz(&tar(&entries), 1)).unwrap();
    let c = compare(&original, &repacked, &Limits::default()).unwrap();
    assert!(c.equivalent(), "{:?}", c.differences);
}
