//! Provenance and publisher history: a release is compared with the last
//! `window` releases before it.
//!
//! - `provenance-regression`: an earlier release in the window carried
//!   provenance (verified by ward and recorded in the ledger, or listed by
//!   the registry: npm `dist.attestations`, PyPI PEP 740 `provenance`) and
//!   this one has no verified provenance;
//! - `provenance-source-changed`: this release's verified provenance names
//!   another repository, workflow or builder than every earlier release
//!   whose verified provenance the ledger recorded. A registry's listing
//!   only says *that* a release has attestations, not from where, so the
//!   source is compared with what ward itself verified (the first verified
//!   source of a package is the baseline: trust on first use);
//! - `publisher-changed`: the registry names a publishing account (npm
//!   `_npmUser`) never seen in the window.
//!
//! A field the rule needs that is missing, malformed or contradictory makes
//! the rule "could not evaluate" (`release-metadata-invalid`,
//! `release-history-unknown`) in the rule's mode: never a pass.

use crate::model::{Located, Mode};
use crate::release::{MetaField, ProvenanceSource, ReleaseHistory};
use jiff::Timestamp;
use ward_core::{PackageId, Reason, ReasonCode};
use ward_verify::{Check, Fact};

/// How a history rule counts: `deny`, `warn`, `audit` or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleLevel {
    /// Denies.
    Deny,
    /// At most a warning.
    Warn,
    /// Only recorded.
    Audit,
    /// Not checked.
    Off,
}

impl RuleLevel {
    /// Parses the word; `None` for anything else.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "deny" => Some(Self::Deny),
            "warn" => Some(Self::Warn),
            "audit" => Some(Self::Audit),
            "off" | "allow" => Some(Self::Off),
            _ => None,
        }
    }

    /// The mode a failure counts in: the rule's own level, whatever the
    /// scope's mode (like the risky-change rules), so that a policy can
    /// warn about unsigned packages and still deny a regression.
    pub fn mode(self) -> Option<Mode> {
        match self {
            Self::Deny => Some(Mode::Enforce),
            Self::Warn => Some(Mode::Warn),
            Self::Audit => Some(Mode::Audit),
            Self::Off => None,
        }
    }
}

/// `history = { provenance_regression = "deny", publisher_change = "warn", window = 10 }`.
#[derive(Clone, Debug)]
pub struct HistoryRule {
    /// What a release without the provenance earlier releases had gives.
    pub provenance_regression: Located<RuleLevel>,
    /// What a release by a publisher not seen in the window gives.
    pub publisher_change: Located<RuleLevel>,
    /// How many earlier releases are compared.
    pub window: Located<u32>,
    /// Line of the `history` table.
    pub line: usize,
}

/// One earlier release as compared: from the registry, the ledger or both.
#[derive(Debug)]
struct Earlier {
    version: String,
    published: Option<Timestamp>,
    publisher: Option<String>,
    /// The registry lists attestations for it.
    listed_provenance: bool,
    /// Verified provenance the ledger recorded for it.
    verified: Option<ProvenanceSource>,
    /// The ledger entry that allowed it.
    index: Option<u64>,
}

impl Earlier {
    fn name(&self) -> String {
        match self.index {
            Some(i) => format!("{} (ledger entry {i})", self.version),
            None => self.version.clone(),
        }
    }
}

/// The last `window` releases before this one: the registry's, newest
/// first by publish time, merged with the ledger's by version.
fn window(history: &ReleaseHistory, this: &str, size: usize) -> Vec<Earlier> {
    let mut out: Vec<Earlier> = Vec::new();
    if let Some(r) = &history.registry {
        for m in r.earlier.iter().filter(|m| m.version != this) {
            out.push(Earlier {
                version: m.version.clone(),
                published: m.published,
                publisher: m.publisher.clone(),
                listed_provenance: m.provenance,
                verified: None,
                index: None,
            });
        }
    }
    for rec in history.recorded.iter().filter(|r| r.version != this) {
        // Recorded after this release's publish time: not an earlier release.
        let this_published = history.registry.as_ref().and_then(|r| r.release.published);
        if let (Some(p), Some(t)) = (rec.published, this_published)
            && p > t
        {
            continue;
        }
        match out.iter_mut().find(|e| e.version == rec.version) {
            Some(e) => {
                e.verified = e.verified.take().or_else(|| rec.provenance.clone());
                e.index = e.index.or(Some(rec.index));
                e.publisher = e.publisher.take().or_else(|| rec.publisher.clone());
            }
            None => out.push(Earlier {
                version: rec.version.clone(),
                published: rec.published,
                publisher: rec.publisher.clone(),
                listed_provenance: false,
                verified: rec.provenance.clone(),
                index: Some(rec.index),
            }),
        }
    }
    for f in &history.fetched {
        if let (Some(e), Some(p)) = (out.iter_mut().find(|e| e.version == f.version), &f.provenance) {
            e.verified = e.verified.take().or_else(|| Some(p.clone()));
        }
    }
    // Newest first by publish time; releases with none (ledger-only) by entry, after.
    out.sort_by(|a, b| b.published.cmp(&a.published).then_with(|| b.index.cmp(&a.index)));
    out.truncate(size);
    out
}

impl HistoryRule {
    /// Compares the release with its history; each failure with the mode it counts in.
    pub fn judge(
        &self,
        id: &PackageId,
        checks: &[Check],
        history: Option<&ReleaseHistory>,
        at: &dyn Fn(usize) -> (String, ward_core::Location),
    ) -> Vec<(Mode, Reason)> {
        let mut out = Vec::new();
        let prov_mode = self.provenance_regression.value.mode();
        let pub_mode = self.publisher_change.value.mode();
        let mut fail = |mode: Option<Mode>, code: ReasonCode, line: usize, message: String| {
            if let Some(mode) = mode {
                let (text, location) = at(line);
                out.push((mode, Reason::new(code, format!("{message} {text}")).at(location)));
            }
        };
        let empty = ReleaseHistory::default();
        let h = history.unwrap_or(&empty);
        if let Some(why) = &h.recorded_unreadable {
            for (mode, line) in [
                (prov_mode, self.provenance_regression.line),
                (pub_mode, self.publisher_change.line),
            ] {
                fail(
                    mode,
                    ReasonCode::ReleaseHistoryUnknown,
                    line,
                    format!("the ledger's release history of {id} could not be read: {why}"),
                );
            }
            return out;
        }
        if h.registry.is_none() && !h.ledger {
            for (mode, line) in [
                (prov_mode, self.provenance_regression.line),
                (pub_mode, self.publisher_change.line),
            ] {
                fail(
                    mode,
                    ReasonCode::ReleaseHistoryUnknown,
                    line,
                    format!("no release history of {id} is known (no registry listing and no ledger)"),
                );
            }
            return out;
        }
        let this = id.version.clone().unwrap_or_default();
        let size = usize::try_from(self.window.value).unwrap_or(usize::MAX);
        let earlier = window(h, &this, size);
        let compared = || {
            let names: Vec<String> = earlier.iter().map(Earlier::name).collect();
            format!("compared with {}", names.join(", "))
        };

        // Provenance.
        if prov_mode.is_some() {
            let listed_problem = h.registry.as_ref().and_then(|r| r.problem(MetaField::Provenance));
            let mine: Vec<ProvenanceSource> = checks
                .iter()
                .flat_map(|c| c.facts())
                .filter_map(|f| match f {
                    Fact::Provenance { provenance, .. } => Some(ProvenanceSource::of(provenance)),
                    _ => None,
                })
                .collect();
            let had: Vec<&Earlier> = earlier
                .iter()
                .filter(|e| e.listed_provenance || e.verified.is_some())
                .collect();
            if let Some(p) = listed_problem {
                fail(
                    prov_mode,
                    ReasonCode::ReleaseMetadataInvalid,
                    self.provenance_regression.line,
                    format!("provenance history of {id} cannot be evaluated: {}", p.message),
                );
            } else if mine.is_empty() && !had.is_empty() {
                let names: Vec<String> = had.iter().map(|e| e.name()).collect();
                let sources: Vec<String> = had
                    .iter()
                    .filter_map(|e| e.verified.as_ref().map(ProvenanceSource::describe))
                    .collect();
                let from = if sources.is_empty() {
                    String::new()
                } else {
                    format!(" (from {})", dedup(sources).join("; "))
                };
                fail(
                    prov_mode,
                    ReasonCode::ProvenanceRegression,
                    self.provenance_regression.line,
                    format!(
                        "{id} has no verified provenance, but earlier release(s) {} carried provenance{from}; {}",
                        names.join(", "),
                        compared()
                    ),
                );
            } else if !mine.is_empty() {
                let baseline: Vec<(&Earlier, &ProvenanceSource)> = earlier
                    .iter()
                    .filter_map(|e| e.verified.as_ref().map(|s| (e, s)))
                    .collect();
                // A listed provenance that was fetched and did not verify: no
                // baseline can be trusted for the comparison (fail closed).
                let unverified = h
                    .fetched
                    .iter()
                    .find(|f| f.unverified.is_some() && earlier.iter().any(|e| e.version == f.version));
                if let (true, Some(f)) = (baseline.is_empty(), unverified) {
                    fail(
                        prov_mode,
                        ReasonCode::ReleaseHistoryUnknown,
                        self.provenance_regression.line,
                        format!(
                            "the provenance the registry lists for {} {} ({}) did not verify: {}; the source of {id} cannot be compared",
                            id.full_name(),
                            f.version,
                            f.evidence,
                            f.unverified.as_deref().unwrap_or_default()
                        ),
                    );
                } else if !baseline.is_empty() && !mine.iter().any(|m| baseline.iter().any(|(_, s)| *s == m)) {
                    let before: Vec<String> = baseline
                        .iter()
                        .map(|(e, s)| format!("{}: {}", e.name(), s.describe()))
                        .collect();
                    let now: Vec<String> = mine.iter().map(ProvenanceSource::describe).collect();
                    fail(
                        prov_mode,
                        ReasonCode::ProvenanceSourceChanged,
                        self.provenance_regression.line,
                        format!(
                            "{id} was built from {}, but earlier releases were built from {}",
                            dedup(now).join("; "),
                            before.join("; ")
                        ),
                    );
                }
            }
        }

        // Publisher.
        if pub_mode.is_some() {
            let line = self.publisher_change.line;
            match &h.registry {
                None => fail(
                    pub_mode,
                    ReasonCode::ReleaseHistoryUnknown,
                    line,
                    format!("the publisher of {id} is unknown: it did not come through a registry listing"),
                ),
                Some(r) if !r.names_publishers => fail(
                    pub_mode,
                    ReasonCode::ReleaseHistoryUnknown,
                    line,
                    format!(
                        "the {} names no publishing account, so a publisher change of {id} cannot be checked",
                        r.source
                    ),
                ),
                Some(r) => {
                    if let Some(p) = r.problem(MetaField::Publisher) {
                        fail(
                            pub_mode,
                            ReasonCode::ReleaseMetadataInvalid,
                            line,
                            format!("the publisher of {id} cannot be trusted: {}", p.message),
                        );
                    } else if let Some(me) = &r.release.publisher {
                        let seen: Vec<&str> = earlier.iter().filter_map(|e| e.publisher.as_deref()).collect();
                        if !seen.is_empty() && !seen.contains(&me.as_str()) {
                            fail(
                                pub_mode,
                                ReasonCode::PublisherChanged,
                                line,
                                format!(
                                    "{id} was published by {me}, who published none of the last {} release(s) (published by {}); {}",
                                    earlier.len(),
                                    dedup(seen.iter().map(|s| s.to_string()).collect()).join(", "),
                                    compared()
                                ),
                            );
                        }
                    } else {
                        fail(
                            pub_mode,
                            ReasonCode::ReleaseMetadataInvalid,
                            line,
                            format!("the {} names no publisher for {id}", r.source),
                        );
                    }
                }
            }
        }
        out
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// `history = { … }` as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHistory {
    #[serde(default)]
    pub provenance_regression: Option<toml::Spanned<String>>,
    #[serde(default)]
    pub publisher_change: Option<toml::Spanned<String>>,
    #[serde(default)]
    pub window: Option<toml::Spanned<i64>>,
}

impl crate::load::Loader {
    /// A `history` table; problems are reported, not returned.
    pub(crate) fn history(&self, raw: &toml::Spanned<RawHistory>, key: &str) -> Option<HistoryRule> {
        use crate::diagnostic::DiagnosticCode;
        let h = raw.get_ref();
        let line = self.line(raw);
        let mut ok = true;
        let mut level = |v: &Option<toml::Spanned<String>>, name: &str, default: RuleLevel| match v {
            None => Located { value: default, line },
            Some(s) => match RuleLevel::parse(s.get_ref().trim()) {
                Some(value) => Located {
                    value,
                    line: self.line(s),
                },
                None => {
                    self.report(
                        DiagnosticCode::WrongType,
                        Some(s.span()),
                        format!("{key}.{name}"),
                        format!("{:?} is not one of \"deny\", \"warn\", \"audit\", \"off\"", s.get_ref()),
                    );
                    ok = false;
                    Located { value: default, line }
                }
            },
        };
        let provenance_regression = level(&h.provenance_regression, "provenance_regression", RuleLevel::Deny);
        let publisher_change = level(&h.publisher_change, "publisher_change", RuleLevel::Warn);
        let window = match &h.window {
            None => Located { value: 10, line },
            Some(w) => match u32::try_from(*w.get_ref()) {
                Ok(n) if n >= 1 && usize::try_from(n).is_ok_and(|n| n <= crate::release::MAX_WINDOW) => Located {
                    value: n,
                    line: self.line(w),
                },
                _ => {
                    self.report(
                        DiagnosticCode::InvalidWindow,
                        Some(w.span()),
                        format!("{key}.window"),
                        format!(
                            "window {} is not between 1 and {} releases",
                            w.get_ref(),
                            crate::release::MAX_WINDOW
                        ),
                    );
                    return None;
                }
            },
        };
        ok.then_some(HistoryRule {
            provenance_regression,
            publisher_change,
            window,
            line,
        })
    }
}

impl crate::model::Policy {
    /// The cooldown and history failures of an artifact, each with the mode
    /// it counts in. An unexpired `[[allow]]` naming the artifact's exact
    /// sha256 turns each into an `allowed-by-review` audit record.
    pub(crate) fn release_reasons(&self, input: &crate::DecisionInput<'_>) -> Vec<(Mode, Reason)> {
        let id = &input.artifact.id;
        let mut found: Vec<(Mode, Reason)> = self
            .cooldowns_for(id)
            .into_iter()
            .filter_map(|(c, mode, at)| {
                c.judge(id, input.release, input.now, &at)
                    .map(|r| (mode, r.at(self.location(c.line))))
            })
            .collect();
        for scope in self.scopes_for(id) {
            if let Some(rule) = &scope.history {
                let at = |line: usize| {
                    (
                        format!("(scope {:?}, {}:{line})", scope.name, self.path),
                        self.location(line),
                    )
                };
                found.extend(rule.judge(id, input.checks, input.release, &at));
            }
        }
        let today = input.now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let allow = self.allows.iter().find(|a| {
            a.names(id) && a.sha256.eq_ignore_ascii_case(&input.artifact.digests.sha256.to_hex()) && today <= a.expires
        });
        match allow {
            None => found,
            Some(a) => found
                .into_iter()
                .map(|(_, r)| {
                    (
                        Mode::Audit,
                        Reason::new(
                            ReasonCode::AllowedByReview,
                            format!(
                                "{} [{}]; allowed for sha256 {} by the [[allow]] at {}:{} (until {}), reviewed by {}: {}",
                                r.message, r.code, a.sha256, self.path, a.line, a.expires, a.reviewer, a.justification
                            ),
                        ),
                    )
                })
                .collect(),
        }
    }
}
