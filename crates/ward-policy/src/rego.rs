//! Rego rules for what TOML cannot say, evaluated by the `regorus` crate.
//!
//! A scope names `.rego` files; ward loads them once, and for each artifact
//! evaluates `data.ward.deny` (a set of messages) over one input document
//! (see docs/policy.md). An error, a time-out or a non-string message is a
//! deny with `rego-error`.
//!
//! A policy must not be able to take ward down, so at load ward refuses
//! brackets nested deeper than [`MAX_NESTING`] (before the parser sees
//! them), recursion between rules or functions, and call chains deeper than
//! [`MAX_CALL_DEPTH`] (see `rego_deps`). Evaluation runs on its own thread
//! with a fixed [`STACK_SIZE`], under a time limit, with the builtins that
//! could allocate without bound guarded (see `rego_builtins`).

use crate::nesting::{TooDeep, rego_too_deep};
use crate::{rego_builtins, rego_deps};
use std::num::NonZeroU32;
use std::time::Duration;

pub use crate::rego_deps::MAX_CALL_DEPTH;

/// How long one evaluation may run.
pub const TIME_LIMIT: Duration = Duration::from_millis(500);

/// How deeply brackets may nest in a Rego file. regorus's parser takes time
/// exponential in the nesting of arrays and objects (22 deep took seconds);
/// at this depth one such value takes milliseconds, and a budget on the sum
/// (`nesting::REGO_PARSE_BUDGET`) bounds a file of many.
pub const MAX_NESTING: usize = 12;

/// Stack for the evaluation thread: far more than [`MAX_CALL_DEPTH`] nested
/// calls with [`MAX_NESTING`]-deep expressions need.
pub const STACK_SIZE: usize = 64 << 20;

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
    /// Loads and parses the files (Rego v1 syntax) and refuses what
    /// evaluation could not survive.
    pub fn load(files: &[(String, String)]) -> Result<Self, String> {
        let mut engine = regorus::Engine::new();
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: TIME_LIMIT,
            check_interval: NonZeroU32::MIN,
        });
        rego_builtins::install(&mut engine)?;
        for (name, text) in files {
            if let Some(problem) = rego_too_deep(text, MAX_NESTING) {
                let (at, what) = match problem {
                    TooDeep::Nesting(at) => (at, format!("brackets nested more than {MAX_NESTING} deep")),
                    TooDeep::Work(at) => (
                        at,
                        "too many deeply nested brackets (arrays, sets and objects)".to_string(),
                    ),
                };
                let (line, column) = crate::error::LineIndex::new(text).line_col(at);
                return Err(format!("{name}:{line}:{column}: {what}"));
            }
            if let Some(at) = crate::nesting::rego_number_too_large(text) {
                let (line, column) = crate::error::LineIndex::new(text).line_col(at);
                return Err(format!(
                    "{name}:{line}:{column}: a number with an exponent over 999 (no policy needs one; the parser would take minutes)"
                ));
            }
            engine
                .add_policy(name.clone(), text.clone())
                .map_err(|e| format!("{name}: {e}"))?;
        }
        rego_deps::check(engine.get_modules())?;
        Ok(Self {
            engine,
            files: files.iter().map(|(n, _)| n.clone()).collect(),
        })
    }

    /// Evaluates `data.ward.deny` over `input`; returns the deny messages.
    ///
    /// Runs on a thread of its own with a fixed stack, so that evaluation's
    /// depth does not depend on the caller's stack (a proxy worker's is
    /// small); a panic inside the evaluator is an error, not a crash.
    pub fn deny_messages(&self, input: &serde_json::Value) -> Result<Vec<String>, String> {
        let mut engine = self.engine.clone();
        let input = regorus::Value::from(input.clone());
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("ward-rego".into())
                .stack_size(STACK_SIZE)
                .spawn_scoped(scope, move || {
                    engine.set_input(input);
                    engine
                        .eval_rule("data.ward.deny".to_string())
                        .map_err(|e| e.to_string())
                })
                .map_err(|e| format!("cannot start the Rego evaluator: {e}"))?;
            let value = worker.join().map_err(|panic| {
                format!(
                    "the Rego evaluator failed unexpectedly: {}",
                    panic_message(panic.as_ref())
                )
            })??;
            messages(value)
        })
    }
}

fn messages(value: regorus::Value) -> Result<Vec<String>, String> {
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

fn message(v: &regorus::Value) -> Result<String, String> {
    match v {
        regorus::Value::String(s) => Ok(s.to_string()),
        other => Err(format!("deny messages must be strings, got {other}")),
    }
}

/// The text a panic carried (`panic!` with a literal or a formatted
/// message), for the error that reports it.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}
