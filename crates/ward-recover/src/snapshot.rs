//! Snapshots: a named, known-good set of artifacts.
//!
//! A snapshot lists, for each member, its purl, the SHA-256 of its bytes and
//! the ledger index of the allow decision that let those bytes in; a set
//! with a member the ledger never allowed is refused (`snapshot-unvetted`).
//! The list is a DSSE envelope signed with the ledger's key (or a key of
//! the user's, `ward keygen`), and it is anchored in the ledger: a
//! `snapshot-created` event names the SHA-256 of the signed payload, and
//! the snapshot keeps that event's index. A snapshot whose signature or
//! anchor does not check out is `snapshot-invalid` and is never a rollback
//! target.
//!
//! Snapshots are files in `snapshots/NAME.json` under ward's data
//! directory, written once (a name is never reused).

use crate::allows::AllowIndex;
use crate::lockfile::Pinned;
use crate::{RecoverError, pae, sha256_hex};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ward_core::{PackageId, ReasonCode};
use ward_ledger::event::{EventKind, EventRecord, LedgerRecord, read_entry};
use ward_ledger::{LedgerStore, NoteSigner, NoteVerifier};

/// The DSSE payload type of a snapshot.
pub const PAYLOAD_TYPE: &str = "application/vnd.ward.snapshot.v1+json";

/// Largest snapshot file read.
const MAX_FILE: u64 = 64 << 20;

/// One artifact of a known-good set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The package URL, as the allow decision recorded it.
    pub purl: String,
    /// The artifact's SHA-256, lower-case hex.
    pub sha256: String,
    /// The artifact's SHA-512, when the ledger recorded it (npm's integrity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
    /// The ledger entry of the allow decision for these bytes.
    pub allow: u64,
    /// The artifact's file name, as the allow recorded it.
    pub file: String,
    /// Where it is installed, when the source says (npm: `node_modules/a`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Member {
    /// The member's package id.
    pub fn id(&self) -> Result<PackageId, RecoverError> {
        self.purl
            .parse()
            .map_err(|e| RecoverError::Usage(format!("{}: {e}", self.purl)))
    }
}

/// What is signed: the set and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotBody {
    /// The snapshot's name.
    pub name: String,
    /// When it was taken.
    pub created: jiff::Timestamp,
    /// What it was taken from (a path or lockfile, as given).
    pub from: String,
    /// The ledger it refers to (its verifier key) and its size then.
    pub ledger: LedgerPoint,
    /// The members, sorted by purl.
    pub members: Vec<Member>,
}

/// A ledger and a size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPoint {
    /// The ledger's verifier key (`origin+hash+base64`).
    pub key: String,
    /// Its size when the snapshot was taken.
    pub size: u64,
}

/// Who signed a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SignedBy {
    /// The ledger's own key.
    Ledger {
        /// Its verifier key.
        key: String,
    },
    /// A key of the user's (Ed25519 or ECDSA P-256).
    Key {
        /// `sha256:` fingerprint of the public key.
        fingerprint: String,
        /// The DER SubjectPublicKeyInfo, base64.
        public_key: String,
    },
}

/// A snapshot as stored: the signed envelope, who signed it, and the
/// ledger entry that anchors it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The DSSE envelope over the [`SnapshotBody`].
    pub envelope: Envelope,
    /// Who signed it.
    pub signed_by: SignedBy,
    /// The ledger entry of its `snapshot-created` event.
    pub anchor: Option<u64>,
    /// The body, read from the envelope (not stored twice).
    #[serde(skip)]
    pub body: Option<SnapshotBody>,
}

/// A DSSE envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// [`PAYLOAD_TYPE`].
    pub payload_type: String,
    /// The payload, base64.
    pub payload: String,
    /// One signature.
    pub signatures: Vec<EnvelopeSignature>,
}

/// A DSSE signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// The key that made it.
    pub keyid: String,
    /// The signature, base64.
    pub sig: String,
}

/// A key to sign a snapshot with.
pub enum SnapshotSigner<'a> {
    /// The ledger's key.
    Ledger(&'a NoteSigner),
    /// A key file of the user's.
    Key(&'a ward_sign::SigningKey),
}

/// Checks a snapshot name: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with a dot.
pub fn check_name(name: &str) -> Result<(), RecoverError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(RecoverError::Usage(format!(
            "snapshot name {name:?}: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"
        )))
    }
}

fn same_package(a: &PackageId, b: &PackageId) -> bool {
    a.ecosystem == b.ecosystem && a.normalized_name() == b.normalized_name() && a.version == b.version
}

/// The members for these pins: each pin's bytes must have an allow in the
/// ledger for the same package; otherwise the whole set is refused
/// (`snapshot-unvetted`), naming every pin that has none.
pub fn members(pins: &[Pinned], allows: &AllowIndex) -> Result<Vec<Member>, RecoverError> {
    let mut out = Vec::new();
    let mut unvetted = Vec::new();
    for pin in pins {
        let allow = pin.digests.iter().find_map(|(alg, hex)| {
            allows
                .first(alg, hex)
                .filter(|a| a.purl.parse::<PackageId>().is_ok_and(|p| same_package(&p, &pin.id)))
        });
        match allow {
            Some(a) => out.push(Member {
                purl: a.purl.clone(),
                sha256: a.sha256.clone(),
                sha512: a.sha512.clone(),
                allow: a.index,
                file: a.file.clone(),
                location: pin.location.clone(),
            }),
            None => {
                let digest = pin
                    .digests
                    .first()
                    .map(|(alg, hex)| format!("{alg} {hex}"))
                    .unwrap_or_else(|| "no digest recorded".into());
                unvetted.push(format!("{} ({digest})", pin.id));
            }
        }
    }
    if !unvetted.is_empty() {
        return Err(RecoverError::refused(
            ReasonCode::SnapshotUnvetted,
            format!(
                "{} of {} packages have no allow in the ledger for their bytes: {}",
                unvetted.len(),
                pins.len(),
                unvetted.join(", ")
            ),
        ));
    }
    out.sort_by(|a, b| (&a.purl, &a.location).cmp(&(&b.purl, &b.location)));
    out.dedup();
    Ok(out)
}

impl Snapshot {
    /// Signs a body. The anchor is set once the `snapshot-created` event is appended.
    pub fn seal(body: SnapshotBody, signer: &SnapshotSigner<'_>) -> Result<Self, RecoverError> {
        let payload = serde_json::to_vec(&body).map_err(|e| RecoverError::Usage(e.to_string()))?;
        let message = pae(PAYLOAD_TYPE, &payload);
        let b64 = base64::engine::general_purpose::STANDARD;
        let (keyid, sig, signed_by) = match signer {
            SnapshotSigner::Ledger(s) => {
                let key = s.verifier().to_vkey();
                (key.clone(), s.sign_bytes(&message), SignedBy::Ledger { key })
            }
            SnapshotSigner::Key(k) => (
                k.fingerprint(),
                k.sign(&message)?,
                SignedBy::Key {
                    fingerprint: k.fingerprint(),
                    public_key: b64.encode(k.public_key_der()),
                },
            ),
        };
        Ok(Self {
            envelope: Envelope {
                payload_type: PAYLOAD_TYPE.into(),
                payload: b64.encode(&payload),
                signatures: vec![EnvelopeSignature {
                    keyid,
                    sig: b64.encode(sig),
                }],
            },
            signed_by,
            anchor: None,
            body: Some(body),
        })
    }

    /// The body (read from the envelope when loaded).
    pub fn body(&self) -> Result<&SnapshotBody, RecoverError> {
        self.body
            .as_ref()
            .ok_or_else(|| RecoverError::refused(ReasonCode::SnapshotInvalid, "the snapshot has no readable body"))
    }

    /// SHA-256 of the signed payload: what the anchoring event names.
    pub fn digest(&self) -> Result<String, RecoverError> {
        Ok(sha256_hex(&self.payload_bytes()?))
    }

    fn payload_bytes(&self) -> Result<Vec<u8>, RecoverError> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.envelope.payload)
            .map_err(|e| RecoverError::refused(ReasonCode::SnapshotInvalid, format!("the payload is not base64: {e}")))
    }

    /// The `snapshot-created` event for this snapshot (not yet appended).
    pub fn event(&self, version: &str) -> Result<EventRecord, RecoverError> {
        let body = self.body()?;
        let detail = serde_json::json!({
            "name": body.name,
            "from": body.from,
            "members": body.members.len(),
            "signedBy": self.signed_by,
        });
        EventRecord::new(
            EventKind::SnapshotCreated,
            &format!("snapshot:{}", body.name),
            body.created,
            version,
        )
        .with_digest("sha256", &self.digest()?)
        .with_summary(&format!(
            "snapshot {} of {} packages from {}",
            body.name,
            body.members.len(),
            body.from
        ))
        .with_detail(&detail)
        .map_err(|e| RecoverError::Usage(e.to_string()))
    }

    /// Checks the signature (against the ledger's key for a ledger-signed
    /// snapshot, the embedded public key for a key-signed one) and the
    /// anchor: the ledger entry it names is a `snapshot-created` event for
    /// this name and digest. Any failure is `snapshot-invalid`.
    pub fn verify(&self, ledger: &mut dyn LedgerStore) -> Result<(), RecoverError> {
        let invalid = |m: String| RecoverError::refused(ReasonCode::SnapshotInvalid, m);
        let body = self.body()?;
        let payload = self.payload_bytes()?;
        if self.envelope.payload_type != PAYLOAD_TYPE {
            return Err(invalid(format!("payload type {:?}", self.envelope.payload_type)));
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let sig = self
            .envelope
            .signatures
            .first()
            .and_then(|s| b64.decode(&s.sig).ok())
            .ok_or_else(|| invalid(format!("snapshot {}: no signature", body.name)))?;
        let message = pae(PAYLOAD_TYPE, &payload);
        let verifier = ledger.verifier();
        let ok = match &self.signed_by {
            SignedBy::Ledger { key } => {
                if *key != verifier.to_vkey() {
                    return Err(invalid(format!(
                        "snapshot {} was signed by the key of another ledger ({key})",
                        body.name
                    )));
                }
                verify_ed25519(&verifier, &message, &sig)
            }
            SignedBy::Key { public_key, .. } => {
                let spki = b64
                    .decode(public_key)
                    .map_err(|e| invalid(format!("the public key is not base64: {e}")))?;
                verify_spki(&spki, &message, &sig)
            }
        };
        if !ok {
            return Err(invalid(format!(
                "snapshot {}: the signature does not verify",
                body.name
            )));
        }
        let anchor = self
            .anchor
            .ok_or_else(|| invalid(format!("snapshot {} is not anchored in the ledger", body.name)))?;
        let entry = ledger.entry(anchor).map_err(|e| {
            invalid(format!(
                "snapshot {}: its anchor, ledger entry {anchor}: {e}",
                body.name
            ))
        })?;
        let digest = sha256_hex(&payload);
        let anchored = match read_entry(&entry, &verifier) {
            Ok(LedgerRecord::Event(e)) => {
                e.predicate.kind == EventKind::SnapshotCreated
                    && e.subject_name() == Some(format!("snapshot:{}", body.name).as_str())
                    && e.subject.first().and_then(|s| s.digest.get("sha256")) == Some(&digest)
            }
            _ => false,
        };
        if !anchored {
            return Err(invalid(format!(
                "snapshot {}: ledger entry {anchor} is not the snapshot-created event for its digest {digest}",
                body.name
            )));
        }
        Ok(())
    }
}

fn verify_ed25519(key: &NoteVerifier, message: &[u8], sig: &[u8]) -> bool {
    aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, key.public)
        .verify(message, sig)
        .is_ok()
}

/// Verifies with an Ed25519 or ECDSA P-256 SubjectPublicKeyInfo (the two
/// kinds `ward keygen` makes), by their fixed DER prefixes.
fn verify_spki(spki: &[u8], message: &[u8], sig: &[u8]) -> bool {
    const ED25519_SPKI: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
    const P256: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ED25519, UnparsedPublicKey};
    if let Some(raw) = spki.strip_prefix(&ED25519_SPKI[..]) {
        return UnparsedPublicKey::new(&ED25519, raw).verify(message, sig).is_ok();
    }
    if let Some(raw) = spki.strip_prefix(&P256[..]) {
        return UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, raw)
            .verify(message, sig)
            .is_ok();
    }
    false
}

/// The snapshots directory of a data directory.
pub fn dir(data: &Path) -> PathBuf {
    data.join("snapshots")
}

/// Writes a new snapshot file (refusing a name already taken).
pub fn save(data: &Path, snapshot: &Snapshot) -> Result<PathBuf, RecoverError> {
    use std::io::Write as _;
    let body = snapshot.body()?;
    check_name(&body.name)?;
    let dir = dir(data);
    std::fs::create_dir_all(&dir).map_err(|e| RecoverError::io(&dir, e))?;
    let path = dir.join(format!("{}.json", body.name));
    let json = serde_json::to_vec_pretty(snapshot).map_err(|e| RecoverError::Usage(e.to_string()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| RecoverError::io(&dir, e))?;
    tmp.write_all(&json).map_err(|e| RecoverError::io(&path, e))?;
    tmp.as_file().sync_all().map_err(|e| RecoverError::io(&path, e))?;
    tmp.persist_noclobber(&path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            RecoverError::Usage(format!(
                "a snapshot named {} exists already ({})",
                body.name,
                path.display()
            ))
        } else {
            RecoverError::io(&path, e.error)
        }
    })?;
    Ok(path)
}

/// Whether a snapshot of this name exists.
pub fn exists(data: &Path, name: &str) -> bool {
    dir(data).join(format!("{name}.json")).exists()
}

/// Reads a snapshot file (its signature is not checked here: [`Snapshot::verify`]).
pub fn load_file(path: &Path) -> Result<Snapshot, RecoverError> {
    let bytes = ward_input::read_bounded(path, "snapshot", MAX_FILE)?;
    let invalid = |m: String| RecoverError::refused(ReasonCode::SnapshotInvalid, format!("{}: {m}", path.display()));
    let mut snapshot: Snapshot = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    let payload = snapshot.payload_bytes()?;
    let body: SnapshotBody = serde_json::from_slice(&payload).map_err(|e| invalid(e.to_string()))?;
    snapshot.body = Some(body);
    Ok(snapshot)
}

/// Reads the snapshot called `name`.
pub fn load(data: &Path, name: &str) -> Result<Snapshot, RecoverError> {
    check_name(name)?;
    let path = dir(data).join(format!("{name}.json"));
    if !path.exists() {
        return Err(RecoverError::refused(
            ReasonCode::RollbackNoTarget,
            format!("no snapshot named {name} (ward snapshot list shows them)"),
        ));
    }
    load_file(&path)
}

/// A stored snapshot, or the file that does not read and why.
pub type Listed = Result<Snapshot, (PathBuf, RecoverError)>;

/// Every stored snapshot, oldest first; files that do not read are
/// returned as errors beside them, never dropped silently.
pub fn list(data: &Path) -> Result<Vec<Listed>, RecoverError> {
    let dir = dir(data);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RecoverError::io(&dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| RecoverError::io(&dir, e))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        out.push(load_file(&path).map_err(|e| (path, e)));
    }
    let created = |r: &Listed| {
        r.as_ref()
            .ok()
            .and_then(|s| s.body.as_ref())
            .map(|b| (b.created, b.name.clone()))
    };
    out.sort_by_key(created);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> SnapshotBody {
        SnapshotBody {
            name: "good".into(),
            created: "2026-12-02T05:00:00Z".parse().unwrap(),
            from: "site".into(),
            ledger: LedgerPoint {
                key: "k".into(),
                size: 1,
            },
            members: vec![Member {
                purl: "pkg:pypi/demo-pkg@1.0.0".into(),
                sha256: "a".repeat(64),
                sha512: None,
                allow: 0,
                file: "demo_pkg-1.0.0-py3-none-any.whl".into(),
                location: None,
            }],
        }
    }

    /// A snapshot signed by the ledger and anchored by its event verifies;
    /// a changed member, another anchor or another key does not.
    #[test]
    fn a_snapshot_verifies_only_as_signed_and_anchored() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = ward_ledger::EmbeddedLedger::open(dir.path(), "test.invalid/ledger").unwrap();
        let mut snap = Snapshot::seal(body(), &SnapshotSigner::Ledger(ledger.signer())).unwrap();
        let entry = snap.event("0.1.0").unwrap().sign(ledger.signer()).unwrap();
        let receipt = ledger.append(&[entry]).unwrap();
        snap.anchor = Some(receipt.first_index);
        let data = dir.path().join("data");
        save(&data, &snap).unwrap();
        assert!(save(&data, &snap).is_err(), "a name is never reused");
        let back = load(&data, "good").unwrap();
        back.verify(&mut ledger).unwrap();
        assert_eq!(back.body().unwrap().members, body().members);

        let mut other = body();
        other.members[0].sha256 = "b".repeat(64);
        let mut forged = back.clone();
        forged.envelope.payload = base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&other).unwrap());
        forged.body = Some(other);
        let err = forged.verify(&mut ledger).unwrap_err();
        assert_eq!(err.code(), Some(ReasonCode::SnapshotInvalid), "{err}");

        let mut unanchored = back.clone();
        unanchored.anchor = None;
        assert_eq!(
            unanchored.verify(&mut ledger).unwrap_err().code(),
            Some(ReasonCode::SnapshotInvalid)
        );

        // Signed with a key of the user's: verified with the embedded key.
        let key = ward_sign::keygen(ward_sign::Algorithm::EcdsaP256, None).unwrap();
        let key = ward_sign::SigningKey::from_pem(&key.private_pem, None).unwrap();
        let mut later = body();
        later.created = "2026-12-02T06:00:00Z".parse().unwrap();
        let mut by_key = Snapshot::seal(later, &SnapshotSigner::Key(&key)).unwrap();
        // Another snapshot's anchor does not anchor this one.
        by_key.anchor = snap.anchor;
        assert_eq!(
            by_key.verify(&mut ledger).unwrap_err().code(),
            Some(ReasonCode::SnapshotInvalid)
        );
        let entry = by_key.event("0.1.0").unwrap().sign(ledger.signer()).unwrap();
        by_key.anchor = Some(ledger.append(&[entry]).unwrap().first_index);
        by_key.verify(&mut ledger).unwrap();
    }

    #[test]
    fn names_that_could_leave_the_directory_are_refused() {
        for bad in ["", "../x", ".hidden", "a/b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        check_name("pypi-known-good.1").unwrap();
    }
}
