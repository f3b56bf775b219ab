//! Release metadata from the registries' listings: per version the publish
//! time, the publishing account and whether the registry lists provenance
//! for it, read where the proxy already parses the listing (npm packuments,
//! PyPI JSON Simple API pages, cargo index files) and handed to the gate as
//! evidence ([`ward_gate::Evidence::release`]) for the cooldown and history
//! rules.
//!
//! Fields that are malformed or contradictory are kept as problems naming
//! the field, never dropped: a publish time that does not parse, a version
//! listed twice (JSON objects with a duplicate key, which `serde_json`
//! would silently collapse to the last one), attestations that are not
//! what npm's format says. The rule that reads such a field cannot be
//! evaluated and does not pass. Hand-written over serde: the registries'
//! own client libraries are not Rust.

use jiff::Timestamp;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use ward_policy::release::{MAX_WINDOW, MetaField, MetaProblem, RegistryReleases, ReleaseMeta};

/// What a listing says about every release of one package.
#[derive(Clone, Debug, Default)]
pub struct PackageReleases {
    /// The document it was read from (`npm packument`, …).
    pub source: String,
    /// Whether the registry names publishing accounts.
    pub names_publishers: bool,
    /// Per version.
    pub releases: HashMap<String, ReleaseMeta>,
    /// Problems with one version's fields.
    pub version_problems: HashMap<String, Vec<MetaProblem>>,
    /// Problems with the listing as a whole (a version listed twice).
    pub problems: Vec<MetaProblem>,
}

impl PackageReleases {
    /// An empty record for a listing read from `source`.
    pub fn new(source: &str, names_publishers: bool) -> Self {
        Self {
            source: source.to_string(),
            names_publishers,
            ..Self::default()
        }
    }

    /// Records a problem with one version's field.
    pub fn problem(&mut self, version: &str, field: MetaField, message: String) {
        self.version_problems
            .entry(version.to_string())
            .or_default()
            .push(MetaProblem { field, message });
    }

    /// What the gate gets for one version: it, and the releases published
    /// before it (newest first, at most [`MAX_WINDOW`]).
    pub fn for_version(&self, version: &str) -> RegistryReleases {
        let release = self.releases.get(version).cloned().unwrap_or_else(|| ReleaseMeta {
            version: version.to_string(),
            ..ReleaseMeta::default()
        });
        let mut earlier: Vec<ReleaseMeta> = self
            .releases
            .values()
            .filter(|m| m.version != version)
            .filter(|m| match (m.published, release.published) {
                (Some(p), Some(t)) => p < t,
                // Without this release's time, every other listed release counts.
                (Some(_), None) => true,
                (None, _) => false,
            })
            .cloned()
            .collect();
        earlier.sort_by(|a, b| b.published.cmp(&a.published).then_with(|| a.version.cmp(&b.version)));
        earlier.truncate(MAX_WINDOW);
        let mut problems = self.problems.clone();
        problems.extend(self.version_problems.get(version).into_iter().flatten().cloned());
        RegistryReleases {
            source: self.source.clone(),
            names_publishers: self.names_publishers,
            release,
            earlier,
            problems,
        }
    }

    /// What a listing needs to decide whether to hold a version back: the
    /// version and its problems, without the earlier releases (the cooldown
    /// reads no history; this keeps a packument of n versions O(n)).
    pub fn for_listing(&self, version: &str) -> RegistryReleases {
        let release = self.releases.get(version).cloned().unwrap_or_else(|| ReleaseMeta {
            version: version.to_string(),
            ..ReleaseMeta::default()
        });
        let mut problems = self.problems.clone();
        problems.extend(self.version_problems.get(version).into_iter().flatten().cloned());
        RegistryReleases {
            source: self.source.clone(),
            names_publishers: self.names_publishers,
            release,
            earlier: Vec::new(),
            problems,
        }
    }

    /// Approximate heap size, for the proxy's bounded memory.
    pub fn weight(&self) -> u64 {
        let meta: u64 = self
            .releases
            .iter()
            .map(|(k, m)| {
                96 + k.len() as u64 + m.version.len() as u64 + m.publisher.as_ref().map_or(0, |p| p.len() as u64)
            })
            .sum();
        let problems: u64 = self
            .version_problems
            .values()
            .flatten()
            .chain(&self.problems)
            .map(|p| 48 + p.message.len() as u64)
            .sum();
        64 + meta + problems
    }
}

/// An RFC 3339 time as a registry writes it.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    text.trim().parse::<Timestamp>().map_err(|e| e.to_string())
}

/// Reads the release metadata of a full npm packument (already parsed as
/// `doc`; `bytes` is the document as served, read again only for keys
/// listed twice).
pub fn npm(doc: &Value, bytes: &[u8]) -> PackageReleases {
    let mut out = PackageReleases::new("npm packument", true);
    for (field, key) in [("versions", "versions"), ("time", "time")] {
        match duplicate_key(bytes, key) {
            Ok(Some(Duplicate::Key(dup))) => out.problems.push(MetaProblem {
                field: MetaField::Versions,
                message: format!("{field}[{dup:?}] is listed twice in the npm packument"),
            }),
            Ok(Some(Duplicate::Field)) => out.problems.push(MetaProblem {
                field: MetaField::Versions,
                message: format!(
                    "`{field}` is listed twice in the npm packument (parsers disagree on which copy counts)"
                ),
            }),
            Ok(None) => {}
            Err(e) => out.problems.push(MetaProblem {
                field: MetaField::Versions,
                message: format!("the npm packument's `{field}` cannot be read: {e}"),
            }),
        }
    }
    let times = doc.get("time");
    if times.is_some_and(|t| !t.is_object()) {
        out.problems.push(MetaProblem {
            field: MetaField::PublishTime,
            message: "the npm packument's `time` is not an object".into(),
        });
    }
    let Some(versions) = doc.get("versions").and_then(Value::as_object) else {
        return out;
    };
    for (version, meta) in versions {
        let mut release = ReleaseMeta {
            version: version.clone(),
            ..ReleaseMeta::default()
        };
        match times.and_then(|t| t.get(version)) {
            None => {}
            Some(Value::String(s)) => match parse_time(s) {
                Ok(t) => release.published = Some(t),
                Err(e) => out.problem(
                    version,
                    MetaField::PublishTime,
                    format!("time[{version:?}] = {s:?} is not an RFC 3339 time ({e})"),
                ),
            },
            Some(other) => out.problem(
                version,
                MetaField::PublishTime,
                format!("time[{version:?}] is {}, not a string", kind(other)),
            ),
        }
        match meta.get("_npmUser") {
            None | Some(Value::Null) => {}
            Some(user) => match user.get("name").and_then(Value::as_str) {
                Some(name) if !name.trim().is_empty() => release.publisher = Some(name.trim().to_string()),
                _ => out.problem(
                    version,
                    MetaField::Publisher,
                    format!("versions[{version:?}]._npmUser has no `name`"),
                ),
            },
        }
        match meta.get("dist").and_then(|d| d.get("attestations")) {
            None | Some(Value::Null) => {}
            Some(a) => {
                let url = a.get("url").and_then(Value::as_str);
                let predicate = a
                    .get("provenance")
                    .and_then(|p| p.get("predicateType"))
                    .and_then(Value::as_str);
                match (url, a.get("provenance")) {
                    (Some(_), None) => {}
                    (Some(_), Some(_)) if predicate.is_some() => release.provenance = true,
                    _ => out.problem(
                        version,
                        MetaField::Provenance,
                        format!(
                            "versions[{version:?}].dist.attestations is not {{url, provenance: {{predicateType}}}}"
                        ),
                    ),
                }
            }
        }
        out.releases.insert(version.clone(), release);
    }
    out
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What is listed twice in a JSON document's top-level `field`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Duplicate {
    /// The field itself is listed twice at the top level (`serde_json`
    /// keeps the last copy; a parser that keeps the first reads other data).
    Field,
    /// This key is listed twice inside the field's object.
    Key(String),
}

/// The first duplicate in the top-level object `field` of a JSON document,
/// or the field itself listed twice, read as a stream (values are skipped,
/// not built).
pub fn duplicate_key(bytes: &[u8], field: &str) -> Result<Option<Duplicate>, String> {
    struct Top<'a>(&'a str);
    struct Keys;
    impl<'de> Visitor<'de> for Top<'_> {
        type Value = Option<Duplicate>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            let mut seen = false;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == self.0 && !seen {
                    seen = true;
                    found = map.next_value_seed(Keys)?.map(Duplicate::Key);
                } else {
                    if key == self.0 {
                        found = Some(Duplicate::Field);
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    impl<'de> DeserializeSeed<'de> for Keys {
        type Value = Option<String>;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Keys {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = std::collections::HashSet::new();
            let mut dup = None;
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if !seen.insert(key.clone()) && dup.is_none() {
                    dup = Some(key);
                }
            }
            Ok(dup)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde::Deserializer::deserialize_map(&mut de, Top(field)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_times_publishers_and_attestations_are_read_per_version() {
        let doc = br#"{"name":"a","time":{"created":"2024-01-01T00:00:00Z","1.0.0":"2024-01-02T00:00:00.000Z","1.1.0":"2024-02-01T00:00:00Z"},
          "versions":{"1.0.0":{"_npmUser":{"name":"alice"},"dist":{"attestations":{"url":"https://r/-/npm/v1/attestations/a@1.0.0","provenance":{"predicateType":"https://slsa.dev/provenance/v1"}}}},
                      "1.1.0":{"_npmUser":{"name":"mallory"},"dist":{}}}}"#;
        let v: Value = serde_json::from_slice(doc).unwrap();
        let r = npm(&v, doc);
        assert!(r.problems.is_empty());
        let one = r.for_version("1.1.0");
        assert_eq!(one.release.publisher.as_deref(), Some("mallory"));
        assert!(!one.release.provenance);
        assert_eq!(one.earlier.len(), 1);
        assert_eq!(one.earlier[0].version, "1.0.0");
        assert!(one.earlier[0].provenance);
        assert_eq!(one.earlier[0].publisher.as_deref(), Some("alice"));
    }

    #[test]
    fn a_packument_listing_versions_or_time_twice_is_a_problem() {
        // The fuzzer's seed: serde_json (and npm) keep the second copy, a parser
        // that keeps the first reads alice's 2025 release instead of mallory's.
        let doc = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../ward-fuzz/corpus/release_meta/packument-versions-listed-twice.json"),
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&doc).unwrap();
        let r = npm(&v, &doc);
        assert!(
            r.problems
                .iter()
                .any(|p| p.message.contains("`versions` is listed twice")),
            "{:?}",
            r.problems
        );
        assert_eq!(duplicate_key(&doc, "versions"), Ok(Some(Duplicate::Field)));
        let time_twice = br#"{"time":{"1.0.0":"2024-01-01T00:00:00Z"},"versions":{},"time":{}}"#;
        assert_eq!(duplicate_key(time_twice, "time"), Ok(Some(Duplicate::Field)));
        assert_eq!(duplicate_key(time_twice, "versions"), Ok(None));
        let key_twice = br#"{"versions":{"1.0.0":{},"1.0.0":{}}}"#;
        assert_eq!(
            duplicate_key(key_twice, "versions"),
            Ok(Some(Duplicate::Key("1.0.0".into())))
        );
    }

    #[test]
    fn malformed_and_duplicated_fields_are_problems_naming_the_field() {
        let doc = br#"{"time":{"1.0.0":"yesterday","1.0.0":"2024-01-01T00:00:00Z"},
          "versions":{"1.0.0":{"_npmUser":"bob","dist":{"attestations":{"provenance":true}}}}}"#;
        let v: Value = serde_json::from_slice(doc).unwrap();
        let r = npm(&v, doc).for_version("1.0.0");
        let messages: Vec<&str> = r.problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.contains("time[\"1.0.0\"] is listed twice")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("_npmUser has no `name`")),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m.contains("dist.attestations")), "{messages:?}");
        let bad_time = br#"{"time":{"1.0.0":"yesterday"},"versions":{"1.0.0":{}}}"#;
        let v: Value = serde_json::from_slice(bad_time).unwrap();
        let r = npm(&v, bad_time).for_version("1.0.0");
        assert_eq!(
            r.problem(MetaField::PublishTime).map(|p| p.field),
            Some(MetaField::PublishTime)
        );
        assert!(r.release.published.is_none());
    }
}

/// The version in a distribution's file name: a wheel's second field
/// (`name-1.0-py3-none-any.whl`), an sdist's text after the last `-`
/// (`name-1.0.tar.gz`). `None` for anything else.
pub fn pypi_file_version(file: &str) -> Option<String> {
    if let Some(stem) = file.strip_suffix(".whl") {
        return stem.split('-').nth(1).filter(|v| !v.is_empty()).map(String::from);
    }
    let lower = file.to_ascii_lowercase();
    let stem_len = [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .find(|s| lower.ends_with(*s))
        .map(|s| file.len() - s.len())?;
    let (_, version) = file[..stem_len].rsplit_once('-')?;
    (!version.is_empty()).then(|| version.to_string())
}

/// One file of a PyPI project page, as far as release metadata goes.
pub struct PypiFile<'a> {
    /// Its file name.
    pub name: &'a str,
    /// `upload-time` (PEP 700), as written.
    pub upload_time: Option<&'a str>,
    /// Whether it has a PEP 740 `provenance` link.
    pub provenance: bool,
}

/// Reads the release metadata of a PyPI project page: a version's publish
/// time is its first file's `upload-time` (the JSON Simple API; an HTML
/// page gives none), and it carries provenance when any of its files has a
/// PEP 740 `provenance` link. PyPI names no publishing account.
pub fn pypi<'a>(json: bool, files: impl IntoIterator<Item = PypiFile<'a>>) -> PackageReleases {
    let source = if json {
        "PyPI JSON Simple API"
    } else {
        "PyPI HTML Simple API"
    };
    let mut out = PackageReleases::new(source, false);
    let mut seen = std::collections::HashSet::new();
    for f in files {
        let Some(version) = pypi_file_version(f.name) else {
            continue;
        };
        if !seen.insert(f.name.to_string()) {
            out.problem(
                &version,
                MetaField::Versions,
                format!("the file {:?} is listed twice on the project page", f.name),
            );
        }
        let release = out.releases.entry(version.clone()).or_insert_with(|| ReleaseMeta {
            version: version.clone(),
            ..ReleaseMeta::default()
        });
        release.provenance |= f.provenance;
        match f.upload_time.map(parse_time) {
            None => {}
            Some(Ok(t)) => release.published = Some(release.published.map_or(t, |p| p.min(t))),
            Some(Err(e)) => {
                let message = format!("files[{:?}].upload-time is not an RFC 3339 time ({e})", f.name);
                out.problem(&version, MetaField::PublishTime, message);
            }
        }
    }
    // A version whose files carry times only in part: the missing ones are unknown, not absent.
    out
}

/// Reads the release metadata of a cargo sparse index file: one JSON line
/// per version, with `pubtime` (RFC 3339) where the index has it. A version
/// listed on two lines is a problem; crates.io names no publisher here.
pub fn cargo(index: &str) -> PackageReleases {
    let mut releases = CargoReleases::new();
    for line in index.lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            releases.line(&v);
        }
    }
    releases.finish()
}

/// [`cargo`] a line at a time, for a reader that parses each line of the
/// index once for its own needs too (the proxy: refusal marks, hold-backs,
/// a download's `cksum`) and hands the parsed line here.
#[derive(Debug)]
pub struct CargoReleases {
    out: PackageReleases,
}

impl Default for CargoReleases {
    fn default() -> Self {
        Self::new()
    }
}

impl CargoReleases {
    /// Nothing read yet.
    pub fn new() -> Self {
        Self {
            out: PackageReleases::new("crates.io index", false),
        }
    }

    /// Reads one line of the index, parsed (a line without a string `vers`
    /// lists no version).
    pub fn line(&mut self, v: &Value) {
        let out = &mut self.out;
        let Some(version) = v.get("vers").and_then(Value::as_str) else {
            return;
        };
        if out.releases.contains_key(version) {
            out.problem(
                version,
                MetaField::Versions,
                format!("version {version} is listed on two lines of the index"),
            );
            return;
        }
        let mut release = ReleaseMeta {
            version: version.to_string(),
            ..ReleaseMeta::default()
        };
        match v.get("pubtime") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => match parse_time(s) {
                Ok(t) => release.published = Some(t),
                Err(e) => out.problem(
                    version,
                    MetaField::PublishTime,
                    format!("pubtime {s:?} of {version} is not an RFC 3339 time ({e})"),
                ),
            },
            Some(other) => out.problem(
                version,
                MetaField::PublishTime,
                format!("pubtime of {version} is {}, not a string", kind(other)),
            ),
        }
        out.releases.insert(version.to_string(), release);
    }

    /// What the lines read say about every release.
    pub fn finish(self) -> PackageReleases {
        self.out
    }
}

#[cfg(test)]
mod pypi_cargo_tests {
    use super::*;

    #[test]
    fn pypi_versions_come_from_file_names_and_times_from_the_first_upload() {
        assert_eq!(pypi_file_version("demo-1.0-py3-none-any.whl").as_deref(), Some("1.0"));
        assert_eq!(pypi_file_version("my-demo-2.0rc1.tar.gz").as_deref(), Some("2.0rc1"));
        assert_eq!(pypi_file_version("demo.txt"), None);
        let r = pypi(
            true,
            [
                PypiFile {
                    name: "demo-1.0.tar.gz",
                    upload_time: Some("2026-01-02T00:00:00Z"),
                    provenance: false,
                },
                PypiFile {
                    name: "demo-1.0-py3-none-any.whl",
                    upload_time: Some("2026-01-01T00:00:00.123456Z"),
                    provenance: true,
                },
                PypiFile {
                    name: "demo-1.1.tar.gz",
                    upload_time: Some("soon"),
                    provenance: false,
                },
                PypiFile {
                    name: "demo-1.1.tar.gz",
                    upload_time: None,
                    provenance: false,
                },
            ],
        );
        let one = r.for_version("1.0");
        assert_eq!(
            one.release.published,
            Some("2026-01-01T00:00:00.123456Z".parse().unwrap())
        );
        assert!(one.release.provenance);
        assert!(!one.names_publishers);
        let two = r.for_version("1.1");
        assert!(two.problem(MetaField::PublishTime).is_some());
        assert!(two.problems.iter().any(|p| p.message.contains("listed twice")));
    }

    #[test]
    fn cargo_index_lines_give_pubtime_and_duplicates_are_problems() {
        let index = "{\"name\":\"a\",\"vers\":\"1.0.0\",\"pubtime\":\"2025-06-01T00:00:00Z\"}\n{\"name\":\"a\",\"vers\":\"1.1.0\"}\n{\"name\":\"a\",\"vers\":\"1.1.0\",\"pubtime\":\"2025-07-01T00:00:00Z\"}\n";
        let r = cargo(index);
        assert_eq!(
            r.for_version("1.0.0").release.published,
            Some("2025-06-01T00:00:00Z".parse().unwrap())
        );
        let dup = r.for_version("1.1.0");
        assert!(dup.release.published.is_none());
        assert!(dup.problems.iter().any(|p| p.message.contains("two lines")));
    }
}
