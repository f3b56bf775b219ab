//! JSON output: the documented documents of `ward verify --format json`,
//! `ward scan --format json` and `ward reasons --format json`
//! (docs/json-output.md and docs/scanning.md are the contract). Every
//! function writes to the `impl Write` it is given.

use serde::Serialize;
use std::io::{self, Write};
use ward_core::ReasonCode;
use ward_gate::Evaluation;

/// The version of the JSON document `ward verify --format json` prints.
pub(crate) const VERIFY_SCHEMA: &str = "https://ward.invalid/schemas/verify/v1";

/// Writes `value` pretty-printed, then a newline.
pub(crate) fn pretty(w: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    let s = serde_json::to_string_pretty(value).map_err(|e| io::Error::other(format!("cannot render JSON: {e}")))?;
    writeln!(w, "{s}")
}

#[derive(Serialize)]
struct VerifyDocument<'a> {
    schema: &'static str,
    ward_version: &'static str,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger: Option<&'a ward_gate::Recorded>,
}

/// `ward verify --format json`.
pub(crate) fn evaluation(w: &mut impl Write, e: &Evaluation, recorded: Option<&ward_gate::Recorded>) -> io::Result<()> {
    let doc = VerifyDocument {
        schema: VERIFY_SCHEMA,
        ward_version: env!("CARGO_PKG_VERSION"),
        evaluation: e,
        ledger: recorded,
    };
    pretty(w, &doc)
}

/// `ward reasons --format json`: one line, every code with its description.
pub(crate) fn reason_codes(w: &mut impl Write) -> io::Result<()> {
    let list: Vec<_> = ReasonCode::ALL
        .iter()
        .map(|c| serde_json::json!({"code": c.as_str(), "description": c.description()}))
        .collect();
    writeln!(w, "{}", serde_json::Value::Array(list))
}

#[derive(Serialize)]
struct ScanDocument<'a> {
    schema: &'static str,
    database: serde_json::Value,
    verdict: &'static str,
    #[serde(flatten)]
    report: &'a ward_core::TriagedReport,
    /// Every reason, with the mode it counts in (`enforce` denies).
    reasons: Vec<serde_json::Value>,
}

/// `ward scan --format json`; `stale` says whether the data is older than allowed.
pub(crate) fn scan(
    w: &mut impl Write,
    r: &ward_core::TriagedReport,
    db: &ward_scan::AdvisoryDb,
    age: Option<i64>,
    stale: bool,
    outcome: &super::ScanVerdict<'_>,
) -> io::Result<()> {
    let verdict = if outcome.denied { "deny" } else { "allow" };
    let doc = ScanDocument {
        schema: "https://ward.invalid/schemas/scan/v1",
        database: serde_json::json!({"built_at": db.built_at(), "newest_modified": db.newest_modified(), "age_days": age, "stale": stale}),
        verdict,
        report: r,
        reasons: outcome
            .reasons
            .iter()
            .map(|(mode, reason)| serde_json::json!({"code": reason.code, "message": reason.message, "mode": mode}))
            .collect(),
    };
    pretty(w, &doc)
}
