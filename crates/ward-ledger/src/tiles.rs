//! The C2SP `tlog-tiles` layout: paths, entry bundles, and reading a log
//! published that way (a directory, or a mirror of one).

use crate::hash::Hash;

/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tile height (levels of the tree per tile level).
pub const TILE_HEIGHT: usize = 8;

/// `N` as path elements: `x001/x234/067`.
pub fn index_path(n: u64) -> String {
    let mut groups = Vec::new();
    let mut n = n;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    groups.reverse();
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                format!("{g:03}")
            } else {
                format!("x{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The path of a hash tile: `tile/<L>/<N>[.p/<W>]`.
pub fn tile_path(level: usize, index: u64, width: u64) -> String {
    let partial = if width < TILE_WIDTH {
        format!(".p/{width}")
    } else {
        String::new()
    };
    format!("tile/{level}/{}{partial}", index_path(index))
}

/// The path of an entry bundle: `tile/entries/<N>[.p/<W>]`.
pub fn entries_path(index: u64, width: u64) -> String {
    let partial = if width < TILE_WIDTH {
        format!(".p/{width}")
    } else {
        String::new()
    };
    format!("tile/entries/{}{partial}", index_path(index))
}

/// Parses `N` from path elements, refusing non-canonical forms.
pub fn parse_index(elements: &[&str]) -> Option<u64> {
    let (last, prefix) = elements.split_last()?;
    let mut n: u64 = 0;
    for e in prefix {
        let g = e.strip_prefix('x')?;
        if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(g.parse().ok()?)?;
    }
    if last.len() != 3 || !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = n.checked_mul(1000)?.checked_add(last.parse().ok()?)?;
    if !prefix.is_empty() && prefix[0] == "x000" {
        return None;
    }
    Some(n)
}

/// Encodes entries as an entry bundle: each prefixed by its big-endian u16
/// length. An entry longer than 65,535 bytes cannot be framed and is refused
/// (rather than written with a wrapped length that would misframe the rest).
pub fn encode_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for (i, e) in entries.into_iter().enumerate() {
        let len = u16::try_from(e.len()).map_err(|err| {
            TileError(format!(
                "entry {i} of the bundle is {} bytes; a bundle frames at most {} ({err})",
                e.len(),
                u16::MAX
            ))
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Why a tile or bundle is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TileError(pub String);

/// Decodes an entry bundle, which must hold exactly `expected` entries.
pub fn decode_bundle(bytes: &[u8], expected: usize) -> Result<Vec<Vec<u8>>, TileError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(TileError("entry bundle is truncated inside a length".into()));
        }
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        rest = &rest[2..];
        if rest.len() < len {
            return Err(TileError(format!(
                "entry bundle is truncated: entry {} needs {len} bytes, {} left",
                out.len(),
                rest.len()
            )));
        }
        out.push(rest[..len].to_vec());
        rest = &rest[len..];
    }
    if out.len() != expected {
        return Err(TileError(format!(
            "entry bundle holds {} entries, expected {expected}",
            out.len()
        )));
    }
    Ok(out)
}

/// Decodes a hash tile of `width` hashes.
pub fn decode_tile(bytes: &[u8], width: u64) -> Result<Vec<Hash>, TileError> {
    if bytes.len() as u64 != width * 32 {
        return Err(TileError(format!(
            "tile has {} bytes, expected {} hashes",
            bytes.len(),
            width
        )));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or([0; 32]))
        .collect())
}

/// Anything tiles can be read from: a directory or an HTTP mirror.
pub trait TileSource {
    /// Reads the file at a tlog-tiles path (`checkpoint`, `tile/…`).
    fn read(&self, path: &str) -> Result<Vec<u8>, TileError>;
}

/// A log published in a directory.
pub struct DirSource(pub std::path::PathBuf);

impl TileSource for DirSource {
    fn read(&self, path: &str) -> Result<Vec<u8>, TileError> {
        // An entry bundle is at most 256 × (2 + 65,535) bytes; nothing legitimate is larger.
        const MAX: u64 = 20 << 20;
        // Bounded, and a FIFO or device in a mirror is refused rather than read.
        ward_input::InputFile::new(&self.0.join(path), "ledger tile", MAX)
            .read()
            .map_err(|e| TileError(e.to_string()))
    }
}

/// Reads every entry of a tiles log of `size` entries.
pub fn read_entries(source: &dyn TileSource, size: u64) -> Result<Vec<Vec<u8>>, TileError> {
    let capacity = usize::try_from(size).map_err(|e| {
        TileError(format!(
            "a log of {size} entries does not fit in memory on this platform: {e}"
        ))
    })?;
    let mut out = Vec::with_capacity(capacity);
    let mut index = 0;
    while index * TILE_WIDTH < size {
        let width = (size - index * TILE_WIDTH).min(TILE_WIDTH);
        let bundle = source.read(&entries_path(index, width))?;
        let width = usize::try_from(width).map_err(|e| TileError(format!("bundle width {width}: {e}")))?;
        out.extend(decode_bundle(&bundle, width)?);
        index += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_the_spec() {
        assert_eq!(index_path(1234067), "x001/x234/067");
        assert_eq!(index_path(0), "000");
        assert_eq!(tile_path(0, 0, 15), "tile/0/000.p/15");
        assert_eq!(entries_path(1, 256), "tile/entries/001");
        assert_eq!(parse_index(&["x001", "x234", "067"]), Some(1234067));
        assert_eq!(parse_index(&["67"]), None);
        assert_eq!(parse_index(&["x000", "067"]), None);
    }

    #[test]
    fn bundles_round_trip_and_truncation_is_refused() {
        let b = encode_bundle([&b"one"[..], b"two"]).unwrap();
        assert_eq!(decode_bundle(&b, 2).unwrap(), vec![b"one".to_vec(), b"two".to_vec()]);
        assert!(decode_bundle(&b[..b.len() - 1], 2).is_err());
        assert!(decode_bundle(&b, 3).is_err());
    }

    #[test]
    fn an_entry_too_long_for_a_u16_length_is_refused_not_wrapped() {
        let max = vec![7u8; usize::from(u16::MAX)];
        let b = encode_bundle([max.as_slice()]).unwrap();
        assert_eq!(decode_bundle(&b, 1).unwrap(), vec![max]);
        let over = vec![7u8; usize::from(u16::MAX) + 1];
        let err = encode_bundle([&b"ok"[..], over.as_slice()]).unwrap_err();
        assert!(err.0.contains("entry 1 of the bundle is 65536 bytes"), "{err}");
    }
}
