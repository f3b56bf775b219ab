//! `ward advisories import|status` (`update` is in `advisories_update`),
//! and the freshness check every command that scans makes.

use super::advisories_config as config;
use super::{Usage, data_dir, or_usage};
use crate::args::{AdvisoriesCommand, AdvisoryAgeArgs, DbDir, Format};
use crate::output;
use std::path::PathBuf;
use ward_scan::AdvisoryDb;
use ward_scan::db::{Change, SourceOptions};

pub(super) fn db_dir(db: &DbDir) -> PathBuf {
    db.db.clone().unwrap_or_else(|| data_dir().join("advisories"))
}

/// Days from when the stalest source was last known current to `now`;
/// `None` when some source has no date at all.
pub(super) fn age_days(db: &AdvisoryDb, now: jiff::Timestamp) -> Option<i64> {
    Some(db.age_at(now)?.as_secs() / 86_400)
}

/// The `--max-age-days` of `ward scan` and `ward advisories status`: the
/// flag, else the configuration's `max_age` (in whole days, rounded up).
pub(super) fn max_age_days(flag: Option<u32>) -> Result<u32, Usage> {
    match flag {
        Some(d) => Ok(d),
        None => {
            let secs = config::max_age(None)?.as_secs();
            Ok(u32::try_from(secs.div_euclid(86_400) + i64::from(secs.rem_euclid(86_400) > 0)).unwrap_or(u32::MAX))
        }
    }
}

/// For `ward verify` and the proxy: warns (stderr) about each source
/// older than the maximum age, and returns the age past which the gate
/// must deny (`advisories-stale`), if one is set.
pub(super) fn freshness(
    db: &AdvisoryDb,
    args: &AdvisoryAgeArgs,
    now: jiff::Timestamp,
) -> Result<Option<jiff::SignedDuration>, Usage> {
    output::advisories::stale(db, now, config::max_age(args.max_advisory_age.as_deref())?);
    config::deny_after(args.deny_advisories_older_than.as_deref())
}

/// The schema of `ward advisories status --format json`.
const STATUS_SCHEMA: &str = "https://ward.invalid/schemas/advisories-status/v1";

/// `ward advisories status --format json`: the database, each source with
/// its counts, dates, age and whether it is stale, and each ecosystem.
fn status_json(
    db: &AdvisoryDb,
    dir: &std::path::Path,
    now: jiff::Timestamp,
    max_age: jiff::SignedDuration,
) -> serde_json::Value {
    use serde_json::json;
    let stale: Vec<&str> = db
        .stale_sources(now, max_age)
        .iter()
        .map(|(s, _)| s.name.as_str())
        .collect();
    let sources: Vec<serde_json::Value> = db
        .sources()
        .iter()
        .map(|s| {
            let r = &s.report;
            json!({
                "name": s.name,
                "origin": s.origin,
                "digest": s.digest,
                "ecosystem": s.ecosystem,
                "advisories": s.advisories,
                "malicious": s.malicious,
                "imported_at": s.imported_at,
                "checked_at": s.checked_at,
                "newest_modified": s.newest_modified,
                "as_of": s.as_of().map(|t| t.to_string()),
                "age_days": s.age_at(now).map(|a| a.as_secs() / 86_400),
                "stale": stale.contains(&s.name.as_str()),
                "etag": s.etag,
                "last_modified": s.last_modified,
                "import": {
                    "records": r.records,
                    "merged": r.merged,
                    "withdrawn": r.withdrawn,
                    "unsupported": r.unsupported,
                    "malformed": r.malformed.len(),
                },
            })
        })
        .collect();
    json!({
        "schema": STATUS_SCHEMA,
        "database": dir.display().to_string(),
        "built_at": db.built_at().to_string(),
        "advisories": db.len(),
        "malicious": db.report().malicious,
        "max_age_days": max_age.as_secs() / 86_400,
        "age_days": age_days(db, now),
        "sources": sources,
        "ecosystems": db.stats(),
    })
}

/// Why an import was refused, saying the database was left as it was.
fn refused(e: ward_scan::DbError, dir: &std::path::Path) -> Usage {
    let hint = match e {
        ward_scan::DbError::Corrupt(..) => " (import with --replace to start it again)",
        _ => "",
    };
    Usage(format!(
        "{e}; the database in {} was left as it was{hint}",
        dir.display()
    ))
}

pub(crate) fn run(cmd: AdvisoriesCommand) -> u8 {
    or_usage(|| match cmd {
        AdvisoriesCommand::Import {
            paths,
            source,
            ecosystem,
            replace,
            db,
        } => {
            let dir = db_dir(&db);
            let start = std::time::Instant::now();
            let now = crate::clock::now()?.to_string();
            let options = SourceOptions {
                name: source.clone(),
                ecosystem,
                ..SourceOptions::default()
            };
            // With --source every path is one source; else each path is its own.
            let groups: Vec<Vec<PathBuf>> = if source.is_some() {
                vec![paths]
            } else {
                paths.into_iter().map(|p| vec![p]).collect()
            };
            let mut changes = Vec::new();
            let mut names: Vec<(String, String)> = Vec::new();
            for group in groups {
                let imported = ward_scan::db::read_source(&group, &options, &now).map_err(|e| refused(e, &dir))?;
                let origin = imported.info.origin.clone();
                if let Some((_, other)) = names.iter().find(|(n, _)| *n == imported.info.name) {
                    return Err(Usage(format!(
                        "{other} and {origin} would both be source {}: import them together with --source {0}, or name each with its own import; the database in {} was left as it was",
                        imported.info.name,
                        dir.display()
                    )));
                }
                names.push((imported.info.name.clone(), origin));
                changes.push(Change::Put(Box::new(imported)));
            }
            let database = ward_scan::db::commit(&dir, changes, replace, &now).map_err(|e| refused(e, &dir))?;
            let names: Vec<String> = names.into_iter().map(|(n, _)| n).collect();
            output::advisories::imported(&database, &names, &dir, start.elapsed());
            Ok(crate::EXIT_ALLOW)
        }
        AdvisoriesCommand::Status {
            max_age_days: days,
            format,
            db,
        } => {
            let dir = db_dir(&db);
            let database = AdvisoryDb::load(&dir)?;
            let max = jiff::SignedDuration::from_hours(i64::from(max_age_days(days)?) * 24);
            let now = crate::clock::now()?;
            match format {
                Format::Text => output::advisories::status(&database, now, max),
                Format::Json => {
                    output::json_value(&status_json(&database, &dir, now, max));
                    output::advisories::stale(&database, now, max);
                }
            }
            Ok(crate::EXIT_ALLOW)
        }
        AdvisoriesCommand::Update(args) => super::advisories_update::run(&args),
    })
}
