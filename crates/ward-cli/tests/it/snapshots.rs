//! Snapshot tests (insta): the `--help` of every subcommand, found by
//! walking the clap tree (a new subcommand fails here until its snapshot is
//! reviewed and committed), and representative text, JSON and SARIF outputs
//! of `verify` (allow and deny; text, JSON, SARIF), `scan` and `ledger show`.
//!
//! Runs are pinned to [`TEST_NOW`]; filters replace what still differs from
//! run to run or machine to machine (paths, times, digests, the ledger's
//! random origin and signatures). The snapshots live in `snapshots/`;
//! scripts/test.sh runs with `INSTA_UPDATE=no`, so a changed output fails.
//! To review a change: `INSTA_UPDATE=always cargo test -p ward-cli --test it
//! snapshots`, then read `git diff crates/ward-cli/tests/it/snapshots`.

use crate::common::{BEACON_IDENTITY, GITHUB_ISSUER, Run, TEST_NOW, TestContext, conformance, shared};

/// Insta settings with this context's filters, for the snapshots of one test.
fn settings(ctx: &TestContext) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for (pattern, replacement) in ctx.filters() {
        settings.add_filter(&pattern, replacement);
    }
    settings
}

/// Every command path below `command` (the root's is empty), depth first.
fn command_paths(command: &clap::Command, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(path.clone());
    for sub in command.get_subcommands() {
        if sub.is_hide_set() {
            continue;
        }
        path.push(sub.get_name().to_string());
        command_paths(sub, path, out);
        path.pop();
    }
}

#[test]
fn help_of_every_subcommand() {
    let ctx = TestContext::new();
    let mut paths = Vec::new();
    command_paths(&ward_cli::command(), &mut Vec::new(), &mut paths);
    // The tree walk found the real commands, not an empty tree.
    assert!(paths.len() > 20, "{paths:?}");
    settings(&ctx).bind(|| {
        for path in &paths {
            let run = ctx.ward(path.iter().map(String::as_str).chain(["--help"]));
            run.expect(0);
            let name = std::iter::once("ward")
                .chain(path.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join("-");
            insta::assert_snapshot!(format!("help-{name}"), run.stdout);
        }
    });
}

/// `ward verify` of the Sigstore conformance suite's happy-path bundle.
fn verify_beacon(ctx: &TestContext, identity: &str, format: &str) -> Run {
    let art = conformance().join("a.txt");
    let bundle = conformance().join("happy-path-v0.3/bundle.sigstore.json");
    ctx.ward([
        "verify",
        art.to_str().unwrap(),
        "--bundle",
        bundle.to_str().unwrap(),
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
        "--format",
        format,
    ])
}

#[test]
fn verify_allow_and_deny_and_the_ledger_entries_they_leave() {
    let ctx = TestContext::new().at(TEST_NOW);
    settings(&ctx).bind(|| {
        let allow = verify_beacon(&ctx, BEACON_IDENTITY, "text");
        allow.expect(0);
        insta::assert_snapshot!("verify-allow-text", allow.stdout);
        let allow = verify_beacon(&ctx, BEACON_IDENTITY, "json");
        allow.expect(0);
        insta::assert_snapshot!("verify-allow-json", allow.stdout);

        let deny = verify_beacon(&ctx, "https://github.com/someone/else", "text");
        deny.expect(1);
        insta::assert_snapshot!("verify-deny-text", deny.all());
        let deny = verify_beacon(&ctx, "https://github.com/someone/else", "json");
        deny.expect(1);
        insta::assert_snapshot!("verify-deny-json", deny.stdout);

        // The four decisions above, in this context's own ledger.
        let shown = ctx.ward(["ledger", "show", "0"]);
        shown.expect(0);
        insta::assert_snapshot!("ledger-show-allow", shown.stdout);
        let shown = ctx.ward(["ledger", "show", "3"]);
        shown.expect(0);
        insta::assert_snapshot!("ledger-show-deny", shown.stdout);

        let deny = verify_beacon(&ctx, "https://github.com/someone/else", "sarif");
        deny.expect(1);
        insta::assert_snapshot!("verify-deny-sarif", deny.stdout);
    });
}

/// A Cargo.lock with smallvec 1.6.0: RUSTSEC-2021-0003 (critical).
const VULNERABLE_LOCK: &str = "version = 4\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";

#[test]
fn scan_in_text_json_and_sarif() {
    let ctx = TestContext::new().at(TEST_NOW);
    let db = ctx.path("db");
    ctx.ward([
        "advisories",
        "import",
        "--db",
        db.to_str().unwrap(),
        shared().join("advisories/rustsec").to_str().unwrap(),
    ])
    .expect(0);
    let lock = ctx.path("Cargo.lock");
    std::fs::write(&lock, VULNERABLE_LOCK).unwrap();
    settings(&ctx).bind(|| {
        for format in ["text", "json", "sarif"] {
            let run = ctx.ward([
                "scan",
                "--db",
                db.to_str().unwrap(),
                "--format",
                format,
                lock.to_str().unwrap(),
            ]);
            run.expect(1);
            insta::assert_snapshot!(format!("scan-deny-{format}"), run.stdout);
        }
    });
}
