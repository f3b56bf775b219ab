//! Tickets: one per finding (aliases merged), never a duplicate, resolved
//! when the finding is gone, the same ticket reopened when it returns, and
//! every transition an event in the ledger; export payloads and a push to
//! a loopback tracker that never opens a duplicate issue.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity, missing_docs)]

#[path = "support/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use std::collections::BTreeMap;
use std::time::Duration;
use ward_alert::Urgency;
use ward_alert::http::HttpClient;
use ward_alert::tickets::export::{Pushed, Tracker, create_payload, push};
use ward_alert::tickets::owners::Owners;
use ward_alert::tickets::store::TicketStore;
use ward_alert::tickets::{TicketFinding, TicketState};
use ward_ledger::event::{EventKind, read_event};

fn t(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn finding(advisory: &str, aliases: &[&str], package: &str, due: Option<&str>) -> TicketFinding {
    serde_json::from_value(serde_json::json!({
        "advisory": advisory,
        "aliases": aliases,
        "package": package,
        "location": "app/requirements.txt",
        "urgency": "high",
        "summary": "bad thing",
        "first_seen": "2026-11-01T00:00:00Z",
        "due": due,
        "silenced": null,
        "fixed": ["2.0"],
    }))
    .unwrap()
}

fn ledger(dir: &std::path::Path) -> ward_ledger::SharedLedger {
    let l = ward_ledger::EmbeddedLedger::open(dir, "test.invalid/ledger").unwrap();
    ward_ledger::SharedLedger::new(Box::new(l))
}

#[test]
fn one_ticket_per_finding_resolved_and_reopened_with_every_transition_in_the_ledger() {
    let data = tempfile::tempdir().unwrap();
    let ledger = ledger(&data.path().join("ledger"));
    let owners = Owners::from_table(BTreeMap::from([("pkg:pypi/*".to_string(), vec!["@py".to_string()])]));
    let mut store = TicketStore::open(data.path()).unwrap();
    let all = |_: &str| true;
    let v = "0.1.0";

    // Found under its GHSA id: opened.
    let ghsa = finding(
        "GHSA-aaaa",
        &["CVE-2026-1"],
        "pkg:pypi/flask@1.0",
        Some("2026-12-10T00:00:00Z"),
    );
    let tr = store
        .sync(
            std::slice::from_ref(&ghsa),
            &all,
            &owners,
            t("2026-12-01T00:00:00Z"),
            Some(&ledger),
            v,
        )
        .unwrap();
    assert_eq!(tr.len(), 1);
    assert_eq!((tr[0].from, tr[0].to), (None, TicketState::Open));
    assert_eq!(tr[0].ticket.owners, ["@py"]);
    let id = tr[0].ticket.id;

    // The same finding again, and again under its CVE alias in a later
    // version: the same ticket, no transition, no duplicate.
    let cve = finding(
        "CVE-2026-1",
        &["GHSA-aaaa", "PYSEC-9"],
        "pkg:pypi/flask@1.1",
        Some("2026-12-10T00:00:00Z"),
    );
    let tr = store
        .sync(
            &[ghsa.clone(), cve.clone()],
            &all,
            &owners,
            t("2026-12-02T00:00:00Z"),
            Some(&ledger),
            v,
        )
        .unwrap();
    assert!(tr.is_empty(), "{tr:?}");
    let tickets = store.all().unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].version, "1.1");
    assert!(tickets[0].aliases.contains(&"PYSEC-9".to_string()));

    // Past its due date: overdue.
    let tr = store
        .sync(
            std::slice::from_ref(&cve),
            &all,
            &owners,
            t("2026-12-11T00:00:00Z"),
            Some(&ledger),
            v,
        )
        .unwrap();
    assert_eq!((tr[0].from, tr[0].to), (Some(TicketState::Open), TicketState::Overdue));

    // A location that was not read keeps its ticket; gone from a read one: resolved.
    let tr = store
        .sync(&[], &|_| false, &owners, t("2026-12-12T00:00:00Z"), Some(&ledger), v)
        .unwrap();
    assert!(tr.is_empty());
    let tr = store
        .sync(&[], &all, &owners, t("2026-12-12T00:00:00Z"), Some(&ledger), v)
        .unwrap();
    assert_eq!(
        (tr[0].from, tr[0].to),
        (Some(TicketState::Overdue), TicketState::Resolved)
    );

    // It returns (within a new deadline): the same ticket, reopened.
    let back = finding("PYSEC-9", &[], "pkg:pypi/flask@1.2", Some("2027-01-30T00:00:00Z"));
    let tr = store
        .sync(&[back], &all, &owners, t("2026-12-20T00:00:00Z"), Some(&ledger), v)
        .unwrap();
    assert_eq!(tr.len(), 1);
    assert_eq!(
        (tr[0].ticket.id, tr[0].from, tr[0].to),
        (id, Some(TicketState::Resolved), TicketState::Reopened)
    );
    assert_eq!(store.all().unwrap().len(), 1);

    // Every transition is a signed ticket-transition event, in order.
    let key = ledger.verifier().unwrap();
    let size = ledger.with_store(|s| s.size()).unwrap();
    let states: Vec<String> = (0..size)
        .map(|i| read_event(&ledger.with_store(|s| s.entry(i)).unwrap().unwrap(), &key).unwrap())
        .inspect(|e| {
            assert_eq!(e.predicate.kind, EventKind::TicketTransition);
            assert_eq!(e.subject_name(), Some(format!("ticket:{id}").as_str()));
        })
        .map(|e| e.predicate.code.unwrap())
        .collect();
    assert_eq!(states, ["open", "overdue", "resolved", "reopened"]);
}

#[test]
fn silenced_findings_are_silenced_tickets() {
    let data = tempfile::tempdir().unwrap();
    let mut store = TicketStore::open(data.path()).unwrap();
    let mut f = finding("GHSA-bbbb", &[], "pkg:npm/x@1.0.0", None);
    f.silenced = Some("exception ward.toml:12".into());
    let tr = store
        .sync(
            &[f],
            &|_| true,
            &Owners::default(),
            t("2026-12-01T00:00:00Z"),
            None,
            "0.1.0",
        )
        .unwrap();
    assert_eq!(tr[0].to, TicketState::Silenced);
    assert_eq!(tr[0].ticket.silenced_by.as_deref(), Some("exception ward.toml:12"));
}

#[test]
fn payloads_have_the_fields_the_trackers_require() {
    let data = tempfile::tempdir().unwrap();
    let mut store = TicketStore::open(data.path()).unwrap();
    let owners = Owners::from_table(BTreeMap::from([(
        "pkg:pypi/*".to_string(),
        vec!["@alice".to_string(), "@org/team".to_string()],
    )]));
    let mut f = finding(
        "GHSA-cccc",
        &["CVE-2026-2"],
        "pkg:pypi/flask@1.0",
        Some("2026-12-10T05:00:00Z"),
    );
    f.urgency = Urgency::Critical;
    store
        .sync(&[f], &|_| true, &owners, t("2026-12-01T00:00:00Z"), None, "0.1.0")
        .unwrap();
    let ticket = &store.all().unwrap()[0];
    let gh = create_payload(ticket, &Tracker::GitHub);
    assert!(gh["title"].as_str().unwrap().contains("GHSA-cccc"));
    assert!(gh["body"].as_str().unwrap().contains("CVE-2026-2"));
    assert_eq!(
        gh["assignees"],
        serde_json::json!(["alice"]),
        "a team cannot be an assignee"
    );
    let jira = create_payload(ticket, &Tracker::Jira { project: "SEC".into() });
    assert_eq!(jira["fields"]["project"]["key"], "SEC");
    assert_eq!(jira["fields"]["issuetype"]["name"], "Bug");
    assert_eq!(jira["fields"]["duedate"], "2026-12-10");
    assert_eq!(jira["fields"]["priority"]["name"], "Highest");
}

#[test]
fn a_second_push_updates_the_issue_instead_of_opening_another() {
    let data = tempfile::tempdir().unwrap();
    let mut store = TicketStore::open(data.path()).unwrap();
    let f = finding("GHSA-dddd", &[], "pkg:pypi/flask@1.0", None);
    store
        .sync(
            &[f],
            &|_| true,
            &Owners::default(),
            t("2026-12-01T00:00:00Z"),
            None,
            "0.1.0",
        )
        .unwrap();
    let rx = receiver::start(
        vec![receiver::Behaviour::Created(r#"{"number": 42}"#.into())],
        receiver::Behaviour::Status(200),
    );
    let client = HttpClient::new(Duration::from_secs(5), None, None);
    let tickets = store.all().unwrap();
    let first = push(&store, &tickets, &Tracker::GitHub, &rx.url, Some("token"), &client).unwrap();
    assert_eq!(first, [Pushed::Created(tickets[0].id, "42".into())]);
    // Resolved, then pushed again: a PATCH of issue 42 that closes it.
    store
        .sync(
            &[],
            &|_| true,
            &Owners::default(),
            t("2026-12-02T00:00:00Z"),
            None,
            "0.1.0",
        )
        .unwrap();
    let tickets = store.all().unwrap();
    let second = push(&store, &tickets, &Tracker::GitHub, &rx.url, None, &client).unwrap();
    assert_eq!(second, [Pushed::Updated(tickets[0].id, "42".into())]);
    let seen = rx.accepted.lock().unwrap();
    assert_eq!((seen[0].0.as_str(), seen[0].1.as_str()), ("POST", "/hook"));
    assert_eq!((seen[1].0.as_str(), seen[1].1.as_str()), ("PATCH", "/hook/42"));
    let patch: serde_json::Value = serde_json::from_slice(&seen[1].2).unwrap();
    assert_eq!(patch["state"], "closed");
}
