//! `[[pin]]`: a package held to the versions a requirement allows; any
//! other version is denied with `version-not-pinned`.
//!
//! The requirement is written in the package's own ecosystem's syntax and
//! read by that ecosystem's parser: npm ranges by `nodejs-semver` (npm's
//! node-semver rules: `=4.17.21`, `^4.17`, `>=1.2 <2 || 3.x`), PyPI
//! specifiers by `pep440_rs` (`==2.31.0`, `>=2,<3`, `~=1.4`), cargo
//! requirements by `semver` (Cargo's rules: `=1.0.3`, `1.0` meaning `^1.0`).
//! Go, Maven and generic packages have no range syntax ward reads: their
//! pins name one exact version (`=V` or `V`). A requirement that does not
//! parse is a load error (`invalid-version-requirement`) at its line.
//!
//! An unexpired `[[allow]]` naming the package, the version and the
//! artifact's sha256 lets that one artifact past a pin, as it does past a
//! malicious-package record; the decision records it (`allowed-by-review`).

use crate::diagnostic::DiagnosticCode;
use crate::load::Loader;
use crate::pattern::PackagePattern;
use serde::Deserialize;
use std::str::FromStr;
use toml::Spanned;
use ward_core::{Artifact, Ecosystem, Reason, ReasonCode};

/// `[[pin]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPin {
    pub package: Spanned<String>,
    pub versions: Spanned<String>,
}

/// A parsed version requirement, in its ecosystem's syntax.
#[derive(Clone, Debug)]
pub enum VersionRequirement {
    /// npm (node-semver ranges).
    Npm(nodejs_semver::Range),
    /// PyPI (PEP 440 specifiers).
    Pypi(pep440_rs::VersionSpecifiers),
    /// cargo (Cargo's `VersionReq`).
    Cargo(semver::VersionReq),
    /// One exact version (Go, Maven, generic).
    Exact(String),
}

impl VersionRequirement {
    /// Parses `text` in the syntax of `ecosystem`.
    pub fn parse(ecosystem: Ecosystem, text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty version requirement".into());
        }
        match ecosystem {
            Ecosystem::Npm => nodejs_semver::Range::parse(text)
                .map(Self::Npm)
                .map_err(|e| format!("not an npm version range: {e}")),
            Ecosystem::Pypi => pep440_rs::VersionSpecifiers::from_str(text)
                .map(Self::Pypi)
                .map_err(|e| format!("not a PEP 440 version specifier: {e}")),
            Ecosystem::Cargo => semver::VersionReq::parse(text)
                .map(Self::Cargo)
                .map_err(|e| format!("not a cargo version requirement: {e}")),
            Ecosystem::Golang | Ecosystem::Maven | Ecosystem::Generic => {
                let exact = text.strip_prefix('=').unwrap_or(text).trim();
                if exact.is_empty() || exact.contains([' ', ',', '<', '>', '=', '^', '~', '*', '[', '(', '|']) {
                    Err(format!(
                        "{} pins name one exact version (`=1.2.3`): ward reads no range syntax for them",
                        ecosystem.purl_type()
                    ))
                } else {
                    Ok(Self::Exact(exact.to_string()))
                }
            }
        }
    }

    /// Whether `version` satisfies the requirement; `Err` when the version
    /// itself cannot be read in the ecosystem's syntax.
    pub fn allows(&self, version: &str) -> Result<bool, String> {
        match self {
            Self::Npm(range) => nodejs_semver::Version::parse(version)
                .map(|v| range.satisfies(&v))
                .map_err(|e| e.to_string()),
            Self::Pypi(specifiers) => pep440_rs::Version::from_str(version)
                .map(|v| specifiers.contains(&v))
                .map_err(|e| e.to_string()),
            Self::Cargo(req) => semver::Version::parse(version)
                .map(|v| req.matches(&v))
                .map_err(|e| e.to_string()),
            Self::Exact(exact) => Ok(exact == version),
        }
    }
}

/// One `[[pin]]`.
#[derive(Clone, Debug)]
pub struct Pin {
    /// The packages it holds (one ecosystem).
    pub package: PackagePattern,
    /// The versions allowed.
    pub versions: VersionRequirement,
    /// The requirement as written.
    pub text: String,
    /// Where it was written.
    pub line: usize,
}

impl Loader {
    /// One `[[pin]]` entry; problems are reported, not returned.
    pub(crate) fn pin(&self, index: usize, raw: &Spanned<RawPin>) -> Option<Pin> {
        let at = |k: &str| format!("pin[{}].{k}", index + 1);
        let p = raw.get_ref();
        let package = match PackagePattern::parse(p.package.get_ref().trim()) {
            Ok(pattern) if pattern.ecosystem.is_some() => pattern,
            Ok(_) => {
                self.report(
                    DiagnosticCode::InvalidPackagePattern,
                    Some(p.package.span()),
                    at("package"),
                    "a pin names its ecosystem (`npm:lodash`): the version syntax depends on it",
                );
                return None;
            }
            Err(e) => {
                self.report(
                    DiagnosticCode::InvalidPackagePattern,
                    Some(p.package.span()),
                    at("package"),
                    e,
                );
                return None;
            }
        };
        let ecosystem = package.ecosystem?;
        match VersionRequirement::parse(ecosystem, p.versions.get_ref()) {
            Ok(versions) => Some(Pin {
                package,
                versions,
                text: p.versions.get_ref().trim().to_string(),
                line: self.line(raw),
            }),
            Err(e) => {
                self.report(
                    DiagnosticCode::InvalidVersionRequirement,
                    Some(p.versions.span()),
                    at("versions"),
                    format!("{:?}: {e}", p.versions.get_ref()),
                );
                None
            }
        }
    }
}

impl crate::model::Policy {
    /// The pins the artifact breaks, each as a reason: `version-not-pinned`
    /// (to be filed under the artifact's mode), or `allowed-by-review` when
    /// an unexpired `[[allow]]` names this exact artifact (an audit record).
    pub(crate) fn pin_reasons(&self, artifact: &Artifact, today: jiff::civil::Date) -> Vec<(bool, Reason)> {
        let id = &artifact.id;
        let sha256 = hex::encode(artifact.digests.sha256.0);
        let mut out = Vec::new();
        for pin in self.pins.iter().filter(|p| p.package.matches(id)) {
            let at = format!("{}:{}", self.path, pin.line);
            let broken = match id.version.as_deref() {
                None => Some(format!(
                    "{id} has no version, and the pin at {at} allows only {}",
                    pin.text
                )),
                Some(v) => match pin.versions.allows(v) {
                    Ok(true) => None,
                    Ok(false) => Some(format!(
                        "{} {v} is not a pinned version: the pin at {at} allows only {}",
                        id.full_name(),
                        pin.text
                    )),
                    Err(e) => Some(format!(
                        "{} version {v:?} cannot be read in its ecosystem's syntax ({e}), and the pin at {at} allows only {}",
                        id.full_name(),
                        pin.text
                    )),
                },
            };
            let Some(message) = broken else { continue };
            let reason = Reason::new(ReasonCode::VersionNotPinned, message.clone()).at(self.location(pin.line));
            let allow = self
                .allows
                .iter()
                .find(|a| a.names(id) && a.sha256 == sha256 && today <= a.expires);
            match allow {
                Some(a) => out.push((
                    true,
                    Reason::new(
                        ReasonCode::AllowedByReview,
                        format!(
                            "{message}; allowed for sha256 {} by the [[allow]] at {}:{} (until {}), reviewed by {}: {}",
                            a.sha256, self.path, a.line, a.expires, a.reviewer, a.justification
                        ),
                    ),
                )),
                None => out.push((false, reason)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(eco: Ecosystem, req: &str, v: &str) -> bool {
        VersionRequirement::parse(eco, req).unwrap().allows(v).unwrap()
    }

    #[test]
    fn requirements_follow_each_ecosystems_own_syntax() {
        // npm: node-semver.
        assert!(allows(Ecosystem::Npm, "=4.17.21", "4.17.21"));
        assert!(!allows(Ecosystem::Npm, "=4.17.21", "4.17.20"));
        assert!(allows(Ecosystem::Npm, "^4.17.0", "4.17.21"));
        assert!(!allows(Ecosystem::Npm, "^4.17.0", "5.0.0"));
        assert!(allows(Ecosystem::Npm, "1.x || >=2.5.0 <3", "2.6.1"));
        assert!(!allows(Ecosystem::Npm, "~1.2.3", "1.3.0"));
        // PyPI: PEP 440 (normalised versions compare equal).
        assert!(allows(Ecosystem::Pypi, "==2.31.0", "2.31"));
        assert!(allows(Ecosystem::Pypi, ">=2,<3", "2.32.3"));
        assert!(!allows(Ecosystem::Pypi, "~=1.4.2", "1.5.0"));
        // cargo: a bare version is a caret requirement.
        assert!(allows(Ecosystem::Cargo, "1.0", "1.9.2"));
        assert!(!allows(Ecosystem::Cargo, "=1.0.3", "1.0.4"));
        // Others: exact only.
        assert!(allows(Ecosystem::Maven, "=1.2.3", "1.2.3"));
        assert!(!allows(Ecosystem::Golang, "v1.2.3", "v1.2.4"));
    }

    fn artifact(purl: &str, bytes: &[u8]) -> Artifact {
        Artifact {
            id: purl.parse().unwrap(),
            kind: ward_core::ArtifactKind::NpmTarball,
            file_name: "x.tgz".into(),
            size: 1,
            digests: ward_core::Digests::of(bytes),
            license: None,
        }
    }

    fn decide(policy: &crate::Policy, a: &Artifact) -> ward_core::Decision {
        let now: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        policy.decide(&crate::DecisionInput {
            artifact: a,
            checks: &[],
            now,
            scan: None,
            notes: &[],
            fail_on: None,
            keyless_checked: false,
            risky: None,
            release: None,
        })
    }

    fn all(d: &ward_core::Decision) -> impl Iterator<Item = &Reason> {
        d.reasons.iter().chain(&d.warnings).chain(&d.audit)
    }

    const POLICY: &str = "[defaults]\nunmatched = \"deny\"\n\n[[scope]]\npackages = [\"npm:*\"]\nmode = \"audit\"\n\n[[scope]]\npackages = [\"npm:lodash\"]\n\n[[pin]]\npackage = \"npm:lodash\"\nversions = \"=4.17.21\"\n";

    #[test]
    fn another_version_of_a_pinned_package_is_denied_with_the_pin_line() {
        let policy = crate::Policy::parse(POLICY, "ward.toml", std::path::Path::new(".")).unwrap();
        let d = decide(&policy, &artifact("pkg:npm/lodash@4.17.20", b"old"));
        let pinned: Vec<_> = d
            .reasons
            .iter()
            .filter(|r| r.code == ReasonCode::VersionNotPinned)
            .collect();
        assert_eq!(pinned.len(), 1, "{d:?}");
        assert!(pinned[0].message.contains("ward.toml:11"), "{}", pinned[0].message);
        assert!(pinned[0].message.contains("=4.17.21"), "{}", pinned[0].message);
        // The pinned version passes the pin (other rules are not this test's business).
        let d = decide(&policy, &artifact("pkg:npm/lodash@4.17.21", b"good"));
        assert!(all(&d).all(|r| r.code != ReasonCode::VersionNotPinned), "{d:?}");
        // Other packages are not pinned.
        let d = decide(&policy, &artifact("pkg:npm/chalk@5.0.0", b"c"));
        assert!(all(&d).all(|r| r.code != ReasonCode::VersionNotPinned), "{d:?}");
    }

    #[test]
    fn an_allow_of_the_exact_digest_lets_one_artifact_past_a_pin() {
        let a = artifact("pkg:npm/lodash@4.17.20", b"reviewed");
        let sha = hex::encode(a.digests.sha256.0);
        let text = format!(
            "{POLICY}\n[[allow]]\npackage = \"npm:lodash\"\nversion = \"4.17.20\"\nsha256 = \"{sha}\"\nreviewer = \"alice@example.com\"\njustification = \"needed for the legacy build until March\"\nexpires = \"2027-03-01\"\n"
        );
        let policy = crate::Policy::parse(&text, "ward.toml", std::path::Path::new(".")).unwrap();
        let d = decide(&policy, &a);
        assert!(
            d.reasons.iter().all(|r| r.code != ReasonCode::VersionNotPinned),
            "{d:?}"
        );
        assert!(
            d.audit
                .iter()
                .any(|r| r.code == ReasonCode::AllowedByReview && r.message.contains("alice@example.com")),
            "{d:?}"
        );
        // Another artifact of the same version (other bytes) is still denied.
        let d = decide(&policy, &artifact("pkg:npm/lodash@4.17.20", b"swapped"));
        assert!(
            d.reasons.iter().any(|r| r.code == ReasonCode::VersionNotPinned),
            "{d:?}"
        );
    }

    #[test]
    fn a_bad_requirement_is_a_load_error_at_its_line() {
        let text = "[[pin]]\npackage = \"pypi:requests\"\nversions = \"=>2\"\n";
        let e = crate::Policy::parse(text, "ward.toml", std::path::Path::new(".")).unwrap_err();
        let d = &e.diagnostics[0];
        assert_eq!(d.code, crate::DiagnosticCode::InvalidVersionRequirement);
        assert_eq!(d.primary().map(|l| l.line), Some(3));
        let text = "[[pin]]\npackage = \"*\"\nversions = \"1\"\n";
        assert!(crate::Policy::parse(text, "ward.toml", std::path::Path::new(".")).is_err());
    }

    #[test]
    fn bad_requirements_are_refused() {
        assert!(VersionRequirement::parse(Ecosystem::Npm, "not a range!").is_err());
        assert!(VersionRequirement::parse(Ecosystem::Pypi, "=>2").is_err());
        assert!(VersionRequirement::parse(Ecosystem::Cargo, ">=1,,").is_err());
        assert!(VersionRequirement::parse(Ecosystem::Maven, "[1.0,2.0)").is_err());
        assert!(VersionRequirement::parse(Ecosystem::Npm, "  ").is_err());
    }
}
