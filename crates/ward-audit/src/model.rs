//! What an audit reports: the packages it found installed, and one
//! [`AuditFinding`] per deviation, each of a stable [`AlertKind`].
//!
//! These types are the interface of the crate for everything built on an
//! audit (the watch loop, alert sinks, tickets, snapshots): their JSON
//! shape is documented in docs/monitoring.md and kept stable.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use ward_core::{Ecosystem, PackageId, Severity};

/// What kind of deviation a finding is. Each has a stable kebab-case code
/// ([`AlertKind::code`]), listed in docs/monitoring.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AlertKind {
    /// No allow in the ledger for the artifact this package was installed from.
    Unvetted,
    /// A file's digest or size differs from what was recorded or allowed.
    Modified,
    /// A recorded or allowed file is not on disk.
    Missing,
    /// A file on disk that no record or allowed artifact lists.
    Extra,
    /// A file (or a whole package) whose bytes cannot be tied to a recorded
    /// digest: no hash recorded, no allowed artifact to compare with, or it
    /// changed while being hashed. Never a pass.
    Unverifiable,
    /// A symbolic link that points outside its package (never followed).
    LinkEscapes,
    /// A manifest (`RECORD`, `.cargo-checksum.json`) names a path outside
    /// the environment, or an absolute path (never followed).
    PathEscapes,
    /// The artifact differs from the bytes the ledger first allowed for
    /// the same package file (its release pin).
    ReleaseChanged,
    /// A vulnerability advisory matches now that the allowing decision did
    /// not weigh.
    NewlyVulnerable,
    /// A malicious-package record matches now that the allowing decision
    /// did not weigh.
    NewlyMalicious,
    /// A vulnerability past its remediation deadline (policy `[remediation]`).
    Overdue,
    /// A file or directory that could not be read (permissions, I/O): the
    /// audit is incomplete.
    Unreadable,
}

impl AlertKind {
    /// Every kind, in documentation order.
    pub const ALL: &'static [AlertKind] = &[
        AlertKind::Unvetted,
        AlertKind::Modified,
        AlertKind::Missing,
        AlertKind::Extra,
        AlertKind::Unverifiable,
        AlertKind::LinkEscapes,
        AlertKind::PathEscapes,
        AlertKind::ReleaseChanged,
        AlertKind::NewlyVulnerable,
        AlertKind::NewlyMalicious,
        AlertKind::Overdue,
        AlertKind::Unreadable,
    ];

    /// The stable code (`modified`, `link-escapes`, …).
    pub fn code(self) -> &'static str {
        match self {
            AlertKind::Unvetted => "unvetted",
            AlertKind::Modified => "modified",
            AlertKind::Missing => "missing",
            AlertKind::Extra => "extra",
            AlertKind::Unverifiable => "unverifiable",
            AlertKind::LinkEscapes => "link-escapes",
            AlertKind::PathEscapes => "path-escapes",
            AlertKind::ReleaseChanged => "release-changed",
            AlertKind::NewlyVulnerable => "newly-vulnerable",
            AlertKind::NewlyMalicious => "newly-malicious",
            AlertKind::Overdue => "overdue",
            AlertKind::Unreadable => "unreadable",
        }
    }

    /// The kind a code names.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// One line on what it means.
    pub fn summary(self) -> &'static str {
        match self {
            AlertKind::Unvetted => "no allow in the ledger for the artifact this package was installed from",
            AlertKind::Modified => "a file's digest or size differs from what was recorded or allowed",
            AlertKind::Missing => "a recorded or allowed file is not on disk",
            AlertKind::Extra => "a file on disk that no record or allowed artifact lists",
            AlertKind::Unverifiable => "bytes that cannot be tied to a recorded digest (never a pass)",
            AlertKind::LinkEscapes => "a symbolic link pointing outside its package (not followed)",
            AlertKind::PathEscapes => "a manifest names a path outside the environment (not followed)",
            AlertKind::ReleaseChanged => "other bytes than the ledger first allowed for this package file",
            AlertKind::NewlyVulnerable => "a vulnerability advisory the allowing decision did not weigh",
            AlertKind::NewlyMalicious => "a malicious-package record the allowing decision did not weigh",
            AlertKind::Overdue => "a vulnerability past its remediation deadline",
            AlertKind::Unreadable => "a file or directory that could not be read: the audit is incomplete",
        }
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What a file is (or was recorded as): its digest, size, or link target.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileState {
    /// SHA-256, lower-case hex (absent: not recorded, or not computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// A symbolic link's target (the link itself, never followed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl FileState {
    /// A regular file's state.
    pub fn file(sha256: Option<String>, size: Option<u64>) -> Self {
        Self {
            sha256,
            size,
            link: None,
        }
    }

    /// A symbolic link's state.
    pub fn link(target: String) -> Self {
        Self {
            sha256: None,
            size: None,
            link: Some(target),
        }
    }
}

impl std::fmt::Display for FileState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(t) = &self.link {
            return write!(f, "link -> {t}");
        }
        match (&self.sha256, self.size) {
            (Some(h), Some(s)) => write!(f, "sha256:{h} ({s} bytes)"),
            (Some(h), None) => write!(f, "sha256:{h}"),
            (None, Some(s)) => write!(f, "{s} bytes"),
            (None, None) => f.write_str("nothing recorded"),
        }
    }
}

/// An advisory a finding is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AdvisoryRef {
    /// Its id (`GHSA-…`, `PYSEC-…`, `MAL-…`).
    pub id: String,
    /// Other ids for the same advisory.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One-line summary.
    #[serde(default)]
    pub summary: String,
    /// Its severity (`none` when unrated or malicious).
    pub severity: Severity,
}

/// One deviation of one installed package.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditFinding {
    /// What kind of deviation.
    pub kind: AlertKind,
    /// The package (its purl in JSON). A directory ward could not identify
    /// is named `pkg:generic/<directory name>`.
    pub package: PackageId,
    /// Where the package is installed (its directory; for Python the
    /// environment's site directory).
    pub location: PathBuf,
    /// The file, relative to `location`, when the finding is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// What was recorded or allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<FileState>,
    /// What is on disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<FileState>,
    /// The advisory, for `newly-vulnerable`, `newly-malicious` and `overdue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory: Option<AdvisoryRef>,
    /// The remediation deadline, when the policy sets one for the severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<jiff::Timestamp>,
    /// A sentence for people.
    pub detail: String,
}

impl AuditFinding {
    /// A finding with nothing but its kind, package, location and detail.
    pub fn new(kind: AlertKind, package: PackageId, location: PathBuf, detail: impl Into<String>) -> Self {
        Self {
            kind,
            package,
            location,
            file: None,
            expected: None,
            found: None,
            advisory: None,
            due: None,
            detail: detail.into(),
        }
    }

    /// About one file.
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// With the recorded and the found state.
    pub fn with_states(mut self, expected: Option<FileState>, found: Option<FileState>) -> Self {
        self.expected = expected;
        self.found = found;
        self
    }

    /// The stable identity of the finding across audits (kind, package,
    /// location, file, advisory): the same deviation seen again has the
    /// same key; what was found (a digest) is not part of it.
    pub fn key(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.kind.code(),
            self.package.to_purl(),
            self.location.display(),
            self.file.as_deref().unwrap_or("-"),
            self.advisory.as_ref().map_or("-", |a| a.id.as_str())
        )
    }
}

/// The artifact an installed package came from, as far as the installed
/// tree tells (npm `.package-lock.json` integrity, Python
/// `direct_url.json` hashes, cargo `.cargo-checksum.json` package digest, a
/// `.crate` file in cargo's cache), or as matched against an allowed artifact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArtifactDigest {
    /// SHA-256, lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// SHA-512, lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
}

/// The ledger entry that allowed an installed package's artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AllowRef {
    /// The ledger entry index.
    pub index: u64,
    /// When the decision was made.
    pub time: jiff::Timestamp,
    /// The allowed artifact's SHA-256 (lower-case hex).
    pub sha256: String,
    /// The allowed artifact's file name.
    pub file_name: String,
}

/// One installed package, as the audit found it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Installed {
    /// Name and version (the ecosystem is `id.ecosystem`).
    pub id: PackageId,
    /// Its directory (Python: the `.dist-info` directory).
    pub location: PathBuf,
    /// The environment it is installed in (site directory, `node_modules`,
    /// vendor directory, cargo home).
    pub environment: PathBuf,
    /// The installer that wrote it (Python `INSTALLER`), when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installer: Option<String>,
    /// The artifact it came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<ArtifactDigest>,
    /// The allow that covers it, when the ledger has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<AllowRef>,
    /// Files checked.
    pub files: u64,
    /// Files whose bytes were hashed, and how many bytes.
    pub hashed_files: u64,
    /// Bytes hashed.
    pub hashed_bytes: u64,
}

impl Installed {
    /// The ecosystem.
    pub fn ecosystem(&self) -> Ecosystem {
        self.id.ecosystem
    }
}

/// What kind of environment a path was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EnvironmentKind {
    /// A Python site directory (`*.dist-info`).
    Python,
    /// An npm `node_modules` tree.
    Npm,
    /// A cargo `vendor/` directory (`.cargo-checksum.json`).
    CargoVendor,
    /// A cargo home (`registry/src` against `registry/cache`).
    CargoHome,
}

/// An environment the audit read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Environment {
    /// Its directory.
    pub path: PathBuf,
    /// What it is.
    pub kind: EnvironmentKind,
}

/// Totals of one audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditStats {
    /// Packages audited.
    pub packages: u64,
    /// Files checked.
    pub files: u64,
    /// Files hashed.
    pub hashed_files: u64,
    /// Bytes hashed.
    pub hashed_bytes: u64,
    /// Per-file findings not listed one by one (over the per-package cap;
    /// each package says how many in a summary finding of the same kind).
    pub findings_omitted: u64,
}

/// The result of [`crate::audit`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditReport {
    /// The environments read.
    pub environments: Vec<Environment>,
    /// Every package found, in the order found.
    pub packages: Vec<Installed>,
    /// Every finding, grouped by package in the order found.
    pub findings: Vec<AuditFinding>,
    /// Totals.
    pub stats: AuditStats,
}

impl AuditReport {
    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Whether something could not be read (the audit is incomplete).
    pub fn incomplete(&self) -> bool {
        self.findings.iter().any(|f| f.kind == AlertKind::Unreadable)
    }

    /// The findings of one kind.
    pub fn of_kind(&self, kind: AlertKind) -> impl Iterator<Item = &AuditFinding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }
}
