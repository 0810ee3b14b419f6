//! JSON in the exact shapes the reference writes, so files stay byte-compatible.

use serde_json::{Map, Value};

/// Recursively sort object keys (Python's `sort_keys=True`).
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::with_capacity(m.len());
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// One line with Python's default separators (`", "`, `": "`) and
/// `ensure_ascii=True`: the format of `status.events.jsonl` lines.
pub fn py_line(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_py(v, &mut out);
    out
}

fn write_py(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => write_py_float(f, out),
            None => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_ascii_str(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_ascii_str(k, out);
                out.push_str(": ");
                write_py(x, out);
            }
            out.push('}');
        }
    }
}

/// A float the way Python's `repr` writes it: the shortest digits that read
/// back the same, in plain notation for exponents -4..16 (always with a
/// fraction, `100.0`), otherwise `1.5e+16` / `1e-05`.
#[allow(clippy::string_slice)] // `digits` is the ASCII text of a float; every index is a char boundary
fn write_py_float(f: f64, out: &mut String) {
    if !f.is_finite() {
        // JSON cannot hold these; serde_json never produces them.
        out.push_str(if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `-1.2345e-7`.
    let sci = format!("{:e}", f);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let point = exp as usize + 1;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
}

/// A JSON string as [`py_line`] writes it (`ensure_ascii=True`), appended to `out`.
pub fn write_py_str(s: &str, out: &mut String) {
    write_ascii_str(s, out)
}

/// [`py_line`] of [`sorted`]`(v)`, appended to `out`.
pub fn write_py_sorted(v: &Value, out: &mut String) {
    write_py(&sorted(v), out)
}

fn write_ascii_str(s: &str, out: &mut String) {
    write_str(s, out, true)
}

/// A JSON string as serde_json writes it (characters past ASCII kept as they
/// are), appended to `out`.
pub fn write_json_str(s: &str, out: &mut String) {
    write_str(s, out, false)
}

/// A JSON string appended to `out`; `ascii`: every character outside
/// printable ASCII as `\u` escapes, as Python's `ensure_ascii=True` writes.
fn write_str(s: &str, out: &mut String, ascii: bool) {
    use std::fmt::Write;
    out.push('"');
    let plain = |b: u8| b >= 0x20 && b != b'"' && b != b'\\' && (!ascii || b <= 0x7e);
    // Folded without stopping early, so the compiler checks many bytes per
    // step (status.json writes five strings for each of 5,000 WPs).
    if s.bytes().fold(true, |all, b| all & plain(b)) {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ascii && (c as u32) > 0x7e) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{:04x}", unit);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Indent-2 pretty JSON plus a trailing newline (Python `indent=2`, non-ASCII kept).
pub fn pretty(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".to_string());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_are_written_as_python_repr() {
        let cases = [
            (1.5, "1.5"),
            (100.0, "100.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.6, "123456789012345.6"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (0.1, "0.1"),
            (1e300, "1e+300"),
        ];
        for (f, want) in cases {
            let mut s = String::new();
            write_py_float(f, &mut s);
            assert_eq!(s, want, "{f}");
        }
    }

    #[test]
    fn py_line_matches_python_json_dumps() {
        let v = sorted(&json!({"b": [1, 2], "a": "é\"x", "c": null, "d": {"z": true, "y": 1.5}}));
        assert_eq!(
            py_line(&v),
            r#"{"a": "\u00e9\"x", "b": [1, 2], "c": null, "d": {"y": 1.5, "z": true}}"#
        );
    }
}
