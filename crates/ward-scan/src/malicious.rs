//! Known-malicious packages: OSV `MAL-` records (the OpenSSF
//! malicious-packages feed, OSV `all.zip`) and RustSec advisories with
//! `categories = ["malicious"]`.
//!
//! Malicious is its own kind of finding, not a severity: the policy denies it
//! in every mode. A record may list the malicious artifact's own hashes
//! (`database_specific.indicators.package_integrity`, sha1 / sha256 / sha512
//! as SRI or hex), which ward compares with the artifact's digests where it
//! has them. A record whose ranges hold both a specific range and an unbounded
//! `introduced: "0"` (a known fault of the feed: it marks every version,
//! clean ones included) still matches, but is flagged *suspect*.

use crate::advisory::{Advisory, Matcher};
use crate::osv::{Affected, OsvRecord};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// What ward tells a user to do when a record gives no advice of its own.
pub const DEFAULT_ADVICE: &str =
    "treat any machine that installed or ran it as compromised and rotate every secret it held, from another machine";

/// A malicious-package record's own facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Malicious {
    /// What the record says to do (its sentences about compromise and
    /// secrets), else [`DEFAULT_ADVICE`].
    pub advice: String,
    /// Why the record is suspect (it marks every version), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspect: Option<String>,
    /// Hashes of the malicious artifacts, when the record lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<Indicator>,
}

/// The algorithm name of an indicator that is the sha256 of a file inside
/// the archive (an evidence file), not of the artifact itself.
pub const FILE_SHA256: &str = "file-sha256";

/// One artifact hash a record lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// `sha1`, `sha256` or `sha512` (the artifact's own digest), or
    /// [`FILE_SHA256`] (a file inside it).
    pub algorithm: String,
    /// The digest, lower-case hex.
    pub hex: String,
}

/// Whether an OSV record is a malicious-package record (`MAL-` id or alias).
pub fn is_mal_record(record: &OsvRecord) -> bool {
    record.id.starts_with("MAL-") || record.aliases.iter().any(|a| a.starts_with("MAL-"))
}

/// The advice in a record's text: the sentences that say the machine is
/// compromised or that secrets must be rotated; else [`DEFAULT_ADVICE`].
pub fn advice_from(details: &str) -> String {
    let sentences: Vec<&str> = details
        .split_inclusive(['.', '\n'])
        .map(str::trim)
        .filter(|s| {
            let l = s.to_ascii_lowercase();
            l.contains("compromised") && (l.contains("computer") || l.contains("machine") || l.contains("system"))
                || l.contains("rotate")
        })
        .collect();
    if sentences.is_empty() {
        DEFAULT_ADVICE.to_string()
    } else {
        sentences.join(" ").chars().take(400).collect()
    }
}

fn indicator(text: &str) -> Result<Indicator, String> {
    let text = text.trim();
    let bad = || format!("indicator {text:?} is not a sha1, sha256 or sha512 digest (SRI or hex)");
    if let Some((alg, b64)) = text.split_once('-') {
        let len = match alg {
            "sha1" => 20,
            "sha256" => 32,
            "sha512" => 64,
            _ => return Err(bad()),
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("{} ({e})", bad()))?;
        if bytes.len() != len {
            return Err(bad());
        }
        return Ok(Indicator {
            algorithm: alg.to_string(),
            hex: hex::encode(bytes),
        });
    }
    if !text.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let algorithm = match text.len() {
        40 => "sha1",
        64 => "sha256",
        128 => "sha512",
        _ => return Err(bad()),
    };
    Ok(Indicator {
        algorithm: algorithm.into(),
        hex: text.to_ascii_lowercase(),
    })
}

/// The digests of an SRI string (`sha512-… sha1-…`), as (algorithm, hex);
/// parts that are not sha1/sha256/sha512 SRI are left out.
pub fn sri_digests(sri: &str) -> Vec<(String, String)> {
    sri.split_whitespace()
        .filter(|p| p.contains('-'))
        .filter_map(|p| indicator(p).ok())
        .map(|i| (i.algorithm, i.hex))
        .collect()
}

/// The `indicators.package_integrity` of a `database_specific` value: a
/// string or a list of strings. Anything else makes the record malformed.
fn indicators_in(specific: Option<&serde_json::Value>, out: &mut Vec<Indicator>) -> Result<(), String> {
    let Some(pi) = specific
        .and_then(|d| d.get("indicators"))
        .and_then(|i| i.get("package_integrity"))
    else {
        return Ok(());
    };
    match pi {
        serde_json::Value::String(s) => out.push(indicator(s)?),
        serde_json::Value::Array(a) => {
            for v in a {
                let s = v
                    .as_str()
                    .ok_or("`indicators.package_integrity` holds a value that is not a string")?;
                out.push(indicator(s)?);
            }
        }
        _ => return Err("`indicators.package_integrity` is neither a string nor a list".into()),
    }
    Ok(())
}

/// A file indicator: 64 hex digits (or `sha256-` SRI), the sha256 of a
/// file inside the malicious archive.
fn file_indicator(text: &str) -> Result<Indicator, String> {
    match indicator(text)? {
        Indicator { algorithm, hex } if algorithm == "sha256" => Ok(Indicator {
            algorithm: FILE_SHA256.into(),
            hex,
        }),
        _ => Err(format!("file indicator {text:?} is not a sha256 digest")),
    }
}

/// The evidence files of a `database_specific` value: the sha256 of files
/// inside the malicious archive, as `indicators.files` (a list of
/// `{"path": …, "sha256": …}` objects or of sha256 strings) or
/// `indicators.file_sha256` (a string or a list). The feed has no fixed
/// field for these yet; anything else there makes the record malformed.
fn file_indicators_in(specific: Option<&serde_json::Value>, out: &mut Vec<Indicator>) -> Result<(), String> {
    let Some(indicators) = specific.and_then(|d| d.get("indicators")) else {
        return Ok(());
    };
    let mut texts: Vec<&serde_json::Value> = Vec::new();
    for key in ["files", "file_sha256"] {
        match indicators.get(key) {
            None => {}
            Some(serde_json::Value::Array(a)) => texts.extend(a),
            Some(v) => texts.push(v),
        }
    }
    for v in texts {
        let text = match v {
            serde_json::Value::String(s) => s.as_str(),
            serde_json::Value::Object(o) => o
                .get("sha256")
                .and_then(|s| s.as_str())
                .ok_or("an `indicators.files` entry has no `sha256` string")?,
            _ => return Err("`indicators.files` holds a value that is neither a string nor an object".into()),
        };
        out.push(file_indicator(text)?);
    }
    Ok(())
}

fn lists_versions(a: &Affected) -> bool {
    !a.versions.is_empty() || a.ranges.iter().any(|r| !r.events.is_empty())
}

/// The malicious facts of an OSV `MAL-` record, or why the record is
/// malformed (counted at import, never silently dropped).
pub fn from_osv(record: &OsvRecord) -> Result<Malicious, String> {
    let mut indicators = Vec::new();
    indicators_in(record.database_specific.as_ref(), &mut indicators)?;
    file_indicators_in(record.database_specific.as_ref(), &mut indicators)?;
    for a in &record.affected {
        indicators_in(a.database_specific.as_ref(), &mut indicators)?;
        file_indicators_in(a.database_specific.as_ref(), &mut indicators)?;
    }
    if record.affected.is_empty() {
        return Err(format!("malicious record {} names no affected package", record.id));
    }
    if let Some(a) = record.affected.iter().find(|a| !lists_versions(a)) {
        let name = a.package.as_ref().map(|p| p.name.as_str()).unwrap_or("(no package)");
        return Err(format!(
            "malicious record {} lists no versions or ranges for {name}",
            record.id
        ));
    }
    Ok(Malicious {
        advice: advice_from(record.details.as_deref().unwrap_or_default()),
        suspect: None,
        indicators,
    })
}

fn is_unbounded(r: &crate::osv::Range) -> bool {
    !r.events.is_empty()
        && r.events.iter().all(|e| {
            e.introduced.as_deref() == Some("0") && e.fixed.is_none() && e.last_affected.is_none() && e.limit.is_none()
        })
}

fn is_specific(r: &crate::osv::Range) -> bool {
    !r.events.is_empty() && !is_unbounded(r)
}

/// Why a (merged) advisory's ranges are suspect: for one package, an
/// unbounded `introduced: "0"` beside a specific range or version list.
pub fn suspect_reason(advisory: &Advisory) -> Option<String> {
    let osv: Vec<(&str, &Affected)> = advisory
        .affected
        .iter()
        .filter_map(|p| match &p.matcher {
            Matcher::Osv(a) => Some((p.name.as_str(), a)),
            Matcher::Rustsec { .. } => None,
        })
        .collect();
    for (name, _) in &osv {
        let of_name = osv.iter().filter(|(n, _)| n == name).map(|(_, a)| a);
        let unbounded = of_name.clone().any(|a| a.ranges.iter().any(is_unbounded));
        let specific: Vec<String> = of_name
            .flat_map(|a| {
                a.versions
                    .iter()
                    .cloned()
                    .chain(a.ranges.iter().filter(|r| is_specific(r)).map(|r| {
                        r.events
                            .iter()
                            .flat_map(|e| {
                                [
                                    e.introduced.as_ref().map(|v| format!("from {v}")),
                                    e.fixed.as_ref().map(|v| format!("fixed {v}")),
                                    e.last_affected.as_ref().map(|v| format!("to {v}")),
                                    e.limit.as_ref().map(|v| format!("limit {v}")),
                                ]
                            })
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ")
                    }))
            })
            .collect();
        if unbounded && !specific.is_empty() {
            return Some(format!(
                "its ranges for {name} hold a specific range ({}) and also an unbounded `introduced: \"0\"` that marks every version, clean ones included (a known fault of the feed)",
                specific.join("; ")
            ));
        }
    }
    None
}

/// Whether an artifact digest (`algorithm`, lower-case hex) is one a record lists.
pub fn indicator_matches(m: &Malicious, algorithm: &str, hex: &str) -> bool {
    m.indicators
        .iter()
        .any(|i| i.algorithm == algorithm && i.hex.eq_ignore_ascii_case(hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicators_read_sri_and_hex_and_refuse_the_rest() {
        let sri = "sha512-".to_string() + &base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        assert_eq!(indicator(&sri).unwrap().hex, hex::encode([7u8; 64]));
        assert_eq!(indicator(&"ab".repeat(20)).unwrap().algorithm, "sha1");
        assert!(indicator("md5-AAAA").is_err());
        assert!(indicator("sha512-AAAA").is_err());
        assert!(indicator("xyz").is_err());
    }

    #[test]
    fn advice_is_the_records_own_words() {
        let d = "The package was compromised.\n\nAny computer that has this package installed or running should be considered fully compromised. All secrets and keys stored on that computer should be rotated immediately from a different computer.";
        let a = advice_from(d);
        assert!(a.starts_with("Any computer"), "{a}");
        assert!(a.contains("rotated immediately"), "{a}");
        assert_eq!(advice_from("Malicious code."), DEFAULT_ADVICE);
    }
}
