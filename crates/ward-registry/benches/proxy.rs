//! The registry proxy, measured side by side with a plain static file
//! server (tower-http's `ServeDir`) on the same loopback, with the same
//! load generator (64 keep-alive connections):
//!
//! 1. cached allowed npm tarballs: p50/p99 latency and requests/s;
//! 2. first install (fetch + verify + record + serve) per artifact, next to
//!    the time the same bytes take to hash;
//! 3. peak memory while proxying one large artifact (500 MB; 50 MB with
//!    `--short`), before and after;
//! 4. first installs under concurrency: 64 clients asking at once for 64
//!    distinct uncached tarballs, next to one such request alone, against a
//!    loopback HTTP upstream that adds 50 ms to every request (sidecar
//!    probes on, so each artifact's bundle is fetched from upstream too).
//!
//! `cargo bench -p ward-registry --bench proxy [-- --short]`

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    missing_docs
)]

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::Conn;
use ward_registry::{
    Cache, FetchLimits, Fetcher, Keeper, MemoryLimits, Proxy, ProxyOptions, ServerLimits, SidecarProbes, TrustedRoots,
    Upstream, Upstreams,
};

const CONNECTIONS: usize = 64;

/// Incompressible bytes, generated as they are read (constant memory).
struct Noise {
    left: u64,
    x: u64,
}

impl std::io::Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left as usize);
        for b in &mut buf[..n] {
            self.x ^= self.x << 13;
            self.x ^= self.x >> 7;
            self.x ^= self.x << 17;
            *b = self.x as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn tarball(path: &Path, name: &str, size: u64) {
    let file = std::fs::File::create(path).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    let manifest = format!("{{\"name\": \"{name}\", \"version\": \"1.0.0\"}}");
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(manifest.len() as u64);
    b.append_data(&mut h, "package/package.json", manifest.as_bytes())
        .unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(size);
    let noise = Noise {
        left: size,
        x: 0x9e37_79b9_7f4a_7c15 ^ size,
    };
    b.append_data(&mut h, "package/data.bin", noise).unwrap();
    b.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

/// A verdaccio-layout upstream of signed packages, a policy trusting the key.
struct Setup {
    dir: tempfile::TempDir,
    upstream: PathBuf,
    policy: PathBuf,
    key: ward_sign::SigningKey,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let generated = ward_sign::keygen(ward_sign::Algorithm::EcdsaP256, None).unwrap();
        let key = ward_sign::SigningKey::from_pem(&generated.private_pem, None).unwrap();
        std::fs::write(dir.path().join("bench.pub"), &generated.public_pem).unwrap();
        let policy = dir.path().join("ward.toml");
        std::fs::write(
            &policy,
            "version = 1\n[[scope]]\npackages = [\"*\"]\nkeys = [\"bench.pub\"]\n",
        )
        .unwrap();
        let upstream = dir.path().join("npm");
        Self {
            dir,
            upstream,
            policy,
            key,
        }
    }

    /// Adds package `name` with a payload of `size` bytes; returns the tarball's size.
    fn package(&self, name: &str, size: usize) -> u64 {
        self.package_at(name, size, "http://upstream.invalid")
    }

    /// As [`Setup::package`], the packument naming the tarball under `base`.
    fn package_at(&self, name: &str, size: usize, base: &str) -> u64 {
        let pkg = self.upstream.join(name);
        std::fs::create_dir_all(&pkg).unwrap();
        let path = pkg.join(format!("{name}-1.0.0.tgz"));
        tarball(&path, name, size as u64);
        let bundle = ward_sign::sign_artifact(&self.key, &path).unwrap();
        std::fs::write(format!("{}.sigstore.json", path.display()), bundle.to_string()).unwrap();
        let packument = serde_json::json!({"name": name, "versions": {"1.0.0": {"name": name, "version": "1.0.0",
            "dist": {"tarball": format!("{base}/{name}/-/{name}-1.0.0.tgz")}}}});
        std::fs::write(pkg.join("package.json"), packument.to_string()).unwrap();
        std::fs::metadata(&path).unwrap().len()
    }

    fn proxy(&self, rt: &tokio::runtime::Runtime) -> (String, Arc<Proxy>) {
        let fetcher = Fetcher::new(FetchLimits::default(), Vec::new());
        self.proxy_over(
            rt,
            Upstream::Dir(self.upstream.clone()),
            fetcher,
            ProxyOptions::default(),
        )
    }

    /// The proxy over `upstream` for npm, fetching with `fetcher`.
    fn proxy_over(
        &self,
        rt: &tokio::runtime::Runtime,
        upstream: Upstream,
        fetcher: Fetcher,
        options: ProxyOptions,
    ) -> (String, Arc<Proxy>) {
        let policy = ward_policy::Policy::load(&self.policy).unwrap();
        let ledger =
            ward_ledger::EmbeddedLedger::open(&self.dir.path().join("ledger"), "bench.ward.invalid/log").unwrap();
        let gate = ward_gate::Gate::new(ward_verify::TrustRoot::production().unwrap())
            .with_policy(policy)
            .with_ledger(Box::new(ledger));
        let cache = Cache::open(&self.dir.path().join("cache")).unwrap();
        let keeper = Keeper::new(gate, cache, fetcher, None).unwrap();
        let proxy = Proxy::with_options(
            keeper,
            Upstreams {
                npm: Some(upstream),
                ..Upstreams::default()
            },
            &MemoryLimits::default(),
            ServerLimits::default(),
            options,
        );
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let p = Arc::clone(&proxy);
        rt.spawn(async move { p.serve(listener, std::future::pending()).await });
        (format!("127.0.0.1:{}", addr.port()), proxy)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// 64 connections GETting the paths round-robin for `seconds`.
fn load(addr: &str, paths: &[String], seconds: f64) -> (f64, Duration, Duration, Duration) {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let (addr, paths) = (addr.to_string(), paths.to_vec());
            std::thread::spawn(move || {
                let mut c = Conn::open(&addr);
                let mut lat = Vec::new();
                let mut k = i;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let (status, _) = c.get(&paths[k % paths.len()]);
                    assert_eq!(status, 200);
                    lat.push(t.elapsed());
                    k += 1;
                }
                lat
            })
        })
        .collect();
    let start = Instant::now();
    let mut all: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let mean = all.iter().sum::<Duration>() / u32::try_from(all.len().max(1)).unwrap_or(u32::MAX);
    (
        all.len() as f64 / elapsed,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        mean,
    )
}

/// Serves `root` in the npm registry's URL layout (`/NAME` is the
/// packument, `/NAME/-/FILE` a tarball or a file beside it), each answer
/// `latency` late; returns its base URL.
fn slow_upstream(rt: &tokio::runtime::Runtime, root: PathBuf, latency: Duration) -> String {
    use axum::extract::{Path as UrlPath, State};
    use axum::http::StatusCode;
    async fn answer(path: PathBuf, latency: Duration) -> Result<Vec<u8>, StatusCode> {
        tokio::time::sleep(latency).await;
        tokio::fs::read(path).await.map_err(|_missing| StatusCode::NOT_FOUND)
    }
    let root = Arc::new((root, latency));
    let app = axum::Router::new()
        .route(
            "/{name}",
            axum::routing::get(|State(s): State<Arc<(PathBuf, Duration)>>, UrlPath(name): UrlPath<String>| async move {
                answer(s.0.join(name).join("package.json"), s.1).await
            }),
        )
        .route(
            "/{name}/-/{file}",
            axum::routing::get(
                |State(s): State<Arc<(PathBuf, Duration)>>, UrlPath((name, file)): UrlPath<(String, String)>| async move {
                    answer(s.0.join(name).join(file), s.1).await
                },
            ),
        )
        .with_state(root);
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    rt.spawn(async move { axum::serve(listener, app).await });
    url
}

/// Point 4: `clients` first-time tarball requests at once (distinct
/// packages, one connection each, packuments read first) next to
/// `singles` such requests one at a time; `per_host` upstream exchanges at
/// a time.
fn concurrent_first_installs(rt: &tokio::runtime::Runtime, clients: usize, singles: usize, per_host: usize) {
    const LATENCY: Duration = Duration::from_millis(50);
    let setup = Setup::new();
    let upstream = slow_upstream(rt, setup.upstream.clone(), LATENCY);
    for i in 0..singles {
        setup.package_at(&format!("one{i}"), 100 * 1024, &upstream);
    }
    for i in 0..clients {
        setup.package_at(&format!("many{i}"), 100 * 1024, &upstream);
    }
    let roots = TrustedRoots::load(&[]).unwrap();
    let fetcher = Fetcher::with_roots_and_host_limit(FetchLimits::default(), Vec::new(), &roots, per_host);
    let options = ProxyOptions {
        probe_sidecars: SidecarProbes {
            npm: Some(true),
            ..SidecarProbes::default()
        },
    };
    let (addr, _proxy) = setup.proxy_over(rt, Upstream::Http(upstream), fetcher, options);
    let mut alone = Vec::new();
    let mut c = Conn::open(&addr);
    for i in 0..singles {
        assert_eq!(c.get(&format!("/npm/one{i}")).0, 200);
        let t = Instant::now();
        assert_eq!(c.get(&format!("/npm/one{i}/-/one{i}-1.0.0.tgz")).0, 200);
        alone.push(t.elapsed());
    }
    alone.sort();
    let start = std::sync::Barrier::new(clients);
    let mut together: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|i| {
                let (addr, start) = (&addr, &start);
                s.spawn(move || {
                    let mut c = Conn::open(addr);
                    assert_eq!(c.get(&format!("/npm/many{i}")).0, 200);
                    start.wait();
                    let t = Instant::now();
                    assert_eq!(c.get(&format!("/npm/many{i}/-/many{i}-1.0.0.tgz")).0, 200);
                    t.elapsed()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    together.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let one = percentile(&alone, 0.5);
    let p99 = percentile(&together, 0.99);
    println!(
        "  {per_host:>2} upstream exchanges per host: one alone (median of {singles}) {:>7.1} ms; {clients} at once p50 {:>7.1} ms  p99 {:>7.1} ms = {:.2}x the one alone (goal: within 2x)",
        ms(one),
        ms(percentile(&together, 0.5)),
        ms(p99),
        p99.as_secs_f64() / one.as_secs_f64()
    );
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let short = std::env::args().any(|a| a == "--short");
    let seconds = if short { 1.0 } else { 3.0 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let setup = Setup::new();

    // Peak memory first, while the process is still small.
    let big_size = if short { 50 << 20 } else { 500 << 20 };
    let big_tgz = setup.package("big", big_size);
    let (addr, _proxy) = setup.proxy(&rt);
    let mut c = Conn::open(&addr);
    assert_eq!(c.get("/npm/big").0, 200);
    // Reset the peak (Linux: clear_refs 5), so it measures this transfer only.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = vm_hwm_kib();
    let t = Instant::now();
    let (status, got) = c.get("/npm/big/-/big-1.0.0.tgz");
    let first_big = t.elapsed();
    assert_eq!((status, got), (200, big_tgz));
    let after = vm_hwm_kib();
    println!(
        "peak memory proxying a {} MB tarball (first install: fetch, unpack-check, hash, verify, record, serve): {} MiB before, {} MiB after (+{} MiB) in {:.2} s",
        big_tgz >> 20,
        before >> 10,
        after >> 10,
        (after.saturating_sub(before)) >> 10,
        first_big.as_secs_f64()
    );

    // First installs of small packages.
    let n: u32 = if short { 20 } else { 100 };
    let mut sizes = 0u64;
    for i in 0..n {
        sizes += setup.package(&format!("pkg{i}"), 100 * 1024);
    }
    let mut first = Duration::ZERO;
    for i in 0..n {
        assert_eq!(c.get(&format!("/npm/pkg{i}")).0, 200);
        let t = Instant::now();
        assert_eq!(c.get(&format!("/npm/pkg{i}/-/pkg{i}-1.0.0.tgz")).0, 200);
        first += t.elapsed();
    }
    let mut cached = Duration::ZERO;
    for i in 0..n {
        let t = Instant::now();
        assert_eq!(c.get(&format!("/npm/pkg{i}/-/pkg{i}-1.0.0.tgz")).0, 200);
        cached += t.elapsed();
    }
    let t = Instant::now();
    for i in 0..n {
        let path = setup.upstream.join(format!("pkg{i}/pkg{i}-1.0.0.tgz"));
        let _ = ward_identify::hash::digest_reader(std::fs::File::open(path).unwrap()).unwrap();
    }
    let hash = t.elapsed();
    let per = |d: Duration| d.as_secs_f64() * 1e3 / f64::from(n);
    println!(
        "first install of a {} KiB tarball: {:.2} ms (cached: {:.2} ms; hashing the bytes alone: {:.2} ms); overhead beyond cache and hash: {:.2} ms (goal < 5 ms)",
        sizes / u64::from(n) / 1024,
        per(first),
        per(cached),
        per(hash),
        per(first) - per(cached) - per(hash)
    );

    // Cached tarballs: the proxy next to a static file server over the same files.
    let paths: Vec<String> = (0..n).map(|i| format!("/npm/pkg{i}/-/pkg{i}-1.0.0.tgz")).collect();
    let (rps, p50, p99, mean) = load(&addr, &paths, seconds);
    let static_dir = setup.upstream.clone();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let static_addr = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let app = axum::Router::new().nest_service("/files", tower_http::services::ServeDir::new(static_dir));
    rt.spawn(async move { axum::serve(listener, app).await });
    let static_paths: Vec<String> = (0..n).map(|i| format!("/files/pkg{i}/pkg{i}-1.0.0.tgz")).collect();
    let (srps, sp50, sp99, smean) = load(&static_addr, &static_paths, seconds);
    println!("cached tarballs, {CONNECTIONS} connections, loopback, {seconds} s each:");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "  ward proxy:          {rps:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  mean {:>6.2} ms",
        ms(p50),
        ms(p99),
        ms(mean)
    );
    println!(
        "  static (ServeDir):   {srps:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  mean {:>6.2} ms",
        ms(sp50),
        ms(sp99),
        ms(smean)
    );
    println!(
        "  ratio: {:.2}x the static server's p50, {:.2}x its throughput (goal: within 1.5x)",
        p50.as_secs_f64() / sp50.as_secs_f64(),
        rps / srps
    );

    let singles = if short { 3 } else { 9 };
    println!(
        "first installs of distinct uncached 100 KiB tarballs, {CONNECTIONS} clients at once vs one alone, loopback upstream adding 50 ms per request:"
    );
    concurrent_first_installs(
        &rt,
        CONNECTIONS,
        singles,
        ward_registry::upstream::DEFAULT_FETCHES_PER_HOST,
    );
    if !short {
        concurrent_first_installs(&rt, CONNECTIONS, singles, CONNECTIONS);
    }
}
