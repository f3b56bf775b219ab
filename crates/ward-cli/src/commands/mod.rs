//! One module per subcommand; each returns the exit code.

pub(crate) mod advisories;
mod advisories_config;
mod advisories_update;
mod audit;
mod completions;
pub(crate) mod drill;
mod init;
mod keys;
mod ledger;
mod ledger_monitor;
mod ledger_serve;
pub(crate) mod playbook;
mod policy;
mod proxy;
mod publish;
mod reasons;
pub(crate) mod rebuild;
pub(crate) mod rollback;
mod run_isolation;
mod scan;
mod sigstore;
pub(crate) mod snapshot;
pub(crate) mod tickets;
mod trust;
mod trust_events;
mod tuf;
mod verify;
pub(crate) mod watch;

use crate::args::{Cli, Command, SignerArgs, TrustArgs};
use crate::output;
use ward_verify::{IdentityRule, SignerRequirement, TrustRoot};

pub(crate) fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Verify(args) => verify::run(*args),
        Command::Sigstore(cmd) => sigstore::run(cmd),
        Command::Policy(cmd) => policy::run(cmd),
        Command::Sign(args) => publish::sign(args),
        Command::Attest(args) => publish::attest(args),
        Command::Keygen(args) => publish::keygen(args),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Advisories(cmd) => advisories::run(cmd),
        Command::Scan(args) => scan::run(args),
        Command::Watch(args) => watch::run(*args),
        Command::Tickets(cmd) => tickets::run(cmd),
        Command::Rebuild(cmd) => rebuild::run(cmd),
        Command::Audit(args) => audit::run(args),
        Command::Ledger(cmd) => ledger::run(cmd),
        Command::Reasons(args) => reasons::run(args),
        Command::Proxy(args) => proxy::serve(*args),
        Command::Run(args) => proxy::run(*args),
        Command::Tuf(args) => tuf::run(args),
        Command::Trust(cmd) => trust::run(cmd),
        Command::Snapshot(cmd) => snapshot::run(cmd),
        Command::Rollback(cmd) => rollback::run(cmd),
        Command::Playbook(cmd) => playbook::run(cmd),
        Command::Init(args) => init::run(args),
        Command::Drill(cmd) => drill::run(cmd),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
    }
}

/// A usage-level problem: reported on stderr, exit 2.
pub(crate) struct Usage(pub String);

impl<E: std::fmt::Display> From<E> for Usage {
    fn from(e: E) -> Self {
        Usage(e.to_string())
    }
}

/// The Sigstore trusted root: `--trusted-root`, `--staging`, else the one
/// `ward trust update` verified, else the compiled-in production root (the
/// seed). A stored root that is corrupt is an error, not a fallback.
pub(crate) fn trust_root(args: &TrustArgs) -> Result<TrustRoot, Usage> {
    Ok(match (&args.trusted_root, args.staging) {
        (Some(path), _) => TrustRoot::from_file(path)?,
        (None, true) => TrustRoot::staging()?,
        (None, false) => match trust::updated_trusted_root()? {
            Some(root) => root,
            None => TrustRoot::production()?,
        },
    })
}

pub(crate) fn signer(args: &SignerArgs) -> Result<SignerRequirement, Usage> {
    let identity = match (&args.certificate_identity, &args.certificate_identity_regexp) {
        (Some(exact), _) => Some(IdentityRule::Exact(exact.clone())),
        (None, Some(pattern)) => {
            Some(IdentityRule::regex(pattern).map_err(|e| Usage(format!("--certificate-identity-regexp: {e}")))?)
        }
        (None, None) => None,
    };
    Ok(SignerRequirement {
        identity,
        issuer: args.certificate_oidc_issuer.clone(),
    })
}

/// Reads a file the user named, as text, through the one bounded reader:
/// regular files only (a FIFO or device is refused at once), at most `limit`
/// bytes. Errors name the file and its role.
pub(crate) fn read_input_text(path: &std::path::Path, what: &'static str, limit: u64) -> Result<String, Usage> {
    ward_input::read_string_bounded(path, what, limit).map_err(|e| Usage(e.to_string()))
}

/// Runs `body`, turning a usage problem into exit code 2.
pub(crate) fn or_usage(body: impl FnOnce() -> Result<u8, Usage>) -> u8 {
    body().unwrap_or_else(|Usage(message)| {
        output::error(&message);
        crate::EXIT_ERROR
    })
}

/// ward's data directory: $WARD_DATA_DIR, else $XDG_DATA_HOME/ward, else ~/.local/share/ward.
pub(crate) fn data_dir() -> std::path::PathBuf {
    if let Some(d) = std::env::var_os("WARD_DATA_DIR") {
        return d.into();
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return std::path::PathBuf::from(d).join("ward");
    }
    match std::env::var_os("HOME") {
        Some(h) => std::path::PathBuf::from(h).join(".local/share/ward"),
        None => std::path::PathBuf::from(".ward"),
    }
}

/// Where `--ledger` points, else the embedded ledger in the data directory.
pub(crate) fn ledger_location(arg: Option<&std::path::Path>) -> ward_ledger::LedgerLocation {
    ward_ledger::LedgerLocation::or_default(arg, &data_dir())
}

/// What opening a ledger needs from the environment: the data directory,
/// and for a PostgreSQL ledger the key file `$WARD_LEDGER_KEY` (else
/// `ledger-postgres.key` in the data directory) and the schema
/// `$WARD_LEDGER_SCHEMA` (else `ward`).
pub(crate) fn ledger_options() -> ward_ledger::OpenOptions {
    let mut options = ward_ledger::OpenOptions::new(&data_dir());
    if let Some(key) = std::env::var_os("WARD_LEDGER_KEY") {
        options = options.with_postgres_key(key);
    }
    if let Ok(schema) = std::env::var("WARD_LEDGER_SCHEMA") {
        options = options.with_postgres_schema(schema);
    }
    options
}

/// Opens (creating on first use) the ledger `--ledger` names, for appending.
pub(crate) fn open_ledger(location: Option<&std::path::Path>) -> Result<Box<dyn ward_ledger::LedgerStore>, Usage> {
    ward_ledger::open(&ledger_location(location), &ledger_options()).map_err(ledger_unusable)
}

/// The ledger for reading (`ward ledger show|prove|verify|search|checkpoint|export`):
/// an embedded ledger is opened as a read-only snapshot, so these commands
/// work while a proxy or `ledger serve` holds the writer's lock.
pub(crate) fn open_ledger_for_reading(
    location: Option<&std::path::Path>,
) -> Result<Box<dyn ward_ledger::LedgerStore>, Usage> {
    ward_ledger::open_for_reading(&ledger_location(location), &ledger_options()).map_err(ledger_unusable)
}

/// A ledger that does not open, as the user sees it: a locked embedded
/// ledger says what holds it and what to do instead.
pub(crate) fn ledger_unusable(e: ward_ledger::OpenError) -> Usage {
    match e {
        ward_ledger::OpenError::Locked { .. } => Usage(format!(
            "{e}. An embedded ledger has one writer at a time (for example a running `ward proxy` or \
             `ward ledger serve`); this command must append to it. Stop that writer, give this command a \
             ledger of its own with --ledger DIR, or share one PostgreSQL ledger between them with \
             --ledger postgres://..."
        )),
        e => Usage(e.to_string()),
    }
}

/// A policy that does not load: every diagnostic is shown, then exit 2
/// with its stable code.
pub(crate) fn policy_invalid(e: ward_policy::PolicyError) -> Usage {
    crate::output::policy_invalid(&e);
    Usage(format!(
        "{}: the policy does not load ({}) [{}]",
        e.file,
        crate::output::diagnostics::count(e.errors().count(), "error"),
        ward_core::ReasonCode::PolicyInvalid
    ))
}
