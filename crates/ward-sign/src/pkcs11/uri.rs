//! RFC 7512 `pkcs11:` URIs: which module, token and key to use, and where
//! the PIN comes from.
//!
//! Written by hand on the `percent-encoding` crate: the one Rust parser on
//! crates.io (`pkcs11-uri`) is tied to the unmaintained `pkcs11` bindings
//! and `anyhow`. The grammar is small: `pkcs11:` then path attributes
//! separated by `;`, then optionally `?` and query attributes separated by
//! `&`, each `name=value` with percent-encoded values.
//!
//! Path attributes understood: `token`, `manufacturer`, `serial`, `model`
//! (the token), `slot-id`, `slot-description`, `slot-manufacturer` (the
//! slot), `library-manufacturer`, `library-description` (the module),
//! `object` (the key's `CKA_LABEL`), `id` (its `CKA_ID`, bytes) and
//! `type` (`private` or `public`). Query attributes: `module-path`,
//! `pin-value`, `pin-source` (a `file:` URI or a path). Anything else,
//! including vendor `x-` attributes and `library-version`, is refused rather
//! than ignored: a URI that narrows the choice in a way ward cannot honour
//! must not silently select another key. An attribute given twice is
//! refused (RFC 7512 section 2.3).
//!
//! The PIN is never shown: [`Pkcs11Uri::redacted`] and `Debug` print
//! `pin-value=(hidden)`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use std::fmt;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Why a URI was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid PKCS#11 URI: {0}")]
pub struct UriError(pub String);

/// Where the PIN comes from, as the URI says.
#[derive(Clone)]
pub enum PinSource {
    /// `pin-value=`: the PIN itself.
    Value(Zeroizing<String>),
    /// `pin-source=`: a file whose first line is the PIN.
    File(PathBuf),
}

/// A parsed `pkcs11:` URI.
#[derive(Clone, Default)]
pub struct Pkcs11Uri {
    /// `token=`: the token label.
    pub token: Option<String>,
    /// `manufacturer=`: the token manufacturer.
    pub manufacturer: Option<String>,
    /// `serial=`: the token serial number.
    pub serial: Option<String>,
    /// `model=`: the token model.
    pub model: Option<String>,
    /// `slot-id=`: the slot number.
    pub slot_id: Option<u64>,
    /// `slot-description=`.
    pub slot_description: Option<String>,
    /// `slot-manufacturer=`.
    pub slot_manufacturer: Option<String>,
    /// `library-manufacturer=`.
    pub library_manufacturer: Option<String>,
    /// `library-description=`.
    pub library_description: Option<String>,
    /// `object=`: the key label (`CKA_LABEL`).
    pub object: Option<String>,
    /// `id=`: the key identifier (`CKA_ID`), raw bytes.
    pub id: Option<Vec<u8>>,
    /// `module-path=`: the PKCS#11 module (shared library) to load.
    pub module_path: Option<PathBuf>,
    /// `pin-value=` or `pin-source=`.
    pub pin: Option<PinSource>,
}

/// Characters left as they are when a value is written back (RFC 7512's
/// `pk11-res-avail` minus the separators, kept conservative).
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn decode(name: &str, raw: &str) -> Result<Vec<u8>, UriError> {
    // A `%` must start a two-digit escape; percent_decode passes bad ones through.
    let b = raw.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'%' && !(i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
            return Err(UriError(format!("{name}: \"%\" not followed by two hex digits")));
        }
    }
    Ok(percent_decode_str(raw).collect())
}

fn text(name: &str, raw: &str) -> Result<String, UriError> {
    String::from_utf8(decode(name, raw)?)
        .map_err(|e| UriError(format!("{name}: not UTF-8 after percent-decoding ({})", e.utf8_error())))
}

fn set<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), UriError> {
    if slot.is_some() {
        return Err(UriError(format!("{name} given twice")));
    }
    *slot = Some(value);
    Ok(())
}

impl Pkcs11Uri {
    /// Parses a URI. Errors never contain a PIN.
    pub fn parse(uri: &str) -> Result<Self, UriError> {
        let rest = match uri.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("pkcs11:") => &uri[7..],
            _ => return Err(UriError("must start with \"pkcs11:\"".into())),
        };
        if uri.len() > 4096 {
            return Err(UriError("longer than 4096 bytes".into()));
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut out = Pkcs11Uri::default();
        for (n, attr) in path.split(';').filter(|a| !a.is_empty()).enumerate() {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| UriError(format!("path attribute {} has no \"=\"", n + 1)))?;
            match name {
                "token" => set(&mut out.token, name, text(name, value)?)?,
                "manufacturer" => set(&mut out.manufacturer, name, text(name, value)?)?,
                "serial" => set(&mut out.serial, name, text(name, value)?)?,
                "model" => set(&mut out.model, name, text(name, value)?)?,
                "slot-id" => {
                    let v = text(name, value)?;
                    let n = v
                        .parse::<u64>()
                        .map_err(|e| UriError(format!("slot-id {v:?} is not a decimal number ({e})")))?;
                    set(&mut out.slot_id, name, n)?
                }
                "slot-description" => set(&mut out.slot_description, name, text(name, value)?)?,
                "slot-manufacturer" => set(&mut out.slot_manufacturer, name, text(name, value)?)?,
                "library-manufacturer" => set(&mut out.library_manufacturer, name, text(name, value)?)?,
                "library-description" => set(&mut out.library_description, name, text(name, value)?)?,
                "object" => set(&mut out.object, name, text(name, value)?)?,
                "id" => set(&mut out.id, name, decode(name, value)?)?,
                "type" => match text(name, value)?.as_str() {
                    // ward finds the private key and its public key itself.
                    "private" | "public" => {}
                    other => {
                        return Err(UriError(format!(
                            "type={other}: ward signs with a key pair (type=private or type=public)"
                        )));
                    }
                },
                other => {
                    return Err(UriError(format!(
                        "path attribute {other:?} is not supported (token, manufacturer, serial, model, slot-id, slot-description, slot-manufacturer, library-manufacturer, library-description, object, id, type)"
                    )));
                }
            }
        }
        for (n, attr) in query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|a| !a.is_empty())
            .enumerate()
        {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| UriError(format!("query attribute {} has no \"=\"", n + 1)))?;
            match name {
                "module-path" => set(&mut out.module_path, name, PathBuf::from(text(name, value)?))?,
                "pin-value" => {
                    let pin = Zeroizing::new(decode(name, value)?);
                    let pin = String::from_utf8(pin.to_vec()).map_err(|e| {
                        let why = e.utf8_error().to_string();
                        // The error holds the PIN's bytes: wipe them too.
                        drop(Zeroizing::new(e.into_bytes()));
                        UriError(format!("pin-value: not UTF-8 after percent-decoding ({why})"))
                    })?;
                    set(
                        &mut out.pin,
                        "pin-value or pin-source",
                        PinSource::Value(Zeroizing::new(pin)),
                    )?
                }
                "pin-source" => {
                    let v = text(name, value)?;
                    let path = pin_source_path(&v)?;
                    set(&mut out.pin, "pin-value or pin-source", PinSource::File(path))?
                }
                "module-name" => {
                    return Err(UriError(
                        "module-name is not supported: give module-path=/path/to/module.so (or set WARD_PKCS11_MODULE)"
                            .into(),
                    ));
                }
                other => {
                    return Err(UriError(format!(
                        "query attribute {other:?} is not supported (module-path, pin-value, pin-source)"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Whether the URI names the key (by `object=` or `id=`).
    pub fn names_key(&self) -> bool {
        self.object.is_some() || self.id.is_some()
    }

    /// The URI written back, with a PIN value hidden: safe for messages.
    pub fn redacted(&self) -> String {
        let mut path: Vec<String> = Vec::new();
        let mut push = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                path.push(format!("{name}={}", utf8_percent_encode(v, VALUE)));
            }
        };
        push("token", &self.token);
        push("manufacturer", &self.manufacturer);
        push("serial", &self.serial);
        push("model", &self.model);
        push("slot-description", &self.slot_description);
        push("slot-manufacturer", &self.slot_manufacturer);
        push("library-manufacturer", &self.library_manufacturer);
        push("library-description", &self.library_description);
        push("object", &self.object);
        if let Some(n) = self.slot_id {
            path.push(format!("slot-id={n}"));
        }
        if let Some(id) = &self.id {
            path.push(format!(
                "id={}",
                id.iter().map(|b| format!("%{b:02x}")).collect::<String>()
            ));
        }
        let mut query = Vec::new();
        if let Some(m) = &self.module_path {
            query.push(format!(
                "module-path={}",
                utf8_percent_encode(&m.to_string_lossy(), VALUE)
                    .to_string()
                    .replace("%2F", "/")
            ));
        }
        match &self.pin {
            Some(PinSource::Value(_)) => query.push("pin-value=(hidden)".into()),
            Some(PinSource::File(p)) => query.push(format!(
                "pin-source={}",
                utf8_percent_encode(&p.to_string_lossy(), VALUE)
                    .to_string()
                    .replace("%2F", "/")
            )),
            None => {}
        }
        let mut s = format!("pkcs11:{}", path.join(";"));
        if !query.is_empty() {
            s.push('?');
            s.push_str(&query.join("&"));
        }
        s
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `pin-source`: a `file:` URI (`file:/abs`, `file:///abs`) or a plain path.
/// Running a program (`|cmd`, as some tools allow) is refused.
fn pin_source_path(v: &str) -> Result<PathBuf, UriError> {
    if v.starts_with('|') {
        return Err(UriError(
            "pin-source: running a program for the PIN is not supported; name a file".into(),
        ));
    }
    let path = match v.strip_prefix("file:") {
        Some(rest) => match rest.strip_prefix("//") {
            // file://localhost/abs or file:///abs
            Some(after) => {
                let slash = after.find('/').unwrap_or(after.len());
                let host = &after[..slash];
                if !host.is_empty() && host != "localhost" {
                    return Err(UriError(format!("pin-source: file URI host {host:?} is not local")));
                }
                &after[slash..]
            }
            None => rest,
        },
        None => v,
    };
    if path.is_empty() {
        return Err(UriError("pin-source: empty path".into()));
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7512_examples_parse() {
        // RFC 7512 section 3 examples (those using supported attributes).
        let u = Pkcs11Uri::parse("pkcs11:object=my-pubkey;type=public").unwrap();
        assert_eq!(u.object.as_deref(), Some("my-pubkey"));
        let u = Pkcs11Uri::parse("pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=private;id=%69%95%3E%5C%F4%BD%EC%91").unwrap();
        assert_eq!(u.token.as_deref(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(u.manufacturer.as_deref(), Some("Snake Oil, Inc."));
        assert_eq!(
            u.id.as_deref(),
            Some(&[0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91][..])
        );
        let u = Pkcs11Uri::parse(
            "pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1&pin-source=file:/etc/token_pin",
        )
        .unwrap();
        assert_eq!(
            u.module_path.as_deref(),
            Some(std::path::Path::new("/mnt/libmypkcs11.so.1"))
        );
        assert!(matches!(&u.pin, Some(PinSource::File(p)) if p == std::path::Path::new("/etc/token_pin")));
        let u = Pkcs11Uri::parse("pkcs11:slot-id=1;object=k?pin-value=123%20456").unwrap();
        assert_eq!(u.slot_id, Some(1));
        assert!(matches!(&u.pin, Some(PinSource::Value(p)) if p.as_str() == "123 456"));
        assert!(Pkcs11Uri::parse("PKCS11:token=a").is_ok());
        assert!(Pkcs11Uri::parse("pkcs11:").is_ok());
    }

    #[test]
    fn the_pin_is_never_shown() {
        let u = Pkcs11Uri::parse("pkcs11:token=t;object=k?pin-value=s3cret-pin").unwrap();
        for shown in [u.redacted(), format!("{u:?}"), format!("{u}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("pin-value=(hidden)"), "{shown}");
        }
        let e = Pkcs11Uri::parse("pkcs11:token=t;s3cret-pin").unwrap_err().to_string();
        assert!(!e.contains("s3cret"), "{e}");
        let e = Pkcs11Uri::parse("pkcs11:token=t?pin-value=s3cret&pin-value=s3cret")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[test]
    fn what_ward_cannot_honour_is_refused() {
        for (uri, says) in [
            ("file:/x", "pkcs11:"),
            ("pkcs11:token=a;token=b", "twice"),
            ("pkcs11:x-vendor=1", "x-vendor"),
            ("pkcs11:library-version=1", "library-version"),
            ("pkcs11:type=cert", "type=cert"),
            ("pkcs11:object=a%2", "hex"),
            ("pkcs11:object=a?module-name=softhsm2", "module-path"),
            ("pkcs11:object=a?pin-source=|/bin/echo", "program"),
            ("pkcs11:object=a?pin-source=file://example.com/pin", "not local"),
            ("pkcs11:slot-id=x", "decimal"),
            ("pkcs11:object=%ff", "UTF-8"),
        ] {
            let e = Pkcs11Uri::parse(uri).unwrap_err().to_string();
            assert!(e.contains(says), "{uri}: {e}");
        }
    }

    #[test]
    fn redacted_form_parses_back_to_the_same_key() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=ward%20test;object=release;id=%01%ff?module-path=/usr/lib/softhsm/libsofthsm2.so",
        )
        .unwrap();
        let again = Pkcs11Uri::parse(&u.redacted()).unwrap();
        assert_eq!(again.token, u.token);
        assert_eq!(again.object, u.object);
        assert_eq!(again.id, u.id);
        assert_eq!(again.module_path, u.module_path);
    }
}
