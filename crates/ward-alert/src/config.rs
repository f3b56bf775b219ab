//! The `[watch]` and `[owners]` tables: sinks and timing for `ward watch`,
//! owners for `ward tickets`. They are read from the file given with
//! `--config` (a file of their own, or the policy file: other top-level
//! tables are left to their readers). Unknown keys inside `[watch]` are
//! errors, so a misspelt sink is never silently no sink.
//!
//! Secrets are not kept in the file: a webhook's bearer token is read from
//! the environment variable the file names (`token_env`).

use crate::AlertError;
use crate::watch::parse_interval;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The largest configuration file read.
const MAX_BYTES: u64 = 4 << 20;

/// `[watch]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WatchConfig {
    /// How often to re-audit (`10m`); `--interval` overrides it.
    pub interval: Option<String>,
    /// The quiet period after file changes before a round (`2s`).
    pub debounce: Option<String>,
    /// Webhooks.
    #[serde(default)]
    pub webhook: Vec<WebhookEntry>,
    /// JSON lines files.
    #[serde(default)]
    pub file: Vec<FileEntry>,
    /// Syslog (journald listens on the same socket).
    pub syslog: Option<SyslogEntry>,
}

/// `[[watch.webhook]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookEntry {
    /// The URL POSTed to.
    pub url: String,
    /// The environment variable holding a bearer token.
    pub token_env: Option<String>,
    /// The longest one attempt may take (`10s`).
    pub timeout: Option<String>,
    /// The most alerts that may wait (default 10,000).
    pub spool_max: Option<usize>,
    /// The longest wait between attempts (`5m`).
    pub backoff_max: Option<String>,
}

/// `[[watch.file]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FileEntry {
    /// The file appended to.
    pub path: PathBuf,
}

/// `[watch.syslog]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SyslogEntry {
    /// `daemon` (default), `user`, `local0`…`local7`, `auth`.
    pub facility: Option<String>,
    /// A socket other than the system's (`/dev/log`).
    pub socket: Option<PathBuf>,
}

/// One owner or several.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum OwnerList {
    One(String),
    Many(Vec<String>),
}

/// The whole configuration.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Config {
    /// `[watch]`.
    pub watch: WatchConfig,
    /// `[owners]`: pattern → owners. A pattern starting `pkg:` matches the
    /// package's purl (`*` matches anything); any other is a CODEOWNERS
    /// pattern matched against where the finding was found.
    pub owners: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    watch: WatchConfig,
    #[serde(default)]
    owners: BTreeMap<String, OwnerList>,
}

impl Config {
    /// Reads the tables from `path`.
    pub fn load(path: &Path) -> Result<Self, AlertError> {
        let text = ward_input::read_string_bounded(path, "watch configuration", MAX_BYTES)
            .map_err(|e| AlertError::Config(e.to_string()))?;
        Self::parse(&text).map_err(|e| AlertError::Config(format!("{}: {e}", path.display())))
    }

    /// Reads the tables from TOML text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: Raw = toml::from_str(text).map_err(|e| e.to_string())?;
        let owners = raw
            .owners
            .into_iter()
            .map(|(k, v)| {
                let list = match v {
                    OwnerList::One(o) => vec![o],
                    OwnerList::Many(l) => l,
                };
                (k, list)
            })
            .collect();
        let config = Self {
            watch: raw.watch,
            owners,
        };
        // Durations are checked now, not at the first alert.
        for d in [&config.watch.interval, &config.watch.debounce].into_iter().flatten() {
            parse_interval(d).map_err(|e| e.to_string())?;
        }
        for w in &config.watch.webhook {
            for d in [&w.timeout, &w.backoff_max].into_iter().flatten() {
                parse_interval(d).map_err(|e| e.to_string())?;
            }
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return Err(format!("webhook url {:?} is not http:// or https://", w.url));
            }
            if w.spool_max == Some(0) {
                return Err("webhook spool_max must be at least 1".into());
            }
        }
        if let Some(s) = &config.watch.syslog {
            crate::sink::syslog::facility(s.facility.as_deref().unwrap_or("daemon")).map_err(|e| e.to_string())?;
        }
        Ok(config)
    }
}

impl WebhookEntry {
    /// The per-attempt timeout (default 10 s).
    pub fn timeout(&self) -> Duration {
        self.timeout
            .as_deref()
            .and_then(|t| parse_interval(t).ok())
            .unwrap_or(Duration::from_secs(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_read_and_mistakes_are_errors() {
        let c = Config::parse(
            r#"
            version = 1
            [defaults]
            mode = "enforce"
            [watch]
            interval = "5m"
            [[watch.webhook]]
            url = "https://hooks.example.invalid/ward"
            token_env = "HOOK_TOKEN"
            [[watch.file]]
            path = "/var/log/ward/alerts.jsonl"
            [watch.syslog]
            facility = "local3"
            [owners]
            "pkg:npm/*" = "@web"
            "services/api/" = ["@api", "alice@example.invalid"]
            "#,
        )
        .unwrap();
        assert_eq!(c.watch.webhook.len(), 1);
        assert_eq!(c.owners["pkg:npm/*"], ["@web"]);
        assert_eq!(c.owners["services/api/"].len(), 2);
        assert!(Config::parse("[watch]\nwebhooks = []").is_err());
        assert!(Config::parse("[watch]\ninterval = \"soon\"").is_err());
        assert!(Config::parse("[[watch.webhook]]\nurl = \"ftp://x\"").is_err());
        assert!(Config::parse("[watch.syslog]\nfacility = \"nope\"").is_err());
    }
}
