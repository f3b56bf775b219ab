//! Python: each `*.dist-info` of a site directory. `METADATA` gives the
//! name and version, `INSTALLER` the installer, `direct_url.json` the
//! archive's hash when pip recorded one, and `RECORD` (CSV, as PEP 376
//! and the wheel spec write it: `path,sha256=<urlsafe base64, no
//! padding>,size`, read with the `csv` crate) each installed file. When
//! the allowed wheel is in the proxy cache, files that came from it are
//! compared with the wheel itself; the rest (`INSTALLER`, `RECORD`,
//! `.pyc`, scripts) with `RECORD`. Paths that leave the environment are
//! `path-escapes` and never opened.

use crate::archive::{Manifest, Packing};
use crate::compare::{Expected, Findings};
use crate::context::AuditContext;
use crate::fsio::{self, ReadProblem};
use crate::model::{AlertKind, ArtifactDigest, FileState, Installed};
use crate::run::Checked;
use crate::vet::{self, Artifacts};
use base64::Engine as _;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use ward_core::{Ecosystem, PackageId};

/// One `RECORD` line.
struct Row {
    path: String,
    sha256: Option<String>,
    size: Option<u64>,
    /// A digest in another algorithm (not checked).
    other: Option<String>,
}

/// `sha256=<urlsafe base64>` as lower-case hex.
fn record_hash(field: &str) -> (Option<String>, Option<String>) {
    let Some((alg, value)) = field.split_once('=') else {
        return (None, None);
    };
    if alg != "sha256" {
        return (None, Some(alg.to_string()));
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    match engine.decode(value) {
        Ok(bytes) if bytes.len() == 32 => (Some(hex::encode(bytes)), None),
        _ => (None, Some("sha256 (not valid base64)".into())),
    }
}

fn parse_record(bytes: &[u8]) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let path = rec.get(0).unwrap_or_default().to_string();
        if path.is_empty() {
            continue;
        }
        let (sha256, other) = record_hash(rec.get(1).unwrap_or_default());
        let size = rec.get(2).and_then(|s| s.trim().parse().ok());
        rows.push(Row {
            path,
            sha256,
            size,
            other,
        });
    }
    Ok(rows)
}

/// `Name:` and `Version:` of a `METADATA` header.
fn name_version(metadata: &[u8]) -> (Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(metadata);
    let (mut name, mut version) = (None, None);
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name.get_or_insert_with(|| v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version.get_or_insert_with(|| v.trim().to_string());
        }
    }
    (name, version)
}

/// `NAME-VERSION.dist-info` split (the fallback when `METADATA` says nothing).
fn from_dir_name(dir: &Path) -> (String, Option<String>) {
    let stem = dir
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".dist-info").to_string())
        .unwrap_or_default();
    match stem.split_once('-') {
        Some((n, v)) => (n.to_string(), Some(v.to_string())),
        None => (stem, None),
    }
}

/// The archive hash and file name `direct_url.json` records.
fn direct_url(bytes: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return (None, None);
    };
    let file = v["url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .filter(|f| f.ends_with(".whl"))
        .map(str::to_string);
    let info = &v["archive_info"];
    let sha = info["hashes"]["sha256"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            info["hash"]
                .as_str()
                .and_then(|h| h.strip_prefix("sha256="))
                .map(str::to_string)
        })
        .map(|h| h.to_ascii_lowercase())
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    (sha, file)
}

/// A wheel's path as it lands in the site directory (`.data/purelib/` and
/// `.data/platlib/` are unpacked to the top), `None` for the other
/// `.data` schemes (scripts, headers: installed elsewhere).
fn installed_path(wheel_path: &str) -> Option<&str> {
    let Some((first, rest)) = wheel_path.split_once('/') else {
        return Some(wheel_path);
    };
    if !first.ends_with(".data") {
        return Some(wheel_path);
    }
    rest.strip_prefix("purelib/").or_else(|| rest.strip_prefix("platlib/"))
}

/// The wheel's files keyed by where they are installed, without its `RECORD`.
fn by_install_path(wheel: &Manifest) -> HashMap<&str, &(String, u64)> {
    wheel
        .iter()
        .filter(|(p, _)| !(p.ends_with(".dist-info/RECORD") && p.matches('/').count() == 1))
        .filter_map(|(p, v)| installed_path(p).map(|i| (i, v)))
        .collect()
}

fn read_small(ctx: &AuditContext<'_>, f: &mut Findings, path: &Path, what: &str) -> Option<Vec<u8>> {
    match fsio::read_bounded(path, ctx.limits.metadata_bytes) {
        Ok(b) => Some(b),
        Err(ReadProblem::NotFound) => None,
        Err(ReadProblem::Io(e)) => {
            f.add(AlertKind::Unreadable, format!("{what} {}: {e}", path.display()));
            None
        }
        Err(p) => {
            f.add(AlertKind::Unverifiable, format!("{what} {}: {p}", path.display()));
            None
        }
    }
}

/// Audits one `*.dist-info` of the site directory `site` (inside `root`).
pub(crate) fn check(ctx: &AuditContext<'_>, site: &Path, root: &Path, dist: &Path) -> Checked {
    let (dir_name, dir_version) = from_dir_name(dist);
    let mut f = Findings::new(
        PackageId::new(Ecosystem::Pypi, None, dir_name.clone(), dir_version.clone()),
        site.to_path_buf(),
        ctx.limits.findings_per_package,
    );
    let metadata = read_small(ctx, &mut f, &dist.join("METADATA"), "METADATA");
    let (name, version) = metadata.as_deref().map(name_version).unwrap_or_default();
    let id = PackageId::new(Ecosystem::Pypi, None, name.unwrap_or(dir_name), version.or(dir_version));
    f.package = id.clone();
    let installer = read_small(ctx, &mut f, &dist.join("INSTALLER"), "INSTALLER")
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|s| !s.is_empty());
    let (direct_sha, direct_file) = read_small(ctx, &mut f, &dist.join("direct_url.json"), "direct_url.json")
        .map(|b| direct_url(&b))
        .unwrap_or_default();
    let dist_rel = fsio::rel_text(dist.strip_prefix(site).unwrap_or(dist));
    let record_rel = format!("{dist_rel}/RECORD");
    let rows = match fsio::read_bounded(&dist.join("RECORD"), ctx.limits.manifest_bytes) {
        Ok(bytes) => match parse_record(&bytes) {
            Ok(rows) => rows,
            Err(e) => {
                f.add_file(
                    AlertKind::Unverifiable,
                    &record_rel,
                    None,
                    None,
                    format!("RECORD is not CSV: {e}"),
                );
                Vec::new()
            }
        },
        Err(ReadProblem::Io(e)) => {
            f.add_file(AlertKind::Unreadable, &record_rel, None, None, format!("RECORD: {e}"));
            Vec::new()
        }
        Err(p) => {
            f.add_file(
                AlertKind::Unverifiable,
                &record_rel,
                None,
                None,
                format!("RECORD: {p}; no file of this package can be verified"),
            );
            Vec::new()
        }
    };

    // Which allowed wheel: by direct_url.json's hash, else by content.
    let known = direct_sha.map(|h| ArtifactDigest {
        sha256: Some(h),
        sha512: None,
    });
    let record_digests: HashMap<&str, Option<&str>> =
        rows.iter().map(|r| (r.path.as_str(), r.sha256.as_deref())).collect();
    let mismatches = |wheel: &Manifest| {
        let files = by_install_path(wheel);
        // A wheel for another platform or release shares few paths: not this one.
        let shared = files.keys().filter(|p| record_digests.contains_key(*p)).count();
        (shared * 2 >= files.len()).then(|| {
            files
                .iter()
                .filter(|(p, (sha, size))| match record_digests.get(*p) {
                    Some(Some(h)) => h != sha,
                    // No digest in RECORD: the size on disk decides here;
                    // the file is hashed against the wheel afterwards.
                    Some(None) => fsio::resolve_within(site, site, p)
                        .and_then(|abs| std::fs::symlink_metadata(abs).ok())
                        .is_none_or(|m| m.len() != *size),
                    None => true,
                })
                .count()
        })
    };
    let purl = id.to_purl();
    let vetted = vet::vet(
        ctx,
        &mut f,
        &purl,
        known.as_ref(),
        &Artifacts {
            packing: Packing::Zip,
            file_name: direct_file,
            one_per_version: false,
            mismatches: &mismatches,
            read_cached: true,
        },
    );
    let wheel = vetted.reference.as_ref().map(by_install_path);

    let mut owned = Vec::with_capacity(rows.len());
    // The wheel's paths RECORD listed, normalised as the wheel's are.
    let mut seen: HashSet<String> = HashSet::new();
    for row in &rows {
        let Some(abs) = fsio::resolve_within(root, site, &row.path) else {
            f.add_file(
                AlertKind::PathEscapes,
                &row.path,
                None,
                None,
                format!(
                    "RECORD names {}, outside the environment {} (not opened)",
                    row.path,
                    root.display()
                ),
            );
            continue;
        };
        let rel = abs
            .strip_prefix(site)
            .map(fsio::rel_text)
            .unwrap_or_else(|_| row.path.clone());
        owned.push(rel.clone());
        if rel == record_rel {
            // The manifest itself: listed without a digest by design.
            continue;
        }
        let from_wheel = wheel.as_ref().and_then(|w| w.get(rel.as_str()));
        let expected = match from_wheel {
            Some((sha, size)) => {
                seen.insert(rel.clone());
                Expected {
                    sha256: Some(sha.clone()),
                    size: Some(*size),
                    source: "the allowed wheel",
                }
            }
            None => Expected {
                sha256: row.sha256.clone(),
                size: row.size,
                source: if row.other.is_some() {
                    "RECORD (in a digest other than sha256)"
                } else {
                    "RECORD"
                },
            },
        };
        f.check_file(site, &abs, &rel, &expected);
    }
    // Files of the allowed wheel that RECORD does not list.
    if let Some(w) = &wheel {
        let mut absent: Vec<(&&str, &&(String, u64))> = w.iter().filter(|(p, _)| !seen.contains(**p)).collect();
        absent.sort();
        for (p, (sha, size)) in absent {
            // The wheel was allowed, but its names are still not followed
            // out of the environment.
            let Some(abs) = fsio::resolve_within(root, site, p) else {
                f.add_file(
                    AlertKind::PathEscapes,
                    p,
                    None,
                    None,
                    format!("the allowed wheel names {p}, outside the environment (not opened)"),
                );
                continue;
            };
            let expected = Expected {
                sha256: Some(sha.clone()),
                size: Some(*size),
                source: "the allowed wheel",
            };
            if std::fs::symlink_metadata(&abs).is_err() {
                f.add_file(
                    AlertKind::Missing,
                    p,
                    Some(FileState::file(Some(sha.clone()), Some(*size))),
                    None,
                    format!("{p} is in the allowed wheel but neither installed nor in RECORD"),
                );
            } else {
                f.check_file(site, &abs, p, &expected);
            }
        }
    }
    let artifact = vetted.artifact.clone();
    let allow = vetted.allow_ref();
    let allow_full = vetted.allow.cloned();
    let files = f.files;
    let (hashed_files, hashed_bytes) = (f.hashed_files, f.hashed_bytes);
    let (findings, omitted, _) = f.finish();
    Checked {
        installed: Installed {
            id,
            location: dist.to_path_buf(),
            environment: site.to_path_buf(),
            installer,
            artifact,
            allow,
            files,
            hashed_files,
            hashed_bytes,
        },
        allow: allow_full,
        findings,
        omitted,
        owned,
    }
}

/// The `*.dist-info` directories of a site directory, sorted.
pub(crate) fn dist_infos(site: &Path) -> Result<Vec<PathBuf>, std::io::Error> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(site)? {
        let e = e?;
        if e.file_name().to_string_lossy().ends_with(".dist-info") && e.file_type()?.is_dir() {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

/// The top-level directories the packages of a site directory own (the
/// first component of every `RECORD` path inside it), each with the
/// package that names it first.
pub(crate) fn owned_dirs<'a>(site: &Path, owned: impl Iterator<Item = (usize, &'a str)>) -> Vec<(String, usize)> {
    let mut dirs: HashMap<String, usize> = HashMap::new();
    for (i, rel) in owned {
        if let Some((top, _)) = rel.split_once('/')
            && top != ".."
            // A real directory, not a link to one (links are never followed).
            && std::fs::symlink_metadata(site.join(top)).is_ok_and(|m| m.is_dir())
        {
            dirs.entry(top.to_string()).or_insert(i);
        }
    }
    let mut out: Vec<(String, usize)> = dirs.into_iter().collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines_read_as_pip_writes_them() {
        let rows = parse_record(
            b"demo/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\"a,b.py\",,\ndemo-1.0.dist-info/RECORD,,\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0].sha256.as_deref(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(rows[0].size, Some(0));
        assert_eq!(rows[1].path, "a,b.py");
        assert_eq!(rows[1].sha256, None);
        assert_eq!(installed_path("x-1.data/purelib/x/y.py"), Some("x/y.py"));
        assert_eq!(installed_path("x-1.data/scripts/tool"), None);
    }
}
