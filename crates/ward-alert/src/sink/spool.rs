//! The webhook spool: alert bodies waiting for delivery, on disk, in order,
//! bounded. Hand-written (a directory of numbered files): a queue this
//! small needs no database, and each file is written whole (temporary
//! file, fsync, rename) so a crash leaves an entry or none, never half.
//!
//! Entries are `NNNNNNNNNNNNNNNNNNNN.json` (the sequence number, 20 digits,
//! so names sort in order); other files are ignored. A full spool refuses
//! the new entry (the caller reports it; the change is in the ledger).

use crate::AlertError;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The most bytes one spooled body may have (a ledger entry's bound).
pub const MAX_BODY: usize = 1 << 20;

/// A bounded on-disk FIFO of request bodies.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max: usize,
    /// Serialises pushes (the next number is read from the directory).
    push_lock: Mutex<()>,
}

fn seq_of(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".json")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl Spool {
    /// Opens (creating) the spool in `dir`, holding at most `max` entries.
    pub fn open(dir: &Path, max: usize) -> Result<Self, AlertError> {
        std::fs::create_dir_all(dir).map_err(|e| AlertError::io(dir, e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            max,
            push_lock: Mutex::new(()),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The waiting entries' numbers, oldest first.
    pub fn entries(&self) -> Result<Vec<u64>, AlertError> {
        let mut seqs = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| AlertError::io(&self.dir, e))? {
            let entry = entry.map_err(|e| AlertError::io(&self.dir, e))?;
            if let Some(seq) = entry.file_name().to_str().and_then(seq_of) {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable();
        Ok(seqs)
    }

    /// How many entries wait.
    pub fn len(&self) -> Result<usize, AlertError> {
        self.entries().map(|e| e.len())
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> Result<bool, AlertError> {
        self.len().map(|n| n == 0)
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}.json"))
    }

    /// Appends a body at the end; refused when the spool is full.
    pub fn push(&self, body: &[u8]) -> Result<u64, AlertError> {
        if body.len() > MAX_BODY {
            return Err(AlertError::Delivery {
                sink: format!("spool {}", self.dir.display()),
                why: format!("a body of {} bytes is larger than {MAX_BODY}", body.len()),
            });
        }
        let _guard = self.push_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entries = self.entries()?;
        if entries.len() >= self.max {
            return Err(AlertError::SpoolFull {
                path: self.dir.display().to_string(),
                max: self.max,
            });
        }
        let seq = match entries.last() {
            None => 1,
            Some(l) => l.checked_add(1).ok_or_else(|| AlertError::SpoolFull {
                path: self.dir.display().to_string(),
                max: self.max,
            })?,
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(|e| AlertError::io(&self.dir, e))?;
        tmp.write_all(body)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| AlertError::io(&self.dir, e))?;
        let path = self.path(seq);
        tmp.persist(&path).map_err(|e| AlertError::io(&path, e.error))?;
        Ok(seq)
    }

    /// The oldest entry and its body, if any.
    ///
    /// An entry that cannot be read (too large, not a regular file) is set
    /// aside as `.bad-SEQ.json` so that it never blocks the ones behind it.
    pub fn oldest(&self) -> Result<Option<(u64, Vec<u8>)>, AlertError> {
        for seq in self.entries()? {
            let path = self.path(seq);
            match ward_input::read_bounded(&path, "spooled alert", MAX_BODY as u64) {
                Ok(body) => return Ok(Some((seq, body))),
                Err(e) if e.is_not_found() => {}
                Err(_) => {
                    let aside = self.dir.join(format!(".bad-{seq}.json"));
                    std::fs::rename(&path, &aside).map_err(|e| AlertError::io(&path, e))?;
                }
            }
        }
        Ok(None)
    }

    /// Removes a delivered entry.
    pub fn remove(&self, seq: u64) -> Result<(), AlertError> {
        let path = self.path(seq);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(AlertError::io(&path, e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_out_in_order_and_the_bound_holds() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 3).unwrap();
        for body in [b"a", b"b", b"c"] {
            spool.push(body).unwrap();
        }
        assert!(matches!(spool.push(b"d"), Err(AlertError::SpoolFull { max: 3, .. })));
        let (seq, body) = spool.oldest().unwrap().unwrap();
        assert_eq!(body, b"a");
        spool.remove(seq).unwrap();
        spool.push(b"d").unwrap();
        // Reopened (a restart): the same order.
        let spool = Spool::open(dir.path(), 3).unwrap();
        let mut out = Vec::new();
        while let Some((seq, body)) = spool.oldest().unwrap() {
            out.push(body);
            spool.remove(seq).unwrap();
        }
        assert_eq!(out, [b"b".to_vec(), b"c".to_vec(), b"d".to_vec()]);
        // Stray files are not entries.
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        assert!(spool.is_empty().unwrap());
    }

    #[test]
    fn an_unreadable_entry_is_set_aside_and_the_last_number_does_not_wrap() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 10).unwrap();
        spool.push(b"a").unwrap();
        spool.push(b"b").unwrap();
        // The oldest entry is a directory: set aside, the next one comes out.
        let first = spool.oldest().unwrap().unwrap().0;
        std::fs::remove_file(dir.path().join(format!("{first:020}.json"))).unwrap();
        std::fs::create_dir(dir.path().join(format!("{first:020}.json"))).unwrap();
        assert_eq!(spool.oldest().unwrap().unwrap().1, b"b");
        assert!(dir.path().join(format!(".bad-{first}.json")).exists());
        // An entry numbered u64::MAX: the next push is refused, not numbered 0.
        std::fs::write(dir.path().join(format!("{:020}.json", u64::MAX)), b"z").unwrap();
        assert!(matches!(spool.push(b"c"), Err(AlertError::SpoolFull { .. })));
    }
}
