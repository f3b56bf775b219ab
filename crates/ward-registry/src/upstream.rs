//! Getting bytes from an upstream registry: a remote one over HTTP(S), or a
//! local directory in the registry's own layout (air-gapped sites, tests).
//!
//! Every read is bounded: metadata by a byte limit read into memory,
//! artifacts streamed to a spool file under a byte limit, and the whole
//! exchange by a deadline (so a slow drip ends). A body shorter than its
//! `Content-Length` is an error, not a short file. Redirects are followed
//! only to the upstream's own host, or to hosts the operator allowed.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

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

/// An open body: a reader, its declared length, and the final URL or path.
type Opened = (Box<dyn Read + Send>, Option<u64>, String);

/// Fetches from upstreams under limits.
#[derive(Clone)]
pub struct Fetcher {
    agent: ureq::Agent,
    /// The limits.
    pub limits: FetchLimits,
    allowed_hosts: Vec<String>,
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

    /// A fetcher with these limits; `allowed_hosts` may be redirected to.
    pub fn new(limits: FetchLimits, allowed_hosts: Vec<String>) -> Self {
        let config = ureq::Agent::config_builder()
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .timeout_global(Some(limits.timeout))
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: config.into(),
            limits,
            allowed_hosts: allowed_hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }

    /// Opens a source: a reader, the declared length, and the final URL
    /// (after same-host redirects).
    fn open(&self, source: &Source, accept: Option<&str>) -> Result<Opened, UpstreamError> {
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
                Ok((Box::new(file), len, name))
            }
            Source::Url(url) => {
                let origin = host_of(url);
                let mut current = url.clone();
                for _ in 0..5 {
                    let mut req = self.agent.get(&current);
                    if let Some(a) = accept {
                        req = req.header("Accept", a);
                    }
                    let response = req.call().map_err(|e| match e {
                        ureq::Error::Timeout(_) => {
                            UpstreamError::Timeout(current.clone(), self.limits.timeout.as_secs())
                        }
                        other => UpstreamError::Unavailable(current.clone(), other.to_string()),
                    })?;
                    let status = response.status().as_u16();
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
                    let reader = response.into_body().into_with_config().limit(u64::MAX).reader();
                    return Ok((Box::new(reader), len, current));
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
        max: u64,
        out: &mut dyn Write,
    ) -> Result<(u64, String), UpstreamError> {
        let started = Instant::now();
        let (mut reader, declared, final_url) = self.open(source, accept)?;
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
        Ok((total, final_url))
    }

    /// Reads a metadata document into memory, bounded by `max_metadata`.
    /// Returns the bytes and the final URL (or path).
    pub fn metadata(&self, source: &Source, accept: Option<&str>) -> Result<(Vec<u8>, String), UpstreamError> {
        let mut out = Vec::new();
        let (_, url) = self.copy(source, accept, self.limits.max_metadata, &mut out)?;
        Ok((out, url))
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
        let result = self.copy(source, None, max, &mut writer).and_then(|(n, _)| {
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

    #[test]
    fn directory_upstreams_refuse_escapes() {
        let up = Upstream::Dir(PathBuf::from("/srv/registry"));
        assert!(up.locate("a/b.json").is_ok());
        assert!(up.locate("../etc/passwd").is_err());
        assert!(up.locate("a/../../b").is_err());
    }
}
