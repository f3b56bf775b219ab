//! `ward completions SHELL` and `ward man --out DIR`: shell completions
//! and man pages generated from the clap definitions (`clap_complete`,
//! `clap_mangen`), so they never drift from the real arguments.

use super::{Usage, or_usage};
use crate::args::{Cli, CompletionsArgs, ManArgs};
use crate::output;
use clap::CommandFactory as _;

/// Prints the completion script for one shell.
pub(super) fn completions(args: &CompletionsArgs) -> u8 {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "ward", &mut script);
    output::generated::completion_script(&script);
    crate::EXIT_ALLOW
}

/// Writes `ward.1` and one page per subcommand (`ward-verify.1`,
/// `ward-ledger-show.1`, ...) into the directory.
pub(super) fn man(args: &ManArgs) -> u8 {
    or_usage(|| {
        let dir = &args.out;
        std::fs::create_dir_all(dir).map_err(|e| Usage(format!("cannot create {}: {e}", dir.display())))?;
        let mut command = Cli::command().disable_help_subcommand(true);
        command.build();
        let mut pages = Vec::new();
        write_pages(command, dir, &mut pages)?;
        pages.sort();
        output::generated::man_pages_written(dir, &pages);
        Ok(crate::EXIT_ALLOW)
    })
}

/// Writes the page of `command` and of each subcommand below it (clap
/// names them after the command path, `ward-ledger-show.1`).
fn write_pages(command: clap::Command, dir: &std::path::Path, pages: &mut Vec<String>) -> Result<(), Usage> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
        write_pages(sub, dir, pages)?;
    }
    let man = clap_mangen::Man::new(command);
    let name = man.get_filename();
    man.generate_to(dir)
        .map_err(|e| Usage(format!("cannot write {}: {e}", dir.join(&name).display())))?;
    pages.push(name);
    Ok(())
}
