//! Each artifact an audit compares with is read once: the bytes whose
//! digest is checked are the bytes unpacked, never a second read of a file
//! that could have changed in between. Counted with the kernel's own
//! per-process I/O accounting (`rchar` in `/proc/self/io`, every byte
//! `read` returned), in a test binary of its own so that no other test's
//! reads are counted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation)]

mod support;

use std::path::{Path, PathBuf};
use support::{cargo_home, noise, python_site};
use ward_audit::{AlertKind, Allows, AuditContext, AuditReport, audit};

/// Bytes of the large file inside each artifact.
const BIG: usize = 4 << 20;

fn now() -> jiff::Timestamp {
    "2026-12-02T00:00:00Z".parse().unwrap()
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

/// Audits `path` with the proxy cache `cache`; returns the report and the
/// bytes read meanwhile.
fn counted(path: &Path, allows: &Allows, cache: PathBuf) -> (AuditReport, u64) {
    let ctx = AuditContext::new(allows, now()).with_cache(cache);
    let before = rchar();
    let report = audit(&[path.to_path_buf()], &ctx).unwrap();
    (report, rchar() - before)
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

    // Python: demo 1.0, installed from a wheel the ledger allowed.
    let py = python_site(d.path(), &cache, &big);
    let (r, read) = counted(&py.root, &py.allows, cache.clone());
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.packages[0].allow.as_ref().map(|a| a.sha256.clone()), Some(py.sha256));
    assert!(
        read < 2 * BIG as u64 + (BIG as u64) / 2,
        "read {read} bytes for a {} byte wheel and its installed files",
        py.artifact.len()
    );

    // Cargo: the sources of tiny 0.1.0 beside the .crate they came from.
    let home = cargo_home(d.path(), &cache, &big);
    let (r, read) = counted(&home.root, &home.allows, cache);
    assert!(
        r.findings
            .iter()
            .all(|f| f.kind != AlertKind::Modified && f.kind != AlertKind::Unvetted),
        "{:?}",
        r.findings
    );
    assert_eq!(
        r.packages[0].allow.as_ref().map(|a| a.sha256.clone()),
        Some(home.sha256)
    );
    assert!(
        read < 2 * BIG as u64 + (BIG as u64) / 2,
        "read {read} bytes for a {} byte .crate and its sources",
        home.artifact.len()
    );
}
