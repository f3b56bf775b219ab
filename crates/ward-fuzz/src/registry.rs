//! Targets for ward-registry: upstream metadata as the proxy reads it
//! (PyPI Simple pages in HTML and JSON, npm packuments, cargo sparse index
//! files).
//!
//! The parsers are private to the proxy, so each input goes the whole
//! public way: a loopback upstream (a tiny HTTP server on 127.0.0.1 owned
//! by this process) serves the input, a fresh proxy over a fresh cache
//! fetches it through `Fetcher`, and the proxy's router answers one client
//! request, in process. Each input gets its own upstream base path, so
//! parallel test threads do not see each other's inputs.
//!
//! `npm_packument_cooldown` serves a packument to a proxy whose policy
//! reads release metadata (a cooldown, history rules and risky-change
//! rules) at a fixed clock, so that the packument's duplicate-key pass,
//! its release metadata and risky-change baseline readers, and the
//! cooldown's holding back of young versions all run on it.

use crate::scratch;
use axum::body::Body;
use axum::http::Request;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tower::ServiceExt as _;
use ward_gate::Gate;
use ward_registry::{Cache, FetchLimits, Fetcher, Keeper, Proxy, Upstream, Upstreams};

/// The loopback upstream: the body to serve under each base path.
struct Loopback {
    port: u16,
    bodies: Mutex<HashMap<u64, Vec<u8>>>,
    next: AtomicU64,
}

static LOOPBACK: OnceLock<Option<&'static Loopback>> = OnceLock::new();

fn loopback() -> Option<&'static Loopback> {
    *LOOPBACK.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").ok()?;
        let port = listener.local_addr().ok()?.port();
        let server: &'static Loopback = Box::leak(Box::new(Loopback {
            port,
            bodies: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        }));
        std::thread::Builder::new()
            .name("ward-fuzz-upstream".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let _ = std::thread::Builder::new().spawn(move || answer(server, stream));
                }
            })
            .ok()?;
        Some(server)
    })
}

/// Answers one request: `GET /<id>/…` gets body `id`, whatever the rest.
fn answer(server: &Loopback, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let path = line.split_whitespace().nth(1).unwrap_or_default();
    let id = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .and_then(|s| s.parse::<u64>().ok());
    let body = id.and_then(|id| server.bodies.lock().ok()?.get(&id).cloned());
    let response = match body {
        Some(body) => {
            let kind = if path.contains("/simple/") && body.trim_ascii_start().starts_with(b"{") {
                "application/vnd.pypi.simple.v1+json"
            } else if path.contains("/simple/") {
                "text/html"
            } else {
                "application/json"
            };
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(&body);
            r
        }
        None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&response);
}

thread_local! {
    static RUNTIME: Option<tokio::runtime::Runtime> =
        tokio::runtime::Builder::new_current_thread().enable_all().build().ok();
}

/// The policy of `npm_packument_cooldown`: every rule that reads an npm
/// packument's release metadata or its versions' manifests.
pub const COOLDOWN_POLICY: &str = r#"version = 1

[defaults]
mode = "warn"
cooldown = { min_age = "3d" }

[[scope]]
name = "fuzz"
packages = ["npm:*"]
mode = "warn"
cooldown = { min_age = "3d", exempt = ["npm:fuzz-exempt"] }
history = { provenance_regression = "deny", publisher_change = "deny", window = 10 }
deny_new_install_scripts = true
deny_new_dependencies_in_patch = true
"#;

/// The fixed "now" of `npm_packument_cooldown` (seed times are around it).
pub const COOLDOWN_NOW: &str = "2026-12-01T00:00:00Z";

/// Serves `data` as every upstream document and asks the proxy for `path`.
fn through_proxy(path: &str, accept: &str, data: &[u8]) {
    let _ = through_proxy_with(path, accept, data, None);
}

/// [`through_proxy`], with a gate that enforces `policy` (TOML) at
/// [`COOLDOWN_NOW`]; returns the body the client got.
fn through_proxy_with(path: &str, accept: &str, data: &[u8], policy: Option<&str>) -> Option<Vec<u8>> {
    let server = loopback()?;
    let root = crate::evidence::root()?;
    let dir = scratch::dir()?;
    let id = server.next.fetch_add(1, Ordering::Relaxed);
    server.bodies.lock().ok()?.insert(id, data.to_vec());
    let base = format!("http://127.0.0.1:{}/{id}", server.port);
    let run = || -> Option<Vec<u8>> {
        let cache = Cache::open(&dir.path().join("cache")).ok()?;
        let limits = FetchLimits {
            max_metadata: 4 << 20,
            max_artifact: 4 << 20,
            timeout: Duration::from_secs(10),
        };
        let mut gate = Gate::new(root);
        if let Some(text) = policy {
            gate = gate.with_policy(ward_policy::Policy::parse(text, "fuzz/ward.toml", scratch::assets()).ok()?);
        }
        let now: jiff::Timestamp = COOLDOWN_NOW.parse().ok()?;
        let keeper = Keeper::new(gate, cache, Fetcher::new(limits, Vec::new()), None)
            .ok()?
            .with_clock(std::sync::Arc::new(move || now));
        let proxy = Proxy::new(
            keeper,
            Upstreams {
                pypi: Some(Upstream::parse(&base)),
                npm: Some(Upstream::parse(&base)),
                cargo: Some(Upstream::parse(&base)),
            },
        );
        let request = Request::get(path)
            .header("host", "127.0.0.1:9")
            .header("accept", accept)
            .body(Body::empty())
            .ok()?;
        RUNTIME
            .with(|rt| {
                let rt = rt.as_ref()?;
                rt.block_on(async {
                    let response = proxy.router().oneshot(request).await.ok()?;
                    axum::body::to_bytes(response.into_body(), 64 << 20).await.ok()
                })
            })
            .map(|b| b.to_vec())
    };
    let body = run();
    if let Ok(mut bodies) = server.bodies.lock() {
        bodies.remove(&id);
    }
    body
}

/// A PyPI Simple project page (PEP 503 HTML), asked for as HTML.
pub fn pypi_simple_html(data: &[u8]) {
    through_proxy("/pypi/simple/fuzz-pkg/", "text/html", data);
}

/// A PyPI Simple project page (PEP 691 JSON), asked for as JSON.
pub fn pypi_simple_json(data: &[u8]) {
    through_proxy("/pypi/simple/fuzz-pkg/", "application/vnd.pypi.simple.v1+json", data);
}

/// An npm packument.
pub fn npm_packument(data: &[u8]) {
    through_proxy("/npm/fuzz-pkg", "application/json", data);
}

/// An npm packument, served to a proxy whose policy reads its release
/// metadata (cooldown, history, risky-change rules).
pub fn npm_packument_cooldown(data: &[u8]) {
    let _ = through_proxy_with("/npm/fuzz-pkg", "application/json", data, Some(COOLDOWN_POLICY));
}

/// A cargo sparse index file (one JSON line per version).
pub fn cargo_index(data: &[u8]) {
    through_proxy(
        &format!("/cargo/index/{}", ward_registry::cargo::index_path("fuzz-pkg")),
        "text/plain",
        data,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The target is worth running only if its policy loads and reads
    /// release metadata and manifests for the package the target asks for.
    #[test]
    fn the_cooldown_policy_loads_and_reads_release_metadata() {
        let policy = ward_policy::Policy::parse(COOLDOWN_POLICY, "fuzz/ward.toml", scratch::assets());
        let policy = policy.unwrap_or_else(|e| panic!("{e}"));
        let id = ward_core::PackageId::npm("fuzz-pkg", None);
        assert!(policy.wants_release_metadata(&id));
        let gate = Gate::new(crate::evidence::root().unwrap()).with_policy(policy);
        assert!(gate.compares_releases(&id));
    }

    /// ... and if the proxy holds young versions of its seed back: 1.1.0
    /// and 2.0.0-rc.1 are younger than 3 days at the fixed clock.
    #[test]
    fn the_seed_packument_has_young_versions_held_back() {
        let seed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/corpus/npm_packument_cooldown/packument.json"
        ));
        let body = through_proxy_with(
            "/npm/fuzz-pkg",
            "application/json",
            &seed.unwrap(),
            Some(COOLDOWN_POLICY),
        );
        let served: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
        let versions: Vec<&String> = served["versions"].as_object().unwrap().keys().collect();
        assert_eq!(versions, ["1.0.0", "1.0.1"], "{served}");
        assert_eq!(served["dist-tags"]["latest"], "1.0.1");
    }
}
