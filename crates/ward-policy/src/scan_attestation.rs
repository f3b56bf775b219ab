//! Vulnerability-scan attestations made elsewhere: in-toto `vulns/v0.2`
//! and cosign `vuln/v1` predicates, read into who scanned, when, and what
//! they found at which severity.
//!
//! cosign's `scanner.result` is free-form; ward reads the three shapes
//! scanners actually put there (Trivy JSON, Grype JSON, SARIF 2.1.0) and
//! the in-toto list shape. Anything else is an error, so that a result ward
//! cannot read is never taken for a clean one. Hand-written: there is no
//! crate for these predicates.

use serde::Serialize;
use serde_json::Value;
use ward_core::Severity;

/// in-toto's vulnerability predicate.
pub const INTOTO_VULNS_V02: &str = "https://in-toto.io/attestation/vulns/v0.2";
/// cosign's vulnerability predicate.
pub const COSIGN_VULN_V1: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

/// Whether a predicate type is a vulnerability scan.
pub fn is_scan_predicate(predicate_type: &str) -> bool {
    predicate_type == INTOTO_VULNS_V02 || predicate_type == COSIGN_VULN_V1
}

/// One vulnerability a scan reported.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReportedVulnerability {
    /// Its id.
    pub id: String,
    /// Its severity (unrated ones count as high, as in ward's own scans).
    pub severity: Severity,
}

/// What a scan attestation says.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ScanSummary {
    /// `scanner.uri`.
    pub scanner: String,
    /// `scanner.version`.
    pub scanner_version: Option<String>,
    /// `metadata.scanFinishedOn` (RFC 3339).
    pub finished_on: Option<String>,
    /// What it found.
    pub vulnerabilities: Vec<ReportedVulnerability>,
}

fn severity_word(s: &str) -> Option<Severity> {
    match s.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(Severity::Critical),
        "high" | "error" | "important" => Some(Severity::High),
        "medium" | "moderate" | "warning" => Some(Severity::Medium),
        "low" | "note" | "negligible" => Some(Severity::Low),
        "none" | "info" | "informational" => Some(Severity::None),
        _ => None,
    }
}

fn severity_value(v: &Value) -> Option<Severity> {
    match v {
        Value::Number(n) => n.as_f64().map(Severity::from_score),
        Value::String(s) => severity_word(s).or_else(|| s.trim().parse::<f64>().ok().map(Severity::from_score)),
        _ => None,
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(|s| s.as_str())
}

/// The in-toto list shape: `[{id, severity: [{method, score}]}]`.
fn intoto_list(list: &[Value]) -> Vec<ReportedVulnerability> {
    list.iter()
        .map(|r| ReportedVulnerability {
            id: str_at(r, "id").unwrap_or("(no id)").to_string(),
            severity: r
                .get("severity")
                .and_then(|s| s.as_array())
                .into_iter()
                .flatten()
                .filter_map(|s| s.get("score").and_then(severity_value))
                .max()
                .unwrap_or(Severity::High),
        })
        .collect()
}

fn trivy(result: &Value) -> Option<Vec<ReportedVulnerability>> {
    let results = result.get("Results")?.as_array()?;
    Some(
        results
            .iter()
            .flat_map(|r| {
                r.get("Vulnerabilities")
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
            })
            .map(|v| ReportedVulnerability {
                id: str_at(v, "VulnerabilityID").unwrap_or("(no id)").to_string(),
                severity: str_at(v, "Severity").and_then(severity_word).unwrap_or(Severity::High),
            })
            .collect(),
    )
}

fn grype(result: &Value) -> Option<Vec<ReportedVulnerability>> {
    let matches = result.get("matches")?.as_array()?;
    Some(
        matches
            .iter()
            .map(|m| {
                let v = m.get("vulnerability").unwrap_or(&Value::Null);
                ReportedVulnerability {
                    id: str_at(v, "id").unwrap_or("(no id)").to_string(),
                    severity: str_at(v, "severity").and_then(severity_word).unwrap_or(Severity::High),
                }
            })
            .collect(),
    )
}

fn sarif(result: &Value) -> Option<Vec<ReportedVulnerability>> {
    let runs = result.get("runs")?.as_array()?;
    let mut out = Vec::new();
    for run in runs {
        let rules = run.pointer("/tool/driver/rules").and_then(|r| r.as_array());
        for r in run.get("results").and_then(|r| r.as_array()).into_iter().flatten() {
            let id = str_at(r, "ruleId").unwrap_or("(no id)");
            let from_rule = rules
                .into_iter()
                .flatten()
                .find(|rule| str_at(rule, "id") == Some(id))
                .and_then(|rule| rule.pointer("/properties/security-severity"))
                .and_then(severity_value);
            let severity = from_rule
                .or_else(|| str_at(r, "level").and_then(severity_word))
                .unwrap_or(Severity::High);
            out.push(ReportedVulnerability {
                id: id.to_string(),
                severity,
            });
        }
    }
    Some(out)
}

/// Reads a verified scan predicate.
pub fn read(predicate_type: &str, predicate: &Value) -> Result<ScanSummary, String> {
    let scanner = predicate.get("scanner").ok_or("no `scanner`")?;
    let uri = str_at(scanner, "uri").ok_or("no `scanner.uri`: the scanner cannot be identified")?;
    let result = scanner.get("result").unwrap_or(&Value::Null);
    let vulnerabilities = match (predicate_type, result) {
        (_, Value::Array(list)) => intoto_list(list),
        (_, Value::Null) if predicate_type == INTOTO_VULNS_V02 => Vec::new(),
        (COSIGN_VULN_V1, r) => trivy(r)
            .or_else(|| grype(r))
            .or_else(|| sarif(r))
            .ok_or("`scanner.result` is not a Trivy, Grype or SARIF report")?,
        _ => return Err("`scanner.result` is not a list of vulnerabilities".into()),
    };
    Ok(ScanSummary {
        scanner: uri.to_string(),
        scanner_version: str_at(scanner, "version").map(String::from),
        finished_on: predicate
            .pointer("/metadata/scanFinishedOn")
            .and_then(|s| s.as_str())
            .map(String::from),
        vulnerabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_intoto_lists_and_the_cosign_report_shapes() {
        let p = json!({"scanner": {"uri": "pkg:github/aquasecurity/trivy@v0.50.0", "version": "0.50.0",
            "result": [{"id": "CVE-1", "severity": [{"method": "nvd", "score": "9.8"}]},
                       {"id": "CVE-2", "severity": [{"method": "osv", "score": "LOW"}]},
                       {"id": "CVE-3"}]},
            "metadata": {"scanStartedOn": "2026-01-01T00:00:00Z", "scanFinishedOn": "2026-01-01T00:01:00Z"}});
        let s = read(INTOTO_VULNS_V02, &p).unwrap();
        let levels: Vec<Severity> = s.vulnerabilities.iter().map(|v| v.severity).collect();
        assert_eq!(levels, vec![Severity::Critical, Severity::Low, Severity::High]);
        assert_eq!(s.finished_on.as_deref(), Some("2026-01-01T00:01:00Z"));

        let trivy = json!({"scanner": {"uri": "https://github.com/aquasecurity/trivy",
            "result": {"Results": [{"Vulnerabilities": [{"VulnerabilityID": "CVE-9", "Severity": "MEDIUM"}]}]}}});
        assert_eq!(
            read(COSIGN_VULN_V1, &trivy).unwrap().vulnerabilities[0].severity,
            Severity::Medium
        );
        let grype = json!({"scanner": {"uri": "https://github.com/anchore/grype",
            "result": {"matches": [{"vulnerability": {"id": "GHSA-x", "severity": "Critical"}}]}}});
        assert_eq!(
            read(COSIGN_VULN_V1, &grype).unwrap().vulnerabilities[0].severity,
            Severity::Critical
        );
        let clean = json!({"scanner": {"uri": "https://github.com/anchore/grype", "result": {"matches": []}}});
        assert!(read(COSIGN_VULN_V1, &clean).unwrap().vulnerabilities.is_empty());
    }

    #[test]
    fn an_unreadable_result_is_an_error_not_a_clean_scan() {
        let odd = json!({"scanner": {"uri": "x", "result": {"whatever": 1}}});
        assert!(read(COSIGN_VULN_V1, &odd).is_err());
        assert!(read(INTOTO_VULNS_V02, &json!({"scanner": {}})).is_err());
        assert!(read(INTOTO_VULNS_V02, &json!({})).is_err());
    }
}
