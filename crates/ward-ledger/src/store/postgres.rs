//! The PostgreSQL backend, for many gates sharing one log.
//!
//! Three tables in a schema of the caller's choosing: `ward_log` (one row:
//! the origin, the verifier key, the size and the latest signed
//! checkpoint), `ward_entries` (index, entry bytes, leaf hash) and
//! `ward_nodes` (every interior node of the tree by its slot, see
//! [`crate::tree::interior_slot`]). A batch is one transaction:
//! `SELECT … FOR UPDATE` on the log row serialises writers (the database is
//! the sequencer, no lock of ours), the writer catches up with the
//! frontier of entries others committed, inserts its entries and the
//! interior nodes they complete with one `unnest` statement each, signs the
//! new checkpoint and commits. Only a committed batch is acknowledged; a
//! lost connection rolls the whole batch back. Every writer holds the log's
//! signing key.
//!
//! A handle keeps only the frontier (O(log n) hashes) and a cache of nodes
//! it read or wrote: opening and catching up read the frontier's O(log n)
//! rows and check its root against the signed checkpoint, and a proof
//! reads the O(log n) nodes it needs. A log written before `ward_nodes`
//! existed is migrated by the first handle that opens it: in one
//! transaction holding the log row, every interior node is computed from
//! the stored leaf hashes (once, O(n)) and inserted.

use super::{LedgerError, LedgerStore, Receipt};
use crate::checkpoint::SignedCheckpoint;
use crate::hash::{Hash, empty_root, leaf_hash};
use crate::note::NoteSigner;
use crate::tree::{Frontier, completed_by, interior_count, interior_slot};
use std::collections::HashMap;

/// How many node hashes a handle keeps.
const NODE_CACHE: usize = 1 << 16;

/// An open PostgreSQL ledger handle (one connection).
pub struct PostgresLedger {
    client: postgres::Client,
    schema: String,
    signer: NoteSigner,
    frontier: Frontier,
    cache: HashMap<(u32, u64), Hash>,
    checkpoint: String,
}

fn hash32(v: &[u8], what: &str) -> Result<Hash, LedgerError> {
    v.try_into()
        .map_err(|e| LedgerError::Corrupt(format!("{what} is {} bytes, not 32 ({e})", v.len())))
}

fn db(e: postgres::Error) -> LedgerError {
    LedgerError::Database(e.to_string())
}

impl PostgresLedger {
    /// `columns` of entries `start..end` in order; fewer rows than asked is
    /// corruption (`what` names them in the error).
    fn entry_rows(
        &mut self,
        columns: &str,
        what: &str,
        start: u64,
        end: u64,
    ) -> Result<Vec<postgres::Row>, LedgerError> {
        if end > self.frontier.size() || start > end {
            return Err(LedgerError::NoEntry {
                index: end.saturating_sub(1),
                size: self.frontier.size(),
            });
        }
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {columns} FROM {}.ward_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                    self.schema
                ),
                &[&(start as i64), &(end as i64)],
            )
            .map_err(db)?;
        if rows.len() as u64 != end - start {
            return Err(LedgerError::Corrupt(format!(
                "{what} {start}..{end} are incomplete in the database"
            )));
        }
        Ok(rows)
    }

    /// Connects, creating the schema and tables on first use. The log in
    /// `schema` must belong to `signer`'s key.
    pub fn open(url: &str, schema: &str, signer: NoteSigner) -> Result<Self, LedgerError> {
        if schema.is_empty()
            || !schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(LedgerError::Database(format!(
                "schema name {schema:?} must be lower-case letters, digits and _"
            )));
        }
        let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(db)?;
        // A log indexed before the release history existed is indexed again
        // (pins and releases together, see `catch_up_pins`).
        let had_releases: bool = client
            .query_one(
                &format!("SELECT to_regclass('{schema}.ward_releases') IS NOT NULL"),
                &[],
            )
            .map_err(db)?
            .get(0);
        client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema};
                 CREATE TABLE IF NOT EXISTS {schema}.ward_log (
                     id int PRIMARY KEY CHECK (id = 1), origin text NOT NULL, vkey text NOT NULL,
                     size bigint NOT NULL, checkpoint text NOT NULL);
                 CREATE TABLE IF NOT EXISTS {schema}.ward_entries (
                     idx bigint PRIMARY KEY, data bytea NOT NULL, leaf bytea NOT NULL);
                 CREATE TABLE IF NOT EXISTS {schema}.ward_nodes (
                     slot bigint PRIMARY KEY, hash bytea NOT NULL);
                 CREATE TABLE IF NOT EXISTS {schema}.ward_pins (
                     purl text NOT NULL, file text NOT NULL, sha256 text NOT NULL, idx bigint NOT NULL,
                     PRIMARY KEY (purl, file));
                 ALTER TABLE {schema}.ward_log ADD COLUMN IF NOT EXISTS pins_size bigint NOT NULL DEFAULT 0;
                 CREATE TABLE IF NOT EXISTS {schema}.ward_releases (
                     package text NOT NULL, version text NOT NULL, idx bigint NOT NULL, published bigint,
                     publisher text, repository text, workflow text, builder text,
                     PRIMARY KEY (package, version));
                 CREATE INDEX IF NOT EXISTS ward_releases_by_entry ON {schema}.ward_releases (package, idx);"
            ))
            .map_err(db)?;
        if !had_releases {
            client
                .batch_execute(&format!(
                    "DELETE FROM {schema}.ward_pins; UPDATE {schema}.ward_log SET pins_size = 0 WHERE id = 1;"
                ))
                .map_err(db)?;
        }
        let empty = super::sign_tree(&signer, 0, empty_root())?;
        client
            .execute(
                &format!("INSERT INTO {schema}.ward_log VALUES (1, $1, $2, 0, $3) ON CONFLICT (id) DO NOTHING"),
                &[&signer.name(), &signer.verifier().to_vkey(), &empty],
            )
            .map_err(db)?;
        let vkey: String = client
            .query_one(&format!("SELECT vkey FROM {schema}.ward_log WHERE id = 1"), &[])
            .map_err(db)?
            .get(0);
        if vkey != signer.verifier().to_vkey() {
            return Err(LedgerError::Corrupt(format!(
                "the log in schema {schema} belongs to key {vkey}, not this one"
            )));
        }
        let mut ledger = Self {
            client,
            schema: schema.to_string(),
            signer,
            frontier: Frontier::new(),
            cache: HashMap::new(),
            checkpoint: empty,
        };
        ledger.migrate()?;
        ledger.refresh()?;
        Ok(ledger)
    }

    /// Computes and inserts every interior node from the stored leaf
    /// hashes when `ward_nodes` lacks some (a log written before it
    /// existed, or grown by such a release since): one transaction holding
    /// the log row, so a crash leaves the log as it was.
    fn migrate(&mut self) -> Result<(), LedgerError> {
        let schema = self.schema.clone();
        let have = |c: &mut dyn FnMut(&str) -> Result<i64, LedgerError>| -> Result<(u64, u64), LedgerError> {
            let size = c(&format!("SELECT size FROM {schema}.ward_log WHERE id = 1"))?;
            let slots = c(&format!("SELECT coalesce(max(slot) + 1, 0) FROM {schema}.ward_nodes"))?;
            Ok((size as u64, slots as u64))
        };
        let (size, slots) = have(&mut |q| Ok(self.client.query_one(q, &[]).map_err(db)?.get(0)))?;
        let pins_size: i64 = self
            .client
            .query_one(&format!("SELECT pins_size FROM {schema}.ward_log WHERE id = 1"), &[])
            .map_err(db)?
            .get(0);
        if pins_size as u64 != size {
            self.catch_up_pins()?;
        }
        if slots >= interior_count(size) {
            return Ok(());
        }
        let mut tx = self.client.transaction().map_err(db)?;
        let size: i64 = tx
            .query_one(
                &format!("SELECT size FROM {schema}.ward_log WHERE id = 1 FOR UPDATE"),
                &[],
            )
            .map_err(db)?
            .get(0);
        let size = size as u64;
        let mut frontier = Frontier::new();
        let mut created = Vec::new();
        let mut start = 0u64;
        while start < size {
            let end = (start + 100_000).min(size);
            let rows = tx
                .query(
                    &format!("SELECT leaf FROM {schema}.ward_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx"),
                    &[&(start as i64), &(end as i64)],
                )
                .map_err(db)?;
            if rows.len() as u64 != end - start {
                return Err(LedgerError::Corrupt(format!(
                    "entries {start}..{end} are incomplete in the database"
                )));
            }
            for row in rows {
                frontier.push(hash32(row.get(0), "a stored leaf hash")?, &mut created);
            }
            let first = interior_count(start) as i64;
            let slots: Vec<i64> = (first..first + created.len() as i64).collect();
            let hashes: Vec<Vec<u8>> = created.drain(..).map(|h| h.to_vec()).collect();
            tx.execute(
                &format!(
                    "INSERT INTO {schema}.ward_nodes (slot, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[]) \
                     ON CONFLICT (slot) DO NOTHING"
                ),
                &[&slots, &hashes],
            )
            .map_err(db)?;
            start = end;
        }
        tx.commit().map_err(db)
    }

    /// Adds the entries `ward_pins` lacks (a log written before it existed,
    /// or grown by such a release since) in one transaction holding the
    /// log row; the first allow of a package file wins.
    fn catch_up_pins(&mut self) -> Result<(), LedgerError> {
        const CHUNK: i64 = 10_000;
        let schema = self.schema.clone();
        let mut tx = self.client.transaction().map_err(db)?;
        let row = tx
            .query_one(
                &format!("SELECT size, pins_size FROM {schema}.ward_log WHERE id = 1 FOR UPDATE"),
                &[],
            )
            .map_err(db)?;
        let (size, mut covered): (i64, i64) = (row.get(0), row.get(1));
        if covered > size {
            tx.batch_execute(&format!(
                "DELETE FROM {schema}.ward_pins; DELETE FROM {schema}.ward_releases;"
            ))
            .map_err(db)?;
            covered = 0;
        }
        while covered < size {
            let end = (covered + CHUNK).min(size);
            let rows = tx
                .query(
                    &format!("SELECT idx, data FROM {schema}.ward_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx"),
                    &[&covered, &end],
                )
                .map_err(db)?;
            // Each entry is decoded once, for both indexes.
            let records: Vec<(i64, crate::record::IndexedRecord)> = rows
                .iter()
                .filter_map(|r| Some((r.get::<_, i64>(0), crate::record::IndexedRecord::decode(r.get(1))?)))
                .collect();
            let pins: Vec<(i64, (String, String, String))> = records
                .iter()
                .filter_map(|(i, rec)| Some((*i, super::pins::allowed_file(rec)?)))
                .collect();
            Self::insert_pins(&mut tx, &schema, pins)?;
            let releases = records
                .iter()
                .filter_map(|(i, rec)| super::releases::release_row(rec, *i as u64))
                .collect();
            Self::insert_releases(&mut tx, &schema, releases)?;
            covered = end;
        }
        tx.execute(
            &format!("UPDATE {schema}.ward_log SET pins_size = $1 WHERE id = 1"),
            &[&size],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Adds releases to the history index (see [`super::releases`]): the
    /// first allow of a version wins, later ones fill in what it lacked.
    fn insert_releases(
        client: &mut impl postgres::GenericClient,
        schema: &str,
        releases: Vec<(String, super::ReleaseRow)>,
    ) -> Result<(), LedgerError> {
        if releases.is_empty() {
            return Ok(());
        }
        let insert = client
            .prepare(&format!(
                "INSERT INTO {schema}.ward_releases (package, version, idx, published, publisher, repository, workflow, builder)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (package, version) DO UPDATE SET
                   idx = LEAST({schema}.ward_releases.idx, excluded.idx),
                   published = COALESCE({schema}.ward_releases.published, excluded.published),
                   publisher = COALESCE({schema}.ward_releases.publisher, excluded.publisher),
                   repository = COALESCE({schema}.ward_releases.repository, excluded.repository),
                   workflow = COALESCE({schema}.ward_releases.workflow, excluded.workflow),
                   builder = COALESCE({schema}.ward_releases.builder, excluded.builder)"
            ))
            .map_err(db)?;
        for (package, r) in releases {
            client
                .execute(
                    &insert,
                    &[
                        &package,
                        &r.version,
                        &(r.index as i64),
                        &r.published,
                        &r.publisher,
                        &r.repository,
                        &r.workflow,
                        &r.builder,
                    ],
                )
                .map_err(db)?;
        }
        Ok(())
    }

    /// Inserts pins `(entry index, (purl, file, sha256))`, in index order;
    /// a package file already pinned keeps its pin.
    fn insert_pins(
        client: &mut impl postgres::GenericClient,
        schema: &str,
        pins: Vec<(i64, (String, String, String))>,
    ) -> Result<(), LedgerError> {
        if pins.is_empty() {
            return Ok(());
        }
        let mut idx = Vec::with_capacity(pins.len());
        let (mut purls, mut files, mut shas) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (p, f, s)) in pins {
            idx.push(i);
            purls.push(p);
            files.push(f);
            shas.push(s);
        }
        // The earliest entry for a (purl, file) wins, whatever order the
        // entries are indexed in (a catch-up may come after later batches).
        client
            .execute(
                &format!(
                    "INSERT INTO {schema}.ward_pins (purl, file, sha256, idx)
                     SELECT DISTINCT ON (purl, file) purl, file, sha256, idx
                     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(purl, file, sha256, idx)
                     ORDER BY purl, file, idx
                     ON CONFLICT (purl, file) DO UPDATE SET sha256 = excluded.sha256, idx = excluded.idx
                     WHERE excluded.idx < {schema}.ward_pins.idx"
                ),
                &[&purls, &files, &shas, &idx],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Reads the frontier of the tree of `size` entries (O(log n) rows, one
    /// query per table) and keeps its nodes in the cache.
    fn load_frontier(
        client: &mut impl postgres::GenericClient,
        schema: &str,
        size: u64,
        cache: &mut HashMap<(u32, u64), Hash>,
    ) -> Result<Frontier, LedgerError> {
        let coords = Frontier::coordinates(size);
        let leaves: Vec<i64> = coords.iter().filter(|c| c.0 == 0).map(|c| c.1 as i64).collect();
        let slots: Vec<i64> = coords
            .iter()
            .filter(|c| c.0 > 0)
            .map(|&(l, i)| interior_slot(l, i) as i64)
            .collect();
        let mut found = HashMap::new();
        for row in client
            .query(
                &format!("SELECT idx, leaf FROM {schema}.ward_entries WHERE idx = ANY($1)"),
                &[&leaves],
            )
            .map_err(db)?
        {
            found.insert(
                (0u32, row.get::<_, i64>(0) as u64),
                hash32(row.get(1), "a stored leaf hash")?,
            );
        }
        let by_slot: HashMap<i64, Hash> = client
            .query(
                &format!("SELECT slot, hash FROM {schema}.ward_nodes WHERE slot = ANY($1)"),
                &[&slots],
            )
            .map_err(db)?
            .iter()
            .map(|row| Ok((row.get::<_, i64>(0), hash32(row.get(1), "a stored node")?)))
            .collect::<Result<_, LedgerError>>()?;
        for &(l, i) in coords.iter().filter(|c| c.0 > 0) {
            if let Some(h) = by_slot.get(&(interior_slot(l, i) as i64)) {
                found.insert((l, i), *h);
            }
        }
        let frontier = Frontier::load(size, |l, i| {
            found.get(&(l, i)).copied().ok_or_else(|| {
                LedgerError::Corrupt(format!(
                    "the node over entries {}..{} is missing below the checkpoint's size {size}",
                    i << l,
                    (i + 1) << l
                ))
            })
        })?;
        if cache.len() + found.len() > NODE_CACHE {
            cache.clear();
        }
        cache.extend(found);
        Ok(frontier)
    }
}

impl LedgerStore for PostgresLedger {
    fn refresh(&mut self) -> Result<(), LedgerError> {
        let row = self
            .client
            .query_one(
                &format!("SELECT size, checkpoint FROM {}.ward_log WHERE id = 1", self.schema),
                &[],
            )
            .map_err(db)?;
        let (size, note): (i64, String) = (row.get(0), row.get(1));
        let cp = SignedCheckpoint::verify(note.as_bytes(), &self.signer.verifier())?;
        if cp.checkpoint.size != size as u64 {
            return Err(LedgerError::Corrupt(
                "the stored size disagrees with the signed checkpoint".into(),
            ));
        }
        if self.frontier.size() != size as u64 || self.frontier.root() != cp.checkpoint.root {
            let frontier = Self::load_frontier(&mut self.client, &self.schema, size as u64, &mut self.cache)?;
            if frontier.root() != cp.checkpoint.root {
                return Err(LedgerError::Corrupt(
                    "the stored tree (ward_entries, ward_nodes) does not produce the checkpoint's root".into(),
                ));
            }
            self.frontier = frontier;
        }
        self.checkpoint = note;
        Ok(())
    }

    fn append(&mut self, entries: &[Vec<u8>]) -> Result<Receipt, LedgerError> {
        super::refuse_oversize(entries)?;
        let schema = self.schema.clone();
        let mut tx = self.client.transaction().map_err(db)?;
        // The sequencer: writers queue on this row until the holder commits.
        let row = tx
            .query_one(
                &format!("SELECT size, checkpoint FROM {schema}.ward_log WHERE id = 1 FOR UPDATE"),
                &[],
            )
            .map_err(db)?;
        let (size, note): (i64, String) = (row.get(0), row.get(1));
        let mut frontier = if size as u64 == self.frontier.size() {
            self.frontier.clone()
        } else {
            // Others appended since: their frontier, checked against their
            // signed checkpoint before anything is built on it.
            let cp = SignedCheckpoint::verify(note.as_bytes(), &self.signer.verifier())?;
            let f = Self::load_frontier(&mut tx, &schema, size as u64, &mut self.cache)?;
            if cp.checkpoint.size != size as u64 || f.root() != cp.checkpoint.root {
                return Err(LedgerError::Corrupt(
                    "the stored tree (ward_entries, ward_nodes) does not produce the checkpoint's root".into(),
                ));
            }
            f
        };
        let first = frontier.size();
        let indexes: Vec<i64> = (0..entries.len() as i64).map(|i| first as i64 + i).collect();
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        let mut created = Vec::with_capacity(entries.len());
        for l in &leaves {
            frontier.push(*l, &mut created);
        }
        let result = (|| -> Result<String, LedgerError> {
            let leaf_bytes: Vec<Vec<u8>> = leaves.iter().map(|l| l.to_vec()).collect();
            tx.execute(
                &format!("INSERT INTO {schema}.ward_entries (idx, data, leaf) SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[])"),
                &[&indexes, &entries, &leaf_bytes],
            )
            .map_err(db)?;
            let first_slot = interior_count(first) as i64;
            let slots: Vec<i64> = (first_slot..first_slot + created.len() as i64).collect();
            let hashes: Vec<Vec<u8>> = created.iter().map(|h| h.to_vec()).collect();
            tx.execute(
                &format!(
                    "INSERT INTO {schema}.ward_nodes (slot, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])"
                ),
                &[&slots, &hashes],
            )
            .map_err(db)?;
            // Each entry is decoded once, for both indexes.
            let records: Vec<(i64, crate::record::IndexedRecord)> = indexes
                .iter()
                .zip(entries)
                .filter_map(|(&i, e)| Some((i, crate::record::IndexedRecord::decode(e)?)))
                .collect();
            let pins = records
                .iter()
                .filter_map(|(i, rec)| Some((*i, super::pins::allowed_file(rec)?)))
                .collect();
            Self::insert_pins(&mut tx, &schema, pins)?;
            let releases = records
                .iter()
                .filter_map(|(i, rec)| super::releases::release_row(rec, *i as u64))
                .collect();
            Self::insert_releases(&mut tx, &schema, releases)?;
            let note = super::sign_tree(&self.signer, frontier.size(), frontier.root())?;
            // The pins cover the new size only if they covered the old one
            // (else the next open catches them up).
            tx.execute(
                &format!(
                    "UPDATE {schema}.ward_log SET size = $1, checkpoint = $2,
                     pins_size = CASE WHEN pins_size = $3 THEN $1 ELSE pins_size END WHERE id = 1"
                ),
                &[&(frontier.size() as i64), &note, &(first as i64)],
            )
            .map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(note)
        })();
        let note = result?;
        if self.cache.len() + leaves.len() + created.len() > NODE_CACHE {
            self.cache.clear();
        }
        let mut created = created.into_iter();
        for (j, leaf) in (first..).zip(leaves) {
            self.cache.insert((0, j), leaf);
            for at in completed_by(j) {
                if let Some(h) = created.next() {
                    self.cache.insert(at, h);
                }
            }
        }
        self.frontier = frontier;
        self.checkpoint = note.clone();
        Ok(Receipt {
            first_index: first,
            size: self.frontier.size(),
            checkpoint: note,
        })
    }

    fn entry(&mut self, index: u64) -> Result<Vec<u8>, LedgerError> {
        let rows = self
            .client
            .query(
                &format!("SELECT data FROM {}.ward_entries WHERE idx = $1", self.schema),
                &[&(index as i64)],
            )
            .map_err(db)?;
        match rows.first() {
            Some(row) if index < self.frontier.size() => Ok(row.get(0)),
            _ => Err(LedgerError::NoEntry {
                index,
                size: self.frontier.size(),
            }),
        }
    }

    fn entries(&mut self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        let rows = self.entry_rows("idx, data", "entries", start, end)?;
        Ok(rows.iter().map(|r| r.get::<_, Vec<u8>>(1)).collect())
    }

    fn checkpoint(&self) -> &str {
        &self.checkpoint
    }

    fn signer(&self) -> &NoteSigner {
        &self.signer
    }

    fn size(&self) -> u64 {
        self.frontier.size()
    }

    fn node(&mut self, level: u32, index: u64) -> Result<Hash, LedgerError> {
        let size = self.frontier.size();
        if level >= 64 || index >= size >> level {
            return Err(LedgerError::NoEntry {
                index: index.saturating_mul(1 << level.min(63)),
                size,
            });
        }
        if let Some(h) = self.cache.get(&(level, index)) {
            return Ok(*h);
        }
        let row = if level == 0 {
            self.client.query_opt(
                &format!("SELECT leaf FROM {}.ward_entries WHERE idx = $1", self.schema),
                &[&(index as i64)],
            )
        } else {
            self.client.query_opt(
                &format!("SELECT hash FROM {}.ward_nodes WHERE slot = $1", self.schema),
                &[&(interior_slot(level, index) as i64)],
            )
        }
        .map_err(db)?
        .ok_or_else(|| LedgerError::Corrupt(format!("node ({level}, {index}) is missing in the database")))?;
        let h = hash32(row.get(0), "a stored node")?;
        if self.cache.len() >= NODE_CACHE {
            self.cache.clear();
        }
        self.cache.insert((level, index), h);
        Ok(h)
    }

    fn release_history(&mut self, package: &str, limit: usize) -> Result<Vec<super::ReleaseRow>, LedgerError> {
        let schema = self.schema.clone();
        let row = self
            .client
            .query_one(
                &format!("SELECT pins_size, size FROM {schema}.ward_log WHERE id = 1"),
                &[],
            )
            .map_err(db)?;
        if row.get::<_, i64>(0) != row.get::<_, i64>(1) {
            self.catch_up_pins()?;
        }
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT version, idx, published, publisher, repository, workflow, builder
                     FROM {schema}.ward_releases WHERE package = $1 ORDER BY idx DESC LIMIT $2"
                ),
                &[&package, &(limit as i64)],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| super::ReleaseRow {
                version: r.get(0),
                index: r.get::<_, i64>(1) as u64,
                published: r.get(2),
                publisher: r.get(3),
                repository: r.get(4),
                workflow: r.get(5),
                builder: r.get(6),
            })
            .collect())
    }

    fn release_pin(&mut self, purl: &str, file: &str) -> Result<Option<super::ReleasePin>, LedgerError> {
        let schema = &self.schema;
        let row = self
            .client
            .query_one(
                &format!("SELECT pins_size, size FROM {schema}.ward_log WHERE id = 1"),
                &[],
            )
            .map_err(db)?;
        if row.get::<_, i64>(0) != row.get::<_, i64>(1) {
            self.catch_up_pins()?;
        }
        let row = self
            .client
            .query_opt(
                &format!(
                    "SELECT sha256, idx FROM {}.ward_pins WHERE purl = $1 AND file = $2",
                    self.schema
                ),
                &[&purl, &file],
            )
            .map_err(db)?;
        Ok(row.map(|r| super::ReleasePin {
            sha256: r.get(0),
            index: r.get::<_, i64>(1) as u64,
        }))
    }

    fn leaves(&mut self, start: u64, end: u64) -> Result<Vec<Hash>, LedgerError> {
        let rows = self.entry_rows("leaf", "leaf hashes", start, end)?;
        rows.iter().map(|r| hash32(r.get(0), "a stored leaf hash")).collect()
    }

    fn interior(&mut self, first: u64, count: u64) -> Result<Option<Vec<Hash>>, LedgerError> {
        if first + count > interior_count(self.frontier.size()) {
            return Ok(None);
        }
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT hash FROM {}.ward_nodes WHERE slot >= $1 AND slot < $2 ORDER BY slot",
                    self.schema
                ),
                &[&(first as i64), &((first + count) as i64)],
            )
            .map_err(db)?;
        if rows.len() as u64 != count {
            return Err(LedgerError::Corrupt(format!(
                "interior nodes {first}..{} are incomplete in the database",
                first + count
            )));
        }
        Ok(Some(
            rows.iter()
                .map(|r| hash32(r.get(0), "a stored node"))
                .collect::<Result<_, _>>()?,
        ))
    }
}
