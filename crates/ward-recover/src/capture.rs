//! Running a command with its output kept in bounded memory: standard
//! output and error go to a temporary file, which is then read in chunks
//! to keep only its end (for a report) and to tell whether some words
//! appear anywhere in it (the alert codes a playbook expects). A command
//! that prints gigabytes costs disk in the temporary directory, never
//! memory.

use crate::RecoverError;
use std::io::{Read as _, Seek as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bytes of output kept (its end).
const TAIL: usize = 2048;
/// Bytes read at a time.
const CHUNK: usize = 1 << 16;

/// What a command did.
#[derive(Debug)]
pub struct Captured {
    /// Its exit status (-1 when a signal ended it).
    pub status: i32,
    /// The end of its output (standard output, then standard error), as text.
    pub tail: String,
    /// Which of the words asked for appear in its output.
    pub found: Vec<String>,
}

/// Runs `command` in `dir` with standard input closed; past `limit` it is
/// killed (its status is then -1 and the tail says so).
pub fn run(command: &mut Command, dir: &Path, words: &[String], limit: Duration) -> Result<Captured, RecoverError> {
    let tmp = std::env::temp_dir();
    let mut out = tempfile::tempfile().map_err(|e| RecoverError::io(&tmp, e))?;
    let err = out.try_clone().map_err(|e| RecoverError::io(&tmp, e))?;
    let program = command.get_program().to_os_string();
    let mut child = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone().map_err(|e| RecoverError::io(&tmp, e))?))
        .stderr(Stdio::from(err))
        .spawn()
        .map_err(|e| RecoverError::io(Path::new(&program), e))?;
    let started = Instant::now();
    let mut killed = false;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| RecoverError::io(Path::new(&program), e))? {
            break status;
        }
        if started.elapsed() > limit {
            // Already gone is fine: wait() below reaps it either way.
            let _ = child.kill();
            killed = true;
            break child.wait().map_err(|e| RecoverError::io(Path::new(&program), e))?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    out.rewind().map_err(|e| RecoverError::io(&tmp, e))?;
    let longest = words.iter().map(String::len).max().unwrap_or(0);
    let mut found: Vec<String> = Vec::new();
    // The previous chunk's end, so a word split across two reads is found.
    let mut window: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = out.read(&mut buf).map_err(|e| RecoverError::io(&tmp, e))?;
        if n == 0 {
            break;
        }
        window.extend_from_slice(buf.get(..n).unwrap_or_default());
        for w in words {
            if !found.contains(w) && window.windows(w.len().max(1)).any(|x| x == w.as_bytes()) {
                found.push(w.clone());
            }
        }
        let keep = TAIL.max(longest);
        if window.len() > keep {
            window.drain(..window.len() - keep);
        }
    }
    let start = window.len().saturating_sub(TAIL);
    let mut tail = String::from_utf8_lossy(window.get(start..).unwrap_or_default()).into_owned();
    if killed {
        tail.push_str(&format!("\n(killed after {} s, its time limit)", limit.as_secs()));
    }
    Ok(Captured {
        status: if killed { -1 } else { status.code().unwrap_or(-1) },
        tail,
        found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_output_keeps_its_end_and_finds_words_anywhere() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo first-word; head -c 3000000 /dev/zero | tr '\\0' x; echo; echo last-line >&2; exit 3",
        ]);
        let words = ["first-word".into(), "last-line".into(), "absent".into()];
        let got = run(&mut cmd, dir.path(), &words, Duration::from_secs(60)).unwrap();
        assert_eq!(got.status, 3);
        assert_eq!(got.found, vec!["first-word".to_string(), "last-line".to_string()]);
        assert!(
            got.tail.len() <= TAIL && got.tail.trim_end().ends_with("last-line"),
            "{}",
            got.tail
        );
    }

    #[test]
    fn a_command_past_its_limit_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let got = run(&mut cmd, dir.path(), &[], Duration::from_millis(200)).unwrap();
        assert_eq!(got.status, -1);
        assert!(got.tail.contains("killed after"), "{}", got.tail);
    }
}
