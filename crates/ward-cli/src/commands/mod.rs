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

/// A fresh ledger origin with a random suffix, so two ledgers never share a
/// name. Fails rather than naming a ledger with a predictable suffix.
///
/// The operating system's random source (`getrandom`), not aws-lc's: the
/// first draw from aws-lc's generator seeds it with CPU-jitter entropy,
/// about 70 ms, and this runs on every `ward verify`.
fn new_origin() -> Result<String, Usage> {
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut suffix).map_err(|e| {
        Usage(format!(
            "the system random source failed ({e}); cannot name a new ledger"
        ))
    })?;
    Ok(format!("ward.local/ledger/{}", hex::encode(suffix)))
}

/// Opens (creating on first use) the ledger: a directory (embedded), a
/// `postgres://` URL (shared; the signing key comes from `$WARD_LEDGER_KEY`,
/// a file, created in the data directory on first use), or the embedded
/// ledger in the data directory.
/// The ledger for reading (`ward ledger show|prove|verify|search|checkpoint|export`):
/// an embedded ledger is opened as a read-only snapshot, so these commands
/// work while a proxy or `ledger serve` holds the writer's lock.
pub(crate) fn open_ledger_for_reading(
    location: Option<&std::path::Path>,
) -> Result<Box<dyn ward_ledger::LedgerStore>, Usage> {
    let is_postgres = location
        .map(|l| l.to_string_lossy())
        .is_some_and(|t| t.starts_with("postgres://") || t.starts_with("postgresql://"));
    let dir = location
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| data_dir().join("ledger"));
    if is_postgres || !dir.join("ledger.key").is_file() {
        return open_ledger(location);
    }
    let ledger = ward_ledger::EmbeddedLedger::open_snapshot(&dir)
        .map_err(|e| Usage(format!("ledger {}: {e}", dir.display())))?;
    Ok(Box::new(ledger))
}

pub(crate) fn open_ledger(location: Option<&std::path::Path>) -> Result<Box<dyn ward_ledger::LedgerStore>, Usage> {
    let text = location.map(|l| l.to_string_lossy().into_owned());
    if let Some(url) = text
        .as_deref()
        .filter(|t| t.starts_with("postgres://") || t.starts_with("postgresql://"))
    {
        let key_path = std::env::var_os("WARD_LEDGER_KEY")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| data_dir().join("ledger-postgres.key"));
        let signer = match ward_input::read_string_bounded(&key_path, "ledger key", ward_input::limits::KEY) {
            Ok(text) => ward_ledger::NoteSigner::parse(&text)?,
            Err(e) if e.is_not_found() => {
                let signer = ward_ledger::NoteSigner::generate(&new_origin()?, ward_ledger::note::ALG_ED25519)?;
                if let Some(parent) = key_path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Usage(e.to_string()))?;
                }
                write_private(&key_path, signer.to_skey().as_bytes())?;
                signer
            }
            Err(e) => return Err(Usage(e.to_string())),
        };
        let schema = std::env::var("WARD_LEDGER_SCHEMA").unwrap_or_else(|_| "ward".into());
        let ledger =
            ward_ledger::PostgresLedger::open(url, &schema, signer).map_err(|e| Usage(format!("ledger {url}: {e}")))?;
        return Ok(Box::new(ledger));
    }
    let dir = location
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| data_dir().join("ledger"));
    let ledger = ward_ledger::EmbeddedLedger::open(&dir, &new_origin()?).map_err(|e| match &e {
        ward_ledger::LedgerError::Io { source, .. } if source.kind() == std::io::ErrorKind::WouldBlock => {
            Usage(format!(
                "ledger {}: {e}. An embedded ledger has one writer at a time (for example a running `ward proxy` or \
             `ward ledger serve`); this command must append to it. Stop that writer, give this command a \
             ledger of its own with --ledger DIR, or share one PostgreSQL ledger between them with \
             --ledger postgres://...",
                dir.display()
            ))
        }
        _ => Usage(format!("ledger {}: {e}", dir.display())),
    })?;
    Ok(Box::new(ledger))
}

fn write_private(path: &std::path::Path, data: &[u8]) -> Result<(), Usage> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(data)
        .map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))
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
