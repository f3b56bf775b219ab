//! One round of monitoring: the alerts an audit produced are compared with
//! the open ones ([`AlertState`]); each change is first appended to the
//! ledger (when one is kept), then written to the state, then handed to
//! every sink. The ledger is opened only for a round that has changes (an
//! opener is passed in), so a long-running watch does not hold the
//! ledger's writer lock between rounds. A ledger failure stops the round before the state changes,
//! so the next round raises the same changes again: nothing is lost. A
//! sink failure is reported and does not stop the others.

use crate::alert::{Alert, AlertChange};
use crate::sink::Sink;
use crate::state::AlertState;
use crate::{AlertError, ledger};

use ward_ledger::SharedLedger;

/// Diffs, records and delivers.
pub struct Monitor {
    state: AlertState,
    sinks: Vec<Box<dyn Sink>>,
    version: String,
}

/// Opens the ledger for one round's appends (`None`: no ledger kept).
pub type LedgerOpener<'a> = &'a dyn Fn() -> Result<Option<SharedLedger>, AlertError>;

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("state", &self.state)
            .field("sinks", &self.sinks.iter().map(|s| s.name()).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What one round did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RoundReport {
    /// The changes, as recorded (with their ledger entries).
    pub changes: Vec<AlertChange>,
    /// Alerts open after the round.
    pub open: usize,
    /// Sink failures: (sink, error).
    pub sink_errors: Vec<(String, String)>,
}

impl Monitor {
    /// A monitor with its state and sinks; `version` is ward's, for the records.
    pub fn new(state: AlertState, sinks: Vec<Box<dyn Sink>>, version: &str) -> Self {
        Self {
            state,
            sinks,
            version: version.into(),
        }
    }

    /// The sinks (to read a webhook's status, or flush it).
    pub fn sinks(&self) -> &[Box<dyn Sink>] {
        &self.sinks
    }

    /// The open alerts.
    pub fn state(&self) -> &AlertState {
        &self.state
    }

    /// One round: `alerts` are what a run that read everything `covered`
    /// accepts found at `now`. `ledger` opens the ledger that records the changes.
    pub fn round(
        &mut self,
        alerts: &[Alert],
        covered: &dyn Fn(&Alert) -> bool,
        now: jiff::Timestamp,
        ledger: LedgerOpener<'_>,
    ) -> Result<RoundReport, AlertError> {
        let mut changes = self.state.diff(alerts, covered, now);
        let opened = if changes.is_empty() { None } else { ledger()? };
        if let Some(l) = opened {
            for i in 0..changes.len() {
                let appended = ledger::alert_event(&changes[i], &self.version).and_then(|e| ledger::append(&l, &e));
                match appended {
                    Ok(index) => changes[i].ledger_index = Some(index),
                    Err(e) => {
                        // Keep what was recorded so far; the rest is raised again next round.
                        changes.truncate(i);
                        self.state.apply(&changes)?;
                        self.deliver(&changes);
                        return Err(e);
                    }
                }
            }
        }
        self.state.apply(&changes)?;
        let sink_errors = self.deliver(&changes);
        Ok(RoundReport {
            open: self.state.open_alerts().len(),
            changes,
            sink_errors,
        })
    }

    fn deliver(&mut self, changes: &[AlertChange]) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        for sink in &mut self.sinks {
            for change in changes {
                if let Err(e) = sink.deliver(change) {
                    errors.push((sink.name(), e.to_string()));
                }
            }
        }
        errors
    }
}
