//! What a scan reads: lockfiles (`Cargo.lock`, `package-lock.json` v2/v3,
//! `requirements.txt` with pins, `poetry.lock`, `uv.lock`) turned into
//! components with exact versions. A line or entry ward cannot pin down is
//! reported as "could not evaluate", never dropped.

use std::path::Path;
use ward_core::{Ecosystem, PackageId};

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
}

/// Largest lockfile read.
const MAX_LOCKFILE: u64 = 256 << 20;

/// Reads one lockfile.
pub fn read(path: &Path) -> Result<(Vec<Component>, Vec<Unpinned>), LockfileError> {
    let name = path.display().to_string();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let size = std::fs::metadata(path)
        .map_err(|e| LockfileError::Io(name.clone(), e))?
        .len();
    if size > MAX_LOCKFILE {
        return Err(LockfileError::Malformed(
            name,
            format!("larger than {MAX_LOCKFILE} bytes"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| LockfileError::Io(name.clone(), e))?;
    let known = matches!(file_name.as_str(), "cargo.lock" | "poetry.lock" | "uv.lock")
        || file_name.ends_with("package-lock.json")
        || (file_name.starts_with("requirements") && file_name.ends_with(".txt"));
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) if known => return Err(LockfileError::Malformed(name, format!("not UTF-8: {e}"))),
        // Binary: not a lockfile or SBOM (an artifact, perhaps).
        Err(_) => return Err(LockfileError::Unknown(name)),
    };
    let bad = |e: String| LockfileError::Malformed(name.clone(), e);
    let comp = |eco: Ecosystem, n: &str, v: &str| {
        Component::new(
            if eco == Ecosystem::Npm {
                PackageId::npm(n, Some(v.to_string()))
            } else {
                PackageId::new(eco, None, n, Some(v.to_string()))
            },
            name.clone(),
        )
    };
    if file_name == "cargo.lock" || file_name == "poetry.lock" || file_name == "uv.lock" {
        let eco = if file_name == "cargo.lock" {
            Ecosystem::Cargo
        } else {
            Ecosystem::Pypi
        };
        let table: toml::Table = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
        let mut out = Vec::new();
        for p in table.get("package").and_then(|p| p.as_array()).into_iter().flatten() {
            let (Some(n), Some(v)) = (
                p.get("name").and_then(|x| x.as_str()),
                p.get("version").and_then(|x| x.as_str()),
            ) else {
                return Err(bad("a [[package]] without name or version".into()));
            };
            // Path and git dependencies are not from the registry the advisories describe.
            let source = p.get("source").map(|s| s.to_string()).unwrap_or_default();
            let local = if eco == Ecosystem::Cargo {
                !source.contains("registry+") && !source.contains("sparse+")
            } else {
                source.contains("editable") || source.contains("virtual") || source.contains("directory")
            };
            if !local {
                out.push(comp(eco, n, v));
            }
        }
        return Ok((out, Vec::new()));
    }
    if file_name == "package-lock.json" || file_name.ends_with("package-lock.json") {
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let version = v.get("lockfileVersion").and_then(|x| x.as_u64()).unwrap_or(0);
        let packages = v.get("packages").and_then(|p| p.as_object()).ok_or_else(|| {
            bad(format!(
                "lockfileVersion {version} has no `packages` (ward reads v2 and v3)"
            ))
        })?;
        let mut out = Vec::new();
        for (key, p) in packages {
            if key.is_empty() || p.get("link").and_then(|l| l.as_bool()) == Some(true) {
                continue;
            }
            let Some(n) = key
                .rsplit("node_modules/")
                .next()
                .filter(|_| key.contains("node_modules/"))
            else {
                continue;
            };
            let n = p.get("name").and_then(|x| x.as_str()).unwrap_or(n);
            match p.get("version").and_then(|x| x.as_str()) {
                Some(ver) => {
                    // package-lock.json v2/v3 copies each package's `license`.
                    let mut c = comp(Ecosystem::Npm, n, ver);
                    c.states_licenses = true;
                    c.license = p.get("license").and_then(|l| l.as_str()).map(String::from);
                    out.push(c);
                }
                None => return Err(bad(format!("{key} has no version"))),
            }
        }
        return Ok((out, Vec::new()));
    }
    if file_name.starts_with("requirements") && file_name.ends_with(".txt") {
        let (mut out, mut unpinned) = (Vec::new(), Vec::new());
        for line in text.lines() {
            let line = line.split(" #").next().unwrap_or_default().trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
                continue;
            }
            let spec = line.split(';').next().unwrap_or_default().trim();
            let spec = spec.split(" --hash").next().unwrap_or_default().trim();
            match spec.split_once("==") {
                Some((n, v)) if !v.contains('*') && !n.trim().is_empty() => {
                    let n = n.split('[').next().unwrap_or(n).trim();
                    out.push(comp(Ecosystem::Pypi, n, v.trim()));
                }
                _ => unpinned.push(Unpinned {
                    entry: spec.to_string(),
                    source: name.clone(),
                    reason: "not pinned with `==`: the installed version is unknown".into(),
                }),
            }
        }
        return Ok((out, unpinned));
    }
    if file_name.ends_with(".json") {
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if crate::sbom::is_sbom(&v) {
            return crate::sbom::read(&v, &name).map_err(bad);
        }
    }
    Err(LockfileError::Unknown(name))
}
