//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// ward: verify packages before they are installed.
#[derive(Debug, Parser)]
#[command(name = "ward", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify an artifact: identify it, check every signature, decide.
    Verify(VerifyArgs),
    /// Sigstore tools (the sigstore-conformance protocol).
    #[command(subcommand)]
    Sigstore(SigstoreCommand),
    /// List every reason code ward can give, with what it means.
    Reasons(ReasonsArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Format {
    /// One line per reason.
    #[default]
    Text,
    /// The documented JSON schema (docs/json-output.md).
    Json,
}

#[derive(Debug, Args)]
pub struct SignerArgs {
    /// Trusted keyless signer identity (certificate SAN), exact match.
    #[arg(long, value_name = "ID", conflicts_with = "certificate_identity_regexp")]
    pub certificate_identity: Option<String>,
    /// Trusted keyless signer identity as a regular expression matched against the whole SAN.
    #[arg(long, value_name = "REGEX")]
    pub certificate_identity_regexp: Option<String>,
    /// Trusted OIDC issuer of the signer's certificate, exact match.
    #[arg(long, value_name = "URL")]
    pub certificate_oidc_issuer: Option<String>,
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Use this Sigstore trusted root instead of the bundled production root.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Use the bundled Sigstore staging root.
    #[arg(long, conflicts_with = "trusted_root")]
    pub staging: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The artifact: an npm .tgz, a wheel, an sdist, a .crate, or any file.
    pub artifact: PathBuf,
    /// A Sigstore bundle for the artifact (repeatable). Default: ARTIFACT.sigstore.json or ARTIFACT.sigstore if present.
    #[arg(long, value_name = "FILE")]
    pub bundle: Vec<PathBuf>,
    /// A trusted PEM public key (repeatable): for --signature and for bundles signed with a key.
    #[arg(long, value_name = "FILE")]
    pub key: Vec<PathBuf>,
    /// A detached signature over the artifact, raw or base64 (repeatable). Default: ARTIFACT.sig if --key is given.
    #[arg(long, value_name = "FILE")]
    pub signature: Vec<PathBuf>,
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The package the artifact is expected to be (checked against its own metadata); names plain files.
    #[arg(long, value_name = "PURL")]
    pub purl: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Most entries an archive may hold.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_entries: u64,
    /// Most bytes an archive may unpack to.
    #[arg(long, value_name = "BYTES", default_value_t = 2 << 30)]
    pub max_unpacked: u64,
    /// Largest compression ratio an archive may have.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_ratio: u64,
}

#[derive(Debug, Subcommand)]
pub enum SigstoreCommand {
    /// Verify one bundle, speaking the sigstore-conformance CLI protocol.
    VerifyBundle(VerifyBundleArgs),
}

#[derive(Debug, Args)]
pub struct VerifyBundleArgs {
    /// The Sigstore bundle.
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// Expected certificate identity (exact).
    #[arg(long, value_name = "ID", requires = "certificate_oidc_issuer")]
    pub certificate_identity: Option<String>,
    /// Expected OIDC issuer (exact).
    #[arg(long, value_name = "URL")]
    pub certificate_oidc_issuer: Option<String>,
    /// Verify with this PEM public key instead of a certificate identity.
    #[arg(long, value_name = "FILE", conflicts_with = "certificate_identity")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The artifact file, or its digest as `sha256:<64 hex>`.
    pub file_or_digest: String,
}

#[derive(Debug, Args)]
pub struct ReasonsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
