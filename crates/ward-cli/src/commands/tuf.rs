//! `ward tuf`: the TUF client behind the tuf-conformance client protocol
//! (`init`, `refresh`, `download`). Exit 0 when the command succeeded
//! fully, 1 otherwise, as the protocol requires; the one-line reason names
//! the TUF rule that failed.

use crate::args::{TufArgs, TufCommand};
use crate::output;
use std::time::Duration;
use ward_trust::{HttpFetcher, Limits, TufError, Updater};

/// How long one HTTP request to the repository may take.
const TIMEOUT: Duration = Duration::from_secs(60);

pub(super) fn run(args: TufArgs) -> u8 {
    let needs_urls = matches!(args.command, TufCommand::Refresh | TufCommand::Download);
    let needs_targets = matches!(args.command, TufCommand::Download);
    if needs_urls && args.metadata_url.is_none()
        || needs_targets && (args.target_base_url.is_none() || args.target_dir.is_none())
    {
        output::error("ward tuf: refresh needs --metadata-url; download also --target-base-url and --target-dir");
        return crate::EXIT_ERROR;
    }
    let now = match crate::clock::now() {
        Ok(now) => now,
        Err(crate::commands::Usage(message)) => {
            output::error(&message);
            return crate::EXIT_ERROR;
        }
    };
    match run_inner(&args, now) {
        Ok(()) => 0,
        Err(e) => {
            output::error(&format!("tuf {}: {e}", e.rule()));
            1
        }
    }
}

/// Unreachable after `run`'s check; kept so `run_inner` never panics.
fn missing(flag: &str) -> TufError {
    TufError::Fetch {
        url: flag.to_string(),
        reason: "not given".to_string(),
    }
}

/// `now` is the reference time for every expiry check: read once, by the
/// caller from ward's clock, never in the library.
fn run_inner(args: &TufArgs, now: jiff::Timestamp) -> Result<(), TufError> {
    let fetcher = HttpFetcher::new(TIMEOUT);
    match &args.command {
        TufCommand::Init { trusted_root } => {
            let root = ward_input::read_bounded(trusted_root, "trusted TUF root", Limits::default().root_max_length)
                .map_err(|e| TufError::NoTrustedRoot(e.to_string()))?;
            ward_trust::init(&args.metadata_dir, &root, now)
        }
        TufCommand::Refresh => {
            let url = args.metadata_url.as_deref().ok_or_else(|| missing("--metadata-url"))?;
            Updater::new(&args.metadata_dir, url, &fetcher, now, Limits::default())?.refresh()
        }
        TufCommand::Download => {
            let url = args.metadata_url.as_deref().ok_or_else(|| missing("--metadata-url"))?;
            let base = args
                .target_base_url
                .as_deref()
                .ok_or_else(|| missing("--target-base-url"))?;
            let dir = args.target_dir.as_deref().ok_or_else(|| missing("--target-dir"))?;
            let mut updater = Updater::new(&args.metadata_dir, url, &fetcher, now, Limits::default())?;
            updater.refresh()?;
            for name in &args.target_name {
                let info = updater.target_info(name)?;
                if updater.cached_target(dir, name, &info).is_none() {
                    updater.download_target(base, dir, name, &info)?;
                }
            }
            Ok(())
        }
    }
}
