//! The webhook sink against a loopback receiver that hangs, answers 500
//! and redirects elsewhere: nothing is lost, nothing is sent out of order,
//! a redirect is never followed, and delivering never blocks the caller.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity, missing_docs)]

#[path = "support/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use receiver::Behaviour;
use std::time::Duration;
use ward_alert::http::HttpClient;
use ward_alert::sink::Sink as _;
use ward_alert::sink::webhook::{Webhook, WebhookConfig};
use ward_alert::{Alert, AlertChange, AlertState};

fn changes(n: usize) -> Vec<AlertChange> {
    let alerts: Vec<Alert> = (0..n)
        .map(|i| Alert::new("modified", &format!("pkg:pypi/p{i}@1"), "/venv", "f.py", "changed"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let state = AlertState::open(dir.path()).unwrap();
    state.diff(&alerts, &|_| true, jiff::Timestamp::UNIX_EPOCH)
}

fn config(url: &str, spool: &std::path::Path) -> WebhookConfig {
    let mut c = WebhookConfig::new(url, spool.to_path_buf());
    c.backoff_initial = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(100);
    c
}

fn subjects(bodies: &[(String, String, Vec<u8>)]) -> Vec<String> {
    bodies
        .iter()
        .map(|(_, _, b)| {
            let v: serde_json::Value = serde_json::from_slice(b).unwrap();
            v["alert"]["subject"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn a_receiver_that_hangs_500s_and_redirects_gets_every_alert_in_order() {
    let rx = receiver::start(
        vec![
            Behaviour::Hang,
            Behaviour::Status(500),
            Behaviour::Redirect("http://elsewhere.invalid/steal"),
            Behaviour::Status(503),
        ],
        Behaviour::Status(204),
    );
    let spool = tempfile::tempdir().unwrap();
    let client = HttpClient::new(Duration::from_millis(300), None, None);
    let mut hook = Webhook::start(config(&rx.url, spool.path()), client).unwrap();
    let all = changes(5);
    for c in &all {
        // Queued on disk at once, whatever the receiver does.
        hook.deliver(c).unwrap();
    }
    assert!(hook.flush(Duration::from_secs(30)), "{:?}", hook.status());
    let got = subjects(&rx.accepted.lock().unwrap());
    let want: Vec<String> = all.iter().map(|c| c.alert.subject.clone()).collect();
    assert_eq!(got, want, "every alert once, in order");
    assert!(
        *rx.attempts.lock().unwrap() >= 9,
        "four failed attempts, then five deliveries"
    );
    let status = hook.status();
    assert_eq!(status.delivered, 5);
    assert!(status.failures >= 4);
    assert_eq!(status.waiting, 0);
}

#[test]
fn a_redirect_is_reported_and_never_followed() {
    let rx = receiver::start(vec![], Behaviour::Redirect("http://127.0.0.1:9/elsewhere"));
    let spool = tempfile::tempdir().unwrap();
    let client = HttpClient::new(Duration::from_millis(300), None, None);
    let mut hook = Webhook::start(config(&rx.url, spool.path()), client).unwrap();
    hook.deliver(&changes(1)[0]).unwrap();
    assert!(!hook.flush(Duration::from_millis(500)));
    let status = hook.status();
    assert_eq!(status.waiting, 1, "kept in the spool");
    assert!(
        status
            .last_error
            .unwrap_or_default()
            .contains("redirect to http://127.0.0.1:9/elsewhere")
    );
}

/// Alerts spooled while the receiver is down are delivered, in order,
/// by the next run once it is back.
#[test]
fn the_spool_survives_a_restart_and_drains_in_order() {
    let spool = tempfile::tempdir().unwrap();
    let all = changes(4);
    {
        // Nothing listens on this port (the receiver is down).
        let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", down.local_addr().unwrap());
        drop(down);
        let client = HttpClient::new(Duration::from_millis(200), None, None);
        let mut hook = Webhook::start(config(&url, spool.path()), client).unwrap();
        for c in &all[..3] {
            hook.deliver(c).unwrap();
        }
        assert!(!hook.flush(Duration::from_millis(300)));
        assert_eq!(hook.status().waiting, 3);
    }
    let rx = receiver::start(vec![], Behaviour::Status(200));
    let client = HttpClient::new(Duration::from_secs(5), None, None);
    let mut hook = Webhook::start(config(&rx.url, spool.path()), client).unwrap();
    hook.deliver(&all[3]).unwrap();
    assert!(hook.flush(Duration::from_secs(20)));
    let want: Vec<String> = all.iter().map(|c| c.alert.subject.clone()).collect();
    assert_eq!(subjects(&rx.accepted.lock().unwrap()), want);
}

#[test]
fn a_full_spool_refuses_instead_of_growing() {
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", down.local_addr().unwrap());
    drop(down);
    let spool = tempfile::tempdir().unwrap();
    let mut c = config(&url, spool.path());
    c.spool_max = 2;
    let mut hook = Webhook::start(c, HttpClient::new(Duration::from_millis(100), None, None)).unwrap();
    let all = changes(3);
    hook.deliver(&all[0]).unwrap();
    hook.deliver(&all[1]).unwrap();
    assert!(matches!(
        hook.deliver(&all[2]),
        Err(ward_alert::AlertError::SpoolFull { max: 2, .. })
    ));
}
