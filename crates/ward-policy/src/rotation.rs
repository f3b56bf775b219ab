//! Key rotation and revocation statements, and following a key through
//! its rotations.
//!
//! `ward keys rotate` writes a **rotation statement**: an in-toto Statement
//! v1 in a DSSE envelope (a bare envelope, JSON), predicate type
//! [`ROTATION_PREDICATE`], whose subjects are the old and the new public
//! key (SHA-256 of their DER SubjectPublicKeyInfo) and whose predicate is
//!
//! ```json
//! { "oldKey": { "fingerprint": "sha256:…", "rawBytes": "<base64 SPKI DER>" },
//!   "newKey": { "fingerprint": "sha256:…", "rawBytes": "<base64 SPKI DER>" },
//!   "rotatedAt": "2026-12-02T00:00:00Z",
//!   "oldKeyValidUntil": "2026-12-16T00:00:00Z",
//!   "reason": "scheduled rotation" }
//! ```
//!
//! signed by **both** keys: the old key hands over, the new key accepts.
//! A statement that does not verify under both is refused. `ward keys
//! revoke` writes a **revocation statement** ([`REVOCATION_PREDICATE`]: the
//! key, `revokedAt`, `reason`), signed by whichever keys the operator had
//! at hand, possibly none: a revocation only ever takes trust away, so it
//! is honoured whoever signed it (the policy file and the directory it
//! names are the operator's own).
//!
//! A policy key entry with `rotations = "DIR"` trusts the key and its
//! rotations: the chain of rotation statements in `DIR` that starts at the
//! key, each new key trusted from its rotation, each old key until the
//! rotation (or `oldKeyValidUntil`). Only signed statements are followed;
//! a fork (two rotations of one key) or a loop is an error, as is any
//! statement in the directory that fails to verify.

use crate::lifetime::{KeyLifetime, parse_time};
use jiff::Timestamp;
use serde::Deserialize;
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use ward_verify::PublicKey;
use ward_verify::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, decode_base64};

/// The predicate type of a rotation statement.
pub const ROTATION_PREDICATE: &str = "https://ward.invalid/attestation/key-rotation/v1";
/// The predicate type of a revocation statement.
pub const REVOCATION_PREDICATE: &str = "https://ward.invalid/attestation/key-revocation/v1";
/// At most this many statement files in a rotations directory.
pub const MAX_STATEMENTS: usize = 1000;
/// At most this many rotations followed from one key.
pub const MAX_CHAIN: usize = 256;

/// A verified rotation: `old` handed over to `new`, both signed.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// The key rotated away from.
    pub old: PublicKey,
    /// The key rotated to.
    pub new: PublicKey,
    /// When the new key takes over.
    pub rotated_at: Timestamp,
    /// Until when the old key's signatures still count (at least `rotated_at`).
    pub old_valid_until: Timestamp,
    /// Why, as written.
    pub reason: Option<String>,
    /// The file it came from.
    pub file: String,
}

/// A revocation: the key's signatures from `revoked_at` on never count.
#[derive(Clone, Debug)]
pub struct Revocation {
    /// The revoked key's `sha256:` fingerprint.
    pub fingerprint: String,
    /// From when.
    pub revoked_at: Timestamp,
    /// Why, as written.
    pub reason: Option<String>,
    /// The revoked key's fingerprint if the revoked key itself signed the
    /// statement (other signers are not identified); empty otherwise.
    pub signed_by: Vec<String>,
    /// The file it came from.
    pub file: String,
}

/// A statement read from a file: a rotation or a revocation.
#[derive(Clone, Debug)]
pub enum KeyStatement {
    /// A rotation.
    Rotation(Rotation),
    /// A revocation.
    Revocation(Revocation),
}

#[derive(Deserialize)]
struct RawStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<RawSubject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: serde_json::Value,
}

#[derive(Deserialize)]
struct RawSubject {
    #[serde(default)]
    digest: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    fingerprint: String,
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRotation {
    old_key: RawKey,
    new_key: RawKey,
    rotated_at: String,
    #[serde(default)]
    old_key_valid_until: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRevocation {
    key: RawKey,
    revoked_at: String,
    #[serde(default)]
    reason: Option<String>,
}

fn key(raw: &RawKey, what: &str) -> Result<PublicKey, String> {
    let der = decode_base64(&raw.raw_bytes).map_err(|e| format!("{what}: {e}"))?;
    let key = PublicKey::parse(&der, what.to_string()).map_err(|e| format!("{what}: {e}"))?;
    if key.fingerprint() != raw.fingerprint {
        return Err(format!(
            "{what}: the stated fingerprint {} is not the key's ({})",
            raw.fingerprint,
            key.fingerprint()
        ));
    }
    Ok(key)
}

fn spki_sha256(key: &PublicKey) -> String {
    hex::encode(sha2::Sha256::digest(key.der()))
}

impl KeyStatement {
    /// Parses and verifies a statement file's bytes (`file` names it in
    /// messages). A rotation must verify under both its keys.
    pub fn parse(bytes: &[u8], file: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("{file}: not a DSSE envelope (JSON): {e}"))?;
        let envelope = Envelope::from_value(&value).map_err(|e| format!("{file}: {e}"))?;
        if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(format!(
                "{file}: payload type {:?}, expected {IN_TOTO_PAYLOAD_TYPE}",
                envelope.payload_type
            ));
        }
        let statement: RawStatement = serde_json::from_slice(&envelope.payload)
            .map_err(|e| format!("{file}: the payload is not an in-toto statement: {e}"))?;
        if statement.statement_type != "https://in-toto.io/Statement/v1" {
            return Err(format!(
                "{file}: statement type {:?}, expected https://in-toto.io/Statement/v1",
                statement.statement_type
            ));
        }
        let subjects: Vec<&str> = statement
            .subject
            .iter()
            .filter_map(|s| s.digest.get("sha256").map(String::as_str))
            .collect();
        match statement.predicate_type.as_str() {
            ROTATION_PREDICATE => {
                let p: RawRotation = serde_json::from_value(statement.predicate)
                    .map_err(|e| format!("{file}: not a key rotation predicate: {e}"))?;
                let old = key(&p.old_key, "oldKey")?;
                let new = key(&p.new_key, "newKey")?;
                if old.fingerprint() == new.fingerprint() {
                    return Err(format!("{file}: the old and the new key are the same key"));
                }
                if subjects != [spki_sha256(&old), spki_sha256(&new)] {
                    return Err(format!(
                        "{file}: the statement's subjects are not the old and the new key"
                    ));
                }
                let rotated_at = parse_time(&p.rotated_at).map_err(|e| format!("{file}: rotatedAt {e}"))?;
                let old_valid_until = match &p.old_key_valid_until {
                    Some(t) => parse_time(t).map_err(|e| format!("{file}: oldKeyValidUntil {e}"))?,
                    None => rotated_at,
                };
                if old_valid_until < rotated_at {
                    return Err(format!(
                        "{file}: oldKeyValidUntil {old_valid_until} is before rotatedAt {rotated_at}"
                    ));
                }
                for (k, which) in [(&old, "old"), (&new, "new")] {
                    if envelope.verify(std::slice::from_ref(k)).is_err() {
                        return Err(format!(
                            "{file}: the rotation from {} to {} is not signed by the {which} key ({}); a rotation must be signed by both keys",
                            old.fingerprint(),
                            new.fingerprint(),
                            k.fingerprint()
                        ));
                    }
                }
                Ok(Self::Rotation(Rotation {
                    old,
                    new,
                    rotated_at,
                    old_valid_until,
                    reason: p.reason,
                    file: file.to_string(),
                }))
            }
            REVOCATION_PREDICATE => {
                let p: RawRevocation = serde_json::from_value(statement.predicate)
                    .map_err(|e| format!("{file}: not a key revocation predicate: {e}"))?;
                let revoked = key(&p.key, "key")?;
                if subjects != [spki_sha256(&revoked)] {
                    return Err(format!("{file}: the statement's subject is not the revoked key"));
                }
                let revoked_at = parse_time(&p.revoked_at).map_err(|e| format!("{file}: revokedAt {e}"))?;
                // Who signed is informative only: a revocation takes trust away.
                let signed_by = if envelope.signatures.is_empty() {
                    Vec::new()
                } else {
                    envelope.verify(std::slice::from_ref(&revoked)).unwrap_or_default()
                };
                Ok(Self::Revocation(Revocation {
                    fingerprint: revoked.fingerprint().to_string(),
                    revoked_at,
                    reason: p.reason,
                    signed_by,
                    file: file.to_string(),
                }))
            }
            other => Err(format!(
                "{file}: predicate type {other:?} is neither {ROTATION_PREDICATE} nor {REVOCATION_PREDICATE}"
            )),
        }
    }
}

/// The `*.json` files of a rotations directory, sorted by name (at most
/// [`MAX_STATEMENTS`], each at most `limit` bytes, regular files only).
pub(crate) fn statement_files(dir: &Path, limit: u64) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "json") {
            paths.push(path);
            if paths.len() > MAX_STATEMENTS {
                return Err(format!(
                    "{} holds more than {MAX_STATEMENTS} statement files",
                    dir.display()
                ));
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = ward_input::InputFile::new(&p, "key statement", limit)
                .read()
                .map_err(|e| format!("cannot read {e}"))?;
            Ok((p, bytes))
        })
        .collect()
}

/// Follows `start` through the rotation statements: the keys of the chain,
/// oldest first, each with the window the statements give it (the start
/// key's own bounds are the caller's to add) and every revocation of a key
/// in the chain applied.
pub fn follow(
    start: &PublicKey,
    statements: &[KeyStatement],
    line: usize,
) -> Result<Vec<(PublicKey, KeyLifetime)>, String> {
    let mut chain: Vec<(PublicKey, KeyLifetime)> = vec![(
        start.clone(),
        KeyLifetime::open(start.fingerprint().to_string(), format!("policy line {line}"), line),
    )];
    loop {
        let current = chain
            .last()
            .map(|(k, _)| k.fingerprint().to_string())
            .unwrap_or_default();
        let next: Vec<&Rotation> = statements
            .iter()
            .filter_map(|s| match s {
                KeyStatement::Rotation(r) if r.old.fingerprint() == current => Some(r),
                _ => None,
            })
            .collect();
        let r = match next.as_slice() {
            [] => break,
            [r] => *r,
            many => {
                let files: Vec<&str> = many.iter().map(|r| r.file.as_str()).collect();
                return Err(format!(
                    "key {current} is rotated to more than one key ({}): a rotation chain may not fork",
                    files.join(", ")
                ));
            }
        };
        if chain.iter().any(|(k, _)| k.fingerprint() == r.new.fingerprint()) {
            return Err(format!(
                "{}: the rotation to {} loops back to a key earlier in the chain",
                r.file,
                r.new.fingerprint()
            ));
        }
        if chain.len() > MAX_CHAIN {
            return Err(format!("more than {MAX_CHAIN} rotations from one key"));
        }
        if let Some((_, old)) = chain.last_mut() {
            old.until(r.old_valid_until);
            old.source = format!("{}; rotated to {} by {}", old.source, r.new.fingerprint(), r.file);
        }
        let mut lifetime = KeyLifetime::open(
            r.new.fingerprint().to_string(),
            format!("rotated from {} by {}", r.old.fingerprint(), r.file),
            line,
        );
        lifetime.from(r.rotated_at);
        chain.push((r.new.clone(), lifetime));
    }
    for s in statements {
        if let KeyStatement::Revocation(rev) = s
            && let Some((_, l)) = chain.iter_mut().find(|(k, _)| k.fingerprint() == rev.fingerprint)
        {
            l.revoke(rev.revoked_at);
            l.source = format!("{}; revoked by {}", l.source, rev.file);
        }
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three real public keys (the npm registry's two and Sigstore's Rekor key).
    fn keys() -> [PublicKey; 3] {
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sigstore-tuf-repo/targets");
        let npm: serde_json::Value =
            serde_json::from_slice(&std::fs::read(shared.join("registry.npmjs.org/keys.json")).unwrap()).unwrap();
        let raw = |i: usize| decode_base64(npm["keys"][i]["publicKey"]["rawBytes"].as_str().unwrap()).unwrap();
        [
            PublicKey::parse(&raw(0), "npm old").unwrap(),
            PublicKey::parse(&raw(2), "npm new").unwrap(),
            PublicKey::parse(&std::fs::read(shared.join("rekor.pub")).unwrap(), "rekor").unwrap(),
        ]
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn rotation(old: &PublicKey, new: &PublicKey, at: &str, until: &str, file: &str) -> KeyStatement {
        KeyStatement::Rotation(Rotation {
            old: old.clone(),
            new: new.clone(),
            rotated_at: t(at),
            old_valid_until: t(until),
            reason: None,
            file: file.into(),
        })
    }

    #[test]
    fn a_chain_gives_each_key_its_window_and_revocations_apply() {
        let [a, b, c] = keys();
        let statements = vec![
            // npm's own overlap: the new key from 01-13, the old until 01-29.
            rotation(&a, &b, "2025-01-13T00:00:00Z", "2025-01-29T00:00:00Z", "r1.json"),
            rotation(&b, &c, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "r2.json"),
            KeyStatement::Revocation(Revocation {
                fingerprint: b.fingerprint().to_string(),
                revoked_at: t("2025-06-01T00:00:00Z"),
                reason: None,
                signed_by: Vec::new(),
                file: "rev.json".into(),
            }),
        ];
        let chain = follow(&a, &statements, 3).unwrap();
        let fps: Vec<&str> = chain.iter().map(|(k, _)| k.fingerprint()).collect();
        assert_eq!(fps, [a.fingerprint(), b.fingerprint(), c.fingerprint()]);
        let (la, lb, lc) = (&chain[0].1, &chain[1].1, &chain[2].1);
        assert!(la.judge(Some(t("2025-01-20T00:00:00Z"))).is_ok(), "in the overlap");
        assert_eq!(
            la.judge(Some(t("2025-02-01T00:00:00Z"))).unwrap_err().0,
            ward_core::ReasonCode::KeyExpired
        );
        assert_eq!(
            lb.judge(Some(t("2025-01-12T00:00:00Z"))).unwrap_err().0,
            ward_core::ReasonCode::KeyNotYetValid
        );
        assert!(lb.judge(Some(t("2025-03-01T00:00:00Z"))).is_ok());
        assert_eq!(
            lb.judge(Some(t("2025-07-01T00:00:00Z"))).unwrap_err().0,
            ward_core::ReasonCode::KeyRevoked
        );
        assert!(lb.source.contains("rev.json"), "{}", lb.source);
        assert!(lc.judge(Some(t("2026-02-01T00:00:00Z"))).is_ok());
        assert!(lc.valid_until.is_none());
        // Starting further down the chain follows only what comes after.
        assert_eq!(follow(&b, &statements, 3).unwrap().len(), 2);
        // No statements: the key alone, unbounded.
        let alone = follow(&a, &[], 3).unwrap();
        assert_eq!(alone.len(), 1);
        assert!(!alone[0].1.is_bounded());
    }

    #[test]
    fn forks_and_loops_are_refused() {
        let [a, b, c] = keys();
        let fork = vec![
            rotation(&a, &b, "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "r1.json"),
            rotation(&a, &c, "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "r2.json"),
        ];
        assert!(follow(&a, &fork, 1).unwrap_err().contains("fork"));
        let cycle = vec![
            rotation(&a, &b, "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "r1.json"),
            rotation(&b, &a, "2025-02-01T00:00:00Z", "2025-02-01T00:00:00Z", "r2.json"),
        ];
        assert!(follow(&a, &cycle, 1).unwrap_err().contains("loops"));
    }

    #[test]
    fn garbage_is_refused_with_the_file_named() {
        for (bytes, says) in [
            (&b"not json"[..], "not a DSSE envelope"),
            (
                br#"{"payloadType":"text/plain","payload":"e30=","signatures":[]}"#,
                "payload type",
            ),
            (
                br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#,
                "not an in-toto statement",
            ),
        ] {
            let e = KeyStatement::parse(bytes, "x.json").unwrap_err();
            assert!(e.contains("x.json") && e.contains(says), "{e}");
        }
    }
}
