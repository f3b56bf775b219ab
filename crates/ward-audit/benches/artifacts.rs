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

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::{cargo_home, noise, python_site};
use ward_audit::{Allows, AuditContext, audit};

const BIG: usize = 32 << 20;
const RUNS: usize = 9;

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
    let py = python_site(d.path(), &cache, &big);
    let python = median(&py.root, &py.allows, &cache);
    let home = cargo_home(d.path(), &cache, &big);
    let cargo = median(&home.root, &home.allows, &cache);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "audit against a cached {} MiB wheel: {:.1} ms; against a {} MiB .crate (registry/cache and proxy cache): {:.1} ms (median of {RUNS})",
        py.artifact.len() >> 20,
        ms(python),
        home.artifact.len() >> 20,
        ms(cargo)
    );
}
