//! The gatekeeper: one artifact request, from upstream bytes to a served or
//! refused answer, through the same [`Gate`] as `ward verify`.
//!
//! Per request key (registry, package, file) at most one fetch and one
//! verification run at a time: a second client asking for the same file
//! waits and then gets the cached answer. The artifact is spooled to disk,
//! never handed to the client before the gate allows it; allowed artifacts
//! move into the blob cache and are served from there afterwards, without
//! a new verification, until the policy changes (decisions are keyed by the
//! policy digest). Every decision is recorded in the ledger; a decision
//! that cannot be recorded does not allow.

use crate::cache::{Cache, CachedAllow, MetaInfo};
use crate::events::{ArtifactEvent, Event, Outcome, Sink};
use crate::memory::{Bounded, bounded};
use crate::upstream::{Fetcher, Revalidated, Source, UpstreamError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ward_core::{PackageId, ReasonCode};
use ward_gate::{Evidence, ExpectedDigest, Gate};

/// What the proxy answers for an artifact.
#[derive(Clone, Debug)]
pub enum Served {
    /// Serve these bytes.
    Allowed {
        /// The blob.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// Its SHA-256.
        sha256: String,
    },
    /// Refused by the gate: HTTP 403 with this one-line reason.
    Denied {
        /// `code: message`.
        reason: String,
    },
    /// Could not be evaluated: HTTP 404 or 502 with this reason.
    Failed {
        /// HTTP status.
        status: u16,
        /// The reason.
        reason: String,
    },
}

/// One artifact request.
#[derive(Clone, Debug)]
pub struct ArtifactRequest {
    /// Cache and single-flight key: `registry/package/file`.
    pub key: String,
    /// The file name the client asked for (kept for identification).
    pub file_name: String,
    /// The package, when the registry says which it is.
    pub purl: Option<PackageId>,
    /// Where the bytes are.
    pub source: Source,
    /// Digests the registry index lists for it.
    pub index_digests: Vec<(&'static str, String)>,
    /// Evidence files that may sit beside it upstream (`NAME.sigstore.json`, …).
    pub sidecars: Vec<(Source, String)>,
    /// Attestation documents the registry points at (npm `dist.attestations.url`).
    pub attestations: Vec<(Source, String)>,
    /// The upstream's host: URLs from its metadata must stay on it (or on an allowed host).
    pub upstream_host: Option<String>,
    /// npm `dist.signatures` with the integrity they cover.
    pub npm_signatures: Vec<ward_gate::NpmRegistrySignature>,
    /// What the listing says about this release and earlier ones (publish
    /// times, publishers, attestation flags), when the policy reads it.
    pub release: Option<ward_policy::release::RegistryReleases>,
    /// Attestations of an earlier release the listing says carried
    /// provenance, for the history rules to learn where it was built.
    pub baseline: Vec<BaselineRequest>,
    /// What the listing says earlier versions did at install, when the
    /// policy compares releases (risky-change rules).
    pub registry_traits: Option<Arc<ward_gate::risky::RegistryBaseline>>,
}

/// An earlier release's attestations to fetch and verify with a decision.
#[derive(Clone, Debug)]
pub struct BaselineRequest {
    /// Where its attestations are (on the upstream's host).
    pub source: Source,
    /// The earlier release, with its version.
    pub package: PackageId,
    /// Its file name.
    pub file_name: String,
    /// Its sha512 as the listing gives it, hex.
    pub sha512: String,
}

/// The gatekeeper, shared by every request.
pub struct Keeper {
    gate: Gate,
    cache: Cache,
    fetcher: Fetcher,
    policy_digest: String,
    evidence_dir: Option<PathBuf>,
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Denials under this policy, by request key: bounded; a forgotten
    /// denial means the file is fetched and judged again.
    denied: Bounded<String, String>,
    /// Allows already read from (or written to) the cache, so the hot path
    /// reads no decision file: bounded; a forgotten allow is read back from
    /// the cache's decision file.
    allowed: Bounded<String, CachedAllow>,
    /// Denials remembered across restarts, by key, digest and policy
    /// (see [`crate::denials`]): bounded.
    denials: crate::denials::Denials,
    /// Where events go (see [`crate::events`]).
    events: Option<Sink>,
    /// How long a remote metadata document is served without asking upstream.
    metadata_ttl: Duration,
    /// "Now" for every decision (expiry, deadlines, signature age).
    clock: Clock,
    /// Where rebuild attestations are fetched from (see [`crate::rebuild_sources`]).
    rebuild_sources: Vec<crate::rebuild_sources::RebuildSource>,
}

/// Where the gatekeeper's decisions take "now" from. The command line hands
/// in its own clock (which a test can pin); the default is the system clock.
pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// How long a remote metadata document is served without asking upstream, by default.
pub const DEFAULT_METADATA_TTL: Duration = Duration::from_secs(300);

/// What the log says about a decision beyond the answer itself.
#[derive(Default)]
struct Detail {
    codes: Vec<String>,
    outcome: Option<Outcome>,
    ledger_index: Option<u64>,
    upstream: Duration,
    /// The package as identified from the bytes, when the request did not say.
    purl: Option<String>,
}

/// Why the proxy cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeeperError {
    /// The ledger cannot be read.
    #[error("ledger: {0}")]
    Ledger(#[from] ward_ledger::LedgerError),
    /// The cache directory cannot be used.
    #[error("cache: {0}")]
    Cache(#[from] std::io::Error),
}

const SIDECARS: &[&str] = &[".sigstore.json", ".sigstore", ".intoto.jsonl", ".rebuild.intoto.jsonl"];

impl Keeper {
    /// A gatekeeper over a configured gate (with its ledger). Release pins
    /// are turned on: bytes that differ from what the ledger already
    /// allowed for a package file deny.
    pub fn new(gate: Gate, cache: Cache, fetcher: Fetcher, evidence_dir: Option<PathBuf>) -> Result<Self, KeeperError> {
        let policy_digest = gate
            .policy()
            .map(|p| p.digest.clone())
            .unwrap_or_else(|| "ward:safe-default".into());
        let gate = gate.with_release_pins()?;
        let denials =
            crate::denials::Denials::open(cache.root(), &policy_digest, crate::denials::DEFAULT_REMEMBERED_DENIALS);
        Ok(Self {
            gate,
            cache,
            fetcher,
            policy_digest,
            evidence_dir,
            inflight: Mutex::new(HashMap::new()),
            denied: bounded(crate::MemoryLimits::default().decision_bytes),
            allowed: bounded(crate::MemoryLimits::default().decision_bytes),
            denials,
            events: None,
            metadata_ttl: DEFAULT_METADATA_TTL,
            clock: Arc::new(jiff::Timestamp::now),
            rebuild_sources: Vec::new(),
        })
    }

    /// The same gatekeeper fetching each artifact's rebuild attestation
    /// from these sources (an absent one adds no evidence).
    pub fn with_rebuild_sources(mut self, sources: Vec<crate::rebuild_sources::RebuildSource>) -> Self {
        self.rebuild_sources = sources;
        self
    }

    /// The same gatekeeper deciding by this clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same gatekeeper serving remote metadata for `ttl` before
    /// revalidating it (zero: revalidate on every request).
    pub fn with_metadata_ttl(mut self, ttl: Duration) -> Self {
        self.metadata_ttl = ttl;
        self
    }

    /// The same gatekeeper handing every event (decisions, upstream
    /// failures, evidence treated as absent) to `sink`.
    pub fn with_events(mut self, sink: Sink) -> Self {
        self.events = Some(sink);
        self
    }

    /// Hands an event to the sink, if there is one.
    pub fn emit(&self, event: &Event) {
        if let Some(sink) = &self.events {
            sink(event);
        }
    }

    /// The same gatekeeper remembering about `bytes` of allows and of
    /// denials each (what it remembered so far is forgotten).
    pub fn with_decision_memory(mut self, bytes: u64) -> Self {
        self.denied = bounded(bytes);
        self.allowed = bounded(bytes);
        self
    }

    /// The same gatekeeper remembering at most `n` denials across restarts.
    pub fn with_remembered_denials(mut self, n: usize) -> Self {
        self.denials = self.denials.with_max_entries(n);
        self
    }

    /// The policy file in use (`None`: ward's safe default decides).
    pub fn policy(&self) -> Option<&ward_policy::Policy> {
        self.gate.policy()
    }

    /// "Now", by the gatekeeper's clock.
    pub fn now(&self) -> jiff::Timestamp {
        (self.clock)()
    }

    /// Why a listed release is left out of listings (a cooldown in
    /// `enforce` mode would refuse its download), if it is.
    pub fn listing_hold(
        &self,
        id: &PackageId,
        release: ward_policy::release::RegistryReleases,
    ) -> Option<ward_core::Reason> {
        let policy = self.gate.policy()?;
        let history = ward_policy::release::ReleaseHistory {
            registry: Some(release),
            ..Default::default()
        };
        policy.listing_hold(id, &history, self.now())
    }

    /// The largest `history.window` of the scopes that apply (0: no history rule).
    pub fn history_window(&self, id: &PackageId) -> usize {
        self.gate.policy().map_or(0, |p| {
            p.scopes_for(id)
                .iter()
                .filter_map(|s| s.history.as_ref())
                .map(|h| usize::try_from(h.window.value).unwrap_or(usize::MAX))
                .max()
                .unwrap_or(0)
        })
    }

    /// Whether the gate will need an earlier release's attestations for
    /// `id`: not when the ledger already knows a verified source in the window.
    pub fn needs_baseline(&self, id: &PackageId, window: usize) -> bool {
        !self.gate.ledger_knows_provenance(id, window)
    }

    /// Whether the policy reads release metadata for this package.
    pub fn wants_release_metadata(&self, id: &PackageId) -> bool {
        self.gate.policy().is_some_and(|p| p.wants_release_metadata(id))
    }

    /// Whether the policy compares this package's releases (risky-change
    /// rules), so the listing's earlier versions are read for it.
    pub fn compares_releases(&self, id: &PackageId) -> bool {
        self.gate.compares_releases(id)
    }

    /// The fetcher (metadata goes through it too).
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// A metadata document from upstream, kept as the last good copy; when
    /// upstream fails (other than "not found"), the last good copy instead,
    /// so that what the cache holds stays installable. Returns the bytes
    /// and the URL (or path) they came from.
    ///
    /// A remote document younger than the metadata TTL is served from the
    /// cache with no upstream request; an older one is revalidated with
    /// `If-None-Match` / `If-Modified-Since` and, on 304, served again.
    pub fn metadata(
        &self,
        source: &Source,
        accept: Option<&str>,
        cache_key: &str,
    ) -> Result<(Vec<u8>, String), UpstreamError> {
        // The full and abbreviated packuments are different documents.
        let key = match accept {
            Some(a) => format!("{cache_key}\naccept: {a}"),
            None => cache_key.to_string(),
        };
        let remote = matches!(source, Source::Url(_));
        let now = self.now().as_second();
        let held = if remote {
            self.cache
                .meta_info(&key)
                .and_then(|info| self.cache.meta(&key).map(|bytes| (bytes, info)))
        } else {
            None
        };
        if let Some((bytes, info)) = &held {
            let age = now.saturating_sub(info.checked);
            if age >= 0 && u128::from(age.unsigned_abs()) * 1000 < self.metadata_ttl.as_millis() {
                return Ok((bytes.clone(), info.url.clone()));
            }
        }
        let fetched = self
            .fetcher
            .metadata_revalidate(source, accept, held.as_ref().map(|(_, i)| &i.validators));
        match fetched {
            Ok(Revalidated::Fresh(bytes, url, validators)) => {
                let _ = self.cache.put_meta(&key, &bytes);
                if remote {
                    let info = MetaInfo {
                        url: url.clone(),
                        checked: now,
                        validators,
                    };
                    let _ = self.cache.put_meta_info(&key, &info);
                }
                Ok((bytes, url))
            }
            Ok(Revalidated::NotModified) => match held {
                Some((bytes, mut info)) => {
                    info.checked = now;
                    let _ = self.cache.put_meta_info(&key, &info);
                    Ok((bytes, info.url))
                }
                None => Err(UpstreamError::Unavailable(
                    source.to_string(),
                    "HTTP 304 unasked".into(),
                )),
            },
            Err(e) => match self.cache.meta(&key) {
                Some(bytes) if !matches!(e, UpstreamError::NotFound(_)) => {
                    let url = held.map(|(_, i)| i.url).unwrap_or_else(|| source.to_string());
                    Ok((bytes, url))
                }
                _ => Err(e),
            },
        }
    }

    /// Why a listed file is known to be refused under this policy, if it
    /// is: refused in this run, or refused before a restart with the same
    /// bytes as the index now names (`index_digests`). Nothing is fetched.
    pub fn listed_refusal(&self, key: &str, index_digests: &[(&str, String)]) -> Option<String> {
        self.denied
            .get(key)
            .or_else(|| self.denials.matching(key, index_digests).map(|d| d.reason))
    }

    /// The remembered denial of a file under this policy, if any (whatever
    /// its bytes: for a download upstream no longer lists).
    pub fn denial(&self, key: &str) -> Option<Served> {
        self.denied
            .get(key)
            .or_else(|| self.denials.get(key).map(|d| d.reason))
            .map(|reason| Served::Denied { reason })
    }

    /// Answers one artifact request.
    pub async fn artifact(self: &Arc<Self>, req: ArtifactRequest) -> Served {
        let started = Instant::now();
        let client = crate::events::client();
        let (purl, file) = (req.purl.as_ref().map(|p| p.to_string()), req.file_name.clone());
        let (served, detail, hit) = match self.cached_detail(&req.key, &req.index_digests) {
            Some((hit, detail)) => (hit, detail, true),
            None => {
                // The fetch and verification run in a task of their own: a client
                // that hangs up does not cancel them halfway, so the next client
                // waiting for the same file gets their answer instead of a second fetch.
                let me = Arc::clone(self);
                let (served, detail) = tokio::spawn(async move { me.fetch_once(req).await })
                    .await
                    .unwrap_or_else(|e| {
                        (
                            failed(500, &format!("verification task failed: {e}")),
                            Detail::default(),
                        )
                    });
                (served, detail, false)
            }
        };
        if self.events.is_some() {
            let (outcome, reason) = match &served {
                Served::Allowed { .. } => (detail.outcome.unwrap_or(Outcome::Allow), None),
                Served::Denied { reason } => (Outcome::Deny, Some(reason.clone())),
                Served::Failed { reason, .. } => (Outcome::Failed, Some(reason.clone())),
            };
            let mut codes = detail.codes;
            if codes.is_empty()
                && let Some(r) = &reason
                && let Some((code, _)) = r.split_once(':')
                && !code.contains(' ')
            {
                codes.push(code.to_string());
            }
            self.emit(&Event::Artifact(ArtifactEvent {
                client,
                purl: purl.or(detail.purl),
                file,
                outcome,
                codes,
                reason,
                ledger_index: detail.ledger_index,
                total: started.elapsed(),
                upstream: detail.upstream,
                cache_hit: hit,
            }));
        }
        served
    }

    /// A cached answer with what the log says about it.
    fn cached_detail(&self, key: &str, index_digests: &[(&str, String)]) -> Option<(Served, Detail)> {
        let hit = self.cached(key, index_digests)?;
        let mut detail = Detail::default();
        if let Served::Denied { .. } = &hit
            && let Some(d) = self.denials.matching(key, index_digests)
        {
            detail.ledger_index = d.ledger_index;
            detail.codes = d.codes;
        }
        if let Served::Allowed { .. } = &hit
            && let Some(allow) = self.allowed.get(key)
        {
            detail.ledger_index = allow.ledger_index;
            if let Some((mode, codes)) = allow.relaxed {
                detail.outcome = match mode.as_str() {
                    "warn" => Some(Outcome::Warn),
                    "audit" => Some(Outcome::Audit),
                    _ => None,
                };
                detail.codes = codes;
            }
        }
        Some((hit, detail))
    }

    async fn fetch_once(self: Arc<Self>, req: ArtifactRequest) -> (Served, Detail) {
        let turn = {
            let mut inflight = match self.inflight.lock() {
                Ok(m) => m,
                Err(_) => return (failed(500, "internal state poisoned"), Detail::default()),
            };
            inflight.entry(req.key.clone()).or_default().clone()
        };
        let _turn = turn.lock().await;
        // Whoever held the turn before may have answered it.
        if let Some(hit) = self.cached_detail(&req.key, &req.index_digests) {
            return hit;
        }
        let me = Arc::clone(&self);
        let key = req.key.clone();
        let (served, detail) = tokio::task::spawn_blocking(move || {
            let mut detail = Detail::default();
            let served = me.fetch_and_verify(&req, &mut detail);
            (served, detail)
        })
        .await
        .unwrap_or_else(|e| {
            (
                failed(500, &format!("verification task failed: {e}")),
                Detail::default(),
            )
        });
        if let Served::Denied { reason } = &served
            && !time_bound(reason)
        {
            self.denied.insert(key.clone(), reason.clone());
        }
        if let Ok(mut inflight) = self.inflight.lock() {
            inflight.remove(&key);
        }
        (served, detail)
    }

    fn cached(&self, key: &str, index_digests: &[(&str, String)]) -> Option<Served> {
        let remembered = self.allowed.get(key);
        let allow = remembered.or_else(|| {
            let allow = self.cache.allowed(key, &self.policy_digest)?;
            self.allowed.insert(key.to_string(), allow.clone());
            Some(allow)
        });
        if let Some(allow) = allow {
            return Some(Served::Allowed {
                path: self.cache.blob(&allow.sha256),
                size: allow.size,
                sha256: allow.sha256,
            });
        }
        // Refused in this run, or before a restart with the bytes the index names now.
        let denied = self
            .denied
            .get(key)
            .or_else(|| self.denials.matching(key, index_digests).map(|d| d.reason))?;
        Some(Served::Denied { reason: denied })
    }

    fn fetch_and_verify(&self, req: &ArtifactRequest, detail: &mut Detail) -> Served {
        let spool = match self.cache.spool_dir() {
            Ok(d) => d,
            Err(e) => return failed(500, &format!("spool: {e}")),
        };
        let path = spool.path().join(&req.file_name);
        let host = req.upstream_host.as_deref();
        let sources = std::iter::once(&req.source)
            .chain(req.sidecars.iter().map(|(s, _)| s))
            .chain(req.attestations.iter().map(|(s, _)| s));
        for source in sources {
            if let Err(e) = self.fetcher.may_fetch(source, host) {
                return upstream_failed(&e);
            }
        }
        let fetching = Instant::now();
        let spooled = self.fetcher.spool(&req.source, &path);
        detail.upstream += fetching.elapsed();
        if let Err(e) = spooled {
            return upstream_failed(&e);
        }
        // Evidence beside the artifact upstream (only where the operator
        // asked for probes), then in the local evidence directory. A probe
        // is optional: any failure (403 from a storage-backed mirror, 5xx,
        // a timeout, a DNS failure) means absent, never a failed artifact.
        // Where each spooled evidence file came from: the ledger names that,
        // not the spool path (deleted once the decision is made).
        let mut origins = Vec::new();
        for (source, name) in &req.sidecars {
            let dest = spool.path().join(name);
            let fetching = Instant::now();
            let got = self.fetcher.spool_evidence(source, &dest);
            detail.upstream += fetching.elapsed();
            match got {
                Ok(_) => origins.push((dest, source.to_string())),
                Err(UpstreamError::NotFound(_)) => {}
                Err(e) => self.emit(&Event::EvidenceAbsent {
                    source: source.to_string(),
                    reason: e.to_string(),
                }),
            }
        }
        if let Some(dir) = &self.evidence_dir {
            for suffix in SIDECARS {
                let name = format!("{}{suffix}", req.file_name);
                let local = dir.join(&name);
                let dest = spool.path().join(&name);
                if local.is_file() && !dest.exists() {
                    if std::fs::copy(&local, &dest).is_err() {
                        return failed(500, &format!("cannot read {}", local.display()));
                    }
                    origins.push((dest, local.display().to_string()));
                }
            }
        }
        let mut evidence = Evidence {
            npm_registry_signatures: req.npm_signatures.clone(),
            release: req.release.clone(),
            registry_traits: req.registry_traits.clone(),
            ..Evidence::default()
        };
        for (i, b) in req.baseline.iter().enumerate() {
            let dest = spool.path().join(format!("baseline-{i}.npm-attestations.json"));
            let fetching = Instant::now();
            let got = self
                .fetcher
                .may_fetch(&b.source, host)
                .and_then(|()| self.fetcher.spool_evidence(&b.source, &dest));
            detail.upstream += fetching.elapsed();
            evidence.baseline.push(ward_gate::BaselineAttestations {
                source: ward_gate::EvidenceSource::new(dest, b.source.to_string()),
                package: b.package.clone(),
                file_name: b.file_name.clone(),
                sha512: b.sha512.clone(),
                fetch_error: got.err().map(|e| e.to_string()),
            });
        }
        for (source, name) in &req.attestations {
            let dest = spool.path().join(name);
            let fetching = Instant::now();
            let got = self.fetcher.spool_evidence(source, &dest);
            detail.upstream += fetching.elapsed();
            match got {
                Ok(_) => evidence
                    .attestations
                    .push(ward_gate::EvidenceSource::new(dest, source.to_string())),
                Err(UpstreamError::NotFound(_)) => {}
                Err(e) => return upstream_failed(&e),
            }
        }
        evidence.discover_sidecars(&path);
        if let Some(id) = &req.purl {
            for (i, source) in self
                .rebuild_sources
                .iter()
                .filter_map(|s| s.for_artifact(id, &req.file_name))
                .enumerate()
            {
                let dest = spool.path().join(format!("{}.rebuild-source-{i}.jsonl", req.file_name));
                let fetching = Instant::now();
                let got = self.fetcher.spool_evidence(&source, &dest);
                detail.upstream += fetching.elapsed();
                match got {
                    Ok(_) => evidence
                        .rebuilds
                        .push(ward_gate::EvidenceSource::new(dest, source.to_string())),
                    Err(UpstreamError::NotFound(_)) => {}
                    Err(e) => self.emit(&Event::EvidenceAbsent {
                        source: source.to_string(),
                        reason: e.to_string(),
                    }),
                }
            }
        }
        for (dest, origin) in origins {
            evidence.relabel(&dest, origin);
        }
        for (algorithm, hex) in &req.index_digests {
            evidence.expected.push(ExpectedDigest {
                algorithm,
                hex: hex.clone(),
                source: "the registry index".into(),
                code: ReasonCode::IndexDigestMismatch,
            });
        }
        let evaluation = match self
            .gate
            .evaluate_at(&path, req.purl.clone(), &evidence, (self.clock)())
        {
            Ok(e) => e,
            Err(e) => return failed(502, &format!("could not evaluate {}: {e}", req.file_name)),
        };
        let index = match self.gate.record(&evaluation, "proxy") {
            Ok(r) => r.map(|r| r.index),
            Err(e) => {
                return Served::Denied {
                    reason: format!("the decision could not be recorded in the ledger, so it does not allow: {e}"),
                };
            }
        };
        let decision = &evaluation.decision;
        detail.ledger_index = index;
        detail.purl = Some(evaluation.artifact.id.to_string());
        let code = |r: &ward_core::Reason| r.code.to_string();
        if !decision.allowed() {
            detail.codes = decision.reasons.iter().map(code).collect();
            let first = decision.reasons.first();
            let reason = first
                .map(|r| format!("{}: {}", r.code, r.message))
                .unwrap_or_else(|| "denied".into());
            // A release held back by the cooldown becomes eligible with
            // time, and stale advisory data is lifted by an update: those
            // denials are not remembered, so the next request is judged
            // again (and allowed once the cooldown has passed or the data
            // is fresh).
            if decision
                .reasons
                .iter()
                .any(|r| matches!(r.code, ReasonCode::ReleaseTooNew | ReasonCode::AdvisoriesStale))
            {
                return Served::Denied { reason };
            }
            // Remembered across restarts: the same bytes under the same
            // policy are not fetched and recorded again.
            self.denials.insert(crate::denials::Denial {
                key: req.key.clone(),
                policy: self.policy_digest.clone(),
                sha256: evaluation.artifact.digests.sha256.to_hex(),
                sha512: evaluation.artifact.digests.sha512.to_hex(),
                reason: reason.clone(),
                codes: detail.codes.clone(),
                ledger_index: index,
            });
            return Served::Denied { reason };
        }
        if !decision.warnings.is_empty() {
            detail.outcome = Some(Outcome::Warn);
            detail.codes = decision.warnings.iter().map(code).collect();
        } else if !decision.audit.is_empty() {
            detail.outcome = Some(Outcome::Audit);
            detail.codes = decision.audit.iter().map(code).collect();
        }
        let sha256 = evaluation.artifact.digests.sha256.to_hex();
        let allow = CachedAllow {
            key: req.key.clone(),
            sha256: sha256.clone(),
            size: evaluation.artifact.size,
            policy: self.policy_digest.clone(),
            ledger_index: index,
            relaxed: detail.outcome.map(|o| (o.as_str().to_string(), detail.codes.clone())),
        };
        if let Err(e) = self.cache.store_allowed(&path, &allow) {
            return failed(500, &format!("cache: {e}"));
        }
        self.allowed.insert(allow.key.clone(), allow.clone());
        Served::Allowed {
            path: self.cache.blob(&sha256),
            size: allow.size,
            sha256,
        }
    }
}

/// Whether a refusal may turn into an allow with time alone (a release
/// held back by the cooldown) or with fresh advisory data (stale data past
/// `deny_after`, lifted by `ward advisories update`): such a refusal is
/// never remembered.
fn time_bound(reason: &str) -> bool {
    [ReasonCode::ReleaseTooNew, ReasonCode::AdvisoriesStale]
        .iter()
        .any(|code| {
            reason
                .strip_prefix(code.as_str())
                .is_some_and(|rest| rest.starts_with(':'))
        })
}

fn failed(status: u16, reason: &str) -> Served {
    Served::Failed {
        status,
        reason: reason.to_string(),
    }
}

/// An upstream failure as an answer: 404 for what upstream does not have,
/// 502 for everything else.
pub fn upstream_failed(e: &UpstreamError) -> Served {
    let status = if matches!(e, UpstreamError::NotFound(_)) {
        404
    } else {
        502
    };
    failed(status, &format!("{}: {e}", ReasonCode::UpstreamFailed))
}

/// The sidecar evidence files that may sit next to an artifact upstream.
pub fn sidecars_beside(artifact: &Source, file_name: &str) -> Vec<(Source, String)> {
    SIDECARS
        .iter()
        .map(|suffix| {
            let name = format!("{file_name}{suffix}");
            let source = match artifact {
                Source::File(p) => Source::File(PathBuf::from(format!("{}{suffix}", p.display()))),
                Source::Url(u) => Source::Url(format!("{}{suffix}", u.split('#').next().unwrap_or(u))),
            };
            (source, name)
        })
        .collect()
}

/// A path's final component, if it is a plain file name.
pub fn plain_file_name(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).file_name().is_some();
    ok.then_some(name)
}
