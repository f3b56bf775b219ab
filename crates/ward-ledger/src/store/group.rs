//! Group commit: many concurrent single-entry appenders share one batch.
//!
//! [`SharedLedger`] wraps any [`LedgerStore`] and is `Clone + Send + Sync`.
//! A caller of [`SharedLedger::append_one`] queues its entry; the first
//! waiter with no batch in flight becomes the leader, takes everything
//! queued (at most [`MAX_GROUP`] entries), and appends it with one
//! [`LedgerStore::append`]: for the embedded backend one write, one commit
//! marker, one fsync and one signed checkpoint; for PostgreSQL one
//! transaction. The leader then computes each entry's inclusion proof
//! against the new checkpoint and wakes the followers. Entries that queue
//! while a batch is in flight form the next batch, so the batch window is
//! exactly the time the previous batch takes to become durable: a lone
//! appender waits for nothing extra.
//!
//! The crash model is the backend's: one batch is one commit marker (one
//! transaction), and a caller is answered only once its entry is durable
//! and covered by the signed checkpoint. When a batch fails, every caller
//! in it gets the error and none is acknowledged.

use super::{LedgerError, LedgerStore, MAX_ENTRY_BYTES};
use crate::hash::Hash;
use crate::note::{NoteSigner, NoteVerifier};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The most entries one group commit takes from the queue.
pub const MAX_GROUP: usize = 4096;

/// What an acknowledged single-entry append returns.
#[derive(Clone, Debug)]
pub struct Appended {
    /// The entry's index.
    pub index: u64,
    /// The tree size of the checkpoint that covers it.
    pub size: u64,
    /// That signed checkpoint.
    pub checkpoint: String,
    /// The entry's inclusion proof against the checkpoint (leaf to root).
    pub inclusion_proof: Vec<Hash>,
}

type Outcome = Result<Appended, Arc<LedgerError>>;

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    pending: Vec<(u64, Vec<u8>)>,
    leader: bool,
    done: HashMap<u64, Outcome>,
}

struct Inner {
    store: Mutex<Box<dyn LedgerStore>>,
    queue: Mutex<Queue>,
    wake: Condvar,
    /// A copy of the store's key, so records are signed without waiting
    /// for the batch in flight (`Err` only if the key does not round-trip).
    signer: Result<NoteSigner, String>,
}

/// A ledger shared by threads, with group commit. Reads go through
/// [`SharedLedger::with_store`].
#[derive(Clone)]
pub struct SharedLedger {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SharedLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLedger").finish_non_exhaustive()
    }
}

fn poisoned() -> LedgerError {
    LedgerError::Corrupt("a previous writer panicked".into())
}

/// The store's lock was poisoned: a writer panicked while holding it.
fn lock_poisoned<T>(e: std::sync::PoisonError<T>) -> LedgerError {
    LedgerError::Corrupt(format!("a previous writer panicked ({e})"))
}

/// Puts the queue back in order if the leader unwinds mid-batch: its
/// tickets get an error and another waiter can lead.
struct LeaderGuard<'a> {
    inner: &'a Inner,
    tickets: Vec<u64>,
    armed: bool,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut q = self.inner.lock_queue();
        q.leader = false;
        let err = Arc::new(poisoned());
        for t in self.tickets.drain(..) {
            q.done.insert(t, Err(err.clone()));
        }
        self.inner.wake.notify_all();
    }
}

impl Inner {
    fn lock_queue(&self) -> MutexGuard<'_, Queue> {
        // The queue holds only tickets and entries; it is consistent
        // whatever a panicking holder was doing.
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends one batch and answers every ticket in it.
    fn commit(&self, batch: Vec<(u64, Vec<u8>)>) -> Vec<(u64, Outcome)> {
        let (tickets, entries): (Vec<u64>, Vec<Vec<u8>>) = batch.into_iter().unzip();
        let result = (|| -> Result<Vec<Appended>, LedgerError> {
            let mut store = self.store.lock().map_err(lock_poisoned)?;
            let receipt = store.append(&entries)?;
            (receipt.first_index..receipt.first_index + entries.len() as u64)
                .map(|index| {
                    Ok(Appended {
                        index,
                        size: receipt.size,
                        checkpoint: receipt.checkpoint.clone(),
                        inclusion_proof: store.inclusion_proof(index, receipt.size)?,
                    })
                })
                .collect()
        })();
        match result {
            Ok(appended) => tickets.into_iter().zip(appended.into_iter().map(Ok)).collect(),
            Err(e) => {
                let e = Arc::new(e);
                tickets.into_iter().map(|t| (t, Err(e.clone()))).collect()
            }
        }
    }
}

impl SharedLedger {
    /// Shares `store` between threads.
    pub fn new(store: Box<dyn LedgerStore>) -> Self {
        let signer = NoteSigner::parse(&store.signer().to_skey()).map_err(|e| e.to_string());
        Self {
            inner: Arc::new(Inner {
                store: Mutex::new(store),
                queue: Mutex::new(Queue::default()),
                wake: Condvar::new(),
                signer,
            }),
        }
    }

    /// The log's key (decision records are signed with it).
    pub fn signer(&self) -> Result<&NoteSigner, LedgerError> {
        self.inner
            .signer
            .as_ref()
            .map_err(|e| LedgerError::Corrupt(format!("the ledger key: {e}")))
    }

    /// The log's verifier key.
    pub fn verifier(&self) -> Result<NoteVerifier, LedgerError> {
        Ok(self.signer()?.verifier())
    }

    /// The bytes the log first allowed for this package file, from the
    /// backend's index (waits for a batch in flight, never scans).
    pub fn release_pin(&self, purl: &str, file: &str) -> Result<Option<super::ReleasePin>, LedgerError> {
        self.with_store(|s| s.release_pin(purl, file))?
    }

    /// The newest `limit` releases of a package (its purl without a
    /// version) the log allowed, from the backend's release index (waits for
    /// a batch in flight, never scans).
    pub fn release_history(&self, package: &str, limit: usize) -> Result<Vec<super::ReleaseRow>, LedgerError> {
        self.with_store(|s| s.release_history(package, limit))?
    }

    /// Runs `f` with the store locked (reads; batch appends of its own).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut dyn LedgerStore) -> R) -> Result<R, LedgerError> {
        let mut store = self.inner.store.lock().map_err(lock_poisoned)?;
        Ok(f(store.as_mut()))
    }

    /// Appends one entry, sharing the batch (and its fsync or transaction)
    /// with every other caller queued meanwhile; returns only once the
    /// entry is durable and covered by a signed checkpoint. On error the
    /// entry is not acknowledged.
    pub fn append_one(&self, entry: Vec<u8>) -> Result<Appended, LedgerError> {
        if entry.len() > MAX_ENTRY_BYTES {
            // Refused alone, so it cannot fail the batch of others.
            return Err(LedgerError::EntryTooLarge(entry.len()));
        }
        let inner = &*self.inner;
        let mut q = inner.lock_queue();
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.pending.push((ticket, entry));
        loop {
            if let Some(outcome) = q.done.remove(&ticket) {
                return outcome.map_err(|e| Arc::try_unwrap(e).unwrap_or_else(LedgerError::Shared));
            }
            if !q.leader && !q.pending.is_empty() {
                q.leader = true;
                let take = q.pending.len().min(MAX_GROUP);
                let batch: Vec<(u64, Vec<u8>)> = q.pending.drain(..take).collect();
                drop(q);
                let mut guard = LeaderGuard {
                    inner,
                    tickets: batch.iter().map(|(t, _)| *t).collect(),
                    armed: true,
                };
                let outcomes = inner.commit(batch);
                guard.armed = false;
                q = inner.lock_queue();
                q.leader = false;
                q.done.extend(outcomes);
                inner.wake.notify_all();
                continue;
            }
            q = inner.wake.wait(q).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}
