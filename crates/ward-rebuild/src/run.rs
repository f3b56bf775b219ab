//! Rebuilding a package from a local git checkout: `npm pack` or
//! `cargo package`, at one commit, in a clean environment.
//!
//! - the checkout is cloned (from a local directory only: nothing is
//!   fetched) into a temporary directory and the commit checked out;
//! - the tool runs with an empty environment but `PATH`, a fresh temporary
//!   `HOME` (so no user configuration, credentials or caches), and offline
//!   (`npm --offline`, `cargo --offline`): crates whose dependencies are not
//!   vendored or already in the fresh cargo home fail rather than fetch;
//! - npm lifecycle scripts do not run unless asked (`run_scripts`): a
//!   package that needs a build step then diverges, visibly, instead of
//!   running its scripts on this machine;
//! - the toolchain's version is recorded, and every step has a deadline.
//!
//! Processes are started with `std::process`; the comparison afterwards is
//! [`crate::compare`].

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Which packager to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `npm pack`.
    Npm,
    /// `cargo package`.
    Cargo,
}

impl Tool {
    /// The tool for an artifact's file name (`.tgz`: npm, `.crate`: cargo).
    pub fn for_artifact(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".tgz") {
            Some(Tool::Npm)
        } else if lower.ends_with(".crate") {
            Some(Tool::Cargo)
        } else {
            None
        }
    }
}

/// What to rebuild.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// The packager.
    pub tool: Tool,
    /// A local git repository (a directory).
    pub source: PathBuf,
    /// The commit (or any revision git reads); `None`: the checkout's HEAD.
    pub commit: Option<String>,
    /// The package's directory inside the repository, if not its root.
    pub subdir: Option<PathBuf>,
    /// Run npm lifecycle scripts (`prepack`, `prepare`, …).
    pub run_scripts: bool,
    /// The longest any one step may take.
    pub timeout: Duration,
}

/// A finished rebuild.
#[derive(Debug)]
pub struct Rebuilt {
    /// The rebuilt artifact (inside `workdir`).
    pub artifact: PathBuf,
    /// The commit that was built (full hex).
    pub commit: String,
    /// The toolchain, as its tools report their versions (`npm 10.9.2, node v22.1.0`).
    pub toolchain: String,
    /// The commands that ran, in order.
    pub steps: Vec<String>,
}

/// Why a rebuild could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The source is not a local directory.
    #[error("the source {0} is not a local directory (ward rebuilds from a local git checkout and fetches nothing)")]
    Source(String),
    /// A command could not start.
    #[error("cannot run {command}: {source}")]
    Start {
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A command failed or ran past its deadline.
    #[error("{command} failed: {detail}")]
    Failed {
        /// The command.
        command: String,
        /// Its exit status and the end of its output.
        detail: String,
    },
    /// The packager left no artifact where expected.
    #[error("the packager produced no artifact: {0}")]
    NoArtifact(String),
}

/// SIGKILL to the process group `child` leads (it was started as one).
fn kill_group(child: &std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
}

/// Output kept from a command (the tail of it, for error messages).
const KEEP_OUTPUT: usize = 64 * 1024;

/// Runs `cmd` to completion within `timeout`; returns its standard output.
fn run(mut cmd: Command, what: &str, timeout: Duration) -> Result<String, RunError> {
    // Its own process group: the deadline, and the clean-up after it exits,
    // reach every process it started (npm's lifecycle scripts, a daemon a
    // script left behind) and none holds the output pipes open for ever.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| RunError::Start {
            command: what.to_string(),
            source,
        })?;
    // Drain both pipes on their own threads so a chatty tool never blocks.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut p) = pipe {
                let mut buf = [0u8; 8192];
                while let Ok(n) = p.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                    if out.len() > 2 * KEEP_OUTPUT {
                        out.drain(..out.len() - KEEP_OUTPUT);
                    }
                }
            }
            out
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                kill_group(&child);
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("still running after {} s; stopped", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(e.to_string()),
        }
    };
    // Whatever it left running goes with it.
    kill_group(&child);
    let out = String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned();
    let err = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
    match status {
        Ok(s) if s.success() => Ok(out),
        Ok(s) => Err(RunError::Failed {
            command: what.to_string(),
            detail: format!("{s}: {}", tail(&err, &out)),
        }),
        Err(why) => Err(RunError::Failed {
            command: what.to_string(),
            detail: why,
        }),
    }
}

fn tail(err: &str, out: &str) -> String {
    let text = if err.trim().is_empty() { out } else { err };
    let lines: Vec<&str> = text.lines().rev().take(8).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

/// A command with an empty environment but `PATH`, and `HOME` (and the
/// usual configuration variables) pointing into `home`.
fn clean(program: &str, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("LANG", "C.UTF-8")
        .env("TZ", "UTC");
    // rustup's proxies find their toolchains through these; the user's
    // `~/.rustup` stays where it is (the fresh HOME has none).
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")));
    if let Some(dir) = rustup_home.filter(|d| d.is_dir()) {
        cmd.env("RUSTUP_HOME", dir);
    }
    if let Some(toolchain) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        cmd.env("RUSTUP_TOOLCHAIN", toolchain);
    }
    cmd
}

fn git(home: &Path) -> Command {
    let mut cmd = clean("git", home);
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ALLOW_PROTOCOL", "file");
    cmd
}

/// Rebuilds the package into `workdir` (a fresh, empty directory the
/// caller owns and removes).
pub fn rebuild(spec: &RunSpec, workdir: &Path) -> Result<Rebuilt, RunError> {
    if !spec.source.is_dir() {
        return Err(RunError::Source(spec.source.display().to_string()));
    }
    let home = workdir.join("home");
    let checkout = workdir.join("src");
    let out = workdir.join("out");
    for d in [&home, &out] {
        std::fs::create_dir_all(d).map_err(|source| RunError::Start {
            command: format!("mkdir {}", d.display()),
            source,
        })?;
    }
    let t = spec.timeout;
    let mut steps = Vec::new();
    let source = std::path::absolute(&spec.source).unwrap_or_else(|_| spec.source.clone());
    let mut clone = git(&home);
    clone
        .args(["clone", "--quiet", "--no-hardlinks", "--"])
        .arg(&source)
        .arg(&checkout);
    steps.push(format!("git clone {}", source.display()));
    run(clone, "git clone", t)?;
    let rev = spec.commit.clone().unwrap_or_else(|| "HEAD".into());
    let mut checkout_cmd = git(&home);
    checkout_cmd.current_dir(&checkout).args([
        "-c",
        "advice.detachedHead=false",
        "checkout",
        "--quiet",
        "--detach",
        &rev,
        "--",
    ]);
    steps.push(format!("git checkout --detach {rev}"));
    run(checkout_cmd, "git checkout", t)?;
    let mut parse = git(&home);
    parse.current_dir(&checkout).args(["rev-parse", "HEAD"]);
    let commit = run(parse, "git rev-parse", t)?.trim().to_string();
    let dir = match &spec.subdir {
        Some(sub) if sub.components().all(|c| matches!(c, std::path::Component::Normal(_))) => checkout.join(sub),
        Some(sub) => return Err(RunError::Source(format!("subdirectory {}", sub.display()))),
        None => checkout.clone(),
    };
    let version = |program: &str, arg: &str| -> Result<String, RunError> {
        let mut cmd = clean(program, &home);
        cmd.arg(arg);
        Ok(run(cmd, &format!("{program} {arg}"), t)?.trim().to_string())
    };
    let (toolchain, artifact) = match spec.tool {
        Tool::Npm => {
            let toolchain = format!(
                "npm {}, node {}",
                version("npm", "--version")?,
                version("node", "--version")?
            );
            let mut pack = clean("npm", &home);
            pack.current_dir(&dir)
                .env("npm_config_cache", home.join(".npm"))
                .env("npm_config_userconfig", home.join(".npmrc"))
                .env("npm_config_update_notifier", "false")
                .env("npm_config_fund", "false")
                .env("npm_config_audit", "false")
                .args(["pack", "--offline", "--json", "--pack-destination"])
                .arg(&out);
            if !spec.run_scripts {
                pack.arg("--ignore-scripts");
            }
            steps.push(format!(
                "npm pack --offline{}",
                if spec.run_scripts { "" } else { " --ignore-scripts" }
            ));
            let json = run(pack, "npm pack", t)?;
            let name = serde_json::from_str::<serde_json::Value>(&json)
                .ok()
                .and_then(|v| v.get(0)?.get("filename")?.as_str().map(str::to_string))
                .ok_or_else(|| RunError::NoArtifact(format!("npm pack --json said {:?}", tail(&json, ""))))?;
            // npm names scoped packages `scope-name-version.tgz`.
            (toolchain, out.join(Path::new(&name).file_name().unwrap_or_default()))
        }
        Tool::Cargo => {
            let toolchain = version("cargo", "--version")?;
            let target = workdir.join("target");
            let mut package = clean("cargo", &home);
            package
                .current_dir(&dir)
                .env("CARGO_HOME", home.join(".cargo"))
                .env("CARGO_NET_OFFLINE", "true")
                .args(["package", "--offline", "--no-verify", "--quiet", "--target-dir"])
                .arg(&target);
            steps.push("cargo package --offline --no-verify".into());
            run(package, "cargo package", t)?;
            let dir = target.join("package");
            let found: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| RunError::NoArtifact(format!("{}: {e}", dir.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "crate"))
                .collect();
            match found.as_slice() {
                [one] => (toolchain, one.clone()),
                _ => {
                    return Err(RunError::NoArtifact(format!(
                        "{} .crate files in {}",
                        found.len(),
                        dir.display()
                    )));
                }
            }
        }
    };
    if !artifact.is_file() {
        return Err(RunError::NoArtifact(artifact.display().to_string()));
    }
    Ok(Rebuilt {
        artifact,
        commit,
        toolchain,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_left_running_does_not_hold_the_step_open() {
        // The script exits at once but leaves a child holding stdout: the
        // step returns (the group is killed) instead of waiting 600 s.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 600 & echo packed"]);
        let out = run(cmd, "sh", Duration::from_secs(60)).unwrap();
        assert_eq!(out.trim(), "packed");
    }

    #[test]
    fn the_deadline_stops_the_scripts_a_step_started() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sh -c 'sleep 600' ; echo never"]);
        let err = run(cmd, "sh", Duration::from_millis(300)).unwrap_err();
        assert!(err.to_string().contains("still running"), "{err}");
    }
}
