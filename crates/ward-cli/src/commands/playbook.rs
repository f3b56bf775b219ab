//! `ward playbook run FILE.toml`: a recovery rehearsal (the steps are
//! `ward_recover::playbook`), its report appended to the ledger as a signed
//! `playbook-report` event.

use super::{Usage, open_ledger, or_usage};
use crate::args::Format;
use crate::output;
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;
use ward_core::{Reason, ReasonCode};
use ward_ledger::event::{EventKind, EventRecord};

#[derive(Debug, Subcommand)]
pub(crate) enum PlaybookCommand {
    /// Run a playbook: snapshot, the change, audit, alert, rollback, audit; each step timed, the report signed into the ledger.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The playbook (TOML; see docs/monitoring.md).
    pub file: PathBuf,
    /// The working directory: commands run there, the environment is relative to it (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// A variable for the playbook's commands, NAME=VALUE (repeatable; overrides the playbook's [vars]).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// The ledger the report is appended to (default: ledger/ in ward's data directory).
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub(crate) fn run(cmd: PlaybookCommand) -> u8 {
    or_usage(|| match cmd {
        PlaybookCommand::Run(args) => run_playbook(&args),
    })
}

fn run_playbook(args: &RunArgs) -> Result<u8, Usage> {
    let (playbook, sha256) = ward_recover::playbook::load(&args.file).map_err(super::snapshot::recover_usage)?;
    let mut vars = BTreeMap::new();
    for v in &args.vars {
        let (k, val) = v
            .split_once('=')
            .ok_or_else(|| Usage(format!("--var {v:?}: expected NAME=VALUE")))?;
        vars.insert(k.to_string(), val.to_string());
    }
    let cwd = std::env::current_dir().map_err(|e| Usage(format!("the current directory: {e}")))?;
    let workdir = args.workdir.clone().unwrap_or_else(|| cwd.clone());
    let playbook_dir = args.file.parent().map(|p| cwd.join(p)).unwrap_or(cwd.clone());
    let setting = ward_recover::playbook::Setting {
        ward: std::env::current_exe().map_err(|e| Usage(format!("cannot find the ward binary: {e}")))?,
        workdir: std::path::absolute(&workdir).unwrap_or(workdir),
        playbook_dir,
        vars,
        started: crate::clock::now()?,
    };
    let report = ward_recover::playbook::run(&playbook, &sha256, &setting).map_err(super::snapshot::recover_usage)?;
    // The steps have ended (none holds the ledger now): record the report.
    let mut ledger = open_ledger(args.ledger.as_deref())?;
    let summary = match report.failed_step() {
        None => format!("playbook {} passed ({} steps)", report.playbook, report.steps.len()),
        Some(s) => format!("playbook {} failed at step {}", report.playbook, s.step),
    };
    let entry = EventRecord::new(
        EventKind::PlaybookReport,
        &format!("playbook:{}", report.playbook),
        setting.started,
        env!("CARGO_PKG_VERSION"),
    )
    .with_digest("sha256", &sha256)
    .with_code(if report.passed { "passed" } else { "failed" })
    .with_summary(&summary)
    .with_detail(&report)
    .and_then(|e| e.sign(ledger.signer()))
    .map_err(|e| Usage(e.to_string()))?;
    let index = ledger.append(&[entry])?.first_index;
    output::recover::playbook_report(&report, index, args.format);
    if report.passed {
        Ok(crate::EXIT_ALLOW)
    } else {
        let step = report
            .failed_step()
            .map(|s| s.step.clone())
            .unwrap_or_else(|| "(none)".into());
        output::reason(&Reason::new(
            ReasonCode::PlaybookFailed,
            format!(
                "playbook {} failed at step {step} (report: ledger entry {index})",
                report.playbook
            ),
        ));
        Ok(crate::EXIT_DENY)
    }
}
