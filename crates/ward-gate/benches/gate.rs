//! Per-artifact cost of the whole gate in one process: identify the real
//! `sigstore` npm tarball, verify its two registry attestations (an npm
//! publish attestation signed by the registry key, and SLSA v1 provenance
//! signed keylessly, both with Rekor proofs), and decide under the shipped
//! example policy (TOML scopes + two Rego files).
//!
//! `cargo bench -p ward-gate --bench gate [-- SECONDS]`

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};
use ward_gate::{Evidence, Gate};

fn main() {
    let seconds: f64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(3.0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let npm = root.join("../shared/testdata/npm-attestations");
    let artifact = npm.join("provenance-npm-test-cli-v1-prega.tgz");
    let evidence = Evidence {
        attestations: vec![npm.join("provenance-npm-test-cli-v1-prega.tgz.json").into()],
        ..Evidence::default()
    };
    let policy = ward_policy::Policy::load(&root.join("examples/policy/ward.toml")).expect("example policy");
    let gate = Gate::new(ward_verify::TrustRoot::production().expect("root")).with_policy(policy);
    let first = gate.evaluate(&artifact, None, &evidence).expect("evaluate");
    assert!(first.decision.allowed(), "{:?}", first.decision);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n = 0u32;
    while Instant::now() < deadline {
        let e = gate.evaluate(&artifact, None, &evidence).expect("evaluate");
        assert!(e.decision.allowed());
        n += 1;
    }
    let each = start.elapsed().as_secs_f64() / f64::from(n);
    println!(
        "gate per artifact (bundle + SLSA provenance + npm publish attestation, TOML+Rego policy): {:.2} ms ({n} runs, one thread)",
        each * 1e3
    );
}
