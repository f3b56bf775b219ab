//! Owner lookup for a ticket run: 10,000 findings against an `[owners]`
//! table of 20 patterns (10 purl globs, 10 CODEOWNERS paths) and a
//! CODEOWNERS file of 50 lines, as `ward tickets sync` does for each
//! finding.
//!
//! `cargo bench -p ward-alert --bench owners`

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;
use std::time::Instant;
use ward_alert::tickets::owners::Owners;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("CODEOWNERS");
    let lines: String = (0..50).map(|i| format!("/team{i}/ @team{i}\n")).collect();
    std::fs::write(&file, format!("* @everyone\n{lines}")).unwrap();
    let mut table = BTreeMap::new();
    for i in 0..10 {
        table.insert(format!("pkg:npm/scope{i}-*"), vec![format!("@npm{i}")]);
        table.insert(format!("services/svc{i}/"), vec![format!("@svc{i}")]);
    }
    let built = Instant::now();
    let owners = Owners::from_table(table).with_codeowners(&file, dir.path()).unwrap();
    let built = built.elapsed();
    let findings = 10_000;
    let t = Instant::now();
    let mut owned = 0usize;
    for i in 0..findings {
        let purl = format!("pkg:pypi/pkg{i}@1.0");
        let location = format!("team{}/app{i}/requirements.txt", i % 60);
        owned += owners.owners_for(&purl, &location).len();
    }
    let looked = t.elapsed();
    println!(
        "owners of {findings} findings (20 [owners] patterns, 51 CODEOWNERS lines): {:.1} ms ({:.2} us a finding; rules built in {:.2} ms; {owned} owners)",
        looked.as_secs_f64() * 1e3,
        looked.as_secs_f64() * 1e6 / f64::from(findings),
        built.as_secs_f64() * 1e3
    );
}
