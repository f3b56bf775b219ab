//! Containment check for archive entry names.

use crate::error::ArchiveError;

/// Splits an entry name into its components, refusing anything an installer
/// could be tricked into writing outside its target directory: absolute
/// paths, drive letters, `..`, NUL bytes. Backslashes count as separators,
/// because some extractors on Windows treat them so.
pub(crate) fn entry_components(name: &str) -> Result<Vec<&str>, ArchiveError> {
    let bad = || ArchiveError::PathTraversal(name.to_string());
    if name.starts_with('/') || name.starts_with('\\') || name.contains('\0') {
        return Err(bad());
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Err(bad());
    }
    let mut parts = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            ".." => return Err(bad()),
            "" | "." => {}
            p => parts.push(p),
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_and_accepts_normal_paths() {
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a\\..\\x",
            "C:/x",
            "\\\\server\\x",
            "a\0b",
        ] {
            assert!(entry_components(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            entry_components("package/./lib//a.js").unwrap(),
            vec!["package", "lib", "a.js"]
        );
        assert_eq!(entry_components("x-1.0.dist-info/METADATA").unwrap().len(), 2);
    }
}
