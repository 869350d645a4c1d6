//! Values and rows: their JSON forms and their canonical byte encoding (docs/versioning.md,
//! "Values and rows").
//!
//! A value is one of SQLite's five storage classes ([`Value`]). Its JSON form is what plans,
//! stored effects and `--json` output use; its canonical encoding is what every hash covers, so
//! the bytes here are part of the on-disk format and never change.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

pub use rusqlite::types::Value;

/// A row: column name -> value, ordered by name (byte order), which is the canonical order.
pub type Row = BTreeMap<String, Value>;

/// Integers within ±2^53 are written as plain JSON numbers; every JSON reader holds them exactly.
const JSON_SAFE_INT: i64 = 1 << 53;

const TAG_NULL: u8 = 0x00;
const TAG_INTEGER: u8 = 0x01;
const TAG_REAL: u8 = 0x02;
const TAG_TEXT: u8 = 0x03;
const TAG_BLOB: u8 = 0x04;

/// Why a JSON value, row or stored key could not be read. Each message says what is wrong and
/// which forms are accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// A JSON integer outside the signed 64-bit range.
    #[error(
        "integer {0} does not fit in SQLite's 64-bit INTEGER (-9223372036854775808 to \
         9223372036854775807), and {{\"$int\": \"...\"}} has the same range; store it as text \
         (\"{0}\") or as an approximate real ({{\"$real\": \"{0}\"}})"
    )]
    IntegerOutOfRange(String),
    /// `{"$int": ...}` whose payload is not a decimal string in the signed 64-bit range.
    #[error(
        "{{\"$int\": {0}}} is not a 64-bit integer: write a decimal string from \
         -9223372036854775808 to 9223372036854775807, e.g. {{\"$int\": \"9007199254740993\"}}"
    )]
    BadInt(String),
    /// `{"$real": ...}` whose payload is not a decimal string, `"inf"` or `"-inf"`.
    #[error(
        "{{\"$real\": {given}}}: {reason}; write a decimal string (\"0.1\", \"-2.5e-8\"), \"inf\" \
         or \"-inf\""
    )]
    BadReal { given: String, reason: &'static str },
    /// `{"$blob": ...}` whose payload is not standard padded base64.
    #[error(
        "{{\"$blob\": ...}}: {reason}; write the bytes as standard base64 with padding \
         (RFC 4648 section 4), e.g. {{\"$blob\": \"AAEC/w==\"}}"
    )]
    BadBlob { reason: String },
    /// A JSON object that is not one of the tagged forms.
    #[error(
        "{given} is not a value: a value is null, a number, a string, true/false (stored as \
         1/0), or an object with exactly one of the keys \"$int\" ({{\"$int\": \"<decimal>\"}}), \
         \"$real\" ({{\"$real\": \"<decimal>\" | \"inf\" | \"-inf\"}}), \"$blob\" \
         ({{\"$blob\": \"<base64>\"}})"
    )]
    UnknownObject { given: String },
    /// A JSON array where a value was expected.
    #[error(
        "an array is not a value: a value is null, a number, a string, true/false, or one of \
         {{\"$int\": \"<decimal>\"}}, {{\"$real\": \"<decimal>\"}}, {{\"$blob\": \"<base64>\"}}"
    )]
    Array,
    /// A row that is not a JSON object.
    #[error("a row must be a JSON object from column name to value, not {0}")]
    NotARow(&'static str),
    /// A bad value in one column of a row.
    #[error("column \"{column}\": {error}")]
    Column {
        column: String,
        error: Box<ValueError>,
    },
    /// Stored key bytes that are not a canonical key encoding.
    #[error("malformed key encoding: {0}")]
    BadKey(String),
}

/// The JSON form of a value (docs/versioning.md): null, a number (INTEGER within ±2^53; a finite
/// REAL always with a fraction or exponent, so it reads back as REAL with the same bits), a
/// string, or a tagged object (`$int`, `$real` for infinities, `$blob`). NaN, which SQLite cannot
/// store (it becomes NULL), is written as null.
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => {
            if (-JSON_SAFE_INT..=JSON_SAFE_INT).contains(i) {
                serde_json::Value::from(*i)
            } else {
                tagged("$int", i.to_string())
            }
        }
        Value::Real(f) => {
            if f.is_nan() {
                serde_json::Value::Null
            } else if f.is_infinite() {
                tagged("$real", if *f > 0.0 { "inf" } else { "-inf" }.to_string())
            } else {
                // serde_json prints finite f64 in the shortest form that reads back to the same
                // bits, always with a fraction or exponent (1.0, not 1).
                serde_json::Value::from(*f)
            }
        }
        Value::Text(s) => serde_json::Value::String(s.clone()),
        Value::Blob(b) => tagged("$blob", STANDARD.encode(b)),
    }
}

/// [`to_json`], in the form whose RFC 8785 (JCS) canonical text still reads back to the same
/// value. JCS prints every number the way JavaScript does, so `1.0` becomes `1` (an INTEGER when
/// read back) and `-0.0` becomes `0`; a REAL whose value is a whole number is therefore written
/// as `{"$real": "<decimal>"}`. Integers beyond ±2^53 are already tagged by [`to_json`]. Used for
/// the operations of a plan, which are hashed and stored as JCS.
pub fn to_json_for_jcs(v: &Value) -> serde_json::Value {
    match v {
        Value::Real(f) if f.is_finite() && f.fract() == 0.0 => tagged("$real", format!("{f:?}")),
        _ => to_json(v),
    }
}

fn tagged(tag: &str, payload: String) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert(tag.to_string(), serde_json::Value::String(payload));
    serde_json::Value::Object(m)
}

/// Reads a value from JSON. Accepts null; a JSON integer in the signed 64-bit range (INTEGER,
/// even beyond ±2^53); any other number (REAL: it has a fraction or exponent); a string (TEXT);
/// `true`/`false` (INTEGER 1/0: SQLite has no boolean type); and the tagged forms
/// `{"$int": "<decimal>"}`, `{"$real": "<decimal>" | "inf" | "-inf"}`, `{"$blob": "<base64>"}`.
pub fn from_json(v: &serde_json::Value) -> Result<Value, ValueError> {
    match v {
        serde_json::Value::Null => Ok(Value::Null),
        serde_json::Value::Bool(b) => Ok(Value::Integer(i64::from(*b))),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Value::Integer(i))
            } else if n.is_u64() {
                Err(ValueError::IntegerOutOfRange(n.to_string()))
            } else {
                match n.as_f64() {
                    Some(f) => Ok(Value::Real(f)),
                    // Unreachable without serde_json's arbitrary_precision feature.
                    None => Err(ValueError::IntegerOutOfRange(n.to_string())),
                }
            }
        }
        serde_json::Value::String(s) => Ok(Value::Text(s.clone())),
        serde_json::Value::Array(_) => Err(ValueError::Array),
        serde_json::Value::Object(m) => {
            let mut entries = m.iter();
            let (Some((tag, payload)), None) = (entries.next(), entries.next()) else {
                return Err(ValueError::UnknownObject {
                    given: describe_object(m),
                });
            };
            match tag.as_str() {
                "$int" => parse_int(payload),
                "$real" => parse_real(payload),
                "$blob" => parse_blob(payload),
                _ => Err(ValueError::UnknownObject {
                    given: describe_object(m),
                }),
            }
        }
    }
}

/// `{"a", "b"}`-style summary of an object's keys (its values may be large).
fn describe_object(m: &serde_json::Map<String, serde_json::Value>) -> String {
    if m.is_empty() {
        return "an empty object {}".to_string();
    }
    let keys: Vec<String> = m
        .keys()
        .take(5)
        .map(|k| serde_json::Value::String(k.clone()).to_string())
        .collect();
    let more = if m.len() > 5 { ", ..." } else { "" };
    format!("an object with keys {}{more}", keys.join(", "))
}

/// A short JSON rendering of a tagged form's payload, for messages.
fn show(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn parse_int(payload: &serde_json::Value) -> Result<Value, ValueError> {
    let bad = || ValueError::BadInt(show(payload));
    let serde_json::Value::String(s) = payload else {
        return Err(bad());
    };
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    s.parse::<i64>().map(Value::Integer).map_err(|_| bad())
}

fn parse_real(payload: &serde_json::Value) -> Result<Value, ValueError> {
    let bad = |reason| ValueError::BadReal {
        given: show(payload),
        reason,
    };
    let serde_json::Value::String(s) = payload else {
        return Err(bad("the payload must be a string"));
    };
    match s.as_str() {
        "inf" => return Ok(Value::Real(f64::INFINITY)),
        "-inf" => return Ok(Value::Real(f64::NEG_INFINITY)),
        _ => {}
    }
    if s.eq_ignore_ascii_case("nan") {
        return Err(bad(
            "NaN cannot be stored (SQLite turns it into NULL); use null",
        ));
    }
    if !is_json_number(s) {
        return Err(bad("not a decimal number"));
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Value::Real(f)),
        _ => Err(bad(
            "out of the range of a 64-bit float (about ±1.8e308); use \"inf\" or \"-inf\" for infinity",
        )),
    }
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn parse_blob(payload: &serde_json::Value) -> Result<Value, ValueError> {
    let serde_json::Value::String(s) = payload else {
        return Err(ValueError::BadBlob {
            reason: format!("the payload must be a string, not {}", show(payload)),
        });
    };
    STANDARD
        .decode(s)
        .map(Value::Blob)
        .map_err(|e| ValueError::BadBlob {
            reason: format!("not valid base64 ({e})"),
        })
}

/// The JSON form of a row: an object from column name to [`to_json`] value.
pub fn row_to_json(r: &Row) -> serde_json::Value {
    serde_json::Value::Object(
        r.iter()
            .map(|(name, v)| (name.clone(), to_json(v)))
            .collect(),
    )
}

/// Reads a row: a JSON object whose values are read with [`from_json`]. Column names are taken
/// as given (plans check them; see plan.rs).
pub fn row_from_json(v: &serde_json::Value) -> Result<Row, ValueError> {
    let serde_json::Value::Object(m) = v else {
        return Err(ValueError::NotARow(json_type_name(v)));
    };
    m.iter()
        .map(|(column, v)| {
            from_json(v)
                .map(|value| (column.clone(), value))
                .map_err(|e| ValueError::Column {
                    column: column.clone(),
                    error: Box::new(e),
                })
        })
        .collect()
}

/// "a string", "an array", ...: the JSON type of `v`, for messages.
pub fn json_type_name(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

// Lengths and counts are written as u32. They always fit: SQLite caps a string or blob at
// 2^31 - 1 bytes and a table at 32767 columns.
fn put_len(n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&(n as u32).to_be_bytes());
}

/// Canonical encoding of a string: 4-byte big-endian length, then its UTF-8 bytes.
pub fn encode_str(s: &str, out: &mut Vec<u8>) {
    put_len(s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

/// Canonical encoding of a value: one tag byte (0 NULL, 1 INTEGER, 2 REAL, 3 TEXT, 4 BLOB), then
/// the payload: 8 bytes big-endian (two's complement for INTEGER, IEEE-754 bits for REAL), or a
/// 4-byte big-endian length and the bytes.
pub fn encode_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(TAG_NULL),
        Value::Integer(i) => {
            out.push(TAG_INTEGER);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Value::Real(f) => {
            out.push(TAG_REAL);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        Value::Text(s) => {
            out.push(TAG_TEXT);
            encode_str(s, out);
        }
        Value::Blob(b) => {
            out.push(TAG_BLOB);
            put_len(b.len(), out);
            out.extend_from_slice(b);
        }
    }
}

/// Canonical encoding of a row: 4-byte big-endian column count, then each column in ascending
/// byte order of its name: the name ([`encode_str`]) and the value ([`encode_value`]).
pub fn encode_row(r: &Row, out: &mut Vec<u8>) {
    put_len(r.len(), out);
    // BTreeMap<String, _> iterates in byte order of the keys (str's Ord).
    for (name, v) in r {
        encode_str(name, out);
        encode_value(v, out);
    }
}

/// Canonical encoding of a key (a row's primary-key values in declaration order): 4-byte
/// big-endian count, then each value.
pub fn encode_key(values: &[Value], out: &mut Vec<u8>) {
    put_len(values.len(), out);
    for v in values {
        encode_value(v, out);
    }
}

/// `rowHash = SHA-256(canonical row)`.
pub fn row_hash(r: &Row) -> [u8; 32] {
    let mut buf = Vec::new();
    encode_row(r, &mut buf);
    Sha256::digest(&buf).into()
}

/// [`encode_key`] into a fresh buffer.
pub fn key_bytes(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_key(values, &mut out);
    out
}

/// Reads back a key written by [`encode_key`]. Rejects anything that is not exactly one canonical
/// key: unknown tags, truncation, invalid UTF-8 in TEXT, trailing bytes.
pub fn decode_key(bytes: &[u8]) -> Result<Vec<Value>, ValueError> {
    let mut r = Reader { bytes, pos: 0 };
    let count = r.u32()? as usize;
    // Every value takes at least one byte: never reserve more than the input could hold.
    let mut values = Vec::with_capacity(count.min(bytes.len()));
    for _ in 0..count {
        values.push(r.value()?);
    }
    if r.pos != bytes.len() {
        return Err(ValueError::BadKey(format!(
            "{} trailing bytes after {count} values",
            bytes.len() - r.pos
        )));
    }
    Ok(values)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ValueError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(ValueError::BadKey(format!(
                "truncated: needed {n} bytes at offset {}, {} left",
                self.pos,
                self.bytes.len() - self.pos
            )));
        };
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ValueError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u32(&mut self) -> Result<u32, ValueError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn value(&mut self) -> Result<Value, ValueError> {
        let at = self.pos;
        let [tag] = self.array()?;
        Ok(match tag {
            TAG_NULL => Value::Null,
            TAG_INTEGER => Value::Integer(i64::from_be_bytes(self.array()?)),
            TAG_REAL => Value::Real(f64::from_bits(u64::from_be_bytes(self.array()?))),
            TAG_TEXT => {
                let n = self.u32()? as usize;
                let s = std::str::from_utf8(self.take(n)?).map_err(|e| {
                    ValueError::BadKey(format!("TEXT at offset {at} is not UTF-8 ({e})"))
                })?;
                Value::Text(s.to_string())
            }
            TAG_BLOB => {
                let n = self.u32()? as usize;
                Value::Blob(self.take(n)?.to_vec())
            }
            other => {
                return Err(ValueError::BadKey(format!(
                    "unknown value tag 0x{other:02x} at offset {at}"
                )));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Equality that tells -0.0 from 0.0 (and would tell NaN payloads apart).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Real(x), Value::Real(y)) => x.to_bits() == y.to_bits(),
            _ => a == b,
        }
    }

    /// JSON text -> Value -> JSON text -> Value, as a stored effect would go.
    fn round_trip(v: &Value) -> Value {
        let text = serde_json::to_string(&to_json(v)).expect("serialise");
        let back: serde_json::Value = serde_json::from_str(&text).expect("parse");
        from_json(&back).expect("from_json")
    }

    fn all_classes() -> Vec<Value> {
        vec![
            Value::Null,
            Value::Integer(0),
            Value::Integer(-1),
            Value::Integer(i64::MIN),
            Value::Integer(i64::MAX),
            Value::Integer((1 << 53) - 1),
            Value::Integer(1 << 53),
            Value::Integer((1 << 53) + 1),
            Value::Integer(-(1 << 53) - 1),
            Value::Real(0.1),
            Value::Real(1.0),
            Value::Real(-0.0),
            Value::Real(0.0),
            Value::Real(1e308),
            Value::Real(f64::MAX),
            Value::Real(f64::MIN_POSITIVE),
            Value::Real(5e-324),
            Value::Real(1e21),
            Value::Real(f64::INFINITY),
            Value::Real(f64::NEG_INFINITY),
            Value::Text(String::new()),
            Value::Text("héllo \u{1F600} \"quoted\" \n\u{0}".to_string()),
            Value::Blob(vec![]),
            Value::Blob(vec![0, 1, 2, 255]),
            Value::Blob((0..=255).collect()),
        ]
    }

    #[test]
    fn every_class_round_trips_through_json_text() {
        for v in all_classes() {
            let back = round_trip(&v);
            assert!(same(&v, &back), "{v:?} came back as {back:?}");
        }
    }

    #[test]
    fn every_class_round_trips_through_jcs() {
        for v in all_classes() {
            let jcs = serde_json_canonicalizer::to_vec(&to_json_for_jcs(&v)).expect("jcs");
            let back: serde_json::Value = serde_json::from_slice(&jcs).expect("parse");
            let back = from_json(&back).expect("from_json");
            assert!(same(&v, &back), "{v:?} came back as {back:?} via JCS");
        }
    }

    #[test]
    fn json_forms() {
        assert_eq!(to_json(&Value::Null), json!(null));
        assert_eq!(
            to_json(&Value::Integer(1 << 53)),
            json!(9007199254740992i64)
        );
        assert_eq!(
            to_json(&Value::Integer(-(1 << 53))),
            json!(-9007199254740992i64)
        );
        assert_eq!(
            to_json(&Value::Integer((1 << 53) + 1)),
            json!({"$int": "9007199254740993"})
        );
        assert_eq!(
            to_json(&Value::Integer(i64::MIN)),
            json!({"$int": "-9223372036854775808"})
        );
        assert_eq!(
            to_json(&Value::Real(f64::INFINITY)),
            json!({"$real": "inf"})
        );
        assert_eq!(
            to_json(&Value::Real(f64::NEG_INFINITY)),
            json!({"$real": "-inf"})
        );
        assert_eq!(to_json(&Value::Real(f64::NAN)), json!(null));
        assert_eq!(
            to_json(&Value::Blob(vec![0, 1, 2, 255])),
            json!({"$blob": "AAEC/w=="})
        );
        assert_eq!(to_json(&Value::Text("x".into())), json!("x"));
        // A REAL is always printed with a fraction or exponent, so it reads back as REAL.
        let text = |f: f64| serde_json::to_string(&to_json(&Value::Real(f))).expect("serialise");
        assert_eq!(text(1.0), "1.0");
        assert_eq!(text(-0.0), "-0.0");
        assert_eq!(text(0.1), "0.1");
        assert_eq!(text(1e308), "1e+308");
        assert_eq!(text(1e21), "1e+21");
        // For JCS, whole-number reals are tagged.
        assert_eq!(to_json_for_jcs(&Value::Real(1.0)), json!({"$real": "1.0"}));
        assert_eq!(
            to_json_for_jcs(&Value::Real(-0.0)),
            json!({"$real": "-0.0"})
        );
        assert_eq!(
            to_json_for_jcs(&Value::Real(1e21)),
            json!({"$real": "1e21"})
        );
        assert_eq!(to_json_for_jcs(&Value::Real(0.5)), json!(0.5));
        assert_eq!(to_json_for_jcs(&Value::Integer(3)), json!(3));
    }

    #[test]
    fn input_forms() {
        let read = |text: &str| {
            from_json(&serde_json::from_str::<serde_json::Value>(text).expect("json"))
                .expect("value")
        };
        assert_eq!(read("9007199254740993"), Value::Integer((1 << 53) + 1));
        assert_eq!(read("9223372036854775807"), Value::Integer(i64::MAX));
        assert_eq!(read("-9223372036854775808"), Value::Integer(i64::MIN));
        assert!(same(&read("1.0"), &Value::Real(1.0)));
        assert!(same(&read("1e2"), &Value::Real(100.0)));
        assert!(same(&read("-0.0"), &Value::Real(-0.0)));
        assert_eq!(read("true"), Value::Integer(1));
        assert_eq!(read("false"), Value::Integer(0));
        assert_eq!(read(r#"{"$int": "-42"}"#), Value::Integer(-42));
        assert_eq!(
            read(r#"{"$int": "9223372036854775807"}"#),
            Value::Integer(i64::MAX)
        );
        assert!(same(&read(r#"{"$real": "0.1"}"#), &Value::Real(0.1)));
        assert!(same(&read(r#"{"$real": "1"}"#), &Value::Real(1.0)));
        assert!(same(&read(r#"{"$real": "-0.0"}"#), &Value::Real(-0.0)));
        assert!(same(&read(r#"{"$real": "2.5E-3"}"#), &Value::Real(0.0025)));
        assert!(same(
            &read(r#"{"$real": "inf"}"#),
            &Value::Real(f64::INFINITY)
        ));
        assert!(same(
            &read(r#"{"$real": "-inf"}"#),
            &Value::Real(f64::NEG_INFINITY)
        ));
        assert_eq!(read(r#"{"$blob": ""}"#), Value::Blob(vec![]));
        assert_eq!(
            read(r#"{"$blob": "AAEC/w=="}"#),
            Value::Blob(vec![0, 1, 2, 255])
        );
        assert_eq!(read(r#""日本語""#), Value::Text("日本語".into()));
    }

    #[test]
    fn rejections_say_what_is_wrong() {
        let err = |v: serde_json::Value| from_json(&v).expect_err("should be rejected").to_string();

        let e = err(json!(18446744073709551615u64));
        assert!(
            e.contains("integer 18446744073709551615 does not fit"),
            "{e}"
        );
        assert!(e.contains("{\"$int\": \"...\"} has the same range"), "{e}");
        assert!(e.contains("{\"$real\": \"18446744073709551615\"}"), "{e}");

        for bad in [
            json!({"$int": 5}),
            json!({"$int": "1.5"}),
            json!({"$int": ""}),
            json!({"$int": "+5"}),
            json!({"$int": "9223372036854775808"}),
            json!({"$int": "-"}),
        ] {
            let e = err(bad.clone());
            assert!(
                e.contains("is not a 64-bit integer: write a decimal string"),
                "{bad}: {e}"
            );
        }
        assert!(err(json!({"$int": 5})).starts_with("{\"$int\": 5}"));

        let e = err(json!({"$real": 1.5}));
        assert!(e.contains("the payload must be a string"), "{e}");
        assert!(e.contains("\"inf\" or \"-inf\""), "{e}");
        for bad in ["abc", "1.", ".5", "01", "1e", "Infinity", "+1", " 1", ""] {
            let e = err(json!({"$real": bad}));
            assert!(e.contains("not a decimal number"), "{bad}: {e}");
        }
        let e = err(json!({"$real": "NaN"}));
        assert!(e.contains("NaN cannot be stored"), "{e}");
        let e = err(json!({"$real": "1e400"}));
        assert!(e.contains("out of the range of a 64-bit float"), "{e}");

        let e = err(json!({"$blob": "AAE"}));
        assert!(e.contains("not valid base64"), "{e}");
        assert!(e.contains("standard base64 with padding"), "{e}");
        let e = err(json!({"$blob": "AA-_"}));
        assert!(e.contains("not valid base64"), "{e}");
        let e = err(json!({"$blob": [1, 2]}));
        assert!(e.contains("the payload must be a string, not [1,2]"), "{e}");

        let e = err(json!({"$text": "x"}));
        assert!(
            e.starts_with("an object with keys \"$text\" is not a value"),
            "{e}"
        );
        assert!(e.contains("\"$blob\" ({\"$blob\": \"<base64>\"})"), "{e}");
        let e = err(json!({"$int": "1", "$real": "1"}));
        assert!(
            e.starts_with("an object with keys \"$int\", \"$real\" is not a value"),
            "{e}"
        );
        let e = err(json!({}));
        assert!(e.starts_with("an empty object {} is not a value"), "{e}");

        let e = err(json!([1, 2]));
        assert!(e.starts_with("an array is not a value"), "{e}");

        let e = row_from_json(&json!([1]))
            .expect_err("not a row")
            .to_string();
        assert_eq!(
            e,
            "a row must be a JSON object from column name to value, not an array"
        );
        let e = row_from_json(&json!({"a": 1, "b": [2]}))
            .expect_err("bad column")
            .to_string();
        assert!(
            e.starts_with("column \"b\": an array is not a value"),
            "{e}"
        );
    }

    #[test]
    fn rows_round_trip() {
        let j = json!({"b": {"$blob": "AA=="}, "a": 1, "c": null, "d": 0.5, "e": "x"});
        let row = row_from_json(&j).expect("row");
        assert_eq!(row.keys().collect::<Vec<_>>(), ["a", "b", "c", "d", "e"]);
        assert_eq!(row_to_json(&row), j);
        assert_eq!(row_from_json(&row_to_json(&row)).expect("row"), row);
    }

    #[test]
    fn canonical_value_bytes() {
        let enc = |v: Value| {
            let mut out = Vec::new();
            encode_value(&v, &mut out);
            out
        };
        assert_eq!(enc(Value::Null), [0x00]);
        assert_eq!(enc(Value::Integer(1)), [0x01, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            enc(Value::Integer(-1)),
            [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            enc(Value::Integer(i64::MIN)),
            [0x01, 0x80, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(enc(Value::Real(1.0)), [0x02, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(enc(Value::Real(-0.0)), [0x02, 0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            enc(Value::Real(f64::INFINITY)),
            [0x02, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            enc(Value::Text("hé".into())),
            [0x03, 0, 0, 0, 3, b'h', 0xc3, 0xa9]
        );
        assert_eq!(enc(Value::Text(String::new())), [0x03, 0, 0, 0, 0]);
        assert_eq!(enc(Value::Blob(vec![1, 2])), [0x04, 0, 0, 0, 2, 1, 2]);
        assert_eq!(enc(Value::Blob(vec![])), [0x04, 0, 0, 0, 0]);

        let mut s = Vec::new();
        encode_str("ab", &mut s);
        assert_eq!(s, [0, 0, 0, 2, b'a', b'b']);
    }

    #[test]
    fn canonical_row_and_key_bytes() {
        let mut row = Row::new();
        row.insert("b".into(), Value::Integer(2));
        row.insert("a".into(), Value::Null);
        let mut out = Vec::new();
        encode_row(&row, &mut out);
        #[rustfmt::skip]
        let expected = [
            0, 0, 0, 2,
            0, 0, 0, 1, b'a', 0x00,
            0, 0, 0, 1, b'b', 0x01, 0, 0, 0, 0, 0, 0, 0, 2,
        ];
        assert_eq!(out, expected);

        // Byte order, not alphabetical: "B" (0x42) < "a" (0x61) < "é" (0xc3 0xa9).
        let mut row = Row::new();
        row.insert("é".into(), Value::Null);
        row.insert("a".into(), Value::Null);
        row.insert("B".into(), Value::Null);
        let mut out = Vec::new();
        encode_row(&row, &mut out);
        #[rustfmt::skip]
        let expected = [
            0, 0, 0, 3,
            0, 0, 0, 1, b'B', 0,
            0, 0, 0, 1, b'a', 0,
            0, 0, 0, 2, 0xc3, 0xa9, 0,
        ];
        assert_eq!(out, expected);

        #[rustfmt::skip]
        let expected_key = [
            0, 0, 0, 2,
            0x01, 0, 0, 0, 0, 0, 0, 0, 7,
            0x03, 0, 0, 0, 1, b'x',
        ];
        assert_eq!(
            key_bytes(&[Value::Integer(7), Value::Text("x".into())]),
            expected_key
        );
        assert_eq!(key_bytes(&[]), [0, 0, 0, 0]);
    }

    #[test]
    fn row_hash_is_sha256_of_the_encoding() {
        // SHA-256 of the four bytes 00 00 00 00 (an empty row).
        let hex: String = row_hash(&Row::new())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119"
        );
    }

    #[test]
    fn row_hash_ignores_insertion_order() {
        let cols = [
            ("id", Value::Integer(1)),
            ("name", Value::Text("x".into())),
            ("Z", Value::Real(0.5)),
            ("data", Value::Blob(vec![9])),
            ("n", Value::Null),
        ];
        let forward: Row = cols
            .iter()
            .cloned()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let backward: Row = cols
            .iter()
            .rev()
            .cloned()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(row_hash(&forward), row_hash(&backward));
        let from_json_text = row_from_json(
            &json!({"n": null, "data": {"$blob": "CQ=="}, "Z": 0.5, "name": "x", "id": 1}),
        )
        .expect("row");
        assert_eq!(row_hash(&forward), row_hash(&from_json_text));
        let mut changed = forward.clone();
        changed.insert("n".into(), Value::Integer(0));
        assert_ne!(row_hash(&forward), row_hash(&changed));
    }

    #[test]
    fn keys_decode_back() {
        let keys = [
            vec![],
            vec![Value::Integer(42)],
            all_classes(),
            vec![Value::Text("a".into()), Value::Blob(vec![]), Value::Null],
        ];
        for key in keys {
            let back = decode_key(&key_bytes(&key)).expect("decode");
            assert_eq!(back.len(), key.len());
            for (a, b) in key.iter().zip(&back) {
                assert!(same(a, b), "{a:?} != {b:?}");
            }
        }
    }

    #[test]
    fn malformed_keys_are_rejected() {
        let err = |b: &[u8]| decode_key(b).expect_err("should be rejected").to_string();
        assert!(err(&[0, 0]).contains("truncated"));
        assert!(err(&[0, 0, 0, 1]).contains("truncated"));
        assert!(err(&[0, 0, 0, 1, 0x01, 0, 0]).contains("truncated"));
        assert!(err(&[0, 0, 0, 1, 0x03, 0, 0, 0, 5, b'a']).contains("truncated"));
        assert!(err(&[0, 0, 0, 1, 0x09]).contains("unknown value tag 0x09 at offset 4"));
        assert!(err(&[0, 0, 0, 1, 0x03, 0, 0, 0, 1, 0xff]).contains("is not UTF-8"));
        assert!(err(&[0, 0, 0, 0, 0]).contains("1 trailing bytes after 0 values"));
        assert!(err(&[0xff, 0xff, 0xff, 0xff]).contains("truncated"));
        assert!(err(&[0, 0, 0, 1, 0x04, 0xff, 0xff, 0xff, 0xff]).contains("truncated"));
    }
}
