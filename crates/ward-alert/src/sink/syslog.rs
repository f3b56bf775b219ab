//! The syslog sink, by the `syslog` crate: RFC 3164 messages to the local
//! socket (`/dev/log`, `/var/run/syslog`, `/var/run/log`, or a socket named
//! in the configuration). systemd-journald listens on `/dev/log`, so on a
//! systemd host the messages land in the journal (`journalctl -t ward`).
//!
//! The priority follows the alert: critical and high are `err`, medium is
//! `warning`, others `notice`; a resolution is `info`. The message is one
//! line: `alert-raised newly-malicious pkg:pypi/x@1 at /venv: … key=…`.

use super::Sink;
use crate::AlertError;
use crate::alert::{AlertChange, ChangeKind, Urgency};
use std::path::PathBuf;

/// Sends changes to syslog.
pub struct Syslog {
    logger: syslog::Logger<syslog::LoggerBackend, syslog::Formatter3164>,
    socket: Option<PathBuf>,
}

impl std::fmt::Debug for Syslog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syslog")
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

/// The facility a configuration names (`daemon`, `user`, `local0`…`local7`, `auth`).
pub fn facility(name: &str) -> Result<syslog::Facility, AlertError> {
    name.parse::<syslog::Facility>().map_err(|()| {
        AlertError::Config(format!(
            "syslog facility {name:?} is not one syslog knows (daemon, user, local0…)"
        ))
    })
}

impl Syslog {
    /// Connects to `socket`, or to the system's syslog socket when `None`.
    pub fn connect(socket: Option<PathBuf>, facility: syslog::Facility) -> Result<Self, AlertError> {
        let formatter = syslog::Formatter3164 {
            facility,
            hostname: None,
            process: "ward".into(),
            pid: std::process::id(),
        };
        let logger = match &socket {
            Some(path) => syslog::unix_custom(formatter, path),
            None => syslog::unix(formatter),
        }
        .map_err(|e| AlertError::Delivery {
            sink: "syslog".into(),
            why: format!("cannot connect: {e}"),
        })?;
        Ok(Self { logger, socket })
    }
}

/// The one-line message for a change.
pub fn message(change: &AlertChange) -> String {
    let a = &change.alert;
    // One line: a summary with newlines would forge a second message.
    let summary: String = a
        .summary
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "{} {} {} at {}: {} key={}",
        change.event.as_str(),
        a.code,
        a.subject,
        a.location,
        summary,
        change.key
    )
}

impl Sink for Syslog {
    fn name(&self) -> String {
        match &self.socket {
            Some(p) => format!("syslog {}", p.display()),
            None => "syslog".into(),
        }
    }

    fn deliver(&mut self, change: &AlertChange) -> Result<(), AlertError> {
        let text = message(change);
        let sent = match (change.event, change.alert.urgency) {
            (ChangeKind::AlertResolved, _) => self.logger.info(text),
            (_, Urgency::Critical | Urgency::High) => self.logger.err(text),
            (_, Urgency::Medium) => self.logger.warning(text),
            _ => self.logger.notice(text),
        };
        sent.map_err(|e| AlertError::Delivery {
            sink: self.name(),
            why: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Alert;

    /// A change reaches a syslog socket (here one the test binds) as one
    /// RFC 3164 line with the priority its urgency calls for.
    #[test]
    fn a_change_is_one_syslog_line_at_its_priority() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        let mut sink = Syslog::connect(Some(path), facility("daemon").unwrap()).unwrap();
        let alert = Alert::new(
            "newly-malicious",
            "pkg:npm/x@1.0.0",
            "/app/node_modules",
            "MAL-1",
            "bad\nforged",
        )
        .with_urgency(Urgency::Critical);
        let state = crate::AlertState::open(dir.path()).unwrap();
        let change = state.diff(&[alert], &|_| true, jiff::Timestamp::UNIX_EPOCH).remove(0);
        sink.deliver(&change).unwrap();
        let mut buf = [0u8; 2048];
        let n = socket.recv(&mut buf).unwrap();
        let line = String::from_utf8_lossy(&buf[..n]);
        // daemon (3) * 8 + err (3)
        assert!(line.starts_with("<27>"), "{line}");
        assert!(line.contains("alert-raised newly-malicious pkg:npm/x@1.0.0 at /app/node_modules: bad forged"));
        assert!(!line.contains('\n'));
    }
}
