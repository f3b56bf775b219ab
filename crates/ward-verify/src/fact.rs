//! Verified facts: claims that a signature chaining to a trusted root covers
//! and whose subject is the artifact's digest.
//!
//! Only this crate creates facts, and only after a check succeeded; an
//! unverified claim never becomes a `Fact`. The compiler holds other crates
//! to that: every variant and every struct a fact carries is
//! `#[non_exhaustive]` (no literal outside this crate can build one), none
//! has a public constructor, `Default` or `Deserialize`. Other crates read
//! facts (match with `..`, read fields) but cannot make them. Records read
//! back from the ledger are plain JSON (`ward-ledger`'s record types), never
//! facts.
//!
//! Tests elsewhere that need a fact with chosen fields build it with
//! [`unverified`], compiled only under this crate's `unverified-facts`
//! feature, which only dev-dependencies turn on (`scripts/test.sh` checks
//! that the `ward` binary is built without it).
//!
//! Outside this crate, a fact can be read:
//!
//! ```
//! use ward_verify::{Fact, SignerIdentity};
//! fn who(fact: &Fact) -> Option<&str> {
//!     match fact.signer() {
//!         SignerIdentity::Keyless { identity, .. } => Some(identity),
//!         SignerIdentity::Key { .. } => None,
//!     }
//! }
//! ```
//!
//! but not made, neither whole nor from a signer:
//!
//! ```compile_fail,E0639
//! let signer = ward_verify::SignerIdentity::Key {
//!     fingerprint: "sha256:00".into(),
//!     algorithm: "ED25519".into(),
//! };
//! ```
//!
//! ```compile_fail,E0639
//! fn forge(signer: ward_verify::SignerIdentity) -> ward_verify::Fact {
//!     ward_verify::Fact::Signature {
//!         signer,
//!         evidence: "forged.sig".into(),
//!         signed_at: None,
//!         transparency_log: true,
//!         predicate_type: None,
//!     }
//! }
//! ```
//!
//! ```compile_fail,E0639
//! fn forge(p: &ward_verify::Provenance) -> ward_verify::Provenance {
//!     ward_verify::Provenance { source_repository: Some("https://github.com/evil/x".into()), ..p.clone() }
//! }
//! ```

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Who signed: a keyless (Fulcio) identity or a plain public key.
///
/// The variants are sealed (`#[non_exhaustive]`), the enum is not: a new kind
/// of signer must make every policy `match` on signers fail to compile until
/// someone decides how it counts, rather than fall into a wildcard arm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[allow(
    clippy::exhaustive_enums,
    reason = "closed on purpose: a new variant must break every match on it (each stage decides what it means) rather than fall into a wildcard arm"
)]
pub enum SignerIdentity {
    /// A Fulcio certificate's subject alternative name and OIDC issuer.
    #[non_exhaustive]
    Keyless {
        /// The certificate's SAN (an e-mail address or a workflow URI).
        identity: String,
        /// The OIDC issuer that vouched for the identity.
        issuer: String,
    },
    /// A plain public key, named by the SHA-256 of its DER SubjectPublicKeyInfo.
    #[non_exhaustive]
    Key {
        /// `sha256:<hex>` of the key's SPKI DER.
        fingerprint: String,
        /// The signature algorithm that verified (e.g. `ECDSA_P256_SHA256`).
        algorithm: String,
    },
}

/// A verified fact about the artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Fact {
    /// A signature over the artifact (or over a statement whose subject is the artifact) verified.
    #[non_exhaustive]
    Signature {
        /// Who signed.
        signer: SignerIdentity,
        /// The evidence file it came from.
        evidence: String,
        /// The verified signing time (RFC 3339 in JSON), when one was established.
        #[serde(skip_serializing_if = "Option::is_none")]
        signed_at: Option<jiff::Timestamp>,
        /// Whether a transparency-log inclusion proof (or promise) verified.
        transparency_log: bool,
        /// For DSSE evidence: the in-toto predicate type of the signed statement.
        #[serde(skip_serializing_if = "Option::is_none")]
        predicate_type: Option<String>,
    },
    /// An in-toto statement about the artifact, signed by `signer`, whose
    /// subject digest equals the artifact's.
    #[non_exhaustive]
    Statement {
        /// The predicate type URI.
        predicate_type: String,
        /// Who signed the statement.
        signer: SignerIdentity,
        /// The evidence file (and item) it came from.
        evidence: String,
        /// The predicate, for later stages (SBOM and scan results). Not
        /// serialised: facts stay small; the evidence digest names the source.
        #[serde(skip)]
        predicate: Option<Arc<serde_json::Value>>,
    },
    /// Build provenance (SLSA v0.2 or v1), read from a verified statement
    /// and, for keyless signers, from the Fulcio certificate's extensions.
    #[non_exhaustive]
    Provenance {
        /// What was learnt.
        #[serde(flatten)]
        provenance: Provenance,
        /// Who signed the provenance.
        signer: SignerIdentity,
        /// The evidence file it came from.
        evidence: String,
    },
    /// An independent rebuild: a rebuilder's signed statement that it
    /// rebuilt the artifact from source and that the result does (or does
    /// not) match it after normalisation (docs/rebuilds.md).
    #[non_exhaustive]
    Rebuild {
        /// What the rebuilder says.
        #[serde(flatten)]
        rebuild: Rebuild,
        /// Who signed the statements (the rebuilder's key).
        signer: SignerIdentity,
        /// The evidence file it came from.
        evidence: String,
    },
    /// The inputs a build recorded (`ward attest --build-inputs`): toolchain
    /// versions, package-manager configuration and lockfile digests,
    /// allowlisted environment variables, the container image.
    #[non_exhaustive]
    BuildInputs {
        /// What the statement records.
        #[serde(flatten)]
        inputs: BuildInputs,
        /// Who signed the statement.
        signer: SignerIdentity,
        /// The evidence file it came from.
        evidence: String,
    },
}

/// What a verified build-inputs statement records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BuildInputs {
    /// Tool name to the version it reported (`npm` to `10.9.2`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub toolchains: std::collections::BTreeMap<String, String>,
    /// The lockfile, as `PATH sha256:HEX`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockfile: Option<String>,
    /// Package-manager configuration files, as `PATH sha256:HEX` (digests only: they may hold tokens).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_files: Vec<String>,
    /// Allowlisted environment variables and their values (`None`: unset).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub environment: std::collections::BTreeMap<String, Option<String>>,
    /// The container image the build ran in, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_image: Option<String>,
    /// What the recorder warned about (an image named by tag, not digest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Whether a rebuild matched the artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(
    clippy::exhaustive_enums,
    reason = "closed on purpose: a new variant must break every match on it (each stage decides what it means) rather than fall into a wildcard arm"
)]
pub enum RebuildOutcome {
    /// The rebuilt artifact equals the published one after normalisation.
    Reproduced,
    /// The rebuilder says the rebuilt artifact differs from the published one.
    Diverged,
}

/// What a verified rebuild attestation says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Rebuild {
    /// Reproduced or diverged.
    pub outcome: RebuildOutcome,
    /// The statement's build type (`https://docs.oss-rebuild.dev/builds/ArtifactEquivalence@v0.1`).
    pub build_type: String,
    /// The rebuilder's builder id (`https://docs.oss-rebuild.dev/hosts/Google`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuilder: Option<String>,
    /// The ecosystem, package and version the rebuilder says it rebuilt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The source repository the rebuild started from (`https://github.com/chalk/chalk`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository: Option<String>,
    /// The source commit (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_commit: Option<String>,
    /// The Rebuild statement's build type, when one came with the equivalence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuild_type: Option<String>,
    /// `sha256:` of the build steps the rebuilder ran (its `steps.json`
    /// or `Dockerfile` byproduct), to compare rebuilds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_steps_digest: Option<String>,
    /// `sha256:` of the rebuilt artifact (the equivalence's candidate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuilt_digest: Option<String>,
}

/// What a verified provenance statement says about how the artifact was built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(Default))]
#[non_exhaustive]
pub struct Provenance {
    /// `https://slsa.dev/provenance/v1` or `https://slsa.dev/provenance/v0.2`.
    pub predicate_type: String,
    /// The builder id (SLSA `builder.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builder_id: Option<String>,
    /// The build type URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_type: Option<String>,
    /// The source repository, as `https://host/owner/repo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository: Option<String>,
    /// The source ref (`refs/tags/v1.0.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// The source commit (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_commit: Option<String>,
    /// The workflow or build config path (`.github/workflows/release.yml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_path: Option<String>,
    /// `github-hosted`, `self-hosted`, or what the builder reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner_environment: Option<String>,
    /// The build invocation id (a run URL or id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
}

impl Provenance {
    /// Provenance of this predicate type with nothing else learnt yet.
    pub(crate) fn of_type(predicate_type: String) -> Self {
        Self {
            predicate_type,
            builder_id: None,
            build_type: None,
            source_repository: None,
            source_ref: None,
            source_commit: None,
            workflow_path: None,
            runner_environment: None,
            invocation_id: None,
        }
    }
}

impl BuildInputs {
    /// A statement that recorded nothing yet.
    pub(crate) fn empty() -> Self {
        Self {
            toolchains: Default::default(),
            lockfile: None,
            config_files: Vec::new(),
            environment: Default::default(),
            container_image: None,
            warnings: Vec::new(),
        }
    }
}

impl Fact {
    /// The signer behind this fact.
    pub fn signer(&self) -> &SignerIdentity {
        match self {
            Fact::Signature { signer, .. }
            | Fact::Statement { signer, .. }
            | Fact::Provenance { signer, .. }
            | Fact::Rebuild { signer, .. }
            | Fact::BuildInputs { signer, .. } => signer,
        }
    }
}

/// Facts with chosen fields, for tests in other crates (policy rules, the
/// ledger's release index, benches) that must feed the decider facts no real
/// evidence carries. Compiled only with the `unverified-facts` feature,
/// which only dev-dependencies turn on; the `ward` binary never has it.
#[cfg(any(test, feature = "unverified-facts"))]
pub mod unverified {
    use super::{Fact, Provenance, SignerIdentity};

    /// A plain-key signer.
    pub fn key_signer(fingerprint: &str, algorithm: &str) -> SignerIdentity {
        SignerIdentity::Key {
            fingerprint: fingerprint.into(),
            algorithm: algorithm.into(),
        }
    }

    /// A keyless (Fulcio) signer.
    pub fn keyless_signer(identity: &str, issuer: &str) -> SignerIdentity {
        SignerIdentity::Keyless {
            identity: identity.into(),
            issuer: issuer.into(),
        }
    }

    /// A signature fact with no signing time, no transparency log and no predicate.
    pub fn signature(signer: SignerIdentity, evidence: &str) -> Fact {
        Fact::Signature {
            signer,
            evidence: evidence.into(),
            signed_at: None,
            transparency_log: false,
            predicate_type: None,
        }
    }

    /// Provenance of this predicate type with every other field empty (set them: they are public).
    pub fn provenance_of_type(predicate_type: &str) -> Provenance {
        Provenance::of_type(predicate_type.into())
    }

    /// A provenance fact.
    pub fn provenance(provenance: Provenance, signer: SignerIdentity, evidence: &str) -> Fact {
        Fact::Provenance {
            provenance,
            signer,
            evidence: evidence.into(),
        }
    }

    /// A statement fact, with its predicate when given.
    pub fn statement(
        predicate_type: &str,
        signer: SignerIdentity,
        evidence: &str,
        predicate: Option<serde_json::Value>,
    ) -> Fact {
        Fact::Statement {
            predicate_type: predicate_type.into(),
            signer,
            evidence: evidence.into(),
            predicate: predicate.map(std::sync::Arc::new),
        }
    }
}
