//! The Merkle tree in memory: every complete subtree's hash, by level.
//!
//! `levels[h][i]` is the hash of the complete subtree over leaves
//! `[i·2^h, (i+1)·2^h)`. Appending is O(log n); the root of any earlier
//! size, inclusion proofs and consistency proofs (RFC 9162 §2.1.3–2.1.4)
//! need O(log n) lookups and at most O(log n) hashes for ragged right
//! edges. The same levels are the C2SP tiles (a tile of level L is a run of
//! `levels[8L]`). About 64 bytes of memory per entry.
//!
//! Proof generation is written here (no maintained crate generates RFC 6962
//! proofs over arbitrary sizes); verification is `sigstore-merkle`'s.

use crate::hash::{Hash, empty_root, node_hash, split_point};

/// Why a proof cannot be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// The index is not below the tree size.
    #[error("entry {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The requested index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The requested size is larger than the tree.
    #[error("tree size {requested} is larger than the log ({size})")]
    SizeOutOfRange {
        /// The requested size.
        requested: u64,
        /// The log's size.
        size: u64,
    },
    /// A consistency proof from a larger to a smaller size.
    #[error("no consistency proof from size {old} to the smaller size {new}")]
    Shrinking {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
}

/// An append-only Merkle tree.
#[derive(Clone, Debug, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree over these leaf hashes.
    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut t = Self::new();
        for l in leaves {
            t.push(l);
        }
        t
    }

    /// Shrinks the tree back to `size` leaves (undoing appends that were
    /// never acknowledged).
    pub fn truncate(&mut self, size: u64) {
        for (h, level) in self.levels.iter_mut().enumerate() {
            level.truncate((size >> h) as usize);
        }
        while self.levels.last().is_some_and(|l| l.is_empty()) && self.levels.len() > 1 {
            self.levels.pop();
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let n = self.levels[level].len();
            let parent = node_hash(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first().and_then(|l| l.get(index as usize)).copied()
    }

    /// The stored hashes at `level` from `start`, at most `count` (for tiles).
    pub fn level_range(&self, level: usize, start: u64, count: u64) -> &[Hash] {
        let Some(l) = self.levels.get(level) else { return &[] };
        let s = (start as usize).min(l.len());
        let e = (start.saturating_add(count) as usize).min(l.len());
        &l[s..e]
    }

    /// MTH over leaves `[start, end)`; `start` is aligned as the RFC's
    /// recursion guarantees.
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][(start >> level) as usize];
        }
        let k = split_point(n);
        node_hash(&self.subtree(start, start + k), &self.subtree(start + k, end))
    }

    /// The root of the tree at an earlier (or the current) size.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeError> {
        if size > self.size() {
            return Err(TreeError::SizeOutOfRange {
                requested: size,
                size: self.size(),
            });
        }
        Ok(if size == 0 { empty_root() } else { self.subtree(0, size) })
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.root_at(self.size()).unwrap_or_else(|_| empty_root())
    }

    /// The inclusion proof of leaf `index` in the tree of size `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        if size > self.size() {
            return Err(TreeError::SizeOutOfRange {
                requested: size,
                size: self.size(),
            });
        }
        if index >= size {
            return Err(TreeError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::new();
        let (mut m, mut start, mut end) = (index, 0, size);
        // PATH(m, D[start:end]) collects siblings from the top down; reversed at the end.
        while end - start > 1 {
            let k = split_point(end - start);
            if m < k {
                proof.push(self.subtree(start + k, end));
                end = start + k;
            } else {
                proof.push(self.subtree(start, start + k));
                start += k;
                m -= k;
            }
        }
        proof.reverse();
        Ok(proof)
    }

    /// The consistency proof between two sizes.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, TreeError> {
        if new > self.size() {
            return Err(TreeError::SizeOutOfRange {
                requested: new,
                size: self.size(),
            });
        }
        if old > new {
            return Err(TreeError::Shrinking { old, new });
        }
        if old == 0 || old == new {
            return Ok(Vec::new());
        }
        let mut proof = Vec::new();
        let (mut m, mut start, mut end, mut from_start) = (old, 0, new, true);
        // SUBPROOF(m, D[start:end], from_start), top down; reversed at the end.
        loop {
            let n = end - start;
            if m == n {
                if !from_start {
                    proof.push(self.subtree(start, end));
                }
                break;
            }
            let k = split_point(n);
            if m <= k {
                proof.push(self.subtree(start + k, end));
                end = start + k;
            } else {
                proof.push(self.subtree(start, start + k));
                start += k;
                m -= k;
                from_start = false;
            }
        }
        proof.reverse();
        Ok(proof)
    }
}
