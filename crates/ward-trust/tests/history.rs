//! The audit view over Sigstore's real root history
//! (`../shared/testdata/sigstore-tuf-repo/metadata/root_history/1..15`):
//! the real root key changes (v4, v13) are reported as added and removed
//! keys, the re-encodings (v5 hex to PEM, v9 a new `keytype` spelling, v10
//! owner annotations) as the same keys under new key IDs.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use ward_trust::history::{RootChange, describe};

fn root(n: u64) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../../shared/testdata/sigstore-tuf-repo/metadata/root_history/{n}.root.json"
    )))
    .unwrap()
}

fn walk() -> Vec<RootChange> {
    let mut out = vec![describe(None, &root(1)).unwrap()];
    for n in 2..=15 {
        out.push(describe(Some(&root(n - 1)), &root(n)).unwrap());
    }
    out
}

fn root_role(keys: &[ward_trust::history::KeyRef]) -> Vec<&str> {
    keys.iter()
        .filter(|k| k.roles.iter().any(|r| r == "root"))
        .map(|k| &k.keyid[..8])
        .collect()
}

#[test]
fn real_root_key_changes_are_told_apart_from_re_encodings() {
    let log = walk();
    for (i, c) in log.iter().enumerate() {
        assert_eq!(c.version, i as u64 + 1);
    }
    let changed: Vec<u64> = log
        .iter()
        .filter(|c| c.root_keys_changed())
        .map(|c| c.version)
        .collect();
    assert_eq!(changed, [4, 13], "root key changes");

    // v4: bdde902f replaced by 75e867ab; v13: @dlorenc's key by @lance's.
    assert_eq!(root_role(&log[3].added), ["75e867ab"]);
    assert_eq!(root_role(&log[3].removed), ["bdde902f"]);
    assert!(log[3].reencoded.is_empty());
    assert_eq!(root_role(&log[12].added), ["183e64f3"]);
    assert_eq!(log[12].added[0].owner.as_deref(), Some("@lance"));
    assert_eq!(root_role(&log[12].removed), ["6f260089"]);
    assert_eq!(log[12].removed[0].owner.as_deref(), Some("@dlorenc"));

    // v5, v9, v10: every root key kept its material under a new key ID.
    for v in [5usize, 9, 10] {
        let c = &log[v - 1];
        let reencoded_root = c
            .reencoded
            .iter()
            .filter(|r| r.after.roles.iter().any(|x| x == "root"))
            .count();
        assert_eq!(reencoded_root, 5, "v{v}: {c:?}");
        assert!(!c.root_keys_changed(), "v{v}");
        for r in &c.reencoded {
            assert_ne!(r.before.keyid, r.after.keyid);
        }
    }
    // Versions that only re-signed change nothing.
    for v in [3usize, 6, 7, 8, 14, 15] {
        let c = &log[v - 1];
        assert!(
            c.added.is_empty() && c.removed.is_empty() && c.reencoded.is_empty(),
            "v{v}: {c:?}"
        );
    }
    // The online keys did rotate at v2 (new timestamp and snapshot keys)
    // and v5; v10 dropped the separate snapshot key.
    assert_eq!(log[1].added.len(), 2);
    assert_eq!(log[4].added.len(), 2);
    assert_eq!(log[4].removed.len(), 2);
    assert_eq!(log[9].removed.len(), 1);
    assert_eq!(log[9].removed[0].roles, ["snapshot"]);
}

#[test]
fn thresholds_signers_and_expiry_are_reported() {
    let log = walk();
    let v1 = &log[0];
    assert_eq!(v1.expires.to_string(), "2021-12-18T19:28:12.99008Z");
    assert!(v1.thresholds.iter().all(|t| t.threshold == 3 && t.keys == 5));
    assert_eq!(v1.signed_by.len(), 5);
    let v2 = &log[1];
    let ts = v2.thresholds.iter().find(|t| t.role == "timestamp").unwrap();
    assert_eq!((ts.threshold, ts.keys), (1, 1));
    // Every root is signed by at least the root threshold.
    for c in &log {
        assert!(c.signed_by.len() >= 3, "v{}: {:?}", c.version, c.signed_by);
    }
    // v4 is signed by keys of v3 (the removed key among them is allowed).
    assert!(log[3].signed_by.iter().all(|k| !k.roles.is_empty()));
}

#[test]
fn a_tampered_root_has_no_valid_signer() {
    let mut data = root(5);
    let at = data.windows(7).position(|w| w == b"expires").unwrap();
    data[at + 12] ^= 1;
    // Still JSON, but the signatures no longer cover it: nobody "signed" it.
    let c = describe(Some(&root(4)), &data).unwrap();
    assert!(c.signed_by.is_empty());
}
