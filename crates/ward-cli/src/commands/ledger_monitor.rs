//! `ward ledger monitor`: verify a log against the last checkpoint seen.

use super::{Usage, or_usage};
use crate::output;
use std::path::PathBuf;
use ward_ledger::NoteVerifier;
use ward_ledger::monitor::{MonitorAlert, MonitorOutcome, WitnessPolicy, check_with_witnesses};
use ward_ledger::tiles::{DirSource, TileError, TileSource};

/// Largest response read from a log (an entry bundle is at most 16 MiB).
const MAX_RESPONSE: u64 = 20 << 20;

/// A log served over HTTP. Redirects are not followed.
struct HttpSource {
    base: String,
    agent: ureq::Agent,
}

impl TileSource for HttpSource {
    fn read(&self, path: &str) -> Result<Vec<u8>, TileError> {
        let url = format!("{}/{path}", self.base.trim_end_matches('/'));
        let mut response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| TileError(format!("{url}: {e}")))?;
        response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| TileError(format!("{url}: {e}")))
    }
}

pub(super) fn run(
    source: &str,
    key: &str,
    state: Option<PathBuf>,
    witnesses: &[String],
    quorum: usize,
    ca_certs: &[PathBuf],
) -> u8 {
    or_usage(|| {
        let witnesses = witnesses
            .iter()
            .map(|w| NoteVerifier::parse(w))
            .collect::<Result<Vec<_>, _>>()?;
        if quorum > witnesses.len() {
            return Err(Usage(format!(
                "--witness-quorum {quorum} exceeds the {} witnesses given",
                witnesses.len()
            )));
        }
        let policy = WitnessPolicy { witnesses, quorum };
        let key_text = if std::path::Path::new(key).is_file() {
            super::read_input_text(std::path::Path::new(key), "ledger key", ward_input::limits::KEY)?
        } else {
            key.to_string()
        };
        let key = NoteVerifier::parse(key_text.trim())?;
        let tiles: Box<dyn TileSource> = if source.starts_with("http://") || source.starts_with("https://") {
            // TLS and egress as the proxy has them: the system's store plus
            // --ca-cert files, and HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
            let roots = ward_registry::TrustedRoots::load(ca_certs).map_err(|e| Usage(e.to_string()))?;
            let egress = ward_registry::Egress::from_env().map_err(|e| Usage(e.to_string()))?;
            let config = ureq::Agent::config_builder()
                .tls_config(roots.tls_config())
                .proxy(egress.for_scheme(source.starts_with("https://")))
                .max_redirects(0)
                .timeout_global(Some(std::time::Duration::from_secs(60)))
                .build();
            Box::new(HttpSource {
                base: source.to_string(),
                agent: config.into(),
            })
        } else {
            Box::new(DirSource(PathBuf::from(source)))
        };
        let state = state.unwrap_or_else(|| {
            use sha2::Digest as _;
            let id = hex::encode(&sha2::Sha256::digest(format!("{source}\n{}", key.to_vkey()))[..8]);
            super::data_dir().join("monitor").join(format!("{id}.checkpoint"))
        });
        let previous = match ward_input::read_bounded(&state, "monitor state", ward_input::limits::CHECKPOINT) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(Usage(e.to_string())),
        };
        match check_with_witnesses(tiles.as_ref(), &key, previous.as_deref(), &policy) {
            Ok((outcome, note)) => {
                if let Some(parent) = state.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Usage(e.to_string()))?;
                }
                let tmp = state.with_extension("tmp");
                std::fs::write(&tmp, &note)
                    .and_then(|()| std::fs::rename(&tmp, &state))
                    .map_err(|e| Usage(format!("cannot save {}: {e}", state.display())))?;
                output::monitor_ok(&match outcome {
                    MonitorOutcome::FirstSeen { size } => {
                        format!("first checkpoint of {} verified: {size} entries", key.name)
                    }
                    MonitorOutcome::Consistent { from, to } => {
                        format!("{} grew from {from} to {to} entries, consistently", key.name)
                    }
                });
                Ok(crate::EXIT_ALLOW)
            }
            Err(MonitorAlert::Unreachable(e)) => Err(Usage(format!("cannot read the log: {e}"))),
            Err(alert) => {
                output::alert(&alert.to_string());
                Ok(crate::EXIT_DENY)
            }
        }
    })
}
