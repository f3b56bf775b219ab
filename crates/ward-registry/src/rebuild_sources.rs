//! Rebuild attestations fetched from the rebuilder sources the operator
//! configured: a template per source, filled in with the artifact's
//! ecosystem, name, version and file name, such as OSS Rebuild's public
//! bucket
//! `https://storage.googleapis.com/google-rebuild-attestations/{ecosystem}/{name}/{version}/{file}/rebuild.intoto.jsonl`,
//! or a directory laid out the same way.
//!
//! `{ecosystem}` is OSS Rebuild's name for it: `npm`, `pypi`, `cratesio`.
//! A source that has nothing for an artifact (most packages are never
//! rebuilt) or cannot be reached adds no evidence: whether that matters is
//! the policy's `rebuild.required` (`rebuild-missing`), never a failed fetch.

use crate::upstream::Source;
use std::path::PathBuf;
use ward_core::{Ecosystem, PackageId};

/// One configured source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RebuildSource {
    template: String,
}

/// The placeholders a template may use.
const PLACEHOLDERS: &[&str] = &["{ecosystem}", "{name}", "{version}", "{file}"];

impl RebuildSource {
    /// Reads a template: an `http(s)://` URL or an absolute path, naming at
    /// least `{name}` and `{version}` (or `{file}`), and no other `{…}`.
    pub fn parse(template: &str) -> Result<Self, String> {
        let is_url = template.starts_with("https://") || template.starts_with("http://");
        if !is_url && !std::path::Path::new(template).is_absolute() {
            return Err(format!(
                "rebuild source {template:?} is neither an http(s) URL nor an absolute path"
            ));
        }
        let mut rest = template.to_string();
        for p in PLACEHOLDERS {
            rest = rest.replace(p, "");
        }
        if rest.contains('{') || rest.contains('}') {
            return Err(format!(
                "rebuild source {template:?} has a placeholder other than {}",
                PLACEHOLDERS.join(", ")
            ));
        }
        let names_release =
            template.contains("{file}") || (template.contains("{name}") && template.contains("{version}"));
        if !names_release {
            return Err(format!(
                "rebuild source {template:?} does not name the release: use {{file}}, or {{name}} and {{version}}"
            ));
        }
        Ok(Self {
            template: template.to_string(),
        })
    }

    /// Where this source keeps the attestation for one artifact; `None` for
    /// an ecosystem OSS Rebuild does not rebuild, a package without a
    /// version, or a name that would leave the template's path.
    pub fn for_artifact(&self, id: &PackageId, file: &str) -> Option<Source> {
        let ecosystem = match id.ecosystem {
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Cargo => "cratesio",
            _ => return None,
        };
        let name = id.full_name();
        let version = id.version.as_deref()?;
        // A name, version or file that climbs out of the template's path is refused.
        let safe = |s: &str| {
            !s.is_empty() && !s.split('/').any(|p| p == ".." || p == ".") && !s.contains(['\\', '?', '#', '%'])
        };
        if !safe(&name) || !safe(version) || !safe(file) || file.contains('/') {
            return None;
        }
        let filled = self
            .template
            .replace("{ecosystem}", ecosystem)
            .replace("{name}", &name)
            .replace("{version}", version)
            .replace("{file}", file);
        Some(if filled.starts_with("http://") || filled.starts_with("https://") {
            Source::Url(filled)
        } else {
            Source::File(PathBuf::from(filled))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oss_rebuild_bucket_paths() {
        let s = RebuildSource::parse(
            "https://storage.googleapis.com/google-rebuild-attestations/{ecosystem}/{name}/{version}/{file}/rebuild.intoto.jsonl",
        )
        .unwrap();
        let id = PackageId::npm("chalk", Some("5.6.0".into()));
        assert_eq!(
            s.for_artifact(&id, "chalk-5.6.0.tgz"),
            Some(Source::Url(
                "https://storage.googleapis.com/google-rebuild-attestations/npm/chalk/5.6.0/chalk-5.6.0.tgz/rebuild.intoto.jsonl"
                    .into()
            ))
        );
        let krate = PackageId::new(Ecosystem::Cargo, None, "serde", Some("1.0.0".into()));
        assert!(
            matches!(s.for_artifact(&krate, "serde-1.0.0.crate"), Some(Source::Url(u)) if u.contains("/cratesio/serde/"))
        );
        assert_eq!(s.for_artifact(&PackageId::npm("chalk", None), "chalk.tgz"), None);
        assert_eq!(s.for_artifact(&id, "../x"), None);
        // Percent-encoded dots are dots to the URL parser.
        let dotted = PackageId::npm("chalk", Some("%2e%2e".into()));
        assert_eq!(s.for_artifact(&dotted, "chalk.tgz"), None);
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!(RebuildSource::parse("relative/{name}/{version}").is_err());
        assert!(RebuildSource::parse("https://x/{package}/{version}").is_err());
        assert!(RebuildSource::parse("https://x/static.jsonl").is_err());
        assert!(RebuildSource::parse("/srv/rebuilds/{ecosystem}/{name}/{version}/{file}/rebuild.intoto.jsonl").is_ok());
    }
}
