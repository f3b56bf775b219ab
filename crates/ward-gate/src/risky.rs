//! Risky-change signals: the archive traits of the releases ward allowed,
//! kept in a small indexed store, and the comparison input for the policy's
//! risky-change rules.
//!
//! The store is one SQLite file (`release-traits.sqlite` in ward's data
//! directory), one row per allowed package file: package, kind, version,
//! file name, sha256, the traits as JSON, and the ledger entry that allowed
//! it. It is written when the gate records an allow (so the baseline is
//! what ward itself let through, not what the registry says today), and
//! read by primary key: one indexed query for the package's versions, one
//! for the chosen version's traits, never a scan. The traits are data
//! derived from an allowed artifact; a store that cannot be read makes the
//! comparing rules report `risky-change-unevaluable` (fail closed), and a
//! store that cannot be written loses only future baselines (the decision
//! is already recorded in the ledger).
//!
//! A gate keeps each package's versions (parsed, in order) and the traits
//! it looked up in memory while SQLite's `data_version` says no other
//! process wrote to the store; its own writes drop the package's entry.

use crate::Gate;
use rusqlite::{Connection, OptionalExtension, params};
use std::cmp::Ordering;
use std::path::Path;
use std::sync::{Arc, Mutex};
use ward_core::{ArchiveTraits, Artifact, ArtifactKind, Ecosystem, PackageId};
use ward_policy::{Baseline, EarlierRelease, RiskyInput};
use ward_scan::version::VersionScheme;

/// The store's file name in ward's data directory.
pub const STORE_FILE: &str = "release-traits.sqlite";

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("release-traits store {path}: {source}")]
pub struct StoreError {
    path: String,
    #[source]
    source: rusqlite::Error,
}

/// One package's allowed versions of one kind, in the ecosystem's order,
/// with the union of each version's traits once looked up.
type Versions = Vec<(ward_scan::version::Version, String, Option<ArchiveTraits>)>;

/// What a gate remembers of the store between lookups.
#[derive(Default)]
struct Cache {
    /// SQLite's `data_version` when the cache was filled: another
    /// connection's commit changes it.
    data_version: i64,
    packages: std::collections::HashMap<(String, &'static str), Versions>,
}

/// The traits of every package file ward allowed, by package and version.
pub struct ReleaseTraits {
    conn: Mutex<(Connection, Cache)>,
    path: String,
}

impl std::fmt::Debug for ReleaseTraits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReleaseTraits").field("path", &self.path).finish()
    }
}

/// The key rows are kept under: the package without its version.
fn package_key(id: &PackageId) -> String {
    format!("{}:{}", id.ecosystem.purl_type(), id.normalized_name())
}

fn kind_key(kind: ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::NpmTarball => "npm-tarball",
        ArtifactKind::Wheel => "wheel",
        ArtifactKind::Sdist => "sdist",
        ArtifactKind::Crate => "crate",
        ArtifactKind::File => "file",
    }
}

impl ReleaseTraits {
    /// Opens (creating) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let err = |source| StoreError {
            path: shown.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS releases (
                 package TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 version TEXT NOT NULL,
                 file TEXT NOT NULL,
                 sha256 TEXT NOT NULL,
                 traits TEXT NOT NULL,
                 ledger_index INTEGER,
                 PRIMARY KEY (package, kind, version, file)
             ) WITHOUT ROWID;",
        )
        .map_err(err)?;
        Ok(Self {
            conn: Mutex::new((conn, Cache::default())),
            path: shown,
        })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError {
            path: self.path.clone(),
            source,
        }
    }

    /// Keeps the traits of an allowed package file (the first allow of a
    /// file wins, like release pins).
    pub fn remember(
        &self,
        artifact: &Artifact,
        traits: &ArchiveTraits,
        ledger_index: Option<u64>,
    ) -> Result<(), StoreError> {
        let Some(version) = &artifact.id.version else {
            return Ok(());
        };
        let json =
            serde_json::to_string(traits).map_err(|e| self.err(rusqlite::Error::ToSqlConversionFailure(e.into())))?;
        let mut guard = self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (conn, cache) = &mut *guard;
        cache
            .packages
            .remove(&(package_key(&artifact.id), kind_key(artifact.kind)));
        conn.execute(
            "INSERT OR IGNORE INTO releases (package, kind, version, file, sha256, traits, ledger_index)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                package_key(&artifact.id),
                kind_key(artifact.kind),
                version,
                artifact.file_name,
                artifact.digests.sha256.to_hex(),
                json,
                ledger_index.and_then(|i| i64::try_from(i).ok()),
            ],
        )
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The nearest earlier release (in the ecosystem's version order) of the
    /// same package and kind, with the union of its files' traits; `None`
    /// when ward allowed none. Versions the ecosystem's order cannot read
    /// are skipped.
    pub fn earlier(&self, artifact: &Artifact) -> Result<Option<EarlierRelease>, StoreError> {
        let Some(current) = artifact.id.version.as_deref() else {
            return Ok(None);
        };
        let Some(scheme) = VersionScheme::for_ecosystem(artifact.id.ecosystem) else {
            return Ok(None);
        };
        let Ok(current) = scheme.parse(current) else {
            return Ok(None);
        };
        let (package, kind) = (package_key(&artifact.id), kind_key(artifact.kind));
        let mut guard = self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (conn, cache) = &mut *guard;
        let data_version: i64 = conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if data_version != cache.data_version {
            cache.packages.clear();
            cache.data_version = data_version;
        }
        let key = (package, kind);
        if !cache.packages.contains_key(&key) {
            let mut stmt = conn
                .prepare_cached("SELECT DISTINCT version FROM releases WHERE package = ?1 AND kind = ?2")
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params![key.0, key.1], |r| r.get::<_, String>(0))
                .map_err(|e| self.err(e))?;
            let mut versions: Versions = Vec::new();
            for v in rows {
                let v = v.map_err(|e| self.err(e))?;
                if let Ok(parsed) = scheme.parse(&v) {
                    versions.push((parsed, v, None));
                }
            }
            versions.sort_by(|a, b| a.0.compare(&b.0).unwrap_or(Ordering::Equal));
            cache.packages.insert(key.clone(), versions);
        }
        let Some(versions) = cache.packages.get_mut(&key) else {
            return Ok(None);
        };
        // The nearest version below the current one.
        let below = versions.partition_point(|(v, _, _)| v.compare(&current) == Some(Ordering::Less));
        let Some(i) = below.checked_sub(1) else { return Ok(None) };
        let (_, version, traits) = &mut versions[i];
        if traits.is_none() {
            let mut stmt = conn
                .prepare_cached("SELECT traits FROM releases WHERE package = ?1 AND kind = ?2 AND version = ?3")
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params![key.0, key.1, &*version], |r| r.get::<_, String>(0))
                .map_err(|e| self.err(e))?;
            let mut union = ArchiveTraits::default();
            for json in rows {
                let json = json.map_err(|e| self.err(e))?;
                let one: ArchiveTraits = serde_json::from_str(&json).map_err(|e| {
                    self.err(rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Text,
                        e.into(),
                    ))
                })?;
                merge(&mut union, one);
            }
            *traits = Some(union);
        }
        Ok(traits.clone().map(|traits| EarlierRelease {
            version: version.clone(),
            traits,
            baseline: Baseline::Allowed,
        }))
    }

    /// Whether the store holds this exact file (for tests and reports).
    pub fn holds(&self, artifact: &Artifact) -> Result<bool, StoreError> {
        let guard = self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        guard
            .0
            .query_row(
                "SELECT 1 FROM releases WHERE package = ?1 AND kind = ?2 AND version = ?3 AND file = ?4",
                params![
                    package_key(&artifact.id),
                    kind_key(artifact.kind),
                    artifact.id.version.as_deref().unwrap_or_default(),
                    artifact.file_name
                ],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(|e| self.err(e))
    }
}

/// What a registry's listing says each version did at install: its
/// manifest's install scripts, `gypfile` and dependencies (npm packument).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistryBaseline {
    /// The document it was read from (`the npm packument`).
    pub source: String,
    /// Version and traits, in the ecosystem's version order (see
    /// [`RegistryBaseline::new`]).
    versions: Vec<(String, ArchiveTraits)>,
    /// The ecosystem whose order `versions` follow.
    ecosystem: Option<Ecosystem>,
}

impl RegistryBaseline {
    /// A baseline of these versions, put in the ecosystem's order once (so
    /// each artifact's lookup parses a handful of versions, not the whole
    /// listing); versions that order cannot read are left out.
    pub fn new(source: &str, ecosystem: Ecosystem, versions: Vec<(String, ArchiveTraits)>) -> Self {
        let Some(scheme) = VersionScheme::for_ecosystem(ecosystem) else {
            return Self::default();
        };
        let mut parsed: Vec<(ward_scan::version::Version, String, ArchiveTraits)> = versions
            .into_iter()
            .filter_map(|(v, t)| Some((scheme.parse(&v).ok()?, v, t)))
            .collect();
        parsed.sort_by(|a, b| a.0.compare(&b.0).unwrap_or(Ordering::Equal));
        Self {
            source: source.to_string(),
            versions: parsed.into_iter().map(|(_, v, t)| (v, t)).collect(),
            ecosystem: Some(ecosystem),
        }
    }

    /// How many versions it holds.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// The nearest version below the artifact's, in its ecosystem's order.
    pub fn earlier(&self, artifact: &Artifact) -> Option<EarlierRelease> {
        if self.ecosystem != Some(artifact.id.ecosystem) {
            return None;
        }
        let scheme = VersionScheme::for_ecosystem(artifact.id.ecosystem)?;
        let current = scheme.parse(artifact.id.version.as_deref()?).ok()?;
        let below = self.versions.partition_point(|(v, _)| {
            scheme
                .parse(v)
                .is_ok_and(|p| p.compare(&current) == Some(Ordering::Less))
        });
        let (version, traits) = self.versions.get(below.checked_sub(1)?)?;
        Some(EarlierRelease {
            version: version.clone(),
            traits: traits.clone(),
            baseline: Baseline::Registry(self.source.clone()),
        })
    }
}

/// The nearer of two earlier releases (ward's own on a tie or when the
/// versions cannot be compared).
fn nearer(
    artifact: &Artifact,
    allowed: Option<EarlierRelease>,
    listed: Option<EarlierRelease>,
) -> Option<EarlierRelease> {
    match (allowed, listed) {
        (Some(a), Some(l)) => {
            let scheme = VersionScheme::for_ecosystem(artifact.id.ecosystem);
            let newer = scheme
                .and_then(|s| Some((s.parse(&a.version).ok()?, s.parse(&l.version).ok()?)))
                .and_then(|(x, y)| y.compare(&x))
                == Some(Ordering::Greater);
            Some(if newer { l } else { a })
        }
        (a, l) => a.or(l),
    }
}

/// The union of two files' traits (several files of one version).
fn merge(into: &mut ArchiveTraits, other: ArchiveTraits) {
    for (k, v) in other.install_scripts {
        into.install_scripts.entry(k).or_insert(v);
    }
    into.binding_gyp |= other.binding_gyp;
    match (&mut into.dependencies, other.dependencies) {
        (Some(a), Some(b)) => {
            for (k, v) in b {
                a.entry(k).or_insert(v);
            }
        }
        (a @ None, b) => *a = b,
        (Some(_), None) => {}
    }
    into.pth_files.extend(other.pth_files);
    into.native_binaries.extend(other.native_binaries);
    into.native_binaries.sort();
    into.native_binaries.dedup();
    into.extension_sources |= other.extension_sources;
}

impl Gate {
    /// Keeps the traits of every artifact this gate allows and records in
    /// `store`, and compares each artifact with the earlier release found
    /// there for the policy's risky-change rules.
    pub fn with_release_traits(mut self, store: ReleaseTraits) -> Self {
        self.release_traits = Some(Arc::new(store));
        self
    }

    /// The release-traits store, if the gate keeps one.
    pub fn release_traits(&self) -> Option<&ReleaseTraits> {
        self.release_traits.as_deref()
    }

    /// Opens the release-traits store in `data_dir` ([`STORE_FILE`]).
    pub fn with_release_traits_in(self, data_dir: &Path) -> Result<Self, StoreError> {
        Ok(self.with_release_traits(ReleaseTraits::open(&data_dir.join(STORE_FILE))?))
    }

    /// Whether identify hashes every file inside an archive: only when a
    /// malicious-package record lists file hashes to compare with.
    pub(crate) fn file_digests(&self) -> ward_identify::FileDigests {
        match &self.advisories {
            Some((db, _)) if db.has_file_indicators() => ward_identify::FileDigests::Compute,
            _ => ward_identify::FileDigests::Skip,
        }
    }

    /// Whether a scope of the policy compares this package's releases (so
    /// the proxy reads the registry's listing of earlier versions for it).
    pub fn compares_releases(&self, id: &PackageId) -> bool {
        self.custom_policy && self.policy.scopes_for(id).iter().any(|s| s.risky.compares())
    }

    /// The input of the risky-change rules (and of Rego rules) for one
    /// artifact: `None` when no scope for the package has such a rule, or
    /// the artifact has no traits
    /// (not an archive ward could read). The earlier release is the nearer
    /// of the one ward allowed (its store) and the one the registry's listing
    /// names (`registry`); on a tie, ward's own.
    pub(crate) fn risky_input(
        &self,
        artifact: &Artifact,
        traits: Option<&ArchiveTraits>,
        registry: Option<&RegistryBaseline>,
    ) -> Option<RiskyInput> {
        let traits = traits?;
        let scopes = self.policy.scopes_for(&artifact.id);
        // Rego rules see the traits too (`input.traits`, `input.earlier_release`).
        if !scopes.iter().any(|s| s.risky.any() || s.rego.is_some()) {
            return None;
        }
        let earlier = if scopes.iter().any(|s| s.risky.compares() || s.rego.is_some()) {
            let allowed = match &self.release_traits {
                Some(store) => store.earlier(artifact).map_err(|e| e.to_string()),
                None => Ok(None),
            };
            allowed.map(|allowed| nearer(artifact, allowed, registry.and_then(|r| r.earlier(artifact))))
        } else {
            Ok(None)
        };
        Some(RiskyInput {
            traits: traits.clone(),
            earlier,
        })
    }
}
