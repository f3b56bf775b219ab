//! Hostile Rego: recursion and over-deep call chains are refused at load,
//! builtins that could allocate without bound are errors at evaluation, and
//! deep nesting is refused before the parser sees it. None of these may
//! abort the process (a stack overflow or a failed allocation would kill the
//! test binary, so each test here failing by crashing is a failing test).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};
use ward_policy::RegoRules;

fn load(text: &str) -> Result<RegoRules, String> {
    RegoRules::load(&[("rule.rego".to_string(), text.to_string())])
}

fn deny(text: &str) -> Result<Vec<String>, String> {
    load(text)
        .expect("policy loads")
        .deny_messages(&serde_json::json!({"artifact": {"name": "x"}}))
}

#[test]
fn recursive_functions_and_rules_are_refused_at_load() {
    let cases = [
        // One argument (the finding's reproduction).
        (
            "package ward\nimport rego.v1\n\nf(x) := y if { y := f(x) }\n\ndeny contains msg if { f(1) == 2; msg := \"x\" }\n",
            4,
        ),
        // Two arguments.
        (
            "package ward\nimport rego.v1\n\ng(a, b) := c if { c := g(b, a) }\n\ndeny contains msg if { g(1, 2) == 2; msg := \"x\" }\n",
            4,
        ),
        // Mutual recursion.
        (
            "package ward\nimport rego.v1\n\nf(x) := y if { y := h(x) }\nh(x) := y if { y := f(x) }\ndeny contains msg if { f(1) == 2; msg := \"x\" }\n",
            4,
        ),
        // Through the full path.
        (
            "package ward\nimport rego.v1\n\nf(x) := y if { y := data.ward.f(x) }\ndeny contains msg if { f(1) == 2; msg := \"x\" }\n",
            4,
        ),
        // A recursive rule.
        (
            "package ward\nimport rego.v1\n\nr := x if { x := r + 1 }\ndeny contains msg if { r == 2; msg := \"x\" }\n",
            4,
        ),
        // A rule that reads its own package wholesale.
        (
            "package ward\nimport rego.v1\n\ndeny contains msg if { count(data.ward) > 0; msg := \"x\" }\n",
            4,
        ),
        // Recursion inside a comprehension and a negation.
        (
            "package ward\nimport rego.v1\n\nf(x) := y if { y := [z | z := f(x)] }\ndeny contains msg if { not f(1); msg := \"x\" }\n",
            4,
        ),
    ];
    for (text, line) in cases {
        let err = load(text)
            .err()
            .unwrap_or_else(|| panic!("recursion not refused:\n{text}"));
        assert!(err.contains("recursi"), "{err}");
        assert!(err.contains(&format!("rule.rego:{line}")), "no file:line in {err}");
    }
}

#[test]
fn recursion_across_two_files_is_refused() {
    let files = [
        ("a.rego".to_string(), "package ward\nimport rego.v1\nf(x) := y if { y := data.lib.g(x) }\ndeny contains msg if { f(1) == 2; msg := \"x\" }\n".to_string()),
        ("b.rego".to_string(), "package lib\nimport rego.v1\ng(x) := y if { y := data.ward.f(x) }\n".to_string()),
    ];
    let err = RegoRules::load(&files).expect_err("mutual recursion across files refused");
    assert!(err.contains("recursi"), "{err}");
}

#[test]
fn ordinary_calls_rules_and_locals_still_load_and_decide() {
    let text = "package ward\nimport rego.v1\n\nlimit := 3\ninc(x) := x + 1\ntwice(x) := inc(inc(x))\nnames contains n if { some n in [\"a\", \"b\"] }\n\
                deny contains msg if {\n  twice(1) == limit\n  count(names) == 2\n  msg := sprintf(\"%s: %03d\", [input.artifact.name, twice(5)])\n}\n";
    assert_eq!(deny(text).unwrap(), vec!["x: 007".to_string()]);
}

/// A chain of `n` functions, each calling the next: f0 -> f1 -> ... -> f{n-1}.
fn chain(n: usize) -> String {
    let mut text = String::from("package ward\nimport rego.v1\n\n");
    for i in 0..n - 1 {
        text.push_str(&format!("f{i}(x) := f{}(x)\n", i + 1));
    }
    text.push_str(&format!("f{}(x) := x\n", n - 1));
    text.push_str("deny contains msg if { f0(1) == 1; msg := \"deep\" }\n");
    text
}

#[test]
fn call_chains_are_bounded_at_load_and_evaluate_within_the_bound() {
    let at_limit = chain(ward_policy::REGO_MAX_CALL_DEPTH);
    assert_eq!(deny(&at_limit).unwrap(), vec!["deep".to_string()]);
    let err = load(&chain(ward_policy::REGO_MAX_CALL_DEPTH + 1)).expect_err("over-deep chain refused");
    assert!(err.contains("deep"), "{err}");
    // Far beyond: refused, not a stack overflow at evaluation.
    assert!(load(&chain(5000)).is_err());
}

#[test]
fn the_deepest_calls_with_the_deepest_expressions_fit_the_evaluator_stack() {
    let n = ward_policy::REGO_MAX_CALL_DEPTH;
    let depth = ward_policy::REGO_MAX_NESTING - 3;
    let (open, close) = ("[".repeat(depth), "]".repeat(depth));
    let mut text = String::from("package ward\nimport rego.v1\n\n");
    for i in 0..n - 1 {
        text.push_str(&format!(
            "f{i}(x) := y if {{ y := count({open}f{}(x){close}) + count([z | some z in {open}x{close}]) }}\n",
            i + 1
        ));
    }
    text.push_str(&format!("f{}(x) := 1\n", n - 1));
    text.push_str("deny contains msg if { f0(1) > 0; msg := \"deep\" }\n");
    assert_eq!(deny(&text).unwrap(), vec!["deep".to_string()]);
}

fn rule(body: &str) -> String {
    format!("package ward\nimport rego.v1\n\ndeny contains msg if {{\n  {body}\n  msg := \"never\"\n}}\n")
}

#[track_caller]
fn assert_bounded_error(body: &str) {
    let start = Instant::now();
    let result = deny(&rule(body));
    assert!(result.is_err(), "{body}: expected an error, got {result:?}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{body}: took {:?}",
        start.elapsed()
    );
}

#[test]
fn builtins_that_would_allocate_without_bound_are_errors() {
    assert_bounded_error("x := numbers.range(1, 1e9)\n  count(x) == 0");
    assert_bounded_error("x := numbers.range(1, 1e8)\n  count(x) == 0");
    assert_bounded_error("x := numbers.range(1e9, 1)\n  count(x) == 0");
    assert_bounded_error("x := numbers.range_step(1, 1e12, 2)\n  count(x) == 0");
    assert_bounded_error("x := sprintf(\"%03000000000d\", [1])\n  x == \"\"");
    assert_bounded_error("x := sprintf(\"%.3000000000f\", [1])\n  x == \"\"");
    assert_bounded_error("x := bits.lsh(1, 4000000000)\n  x == 0");
    // regorus reads a width with `u32` arithmetic and `is_numeric`, then
    // panics on overflow or on a digit that is not ASCII.
    assert_bounded_error("x := sprintf(\"%99999999999d\", [1])\n  x == \"\"");
    assert_bounded_error("x := sprintf(\"%\u{0663}d\", [1])\n  x == \"\"");
    // Squaring a string by replacing the empty string.
    assert_bounded_error(
        "s := concat(\"\", [\"a\" | some _ in numbers.range(1, 5000)])\n  t := replace(s, \"\", s)\n  u := replace(t, \"\", t)\n  u == \"\"",
    );
    assert_bounded_error(
        "s := concat(\"\", [\"a\" | some _ in numbers.range(1, 5000)])\n  t := strings.replace_n({\"\": s}, s)\n  u := strings.replace_n({\"\": t}, t)\n  u == \"\"",
    );
    // Doubling a string statement by statement.
    let mut body = String::from("s0 := \"abcdefghabcdefghabcdefghabcdefgh\"\n");
    for i in 1..48 {
        body.push_str(&format!("  s{i} := concat(\"\", [s{}, s{}])\n", i - 1, i - 1));
    }
    body.push_str("  s47 == \"\"");
    assert_bounded_error(&body);
}

#[test]
fn the_guarded_builtins_keep_their_meaning() {
    let cases = [
        "numbers.range(1, 5) == [1, 2, 3, 4, 5]",
        "numbers.range(3, 1) == [3, 2, 1]",
        "numbers.range_step(1, 10, 4) == [1, 5, 9]",
        "sprintf(\"%03d|%s|%.2f\", [7, \"x\", 1.5]) == \"007|x|1.50\"",
        "bits.lsh(1, 10) == 1024",
        "replace(\"a-b-c\", \"-\", \"+\") == \"a+b+c\"",
        "strings.replace_n({\"a\": \"1\", \"b\": \"2\"}, \"abc\") == \"12c\"",
        "regex.replace(\"a1b22\", \"[0-9]+\", \"#\") == \"a#b#\"",
        "concat(\"/\", [\"a\", \"b\"]) == \"a/b\"",
        "array.concat([1], [2]) == [1, 2]",
    ];
    for case in cases {
        assert_eq!(deny(&rule(case)).unwrap(), vec!["never".to_string()], "{case}");
    }
}

fn nested(depth: usize) -> String {
    format!(
        "package ward\nimport rego.v1\n\nx := {}1{}\ndeny contains msg if {{ count(x) > 5; msg := \"x\" }}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[test]
fn deep_nesting_is_refused_quickly_and_shallow_nesting_loads() {
    for depth in [22, 1000, 100_000] {
        let start = Instant::now();
        let err = load(&nested(depth)).expect_err("deep nesting refused");
        assert!(err.contains("nest"), "{err}");
        assert!(err.contains("rule.rego:4"), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "depth {depth}: {:?}",
            start.elapsed()
        );
    }
    // Many values each within the limit add up to a refusal, still quickly.
    let start = Instant::now();
    let many = nested(ward_policy::REGO_MAX_NESTING).repeat(2000);
    let err = load(&many).expect_err("many deep values refused");
    assert!(err.contains("nested"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    let start = Instant::now();
    load(&nested(ward_policy::REGO_MAX_NESTING)).expect("nesting at the limit loads");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    // Brackets inside strings and comments do not count.
    let text = format!(
        "package ward\nimport rego.v1\n\n# {}\nx := \"{}\"\ny := `{}`\ndeny contains msg if {{ x == y; msg := \"x\" }}\n",
        "[".repeat(100),
        "[".repeat(100),
        "[".repeat(100)
    );
    load(&text).expect("brackets in strings and comments are not nesting");
}

#[test]
fn numbers_with_huge_exponents_are_refused_at_load_not_parsed_for_minutes() {
    // Found by fuzzing (crates/ward-fuzz/regressions/rego/hang-*): regorus
    // spends time linear in the exponent of `0E66666666`.
    let err = load("package ward\n\nbig := 0E66666666\n").expect_err("refused");
    assert!(err.contains("rule.rego:3:9") && err.contains("exponent"), "{err}");
    load("package ward\n\nbig := 1e308\nsmall := 0.5e-300\n").expect("ordinary exponents load");
}
