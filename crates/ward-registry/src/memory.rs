//! What the proxy remembers between requests, bounded.
//!
//! The listed files of each registry (PyPI files, npm tarballs) and the
//! decisions (allows, denials) are kept in concurrent caches bounded by an
//! estimate of the bytes they hold ([`quick_cache`], S3-FIFO eviction, which
//! keeps recently and often used entries); since every entry weighs at least
//! a fixed overhead, that bounds the number of entries too. Forgetting is
//! always safe: a forgotten listed file is looked up in freshly fetched
//! metadata (with its digests) before anything is fetched, a forgotten allow
//! is read back from the cache's decision files (valid under the same policy
//! only), and a forgotten denial means the file is fetched and judged again.
//!
//! One listing (a Simple page, a packument, a cargo index file) with more
//! than [`MemoryLimits::max_listing_entries`] entries is refused whole, with
//! `listing-too-large`: cutting it would silently hide versions from the
//! resolver, and which ones would depend on upstream's order.

use crate::cache::CachedAllow;
use crate::npm::TarballEntry;
use crate::pypi::FileEntry;
use crate::upstream::Source;
use serde_json::Value;

/// Bounds on what the proxy keeps in memory.
#[derive(Clone, Debug)]
pub struct MemoryLimits {
    /// Most files or versions one upstream listing may name.
    pub max_listing_entries: usize,
    /// Bytes of listed files remembered, for each registry (PyPI files, npm tarballs).
    pub listing_bytes: u64,
    /// Bytes of decisions remembered, for allows and for denials each.
    pub decision_bytes: u64,
    /// Denials remembered across restarts (in the cache directory, see [`crate::denials`]).
    pub remembered_denials: usize,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        Self {
            max_listing_entries: 50_000,
            listing_bytes: 64 << 20,
            decision_bytes: 16 << 20,
            remembered_denials: crate::denials::DEFAULT_REMEMBERED_DENIALS,
        }
    }
}

/// An approximate heap size, for weighing cache entries.
pub(crate) trait Weigh {
    fn weigh(&self) -> u64;
}

/// What any entry costs beyond the bytes of its strings: the key and value
/// structs themselves (a listed file is about 250 bytes before its
/// strings), the cache's slot, and the allocator's share of each string.
const ENTRY_OVERHEAD: u64 = 320;

impl Weigh for String {
    fn weigh(&self) -> u64 {
        self.len() as u64
    }
}

impl<A: Weigh, B: Weigh> Weigh for (A, B) {
    fn weigh(&self) -> u64 {
        self.0.weigh() + self.1.weigh()
    }
}

impl<T: Weigh> Weigh for Option<T> {
    fn weigh(&self) -> u64 {
        self.as_ref().map_or(0, Weigh::weigh)
    }
}

impl Weigh for Source {
    fn weigh(&self) -> u64 {
        match self {
            Source::File(p) => p.as_os_str().len() as u64,
            Source::Url(u) => u.len() as u64,
        }
    }
}

impl Weigh for Value {
    fn weigh(&self) -> u64 {
        32 + match self {
            Value::String(s) => s.len() as u64,
            Value::Array(a) => a.iter().map(Weigh::weigh).sum(),
            Value::Object(o) => o.iter().map(|(k, v)| k.len() as u64 + 32 + v.weigh()).sum(),
            _ => 0,
        }
    }
}

impl Weigh for FileEntry {
    fn weigh(&self) -> u64 {
        self.source.weigh()
            + self.sha256.weigh()
            + self.requires_python.weigh()
            + self.yanked.weigh()
            + self.core_metadata.weigh()
            + self.provenance.weigh()
            + self.upload_time.weigh()
            // The page's release metadata is shared by its files: each carries its share.
            + self
                .releases
                .as_ref()
                .map_or(0, |r| r.weight() / (r.releases.len() as u64).max(1))
    }
}

impl Weigh for TarballEntry {
    fn weigh(&self) -> u64 {
        self.version.weigh()
            + self.source.weigh()
            + self.sha512.weigh()
            + self.attestations.weigh()
            + self
                .signatures
                .iter()
                .map(|s| 64 + (s.key_id.len() + s.signature.len() + s.integrity.len()) as u64)
                .sum::<u64>()
            // The packument's release metadata is shared by its tarballs: each carries its share.
            + self
                .releases
                .as_ref()
                .map_or(0, |r| r.weight() / (r.releases.len() as u64).max(1))
    }
}

impl Weigh for CachedAllow {
    fn weigh(&self) -> u64 {
        self.key.weigh()
            + self.sha256.weigh()
            + self.policy.weigh()
            + self
                .relaxed
                .as_ref()
                .map(|(m, codes)| m.weigh() + codes.iter().map(|c| 24 + c.weigh()).sum::<u64>())
                .unwrap_or_default()
    }
}

/// Weighs an entry by [`Weigh`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ByWeight;

impl<K: Weigh, V: Weigh> quick_cache::Weighter<K, V> for ByWeight {
    fn weight(&self, key: &K, val: &V) -> u64 {
        ENTRY_OVERHEAD + key.weigh() + val.weigh()
    }
}

/// A concurrent map bounded by the weight of its entries.
pub(crate) type Bounded<K, V> = quick_cache::sync::Cache<K, V, ByWeight>;

/// A bounded map holding about `bytes` of entries.
pub(crate) fn bounded<K, V>(bytes: u64) -> Bounded<K, V>
where
    K: Eq + std::hash::Hash + Weigh,
    V: Clone + Weigh,
{
    // The estimate only sizes the first allocation: keep it small.
    let estimate = usize::try_from(bytes / 1024).unwrap_or(usize::MAX).clamp(16, 4096);
    quick_cache::sync::Cache::with_weighter(estimate, bytes.max(1), ByWeight)
}

/// The refusal for a listing over the limit.
pub(crate) fn listing_too_large(what: &str, max: usize) -> String {
    format!(
        "{}: {what} names more than {max} files or versions (max_listing_entries); refused rather than cut",
        ward_core::ReasonCode::ListingTooLarge
    )
}

/// Whether the JSON object in `bytes` has a `field` (object or array)
/// with more than `max` entries. Reads without building the document and
/// stops at the entry over the limit; a document that does not parse is
/// not over (its real reader says what is wrong with it).
pub(crate) fn field_over(bytes: &[u8], field: &str, max: usize) -> bool {
    let over = std::cell::Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let _ = serde::de::DeserializeSeed::deserialize(
        CountField {
            field,
            max,
            over: &over,
        },
        &mut de,
    );
    over.get()
}

struct CountField<'a> {
    field: &'a str,
    max: usize,
    over: &'a std::cell::Cell<bool>,
}

impl<'de> serde::de::DeserializeSeed<'de> for CountField<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CountField<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.field {
                map.next_value_seed(CountEntries {
                    max: self.max,
                    over: self.over,
                })?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct CountEntries<'a> {
    max: usize,
    over: &'a std::cell::Cell<bool>,
}

impl<'de> serde::de::DeserializeSeed<'de> for CountEntries<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CountEntries<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object or an array")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut n = 0usize;
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {
            n += 1;
            if n > self.max {
                self.over.set(true);
                return Err(serde::de::Error::custom("over the limit"));
            }
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0usize;
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            n += 1;
            if n > self.max {
                self.over.set(true);
                return Err(serde::de::Error::custom("over the limit"));
            }
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_map_stays_within_its_bytes() {
        let map: Bounded<(String, String), String> = bounded(1 << 20);
        for i in 0..100_000 {
            map.insert(("project".into(), format!("file-{i}.tar.gz")), "x".repeat(100));
        }
        // Each entry weighs about 320 + 7 + 16 + 100 bytes: about 2,400 fit.
        assert!(map.weight() <= 1 << 20, "{}", map.weight());
        assert!(map.len() < 5_000, "{}", map.len());
        assert!(map.len() > 1_000, "{}", map.len());
        // Nothing fits in one byte.
        let none: Bounded<String, String> = bounded(1);
        none.insert("a".into(), "b".into());
        assert_eq!(none.len(), 0);
    }

    #[test]
    fn fields_are_counted_without_reading_the_document() {
        let doc = br#"{"name": "x", "versions": {"1": {"a": [1, 2]}, "2": {}, "3": null}, "time": {}}"#;
        assert!(!field_over(doc, "versions", 3));
        assert!(field_over(doc, "versions", 2));
        assert!(!field_over(doc, "missing", 0));
        assert!(field_over(br#"{"files": [1, 2]}"#, "files", 1));
        assert!(!field_over(b"{\"versions\": ", "versions", 0));
    }
}
