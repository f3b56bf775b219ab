//! `ward rebuild`: reproducible builds. `compare` says whether a rebuild
//! equals the published artifact after normalisation (exit 0) or not
//! (exit 1, file by file), and with `--attest` signs what it found as a
//! statement `ward verify --rebuild` reads.

use super::{Usage, or_usage};
use crate::args::{Format, PassphraseArgs};
use crate::output;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use ward_identify::Limits;

#[derive(Debug, Subcommand)]
pub(crate) enum RebuildCommand {
    /// Compare a published artifact with a rebuild of it, after normalisation (entry order,
    /// timestamps, owners, modes, compression); exit 1 when they differ.
    Compare(CompareArgs),
    /// Rebuild a published npm tarball or crate from a local git checkout (npm pack / cargo
    /// package, fresh HOME, offline), compare, and record the result in the ledger.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The published artifact (.tgz for npm, .crate for cargo).
    pub original: PathBuf,
    /// The package's git repository: a local directory (nothing is fetched).
    #[arg(long, value_name = "DIR")]
    pub source: PathBuf,
    /// The commit to build (default: the checkout's HEAD); e.g. the one the provenance names.
    #[arg(long, value_name = "REV")]
    pub commit: Option<String>,
    /// The package's directory inside the repository.
    #[arg(long, value_name = "PATH")]
    pub subdir: Option<PathBuf>,
    /// The repository's public URL, written in the statement (compared with the provenance's).
    #[arg(long, value_name = "URL")]
    pub source_repository: Option<String>,
    /// Run npm lifecycle scripts (prepack, prepare, ...); by default they do not run.
    #[arg(long)]
    pub run_scripts: bool,
    /// The longest any one step may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub timeout: u64,
    /// Sign what was found (with the Rebuild statement: commit, toolchain, steps); needs --key.
    #[arg(long, requires = "key")]
    pub attest: bool,
    /// The private key to sign with (PKCS#8 PEM, from `ward keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Where to write the statements. Default: ORIGINAL.rebuild.intoto.jsonl.
    #[arg(long, short, value_name = "FILE", requires = "attest")]
    pub output: Option<PathBuf>,
    /// The builder id written in the statements.
    #[arg(long, value_name = "URI", default_value = ward_rebuild::attest::DEFAULT_BUILDER_ID)]
    pub builder_id: String,
    /// The ledger the result is recorded in. Default: the ledger in ward's data directory.
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// The published artifact (.tgz, .tar.gz, .crate, .whl, .zip).
    pub original: PathBuf,
    /// The rebuilt artifact.
    pub rebuilt: PathBuf,
    /// Sign what was found (equivalence, or divergence) as an in-toto statement
    /// that `ward verify --rebuild` accepts; needs --key.
    #[arg(long, requires = "key")]
    pub attest: bool,
    /// The private key to sign with (PKCS#8 PEM, from `ward keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Where to write the statement. Default: ORIGINAL.rebuild.intoto.jsonl (the sidecar `ward verify` reads).
    #[arg(long, short, value_name = "FILE", requires = "attest")]
    pub output: Option<PathBuf>,
    /// The builder id written in the statement (who rebuilt it).
    #[arg(long, value_name = "URI", default_value = ward_rebuild::attest::DEFAULT_BUILDER_ID)]
    pub builder_id: String,
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

pub(super) fn run(cmd: RebuildCommand) -> u8 {
    match cmd {
        RebuildCommand::Compare(args) => compare(&args),
        RebuildCommand::Run(args) => run_rebuild(&args),
    }
}

fn compare(args: &CompareArgs) -> u8 {
    or_usage(|| {
        let limits = Limits {
            max_entries: args.max_entries,
            max_unpacked: args.max_unpacked,
            max_ratio: args.max_ratio,
            ..Limits::default()
        };
        let comparison = ward_rebuild::compare(&args.original, &args.rebuilt, &limits)?;
        let written = if args.attest {
            let key = super::publish::signing_key(args.key.as_deref(), None, &args.passphrase)?;
            let statement = ward_rebuild::attest::statement(
                &args.original,
                &args.rebuilt,
                &comparison,
                &args.builder_id,
                crate::clock::now()?,
            )?;
            let line = ward_rebuild::attest::sign(&statement, &key)?;
            let out = args.output.clone().unwrap_or_else(|| {
                PathBuf::from(format!(
                    "{}{}",
                    args.original.display(),
                    ward_verify::rebuild::SIDECAR_SUFFIX
                ))
            });
            std::fs::write(&out, line).map_err(|e| Usage(format!("cannot write {}: {e}", out.display())))?;
            Some((out, key.fingerprint()))
        } else {
            None
        };
        output::rebuild::comparison(&comparison, written.as_ref(), args.format);
        Ok(if comparison.equivalent() {
            crate::EXIT_ALLOW
        } else {
            crate::EXIT_DENY
        })
    })
}

/// What `ward rebuild run` records in the ledger (an event of kind `rebuild`).
#[derive(serde::Serialize)]
struct Recorded<'a> {
    artifact: &'a str,
    equivalent: bool,
    commit: &'a str,
    toolchain: &'a str,
    steps: &'a [String],
    rebuilt_sha256: String,
    differences: usize,
}

fn run_rebuild(args: &RunArgs) -> u8 {
    or_usage(|| {
        let name = args
            .original
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tool = ward_rebuild::run::Tool::for_artifact(&name)
            .ok_or_else(|| Usage(format!("{name}: ward rebuilds npm tarballs (.tgz) and crates (.crate)")))?;
        let work = tempfile::tempdir().map_err(|e| Usage(format!("cannot make a temporary directory: {e}")))?;
        let spec = ward_rebuild::run::RunSpec {
            tool,
            source: args.source.clone(),
            commit: args.commit.clone(),
            subdir: args.subdir.clone(),
            run_scripts: args.run_scripts,
            timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        };
        let rebuilt = ward_rebuild::run::rebuild(&spec, work.path())?;
        let comparison = ward_rebuild::compare(&args.original, &rebuilt.artifact, &Limits::default())?;
        let now = crate::clock::now()?;
        let written = if args.attest {
            let key = super::publish::signing_key(args.key.as_deref(), None, &args.passphrase)?;
            let equivalence =
                ward_rebuild::attest::statement(&args.original, &rebuilt.artifact, &comparison, &args.builder_id, now)?;
            let rebuild = ward_rebuild::attest::rebuild_statement(
                &args.original,
                &rebuilt.artifact,
                &rebuilt,
                args.source_repository.as_deref(),
                &args.builder_id,
                now,
            )?;
            let text = ward_rebuild::attest::sign(&equivalence, &key)? + &ward_rebuild::attest::sign(&rebuild, &key)?;
            let out = args.output.clone().unwrap_or_else(|| {
                PathBuf::from(format!(
                    "{}{}",
                    args.original.display(),
                    ward_verify::rebuild::SIDECAR_SUFFIX
                ))
            });
            std::fs::write(&out, text).map_err(|e| Usage(format!("cannot write {}: {e}", out.display())))?;
            Some((out, key.fingerprint()))
        } else {
            None
        };
        let rebuilt_sha256 = ward_identify::hash::digest_reader(
            std::fs::File::open(&rebuilt.artifact).map_err(|e| Usage(e.to_string()))?,
        )
        .map_err(|e| Usage(e.to_string()))?
        .0
        .sha256
        .to_hex();
        let detail = Recorded {
            artifact: &name,
            equivalent: comparison.equivalent(),
            commit: &rebuilt.commit,
            toolchain: &rebuilt.toolchain,
            steps: &rebuilt.steps,
            rebuilt_sha256,
            differences: comparison.differences.len(),
        };
        let original_sha256 =
            ward_identify::hash::digest_reader(std::fs::File::open(&args.original).map_err(|e| Usage(e.to_string()))?)
                .map_err(|e| Usage(e.to_string()))?
                .0
                .sha256
                .to_hex();
        let mut ledger = super::open_ledger(args.ledger.as_deref())?;
        let outcome = if comparison.equivalent() {
            "reproduced"
        } else {
            "diverged"
        };
        let entry = ward_ledger::event::EventRecord::new(
            ward_ledger::event::EventKind::Other("rebuild".into()),
            comparison.package.as_deref().unwrap_or(&name),
            now,
            env!("CARGO_PKG_VERSION"),
        )
        .with_digest("sha256", &original_sha256)
        .with_code(outcome)
        .with_summary(&format!(
            "rebuilt {name} from commit {} with {}: {outcome}",
            rebuilt.commit, rebuilt.toolchain
        ))
        .with_detail(&detail)
        .and_then(|e| e.sign(ledger.signer()))
        .map_err(|e| Usage(e.to_string()))?;
        let index = ledger.append(&[entry])?.first_index;
        output::rebuild::rebuilt(
            &output::rebuild::RunReport {
                commit: &rebuilt.commit,
                toolchain: &rebuilt.toolchain,
                steps: &rebuilt.steps,
                ledger_index: index,
            },
            &comparison,
            written.as_ref(),
            args.format,
        );
        Ok(if comparison.equivalent() {
            crate::EXIT_ALLOW
        } else {
            crate::EXIT_DENY
        })
    })
}
