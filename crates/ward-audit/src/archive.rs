//! The files of an allowed artifact, from the proxy cache
//! (`blobs/<sha256>`, the layout of ward-registry's cache) or from cargo's
//! own `registry/cache`: each regular file's path, SHA-256 and size,
//! hashed as it is decompressed (a wheel through the `zip` crate, npm
//! tarballs and `.crate` files through `flate2` and `tar`), within limits
//! on entries and bytes. The blob is checked against the digest it is
//! named by before it is believed.

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

/// Where the proxy cache keeps an artifact's bytes.
pub(crate) fn cached_blob(cache: Option<&Path>, sha256: &str) -> Option<PathBuf> {
    let cache = cache?;
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let p = cache.join("blobs").join(sha256);
    std::fs::symlink_metadata(&p).ok()?.is_file().then_some(p)
}

/// Why an artifact's files could not be listed.
pub(crate) fn describe(p: &ReadProblem) -> String {
    p.to_string()
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

/// The files of the artifact at `path`, whose SHA-256 must be `sha256`
/// (when given). Errors are sentences.
pub(crate) fn manifest(
    path: &Path,
    packing: Packing,
    sha256: Option<&str>,
    max_bytes: u64,
    max_entries: u64,
) -> Result<Manifest, String> {
    if packing == Packing::TarGz {
        // One pass: the compressed bytes are hashed as they are unpacked, and
        // nothing is believed until the digest is checked at the end.
        return tar_manifest(path, sha256, max_bytes, max_entries);
    }
    if let Some(want) = sha256 {
        let got = fsio::hash_file(path).map_err(|p| describe(&p))?;
        if got.sha256 != want {
            return Err(format!("{} is not the artifact sha256:{want}", path.display()));
        }
        if got.size > max_bytes {
            return Err(format!("{} is over {max_bytes} bytes", path.display()));
        }
    }
    let (file, _) = fsio::open_file(path).map_err(|p| format!("{}: {p}", path.display()))?;
    let mut out = Manifest::new();
    match packing {
        Packing::Zip => {
            let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("{}: {e}", path.display()))?;
            if zip.len() as u64 > max_entries {
                return Err(format!("{}: more than {max_entries} entries", path.display()));
            }
            let mut left = max_bytes;
            for i in 0..zip.len() {
                let entry = zip.by_index(i).map_err(|e| format!("{}: {e}", path.display()))?;
                if !entry.is_file() {
                    continue;
                }
                let name = entry
                    .name()
                    .map_err(|e| format!("{}: {e}", path.display()))?
                    .to_string();
                let (sha, size) = hash_stream(entry, left)?;
                left -= size;
                out.insert(name, (sha, size));
            }
        }
        // Read in one pass by `tar_manifest`.
        Packing::TarGz => {}
    }
    Ok(out)
}

/// SHA-256 of everything read through it.
struct Hashing<R> {
    inner: R,
    hasher: sha2::Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

fn tar_manifest(path: &Path, sha256: Option<&str>, max_bytes: u64, max_entries: u64) -> Result<Manifest, String> {
    let (file, meta) = fsio::open_file(path).map_err(|p| format!("{}: {p}", path.display()))?;
    if meta.len() > max_bytes {
        return Err(format!("{} is over {max_bytes} bytes", path.display()));
    }
    let mut hashing = Hashing {
        inner: std::io::BufReader::with_capacity(256 * 1024, file),
        hasher: sha2::Sha256::new(),
    };
    let mut out = Manifest::new();
    {
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&mut hashing));
        let mut left = max_bytes;
        let mut count = 0u64;
        for entry in tar.entries().map_err(|e| format!("{}: {e}", path.display()))? {
            let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
            count += 1;
            if count > max_entries {
                return Err(format!("{}: more than {max_entries} entries", path.display()));
            }
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let full = entry.path().map_err(|e| format!("{}: {e}", path.display()))?;
            let rel: PathBuf = full.components().skip(1).collect();
            let name = fsio::rel_text(&rel);
            let (sha, size) = hash_stream(entry, left)?;
            left -= size;
            if !name.is_empty() {
                out.insert(name, (sha, size));
            }
        }
    }
    // The rest of the file (gzip trailer, padding) counts in the digest too.
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(want) = sha256 {
        let got = hex::encode(hashing.hasher.finalize());
        if got != want {
            return Err(format!("{} is not the artifact sha256:{want}", path.display()));
        }
    }
    Ok(out)
}
