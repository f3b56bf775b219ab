//! RFC 6962 hashing: leaves `SHA-256(0x00 || d)`, nodes `SHA-256(0x01 || l || r)`.

use sha2::Digest as _;

/// A node or leaf hash.
pub type Hash = [u8; 32];

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    sha2::Sha256::digest([]).into()
}

/// The hash of a leaf with these bytes.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = sha2::Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = sha2::Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly smaller than `n` (n ≥ 2).
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}
