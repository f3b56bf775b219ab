//! Reading gzip-compressed tarballs (npm `.tgz`, sdists, `.crate`) in the
//! same pass that hashes them.

use crate::error::ArchiveError;
use crate::limits::{BombGuard, Counter, Limits, archive_error};
use crate::paths::entry_components;
use std::collections::HashSet;
use std::io::{self, Read};

/// A small file captured from the archive for identification.
pub(crate) struct Captured {
    /// The entry's components (normalised).
    pub(crate) path: Vec<String>,
    /// Its content, at most `max_metadata` bytes.
    pub(crate) content: Vec<u8>,
}

impl Captured {
    /// Reads a wanted entry whole, refusing one over `max_metadata` bytes.
    pub(crate) fn read(reader: impl Read, name: &str, parts: &[&str], limits: &Limits) -> Result<Self, ArchiveError> {
        let mut content = Vec::new();
        reader
            .take(limits.max_metadata + 1)
            .read_to_end(&mut content)
            .map_err(archive_error)?;
        if content.len() as u64 > limits.max_metadata {
            return Err(ArchiveError::MetadataMalformed(format!(
                "{name} is larger than {} bytes",
                limits.max_metadata
            )));
        }
        Ok(Self {
            path: parts.iter().map(|s| s.to_string()).collect(),
            content,
        })
    }
}

/// Walks every entry, enforcing the limits, and captures the entries for
/// which `wanted` returns true. Every byte of every entry is decompressed, so
/// a bomb is detected wherever in the archive it sits.
pub(crate) fn scan<R: Read>(
    reader: R,
    compressed: Counter,
    limits: &Limits,
    wanted: impl Fn(&[&str]) -> bool,
) -> (Result<Vec<Captured>, ArchiveError>, R) {
    let decoder = flate2::read::MultiGzDecoder::new(reader);
    let guard = BombGuard {
        inner: decoder,
        unpacked: 0,
        compressed,
        limits: limits.clone(),
    };
    let mut archive = tar::Archive::new(guard);
    let result = walk(&mut archive, limits, wanted);
    let reader = archive.into_inner().inner.into_inner();
    (result, reader)
}

fn walk<R: Read>(
    archive: &mut tar::Archive<R>,
    limits: &Limits,
    wanted: impl Fn(&[&str]) -> bool,
) -> Result<Vec<Captured>, ArchiveError> {
    let mut captured = Vec::new();
    let mut seen = HashSet::new();
    let mut count = 0u64;
    for entry in archive.entries().map_err(archive_error)? {
        let mut entry = entry.map_err(archive_error)?;
        count += 1;
        if count > limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let raw = entry.path_bytes();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Directory => {}
            // PAX global headers carry metadata for the archive, not files.
            tar::EntryType::XGlobalHeader => {
                io::copy(&mut entry, &mut io::sink()).map_err(archive_error)?;
                continue;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => return Err(ArchiveError::LinkEntry(name)),
            other => return Err(ArchiveError::EntryType(name, format!("{other:?}"))),
        }
        let parts = entry_components(&name)?;
        let key = parts.join("/");
        if kind != tar::EntryType::Directory && !seen.insert(key) {
            return Err(ArchiveError::Malformed(format!(
                "entry {name:?} appears twice; installers disagree on which copy wins"
            )));
        }
        if kind != tar::EntryType::Directory && wanted(&parts) {
            captured.push(Captured::read(&mut entry, &name, &parts, limits)?);
        }
        io::copy(&mut entry, &mut io::sink()).map_err(archive_error)?;
    }
    Ok(captured)
}
