//! What starts a round of `ward watch`: the interval, a change under a
//! watched path, or a change to the advisory database (a re-import).
//!
//! File changes come from the `notify` crate (inotify on Linux) through
//! `notify-debouncer-mini`, which folds a burst of changes (an install
//! writing a thousand files) into one event after a quiet period, so a
//! `pip install` starts one audit, not a thousand.

use crate::AlertError;
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{Config, DebounceEventResult, Debouncer, new_debouncer_opt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// Why a round starts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// The interval passed.
    Interval,
    /// Files changed under the watched paths (some of them, for messages).
    Files(Vec<PathBuf>),
    /// The advisory database changed.
    Database,
    /// Watching failed (the watcher reported an error); a round runs anyway.
    WatchError(String),
}

/// The interval timer and the file watchers.
pub struct Triggers {
    _debouncer: Debouncer<RecommendedWatcher>,
    rx: Receiver<DebounceEventResult>,
    database: Option<PathBuf>,
    interval: Duration,
    next_tick: Instant,
}

impl std::fmt::Debug for Triggers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Triggers")
            .field("database", &self.database)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

fn watch_error(path: &Path, e: impl std::fmt::Display) -> AlertError {
    AlertError::Watch {
        path: path.display().to_string(),
        why: e.to_string(),
    }
}

impl Triggers {
    /// Watches `paths` (recursively) and the advisory database directory
    /// `database`, with `debounce` as the quiet period, and ticks every `interval`.
    pub fn new(
        paths: &[PathBuf],
        database: Option<&Path>,
        interval: Duration,
        debounce: Duration,
    ) -> Result<Self, AlertError> {
        let (tx, rx) = channel();
        // Links inside a watched tree (npm link, pnpm, anything an install
        // script made) are not followed: a link to `/` would otherwise add a
        // watch on every directory of the machine.
        let config = Config::default()
            .with_timeout(debounce)
            .with_notify_config(notify_debouncer_mini::notify::Config::default().with_follow_symlinks(false));
        let mut debouncer =
            new_debouncer_opt::<_, RecommendedWatcher>(config, tx).map_err(|e| watch_error(Path::new("."), e))?;
        for path in paths {
            debouncer
                .watcher()
                .watch(path, RecursiveMode::Recursive)
                .map_err(|e| watch_error(path, e))?;
        }
        // The database is replaced atomically (a new file renamed over the
        // old, or a new directory): its parent is watched as well.
        let database = database.map(|d| std::path::absolute(d).unwrap_or_else(|_| d.to_path_buf()));
        if let Some(db) = &database {
            // Not yet there: its parent, but only that directory (the
            // default parent is ward's whole data directory).
            let (target, mode) = if db.exists() {
                (db.as_path(), RecursiveMode::Recursive)
            } else {
                (db.parent().unwrap_or(db), RecursiveMode::NonRecursive)
            };
            debouncer
                .watcher()
                .watch(target, mode)
                .map_err(|e| watch_error(target, e))?;
        }
        Ok(Self {
            _debouncer: debouncer,
            rx,
            database,
            interval,
            next_tick: Instant::now() + interval,
        })
    }

    /// Blocks until the next trigger.
    pub fn wait(&mut self) -> Trigger {
        loop {
            let left = self.next_tick.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Err(RecvTimeoutError::Timeout) => {
                    self.next_tick = Instant::now() + self.interval;
                    return Trigger::Interval;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(left);
                    self.next_tick = Instant::now() + self.interval;
                    return Trigger::Interval;
                }
                Ok(Err(e)) => return Trigger::WatchError(e.to_string()),
                Ok(Ok(events)) => {
                    if events.is_empty() {
                        continue;
                    }
                    let paths: Vec<PathBuf> = events.into_iter().map(|e| e.path).collect();
                    if let Some(db) = &self.database
                        && paths.iter().any(|p| p.starts_with(db) || db.starts_with(p))
                    {
                        return Trigger::Database;
                    }
                    return Trigger::Files(paths.into_iter().take(10).collect());
                }
            }
        }
    }
}

/// Reads `10m`, `30s`, `1h`, `2d` (or a plain number of seconds).
pub fn parse_interval(text: &str) -> Result<Duration, AlertError> {
    let text = text.trim();
    let bad = || {
        AlertError::Config(format!(
            "interval {text:?}: expected a number and a unit: 30s, 10m, 1h, 1d"
        ))
    };
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = digits.parse().map_err(|_overflow| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let total = n.checked_mul(seconds).filter(|&s| s > 0).ok_or_else(bad)?;
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_as_documented() {
        assert_eq!(parse_interval("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_interval("45").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_interval("1d").unwrap(), Duration::from_secs(86_400));
        for bad in ["", "0s", "10x", "m", "-1m", "99999999999999999999d"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }

    /// A change under a watched path starts a round; a change to the
    /// database is told apart.
    #[test]
    fn file_and_database_changes_are_triggers() {
        let dir = tempfile::tempdir().unwrap();
        let (env, db) = (dir.path().join("env"), dir.path().join("db"));
        std::fs::create_dir_all(&env).unwrap();
        std::fs::create_dir_all(&db).unwrap();
        let mut t = Triggers::new(
            std::slice::from_ref(&env),
            Some(&db),
            Duration::from_secs(3600),
            Duration::from_millis(100),
        )
        .unwrap();
        std::fs::write(env.join("x.py"), "changed").unwrap();
        assert!(matches!(t.wait(), Trigger::Files(p) if p.iter().any(|p| p.ends_with("x.py"))));
        std::fs::write(db.join("osv.json"), "{}").unwrap();
        assert_eq!(t.wait(), Trigger::Database);
    }
}
