//! Targets for ward-verify: Sigstore bundles, DSSE envelopes and in-toto
//! statements, attestation files (npm, PyPI, JSON Lines), certificates and
//! keys as ward handles them, and trust material (trusted roots, npm
//! registry keys).
//!
//! Verification runs against the bundled production root with the digest
//! the input itself claims, so that well-formed inputs get past the digest
//! binding and into certificate, transparency-log and signature checks.

use crate::scratch;
use serde_json::Value;
use ward_core::PackageId;
use ward_verify::attestation::{AttestationContext, verify_file};
use ward_verify::dsse::{Envelope, decode_base64};
use ward_verify::statement::Statement;
use ward_verify::{ArtifactRef, PublicKey, RegistryKeys, SigstoreBundle, TrustRoot};

thread_local! {
    static ROOT: Option<TrustRoot> = TrustRoot::production().ok();
    static NPM_KEYS: RegistryKeys = RegistryKeys::bundled().unwrap_or_default();
    static KEYS: Vec<PublicKey> = [
        &include_bytes!("../assets/bundle-key.pub")[..],
        &include_bytes!("../assets/oss-rebuild.pub")[..],
        &include_bytes!("../assets/keys/example-release.pub")[..],
    ]
    .iter()
    .filter_map(|pem| PublicKey::parse(pem, "fuzz").ok())
    .collect();
}

pub(crate) fn root() -> Option<TrustRoot> {
    ROOT.with(Clone::clone)
}

fn keys() -> Vec<PublicKey> {
    KEYS.with(Clone::clone)
}

/// What an input claims about its subject: digests and a package name.
#[derive(Default)]
struct Claimed {
    sha256: [u8; 32],
    sha512: Option<[u8; 64]>,
    name: Option<String>,
}

fn from_statement(payload: &[u8], into: &mut Claimed) -> bool {
    let Ok(st) = serde_json::from_slice::<Value>(payload) else {
        return false;
    };
    let Some(subject) = st.pointer("/subject/0") else {
        return false;
    };
    let hex_of = |alg: &str| {
        subject
            .pointer(&format!("/digest/{alg}"))
            .and_then(Value::as_str)
            .and_then(|h| hex::decode(h).ok())
    };
    if let Some(d) = hex_of("sha256").and_then(|d| <[u8; 32]>::try_from(d).ok()) {
        into.sha256 = d;
    }
    into.sha512 = hex_of("sha512").and_then(|d| <[u8; 64]>::try_from(d).ok());
    into.name = subject.get("name").and_then(Value::as_str).map(String::from);
    true
}

/// Finds the first message digest or in-toto statement anywhere in `v`
/// (bundles, npm attestation lists, PyPI attestations and provenance).
fn claimed(v: &Value, depth: usize, into: &mut Claimed) -> bool {
    if depth > 8 {
        return false;
    }
    match v {
        Value::Object(map) => {
            if let Some(d) = v
                .pointer("/messageSignature/messageDigest/digest")
                .and_then(Value::as_str)
                .and_then(|d| decode_base64(d).ok())
                .and_then(|d| <[u8; 32]>::try_from(d).ok())
            {
                into.sha256 = d;
                return true;
            }
            for key in ["payload", "statement"] {
                if let Some(p) = map.get(key).and_then(Value::as_str).and_then(|p| decode_base64(p).ok())
                    && from_statement(&p, into)
                {
                    return true;
                }
            }
            map.values().any(|x| claimed(x, depth + 1, into))
        }
        Value::Array(list) => list.iter().any(|x| claimed(x, depth + 1, into)),
        _ => false,
    }
}

fn claims_of(data: &[u8]) -> Claimed {
    let mut c = Claimed::default();
    if let Ok(v) = ward_verify::evidence::parse_json(data) {
        claimed(&v, 0, &mut c);
    } else {
        // JSON Lines: the first line that claims something.
        for line in data.split(|b| *b == b'\n') {
            if let Ok(v) = ward_verify::evidence::parse_json(line)
                && claimed(&v, 0, &mut c)
            {
                break;
            }
        }
    }
    c
}

fn verify_bundle(bundle: &SigstoreBundle, claimed: &Claimed) {
    let _ = (bundle.key_hint(), bundle.predicate_type(), bundle.uses_public_key());
    let Some(root) = root() else { return };
    let artifact = ArtifactRef {
        sha256: claimed.sha256,
        sha512: claimed.sha512,
        path: None,
    };
    if let Ok(verified) = bundle.verify_detailed(&root, artifact, &keys(), None) {
        let _ = verified.signature_fact();
    }
}

/// A Sigstore bundle (v0.1–v0.3, message signature or DSSE), verified
/// against the production root.
pub fn sigstore_bundle(data: &[u8]) {
    let Ok(bundle) = SigstoreBundle::parse(data, "fuzz.sigstore.json") else {
        return;
    };
    verify_bundle(&bundle, &claims_of(data));
}

/// A bare DSSE envelope and the in-toto statement it carries.
pub fn dsse_envelope(data: &[u8]) {
    let Ok(v) = ward_verify::evidence::parse_json(data) else {
        return;
    };
    let Ok(envelope) = Envelope::from_value(&v) else {
        return;
    };
    let _ = envelope.pae();
    let _ = envelope.verify(&keys());
    if let Ok(statement) = Statement::parse(&envelope.payload) {
        let mut c = Claimed::default();
        from_statement(&envelope.payload, &mut c);
        let _ = statement.preferred_algorithm();
        let _ = statement.bind(c.sha256, c.sha512);
    }
}

/// An attestation file as `--attestation` reads it: a bundle, an envelope,
/// an npm attestations response, a PyPI attestation or provenance object,
/// or in-toto JSON Lines. Read both as `.json` and as `.jsonl`.
pub fn attestation(data: &[u8]) {
    let Some(root) = root() else { return };
    let Some(dir) = scratch::dir() else { return };
    let c = claims_of(data);
    let package = c
        .name
        .as_deref()
        .and_then(|n| n.parse::<PackageId>().ok())
        .unwrap_or_else(|| PackageId::new(ward_core::Ecosystem::Generic, None, "fuzz", None));
    let keys = keys();
    NPM_KEYS.with(|registry_keys| {
        for name in ["fuzz.json", "fuzz.intoto.jsonl"] {
            let Some(path) = scratch::write(dir.path(), name, data) else {
                return;
            };
            let ctx = AttestationContext {
                root: &root,
                keys: &keys,
                registry_keys,
                artifact: ArtifactRef {
                    sha256: c.sha256,
                    sha512: c.sha512,
                    path: None,
                },
                package: &package,
                file_name: "fuzz-pkg-1.0.0.tgz",
                signer: None,
            };
            let _ = verify_file(&path, &ctx);
        }
    });
}

/// Certificates and keys as ward handles them: a DER certificate's
/// algorithms, a DER SubjectPublicKeyInfo, a PEM public key, a detached
/// signature, and the bytes as the leaf certificate of an otherwise real
/// keyless bundle.
pub fn certificate(data: &[u8]) {
    let _ = ward_verify::keys::check_certificate_algorithms(data);
    let _ = ward_verify::keys::classify_spki(data);
    let _ = PublicKey::parse(data, "fuzz.pem");
    let _ = ward_verify::read_detached_signature(data);
    let template = include_str!("../assets/cert-template.sigstore.json");
    let Ok(mut bundle) = serde_json::from_str::<Value>(template) else {
        return;
    };
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    if let Some(raw) = bundle.pointer_mut("/verificationMaterial/certificate/rawBytes") {
        *raw = Value::String(encoded);
    }
    let c = {
        let mut c = Claimed::default();
        claimed(&bundle, 0, &mut c);
        c
    };
    if let Ok(b) = SigstoreBundle::from_value(bundle, "fuzz-cert.sigstore.json") {
        verify_bundle(&b, &c);
    }
}

/// Trust material ward reads from files: a Sigstore trusted root
/// (`--trusted-root`) and npm registry keys (`--npm-keys`).
pub fn trust_material(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = TrustRoot::from_json(text, "fuzz.trusted_root.json");
    if let Ok(keys) = RegistryKeys::from_json(text) {
        for key in keys.find("SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA", "npm:signatures") {
            let _ = key.check_window(None);
        }
        let _ = keys.knows("fuzz");
    }
}
