//! Starting the real `ward proxy` in a test: [`ProxyOptions`] says what
//! varies between tests (data directory, upstreams, policy, configuration
//! file, cache, evidence, probing, clock, environment, more flags), and
//! [`TestContext::proxy`] starts it on a free loopback port in that
//! context's clean environment, waits for its banner and keeps its
//! decision log. [`get`] fetches from it without treating a refusal as an
//! error.

use super::TestContext;
use std::io::{BufRead as _, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How to start one `ward proxy`. Everything is optional: the default is a
/// proxy with no upstream, the context's data directory and clock.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProxyOptions {
    data: Option<PathBuf>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    now: Option<String>,
    dir: Option<PathBuf>,
}

impl ProxyOptions {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// ward's data directory (ledger, first-seen store) for this proxy,
    /// instead of the context's.
    pub(crate) fn data(mut self, dir: impl AsRef<Path>) -> Self {
        self.data = Some(dir.as_ref().to_path_buf());
        self
    }

    fn flag(self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.arg(name).arg(value.as_ref().to_string_lossy())
    }

    /// `--npm-upstream` (a URL or a directory).
    pub(crate) fn npm(self, upstream: impl AsRef<std::ffi::OsStr>) -> Self {
        self.flag("--npm-upstream", upstream)
    }

    /// `--pypi-upstream` (a URL or a directory).
    pub(crate) fn pypi(self, upstream: impl AsRef<std::ffi::OsStr>) -> Self {
        self.flag("--pypi-upstream", upstream)
    }

    /// `--cargo-upstream` (a URL or a directory).
    pub(crate) fn cargo(self, upstream: impl AsRef<std::ffi::OsStr>) -> Self {
        self.flag("--cargo-upstream", upstream)
    }

    /// `--probe-sidecars ECOSYSTEM`: look for bundles beside the artifacts upstream.
    pub(crate) fn probe(self, ecosystem: &str) -> Self {
        self.flag("--probe-sidecars", ecosystem)
    }

    /// `--policy`.
    pub(crate) fn policy(self, path: impl AsRef<std::ffi::OsStr>) -> Self {
        self.flag("--policy", path)
    }

    /// `--config`.
    pub(crate) fn config(self, path: impl AsRef<std::ffi::OsStr>) -> Self {
        self.flag("--config", path)
    }

    /// `--cache`.
    pub(crate) fn cache(self, dir: impl AsRef<std::ffi::OsStr>) -> Self {
        self.flag("--cache", dir)
    }

    /// `--evidence`.
    pub(crate) fn evidence(self, dir: impl AsRef<std::ffi::OsStr>) -> Self {
        self.flag("--evidence", dir)
    }

    /// One more argument, as given.
    pub(crate) fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// More arguments, as given.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// A variable in the proxy's environment (after the context cleared it).
    pub(crate) fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// Pins this proxy's clock (`WARD_TEST_NOW`), whatever the context's.
    pub(crate) fn at(mut self, now: &str) -> Self {
        self.now = Some(now.to_string());
        self
    }

    /// The directory the proxy starts in (relative paths are read from there).
    pub(crate) fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_path_buf());
        self
    }
}

impl TestContext {
    /// `ward proxy --listen 127.0.0.1:0` with these options in this
    /// context's clean environment, not yet started (for a test that
    /// expects it not to start, or handles its pipes itself).
    pub(crate) fn proxy_command(&self, opts: &ProxyOptions) -> Command {
        let mut cmd = self.command_in(opts.data.as_deref().unwrap_or(&self.data));
        cmd.arg("proxy").args(["--listen", "127.0.0.1:0"]).args(&opts.args);
        for (name, value) in &opts.env {
            cmd.env(name, value);
        }
        if let Some(now) = &opts.now {
            cmd.env("WARD_TEST_NOW", now);
        }
        if let Some(dir) = &opts.dir {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// Starts `ward proxy` with these options and waits for its banner;
    /// it is stopped when the returned value is dropped.
    pub(crate) fn proxy(&self, opts: ProxyOptions) -> ProxyProcess {
        let mut child = self
            .proxy_command(&opts)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ward proxy");
        let log = Arc::new(Mutex::new(String::new()));
        let err = std::io::BufReader::new(child.stderr.take().expect("stderr"));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                let mut text = sink.lock().expect("log");
                text.push_str(&line);
                text.push('\n');
            }
        });
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let base = read_banner(&mut out);
        // Keep draining stdout so the proxy never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        ProxyProcess { child, base, log }
    }
}

/// The address in `ward proxy`'s first line (`ward proxy listening on URL`).
pub(crate) fn read_banner(out: &mut impl std::io::BufRead) -> String {
    let mut line = String::new();
    out.read_line(&mut line).expect("read the banner");
    line.trim()
        .strip_prefix("ward proxy listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from ward proxy: {line:?}"))
        .to_string()
}

/// A running `ward proxy`, stopped on drop.
pub(crate) struct ProxyProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// What the proxy wrote to standard error so far (its decision log).
    pub log: Arc<Mutex<String>>,
}

impl ProxyProcess {
    /// Sends SIGTERM and waits up to ten seconds for the exit status.
    pub(crate) fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .ok()?;
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The decision log so far, waiting up to two seconds for a line containing `want`.
    pub(crate) fn log_with(&self, want: &str) -> String {
        let until = Instant::now() + Duration::from_secs(2);
        loop {
            let text = self.log.lock().expect("log").clone();
            if text.contains(want) || Instant::now() > until {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `get` of `self.base + path`.
    pub(crate) fn get(&self, path: &str) -> Got {
        get(&format!("{}{path}", self.base))
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer: status, body and ward's `X-Ward-Reason`.
pub(crate) struct Got {
    pub status: u16,
    pub body: Vec<u8>,
    pub reason: String,
}

impl Got {
    /// The body as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A GET that returns every status as an answer (a minute at most).
pub(crate) fn get(url: &str) -> Got {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let response = agent.get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let reason = response
        .headers()
        .get("x-ward-reason")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut body = Vec::new();
    response
        .into_body()
        .into_with_config()
        .limit(1 << 30)
        .reader()
        .read_to_end(&mut body)
        .expect("read the body");
    Got { status, body, reason }
}
