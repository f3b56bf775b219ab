//! What `ward run` does about the clients' own configuration files that
//! would add package sources beside the proxy: pip's `extra-index-url` and
//! `find-links`, npm's (and pnpm's) per-scope `@scope:registry`, uv's
//! `extra-index-url` / `index` / `find-links`, and a project's cargo
//! `[source.crates-io] replace-with`.
//!
//! Files are never rewritten: each client is given an environment that
//! overrides them (the environment outranks configuration files in pip and
//! npm), uv is told to read no configuration file, and a cargo project whose
//! own configuration replaces crates-io (which outranks ward's replacement)
//! is refused. Every setting overridden is named to the user. The files are
//! read with a few lines of hand-written INI/TOML scanning (the `toml`
//! crate for TOML); nothing here is needed by anything but `ward run`.

use super::Usage;
use std::path::{Path, PathBuf};

/// The environment the command gets on top of the proxy's, and what to tell the user.
#[derive(Debug, Default)]
pub(super) struct Isolation {
    /// Variables to set for the command.
    pub env: Vec<(String, String)>,
    /// One line per configuration file setting overridden.
    pub notes: Vec<String>,
}

/// Reads the clients' configuration files as seen from `cwd` and returns
/// what overrides them, or a usage error for a source that cannot be overridden.
pub(super) fn isolate(cwd: &Path, base: &str) -> Result<Isolation, Usage> {
    let mut out = Isolation::default();
    pip(base, &mut out);
    npm(cwd, base, &mut out);
    uv(cwd, &mut out);
    cargo(cwd)?;
    Ok(out)
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

fn xdg_config() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".config")))
}

/// `cwd` and every directory above it.
fn ancestors(cwd: &Path) -> Vec<PathBuf> {
    cwd.ancestors().map(Path::to_path_buf).collect()
}

/// `key = value` lines of an INI-style file (pip.conf, .npmrc), any section.
fn ini_settings(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = ward_input::read_bounded(path, "client configuration", 1 << 20) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&text)
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with(['#', ';', '[']))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// pip: `extra-index-url` and `find-links` in a pip configuration file are
/// overridden from the environment, which outranks every file. pip ignores
/// an empty value, so they are set to the proxy's own index (asked twice,
/// nothing added) and to its root page (which links nothing).
fn pip(base: &str, out: &mut Isolation) {
    let mut files: Vec<PathBuf> = vec![PathBuf::from("/etc/xdg/pip/pip.conf"), PathBuf::from("/etc/pip.conf")];
    if let Some(h) = home() {
        files.push(h.join(".pip/pip.conf"));
    }
    if let Some(c) = xdg_config() {
        files.push(c.join("pip/pip.conf"));
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        files.push(PathBuf::from(venv).join("pip.conf"));
    }
    if let Some(f) = std::env::var_os("PIP_CONFIG_FILE") {
        files.push(PathBuf::from(f));
    }
    let mut any = false;
    for file in files {
        let found: Vec<String> = ini_settings(&file)
            .into_iter()
            .map(|(k, _)| k.replace('_', "-"))
            .filter(|k| k == "extra-index-url" || k == "find-links")
            .collect();
        if !found.is_empty() {
            any = true;
            out.notes.push(format!(
                "overrode {} in {} for this command",
                found.join(", "),
                file.display()
            ));
        }
    }
    if any {
        let index = format!("{base}/pypi/simple/");
        out.env.push(("PIP_EXTRA_INDEX_URL".into(), index.clone()));
        out.env.push(("PIP_FIND_LINKS".into(), index));
    }
}

/// npm and pnpm: a per-scope registry in the project's, the user's or the
/// global `.npmrc` is pointed at the proxy through `npm_config_@scope:registry`.
fn npm(cwd: &Path, base: &str, out: &mut Isolation) {
    let mut files: Vec<PathBuf> = ancestors(cwd).into_iter().map(|d| d.join(".npmrc")).collect();
    match std::env::var_os("npm_config_userconfig").or_else(|| std::env::var_os("NPM_CONFIG_USERCONFIG")) {
        Some(user) => files.push(PathBuf::from(user)),
        None => files.extend(home().map(|h| h.join(".npmrc"))),
    }
    if let Some(global) = std::env::var_os("npm_config_globalconfig") {
        files.push(PathBuf::from(global));
    }
    let ward = format!("{base}/npm/");
    let mut seen = std::collections::BTreeSet::new();
    for file in files {
        for (key, value) in ini_settings(&file) {
            let Some(scope) = key.strip_suffix(":registry").filter(|s| s.starts_with('@')) else {
                continue;
            };
            if value.trim_end_matches('/') == ward.trim_end_matches('/') || !seen.insert(scope.to_string()) {
                continue;
            }
            out.env.push((format!("npm_config_{scope}:registry"), ward.clone()));
            out.notes.push(format!(
                "pointed {scope} at ward for this command ({} names {value} for it)",
                file.display()
            ));
        }
    }
}

/// uv: a `uv.toml` or `pyproject.toml` `[tool.uv]` that adds indexes or
/// file sources means uv reads no configuration file for this command
/// (`UV_NO_CONFIG=1`; the proxy's index comes from the environment).
fn uv(cwd: &Path, out: &mut Isolation) {
    const KEYS: &[&str] = &["extra-index-url", "index", "find-links", "index-url"];
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for dir in ancestors(cwd) {
        files.push((dir.join("uv.toml"), false));
        files.push((dir.join("pyproject.toml"), true));
    }
    if let Some(c) = xdg_config() {
        files.push((c.join("uv/uv.toml"), false));
    }
    files.push((PathBuf::from("/etc/uv/uv.toml"), false));
    let mut found = Vec::new();
    for (file, in_pyproject) in files {
        let Ok(bytes) = ward_input::read_bounded(&file, "client configuration", 4 << 20) else {
            continue;
        };
        let Ok(doc) = toml::from_str::<toml::Table>(&String::from_utf8_lossy(&bytes)) else {
            continue;
        };
        let table = if in_pyproject {
            doc.get("tool")
                .and_then(|t| t.get("uv"))
                .and_then(|t| t.as_table())
                .cloned()
        } else {
            Some(doc)
        };
        let keys: Vec<&str> = KEYS
            .iter()
            .copied()
            .filter(|k| table.as_ref().is_some_and(|t| t.contains_key(*k)))
            .collect();
        if !keys.is_empty() {
            found.push(format!("{} in {}", keys.join(", "), file.display()));
        }
    }
    if !found.is_empty() {
        out.env.push(("UV_NO_CONFIG".into(), "1".into()));
        out.notes.push(format!(
            "uv reads no configuration file for this command (UV_NO_CONFIG=1): {}",
            found.join("; ")
        ));
    }
}

/// cargo: a project's `.cargo/config.toml` that replaces crates-io outranks
/// the replacement in ward's `CARGO_HOME` and cannot be overridden from the
/// environment: refused, naming the file.
fn cargo(cwd: &Path) -> Result<(), Usage> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".cargo")));
    for dir in ancestors(cwd) {
        let cargo_dir = dir.join(".cargo");
        // The user's own CARGO_HOME config is merged into ward's (see `cargo_home`).
        if home.as_deref() == Some(cargo_dir.as_path()) {
            continue;
        }
        for name in ["config.toml", "config"] {
            let file = cargo_dir.join(name);
            let Ok(bytes) = ward_input::read_bounded(&file, "cargo configuration", 4 << 20) else {
                continue;
            };
            let Ok(doc) = toml::from_str::<toml::Table>(&String::from_utf8_lossy(&bytes)) else {
                continue;
            };
            if let Some(with) = doc
                .get("source")
                .and_then(|s| s.get("crates-io"))
                .and_then(|c| c.get("replace-with"))
                .and_then(|r| r.as_str())
            {
                return Err(Usage(format!(
                    "{} replaces crates-io with {with:?}, which would bypass ward (a project's cargo configuration outranks ward's); remove [source.crates-io] there, or point it at a running `ward proxy`",
                    file.display()
                )));
            }
        }
    }
    Ok(())
}

/// The sources of the user's cargo configuration besides crates-io and
/// ward's own, removed from ward's copy of it: named for the user.
pub(super) fn cargo_sources_cleared(config: &mut toml::Table) -> Vec<String> {
    let Some(sources) = config.get_mut("source").and_then(|s| s.as_table_mut()) else {
        return Vec::new();
    };
    let others: Vec<String> = sources
        .keys()
        .filter(|k| *k != "crates-io" && *k != "ward")
        .cloned()
        .collect();
    for name in &others {
        sources.remove(name);
    }
    others
}
