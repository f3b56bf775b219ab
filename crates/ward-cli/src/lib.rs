//! The `ward` command line: argument parsing, the output layer and exit
//! codes, over the libraries that do the work.
//!
//! Exit codes: 0 allowed, 1 denied, 2 could not evaluate (usage error,
//! unreadable file). Both non-zero codes block an install.

#![forbid(unsafe_code)]

mod args;
mod clock;
mod commands;
mod output;

use clap::Parser;
use std::ffi::OsString;
use std::process::ExitCode;

/// Exit code: the artifact is allowed.
pub const EXIT_ALLOW: u8 = 0;
/// Exit code: the artifact is denied.
pub const EXIT_DENY: u8 = 1;
/// Exit code: ward could not evaluate (usage, unreadable input).
pub const EXIT_ERROR: u8 = 2;

/// The clap definition of the whole command line: what `--help`, the shell
/// completions, the man pages and the help snapshot tests are made from.
pub fn command() -> clap::Command {
    <args::Cli as clap::CommandFactory>::command()
}

/// Parses `args` and runs the command; returns the process exit code.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_ALLOW };
            output::clap_error(&e);
            return ExitCode::from(code);
        }
    };
    ExitCode::from(commands::run(cli))
}
