//! Continue (the VS Code and JetBrains extension, and its CLI): `~/.continue/sessions/<session
//! id>.json` (`$CONTINUE_GLOBAL_DIR` moves `~/.continue`), with `sessions.json`, an index, beside
//! them.
//!
//! A session file is one JSON object `{sessionId, title, workspaceDirectory, history, mode,
//! chatModelTitle}`; each `history` item is `{message: {role, content, toolCalls, toolCallId},
//! contextItems, toolCallStates, …}`. `user` messages are what the human typed; the
//! `contextItems` attached to them (files, code, rules Continue put in the prompt) are injected
//! context, kept as system messages; `assistant` messages hold the reply and `toolCalls`;
//! `thinking` messages are reasoning; a call's result is a `tool` message or, when there is
//! none, the `output` of its `toolCallState`. Continue records no time per message: the index's
//! `dateCreated` is the session's start when the index has it. `promptLogs` (the raw prompt and
//! completion sent to the model) repeat the conversation and are not kept. Unknown roles and
//! fields are skipped. Refuses a document without `sessionId` and `history`. Rules:
//! `docs/importers.md` ("Continue").

use std::collections::HashSet;
use std::io::{BufRead, Read};
use std::path::Path;

use serde_json::Value;

use super::jsonl::{ValueExt, compact_json, take_str, tool_use_text};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// The largest index read beside a session.
const MAX_INDEX: u64 = 64 * 1024 * 1024;

fn not_continue(reason: &str) -> ParseError {
    ParseError::NotATranscript {
        tool: Tool::Continue,
        reason: reason.into(),
    }
}

/// Whether the head of a `.json` file looks like a Continue session (for content detection).
pub fn looks_like(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && text.contains("\"sessionId\"")
        && text.contains("\"history\"")
        && text.contains("\"workspaceDirectory\"")
}

/// Reads one Continue session file.
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    if bytes.trim_ascii().is_empty() {
        return Err(ParseError::Empty);
    }
    let mut doc: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        // Continue rewrites the whole file; a cut one is being written.
        Err(e) if e.is_eof() => {
            return Ok(ParseReport {
                truncated_tail: true,
                ..ParseReport::default()
            });
        }
        Err(e) => return Err(not_continue(&format!("not a JSON document ({e})"))),
    };
    let Some(id) = take_str(&mut doc, "sessionId") else {
        return Err(not_continue("no sessionId"));
    };
    let Some(Value::Array(history)) = doc.get_mut("history").map(Value::take) else {
        return Err(not_continue("no history array"));
    };
    let mut info = SessionInfo::new(id.clone(), Tool::Continue);
    // "New Session"/"Untitled Session" are Continue's placeholders.
    info.title = take_str(&mut doc, "title")
        .filter(|t| !matches!(t.as_str(), "New Session" | "Untitled Session"));
    info.cwd = take_str(&mut doc, "workspaceDirectory").map(|w| file_uri_to_path(&w));
    info.model = take_str(&mut doc, "chatModelTitle");
    if let Some(start) = index_date(path, &id) {
        info.started_at = Some(start);
        info.updated_at = Some(start);
    }

    // Calls whose result is a `tool` message of its own.
    let answered: HashSet<String> = history
        .iter()
        .filter(|h| h.pointer("/message/role").and_then(Value::as_str) == Some("tool"))
        .filter_map(|h| h.pointer("/message/toolCallId").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();

    let mut messages = Vec::new();
    let mut keys = Vec::new();
    for (i, mut item) in history.into_iter().enumerate() {
        let mut msg = item
            .get_mut("message")
            .map(Value::take)
            .unwrap_or(Value::Null);
        let base = msg
            .str_at("id")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("h{i}"));
        let mut push = |suffix: &str, m: Message| {
            if !m.content.trim().is_empty() {
                keys.push(format!("{base}{suffix}"));
                messages.push(m);
            }
        };
        let role = msg.str_at("role").unwrap_or("").to_owned();
        match role.as_str() {
            "user" => {
                if let Some(Value::Array(items)) = item.get("contextItems") {
                    for (n, c) in items.iter().enumerate() {
                        let name = c.str_at("name").unwrap_or("context");
                        let body = c.str_at("content").unwrap_or("");
                        let text = cap_tool_content(format!("[context: {name}]\n{body}"));
                        push(
                            &format!(".ctx{n}"),
                            Message::new(Role::System, Kind::Text, text, None),
                        );
                    }
                }
                let text = content_text(msg.get("content"));
                push("", Message::new(Role::User, Kind::Text, text, None));
            }
            "assistant" => {
                if let Some(r) = item.pointer("/reasoning/text").and_then(Value::as_str) {
                    push(
                        ".think",
                        Message::new(Role::Assistant, Kind::Thinking, r, None),
                    );
                }
                let text = content_text(msg.get("content"));
                push("", Message::new(Role::Assistant, Kind::Text, text, None));
                if let Some(Value::Array(calls)) = msg.get_mut("toolCalls").map(Value::take) {
                    for (n, c) in calls.iter().enumerate() {
                        let name = c
                            .pointer("/function/name")
                            .and_then(Value::as_str)
                            .unwrap_or("tool")
                            .to_owned();
                        let args = match c.pointer("/function/arguments") {
                            Some(Value::String(s)) => s.clone(),
                            Some(other) => compact_json(other),
                            None => String::new(),
                        };
                        let text = cap_tool_content(tool_use_text(&name, &args));
                        push(
                            &format!(".call{n}"),
                            Message::new(Role::Assistant, Kind::ToolUse, text, None)
                                .with_tool(name),
                        );
                    }
                }
                if let Some(Value::Array(states)) = item.get("toolCallStates") {
                    for (n, s) in states.iter().enumerate() {
                        if s.str_at("toolCallId").is_some_and(|c| answered.contains(c)) {
                            continue;
                        }
                        let name = s
                            .pointer("/toolCall/function/name")
                            .and_then(Value::as_str)
                            .map(str::to_owned);
                        let mut text = outputs_text(s.get("output"));
                        if text.trim().is_empty()
                            && let Some(st @ ("errored" | "canceled" | "cancelled")) =
                                s.str_at("status")
                        {
                            text = format!("[{st}]");
                        }
                        let mut m = Message::new(
                            Role::Tool,
                            Kind::ToolResult,
                            cap_tool_content(text),
                            None,
                        );
                        m.tool_name = name;
                        push(&format!(".result{n}"), m);
                    }
                }
            }
            "thinking" => {
                let text = content_text(msg.get("content"));
                push(
                    "",
                    Message::new(Role::Assistant, Kind::Thinking, text, None),
                );
            }
            "tool" => {
                let text = content_text(msg.get("content"));
                push(
                    "",
                    Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), None),
                );
            }
            "system" => {
                let text = content_text(msg.get("content"));
                push("", Message::new(Role::System, Kind::Text, text, None));
            }
            _ => {}
        }
    }
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

/// A message's content: a string, or parts whose text is joined (images as markers).
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => {
            let mut out = String::new();
            for p in parts {
                let piece = match p.str_at("type") {
                    Some("text") => p.str_at("text").unwrap_or("").to_owned(),
                    Some("imageUrl") => "[image]".to_owned(),
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
        Some(other) => compact_json(other),
    }
}

/// A tool call state's `output`: context items whose `content` is joined.
fn outputs_text(output: Option<&Value>) -> String {
    match output {
        Some(Value::Array(items)) => items
            .iter()
            .map(|o| match o.get("content") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => compact_json(other),
                None => compact_json(o),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => compact_json(other),
    }
}

/// `file:///c%3A/Users/x` → `c:/Users/x`, `file:///home/x` → `/home/x`; anything else (a
/// plain path, a `vscode-remote://` URI) as recorded.
fn file_uri_to_path(w: &str) -> String {
    let Some(rest) = w.strip_prefix("file://") else {
        return w.to_owned();
    };
    let decoded = percent_decode(rest);
    // `/c:/Users` → `c:/Users`
    let b = decoded.as_bytes();
    if b.len() >= 3 && b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':' {
        decoded[1..].to_owned()
    } else {
        decoded
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (hex(b.get(i + 1)), hex(b.get(i + 2)))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: Option<&u8>) -> Option<u8> {
    let c = *c?;
    (c as char).to_digit(16).map(|d| d as u8)
}

/// The session's `dateCreated` (Unix ms, as a string or a number) in `sessions.json` beside it.
fn index_date(path: &Path, id: &str) -> Option<i64> {
    let index = path.with_file_name("sessions.json");
    if index == path {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(index)
        .ok()?
        .take(MAX_INDEX)
        .read_to_end(&mut bytes)
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    let entry = v
        .as_array()?
        .iter()
        .find(|e| e.str_at("sessionId") == Some(id))?;
    match entry.get("dateCreated")? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_uris_become_paths_and_other_uris_stay() {
        assert_eq!(
            file_uri_to_path("file:///home/dev/my%20shop"),
            "/home/dev/my shop"
        );
        assert_eq!(file_uri_to_path("file:///c%3A/Users/x"), "c:/Users/x");
        assert_eq!(file_uri_to_path("C:\\Users\\x"), "C:\\Users\\x");
        assert_eq!(
            file_uri_to_path("vscode-remote://dev-container%2B7b/workspaces/x"),
            "vscode-remote://dev-container%2B7b/workspaces/x"
        );
        // A stray `%` is kept as it is.
        assert_eq!(file_uri_to_path("file:///a%zz%"), "/a%zz%");
    }

    #[test]
    fn a_cut_document_is_a_tail_and_a_foreign_one_is_refused() {
        let mut cut: &[u8] = b"{\"sessionId\":\"s\",\"history\":[";
        let r = parse(Path::new("/x/s.json"), &mut cut).unwrap();
        assert!(r.truncated_tail && r.sessions.is_empty());
        let mut other: &[u8] = b"[1,2]";
        assert!(matches!(
            parse(Path::new("/x/s.json"), &mut other),
            Err(ParseError::NotATranscript { .. })
        ));
    }
}
