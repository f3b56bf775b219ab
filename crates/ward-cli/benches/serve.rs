//! Group commit through `ward ledger serve` over HTTP: the real `ward`
//! binary on 127.0.0.1 with a temporary ledger, and 1, 8 and 64 keep-alive
//! clients (one thread and one ureq agent each) appending one 1 KiB entry
//! at a time with `POST /add` for a few seconds. Prints acknowledged
//! appends/s and p50/p99 latency; asserts nothing beyond each answer being
//! a 200 with a proof.
//!
//! `cargo bench -p ward-cli --bench serve [-- --short] [--ward PATH]`
//! (without `--ward`, the binary cargo built for this bench).

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    missing_docs
)]

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-token-not-a-secret-0123";

/// `ward ledger serve` on a fresh ledger; killed on drop.
struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(ward: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::write(&tokens, format!("append {TOKEN}\n")).unwrap();
        let mut child = Command::new(ward)
            .args(["ledger", "serve", "--listen", "127.0.0.1:0", "--token-file"])
            .arg(&tokens)
            .arg("--ledger")
            .arg(dir.path().join("ledger"))
            .env("WARD_DATA_DIR", dir.path().join("data"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("ward ledger serve did not start: {line:?}"))
            .to_string();
        Self { child, url, _dir: dir }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// `clients` threads appending for `seconds`; returns appends/s, p50, p99.
fn run(url: &str, clients: usize, seconds: f64) -> (f64, Duration, Duration) {
    let start = std::sync::Barrier::new(clients + 1);
    let (lat, elapsed) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let start = &start;
                s.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                    let add = format!("{url}/add");
                    let mut lat = Vec::new();
                    start.wait();
                    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
                    let mut i = 0u64;
                    while Instant::now() < deadline {
                        // A decision-record-sized entry, distinct per client and append.
                        let mut body = format!("bench entry client {c} number {i} ").into_bytes();
                        body.resize(1024, b'.');
                        let t = Instant::now();
                        let mut r = agent
                            .post(&add)
                            .header("Authorization", format!("Bearer {TOKEN}"))
                            .send(&body[..])
                            .unwrap();
                        let text = r.body_mut().read_to_string().unwrap();
                        assert_eq!(r.status().as_u16(), 200, "{text}");
                        assert!(text.starts_with("c2sp.org/tlog-proof@v1\n"), "{text}");
                        lat.push(t.elapsed());
                        i += 1;
                    }
                    lat
                })
            })
            .collect();
        start.wait();
        let t = Instant::now();
        let lat: Vec<Duration> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        (lat, t.elapsed().as_secs_f64())
    });
    let mut lat = lat;
    lat.sort();
    (
        lat.len() as f64 / elapsed,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let short = args.iter().any(|a| a == "--short");
    let ward = args
        .iter()
        .position(|a| a == "--ward")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_ward").to_string());
    let seconds = if short { 1.0 } else { 3.0 };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for clients in [1, 8, 64] {
        // A fresh ledger per run, so every run starts from the same size.
        let server = Server::start(&ward);
        let (rate, p50, p99) = run(&server.url, clients, seconds);
        println!(
            "ward ledger serve, {clients:>2} keep-alive clients, 1 KiB entries, {seconds} s: {rate:>7.0} acknowledged appends/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
            ms(p50),
            ms(p99)
        );
    }
}
