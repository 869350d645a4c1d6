//! Reading plan JSON strictly: duplicate keys refused, and integer literals beyond 64 bits
//! told apart from reals.

use super::*;

/// A JSON value read with duplicate object keys refused (serde_json keeps the last silently).
pub(super) struct StrictJson(pub(super) Json);

impl<'de> serde::Deserialize<'de> for StrictJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

pub(super) struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::from(i)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::from(u)))
    }
    fn visit_f64<E>(self, f: f64) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::from(f)))
    }
    fn visit_str<E>(self, s: &str) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::String(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::String(s)))
    }
    fn visit_unit<E>(self) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::Null))
    }
    fn visit_none<E>(self) -> Result<StrictJson, E> {
        Ok(StrictJson(Json::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictJson, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictJson(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(StrictJson(Json::Array(out)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictJson, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(de::Error::custom(format!(
                    "duplicate key {}",
                    Json::String(k)
                )));
            }
            let StrictJson(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(StrictJson(Json::Object(out)))
    }
}

/// Refuses integer literals beyond 64 bits, which serde_json silently reads as floats (so
/// `99999999999999999999` would become the REAL 1e20). Literals between 2^63 and 2^64 are left
/// for [`value::from_json`], which reports them with their path. `text` is valid JSON.
pub(super) fn check_integer_literals(text: &str) -> Result<(), PlanError> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let literal = &text[start..i];
                let integral = !literal.contains(['.', 'e', 'E']);
                if integral && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err() {
                    let line = text[..start].matches('\n').count() + 1;
                    let column = start - text[..start].rfind('\n').map_or(0, |p| p + 1) + 1;
                    return Err(PlanError {
                        path: String::new(),
                        operation: None,
                        op: None,
                        message: format!(
                            "line {line} column {column}: {}",
                            value::ValueError::IntegerOutOfRange(literal.to_string())
                        ),
                        line_column: Some((line, column)),
                    });
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}
