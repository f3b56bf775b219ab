//! `ward rollback plan|apply`: back to a known-good set. Choosing the set,
//! checking the cache, staging, comparing and swapping are
//! `ward_recover::{plan, apply}`; this module reads the arguments, runs the
//! reinstall through `ward run`, records the event and renders the outcome.

use super::snapshot::{or_refused, shown};
use super::{Usage, data_dir, open_ledger, open_ledger_for_reading, or_usage};
use crate::args::{DbDir, Format};
use crate::output;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use ward_core::ReasonCode;
use ward_ledger::event::{EventKind, EventRecord};
use ward_recover::RecoverError;
use ward_recover::allows::AllowIndex;
use ward_recover::plan::{Checker, Plan, Present, Target};

#[derive(Debug, Subcommand)]
pub(crate) enum RollbackCommand {
    /// The newest snapshot that was allowed then and is still clean now, and its difference from what is installed.
    Plan(PlanArgs),
    /// Reinstall the planned set from the proxy cache through `ward run`, then check it is what was planned.
    Apply(ApplyArgs),
}

#[derive(Debug, Args)]
#[group(id = "target", required = true, multiple = false)]
pub(crate) struct TargetArgs {
    /// Go back to the snapshot of this name.
    #[arg(long, value_name = "NAME", group = "target")]
    pub to: Option<String>,
    /// Go back to the newest snapshot taken before TIME (RFC 3339, or a date: midnight UTC).
    #[arg(long, value_name = "TIME", group = "target")]
    pub before: Option<String>,
    /// Go back to the newest snapshot that does not have this advisory (MAL-…, GHSA-…, CVE-…).
    #[arg(long, value_name = "ADVISORY", group = "target")]
    pub drop: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CommonArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The policy (remediation deadlines, exceptions, allows; default: ward's safe default).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The ledger: a directory, or postgres://… (default: ledger/ in ward's data directory).
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbDir,
    /// The proxy cache the bytes come from (default: `cache` in --config, else proxy-cache/ in ward's data directory).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// A proxy configuration file (docs/proxy.md), handed to `ward run`; its `cache` is used when --cache is not given.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// What is installed: a Python site directory, an npm project, or a lockfile.
    #[arg(long, value_name = "PATH|LOCKFILE")]
    pub env: Option<PathBuf>,
    /// Also write the hash-pinned lockfile of the target set into this directory (bytes checked in the cache first).
    #[arg(long, value_name = "DIR")]
    pub lockfile_out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The environment to roll back: a directory pip installs into (--target), or an npm project.
    #[arg(long, value_name = "PATH")]
    pub env: PathBuf,
    /// The Python that runs pip.
    #[arg(long, value_name = "PROGRAM", default_value = "python3")]
    pub python: String,
    /// Seconds the reinstall may take before it is stopped (the environment is then left as it was).
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub timeout: u64,
}

pub(crate) fn run(cmd: RollbackCommand) -> u8 {
    or_usage(|| match cmd {
        RollbackCommand::Plan(args) => plan_command(&args),
        RollbackCommand::Apply(args) => apply_command(&args),
    })
}

/// `--before TIME`: RFC 3339, or a date (midnight UTC).
fn parse_time(text: &str) -> Result<jiff::Timestamp, Usage> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| Usage(format!("--before {text:?}: expected an RFC 3339 time or a date")))
}

fn target(args: &TargetArgs) -> Result<Target, Usage> {
    Ok(match (&args.to, &args.before, &args.drop) {
        (Some(n), _, _) => Target::To(n.clone()),
        (_, Some(t), _) => Target::Before(parse_time(t)?),
        (_, _, Some(a)) => Target::Drop(a.clone()),
        _ => return Err(Usage("give --to NAME, --before TIME or --drop ADVISORY".into())),
    })
}

/// The cache: --cache, else `cache` in the proxy configuration (relative to it), else the default.
fn cache_dir(common: &CommonArgs) -> Result<PathBuf, Usage> {
    if let Some(c) = &common.cache {
        return Ok(c.clone());
    }
    if let Some(cfg) = &common.config {
        let text = ward_input::read_string_bounded(cfg, "proxy configuration", ward_input::limits::POLICY)?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| Usage(format!("{}: {e}", cfg.display())))?;
        if let Some(c) = table.get("cache").and_then(|c| c.as_str()) {
            let p = Path::new(c);
            return Ok(if p.is_absolute() {
                p.to_path_buf()
            } else {
                cfg.parent().unwrap_or(Path::new(".")).join(p)
            });
        }
    }
    Ok(data_dir().join("proxy-cache"))
}

/// Everything a plan is made from, read once.
struct Inputs {
    plan: Plan,
    allows: AllowIndex,
    db: ward_scan::AdvisoryDb,
    policy: ward_policy::Policy,
}

fn make_plan(common: &CommonArgs, env: Option<&Path>) -> Result<Result<Inputs, RecoverError>, Usage> {
    let cache = cache_dir(common)?;
    let target = target(&common.target)?;
    let policy = match &common.policy {
        Some(path) => ward_policy::Policy::load(path).map_err(super::policy_invalid)?,
        None => ward_policy::Policy::builtin(),
    };
    let db_path = super::advisories::db_dir(&common.db);
    let db = ward_scan::AdvisoryDb::load(&db_path).map_err(|e| {
        Usage(format!(
            "the advisory database {} cannot be read ({e}): ward cannot tell a snapshot is still clean without it; import one (ward advisories import)",
            db_path.display()
        ))
    })?;
    let now = crate::clock::now()?;
    let first_seen = ward_scan::FirstSeenStore::open(&data_dir()).ok();
    let mut ledger = open_ledger_for_reading(common.ledger.as_deref())?;
    Ok((|| {
        let allows = AllowIndex::read(&mut *ledger)?;
        let present: Option<Vec<Present>> = match env {
            Some(path) => {
                let with = ward_recover::installed::AuditWith {
                    cache: &cache,
                    db: None,
                    policy: None,
                    now,
                };
                let pins = ward_recover::installed::read(path, &allows, with)?;
                Some(ward_recover::installed::present(&pins, &allows))
            }
            None => None,
        };
        let mut snapshots = Vec::new();
        for entry in ward_recover::snapshot::list(&data_dir())? {
            match entry {
                Ok(s) => snapshots.push(s),
                // A file that does not read is never a target; --to names it below.
                Err((path, e)) => {
                    if let Target::To(name) = &target
                        && path.file_stem().and_then(|s| s.to_str()) == Some(name.as_str())
                    {
                        return Err(e);
                    }
                }
            }
        }
        let mut checker = Checker {
            db: &db,
            policy: &policy,
            first_seen,
            now,
        };
        let plan = ward_recover::plan::plan(
            &target,
            snapshots,
            &mut *ledger,
            &allows,
            &mut checker,
            present.as_deref(),
        )?;
        if let (Some(present), Some(eco)) = (&present, &plan.ecosystem)
            && let Some(other) = present.iter().find(|p| p.id.ecosystem.to_string() != *eco)
        {
            return Err(RecoverError::refused(
                ReasonCode::RollbackPartial,
                format!(
                    "snapshot {} holds {eco} packages but the environment holds {} ({}); nothing was changed",
                    plan.snapshot, other.id.ecosystem, other.id
                ),
            ));
        }
        Ok((plan, allows))
    })()
    .map(|(plan, allows)| Inputs {
        plan,
        allows,
        db,
        policy,
    }))
}

fn plan_command(args: &PlanArgs) -> Result<u8, Usage> {
    let made = make_plan(&args.common, args.env.as_deref())?;
    let cache = cache_dir(&args.common)?;
    Ok(or_refused(|| {
        let Inputs { plan, .. } = made?;
        let mut written = Vec::new();
        if let Some(dir) = &args.lockfile_out {
            let ecosystem = ward_recover::plan::ecosystem_of(&plan.members)?
                .ok_or_else(|| RecoverError::Usage("the snapshot is empty".into()))?;
            let set = ward_recover::apply::check_cache(&plan.members, &cache)?;
            std::fs::create_dir_all(dir).map_err(|e| RecoverError::Usage(format!("{}: {e}", dir.display())))?;
            for (name, text) in ward_recover::apply::lockfile_text(ecosystem, &set)? {
                let path = dir.join(name);
                std::fs::write(&path, text).map_err(|e| RecoverError::Usage(format!("{}: {e}", path.display())))?;
                written.push(path);
            }
        }
        output::recover::plan(&plan, &written, args.common.format);
        Ok(crate::EXIT_ALLOW)
    }))
}

/// `ward run [--config] [--cache] [--policy] [--ledger] [--db] -- COMMAND` in `dir`.
fn ward_run(
    common: &CommonArgs,
    cache: &Path,
    command: &[std::ffi::OsString],
    dir: &Path,
    limit: std::time::Duration,
) -> Result<(i32, String), Usage> {
    let ward = std::env::current_exe().map_err(|e| Usage(format!("cannot find the ward binary: {e}")))?;
    let mut cmd = std::process::Command::new(ward);
    cmd.arg("run").arg("--cache").arg(cache);
    if let Some(c) = &common.config {
        cmd.arg("--config")
            .arg(std::path::absolute(c).unwrap_or_else(|_| c.clone()));
    }
    if let Some(p) = &common.policy {
        cmd.arg("--policy")
            .arg(std::path::absolute(p).unwrap_or_else(|_| p.clone()));
    }
    if let Some(l) = &common.ledger {
        cmd.arg("--ledger").arg(l);
    }
    if let Some(d) = &common.db.db {
        cmd.arg("--db").arg(d);
    }
    cmd.arg("--").args(command);
    let got = ward_recover::capture::run(&mut cmd, dir, &[], limit)
        .map_err(|e| Usage(format!("cannot run ward run: {e}")))?;
    Ok((got.status, got.tail))
}

fn apply_command(args: &ApplyArgs) -> Result<u8, Usage> {
    let common = &args.common;
    let made = make_plan(common, Some(&args.env))?;
    let cache = cache_dir(common)?;
    let now = crate::clock::now()?;
    let mut applied = None;
    let code = or_refused(|| {
        let Inputs {
            plan,
            allows,
            db,
            policy,
        } = made?;
        let keep = data_dir()
            .join("rollbacks")
            .join(format!("{}-{}", plan.snapshot, now.strftime("%Y%m%dT%H%M%SZ")));
        let with = ward_recover::apply::ApplyWith {
            env: &args.env,
            shown: shown(&args.env),
            python: &args.python,
            keep: &keep,
            allows: &allows,
            audit: ward_recover::installed::AuditWith {
                cache: &cache,
                db: Some(&db),
                policy: Some(&policy),
                now,
            },
        };
        let done = ward_recover::apply::apply(&plan, &with, |command, dir| {
            ward_run(
                common,
                &cache,
                command,
                dir,
                std::time::Duration::from_secs(args.timeout),
            )
            .map_err(|Usage(m)| RecoverError::Usage(m))
        })?;
        applied = Some(done);
        Ok(crate::EXIT_ALLOW)
    });
    let Some(mut applied) = applied else {
        return Ok(code);
    };
    // 5. The rollback, as a ledger event.
    let mut ledger = open_ledger(common.ledger.as_deref())?;
    let event = EventRecord::new(
        EventKind::RollbackApplied,
        &format!("snapshot:{}", applied.snapshot),
        now,
        env!("CARGO_PKG_VERSION"),
    )
    .with_summary(&format!(
        "rolled {} back to snapshot {} ({} packages)",
        applied.environment, applied.snapshot, applied.members
    ))
    .with_detail(&applied)
    .and_then(|e| e.sign(ledger.signer()))
    .map_err(|e| Usage(e.to_string()))?;
    applied.ledger_index = Some(ledger.append(&[event])?.first_index);
    output::recover::applied(&applied, common.format);
    Ok(code)
}
