//! GitHub Copilot CLI: `~/.copilot/session-state/<session id>/events.jsonl` (`$COPILOT_HOME`
//! moves `~/.copilot`).
//!
//! The file is an append-only event log: every line is `{type, data, id, timestamp, parentId}`.
//! `session.start` names the session, the CLI version and the working directory; `user.message`
//! holds what the human typed (`content`; `transformedContent`, the same prompt with the
//! date and reminders the CLI injected, is not kept); `assistant.message` holds the reply, its
//! reasoning and its `toolRequests`; `tool.execution_complete` holds a call's result. Hooks,
//! permissions and turn markers are bookkeeping and are skipped; event types lore does not know
//! are skipped too, so a newer CLI never breaks the read. Refuses a file without any Copilot
//! event. Rules and what is not kept: `docs/importers.md` ("GitHub Copilot CLI").

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::jsonl::{
    JsonLines, Step, Timeline, ValueExt, compact_json, keep_key_order, keep_key_order_in, take_str,
    timestamp_at, tool_use_text,
};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// Reads one `events.jsonl`. `path` gives the session id when no `session.start` line is
/// left (its folder is named after the session).
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let mut lines = JsonLines::new(reader);
    let mut st = State::default();
    while let Some(line) = lines.next_line()? {
        let mut value = line.value;
        // Tool arguments keep the tool's key order.
        keep_key_order_in(
            &mut value,
            &line.raw,
            &[Step::Key("data"), Step::Key("toolRequests")],
            "arguments",
        );
        keep_key_order(
            &mut value,
            &line.raw,
            &[Step::Key("data"), Step::Key("arguments")],
        );
        st.event(value);
    }
    if lines.nonblank_lines == 0 {
        return Err(ParseError::Empty);
    }
    if st.events == 0 {
        if lines.truncated_tail {
            return Ok(lines.into_report(Vec::new()));
        }
        return Err(ParseError::NotATranscript {
            tool: Tool::Copilot,
            reason: "no Copilot CLI event (lines of {type, data, id, timestamp})".into(),
        });
    }
    let (session, keys) = st.finish(path);
    Ok(lines.into_keyed_report(vec![session], vec![keys]))
}

/// Whether `v` looks like a Copilot CLI event line (for content detection).
pub fn is_event(v: &Value) -> bool {
    let Some(ty) = v.get("type").and_then(Value::as_str) else {
        return false;
    };
    v.get("data").is_some_and(Value::is_object)
        && v.get("id").is_some()
        && v.get("timestamp").is_some()
        && (ty == "abort"
            || [
                "session.",
                "user.",
                "assistant.",
                "tool.",
                "system.",
                "hook.",
                "permission.",
            ]
            .iter()
            .any(|p| ty.starts_with(p)))
}

#[derive(Default)]
struct State {
    /// Lines that were Copilot events.
    events: u64,
    session_id: Option<String>,
    version: Option<String>,
    model: Option<String>,
    cwd: Option<String>,
    branch: Option<String>,
    start: Option<i64>,
    times: Timeline,
    messages: Vec<Message>,
    keys: Vec<String>,
    /// Tool call id → tool name, from the requests and the execution starts.
    calls: HashMap<String, String>,
}

impl State {
    fn push(&mut self, key: String, m: Message) {
        self.times.message(m.timestamp);
        self.messages.push(m);
        self.keys.push(key);
    }

    fn context(&mut self, ctx: Option<&Value>) {
        let Some(ctx) = ctx else { return };
        if let Some(cwd) = ctx.str_at("cwd") {
            self.cwd = Some(cwd.to_owned());
        }
        if let Some(b) = ctx.str_at("branch") {
            self.branch = Some(b.to_owned());
        }
    }

    fn event(&mut self, mut v: Value) {
        if !is_event(&v) {
            return;
        }
        self.events += 1;
        let ty = v.str_at("type").unwrap_or("").to_owned();
        let id = v.str_at("id").unwrap_or("").to_owned();
        let ts = timestamp_at(&v, "timestamp");
        self.times.see(ts);
        let mut data = v.get_mut("data").map(Value::take).unwrap_or(Value::Null);
        match ty.as_str() {
            "session.start" => {
                if let Some(sid) = take_str(&mut data, "sessionId") {
                    self.session_id.get_or_insert(sid);
                }
                // Some sessions say "unknown".
                if let Some(ver) = take_str(&mut data, "copilotVersion")
                    && ver != "unknown"
                {
                    self.version = Some(ver);
                }
                if let Some(m) = take_str(&mut data, "selectedModel") {
                    self.model = Some(m);
                }
                if let Some(start) = timestamp_at(&data, "startTime") {
                    self.start.get_or_insert(start);
                }
                self.context(data.get("context"));
            }
            "session.resume" => {
                if let Some(m) = take_str(&mut data, "selectedModel") {
                    self.model = Some(m);
                }
                self.context(data.get("context"));
            }
            "session.model_change" => {
                if let Some(m) = take_str(&mut data, "newModel") {
                    self.model = Some(m);
                }
            }
            "user.message" => {
                let mut text = take_str(&mut data, "content").unwrap_or_default();
                if let Some(Value::Array(att)) = data.get("attachments") {
                    for a in att {
                        let what = a
                            .str_at("path")
                            .or_else(|| a.str_at("displayName"))
                            .or_else(|| a.str_at("type"))
                            .unwrap_or("attachment");
                        if !text.is_empty() {
                            text.push('\n');
                        }
                        text.push_str(&format!("[attachment: {what}]"));
                    }
                }
                if !text.trim().is_empty() {
                    self.push(id, Message::new(Role::User, Kind::Text, text, ts));
                }
            }
            "assistant.message" => self.assistant(&id, data, ts),
            "tool.execution_start" => {
                let Some(call) = data.str_at("toolCallId").map(str::to_owned) else {
                    return;
                };
                if self.calls.contains_key(&call) {
                    return;
                }
                let name = take_str(&mut data, "toolName").unwrap_or_else(|| "tool".into());
                let input = data.get("arguments").map(compact_json).unwrap_or_default();
                self.calls.insert(call, name.clone());
                let mut m = Message::new(
                    Role::Assistant,
                    Kind::ToolUse,
                    cap_tool_content(tool_use_text(&name, &input)),
                    ts,
                );
                m.tool_name = Some(name);
                self.push(id, m);
            }
            "tool.execution_complete" => {
                let name = data
                    .str_at("toolCallId")
                    .and_then(|c| self.calls.get(c))
                    .cloned();
                let text = result_text(&mut data);
                let mut m = Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
                m.tool_name = name;
                self.push(id, m);
            }
            "session.error" => {
                let kind = data.str_at("errorType").unwrap_or("error").to_owned();
                if let Some(msg) = take_str(&mut data, "message") {
                    let text = format!("[{kind} error] {msg}");
                    self.push(id, Message::new(Role::System, Kind::Text, text, ts));
                }
            }
            "session.info" | "session.warning" => {
                if let Some(msg) = take_str(&mut data, "message") {
                    self.push(id, Message::new(Role::System, Kind::Text, msg, ts));
                }
            }
            "session.compaction_complete" => {
                if let Some(summary) = take_str(&mut data, "summaryContent") {
                    let text = format!("[conversation compacted; summary]\n{summary}");
                    self.push(id, Message::new(Role::System, Kind::Text, text, ts));
                }
            }
            "abort" => {
                let reason = data.str_at("reason").unwrap_or("unknown");
                let text = format!("[turn aborted: {reason}]");
                self.push(id, Message::new(Role::System, Kind::Text, text, ts));
            }
            _ => {}
        }
    }

    fn assistant(&mut self, id: &str, mut data: Value, ts: Option<i64>) {
        if let Some(m) = take_str(&mut data, "model") {
            self.model = Some(m);
        }
        let mut n = 0usize;
        let key = |n: &mut usize| {
            let k = format!("{id}.{n}");
            *n += 1;
            k
        };
        if let Some(thinking) = take_str(&mut data, "reasoningText")
            && !thinking.trim().is_empty()
        {
            let k = key(&mut n);
            self.push(
                k,
                Message::new(Role::Assistant, Kind::Thinking, thinking, ts),
            );
        }
        if let Some(text) = take_str(&mut data, "content")
            && !text.trim().is_empty()
        {
            let k = key(&mut n);
            self.push(k, Message::new(Role::Assistant, Kind::Text, text, ts));
        }
        if let Some(Value::Array(reqs)) = data.get_mut("toolRequests").map(Value::take) {
            for mut r in reqs {
                let name = take_str(&mut r, "name").unwrap_or_else(|| "tool".into());
                let input = r.get("arguments").map(compact_json).unwrap_or_default();
                if let Some(call) = r.str_at("toolCallId") {
                    self.calls.insert(call.to_owned(), name.clone());
                }
                let mut m = Message::new(
                    Role::Assistant,
                    Kind::ToolUse,
                    cap_tool_content(tool_use_text(&name, &input)),
                    ts,
                );
                m.tool_name = Some(name);
                let k = key(&mut n);
                self.push(k, m);
            }
        }
    }

    fn finish(mut self, path: &Path) -> (ParsedSession, Vec<String>) {
        let id = self.session_id.take().unwrap_or_else(|| folder_id(path));
        let mut info = SessionInfo::new(id, Tool::Copilot);
        if let Some(start) = self.start {
            self.times.first = Some(start);
        }
        self.times.apply(&mut info);
        info.tool_version = self.version;
        info.model = self.model;
        info.cwd = self.cwd;
        info.git_branch = self.branch;
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

/// The session folder's name (`session-state/<id>/events.jsonl`), else the file's stem.
fn folder_id(path: &Path) -> String {
    let from_folder = path
        .file_name()
        .is_some_and(|n| n == "events.jsonl")
        .then(|| path.parent().and_then(Path::file_name))
        .flatten();
    from_folder
        .or_else(|| path.file_stem())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "copilot".into())
}

/// A tool result: what the model was given (`result.content`), else the fuller
/// `detailedContent`, else the error's message.
fn result_text(data: &mut Value) -> String {
    if let Some(r) = data.get_mut("result") {
        if let Some(t) = take_str(r, "content").or_else(|| take_str(r, "detailedContent")) {
            return t;
        }
        if !r.is_null() && !r.is_object() {
            return compact_json(r);
        }
    }
    match data.get_mut("error") {
        Some(Value::String(s)) => format!("error: {s}"),
        Some(e @ Value::Object(_)) => match take_str(e, "message") {
            Some(m) => format!("error: {m}"),
            None => format!("error: {}", compact_json(e)),
        },
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(path: &str, s: &str) -> Result<ParseReport, ParseError> {
        let mut r = s.as_bytes();
        parse(Path::new(path), &mut r)
    }

    const START: &str = r#"{"type":"session.start","data":{"sessionId":"s-1","copilotVersion":"9.9.9","startTime":"2026-01-02T03:04:05.000Z","context":{"cwd":"/w","branch":"dev"}},"id":"e1","timestamp":"2026-01-02T03:04:06.000Z","parentId":null}"#;

    #[test]
    fn reads_prompt_reply_reasoning_and_tools() {
        let text = [
            START,
            r#"{"type":"user.message","data":{"content":"list files","transformedContent":"<current_datetime>x</current_datetime>\n\nlist files"},"id":"e2","timestamp":"2026-01-02T03:05:00.000Z","parentId":"e1"}"#,
            r#"{"type":"assistant.message","data":{"messageId":"m","model":"mdl","content":"","reasoningText":"think","toolRequests":[{"toolCallId":"c1","name":"bash","arguments":{"command":"ls"}}]},"id":"e3","timestamp":"2026-01-02T03:05:01.000Z","parentId":"e2"}"#,
            r#"{"type":"tool.execution_start","data":{"toolCallId":"c1","toolName":"bash","arguments":{"command":"ls"}},"id":"e4","timestamp":"2026-01-02T03:05:02.000Z","parentId":"e3"}"#,
            r#"{"type":"tool.execution_complete","data":{"toolCallId":"c1","success":true,"result":{"content":"a b"}},"id":"e5","timestamp":"2026-01-02T03:05:03.000Z","parentId":"e4"}"#,
            r#"{"type":"future.kind","data":{"x":1},"id":"e6","timestamp":"2026-01-02T03:05:04.000Z","parentId":"e5"}"#,
        ]
        .join("\n");
        let r = parse_str("/h/session-state/s-1/events.jsonl", &text).unwrap();
        let s = &r.sessions[0];
        assert_eq!(s.info.id, "s-1");
        assert_eq!(s.info.tool_version.as_deref(), Some("9.9.9"));
        assert_eq!(s.info.cwd.as_deref(), Some("/w"));
        assert_eq!(s.info.git_branch.as_deref(), Some("dev"));
        assert_eq!(s.info.model.as_deref(), Some("mdl"));
        assert_eq!(s.info.message_count, 2);
        let kinds: Vec<_> = s.messages.iter().map(|m| (m.role, m.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (Role::User, Kind::Text),
                (Role::Assistant, Kind::Thinking),
                (Role::Assistant, Kind::ToolUse),
                (Role::Tool, Kind::ToolResult),
            ]
        );
        assert_eq!(s.messages[0].content, "list files");
        assert_eq!(s.messages[3].tool_name.as_deref(), Some("bash"));
        assert_eq!(r.keys[0], vec!["e2", "e3.0", "e3.1", "e5"]);
    }

    #[test]
    fn no_start_line_takes_the_folder_name() {
        let line = r#"{"type":"user.message","data":{"content":"hi"},"id":"e","timestamp":"2026-01-02T03:05:00.000Z"}"#;
        let r = parse_str("/h/session-state/abc/events.jsonl", line).unwrap();
        assert_eq!(r.sessions[0].info.id, "abc");
        let unknown = START.replace("9.9.9", "unknown");
        let r = parse_str("/h/events.jsonl", &unknown).unwrap();
        assert_eq!(r.sessions[0].info.tool_version, None);
    }

    #[test]
    fn refuses_other_jsonl() {
        let e = parse_str(
            "/x/events.jsonl",
            "{\"type\":\"user\",\"sessionId\":\"x\"}\n",
        );
        assert!(matches!(e, Err(ParseError::NotATranscript { .. })), "{e:?}");
    }
}
