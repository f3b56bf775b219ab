//! Advisory database build and load time, and a 10,000-component scan.
//!
//! `cargo bench -p ward-scan --bench scan`: imports every database in
//! ../shared/testdata/advisories, saves and reloads it, then scans 10,000
//! components made from real package names of the data (PyPI, crates.io,
//! Go, Maven) at versions that exercise the matchers.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::time::Instant;
use ward_core::Component;
use ward_core::PackageId;
use ward_scan::AdvisoryDb;

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/advisories");
    let sources: Vec<_> = ["rustsec", "rustsec-osv", "pypa", "go", "maven-ghsa"]
        .iter()
        .map(|d| data.join(d))
        .collect();
    let start = Instant::now();
    let (db, report) = AdvisoryDb::import(&sources, "bench").unwrap();
    println!(
        "advisory index build: {:.2} s for {} records ({} advisories)",
        start.elapsed().as_secs_f64(),
        report.records,
        report.advisories
    );
    let dir = tempfile::tempdir().unwrap();
    db.save(dir.path()).unwrap();
    let size: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.metadata().unwrap().len())
        .sum();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let loaded = AdvisoryDb::load(dir.path()).unwrap();
        best = best.min(start.elapsed().as_secs_f64());
        std::hint::black_box(loaded.len());
    }
    println!(
        "advisory index load: {:.1} ms ({} KiB, best of 5)",
        best * 1e3,
        size / 1024
    );

    let mut components = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let versions = ["0.1.0", "1.0.0", "1.2.3", "2.0.0", "3.1.4"];
    'outer: for a in db.advisories().unwrap() {
        for p in &a.affected {
            if !seen.insert((p.ecosystem, p.name.clone())) {
                continue;
            }
            let v = versions[components.len() % versions.len()];
            let id = PackageId::new(p.ecosystem, None, p.name.clone(), Some(v.to_string()));
            components.push(Component::new(id, "bench"));
            if components.len() == 10_000 {
                break 'outer;
            }
        }
    }
    // Fewer distinct packages have advisories than 10,000: the rest of the
    // SBOM is made of packages the database has nothing about (most of a real one).
    let mut n = 0;
    while components.len() < 10_000 {
        n += 1;
        components.push(Component::new(
            PackageId::new(
                ward_core::Ecosystem::Npm,
                None,
                format!("clean-package-{n}"),
                Some("1.0.0".into()),
            ),
            "bench",
        ));
    }
    let loaded = AdvisoryDb::load(dir.path()).unwrap();
    let start = Instant::now();
    let report = ward_scan::scan(&loaded, &components, Vec::new());
    println!(
        "scan of {} components: {:.1} ms ({} findings, {} could not be evaluated)",
        components.len(),
        start.elapsed().as_secs_f64() * 1e3,
        report.findings.len(),
        report.unevaluable.len()
    );
}
