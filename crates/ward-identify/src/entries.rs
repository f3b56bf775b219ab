//! Every entry of a package archive, for comparing two builds of it
//! (`ward rebuild compare`).
//!
//! The archive is first identified by [`crate::identify`], with all its
//! safety rules: anything identify refuses (data after the gzip stream,
//! entries that collide after normalisation, duplicates, links, bombs) is
//! returned as its [`ArchiveError`] and never listed. An accepted archive is
//! then walked again by the same readers (ward's own tar walker behind the
//! same bomb guard; the `zip` crate for zips), each file hashed and, when
//! small, kept; the whole file is hashed again (for a tarball in the same
//! read; a zip, which the reader must seek, through a second handle), and
//! bytes other than the ones identify accepted are refused (the file
//! changed between the reads). Nothing is held in memory whole but the
//! small files kept for diffs.
//!
//! What is listed is what an installer writes: the entry's normalised path,
//! whether it is a directory, its size, SHA-256 and (up to `keep` bytes)
//! content. Timestamps, owners, modes and compression are not read, so they
//! cannot differ: the stabilisers OSS Rebuild documents for tar and zip.

use crate::error::{ArchiveError, ReadError};
use crate::limits::{BombGuard, Counter, CountingReader, Limits, archive_error, check_sizes};
use crate::paths::entry_components;
use crate::{Options, hash};
use sha2::Digest as _;
use std::io::{self, BufReader, Read, Seek as _};
use std::path::Path;

/// One entry, as an installer would write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The normalised path (`package/lib/index.js`), `/`-separated.
    pub path: String,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Its size in bytes (0 for directories).
    pub size: u64,
    /// SHA-256 of its content.
    pub sha256: [u8; 32],
    /// Its content, when it is at most the `keep` bytes asked for.
    pub content: Option<Vec<u8>>,
}

/// The container an archive was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// A gzip-compressed tarball (npm `.tgz`, sdist `.tar.gz`, `.crate`).
    TarGz,
    /// A zip (wheel, zip sdist).
    Zip,
    /// Not an archive: the file itself is the one entry.
    File,
}

/// An archive's entries, sorted by path.
#[derive(Clone, Debug)]
pub struct Listing {
    /// How it was read.
    pub container: Container,
    /// The package identity identify read (`pkg:npm/chalk@5.6.0`).
    pub purl: String,
    /// The entries, sorted by path.
    pub entries: Vec<Entry>,
}

/// The most file content one listing keeps in memory, in all.
const KEEP_TOTAL: u64 = 64 << 20;

/// What a listing may still keep: files of at most `each` bytes, while
/// `left` lasts (so a bomb of small files cannot fill memory).
struct Keep {
    each: u64,
    left: u64,
}

/// Lists an archive's entries, keeping the content of files of at most
/// `keep` bytes (64 MiB of content in all; later files keep none). `Ok(Err(_))` is an archive ward refuses (a divergence for
/// any comparison); `Err(_)` a file that cannot be read at all.
pub fn list(path: &Path, limits: &Limits, keep: u64) -> Result<Result<Listing, ArchiveError>, ReadError> {
    let identified = crate::identify(
        path,
        &Options {
            purl: None,
            limits: limits.clone(),
        },
    )?;
    if let Some(problem) = identified.problem {
        return Ok(Err(problem));
    }
    let read_err = |source| ReadError {
        path: path.to_path_buf(),
        source,
    };
    let file = ward_input::InputFile::new(path, "artifact", u64::MAX)
        .open()
        .map_err(|e| read_err(io::Error::other(e)))?;
    let container = match crate::container_for(&identified.artifact.file_name) {
        crate::Container::TarGz => Container::TarGz,
        crate::Container::Zip => Container::Zip,
        crate::Container::Plain => Container::File,
    };
    let mut hashing = hash::HashingReader::new(BufReader::with_capacity(256 * 1024, file));
    let mut budget = Keep {
        each: keep,
        left: KEEP_TOTAL,
    };
    let walked = match container {
        Container::TarGz => tar_entries(&mut hashing, limits, &mut budget),
        Container::Zip => {
            // The zip reader seeks: it reads a second handle, in place (never
            // the whole file in memory); the first is hashed below, and the
            // second is hashed after the walk, so both are the bytes identify
            // checked.
            let second = ward_input::InputFile::new(path, "artifact", u64::MAX)
                .open()
                .map_err(|e| read_err(io::Error::other(e)))?;
            match zip_entries(BufReader::new(second), identified.artifact.size, limits, &mut budget) {
                Ok((entries, mut second)) => {
                    second.rewind().map_err(read_err)?;
                    let (digests, _) = hash::digest_reader(&mut second).map_err(read_err)?;
                    if digests.sha256 != identified.artifact.digests.sha256 {
                        return Ok(Err(ArchiveError::Ambiguous(
                            "the file changed while it was read; compare a copy that nothing writes to".into(),
                        )));
                    }
                    Ok(entries)
                }
                Err(e) => Err(e),
            }
        }
        Container::File => {
            let mut content = Vec::new();
            (&mut hashing)
                .take(keep.saturating_add(1))
                .read_to_end(&mut content)
                .map_err(read_err)?;
            Ok(vec![Entry {
                path: identified.artifact.file_name.clone(),
                is_dir: false,
                size: identified.artifact.size,
                sha256: identified.artifact.digests.sha256.0,
                content: (content.len() as u64 <= keep).then_some(content),
            }])
        }
    };
    let (digests, _) = hashing.finish().map_err(read_err)?;
    if digests.sha256 != identified.artifact.digests.sha256 {
        return Ok(Err(ArchiveError::Ambiguous(
            "the file changed while it was read; compare a copy that nothing writes to".into(),
        )));
    }
    Ok(walked.map(|mut entries| {
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Listing {
            container,
            purl: identified.artifact.id.to_purl(),
            entries,
        }
    }))
}

/// Reads one file's data: its size and SHA-256, and its content when small.
fn read_entry(path: String, data: &mut dyn Read, keep: &mut Keep) -> Result<Entry, ArchiveError> {
    let limit = keep.each.min(keep.left);
    let mut hasher = sha2::Sha256::new();
    let mut kept = Vec::new();
    let mut size = 0u64;
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = match data.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(archive_error(e)),
        };
        hasher.update(&buf[..n]);
        if size.saturating_add(n as u64) <= limit {
            kept.extend_from_slice(&buf[..n]);
        }
        size = size.saturating_add(n as u64);
    }
    let content = (size <= limit).then_some(kept);
    if content.is_some() {
        keep.left -= size;
    }
    Ok(Entry {
        path,
        is_dir: false,
        size,
        sha256: hasher.finalize().into(),
        content,
    })
}

fn dir_entry(path: String) -> Entry {
    Entry {
        path,
        is_dir: true,
        size: 0,
        sha256: sha2::Sha256::digest([]).into(),
        content: None,
    }
}

fn tar_entries(reader: &mut dyn Read, limits: &Limits, keep: &mut Keep) -> Result<Vec<Entry>, ArchiveError> {
    let compressed = Counter::default();
    let counting = CountingReader {
        inner: reader,
        count: compressed.clone(),
    };
    let decoder = flate2::bufread::GzDecoder::new(BufReader::new(counting));
    let mut guard = BombGuard {
        inner: decoder,
        unpacked: 0,
        compressed,
        limits: limits.clone(),
    };
    let mut out = Vec::new();
    crate::tar_walk::walk(&mut guard, limits.max_entries, |entry, data| {
        let path = entry_components(&entry.path)?.join("/");
        out.push(if entry.is_dir {
            dir_entry(path)
        } else {
            read_entry(path, data, keep)?
        });
        Ok(())
    })?;
    Ok(out)
}

fn zip_entries<R: Read + io::Seek>(
    reader: R,
    file_size: u64,
    limits: &Limits,
    keep: &mut Keep,
) -> Result<(Vec<Entry>, R), ArchiveError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| ArchiveError::Malformed(e.to_string()))?;
    let mut out = Vec::new();
    let mut unpacked = 0u64;
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| ArchiveError::Malformed(e.to_string()))?;
        let name = file
            .name()
            .map_err(|e| ArchiveError::Malformed(e.to_string()))?
            .into_owned();
        let path = entry_components(&name)?.join("/");
        if file.is_dir() {
            out.push(dir_entry(path));
            continue;
        }
        let remaining = limits.max_unpacked - unpacked.min(limits.max_unpacked);
        let entry = read_entry(path, &mut (&mut file).take(remaining.saturating_add(1)), keep)?;
        unpacked = unpacked.saturating_add(entry.size);
        check_sizes(unpacked, file_size, limits)?;
        out.push(entry);
    }
    Ok((out, archive.into_inner()))
}
