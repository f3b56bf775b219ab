//! `ward verify`: the whole pipeline for one artifact.

use super::{Usage, or_usage, policy_invalid, signer, trust_root};
use crate::args::{SlsaArgs, VerifyArgs};
use crate::output;
use ward_core::PackageId;
use ward_gate::{Evidence, Gate, Stores};
use ward_identify::Limits;
use ward_policy::Policy;
use ward_verify::RegistryKeys;

pub(super) fn run(args: VerifyArgs) -> u8 {
    or_usage(|| {
        let root = trust_root(&args.trust)?;
        let purl = args
            .purl
            .as_deref()
            .map(str::parse::<PackageId>)
            .transpose()
            .map_err(|e| Usage(format!("--purl: {e}")))?;
        let mut evidence = Evidence {
            bundles: args.bundle.iter().map(Into::into).collect(),
            signatures: args.signature.iter().map(Into::into).collect(),
            attestations: args
                .attestation
                .iter()
                .chain(&args.provenance)
                .map(Into::into)
                .collect(),
            rebuilds: args.rebuild.iter().map(Into::into).collect(),
            signer: signer(&args.signer)?,
            ..Evidence::default()
        };
        for key in &args.key {
            evidence.add_key_file(key)?;
        }
        evidence.discover_sidecars(&args.artifact);
        let limits = Limits {
            max_entries: args.max_entries,
            max_unpacked: args.max_unpacked,
            max_ratio: args.max_ratio,
            ..Limits::default()
        };
        let mut policy = args
            .policy
            .as_deref()
            .map(Policy::load)
            .transpose()
            .map_err(policy_invalid)?;
        if let Some(expected) = slsa_expectations(&args.slsa) {
            policy
                .get_or_insert_with(Policy::builtin)
                .require_slsa(&expected)
                .map_err(|e| Usage(format!("--source-uri: {e}")))?;
        }
        let registry_keys = match &args.npm_keys {
            Some(path) => {
                // Bounded, regular files only: a FIFO or device is refused at once.
                let text = ward_input::InputFile::new(path, "--npm-keys", ward_input::limits::KEY)
                    .read_to_string()
                    .map_err(|e| Usage(format!("cannot read {e}")))?;
                Some(RegistryKeys::from_json(&text)?)
            }
            None => super::trust::updated_npm_keys()?,
        };
        // Every store the gate keeps is opened here, before it is built.
        let stores = Stores::open_scan_data(args.db.as_deref(), &super::data_dir(), policy.as_ref())?;
        let deny_after = match stores.advisories() {
            Some(db) => super::advisories::freshness(db, &args.advisory_age, crate::clock::now()?)?,
            None => None,
        };
        let stores = stores.with_ledger(super::open_ledger(args.ledger.as_deref())?);
        let mut gate = Gate::new(root)
            .with_limits(limits)
            .with_stores(stores, args.fail_on.map(super::scan::severity));
        if let Some(policy) = policy {
            gate = gate.with_policy(policy);
        }
        if let Some(keys) = registry_keys {
            gate = gate.with_registry_keys(keys);
        }
        if let Some(max) = deny_after {
            gate = gate.with_advisories_deny_after(max);
        }
        let evaluation = gate
            .evaluate_at(&args.artifact, purl, &evidence, crate::clock::now()?)
            .map_err(|e| Usage(e.to_string()))?;
        let verdict = if evaluation.decision.allowed() {
            crate::EXIT_ALLOW
        } else {
            crate::EXIT_DENY
        };
        match gate.record(&evaluation, "verify") {
            Ok(recorded) => {
                output::evaluation(&evaluation, recorded.as_ref(), args.format);
                Ok(verdict)
            }
            // Never report an unrecorded decision as recorded; an allow that
            // cannot be recorded does not allow.
            Err(e) => {
                output::evaluation(&evaluation, None, args.format);
                output::error(&format!("the decision was NOT recorded in the ledger: {e}"));
                Ok(if verdict == crate::EXIT_DENY {
                    crate::EXIT_DENY
                } else {
                    crate::EXIT_ERROR
                })
            }
        }
    })
}

/// slsa-verifier's flags as the rules they ask for (`None` without --source-uri).
fn slsa_expectations(args: &SlsaArgs) -> Option<ward_verify::slsa::Expectations> {
    Some(ward_verify::slsa::Expectations {
        source_uri: args.source_uri.clone()?,
        source_tag: args.source_tag.clone(),
        source_branch: args.source_branch.clone(),
        source_versioned_tag: args.source_versioned_tag.clone(),
        builder_id: args.builder_id.clone(),
    })
}
