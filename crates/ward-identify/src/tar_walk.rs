//! A strict tar reader that accepts only what node-tar (npm), the `tar`
//! crate (cargo) and Python's `tarfile` read the same way.
//!
//! The readers differ on many corner cases: node-tar prefers a PAX `path`
//! over a GNU long name when both are given, reads on after a single zero
//! block, reads checksums over 12 bytes, forces a directory's size to 0,
//! treats a file whose name ends in `/` as a directory, applies a global PAX
//! `size` to every later entry, honours a PAX `type`, skips a file that has a
//! link name, and re-applies the previous PAX header when the next one is
//! empty. A general tar crate cannot refuse these (it must read what it is
//! given), so the walk is written here block by block and everything on
//! which the readers could disagree is an [`ArchiveError::Ambiguous`].

use crate::error::ArchiveError;
use crate::limits::archive_error;
use std::io::{self, Read};

const BLOCK: usize = 512;
/// node-tar ignores extension headers larger than this (`maxMetaEntrySize`).
const MAX_META: u64 = 1 << 20;

/// A file or directory entry, with its effective path.
pub(crate) struct Entry {
    pub(crate) path: String,
    pub(crate) is_dir: bool,
    /// The header's own name, when node-tar may read it instead of a
    /// non-ASCII PAX path: node-tar decodes PAX data chunk by chunk, so a
    /// character split across two chunks of the decompressed stream fails
    /// the record's length check and the record is dropped.
    pub(crate) fallback: Option<String>,
}

fn ambiguous(why: impl Into<String>) -> ArchiveError {
    ArchiveError::Ambiguous(why.into())
}

fn malformed(why: impl Into<String>) -> ArchiveError {
    ArchiveError::Malformed(why.into())
}

/// Fills `buf` entirely; `Ok(false)` at a clean end of stream before any byte.
fn read_block<R: Read>(r: &mut R, buf: &mut [u8; BLOCK]) -> Result<bool, ArchiveError> {
    let mut n = 0;
    while n < BLOCK {
        match r.read(&mut buf[n..]) {
            Ok(0) if n == 0 => return Ok(false),
            Ok(0) => return Err(malformed("tar stream ends inside a header")),
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(archive_error(e)),
        }
    }
    Ok(true)
}

/// The bytes of a NUL-terminated field.
fn cut(field: &[u8]) -> &[u8] {
    field.iter().position(|&b| b == 0).map_or(field, |i| &field[..i])
}

/// An octal field every reader parses to the same number: optional leading
/// spaces, octal digits, then only NULs and spaces. With `terminated`, the
/// digits must end inside the field (node-tar reads the checksum over 12
/// bytes, into the type flag, when they do not).
fn octal(field: &[u8], what: &str, terminated: bool) -> Result<u64, ArchiveError> {
    let bad = || ambiguous(format!("tar header {what} field {field:?} is not a plain octal number"));
    let start = field.iter().position(|&b| b != b' ').ok_or_else(bad)?;
    let digits = field[start..].iter().take_while(|b| (b'0'..=b'7').contains(*b)).count();
    let end = start + digits;
    if digits == 0 || (terminated && end == field.len()) || field[end..].iter().any(|&b| b != 0 && b != b' ') {
        return Err(bad());
    }
    field[start..end].iter().try_fold(0u64, |n, &d| {
        n.checked_mul(8)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or_else(bad)
    })
}

fn utf8(bytes: &[u8], what: &str) -> Result<String, ArchiveError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|e| ambiguous(format!("{what} is not UTF-8 ({e}); installers decode it differently")))
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    /// POSIX `ustar\0` `00`: the prefix field extends the name.
    Ustar,
    /// GNU `ustar  \0`.
    Gnu,
    /// No magic (old Unix V7).
    V7,
}

/// PAX records, parsed strictly: each `LEN key=value\n` with LEN exact, no
/// newline or NUL inside a value (node-tar splits on newlines and cuts at
/// NUL), UTF-8 throughout, no key twice.
fn pax_records(data: &[u8]) -> Result<Vec<(String, String)>, ArchiveError> {
    let bad = |why: &str| ambiguous(format!("PAX header: {why}"));
    let text = std::str::from_utf8(data).map_err(|e| bad(&format!("not UTF-8 ({e})")))?;
    let mut rest = text;
    let mut out: Vec<(String, String)> = Vec::new();
    while !rest.is_empty() {
        let (len, _) = rest.split_once(' ').ok_or_else(|| bad("record without a length"))?;
        if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("record length is not a decimal number"));
        }
        let n: usize = len
            .parse()
            .map_err(|e| bad(&format!("record length too large ({e})")))?;
        if n.to_string() != len {
            // node-tar cuts the record after `String(n) + ' '`: with a
            // leading zero its key starts with a space and the record is
            // ignored, while the other readers apply it.
            return Err(bad("record length with a leading zero"));
        }
        let record = rest.get(..n).ok_or_else(|| bad("record length runs past the header"))?;
        let body = record
            .get(len.len() + 1..)
            .and_then(|r| r.strip_suffix('\n'))
            .ok_or_else(|| bad("record does not end with a newline"))?;
        let (key, value) = body.split_once('=').ok_or_else(|| bad("record without `=`"))?;
        if key.is_empty() || value.contains(['\n', '\0']) || key.contains(['\n', '\0']) {
            return Err(bad("empty key, or a newline or NUL inside a record"));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(bad(&format!("key {key:?} given twice")));
        }
        out.push((key.to_string(), value.to_string()));
        rest = &rest[n..];
    }
    Ok(out)
}

/// What extension headers said about the next entry.
#[derive(Default)]
struct Pending {
    long_name: Option<String>,
    pax_seen: bool,
    pax_path: Option<String>,
    pax_size: Option<u64>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.long_name.is_none() && !self.pax_seen
    }
}

/// Reads an extension header's data (bounded, and never empty).
fn meta_data<R: Read>(r: &mut R, size: u64, kind: char) -> Result<Vec<u8>, ArchiveError> {
    if size == 0 {
        // node-tar re-applies the previous extension header's text.
        return Err(ambiguous(format!("empty `{kind}` extension header")));
    }
    if size > MAX_META {
        // node-tar ignores extension headers over 1 MiB; the others apply them.
        return Err(ambiguous(format!(
            "`{kind}` extension header larger than {MAX_META} bytes"
        )));
    }
    let mut data = Vec::new();
    r.take(size).read_to_end(&mut data).map_err(archive_error)?;
    if data.len() as u64 != size {
        return Err(malformed("tar stream ends inside an extension header"));
    }
    skip(r, padding(size))?;
    Ok(data)
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn skip<R: Read>(r: &mut R, n: u64) -> Result<(), ArchiveError> {
    let got = io::copy(&mut r.take(n), &mut io::sink()).map_err(archive_error)?;
    if got != n {
        return Err(malformed("tar stream ends inside an entry"));
    }
    Ok(())
}

/// Walks the archive. `visit` sees each file and directory with a reader
/// over exactly its data (what it leaves unread is skipped). After the first
/// zero block, everything left in `r` must be zero: node-tar reads on until a
/// second zero block, the others stop, so any data there is read by one and
/// not the other. Every byte is read, so the caller's size limits see it all.
pub(crate) fn walk<R: Read>(
    r: &mut R,
    max_entries: u64,
    mut visit: impl FnMut(&Entry, &mut dyn Read) -> Result<(), ArchiveError>,
) -> Result<(), ArchiveError> {
    let mut block = [0u8; BLOCK];
    let mut pending = Pending::default();
    let mut count = 0u64;
    loop {
        if !read_block(r, &mut block)? {
            // The stream ended at a block boundary without end-of-archive blocks.
            if !pending.is_empty() {
                return Err(ambiguous("extension header with no entry after it"));
            }
            return Ok(());
        }
        if block.iter().all(|&b| b == 0) {
            if !pending.is_empty() {
                return Err(ambiguous("extension header with no entry after it"));
            }
            return rest_is_zero(r);
        }
        count += 1;
        if count > max_entries {
            return Err(ArchiveError::TooManyEntries { limit: max_entries });
        }
        header(r, &block, &mut pending, &mut visit)?;
    }
}

fn rest_is_zero<R: Read>(r: &mut R) -> Result<(), ArchiveError> {
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(archive_error(e)),
        };
        if buf[..n].iter().any(|&b| b != 0) {
            return Err(ambiguous(
                "data after the end-of-archive block; node-tar reads on until two zero blocks, other readers stop at one",
            ));
        }
    }
}

/// A NUL-terminated string field whose bytes after the terminator are all
/// NUL. node-tar decodes these fields with `.replace(/\0.*/, '')`, and `.`
/// stops at a line break, so `a\0\nb` is `a` to every other reader and
/// `a\nb` to node-tar: a different name, or a link name that makes it skip
/// the header and read the entry's data as headers.
fn string_field<'a>(field: &'a [u8], what: &str) -> Result<&'a [u8], ArchiveError> {
    let value = cut(field);
    if field[value.len()..].iter().any(|&x| x != 0) {
        return Err(ambiguous(format!(
            "tar header {what} field {:?} has bytes after its NUL terminator; node-tar keeps those after a line break",
            String::from_utf8_lossy(value)
        )));
    }
    Ok(value)
}

fn header<R: Read>(
    r: &mut R,
    b: &[u8; BLOCK],
    pending: &mut Pending,
    visit: &mut impl FnMut(&Entry, &mut dyn Read) -> Result<(), ArchiveError>,
) -> Result<(), ArchiveError> {
    let raw_name = string_field(&b[..100], "name")?;
    let shown = String::from_utf8_lossy(raw_name).into_owned();
    // node-tar skips a header with no name ("path is required") or, unless
    // it is a link or a PAX header, with a link name ("linkpath forbidden"),
    // and then parses the data that follows it as headers. That holds for
    // extension headers too, so both are refused on every header.
    if raw_name.is_empty() {
        return Err(ambiguous(
            "tar header with an empty name field; node-tar skips it and reads its data as headers",
        ));
    }
    let link_name = string_field(&b[157..257], "link name")?;
    if !link_name.is_empty() && !matches!(b[156], b'1' | b'2' | b'K') {
        return Err(ambiguous(format!(
            "tar header {shown:?} has a link name; node-tar skips such a header and reads its data as headers"
        )));
    }
    let cksum = octal(&b[148..156], "checksum", true)?;
    let sum: u64 = b[..148].iter().chain(&b[156..]).map(|&x| u64::from(x)).sum::<u64>() + 8 * u64::from(b' ');
    if sum != cksum {
        return Err(malformed(format!("tar header checksum mismatch at {shown:?}")));
    }
    let format = match &b[257..265] {
        m if m == b"ustar\x0000" => Format::Ustar,
        m if m == b"ustar  \0" => Format::Gnu,
        m if m.iter().all(|&x| x == 0) => Format::V7,
        _ => return Err(malformed(format!("tar header of unknown format at {shown:?}"))),
    };
    if b[124] & 0x80 != 0 {
        return Err(ambiguous(format!("base-256 size at {shown:?}")));
    }
    let size = octal(&b[124..136], "size", false)?;
    let kind = b[156];
    match kind {
        b'x' | b'g' | b'L' => {
            if format == Format::V7 {
                return Err(ambiguous(format!(
                    "extension header `{}` without ustar magic",
                    kind as char
                )));
            }
            let data = meta_data(r, size, kind as char)?;
            extension(kind, &data, pending)
        }
        b'0' | 0 | b'7' | b'5' => {
            let mut name = raw_name.to_vec();
            if format == Format::Ustar {
                // node-tar reads 155 bytes when the last is set, else 130.
                let end = if b[475] != 0 { 500 } else { 475 };
                let prefix = string_field(&b[345..end], "prefix")?;
                if !prefix.is_empty() {
                    name = [prefix, b"/", raw_name].concat();
                }
            }
            let header_path = utf8(&name, "entry name")?;
            let taken = std::mem::take(pending);
            let fallback = taken
                .pax_path
                .as_ref()
                .filter(|p| !p.is_ascii() && **p != header_path)
                .map(|_| header_path.clone());
            let path = match (taken.long_name, taken.pax_path) {
                (Some(_), Some(_)) => {
                    return Err(ambiguous(format!(
                        "entry {header_path:?} has both a GNU long name and a PAX path; node-tar and cargo's tar read different names"
                    )));
                }
                (Some(p), None) | (None, Some(p)) => p,
                (None, None) => header_path,
            };
            if let Some(pax_size) = taken.pax_size
                && pax_size != size
            {
                return Err(ambiguous(format!(
                    "entry {path:?}: PAX size {pax_size} differs from header size {size}"
                )));
            }
            if path.is_empty() {
                return Err(ambiguous("entry with an empty name"));
            }
            if path.chars().any(char::is_control) {
                return Err(ambiguous(format!("entry name {path:?} has control characters")));
            }
            let is_dir = kind == b'5';
            if is_dir && size != 0 {
                // node-tar forces a directory's size to 0 and reads its "data" as headers.
                return Err(ambiguous(format!("directory {path:?} has data")));
            }
            if !is_dir && path.ends_with('/') {
                // node-tar makes this a directory of size 0.
                return Err(ambiguous(format!("file {path:?} has a name ending in `/`")));
            }
            let mut data = (&mut *r).take(size);
            visit(&Entry { path, is_dir, fallback }, &mut data)?;
            io::copy(&mut data, &mut io::sink()).map_err(archive_error)?;
            if data.limit() != 0 {
                return Err(malformed("tar stream ends inside an entry"));
            }
            skip(r, padding(size))
        }
        b'1' | b'2' | b'K' => Err(ArchiveError::LinkEntry(shown)),
        other => Err(ArchiveError::EntryType(shown, format!("{:?}", other as char))),
    }
}

fn extension(kind: u8, data: &[u8], pending: &mut Pending) -> Result<(), ArchiveError> {
    match kind {
        b'L' => {
            if pending.long_name.is_some() || pending.pax_path.is_some() {
                return Err(ambiguous("two name headers for one entry"));
            }
            let name = data.strip_suffix(b"\0").unwrap_or(data);
            if name.contains(&0) {
                return Err(ambiguous("GNU long name with a NUL inside"));
            }
            pending.long_name = Some(utf8(name, "GNU long name")?);
            Ok(())
        }
        b'x' => {
            if pending.pax_seen {
                return Err(ambiguous("two PAX headers for one entry"));
            }
            pending.pax_seen = true;
            for (key, value) in pax_records(data)? {
                match key.as_str() {
                    "path" => {
                        if pending.long_name.is_some() {
                            return Err(ambiguous("both a GNU long name and a PAX path for one entry"));
                        }
                        pending.pax_path = Some(value);
                    }
                    "size" => {
                        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                            return Err(ambiguous(format!("PAX size {value:?}")));
                        }
                        pending.pax_size = Some(
                            value
                                .parse()
                                .map_err(|e| ambiguous(format!("PAX size too large ({e})")))?,
                        );
                    }
                    k => refuse_key(k, &value, false)?,
                }
            }
            Ok(())
        }
        // `g`: node-tar applies global headers to every later entry, the
        // `tar` crate ignores them, Python applies them (path included).
        _ => {
            if !pending.is_empty() {
                return Err(ambiguous("global PAX header between an extension header and its entry"));
            }
            for (key, value) in pax_records(data)? {
                if matches!(key.as_str(), "path" | "size") {
                    return Err(ambiguous(format!("global PAX header sets `{key}`")));
                }
                refuse_key(&key, &value, true)?;
            }
            Ok(())
        }
    }
}

/// Keys that change how an entry is read or what it is.
fn refuse_key(key: &str, value: &str, global: bool) -> Result<(), ArchiveError> {
    let scope = if global { "global PAX header" } else { "PAX header" };
    match key {
        "linkpath" if value.is_empty() => Ok(()),
        "linkpath" | "type" | "hdrcharset" => Err(ambiguous(format!("{scope} sets `{key}`"))),
        k if k.starts_with("GNU.sparse.") => Err(ambiguous(format!("{scope} describes a sparse file"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_fields_are_read_only_when_unambiguous() {
        assert_eq!(octal(b"0000644\0", "mode", true).ok(), Some(0o644));
        assert_eq!(octal(b"  12 \0\0\0", "x", true).ok(), Some(0o12));
        assert_eq!(octal(b"000000000012", "size", false).ok(), Some(0o12));
        assert!(octal(b"00012345", "checksum", true).is_err());
        assert!(octal(b"12 3\0\0\0\0", "x", true).is_err());
        assert!(octal(b"\0\0\0\0\0\0\0\0", "x", true).is_err());
        assert!(octal(b"0009\0\0\0\0", "x", true).is_err());
    }

    #[test]
    fn mutated_tar_streams_never_panic() {
        fn header(name: &str, kind: u8, size: usize) -> Vec<u8> {
            let mut b = vec![0u8; BLOCK];
            b[..name.len()].copy_from_slice(name.as_bytes());
            b[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
            b[156] = kind;
            b[257..265].copy_from_slice(b"ustar\x0000");
            b[148..156].copy_from_slice(b"        ");
            let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
            b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
            b
        }
        let pax = b"29 path=package/package.json\n";
        let mut good = header("PaxHeader/x", b'x', pax.len());
        good.extend_from_slice(pax);
        good.resize(2 * BLOCK, 0);
        good.extend(header("package/a", b'0', 2));
        good.extend_from_slice(b"{}");
        good.resize(4 * BLOCK, 0);
        good.extend(vec![0u8; 2 * BLOCK]);
        let mut names = Vec::new();
        walk(&mut &good[..], 100, |e, _| {
            names.push(e.path.clone());
            Ok(())
        })
        .unwrap();
        assert_eq!(names, ["package/package.json"]);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bytes = good.clone();
            let at = usize::try_from(seed % u64::try_from(bytes.len()).unwrap()).unwrap();
            bytes[at] = seed.to_be_bytes()[3];
            // Mostly keep the checksums right, so the mutation reaches past them.
            if !seed.is_multiple_of(4) {
                for start in [0, 2 * BLOCK] {
                    if (start..start + BLOCK).contains(&at) && !(start + 148..start + 156).contains(&at) {
                        let b = &mut bytes[start..start + BLOCK];
                        b[148..156].copy_from_slice(b"        ");
                        let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
                        b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
                    }
                }
            }
            let _ = walk(&mut &bytes[..], 100, |_, data| {
                io::copy(data, &mut io::sink()).map_err(archive_error)?;
                Ok(())
            });
        }
    }

    #[test]
    fn pax_records_are_strict() {
        assert_eq!(
            pax_records(b"29 path=package/package.json\n").ok(),
            Some(vec![("path".into(), "package/package.json".into())])
        );
        assert!(pax_records(b"99 path=package/package.json\n").is_err());
        assert!(pax_records(b"030 path=package/package.json\n").is_err());
        assert!(pax_records(b"12 path=a\nb\n").is_err());
        assert!(pax_records(b"9 path=a\n9 path=b\n").is_err());
        assert!(pax_records(b"9 path=a\n\0").is_err());
    }
}
