//! What the cooldown and history rules add to the gate, per artifact: the
//! real chalk 5.6.2 tarball through the whole gate under a policy without
//! them and under one with a cooldown and both history rules, with the
//! registry's metadata of 50 earlier releases as evidence and a ledger of
//! 10,000 allowed decisions (2,000 of them chalk releases), so the history
//! lookup is the indexed one a long-lived proxy does.
//!
//! `cargo bench -p ward-gate --bench release [-- SECONDS]`

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};
use ward_core::{CheckKind, Decision};
use ward_gate::{Evidence, Gate};
use ward_ledger::EmbeddedLedger;
use ward_ledger::record::DecisionRecord;
use ward_policy::release::{RegistryReleases, ReleaseMeta};
use ward_verify::{Check, fact::unverified};

const PLAIN: &str = "[defaults]\nmode = \"warn\"\n[[scope]]\npackages = [\"npm:*\"]\nmode = \"warn\"\n";
const RULES: &str = "cooldown = { min_age = \"3d\" }\nhistory = { provenance_regression = \"deny\", publisher_change = \"warn\", window = 10 }\n";

/// Mean seconds per call of `f`, run for about `seconds`.
fn time(seconds: f64, mut f: impl FnMut()) -> f64 {
    f();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n = 0u32;
    while Instant::now() < deadline {
        f();
        n += 1;
    }
    start.elapsed().as_secs_f64() / f64::from(n)
}

fn meta(i: u32) -> ReleaseMeta {
    ReleaseMeta {
        version: format!("5.{}.{}", i / 10, i % 10),
        published: Some(jiff::Timestamp::from_second(1_700_000_000 + i64::from(i) * 86_400).unwrap()),
        publisher: Some("sindresorhus".into()),
        provenance: i.is_multiple_of(2),
    }
}

fn main() {
    let seconds: f64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(3.0);
    let n = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/npm-neighbours");
    let artifact = n.join("chalk-5.6.2.tgz");
    let dir = tempfile::tempdir().unwrap();
    let gate = |policy: &str, ledger: Option<&Path>| {
        let policy = ward_policy::Policy::parse(policy, "ward.toml", dir.path()).unwrap();
        let g = Gate::new(ward_verify::TrustRoot::production().unwrap()).with_policy(policy);
        match ledger {
            Some(d) => g.with_ledger(Box::new(EmbeddedLedger::open(d, "ward.bench/release").unwrap())),
            None => g,
        }
    };
    // The ledger: 10,000 allowed decisions, 2,000 of them chalk releases with provenance.
    let ledger_dir = dir.path().join("ledger");
    {
        let identified = ward_identify::identify(&artifact, &ward_identify::Options::default()).unwrap();
        let mut l = EmbeddedLedger::open(&ledger_dir, "ward.bench/release").unwrap();
        let checks = vec![Check::pass(
            CheckKind::Attestation,
            None,
            vec![unverified::provenance(
                {
                    let mut p = unverified::provenance_of_type("https://slsa.dev/provenance/v1");
                    p.source_repository = Some("https://github.com/chalk/chalk".into());
                    p.workflow_path = Some(".github/workflows/release.yml".into());
                    p
                },
                unverified::keyless_signer("x", "y"),
                "e",
            )],
        )];
        let allow = Decision::new(Vec::new(), Vec::new(), Vec::new(), None);
        for batch in 0..10u32 {
            let entries: Vec<Vec<u8>> = (0..1000u32)
                .map(|i| {
                    let k = batch * 1000 + i;
                    let mut a = identified.artifact.clone();
                    a.id = if k.is_multiple_of(5) {
                        format!("pkg:npm/chalk@4.{}.{}", k / 100, k % 100).parse().unwrap()
                    } else {
                        format!("pkg:npm/other-{k}@1.0.0").parse().unwrap()
                    };
                    DecisionRecord::new(&a, &checks, &allow, &[], jiff::Timestamp::UNIX_EPOCH, "0", "bench")
                        .unwrap()
                        .with_release(serde_json::json!({"registry": {"release": {"publisher": "sindresorhus"}}}))
                        .sign(l.signer())
                        .unwrap()
                })
                .collect();
            l.append(&entries).unwrap();
        }
    }
    let lookup = {
        let mut l = EmbeddedLedger::open(&ledger_dir, "ward.bench/release").unwrap();
        time(seconds / 3.0, || {
            l.release_history("pkg:npm/chalk", 11).unwrap();
        })
    };
    let plain = gate(PLAIN, None);
    let rules = gate(&format!("{PLAIN}{RULES}"), Some(&ledger_dir));
    let evidence = Evidence {
        release: Some(RegistryReleases {
            source: "npm packument".into(),
            names_publishers: true,
            release: meta(60),
            earlier: (10..60).rev().map(meta).collect(),
            problems: Vec::new(),
        }),
        ..Evidence::default()
    };
    let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    let e = rules.evaluate_at(&artifact, None, &evidence, now).unwrap();
    assert!(
        e.release.as_ref().is_some_and(|r| r.recorded.len() == 11),
        "{:?}",
        e.release
    );
    assert!(
        e.decision
            .reasons
            .iter()
            .any(|r| r.code.as_str() == "provenance-regression"),
        "{:?}",
        e.decision
    );

    // Interleaved, so drift hits both alike.
    let (mut t_plain, mut t_rules) = (Vec::new(), Vec::new());
    for round in 0..6 {
        let mut plain_run = || {
            t_plain.push(time(seconds / 12.0, || {
                plain.evaluate_at(&artifact, None, &evidence, now).unwrap();
            }))
        };
        if round % 2 == 0 {
            plain_run();
        }
        t_rules.push(time(seconds / 12.0, || {
            rules.evaluate_at(&artifact, None, &evidence, now).unwrap();
        }));
        if round % 2 == 1 {
            plain_run();
        }
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (p, r) = (best(&t_plain), best(&t_rules));
    println!(
        "cooldown + history rules: gate per artifact {:.3} ms without, {:.3} ms with (50 registry releases, ledger of 10,000 decisions): +{:.3} ms per artifact (goal < 0.2 ms)",
        p * 1e3,
        r * 1e3,
        (r - p) * 1e3
    );
    // A proxy's first sight of a package whose packument lists an earlier
    // release with provenance: that release's real npm attestations verified
    // too (the ledger knows no source for it: a fresh ledger).
    let a = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/npm-attestations");
    let earlier = a.join("gundam-visor-cli-v1-tag.tgz");
    let sha512 = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha512::digest(std::fs::read(&earlier).unwrap()))
    };
    let with_baseline = Evidence {
        baseline: vec![ward_gate::BaselineAttestations {
            source: ward_gate::EvidenceSource::from(a.join("gundam-visor-cli-v1-tag.tgz.json")),
            package: "pkg:npm/gundam-visor@1.0.1".parse().unwrap(),
            file_name: "gundam-visor-1.0.1.tgz".into(),
            sha512,
            fetch_error: None,
        }],
        ..evidence.clone()
    };
    let fresh = gate(&format!("{PLAIN}{RULES}"), Some(&dir.path().join("fresh-ledger")));
    let e = fresh.evaluate_at(&artifact, None, &with_baseline, now).unwrap();
    assert!(
        e.release
            .as_ref()
            .is_some_and(|r| r.fetched.iter().all(|f| f.provenance.is_some())),
        "{:?}",
        e.release
    );
    let b = time(seconds / 3.0, || {
        fresh.evaluate_at(&artifact, None, &with_baseline, now).unwrap();
    });
    let known = time(seconds / 3.0, || {
        rules.evaluate_at(&artifact, None, &with_baseline, now).unwrap();
    });
    println!(
        "cooldown + history rules: first sight (no verified source in the ledger), an earlier release's npm attestations verified as the baseline: {:.3} ms per artifact; with the ledger's source known they are not verified: {:.3} ms",
        b * 1e3,
        known * 1e3
    );
    println!(
        "cooldown + history rules: ledger release-history lookup (indexed) {:.1} µs",
        lookup * 1e6
    );
}
