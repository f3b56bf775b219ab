//! What loading a policy found: every error and warning, each with a stable
//! code and labels pointing at byte spans of the file.
//!
//! The loader collects diagnostics in one pass instead of stopping at the
//! first problem; the CLI renders them (source snippet, caret under the
//! key). Line and column are computed once, when a label is made, from the
//! loader's line index; rendering never rescans the text.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// How much a diagnostic matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Level {
    /// Worth knowing; the policy still loads.
    Warning,
    /// The policy does not load.
    Error,
}

macro_rules! diagnostic_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident, $desc:literal; )*) => {
        /// A stable, documented identifier for a policy diagnostic
        /// (`docs/policy.md` lists every one).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum DiagnosticCode {
            $( $(#[$doc])* $variant, )*
        }

        impl DiagnosticCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [DiagnosticCode] = &[$(DiagnosticCode::$variant,)*];

            /// The stable kebab-case code.
            pub fn as_str(self) -> &'static str {
                match self { $(DiagnosticCode::$variant => $code,)* }
            }

            /// Whether the code is an error (the policy does not load) or a warning.
            pub fn severity(self) -> Level {
                match self { $(DiagnosticCode::$variant => Level::$severity,)* }
            }

            /// One sentence: what the code means.
            pub fn description(self) -> &'static str {
                match self { $(DiagnosticCode::$variant => $desc,)* }
            }
        }
    };
}

diagnostic_codes! {
    /// The policy file itself cannot be read.
    Unreadable = "unreadable", Error,
        "The policy file could not be read: missing, not a regular file, over the size limit or not UTF-8.";
    /// TOML syntax.
    TomlSyntax = "toml-syntax", Error,
        "The file is not valid TOML.";
    /// Brackets nested past the limit.
    TooDeep = "too-deep", Error,
        "Brackets nest deeper than ward's schema could need (32 levels).";
    /// A key the schema does not have.
    UnknownKey = "unknown-key", Error,
        "A key ward does not know (often a typo); unknown keys are errors, never ignored.";
    /// A required key is absent.
    MissingKey = "missing-key", Error,
        "A table lacks a key it requires.";
    /// A value of the wrong type, or a word not in the allowed list.
    WrongType = "wrong-type", Error,
        "A value has the wrong type, or is not one of the allowed words.";
    /// `version` other than 1.
    UnsupportedVersion = "unsupported-version", Error,
        "The policy `version` is not one this ward reads (only 1).";
    /// A list that must not be empty.
    EmptyList = "empty-list", Error,
        "A list that needs at least one entry is empty (`packages`, `scanners`).";
    /// A package pattern that does not parse.
    InvalidPackagePattern = "invalid-package-pattern", Error,
        "A package pattern is not `ECOSYSTEM:NAME` (with `*` wildcards) for a known ecosystem.";
    /// A signer entry that is ambiguous or incomplete.
    InvalidSigner = "invalid-signer", Error,
        "A signer needs an issuer and exactly one of `identity` (exact) or `identity_regex`.";
    /// A regular expression that does not compile or would escape ward's anchors.
    InvalidRegex = "invalid-regex", Error,
        "A regular expression does not compile, or would not stay inside ward's `^(?:…)$` anchors.";
    /// A key, Rego or VEX file the policy names cannot be read.
    FileUnreadable = "file-unreadable", Error,
        "A key, Rego or VEX file the policy names could not be read (paths are relative to the policy file).";
    /// A key file that is not a supported public key.
    InvalidKey = "invalid-key", Error,
        "A key file is not a supported PEM public key (Ed25519, ECDSA P-256/P-384, RSA of 2048 bits or more).";
    /// A threshold of 0, or more than the signers and keys listed.
    InvalidThreshold = "invalid-threshold", Error,
        "A `threshold` is 0 or exceeds the number of trusted signers and keys listed.";
    /// A licence identifier or expression that does not parse.
    InvalidLicense = "invalid-license", Error,
        "A licence list holds something that is not an SPDX identifier, or allows and denies the same licence.";
    /// Rego files that do not load.
    InvalidRego = "invalid-rego", Error,
        "A Rego file does not parse, is not UTF-8, or breaks ward's limits (recursion, nesting, parse work).";
    /// A VEX document that does not parse.
    InvalidVex = "invalid-vex", Error,
        "A VEX document the policy names is not valid OpenVEX.";
    /// An exception or allow entry that names its target wrongly.
    InvalidTarget = "invalid-target", Error,
        "An `[[exception]]` or `[[allow]]` does not name one advisory, or one exact package and version, as required.";
    /// A justification too short to say why.
    ShortJustification = "short-justification", Error,
        "A `justification` is shorter than 10 characters; write why the finding or artifact is acceptable.";
    /// A reviewer that is empty.
    MissingReviewer = "missing-reviewer", Error,
        "An `[[allow]]` has an empty `reviewer`.";
    /// slsa-verifier's provenance keys used wrongly.
    InvalidSlsaRule = "invalid-slsa-rule", Error,
        "A `provenance` table's slsa-verifier keys are wrong: `source_uri` is not a github.com repository, `source_tag`, `source_branch`, `source_versioned_tag` or `builder_id` is given without `source_uri`, both `source_tag` and `source_versioned_tag` are given, the versioned tag is not a semantic version (`v1`, `v1.2`, `v1.2.3`), or the builder id is malformed.";
    /// A `[[pin]]` version requirement that its ecosystem's syntax does not read.
    InvalidVersionRequirement = "invalid-version-requirement", Error,
        "A `[[pin]]` `versions` requirement does not parse in the package's ecosystem's syntax (npm ranges, PEP 440 specifiers, cargo requirements; one exact version elsewhere).";
    /// A digest that is not 64 hex digits.
    InvalidDigest = "invalid-digest", Error,
        "An `[[allow]]` `sha256` is not 64 hex digits.";
    /// An `expires` that is not a date.
    InvalidDate = "invalid-date", Error,
        "An `expires` is not a date like 2027-01-31.";
    /// A duration without a unit, negative, vague or absurd.
    InvalidDuration = "invalid-duration", Error,
        "A duration (`cooldown.min_age`) is not a number with a unit (`30m`, `72h`, `3d`, `2w`): a bare number, a negative duration, months or years, or more than ten years.";
    /// A `history.window` out of range.
    InvalidWindow = "invalid-window", Error,
        "A `history.window` is not between 1 and 50 releases.";
    /// A setting ward documents but does not implement yet.
    NotSupported = "not-supported", Error,
        "A setting this ward does not implement yet is turned on (`cooldown.allow_security_fixes = true`); remove it rather than rely on it.";
    /// An exception past its `expires`.
    ExceptionExpired = "exception-expired", Warning,
        "An exception's `expires` date has passed: it no longer silences anything.";
    /// An exception that expires within the warning window.
    ExceptionExpiring = "exception-expiring", Warning,
        "An exception expires within 14 days; renew it or fix the finding.";
    /// An allow past its `expires`.
    AllowExpired = "allow-expired", Warning,
        "An `[[allow]]` entry's `expires` date has passed: the artifact is denied again.";
    /// An allow that expires within the warning window.
    AllowExpiring = "allow-expiring", Warning,
        "An `[[allow]]` entry expires within 14 days; review the artifact again or replace it.";
}

impl fmt::Display for DiagnosticCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in a file: a byte span, with its 1-based line and column
/// (columns count bytes) computed when the label was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The file, as named to the loader.
    pub file: Arc<str>,
    /// Byte range in the file.
    pub span: Range<usize>,
    /// 1-based line of the span's start.
    pub line: usize,
    /// 1-based column (in bytes) of the span's start.
    pub column: usize,
    /// What is here: the key path (`scope[2].provenance.source`), or empty.
    pub message: String,
}

/// One error or warning about a policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: DiagnosticCode,
    /// Error or warning.
    pub severity: Level,
    /// What is wrong, in one line.
    pub message: String,
    /// Where: the first label is the primary one. Empty when the problem
    /// has no place in the file (the file cannot be read).
    pub labels: Vec<Label>,
    /// Further lines: what was expected, what to do.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's severity and no labels yet.
    pub fn new(code: DiagnosticCode, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: code.severity(),
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The primary label, if the diagnostic has a place.
    pub fn primary(&self) -> Option<&Label> {
        self.labels.first()
    }

    /// The primary label's line.
    pub fn line(&self) -> Option<usize> {
        self.primary().map(|l| l.line)
    }

    /// The primary label's column.
    pub fn column(&self) -> Option<usize> {
        self.primary().map(|l| l.column)
    }

    /// The key path the primary label names, if any.
    pub fn key(&self) -> Option<&str> {
        self.primary().map(|l| l.message.as_str()).filter(|k| !k.is_empty())
    }

    /// Whether it stops the policy from loading.
    pub fn is_error(&self) -> bool {
        self.severity == Level::Error
    }
}

/// The one-line form: `FILE:LINE:COLUMN: KEY: message [code]`.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = self.primary() {
            write!(f, "{}:{}:{}: ", l.file, l.line, l.column)?;
            if !l.message.is_empty() {
                write!(f, "{}: ", l.message)?;
            }
        }
        write!(f, "{} [{}]", self.message, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let doc = include_str!("../../../docs/policy.md");
        let mut seen = HashSet::new();
        for c in DiagnosticCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "duplicate {s}");
            assert!(
                s.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{s} is not kebab-case"
            );
            let row = format!(
                "| `{s}` | {} |",
                if c.severity() == Level::Error {
                    "error"
                } else {
                    "warning"
                }
            );
            assert!(doc.contains(&row), "docs/policy.md has no row starting {row:?}");
        }
    }
}
