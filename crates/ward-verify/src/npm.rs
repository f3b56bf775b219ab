//! npm registry signing keys, and the rules for npm publish attestations.
//!
//! Keys are trust material like a trusted root: a copy ships in the binary
//! (`trust/npm-registry-keys.json`, the `registry.npmjs.org/keys.json`
//! target of Sigstore's TUF repository) and a file replaces it. The
//! registry's own `/-/npm/v1/keys` format is read too. Each key is only
//! trusted for signatures made inside its validity window.

use crate::VerifyError;
use crate::keys::PublicKey;
use base64::Engine as _;
use serde_json::Value;
use ward_core::{Ecosystem, PackageId};

/// The npm publish attestation predicate.
pub const NPM_PUBLISH_V01: &str = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";

/// The bundled npm registry keys.
pub const BUNDLED_NPM_KEYS: &str = include_str!("../trust/npm-registry-keys.json");

/// One registry key with its validity window.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RegistryKey {
    /// `SHA256:…`, as bundles hint it.
    pub key_id: String,
    /// `npm:attestations`, `npm:signatures`, or empty when the format has none.
    pub usage: String,
    /// The key.
    pub key: PublicKey,
    /// Valid from (inclusive).
    pub valid_from: Option<jiff::Timestamp>,
    /// Valid until (inclusive).
    pub valid_until: Option<jiff::Timestamp>,
}

/// A set of registry keys.
#[derive(Clone, Debug, Default)]
pub struct RegistryKeys {
    keys: Vec<RegistryKey>,
}

fn timestamp(v: Option<&Value>) -> Result<Option<jiff::Timestamp>, VerifyError> {
    match v.and_then(|t| t.as_str()) {
        None => Ok(None),
        Some(s) => s
            .parse::<jiff::Timestamp>()
            .map(Some)
            .map_err(|e| VerifyError::KeyMalformed(format!("bad time {s:?} in registry keys: {e}"))),
    }
}

impl RegistryKeys {
    /// The keys shipped with ward.
    pub fn bundled() -> Result<Self, VerifyError> {
        Self::from_json(BUNDLED_NPM_KEYS)
    }

    /// Reads the Sigstore TUF `keys.json` format or npm's `/-/npm/v1/keys` format.
    pub fn from_json(text: &str) -> Result<Self, VerifyError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| VerifyError::KeyMalformed(format!("registry keys: {e}")))?;
        let list = value
            .get("keys")
            .and_then(|k| k.as_array())
            .ok_or_else(|| VerifyError::KeyMalformed("registry keys: no `keys` array".into()))?;
        let mut keys = Vec::new();
        for k in list {
            let (key_id, usage, b64, from, until) = if let Some(pk) = k.get("publicKey") {
                (
                    k.get("keyId"),
                    k.get("keyUsage"),
                    pk.get("rawBytes"),
                    pk.pointer("/validFor/start"),
                    pk.pointer("/validFor/end"),
                )
            } else {
                (k.get("keyid"), None, k.get("key"), None, k.get("expires"))
            };
            let key_id = key_id
                .and_then(|v| v.as_str())
                .ok_or_else(|| VerifyError::KeyMalformed("registry key without an id".into()))?;
            let der = b64
                .and_then(|v| v.as_str())
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .ok_or_else(|| VerifyError::KeyMalformed(format!("registry key {key_id}: bad key bytes")))?;
            keys.push(RegistryKey {
                key_id: key_id.to_string(),
                usage: usage.and_then(|u| u.as_str()).unwrap_or_default().to_string(),
                key: PublicKey::parse(&der, format!("npm registry key {key_id}"))?,
                valid_from: timestamp(from)?,
                valid_until: timestamp(until)?,
            });
        }
        Ok(Self { keys })
    }

    /// The keys with this id usable for `usage` (keys without a usage serve all).
    pub fn find(&self, key_id: &str, usage: &str) -> Vec<&RegistryKey> {
        self.keys
            .iter()
            .filter(|k| k.key_id == key_id && (k.usage.is_empty() || k.usage == usage))
            .collect()
    }

    /// Whether any key has this id.
    pub fn knows(&self, key_id: &str) -> bool {
        self.keys.iter().any(|k| k.key_id == key_id)
    }
}

impl RegistryKey {
    /// Checks that `signed_at` falls inside the key's validity window.
    pub fn check_window(&self, signed_at: Option<jiff::Timestamp>) -> Result<(), VerifyError> {
        let Some(t) = signed_at else {
            return Err(VerifyError::RegistryKeyExpired(format!(
                "no verified signing time to check registry key {} against its validity window",
                self.key_id
            )));
        };
        if self.valid_from.is_some_and(|from| t < from) || self.valid_until.is_some_and(|until| t > until) {
            let show = |x: Option<jiff::Timestamp>| x.map(|x| x.to_string()).unwrap_or_else(|| "open".into());
            return Err(VerifyError::RegistryKeyExpired(format!(
                "registry key {} was not valid at the signing time {t} (valid {} to {})",
                self.key_id,
                show(self.valid_from),
                show(self.valid_until)
            )));
        }
        Ok(())
    }
}

/// Verifies one of npm's `dist.signatures`: an ECDSA signature by a
/// registry key over `NAME@VERSION:INTEGRITY` (what `npm audit signatures`
/// checks). The key must be one of the registry keys for `npm:signatures`.
/// Validity windows are not checked here: the abbreviated packument carries
/// no publish time, and releases signed before a key's rotation stay valid.
pub fn verify_registry_signature(
    keys: &RegistryKeys,
    package: &PackageId,
    integrity: &str,
    key_id: &str,
    signature_b64: &str,
) -> Result<(), VerifyError> {
    use base64::Engine as _;
    use sha2::Digest as _;
    if package.ecosystem != Ecosystem::Npm {
        return Err(VerifyError::PublisherMismatch(format!(
            "an npm registry signature vouches for an npm package, not {}",
            package.to_purl()
        )));
    }
    let version = package.version.as_deref().unwrap_or_default();
    let message = format!("{}@{version}:{integrity}", package.full_name());
    let candidates = keys.find(key_id, "npm:signatures");
    if candidates.is_empty() {
        return Err(VerifyError::KeyNotTrusted(format!(
            "the npm registry signature names key {key_id}, which is not among the registry keys (update them with --npm-keys)"
        )));
    }
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature_b64.trim())
        .map_err(|e| VerifyError::SignatureInvalid(format!("the npm registry signature is not base64: {e}")))?;
    let digest: [u8; 32] = sha2::Sha256::digest(message.as_bytes()).into();
    if candidates
        .iter()
        .any(|k| k.key.verify_detached(&digest, None, &signature).is_ok())
    {
        return Ok(());
    }
    Err(VerifyError::SignatureInvalid(format!(
        "the npm registry signature over {message:?} does not verify under registry key {key_id}: the tarball or its integrity changed after the registry signed it"
    )))
}

/// Checks an npm publish attestation's predicate and subject against the package.
/// The registry vouches for npm packages only: the same bytes named as a
/// crate or a distribution (ward reads the kind from the file name) are not
/// what it signed.
pub fn check_publish(predicate: &Value, subject_name: &str, package: &PackageId) -> Result<(), VerifyError> {
    if package.ecosystem != Ecosystem::Npm {
        return Err(VerifyError::PublisherMismatch(format!(
            "an npm publish attestation vouches for an npm package, not {}",
            package.to_purl()
        )));
    }
    let name = predicate.get("name").and_then(|n| n.as_str()).unwrap_or_default();
    let version = predicate.get("version").and_then(|n| n.as_str()).unwrap_or_default();
    let expected_version = package.version.as_deref().unwrap_or_default();
    if !name.eq_ignore_ascii_case(&package.full_name()) || version != expected_version {
        return Err(VerifyError::PublisherMismatch(format!(
            "npm publish attestation is for {name}@{version}, the package is {}@{expected_version}",
            package.full_name()
        )));
    }
    let subject: Option<PackageId> = subject_name.replace("pkg:npm/@", "pkg:npm/%40").parse().ok();
    match subject {
        Some(s)
            if s.ecosystem == Ecosystem::Npm
                && s.normalized_name() == package.normalized_name()
                && s.version == package.version =>
        {
            Ok(())
        }
        _ => Err(VerifyError::PublisherMismatch(format!(
            "npm attestation subject {subject_name:?} is not {}",
            package.to_purl()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The npm registry vouches for an npm package: its publish attestation
    /// for `foo@1.0.0` says nothing about a crate or a PyPI distribution of
    /// the same name and version, even when the bytes are the same (one
    /// tarball can hold `package.json`, `Cargo.toml` and `PKG-INFO`, and ward
    /// picks the kind from the file name).
    #[test]
    fn a_publish_attestation_binds_only_an_npm_package() {
        let predicate =
            serde_json::json!({"name": "foo", "version": "1.0.0", "registry": "https://registry.npmjs.org"});
        let npm = PackageId::npm("foo", Some("1.0.0".into()));
        assert!(check_publish(&predicate, "pkg:npm/foo@1.0.0", &npm).is_ok());
        for eco in [Ecosystem::Cargo, Ecosystem::Pypi, Ecosystem::Generic] {
            let other = PackageId::new(eco, None, "foo", Some("1.0.0".into()));
            assert!(
                matches!(
                    check_publish(&predicate, "pkg:npm/foo@1.0.0", &other),
                    Err(VerifyError::PublisherMismatch(_))
                ),
                "{eco:?} accepted"
            );
        }
        let keys = RegistryKeys::bundled().unwrap();
        let krate = PackageId::new(Ecosystem::Cargo, None, "foo", Some("1.0.0".into()));
        assert!(matches!(
            verify_registry_signature(&keys, &krate, "sha512-x", "SHA256:x", "AAAA"),
            Err(VerifyError::PublisherMismatch(_))
        ));
        // A subject of another type is not npm's either.
        assert!(check_publish(&predicate, "pkg:cargo/foo@1.0.0", &npm).is_err());
    }
}
