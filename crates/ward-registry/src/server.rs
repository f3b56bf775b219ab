//! The proxy's HTTP/1.1 server: hyper connections with a bound on how many
//! are open, how long a client may take to send a request head, and how
//! long a connection may sit idle.
//!
//! A client that opens connections and sends a partial request head (or
//! nothing) would otherwise hold a file descriptor each for as long as it
//! likes, and a thousand of them lock everyone else out. Here:
//!
//! - at most [`ServerLimits::max_connections`] connections are open; the
//!   next one waits in the listen backlog until one closes;
//! - a request head must be complete within [`ServerLimits::header_timeout`]
//!   of its first byte (or, for a connection's first request, of the
//!   connect), else the connection is closed;
//! - a connection with no request in flight and no byte received for
//!   [`ServerLimits::idle_timeout`] is closed (keep-alive idle), and so is
//!   one whose client has stopped reading a response for that long.
//!
//! A request the proxy is still working on (a slow upstream, a long
//! verification) is never cut: no byte moves then, but nothing is pending
//! on the client either.

use axum::Router;
use axum::body::{Body, HttpBody};
use hyper_util::rt::TokioIo;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tower::ServiceExt as _;

/// Bounds on client connections.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// Time a client has to send a complete request head.
    pub header_timeout: Duration,
    /// Time a connection may sit with no request and no traffic (or with a
    /// client that does not read its response).
    pub idle_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// What a connection has been doing, shared by its I/O, its requests and its watchdog.
struct Activity {
    epoch: Instant,
    /// Milliseconds since `epoch` of the last byte read or written.
    last_progress: AtomicU64,
    /// Milliseconds since `epoch` (plus one) when the pending request head began; 0: none.
    head_started: AtomicU64,
    /// A write is waiting for the client to read.
    write_blocked: AtomicBool,
    /// Requests being answered (until their response body is done).
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            last_progress: AtomicU64::new(0),
            // The first request's head is due from the connect.
            head_started: AtomicU64::new(1),
            write_blocked: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn read_some(&self) {
        let now = self.now();
        self.last_progress.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let _ = self
                .head_started
                .compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    fn wrote_some(&self) {
        self.last_progress.store(self.now(), Ordering::Relaxed);
    }

    /// Whether the connection has overstayed a limit.
    fn expired(&self, limits: &ServerLimits) -> bool {
        let now = self.now();
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let since_progress = now.saturating_sub(self.last_progress.load(Ordering::Relaxed));
        if self.in_flight.load(Ordering::Acquire) > 0 {
            // Working on a request: only a client that stopped reading overstays.
            return self.write_blocked.load(Ordering::Relaxed) && since_progress > millis(limits.idle_timeout);
        }
        match self.head_started.load(Ordering::Acquire) {
            0 => since_progress > millis(limits.idle_timeout),
            started => now.saturating_sub(started - 1) > millis(limits.header_timeout),
        }
    }
}

/// Marks a request in flight until its response body is done or dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.head_started.store(0, Ordering::Release);
        Self(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.wrote_some();
    }
}

/// A response body that keeps its request in flight.
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl HttpBody for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// A socket that reports its progress.
struct Watched {
    stream: tokio::net::TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, data);
        self.note_write(&polled);
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.note_write(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Watched {
    fn note_write(&self, polled: &Poll<std::io::Result<usize>>) {
        match polled {
            Poll::Pending => self.activity.write_blocked.store(true, Ordering::Relaxed),
            Poll::Ready(r) => {
                self.activity.write_blocked.store(false, Ordering::Relaxed);
                if matches!(r, Ok(n) if *n > 0) {
                    self.activity.wrote_some();
                }
            }
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` resolves;
/// then lets the open connections finish their requests.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = limits.max_connections.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
    let slots = Arc::new(tokio::sync::Semaphore::new(max));
    let (closing, closed) = tokio::sync::watch::channel(false);
    let limits = Arc::new(limits);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(s) => s,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, peer),
                Err(e) => {
                    // Out of descriptors or a connection reset before accept:
                    // wait a moment instead of ending the server.
                    if !matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionAborted
                            | std::io::ErrorKind::ConnectionReset
                            | std::io::ErrorKind::ConnectionRefused
                    ) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (router, limits, closed) = (router.clone(), Arc::clone(&limits), closed.clone());
        tokio::spawn(async move {
            connection(stream, peer, router, &limits, closed).await;
            drop(slot);
        });
    }
    let _ = closing.send(true);
    // Every connection gives its slot back once its last request is answered.
    let _ = slots.acquire_many(u32::try_from(max).unwrap_or(u32::MAX)).await;
    Ok(())
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    router: Router,
    limits: &ServerLimits,
    mut closed: tokio::sync::watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        stream,
        activity: Arc::clone(&activity),
    });
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let in_flight = InFlight::begin(&activity);
            let router = router.clone();
            async move {
                let response = crate::events::with_client(Some(peer), router.oneshot(request.map(Body::new))).await?;
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    Body::new(Tracked {
                        body,
                        _in_flight: in_flight,
                    })
                }))
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let tick =
        (limits.header_timeout.min(limits.idle_timeout) / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let mut ticks = tokio::time::interval(tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = ticks.tick() => {
                if activity.expired(limits) {
                    // Dropping the connection closes the socket.
                    return;
                }
            }
            changed = closed.changed(), if !closing => {
                closing = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
