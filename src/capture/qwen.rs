//! Qwen Code (a Gemini CLI fork): `~/.qwen/projects/<sanitised cwd>/chats/<session id>.jsonl`
//! (0.13 and later; `$QWEN_HOME` moves `~/.qwen`), and the older Gemini-shaped records under
//! `~/.qwen/tmp/<project hash>/` (`logs.json`, `checkpoint-*.json`, `chats/`), which the Gemini
//! reader reads and which are filed under Qwen Code.
//!
//! A chat file is Claude Code's envelope (`uuid`, `parentUuid`, `sessionId`, `timestamp`, `type`,
//! `cwd`, `version`, `gitBranch`) around Gemini's payload (`message: {role, parts}`). `user`
//! lines hold what the human typed; `assistant` lines hold text, `thought` text (thinking) and
//! `functionCall` parts; `tool_result` lines hold `functionResponse` parts and a
//! `toolCallResult` whose `resultDisplay` of type `task_execution` is a sub-agent's run (a
//! linked session of its own). `system` lines are the CLI's: a slash command typed is kept as a
//! system message; telemetry gives the model and is otherwise skipped; unknown line types,
//! subtypes and fields are skipped, so a newer Qwen Code never breaks the read. Refuses a file
//! without any line of that shape. Rules: `docs/importers.md` ("Qwen Code").

use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::jsonl::{JsonLines, Timeline, ValueExt, compact_json, media_marker, take_str};
use super::jsonl::{timestamp_at, tool_use_text};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// Reads one Qwen Code file: a chat JSONL, or a Gemini-shaped record under `tmp/`.
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    if is_gemini_shaped(path) {
        return parse_gemini_shaped(path, reader);
    }
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
        return Err(not_qwen(
            "no Qwen Code line ({uuid, sessionId, type} with a Gemini message or a system payload)",
        ));
    }
    let (sessions, keys) = st.finish(path);
    Ok(lines.into_keyed_report(sessions, keys))
}

fn not_qwen(reason: &str) -> ParseError {
    ParseError::NotATranscript {
        tool: Tool::Qwen,
        reason: reason.into(),
    }
}

/// Whether `v` is a line of a Qwen Code chat file (for content detection): Claude Code's
/// envelope with a Gemini `parts` message, a `tool_result` line or a `systemPayload`.
pub fn is_line(v: &Value) -> bool {
    let Some(obj) = v.as_object() else {
        return false;
    };
    obj.contains_key("sessionId")
        && obj.contains_key("uuid")
        && (obj.contains_key("systemPayload")
            || obj.contains_key("toolCallResult")
            || v.get("message")
                .and_then(|m| m.get("parts"))
                .is_some_and(Value::is_array))
}

/// `tmp/<hash>/logs.json`, `tmp/<hash>/checkpoint-*.json` and `tmp/<hash>/chats/session-*`:
/// the Gemini CLI layout Qwen Code kept before its own chat files (named `<session id>.jsonl`).
fn is_gemini_shaped(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "logs.json"
        || (name.starts_with("checkpoint-") && name.ends_with(".json"))
        || name.starts_with("session-")
}

fn parse_gemini_shaped(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let mut report = super::gemini::parse(path, reader).map_err(|e| match e {
        ParseError::NotATranscript { reason, .. } => ParseError::NotATranscript {
            tool: Tool::Qwen,
            reason,
        },
        other => other,
    })?;
    for s in &mut report.sessions {
        s.info.tool = Tool::Qwen;
    }
    Ok(report)
}

#[derive(Default)]
struct State {
    recognised: u64,
    session_id: Option<String>,
    version: Option<String>,
    model: Option<String>,
    cwd: Option<String>,
    branch: Option<String>,
    times: Timeline,
    messages: Vec<Message>,
    keys: Vec<String>,
    /// Sub-agent runs found in tool results, as sessions of their own.
    agents: Vec<(ParsedSession, Vec<String>)>,
}

impl State {
    fn push(&mut self, key: String, m: Message) {
        self.times.message(m.timestamp);
        self.messages.push(m);
        self.keys.push(key);
    }

    fn line(&mut self, mut v: Value) {
        if !is_line(&v) {
            return;
        }
        self.recognised += 1;
        if self.session_id.is_none() {
            self.session_id = take_str(&mut v, "sessionId");
        }
        for (key, slot) in [
            ("version", &mut self.version),
            ("cwd", &mut self.cwd),
            ("gitBranch", &mut self.branch),
        ] {
            if let Some(s) = take_str(&mut v, key) {
                *slot = Some(s);
            }
        }
        let ts = timestamp_at(&v, "timestamp");
        self.times.see(ts);
        let uuid = v.str_at("uuid").unwrap_or("").to_owned();
        let ty = v.str_at("type").unwrap_or("").to_owned();
        match ty.as_str() {
            "user" => {
                let text = parts_text(v.pointer_mut("/message/parts"));
                if !text.trim().is_empty() {
                    self.push(uuid, Message::new(Role::User, Kind::Text, text, ts));
                }
            }
            "assistant" => {
                if let Some(m) = take_str(&mut v, "model") {
                    self.model = Some(m);
                }
                self.assistant(&uuid, v.pointer_mut("/message/parts"), ts);
            }
            "tool_result" => self.tool_result(&uuid, v, ts),
            "system" => self.system(&uuid, v, ts),
            _ => {}
        }
    }

    fn assistant(&mut self, uuid: &str, parts: Option<&mut Value>, ts: Option<i64>) {
        let Some(Value::Array(parts)) = parts.map(Value::take) else {
            return;
        };
        for (n, mut part) in parts.into_iter().enumerate() {
            let key = format!("{uuid}.{n}");
            if let Some(text) = take_str(&mut part, "text") {
                let thought = part.get("thought").and_then(Value::as_bool) == Some(true);
                let kind = if thought { Kind::Thinking } else { Kind::Text };
                if !text.trim().is_empty() {
                    self.push(key, Message::new(Role::Assistant, kind, text, ts));
                }
            } else if let Some(call) = part.get_mut("functionCall") {
                let name = take_str(call, "name").unwrap_or_else(|| "tool".into());
                let args = call.get("args").map(compact_json).unwrap_or_default();
                let text = cap_tool_content(tool_use_text(&name, &args));
                let m = Message::new(Role::Assistant, Kind::ToolUse, text, ts).with_tool(name);
                self.push(key, m);
            } else if let Some(data) = part.get("inlineData") {
                let text = media_marker(
                    "file",
                    data.str_at("mimeType"),
                    data.str_at("data").unwrap_or(""),
                );
                self.push(key, Message::new(Role::Assistant, Kind::Text, text, ts));
            }
        }
    }

    fn tool_result(&mut self, uuid: &str, mut v: Value, ts: Option<i64>) {
        let mut tcr = v
            .get_mut("toolCallResult")
            .map(Value::take)
            .unwrap_or(Value::Null);
        let status = tcr.str_at("status").map(str::to_owned);
        let display = tcr.get_mut("resultDisplay").map(Value::take);
        let call_id = tcr.str_at("callId").map(str::to_owned);
        let parts = match v.pointer_mut("/message/parts").map(Value::take) {
            Some(Value::Array(p)) => p,
            _ => Vec::new(),
        };
        let mut any = false;
        for (n, mut part) in parts.into_iter().enumerate() {
            let Some(resp) = part.get_mut("functionResponse") else {
                continue;
            };
            any = true;
            let name = take_str(resp, "name");
            let mut text = super::gemini::response_text(resp.get_mut("response").map(Value::take));
            if text.trim().is_empty() {
                text = display_text(display.as_ref()).unwrap_or_default();
            }
            if text.trim().is_empty()
                && let Some(s @ ("error" | "cancelled")) = status.as_deref()
            {
                text = format!("[{s}]");
            }
            let mut m = Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
            m.tool_name = name;
            self.push(format!("{uuid}.{n}"), m);
        }
        if !any && let Some(text) = display_text(display.as_ref()) {
            let m = Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
            self.push(uuid.to_owned(), m);
        }
        if let Some(d) = display
            && d.str_at("type") == Some("task_execution")
        {
            let id = call_id.unwrap_or_else(|| uuid.to_owned());
            self.agents.push(sub_agent(d, &id, ts));
        }
    }

    fn system(&mut self, uuid: &str, v: Value, ts: Option<i64>) {
        let payload = v.get("systemPayload");
        match v.str_at("subtype") {
            Some("slash_command") => {
                if let Some(p) = payload
                    && p.str_at("phase") == Some("invocation")
                    && let Some(cmd) = p.str_at("rawCommand")
                {
                    self.push(
                        uuid.to_owned(),
                        Message::new(Role::System, Kind::Text, cmd, ts),
                    );
                }
            }
            Some("ui_telemetry") => {
                if let Some(ev) = payload.and_then(|p| p.get("uiEvent"))
                    && ev.str_at("event.name") == Some("qwen-code.api_response")
                    && let Some(m) = ev.str_at("model")
                {
                    self.model.get_or_insert_with(|| m.to_owned());
                }
            }
            Some("chat_compression") => {
                if let Some(p) = payload {
                    let text = format!("[conversation compressed] {}", compact_json(p));
                    self.push(
                        uuid.to_owned(),
                        Message::new(Role::System, Kind::Text, text, ts),
                    );
                }
            }
            _ => {}
        }
    }

    fn finish(mut self, path: &Path) -> (Vec<ParsedSession>, Vec<Vec<String>>) {
        let id = self.session_id.take().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "qwen".into())
        });
        let mut info = SessionInfo::new(id.clone(), Tool::Qwen);
        self.times.apply(&mut info);
        info.tool_version = self.version.clone();
        info.model = self.model.clone();
        info.cwd = self.cwd.clone();
        info.git_branch = self.branch.clone();
        info.message_count = crate::model::count_turns(&self.messages);
        let mut sessions = vec![ParsedSession {
            info,
            messages: self.messages,
            links: Vec::new(),
        }];
        let mut keys = vec![self.keys];
        for (mut s, k) in self.agents {
            s.info.id = format!("{id}-agent-{}", s.info.id);
            s.info.parent_id = Some(id.clone());
            s.info.tool_version = self.version.clone();
            s.info.model = self.model.clone();
            s.info.cwd = self.cwd.clone();
            s.info.git_branch = self.branch.clone();
            sessions.push(s);
            keys.push(k);
        }
        (sessions, keys)
    }
}

/// A user line's text: its text parts, media as markers.
fn parts_text(parts: Option<&mut Value>) -> String {
    let mut out = String::new();
    let Some(Value::Array(parts)) = parts else {
        return out;
    };
    for part in parts {
        let piece = if let Some(t) = part.str_at("text") {
            t.to_owned()
        } else if let Some(data) = part.get("inlineData") {
            media_marker(
                "file",
                data.str_at("mimeType"),
                data.str_at("data").unwrap_or(""),
            )
        } else {
            continue;
        };
        if !out.is_empty() && !out.ends_with('\n') && piece.starts_with('[') {
            out.push('\n');
        }
        out.push_str(&piece);
    }
    out
}

/// A `resultDisplay` as text: a string as it is, a sub-agent run as its result, anything else
/// as JSON.
fn display_text(d: Option<&Value>) -> Option<String> {
    match d? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Null | Value::String(_) => None,
        v if v.str_at("type") == Some("task_execution") => {
            let status = v.str_at("status").unwrap_or("finished");
            Some(match v.str_at("result") {
                Some(r) => r.to_owned(),
                None => format!(
                    "[sub-agent {status}: {}]",
                    v.str_at("terminateReason").unwrap_or("no result")
                ),
            })
        }
        v => Some(compact_json(v)),
    }
}

/// A sub-agent run (`resultDisplay` of type `task_execution`) as a session: its prompt, the
/// tool calls it lists and its result. The id is the call id; `finish` prefixes the parent's.
fn sub_agent(mut d: Value, call_id: &str, ts: Option<i64>) -> (ParsedSession, Vec<String>) {
    let mut messages = Vec::new();
    let mut keys = Vec::new();
    if let Some(p) = take_str(&mut d, "taskPrompt") {
        messages.push(Message::new(Role::User, Kind::Text, p, ts));
        keys.push("prompt".to_owned());
    }
    if let Some(Value::Array(calls)) = d.get_mut("toolCalls").map(Value::take) {
        for (n, mut c) in calls.into_iter().enumerate() {
            let name = take_str(&mut c, "name").unwrap_or_else(|| "tool".into());
            let args = c.get("args").map(compact_json).unwrap_or_default();
            let text = cap_tool_content(tool_use_text(&name, &args));
            messages.push(
                Message::new(Role::Assistant, Kind::ToolUse, text, ts).with_tool(name.clone()),
            );
            keys.push(format!("call{n}"));
            let key = if c.get("result").is_some() {
                "result"
            } else {
                "resultDisplay"
            };
            let result = match c.get_mut(key) {
                Some(Value::String(s)) => Some(std::mem::take(s)),
                Some(Value::Null) | None => None,
                Some(other) => Some(compact_json(other)),
            };
            if let Some(r) = result.filter(|r| !r.trim().is_empty()) {
                messages.push(
                    Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(r), ts)
                        .with_tool(name),
                );
                keys.push(format!("result{n}"));
            }
        }
    }
    if let Some(r) = take_str(&mut d, "result") {
        messages.push(Message::new(Role::Assistant, Kind::Text, r, ts));
        keys.push("result".to_owned());
    } else if let Some(reason) = take_str(&mut d, "terminateReason") {
        let status = d.str_at("status").unwrap_or("ended");
        let text = format!("[sub-agent {status}: {reason}]");
        messages.push(Message::new(Role::System, Kind::Text, text, ts));
        keys.push("end".to_owned());
    }
    let mut info = SessionInfo::new(call_id, Tool::Qwen);
    info.title = take_str(&mut d, "taskDescription");
    info.started_at = ts;
    info.updated_at = ts;
    info.ended_at = ts;
    info.message_count = crate::model::count_turns(&messages);
    (
        ParsedSession {
            info,
            messages,
            links: Vec::new(),
        },
        keys,
    )
}
