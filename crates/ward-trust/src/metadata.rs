//! TUF metadata: the signed envelope and the four kinds of `signed` body.
//!
//! Signatures are checked over the canonical JSON of the `signed`
//! object *as received* (a `serde_json::Value`, unknown fields and all),
//! never over a re-serialised struct, so fields this client does not know
//! still count (specification section 4). The typed bodies below are read
//! from that same value.

use crate::TufError;
use crate::keys::PublicKey;
use serde_json::{Map, Value};
use sha2::Digest as _;
use std::collections::BTreeMap;

/// The top-level role names; a delegated role may not use them.
pub const TOP_LEVEL_ROLES: [&str; 4] = ["root", "timestamp", "snapshot", "targets"];

/// One metadata file: its `signed` body, the canonical bytes signatures
/// cover, and the signatures by key ID.
#[derive(Debug, Clone)]
pub struct Envelope<T> {
    /// The typed body.
    pub body: T,
    /// Version of the metadata.
    pub version: u64,
    /// Expiry of the metadata.
    pub expires: jiff::Timestamp,
    /// Canonical JSON of the `signed` object as received.
    pub canonical: Vec<u8>,
    /// Signatures (hex) by key ID; key IDs are unique.
    pub signatures: BTreeMap<String, String>,
}

/// The key IDs and threshold a role must be signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleKeys {
    /// Key IDs allowed to sign (unique).
    pub keyids: Vec<String>,
    /// How many distinct keys must sign.
    pub threshold: u64,
}

/// Keys by key ID; a key this client cannot use is `None` (it cannot count
/// towards a threshold, but does not make the metadata invalid).
pub type KeyMap = BTreeMap<String, Option<PublicKey>>;

/// The root role's body.
#[derive(Debug, Clone)]
pub struct Root {
    /// Whether metadata and targets are served under versioned / hashed names.
    pub consistent_snapshot: bool,
    /// All keys of the top-level roles.
    pub keys: KeyMap,
    /// The four top-level roles.
    pub roles: BTreeMap<String, RoleKeys>,
}

/// A file's expected version, length and hashes, as listed in timestamp or snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaFile {
    /// The expected version.
    pub version: u64,
    /// The expected length, if given.
    pub length: Option<u64>,
    /// The expected digests by algorithm, if given.
    pub hashes: Option<BTreeMap<String, String>>,
}

/// The timestamp role's body.
#[derive(Debug, Clone)]
pub struct Timestamp {
    /// What snapshot.json must be.
    pub snapshot_meta: MetaFile,
}

/// The snapshot role's body.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Every targets role's metadata file (`NAME.json`) and its version.
    pub meta: BTreeMap<String, MetaFile>,
}

/// One target file: its length and digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFile {
    /// Exact length in bytes.
    pub length: u64,
    /// Digests by algorithm (at least one).
    pub hashes: BTreeMap<String, String>,
}

/// A delegation from a targets role to another.
#[derive(Debug, Clone)]
pub struct DelegatedRole {
    /// The delegated role's name.
    pub name: String,
    /// Its keys and threshold.
    pub keys: RoleKeys,
    /// Whether a search stops at this role when it matches.
    pub terminating: bool,
    /// Path patterns (`*` and `?` never match `/`) …
    pub paths: Option<Vec<String>>,
    /// … or SHA-256 hex prefixes of the target path.
    pub path_hash_prefixes: Option<Vec<String>>,
}

/// A targets role's delegations.
#[derive(Debug, Clone)]
pub struct Delegations {
    /// Keys of the delegated roles.
    pub keys: KeyMap,
    /// The delegated roles, in order of priority.
    pub roles: Vec<DelegatedRole>,
}

/// A targets role's body (top-level or delegated).
#[derive(Debug, Clone)]
pub struct Targets {
    /// Target files by target path.
    pub targets: BTreeMap<String, TargetFile>,
    /// Delegations, if any.
    pub delegations: Option<Delegations>,
}

/// A kind of `signed` body.
pub trait Body: Sized {
    /// The `_type` value.
    const TYPE: &'static str;
    /// Reads the body from the `signed` object.
    fn from_signed(signed: &Map<String, Value>, what: &str) -> Result<Self, TufError>;
}

/// Parses a metadata file of role `what` (the role name, for messages)
/// whose `_type` must be `T::TYPE`.
pub fn parse<T: Body>(data: &[u8], what: &str) -> Result<Envelope<T>, TufError> {
    let value: Value = serde_json::from_slice(data).map_err(|e| TufError::format(what, e.to_string()))?;
    let top = value
        .as_object()
        .ok_or_else(|| TufError::format(what, "not a JSON object"))?;
    let signed = top
        .get("signed")
        .and_then(Value::as_object)
        .ok_or_else(|| TufError::format(what, "no signed object"))?;
    let sig_list = top
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| TufError::format(what, "no signatures array"))?;
    let mut signatures = BTreeMap::new();
    for s in sig_list {
        let keyid = s.get("keyid").and_then(Value::as_str);
        let sig = s.get("sig").and_then(Value::as_str);
        let (Some(keyid), Some(sig)) = (keyid, sig) else {
            return Err(TufError::format(what, "signature without keyid or sig"));
        };
        // The specification: key IDs in the signatures array MUST be unique.
        if signatures.insert(keyid.to_string(), sig.to_string()).is_some() {
            return Err(TufError::format(what, format!("two signatures with key ID {keyid}")));
        }
    }
    let found = str_field(signed, "_type", what)?;
    if found != T::TYPE {
        return Err(TufError::WrongType {
            role: T::TYPE.to_string(),
            found: found.to_string(),
        });
    }
    let spec = str_field(signed, "spec_version", what)?;
    let parts: Vec<&str> = spec.split('.').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        || parts[0] != "1"
    {
        return Err(TufError::format(what, format!("unsupported spec_version {spec:?}")));
    }
    let version = positive(signed.get("version"), "version", what)?;
    let expires_text = str_field(signed, "expires", what)?;
    let expires: jiff::Timestamp = expires_text
        .parse()
        .map_err(|e| TufError::format(what, format!("expires {expires_text:?}: {e}")))?;
    let body = T::from_signed(signed, what)?;
    Ok(Envelope {
        body,
        version,
        expires,
        canonical: canonical(&Value::Object(signed.clone()), what)?,
        signatures,
    })
}

/// Canonical JSON, as securesystemslib's `encode_canonical` writes it.
fn canonical(v: &Value, what: &str) -> Result<Vec<u8>, TufError> {
    crate::canonical::canonical_json(v).map_err(|e| TufError::format(what, format!("no canonical form: {e}")))
}

impl<T> Envelope<T> {
    /// Checks that at least `role.threshold` distinct keys of `role` signed
    /// this metadata. A key that signed twice, or is listed under two key
    /// IDs, counts once; invalid signatures are ignored.
    pub fn verify(&self, role_name: &str, keys: &KeyMap, role: &RoleKeys) -> Result<(), TufError> {
        let mut signers: Vec<&PublicKey> = Vec::new();
        for keyid in &role.keyids {
            let (Some(Some(key)), Some(sig)) = (keys.get(keyid), self.signatures.get(keyid)) else {
                continue;
            };
            if !signers.contains(&key) && key.verify(&self.canonical, sig) {
                signers.push(key);
            }
        }
        if (signers.len() as u64) < role.threshold {
            return Err(TufError::Threshold {
                role: role_name.to_string(),
                valid: signers.len(),
                threshold: role.threshold,
            });
        }
        Ok(())
    }

    /// Refuses metadata that has expired at `now` (a freeze attack).
    pub fn check_expiry(&self, role: &str, now: jiff::Timestamp) -> Result<(), TufError> {
        if now >= self.expires {
            return Err(TufError::Expired {
                role: role.to_string(),
                expires: self.expires,
                now,
            });
        }
        Ok(())
    }
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a str, TufError> {
    obj.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| TufError::format(what, format!("{key} missing or not a string")))
}

fn positive(v: Option<&Value>, key: &str, what: &str) -> Result<u64, TufError> {
    match v.and_then(Value::as_u64) {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(TufError::format(
            what,
            format!("{key} missing or not a positive integer"),
        )),
    }
}

fn object<'a>(v: Option<&'a Value>, key: &str, what: &str) -> Result<&'a Map<String, Value>, TufError> {
    v.and_then(Value::as_object)
        .ok_or_else(|| TufError::format(what, format!("{key} missing or not an object")))
}

fn string_list(v: &Value, key: &str, what: &str) -> Result<Vec<String>, TufError> {
    let list = v
        .as_array()
        .ok_or_else(|| TufError::format(what, format!("{key} is not a list")))?;
    list.iter()
        .map(|s| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| TufError::format(what, format!("{key} holds a non-string")))
        })
        .collect()
}

fn keys(obj: &Map<String, Value>, what: &str) -> Result<KeyMap, TufError> {
    Ok(object(obj.get("keys"), "keys", what)?
        .iter()
        .map(|(id, k)| (id.clone(), PublicKey::from_json(k).ok()))
        .collect())
}

fn role_keys(obj: &Map<String, Value>, what: &str) -> Result<RoleKeys, TufError> {
    let keyids = string_list(obj.get("keyids").unwrap_or(&Value::Null), "keyids", what)?;
    let mut seen = std::collections::BTreeSet::new();
    if !keyids.iter().all(|k| seen.insert(k)) {
        return Err(TufError::format(what, "a role lists the same key ID twice"));
    }
    let threshold = positive(obj.get("threshold"), "threshold", what)?;
    Ok(RoleKeys { keyids, threshold })
}

fn hashes(v: Option<&Value>, what: &str) -> Result<Option<BTreeMap<String, String>>, TufError> {
    let Some(v) = v else { return Ok(None) };
    let obj = v
        .as_object()
        .ok_or_else(|| TufError::format(what, "hashes is not an object"))?;
    if obj.is_empty() {
        return Err(TufError::format(what, "hashes is empty"));
    }
    obj.iter()
        .map(|(alg, h)| {
            h.as_str()
                .map(|h| (alg.clone(), h.to_string()))
                .ok_or_else(|| TufError::format(what, "a hash is not a string"))
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

fn meta_file(v: &Value, what: &str) -> Result<MetaFile, TufError> {
    let obj = v
        .as_object()
        .ok_or_else(|| TufError::format(what, "meta entry is not an object"))?;
    let length = match obj.get("length") {
        None => None,
        Some(l) => Some(
            l.as_u64()
                .ok_or_else(|| TufError::format(what, "length is not a non-negative integer"))?,
        ),
    };
    Ok(MetaFile {
        version: positive(obj.get("version"), "meta version", what)?,
        length,
        hashes: hashes(obj.get("hashes"), what)?,
    })
}

impl Body for Root {
    const TYPE: &'static str = "root";
    fn from_signed(signed: &Map<String, Value>, what: &str) -> Result<Self, TufError> {
        let consistent_snapshot = match signed.get("consistent_snapshot") {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| TufError::format(what, "consistent_snapshot is not a boolean"))?,
        };
        let roles_obj = object(signed.get("roles"), "roles", what)?;
        let mut roles = BTreeMap::new();
        for (name, r) in roles_obj {
            let r = r
                .as_object()
                .ok_or_else(|| TufError::format(what, "a role is not an object"))?;
            roles.insert(name.clone(), role_keys(r, what)?);
        }
        if roles.len() != TOP_LEVEL_ROLES.len() || !TOP_LEVEL_ROLES.iter().all(|r| roles.contains_key(*r)) {
            return Err(TufError::format(
                what,
                "roles must be exactly root, timestamp, snapshot and targets",
            ));
        }
        Ok(Root {
            consistent_snapshot,
            keys: keys(signed, what)?,
            roles,
        })
    }
}

impl Root {
    /// The keys and threshold of a top-level role (always present: checked
    /// when parsing).
    pub fn role(&self, name: &str) -> RoleKeys {
        self.roles.get(name).cloned().unwrap_or(RoleKeys {
            keyids: Vec::new(),
            threshold: u64::MAX,
        })
    }

    /// The keys of a top-level role as a set of actual keys: two roots that
    /// only re-encode a key give the same set.
    pub fn role_key_set(&self, name: &str) -> (Vec<Option<PublicKey>>, u64) {
        let role = self.role(name);
        let keys = role
            .keyids
            .iter()
            .map(|id| self.keys.get(id).cloned().flatten())
            .collect();
        (keys, role.threshold)
    }
}

impl Body for Timestamp {
    const TYPE: &'static str = "timestamp";
    fn from_signed(signed: &Map<String, Value>, what: &str) -> Result<Self, TufError> {
        let meta = object(signed.get("meta"), "meta", what)?;
        let snapshot = meta
            .get("snapshot.json")
            .ok_or_else(|| TufError::format(what, "meta has no snapshot.json"))?;
        Ok(Timestamp {
            snapshot_meta: meta_file(snapshot, what)?,
        })
    }
}

impl Body for Snapshot {
    const TYPE: &'static str = "snapshot";
    fn from_signed(signed: &Map<String, Value>, what: &str) -> Result<Self, TufError> {
        let meta = object(signed.get("meta"), "meta", what)?
            .iter()
            .map(|(name, m)| Ok((name.clone(), meta_file(m, what)?)))
            .collect::<Result<_, TufError>>()?;
        Ok(Snapshot { meta })
    }
}

impl Body for Targets {
    const TYPE: &'static str = "targets";
    fn from_signed(signed: &Map<String, Value>, what: &str) -> Result<Self, TufError> {
        let mut targets = BTreeMap::new();
        for (path, t) in object(signed.get("targets"), "targets", what)? {
            let t = t
                .as_object()
                .ok_or_else(|| TufError::format(what, "a target is not an object"))?;
            let length = t
                .get("length")
                .and_then(Value::as_u64)
                .ok_or_else(|| TufError::format(what, format!("target {path:?} has no valid length")))?;
            let hashes = hashes(t.get("hashes"), what)?
                .ok_or_else(|| TufError::format(what, format!("target {path:?} has no hashes")))?;
            targets.insert(path.clone(), TargetFile { length, hashes });
        }
        let delegations = match signed.get("delegations") {
            None => None,
            Some(d) => Some(delegations(
                d.as_object()
                    .ok_or_else(|| TufError::format(what, "delegations is not an object"))?,
                what,
            )?),
        };
        Ok(Targets { targets, delegations })
    }
}

fn delegations(d: &Map<String, Value>, what: &str) -> Result<Delegations, TufError> {
    let keys = keys(d, what)?;
    let mut roles = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    match (d.get("roles"), d.get("succinct_roles")) {
        (Some(list), None) => {
            let list = list
                .as_array()
                .ok_or_else(|| TufError::format(what, "delegations.roles is not a list"))?;
            for r in list {
                let r = r
                    .as_object()
                    .ok_or_else(|| TufError::format(what, "a delegated role is not an object"))?;
                let name = str_field(r, "name", what)?.to_string();
                if TOP_LEVEL_ROLES.contains(&name.as_str()) {
                    return Err(TufError::Delegation {
                        role: name,
                        reason: "a delegated role may not have a top-level role's name".into(),
                    });
                }
                if !names.insert(name.clone()) {
                    return Err(TufError::Delegation {
                        role: name,
                        reason: "delegated twice by the same role".into(),
                    });
                }
                let terminating = r
                    .get("terminating")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| TufError::format(what, "terminating missing or not a boolean"))?;
                let paths = r.get("paths").map(|p| string_list(p, "paths", what)).transpose()?;
                let prefixes = r
                    .get("path_hash_prefixes")
                    .map(|p| string_list(p, "path_hash_prefixes", what))
                    .transpose()?;
                if paths.is_some() == prefixes.is_some() {
                    return Err(TufError::Delegation {
                        role: name,
                        reason: "exactly one of paths and path_hash_prefixes must be given".into(),
                    });
                }
                roles.push(DelegatedRole {
                    keys: role_keys(r, what)?,
                    name,
                    terminating,
                    paths,
                    path_hash_prefixes: prefixes,
                });
            }
        }
        (None, Some(_)) => {
            // Hash-bin ("succinct") delegations are not supported: no target
            // is found through them, so the search fails closed.
        }
        _ => {
            return Err(TufError::format(
                what,
                "delegations need exactly one of roles and succinct_roles",
            ));
        }
    }
    Ok(Delegations { keys, roles })
}

impl DelegatedRole {
    /// Whether this delegation covers `target_path`.
    pub fn covers(&self, target_path: &str) -> bool {
        if let Some(paths) = &self.paths {
            return paths.iter().any(|p| crate::pattern::matches_path(p, target_path));
        }
        if let Some(prefixes) = &self.path_hash_prefixes {
            let digest = hex::encode(sha2::Sha256::digest(target_path.as_bytes()));
            return prefixes.iter().any(|p| digest.starts_with(p.as_str()));
        }
        false
    }
}

/// Checks `data` against a trusted length and digests (each digest listed
/// must match; an algorithm this client cannot compute refuses the data).
pub fn check_length_and_hashes(
    what: &str,
    data: &[u8],
    length: Option<u64>,
    hashes: Option<&BTreeMap<String, String>>,
) -> Result<(), TufError> {
    if let Some(expected) = length
        && data.len() as u64 != expected
    {
        return Err(TufError::Length {
            what: what.to_string(),
            expected,
            got: data.len() as u64,
        });
    }
    for (algorithm, expected) in hashes.into_iter().flatten() {
        let got = match algorithm.as_str() {
            "sha224" => hex::encode(sha2::Sha224::digest(data)),
            "sha256" => hex::encode(sha2::Sha256::digest(data)),
            "sha384" => hex::encode(sha2::Sha384::digest(data)),
            "sha512" => hex::encode(sha2::Sha512::digest(data)),
            _ => {
                return Err(TufError::UnknownHashAlgorithm {
                    what: what.to_string(),
                    algorithm: algorithm.clone(),
                });
            }
        };
        if !got.eq_ignore_ascii_case(expected) {
            return Err(TufError::Hash {
                what: what.to_string(),
                algorithm: algorithm.clone(),
            });
        }
    }
    Ok(())
}
