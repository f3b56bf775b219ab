//! `ward watch PATH…`: re-audits installed environments (and re-scans
//! lockfiles) on an interval, when files under them change and when the
//! advisory database is re-imported; each new finding is alerted once, its
//! going away is a resolution, both recorded in the ledger as events and
//! delivered to the sinks of the `[watch]` configuration
//! ([`ward_alert::Monitor`]). This module reads the arguments, runs the
//! audit or scan of each round, and renders what happened.

use super::advisories::db_dir;
use super::{Usage, data_dir, or_usage};
use crate::args::{DbDir, LedgerDir, TrustArgs};
use crate::output;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ward_alert::config::Config;
use ward_alert::http::HttpClient;
use ward_alert::sink::Sink;
use ward_alert::sink::webhook::{Webhook, WebhookConfig};
use ward_alert::watch::{Trigger, Triggers, parse_interval};
use ward_alert::{Alert, AlertState, Monitor, Urgency};
use ward_policy::Policy;
use ward_scan::{AdvisoryDb, FirstSeenStore};

/// `ward watch` arguments.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// Environments to audit (virtual environments, site directories, node_modules, vendor/,
    /// cargo homes) and lockfiles or SBOMs to scan (Cargo.lock, package-lock.json, requirements.txt…).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// How often to re-audit besides changes (`30s`, `10m`, `1h`; default: the `[watch]`
    /// configuration's, else 10m).
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// A file with `[watch]` (sinks, interval) and `[owners]` tables (docs/monitoring.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A policy file: exceptions, VEX and [[allow]] silence advisories; [remediation] sets deadlines.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Where the open alerts and the webhook spool are kept (default: watch/ in ward's data directory).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// The proxy cache holding the allowed artifacts. Default: proxy-cache/ in ward's data directory.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Run one round, wait (up to the webhook timeout) for the sinks, and exit: 0 when no
    /// alert is open, 1 when one is, 2 when something could not be read.
    #[arg(long)]
    pub once: bool,
    /// Do not record alerts in the ledger.
    #[arg(long)]
    pub no_ledger: bool,
    #[command(flatten)]
    pub ledger: LedgerDir,
    #[command(flatten)]
    pub db: DbDir,
    #[command(flatten)]
    pub trust: TrustArgs,
}

/// A lockfile or SBOM (scanned), as opposed to an environment (audited).
fn is_scan_target(path: &Path) -> bool {
    path.is_file()
}

/// The sinks the configuration names.
fn sinks(config: &Config, state_dir: &Path) -> Result<Vec<Box<dyn Sink>>, Usage> {
    let mut out: Vec<Box<dyn Sink>> = Vec::new();
    let egress = ward_registry::egress::Egress::from_env()?;
    for (i, w) in config.watch.webhook.iter().enumerate() {
        let mut c = WebhookConfig::new(&w.url, state_dir.join(format!("spool-{i}")));
        c.token = match &w.token_env {
            Some(var) => Some(std::env::var(var).map_err(|e| Usage(format!("webhook token: ${var}: {e}")))?),
            None => None,
        };
        if let Some(max) = w.spool_max {
            c.spool_max = max;
        }
        if let Some(b) = &w.backoff_max {
            c.backoff_max = parse_interval(b)?;
        }
        let proxy = if w.url.starts_with("https://") {
            egress.https.clone()
        } else {
            egress.http.clone()
        };
        let client = HttpClient::new(w.timeout(), proxy, None);
        out.push(Box::new(Webhook::start(c, client)?));
    }
    for f in &config.watch.file {
        out.push(Box::new(ward_alert::sink::jsonl::JsonLines::new(f.path.clone())));
    }
    if let Some(s) = &config.watch.syslog {
        let facility = ward_alert::sink::syslog::facility(s.facility.as_deref().unwrap_or("daemon"))?;
        out.push(Box::new(ward_alert::sink::syslog::Syslog::connect(
            s.socket.clone(),
            facility,
        )?));
    }
    Ok(out)
}

/// What one round found, and which alerts it could have seen.
struct Found {
    alerts: Vec<Alert>,
    /// Locations that could not be read: their alerts stay open.
    unread: Vec<String>,
    /// A path whose audit or scan failed entirely.
    failed: Vec<(PathBuf, String)>,
}

fn audit_alerts(report: &ward_audit::AuditReport) -> (Vec<Alert>, Vec<String>) {
    let mut unread = Vec::new();
    let alerts = report
        .findings
        .iter()
        .filter_map(|f| {
            let location = f.location.display().to_string();
            if f.kind == ward_audit::AlertKind::Unreadable {
                unread.push(location.clone());
            }
            let id = match (&f.advisory, &f.file) {
                (Some(a), _) => a.id.clone(),
                (None, Some(file)) => file.clone(),
                (None, None) => String::new(),
            };
            let urgency = match (f.kind, &f.advisory) {
                (ward_audit::AlertKind::NewlyMalicious, _) => Urgency::Critical,
                (_, Some(a)) => a.severity.into(),
                _ => Urgency::High,
            };
            let detail = serde_json::to_value(f).ok()?;
            Some(
                Alert::new(f.kind.code(), &f.package.to_purl(), &location, &id, &f.detail)
                    .with_urgency(urgency)
                    .with_detail(detail),
            )
        })
        .collect();
    (alerts, unread)
}

fn scan_alerts(report: &ward_core::TriagedReport) -> Vec<Alert> {
    report
        .findings
        .iter()
        .filter(|f| f.status.silenced.is_none())
        .map(|f| {
            let code = if f.malicious.is_some() {
                "malicious"
            } else if f.status.overdue {
                "overdue"
            } else {
                "vulnerable"
            };
            let urgency = if f.malicious.is_some() {
                Urgency::Critical
            } else {
                f.rating.level.into()
            };
            Alert::new(code, &f.package.to_purl(), &f.source, &f.advisory, &f.summary)
                .with_urgency(urgency)
                .with_detail(serde_json::to_value(f).unwrap_or_default())
        })
        .collect()
}

struct Round<'a> {
    args: &'a WatchArgs,
    policy: Option<Policy>,
}

impl Round<'_> {
    fn run(&self, now: jiff::Timestamp) -> Result<Found, Usage> {
        let args = self.args;
        let (scan, audit): (Vec<PathBuf>, Vec<PathBuf>) = args.paths.iter().cloned().partition(|p| is_scan_target(p));
        let db_path = db_dir(&args.db);
        let db = if args.db.db.is_some() || db_path.join(ward_scan::db::DB_FILE).is_file() {
            Some(Arc::new(AdvisoryDb::load(&db_path)?))
        } else {
            None
        };
        let mut found = Found {
            alerts: Vec::new(),
            unread: Vec::new(),
            failed: Vec::new(),
        };
        if !scan.is_empty() {
            match &db {
                None => found.failed.extend(scan.iter().map(|p| {
                    (
                        p.clone(),
                        "no advisory database: run `ward advisories import` or `update`".to_string(),
                    )
                })),
                Some(db) => {
                    let gate = ward_gate::Gate::new(super::trust_root(&args.trust)?)
                        .with_policy(self.policy.clone().unwrap_or_else(Policy::builtin))
                        .with_advisories(Arc::clone(db), None)
                        .with_first_seen(FirstSeenStore::open(&data_dir())?);
                    for target in &scan {
                        match gate.scan_targets(std::slice::from_ref(target), &ward_gate::Evidence::default(), now) {
                            Ok(outcome) => found.alerts.extend(scan_alerts(&outcome.report)),
                            Err(e) => found.failed.push((target.clone(), e.to_string())),
                        }
                    }
                }
            }
        }
        if !audit.is_empty() {
            let allows = match &args.ledger.ledger {
                None if !super::ledger_location(None).exists() => ward_audit::Allows::empty(),
                location => {
                    let mut ledger = super::open_ledger_for_reading(location.as_deref())?;
                    ward_audit::Allows::from_ledger(ledger.as_mut()).map_err(|e| Usage(format!("ledger: {e}")))?
                }
            };
            let first_seen = match &db {
                Some(_) => Some(Mutex::new(FirstSeenStore::open(&data_dir())?)),
                None => None,
            };
            let mut ctx = ward_audit::AuditContext::new(&allows, now);
            let cache = args.cache.clone().unwrap_or_else(|| data_dir().join("proxy-cache"));
            if cache.is_dir() {
                ctx = ctx.with_cache(cache);
            }
            if let Some(db) = &db {
                ctx = ctx.with_advisories(db);
            }
            if let Some(p) = &self.policy {
                ctx = ctx.with_policy(p);
            }
            if let Some(store) = &first_seen {
                ctx = ctx.with_first_seen(store);
            }
            match ward_audit::audit(&audit, &ctx) {
                Ok(report) => {
                    let (alerts, unread) = audit_alerts(&report);
                    found.alerts.extend(alerts);
                    found.unread.extend(unread);
                }
                Err(e) => found.failed.extend(audit.iter().map(|p| (p.clone(), e.to_string()))),
            }
            if let Some(store) = first_seen {
                store
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .save()?;
            }
        }
        Ok(found)
    }
}

pub(super) fn run(args: WatchArgs) -> u8 {
    or_usage(|| {
        let config = match &args.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        let interval = parse_interval(
            args.interval
                .as_deref()
                .or(config.watch.interval.as_deref())
                .unwrap_or("10m"),
        )?;
        let debounce = parse_interval(config.watch.debounce.as_deref().unwrap_or("2s"))?;
        let state_dir = args.state.clone().unwrap_or_else(|| data_dir().join("watch"));
        let policy = match &args.policy {
            Some(path) => Some(Policy::load(path).map_err(super::policy_invalid)?),
            None => None,
        };
        let sinks = sinks(&config, &state_dir)?;
        let mut monitor = Monitor::new(AlertState::open(&state_dir)?, sinks, env!("CARGO_PKG_VERSION"));
        let round = Round { args: &args, policy };
        let ledger_dir = args.ledger.ledger.clone();
        let no_ledger = args.no_ledger;
        let open_ledger = move || -> Result<Option<ward_ledger::SharedLedger>, ward_alert::AlertError> {
            if no_ledger {
                return Ok(None);
            }
            super::open_ledger(ledger_dir.as_deref())
                .map(|l| Some(ward_ledger::SharedLedger::new(l)))
                .map_err(|Usage(m)| ward_alert::AlertError::Ledger(m))
        };
        let mut triggers = if args.once {
            None
        } else {
            let watched: Vec<PathBuf> = args.paths.iter().filter(|p| p.exists()).cloned().collect();
            Some(Triggers::new(&watched, Some(&db_dir(&args.db)), interval, debounce)?)
        };
        let mut trigger = Trigger::Interval;
        loop {
            let now = crate::clock::now()?;
            let found = round.run(now)?;
            let failed_paths: Vec<String> = found.failed.iter().map(|(p, _)| p.display().to_string()).collect();
            let unread = found.unread.clone();
            // An alert under a path that failed or could not be read stays open.
            let covered = move |a: &Alert| {
                !failed_paths
                    .iter()
                    .chain(&unread)
                    .any(|p| a.location.starts_with(p.as_str()))
            };
            let report = monitor.round(&found.alerts, &covered, now, &open_ledger)?;
            output::monitor::watch_round(&trigger, &found.failed, &report);
            if args.once {
                let wait = config
                    .watch
                    .webhook
                    .iter()
                    .map(|w| w.timeout())
                    .max()
                    .unwrap_or_default()
                    * 2;
                for sink in monitor.sinks() {
                    if !sink.flush(wait.max(Duration::from_secs(1))) {
                        let (waiting, why) = sink.backlog();
                        output::monitor::backlog(&sink.name(), waiting, why.as_deref());
                    }
                }
                return Ok(if !found.failed.is_empty() || !found.unread.is_empty() {
                    crate::EXIT_ERROR
                } else if report.open > 0 {
                    crate::EXIT_DENY
                } else {
                    crate::EXIT_ALLOW
                });
            }
            trigger = match triggers.as_mut() {
                Some(t) => t.wait(),
                None => Trigger::Interval,
            };
        }
    })
}
