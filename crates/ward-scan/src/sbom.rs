//! SBOMs as scan targets: CycloneDX 1.4–1.6 and SPDX 2.3, JSON.
//!
//! Components are identified by their package URL (CycloneDX `purl`, SPDX
//! `externalRefs` of type `purl`). A component without one, or with a purl
//! of an ecosystem ward does not scan, is reported as "could not evaluate".

use serde_json::Value;
use ward_core::{Component, Ecosystem, PackageId, Unpinned};

/// Whether a JSON document is an SBOM ward reads.
pub fn is_sbom(v: &Value) -> bool {
    v.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") || v.get("spdxVersion").is_some()
}

fn component(
    purl: Option<&str>,
    license: Option<String>,
    label: &str,
    source: &str,
    out: &mut Vec<Component>,
    unevaluable: &mut Vec<Unpinned>,
) {
    let miss = |reason: String| Unpinned {
        entry: label.to_string(),
        source: source.to_string(),
        reason,
    };
    match purl {
        None => unevaluable.push(miss("no package URL: its ecosystem is unknown".into())),
        Some(p) => match p.parse::<PackageId>() {
            Ok(id) if id.version.is_some() && usable(p, &id).is_err() => {
                let why = usable(p, &id).err().unwrap_or_default();
                unevaluable.push(miss(format!("{p}: {why}")))
            }
            Ok(id) if id.version.is_some() => out.push(Component {
                id,
                source: source.to_string(),
                line: None,
                license,
                states_licenses: true,
                digests: Vec::new(),
            }),
            Ok(_) => unevaluable.push(miss(format!("{p} has no version"))),
            Err(e) => unevaluable.push(miss(format!("{p}: {e}"))),
        },
    }
}

/// Whether a parsed purl names a package ward can look up: the text's
/// percent-escapes are well formed, and the name, namespace and version
/// are non-empty and made of the characters their ecosystem allows. A purl
/// parser is lenient (`pkg:npm/%ZZ%@@@1` parses); a name no registry could
/// hold matches no advisory, so it would otherwise scan clean.
fn usable(raw: &str, id: &PackageId) -> Result<(), String> {
    let bytes = raw.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err("a `%` that is not followed by two hex digits".into());
        }
    }
    fn plain(c: char) -> bool {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
    }
    // validate-npm-package-name: URL-safe characters.
    fn npm(c: char) -> bool {
        plain(c) || matches!(c, '!' | '~' | '*' | '\'' | '(' | ')')
    }
    // Module paths and generic names: anything printable but the purl's own separators.
    fn printable(c: char) -> bool {
        !c.is_whitespace() && !c.is_control() && !matches!(c, '@' | '%' | '?' | '#')
    }
    let name_ok: fn(char) -> bool = match id.ecosystem {
        Ecosystem::Npm => npm,
        Ecosystem::Pypi | Ecosystem::Cargo | Ecosystem::Maven => plain,
        Ecosystem::Golang | Ecosystem::Generic => printable,
    };
    if id.name.is_empty() || !id.name.chars().all(name_ok) {
        return Err(format!("{:?} is not a {} package name", id.name, id.ecosystem));
    }
    if let Some(ns) = &id.namespace {
        let ok = match id.ecosystem {
            Ecosystem::Npm => ns.len() > 1 && ns.starts_with('@') && ns[1..].chars().all(name_ok),
            Ecosystem::Pypi | Ecosystem::Cargo => false,
            Ecosystem::Maven => ns.chars().all(plain),
            Ecosystem::Golang | Ecosystem::Generic => ns.split('/').all(|s| !s.is_empty() && s.chars().all(name_ok)),
        };
        if !ok {
            return Err(format!("{ns:?} is not a {} namespace", id.ecosystem));
        }
    }
    let version = id.version.as_deref().unwrap_or_default();
    if version.is_empty() || version.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@') {
        return Err(format!("{version:?} is not a version"));
    }
    Ok(())
}

/// A CycloneDX component's licences as one SPDX expression: an
/// `expression` entry as is, several `license` ids joined with AND (the
/// CycloneDX spec says all listed licences apply).
fn cyclonedx_license(c: &Value) -> Option<String> {
    let list = c.get("licenses")?.as_array()?;
    let mut terms = Vec::new();
    for l in list {
        if let Some(e) = l.get("expression").and_then(|e| e.as_str()) {
            terms.push(format!("({e})"));
        } else if let Some(lic) = l.get("license") {
            match (
                lic.get("id").and_then(|i| i.as_str()),
                lic.get("name").and_then(|n| n.as_str()),
            ) {
                (Some(id), _) => terms.push(id.to_string()),
                // A free-text name is not an SPDX identifier: keep it, so that
                // it fails to parse and shows up as unknown rather than vanishing.
                (None, Some(name)) => terms.push(format!("({name})")),
                (None, None) => {}
            }
        }
    }
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" AND "))
    }
}

fn cyclonedx(
    list: &[Value],
    source: &str,
    out: &mut Vec<Component>,
    unevaluable: &mut Vec<Unpinned>,
    depth: usize,
) -> Result<(), String> {
    if depth > 64 {
        return Err("components nest deeper than 64 levels".into());
    }
    for c in list {
        let name = c.get("name").and_then(|n| n.as_str()).unwrap_or("?");
        let version = c.get("version").and_then(|n| n.as_str()).unwrap_or("");
        let label = if version.is_empty() {
            name.to_string()
        } else {
            format!("{name}@{version}")
        };
        // Files, operating systems and other non-library components carry no purl on purpose.
        let kind = c.get("type").and_then(|t| t.as_str()).unwrap_or("library");
        if matches!(kind, "library" | "framework" | "application") || c.get("purl").is_some() {
            component(
                c.get("purl").and_then(|p| p.as_str()),
                cyclonedx_license(c),
                &label,
                source,
                out,
                unevaluable,
            );
        }
        let children = as_list(c, "components")?;
        if !children.is_empty() {
            cyclonedx(children, source, out, unevaluable, depth + 1)?;
        }
    }
    Ok(())
}

/// `v[key]` as a list: absent or null is empty; anything else but an array
/// is malformed (an object in place of `components` must not read as none).
fn as_list<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("`{key}` is not an array")),
    }
}

/// Reads the components of an SBOM.
pub fn read(v: &Value, source: &str) -> Result<(Vec<Component>, Vec<Unpinned>), String> {
    let (mut out, mut unevaluable) = (Vec::new(), Vec::new());
    if v.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") {
        let spec = v.get("specVersion").and_then(|s| s.as_str()).unwrap_or_default();
        if !matches!(spec, "1.4" | "1.5" | "1.6") {
            return Err(format!(
                "CycloneDX {spec:?} is not a version ward reads (1.4, 1.5, 1.6)"
            ));
        }
        cyclonedx(as_list(v, "components")?, source, &mut out, &mut unevaluable, 0)?;
        return Ok((out, unevaluable));
    }
    let version = v.get("spdxVersion").and_then(|s| s.as_str()).unwrap_or_default();
    if version != "SPDX-2.3" {
        return Err(format!("{version:?} is not a version ward reads (SPDX-2.3)"));
    }
    for p in as_list(v, "packages")? {
        let name = p.get("name").and_then(|n| n.as_str()).unwrap_or("?");
        let version = p.get("versionInfo").and_then(|n| n.as_str()).unwrap_or("");
        // Every purl a package states is scanned: taking only the first
        // would let a harmless one hide the real one.
        let mut purls: Vec<Option<&str>> = as_list(p, "externalRefs")?
            .iter()
            .filter(|r| r.get("referenceType").and_then(|t| t.as_str()) == Some("purl"))
            .map(|r| r.get("referenceLocator").and_then(|l| l.as_str()))
            .collect();
        if purls.is_empty() {
            purls.push(None);
        }
        // Concluded wins over declared; NOASSERTION and NONE state nothing usable.
        let license = ["licenseConcluded", "licenseDeclared"]
            .iter()
            .filter_map(|k| p.get(*k).and_then(|l| l.as_str()))
            .find(|l| !matches!(*l, "NOASSERTION" | ""))
            .map(String::from);
        for purl in purls {
            component(
                purl,
                license.clone(),
                &format!("{name}@{version}"),
                source,
                &mut out,
                &mut unevaluable,
            );
        }
    }
    Ok((out, unevaluable))
}
