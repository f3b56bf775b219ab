//! The tree against published vectors: RFC 6962 roots and proofs computed
//! from the RFC's definitions, and transparency-dev/merkle's mutation cases.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use base64::Engine as _;
use std::path::{Path, PathBuf};
use ward_ledger::{Hash, MerkleTree, leaf_hash, verify_consistency, verify_inclusion};

fn tlog() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/tlog")
}

fn hex32(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

#[test]
fn rfc6962_roots_and_proofs_are_reproduced_exactly() {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tlog().join("rfc6962-vectors.json")).unwrap()).unwrap();
    let leaves: Vec<Vec<u8>> = v["leaves_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| hex::decode(l.as_str().unwrap()).unwrap())
        .collect();
    let tree = MerkleTree::from_leaves(leaves.iter().map(|l| leaf_hash(l)));
    for (size, root) in v["roots"].as_object().unwrap() {
        assert_eq!(
            hex::encode(tree.root_at(size.parse().unwrap()).unwrap()),
            root.as_str().unwrap(),
            "root of size {size}"
        );
    }
    let mut n = 0;
    for case in v["inclusion"].as_array().unwrap() {
        let (size, index) = (
            case["tree_size"].as_u64().unwrap(),
            case["leaf_index"].as_u64().unwrap(),
        );
        let want: Vec<Hash> = case["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex32(h.as_str().unwrap()))
            .collect();
        assert_eq!(
            tree.inclusion_proof(index, size).unwrap(),
            want,
            "inclusion {index} in {size}"
        );
        verify_inclusion(
            &hex32(case["leaf_hash"].as_str().unwrap()),
            index,
            size,
            &want,
            &tree.root_at(size).unwrap(),
        )
        .unwrap();
        n += 1;
    }
    for case in v["consistency"].as_array().unwrap() {
        let (old, new) = (case["old_size"].as_u64().unwrap(), case["new_size"].as_u64().unwrap());
        let want: Vec<Hash> = case["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex32(h.as_str().unwrap()))
            .collect();
        assert_eq!(
            tree.consistency_proof(old, new).unwrap(),
            want,
            "consistency {old} -> {new}"
        );
        verify_consistency(
            old,
            new,
            &want,
            &tree.root_at(old).unwrap(),
            &tree.root_at(new).unwrap(),
        )
        .unwrap();
        n += 1;
    }
    assert_eq!(n, 770);
}

/// A hash from the vectors; anything that is not 32 bytes of base64 cannot
/// be a SHA-256 hash and is rejected as a parser would (`Err`).
fn b64(v: &serde_json::Value) -> Result<Hash, ()> {
    let s = v.as_str().unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok();
    bytes.and_then(|b| Hash::try_from(b).ok()).ok_or(())
}

/// Some cases use "don't care" roots that are not hashes; what matters is
/// whether they are equal. A stand-in keeps exactly that: equal text, equal
/// stand-in.
fn root_or_stand_in(v: &serde_json::Value) -> Hash {
    use sha2::Digest;
    b64(v).unwrap_or_else(|()| sha2::Sha256::digest(v.to_string()).into())
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, serde_json::Value)>) {
    for f in std::fs::read_dir(dir).unwrap().flatten() {
        if f.path().is_dir() {
            walk(&f.path(), out);
        } else {
            out.push((
                f.path(),
                serde_json::from_slice(&std::fs::read(f.path()).unwrap()).unwrap(),
            ));
        }
    }
}

fn cases(dir: &str) -> Vec<(PathBuf, serde_json::Value)> {
    let mut out = Vec::new();
    walk(&tlog().join(dir), &mut out);
    assert!(out.len() > 20);
    out
}

fn proof_of(v: &serde_json::Value) -> Result<Vec<Hash>, ()> {
    v.as_array()
        .map(|a| a.iter().map(b64).collect())
        .unwrap_or(Ok(Vec::new()))
}

#[test]
fn transparency_dev_inclusion_cases_accept_and_reject_as_expected() {
    for (path, c) in cases("merkle-inclusion") {
        let parsed = (b64(&c["leafHash"]), proof_of(&c["proof"]), b64(&c["root"]));
        let rejected = match parsed {
            (Ok(leaf), Ok(proof), Ok(root)) => verify_inclusion(
                &leaf,
                c["leafIdx"].as_u64().unwrap(),
                c["treeSize"].as_u64().unwrap(),
                &proof,
                &root,
            )
            .is_err(),
            _ => true,
        };
        assert_eq!(rejected, c["wantErr"].as_bool().unwrap(), "{}", path.display());
    }
}

#[test]
fn transparency_dev_consistency_cases_accept_and_reject_as_expected() {
    for (path, c) in cases("merkle-consistency") {
        let (size1, size2) = (c["size1"].as_u64().unwrap(), c["size2"].as_u64().unwrap());
        let rejected = match proof_of(&c["proof"]) {
            Ok(proof) => verify_consistency(
                size1,
                size2,
                &proof,
                &root_or_stand_in(&c["root1"]),
                &root_or_stand_in(&c["root2"]),
            )
            .is_err(),
            Err(()) => true,
        };
        assert_eq!(rejected, c["wantErr"].as_bool().unwrap(), "{}", path.display());
    }
}

#[test]
fn every_proof_verifies_against_every_later_size() {
    // Property over all trees up to 70 leaves: inclusion of each leaf in each
    // later size, consistency between every pair of sizes, and rejection of
    // a proof with one bit flipped.
    let leaves: Vec<Hash> = (0..70u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let tree = MerkleTree::from_leaves(leaves.iter().copied());
    for size in 1..=70u64 {
        let root = tree.root_at(size).unwrap();
        for index in 0..size {
            let proof = tree.inclusion_proof(index, size).unwrap();
            verify_inclusion(&leaves[usize::try_from(index).unwrap()], index, size, &proof, &root).unwrap();
            if let Some(first) = proof.first() {
                let mut bad = proof.clone();
                bad[0] = {
                    let mut f = *first;
                    f[0] ^= 1;
                    f
                };
                assert!(verify_inclusion(&leaves[usize::try_from(index).unwrap()], index, size, &bad, &root).is_err());
            }
        }
        for old in 1..=size {
            let proof = tree.consistency_proof(old, size).unwrap();
            verify_consistency(old, size, &proof, &tree.root_at(old).unwrap(), &root).unwrap();
            if old > 0 && old < size {
                assert!(
                    verify_consistency(old, size, &proof[..proof.len() - 1], &tree.root_at(old).unwrap(), &root)
                        .is_err(),
                    "short proof accepted"
                );
            }
        }
    }
    let mut shrunk = tree.clone();
    shrunk.truncate(37);
    assert_eq!(shrunk.root(), tree.root_at(37).unwrap());
    shrunk.push(leaves[37]);
    assert_eq!(shrunk.root(), tree.root_at(38).unwrap());
    assert!(tree.inclusion_proof(70, 70).is_err());
    assert!(tree.consistency_proof(5, 4).is_err());
    assert!(tree.root_at(71).is_err());
}
