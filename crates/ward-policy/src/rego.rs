//! Rego rules for what TOML cannot say, evaluated by the `regorus` crate.
//!
//! A scope names `.rego` files; ward loads them once, and for each artifact
//! evaluates `data.ward.deny` (a set of messages) over one input document
//! (see docs/policy.md). Evaluation is bounded in time; an error, a time-out
//! or a non-string message is a deny with `rego-error`.

use std::num::NonZeroU32;
use std::time::Duration;

/// How long one evaluation may run.
pub const TIME_LIMIT: Duration = Duration::from_millis(500);

/// Loaded Rego files of one scope.
#[derive(Clone)]
pub struct RegoRules {
    engine: regorus::Engine,
    /// The files, for messages.
    pub files: Vec<String>,
}

impl std::fmt::Debug for RegoRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoRules").field("files", &self.files).finish()
    }
}

impl RegoRules {
    /// Loads and parses the files (Rego v1 syntax).
    pub fn load(files: &[(String, String)]) -> Result<Self, String> {
        let mut engine = regorus::Engine::new();
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: TIME_LIMIT,
            check_interval: NonZeroU32::MIN,
        });
        for (name, text) in files {
            engine
                .add_policy(name.clone(), text.clone())
                .map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(Self {
            engine,
            files: files.iter().map(|(n, _)| n.clone()).collect(),
        })
    }

    /// Evaluates `data.ward.deny` over `input`; returns the deny messages.
    pub fn deny_messages(&self, input: &serde_json::Value) -> Result<Vec<String>, String> {
        let mut engine = self.engine.clone();
        engine.set_input(regorus::Value::from(input.clone()));
        let value = engine
            .eval_rule("data.ward.deny".to_string())
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        match value {
            regorus::Value::Undefined => {}
            regorus::Value::Set(set) => {
                for v in set.iter() {
                    out.push(message(v)?);
                }
            }
            regorus::Value::Array(list) => {
                for v in list.iter() {
                    out.push(message(v)?);
                }
            }
            other => return Err(format!("data.ward.deny must be a set of strings, got {other}")),
        }
        Ok(out)
    }
}

fn message(v: &regorus::Value) -> Result<String, String> {
    match v {
        regorus::Value::String(s) => Ok(s.to_string()),
        other => Err(format!("deny messages must be strings, got {other}")),
    }
}
