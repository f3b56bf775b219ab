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
