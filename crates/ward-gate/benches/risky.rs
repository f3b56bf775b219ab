//! What the risky-change rules add to the gate, per artifact: the real
//! `@ctrl/tinycolor` 4.2.0 tarball through the whole gate under a policy
//! without risky-change rules and under one with all five, against a
//! release-traits store holding 4.1.0 and 300 other versions (so the lookup
//! is the indexed one a long-lived gate does). Also what hashing every file
//! inside costs identify (done only when a malicious record lists file
//! hashes).
//!
//! `cargo bench -p ward-gate --bench risky [-- SECONDS]`

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};
use ward_gate::{Evidence, Gate, ReleaseTraits};
use ward_identify::{FileDigests, Options};

const PLAIN: &str = "[defaults]\nmode = \"warn\"\n[[scope]]\npackages = [\"npm:*\"]\nmode = \"warn\"\n";
const RULES: &str = "deny_new_install_scripts = true\ndeny_new_dependencies_in_patch = true\ndeny_pth_files = true\ndeny_setup_py_only = true\nnative_binaries = \"warn\"\n";

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

fn main() {
    let seconds: f64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(3.0);
    let n = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/npm-neighbours");
    let artifact = n.join("ctrl-tinycolor-4.2.0.tgz");
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join(ward_gate::risky::STORE_FILE);
    {
        // The baseline as the gate keeps it, plus many other versions.
        let store = ReleaseTraits::open(&store_path).unwrap();
        let base = ward_identify::identify(&n.join("ctrl-tinycolor-4.1.0.tgz"), &Options::default()).unwrap();
        let traits = base.traits.clone().unwrap();
        store.remember(&base.artifact, &traits, Some(0)).unwrap();
        for i in 0..300u32 {
            let mut a = base.artifact.clone();
            a.id.version = Some(format!("3.{}.{}", i / 10, i % 10));
            store.remember(&a, &traits, Some(u64::from(i) + 1)).unwrap();
        }
    }
    let gate = |policy: &str| {
        let policy = ward_policy::Policy::parse(policy, "ward.toml", dir.path()).unwrap();
        Gate::new(ward_verify::TrustRoot::production().unwrap())
            .with_policy(policy)
            .with_release_traits(ReleaseTraits::open(&store_path).unwrap())
    };
    let (plain, rules) = (gate(PLAIN), gate(&format!("{PLAIN}{RULES}")));
    let evidence = Evidence::default();
    let e = rules.evaluate(&artifact, None, &evidence).unwrap();
    assert!(e.decision.allowed(), "{:?}", e.decision);

    // Interleaved, so drift hits both alike.
    let (mut t_plain, mut t_rules) = (Vec::new(), Vec::new());
    for round in 0..6 {
        // Alternating which goes first, so neither gets the warmer cache.
        let mut plain_run = || {
            t_plain.push(time(seconds / 12.0, || {
                plain.evaluate(&artifact, None, &evidence).unwrap();
            }))
        };
        if round % 2 == 0 {
            plain_run();
        }
        t_rules.push(time(seconds / 12.0, || {
            rules.evaluate(&artifact, None, &evidence).unwrap();
        }));
        if round % 2 == 1 {
            plain_run();
        }
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (p, r) = (best(&t_plain), best(&t_rules));
    println!(
        "risky-change rules: gate per artifact {:.3} ms without, {:.3} ms with all five rules and a 301-version store: +{:.3} ms per artifact (goal < 0.2 ms)",
        p * 1e3,
        r * 1e3,
        (r - p) * 1e3
    );
    let store = ReleaseTraits::open(&store_path).unwrap();
    let lookup = time(seconds / 3.0, || {
        store.earlier(&e.artifact).unwrap().unwrap();
    });
    println!(
        "risky-change rules: earlier-release lookup in the store {:.1} µs",
        lookup * 1e6
    );
    let opts = Options::default();
    let skip = time(seconds / 3.0, || {
        ward_identify::identify_with(&artifact, &opts, FileDigests::Skip).unwrap();
    });
    let compute = time(seconds / 3.0, || {
        ward_identify::identify_with(&artifact, &opts, FileDigests::Compute).unwrap();
    });
    println!(
        "risky-change rules: identify with traits {:.3} ms, with every file hashed too {:.3} ms (+{:.3} ms, only when a malicious record lists file hashes)",
        skip * 1e3,
        compute * 1e3,
        (compute - skip) * 1e3
    );
}
