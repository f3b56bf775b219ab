//! `package-lock.json` and `npm-shrinkwrap.json` read as npm's Arborist
//! reads them: the `packages` map of lockfile versions 2 and 3, or the
//! `dependencies` tree of version 1 migrated to locations as Arborist does.
//!
//! Arborist resolves each key against the project root as a path
//! (`path.resolve`: a trailing slash, `.` and `..` segments and doubled
//! slashes all vanish), installs the entry at that location, and takes the
//! package's name from the entry's `name` (an alias) or else from the folder
//! (the path after the last `node_modules/`, with its `@scope`). ward does
//! the same, so `node_modules/./victim` is scanned as `victim`. What ward
//! cannot pin down is "could not evaluate", naming the key: a key that
//! escapes the project root or names no package folder, two keys for one
//! location, a name npm would refuse, a `name` that disagrees with the
//! registry tarball in `resolved`, or a `resolved` git repository.

use std::collections::BTreeMap;
use ward_core::{Component, PackageId, Unpinned};

/// Deepest v1 `dependencies` nesting read.
const MAX_V1_DEPTH: usize = 128;

/// Reads a parsed lockfile: its `packages` map, or, when there is none
/// (npm 6's lockfile version 1), its `dependencies` tree migrated to one
/// location per package as Arborist migrates it.
pub fn read(v: &serde_json::Value, source: &str) -> Result<(Vec<Component>, Vec<Unpinned>), String> {
    let miss = |key: &str, reason: String| Unpinned {
        entry: key.to_string(),
        source: source.to_string(),
        reason,
    };
    let (mut out, mut unevaluable) = (Vec::new(), Vec::new());
    let migrated;
    // Arborist: `if (lock.dependencies && !lock.packages)` migrate, else read `packages`.
    let packages = match (v.get("packages"), v.get("dependencies")) {
        (None | Some(serde_json::Value::Null), Some(serde_json::Value::Object(deps))) => {
            let mut map = serde_json::Map::new();
            migrate_v1("", deps, &mut map, &mut unevaluable, source, 0)?;
            migrated = map;
            &migrated
        }
        (Some(serde_json::Value::Object(p)), _) => p,
        _ => {
            let version = v.get("lockfileVersion").and_then(|x| x.as_u64()).unwrap_or(0);
            return Err(format!(
                "lockfileVersion {version} has neither a `packages` map nor a `dependencies` tree"
            ));
        }
    };
    // Normalised location to the keys that name it.
    let mut locations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, p) in packages {
        if key.is_empty() {
            continue;
        }
        let location = match normalise(key) {
            Ok(l) => l,
            Err(why) => {
                unevaluable.push(miss(key, why));
                continue;
            }
        };
        if location.is_empty() {
            // Another spelling of the root: npm would treat it as the project itself.
            unevaluable.push(miss(
                key,
                "names the project root, which npm reads from the empty key".into(),
            ));
            continue;
        }
        locations.entry(location.clone()).or_default().push(key.clone());
        if p.get("link").and_then(|l| l.as_bool()) == Some(true) {
            // A symlink to a folder in the project; its target has its own entry.
            continue;
        }
        let folder_name = match name_from_location(&location) {
            Some(Ok(n)) => n,
            // A folder outside any node_modules (a workspace) is local source,
            // unless it says it comes from elsewhere: then scan it as npm
            // names it (`@npmcli/name-from-folder`), to be safe.
            None => match p.get("resolved").and_then(|r| r.as_str()) {
                Some(r) if !r.starts_with("file:") => {
                    let mut segments = location.rsplit('/');
                    let base = segments.next().unwrap_or_default();
                    match segments.next() {
                        Some(scope) if scope.starts_with('@') => format!("{scope}/{base}"),
                        _ => base.to_string(),
                    }
                }
                _ => continue,
            },
            Some(Err(why)) => {
                unevaluable.push(miss(key, why));
                continue;
            }
        };
        let name = match p.get("name") {
            None => folder_name,
            Some(serde_json::Value::String(n)) => n.clone(),
            Some(other) => {
                unevaluable.push(miss(key, format!("`name` is not a string: {other}")));
                continue;
            }
        };
        if let Err(why) = check_npm_name(&name) {
            unevaluable.push(miss(key, format!("{name:?} is not a name npm accepts: {why}")));
            continue;
        }
        if let Some(resolved) = p.get("resolved").and_then(|r| r.as_str())
            && ["git+", "git:", "github:", "gitlab:", "bitbucket:"]
                .iter()
                .any(|g| resolved.starts_with(g))
        {
            // As pip's `-e git+…`: the code is a commit, not the release advisories describe.
            unevaluable.push(miss(
                key,
                format!("installed from the git repository {resolved}, not from the registry"),
            ));
            continue;
        }
        let Some(ver) = p.get("version").and_then(|x| x.as_str()) else {
            return Err(format!("{key} has no version"));
        };
        // npm fetches `resolved`, whatever `name` and `version` say: a
        // registry tarball must be this package at this version.
        if let Some(resolved) = p.get("resolved").and_then(|r| r.as_str())
            && let Some((fetched, file)) = registry_tarball(resolved)
        {
            if fetched != name {
                unevaluable.push(miss(
                    key,
                    format!("installed from {resolved}, which is the package {fetched:?}, not {name:?}"),
                ));
                continue;
            }
            let short = name.rsplit('/').next().unwrap_or(&name);
            let file_version = file
                .strip_suffix(".tgz")
                .and_then(|f| f.strip_prefix(short))
                .and_then(|f| f.strip_prefix('-'));
            if file_version != Some(ver) {
                unevaluable.push(miss(
                    key,
                    format!("installed from {resolved}, which is not {name} at the version {ver} the entry states"),
                ));
                continue;
            }
        }
        // package-lock.json v2/v3 copies each package's `license`.
        let mut c = Component::new(PackageId::npm(&name, Some(ver.to_string())), source);
        c.states_licenses = true;
        c.license = p.get("license").and_then(|l| l.as_str()).map(String::from);
        // `integrity` is the registry's SRI of the tarball npm installs.
        c.digests = p
            .get("integrity")
            .and_then(|i| i.as_str())
            .map(crate::malicious::sri_digests)
            .unwrap_or_default();
        out.push(c);
    }
    for (location, keys) in locations {
        if keys.len() > 1 {
            unevaluable.push(miss(
                &keys.join(", "),
                format!(
                    "{} keys name the one location {location}: which one npm installs there is not clear",
                    keys.len()
                ),
            ));
        }
    }
    Ok((out, unevaluable))
}

/// npm 6's `dependencies` tree as Arborist's `#loadAll` migrates it: each
/// entry at `PARENT/node_modules/NAME`, its version a plain version or an
/// alias (`npm:real@1.0.0`); a git, URL or file version is could not evaluate.
fn migrate_v1(
    parent: &str,
    deps: &serde_json::Map<String, serde_json::Value>,
    out: &mut serde_json::Map<String, serde_json::Value>,
    unevaluable: &mut Vec<Unpinned>,
    source: &str,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_V1_DEPTH {
        return Err(format!("`dependencies` nest deeper than {MAX_V1_DEPTH} levels"));
    }
    for (name, lock) in deps {
        let location = format!(
            "{parent}{}node_modules/{name}",
            if parent.is_empty() { "" } else { "/" }
        );
        let version = lock.get("version").and_then(|v| v.as_str()).unwrap_or_default();
        let mut meta = serde_json::Map::new();
        let plain = !version.is_empty()
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'));
        if let Some(alias) = version.strip_prefix("npm:") {
            // `npm:@scope/real@1.0.0`: the last `@` starts the version.
            match alias.rsplit_once('@').filter(|(n, _)| !n.is_empty()) {
                Some((real, v)) => {
                    meta.insert("name".into(), real.into());
                    meta.insert("version".into(), v.into());
                }
                None => {
                    unevaluable.push(Unpinned {
                        entry: location.clone(),
                        source: source.to_string(),
                        reason: format!("the alias {version:?} names no version"),
                    });
                    continue;
                }
            }
        } else if plain {
            meta.insert("version".into(), version.into());
        } else {
            unevaluable.push(Unpinned {
                entry: location.clone(),
                source: source.to_string(),
                reason: format!("version {version:?} is not a registry release (git, a URL or a file)"),
            });
            continue;
        }
        if let Some(r) = lock.get("resolved") {
            meta.insert("resolved".into(), r.clone());
        }
        if let Some(serde_json::Value::Object(children)) = lock.get("dependencies") {
            migrate_v1(&location, children, out, unevaluable, source, depth + 1)?;
        }
        out.insert(location, serde_json::Value::Object(meta));
    }
    Ok(())
}

/// A key as `path.resolve(root, key)` relative to the root: segments
/// joined by `/`, without empty or `.` segments, `..` applied.
fn normalise(key: &str) -> Result<String, String> {
    if key.starts_with('/') {
        return Err("an absolute path: outside the project".into());
    }
    if key.contains('\\') {
        return Err("contains a backslash, which npm on Windows reads as a path separator".into());
    }
    if key.chars().any(char::is_control) {
        return Err("contains a control character".into());
    }
    let mut out: Vec<&str> = Vec::new();
    for segment in key.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if out.pop().is_none() {
                    return Err("`..` leads outside the project".into());
                }
            }
            s => out.push(s),
        }
    }
    Ok(out.join("/"))
}

/// The package name Arborist takes from a normalised location: `None` for
/// a folder outside any `node_modules`, an error for a location that is
/// not a package folder (`node_modules/a/b`, `node_modules/a/node_modules`).
fn name_from_location(location: &str) -> Option<Result<String, String>> {
    let segments: Vec<&str> = location.split('/').collect();
    let last = segments.iter().rposition(|s| *s == "node_modules")?;
    let rest = &segments[last + 1..];
    Some(match rest {
        [name] if !name.starts_with('@') => Ok((*name).to_string()),
        [scope, name] if scope.starts_with('@') && scope.len() > 1 => Ok(format!("{scope}/{name}")),
        _ => Err(format!(
            "{location} is not a package folder (node_modules/NAME or node_modules/@SCOPE/NAME)"
        )),
    })
}

/// The rules of `validate-npm-package-name` that matter here: a name or
/// `@scope/name` of URL-safe characters, not starting with `.` or `_`.
fn check_npm_name(full: &str) -> Result<(), String> {
    if full.is_empty() || full.len() > 214 {
        return Err("empty or longer than 214 characters".into());
    }
    let (scope, name) = match full.strip_prefix('@') {
        Some(rest) => match rest.split_once('/') {
            Some((s, n)) => (Some(s), n),
            None => return Err("a scope without a name".into()),
        },
        None => (None, full),
    };
    let url_safe = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '!' | '~' | '*' | '\'' | '(' | ')'))
    };
    if scope.is_some_and(|s| !url_safe(s) || s.starts_with('.')) {
        return Err("the scope has characters that are not URL-safe".into());
    }
    if !url_safe(name) {
        return Err("characters that are not URL-safe".into());
    }
    if name.starts_with('.') || name.starts_with('_') {
        return Err("starts with `.` or `_`".into());
    }
    Ok(())
}

/// The package a registry tarball URL names (`…/NAME/-/NAME-1.0.0.tgz`,
/// `…/@SCOPE/NAME/-/NAME-1.0.0.tgz`, the scope's `/` also as `%2f`) and
/// the tarball's file name, or `None` for other sources (git, file, a
/// tarball elsewhere).
fn registry_tarball(resolved: &str) -> Option<(String, &str)> {
    let rest = resolved
        .strip_prefix("https://")
        .or_else(|| resolved.strip_prefix("http://"))?;
    let path = rest.split(['?', '#']).next()?;
    let (before, after) = path.rsplit_once("/-/")?;
    let file = after.rsplit('/').next()?;
    let decoded = before.replace("%2f", "/").replace("%2F", "/").replace("%40", "@");
    let mut segments = decoded.rsplit('/');
    let name = segments.next()?;
    Some(match segments.next() {
        Some(scope) if scope.starts_with('@') => (format!("{scope}/{name}"), file),
        _ => (name.to_string(), file),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_path_resolve() {
        assert_eq!(normalise("node_modules/a/../b/./c/").unwrap(), "node_modules/b/c");
        assert!(normalise("../x").is_err());
        assert!(normalise("node_modules/../..").is_err());
    }

    #[test]
    fn registry_names() {
        assert_eq!(
            registry_tarball("https://registry.npmjs.org/@s/x/-/x-1.0.0.tgz"),
            Some(("@s/x".to_string(), "x-1.0.0.tgz"))
        );
        assert_eq!(
            registry_tarball("https://registry.example/@s%2fx/-/x-1.0.0.tgz"),
            Some(("@s/x".to_string(), "x-1.0.0.tgz"))
        );
        // Artifactory repeats the scope after `/-/`.
        assert_eq!(
            registry_tarball("https://a.example/api/npm/r/@s/x/-/@s/x-1.0.0.tgz"),
            Some(("@s/x".to_string(), "x-1.0.0.tgz"))
        );
        assert_eq!(registry_tarball("git+ssh://git@github.com/a/b.git#abc"), None);
    }
}
