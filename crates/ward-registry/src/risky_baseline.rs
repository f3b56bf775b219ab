//! What the npm packument says each version did at install: its manifest's
//! `preinstall`/`install`/`postinstall` scripts, `gypfile` and dependencies,
//! handed to the gate as the baseline of the risky-change rules when ward
//! has allowed no earlier release of the package itself.
//!
//! A published version's manifest cannot be changed afterwards, so an
//! attacker publishing a new version cannot rewrite what the earlier ones
//! say. npm adds `scripts.install = "node-gyp rebuild"` and `gypfile: true`
//! to the manifest of a package that ships a `binding.gyp` without an install
//! script; that pair is read back as the `binding.gyp` it stands for, so it
//! compares with what ward reads from the tarball. Fields that are not the
//! types npm writes hold nothing, as npm itself reads them.

use serde_json::Value;
use ward_core::ArchiveTraits;
use ward_gate::risky::RegistryBaseline;

/// One version's manifest, as the gate compares it: read as ward reads a
/// tarball's `package.json` ([`ward_identify::npm_manifest`]), with npm's
/// `gypfile` addition turned back into the `binding.gyp` it stands for.
fn manifest_traits(manifest: &Value) -> ArchiveTraits {
    let mut traits = ArchiveTraits::default();
    ward_identify::npm_manifest(manifest, &mut traits);
    if manifest.get("gypfile").and_then(Value::as_bool) == Some(true) {
        traits.binding_gyp = true;
        if traits.install_scripts.get("install").map(String::as_str) == Some("node-gyp rebuild") {
            traits.install_scripts.remove("install");
        }
    }
    traits
}

/// The baseline of every version a packument lists.
pub fn npm(doc: &Value) -> RegistryBaseline {
    let versions = doc
        .get("versions")
        .and_then(Value::as_object)
        .map(|versions| {
            versions
                .iter()
                .map(|(version, manifest)| (version.clone(), manifest_traits(manifest)))
                .collect()
        })
        .unwrap_or_default();
    RegistryBaseline::new("the npm packument", ward_core::Ecosystem::Npm, versions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn scripts_gypfile_and_dependencies_are_read_as_the_tarball_would_show_them() {
        let doc = serde_json::json!({"versions": {
            "1.0.0": {"scripts": {"test": "x", "postinstall": "node a.js"}, "dependencies": {"ms": "^2.1.3"}},
            "1.0.1": {"scripts": {"install": "node-gyp rebuild"}, "gypfile": true},
            "1.0.2": {"scripts": "not an object", "dependencies": ["not", "a", "map"]},
        }});
        let b = npm(&doc);
        assert_eq!(b.len(), 3);
        let at = |v: &str| {
            let a = ward_core::Artifact {
                id: ward_core::PackageId::npm("x", Some(v.to_string())),
                kind: ward_core::ArtifactKind::NpmTarball,
                file_name: "x.tgz".into(),
                size: 0,
                digests: ward_core::Digests::of(b""),
                license: None,
            };
            b.earlier(&a).unwrap().traits
        };
        let v = |n: &str| match n {
            "1.0.0" => at("1.0.1"),
            "1.0.1" => at("1.0.2"),
            _ => at("1.0.3"),
        };
        assert_eq!(
            v("1.0.0").install_hooks(),
            [("postinstall".to_string(), "node a.js".to_string())]
        );
        assert_eq!(v("1.0.0").dependencies.as_ref().unwrap()["ms"], "^2.1.3");
        assert_eq!(
            v("1.0.1").install_hooks(),
            [("binding.gyp".to_string(), "node-gyp rebuild".to_string())]
        );
        assert!(v("1.0.2").install_hooks().is_empty());
        assert_eq!(v("1.0.2").dependencies, Some(BTreeMap::new()));
    }
}
