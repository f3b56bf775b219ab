//! What `ward scan` is pointed at: a lockfile or SBOM, recognised by its
//! name (and, for JSON, by its content), opened safely and handed to the
//! reader for its format:
//!
//! - `Cargo.lock`, `poetry.lock`, `uv.lock`: [`crate::lockfile`];
//! - `package-lock.json`, `npm-shrinkwrap.json` (v2/v3): [`crate::npm_lock`];
//! - `requirements*.txt` with pins and the files it includes:
//!   [`crate::requirements`];
//! - CycloneDX and SPDX JSON: [`crate::sbom`].
//!
//! Anything else is [`TargetError::Unknown`]: an artifact, perhaps, which
//! the caller verifies and scans by what its attestations say.

use std::path::Path;
use ward_core::{Component, Unpinned};
use ward_input::{InputError, InputFile, limits};

/// Why a target cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Unreadable.
    #[error("cannot read {0}: {1}")]
    Io(String, std::io::Error),
    /// Not a format ward reads.
    #[error(
        "{0}: not a target ward reads (Cargo.lock, package-lock.json, requirements*.txt, poetry.lock, uv.lock, CycloneDX or SPDX JSON)"
    )]
    Unknown(String),
    /// Malformed.
    #[error("{0}: {1}")]
    Malformed(String, String),
    /// Not a regular file, too large, or not text.
    #[error(transparent)]
    Input(#[from] InputError),
}

/// The formats a target can be, by its file name (lower case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// `Cargo.lock`, `poetry.lock`, `uv.lock`.
    TomlLock,
    /// `package-lock.json`, `npm-shrinkwrap.json`.
    NpmLock,
    /// `requirements*.txt`.
    Requirements,
    /// Some other `.json`: an SBOM if its content says so.
    Json,
}

fn format_of(file_name: &str) -> Option<Format> {
    if matches!(file_name, "cargo.lock" | "poetry.lock" | "uv.lock") {
        Some(Format::TomlLock)
    } else if file_name.ends_with("package-lock.json") || file_name == "npm-shrinkwrap.json" {
        Some(Format::NpmLock)
    } else if file_name.starts_with("requirements") && file_name.ends_with(".txt") {
        Some(Format::Requirements)
    } else if file_name.ends_with(".json") {
        Some(Format::Json)
    } else {
        None
    }
}

/// Reads one scan target: a lockfile or SBOM by its name, or `Unknown` for
/// anything else (an artifact, which the caller verifies). Every target is
/// first opened without blocking and refused unless it is a regular file,
/// so a FIFO or device fails at once; what is read is read under
/// [`ward_input::limits::LOCKFILE`].
pub fn read(path: &Path) -> Result<(Vec<Component>, Vec<Unpinned>), TargetError> {
    let name = path.display().to_string();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let input = InputFile::new(path, "scan target", limits::LOCKFILE);
    drop(input.open()?);
    let Some(format) = format_of(&file_name) else {
        return Err(TargetError::Unknown(name));
    };
    let text = match input.read_to_string() {
        Ok(t) => t,
        // Binary: not a lockfile or SBOM (an artifact, perhaps).
        Err(InputError::NotUtf8 { .. }) if format == Format::Json => return Err(TargetError::Unknown(name)),
        Err(e) => return Err(e.into()),
    };
    let bad = |e: String| TargetError::Malformed(name.clone(), e);
    match format {
        Format::TomlLock => crate::lockfile::read_toml_lock(&file_name, &text, &name).map_err(bad),
        Format::NpmLock => {
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
            crate::npm_lock::read(&v, &name).map_err(bad)
        }
        Format::Requirements => crate::requirements::read(path, &text).map_err(|e| TargetError::Io(name.clone(), e)),
        Format::Json => {
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
            if crate::sbom::is_sbom(&v) {
                crate::sbom::read(&v, &name).map_err(bad)
            } else {
                Err(TargetError::Unknown(name))
            }
        }
    }
}
