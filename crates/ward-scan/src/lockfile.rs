//! The TOML lockfiles: `Cargo.lock`, `poetry.lock` and `uv.lock`, turned
//! into components with exact versions, as cargo, Poetry and uv read them
//! (which packages come from a registry, which from the project itself or
//! from elsewhere). A package ward cannot pin down is reported as "could
//! not evaluate", never dropped. Which reader a file goes to is decided in
//! [`crate::target`].

use ward_core::{Component, Ecosystem, PackageId, Unpinned};

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

/// Reads the registry packages of a `Cargo.lock`, `poetry.lock` or
/// `uv.lock` (`file_name` in lower case says which); `source` names the
/// file in what is reported. Path dependencies and workspace members are
/// the project's own code and skipped; a package from a git commit, a URL
/// or a file is reported as could not evaluate.
pub fn read_toml_lock(file_name: &str, text: &str, source: &str) -> Result<(Vec<Component>, Vec<Unpinned>), String> {
    let eco = if file_name == "cargo.lock" {
        Ecosystem::Cargo
    } else {
        Ecosystem::Pypi
    };
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let (mut out, mut unevaluable) = (Vec::new(), Vec::new());
    let packages = table.get("package").and_then(|p| p.as_array());
    // The line of each `[[package]]` header, in one pass: the array's
    // entries are its headers in order. A file that writes the array
    // another way (inline) gets no lines rather than wrong ones.
    let headers: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[package]]")
        .map(|(i, _)| i + 1)
        .collect();
    let lines = (packages.map(Vec::len) == Some(headers.len())).then_some(headers);
    for (index, p) in packages.into_iter().flatten().enumerate() {
        let Some(n) = p.get("name").and_then(|x| x.as_str()) else {
            return Err("a [[package]] without a name".into());
        };
        let version = p.get("version").and_then(|x| x.as_str());
        let entry = format!("{n}@{}", version.unwrap_or("?"));
        let miss = |reason: String| Unpinned {
            entry: entry.clone(),
            source: source.to_string(),
            reason,
        };
        match origin(file_name, p) {
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
            return Err(format!("[[package]] {n} has no version"));
        };
        if file_name == "uv.lock"
            && let Err(why) = uv_files_match(p, n, v)
        {
            unevaluable.push(miss(why));
            continue;
        }
        let mut c = Component::new(PackageId::new(eco, None, n, Some(v.to_string())), source.to_string());
        c.line = lines.as_ref().and_then(|l| l.get(index).copied());
        out.push(c);
    }
    Ok((out, unevaluable))
}
