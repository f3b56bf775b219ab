//! Recovery playbooks: a rehearsal of the way back, as data.
//!
//! A playbook (TOML) names an environment and the commands that change it;
//! [`run`] takes it through snapshot → the change → audit (which must
//! alert) → alert → rollback → audit (which must be clean), timing each
//! step. Steps are commands: a first word `ward` runs this ward binary, so
//! every install goes through `ward run` and the gate. The outcome is a
//! [`Report`], which the CLI appends to the ledger as a signed
//! `playbook-report` event.
//!
//! Words in commands may use `${ENV}` (the environment), `${WORKDIR}`,
//! `${PLAYBOOK_DIR}`, `${SNAPSHOT}` (this run's snapshot name) and any
//! `--var NAME=VALUE`; an unknown variable is an error before anything runs.

use crate::RecoverError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Largest playbook file read.
const MAX_FILE: u64 = 1 << 20;

/// A playbook file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Format version: 1.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// What it rehearses.
    #[serde(default)]
    pub description: String,
    /// The ecosystem of the environment (`pypi`, `npm`).
    pub ecosystem: String,
    /// The environment, relative to the working directory.
    pub environment: String,
    /// The snapshot's name; each run appends its start time.
    pub snapshot: String,
    /// Default values of variables (`--var NAME=VALUE` overrides them).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Commands that set up the known-good set (before the snapshot).
    #[serde(default)]
    pub setup: Commands,
    /// The change: commands that install the release that goes bad.
    pub change: Commands,
    /// After the change: commands that make it bad (import a `MAL-` record).
    #[serde(default)]
    pub mark: Commands,
    /// The audit after the change.
    #[serde(default)]
    pub audit: AuditStep,
    /// Commands that deliver the alert (`ward watch --once …`); none: the
    /// audit's exit status is the alert.
    #[serde(default)]
    pub alert: Commands,
    /// The rollback.
    #[serde(default)]
    pub rollback: RollbackStep,
}

/// A list of commands, each an argument vector.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    /// The commands, run in order; the first that fails fails the step.
    #[serde(default)]
    pub run: Vec<Vec<String>>,
    /// The exit status each command must end with (default 0; `ward watch
    /// --once` ends with 1 while alerts are open).
    #[serde(default)]
    pub exit: i32,
    /// Seconds each command may run before it is killed and the step fails
    /// (default [`DEFAULT_TIMEOUT`]).
    #[serde(default)]
    pub timeout: Option<u64>,
}

/// Seconds a step's command may run when the playbook does not say.
pub const DEFAULT_TIMEOUT: u64 = 1800;

/// The audits.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditStep {
    /// Alert kinds the audit after the change must report (`newly-malicious`).
    #[serde(default)]
    pub expect: Vec<String>,
    /// More arguments for `ward audit`.
    #[serde(default)]
    pub args: Vec<String>,
}

/// The rollback.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackStep {
    /// More arguments for `ward rollback apply` (for example `--config PROXY.toml`).
    #[serde(default)]
    pub args: Vec<String>,
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    /// `setup`, `snapshot`, `change`, `mark`, `audit`, `alert`, `rollback`, `audit-after`.
    pub step: String,
    /// Whether it ended as the playbook expects.
    pub ok: bool,
    /// How long it took, in milliseconds.
    pub millis: u64,
    /// What was run and what came of it (the end of the output when it failed).
    pub detail: String,
}

/// A playbook run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The playbook's name.
    pub playbook: String,
    /// SHA-256 of the playbook file.
    pub sha256: String,
    /// The environment.
    pub environment: String,
    /// The snapshot taken.
    pub snapshot: String,
    /// Each step, in order (steps after a failure are not run).
    pub steps: Vec<StepReport>,
    /// Whether every step ended as expected.
    pub passed: bool,
}

impl Report {
    /// The first step that failed.
    pub fn failed_step(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| !s.ok)
    }
}

/// Reads and checks a playbook.
pub fn load(path: &Path) -> Result<(Playbook, String), RecoverError> {
    let text = ward_input::read_string_bounded(path, "playbook", MAX_FILE)?;
    let playbook: Playbook = toml::from_str(&text).map_err(|e| RecoverError::format(path.display(), e.to_string()))?;
    if playbook.version != 1 {
        return Err(RecoverError::format(
            path.display(),
            format!("version {} (this ward reads version 1)", playbook.version),
        ));
    }
    if !matches!(playbook.ecosystem.as_str(), "pypi" | "npm") {
        return Err(RecoverError::format(
            path.display(),
            format!("ecosystem {:?}: playbooks run for pypi and npm", playbook.ecosystem),
        ));
    }
    crate::snapshot::check_name(&playbook.snapshot)?;
    if playbook.change.run.is_empty() {
        return Err(RecoverError::format(path.display(), "[change] runs no command"));
    }
    Ok((playbook, crate::sha256_hex(text.as_bytes())))
}

/// Where and with what a playbook runs.
#[derive(Clone, Debug)]
pub struct Setting {
    /// The ward binary (a first word `ward` runs it).
    pub ward: PathBuf,
    /// The working directory (commands run there; the environment is relative to it).
    pub workdir: PathBuf,
    /// The playbook's directory.
    pub playbook_dir: PathBuf,
    /// `--var NAME=VALUE`.
    pub vars: BTreeMap<String, String>,
    /// When the run started (names the snapshot).
    pub started: jiff::Timestamp,
}

fn substitute(word: &str, vars: &BTreeMap<String, String>) -> Result<String, RecoverError> {
    let mut out = String::new();
    let mut rest = word;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| RecoverError::Usage(format!("{word:?}: an unclosed ${{")))?;
        let name = &after[..end];
        let value = vars.get(name).ok_or_else(|| {
            RecoverError::Usage(format!(
                "{word:?}: no variable {name} (give it with --var {name}=VALUE)"
            ))
        })?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The commands of every step, variables substituted (all of them checked
/// before anything runs).
struct Resolved {
    steps: Vec<(String, Vec<Vec<String>>, Expect, u64)>,
}

/// What a step's commands must end with.
#[derive(Clone, Debug)]
enum Expect {
    /// Exit 0.
    Success,
    /// This exit status.
    Exit(i32),
    /// Exit 1 (an alert), with each of these codes in the output.
    Alert(Vec<String>),
}

fn resolve(p: &Playbook, s: &Setting, snapshot: &str) -> Result<Resolved, RecoverError> {
    let env = s.workdir.join(&p.environment);
    let mut vars = p.vars.clone();
    vars.extend(s.vars.clone());
    vars.insert("ENV".into(), env.display().to_string());
    vars.insert("WORKDIR".into(), s.workdir.display().to_string());
    vars.insert("PLAYBOOK_DIR".into(), s.playbook_dir.display().to_string());
    vars.insert("SNAPSHOT".into(), snapshot.to_string());
    let subst = |cmds: &[Vec<String>]| -> Result<Vec<Vec<String>>, RecoverError> {
        cmds.iter()
            .map(|c| {
                if c.is_empty() {
                    return Err(RecoverError::Usage("an empty command".into()));
                }
                c.iter().map(|w| substitute(w, &vars)).collect()
            })
            .collect()
    };
    let ward = |args: &[&str], more: &[String]| -> Result<Vec<String>, RecoverError> {
        let mut v: Vec<String> = std::iter::once("ward")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        for w in more {
            v.push(substitute(w, &vars)?);
        }
        Ok(v)
    };
    let env_text = env.display().to_string();
    let limit = |c: &Commands| c.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let mut steps = Vec::new();
    if !p.setup.run.is_empty() {
        steps.push((
            "setup".to_string(),
            subst(&p.setup.run)?,
            Expect::Exit(p.setup.exit),
            limit(&p.setup),
        ));
    }
    steps.push((
        "snapshot".into(),
        vec![ward(&["snapshot", "create", snapshot, "--from", &env_text], &[])?],
        Expect::Success,
        DEFAULT_TIMEOUT,
    ));
    steps.push((
        "change".into(),
        subst(&p.change.run)?,
        Expect::Exit(p.change.exit),
        limit(&p.change),
    ));
    if !p.mark.run.is_empty() {
        steps.push((
            "mark".into(),
            subst(&p.mark.run)?,
            Expect::Exit(p.mark.exit),
            limit(&p.mark),
        ));
    }
    let audit = ward(&["audit", &env_text], &p.audit.args)?;
    steps.push((
        "audit".into(),
        vec![audit.clone()],
        Expect::Alert(p.audit.expect.clone()),
        DEFAULT_TIMEOUT,
    ));
    if !p.alert.run.is_empty() {
        steps.push((
            "alert".into(),
            subst(&p.alert.run)?,
            Expect::Exit(p.alert.exit),
            limit(&p.alert),
        ));
    }
    steps.push((
        "rollback".into(),
        vec![ward(
            &["rollback", "apply", "--to", snapshot, "--env", &env_text],
            &p.rollback.args,
        )?],
        Expect::Success,
        DEFAULT_TIMEOUT,
    ));
    steps.push(("audit-after".into(), vec![audit], Expect::Success, DEFAULT_TIMEOUT));
    Ok(Resolved { steps })
}

/// Runs one command; returns what it did, with which of `words` it printed.
fn execute(
    command: &[String],
    s: &Setting,
    words: &[String],
    limit: u64,
) -> Result<crate::capture::Captured, RecoverError> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| RecoverError::Usage("an empty command".into()))?;
    let program: PathBuf = if program == "ward" {
        s.ward.clone()
    } else {
        PathBuf::from(program)
    };
    let mut cmd = std::process::Command::new(&program);
    cmd.args(args);
    crate::capture::run(&mut cmd, &s.workdir, words, std::time::Duration::from_secs(limit))
}

/// Runs a playbook. The report says which step failed, if one did; steps
/// after it are not run. An error is returned only when the playbook could
/// not be started (an unknown variable, a working directory that is not one).
pub fn run(p: &Playbook, sha256: &str, s: &Setting) -> Result<Report, RecoverError> {
    let stamp = s.started.strftime("%Y%m%dT%H%M%SZ").to_string();
    let snapshot = format!("{}-{stamp}", p.snapshot);
    crate::snapshot::check_name(&snapshot)?;
    if !s.workdir.is_dir() {
        return Err(RecoverError::Usage(format!(
            "{} is not a directory",
            s.workdir.display()
        )));
    }
    let resolved = resolve(p, s, &snapshot)?;
    let mut steps = Vec::new();
    for (name, commands, expect, limit) in resolved.steps {
        let start = std::time::Instant::now();
        let mut ok = true;
        let mut detail = Vec::new();
        for command in &commands {
            let shown = command.join(" ");
            let words = match &expect {
                Expect::Alert(codes) => codes.clone(),
                _ => Vec::new(),
            };
            let (code, output, found) = match execute(command, s, &words, limit) {
                Ok(c) => (c.status, c.tail, c.found),
                Err(e) => (-1, e.to_string(), Vec::new()),
            };
            let (good, why) = match &expect {
                Expect::Success => (code == 0, format!("exit {code}")),
                Expect::Exit(want) => (
                    code == *want,
                    if code == *want {
                        format!("exit {code}")
                    } else {
                        format!("exit {code}, expected {want}")
                    },
                ),
                Expect::Alert(codes) => {
                    let absent: Vec<&String> = codes.iter().filter(|c| !found.contains(c)).collect();
                    let good = code == 1 && absent.is_empty();
                    let why = if code != 1 {
                        format!("exit {code}, expected 1 (an alert)")
                    } else if absent.is_empty() {
                        format!("exit 1, alerted {}", codes.join(", "))
                    } else {
                        format!(
                            "exit 1, but no {} alert",
                            absent.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                        )
                    };
                    (good, why)
                }
            };
            if good {
                detail.push(format!("{shown}: {why}"));
            } else {
                detail.push(format!("{shown}: {why}\n{}", output.trim()));
                ok = false;
                break;
            }
        }
        steps.push(StepReport {
            step: name,
            ok,
            millis: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            detail: detail.join("\n"),
        });
        if !ok {
            break;
        }
    }
    let passed = steps.iter().all(|st| st.ok) && steps.last().is_some_and(|st| st.step == "audit-after");
    Ok(Report {
        playbook: p.name.clone(),
        sha256: sha256.to_string(),
        environment: s.workdir.join(&p.environment).display().to_string(),
        snapshot,
        steps,
        passed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_substituted_and_unknown_ones_refused() {
        let vars: BTreeMap<String, String> = [("ENV".to_string(), "/e".to_string())].into();
        assert_eq!(substitute("--target=${ENV}/x", &vars).unwrap(), "--target=/e/x");
        assert!(substitute("${NOPE}", &vars).is_err());
        assert!(substitute("${ENV", &vars).is_err());
    }

    /// The shipped playbooks read, and name every step they need.
    #[test]
    fn the_shipped_playbooks_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks");
        for name in ["pypi.toml", "npm.toml"] {
            let (p, _) = load(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!p.change.run.is_empty());
            assert!(p.audit.expect.iter().any(|e| e == "newly-malicious"), "{name}");
        }
    }

    #[test]
    fn a_failing_step_stops_the_run_and_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p: Playbook = toml::from_str(
            "version = 1\nname = \"t\"\necosystem = \"pypi\"\nenvironment = \"site\"\nsnapshot = \"s\"\n[change]\nrun = [[\"false\"]]\n",
        )
        .unwrap();
        let s = Setting {
            ward: PathBuf::from("true"),
            workdir: dir.path().to_path_buf(),
            playbook_dir: dir.path().to_path_buf(),
            vars: BTreeMap::new(),
            started: jiff::Timestamp::UNIX_EPOCH,
        };
        let report = run(&p, "x", &s).unwrap();
        assert!(!report.passed);
        assert_eq!(report.failed_step().map(|f| f.step.as_str()), Some("change"));
        assert_eq!(report.steps.len(), 2, "snapshot ran, change failed, nothing after");
        assert_eq!(report.snapshot, "s-19700101T000000Z");
    }
}
