//! Reading gzip-compressed tarballs (npm `.tgz`, sdists, `.crate`) in the
//! same pass that hashes them.
//!
//! One gzip member is read (cargo reads one, node reads them all): bytes
//! after it are refused. The tar stream itself is walked by
//! [`crate::tar_walk`], which refuses what the installers read differently.

use crate::error::ArchiveError;
use crate::limits::{BombGuard, Counter, Limits, archive_error};
use crate::names::{Root, Seen, TopDir};
use crate::paths::entry_components;
use crate::tar_walk;
use crate::traits::Observer;
use std::io::{self, BufRead, Read};

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
/// which `wanted` returns true (given the components below the top
/// directory). Every byte of the stream is decompressed, so a bomb is
/// detected wherever in the archive it sits, even after the end of the tar.
pub(crate) fn scan<R: Read>(
    reader: R,
    compressed: Counter,
    limits: &Limits,
    root: &Root<'_>,
    wanted: impl Fn(&[&str]) -> bool,
    observer: &mut Observer,
) -> (Result<Vec<Captured>, ArchiveError>, R) {
    let decoder = flate2::bufread::GzDecoder::new(io::BufReader::new(reader));
    let mut guard = BombGuard {
        inner: decoder,
        unpacked: 0,
        compressed,
        limits: limits.clone(),
    };
    let result = walk(&mut guard, limits, root, wanted, observer).and_then(|captured| {
        let rest = guard.inner.get_mut().fill_buf().map_err(archive_error)?;
        if !rest.is_empty() {
            return Err(ArchiveError::Ambiguous(
                "data after the gzip stream; node decompresses a second member, cargo stops after the first".into(),
            ));
        }
        Ok(captured)
    });
    let reader = guard.inner.into_inner().into_inner();
    (result, reader)
}

fn walk<R: Read>(
    reader: &mut R,
    limits: &Limits,
    root: &Root<'_>,
    wanted: impl Fn(&[&str]) -> bool,
    observer: &mut Observer,
) -> Result<Vec<Captured>, ArchiveError> {
    let mut captured = Vec::new();
    let mut seen = Seen::default();
    let mut top = TopDir::default();
    tar_walk::walk(reader, limits.max_entries, |entry, data| {
        if let Some(fallback) = &entry.fallback {
            let base = fallback.rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
            if matches!(base.as_str(), "package.json" | "pkg-info" | "cargo.toml") {
                return Err(ArchiveError::Ambiguous(format!(
                    "entry {:?} has a non-ASCII PAX path over the header name {fallback:?}, which node-tar may read instead",
                    entry.path
                )));
            }
        }
        let parts = entry_components(&entry.path)?;
        top.check(root, &entry.path, &parts)?;
        seen.add(&parts, &entry.path, entry.is_dir)?;
        if !entry.is_dir && parts.len() > 1 {
            if wanted(&parts[1..]) {
                let c = Captured::read(data, &entry.path, &parts, limits)?;
                observer.captured(&parts[1..], &c.content);
                captured.push(c);
            } else {
                observer.file(&parts[1..], data)?;
            }
        }
        Ok(())
    })?;
    Ok(captured)
}
