//! ward's registry proxy: PyPI (Simple API, PEP 503 HTML and PEP 691
//! JSON), npm (packuments and tarballs) and cargo (sparse index and crate
//! downloads) from one process, each under its own path prefix, each
//! speaking its registry's own protocol.
//!
//! Metadata is passed on with only the download URLs pointed at the proxy
//! (signatures, integrity, attestations and checksums are kept as they
//! are). An artifact is fetched into a spool file, judged by the same
//! [`ward_gate::Gate`] as `ward verify` ([`keeper`]), recorded in the
//! ledger, and only then served; a refusal is HTTP 403 with the one-line
//! reason in the status line, in an `X-Ward-Reason` header and in the body,
//! so that pip, npm and cargo show it.
//!
//! The HTTP handling is hand-written over axum: no crate implements these
//! registry protocols as a server.

#![forbid(unsafe_code)]

pub mod cache;
pub mod cargo;
pub mod denials;
pub mod egress;
pub mod events;
pub mod keeper;
pub mod memory;
pub mod npm;
pub mod pypi;
pub mod rebuild_sources;
pub mod release_meta;
mod respond;
pub mod risky_baseline;
pub mod server;
pub mod upstream;

use axum::Router;
use axum::routing::get;
use std::sync::{Arc, Mutex};

pub use cache::Cache;
pub use egress::{Egress, EgressError};
pub use events::{ArtifactEvent, Event, Outcome, Sink};
pub use keeper::{ArtifactRequest, Clock, Keeper, KeeperError, Served};
pub use memory::MemoryLimits;
pub use server::ServerLimits;
pub use upstream::{CaError, FetchLimits, Fetcher, Source, TrustedRoots, Upstream, UpstreamError};

/// The upstreams the proxy serves.
#[derive(Clone, Debug, Default)]
pub struct Upstreams {
    /// PyPI (a Simple API base URL such as `https://pypi.org`, or a directory of distributions).
    pub pypi: Option<Upstream>,
    /// npm (a registry URL, or a directory in verdaccio's storage layout).
    pub npm: Option<Upstream>,
    /// cargo (a sparse index URL, or a sparse index directory with `crates/`).
    pub cargo: Option<Upstream>,
}

/// Whether to probe for evidence files beside artifacts upstream
/// (`FILE.sigstore.json`, `FILE.sigstore`, `FILE.intoto.jsonl`), per
/// registry. `None`: probe a directory upstream (a local lookup), never a
/// remote one, since the public registries carry no such files and every
/// probe is a round trip. Evidence the registry advertises (npm
/// `dist.attestations.url`) is fetched either way.
#[derive(Clone, Copy, Debug, Default)]
pub struct SidecarProbes {
    /// PyPI.
    pub pypi: Option<bool>,
    /// npm.
    pub npm: Option<bool>,
    /// cargo.
    pub cargo: Option<bool>,
}

impl SidecarProbes {
    fn decide(setting: Option<bool>, upstream: Option<&Upstream>) -> bool {
        setting.unwrap_or(matches!(upstream, Some(Upstream::Dir(_))))
    }
}

/// Settings of the proxy beyond its limits.
#[derive(Clone, Debug, Default)]
pub struct ProxyOptions {
    /// Sidecar evidence probes, per registry.
    pub probe_sidecars: SidecarProbes,
}

/// The proxy's shared state.
pub struct Proxy {
    keeper: Arc<Keeper>,
    upstreams: Upstreams,
    /// Files listed on PyPI project pages, by (project, file): bounded, see [`memory`].
    pypi_files: memory::Bounded<(String, String), pypi::FileEntry>,
    /// Tarballs listed in packuments, by (package, file): bounded, see [`memory`].
    npm_tarballs: memory::Bounded<(String, String), npm::TarballEntry>,
    cargo_dl: Mutex<Option<String>>,
    max_listing_entries: usize,
    server: ServerLimits,
    options: ProxyOptions,
}

impl Proxy {
    /// A proxy over a gatekeeper and upstreams, with the default limits.
    pub fn new(keeper: Keeper, upstreams: Upstreams) -> Arc<Self> {
        Self::with_limits(keeper, upstreams, &MemoryLimits::default(), ServerLimits::default())
    }

    /// A proxy over a gatekeeper and upstreams, with these bounds on memory
    /// (the gatekeeper's decisions included) and on client connections.
    pub fn with_limits(keeper: Keeper, upstreams: Upstreams, memory: &MemoryLimits, server: ServerLimits) -> Arc<Self> {
        Self::with_options(keeper, upstreams, memory, server, ProxyOptions::default())
    }

    /// As [`Proxy::with_limits`], with these options.
    pub fn with_options(
        keeper: Keeper,
        upstreams: Upstreams,
        memory: &MemoryLimits,
        server: ServerLimits,
        options: ProxyOptions,
    ) -> Arc<Self> {
        Arc::new(Self {
            keeper: Arc::new(
                keeper
                    .with_decision_memory(memory.decision_bytes)
                    .with_remembered_denials(memory.remembered_denials),
            ),
            upstreams,
            pypi_files: memory::bounded(memory.listing_bytes),
            npm_tarballs: memory::bounded(memory.listing_bytes),
            cargo_dl: Mutex::new(None),
            max_listing_entries: memory.max_listing_entries,
            server,
            options,
        })
    }

    /// Whether to probe beside artifacts of the PyPI upstream.
    pub(crate) fn probe_pypi(&self) -> bool {
        SidecarProbes::decide(self.options.probe_sidecars.pypi, self.upstreams.pypi.as_ref())
    }

    /// Whether to probe beside artifacts of the npm upstream.
    pub(crate) fn probe_npm(&self) -> bool {
        SidecarProbes::decide(self.options.probe_sidecars.npm, self.upstreams.npm.as_ref())
    }

    /// Whether to probe beside artifacts of the cargo upstream.
    pub(crate) fn probe_cargo(&self) -> bool {
        SidecarProbes::decide(self.options.probe_sidecars.cargo, self.upstreams.cargo.as_ref())
    }

    /// Logs a refused or failed metadata request.
    pub(crate) fn metadata_refused(&self, what: String, status: u16, reason: &str) {
        self.keeper.emit(&Event::Metadata {
            client: events::client(),
            what,
            status,
            reason: reason.to_string(),
        });
    }

    /// The sidecar probes for an artifact, if this registry's are on.
    pub(crate) fn sidecars(on: bool, source: &Source, file: &str) -> Vec<(Source, String)> {
        if on {
            keeper::sidecars_beside(source, file)
        } else {
            Vec::new()
        }
    }

    /// The HTTP routes.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/", get(respond::index))
            .route("/pypi/simple/", get(pypi::root))
            .route("/pypi/simple/{project}", get(pypi::project))
            .route("/pypi/simple/{project}/", get(pypi::project))
            .route("/pypi/files/{project}/{file}", get(pypi::file))
            .route("/npm/{name}", get(npm::packument))
            .route("/npm/{scope}/{name}", get(npm::scoped_packument))
            .route("/npm/{name}/-/{file}", get(npm::tarball))
            .route("/npm/{scope}/{name}/-/{file}", get(npm::scoped_tarball))
            .route("/cargo/index/config.json", get(cargo::config))
            .route("/cargo/index/{*path}", get(cargo::index))
            .route("/cargo/api/v1/crates/{name}/{version}/download", get(cargo::download))
            .with_state(Arc::clone(self))
    }

    /// Serves until `shutdown` resolves, under the connection limits
    /// ([`server`]); then lets open connections finish their requests.
    pub async fn serve(
        self: &Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        server::serve(listener, self.router(), self.server.clone(), shutdown).await
    }
}
