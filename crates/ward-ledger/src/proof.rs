//! Verifying inclusion and consistency proofs, with `sigstore-merkle`
//! (the Sigstore project's RFC 6962 verifier).

use crate::hash::Hash;
use sigstore_verify::types::Sha256Hash;

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProofError(pub String);

fn h(x: &Hash) -> Sha256Hash {
    Sha256Hash::new(*x)
}

/// Verifies that `leaf` is at `index` in the tree of `size` with `root`.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), ProofError> {
    let proof: Vec<Sha256Hash> = proof.iter().map(h).collect();
    sigstore_merkle::verify_inclusion_proof(&h(leaf), index, size, &proof, &h(root))
        .map_err(|e| ProofError(e.to_string()))
}

/// Verifies that the tree of `new_size` with `new_root` extends the tree of
/// `old_size` with `old_root`.
///
/// As in RFC 9162 (proofs exist for `0 < old < new`) and transparency-dev's
/// verifier, a "proof" from the empty tree to a non-empty one is refused:
/// it would prove nothing, and a caller that relies on it has a bug (the
/// same holds from the empty tree to itself).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if old_size == 0 {
        return Err(ProofError(
            "a consistency proof from the empty tree proves nothing".into(),
        ));
    }
    let proof: Vec<Sha256Hash> = proof.iter().map(h).collect();
    sigstore_merkle::verify_consistency_proof(old_size, new_size, &proof, &h(old_root), &h(new_root))
        .map_err(|e| ProofError(e.to_string()))
}
