//! The embedded backend: one directory, append-only files, one fsync per
//! batch, recovery that cuts a torn tail back to the last checkpoint, and a
//! refusal to open a log whose checkpoint was rolled back.
//!
//! Layout:
//!
//! | file | content |
//! |---|---|
//! | `entries.log` | records `u32 length ‖ 4 bytes of SHA-256(entry) ‖ entry`, each batch followed by a 32-byte commit marker |
//! | `leaves.bin` | the 32-byte leaf hash of each entry |
//! | `offsets.bin` | the 8-byte offset of each record in `entries.log` |
//! | `nodes.bin` | the 32-byte hash of every complete subtree of two or more leaves (interior node), in the order appends complete them ([`crate::tree::interior_slot`]) |
//! | `checkpoint` | the latest signed checkpoint (replaced atomically) |
//! | `ledger.key` / `ledger.pub` | the log's Ed25519 note key (0600) and verifier key |
//! | `pins.sqlite` | the index of release pins ([`super::pins`]), kept by the writer |
//! | `lock` | held exclusively by the one writer (taken without waiting), holding its PID |
//!
//! A commit marker is `FF FF FF FF ‖ "wcm1" ‖ u64 first index ‖ u64 size
//! after the batch ‖ 8 bytes of SHA-256 of the preceding 24 bytes`; its
//! first four bytes can never start a record (records are at most 65,535
//! bytes). Ledgers written before markers existed have none and still open.
//!
//! Every read is positioned: the tree is never held in memory. Opening
//! reads the O(log n) subtree hashes of the right edge (the frontier) from
//! `leaves.bin` and `nodes.bin`, an append writes the interior nodes it
//! completes (about one per entry) after the others, and a proof reads the
//! O(log n) nodes it needs. A ledger written before `nodes.bin` existed
//! (format 1) is migrated by its first writer: `nodes.bin` is built from
//! `leaves.bin` into a temporary file, fsynced and renamed into place (a
//! crash leaves format 1, which the next open migrates again); a read-only
//! snapshot of such a ledger builds the tree in memory as format 1 did.
//!
//! An append writes the batch's records and its marker, leaf hashes,
//! offsets and interior nodes at the positions the checkpoint implies and
//! the new checkpoint to a temporary file, fsyncs the five files (in
//! parallel), then renames
//! the temporary file over `checkpoint` and fsyncs the directory. Only then
//! is the batch acknowledged. Concurrent single appenders share batches
//! through [`super::SharedLedger`] (group commit). A batch is written only after the previous checkpoint is
//! durable, so on open:
//!
//! - past the checkpoint there is at most one committed batch (a crash
//!   between the data fsync and the rename): it is complete and checksummed,
//!   so it is kept and the checkpoint re-signed over it (rolled forward,
//!   never cut);
//! - a batch without its marker, or whose records, leaf hashes or offsets
//!   are incomplete, was never fsynced, so never acknowledged: it is cut;
//! - a commit marker for a batch that starts past the checkpoint proves a
//!   later checkpoint was acknowledged: the checkpoint was replaced by an
//!   older one, and the open is refused ([`LedgerError::Rollback`]), as it is
//!   when the checkpoint is missing over a non-empty log;
//! - the frontier read from `leaves.bin` and `nodes.bin` must produce the
//!   checkpoint's root; when it does not, the writer rebuilds `nodes.bin`
//!   from `leaves.bin` (it is derived data) and refuses the log as corrupt
//!   if the leaf hashes do not produce the root either;
//! - the writer re-checks the most recent [`RECHECK_WINDOW`] entries
//!   (records, checksums, leaf hashes, offsets, and the interior nodes
//!   they complete); anything altered there is refused as corruption.
//!   Older entries, leaf hashes and nodes are checked by `verify_all`
//!   (`ward ledger verify`), and every entry read is re-hashed against its
//!   leaf hash.

use super::pins::{PinIndex, ReleasePin};
use super::{LedgerError, MAX_ENTRY_BYTES, Receipt, to_usize};
use crate::checkpoint::SignedCheckpoint;
use crate::hash::{Hash, leaf_hash};
use crate::note::{ALG_ED25519, NoteSigner, NoteVerifier};
use crate::tree::{Frontier, MerkleTree, interior_count, interior_slot};
use sha2::Digest as _;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const RECORD_HEADER_BYTES: usize = 8;
const RECORD_HEADER: u64 = RECORD_HEADER_BYTES as u64;
const MARKER_BYTES: usize = 32;
const MARKER_LEN: u64 = MARKER_BYTES as u64;
const MARKER_MAGIC: [u8; 8] = [0xff, 0xff, 0xff, 0xff, b'w', b'c', b'm', b'1'];
/// How many of the most recent entries the writer re-hashes on open.
pub(super) const RECHECK_WINDOW: u64 = 256;
/// The largest batch recovery will roll forward (a writer never writes more
/// in one batch than it was handed; this only bounds a hostile tail).
const MAX_ROLL_FORWARD: usize = 1 << 20;
/// How often a snapshot re-reads a checkpoint that a running writer replaced
/// while the snapshot was being read.
const SNAPSHOT_RETRIES: usize = 5;
/// How many node hashes a handle keeps from earlier reads (proofs of
/// neighbouring entries share most of their nodes).
const NODE_CACHE: usize = 1 << 16;

/// An open embedded ledger (the writer holds the directory's lock).
pub struct EmbeddedLedger {
    dir: PathBuf,
    signer: NoteSigner,
    /// The right edge of the tree the checkpoint covers.
    frontier: Frontier,
    /// The whole tree in memory: only for a read-only snapshot of a ledger
    /// written before `nodes.bin` existed (a writer migrates instead).
    memory: Option<MerkleTree>,
    /// Node hashes read earlier, by `(level, index)`.
    cache: HashMap<(u32, u64), Hash>,
    /// Where the acknowledged records (and their last commit marker) end.
    log_len: u64,
    log: File,
    leaves: File,
    offsets_file: File,
    /// `nodes.bin`; `None` for a snapshot of a ledger that has none.
    nodes: Option<File>,
    /// The writer's index of release pins (`None` for a snapshot, or when
    /// it could not be opened).
    pins: Option<PinIndex>,
    /// The index missed a batch or could not be opened or caught up: catch
    /// it up before the next lookup.
    pins_behind: bool,
    checkpoint: String,
    /// The writer's lock; `None` for a read-only snapshot.
    lock: Option<File>,
    /// An append failed part way: recover from the files before the next.
    stale: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Opens a data file (read-write for the writer, read-only for a snapshot),
/// refusing anything but a regular file without blocking on a FIFO.
fn open_data(path: &Path, write: bool) -> Result<File, LedgerError> {
    let f = OpenOptions::new()
        .read(true)
        .write(write)
        .create(write)
        .truncate(false)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io(path))?;
    if !f.metadata().map_err(io(path))?.is_file() {
        return Err(LedgerError::Corrupt(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(f)
}

fn open_rw(path: &Path) -> Result<File, LedgerError> {
    open_data(path, true)
}

fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn write_atomic(dir: &Path, name: &str, data: &[u8], mode: u32) -> Result<(), LedgerError> {
    use std::io::Write;
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(data).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    let target = dir.join(name);
    std::fs::rename(&tmp, &target).map_err(io(&target))?;
    sync_dir(dir)
}

/// Reads a small ledger file whole, with a bound; `None` when it does not exist.
fn read_small(path: &Path, what: &'static str, limit: u64) -> Result<Option<Vec<u8>>, LedgerError> {
    match ward_input::InputFile::new(path, what, limit).read() {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The commit marker that ends the batch `[first, size)`.
fn marker(first: u64, size: u64) -> [u8; MARKER_BYTES] {
    let mut m = [0u8; MARKER_BYTES];
    m[..8].copy_from_slice(&MARKER_MAGIC);
    m[8..16].copy_from_slice(&first.to_be_bytes());
    m[16..24].copy_from_slice(&size.to_be_bytes());
    let sum = sha2::Sha256::digest(&m[..24]);
    m[24..].copy_from_slice(&sum[..8]);
    m
}

/// `(first, size)` of a well-formed commit marker.
fn parse_marker(m: &[u8]) -> Option<(u64, u64)> {
    if m.len() != MARKER_BYTES || m[..8] != MARKER_MAGIC || sha2::Sha256::digest(&m[..24])[..8] != m[24..] {
        return None;
    }
    let first = u64::from_be_bytes(m[8..16].try_into().ok()?);
    let size = u64::from_be_bytes(m[16..24].try_into().ok()?);
    (first < size).then_some((first, size))
}

/// Reads up to `len` bytes at `offset` (fewer at the end of the file).
fn read_upto(f: &File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match f.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// How long a writer waits for another writer before naming it and giving up.
const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Takes the directory's writer lock, and records this process's PID in the
/// lock file for whoever finds it taken. Another short-lived writer (a
/// parallel `ward verify`) is waited for, up to [`WRITER_WAIT`]; a lock held
/// longer (a running proxy, a `ward ledger serve`) is an error of kind
/// [`std::io::ErrorKind::WouldBlock`] naming the holder's PID when the lock
/// file records one: waiting silently would hang the command for as long as
/// that writer runs.
fn take_writer_lock(dir: &Path) -> Result<File, LedgerError> {
    let lock_path = dir.join("lock");
    let lock = open_rw(&lock_path)?;
    // Short-lived writers (`ward verify` in a parallel CI job) hold the lock
    // for milliseconds: wait for them. A writer that holds it longer (a
    // running `ward proxy` or `ward ledger serve`) is named instead of
    // waited on for ever.
    let deadline = std::time::Instant::now() + WRITER_WAIT;
    let mut attempt = lock.try_lock();
    while matches!(attempt, Err(std::fs::TryLockError::WouldBlock)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
        attempt = lock.try_lock();
    }
    match attempt {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = ward_input::read_string_bounded(&lock_path, "ledger lock", 64)
                .ok()
                .and_then(|text| text.trim().parse::<u32>().ok())
                .map_or_else(
                    || "a process whose PID is not recorded".to_string(),
                    |pid| format!("PID {pid}"),
                );
            return Err(io(&lock_path)(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!(
                    "held by another writer of this ledger ({holder}) for over {} s",
                    WRITER_WAIT.as_secs()
                ),
            )));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
    }
    let pid = format!("{}\n", std::process::id());
    lock.set_len(0).map_err(io(&lock_path))?;
    lock.write_all_at(pid.as_bytes(), 0).map_err(io(&lock_path))?;
    Ok(lock)
}

/// A committed batch found past the checkpoint.
struct Committed {
    leaves: Vec<[u8; 32]>,
    end: u64,
}

impl EmbeddedLedger {
    /// Opens (or creates, with a new key named `origin`) the ledger in `dir`,
    /// recovering from a crash if the last writer died mid-batch.
    pub fn open(dir: &Path, origin: &str) -> Result<Self, LedgerError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock = take_writer_lock(dir)?;
        let key_path = dir.join("ledger.key");
        let signer = match read_small(&key_path, "ledger key", ward_input::limits::KEY)? {
            Some(bytes) => NoteSigner::parse(&String::from_utf8_lossy(&bytes))?,
            None => {
                let signer = NoteSigner::generate(origin, ALG_ED25519)?;
                write_atomic(dir, "ledger.key", signer.to_skey().as_bytes(), 0o600)?;
                write_atomic(
                    dir,
                    "ledger.pub",
                    format!("{}\n", signer.verifier().to_vkey()).as_bytes(),
                    0o644,
                )?;
                signer
            }
        };
        Self::load(dir, signer, Some(lock), open_rw)
    }

    /// Opens the data files (read-write for the writer, read-only for a
    /// snapshot) and recovers the tree from them.
    fn load(
        dir: &Path,
        signer: NoteSigner,
        lock: Option<File>,
        open: impl Fn(&Path) -> Result<File, LedgerError>,
    ) -> Result<Self, LedgerError> {
        let nodes = match open(&dir.join("nodes.bin")) {
            Ok(f) => Some(f),
            Err(LedgerError::Io { source, .. }) if lock.is_none() && source.kind() == std::io::ErrorKind::NotFound => {
                None
            }
            Err(e) => return Err(e),
        };
        let mut ledger = Self {
            dir: dir.to_path_buf(),
            signer,
            frontier: Frontier::new(),
            memory: None,
            cache: HashMap::new(),
            log_len: 0,
            log: open(&dir.join("entries.log"))?,
            leaves: open(&dir.join("leaves.bin"))?,
            offsets_file: open(&dir.join("offsets.bin"))?,
            nodes,
            pins: None,
            pins_behind: false,
            checkpoint: String::new(),
            lock,
            stale: false,
        };
        ledger.recover()?;
        if ledger.lock.is_some() {
            // The index is derived data: when it cannot be opened or caught
            // up (a full disk), the log still opens and appends; release
            // pins are looked up (and fail) only when asked for.
            ledger.pins_behind = true;
            let _ = ledger.catch_up_pins();
        }
        Ok(ledger)
    }

    /// Brings the pin index up to the checkpoint: adds the entries it lacks
    /// (a crash lost its last commits, or a release that kept no index
    /// appended them), after rebuilding it when it covers more than the log
    /// or its last entry's leaf hash is not the log's (another log).
    fn catch_up_pins(&mut self) -> Result<(), LedgerError> {
        const CHUNK: u64 = 4096;
        let mut index = match self.pins.take() {
            Some(index) => index,
            None => PinIndex::open(&self.path("pins.sqlite")).inspect_err(|_| self.pins_behind = true)?,
        };
        let result = (|| {
            let size = self.size();
            let (mut covered, last) = index.state()?;
            if covered > size || (covered > 0 && Some(self.stored_leaf(covered - 1)?) != last) {
                index.reset()?;
                covered = 0;
            }
            while covered < size {
                let end = (covered + CHUNK).min(size);
                let entries = self.entries_bulk(covered, end)?;
                index.add(covered, &entries, &self.stored_leaf(end - 1)?)?;
                covered = end;
            }
            Ok(())
        })();
        self.pins = Some(index);
        self.pins_behind = result.is_err();
        result
    }

    /// The release pin of a package file, from the writer's index (a
    /// read-only snapshot, which keeps no index, reads every entry).
    pub fn release_pin(&mut self, purl: &str, file: &str) -> Result<Option<ReleasePin>, LedgerError> {
        if self.lock.is_none() {
            return super::LedgerStore::release_pin_by_scan(self, purl, file);
        }
        if self.pins_behind || self.pins.is_none() {
            self.catch_up_pins()?;
        }
        match &self.pins {
            Some(index) => index.lookup(purl, file),
            None => Ok(None),
        }
    }

    /// The newest `limit` releases of a package the log allowed, from the
    /// writer's index (a read-only snapshot keeps none, and refuses).
    pub fn release_history(&mut self, package: &str, limit: usize) -> Result<Vec<super::ReleaseRow>, LedgerError> {
        if self.lock.is_none() {
            return Err(super::releases::not_indexed());
        }
        if self.pins_behind || self.pins.is_none() {
            self.catch_up_pins()?;
        }
        match &self.pins {
            Some(index) => index.releases(package, limit),
            None => Ok(Vec::new()),
        }
    }

    /// Opens a read-only snapshot of the ledger in `dir`, beside a writer
    /// that may be running (a proxy, a `ward ledger serve`): no lock is
    /// taken and nothing is repaired. The snapshot is the prefix the signed
    /// checkpoint covers; the writer only appends past it and replaces the
    /// checkpoint atomically, so that prefix is always whole. Whatever lies
    /// past it (a torn tail, a batch in flight) is not read as entries.
    pub fn open_snapshot(dir: &Path) -> Result<Self, LedgerError> {
        let key_path = dir.join("ledger.key");
        let bytes = read_small(&key_path, "ledger key", ward_input::limits::KEY)?
            .ok_or_else(|| io(&key_path)(std::io::Error::new(std::io::ErrorKind::NotFound, "no ledger key")))?;
        let signer = NoteSigner::parse(&String::from_utf8_lossy(&bytes))?;
        Self::load(dir, signer, None, |p| open_data(p, false))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn read_checkpoint_file(&self) -> Result<Option<Vec<u8>>, LedgerError> {
        read_small(
            &self.path("checkpoint"),
            "ledger checkpoint",
            ward_input::limits::CHECKPOINT,
        )
    }

    /// Loads the state the checkpoint covers. A snapshot that finds no
    /// checkpoint over a non-empty log re-reads it first: a writer creating
    /// the ledger may have written it (and appended) in between.
    fn recover(&mut self) -> Result<(), LedgerError> {
        let mut bytes = self.read_checkpoint_file()?;
        let mut tries = 0;
        loop {
            match self.recover_from(bytes.as_deref()) {
                Err(e @ LedgerError::Rollback { .. }) if self.lock.is_none() && tries < SNAPSHOT_RETRIES => {
                    tries += 1;
                    let again = self.read_checkpoint_file()?;
                    if again == bytes {
                        return Err(e);
                    }
                    bytes = again;
                }
                other => return other,
            }
        }
    }

    fn rollback(&self, detail: String) -> LedgerError {
        LedgerError::Rollback {
            path: self.path("checkpoint").display().to_string(),
            detail,
        }
    }

    fn file_len(&self, f: &File, name: &str) -> Result<u64, LedgerError> {
        Ok(f.metadata().map_err(io(&self.path(name)))?.len())
    }

    fn recover_from(&mut self, checkpoint_bytes: Option<&[u8]>) -> Result<(), LedgerError> {
        let writer = self.lock.is_some();
        self.cache.clear();
        self.memory = None;
        let log_file_len = self.file_len(&self.log, "entries.log")?;
        let leaves_len = self.file_len(&self.leaves, "leaves.bin")?;
        let offsets_len = self.file_len(&self.offsets_file, "offsets.bin")?;
        let Some(bytes) = checkpoint_bytes else {
            if log_file_len > 0 || leaves_len > 0 || offsets_len > 0 {
                return Err(self.rollback(format!(
                    "is missing, but entries.log holds {log_file_len} bytes and leaves.bin {} leaf hashes; \
                     refusing to start a new log over acknowledged entries (put the latest checkpoint back)",
                    leaves_len / 32
                )));
            }
            self.frontier = Frontier::new();
            self.log_len = 0;
            self.checkpoint = if writer {
                if let Some(nodes) = &self.nodes {
                    nodes.set_len(0).map_err(io(&self.path("nodes.bin")))?;
                }
                self.write_checkpoint()?
            } else {
                super::sign_tree(&self.signer, 0, self.frontier.root())?
            };
            return Ok(());
        };
        let cp = SignedCheckpoint::verify(bytes, &self.signer.verifier())?.checkpoint;
        let size = cp.size;
        if leaves_len / 32 < size || offsets_len / 8 < size {
            return Err(LedgerError::Corrupt(format!(
                "the checkpoint covers {size} entries but only {} leaf hashes and {} offsets are stored",
                leaves_len / 32,
                offsets_len / 8
            )));
        }
        self.load_tree(size, &cp.root)?;
        // Where the last acknowledged record (and its commit marker, when
        // the batch was written with one) ends.
        self.log_len = if size == 0 {
            0
        } else {
            let last = self.offset(size - 1)?;
            if last.saturating_add(RECORD_HEADER) > log_file_len {
                return Err(LedgerError::Corrupt(format!(
                    "offsets.bin: entry {} at {last} is past the end of entries.log ({log_file_len} bytes)",
                    size - 1
                )));
            }
            let entry = self.read_record(last, log_file_len)?;
            if leaf_hash(&entry) != self.stored_leaf(size - 1)? {
                return Err(LedgerError::Corrupt(format!(
                    "entry {} does not match its leaf hash",
                    size - 1
                )));
            }
            let end = last + RECORD_HEADER + entry.len() as u64;
            match self.marker_at(end, log_file_len)? {
                Some((_, s)) if s == size => end + MARKER_LEN,
                // Only a marker starts with these bytes; this one was
                // fsynced before the checkpoint over it, so it is whole.
                _ if self.starts_marker(end)? => {
                    return Err(LedgerError::Corrupt(format!(
                        "the commit marker after entry {} (entries.log at {end}) is damaged",
                        size - 1
                    )));
                }
                // A ledger written before commit markers.
                _ => end,
            }
        };
        if writer {
            self.recheck_recent(log_file_len)?;
        }
        let committed = self.scan_tail(size, log_file_len)?;
        if !writer {
            // A snapshot reads the prefix; a batch in flight is the writer's.
            self.checkpoint = String::from_utf8_lossy(bytes).into_owned();
            return Ok(());
        }
        let rolled_forward = committed.is_some();
        let acknowledged = (self.frontier.clone(), self.log_len);
        if let Some(batch) = committed {
            // The batch's interior nodes are derived from its leaf hashes:
            // written again (they may be torn), and durable before the
            // checkpoint over them.
            let mut created = Vec::new();
            for l in batch.leaves {
                self.frontier.push(l, &mut created);
            }
            let nodes_path = self.path("nodes.bin");
            if let Some(nodes) = &self.nodes {
                nodes
                    .write_all_at(&created.concat(), interior_count(size) * 32)
                    .and_then(|()| nodes.sync_data())
                    .map_err(io(&nodes_path))
                    .inspect_err(|_| (self.frontier, self.log_len) = acknowledged.clone())?;
            }
            self.log_len = batch.end;
        }
        // Cut what was written but never committed.
        let n = self.frontier.size();
        let nodes_len = match &self.nodes {
            Some(f) => self.file_len(f, "nodes.bin")?,
            None => 0,
        };
        if log_file_len > self.log_len
            || leaves_len > n * 32
            || offsets_len > n * 8
            || nodes_len > interior_count(n) * 32
        {
            self.log.set_len(self.log_len).map_err(io(&self.path("entries.log")))?;
            self.leaves.set_len(n * 32).map_err(io(&self.path("leaves.bin")))?;
            self.offsets_file
                .set_len(n * 8)
                .map_err(io(&self.path("offsets.bin")))?;
            if let Some(nodes) = &self.nodes {
                nodes
                    .set_len(interior_count(n) * 32)
                    .map_err(io(&self.path("nodes.bin")))?;
            }
            for f in [&self.log, &self.leaves, &self.offsets_file]
                .into_iter()
                .chain(&self.nodes)
            {
                f.sync_all().map_err(io(&self.dir))?;
            }
        }
        self.checkpoint = String::from_utf8_lossy(bytes).into_owned();
        if rolled_forward {
            match self.write_checkpoint() {
                Ok(note) => self.checkpoint = note,
                Err(e) => {
                    // Still only what the old checkpoint covers; the batch
                    // stays on disk for the next attempt.
                    (self.frontier, self.log_len) = acknowledged;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Loads the frontier of the tree of `size` leaves from `leaves.bin` and
    /// `nodes.bin` (O(log n) reads) and checks it against the signed root.
    /// When `nodes.bin` is missing, short (a ledger of format 1, or one an
    /// older release appended to) or disagrees with the root, the tree is
    /// rebuilt from `leaves.bin` once: a writer rewrites `nodes.bin`
    /// (crash-safely: temporary file, fsync, rename), a snapshot keeps the
    /// tree in memory. Leaf hashes that do not produce the root are
    /// corruption.
    fn load_tree(&mut self, size: u64, root: &Hash) -> Result<(), LedgerError> {
        let nodes_len = match &self.nodes {
            Some(f) => self.file_len(f, "nodes.bin")?,
            None => 0,
        };
        if self.nodes.is_some() && nodes_len >= interior_count(size) * 32 {
            let mut read = Vec::new();
            let frontier = Frontier::load(size, |level, index| {
                let h = self.read_node(level, index)?;
                read.push(((level, index), h));
                Ok::<_, LedgerError>(h)
            })?;
            if frontier.root() == *root {
                self.cache.extend(read);
                self.frontier = frontier;
                return Ok(());
            }
        }
        let corrupt =
            || LedgerError::Corrupt("the stored leaf hashes (leaves.bin) do not produce the checkpoint's root".into());
        if self.lock.is_none() {
            let mut tree = MerkleTree::new();
            self.for_each_leaf(size, |leaf| tree.push(leaf))?;
            if tree.root() != *root {
                return Err(corrupt());
            }
            self.frontier = Frontier::load(size, |level, index| {
                tree.level_range(level as usize, index, 1)
                    .first()
                    .copied()
                    .ok_or_else(corrupt)
            })?;
            self.memory = Some(tree);
            return Ok(());
        }
        use std::io::Write as _;
        let tmp = self.path("nodes.bin.tmp");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)
            .map_err(io(&tmp))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, &file);
        let mut frontier = Frontier::new();
        let mut created = Vec::new();
        let mut written = Ok(());
        self.for_each_leaf(size, |leaf| {
            frontier.push(leaf, &mut created);
            for h in created.drain(..) {
                if written.is_ok() {
                    written = out.write_all(&h);
                }
            }
        })?;
        written.and_then(|()| out.flush()).map_err(io(&tmp))?;
        drop(out);
        if frontier.root() != *root {
            let _ = std::fs::remove_file(&tmp);
            return Err(corrupt());
        }
        file.sync_all().map_err(io(&tmp))?;
        let target = self.path("nodes.bin");
        std::fs::rename(&tmp, &target).map_err(io(&target))?;
        sync_dir(&self.dir)?;
        self.nodes = Some(open_rw(&target)?);
        self.frontier = frontier;
        Ok(())
    }

    /// Streams the first `size` leaf hashes of `leaves.bin`.
    fn for_each_leaf(&self, size: u64, mut f: impl FnMut(Hash)) -> Result<(), LedgerError> {
        const CHUNK: u64 = 1 << 15;
        let mut start = 0;
        while start < size {
            let n = (size - start).min(CHUNK);
            let mut buf = vec![0u8; to_usize(n * 32, "leaf hash bytes")?];
            self.leaves
                .read_exact_at(&mut buf, start * 32)
                .map_err(io(&self.path("leaves.bin")))?;
            for c in buf.chunks_exact(32) {
                f(c.try_into().unwrap_or([0; 32]));
            }
            start += n;
        }
        Ok(())
    }

    /// A node of the stored tree, read from `leaves.bin` (level 0),
    /// `nodes.bin`, or the in-memory tree of a format-1 snapshot.
    fn read_node(&self, level: u32, index: u64) -> Result<Hash, LedgerError> {
        if let Some(tree) = &self.memory {
            return tree
                .level_range(level as usize, index, 1)
                .first()
                .copied()
                .ok_or(LedgerError::NoEntry {
                    index: index << level,
                    size: tree.size(),
                });
        }
        let (file, name, at) = if level == 0 {
            (Some(&self.leaves), "leaves.bin", index * 32)
        } else {
            (self.nodes.as_ref(), "nodes.bin", interior_slot(level, index) * 32)
        };
        let path = self.path(name);
        let file = file.ok_or_else(|| LedgerError::Corrupt(format!("{} is missing", path.display())))?;
        let mut h = [0u8; 32];
        file.read_exact_at(&mut h, at).map_err(io(&path))?;
        Ok(h)
    }

    /// The stored leaf hash of entry `index`.
    fn stored_leaf(&self, index: u64) -> Result<Hash, LedgerError> {
        self.read_node(0, index)
    }

    /// The stored offset of entry `index` in `entries.log`.
    fn offset(&self, index: u64) -> Result<u64, LedgerError> {
        let mut b = [0u8; 8];
        self.offsets_file
            .read_exact_at(&mut b, index * 8)
            .map_err(io(&self.path("offsets.bin")))?;
        Ok(u64::from_be_bytes(b))
    }

    /// The commit marker at `pos`, if a well-formed one is there.
    fn marker_at(&self, pos: u64, log_file_len: u64) -> Result<Option<(u64, u64)>, LedgerError> {
        if pos + MARKER_LEN > log_file_len {
            return Ok(None);
        }
        let m = read_upto(&self.log, pos, MARKER_BYTES).map_err(io(&self.path("entries.log")))?;
        Ok(parse_marker(&m))
    }

    /// Whether the bytes at `pos` begin like a commit marker (no record can).
    fn starts_marker(&self, pos: u64) -> Result<bool, LedgerError> {
        let head = read_upto(&self.log, pos, 4).map_err(io(&self.path("entries.log")))?;
        Ok(head[..] == MARKER_MAGIC[..4])
    }

    /// Re-hashes the most recent [`RECHECK_WINDOW`] entries (the ones a
    /// writer builds on) against their leaf hashes, checks that the first
    /// record starts `entries.log` and that each ends where the next begins
    /// (or where its batch's marker does), and recomputes every interior
    /// node their leaf hashes complete from the stored frontier before
    /// them, comparing it with `nodes.bin`. O(window + log n) reads.
    fn recheck_recent(&self, log_file_len: u64) -> Result<(), LedgerError> {
        let size = self.frontier.size();
        let lo = size.saturating_sub(RECHECK_WINDOW);
        if size == 0 {
            return Ok(());
        }
        let read = |f: &File, name: &str, at: u64, len: u64| -> Result<Vec<u8>, LedgerError> {
            let mut v = vec![0u8; to_usize(len, "recheck window bytes")?];
            f.read_exact_at(&mut v, at).map_err(io(&self.path(name)))?;
            Ok(v)
        };
        let offsets: Vec<u64> = read(&self.offsets_file, "offsets.bin", lo * 8, (size - lo) * 8)?
            .chunks_exact(8)
            .map(|c| u64::from_be_bytes(c.try_into().unwrap_or([0; 8])))
            .collect();
        let leaves: Vec<Hash> = read(&self.leaves, "leaves.bin", lo * 32, (size - lo) * 32)?
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap_or([0; 32]))
            .collect();
        if lo == 0 && offsets[0] != 0 {
            return Err(LedgerError::Corrupt(format!(
                "offsets.bin: entry 0 is at {}, not at the start of entries.log",
                offsets[0]
            )));
        }
        for (k, (&offset, leaf)) in offsets.iter().zip(&leaves).enumerate() {
            let i = lo + k as u64;
            let entry = self.read_record(offset, log_file_len)?;
            if leaf_hash(&entry) != *leaf {
                return Err(LedgerError::Corrupt(format!("entry {i} does not match its leaf hash")));
            }
            let end = offset + RECORD_HEADER + entry.len() as u64;
            let next = offsets.get(k + 1).copied().unwrap_or(self.log_len);
            let follows = next == end
                || next == end + MARKER_LEN
                    && matches!(self.marker_at(end, log_file_len)?, Some((first, s)) if s == i + 1 && first <= i);
            if !follows {
                return Err(LedgerError::Corrupt(format!(
                    "entry {i} ends at {end} but the next record is at {next}"
                )));
            }
        }
        let mut frontier = Frontier::load(lo, |level, index| self.read_node(level, index))?;
        let mut created = Vec::new();
        for leaf in leaves {
            frontier.push(leaf, &mut created);
        }
        let first = interior_count(lo);
        let stored = match &self.nodes {
            Some(f) => read(f, "nodes.bin", first * 32, created.len() as u64 * 32)?,
            None => Vec::new(),
        };
        if stored != created.concat() || frontier != self.frontier {
            return Err(LedgerError::Corrupt(format!(
                "nodes.bin: the interior nodes over entries {lo}..{size} differ from the ones recomputed \
                 from their leaf hashes"
            )));
        }
        Ok(())
    }

    /// Reads what lies past the acknowledged records: returns the one batch
    /// committed on top of the checkpoint (if complete in all three files),
    /// and refuses when a commit marker shows a batch built on a later,
    /// acknowledged checkpoint.
    fn scan_tail(&self, size: u64, log_file_len: u64) -> Result<Option<Committed>, LedgerError> {
        let log_path = self.path("entries.log");
        // A later batch's commit marker. Beside a running writer (a
        // snapshot), the checkpoint may simply have moved on since it was
        // read: then the prefix read is still a valid, signed snapshot.
        let rollback = |first: u64, new: u64| -> Result<Option<Committed>, LedgerError> {
            if self.lock.is_none()
                && let Some(bytes) = self.read_checkpoint_file()?
                && let Ok(now) = SignedCheckpoint::verify(&bytes, &self.signer.verifier())
                && now.checkpoint.size >= first
            {
                return Ok(None);
            }
            Err(self.rollback(format!(
                "covers {size} entries, but entries.log holds the committed batch of entries {first}..{new}, \
                 written only after a checkpoint of size {first} was acknowledged: the checkpoint was \
                 replaced by an older one. Nothing was cut; put the latest checkpoint back"
            )))
        };
        // The first batch past the checkpoint, record by record.
        let mut pos = self.log_len;
        let mut leaves = Vec::new();
        let mut offsets = Vec::new();
        let mut committed = None;
        let mut intact = false;
        while pos + RECORD_HEADER <= log_file_len && leaves.len() < MAX_ROLL_FORWARD {
            if self.starts_marker(pos)? {
                if let Some((first, new)) = self.marker_at(pos, log_file_len)? {
                    if first > size {
                        return rollback(first, new);
                    }
                    if first == size
                        && new == size + leaves.len() as u64
                        && self.stored_batch_matches(size, &leaves, &offsets)?
                    {
                        committed = Some(Committed {
                            leaves: std::mem::take(&mut leaves),
                            end: pos + MARKER_LEN,
                        });
                    }
                    pos += MARKER_LEN;
                    intact = true;
                }
                break;
            }
            match self.read_record(pos, log_file_len) {
                Ok(entry) => {
                    leaves.push(leaf_hash(&entry));
                    offsets.push(pos);
                    pos += RECORD_HEADER + entry.len() as u64;
                }
                Err(LedgerError::Corrupt(_)) => break,
                // A snapshot may race a writer cutting a torn tail.
                Err(LedgerError::Io { .. }) if self.lock.is_none() => break,
                Err(e) => return Err(e),
            }
        }
        // Anything after a well-formed marker: walk the record headers; any
        // further commit marker is a batch built on a later checkpoint.
        while intact && pos + RECORD_HEADER <= log_file_len {
            let header = read_upto(&self.log, pos, RECORD_HEADER_BYTES).map_err(io(&log_path))?;
            if header[..4] == MARKER_MAGIC[..4] {
                match self.marker_at(pos, log_file_len)? {
                    Some((first, new)) if first > size => return rollback(first, new),
                    Some(_) => pos += MARKER_LEN,
                    None => break,
                }
                continue;
            }
            let len = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
            if len > MAX_ENTRY_BYTES as u64 {
                break;
            }
            pos += RECORD_HEADER + len;
        }
        // Where the structure broke: search the rest byte by byte.
        if let Some((first, new)) = self.find_later_commit(size, pos, log_file_len)? {
            return rollback(first, new);
        }
        Ok(committed)
    }

    /// Whether leaves.bin and offsets.bin hold exactly this batch at `first`.
    fn stored_batch_matches(&self, first: u64, leaves: &[[u8; 32]], offsets: &[u64]) -> Result<bool, LedgerError> {
        if leaves.is_empty() {
            return Ok(false);
        }
        let n = leaves.len();
        let stored_leaves = read_upto(&self.leaves, first * 32, n * 32).map_err(io(&self.path("leaves.bin")))?;
        let stored_offsets = read_upto(&self.offsets_file, first * 8, n * 8).map_err(io(&self.path("offsets.bin")))?;
        Ok(stored_leaves == leaves.concat()
            && stored_offsets == offsets.iter().flat_map(|o| o.to_be_bytes()).collect::<Vec<u8>>())
    }

    /// Searches `entries.log` from `from` for a commit marker of a batch
    /// starting past `size` that sits where offsets.bin says that batch's
    /// last record ends (so a marker-like byte string inside an entry does
    /// not count).
    fn find_later_commit(&self, size: u64, from: u64, log_file_len: u64) -> Result<Option<(u64, u64)>, LedgerError> {
        const CHUNK_BYTES: usize = 1 << 20;
        const CHUNK: u64 = CHUNK_BYTES as u64;
        let log_path = self.path("entries.log");
        let offsets_count = self.file_len(&self.offsets_file, "offsets.bin")? / 8;
        let mut start = from;
        while start < log_file_len {
            let chunk = read_upto(&self.log, start, CHUNK_BYTES + MARKER_BYTES).map_err(io(&log_path))?;
            for (i, w) in chunk.windows(MARKER_BYTES).enumerate() {
                if w[..8] != MARKER_MAGIC {
                    continue;
                }
                let Some((first, new)) = parse_marker(w) else { continue };
                if first <= size || new > offsets_count {
                    continue;
                }
                let pos = start + i as u64;
                let o = read_upto(&self.offsets_file, (new - 1) * 8, 8).map_err(io(&self.path("offsets.bin")))?;
                let Ok(o) = <[u8; 8]>::try_from(o.as_slice()) else {
                    continue;
                };
                let last = u64::from_be_bytes(o);
                let header = read_upto(&self.log, last, 4).map_err(io(&log_path))?;
                let Ok(h) = <[u8; 4]>::try_from(header.as_slice()) else {
                    continue;
                };
                if last.saturating_add(RECORD_HEADER + u64::from(u32::from_be_bytes(h))) == pos {
                    return Ok(Some((first, new)));
                }
            }
            start += CHUNK;
        }
        Ok(None)
    }

    fn read_record(&self, offset: u64, log_len: u64) -> Result<Vec<u8>, LedgerError> {
        let path = self.path("entries.log");
        if offset.saturating_add(RECORD_HEADER) > log_len {
            return Err(LedgerError::Corrupt(format!(
                "record at {offset} is past the end of entries.log"
            )));
        }
        let mut header = [0u8; 8];
        self.log.read_exact_at(&mut header, offset).map_err(io(&path))?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let fits = usize::try_from(len).is_ok_and(|l| l <= MAX_ENTRY_BYTES);
        let len = u64::from(len);
        if !fits || offset + RECORD_HEADER + len > log_len {
            return Err(LedgerError::Corrupt(format!(
                "record at {offset} claims {len} bytes past the end of entries.log"
            )));
        }
        let mut entry = vec![0u8; to_usize(len, "record bytes")?];
        self.log
            .read_exact_at(&mut entry, offset + RECORD_HEADER)
            .map_err(io(&path))?;
        if sha2::Sha256::digest(&entry)[..4] != header[4..] {
            return Err(LedgerError::Corrupt(format!("record at {offset} fails its checksum")));
        }
        Ok(entry)
    }

    fn write_checkpoint(&mut self) -> Result<String, LedgerError> {
        let note = super::sign_tree(&self.signer, self.frontier.size(), self.frontier.root())?;
        write_atomic(&self.dir, "checkpoint", note.as_bytes(), 0o644)?;
        Ok(note)
    }

    /// Appends a batch with one fsync; returns only once it is durable and
    /// covered by a signed checkpoint. On error nothing is acknowledged and
    /// the in-memory state is unchanged.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> Result<Receipt, LedgerError> {
        if self.lock.is_none() {
            return Err(LedgerError::ReadOnly);
        }
        super::refuse_oversize(entries)?;
        if self.stale {
            // The last append failed part way: whatever it left on disk is
            // recovered (rolled forward or cut) exactly as on open.
            self.recover()?;
            self.stale = false;
            // A batch rolled forward is not in the index yet.
            self.pins_behind = true;
        }
        let first_index = self.frontier.size();
        if entries.is_empty() {
            return Ok(Receipt {
                first_index,
                size: first_index,
                checkpoint: self.checkpoint.clone(),
            });
        }
        let mut records = Vec::new();
        let mut leaf_bytes = Vec::with_capacity(entries.len() * 32);
        let mut offset_bytes = Vec::with_capacity(entries.len() * 8);
        let mut frontier = self.frontier.clone();
        let mut created = Vec::with_capacity(entries.len());
        let mut leaves = Vec::with_capacity(entries.len());
        for e in entries {
            let offset = self.log_len + records.len() as u64;
            // Entries were checked against MAX_ENTRY_BYTES; a length that
            // does not fit the u32 header is refused, never wrapped.
            let Ok(len) = u32::try_from(e.len()) else {
                return Err(LedgerError::EntryTooLarge(e.len()));
            };
            records.extend_from_slice(&len.to_be_bytes());
            records.extend_from_slice(&sha2::Sha256::digest(e)[..4]);
            records.extend_from_slice(e);
            let leaf = leaf_hash(e);
            leaf_bytes.extend_from_slice(&leaf);
            offset_bytes.extend_from_slice(&offset.to_be_bytes());
            frontier.push(leaf, &mut created);
            leaves.push(leaf);
        }
        // The commit marker goes out in the same write and the same fsync
        // as the batch, before the checkpoint is replaced.
        records.extend_from_slice(&marker(first_index, first_index + entries.len() as u64));
        let Some(nodes) = &self.nodes else {
            return Err(LedgerError::ReadOnly);
        };
        // The batch and the new checkpoint's temporary file are written and
        // fsynced together (five fsyncs in parallel, one wait); the
        // checkpoint is renamed into place only once all five are durable.
        let written = (|| -> Result<(), LedgerError> {
            self.log
                .write_all_at(&records, self.log_len)
                .map_err(io(&self.path("entries.log")))?;
            self.leaves
                .write_all_at(&leaf_bytes, first_index * 32)
                .map_err(io(&self.path("leaves.bin")))?;
            self.offsets_file
                .write_all_at(&offset_bytes, first_index * 8)
                .map_err(io(&self.path("offsets.bin")))?;
            nodes
                .write_all_at(&created.concat(), interior_count(first_index) * 32)
                .map_err(io(&self.path("nodes.bin")))
        })();
        if let Err(e) = written {
            // Best effort: drop the partial batch now; recovery cuts it
            // anyway (it never got its commit marker onto the disk whole).
            let _ = self.log.set_len(self.log_len);
            self.stale = true;
            return Err(e);
        }
        let tmp = self.path("checkpoint.tmp");
        let prepared = (|| -> Result<(File, String), LedgerError> {
            let note = super::sign_tree(&self.signer, frontier.size(), frontier.root())?;
            let cp = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o644)
                .open(&tmp)
                .map_err(io(&tmp))?;
            cp.write_all_at(note.as_bytes(), 0).map_err(io(&tmp))?;
            Ok((cp, note))
        })();
        let (data_synced, cp_synced) = std::thread::scope(|s| {
            let cp = prepared
                .as_ref()
                .ok()
                .map(|(f, _)| s.spawn(|| f.sync_all().map_err(io(&tmp))));
            let data: Vec<_> = [
                (&self.log, self.path("entries.log")),
                (&self.leaves, self.path("leaves.bin")),
                (&self.offsets_file, self.path("offsets.bin")),
                (nodes, self.path("nodes.bin")),
            ]
            .into_iter()
            .map(|(f, path)| s.spawn(move || f.sync_data().map_err(io(&path))))
            .collect();
            let join = |h: std::thread::ScopedJoinHandle<'_, Result<(), LedgerError>>| {
                h.join()
                    .unwrap_or_else(|_| Err(LedgerError::Corrupt("an fsync thread panicked".into())))
            };
            let data: Result<Vec<()>, LedgerError> = data.into_iter().map(join).collect();
            (data, cp.map(join))
        });
        if let Err(e) = data_synced {
            let _ = self.log.set_len(self.log_len);
            self.stale = true;
            return Err(e);
        }
        // From here the batch is committed on disk: a failure leaves it for
        // recovery to roll forward (below).
        let replaced = prepared
            .and_then(|(_, note)| cp_synced.unwrap_or(Ok(())).map(|()| note))
            .and_then(|note| {
                std::fs::rename(&tmp, self.path("checkpoint"))
                    .map_err(io(&self.path("checkpoint")))
                    .and_then(|()| sync_dir(&self.dir))
                    .map(|()| note)
            });
        match replaced {
            Ok(note) => {
                // The batch's nodes are what proofs of its entries need.
                self.remember(first_index, &leaves, &created);
                // Acknowledged: the index follows (a failure here only
                // leaves it behind, to be caught up before the next lookup).
                if let (Some(index), Some(last), false) = (&mut self.pins, leaves.last(), self.pins_behind)
                    && index.add(first_index, entries, last).is_err()
                {
                    self.pins_behind = true;
                }
                self.frontier = frontier;
                self.log_len += records.len() as u64;
                self.checkpoint = note.clone();
                Ok(Receipt {
                    first_index,
                    size: self.frontier.size(),
                    checkpoint: note,
                })
            }
            Err(e) => {
                // Not acknowledged. The batch is committed on disk and the
                // new checkpoint may or may not have been renamed into
                // place: the data is left as it is, and the next append (or
                // open) recovers from the files, rolling forward.
                self.stale = true;
                Err(e)
            }
        }
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Entry `index`, re-hashed against its stored leaf hash.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LedgerError> {
        if index >= self.size() {
            return Err(LedgerError::NoEntry {
                index,
                size: self.size(),
            });
        }
        let entry = self.read_record(self.offset(index)?, self.log_len)?;
        if leaf_hash(&entry) != self.stored_leaf(index)? {
            return Err(LedgerError::Corrupt(format!(
                "entry {index} does not match its leaf hash"
            )));
        }
        Ok(entry)
    }

    /// Entries `[start, end)`: offsets read in one go. Each is checked
    /// only by its record checksum; the caller (the full audit) compares
    /// them with the leaf hashes.
    fn entries_bulk(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        if end > self.size() || start > end {
            return Err(LedgerError::NoEntry {
                index: end.saturating_sub(1),
                size: self.size(),
            });
        }
        let mut buf = vec![0u8; to_usize((end - start) * 8, "offset bytes")?];
        self.offsets_file
            .read_exact_at(&mut buf, start * 8)
            .map_err(io(&self.path("offsets.bin")))?;
        buf.chunks_exact(8)
            .map(|c| self.read_record(u64::from_be_bytes(c.try_into().unwrap_or([0; 8])), self.log_len))
            .collect()
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> &str {
        &self.checkpoint
    }

    /// The log's verifier key.
    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    /// The log's signer (decision records are signed with the same key).
    pub fn signer(&self) -> &NoteSigner {
        &self.signer
    }

    /// Keeps the nodes of a batch `first..` (its leaf hashes and the
    /// interior nodes they completed, in order) in the node cache.
    fn remember(&mut self, first: u64, leaves: &[Hash], created: &[Hash]) {
        if self.cache.len() + leaves.len() + created.len() > NODE_CACHE {
            self.cache.clear();
        }
        let mut created = created.iter();
        for (j, leaf) in (first..).zip(leaves) {
            self.cache.insert((0, j), *leaf);
            for at in crate::tree::completed_by(j) {
                if let Some(h) = created.next() {
                    self.cache.insert(at, *h);
                }
            }
        }
    }

    /// A node of the tree (see [`super::LedgerStore::node`]).
    pub fn node(&mut self, level: u32, index: u64) -> Result<Hash, LedgerError> {
        if level >= 64 || index >= self.size() >> level {
            return Err(LedgerError::NoEntry {
                index: index.saturating_mul(1 << level.min(63)),
                size: self.size(),
            });
        }
        if let Some(h) = self.cache.get(&(level, index)) {
            return Ok(*h);
        }
        let h = self.read_node(level, index)?;
        if self.cache.len() >= NODE_CACHE {
            self.cache.clear();
        }
        self.cache.insert((level, index), h);
        Ok(h)
    }
}

impl super::LedgerStore for EmbeddedLedger {
    fn append(&mut self, entries: &[Vec<u8>]) -> Result<Receipt, LedgerError> {
        EmbeddedLedger::append(self, entries)
    }

    fn refresh(&mut self) -> Result<(), LedgerError> {
        Ok(())
    }

    fn entry(&mut self, index: u64) -> Result<Vec<u8>, LedgerError> {
        EmbeddedLedger::entry(self, index)
    }

    fn entries(&mut self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        self.entries_bulk(start, end)
    }

    fn checkpoint(&self) -> &str {
        &self.checkpoint
    }

    fn signer(&self) -> &NoteSigner {
        &self.signer
    }

    fn size(&self) -> u64 {
        self.frontier.size()
    }

    fn node(&mut self, level: u32, index: u64) -> Result<Hash, LedgerError> {
        EmbeddedLedger::node(self, level, index)
    }

    fn release_pin(&mut self, purl: &str, file: &str) -> Result<Option<ReleasePin>, LedgerError> {
        EmbeddedLedger::release_pin(self, purl, file)
    }

    fn release_history(&mut self, package: &str, limit: usize) -> Result<Vec<super::ReleaseRow>, LedgerError> {
        EmbeddedLedger::release_history(self, package, limit)
    }

    fn leaves(&mut self, start: u64, end: u64) -> Result<Vec<Hash>, LedgerError> {
        if end > self.size() || start > end {
            return Err(LedgerError::NoEntry {
                index: end.saturating_sub(1),
                size: self.size(),
            });
        }
        if let Some(tree) = &self.memory {
            return Ok(tree.level_range(0, start, end - start).to_vec());
        }
        let mut buf = vec![0u8; to_usize((end - start) * 32, "leaf hash bytes")?];
        self.leaves
            .read_exact_at(&mut buf, start * 32)
            .map_err(io(&self.path("leaves.bin")))?;
        Ok(buf.chunks_exact(32).map(|c| c.try_into().unwrap_or([0; 32])).collect())
    }

    fn interior(&mut self, first: u64, count: u64) -> Result<Option<Vec<Hash>>, LedgerError> {
        let Some(nodes) = &self.nodes else { return Ok(None) };
        if self.memory.is_some() || first + count > interior_count(self.size()) {
            return Ok(None);
        }
        let mut buf = vec![0u8; to_usize(count * 32, "interior node bytes")?];
        nodes
            .read_exact_at(&mut buf, first * 32)
            .map_err(io(&self.path("nodes.bin")))?;
        Ok(Some(
            buf.chunks_exact(32).map(|c| c.try_into().unwrap_or([0; 32])).collect(),
        ))
    }
}
