//! cargo: `vendor/` directories and a cargo home's registry sources.
//!
//! A vendored crate has `.cargo-checksum.json` (`{"files": {path: sha256
//! hex}, "package": sha256 hex of the .crate}`); the package digest is
//! looked up in the ledger, and the files are compared with the allowed
//! `.crate` from the proxy cache when it is there, else with the checksum
//! file. A cargo home's `registry/src/INDEX/NAME-VERSION` is compared with
//! `registry/cache/INDEX/NAME-VERSION.crate`, the bytes cargo downloaded
//! and unpacked, whose SHA-256 is looked up in the ledger.

use crate::archive::{self, Manifest, Packing};
use crate::compare::{Expected, Findings};
use crate::context::AuditContext;
use crate::fsio::{self, ReadProblem};
use crate::model::{AlertKind, ArtifactDigest, Installed};
use crate::run::Checked;
use crate::vet::{self, Artifacts};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use ward_core::{Ecosystem, PackageId};

/// Files `cargo vendor` leaves out of a crate, and cargo's own markers.
fn cargo_own(rel: &str) -> bool {
    matches!(
        rel,
        ".cargo-checksum.json" | ".cargo-ok" | ".gitattributes" | ".gitignore"
    ) || rel.starts_with(".git/")
}

/// Name and version from `Cargo.toml` (read with a bound), else from the
/// directory name `NAME-VERSION`.
fn identify(ctx: &AuditContext<'_>, f: &mut Findings, dir: &Path) -> PackageId {
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let from_toml = match fsio::read_bounded(&dir.join("Cargo.toml"), ctx.limits.metadata_bytes) {
        Ok(bytes) => String::from_utf8(bytes)
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
            .and_then(|t| {
                let p = t.get("package")?.as_table()?;
                Some((
                    p.get("name")?.as_str()?.to_string(),
                    p.get("version")?.as_str()?.to_string(),
                ))
            }),
        Err(ReadProblem::Io(e)) => {
            f.add_file(
                AlertKind::Unreadable,
                "Cargo.toml",
                None,
                None,
                format!("Cargo.toml: {e}"),
            );
            None
        }
        Err(_) => None,
    };
    let (name, version) = from_toml.unwrap_or_else(|| {
        // NAME-VERSION: the version starts at the first `-` followed by a digit.
        match dir_name
            .match_indices('-')
            .find(|(i, _)| dir_name[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
        {
            Some((i, _)) => (dir_name[..i].to_string(), dir_name[i + 1..].to_string()),
            None => (dir_name.clone(), String::new()),
        }
    });
    PackageId::new(Ecosystem::Cargo, None, name, (!version.is_empty()).then_some(version))
}

fn checked(
    f: Findings,
    dir: &Path,
    environment: &Path,
    artifact: Option<ArtifactDigest>,
    allow: Option<crate::context::Allow>,
) -> Checked {
    let files = f.files;
    let (hashed_files, hashed_bytes) = (f.hashed_files, f.hashed_bytes);
    let id = f.package.clone();
    let (findings, omitted, _) = f.finish();
    Checked {
        installed: Installed {
            id,
            location: dir.to_path_buf(),
            environment: environment.to_path_buf(),
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

/// Compares `dir` with `reference` (paths relative to it), then walks it for extras.
fn compare(f: &mut Findings, dir: &Path, reference: &HashMap<String, Expected>) {
    let mut files: Vec<(&String, &Expected)> = reference.iter().filter(|(p, _)| !cargo_own(p)).collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    for (rel, expected) in files {
        match fsio::resolve_within(dir, dir, rel) {
            Some(abs) => f.check_file(dir, &abs, rel, expected),
            None => f.add_file(
                AlertKind::PathEscapes,
                rel,
                None,
                None,
                format!("{} names {rel}, outside the crate (not opened)", expected.source),
            ),
        }
    }
    f.walk_extras(dir, dir, &|r| r == ".git", &|r| {
        cargo_own(r) || reference.contains_key(r)
    });
}

fn from_manifest(m: Manifest, source: &'static str) -> HashMap<String, Expected> {
    m.into_iter()
        .map(|(p, (sha, size))| {
            (
                p,
                Expected {
                    sha256: Some(sha),
                    size: Some(size),
                    source,
                },
            )
        })
        .collect()
}

/// An entry of a `vendor/` directory.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Vendored {
    /// A crate's directory, to audit.
    Crate(PathBuf),
    /// A symbolic link where a crate would be, and its target (reported,
    /// never followed).
    Link(PathBuf, PathBuf),
}

/// The vendored crates of a `vendor/` directory, and the symbolic links
/// among them (other files are not crates and are left alone).
pub(crate) fn vendored(vendor: &Path) -> Result<Vec<Vendored>, std::io::Error> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(vendor)? {
        let e = e?;
        let t = e.file_type()?;
        if t.is_dir() {
            out.push(Vendored::Crate(e.path()));
        } else if t.is_symlink() {
            let target = std::fs::read_link(e.path())?;
            out.push(Vendored::Link(e.path(), target));
        }
    }
    out.sort();
    Ok(out)
}

/// Audits one vendored crate.
pub(crate) fn check_vendored(ctx: &AuditContext<'_>, vendor: &Path, dir: &Path) -> Checked {
    let mut f = Findings::new(
        PackageId::new(Ecosystem::Cargo, None, "?", None),
        dir.to_path_buf(),
        ctx.limits.findings_per_package,
    );
    f.package = identify(ctx, &mut f, dir);
    let sums_path = dir.join(".cargo-checksum.json");
    let sums: Option<serde_json::Value> = match fsio::read_bounded(&sums_path, ctx.limits.manifest_bytes) {
        Ok(b) => match serde_json::from_slice(&b) {
            Ok(v) => Some(v),
            Err(e) => {
                f.add_file(
                    AlertKind::Unverifiable,
                    ".cargo-checksum.json",
                    None,
                    None,
                    format!("not JSON: {e}"),
                );
                None
            }
        },
        Err(ReadProblem::Io(e)) => {
            f.add_file(AlertKind::Unreadable, ".cargo-checksum.json", None, None, e.to_string());
            None
        }
        Err(p) => {
            f.add_file(
                AlertKind::Unverifiable,
                ".cargo-checksum.json",
                None,
                None,
                format!(".cargo-checksum.json: {p}; no file of this crate can be verified"),
            );
            None
        }
    };
    let Some(sums) = sums else {
        return checked(f, dir, vendor, None, None);
    };
    let package = sums["package"]
        .as_str()
        .map(str::to_ascii_lowercase)
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let recorded: HashMap<String, Expected> = sums["files"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(p, h)| {
                    (
                        p.clone(),
                        Expected {
                            sha256: h.as_str().map(str::to_ascii_lowercase),
                            size: None,
                            source: ".cargo-checksum.json",
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(package) = package else {
        f.add(
            AlertKind::Unverifiable,
            "`.cargo-checksum.json` records no package digest (a git or path source): the crate cannot be tied to an allowed artifact",
        );
        compare(&mut f, dir, &recorded);
        return checked(f, dir, vendor, None, None);
    };
    let known = ArtifactDigest {
        sha256: Some(package),
        sha512: None,
    };
    let purl = f.package.to_purl();
    let vetted = vet::vet(
        ctx,
        &mut f,
        &purl,
        Some(&known),
        &Artifacts {
            packing: Packing::TarGz,
            file_name: None,
            one_per_version: true,
            mismatches: &|_| Some(0),
            read_cached: true,
        },
    );
    let reference = match vetted.reference.clone() {
        Some(m) => from_manifest(m, "the allowed .crate"),
        None => recorded,
    };
    compare(&mut f, dir, &reference);
    let (artifact, allow) = (vetted.artifact.clone(), vetted.allow.cloned());
    checked(f, dir, vendor, artifact, allow)
}

/// The unpacked crates of a cargo home, each with the `.crate` it came from.
pub(crate) fn registry_sources(home: &Path) -> Result<Vec<(PathBuf, PathBuf)>, std::io::Error> {
    let mut out = Vec::new();
    let src = home.join("registry/src");
    for index in std::fs::read_dir(&src)? {
        let index = index?;
        if !index.file_type()?.is_dir() {
            continue;
        }
        let cache = home.join("registry/cache").join(index.file_name());
        for krate in std::fs::read_dir(index.path())? {
            let krate = krate?;
            if krate.file_type()?.is_dir() {
                let mut name = krate.file_name();
                name.push(".crate");
                out.push((krate.path(), cache.join(name)));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Audits one crate of a cargo home's `registry/src`.
pub(crate) fn check_registry(ctx: &AuditContext<'_>, home: &Path, dir: &Path, crate_file: &Path) -> Checked {
    let mut f = Findings::new(
        PackageId::new(Ecosystem::Cargo, None, "?", None),
        dir.to_path_buf(),
        ctx.limits.findings_per_package,
    );
    f.package = identify(ctx, &mut f, dir);
    // Read once: its digest ties the sources to an allow, and the files
    // unpacked from those same bytes are what the sources are compared with
    // (the proxy cache's copy of the allowed bytes would be these again).
    let unpacked = match archive::unpack(
        crate_file,
        Packing::TarGz,
        None,
        ctx.limits.artifact_bytes,
        ctx.limits.artifact_entries,
    ) {
        Ok(u) => u,
        Err(p) => {
            let kind = match p {
                ReadProblem::Io(_) => AlertKind::Unreadable,
                _ => AlertKind::Unverifiable,
            };
            f.add(
                kind,
                format!(
                    "the .crate these sources came from ({}): {p}; they cannot be tied to an artifact",
                    crate_file.display()
                ),
            );
            return checked(f, dir, home, None, None);
        }
    };
    let known = ArtifactDigest {
        sha256: Some(unpacked.sha256.clone()),
        sha512: None,
    };
    let purl = f.package.to_purl();
    let vetted = vet::vet(
        ctx,
        &mut f,
        &purl,
        Some(&known),
        &Artifacts {
            packing: Packing::TarGz,
            file_name: None,
            one_per_version: true,
            mismatches: &|_| Some(0),
            read_cached: false,
        },
    );
    match unpacked.files {
        Ok(m) => compare(&mut f, dir, &from_manifest(m, "the .crate in registry/cache")),
        Err(e) => f.add(AlertKind::Unverifiable, e),
    }
    let (artifact, allow) = (vetted.artifact.clone(), vetted.allow.cloned());
    checked(f, dir, home, artifact, allow)
}
