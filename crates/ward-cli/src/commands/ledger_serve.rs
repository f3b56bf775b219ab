//! `ward ledger serve`: the log over HTTP in the C2SP tlog-tiles layout.
//!
//! Reads (`GET /checkpoint`, `GET /tile/…`) need no credentials, so any CDN
//! can mirror them. `POST /add` appends one entry (at most 64 KiB) and needs
//! `Authorization: Bearer <token>` for a token with the `append` scope; it
//! answers with the entry's c2sp.org/tlog-proof. Concurrent appends share
//! one batch (group commit, [`ward_ledger::SharedLedger`]): one fsync and
//! one signed checkpoint (one transaction on PostgreSQL) per batch.

use super::Usage;
use crate::output;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;
use ward_ledger::{LedgerStore, SharedLedger};

struct Shared {
    ledger: SharedLedger,
    append_tokens: Vec<String>,
}

/// Reads `append <token>` lines; other scopes are refused so typos surface.
pub(super) fn read_tokens(path: &std::path::Path) -> Result<Vec<String>, Usage> {
    let text = super::read_input_text(path, "token file", ward_input::limits::KEY)?;
    let mut tokens = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(char::is_whitespace) {
            Some(("append", token)) if token.trim().len() >= 16 => tokens.push(token.trim().to_string()),
            _ => {
                return Err(Usage(format!(
                    "{}:{}: expected `append <token>` with a token of at least 16 characters",
                    path.display(),
                    n + 1
                )));
            }
        }
    }
    Ok(tokens)
}

/// Runs the server until interrupted.
pub(super) fn serve(ledger: Box<dyn LedgerStore>, listen: &str, append_tokens: Vec<String>) -> Result<(), Usage> {
    let shared = Arc::new(Shared {
        ledger: SharedLedger::new(ledger),
        append_tokens,
    });
    let app = axum::Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/add", post(add))
        .with_state(shared);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Usage(e.to_string()))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Usage(format!("cannot listen on {listen}: {e}")))?;
        let addr = listener.local_addr().map_err(|e| Usage(e.to_string()))?;
        output::listening(&addr);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| Usage(e.to_string()))
    })
}

fn read(shared: &Shared, path: &str) -> Response {
    let read = shared.ledger.with_store(|ledger| {
        // Other writers (PostgreSQL) may have appended since the last read.
        if path == "checkpoint"
            && let Err(e) = ledger.refresh()
        {
            return Err((StatusCode::SERVICE_UNAVAILABLE, e.to_string()));
        }
        ledger
            .read_path(path)
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
    });
    match read.unwrap_or_else(|_| Err((StatusCode::INTERNAL_SERVER_ERROR, "ledger unavailable".into()))) {
        Ok(Some(bytes)) => {
            let immutable = path.starts_with("tile/") && !path.contains(".p/");
            let cache = if immutable {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            let kind = if path == "checkpoint" {
                "text/plain; charset=utf-8"
            } else {
                "application/octet-stream"
            };
            ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, cache)], bytes).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => e.into_response(),
    }
}

async fn checkpoint(State(shared): State<Arc<Shared>>) -> Response {
    read(&shared, "checkpoint")
}

async fn tile(State(shared): State<Arc<Shared>>, Path(path): Path<String>) -> Response {
    read(&shared, &format!("tile/{path}"))
}

/// Constant-time comparison, so token checks leak no timing.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn add(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "appends need a bearer token",
        )
            .into_response();
    };
    if !shared.append_tokens.iter().any(|t| same(t, token)) {
        return (StatusCode::FORBIDDEN, "this token has no append scope").into_response();
    }
    if body.is_empty() || body.len() > ward_ledger::store::MAX_ENTRY_BYTES {
        return (StatusCode::PAYLOAD_TOO_LARGE, "an entry is 1 to 65,535 bytes").into_response();
    }
    let outcome =
        tokio::task::spawn_blocking(move || shared.ledger.append_one(body.to_vec()).map_err(|e| e.to_string())).await;
    match outcome {
        Ok(Ok(receipt)) => {
            use base64::Engine as _;
            let mut text = format!("c2sp.org/tlog-proof@v1\nindex {}\n", receipt.index);
            for h in receipt.inclusion_proof {
                text.push_str(&base64::engine::general_purpose::STANDARD.encode(h));
                text.push('\n');
            }
            text.push('\n');
            text.push_str(&receipt.checkpoint);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                text,
            )
                .into_response()
        }
        // Not recorded: the client is told so, never "ok".
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("not recorded: {e}")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("not recorded: {e}")).into_response(),
    }
}
