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

/// Serves `data` as every upstream document and asks the proxy for `path`.
fn through_proxy(path: &str, accept: &str, data: &[u8]) {
    let Some(server) = loopback() else { return };
    let Some(root) = crate::evidence::root() else { return };
    let Some(dir) = scratch::dir() else { return };
    let id = server.next.fetch_add(1, Ordering::Relaxed);
    match server.bodies.lock() {
        Ok(mut bodies) => bodies.insert(id, data.to_vec()),
        Err(_) => return,
    };
    let base = format!("http://127.0.0.1:{}/{id}", server.port);
    let run = || -> Option<()> {
        let cache = Cache::open(&dir.path().join("cache")).ok()?;
        let limits = FetchLimits {
            max_metadata: 4 << 20,
            max_artifact: 4 << 20,
            timeout: Duration::from_secs(10),
        };
        let keeper = Keeper::new(Gate::new(root), cache, Fetcher::new(limits, Vec::new()), None).ok()?;
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
        RUNTIME.with(|rt| {
            let rt = rt.as_ref()?;
            rt.block_on(async {
                let response = proxy.router().oneshot(request).await.ok()?;
                axum::body::to_bytes(response.into_body(), 64 << 20).await.ok()
            })
        })?;
        Some(())
    };
    let _ = run();
    if let Ok(mut bodies) = server.bodies.lock() {
        bodies.remove(&id);
    }
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

/// A cargo sparse index file (one JSON line per version).
pub fn cargo_index(data: &[u8]) {
    through_proxy(
        &format!("/cargo/index/{}", ward_registry::cargo::index_path("fuzz-pkg")),
        "text/plain",
        data,
    );
}
