//! Bundles verified per second in one process: every passing case of the
//! Sigstore conformance suite, repeated, on all cores. Each trusted root is
//! parsed once; each verification parses its bundle JSON and verifies it in
//! full (certificate chain, SCT, log proofs, timestamps, signature).
//!
//! `cargo bench -p ward-verify --bench bundles [-- SECONDS]`

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};
use ward_verify::{ArtifactRef, IdentityRule, PublicKey, SignerRequirement, SigstoreBundle, TrustRoot};

const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";

struct Case {
    name: String,
    bundle: Vec<u8>,
    root: TrustRoot,
    sha256: [u8; 32],
    keys: Vec<PublicKey>,
    signer: SignerRequirement,
}

fn load(dir: &Path, production: &TrustRoot) -> Option<Case> {
    use sha2::Digest;
    let name = dir.file_name()?.to_string_lossy().into_owned();
    if name.ends_with("_fail") {
        return None;
    }
    let artifact = if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        dir.join("../a.txt")
    };
    let root = match std::fs::read_to_string(dir.join("trusted_root.json")) {
        Ok(json) => TrustRoot::from_json(&json, "case").ok()?,
        Err(_) => production.clone(),
    };
    let keys = match std::fs::read(dir.join("key.pub")) {
        Ok(pem) => vec![PublicKey::parse(&pem, "key.pub").ok()?],
        Err(_) => Vec::new(),
    };
    let read = |f: &str, d: &str| {
        std::fs::read_to_string(dir.join(f))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| d.into())
    };
    Some(Case {
        bundle: std::fs::read(dir.join("bundle.sigstore.json")).ok()?,
        sha256: sha2::Sha256::digest(std::fs::read(artifact).ok()?).into(),
        root,
        keys,
        signer: SignerRequirement {
            identity: Some(IdentityRule::Exact(read("identity", BEACON))),
            issuer: Some(read("issuer", "https://token.actions.githubusercontent.com")),
        },
        name,
    })
}

fn verify_once(c: &Case) {
    let bundle = SigstoreBundle::parse(&c.bundle, "bench").expect("parse");
    bundle
        .verify(
            &c.root,
            ArtifactRef {
                sha256: c.sha256,
                sha512: None,
                path: None,
            },
            &c.keys,
            &c.signer,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", c.name));
}

fn main() {
    let seconds: f64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(3.0);
    let suite =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sigstore-conformance/bundle-verify");
    let production = TrustRoot::production().expect("bundled root");
    let mut dirs: Vec<_> = std::fs::read_dir(&suite)
        .expect("conformance suite")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let cases: Vec<Case> = dirs.iter().filter_map(|d| load(d, &production)).collect();
    for c in &cases {
        verify_once(c); // every case must verify before it is timed
    }
    let start = Instant::now();
    let mut parsed = 0;
    while start.elapsed() < Duration::from_secs_f64(seconds / 3.0) {
        for c in &cases {
            std::hint::black_box(SigstoreBundle::parse(&c.bundle, "bench").expect("parse"));
            parsed += 1;
        }
    }
    println!(
        "of which bundle parsing (JSON, checks, typed bundle): {:.0} µs each",
        start.elapsed().as_secs_f64() * 1e6 / parsed as f64
    );
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    for t in [1, threads] {
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let start = Instant::now();
        let total: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..t)
                .map(|_| {
                    s.spawn(|| {
                        let mut n = 0;
                        while Instant::now() < deadline {
                            for c in &cases {
                                verify_once(c);
                                n += 1;
                            }
                        }
                        n
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).sum()
        });
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "bundles verified in one process: {:.0}/s on {t} thread(s) ({} passing conformance cases, {total} verifications in {elapsed:.2}s, {:.0} µs each)",
            total as f64 / elapsed,
            cases.len(),
            elapsed * 1e6 * t as f64 / total as f64
        );
    }
}
