//! What the proxy did, as structured events for the operator.
//!
//! A library does not print: the proxy hands each event to a sink the
//! caller installs ([`crate::Keeper::with_events`]), and `ward proxy` /
//! `ward run` render them (one line per artifact decision on standard
//! error, or JSON lines). Without a sink, events are dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How an artifact request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed, with no warning.
    Allow,
    /// Allowed, with failures of rules in `warn` mode.
    Warn,
    /// Allowed, with failures of rules in `audit` mode only.
    Audit,
    /// Refused by the gate.
    Deny,
    /// Could not be evaluated (upstream failure, internal error).
    Failed,
}

impl Outcome {
    /// `allow`, `warn`, `audit`, `deny` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Warn => "warn",
            Outcome::Audit => "audit",
            Outcome::Deny => "deny",
            Outcome::Failed => "failed",
        }
    }
}

/// One artifact decision (or failure to reach one).
#[derive(Clone, Debug)]
pub struct ArtifactEvent {
    /// The client that asked, when known.
    pub client: Option<SocketAddr>,
    /// The package, when known.
    pub purl: Option<String>,
    /// The file asked for.
    pub file: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Reason codes (deny reasons, or warnings / audit failures of an allow).
    pub codes: Vec<String>,
    /// The first reason in full (`code: message`), for refusals and failures.
    pub reason: Option<String>,
    /// The ledger entry that recorded the decision.
    pub ledger_index: Option<u64>,
    /// Time from request to answer.
    pub total: Duration,
    /// Time spent reading from upstream.
    pub upstream: Duration,
    /// Answered from the proxy's cache or memory, with no fetch.
    pub cache_hit: bool,
}

/// Something the operator should know about.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event {
    /// An artifact request was answered.
    Artifact(ArtifactEvent),
    /// A metadata request (index page, packument, index file) was refused or failed.
    Metadata {
        /// The client that asked, when known.
        client: Option<SocketAddr>,
        /// What was asked for (`npm/<name>`, `pypi/<project>`, `cargo/<name>`).
        what: String,
        /// HTTP status answered.
        status: u16,
        /// Why.
        reason: String,
    },
    /// Optional evidence could not be fetched and is treated as absent.
    EvidenceAbsent {
        /// Where it was looked for.
        source: String,
        /// Why it could not be read.
        reason: String,
    },
}

/// Where events go.
pub type Sink = Arc<dyn Fn(&Event) + Send + Sync>;

tokio::task_local! {
    /// The client of the request being answered.
    static CLIENT: SocketAddr;
}

/// Runs `fut` as the handling of a request from `client`.
pub(crate) async fn with_client<F: std::future::Future>(client: Option<SocketAddr>, fut: F) -> F::Output {
    match client {
        Some(addr) => CLIENT.scope(addr, fut).await,
        None => fut.await,
    }
}

/// The client of the request being answered, if known.
pub fn client() -> Option<SocketAddr> {
    CLIENT.try_with(|c| *c).ok()
}
