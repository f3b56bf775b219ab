//! Target for the risky-trait reader of ward-identify: the one pass over
//! an npm tarball, a wheel or an sdist that notes install scripts,
//! `binding.gyp`, dependencies, `.pth` files, native binaries by their
//! magic bytes and compiled-extension sources, reached through
//! `ward_identify::identify` and `identify_with` (the sha256 of every file
//! as well, as the risky-change rules and `ward audit` ask).
//!
//! Input as for the archive targets: a zip (starting with `PK\x03\x04`) is
//! read as a wheel named after its `.dist-info`; anything else is a tar
//! stream, gzipped here (gzip input passes through), read as an npm
//! tarball and as an sdist named after its top directory.
//!
//! Checked beyond "no panic": hashing every file does not change what the
//! read decides (the artifact, the problem and the traits are those of the
//! plain read), and for an archive read without a problem the native
//! binaries and `.pth` files come sorted and every native binary is one of
//! the files hashed.

use crate::archive::{gzip, options, tar_top, wheel_name};
use crate::scratch;
use ward_identify::FileDigests;

fn identify_checked(file_name: &str, bytes: &[u8]) {
    let Some(dir) = scratch::dir() else { return };
    let Some(path) = scratch::write(dir.path(), file_name, bytes) else {
        return;
    };
    let options = options();
    let (Ok(plain), Ok(hashed)) = (
        ward_identify::identify(&path, &options),
        ward_identify::identify_with(&path, &options, FileDigests::Compute),
    ) else {
        return;
    };
    assert_eq!(
        format!("{:?}", plain.artifact),
        format!("{:?}", hashed.artifact),
        "hashing every file changed the artifact of {file_name}"
    );
    assert_eq!(
        format!("{:?}", plain.problem),
        format!("{:?}", hashed.problem),
        "hashing every file changed the problem with {file_name}"
    );
    assert_eq!(
        format!("{:?}", plain.traits),
        format!("{:?}", hashed.traits),
        "hashing every file changed the traits of {file_name}"
    );
    assert!(plain.files.is_empty(), "files were hashed without being asked for");
    if hashed.problem.is_some() {
        assert!(hashed.traits.is_none(), "{file_name} has a problem and traits");
        return;
    }
    let Some(traits) = &hashed.traits else { return };
    assert!(
        traits.native_binaries.is_sorted() && traits.pth_files.is_sorted(),
        "the traits of {file_name} are not sorted"
    );
    for binary in &traits.native_binaries {
        assert!(
            hashed.files.iter().any(|f| f.path == binary.path),
            "native binary {} of {file_name} is not among its files",
            binary.path
        );
    }
    let _ = traits.install_hooks();
}

/// An npm tarball, wheel or sdist, for its risky traits.
pub fn archive_traits(data: &[u8]) {
    if data.starts_with(b"PK\x03\x04") {
        let wheel = wheel_name(data).unwrap_or_else(|| "fuzz_pkg-1.0.0-py3-none-any.whl".into());
        identify_checked(&wheel, data);
    } else {
        let gz = gzip(data);
        identify_checked("fuzz-pkg-1.0.0.tgz", &gz);
        identify_checked(&format!("{}.tar.gz", tar_top(&gz, "fuzz_pkg-1.0.0")), &gz);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::BinaryFormat;

    fn traits_of(file_name: &str, seed: &str) -> ward_core::ArchiveTraits {
        let data = std::fs::read(format!("{}/corpus/archive_traits/{seed}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let data = if data.starts_with(b"PK") { data } else { gzip(&data) };
        let dir = scratch::dir().unwrap();
        let path = scratch::write(dir.path(), file_name, &data).unwrap();
        let id = ward_identify::identify(&path, &options()).unwrap();
        assert!(id.problem.is_none(), "{seed}: {:?}", id.problem);
        id.traits.unwrap()
    }

    /// The target is worth running only if its seeds are read without a
    /// problem and carry the traits the rules look for.
    #[test]
    fn the_seeds_carry_risky_traits() {
        let npm = traits_of("fuzz-pkg-1.0.0.tgz", "npm-install-scripts-gyp-binaries.tar");
        assert_eq!(
            npm.install_scripts.keys().collect::<Vec<_>>(),
            ["install", "postinstall", "preinstall"]
        );
        assert!(npm.binding_gyp);
        let formats: Vec<BinaryFormat> = npm.native_binaries.iter().map(|b| b.format).collect();
        assert_eq!(
            formats.len(),
            4,
            "ELF, PE, Mach-O and a universal binary, not the class file: {formats:?}"
        );
        let wheel = traits_of("fuzz_pkg-1.0.0-py3-none-any.whl", "wheel-pth-native.whl");
        assert_eq!(wheel.pth_files, ["evil.pth", "fuzz_pkg-1.0.0.data/purelib/also.PTH"]);
        assert_eq!(wheel.native_binaries.len(), 1);
        let sdist = traits_of("fuzz_pkg-1.0.0.tar.gz", "sdist-extension-sources.tar");
        assert!(sdist.extension_sources);
        let deps = sdist.dependencies.unwrap();
        assert_eq!(deps.keys().collect::<Vec<_>>(), ["flatmap-stream", "requests"]);
        for seed in std::fs::read_dir(format!("{}/corpus/archive_traits", env!("CARGO_MANIFEST_DIR"))).unwrap() {
            archive_traits(&std::fs::read(seed.unwrap().path()).unwrap());
        }
    }
}
