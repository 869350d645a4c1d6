//! Gemini CLI: `~/.gemini/tmp/<project>/chats/session-<time>-<id8>.jsonl` (older: `.json`).
//!
//! The JSONL file is an upsert log: a metadata line, message records keyed by `id` (a record
//! written again replaces the earlier one in place), `{"$set": {…}}` metadata patches and
//! `{"$rewindTo": id}` truncations. The legacy `.json` file is one object holding `messages`.
//! The working directory comes only from `<project>/.project_root`. Rules: `docs/importers.md`.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::jsonl::{
    JsonLines, Step, Timeline, ValueExt, compact_json, keep_key_order_in, media_marker,
    parse_timestamp, take_str, timestamp_at, tool_use_text,
};
use super::{LineIssue, ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// Reads one Gemini CLI session file. `path` locates `.project_root`, which is read if present.
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name == "logs.json" {
        return super::gemini_logs::parse_logs(path, reader);
    }
    if name.starts_with("checkpoint-") && name.ends_with(".json") {
        return super::gemini_logs::parse_checkpoint(path, reader);
    }
    if is_whole_object(path, reader)? {
        return parse_legacy(path, reader);
    }
    let mut lines = JsonLines::new(reader);
    let mut st = State::default();
    let mut parsed = 0u64;
    while let Some(line) = lines.next_line()? {
        parsed += 1;
        let mut value = line.value;
        // Tool call arguments keep the tool's key order.
        keep_key_order_in(&mut value, &line.raw, &[Step::Key("toolCalls")], "args");
        st.line(value);
    }
    if lines.nonblank_lines == 0 {
        return Err(ParseError::Empty);
    }
    match st.finish(path) {
        Some(session) => {
            let keys = std::mem::take(&mut st.keys);
            Ok(lines.into_keyed_report(vec![session], vec![keys]))
        }
        None if parsed == 0 && lines.truncated_tail => Ok(lines.into_report(Vec::new())),
        None => Err(not_gemini("no metadata line with a sessionId")),
    }
}

fn not_gemini(reason: &str) -> ParseError {
    ParseError::NotATranscript {
        tool: Tool::Gemini,
        reason: reason.into(),
    }
}

/// A `.json` file, or content whose first line is a lone `{` (a pretty-printed object).
fn is_whole_object(path: &Path, reader: &mut dyn BufRead) -> std::io::Result<bool> {
    if path.extension().is_some_and(|e| e == "json") {
        return Ok(true);
    }
    let head = reader.fill_buf()?.trim_ascii_start();
    Ok(head.starts_with(b"{\n") || head.starts_with(b"{\r\n"))
}

/// The legacy single-object file. Gemini rewrites it whole, so it is read whole.
fn parse_legacy(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    if bytes.trim_ascii().is_empty() {
        return Err(ParseError::Empty);
    }
    let mut report = ParseReport::default();
    let parsed = match std::str::from_utf8(&bytes) {
        Ok(text) => serde_json::from_str::<Value>(text),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            report.issues.push(LineIssue {
                line: line as u64,
                message: "invalid UTF-8 replaced with U+FFFD".into(),
            });
            serde_json::from_str::<Value>(&String::from_utf8_lossy(&bytes))
        }
    };
    drop(bytes);
    let value = match parsed {
        Ok(v) => v,
        // Caught mid-rewrite: read it again later.
        Err(e) if e.is_eof() => {
            report.truncated_tail = true;
            return Ok(report);
        }
        Err(e) => return Err(not_gemini(&format!("not a JSON object ({e})"))),
    };
    if !value.is_object() || value.get("messages").is_none_or(|m| !m.is_array()) {
        return Err(not_gemini("no messages array"));
    }
    let mut st = State::default();
    st.line(value);
    match st.finish(path) {
        Some(session) => {
            report.sessions.push(session);
            report.keys.push(std::mem::take(&mut st.keys));
            Ok(report)
        }
        None => Err(not_gemini("no sessionId")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordKind {
    User,
    Gemini,
    Other,
}

/// One message record, already turned into lore messages.
struct Record {
    id: String,
    kind: RecordKind,
    messages: Vec<Message>,
    model: Option<String>,
}

#[derive(Default)]
struct State {
    session_id: Option<String>,
    start: Option<i64>,
    title: Option<String>,
    subagent: bool,
    times: Timeline,
    records: Vec<Record>,
    /// Record id → position in `records`.
    index: HashMap<String, usize>,
    anonymous: u64,
    /// One identity per message, filled by `finish`: `<record id>.<n>`.
    keys: Vec<String>,
}

impl State {
    fn line(&mut self, mut v: Value) {
        if !v.is_object() {
            return;
        }
        if let Some(target) = v.get("$rewindTo") {
            let target = target.as_str().unwrap_or("").to_owned();
            self.rewind(&target);
        } else if let Some(set) = v.get_mut("$set") {
            let set = set.take();
            self.metadata(set);
        } else if v.get("type").is_some_and(Value::is_string) && v.get("sessionId").is_none() {
            self.upsert(v);
        } else if v.str_at("sessionId").is_some() {
            self.metadata(v);
        }
    }

    /// The metadata line, a `$set` patch, or the legacy whole object.
    fn metadata(&mut self, mut m: Value) {
        if let Some(id) = take_str(&mut m, "sessionId") {
            self.session_id = Some(id);
        }
        if let Some(start) = timestamp_at(&m, "startTime") {
            self.start.get_or_insert(start);
            self.times.see(Some(start));
        }
        self.times.see(timestamp_at(&m, "lastUpdated"));
        if let Some(summary) = take_str(&mut m, "summary") {
            self.title = Some(summary);
        }
        if let Some(kind) = m.str_at("kind") {
            self.subagent = kind == "subagent";
        }
        if let Some(Value::Array(messages)) = m.get_mut("messages").map(Value::take) {
            self.records.clear();
            self.index.clear();
            for msg in messages {
                self.upsert(msg);
            }
        }
    }

    /// Drops the record `id` and every later one; an unknown id clears the list (as Gemini does).
    fn rewind(&mut self, id: &str) {
        let at = self.index.get(id).copied().unwrap_or(0);
        for gone in self.records.drain(at..) {
            self.index.remove(&gone.id);
        }
    }

    fn upsert(&mut self, v: Value) {
        if !v.is_object() {
            return;
        }
        let record = self.convert(v);
        match self.index.get(&record.id) {
            Some(&at) => self.records[at] = record,
            None => {
                self.index.insert(record.id.clone(), self.records.len());
                self.records.push(record);
            }
        }
    }

    fn convert(&mut self, mut v: Value) -> Record {
        /// How Gemini CLI's notice to a sub-agent out of turns begins.
        const TURN_LIMIT: &str = "You have exceeded the maximum number of turns";
        let id = take_str(&mut v, "id").unwrap_or_else(|| {
            self.anonymous += 1;
            format!("\0anonymous-{}", self.anonymous)
        });
        let ts = timestamp_at(&v, "timestamp");
        self.times.see(ts);
        let mut messages = Vec::new();
        let kind = match v.get("type").and_then(Value::as_str) {
            Some("user") => RecordKind::User,
            Some("gemini") => RecordKind::Gemini,
            Some("info" | "error" | "warning") => {
                let text = parts_text(v.get_mut("content").map(Value::take), &mut messages, ts);
                if !text.trim().is_empty() {
                    messages.insert(0, Message::new(Role::System, Kind::Text, text, ts));
                }
                RecordKind::Other
            }
            _ => RecordKind::Other,
        };
        let mut model = None;
        match kind {
            RecordKind::User => {
                let mut results = Vec::new();
                let text = parts_text(v.get_mut("content").map(Value::take), &mut results, ts);
                if !text.trim().is_empty() {
                    // Gemini CLI writes its own turn-limit notice to a sub-agent as a user
                    // record: text the tool injected, not a prompt (nor a title).
                    let role = if text.starts_with(TURN_LIMIT) {
                        Role::System
                    } else {
                        Role::User
                    };
                    messages.push(Message::new(role, Kind::Text, text, ts));
                }
                messages.append(&mut results);
            }
            RecordKind::Gemini => {
                model = take_str(&mut v, "model");
                if let Some(Value::Array(thoughts)) = v.get_mut("thoughts").map(Value::take) {
                    for t in thoughts {
                        let subject = t.str_at("subject").unwrap_or("").trim();
                        let description = t.str_at("description").unwrap_or("").trim();
                        let text = match (subject.is_empty(), description.is_empty()) {
                            (true, true) => continue,
                            (false, true) => subject.to_owned(),
                            (true, false) => description.to_owned(),
                            (false, false) => format!("{subject}: {description}"),
                        };
                        let t_ts = timestamp_at(&t, "timestamp").or(ts);
                        messages.push(Message::new(Role::Assistant, Kind::Thinking, text, t_ts));
                    }
                }
                let mut results = Vec::new();
                let text = parts_text(v.get_mut("content").map(Value::take), &mut results, ts);
                if !text.trim().is_empty() {
                    messages.push(Message::new(Role::Assistant, Kind::Text, text, ts));
                }
                messages.append(&mut results);
                if let Some(Value::Array(calls)) = v.get_mut("toolCalls").map(Value::take) {
                    for call in calls {
                        tool_call(call, ts, &mut messages);
                    }
                }
            }
            RecordKind::Other => {}
        }
        for m in &messages {
            self.times.see(m.timestamp);
        }
        Record {
            id,
            kind,
            messages,
            model,
        }
    }

    fn finish(&mut self, path: &Path) -> Option<ParsedSession> {
        let id = self.session_id.take()?;
        let mut info = SessionInfo::new(id, Tool::Gemini);
        let mut count = 0u32;
        let mut messages = Vec::new();
        for r in std::mem::take(&mut self.records) {
            let counted = match r.kind {
                RecordKind::User => r.messages.iter().any(|m| m.role == Role::User),
                RecordKind::Gemini => !r.messages.is_empty(),
                RecordKind::Other => false,
            };
            if counted {
                count = count.saturating_add(1);
            }
            if r.model.is_some() {
                info.model = r.model;
            }
            let named = !r.id.starts_with('\0');
            for n in 0..r.messages.len() {
                self.keys.push(if named {
                    format!("{}.{n}", r.id)
                } else {
                    String::new()
                });
            }
            messages.extend(r.messages);
        }
        self.times.last_message = messages.iter().rev().find_map(|m| m.timestamp);
        if let Some(start) = self.start {
            self.times.first = Some(start);
        }
        self.times.apply(&mut info);
        info.message_count = count;
        info.title = self.title.take();
        let project = project_dir(path);
        info.cwd = project.as_deref().and_then(read_project_root);
        if self.subagent {
            // chats/<parent session id>/<id>.jsonl
            info.parent_id = path
                .parent()
                .filter(|p| p.file_name().is_some_and(|n| n != "chats"))
                .and_then(Path::file_name)
                .and_then(|n| n.to_str())
                .map(str::to_owned);
        }
        Some(ParsedSession {
            info,
            messages,
            links: Vec::new(),
        })
    }
}

/// The project folder: the parent of the nearest `chats` folder above the file.
fn project_dir(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "chats"))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
}

pub(super) fn read_project_root(project: &Path) -> Option<String> {
    let text = std::fs::read_to_string(project.join(".project_root")).ok()?;
    let root = text.trim();
    (!root.is_empty()).then(|| root.to_owned())
}

/// Gemini `content`: a string, one part, or a list of parts. Text parts are concatenated;
/// inline data becomes a marker; `functionResponse` parts become tool results in `results`.
fn parts_text(content: Option<Value>, results: &mut Vec<Message>, ts: Option<i64>) -> String {
    match content {
        Some(Value::String(s)) => s,
        Some(Value::Array(parts)) => {
            let mut out = String::new();
            for part in parts {
                part_text(part, &mut out, results, ts);
            }
            out
        }
        Some(part @ Value::Object(_)) => {
            let mut out = String::new();
            part_text(part, &mut out, results, ts);
            out
        }
        _ => String::new(),
    }
}

fn part_text(mut part: Value, out: &mut String, results: &mut Vec<Message>, ts: Option<i64>) {
    if let Some(text) = take_str(&mut part, "text") {
        if part.get("thought").and_then(Value::as_bool) == Some(true) {
            return;
        }
        out.push_str(&text);
    } else if let Some(data) = part.get("inlineData") {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        let kind = media_kind(data.str_at("mimeType"));
        out.push_str(&media_marker(
            kind,
            data.str_at("mimeType"),
            data.str_at("data").unwrap_or(""),
        ));
    } else if let Some(resp) = part.get_mut("functionResponse") {
        let name = take_str(resp, "name");
        let text = response_text(resp.get_mut("response").map(Value::take));
        let mut m = Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
        m.tool_name = name;
        results.push(m);
    }
}

fn media_kind(mime: Option<&str>) -> &'static str {
    match mime.and_then(|m| m.split('/').next()) {
        Some("image") => "image",
        Some("audio") => "audio",
        Some("video") => "video",
        _ => "file",
    }
}

/// A function response: its `output` or `error` text, else the response as JSON.
pub(super) fn response_text(response: Option<Value>) -> String {
    match response {
        Some(mut r @ Value::Object(_)) => take_str(&mut r, "output")
            .or_else(|| take_str(&mut r, "error"))
            .unwrap_or_else(|| compact_json(&r)),
        Some(Value::Null) | None => String::new(),
        Some(other) => compact_json(&other),
    }
}

/// A `toolCalls[]` entry: the call, then its result when there is one.
fn tool_call(mut call: Value, ts: Option<i64>, messages: &mut Vec<Message>) {
    let name = take_str(&mut call, "name")
        .or_else(|| take_str(&mut call, "displayName"))
        .unwrap_or_else(|| "tool".into());
    let args = call.get("args").map(compact_json).unwrap_or_default();
    let text = cap_tool_content(tool_use_text(&name, &args));
    messages.push(Message::new(Role::Assistant, Kind::ToolUse, text, ts).with_tool(name.clone()));

    let result_ts = call.str_at("timestamp").and_then(parse_timestamp).or(ts);
    let mut text = String::new();
    let mut ignored = Vec::new();
    match call.get_mut("result").map(Value::take) {
        Some(Value::Array(parts)) => {
            for mut part in parts {
                let piece = match part.get_mut("functionResponse") {
                    Some(resp) => response_text(resp.get_mut("response").map(Value::take)),
                    None => parts_text(Some(part), &mut ignored, result_ts),
                };
                if !piece.is_empty() {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(&piece);
                }
            }
        }
        Some(Value::String(s)) => text = s,
        Some(Value::Null) | None => {}
        Some(other) => text = compact_json(&other),
    }
    if text.trim().is_empty() {
        text = match call.get_mut("resultDisplay").map(Value::take) {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => String::new(),
            Some(other) => compact_json(&other),
        };
    }
    if text.trim().is_empty() {
        match call.str_at("status") {
            // Ended without output; a call still running has no result yet.
            Some(status @ ("error" | "cancelled")) => text = format!("[{status}]"),
            _ => return,
        }
    }
    let mut m = Message::new(
        Role::Tool,
        Kind::ToolResult,
        cap_tool_content(text),
        result_ts,
    );
    m.tool_name = Some(name);
    messages.push(m);
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/transcripts/gemini/tmp/acme"
    );
    const JSONL: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/transcripts/gemini/tmp/acme/chats/session-2026-05-17T11-07-8d3f1c2a.jsonl"
    );
    const LEGACY: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/transcripts/gemini/tmp/acme/chats/session-2026-04-01T09-30-1a2b3c4d.json"
    );

    fn run(path: &str, bytes: &[u8]) -> Result<ParseReport, ParseError> {
        let mut reader = bytes;
        parse(Path::new(path), &mut reader)
    }

    fn one(path: &str, bytes: &[u8]) -> ParsedSession {
        let mut r = run(path, bytes).expect("parses");
        assert_eq!(r.sessions.len(), 1);
        r.sessions.remove(0)
    }

    fn ts(s: &str) -> Option<i64> {
        parse_timestamp(s)
    }

    fn contents(s: &ParsedSession) -> Vec<(Role, Kind, &str)> {
        s.messages
            .iter()
            .map(|m| (m.role, m.kind, m.content.as_str()))
            .collect()
    }

    const META: &str = r#"{"sessionId":"G","projectHash":"h","startTime":"2026-05-01T10:00:00Z","lastUpdated":"2026-05-01T10:00:00Z"}"#;

    #[test]
    fn fixture_jsonl_session() {
        let s = one(JSONL, &std::fs::read(JSONL).unwrap());
        let i = &s.info;
        assert_eq!(i.id, "8d3f1c2a-4b5e-4f6a-9c7d-0e1f2a3b4c5d");
        assert_eq!(i.tool, crate::model::Tool::Gemini);
        assert_eq!(i.cwd.as_deref(), Some("/home/dev/acme"));
        assert_eq!(i.title.as_deref(), Some("Add --json to acme status"));
        // The last remaining gemini record's model (the rewound one also said flash).
        assert_eq!(i.model.as_deref(), Some("gemini-2.5-flash"));
        assert_eq!(i.git_branch, None);
        assert_eq!(i.tool_version, None);
        assert_eq!(i.parent_id, None);
        assert_eq!(i.started_at, ts("2026-05-17T11:07:00.000Z"));
        assert_eq!(i.updated_at, ts("2026-05-17T11:07:51.200Z"));
        assert_eq!(i.ended_at, ts("2026-05-17T11:07:51.000Z"));
        // Users m-user-1, m-user-3; gemini m-gem-1, m-gem-2, m-gem-4.
        assert_eq!(i.message_count, 5);
        use Kind::*;
        use Role::*;
        assert_eq!(
            contents(&s),
            vec![
                (User, Text, "Make `acme status` print JSON with --json."),
                (
                    Assistant,
                    Thinking,
                    "Locating the status command: I'll search for the status function before editing."
                ),
                (
                    Assistant,
                    ToolUse,
                    r#"search_file_content: {"pattern":"fn status","path":"src"}"#
                ),
                (
                    Tool,
                    ToolResult,
                    "src/status.rs:1:pub fn status(repo: &Repo) -> Result<()> {"
                ),
                (
                    Assistant,
                    Text,
                    "`status` is in src/status.rs; I'll add a `--json` branch there."
                ),
                (System, Text, "Switched model to gemini-2.5-flash."),
                (User, Text, "Keep --json, and add a test."),
                (
                    Assistant,
                    Text,
                    "Added the flag and a test in tests/status.rs."
                ),
                (System, Text, "Approaching the context window limit."),
            ]
        );
        // The rewritten record kept its place and its last version (the result).
        assert_eq!(s.messages[1].timestamp, ts("2026-05-17T11:07:08.300Z"));
        assert_eq!(
            s.messages[2].tool_name.as_deref(),
            Some("search_file_content")
        );
        assert_eq!(
            s.messages[3].tool_name.as_deref(),
            Some("search_file_content")
        );
        assert_eq!(s.messages[3].timestamp, ts("2026-05-17T11:07:10.412Z"));
    }

    #[test]
    fn fixture_legacy_json() {
        let s = one(LEGACY, &std::fs::read(LEGACY).unwrap());
        let i = &s.info;
        assert_eq!(i.id, "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5e");
        assert_eq!(i.cwd.as_deref(), Some("/home/dev/acme"));
        assert_eq!(i.model.as_deref(), Some("gemini-2.5-pro"));
        assert_eq!(i.title, None);
        assert_eq!(i.started_at, ts("2026-04-01T09:30:00.000Z"));
        assert_eq!(i.updated_at, ts("2026-04-01T09:31:10.000Z"));
        assert_eq!(i.ended_at, ts("2026-04-01T09:31:10.000Z"));
        assert_eq!(i.message_count, 3);
        use Kind::*;
        use Role::*;
        assert_eq!(
            contents(&s),
            vec![
                (User, Text, "What does `acme sync` do?"),
                (
                    Assistant,
                    ToolUse,
                    r#"read_file: {"absolute_path":"/home/dev/acme/src/sync.rs"}"#
                ),
                (Tool, ToolResult, "pub fn sync() { /* pushes refs */ }"),
                (
                    Assistant,
                    Thinking,
                    "Reading sync: The function pushes refs."
                ),
                (Assistant, Text, "It pushes refs to the remote."),
            ]
        );
    }

    #[test]
    fn legacy_detected_by_content_and_cut_short() {
        let text = std::fs::read(LEGACY).unwrap();
        // A pretty-printed object under a .jsonl name.
        let s = one("/x/chats/s.jsonl", &text);
        assert_eq!(s.info.message_count, 3);
        assert_eq!(s.info.cwd, None);
        // Caught mid-rewrite.
        let r = run("/x/chats/s.json", &text[..text.len() / 2]).unwrap();
        assert!(r.sessions.is_empty());
        assert!(r.truncated_tail);
        assert!(matches!(
            run("/x/chats/s.json", b"{\"sessionId\":\"x\"}"),
            Err(ParseError::NotATranscript {
                tool: Tool::Gemini,
                ..
            })
        ));
        assert!(matches!(
            run("/x/chats/s.json", b"  \n"),
            Err(ParseError::Empty)
        ));
    }

    #[test]
    fn the_turn_limit_notice_is_the_tools_not_a_prompt() {
        let input = format!(
            "{META}\n{}\n{}\n",
            r#"{"id":"a","timestamp":"2026-05-01T10:00:01Z","type":"user","content":[{"text":"You have exceeded the maximum number of turns. Call complete_task now."}]}"#,
            r#"{"id":"b","timestamp":"2026-05-01T10:00:02Z","type":"gemini","content":"done","model":"m"}"#,
        );
        let s = one("/x/s.jsonl", input.as_bytes());
        assert_eq!(s.messages[0].role, Role::System);
        assert_eq!(s.info.message_count, 1);
    }

    #[test]
    fn last_write_wins_in_first_position() {
        let input = format!(
            "{META}\n{}\n{}\n{}\n",
            r#"{"id":"a","timestamp":"2026-05-01T10:00:01Z","type":"gemini","content":"draft","model":"m1"}"#,
            r#"{"id":"b","timestamp":"2026-05-01T10:00:02Z","type":"user","content":"next"}"#,
            r#"{"id":"a","timestamp":"2026-05-01T10:00:01Z","type":"gemini","content":"final","model":"m2"}"#,
        );
        let s = one("/x/s.jsonl", input.as_bytes());
        let texts: Vec<&str> = s.messages.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, vec!["final", "next"]);
        // The model of the last record that has one, in list order.
        assert_eq!(s.info.model.as_deref(), Some("m2"));
        assert_eq!(s.info.message_count, 2);
    }

    #[test]
    fn set_patches_metadata_and_can_replace_messages() {
        let input = format!(
            "{META}\n{}\n{}\n{}\n{}\n",
            r#"{"id":"a","timestamp":"2026-05-01T10:00:01Z","type":"user","content":"old"}"#,
            r#"{"$set":{"summary":"T1","lastUpdated":"2026-05-01T11:00:00Z","messages":[{"id":"x","timestamp":"2026-05-01T10:30:00Z","type":"user","content":"kept"}]}}"#,
            r#"{"id":"y","timestamp":"2026-05-01T10:31:00Z","type":"gemini","content":"after"}"#,
            r#"{"$set":{"summary":"T2"}}"#,
        );
        let s = one("/x/s.jsonl", input.as_bytes());
        let texts: Vec<&str> = s.messages.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, vec!["kept", "after"]);
        assert_eq!(s.info.title.as_deref(), Some("T2"));
        assert_eq!(s.info.updated_at, ts("2026-05-01T11:00:00Z"));
        assert_eq!(s.info.ended_at, ts("2026-05-01T10:31:00Z"));
        assert_eq!(s.info.message_count, 2);
    }

    #[test]
    fn rewind_drops_the_target_and_later_and_unknown_target_clears() {
        let msgs = [
            r#"{"id":"a","type":"user","content":"one"}"#,
            r#"{"id":"b","type":"gemini","content":"two"}"#,
            r#"{"id":"c","type":"user","content":"three"}"#,
        ]
        .join("\n");
        let input = format!("{META}\n{msgs}\n{}\n", r#"{"$rewindTo":"b"}"#);
        let s = one("/x/s.jsonl", input.as_bytes());
        assert_eq!(contents(&s), vec![(Role::User, Kind::Text, "one")]);
        assert_eq!(s.info.message_count, 1);
        // A re-appended id after a rewind goes to the end.
        let input = format!(
            "{META}\n{msgs}\n{}\n{}\n",
            r#"{"$rewindTo":"a"}"#, r#"{"id":"b","type":"gemini","content":"again"}"#
        );
        let s = one("/x/s.jsonl", input.as_bytes());
        assert_eq!(contents(&s), vec![(Role::Assistant, Kind::Text, "again")]);
        let input = format!("{META}\n{msgs}\n{}\n", r#"{"$rewindTo":"zzz"}"#);
        assert!(one("/x/s.jsonl", input.as_bytes()).messages.is_empty());
    }

    #[test]
    fn project_root_and_subagent_parent() {
        assert_eq!(
            read_project_root(Path::new(DIR)).as_deref(),
            Some("/home/dev/acme")
        );
        let sub = format!("{DIR}/chats/PARENT-ID/child.jsonl");
        assert_eq!(
            project_dir(Path::new(&sub)).as_deref(),
            Some(Path::new(DIR))
        );
        let input = r#"{"sessionId":"child","projectHash":"h","startTime":"2026-05-01T10:00:00Z","kind":"subagent"}
"#;
        let s = one(&sub, input.as_bytes());
        assert_eq!(s.info.parent_id.as_deref(), Some("PARENT-ID"));
        assert_eq!(s.info.cwd.as_deref(), Some("/home/dev/acme"));
        // No .project_root: no cwd, never a guess from the folder name.
        let s = one("/nowhere/tmp/acme/chats/s.jsonl", input.as_bytes());
        assert_eq!(s.info.cwd, None);
        assert_eq!(s.info.parent_id, None);
        assert!(s.messages.is_empty());
        assert_eq!(s.info.started_at, ts("2026-05-01T10:00:00Z"));
    }

    #[test]
    fn content_parts_images_errors_and_empty_records() {
        let input = format!(
            "{META}\n{}\n{}\n{}\n{}\n",
            r#"{"id":"u","type":"user","content":[{"text":"see "},{"text":"this"},{"inlineData":{"mimeType":"image/png","data":"aGVsbG8h"}}]}"#,
            r#"{"id":"e","type":"gemini","content":"","thoughts":[],"toolCalls":[]}"#,
            r#"{"id":"g","type":"gemini","content":"","toolCalls":[{"id":"t","name":"run_shell_command","args":{"command":"false"},"status":"error","result":[{"functionResponse":{"name":"run_shell_command","response":{"error":"exit 1"}}}]},{"id":"t2","name":"write_file","args":{},"status":"cancelled"},{"id":"t3","name":"read_file","args":{},"status":"executing"}]}"#,
            r#"{"id":"err","type":"error","content":"quota exceeded"}"#,
        );
        let s = one("/x/s.jsonl", input.as_bytes());
        use Kind::*;
        use Role::*;
        assert_eq!(
            contents(&s),
            vec![
                (User, Text, "see this\n[image image/png, 6 bytes]"),
                (
                    Assistant,
                    ToolUse,
                    r#"run_shell_command: {"command":"false"}"#
                ),
                (Tool, ToolResult, "exit 1"),
                (Assistant, ToolUse, "write_file: {}"),
                (Tool, ToolResult, "[cancelled]"),
                (Assistant, ToolUse, "read_file: {}"),
                (System, Text, "quota exceeded"),
            ]
        );
        // The empty gemini record is no turn.
        assert_eq!(s.info.message_count, 2);
    }

    #[test]
    fn empty_foreign_truncated_and_invalid_utf8() {
        assert!(matches!(run("/x/s.jsonl", b""), Err(ParseError::Empty)));
        assert!(matches!(
            run(
                "/x/s.jsonl",
                b"{\"type\":\"user\",\"message\":{}}\n{\"a\":1}\n"
            ),
            Err(ParseError::NotATranscript {
                tool: Tool::Gemini,
                ..
            })
        ));
        let mut input = format!("{META}\n").into_bytes();
        input.extend_from_slice(b"{\"id\":\"a\",\"type\":\"user\",\"content\":\"gr\xfc\xdf\"}\n");
        input.extend_from_slice(b"nope\n");
        input.extend_from_slice(b"{\"id\":\"b\",\"type\":\"gem");
        let r = run("/x/s.jsonl", &input).unwrap();
        assert!(r.truncated_tail);
        assert_eq!(
            r.issues.iter().map(|i| i.line).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(r.sessions[0].messages[0].content, "gr\u{fffd}\u{fffd}");
        assert_eq!(r.sessions[0].info.message_count, 1);
    }
}
