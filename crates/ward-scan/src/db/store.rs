//! The database's files, and the one step that changes them.
//!
//! [`commit`] takes the database's lock (`.lock`, an advisory file lock:
//! a second writer fails at once, [`DbError::Busy`]), writes each new
//! source's advisories to `source-<name>-<digest>.jsonl` and the merged
//! records to `records-<digest>.jsonl` (new names: nothing in use is
//! overwritten), and then replaces `index.json` by an atomic rename: that
//! rename is the commit. A crash before it leaves the old database whole;
//! after it, the new one. Files no index names any more are removed last.
//! Readers take no lock: they read the index, then the files it names.

use super::import::ImportedSource;
use super::{AdvisoryDb, DB_FILE, DbError, FORMAT, Header, IndexEntry, LEGACY_SOURCE, Records, SourceInfo};
use crate::advisory::Advisory;
use sha2::Digest as _;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use ward_input::InputFile;

/// The lock file in the database directory.
const LOCK_FILE: &str = ".lock";

/// One change to the set of sources.
#[derive(Debug)]
pub enum Change {
    /// Add this source, or replace the one of the same name.
    Put(Box<ImportedSource>),
    /// The source's server confirmed the data held current (HTTP 304 Not
    /// Modified) at `at`: only its `checked_at` changes.
    Checked {
        /// The source.
        name: String,
        /// When (RFC 3339).
        at: String,
    },
    /// Remove the source of this name.
    Remove(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DbError + '_ {
    move |source| DbError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `bytes` to `path` under a temporary name, flushed to disk, then
/// renames it into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DbError> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp_name);
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// Each record's (offset, length) in a records file.
type Lines = Vec<(u64, u32)>;

/// Advisories as JSON lines: the bytes, and each line's (offset, length).
fn jsonl<'a>(advisories: impl Iterator<Item = Result<&'a Advisory, DbError>>) -> Result<(Vec<u8>, Lines), DbError> {
    let mut body = Vec::new();
    let mut lines = Vec::new();
    for (i, a) in advisories.enumerate() {
        let start = body.len() as u64;
        serde_json::to_writer(&mut body, a?).map_err(|e| DbError::Corrupt("records".into(), e.to_string()))?;
        let len = u32::try_from(body.len() as u64 - start)
            .map_err(|e| DbError::Corrupt("records".into(), format!("record {i} is over 4 GiB ({e})")))?;
        lines.push((start, len));
        body.push(b'\n');
    }
    Ok((body, lines))
}

fn short_digest(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))[..16].to_string()
}

/// Reads a file of the database (regular files only; a FIFO fails at once).
fn read_db_file(dir: &Path, name: &str) -> Result<Vec<u8>, DbError> {
    if name.contains(['/', '\\']) || !(name.starts_with("records-") || name.starts_with("source-")) {
        return Err(DbError::Corrupt(
            dir.display().to_string(),
            format!("{name:?} is not a database file name"),
        ));
    }
    let path = dir.join(name);
    match InputFile::new(&path, "advisory database file", u64::MAX).read() {
        Ok(b) => Ok(b),
        Err(e) if e.is_not_found() && name == DB_FILE => Err(DbError::Missing(dir.display().to_string())),
        Err(e) => Err(DbError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        }),
    }
}

/// Every record has its checksum, except in a converted format-3 database
/// (whose sources are the one legacy source), which had none.
fn legacy_checked(header: &Header, count: usize) -> bool {
    header.line_sums.len() == count
        || (header.line_sums.is_empty() && header.sources.iter().all(|s| s.name == LEGACY_SOURCE))
}

/// A source's stored advisories. The file is named by its content's digest,
/// and a file that no longer matches its name is refused.
fn read_source_file(dir: &Path, info: &SourceInfo) -> Result<Vec<Advisory>, DbError> {
    let bytes = read_db_file(dir, &info.file)?;
    let named = info
        .file
        .strip_suffix(".jsonl")
        .and_then(|stem| stem.rsplit('-').next())
        .unwrap_or_default();
    if info.name != LEGACY_SOURCE && named != short_digest(&bytes) {
        return Err(DbError::Corrupt(
            dir.join(&info.file).display().to_string(),
            "the file does not match the digest in its name (damaged)".into(),
        ));
    }
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_slice(line).map_err(|e| {
                DbError::Corrupt(
                    dir.join(&info.file).display().to_string(),
                    format!("source {} record {i}: {e}", info.name),
                )
            })
        })
        .collect()
}

/// Holds the database's write lock until dropped.
struct Lock(#[allow(dead_code)] std::fs::File);

fn lock(dir: &Path) -> Result<Lock, DbError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(DbError::Busy(dir.display().to_string())),
        Err(std::fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
    }
}

/// Applies `changes` to the database in `dir` (created if need be) in one
/// atomic step, and returns the database as now saved. `replace_all`
/// starts from no sources (`ward advisories import --replace`), else from
/// the sources there. A database there that cannot be read is an error,
/// never silently replaced (use `replace_all`).
pub fn commit(dir: &Path, changes: Vec<Change>, replace_all: bool, now: &str) -> Result<AdvisoryDb, DbError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let _lock = lock(dir)?;
    let existing = if replace_all || !dir.join(DB_FILE).exists() {
        None
    } else {
        Some(load(dir)?)
    };
    let mut rebuild = existing.is_none();
    let mut sources: Vec<(SourceInfo, Option<Vec<Advisory>>)> = existing
        .map(|db| db.header.sources.into_iter().map(|s| (s, None)).collect())
        .unwrap_or_default();
    for change in changes {
        match change {
            Change::Put(source) => {
                rebuild = true;
                let source = *source;
                let new = (source.info, Some(source.advisories));
                match sources.iter_mut().find(|(s, _)| s.name == new.0.name) {
                    Some(slot) => *slot = new,
                    None => sources.push(new),
                }
            }
            Change::Checked { name, at } => {
                if let Some((s, _)) = sources.iter_mut().find(|(s, _)| s.name == name) {
                    s.checked_at = Some(at);
                }
            }
            Change::Remove(name) => {
                rebuild = true;
                sources.retain(|(s, _)| s.name != name);
            }
        }
    }
    if !rebuild {
        // Only dates changed: the same records, a new index.
        let path = dir.join(DB_FILE);
        let mut header: serde_json::Value = serde_json::from_slice(
            &InputFile::new(&path, "advisory database index", u64::MAX)
                .read()
                .map_err(|e| DbError::Corrupt(path.display().to_string(), e.to_string()))?,
        )
        .map_err(|e| DbError::Corrupt(path.display().to_string(), e.to_string()))?;
        let infos: Vec<&SourceInfo> = sources.iter().map(|(s, _)| s).collect();
        header["sources"] =
            serde_json::to_value(infos).map_err(|e| DbError::Corrupt(path.display().to_string(), e.to_string()))?;
        write_atomic(
            &path,
            &serde_json::to_vec(&header).map_err(|e| DbError::Corrupt(path.display().to_string(), e.to_string()))?,
        )?;
        return load(dir);
    }
    let mut full = Vec::with_capacity(sources.len());
    for (mut info, advisories) in sources {
        let advisories = match advisories {
            Some(a) => {
                let (body, _) = jsonl(a.iter().map(Ok))?;
                info.file = format!("source-{}-{}.jsonl", info.name, short_digest(&body));
                write_atomic(&dir.join(&info.file), &body)?;
                a
            }
            None => read_source_file(dir, &info)?,
        };
        full.push((info, advisories));
    }
    let db = AdvisoryDb::build(full, now);
    write_merged(&db, dir)?;
    load(dir)
}

/// A record or entry number as saved in the index (32 bits), or an error
/// saying the database has outgrown the format.
fn record_number(i: usize) -> Result<u32, DbError> {
    u32::try_from(i).map_err(|e| DbError::TooLarge(format!("record number {i} does not fit 32 bits ({e})")))
}

/// Writes the merged records and then the index that names them (the
/// commit), then removes files no index names.
fn write_merged(db: &AdvisoryDb, dir: &Path) -> Result<(), DbError> {
    let (body, lines) = jsonl((0..db.records.len()).map(|i| {
        db.records
            .get(i)
            .map_err(|e| DbError::Corrupt(dir.display().to_string(), e))
    }))?;
    let name = format!("records-{}.jsonl", short_digest(&body));
    let mut index: Vec<IndexEntry> = db
        .index
        .iter()
        .map(|((eco, n), v)| {
            let refs = v
                .iter()
                .map(|&(i, j)| Ok((record_number(i)?, record_number(j)?)))
                .collect::<Result<_, DbError>>()?;
            Ok((*eco, n.clone(), refs))
        })
        .collect::<Result<_, DbError>>()?;
    index.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut digests: Vec<(String, String, u32)> = db
        .by_digest
        .iter()
        .flat_map(|((alg, hex), refs)| refs.iter().map(|&i| Ok((alg.clone(), hex.clone(), record_number(i)?))))
        .collect::<Result<_, DbError>>()?;
    digests.sort();
    let header = Header {
        format: FORMAT,
        built_at: db.header.built_at.clone(),
        sources: db.header.sources.clone(),
        stats: db.header.stats.clone(),
        report: db.header.report.clone(),
        records: name.clone(),
        line_sums: lines
            .iter()
            .map(|&(offset, len)| {
                let line = usize::try_from(offset)
                    .ok()
                    .zip(usize::try_from(len).ok())
                    .and_then(|(start, len)| body.get(start..start.checked_add(len)?))
                    .ok_or_else(|| {
                        DbError::TooLarge(format!("record at byte {offset} ({len} bytes) is out of range"))
                    })?;
                Ok(super::line_sum(line))
            })
            .collect::<Result<_, DbError>>()?,
        lines,
        index,
        digests,
    };
    write_atomic(&dir.join(&name), &body)?;
    let index_bytes =
        serde_json::to_vec(&header).map_err(|e| DbError::Corrupt(dir.display().to_string(), e.to_string()))?;
    write_atomic(&dir.join(DB_FILE), &index_bytes)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    // Files the new index does not name (and the format-1 single file).
    let keep: Vec<&str> = std::iter::once(name.as_str())
        .chain(header.sources.iter().map(|s| s.file.as_str()))
        .collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let ours = (n.starts_with("records-") || n.starts_with("source-")) && n.ends_with(".jsonl");
            if (ours && !keep.contains(&n.as_str())) || n == "advisories.json" {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

/// Loads the database in `dir`: the index, and the merged records file.
pub fn load(dir: &Path) -> Result<AdvisoryDb, DbError> {
    let path = dir.join(DB_FILE);
    let corrupt = |why: String| DbError::Corrupt(path.display().to_string(), why);
    let bytes = match InputFile::new(&path, "advisory database file", u64::MAX).read() {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Err(DbError::Missing(dir.display().to_string())),
        Err(e) => {
            return Err(DbError::Io {
                path: path.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            });
        }
    };
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let format = value.get("format").and_then(|f| f.as_u64()).unwrap_or_default();
    // Format 3: one anonymous source whose advisories are the merged records.
    let legacy = format == 3;
    let legacy_origin = if legacy {
        let origins: Vec<String> = value
            .get("sources")
            .and_then(|s| s.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        value["sources"] = serde_json::Value::Array(Vec::new());
        value["format"] = FORMAT.into();
        Some(origins.join(", "))
    } else if format != u64::from(FORMAT) {
        return Err(corrupt(format!(
            "format {format} is not {FORMAT}: re-import the advisory data"
        )));
    } else {
        None
    };
    let mut header: Header = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
    if let Some(origin) = legacy_origin {
        header.sources = vec![SourceInfo {
            name: LEGACY_SOURCE.into(),
            origin,
            imported_at: header.built_at.clone(),
            advisories: header.report.advisories,
            malicious: header.report.malicious,
            newest_modified: header.stats.values().filter_map(|s| s.newest_modified.clone()).max(),
            report: header.report.clone(),
            file: header.records.clone(),
            ..SourceInfo::default()
        }];
    }
    for s in &header.sources {
        super::import::check_name(&s.name).map_err(|e| corrupt(e.to_string()))?;
    }
    let records_bytes = read_db_file(dir, &header.records)?;
    let size = records_bytes.len() as u64;
    if header
        .lines
        .iter()
        .any(|&(offset, len)| offset.checked_add(u64::from(len)).is_none_or(|end| end > size))
    {
        return Err(corrupt(format!("{} is shorter than its index says", header.records)));
    }
    let count = header.lines.len();
    if !legacy_checked(&header, count) {
        return Err(corrupt(format!(
            "{} has {} checksums for {count} records",
            DB_FILE,
            header.line_sums.len()
        )));
    }
    let mut index = HashMap::with_capacity(header.index.len());
    for (eco, name, refs) in std::mem::take(&mut header.index) {
        if refs.iter().any(|&(i, _)| i as usize >= count) {
            return Err(corrupt(format!("the index names a record past the {count} there are")));
        }
        index.insert(
            (eco, name),
            refs.into_iter()
                .map(|(i, j)| (i as usize, j as usize))
                .collect::<Vec<_>>(),
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
        bytes: records_bytes,
        lines: std::mem::take(&mut header.lines),
        sums: std::mem::take(&mut header.line_sums),
        cells: (0..count).map(|_| std::sync::OnceLock::new()).collect(),
    };
    Ok(AdvisoryDb {
        header,
        records,
        index,
        by_digest,
        unsaved: None,
    })
}
