//! Lays a scenario's releases out as a registry directory, as the registry
//! stood at one moment of the timeline: the proxy's directory upstreams
//! read it (npm in verdaccio's storage layout, `NAME/package.json` with the
//! tarballs beside it; PyPI as a flat directory of distributions).
//!
//! A release is listed from its `published` time until its `removed` time.
//! npm packuments carry what the real registry publishes and ward's rules
//! read: `time`, `_npmUser`, `dist.integrity`, the dependencies and scripts.
//! Dependencies the scenario does not ship are served as generated filler
//! packages, published long before the incident.

use crate::scenario::{Ecosystem, Release, Scenario};
use crate::standin::{self, BuildError, Built};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Why the upstream could not be written.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// An archive could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The directory could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// What one layout holds, for the report.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// `name@version` → sha256 of the bytes served.
    pub served: BTreeMap<String, String>,
}

/// Builds every release once (stand-ins are deterministic, so each stage
/// serves the same bytes).
pub fn build_all(scenario: &Scenario) -> Result<BTreeMap<String, Built>, UpstreamError> {
    let mut out = BTreeMap::new();
    for release in &scenario.releases {
        out.insert(release.id(), standin::build(scenario, release)?);
    }
    for filler in fillers(scenario, &out) {
        let built = standin::build(scenario, &filler)?;
        out.insert(filler.id(), built);
    }
    Ok(out)
}

/// Writes the upstream as it stood at `at` into `dir`.
pub fn write(
    scenario: &Scenario,
    built: &BTreeMap<String, Built>,
    at: Timestamp,
    dir: &Path,
) -> Result<Layout, UpstreamError> {
    let mut releases: Vec<Release> = scenario.releases.clone();
    releases.extend(fillers(scenario, built));
    let listed: Vec<&Release> = releases
        .iter()
        .filter(|r| r.published <= at && r.removed.is_none_or(|gone| gone > at))
        .collect();
    let mut layout = Layout::default();
    match scenario.ecosystem {
        Ecosystem::Npm => {
            let mut by_name: BTreeMap<&str, Vec<&Release>> = BTreeMap::new();
            for r in &listed {
                by_name.entry(r.name.as_str()).or_default().push(r);
            }
            for (name, mut versions) in by_name {
                versions.sort_by_key(|r| r.published);
                let pkg_dir = dir.join(name);
                mkdir(&pkg_dir)?;
                let mut doc_versions = serde_json::Map::new();
                let mut times = serde_json::Map::new();
                for r in &versions {
                    let Some(b) = built.get(&r.id()) else { continue };
                    let (bytes, indexed) = served_at(scenario, r, b, at);
                    write_file(&pkg_dir.join(&b.file), bytes)?;
                    layout.served.insert(r.id(), standin::sha256_hex(bytes));
                    let mut meta = serde_json::json!({
                        "name": r.name,
                        "version": r.version,
                        "dependencies": b.dependencies,
                        "dist": {
                            "tarball": format!("http://upstream.invalid/{}/-/{}", r.name, b.file),
                            "integrity": standin::sri_sha512(indexed),
                        },
                    });
                    if !b.scripts.is_empty() {
                        meta["scripts"] = b.scripts.clone().into();
                        meta["hasInstallScript"] = b
                            .scripts
                            .keys()
                            .any(|k| ["preinstall", "install", "postinstall"].contains(&k.as_str()))
                            .into();
                    }
                    if let Some(p) = &r.publisher {
                        meta["_npmUser"] = serde_json::json!({"name": p, "email": format!("{p}@users.invalid")});
                    }
                    doc_versions.insert(r.version.clone(), meta);
                    times.insert(r.version.clone(), r.published.to_string().into());
                }
                let (Some(first), Some(last)) = (versions.first(), versions.last()) else {
                    continue;
                };
                times.insert("created".into(), first.published.to_string().into());
                times.insert("modified".into(), last.published.to_string().into());
                let packument = serde_json::json!({
                    "name": name,
                    "dist-tags": {"latest": last.version},
                    "versions": doc_versions,
                    "time": times,
                });
                write_file(
                    &pkg_dir.join("package.json"),
                    &serde_json::to_vec_pretty(&packument).unwrap_or_default(),
                )?;
            }
        }
        Ecosystem::Pypi => {
            // PEP 691 JSON pages with PEP 700 `upload-time`, served over
            // loopback HTTP by [`LoopbackIndex`]: `simple/<project>/index.json`
            // and the files under `files/`.
            let files_dir = dir.join("files");
            mkdir(&files_dir)?;
            let mut by_project: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
            for r in &listed {
                let Some(b) = built.get(&r.id()) else { continue };
                let (bytes, indexed) = served_at(scenario, r, b, at);
                write_file(&files_dir.join(&b.file), bytes)?;
                layout.served.insert(r.id(), standin::sha256_hex(bytes));
                by_project
                    .entry(normalise(&r.name))
                    .or_default()
                    .push(serde_json::json!({
                        "filename": b.file,
                        "url": format!("../../files/{}", b.file),
                        "hashes": {"sha256": standin::sha256_hex(indexed)},
                        "upload-time": r.published.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                    }));
            }
            for (project, files) in by_project {
                let page = serde_json::json!({
                    "meta": {"api-version": "1.1"},
                    "name": project,
                    "files": files,
                });
                let at = dir.join("simple").join(&project);
                mkdir(&at)?;
                write_file(
                    &at.join("index.json"),
                    &serde_json::to_vec_pretty(&page).unwrap_or_default(),
                )?;
            }
        }
    }
    Ok(layout)
}

/// The bytes served and the bytes the index describes, at `at`: a
/// republished release serves its honest bytes until T0.
fn served_at<'a>(scenario: &Scenario, r: &Release, b: &'a Built, at: Timestamp) -> (&'a [u8], &'a [u8]) {
    let republished = r.stand_in.as_ref().is_some_and(|s| s.republished);
    if republished && at < scenario.timeline.published {
        (&b.honest, &b.honest)
    } else {
        (&b.bytes, &b.indexed)
    }
}

/// Generated packages for npm dependencies the scenario does not ship
/// (event-stream's `through`, `split`, …): one version each, the one the
/// range names, published a year before the baseline.
fn fillers(scenario: &Scenario, built: &BTreeMap<String, Built>) -> Vec<Release> {
    if scenario.ecosystem != Ecosystem::Npm {
        return Vec::new();
    }
    let shipped: BTreeSet<&str> = scenario.releases.iter().map(|r| r.name.as_str()).collect();
    let mut wanted: BTreeMap<String, String> = BTreeMap::new();
    for b in built.values() {
        for (name, range) in &b.dependencies {
            if shipped.contains(name.as_str()) {
                continue;
            }
            let version = range
                .as_str()
                .unwrap_or_default()
                .trim_start_matches(['^', '~', '=', '>', ' '])
                .to_string();
            wanted.entry(name.clone()).or_insert(version);
        }
    }
    let published = scenario
        .timeline
        .baseline_at()
        .saturating_sub(jiff::SignedDuration::from_hours(365 * 24))
        .unwrap_or(scenario.timeline.published);
    wanted
        .into_iter()
        .map(|(name, version)| Release {
            name,
            version,
            published,
            removed: None,
            publisher: Some("drill-filler".into()),
            archive: None,
            dependencies: BTreeMap::new(),
            stand_in: None,
        })
        .collect()
}

/// PEP 503 name normalisation (`Foo_Bar` → `foo-bar`).
fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// A static PyPI index (the layout [`write`] makes for PyPI) served on
/// 127.0.0.1 with the PEP 691 content type, until dropped.
pub struct LoopbackIndex {
    /// The index's base URL (`http://127.0.0.1:PORT`); the proxy's upstream.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LoopbackIndex {
    /// Serves `dir` on a free loopback port.
    pub fn serve(dir: &Path) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let root = dir.to_path_buf();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
                    let root = root.clone();
                    async move { static_file(&root, uri.path()) }
                });
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Ok(Self {
            url,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for LoopbackIndex {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One file of the index: `simple/<project>/` is its `index.json`.
fn static_file(root: &Path, path: &str) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse as _;
    let mut file = root.to_path_buf();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if part == ".." || part.contains('\\') {
            return StatusCode::NOT_FOUND.into_response();
        }
        file.push(part);
    }
    let (file, kind) = if path.ends_with('/') {
        (file.join("index.json"), "application/vnd.pypi.simple.v1+json")
    } else {
        (file, "application/octet-stream")
    };
    match std::fs::read(&file) {
        Ok(bytes) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn mkdir(path: &Path) -> Result<(), UpstreamError> {
    std::fs::create_dir_all(path).map_err(|source| UpstreamError::Write {
        path: path.display().to_string(),
        source,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), UpstreamError> {
    std::fs::write(path, bytes).map_err(|source| UpstreamError::Write {
        path: path.display().to_string(),
        source,
    })
}
