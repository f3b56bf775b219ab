//! Each artifact an audit compares with is read once: the bytes whose
//! digest is checked are the bytes unpacked, never a second read of a file
//! that could have changed in between. Counted with the kernel's own
//! per-process I/O accounting (`rchar` in `/proc/self/io`, every byte
//! `read` returned), in a test binary of its own so that no other test's
//! reads are counted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation)]

use sha2::Digest as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use ward_audit::{AlertKind, Allow, Allows, AuditContext, AuditReport, audit};

/// Bytes of the large file inside each artifact.
const BIG: usize = 4 << 20;

fn now() -> jiff::Timestamp {
    "2026-12-02T00:00:00Z".parse().unwrap()
}

/// Incompressible bytes (xorshift), so the artifact is as large as its file.
fn noise(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Bytes this process has read so far.
fn rchar() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn allow(purl: &str, file: &str, kind: &str, sha256: &str) -> Allow {
    let record = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": purl, "digest": {"sha256": sha256}}],
        "predicateType": ward_ledger::record::DECISION_PREDICATE,
        "predicate": {
            "verifier": {"id": "https://ward.invalid/ward", "version": "0"},
            "timeVerified": "2026-11-01T00:00:00Z",
            "resourceUri": purl,
            "artifact": {"fileName": file, "kind": kind, "size": 1},
            "policy": {"uri": "ward:safe-default"},
            "verificationResult": "PASSED",
        },
    });
    let record: ward_ledger::record::DecisionRecord = serde_json::from_value(record).unwrap();
    Allow::from_record(0, &record).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(bytes))
}

/// Audits `path` with the proxy cache `cache`; returns the report and the
/// bytes read meanwhile.
fn counted(path: &Path, allows: &Allows, cache: PathBuf) -> (AuditReport, u64) {
    let ctx = AuditContext::new(allows, now()).with_cache(cache);
    let before = rchar();
    let report = audit(&[path.to_path_buf()], &ctx).unwrap();
    (report, rchar() - before)
}

fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (p, body) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, p, *body).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// A Python site whose wheel is in the proxy cache, and a cargo home whose
/// `.crate` is in `registry/cache` and in the proxy cache: the audit reads
/// the installed files once (`BIG` bytes) and each artifact once (`BIG`
/// more), where it read the wheel twice (hashed, then reopened and
/// unpacked) and the `.crate` three times before.
#[test]
fn the_audit_reads_each_artifact_once() {
    let big = noise(BIG);
    let d = tempfile::tempdir().unwrap();
    let cache = d.path().join("cache");
    std::fs::create_dir_all(cache.join("blobs")).unwrap();

    // Python: demo 1.0, installed from a wheel the ledger allowed.
    let site = d.path().join("site");
    let metadata: &[u8] = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n";
    let files: &[(&str, &[u8])] = &[
        ("demo/__init__.py", b"VALUE = 1\n"),
        ("demo/blob.bin", &big),
        ("demo-1.0.dist-info/METADATA", metadata),
    ];
    let mut record = String::new();
    let mut wheel = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (p, body) in files {
        let path = site.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap();
        record.push_str(&format!("{p},sha256={},{}\n", b64(body), body.len()));
        wheel.start_file(*p, stored).unwrap();
        wheel.write_all(body).unwrap();
    }
    record.push_str("demo-1.0.dist-info/RECORD,,\n");
    std::fs::write(site.join("demo-1.0.dist-info/RECORD"), &record).unwrap();
    wheel.start_file("demo-1.0.dist-info/RECORD", stored).unwrap();
    wheel.write_all(record.as_bytes()).unwrap();
    let wheel = wheel.finish().unwrap().into_inner();
    let wheel_sha = hex::encode(sha2::Sha256::digest(&wheel));
    std::fs::write(cache.join("blobs").join(&wheel_sha), &wheel).unwrap();
    let mut allows = Allows::empty();
    allows.push(allow(
        "pkg:pypi/demo@1.0",
        "demo-1.0-py3-none-any.whl",
        "wheel",
        &wheel_sha,
    ));
    let (r, read) = counted(&site, &allows, cache.clone());
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.packages[0].allow.as_ref().map(|a| a.sha256.clone()), Some(wheel_sha));
    assert!(
        read < 2 * BIG as u64 + (BIG as u64) / 2,
        "read {read} bytes for a {} byte wheel and its installed files",
        wheel.len()
    );

    // Cargo: the sources of tiny 0.1.0 beside the .crate they came from.
    let home = d.path().join("cargo-home");
    let src = home.join("registry/src/index.crates.io-1949cf8c6b5b557f/tiny-0.1.0");
    let crates = home.join("registry/cache/index.crates.io-1949cf8c6b5b557f");
    std::fs::create_dir_all(src.join("src")).unwrap();
    std::fs::create_dir_all(&crates).unwrap();
    let manifest: &[u8] = b"[package]\nname = \"tiny\"\nversion = \"0.1.0\"\n";
    let krate = tar_gz(&[("tiny-0.1.0/Cargo.toml", manifest), ("tiny-0.1.0/src/big.bin", &big)]);
    std::fs::write(crates.join("tiny-0.1.0.crate"), &krate).unwrap();
    std::fs::write(src.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(src.join("src/big.bin"), &big).unwrap();
    std::fs::write(src.join(".cargo-ok"), b"{\"v\":1}").unwrap();
    let crate_sha = hex::encode(sha2::Sha256::digest(&krate));
    std::fs::write(cache.join("blobs").join(&crate_sha), &krate).unwrap();
    let mut allows = Allows::empty();
    allows.push(allow("pkg:cargo/tiny@0.1.0", "tiny-0.1.0.crate", "crate", &crate_sha));
    let (r, read) = counted(&home, &allows, cache);
    assert!(
        r.findings
            .iter()
            .all(|f| f.kind != AlertKind::Modified && f.kind != AlertKind::Unvetted),
        "{:?}",
        r.findings
    );
    assert_eq!(r.packages[0].allow.as_ref().map(|a| a.sha256.clone()), Some(crate_sha));
    assert!(
        read < 2 * BIG as u64 + (BIG as u64) / 2,
        "read {read} bytes for a {} byte .crate and its sources",
        krate.len()
    );
}
