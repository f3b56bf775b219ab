//! `ward sigstore verify-bundle`: the sigstore-conformance verification protocol.
//!
//! `verify-bundle [--staging] --bundle FILE (--certificate-identity ID
//! --certificate-oidc-issuer URL | --key FILE) [--trusted-root FILE]
//! FILE_OR_DIGEST`, where FILE_OR_DIGEST may be `sha256:<64 hex>`. Exit 0 when
//! the bundle verifies, 1 when it does not, 2 when an input is unreadable.

use super::{Usage, or_usage, trust_root};
use crate::args::{SigstoreCommand, VerifyBundleArgs};
use crate::output;
use std::path::Path;
use ward_core::Sha256;
use ward_verify::{ArtifactRef, IdentityRule, PublicKey, SignerRequirement, SigstoreBundle};

pub(super) fn run(cmd: SigstoreCommand) -> u8 {
    match cmd {
        SigstoreCommand::VerifyBundle(args) => verify_bundle(args),
    }
}

fn verify_bundle(args: VerifyBundleArgs) -> u8 {
    or_usage(|| {
        let root = trust_root(&args.trust)?;
        let keys = match args.key.as_deref().map(PublicKey::from_file) {
            Some(Ok(key)) => vec![key],
            Some(Err(e)) if e.is_unreadable() => return Err(Usage(e.to_string())),
            // A key that does not parse cannot verify anything: a failed verification.
            Some(Err(e)) => {
                output::reason(&e.to_reason());
                return Ok(crate::EXIT_DENY);
            }
            None => Vec::new(),
        };
        let signer = SignerRequirement {
            identity: args.certificate_identity.clone().map(IdentityRule::Exact),
            issuer: args.certificate_oidc_issuer.clone(),
        };
        let (sha256, sha512, path) = match args.file_or_digest.strip_prefix("sha256:") {
            Some(hex) => (
                Sha256::from_hex(hex).ok_or_else(|| Usage(format!("not a SHA-256 digest: {hex}")))?,
                None,
                None,
            ),
            None => {
                let path = Path::new(&args.file_or_digest);
                let file = ward_input::InputFile::new(path, "artifact", u64::MAX)
                    .open()
                    .map_err(|e| Usage(e.to_string()))?;
                let (digests, _) = ward_identify::hash::digest_reader(file)
                    .map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))?;
                (digests.sha256, Some(digests.sha512.0), Some(path))
            }
        };
        let outcome = SigstoreBundle::from_file(&args.bundle).and_then(|bundle| {
            bundle.verify(
                &root,
                ArtifactRef {
                    sha256: sha256.0,
                    sha512,
                    path,
                },
                &keys,
                &signer,
            )
        });
        match outcome {
            Ok(fact) => {
                output::bundle_ok(&fact);
                Ok(crate::EXIT_ALLOW)
            }
            Err(e) if e.is_unreadable() => Err(Usage(e.to_string())),
            Err(e) => {
                output::reason(&e.to_reason());
                Ok(crate::EXIT_DENY)
            }
        }
    })
}
