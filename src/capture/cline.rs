//! Cline, Roo Code and Kilo Code (VS Code extensions, and the same extensions in VS Code's forks):
//! `<editor>/User/globalStorage/<extension id>/tasks/<task id>/api_conversation_history.json`,
//! with `ui_messages.json` and `task_metadata.json` beside it. The extension id names the tool:
//! `saoudrizwan.claude-dev` (Cline), `rooveterinaryinc.roo-cline` (Roo Code),
//! `kilocode.kilo-code` (Kilo Code); the task id is the time the task began (Unix ms).
//!
//! `api_conversation_history.json` is the conversation as sent to the model: an array of
//! Anthropic-style `{role, content: [blocks], ts, modelInfo}`. In user messages, `<task>`,
//! `<feedback>` and `<answer>` hold what the human typed; `[tool for '…'] Result:` text and
//! `tool_result` blocks are tool output; `<environment_details>` and other text the extension
//! adds are injected context (system messages). Assistant messages hold `text`, `thinking` and
//! `tool_use` blocks. When a task has no `api_conversation_history.json`, `ui_messages.json`
//! (what the panel showed: `{ts, type: say|ask, say|ask, text}`) is read instead.
//! `task_metadata.json` gives the extension version and the model. Unknown blocks, message
//! kinds and fields are skipped. Refuses a document that is not such an array. Rules:
//! `docs/importers.md` ("Cline, Roo Code and Kilo Code").

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::path::Path;

use serde_json::Value;

use super::jsonl::{ValueExt, compact_json, media_marker, take_str, tool_use_text};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// The extension ids of the tools read here.
pub const EXTENSIONS: [(&str, Tool); 3] = [
    ("saoudrizwan.claude-dev", Tool::Cline),
    ("rooveterinaryinc.roo-cline", Tool::RooCode),
    ("kilocode.kilo-code", Tool::KiloCode),
];

/// The largest metadata file read beside a task.
const MAX_SIDECAR: u64 = 16 * 1024 * 1024;

fn refuse(tool: Tool, reason: &str) -> ParseError {
    ParseError::NotATranscript {
        tool,
        reason: reason.into(),
    }
}

/// The tool a task folder belongs to, from the extension folder above `tasks/`; Cline when
/// the path does not say.
pub fn tool_of_path(path: &Path) -> Tool {
    for a in path.ancestors() {
        if let Some(name) = a.file_name().and_then(|n| n.to_str()) {
            let lower = name.to_ascii_lowercase();
            if let Some((_, t)) = EXTENSIONS.iter().find(|(id, _)| *id == lower) {
                return *t;
            }
        }
    }
    Tool::Cline
}

/// Reads one task file (`api_conversation_history.json` or `ui_messages.json`) as `tool`.
pub fn parse(tool: Tool, path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    if bytes.trim_ascii().is_empty() {
        return Err(ParseError::Empty);
    }
    let doc: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) if e.is_eof() => {
            return Ok(ParseReport {
                truncated_tail: true,
                ..ParseReport::default()
            });
        }
        Err(e) => return Err(refuse(tool, &format!("not a JSON document ({e})"))),
    };
    let Value::Array(items) = doc else {
        return Err(refuse(tool, "a task file is a JSON array"));
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ui = name == "ui_messages.json"
        || (!items.is_empty() && items.iter().all(|m| m.get("role").is_none()));
    let task = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "task".into());
    let mut info = SessionInfo::new(task.clone(), tool);
    // The task id is Date.now() when the task began.
    if let Ok(ms) = task.parse::<i64>()
        && (1_500_000_000_000..4_000_000_000_000).contains(&ms)
    {
        info.started_at = Some(ms);
    }
    let (messages, keys) = if ui {
        if !items
            .iter()
            .any(|m| m.get("type").is_some() && m.get("ts").is_some())
        {
            return Err(refuse(tool, "no {ts, type, say|ask} message"));
        }
        read_ui(items)
    } else {
        if !items.iter().any(|m| m.get("role").is_some()) {
            return Err(refuse(tool, "no {role, content} message"));
        }
        read_api(items, &mut info)
    };
    read_metadata(path, &mut info);
    let times: Vec<i64> = messages.iter().filter_map(|m| m.timestamp).collect();
    if let Some(first) = times.iter().min() {
        info.started_at = Some(info.started_at.map_or(*first, |s| s.min(*first)));
    }
    info.updated_at = times.iter().max().copied().or(info.started_at);
    info.ended_at = messages.iter().rev().find_map(|m| m.timestamp);
    info.message_count = crate::model::count_turns(&messages);
    Ok(ParseReport {
        sessions: vec![ParsedSession {
            info,
            messages,
            links: Vec::new(),
        }],
        keys: vec![keys],
        issues: Vec::new(),
        truncated_tail: false,
        legacy_ids: Vec::new(),
    })
}

fn read_api(items: Vec<Value>, info: &mut SessionInfo) -> (Vec<Message>, Vec<String>) {
    let mut messages = Vec::new();
    let mut keys = Vec::new();
    let mut calls: HashMap<String, String> = HashMap::new();
    for (i, mut m) in items.into_iter().enumerate() {
        let ts = m.get("ts").and_then(Value::as_i64);
        let user = m.str_at("role") == Some("user");
        if let Some(model) = m.pointer("/modelInfo/modelId").and_then(Value::as_str) {
            info.model = Some(model.to_owned());
        }
        let blocks = match m.get_mut("content").map(Value::take) {
            Some(Value::Array(b)) => b,
            Some(Value::String(s)) => vec![serde_json::json!({"type": "text", "text": s})],
            _ => Vec::new(),
        };
        let mut out: Vec<Message> = Vec::new();
        for mut b in blocks {
            match b.str_at("type") {
                Some("text") => {
                    let text = take_str(&mut b, "text").unwrap_or_default();
                    if user {
                        user_text(&text, ts, &mut out, info);
                    } else {
                        out.push(Message::new(Role::Assistant, Kind::Text, text, ts));
                    }
                }
                Some("thinking") => {
                    let t = take_str(&mut b, "thinking").unwrap_or_default();
                    out.push(Message::new(Role::Assistant, Kind::Thinking, t, ts));
                }
                Some("tool_use") => {
                    let name = take_str(&mut b, "name").unwrap_or_else(|| "tool".into());
                    if let Some(id) = b.str_at("id") {
                        calls.insert(id.to_owned(), name.clone());
                    }
                    let input = b.get("input").map(compact_json).unwrap_or_default();
                    let text = cap_tool_content(tool_use_text(&name, &input));
                    out.push(
                        Message::new(Role::Assistant, Kind::ToolUse, text, ts).with_tool(name),
                    );
                }
                Some("tool_result") => {
                    let name = b.str_at("tool_use_id").and_then(|c| calls.get(c)).cloned();
                    let text = match b.get("content") {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Array(parts)) => parts
                            .iter()
                            .map(|p| match p.str_at("text") {
                                Some(t) => t.to_owned(),
                                None => compact_json(p),
                            })
                            .collect::<Vec<_>>()
                            .join("\n"),
                        Some(other) => compact_json(other),
                        None => String::new(),
                    };
                    let mut r =
                        Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
                    r.tool_name = name;
                    out.push(r);
                }
                Some("image") => {
                    let src = b.get("source");
                    let text = media_marker(
                        "image",
                        src.and_then(|s| s.str_at("media_type")),
                        src.and_then(|s| s.str_at("data")).unwrap_or(""),
                    );
                    let role = if user { Role::User } else { Role::Assistant };
                    out.push(Message::new(role, Kind::Text, text, ts));
                }
                _ => {}
            }
        }
        for (n, msg) in out.into_iter().enumerate() {
            if !msg.content.trim().is_empty() {
                keys.push(format!("m{i}.{n}"));
                messages.push(msg);
            }
        }
    }
    (messages, keys)
}

/// A user message's text block: the human's words (`<task>`, `<feedback>`, `<answer>`, plain
/// text), a tool's output (`[name …] Result:`), or context the extension added.
fn user_text(text: &str, ts: Option<i64>, out: &mut Vec<Message>, info: &mut SessionInfo) {
    let t = text.trim();
    // `[<tool>] Result:` or `[<tool> for '<argument, which may span lines>'] Result:`.
    if let Some(rest) = t.strip_prefix('[')
        && let Some(close) = rest.find("] Result:")
    {
        let head = &rest[..close];
        let name = head.split(" for ").next().unwrap_or(head).trim().to_owned();
        out.push(
            Message::new(
                Role::Tool,
                Kind::ToolResult,
                cap_tool_content(t.to_owned()),
                ts,
            )
            .with_tool(name),
        );
        // The human's reply given through the tool (a follow-up answer, feedback on a result).
        for tag in ["feedback", "answer"] {
            if let Some(words) = between(t, tag) {
                out.push(Message::new(Role::User, Kind::Text, words, ts));
            }
        }
        return;
    }
    for tag in ["task", "feedback", "answer", "user_message"] {
        if t.starts_with(&format!("<{tag}>"))
            && let Some(words) = between(t, tag)
        {
            out.push(Message::new(Role::User, Kind::Text, words, ts));
            return;
        }
    }
    if t.starts_with("<environment_details>") && info.cwd.is_none() {
        info.cwd = working_directory(t);
    }
    let injected = t.starts_with('<') || t.starts_with('#') || t.starts_with("[TASK RESUMPTION]");
    let role = if injected { Role::System } else { Role::User };
    out.push(Message::new(role, Kind::Text, t.to_owned(), ts));
}

/// The text inside the first `<tag>…</tag>`, trimmed.
fn between(text: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&close)? + start;
    let words = text[start..end].trim();
    (!words.is_empty()).then(|| words.to_owned())
}

/// `# Current Working Directory (/path) Files` in Cline's environment details.
fn working_directory(details: &str) -> Option<String> {
    let line = details
        .lines()
        .find(|l| l.starts_with("# Current Working Directory ("))?;
    let rest = line.strip_prefix("# Current Working Directory (")?;
    let end = rest.rfind(')')?;
    let dir = rest[..end].trim();
    (!dir.is_empty()).then(|| dir.to_owned())
}

/// `ui_messages.json`: what the panel showed, for a task without its API history.
fn read_ui(items: Vec<Value>) -> (Vec<Message>, Vec<String>) {
    let mut messages = Vec::new();
    let mut keys = Vec::new();
    let mut first_text = true;
    for (i, mut m) in items.into_iter().enumerate() {
        let ts = m.get("ts").and_then(Value::as_i64);
        let text = take_str(&mut m, "text").unwrap_or_default();
        let what = (
            m.str_at("type"),
            m.str_at("say").or_else(|| m.str_at("ask")),
        );
        let msg = match what {
            (Some("say"), Some("text")) if first_text => {
                first_text = false;
                Some(Message::new(Role::User, Kind::Text, text, ts))
            }
            (Some("say"), Some("user_feedback")) => {
                Some(Message::new(Role::User, Kind::Text, text, ts))
            }
            (Some("say"), Some("text" | "completion_result")) => {
                Some(Message::new(Role::Assistant, Kind::Text, text, ts))
            }
            (Some("say"), Some("reasoning")) => {
                Some(Message::new(Role::Assistant, Kind::Thinking, text, ts))
            }
            (_, Some("tool")) => {
                let parsed: Option<Value> = serde_json::from_str(&text).ok();
                let name = parsed
                    .as_ref()
                    .and_then(|p| p.str_at("tool"))
                    .unwrap_or("tool")
                    .to_owned();
                Some(
                    Message::new(Role::Assistant, Kind::ToolUse, cap_tool_content(text), ts)
                        .with_tool(name),
                )
            }
            (_, Some("command")) => {
                let input = compact_json(&serde_json::json!({ "command": text }));
                Some(
                    Message::new(
                        Role::Assistant,
                        Kind::ToolUse,
                        cap_tool_content(tool_use_text("execute_command", &input)),
                        ts,
                    )
                    .with_tool("execute_command"),
                )
            }
            (_, Some("command_output")) => Some(
                Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts)
                    .with_tool("execute_command"),
            ),
            (Some("say"), Some("error")) => Some(Message::new(
                Role::System,
                Kind::Text,
                format!("[error] {text}"),
                ts,
            )),
            _ => None,
        };
        if let Some(msg) = msg.filter(|m| !m.content.trim().is_empty()) {
            keys.push(format!("ui{i}"));
            messages.push(msg);
        }
    }
    (messages, keys)
}

/// `task_metadata.json` beside the task file: the newest extension version and model.
fn read_metadata(path: &Path, info: &mut SessionInfo) {
    let file = path.with_file_name("task_metadata.json");
    let Ok(f) = std::fs::File::open(file) else {
        return;
    };
    let mut bytes = Vec::new();
    if f.take(MAX_SIDECAR).read_to_end(&mut bytes).is_err() {
        return;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
        return;
    };
    if let Some(env) = v.get("environment_history").and_then(Value::as_array)
        && let Some(ver) = env.iter().rev().find_map(|e| {
            e.str_at("cline_version")
                .or_else(|| e.str_at("extension_version"))
        })
    {
        info.tool_version = Some(ver.to_owned());
    }
    if info.model.is_none()
        && let Some(m) = v
            .get("model_usage")
            .and_then(Value::as_array)
            .and_then(|u| u.iter().rev().find_map(|e| e.str_at("model_id")))
    {
        info.model = Some(m.to_owned());
    }
}
