//! `ward ledger`: show, prove, verify, search, checkpoint.

use super::{Usage, open_ledger, open_ledger_for_reading, or_usage};
use crate::args::LedgerCommand;
use crate::output;
use ward_core::PackageId;
use ward_ledger::record::open_record;

pub fn run(cmd: LedgerCommand) -> u8 {
    or_usage(|| match cmd {
        LedgerCommand::Show { entry, dir } => {
            let mut ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            let bytes = ledger.entry(entry)?;
            let statement = open_record(&bytes, &ledger.verifier())?;
            output::json_value(&statement);
            Ok(crate::EXIT_ALLOW)
        }
        LedgerCommand::Prove { entry, dir } => {
            let ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            let size = ledger.size();
            let proof = ledger.tree().inclusion_proof(entry, size)?;
            output::tlog_proof(entry, &proof, ledger.checkpoint());
            Ok(crate::EXIT_ALLOW)
        }
        LedgerCommand::Verify { dir } => {
            let mut ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            match ledger.verify_all() {
                Ok(report) => {
                    output::ledger_verified(report.entries, &report.root);
                    Ok(crate::EXIT_ALLOW)
                }
                Err(e) => {
                    output::error(&format!("ledger verification FAILED: {e}"));
                    Ok(crate::EXIT_DENY)
                }
            }
        }
        LedgerCommand::Search { digest, purl, dir } => {
            let mut ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            let want_purl = purl
                .as_deref()
                .map(str::parse::<PackageId>)
                .transpose()
                .map_err(|e| Usage(e.to_string()))?;
            let digest = digest.map(|d| d.to_ascii_lowercase());
            let mut hits = Vec::new();
            for i in 0..ledger.size() {
                let statement = open_record(&ledger.entry(i)?, &ledger.verifier())?;
                let subject = &statement["subject"][0];
                let matches = match (&digest, &want_purl) {
                    (Some(d), _) => subject["digest"]["sha256"].as_str() == Some(d.as_str()),
                    (None, Some(p)) => subject["name"]
                        .as_str()
                        .and_then(|n| n.parse::<PackageId>().ok())
                        .is_some_and(|s| {
                            s.ecosystem == p.ecosystem
                                && s.normalized_name() == p.normalized_name()
                                && (p.version.is_none() || s.version == p.version)
                        }),
                    (None, None) => false,
                };
                if matches {
                    hits.push((i, statement));
                }
            }
            output::search_hits(&hits);
            Ok(if hits.is_empty() {
                crate::EXIT_DENY
            } else {
                crate::EXIT_ALLOW
            })
        }
        LedgerCommand::Export { out, dir } => {
            let mut ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            let files = ledger.export(&out)?;
            output::exported(&out, files, ledger.size());
            Ok(crate::EXIT_ALLOW)
        }
        LedgerCommand::Serve {
            listen,
            token_file,
            dir,
        } => {
            let ledger = open_ledger(dir.ledger.as_deref())?;
            let tokens = match token_file {
                Some(path) => super::ledger_serve::read_tokens(&path)?,
                None => Vec::new(),
            };
            super::ledger_serve::serve(ledger, &listen, tokens)?;
            Ok(crate::EXIT_ALLOW)
        }
        LedgerCommand::Monitor {
            source,
            key,
            state,
            witness,
            witness_quorum,
        } => Ok(super::ledger_monitor::run(
            &source,
            &key,
            state,
            &witness,
            witness_quorum,
        )),
        LedgerCommand::Checkpoint { dir } => {
            let ledger = open_ledger_for_reading(dir.ledger.as_deref())?;
            output::checkpoint(ledger.checkpoint(), &ledger.verifier().to_vkey());
            Ok(crate::EXIT_ALLOW)
        }
    })
}
