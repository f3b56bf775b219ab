//! Applying a plan without half-applying it.
//!
//! 1. Before anything changes: every member's bytes must be in the proxy
//!    cache (`blobs/<sha256>`) and still hash to what the ledger allowed;
//!    each one that is not is named (`rollback-bytes-missing`).
//! 2. The hash-pinned lockfile is written into a staging directory beside
//!    the environment, and the client installs it there (through
//!    `ward run`, so every artifact passes the gate again and comes from the
//!    cache); see [`Reinstall`].
//! 3. The staged install is compared with the plan; only when it equals the
//!    plan is it swapped into place (two renames on one file system; if the
//!    second fails, the first is undone). A staged install that differs is
//!    removed and the environment is left as it was (`rollback-mismatch`).
//! 4. The environment is audited again (`ward audit`, with today's
//!    advisories): clean, and equal to the plan, or `rollback-mismatch`.
//!
//! [`apply`] runs the four steps; the CLI hands it the way to run a
//! command through `ward run`.
//!
//! Reinstalls are supported for pip (a directory pip installs into with
//! `--target`) and npm (a project directory's `node_modules`). Cargo sets
//! get their `Cargo.lock` written; a cargo environment is not reinstalled
//! (`rollback-partial`: ward changes nothing rather than half of it).

use crate::RecoverError;
use crate::lockfile::{self, Locked};
use crate::snapshot::Member;
use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use ward_core::{Ecosystem, ReasonCode};

/// Checks every member's bytes in the cache and returns them ready to lock
/// (with SHA-512 computed from the cached bytes where the ledger had none).
pub fn check_cache(members: &[Member], cache: &Path) -> Result<Vec<Locked>, RecoverError> {
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for m in members {
        // The digest names a file: only 64 hex digits may.
        if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            missing.push(format!("{} ({}): {:?} is not a SHA-256", m.purl, m.file, m.sha256));
            continue;
        }
        let blob = cache.join("blobs").join(&m.sha256);
        match hash_file(&blob) {
            Ok((sha256, sha512)) if sha256 == m.sha256 => out.push(Locked {
                id: m.id()?,
                sha256,
                sha512: Some(m.sha512.clone().unwrap_or(sha512)),
                location: m.location.clone(),
            }),
            Ok((sha256, _)) => missing.push(format!(
                "{} ({}): the cached copy now hashes to {sha256}",
                m.purl, m.file
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing.push(format!("{} ({}, sha256 {})", m.purl, m.file, m.sha256));
            }
            Err(e) => missing.push(format!("{} ({}): {e}", m.purl, m.file)),
        }
    }
    if !missing.is_empty() {
        return Err(RecoverError::refused(
            ReasonCode::RollbackBytesMissing,
            format!(
                "{} of {} artifacts are not in the proxy cache {}: {}; nothing was changed",
                missing.len(),
                members.len(),
                cache.display(),
                missing.join(", ")
            ),
        ));
    }
    Ok(out)
}

/// SHA-256 and SHA-512 of a regular file, streamed (a link or special file is an error).
fn hash_file(path: &Path) -> std::io::Result<(String, String)> {
    use sha2::Digest as _;
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut file = std::fs::File::open(path)?;
    let (mut a, mut b) = (sha2::Sha256::new(), sha2::Sha512::new());
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = buf.get(..n).unwrap_or_default();
        a.update(chunk);
        b.update(chunk);
    }
    Ok((hex::encode(a.finalize()), hex::encode(b.finalize())))
}

/// A staged reinstall: where the lockfile goes, the command that installs
/// it (to run after `ward run … --`), and what is swapped into place.
#[derive(Debug)]
pub struct Reinstall {
    /// The staging directory (removed when dropped, unless kept).
    pub staging: tempfile::TempDir,
    /// The lockfile written.
    pub lockfile: PathBuf,
    /// The client command and its arguments.
    pub command: Vec<OsString>,
    /// The directory to run it in.
    pub workdir: PathBuf,
    /// The staged environment, swapped into `target` when it equals the plan.
    pub staged: PathBuf,
    /// The environment it replaces.
    pub target: PathBuf,
}

/// Writes the lockfile into a staging directory beside the environment and
/// says how to install it there.
///
/// - pip: `env` is a directory pip installs into (`--target`); the command
///   is `PYTHON -m pip install --require-hashes --no-deps --no-compile --target STAGED -r requirements.txt`.
/// - npm: `env` is a project directory; the command is `npm ci` in the
///   staging directory (its own `package.json` and `package-lock.json`),
///   and `node_modules` is what is swapped.
pub fn stage(ecosystem: Ecosystem, set: &[Locked], env: &Path, python: &str) -> Result<Reinstall, RecoverError> {
    let parent = env
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = tempfile::Builder::new()
        .prefix(".ward-rollback-")
        .tempdir_in(parent)
        .map_err(|e| RecoverError::io(parent, e))?;
    let write = |name: &str, text: &str| -> Result<PathBuf, RecoverError> {
        let path = staging.path().join(name);
        std::fs::write(&path, text).map_err(|e| RecoverError::io(&path, e))?;
        Ok(path)
    };
    let os = |s: &str| OsString::from(s);
    match ecosystem {
        Ecosystem::Pypi => {
            let lockfile = write("requirements.txt", &lockfile::write_requirements(set))?;
            let staged = staging.path().join("site");
            let mut command: Vec<OsString> = [
                python,
                "-m",
                "pip",
                "install",
                "--require-hashes",
                "--no-deps",
                // Compiled files would be recorded without a digest, and so be
                // unverifiable to `ward audit`; Python compiles on import.
                "--no-compile",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--no-input",
                "--target",
            ]
            .into_iter()
            .map(os)
            .collect();
            command.push(staged.clone().into_os_string());
            command.push(os("-r"));
            command.push(lockfile.clone().into_os_string());
            Ok(Reinstall {
                workdir: staging.path().to_path_buf(),
                staged,
                target: env.to_path_buf(),
                lockfile,
                command,
                staging,
            })
        }
        Ecosystem::Npm => {
            let (manifest, lock) = lockfile::write_npm(set, "ward-rollback")?;
            write("package.json", &manifest)?;
            let lockfile = write("package-lock.json", &lock)?;
            let cache = staging.path().join(".npm-cache");
            let mut command: Vec<OsString> = ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--cache"]
                .into_iter()
                .map(os)
                .collect();
            command.push(cache.into_os_string());
            Ok(Reinstall {
                workdir: staging.path().to_path_buf(),
                staged: staging.path().join("node_modules"),
                target: env.join("node_modules"),
                lockfile,
                command,
                staging,
            })
        }
        other => Err(RecoverError::refused(
            ReasonCode::RollbackPartial,
            format!(
                "ward writes the lockfile for {other} sets (ward rollback plan --lockfile) but does not reinstall a {other} environment; nothing was changed"
            ),
        )),
    }
}

/// The lockfile text for a set (what `ward rollback plan --lockfile` writes).
pub fn lockfile_text(ecosystem: Ecosystem, set: &[Locked]) -> Result<Vec<(&'static str, String)>, RecoverError> {
    match ecosystem {
        Ecosystem::Pypi => Ok(vec![("requirements.txt", lockfile::write_requirements(set))]),
        Ecosystem::Npm => {
            let (manifest, lock) = lockfile::write_npm(set, "ward-rollback")?;
            Ok(vec![("package.json", manifest), ("package-lock.json", lock)])
        }
        Ecosystem::Cargo => Ok(vec![("Cargo.lock", lockfile::write_cargo_lock(set))]),
        other => Err(RecoverError::Usage(format!("ward writes no lockfile for {other}"))),
    }
}

/// Puts the staged environment in place of the target: the target (if
/// any) is renamed aside, the staged one renamed in, the old one removed.
/// If the second rename fails the first is undone, so the environment is
/// either the old one or the new one, never a mix.
pub fn swap(staged: &Path, target: &Path) -> Result<(), RecoverError> {
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let aside = tempfile::Builder::new()
        .prefix(".ward-replaced-")
        .tempdir_in(parent)
        .map_err(|e| RecoverError::io(parent, e))?;
    let old = aside.path().join("old");
    let had_target = target.exists();
    if had_target {
        std::fs::rename(target, &old).map_err(|e| RecoverError::io(target, e))?;
    }
    if let Err(e) = std::fs::rename(staged, target) {
        if had_target {
            // Put the old environment back; report the first failure.
            let _ = std::fs::rename(&old, target);
        }
        return Err(RecoverError::io(target, e));
    }
    // The old environment goes with `aside` when it is dropped.
    drop(aside);
    Ok(())
}

/// Compares what is installed with the plan's members: each member present
/// with its version (and its bytes, where the installed tree tells), and
/// nothing else. Every difference is named (`rollback-mismatch`).
pub fn compare(members: &[Member], installed: &[crate::plan::Present]) -> Result<(), RecoverError> {
    let changes = crate::plan::diff(members, installed)?;
    let off: Vec<String> = changes
        .iter()
        .filter(|c| c.action != crate::plan::Action::Keep)
        .map(|c| match c.action {
            crate::plan::Action::Install => format!("{} is missing", c.to.as_deref().unwrap_or(&c.package)),
            crate::plan::Action::Remove => format!(
                "{} is installed but not in the plan",
                c.from.as_deref().unwrap_or(&c.package)
            ),
            _ => format!(
                "{} is installed where the plan has {}",
                c.from.as_deref().unwrap_or(&c.package),
                c.to.as_deref().unwrap_or_default()
            ),
        })
        .collect();
    if off.is_empty() {
        Ok(())
    } else {
        Err(RecoverError::refused(ReasonCode::RollbackMismatch, off.join(", ")))
    }
}

/// The end of a text (its last `n` bytes, on a character boundary), trimmed.
fn tail(text: &str, n: usize) -> &str {
    let mut start = text.len().saturating_sub(n);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text.get(start..).unwrap_or_default().trim()
}

/// What a rollback did (the output and the `rollback-applied` event).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Applied {
    /// The snapshot rolled back to.
    pub snapshot: String,
    /// The environment.
    pub environment: String,
    /// The hash-pinned lockfiles kept.
    pub lockfiles: Vec<String>,
    /// What changed.
    pub changes: Vec<crate::plan::Change>,
    /// Packages in the set.
    pub members: usize,
    /// The ledger entry of the `rollback-applied` event, once appended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger_index: Option<u64>,
}

/// What a rollback is applied with.
pub struct ApplyWith<'a> {
    /// The environment to roll back.
    pub env: &'a Path,
    /// The environment as named in the record (absolute).
    pub shown: String,
    /// The Python that runs pip.
    pub python: &'a str,
    /// Where the hash-pinned lockfiles are kept.
    pub keep: &'a Path,
    /// The ledger's allows.
    pub allows: &'a crate::allows::AllowIndex,
    /// The audit after: the cache, today's advisories, the policy, now.
    pub audit: crate::installed::AuditWith<'a>,
}

/// Applies a plan: every byte checked in the cache, the lockfile written
/// (and kept), the set installed in a staging directory by `run` (the
/// client command and the directory to run it in; the CLI runs it through
/// `ward run`), compared with the plan, swapped in, and audited again.
/// Nothing changes in the environment unless the staged install equals
/// the plan; the audit after must be clean and equal to the plan.
pub fn apply(
    plan: &crate::plan::Plan,
    with: &ApplyWith<'_>,
    run: impl FnOnce(&[OsString], &Path) -> Result<(i32, String), RecoverError>,
) -> Result<Applied, RecoverError> {
    use crate::installed::{self, AuditWith};
    let ecosystem =
        crate::plan::ecosystem_of(&plan.members)?.ok_or_else(|| RecoverError::Usage("the snapshot is empty".into()))?;
    // 1. Every byte present before anything changes.
    let set = check_cache(&plan.members, with.audit.cache)?;
    // 2. The lockfile and the install, staged beside the environment.
    let reinstall = stage(ecosystem, &set, with.env, with.python)?;
    std::fs::create_dir_all(with.keep).map_err(|e| RecoverError::io(with.keep, e))?;
    let mut lockfiles = Vec::new();
    for (name, text) in lockfile_text(ecosystem, &set)? {
        let path = with.keep.join(name);
        std::fs::write(&path, text).map_err(|e| RecoverError::io(&path, e))?;
        lockfiles.push(path.display().to_string());
    }
    let (status, output) = run(&reinstall.command, &reinstall.workdir)?;
    if status != 0 {
        return Err(RecoverError::refused(
            ReasonCode::RollbackMismatch,
            format!(
                "the reinstall through ward run failed (exit {status}); {} was not changed:\n{}",
                with.env.display(),
                tail(&output, 1500)
            ),
        ));
    }
    // 3. The staged install must be the plan before it is swapped in.
    let staged_root = match ecosystem {
        Ecosystem::Npm => reinstall.workdir.clone(),
        _ => reinstall.staged.clone(),
    };
    let plain = AuditWith {
        db: None,
        policy: None,
        ..with.audit
    };
    let staged = installed::read(&staged_root, with.allows, plain)?;
    compare(&plan.members, &installed::present(&staged, with.allows)).map_err(|e| {
        RecoverError::refused(
            ReasonCode::RollbackMismatch,
            format!(
                "the staged install differs from the plan, {} was not changed: {e}",
                with.env.display()
            ),
        )
    })?;
    swap(&reinstall.staged, &reinstall.target)?;
    // 4. Audit again, with today's advisories and the policy: nothing may
    // be found, and what is installed must be the plan.
    let report = installed::audit(with.env, with.allows, with.audit)?;
    if !report.is_clean() {
        let found: Vec<String> = report
            .findings
            .iter()
            .map(|f| format!("{} {} ({})", f.kind.code(), f.package, f.detail))
            .collect();
        return Err(RecoverError::refused(
            ReasonCode::RollbackMismatch,
            format!("the audit after the rollback found: {}", found.join("; ")),
        ));
    }
    let now_installed = installed::from_audit(&report);
    compare(&plan.members, &installed::present(&now_installed, with.allows))?;
    Ok(Applied {
        snapshot: plan.snapshot.clone(),
        environment: with.shown.clone(),
        lockfiles,
        changes: plan.changes.clone(),
        members: plan.members.len(),
        ledger_index: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_missing_from_the_cache_are_each_named_and_nothing_is_locked() {
        let cache = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(cache.path().join("blobs")).unwrap();
        let good = b"good bytes";
        let sha = crate::sha256_hex(good);
        std::fs::write(cache.path().join("blobs").join(&sha), good).unwrap();
        let member = |purl: &str, sha256: &str| Member {
            purl: purl.into(),
            sha256: sha256.into(),
            sha512: None,
            allow: 0,
            file: format!("{purl}.whl"),
            location: None,
        };
        let ok = check_cache(&[member("pkg:pypi/a@1", &sha)], cache.path()).unwrap();
        assert_eq!(ok[0].sha256, sha);
        assert!(ok[0].sha512.is_some());
        // A blob that is gone, and one whose bytes changed.
        let gone = "f".repeat(64);
        let changed = "e".repeat(64);
        std::fs::write(cache.path().join("blobs").join(&changed), b"other").unwrap();
        let err = check_cache(
            &[
                member("pkg:pypi/a@1", &sha),
                member("pkg:pypi/b@1", &gone),
                member("pkg:pypi/c@1", &changed),
            ],
            cache.path(),
        )
        .unwrap_err();
        assert_eq!(err.code(), Some(ReasonCode::RollbackBytesMissing));
        let text = err.to_string();
        assert!(
            text.contains("pkg:pypi/b@1") && text.contains("pkg:pypi/c@1") && !text.contains("pkg:pypi/a@1"),
            "{text}"
        );
    }

    #[test]
    fn an_install_that_is_not_the_plan_is_a_mismatch_naming_each_difference() {
        let member = Member {
            purl: "pkg:npm/chalk@5.6.0".into(),
            sha256: "a".repeat(64),
            sha512: None,
            allow: 0,
            file: "chalk-5.6.0.tgz".into(),
            location: Some("node_modules/chalk".into()),
        };
        let present = |purl: &str, location: &str, sha: &str| crate::plan::Present {
            id: purl.parse().unwrap(),
            location: Some(location.into()),
            sha256: Some(sha.repeat(64)),
        };
        compare(
            std::slice::from_ref(&member),
            &[present("pkg:npm/chalk@5.6.0", "node_modules/chalk", "a")],
        )
        .unwrap();
        let err = compare(
            std::slice::from_ref(&member),
            &[
                present("pkg:npm/chalk@5.6.0", "node_modules/chalk", "b"),
                present("pkg:npm/ms@2.1.3", "node_modules/ms", "c"),
            ],
        )
        .unwrap_err();
        assert_eq!(err.code(), Some(ReasonCode::RollbackMismatch));
        let text = err.to_string();
        assert!(
            text.contains("pkg:npm/ms@2.1.3 is installed but not in the plan"),
            "{text}"
        );
        assert!(
            text.contains("pkg:npm/chalk@5.6.0 is installed where the plan has"),
            "{text}"
        );
        let err = compare(std::slice::from_ref(&member), &[]).unwrap_err();
        assert!(err.to_string().contains("pkg:npm/chalk@5.6.0 is missing"), "{err}");
    }

    #[test]
    fn a_swap_replaces_the_whole_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (staged, target) = (dir.path().join("staged"), dir.path().join("env"));
        std::fs::create_dir_all(&staged).unwrap();
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(staged.join("new"), b"n").unwrap();
        std::fs::write(target.join("old"), b"o").unwrap();
        swap(&staged, &target).unwrap();
        assert!(target.join("new").is_file() && !target.join("old").exists());
        assert!(!staged.exists());
        // Nothing left beside it.
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }
}
