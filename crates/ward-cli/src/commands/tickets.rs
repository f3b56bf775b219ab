//! `ward tickets sync|status|export`: remediation tickets, one per finding
//! ([`ward_alert::tickets`]). `sync` scans lockfiles and SBOMs through the
//! gate (and audits environments through `ward_audit`), and hands the
//! findings to the ticket store, which records every transition in the
//! ledger; `status` shows what is open and overdue and who owns it;
//! `export` writes or pushes GitHub or Jira payloads.

use super::advisories::db_dir;
use super::{Usage, data_dir, or_usage};
use crate::args::{DbDir, LedgerDir, TrustArgs};
use crate::output;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ward_alert::config::Config;
use ward_alert::http::HttpClient;
use ward_alert::tickets::export::{Tracker, create_payload, push};
use ward_alert::tickets::owners::Owners;
use ward_alert::tickets::store::TicketStore;
use ward_alert::tickets::{TicketFinding, TicketState};
use ward_policy::Policy;
use ward_scan::{AdvisoryDb, FirstSeenStore};

/// `ward tickets` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TicketsCommand {
    /// Open, update, resolve and reopen tickets from what the targets hold now.
    Sync(Box<TicketsSyncArgs>),
    /// The tickets that are not resolved, overdue first, with their owners.
    Status {
        /// Every ticket, resolved ones too.
        #[arg(long)]
        all: bool,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write the tickets as the REST payloads a tracker accepts, or push them.
    Export {
        /// The tracker.
        #[arg(long, value_enum)]
        to: TrackerKind,
        /// For Jira: the project key issues are created in.
        #[arg(long, value_name = "KEY", required_if_eq("to", "jira"))]
        project: Option<String>,
        /// Send them: GitHub `https://api.github.com/repos/OWNER/REPO/issues`, Jira
        /// `https://HOST/rest/api/2/issue`. Issues already pushed there are updated, never duplicated.
        #[arg(long, value_name = "URL")]
        push: Option<String>,
        /// The environment variable holding the tracker's bearer token.
        #[arg(long, value_name = "VAR", default_value = "WARD_TICKETS_TOKEN")]
        token_env: String,
        /// Resolved tickets too (a push closes their issues).
        #[arg(long)]
        all: bool,
    },
}

/// The trackers `export` writes for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum TrackerKind {
    /// GitHub issues (`POST /repos/{owner}/{repo}/issues`).
    Github,
    /// Jira (`POST /rest/api/2/issue`).
    Jira,
}

/// `ward tickets sync` arguments.
#[derive(Debug, Args)]
pub(crate) struct TicketsSyncArgs {
    /// Lockfiles and SBOMs to scan, and environments to audit (as `ward scan` and `ward audit` read them).
    #[arg(required = true)]
    pub targets: Vec<PathBuf>,
    /// A file with an `[owners]` table (docs/monitoring.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A CODEOWNERS file (default: .github/CODEOWNERS, CODEOWNERS or docs/CODEOWNERS under --root).
    #[arg(long, value_name = "FILE")]
    pub codeowners: Option<PathBuf>,
    /// The repository root CODEOWNERS paths are relative to (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// A policy file: exceptions and VEX silence findings; [remediation] sets the due dates.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Do not record transitions in the ledger.
    #[arg(long)]
    pub no_ledger: bool,
    #[command(flatten)]
    pub ledger: LedgerDir,
    #[command(flatten)]
    pub db: DbDir,
    #[command(flatten)]
    pub trust: TrustArgs,
}

fn audit_findings(report: &ward_audit::AuditReport) -> Vec<TicketFinding> {
    report
        .findings
        .iter()
        .filter(|f| f.kind != ward_audit::AlertKind::Unreadable)
        .map(|f| {
            let (advisory, aliases, urgency, summary) = match &f.advisory {
                Some(a) => (a.id.clone(), a.aliases.clone(), a.severity.into(), a.summary.clone()),
                None => (
                    f.kind.code().to_string(),
                    Vec::new(),
                    ward_alert::Urgency::High,
                    f.detail.clone(),
                ),
            };
            let mut t = TicketFinding::from_parts(
                &advisory,
                &aliases,
                &f.package.to_purl(),
                &f.location.display().to_string(),
            );
            t.urgency = if f.kind == ward_audit::AlertKind::NewlyMalicious {
                ward_alert::Urgency::Critical
            } else {
                urgency
            };
            t.summary = summary;
            t.due = f.due;
            t
        })
        .collect()
}

fn sync(args: &TicketsSyncArgs) -> Result<u8, Usage> {
    let now = crate::clock::now()?;
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let root = match &args.root {
        Some(r) => r.clone(),
        None => std::env::current_dir().map_err(|e| Usage(e.to_string()))?,
    };
    let mut owners = Owners::from_table(config.owners.clone());
    if let Some(file) = args.codeowners.clone().or_else(|| Owners::find_codeowners(&root)) {
        owners = owners.with_codeowners(&file, &root)?;
    }
    let policy = match &args.policy {
        Some(path) => Some(Policy::load(path).map_err(super::policy_invalid)?),
        None => None,
    };
    let db = Arc::new(AdvisoryDb::load(&db_dir(&args.db))?);
    let (scan, audit): (Vec<PathBuf>, Vec<PathBuf>) = args.targets.iter().cloned().partition(|p| p.is_file());
    let mut findings = Vec::new();
    if !scan.is_empty() {
        let gate = ward_gate::Gate::new(super::trust_root(&args.trust)?)
            .with_policy(policy.clone().unwrap_or_else(Policy::builtin))
            .with_advisories(Arc::clone(&db), None)
            .with_first_seen(FirstSeenStore::open(&data_dir())?);
        let outcome = gate.scan_targets(&scan, &ward_gate::Evidence::default(), now)?;
        findings.extend(outcome.report.findings.iter().map(TicketFinding::from_triaged));
    }
    let mut unread = Vec::new();
    if !audit.is_empty() {
        let allows = match &args.ledger.ledger {
            None if !super::ledger_location(None).exists() => ward_audit::Allows::empty(),
            location => {
                let mut ledger = super::open_ledger_for_reading(location.as_deref())?;
                ward_audit::Allows::from_ledger(ledger.as_mut()).map_err(|e| Usage(format!("ledger: {e}")))?
            }
        };
        let first_seen = Mutex::new(FirstSeenStore::open(&data_dir())?);
        let mut ctx = ward_audit::AuditContext::new(&allows, now)
            .with_advisories(&db)
            .with_first_seen(&first_seen);
        if let Some(p) = &policy {
            ctx = ctx.with_policy(p);
        }
        let report = ward_audit::audit(&audit, &ctx)?;
        unread.extend(
            report
                .of_kind(ward_audit::AlertKind::Unreadable)
                .map(|f| f.location.display().to_string()),
        );
        findings.extend(audit_findings(&report));
        first_seen
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .save()?;
    }
    // Tickets of the targets read this time may resolve; others stay as they are.
    let read: Vec<String> = args.targets.iter().map(|p| p.display().to_string()).collect();
    // By path components: `/opt/venv` covers `/opt/venv/x`, not `/opt/venv2`.
    let covered = |location: &str| {
        let location = std::path::Path::new(location);
        read.iter().any(|r| location.starts_with(r)) && !unread.iter().any(|u| location.starts_with(u.as_str()))
    };
    let ledger = if args.no_ledger {
        None
    } else {
        Some(ward_ledger::SharedLedger::new(super::open_ledger(
            args.ledger.ledger.as_deref(),
        )?))
    };
    let mut store = TicketStore::open(&data_dir())?;
    let transitions = store.sync(
        &findings,
        &covered,
        &owners,
        now,
        ledger.as_ref(),
        env!("CARGO_PKG_VERSION"),
    )?;
    output::monitor::transitions(&transitions);
    let open = store.all()?.iter().filter(|t| t.state != TicketState::Resolved).count();
    Ok(if open > 0 { crate::EXIT_DENY } else { crate::EXIT_ALLOW })
}

pub(super) fn run(cmd: TicketsCommand) -> u8 {
    or_usage(|| match cmd {
        TicketsCommand::Sync(args) => sync(&args),
        TicketsCommand::Status { all, json } => {
            let store = TicketStore::open(&data_dir())?;
            let now = crate::clock::now()?;
            let mut tickets: Vec<_> = store
                .all()?
                .into_iter()
                .filter(|t| all || t.state != TicketState::Resolved)
                .collect();
            // Overdue first, then by due date.
            tickets.sort_by_key(|t| {
                (
                    t.state != TicketState::Overdue,
                    t.due.unwrap_or(jiff::Timestamp::MAX),
                    t.id,
                )
            });
            output::monitor::ticket_status(&tickets, now, json);
            let overdue = tickets.iter().any(|t| t.state == TicketState::Overdue);
            Ok(if overdue { crate::EXIT_DENY } else { crate::EXIT_ALLOW })
        }
        TicketsCommand::Export {
            to,
            project,
            push: url,
            token_env,
            all,
        } => {
            let tracker = match to {
                TrackerKind::Github => Tracker::GitHub,
                TrackerKind::Jira => Tracker::Jira {
                    project: project.unwrap_or_default(),
                },
            };
            let store = TicketStore::open(&data_dir())?;
            let tickets: Vec<_> = store
                .all()?
                .into_iter()
                .filter(|t| all || url.is_some() || t.state != TicketState::Resolved)
                .collect();
            match url {
                None => {
                    let payloads: Vec<_> = tickets.iter().map(|t| create_payload(t, &tracker)).collect();
                    output::json_value(&serde_json::Value::Array(payloads));
                    Ok(crate::EXIT_ALLOW)
                }
                Some(url) => {
                    let token = std::env::var(&token_env).ok();
                    let egress = ward_registry::egress::Egress::from_env()?;
                    let proxy = if url.starts_with("https://") {
                        egress.https
                    } else {
                        egress.http
                    };
                    let client = HttpClient::new(Duration::from_secs(30), proxy, None);
                    let pushed = push(&store, &tickets, &tracker, &url, token.as_deref(), &client)?;
                    output::monitor::pushed(&pushed);
                    let failed = pushed
                        .iter()
                        .any(|p| matches!(p, ward_alert::tickets::export::Pushed::Failed(..)));
                    Ok(if failed { crate::EXIT_ERROR } else { crate::EXIT_ALLOW })
                }
            }
        }
    })
}
