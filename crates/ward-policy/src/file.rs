//! The policy file as written: TOML tables that refuse unknown keys, with
//! spans kept so errors and reasons can point at a line.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    #[serde(default)]
    pub version: Option<Spanned<u32>>,
    #[serde(default)]
    pub defaults: Option<RawDefaults>,
    #[serde(default)]
    pub scope: Vec<Spanned<RawScope>>,
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
pub enum RawUnmatched {
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
    pub keys: Vec<Spanned<String>>,
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
}
