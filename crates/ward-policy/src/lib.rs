//! ward's policy as code: `ward.toml`.
//!
//! A policy is a list of scopes; each scope names the packages it covers
//! (purl patterns) and the rules they must pass: trusted signers (keyless
//! identity and issuer, or plain keys with a k-of-n threshold), maximum
//! signature age, required provenance (builders, source repository, ref,
//! no self-hosted runners), required predicate types, scan rules (severity
//! threshold, licences, required scan attestations), and Rego files for
//! what TOML cannot say. Policy-wide: `[[exception]]` entries that expire,
//! OpenVEX documents, and remediation deadlines per severity. Every scope that matches must pass. The file is
//! validated when loaded (unknown keys are errors); loading reports every
//! problem at once as [`Diagnostic`]s with stable codes and byte spans, and
//! every reason points at the file and line.

#![forbid(unsafe_code)]

mod cooldown;
mod diagnostic;
mod duration;
mod error;
mod evaluate;
mod file;
mod hardware;
mod history;
pub mod license;
mod lifetime;
mod load;
mod model;
mod nesting;
mod pattern;
mod pin;
pub mod rebuild;
mod rego;
mod rego_builtins;
mod rego_deps;
pub mod release;
mod risky;
pub mod rotation;
pub mod scan_attestation;
mod scan_rules;
mod slsa_rule;
pub mod vex;

pub use cooldown::Cooldown;
pub use diagnostic::{Diagnostic, DiagnosticCode, Label, Level};
pub use duration::{MAX_DURATION, parse_duration, show_duration};
pub use error::PolicyError;
pub use evaluate::{DecisionInput, rego_input};
pub use history::{HistoryRule, RuleLevel};
pub use license::{LicenseRule, LicenseVerdict};
pub use lifetime::KeyLifetime;
pub use load::MAX_DIAGNOSTICS;
pub use model::{
    Allow, Defaults, Exception, HardwareKey, LicensePolicy, Located, MAX_TOML_NESTING, Mode, Policy, ProvenanceRule,
    ScanAttestationRule, Scope, TrustedSigner, Unmatched,
};
pub use pattern::PackagePattern;
pub use pin::{Pin, VersionRequirement};
pub use rego::{
    MAX_CALL_DEPTH as REGO_MAX_CALL_DEPTH, MAX_NESTING as REGO_MAX_NESTING, RegoRules, STACK_SIZE as REGO_STACK_SIZE,
    TIME_LIMIT as REGO_TIME_LIMIT,
};
pub use rego_builtins::{
    MAX_ELEMENTS as REGO_MAX_ELEMENTS, MAX_FORMAT_WIDTH as REGO_MAX_FORMAT_WIDTH, MAX_SHIFT as REGO_MAX_SHIFT,
    MAX_STRING_BYTES as REGO_MAX_STRING_BYTES,
};
pub use risky::{Baseline, EarlierRelease, RiskyInput, RiskyRules};
pub use scan_rules::{DEFAULT_FAIL_ON, EXPIRY_WARNING_DAYS, Triage};
pub use vex::{VexSet, VexStatement, VexStatus};
