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

/// Runs ward with this test process's data directory (never the user's).
pub fn ward<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    ward_in(data_dir(), args)
}

/// Runs ward with its own data directory (ledger, first-seen store).
pub fn ward_in<I, S>(data: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .env("WARD_DATA_DIR", data)
        .output()
        .expect("run ward");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One data directory (and so one default ledger) for this test process,
/// never the user's own.
pub fn data_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("tempdir")).path()
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
    /// A FIFO (a special file no package needs).
    Fifo(&'a str),
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
            Entry::Fifo(name) => {
                header.set_size(0);
                header.set_entry_type(tar::EntryType::Fifo);
                builder.append_data(&mut header, name, &[][..]).expect("append fifo");
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

/// A test publisher: a key pair made by `ward keygen` in a temp directory.
pub struct Publisher {
    pub dir: tempfile::TempDir,
    pub key: PathBuf,
    pub public: PathBuf,
}

impl Publisher {
    pub fn new(algorithm: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let prefix = dir.path().join("test-publisher");
        ward([
            "keygen",
            "--algorithm",
            algorithm,
            "--output",
            prefix.to_str().unwrap_or_default(),
        ])
        .expect(0);
        Self {
            key: dir.path().join("test-publisher.key"),
            public: dir.path().join("test-publisher.pub"),
            dir,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes an artifact file and returns its path.
    pub fn artifact(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write artifact");
        p
    }

    /// `ward attest` with a JSON predicate; returns the bundle path.
    pub fn attest(&self, artifact: &Path, predicate_type: &str, predicate: &serde_json::Value, out: &str) -> PathBuf {
        let pred = self.path(&format!("{out}.predicate.json"));
        std::fs::write(&pred, serde_json::to_vec(predicate).expect("json")).expect("write predicate");
        let out = self.path(out);
        ward([
            "attest",
            "--key",
            self.key.to_str().unwrap_or_default(),
            "--predicate",
            pred.to_str().unwrap_or_default(),
            "--type",
            predicate_type,
            "--output",
            out.to_str().unwrap_or_default(),
            artifact.to_str().unwrap_or_default(),
        ])
        .expect(0);
        out
    }
}

/// An SLSA v1 provenance predicate as GitHub Actions writes it.
pub fn slsa_v1(repo: &str, git_ref: &str, builder: &str, runner: &str) -> serde_json::Value {
    serde_json::json!({
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {"workflow": {"ref": git_ref, "repository": repo, "path": ".github/workflows/release.yml"}},
            "internalParameters": {"github": {"event_name": "push", "runner_environment": runner}},
            "resolvedDependencies": [{"uri": format!("git+{repo}@{git_ref}"), "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}]
        },
        "runDetails": {"builder": {"id": builder}, "metadata": {"invocationId": "https://github.com/acme/x/actions/runs/1/attempts/1"}}
    })
}

pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
pub const HOSTED: &str = "https://github.com/actions/runner/github-hosted";

/// Reads a `--format json` run.
pub fn json_of(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.all()))
}

/// Runs ward with its own data directory, killing it if it has not ended
/// within `limit` (`None` then), so a hang fails a test instead of stalling
/// CI. Output goes to files: a chatty run cannot fill a pipe and look hung.
pub fn ward_within_in<I, S>(data: &Path, limit: std::time::Duration, args: I) -> Option<Run>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .env("WARD_DATA_DIR", data)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("run ward");
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Some(Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    })
}
