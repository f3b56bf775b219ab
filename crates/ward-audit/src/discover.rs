//! Which environments a path given to `ward audit` holds: a Python
//! virtual environment or site directory, a `node_modules` tree (or a
//! project holding one), a cargo `vendor/` directory (or a project holding
//! one), a cargo home. Only the path and its direct children are looked at.

use crate::error::AuditError;
use crate::model::{Environment, EnvironmentKind};
use std::path::{Path, PathBuf};

fn is_dir(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
}

fn children(dir: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let io = |source| AuditError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        out.push(e.map_err(io)?.path());
    }
    out.sort();
    Ok(out)
}

fn has_dist_info(dir: &Path) -> Result<bool, AuditError> {
    // Streams the listing: a directory of a million entries is read once, not held.
    let io = |source| AuditError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for e in std::fs::read_dir(dir).map_err(io)? {
        let e = e.map_err(io)?;
        if e.file_name().to_string_lossy().ends_with(".dist-info") && e.file_type().is_ok_and(|t| t.is_dir()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The site directories of a virtual environment (`lib/python*/site-packages`).
fn venv_sites(venv: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let mut out = Vec::new();
    for lib in ["lib", "lib64"] {
        let dir = venv.join(lib);
        if !is_dir(&dir) {
            continue;
        }
        for py in children(&dir)? {
            let site = py.join("site-packages");
            if py
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python"))
                && is_dir(&site)
            {
                out.push(site);
            }
        }
    }
    Ok(out)
}

fn is_vendor(dir: &Path) -> Result<bool, AuditError> {
    let io = |source| AuditError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for e in std::fs::read_dir(dir).map_err(io)? {
        if e.map_err(io)?.path().join(".cargo-checksum.json").is_file() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The environments at `path` (at least one, else an error).
pub(crate) fn environments(path: &Path) -> Result<Vec<Environment>, AuditError> {
    let meta = std::fs::metadata(path).map_err(|source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(AuditError::NotAnEnvironment(path.to_path_buf()));
    }
    let env = |p: PathBuf, kind| Environment { path: p, kind };
    let mut out = Vec::new();
    if path.join("pyvenv.cfg").is_file() {
        out.extend(venv_sites(path)?.into_iter().map(|s| env(s, EnvironmentKind::Python)));
    } else if has_dist_info(path)? {
        out.push(env(path.to_path_buf(), EnvironmentKind::Python));
    }
    if path.file_name().is_some_and(|n| n == "node_modules") {
        out.push(env(path.to_path_buf(), EnvironmentKind::Npm));
    } else if is_dir(&path.join("node_modules")) {
        out.push(env(path.join("node_modules"), EnvironmentKind::Npm));
    }
    if is_dir(&path.join("registry/src")) {
        out.push(env(path.to_path_buf(), EnvironmentKind::CargoHome));
    }
    if is_vendor(path)? {
        out.push(env(path.to_path_buf(), EnvironmentKind::CargoVendor));
    } else if is_dir(&path.join("vendor")) && is_vendor(&path.join("vendor"))? {
        out.push(env(path.join("vendor"), EnvironmentKind::CargoVendor));
    }
    if out.is_empty() {
        return Err(AuditError::NotAnEnvironment(path.to_path_buf()));
    }
    Ok(out)
}

/// The root a Python site directory's manifests may name paths in: the
/// virtual environment (or prefix) when the site directory is
/// `PREFIX/lib/pythonX.Y/site-packages`, else the site directory itself.
pub(crate) fn python_root(site: &Path) -> PathBuf {
    let named = |p: &Path, f: &dyn Fn(&str) -> bool| p.file_name().is_some_and(|n| f(&n.to_string_lossy()));
    if named(site, &|n| n == "site-packages" || n == "dist-packages")
        && let Some(py) = site.parent()
        && named(py, &|n| n.starts_with("python"))
        && let Some(lib) = py.parent()
        && named(lib, &|n| n == "lib" || n == "lib64")
        && let Some(prefix) = lib.parent()
    {
        return prefix.to_path_buf();
    }
    site.to_path_buf()
}
