//! Targets for ward-ledger: signed notes and checkpoints, note keys,
//! tlog tiles and entry bundles, decision records, and the embedded
//! ledger's own files on disk.
//!
//! Everything is signed with the test-only key of the Tessera test log in
//! `../shared/testdata/tlog/tessera-log/` (public in its README), so the
//! seeds carry valid signatures and the fuzzer starts past them.

use crate::scratch;
use ward_ledger::store::LedgerStore;
use ward_ledger::{Checkpoint, EmbeddedLedger, Note, NoteSigner, NoteVerifier, SignedCheckpoint};

/// The Tessera test log's private key (test-only, published with it).
pub const TEST_SKEY: &str =
    "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg";
/// Its verifier key.
pub const TEST_VKEY: &str = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

/// Separates the files in a `ledger_files` input.
pub const FILE_SEPARATOR: &[u8] = b"\n--ward-fuzz-next-file--\n";
/// The files of a `ledger_files` input, in order.
pub const LEDGER_FILES: [&str; 4] = ["checkpoint", "entries.log", "leaves.bin", "offsets.bin"];

fn verifier() -> Option<NoteVerifier> {
    NoteVerifier::parse(TEST_VKEY).ok()
}

/// A checkpoint: its text body, as a signed note, and as a signed
/// checkpoint of the test log.
pub fn checkpoint(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Checkpoint::parse_text(text);
    }
    let Some(v) = verifier() else { return };
    let _ = SignedCheckpoint::verify(data, &v);
    if let Ok(note) = Note::parse(data) {
        let _ = note.verify(std::slice::from_ref(&v));
        let _ = note.verify_witnesses(std::slice::from_ref(&v), 1);
    }
}

/// Note keys, one per line: verifier keys (`--log-key`, witness keys) and
/// private keys (`ledger.key`).
pub fn note_keys(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for line in text.lines().take(16) {
        if let Ok(v) = NoteVerifier::parse(line) {
            let _ = v.to_vkey();
        }
        if let Ok(s) = NoteSigner::parse(line) {
            let _ = s.verifier().to_vkey();
        }
    }
}

/// tlog-tiles data: the first byte is the expected width (1–256), the rest
/// is decoded as a hash tile and as an entry bundle, and as text it is read
/// as a tile path's index elements.
pub fn tiles(data: &[u8]) {
    let Some((&w, rest)) = data.split_first() else { return };
    let width = u64::from(w) + 1;
    let _ = ward_ledger::tiles::decode_tile(rest, width);
    let _ = ward_ledger::tiles::decode_bundle(rest, usize::from(w) + 1);
    if let Ok(text) = std::str::from_utf8(rest) {
        let elements: Vec<&str> = text.split('/').take(16).collect();
        let _ = ward_ledger::tiles::parse_index(&elements);
    }
}

/// A ledger entry: a decision record (a DSSE envelope signed with the
/// ledger key).
pub fn ledger_record(data: &[u8]) {
    if let Some(v) = verifier() {
        let _ = ward_ledger::record::open_record(data, &v);
    }
}

/// The embedded ledger's files (`checkpoint`, `entries.log`, `leaves.bin`,
/// `offsets.bin`, separated by [`FILE_SEPARATOR`]) with the test key as
/// `ledger.key`: opened as a read-only snapshot (verify, read entries and
/// tiles), then by the writer (recover, append one entry, verify).
pub fn ledger_files(data: &[u8]) {
    let Some(dir) = scratch::dir() else { return };
    let files = scratch::split(data, FILE_SEPARATOR, LEDGER_FILES.len());
    for (name, bytes) in LEDGER_FILES.iter().zip(&files) {
        if scratch::write(dir.path(), name, bytes).is_none() {
            return;
        }
    }
    if scratch::write(dir.path(), "ledger.key", TEST_SKEY.as_bytes()).is_none() {
        return;
    }
    if let Ok(mut snapshot) = EmbeddedLedger::open_snapshot(dir.path()) {
        let _ = snapshot.verify_all();
        let size = LedgerStore::size(&snapshot);
        let _ = snapshot.entries(0, size.min(16));
        for path in [
            "checkpoint",
            "tile/0/000",
            "tile/0/000.p/1",
            "tile/entries/000.p/1",
            "tile/1/000",
        ] {
            let _ = snapshot.read_path(path);
        }
    }
    if let Ok(mut writer) = EmbeddedLedger::open(dir.path(), "example.com/log/testdata") {
        let _ = writer.append(&[b"fuzz entry".to_vec()]);
        let _ = writer.verify_all();
    }
}
