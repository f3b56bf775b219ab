//! The validated policy, and loading it from a file.

use crate::error::{LineIndex, PolicyError};
use crate::file::{RawLicenses, RawMode, RawPolicy, RawScanAttestation, RawScope, RawUnmatched};
use crate::nesting::{Syntax, too_deep};
use crate::pattern::PackagePattern;
use crate::rego::RegoRules;
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use toml::Spanned;
use ward_core::PackageId;
use ward_input::{InputFile, limits};
use ward_scan::{LicenseRule, Severity, VexSet};
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
    /// Remediation deadlines in days from first sighting, per severity.
    pub remediation: Vec<(Severity, Located<u32>)>,
    /// OpenVEX statements from the documents the policy names.
    pub vex: VexSet,
}

/// How deeply brackets may nest in the policy file. ward's schema needs at
/// most three levels (`[[scope]]`, `signers = [{ … }]`); the limit leaves room
/// and refuses what would only make a parser work hard.
pub const MAX_TOML_NESTING: usize = 32;

struct Loader {
    index: LineIndex,
    file: String,
    dir: PathBuf,
    hasher: sha2::Sha256,
}

impl Loader {
    fn err_at(
        &self,
        span: Option<std::ops::Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> PolicyError {
        let (line, column) = match span {
            Some(s) => {
                let (l, c) = self.index.line_col(s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        PolicyError {
            file: self.file.clone(),
            line,
            column,
            key: Some(key.into()).filter(|k: &String| !k.is_empty()),
            message: message.into(),
        }
    }

    fn line<T>(&self, s: &Spanned<T>) -> usize {
        self.index.line_col(s.span().start).0
    }

    fn regex<T>(&self, spanned: &Spanned<T>, pattern: &str, key: &str) -> Result<regex::Regex, PolicyError> {
        crate::pattern::anchored_regex(pattern)
            .map_err(|e| self.err_at(Some(spanned.span()), key, format!("invalid regular expression: {e}")))
    }

    /// Reads a file the policy names, bounded and regular files only (a FIFO
    /// or device is refused at once rather than blocking or reading forever).
    fn read_named(
        &mut self,
        spanned: &Spanned<String>,
        key: &str,
        what: &'static str,
        limit: u64,
    ) -> Result<(PathBuf, Vec<u8>), PolicyError> {
        let path = self.dir.join(spanned.get_ref());
        let bytes = InputFile::new(&path, what, limit)
            .read()
            .map_err(|e| self.err_at(Some(spanned.span()), key, format!("cannot read {e}")))?;
        self.hasher.update(&bytes);
        Ok((path, bytes))
    }

    fn licenses(&self, raw: &Spanned<RawLicenses>, key: &str) -> Result<LicensePolicy, PolicyError> {
        let r = raw.get_ref();
        let check = |list: &[Spanned<String>]| -> Result<Vec<String>, PolicyError> {
            list.iter()
                .map(|e| {
                    LicenseRule::new(Some(std::slice::from_ref(e.get_ref())), &[])
                        .map(|_| e.get_ref().clone())
                        .map_err(|err| self.err_at(Some(e.span()), key, err.to_string()))
                })
                .collect()
        };
        let allow = r.allow.as_deref().map(check).transpose()?;
        let deny = check(&r.deny)?;
        let rule =
            LicenseRule::new(allow.as_deref(), &deny).map_err(|e| self.err_at(Some(raw.span()), key, e.to_string()))?;
        Ok(LicensePolicy {
            rule,
            line: self.line(raw),
        })
    }

    fn scan_attestation(
        &self,
        raw: &Spanned<RawScanAttestation>,
        key: &str,
    ) -> Result<ScanAttestationRule, PolicyError> {
        let r = raw.get_ref();
        if r.scanners.get_ref().is_empty() {
            return Err(self.err_at(
                Some(r.scanners.span()),
                format!("{key}.scanners"),
                "name at least one trusted scanner URI",
            ));
        }
        Ok(ScanAttestationRule {
            required: r.required.unwrap_or(true),
            scanners: r.scanners.get_ref().clone(),
            max_age_days: r.max_age_days.as_ref().map(|m| *m.get_ref()),
            fail_on: r
                .fail_on_severity
                .as_ref()
                .map(|f| *f.get_ref())
                .unwrap_or(Severity::High),
            line: self.line(raw),
        })
    }

    fn scope(&mut self, index: usize, raw: &Spanned<RawScope>, defaults: &Defaults) -> Result<Scope, PolicyError> {
        let at = |k: &str| format!("scope[{}].{k}", index + 1);
        let s = raw.get_ref();
        if s.packages.get_ref().is_empty() {
            return Err(self.err_at(
                Some(s.packages.span()),
                at("packages"),
                "a scope needs at least one package pattern",
            ));
        }
        let packages = s
            .packages
            .get_ref()
            .iter()
            .map(|p| PackagePattern::parse(p.get_ref()).map_err(|e| self.err_at(Some(p.span()), at("packages"), e)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut signers = Vec::new();
        for signer in &s.signers {
            let r = signer.get_ref();
            let identity = match (&r.identity, &r.identity_regex) {
                (Some(_), Some(_)) => {
                    return Err(self.err_at(
                        Some(signer.span()),
                        at("signers"),
                        "give `identity` or `identity_regex`, not both",
                    ));
                }
                (None, None) => {
                    return Err(self.err_at(
                        Some(signer.span()),
                        at("signers"),
                        "a signer needs `identity` (exact) or `identity_regex`",
                    ));
                }
                (Some(exact), None) if exact.starts_with('^') || exact.ends_with('$') => {
                    return Err(self.err_at(
                        Some(signer.span()),
                        at("signers"),
                        format!("identity {exact:?} looks like a regular expression; use `identity_regex`"),
                    ));
                }
                (Some(exact), None) => IdentityRule::Exact(exact.clone()),
                (None, Some(pattern)) => {
                    IdentityRule::Regex(self.regex(signer, pattern, &at("signers.identity_regex"))?)
                }
            };
            if r.issuer.is_empty() {
                return Err(self.err_at(Some(signer.span()), at("signers.issuer"), "issuer must not be empty"));
            }
            signers.push(TrustedSigner {
                issuer: r.issuer.clone(),
                identity,
                line: self.line(signer),
            });
        }
        let mut keys = Vec::new();
        for k in &s.keys {
            let (path, bytes) = self.read_named(k, &at("keys"), "key file", limits::KEY)?;
            let key = PublicKey::parse(&bytes, path.display().to_string())
                .map_err(|e| self.err_at(Some(k.span()), at("keys"), e.to_string()))?;
            keys.push(Located {
                value: key,
                line: self.line(k),
            });
        }
        let threshold = match &s.threshold {
            Some(t) => {
                let distinct = signers.len() + keys.len();
                if *t.get_ref() == 0 {
                    return Err(self.err_at(Some(t.span()), at("threshold"), "threshold must be at least 1"));
                }
                if *t.get_ref() as usize > distinct {
                    return Err(self.err_at(
                        Some(t.span()),
                        at("threshold"),
                        format!(
                            "threshold {} exceeds the {distinct} trusted signers and keys listed",
                            t.get_ref()
                        ),
                    ));
                }
                Located {
                    value: *t.get_ref(),
                    line: self.line(t),
                }
            }
            None => Located {
                value: 1,
                line: self.line(raw),
            },
        };
        let provenance = match &s.provenance {
            None => None,
            Some(p) => {
                let r = p.get_ref();
                Some(ProvenanceRule {
                    required: r.required.unwrap_or(true),
                    line: self.line(p),
                    builders: r.builders.as_ref().map(|b| Located {
                        value: b.get_ref().clone(),
                        line: self.line(b),
                    }),
                    source: match &r.source {
                        Some(src) => Some(Located {
                            value: self.regex(src, src.get_ref(), &at("provenance.source"))?,
                            line: self.line(src),
                        }),
                        None => None,
                    },
                    git_ref: match &r.git_ref {
                        Some(g) => Some(Located {
                            value: self.regex(g, g.get_ref(), &at("provenance.ref"))?,
                            line: self.line(g),
                        }),
                        None => None,
                    },
                    deny_self_hosted: r.deny_self_hosted.as_ref().map(|d| Located {
                        value: *d.get_ref(),
                        line: self.line(d),
                    }),
                })
            }
        };
        let mut rego_files = Vec::new();
        for r in &s.rego {
            let (path, bytes) = self.read_named(r, &at("rego"), "Rego file", limits::POLICY)?;
            let text = String::from_utf8(bytes).map_err(|_| self.err_at(Some(r.span()), at("rego"), "not UTF-8"))?;
            rego_files.push((path.display().to_string(), text));
        }
        let rego = if rego_files.is_empty() {
            None
        } else {
            let span = s.rego.first().map(|r| r.span());
            Some(RegoRules::load(&rego_files).map_err(|e| self.err_at(span, at("rego"), e))?)
        };
        Ok(Scope {
            name: s.name.clone().unwrap_or_else(|| {
                s.packages
                    .get_ref()
                    .iter()
                    .map(|p| p.get_ref().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
            line: self.line(raw),
            packages,
            mode: s.mode.map(Mode::from).unwrap_or(defaults.mode),
            signers,
            keys,
            threshold,
            max_signature_age_days: s
                .max_signature_age_days
                .as_ref()
                .map(|m| Located {
                    value: *m.get_ref(),
                    line: self.line(m),
                })
                .or_else(|| defaults.max_signature_age_days.clone()),
            provenance,
            required_predicate_types: s
                .required_predicate_types
                .iter()
                .map(|p| Located {
                    value: p.get_ref().clone(),
                    line: self.line(p),
                })
                .collect(),
            rego,
            rego_line: s.rego.first().map(|r| self.line(r)).unwrap_or(0),
            fail_on_severity: s.fail_on_severity.as_ref().map(|f| Located {
                value: *f.get_ref(),
                line: self.line(f),
            }),
            licenses: match &s.licenses {
                Some(l) => Some(self.licenses(l, &at("licenses"))?),
                None => None,
            },
            scan_attestation: match &s.scan_attestation {
                Some(a) => Some(self.scan_attestation(a, &at("scan_attestation"))?),
                None => None,
            },
        })
    }
}

impl Loader {
    fn exception(&self, index: usize, raw: &Spanned<crate::file::RawException>) -> Result<Exception, PolicyError> {
        let at = |k: &str| format!("exception[{}].{k}", index + 1);
        let e = raw.get_ref();
        let justification = e.justification.get_ref().trim();
        if justification.len() < 10 {
            return Err(self.err_at(
                Some(e.justification.span()),
                at("justification"),
                "write why the finding is acceptable (at least 10 characters)",
            ));
        }
        let advisory = e.advisory.get_ref().trim();
        if advisory.is_empty() || advisory.contains('*') {
            return Err(self.err_at(
                Some(e.advisory.span()),
                at("advisory"),
                "name one advisory id or alias (no wildcards)",
            ));
        }
        let expires: jiff::civil::Date = e.expires.get_ref().parse().map_err(|err| {
            self.err_at(
                Some(e.expires.span()),
                at("expires"),
                format!("expected a date like 2027-01-31: {err}"),
            )
        })?;
        // `NAME@VERSION` pins the exception to one version; the `@` of an npm scope is not a version.
        let text = e.package.get_ref();
        let (name, version) = match text.rfind('@') {
            Some(i) if i > 0 && !text[..i].ends_with(':') && !text[..i].ends_with('/') => {
                (&text[..i], Some(text[i + 1..].to_string()))
            }
            _ => (text.as_str(), None),
        };
        let package = PackagePattern::parse(name).map_err(|m| self.err_at(Some(e.package.span()), at("package"), m))?;
        Ok(Exception {
            advisory: advisory.to_string(),
            package,
            version: version.filter(|v| !v.is_empty()),
            justification: justification.to_string(),
            expires,
            line: self.line(raw),
        })
    }
}

impl Loader {
    fn allow(&self, index: usize, raw: &Spanned<crate::file::RawAllow>) -> Result<Allow, PolicyError> {
        let at = |k: &str| format!("allow[{}].{k}", index + 1);
        let a = raw.get_ref();
        let (text, span, version) = match (&a.purl, &a.package) {
            (Some(p), None) => {
                // `pkg:TYPE/NAME@VERSION`: the `@` of an npm scope is not a version.
                let t = p.get_ref().trim();
                match t.rfind('@') {
                    Some(i) if i > 0 && !t[..i].ends_with('/') && a.version.is_none() => {
                        (t[..i].to_string(), p.span(), t[i + 1..].to_string())
                    }
                    _ => {
                        return Err(self.err_at(
                            Some(p.span()),
                            at("purl"),
                            "name one exact version in the purl (pkg:npm/NAME@VERSION), and no separate `version`",
                        ));
                    }
                }
            }
            (None, Some(p)) => match &a.version {
                Some(v) => (p.get_ref().trim().to_string(), p.span(), v.get_ref().trim().to_string()),
                None => return Err(self.err_at(Some(raw.span()), at("version"), "`package` needs an exact `version`")),
            },
            _ => {
                return Err(self.err_at(
                    Some(raw.span()),
                    at("purl"),
                    "name the artifact by `purl` (with its version) or by `package` and `version`, one of the two",
                ));
            }
        };
        if text.contains('*') || version.is_empty() || version.contains(['*', ' ', '<', '>', '=', '^', '~']) {
            return Err(self.err_at(
                Some(span),
                at("package"),
                "an allow names one exact package and version (no wildcards or ranges)",
            ));
        }
        let package = PackagePattern::parse(&text).map_err(|m| self.err_at(Some(span.clone()), at("package"), m))?;
        let sha256 = a.sha256.get_ref().trim().to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(self.err_at(
                Some(a.sha256.span()),
                at("sha256"),
                "expected the artifact's sha256 as 64 hex digits",
            ));
        }
        let reviewer = a.reviewer.get_ref().trim();
        if reviewer.is_empty() {
            return Err(self.err_at(
                Some(a.reviewer.span()),
                at("reviewer"),
                "name who reviewed the artifact",
            ));
        }
        let justification = a.justification.get_ref().trim();
        if justification.len() < 10 {
            return Err(self.err_at(
                Some(a.justification.span()),
                at("justification"),
                "write why this artifact is acceptable (at least 10 characters)",
            ));
        }
        let expires: jiff::civil::Date = a.expires.get_ref().parse().map_err(|err| {
            self.err_at(
                Some(a.expires.span()),
                at("expires"),
                format!("expected a date like 2027-01-31: {err}"),
            )
        })?;
        Ok(Allow {
            package,
            version,
            sha256,
            reviewer: reviewer.to_string(),
            justification: justification.to_string(),
            expires,
            line: self.line(raw),
        })
    }
}

impl Policy {
    /// Reads and validates a policy file. Keys and Rego files are named
    /// relative to the policy file's directory.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = InputFile::new(path, "policy file", limits::POLICY)
            .read_to_string()
            .map_err(|e| PolicyError {
                file: path.display().to_string(),
                line: None,
                column: None,
                key: None,
                message: format!("cannot read {e}"),
            })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, &path.display().to_string(), &dir)
    }

    /// Parses and validates policy text.
    pub fn parse(text: &str, file: &str, dir: &Path) -> Result<Self, PolicyError> {
        let mut loader = Loader {
            index: LineIndex::new(text),
            file: file.to_string(),
            dir: dir.to_path_buf(),
            hasher: sha2::Sha256::new(),
        };
        loader.hasher.update(text.as_bytes());
        if let Some(at) = too_deep(text, Syntax::Toml, MAX_TOML_NESTING) {
            return Err(loader.err_at(
                Some(at..at + 1),
                "",
                format!("brackets nested more than {MAX_TOML_NESTING} deep"),
            ));
        }
        let raw: RawPolicy =
            toml::from_str(text).map_err(|e| loader.err_at(e.span(), "", e.message().trim().to_string()))?;
        if let Some(v) = &raw.version
            && *v.get_ref() != 1
        {
            return Err(loader.err_at(
                Some(v.span()),
                "version",
                format!("policy version {} is not supported (ward reads version 1)", v.get_ref()),
            ));
        }
        let d = raw.defaults.as_ref();
        let defaults = Defaults {
            mode: d.and_then(|d| d.mode).map(Mode::from).unwrap_or(Mode::Enforce),
            unmatched: match d.and_then(|d| d.unmatched) {
                Some(RawUnmatched::Deny) => Unmatched::Deny,
                _ => Unmatched::RequireSignature,
            },
            max_signature_age_days: d.and_then(|d| d.max_signature_age_days.as_ref()).map(|m| Located {
                value: *m.get_ref(),
                line: loader.line(m),
            }),
            fail_on_severity: d.and_then(|d| d.fail_on_severity.as_ref()).map(|f| Located {
                value: *f.get_ref(),
                line: loader.line(f),
            }),
            licenses: match d.and_then(|d| d.licenses.as_ref()) {
                Some(l) => Some(loader.licenses(l, "defaults.licenses")?),
                None => None,
            },
        };
        let scopes = raw
            .scope
            .iter()
            .enumerate()
            .map(|(i, s)| loader.scope(i, s, &defaults))
            .collect::<Result<Vec<_>, _>>()?;
        let exceptions = raw
            .exception
            .iter()
            .enumerate()
            .map(|(i, e)| loader.exception(i, e))
            .collect::<Result<Vec<_>, _>>()?;
        let allows = raw
            .allow
            .iter()
            .enumerate()
            .map(|(i, a)| loader.allow(i, a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut remediation = Vec::new();
        if let Some(r) = &raw.remediation {
            let r = r.get_ref();
            for (level, days) in [
                (Severity::Critical, &r.critical),
                (Severity::High, &r.high),
                (Severity::Medium, &r.medium),
                (Severity::Low, &r.low),
            ] {
                if let Some(d) = days {
                    remediation.push((
                        level,
                        Located {
                            value: *d.get_ref(),
                            line: loader.line(d),
                        },
                    ));
                }
            }
        }
        let mut vex = VexSet::default();
        for v in &raw.vex {
            let (path, bytes) = loader.read_named(v, "vex", "VEX document", limits::POLICY)?;
            vex.add_document(&bytes, &path.display().to_string())
                .map_err(|e| loader.err_at(Some(v.span()), "vex", e.to_string()))?;
        }
        let digest = format!("sha256:{}", hex::encode(loader.hasher.finalize()));
        Ok(Self {
            path: file.to_string(),
            digest,
            defaults,
            scopes,
            exceptions,
            allows,
            remediation,
            vex,
        })
    }

    /// The scopes that apply to a package, in file order.
    pub fn scopes_for(&self, id: &PackageId) -> Vec<&Scope> {
        self.scopes.iter().filter(|s| s.matches(id)).collect()
    }

    /// The built-in policy: no scopes, the defaults ward uses with no policy file.
    pub fn builtin() -> Self {
        Self {
            path: "(built-in)".into(),
            digest: String::new(),
            defaults: Defaults {
                mode: Mode::Enforce,
                unmatched: Unmatched::RequireSignature,
                max_signature_age_days: None,
                fail_on_severity: None,
                licenses: None,
            },
            scopes: Vec::new(),
            exceptions: Vec::new(),
            allows: Vec::new(),
            remediation: Vec::new(),
            vex: VexSet::default(),
        }
    }
}
