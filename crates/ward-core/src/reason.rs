//! Stable reason codes: every deny (and every warning) names one.
//!
//! Codes are kebab-case, never renamed once shipped, documented in
//! `docs/reasons.md`, and checked unique by a test. A user can grep for a
//! code, suppress it in a report, or look it up to learn what to do.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! reason_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $desc:literal; )*) => {
        /// A stable, documented identifier for why ward decided what it did.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ReasonCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ReasonCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [ReasonCode] = &[$(ReasonCode::$variant,)*];

            /// The stable kebab-case code.
            pub fn as_str(self) -> &'static str {
                match self { $(ReasonCode::$variant => $code,)* }
            }

            /// One sentence: what the code means and what to do about it.
            pub fn description(self) -> &'static str {
                match self { $(ReasonCode::$variant => $desc,)* }
            }

            /// Looks a code up by its string.
            pub fn from_code(s: &str) -> Option<Self> {
                match s { $($code => Some(ReasonCode::$variant),)* _ => None }
            }
        }
    };
}

reason_codes! {
    /// The artifact could not be read at all.
    ArtifactUnreadable = "artifact-unreadable",
        "The artifact file could not be opened or read; check the path and permissions.";
    /// The archive is not a valid archive of the kind its name says.
    ArchiveMalformed = "archive-malformed",
        "The package archive is corrupt, truncated or not the format its name claims; re-download it from the registry.";
    /// An archive entry escapes the extraction directory.
    ArchivePathTraversal = "archive-path-traversal",
        "An archive entry has an absolute path or a `..` component that would write outside the install directory; the package is hostile or broken.";
    /// An archive contains a symlink or hard link.
    ArchiveLinkEntry = "archive-link-entry",
        "An archive entry is a symbolic or hard link; ward never follows links inside packages (CVE-2022-36113 and node-tar CVEs).";
    /// An archive holds an entry type other than files and directories.
    ArchiveEntryType = "archive-entry-type",
        "An archive entry is a device, FIFO or other special file; packages only ever need files and directories.";
    /// An archive has more entries than the limit.
    ArchiveTooManyEntries = "archive-too-many-entries",
        "The archive has more entries than the configured limit; raise the limit only if this package is known to be that large.";
    /// An archive unpacks to more bytes than the limit.
    ArchiveTooLarge = "archive-too-large",
        "The archive unpacks to more bytes than the configured limit (decompression bomb guard).";
    /// An archive's compression ratio is beyond the limit.
    ArchiveCompressionRatio = "archive-compression-ratio",
        "The archive expands by more than the configured ratio over its compressed size (decompression bomb guard).";
    /// The package's own metadata file is missing.
    MetadataMissing = "metadata-missing",
        "The package metadata (package.json, METADATA, PKG-INFO or Cargo.toml) was not found where the ecosystem requires it.";
    /// The package's own metadata file cannot be parsed.
    MetadataMalformed = "metadata-malformed",
        "The package metadata could not be parsed, or lacks a name or version.";
    /// The file name and the package's own metadata disagree.
    PackageNameMismatch = "package-name-mismatch",
        "The name or version in the file name (or --purl) differs from the one inside the package; the package may be mislabelled or a confusion attack.";
    /// No signature or attestation was presented or found.
    SignatureMissing = "signature-missing",
        "No signature was found for the artifact; ward requires at least one verified signature or attestation. Pass --bundle or --key with --signature.";
    /// A signature does not verify.
    SignatureInvalid = "signature-invalid",
        "A signature did not verify over the artifact: the artifact changed after signing, or the signature was made with another key.";
    /// The evidence is about a different artifact.
    ArtifactDigestMismatch = "artifact-digest-mismatch",
        "The signature, log entry or attestation describes different bytes than the artifact presented (changed after signing, or evidence for another artifact).";
    /// The Sigstore bundle cannot be parsed.
    BundleMalformed = "bundle-malformed",
        "The Sigstore bundle is not valid JSON or not a valid bundle (truncated, bad base64, missing fields).";
    /// The Sigstore bundle exceeds the size limit.
    BundleTooLarge = "bundle-too-large",
        "The evidence file is larger than 64 MiB; real bundles are a few kilobytes.";
    /// The Sigstore bundle nests JSON too deeply.
    BundleTooDeep = "bundle-too-deep",
        "The evidence file nests JSON deeper than 128 levels; real bundles nest fewer than ten.";
    /// The bundle's media type is not a known version.
    BundleUnknownVersion = "bundle-unknown-version",
        "The bundle's mediaType names a version ward does not know (ward reads v0.1, v0.2 and v0.3).";
    /// The signing certificate was not valid at the verified signing time.
    CertificateExpired = "certificate-expired",
        "The signing certificate was expired or not yet valid at the verified signing time.";
    /// The certificate does not chain to a trusted root, or breaks the Sigstore profile.
    CertificateUntrusted = "certificate-untrusted",
        "The signing certificate does not chain to a certificate authority in the trusted root, or is not a code-signing certificate.";
    /// The signed certificate timestamp is missing or invalid.
    SctInvalid = "sct-invalid",
        "The certificate's Signed Certificate Timestamp is missing or not signed by a CT log in the trusted root.";
    /// The transparency log proof is missing or wrong.
    TlogInvalid = "tlog-invalid",
        "The Rekor inclusion proof, checkpoint or signed entry timestamp is missing or does not verify against the trusted root.";
    /// An RFC 3161 timestamp or the log's time is invalid.
    TimestampInvalid = "timestamp-invalid",
        "A timestamp (RFC 3161 or the log's integrated time) is missing, untrusted, in the future or outside the certificate's validity.";
    /// The signer identity is not the expected one.
    IdentityMismatch = "identity-mismatch",
        "The certificate's identity (SAN) is not the one required; the artifact was signed by someone else.";
    /// The OIDC issuer is not the expected one.
    IssuerMismatch = "issuer-mismatch",
        "The certificate's OIDC issuer is not the one required.";
    /// A keyless signature verified but nobody said which identity to trust.
    IdentityUnconstrained = "identity-unconstrained",
        "A keyless signature verified, but no trusted identity was configured; anyone can get a Fulcio certificate, so name the identity you trust.";
    /// The signature or key uses a refused algorithm.
    WeakAlgorithm = "weak-algorithm",
        "The signature, key or digest uses an algorithm ward refuses (SHA-1, MD5, DSA, RSA under 2048 bits).";
    /// The key or signature algorithm is not recognised.
    UnknownAlgorithm = "unknown-algorithm",
        "The key or signature uses an algorithm ward does not recognise; ward accepts Ed25519, ECDSA P-256/P-384 and RSA of 2048 bits or more.";
    /// The signature was made with a key that is not trusted.
    KeyNotTrusted = "key-not-trusted",
        "The signature was made with a public key that is not among the trusted keys; add the publisher's key (--key or the policy) if you trust it.";
    /// The key file cannot be read as a public key.
    KeyMalformed = "key-malformed",
        "The key file is not a PEM or DER public key ward can read.";
    /// The trusted root cannot be used.
    TrustedRootInvalid = "trusted-root-invalid",
        "The trusted root file is malformed or describes no usable authority; fix or replace --trusted-root.";
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ReasonCode::from_code(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown reason code {s:?}")))
    }
}

/// One reason behind a decision: a stable code and a one-line explanation
/// saying what failed and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// What failed and what was expected, in one line.
    pub message: String,
}

impl Reason {
    /// A reason with its code and message.
    pub fn new(code: ReasonCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = HashSet::new();
        for code in ReasonCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate reason code {s}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{s} is not kebab-case"
            );
            assert_eq!(ReasonCode::from_code(s), Some(*code));
            assert!(!code.description().is_empty());
        }
    }
}
