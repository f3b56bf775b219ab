//! `ward proxy` (a long-running registry proxy) and `ward run -- COMMAND`
//! (an ephemeral proxy on a free loopback port, with pip, uv, npm, yarn,
//! pnpm and cargo pointed at it through their environment).

use super::{Usage, data_dir, or_usage, policy_invalid, trust_root};
use crate::args::{GateArgs, ProxyArgs, RunArgs, UpstreamArgs};
use std::sync::Arc;
use ward_gate::Gate;
use ward_policy::Policy;
use ward_registry::{Cache, FetchLimits, Fetcher, Keeper, Proxy, Upstream, Upstreams};
use ward_verify::RegistryKeys;

fn build(gate_args: &GateArgs, up: &UpstreamArgs) -> Result<Arc<Proxy>, Usage> {
    let mut gate = Gate::new(trust_root(&gate_args.trust)?);
    if let Some(path) = &gate_args.policy {
        gate = gate.with_policy(Policy::load(path).map_err(policy_invalid)?);
    }
    if let Some(path) = &gate_args.npm_keys {
        let text = std::fs::read_to_string(path).map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))?;
        gate = gate.with_registry_keys(RegistryKeys::from_json(&text)?);
    }
    if let Some(db) = super::advisories::verify_db(gate_args.db.as_deref())? {
        gate = gate.with_advisories(Arc::new(db), None);
        gate = gate.with_first_seen(ward_scan::FirstSeenStore::open(&data_dir())?);
    }
    gate = gate.with_ledger(super::open_ledger(gate_args.ledger.as_deref())?);
    let cache_dir = up.cache.clone().unwrap_or_else(|| data_dir().join("proxy-cache"));
    let cache = Cache::open(&cache_dir).map_err(|e| Usage(format!("cache {}: {e}", cache_dir.display())))?;
    let mut hosts = up.allow_redirect_host.clone();
    // PyPI serves its files from its own file host.
    if up.pypi_upstream.trim_end_matches('/') == "https://pypi.org" {
        hosts.push("files.pythonhosted.org".into());
    }
    let fetcher = Fetcher::new(
        FetchLimits {
            max_metadata: up.max_metadata_bytes,
            max_artifact: up.max_artifact_bytes,
            timeout: std::time::Duration::from_secs(up.upstream_timeout.max(1)),
        },
        hosts,
    );
    let keeper = Keeper::new(gate, cache, fetcher, up.evidence.clone()).map_err(|e| Usage(e.to_string()))?;
    let upstreams = Upstreams {
        pypi: Some(Upstream::parse(&up.pypi_upstream)),
        npm: Some(Upstream::parse(&up.npm_upstream)),
        cargo: Some(Upstream::parse(&up.cargo_upstream)),
    };
    Ok(Proxy::new(keeper, upstreams))
}

fn runtime() -> Result<tokio::runtime::Runtime, Usage> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Usage(format!("cannot start the runtime: {e}")))
}

/// The environment that points each client at the proxy at `base`.
pub fn client_env(base: &str) -> Vec<(&'static str, String)> {
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
fn cargo_home(base: &str) -> Result<tempfile::TempDir, Usage> {
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
    Ok(home)
}

pub fn serve(args: ProxyArgs) -> u8 {
    or_usage(|| {
        let proxy = build(&args.gate, &args.upstreams)?;
        let rt = runtime()?;
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind(&args.listen)
                .await
                .map_err(|e| Usage(format!("cannot listen on {}: {e}", args.listen)))?;
            let addr = listener.local_addr().map_err(|e| Usage(e.to_string()))?;
            crate::output::proxy_listening(&format!("http://{addr}"));
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            proxy
                .serve(listener, shutdown)
                .await
                .map_err(|e| Usage(format!("proxy: {e}")))
        })?;
        Ok(crate::EXIT_ALLOW)
    })
}

pub fn run(args: RunArgs) -> u8 {
    or_usage(|| {
        let proxy = build(&args.gate, &args.upstreams)?;
        let rt = runtime()?;
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| Usage(format!("cannot listen on loopback: {e}")))?;
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
        let home = cargo_home(&base)?;
        let status = std::process::Command::new(program)
            .args(rest)
            .envs(client_env(&base))
            .env("CARGO_HOME", home.path())
            .status()
            .map_err(|e| Usage(format!("cannot run {}: {e}", program.to_string_lossy())))?;
        let _ = stop.send(());
        let _ = rt.block_on(server);
        use std::os::unix::process::ExitStatusExt as _;
        Ok(match (status.code(), status.signal()) {
            (Some(code), _) => u8::try_from(code).unwrap_or(1),
            (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(1),
            _ => 1,
        })
    })
}
