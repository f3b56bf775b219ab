//! Group commit ([`SharedLedger`]): concurrent single appenders share one
//! batch (one commit marker, one fsync, one checkpoint), each is answered
//! with a proof against a checkpoint that covers it, a failed batch
//! acknowledges nobody, and SIGKILL or a full disk in the middle of
//! concurrent appends never loses an acknowledged entry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, missing_docs)]

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;
use ward_ledger::note::NoteSigner;
use ward_ledger::{
    EmbeddedLedger, LedgerError, LedgerStore, Receipt, SharedLedger, SignedCheckpoint, leaf_hash, verify_inclusion,
};

const ORIGIN: &str = "ward.test/group";

fn entry(thread: u64, seq: u64) -> Vec<u8> {
    format!(
        "thread-{thread}-seq-{seq}-{}",
        "y".repeat(((thread * 31 + seq) % 50) as usize)
    )
    .into_bytes()
}

/// An embedded ledger that counts its batches, can be slowed down (so that
/// appenders surely queue behind a batch in flight) and made to fail.
struct Probe {
    inner: EmbeddedLedger,
    batches: Arc<AtomicUsize>,
    fail: Arc<AtomicBool>,
    delay: Duration,
}

impl LedgerStore for Probe {
    fn append(&mut self, entries: &[Vec<u8>]) -> Result<Receipt, LedgerError> {
        std::thread::sleep(self.delay);
        if self.fail.load(Ordering::SeqCst) {
            return Err(LedgerError::Corrupt("injected failure".into()));
        }
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.inner.append(entries)
    }
    fn refresh(&mut self) -> Result<(), LedgerError> {
        Ok(())
    }
    fn entry(&mut self, index: u64) -> Result<Vec<u8>, LedgerError> {
        self.inner.entry(index)
    }
    fn checkpoint(&self) -> &str {
        self.inner.checkpoint()
    }
    fn signer(&self) -> &NoteSigner {
        self.inner.signer()
    }
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn node(&mut self, level: u32, index: u64) -> Result<ward_ledger::Hash, LedgerError> {
        self.inner.node(level, index)
    }
}

fn probe(dir: &std::path::Path, delay_ms: u64) -> (SharedLedger, Arc<AtomicUsize>, Arc<AtomicBool>) {
    let batches = Arc::new(AtomicUsize::new(0));
    let fail = Arc::new(AtomicBool::new(false));
    let store = Probe {
        inner: EmbeddedLedger::open(dir, ORIGIN).unwrap(),
        batches: batches.clone(),
        fail: fail.clone(),
        delay: Duration::from_millis(delay_ms),
    };
    (SharedLedger::new(Box::new(store)), batches, fail)
}

/// Counts the commit markers in entries.log (one per batch).
fn markers(dir: &std::path::Path) -> usize {
    let log = std::fs::read(dir.join("entries.log")).unwrap();
    log.windows(8)
        .filter(|w| *w == [0xff, 0xff, 0xff, 0xff, b'w', b'c', b'm', b'1'])
        .count()
}

#[test]
fn concurrent_single_appends_share_batches_and_each_gets_a_valid_proof() {
    let dir = tempfile::tempdir().unwrap();
    let (shared, batches, _) = probe(dir.path(), 20);
    let (threads, each) = (16u64, 5u64);
    let start = Barrier::new(usize::try_from(threads).unwrap());
    let results: Vec<(u64, u64, ward_ledger::Appended)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (shared, start) = (shared.clone(), &start);
                s.spawn(move || {
                    start.wait();
                    (0..each)
                        .map(|k| (t, k, shared.append_one(entry(t, k)).unwrap()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let total = usize::try_from(threads * each).unwrap();
    assert_eq!(results.len(), total);
    let mut indices: Vec<u64> = results.iter().map(|(_, _, a)| a.index).collect();
    indices.sort_unstable();
    assert_eq!(
        indices,
        (0..total as u64).collect::<Vec<_>>(),
        "every entry got its own index"
    );
    let verifier = shared.verifier().unwrap();
    for (t, k, a) in &results {
        // Acknowledged means covered by a signed checkpoint, with a proof.
        let cp = SignedCheckpoint::verify(a.checkpoint.as_bytes(), &verifier).unwrap();
        assert_eq!(cp.checkpoint.size, a.size);
        assert!(a.index < a.size);
        verify_inclusion(
            &leaf_hash(&entry(*t, *k)),
            a.index,
            a.size,
            &a.inclusion_proof,
            &cp.checkpoint.root,
        )
        .unwrap();
    }
    let n = batches.load(Ordering::SeqCst);
    // Appenders queued behind each 20 ms batch share the next one: 80
    // appends by 16 threads take about one batch per appender round.
    assert!(n <= total / 4, "{n} batches for {total} appends: not group-committed");
    drop(shared);
    assert_eq!(markers(dir.path()), n, "one commit marker per batch");
    let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
    assert_eq!(l.verify_all().unwrap().entries, total as u64);
    for (t, k, a) in &results {
        assert_eq!(l.entry(a.index).unwrap(), entry(*t, *k));
    }
}

#[test]
fn a_failed_batch_acknowledges_no_caller_in_it_and_the_next_one_works() {
    let dir = tempfile::tempdir().unwrap();
    let (shared, _, fail) = probe(dir.path(), 10);
    fail.store(true, Ordering::SeqCst);
    let start = Barrier::new(8);
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8u64)
            .map(|t| {
                let (shared, start) = (shared.clone(), &start);
                s.spawn(move || {
                    start.wait();
                    shared.append_one(entry(t, 0))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for o in &outcomes {
        let e = o.as_ref().expect_err("a failed batch must not acknowledge");
        assert!(e.to_string().contains("injected failure"), "{e}");
    }
    assert_eq!(shared.with_store(|s| s.size()).unwrap(), 0);
    fail.store(false, Ordering::SeqCst);
    assert_eq!(shared.append_one(entry(9, 0)).unwrap().index, 0);
    // An oversized entry is refused alone and fails nobody else's batch.
    assert!(matches!(
        shared.append_one(vec![0; 70_000]),
        Err(LedgerError::EntryTooLarge(70_000))
    ));
    assert_eq!(shared.append_one(entry(9, 1)).unwrap().index, 1);
}

/// The writer process of the concurrent crash and full-disk tests: eight
/// threads append single entries through the group commit forever,
/// printing `ack <index> <thread> <seq>` for each acknowledged one.
#[test]
#[ignore = "child process of the concurrent crash and full-disk tests"]
fn concurrent_writer_child() {
    let Ok(dir) = std::env::var("WARD_GROUP_DIR") else {
        return;
    };
    let shared = SharedLedger::new(Box::new(
        EmbeddedLedger::open(std::path::Path::new(&dir), ORIGIN).unwrap(),
    ));
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let round: u64 = std::env::var("WARD_GROUP_ROUND").unwrap().parse().unwrap();
    std::thread::scope(|s| {
        for t in 0..8u64 {
            let (shared, out) = (shared.clone(), out.clone());
            s.spawn(move || {
                for seq in 0.. {
                    let tag = round * 100 + t;
                    match shared.append_one(entry(tag, seq)) {
                        Ok(a) => {
                            let mut o = out.lock().unwrap();
                            writeln!(o, "ack {} {tag} {seq}", a.index).unwrap();
                            o.flush().unwrap();
                        }
                        Err(e) => {
                            let mut o = out.lock().unwrap();
                            writeln!(o, "err {e}").unwrap();
                            o.flush().unwrap();
                            return;
                        }
                    }
                }
            });
        }
    });
}

fn run_child(
    dir: &std::path::Path,
    round: u64,
    file_blocks: Option<u64>,
) -> (std::process::Child, std::process::ChildStdout) {
    let exe = std::env::current_exe().unwrap();
    let args = [
        "--ignored",
        "--exact",
        "concurrent_writer_child",
        "--nocapture",
        "--test-threads",
        "1",
    ];
    let mut cmd = match file_blocks {
        // The file-size limit makes a write fail with EFBIG, as on a full disk.
        Some(blocks) => {
            let mut c = Command::new("bash");
            c.args(["-c", &format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\"")])
                .arg(&exe)
                .args(args);
            c
        }
        None => {
            let mut c = Command::new(&exe);
            c.args(args);
            c
        }
    };
    let mut child = cmd
        .env("WARD_GROUP_DIR", dir)
        .env("WARD_GROUP_ROUND", round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    (child, stdout)
}

/// `(index, thread tag, seq)` of each acknowledged entry, and whether any append failed.
type Acks = (Vec<(u64, u64, u64)>, bool);

/// Reads `ack` lines: `(index, thread tag, seq)`, and whether any `err` came.
fn acks(stdout: std::process::ChildStdout) -> std::thread::JoinHandle<Acks> {
    std::thread::spawn(move || {
        let mut acks = Vec::new();
        let mut failed = false;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["ack", i, t, k] => acks.push((i.parse().unwrap(), t.parse().unwrap(), k.parse().unwrap())),
                ["err", ..] => failed = true,
                _ => {}
            }
        }
        (acks, failed)
    })
}

fn check_acknowledged(dir: &std::path::Path, acked: &[(u64, u64, u64)], what: &str) -> u64 {
    let mut l = EmbeddedLedger::open(dir, ORIGIN).unwrap();
    assert_eq!(l.verify_all().unwrap().entries, l.size());
    for (i, t, k) in acked {
        assert!(
            *i < l.size(),
            "{what}: acknowledged entry {i} lost (ledger has {})",
            l.size()
        );
        assert_eq!(l.entry(*i).unwrap(), entry(*t, *k), "{what}: entry {i}");
    }
    l.size()
}

#[test]
fn killed_concurrent_writers_never_lose_acknowledged_entries() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked_all = Vec::new();
    for round in 0..12u64 {
        let (mut child, stdout) = run_child(dir.path(), round, None);
        let reader = acks(stdout);
        std::thread::sleep(Duration::from_millis(60 + (round * 37) % 90));
        child.kill().unwrap();
        child.wait().unwrap();
        let (acked, _) = reader.join().unwrap();
        acked_all.extend(acked);
        check_acknowledged(dir.path(), &acked_all, &format!("round {round}"));
    }
    assert!(
        acked_all.len() > 100,
        "the writers appended too little ({})",
        acked_all.len()
    );
    println!(
        "concurrent crash test: 12 kills, {} acknowledged entries, none lost",
        acked_all.len()
    );
}

#[test]
fn a_full_disk_under_concurrent_appenders_acknowledges_only_what_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
        l.append(&[entry(999, 0)]).unwrap();
    }
    // Room for a few hundred more records, then every write fails.
    let (mut child, stdout) = run_child(dir.path(), 0, Some(32));
    let reader = acks(stdout);
    let status = child.wait().unwrap();
    let (acked, failed) = reader.join().unwrap();
    assert!(failed, "the appenders never hit the limit ({status:?})");
    assert!(!acked.is_empty(), "nothing was appended before the limit");
    let size = check_acknowledged(dir.path(), &acked, "full disk");
    assert!(
        size > acked.len() as u64,
        "{size} entries for {} acks and one before",
        acked.len()
    );
    // The ledger keeps working once there is room again.
    let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
    l.append(&[entry(999, 1)]).unwrap();
    assert_eq!(l.verify_all().unwrap().entries, size + 1);
}
