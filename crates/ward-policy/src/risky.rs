//! Risky-change rules: what a release does at install that the release
//! before it did not (an install script, a dependency added in a patch or
//! minor release, a native binary), and traits risky in themselves (a wheel
//! that installs a `.pth` file, an sdist of a pure-Python project).
//!
//! Each rule carries its own level (`true` or `"deny"`, `"warn"`, `"audit"`,
//! `false` or `"allow"`), like the history rules: a scope in `warn` mode can
//! still deny a new install script. The traits come from ward-identify; the
//! earlier release's traits from the gate's release-traits store (the
//! releases ward itself allowed). When ward knows no earlier release, the
//! "new" rules have nothing to compare with: they report `no-earlier-release`
//! as a warning (never a pass in silence, never a deny of every first
//! install); when the store cannot be read they report
//! `risky-change-unevaluable` at the rule's level (fail closed).

use crate::model::{Located, Mode, Policy, Scope};
use serde::Deserialize;
use std::str::FromStr;
use ward_core::{ArchiveTraits, ArtifactKind, Ecosystem, Reason, ReasonCode};

/// A rule's level as written: a boolean or a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawLevel(pub(crate) Option<Mode>);

impl<'de> Deserialize<'de> for RawLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawLevel;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"true, false, "deny", "warn", "audit" or "allow""#)
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawLevel, E> {
                Ok(RawLevel(v.then_some(Mode::Enforce)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawLevel, E> {
                Ok(RawLevel(match v {
                    "deny" => Some(Mode::Enforce),
                    "warn" => Some(Mode::Warn),
                    "audit" => Some(Mode::Audit),
                    "allow" => None,
                    _ => return Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }))
            }
        }
        d.deserialize_any(V)
    }
}

/// A scope's risky-change rules, each with the level its reasons are filed
/// at and the line it was written on (`None`: off).
#[derive(Clone, Debug, Default)]
pub struct RiskyRules {
    /// `deny_new_install_scripts`: an npm `preinstall`/`install`/`postinstall`
    /// script or a `binding.gyp` the earlier release did not have.
    pub new_install_scripts: Option<Located<Mode>>,
    /// `deny_new_dependencies_in_patch`: a dependency added in a patch or
    /// minor release.
    pub new_dependencies_in_patch: Option<Located<Mode>>,
    /// `deny_pth_files`: a wheel that installs a `.pth` file.
    pub pth_files: Option<Located<Mode>>,
    /// `deny_setup_py_only`: an sdist of a pure-Python project.
    pub setup_py_only: Option<Located<Mode>>,
    /// `native_binaries`: an ELF, PE or Mach-O file the earlier release did not ship.
    pub native_binaries: Option<Located<Mode>>,
}

impl RiskyRules {
    /// Whether any rule is on.
    pub fn any(&self) -> bool {
        self.new_install_scripts.is_some()
            || self.new_dependencies_in_patch.is_some()
            || self.pth_files.is_some()
            || self.setup_py_only.is_some()
            || self.native_binaries.is_some()
    }

    /// Whether any rule compares with an earlier release.
    pub fn compares(&self) -> bool {
        self.new_install_scripts.is_some() || self.new_dependencies_in_patch.is_some() || self.native_binaries.is_some()
    }
}

/// Where the traits of an earlier release come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// An archive ward itself read and allowed (the release-traits store).
    Allowed,
    /// The registry's listing of that version (`the npm packument`): its
    /// manifest's scripts and dependencies. It says nothing of native
    /// binaries, so the native-binary rule does not compare with it.
    Registry(String),
}

/// The earlier release an artifact is compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlierRelease {
    /// Its version.
    pub version: String,
    /// What it did at install (for a version with several files of the same
    /// kind, their union).
    pub traits: ArchiveTraits,
    /// Where that comes from.
    pub baseline: Baseline,
}

impl EarlierRelease {
    /// `4.1.0`, or `4.1.0 (per the npm packument)`.
    fn named(&self) -> String {
        match &self.baseline {
            Baseline::Allowed => self.version.clone(),
            Baseline::Registry(doc) => format!("{} (per {doc})", self.version),
        }
    }
}

/// What the risky-change rules decide over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskyInput {
    /// The artifact's own traits.
    pub traits: ArchiveTraits,
    /// The nearest earlier release of the same package and kind that ward
    /// allowed; `Ok(None)` when there is none; `Err` when the store could
    /// not be read (why).
    pub earlier: Result<Option<EarlierRelease>, String>,
}

/// Longest piece of package text (a command, a path, a requirement) a
/// reason quotes: decision records stay compact however long the script.
const QUOTED: usize = 200;

/// Package text as a reason quotes it: control characters escaped (a
/// newline in a script cannot start a line of its own in the output), cut
/// at [`QUOTED`] characters.
fn quoted(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(QUOTED)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_debug().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > QUOTED {
        out.push('…');
    }
    out
}

/// Up to five items, then how many more.
fn few(items: &[String]) -> String {
    let mut out = items.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > 5 {
        out.push_str(&format!(" and {} more", items.len() - 5));
    }
    out
}

/// Major, minor and patch numbers.
type Release = (u64, u64, u64);

/// Which part of the version number changed, from `earlier` to `now`:
/// `Some("patch")`, `Some("minor")`, or `None` for a major release (or a
/// 0.x minor, which SemVer treats as major) or versions the ecosystem's
/// scheme cannot read.
fn non_major_bump(ecosystem: Ecosystem, earlier: &str, now: &str) -> Option<&'static str> {
    let parts: Option<(Release, Release)> = match ecosystem {
        Ecosystem::Pypi => {
            let read = |v: &str| {
                pep440_rs::Version::from_str(v.trim()).ok().map(|v| {
                    let r = v.release();
                    // The epoch is a reset of the numbering: count it as major.
                    let major = r
                        .first()
                        .copied()
                        .unwrap_or(0)
                        .saturating_add(v.epoch().saturating_mul(1 << 40));
                    (major, r.get(1).copied().unwrap_or(0), r.get(2).copied().unwrap_or(0))
                })
            };
            read(earlier).zip(read(now))
        }
        _ => {
            let read = |v: &str| {
                nodejs_semver::Version::parse(v.trim())
                    .ok()
                    .map(|v| (v.major(), v.minor(), v.patch()))
            };
            read(earlier).zip(read(now))
        }
    };
    let ((a_major, a_minor, _), (b_major, b_minor, _)) = parts?;
    let zero_based = ecosystem != Ecosystem::Pypi && b_major == 0;
    if a_major != b_major || (zero_based && a_minor != b_minor) {
        return None;
    }
    Some(if a_minor == b_minor { "patch" } else { "minor" })
}

impl Policy {
    /// The risky-change reasons for one scope, each with the level it is
    /// filed at.
    pub(crate) fn risky_reasons(&self, scope: &Scope, input: &crate::DecisionInput<'_>) -> Vec<(Mode, Reason)> {
        let rules = &scope.risky;
        let Some(risky) = input.risky.filter(|_| rules.any()) else {
            return Vec::new();
        };
        let artifact = input.artifact;
        let traits = &risky.traits;
        let this = artifact.id.version.as_deref().unwrap_or("this release");
        let mut out = Vec::new();
        let mut push = |rule: &Located<Mode>, code: ReasonCode, message: String| {
            out.push((
                rule.value,
                Reason::new(
                    code,
                    format!("{message} (scope {:?}, {}:{})", scope.name, self.path, rule.line),
                )
                .at(self.location(rule.line)),
            ));
        };
        // A note, never stricter than a warning, for a rule that had nothing to compare with.
        let mut notes = Vec::new();
        let mut note = |rule: &Located<Mode>, what: String| {
            let mode = if rule.value == Mode::Audit {
                Mode::Audit
            } else {
                Mode::Warn
            };
            notes.push((
                mode,
                Reason::new(
                    ReasonCode::NoEarlierRelease,
                    format!(
                        "{what}, and ward knows no earlier release of {} to compare with: this release becomes the baseline once allowed (scope {:?}, {}:{})",
                        artifact.id.full_name(),
                        scope.name,
                        self.path,
                        rule.line
                    ),
                )
                .at(self.location(rule.line)),
            ));
        };
        let unreadable = |why: &str, what: &str| {
            format!(
                "{what} cannot be compared with {}'s earlier releases: {why}",
                artifact.id.full_name()
            )
        };

        if let Some(rule) = &rules.new_install_scripts {
            let hooks = traits.install_hooks();
            if !hooks.is_empty() {
                let shown: Vec<String> = hooks.iter().map(|(k, v)| format!("{k} `{}`", quoted(v))).collect();
                match &risky.earlier {
                    Err(why) => push(
                        rule,
                        ReasonCode::RiskyChangeUnevaluable,
                        unreadable(why, &format!("install scripts ({})", few(&shown))),
                    ),
                    Ok(None) => note(rule, format!("{this} runs install scripts ({})", few(&shown))),
                    Ok(Some(earlier)) => {
                        let before = earlier.traits.install_hooks();
                        let had = if before.is_empty() {
                            "had none".to_string()
                        } else {
                            format!(
                                "had {}",
                                before.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
                            )
                        };
                        for (name, cmd) in &hooks {
                            // Compared whole, quoted in the message.
                            let found = before.iter().find(|(k, _)| k == name);
                            let changed = found.is_some_and(|(_, old)| old != cmd);
                            let (name, cmd) = (quoted(name), quoted(cmd));
                            match found {
                                None => push(
                                    rule,
                                    ReasonCode::InstallScriptAdded,
                                    format!("{name} added in {this}: `{cmd}` ({} {had})", earlier.named()),
                                ),
                                Some((_, old)) if changed => push(
                                    rule,
                                    ReasonCode::InstallScriptAdded,
                                    format!(
                                        "{name} changed in {this}: `{cmd}` ({} ran `{}`)",
                                        earlier.named(),
                                        quoted(old)
                                    ),
                                ),
                                Some(_) => {}
                            }
                        }
                    }
                }
            }
        }

        if let Some(rule) = &rules.new_dependencies_in_patch
            && let Some(now) = &traits.dependencies
            && !now.is_empty()
        {
            match &risky.earlier {
                Err(why) => push(
                    rule,
                    ReasonCode::RiskyChangeUnevaluable,
                    unreadable(why, "its dependencies"),
                ),
                // Nothing to compare with: a first sighting with dependencies is normal.
                Ok(None) => {}
                Ok(Some(earlier)) => {
                    if let (Some(before), Some(bump)) = (
                        &earlier.traits.dependencies,
                        non_major_bump(artifact.id.ecosystem, &earlier.version, this),
                    ) {
                        let added: Vec<String> = now
                            .iter()
                            .filter(|(name, _)| !before.contains_key(*name))
                            .map(|(name, req)| format!("{} {}", quoted(name), quoted(req)))
                            .collect();
                        if !added.is_empty() {
                            push(
                                rule,
                                ReasonCode::DependencyAddedInPatch,
                                format!(
                                    "{} added in the {bump} release {} → {this}: {} (a {bump} release should not need new dependencies)",
                                    if added.len() == 1 { "dependency" } else { "dependencies" },
                                    earlier.named(),
                                    few(&added)
                                ),
                            );
                        }
                    }
                }
            }
        }

        if let Some(rule) = &rules.pth_files
            && artifact.kind == ArtifactKind::Wheel
            && !traits.pth_files.is_empty()
        {
            let files: Vec<String> = traits.pth_files.iter().map(|p| format!("`{}`", quoted(p))).collect();
            push(
                rule,
                ReasonCode::PthFile,
                format!(
                    "{} installs {} into site-packages: Python runs the `import` lines of a .pth file at every interpreter start",
                    artifact.file_name,
                    few(&files)
                ),
            );
        }

        if let Some(rule) = &rules.setup_py_only
            && artifact.kind == ArtifactKind::Sdist
            && !traits.extension_sources
        {
            push(
                rule,
                ReasonCode::SdistOnly,
                format!(
                    "{} is a source distribution of a pure-Python project (no C, C++, Cython, Rust or Fortran sources): installing it runs its setup.py or build backend, where a wheel would run nothing; install a wheel",
                    artifact.file_name
                ),
            );
        }

        if let Some(rule) = &rules.native_binaries
            && !traits.native_binaries.is_empty()
        {
            let shown = |bins: &[&ward_core::NativeBinary]| -> Vec<String> {
                bins.iter()
                    .map(|b| format!("`{}` ({})", quoted(&b.path), b.format.as_str()))
                    .collect()
            };
            let all: Vec<&ward_core::NativeBinary> = traits.native_binaries.iter().collect();
            match &risky.earlier {
                Err(why) => push(
                    rule,
                    ReasonCode::RiskyChangeUnevaluable,
                    unreadable(why, &format!("native binaries ({})", few(&shown(&all)))),
                ),
                Ok(None) => note(rule, format!("{this} ships native binaries ({})", few(&shown(&all)))),
                Ok(Some(earlier)) if earlier.baseline != Baseline::Allowed => note(
                    rule,
                    format!(
                        "{this} ships native binaries ({}); the registry's listing of {} does not say which files it held",
                        few(&shown(&all)),
                        earlier.version
                    ),
                ),
                Ok(Some(earlier)) => {
                    let before = &earlier.traits.native_binaries;
                    let added: Vec<&ward_core::NativeBinary> = all
                        .into_iter()
                        .filter(|b| !before.iter().any(|p| p.path == b.path))
                        .collect();
                    if !added.is_empty() {
                        let had = match before.len() {
                            0 => "shipped none".to_string(),
                            n => format!("shipped {n} others"),
                        };
                        push(
                            rule,
                            ReasonCode::NativeBinaryAdded,
                            format!(
                                "native {} added in {this}: {} ({} {had})",
                                if added.len() == 1 { "binary" } else { "binaries" },
                                few(&shown(&added)),
                                earlier.version
                            ),
                        );
                    }
                }
            }
        }
        out.extend(notes);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_escaped_and_bounded() {
        assert_eq!(quoted("node a.js"), "node a.js");
        assert_eq!(quoted("a\nwarn: allowed"), "a\\nwarn: allowed");
        let long = quoted(&"x".repeat(10_000));
        assert_eq!(long.chars().count(), QUOTED + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn bumps_are_read_in_the_ecosystems_order() {
        assert_eq!(non_major_bump(Ecosystem::Npm, "3.3.5", "3.3.6"), Some("patch"));
        assert_eq!(non_major_bump(Ecosystem::Npm, "1.13.0", "1.14.1"), Some("minor"));
        assert_eq!(non_major_bump(Ecosystem::Npm, "4.1.0", "5.0.0"), None);
        assert_eq!(non_major_bump(Ecosystem::Cargo, "0.2.1", "0.3.0"), None);
        assert_eq!(non_major_bump(Ecosystem::Cargo, "0.2.1", "0.2.2"), Some("patch"));
        assert_eq!(non_major_bump(Ecosystem::Pypi, "1.82.6", "1.82.7"), Some("patch"));
        assert_eq!(non_major_bump(Ecosystem::Pypi, "1.0", "1!1.0"), None);
        assert_eq!(non_major_bump(Ecosystem::Npm, "not a version", "1.0.0"), None);
    }
}
