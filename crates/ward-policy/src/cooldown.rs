//! The release cooldown: a version is let in only once it has been public
//! for `min_age`, by the registry's own publish time.
//!
//! Most malicious releases are found and removed within hours or days, so
//! a few days' wait keeps them out. Where no publish time is known the rule
//! says so (`release-age-unknown`) instead of passing; a publish time in
//! the future (beyond [`CLOCK_SKEW`]) or one the registry lists in a
//! malformed or contradictory way is `release-metadata-invalid`.

use crate::duration::show_duration;
use crate::model::{Mode, Policy};
use crate::pattern::PackagePattern;
use crate::release::{CLOCK_SKEW, MetaField, ReleaseHistory};
use jiff::{SignedDuration, Timestamp};
use ward_core::{PackageId, Reason, ReasonCode};

/// `cooldown = { min_age = "3d", exempt = ["npm:@acme/*"] }`.
#[derive(Clone, Debug)]
pub struct Cooldown {
    /// How long a release must have been public.
    pub min_age: SignedDuration,
    /// `min_age` as written.
    pub written: String,
    /// Packages the cooldown does not hold back.
    pub exempt: Vec<PackagePattern>,
    /// The level its failures count at (`level`, default `deny`), whatever
    /// the scope's mode: a policy can warn about unsigned packages and
    /// still hold back new releases.
    pub level: Mode,
    /// Line of the `cooldown` table.
    pub line: usize,
}

impl Cooldown {
    /// Whether the package is exempt.
    pub fn exempts(&self, id: &PackageId) -> bool {
        self.exempt.iter().any(|p| p.matches(id))
    }

    /// Why the release may not be let in yet (or cannot be judged), if so.
    /// `at` names where the rule is written, for the message.
    pub fn judge(&self, id: &PackageId, history: Option<&ReleaseHistory>, now: Timestamp, at: &str) -> Option<Reason> {
        if self.exempts(id) {
            return None;
        }
        let registry = history.and_then(|h| h.registry.as_ref());
        let fail = |code: ReasonCode, message: String| Some(Reason::new(code, format!("{message} {at}")));
        let Some(registry) = registry else {
            return fail(
                ReasonCode::ReleaseAgeUnknown,
                format!(
                    "no publish time is known for {id} (it did not come through a registry listing), so the cooldown of {} cannot be checked",
                    self.written
                ),
            );
        };
        if let Some(p) = registry.problem(MetaField::PublishTime) {
            return fail(
                ReasonCode::ReleaseMetadataInvalid,
                format!(
                    "the {} cannot be trusted for the cooldown: {}",
                    registry.source, p.message
                ),
            );
        }
        let Some(published) = registry.release.published else {
            return fail(
                ReasonCode::ReleaseAgeUnknown,
                format!(
                    "the {} gives no publish time for {id}, so the cooldown of {} cannot be checked",
                    registry.source, self.written
                ),
            );
        };
        if published.duration_since(now) > CLOCK_SKEW {
            return fail(
                ReasonCode::ReleaseMetadataInvalid,
                format!(
                    "the {} says {id} was published at {published}, which is in the future (now {now})",
                    registry.source
                ),
            );
        }
        let eligible = published.checked_add(self.min_age).unwrap_or(Timestamp::MAX);
        if now < eligible {
            let age = now.duration_since(published).max(SignedDuration::ZERO);
            return fail(
                ReasonCode::ReleaseTooNew,
                format!(
                    "{id} was published at {published} ({} ago); the cooldown of {} lets it in at {eligible} (UTC)",
                    show_duration(SignedDuration::from_secs(age.as_secs())),
                    self.written
                ),
            );
        }
        None
    }
}

impl Policy {
    /// The cooldowns that apply to a package, each with its level and where
    /// it is written: each matching scope's (its own or the default's), or
    /// the default's when no scope matches.
    pub fn cooldowns_for(&self, id: &PackageId) -> Vec<(&Cooldown, Mode, String)> {
        let scopes = self.scopes_for(id);
        if scopes.is_empty() {
            return self
                .defaults
                .cooldown
                .iter()
                .map(|c| (c, c.level, format!("(defaults, {}:{})", self.path, c.line)))
                .collect();
        }
        scopes
            .iter()
            .filter_map(|s| {
                s.cooldown
                    .as_ref()
                    .map(|c| (c, c.level, format!("(scope {:?}, {}:{})", s.name, self.path, c.line)))
            })
            .collect()
    }

    /// Whether deciding this package needs the registry's release metadata
    /// (publish times, publishers, attestation flags): a cooldown that does
    /// not exempt it, or a history rule, applies.
    pub fn wants_release_metadata(&self, id: &PackageId) -> bool {
        self.cooldowns_for(id).iter().any(|(c, _, _)| !c.exempts(id))
            || self.scopes_for(id).iter().any(|s| s.history.is_some())
    }

    /// Why a listed release is held back from listings: the first cooldown
    /// in `enforce` mode that would deny its download. The proxy leaves
    /// such a version out of packuments, Simple API pages and index files,
    /// so that resolvers pick an older one.
    pub fn listing_hold(&self, id: &PackageId, history: &ReleaseHistory, now: Timestamp) -> Option<Reason> {
        self.cooldowns_for(id)
            .into_iter()
            .filter(|(_, mode, _)| *mode == Mode::Enforce)
            .find_map(|(c, _, at)| c.judge(id, Some(history), now, &at))
    }
}

/// `cooldown = { … }` as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCooldown {
    /// A string with a unit; a number is read too, to be refused by name.
    pub min_age: toml::Spanned<toml::Value>,
    #[serde(default)]
    pub exempt: Vec<toml::Spanned<String>>,
    #[serde(default)]
    pub allow_security_fixes: Option<toml::Spanned<bool>>,
    #[serde(default)]
    pub level: Option<toml::Spanned<String>>,
}

impl crate::load::Loader {
    /// A `cooldown` table; problems are reported, not returned.
    pub(crate) fn cooldown(&self, raw: &toml::Spanned<RawCooldown>, key: &str) -> Option<Cooldown> {
        use crate::diagnostic::DiagnosticCode;
        let c = raw.get_ref();
        let mut ok = true;
        let min_age = match c.min_age.get_ref() {
            toml::Value::String(text) => match crate::duration::parse_duration(text) {
                Ok(d) => Some((d, text.trim().to_string())),
                Err(e) => {
                    self.report(
                        DiagnosticCode::InvalidDuration,
                        Some(c.min_age.span()),
                        format!("{key}.min_age"),
                        e,
                    );
                    None
                }
            },
            other => {
                let shown = other.to_string();
                self.report(
                    DiagnosticCode::InvalidDuration,
                    Some(c.min_age.span()),
                    format!("{key}.min_age"),
                    format!(
                        "{shown} has no unit: write a string with one, e.g. min_age = \"{shown}d\" (m minutes, h hours, d days, w weeks)"
                    ),
                );
                None
            }
        };
        let mut exempt = Vec::new();
        for e in &c.exempt {
            match PackagePattern::parse(e.get_ref().trim()) {
                Ok(p) => exempt.push(p),
                Err(m) => {
                    self.report(
                        DiagnosticCode::InvalidPackagePattern,
                        Some(e.span()),
                        format!("{key}.exempt"),
                        m,
                    );
                    ok = false;
                }
            }
        }
        if let Some(f) = &c.allow_security_fixes
            && *f.get_ref()
        {
            self.report(
                DiagnosticCode::NotSupported,
                Some(f.span()),
                format!("{key}.allow_security_fixes"),
                "letting security fixes skip the cooldown is not implemented yet; remove the key (see docs/policy.md)",
            );
            ok = false;
        }
        let level = match &c.level {
            None => Mode::Enforce,
            Some(l) => match l.get_ref().trim() {
                "deny" => Mode::Enforce,
                "warn" => Mode::Warn,
                "audit" => Mode::Audit,
                other => {
                    self.report(
                        DiagnosticCode::WrongType,
                        Some(l.span()),
                        format!("{key}.level"),
                        format!("{other:?} is not one of \"deny\", \"warn\", \"audit\""),
                    );
                    ok = false;
                    Mode::Enforce
                }
            },
        };
        let (min_age, written) = min_age?;
        ok.then(|| Cooldown {
            min_age,
            written,
            exempt,
            level,
            line: self.line(raw),
        })
    }
}
