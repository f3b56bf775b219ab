//! Output of the generated documents: shell completion scripts (printed) and
//! man pages (written to a directory, then named).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;

/// `ward completions SHELL`: the script, as generated.
pub(crate) fn completion_script(script: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(script).and_then(|()| out.flush()) {
        super::error(&format!("cannot write the completion script: {e}"));
    }
}

/// `ward man --out DIR`: the pages written.
pub(crate) fn man_pages_written(dir: &std::path::Path, pages: &[String]) {
    println!(
        "wrote {} man pages to {}: {}",
        pages.len(),
        dir.display(),
        pages.join(", ")
    );
}
