//! OpenVEX documents: statements that a product is, or is not, affected by
//! a vulnerability, and why.
//!
//! Reads OpenVEX v0.2 (and the v0.0.x shape where `vulnerability` is a bare
//! string and products are strings). Hand-written: no maintained Rust crate
//! reads OpenVEX. A statement applies to a finding when its vulnerability
//! names the finding's advisory or one of its aliases, and one of its
//! products or subcomponents names the finding's package: the same purl
//! type, namespace and name, and the same version unless the VEX purl gives
//! none. Of several statements that apply, the latest (statement timestamp,
//! else the document's) wins, as the OpenVEX spec says.

use serde::Serialize;
use serde_json::Value;
use ward_core::PackageId;

/// The OpenVEX statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    /// Not affected (needs a justification or an impact statement).
    NotAffected,
    /// Affected.
    Affected,
    /// Fixed.
    Fixed,
    /// Under investigation.
    UnderInvestigation,
}

/// One VEX statement, flattened.
#[derive(Clone, Debug, Serialize)]
pub struct VexStatement {
    /// The vulnerability's name and aliases.
    pub vulnerability: Vec<String>,
    /// Products and subcomponents, as purls.
    #[serde(skip)]
    pub products: Vec<PackageId>,
    /// The status.
    pub status: VexStatus,
    /// `justification` (for `not_affected`).
    pub justification: Option<String>,
    /// `impact_statement`.
    pub impact_statement: Option<String>,
    /// `action_statement`.
    pub action_statement: Option<String>,
    /// When it was made (RFC 3339).
    pub timestamp: Option<String>,
    /// The document it came from.
    pub source: String,
}

impl VexStatement {
    /// Why, in one phrase.
    pub fn why(&self) -> String {
        self.justification
            .clone()
            .or_else(|| self.impact_statement.clone())
            .or_else(|| self.action_statement.clone())
            .unwrap_or_default()
    }
}

/// Why a VEX document cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: not a usable OpenVEX document: {message}")]
pub struct VexError {
    /// The document.
    pub source_name: String,
    /// What is wrong.
    pub message: String,
}

/// All statements from the documents in use.
#[derive(Clone, Debug, Default)]
pub struct VexSet {
    statements: Vec<VexStatement>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(|s| s.as_str()).map(str::to_string)
}

fn purls(list: Option<&Value>, source: &str) -> Result<Vec<PackageId>, VexError> {
    let mut out = Vec::new();
    for p in list.and_then(|l| l.as_array()).into_iter().flatten() {
        let id = match p {
            Value::String(s) => Some(s.clone()),
            _ => text(p, "@id").or_else(|| {
                p.pointer("/identifiers/purl")
                    .and_then(|s| s.as_str())
                    .map(String::from)
            }),
        };
        let Some(id) = id else { continue };
        // Products may also be named by other IRIs (images by digest); only
        // package URLs can match a package finding.
        if !id.starts_with("pkg:") {
            continue;
        }
        out.push(id.parse::<PackageId>().map_err(|e| VexError {
            source_name: source.to_string(),
            message: format!("product {id:?}: {e}"),
        })?);
    }
    Ok(out)
}

impl VexSet {
    /// Reads one OpenVEX JSON document. A document with an unknown status,
    /// or a `not_affected` statement with neither justification nor impact
    /// statement, is refused whole: half a VEX document could silence the
    /// wrong things.
    pub fn add_document(&mut self, bytes: &[u8], source: &str) -> Result<usize, VexError> {
        let bad = |message: String| VexError {
            source_name: source.to_string(),
            message,
        };
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let context = text(&doc, "@context").unwrap_or_default();
        if !context.starts_with("https://openvex.dev/ns") {
            return Err(bad(format!("@context {context:?} is not https://openvex.dev/ns/…")));
        }
        let doc_time = text(&doc, "timestamp");
        let statements = doc
            .get("statements")
            .and_then(|s| s.as_array())
            .ok_or_else(|| bad("no `statements` list".into()))?;
        let mut added = Vec::new();
        for (i, s) in statements.iter().enumerate() {
            let at = |m: &str| bad(format!("statement {}: {m}", i + 1));
            let mut vulnerability = Vec::new();
            match s.get("vulnerability") {
                Some(Value::String(name)) => vulnerability.push(name.clone()),
                Some(v @ Value::Object(_)) => {
                    vulnerability.extend(text(v, "name"));
                    vulnerability.extend(text(v, "@id").filter(|id| !id.contains("://")));
                    for a in v.get("aliases").and_then(|a| a.as_array()).into_iter().flatten() {
                        vulnerability.extend(a.as_str().map(String::from));
                    }
                }
                _ => return Err(at("no vulnerability")),
            }
            if vulnerability.is_empty() {
                return Err(at("the vulnerability has no name"));
            }
            let status = match s.get("status").and_then(|s| s.as_str()) {
                Some("not_affected") => VexStatus::NotAffected,
                Some("affected") => VexStatus::Affected,
                Some("fixed") => VexStatus::Fixed,
                Some("under_investigation") => VexStatus::UnderInvestigation,
                other => return Err(at(&format!("unknown status {other:?}"))),
            };
            let justification = text(s, "justification");
            let impact_statement = text(s, "impact_statement");
            if status == VexStatus::NotAffected && justification.is_none() && impact_statement.is_none() {
                return Err(at("`not_affected` needs a justification or an impact_statement"));
            }
            let mut products = purls(s.get("products"), source)?;
            for p in s.get("products").and_then(|l| l.as_array()).into_iter().flatten() {
                products.extend(purls(p.get("subcomponents"), source)?);
            }
            products.extend(purls(s.get("subcomponents"), source)?);
            added.push(VexStatement {
                vulnerability,
                products,
                status,
                justification,
                impact_statement,
                action_statement: text(s, "action_statement"),
                timestamp: text(s, "timestamp").or_else(|| doc_time.clone()),
                source: source.to_string(),
            });
        }
        let n = added.len();
        self.statements.extend(added);
        Ok(n)
    }

    /// Number of statements.
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The statement in force for an advisory (any of `ids`) and package.
    pub fn lookup(&self, ids: &[&str], package: &PackageId) -> Option<&VexStatement> {
        self.statements
            .iter()
            .filter(|s| s.vulnerability.iter().any(|v| ids.contains(&v.as_str())))
            .filter(|s| s.products.iter().any(|p| same_package(p, package)))
            .max_by(|a, b| a.timestamp.cmp(&b.timestamp))
    }
}

fn same_package(vex: &PackageId, found: &PackageId) -> bool {
    vex.ecosystem == found.ecosystem
        && vex.normalized_name() == found.normalized_name()
        && (vex.version.is_none() || vex.version == found.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{
      "@context": "https://openvex.dev/ns/v0.2.0",
      "@id": "https://example.invalid/vex-1",
      "author": "test",
      "timestamp": "2026-01-01T00:00:00Z",
      "version": 1,
      "statements": [
        {"vulnerability": {"name": "CVE-2021-23337", "aliases": ["GHSA-35jh-r3h4-6jhm"]},
         "products": [{"@id": "pkg:npm/lodash@4.17.20"}],
         "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
        {"vulnerability": {"name": "CVE-2021-23337"},
         "products": [{"@id": "pkg:npm/lodash@4.17.20"}],
         "status": "affected", "action_statement": "upgrade", "timestamp": "2026-02-01T00:00:00Z"},
        {"vulnerability": "CVE-2020-8203", "products": ["pkg:npm/lodash"], "status": "fixed"}
      ]
    }"#;

    #[test]
    fn latest_statement_wins_and_versionless_products_match_any_version() {
        let mut set = VexSet::default();
        assert_eq!(set.add_document(DOC.as_bytes(), "vex.json").unwrap(), 3);
        let lodash = |v: &str| PackageId::npm("lodash", Some(v.to_string()));
        let s = set
            .lookup(&["GHSA-35jh-r3h4-6jhm", "CVE-2021-23337"], &lodash("4.17.20"))
            .unwrap();
        assert_eq!(s.status, VexStatus::Affected);
        assert!(set.lookup(&["CVE-2021-23337"], &lodash("4.17.21")).is_none());
        assert_eq!(
            set.lookup(&["CVE-2020-8203"], &lodash("1.0.0")).unwrap().status,
            VexStatus::Fixed
        );
        assert!(
            set.lookup(&["CVE-2020-8203"], &PackageId::npm("underscore", Some("1.0.0".into())))
                .is_none()
        );
    }

    #[test]
    fn refuses_documents_that_could_silence_the_wrong_thing() {
        let mut set = VexSet::default();
        let no_why = DOC.replace(r#", "justification": "vulnerable_code_not_in_execute_path""#, "");
        assert!(
            set.add_document(no_why.as_bytes(), "x")
                .unwrap_err()
                .message
                .contains("justification")
        );
        let bad_status = DOC.replace("\"fixed\"", "\"fine\"");
        assert!(set.add_document(bad_status.as_bytes(), "x").is_err());
        assert!(set.add_document(b"{\"statements\": []}", "x").is_err());
        assert!(set.add_document(b"{", "x").is_err());
        assert!(set.is_empty());
    }
}
