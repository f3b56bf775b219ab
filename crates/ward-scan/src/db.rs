//! The local advisory database: built once by `ward advisories import`
//! from OSV data as published (a tree of `.json`/`.yaml` files, `{"vulns":
//! [...]}` files, per-ecosystem `all.zip`) and the RustSec advisory-db
//! layout (TOML front matter in Markdown); saved as one compact JSON file;
//! loaded and indexed by (ecosystem, normalised name) in one pass.
//!
//! Withdrawn advisories are dropped; records that name each other (ids and
//! aliases) are merged into one advisory; malformed records are skipped,
//! counted and reported, never silently.

use crate::advisory::{Advisory, AffectedPackage, Matcher, Rating, rate_vector};
use crate::osv::OsvRecord;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use ward_core::Ecosystem;

/// The file the database is saved in.
pub const DB_FILE: &str = "advisories.json";
/// Largest single advisory file read.
const MAX_RECORD_BYTES: u64 = 32 << 20;
/// Most entries read from one zip.
const MAX_ZIP_ENTRIES: usize = 1_000_000;

/// Why the database cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No database has been imported there.
    #[error("no advisory database in {0}: run `ward advisories import PATH` first")]
    Missing(String),
    /// The saved database is unreadable.
    #[error("the advisory database {0} is corrupt: {1}")]
    Corrupt(String, String),
}

/// Per-ecosystem counts and freshness.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EcosystemStats {
    /// Advisories that affect this ecosystem.
    pub advisories: usize,
    /// The newest `modified` among them.
    pub newest_modified: Option<String>,
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImportReport {
    /// Records read.
    pub records: usize,
    /// Advisories kept (after merging).
    pub advisories: usize,
    /// Records merged into another by id or alias.
    pub merged: usize,
    /// Withdrawn records dropped.
    pub withdrawn: usize,
    /// Records about ecosystems ward does not scan.
    pub unsupported: usize,
    /// Malformed records skipped: (file, why), all of them.
    pub malformed: Vec<(String, String)>,
}

/// The saved form.
#[derive(Serialize, Deserialize)]
struct Saved {
    format: u32,
    built_at: String,
    sources: Vec<String>,
    stats: BTreeMap<String, EcosystemStats>,
    report: ImportReport,
    advisories: Vec<Advisory>,
}

/// A loaded, indexed advisory database.
pub struct AdvisoryDb {
    saved: Saved,
    index: HashMap<(Ecosystem, String), Vec<(usize, usize)>>,
}

enum Raw {
    Osv(Box<OsvRecord>),
    Rustsec(Box<Advisory>, bool),
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(format!("larger than {MAX_RECORD_BYTES} bytes"));
    }
    Ok(bytes)
}

fn osv_from_json(bytes: &[u8]) -> Result<Vec<Result<OsvRecord, String>>, String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let list = match v {
        serde_json::Value::Object(mut o) if o.contains_key("vulns") => match o.remove("vulns") {
            Some(serde_json::Value::Array(a)) => a,
            _ => return Err("`vulns` is not an array".into()),
        },
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    Ok(list
        .into_iter()
        .map(|r| serde_json::from_value::<OsvRecord>(r).map_err(|e| e.to_string()))
        .collect())
}

/// Parses a RustSec advisory (TOML front matter in Markdown).
fn rustsec(text: &str) -> Result<Option<(Advisory, bool)>, String> {
    let start = text.find("```toml").ok_or("no ```toml front matter")? + "```toml".len();
    let end = text[start..].find("```").ok_or("unterminated front matter")? + start;
    let front: toml::Table = toml::from_str(&text[start..end]).map_err(|e| e.message().to_string())?;
    let adv = front
        .get("advisory")
        .and_then(|a| a.as_table())
        .ok_or("no [advisory] table")?;
    let s = |t: &toml::Table, k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let list = |t: Option<&toml::Table>, k: &str| -> Vec<String> {
        t.and_then(|t| t.get(k))
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let id = s(adv, "id").ok_or("no advisory.id")?;
    let package = s(adv, "package").ok_or("no advisory.package")?;
    let withdrawn = adv.contains_key("withdrawn");
    let versions = front.get("versions").and_then(|v| v.as_table());
    let title = text[end..]
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .unwrap_or_default()
        .trim()
        .to_string();
    let rating = match (
        s(adv, "cvss").and_then(|v| rate_vector(&v)),
        adv.contains_key("informational"),
    ) {
        (Some(r), _) => r,
        (None, true) => Rating::informational(),
        (None, false) => Rating::unrated(),
    };
    let advisory = Advisory {
        id,
        aliases: list(Some(adv), "aliases"),
        summary: title,
        modified: s(adv, "date").map(|d| format!("{d}T00:00:00Z")),
        rating,
        affected: vec![AffectedPackage {
            ecosystem: Ecosystem::Cargo,
            name: crate::advisory::normalize_name(Ecosystem::Cargo, &package),
            matcher: Matcher::Rustsec {
                patched: list(versions, "patched"),
                unaffected: list(versions, "unaffected"),
            },
        }],
    };
    Ok(Some((advisory, withdrawn)))
}

fn collect(path: &Path, out: &mut Vec<(String, Result<Raw, String>)>) -> Result<(), DbError> {
    let io = |source| DbError::Io {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                continue;
            }
            collect(&e, out)?;
        }
        return Ok(());
    }
    let name = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "json" => match read_bounded(path).and_then(|b| osv_from_json(&b)) {
            Ok(records) => out.extend(
                records
                    .into_iter()
                    .map(|r| (name.clone(), r.map(|r| Raw::Osv(Box::new(r))))),
            ),
            Err(e) => out.push((name, Err(e))),
        },
        "yaml" | "yml" => {
            let r =
                read_bounded(path).and_then(|b| serde_norway::from_slice::<OsvRecord>(&b).map_err(|e| e.to_string()));
            out.push((name, r.map(|r| Raw::Osv(Box::new(r)))));
        }
        "md" => {
            let r = read_bounded(path)
                .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()))
                .and_then(|t| rustsec(&t));
            match r {
                Ok(Some((a, withdrawn))) => out.push((name, Ok(Raw::Rustsec(Box::new(a), withdrawn)))),
                Ok(None) => {}
                // Markdown files that are not advisories (READMEs) are not records.
                Err(_) if !path.components().any(|c| c.as_os_str() == "crates") => {}
                Err(e) => out.push((name, Err(e))),
            }
        }
        "zip" => {
            let file = std::fs::File::open(path).map_err(io)?;
            match zip::ZipArchive::new(std::io::BufReader::new(file)) {
                Err(e) => out.push((name, Err(e.to_string()))),
                Ok(z) if z.len() > MAX_ZIP_ENTRIES => {
                    out.push((name, Err(format!("more than {MAX_ZIP_ENTRIES} entries"))))
                }
                Ok(mut z) => {
                    for i in 0..z.len() {
                        let label = format!("{name}#{i}");
                        let mut bytes = Vec::new();
                        let read = z.by_index(i).map_err(|e| e.to_string()).and_then(|f| {
                            f.take(MAX_RECORD_BYTES + 1)
                                .read_to_end(&mut bytes)
                                .map_err(|e| e.to_string())
                        });
                        match read.and_then(|_| osv_from_json(&bytes)) {
                            Ok(records) => out.extend(
                                records
                                    .into_iter()
                                    .map(|r| (label.clone(), r.map(|r| Raw::Osv(Box::new(r))))),
                            ),
                            Err(e) => out.push((label, Err(e))),
                        }
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

impl AdvisoryDb {
    /// Reads every source and builds the database. `Err` only when a path
    /// cannot be read at all; bad records are counted in the report.
    pub fn import(paths: &[PathBuf], now: &str) -> Result<(Self, ImportReport), DbError> {
        let mut raw = Vec::new();
        for p in paths {
            collect(p, &mut raw)?;
        }
        let mut report = ImportReport::default();
        let mut advisories: Vec<Advisory> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for (file, r) in raw {
            report.records += 1;
            let advisory = match r {
                Err(e) => {
                    report.malformed.push((file, e));
                    continue;
                }
                Ok(Raw::Rustsec(_, true)) => {
                    report.withdrawn += 1;
                    continue;
                }
                Ok(Raw::Rustsec(a, false)) => *a,
                Ok(Raw::Osv(record)) => {
                    if record.withdrawn.is_some() {
                        report.withdrawn += 1;
                        continue;
                    }
                    let vectors: Vec<String> = record
                        .severity
                        .iter()
                        .filter(|s| s.kind.starts_with("CVSS_V"))
                        .map(|s| s.score.clone())
                        .collect();
                    let db_severity = record
                        .database_specific
                        .as_ref()
                        .and_then(|d| d.get("severity"))
                        .and_then(|s| s.as_str())
                        .map(str::to_string);
                    match Advisory::from_osv(*record, db_severity.as_deref(), &vectors) {
                        Some(a) => a,
                        None => {
                            report.unsupported += 1;
                            continue;
                        }
                    }
                }
            };
            let keys: Vec<String> = std::iter::once(advisory.id.clone())
                .chain(advisory.aliases.iter().cloned())
                .collect();
            match keys.iter().find_map(|k| by_key.get(k).copied()) {
                Some(i) => {
                    report.merged += 1;
                    let into = &mut advisories[i];
                    for k in &keys {
                        if *k != into.id && !into.aliases.contains(k) {
                            into.aliases.push(k.clone());
                        }
                        by_key.insert(k.clone(), i);
                    }
                    into.affected.extend(advisory.affected);
                    if advisory.rating.level > into.rating.level {
                        into.rating = advisory.rating;
                    }
                    if advisory.modified > into.modified {
                        into.modified = advisory.modified;
                    }
                    if into.summary.is_empty() {
                        into.summary = advisory.summary;
                    }
                }
                None => {
                    for k in &keys {
                        by_key.insert(k.clone(), advisories.len());
                    }
                    advisories.push(advisory);
                }
            }
        }
        report.advisories = advisories.len();
        let mut stats: BTreeMap<String, EcosystemStats> = BTreeMap::new();
        for a in &advisories {
            let mut seen = Vec::new();
            for p in &a.affected {
                if seen.contains(&p.ecosystem) {
                    continue;
                }
                seen.push(p.ecosystem);
                let s = stats.entry(p.ecosystem.purl_type().to_string()).or_default();
                s.advisories += 1;
                if a.modified > s.newest_modified {
                    s.newest_modified = a.modified.clone();
                }
            }
        }
        let saved = Saved {
            format: 1,
            built_at: now.to_string(),
            sources: paths.iter().map(|p| p.display().to_string()).collect(),
            stats,
            report: report.clone(),
            advisories,
        };
        Ok((Self::indexed(saved), report))
    }

    fn indexed(saved: Saved) -> Self {
        let mut index: HashMap<(Ecosystem, String), Vec<(usize, usize)>> = HashMap::new();
        for (i, a) in saved.advisories.iter().enumerate() {
            for (j, p) in a.affected.iter().enumerate() {
                index.entry((p.ecosystem, p.name.clone())).or_default().push((i, j));
            }
        }
        Self { saved, index }
    }

    /// Writes the database to `dir` (atomically replacing an older one).
    pub fn save(&self, dir: &Path) -> Result<(), DbError> {
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |source| DbError::Io { path: p, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let bytes =
            serde_json::to_vec(&self.saved).map_err(|e| DbError::Corrupt(dir.display().to_string(), e.to_string()))?;
        let tmp = dir.join(format!("{DB_FILE}.tmp"));
        std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
        std::fs::rename(&tmp, dir.join(DB_FILE)).map_err(io(dir))
    }

    /// Loads the database from `dir`.
    pub fn load(dir: &Path) -> Result<Self, DbError> {
        let path = dir.join(DB_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DbError::Missing(dir.display().to_string()));
            }
            Err(source) => {
                return Err(DbError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let saved: Saved =
            serde_json::from_slice(&bytes).map_err(|e| DbError::Corrupt(path.display().to_string(), e.to_string()))?;
        if saved.format != 1 {
            return Err(DbError::Corrupt(
                path.display().to_string(),
                format!("format {} is not 1", saved.format),
            ));
        }
        Ok(Self::indexed(saved))
    }

    /// The advisories (and their affected entry) about a package.
    pub fn lookup(
        &self,
        ecosystem: Ecosystem,
        normalized_name: &str,
    ) -> impl Iterator<Item = (&Advisory, &AffectedPackage)> {
        self.index
            .get(&(ecosystem, normalized_name.to_string()))
            .into_iter()
            .flatten()
            .map(|&(i, j)| (&self.saved.advisories[i], &self.saved.advisories[i].affected[j]))
    }

    /// Per-ecosystem counts and freshness.
    pub fn stats(&self) -> &BTreeMap<String, EcosystemStats> {
        &self.saved.stats
    }

    /// When it was built.
    pub fn built_at(&self) -> &str {
        &self.saved.built_at
    }

    /// The import report of its build.
    pub fn report(&self) -> &ImportReport {
        &self.saved.report
    }

    /// Every advisory.
    pub fn advisories(&self) -> &[crate::advisory::Advisory] {
        &self.saved.advisories
    }

    /// Number of advisories.
    pub fn len(&self) -> usize {
        self.saved.advisories.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.saved.advisories.is_empty()
    }

    /// The newest `modified` of any advisory: how fresh the data is.
    pub fn newest_modified(&self) -> Option<&str> {
        self.saved
            .stats
            .values()
            .filter_map(|s| s.newest_modified.as_deref())
            .max()
    }
}
