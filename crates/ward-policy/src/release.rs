//! Release metadata and history: what the registry says about the release
//! being decided and the releases before it (publish time, publishing
//! account, whether it carries provenance), and what the ledger recorded
//! about earlier releases it allowed (the verified provenance source).
//!
//! The registry proxy reads the first from packuments, Simple API pages
//! and index lines (`ward_registry::release_meta`); the gate looks the
//! second up in the ledger's index. The cooldown and history rules
//! ([`crate::Cooldown`], [`crate::HistoryRule`]) decide over both, and the
//! whole of it is recorded with the decision, so the record says what was
//! compared.

use jiff::Timestamp;
use serde::Serialize;

/// At most this many earlier releases are carried with a decision (and
/// a `history.window` may be at most this).
pub const MAX_WINDOW: usize = 50;

/// How far in the future a publish time may be before it is a
/// contradiction rather than clock skew.
pub const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// Which kind of registry field a problem is in, so that only the rules
/// that read it become "could not evaluate".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetaField {
    /// Publish times (npm `time`, PyPI `upload-time`, cargo `pubtime`).
    PublishTime,
    /// The publishing account (npm `_npmUser`).
    Publisher,
    /// Attestation and provenance links (npm `dist.attestations`, PyPI `provenance`).
    Provenance,
    /// The list of versions itself (a version listed twice): every rule.
    Versions,
}

/// A missing, malformed or contradictory field of the registry's metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetaProblem {
    /// What kind of field.
    pub field: MetaField,
    /// Which field and what is wrong with it (`time["1.2.3"] is not a date`).
    pub message: String,
}

/// What the registry says about one release.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseMeta {
    /// The version.
    pub version: String,
    /// When it was published, when the registry says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<Timestamp>,
    /// The account that published it, when the registry names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Whether the registry lists attestations or provenance for it.
    pub provenance: bool,
}

/// What the registry's listing says about the release being decided and
/// the releases published before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistryReleases {
    /// The document it was read from (`npm packument`, `PyPI JSON Simple API`, …).
    pub source: String,
    /// Whether this registry names publishing accounts at all.
    pub names_publishers: bool,
    /// The release being decided.
    pub release: ReleaseMeta,
    /// Releases published before it, newest first, at most [`MAX_WINDOW`].
    pub earlier: Vec<ReleaseMeta>,
    /// Problems with the fields of the release or of the listing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<MetaProblem>,
}

impl RegistryReleases {
    /// The first problem with a field of this kind (or with the list of versions).
    pub fn problem(&self, field: MetaField) -> Option<&MetaProblem> {
        self.problems
            .iter()
            .find(|p| p.field == field || p.field == MetaField::Versions)
    }
}

/// Where a verified provenance statement says a release was built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProvenanceSource {
    /// The source repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The workflow (or build config) path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The builder id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builder: Option<String>,
}

impl ProvenanceSource {
    /// The source of a verified provenance fact.
    pub fn of(p: &ward_verify::Provenance) -> Self {
        Self {
            repository: p.source_repository.as_deref().map(normalize_repository),
            workflow: p.workflow_path.clone(),
            builder: p.builder_id.clone(),
        }
    }

    /// `repository workflow (builder)`, for messages.
    pub fn describe(&self) -> String {
        let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not stated)".into());
        format!(
            "{} {} (builder {})",
            or(&self.repository),
            or(&self.workflow),
            or(&self.builder)
        )
    }
}

/// A repository URI in one form: no `git+`, no `.git`, no trailing `/`,
/// host in lower case.
pub fn normalize_repository(uri: &str) -> String {
    let s = uri.trim().trim_start_matches("git+");
    let s = s.strip_suffix('/').unwrap_or(s);
    let s = s.strip_suffix(".git").unwrap_or(s);
    match s.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            format!("{scheme}://{}/{path}", host.to_ascii_lowercase())
        }
        None => s.to_string(),
    }
}

/// An earlier release of the package as the ledger recorded it (allowed
/// decisions only: a denied release never becomes the baseline).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedRelease {
    /// The version.
    pub version: String,
    /// The ledger entry that allowed it.
    pub index: u64,
    /// Its publish time, as the registry said when it was allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<Timestamp>,
    /// Its publisher, as the registry said when it was allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Where its verified provenance says it was built, if it had any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceSource>,
}

/// Everything known about a release's history when it is decided.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseHistory {
    /// What the registry's listing says (absent when the artifact did not
    /// come through the proxy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryReleases>,
    /// Earlier releases the ledger allowed, newest first (at most
    /// [`MAX_WINDOW`]); empty without a ledger.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recorded: Vec<RecordedRelease>,
    /// Why the ledger's history could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_unreadable: Option<String>,
    /// Whether a ledger was consulted at all.
    pub ledger: bool,
    /// Provenance of earlier releases that the registry lists, fetched and
    /// verified with this decision (the newest such release in the window,
    /// when the proxy could find its attestations).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fetched: Vec<FetchedProvenance>,
}

/// The verified provenance of an earlier release, fetched from the
/// registry's attestations for it (bound to its listed digest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FetchedProvenance {
    /// The earlier release.
    pub version: String,
    /// Where the attestations came from.
    pub evidence: String,
    /// Where it was built, if its provenance verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceSource>,
    /// Why its provenance did not verify, if it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified: Option<String>,
}
