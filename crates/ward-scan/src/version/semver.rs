//! SemVer 2.0 precedence as OSV's `SEMVER` ranges use it.
//!
//! Written here because the `semver` crate is strict and OSV data is not:
//! it has `v` prefixes (Go), missing minor or patch components, numbers
//! beyond 64 bits, and components after the third (read as build metadata).
//! Numbers compare by value as digit strings; pre-release identifiers
//! compare numerically when both are numeric, else as ASCII; build metadata
//! is ignored.

use std::cmp::Ordering;

/// A SemVer version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemverVersion {
    core: [String; 3],
    pre: Vec<String>,
}

fn numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Compares digit strings by value, whatever their length.
fn cmp_digits(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl SemverVersion {
    /// Parses leniently: `v1.2.3-pre+build`, `1.2`, `1`.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let t = t.split_once('+').map_or(t, |(a, _)| a);
        let (core, pre) = match t.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (t, None),
        };
        let mut parts = core.split('.');
        let mut out: [String; 3] = Default::default();
        for slot in out.iter_mut() {
            match parts.next() {
                Some(p) if numeric(p) => *slot = p.to_string(),
                Some(_) => return None,
                None => *slot = "0".into(),
            }
        }
        // Components after the third are build metadata in this reading.
        let pre = match pre {
            Some("") => return None,
            Some(p) => p.split('.').map(str::to_string).collect(),
            None => Vec::new(),
        };
        Some(Self { core: out, pre })
    }
}

impl Ord for SemverVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.core.iter().zip(&other.core) {
            let c = cmp_digits(a, b);
            if c != Ordering::Equal {
                return c;
            }
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ => {}
        }
        for (a, b) in self.pre.iter().zip(&other.pre) {
            let c = match (numeric(a), numeric(b)) {
                (true, true) => cmp_digits(a, b),
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                (false, false) => a.as_str().cmp(b.as_str()),
            };
            if c != Ordering::Equal {
                return c;
            }
        }
        self.pre.len().cmp(&other.pre.len())
    }
}

impl PartialOrd for SemverVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
