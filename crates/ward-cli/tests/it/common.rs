//! Helpers: run the `ward` binary, find shared test data, build archives.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a `ward` run produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Asserts the exit code and that no panic message appears.
    #[track_caller]
    pub fn expect(&self, code: i32) -> &Self {
        assert!(!self.stderr.contains("panicked"), "ward panicked:\n{}", self.stderr);
        assert_eq!(self.code, code, "unexpected exit code; output:\n{}", self.all());
        self
    }

    /// Asserts the output names this reason code.
    #[track_caller]
    pub fn reason(&self, code: &str) -> &Self {
        let all = self.all();
        let found = all.contains(&format!("[{code}]")) || all.contains(&format!("\"code\": \"{code}\""));
        assert!(found, "expected reason [{code}] in:\n{all}");
        self
    }
}

pub fn ward<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .output()
        .expect("run ward");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `../shared/testdata`, beside the project root.
pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
}

pub fn conformance() -> PathBuf {
    shared().join("sigstore-conformance/bundle-verify")
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub const BEACON_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// One entry of a test archive.
pub enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    /// A raw name written straight into the header (bypasses the tar crate's own path checks).
    RawName(&'a [u8], &'a [u8]),
}

/// Writes a gzip tarball with these entries.
pub fn tgz(path: &Path, entries: &[Entry<'_>]) {
    let file = std::fs::File::create(path).expect("create tgz");
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::best());
    let mut builder = tar::Builder::new(gz);
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        match entry {
            Entry::File(name, data) => {
                header.set_size(data.len() as u64);
                header.set_entry_type(tar::EntryType::Regular);
                builder.append_data(&mut header, name, *data).expect("append");
            }
            Entry::Symlink(name, target) => {
                header.set_size(0);
                header.set_entry_type(tar::EntryType::Symlink);
                builder.append_link(&mut header, name, target).expect("append link");
            }
            Entry::RawName(name, data) => {
                header.set_size(data.len() as u64);
                header.set_entry_type(tar::EntryType::Regular);
                header.as_old_mut().name[..name.len()].copy_from_slice(name);
                header.set_cksum();
                builder.append(&header, *data).expect("append raw");
            }
        }
    }
    builder
        .into_inner()
        .expect("finish tar")
        .finish()
        .expect("finish gz")
        .flush()
        .expect("flush");
}

/// Writes a zip with these files (deflated).
pub fn zip(path: &Path, files: &[(&str, &[u8])]) {
    let file = std::fs::File::create(path).expect("create zip");
    let mut w = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(*name, opts).expect("start file");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish zip");
}

/// A test-only signing key (generated per test run) and its PEM public key on disk.
pub struct TestKey {
    pub pair: sigstore_verify::crypto::KeyPair,
    pub pub_pem: PathBuf,
}

impl TestKey {
    pub fn generate(dir: &Path, name: &str, algorithm: sigstore_verify::crypto::KeyAlgorithm) -> Self {
        let pair = sigstore_verify::crypto::KeyPair::generate(algorithm).expect("generate key");
        let der = pair.public_key_der().expect("public key");
        let pem = pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, der.as_bytes()).expect("pem");
        let pub_pem = dir.join(format!("{name}.pub.pem"));
        std::fs::write(&pub_pem, pem).expect("write key");
        Self { pair, pub_pem }
    }

    /// Writes a base64 detached signature of `artifact` next to it, returns its path.
    pub fn sign_file(&self, artifact: &Path) -> PathBuf {
        use base64::Engine as _;
        let data = std::fs::read(artifact).expect("read artifact");
        let sig = self.pair.sign(&data).expect("sign");
        let path = PathBuf::from(format!("{}.sig", artifact.display()));
        std::fs::write(&path, base64::engine::general_purpose::STANDARD.encode(sig.as_bytes())).expect("write sig");
        path
    }
}
