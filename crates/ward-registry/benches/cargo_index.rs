//! The proxy's crates.io paths over a large index file, with a policy that
//! reads release metadata (a cooldown), so every request reads the whole
//! index: the index file served (refused versions marked yanked, versions
//! under the cooldown held back) and a cached `.crate` download (the
//! version's `cksum` and release metadata located in the index first).
//!
//! `cargo bench -p ward-registry --bench cargo_index [-- --short]`

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    missing_docs
)]

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::Conn;
use ward_registry::{
    Cache, FetchLimits, Fetcher, Keeper, MemoryLimits, Proxy, ProxyOptions, ServerLimits, Upstream, Upstreams,
};

const NAME: &str = "bench-crate";

/// A `.crate` of `NAME` at `version`.
fn crate_file(path: &Path, version: &str) {
    let file = std::fs::File::create(path).unwrap();
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::fast()));
    let manifest = format!(
        "[package]\nname = \"{NAME}\"\nversion = \"{version}\"\nedition = \"2021\"\nlicense = \"MIT\"\n\n[lib]\npath = \"src/lib.rs\"\n"
    );
    for (name, data) in [
        (format!("{NAME}-{version}/Cargo.toml"), manifest.as_bytes()),
        (
            format!("{NAME}-{version}/src/lib.rs"),
            &b"pub const VALUE: u32 = 1;\n"[..],
        ),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
}

/// A sparse index directory holding `versions` lines for `NAME` (five
/// dependencies each, as a typical crates.io line), the newest half
/// published an hour ago (held back by the cooldown), and the `.crate` of
/// version 1.0.0, the newest of the older half, signed (its key in
/// `bench.pub`).
fn upstream(root: &Path, versions: usize) {
    use sha2::Digest as _;
    let dir = root.join("crates").join(NAME);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{NAME}-1.0.0.crate"));
    crate_file(&file, "1.0.0");
    let generated = ward_sign::keygen(ward_sign::Algorithm::EcdsaP256, None).unwrap();
    let key = ward_sign::SigningKey::from_pem(&generated.private_pem, None).unwrap();
    std::fs::write(root.join("bench.pub"), &generated.public_pem).unwrap();
    let bundle = ward_sign::sign_artifact(&key, &file).unwrap();
    std::fs::write(format!("{}.sigstore.json", file.display()), bundle.to_string()).unwrap();
    let cksum = hex::encode(sha2::Sha256::digest(std::fs::read(&file).unwrap()));
    let recent = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let mut index = String::new();
    for i in 0..versions {
        // The newest version past the cooldown is the one downloaded.
        let (version, sum) = if i + 1 == versions / 2 {
            ("1.0.0".to_string(), cksum.clone())
        } else {
            (format!("1.{}.{}", i / 100, i % 100 + 1), format!("{:064x}", i))
        };
        let pubtime = if i < versions / 2 {
            "2020-01-01T00:00:00Z".to_string()
        } else {
            recent.to_string()
        };
        let deps: Vec<_> = (0..5)
            .map(|d| serde_json::json!({"name": format!("dep{d}"), "req": "^1.0", "features": [], "optional": false, "default_features": true, "target": null, "kind": "normal"}))
            .collect();
        let line = serde_json::json!({"name": NAME, "vers": version, "deps": deps, "cksum": sum,
            "features": {"default": ["std"], "std": []}, "yanked": false, "pubtime": pubtime, "v": 2});
        index.push_str(&line.to_string());
        index.push('\n');
    }
    let path = root.join(&NAME[..2]).join(&NAME[2..4]);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join(NAME), index).unwrap();
    std::fs::write(root.join("config.json"), br#"{"dl": "unused"}"#).unwrap();
}

/// Median and mean of `runs` GETs of `path`, each answered `status`.
fn time(c: &mut Conn, path: &str, runs: usize, status: u16) -> (Duration, Duration) {
    let mut all: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(c.get(path).0, status, "{path}");
            t.elapsed()
        })
        .collect();
    all.sort();
    let mean = all.iter().sum::<Duration>() / runs as u32;
    (all[runs / 2], mean)
}

fn main() {
    let short = std::env::args().any(|a| a == "--short");
    let (versions, runs) = if short { (1_000, 50) } else { (5_000, 200) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cargo");
    upstream(&root, versions);
    let policy = root.join("ward.toml");
    std::fs::write(
        &policy,
        "version = 1\n[[scope]]\npackages = [\"cargo:*\"]\nkeys = [\"bench.pub\"]\ncooldown = { min_age = \"3d\" }\n",
    )
    .unwrap();
    let ledger = ward_ledger::EmbeddedLedger::open(&dir.path().join("ledger"), "bench.ward.invalid/log").unwrap();
    let gate = ward_gate::Gate::new(ward_verify::TrustRoot::production().unwrap())
        .with_policy(ward_policy::Policy::load(&policy).unwrap())
        .with_ledger(Box::new(ledger));
    let cache = Cache::open(&dir.path().join("cache")).unwrap();
    let keeper = Keeper::new(gate, cache, Fetcher::new(FetchLimits::default(), Vec::new()), None).unwrap();
    let proxy = Proxy::with_options(
        keeper,
        Upstreams {
            cargo: Some(Upstream::Dir(root)),
            ..Upstreams::default()
        },
        &MemoryLimits::default(),
        ServerLimits::default(),
        ProxyOptions::default(),
    );
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let p = Arc::clone(&proxy);
    rt.spawn(async move { p.serve(listener, std::future::pending()).await });

    let mut c = Conn::open(&addr);
    let index = format!("/cargo/index/{}/{}/{NAME}", &NAME[..2], &NAME[2..4]);
    let download = format!("/cargo/api/v1/crates/{NAME}/1.0.0/download");
    // Warm: the index kept, the crate allowed and cached.
    assert_eq!(c.get(&index).0, 200);
    assert_eq!(c.get(&download).0, 200);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (p50, mean) = time(&mut c, &index, runs, 200);
    println!(
        "cargo index file of {versions} versions under a cooldown (half held back): p50 {:.2} ms, mean {:.2} ms over {runs} GETs",
        ms(p50),
        ms(mean)
    );
    let (p50, mean) = time(&mut c, &download, runs, 200);
    println!(
        "cached .crate download located in that index: p50 {:.2} ms, mean {:.2} ms over {runs} GETs",
        ms(p50),
        ms(mean)
    );
}
