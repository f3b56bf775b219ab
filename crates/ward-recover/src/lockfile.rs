//! Lockfiles in and out.
//!
//! In: what a lockfile pins, with the digests it records for each artifact
//! (`requirements.txt` `--hash=sha256:`, `package-lock.json` and npm's
//! hidden `node_modules/.package-lock.json` `integrity`, `Cargo.lock`
//! `checksum`). A pin without a digest cannot be matched with an allow, so
//! it is reported, not guessed at.
//!
//! Out: hash-pinned lockfiles for a set of artifacts, in the form each
//! client installs from with its own hash check: pip `--require-hashes`,
//! `npm ci` (integrity), cargo (checksum).
//!
//! Written by hand: the three formats are small and stable, and the
//! writers only ever emit the fields listed here. Reading the full
//! grammars for scanning stays in `ward-scan`.

use crate::RecoverError;
use base64::Engine as _;
use serde_json::json;
use std::path::Path;
use ward_core::{Ecosystem, PackageId};

/// One artifact a lockfile pins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pinned {
    /// The package (with version).
    pub id: PackageId,
    /// Digests the lockfile records, as (`sha256` | `sha512`, lower-case hex).
    pub digests: Vec<(String, String)>,
    /// Where the package is installed, when the lockfile says (npm: `node_modules/a/node_modules/b`).
    pub location: Option<String>,
}

/// What kind of lockfile a path is, by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `requirements*.txt`.
    Requirements,
    /// `package-lock.json`, `npm-shrinkwrap.json`, `.package-lock.json`.
    NpmLock,
    /// `Cargo.lock`.
    CargoLock,
}

impl Kind {
    /// The kind a file name names, if any.
    pub fn of(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?;
        match name {
            "package-lock.json" | "npm-shrinkwrap.json" | ".package-lock.json" => Some(Self::NpmLock),
            "Cargo.lock" => Some(Self::CargoLock),
            n if n.ends_with(".txt") && n.contains("requirements") => Some(Self::Requirements),
            _ => None,
        }
    }

    /// The ecosystem this lockfile installs from.
    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Self::Requirements => Ecosystem::Pypi,
            Self::NpmLock => Ecosystem::Npm,
            Self::CargoLock => Ecosystem::Cargo,
        }
    }

    /// The lockfile name ward writes for an ecosystem.
    pub fn for_ecosystem(ecosystem: Ecosystem) -> Option<Self> {
        match ecosystem {
            Ecosystem::Pypi => Some(Self::Requirements),
            Ecosystem::Npm => Some(Self::NpmLock),
            Ecosystem::Cargo => Some(Self::CargoLock),
            _ => None,
        }
    }

    /// The file name ward writes.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Requirements => "requirements.txt",
            Self::NpmLock => "package-lock.json",
            Self::CargoLock => "Cargo.lock",
        }
    }
}

/// Reads a lockfile (bounded) and returns what it pins.
pub fn read(path: &Path) -> Result<Vec<Pinned>, RecoverError> {
    let kind = Kind::of(path).ok_or_else(|| {
        RecoverError::format(
            path.display(),
            "not a lockfile ward reads for snapshots (requirements*.txt with --hash, package-lock.json, Cargo.lock)",
        )
    })?;
    let text = ward_input::read_string_bounded(path, "lockfile", ward_input::limits::LOCKFILE)?;
    let shown = path.display().to_string();
    match kind {
        Kind::Requirements => read_requirements(&text, &shown),
        Kind::NpmLock => read_npm_lock(&text, &shown),
        Kind::CargoLock => read_cargo_lock(&text, &shown),
    }
}

/// `name==version --hash=sha256:… …`, one requirement a logical line
/// (backslash continuations joined, `#` comments dropped as pip drops them).
pub fn read_requirements(text: &str, source: &str) -> Result<Vec<Pinned>, RecoverError> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for line in text.lines() {
        let line = match line.find(" #").or_else(|| line.starts_with('#').then_some(0)) {
            Some(i) => &line[..i],
            None => line,
        };
        if let Some(cont) = line.trim_end().strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let whole = std::mem::take(&mut logical);
        let mut words = whole.split_whitespace();
        let Some(spec) = words.next() else { continue };
        if spec.starts_with('-') {
            continue;
        }
        let Some((name, version)) = spec.split_once("==") else {
            return Err(RecoverError::format(
                source,
                format!("{spec:?} is not pinned to one version (name==version)"),
            ));
        };
        let name = name.split('[').next().unwrap_or(name).trim();
        let version = version.split(';').next().unwrap_or(version).trim();
        let digests = words
            .filter_map(|w| w.strip_prefix("--hash="))
            .filter_map(|h| h.split_once(':'))
            .filter(|(alg, _)| matches!(*alg, "sha256" | "sha512"))
            .map(|(alg, hex)| (alg.to_string(), hex.to_ascii_lowercase()))
            .collect();
        out.push(Pinned {
            id: PackageId::new(Ecosystem::Pypi, None, name, Some(version.to_string())),
            digests,
            location: None,
        });
    }
    Ok(out)
}

/// The `packages` map of a lockfile version 2 or 3 (or npm's hidden lockfile).
pub fn read_npm_lock(text: &str, source: &str) -> Result<Vec<Pinned>, RecoverError> {
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| RecoverError::format(source, format!("not JSON: {e}")))?;
    let packages = doc.get("packages").and_then(|p| p.as_object()).ok_or_else(|| {
        RecoverError::format(
            source,
            "no `packages` map (lockfile version 2 or 3 is needed; run npm 7 or later)",
        )
    })?;
    let mut out = Vec::new();
    for (key, entry) in packages {
        let Some(at) = key.rfind("node_modules/") else {
            continue;
        };
        if entry.get("link").and_then(|l| l.as_bool()) == Some(true) {
            continue;
        }
        let name = &key[at + "node_modules/".len()..];
        let version = entry
            .get("version")
            .and_then(|v| v.as_str())
            .ok_or_else(|| RecoverError::format(source, format!("{key:?} has no version")))?;
        let digests = entry
            .get("integrity")
            .and_then(|i| i.as_str())
            .map(ward_scan::malicious::sri_digests)
            .unwrap_or_default();
        out.push(Pinned {
            id: PackageId::npm(name, Some(version.to_string())),
            digests,
            location: Some(key.clone()),
        });
    }
    Ok(out)
}

/// `[[package]]` entries from a registry, with their `checksum` (the
/// `.crate` file's SHA-256). Path and git packages pin no registry bytes
/// and are left out.
pub fn read_cargo_lock(text: &str, source: &str) -> Result<Vec<Pinned>, RecoverError> {
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Package>,
    }
    #[derive(serde::Deserialize)]
    struct Package {
        name: String,
        version: String,
        source: Option<String>,
        checksum: Option<String>,
    }
    let lock: Lock = toml::from_str(text).map_err(|e| RecoverError::format(source, e.to_string()))?;
    Ok(lock
        .package
        .into_iter()
        .filter(|p| {
            p.source
                .as_deref()
                .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
        })
        .map(|p| Pinned {
            id: PackageId::new(Ecosystem::Cargo, None, p.name, Some(p.version)),
            digests: p
                .checksum
                .map(|c| vec![("sha256".to_string(), c.to_ascii_lowercase())])
                .unwrap_or_default(),
            location: None,
        })
        .collect())
}

/// One artifact to write into a lockfile.
#[derive(Clone, Debug)]
pub struct Locked {
    /// The package (with version).
    pub id: PackageId,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// SHA-512, lower-case hex (npm's integrity); needed for npm.
    pub sha512: Option<String>,
    /// npm: where it is installed (`node_modules/NAME` when not given).
    pub location: Option<String>,
}

fn version_of(id: &PackageId) -> &str {
    id.version.as_deref().unwrap_or_default()
}

/// `requirements.txt` for `pip install --require-hashes`: one pinned
/// requirement per artifact, sorted by name.
pub fn write_requirements(set: &[Locked]) -> String {
    let mut lines: Vec<String> = set
        .iter()
        .map(|l| {
            format!(
                "{}=={} \\\n    --hash=sha256:{}\n",
                l.id.normalized_name(),
                version_of(&l.id),
                l.sha256
            )
        })
        .collect();
    lines.sort();
    let mut out =
        String::from("# Written by ward rollback: install with pip install --require-hashes -r requirements.txt\n");
    for l in lines {
        out.push_str(&l);
    }
    out
}

/// npm `integrity` (SRI) of a SHA-512 hex digest.
pub fn sri_sha512(hex_digest: &str) -> Option<String> {
    let bytes = hex::decode(hex_digest).ok()?;
    Some(format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// A `package.json` and a `package-lock.json` (version 3) that `npm ci`
/// installs exactly: every package at the top level of `node_modules` is a
/// dependency of the root, each entry carries its `integrity`. Fails when a
/// member lacks its SHA-512 (npm checks nothing weaker).
pub fn write_npm(set: &[Locked], project: &str) -> Result<(String, String), RecoverError> {
    let mut deps = serde_json::Map::new();
    let mut packages = serde_json::Map::new();
    for l in set {
        let name = l.id.full_name();
        let location = l.location.clone().unwrap_or_else(|| format!("node_modules/{name}"));
        let integrity = l
            .sha512
            .as_deref()
            .and_then(sri_sha512)
            .ok_or_else(|| RecoverError::Usage(format!("{} has no SHA-512 for npm's integrity", l.id)))?;
        if location == format!("node_modules/{name}") {
            deps.insert(name.clone(), json!(version_of(&l.id)));
        }
        packages.insert(location, json!({"version": version_of(&l.id), "integrity": integrity}));
    }
    let mut all = serde_json::Map::new();
    all.insert(
        String::new(),
        json!({"name": project, "version": "0.0.0", "dependencies": deps.clone()}),
    );
    all.extend(packages);
    let manifest = json!({"name": project, "version": "0.0.0", "private": true, "dependencies": deps});
    let lock = json!({"name": project, "version": "0.0.0", "lockfileVersion": 3, "requires": true, "packages": all});
    let text = |v: &serde_json::Value| serde_json::to_string_pretty(v).map(|s| s + "\n");
    let manifest = text(&manifest).map_err(|e| RecoverError::Usage(e.to_string()))?;
    let lock = text(&lock).map_err(|e| RecoverError::Usage(e.to_string()))?;
    Ok((manifest, lock))
}

/// A `Cargo.lock` (version 4) listing each crate from crates.io with its checksum.
pub fn write_cargo_lock(set: &[Locked]) -> String {
    let mut crates: Vec<&Locked> = set.iter().collect();
    crates.sort_by(|a, b| (a.id.name.as_str(), version_of(&a.id)).cmp(&(b.id.name.as_str(), version_of(&b.id))));
    let mut out = String::from("# Written by ward rollback.\nversion = 4\n");
    for l in crates {
        out.push_str(&format!(
            "\n[[package]]\nname = \"{}\"\nversion = \"{}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n",
            l.id.name,
            version_of(&l.id),
            l.sha256
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(purl: &str, sha: &str) -> Locked {
        Locked {
            id: purl.parse().unwrap(),
            sha256: sha.repeat(64),
            sha512: Some(sha.repeat(128)),
            location: None,
        }
    }

    #[test]
    fn requirements_round_trip_with_their_hashes() {
        let text = write_requirements(&[locked("pkg:pypi/demo-pkg@1.0.0", "a"), locked("pkg:pypi/b@2", "b")]);
        let back = read_requirements(&text, "r.txt").unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].id.to_purl(), "pkg:pypi/b@2");
        assert_eq!(back[1].digests, vec![("sha256".to_string(), "a".repeat(64))]);
    }

    #[test]
    fn an_unpinned_requirement_is_refused() {
        assert!(read_requirements("demo>=1\n", "r.txt").is_err());
    }

    #[test]
    fn npm_lock_round_trips_with_integrity_and_locations() {
        let mut nested = locked("pkg:npm/ms@2.1.3", "c");
        nested.location = Some("node_modules/debug/node_modules/ms".into());
        let (manifest, lock) = write_npm(&[locked("pkg:npm/%40ctrl/tinycolor@4.1.0", "d"), nested], "app").unwrap();
        let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        assert_eq!(m["dependencies"]["@ctrl/tinycolor"], "4.1.0");
        assert!(
            m["dependencies"].get("ms").is_none(),
            "nested packages are not root dependencies"
        );
        let back = read_npm_lock(&lock, "package-lock.json").unwrap();
        assert_eq!(back.len(), 2);
        let ms = back.iter().find(|p| p.id.name == "ms").unwrap();
        assert_eq!(ms.location.as_deref(), Some("node_modules/debug/node_modules/ms"));
        assert_eq!(ms.digests, vec![("sha512".to_string(), "c".repeat(128))]);
    }

    #[test]
    fn cargo_lock_round_trips_with_checksums() {
        let text = write_cargo_lock(&[locked("pkg:cargo/demo-crate@1.0.0", "e")]);
        let back = read_cargo_lock(&text, "Cargo.lock").unwrap();
        assert_eq!(back[0].id.to_purl(), "pkg:cargo/demo-crate@1.0.0");
        assert_eq!(back[0].digests[0].1, "e".repeat(64));
    }
}
