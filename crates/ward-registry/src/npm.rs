//! npm: packuments at `/npm/<name>` (scoped as `/npm/@scope%2fname` or
//! `/npm/@scope/name`), full or abbreviated as upstream serves them, and
//! tarballs at `/npm/<name>/-/<file>.tgz`.
//!
//! Only `dist.tarball` is rewritten (to the proxy); `dist.integrity`,
//! `dist.signatures` and `dist.attestations` are passed on untouched, since
//! the registry's signature covers `name@version:integrity`, not the URL.
//! The tarball's `integrity` (sha512) is checked against the bytes, and a
//! verified npm publish attestation from `dist.attestations.url` is
//! evidence for the gate. Upstream is a registry URL, or a directory in
//! verdaccio's storage layout (`<name>/package.json` beside the tarballs).

use crate::Proxy;
use crate::keeper::{ArtifactRequest, plain_file_name, upstream_failed};
use crate::respond::{Refusal, base_url, document, refusal, served};
use crate::upstream::{Source, Upstream, host_of, resolve};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;
use ward_core::PackageId;

/// What the proxy knows of one tarball.
#[derive(Clone, Debug)]
pub struct TarballEntry {
    /// The version it is.
    pub version: String,
    /// Where it is upstream.
    pub source: Source,
    /// sha512 from `dist.integrity`, hex.
    pub sha512: Option<String>,
    /// `dist.attestations.url`, when it is on the upstream's host.
    pub attestations: Option<Source>,
    /// `dist.signatures`, with `dist.integrity`.
    pub signatures: Vec<ward_gate::NpmRegistrySignature>,
    /// The packument's release metadata (shared by its tarballs), when the
    /// policy reads it (cooldown, history rules).
    pub releases: Option<Arc<crate::release_meta::PackageReleases>>,
    /// What the packument says each version did at install, when the
    /// policy compares releases (risky-change rules).
    pub registry_traits: Option<Arc<ward_gate::risky::RegistryBaseline>>,
}

fn valid_name(name: &str) -> bool {
    let (scope, bare) = match name.strip_prefix('@') {
        Some(rest) => match rest.split_once('/') {
            Some((s, n)) => (Some(s), n),
            None => return false,
        },
        None => (None, name),
    };
    let ok = |s: &str| {
        !s.is_empty() && s != "." && s != ".." && s.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
    };
    scope.is_none_or(ok) && ok(bare)
}

/// `GET /npm/<name>`.
pub async fn packument(State(proxy): State<Arc<Proxy>>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve_packument(proxy, name, headers).await
}

/// `GET /npm/@scope/<name>`.
pub async fn scoped_packument(
    State(proxy): State<Arc<Proxy>>,
    Path((scope, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    serve_packument(proxy, format!("{scope}/{name}"), headers).await
}

/// `GET /npm/<name>/-/<file>`.
pub async fn tarball(
    State(proxy): State<Arc<Proxy>>,
    Path((name, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    serve_tarball(proxy, name, file, headers).await
}

/// `GET /npm/@scope/<name>/-/<file>`.
pub async fn scoped_tarball(
    State(proxy): State<Arc<Proxy>>,
    Path((scope, name, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    serve_tarball(proxy, format!("{scope}/{name}"), file, headers).await
}

fn sri_sha512_hex(integrity: &str) -> Option<String> {
    use base64::Engine as _;
    integrity
        .split_whitespace()
        .find_map(|i| i.strip_prefix("sha512-"))
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .map(hex::encode)
}

/// The tarballs of a packument, by file name.
type Tarballs = Vec<(String, TarballEntry)>;

/// Reads the packument upstream and rewrites tarball URLs to `base`;
/// returns it with its tarballs (also remembered, bounded).
fn fetch_packument(
    proxy: &Proxy,
    upstream: &Upstream,
    name: &str,
    accept: Option<&str>,
    base: &str,
) -> Result<(Vec<u8>, Tarballs), Refusal> {
    let rel = match upstream {
        Upstream::Dir(_) => format!("{name}/package.json"),
        Upstream::Http(_) => name.replace('/', "%2f"),
    };
    let source = upstream
        .locate(&rel)
        .map_err(|e| Refusal::from_served(upstream_failed(&e), true))?;
    let (bytes, final_url) = proxy
        .keeper
        .metadata(&source, accept, &format!("npm-packument/{name}"))
        .map_err(|e| Refusal::from_served(upstream_failed(&e), true))?;
    let bad = |why: String| Refusal {
        status: StatusCode::BAD_GATEWAY,
        reason: format!(
            "{}: upstream packument for {name} is malformed: {why}",
            ward_core::ReasonCode::UpstreamFailed
        ),
        json: true,
    };
    // Counted before it is read into a tree: a huge packument is refused at the cost of a scan.
    if crate::memory::field_over(&bytes, "versions", proxy.max_listing_entries) {
        return Err(Refusal {
            status: StatusCode::BAD_GATEWAY,
            reason: crate::memory::listing_too_large(
                &format!("the upstream packument for {name}"),
                proxy.max_listing_entries,
            ),
            json: true,
        });
    }
    let mut doc: Value = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    // Publish times, publishers and attestation flags, when the policy reads them.
    let releases = proxy
        .keeper
        .wants_release_metadata(&PackageId::npm(name, None))
        .then(|| Arc::new(crate::release_meta::npm(&doc, &bytes)));
    drop(bytes);
    // Install scripts and dependencies of every version, when the policy compares releases.
    let registry_traits = proxy
        .keeper
        .compares_releases(&PackageId::npm(name, None))
        .then(|| Arc::new(crate::risky_baseline::npm(&doc)));
    let upstream_host = upstream.host();
    let mut entries = Vec::new();
    let versions = doc
        .get_mut("versions")
        .and_then(|v| v.as_object_mut())
        .ok_or_else(|| bad("no `versions` object".into()))?;
    for (version, meta) in versions.iter_mut() {
        let Some(dist) = meta.get_mut("dist").and_then(|d| d.as_object_mut()) else {
            continue;
        };
        let Some(original) = dist.get("tarball").and_then(|t| t.as_str()).map(String::from) else {
            continue;
        };
        let file = original
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let Some(file) = plain_file_name(&file).map(String::from) else {
            continue;
        };
        let sha512 = dist.get("integrity").and_then(|i| i.as_str()).and_then(sri_sha512_hex);
        let digests: Vec<(&str, String)> = sha512.iter().map(|h| ("sha512", h.clone())).collect();
        let refused = proxy.keeper.listed_refusal(&key(name, &file), &digests);
        let source = match upstream {
            Upstream::Dir(root) => Source::File(root.join(name).join(&file)),
            Upstream::Http(_) => Source::Url(resolve(&final_url, &original)),
        };
        let same_host = |url: &str| upstream_host.is_none() || host_of(url) == upstream_host;
        let attestations = dist
            .get("attestations")
            .and_then(|a| a.get("url"))
            .and_then(|u| u.as_str())
            .filter(|u| same_host(u))
            .map(|u| Source::Url(u.to_string()));
        entries.push((
            file.clone(),
            TarballEntry {
                version: version.clone(),
                source,
                sha512,
                attestations,
                signatures: registry_signatures(dist),
                releases: releases.clone(),
                registry_traits: registry_traits.clone(),
            },
        ));
        dist.insert("tarball".into(), Value::String(format!("{base}/npm/{name}/-/{file}")));
        // A version the gate has refused stays listed, deprecated with ward's
        // reason: npm prefers another version, and says why if none is left.
        if let Some(reason) = refused
            && let Some(meta) = meta.as_object_mut()
        {
            meta.insert(
                "deprecated".into(),
                Value::String(crate::respond::refused_mark(&reason)),
            );
        }
    }
    if let Some(releases) = &releases {
        hold_back(proxy, name, &mut doc, releases);
    }
    for (file, entry) in &entries {
        proxy
            .npm_tarballs
            .insert((name.to_string(), file.clone()), entry.clone());
    }
    let bytes = serde_json::to_vec(&doc).map_err(|e| bad(e.to_string()))?;
    Ok((bytes, entries))
}

/// Leaves the versions a cooldown holds back out of the packument (with
/// their `time` entries), and points the dist-tags that named them at
/// versions still listed: `latest` at the newest listed stable release, by
/// publish time; other tags are dropped. npm then resolves to an older
/// version; the tarball itself stays known, so a lockfile that names it is
/// refused with the reason. When every version is held back, they stay
/// listed, deprecated with the reason, so that npm can say why.
fn hold_back(proxy: &Proxy, name: &str, doc: &mut Value, releases: &crate::release_meta::PackageReleases) {
    let Some(versions) = doc.get("versions").and_then(Value::as_object) else {
        return;
    };
    let total = versions.len();
    let held: Vec<(String, ward_core::Reason)> = versions
        .keys()
        .filter_map(|v| {
            proxy
                .keeper
                .listing_hold(&PackageId::npm(name, Some(v.to_string())), releases.for_listing(v))
                .map(|r| (v.clone(), r))
        })
        .collect();
    if held.is_empty() {
        return;
    }
    if held.len() == total {
        // Nothing would be left: npm would say only "no matching version".
        // Listed and deprecated with the reason instead, npm says why (and
        // the download is refused all the same).
        if let Some(map) = doc.get_mut("versions").and_then(Value::as_object_mut) {
            for (v, reason) in &held {
                if let Some(meta) = map.get_mut(v).and_then(Value::as_object_mut) {
                    let line = format!("{}: {}", reason.code, reason.message);
                    meta.insert("deprecated".into(), Value::String(crate::respond::refused_mark(&line)));
                }
            }
        }
        return;
    }
    let held: Vec<String> = held.into_iter().map(|(v, _)| v).collect();
    for key in ["versions", "time"] {
        if let Some(map) = doc.get_mut(key).and_then(Value::as_object_mut) {
            for v in &held {
                map.remove(v);
            }
        }
    }
    let newest_stable = doc
        .get("versions")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys())
        .filter(|v| !v.contains('-'))
        .max_by_key(|v| releases.releases.get(*v).and_then(|m| m.published))
        .cloned();
    if let Some(tags) = doc.get_mut("dist-tags").and_then(Value::as_object_mut) {
        let stale: Vec<String> = tags
            .iter()
            .filter(|(_, v)| v.as_str().is_some_and(|v| held.iter().any(|h| h == v)))
            .map(|(t, _)| t.clone())
            .collect();
        for tag in stale {
            tags.remove(&tag);
            if tag == "latest"
                && let Some(v) = &newest_stable
            {
                tags.insert(tag, Value::String(v.clone()));
            }
        }
    }
}

/// The attestations of the newest earlier release in the history window
/// that the packument lists with provenance, when a history rule applies:
/// the gate verifies them against that release's listed sha512 and learns
/// where it was built, so a first sight of a package can still tell a
/// release built elsewhere. Nothing when the tarball is no longer
/// remembered or its attestations are not on the upstream's host.
fn baseline(
    proxy: &Proxy,
    name: &str,
    version: &str,
    listed: &ward_policy::release::RegistryReleases,
) -> Vec<crate::keeper::BaselineRequest> {
    let id = PackageId::npm(name, Some(version.to_string()));
    let window = proxy.keeper.history_window(&id);
    // No fetch when the gate will not use it: the ledger's own verified
    // source is the baseline (one indexed lookup, not an upstream request).
    if window == 0 || !proxy.keeper.needs_baseline(&id, window) {
        return Vec::new();
    }
    let Some(earlier) = listed.earlier.iter().take(window).find(|m| m.provenance) else {
        return Vec::new();
    };
    let base = name.rsplit('/').next().unwrap_or(name);
    let file = format!("{base}-{}.tgz", earlier.version);
    let Some(entry) = proxy.npm_tarballs.get(&(name.to_string(), file.clone())) else {
        return Vec::new();
    };
    match (entry.attestations, entry.sha512) {
        (Some(source), Some(sha512)) => vec![crate::keeper::BaselineRequest {
            source,
            package: PackageId::npm(name, Some(earlier.version.clone())),
            file_name: file,
            sha512,
        }],
        _ => Vec::new(),
    }
}

fn registry_signatures(dist: &serde_json::Map<String, Value>) -> Vec<ward_gate::NpmRegistrySignature> {
    let Some(integrity) = dist.get("integrity").and_then(|i| i.as_str()) else {
        return Vec::new();
    };
    dist.get("signatures")
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
        .map(|s| ward_gate::NpmRegistrySignature {
            key_id: s.get("keyid").and_then(|k| k.as_str()).unwrap_or_default().to_string(),
            signature: s.get("sig").and_then(|k| k.as_str()).unwrap_or_default().to_string(),
            integrity: integrity.to_string(),
        })
        .collect()
}

fn key(name: &str, file: &str) -> String {
    format!("npm/{name}/{file}")
}

async fn serve_packument(proxy: Arc<Proxy>, name: String, headers: HeaderMap) -> Response {
    if !valid_name(&name) {
        return refusal(
            StatusCode::NOT_FOUND,
            &format!("{name:?} is not an npm package name"),
            true,
        );
    }
    let Some(upstream) = proxy.upstreams.npm.clone() else {
        return refusal(StatusCode::NOT_FOUND, "no npm upstream is configured", true);
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .map(String::from);
    let base = base_url(&headers);
    // The abbreviated packument has no `time`: a policy that reads publish
    // times gets the full one from upstream (npm reads either).
    // The abbreviated one has no `scripts` either, which the risky-change rules compare.
    let accept = accept.filter(|_| {
        let id = PackageId::npm(&name, None);
        !proxy.keeper.wants_release_metadata(&id) && !proxy.keeper.compares_releases(&id)
    });
    let content_type = if accept
        .as_deref()
        .is_some_and(|a| a.contains("application/vnd.npm.install-v1+json"))
        && matches!(upstream, Upstream::Http(_))
    {
        "application/vnd.npm.install-v1+json"
    } else {
        "application/json"
    };
    let p = Arc::clone(&proxy);
    let n = name.clone();
    match tokio::task::spawn_blocking(move || fetch_packument(&p, &upstream, &name, accept.as_deref(), &base)).await {
        Ok(Ok((bytes, _))) => document(bytes, content_type),
        Ok(Err(refused)) => {
            proxy.metadata_refused(format!("npm/{n}"), refused.status.as_u16(), &refused.reason);
            refused.into_response()
        }
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), true),
    }
}

async fn serve_tarball(proxy: Arc<Proxy>, name: String, file: String, headers: HeaderMap) -> Response {
    if !valid_name(&name) {
        return refusal(
            StatusCode::NOT_FOUND,
            &format!("{name:?} is not an npm package name"),
            true,
        );
    }
    let Some(file) = plain_file_name(&file).map(String::from) else {
        return refusal(StatusCode::NOT_FOUND, "not a file name", true);
    };
    let mut entry = proxy.npm_tarballs.get(&(name.clone(), file.clone()));
    let mut refused = None;
    if entry.is_none()
        && let Some(upstream) = proxy.upstreams.npm.clone()
    {
        // Straight from a lockfile, or a packument since forgotten: learn the
        // tarball from the packument first, taking it from that fresh read
        // (never from memory that may have dropped it).
        let (p, n, base) = (Arc::clone(&proxy), name.clone(), base_url(&headers));
        let read = tokio::task::spawn_blocking(move || fetch_packument(&p, &upstream, &n, None, &base)).await;
        match read {
            Ok(Ok((_, tarballs))) => entry = tarballs.into_iter().find(|(f, _)| *f == file).map(|(_, e)| e),
            Ok(Err(r)) => refused = Some(r),
            Err(_) => {}
        }
    }
    let Some(entry) = entry else {
        // A refused tarball upstream no longer lists: its download stays refused.
        if let Some(denied) = proxy.keeper.denial(&key(&name, &file)) {
            return served(denied, "application/octet-stream", true).await;
        }
        if let Some(r) = refused {
            proxy.metadata_refused(format!("npm/{name}"), r.status.as_u16(), &r.reason);
            return r.into_response();
        }
        return refusal(
            StatusCode::NOT_FOUND,
            &format!("{file} is not a tarball of {name} upstream"),
            true,
        );
    };
    // This version's registry evidence, worked out once for the history
    // baseline and for the gate.
    let listed = entry.releases.as_ref().map(|r| r.for_version(&entry.version));
    let request = ArtifactRequest {
        key: key(&name, &file),
        file_name: file.clone(),
        purl: Some(PackageId::npm(&name, Some(entry.version.clone()))),
        source: entry.source.clone(),
        index_digests: entry.sha512.iter().map(|h| ("sha512", h.clone())).collect(),
        sidecars: Proxy::sidecars(proxy.probe_npm(), &entry.source, &file),
        // The npm attestations response, a format ward's attestation reader knows.
        attestations: entry
            .attestations
            .iter()
            .map(|a| (a.clone(), format!("{file}.npm-attestations.json")))
            .collect(),
        upstream_host: proxy.upstreams.npm.as_ref().and_then(Upstream::host),
        npm_signatures: entry.signatures.clone(),
        baseline: listed
            .as_ref()
            .map(|l| baseline(&proxy, &name, &entry.version, l))
            .unwrap_or_default(),
        release: listed,
        registry_traits: entry.registry_traits.clone(),
    };
    served(proxy.keeper.artifact(request).await, "application/octet-stream", true).await
}
