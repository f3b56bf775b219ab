//! Deciding: the policy's scopes over the checks and facts of one artifact.
//!
//! Every scope that matches must pass. A failed check (bad evidence, unsafe
//! archive) counts in the strictest mode among the matching scopes, except
//! forged evidence ([`ReasonCode::FORGERY`]) and a known-malicious package
//! ([`ReasonCode::EVERY_MODE`]), which deny in every mode. Each
//! reason names the rule: scope, file and line, what was expected and what
//! was found.

use crate::model::{Mode, Policy, Scope, Unmatched};
use jiff::Timestamp;
use serde_json::json;
use ward_core::{Artifact, Decision, PolicyRef, Reason, ReasonCode};
use ward_verify::{Check, CheckOutcome, Fact, Provenance, SignerIdentity};

/// What the policy decides over.
pub struct DecisionInput<'a> {
    /// The artifact.
    pub artifact: &'a Artifact,
    /// Every check, in pipeline order.
    pub checks: &'a [Check],
    /// The time the decision is made at (injectable for tests).
    pub now: Timestamp,
    /// The scan report with each finding's triage ([`Policy::triage`]), if a scan ran.
    pub scan: Option<&'a ward_core::TriagedReport>,
    /// Warnings from triage (exceptions expired or expiring).
    pub notes: &'a [Reason],
    /// A command-line severity threshold that replaces the policy's.
    pub fail_on: Option<ward_core::Severity>,
    /// Whether verification already held every keyless signer to an
    /// identity named outside the policy (the command line): then every
    /// verified keyless signer was named by someone. Otherwise a keyless
    /// signer counts only where a scope's `signers` name it.
    pub keyless_checked: bool,
    /// The artifact's traits and the earlier release's, for the
    /// risky-change rules (`None`: not an archive ward could read).
    pub risky: Option<&'a crate::RiskyInput>,
    /// What the registry and the ledger say about this release and the
    /// ones before it, for the cooldown and history rules (`None`: nothing
    /// is known, and those rules say so).
    pub release: Option<&'a crate::release::ReleaseHistory>,
}

impl DecisionInput<'_> {
    fn facts(&self) -> impl Iterator<Item = &Fact> {
        self.checks.iter().flat_map(|c| c.facts())
    }

    /// Whether a verified signer counts for `scope` (or, with `None`, for a
    /// package no scope covers). A key counts: it verified under a key the
    /// user, the policy or ward's bundled registry keys trust. A keyless
    /// signer counts only when an identity was named for it: on the command
    /// line (checked during verification) or in the scope's `signers`.
    /// Anyone can get a Fulcio certificate for their own CI and sign any
    /// digest, so an unnamed keyless signer proves nothing.
    fn counts(&self, scope: Option<&Scope>, signer: &SignerIdentity) -> bool {
        match signer {
            SignerIdentity::Key { .. } => true,
            SignerIdentity::Keyless { .. } => self.keyless_checked || scope.is_some_and(|s| trusts(s, signer)),
        }
    }

    /// The facts whose signer counts for `scope`: the only ones the scope's
    /// provenance, predicate-type and scan-attestation rules see.
    ///
    /// A scope that names `signers` or `keys` counts those, keyless signers
    /// whose identity was named on the command line, and keys no scope of the
    /// policy names (keys given on the command line, the npm registry's
    /// keys). A key that another scope names is that key holder's word about
    /// their own packages: its statements never satisfy this scope's
    /// provenance, predicate-type or scan-attestation rules.
    fn counted_facts<'s>(&'s self, policy: &'s Policy, scope: &'s Scope) -> impl Iterator<Item = &'s Fact> + 's {
        self.facts().filter(move |f| {
            let signer = f.signer();
            if !self.within_lifetime(scope, f) {
                // Signed by a key outside its window: its statements do not count either.
                return false;
            }
            if scope.require_hardware_keys.is_some() {
                // Only what registered hardware-backed keys signed.
                return crate::hardware::registered(scope, signer).is_some();
            }
            if !scope.has_trust() {
                return self.counts(Some(scope), signer);
            }
            trusts(scope, signer)
                || matches!(signer, SignerIdentity::Key { fingerprint, .. } if !policy.names_key(fingerprint))
                || matches!(signer, SignerIdentity::Keyless { .. } if self.keyless_checked)
        })
    }
}

impl DecisionInput<'_> {
    /// Whether a fact's key signed inside the window the scope gives it
    /// (`crate::lifetime`): a statement or provenance counts only if a
    /// signature of the same evidence by the same key has a verified
    /// signing time inside it. Facts by keys without a lifetime pass.
    fn within_lifetime(&self, scope: &Scope, fact: &Fact) -> bool {
        let signer = fact.signer();
        if lifetime_verdict(scope, signer, None).is_ok() {
            return true;
        }
        let evidence = fact_evidence(fact);
        self.facts().any(|f| match f {
            Fact::Signature {
                signer: s,
                signed_at,
                evidence: e,
                ..
            } => s == signer && Some(e.as_str()) == evidence && lifetime_verdict(scope, s, *signed_at).is_ok(),
            _ => false,
        })
    }
}

/// The evidence file a fact came from.
fn fact_evidence(fact: &Fact) -> Option<&str> {
    match fact {
        Fact::Signature { evidence, .. } | Fact::Statement { evidence, .. } | Fact::Provenance { evidence, .. } => {
            Some(evidence)
        }
        _ => None,
    }
}

/// Whether a signature by `signer` at `signed_at` counts under the
/// lifetimes the scope gives the key (every one of them, when a key has
/// several); keyless signers and keys without a lifetime always pass. The
/// error carries the code, the message and the line of the key's entry.
fn lifetime_verdict(
    scope: &Scope,
    signer: &SignerIdentity,
    signed_at: Option<Timestamp>,
) -> Result<(), (ReasonCode, String, usize)> {
    let SignerIdentity::Key { fingerprint, .. } = signer else {
        return Ok(());
    };
    for l in scope.key_lifetimes.iter().filter(|l| l.fingerprint == *fingerprint) {
        l.judge(signed_at).map_err(|(code, message)| (code, message, l.line))?;
    }
    Ok(())
}

#[derive(Default)]
struct Buckets {
    deny: Vec<Reason>,
    warn: Vec<Reason>,
    audit: Vec<Reason>,
}

impl Buckets {
    /// Files a reason under its mode; forged evidence and a known-malicious
    /// package ([`ReasonCode::denies_in_every_mode`]) deny whatever the mode.
    fn push(&mut self, mode: Mode, reason: Reason) {
        let mode = if reason.code.denies_in_every_mode() {
            Mode::Enforce
        } else {
            mode
        };
        match mode {
            Mode::Enforce => self.deny.push(reason),
            Mode::Warn => self.warn.push(reason),
            Mode::Audit => self.audit.push(reason),
        }
    }
}

fn strictest(modes: impl Iterator<Item = Mode>) -> Option<Mode> {
    modes.min_by_key(|m| match m {
        Mode::Enforce => 0,
        Mode::Warn => 1,
        Mode::Audit => 2,
    })
}

impl Policy {
    /// Whether any scope lists this key (by `sha256:` fingerprint).
    fn names_key(&self, fingerprint: &str) -> bool {
        self.scopes
            .iter()
            .any(|s| s.keys.iter().any(|k| k.value.fingerprint() == fingerprint))
    }

    /// Decides over one artifact.
    pub fn decide(&self, input: &DecisionInput<'_>) -> Decision {
        let scopes = self.scopes_for(&input.artifact.id);
        let mut out = Buckets::default();
        let check_mode = strictest(scopes.iter().map(|s| s.mode)).unwrap_or(self.defaults.mode);
        for check in input.checks {
            if let CheckOutcome::Fail { reason } = check.outcome() {
                out.push(check_mode, reason.clone());
            }
        }
        if scopes.is_empty() {
            match self.defaults.unmatched {
                Unmatched::Deny => out.push(
                    self.defaults.mode,
                    Reason::new(
                        ReasonCode::NoMatchingScope,
                        format!("no scope in {} covers {}", self.path, input.artifact.id),
                    ),
                ),
                Unmatched::RequireSignature => {
                    if !input
                        .facts()
                        .any(|f| matches!(f, Fact::Signature { signer, .. } if input.counts(None, signer)))
                    {
                        out.push(
                            self.defaults.mode,
                            Reason::new(
                                ReasonCode::SignatureMissing,
                                format!(
                                    "no verified signature or attestation by a trusted key or a named keyless signer, and no scope in {} covers {} (the default requires one)",
                                    self.path, input.artifact.id
                                ),
                            ),
                        );
                    }
                }
            }
        }
        // Pins: in the artifact's mode; an `[[allow]]` of its sha256 makes an audit record.
        let today = input.now.to_zoned(jiff::tz::TimeZone::UTC).date();
        for (allowed, reason) in self.pin_reasons(input.artifact, today) {
            out.push(if allowed { Mode::Audit } else { check_mode }, reason);
        }
        let facts: Vec<&Fact> = input.facts().collect();
        for (mode, reason) in crate::rebuild::reasons(self, &scopes, &facts, check_mode) {
            out.push(mode, reason);
        }
        for scope in scopes {
            for reason in self.evaluate_scope(scope, input) {
                out.push(scope.mode, reason);
            }
            // Risky-change rules (risky.rs) carry their own level.
            for (mode, reason) in self.risky_reasons(scope, input) {
                out.push(mode, reason);
            }
        }
        // Release cooldown and history (cooldown.rs, history.rs).
        for (mode, reason) in self.release_reasons(input) {
            out.push(mode, reason);
        }
        if let Some(report) = input.scan {
            for (mode, reason) in self.scan_reasons(report, Some(&input.artifact.id), input.fail_on) {
                out.push(mode, reason);
            }
        }
        for note in input.notes {
            out.push(Mode::Warn, note.clone());
        }
        Decision::new(
            out.deny,
            out.warn,
            out.audit,
            Some(PolicyRef {
                path: self.path.clone(),
                digest: self.digest.clone(),
            }),
        )
    }

    fn at(&self, scope: &Scope, line: usize) -> String {
        format!("(scope {:?}, {}:{line})", scope.name, self.path)
    }

    fn evaluate_scope(&self, scope: &Scope, input: &DecisionInput<'_>) -> Vec<Reason> {
        let mut reasons = Vec::new();
        let mut fail = |code: ReasonCode, line: usize, message: String| {
            reasons.push(Reason::new(code, format!("{message} {}", self.at(scope, line))).at(self.location(line)));
        };
        let signatures: Vec<(&SignerIdentity, Option<&Timestamp>)> = input
            .facts()
            .filter_map(|f| match f {
                Fact::Signature { signer, signed_at, .. } => Some((signer, signed_at.as_ref())),
                _ => None,
            })
            .collect();
        let trusted: Vec<_> = signatures
            .iter()
            .filter(|(s, _)| {
                if scope.has_trust() {
                    trusts(scope, s)
                } else {
                    input.counts(Some(scope), s)
                }
            })
            .collect();
        // A key with a lifetime counts only for signatures verified inside it.
        let mut out_of_window: Vec<(ReasonCode, String, usize)> = Vec::new();
        let trusted: Vec<_> = trusted
            .into_iter()
            .filter(|(s, t)| match lifetime_verdict(scope, s, t.copied()) {
                Ok(()) => true,
                Err(why) => {
                    if !out_of_window.contains(&why) {
                        out_of_window.push(why);
                    }
                    false
                }
            })
            .collect();
        // A scope that requires hardware-backed keys counts registered keys only.
        let (trusted, not_hardware): (Vec<_>, Vec<_>) = trusted.into_iter().partition(|(s, _)| {
            scope.require_hardware_keys.is_none() || crate::hardware::registered(scope, s).is_some()
        });
        let mut not_hardware: Vec<String> = not_hardware.iter().map(|(s, _)| describe(s)).collect();
        not_hardware.sort();
        not_hardware.dedup();
        let hardware_shortfall = {
            let mut distinct: Vec<String> = trusted.iter().map(|(s, _)| signer_key(s)).collect();
            distinct.sort();
            distinct.dedup();
            crate::hardware::shortfall(scope, distinct.len(), &not_hardware)
        };
        if let Some((code, message)) = &hardware_shortfall {
            let line = scope.require_hardware_keys.unwrap_or(scope.line);
            fail(*code, line, message.clone());
        }

        // Signatures: who, how many, how recent.
        let trust_line = scope
            .signers
            .first()
            .map(|s| s.line)
            .or(scope.keys.first().map(|k| k.line))
            .unwrap_or(scope.line);
        if trusted.is_empty() {
            if hardware_shortfall.is_some() {
                // Said above: trusted keys signed, none registered as hardware-backed.
            } else if !out_of_window.is_empty() {
                for (code, message, line) in &out_of_window {
                    fail(*code, *line, message.clone());
                }
            } else if signatures.is_empty() {
                fail(
                    ReasonCode::SignatureMissing,
                    scope.line,
                    format!("no verified signature or attestation for {}", input.artifact.id),
                );
            } else if !scope.has_trust() {
                let found: Vec<String> = signatures.iter().map(|(s, _)| describe(s)).collect();
                fail(
                    ReasonCode::IdentityUnconstrained,
                    scope.line,
                    format!(
                        "signed by {}, but the scope names no `signers` or `keys`: anyone can get a certificate for their own identity, so name the ones you trust",
                        found.join(", ")
                    ),
                );
            } else {
                let found: Vec<String> = signatures.iter().map(|(s, _)| describe(s)).collect();
                fail(
                    ReasonCode::SignerNotTrusted,
                    trust_line,
                    format!(
                        "signed by {}, expected one of: {}",
                        found.join(", "),
                        expected_signers(scope)
                    ),
                );
            }
        } else {
            let mut distinct: Vec<String> = trusted.iter().map(|(s, _)| signer_key(s)).collect();
            distinct.sort();
            distinct.dedup();
            // A count past u32::MAX meets any threshold.
            let short = u32::try_from(distinct.len()).is_ok_and(|n| n < scope.threshold.value);
            if short && hardware_shortfall.is_none() && !out_of_window.is_empty() {
                for (code, message, line) in &out_of_window {
                    fail(
                        *code,
                        *line,
                        format!(
                            "{message}; {} distinct trusted signer(s) counted, threshold is {}",
                            distinct.len(),
                            scope.threshold.value
                        ),
                    );
                }
            } else if short && hardware_shortfall.is_none() {
                fail(
                    ReasonCode::ThresholdNotMet,
                    scope.threshold.line,
                    format!(
                        "{} distinct trusted signer(s) signed, threshold is {}",
                        distinct.len(),
                        scope.threshold.value
                    ),
                );
            }
            if let Some(max) = &scope.max_signature_age_days {
                let newest = trusted.iter().filter_map(|(_, t)| t.copied()).max();
                let limit = jiff::SignedDuration::from_hours(24 * i64::from(max.value));
                match newest {
                    None => fail(
                        ReasonCode::SignatureTooOld,
                        max.line,
                        format!(
                            "no trusted signature has a verified signing time, and signatures may be at most {} days old",
                            max.value
                        ),
                    ),
                    Some(t) if input.now.duration_since(t) > limit => fail(
                        ReasonCode::SignatureTooOld,
                        max.line,
                        format!(
                            "the newest trusted signature is from {t}, more than {} days ago",
                            max.value
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }

        // Provenance.
        if let Some(rule) = &scope.provenance {
            let provenances: Vec<&Provenance> = input
                .counted_facts(self, scope)
                .filter_map(|f| match f {
                    Fact::Provenance { provenance, .. } => Some(provenance),
                    _ => None,
                })
                .collect();
            if provenances.is_empty() && rule.required {
                fail(
                    ReasonCode::ProvenanceMissing,
                    rule.line,
                    "no verified SLSA provenance for this artifact, and the policy requires it".into(),
                );
            }
            for p in provenances {
                if let Some(builders) = &rule.builders
                    && !builders.value.is_empty()
                    && !p.builder_id.as_ref().is_some_and(|b| builders.value.contains(b))
                {
                    fail(
                        ReasonCode::ProvenanceBuilderMismatch,
                        builders.line,
                        format!(
                            "provenance builder {} is not one of {}",
                            shown(&p.builder_id),
                            builders.value.join(", ")
                        ),
                    );
                }
                if let Some(source) = &rule.source
                    && !p.source_repository.as_ref().is_some_and(|s| source.value.is_match(s))
                {
                    fail(
                        ReasonCode::ProvenanceSourceMismatch,
                        source.line,
                        format!(
                            "provenance source {} does not match {}",
                            shown(&p.source_repository),
                            pattern(&source.value)
                        ),
                    );
                }
                if let Some(git_ref) = &rule.git_ref
                    && !p.source_ref.as_ref().is_some_and(|r| git_ref.value.is_match(r))
                {
                    fail(
                        ReasonCode::ProvenanceRefMismatch,
                        git_ref.line,
                        format!(
                            "provenance ref {} does not match {}",
                            shown(&p.source_ref),
                            pattern(&git_ref.value)
                        ),
                    );
                }
                if let Some(deny) = &rule.deny_self_hosted
                    && deny.value
                    && !matches!(p.runner_environment.as_deref(), Some("github-hosted" | "gitlab-hosted"))
                {
                    fail(
                        ReasonCode::ProvenanceSelfHosted,
                        deny.line,
                        format!(
                            "the build ran on runner environment {}, and self-hosted runners are denied",
                            shown(&p.runner_environment)
                        ),
                    );
                }
            }
            // slsa-verifier's rules (`source_uri` and the keys with it).
            if let Some(slsa) = &rule.slsa {
                let facts: Vec<&Fact> = input.counted_facts(self, scope).collect();
                for (code, message) in crate::slsa_rule::mismatches(
                    &slsa.value,
                    &facts,
                    input.artifact.id.ecosystem == ward_core::Ecosystem::Npm,
                ) {
                    fail(code, slsa.line, message);
                }
            }
        }

        // Required predicate types.
        for required in &scope.required_predicate_types {
            let present = input
                .counted_facts(self, scope)
                .any(|f| matches!(f, Fact::Statement { predicate_type, .. } if *predicate_type == required.value));
            if !present {
                fail(
                    ReasonCode::PredicateTypeMissing,
                    required.line,
                    format!("no verified attestation of type {}", required.value),
                );
            }
        }

        // Scan attestations made elsewhere.
        let facts: Vec<&Fact> = input.counted_facts(self, scope).collect();
        for (code, message) in crate::scan_rules::scan_attestation_reasons(scope, &facts, input.now) {
            let line = scope.scan_attestation.as_ref().map(|r| r.line).unwrap_or(scope.line);
            fail(code, line, message);
        }

        // Rego.
        if let Some(rego) = &scope.rego {
            let doc = rego_input(scope, input);
            match rego.deny_messages(&doc) {
                Ok(messages) => {
                    for m in messages {
                        fail(ReasonCode::RegoDeny, scope.rego_line, format!("rego: {m}"));
                    }
                }
                Err(e) => fail(
                    ReasonCode::RegoError,
                    scope.rego_line,
                    format!("rego policy {} failed: {e}", rego.files.join(", ")),
                ),
            }
        }
        reasons
    }
}

fn shown(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(not stated)".into())
}

/// The user's pattern, without the anchors ward added.
fn pattern(re: &regex::Regex) -> String {
    let s = re.as_str();
    s.strip_prefix("^(?:")
        .and_then(|s| s.strip_suffix(")$"))
        .unwrap_or(s)
        .to_string()
}

fn trusts(scope: &Scope, signer: &SignerIdentity) -> bool {
    match signer {
        SignerIdentity::Keyless { identity, issuer, .. } => scope
            .signers
            .iter()
            .any(|s| s.issuer == *issuer && s.identity.matches(identity)),
        SignerIdentity::Key { fingerprint, .. } => scope.keys.iter().any(|k| k.value.fingerprint() == fingerprint),
    }
}

fn signer_key(signer: &SignerIdentity) -> String {
    match signer {
        SignerIdentity::Keyless { identity, issuer, .. } => format!("keyless {issuer} {identity}"),
        SignerIdentity::Key { fingerprint, .. } => format!("key {fingerprint}"),
    }
}

fn describe(signer: &SignerIdentity) -> String {
    match signer {
        SignerIdentity::Keyless { identity, issuer, .. } => format!("{identity} (issuer {issuer})"),
        SignerIdentity::Key { fingerprint, .. } => format!("key {fingerprint}"),
    }
}

fn expected_signers(scope: &Scope) -> String {
    let mut out: Vec<String> = scope.signers.iter().map(|s| s.describe()).collect();
    out.extend(
        scope
            .keys
            .iter()
            .map(|k| format!("key {} ({})", k.value.fingerprint(), k.value.label)),
    );
    out.join("; ")
}

/// The document Rego rules see as `input` (documented in docs/policy.md).
pub fn rego_input(scope: &Scope, input: &DecisionInput<'_>) -> serde_json::Value {
    let a = input.artifact;
    let facts: Vec<serde_json::Value> = input
        .facts()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap_or_default();
            if let (Fact::Statement { predicate: Some(p), .. }, Some(obj)) = (f, v.as_object_mut()) {
                obj.insert("predicate".into(), (**p).clone());
            }
            v
        })
        .collect();
    json!({
        "artifact": {
            "purl": a.id.to_purl(),
            "ecosystem": a.id.ecosystem.purl_type(),
            "name": a.id.full_name(),
            "version": a.id.version,
            "kind": a.kind,
            "file_name": a.file_name,
            "size": a.size,
            "digests": a.digests,
        },
        "facts": facts,
        "checks": input.checks,
        "findings": input.scan.map(|r| serde_json::to_value(&r.findings).unwrap_or_default()).unwrap_or_else(|| json!([])),
        "scope": { "name": scope.name },
        // What the archive does at install, and what the earlier release did (risky.rs).
        "traits": input.risky.map(|r| serde_json::to_value(&r.traits).unwrap_or_default()),
        "earlier_release": input.risky.and_then(|r| r.earlier.as_ref().ok()).and_then(Option::as_ref).map(|e| json!({
            "version": e.version,
            "traits": serde_json::to_value(&e.traits).unwrap_or_default(),
            "from": match &e.baseline {
                crate::risky::Baseline::Allowed => "ward".to_string(),
                crate::risky::Baseline::Registry(doc) => doc.clone(),
            },
        })),
        "now": input.now.to_string(),
    })
}
