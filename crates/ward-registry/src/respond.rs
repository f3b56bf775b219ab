//! HTTP answers shared by the three registries: streaming an allowed blob
//! from disk, and refusals that each client shows to its user.
//!
//! pip prints the HTTP status line, npm prints the body's `error` field, and
//! cargo prints the body: a refusal carries the one-line reason in all
//! three places, and in an `X-Ward-Reason` header.

use crate::keeper::Served;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The client's view of the proxy's base URL, from its `Host` header.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c)))
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn printable(reason: &str, max: usize) -> String {
    let mut s: String = reason
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .collect();
    if s.len() > max {
        s.truncate(max);
        s.push_str("...");
    }
    s
}

/// How a refused version is marked in a listing (PyPI `yanked`, npm
/// `deprecated`): `ward: refused: CODE: message`, one printable line.
pub(crate) fn refused_mark(reason: &str) -> String {
    format!("ward: refused: {}", printable(reason, 400))
}

/// A refusal not yet turned into a response (small enough to pass around).
#[derive(Debug)]
pub(crate) struct Refusal {
    /// The status.
    pub status: StatusCode,
    /// The one-line reason.
    pub reason: String,
    /// Whether the client reads JSON errors (npm).
    pub json: bool,
}

impl Refusal {
    /// A refusal from a gatekeeper answer that is not an allow.
    pub(crate) fn from_served(s: crate::Served, json: bool) -> Self {
        match s {
            crate::Served::Failed { status, reason } => Self {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                reason,
                json,
            },
            crate::Served::Denied { reason } => Self {
                status: StatusCode::FORBIDDEN,
                reason,
                json,
            },
            crate::Served::Allowed { .. } => Self {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                reason: "an allow where a refusal was expected".into(),
                json,
            },
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refusal(self.status, &self.reason, self.json)
    }
}

/// A refusal or failure with the reason everywhere a client may show it.
pub(crate) fn refusal(status: StatusCode, reason: &str, json: bool) -> Response {
    let line = format!("ward: {}", printable(reason, 400));
    let body = if json {
        serde_json::json!({"error": line}).to_string()
    } else {
        format!("{line}\n")
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if json {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        }),
    );
    if let Ok(v) = HeaderValue::from_str(&line) {
        headers.insert("x-ward-reason", v);
    }
    let phrase = format!("{} - {line}", status.canonical_reason().unwrap_or("Error"));
    if let Ok(p) = hyper::ext::ReasonPhrase::try_from(phrase.into_bytes()) {
        response.extensions_mut().insert(p);
    }
    response
}

/// Streams an allowed blob, or refuses.
pub(crate) async fn served(answer: Served, content_type: &'static str, json_errors: bool) -> Response {
    match answer {
        Served::Allowed { path, size, sha256 } => match tokio::fs::File::open(&path).await {
            Ok(file) => {
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
                let mut response = Response::new(Body::from_stream(stream));
                let h = response.headers_mut();
                h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
                if let Ok(v) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
                    h.insert(header::ETAG, v);
                }
                response
            }
            Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, &format!("cache: {e}"), json_errors),
        },
        Served::Denied { reason } => refusal(StatusCode::FORBIDDEN, &reason, json_errors),
        Served::Failed { status, reason } => refusal(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            &reason,
            json_errors,
        ),
    }
}

/// A metadata document.
pub(crate) fn document(bytes: Vec<u8>, content_type: &str) -> Response {
    let mut response = Response::new(Body::from(bytes));
    if let Ok(v) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    response
}

/// `GET /`: what this proxy serves.
pub(crate) async fn index() -> Response {
    document(
        b"ward registry proxy\n/pypi/simple/  PyPI Simple API (PEP 503 HTML, PEP 691 JSON)\n/npm/          npm registry\n/cargo/index/  cargo sparse index\n".to_vec(),
        "text/plain; charset=utf-8",
    )
}
