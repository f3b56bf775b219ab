//! Delegation path patterns, as python-tuf matches them: pattern and target
//! path must have the same number of `/`-separated parts, and each part
//! matches like Python's `fnmatch` (`*`, `?`, `[seq]`, `[!seq]`, case
//! sensitive), so a wildcard never crosses a `/`.

/// Whether `target_path` matches the delegation pattern `pattern`.
pub(crate) fn matches_path(pattern: &str, target_path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let t: Vec<&str> = target_path.split('/').collect();
    p.len() == t.len() && p.iter().zip(&t).all(|(p, t)| matches_part(p, t))
}

/// One `[...]` set at the start of `p` (after the `[`): the set's end
/// index in `p` and whether `c` is in it; `None` if the bracket is unclosed
/// (then `[` is a literal, as in Python).
fn class(p: &[char], c: char) -> Option<(usize, bool)> {
    let mut i = 0;
    let negate = matches!(p.first(), Some('!'));
    if negate {
        i += 1;
    }
    let start = i;
    let mut hit = false;
    while i < p.len() {
        if p[i] == ']' && i > start {
            return Some((i, hit != negate));
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            hit |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            hit |= p[i] == c;
            i += 1;
        }
    }
    None
}

/// fnmatch of one path part, iterative with single-star backtracking.
fn matches_part(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('?') => Some(pi + 1),
            Some('[') => match class(&p[pi + 1..], t[ti]) {
                Some((end, true)) => Some(pi + 1 + end + 1),
                Some((_, false)) => None,
                None => (t[ti] == '[').then_some(pi + 1),
            },
            Some(&c) => (c == t[ti]).then_some(pi + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                pi = next;
                ti += 1;
            }
            (None, Some((sp, st))) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            (None, None) => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches_path;

    #[test]
    fn wildcards_stay_within_one_path_part() {
        assert!(matches_path("*.md", "README.md"));
        assert!(!matches_path("*.md", "releases/README.md"));
        assert!(!matches_path("*.md", "README.MD"));
        assert!(matches_path("releases/*/*", "releases/x/x_v1"));
        assert!(matches_path("releases/y/*.zip", "releases/y/y_v1.zip"));
        assert!(!matches_path("releases/y/*.zip", "releases/z/z_v1.zip"));
        assert!(matches_path("foo-?.tgz", "foo-1.tgz"));
        assert!(!matches_path("foo-?.tgz", "foo-alpha.tgz"));
        assert!(matches_path("*", "anything"));
        assert!(!matches_path("*", "a/b"));
        assert!(matches_path("[ab]?[!x]", "a1y"));
        assert!(!matches_path("[ab]?[!x]", "a1x"));
        assert!(matches_path("[a-c]*", "beta"));
        assert!(matches_path("a[", "a["));
        assert!(matches_path("*a*b", "xxaxxb"));
        assert!(!matches_path("*a*b", "xxaxxbc"));
    }
}
