//! The local advisory database, kept per **source**.
//!
//! A source is one feed under one name (`rustsec`, `osv-pypi`,
//! `openssf-malicious`, or a name the user gives) with where it came from
//! (a path or URL and the sha256 of what was read). Importing a source adds
//! it or replaces the source of the same name; the others stay.
//!
//! - [`import`]: reading OSV data as published (`.json`/`.yaml` trees,
//!   `{"vulns": [...]}` files, per-ecosystem `all.zip`, GitHub archives of
//!   the RustSec advisory-db) into one source's advisories, with its report;
//! - [`store`]: the files on disk, and the one atomic step that swaps a new
//!   set of sources in (or leaves the old set whole);
//! - this module: the loaded database and its lookups.
//!
//! On disk (`index.json` is the commit point): each source's advisories in
//! `source-<name>-<digest>.jsonl`; all sources merged (records that name
//! each other, by id or alias, become one advisory) in
//! `records-<digest>.jsonl`; and `index.json` with the sources, counts, and
//! for each (ecosystem, normalised name) the merged records about it.
//! Loading reads the index and the merged records, and parses a record only
//! when a lookup first needs it, so a scan of a few hundred packages parses a
//! few hundred records, not the database.

pub mod import;
pub mod store;

use crate::advisory::{Advisory, AffectedPackage};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use ward_core::Ecosystem;

pub use import::{ImportedSource, SourceOptions, read_source};
pub use store::{Change, commit};

/// The database's index file (its presence means a database is there).
pub const DB_FILE: &str = "index.json";
/// The on-disk format written and read. 4: sources, each with its own
/// advisories file. 3 (one anonymous source) is still read, as one source
/// named [`LEGACY_SOURCE`]. A format-2 database (imported before ward knew
/// malicious records, so a `MAL-` record would be an ordinary advisory that
/// an exception could silence) is refused until re-imported.
pub(crate) const FORMAT: u32 = 4;
/// The name a format-3 database's data is listed under.
pub const LEGACY_SOURCE: &str = "legacy";

/// Why the database cannot be used, or an import was refused.
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
    #[error("no advisory database in {0}: run `ward advisories import PATH` or `ward advisories update` first")]
    Missing(String),
    /// The saved database is unreadable.
    #[error("the advisory database {0} is corrupt: {1}")]
    Corrupt(String, String),
    /// An import read no usable advisory: saving it would replace a
    /// source with an empty one. Says what was skipped and why.
    #[error("no advisories imported: {0}")]
    NothingImported(String),
    /// Records about another ecosystem than the source's: not the source
    /// configured (a wrong URL, a tampered archive).
    #[error("{count} records are not about {expected} ({examples}): this is not the {expected} source")]
    WrongEcosystem {
        /// The ecosystem the source is for (OSV name).
        expected: String,
        /// How many records were about something else.
        count: usize,
        /// The first few, with what they are about.
        examples: String,
    },
    /// An archive that must be whole is not (a truncated or garbage zip).
    #[error("{0}: not a readable zip archive: {1}")]
    BadArchive(String, String),
    /// The source name cannot be used, or cannot be told from the input.
    #[error("source name: {0}")]
    SourceName(String),
    /// Another import or update holds the database.
    #[error("{0}: another `ward advisories import` or `update` is writing this database; try again when it is done")]
    Busy(String),
    /// The merged database does not fit the saved format (record numbers
    /// are 32-bit): refused rather than saved with wrapped numbers.
    #[error("the advisory database is too large to save: {0}")]
    TooLarge(String),
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
    /// Records about another ecosystem than the source's: (file, why).
    #[serde(default)]
    pub wrong_ecosystem: Vec<(String, String)>,
}

impl ImportReport {
    /// Records not imported because they could not be used: malformed, or
    /// about the wrong ecosystem.
    pub fn rejected(&self) -> usize {
        self.malformed.len() + self.wrong_ecosystem.len()
    }
}

/// One source: its name, where it came from, when, and what it holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Its name (`rustsec`, `osv-pypi`, `openssf-malicious`, …).
    pub name: String,
    /// Where it was read from: paths (joined with `, `) or a URL.
    pub origin: String,
    /// `sha256:` of what was read: the file, or for directories a
    /// `sha256sum`-style listing of every file read (digest, two spaces,
    /// path relative to the directory given, one a line, sorted).
    pub digest: String,
    /// When its data was imported (RFC 3339).
    pub imported_at: String,
    /// When `ward advisories update` last confirmed it current (a fetch,
    /// or the server's 304 Not Modified).
    #[serde(default)]
    pub checked_at: Option<String>,
    /// The server's `ETag` for the data held (for conditional requests).
    #[serde(default)]
    pub etag: Option<String>,
    /// The server's `Last-Modified` for the data held.
    #[serde(default)]
    pub last_modified: Option<String>,
    /// The ecosystem the source is restricted to (OSV name), if any.
    #[serde(default)]
    pub ecosystem: Option<String>,
    /// Advisories it holds (merged within the source).
    pub advisories: usize,
    /// How many of them are about malicious packages.
    pub malicious: usize,
    /// The newest `modified` of its advisories.
    pub newest_modified: Option<String>,
    /// The report of its import.
    #[serde(default)]
    pub report: ImportReport,
    /// Its advisories file in the database directory.
    #[serde(default)]
    pub file: String,
}

impl SourceInfo {
    /// When this source's data was last known current: when `update`
    /// last confirmed it with its server, else the newest `modified` of
    /// its records (an imported copy is as fresh as its newest record).
    pub fn as_of(&self) -> Option<jiff::Timestamp> {
        let parse = |s: &Option<String>| s.as_deref().and_then(|s| s.parse::<jiff::Timestamp>().ok());
        match (parse(&self.checked_at), parse(&self.newest_modified)) {
            (Some(c), Some(m)) => Some(c.max(m)),
            (c, m) => c.or(m),
        }
    }

    /// How old the data is at `now`; `None` when nothing says.
    pub fn age_at(&self, now: jiff::Timestamp) -> Option<jiff::SignedDuration> {
        Some(now.duration_since(self.as_of()?))
    }
}

/// The saved index: everything but the records.
#[derive(Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) format: u32,
    pub(crate) built_at: String,
    pub(crate) sources: Vec<SourceInfo>,
    pub(crate) stats: BTreeMap<String, EcosystemStats>,
    /// Totals over all sources (merging across sources counted too).
    pub(crate) report: ImportReport,
    /// The merged records file, named by its content's digest.
    pub(crate) records: String,
    /// Each record's byte offset and length in the records file.
    pub(crate) lines: Vec<(u64, u32)>,
    /// Each record's checksum (the first four bytes of its SHA-256), checked
    /// when the record is parsed: a damaged records file that still happens
    /// to be valid JSON is refused, never read as other advisories. Empty in
    /// format-3 databases, which had none.
    #[serde(default)]
    pub(crate) line_sums: Vec<u32>,
    /// (ecosystem, normalised name) to (record, affected entry) pairs.
    pub(crate) index: Vec<IndexEntry>,
    /// (algorithm, hex) of each artifact digest a malicious record lists, to
    /// the record: a listed artifact matches under any name.
    #[serde(default)]
    pub(crate) digests: Vec<(String, String, u32)>,
}

/// One package's records: (ecosystem, normalised name, [(record, affected entry)]).
pub(crate) type IndexEntry = (Ecosystem, String, Vec<(u32, u32)>);

/// A record's checksum in the index: the first four bytes of its SHA-256.
pub(crate) fn line_sum(line: &[u8]) -> u32 {
    use sha2::Digest;
    let d = sha2::Sha256::digest(line);
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The advisories: all parsed (just built), or parsed on first use.
pub(crate) enum Records {
    Parsed(Vec<Advisory>),
    Lazy {
        bytes: Vec<u8>,
        lines: Vec<(u64, u32)>,
        /// Empty when the database predates checksums (format 3).
        sums: Vec<u32>,
        cells: Vec<std::sync::OnceLock<Result<Advisory, String>>>,
    },
}

impl Records {
    pub(crate) fn len(&self) -> usize {
        match self {
            Records::Parsed(v) => v.len(),
            Records::Lazy { lines, .. } => lines.len(),
        }
    }

    pub(crate) fn get(&self, i: usize) -> Result<&Advisory, String> {
        match self {
            Records::Parsed(v) => v.get(i).ok_or_else(|| format!("record {i} is missing")),
            Records::Lazy {
                bytes,
                lines,
                sums,
                cells,
            } => {
                let (Some(&(offset, len)), Some(cell)) = (lines.get(i), cells.get(i)) else {
                    return Err(format!("record {i} is missing"));
                };
                cell.get_or_init(|| {
                    let start = usize::try_from(offset).map_err(|e| e.to_string())?;
                    let slice = start
                        .checked_add(len as usize)
                        .and_then(|end| bytes.get(start..end))
                        .ok_or_else(|| format!("record {i} lies outside the records file"))?;
                    if let Some(&sum) = sums.get(i)
                        && sum != line_sum(slice)
                    {
                        return Err(format!(
                            "record {i} does not match its checksum (the records file is damaged)"
                        ));
                    }
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
    pub(crate) header: Header,
    pub(crate) records: Records,
    pub(crate) index: HashMap<(Ecosystem, String), Vec<(usize, usize)>>,
    pub(crate) by_digest: HashMap<(String, String), Vec<usize>>,
    /// The one source a database built by [`AdvisoryDb::import`] holds,
    /// kept so that [`AdvisoryDb::save`] can write its advisories file.
    pub(crate) unsaved: Option<Box<ImportedSource>>,
}

impl std::fmt::Debug for AdvisoryDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdvisoryDb")
            .field("advisories", &self.len())
            .field(
                "sources",
                &self.header.sources.iter().map(|s| &s.name).collect::<Vec<_>>(),
            )
            .field("built_at", &self.header.built_at)
            .finish()
    }
}

impl AdvisoryDb {
    /// Reads every path as one source (its name told from the data) and
    /// builds a database of it alone, in memory. `Err` when a path cannot
    /// be read at all, or when not one advisory could be kept
    /// ([`DbError::NothingImported`]); bad records are counted in the report.
    pub fn import(paths: &[std::path::PathBuf], now: &str) -> Result<(Self, ImportReport), DbError> {
        let source = read_source(paths, &SourceOptions::default(), now)?;
        let report = source.info.report.clone();
        let mut db = Self::build(vec![(source.info.clone(), source.advisories.clone())], now);
        db.unsaved = Some(Box::new(source));
        Ok((db, report))
    }

    /// Builds the merged database of these sources and their advisories.
    pub(crate) fn build(sources: Vec<(SourceInfo, Vec<Advisory>)>, now: &str) -> Self {
        let mut merger = import::Merger::default();
        let mut infos = Vec::with_capacity(sources.len());
        let mut report = ImportReport::default();
        for (info, advisories) in sources {
            let r = &info.report;
            report.records += r.records;
            report.merged += r.merged;
            report.withdrawn += r.withdrawn;
            report.unsupported += r.unsupported;
            report.malformed.extend(r.malformed.iter().cloned());
            report.wrong_ecosystem.extend(r.wrong_ecosystem.iter().cloned());
            for (k, v) in &r.sources {
                *report.sources.entry(k.clone()).or_default() += v;
            }
            for a in advisories {
                if merger.add(a) {
                    report.merged += 1;
                }
            }
            infos.push(info);
        }
        let advisories = merger.finish(&mut report);
        Self::from_advisories(advisories, infos, report, now)
    }

    /// Indexes merged advisories.
    pub(crate) fn from_advisories(
        advisories: Vec<Advisory>,
        sources: Vec<SourceInfo>,
        report: ImportReport,
        now: &str,
    ) -> Self {
        let stats = import::stats(&advisories);
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
        Self {
            header: Header {
                format: FORMAT,
                built_at: now.to_string(),
                sources,
                stats,
                report,
                records: String::new(),
                lines: Vec::new(),
                line_sums: Vec::new(),
                index: Vec::new(),
                digests: Vec::new(),
            },
            records: Records::Parsed(advisories),
            index,
            by_digest,
            unsaved: None,
        }
    }

    /// Writes a database built by [`AdvisoryDb::import`] to `dir`,
    /// replacing every source there (as `ward advisories import --replace`).
    /// A crash leaves the old database or the new one, never a mix.
    pub fn save(&self, dir: &std::path::Path) -> Result<(), DbError> {
        let Some(source) = &self.unsaved else {
            return Err(DbError::Corrupt(
                dir.display().to_string(),
                "only a database built by import can be saved; use db::commit".into(),
            ));
        };
        commit(dir, vec![Change::Put(source.clone())], true, &self.header.built_at).map(|_| ())
    }

    /// Loads the database from `dir`: the index, and the merged records
    /// file (records are parsed when first looked up).
    pub fn load(dir: &std::path::Path) -> Result<Self, DbError> {
        store::load(dir)
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

    /// Whether any malicious-package record lists the sha256 of a file
    /// inside an archive (then the gate hashes every file it reads).
    pub fn has_file_indicators(&self) -> bool {
        self.by_digest
            .keys()
            .any(|(alg, _)| alg == crate::malicious::FILE_SHA256)
    }

    /// Per-ecosystem counts and freshness.
    pub fn stats(&self) -> &BTreeMap<String, EcosystemStats> {
        &self.header.stats
    }

    /// The sources, in the order they were first imported.
    pub fn sources(&self) -> &[SourceInfo] {
        &self.header.sources
    }

    /// When it was built (the last import or update that changed it).
    pub fn built_at(&self) -> &str {
        &self.header.built_at
    }

    /// Totals of the imports of its sources.
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

    /// Number of advisories (merged across sources).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.len() == 0
    }

    /// The newest `modified` of any advisory.
    pub fn newest_modified(&self) -> Option<&str> {
        self.header
            .stats
            .values()
            .map(|s| &s.newest_modified)
            .fold(&None, |newest, m| if import::later(m, newest) { m } else { newest })
            .as_deref()
    }

    /// How old the data is at `now`: the age of its stalest source (see
    /// [`SourceInfo::as_of`]). `None` when some source has no date at all
    /// (its freshness is unknown: callers treat that as stale).
    pub fn age_at(&self, now: jiff::Timestamp) -> Option<jiff::SignedDuration> {
        self.header
            .sources
            .iter()
            .map(|s| s.age_at(now))
            .try_fold(jiff::SignedDuration::ZERO, |oldest, age| Some(oldest.max(age?)))
    }

    /// The sources older than `max` at `now` (or of unknown age), with their age.
    pub fn stale_sources(
        &self,
        now: jiff::Timestamp,
        max: jiff::SignedDuration,
    ) -> Vec<(&SourceInfo, Option<jiff::SignedDuration>)> {
        self.header
            .sources
            .iter()
            .map(|s| (s, s.age_at(now)))
            .filter(|(_, age)| age.is_none_or(|a| a > max))
            .collect()
    }
}
