//! SHA-256 and SHA-512 of a stream, in one pass, in constant memory.
//!
//! SHA-256 runs on the calling thread (with SHA-NI where the CPU has it);
//! SHA-512 runs on a helper thread fed by a small ring of reusable buffers,
//! so on two cores the pass costs about as much as the slower of the two
//! hashes rather than their sum. Inputs under [`PARALLEL_THRESHOLD`] never
//! start the thread.

use sha2::Digest;
use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use ward_core::{Digests, Sha256, Sha512};

/// Below this many bytes both hashes run inline.
pub const PARALLEL_THRESHOLD: u64 = 1 << 20;
const CHUNK: usize = 256 * 1024;
const RING: usize = 4;

struct Worker {
    to_worker: SyncSender<Vec<u8>>,
    recycled: Receiver<Vec<u8>>,
    handle: JoinHandle<sha2::Sha512>,
    pending: Vec<u8>,
    spare: usize,
}

/// Computes both digests of everything passed to [`DualHasher::update`].
pub struct DualHasher {
    sha256: sha2::Sha256,
    sha512: Option<sha2::Sha512>,
    worker: Option<Worker>,
    total: u64,
}

impl Default for DualHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl DualHasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self {
            sha256: sha2::Sha256::new(),
            sha512: Some(sha2::Sha512::new()),
            worker: None,
            total: 0,
        }
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether nothing has been hashed yet.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        self.total += data.len() as u64;
        if self.worker.is_none() && self.total >= PARALLEL_THRESHOLD {
            self.start_worker();
        }
        match &mut self.worker {
            None => {
                if let Some(h) = &mut self.sha512 {
                    h.update(data);
                }
            }
            Some(w) => {
                let mut rest = data;
                while !rest.is_empty() {
                    let room = CHUNK - w.pending.len();
                    let take = room.min(rest.len());
                    w.pending.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if w.pending.len() == CHUNK {
                        Self::flush(w);
                    }
                }
            }
        }
    }

    fn start_worker(&mut self) {
        let (to_worker, from_main) = sync_channel::<Vec<u8>>(RING);
        let (to_main, recycled) = sync_channel::<Vec<u8>>(RING + 1);
        let mut state = self.sha512.take().unwrap_or_default();
        let handle = std::thread::spawn(move || {
            for buf in from_main {
                state.update(&buf);
                // The main side may already be gone; a lost buffer is harmless.
                let _ = to_main.try_send(buf);
            }
            state
        });
        self.worker = Some(Worker {
            to_worker,
            recycled,
            handle,
            pending: Vec::with_capacity(CHUNK),
            spare: RING,
        });
    }

    fn flush(w: &mut Worker) {
        let next = match w.recycled.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) if w.spare > 0 => {
                w.spare -= 1;
                Vec::with_capacity(CHUNK)
            }
            // All buffers are in flight: wait for one to come back.
            Err(_) => match w.recycled.recv() {
                Ok(mut b) => {
                    b.clear();
                    b
                }
                Err(_) => Vec::with_capacity(CHUNK),
            },
        };
        let full = std::mem::replace(&mut w.pending, next);
        // If the worker died, finish() reports it by recomputing nothing: we
        // keep the invariant by falling back below.
        let _ = w.to_worker.send(full);
    }

    /// Finishes and returns both digests.
    pub fn finish(mut self) -> Digests {
        let sha512 = match self.worker.take() {
            None => self.sha512.take().unwrap_or_default().finalize(),
            Some(mut w) => {
                if !w.pending.is_empty() {
                    let last = std::mem::take(&mut w.pending);
                    let _ = w.to_worker.send(last);
                }
                drop(w.to_worker);
                match w.handle.join() {
                    Ok(state) => state.finalize(),
                    // The hashing thread cannot panic on any input; if it ever
                    // did, propagating the panic is the only honest answer.
                    Err(p) => std::panic::resume_unwind(p),
                }
            }
        };
        Digests {
            sha256: Sha256(self.sha256.finalize().into()),
            sha512: Sha512(sha512.into()),
        }
    }
}

/// A reader that hashes everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: DualHasher,
}

impl<R: Read> HashingReader<R> {
    /// Wraps a reader.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: DualHasher::new(),
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.hasher.len()
    }

    /// Reads the rest of the stream and returns the digests of all of it.
    pub fn finish(mut self) -> io::Result<(Digests, u64)> {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match self.inner.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.hasher.update(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let size = self.hasher.len();
        Ok((self.hasher.finish(), size))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Hashes a whole stream.
pub fn digest_reader<R: Read>(reader: R) -> io::Result<(Digests, u64)> {
    HashingReader::new(reader).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_and_inline_paths_agree_with_one_shot_hashing() {
        // Crosses the threshold, leaves a partial chunk, and uses odd read sizes.
        let data: Vec<u8> = (0..(3 * usize::try_from(PARALLEL_THRESHOLD).unwrap() + 12345))
            .map(|i| u8::try_from(i * 31 % 251).unwrap())
            .collect();
        let mut h = DualHasher::new();
        for piece in data.chunks(7919) {
            h.update(piece);
        }
        assert_eq!(h.finish(), Digests::of(&data));
        let small = &data[..1000];
        let (d, n) = digest_reader(small).unwrap();
        assert_eq!((d, n), (Digests::of(small), 1000));
    }
}
