//! Getting bytes from an upstream registry: a remote one over HTTP(S), or a
//! local directory in the registry's own layout (air-gapped sites, tests).
//!
//! Every read is bounded: metadata by a byte limit read into memory,
//! artifacts streamed to a spool file under a byte limit, and the whole
//! exchange by a deadline (so a slow drip ends). A body shorter than its
//! `Content-Length` is an error, not a short file. Redirects are followed
//! only to the upstream's own host, or to hosts the operator allowed.
//!
//! TLS trusts what the clients users already trust: the operating system's
//! certificate store (or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set, as
//! OpenSSL reads them), plus any CA files the operator names; the compiled-in
//! web roots only where the system has no store at all. There is no way to
//! turn verification off.
//!
//! One HTTP agent is shared by every request: its connections are pooled
//! and kept alive (as many idle per host as fetches may run at once), host
//! names are resolved once per [`DNS_TTL`] ([`CachingResolver`]) instead of
//! once per request, and at most [`DEFAULT_FETCHES_PER_HOST`] exchanges run
//! against one host at a time ([`Fetcher::with_roots_and_host_limit`]).
//! No lock is held across network I/O. Outbound requests go through the
//! egress proxy the environment names (`HTTPS_PROXY`, `HTTP_PROXY`,
//! `NO_PROXY`, see [`crate::egress`]): one agent per URL scheme.

use crate::egress::Egress;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};

/// How long a resolved host name is reused.
pub const DNS_TTL: Duration = Duration::from_secs(60);

/// Most exchanges with one upstream host at a time, by default.
pub const DEFAULT_FETCHES_PER_HOST: usize = 16;

/// A resolver that remembers each host's addresses for a while, so a
/// pooled connection and the requests after it cost no lookup (the system
/// resolver may stall seconds on a lookup). Failed lookups are not
/// remembered. The cache lock is never held while resolving.
#[derive(Debug)]
pub struct CachingResolver<R: Resolver = DefaultResolver> {
    inner: R,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>,
}

impl<R: Resolver> CachingResolver<R> {
    /// Caches what `inner` resolves for `ttl`.
    pub fn new(inner: R, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl<R: Resolver> Resolver for CachingResolver<R> {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or_default(),
            uri.authority().map(|a| a.as_str()).unwrap_or_default()
        );
        if let Ok(cache) = self.cache.lock()
            && let Some((at, addrs)) = cache.get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(addrs.clone());
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if let Ok(mut cache) = self.cache.lock() {
            // Bounded: the hosts of one proxy are few; expired entries go first.
            if cache.len() >= 1024 {
                let ttl = self.ttl;
                cache.retain(|_, (at, _)| at.elapsed() < ttl);
                if cache.len() >= 1024 {
                    cache.clear();
                }
            }
            cache.insert(key, (Instant::now(), addrs.clone()));
        }
        Ok(addrs)
    }
}

/// One resolver shared by several agents.
#[derive(Debug)]
struct SharedResolver<R>(Arc<R>);

impl<R> Clone for SharedResolver<R> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<R: Resolver> Resolver for SharedResolver<R> {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.0.resolve(uri, config, timeout)
    }
}

/// A counting semaphore per host, for blocking callers.
#[derive(Debug, Default)]
struct HostSlots {
    limit: usize,
    busy: Mutex<HashMap<String, usize>>,
    freed: Condvar,
}

/// One exchange's slot with a host, given back on drop.
struct Slot<'a> {
    slots: &'a HostSlots,
    host: String,
}

impl HostSlots {
    fn take(&self, host: &str) -> Slot<'_> {
        let mut busy = match self.busy.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        loop {
            let n = busy.entry(host.to_string()).or_default();
            if *n < self.limit.max(1) {
                *n += 1;
                break;
            }
            busy = match self.freed.wait(busy) {
                Ok(b) => b,
                Err(p) => p.into_inner(),
            };
        }
        Slot {
            slots: self,
            host: host.to_string(),
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut busy = match self.slots.busy.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        if let Some(n) = busy.get_mut(&self.host) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(&self.host);
            }
        }
        self.slots.freed.notify_all();
    }
}

/// Where a registry's data comes from.
#[derive(Clone, Debug)]
pub enum Upstream {
    /// A directory in the registry's layout.
    Dir(PathBuf),
    /// A remote registry's base URL (no trailing slash).
    Http(String),
}

impl Upstream {
    /// Parses `http://…`, `https://…` or a directory path.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("http://") || text.starts_with("https://") {
            Upstream::Http(text.trim_end_matches('/').to_string())
        } else {
            Upstream::Dir(PathBuf::from(text))
        }
    }

    /// Where `rel` (a `/`-separated path under the upstream) is.
    pub fn locate(&self, rel: &str) -> Result<Source, UpstreamError> {
        match self {
            Upstream::Http(base) => Ok(Source::Url(format!("{base}/{}", rel.trim_start_matches('/')))),
            Upstream::Dir(root) => {
                let mut path = root.clone();
                for part in rel.split('/').filter(|p| !p.is_empty()) {
                    let c = Path::new(part).components().next();
                    if !matches!(c, Some(Component::Normal(_))) || part.contains('\\') || part == ".." {
                        return Err(UpstreamError::NotFound(rel.to_string()));
                    }
                    path.push(part);
                }
                Ok(Source::File(path))
            }
        }
    }

    /// The host of a remote upstream.
    pub fn host(&self) -> Option<String> {
        match self {
            Upstream::Http(base) => host_of(base),
            Upstream::Dir(_) => None,
        }
    }
}

/// One thing to get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A local file.
    File(PathBuf),
    /// A URL.
    Url(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Url(u) => f.write_str(u),
        }
    }
}

/// Why upstream could not serve something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// Upstream has no such thing.
    #[error("{0}: not found upstream")]
    NotFound(String),
    /// Upstream could not be reached or failed.
    #[error("{0}: upstream unavailable: {1}")]
    Unavailable(String, String),
    /// The body is over the limit.
    #[error("{0}: upstream sent more than the {1}-byte limit")]
    TooLarge(String, u64),
    /// The body ended before its Content-Length.
    #[error("{0}: upstream body truncated ({1} of {2} bytes)")]
    Truncated(String, u64, u64),
    /// The exchange took too long.
    #[error("{0}: upstream took longer than {1} s")]
    Timeout(String, u64),
    /// A redirect to a host that is not the upstream's.
    #[error("{0}: upstream redirected to {1}, another host; refused (allow it with --allow-redirect-host)")]
    Redirect(String, String),
    /// Metadata points at a host that is not the upstream's.
    #[error("{0}: upstream metadata points at {1}, another host; refused (allow it with --allow-redirect-host)")]
    OtherHost(String, String),
    /// Local I/O.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Limits on what is read from upstream.
#[derive(Clone, Debug)]
pub struct FetchLimits {
    /// Largest metadata document (packument, index page, index file).
    pub max_metadata: u64,
    /// Largest artifact.
    pub max_artifact: u64,
    /// Deadline for one whole exchange, body included.
    pub timeout: Duration,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            max_metadata: 64 << 20,
            max_artifact: 1 << 30,
            timeout: Duration::from_secs(120),
        }
    }
}

/// Why a CA file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// The file cannot be read.
    #[error("CA file {0}: {1}")]
    Unreadable(String, String),
    /// The file is not PEM or holds no certificate.
    #[error("CA file {0}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)")]
    NoCertificate(String),
    /// A PEM block in the file is malformed.
    #[error("CA file {0}: not a valid PEM file: {1}")]
    NotPem(String, String),
}

/// The certificate authorities upstream TLS trusts.
#[derive(Clone, Debug)]
pub struct TrustedRoots {
    roots: ureq::tls::RootCerts,
    /// How many certificates came from the system (or `SSL_CERT_*`).
    pub system: usize,
    /// How many came from CA files.
    pub extra: usize,
}

impl TrustedRoots {
    /// A TLS configuration for an HTTP agent that trusts these roots (for
    /// commands that fetch with an agent of their own).
    pub fn tls_config(&self) -> ureq::tls::TlsConfig {
        ureq::tls::TlsConfig::builder().root_certs(self.roots.clone()).build()
    }
}

/// The CA certificates in one PEM file.
fn ca_file(path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, CaError> {
    let name = path.display().to_string();
    let bytes = ward_input::InputFile::new(path, "CA file", ward_input::limits::KEY * 16)
        .read()
        .map_err(|e| CaError::Unreadable(name.clone(), e.to_string()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c.to_owned()),
            Ok(_) => {}
            Err(e) => return Err(CaError::NotPem(name, e.to_string())),
        }
    }
    if certs.is_empty() {
        return Err(CaError::NoCertificate(name));
    }
    Ok(certs)
}

impl TrustedRoots {
    /// The system's store (`SSL_CERT_FILE` / `SSL_CERT_DIR` from the
    /// environment when set) plus `ca_files`.
    pub fn load(ca_files: &[PathBuf]) -> Result<Self, CaError> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        Self::load_with(
            ca_files,
            var("SSL_CERT_FILE").as_deref(),
            var("SSL_CERT_DIR").as_deref(),
        )
    }

    /// As [`TrustedRoots::load`], with the `SSL_CERT_FILE` and `SSL_CERT_DIR` values given.
    pub fn load_with(ca_files: &[PathBuf], cert_file: Option<&Path>, cert_dir: Option<&Path>) -> Result<Self, CaError> {
        let mut extra = Vec::new();
        for path in ca_files {
            extra.extend(ca_file(path)?);
        }
        let found = if cert_file.is_some() || cert_dir.is_some() {
            rustls_native_certs::load_certs_from_paths(cert_file, cert_dir)
        } else {
            rustls_native_certs::load_native_certs()
        };
        let system: Vec<ureq::tls::Certificate<'static>> = found
            .certs
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        let (n_system, n_extra) = (system.len(), extra.len());
        let roots = if system.is_empty() && extra.is_empty() {
            // No store on this system: the compiled-in web roots.
            ureq::tls::RootCerts::WebPki
        } else {
            ureq::tls::RootCerts::from(system.into_iter().chain(extra))
        };
        Ok(Self {
            roots,
            system: n_system,
            extra: n_extra,
        })
    }
}

/// The message for an upstream failure, naming the fix when it is trust.
fn describe(e: &ureq::Error) -> String {
    let tls = match e {
        ureq::Error::Rustls(r) => Some(r),
        ureq::Error::Io(io) => io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    match tls {
        Some(rustls::Error::InvalidCertificate(why)) => format!(
            "TLS: the upstream's certificate is not trusted ({why:?}): add the CA with --ca-cert or SSL_CERT_FILE"
        ),
        _ => e.to_string(),
    }
}

/// An open body: a reader, its declared length, and the final URL or path.
type Opened = (Box<dyn Read + Send>, Option<u64>, String, Validators);

/// What a remote document's validators were (for a conditional request).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
}

impl Validators {
    fn from_headers(headers: &ureq::http::HeaderMap) -> Self {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| v.len() <= 1024)
                .map(String::from)
        };
        Self {
            etag: get("etag"),
            last_modified: get("last-modified"),
        }
    }

    fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The answer to a conditional metadata request.
#[derive(Debug)]
pub enum Revalidated {
    /// A new copy: bytes, final URL, validators.
    Fresh(Vec<u8>, String, Validators),
    /// Upstream answered 304: the copy held is current.
    NotModified,
}

/// Fetches from upstreams under limits.
#[derive(Clone)]
pub struct Fetcher {
    /// For `https://` URLs (through the HTTPS egress proxy, if any).
    agent: ureq::Agent,
    /// For `http://` URLs (through the HTTP egress proxy, if any).
    agent_http: ureq::Agent,
    /// The limits.
    pub limits: FetchLimits,
    allowed_hosts: Vec<String>,
    slots: Arc<HostSlots>,
}

/// `host[:port]` of a URL.
pub fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    Some(authority.to_ascii_lowercase())
}

/// Resolves a possibly relative reference against a base URL.
pub fn resolve(base: &str, reference: &str) -> String {
    if reference.contains("://") {
        return reference.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let authority = rest.split('/').next().unwrap_or_default();
    if let Some(abs) = reference.strip_prefix("//") {
        return format!("{scheme}://{abs}");
    }
    if reference.starts_with('/') {
        return format!("{scheme}://{authority}{reference}");
    }
    let dir = match base.rfind('/') {
        Some(i) if i > scheme.len() + 2 => &base[..=i],
        _ => return format!("{base}/{reference}"),
    };
    let mut joined = format!("{dir}{reference}");
    // Collapse `./` and `seg/../`.
    while let Some(i) = joined.find("/./") {
        joined.replace_range(i..i + 2, "");
    }
    while let Some(i) = joined.find("/../") {
        let start = joined[..i].rfind('/').unwrap_or(i);
        if start <= scheme.len() + 2 + authority.len() {
            break;
        }
        joined.replace_range(start..i + 3, "");
    }
    joined
}

impl Fetcher {
    /// Whether a URL taken from upstream metadata may be fetched: it is on
    /// the upstream's own host, or on a host the operator allowed.
    pub fn may_fetch(&self, source: &Source, upstream_host: Option<&str>) -> Result<(), UpstreamError> {
        let Source::Url(url) = source else { return Ok(()) };
        let host = host_of(url).unwrap_or_default();
        if Some(host.as_str()) == upstream_host || self.allowed_hosts.contains(&host) {
            Ok(())
        } else {
            Err(UpstreamError::OtherHost(url.clone(), host))
        }
    }

    /// A fetcher with these limits, trusting the system's store;
    /// `allowed_hosts` may be redirected to.
    pub fn new(limits: FetchLimits, allowed_hosts: Vec<String>) -> Self {
        let roots = TrustedRoots::load(&[]).unwrap_or(TrustedRoots {
            roots: ureq::tls::RootCerts::WebPki,
            system: 0,
            extra: 0,
        });
        Self::with_roots(limits, allowed_hosts, &roots)
    }

    /// A fetcher with these limits trusting `roots`; `allowed_hosts` may be redirected to.
    pub fn with_roots(limits: FetchLimits, allowed_hosts: Vec<String>, roots: &TrustedRoots) -> Self {
        Self::with_roots_and_host_limit(limits, allowed_hosts, roots, DEFAULT_FETCHES_PER_HOST)
    }

    /// As [`Fetcher::with_roots`], with at most `per_host` exchanges with
    /// one host at a time. The egress proxies are the environment's, where
    /// they parse (check them first with [`Egress::from_env`] to refuse a bad one).
    pub fn with_roots_and_host_limit(
        limits: FetchLimits,
        allowed_hosts: Vec<String>,
        roots: &TrustedRoots,
        per_host: usize,
    ) -> Self {
        Self::configured(
            limits,
            allowed_hosts,
            roots,
            per_host,
            &Egress::from_env().unwrap_or_default(),
        )
    }

    /// As [`Fetcher::with_roots_and_host_limit`], through these egress proxies.
    pub fn configured(
        limits: FetchLimits,
        allowed_hosts: Vec<String>,
        roots: &TrustedRoots,
        per_host: usize,
        egress: &Egress,
    ) -> Self {
        Self::with_resolver(
            limits,
            allowed_hosts,
            roots,
            per_host,
            egress,
            CachingResolver::new(DefaultResolver::default(), DNS_TTL),
        )
    }

    /// The fetcher with a resolver of its own.
    pub(crate) fn with_resolver(
        limits: FetchLimits,
        allowed_hosts: Vec<String>,
        roots: &TrustedRoots,
        per_host: usize,
        egress: &Egress,
        resolver: impl Resolver,
    ) -> Self {
        let per_host = per_host.max(1);
        // Both agents share the resolver, so its cache counts once.
        let resolver = SharedResolver(Arc::new(resolver));
        let agent = |proxy: Option<ureq::Proxy>| {
            ureq::Agent::with_parts(
                Self::agent_config(&limits, roots, per_host, proxy),
                ureq::unversioned::transport::DefaultConnector::new(),
                resolver.clone(),
            )
        };
        Self {
            agent: agent(egress.for_scheme(true)),
            agent_http: agent(egress.for_scheme(false)),
            limits: limits.clone(),
            allowed_hosts: allowed_hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            slots: Arc::new(HostSlots {
                limit: per_host,
                ..HostSlots::default()
            }),
        }
    }

    /// One agent's configuration.
    fn agent_config(
        limits: &FetchLimits,
        roots: &TrustedRoots,
        per_host: usize,
        proxy: Option<ureq::Proxy>,
    ) -> ureq::config::Config {
        let tls = ureq::tls::TlsConfig::builder().root_certs(roots.roots.clone()).build();
        ureq::Agent::config_builder()
            .proxy(proxy)
            .tls_config(tls)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .timeout_global(Some(limits.timeout))
            // Every fetch that may run at once can park its connection for the next.
            .max_idle_connections_per_host(per_host)
            .max_idle_connections(per_host * 8)
            .max_idle_age(Duration::from_secs(30))
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// Opens a source: a reader, the declared length, and the final URL
    /// (after same-host redirects).
    fn open(
        &self,
        source: &Source,
        accept: Option<&str>,
        known: Option<&Validators>,
    ) -> Result<Option<Opened>, UpstreamError> {
        match source {
            Source::File(path) => {
                let name = path.display().to_string();
                let file = std::fs::File::open(path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => UpstreamError::NotFound(name.clone()),
                    _ => UpstreamError::Io(name.clone(), e),
                })?;
                if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                    return Err(UpstreamError::NotFound(name));
                }
                let len = file.metadata().ok().map(|m| m.len());
                Ok(Some((Box::new(file), len, name, Validators::default())))
            }
            Source::Url(url) => {
                let origin = host_of(url);
                let mut current = url.clone();
                for _ in 0..5 {
                    let agent = if current.starts_with("http://") {
                        &self.agent_http
                    } else {
                        &self.agent
                    };
                    let mut req = agent.get(&current);
                    if let Some(a) = accept {
                        req = req.header("Accept", a);
                    }
                    if let Some(v) = known {
                        if let Some(etag) = &v.etag {
                            req = req.header("If-None-Match", etag);
                        }
                        if let Some(lm) = &v.last_modified {
                            req = req.header("If-Modified-Since", lm);
                        }
                    }
                    let response = req.call().map_err(|e| match e {
                        ureq::Error::Timeout(_) => {
                            UpstreamError::Timeout(current.clone(), self.limits.timeout.as_secs())
                        }
                        other => UpstreamError::Unavailable(current.clone(), describe(&other)),
                    })?;
                    let status = response.status().as_u16();
                    if status == 304 && known.is_some() {
                        return Ok(None);
                    }
                    if (300..400).contains(&status) {
                        let location = response
                            .headers()
                            .get("location")
                            .and_then(|l| l.to_str().ok())
                            .ok_or_else(|| {
                                UpstreamError::Unavailable(current.clone(), format!("HTTP {status} without Location"))
                            })?;
                        let next = resolve(&current, location);
                        let host = host_of(&next).unwrap_or_default();
                        if Some(&host) != origin.as_ref() && !self.allowed_hosts.contains(&host) {
                            return Err(UpstreamError::Redirect(current, host));
                        }
                        current = next;
                        continue;
                    }
                    if status == 404 || status == 410 {
                        return Err(UpstreamError::NotFound(current));
                    }
                    if status != 200 {
                        return Err(UpstreamError::Unavailable(current, format!("HTTP {status}")));
                    }
                    let len = response
                        .headers()
                        .get("content-length")
                        .and_then(|l| l.to_str().ok())
                        .and_then(|l| l.parse::<u64>().ok());
                    let validators = Validators::from_headers(response.headers());
                    let reader = response.into_body().into_with_config().limit(u64::MAX).reader();
                    return Ok(Some((Box::new(reader), len, current, validators)));
                }
                Err(UpstreamError::Unavailable(url.clone(), "too many redirects".into()))
            }
        }
    }

    /// Copies a source into `out` under `max` bytes and the deadline.
    fn copy(
        &self,
        source: &Source,
        accept: Option<&str>,
        known: Option<&Validators>,
        max: u64,
        out: &mut dyn Write,
    ) -> Result<Option<(u64, String, Validators)>, UpstreamError> {
        // One slot with the host for the whole exchange (queued here, not at the host).
        let _slot = match source {
            Source::Url(url) => Some(self.slots.take(&host_of(url).unwrap_or_default())),
            Source::File(_) => None,
        };
        let started = Instant::now();
        let Some((mut reader, declared, final_url, validators)) = self.open(source, accept, known)? else {
            return Ok(None);
        };
        let name = source.to_string();
        if let Some(len) = declared
            && len > max
        {
            return Err(UpstreamError::TooLarge(name, max));
        }
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            if started.elapsed() > self.limits.timeout {
                return Err(UpstreamError::Timeout(name, self.limits.timeout.as_secs()));
            }
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let text = e.to_string();
                    if text.contains("imeout") || text.contains("timed out") {
                        return Err(UpstreamError::Timeout(name, self.limits.timeout.as_secs()));
                    }
                    return match declared {
                        Some(len) => Err(UpstreamError::Truncated(name, total, len)),
                        None => Err(UpstreamError::Unavailable(name, text)),
                    };
                }
            };
            total += n as u64;
            if total > max {
                return Err(UpstreamError::TooLarge(name, max));
            }
            out.write_all(&buf[..n])
                .map_err(|e| UpstreamError::Io(name.clone(), e))?;
        }
        if let Some(len) = declared
            && len != total
        {
            return Err(UpstreamError::Truncated(name, total, len));
        }
        Ok(Some((total, final_url, validators)))
    }

    /// Reads a metadata document into memory, bounded by `max_metadata`.
    /// Returns the bytes and the final URL (or path).
    pub fn metadata(&self, source: &Source, accept: Option<&str>) -> Result<(Vec<u8>, String), UpstreamError> {
        let mut out = Vec::new();
        match self.copy(source, accept, None, self.limits.max_metadata, &mut out)? {
            Some((_, url, _)) => Ok((out, url)),
            None => Err(UpstreamError::Unavailable(
                source.to_string(),
                "HTTP 304 unasked".into(),
            )),
        }
    }

    /// Reads a metadata document unless it is unchanged since `known`
    /// (`If-None-Match` / `If-Modified-Since`): upstream's 304 is [`Revalidated::NotModified`].
    pub fn metadata_revalidate(
        &self,
        source: &Source,
        accept: Option<&str>,
        known: Option<&Validators>,
    ) -> Result<Revalidated, UpstreamError> {
        let known = known.filter(|v| !v.is_empty());
        let mut out = Vec::new();
        Ok(
            match self.copy(source, accept, known, self.limits.max_metadata, &mut out)? {
                Some((_, url, validators)) => Revalidated::Fresh(out, url, validators),
                None => Revalidated::NotModified,
            },
        )
    }

    /// Streams a download into `out` under `max` bytes and the deadline,
    /// unless it is unchanged since `known` (`If-None-Match` /
    /// `If-Modified-Since`; upstream's 304 is `Ok(None)`). Returns the bytes
    /// written, the final URL and the new validators. For the advisory
    /// updater, whose downloads are neither metadata nor artifacts.
    pub fn download(
        &self,
        source: &Source,
        known: Option<&Validators>,
        max: u64,
        out: &mut dyn Write,
    ) -> Result<Option<(u64, String, Validators)>, UpstreamError> {
        self.copy(source, None, known.filter(|v| !v.is_empty()), max, out)
    }

    /// Streams an artifact into `dest` (created), bounded by `max_artifact`.
    /// On any error the partial file is removed.
    pub fn spool(&self, source: &Source, dest: &Path) -> Result<u64, UpstreamError> {
        self.spool_bounded(source, dest, self.limits.max_artifact)
    }

    /// Streams an evidence file (a bundle, an attestation) into `dest`,
    /// bounded like metadata: evidence is small, an artifact-sized one is hostile.
    pub fn spool_evidence(&self, source: &Source, dest: &Path) -> Result<u64, UpstreamError> {
        self.spool_bounded(source, dest, self.limits.max_metadata)
    }

    fn spool_bounded(&self, source: &Source, dest: &Path, max: u64) -> Result<u64, UpstreamError> {
        let name = dest.display().to_string();
        let file = std::fs::File::create(dest).map_err(|e| UpstreamError::Io(name.clone(), e))?;
        let mut writer = std::io::BufWriter::with_capacity(256 * 1024, file);
        let result = self.copy(source, None, None, max, &mut writer).and_then(|got| {
            let n = got.map(|(n, _, _)| n).unwrap_or_default();
            writer
                .flush()
                .map(|()| n)
                .map_err(|e| UpstreamError::Io(name.clone(), e))
        });
        if result.is_err() {
            drop(writer);
            let _ = std::fs::remove_file(dest);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_references_and_names_hosts() {
        assert_eq!(
            resolve("http://a/simple/x/", "../../files/x.whl"),
            "http://a/files/x.whl"
        );
        assert_eq!(resolve("http://a/simple/x/", "/p/x.whl"), "http://a/p/x.whl");
        assert_eq!(
            resolve("http://a/simple/x/", "x-1.whl#sha256=00"),
            "http://a/simple/x/x-1.whl#sha256=00"
        );
        assert_eq!(resolve("http://a/simple/x/", "https://b/x.whl"), "https://b/x.whl");
        assert_eq!(
            host_of("http://user@Example.org:8080/x"),
            Some("example.org:8080".into())
        );
    }

    use std::io::{BufRead as _, BufReader};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A resolver that counts lookups and takes 200 ms for each, as a stalling system resolver would.
    #[derive(Debug, Default)]
    struct SlowCounting(Arc<AtomicUsize>);

    impl Resolver for SlowCounting {
        fn resolve(
            &self,
            uri: &ureq::http::Uri,
            config: &ureq::config::Config,
            timeout: ureq::unversioned::transport::NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(200));
            DefaultResolver::default().resolve(uri, config, timeout)
        }
    }

    /// A keep-alive HTTP/1.1 server answering `hello` after `delay`;
    /// counts connections and the most requests in progress at once.
    fn server(delay: Duration) -> (u16, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (conns, busy, most) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let (c, b, m) = (conns.clone(), busy.clone(), most.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                c.fetch_add(1, Ordering::SeqCst);
                let (b, m) = (b.clone(), m.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut out = stream;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            let mut h = String::new();
                            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                                break;
                            }
                        }
                        let now = b.fetch_add(1, Ordering::SeqCst) + 1;
                        m.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(delay);
                        b.fetch_sub(1, Ordering::SeqCst);
                        if out
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        (port, conns, most)
    }

    fn roots() -> TrustedRoots {
        TrustedRoots {
            roots: ureq::tls::RootCerts::WebPki,
            system: 0,
            extra: 0,
        }
    }

    #[test]
    fn host_names_are_resolved_once_per_ttl_and_connections_are_reused() {
        let (port, conns, _) = server(Duration::ZERO);
        let lookups = Arc::new(AtomicUsize::new(0));
        let resolver = CachingResolver::new(SlowCounting(lookups.clone()), DNS_TTL);
        let fetcher = Fetcher::with_resolver(
            FetchLimits::default(),
            Vec::new(),
            &roots(),
            4,
            &Egress::direct(),
            resolver,
        );
        let url = Source::Url(format!("http://localhost:{port}/x"));
        let started = Instant::now();
        for _ in 0..10 {
            assert_eq!(fetcher.metadata(&url, None).unwrap().0, b"hello");
        }
        assert_eq!(lookups.load(Ordering::SeqCst), 1, "one lookup for ten requests");
        assert!(lookups.load(Ordering::SeqCst) <= conns.load(Ordering::SeqCst));
        assert_eq!(conns.load(Ordering::SeqCst), 1, "one kept-alive connection");
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        // After the TTL, looked up again.
        let lookups = Arc::new(AtomicUsize::new(0));
        let resolver = CachingResolver::new(SlowCounting(lookups.clone()), Duration::from_millis(50));
        let fetcher = Fetcher::with_resolver(
            FetchLimits::default(),
            Vec::new(),
            &roots(),
            4,
            &Egress::direct(),
            resolver,
        );
        fetcher.metadata(&url, None).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        fetcher.metadata(&url, None).unwrap();
        assert_eq!(lookups.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn parallel_fetches_from_one_host_are_bounded_but_parallel() {
        let (port, _, most) = server(Duration::from_millis(100));
        let fetcher = Arc::new(Fetcher::with_roots_and_host_limit(
            FetchLimits::default(),
            Vec::new(),
            &roots(),
            3,
        ));
        let started = Instant::now();
        let threads: Vec<_> = (0..9)
            .map(|i| {
                let f = fetcher.clone();
                std::thread::spawn(move || {
                    f.metadata(&Source::Url(format!("http://127.0.0.1:{port}/{i}")), None)
                        .unwrap()
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!((2..=3).contains(&most), "at most 3 at once, and in parallel: {most}");
        // Nine 100 ms answers, three at a time: about 300 ms, not 900.
        assert!(
            started.elapsed() < Duration::from_millis(800),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn directory_upstreams_refuse_escapes() {
        let up = Upstream::Dir(PathBuf::from("/srv/registry"));
        assert!(up.locate("a/b.json").is_ok());
        assert!(up.locate("../etc/passwd").is_err());
        assert!(up.locate("a/../../b").is_err());
    }
}
