//! What a path holds, as pins to snapshot or compare: a lockfile (read
//! here), or an environment, read by `ward audit` (`ward_audit::audit`):
//! a Python site directory, an npm project or `node_modules`, a cargo
//! `vendor/` directory. Each installed package is pinned to the artifact
//! the audit tied it to (the allow that covers it: the digest the tree
//! records, or the allowed artifact in the proxy cache whose files match);
//! a package the audit could not tie to an allow carries no digest, and so
//! counts as unvetted, never guessed.

use crate::RecoverError;
use crate::allows::AllowIndex;
use crate::lockfile::{self, Pinned};
use crate::plan::Present;
use std::path::{Path, PathBuf};
use ward_audit::{AuditContext, AuditReport};
use ward_core::Ecosystem;

/// What an audit is made with (besides the ledger's allows).
#[derive(Clone, Copy)]
pub struct AuditWith<'a> {
    /// The proxy cache (the allowed artifacts' bytes).
    pub cache: &'a Path,
    /// Today's advisory database, when the audit should weigh it.
    pub db: Option<&'a ward_scan::AdvisoryDb>,
    /// The policy (deadlines, exceptions), when the audit should weigh it.
    pub policy: Option<&'a ward_policy::Policy>,
    /// Now.
    pub now: jiff::Timestamp,
}

/// Audits the environment at `path` as `ward audit` does.
pub fn audit(path: &Path, allows: &AllowIndex, with: AuditWith<'_>) -> Result<AuditReport, RecoverError> {
    let mut context = AuditContext::new(allows.for_audit(), with.now).with_cache(with.cache.to_path_buf());
    if let Some(db) = with.db {
        context = context.with_advisories(db);
    }
    if let Some(policy) = with.policy {
        context = context.with_policy(policy);
    }
    Ok(ward_audit::audit(&[path.to_path_buf()], &context)?)
}

/// The pins at `path`: a lockfile's, or an environment's as audited.
pub fn read(path: &Path, allows: &AllowIndex, with: AuditWith<'_>) -> Result<Vec<Pinned>, RecoverError> {
    let meta = std::fs::metadata(path).map_err(|e| RecoverError::io(path, e))?;
    if meta.is_file() {
        return lockfile::read(path);
    }
    let report = audit(path, allows, with)?;
    Ok(from_audit(&report))
}

/// An npm package's location as a lockfile writes it (`node_modules/a`,
/// `node_modules/a/node_modules/b`), from its directory and environment.
fn npm_location(location: &Path, environment: &Path) -> Option<String> {
    let project = environment.parent().unwrap_or(environment);
    let relative: PathBuf = location.strip_prefix(project).ok()?.to_path_buf();
    let text = relative.to_str()?.replace('\\', "/");
    text.starts_with("node_modules/").then_some(text)
}

/// The installed packages of an audit, as pins: the digest of the allow
/// that covers each (none when no allow does).
pub fn from_audit(report: &AuditReport) -> Vec<Pinned> {
    let mut pins: Vec<Pinned> = report
        .packages
        .iter()
        .map(|p| {
            let mut digests = Vec::new();
            if let Some(a) = &p.allow {
                digests.push(("sha256".to_string(), a.sha256.clone()));
            } else if let Some(d) = &p.artifact {
                // Recorded by the tree, but allowed by nothing: kept to name it.
                if let Some(s) = &d.sha256 {
                    digests.push(("sha256".to_string(), s.clone()));
                }
                if let Some(s) = &d.sha512 {
                    digests.push(("sha512".to_string(), s.clone()));
                }
            }
            let location = match p.id.ecosystem {
                Ecosystem::Npm => npm_location(&p.location, &p.environment),
                _ => None,
            };
            Pinned {
                id: p.id.clone(),
                digests,
                location,
            }
        })
        .collect();
    pins.sort_by(|a, b| (a.id.to_purl(), &a.location).cmp(&(b.id.to_purl(), &b.location)));
    pins
}

/// What is installed, for a plan's difference: each pin with the SHA-256
/// of its artifact where it is known (directly, or through the allow of
/// its SHA-512).
pub fn present(pins: &[Pinned], allows: &AllowIndex) -> Vec<Present> {
    pins.iter()
        .map(|p| {
            let sha256 = p.digests.iter().find_map(|(alg, hex)| match alg.as_str() {
                "sha256" => Some(hex.clone()),
                _ => allows.first(alg, hex).map(|a| a.sha256.clone()),
            });
            Present {
                id: p.id.clone(),
                location: p.location.clone(),
                sha256,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_locations_are_written_from_the_project_root() {
        let env = Path::new("/srv/app/node_modules");
        assert_eq!(
            npm_location(Path::new("/srv/app/node_modules/debug/node_modules/ms"), env).as_deref(),
            Some("node_modules/debug/node_modules/ms")
        );
        assert_eq!(
            npm_location(Path::new("/srv/app/node_modules/@ctrl/tinycolor"), env).as_deref(),
            Some("node_modules/@ctrl/tinycolor")
        );
        assert_eq!(npm_location(Path::new("/elsewhere/x"), env), None);
    }
}
