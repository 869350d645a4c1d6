//! Reading JSON Lines transcripts the way they exist on disk: being appended to while we read,
//! with the occasional broken byte, and with lines of any length.

use std::io::BufRead;

use serde_json::Value;

use super::{LineIssue, ParseError, ParseReport};
use crate::model::{ParsedSession, SessionInfo};

/// One parsed line of a JSONL file.
pub struct Line {
    /// 1-based line number in the file.
    pub number: u64,
    pub value: Value,
    /// The line's text (invalid UTF-8 replaced): where tool inputs keep their key order
    /// ([`keep_key_order`]).
    pub raw: String,
}

/// Iterates over the JSON values of a JSONL stream.
///
/// - Blank lines are skipped.
/// - Invalid UTF-8 is replaced (U+FFFD) and noted as an issue; the line still counts.
/// - A line that is not JSON is noted as an issue and skipped.
/// - A last line without its newline that does not parse, but opens a JSON object in UTF-8, is
///   a transcript still being written: it is skipped silently, and `truncated_tail` says so.
///   The next import, once the file has grown, reads it. Any other unterminated line (binary
///   garbage without a newline) is a line that is not JSON, as above.
///
/// Memory: one line at a time.
pub struct JsonLines<'a> {
    reader: &'a mut dyn BufRead,
    buf: Vec<u8>,
    number: u64,
    pub issues: Vec<LineIssue>,
    pub truncated_tail: bool,
    /// Lines that held anything at all (parsed or not); distinguishes an empty file.
    pub nonblank_lines: u64,
}

impl<'a> JsonLines<'a> {
    pub fn new(reader: &'a mut dyn BufRead) -> Self {
        JsonLines {
            reader,
            buf: Vec::new(),
            number: 0,
            issues: Vec::new(),
            truncated_tail: false,
            nonblank_lines: 0,
        }
    }

    /// The next parsed line, `Ok(None)` at the end of the stream.
    pub fn next_line(&mut self) -> Result<Option<Line>, ParseError> {
        loop {
            self.buf.clear();
            let n = self.reader.read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                return Ok(None);
            }
            self.number += 1;
            let terminated = self.buf.last() == Some(&b'\n');
            let bytes = trim_ascii(&self.buf);
            if bytes.is_empty() {
                continue;
            }
            self.nonblank_lines += 1;
            let text = String::from_utf8_lossy(bytes);
            let parsed = serde_json::from_str::<Value>(&text);
            if parsed.is_ok() && matches!(text, std::borrow::Cow::Owned(_)) {
                self.issues.push(LineIssue {
                    line: self.number,
                    message: "invalid UTF-8 replaced with U+FFFD".into(),
                });
            }
            match parsed {
                Ok(value) => {
                    return Ok(Some(Line {
                        number: self.number,
                        value,
                        raw: text.into_owned(),
                    }));
                }
                Err(_) if !terminated && looks_partial(bytes) => {
                    // Nothing can follow an unterminated line: this is the end of the file.
                    self.truncated_tail = true;
                    return Ok(None);
                }
                Err(e) => {
                    self.issues.push(LineIssue {
                        line: self.number,
                        message: format!("not valid JSON ({e}); line skipped"),
                    });
                }
            }
        }
    }
}

impl JsonLines<'_> {
    /// Ends the read: a report holding `sessions`, with the issues and the truncated-tail flag
    /// this reader collected.
    pub fn into_report(self, sessions: Vec<ParsedSession>) -> ParseReport {
        self.into_keyed_report(sessions, Vec::new())
    }

    /// [`JsonLines::into_report`] with each session's message identities (see
    /// [`ParseReport::keys`]).
    pub fn into_keyed_report(
        self,
        sessions: Vec<ParsedSession>,
        keys: Vec<Vec<String>>,
    ) -> ParseReport {
        ParseReport {
            sessions,
            keys,
            issues: self.issues,
            truncated_tail: self.truncated_tail,
            legacy_ids: Vec::new(),
        }
    }
}

/// Whether an unterminated line that does not parse can be the start of a JSON line still
/// being written: it opens an object and is UTF-8 (possibly cut inside its last character).
/// Anything else (binary garbage without a newline) is not a transcript line at all.
fn looks_partial(bytes: &[u8]) -> bool {
    bytes.first() == Some(&b'{')
        && match std::str::from_utf8(bytes) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// Whether `text` (leading whitespace aside) starts with one of `prefixes`: the tags tools put
/// before text they injected into a conversation themselves.
pub fn starts_with_any(text: &str, prefixes: &[&str]) -> bool {
    let t = text.trim_start();
    prefixes.iter().any(|p| t.starts_with(p))
}

/// Helpers for reading fields by key from loosely typed JSON.
pub trait ValueExt {
    /// The string at `key`, if it is a non-empty string.
    fn str_at(&self, key: &str) -> Option<&str>;
}

impl ValueExt for Value {
    fn str_at(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// Parses an ISO-8601 / RFC 3339 timestamp into Unix milliseconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    s.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// The timestamp string at `key`, as Unix milliseconds.
pub fn timestamp_at(v: &Value, key: &str) -> Option<i64> {
    v.str_at(key).and_then(parse_timestamp)
}

/// Moves the string at `key` out of `v`, if it is a non-empty string (no copy).
pub fn take_str(v: &mut Value, key: &str) -> Option<String> {
    match v.get_mut(key)? {
        Value::String(s) if !s.is_empty() => Some(std::mem::take(s)),
        _ => None,
    }
}

/// Compact JSON text of `v` (tool inputs and structured results).
pub fn compact_json(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// A step of a path into a JSON document: an object's key or an array's index.
#[derive(Debug, Clone, Copy)]
pub enum Step<'s> {
    Key(&'s str),
    Index(usize),
}

/// Replaces the object or array at `path` in `value` (parsed from `raw`) by its compact JSON
/// text in the order `raw` has it, as a string, which [`compact_json`] then keeps as it is.
/// A parsed [`Value`] sorts object keys (serde_json's map is a BTreeMap), so an Edit would show
/// `new_string` before `old_string`; the tool's own order is kept this way without turning on
/// serde_json's `preserve_order` for the whole program (docs/importers.md, "Tool calls").
/// Anything not found, or not an object or array, is left as it is.
pub fn keep_key_order(value: &mut Value, raw: &str, path: &[Step<'_>]) {
    let mut target = &mut *value;
    for step in path {
        let next = match step {
            Step::Key(k) => target.get_mut(*k),
            Step::Index(i) => target.get_mut(*i),
        };
        match next {
            Some(v) => target = v,
            None => return,
        }
    }
    if !(target.is_object() || target.is_array()) {
        return;
    }
    if let Some(text) = raw_at(raw, path).and_then(compact_in_order) {
        *target = Value::String(text);
    }
}

/// [`keep_key_order`] for the `field` of each element of the array at `array`: the tool
/// inputs of a line's content blocks (`["message", "content"]`, `"input"`), tool requests,
/// tool calls. Only lines whose text holds `"<field>"` are looked at.
pub fn keep_key_order_in(value: &mut Value, raw: &str, array: &[Step<'_>], field: &str) {
    if !raw.contains(&format!("\"{field}\"")) {
        return;
    }
    let mut at = value as &Value;
    for step in array {
        let next = match step {
            Step::Key(k) => at.get(*k),
            Step::Index(i) => at.get(*i),
        };
        match next {
            Some(v) => at = v,
            None => return,
        }
    }
    let Some(items) = at.as_array() else {
        return;
    };
    let with_field: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, b)| b.get(field).is_some_and(|v| v.is_object() || v.is_array()))
        .map(|(i, _)| i)
        .collect();
    for i in with_field {
        let mut path = array.to_vec();
        path.push(Step::Index(i));
        path.push(Step::Key(field));
        keep_key_order(value, raw, &path);
    }
}

/// The JSON text at `path` inside the JSON text `json`.
fn raw_at<'a>(json: &'a str, path: &[Step<'_>]) -> Option<&'a str> {
    use serde_json::value::RawValue;
    let mut cur = json;
    for step in path {
        cur = match step {
            Step::Key(k) => {
                let map: std::collections::HashMap<String, &'a RawValue> =
                    serde_json::from_str(cur).ok()?;
                map.get(*k)?.get()
            }
            Step::Index(i) => {
                let items: Vec<&'a RawValue> = serde_json::from_str(cur).ok()?;
                items.get(*i)?.get()
            }
        };
    }
    Some(cur)
}

/// `raw` (one JSON value) as compact JSON in its own key order, with strings and numbers
/// written as serde_json writes them (the same text as [`compact_json`] of the parsed value,
/// but for the order of keys).
fn compact_in_order(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match *b.get(i)? {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                let s: String = serde_json::from_str(raw.get(start..i)?).ok()?;
                out.push_str(&serde_json::to_string(&s).ok()?);
            }
            c @ (b'{' | b'}' | b'[' | b']' | b':' | b',') => {
                out.push(char::from(c));
                i += 1;
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !matches!(
                        b[i],
                        b' ' | b'\t' | b'\n' | b'\r' | b',' | b'}' | b']' | b':'
                    )
                {
                    i += 1;
                }
                let v: Value = serde_json::from_str(raw.get(start..i)?).ok()?;
                out.push_str(&v.to_string());
            }
        }
    }
    Some(out)
}

/// The readable text of a tool call: `<name>: <input>`.
pub fn tool_use_text(name: &str, input: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2 + input.len());
    out.push_str(name);
    out.push_str(": ");
    out.push_str(input);
    out
}

/// How many bytes a base64 text decodes to (padding and whitespace aware, no decoding).
pub fn base64_decoded_len(data: &str) -> usize {
    let significant = data
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .count();
    significant * 3 / 4
}

/// What lore stores instead of inline binary data: `[image image/png, 12345 bytes]`.
///
/// `data` is the base64 text (or a `data:` URL); it is measured, never kept.
pub fn media_marker(kind: &str, media_type: Option<&str>, data: &str) -> String {
    let (media_type, payload) = match data.strip_prefix("data:") {
        // data:image/png;base64,AAAA
        Some(rest) => match rest.split_once(',') {
            Some((head, payload)) => {
                let mt = head.split(';').next().filter(|m| !m.is_empty());
                (media_type.or(mt), payload)
            }
            None => (media_type, ""),
        },
        None => (media_type, data),
    };
    let bytes = base64_decoded_len(payload);
    match media_type {
        Some(mt) => format!("[{kind} {mt}, {bytes} bytes]"),
        None => format!("[{kind}, {bytes} bytes]"),
    }
}

/// The first, newest and last-message moments of a session, in Unix milliseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    /// The first timestamp seen.
    pub first: Option<i64>,
    /// The newest timestamp seen (metadata or message).
    pub newest: Option<i64>,
    /// The timestamp of the last message that had one.
    pub last_message: Option<i64>,
}

impl Timeline {
    /// Notes a moment the transcript records (metadata or message).
    pub fn see(&mut self, ts: Option<i64>) {
        let Some(ts) = ts else { return };
        if self.first.is_none() {
            self.first = Some(ts);
        }
        if self.newest.is_none_or(|n| ts > n) {
            self.newest = Some(ts);
        }
    }

    /// Notes a message's moment: seen, and the latest message so far.
    pub fn message(&mut self, ts: Option<i64>) {
        self.see(ts);
        if ts.is_some() {
            self.last_message = ts;
        }
    }

    /// Sets `started_at`, `updated_at` and `ended_at`.
    pub fn apply(&self, info: &mut SessionInfo) {
        info.started_at = self.first;
        info.updated_at = self.newest;
        info.ended_at = self.last_message;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8]) -> (Vec<u64>, JsonLinesSummary) {
        let mut reader: &[u8] = input;
        let mut lines = JsonLines::new(&mut reader);
        let mut numbers = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            numbers.push(line.number);
        }
        (
            numbers,
            JsonLinesSummary {
                issues: lines.issues.iter().map(|i| i.line).collect(),
                truncated: lines.truncated_tail,
            },
        )
    }

    struct JsonLinesSummary {
        issues: Vec<u64>,
        truncated: bool,
    }

    #[test]
    fn skips_blank_and_bad_lines_and_notes_them() {
        let (lines, s) = collect(b"{\"a\":1}\n\nnot json\n{\"b\":2}\n");
        assert_eq!(lines, vec![1, 4]);
        assert_eq!(s.issues, vec![3]);
        assert!(!s.truncated);
    }

    #[test]
    fn unterminated_broken_last_line_is_a_tail_not_an_issue() {
        let (lines, s) = collect(b"{\"a\":1}\n{\"b\":");
        assert_eq!(lines, vec![1]);
        assert!(s.issues.is_empty());
        assert!(s.truncated);
    }

    #[test]
    fn unterminated_complete_last_line_is_read() {
        let (lines, s) = collect(b"{\"a\":1}\n{\"b\":2}");
        assert_eq!(lines, vec![1, 2]);
        assert!(!s.truncated);
    }

    #[test]
    fn invalid_utf8_is_replaced_and_noted() {
        let (lines, s) = collect(b"{\"a\":\"x\xff\xfey\"}\n");
        assert_eq!(lines, vec![1]);
        assert_eq!(s.issues, vec![1]);
    }

    #[test]
    fn media_markers_measure_without_keeping_data() {
        assert_eq!(base64_decoded_len("aGVsbG8="), 5);
        assert_eq!(base64_decoded_len("aGVsbG8h"), 6);
        assert_eq!(
            media_marker("image", Some("image/png"), "aGVsbG8h"),
            "[image image/png, 6 bytes]"
        );
        assert_eq!(
            media_marker("image", None, "data:image/jpeg;base64,aGVsbG8="),
            "[image image/jpeg, 5 bytes]"
        );
        assert_eq!(media_marker("document", None, ""), "[document, 0 bytes]");
    }

    #[test]
    fn take_str_moves_only_non_empty_strings() {
        let mut v = serde_json::json!({"a": "x", "b": "", "c": 1});
        assert_eq!(take_str(&mut v, "a").as_deref(), Some("x"));
        assert_eq!(v["a"], "");
        assert_eq!(take_str(&mut v, "b"), None);
        assert_eq!(take_str(&mut v, "c"), None);
        assert_eq!(take_str(&mut v, "d"), None);
    }

    #[test]
    fn timeline_tracks_first_newest_and_last_message() {
        let mut t = Timeline::default();
        t.see(Some(50));
        t.message(Some(40));
        t.message(None);
        t.see(Some(90));
        t.message(Some(70));
        assert_eq!(t.first, Some(50));
        assert_eq!(t.newest, Some(90));
        assert_eq!(t.last_message, Some(70));
    }

    #[test]
    fn into_report_moves_issues_and_tail() {
        let mut reader: &[u8] = b"x\n{\"a\":1}\n{\"b\"";
        let mut lines = JsonLines::new(&mut reader);
        while lines.next_line().unwrap().is_some() {}
        let report = lines.into_report(Vec::new());
        assert_eq!(report.issues.len(), 1);
        assert_eq!(report.issues[0].line, 1);
        assert!(report.truncated_tail);
    }

    #[test]
    fn an_unterminated_line_is_still_being_written_only_if_it_opens_an_object() {
        // Cut inside a multi-byte character: still being written.
        let (_, s) = collect("{\"text\": \"caf\u{e9}".as_bytes().split_last().unwrap().1);
        assert!(s.truncated);
        assert!(s.issues.is_empty());
        // Binary garbage without a newline: a bad line, not a tail.
        let (lines, s) = collect(b"\x89PNG\r\x00\x1a\xff\xfe garbage");
        assert!(lines.is_empty());
        assert!(!s.truncated);
        assert_eq!(s.issues, vec![1]);
        // An object start with bytes that are not UTF-8 in the middle: garbage too.
        let (_, s) = collect(b"{\xff\xfe\x00 more");
        assert!(!s.truncated);
        assert_eq!(s.issues, vec![1]);
    }

    #[test]
    fn timestamps_parse_to_millis() {
        assert_eq!(
            parse_timestamp("2026-03-11T15:52:12.033Z"),
            Some(1_773_244_332_033)
        );
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;

    #[test]
    fn compact_in_order_writes_what_serde_writes_but_in_the_given_order() {
        // Keys already sorted: exactly serde_json's compact text of the parsed value.
        for raw in [
            r#"{ "a" : 1, "b" : [ 1.0, -2e3, true, null, "x\u00e9\n\"\/" ], "c": {} }"#,
            r#"[]"#,
            r#"{"k":"\ud83d\ude00 tab\t"}"#,
        ] {
            let v: Value = serde_json::from_str(raw).unwrap();
            assert_eq!(
                compact_in_order(raw).as_deref(),
                Some(v.to_string().as_str())
            );
        }
        assert_eq!(
            compact_in_order(r#"{"z": 1, "a": {"y": 2, "b": 3}}"#).as_deref(),
            Some(r#"{"z":1,"a":{"y":2,"b":3}}"#)
        );
        // Broken text is refused, never half-written.
        assert_eq!(compact_in_order(r#"{"a": "unterminated}"#), None);
    }

    #[test]
    fn keep_key_order_leaves_strings_and_missing_paths_alone() {
        let raw = r#"{"m":{"c":[{"input":"text"},{"input":{"z":1,"a":2}},{"other":1}]}}"#;
        let mut v: Value = serde_json::from_str(raw).unwrap();
        keep_key_order_in(&mut v, raw, &[Step::Key("m"), Step::Key("c")], "input");
        assert_eq!(v["m"]["c"][0]["input"], "text");
        assert_eq!(v["m"]["c"][1]["input"], r#"{"z":1,"a":2}"#);
        assert!(v["m"]["c"][2].get("input").is_none());
        let before = v.clone();
        keep_key_order(&mut v, raw, &[Step::Key("nope"), Step::Index(3)]);
        assert_eq!(v, before);
    }
}
