//! The evidence presented with an artifact: bundles, detached signatures,
//! attestations, keys, expected digests and npm registry signatures.
//!
//! Each evidence file is read once, through ward-input's bounded reader, into
//! an [`EvidenceFile`]: the bytes verified are the bytes whose SHA-256 the
//! decision record names, under the file's label (the path the user gave, or
//! the URL the proxy fetched it from), never a temporary path.

use crate::GateError;
use std::path::{Path, PathBuf};
use ward_core::{EvidenceRef, Reason, ReasonCode};
use ward_verify::{EvidenceFile, PublicKey, SignerRequirement};

/// An evidence file to read, and how reports and the ledger name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceSource {
    /// Where the bytes are now.
    pub path: PathBuf,
    /// Where they came from: the path as given, or the URL they were fetched from.
    pub label: String,
}

impl EvidenceSource {
    /// A file fetched or copied to `path` from `label`.
    pub fn new(path: impl Into<PathBuf>, label: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            label: label.into(),
        }
    }
}

impl From<PathBuf> for EvidenceSource {
    /// A file the user named: labelled by its path.
    fn from(path: PathBuf) -> Self {
        let label = path.display().to_string();
        Self { path, label }
    }
}

impl From<&Path> for EvidenceSource {
    fn from(path: &Path) -> Self {
        path.to_path_buf().into()
    }
}

impl From<&PathBuf> for EvidenceSource {
    fn from(path: &PathBuf) -> Self {
        path.clone().into()
    }
}

/// An evidence file as the pipeline holds it: read once, or refused.
pub(crate) enum Loaded {
    /// Read within the limits: these bytes are verified and recorded.
    Read(EvidenceFile),
    /// Refused before verification (too large): a failed check, and the file
    /// is still named in the record.
    Refused {
        /// How the record names it (the digest streamed in constant memory).
        reference: EvidenceRef,
        /// Why it was refused.
        reason: Reason,
    },
}

impl Loaded {
    /// Reads one evidence file. Only a file that cannot be read at all (gone,
    /// a FIFO or device, permission) is an error (exit 2).
    pub(crate) fn read(source: &EvidenceSource) -> Result<Self, GateError> {
        match EvidenceFile::read(&source.path, source.label.clone()) {
            Ok(file) => Ok(Loaded::Read(file)),
            Err(e) if e.is_unreadable() => Err(GateError::Evidence(e)),
            Err(e) => Ok(Loaded::Refused {
                reference: EvidenceRef {
                    uri: source.label.clone(),
                    sha256: streamed_sha256(&source.path),
                },
                reason: e.to_reason(),
            }),
        }
    }

    /// How the decision record names it.
    pub(crate) fn reference(&self) -> EvidenceRef {
        match self {
            Loaded::Read(file) => file.evidence_ref(),
            Loaded::Refused { reference, .. } => reference.clone(),
        }
    }
}

/// The SHA-256 of a file refused for its size, streamed in constant memory
/// (regular files only); empty when it cannot be read.
fn streamed_sha256(path: &Path) -> String {
    ward_input::InputFile::new(path, "evidence file", u64::MAX)
        .open()
        .ok()
        .and_then(|f| ward_identify::hash::digest_reader(f).ok())
        .map(|(d, _)| d.sha256.to_hex())
        .unwrap_or_default()
}

/// The evidence presented with an artifact.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// Sigstore bundles that sign the artifact itself.
    pub bundles: Vec<EvidenceSource>,
    /// Detached signature files (raw or base64), checked with the keys.
    pub signatures: Vec<EvidenceSource>,
    /// Attestation files (bundles, DSSE envelopes, JSONL, npm and PyPI formats).
    pub attestations: Vec<EvidenceSource>,
    /// Rebuild attestations (OSS Rebuild's `rebuild.intoto.jsonl`, or
    /// `ward rebuild compare --attest`), checked with the keys and the
    /// policy's `[[rebuilder]]` keys.
    pub rebuilds: Vec<EvidenceSource>,
    /// Trusted public keys given on the command line.
    pub keys: Vec<PublicKey>,
    /// Keys that were presented but refused (weak, unknown or malformed),
    /// with why: each is a failed check, so the artifact is denied.
    pub refused_keys: Vec<(String, Reason)>,
    /// The keyless signer trusted for `bundles` when no policy is used.
    pub signer: SignerRequirement,
    /// Digests the artifact must have, and who says so (the ledger's
    /// earlier allow, the registry index): other bytes deny.
    pub expected: Vec<ExpectedDigest>,
    /// npm registry signatures from the packument's `dist.signatures`.
    pub npm_registry_signatures: Vec<NpmRegistrySignature>,
    /// What the registry's listing says about this release and the ones
    /// before it (publish times, publishers, attestation flags), for the
    /// cooldown and history rules; the proxy fills it in.
    pub release: Option<ward_policy::release::RegistryReleases>,
    /// Attestations of earlier releases the registry lists with
    /// provenance, fetched so the history rules learn where they were built.
    pub baseline: Vec<BaselineAttestations>,
    /// What the registry's listing says earlier versions did at install
    /// (install scripts, dependencies), for the risky-change rules when ward
    /// allowed no earlier release itself; the proxy fills it in.
    pub registry_traits: Option<std::sync::Arc<crate::risky::RegistryBaseline>>,
}

/// An earlier release's attestations (npm `dist.attestations`), to be
/// verified against the digest the registry lists for it.
#[derive(Clone, Debug)]
pub struct BaselineAttestations {
    /// The fetched file (absent when `fetch_error` says why).
    pub source: EvidenceSource,
    /// The earlier release, with its version.
    pub package: ward_core::PackageId,
    /// Its file name.
    pub file_name: String,
    /// Its sha512 as the registry lists it, hex.
    pub sha512: String,
    /// Why the attestations could not be fetched, if they could not.
    pub fetch_error: Option<String>,
}

/// One of npm's `dist.signatures`, with the `dist.integrity` it covers.
#[derive(Clone, Debug)]
pub struct NpmRegistrySignature {
    /// `keyid`.
    pub key_id: String,
    /// `sig`, base64.
    pub signature: String,
    /// `dist.integrity` (SRI) of the version.
    pub integrity: String,
}

/// A digest an artifact must have.
#[derive(Clone, Debug)]
pub struct ExpectedDigest {
    /// `sha256` or `sha512`.
    pub algorithm: &'static str,
    /// Lower-case hex.
    pub hex: String,
    /// Who says so, for the message ("ledger entry 12", "the registry index").
    pub source: String,
    /// The reason code when it differs.
    pub code: ReasonCode,
}

impl Evidence {
    /// Reads a key file into `keys`, or into `refused_keys` when the key is
    /// weak, unknown or malformed. Only an unreadable file is an error.
    pub fn add_key_file(&mut self, path: &Path) -> Result<(), GateError> {
        match PublicKey::from_file(path) {
            Ok(key) => self.keys.push(key),
            Err(e) if e.is_unreadable() => return Err(GateError::Evidence(e)),
            Err(e) => self.refused_keys.push((path.display().to_string(), e.to_reason())),
        }
        Ok(())
    }

    /// Adds sidecar files next to the artifact when none of their kind was
    /// given: `NAME.sigstore.json` / `NAME.sigstore` (bundles), `NAME.sig`
    /// (with a key), `NAME.intoto.jsonl` (attestations),
    /// `NAME.rebuild.intoto.jsonl` (rebuild attestations).
    pub fn discover_sidecars(&mut self, artifact: &Path) {
        let name = artifact.as_os_str().to_string_lossy().into_owned();
        let exists = |suffix: &str| {
            Some(PathBuf::from(format!("{name}{suffix}")))
                .filter(|p| p.is_file())
                .map(EvidenceSource::from)
        };
        if self.bundles.is_empty() && self.signatures.is_empty() {
            self.bundles
                .extend([".sigstore.json", ".sigstore"].iter().filter_map(|s| exists(s)));
            if !self.keys.is_empty() {
                self.signatures.extend(exists(".sig"));
            }
        }
        if self.attestations.is_empty() {
            self.attestations.extend(exists(".intoto.jsonl"));
        }
        if self.rebuilds.is_empty() {
            self.rebuilds.extend(exists(ward_verify::rebuild::SIDECAR_SUFFIX));
        }
    }
}

impl Evidence {
    /// Names the evidence file at `path` by `label` in reports and the
    /// ledger (the proxy names a spooled file by the URL it came from).
    pub fn relabel(&mut self, path: &Path, label: impl Into<String>) {
        let label = label.into();
        for source in self
            .bundles
            .iter_mut()
            .chain(&mut self.signatures)
            .chain(&mut self.attestations)
            .chain(&mut self.rebuilds)
            .filter(|s| s.path == path)
        {
            source.label.clone_from(&label);
        }
    }
}
