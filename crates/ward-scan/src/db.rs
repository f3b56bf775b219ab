//! The local advisory database: built once by `ward advisories import`
//! from OSV data as published (a tree of `.json`/`.yaml` files, `{"vulns":
//! [...]}` files, per-ecosystem `all.zip`) and the RustSec advisory-db
//! layout (TOML front matter in Markdown); saved as an index
//! (`index.json`: counts, freshness, and for each (ecosystem, normalised
//! name) the records about it) and the records themselves, one JSON line
//! each (`records-<digest>.jsonl`). Loading reads the index and the records
//! file, and parses a record only when a lookup first needs it, so a scan of
//! a few hundred packages parses a few hundred records, not the database.
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
use ward_input::{InputFile, limits};

/// The database's index file (its presence means a database is there).
pub const DB_FILE: &str = "index.json";
/// The on-disk format written and read. 3: advisories carry their
/// malicious-package facts; a format-2 database (imported before ward knew
/// them, so a `MAL-` record would be an ordinary advisory that an exception
/// could silence) is refused until re-imported.
const FORMAT: u32 = 3;
/// Largest single advisory file read (and zip entry).
const MAX_RECORD_BYTES: u64 = limits::ADVISORY;
/// Deepest directory nesting walked (symbolic links can make a loop).
const MAX_DIR_DEPTH: usize = 32;
/// Malformed files named as examples when nothing could be imported.
const EXAMPLES: usize = 5;
/// Most bytes unpacked from one zip, all entries together (the published
/// per-ecosystem `all.zip` files unpack to a few hundred MiB).
const MAX_ZIP_UNPACKED: u64 = 8 << 30;
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
    /// An import read no usable advisory: saving it would replace a
    /// database with an empty one. Says what was skipped and why.
    #[error("no advisories imported: {0}")]
    NothingImported(String),
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
    /// Records read from each path given to the import.
    #[serde(default)]
    pub sources: BTreeMap<String, usize>,
    /// Advisories about malicious packages (kept, after merging).
    #[serde(default)]
    pub malicious: usize,
    /// Malicious advisories whose ranges are suspect: (id, why).
    #[serde(default)]
    pub suspect: Vec<(String, String)>,
}

/// The saved index: everything but the records.
#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    built_at: String,
    sources: Vec<String>,
    stats: BTreeMap<String, EcosystemStats>,
    report: ImportReport,
    /// The records file, named by its content's digest.
    records: String,
    /// Each record's byte offset and length in the records file.
    lines: Vec<(u64, u32)>,
    /// (ecosystem, normalised name) to (record, affected entry) pairs.
    index: Vec<IndexEntry>,
    /// (algorithm, hex) of each artifact digest a malicious record lists, to
    /// the record: a listed artifact matches under any name.
    #[serde(default)]
    digests: Vec<(String, String, u32)>,
}

/// One package's records: (ecosystem, normalised name, [(record, affected entry)]).
type IndexEntry = (Ecosystem, String, Vec<(u32, u32)>);

/// The advisories: all parsed (just imported), or parsed on first use.
enum Records {
    Parsed(Vec<Advisory>),
    Lazy {
        bytes: Vec<u8>,
        lines: Vec<(u64, u32)>,
        cells: Vec<std::sync::OnceLock<Result<Advisory, String>>>,
    },
}

impl Records {
    fn len(&self) -> usize {
        match self {
            Records::Parsed(v) => v.len(),
            Records::Lazy { lines, .. } => lines.len(),
        }
    }

    fn get(&self, i: usize) -> Result<&Advisory, String> {
        match self {
            Records::Parsed(v) => v.get(i).ok_or_else(|| format!("record {i} is missing")),
            Records::Lazy { bytes, lines, cells } => {
                let (Some(&(offset, len)), Some(cell)) = (lines.get(i), cells.get(i)) else {
                    return Err(format!("record {i} is missing"));
                };
                cell.get_or_init(|| {
                    let start = usize::try_from(offset).map_err(|e| e.to_string())?;
                    let slice = start
                        .checked_add(len as usize)
                        .and_then(|end| bytes.get(start..end))
                        .ok_or_else(|| format!("record {i} lies outside the records file"))?;
                    serde_json::from_slice(slice).map_err(|e| format!("record {i} is corrupt: {e}"))
                })
                .as_ref()
                .map_err(Clone::clone)
            }
        }
    }
}

/// A loaded, indexed advisory database.
pub struct AdvisoryDb {
    header: Header,
    records: Records,
    index: HashMap<(Ecosystem, String), Vec<(usize, usize)>>,
    by_digest: HashMap<(String, String), Vec<usize>>,
}

enum Raw {
    Osv(Box<OsvRecord>),
    Rustsec(Box<Advisory>, bool),
}

/// Reads one advisory file through the bounded reader: a FIFO, device or
/// file over [`limits::ADVISORY`] is an error (counted as malformed), never
/// a hang.
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    ward_input::read_bounded(path, "advisory file", limits::ADVISORY).map_err(|e| e.to_string())
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
    let malicious = list(Some(adv), "categories").iter().any(|c| c == "malicious");
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
        malicious: malicious.then(|| crate::malicious::Malicious {
            advice: crate::malicious::DEFAULT_ADVICE.to_string(),
            suspect: None,
            indicators: Vec::new(),
        }),
    };
    Ok(Some((advisory, withdrawn)))
}

/// What a walk has read: each directory and file once, however many
/// symbolic links lead to it (links to a parent must not fan out without end).
type Seen = std::collections::HashSet<PathBuf>;

fn collect(
    path: &Path,
    out: &mut Vec<(String, Result<Raw, String>)>,
    depth: usize,
    seen: &mut Seen,
) -> Result<(), DbError> {
    let io = |source| DbError::Io {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !seen.insert(path.canonicalize().map_err(io)?) {
        return Ok(());
    }
    if meta.is_dir() && depth >= MAX_DIR_DEPTH {
        out.push((
            path.display().to_string(),
            Err(format!(
                "directories nest deeper than {MAX_DIR_DEPTH} levels (a symbolic link loop?)"
            )),
        ));
        return Ok(());
    }
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
            collect(&e, out, depth + 1, seen)?;
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
            let text = read_bounded(path).and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()));
            // Markdown files that are not advisories (READMEs: no front matter,
            // outside `crates/`) are not records; anything else that fails is malformed.
            let advisory_like = |t: &str| t.contains("```toml") || path.components().any(|c| c.as_os_str() == "crates");
            match text {
                Err(e) => out.push((name, Err(e))),
                Ok(t) => match rustsec(&t) {
                    Ok(Some((a, withdrawn))) => out.push((name, Ok(Raw::Rustsec(Box::new(a), withdrawn)))),
                    Ok(None) => {}
                    Err(_) if !advisory_like(&t) => {}
                    Err(e) => out.push((name, Err(e))),
                },
            }
        }
        "zip" => {
            let file = match InputFile::new(path, "advisory archive", u64::MAX).open() {
                Ok(f) => f,
                Err(e) => {
                    out.push((name, Err(e.to_string())));
                    return Ok(());
                }
            };
            match zip::ZipArchive::new(std::io::BufReader::new(file)) {
                Err(e) => out.push((name, Err(e.to_string()))),
                Ok(z) if z.len() > MAX_ZIP_ENTRIES => {
                    out.push((name, Err(format!("more than {MAX_ZIP_ENTRIES} entries"))))
                }
                Ok(mut z) => {
                    let mut unpacked: u64 = 0;
                    for i in 0..z.len() {
                        let label = format!("{name}#{i}");
                        if unpacked > MAX_ZIP_UNPACKED {
                            out.push((
                                label,
                                Err(format!(
                                    "the archive unpacks to more than {MAX_ZIP_UNPACKED} bytes; the rest is not read"
                                )),
                            ));
                            break;
                        }
                        let mut bytes = Vec::new();
                        let read = z.by_index(i).map_err(|e| e.to_string()).and_then(|f| {
                            f.take(MAX_RECORD_BYTES + 1)
                                .read_to_end(&mut bytes)
                                .map_err(|e| e.to_string())
                        });
                        unpacked += bytes.len() as u64;
                        let read = read.and_then(|_| {
                            if bytes.len() as u64 > MAX_RECORD_BYTES {
                                Err(format!("larger than the {MAX_RECORD_BYTES}-byte limit"))
                            } else {
                                Ok(())
                            }
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

/// Why an import produced nothing: the counts, and a few malformed files.
fn nothing_imported(report: &ImportReport) -> String {
    let mut why = format!(
        "{} records read: {} malformed or unreadable, {} withdrawn, {} about ecosystems ward does not scan",
        report.records,
        report.malformed.len(),
        report.withdrawn,
        report.unsupported
    );
    if report.records == 0 {
        why = "no advisory files found (ward reads OSV .json/.yaml, .zip and RustSec .md)".into();
    }
    for (file, reason) in report.malformed.iter().take(EXAMPLES) {
        why.push_str(&format!("; {file}: {reason}"));
    }
    if report.malformed.len() > EXAMPLES {
        why.push_str(&format!("; and {} more", report.malformed.len() - EXAMPLES));
    }
    why
}

impl AdvisoryDb {
    /// Reads every source and builds the database. `Err` when a path
    /// cannot be read at all, or when not one advisory could be kept
    /// ([`DbError::NothingImported`]); bad records are counted in the report.
    pub fn import(paths: &[PathBuf], now: &str) -> Result<(Self, ImportReport), DbError> {
        let mut raw = Vec::new();
        let mut seen = Seen::new();
        let mut report = ImportReport::default();
        for p in paths {
            let before = raw.len();
            collect(p, &mut raw, 0, &mut seen)?;
            *report.sources.entry(p.display().to_string()).or_default() += raw.len() - before;
        }
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
                    // A malformed malicious record is counted and named, never dropped unseen.
                    let malicious = if crate::malicious::is_mal_record(&record) {
                        match crate::malicious::from_osv(&record) {
                            Ok(m) => Some(m),
                            Err(e) => {
                                report.malformed.push((file, e));
                                continue;
                            }
                        }
                    } else {
                        None
                    };
                    match Advisory::from_osv(*record, db_severity.as_deref(), &vectors) {
                        Some(mut a) => {
                            a.malicious = malicious;
                            a
                        }
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
                    match (&mut into.malicious, advisory.malicious) {
                        (Some(m), Some(other)) => {
                            m.indicators.extend(other.indicators);
                            if m.advice == crate::malicious::DEFAULT_ADVICE {
                                m.advice = other.advice;
                            }
                        }
                        (m @ None, other) => *m = other,
                        (Some(_), None) => {}
                    }
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
        for a in &mut advisories {
            let why = a.malicious.as_ref().and_then(|_| crate::malicious::suspect_reason(a));
            if let Some(m) = &mut a.malicious {
                report.malicious += 1;
                if let Some(why) = why {
                    report.suspect.push((a.id.clone(), why.clone()));
                    m.suspect = Some(why);
                }
            }
        }
        report.advisories = advisories.len();
        if advisories.is_empty() {
            return Err(DbError::NothingImported(nothing_imported(&report)));
        }
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
        let mut index: HashMap<(Ecosystem, String), Vec<(usize, usize)>> = HashMap::new();
        for (i, a) in advisories.iter().enumerate() {
            for (j, p) in a.affected.iter().enumerate() {
                index.entry((p.ecosystem, p.name.clone())).or_default().push((i, j));
            }
        }
        let mut by_digest: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, a) in advisories.iter().enumerate() {
            for ind in a.malicious.iter().flat_map(|m| &m.indicators) {
                let refs = by_digest.entry((ind.algorithm.clone(), ind.hex.clone())).or_default();
                if !refs.contains(&i) {
                    refs.push(i);
                }
            }
        }
        let header = Header {
            format: FORMAT,
            built_at: now.to_string(),
            sources: paths.iter().map(|p| p.display().to_string()).collect(),
            stats,
            report: report.clone(),
            records: String::new(),
            lines: Vec::new(),
            index: Vec::new(),
            digests: Vec::new(),
        };
        Ok((
            Self {
                header,
                records: Records::Parsed(advisories),
                index,
                by_digest,
            },
            report,
        ))
    }

    /// Writes the database to `dir`. The records file is written under a
    /// new name first, then the index that names it replaces the old index
    /// (an atomic rename), then old records files are removed: a crash
    /// leaves the old database or the new one, never a mix.
    pub fn save(&self, dir: &Path) -> Result<(), DbError> {
        use sha2::Digest as _;
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |source| DbError::Io { path: p, source }
        };
        let corrupt = |e: serde_json::Error| DbError::Corrupt(dir.display().to_string(), e.to_string());
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut body = Vec::new();
        let mut lines = Vec::with_capacity(self.len());
        for i in 0..self.records.len() {
            let advisory = self
                .records
                .get(i)
                .map_err(|e| DbError::Corrupt(dir.display().to_string(), e))?;
            let start = body.len() as u64;
            serde_json::to_writer(&mut body, advisory).map_err(corrupt)?;
            let len = u32::try_from(body.len() as u64 - start)
                .map_err(|_| DbError::Corrupt(dir.display().to_string(), format!("record {i} is over 4 GiB")))?;
            lines.push((start, len));
            body.push(b'\n');
        }
        let name = format!("records-{}.jsonl", &hex::encode(sha2::Sha256::digest(&body))[..16]);
        let mut index: Vec<IndexEntry> = self
            .index
            .iter()
            .map(|((eco, n), v)| (*eco, n.clone(), v.iter().map(|&(i, j)| (i as u32, j as u32)).collect()))
            .collect();
        index.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut digests: Vec<(String, String, u32)> = self
            .by_digest
            .iter()
            .flat_map(|((alg, hex), refs)| refs.iter().map(|&i| (alg.clone(), hex.clone(), i as u32)))
            .collect();
        digests.sort();
        let header = Header {
            format: FORMAT,
            built_at: self.header.built_at.clone(),
            sources: self.header.sources.clone(),
            stats: self.header.stats.clone(),
            report: self.header.report.clone(),
            records: name.clone(),
            lines,
            index,
            digests,
        };
        let records_path = dir.join(&name);
        let tmp = dir.join(format!("{name}.tmp"));
        std::fs::write(&tmp, &body).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &records_path).map_err(io(&records_path))?;
        let tmp = dir.join(format!("{DB_FILE}.tmp"));
        std::fs::write(&tmp, serde_json::to_vec(&header).map_err(corrupt)?).map_err(io(&tmp))?;
        std::fs::rename(&tmp, dir.join(DB_FILE)).map_err(io(dir))?;
        // Older records files and the format-1 single file are now unreferenced.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if (n.starts_with("records-") && n.ends_with(".jsonl") && n != name) || n == "advisories.json" {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    }

    /// Loads the database from `dir`: the index, and the records file
    /// (records are parsed when first looked up).
    pub fn load(dir: &Path) -> Result<Self, DbError> {
        let path = dir.join(DB_FILE);
        // The database's own files: regular files only (a FIFO fails at
        // once), read whole; a regular file's size is its bound.
        let read = |path: &Path| match InputFile::new(path, "advisory database file", u64::MAX).read() {
            Ok(b) => Ok(b),
            Err(e) if e.is_not_found() => Err(DbError::Missing(dir.display().to_string())),
            Err(e) => Err(DbError::Io {
                path: path.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            }),
        };
        let corrupt = |why: String| DbError::Corrupt(path.display().to_string(), why);
        let mut header: Header = serde_json::from_slice(&read(&path)?).map_err(|e| corrupt(e.to_string()))?;
        if header.format != FORMAT {
            return Err(corrupt(format!(
                "format {} is not {FORMAT}: re-import the advisory data",
                header.format
            )));
        }
        if header.records.contains(['/', '\\']) || !header.records.starts_with("records-") {
            return Err(corrupt(format!("{:?} is not a records file name", header.records)));
        }
        let bytes = read(&dir.join(&header.records))?;
        let size = bytes.len() as u64;
        if header
            .lines
            .iter()
            .any(|&(offset, len)| offset.checked_add(u64::from(len)).is_none_or(|end| end > size))
        {
            return Err(corrupt(format!("{} is shorter than its index says", header.records)));
        }
        let count = header.lines.len();
        let mut index = HashMap::with_capacity(header.index.len());
        for (eco, name, refs) in std::mem::take(&mut header.index) {
            if refs.iter().any(|&(i, _)| i as usize >= count) {
                return Err(corrupt(format!("the index names a record past the {count} there are")));
            }
            index.insert(
                (eco, name),
                refs.into_iter().map(|(i, j)| (i as usize, j as usize)).collect(),
            );
        }
        let mut by_digest: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (alg, hex, i) in std::mem::take(&mut header.digests) {
            if i as usize >= count {
                return Err(corrupt(format!(
                    "the digest index names a record past the {count} there are"
                )));
            }
            by_digest.entry((alg, hex)).or_default().push(i as usize);
        }
        let records = Records::Lazy {
            bytes,
            lines: std::mem::take(&mut header.lines),
            cells: (0..count).map(|_| std::sync::OnceLock::new()).collect(),
        };
        Ok(Self {
            header,
            records,
            index,
            by_digest,
        })
    }

    /// The advisories (and their affected entry) about a package. A record
    /// that cannot be read is an error for this package, never a silent miss.
    pub fn lookup(
        &self,
        ecosystem: Ecosystem,
        normalized_name: &str,
    ) -> impl Iterator<Item = Result<(&Advisory, &AffectedPackage), String>> {
        self.index
            .get(&(ecosystem, normalized_name.to_string()))
            .into_iter()
            .flatten()
            .map(|&(i, j)| {
                let a = self.records.get(i)?;
                let p = a
                    .affected
                    .get(j)
                    .ok_or_else(|| format!("record {i} has no affected entry {j}"))?;
                Ok((a, p))
            })
    }

    /// The malicious-package advisories that list this artifact digest
    /// (`algorithm` `sha1` | `sha256` | `sha512`, lower-case hex), whatever
    /// package they are about.
    pub fn lookup_digest(&self, algorithm: &str, hex: &str) -> impl Iterator<Item = Result<&Advisory, String>> {
        self.by_digest
            .get(&(algorithm.to_string(), hex.to_ascii_lowercase()))
            .into_iter()
            .flatten()
            .map(|&i| self.records.get(i))
    }

    /// Per-ecosystem counts and freshness.
    pub fn stats(&self) -> &BTreeMap<String, EcosystemStats> {
        &self.header.stats
    }

    /// When it was built.
    pub fn built_at(&self) -> &str {
        &self.header.built_at
    }

    /// The import report of its build.
    pub fn report(&self) -> &ImportReport {
        &self.header.report
    }

    /// Every advisory (parsing all of them); an unreadable record is an error.
    pub fn advisories(&self) -> Result<Vec<&Advisory>, DbError> {
        (0..self.records.len())
            .map(|i| {
                self.records
                    .get(i)
                    .map_err(|e| DbError::Corrupt(self.header.records.clone(), e))
            })
            .collect()
    }

    /// Number of advisories.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.len() == 0
    }

    /// The newest `modified` of any advisory: how fresh the data is.
    pub fn newest_modified(&self) -> Option<&str> {
        self.header
            .stats
            .values()
            .filter_map(|s| s.newest_modified.as_deref())
            .max()
    }
}
