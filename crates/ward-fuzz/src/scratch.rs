//! Scratch space for targets whose public API takes a path: a fresh
//! temporary directory per input (under `$TMPDIR`; `scripts/fuzz.sh`
//! points it at a tmpfs), removed when the input is done.

use std::path::{Path, PathBuf};

/// A fresh scratch directory, or `None` when none can be made (the input
/// is then skipped: the machine, not the parser, failed).
pub(crate) fn dir() -> Option<tempfile::TempDir> {
    tempfile::Builder::new().prefix("ward-fuzz-").tempdir().ok()
}

/// Writes `data` to `dir/name` (creating parent directories).
pub(crate) fn write(dir: &Path, name: &str, data: &[u8]) -> Option<PathBuf> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).ok()?;
    }
    std::fs::write(&path, data).ok()?;
    Some(path)
}

/// This crate's `assets/` directory (keys, Rego rules and a VEX document a
/// fuzzed policy may name, a bundle template for certificates).
pub(crate) fn assets() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/assets"))
}

/// Splits `data` at `sep` into exactly `n` parts (missing parts are empty,
/// extra separators stay in the last part).
pub(crate) fn split(data: &[u8], sep: &[u8], n: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    let mut rest = data;
    while out.len() + 1 < n {
        match rest.windows(sep.len()).position(|w| w == sep) {
            Some(i) => {
                out.push(rest[..i].to_vec());
                rest = &rest[i + sep.len()..];
            }
            None => break,
        }
    }
    out.push(rest.to_vec());
    out.resize(n, Vec::new());
    out
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_pads_and_keeps_extra_separators_in_the_last_part() {
        assert_eq!(split(b"a|b", b"|", 3), vec![b"a".to_vec(), b"b".to_vec(), Vec::new()]);
        assert_eq!(
            split(b"a|b|c|d", b"|", 3),
            vec![b"a".to_vec(), b"b".to_vec(), b"c|d".to_vec()]
        );
        assert_eq!(split(b"", b"|", 2), vec![Vec::<u8>::new(), Vec::new()]);
    }
}
