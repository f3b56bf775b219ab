//! Checks and the decision they add up to.
//!
//! Each stage reports what it checked as a check (`ward_verify::Check`:
//! passed, or failed with a [`Reason`]). One decider turns them into a [`Decision`]: the policy in
//! `ward-policy` (its built-in default when no policy file is given: every
//! check must pass and at least one signature must have verified). A policy
//! can never turn a failed check into an allow.

use crate::Reason;
use serde::{Deserialize, Serialize};

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(
    clippy::exhaustive_enums,
    reason = "closed on purpose: a new variant must break every match on it (each stage decides what it means) rather than fall into a wildcard arm"
)]
pub enum Verdict {
    /// The artifact may be installed.
    Allow,
    /// The artifact must not be installed.
    Deny,
}

/// What kind of thing a check checked. Serialised in kebab-case
/// (`sigstore-bundle`), as the JSON output and the ledger name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CheckKind {
    /// The archive is safe to open and its identity could be read.
    Archive,
    /// The artifact has the digest someone else expects (registry index, ledger pin).
    Digest,
    /// The npm registry's signature over the version's integrity.
    NpmRegistrySignature,
    /// A public key that was presented (refused when weak or malformed).
    Key,
    /// A Sigstore bundle over the artifact.
    SigstoreBundle,
    /// A detached signature over the artifact.
    Signature,
    /// An attestation (in-toto statement) about the artifact.
    Attestation,
    /// A rebuilder's attestation that it rebuilt the artifact from source.
    Rebuild,
    /// The scan stage: advisories, licences, malicious-package records.
    Scan,
}

impl CheckKind {
    /// The kebab-case name (`sigstore-bundle`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Archive => "archive",
            CheckKind::Digest => "digest",
            CheckKind::NpmRegistrySignature => "npm-registry-signature",
            CheckKind::Key => "key",
            CheckKind::SigstoreBundle => "sigstore-bundle",
            CheckKind::Signature => "signature",
            CheckKind::Attestation => "attestation",
            CheckKind::Rebuild => "rebuild",
            CheckKind::Scan => "scan",
        }
    }
}

impl std::fmt::Display for CheckKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The policy a decision was made under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct PolicyRef {
    /// The policy file.
    pub path: String,
    /// `sha256:` of the policy file and every file it names.
    pub digest: String,
}

/// The decision about one artifact: every reason behind it, and the verdict
/// they add up to. The verdict is not stored apart from the reasons: it is
/// deny exactly when there is a deny reason ([`Decision::verdict`]), so the
/// two cannot disagree. In JSON it is still written first, as `verdict`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// Why it was denied; empty for an allow.
    pub reasons: Vec<Reason>,
    /// Failures of rules in `warn` mode: reported, not denied.
    pub warnings: Vec<Reason>,
    /// Failures of rules in `audit` mode: recorded only.
    pub audit: Vec<Reason>,
    /// The policy, when one was used (else ward's safe default applied).
    pub policy: Option<PolicyRef>,
}

/// How a [`Decision`] is written: the verdict first, then its reasons.
#[derive(Serialize)]
struct DecisionJson<'a> {
    verdict: Verdict,
    reasons: &'a [Reason],
    #[serde(skip_serializing_if = "<[Reason]>::is_empty")]
    warnings: &'a [Reason],
    #[serde(skip_serializing_if = "<[Reason]>::is_empty")]
    audit: &'a [Reason],
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<&'a PolicyRef>,
}

impl Serialize for Decision {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        DecisionJson {
            verdict: self.verdict(),
            reasons: &self.reasons,
            warnings: &self.warnings,
            audit: &self.audit,
            policy: self.policy.as_ref(),
        }
        .serialize(s)
    }
}

impl Decision {
    /// A decision from its deny reasons (allow when there are none).
    pub fn new(reasons: Vec<Reason>, warnings: Vec<Reason>, audit: Vec<Reason>, policy: Option<PolicyRef>) -> Self {
        Self {
            reasons,
            warnings,
            audit,
            policy,
        }
    }

    /// Deny when any reason denies, else allow.
    pub fn verdict(&self) -> Verdict {
        if self.reasons.is_empty() {
            Verdict::Allow
        } else {
            Verdict::Deny
        }
    }

    /// Whether the artifact may be installed.
    pub fn allowed(&self) -> bool {
        self.verdict() == Verdict::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReasonCode;

    #[test]
    fn the_verdict_follows_the_reasons() {
        let mut d = Decision::new(Vec::new(), Vec::new(), Vec::new(), None);
        assert_eq!(d.verdict(), Verdict::Allow);
        d.reasons.push(Reason::new(ReasonCode::SignatureMissing, "none"));
        assert_eq!(d.verdict(), Verdict::Deny);
        assert!(!d.allowed());
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.starts_with(r#"{"verdict":"deny","reasons":[{"#), "{json}");
    }
}
