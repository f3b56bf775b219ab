//! What a path holds, as pins to snapshot or compare: a lockfile, an npm
//! project (its `node_modules/.package-lock.json`, which npm writes with
//! each package's `integrity`), or a Python site directory (each
//! `*.dist-info`'s name and version, tied to the artifact the ledger
//! allowed for that version).
//!
//! A Python environment does not record which wheel it was installed from
//! (pip keeps no artifact digest), so a distribution is tied to the one
//! artifact the ledger allowed for its name and version; when the ledger
//! allowed several different artifacts for one version (several wheels),
//! the pin carries no digest and counts as unvetted rather than guessed.
//! `ward audit` checks each installed file against the allowed artifact;
//! this module only names the set.

use crate::RecoverError;
use crate::allows::AllowIndex;
use crate::lockfile::{self, Pinned};
use crate::plan::Present;
use std::path::{Path, PathBuf};
use ward_core::{Ecosystem, PackageId};

/// Largest `METADATA` file read.
const MAX_METADATA: u64 = 1 << 20;
/// Most `.dist-info` directories read in one site directory.
const MAX_DISTRIBUTIONS: usize = 100_000;

/// The npm hidden lockfile of a project or `node_modules` directory.
fn npm_hidden_lock(path: &Path) -> Option<PathBuf> {
    [
        path.join("node_modules/.package-lock.json"),
        path.join(".package-lock.json"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// The pins at `path`.
pub fn read(path: &Path, allows: &AllowIndex) -> Result<Vec<Pinned>, RecoverError> {
    let meta = std::fs::metadata(path).map_err(|e| RecoverError::io(path, e))?;
    if meta.is_file() {
        return lockfile::read(path);
    }
    if let Some(lock) = npm_hidden_lock(path) {
        let text = ward_input::read_string_bounded(&lock, "npm hidden lockfile", ward_input::limits::LOCKFILE)?;
        let mut pins = lockfile::read_npm_lock(&text, &lock.display().to_string())?;
        // Inside node_modules/, the keys are still written from the project root.
        for p in &mut pins {
            if let Some(l) = &p.location
                && !l.starts_with("node_modules/")
            {
                p.location = Some(format!("node_modules/{l}"));
            }
        }
        return Ok(pins);
    }
    python(path, allows)
}

/// The distributions of a Python site directory.
pub fn python(dir: &Path, allows: &AllowIndex) -> Result<Vec<Pinned>, RecoverError> {
    let mut pins = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| RecoverError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| RecoverError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.ends_with(".dist-info") || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if pins.len() >= MAX_DISTRIBUTIONS {
            return Err(RecoverError::format(
                dir.display(),
                format!("more than {MAX_DISTRIBUTIONS} distributions"),
            ));
        }
        let metadata = entry.path().join("METADATA");
        let text = ward_input::read_string_bounded(&metadata, "METADATA", MAX_METADATA)?;
        let field = |key: &str| {
            text.lines()
                .take_while(|l| !l.is_empty())
                .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
        };
        let (Some(n), Some(v)) = (field("Name:"), field("Version:")) else {
            return Err(RecoverError::format(metadata.display(), "no Name or Version"));
        };
        let id = PackageId::new(Ecosystem::Pypi, None, n, Some(v));
        let purl = id.to_purl();
        let mut digests: Vec<String> = allows.of_purl(&purl).map(|a| a.sha256.clone()).collect();
        digests.sort();
        digests.dedup();
        let digests = match digests.as_slice() {
            [one] => vec![("sha256".to_string(), one.clone())],
            _ => Vec::new(),
        };
        pins.push(Pinned {
            id,
            digests,
            location: None,
        });
    }
    if pins.is_empty() {
        return Err(RecoverError::Usage(format!(
            "{}: no installed packages ward can read (a lockfile, an npm project with node_modules, or a Python site directory with *.dist-info)",
            dir.display()
        )));
    }
    pins.sort_by(|a, b| a.id.to_purl().cmp(&b.id.to_purl()));
    Ok(pins)
}

/// What is installed, for a plan's difference: each pin with the SHA-256
/// of its artifact where it is known (directly, or through the allow of
/// its SHA-512).
pub fn present(pins: &[Pinned], allows: &AllowIndex) -> Vec<Present> {
    pins.iter()
        .map(|p| {
            let sha256 = p.digests.iter().find_map(|(alg, hex)| match alg.as_str() {
                "sha256" => Some(hex.clone()),
                _ => allows.first(alg, hex).map(|a| a.sha256.clone()),
            });
            Present {
                id: p.id.clone(),
                location: p.location.clone(),
                sha256,
            }
        })
        .collect()
}
