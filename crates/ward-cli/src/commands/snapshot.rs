//! `ward snapshot create|list|show`: known-good sets, signed and anchored
//! in the ledger (the work is `ward_recover::snapshot`).

use super::{Usage, data_dir, open_ledger, open_ledger_for_reading, or_usage};
use crate::args::{Format, PassphraseArgs};
use crate::output;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use ward_recover::allows::AllowIndex;
use ward_recover::snapshot::{self, LedgerPoint, Snapshot, SnapshotBody, SnapshotSigner};

#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotCommand {
    /// Record what PATH holds (an environment or a lockfile) as a signed, ledger-anchored known-good set.
    Create(CreateArgs),
    /// List the stored snapshots.
    List(ListArgs),
    /// Show one snapshot's members, with its signature, ledger anchor and each member's allow checked.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The snapshot's name (letters, digits, '.', '_', '-'); never reused.
    pub name: String,
    /// What to record: an environment as `ward audit` reads it (a Python site
    /// directory, an npm project or node_modules, a cargo vendor/ directory),
    /// or a lockfile (requirements.txt with --hash, package-lock.json, Cargo.lock).
    #[arg(long, value_name = "PATH|LOCKFILE")]
    pub from: PathBuf,
    /// Sign with this private key (PKCS#8 PEM, from `ward keygen`) instead of the ledger's key.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// The ledger: a directory, or postgres://… (default: ledger/ in ward's data directory).
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    /// The proxy cache, where the audit of an environment finds the allowed artifacts (default: proxy-cache/ in ward's data directory).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// The ledger the snapshots are checked against (default: ledger/ in ward's data directory).
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The snapshot's name.
    pub name: String,
    /// The ledger the snapshot is checked against (default: ledger/ in ward's data directory).
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub(crate) fn run(cmd: SnapshotCommand) -> u8 {
    or_usage(|| match cmd {
        SnapshotCommand::Create(args) => create(&args),
        SnapshotCommand::List(args) => {
            let mut ledger = open_ledger_for_reading(args.ledger.as_deref())?;
            let allows = AllowIndex::read(&mut *ledger).map_err(recover_usage)?;
            let mut rows = Vec::new();
            for entry in snapshot::list(&data_dir())? {
                rows.push(match entry {
                    Ok(s) => {
                        let check = ward_recover::plan::allowed_then(&s, &mut *ledger, &allows)
                            .err()
                            .map(|e| e.to_string());
                        output::recover::SnapshotRow::Read(Box::new(s), check)
                    }
                    Err((path, e)) => output::recover::SnapshotRow::Unreadable(path, e.to_string()),
                });
            }
            output::recover::snapshot_list(&rows, args.format);
            Ok(crate::EXIT_ALLOW)
        }
        SnapshotCommand::Show(args) => {
            let mut ledger = open_ledger_for_reading(args.ledger.as_deref())?;
            let s = snapshot::load(&data_dir(), &args.name).map_err(recover_usage)?;
            let allows = AllowIndex::read(&mut *ledger).map_err(recover_usage)?;
            let check = ward_recover::plan::allowed_then(&s, &mut *ledger, &allows).err();
            output::recover::snapshot_show(&s, check.as_ref().map(ToString::to_string).as_deref(), args.format);
            Ok(if check.is_some() {
                crate::EXIT_DENY
            } else {
                crate::EXIT_ALLOW
            })
        }
    })
}

/// A refusal or failure of ward-recover, as one line with its code.
pub(crate) fn recover_usage(e: ward_recover::RecoverError) -> Usage {
    Usage(e.to_string())
}

/// Runs `body`; a refusal with a reason code exits 1 (the code is in the
/// message), anything else that went wrong exits 2.
pub(crate) fn or_refused(body: impl FnOnce() -> Result<u8, ward_recover::RecoverError>) -> u8 {
    match body() {
        Ok(code) => code,
        Err(e) if e.code().is_some() => {
            output::error(&e.to_string());
            crate::EXIT_DENY
        }
        Err(e) => {
            output::error(&e.to_string());
            crate::EXIT_ERROR
        }
    }
}

/// The passphrase of `--key`, from `--passphrase-env` or `--passphrase-file`.
fn passphrase(args: &PassphraseArgs) -> Result<Option<String>, Usage> {
    if let Some(var) = &args.passphrase_env {
        return std::env::var(var)
            .map(Some)
            .map_err(|e| Usage(format!("--passphrase-env {var}: {e}")));
    }
    if let Some(path) = &args.passphrase_file {
        let text = ward_input::read_string_bounded(path, "passphrase file", ward_input::limits::KEY)?;
        return Ok(Some(text.lines().next().unwrap_or_default().to_string()));
    }
    Ok(None)
}

fn create(args: &CreateArgs) -> Result<u8, Usage> {
    snapshot::check_name(&args.name).map_err(recover_usage)?;
    let data = data_dir();
    if snapshot::exists(&data, &args.name) {
        return Err(Usage(format!("a snapshot named {} exists already", args.name)));
    }
    let key = match &args.key {
        Some(path) => Some(ward_sign::SigningKey::from_file(
            path,
            passphrase(&args.passphrase)?.as_deref(),
        )?),
        None => None,
    };
    let now = crate::clock::now()?;
    let mut ledger = open_ledger(args.ledger.as_deref())?;
    let code = or_refused(|| {
        let allows = AllowIndex::read(&mut *ledger)?;
        let cache = args.cache.clone().unwrap_or_else(|| data.join("proxy-cache"));
        let with = ward_recover::installed::AuditWith {
            cache: &cache,
            db: None,
            policy: None,
            now,
        };
        let pins = ward_recover::installed::read(&args.from, &allows, with)?;
        let members = snapshot::members(&pins, &allows)?;
        let body = SnapshotBody {
            name: args.name.clone(),
            created: now,
            from: shown(&args.from),
            ledger: LedgerPoint {
                key: ledger.verifier().to_vkey(),
                size: ledger.size(),
            },
            members,
        };
        let ledger_signer = ledger.signer();
        let signer = match &key {
            Some(k) => SnapshotSigner::Key(k),
            None => SnapshotSigner::Ledger(ledger_signer),
        };
        let mut snap = Snapshot::seal(body, &signer)?;
        let entry = snap
            .event(env!("CARGO_PKG_VERSION"))?
            .sign(ledger_signer)
            .map_err(|e| ward_recover::RecoverError::Usage(e.to_string()))?;
        let receipt = ledger.append(&[entry])?;
        snap.anchor = Some(receipt.first_index);
        let path = snapshot::save(&data, &snap)?;
        output::recover::snapshot_created(&snap, &path, args.format);
        Ok(crate::EXIT_ALLOW)
    });
    Ok(code)
}

/// A path as given, made absolute so the record names it wherever ward ran.
pub(crate) fn shown(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
