//! Runs one scenario through its timeline with the real client:
//!
//! 1. **baseline** (`timeline.baseline_at`): the team's clean set is
//!    installed through `ward run`; a refusal here is a false positive.
//! 2. **install** (`timeline.install_at`): in a fresh project, the victim
//!    installs during the incident, with the advisories published by then.
//!    The compromised artifact is either refused, kept out of the listing,
//!    or installed (and the stand-in's marker tells whether its script ran).
//! 3. **detect** (just after the last advisory is published): when it got
//!    in, `ward audit` looks at what was installed with the advisories
//!    known by then.
//!
//! Each stage is a child `ward` process with the clock pinned to the stage's
//! time and the drill's own data directory, ledger and advisory database, so
//! a drill never touches the production ones. The upstream is a directory;
//! the client reaches only `ward run`'s loopback proxy.

use crate::report::{Outcome, ScenarioResult, Step};
use crate::scenario::{Ecosystem, Scenario};
use crate::standin::{self, MARKER_VARIABLE};
use crate::upstream;
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The audit alerts that single out a compromised package. `unverifiable`
/// (a file with no recorded digest) is not one: clean packages get it too.
const DETECTIONS: &[&str] = &[
    "newly-malicious",
    "newly-vulnerable",
    "modified",
    "missing",
    "extra",
    "unvetted",
    "release-changed",
    "link-escapes",
    "overdue",
];

/// The variable that pins ward's clock in the child processes.
const CLOCK_VARIABLE: &str = "WARD_TEST_NOW";

/// How a drill is run.
#[derive(Clone, Debug)]
pub struct Drill {
    /// The `ward` executable the stages run.
    pub ward: PathBuf,
    /// The policy under test (`None`: ward's safe default).
    pub policy: Option<PathBuf>,
    /// The drill's own directory: one subdirectory per scenario, each with
    /// its data directory, ledger, advisory database, upstream and projects.
    pub work: PathBuf,
}

/// Why a drill could not run at all (a scenario that fails inside is an
/// [`Outcome::Error`] instead).
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    /// The work directory could not be prepared.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// What one `ward run` stage produced.
struct Stage {
    /// The client's exit status was success.
    ok: bool,
    /// Artifact decisions from the decision log: (purl, verdict, codes).
    decisions: Vec<(String, String, Vec<String>)>,
    /// The last lines of the client's and ward's output, for errors.
    tail: String,
}

impl Drill {
    /// Runs one scenario to the end.
    pub fn run(&self, scenario: &Scenario) -> Result<ScenarioResult, DrillError> {
        let started = Instant::now();
        let root = self.work.join(&scenario.name);
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(|e| io(&root, e))?;
        }
        for sub in ["data", "db", "markers", "home", "baseline", "victim"] {
            std::fs::create_dir_all(root.join(sub)).map_err(|e| io(&root.join(sub), e))?;
        }
        let mut steps = Vec::new();
        let mut rolled_back = None;
        let outcome = match self.stages(scenario, &root, &mut steps, &mut rolled_back) {
            Ok(done) => done,
            Err(message) => (Outcome::Error { message }, Vec::new()),
        };
        let (outcome, false_positives) = outcome;
        let payload_ran = std::fs::read_dir(root.join("markers"))
            .map(|d| d.filter_map(Result::ok).count() > 0)
            .unwrap_or(false);
        let produced: Vec<String> = match &outcome {
            Outcome::Blocked { codes } => codes.clone(),
            Outcome::Detected { codes, warned, .. } => codes.iter().chain(warned).cloned().collect(),
            Outcome::Missed { warned } => warned.clone(),
            Outcome::Error { .. } => Vec::new(),
        };
        let would_have_stopped_it = scenario
            .expectations
            .iter()
            .filter(|e| !produced.contains(&e.code))
            .cloned()
            .collect();
        Ok(ScenarioResult {
            name: scenario.name.clone(),
            title: scenario.title.clone(),
            ecosystem: scenario.ecosystem.purl_type().into(),
            outcome,
            false_positives,
            would_have_stopped_it,
            payload_ran,
            rolled_back,
            steps,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    fn stages(
        &self,
        s: &Scenario,
        root: &Path,
        steps: &mut Vec<Step>,
        rolled_back: &mut Option<bool>,
    ) -> Result<(Outcome, Vec<String>), String> {
        let built = upstream::build_all(s).map_err(|e| e.to_string())?;
        let t = &s.timeline;

        // 1. Baseline.
        let at = t.baseline_at();
        let up = root.join("upstream-baseline");
        upstream::write(s, &built, at, &up).map_err(|e| e.to_string())?;
        self.import_records(s, root, at)?;
        let baseline = self.install(s, root, at, &up, &root.join("baseline"), &s.baseline)?;
        let false_positives: Vec<String> = baseline
            .decisions
            .iter()
            .filter(|(_, verdict, _)| verdict == "deny")
            .map(|(purl, _, codes)| format!("{purl}: {}", codes.join(", ")))
            .collect();
        if !baseline.ok && false_positives.is_empty() {
            return Err(format!(
                "the baseline install failed without a refusal: {}",
                baseline.tail
            ));
        }
        // The known-good set to roll back to.
        let snapshot = baseline.ok && self.snapshot(s, root, at).is_ok();
        steps.push(Step {
            what: format!("baseline install ({})", s.baseline.join(" ")),
            at,
            result: if baseline.ok {
                format!("installed, {} artifacts allowed", baseline.decisions.len())
            } else {
                format!("refused: {}", false_positives.join("; "))
            },
        });
        steps.push(Step {
            what: format!("compromised release published ({})", s.compromised.join(", ")),
            at: t.published,
            result: "T0".into(),
        });

        // 2. The install during the incident.
        let at = t.install_at();
        let up = root.join("upstream-incident");
        upstream::write(s, &built, at, &up).map_err(|e| e.to_string())?;
        let imported = self.import_records(s, root, at)?;
        if imported > 0 {
            steps.push(Step {
                what: "advisories imported".into(),
                at,
                result: format!("{imported} record(s) published by then"),
            });
        }
        let victim = root.join("victim");
        let stage = self.install(s, root, at, &up, &victim, &s.install)?;
        let bad: Vec<&(String, String, Vec<String>)> = stage
            .decisions
            .iter()
            .filter(|(purl, _, _)| s.compromised.iter().any(|c| purl_is(purl, s.ecosystem, c)))
            .collect();
        let installed = self.installed_compromised(s, &victim);
        let refusal: Vec<String> = bad
            .iter()
            .filter(|(_, v, _)| v == "deny")
            .flat_map(|(_, _, codes)| codes.clone())
            .collect();
        let warned: Vec<String> = bad
            .iter()
            .filter(|(_, v, _)| v != "deny")
            .flat_map(|(_, _, codes)| codes.clone())
            .collect();
        steps.push(Step {
            what: format!("victim installs ({})", s.install.join(" ")),
            at,
            result: match (&installed, refusal.is_empty()) {
                (Some(id), _) => format!(
                    "{id} installed{}",
                    if warned.is_empty() {
                        String::new()
                    } else {
                        format!(" with warnings: {}", dedup(&warned).join(", "))
                    }
                ),
                (None, false) => format!("refused: {}", dedup(&refusal).join(", ")),
                (None, true) if stage.ok => "a clean version was installed instead".into(),
                (None, true) if no_eligible_version(&stage.tail) => {
                    "no version was left in the listing for the client to install".into()
                }
                (None, true) => format!("the install failed: {}", stage.tail),
            },
        });
        if installed.is_none() {
            if refusal.is_empty() && !stage.ok && !no_eligible_version(&stage.tail) {
                return Err(format!("the install failed without a refusal: {}", stage.tail));
            }
            return Ok((Outcome::Blocked { codes: dedup(&refusal) }, false_positives));
        }

        // 3. Detection after the advisories.
        let last_record = self.record_times(s)?.into_iter().max();
        let at = last_record
            .unwrap_or(t.noticed)
            .max(t.install_at())
            .saturating_add(jiff::SignedDuration::from_mins(1))
            .map_err(|e| e.to_string())?;
        let imported = self.import_records(s, root, at)?;
        let codes = self.audit(s, root, at, &victim)?;
        steps.push(Step {
            what: "ward audit of the victim's install".into(),
            at,
            result: if codes.is_empty() {
                format!("clean ({imported} record(s) known)")
            } else {
                format!("alerts: {}", codes.join(", "))
            },
        });
        if !codes.is_empty() {
            let result = if snapshot {
                match self.roll_back(s, root, at) {
                    Ok(()) => {
                        let after = self.audit(s, root, at, &victim)?;
                        *rolled_back = Some(after.is_empty());
                        if after.is_empty() {
                            "back to the baseline snapshot; the audit is clean".to_string()
                        } else {
                            format!("reinstalled, but the audit still says: {}", after.join(", "))
                        }
                    }
                    Err(message) => {
                        *rolled_back = Some(false);
                        format!("failed: {message}")
                    }
                }
            } else {
                "no baseline snapshot to roll back to".to_string()
            };
            steps.push(Step {
                what: "ward rollback apply --to baseline".into(),
                at,
                result,
            });
        }
        let warned = dedup(&warned);
        Ok((
            if codes.is_empty() {
                Outcome::Missed { warned }
            } else {
                Outcome::Detected {
                    codes,
                    at,
                    after_seconds: at.duration_since(t.published).as_secs(),
                    warned,
                }
            },
            false_positives,
        ))
    }

    /// A `ward` child with the drill's data directory and the clock at `at`.
    fn ward(&self, root: &Path, at: Timestamp) -> Command {
        let mut cmd = Command::new(&self.ward);
        cmd.env("WARD_DATA_DIR", root.join("data"))
            .env(CLOCK_VARIABLE, at.to_string())
            .env(MARKER_VARIABLE, root.join("markers"))
            .env("HOME", root.join("home"))
            .env_remove("XDG_DATA_HOME")
            .stdin(Stdio::null());
        cmd
    }

    /// Imports the scenario's records published by `at` into the drill's
    /// database (replacing what was there); returns how many.
    fn import_records(&self, s: &Scenario, root: &Path, at: Timestamp) -> Result<usize, String> {
        let dir = root.join(format!("records-{}", at.as_second()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut n = 0;
        for path in &s.timeline.records {
            let text = read_record(&s.resolve(path))?;
            let published = published_of(&text).ok_or_else(|| format!("{}: no `published` time", path.display()))?;
            if published <= at {
                n += 1;
                let name = path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                std::fs::write(dir.join(name), text).map_err(|e| e.to_string())?;
            }
        }
        for record in s.records.iter().filter(|r| r.published <= at) {
            n += 1;
            std::fs::write(dir.join(format!("{}.json", record.id)), inline_osv(s, record))
                .map_err(|e| e.to_string())?;
        }
        if n == 0 {
            return Ok(0);
        }
        let out = self
            .ward(root, at)
            .args(["advisories", "import", "--replace", "--source", "drill", "--db"])
            .arg(root.join("db"))
            .arg(&dir)
            .output()
            .map_err(|e| format!("{}: {e}", self.ward.display()))?;
        if !out.status.success() {
            return Err(format!("advisories import: {}", tail(&out.stderr)));
        }
        Ok(n)
    }

    fn record_times(&self, s: &Scenario) -> Result<Vec<Timestamp>, String> {
        let mut out: Vec<Timestamp> = s.records.iter().map(|r| r.published).collect();
        for path in &s.timeline.records {
            let text = read_record(&s.resolve(path))?;
            out.extend(published_of(&text));
        }
        Ok(out)
    }

    /// `ward run -- <client install>` into `project`.
    fn install(
        &self,
        s: &Scenario,
        root: &Path,
        at: Timestamp,
        upstream: &Path,
        project: &Path,
        specs: &[String],
    ) -> Result<Stage, String> {
        let mut cmd = self.ward(root, at);
        cmd.args(["run", "--listen", "127.0.0.1:0", "--log-format", "json"]);
        // Before any advisory is public there is no database to name.
        if root.join("db").read_dir().is_ok_and(|mut d| d.next().is_some()) {
            cmd.arg("--db").arg(root.join("db"));
        }
        if let Some(policy) = &self.policy {
            cmd.arg("--policy").arg(policy);
        }
        let cache = project.join(".client-cache");
        // The proxy's cache is the stage's own (a month passes between
        // stages on the pinned clock, not on the cache's); the ledger,
        // release pins and history stay in the drill's data directory.
        cmd.arg("--cache").arg(project.join(".proxy-cache"));
        let mut index: Option<upstream::LoopbackIndex> = None;
        match s.ecosystem {
            Ecosystem::Npm => {
                cmd.arg("--npm-upstream").arg(upstream);
                cmd.args([
                    "--",
                    "npm",
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    "--prefix",
                ])
                .arg(project)
                .args(specs)
                .env("npm_config_cache", &cache)
                .env("npm_config_update_notifier", "false");
            }
            Ecosystem::Pypi => {
                let served = upstream::LoopbackIndex::serve(upstream).map_err(|e| format!("loopback index: {e}"))?;
                cmd.arg("--pypi-upstream").arg(&served.url);
                index = Some(served);
                cmd.args([
                    "--",
                    "python3",
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "--target",
                ])
                .arg(project.join("site"))
                .args(specs)
                .env("PIP_CACHE_DIR", &cache);
            }
        }
        let out = cmd.output().map_err(|e| format!("{}: {e}", self.ward.display()));
        drop(index);
        let out = out?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut decisions = Vec::new();
        for line in stderr.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if v["event"] != "artifact" {
                continue;
            }
            let codes = v["codes"]
                .as_array()
                .map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect())
                .unwrap_or_default();
            decisions.push((
                v["purl"].as_str().unwrap_or_default().to_string(),
                v["verdict"].as_str().unwrap_or_default().to_string(),
                codes,
            ));
        }
        if s.ecosystem == Ecosystem::Pypi {
            // What Python does at interpreter start for a site directory: its
            // .pth files run (the stand-in's only writes the marker).
            let _ = Command::new("python3")
                .args(["-c", "import site, sys; site.addsitedir(sys.argv[1])"])
                .arg(project.join("site"))
                .env(MARKER_VARIABLE, root.join("markers"))
                .env("HOME", root.join("home"))
                .stdin(Stdio::null())
                .output();
        }
        Ok(Stage {
            ok: out.status.success(),
            decisions,
            tail: format!("{}{}", tail(&out.stdout), tail(&out.stderr)),
        })
    }

    /// The compromised release installed in `project`, if one is.
    fn installed_compromised(&self, s: &Scenario, project: &Path) -> Option<String> {
        s.compromised
            .iter()
            .find(|id| {
                let Some(release) = s.release(id) else { return false };
                match s.ecosystem {
                    Ecosystem::Npm => {
                        let dir = project.join("node_modules").join(&release.name);
                        let version_matches = std::fs::read(dir.join("package.json"))
                            .ok()
                            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                            .is_some_and(|m| m["version"] == release.version.as_str());
                        // A republished or tampered release has the clean
                        // one's version: its payload line tells them apart.
                        let same_version = release.stand_in.as_ref().is_some_and(|s| s.republished || s.tampered);
                        match release.stand_in.as_ref().and_then(|s| s.payload.as_ref()) {
                            Some(payload) if same_version => {
                                version_matches && standin::has_payload(&dir.join(payload))
                            }
                            _ => version_matches,
                        }
                    }
                    Ecosystem::Pypi => {
                        let module = release.name.replace('-', "_").to_ascii_lowercase();
                        project
                            .join("site")
                            .join(format!("{module}-{}.dist-info", release.version))
                            .is_dir()
                    }
                }
            })
            .cloned()
    }

    /// Where an install lives for audit, snapshot and rollback.
    fn environment(s: &Scenario, project: &Path) -> PathBuf {
        match s.ecosystem {
            Ecosystem::Npm => project.to_path_buf(),
            Ecosystem::Pypi => project.join("site"),
        }
    }

    /// `ward snapshot create baseline` of the baseline install.
    fn snapshot(&self, s: &Scenario, root: &Path, at: Timestamp) -> Result<(), String> {
        let project = root.join("baseline");
        let out = self
            .ward(root, at)
            .args(["snapshot", "create", "baseline", "--from"])
            .arg(Self::environment(s, &project))
            .arg("--cache")
            .arg(project.join(".proxy-cache"))
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(tail(&out.stderr))
        }
    }

    /// `ward rollback apply --to baseline` on the victim's install, from
    /// the bytes the baseline install left in its proxy cache.
    fn roll_back(&self, s: &Scenario, root: &Path, at: Timestamp) -> Result<(), String> {
        // The registry as it stands at the rollback, so the reinstall's
        // `ward run` reaches the drill's upstream and never the real one.
        let built = upstream::build_all(s).map_err(|e| e.to_string())?;
        let up = root.join("upstream-rollback");
        upstream::write(s, &built, at, &up).map_err(|e| e.to_string())?;
        let mut index = None;
        let upstream_line = match s.ecosystem {
            Ecosystem::Npm => format!("[npm]\nupstream = {:?}\n", up.display().to_string()),
            Ecosystem::Pypi => {
                let served = upstream::LoopbackIndex::serve(&up).map_err(|e| format!("loopback index: {e}"))?;
                let line = format!("[pypi]\nupstream = {:?}\n", served.url);
                index = Some(served);
                line
            }
        };
        let config = root.join("rollback-proxy.toml");
        std::fs::write(&config, format!("listen = \"127.0.0.1:0\"\n{upstream_line}")).map_err(|e| e.to_string())?;
        let mut cmd = self.ward(root, at);
        cmd.args(["rollback", "apply", "--to", "baseline", "--config"])
            .arg(&config)
            .arg("--env")
            .arg(Self::environment(s, &root.join("victim")))
            .arg("--cache")
            .arg(root.join("baseline").join(".proxy-cache"));
        if root.join("db").read_dir().is_ok_and(|mut d| d.next().is_some()) {
            cmd.arg("--db").arg(root.join("db"));
        }
        if let Some(policy) = &self.policy {
            cmd.arg("--policy").arg(policy);
        }
        let out = cmd.output().map_err(|e| e.to_string());
        drop(index);
        let out = out?;
        if out.status.success() {
            Ok(())
        } else {
            Err(tail(&out.stderr))
        }
    }

    /// `ward audit` of the victim's install: the alert codes about the
    /// compromised packages.
    fn audit(&self, s: &Scenario, root: &Path, at: Timestamp, project: &Path) -> Result<Vec<String>, String> {
        let target = match s.ecosystem {
            Ecosystem::Npm => project.join("node_modules"),
            Ecosystem::Pypi => project.join("site"),
        };
        let mut cmd = self.ward(root, at);
        cmd.args(["audit", "--format", "json", "--cache"])
            .arg(project.join(".proxy-cache"));
        if root.join("db").read_dir().is_ok_and(|mut d| d.next().is_some()) {
            cmd.arg("--db").arg(root.join("db"));
        }
        if let Some(policy) = &self.policy {
            cmd.arg("--policy").arg(policy);
        }
        let out = cmd.arg(&target).output().map_err(|e| e.to_string())?;
        if out.status.code() == Some(2) {
            return Err(format!("ward audit could not read the install: {}", tail(&out.stderr)));
        }
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("ward audit output: {e}: {}", tail(&out.stdout)))?;
        let mut codes = Vec::new();
        for f in report["findings"].as_array().into_iter().flatten() {
            let purl = f["package"].as_str().unwrap_or_default();
            if s.compromised.iter().any(|c| purl_is(purl, s.ecosystem, c))
                && let Some(kind) = f["kind"].as_str()
                && DETECTIONS.contains(&kind)
            {
                codes.push(kind.to_string());
            }
        }
        Ok(dedup(&codes))
    }
}

/// Whether the client failed because the listing offered no version it
/// could take (ward left the young or refused ones out), as npm and pip say it.
fn no_eligible_version(output: &str) -> bool {
    [
        "ENOVERSIONS",
        "ETARGET",
        "No matching version found",
        "No matching distribution found",
    ]
    .iter()
    .any(|m| output.contains(m))
}

/// Whether a purl (`pkg:npm/%40ctrl/tinycolor@4.1.1`) names `name@version`.
fn purl_is(purl: &str, eco: Ecosystem, id: &str) -> bool {
    let Some((name, version)) = id.rsplit_once('@') else {
        return false;
    };
    let purl = purl.replace("%40", "@");
    let want = format!("pkg:{}/{}@{}", eco.purl_type(), name, version);
    let want_pypi = format!("pkg:pypi/{}@{}", name.to_ascii_lowercase().replace('_', "-"), version);
    purl == want || (eco == Ecosystem::Pypi && purl == want_pypi)
}

/// An OSV record for a scenario's own advisory.
fn inline_osv(s: &Scenario, r: &crate::scenario::InlineRecord) -> String {
    let ecosystem = match s.ecosystem {
        Ecosystem::Npm => "npm",
        Ecosystem::Pypi => "PyPI",
    };
    let mut record = serde_json::json!({
        "schema_version": "1.6.0",
        "id": r.id,
        "published": r.published.to_string(),
        "modified": r.published.to_string(),
        "summary": r.summary,
        "details": format!("{} (written by the ward drill scenario {})", r.summary, s.name),
        "affected": [{"package": {"ecosystem": ecosystem, "name": r.package}, "versions": r.versions}],
    });
    if r.malicious {
        record["database_specific"] = serde_json::json!({"malicious-packages-origins": [{"source": "ward-drill"}]});
    }
    record.to_string()
}

/// A scenario's record file, at most [`MAX_RECORD_BYTES`].
fn read_record(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_RECORD_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if text.len() as u64 > MAX_RECORD_BYTES {
        return Err(format!("{}: larger than {MAX_RECORD_BYTES} bytes", path.display()));
    }
    Ok(text)
}

/// The largest advisory record a scenario may ship.
const MAX_RECORD_BYTES: u64 = 1 << 20;

fn published_of(text: &str) -> Option<Timestamp> {
    serde_json::from_str::<serde_json::Value>(text).ok()?["published"]
        .as_str()?
        .parse()
        .ok()
}

fn dedup(codes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in codes {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('{')).collect();
    lines[lines.len().saturating_sub(6)..].join("\n")
}

fn io(path: &Path, source: std::io::Error) -> DrillError {
    DrillError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The marker a scenario's stand-in writes (for tests).
pub fn marker_path(work: &Path, scenario: &str, release: &str) -> PathBuf {
    work.join(scenario).join("markers").join(standin::marker_name(release))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_match_scoped_and_normalised_names() {
        assert!(purl_is(
            "pkg:npm/%40ctrl/tinycolor@4.1.1",
            Ecosystem::Npm,
            "@ctrl/tinycolor@4.1.1"
        ));
        assert!(purl_is("pkg:npm/chalk@5.6.1", Ecosystem::Npm, "chalk@5.6.1"));
        assert!(!purl_is("pkg:npm/chalk@5.6.0", Ecosystem::Npm, "chalk@5.6.1"));
        assert!(purl_is("pkg:pypi/lite-llm@1.0", Ecosystem::Pypi, "lite_llm@1.0"));
    }
}
