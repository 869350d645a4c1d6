//! Surgical edits of another tool's JSON settings file: add or remove one member or one array
//! element and leave every other byte (keys, order, spacing, comments) exactly as it was.
//!
//! A small parser records where each value starts and ends; an edit splices text in or out at
//! those offsets. It accepts strict JSON plus `//` and `/* */` comments (Gemini CLI's
//! settings allow them) and refuses anything else with the line and column of the fault, so a
//! file that is not valid is never rewritten. Spec: docs/capture.md, "What `lore init` edits".

use serde_json::Value;

/// Why a file cannot be edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonEditError {
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{key}` is not {expected}")]
    Shape { key: String, expected: &'static str },
}

/// A parsed value and the byte range it spans.
#[derive(Debug, Clone)]
pub enum Node {
    Object {
        start: usize,
        end: usize,
        members: Vec<Member>,
    },
    Array {
        start: usize,
        end: usize,
        items: Vec<Node>,
    },
    Scalar {
        start: usize,
        end: usize,
    },
}

/// One `"key": value` of an object.
#[derive(Debug, Clone)]
pub struct Member {
    pub key: String,
    pub key_start: usize,
    pub value: Node,
}

impl Node {
    pub fn start(&self) -> usize {
        match self {
            Node::Object { start, .. } | Node::Array { start, .. } | Node::Scalar { start, .. } => {
                *start
            }
        }
    }

    pub fn end(&self) -> usize {
        match self {
            Node::Object { end, .. } | Node::Array { end, .. } | Node::Scalar { end, .. } => *end,
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Member> {
        match self {
            Node::Object { members, .. } => members.iter().find(|m| m.key == key),
            _ => None,
        }
    }

    /// The value as serde_json sees it (comments inside are dropped).
    pub fn value(&self, text: &str) -> Value {
        match self {
            Node::Object { members, .. } => Value::Object(
                members
                    .iter()
                    .map(|m| (m.key.clone(), m.value.value(text)))
                    .collect(),
            ),
            Node::Array { items, .. } => {
                Value::Array(items.iter().map(|i| i.value(text)).collect())
            }
            Node::Scalar { start, end } => {
                serde_json::from_str(&text[*start..*end]).unwrap_or(Value::Null)
            }
        }
    }
}

/// Parses `text` (one JSON value, comments allowed).
pub fn parse(text: &str) -> Result<Node, JsonEditError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    p.ws()?;
    let v = p.value()?;
    p.ws()?;
    if p.i != p.s.len() {
        return Err(p.err("text after the end of the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: usize,
}

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

impl Parser<'_> {
    fn err(&self, message: &str) -> JsonEditError {
        let before = &self.s[..self.i.min(self.s.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        JsonEditError::Syntax {
            line,
            column,
            message: message.to_owned(),
        }
    }

    fn ws(&mut self) -> Result<(), JsonEditError> {
        loop {
            match self.s.get(self.i) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'/') => {
                    while self.i < self.s.len() && self.s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'*') => {
                    let Some(off) = self.text[self.i + 2..].find("*/") else {
                        return Err(self.err("unterminated comment"));
                    };
                    self.i += 2 + off + 2;
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self) -> Result<Node, JsonEditError> {
        match self.s.get(self.i) {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => {
                let start = self.i;
                self.string()?;
                Ok(Node::Scalar { start, end: self.i })
            }
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric()
                        || matches!(self.s[self.i], b'-' | b'+' | b'.'))
                {
                    self.i += 1;
                }
                if start == self.i
                    || serde_json::from_str::<Value>(&self.text[start..self.i]).is_err()
                {
                    self.i = start;
                    return Err(self.err("expected a value"));
                }
                Ok(Node::Scalar { start, end: self.i })
            }
            None => Err(self.err("unexpected end of file")),
        }
    }

    /// A string; returns its decoded text.
    fn string(&mut self) -> Result<String, JsonEditError> {
        let start = self.i;
        self.i += 1;
        loop {
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => self.i += 2,
                Some(b'\n') | None => {
                    return Err(self.err("unterminated string"));
                }
                Some(_) => self.i += 1,
            }
        }
        serde_json::from_str::<String>(&self.text[start..self.i]).map_err(|_| {
            self.i = start;
            self.err("invalid string")
        })
    }

    fn enter(&mut self) -> Result<(), JsonEditError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        Ok(())
    }

    fn object(&mut self) -> Result<Node, JsonEditError> {
        self.enter()?;
        let start = self.i;
        self.i += 1;
        let mut members = Vec::new();
        self.ws()?;
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Node::Object {
                start,
                end: self.i,
                members,
            });
        }
        loop {
            self.ws()?;
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a key in double quotes"));
            }
            let key_start = self.i;
            let key = self.string()?;
            self.ws()?;
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            self.ws()?;
            let value = self.value()?;
            members.push(Member {
                key,
                key_start,
                value,
            });
            self.ws()?;
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
        self.depth -= 1;
        Ok(Node::Object {
            start,
            end: self.i,
            members,
        })
    }

    fn array(&mut self) -> Result<Node, JsonEditError> {
        self.enter()?;
        let start = self.i;
        self.i += 1;
        let mut items = Vec::new();
        self.ws()?;
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Node::Array {
                start,
                end: self.i,
                items,
            });
        }
        loop {
            self.ws()?;
            items.push(self.value()?);
            self.ws()?;
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
        self.depth -= 1;
        Ok(Node::Array {
            start,
            end: self.i,
            items,
        })
    }
}

/// The whitespace that starts the line holding byte `at`.
fn indent_at(text: &str, at: usize) -> &str {
    let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    let rest = &text[line_start..];
    let n = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..n]
}

/// The file's indentation unit: the first indented line's leading whitespace, else two spaces.
fn unit(text: &str) -> String {
    text.lines()
        .map(|l| &l[..l.len() - l.trim_start_matches([' ', '\t']).len()])
        .find(|w| !w.is_empty())
        .unwrap_or("  ")
        .to_owned()
}

/// `value` pretty-printed with the file's unit, every line after the first indented by `indent`.
fn render(value: &Value, indent: &str, unit: &str) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(unit.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(value, &mut ser).expect("a Value always serialises");
    let pretty = String::from_utf8(buf).expect("serde_json writes UTF-8");
    pretty.replace('\n', &format!("\n{indent}"))
}

fn splice(text: &str, from: usize, to: usize, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..from]);
    out.push_str(with);
    out.push_str(&text[to..]);
    out
}

/// Adds `"key": value` as the last member of the object `obj`.
pub fn insert_member(text: &str, obj: &Node, key: &str, value: &Value) -> String {
    let Node::Object { start, members, .. } = obj else {
        return text.to_owned();
    };
    let unit = unit(text);
    let key_json = Value::String(key.to_owned()).to_string();
    match members.last() {
        Some(last) => {
            let indent = indent_at(text, last.key_start).to_owned();
            let add = format!(",\n{indent}{key_json}: {}", render(value, &indent, &unit));
            splice(text, last.value.end(), last.value.end(), &add)
        }
        None => {
            let outer = indent_at(text, *start).to_owned();
            let inner = format!("{outer}{unit}");
            let add = format!(
                "\n{inner}{key_json}: {}\n{outer}",
                render(value, &inner, &unit)
            );
            splice(text, start + 1, obj.end() - 1, &add)
        }
    }
}

/// Adds `value` as the last element of the array `arr`.
pub fn push_item(text: &str, arr: &Node, value: &Value) -> String {
    let Node::Array { start, items, .. } = arr else {
        return text.to_owned();
    };
    let unit = unit(text);
    match items.last() {
        Some(last) => {
            let indent = indent_at(text, last.start()).to_owned();
            let add = format!(",\n{indent}{}", render(value, &indent, &unit));
            splice(text, last.end(), last.end(), &add)
        }
        None => {
            let outer = indent_at(text, *start).to_owned();
            let inner = format!("{outer}{unit}");
            let add = format!("\n{inner}{}\n{outer}", render(value, &inner, &unit));
            splice(text, start + 1, arr.end() - 1, &add)
        }
    }
}

/// Replaces a value in place.
pub fn replace_value(text: &str, node: &Node, value: &Value) -> String {
    let indent = indent_at(text, node.start()).to_owned();
    splice(
        text,
        node.start(),
        node.end(),
        &render(value, &indent, &unit(text)),
    )
}

/// Removes element `index` of a container whose elements start and end at `spans`, with the
/// comma that separated it.
fn remove_span(
    text: &str,
    spans: &[(usize, usize)],
    index: usize,
    container: (usize, usize),
) -> String {
    let (s, e) = spans[index];
    if spans.len() == 1 {
        // The only element: the container becomes empty.
        return splice(text, container.0 + 1, container.1 - 1, "");
    }
    if index + 1 < spans.len() {
        splice(text, s, spans[index + 1].0, "")
    } else {
        splice(text, spans[index - 1].1, e, "")
    }
}

/// Removes member `key` from the object `obj`.
pub fn remove_member(text: &str, obj: &Node, key: &str) -> String {
    let Node::Object {
        start,
        end,
        members,
    } = obj
    else {
        return text.to_owned();
    };
    let Some(index) = members.iter().position(|m| m.key == key) else {
        return text.to_owned();
    };
    let spans: Vec<(usize, usize)> = members
        .iter()
        .map(|m| (m.key_start, m.value.end()))
        .collect();
    remove_span(text, &spans, index, (*start, *end))
}

/// Removes element `index` of the array `arr`.
pub fn remove_item(text: &str, arr: &Node, index: usize) -> String {
    let Node::Array { start, end, items } = arr else {
        return text.to_owned();
    };
    if index >= items.len() {
        return text.to_owned();
    }
    let spans: Vec<(usize, usize)> = items.iter().map(|i| (i.start(), i.end())).collect();
    remove_span(text, &spans, index, (*start, *end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_with_comments_and_reports_the_line() {
        let text = "{\n  // a comment\n  \"a\": [1, 2], /* x */ \"b\": {\"c\": null}\n}\n";
        let node = parse(text).unwrap();
        assert_eq!(node.value(text), json!({"a": [1, 2], "b": {"c": null}}));
        let bad = "{\n  \"a\": 1,\n  \"b\" 2\n}";
        match parse(bad) {
            Err(JsonEditError::Syntax { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        assert!(parse("{\"a\": 1,}").is_err());
        assert!(parse("{} x").is_err());
        assert!(parse(&"[".repeat(500)).is_err());
    }

    #[test]
    fn inserts_and_removes_leaving_the_rest_alone() {
        let text = "{\n    \"model\": \"opus\", // mine\n    \"env\": {}\n}\n";
        let root = parse(text).unwrap();
        let added = insert_member(text, &root, "hooks", &json!({"Stop": [1]}));
        assert!(added.starts_with("{\n    \"model\": \"opus\", // mine\n    \"env\": {},\n    \"hooks\": {\n        \"Stop\": [\n            1\n        ]\n    }\n}\n"), "{added}");
        let root2 = parse(&added).unwrap();
        assert_eq!(remove_member(&added, &root2, "hooks"), text);

        let empty = "{}";
        let added = insert_member(empty, &parse(empty).unwrap(), "a", &json!(1));
        assert_eq!(added, "{\n  \"a\": 1\n}");
        assert_eq!(remove_member(&added, &parse(&added).unwrap(), "a"), "{}");

        let arr = "{\"x\": [\n  1\n]}";
        let root = parse(arr).unwrap();
        let x = &root.get("x").unwrap().value;
        let pushed = push_item(arr, x, &json!(2));
        assert_eq!(pushed, "{\"x\": [\n  1,\n  2\n]}");
        let root = parse(&pushed).unwrap();
        assert_eq!(remove_item(&pushed, &root.get("x").unwrap().value, 1), arr);
        let root = parse(&pushed).unwrap();
        assert_eq!(
            remove_item(&pushed, &root.get("x").unwrap().value, 0),
            "{\"x\": [\n  2\n]}"
        );
    }
}
