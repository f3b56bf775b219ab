//! in-toto statements (v1 and v0.1): parsing and binding to the artifact.

use crate::VerifyError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A parsed in-toto statement.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Statement {
    /// `https://in-toto.io/Statement/v1` or `…/v0.1`.
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// The predicate type URI.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate.
    #[serde(default)]
    pub predicate: serde_json::Value,
}

/// One subject: a name and its digests by algorithm.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Subject {
    /// The subject's name (a file name or purl).
    #[serde(default)]
    pub name: String,
    /// Digests keyed by algorithm (`sha256`, `sha512`, …), lower-case hex.
    pub digest: BTreeMap<String, String>,
}

const STATEMENT_TYPES: &[&str] = &["https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"];

impl Statement {
    /// Parses a statement from a DSSE payload.
    pub fn parse(payload: &[u8]) -> Result<Self, VerifyError> {
        crate::evidence::check_depth(payload, crate::evidence::MAX_JSON_DEPTH)?;
        let statement: Statement = serde_json::from_slice(payload)
            .map_err(|e| VerifyError::AttestationMalformed(format!("not an in-toto statement: {e}")))?;
        if !STATEMENT_TYPES.contains(&statement.statement_type.as_str()) {
            return Err(VerifyError::AttestationMalformed(format!(
                "unknown statement type {:?} (expected in-toto Statement v1 or v0.1)",
                statement.statement_type
            )));
        }
        Ok(statement)
    }

    /// Checks that one subject carries the artifact's SHA-256 or SHA-512;
    /// other subjects are ignored.
    pub fn bind(&self, sha256: [u8; 32], sha512: Option<[u8; 64]>) -> Result<&Subject, VerifyError> {
        let sha256 = hex::encode(sha256);
        let sha512 = sha512.map(hex::encode);
        let matching = self.subject.iter().find(|s| {
            s.digest.get("sha256").is_some_and(|d| d.eq_ignore_ascii_case(&sha256))
                || s.digest
                    .get("sha512")
                    .zip(sha512.as_ref())
                    .is_some_and(|(d, a)| d.eq_ignore_ascii_case(a))
        });
        if let Some(subject) = matching {
            return Ok(subject);
        }
        let usable = self
            .subject
            .iter()
            .any(|s| s.digest.contains_key("sha256") || s.digest.contains_key("sha512"));
        let detail = if self.subject.is_empty() {
            "the statement has no subjects".to_string()
        } else if usable {
            format!(
                "none of its {} subject(s) has the artifact's digest",
                self.subject.len()
            )
        } else {
            let algs: Vec<&str> = self
                .subject
                .iter()
                .flat_map(|s| s.digest.keys().map(String::as_str))
                .collect();
            format!(
                "its subjects only carry {} digests; ward binds on sha256 or sha512",
                algs.join(", ")
            )
        };
        Err(VerifyError::SubjectMismatch(format!(
            "{} statement: {detail}",
            self.predicate_type
        )))
    }

    /// Whether any subject has a digest ward can bind on, and which one to
    /// hand to a verifier that takes a single digest.
    pub fn preferred_algorithm(&self) -> Option<&'static str> {
        if self.subject.iter().any(|s| s.digest.contains_key("sha256")) {
            Some("sha256")
        } else if self.subject.iter().any(|s| s.digest.contains_key("sha512")) {
            Some("sha512")
        } else {
            None
        }
    }
}
