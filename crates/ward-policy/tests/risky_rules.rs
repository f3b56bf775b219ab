//! Risky-change rules in a scope: each takes `true`/`false` or a level, is
//! kept with its line, and anything else is a load error pointing at it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use ward_policy::{DiagnosticCode, Mode, Policy};

fn parse(text: &str) -> Result<Policy, ward_policy::PolicyError> {
    Policy::parse(text, "ward.toml", Path::new("/nonexistent"))
}

#[test]
fn each_rule_is_read_with_its_level_and_line() {
    let p = parse(
        "[[scope]]\npackages = [\"npm:*\"]\nmode = \"warn\"\ndeny_new_install_scripts = true\ndeny_new_dependencies_in_patch = \"warn\"\ndeny_pth_files = false\ndeny_setup_py_only = \"audit\"\nnative_binaries = \"allow\"\n",
    )
    .unwrap();
    let r = &p.scopes[0].risky;
    let at = |l: &Option<ward_policy::Located<Mode>>| l.as_ref().map(|l| (l.value, l.line));
    assert_eq!(at(&r.new_install_scripts), Some((Mode::Enforce, 4)));
    assert_eq!(at(&r.new_dependencies_in_patch), Some((Mode::Warn, 5)));
    assert_eq!(at(&r.pth_files), None);
    assert_eq!(at(&r.setup_py_only), Some((Mode::Audit, 7)));
    assert_eq!(at(&r.native_binaries), None);
    assert!(r.any() && r.compares());
    let none = parse("[[scope]]\npackages = [\"npm:*\"]\n").unwrap();
    assert!(!none.scopes[0].risky.any());
}

#[test]
fn a_level_that_is_not_one_of_the_words_is_a_load_error_with_its_line() {
    for (value, line) in [("\"sometimes\"", 3), ("1", 3), ("[\"deny\"]", 3)] {
        let text = format!("[[scope]]\npackages = [\"npm:*\"]\nnative_binaries = {value}\n");
        let err = parse(&text).unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!(d.code, DiagnosticCode::WrongType, "{value}: {d}");
        assert_eq!(d.line(), Some(line), "{value}: {d}");
        assert!(d.to_string().contains("\"deny\""), "{value}: {d}");
    }
}
