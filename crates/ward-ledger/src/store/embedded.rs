//! The embedded backend: one directory, append-only files, one fsync per
//! batch, and recovery that cuts a torn tail back to the last checkpoint.
//!
//! Layout:
//!
//! | file | content |
//! |---|---|
//! | `entries.log` | records `u32 length ‖ 4 bytes of SHA-256(entry) ‖ entry` |
//! | `leaves.bin` | the 32-byte leaf hash of each entry |
//! | `offsets.bin` | the 8-byte offset of each record in `entries.log` |
//! | `checkpoint` | the latest signed checkpoint (replaced atomically) |
//! | `ledger.key` / `ledger.pub` | the log's Ed25519 note key (0600) and verifier key |
//! | `lock` | held exclusively by the one writer |
//!
//! An append writes records, leaf hashes and offsets at the positions the
//! checkpoint implies, fsyncs the three files, then writes the new
//! checkpoint to a temporary file, fsyncs it, renames it over `checkpoint`
//! and fsyncs the directory. Only then is the batch acknowledged. On open,
//! anything past the checkpoint's size is a batch that was never
//! acknowledged and is cut away; anything missing below it is corruption
//! and refused.

use super::{LedgerError, MAX_ENTRY_BYTES, Receipt};
use crate::checkpoint::SignedCheckpoint;
use crate::hash::leaf_hash;
use crate::note::{ALG_ED25519, NoteSigner, NoteVerifier};
use crate::tree::MerkleTree;
use sha2::Digest as _;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const RECORD_HEADER: u64 = 8;

/// An open embedded ledger (the writer holds the directory's lock).
pub struct EmbeddedLedger {
    dir: PathBuf,
    signer: NoteSigner,
    tree: MerkleTree,
    offsets: Vec<u64>,
    log_len: u64,
    log: File,
    leaves: File,
    offsets_file: File,
    checkpoint: String,
    /// The writer's lock; `None` for a read-only snapshot.
    lock: Option<File>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn open_rw(path: &Path) -> Result<File, LedgerError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io(path))
}

fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn write_atomic(dir: &Path, name: &str, data: &[u8], mode: u32) -> Result<(), LedgerError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
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

impl EmbeddedLedger {
    /// Opens (or creates, with a new key named `origin`) the ledger in `dir`,
    /// recovering from a crash if the last writer died mid-batch.
    pub fn open(dir: &Path, origin: &str) -> Result<Self, LedgerError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join("lock");
        let lock = open_rw(&lock_path)?;
        lock.lock().map_err(io(&lock_path))?;
        let key_path = dir.join("ledger.key");
        let signer = match std::fs::read_to_string(&key_path) {
            Ok(text) => NoteSigner::parse(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
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
            Err(e) => return Err(io(&key_path)(e)),
        };
        Self::load(dir, signer, Some(lock), open_rw)
    }

    /// Opens the three data files (read-write for the writer, read-only for
    /// a snapshot) and recovers the tree from them.
    fn load(
        dir: &Path,
        signer: NoteSigner,
        lock: Option<File>,
        open: impl Fn(&Path) -> Result<File, LedgerError>,
    ) -> Result<Self, LedgerError> {
        let mut ledger = Self {
            dir: dir.to_path_buf(),
            signer,
            tree: MerkleTree::new(),
            offsets: Vec::new(),
            log_len: 0,
            log: open(&dir.join("entries.log"))?,
            leaves: open(&dir.join("leaves.bin"))?,
            offsets_file: open(&dir.join("offsets.bin"))?,
            checkpoint: String::new(),
            lock,
        };
        ledger.recover()?;
        Ok(ledger)
    }

    /// Opens a read-only snapshot of the ledger in `dir`, beside a writer
    /// that may be running (a proxy, a `ward ledger serve`): no lock is
    /// taken and nothing is repaired. The snapshot is the prefix the signed
    /// checkpoint covers; the writer only appends past it and replaces the
    /// checkpoint atomically, so that prefix is always whole.
    pub fn open_snapshot(dir: &Path) -> Result<Self, LedgerError> {
        let key_path = dir.join("ledger.key");
        let text = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
        let signer = NoteSigner::parse(&text)?;
        Self::load(dir, signer, None, |p| File::open(p).map_err(io(p)))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn recover(&mut self) -> Result<(), LedgerError> {
        let cp_path = self.path("checkpoint");
        let checkpoint = match std::fs::read(&cp_path) {
            Ok(bytes) => Some((SignedCheckpoint::verify(&bytes, &self.signer.verifier())?, bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&cp_path)(e)),
        };
        let size = checkpoint.as_ref().map_or(0, |(c, _)| c.checkpoint.size);
        let read_all = |f: &File, p: &Path| -> Result<Vec<u8>, LedgerError> {
            let mut v = Vec::new();
            (&*f).read_to_end(&mut v).map_err(io(p))?;
            Ok(v)
        };
        let leaves = read_all(&self.leaves, &self.path("leaves.bin"))?;
        let offsets = read_all(&self.offsets_file, &self.path("offsets.bin"))?;
        let log_len = self.log.metadata().map_err(io(&self.path("entries.log")))?.len();
        if (leaves.len() as u64) < size * 32 || (offsets.len() as u64) < size * 8 {
            return Err(LedgerError::Corrupt(format!(
                "the checkpoint covers {size} entries but only {} leaf hashes and {} offsets are stored",
                leaves.len() / 32,
                offsets.len() / 8
            )));
        }
        self.offsets = offsets
            .chunks_exact(8)
            .take(size as usize)
            .map(|c| u64::from_be_bytes(c.try_into().unwrap_or([0; 8])))
            .collect();
        self.tree = MerkleTree::from_leaves(
            leaves
                .chunks_exact(32)
                .take(size as usize)
                .map(|c| c.try_into().unwrap_or([0; 32])),
        );
        // Where the last acknowledged record ends.
        self.log_len = match self.offsets.last() {
            None => 0,
            Some(&last) => {
                let entry = self.read_record(last, log_len)?;
                if leaf_hash(&entry) != self.tree.leaf(size - 1).unwrap_or_default() {
                    return Err(LedgerError::Corrupt(format!(
                        "entry {} does not match its leaf hash",
                        size - 1
                    )));
                }
                last + RECORD_HEADER + entry.len() as u64
            }
        };
        if let Some((cp, _)) = &checkpoint
            && self.tree.root() != cp.checkpoint.root
        {
            return Err(LedgerError::Corrupt(
                "the stored leaf hashes do not produce the checkpoint's root".into(),
            ));
        }
        // Cut away any batch that was written but never acknowledged (the
        // writer's job: a snapshot may be looking at a batch in flight).
        if self.lock.is_some() && log_len > self.log_len
            || leaves.len() as u64 > size * 32
            || offsets.len() as u64 > size * 8
        {
            self.log.set_len(self.log_len).map_err(io(&self.path("entries.log")))?;
            self.leaves.set_len(size * 32).map_err(io(&self.path("leaves.bin")))?;
            self.offsets_file
                .set_len(size * 8)
                .map_err(io(&self.path("offsets.bin")))?;
            for f in [&self.log, &self.leaves, &self.offsets_file] {
                f.sync_all().map_err(io(&self.dir))?;
            }
        }
        self.checkpoint = match checkpoint {
            Some((_, bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            None if self.lock.is_none() => super::sign_tree(&self.signer, &self.tree)?,
            None => self.write_checkpoint()?,
        };
        Ok(())
    }

    fn read_record(&self, offset: u64, log_len: u64) -> Result<Vec<u8>, LedgerError> {
        let path = self.path("entries.log");
        if offset + RECORD_HEADER > log_len {
            return Err(LedgerError::Corrupt(format!(
                "record at {offset} is past the end of entries.log"
            )));
        }
        let mut header = [0u8; 8];
        self.log.read_exact_at(&mut header, offset).map_err(io(&path))?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as u64;
        if len as usize > MAX_ENTRY_BYTES || offset + RECORD_HEADER + len > log_len {
            return Err(LedgerError::Corrupt(format!(
                "record at {offset} claims {len} bytes past the end of entries.log"
            )));
        }
        let mut entry = vec![0u8; len as usize];
        self.log
            .read_exact_at(&mut entry, offset + RECORD_HEADER)
            .map_err(io(&path))?;
        if sha2::Sha256::digest(&entry)[..4] != header[4..] {
            return Err(LedgerError::Corrupt(format!("record at {offset} fails its checksum")));
        }
        Ok(entry)
    }

    fn write_checkpoint(&mut self) -> Result<String, LedgerError> {
        let note = super::sign_tree(&self.signer, &self.tree)?;
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
        let first_index = self.tree.size();
        let mut records = Vec::new();
        let mut leaf_bytes = Vec::with_capacity(entries.len() * 32);
        let mut offset_bytes = Vec::with_capacity(entries.len() * 8);
        let mut new_offsets = Vec::with_capacity(entries.len());
        let mut leaves = Vec::with_capacity(entries.len());
        for e in entries {
            let offset = self.log_len + records.len() as u64;
            records.extend_from_slice(&(e.len() as u32).to_be_bytes());
            records.extend_from_slice(&sha2::Sha256::digest(e)[..4]);
            records.extend_from_slice(e);
            let leaf = leaf_hash(e);
            leaf_bytes.extend_from_slice(&leaf);
            offset_bytes.extend_from_slice(&offset.to_be_bytes());
            new_offsets.push(offset);
            leaves.push(leaf);
        }
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
            for (f, name) in [
                (&self.log, "entries.log"),
                (&self.leaves, "leaves.bin"),
                (&self.offsets_file, "offsets.bin"),
            ] {
                f.sync_data().map_err(io(&self.path(name)))?;
            }
            Ok(())
        })();
        if let Err(e) = written {
            // Best effort: drop the partial batch now; recovery would cut it anyway.
            let _ = self.log.set_len(self.log_len);
            return Err(e);
        }
        for l in leaves {
            self.tree.push(l);
        }
        match self.write_checkpoint() {
            Ok(note) => {
                self.offsets.extend(new_offsets);
                self.log_len += records.len() as u64;
                self.checkpoint = note.clone();
                Ok(Receipt {
                    first_index,
                    size: self.tree.size(),
                    checkpoint: note,
                })
            }
            Err(e) => {
                self.tree.truncate(first_index);
                let _ = self.log.set_len(self.log_len);
                Err(e)
            }
        }
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// Entry `index`.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LedgerError> {
        let offset = *self.offsets.get(index as usize).ok_or(LedgerError::NoEntry {
            index,
            size: self.size(),
        })?;
        self.read_record(offset, self.log_len)
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

    /// The tree.
    pub fn tree(&self) -> &MerkleTree {
        &self.tree
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

    fn checkpoint(&self) -> &str {
        &self.checkpoint
    }

    fn signer(&self) -> &NoteSigner {
        &self.signer
    }

    fn tree(&self) -> &MerkleTree {
        &self.tree
    }
}
