//! The output layer: the only module that prints.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use crate::args::Format;
use serde::Serialize;
use ward_core::{CheckOutcome, Fact, Reason, ReasonCode, SignerIdentity, Verdict};
use ward_gate::Evaluation;

/// The version of the JSON document `ward verify --format json` prints.
pub const VERIFY_SCHEMA: &str = "https://ward.invalid/schemas/verify/v1";

pub fn clap_error(e: &clap::Error) {
    // clap renders usage, help and version itself, to the right stream.
    let _ = e.print();
}

pub fn error(message: &str) {
    eprintln!("ward: error: {message}");
}

pub fn reason(reason: &Reason) {
    eprintln!("deny: {reason}");
}

pub fn bundle_ok(fact: &Fact) {
    println!("ok: {}", describe_fact(fact));
}

fn describe_signer(signer: &SignerIdentity) -> String {
    match signer {
        SignerIdentity::Keyless { identity, issuer } => format!("{identity} (issuer {issuer})"),
        SignerIdentity::Key { fingerprint, algorithm } => format!("key {fingerprint} ({algorithm})"),
    }
}

fn describe_fact(fact: &Fact) -> String {
    match fact {
        Fact::Signature {
            signer,
            evidence,
            signed_at,
            transparency_log,
            predicate_type,
        } => {
            let mut s = format!("signed by {} in {evidence}", describe_signer(signer));
            if let Some(t) = signed_at {
                s.push_str(&format!(" at {t}"));
            }
            if *transparency_log {
                s.push_str(", logged in Rekor");
            }
            if let Some(p) = predicate_type {
                s.push_str(&format!(", statement {p}"));
            }
            s
        }
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

#[derive(Serialize)]
struct VerifyDocument<'a> {
    schema: &'static str,
    ward_version: &'static str,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
}

pub fn evaluation(e: &Evaluation, format: Format) {
    match format {
        Format::Json => {
            let doc = VerifyDocument {
                schema: VERIFY_SCHEMA,
                ward_version: env!("CARGO_PKG_VERSION"),
                evaluation: e,
            };
            match serde_json::to_string_pretty(&doc) {
                Ok(s) => println!("{s}"),
                Err(err) => error(&format!("cannot render JSON: {err}")),
            }
        }
        Format::Text => {
            let a = &e.artifact;
            let verdict = match e.decision.verdict {
                Verdict::Allow => "allow",
                Verdict::Deny => "deny",
            };
            println!("{verdict} {} sha256:{}", a.id, a.digests.sha256);
            for check in &e.checks {
                if let CheckOutcome::Pass = check.outcome {
                    for fact in &check.facts {
                        println!("  ok: {}", describe_fact(fact));
                    }
                }
            }
            for r in &e.decision.reasons {
                println!("  deny: {r}");
            }
        }
    }
}

pub fn reason_codes(format: Format) {
    match format {
        Format::Json => {
            let list: Vec<_> = ReasonCode::ALL
                .iter()
                .map(|c| serde_json::json!({"code": c.as_str(), "description": c.description()}))
                .collect();
            println!("{}", serde_json::Value::Array(list));
        }
        Format::Text => {
            for c in ReasonCode::ALL {
                println!("{:<28} {}", c.as_str(), c.description());
            }
        }
    }
}
