//! The validated policy: what a loaded `ward.toml` says (loading and
//! checking it is `load.rs`).

use crate::diagnostic::{Diagnostic, DiagnosticCode, Label};
use crate::error::PolicyError;
use crate::file::RawMode;
use crate::license::LicenseRule;
use crate::pattern::PackagePattern;
use crate::rego::RegoRules;
use crate::vex::VexSet;
use std::path::Path;
use std::sync::Arc;
use ward_core::PackageId;
use ward_core::Severity;
use ward_verify::{IdentityRule, PublicKey};

/// How a scope's failures count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Failures deny.
    Enforce,
    /// Failures are reported; the artifact is allowed.
    Warn,
    /// Failures are only recorded.
    Audit,
}

impl From<RawMode> for Mode {
    fn from(m: RawMode) -> Self {
        match m {
            RawMode::Enforce => Mode::Enforce,
            RawMode::Warn => Mode::Warn,
            RawMode::Audit => Mode::Audit,
        }
    }
}

/// What happens to a package no scope matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unmatched {
    /// ward's safe default: at least one verified signature or attestation.
    RequireSignature,
    /// Deny it.
    Deny,
}

/// A value with the line it was written on.
#[derive(Clone, Debug)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// 1-based line in the policy file.
    pub line: usize,
}

/// Policy-wide defaults.
#[derive(Clone, Debug)]
pub struct Defaults {
    /// Mode of scopes that do not set one, and of unmatched packages.
    pub mode: Mode,
    /// What happens to packages no scope matches.
    pub unmatched: Unmatched,
    /// Maximum signature age for scopes that do not set one.
    pub max_signature_age_days: Option<Located<u32>>,
    /// Findings at or above this deny, for scopes that do not set their own.
    pub fail_on_severity: Option<Located<Severity>>,
    /// Licence lists for scopes that do not set their own.
    pub licenses: Option<LicensePolicy>,
    /// The release cooldown for scopes that do not set their own, and for
    /// packages no scope matches.
    pub cooldown: Option<crate::cooldown::Cooldown>,
}

/// Allowed and denied licences, as written and parsed.
#[derive(Clone, Debug)]
pub struct LicensePolicy {
    /// The parsed lists.
    pub rule: LicenseRule,
    /// Line of the `licenses` table.
    pub line: usize,
}

/// A required vulnerability-scan attestation.
#[derive(Clone, Debug)]
pub struct ScanAttestationRule {
    /// Whether one must be present (default true).
    pub required: bool,
    /// Trusted scanner URIs (exact, or a prefix ending in `*`).
    pub scanners: Vec<String>,
    /// Maximum age of the scan, in days.
    pub max_age_days: Option<u32>,
    /// Reported vulnerabilities at or above this deny.
    pub fail_on: Severity,
    /// Line of the table.
    pub line: usize,
}

impl ScanAttestationRule {
    /// Whether the scanner is trusted.
    pub fn trusts(&self, scanner: &str) -> bool {
        self.scanners.iter().any(|s| match s.strip_suffix('*') {
            Some(prefix) => scanner.starts_with(prefix),
            None => s == scanner,
        })
    }
}

/// A time-boxed, justified exception for one advisory on some packages.
#[derive(Clone, Debug)]
pub struct Exception {
    /// The advisory id or alias it silences.
    pub advisory: String,
    /// The packages it covers.
    pub package: PackagePattern,
    /// An exact version, when the package was written `NAME@VERSION`.
    pub version: Option<String>,
    /// Why it is acceptable.
    pub justification: String,
    /// The last day it applies (UTC).
    pub expires: jiff::civil::Date,
    /// Where it was written.
    pub line: usize,
    /// Where `expires` was written, for expiry warnings.
    pub(crate) expires_at: Label,
}

impl Exception {
    /// Whether it covers an advisory (by id or alias) on a package.
    pub fn covers(&self, ids: &[&str], package: &PackageId) -> bool {
        ids.iter().any(|id| id.eq_ignore_ascii_case(&self.advisory))
            && self.package.matches(package)
            && self
                .version
                .as_ref()
                .is_none_or(|v| package.version.as_ref() == Some(v))
    }
}

/// A reviewed exact artifact let past a malicious-package record: the only
/// way past `package-malicious`, for this one digest, until it expires.
#[derive(Clone, Debug)]
pub struct Allow {
    /// The package (exact name, no wildcards).
    pub package: PackagePattern,
    /// The exact version.
    pub version: String,
    /// The artifact's sha256, lower-case hex.
    pub sha256: String,
    /// Who reviewed it.
    pub reviewer: String,
    /// Why it is acceptable.
    pub justification: String,
    /// The last day it applies (UTC).
    pub expires: jiff::civil::Date,
    /// Where it was written.
    pub line: usize,
    /// Where `expires` was written, for expiry warnings.
    pub(crate) expires_at: Label,
}

impl Allow {
    /// Whether it names this package version (the digest is compared by the caller).
    pub fn names(&self, package: &PackageId) -> bool {
        self.package.matches(package) && package.version.as_deref() == Some(self.version.as_str())
    }
}

/// A trusted keyless signer.
#[derive(Clone, Debug)]
pub struct TrustedSigner {
    /// The OIDC issuer, exact.
    pub issuer: String,
    /// The identity rule.
    pub identity: IdentityRule,
    /// Where it was written.
    pub line: usize,
}

impl TrustedSigner {
    /// Human form for messages.
    pub fn describe(&self) -> String {
        match &self.identity {
            IdentityRule::Exact(s) => format!("{s} (issuer {})", self.issuer),
            IdentityRule::Regex(r) => format!("identity matching {} (issuer {})", r.as_str(), self.issuer),
        }
    }
}

/// Required provenance.
#[derive(Clone, Debug)]
pub struct ProvenanceRule {
    /// Provenance must be present.
    pub required: bool,
    /// Line of the `provenance` table.
    pub line: usize,
    /// Allowed builder ids (exact); empty means any.
    pub builders: Option<Located<Vec<String>>>,
    /// Source repository pattern (whole string).
    pub source: Option<Located<regex::Regex>>,
    /// Source ref pattern (whole string).
    pub git_ref: Option<Located<regex::Regex>>,
    /// Refuse self-hosted (or unknown) runners.
    pub deny_self_hosted: Option<Located<bool>>,
    /// slsa-verifier's `verify-artifact` rules (`source_uri` and the keys
    /// that go with it), at the line of `source_uri`.
    pub slsa: Option<Located<ward_verify::slsa::Expectations>>,
}

/// A key the policy registers as hardware-backed (a `hardware` table in
/// its `keys` entry). The registration is the operator's statement: a
/// signature cannot show where its key lives, and ward checks no key
/// attestation (docs/trust.md).
#[derive(Clone, Debug)]
pub struct HardwareKey {
    /// The key's `sha256:` fingerprint.
    pub fingerprint: String,
    /// Who registered it.
    pub registered_by: String,
    /// Where it lives, as a PKCS#11 URI (no PIN), if given.
    pub pkcs11_uri: Option<String>,
    /// A free-form note (device, serial, ceremony).
    pub note: Option<String>,
    /// Line of the key's entry.
    pub line: usize,
}

/// One scope: the packages it covers and the rules they must pass.
#[derive(Clone, Debug)]
pub struct Scope {
    /// A name for messages (the `name` key, or the first package pattern).
    pub name: String,
    /// Line of the `[[scope]]` table.
    pub line: usize,
    /// Package patterns.
    pub packages: Vec<PackagePattern>,
    /// Failure mode.
    pub mode: Mode,
    /// Trusted keyless signers.
    pub signers: Vec<TrustedSigner>,
    /// Trusted keys, with the line each was named on.
    pub keys: Vec<Located<PublicKey>>,
    /// Which of `keys` the policy registers as hardware-backed.
    pub hardware_keys: Vec<HardwareKey>,
    /// Which of `keys` count only inside a window or before a revocation
    /// (`valid_from`, `valid_until`, `revoked_at`, rotations); a key not
    /// listed counts whenever it signed.
    pub key_lifetimes: Vec<crate::lifetime::KeyLifetime>,
    /// Line of `require_hardware_keys = true`: then only signatures by
    /// `hardware_keys` count.
    pub require_hardware_keys: Option<usize>,
    /// Distinct trusted signers required.
    pub threshold: Located<u32>,
    /// Maximum age of the newest trusted signature.
    pub max_signature_age_days: Option<Located<u32>>,
    /// Required provenance.
    pub provenance: Option<ProvenanceRule>,
    /// Predicate types that must be present.
    pub required_predicate_types: Vec<Located<String>>,
    /// Rego rules.
    pub rego: Option<RegoRules>,
    /// Line of the `rego` key.
    pub rego_line: usize,
    /// Findings at or above this deny (else the default's, else `high`).
    pub fail_on_severity: Option<Located<Severity>>,
    /// Licence lists (else the default's).
    pub licenses: Option<LicensePolicy>,
    /// A required scan attestation.
    pub scan_attestation: Option<ScanAttestationRule>,
    /// Required independent rebuilds.
    pub rebuild: Option<crate::rebuild::RebuildRule>,
    /// Risky-change rules (install scripts, dependencies, `.pth` files, native binaries).
    pub risky: crate::risky::RiskyRules,
    /// The release cooldown (its own, else the default's).
    pub cooldown: Option<crate::cooldown::Cooldown>,
    /// Provenance and publisher history rules.
    pub history: Option<crate::history::HistoryRule>,
}

impl Scope {
    /// Whether the scope applies to the package.
    pub fn matches(&self, id: &PackageId) -> bool {
        self.packages.iter().any(|p| p.matches(id))
    }

    /// Whether the scope names any trusted signer or key.
    pub fn has_trust(&self) -> bool {
        !self.signers.is_empty() || !self.keys.is_empty()
    }
}

/// A loaded, validated policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The file it came from.
    pub path: String,
    /// Its text, for showing diagnostics (empty for the built-in policy).
    pub source: Arc<str>,
    /// `sha256:` of the policy file and every file it names, in order.
    pub digest: String,
    /// Defaults.
    pub defaults: Defaults,
    /// Scopes, in file order.
    pub scopes: Vec<Scope>,
    /// Exceptions, in file order.
    pub exceptions: Vec<Exception>,
    /// Reviewed artifacts let past malicious-package records, in file order.
    pub allows: Vec<Allow>,
    /// Trusted rebuilders (`[[rebuilder]]`), in file order.
    pub rebuilders: Vec<crate::rebuild::Rebuilder>,
    /// Packages held to some versions (`[[pin]]`), in file order.
    pub pins: Vec<crate::pin::Pin>,
    /// Remediation deadlines in days from first sighting, per severity.
    pub remediation: Vec<(Severity, Located<u32>)>,
    /// OpenVEX statements from the documents the policy names.
    pub vex: VexSet,
}

/// How deeply brackets may nest in the policy file. ward's schema needs at
/// most three levels (`[[scope]]`, `signers = [{ … }]`); the limit leaves room
/// and refuses what would only make a parser work hard.
pub const MAX_TOML_NESTING: usize = 32;

impl Policy {
    /// Reads and validates a policy file. Keys and Rego files are named
    /// relative to the policy file's directory. Every problem found is in
    /// the error, not only the first.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        crate::load::load(path)
    }

    /// Parses and validates policy text.
    pub fn parse(text: &str, file: &str, dir: &Path) -> Result<Self, PolicyError> {
        crate::load::parse(text, file, dir)
    }

    /// Warnings about a policy that loaded, as of `today` (UTC): exceptions
    /// and allows that have expired or expire within
    /// [`EXPIRY_WARNING_DAYS`](crate::EXPIRY_WARNING_DAYS), in file order.
    pub fn warnings_at(&self, today: jiff::civil::Date) -> Vec<Diagnostic> {
        let expiry = |what: &str,
                      name: &str,
                      expires: jiff::civil::Date,
                      at: &Label,
                      codes: (DiagnosticCode, DiagnosticCode)|
         -> Option<Diagnostic> {
            let left = (expires - today).get_days();
            let mut d = if left < 0 {
                Diagnostic::new(codes.0, format!("the {what} for {name} expired on {expires}"))
            } else if i64::from(left) <= crate::EXPIRY_WARNING_DAYS {
                Diagnostic::new(
                    codes.1,
                    format!("the {what} for {name} expires on {expires} ({left} days)"),
                )
            } else {
                return None;
            };
            d.labels.push(at.clone());
            Some(d)
        };
        let mut out: Vec<Diagnostic> = self
            .exceptions
            .iter()
            .filter_map(|e| {
                expiry(
                    "exception",
                    &e.advisory,
                    e.expires,
                    &e.expires_at,
                    (DiagnosticCode::ExceptionExpired, DiagnosticCode::ExceptionExpiring),
                )
            })
            .chain(self.allows.iter().filter_map(|a| {
                expiry(
                    "allow",
                    &format!("{}@{}", a.package.text, a.version),
                    a.expires,
                    &a.expires_at,
                    (DiagnosticCode::AllowExpired, DiagnosticCode::AllowExpiring),
                )
            }))
            .collect();
        out.sort_by_key(|d| d.primary().map(|l| l.span.start));
        out
    }

    /// A line of this policy file as a reason's location
    /// (`reason.at(policy.location(scope.line))`), for output that shows
    /// where a rule is written (SARIF regions).
    pub fn location(&self, line: usize) -> ward_core::Location {
        ward_core::Location::line(self.path.clone(), line)
    }

    /// The scopes that apply to a package, in file order.
    pub fn scopes_for(&self, id: &PackageId) -> Vec<&Scope> {
        self.scopes.iter().filter(|s| s.matches(id)).collect()
    }

    /// The built-in policy: no scopes, the defaults ward uses with no policy file.
    pub fn builtin() -> Self {
        Self {
            path: "(built-in)".into(),
            source: Arc::from(""),
            digest: String::new(),
            defaults: Defaults {
                mode: Mode::Enforce,
                unmatched: Unmatched::RequireSignature,
                max_signature_age_days: None,
                fail_on_severity: None,
                licenses: None,
                cooldown: None,
            },
            scopes: Vec::new(),
            exceptions: Vec::new(),
            allows: Vec::new(),
            rebuilders: Vec::new(),
            pins: Vec::new(),
            remediation: Vec::new(),
            vex: VexSet::default(),
        }
    }
}
