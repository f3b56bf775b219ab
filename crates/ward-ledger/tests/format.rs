//! The embedded ledger's format 2: the tree's interior nodes persisted in
//! `nodes.bin` and release pins in `pins.sqlite`, so that opening reads the
//! frontier (O(log n) hashes), not every leaf. A ledger written by format 1
//! (the fixture `fixtures/ledger-v1`, written by that release's code)
//! opens, is migrated in place and keeps growing; what open checks and what
//! only the full audit finds is pinned here.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use ward_ledger::tree::interior_count;
use ward_ledger::{
    EmbeddedLedger, LedgerError, LedgerStore, MerkleTree, SignedCheckpoint, leaf_hash, verify_inclusion,
};

const FIXTURE_SIZE: u64 = 118;

/// A copy of the format-1 fixture in a temporary directory.
fn v1_copy() -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger-v1");
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "checkpoint",
        "entries.log",
        "leaves.bin",
        "offsets.bin",
        "ledger.key",
        "ledger.pub",
    ] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn edit(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    f(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

/// Every pin the fixture's records imply, by reading every entry.
fn pins_by_scan(l: &mut EmbeddedLedger) -> Vec<(String, String, Option<ward_ledger::ReleasePin>)> {
    (0..23)
        .flat_map(|pkg| {
            (0..3).map(move |v| {
                (
                    format!("pkg:npm/fixture-{pkg}@1.0.{v}"),
                    format!("fixture-{pkg}-1.0.{v}.tgz"),
                )
            })
        })
        .map(|(p, f)| {
            let pin = l.release_pin_by_scan(&p, &f).unwrap();
            (p, f, pin)
        })
        .collect()
}

#[test]
fn a_ledger_written_by_format_1_opens_migrates_and_grows() {
    let dir = v1_copy();
    let d = dir.path();
    let reference = {
        let leaves = std::fs::read(d.join("leaves.bin")).unwrap();
        MerkleTree::from_leaves(leaves.chunks_exact(32).map(|c| c.try_into().unwrap()))
    };
    assert_eq!(reference.size(), FIXTURE_SIZE);
    // A snapshot reads it as format 1 did (the tree in memory) and changes nothing.
    {
        let mut snap = EmbeddedLedger::open_snapshot(d).unwrap();
        assert_eq!(snap.size(), FIXTURE_SIZE);
        assert_eq!(snap.verify_all().unwrap().entries, FIXTURE_SIZE);
        assert_eq!(
            snap.inclusion_proof(70, FIXTURE_SIZE).unwrap(),
            reference.inclusion_proof(70, FIXTURE_SIZE).unwrap()
        );
        assert!(!d.join("nodes.bin").exists() && !d.join("pins.sqlite").exists());
    }
    // The first writer migrates: nodes.bin and pins.sqlite appear.
    let expected_pins;
    {
        let mut l = EmbeddedLedger::open(d, "ignored").unwrap();
        assert_eq!(l.size(), FIXTURE_SIZE);
        assert_eq!(
            std::fs::metadata(d.join("nodes.bin")).unwrap().len(),
            interior_count(FIXTURE_SIZE) * 32
        );
        expected_pins = pins_by_scan(&mut l);
        assert!(expected_pins.iter().filter(|p| p.2.is_some()).count() > 20);
        for (p, f, pin) in &expected_pins {
            assert_eq!(&l.release_pin(p, f).unwrap(), pin, "{p} {f}");
        }
        l.append(&[b"after the migration".to_vec()]).unwrap();
        l.append(&(0..40).map(|i| format!("more {i}").into_bytes()).collect::<Vec<_>>())
            .unwrap();
    }
    let mut l = EmbeddedLedger::open(d, "ignored").unwrap();
    let size = FIXTURE_SIZE + 41;
    assert_eq!(l.size(), size);
    assert_eq!(l.verify_all().unwrap().entries, size);
    let cp = SignedCheckpoint::verify(l.checkpoint().as_bytes(), &l.verifier()).unwrap();
    for i in [0, 5, 117, 118, 158] {
        let proof = l.inclusion_proof(i, size).unwrap();
        verify_inclusion(&leaf_hash(&l.entry(i).unwrap()), i, size, &proof, &cp.checkpoint.root).unwrap();
    }
    for (p, f, pin) in &expected_pins {
        assert_eq!(&l.release_pin(p, f).unwrap(), pin);
    }
}

#[test]
fn a_migration_cut_short_by_a_crash_is_done_again() {
    let dir = v1_copy();
    let d = dir.path();
    // A crash mid-migration leaves the temporary file (and maybe an empty nodes.bin).
    std::fs::write(d.join("nodes.bin.tmp"), [7u8; 100]).unwrap();
    std::fs::write(d.join("nodes.bin"), []).unwrap();
    let mut l = EmbeddedLedger::open(d, "ignored").unwrap();
    assert_eq!(l.size(), FIXTURE_SIZE);
    assert!(!d.join("nodes.bin.tmp").exists());
    assert_eq!(l.verify_all().unwrap().entries, FIXTURE_SIZE);
}

#[test]
fn an_older_release_appending_to_a_migrated_ledger_is_caught_up() {
    // Format 1 code appends without writing nodes.bin or the pin index:
    // simulate by migrating, then growing the log as format 1 would (here:
    // by format 2, then cutting nodes.bin and the index back).
    let dir = v1_copy();
    let d = dir.path();
    drop(EmbeddedLedger::open(d, "ignored").unwrap());
    let nodes = std::fs::read(d.join("nodes.bin")).unwrap();
    let index = std::fs::read(d.join("pins.sqlite")).unwrap();
    {
        let mut l = EmbeddedLedger::open(d, "ignored").unwrap();
        let r = l.release_pin("pkg:npm/fixture-0@1.0.0", "fixture-0-1.0.0.tgz").unwrap();
        assert!(r.is_some());
        l.append(
            &(0..9)
                .map(|i| format!("by an older release {i}").into_bytes())
                .collect::<Vec<_>>(),
        )
        .unwrap();
    }
    std::fs::write(d.join("nodes.bin"), &nodes).unwrap();
    for f in ["pins.sqlite-wal", "pins.sqlite-shm"] {
        let _ = std::fs::remove_file(d.join(f));
    }
    std::fs::write(d.join("pins.sqlite"), &index).unwrap();
    let mut l = EmbeddedLedger::open(d, "ignored").unwrap();
    assert_eq!(l.size(), FIXTURE_SIZE + 9);
    assert_eq!(l.verify_all().unwrap().entries, FIXTURE_SIZE + 9);
    for (p, f, pin) in pins_by_scan(&mut l) {
        assert_eq!(l.release_pin(&p, &f).unwrap(), pin);
    }
}

#[test]
fn a_pin_index_of_another_log_is_rebuilt() {
    let a = v1_copy();
    drop(EmbeddedLedger::open(a.path(), "ignored").unwrap());
    let b = tempfile::tempdir().unwrap();
    {
        let mut l = EmbeddedLedger::open(b.path(), "ward.test/other").unwrap();
        l.append(&(0..200).map(|i| format!("other {i}").into_bytes()).collect::<Vec<_>>())
            .unwrap();
    }
    std::fs::copy(b.path().join("pins.sqlite"), a.path().join("pins.sqlite")).unwrap();
    for f in ["pins.sqlite-wal", "pins.sqlite-shm"] {
        let _ = std::fs::remove_file(a.path().join(f));
    }
    let mut l = EmbeddedLedger::open(a.path(), "ignored").unwrap();
    for (p, f, pin) in pins_by_scan(&mut l) {
        assert_eq!(l.release_pin(&p, &f).unwrap(), pin);
    }
}

/// A format-2 ledger of `n` single-entry-of-fixed-length batches.
fn ledger(n: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut l = EmbeddedLedger::open(dir.path(), "ward.test/format").unwrap();
    l.append(&(0..n).map(|i| format!("entry-{i:05}").into_bytes()).collect::<Vec<_>>())
        .unwrap();
    dir
}

#[test]
fn open_checks_the_frontier_and_a_recent_tail_and_leaves_the_rest_to_the_full_audit() {
    let n = 1000;
    // A leaf hash far below the re-check window: open does not read it;
    // reading that entry, and the full audit, find it.
    let dir = ledger(n);
    edit(&dir.path().join("leaves.bin"), |b| b[10 * 32] ^= 1);
    let mut l = EmbeddedLedger::open(dir.path(), "x").unwrap();
    assert!(matches!(l.entry(10), Err(LedgerError::Corrupt(_))));
    assert!(matches!(l.verify_all(), Err(LedgerError::Corrupt(_))));
    drop(l);
    // An interior node far below the window (the level-1 node over entries
    // 2 and 3): only the full audit finds it.
    let dir = ledger(n);
    let slot = ward_ledger::tree::interior_slot(1, 1);
    edit(&dir.path().join("nodes.bin"), |b| {
        b[usize::try_from(slot * 32).unwrap()] ^= 1
    });
    let mut l = EmbeddedLedger::open(dir.path(), "x").unwrap();
    let err = l.verify_all().unwrap_err();
    assert!(err.to_string().contains("interior node"), "{err}");
    drop(l);
    // An interior node the recent entries complete (the level-1 node over
    // entries 996 and 997, not on the frontier of 1000): refused at open.
    let dir = ledger(n);
    let slot = ward_ledger::tree::interior_slot(1, 498);
    edit(&dir.path().join("nodes.bin"), |b| {
        b[usize::try_from(slot * 32).unwrap()] ^= 1
    });
    assert!(matches!(
        EmbeddedLedger::open(dir.path(), "x"),
        Err(LedgerError::Corrupt(_))
    ));
    // A leaf hash inside the window: refused at open.
    let dir = ledger(n);
    edit(&dir.path().join("leaves.bin"), |b| b[900 * 32] ^= 1);
    assert!(matches!(
        EmbeddedLedger::open(dir.path(), "x"),
        Err(LedgerError::Corrupt(_))
    ));
}

#[test]
fn a_frontier_node_that_disagrees_is_rebuilt_from_the_leaf_hashes_or_refused() {
    let n = 1000;
    // 1000 = 512 + 256 + 128 + 64 + 32 + 8: the level-9 node over 0..512 is on the frontier.
    let slot = ward_ledger::tree::interior_slot(9, 0);
    // nodes.bin is derived from leaves.bin: a writer rebuilds it.
    let dir = ledger(n);
    edit(&dir.path().join("nodes.bin"), |b| {
        b[usize::try_from(slot * 32).unwrap()] ^= 1
    });
    let mut l = EmbeddedLedger::open(dir.path(), "x").unwrap();
    assert_eq!(l.verify_all().unwrap().entries, n);
    drop(l);
    // A snapshot cannot write: it reads the tree into memory instead.
    let dir = ledger(n);
    edit(&dir.path().join("nodes.bin"), |b| {
        b[usize::try_from(slot * 32).unwrap()] ^= 1
    });
    let mut snap = EmbeddedLedger::open_snapshot(dir.path()).unwrap();
    assert_eq!(snap.verify_all().unwrap().entries, n);
    // When the leaf hashes do not produce the root either, it is corruption.
    edit(&dir.path().join("leaves.bin"), |b| b[5 * 32] ^= 1);
    assert!(matches!(
        EmbeddedLedger::open(dir.path(), "x"),
        Err(LedgerError::Corrupt(_))
    ));
    assert!(matches!(
        EmbeddedLedger::open_snapshot(dir.path()),
        Err(LedgerError::Corrupt(_))
    ));
}

#[test]
fn a_torn_batch_leaves_no_nodes_behind() {
    let dir = ledger(5);
    let before = std::fs::metadata(dir.path().join("nodes.bin")).unwrap().len();
    assert_eq!(before, interior_count(5) * 32);
    // Nodes of a batch that never got its commit marker.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("nodes.bin"))
        .unwrap();
    std::io::Write::write_all(&mut f, &[9u8; 96]).unwrap();
    drop(f);
    let mut l = EmbeddedLedger::open(dir.path(), "x").unwrap();
    assert_eq!(std::fs::metadata(dir.path().join("nodes.bin")).unwrap().len(), before);
    l.append(&[b"next".to_vec()]).unwrap();
    assert_eq!(l.verify_all().unwrap().entries, 6);
}

#[test]
fn a_pin_index_that_cannot_be_opened_stops_pin_lookups_not_the_log() {
    let dir = v1_copy();
    let d = dir.path();
    // Something that is not a database where the index belongs.
    std::fs::create_dir(d.join("pins.sqlite")).unwrap();
    let mut l = EmbeddedLedger::open(d, "ignored").unwrap();
    l.append(&[b"recorded all the same".to_vec()]).unwrap();
    assert!(matches!(
        l.release_pin("pkg:npm/fixture-0@1.0.0", "fixture-0-1.0.0.tgz"),
        Err(LedgerError::Index(_))
    ));
    // Once it can be created, the next lookup builds it from the log.
    std::fs::remove_dir(d.join("pins.sqlite")).unwrap();
    for (p, f, pin) in pins_by_scan(&mut l) {
        assert_eq!(l.release_pin(&p, &f).unwrap(), pin);
    }
    assert_eq!(l.verify_all().unwrap().entries, FIXTURE_SIZE + 1);
}
