//! The JSON lines sink: each change appended to a file as one line (the
//! same JSON as a webhook body), flushed to disk before the next. The file
//! is opened for each change (`O_APPEND`), so log rotation that moves the
//! file away is picked up at the next change.

use super::Sink;
use crate::AlertError;
use crate::alert::AlertChange;
use std::io::Write as _;
use std::path::PathBuf;

/// Appends changes to a file, one JSON object a line.
#[derive(Debug)]
pub struct JsonLines {
    path: PathBuf,
}

impl JsonLines {
    /// A sink writing to `path` (created when absent).
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

impl Sink for JsonLines {
    fn name(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn deliver(&mut self, change: &AlertChange) -> Result<(), AlertError> {
        let mut line = serde_json::to_vec(change).map_err(|e| AlertError::Delivery {
            sink: self.name(),
            why: e.to_string(),
        })?;
        line.push(b'\n');
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| AlertError::io(dir, e))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| AlertError::io(&self.path, e))?;
        // One write of the whole line: lines from concurrent writers do not interleave.
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| AlertError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Alert;

    #[test]
    fn each_change_is_one_json_line_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log/alerts.jsonl");
        let mut sink = JsonLines::new(path.clone());
        let state = crate::AlertState::open(dir.path()).unwrap();
        let alerts = [
            Alert::new("modified", "pkg:pypi/a@1", "/venv", "a.py", "x"),
            Alert::new("missing", "pkg:pypi/a@1", "/venv", "b.py", "y"),
        ];
        for c in state.diff(&alerts, &|_| true, jiff::Timestamp::UNIX_EPOCH) {
            sink.deliver(&c).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "alert-raised");
        assert_eq!(lines[1]["alert"]["code"], "missing");
    }
}
