//! Writes the seeds that cannot be copied from `../shared/testdata`
//! because they must be signed with the fuzz targets' test key: decision
//! records (`corpus/ledger_record/`) and whole embedded ledgers
//! (`corpus/ledger_files/`). Run with
//! `cargo run -p ward-fuzz --example seeds`; the output is deterministic
//! except for the ledger's own timestamps.

use base64::Engine as _;
use std::path::Path;
use ward_fuzz::ledger::{FILE_SEPARATOR, LEDGER_FILES, TEST_SKEY};
use ward_ledger::{EmbeddedLedger, NoteSigner};

fn record(signer: &NoteSigner, purl: &str, verdict: &str) -> Vec<u8> {
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": purl, "digest": {"sha256": "0".repeat(64)}}],
        "predicateType": ward_ledger::record::DECISION_PREDICATE,
        "predicate": {
            "verifier": {"id": "https://ward.invalid/ward", "version": "0.1.0"},
            "timeVerified": "2026-01-01T00:00:00Z",
            "resourceUri": purl,
            "context": "verify",
            "artifact": {"fileName": "fuzz-pkg-1.0.0.tgz", "kind": "npm-tarball", "size": 1},
            "policy": {"uri": "ward:safe-default"},
            "verificationResult": verdict,
            "reasons": [], "warnings": [], "facts": [], "factsOmitted": false
        }
    });
    let payload = serde_json::to_vec(&statement).unwrap_or_default();
    let payload_type = "application/vnd.in-toto+json";
    let sig = signer.sign_bytes(&ward_verify::dsse::pae(payload_type, &payload));
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::to_vec(&serde_json::json!({
        "payloadType": payload_type,
        "payload": b64.encode(&payload),
        "signatures": [{"keyid": signer.verifier().to_vkey(), "sig": b64.encode(sig)}],
    }))
    .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let signer = NoteSigner::parse(TEST_SKEY)?;
    let records = [
        record(&signer, "pkg:npm/fuzz-pkg@1.0.0", "PASSED"),
        record(&signer, "pkg:pypi/fuzz-pkg@1.0.0", "FAILED"),
        record(&signer, "pkg:cargo/fuzz-pkg@1.0.0", "PASSED"),
    ];
    let dir = corpus.join("ledger_record");
    std::fs::create_dir_all(&dir)?;
    for (i, r) in records.iter().enumerate() {
        std::fs::write(dir.join(format!("record-{i}.json")), r)?;
    }
    let dir = corpus.join("ledger_files");
    std::fs::create_dir_all(&dir)?;
    for (n, batches) in [(1usize, 1usize), (3, 1), (3, 3)] {
        let tmp = tempfile::tempdir()?;
        std::fs::write(tmp.path().join("ledger.key"), TEST_SKEY)?;
        {
            let mut ledger = EmbeddedLedger::open(tmp.path(), "example.com/log/testdata")?;
            for chunk in records[..n].chunks(n.div_ceil(batches)) {
                ledger.append(chunk)?;
            }
        }
        let mut seed = Vec::new();
        for (i, name) in LEDGER_FILES.iter().enumerate() {
            if i > 0 {
                seed.extend_from_slice(FILE_SEPARATOR);
            }
            seed.extend_from_slice(&std::fs::read(tmp.path().join(name))?);
        }
        std::fs::write(dir.join(format!("ledger-{n}-entries-{batches}-appends")), seed)?;
    }
    Ok(())
}
