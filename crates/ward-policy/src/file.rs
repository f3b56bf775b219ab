//! The policy file as written: TOML tables that refuse unknown keys, with
//! spans kept so diagnostics and reasons can point at a line.

use serde::Deserialize;
use toml::Spanned;
use ward_core::Severity;

/// The whole file. Not deserialized in one piece: the loader deserializes
/// each top-level table and each array entry on its own (keeping each
/// entry's 0-based index), so one bad entry does not hide the others.
#[derive(Debug, Default)]
pub(crate) struct RawPolicy {
    pub version: Option<Spanned<u32>>,
    pub defaults: Option<RawDefaults>,
    pub scope: Vec<(usize, Spanned<RawScope>)>,
    pub exception: Vec<(usize, Spanned<RawException>)>,
    pub allow: Vec<(usize, Spanned<RawAllow>)>,
    pub rebuilder: Vec<(usize, Spanned<crate::rebuild::RawRebuilder>)>,
    pub pin: Vec<(usize, Spanned<crate::pin::RawPin>)>,
    pub remediation: Option<Spanned<RawRemediation>>,
    pub vex: Vec<Spanned<String>>,
}

/// A reviewed artifact let past `package-malicious`: every field but the
/// choice of `purl` or `package` + `version` is required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAllow {
    #[serde(default)]
    pub purl: Option<Spanned<String>>,
    #[serde(default)]
    pub package: Option<Spanned<String>>,
    #[serde(default)]
    pub version: Option<Spanned<String>>,
    pub sha256: Spanned<String>,
    pub reviewer: Spanned<String>,
    pub justification: Spanned<String>,
    pub expires: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawException {
    pub advisory: Spanned<String>,
    pub package: Spanned<String>,
    pub justification: Spanned<String>,
    pub expires: Spanned<String>,
}

/// Days from first sighting, per severity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRemediation {
    #[serde(default)]
    pub critical: Option<Spanned<u32>>,
    #[serde(default)]
    pub high: Option<Spanned<u32>>,
    #[serde(default)]
    pub medium: Option<Spanned<u32>>,
    #[serde(default)]
    pub low: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLicenses {
    #[serde(default)]
    pub allow: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScanAttestation {
    #[serde(default)]
    pub required: Option<bool>,
    pub scanners: Spanned<Vec<String>>,
    #[serde(default)]
    pub max_age_days: Option<Spanned<u32>>,
    #[serde(default)]
    pub fail_on_severity: Option<Spanned<Severity>>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawMode {
    Enforce,
    Warn,
    Audit,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawUnmatched {
    RequireSignature,
    Deny,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefaults {
    #[serde(default)]
    pub mode: Option<RawMode>,
    #[serde(default)]
    pub unmatched: Option<RawUnmatched>,
    #[serde(default)]
    pub max_signature_age_days: Option<Spanned<u32>>,
    #[serde(default)]
    pub fail_on_severity: Option<Spanned<Severity>>,
    #[serde(default)]
    pub licenses: Option<Spanned<RawLicenses>>,
    #[serde(default)]
    pub cooldown: Option<Spanned<crate::cooldown::RawCooldown>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScope {
    #[serde(default)]
    pub name: Option<String>,
    pub packages: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub mode: Option<RawMode>,
    #[serde(default)]
    pub signers: Vec<Spanned<RawSigner>>,
    #[serde(default)]
    pub keys: Vec<Spanned<crate::hardware::RawKey>>,
    #[serde(default)]
    pub require_hardware_keys: Option<Spanned<bool>>,
    #[serde(default)]
    pub threshold: Option<Spanned<u32>>,
    #[serde(default)]
    pub max_signature_age_days: Option<Spanned<u32>>,
    #[serde(default)]
    pub provenance: Option<Spanned<RawProvenance>>,
    #[serde(default)]
    pub required_predicate_types: Vec<Spanned<String>>,
    #[serde(default)]
    pub rego: Vec<Spanned<String>>,
    #[serde(default)]
    pub fail_on_severity: Option<Spanned<Severity>>,
    #[serde(default)]
    pub licenses: Option<Spanned<RawLicenses>>,
    #[serde(default)]
    pub scan_attestation: Option<Spanned<RawScanAttestation>>,
    #[serde(default)]
    pub rebuild: Option<Spanned<crate::rebuild::RawRebuildRule>>,
    #[serde(default)]
    pub deny_new_install_scripts: Option<Spanned<crate::risky::RawLevel>>,
    #[serde(default)]
    pub deny_new_dependencies_in_patch: Option<Spanned<crate::risky::RawLevel>>,
    #[serde(default)]
    pub deny_pth_files: Option<Spanned<crate::risky::RawLevel>>,
    #[serde(default)]
    pub deny_setup_py_only: Option<Spanned<crate::risky::RawLevel>>,
    #[serde(default)]
    pub native_binaries: Option<Spanned<crate::risky::RawLevel>>,
    #[serde(default)]
    pub cooldown: Option<Spanned<crate::cooldown::RawCooldown>>,
    #[serde(default)]
    pub history: Option<Spanned<crate::history::RawHistory>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSigner {
    pub issuer: String,
    #[serde(default)]
    pub identity: Option<String>,
    #[serde(default)]
    pub identity_regex: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProvenance {
    #[serde(default)]
    pub required: Option<bool>,
    #[serde(default)]
    pub builders: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub source: Option<Spanned<String>>,
    #[serde(default, rename = "ref")]
    pub git_ref: Option<Spanned<String>>,
    #[serde(default)]
    pub deny_self_hosted: Option<Spanned<bool>>,
    /// slsa-verifier's rules (`--source-uri` and the flags that go with it).
    #[serde(default)]
    pub source_uri: Option<Spanned<String>>,
    #[serde(default)]
    pub source_tag: Option<Spanned<String>>,
    #[serde(default)]
    pub source_branch: Option<Spanned<String>>,
    #[serde(default)]
    pub source_versioned_tag: Option<Spanned<String>>,
    #[serde(default)]
    pub builder_id: Option<Spanned<String>>,
}
