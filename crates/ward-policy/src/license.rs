//! Licences: SPDX expressions judged against allow and deny lists.
//!
//! Expressions are parsed with the `spdx` crate (lax mode, so that the
//! `/` and imprecise names found in real package metadata still parse), and
//! `AND`, `OR`, `WITH` and `+` are evaluated by it: an `OR` passes when one
//! side passes, an `AND` only when both do, and a `WITH` exception must be
//! named in the list entry to be covered by it.

use serde::Serialize;
use spdx::{Expression, LicenseReq, Licensee, ParseMode};

/// An allow and a deny list, parsed.
#[derive(Clone, Debug, Default)]
pub struct LicenseRule {
    allow: Option<Vec<Licensee>>,
    deny: Vec<Licensee>,
}

/// What a rule makes of one expression.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LicenseVerdict {
    /// Some choice of licences satisfies the rule.
    Allowed,
    /// No choice does; `refused` lists the terms that failed.
    Refused {
        /// The licence terms that are denied or not allowed.
        refused: Vec<String>,
    },
    /// No licence is stated, or the expression does not parse.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// A licence entry in a list that is not an SPDX licence identifier.
#[derive(Debug, thiserror::Error)]
#[error("{entry:?} is not an SPDX licence identifier (optionally with `WITH` exception): {message}")]
pub struct LicenseListError {
    /// The entry.
    pub entry: String,
    /// The parser's message.
    pub message: String,
}

fn licensee(entry: &str) -> Result<Licensee, LicenseListError> {
    Licensee::parse(entry).map_err(|e| LicenseListError {
        entry: entry.to_string(),
        message: e.reason.to_string(),
    })
}

impl LicenseRule {
    /// Builds a rule. `allow = None` allows everything not denied; an empty
    /// allow list allows nothing.
    pub fn new(allow: Option<&[String]>, deny: &[String]) -> Result<Self, LicenseListError> {
        Ok(Self {
            allow: allow
                .map(|a| a.iter().map(|e| licensee(e)).collect::<Result<Vec<_>, _>>())
                .transpose()?,
            deny: deny.iter().map(|e| licensee(e)).collect::<Result<Vec<_>, _>>()?,
        })
    }

    /// Whether the rule restricts anything.
    pub fn is_empty(&self) -> bool {
        self.allow.is_none() && self.deny.is_empty()
    }

    fn permits(&self, req: &LicenseReq) -> bool {
        // A denied licence stays denied whatever exception is added to it.
        let bare = LicenseReq {
            license: req.license.clone(),
            addition: None,
        };
        if self.deny.iter().any(|d| d.satisfies(req) || d.satisfies(&bare)) {
            return false;
        }
        match &self.allow {
            None => true,
            Some(allow) => allow.iter().any(|a| a.satisfies(req)),
        }
    }

    /// Judges one declared licence expression.
    pub fn judge(&self, expression: Option<&str>) -> LicenseVerdict {
        let Some(text) = expression.map(str::trim).filter(|t| !t.is_empty()) else {
            return LicenseVerdict::Unknown {
                reason: "no licence is declared".into(),
            };
        };
        if matches!(text, "NOASSERTION" | "UNLICENSED" | "SEE LICENSE IN LICENSE") {
            return LicenseVerdict::Unknown {
                reason: format!("the licence is declared as {text:?}"),
            };
        }
        let expression = match Expression::parse_mode(text, ParseMode::LAX) {
            Ok(e) => e,
            Err(e) => {
                return LicenseVerdict::Unknown {
                    reason: format!("{text:?} is not an SPDX expression: {}", e.reason),
                };
            }
        };
        if expression.evaluate(|req| self.permits(req)) {
            return LicenseVerdict::Allowed;
        }
        let mut refused: Vec<String> = expression
            .requirements()
            .filter(|r| !self.permits(&r.req))
            .map(|r| r.req.to_string())
            .collect();
        refused.dedup();
        LicenseVerdict::Refused { refused }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(allow: Option<&[&str]>, deny: &[&str]) -> LicenseRule {
        let own = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        LicenseRule::new(allow.map(own).as_deref(), &own(deny)).unwrap()
    }

    #[test]
    fn or_needs_one_side_and_needs_both() {
        let r = rule(Some(&["MIT", "Apache-2.0"]), &[]);
        assert_eq!(r.judge(Some("MIT OR GPL-3.0-only")), LicenseVerdict::Allowed);
        assert_eq!(r.judge(Some("MIT AND Apache-2.0")), LicenseVerdict::Allowed);
        assert_eq!(
            r.judge(Some("MIT AND GPL-3.0-only")),
            LicenseVerdict::Refused {
                refused: vec!["GPL-3.0-only".into()]
            }
        );
        // Real crates.io metadata uses `/` for OR.
        assert_eq!(r.judge(Some("MIT/Apache-2.0")), LicenseVerdict::Allowed);
    }

    #[test]
    fn deny_wins_over_allow_and_with_needs_its_exception() {
        let r = rule(None, &["GPL-3.0-only", "AGPL-3.0-only"]);
        assert_eq!(r.judge(Some("GPL-3.0-only OR MIT")), LicenseVerdict::Allowed);
        assert!(matches!(r.judge(Some("AGPL-3.0-only")), LicenseVerdict::Refused { .. }));
        let r = rule(Some(&["Apache-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"]), &[]);
        assert_eq!(
            r.judge(Some("GPL-2.0-only WITH Classpath-exception-2.0")),
            LicenseVerdict::Allowed
        );
        assert!(matches!(r.judge(Some("GPL-2.0-only")), LicenseVerdict::Refused { .. }));
        // Allowing a licence does not allow it with an exception nobody reviewed...
        assert!(matches!(
            r.judge(Some("Apache-2.0 WITH LLVM-exception")),
            LicenseVerdict::Refused { .. }
        ));
        // ...and denying one denies it with any exception.
        let r = rule(None, &["GPL-2.0-only"]);
        assert!(matches!(
            r.judge(Some("GPL-2.0-only WITH Classpath-exception-2.0")),
            LicenseVerdict::Refused { .. }
        ));
        let r = rule(Some(&["MIT"]), &["MIT"]);
        assert!(matches!(r.judge(Some("MIT")), LicenseVerdict::Refused { .. }));
    }

    #[test]
    fn unknowns_are_not_allowed_by_accident() {
        let r = rule(Some(&["GPL-3.0-only"]), &[]);
        assert!(matches!(r.judge(None), LicenseVerdict::Unknown { .. }));
        assert!(matches!(r.judge(Some("NOASSERTION")), LicenseVerdict::Unknown { .. }));
        assert!(matches!(r.judge(Some("MIT AND (")), LicenseVerdict::Unknown { .. }));
        assert!(LicenseRule::new(Some(&["Not A Licence".to_string()]), &[]).is_err());
    }
}
