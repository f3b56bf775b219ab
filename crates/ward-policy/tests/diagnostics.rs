//! Loading reports every problem at once, each with its stable code, the
//! line and column of the key at fault, and the key path; warnings about a
//! policy that loads use the same type.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use ward_policy::{DiagnosticCode, Level, Policy};

fn errors(text: &str) -> Vec<(DiagnosticCode, usize, usize, String)> {
    let err = Policy::parse(text, "ward.toml", Path::new("/nonexistent")).unwrap_err();
    err.diagnostics
        .iter()
        .map(|d| {
            assert_eq!(d.severity, Level::Error, "{d}");
            (
                d.code,
                d.line().unwrap(),
                d.column().unwrap(),
                d.key().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn every_problem_in_every_entry_is_reported_in_file_order() {
    let text = "\
[[scope]]
packages = [\"nuget:x\", \"npm:ok\"]
threshold = 0
signers = [{ issuer = \"\", identity = \"^a$\" }]

[[scope]]
packages = [\"npm:*\"]
sorce = 1

[[exception]]
advisory = \"GHSA-*\"
package = \"npm:x\"
justification = \"short\"
expires = \"soon\"

[typo]
a = 1
";
    let found = errors(text);
    let codes: Vec<_> = found
        .iter()
        .map(|(c, l, col, k)| (c.as_str(), *l, *col, k.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("invalid-package-pattern", 2, 13, "scope[1].packages"),
            ("invalid-threshold", 3, 13, "scope[1].threshold"),
            ("invalid-signer", 4, 12, "scope[1].signers"),
            ("invalid-signer", 4, 12, "scope[1].signers.issuer"),
            ("unknown-key", 8, 1, "scope[2]"),
            ("invalid-target", 11, 12, "exception[1].advisory"),
            ("short-justification", 13, 17, "exception[1].justification"),
            ("invalid-date", 14, 11, "exception[1].expires"),
            ("unknown-key", 16, 2, ""),
        ],
        "{found:?}"
    );
}

#[test]
fn every_toml_syntax_error_is_reported() {
    let found = errors("version = = 1\n[[scope]]\npackages = [\"npm:*\"\nname = \"x\" y\n");
    assert!(found.len() >= 2, "{found:?}");
    assert!(
        found.iter().all(|(c, ..)| *c == DiagnosticCode::TomlSyntax),
        "{found:?}"
    );
    assert_eq!(found[0].1, 1, "{found:?}");
}

#[test]
fn the_one_line_form_names_file_line_column_key_and_code() {
    let err = Policy::parse(
        "[[scope]]\npackages = [\"npm:*\"]\n\n[scope.provenance]\nsource = \"(\"\n",
        "ward.toml",
        Path::new("/nonexistent"),
    )
    .unwrap_err();
    let line = err.to_string();
    assert!(
        line.starts_with("ward.toml:5:10: scope[1].provenance.source: invalid regular expression"),
        "{line}"
    );
    assert!(line.ends_with("[invalid-regex]"), "{line}");
    assert_eq!(
        err.source.as_ref(),
        "[[scope]]\npackages = [\"npm:*\"]\n\n[scope.provenance]\nsource = \"(\"\n"
    );
}

#[test]
fn expiring_and_expired_exceptions_and_allows_are_warnings_at_their_expires_key() {
    let text = "\
[[exception]]
advisory = \"GHSA-aaaa-bbbb-cccc\"
package = \"npm:x\"
justification = \"not reachable from our code\"
expires = \"2027-01-10\"

[[exception]]
advisory = \"GHSA-dddd-eeee-ffff\"
package = \"npm:y\"
justification = \"not reachable from our code\"
expires = \"2026-12-31\"

[[exception]]
advisory = \"GHSA-gggg-hhhh-iiii\"
package = \"npm:z\"
justification = \"not reachable from our code\"
expires = \"2028-01-01\"

[[allow]]
purl = \"pkg:npm/evil@1.0.0\"
sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"
reviewer = \"security@example.test\"
justification = \"reviewed the tarball by hand\"
expires = \"2027-01-01\"
";
    let policy = Policy::parse(text, "ward.toml", Path::new("/nonexistent")).unwrap();
    let today: jiff::civil::Date = "2027-01-05".parse().unwrap();
    let warnings = policy.warnings_at(today);
    let seen: Vec<_> = warnings
        .iter()
        .map(|d| (d.code, d.severity, d.line().unwrap(), d.key().unwrap().to_string()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                DiagnosticCode::ExceptionExpiring,
                Level::Warning,
                5,
                "exception[1].expires".to_string()
            ),
            (
                DiagnosticCode::ExceptionExpired,
                Level::Warning,
                11,
                "exception[2].expires".to_string()
            ),
            (
                DiagnosticCode::AllowExpired,
                Level::Warning,
                24,
                "allow[1].expires".to_string()
            ),
        ]
    );
    assert!(warnings[0].message.contains("(5 days)"), "{}", warnings[0]);
    assert!(policy.warnings_at("2026-06-01".parse().unwrap()).is_empty());
}

#[test]
fn a_file_of_mistakes_keeps_a_bounded_number_of_diagnostics() {
    let mut text = String::new();
    for i in 0..(ward_policy::MAX_DIAGNOSTICS + 50) {
        text.push_str(&format!("[[scope]]\npackages = [\"nuget:p{i}\"]\n"));
    }
    let err = Policy::parse(&text, "ward.toml", Path::new("/nonexistent")).unwrap_err();
    assert_eq!(err.diagnostics.len(), ward_policy::MAX_DIAGNOSTICS);
    let last = err.diagnostics.last().unwrap();
    assert!(last.notes.iter().any(|n| n.contains("50 more")), "{last:?}");
}
