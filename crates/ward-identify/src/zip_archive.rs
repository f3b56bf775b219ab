//! Reading zip archives (wheels, zip sdists) with limits.
//!
//! The central directory is first read here, entry by entry, so that every
//! name is seen (the `zip` crate keeps one entry per name, the last) and each
//! is compared with its local header's name (Python's `zipfile` refuses a
//! mismatch; other extractors use the local name). Duplicate names, also
//! after case folding and NFC normalisation, are refused. The `zip` crate
//! then decompresses every entry (to a sink, except the few captured for
//! identification), so sizes that lie in the headers and CRC errors are
//! found, not trusted.

use crate::error::ArchiveError;
use crate::limits::{Limits, archive_error, check_sizes};
use crate::names::Seen;
use crate::paths::entry_components;
use crate::tar_gz::Captured;
use crate::traits::Observer;
use std::io::{Read, Seek, SeekFrom};

/// Largest central directory read into memory (100,000 entries with long
/// names fit many times over).
const MAX_CENTRAL_DIRECTORY: u64 = 64 << 20;

fn ambiguous(why: impl Into<String>) -> ArchiveError {
    ArchiveError::Ambiguous(why.into())
}

fn malformed(why: impl Into<String>) -> ArchiveError {
    ArchiveError::Malformed(why.into())
}

fn u16_at(b: &[u8], i: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[i], b[i + 1]]))
}

/// A 16-bit length field, as a `usize` (always fits: `usize` is at least 16 bits).
fn u16_len(b: &[u8], i: usize) -> usize {
    usize::from(u16::from_le_bytes([b[i], b[i + 1]]))
}

fn u32_at(b: &[u8], i: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]))
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(x)
}

fn read_at<R: Read + Seek>(r: &mut R, offset: u64, len: usize) -> Result<Vec<u8>, ArchiveError> {
    r.seek(SeekFrom::Start(offset)).map_err(archive_error)?;
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)
        .map_err(|e| malformed(format!("zip structure runs past the end of the file ({e})")))?;
    Ok(buf)
}

/// One central-directory entry: its name as stored and its local header.
struct CentralEntry {
    name: String,
    local_offset: u64,
    flags: u64,
    method: u64,
    crc: u64,
    compressed: u64,
    uncompressed: u64,
}

/// Where the central directory is and how many entries it has. The end
/// record must end the file exactly and the directory must sit right before
/// it, so no reader can find another directory or prepended data.
fn end_record<R: Read + Seek>(r: &mut R, file_size: u64) -> Result<(u64, u64, u64), ArchiveError> {
    let tail_len = file_size.min(22 + 65535);
    let tail = read_at(r, file_size - tail_len, tail_len as usize)?;
    let pos = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| malformed("no zip end-of-central-directory record"))?;
    let eocd = &tail[pos..];
    if eocd.len() < 22 || 22 + u16_at(eocd, 20) != eocd.len() as u64 {
        return Err(ambiguous("data after the zip end-of-central-directory record"));
    }
    if u16_at(eocd, 4) != 0 || u16_at(eocd, 6) != 0 {
        return Err(malformed("multi-disk zip"));
    }
    let eocd_at = file_size - tail_len + pos as u64;
    let (mut count, mut size, mut offset) = (u16_at(eocd, 10), u32_at(eocd, 12), u32_at(eocd, 16));
    let mut cd_end = eocd_at;
    if count == 0xffff || size == 0xffff_ffff || offset == 0xffff_ffff {
        // Zip64: a locator right before the end record points at the zip64 record.
        let locator = read_at(
            r,
            eocd_at
                .checked_sub(20)
                .ok_or_else(|| malformed("zip64 locator missing"))?,
            20,
        )?;
        if !locator.starts_with(b"PK\x06\x07") {
            return Err(malformed("zip64 locator missing"));
        }
        let at = u64_at(&locator, 8);
        let record = read_at(r, at, 56)?;
        let record_end = at.checked_add(12).and_then(|x| x.checked_add(u64_at(&record, 4)));
        if !record.starts_with(b"PK\x06\x06") || record_end != Some(eocd_at - 20) {
            return Err(ambiguous("zip64 end record not where the locator says"));
        }
        (count, size, offset) = (u64_at(&record, 32), u64_at(&record, 40), u64_at(&record, 48));
        cd_end = at;
    }
    if offset.checked_add(size) != Some(cd_end) {
        return Err(ambiguous(
            "the central directory is not right before its end record (prepended or hidden data)",
        ));
    }
    Ok((count, offset, size))
}

/// The central directory's entries, and where it starts.
fn central_directory<R: Read + Seek>(
    r: &mut R,
    file_size: u64,
    limits: &Limits,
) -> Result<(Vec<CentralEntry>, u64), ArchiveError> {
    let (count, offset, size) = end_record(r, file_size)?;
    if count > limits.max_entries {
        return Err(ArchiveError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    if size > MAX_CENTRAL_DIRECTORY {
        return Err(malformed(format!(
            "central directory larger than {MAX_CENTRAL_DIRECTORY} bytes"
        )));
    }
    let size = usize::try_from(size).map_err(|e| malformed(format!("central directory too large ({e})")))?;
    let cd = read_at(r, offset, size)?;
    let mut entries = Vec::new();
    let mut at = 0usize;
    while at < cd.len() {
        let h = cd
            .get(at..at + 46)
            .ok_or_else(|| malformed("truncated central directory"))?;
        if !h.starts_with(b"PK\x01\x02") {
            return Err(malformed("bad central directory entry"));
        }
        let flags = u16_at(h, 8);
        let (n, x, c) = (u16_len(h, 28), u16_len(h, 30), u16_len(h, 32));
        let name = cd
            .get(at + 46..at + 46 + n)
            .ok_or_else(|| malformed("truncated central directory"))?;
        let extra = cd
            .get(at + 46 + n..at + 46 + n + x)
            .ok_or_else(|| malformed("truncated central directory"))?;
        let (mut uncompressed, mut compressed, mut local_offset) = (u32_at(h, 24), u32_at(h, 20), u32_at(h, 42));
        let wide = [uncompressed, compressed, local_offset].map(|v| v == 0xffff_ffff);
        if wide.iter().any(|&w| w) {
            let mut values = zip64_values(extra)?.into_iter();
            for (field, w) in [&mut uncompressed, &mut compressed, &mut local_offset]
                .into_iter()
                .zip(wide)
            {
                if w {
                    *field = values.next().ok_or_else(|| malformed("zip64 extra field too short"))?;
                }
            }
        }
        let name = if flags & 0x800 != 0 || name.is_ascii() {
            String::from_utf8(name.to_vec())
                .map_err(|e| malformed(format!("zip entry name flagged UTF-8 is not UTF-8 ({e})")))?
        } else {
            return Err(ambiguous(format!(
                "zip entry name {:?} is neither ASCII nor flagged UTF-8; readers decode it differently",
                String::from_utf8_lossy(name)
            )));
        };
        check_extra(extra, &name)?;
        entries.push(CentralEntry {
            name,
            local_offset,
            flags,
            method: u16_at(h, 10),
            crc: u32_at(h, 16),
            compressed,
            uncompressed,
        });
        at += 46 + n + x + c;
    }
    if entries.len() as u64 != count {
        return Err(ambiguous(format!(
            "the end record counts {count} entries, the central directory holds {}",
            entries.len()
        )));
    }
    Ok((entries, offset))
}

/// Info-ZIP's Unicode Path extra field: readers that honour it (the `zip`
/// crate, Info-ZIP's unzip, async_zip as uv uses it, also in a local header
/// when streaming) take its name instead of the header's; Python 3.11's
/// zipfile ignores it. No wheel tool writes it, so it is refused anywhere.
const UNICODE_PATH: u64 = 0x7075;

/// Refuses an extra field that renames the entry for some readers only.
fn check_extra(extra: &[u8], name: &str) -> Result<(), ArchiveError> {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let (id, len) = (u16_at(extra, at), u16_len(extra, at + 2));
        if id == UNICODE_PATH {
            return Err(ambiguous(format!(
                "zip entry {name:?} has a Unicode Path extra field; some extractors take its name, others the header's"
            )));
        }
        at += 4 + len;
    }
    Ok(())
}

/// The 64-bit values of a zip64 extra field, in order.
fn zip64_values(extra: &[u8]) -> Result<Vec<u64>, ArchiveError> {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let (id, len) = (u16_at(extra, at), u16_len(extra, at + 2));
        let body = extra
            .get(at + 4..at + 4 + len)
            .ok_or_else(|| malformed("truncated zip extra field"))?;
        if id == 1 {
            return Ok(body.chunks_exact(8).map(|c| u64_at(c, 0)).collect());
        }
        at += 4 + len;
    }
    Err(malformed("zip64 extra field missing"))
}

/// Checks an entry's local header against the central directory and
/// returns where its data (and data descriptor) ends. The name must be the
/// same byte for byte (Python's `zipfile` refuses a mismatch, other
/// extractors use the local name); the method, the data-descriptor flag
/// and, without a descriptor, the CRC and sizes must agree too, because a
/// streaming extractor (uv, `unzip` from a pipe) reads only local headers.
fn check_local<R: Read + Seek>(r: &mut R, entry: &CentralEntry, file_size: u64) -> Result<u64, ArchiveError> {
    let disagree = |what: &str| {
        ambiguous(format!(
            "the local header of {:?} disagrees with the central directory on {what}; extractors that read one or the other see different files",
            entry.name
        ))
    };
    let h = read_at(r, entry.local_offset, 30)?;
    if !h.starts_with(b"PK\x03\x04") {
        return Err(malformed(format!("no local header for {:?}", entry.name)));
    }
    let name_at = entry
        .local_offset
        .checked_add(30)
        .ok_or_else(|| malformed("zip local header offset out of range"))?;
    let (n, x) = (u16_at(&h, 26), u16_at(&h, 28));
    let local = read_at(r, name_at, u16_len(&h, 26))?;
    if local != entry.name.as_bytes() {
        return Err(ambiguous(format!(
            "the central directory names {:?}, the local header {:?}; extractors disagree on which to use",
            entry.name,
            String::from_utf8_lossy(&local)
        )));
    }
    let local_extra = read_at(r, name_at + n, u16_len(&h, 28))?;
    check_extra(&local_extra, &entry.name)?;
    let descriptor = entry.flags & 0x8 != 0;
    if u16_at(&h, 8) != entry.method || (u16_at(&h, 6) & 0x8 != 0) != descriptor {
        return Err(disagree("the compression method or the data-descriptor flag"));
    }
    let data_end = (name_at + n + x)
        .checked_add(entry.compressed)
        .filter(|&e| e <= file_size)
        .ok_or_else(|| malformed(format!("the data of {:?} runs past the end of the file", entry.name)))?;
    if !descriptor {
        // Sizes of 0xFFFFFFFF come from the local zip64 field (uncompressed,
        // then compressed), which a streaming extractor trusts: they must
        // agree too, or it reads a different amount and finds other entries.
        let (mut uncompressed, mut compressed) = (u32_at(&h, 22), u32_at(&h, 18));
        if uncompressed == 0xffff_ffff || compressed == 0xffff_ffff {
            let mut values = zip64_values(&local_extra)
                .map_err(|e| disagree(&format!("the sizes (no zip64 field in the local header: {e})")))?
                .into_iter();
            for field in [&mut uncompressed, &mut compressed] {
                if *field == 0xffff_ffff {
                    *field = values
                        .next()
                        .ok_or_else(|| disagree("the sizes (a short zip64 field in the local header)"))?;
                }
            }
        }
        if u32_at(&h, 14) != entry.crc || compressed != entry.compressed || uncompressed != entry.uncompressed {
            return Err(disagree("the CRC or sizes"));
        }
        return Ok(data_end);
    }
    // A data descriptor: optional signature, CRC, then 32- or 64-bit sizes.
    let dd = read_at(r, data_end, (file_size - data_end).min(24) as usize)?;
    let (sig, body) = match dd.strip_prefix(b"PK\x07\x08") {
        Some(rest) => (4, rest),
        None => (0, &dd[..]),
    };
    let crc_ok = body.len() >= 4 && u32_at(body, 0) == entry.crc;
    if crc_ok && body.len() >= 12 && u32_at(body, 4) == entry.compressed && u32_at(body, 8) == entry.uncompressed {
        return Ok(data_end + sig + 12);
    }
    if crc_ok && body.len() >= 20 && u64_at(body, 4) == entry.compressed && u64_at(body, 12) == entry.uncompressed {
        return Ok(data_end + sig + 20);
    }
    Err(disagree("the data descriptor"))
}

pub(crate) fn scan<R: Read + Seek>(
    mut reader: R,
    file_size: u64,
    limits: &Limits,
    wanted: impl Fn(&[&str]) -> bool,
    observer: &mut Observer,
) -> Result<Vec<Captured>, ArchiveError> {
    let (central, cd_offset) = central_directory(&mut reader, file_size, limits)?;
    let mut seen = Seen::default();
    // The local entries must tile the file up to the central directory, in
    // order: nothing hidden between them for a streaming extractor to find,
    // and no two directory entries sharing one local entry.
    let mut order: Vec<&CentralEntry> = central.iter().collect();
    order.sort_by_key(|e| e.local_offset);
    let mut expected = 0u64;
    for entry in order {
        if entry.local_offset != expected {
            return Err(ambiguous(format!(
                "zip entry {:?} does not start where the previous one ends (hidden or shared data)",
                entry.name
            )));
        }
        expected = check_local(&mut reader, entry, file_size)?;
    }
    if expected != cd_offset {
        return Err(ambiguous("data between the last zip entry and the central directory"));
    }
    for entry in &central {
        let parts = entry_components(&entry.name)?;
        seen.add(&parts, &entry.name, entry.name.ends_with('/'))?;
    }
    reader.seek(SeekFrom::Start(0)).map_err(archive_error)?;
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| ArchiveError::Malformed(e.to_string()))?;
    if archive.len() != central.len() {
        return Err(ambiguous("the zip reader sees a different number of entries"));
    }
    let mut captured = Vec::new();
    let mut declared = 0u64;
    let mut unpacked = 0u64;
    for (i, entry) in central.iter().enumerate() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| ArchiveError::Malformed(e.to_string()))?;
        let name = file
            .name()
            .map_err(|e| ArchiveError::Malformed(e.to_string()))?
            .into_owned();
        if name != entry.name {
            return Err(ambiguous(format!(
                "entry {i} is {name:?} to the zip reader, {:?} in the directory",
                entry.name
            )));
        }
        if file.is_symlink() {
            return Err(ArchiveError::LinkEntry(name));
        }
        let parts = entry_components(&name)?;
        if file.is_dir() {
            continue;
        }
        declared = declared.saturating_add(file.size());
        check_sizes(declared, file_size, limits)?;
        let remaining = limits.max_unpacked - unpacked.min(limits.max_unpacked);
        let mut limited = (&mut file).take(remaining + 1);
        let n = if wanted(&parts) {
            let c = Captured::read(&mut limited, &name, &parts, limits)?;
            let n = c.content.len() as u64;
            observer.captured(&parts, &c.content);
            captured.push(c);
            n
        } else {
            observer.file(&parts, &mut limited)?
        };
        unpacked = unpacked.saturating_add(n);
        check_sizes(unpacked, file_size, limits)?;
    }
    Ok(captured)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn sample() -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, data) in [
            ("a/b.py", &b"x"[..]),
            ("a-1.0.dist-info/METADATA", b"Name: a\nVersion: 1.0\n"),
        ] {
            w.start_file(name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn mutated_zips_never_panic() {
        let good = sample();
        let limits = Limits::default();
        assert!(
            scan(
                Cursor::new(&good),
                good.len() as u64,
                &limits,
                |_| true,
                &mut Observer::default()
            )
            .is_ok()
        );
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bytes = good.clone();
            let at = usize::try_from(seed % u64::try_from(bytes.len()).unwrap()).unwrap();
            bytes[at] = seed.to_be_bytes()[3];
            let _ = scan(
                Cursor::new(&bytes),
                bytes.len() as u64,
                &limits,
                |_| true,
                &mut Observer::default(),
            );
        }
    }
}
