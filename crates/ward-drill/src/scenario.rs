//! The scenario file: one incident as data (ecosystem, releases, the
//! compromised release's traits, timeline, what a good policy should say).
//!
//! Loading checks everything a run relies on (times are RFC 3339, versions
//! are unique per package, exactly the releases named as compromised have a
//! stand-in, tarballs stay inside the scenario's directory), so a bad file is
//! refused with its name and the field, never half-run.

use jiff::Timestamp;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

/// The largest scenario file read (they are a few kilobytes).
const MAX_SCENARIO_BYTES: u64 = 256 * 1024;

/// Which registry and client the incident happened on.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// The npm registry, installed with `npm`.
    Npm,
    /// PyPI, installed with `pip`.
    Pypi,
}

impl Ecosystem {
    /// The purl type (`pkg:npm/…`, `pkg:pypi/…`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Self::Npm => "npm",
            Self::Pypi => "pypi",
        }
    }
}

/// One incident.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short stable name (`chalk-debug-2025`): what `ward drill run NAME` takes.
    pub name: String,
    /// One line for the report.
    pub title: String,
    /// Which registry and client.
    pub ecosystem: Ecosystem,
    /// What happened, in a few sentences.
    pub summary: String,
    /// Public write-ups of the real incident.
    #[serde(default)]
    pub references: Vec<String>,
    /// Installed first, at `timeline.baseline_at`, as the team had it before
    /// the incident (client arguments: `chalk@5.6.0`, `requests==2.32.3`).
    /// A good policy allows these: a refusal here is a false positive.
    pub baseline: Vec<String>,
    /// Installed at `timeline.install_at`, during the incident.
    pub install: Vec<String>,
    /// The compromised artifacts, `name@version`: installing one of these is
    /// what the drill counts as the attack getting in.
    pub compromised: Vec<String>,
    /// When things happened.
    pub timeline: Timeline,
    /// Every release the upstream serves (clean and compromised).
    #[serde(default, rename = "release")]
    pub releases: Vec<Release>,
    /// Advisory records written by the scenario, for incidents the shared
    /// feed has no record of (dated from the real advisory).
    #[serde(default, rename = "record")]
    pub records: Vec<InlineRecord>,
    /// What a good policy reports, and the rule that does it.
    #[serde(default, rename = "expect")]
    pub expectations: Vec<Expectation>,
    /// The directory the file was read from (tarballs and records are
    /// relative to it).
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The incident's timeline (all RFC 3339, UTC).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeline {
    /// T0: the compromised release is published.
    pub published: Timestamp,
    /// When the compromise became public.
    pub noticed: Timestamp,
    /// When the victim installs. Default: T0 + 1 hour.
    #[serde(default)]
    pub install_at: Option<Timestamp>,
    /// When the baseline was installed. Default: T0 − 7 days.
    #[serde(default)]
    pub baseline_at: Option<Timestamp>,
    /// OSV / `MAL-` record files (relative to the scenario's directory),
    /// imported at their own `published` time.
    #[serde(default)]
    pub records: Vec<PathBuf>,
    /// Where the dates come from.
    pub source: String,
}

impl Timeline {
    /// When the victim installs.
    pub fn install_at(&self) -> Timestamp {
        self.install_at.unwrap_or_else(|| {
            self.published
                .saturating_add(jiff::SignedDuration::from_hours(1))
                .unwrap_or(self.published)
        })
    }

    /// When the baseline was installed.
    pub fn baseline_at(&self) -> Timestamp {
        self.baseline_at.unwrap_or_else(|| {
            self.published
                .saturating_sub(jiff::SignedDuration::from_hours(7 * 24))
                .unwrap_or(self.published)
        })
    }
}

/// One release the upstream serves.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// The package name as the registry spells it.
    pub name: String,
    /// The version.
    pub version: String,
    /// When the registry says it was published.
    pub published: Timestamp,
    /// When the registry removed it (it is no longer listed after this).
    #[serde(default)]
    pub removed: Option<Timestamp>,
    /// The account that published it (npm `_npmUser`).
    #[serde(default)]
    pub publisher: Option<String>,
    /// The real archive (relative to the scenario's directory). Without it
    /// and without a stand-in, a minimal package is generated.
    #[serde(default)]
    pub archive: Option<PathBuf>,
    /// Dependencies of a generated package (`name = "version"`).
    #[serde(default)]
    pub dependencies: BTreeMap<String, String>,
    /// The compromised release's traits; present exactly for the releases in
    /// [`Scenario::compromised`].
    #[serde(default)]
    pub stand_in: Option<StandIn>,
}

impl Release {
    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// The traits of a compromised release, rebuilt inert.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandIn {
    /// The clean version the stand-in starts from (its archive, or a
    /// generated one). Default: a generated package.
    #[serde(default)]
    pub base: Option<String>,
    /// A file whose content changes (an inert line is appended), as the real
    /// payload was added to it.
    #[serde(default)]
    pub payload: Option<String>,
    /// An npm lifecycle script added (`preinstall`, `install`, `postinstall`).
    #[serde(default)]
    pub install_script: Option<String>,
    /// Dependencies added (`name = "version"`).
    #[serde(default)]
    pub add_dependencies: BTreeMap<String, String>,
    /// A `.pth` file added at the top level of a wheel.
    #[serde(default)]
    pub pth_file: Option<String>,
    /// The bytes the registry serves differ from what its index says
    /// (integrity and digests are the base's): a tampered mirror or CDN.
    #[serde(default)]
    pub tampered: bool,
    /// The release itself was clean until T0, when the registry started
    /// serving other bytes under the same version (with an index that
    /// matches them): a republished release.
    #[serde(default)]
    pub republished: bool,
}

/// An advisory the scenario writes itself.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineRecord {
    /// Its id (`MAL-DRILL-…` for malicious-package records the scenario invents).
    pub id: String,
    /// When it was published (the real advisory's date).
    pub published: Timestamp,
    /// The package it names.
    pub package: String,
    /// The versions it names.
    pub versions: Vec<String>,
    /// What it says.
    pub summary: String,
    /// True for a malicious-package record (`MAL-`-style), false for a
    /// vulnerability.
    #[serde(default = "yes")]
    pub malicious: bool,
}

fn yes() -> bool {
    true
}

/// What a good policy should say about the scenario.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The reason code (`release-too-new`, `package-malicious`, …).
    pub code: String,
    /// The policy rule that produces it, as the user would write it.
    pub rule: String,
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is larger than any scenario.
    #[error("{path}: {size} bytes is more than the {MAX_SCENARIO_BYTES}-byte limit for a scenario")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The TOML does not describe a scenario.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// The scenario is well-formed but inconsistent.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Scenario {
    /// Reads and checks one scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let read = |source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read)?.len();
        if size > MAX_SCENARIO_BYTES {
            return Err(ScenarioError::TooLarge {
                path: path.to_path_buf(),
                size,
            });
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        let mut scenario: Scenario = toml::from_str(&text).map_err(|e| ScenarioError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        scenario.dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        scenario.check().map_err(|message| ScenarioError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(scenario)
    }

    /// Every `*.toml` scenario in a directory, by name.
    pub fn load_dir(dir: &Path) -> Result<Vec<Self>, ScenarioError> {
        let entries = std::fs::read_dir(dir).map_err(|source| ScenarioError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut out = Vec::with_capacity(paths.len());
        let mut names = BTreeSet::new();
        for path in paths {
            let scenario = Self::load(&path)?;
            if !names.insert(scenario.name.clone()) {
                return Err(ScenarioError::Invalid {
                    path,
                    message: format!("a second scenario named {:?}", scenario.name),
                });
            }
            out.push(scenario);
        }
        Ok(out)
    }

    /// The release `name@version`, if the scenario has it.
    pub fn release(&self, id: &str) -> Option<&Release> {
        self.releases.iter().find(|r| r.id() == id)
    }

    /// A path from the file, resolved against the scenario's directory.
    pub fn resolve(&self, relative: &Path) -> PathBuf {
        self.dir.join(relative)
    }

    fn check(&self) -> Result<(), String> {
        let plain =
            |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !plain(&self.name) {
            return Err(format!(
                "name {:?}: use letters, digits and '-' (at most 64)",
                self.name
            ));
        }
        if self.install.is_empty() {
            return Err("install: name at least one package to install".into());
        }
        if self.compromised.is_empty() {
            return Err("compromised: name at least one release".into());
        }
        let mut seen = BTreeSet::new();
        for release in &self.releases {
            if !seen.insert(release.id()) {
                return Err(format!("release {}: listed twice", release.id()));
            }
            // Names and versions become directory and file names in the
            // upstream layout: nothing that could climb out of it.
            package_name(self.ecosystem, &release.name).map_err(|m| format!("release {}: {m}", release.id()))?;
            version_text(&release.version).map_err(|m| format!("release {}: {m}", release.id()))?;
            let added = release.stand_in.iter().flat_map(|s| &s.add_dependencies);
            for (name, range) in release.dependencies.iter().chain(added) {
                package_name(self.ecosystem, name).map_err(|m| format!("release {} dependency: {m}", release.id()))?;
                if range.len() > 64 {
                    return Err(format!(
                        "release {} dependency {name}: a range of at most 64 bytes",
                        release.id()
                    ));
                }
            }
            if let Some(p) = &release.archive {
                inside(p).map_err(|m| format!("release {} archive: {m}", release.id()))?;
            }
            if let Some(removed) = release.removed
                && removed < release.published
            {
                return Err(format!("release {}: removed before it was published", release.id()));
            }
            let compromised = self.compromised.contains(&release.id());
            match (&release.stand_in, compromised) {
                (Some(_), false) => {
                    return Err(format!(
                        "release {}: has a stand_in but is not in `compromised`",
                        release.id()
                    ));
                }
                (None, true) => {
                    return Err(format!(
                        "release {}: is compromised, so it needs a stand_in (the traits to rebuild inert)",
                        release.id()
                    ));
                }
                _ => {}
            }
            if let Some(stand_in) = &release.stand_in {
                if let Some(base) = &stand_in.base
                    && self.release(&format!("{}@{base}", release.name)).is_none()
                {
                    return Err(format!(
                        "release {}: stand_in.base {base} is not a release",
                        release.id()
                    ));
                }
                if let Some(script) = &stand_in.install_script
                    && !["preinstall", "install", "postinstall"].contains(&script.as_str())
                {
                    return Err(format!(
                        "release {}: install_script {script:?} is not preinstall, install or postinstall",
                        release.id()
                    ));
                }
                if stand_in.pth_file.is_some() && self.ecosystem != Ecosystem::Pypi {
                    return Err(format!(
                        "release {}: a .pth file is a wheel trait (ecosystem pypi)",
                        release.id()
                    ));
                }
                if stand_in.install_script.is_some() && self.ecosystem != Ecosystem::Npm {
                    return Err(format!("release {}: install_script is an npm trait", release.id()));
                }
                if (stand_in.republished || stand_in.tampered) && stand_in.payload.is_none() {
                    return Err(format!(
                        "release {}: a republished or tampered stand-in keeps its version, so it needs a `payload` to be told apart",
                        release.id()
                    ));
                }
                if let Some(p) = &stand_in.pth_file
                    && (!p.ends_with(".pth") || p.contains('/'))
                {
                    return Err(format!(
                        "release {}: pth_file {p:?} must be a top-level *.pth name",
                        release.id()
                    ));
                }
            }
        }
        for id in &self.compromised {
            if self.release(id).is_none() {
                return Err(format!("compromised {id}: no such release"));
            }
        }
        for record in &self.records {
            if record.malicious && !record.id.starts_with("MAL-") {
                return Err(format!(
                    "record {}: a malicious-package record's id starts with MAL- (e.g. MAL-DRILL-…), as ward tells them apart by it",
                    record.id
                ));
            }
        }
        for record in &self.timeline.records {
            inside(record).map_err(|m| format!("timeline.records {}: {m}", record.display()))?;
        }
        if self.timeline.noticed < self.timeline.published {
            return Err("timeline: noticed before published".into());
        }
        if self.timeline.baseline_at() >= self.timeline.install_at() {
            return Err("timeline: baseline_at must come before install_at".into());
        }
        Ok(())
    }
}

/// A package name as the registry spells it, safe as a directory name:
/// npm's (an optional `@scope/`, then letters, digits and `._~-`), PyPI's
/// (letters, digits and `._-`), never starting with `.` or `_`.
fn package_name(eco: Ecosystem, name: &str) -> Result<(), String> {
    let part_ok = |p: &str, extra: &[u8]| {
        !p.is_empty()
            && p.len() <= 214
            && p.as_bytes()[0].is_ascii_alphanumeric()
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    let ok = match eco {
        Ecosystem::Npm => match name.strip_prefix('@').map(|rest| rest.split_once('/')) {
            Some(Some((scope, base))) => part_ok(scope, b"._~-") && part_ok(base, b"._~-"),
            Some(None) => false,
            None => part_ok(name, b"._~-"),
        },
        Ecosystem::Pypi => part_ok(name, b"._-"),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a package name of this ecosystem"))
    }
}

/// A version, safe inside a file name (letters, digits and `.+_-`).
fn version_text(version: &str) -> Result<(), String> {
    let ok = !version.is_empty()
        && version.len() <= 64
        && version.as_bytes()[0].is_ascii_alphanumeric()
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("version {version:?}: letters, digits and .+_- (at most 64)"))
    }
}

/// A relative path that stays inside the scenario's directory.
fn inside(path: &Path) -> Result<(), String> {
    if path.components().all(|c| matches!(c, Component::Normal(_))) && !path.as_os_str().is_empty() {
        Ok(())
    } else {
        Err("must be a relative path inside the scenario's directory".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("s.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    const GOOD: &str = r#"
name = "demo"
title = "demo"
ecosystem = "npm"
summary = "s"
baseline = ["a@1.0.0"]
install = ["a@^1.0.0"]
compromised = ["a@1.0.1"]
[timeline]
published = "2025-01-02T00:00:00Z"
noticed = "2025-01-02T05:00:00Z"
source = "test"
[[release]]
name = "a"
version = "1.0.0"
published = "2024-01-01T00:00:00Z"
[[release]]
name = "a"
version = "1.0.1"
published = "2025-01-02T00:00:00Z"
[release.stand_in]
base = "1.0.0"
install_script = "postinstall"
"#;

    #[test]
    fn a_well_formed_scenario_loads_with_default_times() {
        let dir = tempfile::tempdir().unwrap();
        let s = Scenario::load(&write(dir.path(), GOOD)).unwrap();
        assert_eq!(s.timeline.install_at().to_string(), "2025-01-02T01:00:00Z");
        assert_eq!(s.timeline.baseline_at().to_string(), "2024-12-26T00:00:00Z");
        assert!(s.release("a@1.0.1").unwrap().stand_in.is_some());
    }

    #[test]
    fn inconsistent_scenarios_are_refused_with_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                GOOD.replace("compromised = [\"a@1.0.1\"]", "compromised = [\"a@9\"]"),
                "a@1.0.1: has a stand_in",
            ),
            (GOOD.replace("base = \"1.0.0\"", "base = \"0.9\""), "stand_in.base 0.9"),
            (GOOD.replace("\"postinstall\"", "\"prepare\""), "install_script"),
            (
                GOOD.replace("noticed = \"2025-01-02T05", "noticed = \"2024-01-02T05"),
                "noticed before",
            ),
            (
                format!(
                    "{GOOD}\n[[release]]\nname = \"a\"\nversion = \"1.0.0\"\npublished = \"2024-01-01T00:00:00Z\"\n"
                ),
                "listed twice",
            ),
            (
                GOOD.replace(
                    "source = \"test\"",
                    "source = \"test\"\nrecords = [\"../../etc/passwd\"]",
                ),
                "inside the scenario",
            ),
            (GOOD.replace("name = \"demo\"", "name = \"../x\""), "name"),
            (
                GOOD.replace(
                    "name = \"a\"\nversion = \"1.0.0\"",
                    "name = \"../../a\"\nversion = \"1.0.0\"",
                ),
                "not a package name",
            ),
            (
                GOOD.replace("version = \"1.0.0\"\npublished", "version = \"../1\"\npublished"),
                "version \"../1\"",
            ),
            (
                GOOD.replace(
                    "install_script = \"postinstall\"",
                    "install_script = \"postinstall\"\nadd_dependencies = { \"../x\" = \"1\" }",
                ),
                "dependency",
            ),
            (
                GOOD.replace("summary = \"s\"", "summary = \"s\"\nextra = 1"),
                "unknown field",
            ),
        ];
        for (text, want) in cases {
            let err = Scenario::load(&write(dir.path(), &text)).unwrap_err().to_string();
            assert!(err.contains(want), "{want:?} not in {err}");
        }
    }
}
