//! npm: every package directory under `node_modules` (scoped and nested
//! ones too). `package.json` gives the name and version (read with a
//! bound, never whole), `node_modules/.package-lock.json` (npm's hidden
//! lockfile) the tarball's `integrity`, looked up in the ledger by its
//! SHA-512; every file is compared with the allowed tarball from the proxy
//! cache. npm keeps no per-file digests, so without that tarball the files
//! are `unverifiable`. Package directories that are symbolic links
//! (`npm link`, workspaces) are reported when they leave the tree and
//! never followed.

use crate::archive::Packing;
use crate::compare::{Expected, Findings};
use crate::context::AuditContext;
use crate::fsio::{self, ReadProblem};
use crate::model::{AlertKind, ArtifactDigest, FileState, Installed};
use crate::run::Checked;
use crate::vet::{self, Artifacts};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use ward_core::{Ecosystem, PackageId};

/// A package directory found under `node_modules`.
pub(crate) enum Found {
    /// A directory to audit.
    Package(PathBuf),
    /// A symbolic link where a package would be (reported, not followed).
    Link(PathBuf, PathBuf),
    /// A directory that could not be listed.
    Unreadable(PathBuf, std::io::Error),
}

/// The package directories under a `node_modules` directory, depth first,
/// nested `node_modules` included. Dot entries (`.bin`, `.cache`,
/// `.package-lock.json`) are npm's own.
pub(crate) fn packages(node_modules: &Path, out: &mut Vec<Found>) {
    let entries = match std::fs::read_dir(node_modules) {
        Ok(e) => e,
        Err(e) => {
            out.push(Found::Unreadable(node_modules.to_path_buf(), e));
            return;
        }
    };
    let mut names: Vec<PathBuf> = Vec::new();
    for e in entries {
        match e {
            Ok(e) if e.file_name().to_string_lossy().starts_with('.') => {}
            Ok(e) => names.push(e.path()),
            Err(e) => out.push(Found::Unreadable(node_modules.to_path_buf(), e)),
        }
    }
    names.sort();
    for p in names {
        let scoped = p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('@'));
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&p).unwrap_or_default();
                out.push(Found::Link(p, target));
            }
            Ok(m) if m.is_dir() && scoped => packages(&p, out),
            Ok(m) if m.is_dir() => {
                out.push(Found::Package(p.clone()));
                let nested = p.join("node_modules");
                if std::fs::symlink_metadata(&nested).is_ok_and(|m| m.is_dir()) {
                    packages(&nested, out);
                }
            }
            Ok(_) => {}
            Err(e) => out.push(Found::Unreadable(p, e)),
        }
    }
}

/// `node_modules/.package-lock.json`: each package path's integrity
/// (`sha512-<base64>` as hex). Read with the manifest bound.
pub(crate) fn hidden_lock(ctx: &AuditContext<'_>, node_modules: &Path) -> Result<HashMap<String, String>, String> {
    let path = node_modules.join(".package-lock.json");
    let bytes = match fsio::read_bounded(&path, ctx.limits.manifest_bytes) {
        Ok(b) => b,
        Err(ReadProblem::NotFound) => return Ok(HashMap::new()),
        Err(p) => return Err(format!("{}: {p}", path.display())),
    };
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = HashMap::new();
    if let Some(packages) = v["packages"].as_object() {
        for (key, entry) in packages {
            let sha512 = entry["integrity"].as_str().and_then(|sri| {
                ward_scan::malicious::sri_digests(sri)
                    .into_iter()
                    .find_map(|(alg, hex)| (alg == "sha512").then_some(hex))
            });
            if let Some(h) = sha512 {
                out.insert(key.clone(), h);
            }
        }
    }
    Ok(out)
}

/// Audits one package directory of the tree rooted at `node_modules`
/// (the top one), with the hidden lockfile's integrity values.
pub(crate) fn check(
    ctx: &AuditContext<'_>,
    node_modules: &Path,
    dir: &Path,
    integrity: &HashMap<String, String>,
) -> Checked {
    let rel_dir = dir.strip_prefix(node_modules).map(fsio::rel_text).unwrap_or_default();
    let generic = PackageId::new(Ecosystem::Generic, None, rel_dir.clone(), None);
    let mut f = Findings::new(generic, dir.to_path_buf(), ctx.limits.findings_per_package);
    let manifest = dir.join("package.json");
    let (name, version) = match fsio::read_bounded(&manifest, ctx.limits.metadata_bytes) {
        Ok(bytes) => {
            match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(v) => {
                    let (n, ver) = (v["name"].as_str(), v["version"].as_str());
                    if n.is_none() || ver.is_none() {
                        f.add_file(
                        AlertKind::Unverifiable,
                        "package.json",
                        None,
                        None,
                        format!("package.json of {rel_dir} has no name or version: its files cannot be tied to a package"),
                    );
                    }
                    (n.map(str::to_string), ver.map(str::to_string))
                }
                Err(e) => {
                    f.add_file(
                        AlertKind::Unverifiable,
                        "package.json",
                        None,
                        None,
                        format!("package.json is not JSON: {e}"),
                    );
                    (None, None)
                }
            }
        }
        Err(ReadProblem::Io(e)) => {
            f.add_file(
                AlertKind::Unreadable,
                "package.json",
                None,
                None,
                format!("package.json: {e}"),
            );
            (None, None)
        }
        Err(p) => {
            let found = match &p {
                ReadProblem::TooLarge(n) => Some(FileState::file(None, Some(*n))),
                _ => None,
            };
            f.add_file(
                AlertKind::Unverifiable,
                "package.json",
                None,
                found,
                format!(
                    "package.json: {p} (read up to {} bytes, never whole)",
                    ctx.limits.metadata_bytes
                ),
            );
            (None, None)
        }
    };
    let id = match (&name, &version) {
        (Some(n), Some(v)) => PackageId::npm(n, Some(v.clone())),
        _ => {
            // Not identified: nothing to vet; the finding above says why.
            return finish(f, dir, node_modules, None, None, None);
        }
    };
    f.package = id.clone();
    let lock_key = format!(
        "node_modules/{}",
        dir.strip_prefix(node_modules).map(fsio::rel_text).unwrap_or_default()
    );
    let known = integrity.get(&lock_key).map(|h| ArtifactDigest {
        sha256: None,
        sha512: Some(h.clone()),
    });
    let mismatches = |m: &crate::archive::Manifest| {
        // Without a recorded digest: sizes on disk against the tarball's.
        Some(
            m.iter()
                .filter(|(p, (_, size))| std::fs::symlink_metadata(dir.join(p)).map_or(true, |md| md.len() != *size))
                .count(),
        )
    };
    let vetted = vet::vet(
        ctx,
        &mut f,
        &id.to_purl(),
        known.as_ref(),
        &Artifacts {
            packing: Packing::TarGz,
            file_name: None,
            one_per_version: true,
            mismatches: &mismatches,
            read_cached: true,
        },
    );
    match &vetted.reference {
        Some(reference) => {
            let mut files: Vec<(&String, &(String, u64))> = reference.iter().collect();
            files.sort();
            for (rel, (sha, size)) in files {
                let expected = Expected {
                    sha256: Some(sha.clone()),
                    size: Some(*size),
                    source: "the allowed tarball",
                };
                match fsio::resolve_within(dir, dir, rel) {
                    Some(abs) => f.check_file(dir, &abs, rel, &expected),
                    None => f.add_file(
                        AlertKind::PathEscapes,
                        rel,
                        None,
                        None,
                        format!("the allowed tarball names {rel}, outside the package (not opened)"),
                    ),
                }
            }
            f.walk_extras(dir, dir, &|r| r == "node_modules", &|r| reference.contains_key(r));
        }
        None if vetted.allow.is_some() => {
            let mut count = 0u64;
            let mut walker = Findings::new(id.clone(), dir.to_path_buf(), 0);
            walker.walk_extras(dir, dir, &|r| r == "node_modules", &|_| false);
            count += walker.files;
            f.files += count;
            let allow = vetted.allow.map(|a| a.sha256.clone()).unwrap_or_default();
            f.add(
                AlertKind::Unverifiable,
                format!(
                    "npm records no per-file digests and the allowed tarball (sha256:{allow}) is not in the proxy cache: {count} files not verified"
                ),
            );
        }
        None => {}
    }
    let artifact = vetted.artifact.clone();
    let allow = vetted.allow.cloned();
    finish(f, dir, node_modules, Some(id), artifact, allow)
}

fn finish(
    f: Findings,
    dir: &Path,
    node_modules: &Path,
    id: Option<PackageId>,
    artifact: Option<ArtifactDigest>,
    allow: Option<crate::context::Allow>,
) -> Checked {
    let files = f.files;
    let (hashed_files, hashed_bytes) = (f.hashed_files, f.hashed_bytes);
    let package = f.package.clone();
    let (findings, omitted, _) = f.finish();
    Checked {
        installed: Installed {
            id: id.unwrap_or(package),
            location: dir.to_path_buf(),
            environment: node_modules.to_path_buf(),
            installer: None,
            artifact,
            allow: allow.as_ref().map(|a| crate::model::AllowRef {
                index: a.index,
                time: a.time,
                sha256: a.sha256.clone(),
                file_name: a.file_name.clone(),
            }),
            files,
            hashed_files,
            hashed_bytes,
        },
        allow,
        findings,
        omitted,
        owned: Vec::new(),
    }
}
