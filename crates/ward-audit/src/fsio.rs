//! Reading an installed tree without trusting it: bounded reads of
//! metadata, streamed SHA-256 that notices a file changing under it,
//! symbolic links never followed, FIFOs never waited on, and lexical path
//! resolution for what manifests name.
//!
//! Files are opened with `O_NOFOLLOW | O_NONBLOCK` and checked to be
//! regular files on the opened descriptor, so a link swapped in between a
//! check and the open is not followed either.

use sha2::Digest as _;
use std::fs::{File, Metadata};
use std::io::Read as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Component, Path, PathBuf};

/// Why a file's bytes could not be had.
#[derive(Debug)]
pub(crate) enum ReadProblem {
    /// Not there.
    NotFound,
    /// A symbolic link, a directory, a FIFO or a device: not opened.
    NotAFile(&'static str),
    /// Larger than the bound (its size).
    TooLarge(u64),
    /// It changed while it was read.
    Changed,
    /// Permissions, I/O.
    Io(std::io::Error),
}

impl std::fmt::Display for ReadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadProblem::NotFound => f.write_str("not found"),
            ReadProblem::NotAFile(kind) => write!(f, "a {kind}, not a regular file"),
            ReadProblem::TooLarge(n) => write!(f, "{n} bytes, over the limit"),
            ReadProblem::Changed => f.write_str("it changed while being read"),
            ReadProblem::Io(e) => write!(f, "{e}"),
        }
    }
}

fn io(e: std::io::Error) -> ReadProblem {
    if e.kind() == std::io::ErrorKind::NotFound {
        ReadProblem::NotFound
    } else if e.raw_os_error() == Some(libc::ELOOP) {
        ReadProblem::NotAFile("symbolic link")
    } else {
        ReadProblem::Io(e)
    }
}

/// What kind of thing metadata describes, in words.
pub(crate) fn kind_of(m: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let t = m.file_type();
    if t.is_symlink() {
        "symbolic link"
    } else if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() || t.is_char_device() {
        "device"
    } else {
        "regular file"
    }
}

/// Opens a regular file without following a link or waiting on a FIFO.
pub(crate) fn open_file(path: &Path) -> Result<(File, Metadata), ReadProblem> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(ReadProblem::NotAFile(kind_of(&meta)));
    }
    Ok((file, meta))
}

/// A file's bytes, at most `limit` of them (a larger file is refused
/// without being read).
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadProblem> {
    let (file, meta) = open_file(path)?;
    if meta.len() > limit {
        return Err(ReadProblem::TooLarge(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadProblem::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// A file's SHA-256 (lower-case hex) and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hashed {
    pub(crate) sha256: String,
    pub(crate) size: u64,
}

fn stamp(m: &Metadata) -> (u64, i64, i64, i64, i64, u64) {
    (m.len(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec(), m.ino())
}

/// Hashes a regular file in one streamed pass. A file whose size, times or
/// inode differ after the pass from before it, or that yields another
/// number of bytes than its size, `Changed`.
pub(crate) fn hash_file(path: &Path) -> Result<Hashed, ReadProblem> {
    let (mut file, before) = open_file(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    let after = file.metadata().map_err(io)?;
    if stamp(&before) != stamp(&after) || total != after.len() {
        return Err(ReadProblem::Changed);
    }
    Ok(Hashed {
        sha256: hex::encode(hasher.finalize()),
        size: total,
    })
}

/// `rel` (a path a manifest names, `/`-separated) resolved lexically under
/// `base`, or `None` when it is absolute or its `..` climb out of `root`
/// (`base` must be inside `root`). Nothing is looked up on disk.
pub(crate) fn resolve_within(root: &Path, base: &Path, rel: &str) -> Option<PathBuf> {
    let rel_path = Path::new(rel);
    if rel_path.is_absolute() || rel.contains('\0') {
        return None;
    }
    let mut out = base.strip_prefix(root).ok()?.to_path_buf();
    for c in rel_path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(root.join(out))
}

/// The first directory on the part of `abs` that a manifest path added to
/// `base` (what lies below their common prefix, the file itself excepted)
/// that is a symbolic link, with its target: a file reached through it is
/// not the file the manifest names, and is never opened. Directories are
/// looked at with `lstat`, never followed.
pub(crate) fn linked_parent(base: &Path, abs: &Path) -> Option<(PathBuf, PathBuf)> {
    let common = base
        .components()
        .zip(abs.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut dir: PathBuf = abs.components().take(common).collect();
    let parent = abs.parent()?;
    let below: Vec<Component<'_>> = parent.components().skip(common).collect();
    for c in below {
        dir.push(c);
        let meta = std::fs::symlink_metadata(&dir).ok()?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&dir).unwrap_or_default();
            return Some((dir, target));
        }
    }
    None
}

/// Whether a symbolic link at `link` (inside `package`) pointing at
/// `target` stays inside `package`, read lexically (never followed).
pub(crate) fn link_stays_within(package: &Path, link: &Path, target: &Path) -> bool {
    let Some(dir) = link.parent() else {
        return false;
    };
    let Some(text) = target.to_str() else {
        return false;
    };
    resolve_within(package, dir, text).is_some()
}

/// A relative path as text with `/` separators (lossy for names that are
/// not UTF-8, which are then also reported by their lossy form).
pub(crate) fn rel_text(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_resolve_only_within_the_root() {
        let root = Path::new("/env");
        let site = Path::new("/env/lib/python3.11/site-packages");
        assert_eq!(
            resolve_within(root, site, "../../../bin/pip"),
            Some(PathBuf::from("/env/bin/pip"))
        );
        assert_eq!(resolve_within(root, site, "../../../../etc/passwd"), None);
        assert_eq!(resolve_within(root, site, "/etc/passwd"), None);
        assert_eq!(resolve_within(root, site, "a/./b/../c.py"), Some(site.join("a/c.py")));
    }

    /// A file that yields other bytes than its size while it is read (as a
    /// file being appended to does; `/proc` files do it every time) is
    /// `Changed`, never hashed as if it were one state.
    #[test]
    fn a_file_that_changes_while_hashed_is_not_given_a_digest() {
        assert!(matches!(
            hash_file(Path::new("/proc/self/status")),
            Err(ReadProblem::Changed)
        ));
    }

    #[test]
    fn a_fifo_is_not_waited_on_and_a_link_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(matches!(hash_file(&fifo), Err(ReadProblem::NotAFile("FIFO"))));
        }
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        assert!(matches!(
            hash_file(&dir.path().join("link")),
            Err(ReadProblem::NotAFile("symbolic link"))
        ));
        std::fs::write(dir.path().join("big"), vec![b'x'; 100]).unwrap();
        assert!(matches!(
            read_bounded(&dir.path().join("big"), 10),
            Err(ReadProblem::TooLarge(100))
        ));
    }
}
