//! One way to read an input file: bounded, regular files only.
//!
//! Every file ward reads that a user or an attacker can name (policy files and
//! the keys, Rego and VEX files they point at, lockfiles, SBOMs, evidence, the
//! ledger's own checkpoint, advisory data, artifacts) goes through
//! [`InputFile`]. It opens the path without blocking (a FIFO with no writer
//! would otherwise hang the open), checks on the open handle that it is a
//! regular file (not a FIFO, socket, character or block device, or
//! directory), and reads at most the limit the caller gives, refusing a file
//! that is larger rather than truncating it. A pipe is accepted only when the
//! caller says one is intended ([`InputFile::allow_pipe`]).
//!
//! This is written by hand because it is a few lines over `std`; no crate
//! offers the open-without-blocking plus file-type check in one call.

#![forbid(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be opened or its type read.
    #[error("{what} {}: {source}", path.display())]
    Open {
        /// What the file is for, e.g. "policy file".
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The path names something other than a regular file.
    #[error("{what} {}: is a {kind}, not a regular file", path.display())]
    NotRegular {
        /// What the file is for.
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// What it is instead: "directory", "FIFO", "character device", …
        kind: &'static str,
    },
    /// The file is larger than the limit for its kind.
    #[error("{what} {}: larger than the {limit}-byte limit", path.display())]
    TooLarge {
        /// What the file is for.
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// Reading failed part way.
    #[error("{what} {}: read failed: {source}", path.display())]
    Read {
        /// What the file is for.
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not UTF-8 where text was required.
    #[error("{what} {}: not valid UTF-8: {source}", path.display())]
    NotUtf8 {
        /// What the file is for.
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// Where the first invalid byte is.
        source: std::str::Utf8Error,
    },
}

impl InputError {
    /// Whether the file does not exist: for the callers to whom a missing
    /// file means "none yet" (a first run), not a failure.
    pub fn is_not_found(&self) -> bool {
        matches!(self, InputError::Open { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Limits for the kinds of input ward reads. One place, so docs/security.md
/// can list them and a reviewer can see them side by side.
pub mod limits {
    /// A policy file, or a key, Rego or VEX file it names.
    pub const POLICY: u64 = 4 << 20;
    /// A PEM public key or npm `keys.json`.
    pub const KEY: u64 = 1 << 20;
    /// A lockfile, requirements file or SBOM.
    pub const LOCKFILE: u64 = 64 << 20;
    /// Evidence: bundles, attestations, signatures.
    pub const EVIDENCE: u64 = 64 << 20;
    /// A ledger checkpoint (a signed note of a few lines).
    pub const CHECKPOINT: u64 = 64 << 10;
    /// One advisory file.
    pub const ADVISORY: u64 = 16 << 20;
}

/// A file about to be read under a bound. Build with [`InputFile::new`].
#[derive(Debug, Clone)]
pub struct InputFile<'a> {
    path: &'a Path,
    what: &'static str,
    limit: u64,
    allow_pipe: bool,
}

impl<'a> InputFile<'a> {
    /// `what` names the file's role in errors ("policy file", "lockfile").
    pub fn new(path: &'a Path, what: &'static str, limit: u64) -> Self {
        Self {
            path,
            what,
            limit,
            allow_pipe: false,
        }
    }

    /// Accept a FIFO (as from `<(cmd)` in a shell); opening then waits for a
    /// writer, as the user asked.
    pub fn allow_pipe(mut self, allow: bool) -> Self {
        self.allow_pipe = allow;
        self
    }

    /// Opens the file and checks its type, without reading it. For callers
    /// that stream (artifact hashing): the caller is responsible for its own
    /// bound on what it reads.
    pub fn open(&self) -> Result<File, InputError> {
        let mut options = OpenOptions::new();
        options.read(true);
        if !self.allow_pipe {
            // Opening a FIFO without O_NONBLOCK waits for a writer forever;
            // with it the open returns at once and the type check refuses it.
            options.custom_flags(libc::O_NONBLOCK);
        }
        let file = options.open(self.path).map_err(|source| self.open_error(source))?;
        let file_type = file.metadata().map_err(|source| self.open_error(source))?.file_type();
        let kind = if file_type.is_file() {
            None
        } else if file_type.is_fifo() {
            (!self.allow_pipe).then_some("FIFO")
        } else if file_type.is_dir() {
            Some("directory")
        } else if file_type.is_char_device() {
            Some("character device")
        } else if file_type.is_block_device() {
            Some("block device")
        } else if file_type.is_socket() {
            Some("socket")
        } else {
            Some("special file")
        };
        match kind {
            Some(kind) => Err(InputError::NotRegular {
                what: self.what,
                path: self.path.to_path_buf(),
                kind,
            }),
            None => Ok(file),
        }
    }

    /// Reads the whole file, refusing one over the limit without reading
    /// past it.
    pub fn read(&self) -> Result<Vec<u8>, InputError> {
        let file = self.open()?;
        let mut bytes = Vec::new();
        file.take(self.limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|source| InputError::Read {
                what: self.what,
                path: self.path.to_path_buf(),
                source,
            })?;
        if bytes.len() as u64 > self.limit {
            return Err(InputError::TooLarge {
                what: self.what,
                path: self.path.to_path_buf(),
                limit: self.limit,
            });
        }
        Ok(bytes)
    }

    /// Reads the whole file as UTF-8 text.
    pub fn read_to_string(&self) -> Result<String, InputError> {
        String::from_utf8(self.read()?).map_err(|e| InputError::NotUtf8 {
            what: self.what,
            path: self.path.to_path_buf(),
            source: e.utf8_error(),
        })
    }

    fn open_error(&self, source: std::io::Error) -> InputError {
        InputError::Open {
            what: self.what,
            path: self.path.to_path_buf(),
            source,
        }
    }
}

/// Shorthand for `InputFile::new(path, what, limit).read()`.
pub fn read_bounded(path: &Path, what: &'static str, limit: u64) -> Result<Vec<u8>, InputError> {
    InputFile::new(path, what, limit).read()
}

/// Shorthand for `InputFile::new(path, what, limit).read_to_string()`.
pub fn read_string_bounded(path: &Path, what: &'static str, limit: u64) -> Result<String, InputError> {
    InputFile::new(path, what, limit).read_to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"hello").unwrap();
        assert_eq!(read_bounded(&path, "test file", 5).unwrap(), b"hello");
    }

    #[test]
    fn refuses_a_file_over_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"hello!").unwrap();
        let err = read_bounded(&path, "test file", 5).unwrap_err();
        assert!(matches!(err, InputError::TooLarge { limit: 5, .. }), "{err}");
    }

    #[test]
    fn refuses_dev_zero_without_reading_it() {
        let err = read_bounded(Path::new("/dev/zero"), "checkpoint", 1 << 30).unwrap_err();
        assert!(
            matches!(
                err,
                InputError::NotRegular {
                    kind: "character device",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("not a regular file"));
    }

    #[test]
    fn refuses_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_bounded(dir.path(), "policy file", 10).unwrap_err();
        assert!(matches!(err, InputError::NotRegular { kind: "directory", .. }), "{err}");
    }

    #[test]
    fn refuses_a_fifo_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(status.success());
        let err = read_bounded(&path, "lockfile", 10).unwrap_err();
        assert!(matches!(err, InputError::NotRegular { kind: "FIFO", .. }), "{err}");
    }

    #[test]
    fn reads_a_fifo_when_a_pipe_is_intended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(status.success());
        let writer_path = path.clone();
        let writer = std::thread::spawn(move || std::fs::write(writer_path, b"piped").unwrap());
        let bytes = InputFile::new(&path, "lockfile", 10).allow_pipe(true).read().unwrap();
        writer.join().unwrap();
        assert_eq!(bytes, b"piped");
    }

    #[test]
    fn a_missing_file_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            read_bounded(&dir.path().join("absent"), "state", 10)
                .unwrap_err()
                .is_not_found()
        );
        assert!(!read_bounded(dir.path(), "state", 10).unwrap_err().is_not_found());
    }

    #[test]
    fn text_must_be_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        let err = read_string_bounded(&path, "policy file", 10).unwrap_err();
        assert!(matches!(err, InputError::NotUtf8 { .. }), "{err}");
    }
}
