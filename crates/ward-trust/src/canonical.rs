//! Canonical JSON exactly as securesystemslib's `encode_canonical` writes
//! it (what python-tuf, and so most TUF repositories, sign): object keys
//! sorted by code point, no whitespace, integers only, and in strings only
//! `"` and `\` escaped; every other character, control characters and
//! non-NFC sequences included, is written as is. (The `olpc-cjson` crate
//! normalises strings to Unicode NFC, which securesystemslib does not: a
//! repository signing a decomposed accent would be refused.)

use serde_json::Value;

/// The canonical bytes of `v`; floats have no canonical form.
pub fn canonical_json(v: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    write(v, &mut out)?;
    Ok(out)
}

fn write(v: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => out.extend_from_slice(i.to_string().as_bytes()),
            (None, Some(u)) => out.extend_from_slice(u.to_string().as_bytes()),
            _ => return Err(format!("the number {n} is not an integer")),
        },
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // serde_json's map is ordered by key bytes: UTF-8 byte order is
            // code point order, as Python's sorted() on str.
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(k, out);
                out.push(b':');
                write(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::canonical_json;
    use serde_json::json;

    #[test]
    fn matches_securesystemslib_encode_canonical() {
        // Expected bytes from securesystemslib.formats.encode_canonical.
        let v = json!({"b": [1, -2, true, null], "a": "q\"u\\o\nte", "é": {"z": 0, "\u{301}e": "e\u{301}"}});
        let want = "{\"a\":\"q\\\"u\\\\o\nte\",\"b\":[1,-2,true,null],\"é\":{\"z\":0,\"\u{301}e\":\"e\u{301}\"}}";
        assert_eq!(String::from_utf8(canonical_json(&v).unwrap()).unwrap(), want);
        assert!(canonical_json(&json!({"f": 1.5})).is_err());
    }
}
