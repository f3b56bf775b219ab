//! The webhook sink: each change is a JSON POST to a URL.
//!
//! Delivery never blocks the audit: [`Webhook::deliver`] only writes the
//! body to the [`Spool`] (on disk, bounded) and wakes a background thread,
//! which sends the oldest entry and removes it once the receiver answered
//! 2xx. Anything else (refused, timed out, a hang cut by the timeout, a 500,
//! a redirect, which is never followed) keeps the entry and retries it
//! after an exponential backoff (doubling from `backoff_initial` up to
//! `backoff_max`); nothing after it is sent meanwhile, so the receiver gets
//! the changes in order. Entries left by a previous run are sent first.

use super::Sink;
use super::spool::Spool;
use crate::AlertError;
use crate::alert::AlertChange;
use crate::http::HttpClient;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How a webhook is reached and how hard it is retried.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WebhookConfig {
    /// The URL POSTed to.
    pub url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub token: Option<String>,
    /// Where bodies wait.
    pub spool_dir: PathBuf,
    /// The most bodies that may wait.
    pub spool_max: usize,
    /// The first wait after a failure.
    pub backoff_initial: Duration,
    /// The longest wait between attempts.
    pub backoff_max: Duration,
}

impl WebhookConfig {
    /// A webhook to `url`, spooled in `spool_dir`, with the default bounds
    /// (10,000 waiting alerts, backoff from 1 s to 5 min).
    pub fn new(url: &str, spool_dir: PathBuf) -> Self {
        Self {
            url: url.into(),
            token: None,
            spool_dir,
            spool_max: 10_000,
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Default)]
struct PumpState {
    stop: bool,
    kicked: bool,
    delivered: u64,
    failures: u64,
    last_error: Option<String>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<PumpState>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, PumpState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What a webhook has done so far.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookStatus {
    /// Bodies delivered (2xx) since start.
    pub delivered: u64,
    /// Failed attempts since start.
    pub failures: u64,
    /// Bodies waiting in the spool.
    pub waiting: usize,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

/// A webhook sink with its delivery thread.
#[derive(Debug)]
pub struct Webhook {
    url: String,
    spool: Arc<Spool>,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Webhook {
    /// Opens the spool and starts delivering (anything already spooled first).
    pub fn start(config: WebhookConfig, client: HttpClient) -> Result<Self, AlertError> {
        let spool = Arc::new(Spool::open(&config.spool_dir, config.spool_max)?);
        let shared = Arc::new(Shared {
            state: Mutex::new(PumpState::default()),
            wake: Condvar::new(),
        });
        let thread = {
            let (spool, shared, cfg) = (Arc::clone(&spool), Arc::clone(&shared), config.clone());
            std::thread::Builder::new()
                .name("ward-webhook".into())
                .spawn(move || pump(&spool, &shared, &cfg, &client))
                .map_err(|e| AlertError::io(&config.spool_dir, e))?
        };
        Ok(Self {
            url: config.url,
            spool,
            shared,
            thread: Some(thread),
        })
    }

    /// What has been delivered, what waits, and the last failure.
    pub fn status(&self) -> WebhookStatus {
        let s = self.shared.lock();
        WebhookStatus {
            delivered: s.delivered,
            failures: s.failures,
            waiting: self.spool.len().unwrap_or(0),
            last_error: s.last_error.clone(),
        }
    }

    /// Waits until the spool is empty or `timeout` passed; returns whether
    /// it is empty.
    pub fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut s = self.shared.lock();
        loop {
            if self.spool.is_empty().unwrap_or(false) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = self
                .shared
                .wake
                .wait_timeout(s, left.min(Duration::from_millis(200)))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        // The request in flight ends within the client's timeout.
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Sink for Webhook {
    fn name(&self) -> String {
        format!("webhook {}", self.url)
    }

    fn deliver(&mut self, change: &AlertChange) -> Result<(), AlertError> {
        let body = serde_json::to_vec(change).map_err(|e| AlertError::Delivery {
            sink: self.name(),
            why: e.to_string(),
        })?;
        self.spool.push(&body)?;
        self.shared.lock().kicked = true;
        self.shared.wake.notify_all();
        Ok(())
    }

    fn flush(&self, timeout: Duration) -> bool {
        Webhook::flush(self, timeout)
    }

    fn backlog(&self) -> (usize, Option<String>) {
        let s = self.status();
        (s.waiting, s.last_error)
    }
}

/// The delivery thread: oldest first, one at a time, backoff on failure.
fn pump(spool: &Spool, shared: &Shared, config: &WebhookConfig, client: &HttpClient) {
    let mut backoff = config.backoff_initial;
    loop {
        let next = {
            let mut s = shared.lock();
            loop {
                if s.stop {
                    return;
                }
                match spool.oldest() {
                    Ok(Some(entry)) => break entry,
                    Ok(None) => {}
                    Err(e) => s.last_error = Some(e.to_string()),
                }
                s.kicked = false;
                // Woken by a new entry or a stop; the timeout re-reads the
                // spool in case an entry was added by another process.
                s = shared
                    .wake
                    .wait_timeout_while(s, Duration::from_secs(5), |s| !s.kicked && !s.stop)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
        };
        let (seq, body) = next;
        let outcome = match client.send_json("POST", &config.url, &body, config.token.as_deref()) {
            Ok(reply) if reply.ok() => Ok(()),
            Ok(reply) => Err(reply.failure()),
            Err(e) => Err(e),
        };
        // An entry that cannot be removed would be sent again at once: that
        // is a failure, waited out like any other.
        let outcome = outcome.and_then(|()| {
            spool.remove(seq).map_err(|e| {
                format!("delivered, but the spool entry could not be removed, so it will be sent again: {e}")
            })
        });
        let mut s = shared.lock();
        match outcome {
            Ok(()) => {
                s.delivered += 1;
                s.last_error = None;
                backoff = config.backoff_initial;
                shared.wake.notify_all();
            }
            Err(why) => {
                s.failures += 1;
                s.last_error = Some(why);
                shared.wake.notify_all();
                // Wait out the backoff; only a stop cuts it short (a new
                // alert must not make a failing receiver hammered).
                let waited = shared
                    .wake
                    .wait_timeout_while(s, backoff, |s| !s.stop)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
                drop(waited);
                backoff = (backoff * 2).min(config.backoff_max);
            }
        }
    }
}
