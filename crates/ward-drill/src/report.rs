//! The drill report: per scenario, whether the attack was blocked at
//! install (and by which reason codes), installed and then detected (by
//! which alert, how long after T0), or missed; the clean releases the policy
//! refused (false positives); and the rules that would have stopped what got
//! through. Rendered as a terminal table, JSON, and one self-contained HTML
//! page with a timeline per scenario.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// How one scenario ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// ward refused the compromised artifact, or kept it out of the listing
    /// so the client chose another version.
    Blocked {
        /// The reason codes of the refusal (empty when the listing hid it).
        codes: Vec<String>,
    },
    /// The compromised artifact was installed, and `ward audit` flagged it
    /// afterwards.
    Detected {
        /// The audit's alert codes.
        codes: Vec<String>,
        /// When the audit ran.
        at: Timestamp,
        /// Seconds after T0.
        after_seconds: i64,
        /// Warnings ward gave at install (a `warn`-mode rule fired).
        warned: Vec<String>,
    },
    /// The compromised artifact was installed and nothing flagged it.
    Missed {
        /// Warnings ward gave at install, if any.
        warned: Vec<String>,
    },
    /// The drill could not run to the end (the client failed for another
    /// reason, a tool is missing).
    Error {
        /// What went wrong.
        message: String,
    },
}

impl Outcome {
    /// One word for the table.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Blocked { .. } => "blocked",
            Self::Detected { .. } => "detected",
            Self::Missed { .. } => "MISSED",
            Self::Error { .. } => "error",
        }
    }

    /// Whether the policy stopped or caught the attack.
    pub fn stopped(&self) -> bool {
        matches!(self, Self::Blocked { .. } | Self::Detected { .. })
    }
}

/// One step of the timeline as the drill ran it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    /// What happened (`baseline install`, `compromised release published`, …).
    pub what: String,
    /// When (the pinned clock).
    pub at: Timestamp,
    /// What ward said, in one line.
    pub result: String,
}

/// One scenario's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// npm or pypi.
    pub ecosystem: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Clean baseline artifacts the policy refused (`purl: code`).
    pub false_positives: Vec<String>,
    /// Expected codes the policy did not produce, with the rule that would.
    pub would_have_stopped_it: Vec<crate::scenario::Expectation>,
    /// Whether an inert stand-in's script ran (the marker was written).
    pub payload_ran: bool,
    /// After a detection: whether `ward rollback apply` to the baseline
    /// snapshot left an install the audit finds clean (`None`: not tried).
    #[serde(default)]
    pub rolled_back: Option<bool>,
    /// The timeline.
    pub steps: Vec<Step>,
    /// Wall time of the whole scenario, in milliseconds.
    pub duration_ms: u64,
}

/// A whole drill.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DrillReport {
    /// ward's version.
    pub ward_version: String,
    /// The policy file (absolute), or the safe default.
    pub policy: String,
    /// sha256 of the policy file.
    pub policy_sha256: Option<String>,
    /// When the drill ran (the real clock).
    pub ran_at: Timestamp,
    /// Each scenario.
    pub scenarios: Vec<ScenarioResult>,
}

impl DrillReport {
    /// How many scenarios the policy stopped or caught.
    pub fn stopped(&self) -> usize {
        self.scenarios.iter().filter(|s| s.outcome.stopped()).count()
    }

    /// The terminal table.
    pub fn table(&self) -> String {
        let mut out = format!("drill under {}\n\n", self.policy);
        let width = self.scenarios.iter().map(|s| s.name.len()).max().unwrap_or(8).max(8);
        out.push_str(&format!("{:<width$}  {:<9}  {}\n", "scenario", "outcome", "how"));
        for s in &self.scenarios {
            out.push_str(&format!("{:<width$}  {:<9}  {}\n", s.name, s.outcome.word(), how(s)));
            match s.rolled_back {
                Some(true) => out.push_str(&format!(
                    "{:<width$}  {:<9}  rolled back to the baseline: clean\n",
                    "", ""
                )),
                Some(false) => out.push_str(&format!(
                    "{:<width$}  {:<9}  rollback did NOT return to clean\n",
                    "", ""
                )),
                None => {}
            }
            for fp in &s.false_positives {
                out.push_str(&format!("{:<width$}  {:<9}  clean release refused: {fp}\n", "", ""));
            }
            for e in &s.would_have_stopped_it {
                if !s.outcome.stopped() {
                    out.push_str(&format!(
                        "{:<width$}  {:<9}  would have stopped it: {} ({})\n",
                        "", "", e.rule, e.code
                    ));
                }
            }
        }
        out.push_str(&format!(
            "\n{} of {} stopped or detected; {} clean releases refused\n",
            self.stopped(),
            self.scenarios.len(),
            self.scenarios.iter().map(|s| s.false_positives.len()).sum::<usize>()
        ));
        out
    }

    /// One self-contained HTML page (no scripts, no external resources).
    pub fn html(&self) -> String {
        let mut body = String::new();
        for s in &self.scenarios {
            body.push_str(&format!(
                "<section><h2>{} <span class=\"{}\">{}</span></h2><p>{}</p><p><b>{}</b></p><ol>",
                esc(&s.name),
                s.outcome.word().to_ascii_lowercase(),
                esc(s.outcome.word()),
                esc(&s.title),
                esc(&how(s)),
            ));
            for step in &s.steps {
                body.push_str(&format!(
                    "<li><time>{}</time> {}: {}</li>",
                    esc(&step.at.to_string()),
                    esc(&step.what),
                    esc(&step.result)
                ));
            }
            body.push_str("</ol>");
            if !s.false_positives.is_empty() {
                body.push_str("<p>Clean releases refused:</p><ul>");
                for fp in &s.false_positives {
                    body.push_str(&format!("<li>{}</li>", esc(fp)));
                }
                body.push_str("</ul>");
            }
            if !s.outcome.stopped() && !s.would_have_stopped_it.is_empty() {
                body.push_str("<p>Rules that would have stopped it:</p><ul>");
                for e in &s.would_have_stopped_it {
                    body.push_str(&format!("<li><code>{}</code> ({})</li>", esc(&e.rule), esc(&e.code)));
                }
                body.push_str("</ul>");
            }
            body.push_str("</section>\n");
        }
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ward drill report</title><style>\
             body{{font-family:sans-serif;max-width:60em;margin:auto}}section{{border-top:1px solid #ccc}}\
             .blocked,.detected{{color:#070}}.missed,.error{{color:#b00}}time{{font-family:monospace}}</style></head>\
             <body><h1>ward drill report</h1><p>Policy {} (sha256 {}), ward {}, run at {}: {} of {} stopped or detected.</p>\n{}</body></html>\n",
            esc(&self.policy),
            esc(self.policy_sha256.as_deref().unwrap_or("none")),
            esc(&self.ward_version),
            esc(&self.ran_at.to_string()),
            self.stopped(),
            self.scenarios.len(),
            body
        )
    }
}

/// The "how" column: codes for a block, the alert and delay for a detection.
fn how(s: &ScenarioResult) -> String {
    match &s.outcome {
        Outcome::Blocked { codes } if codes.is_empty() => {
            "kept out of the listing; the client chose another version".into()
        }
        Outcome::Blocked { codes } => format!("refused at install: {}", codes.join(", ")),
        Outcome::Detected {
            codes, after_seconds, ..
        } => format!(
            "installed, then detected by audit ({}) {} after publication",
            codes.join(", "),
            human(SignedDuration::from_secs(*after_seconds))
        ),
        Outcome::Missed { warned } if warned.is_empty() => "installed and not detected".into(),
        Outcome::Missed { warned } => format!("installed with warnings only ({})", warned.join(", ")),
        Outcome::Error { message } => message.clone(),
    }
}

fn human(d: SignedDuration) -> String {
    let secs = d.as_secs();
    if secs >= 2 * 86_400 {
        format!("{} days", secs / 86_400)
    } else if secs >= 2 * 3_600 {
        format!("{} hours", secs / 3_600)
    } else {
        format!("{} minutes", secs / 60)
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(outcome: Outcome) -> ScenarioResult {
        ScenarioResult {
            name: "demo<x>".into(),
            title: "t".into(),
            ecosystem: "npm".into(),
            outcome,
            false_positives: vec!["pkg:npm/ms@2.1.3: signature-missing".into()],
            would_have_stopped_it: vec![crate::scenario::Expectation {
                code: "release-too-new".into(),
                rule: "cooldown = { min_age = \"3d\" }".into(),
            }],
            payload_ran: false,
            rolled_back: None,
            steps: vec![],
            duration_ms: 1,
        }
    }

    #[test]
    fn the_table_says_what_stopped_each_attack_and_what_would_have() {
        let report = DrillReport {
            ward_version: "0".into(),
            policy: "ward.toml".into(),
            policy_sha256: None,
            ran_at: Timestamp::UNIX_EPOCH,
            scenarios: vec![
                result(Outcome::Blocked {
                    codes: vec!["package-malicious".into()],
                }),
                result(Outcome::Missed { warned: vec![] }),
            ],
        };
        let table = report.table();
        assert!(table.contains("refused at install: package-malicious"), "{table}");
        assert!(table.contains("MISSED"), "{table}");
        assert!(table.contains("would have stopped it: cooldown"), "{table}");
        assert!(table.contains("1 of 2 stopped"), "{table}");
        let html = report.html();
        assert!(html.contains("demo&lt;x&gt;") && !html.contains("demo<x>"), "escaped");
        assert!(!html.contains("<script") && !html.contains("http"), "self-contained");
    }
}
