//! Identify: open an artifact safely, learn what it is from its own bytes,
//! and compute its SHA-256 and SHA-512 in one streamed pass.
//!
//! Supported: npm tarballs (`package/package.json`), wheels
//! (`*.dist-info/METADATA`), sdists (`PKG-INFO`), crates (`Cargo.toml`), and
//! any other file (identity from `--purl` or its name). Archives are read
//! with [`Limits`]: entry count, unpacked size, compression ratio; absolute
//! paths, `..`, links and special files are refused. A gzip tarball is read
//! once: the same bytes feed the hashes and the decompressor. A zip needs its
//! central directory, so it is hashed in one pass and inspected in a second.
//!
//! The archive walking is written here on top of the `tar`, `flate2` and
//! `zip` crates because no crate enforces a package installer's safety rules.

#![forbid(unsafe_code)]

pub mod entries;
mod error;
pub mod hash;
mod limits;
mod metadata;
mod names;
mod paths;
mod tar_gz;
mod tar_walk;
mod traits;
pub use traits::npm_manifest;
mod zip_archive;

pub use error::{ArchiveError, ReadError};
pub use limits::Limits;

use limits::{Counter, CountingReader};
use metadata::NameVersion;
use names::Root;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::str::FromStr;
use tar_gz::Captured;
use ward_core::{
    ArchiveTraits, Artifact, ArtifactKind, Digests, Ecosystem, FileDigest, PackageId, purl::normalize_pypi_name,
};

/// What the caller knows about the artifact besides its bytes.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The identity the caller expects (`--purl`); checked against the
    /// package's own metadata, and used as the identity of plain files.
    pub purl: Option<PackageId>,
    /// Archive limits.
    pub limits: Limits,
}

/// The result of identifying a readable artifact.
#[derive(Clone, Debug)]
pub struct Identified {
    /// The artifact, with its digests. When `problem` is set, its id is the
    /// best guess from `--purl` or the file name.
    pub artifact: Artifact,
    /// Why the archive is unsafe or its identity cannot be trusted, if so.
    pub problem: Option<ArchiveError>,
    /// What the package does when installed (install scripts, dependencies,
    /// `.pth` files, native binaries), for packages read without a problem.
    pub traits: Option<ArchiveTraits>,
    /// The sha256 of every file inside the archive, when asked for
    /// ([`FileDigests::Compute`]).
    pub files: Vec<FileDigest>,
}

/// Whether to hash every file inside an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FileDigests {
    /// Only the artifact itself is hashed.
    #[default]
    Skip,
    /// Every file inside is hashed too (sha256), in the same read.
    Compute,
}

enum Container {
    TarGz,
    Zip,
    Plain,
}

fn container_for(file_name: &str) -> Container {
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".tgz") || lower.ends_with(".tar.gz") || lower.ends_with(".crate") {
        Container::TarGz
    } else if lower.ends_with(".whl") || lower.ends_with(".zip") {
        Container::Zip
    } else {
        Container::Plain
    }
}

/// Reads, hashes and identifies the artifact at `path`.
///
/// Returns `Err` only when the file cannot be read at all; every problem with
/// its content is an [`Identified::problem`], which the decision turns into a
/// deny.
pub fn identify(path: &Path, options: &Options) -> Result<Identified, ReadError> {
    identify_with(path, options, FileDigests::Skip)
}

/// [`identify`], and with [`FileDigests::Compute`] the sha256 of every file
/// inside the archive ([`Identified::files`]).
pub fn identify_with(path: &Path, options: &Options, file_digests: FileDigests) -> Result<Identified, ReadError> {
    let mut observer = traits::Observer::new(file_digests == FileDigests::Compute);
    let read_err = |source| ReadError {
        path: path.to_path_buf(),
        source,
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Regular files only: a FIFO would block, `/dev/zero` would hash forever.
    let mut file = ward_input::InputFile::new(path, "artifact", u64::MAX)
        .open()
        .map_err(|e| read_err(std::io::Error::other(e)))?;
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut file, &mut magic).map_err(read_err)?;
    file.seek(SeekFrom::Start(0)).map_err(read_err)?;
    let magic = &magic[..got];

    let (digests, size, scanned) = match container_for(&file_name) {
        Container::TarGz if magic.starts_with(&[0x1f, 0x8b]) => {
            let counter = Counter::default();
            let hashing = hash::HashingReader::new(BufReader::with_capacity(256 * 1024, file));
            let counting = CountingReader {
                inner: hashing,
                count: counter.clone(),
            };
            let root = match file_name.to_ascii_lowercase().strip_suffix(".crate") {
                Some(_) => Root::Crate(&file_name[..file_name.len() - ".crate".len()]),
                None => Root::Shared,
            };
            let (result, counting) =
                tar_gz::scan(counting, counter, &options.limits, &root, wanted_in_tar, &mut observer);
            let (digests, size) = counting.inner.finish().map_err(read_err)?;
            (digests, size, Some(result))
        }
        Container::Zip if magic.starts_with(b"PK\x03\x04") => {
            let (digests, size) = hash::digest_reader(&mut file).map_err(read_err)?;
            file.seek(SeekFrom::Start(0)).map_err(read_err)?;
            let result = zip_archive::scan(
                BufReader::new(file),
                size,
                &options.limits,
                wanted_in_zip,
                &mut observer,
            );
            (digests, size, Some(result))
        }
        Container::Plain => {
            let (digests, size) = hash::digest_reader(&mut file).map_err(read_err)?;
            (digests, size, None)
        }
        // Named like an archive but without the magic bytes.
        _ => {
            let (digests, size) = hash::digest_reader(&mut file).map_err(read_err)?;
            let err = ArchiveError::Malformed(format!("{file_name} does not start with the archive's magic bytes"));
            (digests, size, Some(Err(err)))
        }
    };

    let outcome = match scanned {
        None => Ok((
            ArtifactKind::File,
            options
                .purl
                .clone()
                .unwrap_or_else(|| PackageId::new(Ecosystem::Generic, None, &file_name, None)),
            None,
            None,
        )),
        Some(Err(e)) => Err(e),
        Some(Ok(captured)) => identity_from(&file_name, &captured).and_then(|(kind, mut id, license)| {
            check_expected(&file_name, kind, &id, options.purl.as_ref())?;
            // A PyPI package is named by the version the registry lists it
            // under (the caller's, from the file name) once METADATA agrees
            // under PEP 440: a file swapped for one whose METADATA spells the
            // version otherwise (`1.0.0` for `1.0`) keeps the same identity,
            // so its release pin still catches it.
            if let Some(listed) = options.purl.as_ref().and_then(|p| p.version.clone())
                && id.ecosystem == Ecosystem::Pypi
            {
                id.version = Some(listed);
            }
            let traits = traits::summarize(kind, metadata_of(kind, &captured)?, &observer)?;
            Ok((kind, id, license, Some(traits)))
        }),
    };
    let files = std::mem::take(&mut observer.files);
    Ok(match outcome {
        Ok((kind, id, license, traits)) => Identified {
            artifact: Artifact {
                license,
                ..artifact(id, kind, file_name, size, digests)
            },
            problem: None,
            traits,
            files,
        },
        Err(problem) => {
            let id = options
                .purl
                .clone()
                .unwrap_or_else(|| PackageId::new(Ecosystem::Generic, None, &file_name, None));
            let kind = match container_for(&file_name) {
                Container::Plain => ArtifactKind::File,
                _ => guess_kind(&file_name),
            };
            Identified {
                artifact: artifact(id, kind, file_name, size, digests),
                problem: Some(problem),
                traits: None,
                files,
            }
        }
    })
}

fn artifact(id: PackageId, kind: ArtifactKind, file_name: String, size: u64, digests: Digests) -> Artifact {
    Artifact {
        id,
        kind,
        file_name,
        size,
        digests,
        license: None,
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn guess_kind(file_name: &str) -> ArtifactKind {
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".whl") {
        ArtifactKind::Wheel
    } else if lower.ends_with(".crate") {
        ArtifactKind::Crate
    } else if lower.ends_with(".tgz") {
        ArtifactKind::NpmTarball
    } else {
        ArtifactKind::Sdist
    }
}

/// `parts` are the components below the archive's top directory.
fn wanted_in_tar(parts: &[&str]) -> bool {
    parts.len() == 1 && matches!(parts[0], "package.json" | "PKG-INFO" | "Cargo.toml")
}

fn wanted_in_zip(parts: &[&str]) -> bool {
    (parts.len() == 2 && parts[0].ends_with(".dist-info") && parts[1] == "METADATA")
        || (parts.len() == 2 && parts[1] == "PKG-INFO")
}

fn one<'a>(
    captured: &'a [Captured],
    top_suffix: Option<&str>,
    file: &str,
) -> Result<Option<&'a Captured>, ArchiveError> {
    let mut found = captured
        .iter()
        .filter(|c| c.path[1] == file && top_suffix.is_none_or(|s| c.path[0].ends_with(s)));
    let first = found.next();
    if found.next().is_some() {
        return Err(ArchiveError::Malformed(format!(
            "more than one top-level {file}; the package is ambiguous"
        )));
    }
    Ok(first)
}

/// The metadata file identity read for an archive of this kind.
fn metadata_of(kind: ArtifactKind, captured: &[Captured]) -> Result<Option<&Captured>, ArchiveError> {
    match kind {
        ArtifactKind::Wheel => one(captured, Some(".dist-info"), "METADATA"),
        ArtifactKind::Crate => one(captured, None, "Cargo.toml"),
        ArtifactKind::NpmTarball => one(captured, None, "package.json"),
        ArtifactKind::Sdist => one(captured, None, "PKG-INFO"),
        ArtifactKind::File => Ok(None),
    }
}

/// Two version strings that PEP 440 reads as the same version (`1.0` and
/// `1.0.0`, `1.0-beta1` and `1.0b1`); strings that are not PEP 440 must be equal.
fn same_version(a: &str, b: &str) -> bool {
    match (pep440_rs::Version::from_str(a), pep440_rs::Version::from_str(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// A wheel's `<name>-<version>.dist-info` directory must name the package
/// and version its METADATA gives.
fn check_dist_info(dir: &str, nv: &NameVersion) -> Result<(), ArchiveError> {
    let stem = dir.strip_suffix(".dist-info").unwrap_or(dir);
    let (name, version) = stem.rsplit_once('-').unwrap_or((stem, ""));
    if normalize_pypi_name(name) != normalize_pypi_name(&nv.name) || !same_version(version, &nv.version) {
        return Err(ArchiveError::NameMismatch {
            what: "wheel .dist-info directory".into(),
            expected: stem.to_string(),
            found: format!("{}-{}", nv.name, nv.version),
        });
    }
    Ok(())
}

/// What the package's own metadata says: its kind, identity and licence.
type Identity = (ArtifactKind, PackageId, Option<String>);

fn identity_from(file_name: &str, captured: &[Captured]) -> Result<Identity, ArchiveError> {
    let lower = file_name.to_ascii_lowercase();
    let pypi = |nv: NameVersion| PackageId::new(Ecosystem::Pypi, None, nv.name, Some(nv.version));
    if lower.ends_with(".whl") {
        let meta = one(captured, Some(".dist-info"), "METADATA")?
            .ok_or_else(|| ArchiveError::MetadataMissing("*.dist-info/METADATA".into()))?;
        let nv = metadata::core_metadata("METADATA", &meta.content)?;
        check_dist_info(&meta.path[0], &nv)?;
        let license = nv.license.clone();
        return Ok((ArtifactKind::Wheel, pypi(nv), license));
    }
    if lower.ends_with(".crate") {
        let meta = one(captured, None, "Cargo.toml")?
            .ok_or_else(|| ArchiveError::MetadataMissing("<crate>/Cargo.toml".into()))?;
        let nv = metadata::cargo_toml(&meta.content)?;
        return Ok((
            ArtifactKind::Crate,
            PackageId::new(Ecosystem::Cargo, None, nv.name, Some(nv.version)),
            nv.license,
        ));
    }
    if lower.ends_with(".tgz") {
        let meta = one(captured, None, "package.json")?
            .ok_or_else(|| ArchiveError::MetadataMissing("package/package.json".into()))?;
        let nv = metadata::npm_package_json(&meta.content)?;
        return Ok((
            ArtifactKind::NpmTarball,
            PackageId::npm(&nv.name, Some(nv.version)),
            nv.license,
        ));
    }
    // `.tar.gz` or `.zip`: a Python sdist if it has PKG-INFO, else an npm tarball.
    if let Some(meta) = one(captured, None, "PKG-INFO")? {
        let nv = metadata::core_metadata("PKG-INFO", &meta.content)?;
        let license = nv.license.clone();
        return Ok((ArtifactKind::Sdist, pypi(nv), license));
    }
    if let Some(meta) = one(captured, None, "package.json")? {
        let nv = metadata::npm_package_json(&meta.content)?;
        return Ok((
            ArtifactKind::NpmTarball,
            PackageId::npm(&nv.name, Some(nv.version)),
            nv.license,
        ));
    }
    Err(ArchiveError::MetadataMissing("PKG-INFO or package/package.json".into()))
}

/// Checks the file name and `--purl` against what the package says of itself.
fn check_expected(
    file_name: &str,
    kind: ArtifactKind,
    id: &PackageId,
    purl: Option<&PackageId>,
) -> Result<(), ArchiveError> {
    let mismatch = |what: &str, expected: &str, found: &str| ArchiveError::NameMismatch {
        what: what.to_string(),
        expected: expected.to_string(),
        found: found.to_string(),
    };
    let version = id.version.as_deref().unwrap_or_default();
    match kind {
        ArtifactKind::Wheel => {
            let mut fields = file_name.split('-');
            let dist = fields.next().unwrap_or_default();
            if normalize_pypi_name(dist) != id.normalized_name() {
                return Err(mismatch("name in wheel file name", dist, &id.name));
            }
            let file_version = fields.next().unwrap_or_default();
            if !same_version(file_version, version) {
                return Err(mismatch("version in wheel file name", file_version, version));
            }
        }
        ArtifactKind::Sdist => {
            let lower = file_name.to_ascii_lowercase();
            let stem_len = [".tar.gz", ".zip"]
                .iter()
                .find_map(|ext| lower.strip_suffix(ext).map(str::len))
                .unwrap_or(file_name.len());
            let stem = &file_name[..stem_len];
            // Legacy names may hold `-`: any split that matches will do.
            let matches = stem.match_indices('-').any(|(i, _)| {
                normalize_pypi_name(&stem[..i]) == id.normalized_name() && same_version(&stem[i + 1..], version)
            });
            if !matches {
                let expected = format!("{}-{}", id.name, version);
                return Err(mismatch("sdist file name", stem, &expected));
            }
        }
        ArtifactKind::Crate => {
            let stem = file_name.strip_suffix(".crate").unwrap_or(file_name);
            let expected = format!("{}-{}", id.name, version);
            if stem != expected {
                return Err(mismatch("crate file name", stem, &expected));
            }
        }
        _ => {}
    }
    if let Some(p) = purl {
        if p.ecosystem != id.ecosystem {
            return Err(mismatch(
                "ecosystem in --purl",
                p.ecosystem.purl_type(),
                id.ecosystem.purl_type(),
            ));
        }
        if p.normalized_name() != id.normalized_name() {
            return Err(mismatch("name in --purl", &p.full_name(), &id.full_name()));
        }
        // PyPI versions are the same when PEP 440 reads them so (a wheel's
        // file name spells `2.0.0rc1` what its METADATA may spell `2.0.0-rc1`).
        let same = |v: &str| match id.ecosystem {
            ward_core::Ecosystem::Pypi => same_version(v, version),
            _ => v == version,
        };
        if let Some(v) = &p.version
            && !same(v)
        {
            return Err(mismatch("version in --purl", v, version));
        }
    }
    Ok(())
}

#[cfg(test)]
mod expected_tests {
    use super::*;

    fn id(purl: &str) -> PackageId {
        purl.parse().unwrap()
    }

    #[test]
    fn a_pypi_version_spelt_otherwise_in_metadata_is_the_same_version() {
        // The proxy names a wheel's version from its file name; METADATA may spell it otherwise.
        let metadata = id("pkg:pypi/foo@2.0.0-rc1");
        let from_file_name = id("pkg:pypi/foo@2.0.0rc1");
        let file = "foo-2.0.0rc1-py3-none-any.whl";
        assert!(check_expected(file, ArtifactKind::Wheel, &metadata, Some(&from_file_name)).is_ok());
        // Another version is still refused.
        let other = id("pkg:pypi/foo@2.0.0");
        assert!(matches!(
            check_expected(file, ArtifactKind::Wheel, &metadata, Some(&other)),
            Err(ArchiveError::NameMismatch { .. })
        ));
        // Other ecosystems compare versions as written.
        let npm = id("pkg:npm/foo@1.0.0");
        let npm_other = id("pkg:npm/foo@1.0");
        assert!(check_expected("foo-1.0.0.tgz", ArtifactKind::NpmTarball, &npm, Some(&npm_other)).is_err());
    }

    #[test]
    fn a_pypi_file_is_named_by_the_version_the_registry_lists_it_under() {
        // METADATA says 1.0.0, the file name (and the proxy) 1.0: one version
        // under PEP 440, and the identity (the release pin's key) is the listed one.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("foo-1.0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for (name, body) in [
            ("foo/__init__.py", "X = 1\n"),
            (
                "foo-1.0.0.dist-info/METADATA",
                "Metadata-Version: 2.1\nName: foo\nVersion: 1.0.0\n\n",
            ),
            (
                "foo-1.0.0.dist-info/WHEEL",
                "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            ),
            ("foo-1.0.0.dist-info/RECORD", ""),
        ] {
            zip.start_file(name, opts).unwrap();
            std::io::Write::write_all(&mut zip, body.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        let alone = identify(&path, &Options::default()).unwrap();
        assert!(alone.problem.is_none(), "{:?}", alone.problem);
        assert_eq!(alone.artifact.id.to_string(), "pkg:pypi/foo@1.0.0");
        let listed = Options {
            purl: Some(id("pkg:pypi/foo@1.0")),
            ..Options::default()
        };
        let proxied = identify(&path, &listed).unwrap();
        assert!(proxied.problem.is_none(), "{:?}", proxied.problem);
        assert_eq!(proxied.artifact.id.to_string(), "pkg:pypi/foo@1.0");
    }
}
