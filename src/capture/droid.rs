//! Factory Droid: `~/.factory/sessions/<cwd slug>/<session id>.jsonl`, with
//! `<session id>.settings.json` beside it (the `factory_dir` setting moves `~/.factory`).
//!
//! The first line is `{type: "session_start", id, title, sessionTitle, owner, version, cwd}`
//! (`version` is the file format's: Droid records no program version). Then
//! `{type: "message", id, timestamp, parentId, message: {role, content}}` lines whose content
//! is Anthropic-style blocks: `text`, `thinking`, `tool_use` (`id`, `name`, `input`) and
//! `tool_result` (`tool_use_id`, `content`, `is_error`). In a user message, `<system-reminder>`
//! text is Droid's injected context (kept as a system message), not what the human typed. The
//! settings file gives the model. Other line types, block types and fields are skipped, so a
//! newer Droid never breaks the read. Refuses a file without a Droid line. Rules:
//! `docs/importers.md` ("Factory Droid").

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::jsonl::{JsonLines, Timeline, ValueExt, compact_json, media_marker, take_str};
use super::jsonl::{timestamp_at, tool_use_text};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// The largest settings file read beside a session.
const MAX_SETTINGS: u64 = 1024 * 1024;

/// Reads one Droid session file; its `.settings.json` sibling is read when present.
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let mut lines = JsonLines::new(reader);
    let mut st = State::default();
    while let Some(line) = lines.next_line()? {
        st.line(line.value);
    }
    if lines.nonblank_lines == 0 {
        return Err(ParseError::Empty);
    }
    if st.recognised == 0 {
        if lines.truncated_tail {
            return Ok(lines.into_report(Vec::new()));
        }
        return Err(ParseError::NotATranscript {
            tool: Tool::Droid,
            reason: "no Factory Droid line (session_start, or a message with content blocks)"
                .into(),
        });
    }
    let (session, keys) = st.finish(path);
    Ok(lines.into_keyed_report(vec![session], vec![keys]))
}

/// Whether `v` is a Droid line (for content detection): the `session_start` header.
pub fn is_line(v: &Value) -> bool {
    v.str_at("type") == Some("session_start")
        && v.get("id").is_some()
        && (v.get("sessionTitle").is_some() || v.get("owner").is_some())
}

fn is_message(v: &Value) -> bool {
    v.str_at("type") == Some("message")
        && v.get("id").is_some()
        && v.get("message")
            .and_then(|m| m.get("content"))
            .is_some_and(|c| c.is_array() || c.is_string())
}

#[derive(Default)]
struct State {
    recognised: u64,
    session_id: Option<String>,
    title: Option<String>,
    cwd: Option<String>,
    times: Timeline,
    messages: Vec<Message>,
    keys: Vec<String>,
    /// tool_use id → tool name.
    calls: HashMap<String, String>,
}

impl State {
    fn push(&mut self, key: String, m: Message) {
        self.times.message(m.timestamp);
        self.messages.push(m);
        self.keys.push(key);
    }

    fn line(&mut self, mut v: Value) {
        if is_line(&v) {
            self.recognised += 1;
            if self.session_id.is_none() {
                self.session_id = take_str(&mut v, "id");
            }
            let title = take_str(&mut v, "sessionTitle").or_else(|| take_str(&mut v, "title"));
            // "New Session" is Droid's placeholder until it names the session.
            if let Some(t) = title.filter(|t| t != "New Session") {
                self.title = Some(t);
            }
            if let Some(cwd) = take_str(&mut v, "cwd") {
                self.cwd = Some(cwd);
            }
            return;
        }
        if !is_message(&v) {
            return;
        }
        self.recognised += 1;
        let ts = timestamp_at(&v, "timestamp");
        self.times.see(ts);
        let id = match v.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => compact_json(other),
            None => String::new(),
        };
        let Some(mut m) = v.get_mut("message").map(Value::take) else {
            return;
        };
        let user = m.str_at("role") == Some("user");
        let blocks = match m.get_mut("content").map(Value::take) {
            Some(Value::Array(b)) => b,
            Some(Value::String(s)) => vec![serde_json::json!({"type": "text", "text": s})],
            _ => Vec::new(),
        };
        for (n, mut b) in blocks.into_iter().enumerate() {
            let key = format!("{id}.{n}");
            let msg = match b.str_at("type") {
                Some("text") => take_str(&mut b, "text").map(|t| {
                    if user && is_injected(&t) {
                        Message::new(Role::System, Kind::Text, t, ts)
                    } else if user {
                        Message::new(Role::User, Kind::Text, t, ts)
                    } else {
                        Message::new(Role::Assistant, Kind::Text, t, ts)
                    }
                }),
                Some("thinking") => take_str(&mut b, "thinking")
                    .map(|t| Message::new(Role::Assistant, Kind::Thinking, t, ts)),
                Some("image") => {
                    let src = b.get("source");
                    let mt = src.and_then(|s| s.str_at("media_type"));
                    let data = src.and_then(|s| s.str_at("data")).unwrap_or("");
                    let role = if user { Role::User } else { Role::Assistant };
                    Some(Message::new(
                        role,
                        Kind::Text,
                        media_marker("image", mt, data),
                        ts,
                    ))
                }
                Some("tool_use") => {
                    let name = take_str(&mut b, "name").unwrap_or_else(|| "tool".into());
                    if let Some(cid) = b.str_at("id") {
                        self.calls.insert(cid.to_owned(), name.clone());
                    }
                    let input = b.get("input").map(compact_json).unwrap_or_default();
                    let text = cap_tool_content(tool_use_text(&name, &input));
                    Some(Message::new(Role::Assistant, Kind::ToolUse, text, ts).with_tool(name))
                }
                Some("tool_result") => {
                    let name = b
                        .str_at("tool_use_id")
                        .and_then(|c| self.calls.get(c))
                        .cloned();
                    let mut text = result_text(b.get_mut("content").map(Value::take));
                    if b.get("is_error").and_then(Value::as_bool) == Some(true) {
                        text = format!("[error] {text}");
                    }
                    let mut m =
                        Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
                    m.tool_name = name;
                    Some(m)
                }
                _ => None,
            };
            if let Some(msg) = msg.filter(|x| !x.content.trim().is_empty()) {
                self.push(key, msg);
            }
        }
    }

    fn finish(mut self, path: &Path) -> (ParsedSession, Vec<String>) {
        let id = self.session_id.take().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "droid".into())
        });
        let mut info = SessionInfo::new(id, Tool::Droid);
        self.times.apply(&mut info);
        info.title = self.title;
        info.cwd = self.cwd;
        info.model = settings_model(path);
        info.message_count = crate::model::count_turns(&self.messages);
        (
            ParsedSession {
                info,
                messages: self.messages,
                links: Vec::new(),
            },
            self.keys,
        )
    }
}

/// Text Droid adds to a user message on its own: a whole `<system-reminder>` block.
fn is_injected(text: &str) -> bool {
    let t = text.trim();
    t.starts_with("<system-reminder>") && t.ends_with("</system-reminder>")
}

/// A `tool_result`'s content: a string, or blocks whose text is joined.
fn result_text(content: Option<Value>) -> String {
    match content {
        Some(Value::String(s)) => s,
        Some(Value::Array(blocks)) => {
            let mut out = String::new();
            for b in blocks {
                let piece = match b.str_at("type") {
                    Some("text") => b.str_at("text").unwrap_or("").to_owned(),
                    Some("image") => {
                        let src = b.get("source");
                        media_marker(
                            "image",
                            src.and_then(|s| s.str_at("media_type")),
                            src.and_then(|s| s.str_at("data")).unwrap_or(""),
                        )
                    }
                    _ => compact_json(&b),
                };
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&piece);
            }
            out
        }
        Some(Value::Null) | None => String::new(),
        Some(other) => compact_json(&other),
    }
}

/// The `model` of the `<id>.settings.json` beside `path`, when there is one.
fn settings_model(path: &Path) -> Option<String> {
    use std::io::Read;
    let stem = path.file_stem()?.to_str()?;
    let file = path.with_file_name(format!("{stem}.settings.json"));
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .ok()?
        .take(MAX_SETTINGS)
        .read_to_end(&mut bytes)
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.str_at("model").map(str::to_owned)
}
