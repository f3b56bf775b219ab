//! Maven's version order, as `org.apache.maven.artifact.versioning.ComparableVersion`
//! defines it: items split on `.`, `-` and digit/letter transitions; numbers
//! compare by value; qualifiers in the order alpha < beta < milestone < rc
//! < snapshot < (release) < sp, unknown qualifiers after them alphabetically;
//! `-` opens a sub-list. Written here: no Rust crate implements it.

use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Int(String),
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: &str = "5";

fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let mut v = value.to_string();
    if followed_by_digit && v.len() == 1 {
        v = match v.as_str() {
            "a" => "alpha".into(),
            "b" => "beta".into(),
            "m" => "milestone".into(),
            _ => v,
        };
    }
    let v = match v.as_str() {
        "ga" | "final" | "release" => String::new(),
        "cr" => "rc".into(),
        _ => v,
    };
    Item::Str(v)
}

fn cmp_digits(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(v) => v.trim_start_matches('0').is_empty(),
            Item::Str(v) => comparable_qualifier(v) == RELEASE_INDEX,
            Item::List(l) => l.is_empty(),
        }
    }

    /// Compares with another item, or with "nothing" (`None`).
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(v), None) => {
                if v.trim_start_matches('0').is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => cmp_digits(a, b),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(v), None) => comparable_qualifier(v).cmp(&RELEASE_INDEX.to_string()),
            (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => comparable_qualifier(a).cmp(&comparable_qualifier(b)),
            (Item::Str(_), Some(Item::List(_))) => Ordering::Less,
            (Item::List(l), None) => match l.first() {
                None => Ordering::Equal,
                Some(first) => first.compare(None),
            },
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => {
                let n = a.len().max(b.len());
                for i in 0..n {
                    let r = match (a.get(i), b.get(i)) {
                        (None, None) => Ordering::Equal,
                        (None, Some(r)) => r.compare(None).reverse(),
                        (Some(l), r) => l.compare(r),
                    };
                    if r != Ordering::Equal {
                        return r;
                    }
                }
                Ordering::Equal
            }
        }
    }
}

/// Maven 3.9's normalisation: a null item (0, a release qualifier, an
/// empty list) is dropped when it is last, when a string follows it, or when
/// a list that starts with a string follows it.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if !list[i].is_null() {
            continue;
        }
        let drop = match list.get(i + 1) {
            None => true,
            Some(Item::Str(_)) => true,
            Some(Item::List(next)) => matches!(next.first(), Some(Item::Str(_))),
            Some(Item::Int(_)) => false,
        };
        if drop {
            list.remove(i);
        }
    }
}

/// A Maven version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MavenVersion {
    items: Item,
}

impl MavenVersion {
    /// Parses any non-empty string (Maven accepts everything).
    pub fn parse(text: &str) -> Option<Self> {
        let version = text.trim().to_lowercase();
        if version.is_empty() {
            return None;
        }
        // A stack of lists; the innermost is being filled.
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let chars: Vec<char> = version.chars().collect();
        let mut is_digit = false;
        let mut start = 0;
        let parse_item = |digit: bool, s: &str, followed_by_digit: bool| {
            if digit {
                Item::Int(s.to_string())
            } else {
                string_item(s, followed_by_digit)
            }
        };
        let close_into_parent = |stack: &mut Vec<Vec<Item>>| {
            // Open a new sub-list inside the current one.
            stack.push(Vec::new());
        };
        for i in 0..chars.len() {
            let c = chars[i];
            let piece = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
            if c == '.' || c == '-' {
                let item = if i == start {
                    Item::Int("0".into())
                } else {
                    parse_item(is_digit, &piece(start, i), false)
                };
                stack.last_mut()?.push(item);
                start = i + 1;
                // `-` opens a sub-list; `.` continues the current one.
                if c == '-' {
                    close_into_parent(&mut stack);
                }
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    stack.last_mut()?.push(string_item(&piece(start, i), true));
                    start = i;
                    close_into_parent(&mut stack);
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    stack.last_mut()?.push(parse_item(true, &piece(start, i), false));
                    start = i;
                    close_into_parent(&mut stack);
                }
                is_digit = false;
            }
        }
        if chars.len() > start {
            let rest: String = chars[start..].iter().collect();
            stack.last_mut()?.push(parse_item(is_digit, &rest, false));
        }
        // Fold the stack: each list is normalised and becomes the last item of its parent.
        while stack.len() > 1 {
            let mut list = stack.pop()?;
            normalize(&mut list);
            stack.last_mut()?.push(Item::List(list));
        }
        let mut root = stack.pop()?;
        normalize(&mut root);
        Some(Self {
            items: Item::List(root),
        })
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.items.compare(Some(&other.items))
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
