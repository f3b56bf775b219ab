//! Helpers: [`TestContext`] (each test's own data directory, ledger, home,
//! clean environment and, when asked, pinned clock) to run the `ward`
//! binary in; `ward proxy` started from [`ProxyOptions`] (in `proxy`); a
//! loopback upstream, [`FakeRegistry`] (in `upstream`); the shared test
//! data; archives and keys made for tests.

#![allow(dead_code)]

mod proxy;
mod upstream;

pub(crate) use proxy::{ProxyOptions, ProxyProcess, get, read_banner};
pub(crate) use upstream::{Answer, FakeRegistry};

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a `ward` run produced.
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub(crate) fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Asserts the exit code and that no panic message appears.
    #[track_caller]
    pub(crate) fn expect(&self, code: i32) -> &Self {
        assert!(!self.stderr.contains("panicked"), "ward panicked:\n{}", self.stderr);
        assert_eq!(self.code, code, "unexpected exit code; output:\n{}", self.all());
        self
    }

    /// Asserts the output names this reason code.
    #[track_caller]
    pub(crate) fn reason(&self, code: &str) -> &Self {
        let all = self.all();
        let found = all.contains(&format!("[{code}]")) || all.contains(&format!("\"code\": \"{code}\""));
        assert!(found, "expected reason [{code}] in:\n{all}");
        self
    }
}

/// One test's world: its own data directory (and so its own ledger,
/// first-seen store and trust state), its own home, and, when asked, a
/// pinned clock. Every `ward` it runs starts from a clean environment:
/// nothing the developer or CI exported (`WARD_*`, `HOME`, `XDG_*`, CA
/// bundles, proxy and package-source variables) reaches the child, so two
/// tests never share state and a test never touches the user's files.
///
/// Tests that need state shared between runs share one context on purpose.
pub(crate) struct TestContext {
    root: tempfile::TempDir,
    /// `WARD_DATA_DIR` of every run (the ledger is `data/ledger`).
    pub data: PathBuf,
    /// `HOME` of every run.
    pub home: PathBuf,
    /// `WARD_TEST_NOW` of every run, when the clock is pinned.
    now: Option<String>,
}

/// The instant tests about expiry pin ward's clock to (see
/// [`TestContext::at`]), so "in 60 days" means the same date on every run.
pub(crate) const TEST_NOW: &str = "2026-06-01T12:00:00Z";

/// The date `offset_days` from [`TEST_NOW`], as `YYYY-MM-DD`.
pub(crate) fn test_day(offset_days: i64) -> String {
    let now: jiff::Timestamp = TEST_NOW.parse().expect("TEST_NOW");
    now.to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(offset_days))
        .expect("date in range")
        .to_string()
}

/// Variables the child never inherits: every name with one of these
/// prefixes, and these names (ward reads them, or a library it uses does).
const CLEARED_PREFIXES: &[&str] = &["WARD_", "XDG_", "npm_config_@"];
const CLEARED_NAMES: &[&str] = &[
    "HOME",
    // clap wraps help to these; snapshots need one width.
    "COLUMNS",
    "LINES",
    "CARGO_HOME",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_INDEX",
];

impl TestContext {
    /// A fresh world with the real clock.
    pub(crate) fn new() -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        let data = root.path().join("data");
        let home = root.path().join("home");
        std::fs::create_dir_all(&home).expect("home dir");
        Self {
            root,
            data,
            home,
            now: None,
        }
    }

    /// Pins ward's clock to this instant (RFC 3339) for every run.
    pub(crate) fn at(mut self, now: &str) -> Self {
        self.now = Some(now.to_string());
        self
    }

    /// A scratch path inside this test's directory (beside `data` and `home`).
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// This test's directory.
    pub(crate) fn dir(&self) -> &Path {
        self.root.path()
    }

    /// The default embedded ledger of this context.
    pub(crate) fn ledger(&self) -> PathBuf {
        self.data.join("ledger")
    }

    /// The `ward` binary with this context's clean environment; add
    /// arguments, more variables, stdio as needed.
    pub(crate) fn command(&self) -> Command {
        self.command_in(&self.data)
    }

    /// As [`TestContext::command`], with another data directory (a second
    /// machine, or a directory the test prepared).
    pub(crate) fn command_in(&self, data: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ward"));
        isolate(&mut cmd, data, &self.home, self.now.as_deref());
        cmd
    }

    /// Snapshot filters, as (regex, replacement), applied in order: this
    /// test's directory, the shared test data, then what changes from run
    /// to run (times, digests, the ledger's random origin, key and
    /// signatures, durations).
    pub(crate) fn filters(&self) -> Vec<(String, String)> {
        let mut filters = Vec::new();
        let mut literal = |path: &Path, name: &str| {
            for p in [Some(path.to_path_buf()), path.canonicalize().ok()]
                .into_iter()
                .flatten()
            {
                filters.push((regex_escape(&p.display().to_string()), name.to_string()));
            }
        };
        literal(self.root.path(), "[TEMP]");
        literal(&shared(), "[TESTDATA]");
        for (pattern, name) in [
            // Before the digests: a checkpoint's root hash and note signature are base64.
            (
                r"ward\.local/ledger/[0-9a-f]{8}\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+",
                "[LEDGER-KEY]",
            ),
            (
                r"— ward\.local/ledger/[0-9a-f]{8} [A-Za-z0-9+/=]+",
                "— [ORIGIN] [SIGNATURE]",
            ),
            (r"ward\.local/ledger/[0-9a-f]{8}", "[ORIGIN]"),
            (r"(\\n|\n)[A-Za-z0-9+/]{43}=(\\n|\n)", "${1}[ROOT-HASH]${2}"),
            (
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                "[TIME]",
            ),
            (r"\b[0-9a-f]{128}\b", "[SHA512]"),
            (r"\b[0-9a-f]{64}\b", "[SHA256]"),
            (r"\b\d+(\.\d+)?\s?(ms|µs|s)\b", "[DURATION]"),
        ] {
            filters.push((pattern.to_string(), name.to_string()));
        }
        filters
    }

    /// Gives any command (a shell that runs ward, say) this context's clean
    /// environment, with `data` as ward's data directory.
    pub(crate) fn isolate<'c>(&self, cmd: &'c mut Command, data: &Path) -> &'c mut Command {
        isolate(cmd, data, &self.home, self.now.as_deref());
        cmd
    }

    /// Runs ward in this context.
    pub(crate) fn ward<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        run(self.command().args(args))
    }

    /// Runs ward in this context with its clock at `now` (RFC 3339), whatever
    /// the context's.
    pub(crate) fn ward_at<I, S>(&self, now: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        run(self.command().env("WARD_TEST_NOW", now).args(args))
    }

    /// Runs ward in this context with another data directory.
    pub(crate) fn ward_in<I, S>(&self, data: &Path, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        run(self.command_in(data).args(args))
    }

    /// Runs ward in this context, killing it if it has not ended within
    /// `limit` (`None` then), so a hang fails a test instead of stalling CI.
    pub(crate) fn ward_within<I, S>(&self, limit: std::time::Duration, args: I) -> Option<Run>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        within(self.command().args(args), limit)
    }

    /// As [`TestContext::ward_within`], with another data directory.
    pub(crate) fn ward_within_in<I, S>(&self, data: &Path, limit: std::time::Duration, args: I) -> Option<Run>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        within(self.command_in(data).args(args), limit)
    }
}

/// `text` as a regex that matches only itself.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Clears what the child must not inherit and sets this test's own values.
fn isolate(cmd: &mut Command, data: &Path, home: &Path, now: Option<&str>) {
    for (name, _) in std::env::vars_os() {
        let Some(text) = name.to_str() else { continue };
        if CLEARED_NAMES.contains(&text) || CLEARED_PREFIXES.iter().any(|p| text.starts_with(p)) {
            cmd.env_remove(&name);
        }
    }
    // rustup finds its toolchains through HOME unless told: keep the real
    // ones, so a test that runs cargo under `ward run` still can.
    if std::env::var_os("RUSTUP_HOME").is_none()
        && let Some(real) = std::env::var_os("HOME").map(|h| Path::new(&h).join(".rustup"))
        && real.is_dir()
    {
        cmd.env("RUSTUP_HOME", real);
    }
    cmd.env("HOME", home).env("WARD_DATA_DIR", data);
    if let Some(now) = now {
        cmd.env("WARD_TEST_NOW", now);
    }
}

/// Runs `cmd` (ward, in some context) to the end.
pub(crate) fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run ward");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `cmd` with output in files (a chatty run cannot fill a pipe and
/// look hung), killing it after `limit`.
fn within(cmd: &mut Command, limit: std::time::Duration) -> Option<Run> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = cmd
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

/// `../shared/testdata`, beside the project root.
pub(crate) fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
}

pub(crate) fn conformance() -> PathBuf {
    shared().join("sigstore-conformance/bundle-verify")
}

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub(crate) const BEACON_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
pub(crate) const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// One entry of a test archive.
pub(crate) enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    /// A raw name written straight into the header (bypasses the tar crate's own path checks).
    RawName(&'a [u8], &'a [u8]),
    /// A FIFO (a special file no package needs).
    Fifo(&'a str),
}

/// Writes a gzip tarball with these entries.
pub(crate) fn tgz(path: &Path, entries: &[Entry<'_>]) {
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

/// npm's `integrity` of these bytes: `sha512-` and the base64 digest.
pub(crate) fn sha512_sri(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    )
}

/// The `package/package.json` inside an npm tarball.
pub(crate) fn npm_manifest(tgz: &[u8]) -> serde_json::Value {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        if entry.path().expect("entry path").to_string_lossy() == "package/package.json" {
            let mut text = Vec::new();
            entry.read_to_end(&mut text).expect("read package.json");
            return serde_json::from_slice(&text).expect("package.json is JSON");
        }
    }
    panic!("no package/package.json");
}

/// An npm tarball rebuilt with its package.json edited and files added,
/// written to `out`; its bytes.
pub(crate) fn repack(
    src: &Path,
    edit: impl Fn(&mut serde_json::Value),
    extra: &[(&str, &[u8])],
    out: &Path,
) -> Vec<u8> {
    let bytes = std::fs::read(src).expect("read tarball");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        let path = entry.path().expect("entry path").to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        if path == "package/package.json" {
            let mut json: serde_json::Value = serde_json::from_slice(&data).expect("package.json is JSON");
            edit(&mut json);
            data = serde_json::to_vec_pretty(&json).expect("json");
        }
        files.push((path, data));
    }
    files.extend(extra.iter().map(|(p, d)| (p.to_string(), d.to_vec())));
    let entries: Vec<Entry<'_>> = files.iter().map(|(p, d)| Entry::File(p, d)).collect();
    tgz(out, &entries);
    std::fs::read(out).expect("read repacked tarball")
}

/// Writes a zip with these files (deflated).
pub(crate) fn zip(path: &Path, files: &[(&str, &[u8])]) {
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
pub(crate) struct TestKey {
    pub pair: sigstore_verify::crypto::KeyPair,
    pub pub_pem: PathBuf,
}

impl TestKey {
    pub(crate) fn generate(dir: &Path, name: &str, algorithm: sigstore_verify::crypto::KeyAlgorithm) -> Self {
        let pair = sigstore_verify::crypto::KeyPair::generate(algorithm).expect("generate key");
        let der = pair.public_key_der().expect("public key");
        let pem = pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, der.as_bytes()).expect("pem");
        let pub_pem = dir.join(format!("{name}.pub.pem"));
        std::fs::write(&pub_pem, pem).expect("write key");
        Self { pair, pub_pem }
    }

    /// Writes a base64 detached signature of `artifact` next to it, returns its path.
    pub(crate) fn sign_file(&self, artifact: &Path) -> PathBuf {
        use base64::Engine as _;
        let data = std::fs::read(artifact).expect("read artifact");
        let sig = self.pair.sign(&data).expect("sign");
        let path = PathBuf::from(format!("{}.sig", artifact.display()));
        std::fs::write(&path, base64::engine::general_purpose::STANDARD.encode(sig.as_bytes())).expect("write sig");
        path
    }
}

/// A test publisher: a key pair made by `ward keygen` in a temp directory.
pub(crate) struct Publisher {
    pub dir: tempfile::TempDir,
    pub key: PathBuf,
    pub public: PathBuf,
    /// The context this publisher's keys were made in; tests about one
    /// publisher's artifacts run ward in it too.
    pub ctx: TestContext,
}

impl Publisher {
    pub(crate) fn new(algorithm: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let prefix = dir.path().join("test-publisher");
        let ctx = TestContext::new();
        ctx.ward([
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
            ctx,
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes an artifact file and returns its path.
    pub(crate) fn artifact(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write artifact");
        p
    }

    /// `ward attest` with a JSON predicate; returns the bundle path.
    pub(crate) fn attest(
        &self,
        artifact: &Path,
        predicate_type: &str,
        predicate: &serde_json::Value,
        out: &str,
    ) -> PathBuf {
        let pred = self.path(&format!("{out}.predicate.json"));
        std::fs::write(&pred, serde_json::to_vec(predicate).expect("json")).expect("write predicate");
        let out = self.path(out);
        self.ctx
            .ward([
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
pub(crate) fn slsa_v1(repo: &str, git_ref: &str, builder: &str, runner: &str) -> serde_json::Value {
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

pub(crate) const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
pub(crate) const HOSTED: &str = "https://github.com/actions/runner/github-hosted";

/// Reads a `--format json` run.
pub(crate) fn json_of(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.all()))
}
