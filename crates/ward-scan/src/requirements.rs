//! `requirements*.txt` read as pip reads it, so that nothing pip would
//! install escapes the scan.
//!
//! Lines are joined and stripped as pip's `req_file.py` does (a trailing
//! `\` continues a line, `#` at the start or after white space begins a
//! comment, the requirement ends at the first ` -` option). A requirement
//! pinned with `==` is a component; anything else pip would install is
//! "could not evaluate", naming the file and line:
//!
//! - `-r`/`--requirement` files are followed: relative to the including
//!   file, at most [`MAX_DEPTH`] deep, each file once, only inside the
//!   directory of the file the scan was given (the project), and read
//!   through the bounded reader; one outside, missing, cyclic or too deep
//!   is reported, not followed;
//! - editables (`-e`), direct references (`name @ URL`), URLs and local
//!   paths install something other than the index's release;
//! - `${VAR}` is expanded by pip from the environment, which ward cannot see;
//! - an option ward does not know (including pip's abbreviations of long
//!   options) may change any of this.
//!
//! `-c`/`--constraint` files only narrow the versions of what the
//! requirements already name, so they add no components and are not read.
//! `--index-url`, `--extra-index-url` and `--find-links` change where a
//! pinned release is fetched from, not which name and version is installed,
//! so the pinned components are scanned as usual: a company mirror of PyPI
//! must not make every scan "could not evaluate". Whether the bytes from that
//! source are the registry's is the install gate's question (`ward run`,
//! the proxy), not the scanner's.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use ward_core::{Component, Ecosystem, PackageId, Unpinned};
use ward_input::{InputFile, limits};

/// Deepest chain of `-r` includes followed.
pub const MAX_DEPTH: usize = 10;
/// Most files read for one scan target.
const MAX_FILES: usize = 1_000;
/// Most bytes read, all included files together.
const MAX_TOTAL_BYTES: u64 = limits::LOCKFILE;

/// Options pip accepts in a requirements file, and whether each takes a value.
const OPTIONS: &[(&str, Option<char>, bool)] = &[
    ("--requirement", Some('r'), true),
    ("--constraint", Some('c'), true),
    ("--editable", Some('e'), true),
    ("--index-url", Some('i'), true),
    ("--extra-index-url", None, true),
    ("--find-links", Some('f'), true),
    ("--no-index", None, false),
    ("--pre", None, false),
    ("--prefer-binary", None, false),
    ("--require-hashes", None, false),
    ("--trusted-host", None, true),
    ("--use-feature", None, true),
    ("--only-binary", None, true),
    ("--no-binary", None, true),
    ("--hash", None, true),
    ("--config-settings", Some('C'), true),
    ("--global-option", None, true),
];

struct Reader {
    /// The project directory (canonical): the top file's directory.
    root: PathBuf,
    /// Files being read, outermost first (canonical).
    stack: Vec<PathBuf>,
    /// Files already read (canonical).
    done: HashSet<PathBuf>,
    bytes: u64,
    out: Vec<Component>,
    unevaluable: Vec<Unpinned>,
}

/// Reads a requirements file given to the scan (already read as `text`).
pub fn read(path: &Path, text: &str) -> Result<(Vec<Component>, Vec<Unpinned>), std::io::Error> {
    let canonical = path.canonicalize()?;
    let root = canonical
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let mut reader = Reader {
        root,
        stack: Vec::new(),
        done: HashSet::new(),
        bytes: text.len() as u64,
        out: Vec::new(),
        unevaluable: Vec::new(),
    };
    reader.file(&canonical, &path.display().to_string(), path, text);
    Ok((reader.out, reader.unevaluable))
}

/// pip's `COMMENT_RE` (`(^|\s+)#.*$`): where a comment starts, if anywhere.
fn comment_start(line: &str) -> Option<usize> {
    let mut previous_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && previous_space {
            return Some(i);
        }
        previous_space = c.is_whitespace();
    }
    None
}

/// Python's `str.splitlines()`, which pip uses: besides `\n`, `\r` and
/// `\r\n`, form feeds, vertical tabs, file/group/record separators, NEL
/// and the Unicode line and paragraph separators end a line. Splitting on
/// fewer would let a comment hide a line pip installs.
fn split_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        );
        if is_break {
            out.push(&text[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r'
                && let Some(&(j, '\n')) = chars.peek()
            {
                chars.next();
                end = j + 1;
            }
            start = end;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// pip's `join_lines` and `ignore_comments`: (first line number, text).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, line) in split_lines(text).into_iter().enumerate() {
        let number = i + 1;
        let is_comment = comment_start(line).is_some_and(|s| line[..s].trim().is_empty());
        if !line.ends_with('\\') || is_comment {
            let line = if is_comment {
                format!(" {line}")
            } else {
                line.to_string()
            };
            match pending.take() {
                Some((first, mut joined)) => {
                    joined.push_str(&line);
                    out.push((first, joined));
                }
                None => out.push((number, line)),
            }
        } else {
            let part = line.trim_matches('\\');
            match &mut pending {
                Some((_, joined)) => joined.push_str(part),
                None => pending = Some((number, part.to_string())),
            }
        }
    }
    if let Some(last) = pending {
        out.push(last);
    }
    out.into_iter()
        .filter_map(|(n, l)| {
            let l = match comment_start(&l) {
                Some(s) => &l[..s],
                None => &l[..],
            };
            let l = l.trim();
            (!l.is_empty()).then(|| (n, l.to_string()))
        })
        .collect()
}

/// A name as PEP 508 allows it.
fn valid_name(n: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    !n.is_empty()
        && n.chars().all(ok)
        && n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A requirement string: the pinned (name, version), or why not.
fn requirement(args: &str) -> Result<(String, String), String> {
    let spec = args.split(';').next().unwrap_or_default().trim();
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let (name, mut rest) = spec.split_at(name_end);
    if !valid_name(name) || rest.starts_with(['/', '\\', ':']) {
        return Err(
            "a URL or local path: pip installs it from there, not from the index ward's advisories describe".into(),
        );
    }
    rest = rest.trim_start();
    if let Some(after) = rest.strip_prefix('[') {
        let Some(close) = after.find(']') else {
            return Err("unclosed extras `[`".into());
        };
        rest = after[close + 1..].trim_start();
    }
    if rest.starts_with('@') {
        return Err("a direct reference (`name @ URL`): pip installs it from that URL, not from the index".into());
    }
    if spec.contains("://") || spec.starts_with(['.', '~']) {
        return Err(
            "a URL or local path: pip installs it from there, not from the index ward's advisories describe".into(),
        );
    }
    let unpinned = || "not pinned with `==`: the installed version is unknown".to_string();
    let Some(version) = rest.strip_prefix("==") else {
        return Err(unpinned());
    };
    let version = version.trim();
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '!' | '-' | '_');
    if version.is_empty() || !version.chars().all(ok) {
        return Err(unpinned());
    }
    Ok((name.to_string(), version.to_string()))
}

/// One option token: (canonical long name, value), consuming the next
/// token when the value is separate; `Err` for an option pip does not take
/// in a requirements file, or an abbreviation of one.
fn option<'a>(
    token: &'a str,
    rest: &mut impl Iterator<Item = &'a str>,
) -> Result<(&'static str, Option<String>), String> {
    let (long, inline) = if let Some(long) = token.strip_prefix("--") {
        match long.split_once('=') {
            Some((l, v)) => (OPTIONS.iter().find(|o| &o.0[2..] == l), Some(v.to_string())),
            None => (OPTIONS.iter().find(|o| &o.0[2..] == long), None),
        }
    } else {
        let mut chars = token[1..].chars();
        let short = chars.next();
        let tail = chars.as_str();
        (
            OPTIONS.iter().find(|o| o.1.is_some() && o.1 == short),
            // optparse takes the rest of the token as the value, `=` and all.
            (!tail.is_empty()).then(|| tail.to_string()),
        )
    };
    let Some(&(name, _, takes_value)) = long else {
        return Err(format!(
            "{token}: an option ward does not know, which may change what pip installs"
        ));
    };
    if !takes_value {
        return match inline {
            None => Ok((name, None)),
            Some(_) => Err(format!("{token}: {name} takes no value")),
        };
    }
    match inline.or_else(|| rest.next().map(str::to_string)) {
        Some(v) if !v.is_empty() => Ok((name, Some(v))),
        _ => Err(format!("{token}: no value")),
    }
}

impl Reader {
    /// Records a line that could not be evaluated; `at` is `FILE:LINE`.
    /// The source is the file (as for components; SARIF locates by it), the
    /// reason starts with the line.
    fn miss(&mut self, entry: &str, at: &str, reason: String) {
        let (file, line) = at.rsplit_once(':').unwrap_or((at, "?"));
        self.unevaluable.push(Unpinned {
            entry: entry.to_string(),
            source: file.to_string(),
            reason: format!("line {line}: {reason}"),
        });
    }

    /// Reads one file; `shown` is its path as the user would write it.
    fn file(&mut self, canonical: &Path, display: &str, shown: &Path, text: &str) {
        self.stack.push(canonical.to_path_buf());
        for (number, line) in logical_lines(text) {
            let at = format!("{display}:{number}");
            self.line(&line, &at, shown);
        }
        self.stack.pop();
        self.done.insert(canonical.to_path_buf());
    }

    fn line(&mut self, line: &str, at: &str, shown: &Path) {
        if line.contains("${") {
            return self.miss(
                line,
                at,
                "pip expands `${…}` from its environment, which ward cannot see".into(),
            );
        }
        // pip's `break_args_options`: the requirement ends at the first token starting with `-`.
        let tokens: Vec<&str> = line.split(' ').collect();
        let first_option = tokens.iter().position(|t| t.starts_with('-')).unwrap_or(tokens.len());
        let args = tokens[..first_option].join(" ");
        let options = tokens[first_option..].join(" ");
        if options.contains(['"', '\'', '\\']) {
            return self.miss(line, at, "quoted options, which ward does not read".into());
        }
        let mut parsed = Vec::new();
        let mut words = options.split_whitespace();
        while let Some(token) = words.next() {
            if !token.starts_with('-') || token == "-" || token == "--" {
                return self.miss(line, at, format!("{token}: not an option pip reads here"));
            }
            match option(token, &mut words) {
                Ok(o) => parsed.push(o),
                Err(why) => return self.miss(line, at, why),
            }
        }
        if !args.trim().is_empty() {
            // A requirement line: pip reads only its per-requirement options.
            let entry = args.split(';').next().unwrap_or_default().trim();
            return match requirement(&args) {
                Ok((name, version)) => {
                    let mut c = Component::new(
                        PackageId::new(Ecosystem::Pypi, None, &name, Some(version)),
                        shown.display().to_string(),
                    );
                    // `at` is `FILE:LINE` (the line a continued requirement starts on).
                    c.line = at.rsplit_once(':').and_then(|(_, n)| n.parse().ok());
                    self.out.push(c)
                }
                Err(why) => self.miss(entry, at, why),
            };
        }
        for (name, value) in parsed {
            let value = value.unwrap_or_default();
            match name {
                "--requirement" => self.include(&value, line, at, shown),
                "--editable" => self.miss(
                    line,
                    at,
                    format!("an editable install of {value}: not a release from the index"),
                ),
                // Index options change where a pinned release comes from and
                // constraints narrow versions of what is named; the rest
                // change how, not what.
                _ => {}
            }
        }
    }

    fn include(&mut self, value: &str, line: &str, at: &str, shown: &Path) {
        if value.contains("://") {
            return self.miss(line, at, format!("{value}: an included file ward does not fetch"));
        }
        let base = shown.parent().unwrap_or_else(|| Path::new(""));
        let target = base.join(value);
        let canonical = match target.canonicalize() {
            Ok(c) => c,
            Err(e) => return self.miss(line, at, format!("cannot read {}: {e}", target.display())),
        };
        if !canonical.starts_with(&self.root) {
            return self.miss(
                line,
                at,
                format!(
                    "{} is outside the project directory {}: ward reads included files only inside it",
                    target.display(),
                    self.root.display()
                ),
            );
        }
        if self.stack.contains(&canonical) {
            return self.miss(
                line,
                at,
                format!("{} includes itself (pip would fail)", target.display()),
            );
        }
        if self.done.contains(&canonical) {
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            return self.miss(
                line,
                at,
                format!("includes nest deeper than {MAX_DEPTH} files; ward stops here"),
            );
        }
        if self.done.len() + self.stack.len() >= MAX_FILES {
            return self.miss(line, at, format!("more than {MAX_FILES} included files"));
        }
        let text = match InputFile::new(&target, "requirements file", limits::LOCKFILE).read_to_string() {
            Ok(t) => t,
            Err(e) => return self.miss(line, at, e.to_string()),
        };
        self.bytes += text.len() as u64;
        if self.bytes > MAX_TOTAL_BYTES {
            return self.miss(
                line,
                at,
                format!("the included files come to more than {MAX_TOTAL_BYTES} bytes"),
            );
        }
        self.file(&canonical, &target.display().to_string(), &target, &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_strips_as_pip_does() {
        let lines = logical_lines("a==1 \\\n  --hash=x\n# c \\\nb==2 # x\n\n  \\\n");
        assert_eq!(lines, [(1, "a==1   --hash=x".to_string()), (4, "b==2".to_string())]);
    }

    #[test]
    fn lines_end_where_python_ends_them() {
        assert_eq!(split_lines("a\r\nb\x0bc\u{2028}d\re\n"), ["a", "b", "c", "d", "e"]);
        let lines = logical_lines("# hidden?\x0cvictim==1.0\n");
        assert_eq!(lines, [(2, "victim==1.0".to_string())]);
    }

    #[test]
    fn requirements() {
        assert_eq!(
            requirement("Foo[x, y] == 1.0 ; os_name == 'nt'").unwrap(),
            ("Foo".into(), "1.0".into())
        );
        assert!(requirement("foo==1.*").is_err());
        assert!(requirement("foo==1.0,<2").is_err());
        assert!(requirement("foo @ https://x/y.whl").is_err());
        assert!(requirement("foo>=1").is_err());
        assert!(requirement("C:\\x\\foo.whl").is_err());
        assert!(
            requirement("git+https://github.com/a/b#egg=b")
                .unwrap_err()
                .contains("URL")
        );
    }
}
