//! Output of `ward watch` and `ward tickets`.

use ward_alert::monitor::RoundReport;
use ward_alert::tickets::export::Pushed;
use ward_alert::tickets::{Ticket, TicketState, Transition};
use ward_alert::watch::Trigger;

/// One round of `ward watch`: why it ran, what changed, what failed.
pub(crate) fn watch_round(trigger: &Trigger, failed: &[(std::path::PathBuf, String)], report: &RoundReport) {
    let why = match trigger {
        Trigger::Interval => "interval".to_string(),
        Trigger::Files(paths) => format!(
            "files changed ({})",
            paths.first().map(|p| p.display().to_string()).unwrap_or_default()
        ),
        Trigger::Database => "advisory database changed".to_string(),
        Trigger::WatchError(e) => format!("watch error: {e}"),
        _ => "other".to_string(),
    };
    for (path, e) in failed {
        super::error(&format!("{}: {e}", path.display()));
    }
    for c in &report.changes {
        let a = &c.alert;
        let entry = c
            .ledger_index
            .map(|i| format!(" (ledger entry {i})"))
            .unwrap_or_default();
        println!(
            "{} {} {} {} at {}: {}{entry}",
            c.event.as_str(),
            a.urgency.as_str(),
            a.code,
            a.subject,
            a.location,
            a.summary
        );
    }
    for (sink, e) in &report.sink_errors {
        super::error(&format!("{sink}: {e}"));
    }
    println!(
        "watch round ({why}): {} raised, {} resolved, {} open",
        report
            .changes
            .iter()
            .filter(|c| c.event == ward_alert::ChangeKind::AlertRaised)
            .count(),
        report
            .changes
            .iter()
            .filter(|c| c.event == ward_alert::ChangeKind::AlertResolved)
            .count(),
        report.open
    );
}

/// A spooling sink that still holds changes.
pub(crate) fn backlog(sink: &str, waiting: usize, why: Option<&str>) {
    super::error(&format!(
        "{sink}: {waiting} alert(s) spooled, delivered in order when it answers{}",
        why.map(|w| format!(" (last attempt: {w})")).unwrap_or_default()
    ));
}

/// The transitions of `ward tickets sync`.
pub(crate) fn transitions(transitions: &[Transition]) {
    for t in transitions {
        let k = &t.ticket;
        let entry = t
            .ledger_index
            .map(|i| format!(" (ledger entry {i})"))
            .unwrap_or_default();
        println!(
            "ticket {}: {} -> {} {} in {}@{} ({}){entry}",
            k.id,
            t.from.map_or("new", TicketState::as_str),
            t.to.as_str(),
            k.advisory,
            k.package,
            k.version,
            k.location
        );
    }
    println!("{} transition(s)", transitions.len());
}

/// `ward tickets status`.
pub(crate) fn ticket_status(tickets: &[Ticket], now: jiff::Timestamp, json: bool) {
    if json {
        super::json_value(&serde_json::to_value(tickets).unwrap_or_default());
        return;
    }
    if tickets.is_empty() {
        println!("no open tickets");
    }
    for t in tickets {
        let due = match t.due {
            Some(d) if d <= now => format!(
                "OVERDUE since {d} ({} days)",
                (now.as_second() - d.as_second()) / 86_400
            ),
            Some(d) => format!("due {d}"),
            None => "no deadline".into(),
        };
        let owners = if t.owners.is_empty() {
            "no owner".to_string()
        } else {
            t.owners.join(" ")
        };
        println!(
            "#{} {:<8} {:<8} {} in {}@{} ({}) {due}, {owners}",
            t.id,
            t.state.as_str(),
            t.urgency.as_str(),
            t.advisory,
            t.package,
            t.version,
            t.location
        );
    }
}

/// What `ward tickets export --push` did.
pub(crate) fn pushed(results: &[Pushed]) {
    for p in results {
        match p {
            Pushed::Created(id, remote) => println!("ticket {id}: created {remote}"),
            Pushed::Updated(id, remote) => println!("ticket {id}: updated {remote}"),
            Pushed::Failed(id, why) => super::error(&format!("ticket {id}: {why}")),
            _ => {}
        }
    }
}
