//! `ward drill` (issue 17): the shipped incidents replayed through real npm
//! and pip against a loopback upstream. The starter policy from `ward init`
//! stops or detects every one; a warn-only policy is told honestly what it
//! misses and which rule would have stopped it; the safe default's false
//! positives are reported; the report is recorded and checked.

use crate::common::{TestContext, json_of};
use crate::proxy::have;

fn clients() -> bool {
    have("npm", "--version") && have("python3", "--version")
}

fn outcomes(report: &serde_json::Value) -> Vec<(String, String)> {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn scenario<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the report"))
}

#[test]
fn the_starter_policy_from_ward_init_stops_every_shipped_scenario() {
    if !clients() {
        return;
    }
    let ctx = TestContext::new();
    let policy = ctx.path("ward.toml");
    ctx.ward(["init", "-o", policy.to_str().unwrap()]).expect(0);
    let work = ctx.path("drill");
    let run = ctx.ward([
        "drill",
        "run",
        "--all",
        "--policy",
        policy.to_str().unwrap(),
        "--work",
        work.to_str().unwrap(),
        "--format",
        "json",
    ]);
    run.expect(0);
    let report = json_of(&run);
    let all = outcomes(&report);
    assert_eq!(all.len(), 11, "{all:?}");
    for (name, outcome) in &all {
        assert!(outcome == "blocked" || outcome == "detected", "{name}: {outcome}");
    }
    for s in report["scenarios"].as_array().unwrap() {
        assert_eq!(
            s["false_positives"],
            serde_json::json!([]),
            "{}: clean releases refused",
            s["name"]
        );
        assert_eq!(s["payload_ran"], false, "{}: a stand-in's script ran", s["name"]);
    }
    // Same-version attacks are refused by the release pins and the index digest.
    assert!(
        scenario(&report, "tampered-tarball")["codes"]
            .as_array()
            .unwrap()
            .contains(&"index-digest-mismatch".into())
    );
    assert!(
        scenario(&report, "republished-release")["codes"]
            .as_array()
            .unwrap()
            .contains(&"release-changed".into())
    );
    // The drill kept to its own directory: the context's data directory has no ledger.
    assert!(
        !ctx.ledger().exists(),
        "the drill wrote into the production data directory"
    );
    assert!(work.join("ledger").is_dir());
}

#[test]
fn a_warn_only_policy_is_told_what_got_in_how_it_was_detected_and_what_would_have_stopped_it() {
    if !clients() {
        return;
    }
    let ctx = TestContext::new();
    let policy = ctx.path("weak.toml");
    std::fs::write(&policy, "version = 1\n\n[defaults]\nmode = \"warn\"\n").unwrap();
    let work = ctx.path("drill");
    let run = ctx.ward([
        "drill",
        "run",
        "chalk-debug-2025",
        "tinycolor-worm-2025",
        "dependency-confusion",
        "--policy",
        policy.to_str().unwrap(),
        "--work",
        work.to_str().unwrap(),
        "--format",
        "json",
    ]);
    run.expect(1);
    let report = json_of(&run);
    // chalk got in, and the audit after the MAL- record flagged it, hours after T0.
    let chalk = scenario(&report, "chalk-debug-2025");
    assert_eq!(chalk["outcome"], "detected", "{chalk}");
    assert!(chalk["codes"].as_array().unwrap().contains(&"newly-malicious".into()));
    let after = chalk["after_seconds"].as_i64().unwrap();
    assert!((3_600..86_400).contains(&after), "{after}");
    // And `ward rollback apply` to the baseline snapshot left a clean install.
    assert_eq!(chalk["rolled_back"], true, "{chalk}");
    // The worm's baseline (4.1.0) is inside the MAL record's stale `introduced: "0"`
    // range: rollback refuses a target that matches a malicious record, and says so.
    let worm_steps = scenario(&report, "tinycolor-worm-2025")["steps"].to_string();
    assert!(worm_steps.contains("rollback-target-malicious"), "{worm_steps}");
    // The worm's postinstall ran: the inert stand-in wrote its marker inside the drill's directory.
    let worm = scenario(&report, "tinycolor-worm-2025");
    assert_eq!(worm["payload_ran"], true, "{worm}");
    assert!(
        work.join("runs/tinycolor-worm-2025/markers")
            .read_dir()
            .unwrap()
            .count()
            > 0
    );
    // Nothing flags dependency confusion afterwards: missed, with the rules that would have stopped it.
    let confusion = scenario(&report, "dependency-confusion");
    assert_eq!(confusion["outcome"], "missed", "{confusion}");
    let rules: Vec<&str> = confusion["would_have_stopped_it"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"version-not-pinned") && rules.contains(&"install-script-added"),
        "{rules:?}"
    );

    // The text table says the same in one line each.
    let table = ctx.ward(["drill", "report", "--work", work.to_str().unwrap()]);
    table.expect(1);
    assert!(table.stdout.contains("MISSED"), "{}", table.stdout);
    assert!(
        table.stdout.contains("would have stopped it: [[pin]]"),
        "{}",
        table.stdout
    );
}

#[test]
fn the_safe_default_reports_its_false_positives_and_a_changed_report_is_refused() {
    if !clients() {
        return;
    }
    let ctx = TestContext::new();
    let work = ctx.path("drill");
    let run = ctx.ward([
        "drill",
        "run",
        "tampered-tarball",
        "--work",
        work.to_str().unwrap(),
        "--format",
        "json",
    ]);
    // Blocked, but the clean baseline was refused too (unsigned): not a clean pass.
    run.expect(1);
    let report = json_of(&run);
    let s = scenario(&report, "tampered-tarball");
    assert_eq!(s["outcome"], "blocked");
    let fps = s["false_positives"].as_array().unwrap();
    assert!(
        fps.iter()
            .any(|f| f.as_str().unwrap().starts_with("pkg:npm/ms@2.1.3: ")),
        "{fps:?}"
    );

    let html = ctx.path("drill.html");
    ctx.ward([
        "drill",
        "report",
        "--work",
        work.to_str().unwrap(),
        "--format",
        "html",
        "--out",
        html.to_str().unwrap(),
    ])
    .expect(1);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("tampered-tarball") && page.contains("<ol>"),
        "a timeline per scenario"
    );
    assert!(!page.contains("<script") && !page.contains("src="), "self-contained");

    // The report is recorded in the drill ledger: an edited report.json is refused.
    let path = work.join("report.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"blocked\"", "\"detected\"");
    std::fs::write(&path, text).unwrap();
    let run = ctx.ward(["drill", "report", "--work", work.to_str().unwrap()]);
    run.expect(2);
    assert!(run.stderr.contains("changed after the drill"), "{}", run.stderr);
}

#[test]
fn a_scenario_file_of_ones_own_is_checked_before_anything_runs() {
    let ctx = TestContext::new();
    let dir = ctx.path("mine");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bad.toml"),
        "name = \"x\"\ntitle = \"t\"\necosystem = \"npm\"\nsummary = \"s\"\nbaseline = []\ninstall = [\"a\"]\ncompromised = [\"a@1\"]\n[timeline]\npublished = \"2026-01-01T00:00:00Z\"\nnoticed = \"2026-01-01T00:00:00Z\"\nsource = \"t\"\n",
    )
    .unwrap();
    let run = ctx.ward([
        "drill",
        "run",
        "--all",
        "--scenarios",
        dir.to_str().unwrap(),
        "--work",
        ctx.path("drill").to_str().unwrap(),
    ]);
    run.expect(2);
    assert!(
        run.stderr.contains("bad.toml") && run.stderr.contains("compromised a@1: no such release"),
        "{}",
        run.stderr
    );
    let run = ctx.ward(["drill", "run", "no-such", "--work", ctx.path("drill").to_str().unwrap()]);
    run.expect(2);
    assert!(
        run.stderr.contains("chalk-debug-2025"),
        "names the scenarios there are: {}",
        run.stderr
    );
}
