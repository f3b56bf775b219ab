//! The advisory configuration: `advisories.toml` in ward's data directory
//! (or `ward advisories update --config FILE`). It names the sources
//! `ward advisories update` fetches, and how old the data may grow before
//! commands that scan warn (`max_age`) or `ward verify` and the proxy deny
//! (`deny_after`). A missing default file is an empty configuration; a
//! file that does not parse, or names a source twice, is an error.

use super::{Usage, data_dir};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file name in ward's data directory.
pub(super) const FILE: &str = "advisories.toml";
/// Warn past this age when nothing is configured.
pub(super) const DEFAULT_MAX_AGE_DAYS: i64 = 7;
/// Largest download of one source, by default.
pub(super) const DEFAULT_MAX_BYTES: u64 = 2 << 30;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Config {
    /// Warn when the data is older than this (`7d`, `36h`).
    pub max_age: Option<String>,
    /// `ward verify` and the proxy deny when the data is older than this.
    pub deny_after: Option<String>,
    /// The sources `ward advisories update` fetches.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
}

/// One `[[source]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SourceConfig {
    /// The source's name in the database.
    pub name: String,
    /// An `http(s)://` URL of a zip archive (OSV `all.zip`, a GitHub
    /// archive of the RustSec advisory-db), a `.tar.gz` archive (the same
    /// GitHub archive as a tarball) or a JSON file of OSV records.
    pub url: Option<String>,
    /// A local file or directory (a mirror for air-gapped hosts), relative
    /// to the configuration file.
    pub path: Option<PathBuf>,
    /// The one ecosystem its records may be about (OSV name).
    pub ecosystem: Option<String>,
    /// Largest download, in bytes (default 2 GiB).
    pub max_bytes: Option<u64>,
    /// Hosts the URL may redirect to besides its own (GitHub archives
    /// redirect to `codeload.github.com`).
    #[serde(default)]
    pub allow_redirect_hosts: Vec<String>,
}

/// Where a source is read from.
#[derive(Debug, Clone)]
pub(super) enum Location {
    /// Fetched over HTTP(S).
    Url(String),
    /// Read in place.
    Path(PathBuf),
}

/// The path of the default configuration file.
pub(super) fn default_path() -> PathBuf {
    data_dir().join(FILE)
}

/// Loads the configuration: `explicit` (which must exist), else the default
/// file if there is one. Returns it with the file's path.
pub(super) fn load(explicit: Option<&Path>) -> Result<(Config, PathBuf), Usage> {
    let path = explicit.map(Path::to_path_buf).unwrap_or_else(default_path);
    let text = match ward_input::InputFile::new(&path, "advisory configuration", ward_input::limits::POLICY).read() {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| Usage(format!("{}: {e}", path.display())))?,
        Err(e) if e.is_not_found() && explicit.is_none() => return Ok((Config::default(), path)),
        Err(e) => return Err(Usage(e.to_string())),
    };
    let config: Config = toml::from_str(&text).map_err(|e| Usage(format!("{}: {e}", path.display())))?;
    let mut seen = std::collections::HashSet::new();
    for s in &config.sources {
        ward_scan::db::import::check_name(&s.name).map_err(|e| Usage(format!("{}: {e}", path.display())))?;
        if !seen.insert(s.name.as_str()) {
            return Err(Usage(format!("{}: source {} is named twice", path.display(), s.name)));
        }
        match (&s.url, &s.path) {
            (Some(u), None) if u.starts_with("https://") || u.starts_with("http://") => {}
            (None, Some(_)) => {}
            (Some(u), None) => {
                return Err(Usage(format!(
                    "{}: source {}: url {u:?} is not http:// or https:// (use path = for local files)",
                    path.display(),
                    s.name
                )));
            }
            _ => {
                return Err(Usage(format!(
                    "{}: source {}: give exactly one of url and path",
                    path.display(),
                    s.name
                )));
            }
        }
    }
    for age in [&config.max_age, &config.deny_after].into_iter().flatten() {
        parse_age(age).map_err(|e| Usage(format!("{}: {e}", path.display())))?;
    }
    Ok((config, path))
}

impl SourceConfig {
    /// Where it is, paths taken relative to the configuration file.
    pub(super) fn location(&self, config_path: &Path) -> Location {
        match (&self.url, &self.path) {
            (Some(u), _) => Location::Url(u.clone()),
            (None, Some(p)) if p.is_absolute() => Location::Path(p.clone()),
            (None, Some(p)) => Location::Path(config_path.parent().unwrap_or(Path::new(".")).join(p)),
            (None, None) => Location::Path(PathBuf::new()),
        }
    }
}

/// Parses an age: a whole number of days (`7d`) or hours (`36h`).
pub(super) fn parse_age(text: &str) -> Result<jiff::SignedDuration, String> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.len().saturating_sub(1));
    let n: i64 = number
        .parse()
        .ok()
        .filter(|n| *n >= 0 && *n <= 100_000)
        .ok_or_else(|| format!("age {text:?}: expected a whole number of days or hours, e.g. 7d or 36h"))?;
    match unit {
        "d" => Ok(jiff::SignedDuration::from_hours(n * 24)),
        "h" => Ok(jiff::SignedDuration::from_hours(n)),
        _ => Err(format!(
            "age {text:?}: expected a whole number of days or hours, e.g. 7d or 36h"
        )),
    }
}

/// The age past which commands that scan warn: `flag`, else the default
/// configuration's `max_age`, else 7 days.
pub(super) fn max_age(flag: Option<&str>) -> Result<jiff::SignedDuration, Usage> {
    if let Some(f) = flag {
        return parse_age(f).map_err(|e| Usage(format!("--max-advisory-age: {e}")));
    }
    let (config, _) = load(None)?;
    match config.max_age {
        Some(a) => parse_age(&a).map_err(Usage),
        None => Ok(jiff::SignedDuration::from_hours(DEFAULT_MAX_AGE_DAYS * 24)),
    }
}

/// The age past which `ward verify` and the proxy deny: `flag`, else the
/// default configuration's `deny_after`, else none.
pub(super) fn deny_after(flag: Option<&str>) -> Result<Option<jiff::SignedDuration>, Usage> {
    if let Some(f) = flag {
        return parse_age(f)
            .map(Some)
            .map_err(|e| Usage(format!("--deny-advisories-older-than: {e}")));
    }
    let (config, _) = load(None)?;
    config.deny_after.map(|a| parse_age(&a).map_err(Usage)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_days_or_hours() {
        assert_eq!(parse_age("7d").unwrap(), jiff::SignedDuration::from_hours(168));
        assert_eq!(parse_age("36h").unwrap(), jiff::SignedDuration::from_hours(36));
        for bad in ["7", "d", "-1d", "7w", "", "1.5d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}
