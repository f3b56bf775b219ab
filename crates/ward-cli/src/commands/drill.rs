//! `ward drill run|report|list`: replays real supply-chain incidents
//! against a policy with the real package manager (ward-drill does the
//! work; this module picks the scenarios, runs them, prints the report and
//! records it, signed, in the drill's own ledger).

use super::{Usage, or_usage};
use clap::{Args, Subcommand, ValueEnum};
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use ward_drill::{Drill, DrillReport, Scenario};
use ward_ledger::event::{EventKind, EventRecord};

/// The event kind a drill report is recorded as.
const REPORT_EVENT: &str = "drill-report";

#[derive(Debug, Subcommand)]
pub(crate) enum DrillCommand {
    /// Run scenarios (by name, or --all) through the real client against a loopback
    /// upstream, with a pinned clock and a data directory and ledger of the drill's own.
    /// Exit 0 when every scenario was stopped or detected and no clean release was refused.
    Run(DrillRunArgs),
    /// Print the last drill's report (checked against its ledger record).
    Report(DrillReportArgs),
    /// List the scenarios.
    List(DrillListArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DrillRunArgs {
    /// Scenario names (see `ward drill list`).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    names: Vec<String>,
    /// Run every scenario.
    #[arg(long)]
    all: bool,
    /// The policy under test (default: ward's safe default policy).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    #[command(flatten)]
    place: DrillPlace,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: DrillFormat,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DrillReportArgs {
    #[command(flatten)]
    place: DrillPlace,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: DrillFormat,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DrillListArgs {
    #[command(flatten)]
    place: DrillPlace,
}

#[derive(Debug, Args)]
struct DrillPlace {
    /// A directory of your own scenario files (default: the scenarios shipped with ward).
    #[arg(long, value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// The drill's own directory (data, ledger, upstreams, installs). Default: `drill/` in
    /// ward's data directory. Never the production data directory itself.
    #[arg(long, value_name = "DIR")]
    work: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DrillFormat {
    Text,
    Json,
    Html,
}

impl DrillPlace {
    fn work(&self) -> PathBuf {
        self.work.clone().unwrap_or_else(|| super::data_dir().join("drill"))
    }

    fn scenarios(&self) -> Result<Vec<Scenario>, Usage> {
        let dir = match &self.scenarios {
            Some(dir) => dir.clone(),
            None => {
                let dir = self.work().join("scenarios");
                ward_drill::shipped::extract(&dir).map_err(|e| Usage(format!("{}: {e}", dir.display())))?;
                dir
            }
        };
        Scenario::load_dir(&dir).map_err(|e| Usage(e.to_string()))
    }
}

pub(super) fn run(cmd: DrillCommand) -> u8 {
    or_usage(|| match cmd {
        DrillCommand::List(args) => {
            let mut text = String::new();
            for s in args.place.scenarios()? {
                text.push_str(&format!("{:<24} {:<5} {}\n", s.name, s.ecosystem.purl_type(), s.title));
            }
            crate::output::drill_text(&text);
            Ok(crate::EXIT_ALLOW)
        }
        DrillCommand::Run(args) => run_drill(args),
        DrillCommand::Report(args) => {
            let work = args.place.work();
            let path = work.join("report.json");
            let bytes = ward_input::read_bounded(&path, "drill report", ward_input::limits::EVIDENCE)
                .map_err(|e| Usage(format!("{e} (run `ward drill run` first)")))?;
            check_recorded(&work, &bytes)?;
            let report: DrillReport =
                serde_json::from_slice(&bytes).map_err(|e| Usage(format!("{}: {e}", path.display())))?;
            emit(&report, args.format, args.out.as_deref())?;
            Ok(verdict(&report))
        }
    })
}

fn run_drill(args: DrillRunArgs) -> Result<u8, Usage> {
    let work = args.place.work();
    if work == super::data_dir() {
        return Err(Usage(
            "--work must not be ward's data directory: a drill keeps its own ledger".into(),
        ));
    }
    let all = args.place.scenarios()?;
    let chosen: Vec<&Scenario> = if args.all {
        all.iter().collect()
    } else {
        let mut out = Vec::new();
        for name in &args.names {
            let s = all.iter().find(|s| &s.name == name).ok_or_else(|| {
                let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
                Usage(format!("no scenario {name:?} (there are: {})", names.join(", ")))
            })?;
            out.push(s);
        }
        out
    };
    let policy = match &args.policy {
        Some(p) => Some(std::path::absolute(p).map_err(|e| Usage(format!("{}: {e}", p.display())))?),
        None => None,
    };
    let policy_sha256 = match &policy {
        Some(p) => Some(hex::encode(sha2::Sha256::digest(
            ward_input::read_bounded(p, "policy", ward_input::limits::POLICY).map_err(|e| Usage(e.to_string()))?,
        ))),
        None => None,
    };
    let ward = std::env::current_exe().map_err(|e| Usage(format!("cannot find the ward executable: {e}")))?;
    let drill = Drill {
        ward,
        policy: policy.clone(),
        work: work.join("runs"),
    };
    let mut scenarios = Vec::with_capacity(chosen.len());
    for s in chosen {
        crate::output::drill_progress(&format!("drill: {} …", s.name));
        scenarios.push(drill.run(s).map_err(|e| Usage(e.to_string()))?);
    }
    let report = DrillReport {
        ward_version: env!("CARGO_PKG_VERSION").into(),
        policy: policy
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "ward's safe default policy".into()),
        policy_sha256,
        ran_at: jiff::Timestamp::now(),
        scenarios,
    };
    let bytes = serde_json::to_vec_pretty(&report).map_err(|e| Usage(e.to_string()))?;
    std::fs::write(work.join("report.json"), &bytes).map_err(|e| Usage(format!("{}: {e}", work.display())))?;
    record(&work, &report, &bytes)?;
    emit(&report, args.format, args.out.as_deref())?;
    Ok(verdict(&report))
}

/// 0 when every scenario was stopped or detected and nothing clean was refused.
fn verdict(report: &DrillReport) -> u8 {
    let clean = report
        .scenarios
        .iter()
        .all(|s| s.outcome.stopped() && s.false_positives.is_empty());
    if clean { crate::EXIT_ALLOW } else { crate::EXIT_DENY }
}

/// The drill's own embedded ledger, in its working directory.
fn drill_ledger(work: &Path) -> ward_ledger::LedgerLocation {
    ward_ledger::LedgerLocation::Embedded(work.join("ledger"))
}

/// Appends a signed `drill-report` event naming the report's sha256 to the
/// drill's ledger.
fn record(work: &Path, report: &DrillReport, bytes: &[u8]) -> Result<(), Usage> {
    let mut ledger =
        ward_ledger::open(&drill_ledger(work), &super::ledger_options()).map_err(super::ledger_unusable)?;
    let summary = format!(
        "{} of {} scenarios stopped or detected under {}",
        report.stopped(),
        report.scenarios.len(),
        report.policy
    );
    let event = EventRecord::new(
        EventKind::Other(REPORT_EVENT.into()),
        "ward-drill",
        jiff::Timestamp::now(),
        env!("CARGO_PKG_VERSION"),
    )
    .with_digest("sha256", &hex::encode(sha2::Sha256::digest(bytes)))
    .with_summary(&summary);
    let entry = event
        .sign(ledger.signer())
        .map_err(|e| Usage(format!("ledger event: {e}")))?;
    ledger
        .append(&[entry])
        .map_err(|e| Usage(format!("cannot record the drill report: {e}")))?;
    Ok(())
}

/// The report must be the one the drill ledger's latest `drill-report`
/// event names.
fn check_recorded(work: &Path, bytes: &[u8]) -> Result<(), Usage> {
    let mut ledger =
        ward_ledger::open_for_reading(&drill_ledger(work), &super::ledger_options()).map_err(super::ledger_unusable)?;
    let verifier = ledger.verifier();
    let want = hex::encode(sha2::Sha256::digest(bytes));
    for index in (0..ledger.size()).rev() {
        let entry = ledger.entry(index).map_err(|e| Usage(format!("drill ledger: {e}")))?;
        let Ok(event) = ward_ledger::event::read_event(&entry, &verifier) else {
            continue;
        };
        if event.predicate.kind.as_str() != REPORT_EVENT {
            continue;
        }
        let recorded = event
            .subject
            .first()
            .and_then(|s| s.digest.get("sha256").cloned())
            .unwrap_or_default();
        return if recorded == want {
            Ok(())
        } else {
            Err(Usage(format!(
                "{}: the report differs from the one recorded in the drill ledger (entry {index}): it was changed after the drill",
                work.join("report.json").display()
            )))
        };
    }
    Err(Usage("the drill ledger records no report: run `ward drill run`".into()))
}

fn emit(report: &DrillReport, format: DrillFormat, out: Option<&Path>) -> Result<(), Usage> {
    let text = match format {
        DrillFormat::Text => report.table(),
        DrillFormat::Json => serde_json::to_string_pretty(report).map_err(|e| Usage(e.to_string()))? + "\n",
        DrillFormat::Html => report.html(),
    };
    match out {
        Some(path) => std::fs::write(path, text).map_err(|e| Usage(format!("{}: {e}", path.display()))),
        None => {
            crate::output::drill_text(&text);
            Ok(())
        }
    }
}
