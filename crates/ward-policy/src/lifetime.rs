//! Key lifetimes: when a trusted key's signatures count.
//!
//! A key's entry in a scope can carry `valid_from`, `valid_until` and
//! `revoked_at` (RFC 3339 times), and a key followed through its rotations
//! ([`crate::rotation`]) gets a window from each signed rotation statement
//! (the old key until the rotation, the new key from it) and a revocation
//! from a revocation statement. A signature by a key with any of these
//! counts only if its *verified* signing time (a transparency-log
//! integrated time or an RFC 3161 timestamp, as verification established
//! it) falls inside: an offline signature carries no trustworthy time, so
//! it does not count for a key with a window
//! ([`ReasonCode::SigningTimeUnverified`]). A key with none of them counts
//! whenever it signed, as before.

use jiff::Timestamp;
use ward_core::ReasonCode;

/// When one trusted key's signatures count, and where that was said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLifetime {
    /// The key's `sha256:` fingerprint.
    pub fingerprint: String,
    /// Signatures from this time on count (inclusive).
    pub valid_from: Option<Timestamp>,
    /// Signatures up to this time count (inclusive).
    pub valid_until: Option<Timestamp>,
    /// Signatures at or after this time never count.
    pub revoked_at: Option<Timestamp>,
    /// Where the bounds come from, for messages: the policy line, or the
    /// rotation and revocation statements that set them.
    pub source: String,
    /// Line of the key's entry in the policy.
    pub line: usize,
}

impl KeyLifetime {
    /// A lifetime with no bounds yet.
    pub(crate) fn open(fingerprint: String, source: String, line: usize) -> Self {
        Self {
            fingerprint,
            valid_from: None,
            valid_until: None,
            revoked_at: None,
            source,
            line,
        }
    }

    /// Whether any bound is set (then an unverified signing time does not count).
    pub fn is_bounded(&self) -> bool {
        self.valid_from.is_some() || self.valid_until.is_some() || self.revoked_at.is_some()
    }

    /// Narrows `valid_until` to `t` (the earlier of the two wins).
    pub(crate) fn until(&mut self, t: Timestamp) {
        self.valid_until = Some(self.valid_until.map_or(t, |u| u.min(t)));
    }

    /// Narrows `valid_from` to `t` (the later of the two wins).
    pub(crate) fn from(&mut self, t: Timestamp) {
        self.valid_from = Some(self.valid_from.map_or(t, |f| f.max(t)));
    }

    /// Records a revocation at `t` (the earliest revocation wins).
    pub(crate) fn revoke(&mut self, t: Timestamp) {
        self.revoked_at = Some(self.revoked_at.map_or(t, |r| r.min(t)));
    }

    /// Whether a signature made at `signed_at` (verified, or `None`) counts;
    /// if not, the reason code and what was wrong.
    pub fn judge(&self, signed_at: Option<Timestamp>) -> Result<(), (ReasonCode, String)> {
        if !self.is_bounded() {
            return Ok(());
        }
        let key = &self.fingerprint;
        let Some(t) = signed_at else {
            return Err((
                ReasonCode::SigningTimeUnverified,
                format!(
                    "key {key} has a validity window ({}) and its signature carries no verified signing time (no transparency-log entry or RFC 3161 timestamp), so it does not count",
                    self.window()
                ),
            ));
        };
        if let Some(r) = self.revoked_at
            && t >= r
        {
            return Err((
                ReasonCode::KeyRevoked,
                format!("key {key} was revoked at {r} and signed at {t} ({})", self.source),
            ));
        }
        if let Some(from) = self.valid_from
            && t < from
        {
            return Err((
                ReasonCode::KeyNotYetValid,
                format!("key {key} is valid from {from} and signed at {t} ({})", self.source),
            ));
        }
        if let Some(until) = self.valid_until
            && t > until
        {
            return Err((
                ReasonCode::KeyExpired,
                format!("key {key} was valid until {until} and signed at {t} ({})", self.source),
            ));
        }
        Ok(())
    }

    /// The window in words: `valid 2025-01-01T00:00:00Z to 2026-01-01T00:00:00Z, revoked at …`.
    pub fn window(&self) -> String {
        let show = |t: Option<Timestamp>| t.map_or_else(|| "open".to_string(), |t| t.to_string());
        let mut s = format!("valid {} to {}", show(self.valid_from), show(self.valid_until));
        if let Some(r) = self.revoked_at {
            s.push_str(&format!(", revoked at {r}"));
        }
        s
    }
}

/// Parses an RFC 3339 time written in the policy or a statement.
pub(crate) fn parse_time(text: &str) -> Result<Timestamp, String> {
    text.parse::<Timestamp>()
        .map_err(|e| format!("{text:?} is not an RFC 3339 time with an offset (e.g. 2026-01-29T00:00:00Z): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_signature_counts_only_inside_the_window_and_before_revocation() {
        let mut l = KeyLifetime::open("sha256:k".into(), "test".into(), 1);
        assert!(l.judge(None).is_ok(), "an unbounded key counts whenever it signed");
        l.from(t("2025-01-13T00:00:00Z"));
        l.until(t("2025-01-29T00:00:00Z"));
        assert!(l.judge(Some(t("2025-01-20T00:00:00Z"))).is_ok());
        assert!(l.judge(Some(t("2025-01-29T00:00:00Z"))).is_ok(), "until is inclusive");
        assert_eq!(
            l.judge(Some(t("2025-01-29T00:00:01Z"))).unwrap_err().0,
            ReasonCode::KeyExpired
        );
        assert_eq!(
            l.judge(Some(t("2025-01-12T23:59:59Z"))).unwrap_err().0,
            ReasonCode::KeyNotYetValid
        );
        assert_eq!(l.judge(None).unwrap_err().0, ReasonCode::SigningTimeUnverified);
        l.revoke(t("2025-01-20T00:00:00Z"));
        assert_eq!(
            l.judge(Some(t("2025-01-20T00:00:00Z"))).unwrap_err().0,
            ReasonCode::KeyRevoked
        );
        assert!(l.judge(Some(t("2025-01-19T23:59:59Z"))).is_ok());
        // Narrowing keeps the stricter bound.
        l.until(t("2026-01-01T00:00:00Z"));
        l.revoke(t("2026-01-01T00:00:00Z"));
        assert_eq!(l.valid_until, Some(t("2025-01-29T00:00:00Z")));
        assert_eq!(l.revoked_at, Some(t("2025-01-20T00:00:00Z")));
    }

    #[test]
    fn times_need_an_offset() {
        assert!(parse_time("2026-01-29T00:00:00Z").is_ok());
        assert!(parse_time("2026-01-29T00:00:00+01:00").is_ok());
        assert!(parse_time("2026-01-29").is_err());
        assert!(parse_time("2026-01-29T00:00:00").is_err());
    }
}
