//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// ward: verify packages before they are installed.
#[derive(Debug, Parser)]
#[command(name = "ward", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Verify an artifact: identify it, check every signature, decide.
    Verify(Box<VerifyArgs>),
    /// Sigstore tools (the sigstore-conformance protocol).
    #[command(subcommand)]
    Sigstore(SigstoreCommand),
    /// Check or explain a policy file.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Sign an artifact with a key: writes a Sigstore bundle (v0.3, public-key hint).
    Sign(SignArgs),
    /// Attest to an artifact with a key: writes an in-toto statement in a DSSE bundle.
    Attest(AttestArgs),
    /// Generate a signing key pair (Ed25519 or ECDSA P-256).
    Keygen(KeygenArgs),
    /// Key lifetimes: rotate a signing key to a new one, or revoke one (signed statements a policy follows).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The advisory database: import OSV / RustSec data by source, update it, show its status.
    #[command(subcommand)]
    Advisories(AdvisoriesCommand),
    /// Scan lockfiles for known vulnerabilities, offline.
    Scan(ScanArgs),
    /// Reproducible builds: compare a published artifact with a rebuild, and sign the result.
    #[command(subcommand)]
    Rebuild(crate::commands::rebuild::RebuildCommand),
    /// Audit what is installed (Python environments, node_modules, cargo vendor/ and homes) against what ward allowed.
    Audit(AuditArgs),
    /// Watch environments and lockfiles: re-audit on an interval and on changes, alert once per
    /// finding (ledger events, webhook, JSON lines, syslog), and when it resolves.
    Watch(Box<crate::commands::watch::WatchArgs>),
    /// Remediation tickets: one per finding, with owner, due date and state; export to GitHub or Jira.
    #[command(subcommand)]
    Tickets(crate::commands::tickets::TicketsCommand),
    /// The transparency ledger of decisions: show, prove, verify, search.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// List every reason code ward can give, with what it means.
    Reasons(ReasonsArgs),
    /// A registry proxy for pip, npm and cargo that serves only what the gate allows.
    Proxy(Box<ProxyArgs>),
    /// Run a command (pip, uv, npm, yarn, pnpm, cargo) with its installs gated by an ephemeral proxy.
    Run(Box<RunArgs>),
    /// A TUF client speaking the tuf-conformance client protocol (init, refresh, download).
    Tuf(TufArgs),
    /// Sigstore's trusted root and the npm registry keys: update them over TUF, audit their history.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Known-good sets: record what is installed as a signed, ledger-anchored snapshot; list and show them.
    #[command(subcommand)]
    Snapshot(crate::commands::snapshot::SnapshotCommand),
    /// Roll back to a known-good snapshot: plan it, apply it through `ward run` from the proxy cache.
    #[command(subcommand)]
    Rollback(crate::commands::rollback::RollbackCommand),
    /// Recovery playbooks: rehearse snapshot, change, audit, alert, rollback, audit.
    #[command(subcommand)]
    Playbook(crate::commands::playbook::PlaybookCommand),
    /// Attack drills: replay real supply-chain incidents against a policy with the real client.
    #[command(subcommand)]
    Drill(crate::commands::drill::DrillCommand),
    /// Write a commented starter ward.toml (from a lockfile: provenance scopes for the packages that publish it).
    Init(InitArgs),
    /// Print a shell completion script for ward (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Write man pages for ward and each of its subcommands into a directory.
    Man(ManArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum InitEcosystem {
    /// npm packages.
    Npm,
    /// PyPI packages.
    Pypi,
    /// crates.io packages.
    Cargo,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The ecosystem the policy is for (default: those of --from, else all three).
    #[arg(long, value_enum)]
    pub ecosystem: Option<InitEcosystem>,
    /// A lockfile (package-lock.json, requirements.txt, poetry.lock, uv.lock, Cargo.lock):
    /// its packages that publish provenance today get a scope requiring it.
    #[arg(long, value_name = "LOCKFILE")]
    pub from: Option<PathBuf>,
    /// Where to write the policy.
    #[arg(long, short, value_name = "FILE", default_value = "ward.toml")]
    pub output: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// The proxy cache whose registry metadata says what publishes provenance
    /// (never fetched). Default: proxy-cache/ in ward's data directory.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// The directory to write the pages into (created if missing), e.g. ~/.local/share/man/man1.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Write a rotation statement from the old key to the new one, signed by both, and record it in the ledger.
    Rotate(KeysRotateArgs),
    /// Write a revocation statement for a key and record it in the ledger.
    Revoke(KeysRevokeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeysRotateArgs {
    /// The key rotated away from (PKCS#8 PEM private key).
    #[arg(long, value_name = "FILE", required_unless_present = "old_pkcs11")]
    pub old: Option<PathBuf>,
    /// The key rotated away from, on a PKCS#11 token (RFC 7512 URI; module and PIN as for `ward sign --pkcs11`).
    #[arg(long, value_name = "URI", conflicts_with_all = ["old", "old_passphrase_env"])]
    pub old_pkcs11: Option<String>,
    /// The key rotated to (PKCS#8 PEM private key, e.g. from `ward keygen`).
    #[arg(long, value_name = "FILE", required_unless_present = "new_pkcs11")]
    pub new: Option<PathBuf>,
    /// The key rotated to, on a PKCS#11 token (e.g. from `ward keygen --pkcs11`).
    #[arg(long, value_name = "URI", conflicts_with_all = ["new", "new_passphrase_env"])]
    pub new_pkcs11: Option<String>,
    /// Read the old key's passphrase from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub old_passphrase_env: Option<String>,
    /// Read the new key's passphrase from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub new_passphrase_env: Option<String>,
    /// When the new key takes over, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Until when the old key's signatures still count, RFC 3339 (default: the rotation time).
    #[arg(long, value_name = "TIME")]
    pub old_valid_until: Option<String>,
    /// Why the key is rotated, recorded in the statement.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The directory to write the statement into (a policy's `rotations` directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
    /// The ledger to record the rotation in: a directory or postgres:// URL (default: the data directory's).
    #[arg(long, value_name = "DIR|URL")]
    pub ledger: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct KeysRevokeArgs {
    /// The key to revoke: its public key (PEM or DER), or its private key.
    pub key: PathBuf,
    /// Signatures from this time on do not count, RFC 3339 (when the key may have been compromised).
    #[arg(long, value_name = "TIME")]
    pub since: String,
    /// Why the key is revoked, recorded in the statement.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Sign the statement with this private key (repeatable; e.g. the revoked key itself, when you still hold it).
    #[arg(long, value_name = "FILE")]
    pub sign_with: Vec<PathBuf>,
    /// The directory to write the statement into (a policy's `rotations` directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
    /// The ledger to record the revocation in: a directory or postgres:// URL (default: the data directory's).
    #[arg(long, value_name = "DIR|URL")]
    pub ledger: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TrustCommand {
    /// Refresh Sigstore's trusted root and the npm registry keys from Sigstore's TUF repository.
    Update(TrustUpdateArgs),
    /// Every root version ward has accepted: thresholds, signers, key changes, expiry.
    Log(TrustLogArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TrustUpdateArgs {
    /// The TUF repository: a URL, or a directory mirror in the published layout (default: https://tuf-repo-cdn.sigstore.dev/).
    #[arg(long, value_name = "URL|DIR")]
    pub repo: Option<String>,
    /// The reference time for expiry checks, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// First update only: start the root chain from this root.json instead of the compiled-in Sigstore root.
    #[arg(long, value_name = "FILE")]
    pub seed_root: Option<PathBuf>,
    /// The ledger to record each accepted root and key set in: a directory or postgres:// URL (default: the data directory's).
    #[arg(long, value_name = "DIR|URL")]
    pub ledger: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct TrustLogArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct TufArgs {
    /// The directory of trusted metadata (root.json, timestamp.json, …).
    #[arg(long, value_name = "DIR")]
    pub metadata_dir: PathBuf,
    /// The repository's metadata URL.
    #[arg(long, value_name = "URL")]
    pub metadata_url: Option<String>,
    /// A target path to download; repeatable, processed in order.
    #[arg(long, value_name = "PATH")]
    pub target_name: Vec<String>,
    /// The repository's targets URL.
    #[arg(long, value_name = "URL")]
    pub target_base_url: Option<String>,
    /// Where downloaded targets are stored.
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: TufCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TufCommand {
    /// Trust the given root.json (verified as self-signed) in an empty metadata directory.
    Init {
        /// The initial trusted root.json.
        trusted_root: PathBuf,
    },
    /// Update root, timestamp, snapshot and targets from the repository.
    Refresh,
    /// Refresh, then download each --target-name into --target-dir.
    Download,
}

#[derive(Debug, Args)]
pub(crate) struct GateArgs {
    /// The policy (default: ward's safe default).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The ledger: a directory, or postgres://… (default: ledger/ in ward's data directory).
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    /// The advisory database (default: the imported one, if any).
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub advisory_age: AdvisoryAgeArgs,
    /// npm registry keys (default: the bundled ones).
    #[arg(long, value_name = "FILE")]
    pub npm_keys: Option<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
}

#[derive(Debug, Args)]
pub(crate) struct UpstreamArgs {
    /// A proxy configuration file (TOML; see docs/proxy.md). Flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// PyPI upstream: a Simple API base URL, or a directory of distributions. Default: https://pypi.org.
    #[arg(long, value_name = "URL|DIR")]
    pub pypi_upstream: Option<String>,
    /// npm upstream: a registry URL, or a directory in verdaccio's storage layout. Default: https://registry.npmjs.org.
    #[arg(long, value_name = "URL|DIR")]
    pub npm_upstream: Option<String>,
    /// cargo upstream: a sparse index URL, or a sparse index directory (crates under crates/). Default: https://index.crates.io.
    #[arg(long, value_name = "URL|DIR")]
    pub cargo_upstream: Option<String>,
    /// A directory of evidence: ARTIFACT.sigstore.json, ARTIFACT.intoto.jsonl.
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
    /// Where to fetch each artifact's rebuild attestation (repeatable): a URL or absolute path
    /// template with {ecosystem}, {name}, {version}, {file} (see docs/rebuilds.md).
    #[arg(long, value_name = "TEMPLATE")]
    pub rebuild_source: Vec<String>,
    /// The cache of allowed artifacts (default: proxy-cache/ in ward's data directory).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Largest artifact fetched from upstream, in bytes (default 1 GiB).
    #[arg(long, value_name = "BYTES")]
    pub max_artifact_bytes: Option<u64>,
    /// Largest metadata document (packument, index page), in bytes (default 64 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_metadata_bytes: Option<u64>,
    /// Deadline for one upstream exchange, body included, in seconds (default 120).
    #[arg(long, value_name = "SECONDS")]
    pub upstream_timeout: Option<u64>,
    /// A host upstream may redirect to (repeatable); other hosts are refused.
    #[arg(long, value_name = "HOST")]
    pub allow_redirect_host: Vec<String>,
    /// A CA certificate (PEM) to trust for upstream TLS besides the system's (repeatable).
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
    /// Probe for FILE.sigstore.json, FILE.sigstore and FILE.intoto.jsonl beside each
    /// artifact of this registry's upstream (repeatable). Default: only for directory upstreams.
    #[arg(long, value_name = "REGISTRY")]
    pub probe_sidecars: Vec<ProbeRegistry>,
    /// Seconds a remote metadata document (packument, index page, index file) is served
    /// from the cache before it is revalidated upstream (default 300; 0: every request).
    #[arg(long, value_name = "SECONDS")]
    pub metadata_ttl: Option<u64>,
    /// How the proxy logs each decision on standard error.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
}

/// A registry the proxy serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ProbeRegistry {
    Pypi,
    Npm,
    Cargo,
}

/// The proxy's decision log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// One line of text per event.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ProxyArgs {
    /// Where to listen (default 127.0.0.1:8787).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    #[command(flatten)]
    pub upstreams: UpstreamArgs,
    #[command(flatten)]
    pub gate: GateArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Where the proxy listens (default: a loopback port fixed per user, 127.0.0.1:(20000 + uid % 10000)).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    #[command(flatten)]
    pub upstreams: UpstreamArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub(crate) struct DbDir {
    /// The advisory database directory. Default: `advisories/` in ward's data directory.
    #[arg(long, value_name = "DIR", global = true)]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdvisoriesCommand {
    /// Import OSV data (directories of .json/.yaml, {"vulns": [...]} files, all.zip) and
    /// RustSec advisory-db checkouts or archives as sources: each path is one source, named
    /// from its data (rustsec, osv-pypi, openssf-malicious, …) unless --source names it. A
    /// source of the same name is replaced; the other sources stay.
    Import {
        /// Files or directories to read.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Import every path as one source of this name.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Refuse records that are not about this ecosystem (OSV name: PyPI, npm, crates.io, Go, Maven).
        #[arg(long, value_name = "ECOSYSTEM")]
        ecosystem: Option<String>,
        /// Replace the whole database (every source) with what is imported now.
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        db: DbDir,
    },
    /// Each source: records, malicious records, age and origin.
    Status {
        /// Warn when a source is older than this many days (default: the
        /// configuration's max_age, else 7).
        #[arg(long)]
        max_age_days: Option<u32>,
        /// Output format (json: docs/advisories.md describes the document).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[command(flatten)]
        db: DbDir,
    },
    /// Fetch the sources named in the advisory configuration (advisories.toml in ward's
    /// data directory), with conditional requests, check them, and swap them in at once.
    Update(AdvisoriesUpdateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AdvisoriesUpdateArgs {
    /// The configuration file. Default: advisories.toml in ward's data directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Update only this source (repeatable). Default: every source configured.
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// A CA certificate (PEM) to trust for TLS besides the system's (repeatable).
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
    /// Deadline for one source's download, in seconds (default 600).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    #[command(flatten)]
    pub db: DbDir,
}

/// How old the advisory data may be, for commands that scan.
#[derive(Debug, Args, Default, Clone)]
pub(crate) struct AdvisoryAgeArgs {
    /// Warn when the advisory data is older than this (`7d`, `36h`; default:
    /// the configuration's max_age, else 7d).
    #[arg(long, value_name = "AGE")]
    pub max_advisory_age: Option<String>,
    /// Deny (`advisories-stale`) when the advisory data is older than this
    /// (`30d`; default: the configuration's deny_after, else never).
    #[arg(long, value_name = "AGE")]
    pub deny_advisories_older_than: Option<String>,
}

/// The verdict `ward ledger search --verdict` filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SearchVerdict {
    /// Allowed (recorded as `PASSED`).
    Allow,
    /// Denied (recorded as `FAILED`).
    Deny,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Level {
    /// Any finding, even unrated ones (unmaintained crates, notices).
    None,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Python virtual environments or site directories, projects with node_modules (or node_modules
    /// itself), cargo vendor/ directories, cargo homes.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// A policy file: exceptions, VEX and [[allow]] silence advisories; [remediation] sets deadlines.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The ledger whose allows are checked against. Default: the one in ward's data directory.
    #[arg(long, value_name = "DIR|URL")]
    pub ledger: Option<PathBuf>,
    /// The proxy cache holding the allowed artifacts. Default: proxy-cache/ in ward's data directory.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Threads hashing packages (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: AuditFormat,
    #[command(flatten)]
    pub db: DbDir,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub(crate) enum AuditFormat {
    /// Each finding (kind, package, file, expected and found), then the totals.
    #[default]
    Text,
    /// The documented JSON document (docs/monitoring.md).
    Json,
    /// SARIF 2.1.0, one result per finding, for GitHub code scanning and other SARIF viewers.
    Sarif,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Lockfiles (Cargo.lock, package-lock.json v2/v3, requirements*.txt, poetry.lock, uv.lock),
    /// CycloneDX or SPDX JSON SBOMs, or artifacts (scanned with their verified SBOM attestations).
    #[arg(required = true)]
    pub targets: Vec<PathBuf>,
    /// Deny when a finding is at or above this severity. Default: the
    /// policy's `fail_on_severity`, else low (every rated vulnerability).
    #[arg(long, value_enum)]
    pub fail_on: Option<Level>,
    /// A policy file: thresholds, licences, exceptions, VEX and deadlines.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// An OpenVEX document (repeatable), in addition to the policy's.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// For artifact targets: a trusted public key for their signatures and
    /// SBOM attestations (repeatable; the policy's keys are trusted too).
    #[arg(long, value_name = "FILE")]
    pub key: Vec<PathBuf>,
    /// For artifact targets: an attestation file (default: ARTIFACT.intoto.jsonl).
    #[arg(long, value_name = "FILE")]
    pub attestation: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Warn when the advisory data is older than this many days (default:
    /// the advisory configuration's max_age, else 7).
    #[arg(long)]
    pub max_age_days: Option<u32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ScanFormat,
    #[command(flatten)]
    pub db: DbDir,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub(crate) enum ScanFormat {
    /// A table grouped by package.
    #[default]
    Text,
    /// The documented JSON schema (docs/scanning.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
}

#[derive(Debug, Args)]
pub(crate) struct LedgerDir {
    /// The ledger directory. Default: the ledger in ward's data directory
    /// ($WARD_DATA_DIR, else $XDG_DATA_HOME/ward, else ~/.local/share/ward).
    #[arg(long, value_name = "DIR", global = true)]
    pub ledger: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum LedgerCommand {
    /// Show one entry: the decision record, with its signature checked.
    Show {
        /// The entry index.
        entry: u64,
        #[command(flatten)]
        dir: LedgerDir,
    },
    /// Print an entry's inclusion proof (c2sp.org/tlog-proof form) against the latest checkpoint.
    Prove {
        /// The entry index.
        entry: u64,
        #[command(flatten)]
        dir: LedgerDir,
    },
    /// Recompute the whole tree from the entries and compare it with the latest checkpoint.
    Verify {
        #[command(flatten)]
        dir: LedgerDir,
    },
    /// Find the decisions about an artifact digest or a package; with
    /// neither, list the most recent decisions. Exit 1 when none is found.
    Search {
        /// The artifact's SHA-256 (hex).
        #[arg(long, value_name = "SHA256", conflicts_with = "purl")]
        digest: Option<String>,
        /// The package (purl; without a version it matches every version).
        #[arg(long, value_name = "PURL")]
        purl: Option<String>,
        /// Only decisions with this verdict.
        #[arg(long, value_enum)]
        verdict: Option<SearchVerdict>,
        /// Only decisions made at or after TIME: an RFC 3339 time
        /// (2026-12-02T10:00:00Z), a date (2026-12-02, midnight UTC), or an
        /// age (30m, 24h, 7d ago).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// At most this many decisions, the most recent ones (default: 20
        /// when none of --digest, --purl and --since is given, else all).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
        /// List events (alerts, ticket transitions, trust roots, snapshots)
        /// instead of decisions; --purl then matches the event's subject.
        #[arg(long, conflicts_with_all = ["digest", "verdict"])]
        events: bool,
        /// Only events of this kind (alert-raised, alert-resolved,
        /// ticket-transition, trust-root-accepted, …); implies --events.
        #[arg(long, value_name = "KIND", conflicts_with_all = ["digest", "verdict"])]
        kind: Option<String>,
        #[command(flatten)]
        dir: LedgerDir,
    },
    /// Print the latest signed checkpoint and the ledger's verifier key.
    Checkpoint {
        #[command(flatten)]
        dir: LedgerDir,
    },
    /// Write the whole log as static files in the C2SP tlog-tiles layout.
    Export {
        /// The output directory (any static file server or CDN can serve it).
        out: PathBuf,
        #[command(flatten)]
        dir: LedgerDir,
    },
    /// Serve the log over HTTP in the tlog-tiles layout; appends need a bearer token with the `append` scope.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: String,
        /// Tokens, one per line: `append <token>`. Without it, the server is read-only.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        #[command(flatten)]
        dir: LedgerDir,
    },
    /// Check a log (URL or directory) against the last checkpoint verified; alerts on rollback, fork or bad signature.
    Monitor {
        /// The log: an http(s) URL or a directory in the tlog-tiles layout.
        source: String,
        /// The log's verifier key (`origin+hash+base64`), or a file holding it.
        #[arg(long, value_name = "VKEY|FILE")]
        key: String,
        /// Where the last verified checkpoint is kept. Default: in ward's data directory.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// A witness whose cosignature counts (`name+hash+base64`, type 0x04). Repeatable.
        #[arg(long, value_name = "VKEY")]
        witness: Vec<String>,
        /// How many distinct listed witnesses must have cosigned the checkpoint.
        #[arg(long, value_name = "K", default_value_t = 0)]
        witness_quorum: usize,
        /// A CA certificate (PEM) to trust for the log's TLS besides the system's (repeatable).
        #[arg(long = "ca-cert", value_name = "FILE")]
        ca_cert: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Validate a policy file; errors point at the file, line and key.
    Check {
        /// The policy file.
        file: PathBuf,
    },
    /// Show which scopes and rules apply to a package.
    Explain {
        /// The policy file.
        file: PathBuf,
        /// The package, as a purl (pkg:npm/%40acme/left-pad@1.3.0).
        purl: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct PassphraseArgs {
    /// Read the key's passphrase from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "passphrase_file")]
    pub passphrase_env: Option<String>,
    /// Read the key's passphrase from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The private key (PKCS#8 PEM, from `ward keygen`).
    #[arg(long, value_name = "FILE", required_unless_present = "pkcs11")]
    pub key: Option<PathBuf>,
    /// Sign on a PKCS#11 token instead: an RFC 7512 URI naming the key
    /// (pkcs11:token=…;object=…). Module: ?module-path= or WARD_PKCS11_MODULE;
    /// PIN: ?pin-source=file:… or WARD_PKCS11_PIN.
    #[arg(long, value_name = "URI", conflicts_with_all = ["key", "passphrase_env", "passphrase_file"])]
    pub pkcs11: Option<String>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Where to write the bundle. Default: ARTIFACT.sigstore.json.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The artifact to sign.
    pub artifact: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct AttestArgs {
    /// The private key (PKCS#8 PEM, from `ward keygen`).
    #[arg(long, value_name = "FILE", required_unless_present = "pkcs11")]
    pub key: Option<PathBuf>,
    /// Sign on a PKCS#11 token instead: an RFC 7512 URI naming the key
    /// (pkcs11:token=…;object=…). Module: ?module-path= or WARD_PKCS11_MODULE;
    /// PIN: ?pin-source=file:… or WARD_PKCS11_PIN.
    #[arg(long, value_name = "URI", conflicts_with_all = ["key", "passphrase_env", "passphrase_file"])]
    pub pkcs11: Option<String>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// The predicate, a JSON file.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "build_inputs",
        conflicts_with = "build_inputs"
    )]
    pub predicate: Option<PathBuf>,
    /// The predicate type URI (e.g. https://slsa.dev/provenance/v1).
    #[arg(
        long = "type",
        value_name = "URI",
        required_unless_present = "build_inputs",
        conflicts_with = "build_inputs"
    )]
    pub predicate_type: Option<String>,
    /// Record the build's inputs instead (see docs/rebuilds.md): toolchain versions, the
    /// lockfile's and config files' digests, allowlisted environment variables, the image.
    #[arg(long)]
    pub build_inputs: bool,
    /// With --build-inputs: the lockfile (its digest; its kind names the toolchains asked).
    #[arg(long, value_name = "FILE", requires = "build_inputs")]
    pub lockfile: Option<PathBuf>,
    /// With --build-inputs: a package-manager configuration file (digest only; repeatable).
    #[arg(long = "config-file", value_name = "FILE", requires = "build_inputs")]
    pub config_file: Vec<PathBuf>,
    /// With --build-inputs: an environment variable to record (repeatable; only these are).
    #[arg(long = "env", value_name = "VAR", requires = "build_inputs")]
    pub env_allow: Vec<String>,
    /// With --build-inputs: the container image the build ran in (name it by digest).
    #[arg(long, value_name = "REF", requires = "build_inputs")]
    pub image: Option<String>,
    /// With --build-inputs: a tool whose version to record (node, npm, cargo, rustc, python, pip, uv).
    #[arg(long = "toolchain", value_name = "TOOL", requires = "build_inputs")]
    pub toolchain: Vec<String>,
    /// Where to write the bundle. Default: appended as one line to ARTIFACT.intoto.jsonl.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The artifact the statement is about.
    pub artifact: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum KeyAlgorithm {
    /// Ed25519.
    Ed25519,
    /// ECDSA over P-256 with SHA-256.
    EcdsaP256,
}

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The key algorithm. Default: ed25519 for a key file, ecdsa-p256 on a token.
    #[arg(long, value_enum)]
    pub algorithm: Option<KeyAlgorithm>,
    /// Write PREFIX.key (private, mode 0600) and PREFIX.pub; with --pkcs11, PREFIX.pub only.
    #[arg(long, short, value_name = "PREFIX", default_value = "ward")]
    pub output: PathBuf,
    /// Generate the key pair on a PKCS#11 token (RFC 7512 URI with object=LABEL);
    /// the private key never leaves it. Module: ?module-path= or
    /// WARD_PKCS11_MODULE; PIN: ?pin-source=file:… or WARD_PKCS11_PIN.
    #[arg(long, value_name = "URI", conflicts_with_all = ["passphrase_env", "passphrase_file"])]
    pub pkcs11: Option<String>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub(crate) enum VerifyFormat {
    /// One line per reason.
    #[default]
    Text,
    /// The documented JSON schema (docs/json-output.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub(crate) enum Format {
    /// One line per reason.
    #[default]
    Text,
    /// The documented JSON schema (docs/json-output.md).
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct SignerArgs {
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

/// slsa-verifier's `verify-artifact` flags (docs/provenance.md).
#[derive(Debug, Args)]
pub(crate) struct SlsaArgs {
    /// Require provenance built from this repository, by slsa-verifier's rules (`github.com/OWNER/REPO`).
    #[arg(long, value_name = "URI")]
    pub source_uri: Option<String>,
    /// With --source-uri: the tag the artifact was built from (exact).
    #[arg(
        long,
        value_name = "TAG",
        requires = "source_uri",
        conflicts_with = "source_versioned_tag"
    )]
    pub source_tag: Option<String>,
    /// With --source-uri: the branch the artifact was built from.
    #[arg(long, value_name = "BRANCH", requires = "source_uri")]
    pub source_branch: Option<String>,
    /// With --source-uri: a semantic-version tag prefix (`v1` matches v1.x.y, `v1.2` matches v1.2.y).
    #[arg(long, value_name = "vX[.Y[.Z]]", requires = "source_uri")]
    pub source_versioned_tag: Option<String>,
    /// With --source-uri: the builder (`ID` matches any version of it, `ID@REF` only that one).
    #[arg(long, value_name = "ID[@REF]", requires = "source_uri")]
    pub builder_id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct TrustArgs {
    /// Use this Sigstore trusted root instead of the bundled production root.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Use the bundled Sigstore staging root.
    #[arg(long, conflicts_with = "trusted_root")]
    pub staging: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
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
    /// An attestation (repeatable): a Sigstore bundle, a DSSE envelope, a .jsonl of either, an npm
    /// attestations response, or a PyPI attestation or provenance object. Default: ARTIFACT.intoto.jsonl.
    #[arg(long, value_name = "FILE")]
    pub attestation: Vec<PathBuf>,
    /// A rebuild attestation (repeatable): OSS Rebuild's rebuild.intoto.jsonl, or one written by
    /// `ward rebuild compare --attest`. Default: ARTIFACT.rebuild.intoto.jsonl.
    #[arg(long, value_name = "FILE")]
    pub rebuild: Vec<PathBuf>,
    /// SLSA provenance for the artifact (repeatable; slsa-verifier's `--provenance-path`): read like --attestation.
    #[arg(long, value_name = "FILE")]
    pub provenance: Vec<PathBuf>,
    #[command(flatten)]
    pub slsa: SlsaArgs,
    /// Decide with this policy file (ward.toml) instead of ward's safe default.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// npm registry keys (keys.json format) replacing the bundled ones.
    #[arg(long, value_name = "FILE")]
    pub npm_keys: Option<PathBuf>,
    /// The ledger every decision is appended to. Default: the ledger in ward's data directory.
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    /// Scan against this advisory database. Default: the one in ward's data directory, when imported.
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub advisory_age: AdvisoryAgeArgs,
    /// With a database: deny known vulnerabilities at or above this severity
    /// (replaces the policy's `fail_on_severity`; default low).
    #[arg(long, value_enum)]
    pub fail_on: Option<Level>,
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The package the artifact is expected to be (checked against its own metadata); names plain files.
    #[arg(long, value_name = "PURL")]
    pub purl: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: VerifyFormat,
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
pub(crate) enum SigstoreCommand {
    /// Verify one bundle, speaking the sigstore-conformance CLI protocol.
    VerifyBundle(VerifyBundleArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyBundleArgs {
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
pub(crate) struct ReasonsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
