//! What a scan reads: lockfiles (`Cargo.lock`, `package-lock.json` and
//! `npm-shrinkwrap.json` v2/v3 (see [`crate::npm_lock`]), `requirements.txt`
//! with pins and the files it includes (see [`crate::requirements`]),
//! `poetry.lock`, `uv.lock`) and SBOMs (see [`crate::sbom`]) turned into
//! components with exact versions. A line or entry ward cannot pin down is
//! reported as "could not evaluate", never dropped.

use std::path::Path;
use ward_core::{Component, Ecosystem, PackageId, Unpinned};
use ward_input::{InputError, InputFile, limits};

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

/// Where a `Cargo.lock`, `poetry.lock` or `uv.lock` package comes from.
enum Origin {
    /// A registry: advisories about the name and version apply.
    Registry,
    /// The project's own code.
    Local,
    /// Somewhere else (a git commit, a URL, a file), described.
    Elsewhere(String),
}

fn origin(file_name: &str, p: &toml::Value) -> Origin {
    let source = p.get("source");
    let described = || source.map(|s| s.to_string()).unwrap_or_default();
    match file_name {
        // `source = "registry+…"`, `"sparse+…"`, `"git+…"`; none for path dependencies.
        "cargo.lock" => match source.and_then(|s| s.as_str()) {
            None => Origin::Local,
            Some(s) if s.starts_with("registry+") || s.starts_with("sparse+") => Origin::Registry,
            Some(s) => Origin::Elsewhere(s.to_string()),
        },
        // `source = { registry = … }`, `{ editable | virtual | directory = … }`, `{ git | url | path = … }`.
        "uv.lock" => match source.and_then(|s| s.as_table()) {
            Some(t) if t.contains_key("registry") => Origin::Registry,
            Some(t) if ["editable", "virtual", "directory"].iter().any(|k| t.contains_key(*k)) => Origin::Local,
            _ => Origin::Elsewhere(described()),
        },
        // `[package.source] type = "git" | "url" | "file" | "directory" | "legacy" | …`; none for PyPI.
        _ => match source.and_then(|s| s.get("type")).and_then(|t| t.as_str()) {
            None => Origin::Registry,
            Some("directory") => Origin::Local,
            Some("git" | "url" | "file") => Origin::Elsewhere(described()),
            Some(_) => Origin::Registry,
        },
    }
}

/// uv installs the files its lock names (`sdist`, `wheels`), so each must
/// be a distribution of this name at this version by its file name.
fn uv_files_match(p: &toml::Value, name: &str, version: &str) -> Result<(), String> {
    let wheels = p
        .get("wheels")
        .and_then(|w| w.as_array())
        .map(|w| w.iter().collect::<Vec<_>>())
        .unwrap_or_default();
    let files = p.get("sdist").into_iter().chain(wheels);
    let want_name = ward_core::purl::normalize_pypi_name(name);
    let same_version = |v: &str| {
        v == version
            || matches!(
                (v.parse::<pep440_rs::Version>(), version.parse::<pep440_rs::Version>()),
                (Ok(a), Ok(b)) if a == b
            )
    };
    for f in files {
        let Some(location) = ["url", "path", "filename"]
            .iter()
            .find_map(|k| f.get(*k).and_then(|u| u.as_str()))
        else {
            continue;
        };
        let file = location
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let parsed = if let Some(stem) = file.strip_suffix(".whl") {
            let mut parts = stem.split('-');
            parts.next().zip(parts.next())
        } else {
            [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
                .iter()
                .find_map(|ext| file.strip_suffix(ext))
                .and_then(|stem| stem.rsplit_once('-'))
        };
        match parsed {
            Some((n, v)) if ward_core::purl::normalize_pypi_name(n) == want_name && same_version(v) => {}
            _ => {
                return Err(format!(
                    "uv installs {location}, which is not {name} {version} by its file name"
                ));
            }
        }
    }
    Ok(())
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
            let Some(n) = p.get("name").and_then(|x| x.as_str()) else {
                return Err(bad("a [[package]] without a name".into()));
            };
            let version = p.get("version").and_then(|x| x.as_str());
            let entry = format!("{n}@{}", version.unwrap_or("?"));
            let miss = |reason: String| Unpinned {
                entry: entry.clone(),
                source: name.clone(),
                reason,
            };
            match origin(&file_name, p) {
                // The project's own code (path dependencies, workspace members).
                Origin::Local => continue,
                // A commit, a URL or a file: not the release advisories describe.
                Origin::Elsewhere(from) => {
                    unevaluable.push(miss(format!("installed from {from}, not from a registry")));
                    continue;
                }
                Origin::Registry => {}
            }
            let Some(v) = version else {
                return Err(bad(format!("[[package]] {n} has no version")));
            };
            if file_name == "uv.lock"
                && let Err(why) = uv_files_match(p, n, v)
            {
                unevaluable.push(miss(why));
                continue;
            }
            out.push(comp(eco, n, v));
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
