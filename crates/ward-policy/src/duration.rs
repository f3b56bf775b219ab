//! Durations written in a policy (`cooldown.min_age`): a number with a
//! unit, always.
//!
//! Parsing is jiff's "friendly" duration format (`30m`, `72h`, `3d`,
//! `2w`, `1d 12h`); ward adds the rules that keep the unit confusion of
//! other tools out: a bare number is refused (is `3` minutes, hours or
//! days?), as are months and years (their length varies), negative
//! durations and anything over ten years. A day is 24 hours and a week 7
//! days.

use jiff::fmt::friendly::SpanParser;
use jiff::{SignedDuration, SpanRelativeTo};

/// The longest duration a policy may write (ten years of 365.25 days).
pub const MAX_DURATION: SignedDuration = SignedDuration::from_hours(24 * 3_652 + 12);

static PARSER: SpanParser = SpanParser::new();

/// Parses a policy duration; the error says what to write instead.
pub fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("a duration needs a number and a unit, e.g. \"3d\"".into());
    }
    if t.chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '-' || c == '+')
    {
        return Err(format!(
            "{t:?} has no unit: write \"{t}m\", \"{t}h\" or \"{t}d\" (m minutes, h hours, d days, w weeks)"
        ));
    }
    let span = PARSER
        .parse_span(t)
        .map_err(|e| format!("{t:?} is not a duration like \"30m\", \"72h\" or \"3d\": {e}"))?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(format!(
            "{t:?} uses months or years, whose length varies: write days or weeks (\"90d\", \"12w\")"
        ));
    }
    let duration = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|e| format!("{t:?} cannot be read as a fixed duration: {e}"))?;
    if duration.is_negative() {
        return Err(format!("{t:?} is negative"));
    }
    if duration > MAX_DURATION {
        return Err(format!("{t:?} is over ten years; nothing needs a cooldown that long"));
    }
    Ok(duration)
}

/// A duration as a short human form (`3d`, `72h`, `1d 12h`).
pub fn show_duration(d: SignedDuration) -> String {
    let secs = d.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (hours, rest) = (rest / 3_600, rest % 3_600);
    let (minutes, seconds) = (rest / 60, rest % 60);
    let parts: Vec<String> = [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")]
        .iter()
        .filter(|(n, _)| *n != 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if parts.is_empty() { "0s".into() } else { parts.join(" ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_required_and_read_as_written() {
        assert_eq!(parse_duration("30m").unwrap(), SignedDuration::from_mins(30));
        assert_eq!(parse_duration("72h").unwrap(), SignedDuration::from_hours(72));
        assert_eq!(parse_duration("3d").unwrap(), SignedDuration::from_hours(72));
        assert_eq!(parse_duration("2w").unwrap(), SignedDuration::from_hours(24 * 14));
        assert_eq!(parse_duration("1d 12h").unwrap(), SignedDuration::from_hours(36));
        assert_eq!(parse_duration("0d").unwrap(), SignedDuration::ZERO);
    }

    #[test]
    fn bare_negative_vague_and_absurd_durations_are_refused() {
        for bad in [
            "3",
            "72",
            "1.5",
            "",
            "-3d",
            "3 bananas",
            "1mo",
            "1y",
            "3653d",
            "100000w",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
        assert!(parse_duration("3").unwrap_err().contains("no unit"));
        assert!(parse_duration("3650d").is_ok());
    }

    #[test]
    fn shown_in_short_form() {
        assert_eq!(show_duration(SignedDuration::from_hours(72)), "3d");
        assert_eq!(show_duration(SignedDuration::from_mins(90)), "1h 30m");
    }
}
