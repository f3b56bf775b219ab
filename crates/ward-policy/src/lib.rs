//! ward's policy as code: `ward.toml`.
//!
//! A policy is a list of scopes; each scope names the packages it covers
//! (purl patterns) and the rules they must pass: trusted signers (keyless
//! identity and issuer, or plain keys with a k-of-n threshold), maximum
//! signature age, required provenance (builders, source repository, ref,
//! no self-hosted runners), required predicate types, and Rego files for
//! what TOML cannot say. Every scope that matches must pass. The file is
//! validated when loaded (unknown keys are errors) and every error and
//! every reason points at the file and line.

#![forbid(unsafe_code)]

mod error;
mod evaluate;
mod file;
mod model;
mod pattern;
mod rego;

pub use error::PolicyError;
pub use evaluate::{DecisionInput, rego_input};
pub use model::{Defaults, Located, Mode, Policy, ProvenanceRule, Scope, TrustedSigner, Unmatched};
pub use pattern::PackagePattern;
pub use rego::{RegoRules, TIME_LIMIT as REGO_TIME_LIMIT};
