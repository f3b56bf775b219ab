//! The policy file and the files it names are read bounded (regular files
//! only, size-capped), deep TOML nesting is refused before the parser, and
//! positions are computed once so large policies load in linear time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};
use ward_policy::Policy;

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// Loads on a worker thread so a blocking open fails the test instead of hanging it.
fn load_within(path: &Path, limit: Duration) -> Result<Policy, ward_policy::PolicyError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(Policy::load(&path));
    });
    rx.recv_timeout(limit).expect("policy load blocked or ran too long")
}

#[test]
fn a_fifo_or_a_device_as_the_policy_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("ward.toml");
    mkfifo(&fifo);
    let err = load_within(&fifo, Duration::from_secs(10)).unwrap_err();
    assert!(err.to_string().contains("FIFO"), "{err}");
    let err = load_within(Path::new("/dev/zero"), Duration::from_secs(10)).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn an_oversized_policy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ward.toml");
    let mut text = String::from("version = 1\n");
    while text.len() <= usize::try_from(ward_input::limits::POLICY).unwrap() {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&path, text).unwrap();
    let err = load_within(&path, Duration::from_secs(10)).unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
}

#[test]
fn named_files_that_are_fifos_or_devices_are_refused_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("pipe"));
    for (key, text) in [
        ("rego", "[[scope]]\npackages = [\"npm:*\"]\nrego = [\"pipe\"]\n"),
        ("rego", "[[scope]]\npackages = [\"npm:*\"]\nrego = [\"/dev/zero\"]\n"),
        ("keys", "[[scope]]\npackages = [\"npm:*\"]\nkeys = [\"pipe\"]\n"),
        ("keys", "[[scope]]\npackages = [\"npm:*\"]\nkeys = [\"/dev/zero\"]\n"),
    ] {
        let path = dir.path().join("ward.toml");
        std::fs::write(&path, text).unwrap();
        let err = load_within(&path, Duration::from_secs(10)).unwrap_err();
        assert_eq!(err.first().unwrap().line(), Some(3), "{err}");
        assert_eq!(
            err.first().unwrap().key(),
            Some(format!("scope[1].{key}").as_str()),
            "{err}"
        );
        assert!(err.first().unwrap().message.contains("not a regular file"), "{err}");
    }
    for vex in ["pipe", "/dev/zero"] {
        let path = dir.path().join("ward.toml");
        std::fs::write(&path, format!("version = 1\nvex = [\"{vex}\"]\n")).unwrap();
        let err = load_within(&path, Duration::from_secs(10)).unwrap_err();
        assert_eq!(err.first().unwrap().line(), Some(2), "{err}");
        assert!(err.first().unwrap().message.contains("not a regular file"), "{err}");
    }
}

#[test]
fn deep_toml_nesting_is_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ward.toml");
    for (open, close) in [("[", "]"), ("{a=", "}")] {
        for depth in [200, 100_000] {
            let text = format!("version = 1\nx = {}1{}\n", open.repeat(depth), close.repeat(depth));
            std::fs::write(&path, text).unwrap();
            let start = Instant::now();
            let err = load_within(&path, Duration::from_secs(20)).unwrap_err();
            assert!(err.first().unwrap().message.contains("nest"), "{err}");
            assert_eq!(err.first().unwrap().line(), Some(2), "{err}");
            assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        }
    }
    // Dotted keys nest too, in a key and in a table header.
    for text in [
        format!("version = 1\n{} = 1\n", vec!["a"; 100_000].join(".")),
        format!("version = 1\n[{}]\n", vec!["a"; 100_000].join(".")),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = load_within(&path, Duration::from_secs(20)).unwrap_err();
        assert!(err.first().unwrap().message.contains("nest"), "{err}");
        assert_eq!(err.first().unwrap().line(), Some(2), "{err}");
    }
    // Brackets in strings and comments are not nesting.
    let text = format!(
        "version = 1\n# {}\n[[scope]]\nname = \"{}\"\npackages = ['npm:{}']\n",
        "[".repeat(500),
        "[".repeat(500),
        "{".repeat(10)
    );
    std::fs::write(&path, text).unwrap();
    let policy = Policy::load(&path).unwrap();
    assert_eq!(policy.scopes.len(), 1);
}

#[test]
fn ten_thousand_scopes_load_in_linear_time_and_errors_keep_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ward.toml");
    let mut text = String::from("version = 1\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "\n[[scope]]\nname = \"s{i}\"\npackages = [\"npm:pkg-{i}\"]\nthreshold = 1\nsigners = [{{ issuer = \"https://issuer\", identity = \"id-{i}\" }}]\n"
        ));
    }
    std::fs::write(&path, &text).unwrap();
    let start = Instant::now();
    let policy = Policy::load(&path).unwrap();
    assert_eq!(policy.scopes.len(), 10_000);
    assert_eq!(
        policy.scopes[9_999].line,
        text.lines().position(|l| l.contains("name = \"s9999\"")).unwrap()
    );
    assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
    // An error at the end still points at the right line and column.
    text.push_str("\n[[scope]]\npackages = []\n");
    std::fs::write(&path, &text).unwrap();
    let err = Policy::load(&path).unwrap_err();
    assert_eq!(err.first().unwrap().line(), Some(text.lines().count()), "{err}");
    assert_eq!(err.first().unwrap().column(), Some(12), "{err}");
}
