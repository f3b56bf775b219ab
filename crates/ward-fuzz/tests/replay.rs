//! Replays every committed fuzz input through its target, on stable Rust:
//! the seed corpora (`corpus/<target>/`) and every crash the fuzzer ever
//! found (`regressions/<target>/`). A panic in any of them fails the test.
//!
//! A crash that is committed before its fix is listed in
//! [`KNOWN_FAILURES`]; the test checks that it *still* fails (in a child
//! process, so that an abort such as a stack overflow is caught too), so the
//! entry must be removed in the same change that fixes it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Committed crashes whose fix has not landed yet: `(target, file under
/// regressions/<target>/, who fixes it)`.
const KNOWN_FAILURES: &[(&str, &str, &str)] = &[];

/// Set in the child process that replays one known failure.
const CHILD_ENV: &str = "WARD_FUZZ_REPLAY_ONE";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn is_known(target: &str, file: &Path) -> bool {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    KNOWN_FAILURES.iter().any(|(t, f, _)| *t == target && *f == name)
}

/// Runs one input; `Err` with the panic message when it panics.
fn run_one(target: ward_fuzz::Target, file: &Path) -> Result<(), String> {
    let data = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    std::panic::catch_unwind(|| (target.run)(&data)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "non-string panic".into())
    })
}

#[test]
fn every_committed_input_replays_without_a_panic() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut count = 0;
    for target in ward_fuzz::TARGETS {
        for kind in ["corpus", "regressions"] {
            for file in inputs(&root().join(kind).join(target.name)) {
                if kind == "regressions" && is_known(target.name, &file) {
                    continue;
                }
                count += 1;
                if let Err(why) = run_one(*target, &file) {
                    failures.push(format!("{} {}: {why}", target.name, file.display()));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} input(s) panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count > 0, "no corpus found under {}", root().display());
    eprintln!("replayed {count} inputs in {:.1?}", started.elapsed());
}

#[test]
fn every_target_has_a_seed_corpus_and_every_directory_a_target() {
    for target in ward_fuzz::TARGETS {
        assert!(
            !inputs(&root().join("corpus").join(target.name)).is_empty(),
            "target {} has no seeds in corpus/{}/",
            target.name,
            target.name
        );
    }
    for kind in ["corpus", "regressions"] {
        for entry in std::fs::read_dir(root().join(kind)).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                let name = entry.file_name().to_string_lossy().into_owned();
                assert!(
                    ward_fuzz::target(&name).is_some(),
                    "{kind}/{name}/ names no fuzz target"
                );
            }
        }
    }
    for (target, file, _) in KNOWN_FAILURES {
        assert!(
            root().join("regressions").join(target).join(file).is_file(),
            "known failure regressions/{target}/{file} is not committed"
        );
    }
}

#[test]
fn the_afl_harness_has_one_binary_per_target() {
    let bins = root().join("../../fuzz/src/bin");
    let mut names: Vec<String> = inputs(&bins)
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let mut targets: Vec<String> = ward_fuzz::TARGETS.iter().map(|t| t.name.to_string()).collect();
    targets.sort();
    assert_eq!(names, targets, "fuzz/src/bin/ and ward_fuzz::TARGETS disagree");
    for name in &names {
        let text = std::fs::read_to_string(bins.join(format!("{name}.rs"))).unwrap_or_default();
        assert!(
            text.contains(&format!("ward_fuzz::{name}(data)")),
            "fuzz/src/bin/{name}.rs does not call ward_fuzz::{name}"
        );
    }
}

/// Replays one known failure in this process (the child side of
/// [`known_failures_still_fail`]).
#[test]
fn replay_one_known_failure_in_a_child() {
    let Some(which) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let which = which.to_string_lossy().into_owned();
    let Some((target, file)) = which.split_once('/') else {
        panic!("{CHILD_ENV} must be TARGET/FILE");
    };
    let Some(t) = ward_fuzz::target(target) else {
        panic!("no target {target}");
    };
    let data = std::fs::read(root().join("regressions").join(target).join(file)).unwrap_or_default();
    (t.run)(&data);
}

#[test]
fn known_failures_still_fail() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap_or_default();
    for (target, file, owner) in KNOWN_FAILURES {
        let status = Command::new(&exe)
            .args(["--exact", "replay_one_known_failure_in_a_child", "--test-threads=1"])
            .env(CHILD_ENV, format!("{target}/{file}"))
            .env("RUST_BACKTRACE", "0")
            .output()
            .map(|o| o.status.success());
        assert_eq!(
            status.ok(),
            Some(false),
            "regressions/{target}/{file} no longer fails: it was fixed ({owner}); remove it from KNOWN_FAILURES"
        );
    }
}
