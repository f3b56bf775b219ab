//! Package patterns: `npm:@acme/*`, `pypi:acme-*`, `crates:*`, `*`.
//!
//! `*` matches any run of characters (including `/`); nothing else is
//! special. Names compare in their ecosystem's normal form (PEP 503 for
//! PyPI, lower case for npm and crates). Hand-written: a full glob crate
//! would add syntax nobody needs here.

use ward_core::{Ecosystem, PackageId, purl::normalize_pypi_name};

/// Whole-string regular expressions (`identity_regex`, `provenance.source`,
/// `provenance.ref`): the pattern must be a regular expression on its own
/// before ward wraps it in `^(?:…)$`, so it cannot close ward's group and
/// escape the anchors (see [`ward_verify::anchored_regex`]).
pub(crate) use ward_verify::anchored_regex;

/// One package pattern of a scope.
#[derive(Clone, Debug)]
pub struct PackagePattern {
    /// `None` matches every ecosystem.
    pub ecosystem: Option<Ecosystem>,
    /// The name glob, normalised.
    pub name: String,
    /// The text as written.
    pub text: String,
}

impl PackagePattern {
    /// Parses `ECOSYSTEM:NAME-GLOB`, `pkg:TYPE/NAME-GLOB` or `*`.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "*" {
            return Ok(Self {
                ecosystem: None,
                name: "*".into(),
                text: text.into(),
            });
        }
        let (eco, name) = if let Some(rest) = text.strip_prefix("pkg:") {
            rest.split_once('/')
                .ok_or_else(|| format!("{text:?}: expected pkg:TYPE/NAME"))?
        } else {
            text.split_once(':')
                .ok_or_else(|| format!("{text:?}: expected ECOSYSTEM:NAME, e.g. npm:@acme/*"))?
        };
        let ecosystem = match eco {
            "npm" => Ecosystem::Npm,
            "pypi" => Ecosystem::Pypi,
            "crates" | "cargo" => Ecosystem::Cargo,
            "go" | "golang" => Ecosystem::Golang,
            "maven" => Ecosystem::Maven,
            "generic" => Ecosystem::Generic,
            other => {
                return Err(format!(
                    "unknown ecosystem {other:?} (npm, pypi, crates, go, maven, generic)"
                ));
            }
        };
        let name = name.replace("%40", "@");
        if name.is_empty() {
            return Err(format!("{text:?}: empty package name"));
        }
        Ok(Self {
            ecosystem: Some(ecosystem),
            name: normalize(ecosystem, &name),
            text: text.into(),
        })
    }

    /// Whether the package matches.
    pub fn matches(&self, id: &PackageId) -> bool {
        if self.ecosystem.is_some_and(|e| e != id.ecosystem) {
            return false;
        }
        glob(&self.name, &normalize(id.ecosystem, &id.full_name()))
    }
}

fn normalize(ecosystem: Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::Pypi => name.split('*').map(normalize_pypi_name).collect::<Vec<_>>().join("*"),
        Ecosystem::Npm | Ecosystem::Cargo => name.to_ascii_lowercase(),
        _ => name.to_string(),
    }
}

/// `*`-only glob matching, iterative (no backtracking blow-up).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_by_ecosystem_and_normal_name() {
        let p = PackagePattern::parse("npm:@acme/*").unwrap();
        assert!(p.matches(&PackageId::npm("@acme/left-pad", None)));
        assert!(!p.matches(&PackageId::npm("@evil/left-pad", None)));
        assert!(!p.matches(&PackageId::new(Ecosystem::Pypi, None, "@acme/x", None)));
        let p = PackagePattern::parse("pypi:Acme_*").unwrap();
        assert!(p.matches(&PackageId::new(Ecosystem::Pypi, None, "acme.tools", None)));
        assert!(
            PackagePattern::parse("*")
                .unwrap()
                .matches(&PackageId::new(Ecosystem::Cargo, None, "serde", None))
        );
        assert!(PackagePattern::parse("crates:serde").unwrap().matches(&PackageId::new(
            Ecosystem::Cargo,
            None,
            "Serde",
            None
        )));
        assert!(PackagePattern::parse("nuget:x").is_err());
        assert!(PackagePattern::parse("left-pad").is_err());
        assert!(glob("a*b*c", "axxbyyc") && !glob("a*b*c", "axxbyy") && glob("**", ""));
    }

    /// Issue 10, finding 4.
    #[test]
    fn anchored_patterns_cannot_escape() {
        assert!(anchored_regex(r"https://github\.com/acme/release)|(.*").is_err());
        let re = anchored_regex(r"refs/tags/v.*").unwrap();
        assert!(re.is_match("refs/tags/v1") && !re.is_match("refs/heads/main"));
        assert!(!re.is_match("x/refs/tags/v1"));
    }
}
