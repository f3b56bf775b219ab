//! The PostgreSQL backend, for many gates sharing one log.
//!
//! Two tables in a schema of the caller's choosing: `ward_log` (one row: the
//! origin, the verifier key, the size and the latest signed checkpoint) and
//! `ward_entries` (index, entry bytes, leaf hash). A batch is one
//! transaction: `SELECT … FOR UPDATE` on the log row serialises writers (the
//! database is the sequencer, no lock of ours), the writer catches up with
//! entries others committed, inserts its batch with one `unnest` statement,
//! signs the new checkpoint and commits. Only a committed batch is
//! acknowledged; a lost connection rolls the whole batch back. Every writer
//! holds the log's signing key; each handle keeps the tree in memory and
//! refreshes it from the database.

use super::{LedgerError, LedgerStore, Receipt};
use crate::checkpoint::SignedCheckpoint;
use crate::hash::leaf_hash;
use crate::note::NoteSigner;
use crate::tree::MerkleTree;

/// An open PostgreSQL ledger handle (one connection).
pub struct PostgresLedger {
    client: postgres::Client,
    schema: String,
    signer: NoteSigner,
    tree: MerkleTree,
    checkpoint: String,
}

fn db(e: postgres::Error) -> LedgerError {
    LedgerError::Database(e.to_string())
}

impl PostgresLedger {
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
        client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema};
                 CREATE TABLE IF NOT EXISTS {schema}.ward_log (
                     id int PRIMARY KEY CHECK (id = 1), origin text NOT NULL, vkey text NOT NULL,
                     size bigint NOT NULL, checkpoint text NOT NULL);
                 CREATE TABLE IF NOT EXISTS {schema}.ward_entries (
                     idx bigint PRIMARY KEY, data bytea NOT NULL, leaf bytea NOT NULL);"
            ))
            .map_err(db)?;
        let empty = super::sign_tree(&signer, &MerkleTree::new())?;
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
            tree: MerkleTree::new(),
            checkpoint: empty,
        };
        ledger.refresh()?;
        Ok(ledger)
    }

    /// Pulls leaf hashes `[tree size, size)` committed by others.
    fn catch_up(
        client: &mut impl postgres::GenericClient,
        schema: &str,
        tree: &mut MerkleTree,
        size: u64,
    ) -> Result<(), LedgerError> {
        if tree.size() >= size {
            return Ok(());
        }
        let rows = client
            .query(
                &format!("SELECT idx, leaf FROM {schema}.ward_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx"),
                &[&(tree.size() as i64), &(size as i64)],
            )
            .map_err(db)?;
        for row in rows {
            let idx: i64 = row.get(0);
            let leaf: Vec<u8> = row.get(1);
            if idx as u64 != tree.size() {
                return Err(LedgerError::Corrupt(format!(
                    "entry {} is missing below the checkpoint's size {size}",
                    tree.size()
                )));
            }
            tree.push(
                leaf.try_into()
                    .map_err(|_| LedgerError::Corrupt(format!("leaf {idx} is not 32 bytes")))?,
            );
        }
        if tree.size() != size {
            return Err(LedgerError::Corrupt(format!(
                "the checkpoint covers {size} entries, the table holds {}",
                tree.size()
            )));
        }
        Ok(())
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
        let before = self.tree.size();
        Self::catch_up(&mut self.client, &self.schema, &mut self.tree, size as u64)?;
        if self.tree.root() != cp.checkpoint.root {
            self.tree.truncate(before);
            return Err(LedgerError::Corrupt(
                "the stored leaf hashes do not produce the checkpoint's root".into(),
            ));
        }
        self.checkpoint = note;
        Ok(())
    }

    fn append(&mut self, entries: &[Vec<u8>]) -> Result<Receipt, LedgerError> {
        super::refuse_oversize(entries)?;
        let schema = self.schema.clone();
        let mut tx = self.client.transaction().map_err(db)?;
        // The sequencer: writers queue on this row until the holder commits.
        let size: i64 = tx
            .query_one(
                &format!("SELECT size FROM {schema}.ward_log WHERE id = 1 FOR UPDATE"),
                &[],
            )
            .map_err(db)?
            .get(0);
        Self::catch_up(&mut tx, &schema, &mut self.tree, size as u64)?;
        let first = self.tree.size();
        let indexes: Vec<i64> = (0..entries.len() as i64).map(|i| first as i64 + i).collect();
        let leaves: Vec<Vec<u8>> = entries.iter().map(|e| leaf_hash(e).to_vec()).collect();
        let result = (|| -> Result<String, LedgerError> {
            tx.execute(
                &format!("INSERT INTO {schema}.ward_entries (idx, data, leaf) SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[])"),
                &[&indexes, &entries, &leaves],
            )
            .map_err(db)?;
            for l in &leaves {
                self.tree.push(l.as_slice().try_into().unwrap_or([0; 32]));
            }
            let note = super::sign_tree(&self.signer, &self.tree)?;
            tx.execute(
                &format!("UPDATE {schema}.ward_log SET size = $1, checkpoint = $2 WHERE id = 1"),
                &[&(self.tree.size() as i64), &note],
            )
            .map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(note)
        })();
        match result {
            Ok(note) => {
                self.checkpoint = note.clone();
                Ok(Receipt {
                    first_index: first,
                    size: self.tree.size(),
                    checkpoint: note,
                })
            }
            Err(e) => {
                self.tree.truncate(first);
                Err(e)
            }
        }
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
            Some(row) if index < self.tree.size() => Ok(row.get(0)),
            _ => Err(LedgerError::NoEntry {
                index,
                size: self.tree.size(),
            }),
        }
    }

    fn entries(&mut self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
        if end > self.tree.size() || start > end {
            return Err(LedgerError::NoEntry {
                index: end.saturating_sub(1),
                size: self.tree.size(),
            });
        }
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT idx, data FROM {}.ward_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                    self.schema
                ),
                &[&(start as i64), &(end as i64)],
            )
            .map_err(db)?;
        if rows.len() as u64 != end - start {
            return Err(LedgerError::Corrupt(format!(
                "entries {start}..{end} are incomplete in the database"
            )));
        }
        Ok(rows.iter().map(|r| r.get::<_, Vec<u8>>(1)).collect())
    }

    fn checkpoint(&self) -> &str {
        &self.checkpoint
    }

    fn signer(&self) -> &NoteSigner {
        &self.signer
    }

    fn tree(&self) -> &crate::tree::MerkleTree {
        &self.tree
    }
}
