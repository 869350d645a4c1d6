//! Pi (the pi-mono coding agent): `~/.pi/agent/sessions/--<cwd>--/<time>_<session id>.jsonl`
//! (`$PI_CODING_AGENT_DIR` moves `~/.pi/agent`).
//!
//! Every line is an entry `{type, id, parentId, timestamp, …}`; the first is the `session`
//! header (`id`, `version` (of the file format: Pi records no program version), `cwd`, and for a fork `parentSession`, the path of the session it
//! was branched from: a linked session). `message` entries hold `{role, content, …}`: `user`
//! (what the human typed: a string or text and image blocks), `assistant` (`text`, `thinking`
//! and `toolCall` blocks; `model`, `errorMessage`), `toolResult` (`toolName`, `content`,
//! `isError`) and `bashExecution` (a `!command` the user ran). `model_change` gives the model;
//! `compaction` and `branch_summary` are kept as system messages. Other entry types, roles,
//! block types and fields are skipped, so a newer Pi never breaks the read. Refuses a file
//! without a Pi entry. Rules: `docs/importers.md` ("Pi").

use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::jsonl::{JsonLines, Timeline, ValueExt, compact_json, media_marker, take_str};
use super::jsonl::{timestamp_at, tool_use_text};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// Reads one Pi session file.
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let mut lines = JsonLines::new(reader);
    let mut st = State::default();
    while let Some(line) = lines.next_line()? {
        st.entry(line.value);
    }
    if lines.nonblank_lines == 0 {
        return Err(ParseError::Empty);
    }
    if st.recognised == 0 {
        if lines.truncated_tail {
            return Ok(lines.into_report(Vec::new()));
        }
        return Err(ParseError::NotATranscript {
            tool: Tool::Pi,
            reason: "no Pi entry (a `session` header, or {type, id, parentId, timestamp})".into(),
        });
    }
    let (session, keys) = st.finish(path);
    Ok(lines.into_keyed_report(vec![session], vec![keys]))
}

/// The entry types Pi writes (for content detection and to count recognised lines).
const ENTRY_TYPES: &[&str] = &[
    "message",
    "model_change",
    "thinking_level_change",
    "compaction",
    "branch_summary",
    "custom",
    "custom_message",
    "label",
    "session_info",
];

/// Whether `v` is Pi's session header (for content detection): `{type: "session", id,
/// version, cwd}`, or one of its entries with a Pi message.
pub fn is_line(v: &Value) -> bool {
    let Some(obj) = v.as_object() else {
        return false;
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("session") => {
            obj.contains_key("id") && obj.contains_key("cwd") && obj.contains_key("version")
        }
        Some("message") => {
            obj.contains_key("parentId")
                && matches!(
                    v.pointer("/message/role").and_then(Value::as_str),
                    Some("toolResult" | "bashExecution")
                )
        }
        Some("model_change") => obj.contains_key("modelId") && obj.contains_key("parentId"),
        Some("thinking_level_change") => obj.contains_key("thinkingLevel"),
        _ => false,
    }
}

#[derive(Default)]
struct State {
    recognised: u64,
    session_id: Option<String>,
    model: Option<String>,
    cwd: Option<String>,
    parent: Option<String>,
    times: Timeline,
    messages: Vec<Message>,
    keys: Vec<String>,
}

impl State {
    fn push(&mut self, key: String, m: Message) {
        self.times.message(m.timestamp);
        self.messages.push(m);
        self.keys.push(key);
    }

    fn entry(&mut self, mut v: Value) {
        let ty = v.str_at("type").unwrap_or("").to_owned();
        let ts = timestamp_at(&v, "timestamp");
        if ty == "session" {
            if !is_line(&v) {
                return;
            }
            self.recognised += 1;
            self.times.see(ts);
            if self.session_id.is_none() {
                self.session_id = take_str(&mut v, "id");
            }
            self.cwd = take_str(&mut v, "cwd").or(self.cwd.take());
            if let Some(p) = v.str_at("parentSession") {
                self.parent = session_id_of_path(p);
            }
            return;
        }
        if !ENTRY_TYPES.contains(&ty.as_str()) || v.get("id").is_none() {
            return;
        }
        self.recognised += 1;
        self.times.see(ts);
        let id = match v.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => compact_json(other),
            None => String::new(),
        };
        match ty.as_str() {
            "message" => {
                if let Some(m) = v.get_mut("message").map(Value::take) {
                    self.message(&id, m, ts);
                }
            }
            "model_change" => {
                if let Some(m) = take_str(&mut v, "modelId") {
                    self.model = Some(m);
                }
            }
            "compaction" => {
                if let Some(s) = take_str(&mut v, "summary") {
                    let text = format!("[conversation compacted; summary]\n{s}");
                    self.push(id, Message::new(Role::System, Kind::Text, text, ts));
                }
            }
            "branch_summary" => {
                if let Some(s) = take_str(&mut v, "summary") {
                    let text = format!("[summary of an abandoned branch]\n{s}");
                    self.push(id, Message::new(Role::System, Kind::Text, text, ts));
                }
            }
            _ => {}
        }
    }

    fn message(&mut self, id: &str, mut m: Value, ts: Option<i64>) {
        let role = m.str_at("role").unwrap_or("").to_owned();
        match role.as_str() {
            "user" => {
                let text = blocks_text(m.get_mut("content").map(Value::take));
                if !text.trim().is_empty() {
                    self.push(
                        id.to_owned(),
                        Message::new(Role::User, Kind::Text, text, ts),
                    );
                }
            }
            "assistant" => {
                if let Some(model) = take_str(&mut m, "model") {
                    self.model = Some(model);
                }
                let blocks = match m.get_mut("content").map(Value::take) {
                    Some(Value::Array(b)) => b,
                    Some(Value::String(s)) => vec![serde_json::json!({"type": "text", "text": s})],
                    _ => Vec::new(),
                };
                let mut n = 0usize;
                for mut b in blocks {
                    let key = format!("{id}.{n}");
                    let msg = match b.str_at("type") {
                        Some("text") => take_str(&mut b, "text")
                            .map(|t| Message::new(Role::Assistant, Kind::Text, t, ts)),
                        Some("thinking") => take_str(&mut b, "thinking")
                            .map(|t| Message::new(Role::Assistant, Kind::Thinking, t, ts)),
                        Some("toolCall") => {
                            let name = take_str(&mut b, "name").unwrap_or_else(|| "tool".into());
                            let args = b.get("arguments").map(compact_json).unwrap_or_default();
                            let text = cap_tool_content(tool_use_text(&name, &args));
                            Some(
                                Message::new(Role::Assistant, Kind::ToolUse, text, ts)
                                    .with_tool(name),
                            )
                        }
                        _ => None,
                    };
                    if let Some(msg) = msg.filter(|x| !x.content.trim().is_empty()) {
                        self.push(key, msg);
                        n += 1;
                    }
                }
                if let Some(err) = take_str(&mut m, "errorMessage") {
                    let text = format!("[error] {err}");
                    self.push(
                        format!("{id}.error"),
                        Message::new(Role::System, Kind::Text, text, ts),
                    );
                }
            }
            "toolResult" => {
                let name = take_str(&mut m, "toolName");
                let mut text = blocks_text(m.get_mut("content").map(Value::take));
                if m.get("isError").and_then(Value::as_bool) == Some(true) {
                    text = format!("[error] {text}");
                }
                let mut msg =
                    Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
                msg.tool_name = name;
                self.push(id.to_owned(), msg);
            }
            "bashExecution" => {
                // A `!command` the user ran themselves: typed, so a prompt, then its output.
                let cmd = take_str(&mut m, "command").unwrap_or_default();
                let typed = Message::new(Role::User, Kind::Text, format!("!{cmd}"), ts);
                self.push(format!("{id}.call"), typed);
                let mut out = take_str(&mut m, "output").unwrap_or_default();
                if let Some(code) = m.get("exitCode").and_then(Value::as_i64)
                    && code != 0
                {
                    out.push_str(&format!("\n[exit code {code}]"));
                }
                let res = Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(out), ts)
                    .with_tool("bash");
                self.push(format!("{id}.result"), res);
            }
            _ => {}
        }
    }

    fn finish(mut self, path: &Path) -> (ParsedSession, Vec<String>) {
        let id = self
            .session_id
            .take()
            .or_else(|| session_id_of_path(&path.to_string_lossy()))
            .unwrap_or_else(|| "pi".into());
        let mut info = SessionInfo::new(id, Tool::Pi);
        self.times.apply(&mut info);
        info.model = self.model;
        info.cwd = self.cwd;
        info.parent_id = self.parent;
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

/// The session id in a Pi session file's name: `<time>_<id>.jsonl`.
fn session_id_of_path(p: &str) -> Option<String> {
    let name = p.rsplit(['/', '\\']).next()?;
    let stem = name.strip_suffix(".jsonl").unwrap_or(name);
    let id = stem.rsplit_once('_').map_or(stem, |(_, id)| id);
    (!id.is_empty()).then(|| id.to_owned())
}

/// Pi `content`: a string, or blocks whose text is joined; images become markers.
fn blocks_text(content: Option<Value>) -> String {
    match content {
        Some(Value::String(s)) => s,
        Some(Value::Array(blocks)) => {
            let mut out = String::new();
            for b in blocks {
                let piece = match b.str_at("type") {
                    Some("text") => b.str_at("text").unwrap_or("").to_owned(),
                    Some("image") => media_marker(
                        "image",
                        b.str_at("mimeType"),
                        b.str_at("data").unwrap_or(""),
                    ),
                    _ => continue,
                };
                if !out.is_empty() && !out.ends_with('\n') {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_id_is_read_from_a_file_name_on_any_system() {
        assert_eq!(
            session_id_of_path("/h/.pi/agent/sessions/--w--/2026-04-20T03-24-41-541Z_019d.jsonl")
                .as_deref(),
            Some("019d")
        );
        assert_eq!(
            session_id_of_path(
                r"C:\Users\u\.pi\agent\sessions\--C--\2026-01-01T00-00-00-000Z_ab.jsonl"
            )
            .as_deref(),
            Some("ab")
        );
    }

    #[test]
    fn only_pi_shaped_lines_are_recognised() {
        let header = serde_json::json!({"type": "session", "version": 3, "id": "x", "cwd": "/w"});
        assert!(is_line(&header));
        // Claude Code's and Codex's lines are not Pi's.
        let claude = serde_json::json!({"type": "user", "sessionId": "s", "message": {}});
        assert!(!is_line(&claude));
        let msg = serde_json::json!({"type": "message", "id": "a", "parentId": null,
            "message": {"role": "user", "content": "hi"}});
        // A user message alone is too common a shape to decide on.
        assert!(!is_line(&msg));
    }
}
