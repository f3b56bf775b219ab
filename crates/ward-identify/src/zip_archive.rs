//! Reading zip archives (wheels, zip sdists) with limits.
//!
//! The central directory is read by the `zip` crate; every entry is then
//! decompressed (to a sink, except the few captured for identification), so
//! sizes that lie in the headers and CRC errors are found, not trusted.

use crate::error::ArchiveError;
use crate::limits::{Limits, archive_error, check_sizes};
use crate::paths::entry_components;
use crate::tar_gz::Captured;
use std::collections::HashSet;
use std::io::{self, Read, Seek};

pub(crate) fn scan<R: Read + Seek>(
    reader: R,
    file_size: u64,
    limits: &Limits,
    wanted: impl Fn(&[&str]) -> bool,
) -> Result<Vec<Captured>, ArchiveError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| ArchiveError::Malformed(e.to_string()))?;
    if archive.len() as u64 > limits.max_entries {
        return Err(ArchiveError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    let mut captured = Vec::new();
    let mut seen = HashSet::new();
    let mut declared = 0u64;
    let mut unpacked = 0u64;
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| ArchiveError::Malformed(e.to_string()))?;
        let name = file
            .name()
            .map_err(|e| ArchiveError::Malformed(e.to_string()))?
            .into_owned();
        if file.is_symlink() {
            return Err(ArchiveError::LinkEntry(name));
        }
        let parts = entry_components(&name)?;
        if file.is_dir() {
            continue;
        }
        if !seen.insert(parts.join("/")) {
            return Err(ArchiveError::Malformed(format!(
                "entry {name:?} appears twice; installers disagree on which copy wins"
            )));
        }
        declared = declared.saturating_add(file.size());
        check_sizes(declared, file_size, limits)?;
        let remaining = limits.max_unpacked - unpacked.min(limits.max_unpacked);
        let mut limited = (&mut file).take(remaining + 1);
        let n = if wanted(&parts) {
            let c = Captured::read(&mut limited, &name, &parts, limits)?;
            let n = c.content.len() as u64;
            captured.push(c);
            n
        } else {
            io::copy(&mut limited, &mut io::sink()).map_err(archive_error)?
        };
        unpacked = unpacked.saturating_add(n);
        check_sizes(unpacked, file_size, limits)?;
    }
    Ok(captured)
}
