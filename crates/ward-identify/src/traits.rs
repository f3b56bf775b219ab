//! Static traits of an archive, gathered during the one read that walks it:
//! install scripts, `binding.gyp`, dependencies, `.pth` files, native
//! binaries by magic bytes, compiled-extension sources in sdists, and (when
//! asked) the sha256 of every file.
//!
//! Written here by hand: the walk already sees every entry with the limits
//! applied, and the checks are a few comparisons of paths and first bytes.
//! The metadata files are the ones identity reads (`package.json`,
//! `METADATA`, `PKG-INFO`, `Cargo.toml`), already captured and bounded.

use crate::error::ArchiveError;
use crate::limits::archive_error;
use crate::tar_gz::Captured;
use sha2::Digest;
use std::collections::BTreeMap;
use std::io::{self, Read};
use ward_core::{ArchiveTraits, ArtifactKind, BinaryFormat, FileDigest, NativeBinary, purl::normalize_pypi_name};

/// Bytes read from the start of each file to recognise native binaries.
const PREFIX: usize = 1024;

/// File extensions of compiled-extension sources in an sdist.
const EXTENSION_SOURCES: &[&str] = &[
    "c", "cc", "cpp", "cxx", "c++", "pyx", "rs", "f", "f90", "f95", "for", "m", "mm", "cu", "go", "zig",
];

/// npm lifecycle scripts that run when a package is installed.
const INSTALL_SCRIPTS: &[&str] = &["preinstall", "install", "postinstall"];

/// What the walk saw, file by file.
#[derive(Default)]
pub(crate) struct Observer {
    /// Whether to compute the sha256 of every file.
    pub(crate) hash_files: bool,
    pub(crate) binaries: Vec<NativeBinary>,
    pub(crate) files: Vec<FileDigest>,
    binding_gyp: bool,
    /// Wheel `.pth` files (top level, or `*.data/purelib|platlib`).
    pth: Vec<String>,
    extension_sources: bool,
}

impl Observer {
    pub(crate) fn new(hash_files: bool) -> Self {
        Self {
            hash_files,
            ..Self::default()
        }
    }

    /// Notes a file by its path (components below the archive's top
    /// directory for tarballs, from the root for zips).
    fn path(&mut self, rel: &[&str]) {
        match rel {
            ["binding.gyp"] => self.binding_gyp = true,
            [name] if name.to_ascii_lowercase().ends_with(".pth") => self.pth.push(name.to_string()),
            [data, lib, name]
                if data.ends_with(".data")
                    && matches!(*lib, "purelib" | "platlib")
                    && name.to_ascii_lowercase().ends_with(".pth") =>
            {
                self.pth.push(rel.join("/"));
            }
            _ => {}
        }
        if let Some(ext) = rel
            .last()
            .and_then(|n| n.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase())
            && EXTENSION_SOURCES.contains(&ext.as_str())
        {
            self.extension_sources = true;
        }
    }

    /// Reads one file to its end (returning the bytes read): its first bytes
    /// say whether it is a native binary, and with `hash_files` its content
    /// is hashed.
    pub(crate) fn file(&mut self, rel: &[&str], data: &mut dyn Read) -> Result<u64, ArchiveError> {
        self.path(rel);
        let mut prefix = [0u8; PREFIX];
        let mut n = 0;
        while n < PREFIX {
            match data.read(&mut prefix[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(archive_error(e)),
            }
        }
        let path = rel.join("/");
        if let Some(format) = binary_format(&prefix[..n]) {
            self.binaries.push(NativeBinary {
                path: path.clone(),
                format,
            });
        }
        let rest = if self.hash_files {
            let mut hasher = sha2::Sha256::new();
            hasher.update(&prefix[..n]);
            let rest = io::copy(data, &mut hasher).map_err(archive_error)?;
            self.files.push(FileDigest {
                path,
                sha256: hex::encode(hasher.finalize()),
            });
            rest
        } else {
            io::copy(data, &mut io::sink()).map_err(archive_error)?
        };
        Ok(n as u64 + rest)
    }

    /// A file captured whole for identification.
    pub(crate) fn captured(&mut self, rel: &[&str], content: &[u8]) {
        let mut reader = content;
        // Reading from a slice cannot fail.
        let _ = self.file(rel, &mut reader);
    }
}

/// The native-binary format of a file, from its first bytes.
pub(crate) fn binary_format(b: &[u8]) -> Option<BinaryFormat> {
    let u32_be = |i: usize| b.get(i..i + 4).map(|x| u32::from_be_bytes([x[0], x[1], x[2], x[3]]));
    match b.get(..4)? {
        [0x7f, b'E', b'L', b'F'] => Some(BinaryFormat::Elf),
        [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] => Some(BinaryFormat::MachO),
        // Universal binaries share CAFEBABE with Java class files; a class
        // file's next word is its version (45 and up), a universal binary's
        // its architecture count (a handful), as file(1) tells them apart.
        [0xca, 0xfe, 0xba, 0xbe | 0xbf] => u32_be(4).filter(|&n| n > 0 && n < 20).map(|_| BinaryFormat::MachO),
        [b'M', b'Z', ..] => {
            // The PE header's offset is at 0x3C; a DOS stub that points past
            // what was read still counts (an executable either way).
            let at = b.get(0x3c..0x40)?;
            let at = u32::from_le_bytes([at[0], at[1], at[2], at[3]]) as usize;
            match b.get(at..at.saturating_add(4)) {
                Some(sig) => (sig == b"PE\0\0").then_some(BinaryFormat::Pe),
                None => (at >= b.len()).then_some(BinaryFormat::Pe),
            }
        }
        _ => None,
    }
}

fn malformed(what: &str, why: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::MetadataMalformed(format!("{what}: {why}"))
}

/// A JSON value as a requirement string.
fn spec(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// npm: install scripts and dependencies from `package.json`. npm drops a
/// `scripts` or dependency field that is not an object (normalize-package-data),
/// so such a field holds nothing; a script whose command is not a string
/// still counts as a script.
fn npm(content: &[u8], traits: &mut ArchiveTraits) -> Result<(), ArchiveError> {
    let v: serde_json::Value = serde_json::from_slice(content).map_err(|e| malformed("package.json", e))?;
    npm_manifest(&v, traits);
    Ok(())
}

/// The install scripts and dependencies an npm manifest declares, read the
/// one way ward reads them: from a tarball's `package.json` here, and from
/// each version's manifest in a packument by the proxy's risky-change
/// baseline, so the two can never disagree about what changed.
pub fn npm_manifest(v: &serde_json::Value, traits: &mut ArchiveTraits) {
    if let Some(scripts) = v.get("scripts").and_then(|s| s.as_object()) {
        for name in INSTALL_SCRIPTS {
            if let Some(cmd) = scripts.get(*name) {
                traits.install_scripts.insert((*name).to_string(), spec(cmd));
            }
        }
    }
    let mut deps = BTreeMap::new();
    for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
        if let Some(map) = v.get(field).and_then(|d| d.as_object()) {
            for (name, req) in map {
                deps.entry(name.clone()).or_insert_with(|| spec(req));
            }
        }
    }
    traits.dependencies = Some(deps);
}

/// Python core metadata: `Requires-Dist` entries installed by default
/// (those under an `extra` marker are not). `None` when there are none and
/// `any_required` is false (an sdist's `PKG-INFO` may simply not say).
fn requires_dist(
    what: &str,
    content: &[u8],
    any_required: bool,
) -> Result<Option<BTreeMap<String, String>>, ArchiveError> {
    let text = std::str::from_utf8(content).map_err(|e| malformed(what, e))?;
    let mut deps = BTreeMap::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("requires-dist") {
            continue;
        }
        let value = value.trim();
        let (requirement, marker) = value.split_once(';').unwrap_or((value, ""));
        if marker.contains("extra") {
            continue;
        }
        let end = requirement
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(requirement.len());
        let name = &requirement[..end];
        if name.is_empty() {
            return Err(malformed(what, format!("Requires-Dist {value:?} names no project")));
        }
        deps.insert(normalize_pypi_name(name), value.to_string());
    }
    Ok((any_required || !deps.is_empty()).then_some(deps))
}

/// Cargo: the crates built with the package (normal, build and
/// target-specific dependencies; not dev-dependencies).
fn cargo(content: &[u8]) -> Result<BTreeMap<String, String>, ArchiveError> {
    let text = std::str::from_utf8(content).map_err(|e| malformed("Cargo.toml", e))?;
    let v: toml::Table = toml::from_str(text).map_err(|e| malformed("Cargo.toml", e.message()))?;
    let mut deps = BTreeMap::new();
    let mut add = |table: Option<&toml::Value>| {
        for (key, req) in table.and_then(|t| t.as_table()).into_iter().flatten() {
            let name = req
                .get("package")
                .and_then(|p| p.as_str())
                .unwrap_or(key.as_str())
                .to_string();
            let version = match req {
                toml::Value::String(s) => s.clone(),
                other => other.get("version").and_then(|v| v.as_str()).unwrap_or("*").to_string(),
            };
            deps.entry(name).or_insert(version);
        }
    };
    for field in ["dependencies", "build-dependencies"] {
        add(v.get(field));
    }
    for target in v
        .get("target")
        .and_then(|t| t.as_table())
        .into_iter()
        .flat_map(|t| t.values())
    {
        for field in ["dependencies", "build-dependencies"] {
            add(target.get(field));
        }
    }
    Ok(deps)
}

/// The traits of an identified archive, from what the walk saw and the
/// metadata file identity read (`meta`).
pub(crate) fn summarize(
    kind: ArtifactKind,
    meta: Option<&Captured>,
    observer: &Observer,
) -> Result<ArchiveTraits, ArchiveError> {
    let mut traits = ArchiveTraits {
        native_binaries: observer.binaries.clone(),
        ..ArchiveTraits::default()
    };
    traits.native_binaries.sort();
    match (kind, meta) {
        (ArtifactKind::NpmTarball, Some(m)) => {
            npm(&m.content, &mut traits)?;
            traits.binding_gyp = observer.binding_gyp;
        }
        (ArtifactKind::Wheel, Some(m)) => {
            traits.dependencies = requires_dist("METADATA", &m.content, true)?;
            traits.pth_files = observer.pth.clone();
            traits.pth_files.sort();
        }
        (ArtifactKind::Sdist, Some(m)) => {
            traits.dependencies = requires_dist("PKG-INFO", &m.content, false)?;
            traits.extension_sources = observer.extension_sources;
        }
        (ArtifactKind::Crate, Some(m)) => traits.dependencies = Some(cargo(&m.content)?),
        _ => {}
    }
    Ok(traits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_name_the_format() {
        assert_eq!(binary_format(b"\x7fELF\x02\x01"), Some(BinaryFormat::Elf));
        assert_eq!(
            binary_format(&[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]),
            Some(BinaryFormat::MachO)
        );
        assert_eq!(
            binary_format(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]),
            Some(BinaryFormat::MachO)
        );
        // A Java class file (version 52) is not a universal binary.
        assert_eq!(binary_format(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]), None);
        let mut pe = vec![0u8; 0x100];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        assert_eq!(binary_format(&pe), Some(BinaryFormat::Pe));
        pe[0x80] = b'X';
        assert_eq!(binary_format(&pe), None);
        assert_eq!(binary_format(b"MZ is how this text starts"), None);
        assert_eq!(binary_format(b"#!/bin/sh\n"), None);
        assert_eq!(binary_format(b"\x7fEL"), None);
    }

    #[test]
    fn requires_dist_skips_extras_and_names_projects() {
        let meta = b"Name: x\nVersion: 1\nRequires-Dist: Requests>=2 ; python_version > '3'\nRequires-Dist: pytest; extra == 'test'\nRequires-Dist: flatmap_stream\n\nbody\nRequires-Dist: ignored\n";
        let deps = requires_dist("METADATA", meta, true).unwrap().unwrap();
        assert_eq!(deps.keys().collect::<Vec<_>>(), ["flatmap-stream", "requests"]);
        assert_eq!(requires_dist("PKG-INFO", b"Name: x\n", false).unwrap(), None);
        assert_eq!(
            requires_dist("METADATA", b"Name: x\n", true).unwrap(),
            Some(BTreeMap::new())
        );
        assert!(requires_dist("METADATA", b"Requires-Dist: >=1\n", true).is_err());
    }

    #[test]
    fn cargo_dependencies_include_build_and_target_ones() {
        let toml = br#"
[package]
name = "x"
version = "1.0.0"
[dependencies]
serde = "1"
rename = { package = "real-name", version = "0.2" }
[build-dependencies]
cc = { version = "1.0" }
[dev-dependencies]
tempfile = "3"
[target.'cfg(unix)'.dependencies]
libc = "0.2"
"#;
        let deps = cargo(toml).unwrap();
        assert_eq!(deps.keys().collect::<Vec<_>>(), ["cc", "libc", "real-name", "serde"]);
    }

    #[test]
    fn observer_sees_pth_gyp_and_sources() {
        let mut o = Observer::new(true);
        o.captured(&["binding.gyp"], b"{}");
        o.captured(&["evil.pth"], b"import os");
        o.captured(&["x-1.data", "purelib", "y.pth"], b"");
        o.captured(&["pkg", "not-top.pth"], b"");
        o.captured(&["src", "ext.c"], b"int x;");
        o.captured(&["lib.so"], b"\x7fELF....");
        assert!(o.binding_gyp && o.extension_sources);
        assert_eq!(o.pth, ["evil.pth", "x-1.data/purelib/y.pth"]);
        assert_eq!(o.binaries.len(), 1);
        assert_eq!(o.files.len(), 6);
        assert_eq!(
            o.files[0].sha256,
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
