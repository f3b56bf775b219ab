//! Rebuild rules: which independent rebuilders the policy trusts
//! (`[[rebuilder]] name, keys`) and, per scope, how many of them must have
//! reproduced an artifact (`rebuild = { required = K, rebuilders = [...],
//! on_divergence = "deny" }`).
//!
//! - K distinct trusted rebuilders (by name: two keys of one rebuilder
//!   count once) must have signed a verified equivalence statement, else
//!   `rebuild-missing`. Without `required` (or with 0), missing rebuild
//!   evidence is "unknown", not a failure.
//! - A trusted rebuilder's verified statement that the rebuild did not
//!   match is `rebuild-diverged`, in the mode `on_divergence` says (`deny`,
//!   `warn` or `audit`; never stricter than the scope's mode).
//! - Where no scope has a `rebuild` rule, a verified divergence by any
//!   trusted key still denies in the policy's mode: a rebuilder you trust
//!   saying "these bytes do not come from that source" is not ignored.

use crate::model::{Located, Mode, Policy, Scope};
use serde::Deserialize;
use toml::Spanned;
use ward_core::{Artifact, Decision, PackageId, Reason, ReasonCode};
use ward_verify::PublicKey;
use ward_verify::{Check, Fact, RebuildOutcome, SignerIdentity};

/// `[[rebuilder]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRebuilder {
    pub name: Spanned<String>,
    pub keys: Spanned<Vec<Spanned<String>>>,
}

/// A scope's `rebuild` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRebuildRule {
    #[serde(default)]
    pub required: Option<Spanned<u32>>,
    #[serde(default)]
    pub rebuilders: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub on_divergence: Option<Spanned<String>>,
    #[serde(default)]
    pub on_regression: Option<Spanned<String>>,
    #[serde(default)]
    pub window: Option<Spanned<u32>>,
}

/// Earlier releases the regression check looks at, unless `window` says.
pub const DEFAULT_WINDOW: u32 = 5;
/// The largest `window`.
pub const MAX_WINDOW: u32 = 50;

/// A trusted rebuilder: a name and the keys its statements are signed with.
#[derive(Clone, Debug)]
pub struct Rebuilder {
    /// The name scopes refer to it by.
    pub name: String,
    /// Its public keys.
    pub keys: Vec<PublicKey>,
    /// Line of the `[[rebuilder]]` table.
    pub line: usize,
}

/// A scope's rebuild requirement.
#[derive(Clone, Debug)]
pub struct RebuildRule {
    /// Distinct trusted rebuilders that must have reproduced the artifact (0: none).
    pub required: Located<u32>,
    /// The rebuilders that count (default: every `[[rebuilder]]`).
    pub rebuilders: Vec<String>,
    /// How a divergence counts.
    pub on_divergence: Located<DivergenceLevel>,
    /// How a regression counts (earlier releases reproduced, this one not);
    /// `None`: not checked.
    pub on_regression: Option<Located<DivergenceLevel>>,
    /// How many earlier releases the regression check looks at.
    pub window: Located<u32>,
    /// Line of the `rebuild` table.
    pub line: usize,
}

impl Policy {
    /// Every key of every `[[rebuilder]]`: rebuild attestations are verified
    /// with these (and the keys given on the command line).
    pub fn rebuilder_keys(&self) -> impl Iterator<Item = &PublicKey> {
        self.rebuilders.iter().flat_map(|r| &r.keys)
    }

    /// The rebuilder a key belongs to.
    fn rebuilder_of(&self, signer: &SignerIdentity) -> Option<&Rebuilder> {
        let SignerIdentity::Key { fingerprint, .. } = signer else {
            return None;
        };
        self.rebuilders
            .iter()
            .find(|r| r.keys.iter().any(|k| k.fingerprint() == fingerprint))
    }
}

fn rank(m: Mode) -> u8 {
    match m {
        Mode::Enforce => 0,
        Mode::Warn => 1,
        Mode::Audit => 2,
    }
}

/// The reasons the rebuild rules give for one artifact, each with the mode
/// it counts in. `scopes` are the scopes that match; `check_mode` is the
/// mode failed checks count in.
pub(crate) fn reasons(policy: &Policy, scopes: &[&Scope], facts: &[&Fact], check_mode: Mode) -> Vec<(Mode, Reason)> {
    let rebuilds: Vec<(&ward_verify::Rebuild, &SignerIdentity, &str)> = facts
        .iter()
        .filter_map(|f| match f {
            Fact::Rebuild {
                rebuild,
                signer,
                evidence,
                ..
            } => Some((rebuild, signer, evidence.as_str())),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    let ruled: Vec<(&Scope, &RebuildRule)> = scopes
        .iter()
        .filter_map(|s| s.rebuild.as_ref().map(|r| (*s, r)))
        .collect();
    if ruled.is_empty() {
        // No rule: a divergence signed by a trusted key still denies.
        for (rebuild, signer, evidence) in &rebuilds {
            if rebuild.outcome == RebuildOutcome::Diverged {
                let who = policy
                    .rebuilder_of(signer)
                    .map_or_else(|| describe(signer), |r| format!("rebuilder {:?}", r.name));
                out.push((
                    check_mode,
                    Reason::new(
                        ReasonCode::RebuildDiverged,
                        format!("{who} says its rebuild does not match the artifact ({evidence})"),
                    ),
                ));
            }
        }
        return out;
    }
    for (scope, rule) in ruled {
        let at = |line: usize| format!("(scope {:?}, {}:{line})", scope.name, policy.path);
        let counted = |signer: &SignerIdentity| {
            policy
                .rebuilder_of(signer)
                .filter(|r| rule.rebuilders.contains(&r.name))
        };
        let mut reproduced: Vec<&str> = Vec::new();
        let mut diverged: Vec<(&str, &str)> = Vec::new();
        for (rebuild, signer, evidence) in &rebuilds {
            let Some(r) = counted(signer) else { continue };
            match rebuild.outcome {
                RebuildOutcome::Reproduced => reproduced.push(&r.name),
                RebuildOutcome::Diverged => diverged.push((&r.name, evidence)),
            }
        }
        reproduced.sort_unstable();
        reproduced.dedup();
        diverged.sort_unstable();
        diverged.dedup();
        let level = rule.on_divergence.value.mode_for(scope.mode);
        for (name, evidence) in &diverged {
            out.push((
                level,
                Reason::new(
                    ReasonCode::RebuildDiverged,
                    format!(
                        "trusted rebuilder {name:?} says its rebuild does not match the artifact ({evidence}) {}",
                        at(rule.on_divergence.line)
                    ),
                )
                .at(policy.location(rule.on_divergence.line)),
            ));
        }
        let have = u32::try_from(reproduced.len()).unwrap_or(u32::MAX);
        if have < rule.required.value {
            let untrusted = rebuilds.iter().filter(|(_, s, _)| counted(s).is_none()).count();
            let mut message = format!(
                "{have} of the {} trusted rebuilder(s) required ({}) reproduced this artifact",
                rule.required.value,
                rule.rebuilders.join(", ")
            );
            if !reproduced.is_empty() {
                message.push_str(&format!(" (reproduced by: {})", reproduced.join(", ")));
            }
            if untrusted > 0 {
                message.push_str(&format!(
                    "; {untrusted} verified rebuild statement(s) by rebuilders this scope does not trust"
                ));
            }
            out.push((
                scope.mode,
                Reason::new(
                    ReasonCode::RebuildMissing,
                    format!("{message} {}", at(rule.required.line)),
                )
                .at(policy.location(rule.required.line)),
            ));
        }
    }
    out
}

/// An earlier release of the package as the ledger recorded its allow:
/// which keys had signed a reproduced rebuild of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlierRelease {
    /// The version.
    pub version: String,
    /// The ledger entry that allowed it.
    pub index: u64,
    /// `sha256:` fingerprints of the keys whose verified rebuild statement
    /// said it reproduced.
    pub reproduced_by: Vec<String>,
}

/// What the ledger says about earlier releases' rebuilds (newest first),
/// read through its release index (one lookup, then one entry per release).
#[derive(Clone, Debug, Default)]
pub struct RebuildHistory {
    /// The earlier releases.
    pub earlier: Vec<EarlierRelease>,
    /// Why the history could not be read, when it could not.
    pub unreadable: Option<String>,
}

impl Policy {
    /// How many earlier releases the regression check needs for this
    /// package; `None` when no scope that covers it checks regressions.
    pub fn rebuild_window(&self, id: &PackageId) -> Option<usize> {
        self.scopes_for(id)
            .iter()
            .filter_map(|s| s.rebuild.as_ref())
            .filter(|r| r.on_regression.is_some())
            .map(|r| usize::try_from(r.window.value).unwrap_or(usize::MAX))
            .max()
    }

    /// `rebuild-regressed`: earlier releases in the window reproduced (by a
    /// rebuilder the scope trusts) and this one has no verified
    /// reproduction by one. Added to `decision` in the rule's mode (warn by
    /// default); a history that cannot be read is `release-history-unknown`
    /// in the same mode, never a pass.
    pub fn add_rebuild_regression(
        &self,
        decision: &mut Decision,
        artifact: &Artifact,
        checks: &[Check],
        history: &RebuildHistory,
    ) {
        for scope in self.scopes_for(&artifact.id) {
            let Some(rule) = &scope.rebuild else { continue };
            let Some(level) = &rule.on_regression else { continue };
            let mode = level.value.mode_for(scope.mode);
            let fingerprints: Vec<&str> = self
                .rebuilders
                .iter()
                .filter(|r| rule.rebuilders.contains(&r.name))
                .flat_map(|r| r.keys.iter().map(PublicKey::fingerprint))
                .collect();
            let reproduced_now = checks.iter().flat_map(|c| c.facts()).any(|f| {
                matches!(f, Fact::Rebuild { rebuild, signer: SignerIdentity::Key { fingerprint, .. }, .. }
                    if rebuild.outcome == RebuildOutcome::Reproduced && fingerprints.contains(&fingerprint.as_str()))
            });
            if reproduced_now {
                continue;
            }
            let at = format!("(scope {:?}, {}:{})", scope.name, self.path, level.line);
            let reason = if let Some(why) = &history.unreadable {
                Reason::new(
                    ReasonCode::ReleaseHistoryUnknown,
                    format!("whether earlier releases reproduced cannot be known: {why} {at}"),
                )
            } else {
                let this = artifact.id.version.as_deref();
                let window = usize::try_from(rule.window.value).unwrap_or(usize::MAX);
                let earlier = history
                    .earlier
                    .iter()
                    .filter(|e| Some(e.version.as_str()) != this)
                    .take(window)
                    .find(|e| e.reproduced_by.iter().any(|fp| fingerprints.contains(&fp.as_str())));
                let Some(e) = earlier else { continue };
                Reason::new(
                    ReasonCode::RebuildRegressed,
                    format!(
                        "release {} (ledger entry {}) was reproduced by a trusted rebuilder, and {} has no verified reproduction {at}",
                        e.version, e.index, artifact.id
                    ),
                )
            };
            let reason = reason.at(self.location(level.line));
            match mode {
                Mode::Enforce => decision.reasons.push(reason),
                Mode::Warn => decision.warnings.push(reason),
                Mode::Audit => decision.audit.push(reason),
            }
        }
    }
}

fn describe(signer: &SignerIdentity) -> String {
    match signer {
        SignerIdentity::Key { fingerprint, .. } => format!("the rebuilder with key {fingerprint}"),
        SignerIdentity::Keyless { identity, .. } => format!("the rebuilder {identity}"),
    }
}

/// How a divergence counts: `deny`, `warn` or `audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DivergenceLevel {
    /// In the scope's mode (enforce: deny).
    Deny,
    /// At most a warning.
    Warn,
    /// Only recorded.
    Audit,
}

impl DivergenceLevel {
    fn parse(word: &str) -> Option<Self> {
        match word {
            "deny" => Some(Self::Deny),
            "warn" => Some(Self::Warn),
            "audit" => Some(Self::Audit),
            _ => None,
        }
    }

    /// The mode a divergence counts in under a scope: the less strict of the two.
    fn mode_for(self, scope: Mode) -> Mode {
        let level = match self {
            Self::Deny => Mode::Enforce,
            Self::Warn => Mode::Warn,
            Self::Audit => Mode::Audit,
        };
        if rank(level) >= rank(scope) { level } else { scope }
    }
}

impl crate::load::Loader {
    /// One `[[rebuilder]]`; problems are reported, not returned.
    pub(crate) fn rebuilder(&self, index: usize, raw: &Spanned<RawRebuilder>) -> Option<Rebuilder> {
        use crate::diagnostic::DiagnosticCode;
        let at = |k: &str| format!("rebuilder[{}].{k}", index + 1);
        let r = raw.get_ref();
        if r.name.get_ref().trim().is_empty() {
            self.report(
                DiagnosticCode::MissingKey,
                Some(r.name.span()),
                at("name"),
                "a rebuilder needs a name",
            );
            return None;
        }
        if r.keys.get_ref().is_empty() {
            self.report(
                DiagnosticCode::EmptyList,
                Some(r.keys.span()),
                at("keys"),
                "a rebuilder needs at least one key",
            );
            return None;
        }
        let mut keys = Vec::new();
        let mut ok = true;
        for k in r.keys.get_ref() {
            let Some((path, bytes)) = self.read_named(k, &at("keys"), "key file", ward_input::limits::KEY) else {
                ok = false;
                continue;
            };
            match PublicKey::parse(&bytes, path.display().to_string()) {
                Ok(key) => keys.push(key),
                Err(e) => {
                    self.report(DiagnosticCode::InvalidKey, Some(k.span()), at("keys"), e.to_string());
                    ok = false;
                }
            }
        }
        ok.then(|| Rebuilder {
            name: r.name.get_ref().clone(),
            keys,
            line: self.line(raw),
        })
    }

    /// A scope's `rebuild` table, checked against the declared rebuilders.
    pub(crate) fn rebuild_rule(
        &self,
        raw: &Spanned<RawRebuildRule>,
        key: &str,
        rebuilders: &[Rebuilder],
    ) -> Option<RebuildRule> {
        use crate::diagnostic::DiagnosticCode;
        let r = raw.get_ref();
        let line = self.line(raw);
        let mut ok = true;
        let names: Vec<String> = match &r.rebuilders {
            Some(list) => {
                for name in list.get_ref() {
                    if !rebuilders.iter().any(|b| b.name == *name.get_ref()) {
                        self.report(
                            DiagnosticCode::WrongType,
                            Some(name.span()),
                            format!("{key}.rebuilders"),
                            format!(
                                "no [[rebuilder]] is named {:?} (declared: {})",
                                name.get_ref(),
                                rebuilders
                                    .iter()
                                    .map(|b| b.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                        ok = false;
                    }
                }
                list.get_ref().iter().map(|n| n.get_ref().clone()).collect()
            }
            None => rebuilders.iter().map(|b| b.name.clone()).collect(),
        };
        let required = r.required.as_ref().map_or(Located { value: 0, line }, |q| Located {
            value: *q.get_ref(),
            line: self.line(q),
        });
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        if u32::try_from(distinct.len()).unwrap_or(u32::MAX) < required.value {
            let span = r.required.as_ref().map(Spanned::span);
            self.report(
                DiagnosticCode::InvalidThreshold,
                span,
                format!("{key}.required"),
                format!(
                    "requires {} rebuilders, but only {} trusted rebuilder(s) are listed",
                    required.value,
                    distinct.len()
                ),
            );
            ok = false;
        }
        // `deny`, `warn`, `audit` (and, for regressions, `off`).
        let level = |word: &Option<Spanned<String>>, name: &str, default: Option<DivergenceLevel>, ok: &mut bool| {
            let Some(word) = word else {
                return Ok(default.map(|value| Located { value, line }));
            };
            match (word.get_ref().as_str(), DivergenceLevel::parse(word.get_ref())) {
                ("off", _) if name == "on_regression" => Ok(None),
                (_, Some(value)) => Ok(Some(Located {
                    value,
                    line: self.line(word),
                })),
                (w, None) => {
                    let allowed = if name == "on_regression" {
                        "\"deny\", \"warn\", \"audit\", \"off\""
                    } else {
                        "\"deny\", \"warn\", \"audit\""
                    };
                    self.report(
                        DiagnosticCode::WrongType,
                        Some(word.span()),
                        format!("{key}.{name}"),
                        format!("{w:?} is not one of {allowed}"),
                    );
                    *ok = false;
                    Err(())
                }
            }
        };
        let on_divergence = level(&r.on_divergence, "on_divergence", Some(DivergenceLevel::Deny), &mut ok)
            .ok()
            .flatten()
            .unwrap_or(Located {
                value: DivergenceLevel::Deny,
                line,
            });
        let on_regression = level(&r.on_regression, "on_regression", Some(DivergenceLevel::Warn), &mut ok)
            .ok()
            .flatten();
        let window = match &r.window {
            None => Located {
                value: DEFAULT_WINDOW,
                line,
            },
            Some(w) if (1..=MAX_WINDOW).contains(w.get_ref()) => Located {
                value: *w.get_ref(),
                line: self.line(w),
            },
            Some(w) => {
                self.report(
                    DiagnosticCode::InvalidWindow,
                    Some(w.span()),
                    format!("{key}.window"),
                    format!(
                        "a rebuild window of {} releases is not between 1 and {MAX_WINDOW}",
                        w.get_ref()
                    ),
                );
                ok = false;
                Located { value: 1, line }
            }
        };
        ok.then_some(RebuildRule {
            required,
            rebuilders: distinct,
            on_divergence,
            on_regression,
            window,
            line,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::Policy;
    use std::path::Path;

    fn dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/oss-rebuild")
    }

    fn parse(scope_rule: &str) -> Result<Policy, String> {
        let text = format!(
            "version = 1\n[[rebuilder]]\nname = \"oss-rebuild\"\nkeys = [\"oss-rebuild.pub\"]\n[[scope]]\npackages = [\"npm:*\"]\nrebuild = {scope_rule}\n"
        );
        Policy::parse(&text, "ward.toml", &dir()).map_err(|e| e.to_string())
    }

    #[test]
    fn rules_load_with_their_defaults() {
        let p = parse("{ required = 1 }").unwrap();
        assert_eq!(p.rebuilders.len(), 1);
        assert_eq!(p.rebuilder_keys().count(), 1);
        let rule = p.scopes[0].rebuild.as_ref().unwrap();
        assert_eq!(rule.required.value, 1);
        assert_eq!(rule.rebuilders, ["oss-rebuild"]);
        assert_eq!(rule.on_divergence.value, super::DivergenceLevel::Deny);
        assert_eq!(
            rule.on_regression.as_ref().map(|l| l.value),
            Some(super::DivergenceLevel::Warn)
        );
        assert_eq!(rule.window.value, super::DEFAULT_WINDOW);
        let off = parse("{ on_regression = \"off\" }").unwrap();
        assert!(off.scopes[0].rebuild.as_ref().unwrap().on_regression.is_none());
    }

    #[test]
    fn mistakes_are_load_errors_that_name_the_key() {
        for (rule, expect) in [
            ("{ rebuilders = [\"nobody\"] }", "no [[rebuilder]] is named \"nobody\""),
            ("{ required = 2 }", "requires 2 rebuilders"),
            ("{ on_divergence = \"ignore\" }", "\"ignore\" is not one of"),
            ("{ on_regression = \"maybe\" }", "\"maybe\" is not one of"),
            ("{ window = 0 }", "not between 1 and 50"),
            ("{ require = 1 }", "unknown field"),
        ] {
            let e = parse(rule).unwrap_err();
            assert!(e.contains(expect), "{rule}: {e}");
        }
        let text = "version = 1\n[[rebuilder]]\nname = \"x\"\nkeys = [\"missing.pub\"]\n";
        assert!(Policy::parse(text, "ward.toml", &dir()).is_err());
    }
}
