//! Reading advisory data as published into one source: OSV records (a
//! tree of `.json`/`.yaml` files, `{"vulns": [...]}` files, per-ecosystem
//! `all.zip`) and the RustSec advisory-db layout (TOML front matter in
//! Markdown), from directories, zip archives or gzip-compressed tar
//! archives (`.tar.gz`, `.tgz`: a GitHub archive of `rustsec/advisory-db`
//! in either form is read like a checkout; `tar` and `flate2` read them,
//! streamed, with the same bounds as a zip). Withdrawn advisories are
//! dropped; records that name each other (ids and aliases) are merged into
//! one advisory ([`Merger`]); malformed records are skipped, counted and
//! reported, never silently; records about another ecosystem than the
//! source's are refused. The RustSec front matter is read by hand with the
//! `toml` crate (only the fields ward matches on).

use super::{DbError, EcosystemStats, ImportReport, SourceInfo};
use crate::advisory::{Advisory, ecosystem_of};
use crate::osv::OsvRecord;
use sha2::Digest as _;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use ward_core::Ecosystem;
use ward_input::{InputFile, limits};

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
/// Longest source name.
const MAX_NAME: usize = 64;

/// How to read a source.
#[derive(Clone, Debug, Default)]
pub struct SourceOptions {
    /// Its name; `None`: told from the data ([`derive_name`]).
    pub name: Option<String>,
    /// The only ecosystem (OSV name: `PyPI`, `npm`, `crates.io`, `Go`,
    /// `Maven`) its records may be about: a record about none of it is
    /// refused ([`DbError::WrongEcosystem`]), and affected entries about
    /// other ecosystems are dropped.
    pub ecosystem: Option<String>,
    /// A zip that cannot be opened, or an entry that cannot be read
    /// (truncated, corrupt), fails the whole import instead of being
    /// counted as one malformed record (for downloads, which must be whole).
    pub strict_archives: bool,
    /// Where it came from, when not the paths (a URL).
    pub origin: Option<String>,
}

/// One source read: what to store, and its advisories (merged within it).
#[derive(Clone, Debug)]
pub struct ImportedSource {
    /// Its name, origin, digest, counts and report.
    pub info: SourceInfo,
    /// Its advisories.
    pub advisories: Vec<Advisory>,
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

/// Parses a RustSec advisory (TOML front matter in Markdown) with the
/// `rustsec` crate (see [`crate::rustsec_md`]).
fn rustsec(text: &str) -> Result<Option<(Advisory, bool)>, String> {
    crate::rustsec_md::read(text).map(Some)
}

/// What a walk has read: each directory and file once, however many
/// symbolic links lead to it (links to a parent must not fan out without end).
type Seen = std::collections::HashSet<PathBuf>;

/// A walk over the paths of one source.
struct Walk {
    out: Vec<(String, Result<Raw, String>)>,
    seen: Seen,
    /// (file, sha256 hex) of every file read, for the source's digest.
    hashes: Vec<(PathBuf, String)>,
    strict: bool,
}

/// Parses one file's bytes by its extension; `in_crates`: the file lies
/// under a `crates/` directory (where a Markdown file must be an advisory).
fn parse_file(
    name: &str,
    ext: &str,
    bytes: Result<Vec<u8>, String>,
    in_crates: bool,
    out: &mut Vec<(String, Result<Raw, String>)>,
) {
    let name = name.to_string();
    match ext {
        "json" => match bytes.and_then(|b| osv_from_json(&b)) {
            Ok(records) => out.extend(
                records
                    .into_iter()
                    .map(|r| (name.clone(), r.map(|r| Raw::Osv(Box::new(r))))),
            ),
            Err(e) => out.push((name, Err(e))),
        },
        "yaml" | "yml" => {
            let r = bytes.and_then(|b| serde_norway::from_slice::<OsvRecord>(&b).map_err(|e| e.to_string()));
            out.push((name, r.map(|r| Raw::Osv(Box::new(r)))));
        }
        "md" => {
            let text = bytes.and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()));
            // Markdown files that are not advisories (READMEs: no front matter,
            // outside `crates/`) are not records; anything else that fails is malformed.
            let advisory_like = |t: &str| t.contains("```toml") || in_crates;
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
        _ => {}
    }
}

fn extension(name: &str) -> String {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Whether a file name is a gzip-compressed tar archive.
fn is_tar_gz(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".tar.gz") || lower.ends_with(".tgz")
}

/// A reader that fails once more than `limit` bytes came out of it (the
/// decompression-bomb guard for tar archives).
struct Unpacked<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Unpacked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(std::io::Error::other(format!(
                "the archive unpacks to more than {} bytes",
                self.limit
            )));
        }
        Ok(n)
    }
}

/// The sha256 of a file, streamed.
fn sha256_file(path: &Path) -> Result<String, String> {
    let mut file = InputFile::new(path, "advisory archive", u64::MAX)
        .open()
        .map_err(|e| e.to_string())?;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| e.to_string())?;
    Ok(hex::encode(hasher.finalize()))
}

impl Walk {
    fn collect(&mut self, path: &Path, depth: usize) -> Result<(), DbError> {
        let io = |source| DbError::Io {
            path: path.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if !self.seen.insert(path.canonicalize().map_err(io)?) {
            return Ok(());
        }
        if meta.is_dir() && depth >= MAX_DIR_DEPTH {
            self.out.push((
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
                self.collect(&e, depth + 1)?;
            }
            return Ok(());
        }
        let name = path.display().to_string();
        let ext = extension(&name);
        if is_tar_gz(&name) {
            return self.tar_gz(path, &name);
        }
        match ext.as_str() {
            "zip" => self.zip(path, &name),
            "json" | "yaml" | "yml" | "md" => {
                let bytes = read_bounded(path);
                if let Ok(b) = &bytes {
                    self.hashes
                        .push((path.to_path_buf(), hex::encode(sha2::Sha256::digest(b))));
                }
                let in_crates = path.components().any(|c| c.as_os_str() == "crates");
                parse_file(&name, &ext, bytes, in_crates, &mut self.out);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Reads every advisory entry of a gzip-compressed tar archive,
    /// streamed: at most [`MAX_ZIP_ENTRIES`] entries and
    /// [`MAX_ZIP_UNPACKED`] bytes decompressed in all, each advisory file
    /// at most [`MAX_RECORD_BYTES`]; only regular files are read (links and
    /// special entries are skipped); the gzip stream is read to its end so
    /// its CRC and length are checked. Strictly read (downloads), any
    /// damage fails the whole archive.
    fn tar_gz(&mut self, path: &Path, name: &str) -> Result<(), DbError> {
        let bad = |why: String| DbError::BadArchive(name.to_string(), why);
        match sha256_file(path) {
            Ok(h) => self.hashes.push((path.to_path_buf(), h)),
            Err(e) if self.strict => return Err(bad(e)),
            Err(e) => {
                self.out.push((name.to_string(), Err(e)));
                return Ok(());
            }
        }
        let file = match InputFile::new(path, "advisory archive", u64::MAX).open() {
            Ok(f) => f,
            Err(e) if self.strict => return Err(bad(e.to_string())),
            Err(e) => {
                self.out.push((name.to_string(), Err(e.to_string())));
                return Ok(());
            }
        };
        let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
        let mut archive = tar::Archive::new(Unpacked {
            inner: gz,
            read: 0,
            limit: MAX_ZIP_UNPACKED,
        });
        let result = self.tar_entries(&mut archive, name);
        let result = result.and_then(|()| {
            // The rest of the stream (end-of-archive blocks, padding, the gzip trailer).
            std::io::copy(&mut archive.into_inner(), &mut std::io::sink())
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        match result {
            Ok(()) => Ok(()),
            Err(e) if self.strict => Err(bad(e)),
            Err(e) => {
                self.out.push((name.to_string(), Err(e)));
                Ok(())
            }
        }
    }

    fn tar_entries<R: Read>(&mut self, archive: &mut tar::Archive<R>, name: &str) -> Result<(), String> {
        let entries = archive
            .entries()
            .map_err(|e| format!("not a readable tar archive: {e}"))?;
        for (i, entry) in entries.enumerate() {
            if i >= MAX_ZIP_ENTRIES {
                return Err(format!("more than {MAX_ZIP_ENTRIES} entries"));
            }
            let mut entry = entry.map_err(|e| format!("entry {i}: {e}"))?;
            if entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            let entry_name = entry
                .path()
                .map_err(|e| format!("entry {i}: {e}"))?
                .to_string_lossy()
                .into_owned();
            let parts: Vec<&str> = entry_name.split('/').collect();
            let ext = extension(&entry_name);
            if parts.iter().any(|p| p.starts_with('.')) || !matches!(ext.as_str(), "json" | "yaml" | "yml" | "md") {
                continue;
            }
            let mut bytes = Vec::new();
            (&mut entry)
                .take(MAX_RECORD_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("entry {i} ({entry_name}): {e}"))?;
            let bytes = if bytes.len() as u64 > MAX_RECORD_BYTES {
                Err(format!("larger than the {MAX_RECORD_BYTES}-byte limit"))
            } else {
                Ok(bytes)
            };
            let in_crates = parts.contains(&"crates");
            parse_file(&format!("{name}#{entry_name}"), &ext, bytes, in_crates, &mut self.out);
        }
        Ok(())
    }

    /// Reads every advisory entry of a zip archive.
    fn zip(&mut self, path: &Path, name: &str) -> Result<(), DbError> {
        let bad = |why: String| DbError::BadArchive(name.to_string(), why);
        match sha256_file(path) {
            Ok(h) => self.hashes.push((path.to_path_buf(), h)),
            Err(e) if self.strict => return Err(bad(e)),
            Err(e) => {
                self.out.push((name.to_string(), Err(e)));
                return Ok(());
            }
        }
        let file = match InputFile::new(path, "advisory archive", u64::MAX).open() {
            Ok(f) => f,
            Err(e) if self.strict => return Err(bad(e.to_string())),
            Err(e) => {
                self.out.push((name.to_string(), Err(e.to_string())));
                return Ok(());
            }
        };
        let mut z = match zip::ZipArchive::new(std::io::BufReader::new(file)) {
            Err(e) if self.strict => return Err(bad(e.to_string())),
            Err(e) => {
                self.out.push((name.to_string(), Err(e.to_string())));
                return Ok(());
            }
            Ok(z) if z.len() > MAX_ZIP_ENTRIES => return Err(bad(format!("more than {MAX_ZIP_ENTRIES} entries"))),
            Ok(z) => z,
        };
        let mut unpacked: u64 = 0;
        for i in 0..z.len() {
            let label = format!("{name}#{i}");
            if unpacked > MAX_ZIP_UNPACKED {
                let why = format!("the archive unpacks to more than {MAX_ZIP_UNPACKED} bytes; the rest is not read");
                if self.strict {
                    return Err(bad(why));
                }
                self.out.push((label, Err(why)));
                break;
            }
            let mut bytes = Vec::new();
            let mut entry_name = String::new();
            let read = z.by_index(i).map_err(|e| e.to_string()).and_then(|f| {
                entry_name = f.name().map_err(|e| e.to_string())?.to_string();
                if f.is_dir() {
                    return Ok(());
                }
                f.take(MAX_RECORD_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
            unpacked += bytes.len() as u64;
            let parts: Vec<&str> = entry_name.split('/').collect();
            let ext = extension(&entry_name);
            // Directories, hidden files (`.github/`) and files that hold no advisories.
            if read.is_ok()
                && (entry_name.ends_with('/')
                    || parts.iter().any(|p| p.starts_with('.'))
                    || !matches!(ext.as_str(), "json" | "yaml" | "yml" | "md"))
            {
                continue;
            }
            if let (Err(e), true) = (&read, self.strict) {
                return Err(bad(format!("entry {i} ({entry_name}): {e}")));
            }
            let bytes = read.and_then(|_| {
                if bytes.len() as u64 > MAX_RECORD_BYTES {
                    Err(format!("larger than the {MAX_RECORD_BYTES}-byte limit"))
                } else {
                    Ok(bytes)
                }
            });
            let label = if entry_name.is_empty() {
                label
            } else {
                format!("{name}#{entry_name}")
            };
            let in_crates = parts.contains(&"crates");
            parse_file(
                &label,
                if ext.is_empty() { "json" } else { &ext },
                bytes,
                in_crates,
                &mut self.out,
            );
        }
        Ok(())
    }
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
        why = "no advisory files found (ward reads OSV .json/.yaml, .zip, .tar.gz and RustSec .md)".into();
    }
    for (file, reason) in report.malformed.iter().take(EXAMPLES) {
        why.push_str(&format!("; {file}: {reason}"));
    }
    if report.malformed.len() > EXAMPLES {
        why.push_str(&format!("; and {} more", report.malformed.len() - EXAMPLES));
    }
    why
}

/// Merges advisories that name each other (by id or alias) into one.
#[derive(Default)]
pub(crate) struct Merger {
    advisories: Vec<Advisory>,
    by_key: HashMap<String, usize>,
}

impl Merger {
    /// Adds one advisory; `true` when it was merged into an earlier one.
    pub(crate) fn add(&mut self, advisory: Advisory) -> bool {
        let keys: Vec<String> = std::iter::once(advisory.id.clone())
            .chain(advisory.aliases.iter().cloned())
            .collect();
        match keys.iter().find_map(|k| self.by_key.get(k).copied()) {
            Some(i) => {
                let into = &mut self.advisories[i];
                for k in &keys {
                    if *k != into.id && !into.aliases.contains(k) {
                        into.aliases.push(k.clone());
                    }
                    self.by_key.insert(k.clone(), i);
                }
                into.affected.extend(advisory.affected);
                match (&mut into.malicious, advisory.malicious) {
                    (Some(m), Some(other)) => {
                        for ind in other.indicators {
                            if !m.indicators.contains(&ind) {
                                m.indicators.push(ind);
                            }
                        }
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
                if later(&advisory.modified, &into.modified) {
                    into.modified = advisory.modified;
                }
                if into.summary.is_empty() {
                    into.summary = advisory.summary;
                }
                true
            }
            None => {
                for k in &keys {
                    self.by_key.insert(k.clone(), self.advisories.len());
                }
                self.advisories.push(advisory);
                false
            }
        }
    }

    /// The merged advisories; counts them, and the malicious and suspect
    /// ones, into `report`.
    pub(crate) fn finish(mut self, report: &mut ImportReport) -> Vec<Advisory> {
        report.malicious = 0;
        report.suspect.clear();
        for a in &mut self.advisories {
            let why = a.malicious.as_ref().and_then(|_| crate::malicious::suspect_reason(a));
            if let Some(m) = &mut a.malicious {
                report.malicious += 1;
                if let Some(why) = &why {
                    report.suspect.push((a.id.clone(), why.clone()));
                }
                m.suspect = why;
            }
        }
        report.advisories = self.advisories.len();
        self.advisories
    }
}

/// Per-ecosystem counts and the newest `modified`.
/// Whether `a` is a later `modified` time than `b`, compared as times
/// (`…:00.5Z` is later than `…:00Z`, and `+02:00` offsets count), not as
/// text; times that do not parse compare as text, and below every one that does.
pub(crate) fn later(a: &Option<String>, b: &Option<String>) -> bool {
    fn time(t: &Option<String>) -> Option<Result<jiff::Timestamp, &str>> {
        t.as_deref().map(|t| t.parse::<jiff::Timestamp>().ok().ok_or(t))
    }
    match (time(a), time(b)) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(Ok(a)), Some(Ok(b))) => a > b,
        (Some(Ok(_)), Some(Err(_))) => true,
        (Some(Err(_)), Some(Ok(_))) => false,
        (Some(Err(a)), Some(Err(b))) => a > b,
    }
}

pub(crate) fn stats(advisories: &[Advisory]) -> BTreeMap<String, EcosystemStats> {
    let mut stats: BTreeMap<String, EcosystemStats> = BTreeMap::new();
    for a in advisories {
        let mut seen = Vec::new();
        for p in &a.affected {
            if seen.contains(&p.ecosystem) {
                continue;
            }
            seen.push(p.ecosystem);
            let s = stats.entry(p.ecosystem.purl_type().to_string()).or_default();
            s.advisories += 1;
            if later(&a.modified, &s.newest_modified) {
                s.newest_modified = a.modified.clone();
            }
        }
    }
    stats
}

/// OSV's name of an ecosystem.
pub fn osv_name(ecosystem: Ecosystem) -> &'static str {
    match ecosystem {
        Ecosystem::Pypi => "PyPI",
        Ecosystem::Npm => "npm",
        Ecosystem::Cargo => "crates.io",
        Ecosystem::Golang => "Go",
        Ecosystem::Maven => "Maven",
        Ecosystem::Generic => "generic",
    }
}

/// Whether `name` can name a source (and its file): 1 to 64 of
/// `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn check_name(name: &str) -> Result<(), DbError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(DbError::SourceName(format!(
            "{name:?}: use 1 to {MAX_NAME} of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
        )))
    }
}

/// The name a source gets from its data: `rustsec` when every advisory is
/// a RustSec one; `openssf-malicious` when every one is a malicious-package
/// record; `osv-<ecosystem>` (`osv-pypi`, `osv-go`, `osv-crates.io`) when
/// all are about one ecosystem; else the name of the one path given
/// (lower-cased, other characters as `-`), else `imported`.
pub fn derive_name(paths: &[PathBuf], advisories: &[Advisory]) -> String {
    if advisories.iter().all(|a| a.id.starts_with("RUSTSEC-")) {
        return "rustsec".into();
    }
    if advisories.iter().all(|a| a.malicious.is_some()) {
        return "openssf-malicious".into();
    }
    let mut ecosystems: Vec<Ecosystem> = advisories
        .iter()
        .flat_map(|a| a.affected.iter().map(|p| p.ecosystem))
        .collect();
    ecosystems.sort_by_key(|e| e.purl_type());
    ecosystems.dedup();
    if let [one] = ecosystems[..] {
        return format!("osv-{}", osv_name(one).to_ascii_lowercase());
    }
    let from_path = match paths {
        [one] => one
            .file_stem()
            .map(|n| {
                n.to_string_lossy()
                    .to_ascii_lowercase()
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                            c
                        } else {
                            '-'
                        }
                    })
                    .collect::<String>()
                    .trim_matches(|c: char| !c.is_ascii_alphanumeric())
                    .chars()
                    .take(MAX_NAME)
                    .collect::<String>()
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    if check_name(&from_path).is_ok() {
        from_path
    } else {
        "imported".into()
    }
}

/// The OSV ecosystems an OSV record's affected entries name.
fn record_ecosystems(record: &OsvRecord) -> Vec<&str> {
    record
        .affected
        .iter()
        .filter_map(|a| a.package.as_ref())
        .map(|p| p.ecosystem.split(':').next().unwrap_or_default())
        .collect()
}

/// Reads `paths` as one source. `Err` when a path cannot be read at all,
/// a strict archive is damaged, a record is about another ecosystem than
/// `options.ecosystem`, or not one advisory could be kept
/// ([`DbError::NothingImported`]: a source is never replaced by nothing);
/// malformed records are counted in the report.
pub fn read_source(paths: &[PathBuf], options: &SourceOptions, now: &str) -> Result<ImportedSource, DbError> {
    if let Some(name) = &options.name {
        check_name(name)?;
    }
    let expected = match options.ecosystem.as_deref() {
        None => None,
        Some(e) => Some((
            e,
            ecosystem_of(e).ok_or_else(|| {
                DbError::SourceName(format!(
                    "ecosystem {e:?}: ward scans PyPI, npm, crates.io, Go and Maven (OSV's names)"
                ))
            })?,
        )),
    };
    let mut walk = Walk {
        out: Vec::new(),
        seen: Seen::new(),
        hashes: Vec::new(),
        strict: options.strict_archives,
    };
    let mut report = ImportReport::default();
    let mut listing: Vec<String> = Vec::new();
    for p in paths {
        let (before, hashed) = (walk.out.len(), walk.hashes.len());
        walk.collect(p, 0)?;
        *report.sources.entry(p.display().to_string()).or_default() += walk.out.len() - before;
        for (file, hex) in walk.hashes.drain(hashed..) {
            let rel = file.strip_prefix(p).unwrap_or(&file).display().to_string();
            listing.push(format!(
                "{hex}  {}\n",
                if rel.is_empty() {
                    file.display().to_string()
                } else {
                    rel
                }
            ));
        }
    }
    let digest = match (paths, &listing[..]) {
        ([p], [line]) if p.is_file() => line.split(' ').next().unwrap_or_default().to_string(),
        _ => {
            listing.sort();
            hex::encode(sha2::Sha256::digest(listing.concat().as_bytes()))
        }
    };
    let mut merger = Merger::default();
    for (file, r) in walk.out {
        report.records += 1;
        let mut advisory = match r {
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
                if let Some((name, _)) = expected {
                    let about = record_ecosystems(&record);
                    if !about.contains(&name) {
                        let what = if about.is_empty() {
                            "no package".to_string()
                        } else {
                            about.join(", ")
                        };
                        report
                            .wrong_ecosystem
                            .push((file, format!("{} is about {what}", record.id)));
                        continue;
                    }
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
        if let Some((name, eco)) = expected {
            if advisory.affected.iter().all(|p| p.ecosystem != eco) {
                report
                    .wrong_ecosystem
                    .push((file, format!("{} is not about {name}", advisory.id)));
                continue;
            }
            // Entries about other ecosystems are not this source's to say.
            advisory.affected.retain(|p| p.ecosystem == eco);
        }
        if merger.add(advisory) {
            report.merged += 1;
        }
    }
    let advisories = merger.finish(&mut report);
    if let Some((name, _)) = expected
        && !report.wrong_ecosystem.is_empty()
    {
        let mut examples: Vec<String> = report
            .wrong_ecosystem
            .iter()
            .take(EXAMPLES)
            .map(|(f, why)| format!("{f}: {why}"))
            .collect();
        if report.wrong_ecosystem.len() > EXAMPLES {
            examples.push(format!("and {} more", report.wrong_ecosystem.len() - EXAMPLES));
        }
        return Err(DbError::WrongEcosystem {
            expected: name.to_string(),
            count: report.wrong_ecosystem.len(),
            examples: examples.join("; "),
        });
    }
    if advisories.is_empty() {
        return Err(DbError::NothingImported(nothing_imported(&report)));
    }
    let name = match &options.name {
        Some(n) => n.clone(),
        None => derive_name(paths, &advisories),
    };
    let origin = options.origin.clone().unwrap_or_else(|| {
        paths
            .iter()
            .map(|p| {
                std::path::absolute(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    let info = SourceInfo {
        name,
        origin,
        digest: format!("sha256:{digest}"),
        imported_at: now.to_string(),
        ecosystem: expected.map(|(n, _)| n.to_string()),
        advisories: advisories.len(),
        malicious: report.malicious,
        newest_modified: advisories
            .iter()
            .map(|a| &a.modified)
            .fold(None, |newest, m| if later(m, &newest) { m.clone() } else { newest }),
        report,
        ..SourceInfo::default()
    };
    Ok(ImportedSource { info, advisories })
}

#[cfg(test)]
mod tar_tests {
    use super::*;

    #[test]
    fn the_unpacked_guard_stops_past_its_limit() {
        let mut r = Unpacked {
            inner: std::io::repeat(0),
            read: 0,
            limit: 10_000,
        };
        let e = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        assert!(e.to_string().contains("more than 10000 bytes"), "{e}");
        assert!(is_tar_gz("a/main.TAR.GZ") && is_tar_gz("x.tgz") && !is_tar_gz("x.gz"));
    }
}

#[cfg(test)]
mod time_tests {
    use super::later;

    fn t(s: &str) -> Option<String> {
        Some(s.into())
    }

    #[test]
    fn modified_times_compare_as_times_not_text() {
        // As text, "…00.5Z" < "…00Z" ('.' sorts before 'Z'); as times it is later.
        assert!(later(&t("2024-01-01T00:00:00.5Z"), &t("2024-01-01T00:00:00Z")));
        // 10:00+02:00 is 08:00Z: earlier than 09:00Z, though its text sorts after.
        assert!(!later(&t("2024-01-01T10:00:00+02:00"), &t("2024-01-01T09:00:00Z")));
        assert!(later(&t("2024-01-01T00:00:00Z"), &None));
        assert!(!later(&None, &t("2024-01-01T00:00:00Z")));
        // A time that does not parse never displaces one that does.
        assert!(!later(&t("tomorrow"), &t("2024-01-01T00:00:00Z")));
        assert!(later(&t("2024-01-01T00:00:00Z"), &t("tomorrow")));
    }
}
