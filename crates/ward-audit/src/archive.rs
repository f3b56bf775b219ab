//! The files of an allowed artifact, from the proxy cache
//! (`blobs/<sha256>`, the layout of ward-registry's cache) or from cargo's
//! own `registry/cache`: each regular file's path, SHA-256 and size,
//! hashed as it is decompressed (a wheel through the `zip` crate, npm
//! tarballs and `.crate` files through `flate2` and `tar`), within limits
//! on entries and bytes. Each artifact is read once, and the digest is
//! taken of the very bytes unpacked: a wheel is read into memory (bounded)
//! and checked before the zip is opened; a tarball is hashed as it is
//! unpacked and believed only once its digest is checked at the end.

use crate::fsio::{self, ReadProblem};
use sha2::Digest as _;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Path (with `/`) to (SHA-256 hex, size).
pub(crate) type Manifest = HashMap<String, (String, u64)>;

/// How an artifact is packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Packing {
    /// A zip (wheel); paths as they are.
    Zip,
    /// A gzipped tar (npm tarball, `.crate`); the first path component
    /// (`package/`, `NAME-VERSION/`) is dropped.
    TarGz,
}

/// Where the proxy cache keeps the artifact of this digest (whether it is
/// there is found by opening it, once, in [`unpack`]).
pub(crate) fn cached_blob(cache: Option<&Path>, sha256: &str) -> Option<PathBuf> {
    let cache = cache?;
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(cache.join("blobs").join(sha256))
}

fn hash_stream(mut r: impl Read, limit: u64) -> Result<(String, u64), String> {
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > limit {
            return Err(format!("unpacks to more than {limit} bytes"));
        }
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), total))
}

/// An artifact read once: the SHA-256 of the bytes read, and the files
/// unpacked from those same bytes (or why they could not be, a sentence
/// naming the file). When a digest was expected and the bytes have
/// another, the files are that error: nothing unpacked is believed.
#[derive(Debug)]
pub(crate) struct Unpacked {
    /// SHA-256 (lower-case hex) of every byte read.
    pub(crate) sha256: String,
    /// The files, or why not.
    pub(crate) files: Result<Manifest, String>,
}

/// Reads the artifact at `path` once, bounded by `max_bytes` (compressed
/// and unpacked) and `max_entries`: a wheel into memory, its digest taken
/// and checked before the zip is opened on those bytes; a gzipped tar in
/// one stream, hashed as it is unpacked and checked at the end. The file
/// is opened without following a link, and nothing is read a second time,
/// so the files listed are those of the bytes whose digest is returned.
/// A file that cannot be read is a [`ReadProblem`].
pub(crate) fn unpack(
    path: &Path,
    packing: Packing,
    sha256: Option<&str>,
    max_bytes: u64,
    max_entries: u64,
) -> Result<Unpacked, ReadProblem> {
    let (file, meta) = fsio::open_file(path)?;
    if meta.len() > max_bytes {
        return Err(ReadProblem::TooLarge(meta.len()));
    }
    // Bounded even if the file grows while it is read.
    let bounded = file.take(max_bytes + 1);
    let not_it = |want: &str| format!("{} is not the artifact sha256:{want}", path.display());
    match packing {
        Packing::Zip => {
            // Hashed a chunk at a time as it is read in (while the chunk is
            // in the processor's cache), then kept: one read of the file.
            let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
            let mut hasher = sha2::Sha256::new();
            let mut chunk = vec![0u8; 256 * 1024];
            let mut bounded = bounded;
            loop {
                let n = match bounded.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(ReadProblem::Io(e)),
                };
                hasher.update(&chunk[..n]);
                bytes.extend_from_slice(&chunk[..n]);
                if bytes.len() as u64 > max_bytes {
                    return Err(ReadProblem::TooLarge(bytes.len() as u64));
                }
            }
            let got = hex::encode(hasher.finalize());
            // Checked before the zip is opened: other bytes are not unpacked.
            let files = match sha256 {
                Some(want) if want != got => Err(not_it(want)),
                _ => zip_manifest(&bytes, max_bytes, max_entries).map_err(|e| format!("{}: {e}", path.display())),
            };
            Ok(Unpacked { sha256: got, files })
        }
        Packing::TarGz => {
            let mut hashing = Hashing {
                inner: std::io::BufReader::with_capacity(256 * 1024, bounded),
                hasher: sha2::Sha256::new(),
                total: 0,
            };
            let files = tar_manifest(&mut hashing, max_bytes, max_entries);
            // The rest of the file (gzip trailer, padding, or what follows a
            // broken archive) counts in the digest too.
            std::io::copy(&mut hashing, &mut std::io::sink()).map_err(ReadProblem::Io)?;
            if hashing.total > max_bytes {
                return Err(ReadProblem::TooLarge(hashing.total));
            }
            let got = hex::encode(hashing.hasher.finalize());
            // Unpacked as a stream, believed only now.
            let files = match sha256 {
                Some(want) if want != got => Err(not_it(want)),
                _ => files.map_err(|e| format!("{}: {e}", path.display())),
            };
            Ok(Unpacked { sha256: got, files })
        }
    }
}

/// The files of a zip (wheel) held in memory; paths as they are.
fn zip_manifest(bytes: &[u8], max_bytes: u64, max_entries: u64) -> Result<Manifest, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    if zip.len() as u64 > max_entries {
        return Err(format!("more than {max_entries} entries"));
    }
    let mut out = Manifest::new();
    let mut left = max_bytes;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| e.to_string())?;
        if !entry.is_file() {
            continue;
        }
        let name = entry.name().map_err(|e| e.to_string())?.to_string();
        let (sha, size) = hash_stream(entry, left)?;
        left -= size;
        out.insert(name, (sha, size));
    }
    Ok(out)
}

/// SHA-256 and count of everything read through it.
struct Hashing<R> {
    inner: R,
    hasher: sha2::Sha256,
    total: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.total += n as u64;
        Ok(n)
    }
}

/// The files of a gzipped tar, read as a stream; the first path component
/// (`package/`, `NAME-VERSION/`) is dropped.
fn tar_manifest(r: &mut impl Read, max_bytes: u64, max_entries: u64) -> Result<Manifest, String> {
    let mut out = Manifest::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(r));
    let mut left = max_bytes;
    let mut count = 0u64;
    for entry in tar.entries().map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        count += 1;
        if count > max_entries {
            return Err(format!("more than {max_entries} entries"));
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let full = entry.path().map_err(|e| e.to_string())?;
        let rel: PathBuf = full.components().skip(1).collect();
        let name = fsio::rel_text(&rel);
        let (sha, size) = hash_stream(entry, left)?;
        left -= size;
        if !name.is_empty() {
            out.insert(name, (sha, size));
        }
    }
    Ok(out)
}
