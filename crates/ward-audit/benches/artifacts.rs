//! Auditing against artifacts: a Python site whose 32 MiB wheel is in the
//! proxy cache, and a cargo home whose 32 MiB `.crate` is in
//! `registry/cache` and in the proxy cache, each audited clean several
//! times in-process (files in the page cache); wall time per audit.
//!
//! `cargo bench -p ward-audit --bench artifacts`

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    missing_docs
)]

use sha2::Digest as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use ward_audit::{Allow, Allows, AuditContext, audit};

const BIG: usize = 32 << 20;
const RUNS: usize = 9;

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

/// Median wall time of auditing `path`.
fn median(path: &Path, allows: &Allows, cache: &Path) -> Duration {
    let ctx = AuditContext::new(allows, jiff::Timestamp::now()).with_cache(cache.to_path_buf());
    let paths = [path.to_path_buf()];
    let _ = audit(&paths, &ctx).unwrap();
    let mut all: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            let r = audit(&paths, &ctx).unwrap();
            assert!(r.findings.is_empty(), "{:?}", r.findings);
            t.elapsed()
        })
        .collect();
    all.sort();
    all[RUNS / 2]
}

fn main() {
    let big = noise(BIG);
    let d = tempfile::tempdir().unwrap();
    let cache = d.path().join("cache");
    std::fs::create_dir_all(cache.join("blobs")).unwrap();

    let site: PathBuf = d.path().join("site");
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
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(body));
        record.push_str(&format!("{p},sha256={b64},{}\n", body.len()));
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
    let python = median(&site, &allows, &cache);

    let home = d.path().join("cargo-home");
    let src = home.join("registry/src/index.crates.io-1949cf8c6b5b557f/tiny-0.1.0");
    let crates = home.join("registry/cache/index.crates.io-1949cf8c6b5b557f");
    std::fs::create_dir_all(src.join("src")).unwrap();
    std::fs::create_dir_all(&crates).unwrap();
    let manifest: &[u8] = b"[package]\nname = \"tiny\"\nversion = \"0.1.0\"\n";
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (p, body) in [("tiny-0.1.0/Cargo.toml", manifest), ("tiny-0.1.0/src/big.bin", &big)] {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, p, body).unwrap();
    }
    let krate = b.into_inner().unwrap().finish().unwrap();
    std::fs::write(crates.join("tiny-0.1.0.crate"), &krate).unwrap();
    std::fs::write(src.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(src.join("src/big.bin"), &big).unwrap();
    std::fs::write(src.join(".cargo-ok"), b"{\"v\":1}").unwrap();
    let crate_sha = hex::encode(sha2::Sha256::digest(&krate));
    std::fs::write(cache.join("blobs").join(&crate_sha), &krate).unwrap();
    let mut allows = Allows::empty();
    allows.push(allow("pkg:cargo/tiny@0.1.0", "tiny-0.1.0.crate", "crate", &crate_sha));
    let cargo = median(&home, &allows, &cache);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "audit against a cached {} MiB wheel: {:.1} ms; against a {} MiB .crate (registry/cache and proxy cache): {:.1} ms (median of {RUNS})",
        wheel.len() >> 20,
        ms(python),
        krate.len() >> 20,
        ms(cargo)
    );
}
