//! `ward audit PATH…`: what is installed against what ward allowed. Reads
//! the ledger's allows (read-only, beside a running proxy), the advisory
//! database and the policy when there are, the proxy cache for the allowed
//! bytes, runs [`ward_audit::audit`] and renders the report. Exit 0 clean,
//! 1 on any alert, 2 when something could not be read.

use super::advisories::db_dir;
use super::{Usage, data_dir, or_usage};
use crate::args::AuditArgs;
use crate::output;
use std::sync::Mutex;
use ward_audit::{Allows, AuditContext};
use ward_policy::Policy;
use ward_scan::{AdvisoryDb, FirstSeenStore};

/// The ledger's allows: `--ledger`, else the data directory's ledger when
/// there is one (else none: every package is unvetted).
fn allows(args: &AuditArgs) -> Result<Allows, Usage> {
    let location = super::ledger_location(args.ledger.as_deref());
    if !location.exists() {
        if args.ledger.is_none() {
            return Ok(Allows::empty());
        }
        return Err(Usage(format!("ledger {location}: no ledger there")));
    }
    let mut ledger =
        ward_ledger::open_for_reading(&location, &super::ledger_options()).map_err(super::ledger_unusable)?;
    Allows::from_ledger(ledger.as_mut()).map_err(|e| Usage(format!("ledger: {e}")))
}

pub(super) fn run(args: AuditArgs) -> u8 {
    or_usage(|| {
        let now = crate::clock::now()?;
        let allows = allows(&args)?;
        let db_path = db_dir(&args.db);
        let db = if args.db.db.is_some() || db_path.join(ward_scan::db::DB_FILE).is_file() {
            Some(AdvisoryDb::load(&db_path)?)
        } else {
            None
        };
        let policy = match &args.policy {
            Some(path) => Some(Policy::load(path).map_err(super::policy_invalid)?),
            None => None,
        };
        let first_seen = match &db {
            Some(_) => Some(Mutex::new(FirstSeenStore::open(&data_dir())?)),
            None => None,
        };
        let cache = args.cache.clone().unwrap_or_else(|| data_dir().join("proxy-cache"));
        let bar = output::audit::Bar::new();
        let mut ctx = AuditContext::new(&allows, now).with_progress(&bar);
        if cache.is_dir() {
            ctx = ctx.with_cache(cache);
        } else if args.cache.is_some() {
            return Err(Usage(format!("cache {}: not a directory", cache.display())));
        }
        if let Some(db) = &db {
            ctx = ctx.with_advisories(db);
        }
        if let Some(p) = &policy {
            ctx = ctx.with_policy(p);
        }
        if let Some(store) = &first_seen {
            ctx = ctx.with_first_seen(store);
        }
        if let Some(n) = args.threads {
            let mut limits = ctx.limits.clone();
            limits.threads = n.max(1);
            ctx = ctx.with_limits(limits);
        }
        let report = ward_audit::audit(&args.paths, &ctx);
        bar.done();
        let report = report?;
        if let Some(store) = first_seen {
            store
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .save()?;
        }
        output::audit_report(&report, args.format);
        Ok(if report.incomplete() {
            crate::EXIT_ERROR
        } else if report.is_clean() {
            crate::EXIT_ALLOW
        } else {
            crate::EXIT_DENY
        })
    })
}
