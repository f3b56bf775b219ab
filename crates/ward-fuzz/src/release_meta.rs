//! Target for ward-registry's release metadata readers, called directly
//! (fast; `npm_packument_cooldown` runs the same readers inside the
//! proxy): the npm packument's duplicate-key pass
//! (`release_meta::duplicate_key` on `versions` and `time`) and
//! `release_meta::npm`, the cargo index reader (the input as index lines)
//! and the PyPI reader (the input's `files`, as a PEP 691 page lists them).
//!
//! Checked beyond "no panic": a document that parses as a JSON object is
//! never "unreadable" to the duplicate-key pass (it reads the same JSON);
//! a duplicate it reports is a key of that field in the first object
//! listed under it; and what the gate gets for a version
//! (`for_version`) is that version with at most `MAX_WINDOW` earlier
//! releases, newest first, each published before it when its time is
//! known.

use serde_json::Value;
use ward_policy::release::MAX_WINDOW;
use ward_registry::release_meta::{self, PackageReleases, PypiFile};

/// Versions per listing given to `for_version` (each is O(versions)).
const MAX_DECIDED: usize = 32;

fn check_listing(releases: &PackageReleases) {
    let _ = releases.weight();
    let mut versions: Vec<&String> = releases.releases.keys().collect();
    versions.sort();
    for v in &versions {
        let listed = releases.for_listing(v);
        assert!(listed.earlier.is_empty(), "for_listing carries earlier releases");
    }
    for v in versions.iter().take(MAX_DECIDED) {
        let r = releases.for_version(v);
        assert_eq!(&r.release.version, *v, "for_version({v:?}) decided another release");
        assert!(r.earlier.len() <= MAX_WINDOW, "{} earlier releases", r.earlier.len());
        for (i, e) in r.earlier.iter().enumerate() {
            assert_ne!(&e.version, *v, "a release is listed as earlier than itself");
            assert!(e.published.is_some(), "an earlier release without a publish time");
            if let (Some(p), Some(t)) = (e.published, r.release.published) {
                assert!(
                    p < t,
                    "earlier release {} was published at {p}, not before {t}",
                    e.version
                );
            }
            if i > 0 {
                assert!(
                    r.earlier[i - 1].published >= e.published,
                    "earlier releases are not newest first"
                );
            }
        }
    }
}

/// An npm packument, a cargo index file and a PyPI page's `files`.
pub fn release_meta(data: &[u8]) {
    let doc = serde_json::from_slice::<Value>(data).ok();
    for field in ["versions", "time"] {
        let dup = release_meta::duplicate_key(data, field);
        if doc.as_ref().is_some_and(Value::is_object) {
            assert!(
                dup.is_ok(),
                "a JSON object is unreadable to the duplicate-key pass ({field}): {dup:?}"
            );
        }
        // A reported duplicate is a key of the `field` object, which is the
        // one parsed when no top-level key is listed twice (checked by the
        // same pass over the document wrapped as `{"x": DOC}`).
        if let (Ok(Some(release_meta::Duplicate::Key(key))), Some(doc)) = (&dup, doc.as_ref()) {
            let mut wrapped = b"{\"x\":".to_vec();
            wrapped.extend_from_slice(data);
            wrapped.push(b'}');
            if let Ok(None) = release_meta::duplicate_key(&wrapped, "x") {
                assert!(
                    doc.get(field).and_then(|f| f.get(key)).is_some(),
                    "duplicate {field}[{key:?}] is not a key of {field}"
                );
            }
        }
    }
    if let Some(doc) = &doc {
        check_listing(&release_meta::npm(doc, data));
        if let Some(files) = doc.get("files").and_then(Value::as_array) {
            let files = files.iter().filter_map(|f| {
                Some(PypiFile {
                    name: f.get("filename")?.as_str()?,
                    upload_time: f.get("upload-time").and_then(Value::as_str),
                    provenance: f.get("provenance").is_some_and(|p| !p.is_null()),
                })
            });
            check_listing(&release_meta::pypi(true, files));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        check_listing(&release_meta::cargo(text));
    }
}
