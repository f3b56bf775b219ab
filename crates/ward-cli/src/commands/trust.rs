//! `ward trust update` and `ward trust log`: Sigstore's trusted root and the
//! npm registry keys, refreshed over TUF into ward's data directory
//! (`trust/`), and the audited history of every root version ward accepted.
//! Also the lookups other commands use: the updated trusted root and npm
//! keys, preferred over the compiled-in seeds once an update succeeded.

use super::{Usage, data_dir, or_usage};
use crate::args::{Format, TrustCommand, TrustLogArgs, TrustUpdateArgs};
use crate::output;
use std::fmt::Write as _;
use std::time::Duration;
use ward_trust::history::{KeyRef, describe};
use ward_trust::store::{DEFAULT_REPOSITORY, NPM_KEYS_TARGET, StoreError, TRUSTED_ROOT_TARGET, TrustStore};
use ward_trust::{DirFetcher, Fetcher, HttpFetcher, Limits};
use ward_verify::{RegistryKeys, TrustRoot};

/// How long one HTTP request to the repository may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// ward's trusted state: `trust/` in the data directory.
pub(super) fn store() -> TrustStore {
    TrustStore::new(data_dir().join("trust"))
}

fn state_error(e: StoreError) -> Usage {
    Usage(format!(
        "{e} ({}); run `ward trust update` to replace the trusted state",
        e.rule()
    ))
}

/// The Sigstore trusted root from the last `ward trust update`, if any. A
/// stored root that does not match what the update verified, or does not
/// parse, is an error: never a silent fallback to the compiled-in one.
pub(super) fn updated_trusted_root() -> Result<Option<TrustRoot>, Usage> {
    let store = store();
    let Some(data) = store.target(TRUSTED_ROOT_TARGET).map_err(state_error)? else {
        return Ok(None);
    };
    let text = String::from_utf8(data).map_err(|e| Usage(format!("stored trusted_root.json: {e}")))?;
    let source = format!(
        "Sigstore trusted root from `ward trust update` ({})",
        store.dir().display()
    );
    TrustRoot::from_json(&text, source)
        .map(Some)
        .map_err(|e| Usage(format!("stored trusted_root.json: {e}")))
}

/// The npm registry keys from the last `ward trust update`, if any; same
/// rules as [`updated_trusted_root`].
pub(super) fn updated_npm_keys() -> Result<Option<RegistryKeys>, Usage> {
    let Some(data) = store().target(NPM_KEYS_TARGET).map_err(state_error)? else {
        return Ok(None);
    };
    let text = String::from_utf8(data).map_err(|e| Usage(format!("stored npm registry keys: {e}")))?;
    RegistryKeys::from_json(&text)
        .map(Some)
        .map_err(|e| Usage(format!("stored npm registry keys: {e}")))
}

pub(super) fn run(cmd: TrustCommand) -> u8 {
    match cmd {
        TrustCommand::Update(args) => update(&args),
        TrustCommand::Log(args) => or_usage(|| log(&args)),
    }
}

fn update(args: &TrustUpdateArgs) -> u8 {
    let prepared = (|| -> Result<_, Usage> {
        let clock_now = crate::clock::now()?;
        let now = match &args.at {
            Some(t) => t.parse::<jiff::Timestamp>().map_err(|e| {
                Usage(format!(
                    "--at {t:?}: {e} (expected RFC 3339, e.g. 2026-08-27T00:00:00Z)"
                ))
            })?,
            None => clock_now,
        };
        let seed = args
            .seed_root
            .as_deref()
            .map(|p| {
                ward_input::read_bounded(p, "--seed-root", Limits::default().root_max_length)
                    .map_err(|e| Usage(e.to_string()))
            })
            .transpose()?;
        let repo = args.repo.clone().unwrap_or_else(|| DEFAULT_REPOSITORY.to_string());
        let (metadata, targets, fetcher): (String, String, Box<dyn Fetcher>) =
            if repo.starts_with("https://") || repo.starts_with("http://") {
                let base = if repo.ends_with('/') {
                    repo.clone()
                } else {
                    format!("{repo}/")
                };
                (
                    base.clone(),
                    format!("{base}targets/"),
                    Box::new(HttpFetcher::new(TIMEOUT)),
                )
            } else {
                let dir = std::path::Path::new(&repo);
                if !dir.is_dir() {
                    return Err(Usage(format!(
                        "--repo {repo}: not a URL (http:// or https://) nor a directory"
                    )));
                }
                let base = format!("{}/", repo.trim_end_matches('/'));
                (base.clone(), format!("{base}targets/"), Box::new(DirFetcher))
            };
        Ok((now, clock_now, seed, metadata, targets, fetcher))
    })();
    let (now, accepted_at, seed, metadata, targets, fetcher) = match prepared {
        Ok(p) => p,
        Err(Usage(message)) => {
            output::error(&message);
            return crate::EXIT_ERROR;
        }
    };
    let store = store();
    let ledger = args.ledger.as_deref();
    let mut record = |updated: &ward_trust::store::Updated, roots: &[ward_trust::store::Accepted]| {
        super::trust_events::trust_update(ledger, updated, roots, &metadata, accepted_at)
    };
    match store.update_recorded(
        &metadata,
        &targets,
        fetcher.as_ref(),
        seed.as_deref(),
        now,
        accepted_at,
        &mut record,
    ) {
        Ok(report) => {
            let mut out = String::new();
            let accepted = match report.accepted.as_slice() {
                [] => "no new root version".to_string(),
                [one] => format!("accepted root v{one}"),
                [first, .., last] => format!("accepted root v{first} to v{last}"),
            };
            let _ = writeln!(
                out,
                "ok: trusted state updated from {metadata}: root v{} ({accepted}); in {}",
                report.root_after,
                store.dir().display()
            );
            for (name, sha256, changed) in &report.targets {
                let what = if *changed { "updated" } else { "unchanged" };
                let _ = writeln!(out, "  {name}  sha256:{sha256}  {what}");
            }
            output::trust(&out);
            crate::EXIT_ALLOW
        }
        Err(StoreError::Tuf(e)) => {
            output::error(&format!(
                "trust update refused: tuf {}: {e}; the previous trusted state is kept",
                e.rule()
            ));
            crate::EXIT_DENY
        }
        Err(e) => {
            output::error(&format!(
                "trust update failed ({}): {e}; the previous trusted state is kept",
                e.rule()
            ));
            crate::EXIT_ERROR
        }
    }
}

fn short(k: &KeyRef) -> String {
    let id: String = k.keyid.chars().take(16).collect();
    match &k.owner {
        Some(owner) => format!("{id} ({owner}; {})", k.roles.join(", ")),
        None => format!("{id} ({})", k.roles.join(", ")),
    }
}

fn log(args: &TrustLogArgs) -> Result<u8, Usage> {
    let store = store();
    let history = store.history().map_err(state_error)?;
    let now = crate::clock::now()?;
    let mut entries = Vec::new();
    let mut text = String::new();
    if history.is_empty() {
        let _ = writeln!(
            text,
            "ward has not updated its trust: it uses the compiled-in Sigstore trusted root and npm registry keys \
             (seed: Sigstore root v15). Run `ward trust update`."
        );
    }
    if let Some((at, repository)) = store.last_update().map_err(state_error)? {
        let _ = writeln!(
            text,
            "last update {at} from {repository} (state in {})",
            store.dir().display()
        );
    }
    for (i, accepted) in history.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| history[p].root.as_bytes());
        let change = describe(previous, accepted.root.as_bytes())
            .map_err(|e| Usage(format!("trusted root history, root v{}: {e}", accepted.version)))?;
        let mut value = serde_json::to_value(&change).map_err(|e| Usage(e.to_string()))?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("accepted_at".into(), accepted.accepted_at.to_string().into());
            obj.insert("how".into(), accepted.how.clone().into());
            obj.insert("repository".into(), accepted.repository.clone().into());
            obj.insert("root_keys_changed".into(), change.root_keys_changed().into());
        }
        entries.push(value);

        let expired = if change.expires < now { " (expired)" } else { "" };
        let _ = writeln!(
            text,
            "root v{}  accepted {} ({})  expires {}{expired}",
            change.version, accepted.accepted_at, accepted.how, change.expires
        );
        let thresholds: Vec<String> = change
            .thresholds
            .iter()
            .map(|t| format!("{} {} of {}", t.role, t.threshold, t.keys))
            .collect();
        let _ = writeln!(text, "  thresholds: {}", thresholds.join(", "));
        let signers: Vec<String> = change.signed_by.iter().map(short).collect();
        let _ = writeln!(text, "  signed by {} key(s): {}", signers.len(), signers.join(", "));
        if i > 0 {
            if change.added.is_empty() && change.removed.is_empty() && change.reencoded.is_empty() {
                let _ = writeln!(text, "  keys: no change");
            }
            for k in &change.added {
                let _ = writeln!(text, "  key added: {}", short(k));
            }
            for k in &change.removed {
                let _ = writeln!(text, "  key removed: {}", short(k));
            }
            for r in &change.reencoded {
                let _ = writeln!(
                    text,
                    "  key re-encoded (same key, new key ID): {} -> {}",
                    short(&r.before),
                    short(&r.after)
                );
            }
            for r in &change.role_changes {
                let _ = writeln!(
                    text,
                    "  key roles changed: {}: {} -> {}",
                    r.after.keyid.chars().take(16).collect::<String>(),
                    r.before.roles.join(", "),
                    r.after.roles.join(", ")
                );
            }
        }
    }
    match args.format {
        Format::Json => output::json_value(&serde_json::Value::Array(entries)),
        Format::Text => output::trust(&text),
    }
    Ok(crate::EXIT_ALLOW)
}
