//! What one stage checked, and how it came out: a [`Check`] carries the
//! verified [`Fact`]s it established.
//!
//! A check's fields are private and read through accessors, so a check that
//! failed cannot be edited into one that passed, and its facts (which only
//! this crate can build) cannot be swapped for others once it is made.

use crate::Fact;
use serde::Serialize;
use ward_core::{CheckKind, Reason};

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
#[non_exhaustive]
pub enum CheckOutcome {
    /// The check passed.
    Pass,
    /// The check failed for this reason.
    Fail {
        /// Why.
        #[serde(flatten)]
        reason: Reason,
    },
}

/// One thing ward checked, and how it came out. Serialised as the ledger
/// and the JSON output write it: `{check, evidence?, result, code?, …, facts?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked.
    check: CheckKind,
    /// The evidence file the check was about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<String>,
    /// Pass, or fail with a reason.
    #[serde(flatten)]
    outcome: CheckOutcome,
    /// Facts this check established (empty when it failed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    facts: Vec<Fact>,
}

impl Check {
    /// A passed check with the facts it established. Facts come only from
    /// this crate's verifiers, so other crates can pass only checks whose
    /// facts a verifier produced (or none).
    pub fn pass(check: CheckKind, evidence: Option<String>, facts: Vec<Fact>) -> Self {
        Self {
            check,
            evidence,
            outcome: CheckOutcome::Pass,
            facts,
        }
    }

    /// A failed check (it establishes no facts).
    pub fn fail(check: CheckKind, evidence: Option<String>, reason: Reason) -> Self {
        Self {
            check,
            evidence,
            outcome: CheckOutcome::Fail { reason },
            facts: Vec::new(),
        }
    }

    /// What was checked.
    pub fn kind(&self) -> CheckKind {
        self.check
    }

    /// The evidence file the check was about, if any.
    pub fn evidence(&self) -> Option<&str> {
        self.evidence.as_deref()
    }

    /// Pass, or fail with a reason.
    pub fn outcome(&self) -> &CheckOutcome {
        &self.outcome
    }

    /// Why it failed (`None` when it passed).
    pub fn failure(&self) -> Option<&Reason> {
        match &self.outcome {
            CheckOutcome::Pass => None,
            CheckOutcome::Fail { reason } => Some(reason),
        }
    }

    /// The facts this check established (empty when it failed).
    pub fn facts(&self) -> &[Fact] {
        &self.facts
    }

    /// Whether it passed.
    pub fn passed(&self) -> bool {
        matches!(self.outcome, CheckOutcome::Pass)
    }
}
