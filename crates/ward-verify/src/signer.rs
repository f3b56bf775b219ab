//! Which keyless signer is trusted: an identity (exact or a whole-string
//! regular expression) and an OIDC issuer.

use crate::VerifyError;

/// Compiles a user's pattern to match whole strings only: `^(?:P)$`.
///
/// `P` must first be a regular expression on its own. Otherwise text such
/// as `https://github\.com/acme/release)|(.*` closes ward's group, and the
/// wrapped pattern `^(?:…release)|(.*)$` is valid and matches every value.
/// Every place ward anchors a pattern (identities on the command line and in
/// policies, `provenance.source` and `provenance.ref`) goes through here.
pub fn anchored_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(pattern)?;
    regex::Regex::new(&format!("^(?:{pattern})$"))
}

/// How the certificate's identity (SAN) must look.
#[derive(Clone, Debug)]
#[allow(
    clippy::exhaustive_enums,
    reason = "closed on purpose: a new variant must break every match on it (each stage decides what it means) rather than fall into a wildcard arm"
)]
pub enum IdentityRule {
    /// Exactly this string.
    Exact(String),
    /// This regular expression, matched against the whole identity.
    Regex(regex::Regex),
}

impl IdentityRule {
    /// A whole-string regular expression. Unlike cosign, ward anchors the
    /// pattern at both ends, so `https://github.com/acme/` cannot match
    /// `https://github.com/acme/../evil`-style prefixes by accident.
    pub fn regex(pattern: &str) -> Result<Self, regex::Error> {
        anchored_regex(pattern).map(IdentityRule::Regex)
    }

    /// Whether `identity` satisfies the rule.
    pub fn matches(&self, identity: &str) -> bool {
        match self {
            IdentityRule::Exact(s) => s == identity,
            IdentityRule::Regex(re) => re.is_match(identity),
        }
    }

    fn describe(&self) -> String {
        match self {
            IdentityRule::Exact(s) => s.clone(),
            IdentityRule::Regex(re) => format!("pattern {}", re.as_str()),
        }
    }
}

/// The keyless signer a bundle must come from.
#[derive(Clone, Debug, Default)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a record the other stages build field by field: a new field must be filled in by every builder, not defaulted"
)]
pub struct SignerRequirement {
    /// Required identity; `None` means none was configured (a keyless
    /// signature then verifies but cannot be trusted).
    pub identity: Option<IdentityRule>,
    /// Required OIDC issuer, compared exactly.
    pub issuer: Option<String>,
}

impl SignerRequirement {
    /// Checks a verified certificate's claims against the requirement. An
    /// identity named without its issuer constrains nothing: several OIDC
    /// issuers Fulcio trusts can vouch for the same SAN (an email address,
    /// a URI), so, as cosign does, ward needs both.
    pub fn check(&self, identity: &str, issuer: &str) -> Result<(), VerifyError> {
        let (Some(rule), Some(_)) = (&self.identity, &self.issuer) else {
            return Err(VerifyError::IdentityUnconstrained {
                identity: identity.into(),
                issuer: issuer.into(),
            });
        };
        if !rule.matches(identity) {
            return Err(VerifyError::IdentityMismatch {
                expected: rule.describe(),
                found: identity.into(),
            });
        }
        if let Some(expected) = &self.issuer
            && expected != issuer
        {
            return Err(VerifyError::IssuerMismatch {
                expected: expected.clone(),
                found: issuer.into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_anchored_and_issuer_exact() {
        let req = SignerRequirement {
            identity: Some(IdentityRule::regex("https://github.com/acme/[^/]+/.*").unwrap()),
            issuer: Some("https://token.actions.githubusercontent.com".into()),
        };
        assert!(
            req.check(
                "https://github.com/acme/x/.github/workflows/r.yml@refs/tags/v1",
                "https://token.actions.githubusercontent.com"
            )
            .is_ok()
        );
        assert!(matches!(
            req.check(
                "https://evil.example/https://github.com/acme/x/y",
                "https://token.actions.githubusercontent.com"
            ),
            Err(VerifyError::IdentityMismatch { .. })
        ));
        assert!(matches!(
            req.check("https://github.com/acme/x/y", "https://accounts.google.com"),
            Err(VerifyError::IssuerMismatch { .. })
        ));
        assert!(matches!(
            SignerRequirement::default().check("a", "b"),
            Err(VerifyError::IdentityUnconstrained { .. })
        ));
        let no_issuer = SignerRequirement {
            identity: Some(IdentityRule::Exact("a".into())),
            issuer: None,
        };
        assert!(matches!(
            no_issuer.check("a", "b"),
            Err(VerifyError::IdentityUnconstrained { .. })
        ));
    }

    /// Issue 10, finding 4: text that closes ward's group is refused.
    #[test]
    fn a_pattern_cannot_escape_the_anchors() {
        for escape in [
            r"https://github\.com/acme/release)|(.*",
            r"a)|(?:.*",
            ")|(",
            // In verbose mode a trailing comment would swallow ward's `)$`.
            "(?x)acme # comment",
        ] {
            assert!(IdentityRule::regex(escape).is_err(), "{escape:?} was accepted");
            assert!(anchored_regex(escape).is_err(), "{escape:?} was accepted");
        }
        let re = anchored_regex(r"https://github\.com/acme/.*|https://gitlab\.com/acme/.*").unwrap();
        assert!(re.is_match("https://gitlab.com/acme/x"));
        assert!(!re.is_match("https://evil.example/https://github.com/acme/x"));
        assert!(!re.is_match("https://github.com/acme/x\nhttps://evil"));
        // Flags stay inside ward's group.
        let re = anchored_regex("(?m)acme").unwrap();
        assert!(!re.is_match("x\nacme"));
    }
}
