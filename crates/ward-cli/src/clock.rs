//! ward's one clock: every decision that depends on the time (expiry of
//! exceptions, allows and TUF metadata, remediation deadlines, signature
//! age, advisory freshness) takes its "now" from here and passes it down to
//! the libraries' `*_at` functions; no library reads the system time to
//! decide.
//!
//! `WARD_TEST_NOW` (an RFC 3339 time, e.g. `2026-06-01T12:00:00Z`) pins the
//! clock, so tests and reproductions of a past decision give the same answer
//! on any day. This is the only place that variable is read. A value that is
//! not a time is an error, never silently the real time.

use crate::commands::Usage;
use jiff::Timestamp;

/// The variable that pins the clock.
pub(crate) const PIN_VARIABLE: &str = "WARD_TEST_NOW";

/// Where "now" comes from for one run of ward.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Clock {
    /// The system clock.
    System,
    /// Always this instant (`WARD_TEST_NOW`).
    Pinned(Timestamp),
}

impl Clock {
    /// The clock for this process: pinned by `WARD_TEST_NOW` when set.
    pub(crate) fn from_env() -> Result<Self, Usage> {
        match std::env::var_os(PIN_VARIABLE) {
            None => Ok(Self::System),
            Some(value) => {
                let text = value.to_string_lossy();
                text.parse::<Timestamp>().map(Self::Pinned).map_err(|e| {
                    Usage(format!(
                        "{PIN_VARIABLE}={text:?}: {e} (expected RFC 3339, e.g. 2026-06-01T12:00:00Z)"
                    ))
                })
            }
        }
    }

    /// The current time on this clock.
    pub(crate) fn now(self) -> Timestamp {
        match self {
            Self::System => Timestamp::now(),
            Self::Pinned(at) => at,
        }
    }
}

/// "Now" for a command that decides once: the clock read at its start.
pub(crate) fn now() -> Result<Timestamp, Usage> {
    Ok(Clock::from_env()?.now())
}
