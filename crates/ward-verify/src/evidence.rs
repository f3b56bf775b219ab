//! Reading evidence files with limits: regular files only, at most 64 MiB,
//! JSON at most 128 deep.
//!
//! Every read goes through [`ward_input::InputFile`]: a FIFO, device,
//! socket or directory named as evidence is refused at once (a FIFO is
//! opened without waiting for a writer), and nothing past the limit is read.
//!
//! An [`EvidenceFile`] is read once and keeps its bytes with their SHA-256:
//! the bytes that are verified are the bytes whose digest the decision
//! record names, and its label names where they came from (a file the user
//! gave, or the URL the proxy fetched), never a temporary path.

use crate::VerifyError;
use sha2::Digest as _;
use std::path::Path;
use std::sync::Arc;
use ward_core::{EvidenceRef, Sha256};
use ward_input::{InputError, InputFile};

/// One evidence file, read once: its label, its bytes and their SHA-256.
#[derive(Clone, Debug)]
pub struct EvidenceFile {
    label: String,
    bytes: Arc<[u8]>,
    sha256: Sha256,
}

impl EvidenceFile {
    /// Reads `path` through the bounded reader (at most
    /// [`MAX_EVIDENCE_BYTES`], regular files only), naming it `label`.
    /// Over the limit is [`VerifyError::TooLarge`] (a failed check); any
    /// other failure is [`VerifyError::Unreadable`].
    pub fn read(path: &Path, label: impl Into<String>) -> Result<Self, VerifyError> {
        Ok(Self::from_bytes(label, read_evidence(path)?))
    }

    /// Evidence already in memory (fetched by the proxy, embedded in a test).
    pub fn from_bytes(label: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        let bytes = bytes.into();
        let sha256 = Sha256(sha2::Sha256::digest(&bytes).into());
        Self {
            label: label.into(),
            bytes,
            sha256,
        }
    }

    /// Where the bytes came from, as reports and the ledger name them.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The bytes, exactly as read.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// SHA-256 of [`Self::bytes`].
    pub fn sha256(&self) -> Sha256 {
        self.sha256
    }

    /// How the decision record names this file.
    pub fn evidence_ref(&self) -> EvidenceRef {
        EvidenceRef {
            uri: self.label.clone(),
            sha256: self.sha256.to_hex(),
        }
    }
}

/// Largest evidence file accepted.
pub const MAX_EVIDENCE_BYTES: u64 = ward_input::limits::EVIDENCE;
/// Deepest JSON nesting accepted.
pub const MAX_JSON_DEPTH: usize = 128;

/// Reads an evidence file, refusing one over [`MAX_EVIDENCE_BYTES`] without
/// reading past the limit, and anything but a regular file without reading
/// at all (unreadable: exit code 2).
pub fn read_evidence(path: &Path) -> Result<Vec<u8>, VerifyError> {
    InputFile::new(path, "evidence file", MAX_EVIDENCE_BYTES)
        .read()
        .map_err(|e| input_error(path, e))
}

/// Turns a bounded reader's error into ours: over the limit is
/// [`VerifyError::TooLarge`] (a failed check); everything else means the
/// file cannot be read ([`VerifyError::Unreadable`]).
pub(crate) fn input_error(path: &Path, e: InputError) -> VerifyError {
    let source = match e {
        InputError::TooLarge { limit, .. } => return VerifyError::TooLarge { limit },
        InputError::Open { source, .. } | InputError::Read { source, .. } => source,
        InputError::NotRegular { kind, .. } => std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("is a {kind}, not a regular file"),
        ),
        other => std::io::Error::other(other.to_string()),
    };
    VerifyError::Unreadable {
        path: path.to_path_buf(),
        source,
    }
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

    /// The digest an evidence file is recorded under is the digest of the
    /// bytes that were read (and so verified), under the label it was given.
    #[test]
    fn evidence_file_names_the_bytes_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sigstore.json");
        std::fs::write(&path, b"{}").unwrap();
        let file = EvidenceFile::read(&path, "https://example.invalid/b.sigstore.json").unwrap();
        std::fs::write(&path, b"other bytes").unwrap();
        assert_eq!(file.bytes(), b"{}");
        let r = file.evidence_ref();
        assert_eq!(r.uri, "https://example.invalid/b.sigstore.json");
        // sha256("{}")
        assert_eq!(
            r.sha256,
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    /// Issue 10, finding 15: a device or a FIFO is refused at once.
    #[test]
    fn special_files_are_refused_without_reading() {
        let e = read_evidence(Path::new("/dev/zero")).unwrap_err();
        assert!(e.is_unreadable() && e.to_string().contains("character device"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let e = read_evidence(&fifo).unwrap_err();
        assert!(e.is_unreadable() && e.to_string().contains("FIFO"), "{e}");
        let e = read_evidence(dir.path()).unwrap_err();
        assert!(e.is_unreadable() && e.to_string().contains("directory"), "{e}");
    }
}
