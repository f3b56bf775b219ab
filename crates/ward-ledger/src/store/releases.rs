//! The release history index: per package, the releases the log allowed,
//! with the publish time and publisher the registry gave when each was
//! decided and the source of its verified provenance, so that the gate's
//! history rules (provenance regression, publisher change) compare a new
//! release with earlier ones in one indexed lookup, never a scan.
//!
//! Like the release pins ([`super::pins`]) it is derived data, built from
//! the decision records the checkpoint covers and kept in the same index
//! (`pins.sqlite`, table `ward_releases`; `ward_releases` in PostgreSQL),
//! in the same transaction as the pins; it can always be rebuilt from the
//! log. A release is one row per package and version: the first allow
//! wins, and a later allow of another file of the same version only fills
//! in what the first did not know.

use super::LedgerError;
use crate::record::IndexedRecord;

/// An earlier release the log allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseRow {
    /// The version.
    pub version: String,
    /// The entry that first allowed it.
    pub index: u64,
    /// Its publish time (Unix seconds), as the registry said.
    pub published: Option<i64>,
    /// Its publisher, as the registry said.
    pub publisher: Option<String>,
    /// The source repository of its verified provenance.
    pub repository: Option<String>,
    /// The workflow path of its verified provenance.
    pub workflow: Option<String>,
    /// The builder id of its verified provenance.
    pub builder: Option<String>,
}

/// The package key of a purl: the purl without its version.
pub fn package_key(purl: &str) -> Option<String> {
    let mut id: ward_core::PackageId = purl.parse().ok()?;
    id.version = None;
    Some(id.to_purl())
}

/// What an allowing decision record adds to the history: the package key
/// and the release; `None` for a deny, an entry without a version, or an
/// entry that is not a decision record.
pub(crate) fn release_row(record: &IndexedRecord, index: u64) -> Option<(String, ReleaseRow)> {
    if !record.allowed() {
        return None;
    }
    let purl = record.purl()?;
    let id: ward_core::PackageId = purl.parse().ok()?;
    let version = id.version.clone()?;
    let package = package_key(purl)?;
    let meta = record.recorded_release_meta().unwrap_or_default();
    let provenance = record
        .recorded_facts()
        .find(|f| f.kind == "provenance")
        .unwrap_or_default();
    Some((
        package,
        ReleaseRow {
            version,
            index,
            published: meta.published_at().map(|t| t.as_second()),
            publisher: meta.publisher,
            repository: provenance.source_repository,
            workflow: provenance.workflow_path,
            builder: provenance.builder_id,
        },
    ))
}

/// The SQLite table (created beside `ward_pins`).
pub(crate) const SQLITE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS ward_releases (
    package TEXT NOT NULL, version TEXT NOT NULL, idx INTEGER NOT NULL, published INTEGER,
    publisher TEXT, repository TEXT, workflow TEXT, builder TEXT,
    PRIMARY KEY (package, version)) WITHOUT ROWID;
 CREATE INDEX IF NOT EXISTS ward_releases_by_entry ON ward_releases (package, idx);";

/// Adds one release (first allow wins; later ones fill in what it lacked).
pub(crate) fn sqlite_insert(tx: &rusqlite::Transaction<'_>, package: &str, r: &ReleaseRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO ward_releases (package, version, idx, published, publisher, repository, workflow, builder)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (package, version) DO UPDATE SET
           published = COALESCE(ward_releases.published, excluded.published),
           publisher = COALESCE(ward_releases.publisher, excluded.publisher),
           repository = COALESCE(ward_releases.repository, excluded.repository),
           workflow = COALESCE(ward_releases.workflow, excluded.workflow),
           builder = COALESCE(ward_releases.builder, excluded.builder)",
    )?
    .execute(rusqlite::params![
        package,
        r.version,
        r.index as i64,
        r.published,
        r.publisher,
        r.repository,
        r.workflow,
        r.builder
    ])
    .map(|_| ())
}

/// The newest `limit` releases of a package, by the entry that allowed them.
pub(crate) fn sqlite_lookup(
    conn: &rusqlite::Connection,
    package: &str,
    limit: usize,
) -> rusqlite::Result<Vec<ReleaseRow>> {
    let mut q = conn.prepare_cached(
        "SELECT version, idx, published, publisher, repository, workflow, builder FROM ward_releases
         WHERE package = ?1 ORDER BY idx DESC LIMIT ?2",
    )?;
    let rows = q.query_map(rusqlite::params![package, limit as i64], |r| {
        Ok(ReleaseRow {
            version: r.get(0)?,
            index: r.get::<_, i64>(1)? as u64,
            published: r.get(2)?,
            publisher: r.get(3)?,
            repository: r.get(4)?,
            workflow: r.get(5)?,
            builder: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// Why a backend cannot answer: it keeps no release index.
pub(crate) fn not_indexed() -> LedgerError {
    LedgerError::Index("this ledger backend keeps no release history index".into())
}
