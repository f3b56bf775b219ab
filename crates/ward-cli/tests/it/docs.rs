//! The documentation keeps up with the binary.

use crate::common::TestContext;
use std::path::Path;

#[test]
fn every_reason_code_is_documented_once() {
    let ctx = TestContext::new();
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/reasons.md"))
        .expect("docs/reasons.md");
    let run = ctx.ward(["reasons", "--format", "json"]);
    run.expect(0);
    let codes: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).expect("JSON");
    assert!(codes.len() > 20);
    for c in codes {
        let code = c["code"].as_str().expect("code");
        let row = format!("| `{code}` |");
        assert_eq!(
            docs.matches(&row).count(),
            1,
            "docs/reasons.md must have exactly one row for {code}"
        );
    }
}
