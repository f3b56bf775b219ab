//! Rollback plans: which known-good set to go back to, and what changes.
//!
//! A target is a stored snapshot that was allowed then (its signature and
//! ledger anchor check out, and the ledger entry each member names is an
//! allow of its bytes: [`allowed_then`]) and
//! is still clean now: scanned against today's advisory database, no
//! member matches a malicious record (`rollback-target-malicious`) and no
//! finding is past the policy's remediation deadline
//! (`rollback-target-overdue`). `--to NAME` names one; `--before TIME`
//! takes the newest taken before TIME that qualifies; `--drop ADVISORY`
//! the newest that no longer has ADVISORY and qualifies. Snapshots passed
//! over are listed with the reason.
//!
//! The plan's difference from what is installed is by package: install,
//! remove, replace (other version or other bytes), keep.

use crate::RecoverError;
use crate::allows::AllowIndex;
use crate::snapshot::{Member, Snapshot};
use serde::Serialize;
use std::collections::BTreeMap;
use ward_core::{Component, Ecosystem, PackageId, ReasonCode};
use ward_ledger::LedgerStore;
use ward_policy::Policy;
use ward_scan::{AdvisoryDb, FirstSeenStore};

/// Which set to go back to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The snapshot of this name.
    To(String),
    /// The newest snapshot taken before this time.
    Before(jiff::Timestamp),
    /// The newest snapshot that no longer has this advisory.
    Drop(String),
}

/// One package as installed (or as a lockfile pins it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Present {
    /// Name and version.
    pub id: PackageId,
    /// Where, when known (npm: `node_modules/a`).
    pub location: Option<String>,
    /// The artifact's SHA-256, when known.
    pub sha256: Option<String>,
}

/// What happens to one package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// In the target, not installed.
    Install,
    /// Installed, not in the target.
    Remove,
    /// Installed in another version or with other bytes.
    Replace,
    /// Installed as the target has it.
    Keep,
}

/// One line of the difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What happens.
    pub action: Action,
    /// The package name (normalised) and, for npm, where it is installed.
    pub package: String,
    /// What is installed now (purl), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// What the target has (purl), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The target's SHA-256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A snapshot passed over, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// Its name.
    pub snapshot: String,
    /// The reason code.
    pub code: String,
    /// Why, in one line.
    pub message: String,
}

/// A rollback plan.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// The snapshot to go back to.
    pub snapshot: String,
    /// When it was taken.
    pub created: jiff::Timestamp,
    /// Its ecosystem (all members share one, or the plan cannot be applied).
    pub ecosystem: Option<String>,
    /// The target set.
    pub members: Vec<Member>,
    /// The difference from what is installed (empty when nothing installed was given).
    pub changes: Vec<Change>,
    /// Newer snapshots passed over, and why.
    pub skipped: Vec<Skipped>,
}

impl Plan {
    /// Whether what is installed already equals the target.
    pub fn is_noop(&self) -> bool {
        self.changes.iter().all(|c| c.action == Action::Keep)
    }
}

/// What "clean now" is checked with.
pub struct Checker<'a> {
    /// Today's advisory database.
    pub db: &'a AdvisoryDb,
    /// The policy (deadlines, exceptions, allows).
    pub policy: &'a Policy,
    /// When each finding was first seen (read, not written).
    pub first_seen: Option<FirstSeenStore>,
    /// Now.
    pub now: jiff::Timestamp,
}

impl Checker<'_> {
    /// The findings on a set, with their triage.
    fn findings(&mut self, name: &str, members: &[Member]) -> Result<ward_core::TriagedReport, RecoverError> {
        let mut components = Vec::new();
        for m in members {
            let mut c = Component::new(m.id()?, format!("snapshot {name}"));
            c.digests.push(("sha256".into(), m.sha256.clone()));
            if let Some(s) = &m.sha512 {
                c.digests.push(("sha512".into(), s.clone()));
            }
            components.push(c);
        }
        let report = ward_scan::scan(self.db, &components, Vec::new());
        let seen = match &mut self.first_seen {
            Some(store) => store.observe(&report.findings, self.now),
            None => Vec::new(),
        };
        let triage = self.policy.triage(&report.findings, &seen, self.now);
        Ok(report.triaged(triage.statuses))
    }

    /// `Ok` when no member is malicious (unless an `[[allow]]` of its
    /// sha256 silences it) and no finding is overdue.
    pub fn clean(&mut self, name: &str, members: &[Member]) -> Result<(), RecoverError> {
        let report = self.findings(name, members)?;
        let malicious: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.malicious.is_some() && f.status.silenced.is_none())
            .map(|f| format!("{} matches {}", f.package, f.advisory))
            .collect();
        if !malicious.is_empty() {
            return Err(RecoverError::refused(
                ReasonCode::RollbackTargetMalicious,
                format!("snapshot {name}: {}", malicious.join(", ")),
            ));
        }
        let overdue: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.status.overdue)
            .map(|f| {
                let due = f.status.due.map(|d| d.to_string()).unwrap_or_default();
                format!("{} has {} (due {due})", f.package, f.advisory)
            })
            .collect();
        if !overdue.is_empty() {
            return Err(RecoverError::refused(
                ReasonCode::RollbackTargetOverdue,
                format!("snapshot {name}: {}", overdue.join(", ")),
            ));
        }
        Ok(())
    }

    /// Whether any member has `advisory` (by id or alias).
    pub fn has_advisory(&mut self, name: &str, members: &[Member], advisory: &str) -> Result<bool, RecoverError> {
        let report = self.findings(name, members)?;
        Ok(report
            .findings
            .iter()
            .any(|f| f.advisory == advisory || f.aliases.iter().any(|a| a == advisory)))
    }
}

/// The single ecosystem of a set; a set of several cannot be restored in one step.
pub fn ecosystem_of(members: &[Member]) -> Result<Option<Ecosystem>, RecoverError> {
    let mut found: Option<Ecosystem> = None;
    for m in members {
        let e = m.id()?.ecosystem;
        match found {
            Some(f) if f != e => {
                return Err(RecoverError::refused(
                    ReasonCode::RollbackPartial,
                    format!("the set mixes {f} and {e} packages; one environment takes one ecosystem"),
                ));
            }
            _ => found = Some(e),
        }
    }
    Ok(found)
}

/// Checks a snapshot as a target: its signature and anchor
/// ([`Snapshot::verify`]), and that each member's allow is in the ledger:
/// the entry it names is an allow of those bytes (SHA-256), for that package.
pub fn allowed_then(snap: &Snapshot, ledger: &mut dyn LedgerStore, allows: &AllowIndex) -> Result<(), RecoverError> {
    snap.verify(ledger)?;
    let body = snap.body()?;
    for m in &body.members {
        let ok = m.sha256.len() == 64
            && m.sha256.bytes().all(|b| b.is_ascii_hexdigit())
            && allows
                .at(m.allow)
                .is_some_and(|a| a.sha256 == m.sha256 && a.purl == m.purl);
        if !ok {
            return Err(RecoverError::refused(
                ReasonCode::SnapshotInvalid,
                format!(
                    "snapshot {}: {} names ledger entry {}, which is not an allow of sha256 {}",
                    body.name, m.purl, m.allow, m.sha256
                ),
            ));
        }
    }
    Ok(())
}

/// Chooses the target among `snapshots` (oldest first, as listed) and
/// plans it against `installed`.
pub fn plan(
    target: &Target,
    snapshots: Vec<Snapshot>,
    ledger: &mut dyn LedgerStore,
    allows: &AllowIndex,
    checker: &mut Checker<'_>,
    installed: Option<&[Present]>,
) -> Result<Plan, RecoverError> {
    let env_ecosystem = installed.and_then(|i| i.first()).map(|p| p.id.ecosystem);
    let mut skipped = Vec::new();
    let chosen = match target {
        Target::To(name) => {
            let snap = snapshots
                .into_iter()
                .find(|s| s.body.as_ref().is_some_and(|b| &b.name == name))
                .ok_or_else(|| {
                    RecoverError::refused(ReasonCode::RollbackNoTarget, format!("no snapshot named {name}"))
                })?;
            allowed_then(&snap, ledger, allows)?;
            checker.clean(name, &snap.body()?.members)?;
            snap
        }
        Target::Before(_) | Target::Drop(_) => {
            if let Target::Drop(advisory) = target
                && !checker
                    .db
                    .advisories()?
                    .iter()
                    .any(|a| &a.id == advisory || a.aliases.contains(advisory))
            {
                return Err(RecoverError::Usage(format!(
                    "advisory {advisory} is not in the advisory database (import it first)"
                )));
            }
            let mut found = None;
            for snap in snapshots.into_iter().rev() {
                let Some(body) = snap.body.clone() else { continue };
                if let Target::Before(t) = target
                    && body.created >= *t
                {
                    continue;
                }
                let eco = ecosystem_of(&body.members).ok().flatten();
                if env_ecosystem.is_some() && eco.is_some() && eco != env_ecosystem {
                    continue;
                }
                let outcome = allowed_then(&snap, ledger, allows).and_then(|()| {
                    if let Target::Drop(advisory) = target
                        && checker.has_advisory(&body.name, &body.members, advisory)?
                    {
                        return Err(RecoverError::refused(
                            ReasonCode::RollbackNoTarget,
                            format!("snapshot {} still has {advisory}", body.name),
                        ));
                    }
                    checker.clean(&body.name, &body.members)
                });
                match outcome {
                    Ok(()) => {
                        found = Some(snap);
                        break;
                    }
                    Err(e) => skipped.push(Skipped {
                        snapshot: body.name.clone(),
                        code: e.code().map(|c| c.to_string()).unwrap_or_else(|| "error".into()),
                        message: e.to_string(),
                    }),
                }
            }
            found.ok_or_else(|| {
                let why: Vec<String> = skipped.iter().map(|s| s.message.clone()).collect();
                let asked = match target {
                    Target::Before(t) => format!("taken before {t}"),
                    Target::Drop(a) => format!("without {a}"),
                    Target::To(n) => n.clone(),
                };
                RecoverError::refused(
                    ReasonCode::RollbackNoTarget,
                    if why.is_empty() {
                        format!("no snapshot {asked}")
                    } else {
                        format!("no snapshot {asked} is clean today: {}", why.join("; "))
                    },
                )
            })?
        }
    };
    let body = chosen.body()?.clone();
    let ecosystem = ecosystem_of(&body.members)?;
    let changes = match installed {
        Some(present) => diff(&body.members, present)?,
        None => Vec::new(),
    };
    Ok(Plan {
        snapshot: body.name,
        created: body.created,
        ecosystem: ecosystem.map(|e| e.to_string()),
        members: body.members,
        changes,
        skipped,
    })
}

/// The key a package is compared by: its location when known (npm), else its name.
fn key(id: &PackageId, location: Option<&str>) -> String {
    match location {
        Some(l) => l.to_string(),
        None => id.normalized_name(),
    }
}

/// The difference between the target set and what is installed.
pub fn diff(members: &[Member], present: &[Present]) -> Result<Vec<Change>, RecoverError> {
    let mut now: BTreeMap<String, &Present> = BTreeMap::new();
    for p in present {
        now.insert(key(&p.id, p.location.as_deref()), p);
    }
    let mut out = Vec::new();
    for m in members {
        let id = m.id()?;
        let k = key(&id, m.location.as_deref());
        let action = match now.remove(&k) {
            None => (Action::Install, None),
            Some(p) => {
                let same_bytes = p.sha256.as_deref().is_none_or(|s| s == m.sha256);
                if p.id.version == id.version && same_bytes {
                    (Action::Keep, Some(p.id.to_purl()))
                } else {
                    (Action::Replace, Some(p.id.to_purl()))
                }
            }
        };
        out.push(Change {
            action: action.0,
            package: k,
            from: action.1,
            to: Some(m.purl.clone()),
            sha256: Some(m.sha256.clone()),
        });
    }
    for (k, p) in now {
        out.push(Change {
            action: Action::Remove,
            package: k,
            from: Some(p.id.to_purl()),
            to: None,
            sha256: None,
        });
    }
    out.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(purl: &str, sha: &str) -> Member {
        Member {
            purl: purl.into(),
            sha256: sha.repeat(64),
            sha512: None,
            allow: 0,
            file: String::new(),
            location: None,
        }
    }

    fn present(purl: &str, sha: Option<&str>) -> Present {
        Present {
            id: purl.parse().unwrap(),
            location: None,
            sha256: sha.map(|s| s.repeat(64)),
        }
    }

    #[test]
    fn the_difference_names_every_install_removal_replacement_and_keep() {
        let members = [
            member("pkg:pypi/a@1.0", "a"),
            member("pkg:pypi/b@1.0", "b"),
            member("pkg:pypi/c@1.0", "c"),
        ];
        let installed = [
            present("pkg:pypi/a@1.1", Some("d")),
            present("pkg:pypi/b@1.0", Some("b")),
            present("pkg:pypi/x@3", None),
        ];
        let changes = diff(&members, &installed).unwrap();
        let got: Vec<(Action, &str)> = changes.iter().map(|c| (c.action, c.package.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Action::Replace, "a"),
                (Action::Keep, "b"),
                (Action::Install, "c"),
                (Action::Remove, "x")
            ]
        );
        // Same version, other bytes: a replacement.
        let changes = diff(&members[1..2], &[present("pkg:pypi/b@1.0", Some("e"))]).unwrap();
        assert_eq!(changes[0].action, Action::Replace);
    }

    #[test]
    fn a_set_of_two_ecosystems_is_a_partial_rollback() {
        let err = ecosystem_of(&[member("pkg:pypi/a@1.0", "a"), member("pkg:npm/b@1.0.0", "b")]).unwrap_err();
        assert_eq!(err.code(), Some(ReasonCode::RollbackPartial));
    }
}
