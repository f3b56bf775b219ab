//! Release pins: the first allow the log records for each package file
//! (its purl and file name), kept in an index beside the log so that a
//! lookup is one B-tree probe, never a scan of the entries.
//!
//! The index is derived data: it is built from the decision records the
//! checkpoint covers (their DSSE payload is read; the signature is the
//! log's own and is not re-checked here) and can always be rebuilt from
//! them. For the embedded backend it is `pins.sqlite` in the ledger
//! directory (SQLite through `rusqlite`, write-ahead log, no fsync of its
//! own): the writer adds each batch once it is acknowledged, and the index
//! records how many entries it covers and the leaf hash of the last one, so
//! an index left behind (a crash, a release that did not keep one) is
//! caught up from the entries it lacks, and one that belongs to another log
//! is rebuilt. The PostgreSQL backend keeps the table `ward_pins`, written
//! in each batch's own transaction.

use super::LedgerError;
use crate::hash::Hash;
use crate::record::IndexedRecord;
use std::path::Path;

/// The bytes the ledger first allowed for a package file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleasePin {
    /// Their SHA-256 (lower-case hex), as the decision record names it.
    pub sha256: String,
    /// The entry that recorded the allow.
    pub index: u64,
}

/// What an allowing decision record pins: `(purl, file name, sha256)`;
/// `None` for a deny.
pub(crate) fn allowed_file(record: &IndexedRecord) -> Option<(String, String, String)> {
    if !record.allowed() {
        return None;
    }
    Some((
        record.purl()?.to_string(),
        record.file_name().to_string(),
        record.sha256()?.to_string(),
    ))
}

fn index_error(path: &Path) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
    move |e| LedgerError::Index(format!("{}: {e}", path.display()))
}

/// The embedded backend's pin index (`pins.sqlite`), held by the writer.
pub(crate) struct PinIndex {
    conn: rusqlite::Connection,
    path: std::path::PathBuf,
}

impl PinIndex {
    /// Opens (or creates) the index file.
    pub(crate) fn open(path: &Path) -> Result<Self, LedgerError> {
        let err = index_error(path);
        let conn = rusqlite::Connection::open(path).map_err(&err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(&err)?;
        // No checkpoint when the connection closes: a short-lived `ward
        // verify` would otherwise pay four more fsyncs (the WAL twice, the
        // database, the directory) after the log's own. The WAL is
        // checkpointed as it grows (every 1,000 pages), and what it holds is
        // read by the next open like the database itself.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(&err)?;
        // An index from before the release history existed is rebuilt, so
        // that the history covers the whole log.
        let had_releases: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'ward_releases')",
                [],
                |r| r.get(0),
            )
            .map_err(&err)?;
        // Derived data: a crash may lose the last commits, which the next
        // open re-adds from the log; never an fsync on the append path.
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(&err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS ward_index_state (
                 id INTEGER PRIMARY KEY CHECK (id = 1), covered INTEGER NOT NULL, last_leaf BLOB);
             INSERT OR IGNORE INTO ward_index_state VALUES (1, 0, NULL);
             CREATE TABLE IF NOT EXISTS ward_pins (
                 purl TEXT NOT NULL, file TEXT NOT NULL, sha256 TEXT NOT NULL, idx INTEGER NOT NULL,
                 PRIMARY KEY (purl, file)) WITHOUT ROWID;",
        )
        .map_err(&err)?;
        conn.execute_batch(super::releases::SQLITE_SCHEMA).map_err(&err)?;
        let mut index = Self {
            conn,
            path: path.to_path_buf(),
        };
        if !had_releases {
            index.reset()?;
        }
        Ok(index)
    }

    /// How many entries the index covers, and the leaf hash of the last.
    pub(crate) fn state(&self) -> Result<(u64, Option<Hash>), LedgerError> {
        let (covered, leaf): (i64, Option<Vec<u8>>) = self
            .conn
            .query_row(
                "SELECT covered, last_leaf FROM ward_index_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(index_error(&self.path))?;
        Ok((covered as u64, leaf.and_then(|l| l.try_into().ok())))
    }

    /// Forgets everything (the index belongs to another log).
    pub(crate) fn reset(&mut self) -> Result<(), LedgerError> {
        self.conn
            .execute_batch(
                "DELETE FROM ward_pins; DELETE FROM ward_releases;
                 UPDATE ward_index_state SET covered = 0, last_leaf = NULL;",
            )
            .map_err(index_error(&self.path))
    }

    /// Adds entries `first..` (the next ones after what it covers), in one
    /// transaction; the first allow of a package file wins.
    pub(crate) fn add(&mut self, first: u64, entries: &[Vec<u8>], last_leaf: &Hash) -> Result<(), LedgerError> {
        let err = index_error(&self.path);
        let tx = self.conn.transaction().map_err(&err)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO ward_pins (purl, file, sha256, idx) VALUES (?1, ?2, ?3, ?4)
                  ON CONFLICT (purl, file) DO UPDATE SET sha256 = excluded.sha256, idx = excluded.idx
                  WHERE excluded.idx < ward_pins.idx",
                )
                .map_err(&err)?;
            for (i, e) in (first..).zip(entries) {
                // Each entry is decoded once, for both indexes.
                let Some(record) = IndexedRecord::decode(e) else {
                    continue;
                };
                if let Some((purl, file, sha)) = allowed_file(&record) {
                    insert
                        .execute(rusqlite::params![purl, file, sha, i as i64])
                        .map_err(&err)?;
                    if let Some((package, release)) = super::releases::release_row(&record, i) {
                        super::releases::sqlite_insert(&tx, &package, &release).map_err(&err)?;
                    }
                }
            }
        }
        tx.execute(
            "UPDATE ward_index_state SET covered = ?1, last_leaf = ?2 WHERE id = 1",
            rusqlite::params![(first + entries.len() as u64) as i64, last_leaf.to_vec()],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// The newest `limit` releases of a package the log allowed (see [`super::releases`]).
    pub(crate) fn releases(&self, package: &str, limit: usize) -> Result<Vec<super::ReleaseRow>, LedgerError> {
        super::releases::sqlite_lookup(&self.conn, package, limit).map_err(index_error(&self.path))
    }

    /// The pin of a package file.
    pub(crate) fn lookup(&self, purl: &str, file: &str) -> Result<Option<ReleasePin>, LedgerError> {
        use rusqlite::OptionalExtension as _;
        self.conn
            .prepare_cached("SELECT sha256, idx FROM ward_pins WHERE purl = ?1 AND file = ?2")
            .and_then(|mut q| {
                q.query_row(rusqlite::params![purl, file], |r| {
                    Ok(ReleasePin {
                        sha256: r.get(0)?,
                        index: r.get::<_, i64>(1)? as u64,
                    })
                })
                .optional()
            })
            .map_err(index_error(&self.path))
    }
}
