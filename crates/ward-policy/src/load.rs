//! Loading a policy file: TOML syntax, schema and every rule checked in one
//! pass, each problem recorded as a [`Diagnostic`] instead of stopping at
//! the first.
//!
//! The text is parsed with toml's recovering parser (every syntax error at
//! once); each top-level table and each `[[scope]]`, `[[exception]]` and
//! `[[allow]]` entry is then deserialized on its own, so a typo in one
//! entry does not hide the problems of the others (inside one entry, serde
//! stops at the first unknown key or wrong type). The rules of an entry that
//! deserialized are all checked. Loading fails when any error was found.

use crate::diagnostic::{Diagnostic, DiagnosticCode, Label};
use crate::error::{LineIndex, PolicyError};
use crate::file::{
    RawAllow, RawDefaults, RawException, RawLicenses, RawPolicy, RawRemediation, RawScanAttestation, RawScope,
    RawUnmatched,
};
use crate::license::LicenseRule;
use crate::model::{
    Allow, Defaults, Exception, LicensePolicy, Located, MAX_TOML_NESTING, Mode, Policy, ProvenanceRule,
    ScanAttestationRule, Scope, TrustedSigner, Unmatched,
};
use crate::nesting::{Syntax, too_deep};
use crate::pattern::PackagePattern;
use crate::rego::RegoRules;
use crate::vex::VexSet;
use serde::Deserialize;
use sha2::Digest as _;
use std::cell::RefCell;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;
use toml::de::{DeValue, ValueDeserializer};
use ward_core::Severity;
use ward_input::{InputFile, limits};
use ward_verify::{IdentityRule, PublicKey};

/// At most this many diagnostics are kept; past it they are counted, and
/// the last one kept says how many more there were (a 4 MiB policy of
/// mistakes must not become a gigabyte of messages).
pub const MAX_DIAGNOSTICS: usize = 200;

/// The keys a policy file may have at the top level.
const TOP_LEVEL: &str =
    "`version`, `defaults`, `scope`, `exception`, `allow`, `rebuilder`, `pin`, `remediation`, `vex`";

pub(crate) struct Loader {
    index: LineIndex,
    file: Arc<str>,
    dir: PathBuf,
    hasher: RefCell<sha2::Sha256>,
    diagnostics: RefCell<Vec<Diagnostic>>,
    dropped: RefCell<usize>,
}

impl Loader {
    fn new(text: &str, file: &str, dir: &Path) -> Self {
        Self {
            index: LineIndex::new(text),
            file: Arc::from(file),
            dir: dir.to_path_buf(),
            hasher: RefCell::new(sha2::Sha256::new()),
            diagnostics: RefCell::new(Vec::new()),
            dropped: RefCell::new(0),
        }
    }

    /// A label over `span`, naming `key`; line and column come from the index.
    pub(crate) fn label(&self, span: Range<usize>, key: impl Into<String>) -> Label {
        let (line, column) = self.index.line_col(span.start);
        Label {
            file: self.file.clone(),
            span,
            line,
            column,
            message: key.into(),
        }
    }

    /// Records a diagnostic at `span` (or nowhere), naming `key`.
    pub(crate) fn report(
        &self,
        code: DiagnosticCode,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        let mut d = Diagnostic::new(code, message);
        if let Some(span) = span {
            d.labels.push(self.label(span, key));
        }
        self.push(d);
    }

    fn push(&self, d: Diagnostic) {
        let mut all = self.diagnostics.borrow_mut();
        if all.len() < MAX_DIAGNOSTICS {
            all.push(d);
        } else {
            *self.dropped.borrow_mut() += 1;
        }
    }

    fn has_errors(&self) -> bool {
        self.diagnostics.borrow().iter().any(Diagnostic::is_error)
    }

    /// The diagnostics in file order (those without a place first).
    fn finish(&self, source: &str) -> PolicyError {
        let mut diagnostics = self.diagnostics.take();
        diagnostics.sort_by_key(|d| d.primary().map(|l| l.span.start));
        let dropped = *self.dropped.borrow();
        if dropped > 0
            && let Some(last) = diagnostics.last_mut()
        {
            last.notes.push(format!("{dropped} more problems are not shown"));
        }
        PolicyError {
            file: self.file.clone(),
            source: Arc::from(source),
            diagnostics,
        }
    }

    pub(crate) fn line<T>(&self, s: &Spanned<T>) -> usize {
        self.index.line_col(s.span().start).0
    }

    /// A serde error from deserializing part of the file, with its code.
    fn schema_error(&self, e: &toml::de::Error, fallback: Range<usize>, key: &str) {
        let message = e.message().trim().to_string();
        // serde's own wording (`unknown field`, `missing field`) is stable.
        let code = if message.starts_with("unknown field") {
            DiagnosticCode::UnknownKey
        } else if message.starts_with("missing field") {
            DiagnosticCode::MissingKey
        } else {
            DiagnosticCode::WrongType
        };
        self.report(code, Some(e.span().unwrap_or(fallback)), key, message);
    }

    /// Deserializes one part of the file; a failure is recorded, not returned.
    fn de<T: for<'de> Deserialize<'de>>(&self, value: Spanned<DeValue<'_>>, key: &str) -> Option<T> {
        let span = value.span();
        T::deserialize(ValueDeserializer::from(value))
            .map_err(|e| self.schema_error(&e, span, key))
            .ok()
    }

    /// Deserializes each entry of an array of tables on its own, keeping
    /// the 0-based index of each entry that deserialized.
    fn entries<T: for<'de> Deserialize<'de>>(&self, value: Spanned<DeValue<'_>>, key: &str) -> Vec<(usize, T)> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Array(items) => items
                .into_iter()
                .enumerate()
                .filter_map(|(i, item)| Some((i, self.de(item, &format!("{key}[{}]", i + 1))?)))
                .collect(),
            other => {
                self.report(
                    DiagnosticCode::WrongType,
                    Some(span),
                    key,
                    format!("expected an array of tables (`[[{key}]]`), found {}", other.type_str()),
                );
                Vec::new()
            }
        }
    }

    /// The top-level tables, each deserialized on its own.
    fn raw(&self, text: &str) -> Option<RawPolicy> {
        let (root, errors) = toml::de::DeTable::parse_recoverable(text);
        for e in &errors {
            self.report(
                DiagnosticCode::TomlSyntax,
                Some(e.span().unwrap_or(0..0)),
                "",
                e.message().trim().to_string(),
            );
        }
        if !errors.is_empty() {
            // Checking the schema of a half-parsed file would only add noise.
            return None;
        }
        let mut raw = RawPolicy::default();
        for (key, value) in root.into_inner() {
            match key.get_ref().as_ref() {
                "version" => raw.version = self.de(value, "version"),
                "defaults" => raw.defaults = self.de::<RawDefaults>(value, "defaults"),
                "remediation" => raw.remediation = self.de::<Spanned<RawRemediation>>(value, "remediation"),
                "vex" => raw.vex = self.de(value, "vex").unwrap_or_default(),
                "scope" => raw.scope = self.entries(value, "scope"),
                "exception" => raw.exception = self.entries(value, "exception"),
                "allow" => raw.allow = self.entries(value, "allow"),
                "rebuilder" => raw.rebuilder = self.entries(value, "rebuilder"),
                "pin" => raw.pin = self.entries(value, "pin"),
                other => self.report(
                    DiagnosticCode::UnknownKey,
                    Some(key.span()),
                    "",
                    format!("unknown field `{other}`, expected one of {TOP_LEVEL}"),
                ),
            }
        }
        Some(raw)
    }

    fn regex<T>(&self, spanned: &Spanned<T>, pattern: &str, key: &str) -> Option<regex::Regex> {
        crate::pattern::anchored_regex(pattern)
            .map_err(|e| {
                self.report(
                    DiagnosticCode::InvalidRegex,
                    Some(spanned.span()),
                    key,
                    format!("invalid regular expression: {e}"),
                )
            })
            .ok()
    }

    /// Reads a file the policy names, bounded and regular files only (a FIFO
    /// or device is refused at once rather than blocking or reading forever).
    pub(crate) fn read_named(
        &self,
        spanned: &Spanned<String>,
        key: &str,
        what: &'static str,
        limit: u64,
    ) -> Option<(PathBuf, Vec<u8>)> {
        let path = self.dir.join(spanned.get_ref());
        match InputFile::new(&path, what, limit).read() {
            Ok(bytes) => {
                self.hasher.borrow_mut().update(&bytes);
                Some((path, bytes))
            }
            Err(e) => {
                self.report(
                    DiagnosticCode::FileUnreadable,
                    Some(spanned.span()),
                    key,
                    format!("cannot read {e}"),
                );
                None
            }
        }
    }

    /// A key entry's lifetime and its rotations: the key itself first, then
    /// each key it was rotated to, with the windows the entry and the
    /// statements give them. Statements are read from the entry's
    /// `rotations` directory (relative to the policy) and count towards the
    /// policy's digest.
    fn key_lifetimes(
        &self,
        raw: &crate::hardware::RawKey,
        key: &PublicKey,
        line: usize,
    ) -> Result<Vec<(PublicKey, crate::lifetime::KeyLifetime)>, String> {
        use crate::lifetime::parse_time;
        let time = |field: &str, v: &Option<String>| {
            v.as_deref()
                .map(|t| parse_time(t).map_err(|e| format!("{field}: {e}")))
                .transpose()
        };
        let valid_from = time("valid_from", &raw.valid_from)?;
        let valid_until = time("valid_until", &raw.valid_until)?;
        let revoked_at = time("revoked_at", &raw.revoked_at)?;
        if let (Some(f), Some(u)) = (valid_from, valid_until)
            && u < f
        {
            return Err(format!("valid_until {u} is before valid_from {f}"));
        }
        let statements = match &raw.rotations {
            None => Vec::new(),
            Some(dir) => {
                let files = crate::rotation::statement_files(&self.dir.join(dir), limits::KEY)
                    .map_err(|e| format!("rotations: {e}"))?;
                let mut out = Vec::new();
                for (path, bytes) in files {
                    self.hasher.borrow_mut().update(&bytes);
                    out.push(crate::rotation::KeyStatement::parse(
                        &bytes,
                        &path.display().to_string(),
                    )?);
                }
                out
            }
        };
        let mut chain = crate::rotation::follow(key, &statements, line)?;
        if let Some((_, first)) = chain.first_mut() {
            if let Some(t) = valid_from {
                first.from(t);
            }
            if let Some(t) = valid_until {
                first.until(t);
            }
            if let Some(t) = revoked_at {
                first.revoke(t);
            }
        }
        Ok(chain)
    }

    fn licenses(&self, raw: &Spanned<RawLicenses>, key: &str) -> Option<LicensePolicy> {
        let r = raw.get_ref();
        // Every entry is checked, so each bad one is reported.
        let check = |list: &[Spanned<String>]| -> Option<Vec<String>> {
            let mut ok = true;
            let mut out = Vec::new();
            for e in list {
                match LicenseRule::new(Some(std::slice::from_ref(e.get_ref())), &[]) {
                    Ok(_) => out.push(e.get_ref().clone()),
                    Err(err) => {
                        ok = false;
                        self.report(DiagnosticCode::InvalidLicense, Some(e.span()), key, err.to_string());
                    }
                }
            }
            ok.then_some(out)
        };
        let allow = r.allow.as_deref().map(check);
        let deny = check(&r.deny);
        let allow = match allow {
            Some(None) => return None,
            Some(Some(a)) => Some(a),
            None => None,
        };
        let deny = deny?;
        match LicenseRule::new(allow.as_deref(), &deny) {
            Ok(rule) => Some(LicensePolicy {
                rule,
                line: self.line(raw),
            }),
            Err(e) => {
                self.report(DiagnosticCode::InvalidLicense, Some(raw.span()), key, e.to_string());
                None
            }
        }
    }

    fn scan_attestation(&self, raw: &Spanned<RawScanAttestation>, key: &str) -> Option<ScanAttestationRule> {
        let r = raw.get_ref();
        if r.scanners.get_ref().is_empty() {
            self.report(
                DiagnosticCode::EmptyList,
                Some(r.scanners.span()),
                format!("{key}.scanners"),
                "name at least one trusted scanner URI",
            );
            return None;
        }
        Some(ScanAttestationRule {
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

    fn signer(&self, signer: &Spanned<crate::file::RawSigner>, key: &str) -> Option<TrustedSigner> {
        let r = signer.get_ref();
        let bad = |message: String| {
            self.report(DiagnosticCode::InvalidSigner, Some(signer.span()), key, message);
        };
        let identity = match (&r.identity, &r.identity_regex) {
            (Some(_), Some(_)) => {
                bad("give `identity` or `identity_regex`, not both".into());
                None
            }
            (None, None) => {
                bad("a signer needs `identity` (exact) or `identity_regex`".into());
                None
            }
            (Some(exact), None) if exact.starts_with('^') || exact.ends_with('$') => {
                bad(format!(
                    "identity {exact:?} looks like a regular expression; use `identity_regex`"
                ));
                None
            }
            (Some(exact), None) => Some(IdentityRule::Exact(exact.clone())),
            (None, Some(pattern)) => self
                .regex(signer, pattern, &format!("{key}.identity_regex"))
                .map(IdentityRule::Regex),
        };
        if r.issuer.is_empty() {
            self.report(
                DiagnosticCode::InvalidSigner,
                Some(signer.span()),
                format!("{key}.issuer"),
                "issuer must not be empty",
            );
            return None;
        }
        Some(TrustedSigner {
            issuer: r.issuer.clone(),
            identity: identity?,
            line: self.line(signer),
        })
    }

    fn provenance(
        &self,
        p: &Spanned<crate::file::RawProvenance>,
        at: &dyn Fn(&str) -> String,
    ) -> Option<ProvenanceRule> {
        let r = p.get_ref();
        let source = r.source.as_ref().map(|src| {
            self.regex(src, src.get_ref(), &at("provenance.source"))
                .map(|v| (v, self.line(src)))
        });
        let git_ref = r.git_ref.as_ref().map(|g| {
            self.regex(g, g.get_ref(), &at("provenance.ref"))
                .map(|v| (v, self.line(g)))
        });
        let located = |o: Option<Option<(regex::Regex, usize)>>| -> Option<Option<Located<regex::Regex>>> {
            match o {
                None => Some(None),
                Some(None) => None,
                Some(Some((value, line))) => Some(Some(Located { value, line })),
            }
        };
        let source = located(source);
        let git_ref = located(git_ref);
        let slsa = self.slsa_expectations(r, p, at);
        Some(ProvenanceRule {
            required: r.required.unwrap_or(true),
            line: self.line(p),
            builders: r.builders.as_ref().map(|b| Located {
                value: b.get_ref().clone(),
                line: self.line(b),
            }),
            source: source?,
            git_ref: git_ref?,
            deny_self_hosted: r.deny_self_hosted.as_ref().map(|d| Located {
                value: *d.get_ref(),
                line: self.line(d),
            }),
            slsa: slsa?,
        })
    }

    /// One scope. Every rule is checked, so one scope reports all its problems.
    fn scope(
        &self,
        index: usize,
        raw: &Spanned<RawScope>,
        defaults: &Defaults,
        rebuilders: &[crate::rebuild::Rebuilder],
    ) -> Option<Scope> {
        let at = |k: &str| format!("scope[{}].{k}", index + 1);
        let s = raw.get_ref();
        let mut ok = true;
        if s.packages.get_ref().is_empty() {
            self.report(
                DiagnosticCode::EmptyList,
                Some(s.packages.span()),
                at("packages"),
                "a scope needs at least one package pattern",
            );
            ok = false;
        }
        let mut packages = Vec::new();
        for p in s.packages.get_ref() {
            match PackagePattern::parse(p.get_ref()) {
                Ok(pattern) => packages.push(pattern),
                Err(e) => {
                    self.report(DiagnosticCode::InvalidPackagePattern, Some(p.span()), at("packages"), e);
                    ok = false;
                }
            }
        }
        let mut signers = Vec::new();
        for signer in &s.signers {
            match self.signer(signer, &at("signers")) {
                Some(t) => signers.push(t),
                None => ok = false,
            }
        }
        let mut keys = Vec::new();
        let mut hardware_keys = Vec::new();
        let mut key_lifetimes = Vec::new();
        for k in &s.keys {
            let named = Spanned::new(k.span(), k.get_ref().path.clone());
            let Some((path, bytes)) = self.read_named(&named, &at("keys"), "key file", limits::KEY) else {
                ok = false;
                continue;
            };
            match PublicKey::parse(&bytes, path.display().to_string()) {
                Ok(key) => {
                    if let Some(hw) = &k.get_ref().hardware {
                        match crate::hardware::registration(hw, key.fingerprint().to_string(), self.line(k)) {
                            Ok(h) => hardware_keys.push(h),
                            Err(e) => {
                                self.report(DiagnosticCode::InvalidKey, Some(k.span()), at("keys.hardware"), e);
                                ok = false;
                            }
                        }
                    }
                    let lifetimes = self.key_lifetimes(k.get_ref(), &key, self.line(k));
                    keys.push(Located {
                        value: key.clone(),
                        line: self.line(k),
                    });
                    match lifetimes {
                        Ok(chain) => {
                            for (rotated, lifetime) in chain {
                                if rotated.fingerprint() != key.fingerprint() {
                                    keys.push(Located {
                                        value: rotated,
                                        line: self.line(k),
                                    });
                                }
                                if lifetime.is_bounded() {
                                    key_lifetimes.push(lifetime);
                                }
                            }
                        }
                        Err(e) => {
                            self.report(DiagnosticCode::InvalidKey, Some(k.span()), at("keys"), e);
                            ok = false;
                        }
                    }
                }
                Err(e) => {
                    self.report(DiagnosticCode::InvalidKey, Some(k.span()), at("keys"), e.to_string());
                    ok = false;
                }
            }
        }
        let require_hardware_keys = match &s.require_hardware_keys {
            Some(r) if *r.get_ref() => {
                let registered = s.keys.iter().filter(|k| k.get_ref().hardware.is_some()).count();
                let threshold = s.threshold.as_ref().map(|t| *t.get_ref()).unwrap_or(1);
                if let Some(problem) = crate::hardware::scope_problem(s.signers.len(), registered, threshold) {
                    self.report(
                        DiagnosticCode::InvalidThreshold,
                        Some(r.span()),
                        at("require_hardware_keys"),
                        problem,
                    );
                    ok = false;
                }
                Some(self.line(r))
            }
            _ => None,
        };
        let threshold = match &s.threshold {
            Some(t) => {
                // Counted as written, so a key that failed to load does not
                // also make the threshold look wrong.
                let distinct = s.signers.len() + s.keys.len();
                if *t.get_ref() == 0 {
                    self.report(
                        DiagnosticCode::InvalidThreshold,
                        Some(t.span()),
                        at("threshold"),
                        "threshold must be at least 1",
                    );
                    ok = false;
                } else if *t.get_ref() as usize > distinct {
                    self.report(
                        DiagnosticCode::InvalidThreshold,
                        Some(t.span()),
                        at("threshold"),
                        format!(
                            "threshold {} exceeds the {distinct} trusted signers and keys listed",
                            t.get_ref()
                        ),
                    );
                    ok = false;
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
                let rule = self.provenance(p, &at);
                ok &= rule.is_some();
                rule
            }
        };
        let mut rego_files = Vec::new();
        for r in &s.rego {
            let Some((path, bytes)) = self.read_named(r, &at("rego"), "Rego file", limits::POLICY) else {
                ok = false;
                continue;
            };
            match String::from_utf8(bytes) {
                Ok(text) => rego_files.push((path.display().to_string(), text)),
                Err(_) => {
                    self.report(DiagnosticCode::InvalidRego, Some(r.span()), at("rego"), "not UTF-8");
                    ok = false;
                }
            }
        }
        let rego = if rego_files.is_empty() || !ok {
            None
        } else {
            match RegoRules::load(&rego_files) {
                Ok(rules) => Some(rules),
                Err(e) => {
                    let span = s.rego.first().map(|r| r.span());
                    self.report(DiagnosticCode::InvalidRego, span, at("rego"), e);
                    ok = false;
                    None
                }
            }
        };
        let licenses = s.licenses.as_ref().map(|l| self.licenses(l, &at("licenses")));
        let scan_attestation = s
            .scan_attestation
            .as_ref()
            .map(|a| self.scan_attestation(a, &at("scan_attestation")));
        let licenses = match licenses {
            Some(None) => return None,
            Some(Some(l)) => Some(l),
            None => None,
        };
        let scan_attestation = match scan_attestation {
            Some(None) => return None,
            Some(Some(a)) => Some(a),
            None => None,
        };
        let rebuild = match &s.rebuild {
            Some(r) => Some(self.rebuild_rule(r, &at("rebuild"), rebuilders)?),
            None => None,
        };
        let cooldown = match &s.cooldown {
            Some(c) => Some(self.cooldown(c, &at("cooldown"))?),
            None => defaults.cooldown.clone(),
        };
        let history = match &s.history {
            Some(h) => Some(self.history(h, &at("history"))?),
            None => None,
        };
        if !ok {
            return None;
        }
        Some(Scope {
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
            hardware_keys,
            key_lifetimes,
            require_hardware_keys,
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
            licenses,
            scan_attestation,
            rebuild,
            cooldown,
            history,
            risky: self.risky(s),
        })
    }

    /// The risky-change rules of a scope, each at its level and line.
    fn risky(&self, s: &RawScope) -> crate::risky::RiskyRules {
        let level = |r: &Option<Spanned<crate::risky::RawLevel>>| {
            r.as_ref().and_then(|l| {
                l.get_ref().0.map(|mode| Located {
                    value: mode,
                    line: self.line(l),
                })
            })
        };
        crate::risky::RiskyRules {
            new_install_scripts: level(&s.deny_new_install_scripts),
            new_dependencies_in_patch: level(&s.deny_new_dependencies_in_patch),
            pth_files: level(&s.deny_pth_files),
            setup_py_only: level(&s.deny_setup_py_only),
            native_binaries: level(&s.native_binaries),
        }
    }

    /// A justification of at least 10 characters, trimmed.
    fn justification(&self, j: &Spanned<String>, key: String, what: &str) -> Option<String> {
        let text = j.get_ref().trim();
        if text.len() < 10 {
            self.report(
                DiagnosticCode::ShortJustification,
                Some(j.span()),
                key,
                format!("write why {what} is acceptable (at least 10 characters)"),
            );
            return None;
        }
        Some(text.to_string())
    }

    /// An `expires` date.
    fn expires(&self, e: &Spanned<String>, key: String) -> Option<(jiff::civil::Date, Label)> {
        match e.get_ref().parse::<jiff::civil::Date>() {
            Ok(date) => Some((date, self.label(e.span(), key))),
            Err(err) => {
                self.report(
                    DiagnosticCode::InvalidDate,
                    Some(e.span()),
                    key,
                    format!("expected a date like 2027-01-31: {err}"),
                );
                None
            }
        }
    }

    fn exception(&self, index: usize, raw: &Spanned<RawException>) -> Option<Exception> {
        let at = |k: &str| format!("exception[{}].{k}", index + 1);
        let e = raw.get_ref();
        let justification = self.justification(&e.justification, at("justification"), "the finding");
        let advisory = e.advisory.get_ref().trim();
        let advisory_ok = !advisory.is_empty() && !advisory.contains('*');
        if !advisory_ok {
            self.report(
                DiagnosticCode::InvalidTarget,
                Some(e.advisory.span()),
                at("advisory"),
                "name one advisory id or alias (no wildcards)",
            );
        }
        let expires = self.expires(&e.expires, at("expires"));
        // `NAME@VERSION` pins the exception to one version; the `@` of an npm scope is not a version.
        let text = e.package.get_ref();
        let (name, version) = match text.rfind('@') {
            Some(i) if i > 0 && !text[..i].ends_with(':') && !text[..i].ends_with('/') => {
                (&text[..i], Some(text[i + 1..].to_string()))
            }
            _ => (text.as_str(), None),
        };
        let package = PackagePattern::parse(name)
            .map_err(|m| {
                self.report(
                    DiagnosticCode::InvalidPackagePattern,
                    Some(e.package.span()),
                    at("package"),
                    m,
                )
            })
            .ok();
        let (expires, expires_at) = expires?;
        if !advisory_ok {
            return None;
        }
        Some(Exception {
            advisory: advisory.to_string(),
            package: package?,
            version: version.filter(|v| !v.is_empty()),
            justification: justification?,
            expires,
            line: self.line(raw),
            expires_at,
        })
    }

    /// The package and exact version an `[[allow]]` names, and the span to blame.
    fn allow_target(&self, index: usize, raw: &Spanned<RawAllow>) -> Option<(String, Range<usize>, String)> {
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
                        self.report(
                            DiagnosticCode::InvalidTarget,
                            Some(p.span()),
                            at("purl"),
                            "name one exact version in the purl (pkg:npm/NAME@VERSION), and no separate `version`",
                        );
                        return None;
                    }
                }
            }
            (None, Some(p)) => match &a.version {
                Some(v) => (p.get_ref().trim().to_string(), p.span(), v.get_ref().trim().to_string()),
                None => {
                    self.report(
                        DiagnosticCode::InvalidTarget,
                        Some(raw.span()),
                        at("version"),
                        "`package` needs an exact `version`",
                    );
                    return None;
                }
            },
            _ => {
                self.report(
                    DiagnosticCode::InvalidTarget,
                    Some(raw.span()),
                    at("purl"),
                    "name the artifact by `purl` (with its version) or by `package` and `version`, one of the two",
                );
                return None;
            }
        };
        if text.contains('*') || version.is_empty() || version.contains(['*', ' ', '<', '>', '=', '^', '~']) {
            self.report(
                DiagnosticCode::InvalidTarget,
                Some(span),
                at("package"),
                "an allow names one exact package and version (no wildcards or ranges)",
            );
            return None;
        }
        Some((text, span, version))
    }

    fn allow(&self, index: usize, raw: &Spanned<RawAllow>) -> Option<Allow> {
        let at = |k: &str| format!("allow[{}].{k}", index + 1);
        let a = raw.get_ref();
        let package = self.allow_target(index, raw).and_then(|(text, span, version)| {
            PackagePattern::parse(&text)
                .map_err(|m| self.report(DiagnosticCode::InvalidPackagePattern, Some(span), at("package"), m))
                .ok()
                .map(|p| (p, version))
        });
        let sha256 = a.sha256.get_ref().trim().to_ascii_lowercase();
        let digest_ok = sha256.len() == 64 && sha256.chars().all(|c| c.is_ascii_hexdigit());
        if !digest_ok {
            self.report(
                DiagnosticCode::InvalidDigest,
                Some(a.sha256.span()),
                at("sha256"),
                "expected the artifact's sha256 as 64 hex digits",
            );
        }
        let reviewer = a.reviewer.get_ref().trim();
        if reviewer.is_empty() {
            self.report(
                DiagnosticCode::MissingReviewer,
                Some(a.reviewer.span()),
                at("reviewer"),
                "name who reviewed the artifact",
            );
        }
        let justification = self.justification(&a.justification, at("justification"), "this artifact");
        let expires = self.expires(&a.expires, at("expires"));
        let (package, version) = package?;
        let (expires, expires_at) = expires?;
        if !digest_ok || reviewer.is_empty() {
            return None;
        }
        Some(Allow {
            package,
            version,
            sha256,
            reviewer: reviewer.to_string(),
            justification: justification?,
            expires,
            line: self.line(raw),
            expires_at,
        })
    }
}

/// Reads and validates a policy file (see [`Policy::load`]).
pub(crate) fn load(path: &Path) -> Result<Policy, PolicyError> {
    let file = path.display().to_string();
    let text = match InputFile::new(path, "policy file", limits::POLICY).read_to_string() {
        Ok(text) => text,
        Err(e) => {
            return Err(PolicyError {
                file: Arc::from(file.as_str()),
                source: Arc::from(""),
                diagnostics: vec![Diagnostic::new(DiagnosticCode::Unreadable, format!("cannot read {e}"))],
            });
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut policy = parse(&text, &file, &dir)?;
    // Decisions name the policy by absolute path (with its digest), so a
    // ledger entry says which file decided wherever ward was started from.
    if let Ok(absolute) = std::path::absolute(path) {
        policy.path = absolute.display().to_string();
    }
    Ok(policy)
}

/// Parses and validates policy text (see [`Policy::parse`]).
pub(crate) fn parse(text: &str, file: &str, dir: &Path) -> Result<Policy, PolicyError> {
    let loader = Loader::new(text, file, dir);
    loader.hasher.borrow_mut().update(text.as_bytes());
    if let Some(at) = too_deep(text, Syntax::Toml, MAX_TOML_NESTING) {
        loader.report(
            DiagnosticCode::TooDeep,
            Some(at..at + 1),
            "",
            format!("brackets nested more than {MAX_TOML_NESTING} deep"),
        );
        return Err(loader.finish(text));
    }
    let Some(raw) = loader.raw(text) else {
        return Err(loader.finish(text));
    };
    if let Some(v) = &raw.version
        && *v.get_ref() != 1
    {
        loader.report(
            DiagnosticCode::UnsupportedVersion,
            Some(v.span()),
            "version",
            format!("policy version {} is not supported (ward reads version 1)", v.get_ref()),
        );
    }
    let d = raw.defaults.as_ref();
    let default_licenses = d
        .and_then(|d| d.licenses.as_ref())
        .map(|l| loader.licenses(l, "defaults.licenses"));
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
        licenses: default_licenses.flatten(),
        cooldown: d
            .and_then(|d| d.cooldown.as_ref())
            .and_then(|c| loader.cooldown(c, "defaults.cooldown")),
    };
    let rebuilders: Vec<crate::rebuild::Rebuilder> = raw
        .rebuilder
        .iter()
        .filter_map(|(i, r)| loader.rebuilder(*i, r))
        .collect();
    let scopes: Vec<Scope> = raw
        .scope
        .iter()
        .filter_map(|(i, s)| loader.scope(*i, s, &defaults, &rebuilders))
        .collect();
    let exceptions: Vec<Exception> = raw
        .exception
        .iter()
        .filter_map(|(i, e)| loader.exception(*i, e))
        .collect();
    let allows: Vec<Allow> = raw.allow.iter().filter_map(|(i, a)| loader.allow(*i, a)).collect();
    let pins: Vec<crate::pin::Pin> = raw.pin.iter().filter_map(|(i, p)| loader.pin(*i, p)).collect();
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
        let Some((path, bytes)) = loader.read_named(v, "vex", "VEX document", limits::POLICY) else {
            continue;
        };
        if let Err(e) = vex.add_document(&bytes, &path.display().to_string()) {
            loader.report(DiagnosticCode::InvalidVex, Some(v.span()), "vex", e.to_string());
        }
    }
    if loader.has_errors() {
        return Err(loader.finish(text));
    }
    let digest = format!("sha256:{}", hex::encode(loader.hasher.take().finalize()));
    Ok(Policy {
        path: file.to_string(),
        digest,
        source: Arc::from(text),
        defaults,
        scopes,
        exceptions,
        allows,
        rebuilders,
        pins,
        remediation,
        vex,
    })
}
