//! What an archive does when installed, read statically from its bytes:
//! install scripts, declared dependencies, `.pth` files, native binaries.
//!
//! ward-identify fills an [`ArchiveTraits`] in the same pass that hashes the
//! artifact; the policy's risky-change rules compare it with the traits of
//! the previous release ward allowed (see ward-gate's release-traits store).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The executable format of a native binary, by its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BinaryFormat {
    /// ELF (Linux, BSD): `7F 45 4C 46`.
    Elf,
    /// PE (Windows): `MZ` with a `PE\0\0` header.
    Pe,
    /// Mach-O (macOS), thin or universal.
    MachO,
}

impl BinaryFormat {
    /// The name users know it by.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryFormat::Elf => "ELF",
            BinaryFormat::Pe => "PE",
            BinaryFormat::MachO => "Mach-O",
        }
    }
}

/// A native binary inside an archive.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct NativeBinary {
    /// Its path inside the package (below the archive's top directory for
    /// tarballs, from the root for wheels).
    pub path: String,
    /// Its format.
    pub format: BinaryFormat,
}

/// The sha256 of one file inside an archive (compared with the evidence
/// files a malicious-package record lists).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct FileDigest {
    /// Its path inside the package, as above.
    pub path: String,
    /// Lower-case hex sha256 of its content.
    pub sha256: String,
}

/// What an archive does when installed, as far as its bytes say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct ArchiveTraits {
    /// npm lifecycle scripts that run at install (`preinstall`, `install`,
    /// `postinstall`), with their commands.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub install_scripts: BTreeMap<String, String>,
    /// Whether an npm package ships a top-level `binding.gyp` (npm then runs
    /// `node-gyp rebuild` at install when no `install` script is given).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub binding_gyp: bool,
    /// Dependencies installed with the package, name to requirement as
    /// written; `None` when its metadata does not say (an sdist whose
    /// `PKG-INFO` lists no `Requires-Dist`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<BTreeMap<String, String>>,
    /// `.pth` files a wheel installs into site-packages (its top level, or
    /// `*.data/purelib` / `*.data/platlib`): Python runs their `import` lines
    /// at every interpreter start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pth_files: Vec<String>,
    /// Native binaries (ELF, PE, Mach-O), by magic bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub native_binaries: Vec<NativeBinary>,
    /// For an sdist: whether it holds sources of a compiled extension (C,
    /// C++, Cython, Rust, Fortran, …); an sdist without any is a pure-Python
    /// project that could have shipped a wheel.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extension_sources: bool,
}

impl ArchiveTraits {
    /// The install scripts and `binding.gyp`, as one list of
    /// `(name, what runs)` (a `binding.gyp` without an `install` script runs
    /// `node-gyp rebuild`, as npm does).
    pub fn install_hooks(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .install_scripts
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if self.binding_gyp && !self.install_scripts.contains_key("install") {
            out.push(("binding.gyp".into(), "node-gyp rebuild".into()));
        }
        out
    }
}
