//! The audit view of root rotations: for one root version, its thresholds,
//! which keys signed it, and which keys it added or removed compared with
//! the version before it.
//!
//! Keys are compared by their decoded public key material (the point or
//! key bytes after PEM or hex decoding, and the signature scheme), never by
//! key ID or encoding: a key that only changed its encoding (hex to PEM, a
//! new `keytype` spelling, an added annotation, so a new key ID) is a
//! *re-encoding*, not a rotation.

use crate::TufError;
use crate::keys::PublicKey;
use crate::metadata::{self, Envelope, Root};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One key as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRef {
    /// The key ID in this root.
    pub keyid: String,
    /// The owner annotation (`x-tuf-on-ci-keyowner`), or the online key's URI, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The top-level roles this key serves in this root.
    pub roles: Vec<String>,
}

/// A key present before and after: under another key ID (a re-encoding), or
/// serving other roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reencoded {
    /// The key as the previous root listed it.
    pub before: KeyRef,
    /// The same key material as this root lists it.
    pub after: KeyRef,
}

/// One top-level role's threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleThreshold {
    /// The role.
    pub role: String,
    /// Signatures needed.
    pub threshold: u64,
    /// Keys listed for it.
    pub keys: usize,
}

/// What one root version is and how it differs from the one before.
#[derive(Debug, Clone, Serialize)]
pub struct RootChange {
    /// The root's version.
    pub version: u64,
    /// When it expires.
    #[serde(with = "rfc3339")]
    pub expires: jiff::Timestamp,
    /// Thresholds of the four top-level roles.
    pub thresholds: Vec<RoleThreshold>,
    /// Distinct keys (of this root or of the previous one) whose signature
    /// over this root verifies.
    pub signed_by: Vec<KeyRef>,
    /// Key material new in this root.
    pub added: Vec<KeyRef>,
    /// Key material the previous root had and this one does not.
    pub removed: Vec<KeyRef>,
    /// The same key material under another key ID (new encoding or annotations).
    pub reencoded: Vec<Reencoded>,
    /// Keys whose roles changed (same material, other roles): before, after.
    pub role_changes: Vec<Reencoded>,
}

impl RootChange {
    /// Whether the root role's own key material changed (a key added to or
    /// removed from the root role).
    pub fn root_keys_changed(&self) -> bool {
        let root = |k: &KeyRef| k.roles.iter().any(|r| r == "root");
        self.added.iter().any(root) || self.removed.iter().any(root)
    }
}

/// A key's material for comparison: decoded when the client can decode it,
/// else its type, scheme and public value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    Decoded(PublicKey),
    Raw(String),
}

struct Parsed {
    env: Envelope<Root>,
    /// Key ID → (material, owner).
    keys: BTreeMap<String, (Material, Option<String>)>,
}

fn parse(data: &[u8]) -> Result<Parsed, TufError> {
    let env: Envelope<Root> = metadata::parse(data, "root")?;
    let value: Value = serde_json::from_slice(data).map_err(|e| TufError::format("root", e.to_string()))?;
    let mut keys = BTreeMap::new();
    if let Some(map) = value.pointer("/signed/keys").and_then(Value::as_object) {
        for (id, key) in map {
            let material = match PublicKey::from_json(key) {
                Ok(k) => Material::Decoded(k),
                Err(_) => Material::Raw(format!(
                    "{}:{}:{}",
                    key.get("keytype").and_then(Value::as_str).unwrap_or_default(),
                    key.get("scheme").and_then(Value::as_str).unwrap_or_default(),
                    key.pointer("/keyval/public")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                )),
            };
            let owner = ["x-tuf-on-ci-keyowner", "x-tuf-on-ci-online-uri"]
                .iter()
                .find_map(|f| key.get(*f).and_then(Value::as_str))
                .map(str::to_string);
            keys.insert(id.clone(), (material, owner));
        }
    }
    Ok(Parsed { env, keys })
}

impl Parsed {
    fn key_ref(&self, id: &str) -> KeyRef {
        let roles = self
            .env
            .body
            .roles
            .iter()
            .filter(|(_, r)| r.keyids.iter().any(|k| k == id))
            .map(|(name, _)| name.clone())
            .collect();
        KeyRef {
            keyid: id.to_string(),
            owner: self.keys.get(id).and_then(|(_, o)| o.clone()),
            roles,
        }
    }

    /// Key IDs that serve at least one role (keys listed but unused do not count).
    fn used(&self) -> Vec<&String> {
        self.keys
            .keys()
            .filter(|id| self.env.body.roles.values().any(|r| r.keyids.contains(id)))
            .collect()
    }

    fn find(&self, material: &Material) -> Option<&String> {
        self.used()
            .into_iter()
            .find(|id| self.keys.get(*id).map(|(m, _)| m) == Some(material))
    }
}

/// Describes root `data`, compared with `previous` (the root before it, or
/// `None` for the first root ward trusted). Signatures are checked against
/// both roots' keys, as a rotation must be signed by both.
pub fn describe(previous: Option<&[u8]>, data: &[u8]) -> Result<RootChange, TufError> {
    let new = parse(data)?;
    let old = previous.map(parse).transpose()?;

    let mut signed_by: Vec<(KeyRef, PublicKey)> = Vec::new();
    for (keyid, sig) in &new.env.signatures {
        let candidates = [
            new.env.body.keys.get(keyid).map(|k| (k, &new)),
            old.as_ref().and_then(|o| o.env.body.keys.get(keyid).map(|k| (k, o))),
        ];
        for (key, root) in candidates.into_iter().flatten() {
            let Some(key) = key else { continue };
            if key.verify(&new.env.canonical, sig) {
                if !signed_by.iter().any(|(_, k)| k == key) {
                    signed_by.push((root.key_ref(keyid), key.clone()));
                }
                break;
            }
        }
    }

    let (mut added, mut removed, mut reencoded, mut role_changes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if let Some(old) = &old {
        for id in new.used() {
            let Some((material, _)) = new.keys.get(id) else {
                continue;
            };
            match old.find(material) {
                None => added.push(new.key_ref(id)),
                Some(old_id) => {
                    let (before, after) = (old.key_ref(old_id), new.key_ref(id));
                    if old_id != id {
                        reencoded.push(Reencoded {
                            before: before.clone(),
                            after: after.clone(),
                        });
                    }
                    if before.roles != after.roles {
                        role_changes.push(Reencoded { before, after });
                    }
                }
            }
        }
        for id in old.used() {
            let Some((material, _)) = old.keys.get(id) else {
                continue;
            };
            if new.find(material).is_none() {
                removed.push(old.key_ref(id));
            }
        }
    }

    Ok(RootChange {
        version: new.env.version,
        expires: new.env.expires,
        thresholds: new
            .env
            .body
            .roles
            .iter()
            .map(|(role, r)| RoleThreshold {
                role: role.clone(),
                threshold: r.threshold,
                keys: r.keyids.len(),
            })
            .collect(),
        signed_by: signed_by.into_iter().map(|(r, _)| r).collect(),
        added,
        removed,
        reencoded,
        role_changes,
    })
}

/// Timestamps as RFC 3339 text in JSON (jiff's own serde support is not
/// enabled in this workspace).
pub(crate) mod rfc3339 {
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(t: &jiff::Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(t)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<jiff::Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
