//! Tickets as the REST payloads trackers accept, and pushing them.
//!
//! - GitHub: the body of `POST /repos/{owner}/{repo}/issues` (`title`,
//!   `body`, `labels`, `assignees`); an issue already pushed is updated
//!   with `PATCH …/issues/{number}` (`state` `open`/`closed`, with
//!   `state_reason`).
//! - Jira: the body of `POST /rest/api/2/issue` (`fields`: `project`,
//!   `issuetype`, `summary`, `description`, `labels`, `priority`,
//!   `duedate`); an issue already pushed is updated with
//!   `PUT …/issue/{key}` (its fields; moving it through the project's
//!   workflow needs the workflow's transition ids, which ward does not
//!   guess: the `ward-resolved` label says it).
//!
//! A push remembers the issue each tracker created (its `number` or
//! `key`), so pushing again never opens a duplicate.

use super::store::TicketStore;
use super::{Ticket, TicketState};
use crate::AlertError;
use crate::http::HttpClient;
use serde_json::{Value, json};

/// A tracker.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tracker {
    /// GitHub issues.
    GitHub,
    /// Jira, with the project key issues are created in.
    Jira {
        /// The project key (`SEC`).
        project: String,
    },
}

impl Tracker {
    fn name(&self) -> &'static str {
        match self {
            Tracker::GitHub => "github",
            Tracker::Jira { .. } => "jira",
        }
    }
}

fn title(t: &Ticket) -> String {
    format!("{} in {} ({})", t.advisory, t.package, t.location)
}

fn description(t: &Ticket) -> String {
    let mut out = format!(
        "{}\n\nAdvisory: {}\nAliases: {}\nPackage: {}@{}\nFound in: {}\nSeverity: {}\nState: {}\n",
        t.summary,
        t.advisory,
        if t.aliases.is_empty() {
            "none".into()
        } else {
            t.aliases.join(", ")
        },
        t.package,
        t.version,
        t.location,
        t.urgency.as_str(),
        t.state.as_str(),
    );
    if let Some(f) = t.first_seen {
        out.push_str(&format!("First seen: {f}\n"));
    }
    if let Some(d) = t.due {
        out.push_str(&format!("Due: {d}\n"));
    }
    if !t.fixed.is_empty() {
        out.push_str(&format!("Fixed in: {}\n", t.fixed.join(", ")));
    }
    if !t.owners.is_empty() {
        out.push_str(&format!("Owners: {}\n", t.owners.join(" ")));
    }
    if let Some(s) = &t.silenced_by {
        out.push_str(&format!("Silenced by: {s}\n"));
    }
    out.push_str(&format!("\nward ticket {}\n", t.id));
    out
}

fn labels(t: &Ticket) -> Vec<String> {
    vec![
        "security".into(),
        "ward".into(),
        format!("severity:{}", t.urgency.as_str()),
        format!("ward-{}", t.state.as_str()),
    ]
}

/// The payload that creates `t`'s issue.
pub fn create_payload(t: &Ticket, tracker: &Tracker) -> Value {
    match tracker {
        Tracker::GitHub => json!({
            "title": title(t),
            "body": description(t),
            "labels": labels(t),
            // Users only: a team (`@org/team`) or an e-mail cannot be assigned.
            "assignees": t.owners.iter()
                .filter_map(|o| o.strip_prefix('@'))
                .filter(|o| !o.contains('/'))
                .collect::<Vec<_>>(),
        }),
        Tracker::Jira { project } => {
            let priority = match t.urgency {
                crate::Urgency::Critical => "Highest",
                crate::Urgency::High => "High",
                crate::Urgency::Medium => "Medium",
                crate::Urgency::Low => "Low",
                crate::Urgency::None => "Lowest",
            };
            let mut fields = json!({
                "project": { "key": project },
                "issuetype": { "name": "Bug" },
                "summary": title(t),
                "description": description(t),
                "labels": labels(t),
                "priority": { "name": priority },
            });
            if let Some(due) = t.due {
                fields["duedate"] = json!(due.to_zoned(jiff::tz::TimeZone::UTC).date().to_string());
            }
            json!({ "fields": fields })
        }
    }
}

/// The payload that brings an existing issue up to date.
pub fn update_payload(t: &Ticket, tracker: &Tracker) -> Value {
    match tracker {
        Tracker::GitHub => {
            let closed = t.state == TicketState::Resolved;
            json!({
                "title": title(t),
                "body": description(t),
                "labels": labels(t),
                "state": if closed { "closed" } else { "open" },
                "state_reason": if closed { "completed" } else { "reopened" },
            })
        }
        Tracker::Jira { .. } => {
            let mut create = create_payload(t, tracker);
            // A project and issue type cannot be changed by an edit.
            if let Some(f) = create["fields"].as_object_mut() {
                f.remove("project");
                f.remove("issuetype");
            }
            create
        }
    }
}

/// What one push did to one ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pushed {
    /// Created, as this remote id.
    Created(i64, String),
    /// Updated.
    Updated(i64, String),
    /// Failed, why.
    Failed(i64, String),
}

/// Pushes every ticket to `url` (GitHub: `…/repos/OWNER/REPO/issues`;
/// Jira: `…/rest/api/2/issue`): creates the issues not yet pushed there,
/// updates the others. Failures are reported per ticket; the rest go on.
pub fn push(
    store: &TicketStore,
    tickets: &[Ticket],
    tracker: &Tracker,
    url: &str,
    token: Option<&str>,
    client: &HttpClient,
) -> Result<Vec<Pushed>, AlertError> {
    let key = format!("{} {}", tracker.name(), url.trim_end_matches('/'));
    let mut out = Vec::new();
    for t in tickets {
        let remote = store.remote_id(t.id, &key)?;
        let (method, target, body) = match &remote {
            None => ("POST", url.to_string(), create_payload(t, tracker)),
            Some(r) => (
                match tracker {
                    Tracker::GitHub => "PATCH",
                    Tracker::Jira { .. } => "PUT",
                },
                format!("{}/{r}", url.trim_end_matches('/')),
                update_payload(t, tracker),
            ),
        };
        let bytes = serde_json::to_vec(&body).map_err(|e| AlertError::Delivery {
            sink: url.into(),
            why: e.to_string(),
        })?;
        let reply = match client.send_json(method, &target, &bytes, token) {
            Ok(r) if r.ok() => r,
            Ok(r) => {
                out.push(Pushed::Failed(t.id, r.failure()));
                continue;
            }
            Err(e) => {
                out.push(Pushed::Failed(t.id, e));
                continue;
            }
        };
        match remote {
            Some(r) => out.push(Pushed::Updated(t.id, r)),
            None => {
                let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
                let id = match tracker {
                    Tracker::GitHub => answer["number"].as_u64().map(|n| n.to_string()),
                    // The key goes into the next push's URL: a plain issue
                    // key (`ABC-123`) only, never a path the tracker chose.
                    Tracker::Jira { .. } => answer["key"].as_str().filter(|k| jira_key(k)).map(str::to_string),
                };
                match id {
                    Some(id) => {
                        store.set_remote_id(t.id, &key, &id)?;
                        out.push(Pushed::Created(t.id, id));
                    }
                    None => out.push(Pushed::Failed(
                        t.id,
                        "created, but the answer names no issue number or key: the next push may create it again"
                            .into(),
                    )),
                }
            }
        }
    }
    Ok(out)
}

/// Whether `key` looks like a Jira issue key (`ABC-123`): letters, digits
/// and `_` for the project, a dash, digits.
fn jira_key(key: &str) -> bool {
    key.split_once('-').is_some_and(|(project, number)| {
        !project.is_empty()
            && project.len() <= 64
            && project.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !number.is_empty()
            && number.len() <= 20
            && number.bytes().all(|b| b.is_ascii_digit())
    })
}
