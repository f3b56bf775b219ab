//! `ward watch --once` and `ward tickets`: alerts once per finding, as
//! ledger events and webhook POSTs to a loopback receiver (that first
//! answers 500), resolutions when a finding goes away; tickets opened,
//! resolved and reopened from a lockfile, every transition in the ledger.

use crate::common::{Answer, FakeRegistry, TestContext, shared};
use std::path::{Path, PathBuf};

/// A webhook receiver on 127.0.0.1 answering 500 to the first request,
/// 204 after; its URL.
fn receiver() -> (String, FakeRegistry) {
    let up = FakeRegistry::start();
    up.set("/hook", Answer::FirstThen(500, Box::new(Answer::Status(204))));
    (format!("{}/hook", up.base()), up)
}

/// The bodies the receiver accepted (every POST but the first, answered 500).
fn accepted(up: &FakeRegistry) -> Vec<serde_json::Value> {
    up.posted("/hook")
        .iter()
        .skip(1)
        .map(|b| serde_json::from_str(b).unwrap())
        .collect()
}

/// A site directory with one distribution whose file differs from RECORD.
fn site(dir: &Path) -> PathBuf {
    let site = dir.join("venv/lib/python3.12/site-packages");
    std::fs::create_dir_all(site.join("foo-1.0.dist-info")).unwrap();
    std::fs::create_dir_all(site.join("foo")).unwrap();
    std::fs::write(site.join("foo/__init__.py"), "x = 1\n").unwrap();
    std::fs::write(
        site.join("foo-1.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n",
    )
    .unwrap();
    std::fs::write(
        site.join("foo-1.0.dist-info/RECORD"),
        "foo/__init__.py,sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,6\nfoo-1.0.dist-info/METADATA,,\nfoo-1.0.dist-info/RECORD,,\n",
    )
    .unwrap();
    site
}

fn events(ctx: &TestContext, kind: &str) -> Vec<String> {
    let run = ctx.ward(["ledger", "search", "--kind", kind]);
    run.stdout
        .lines()
        .filter(|l| l.starts_with("entry "))
        .map(str::to_string)
        .collect()
}

#[test]
fn watch_alerts_once_per_finding_to_the_ledger_and_a_webhook_and_resolves() {
    let ctx = TestContext::new();
    let site = site(ctx.dir());
    let (url, hook) = receiver();
    let config = ctx.path("watch.toml");
    let jsonl = ctx.path("alerts.jsonl");
    std::fs::write(
        &config,
        format!(
            "[[watch.webhook]]\nurl = \"{url}\"\ntimeout = \"5s\"\n[[watch.file]]\npath = \"{}\"\n",
            jsonl.display()
        ),
    )
    .unwrap();
    let site_arg = site.display().to_string();
    let watch = || ctx.ward(["watch", &site_arg, "--once", "--config", &config.display().to_string()]);

    let run = watch();
    run.expect(1);
    assert!(
        run.stdout.contains("alert-raised high modified pkg:pypi/foo@1.0"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("alert-raised high unvetted pkg:pypi/foo@1.0"));
    let raised = events(&ctx, "alert-raised");
    assert!(raised.len() >= 2, "{raised:?}");
    // The receiver's 500 was retried: every alert arrived, once, in ledger order.
    let got = accepted(&hook);
    assert_eq!(got.len(), raised.len(), "{got:?}");
    for (body, entry) in got.iter().zip(&raised) {
        assert_eq!(body["event"], "alert-raised");
        assert!(
            entry.starts_with(&format!("entry {}:", body["ledger_index"])),
            "{entry} {body}"
        );
    }
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap().lines().count(), raised.len());

    // The same findings again: no new alert anywhere.
    watch().expect(1);
    assert_eq!(events(&ctx, "alert-raised"), raised);
    assert_eq!(accepted(&hook).len(), raised.len());

    // The modified file is removed: `missing` raised, `modified` resolved.
    std::fs::remove_file(site.join("foo/__init__.py")).unwrap();
    let run = watch();
    run.expect(1);
    assert!(run.stdout.contains("alert-raised high missing"), "{}", run.all());
    let resolved = events(&ctx, "alert-resolved");
    assert_eq!(resolved.len(), 1);
    assert!(resolved[0].contains("[modified] pkg:pypi/foo@1.0"), "{resolved:?}");
    let last = accepted(&hook).last().cloned().unwrap();
    assert_eq!(last["event"], "alert-resolved");
    // Decision searches are not confused by the event entries.
    ctx.ward(["ledger", "search"]).expect(1);
}

fn import_rustsec(ctx: &TestContext, db: &Path) {
    ctx.ward([
        "advisories",
        "import",
        "--db",
        &db.display().to_string(),
        &shared().join("advisories/rustsec").display().to_string(),
    ])
    .expect(0);
}

const VULNERABLE: &str = "version = 4\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
const CLEAN: &str = "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";

#[test]
fn tickets_open_resolve_and_reopen_the_same_ticket_with_transitions_in_the_ledger() {
    let ctx = TestContext::new();
    let db = ctx.path("db");
    import_rustsec(&ctx, &db);
    let lock = ctx.path("Cargo.lock");
    let owners = ctx.path("owners.toml");
    std::fs::write(&owners, "[owners]\n\"pkg:cargo/*\" = \"@rust-team\"\n").unwrap();
    let sync = || {
        ctx.ward([
            "tickets",
            "sync",
            "--db",
            &db.display().to_string(),
            "--config",
            &owners.display().to_string(),
            "--root",
            &ctx.dir().display().to_string(),
            &lock.display().to_string(),
        ])
    };
    std::fs::write(&lock, VULNERABLE).unwrap();
    let run = sync();
    run.expect(1);
    assert!(run.stdout.contains("new -> open"), "{}", run.all());
    let opened = events(&ctx, "ticket-transition").len();
    assert!(opened >= 1);

    // Again: nothing new, no duplicate.
    let run = sync();
    run.expect(1);
    assert!(run.stdout.contains("0 transition(s)"), "{}", run.all());
    let status = ctx.ward(["tickets", "status", "--json"]);
    let tickets: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(tickets.as_array().unwrap().len(), opened);
    assert_eq!(tickets[0]["owners"], serde_json::json!(["@rust-team"]));
    let first_id = tickets[0]["id"].clone();

    // Gone: resolved. Back: the same ticket, reopened.
    std::fs::write(&lock, CLEAN).unwrap();
    let run = sync();
    run.expect(0);
    assert!(run.stdout.contains("open -> resolved"), "{}", run.all());
    std::fs::write(&lock, VULNERABLE).unwrap();
    let run = sync();
    run.expect(1);
    assert!(
        run.stdout.contains(&format!("ticket {first_id}: resolved -> reopened")),
        "{}",
        run.all()
    );
    let all = ctx.ward(["tickets", "status", "--all", "--json"]);
    let all: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), opened, "no duplicate ticket");
    let transitions = events(&ctx, "ticket-transition");
    assert_eq!(transitions.len(), opened * 3, "{transitions:?}");
    assert!(transitions.iter().any(|e| e.contains("[reopened]")));

    // The GitHub payloads.
    let export = ctx.ward(["tickets", "export", "--to", "github"]);
    export.expect(0);
    let payloads: serde_json::Value = serde_json::from_str(&export.stdout).unwrap();
    assert!(payloads[0]["title"].as_str().unwrap().contains("pkg:cargo/smallvec"));
    assert_eq!(payloads[0]["assignees"], serde_json::json!(["rust-team"]));
}
