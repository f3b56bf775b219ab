//! Fixtures shared by ward-audit's integration tests and its `artifacts`
//! bench (which includes this file by path): RECORD digests, tarballs,
//! allows built from decision records, and a Python site and a cargo home
//! installed from artifacts the proxy cache holds.

#![allow(dead_code, clippy::unwrap_used, clippy::cast_possible_truncation)]

use base64::Engine as _;
use sha2::Digest as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use ward_audit::{Allow, Allows};

/// A RECORD digest: URL-safe base64 of the SHA-256, unpadded.
pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(bytes))
}

/// Incompressible bytes (xorshift), so an artifact is as large as its file.
pub(crate) fn noise(n: usize) -> Vec<u8> {
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

/// A gzipped tarball of these files.
pub(crate) fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
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

/// The allow a decision record for this file and digest gives.
pub(crate) fn allow(purl: &str, file: &str, kind: &str, sha256: &str) -> Allow {
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

/// An installed tree, the artifact it came from (in the proxy cache's
/// `blobs/`), its sha256 and the ledger's allow of it.
pub(crate) struct Installed {
    pub(crate) root: PathBuf,
    pub(crate) artifact: Vec<u8>,
    pub sha256: String,
    pub(crate) allows: Allows,
}

fn cached(cache: &Path, artifact: &[u8]) -> String {
    let sha = hex::encode(sha2::Sha256::digest(artifact));
    std::fs::create_dir_all(cache.join("blobs")).unwrap();
    std::fs::write(cache.join("blobs").join(&sha), artifact).unwrap();
    sha
}

/// `dir/site`: demo 1.0 installed from a stored (uncompressed) wheel that
/// holds `big` as `demo/blob.bin`.
pub(crate) fn python_site(dir: &Path, cache: &Path, big: &[u8]) -> Installed {
    let site = dir.join("site");
    let metadata: &[u8] = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n";
    let files: &[(&str, &[u8])] = &[
        ("demo/__init__.py", b"VALUE = 1\n"),
        ("demo/blob.bin", big),
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
    let sha256 = cached(cache, &wheel);
    let mut allows = Allows::empty();
    allows.push(allow(
        "pkg:pypi/demo@1.0",
        "demo-1.0-py3-none-any.whl",
        "wheel",
        &sha256,
    ));
    Installed {
        root: site,
        artifact: wheel,
        sha256,
        allows,
    }
}

/// `dir/cargo-home`: the sources of tiny 0.1.0 (holding `big` as
/// `src/big.bin`) beside the `.crate` they came from, which the proxy cache
/// also holds.
pub(crate) fn cargo_home(dir: &Path, cache: &Path, big: &[u8]) -> Installed {
    let home = dir.join("cargo-home");
    let src = home.join("registry/src/index.crates.io-1949cf8c6b5b557f/tiny-0.1.0");
    let crates = home.join("registry/cache/index.crates.io-1949cf8c6b5b557f");
    std::fs::create_dir_all(src.join("src")).unwrap();
    std::fs::create_dir_all(&crates).unwrap();
    let manifest: &[u8] = b"[package]\nname = \"tiny\"\nversion = \"0.1.0\"\n";
    let krate = tar_gz(&[("tiny-0.1.0/Cargo.toml", manifest), ("tiny-0.1.0/src/big.bin", big)]);
    std::fs::write(crates.join("tiny-0.1.0.crate"), &krate).unwrap();
    std::fs::write(src.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(src.join("src/big.bin"), big).unwrap();
    std::fs::write(src.join(".cargo-ok"), b"{\"v\":1}").unwrap();
    let sha256 = cached(cache, &krate);
    let mut allows = Allows::empty();
    allows.push(allow("pkg:cargo/tiny@0.1.0", "tiny-0.1.0.crate", "crate", &sha256));
    Installed {
        root: home,
        artifact: krate,
        sha256,
        allows,
    }
}
