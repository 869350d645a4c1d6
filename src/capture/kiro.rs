//! Kiro CLI: `~/.kiro/sessions/cli/<session id>.jsonl`, with `<session id>.json` beside it
//! (the `kiro_dir` setting moves `~/.kiro`).
//!
//! Every line is `{version: "v1", kind, data: {message_id, content: [{kind, data}]}}`: `Prompt`
//! lines hold what the human typed (`text` blocks; a block that is one whole
//! `<tag>…</tag>` element is context a tool put before the prompt, kept as a system message),
//! `AssistantMessage` lines hold `text` and `toolUse` blocks, `ToolResults` lines hold
//! `toolResult` blocks. Lines record no time: the sidecar `<id>.json` gives the session's
//! `created_at`/`updated_at`, `cwd`, and the model (`session_state.rts_model_state.model_info`).
//! Other kinds, block kinds and fields are skipped, so a newer Kiro never breaks the read.
//! Refuses a file with no Kiro line. Rules: `docs/importers.md` ("Kiro CLI").

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::jsonl::{JsonLines, ValueExt, compact_json, parse_timestamp, tool_use_text};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// The largest sidecar read beside a session.
const MAX_SIDECAR: u64 = 16 * 1024 * 1024;

/// Reads one Kiro CLI session file; its `<id>.json` sidecar is read when present.
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let sidecar = read_sidecar(path);
    let mut lines = JsonLines::new(reader);
    let mut st = State::default();
    while let Some(line) = lines.next_line()? {
        st.line(line.value, line.number);
    }
    // Kiro writes the sidecar first; an empty log beside one is a session with no turn yet.
    if lines.nonblank_lines == 0 && sidecar.is_none() {
        return Err(ParseError::Empty);
    }
    if st.recognised == 0 && sidecar.is_none() {
        if lines.truncated_tail {
            return Ok(lines.into_report(Vec::new()));
        }
        return Err(ParseError::NotATranscript {
            tool: Tool::Kiro,
            reason: "no Kiro CLI line ({version, kind, data: {message_id, content}})".into(),
        });
    }
    let (session, keys) = st.finish(path, sidecar);
    Ok(lines.into_keyed_report(vec![session], vec![keys]))
}

/// Whether `v` is a Kiro CLI line (for content detection).
pub fn is_line(v: &Value) -> bool {
    v.get("version").is_some_and(Value::is_string)
        && v.get("kind").is_some_and(Value::is_string)
        && v.get("data")
            .and_then(|d| d.get("content"))
            .is_some_and(Value::is_array)
}

#[derive(Default)]
struct State {
    recognised: u64,
    messages: Vec<Message>,
    keys: Vec<String>,
    /// toolUseId → tool name.
    calls: HashMap<String, String>,
}

impl State {
    fn push(&mut self, key: String, m: Message) {
        self.messages.push(m);
        self.keys.push(key);
    }

    fn line(&mut self, mut v: Value, number: u64) {
        if !is_line(&v) {
            return;
        }
        self.recognised += 1;
        let kind = v.str_at("kind").unwrap_or("").to_owned();
        let Some(mut data) = v.get_mut("data").map(Value::take) else {
            return;
        };
        let id = data
            .str_at("message_id")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("l{number}"));
        let Some(Value::Array(blocks)) = data.get_mut("content").map(Value::take) else {
            return;
        };
        for (n, mut b) in blocks.into_iter().enumerate() {
            let key = format!("{id}.{n}");
            let bkind = b.str_at("kind").unwrap_or("").to_owned();
            let body = b.get_mut("data").map(Value::take).unwrap_or(Value::Null);
            let msg = match (kind.as_str(), bkind.as_str()) {
                ("Prompt", "text") => text_of(&body).map(|t| {
                    let role = if is_context_block(&t) {
                        Role::System
                    } else {
                        Role::User
                    };
                    Message::new(role, Kind::Text, t, None)
                }),
                ("AssistantMessage", "text") => {
                    text_of(&body).map(|t| Message::new(Role::Assistant, Kind::Text, t, None))
                }
                (_, "toolUse") => {
                    let name = body.str_at("name").unwrap_or("tool").to_owned();
                    if let Some(cid) = body.str_at("toolUseId").or_else(|| body.str_at("id")) {
                        self.calls.insert(cid.to_owned(), name.clone());
                    }
                    let input = body
                        .get("input")
                        .or_else(|| body.get("args"))
                        .map(compact_json)
                        .unwrap_or_default();
                    let text = cap_tool_content(tool_use_text(&name, &input));
                    Some(Message::new(Role::Assistant, Kind::ToolUse, text, None).with_tool(name))
                }
                (_, "toolResult") => {
                    let name = body
                        .str_at("toolUseId")
                        .and_then(|c| self.calls.get(c))
                        .cloned();
                    let mut text = result_text(body.get("content"));
                    if matches!(body.str_at("status"), Some("error" | "Error")) {
                        text = format!("[error] {text}");
                    }
                    let mut m =
                        Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), None);
                    m.tool_name = name;
                    Some(m)
                }
                _ => None,
            };
            if let Some(msg) = msg.filter(|m| !m.content.trim().is_empty()) {
                self.push(key, msg);
            }
        }
    }

    fn finish(self, path: &Path, sidecar: Option<Value>) -> (ParsedSession, Vec<String>) {
        let side = sidecar.unwrap_or(Value::Null);
        let id = side
            .str_at("session_id")
            .map(str::to_owned)
            .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "kiro".into());
        let mut info = SessionInfo::new(id, Tool::Kiro);
        info.cwd = side.str_at("cwd").map(str::to_owned);
        info.started_at = side.str_at("created_at").and_then(parse_timestamp);
        info.updated_at = side.str_at("updated_at").and_then(parse_timestamp);
        // The end of the last turn, else the last write.
        info.ended_at = side
            .pointer("/session_state/conversation_metadata/user_turn_metadatas")
            .and_then(Value::as_array)
            .and_then(|t| t.iter().rev().find_map(|m| m.str_at("end_timestamp")))
            .and_then(parse_timestamp)
            .or(info.updated_at);
        info.model = side
            .pointer("/session_state/rts_model_state/model_info/model_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
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

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(compact_json(other)),
    }
}

/// A block that is one whole `<tag>…</tag>` element: context put before the prompt.
fn is_context_block(text: &str) -> bool {
    let t = text.trim();
    let Some(rest) = t.strip_prefix('<') else {
        return false;
    };
    let Some(end) = rest.find('>') else {
        return false;
    };
    let tag = &rest[..end];
    !tag.is_empty()
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && t.ends_with(&format!("</{tag}>"))
}

/// A tool result's content: `[{kind, data}]` blocks (text as it is, JSON compact), or a value.
fn result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::Array(blocks)) => {
            let mut out = String::new();
            for b in blocks {
                let piece = match b.get("data") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => compact_json(other),
                    None => compact_json(b),
                };
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&piece);
            }
            out
        }
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => compact_json(other),
    }
}

/// `<id>.json` beside `path`, parsed; `None` when missing or not JSON.
fn read_sidecar(path: &Path) -> Option<Value> {
    use std::io::Read;
    let stem = path.file_stem()?.to_str()?;
    let file = path.with_file_name(format!("{stem}.json"));
    if file == path {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .ok()?
        .take(MAX_SIDECAR)
        .read_to_end(&mut bytes)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
