//! The audit itself: the environments at each path, their packages listed
//! (directories only, not files), each package checked on one of
//! `limits.threads` threads (packages are handed out one at a time, so a
//! large one does not hold up the rest), then the extras of Python site
//! directories, then today's advisories. Findings are kept in the order
//! the packages were found, whatever thread checked them.

use crate::compare::Findings;
use crate::context::{Allow, AuditContext};
use crate::discover;
use crate::error::AuditError;
use crate::model::{AlertKind, AuditFinding, AuditReport, Environment, EnvironmentKind, Installed};
use crate::{cargo, npm, python};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use ward_core::{Ecosystem, PackageId};

/// One package, checked.
pub(crate) struct Checked {
    pub(crate) installed: Installed,
    /// The allow that covers it.
    pub(crate) allow: Option<Allow>,
    pub(crate) findings: Vec<AuditFinding>,
    /// Findings over the per-package cap.
    pub(crate) omitted: u64,
    /// Python: the site-relative paths its `RECORD` lists.
    pub(crate) owned: Vec<String>,
}

/// A package to check.
enum Job {
    Python {
        site: PathBuf,
        root: PathBuf,
        dist: PathBuf,
    },
    Npm {
        env: usize,
        dir: PathBuf,
    },
    Vendored {
        vendor: PathBuf,
        dir: PathBuf,
    },
    Registry {
        home: PathBuf,
        dir: PathBuf,
        krate: PathBuf,
    },
    /// Something found while listing that is a finding by itself.
    Finding(Box<Checked>),
}

fn lone(kind: AlertKind, location: &Path, environment: &Path, detail: String) -> Job {
    let name = location
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| location.display().to_string());
    let id = PackageId::new(Ecosystem::Generic, None, name, None);
    Job::Finding(Box::new(Checked {
        installed: Installed {
            id: id.clone(),
            location: location.to_path_buf(),
            environment: environment.to_path_buf(),
            installer: None,
            artifact: None,
            allow: None,
            files: 0,
            hashed_files: 0,
            hashed_bytes: 0,
        },
        allow: None,
        findings: vec![AuditFinding::new(kind, id, location.to_path_buf(), detail)],
        omitted: 0,
        owned: Vec::new(),
    }))
}

fn unreadable(path: &Path, environment: &Path, e: &std::io::Error) -> Job {
    lone(
        AlertKind::Unreadable,
        path,
        environment,
        format!("{}: {e}", path.display()),
    )
}

/// A symbolic link where a package would be (in `node_modules`, in
/// `vendor/`): never followed; `unverifiable` when it stays inside the
/// environment (its target is audited where it lives), else `link-escapes`.
fn link_job(environment: &Path, link: &Path, target: &Path, within: &str) -> Job {
    if crate::fsio::link_stays_within(environment, link, target) {
        lone(
            AlertKind::Unverifiable,
            link,
            environment,
            format!(
                "{} is a symbolic link to {} (not followed): audit its target where it lives",
                link.display(),
                target.display()
            ),
        )
    } else {
        lone(
            AlertKind::LinkEscapes,
            link,
            environment,
            format!(
                "{} links to {} outside {within} (not followed)",
                link.display(),
                target.display()
            ),
        )
    }
}

/// Lists the packages of every environment.
fn jobs(envs: &[Environment], ctx: &AuditContext<'_>, locks: &mut Vec<HashMap<String, String>>) -> Vec<Job> {
    let mut out = Vec::new();
    for (e, env) in envs.iter().enumerate() {
        locks.push(HashMap::new());
        match env.kind {
            EnvironmentKind::Python => {
                let root = discover::python_root(&env.path);
                match python::dist_infos(&env.path) {
                    Ok(dists) => out.extend(dists.into_iter().map(|dist| Job::Python {
                        site: env.path.clone(),
                        root: root.clone(),
                        dist,
                    })),
                    Err(err) => out.push(unreadable(&env.path, &env.path, &err)),
                }
            }
            EnvironmentKind::Npm => {
                match npm::hidden_lock(ctx, &env.path) {
                    Ok(lock) => locks[e] = lock,
                    Err(why) => out.push(lone(
                        AlertKind::Unverifiable,
                        &env.path.join(".package-lock.json"),
                        &env.path,
                        format!("npm's hidden lockfile cannot be read ({why}): no package's integrity is known"),
                    )),
                }
                let mut found = Vec::new();
                npm::packages(&env.path, &mut found);
                for f in found {
                    out.push(match f {
                        npm::Found::Package(dir) => Job::Npm { env: e, dir },
                        npm::Found::Link(p, target) => link_job(&env.path, &p, &target, "node_modules"),
                        npm::Found::Unreadable(p, err) => unreadable(&p, &env.path, &err),
                    });
                }
            }
            EnvironmentKind::CargoVendor => match cargo::vendored(&env.path) {
                Ok(entries) => out.extend(entries.into_iter().map(|entry| match entry {
                    cargo::Vendored::Crate(dir) => Job::Vendored {
                        vendor: env.path.clone(),
                        dir,
                    },
                    cargo::Vendored::Link(p, target) => link_job(&env.path, &p, &target, "vendor/"),
                })),
                Err(err) => out.push(unreadable(&env.path, &env.path, &err)),
            },
            EnvironmentKind::CargoHome => match cargo::registry_sources(&env.path) {
                Ok(list) => out.extend(list.into_iter().map(|(dir, krate)| Job::Registry {
                    home: env.path.clone(),
                    dir,
                    krate,
                })),
                Err(err) => out.push(unreadable(&env.path.join("registry/src"), &env.path, &err)),
            },
        }
    }
    out
}

fn run_job(ctx: &AuditContext<'_>, job: Job, locks: &[HashMap<String, String>], envs: &[Environment]) -> Checked {
    match job {
        Job::Python { site, root, dist, .. } => python::check(ctx, &site, &root, &dist),
        Job::Npm { env, dir } => npm::check(ctx, &envs[env].path, &dir, &locks[env]),
        Job::Vendored { vendor, dir } => cargo::check_vendored(ctx, &vendor, &dir),
        Job::Registry { home, dir, krate } => cargo::check_registry(ctx, &home, &dir, &krate),
        Job::Finding(c) => *c,
    }
}

/// Checks every job on `threads` threads; results in job order.
fn check_all(
    ctx: &AuditContext<'_>,
    jobs: Vec<Job>,
    locks: &[HashMap<String, String>],
    envs: &[Environment],
) -> Vec<Checked> {
    let n = jobs.len();
    let queue: Vec<Mutex<Option<Job>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let results: Vec<Mutex<Option<Checked>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = ctx.limits.threads.clamp(1, n.max(1));
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            let job = queue[i]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let Some(job) = job {
                let c = run_job(ctx, job, locks, envs);
                if let Some(p) = ctx.progress {
                    p.checked(c.installed.hashed_files, c.installed.hashed_bytes);
                }
                *results[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(c);
            }
        }
    };
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    results
        .into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner))
        .collect()
}

/// Python: files under the packages' top-level directories that no
/// `RECORD` of the site directory lists, reported against the package
/// that names the directory first.
fn python_extras(ctx: &AuditContext<'_>, envs: &[Environment], checked: &mut [Checked]) {
    for env in envs.iter().filter(|e| e.kind == EnvironmentKind::Python) {
        let members: Vec<usize> = (0..checked.len())
            .filter(|&i| {
                checked[i].installed.environment == env.path && checked[i].installed.id.ecosystem == Ecosystem::Pypi
            })
            .collect();
        let listed: HashSet<&str> = members
            .iter()
            .flat_map(|&i| checked[i].owned.iter().map(String::as_str))
            .collect();
        let mut dirs = python::owned_dirs(
            &env.path,
            members
                .iter()
                .flat_map(|&i| checked[i].owned.iter().map(move |p| (i, p.as_str()))),
        );
        // Each .dist-info directory belongs to its own package.
        for &i in &members {
            if let Some(name) = checked[i].installed.location.file_name() {
                dirs.push((name.to_string_lossy().into_owned(), i));
            }
        }
        dirs.sort();
        dirs.dedup_by(|a, b| a.0 == b.0);
        let mut extra: Vec<(usize, Findings)> = Vec::new();
        for (dir, owner) in dirs {
            let mut f = Findings::new(
                checked[owner].installed.id.clone(),
                env.path.clone(),
                ctx.limits.findings_per_package,
            );
            f.walk_extras(&env.path, &env.path.join(&dir), &|_| false, &|rel| listed.contains(rel));
            extra.push((owner, f));
        }
        for (owner, f) in extra {
            let (files, hashed_files, hashed_bytes) = (f.files, f.hashed_files, f.hashed_bytes);
            let (list, omitted, _) = f.finish();
            let c = &mut checked[owner];
            c.installed.files += files;
            c.installed.hashed_files += hashed_files;
            c.installed.hashed_bytes += hashed_bytes;
            c.findings.extend(list);
            c.omitted += omitted;
        }
    }
}

/// Audits the environments at `paths` against `context`. Errors only when
/// a path cannot be read at all or holds no environment; everything found
/// inside (including files that cannot be read) is a finding.
pub fn audit(paths: &[PathBuf], context: &AuditContext<'_>) -> Result<AuditReport, AuditError> {
    let mut envs = Vec::new();
    for p in paths {
        envs.extend(discover::environments(p)?);
    }
    let mut locks = Vec::new();
    let jobs = jobs(&envs, context, &mut locks);
    if let Some(p) = context.progress {
        p.found(jobs.len() as u64);
    }
    let mut checked = check_all(context, jobs, &locks, &envs);
    python_extras(context, &envs, &mut checked);
    let mut extra: Vec<Vec<AuditFinding>> = vec![Vec::new(); checked.len()];
    for (i, f) in crate::advisories::findings(context, &checked)? {
        extra[i].push(f);
    }
    let mut report = AuditReport {
        environments: envs,
        ..AuditReport::default()
    };
    for (c, more) in checked.into_iter().zip(extra) {
        let s = &mut report.stats;
        s.packages += 1;
        s.files += c.installed.files;
        s.hashed_files += c.installed.hashed_files;
        s.hashed_bytes += c.installed.hashed_bytes;
        s.findings_omitted += c.omitted;
        report.findings.extend(c.findings);
        report.findings.extend(more);
        report.packages.push(c.installed);
    }
    Ok(report)
}
