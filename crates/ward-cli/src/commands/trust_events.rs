//! Trust changes as ledger events: every root version and key set `ward
//! trust update` accepts (`trust-root-accepted`), every rotation
//! (`key-rotated`) and revocation (`key-revoked`), appended to the ledger
//! as signed event records (`ward_ledger::event`), so the history of trust
//! is as tamper-evident as the decisions made with it.

use super::Usage;
use serde::Serialize;
use sha2::Digest as _;
use ward_ledger::event::{EventKind, EventRecord};

/// What a `trust-root-accepted` event says about a TUF root version.
#[derive(Serialize)]
struct RootAccepted<'a> {
    what: &'static str,
    version: u64,
    how: &'a str,
    repository: &'a str,
    expires: Option<String>,
    root_keys_changed: Option<bool>,
}

/// What a `trust-root-accepted` event says about a key set (a TUF target).
#[derive(Serialize)]
struct TargetAccepted<'a> {
    what: &'static str,
    target: &'a str,
    repository: &'a str,
    root_version: u64,
}

#[derive(Serialize)]
struct Rotated<'a> {
    old_key: &'a str,
    new_key: &'a str,
    rotated_at: String,
    old_key_valid_until: String,
    reason: Option<&'a str>,
    statement_sha256: String,
}

#[derive(Serialize)]
struct Revoked<'a> {
    key: &'a str,
    revoked_at: String,
    reason: Option<&'a str>,
    signed_by: &'a [String],
    statement_sha256: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Signs and appends events in one batch; the index of the first.
fn append(location: Option<&std::path::Path>, events: &[EventRecord]) -> Result<u64, Usage> {
    let mut ledger = super::open_ledger(location)?;
    let entries = events
        .iter()
        .map(|e| e.sign(ledger.signer()).map_err(|e| Usage(format!("ledger event: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let receipt = ledger
        .append(&entries)
        .map_err(|e| Usage(format!("cannot record in the ledger: {e}")))?;
    Ok(receipt.first_index)
}

/// Records what `ward trust update` accepted: one event per new root
/// version (digest: the root as received) and one per key set that
/// changed (Sigstore's `trusted_root.json`, the npm `keys.json`).
pub(super) fn trust_update(
    location: Option<&std::path::Path>,
    updated: &ward_trust::store::Updated,
    roots: &[ward_trust::store::Accepted],
    repository: &str,
    time: jiff::Timestamp,
) -> Result<(), String> {
    let mut events = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| roots[p].root.as_bytes());
        let change = ward_trust::history::describe(previous, root.root.as_bytes()).ok();
        let detail = RootAccepted {
            what: "tuf-root",
            version: root.version,
            how: &root.how,
            repository: &root.repository,
            expires: change.as_ref().map(|c| c.expires.to_string()),
            root_keys_changed: change
                .as_ref()
                .filter(|_| previous.is_some())
                .map(|c| c.root_keys_changed()),
        };
        let event = EventRecord::new(
            EventKind::TrustRootAccepted,
            &format!("tuf-root:{repository}#v{}", root.version),
            time,
            version(),
        )
        .with_digest("sha256", &sha256_hex(root.root.as_bytes()))
        .with_summary(&format!(
            "accepted TUF root v{} ({}) from {repository}",
            root.version, root.how
        ))
        .with_detail(&detail)
        .map_err(|e| e.to_string())?;
        events.push(event);
    }
    for (name, sha256, changed) in &updated.targets {
        if !changed {
            continue;
        }
        let detail = TargetAccepted {
            what: "tuf-target",
            target: name,
            repository,
            root_version: updated.root_after,
        };
        let event = EventRecord::new(
            EventKind::TrustRootAccepted,
            &format!("tuf-target:{name}"),
            time,
            version(),
        )
        .with_digest("sha256", sha256)
        .with_summary(&format!("accepted {name} (sha256:{sha256}) from {repository}"))
        .with_detail(&detail)
        .map_err(|e| e.to_string())?;
        events.push(event);
    }
    if events.is_empty() {
        return Ok(());
    }
    append(location, &events).map(|_| ()).map_err(|Usage(m)| m)
}

/// Records a rotation; the ledger index of the event.
pub(super) fn key_rotated(
    location: Option<&std::path::Path>,
    rotation: &ward_policy::rotation::Rotation,
    statement: &serde_json::Value,
    time: jiff::Timestamp,
) -> Result<u64, Usage> {
    let bytes = serde_json::to_vec(statement).map_err(|e| Usage(e.to_string()))?;
    let detail = Rotated {
        old_key: rotation.old.fingerprint(),
        new_key: rotation.new.fingerprint(),
        rotated_at: rotation.rotated_at.to_string(),
        old_key_valid_until: rotation.old_valid_until.to_string(),
        reason: rotation.reason.as_deref(),
        statement_sha256: sha256_hex(&bytes),
    };
    let event = EventRecord::new(
        EventKind::KeyRotated,
        &format!("key:{}", rotation.old.fingerprint()),
        time,
        version(),
    )
    .with_digest("sha256", rotation.old.fingerprint().trim_start_matches("sha256:"))
    .with_summary(&format!(
        "key {} rotated to {} at {}",
        rotation.old.fingerprint(),
        rotation.new.fingerprint(),
        rotation.rotated_at
    ))
    .with_detail(&detail)
    .map_err(|e| Usage(e.to_string()))?;
    append(location, &[event])
}

/// Records a revocation; the ledger index of the event.
pub(super) fn key_revoked(
    location: Option<&std::path::Path>,
    revocation: &ward_policy::rotation::Revocation,
    statement: &serde_json::Value,
    time: jiff::Timestamp,
) -> Result<u64, Usage> {
    let bytes = serde_json::to_vec(statement).map_err(|e| Usage(e.to_string()))?;
    let detail = Revoked {
        key: &revocation.fingerprint,
        revoked_at: revocation.revoked_at.to_string(),
        reason: revocation.reason.as_deref(),
        signed_by: &revocation.signed_by,
        statement_sha256: sha256_hex(&bytes),
    };
    let event = EventRecord::new(
        EventKind::KeyRevoked,
        &format!("key:{}", revocation.fingerprint),
        time,
        version(),
    )
    .with_digest("sha256", revocation.fingerprint.trim_start_matches("sha256:"))
    .with_summary(&format!(
        "key {} revoked from {}",
        revocation.fingerprint, revocation.revoked_at
    ))
    .with_detail(&detail)
    .map_err(|e| Usage(e.to_string()))?;
    append(location, &[event])
}
