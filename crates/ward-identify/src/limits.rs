//! Limits applied while reading archives, and the reader that enforces the
//! size and ratio limits as bytes are decompressed.

use crate::error::ArchiveError;
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Bounds on what an archive may contain. Defaults follow Cargo's fix for
/// CVE-2022-36114 in spirit, tightened on ratio.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Most entries an archive may hold.
    pub max_entries: u64,
    /// Most bytes an archive may unpack to.
    pub max_unpacked: u64,
    /// Largest unpacked/compressed ratio, enforced once `ratio_floor` bytes are unpacked.
    pub max_ratio: u64,
    /// Unpacked bytes below which the ratio is not enforced (tiny, highly
    /// compressible packages are normal).
    pub ratio_floor: u64,
    /// Largest metadata file read into memory.
    pub max_metadata: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_unpacked: 2 << 30,
            max_ratio: 100,
            ratio_floor: 8 << 20,
            max_metadata: 4 << 20,
        }
    }
}

/// Shared count of compressed bytes consumed.
#[derive(Clone, Default)]
pub(crate) struct Counter(Rc<Cell<u64>>);

impl Counter {
    pub(crate) fn get(&self) -> u64 {
        self.0.get()
    }
}

/// Counts bytes read through it into a shared [`Counter`].
pub(crate) struct CountingReader<R> {
    pub(crate) inner: R,
    pub(crate) count: Counter,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.0.set(self.count.0.get() + n as u64);
        Ok(n)
    }
}

/// Wraps a decompressing reader and fails with an [`ArchiveError`] as soon
/// as the unpacked size or the ratio over `compressed` passes the limits.
pub(crate) struct BombGuard<R> {
    pub(crate) inner: R,
    pub(crate) unpacked: u64,
    pub(crate) compressed: Counter,
    pub(crate) limits: Limits,
}

impl<R: Read> BombGuard<R> {
    pub(crate) fn check(&self) -> Result<(), ArchiveError> {
        check_sizes(self.unpacked, self.compressed.get(), &self.limits)
    }
}

/// The size and ratio rule, shared by the tar and zip readers.
pub(crate) fn check_sizes(unpacked: u64, compressed: u64, limits: &Limits) -> Result<(), ArchiveError> {
    if unpacked > limits.max_unpacked {
        return Err(ArchiveError::TooLarge {
            limit: limits.max_unpacked,
        });
    }
    if unpacked > limits.ratio_floor && unpacked > compressed.max(1).saturating_mul(limits.max_ratio) {
        return Err(ArchiveError::CompressionRatio {
            limit: limits.max_ratio,
            unpacked,
            compressed,
        });
    }
    Ok(())
}

impl<R: Read> Read for BombGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.unpacked += n as u64;
        self.check().map_err(|e| io::Error::other(GuardTripped(e)))?;
        Ok(n)
    }
}

/// The io::Error payload carrying a tripped limit out through readers.
#[derive(Debug)]
pub(crate) struct GuardTripped(pub(crate) ArchiveError);

impl std::fmt::Display for GuardTripped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for GuardTripped {}

/// Turns an I/O error from inside an archive reader into an [`ArchiveError`],
/// recovering a tripped limit when that is what it was.
pub(crate) fn archive_error(e: io::Error) -> ArchiveError {
    if let Some(tripped) = e.get_ref().and_then(|inner| inner.downcast_ref::<GuardTripped>()) {
        return tripped.0.clone();
    }
    ArchiveError::Malformed(e.to_string())
}
