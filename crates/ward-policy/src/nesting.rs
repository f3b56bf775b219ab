//! A cheap pre-parse check that refuses deeply nested brackets in policy
//! text (Rego and TOML) before a parser sees it.
//!
//! regorus's parser backtracks on nested arrays (a Rego array 22 deep took
//! seconds, 1,000 deep minutes), and recursive-descent parsers in general
//! spend stack per level. One linear pass over the text, skipping strings
//! and comments, finds the first bracket past the limit, so the error can
//! name its line and column.

/// Which syntax's strings and comments to skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// Rego: `"…"` with backslash escapes, raw `` `…` ``, `#` comments.
    Rego,
    /// TOML: `"…"`, `'…'`, `"""…"""`, `'''…'''`, `#` comments.
    Toml,
}

/// What a scan found wrong, at a byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TooDeep {
    /// This bracket nests deeper than the limit.
    Nesting(usize),
    /// By this bracket the estimated parse work is over the budget.
    Work(usize),
}

/// Estimated work for regorus's parser: it tries each `[` and `{` as a
/// comprehension first and re-parses it when that fails, so a bracket
/// inside `d` others can be parsed up to 2^d times. The sum over all
/// brackets of 2^d is bounded by [`REGO_PARSE_BUDGET`] (a few hundred
/// milliseconds of parsing at most); ordinary policies use a small fraction.
pub(crate) const REGO_PARSE_BUDGET: u64 = 1 << 21;

/// [`too_deep`] for Rego, plus the parse-work budget.
pub(crate) fn rego_too_deep(text: &str, limit: usize) -> Option<TooDeep> {
    if let Some(at) = too_deep(text, Syntax::Rego, limit) {
        return Some(TooDeep::Nesting(at));
    }
    // Nesting is within `limit` (far below 64) here, so the shifts cannot overflow.
    let mut depth = 0u32;
    let mut work = 0u64;
    let mut result = None;
    scan(text, Syntax::Rego, |i, b| match b {
        b'[' | b'{' => {
            work = work.saturating_add(1u64 << depth.min(62));
            depth += 1;
            if work > REGO_PARSE_BUDGET {
                result = Some(TooDeep::Work(i));
                return false;
            }
            true
        }
        b']' | b'}' => {
            depth = depth.saturating_sub(1);
            true
        }
        _ => true,
    });
    result
}

/// The byte offset of the first Rego number literal whose exponent has more
/// than three significant digits (`0e66666666`), if any. regorus's number
/// parser spends time linear in the exponent's value on such literals (a
/// 14-byte `0E66666666` took over a minute; found by fuzzing), and no policy
/// needs a number beyond f64's range, so they are refused before parsing.
pub(crate) fn rego_number_too_large(text: &str) -> Option<usize> {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut prev = b' ';
    // In a number's mantissa; in its exponent (offset of the `e`, sign seen,
    // significant digits so far).
    let mut mantissa = false;
    let mut exponent: Option<(usize, bool, usize)> = None;
    let mut found = None;
    scan(text, Syntax::Rego, |i, b| {
        if let Some((at, signed, digits)) = exponent.as_mut() {
            match b {
                b'+' | b'-' if !*signed && *digits == 0 && (prev == b'e' || prev == b'E') => *signed = true,
                b'0' if *digits == 0 => {}
                b'0'..=b'9' => {
                    *digits += 1;
                    if *digits > 3 {
                        found = Some(*at);
                        return false;
                    }
                }
                _ => exponent = None,
            }
        } else if mantissa {
            match b {
                b'0'..=b'9' | b'.' => {}
                b'e' | b'E' => exponent = Some((i, false, 0)),
                _ => mantissa = false,
            }
        } else if b.is_ascii_digit() && !ident(prev) {
            mantissa = true;
        }
        prev = b;
        true
    });
    found
}

/// Calls `f` with each bracket outside strings and comments and its offset;
/// stops when `f` returns false.
fn scan(text: &str, syntax: Syntax, mut f: impl FnMut(usize, u8) -> bool) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                // Up to the newline, which the caller sees.
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' if syntax == Syntax::Toml && bytes[i..].starts_with(b"\"\"\"") => {
                i = skip_until(bytes, i + 3, b"\"\"\"", true);
                continue;
            }
            b'\'' if syntax == Syntax::Toml && bytes[i..].starts_with(b"'''") => {
                i = skip_until(bytes, i + 3, b"'''", false);
                continue;
            }
            b'"' => {
                i = skip_until(bytes, i + 1, b"\"", true);
                continue;
            }
            b'\'' if syntax == Syntax::Toml => {
                i = skip_until(bytes, i + 1, b"'", false);
                continue;
            }
            b'`' if syntax == Syntax::Rego => {
                i = skip_until(bytes, i + 1, b"`", false);
                continue;
            }
            b => {
                if !f(i, b) {
                    return;
                }
            }
        }
        i += 1;
    }
}

/// The byte offset of the first opening bracket that nests deeper than
/// `limit`, if any. Brackets are `(`, `[` and `{`, counted together. In
/// TOML each `.` of a dotted key (`a.b.c = 1`, `[a.b.c]`) nests a table
/// too, so it counts as one more level while the key lasts.
pub(crate) fn too_deep(text: &str, syntax: Syntax, limit: usize) -> Option<usize> {
    let toml = syntax == Syntax::Toml;
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    // TOML: whether we are in a key, and how many dots it has had so far.
    let mut in_key = true;
    let mut dots = 0usize;
    let mut found = None;
    scan(text, syntax, |i, b| {
        match b {
            b'\n' if toml && depth == 0 => {
                in_key = true;
                dots = 0;
            }
            b',' if toml => {
                in_key = true;
                dots = 0;
            }
            b'=' if toml => in_key = false,
            b'.' if toml && in_key => {
                dots += 1;
                if depth + dots > limit {
                    found = Some(i);
                }
            }
            b'(' | b'[' | b'{' => {
                if toml {
                    // A table header keeps its dotted key; an array starts a
                    // value; an inline table starts keys.
                    let header = b == b'[' && (depth == 0 || (depth == 1 && i > 0 && bytes[i - 1] == b'['));
                    in_key = (in_key && header) || b == b'{';
                    if b == b'{' {
                        dots = 0;
                    }
                }
                depth += 1;
                if depth > limit {
                    found = Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        found.is_none()
    });
    found
}

/// The offset just past the closing `end` at or after `from` (or the end of
/// the text); with `escapes`, a backslash skips the next byte.
fn skip_until(bytes: &[u8], mut from: usize, end: &[u8], escapes: bool) -> usize {
    while from < bytes.len() {
        if escapes && bytes[from] == b'\\' {
            from += 2;
            continue;
        }
        if bytes[from..].starts_with(end) {
            return from + end.len();
        }
        from += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {

    #[test]
    fn rego_numbers_with_huge_exponents_are_found_and_ordinary_ones_pass() {
        for bad in [
            "f := 0E66666666",
            "f := 1e-12345",
            "f := 2.5E+1000",
            "x := [1, 0e0066666]",
        ] {
            assert!(super::rego_number_too_large(bad).is_some(), "{bad}");
        }
        for good in [
            "f := 1e308",
            "f := 0.5e-999",
            "f := 0e0000999",
            "x1e99999 := 1",
            "f := \"1e99999\"",
            "f := 1 # 1e99999",
            "f := a.e12345",
        ] {
            assert_eq!(super::rego_number_too_large(good), None, "{good}");
        }
    }

    use super::*;

    #[test]
    fn counts_brackets_outside_strings_and_comments() {
        assert_eq!(too_deep("x := [[1]]", Syntax::Rego, 2), None);
        assert_eq!(too_deep("x := [[[1]]]", Syntax::Rego, 2), Some(7));
        assert_eq!(too_deep("x := f([{1}])", Syntax::Rego, 2), Some(8));
        assert_eq!(too_deep("x := \"[[[\\\"[[\" # [[[\n", Syntax::Rego, 1), None);
        assert_eq!(too_deep("x := `[[[\\` + [1]", Syntax::Rego, 1), None);
        assert_eq!(
            too_deep("[[scope]]\nx = '[[[' \"\"\"[[[\"\"\" '''[[['''", Syntax::Toml, 2),
            None
        );
        assert_eq!(too_deep("x = [[[1]]]", Syntax::Toml, 2), Some(6));
        // Dotted keys and table headers nest.
        assert_eq!(too_deep("a.b = 1\n[c.d]\ne = [1.5, 2.5]", Syntax::Toml, 2), None);
        assert_eq!(too_deep("a.b.c = 1", Syntax::Toml, 1), Some(3));
        assert_eq!(too_deep("[a.b.c]", Syntax::Toml, 2), Some(4));
        assert_eq!(too_deep("[[a.b.c]]", Syntax::Toml, 3), Some(5));
        assert_eq!(too_deep("x = { a.b.c = 1 }", Syntax::Toml, 2), Some(9));
        assert_eq!(too_deep("a = 1 # x\nb.c = 2", Syntax::Toml, 0), Some(11));
        // Sequential brackets do not add up.
        assert_eq!(too_deep(&"[1] ".repeat(1000), Syntax::Rego, 1), None);
    }

    #[test]
    fn parse_work_grows_with_nesting() {
        let nested = |d: usize| format!("x := {}1{}", "[".repeat(d), "]".repeat(d));
        assert_eq!(rego_too_deep(&nested(12), 12), None);
        assert_eq!(rego_too_deep(&nested(13), 12), Some(TooDeep::Nesting(17)));
        // Within the nesting limit, but many deep brackets add up.
        let many = nested(12).repeat((usize::try_from(REGO_PARSE_BUDGET).unwrap() >> 12) + 1);
        assert!(matches!(rego_too_deep(&many, 12), Some(TooDeep::Work(_))));
        // Many shallow brackets are fine.
        let shallow = "x := [[1]]\n".repeat(100_000);
        assert_eq!(rego_too_deep(&shallow, 12), None);
    }
}
