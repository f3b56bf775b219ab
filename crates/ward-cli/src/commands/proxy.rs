//! `ward proxy` (a long-running registry proxy) and `ward run -- COMMAND`
//! (an ephemeral proxy on a free loopback port, with pip, uv, npm, yarn,
//! pnpm and cargo pointed at it through their environment).

use super::{Usage, data_dir, or_usage, policy_invalid, trust_root};
use crate::args::{GateArgs, LogFormat, ProbeRegistry, ProxyArgs, RunArgs, UpstreamArgs};
use std::path::PathBuf;
use std::sync::Arc;
use ward_gate::{Gate, Stores};
use ward_policy::Policy;
use ward_registry::{
    Cache, Egress, Event, FetchLimits, Fetcher, Keeper, MemoryLimits, Outcome, Proxy, ProxyOptions, ServerLimits,
    SidecarProbes, Sink, TrustedRoots, Upstream, Upstreams,
};
use ward_verify::RegistryKeys;

/// The proxy configuration file: the same settings as the flags.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    listen: Option<String>,
    policy: Option<PathBuf>,
    ledger: Option<PathBuf>,
    db: Option<PathBuf>,
    npm_keys: Option<PathBuf>,
    evidence: Option<PathBuf>,
    cache: Option<PathBuf>,
    max_artifact_bytes: Option<u64>,
    max_metadata_bytes: Option<u64>,
    upstream_timeout: Option<u64>,
    max_listing_entries: Option<usize>,
    listing_memory_bytes: Option<u64>,
    decision_memory_bytes: Option<u64>,
    remembered_denials: Option<usize>,
    header_timeout: Option<u64>,
    idle_timeout: Option<u64>,
    max_connections: Option<usize>,
    max_fetches_per_host: Option<usize>,
    metadata_ttl: Option<u64>,
    #[serde(default)]
    allow_redirect_hosts: Vec<String>,
    #[serde(default)]
    ca_certs: Vec<PathBuf>,
    #[serde(default)]
    rebuild_sources: Vec<String>,
    log_format: Option<LogFormat>,
    pypi: Option<RegistryConfig>,
    npm: Option<RegistryConfig>,
    cargo: Option<RegistryConfig>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryConfig {
    upstream: Option<String>,
    /// Probe for sidecar evidence beside this upstream's artifacts.
    probe_sidecars: Option<bool>,
}

/// Every setting, resolved: a flag, else the configuration file, else the default.
struct Settings {
    listen: Option<String>,
    policy: Option<PathBuf>,
    ledger: Option<PathBuf>,
    db: Option<PathBuf>,
    npm_keys: Option<PathBuf>,
    evidence: Option<PathBuf>,
    cache: PathBuf,
    pypi: String,
    npm: String,
    cargo: String,
    limits: FetchLimits,
    memory: MemoryLimits,
    server: ServerLimits,
    hosts: Vec<String>,
    ca_certs: Vec<PathBuf>,
    probes: SidecarProbes,
    log_format: LogFormat,
    fetches_per_host: usize,
    metadata_ttl: std::time::Duration,
    rebuild_sources: Vec<ward_registry::rebuild_sources::RebuildSource>,
}

fn settings(listen: Option<&str>, gate: &GateArgs, up: &UpstreamArgs) -> Result<Settings, Usage> {
    let (file, dir) = match &up.config {
        None => (ConfigFile::default(), PathBuf::new()),
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))?;
            let file: ConfigFile = toml::from_str(&text).map_err(|e| Usage(format!("{}: {e}", path.display())))?;
            (
                file,
                path.parent().map(std::path::Path::to_path_buf).unwrap_or_default(),
            )
        }
    };
    // Paths in the file are relative to the file.
    let rel = |p: Option<PathBuf>| p.map(|p| if p.is_absolute() { p } else { dir.join(p) });
    let upstream = |flag: &Option<String>, file: Option<&RegistryConfig>, default: &str| {
        flag.clone()
            .or_else(|| {
                file.and_then(|r| r.upstream.clone()).map(|u| {
                    let is_url = u.starts_with("http://") || u.starts_with("https://");
                    if is_url || std::path::Path::new(&u).is_absolute() {
                        u
                    } else {
                        dir.join(&u).display().to_string()
                    }
                })
            })
            .unwrap_or_else(|| default.to_string())
    };
    let probe = |which: ProbeRegistry, file: Option<&RegistryConfig>| {
        if up.probe_sidecars.contains(&which) {
            Some(true)
        } else {
            file.and_then(|r| r.probe_sidecars)
        }
    };
    let probes = SidecarProbes {
        pypi: probe(ProbeRegistry::Pypi, file.pypi.as_ref()),
        npm: probe(ProbeRegistry::Npm, file.npm.as_ref()),
        cargo: probe(ProbeRegistry::Cargo, file.cargo.as_ref()),
    };
    let mut hosts = up.allow_redirect_host.clone();
    hosts.extend(file.allow_redirect_hosts.iter().cloned());
    let pypi = upstream(&up.pypi_upstream, file.pypi.as_ref(), "https://pypi.org");
    // PyPI serves its files from its own file host.
    if pypi.trim_end_matches('/') == "https://pypi.org" {
        hosts.push("files.pythonhosted.org".into());
    }
    Ok(Settings {
        listen: listen.map(String::from).or(file.listen),
        // Absolute, so the ledger records a path that names the file
        // wherever ward was started (the policy's digest beside it).
        policy: gate
            .policy
            .clone()
            .or_else(|| rel(file.policy))
            .map(|p| std::path::absolute(&p).unwrap_or(p)),
        ledger: gate.ledger.clone().or_else(|| rel(file.ledger)),
        db: gate.db.clone().or_else(|| rel(file.db)),
        npm_keys: gate.npm_keys.clone().or_else(|| rel(file.npm_keys)),
        evidence: up.evidence.clone().or_else(|| rel(file.evidence)),
        cache: up
            .cache
            .clone()
            .or_else(|| rel(file.cache))
            .unwrap_or_else(|| data_dir().join("proxy-cache")),
        pypi,
        npm: upstream(&up.npm_upstream, file.npm.as_ref(), "https://registry.npmjs.org"),
        cargo: upstream(&up.cargo_upstream, file.cargo.as_ref(), "https://index.crates.io"),
        probes,
        metadata_ttl: up
            .metadata_ttl
            .or(file.metadata_ttl)
            .map(std::time::Duration::from_secs)
            .unwrap_or(ward_registry::keeper::DEFAULT_METADATA_TTL),
        fetches_per_host: file
            .max_fetches_per_host
            .unwrap_or(ward_registry::upstream::DEFAULT_FETCHES_PER_HOST)
            .max(1),
        log_format: up.log_format.or(file.log_format).unwrap_or_default(),
        limits: FetchLimits {
            max_metadata: up.max_metadata_bytes.or(file.max_metadata_bytes).unwrap_or(64 << 20),
            max_artifact: up.max_artifact_bytes.or(file.max_artifact_bytes).unwrap_or(1 << 30),
            timeout: std::time::Duration::from_secs(
                up.upstream_timeout.or(file.upstream_timeout).unwrap_or(120).max(1),
            ),
        },
        memory: {
            let d = MemoryLimits::default();
            MemoryLimits {
                max_listing_entries: file.max_listing_entries.unwrap_or(d.max_listing_entries).max(1),
                listing_bytes: file.listing_memory_bytes.unwrap_or(d.listing_bytes),
                decision_bytes: file.decision_memory_bytes.unwrap_or(d.decision_bytes),
                remembered_denials: file.remembered_denials.unwrap_or(d.remembered_denials).max(1),
            }
        },
        server: {
            let d = ServerLimits::default();
            let secs = |v: Option<u64>, default: std::time::Duration| {
                v.map(|s| std::time::Duration::from_secs(s.max(1))).unwrap_or(default)
            };
            ServerLimits {
                header_timeout: secs(file.header_timeout, d.header_timeout),
                idle_timeout: secs(file.idle_timeout, d.idle_timeout),
                max_connections: file.max_connections.unwrap_or(d.max_connections).max(1),
            }
        },
        ca_certs: up
            .ca_cert
            .iter()
            .cloned()
            .chain(
                file.ca_certs
                    .iter()
                    .map(|p| if p.is_absolute() { p.clone() } else { dir.join(p) }),
            )
            .collect(),
        rebuild_sources: up
            .rebuild_source
            .iter()
            .chain(&file.rebuild_sources)
            .map(|t| ward_registry::rebuild_sources::RebuildSource::parse(t).map_err(Usage))
            .collect::<Result<_, _>>()?,
        hosts,
    })
}

fn build(gate_args: &GateArgs, s: &Settings, events: Sink) -> Result<Arc<Proxy>, Usage> {
    // A CA file that cannot be used is a usage error before anything starts.
    let roots = TrustedRoots::load(&s.ca_certs).map_err(|e| Usage(e.to_string()))?;
    // So is an egress proxy variable that does not parse (never a silent direct connection).
    let egress = Egress::from_env().map_err(|e| Usage(e.to_string()))?;
    let clock = crate::clock::Clock::from_env()?;
    let root = trust_root(&gate_args.trust)?;
    let policy = s
        .policy
        .as_deref()
        .map(Policy::load)
        .transpose()
        .map_err(policy_invalid)?;
    let registry_keys = match &s.npm_keys {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))?;
            Some(RegistryKeys::from_json(&text)?)
        }
        None => super::trust::updated_npm_keys()?,
    };
    // Every store the gate keeps is opened here, before it is built.
    let stores = Stores::open_scan_data(s.db.as_deref(), &data_dir(), policy.as_ref())?;
    let deny_after = match stores.advisories() {
        Some(db) => super::advisories::freshness(db, &gate_args.advisory_age, clock.now())?,
        None => None,
    };
    let stores = stores.with_ledger(super::open_ledger(s.ledger.as_deref())?);
    let mut gate = Gate::new(root).with_stores(stores, None);
    if let Some(policy) = policy {
        gate = gate.with_policy(policy);
    }
    if let Some(keys) = registry_keys {
        gate = gate.with_registry_keys(keys);
    }
    if let Some(max) = deny_after {
        gate = gate.with_advisories_deny_after(max);
    }
    let cache = Cache::open(&s.cache).map_err(|e| Usage(format!("cache {}: {e}", s.cache.display())))?;
    let fetcher = Fetcher::configured(s.limits.clone(), s.hosts.clone(), &roots, s.fetches_per_host, &egress);
    let keeper = Keeper::new(gate, cache, fetcher, s.evidence.clone())
        .map_err(|e| Usage(e.to_string()))?
        .with_events(events)
        .with_metadata_ttl(s.metadata_ttl)
        .with_rebuild_sources(s.rebuild_sources.clone())
        .with_clock(Arc::new(move || clock.now()));
    let upstreams = Upstreams {
        pypi: Some(Upstream::parse(&s.pypi)),
        npm: Some(Upstream::parse(&s.npm)),
        cargo: Some(Upstream::parse(&s.cargo)),
    };
    let options = ProxyOptions {
        probe_sidecars: s.probes,
    };
    Ok(Proxy::with_options(
        keeper,
        upstreams,
        &s.memory,
        s.server.clone(),
        options,
    ))
}

fn runtime() -> Result<tokio::runtime::Runtime, Usage> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Usage(format!("cannot start the runtime: {e}")))
}

/// What `ward run` tells the user after the command ends.
#[derive(Default)]
struct Summary {
    allowed: usize,
    warned: usize,
    refused: usize,
    failed: usize,
    /// One line per distinct refusal or failure, in order, at most [`Summary::MAX_LINES`].
    lines: Vec<String>,
    seen: std::collections::HashSet<String>,
}

impl Summary {
    const MAX_LINES: usize = 200;

    fn add(&mut self, event: &Event) {
        let (kind, subject, reason) = match event {
            Event::Artifact(a) => {
                let subject = a.purl.clone().unwrap_or_else(|| a.file.clone());
                match a.outcome {
                    Outcome::Allow | Outcome::Audit => {
                        self.allowed += 1;
                        return;
                    }
                    Outcome::Warn => {
                        self.warned += 1;
                        return;
                    }
                    Outcome::Deny => ("refused", subject, a.reason.clone().unwrap_or_default()),
                    Outcome::Failed => ("failed", subject, a.reason.clone().unwrap_or_default()),
                }
            }
            Event::Metadata {
                what, status, reason, ..
            } if *status != 404 => ("failed", what.clone(), reason.clone()),
            _ => return,
        };
        // A client retries and falls back: each refusal is told once.
        if !self.seen.insert(format!("{kind} {subject}")) {
            return;
        }
        if kind == "refused" {
            self.refused += 1;
        } else {
            self.failed += 1;
        }
        if self.lines.len() < Self::MAX_LINES {
            let reason = match reason.split_once(": ") {
                Some((code, message)) if !code.contains(' ') => format!("{code} ({message})"),
                _ => reason,
            };
            self.lines.push(format!("ward: {kind} {subject}: {reason}"));
        }
    }
}

/// `ward run`'s port when none is configured: fixed per user, so lockfiles
/// (`yarn.lock`, `package-lock.json`, `uv.lock`) and cargo's registry cache
/// name the same source on every run.
fn user_port() -> u16 {
    let uid = nix::unistd::getuid().as_raw();
    20000 + u16::try_from(uid % 10000).unwrap_or(0)
}

/// The listener of `ward run`: the address asked for (else an error naming
/// it), or this user's port, falling back to a free one when it is busy.
fn run_listener(rt: &tokio::runtime::Runtime, listen: Option<&str>) -> Result<tokio::net::TcpListener, Usage> {
    if let Some(addr) = listen {
        return rt.block_on(tokio::net::TcpListener::bind(addr)).map_err(|e| {
            Usage(format!(
                "cannot listen on {addr}: {e} (choose another address with --listen or `listen` in the config)"
            ))
        });
    }
    let mine = format!("127.0.0.1:{}", user_port());
    match rt.block_on(tokio::net::TcpListener::bind(&mine)) {
        Ok(l) => Ok(l),
        Err(e) => {
            let l = rt
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .map_err(|e| Usage(format!("cannot listen on loopback: {e}")))?;
            let other = l.local_addr().map_err(|e| Usage(e.to_string()))?;
            crate::output::proxy_log::run_note(&format!(
                "{mine}, this user's ward run address, is busy ({e}); using {other} for this run (lockfiles written now name it; set --listen to choose)"
            ));
            Ok(l)
        }
    }
}

/// Variables in the environment that would add package sources beside the
/// proxy: extra indexes, local file sources, per-scope npm registries.
fn bypass_variables() -> Vec<String> {
    const NAMES: &[&str] = &[
        "PIP_EXTRA_INDEX_URL",
        "PIP_FIND_LINKS",
        "UV_EXTRA_INDEX_URL",
        "UV_FIND_LINKS",
        "UV_INDEX",
    ];
    let mut found: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| {
            let lower = k.to_ascii_lowercase();
            NAMES.contains(&k.as_str()) || (lower.starts_with("npm_config_@") && lower.ends_with(":registry"))
        })
        .collect();
    found.sort();
    found
}

/// `NO_PROXY` and `no_proxy` for the command with loopback added, so that
/// clients which honour `HTTPS_PROXY` / `HTTP_PROXY` (pip, npm, cargo) talk to
/// the proxy directly (ward's own upstream requests still use them).
fn loopback_no_proxy() -> Vec<(&'static str, String)> {
    let any_proxy = [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|n| std::env::var_os(n).is_some_and(|v| !v.is_empty()));
    if !any_proxy {
        return Vec::new();
    }
    let current = std::env::var("no_proxy")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("NO_PROXY").ok())
        .unwrap_or_default();
    let mut entries: Vec<String> = current
        .split(',')
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect();
    for loopback in ["127.0.0.1", "localhost", "::1"] {
        if !entries.iter().any(|e| e == loopback) {
            entries.push(loopback.to_string());
        }
    }
    let value = entries.join(",");
    vec![("NO_PROXY", value.clone()), ("no_proxy", value)]
}

/// Runs the command, passing SIGTERM, SIGINT and SIGHUP on to it and
/// waiting for it to end (ward's temporary directories are removed after).
async fn run_forwarding_signals(
    mut command: std::process::Command,
    program: &std::ffi::OsStr,
) -> Result<std::process::ExitStatus, Usage> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind| signal(kind).map_err(|e| Usage(format!("cannot handle signals: {e}")));
    let (mut term, mut int, mut hup) = (
        listen(SignalKind::terminate())?,
        listen(SignalKind::interrupt())?,
        listen(SignalKind::hangup())?,
    );
    let mut child = command
        .spawn()
        .map_err(|e| Usage(format!("cannot run {}: {e}", program.to_string_lossy())))?;
    let pid = i32::try_from(child.id()).ok().map(nix::unistd::Pid::from_raw);
    let forward = |sig: nix::sys::signal::Signal| {
        if let Some(pid) = pid {
            let _ = nix::sys::signal::kill(pid, sig);
        }
    };
    let waiter = tokio::task::spawn_blocking(move || child.wait());
    tokio::pin!(waiter);
    loop {
        tokio::select! {
            done = &mut waiter => {
                return done
                    .map_err(|e| Usage(format!("waiting for {}: {e}", program.to_string_lossy())))?
                    .map_err(|e| Usage(format!("waiting for {}: {e}", program.to_string_lossy())));
            }
            _ = term.recv() => forward(nix::sys::signal::Signal::SIGTERM),
            _ = int.recv() => forward(nix::sys::signal::Signal::SIGINT),
            _ = hup.recv() => forward(nix::sys::signal::Signal::SIGHUP),
        }
    }
}

/// The environment that points each client at the proxy at `base`.
pub(super) fn client_env(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PIP_INDEX_URL", format!("{base}/pypi/simple/")),
        ("UV_INDEX_URL", format!("{base}/pypi/simple/")),
        ("UV_DEFAULT_INDEX", format!("{base}/pypi/simple/")),
        ("npm_config_registry", format!("{base}/npm/")),
        ("npm_config_replace_registry_host", "always".into()),
        ("YARN_NPM_REGISTRY_SERVER", format!("{base}/npm/")),
        ("YARN_REGISTRY", format!("{base}/npm/")),
    ]
}

/// A temporary `CARGO_HOME` whose config replaces crates-io with the proxy.
///
/// Cargo reads source replacement only from config files, not from the
/// environment, so `ward run` gives cargo a home of its own: the user's
/// `config.toml` with the replacement added, and the user's registry and
/// git caches and credentials linked in.
/// Returns it with the names of the user's other `[source]` entries, which
/// its copy of the configuration leaves out.
fn cargo_home(base: &str) -> Result<(tempfile::TempDir, Vec<String>), Usage> {
    let real = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")));
    let home = tempfile::Builder::new()
        .prefix("ward-cargo-home-")
        .tempdir()
        .map_err(|e| Usage(format!("cannot create a cargo home: {e}")))?;
    let mut config = toml::Table::new();
    if let Some(real) = &real {
        for name in ["registry", "git", "credentials.toml", "credentials"] {
            let from = real.join(name);
            if from.exists() {
                let _ = std::os::unix::fs::symlink(&from, home.path().join(name));
            }
        }
        for name in ["config.toml", "config"] {
            if let Ok(text) = std::fs::read_to_string(real.join(name)) {
                config = toml::from_str(&text).map_err(|e| Usage(format!("{}: {e}", real.join(name).display())))?;
                break;
            }
        }
    }
    let cleared = super::run_isolation::cargo_sources_cleared(&mut config);
    let source = config
        .entry("source")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(source) = source.as_table_mut() {
        let mut crates_io = toml::Table::new();
        crates_io.insert("replace-with".into(), "ward".into());
        source.insert("crates-io".into(), crates_io.into());
        let mut ward = toml::Table::new();
        ward.insert("registry".into(), format!("sparse+{base}/cargo/index/").into());
        source.insert("ward".into(), ward.into());
    }
    let text = toml::to_string(&config).map_err(|e| Usage(e.to_string()))?;
    std::fs::write(home.path().join("config.toml"), text)
        .map_err(|e| Usage(format!("cannot write cargo config: {e}")))?;
    Ok((home, cleared))
}

pub(super) fn serve(args: ProxyArgs) -> u8 {
    or_usage(|| {
        let s = settings(args.listen.as_deref(), &args.gate, &args.upstreams)?;
        let format = s.log_format;
        let proxy = build(
            &args.gate,
            &s,
            Arc::new(move |e: &Event| crate::output::proxy_log::event(e, format)),
        )?;
        let rt = runtime()?;
        let listen = s.listen.clone().unwrap_or_else(|| "127.0.0.1:8787".into());
        rt.block_on(async {
            // Handled before the banner: a supervisor that stops the proxy
            // as soon as it says it listens gets a clean exit, not a kill.
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| Usage(format!("cannot handle SIGTERM: {e}")))?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .map_err(|e| Usage(format!("cannot listen on {listen}: {e}")))?;
            let addr = listener.local_addr().map_err(|e| Usage(e.to_string()))?;
            crate::output::proxy_listening(&format!("http://{addr}"));
            let shutdown = async move {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            };
            proxy
                .serve(listener, shutdown)
                .await
                .map_err(|e| Usage(format!("proxy: {e}")))
        })?;
        Ok(crate::EXIT_ALLOW)
    })
}

pub(super) fn run(args: RunArgs) -> u8 {
    or_usage(|| {
        let s = settings(args.listen.as_deref(), &args.gate, &args.upstreams)?;
        let summary = Arc::new(std::sync::Mutex::new(Summary::default()));
        // The per-decision log only when asked for: the command's own output comes first.
        let echo = args.upstreams.log_format;
        let sink = {
            let summary = Arc::clone(&summary);
            Arc::new(move |e: &Event| {
                if let Some(format) = echo {
                    crate::output::proxy_log::event(e, format);
                }
                if let Ok(mut s) = summary.lock() {
                    s.add(e);
                }
            })
        };
        let proxy = build(&args.gate, &s, sink)?;
        let rt = runtime()?;
        let listener = run_listener(&rt, s.listen.as_deref())?;
        let addr = listener.local_addr().map_err(|e| Usage(e.to_string()))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = {
            let proxy = Arc::clone(&proxy);
            rt.spawn(async move {
                let _ = proxy
                    .serve(listener, async {
                        let _ = stopped.await;
                    })
                    .await;
            })
        };
        let base = format!("http://{addr}");
        let (program, rest) = args
            .command
            .split_first()
            .ok_or_else(|| Usage("no command given after --".into()))?;
        // Configuration files that add sources: overridden, or refused before anything runs.
        let cwd = std::env::current_dir().map_err(|e| Usage(format!("cannot read the working directory: {e}")))?;
        let isolation = super::run_isolation::isolate(&cwd, &base)?;
        let (home, cargo_cleared) = cargo_home(&base)?;
        for note in &isolation.notes {
            crate::output::proxy_log::run_note(note);
        }
        if !cargo_cleared.is_empty() {
            crate::output::proxy_log::run_note(&format!(
                "left out [source] {} of your cargo configuration for this command: cargo fetches through ward only",
                cargo_cleared.join(", ")
            ));
        }
        let cleared = bypass_variables();
        if !cleared.is_empty() {
            crate::output::proxy_log::run_note(&format!(
                "cleared {} for this command: they add package sources ward does not gate",
                cleared.join(", ")
            ));
        }
        let mut command = std::process::Command::new(program);
        command
            .args(rest)
            .envs(client_env(&base))
            .env("CARGO_HOME", home.path());
        for name in &cleared {
            command.env_remove(name);
        }
        for (name, value) in &isolation.env {
            command.env(name, value);
        }
        // The clients reach the proxy on loopback, never through an egress proxy.
        for (name, value) in loopback_no_proxy() {
            command.env(name, value);
        }
        let status = rt.block_on(run_forwarding_signals(command, program))?;
        let _ = stop.send(());
        let _ = rt.block_on(server);
        if let Ok(s) = summary.lock() {
            crate::output::proxy_log::run_summary(s.allowed, s.warned, s.refused, s.failed, &s.lines);
        }
        use std::os::unix::process::ExitStatusExt as _;
        Ok(match (status.code(), status.signal()) {
            (Some(code), _) => u8::try_from(code).unwrap_or(1),
            (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(1),
            _ => 1,
        })
    })
}
