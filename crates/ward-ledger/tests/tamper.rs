//! The embedded ledger's crash and tamper model (issue 10, findings 8–10 and
//! the checkpoint read of 15): a rolled-back or missing checkpoint is
//! refused, never "recovered" by cutting acknowledged entries; a log known
//! to be inconsistent is never extended; a read-only snapshot reads the
//! prefix its checkpoint covers whatever lies past it; the checkpoint is
//! read with a bound; and ledgers written before commit markers existed
//! still open.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::path::Path;
use ward_ledger::{Checkpoint, EmbeddedLedger, LedgerError, LedgerStore, MerkleTree, NoteSigner, leaf_hash};

const ORIGIN: &str = "ward.test/tamper";

fn entry(i: u64) -> Vec<u8> {
    format!("entry-{i}-{}", "x".repeat((i % 97) as usize)).into_bytes()
}

/// Entries of one length, so that swapping two keeps every offset valid.
fn fixed(i: u64) -> Vec<u8> {
    format!("fixed-entry-{i:04}").into_bytes()
}

/// A ledger with one single-entry batch per entry (as `ward verify` makes
/// them); returns the checkpoint bytes after each batch.
fn ledger_of(dir: &Path, n: u64, make: fn(u64) -> Vec<u8>) -> Vec<Vec<u8>> {
    let mut l = EmbeddedLedger::open(dir, ORIGIN).unwrap();
    let mut cps = vec![std::fs::read(dir.join("checkpoint")).unwrap()];
    for i in 0..n {
        l.append(&[make(i)]).unwrap();
        cps.push(std::fs::read(dir.join("checkpoint")).unwrap());
    }
    cps
}

fn lens(dir: &Path) -> Vec<u64> {
    ["entries.log", "leaves.bin", "offsets.bin"]
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).unwrap().len())
        .collect()
}

fn is_rollback(r: &Result<EmbeddedLedger, LedgerError>) -> bool {
    matches!(r, Err(LedgerError::Rollback { path, .. }) if path.ends_with("checkpoint"))
}

#[test]
fn a_restored_older_checkpoint_is_refused_and_nothing_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let cps = ledger_of(dir.path(), 6, entry);
    let before = lens(dir.path());
    std::fs::write(dir.path().join("checkpoint"), &cps[3]).unwrap();
    let opened = EmbeddedLedger::open(dir.path(), ORIGIN);
    assert!(is_rollback(&opened), "{:?}", opened.err());
    assert!(is_rollback(&EmbeddedLedger::open_snapshot(dir.path())));
    assert_eq!(lens(dir.path()), before, "a refused open must not truncate anything");
    // Cutting leaf hashes and offsets back to the old checkpoint too does
    // not hide the later batches' commit markers in entries.log.
    for (file, len) in [("leaves.bin", 3 * 32), ("offsets.bin", 3 * 8)] {
        let path = dir.path().join(file);
        let saved = std::fs::read(&path).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len)
            .unwrap();
        assert!(is_rollback(&EmbeddedLedger::open(dir.path(), ORIGIN)), "{file}");
        std::fs::write(&path, saved).unwrap();
    }
    assert_eq!(lens(dir.path()), before);
    // Putting the latest checkpoint back makes the log whole again.
    std::fs::write(dir.path().join("checkpoint"), &cps[6]).unwrap();
    let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
    assert_eq!(l.size(), 6);
    assert_eq!(l.verify_all().unwrap().entries, 6);
}

#[test]
fn a_missing_checkpoint_over_a_non_empty_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    ledger_of(dir.path(), 6, entry);
    let before = lens(dir.path());
    std::fs::remove_file(dir.path().join("checkpoint")).unwrap();
    assert!(is_rollback(&EmbeddedLedger::open(dir.path(), ORIGIN)));
    assert!(is_rollback(&EmbeddedLedger::open_snapshot(dir.path())));
    assert_eq!(lens(dir.path()), before);
    assert!(
        !dir.path().join("checkpoint").exists(),
        "no new checkpoint over the old log"
    );
}

#[test]
fn a_complete_batch_past_the_checkpoint_rolls_forward_to_the_same_checkpoint() {
    // A crash between the data fsync and the checkpoint rename leaves one
    // complete, committed batch past the checkpoint; so does putting back
    // the checkpoint from one batch earlier. Either way the log keeps it.
    let dir = tempfile::tempdir().unwrap();
    let mut cps = vec![];
    {
        let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
        l.append(&(0..4).map(entry).collect::<Vec<_>>()).unwrap();
        cps.push(std::fs::read(dir.path().join("checkpoint")).unwrap());
        l.append(&(4..9).map(entry).collect::<Vec<_>>()).unwrap();
        cps.push(std::fs::read(dir.path().join("checkpoint")).unwrap());
    }
    std::fs::write(dir.path().join("checkpoint"), &cps[0]).unwrap();
    let snap = EmbeddedLedger::open_snapshot(dir.path()).unwrap();
    assert_eq!(snap.size(), 4, "a snapshot reads what the checkpoint covers");
    let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
    assert_eq!(l.size(), 9);
    assert_eq!(l.checkpoint().as_bytes(), &cps[1][..], "the same signed checkpoint");
    assert_eq!(std::fs::read(dir.path().join("checkpoint")).unwrap(), cps[1]);
    l.append(&[entry(9)]).unwrap();
    assert_eq!(l.verify_all().unwrap().entries, 10);
}

#[test]
fn a_torn_batch_is_still_cut_back() {
    let dir = tempfile::tempdir().unwrap();
    ledger_of(dir.path(), 3, entry);
    let before = lens(dir.path());
    // Records of a batch whose commit marker never reached the disk.
    let log = dir.path().join("entries.log");
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let e = entry(3);
    f.write_all(&u32::try_from(e.len()).unwrap().to_be_bytes()).unwrap();
    use sha2::Digest as _;
    f.write_all(&sha2::Sha256::digest(&e)[..4]).unwrap();
    f.write_all(&e).unwrap();
    drop(f);
    let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
    assert_eq!(l.size(), 3);
    assert_eq!(lens(dir.path()), before);
    l.append(&[entry(3)]).unwrap();
    assert_eq!(l.verify_all().unwrap().entries, 4);
}

/// Opens for writing after `tamper`; the open must refuse and leave the
/// files and the checkpoint as they were.
fn refused_after(n: u64, make: fn(u64) -> Vec<u8>, tamper: impl FnOnce(&Path)) -> LedgerError {
    let dir = tempfile::tempdir().unwrap();
    ledger_of(dir.path(), n, make);
    tamper(dir.path());
    let before = lens(dir.path());
    let cp = std::fs::read(dir.path().join("checkpoint")).unwrap();
    let err = match EmbeddedLedger::open(dir.path(), ORIGIN) {
        Ok(_) => panic!("a tampered log opened for appending"),
        Err(e) => e,
    };
    assert_eq!(lens(dir.path()), before);
    assert_eq!(std::fs::read(dir.path().join("checkpoint")).unwrap(), cp);
    err
}

fn edit(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    f(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_flipped_byte_in_an_early_entry_is_refused() {
    let e = refused_after(6, entry, |d| edit(&d.join("entries.log"), |b| b[12] ^= 1));
    assert!(matches!(e, LedgerError::Corrupt(_)), "{e}");
}

#[test]
fn a_flipped_checksum_byte_is_refused() {
    let e = refused_after(6, entry, |d| edit(&d.join("entries.log"), |b| b[5] ^= 1));
    assert!(matches!(e, LedgerError::Corrupt(_)), "{e}");
}

#[test]
fn an_entry_rewritten_with_its_checksum_fixed_is_refused() {
    use sha2::Digest as _;
    let e = refused_after(6, fixed, |d| {
        edit(&d.join("entries.log"), |b| {
            let forged = b"fixed-entry-9999";
            let body = 8..8 + forged.len();
            assert_eq!(b[body.clone()], fixed(0)[..]);
            b[body].copy_from_slice(forged);
            b[4..8].copy_from_slice(&sha2::Sha256::digest(forged)[..4]);
        })
    });
    assert!(matches!(e, LedgerError::Corrupt(_)), "{e}");
}

#[test]
fn two_swapped_entries_are_refused() {
    let e = refused_after(6, fixed, |d| {
        let offsets = std::fs::read(d.join("offsets.bin")).unwrap();
        let at = |i: usize| usize::try_from(u64::from_be_bytes(offsets[i * 8..i * 8 + 8].try_into().unwrap())).unwrap();
        let (a, b) = (at(1), at(2));
        let len = 8 + fixed(1).len();
        edit(&d.join("entries.log"), |bytes| {
            let first = bytes[a..a + len].to_vec();
            let second = bytes[b..b + len].to_vec();
            bytes[a..a + len].copy_from_slice(&second);
            bytes[b..b + len].copy_from_slice(&first);
        });
    });
    assert!(matches!(e, LedgerError::Corrupt(_)), "{e}");
}

#[test]
fn a_corrupted_offsets_file_is_refused() {
    for (i, flip) in [(1usize, 0x01u8), (3, 0x80), (5, 0x10)] {
        let e = refused_after(6, entry, |d| edit(&d.join("offsets.bin"), |b| b[i * 8 + 7] ^= flip));
        assert!(matches!(e, LedgerError::Corrupt(_)), "offset {i}: {e}");
    }
    let e = refused_after(6, entry, |d| edit(&d.join("offsets.bin"), |b| b[8] = 0xff));
    assert!(matches!(e, LedgerError::Corrupt(_)), "{e}");
}

#[test]
fn tampering_older_than_the_recheck_window_is_left_to_the_full_audit() {
    // The writer re-hashes only the most recent entries on open (the full
    // re-hash is `ledger verify`); this pins where that line is.
    let dir = tempfile::tempdir().unwrap();
    {
        let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
        l.append(&(0..300).map(fixed).collect::<Vec<_>>()).unwrap();
    }
    edit(&dir.path().join("entries.log"), |b| b[12] ^= 1);
    let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
    assert!(matches!(l.verify_all(), Err(LedgerError::Corrupt(_))));
    // Entry 299 is inside the window.
    drop(l);
    edit(&dir.path().join("entries.log"), |b| {
        b[12] ^= 1;
        let n = b.len();
        b[n - 40] ^= 1;
    });
    assert!(matches!(
        EmbeddedLedger::open(dir.path(), ORIGIN),
        Err(LedgerError::Corrupt(_))
    ));
}

#[test]
fn a_snapshot_reads_the_checkpointed_prefix_of_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    ledger_of(dir.path(), 3, entry);
    for (file, junk) in [
        ("entries.log", &b"\x00\x00\x00\x09abcdpart"[..]),
        ("leaves.bin", &[7u8; 40][..]),
        ("offsets.bin", &[1u8; 11][..]),
    ] {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(file))
            .unwrap();
        f.write_all(junk).unwrap();
    }
    let before = lens(dir.path());
    let mut snap = EmbeddedLedger::open_snapshot(dir.path()).unwrap();
    assert_eq!(snap.size(), 3);
    assert_eq!(snap.entry(2).unwrap(), entry(2));
    assert_eq!(snap.verify_all().unwrap().entries, 3);
    assert_eq!(lens(dir.path()), before, "a snapshot repairs nothing");
}

#[test]
fn an_endless_or_special_checkpoint_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    ledger_of(dir.path(), 2, entry);
    let cp = dir.path().join("checkpoint");
    std::fs::remove_file(&cp).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &cp).unwrap();
    let start = std::time::Instant::now();
    assert!(EmbeddedLedger::open(dir.path(), ORIGIN).is_err());
    assert!(EmbeddedLedger::open_snapshot(dir.path()).is_err());
    assert!(start.elapsed().as_secs() < 5);
    // A regular file far larger than any checkpoint is refused too, unread.
    std::fs::remove_file(&cp).unwrap();
    std::fs::File::create(&cp).unwrap().set_len(1 << 30).unwrap();
    assert!(EmbeddedLedger::open(dir.path(), ORIGIN).is_err());
}

/// Writes a ledger exactly as ward wrote it before commit markers: records
/// back to back, leaf hashes, offsets, a signed checkpoint.
fn write_old_layout(dir: &Path, n: u64) -> NoteSigner {
    use sha2::Digest as _;
    std::fs::create_dir_all(dir).unwrap();
    let signer = NoteSigner::generate(ORIGIN, ward_ledger::note::ALG_ED25519).unwrap();
    std::fs::write(dir.join("ledger.key"), signer.to_skey()).unwrap();
    std::fs::write(dir.join("ledger.pub"), format!("{}\n", signer.verifier().to_vkey())).unwrap();
    let (mut log, mut leaves, mut offsets) = (vec![], vec![], vec![]);
    let mut tree = MerkleTree::new();
    for i in 0..n {
        let e = entry(i);
        offsets.extend_from_slice(&(log.len() as u64).to_be_bytes());
        log.extend_from_slice(&u32::try_from(e.len()).unwrap().to_be_bytes());
        log.extend_from_slice(&sha2::Sha256::digest(&e)[..4]);
        log.extend_from_slice(&e);
        leaves.extend_from_slice(&leaf_hash(&e));
        tree.push(leaf_hash(&e));
    }
    std::fs::write(dir.join("entries.log"), log).unwrap();
    std::fs::write(dir.join("leaves.bin"), leaves).unwrap();
    std::fs::write(dir.join("offsets.bin"), offsets).unwrap();
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: n,
        root: tree.root(),
        extensions: vec![],
    };
    std::fs::write(dir.join("checkpoint"), cp.sign(&signer).unwrap()).unwrap();
    signer
}

#[test]
fn a_ledger_in_the_old_layout_opens_grows_and_audits() {
    let dir = tempfile::tempdir().unwrap();
    write_old_layout(dir.path(), 5);
    // An old writer's torn tail (records never checkpointed) is cut as before.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("entries.log"))
        .unwrap();
    f.write_all(b"\x00\x00\x00\x05abcdefg").unwrap();
    drop(f);
    let snap = EmbeddedLedger::open_snapshot(dir.path()).unwrap();
    assert_eq!(snap.size(), 5);
    {
        let mut l = EmbeddedLedger::open(dir.path(), "ignored").unwrap();
        assert_eq!(l.size(), 5);
        assert_eq!(l.entry(4).unwrap(), entry(4));
        l.append(&[entry(5), entry(6)]).unwrap();
        l.append(&[entry(7)]).unwrap();
    }
    let mut l = EmbeddedLedger::open(dir.path(), "ignored").unwrap();
    assert_eq!(l.size(), 8);
    assert_eq!(l.verify_all().unwrap().entries, 8);
    for i in 0..8 {
        assert_eq!(l.entry(i).unwrap(), entry(i));
    }
}

#[test]
fn snapshots_beside_a_busy_writer_never_see_a_rollback() {
    // A writer replaces the checkpoint and commits batches past it while a
    // snapshot reads; the snapshot must re-read, never report a rollback.
    let dir = tempfile::tempdir().unwrap();
    let mut writer = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
    writer.append(&[entry(0)]).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 1..400 {
                writer.append(&[entry(i)]).unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let mut last = 0;
        let mut opened = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let snap = EmbeddedLedger::open_snapshot(dir.path()).unwrap_or_else(|e| panic!("snapshot: {e}"));
            assert!(snap.size() >= last);
            last = snap.size();
            opened += 1;
        }
        assert!(opened > 0);
    });
    assert_eq!(EmbeddedLedger::open_snapshot(dir.path()).unwrap().size(), 400);
}

#[test]
fn a_failed_checkpoint_write_is_recovered_on_the_next_append() {
    // The batch and its commit marker are durable, the checkpoint could not
    // be replaced: nothing is acknowledged, nothing is cut, and the next
    // append (same handle) rolls the committed batch forward first.
    let dir = tempfile::tempdir().unwrap();
    let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
    l.append(&[entry(0)]).unwrap();
    let tmp = dir.path().join("checkpoint.tmp");
    std::fs::create_dir(&tmp).unwrap();
    assert!(matches!(l.append(&[entry(1)]), Err(LedgerError::Io { .. })));
    assert_eq!(l.size(), 1, "not acknowledged");
    assert!(l.append(&[entry(2)]).is_err(), "still no way to write a checkpoint");
    assert_eq!(l.size(), 1, "still not acknowledged");
    std::fs::remove_dir(&tmp).unwrap();
    let r = l.append(&[entry(2)]).unwrap();
    assert_eq!((r.first_index, r.size), (2, 3));
    assert_eq!(l.entry(1).unwrap(), entry(1));
    assert_eq!(l.verify_all().unwrap().entries, 3);
    drop(l);
    let mut l = EmbeddedLedger::open(dir.path(), ORIGIN).unwrap();
    assert_eq!(l.size(), 3);
    assert_eq!(l.verify_all().unwrap().entries, 3);
}

#[test]
fn a_fifo_in_an_exported_mirror_is_refused_not_waited_on() {
    use ward_ledger::tiles::{DirSource, TileSource};
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("checkpoint");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let start = std::time::Instant::now();
    assert!(DirSource(dir.path().to_path_buf()).read("checkpoint").is_err());
    assert!(start.elapsed().as_secs() < 5);
}
