//! `ward advisories import|status`.

use super::{data_dir, or_usage};
use crate::args::{AdvisoriesCommand, DbDir};
use crate::output;
use std::path::PathBuf;
use ward_scan::AdvisoryDb;

pub(super) fn db_dir(db: &DbDir) -> PathBuf {
    db.db.clone().unwrap_or_else(|| data_dir().join("advisories"))
}

/// Days since the newest advisory was modified, if known.
pub(super) fn age_days(db: &AdvisoryDb) -> Option<i64> {
    let newest: jiff::Timestamp = db.newest_modified()?.parse().ok()?;
    Some(jiff::Timestamp::now().duration_since(newest).as_hours() / 24)
}

pub fn run(cmd: AdvisoriesCommand) -> u8 {
    or_usage(|| match cmd {
        AdvisoriesCommand::Import { paths, db } => {
            let dir = db_dir(&db);
            let start = std::time::Instant::now();
            let (database, report) =
                AdvisoryDb::import(&paths, &jiff::Timestamp::now().to_string()).map_err(|e| match e {
                    // Never replace a database with an empty one.
                    ward_scan::DbError::NothingImported(_) => {
                        super::Usage(format!("{e}; the database in {} was left as it was", dir.display()))
                    }
                    e => e.into(),
                })?;
            database.save(&dir)?;
            output::import_report(&report, &dir, start.elapsed());
            Ok(crate::EXIT_ALLOW)
        }
        AdvisoriesCommand::Status { max_age_days, db } => {
            let database = AdvisoryDb::load(&db_dir(&db))?;
            output::db_status(&database, age_days(&database), max_age_days);
            Ok(crate::EXIT_ALLOW)
        }
    })
}
