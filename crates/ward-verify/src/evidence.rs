//! Reading evidence files with limits: at most 64 MiB, JSON at most 128 deep.

use crate::VerifyError;
use std::io::Read;
use std::path::Path;

/// Largest evidence file accepted.
pub const MAX_EVIDENCE_BYTES: u64 = 64 << 20;
/// Deepest JSON nesting accepted.
pub const MAX_JSON_DEPTH: usize = 128;

/// Reads an evidence file, refusing one over [`MAX_EVIDENCE_BYTES`] without
/// reading past the limit.
pub fn read_evidence(path: &Path) -> Result<Vec<u8>, VerifyError> {
    let unreadable = |source| VerifyError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(MAX_EVIDENCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_EVIDENCE_BYTES {
        return Err(VerifyError::TooLarge {
            limit: MAX_EVIDENCE_BYTES,
        });
    }
    Ok(bytes)
}

/// Parses JSON after checking its nesting depth with a cheap scan, so a
/// hostile file gets a named reason instead of a parser's recursion error.
pub fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, VerifyError> {
    check_depth(bytes, MAX_JSON_DEPTH)?;
    serde_json::from_slice(bytes).map_err(|e| VerifyError::Malformed(format!("not valid JSON: {e}")))
}

/// Fails when brackets outside strings nest deeper than `limit`.
pub fn check_depth(bytes: &[u8], limit: usize) -> Result<(), VerifyError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(VerifyError::TooDeep { limit });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_limit_counts_only_structure() {
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(check_depth(ok.as_bytes(), 128).is_ok());
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(matches!(
            check_depth(deep.as_bytes(), 128),
            Err(VerifyError::TooDeep { .. })
        ));
        let in_string = format!("{{\"a\": \"{}\\\"\"}}", "[".repeat(500));
        assert!(check_depth(in_string.as_bytes(), 128).is_ok());
    }
}
