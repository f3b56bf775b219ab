//! Detached signatures: a signature file (raw bytes, or base64 text as
//! cosign writes it) over the artifact, checked with trusted plain keys.
//!
//! The only way to a signature fact from a detached signature: the file's
//! bytes verify under one of the keys, or the check fails with its reason.

use crate::VerifyError;
use crate::bundle::ArtifactRef;
use crate::evidence::EvidenceFile;
use crate::keys::PublicKey;
use crate::{Fact, SignerIdentity};

/// Reads a detached signature: base64 text (one line, as cosign writes
/// it) or raw bytes.
pub fn read_detached_signature(bytes: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = std::str::from_utf8(bytes).map(str::trim);
    if let Ok(t) = text
        && !t.is_empty()
        && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(t)
    {
        return decoded;
    }
    bytes.to_vec()
}

/// Verifies a detached signature file over `artifact` under any of `keys`
/// and returns the signature fact. No keys is [`VerifyError::NoKeyForSignature`];
/// with one key its own error is returned, with several a summary.
/// [`VerifyError::Unreadable`] means the artifact could not be re-read
/// (for schemes that need its bytes).
pub fn verify(file: &EvidenceFile, artifact: ArtifactRef<'_>, keys: &[PublicKey]) -> Result<Fact, VerifyError> {
    if keys.is_empty() {
        return Err(VerifyError::NoKeyForSignature);
    }
    let signature = read_detached_signature(file.bytes());
    let mut last = None;
    for key in keys {
        match key.verify_detached(&artifact.sha256, artifact.path, &signature) {
            Ok(scheme) => {
                return Ok(Fact::Signature {
                    signer: SignerIdentity::Key {
                        fingerprint: key.fingerprint().to_string(),
                        algorithm: scheme.name().to_string(),
                    },
                    evidence: file.label().to_string(),
                    signed_at: None,
                    transparency_log: false,
                    predicate_type: None,
                });
            }
            Err(e) if e.is_unreadable() => return Err(e),
            Err(e) => last = Some(e),
        }
    }
    Err(match (keys.len(), last) {
        (1, Some(e)) => e,
        (n, _) => VerifyError::SignatureInvalid(format!(
            "the signature in {} verifies under none of the {n} trusted keys",
            file.label()
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> ArtifactRef<'static> {
        ArtifactRef {
            sha256: [0u8; 32],
            sha512: None,
            path: None,
        }
    }

    #[test]
    fn no_key_is_a_failed_check_naming_the_flag() {
        let file = EvidenceFile::from_bytes("a.sig", b"c2ln".to_vec());
        let e = verify(&file, target(), &[]).unwrap_err();
        assert_eq!(e.code(), ward_core::ReasonCode::KeyNotTrusted);
        assert!(e.to_string().contains("--key"), "{e}");
    }

    #[test]
    fn base64_text_and_raw_bytes_are_both_read() {
        assert_eq!(read_detached_signature(b"c2ln\n"), b"sig");
        assert_eq!(read_detached_signature(&[0xff, 0x00]), vec![0xff, 0x00]);
    }
}
