//! The ticket store: `tickets.sqlite` in ward's data directory (SQLite by
//! `rusqlite`, as the ledger's pin index), and [`TicketStore::sync`], which
//! keeps it in step with what was found.
//!
//! Tables: `tickets` (one row a ticket), `ticket_ids` (every advisory id
//! and alias a ticket is known by, per package and location: the lookup
//! that merges aliases and makes duplicates impossible), `remote` (the
//! issue a tracker created for a ticket, so a second push updates it).

use super::owners::Owners;
use super::{Ticket, TicketFinding, TicketState, Transition};
use crate::AlertError;
use rusqlite::{OptionalExtension as _, params};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use ward_ledger::SharedLedger;

/// The file name inside the data directory.
pub const FILE: &str = "tickets.sqlite";

/// The ticket store.
#[derive(Debug)]
pub struct TicketStore {
    conn: rusqlite::Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY,
    advisory TEXT NOT NULL, aliases TEXT NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL,
    location TEXT NOT NULL, urgency TEXT NOT NULL, summary TEXT NOT NULL, owners TEXT NOT NULL,
    first_seen TEXT, due TEXT, state TEXT NOT NULL, silenced_by TEXT, fixed TEXT NOT NULL,
    opened_at TEXT NOT NULL, changed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ticket_ids (
    id TEXT NOT NULL, package TEXT NOT NULL, location TEXT NOT NULL, ticket INTEGER NOT NULL,
    PRIMARY KEY (id, package, location)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS remote (
    ticket INTEGER NOT NULL, tracker TEXT NOT NULL, remote_id TEXT NOT NULL,
    PRIMARY KEY (ticket, tracker)) WITHOUT ROWID;
";

/// The purl without its version (and qualifiers).
fn unversioned(purl: &str) -> String {
    let end = purl.find(['@', '?', '#']).unwrap_or(purl.len());
    // A scoped npm name is written `%40scope/name`, so the first `@` is the version's.
    purl[..end].to_string()
}

fn version_of(purl: &str) -> String {
    purl.split_once('@')
        .map(|(_, v)| v.split(['?', '#']).next().unwrap_or(v).to_string())
        .unwrap_or_default()
}

fn ts(t: &jiff::Timestamp) -> String {
    t.to_string()
}

impl TicketStore {
    /// Opens (creating) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, AlertError> {
        std::fs::create_dir_all(dir).map_err(|e| AlertError::io(dir, e))?;
        let path = dir.join(FILE);
        let err = |e: rusqlite::Error| AlertError::Tickets {
            path: path.display().to_string(),
            why: e.to_string(),
        };
        let conn = rusqlite::Connection::open(&path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self { conn, path })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> AlertError + '_ {
        move |e| AlertError::Tickets {
            path: self.path.display().to_string(),
            why: e.to_string(),
        }
    }

    /// Every ticket, by number.
    pub fn all(&self) -> Result<Vec<Ticket>, AlertError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM tickets ORDER BY id")
            .map_err(self.err())?;
        let rows = stmt.query_map([], row_ticket).map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// The issue `tracker` created for `ticket`, if any.
    pub fn remote_id(&self, ticket: i64, tracker: &str) -> Result<Option<String>, AlertError> {
        self.conn
            .query_row(
                "SELECT remote_id FROM remote WHERE ticket = ?1 AND tracker = ?2",
                params![ticket, tracker],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// Records the issue `tracker` created for `ticket`.
    pub fn set_remote_id(&self, ticket: i64, tracker: &str, remote_id: &str) -> Result<(), AlertError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO remote VALUES (?1, ?2, ?3)",
                params![ticket, tracker, remote_id],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Brings the tickets in step with `findings`, the findings of a run
    /// that read every location `covered` accepts, at `now`: new findings
    /// open tickets, returning ones reopen theirs, gone ones (in a covered
    /// location) resolve; due dates and silencing move tickets to
    /// `overdue` and `silenced` and back. Every transition is appended to
    /// `ledger` (when given) before the store commits.
    pub fn sync(
        &mut self,
        findings: &[TicketFinding],
        covered: &dyn Fn(&str) -> bool,
        owners: &Owners,
        now: jiff::Timestamp,
        ledger: Option<&SharedLedger>,
        version: &str,
    ) -> Result<Vec<Transition>, AlertError> {
        let path = self.path.display().to_string();
        let err = move |e: rusqlite::Error| AlertError::Tickets {
            path: path.clone(),
            why: e.to_string(),
        };
        let tx = self.conn.transaction().map_err(&err)?;
        let mut transitions = Vec::new();
        let mut seen = BTreeSet::new();
        for f in findings {
            let package = unversioned(&f.package);
            let ids: Vec<&String> = std::iter::once(&f.advisory).chain(&f.aliases).collect();
            let mut existing = None;
            for id in &ids {
                let found: Option<i64> = tx
                    .query_row(
                        "SELECT ticket FROM ticket_ids WHERE id = ?1 AND package = ?2 AND location = ?3",
                        params![id, package, f.location],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(&err)?;
                existing = match (existing, found) {
                    (Some(a), Some(b)) => Some(std::cmp::min(a, b)),
                    (a, b) => a.or(b),
                };
            }
            let owners_now = owners.owners_for(&f.package, &f.location);
            let overdue = f.due.is_some_and(|d| d <= now);
            let desired = if f.silenced.is_some() {
                TicketState::Silenced
            } else if overdue {
                TicketState::Overdue
            } else {
                TicketState::Open
            };
            let (id, mut steps) = match existing {
                None => {
                    tx.execute(
                        "INSERT INTO tickets (advisory, aliases, package, version, location, urgency, summary, owners,
                             first_seen, due, state, silenced_by, fixed, opened_at, changed_at)
                         VALUES (?1, '[]', ?2, '', ?3, '', '', '[]', NULL, NULL, ?4, NULL, '[]', ?5, ?5)",
                        params![f.advisory, package, f.location, desired.as_str(), ts(&now)],
                    )
                    .map_err(&err)?;
                    (tx.last_insert_rowid(), vec![(None, desired)])
                }
                Some(id) => {
                    let state: String = tx
                        .query_row("SELECT state FROM tickets WHERE id = ?1", [id], |r| r.get(0))
                        .map_err(&err)?;
                    let current = TicketState::parse(&state).unwrap_or(TicketState::Open);
                    let mut steps = Vec::new();
                    let mut at = current;
                    if at == TicketState::Resolved {
                        steps.push((Some(at), TicketState::Reopened));
                        at = TicketState::Reopened;
                    }
                    // A reopened ticket stays `reopened` while it is simply open.
                    let target = if desired == TicketState::Open && at == TicketState::Reopened {
                        TicketState::Reopened
                    } else {
                        desired
                    };
                    if target != at {
                        steps.push((Some(at), target));
                    }
                    (id, steps)
                }
            };
            seen.insert(id);
            let mut aliases: BTreeSet<String> = tx
                .query_row("SELECT aliases FROM tickets WHERE id = ?1", [id], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(&err)
                .map(|a| serde_json::from_str::<Vec<String>>(&a).unwrap_or_default())?
                .into_iter()
                .collect();
            let advisory: String = tx
                .query_row("SELECT advisory FROM tickets WHERE id = ?1", [id], |r| r.get(0))
                .map_err(&err)?;
            aliases.extend(ids.iter().map(|s| s.to_string()).filter(|s| *s != advisory));
            for alias in &ids {
                tx.execute(
                    "INSERT OR IGNORE INTO ticket_ids VALUES (?1, ?2, ?3, ?4)",
                    params![alias, package, f.location, id],
                )
                .map_err(&err)?;
            }
            tx.execute(
                "UPDATE tickets SET aliases = ?2, version = ?3, urgency = ?4, summary = ?5, owners = ?6,
                     first_seen = ?7, due = ?8, silenced_by = ?9, fixed = ?10 WHERE id = ?1",
                params![
                    id,
                    to_json(&aliases.iter().collect::<Vec<_>>()),
                    version_of(&f.package),
                    f.urgency.as_str(),
                    f.summary,
                    to_json(&owners_now),
                    f.first_seen.as_ref().map(ts),
                    f.due.as_ref().map(ts),
                    f.silenced,
                    to_json(&f.fixed),
                ],
            )
            .map_err(&err)?;
            for (from, to) in steps.drain(..) {
                tx.execute(
                    "UPDATE tickets SET state = ?2, changed_at = ?3 WHERE id = ?1",
                    params![id, to.as_str(), ts(&now)],
                )
                .map_err(&err)?;
                let ticket = tx
                    .query_row("SELECT * FROM tickets WHERE id = ?1", [id], row_ticket)
                    .map_err(&err)?;
                transitions.push(Transition {
                    ticket,
                    from,
                    to,
                    time: now,
                    ledger_index: None,
                });
            }
        }
        // Gone from a location that was read: resolved.
        let open: Vec<(i64, String, String)> = {
            let mut stmt = tx
                .prepare("SELECT id, location, state FROM tickets WHERE state != 'resolved' ORDER BY id")
                .map_err(&err)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(&err)?;
            rows.collect::<Result<_, _>>().map_err(&err)?
        };
        for (id, location, state) in open {
            if seen.contains(&id) || !covered(&location) {
                continue;
            }
            tx.execute(
                "UPDATE tickets SET state = 'resolved', changed_at = ?2 WHERE id = ?1",
                params![id, ts(&now)],
            )
            .map_err(&err)?;
            let ticket = tx
                .query_row("SELECT * FROM tickets WHERE id = ?1", [id], row_ticket)
                .map_err(&err)?;
            transitions.push(Transition {
                ticket,
                from: TicketState::parse(&state),
                to: TicketState::Resolved,
                time: now,
                ledger_index: None,
            });
        }
        if let Some(ledger) = ledger {
            for t in &mut transitions {
                let event = super::transition_event(t, version)?;
                // On failure the transaction is dropped: the store is unchanged.
                t.ledger_index = Some(crate::ledger::append(ledger, &event)?);
            }
        }
        tx.commit().map_err(&err)?;
        Ok(transitions)
    }
}

/// JSON text of a small list (these types always serialise).
fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn row_ticket(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ticket> {
    let list = |i: &str| -> rusqlite::Result<Vec<String>> {
        let text: String = r.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    };
    let time = |i: &str| -> rusqlite::Result<Option<jiff::Timestamp>> {
        let text: Option<String> = r.get(i)?;
        Ok(text.and_then(|t| t.parse().ok()))
    };
    let urgency: String = r.get("urgency")?;
    let state: String = r.get("state")?;
    Ok(Ticket {
        id: r.get("id")?,
        advisory: r.get("advisory")?,
        aliases: list("aliases")?,
        package: r.get("package")?,
        version: r.get("version")?,
        location: r.get("location")?,
        urgency: serde_json::from_value(serde_json::Value::String(urgency)).unwrap_or_default(),
        summary: r.get("summary")?,
        owners: list("owners")?,
        first_seen: time("first_seen")?,
        due: time("due")?,
        state: TicketState::parse(&state).unwrap_or(TicketState::Open),
        silenced_by: r.get("silenced_by")?,
        fixed: list("fixed")?,
        opened_at: time("opened_at")?.unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        changed_at: time("changed_at")?.unwrap_or(jiff::Timestamp::UNIX_EPOCH),
    })
}
