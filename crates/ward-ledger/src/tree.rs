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
            // A length past `usize` is past any level's length: nothing to cut.
            if let Ok(keep) = usize::try_from(size >> h) {
                level.truncate(keep);
            }
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
        let index = usize::try_from(index).ok()?;
        self.levels.first().and_then(|l| l.get(index)).copied()
    }

    /// The stored hashes at `level` from `start`, at most `count` (for tiles).
    pub fn level_range(&self, level: usize, start: u64, count: u64) -> &[Hash] {
        let Some(l) = self.levels.get(level) else { return &[] };
        // Clamped to the level, as before: a bound past `usize` is past its end.
        let clamp = |n: u64| usize::try_from(n).map_or(l.len(), |n| n.min(l.len()));
        let s = clamp(start);
        let e = clamp(start.saturating_add(count));
        &l[s..e]
    }

    /// The root of the tree at an earlier (or the current) size.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeError> {
        root_at(&mut InMemory(self), size)
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.root_at(self.size()).unwrap_or_else(|_| empty_root())
    }

    /// The inclusion proof of leaf `index` in the tree of size `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        inclusion_proof(&mut InMemory(self), index, size)
    }

    /// The consistency proof between two sizes.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, TreeError> {
        consistency_proof(&mut InMemory(self), old, new)
    }
}

/// Where the hashes of complete subtrees come from: memory, files, a
/// database. Proofs and roots are computed over any of them with the
/// functions below, reading O(log n) nodes.
pub trait NodeSource {
    /// The error a read can fail with.
    type Error: From<TreeError>;
    /// The number of leaves.
    fn tree_size(&self) -> u64;
    /// The hash of the complete subtree over leaves
    /// `[index·2^level, (index+1)·2^level)`, which lies inside the tree.
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

struct InMemory<'a>(&'a MerkleTree);

impl NodeSource for InMemory<'_> {
    type Error = TreeError;

    fn tree_size(&self) -> u64 {
        self.0.size()
    }

    fn node(&mut self, level: u32, index: u64) -> Result<Hash, TreeError> {
        self.0
            .levels
            .get(level as usize)
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(TreeError::IndexOutOfRange {
                index: index << level,
                size: self.0.size(),
            })
    }
}

/// MTH over leaves `[start, end)`; `start` is aligned as the RFC's
/// recursion guarantees.
fn subtree<S: NodeSource>(s: &mut S, start: u64, end: u64) -> Result<Hash, S::Error> {
    let n = end - start;
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let level = n.trailing_zeros();
        return s.node(level, start >> level);
    }
    let k = split_point(n);
    let left = subtree(s, start, start + k)?;
    let right = subtree(s, start + k, end)?;
    Ok(node_hash(&left, &right))
}

fn check_size<S: NodeSource>(s: &S, size: u64) -> Result<(), TreeError> {
    if size > s.tree_size() {
        return Err(TreeError::SizeOutOfRange {
            requested: size,
            size: s.tree_size(),
        });
    }
    Ok(())
}

/// The root of the tree of `size` leaves (at most the source's size).
pub fn root_at<S: NodeSource>(s: &mut S, size: u64) -> Result<Hash, S::Error> {
    check_size(s, size)?;
    if size == 0 {
        return Ok(empty_root());
    }
    subtree(s, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves
/// (RFC 9162 §2.1.3.1), leaf to root.
pub fn inclusion_proof<S: NodeSource>(s: &mut S, index: u64, size: u64) -> Result<Vec<Hash>, S::Error> {
    check_size(s, size)?;
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size }.into());
    }
    let mut proof = Vec::new();
    let (mut m, mut start, mut end) = (index, 0, size);
    // PATH(m, D[start:end]) collects siblings from the top down; reversed at the end.
    while end - start > 1 {
        let k = split_point(end - start);
        if m < k {
            proof.push(subtree(s, start + k, end)?);
            end = start + k;
        } else {
            proof.push(subtree(s, start, start + k)?);
            start += k;
            m -= k;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The consistency proof from `old` to `new` leaves (RFC 9162 §2.1.4.1).
pub fn consistency_proof<S: NodeSource>(s: &mut S, old: u64, new: u64) -> Result<Vec<Hash>, S::Error> {
    check_size(s, new)?;
    if old > new {
        return Err(TreeError::Shrinking { old, new }.into());
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
                proof.push(subtree(s, start, end)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            proof.push(subtree(s, start + k, end)?);
            end = start + k;
        } else {
            proof.push(subtree(s, start, start + k)?);
            start += k;
            m -= k;
            from_start = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The right edge of a tree (its compact range from 0): the hash of each
/// complete subtree whose sizes add up to the tree size, largest first.
/// That is all an append and the root need: O(log n) hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of a tree of `size` leaves, reading its O(log n)
    /// complete subtrees from `node(level, index)`.
    pub fn load<E>(size: u64, mut node: impl FnMut(u32, u64) -> Result<Hash, E>) -> Result<Self, E> {
        let mut hashes = Vec::new();
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if size & (1 << level) != 0 {
                hashes.push(node(level, start >> level)?);
                start += 1 << level;
            }
        }
        Ok(Self { size, hashes })
    }

    /// The coordinates `(level, index)` of the frontier's subtrees of a
    /// tree of `size` leaves, largest first.
    pub fn coordinates(size: u64) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if size & (1 << level) != 0 {
                out.push((level, start >> level));
                start += 1 << level;
            }
        }
        out
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree's root.
    pub fn root(&self) -> Hash {
        let mut it = self.hashes.iter().rev();
        let Some(last) = it.next() else { return empty_root() };
        it.fold(*last, |acc, left| node_hash(left, &acc))
    }

    /// Appends a leaf; the complete subtrees it completes (levels 1, 2, …)
    /// are pushed onto `created`, in the order of [`interior_slot`].
    pub fn push(&mut self, leaf: Hash, created: &mut Vec<Hash>) {
        let mut cur = leaf;
        let mut level = 0;
        while self.size & (1 << level) != 0 {
            let Some(left) = self.hashes.pop() else { break };
            cur = node_hash(&left, &cur);
            created.push(cur);
            level += 1;
        }
        self.hashes.push(cur);
        self.size += 1;
    }
}

/// The interior nodes `(level, index)` that leaf `j` completes, in the
/// order [`Frontier::push`] returns them.
pub fn completed_by(j: u64) -> impl Iterator<Item = (u32, u64)> {
    (1..=j.trailing_ones()).map(move |level| (level, j >> level))
}

/// Interior nodes (level ≥ 1) of a tree of `size` leaves: `size - popcount(size)`.
pub fn interior_count(size: u64) -> u64 {
    size - u64::from(size.count_ones())
}

/// Where interior node `(level ≥ 1, index)` sits among the interior nodes
/// in the order an append-only tree completes them (post-order, as in a
/// Merkle mountain range): after its last leaf `j`, `j - popcount(j)`
/// interior nodes exist, and it is the `level`-th completed by `j`.
pub fn interior_slot(level: u32, index: u64) -> u64 {
    debug_assert!(level >= 1);
    let j = ((index + 1) << level) - 1;
    j - u64::from(j.count_ones()) + u64::from(level) - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn the_frontier_and_interior_slots_match_the_full_tree() {
        let mut tree = MerkleTree::new();
        let mut frontier = Frontier::new();
        let mut interior = Vec::new();
        for i in 0..1100u64 {
            let leaf = leaf_hash(&i.to_be_bytes());
            tree.push(leaf);
            frontier.push(leaf, &mut interior);
            let size = i + 1;
            assert_eq!(frontier.root(), tree.root(), "size {size}");
            assert_eq!(interior.len() as u64, interior_count(size));
            let loaded = Frontier::load(size, |l, k| InMemory(&tree).node(l, k)).unwrap();
            assert_eq!(loaded, frontier);
        }
        for (level, nodes) in tree.levels.iter().enumerate().skip(1) {
            for (k, h) in nodes.iter().enumerate() {
                assert_eq!(
                    interior[usize::try_from(interior_slot(u32::try_from(level).unwrap(), k as u64)).unwrap()],
                    *h,
                    "({level}, {k})"
                );
            }
        }
        let order: Vec<(u32, u64)> = (0..1100u64).flat_map(completed_by).collect();
        for (slot, &(level, k)) in order.iter().enumerate() {
            assert_eq!(interior_slot(level, k), slot as u64);
        }
    }
}
