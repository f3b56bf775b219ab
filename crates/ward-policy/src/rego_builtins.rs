//! Size guards on the Rego builtins that can build a large value from small
//! arguments.
//!
//! regorus bounds evaluation time cooperatively, between steps; one builtin
//! call is one step. `numbers.range(1, 1e9)` or `sprintf("%03000000000d",
//! [1])` asks for gigabytes in a single call, and a failed allocation aborts
//! the process. Each guarded builtin is registered as an extension under its
//! own name (regorus consults extensions before builtins), checks its
//! arguments against the limits below, then calls regorus's own
//! implementation, so meaning is unchanged within the limits. The result of
//! every guarded call is checked too, so a value cannot double its way past
//! the limits one statement at a time. A guard's error is a Rego error: the
//! artifact is denied `rego-error`.

use regorus::unstable::{BUILTINS, BuiltinFcn, Expr, Ref, Source, Span};
use regorus::{Engine, Value};

/// Most elements one guarded builtin may return (`numbers.range`, `split`, …).
pub const MAX_ELEMENTS: usize = 1_000_000;
/// Longest string one guarded builtin may return, in bytes.
pub const MAX_STRING_BYTES: usize = 16 << 20;
/// Largest width or precision in a `sprintf` format.
pub const MAX_FORMAT_WIDTH: u64 = 10_000;
/// Largest shift for `bits.lsh`, in bits.
pub const MAX_SHIFT: f64 = 65_536.0;

type Check = fn(&[Value]) -> Result<(), String>;

/// The guarded builtins, their argument counts and argument checks.
const GUARDS: &[(&str, u8, Check)] = &[
    ("numbers.range", 2, range),
    ("numbers.range_step", 3, range_step),
    ("bits.lsh", 2, lsh),
    ("sprintf", 2, sprintf),
    ("replace", 3, replace),
    ("strings.replace_n", 2, replace_n),
    ("regex.replace", 3, regex_replace),
    ("split", 2, split),
    ("indexof_n", 2, split),
    ("concat", 2, concat),
    ("array.concat", 2, no_check),
    ("upper", 1, no_check),
    ("lower", 1, no_check),
    ("json.marshal", 1, no_check),
    ("json.marshal_with_options", 2, marshal_with_options),
    ("base64.encode", 1, no_check),
    ("hex.encode", 1, no_check),
    ("urlquery.encode", 1, no_check),
    ("urlquery.encode_object", 1, no_check),
    ("union", 1, no_check),
    ("object.union", 2, no_check),
    ("object.union_n", 1, no_check),
];

/// Guards for builtins ward's build of regorus leaves out (their features
/// are off); in place should a feature bring them in.
const OPTIONAL_GUARDS: &[(&str, u8, Check)] = &[
    ("walk", 1, no_check),
    ("base64url.encode", 1, no_check),
    ("base64url.encode_no_pad", 1, no_check),
    // Refused outright: a sleep the timer cannot interrupt, network access,
    // the process environment.
    ("test.sleep", 1, refuse),
    ("http.send", 1, refuse),
    ("opa.runtime", 0, refuse),
];

/// Registers the guards on an engine, before any policy is added.
pub(crate) fn install(engine: &mut Engine) -> Result<(), String> {
    for &(name, nargs, check) in GUARDS.iter().chain(OPTIONAL_GUARDS) {
        // A builtin this build of regorus lacks needs no guard.
        let Some(&builtin) = BUILTINS.get(name) else { continue };
        engine
            .add_extension(
                name.to_string(),
                nargs,
                Box::new(move |args: Vec<Value>| -> anyhow::Result<Value> {
                    check(&args).map_err(|m| anyhow::anyhow!("{name}: {m}"))?;
                    let value = call(name, builtin, &args)?;
                    check_result(&value).map_err(|m| anyhow::anyhow!("{name}: {m}"))?;
                    Ok(value)
                }),
            )
            .map_err(|e| format!("cannot guard builtin {name}: {e}"))?;
    }
    Ok(())
}

/// Calls regorus's implementation the way its interpreter does outside
/// strict mode: an argument error makes the call undefined.
fn call(name: &str, builtin: BuiltinFcn, args: &[Value]) -> anyhow::Result<Value> {
    let source = Source::from_contents(format!("<builtin {name}>"), name.to_string())?;
    let span = Span {
        source,
        line: 1,
        col: 1,
        start: 0,
        end: u32::try_from(name.len()).unwrap_or(0),
    };
    let params: Vec<Ref<Expr>> = args
        .iter()
        .map(|_| {
            Ref::new(Expr::Var {
                span: span.clone(),
                value: Value::from(name),
                eidx: 0,
            })
        })
        .collect();
    match builtin.0(&span, &params, args, false) {
        Ok(v) => Ok(v),
        Err(e) if e.downcast_ref::<regorus::LimitError>().is_some() => Err(e),
        Err(_) => Ok(Value::Undefined),
    }
}

/// The result of any guarded call must itself be within the limits.
fn check_result(value: &Value) -> Result<(), String> {
    let (len, what) = match value {
        Value::String(s) => (s.len(), "bytes"),
        Value::Array(a) => (a.as_slice().len(), "elements"),
        Value::Set(s) => (s.len(), "elements"),
        Value::Object(o) => (o.len(), "elements"),
        _ => return Ok(()),
    };
    let limit = if matches!(value, Value::String(_)) {
        MAX_STRING_BYTES
    } else {
        MAX_ELEMENTS
    };
    if len > limit {
        return Err(format!("result of {len} {what} is over ward's limit of {limit}"));
    }
    Ok(())
}

fn no_check(_: &[Value]) -> Result<(), String> {
    Ok(())
}

fn refuse(_: &[Value]) -> Result<(), String> {
    Err("not available in ward's Rego".to_string())
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v {
        Some(Value::Number(_)) => v.and_then(|v| v.as_f64().ok()),
        _ => None,
    }
}

fn string(v: Option<&Value>) -> Option<&str> {
    match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn elements(count: f64) -> Result<(), String> {
    if !count.is_finite() || count > MAX_ELEMENTS as f64 {
        return Err(format!(
            "would return more than ward's limit of {MAX_ELEMENTS} elements"
        ));
    }
    Ok(())
}

fn bytes(count: u128) -> Result<(), String> {
    if count > MAX_STRING_BYTES as u128 {
        return Err(format!(
            "would return more than ward's limit of {MAX_STRING_BYTES} bytes"
        ));
    }
    Ok(())
}

fn range(args: &[Value]) -> Result<(), String> {
    match (number(args.first()), number(args.get(1))) {
        (Some(a), Some(b)) => elements((b - a).abs() + 1.0),
        _ => Ok(()),
    }
}

fn range_step(args: &[Value]) -> Result<(), String> {
    match (number(args.first()), number(args.get(1)), number(args.get(2))) {
        (Some(a), Some(b), Some(step)) if step != 0.0 => elements((b - a).abs() / step.abs() + 1.0),
        _ => Ok(()),
    }
}

fn lsh(args: &[Value]) -> Result<(), String> {
    match number(args.get(1)) {
        Some(shift) if !shift.is_finite() || shift > MAX_SHIFT => {
            Err(format!("a shift over ward's limit of {MAX_SHIFT} bits"))
        }
        _ => Ok(()),
    }
}

/// Refuses any width or precision over [`MAX_FORMAT_WIDTH`] in the format
/// (regorus would also overflow a `u32` reading a long one).
fn sprintf(args: &[Value]) -> Result<(), String> {
    let Some(format) = string(args.first()) else {
        return Ok(());
    };
    let mut digits: u64 = 0;
    let mut in_spec = false;
    for c in format.chars() {
        if !in_spec {
            in_spec = c == '%';
            continue;
        }
        match c {
            '0'..='9' => {
                digits = digits.saturating_mul(10).saturating_add(u64::from(c) - u64::from('0'));
                if digits > MAX_FORMAT_WIDTH {
                    return Err(format!("a width or precision over ward's limit of {MAX_FORMAT_WIDTH}"));
                }
            }
            // regorus reads any Unicode digit here and then panics on one
            // that is not ASCII.
            c if c.is_numeric() => return Err(format!("a width written with {c:?}, not ASCII digits")),
            '.' | '+' | '-' | ' ' | '#' | '[' | ']' => digits = 0,
            _ => {
                digits = 0;
                in_spec = false;
            }
        }
    }
    Ok(())
}

/// The length of `s` with each of its `count` matches grown by `grow` bytes.
fn grown(s: &str, count: usize, grow: usize) -> u128 {
    s.len() as u128 + count as u128 * grow as u128
}

fn replace(args: &[Value]) -> Result<(), String> {
    let (Some(s), Some(old), Some(new)) = (string(args.first()), string(args.get(1)), string(args.get(2))) else {
        return Ok(());
    };
    let count = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old).count()
    };
    bytes(grown(s, count, new.len()))
}

fn replace_n(args: &[Value]) -> Result<(), String> {
    let (Some(Value::Object(patterns)), Some(s)) = (args.first(), string(args.get(1))) else {
        return Ok(());
    };
    // Whether applied in turn or at once, no replacement can make the text
    // longer than replacing every position with the longest replacement.
    let mut len = s.len() as u128;
    for (old, new) in patterns.iter() {
        let (Some(old), Some(new)) = (string(Some(old)), string(Some(new))) else {
            continue;
        };
        let count = if old.is_empty() {
            len + 1
        } else {
            len / old.len() as u128
        };
        len = len.saturating_add(count.saturating_mul(new.len() as u128));
        bytes(len)?;
    }
    Ok(())
}

fn regex_replace(args: &[Value]) -> Result<(), String> {
    let (Some(s), Some(new)) = (string(args.first()), string(args.get(2))) else {
        return Ok(());
    };
    // At most one match per position; each `$` group expands to at most the
    // whole text, and matches do not overlap.
    let groups = new.matches('$').count() as u128;
    bytes(grown(s, s.len() + 1, new.len()).saturating_add(groups.saturating_mul(s.len() as u128)))
}

fn split(args: &[Value]) -> Result<(), String> {
    let (Some(s), Some(sep)) = (string(args.first()), string(args.get(1))) else {
        return Ok(());
    };
    let count = if sep.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(sep).count() + 1
    };
    elements(count as f64)
}

fn concat(args: &[Value]) -> Result<(), String> {
    let Some(sep) = string(args.first()) else { return Ok(()) };
    let parts: Vec<&Value> = match args.get(1) {
        Some(Value::Array(a)) => a.as_slice().iter().collect(),
        Some(Value::Set(s)) => s.iter().collect(),
        _ => return Ok(()),
    };
    let total: u128 = parts
        .iter()
        .map(|p| string(Some(p)).map_or(0, str::len) as u128 + sep.len() as u128)
        .sum();
    bytes(total)
}

fn marshal_with_options(args: &[Value]) -> Result<(), String> {
    let Some(Value::Object(options)) = args.get(1) else {
        return Ok(());
    };
    for (key, value) in options.iter() {
        if matches!(string(Some(key)), Some("indent" | "prefix")) && string(Some(value)).is_some_and(|v| v.len() > 64) {
            return Err("an indent or prefix over ward's limit of 64 bytes".to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guard whose builtin is missing is skipped; make sure that is only
    /// ever the optional ones, so a rename in regorus cannot drop a guard
    /// unnoticed.
    #[test]
    fn every_size_guard_names_a_builtin_of_this_build() {
        for &(name, nargs, _) in GUARDS {
            let builtin = BUILTINS
                .get(name)
                .unwrap_or_else(|| panic!("{name} is not a regorus builtin"));
            assert_eq!(builtin.1, nargs, "{name}");
        }
    }
}
