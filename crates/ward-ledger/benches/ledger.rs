//! Ledger throughput and latency, embedded backend.
//!
//! `cargo bench -p ward-ledger --bench ledger [-- --short]` prints: appends
//! per second with batching (1 KiB entries, batches of 1,000, one fsync per
//! batch), p50/p99 latency of one acknowledged single-entry append,
//! inclusion-proof generation at 1,000,000 entries, the full
//! `ledger verify` (recompute from entries) time scaled to a million, and
//! group commit: acknowledged appends/s and p99 latency from 1, 8 and 64
//! threads each appending single entries through one `SharedLedger`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;
use ward_ledger::{EmbeddedLedger, LedgerStore, MerkleTree, SharedLedger, leaf_hash};

fn postgres(short: bool) {
    use ward_ledger::{LedgerStore, NoteSigner, PostgresLedger};
    let Ok(url) = std::env::var("WARD_BENCH_POSTGRES_URL") else {
        println!("postgres: skipped (set WARD_BENCH_POSTGRES_URL; bench/run.sh starts a server)");
        return;
    };
    let schema = format!("ward_bench_{}", std::process::id());
    let key = NoteSigner::generate("ward.bench/pg", ward_ledger::note::ALG_ED25519)
        .unwrap()
        .to_skey();
    let signer = || NoteSigner::parse(&key).unwrap();
    let mut l = PostgresLedger::open(&url, &schema, signer()).unwrap();
    let entry = |i: u64| format!("{{\"decision\":{i},\"pad\":\"{}\"}}", "x".repeat(1000)).into_bytes();
    let total: u64 = if short { 20_000 } else { 100_000 };
    let start = Instant::now();
    let mut i = 0;
    while i < total {
        l.append(&(i..i + 1000).map(entry).collect::<Vec<_>>()).unwrap();
        i += 1000;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "postgres appends, batches of 1000 x 1 KiB, one transaction per batch: {:.0}/s ({total} entries in {secs:.2} s)",
        total as f64 / secs
    );
    let mut lat = Vec::new();
    for s in 0..200u64 {
        let t = Instant::now();
        l.append(&[entry(total + s)]).unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "postgres single acknowledged append (commit + signed checkpoint): p50 {:.2} ms, p99 {:.2} ms",
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100]
    );
    // Four writers at once, each its own connection: the row lock sequences them.
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..4u64 {
            let (url, schema) = (&url, &schema);
            s.spawn(move || {
                let mut l = PostgresLedger::open(url, schema, signer()).unwrap();
                for b in 0..(total / 4000) {
                    l.append(
                        &(0..1000)
                            .map(|k| entry(w * 10_000_000 + b * 1000 + k))
                            .collect::<Vec<_>>(),
                    )
                    .unwrap();
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "postgres appends, 4 concurrent writers, batches of 1000: {:.0}/s",
        (total / 4000 * 4000) as f64 / secs
    );
    let shared = SharedLedger::new(Box::new(PostgresLedger::open(&url, &schema, signer()).unwrap()));
    for threads in [1, 8, 64] {
        group_commit("postgres", &shared, threads, if short { 1.0 } else { 3.0 });
    }
    drop(shared);
    let start = Instant::now();
    let report = l.verify_all().unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "postgres ledger verify: {:.1} s per million ({} entries)",
        secs * 1e6 / report.entries as f64,
        report.entries
    );
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
}

/// Opening a ledger of `n` entries (built as one big batch of 100-byte
/// entries) and appending one entry, best of 5, against an empty ledger.
fn open_cost(base: &std::path::Path, n: u64) -> f64 {
    let dir = tempfile::tempdir_in(base).unwrap();
    if n > 0 {
        let mut l = EmbeddedLedger::open(dir.path(), "ward.bench/open").unwrap();
        let mut i = 0;
        while i < n {
            let end = (i + 250_000).min(n);
            l.append(
                &(i..end)
                    .map(|k| format!("{{\"d\":{k},\"pad\":\"{}\"}}", "x".repeat(80)).into_bytes())
                    .collect::<Vec<_>>(),
            )
            .unwrap();
            i = end;
        }
    }
    let mut best = f64::MAX;
    for k in 0..5u64 {
        let t = Instant::now();
        let mut l = EmbeddedLedger::open(dir.path(), "ward.bench/open").unwrap();
        l.append(&[format!("one more {k}").into_bytes()]).unwrap();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    best
}

/// `threads` appenders, each appending single entries (1 KiB) through one
/// shared ledger for about `secs`: acknowledged appends/s, p50 and p99.
fn group_commit(backend: &str, shared: &SharedLedger, threads: usize, secs: f64) {
    let entry =
        |t: usize, i: u64| format!("{{\"thread\":{t},\"decision\":{i},\"pad\":\"{}\"}}", "x".repeat(1000)).into_bytes();
    let start = Instant::now();
    let mut lat: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let shared = shared.clone();
                s.spawn(move || {
                    let mut lat = Vec::new();
                    let mut i = 0;
                    while start.elapsed().as_secs_f64() < secs {
                        let at = Instant::now();
                        shared.append_one(entry(t, i)).unwrap();
                        lat.push(at.elapsed().as_secs_f64() * 1e3);
                        i += 1;
                    }
                    lat
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{backend} group commit, {threads:>2} concurrent single appenders: {:.0} acknowledged appends/s, p50 {:.2} ms, p99 {:.2} ms ({} appends)",
        lat.len() as f64 / elapsed,
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100],
        lat.len()
    );
}

fn main() {
    let short = std::env::args().any(|a| a == "--short");
    let (total, samples) = if short { (20_000u64, 50) } else { (200_000u64, 300) };
    let dir = tempfile::tempdir_in(std::env::var("WARD_BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let mut ledger = EmbeddedLedger::open(dir.path(), "ward.bench/ledger").unwrap();

    let entry = |i: u64| format!("{{\"decision\":{i},\"pad\":\"{}\"}}", "x".repeat(1000)).into_bytes();
    let start = Instant::now();
    let mut i = 0;
    while i < total {
        let batch: Vec<Vec<u8>> = (i..i + 1000).map(entry).collect();
        ledger.append(&batch).unwrap();
        i += 1000;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "embedded appends, batches of 1000 x 1 KiB, one fsync per batch: {:.0}/s ({total} entries in {secs:.2} s)",
        total as f64 / secs
    );

    let mut lat = Vec::with_capacity(samples);
    for s in 0..samples as u64 {
        let t = Instant::now();
        ledger.append(&[entry(total + s)]).unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "embedded single acknowledged append (fsync + signed checkpoint): p50 {:.2} ms, p99 {:.2} ms ({samples} samples)",
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100]
    );

    let start = Instant::now();
    let report = ledger.verify_all().unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "ledger verify (read, hash and recompute every entry): {secs:.2} s for {} entries = {:.1} s per million",
        report.entries,
        secs * 1e6 / report.entries as f64
    );

    let tree = MerkleTree::from_leaves((0..1_000_000u64).map(|i| leaf_hash(&i.to_be_bytes())));
    let root = tree.root();
    let n = 100_000u64;
    let start = Instant::now();
    let mut len = 0;
    for k in 0..n {
        let index = (k * 7_919) % 1_000_000;
        len += tree.inclusion_proof(index, 1_000_000).unwrap().len();
    }
    let each = start.elapsed().as_secs_f64() / n as f64;
    std::hint::black_box((len, root));
    println!(
        "inclusion proof at 1,000,000 entries: {:.2} µs each ({n} proofs)",
        each * 1e6
    );
    drop(ledger);

    let gdir = tempfile::tempdir_in(std::env::var("WARD_BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let shared = SharedLedger::new(Box::new(EmbeddedLedger::open(gdir.path(), "ward.bench/group").unwrap()));
    for threads in [1, 8, 64] {
        group_commit("embedded", &shared, threads, if short { 1.0 } else { 3.0 });
    }
    drop(shared);

    let base = std::path::PathBuf::from(std::env::var("WARD_BENCH_DIR").unwrap_or_else(|_| ".".into()));
    let empty = open_cost(&base, 0);
    let sizes: &[u64] = if short { &[10_000] } else { &[10_000, 1_000_000] };
    println!("embedded open + one append (best of 5): empty ledger {empty:.2} ms");
    for &n in sizes {
        let ms = open_cost(&base, n);
        println!(
            "embedded open + one append (best of 5): {n} entries {ms:.2} ms = {:.2}x the empty ledger",
            ms / empty
        );
    }
    postgres(short);
}
