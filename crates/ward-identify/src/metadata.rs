//! Reading a package's name and version from its own metadata file.

use crate::error::ArchiveError;

/// A name and version as the package states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameVersion {
    pub(crate) name: String,
    pub(crate) version: String,
    /// The declared licence, as written (an SPDX expression, if the author followed the spec).
    pub(crate) license: Option<String>,
}

fn some_text(v: Option<&str>) -> Option<String> {
    v.map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

fn malformed(what: &str, why: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::MetadataMalformed(format!("{what}: {why}"))
}

fn non_empty(what: &str, field: &str, v: Option<&str>) -> Result<String, ArchiveError> {
    match v.map(str::trim) {
        Some(s) if !s.is_empty() && !s.contains(['\n', '\r']) => Ok(s.to_string()),
        _ => Err(malformed(what, format!("no usable `{field}`"))),
    }
}

/// npm's `package.json`.
pub(crate) fn npm_package_json(bytes: &[u8]) -> Result<NameVersion, ArchiveError> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| malformed("package.json", e))?;
    let raw = v.get("name").and_then(|n| n.as_str());
    let name = non_empty("package.json", "name", raw)?;
    // The name as npm sees it, untrimmed.
    check_npm_name(raw.unwrap_or_default())?;
    Ok(NameVersion {
        name,
        version: non_empty("package.json", "version", v.get("version").and_then(|n| n.as_str()))?,
        // `license` is an SPDX expression; the deprecated `{"type": …}` object form is read too.
        license: some_text(
            v.get("license")
                .and_then(|l| l.as_str().or_else(|| l.get("type").and_then(|t| t.as_str()))),
        ),
    })
}

/// npm's rules for a package name (validate-npm-package-name, the rules
/// every published name meets): at most 214 characters, no leading `.` or
/// `_`, no surrounding spaces, not `node_modules` or `favicon.ico`, and
/// URL-safe, either plain or `@scope/name`. Capitals and `~'!()*` are kept
/// for names published before npm refused them. Neither part may be `.`,
/// `..` or start with `.` (a scoped `@x/..` would install outside
/// `node_modules/@x/`).
pub(crate) fn check_npm_name(name: &str) -> Result<(), ArchiveError> {
    let bad = |why: &str| {
        malformed(
            "package.json",
            format!("name {name:?} is not a valid npm package name: {why}"),
        )
    };
    if name.len() > 214 {
        return Err(bad("longer than 214 characters"));
    }
    if name.trim() != name {
        return Err(bad("leading or trailing spaces"));
    }
    if name.starts_with('.') || name.starts_with('_') {
        return Err(bad("starts with `.` or `_`"));
    }
    if matches!(name.to_ascii_lowercase().as_str(), "node_modules" | "favicon.ico") {
        return Err(bad("a reserved name"));
    }
    // What encodeURIComponent leaves alone.
    let url_safe = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '!' | '~' | '*' | '\'' | '(' | ')'))
    };
    let ok = match name.strip_prefix('@') {
        Some(scoped) => scoped
            .split_once('/')
            .is_some_and(|(scope, pkg)| url_safe(scope) && url_safe(pkg)),
        None => url_safe(name),
    };
    if !ok {
        return Err(bad("not URL-safe (or not `@scope/name`)"));
    }
    Ok(())
}

/// Python core metadata (`METADATA` in wheels, `PKG-INFO` in sdists): an
/// RFC 822-style header block; the first `Name` and `Version` win. A
/// `Name` or `Version` folded over several lines is refused: Python's email
/// parser reads the continuation as part of the value.
pub(crate) fn core_metadata(what: &str, bytes: &[u8]) -> Result<NameVersion, ArchiveError> {
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(what, e))?;
    let (mut name, mut version, mut expression, mut legacy) = (None, None, None, None);
    let mut previous = String::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.contains('\r') {
            // Python's email parser (pip, importlib.metadata) ends a line at
            // a lone CR too: `Summary: x\rName: evil` holds a Name for it.
            return Err(malformed(what, "a carriage return inside a header line"));
        }
        if line.starts_with([' ', '\t']) {
            if matches!(previous.as_str(), "name" | "version") {
                return Err(malformed(
                    what,
                    format!("the `{previous}` header is folded over several lines"),
                ));
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            previous = key.trim().to_ascii_lowercase();
            match previous.as_str() {
                "name" if name.is_none() => name = Some(value.trim()),
                "version" if version.is_none() => version = Some(value.trim()),
                "license-expression" if expression.is_none() => expression = Some(value.trim()),
                "license" if legacy.is_none() => legacy = Some(value.trim()),
                _ => {}
            }
        }
    }
    Ok(NameVersion {
        name: non_empty(what, "Name", name)?,
        version: non_empty(what, "Version", version)?,
        // PEP 639's License-Expression is SPDX; the older free-text License
        // field is used only when it is a single line (it often holds a
        // whole licence text, which is not an expression).
        license: some_text(expression).or_else(|| some_text(legacy).filter(|l| l.len() < 100)),
    })
}

/// A crate's normalised `Cargo.toml`.
pub(crate) fn cargo_toml(bytes: &[u8]) -> Result<NameVersion, ArchiveError> {
    let text = std::str::from_utf8(bytes).map_err(|e| malformed("Cargo.toml", e))?;
    let v: toml::Table = toml::from_str(text).map_err(|e| malformed("Cargo.toml", e.message()))?;
    let package = v.get("package").and_then(|p| p.as_table());
    let get = |k: &str| package.and_then(|p| p.get(k)).and_then(|x| x.as_str());
    Ok(NameVersion {
        name: non_empty("Cargo.toml", "package.name", get("name"))?,
        version: non_empty("Cargo.toml", "package.version", get("version"))?,
        license: some_text(get("license")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_format_and_refuses_missing_fields() {
        let nv = npm_package_json(br#"{"name":"@acme/x","version":"1.2.3"}"#).unwrap();
        assert_eq!((nv.name.as_str(), nv.version.as_str()), ("@acme/x", "1.2.3"));
        assert!(npm_package_json(br#"{"name":"x"}"#).is_err());
        assert!(npm_package_json(b"{").is_err());

        let nv = core_metadata(
            "METADATA",
            b"Metadata-Version: 2.1\nName: Sample_Project\nVersion: 4.0\n\nName: ignored\n",
        )
        .unwrap();
        assert_eq!((nv.name.as_str(), nv.version.as_str()), ("Sample_Project", "4.0"));
        assert!(core_metadata("METADATA", b"Name: x\n").is_err());
        assert!(core_metadata("METADATA", b"Name: good\n evil\nVersion: 1\n").is_err());
        assert!(core_metadata("METADATA", b"Name: good\nVersion: 1\n\tmore\n").is_err());
        assert!(
            core_metadata(
                "METADATA",
                b"Summary: x\rName: evil\rVersion: 6.6.6\nName: good\nVersion: 1\n"
            )
            .is_err()
        );
        let nv = core_metadata("METADATA", b"Name: good\r\nVersion: 1\r\n\r\nbody\rmore").unwrap();
        assert_eq!((nv.name.as_str(), nv.version.as_str()), ("good", "1"));
        let nv = core_metadata("METADATA", b"Name: good\nSummary: a\n b\nVersion: 1\n").unwrap();
        assert_eq!(nv.version, "1");

        for bad in [
            "../../etc",
            ".x",
            "_x",
            " x",
            "a/b",
            "@s/../x",
            "@s/",
            "@/x",
            "node_modules",
            "caf\u{e9}",
        ] {
            assert!(check_npm_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_npm_name(&"x".repeat(215)).is_err());
        for good in ["left-pad", "@acme/left-pad", "JSONStream", "lodash.merge", "x"] {
            assert!(check_npm_name(good).is_ok(), "{good:?} refused");
        }

        let nv = cargo_toml(b"[package]\nname = \"serde\"\nversion = \"1.0.0\"\n").unwrap();
        assert_eq!(nv.name, "serde");
        assert!(cargo_toml(b"[package]\nname = 1\n").is_err());
    }
}
