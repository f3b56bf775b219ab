//! Verified facts: claims that a signature chaining to a trusted root covers
//! and whose subject is the artifact's digest.
//!
//! Only `ward-verify` creates facts, and only after a check succeeded; an
//! unverified claim never becomes a `Fact`.

use serde::{Deserialize, Serialize};

/// Who signed: a keyless (Fulcio) identity or a plain public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SignerIdentity {
    /// A Fulcio certificate's subject alternative name and OIDC issuer.
    Keyless {
        /// The certificate's SAN (an e-mail address or a workflow URI).
        identity: String,
        /// The OIDC issuer that vouched for the identity.
        issuer: String,
    },
    /// A plain public key, named by the SHA-256 of its DER SubjectPublicKeyInfo.
    Key {
        /// `sha256:<hex>` of the key's SPKI DER.
        fingerprint: String,
        /// The signature algorithm that verified (e.g. `ECDSA_P256_SHA256`).
        algorithm: String,
    },
}

/// A verified fact about the artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Fact {
    /// A signature over the artifact (or over a statement whose subject is the artifact) verified.
    Signature {
        /// Who signed.
        signer: SignerIdentity,
        /// The evidence file it came from.
        evidence: String,
        /// The verified signing time (RFC 3339), when one was established.
        #[serde(skip_serializing_if = "Option::is_none")]
        signed_at: Option<String>,
        /// Whether a transparency-log inclusion proof (or promise) verified.
        transparency_log: bool,
        /// For DSSE evidence: the in-toto predicate type of the signed statement.
        #[serde(skip_serializing_if = "Option::is_none")]
        predicate_type: Option<String>,
    },
}
