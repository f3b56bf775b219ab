//! One module per subcommand; each returns the exit code.

mod ledger;
mod ledger_monitor;
mod ledger_serve;
mod policy;
mod publish;
mod reasons;
mod sigstore;
mod verify;

use crate::args::{Cli, Command, SignerArgs, TrustArgs};
use crate::output;
use ward_verify::{IdentityRule, SignerRequirement, TrustRoot};

pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Verify(args) => verify::run(args),
        Command::Sigstore(cmd) => sigstore::run(cmd),
        Command::Policy(cmd) => policy::run(cmd),
        Command::Sign(args) => publish::sign(args),
        Command::Attest(args) => publish::attest(args),
        Command::Keygen(args) => publish::keygen(args),
        Command::Ledger(cmd) => ledger::run(cmd),
        Command::Reasons(args) => reasons::run(args),
    }
}

/// A usage-level problem: reported on stderr, exit 2.
pub struct Usage(pub String);

impl<E: std::fmt::Display> From<E> for Usage {
    fn from(e: E) -> Self {
        Usage(e.to_string())
    }
}

pub fn trust_root(args: &TrustArgs) -> Result<TrustRoot, Usage> {
    Ok(match (&args.trusted_root, args.staging) {
        (Some(path), _) => TrustRoot::from_file(path)?,
        (None, true) => TrustRoot::staging()?,
        (None, false) => TrustRoot::production()?,
    })
}

pub fn signer(args: &SignerArgs) -> Result<SignerRequirement, Usage> {
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

/// Runs `body`, turning a usage problem into exit code 2.
pub fn or_usage(body: impl FnOnce() -> Result<u8, Usage>) -> u8 {
    body().unwrap_or_else(|Usage(message)| {
        output::error(&message);
        crate::EXIT_ERROR
    })
}

/// ward's data directory: $WARD_DATA_DIR, else $XDG_DATA_HOME/ward, else ~/.local/share/ward.
pub fn data_dir() -> std::path::PathBuf {
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

/// Opens (creating on first use) the ledger at `dir` or in the data directory.
pub fn open_ledger(dir: Option<&std::path::Path>) -> Result<ward_ledger::EmbeddedLedger, Usage> {
    let dir = dir
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| data_dir().join("ledger"));
    let mut suffix = [0u8; 4];
    let _ = getrandom_fill(&mut suffix);
    let origin = format!(
        "ward.local/ledger/{}",
        suffix.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    ward_ledger::EmbeddedLedger::open(&dir, &origin).map_err(|e| Usage(format!("ledger {}: {e}", dir.display())))
}

fn getrandom_fill(buf: &mut [u8]) -> Result<(), ()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .map_err(|_| ())
}
