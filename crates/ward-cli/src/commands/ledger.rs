//! `ward ledger`: show, prove, verify, search, checkpoint.

use super::{Usage, open_ledger, open_ledger_for_reading, or_usage};
use crate::args::{LedgerCommand, SearchVerdict};
use crate::output;
use ward_core::PackageId;
use ward_ledger::event::{EventKind, LedgerRecord, read_entry};
use ward_ledger::record::open_record;

/// How many decisions a bare `ward ledger search` lists.
const RECENT_DECISIONS: u64 = 20;

pub(super) fn run(cmd: LedgerCommand) -> u8 {
    or_usage(|| match cmd {
        LedgerCommand::Show { entry, dir } => {
            let mut ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            let bytes = ledger.entry(entry)?;
            let statement = open_record(&bytes, &ledger.verifier())?;
            output::json_value(&statement);
            Ok(crate::EXIT_ALLOW)
        }
        LedgerCommand::Prove { entry, dir } => {
            let mut ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            let size = ledger.size();
            let proof = ledger.inclusion_proof(entry, size)?;
            output::tlog_proof(entry, &proof, ledger.checkpoint());
            Ok(crate::EXIT_ALLOW)
        }
        LedgerCommand::Verify { dir } => {
            let mut ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            match ledger.verify_all() {
                Ok(report) => {
                    output::ledger_verified(report.entries, &report.root);
                    Ok(crate::EXIT_ALLOW)
                }
                Err(e) => {
                    output::error(&format!("ledger verification FAILED: {e}"));
                    Ok(crate::EXIT_DENY)
                }
            }
        }
        LedgerCommand::Search {
            digest,
            purl,
            verdict,
            since,
            limit,
            events,
            kind,
            dir,
        } => {
            let kind = kind.as_deref().map(EventKind::parse);
            let events = events || kind.is_some();
            let since = since.as_deref().map(parse_since).transpose()?;
            let mut ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            let want_purl = purl
                .as_deref()
                .map(str::parse::<PackageId>)
                .transpose()
                .map_err(|e| Usage(e.to_string()))?;
            let digest = digest.map(|d| d.to_ascii_lowercase());
            // A bare search lists the latest decisions; a search for an
            // artifact or package lists all of its decisions unless limited.
            let limit = match (limit, &digest, &want_purl, since) {
                (Some(n), _, _, _) => n,
                (None, None, None, None) => RECENT_DECISIONS,
                (None, _, _, _) => u64::MAX,
            };
            let want_allowed = verdict.map(|v| matches!(v, SearchVerdict::Allow));
            // Newest first, stopping once `limit` decisions are found.
            let mut hits = Vec::new();
            for i in (0..ledger.size()).rev() {
                if hits.len() as u64 >= limit {
                    break;
                }
                // Entries are told apart by type: decisions, or events
                // (listed only with --events); others are skipped.
                let record = match read_entry(&ledger.entry(i)?, &ledger.verifier())? {
                    LedgerRecord::Decision(r) if !events => Hit::Decision(r),
                    LedgerRecord::Event(e) if events && kind.as_ref().is_none_or(|k| *k == e.predicate.kind) => {
                        Hit::Event(e)
                    }
                    _ => continue,
                };
                let time = record.time();
                if let Some(since) = since {
                    // Entries are appended in time order, give or take the
                    // appenders that raced for one batch: once well past
                    // `since`, nothing older follows.
                    if time < since - jiff::SignedDuration::from_mins(10) {
                        break;
                    }
                    if time < since {
                        continue;
                    }
                }
                let matches = match (&digest, &want_purl) {
                    (Some(d), _) => record.sha256() == Some(d.as_str()),
                    (None, Some(p)) => record.name().is_some_and(|n| {
                        n == purl.as_deref().unwrap_or_default()
                            || n.parse::<PackageId>().ok().is_some_and(|s| {
                                s.ecosystem == p.ecosystem
                                    && s.normalized_name() == p.normalized_name()
                                    && (p.version.is_none() || s.version == p.version)
                            })
                    }),
                    (None, None) => true,
                } && want_allowed.is_none_or(|allowed| record.allowed() == Some(allowed));
                if matches {
                    hits.push((i, record));
                }
            }
            hits.reverse();
            if events {
                let hits: Vec<_> = hits
                    .into_iter()
                    .filter_map(|(i, h)| match h {
                        Hit::Event(e) => Some((i, *e)),
                        Hit::Decision(_) => None,
                    })
                    .collect();
                output::event_hits(&hits);
                return Ok(if hits.is_empty() {
                    crate::EXIT_DENY
                } else {
                    crate::EXIT_ALLOW
                });
            }
            let hits: Vec<_> = hits
                .into_iter()
                .filter_map(|(i, h)| match h {
                    Hit::Decision(r) => Some((i, *r)),
                    Hit::Event(_) => None,
                })
                .collect();
            output::search_hits(&hits);
            Ok(if hits.is_empty() {
                crate::EXIT_DENY
            } else {
                crate::EXIT_ALLOW
            })
        }
        LedgerCommand::Export { out, dir } => {
            let mut ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            let files = ledger.export(&out)?;
            output::exported(&out, files, ledger.size());
            Ok(crate::EXIT_ALLOW)
        }
        LedgerCommand::Serve {
            listen,
            token_file,
            dir,
        } => {
            let ledger = open_ledger(dir.ledger.as_deref())?;
            let tokens = match token_file {
                Some(path) => super::ledger_serve::read_tokens(&path)?,
                None => Vec::new(),
            };
            super::ledger_serve::serve(ledger, &listen, tokens)?;
            Ok(crate::EXIT_ALLOW)
        }
        LedgerCommand::Monitor {
            source,
            key,
            state,
            witness,
            witness_quorum,
            ca_cert,
        } => Ok(super::ledger_monitor::run(
            &source,
            &key,
            state,
            &witness,
            witness_quorum,
            &ca_cert,
        )),
        LedgerCommand::Checkpoint { dir } => {
            let ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            output::checkpoint(ledger.checkpoint(), &ledger.verifier().to_vkey());
            Ok(crate::EXIT_ALLOW)
        }
    })
}

/// One search hit: a decision, or an event (with `--events`).
enum Hit {
    Decision(Box<ward_ledger::record::DecisionRecord>),
    Event(Box<ward_ledger::event::EventRecord>),
}

impl Hit {
    fn time(&self) -> jiff::Timestamp {
        match self {
            Hit::Decision(r) => r.predicate.time_verified,
            Hit::Event(e) => e.predicate.time,
        }
    }

    /// The decision's purl, or the event's subject.
    fn name(&self) -> Option<&str> {
        match self {
            Hit::Decision(r) => r.purl(),
            Hit::Event(e) => e.subject_name(),
        }
    }

    fn sha256(&self) -> Option<&str> {
        match self {
            Hit::Decision(r) => r.sha256(),
            Hit::Event(e) => e
                .subject
                .first()
                .and_then(|s| s.digest.get("sha256"))
                .map(String::as_str),
        }
    }

    fn allowed(&self) -> Option<bool> {
        match self {
            Hit::Decision(r) => Some(r.allowed()),
            Hit::Event(_) => None,
        }
    }
}

/// `--since TIME`: an RFC 3339 time, a date (midnight UTC), or an age
/// (`30m`, `24h`, `7d`) before now.
fn parse_since(text: &str) -> Result<jiff::Timestamp, Usage> {
    let text = text.trim();
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = text.parse::<jiff::civil::Date>()
        && let Ok(t) = d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp())
    {
        return Ok(t);
    }
    let unit = text.chars().last().unwrap_or(' ');
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => 0,
    };
    if seconds > 0
        && let Ok(n) = text[..text.len() - 1].parse::<i64>()
        && n >= 0
        && let Some(total) = n.checked_mul(seconds)
        && let Ok(t) = crate::clock::now()?.checked_sub(jiff::SignedDuration::from_secs(total))
    {
        return Ok(t);
    }
    Err(Usage(format!(
        "--since {text:?}: expected an RFC 3339 time (2026-12-02T10:00:00Z), a date (2026-12-02) or an age (30m, 24h, 7d)"
    )))
}
