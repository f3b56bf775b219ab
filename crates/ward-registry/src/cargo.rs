//! cargo's sparse registry: `/cargo/index/config.json` (pointing downloads
//! at the proxy), index files at `/cargo/index/<path>` in the layout by name
//! length, passed on unchanged (their `cksum` is what cargo checks), and
//! crate downloads at `/cargo/api/v1/crates/<name>/<version>/download`.
//!
//! Upstream is a sparse index URL (downloads located by its own
//! `config.json` `dl` template) or a sparse index directory with the crates
//! under `crates/<name>/<name>-<version>.crate`.

use crate::Proxy;
use crate::keeper::{ArtifactRequest, upstream_failed};
use crate::respond::{base_url, document, refusal, served};
use crate::upstream::{Source, Upstream};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;
use ward_core::{Ecosystem, PackageId};

/// The index path of a crate name (lower case): `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`.
pub fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

fn valid_crate_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `GET /cargo/index/config.json`.
pub async fn config(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let doc = serde_json::json!({"dl": format!("{base}/cargo/api/v1/crates"), "api": format!("{base}/cargo")});
    document(doc.to_string().into_bytes(), "application/json")
}

/// `GET /cargo/index/<path>`.
pub async fn index(State(proxy): State<Arc<Proxy>>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(upstream) = proxy.upstreams.cargo.clone() else {
        return refusal(StatusCode::NOT_FOUND, "no cargo upstream is configured", false);
    };
    let name = path.rsplit('/').next().unwrap_or_default().to_string();
    if !valid_crate_name(&name) || index_path(&name) != path.to_ascii_lowercase() {
        return refusal(StatusCode::NOT_FOUND, &format!("{path}: not an index path"), false);
    }
    let p = Arc::clone(&proxy);
    let n = name.clone();
    match tokio::task::spawn_blocking(move || index_file(&p, &upstream, &name)).await {
        Ok(Ok(bytes)) => {
            let bytes = served_index(&proxy, &n, &bytes);
            // Cargo revalidates with If-None-Match; the tag is the served content's digest.
            use sha2::Digest as _;
            let etag = format!("\"{}\"", &hex::encode(sha2::Sha256::digest(&bytes))[..32]);
            let matches = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
            let mut response = if matches {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                document(bytes, "text/plain")
            };
            if let Ok(v) = HeaderValue::from_str(&etag) {
                response.headers_mut().insert(header::ETAG, v);
            }
            response
        }
        Ok(Err(answer)) => {
            match &answer {
                crate::Served::Failed { status, reason } => {
                    proxy.metadata_refused(format!("cargo/{n}"), *status, reason)
                }
                crate::Served::Denied { reason } => proxy.metadata_refused(format!("cargo/{n}"), 403, reason),
                crate::Served::Allowed { .. } => {}
            }
            served(answer, "text/plain", false).await
        }
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), false),
    }
}

/// The index file as served: each line read once (its JSON parsed once for
/// every reader: the refusal marks, the release metadata and the cooldown's
/// hold-backs). Versions the gate has refused are marked `"yanked": true`,
/// so that cargo resolves to another version (and a lockfile naming one
/// still gets the download's 403 with the reason); when the policy reads
/// release metadata for the crate, the lines of versions a cooldown holds
/// back are left out (cargo then resolves to an older version; a lockfile
/// naming one gets the download's 403 with the reason). Other lines pass
/// byte for byte.
fn served_index(proxy: &Proxy, name: &str, bytes: &[u8]) -> Vec<u8> {
    let id = |v: Option<String>| PackageId::new(Ecosystem::Cargo, None, name, v);
    let text = String::from_utf8_lossy(bytes);
    let mut releases = proxy
        .keeper
        .wants_release_metadata(&id(None))
        .then(crate::release_meta::CargoReleases::new);
    // Each line as served, and the version it lists.
    let mut lines: Vec<(Cow<'_, str>, Option<String>)> = Vec::new();
    for line in text.lines() {
        let Ok(mut v) = serde_json::from_str::<Value>(line) else {
            lines.push((Cow::Borrowed(line), None));
            continue;
        };
        if let Some(r) = &mut releases {
            r.line(&v);
        }
        let served = match remembered_refusal(proxy, &v) {
            Some(_) => marked_yanked(&mut v).map_or(Cow::Borrowed(line), Cow::Owned),
            None => Cow::Borrowed(line),
        };
        lines.push((served, vers(&v).map(String::from)));
    }
    let releases = releases.map(crate::release_meta::CargoReleases::finish);
    let mut out = String::with_capacity(text.len());
    for (line, version) in lines {
        let held = releases.as_ref().zip(version).is_some_and(|(releases, v)| {
            let listing = releases.for_listing(&v);
            proxy.keeper.listing_hold(&id(Some(v)), listing).is_some()
        });
        if !held {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// A line's `vers`.
fn vers(v: &Value) -> Option<&str> {
    v.get("vers").and_then(Value::as_str)
}

/// The gate's remembered refusal of the version an index line lists.
fn remembered_refusal(proxy: &Proxy, v: &Value) -> Option<String> {
    let n = v.get("name").and_then(|n| n.as_str())?;
    let ver = vers(v)?;
    let digests: Vec<(&str, String)> = v
        .get("cksum")
        .and_then(|c| c.as_str())
        .map(|c| ("sha256", c.to_string()))
        .into_iter()
        .collect();
    proxy.keeper.listed_refusal(&format!("cargo/{n}/{ver}"), &digests)
}

/// The line marked `"yanked": true`, written out again.
fn marked_yanked(v: &mut Value) -> Option<String> {
    v.as_object_mut()?.insert("yanked".into(), Value::Bool(true));
    serde_json::to_string(v).ok()
}

/// The index file of a crate, from upstream or (upstream down) the last good copy.
/// One line per version: a file of more lines than the listing limit is refused.
fn index_file(proxy: &Proxy, upstream: &Upstream, name: &str) -> Result<Vec<u8>, crate::Served> {
    let source = upstream.locate(&index_path(name)).map_err(|e| upstream_failed(&e))?;
    let (bytes, _) = proxy
        .keeper
        .metadata(&source, None, &format!("cargo-index/{}", name.to_ascii_lowercase()))
        .map_err(|e| upstream_failed(&e))?;
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    if lines > proxy.max_listing_entries {
        return Err(crate::Served::Failed {
            status: 502,
            reason: crate::memory::listing_too_large(
                &format!("the upstream index file for {name}"),
                proxy.max_listing_entries,
            ),
        });
    }
    Ok(bytes)
}

/// The download URL for a crate from an upstream `dl` template.
fn from_template(dl: &str, name: &str, version: &str, cksum: &str) -> String {
    let markers = ["{crate}", "{version}", "{prefix}", "{lowerprefix}", "{sha256-checksum}"];
    if !markers.iter().any(|m| dl.contains(m)) {
        return format!("{}/{name}/{version}/download", dl.trim_end_matches('/'));
    }
    // The index directory of the name as written (`{prefix}`), and lower-cased.
    let prefix = match name.len() {
        1 => "1".to_string(),
        2 => "2".to_string(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[..2], &name[2..4]),
    };
    dl.replace("{crate}", name)
        .replace("{version}", version)
        .replace("{lowerprefix}", &prefix.to_ascii_lowercase())
        .replace("{prefix}", &prefix)
        .replace("{sha256-checksum}", cksum)
}

/// `GET /cargo/api/v1/crates/<name>/<version>/download`.
pub async fn download(State(proxy): State<Arc<Proxy>>, Path((name, version)): Path<(String, String)>) -> Response {
    let Some(upstream) = proxy.upstreams.cargo.clone() else {
        return refusal(StatusCode::NOT_FOUND, "no cargo upstream is configured", false);
    };
    if !valid_crate_name(&name) || version.is_empty() || version.contains(['/', '\\']) || version.contains("..") {
        return refusal(StatusCode::NOT_FOUND, "not a crate download", false);
    }
    let p = Arc::clone(&proxy);
    let (n, v) = (name.clone(), version.clone());
    let located = tokio::task::spawn_blocking(move || locate(&p, &upstream, &n, &v)).await;
    let (source, cksum, release) = match located {
        Ok(Ok(found)) => found,
        Ok(Err(answer)) => return served(answer, "text/plain", false).await,
        Err(e) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), false),
    };
    let file_name = format!("{name}-{version}.crate");
    // The download host is the one the upstream registry's own config.json names.
    let dl_host = match &source {
        Source::Url(u) => crate::upstream::host_of(u),
        Source::File(_) => None,
    };
    let request = ArtifactRequest {
        key: format!("cargo/{name}/{version}"),
        file_name: file_name.clone(),
        purl: Some(PackageId::new(Ecosystem::Cargo, None, &name, Some(version.clone()))),
        sidecars: Proxy::sidecars(proxy.probe_cargo(), &source, &file_name),
        source,
        index_digests: vec![("sha256", cksum)],
        attestations: Vec::new(),
        npm_signatures: Vec::new(),
        baseline: Vec::new(),
        upstream_host: dl_host,
        release,
        registry_traits: None,
    };
    served(proxy.keeper.artifact(request).await, "application/gzip", false).await
}

/// What the index says about a version: where its `.crate` is, its
/// `cksum`, and the release metadata (when the policy reads it).
type Located = (Source, String, Option<ward_policy::release::RegistryReleases>);

/// Finds a version's `cksum` in the index and where its `.crate` is.
fn locate(proxy: &Proxy, upstream: &Upstream, name: &str, version: &str) -> Result<Located, crate::Served> {
    let index = index_file(proxy, upstream, name)?;
    let text = String::from_utf8_lossy(&index);
    // Each line parsed once, for the release metadata (when the policy
    // reads it) and the version's own line; without release metadata the
    // reading stops at that line.
    let mut releases = proxy
        .keeper
        .wants_release_metadata(&PackageId::new(Ecosystem::Cargo, None, name, None))
        .then(crate::release_meta::CargoReleases::new);
    let mut entry = None;
    for v in text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()) {
        if let Some(r) = &mut releases {
            r.line(&v);
        }
        if entry.is_none() && vers(&v) == Some(version) {
            entry = Some(v);
            if releases.is_none() {
                break;
            }
        }
    }
    let release = releases.map(|r| r.finish().for_version(version));
    let entry = entry.ok_or_else(|| crate::Served::Failed {
        status: 404,
        reason: format!("{name} {version} is not in the upstream index"),
    })?;
    let cksum = entry
        .get("cksum")
        .and_then(|c| c.as_str())
        .filter(|c| c.len() == 64 && c.chars().all(|ch| ch.is_ascii_hexdigit()))
        .ok_or_else(|| crate::Served::Failed {
            status: 502,
            reason: format!(
                "{}: the upstream index has no valid cksum for {name} {version}",
                ward_core::ReasonCode::UpstreamFailed
            ),
        })?
        .to_ascii_lowercase();
    let source = match upstream {
        Upstream::Dir(root) => Source::File(root.join("crates").join(name).join(format!("{name}-{version}.crate"))),
        Upstream::Http(_) => {
            let dl = dl_template(proxy, upstream)?;
            Source::Url(from_template(&dl, name, version, &cksum))
        }
    };
    Ok((source, cksum, release))
}

fn dl_template(proxy: &Proxy, upstream: &Upstream) -> Result<String, crate::Served> {
    if let Some(dl) = proxy.cargo_dl.lock().ok().and_then(|d| d.clone()) {
        return Ok(dl);
    }
    let source = upstream.locate("config.json").map_err(|e| upstream_failed(&e))?;
    // Kept with the cache like any metadata: cached crates stay servable while upstream is down.
    let (bytes, _) = proxy
        .keeper
        .metadata(&source, None, "cargo-config")
        .map_err(|e| upstream_failed(&e))?;
    let dl = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("dl").and_then(|d| d.as_str()).map(String::from))
        .ok_or_else(|| crate::Served::Failed {
            status: 502,
            reason: format!(
                "{}: the upstream config.json has no `dl`",
                ward_core::ReasonCode::UpstreamFailed
            ),
        })?;
    if let Ok(mut d) = proxy.cargo_dl.lock() {
        *d = Some(dl.clone());
    }
    Ok(dl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_and_download_templates() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("Serde"), "se/rd/serde");
        assert_eq!(
            from_template("https://static.crates.io/crates", "serde", "1.0.0", "x"),
            "https://static.crates.io/crates/serde/1.0.0/download"
        );
        assert_eq!(
            from_template(
                "https://dl/{prefix}/{crate}/{crate}-{version}.crate?c={sha256-checksum}",
                "Serde",
                "1.0.0",
                "ab"
            ),
            "https://dl/Se/rd/Serde/Serde-1.0.0.crate?c=ab"
        );
    }
}
