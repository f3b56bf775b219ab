//! slsa-verifier's rules in a policy: the `provenance` table's
//! `source_uri`, `source_tag`, `source_branch`, `source_versioned_tag` and
//! `builder_id` keys (loaded here), and the same rules from the command
//! line (`ward verify --source-uri …`) as a scope of their own. The rules
//! themselves are `ward_verify::slsa`.

use crate::diagnostic::DiagnosticCode;
use crate::file::RawProvenance;
use crate::load::Loader;
use crate::model::{Located, Policy};
use sha2::Digest as _;
use toml::Spanned;
use ward_verify::slsa::{Expectations, GITHUB_ACTIONS_ISSUER};

impl Loader {
    /// The slsa-verifier keys of a `provenance` table: `Some(None)` when
    /// there are none, `None` when they are wrong (reported).
    pub(crate) fn slsa_expectations(
        &self,
        r: &RawProvenance,
        table: &Spanned<RawProvenance>,
        at: &dyn Fn(&str) -> String,
    ) -> Option<Option<Located<Expectations>>> {
        let text = |v: &Option<Spanned<String>>| v.as_ref().map(|s| s.get_ref().trim().to_string());
        let Some(source) = &r.source_uri else {
            let stray = [
                ("source_tag", &r.source_tag),
                ("source_branch", &r.source_branch),
                ("source_versioned_tag", &r.source_versioned_tag),
                ("builder_id", &r.builder_id),
            ]
            .into_iter()
            .find_map(|(k, v)| v.as_ref().map(|v| (k, v.span())));
            if let Some((key, span)) = stray {
                self.report(
                    DiagnosticCode::InvalidSlsaRule,
                    Some(span),
                    at(&format!("provenance.{key}")),
                    format!("`{key}` is one of slsa-verifier's rules and needs `source_uri` (github.com/OWNER/REPO)"),
                );
                return None;
            }
            return Some(None);
        };
        let expectations = Expectations {
            source_uri: source.get_ref().trim().to_string(),
            source_tag: text(&r.source_tag),
            source_branch: text(&r.source_branch),
            source_versioned_tag: text(&r.source_versioned_tag),
            builder_id: text(&r.builder_id),
        };
        match expectations.validate() {
            Ok(()) => Some(Some(Located {
                value: expectations,
                line: self.line(source),
            })),
            Err(e) => {
                self.report(DiagnosticCode::InvalidSlsaRule, Some(table.span()), at("provenance"), e);
                None
            }
        }
    }
}

/// A TOML string literal.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl Policy {
    /// Adds slsa-verifier's rules given on the command line as a scope of
    /// their own, covering every package: provenance signed by a GitHub
    /// Actions workflow (slsa-verifier's certificate identity,
    /// `https://github.com/*` from `https://token.actions.githubusercontent.com`)
    /// that passes `expectations`. The policy's own scopes still apply; its
    /// digest then covers the added scope too, so a decision records which
    /// rules decided.
    pub fn require_slsa(&mut self, expectations: &Expectations) -> Result<(), String> {
        expectations.validate()?;
        let mut text = format!(
            "[[scope]]\nname = \"command line (--source-uri)\"\npackages = [\"*\"]\nmode = \"enforce\"\nsigners = [{{ issuer = {}, identity_regex = {} }}]\n[scope.provenance]\nsource_uri = {}\n",
            quoted(GITHUB_ACTIONS_ISSUER),
            quoted(r"https://github\.com/.*"),
            quoted(&expectations.source_uri)
        );
        for (key, value) in [
            ("source_tag", &expectations.source_tag),
            ("source_branch", &expectations.source_branch),
            ("source_versioned_tag", &expectations.source_versioned_tag),
            ("builder_id", &expectations.builder_id),
        ] {
            if let Some(v) = value {
                text.push_str(&format!("{key} = {}\n", quoted(v)));
            }
        }
        let extra = Policy::parse(&text, "(command line)", std::path::Path::new(".")).map_err(|e| e.to_string())?;
        self.scopes.extend(extra.scopes);
        if self.path == Policy::builtin().path {
            // Then the decision records these rules as its policy, not ward's default.
            self.path = "(built-in, with --source-uri)".into();
        }
        let mut h = sha2::Sha256::new();
        h.update(self.digest.as_bytes());
        h.update(text.as_bytes());
        self.digest = format!("sha256:{}", hex::encode(h.finalize()));
        Ok(())
    }
}

/// Every verified provenance among `facts`, checked by slsa-verifier's
/// rules: the ward reason code and message of each that fails.
pub(crate) fn mismatches(
    expectations: &Expectations,
    facts: &[&ward_verify::Fact],
    npm_package: bool,
) -> Vec<(ward_core::ReasonCode, String)> {
    use ward_verify::slsa::{ProvenanceView, Signing, verify};
    use ward_verify::{Fact, SignerIdentity};
    let mut out = Vec::new();
    for fact in facts {
        let Fact::Provenance {
            provenance,
            signer,
            evidence,
            ..
        } = fact
        else {
            continue;
        };
        // The statement the provenance was read from (same evidence, same type).
        let predicate = facts.iter().find_map(|f| match f {
            Fact::Statement {
                predicate_type,
                evidence: e,
                predicate: Some(p),
                ..
            } if e == evidence && *predicate_type == provenance.predicate_type => Some(p),
            _ => None,
        });
        let Some(predicate) = predicate else {
            out.push((
                ward_core::ReasonCode::ProvenanceSourceMismatch,
                format!("the provenance in {evidence} could not be read again to check slsa-verifier's rules"),
            ));
            continue;
        };
        let view = ProvenanceView::read(&provenance.predicate_type, predicate);
        let signing = match signer {
            SignerIdentity::Keyless { identity, issuer, .. } => Some(Signing {
                issuer,
                identity,
                source_repository: provenance.source_repository.as_deref(),
                runner_environment: provenance.runner_environment.as_deref(),
            }),
            SignerIdentity::Key { .. } => None,
        };
        if let Err((code, e)) = verify(expectations, signing.as_ref(), &view, npm_package) {
            out.push((
                code,
                format!(
                    "the provenance in {evidence} fails slsa-verifier's rules for source {}: {e} ({:?})",
                    expectations.source_uri, e.kind
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{DiagnosticCode, Policy};
    use std::path::Path;

    fn load(provenance: &str) -> Result<Policy, crate::PolicyError> {
        let text = format!("[[scope]]\npackages = [\"npm:x\"]\n\n[scope.provenance]\n{provenance}\n");
        Policy::parse(&text, "ward.toml", Path::new("."))
    }

    #[test]
    fn slsa_keys_load_into_the_provenance_rule() {
        let p = load("source_uri = \"github.com/o/r\"\nbuilder_id = \"https://github.com/actions/runner/github-hosted\"\nsource_versioned_tag = \"v1.2\"").unwrap();
        let rule = p.scopes[0].provenance.as_ref().unwrap().slsa.as_ref().unwrap();
        assert_eq!(rule.line, 5);
        assert_eq!(rule.value.source_uri, "github.com/o/r");
        assert_eq!(rule.value.source_versioned_tag.as_deref(), Some("v1.2"));
    }

    #[test]
    fn wrong_slsa_keys_are_load_errors_at_their_line() {
        for (keys, line) in [
            ("source_tag = \"v1\"", 5),
            ("source_uri = \"gitlab.com/o/r\"", 4),
            (
                "source_uri = \"github.com/o/r\"\nsource_tag = \"v1\"\nsource_versioned_tag = \"v1\"",
                4,
            ),
            ("source_uri = \"github.com/o/r\"\nsource_versioned_tag = \"1.2\"", 4),
            ("source_uri = \"github.com/o/r\"\nbuilder_id = \"a@b@c\"", 4),
        ] {
            let e = load(keys).unwrap_err();
            let d = &e.diagnostics[0];
            assert_eq!(d.code, DiagnosticCode::InvalidSlsaRule, "{keys}");
            assert_eq!(d.primary().map(|l| l.line), Some(line), "{keys}");
        }
    }

    #[test]
    fn command_line_rules_become_a_scope_of_their_own() {
        let mut p = Policy::builtin();
        let digest = p.digest.clone();
        p.require_slsa(&ward_verify::slsa::Expectations {
            source_uri: "github.com/o/r".into(),
            source_tag: None,
            source_branch: Some("main".into()),
            source_versioned_tag: None,
            builder_id: None,
        })
        .unwrap();
        assert_eq!(p.scopes.len(), 1);
        assert!(
            p.scopes[0].signers[0]
                .issuer
                .contains("token.actions.githubusercontent.com")
        );
        assert_ne!(p.digest, digest);
        assert_ne!(p.path, Policy::builtin().path);
        let bad = ward_verify::slsa::Expectations {
            source_uri: "example.com/o/r".into(),
            source_tag: None,
            source_branch: None,
            source_versioned_tag: None,
            builder_id: None,
        };
        assert!(Policy::builtin().require_slsa(&bad).is_err());
    }
}
