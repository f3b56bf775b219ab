//! Interoperability with a real log: the 15-entry Tessera POSIX log in the
//! C2SP tlog-tiles layout, its signed checkpoints and its verifier key.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use ward_ledger::tiles::{DirSource, TileSource, decode_tile, read_entries, tile_path};
use ward_ledger::{Checkpoint, MerkleTree, Note, NoteError, NoteSigner, NoteVerifier, SignedCheckpoint, leaf_hash};

const VKEY: &str = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
const SKEY: &str = "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg";
const ENTRIES: [&str; 15] = [
    "one", "two", "three", "four", "five", "six", "seven", "eit", "nain", "ten", "ileven", "twelf", "threeten",
    "fourten", "fivten",
];

fn log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/tlog/tessera-log")
}

#[test]
fn reads_and_verifies_the_tessera_log() {
    let key = NoteVerifier::parse(VKEY).unwrap();
    let source = DirSource(log());
    let cp = SignedCheckpoint::verify(&source.read("checkpoint").unwrap(), &key).unwrap();
    assert_eq!(cp.checkpoint.size, 15);
    let entries = read_entries(&source, 15).unwrap();
    let as_text: Vec<String> = entries.iter().map(|e| String::from_utf8(e.clone()).unwrap()).collect();
    assert_eq!(as_text, ENTRIES);
    let tree = MerkleTree::from_leaves(entries.iter().map(|e| leaf_hash(e)));
    assert_eq!(tree.root(), cp.checkpoint.root);
    // The level-0 tile holds exactly the leaf hashes.
    let tile = decode_tile(&source.read(&tile_path(0, 0, 15)).unwrap(), 15).unwrap();
    assert_eq!(tile, tree.level_range(0, 0, 15));
    // Every historical checkpoint verifies and is consistent with the last.
    for size in 1..=15u64 {
        let old = SignedCheckpoint::verify(&source.read(&format!("checkpoint.{size}")).unwrap(), &key).unwrap();
        assert_eq!(old.checkpoint.size, size);
        assert_eq!(old.checkpoint.root, tree.root_at(size).unwrap());
        let proof = tree.consistency_proof(size, 15).unwrap();
        ward_ledger::verify_consistency(size, 15, &proof, &old.checkpoint.root, &cp.checkpoint.root).unwrap();
    }
}

#[test]
fn a_writer_with_the_same_key_produces_the_same_checkpoint() {
    let signer = NoteSigner::parse(SKEY).unwrap();
    assert_eq!(signer.verifier().to_vkey(), VKEY);
    let tree = MerkleTree::from_leaves(ENTRIES.iter().map(|e| leaf_hash(e.as_bytes())));
    let cp = Checkpoint {
        origin: signer.name().to_string(),
        size: 15,
        root: tree.root(),
        extensions: vec![],
    };
    let ours = cp.sign(&signer).unwrap();
    let theirs = std::fs::read_to_string(log().join("checkpoint")).unwrap();
    assert_eq!(ours, theirs, "Ed25519 is deterministic: same body, same key, same note");
}

#[test]
fn tampering_is_detected_with_a_specific_error() {
    let key = NoteVerifier::parse(VKEY).unwrap();
    let good = std::fs::read_to_string(log().join("checkpoint")).unwrap();
    // A wrong root: the signature no longer covers the text.
    let wrong_root = good.replacen("rKbD", "rKbE", 1);
    assert!(matches!(
        SignedCheckpoint::verify(wrong_root.as_bytes(), &key),
        Err(NoteError::BadSignature(_))
    ));
    // A non-canonical size.
    let padded = good.replacen("\n15\n", "\n015\n", 1);
    assert!(matches!(
        SignedCheckpoint::verify(padded.as_bytes(), &key),
        Err(NoteError::Malformed(_))
    ));
    // An unknown key.
    let other = NoteSigner::generate("example.com/log/testdata", ward_ledger::note::ALG_ED25519).unwrap();
    assert!(matches!(
        SignedCheckpoint::verify(good.as_bytes(), &other.verifier()),
        Err(NoteError::UnknownKey(_))
    ));
    // A truncated tile.
    let tile = std::fs::read(log().join("tile/0/000.p/15")).unwrap();
    assert!(decode_tile(&tile[..tile.len() - 1], 15).is_err());
    // A tampered entry changes the root.
    let mut entries = read_entries(&DirSource(log()), 15).unwrap();
    entries[3] = b"FOUR".to_vec();
    let tree = MerkleTree::from_leaves(entries.iter().map(|e| leaf_hash(e)));
    let cp = SignedCheckpoint::verify(good.as_bytes(), &key).unwrap();
    assert_ne!(tree.root(), cp.checkpoint.root);
}

#[test]
fn witnesses_cosign_and_a_quorum_is_enforced() {
    let log_key = NoteSigner::parse(SKEY).unwrap();
    let tree = MerkleTree::from_leaves(ENTRIES.iter().map(|e| leaf_hash(e.as_bytes())));
    let cp = Checkpoint {
        origin: log_key.name().to_string(),
        size: 15,
        root: tree.root(),
        extensions: vec![],
    };
    let text = cp.to_text();
    let w1 = NoteSigner::generate("witness.example/one", ward_ledger::note::ALG_COSIGNATURE).unwrap();
    let w2 = NoteSigner::generate("witness.example/two", ward_ledger::note::ALG_COSIGNATURE).unwrap();
    let w3 = NoteSigner::generate("witness.example/three", ward_ledger::note::ALG_COSIGNATURE).unwrap();
    let note_text = format!(
        "{text}\n{}{}{}",
        log_key.sign_line(&text),
        w1.cosign_line(&text, 1_700_000_000),
        w2.cosign_line(&text, 1_700_000_001)
    );
    let note = Note::parse(note_text.as_bytes()).unwrap();
    let witnesses = [w1.verifier(), w2.verifier(), w3.verifier()];
    assert_eq!(note.verify_witnesses(&witnesses, 2).unwrap().len(), 2);
    assert!(matches!(
        note.verify_witnesses(&witnesses, 3),
        Err(NoteError::Quorum { got: 2, need: 3 })
    ));
    // The log's own signature still verifies beside the cosignatures.
    note.verify(&[log_key.verifier()]).unwrap();
    // A cosignature over another checkpoint is refused by name.
    let forged = note_text.replacen(
        &w2.cosign_line(&text, 1_700_000_001),
        &w2.cosign_line("other\n1\nAAAA\n", 1_700_000_001),
        1,
    );
    let forged = Note::parse(forged.as_bytes()).unwrap();
    assert!(
        matches!(forged.verify_witnesses(&witnesses, 1), Err(NoteError::BadSignature(n)) if n == "witness.example/two")
    );
    // Vkeys round-trip, and a wrong key hash is refused.
    assert_eq!(NoteVerifier::parse(&w1.verifier().to_vkey()).unwrap(), w1.verifier());
    assert!(
        NoteVerifier::parse("example.com/log/testdata+33d7b497+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx").is_err()
    );
}

#[test]
fn the_monitor_accepts_growth_and_alerts_on_rollback_fork_and_bad_signatures() {
    use ward_ledger::monitor::{MonitorAlert, MonitorOutcome, check};
    let key = NoteVerifier::parse(VKEY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &Path| {
        std::process::Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
    };
    let log_dir = dir.path().join("log");
    copy(&log(), &log_dir);
    let set_checkpoint = |name: &str| std::fs::copy(log().join(name), log_dir.join("checkpoint")).unwrap();
    let source = DirSource(log_dir.clone());

    set_checkpoint("checkpoint.10");
    let (outcome, state) = check(&source, &key, None).unwrap();
    assert_eq!(outcome, MonitorOutcome::FirstSeen { size: 10 });
    set_checkpoint("checkpoint.15");
    let (outcome, state15) = check(&source, &key, Some(&state)).unwrap();
    assert_eq!(outcome, MonitorOutcome::Consistent { from: 10, to: 15 });
    // Rollback: the log now serves an older checkpoint.
    set_checkpoint("checkpoint.12");
    assert!(matches!(
        check(&source, &key, Some(&state15)),
        Err(MonitorAlert::Rollback { before: 15, now: 12 })
    ));
    // Fork: a validly signed checkpoint of the same size with another root.
    let signer = NoteSigner::parse(SKEY).unwrap();
    let forked = Checkpoint {
        origin: signer.name().into(),
        size: 15,
        root: [9; 32],
        extensions: vec![],
    }
    .sign(&signer)
    .unwrap();
    std::fs::write(log_dir.join("checkpoint"), &forked).unwrap();
    assert!(matches!(
        check(&source, &key, Some(&state15)),
        Err(MonitorAlert::Fork(_))
    ));
    // A bigger tree that rewrote history: entries differ, tiles and root are self-consistent.
    let other: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i]).collect();
    let tree = MerkleTree::from_leaves(other.iter().map(|e| leaf_hash(e)));
    let rewritten = Checkpoint {
        origin: signer.name().into(),
        size: 20,
        root: tree.root(),
        extensions: vec![],
    }
    .sign(&signer)
    .unwrap();
    std::fs::write(log_dir.join("checkpoint"), &rewritten).unwrap();
    std::fs::create_dir_all(log_dir.join("tile/0/000.p")).unwrap();
    std::fs::write(log_dir.join("tile/0/000.p/20"), tree.level_range(0, 0, 20).concat()).unwrap();
    assert!(matches!(
        check(&source, &key, Some(&state15)),
        Err(MonitorAlert::Fork(_))
    ));
    // A bad signature.
    let good = std::fs::read_to_string(log().join("checkpoint.15")).unwrap();
    std::fs::write(log_dir.join("checkpoint"), good.replacen("\n15\n", "\n16\n", 1)).unwrap();
    assert!(matches!(
        check(&source, &key, Some(&state15)),
        Err(MonitorAlert::BadCheckpoint(_))
    ));
}

#[test]
fn the_monitor_requires_a_witness_quorum_when_configured() {
    use ward_ledger::monitor::{MonitorAlert, WitnessPolicy, check_with_witnesses};
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::parse(SKEY).unwrap();
    let entries: Vec<Vec<u8>> = ENTRIES.iter().map(|e| e.as_bytes().to_vec()).collect();
    let tree = MerkleTree::from_leaves(entries.iter().map(|e| leaf_hash(e)));
    let text = Checkpoint {
        origin: signer.name().into(),
        size: 15,
        root: tree.root(),
        extensions: vec![],
    }
    .to_text();
    let w1 = NoteSigner::generate("witness.example/one", ward_ledger::note::ALG_COSIGNATURE).unwrap();
    let w2 = NoteSigner::generate("witness.example/two", ward_ledger::note::ALG_COSIGNATURE).unwrap();
    std::fs::create_dir_all(dir.path().join("tile/0/000.p")).unwrap();
    std::fs::write(dir.path().join("tile/0/000.p/15"), tree.level_range(0, 0, 15).concat()).unwrap();
    let source = DirSource(dir.path().to_path_buf());
    let policy = WitnessPolicy {
        witnesses: vec![w1.verifier(), w2.verifier()],
        quorum: 2,
    };
    let key = signer.verifier();
    std::fs::write(
        dir.path().join("checkpoint"),
        format!("{text}\n{}{}", signer.sign_line(&text), w1.cosign_line(&text, 1)),
    )
    .unwrap();
    assert!(matches!(
        check_with_witnesses(&source, &key, None, &policy),
        Err(MonitorAlert::Witnesses(NoteError::Quorum { got: 1, need: 2 }))
    ));
    std::fs::write(
        dir.path().join("checkpoint"),
        format!(
            "{text}\n{}{}{}",
            signer.sign_line(&text),
            w1.cosign_line(&text, 1),
            w2.cosign_line(&text, 2)
        ),
    )
    .unwrap();
    check_with_witnesses(&source, &key, None, &policy).unwrap();
}
