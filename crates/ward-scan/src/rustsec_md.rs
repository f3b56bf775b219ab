//! RustSec advisories: TOML front matter in Markdown, as kept in
//! github.com/rustsec/advisory-db (`crates/<crate>/RUSTSEC-*.md`), read
//! with the `rustsec` crate's own parser (the one `cargo audit` uses), with
//! its default features off, so that it brings no git or network code.
//!
//! Checked against the shared test data (the whole advisory database, 1,205
//! advisories): the crate reads every file, and reads each the same as
//! ward's earlier hand-written reader on every field ward keeps (id,
//! package, aliases, title, date, CVSS score, informational, withdrawn,
//! the `malicious` category, patched and unaffected requirements). The
//! crate is stricter than that reader was: a file it refuses (a missing
//! required field, an unknown key) is reported as malformed, never skipped.
//!
//! Version requirements are kept in the crate's canonical form
//! (`>=1.2.3`, as `semver` writes them), which matches the same versions
//! as the text they were parsed from.

use crate::advisory::{Advisory, AffectedPackage, Matcher, Rating, rate_vector};
use ward_core::Ecosystem;

/// Reads one RustSec advisory; the flag says whether it is withdrawn.
pub(crate) fn read(text: &str) -> Result<(Advisory, bool), String> {
    let parsed: rustsec::Advisory = text.parse().map_err(|e: rustsec::Error| e.to_string())?;
    let title = parsed.title().trim().to_string();
    let m = parsed.metadata;
    let rating = match (
        m.cvss.as_ref().and_then(|c| rate_vector(&c.to_string())),
        m.informational.is_some(),
    ) {
        (Some(r), _) => r,
        (None, true) => Rating::informational(),
        (None, false) => Rating::unrated(),
    };
    let reqs = |list: &[semver::VersionReq]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
    let malicious = m.categories.iter().any(|c| c.to_string() == "malicious");
    let advisory = Advisory {
        id: m.id.to_string(),
        aliases: m.aliases.iter().map(ToString::to_string).collect(),
        summary: title,
        modified: Some(format!("{}T00:00:00Z", m.date)),
        rating,
        affected: vec![AffectedPackage {
            ecosystem: Ecosystem::Cargo,
            name: crate::advisory::normalize_name(Ecosystem::Cargo, m.package.as_str()),
            matcher: Matcher::Rustsec {
                patched: reqs(parsed.versions.patched()),
                unaffected: reqs(parsed.versions.unaffected()),
            },
        }],
        malicious: malicious.then(|| crate::malicious::Malicious {
            advice: crate::malicious::DEFAULT_ADVICE.to_string(),
            suspect: None,
            indicators: Vec::new(),
        }),
    };
    Ok((advisory, m.withdrawn.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALLVEC: &str = r#"```toml
[advisory]
id = "RUSTSEC-2021-0003"
package = "smallvec"
date = "2021-01-08"
url = "https://github.com/servo/rust-smallvec/issues/252"
categories = ["memory-corruption"]
keywords = ["buffer-overflow", "heap-overflow", "unsound"]
aliases = ["CVE-2021-25900", "GHSA-43w2-9j62-hq99"]
cvss = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"

[versions]
patched = [">= 0.6.14, < 1.0.0", ">= 1.6.1"]
unaffected = ["< 0.6.10"]
```

# Buffer overflow in SmallVec::insert_many

A bug in the SmallVec::insert_many method caused it to allocate a buffer that was smaller than needed.
"#;

    #[test]
    fn reads_what_matching_needs() {
        let (a, withdrawn) = read(SMALLVEC).unwrap();
        assert!(!withdrawn);
        assert_eq!(a.id, "RUSTSEC-2021-0003");
        assert_eq!(a.aliases, ["CVE-2021-25900", "GHSA-43w2-9j62-hq99"]);
        assert_eq!(a.summary, "Buffer overflow in SmallVec::insert_many");
        assert_eq!(a.modified.as_deref(), Some("2021-01-08T00:00:00Z"));
        assert_eq!(a.rating.score, Some(9.8));
        assert!(a.malicious.is_none());
        let p = &a.affected[0];
        assert_eq!(p.name, "smallvec");
        assert!(p.matches("1.6.0").unwrap());
        assert!(!p.matches("1.6.1").unwrap());
        assert!(!p.matches("0.6.9").unwrap());
        assert_eq!(p.fixed_versions(), [">=0.6.14, <1.0.0", ">=1.6.1"]);
    }

    #[test]
    fn a_malicious_crate_is_marked_and_broken_front_matter_is_an_error() {
        let evil = SMALLVEC.replace("[\"memory-corruption\"]", "[\"malicious\"]");
        assert!(read(&evil).unwrap().0.malicious.is_some());
        assert!(read("```toml\n[advisory\n```\n# x\n").is_err());
        assert!(read("# not an advisory\n").is_err());
        // No id: refused, not read as an advisory about nothing.
        assert!(read(&SMALLVEC.replace("id = \"RUSTSEC-2021-0003\"\n", "")).is_err());
    }
}
