//! What a scan reads: lockfiles (`Cargo.lock`, `package-lock.json` and
//! `npm-shrinkwrap.json` v2/v3 (see [`crate::npm_lock`]), `requirements.txt`
//! with pins and the files it includes (see [`crate::requirements`]),
//! `poetry.lock`, `uv.lock`) and SBOMs (see [`crate::sbom`]) turned into
//! components with exact versions. A line or entry ward cannot pin down is
//! reported as "could not evaluate", never dropped.

use std::path::Path;
use ward_core::{Ecosystem, PackageId};
use ward_input::{InputError, InputFile, limits};

/// A package at an exact version, and where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    /// The package (with version).
    pub id: PackageId,
    /// The file it came from.
    pub source: String,
    /// The declared licence (SPDX expression), when the source states one.
    pub license: Option<String>,
    /// Whether the source states licences at all (an SBOM or lockfile
    /// that does, but not for this component, leaves it unknown).
    pub states_licenses: bool,
}

impl Component {
    /// A component from a source that states no licences.
    pub fn new(id: PackageId, source: impl Into<String>) -> Self {
        Self {
            id,
            source: source.into(),
            license: None,
            states_licenses: false,
        }
    }
}

/// An entry that names a package but not an exact version.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unpinned {
    /// What was read.
    pub entry: String,
    /// The file.
    pub source: String,
    /// Why it cannot be evaluated.
    pub reason: String,
}

/// Why a target cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockfileError {
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

/// Reads one scan target: a lockfile or SBOM by its name, or `Unknown` for
/// anything else (an artifact, which the caller verifies). Every target is
/// first opened without blocking and refused unless it is a regular file,
/// so a FIFO or device fails at once; what is read is read under
/// [`ward_input::limits::LOCKFILE`].
pub fn read(path: &Path) -> Result<(Vec<Component>, Vec<Unpinned>), LockfileError> {
    let name = path.display().to_string();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let input = InputFile::new(path, "scan target", limits::LOCKFILE);
    drop(input.open()?);
    let npm_lock = file_name.ends_with("package-lock.json") || file_name == "npm-shrinkwrap.json";
    let requirements = file_name.starts_with("requirements") && file_name.ends_with(".txt");
    let known = matches!(file_name.as_str(), "cargo.lock" | "poetry.lock" | "uv.lock") || npm_lock || requirements;
    if !known && !file_name.ends_with(".json") {
        return Err(LockfileError::Unknown(name));
    }
    let text = match input.read_to_string() {
        Ok(t) => t,
        // Binary: not a lockfile or SBOM (an artifact, perhaps).
        Err(InputError::NotUtf8 { .. }) if !known => return Err(LockfileError::Unknown(name)),
        Err(e) => return Err(e.into()),
    };
    let bad = |e: String| LockfileError::Malformed(name.clone(), e);
    let comp = |eco: Ecosystem, n: &str, v: &str| {
        Component::new(PackageId::new(eco, None, n, Some(v.to_string())), name.clone())
    };
    if file_name == "cargo.lock" || file_name == "poetry.lock" || file_name == "uv.lock" {
        let eco = if file_name == "cargo.lock" {
            Ecosystem::Cargo
        } else {
            Ecosystem::Pypi
        };
        let table: toml::Table = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
        let (mut out, mut unevaluable) = (Vec::new(), Vec::new());
        for p in table.get("package").and_then(|p| p.as_array()).into_iter().flatten() {
            let (Some(n), Some(v)) = (
                p.get("name").and_then(|x| x.as_str()),
                p.get("version").and_then(|x| x.as_str()),
            ) else {
                return Err(bad("a [[package]] without name or version".into()));
            };
            // Path dependencies are the project's own code; git dependencies
            // are commits, not the releases advisories describe: could not evaluate.
            let source = p.get("source").map(|s| s.to_string()).unwrap_or_default();
            if eco == Ecosystem::Cargo && source.contains("git+") {
                unevaluable.push(Unpinned {
                    entry: format!("{n}@{v}"),
                    source: name.clone(),
                    reason: format!("installed from the git repository {source}, not from a registry"),
                });
                continue;
            }
            let local = if eco == Ecosystem::Cargo {
                !source.contains("registry+") && !source.contains("sparse+")
            } else {
                source.contains("editable") || source.contains("virtual") || source.contains("directory")
            };
            if !local {
                out.push(comp(eco, n, v));
            }
        }
        return Ok((out, unevaluable));
    }
    if npm_lock {
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        return crate::npm_lock::read(&v, &name).map_err(bad);
    }
    if requirements {
        return crate::requirements::read(path, &text).map_err(|e| LockfileError::Io(name.clone(), e));
    }
    if file_name.ends_with(".json") {
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if crate::sbom::is_sbom(&v) {
            return crate::sbom::read(&v, &name).map_err(bad);
        }
    }
    Err(LockfileError::Unknown(name))
}
