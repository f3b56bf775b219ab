//! Ledger throughput and latency, embedded backend.
//!
//! `cargo bench -p ward-ledger --bench ledger [-- --short]` prints: appends
//! per second with batching (1 KiB entries, batches of 1,000, one fsync per
//! batch), p50/p99 latency of one acknowledged single-entry append,
//! inclusion-proof generation at 1,000,000 entries, the full
//! `ledger verify` (recompute from entries) time scaled to a million, and
//! group commit: acknowledged appends/s and p99 latency from 1, 8 and 64
//! threads each appending single entries through one `SharedLedger`, and
//! the open cost: open + one append at 0, 10,000 and 1,000,000 entries.
//!
//! `-- --build DIR N` only builds (or reuses) a ledger of N decision-record
//! entries in DIR, for `bench/run.sh` to time `ward verify` and `ward proxy`
//! start against; `-- --cache DIR` keeps the open-cost ledgers there
//! (built once, in bulk: batches of 10,000 entries); `-- --open-only` runs
//! only the open cost.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::time::Instant;
use ward_ledger::{EmbeddedLedger, LedgerStore, MerkleTree, NoteSigner, SharedLedger, leaf_hash};

/// A decision record as `ward verify` writes one (a DSSE envelope signed
/// with the ledger key around an in-toto statement; about 900 bytes), for
/// a made-up package of its own.
fn decision(signer: &NoteSigner, i: u64) -> Vec<u8> {
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": format!("pkg:npm/bench-{}@1.0.{}", i / 10, i % 10),
                     "digest": {"sha256": format!("{i:064x}"), "sha512": format!("{i:0128x}")}}],
        "predicateType": "https://ward.invalid/attestation/decision/v1",
        "predicate": {
            "verifier": {"id": "https://ward.invalid/ward", "version": "bench"},
            "timeVerified": "2026-12-01T00:00:00Z",
            "context": "bench",
            "artifact": {"fileName": format!("bench-{}-1.0.{}.tgz", i / 10, i % 10), "kind": "npm", "size": 1000},
            "policy": {"uri": "ward:safe-default"},
            "verificationResult": if i % 7 == 3 { "FAILED" } else { "PASSED" },
            "reasons": [], "warnings": [], "audit": [],
        }
    });
    let payload = serde_json::to_vec(&statement).unwrap();
    let t = "application/vnd.in-toto+json";
    let mut pae = format!("DSSEv1 {} {t} {} ", t.len(), payload.len()).into_bytes();
    pae.extend_from_slice(&payload);
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::to_vec(&serde_json::json!({
        "payloadType": t,
        "payload": b64.encode(&payload),
        "signatures": [{"keyid": signer.verifier().to_vkey(), "sig": b64.encode(signer.sign_bytes(&pae))}],
    }))
    .unwrap()
}

/// A ledger of at least `n` decision records in `dir`: reused when one is
/// there, else built in bulk (batches of 10,000 entries, records signed on
/// two threads) in a temporary directory renamed into place when whole.
fn built_ledger(dir: &Path, n: u64) -> PathBuf {
    if let Ok(l) = EmbeddedLedger::open_snapshot(dir)
        && l.size() >= n
    {
        return dir.to_path_buf();
    }
    let tmp = dir.with_extension("building");
    let _ = std::fs::remove_dir_all(&tmp);
    let start = Instant::now();
    {
        let mut l = EmbeddedLedger::open(&tmp, &format!("ward.bench/ledger-{n}")).unwrap();
        let signer = NoteSigner::parse(&l.signer().to_skey()).unwrap();
        let mut i = 0;
        while i < n {
            let end = (i + 10_000).min(n);
            let mid = i + (end - i) / 2;
            let (a, b) = std::thread::scope(|s| {
                let a = s.spawn(|| (i..mid).map(|k| decision(&signer, k)).collect::<Vec<_>>());
                let b = (mid..end).map(|k| decision(&signer, k)).collect::<Vec<_>>();
                (a.join().unwrap(), b)
            });
            l.append(&[a, b].concat()).unwrap();
            i = end;
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&tmp, dir).unwrap();
    println!(
        "built a ledger of {n} decision records in {:.1} s ({})",
        start.elapsed().as_secs_f64(),
        dir.display()
    );
    dir.to_path_buf()
}

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

/// Opening a ledger of `n` decision records (built once, in `cache`) for
/// writing, and appending one entry; and opening it read-only (as `ward
/// ledger show|prove|search` do). Best of 5 each, in ms.
fn open_cost(cache: &Path, n: u64) -> (f64, f64, f64) {
    let dir = if n == 0 {
        let d = cache.join("ledger-0");
        let _ = std::fs::remove_dir_all(&d);
        d
    } else {
        built_ledger(&cache.join(format!("ledger-{n}")), n)
    };
    let (mut best, mut best_open, mut best_snapshot) = (f64::MAX, f64::MAX, f64::MAX);
    for k in 0..5u64 {
        let t = Instant::now();
        let mut l = EmbeddedLedger::open(&dir, "ward.bench/open").unwrap();
        best_open = best_open.min(t.elapsed().as_secs_f64() * 1e3);
        l.append(&[format!("one more {k}").into_bytes()]).unwrap();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        drop(l);
        let t = Instant::now();
        let l = EmbeddedLedger::open_snapshot(&dir).unwrap();
        std::hint::black_box(l.size());
        best_snapshot = best_snapshot.min(t.elapsed().as_secs_f64() * 1e3);
    }
    (best, best_open, best_snapshot)
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

/// Open + one append, and a read-only open, at 0, 10,000 and (full run)
/// 1,000,000 entries.
fn open_costs(short: bool, cache: Option<PathBuf>) {
    let scratch = tempfile::tempdir_in(std::env::var("WARD_BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let cache = cache.unwrap_or_else(|| scratch.path().to_path_buf());
    std::fs::create_dir_all(&cache).unwrap();
    let (empty, empty_open, empty_snapshot) = open_cost(&cache, 0);
    let sizes: &[u64] = if short { &[10_000] } else { &[10_000, 1_000_000] };
    println!(
        "embedded ledger, empty: writer open {empty_open:.2} ms, open + one append {empty:.2} ms, read-only open {empty_snapshot:.2} ms (best of 5)"
    );
    for &n in sizes {
        let (ms, open, snapshot) = open_cost(&cache, n);
        println!(
            "embedded ledger, {n} entries: writer open {open:.2} ms = {:.2}x, open + one append {ms:.2} ms = {:.2}x, \
             read-only open {snapshot:.2} ms = {:.2}x the empty ledger",
            open / empty_open,
            ms / empty,
            snapshot / empty_snapshot
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--build") {
        let dir = PathBuf::from(&args[at + 1]);
        let n: u64 = args[at + 2].parse().unwrap();
        std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
        built_ledger(&dir, n);
        return;
    }
    let cache = args
        .iter()
        .position(|a| a == "--cache")
        .map(|at| PathBuf::from(&args[at + 1]));
    let short = std::env::args().any(|a| a == "--short");
    if args.iter().any(|a| a == "--open-only") {
        open_costs(short, cache);
        return;
    }
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

    open_costs(short, cache);
    postgres(short);
}
