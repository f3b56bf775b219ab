//! PyPI's Simple API: `/pypi/simple/<project>/` as PEP 503 HTML or PEP 691
//! JSON (by `Accept`, with `Vary: Accept`), files at
//! `/pypi/files/<project>/<file>` with their sha256 in the link, PEP 658
//! metadata at `<file>.metadata`, and PEP 740 provenance passed on.
//!
//! Upstream is a Simple API (JSON preferred, HTML read too) or a directory
//! of distributions (flat, or one sub-directory per normalised project, as
//! pypiserver and `pip download -d` leave them). File URLs are plain paths
//! with no query string, because pip appends `.metadata` to them.

use crate::Proxy;
use crate::keeper::{ArtifactRequest, plain_file_name, upstream_failed};
use crate::memory::listing_too_large;
use crate::respond::{Refusal, base_url, document, refusal, served};
use crate::upstream::{Source, Upstream, resolve};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::Digest as _;
use std::io::Read as _;
use std::sync::Arc;
use ward_core::purl::normalize_pypi_name;
use ward_core::{Ecosystem, PackageId};

const JSON_V1: &str = "application/vnd.pypi.simple.v1+json";

/// What the proxy knows of one file of a project.
#[derive(Clone, Debug)]
pub struct FileEntry {
    /// Where it is upstream.
    pub source: Source,
    /// Its sha256, as the index lists it.
    pub sha256: Option<String>,
    /// `requires-python`.
    pub requires_python: Option<String>,
    /// `yanked` (false, true, or the reason).
    pub yanked: Value,
    /// Core metadata (PEP 658/714): `true` or its hashes.
    pub core_metadata: Value,
    /// PEP 740 provenance URL, passed on.
    pub provenance: Option<String>,
    /// `upload-time` (PEP 700, JSON pages only), as written.
    pub upload_time: Option<String>,
    /// The page's release metadata (shared by its files), when the policy
    /// reads it (cooldown, history rules).
    pub releases: Option<Arc<crate::release_meta::PackageReleases>>,
}

/// `GET /pypi/simple/`.
pub async fn root() -> Response {
    document(
        b"<!DOCTYPE html><html><body><p>ward: ask for /pypi/simple/PROJECT/</p></body></html>".to_vec(),
        "text/html",
    )
}

/// `GET /pypi/simple/<project>/`.
pub async fn project(State(proxy): State<Arc<Proxy>>, Path(project): Path<String>, headers: HeaderMap) -> Response {
    if !valid_project(&project) {
        return refusal(
            StatusCode::NOT_FOUND,
            &format!("{project:?} is not a project name"),
            false,
        );
    }
    let normalized = normalize_pypi_name(&project);
    let files = match listing(&proxy, &normalized).await {
        Ok(files) => files,
        Err(refused) => {
            proxy.metadata_refused(format!("pypi/{normalized}"), refused.status.as_u16(), &refused.reason);
            return refused.into_response();
        }
    };
    let base = base_url(&headers);
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains(JSON_V1));
    let url = |name: &str| format!("{base}/pypi/files/{normalized}/{name}");
    let mut response = if wants_json {
        let list: Vec<Value> = files
            .iter()
            .map(|(name, f)| {
                let mut o = json!({"filename": name, "url": url(name), "hashes": {}});
                if let Some(h) = &f.sha256 {
                    o["hashes"]["sha256"] = json!(h);
                }
                if let Some(r) = &f.requires_python {
                    o["requires-python"] = json!(r);
                }
                if f.yanked != Value::Bool(false) && !f.yanked.is_null() {
                    o["yanked"] = f.yanked.clone();
                }
                if f.core_metadata != Value::Bool(false) && !f.core_metadata.is_null() {
                    o["core-metadata"] = f.core_metadata.clone();
                    o["dist-info-metadata"] = f.core_metadata.clone();
                }
                if let Some(p) = &f.provenance {
                    o["provenance"] = json!(p);
                }
                o
            })
            .collect();
        let doc = json!({"meta": {"api-version": "1.0"}, "name": normalized, "files": list});
        document(doc.to_string().into_bytes(), JSON_V1)
    } else {
        let mut html = format!(
            "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Links for {normalized}</title></head><body><h1>Links for {normalized}</h1>\n"
        );
        for (name, f) in &files {
            let fragment = f.sha256.as_ref().map(|h| format!("#sha256={h}")).unwrap_or_default();
            let mut attrs = String::new();
            if let Some(r) = &f.requires_python {
                attrs.push_str(&format!(" data-requires-python=\"{}\"", escape(r)));
            }
            match &f.yanked {
                Value::Bool(true) => attrs.push_str(" data-yanked=\"\""),
                Value::String(why) => attrs.push_str(&format!(" data-yanked=\"{}\"", escape(why))),
                _ => {}
            }
            let meta = match &f.core_metadata {
                Value::Object(h) => h
                    .get("sha256")
                    .and_then(|v| v.as_str())
                    .map(|h| format!("sha256={h}"))
                    .unwrap_or_else(|| "true".into()),
                Value::Bool(true) => "true".into(),
                _ => String::new(),
            };
            if !meta.is_empty() {
                attrs.push_str(&format!(
                    " data-core-metadata=\"{meta}\" data-dist-info-metadata=\"{meta}\""
                ));
            }
            if let Some(p) = &f.provenance {
                attrs.push_str(&format!(" data-provenance=\"{}\"", escape(p)));
            }
            html.push_str(&format!(
                "<a href=\"{}{fragment}\"{attrs}>{}</a><br/>\n",
                escape(&url(name)),
                escape(name)
            ));
        }
        html.push_str("</body></html>\n");
        document(html.into_bytes(), "text/html; charset=utf-8")
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// The project's files upstream, those the gate has refused marked as
/// yanked with ward's reason (PEP 592), remembered (bounded) for the file
/// requests that follow.
async fn listing(proxy: &Arc<Proxy>, project: &str) -> Result<Vec<(String, FileEntry)>, Refusal> {
    let Some(upstream) = proxy.upstreams.pypi.clone() else {
        return Err(Refusal {
            status: StatusCode::NOT_FOUND,
            reason: "no PyPI upstream is configured".into(),
            json: false,
        });
    };
    let (p, n) = (Arc::clone(proxy), project.to_string());
    let files = match tokio::task::spawn_blocking(move || list(&p, &upstream, &n)).await {
        Ok(listed) => listed?,
        Err(e) => {
            return Err(Refusal {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                reason: e.to_string(),
                json: false,
            });
        }
    };
    let files = hold_back(proxy, project, files);
    let files: Vec<(String, FileEntry)> = files
        .into_iter()
        .map(|(name, mut entry)| {
            let digests: Vec<(&str, String)> = entry.sha256.iter().map(|h| ("sha256", h.clone())).collect();
            if let Some(reason) = proxy.keeper.listed_refusal(&key(project, &name), &digests) {
                entry.yanked = Value::String(crate::respond::refused_mark(&reason));
            }
            (name, entry)
        })
        .collect();
    for (name, entry) in &files {
        proxy
            .pypi_files
            .insert((project.to_string(), name.clone()), entry.clone());
    }
    Ok(files)
}

/// Reads the page's release metadata when the policy needs it, gives it to
/// every file, and leaves the files of versions a cooldown holds back off
/// the page (remembered still, so that their download is judged and
/// refused with the reason); pip then picks an older version.
fn hold_back(proxy: &Proxy, project: &str, files: Vec<(String, FileEntry)>) -> Vec<(String, FileEntry)> {
    if !proxy
        .keeper
        .wants_release_metadata(&PackageId::new(ward_core::Ecosystem::Pypi, None, project, None))
    {
        return files;
    }
    let json = files.iter().any(|(_, f)| f.upload_time.is_some());
    let releases = Arc::new(crate::release_meta::pypi(
        json,
        files.iter().map(|(name, f)| crate::release_meta::PypiFile {
            name,
            upload_time: f.upload_time.as_deref(),
            provenance: f.provenance.is_some(),
        }),
    ));
    let mut listed = Vec::with_capacity(files.len());
    for (name, mut entry) in files {
        entry.releases = Some(Arc::clone(&releases));
        let held = crate::release_meta::pypi_file_version(&name).is_some_and(|v| {
            let id = PackageId::new(ward_core::Ecosystem::Pypi, None, project, Some(v.clone()));
            proxy.keeper.listing_hold(&id, releases.for_listing(&v)).is_some()
        });
        if held {
            proxy.pypi_files.insert((project.to_string(), name), entry);
        } else {
            listed.push((name, entry));
        }
    }
    listed
}

/// A PyPI project name as PEP 508 allows it (letters, digits, `.`, `-`, `_`):
/// anything else, a `/` decoded from `%2F` above all, never reaches a path.
fn valid_project(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn key(project: &str, file: &str) -> String {
    format!("pypi/{project}/{file}")
}

/// The package a distribution file of `project` is: the project's name,
/// PEP 503 normalised, and the version its file name gives (none when the
/// name gives none, so nothing is looked up by a guessed version).
fn package_id(project: &str, dist: &str) -> PackageId {
    let project = normalize_pypi_name(project);
    let version = sdist_version(dist, &project).or_else(|| crate::release_meta::pypi_file_version(dist));
    PackageId::new(Ecosystem::Pypi, None, &project, version)
}

/// An sdist's version: what follows the part of its stem that names the
/// project (legacy names may hold `-` in the version too: `foo-1.0-1.tar.gz`
/// is version `1.0-1`, not `1`). `None` for a wheel or a name that does not
/// start with the project.
fn sdist_version(file: &str, project: &str) -> Option<String> {
    let lower = file.to_ascii_lowercase();
    let stem_len = [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .find(|s| lower.ends_with(*s))
        .map(|s| file.len() - s.len())?;
    let stem = &file[..stem_len];
    stem.match_indices('-')
        .find(|(i, _)| normalize_pypi_name(&stem[..*i]) == project)
        .map(|(i, _)| stem[i + 1..].to_string())
        .filter(|v| !v.is_empty())
}

/// Whether a distribution file name belongs to a (normalised) project.
fn belongs(file: &str, project: &str) -> bool {
    let n = normalize_pypi_name(file);
    n.strip_prefix(project)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

fn is_distribution(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .any(|s| lower.ends_with(s))
}

fn sha256_file(path: &std::path::Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(_) => return None,
        }
    }
    Some(hex::encode(h.finalize()))
}

/// The project's files upstream, or the answer to give instead.
fn list(proxy: &Proxy, upstream: &Upstream, project: &str) -> Result<Vec<(String, FileEntry)>, Refusal> {
    match upstream {
        Upstream::Dir(root) => {
            let sub = root.join(project);
            let dir = if sub.is_dir() { sub } else { root.clone() };
            let entries = std::fs::read_dir(&dir).map_err(|e| Refusal {
                status: StatusCode::BAD_GATEWAY,
                reason: format!("{}: {e}", dir.display()),
                json: false,
            })?;
            let mut files = Vec::new();
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !is_distribution(&name) || !belongs(&name, project) || !e.path().is_file() {
                    continue;
                }
                if files.len() >= proxy.max_listing_entries {
                    return Err(Refusal {
                        status: StatusCode::BAD_GATEWAY,
                        reason: listing_too_large(&dir.display().to_string(), proxy.max_listing_entries),
                        json: false,
                    });
                }
                let path = e.path();
                let metadata = path.with_file_name(format!("{name}.metadata"));
                let core_metadata = match sha256_file(&metadata) {
                    Some(h) if metadata.is_file() => json!({"sha256": h}),
                    _ => Value::Bool(false),
                };
                files.push((
                    name,
                    FileEntry {
                        sha256: sha256_file(&path),
                        source: Source::File(path),
                        requires_python: None,
                        yanked: Value::Bool(false),
                        core_metadata,
                        provenance: None,
                        upload_time: None,
                        releases: None,
                    },
                ));
            }
            if files.is_empty() {
                return Err(Refusal {
                    status: StatusCode::NOT_FOUND,
                    reason: format!("{project}: not found upstream"),
                    json: false,
                });
            }
            files.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(files)
        }
        Upstream::Http(_) => {
            let page = upstream
                .locate(&format!("simple/{project}/"))
                .map_err(|e| Refusal::from_served(upstream_failed(&e), false))?;
            let (bytes, final_url) = proxy
                .keeper
                .metadata(
                    &page,
                    Some(&format!("{JSON_V1}, text/html;q=0.1")),
                    &format!("pypi-page/{project}"),
                )
                .map_err(|e| Refusal::from_served(upstream_failed(&e), false))?;
            let max = proxy.max_listing_entries;
            parse_page(&bytes, &final_url, max).map_err(|e| Refusal {
                status: StatusCode::BAD_GATEWAY,
                reason: match e {
                    PageError::TooLarge => listing_too_large(&format!("the upstream page for {project}"), max),
                    PageError::Malformed(why) => format!(
                        "{}: upstream page for {project} is malformed: {why}",
                        ward_core::ReasonCode::UpstreamFailed
                    ),
                },
                json: false,
            })
        }
    }
}

/// Why a project page could not be read.
#[derive(Debug)]
enum PageError {
    /// More files than the listing limit.
    TooLarge,
    /// Not a page.
    Malformed(String),
}

/// One file of a PEP 691 page, as much as the proxy reads of it.
#[derive(serde::Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, Value>,
    #[serde(rename = "requires-python", default)]
    requires_python: Option<Value>,
    #[serde(default)]
    yanked: Option<Value>,
    #[serde(rename = "core-metadata", default)]
    core_metadata: Option<Value>,
    #[serde(rename = "dist-info-metadata", default)]
    dist_info_metadata: Option<Value>,
    #[serde(default)]
    provenance: Option<Value>,
    #[serde(rename = "upload-time", default)]
    upload_time: Option<Value>,
}

/// Reads a PEP 691 page's `files` one by one into entries, stopping at
/// the first file over `max` (so a huge page is never held whole as a tree).
struct JsonPage<'a> {
    page_url: &'a str,
    max: usize,
    over: &'a std::cell::Cell<bool>,
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonPage<'_> {
    type Value = Vec<(String, FileEntry)>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonPage<'_> {
    type Value = Vec<(String, FileEntry)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a PEP 691 project page")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut files = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "files" && files.is_none() {
                files = Some(map.next_value_seed(JsonFiles { page: &self })?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        files.ok_or_else(|| serde::de::Error::custom("no `files` list"))
    }
}

struct JsonFiles<'p, 'a> {
    page: &'p JsonPage<'a>,
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonFiles<'_, '_> {
    type Value = Vec<(String, FileEntry)>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonFiles<'_, '_> {
    type Value = Vec<(String, FileEntry)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a `files` list")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(f) = seq.next_element::<JsonFile>()? {
            if out.len() >= self.page.max {
                self.page.over.set(true);
                return Err(serde::de::Error::custom("too many files"));
            }
            let Some(name) = plain_file_name(&f.filename) else {
                continue;
            };
            let text = |v: Option<Value>| v.and_then(|v| v.as_str().map(String::from));
            out.push((
                name.to_string(),
                FileEntry {
                    source: Source::Url(resolve(self.page.page_url, f.url.split('#').next().unwrap_or(&f.url))),
                    sha256: f
                        .hashes
                        .get("sha256")
                        .and_then(|h| h.as_str())
                        .map(str::to_ascii_lowercase),
                    requires_python: text(f.requires_python),
                    yanked: f.yanked.unwrap_or(Value::Bool(false)),
                    core_metadata: f.core_metadata.or(f.dist_info_metadata).unwrap_or(Value::Bool(false)),
                    provenance: text(f.provenance),
                    upload_time: text(f.upload_time),
                    releases: None,
                },
            ));
        }
        Ok(out)
    }
}

/// Reads a PEP 691 JSON or PEP 503 HTML project page of at most `max` files.
fn parse_page(bytes: &[u8], page_url: &str, max: usize) -> Result<Vec<(String, FileEntry)>, PageError> {
    let text = std::str::from_utf8(bytes).map_err(|e| PageError::Malformed(e.to_string()))?;
    let mut out = Vec::new();
    if text.trim_start().starts_with('{') {
        let over = std::cell::Cell::new(false);
        let mut de = serde_json::Deserializer::from_str(text);
        let read = serde::de::DeserializeSeed::deserialize(
            JsonPage {
                page_url,
                max,
                over: &over,
            },
            &mut de,
        )
        .and_then(|files| de.end().map(|()| files));
        return match read {
            Ok(files) => Ok(files),
            Err(_) if over.get() => Err(PageError::TooLarge),
            Err(e) => Err(PageError::Malformed(e.to_string())),
        };
    }
    // PEP 503 HTML: one anchor per file.
    for chunk in text.split("<a ").skip(1) {
        let Some(end) = chunk.find('>') else { continue };
        let attrs = &chunk[..end];
        let label_end = chunk[end + 1..]
            .find("</a>")
            .map(|i| end + 1 + i)
            .unwrap_or(chunk.len());
        let label = unescape(chunk[end + 1..label_end].trim());
        let attr = |name: &str| -> Option<String> {
            let at = attrs.find(&format!("{name}=\""))?;
            let rest = &attrs[at + name.len() + 2..];
            Some(unescape(&rest[..rest.find('"')?]))
        };
        let Some(href) = attr("href") else { continue };
        let (url, fragment) = href.split_once('#').unwrap_or((&href, ""));
        let name = url.rsplit('/').next().unwrap_or(&label).to_string();
        let Some(name) = plain_file_name(&name).map(String::from) else {
            continue;
        };
        let meta = attr("data-core-metadata").or_else(|| attr("data-dist-info-metadata"));
        if out.len() >= max {
            return Err(PageError::TooLarge);
        }
        out.push((
            name,
            FileEntry {
                source: Source::Url(resolve(page_url, url)),
                sha256: fragment.strip_prefix("sha256=").map(str::to_ascii_lowercase),
                requires_python: attr("data-requires-python"),
                yanked: match attr("data-yanked") {
                    None => Value::Bool(false),
                    Some(r) if r.is_empty() => Value::Bool(true),
                    Some(r) => Value::String(r),
                },
                core_metadata: match meta {
                    None => Value::Bool(false),
                    Some(m) => match m.strip_prefix("sha256=") {
                        Some(h) => json!({"sha256": h}),
                        None => Value::Bool(true),
                    },
                },
                provenance: attr("data-provenance"),
                upload_time: None,
                releases: None,
            },
        ));
    }
    Ok(out)
}

/// `GET /pypi/files/<project>/<file>` (and `<file>.metadata`).
pub async fn file(State(proxy): State<Arc<Proxy>>, Path((project, file)): Path<(String, String)>) -> Response {
    if !valid_project(&project) {
        return refusal(
            StatusCode::NOT_FOUND,
            &format!("{project:?} is not a project name"),
            false,
        );
    }
    let project = normalize_pypi_name(&project);
    let Some(name) = plain_file_name(&file).map(String::from) else {
        return refusal(StatusCode::NOT_FOUND, "not a file name", false);
    };
    let (dist, metadata) = match name.strip_suffix(".metadata") {
        Some(d) => (d.to_string(), true),
        None => (name.clone(), false),
    };
    let mut entry = proxy.pypi_files.get(&(project.clone(), dist.clone()));
    let mut refused = None;
    if entry.is_none() {
        // A client that skipped the index (a pinned URL, a restarted proxy),
        // or a listing since forgotten: list it now, and take the file from
        // that fresh listing (never from memory that may have dropped it).
        match listing(&proxy, &project).await {
            Ok(files) => entry = files.into_iter().find(|(name, _)| *name == dist).map(|(_, e)| e),
            Err(r) => refused = Some(r),
        }
    }
    let Some(entry) = entry else {
        // A refused file upstream no longer lists: its download stays refused.
        if let Some(denied) = proxy.keeper.denial(&key(&project, &dist)) {
            return served(denied, "application/octet-stream", false).await;
        }
        if let Some(r) = refused {
            return r.into_response();
        }
        return refusal(
            StatusCode::NOT_FOUND,
            &format!("{dist} is not listed for {project} upstream"),
            false,
        );
    };
    if metadata {
        let source = match &entry.source {
            Source::File(p) => Source::File(p.with_file_name(format!("{dist}.metadata"))),
            Source::Url(u) => Source::Url(format!("{u}.metadata")),
        };
        let upstream_host = proxy.upstreams.pypi.as_ref().and_then(Upstream::host);
        if let Err(e) = proxy.keeper.fetcher().may_fetch(&source, upstream_host.as_deref()) {
            return served(upstream_failed(&e), "text/plain", false).await;
        }
        // Kept like any metadata (served within its TTL, then revalidated):
        // pip checks it against the page's `data-core-metadata` digest.
        let (p, key) = (Arc::clone(&proxy), format!("pypi-core-metadata/{project}/{dist}"));
        return match tokio::task::spawn_blocking(move || p.keeper.metadata(&source, None, &key)).await {
            Ok(Ok((bytes, _))) => document(bytes, "application/octet-stream"),
            Ok(Err(e)) => served(upstream_failed(&e), "text/plain", false).await,
            Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), false),
        };
    }
    let request = ArtifactRequest {
        key: key(&project, &dist),
        file_name: dist.clone(),
        // The package's identity, as npm and crates.io requests carry it:
        // rebuild sources are looked up by it, and the gate holds the
        // file's own metadata to it.
        purl: Some(package_id(&project, &dist)),
        sidecars: Proxy::sidecars(proxy.probe_pypi(), &entry.source, &dist),
        source: entry.source.clone(),
        index_digests: entry.sha256.iter().map(|h| ("sha256", h.clone())).collect(),
        // PEP 740 provenance, in the format ward's attestation reader knows.
        attestations: entry
            .provenance
            .iter()
            .map(|u| (Source::Url(u.clone()), format!("{dist}.provenance.json")))
            .collect(),
        npm_signatures: Vec::new(),
        baseline: Vec::new(),
        upstream_host: proxy.upstreams.pypi.as_ref().and_then(Upstream::host),
        release: entry
            .releases
            .as_ref()
            .and_then(|r| crate::release_meta::pypi_file_version(&dist).map(|v| r.for_version(&v))),
        // PyPI's listing names files, not what they do at install.
        registry_traits: None,
    };
    served(proxy.keeper.artifact(request).await, "application/octet-stream", false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_html_and_json_pages() {
        let html = r#"<html><body><a href="../../files/demo-1.0-py3-none-any.whl#sha256=ABCD" data-requires-python="&gt;=3.8" data-core-metadata="sha256=ef">demo-1.0-py3-none-any.whl</a><br/>
            <a href="demo-1.0.tar.gz" data-yanked="">demo-1.0.tar.gz</a></body></html>"#;
        let files = parse_page(html.as_bytes(), "http://up/simple/demo/", 10).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].1.source,
            Source::Url("http://up/files/demo-1.0-py3-none-any.whl".into())
        );
        assert_eq!(files[0].1.sha256.as_deref(), Some("abcd"));
        assert_eq!(files[0].1.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(files[0].1.core_metadata, json!({"sha256": "ef"}));
        assert_eq!(files[1].1.yanked, Value::Bool(true));
        let json = r#"{"meta": {"api-version": "1.1"}, "name": "demo", "files": [{"filename": "demo-1.0.tar.gz", "url": "https://files.example/demo-1.0.tar.gz", "hashes": {"sha256": "00"}, "provenance": "https://up/integrity/demo/1.0/demo-1.0.tar.gz/provenance"}]}"#;
        let files = parse_page(json.as_bytes(), "https://up/simple/demo/", 10).unwrap();
        assert_eq!(
            files[0].1.provenance.as_deref(),
            Some("https://up/integrity/demo/1.0/demo-1.0.tar.gz/provenance")
        );
        assert!(parse_page(b"{\"files\": 3}", "http://up/", 10).is_err());
        // A file name that is a path is not listed.
        let evil = r#"{"files": [{"filename": "../../etc/passwd", "url": "x"}]}"#;
        assert!(parse_page(evil.as_bytes(), "http://up/", 10).unwrap().is_empty());
        // Over the limit, in either format: refused, not cut.
        assert!(matches!(
            parse_page(html.as_bytes(), "http://up/", 1),
            Err(PageError::TooLarge)
        ));
        let two = r#"{"files": [{"filename": "a-1.tar.gz", "url": "a"}, {"filename": "a-2.tar.gz", "url": "b"}], "meta": {}}"#;
        assert_eq!(parse_page(two.as_bytes(), "http://up/", 2).unwrap().len(), 2);
        assert!(matches!(
            parse_page(two.as_bytes(), "http://up/", 1),
            Err(PageError::TooLarge)
        ));
        assert!(matches!(
            parse_page(b"{\"files\": []} x", "http://up/", 1),
            Err(PageError::Malformed(_))
        ));
    }

    #[test]
    fn project_names_cannot_name_paths() {
        assert!(valid_project("Demo_Pkg.x-1"));
        for bad in ["", "..", "../etc", "/etc", "a/b", "-x", "a\\b", "a b"] {
            assert!(!valid_project(bad), "{bad:?}");
        }
    }

    #[test]
    fn files_name_their_package_and_version() {
        let id = package_id("Demo_Pkg", "demo_pkg-1.0-py3-none-any.whl");
        assert_eq!(id.to_string(), "pkg:pypi/demo-pkg@1.0");
        assert_eq!(
            package_id("demo-pkg", "Demo.Pkg-2.0rc1.tar.gz").to_string(),
            "pkg:pypi/demo-pkg@2.0rc1"
        );
        assert_eq!(package_id("demo-pkg", "demo_pkg.zip").version, None);
        // Legacy sdist versions may hold '-'; names too.
        assert_eq!(package_id("foo", "foo-1.0-1.tar.gz").version.as_deref(), Some("1.0-1"));
        assert_eq!(
            package_id("foo-bar", "foo-bar-1.0.TAR.GZ").version.as_deref(),
            Some("1.0")
        );
    }

    #[test]
    fn files_belong_to_their_project_only() {
        assert!(belongs("Demo_Pkg-1.0-py3-none-any.whl", "demo-pkg"));
        assert!(belongs("demo-pkg-1.0.tar.gz", "demo-pkg"));
        assert!(!belongs("demo-pkg-extra-1.0.tar.gz", "demo-pkg"));
        assert!(!belongs("demo-1.0.tar.gz", "demo-pkg"));
    }
}
