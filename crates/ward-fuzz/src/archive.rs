//! Targets for ward-identify: package archives (npm tarballs, wheels,
//! sdists, crates) and the metadata files read from inside them.
//!
//! Tar targets take the *uncompressed* tar stream and gzip it here, so
//! that the fuzzer mutates tar headers rather than deflate bits; an input
//! that already starts with the gzip magic is passed through unchanged
//! (bombs, trailing members). Zip targets take the zip bytes as they are
//! (seeds are stored, not deflated). Metadata targets wrap the input in a
//! well-formed archive of the right shape.

use crate::scratch;
use std::io::Write;
use ward_identify::{Limits, Options};

/// Archive limits for fuzzing: the production rules, with smaller totals
/// so that one input's work stays bounded.
pub(crate) fn options() -> Options {
    Options {
        purl: None,
        limits: Limits {
            max_entries: 10_000,
            max_unpacked: 32 << 20,
            ..Limits::default()
        },
    }
}

fn identify_as(file_name: &str, bytes: &[u8]) {
    let Some(dir) = scratch::dir() else { return };
    let Some(path) = scratch::write(dir.path(), file_name, bytes) else {
        return;
    };
    let _ = ward_identify::identify(&path, &options());
}

pub(crate) fn gzip(tar: &[u8]) -> Vec<u8> {
    if tar.starts_with(&[0x1f, 0x8b]) {
        return tar.to_vec();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(tar).and_then(|()| gz.finish()).unwrap_or_default()
}

/// A tar stream with one regular file.
fn tar_with(path: &str, data: &[u8]) -> Option<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, path, data).ok()?;
    builder.into_inner().ok()
}

/// A zip archive (stored entries) with the given files.
fn zip_with(files: &[(&str, &[u8])]) -> Option<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in files {
        zip.start_file(*name, options).ok()?;
        zip.write_all(data).ok()?;
    }
    zip.finish().ok().map(|c| c.into_inner())
}

/// The top directory named by the first tar header (`name-1.0.0` in a
/// sdist or crate), so that the file name ward checks against the
/// package's own metadata matches for real seeds and the fuzzer gets past
/// that check. Falls back to `fallback`.
pub(crate) fn tar_top(gz: &[u8], fallback: &str) -> String {
    use std::io::Read as _;
    let mut head = [0u8; 100];
    let mut reader = flate2::read::GzDecoder::new(gz);
    if reader.read_exact(&mut head).is_err() {
        return fallback.to_string();
    }
    let name = head.split(|b| *b == 0).next().unwrap_or_default();
    let top = name.split(|b| *b == b'/').next().unwrap_or_default();
    match std::str::from_utf8(top) {
        Ok(t) if !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) && t != ".." => {
            t.to_string()
        }
        _ => fallback.to_string(),
    }
}

/// The wheel file name its `.dist-info` directory implies, if any.
pub(crate) fn wheel_name(zip: &[u8]) -> Option<String> {
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).ok()?;
    let info = archive
        .file_names()
        .flatten()
        .find_map(|n| n.strip_suffix(".dist-info/METADATA").map(str::to_string))?;
    info.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        .then(|| format!("{info}-py3-none-any.whl"))
}

/// A zip sdist's file name from its top directory, if any.
pub(crate) fn zip_sdist_name(zip: &[u8]) -> Option<String> {
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).ok()?;
    let top = archive
        .file_names()
        .flatten()
        .find_map(|n| n.strip_suffix("/PKG-INFO").map(str::to_string))?;
    (!top.contains('/') && top.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .then(|| format!("{top}.zip"))
}

/// An npm tarball (`.tgz`), from its tar stream.
pub fn npm_tarball(data: &[u8]) {
    identify_as("fuzz-pkg-1.0.0.tgz", &gzip(data));
}

/// A Python sdist (`.tar.gz`), from its tar stream.
pub fn sdist(data: &[u8]) {
    let gz = gzip(data);
    identify_as(&format!("{}.tar.gz", tar_top(&gz, "fuzz_pkg-1.0.0")), &gz);
}

/// A `.crate`, from its tar stream.
pub fn crate_file(data: &[u8]) {
    let gz = gzip(data);
    identify_as(&format!("{}.crate", tar_top(&gz, "fuzz-pkg-1.0.0")), &gz);
}

/// A zip read both as a wheel and as a zip sdist (named after its own
/// `.dist-info` and top directories).
pub fn wheel(data: &[u8]) {
    let wheel = wheel_name(data).unwrap_or_else(|| "fuzz_pkg-1.0.0-py3-none-any.whl".into());
    identify_as(&wheel, data);
    identify_as(
        &zip_sdist_name(data).unwrap_or_else(|| "fuzz_pkg-1.0.0.zip".into()),
        data,
    );
}

/// An npm `package.json`, inside an otherwise well-formed tarball.
pub fn npm_package_json(data: &[u8]) {
    if let Some(tar) = tar_with("package/package.json", data) {
        npm_tarball(&tar);
    }
}

/// A sdist's `PKG-INFO`, inside an otherwise well-formed sdist.
pub fn sdist_pkg_info(data: &[u8]) {
    if let Some(tar) = tar_with("fuzz_pkg-1.0.0/PKG-INFO", data) {
        sdist(&tar);
    }
}

/// A crate's `Cargo.toml`, inside an otherwise well-formed `.crate`.
pub fn cargo_toml(data: &[u8]) {
    if let Some(tar) = tar_with("fuzz-pkg-1.0.0/Cargo.toml", data) {
        crate_file(&tar);
    }
}

/// A wheel's `METADATA`, inside an otherwise well-formed wheel.
pub fn wheel_metadata(data: &[u8]) {
    let wheel_file: &[u8] = b"Wheel-Version: 1.0\nGenerator: fuzz\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    if let Some(zip) = zip_with(&[
        ("fuzz_pkg/__init__.py", b""),
        ("fuzz_pkg-1.0.0.dist-info/METADATA", data),
        ("fuzz_pkg-1.0.0.dist-info/WHEEL", wheel_file),
    ]) {
        identify_as("fuzz_pkg-1.0.0-py3-none-any.whl", &zip);
    }
}
