//! docs/monitoring.md's Audit section has one row for every alert kind
//! the code has, and none for a kind it does not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ward_audit::AlertKind;

#[test]
fn every_alert_kind_has_one_row_in_the_audit_section() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/monitoring.md");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("\n## Audit\n").expect("an Audit section");
    let rest = &text[start + 1..];
    let section = &rest[..rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3)];
    let rows: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
        .collect();
    for kind in AlertKind::ALL {
        assert_eq!(
            rows.iter().filter(|r| **r == kind.code()).count(),
            1,
            "docs/monitoring.md (Audit) must have exactly one row for {}",
            kind.code()
        );
    }
    for r in &rows {
        assert!(
            AlertKind::from_code(r).is_some(),
            "docs/monitoring.md (Audit) has a row for {r}, which is no alert kind"
        );
    }
}
