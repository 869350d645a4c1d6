//! Amp (Sourcegraph's agent): the thread files the CLI and editor extension kept locally until
//! spring 2026, `~/.local/share/amp/threads/T-<id>.json` (`$XDG_DATA_HOME/amp`), and the JSON a
//! user saves with `amp threads export <id>`, which has the same shape. Threads newer than that
//! live on Amp's server only; what lore cannot reach there is listed in `docs/importers.md`.
//!
//! A thread is one JSON object `{v, id, created, title, messages, env, …}`; each message is
//! `{role, messageId, content: [blocks], meta: {sentAt}, usage: {model}, state}`. `user`
//! messages hold what the human typed (`text`) and `tool_result` blocks (`toolUseID`, `run:
//! {status, result, progress}`); `assistant` messages hold `text`, `thinking` and `tool_use`
//! blocks. `env.initial` gives the workspace (`trees[0].uri`, its git `ref`) and the client's
//! version. Unknown blocks and fields are skipped. Refuses a document without `id` and
//! `messages`. Rules: `docs/importers.md` ("Amp").

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::jsonl::{ValueExt, compact_json, take_str, tool_use_text};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

fn not_amp(reason: &str) -> ParseError {
    ParseError::NotATranscript {
        tool: Tool::Amp,
        reason: reason.into(),
    }
}

/// Whether the head of a `.json` file looks like an Amp thread (for content detection).
pub fn looks_like(name: &str, text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{')
        && text.contains("\"messages\"")
        && (name.starts_with("T-") || text.contains("\"id\": \"T-") || text.contains("\"id\":\"T-"))
        && text.contains("\"messageId\"")
}

/// Reads one Amp thread.
pub fn parse(_path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    if bytes.trim_ascii().is_empty() {
        return Err(ParseError::Empty);
    }
    let mut doc: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) if e.is_eof() => {
            return Ok(ParseReport {
                truncated_tail: true,
                ..ParseReport::default()
            });
        }
        Err(e) => return Err(not_amp(&format!("not a JSON document ({e})"))),
    };
    let Some(id) = take_str(&mut doc, "id") else {
        return Err(not_amp("no thread id"));
    };
    let Some(Value::Array(list)) = doc.get_mut("messages").map(Value::take) else {
        return Err(not_amp("no messages array"));
    };
    let mut info = SessionInfo::new(id, Tool::Amp);
    info.title = take_str(&mut doc, "title");
    let created = doc.get("created").and_then(Value::as_i64);
    if let Some(initial) = doc.pointer("/env/initial") {
        if let Some(tree) = initial
            .get("trees")
            .and_then(Value::as_array)
            .and_then(|t| t.first())
        {
            info.cwd = tree.str_at("uri").map(|u| {
                u.strip_prefix("file://")
                    .map_or_else(|| u.to_owned(), str::to_owned)
            });
            info.git_branch = tree
                .pointer("/repository/ref")
                .and_then(Value::as_str)
                .map(|r| r.strip_prefix("refs/heads/").unwrap_or(r).to_owned());
        }
        info.tool_version = initial
            .pointer("/platform/clientVersion")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }

    let mut messages = Vec::new();
    let mut keys = Vec::new();
    let mut calls: HashMap<String, String> = HashMap::new();
    // Assistant messages carry no time: each takes the time of the prompt before it.
    let mut last_ts = created;
    for (i, mut m) in list.into_iter().enumerate() {
        let user = m.str_at("role") == Some("user");
        let ts = m
            .pointer("/meta/sentAt")
            .and_then(Value::as_i64)
            .or(last_ts);
        last_ts = ts;
        if let Some(model) = m.pointer("/usage/model").and_then(Value::as_str) {
            info.model = Some(model.to_owned());
        }
        let mid = match m.get("messageId") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => format!("i{i}"),
        };
        let Some(Value::Array(blocks)) = m.get_mut("content").map(Value::take) else {
            continue;
        };
        for (n, mut b) in blocks.into_iter().enumerate() {
            let msg = match b.str_at("type") {
                Some("text") => take_str(&mut b, "text").map(|t| {
                    let role = if user { Role::User } else { Role::Assistant };
                    Message::new(role, Kind::Text, t, ts)
                }),
                Some("thinking") => take_str(&mut b, "thinking")
                    .map(|t| Message::new(Role::Assistant, Kind::Thinking, t, ts)),
                Some("tool_use") => {
                    let name = take_str(&mut b, "name").unwrap_or_else(|| "tool".into());
                    if let Some(cid) = b.str_at("id") {
                        calls.insert(cid.to_owned(), name.clone());
                    }
                    let input = b.get("input").map(compact_json).unwrap_or_default();
                    let text = cap_tool_content(tool_use_text(&name, &input));
                    Some(Message::new(Role::Assistant, Kind::ToolUse, text, ts).with_tool(name))
                }
                Some("tool_result") => {
                    let name = b.str_at("toolUseID").and_then(|c| calls.get(c)).cloned();
                    let run = b.get("run").cloned().unwrap_or(Value::Null);
                    let mut text = match run.get("result") {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => match run.get("progress") {
                            Some(Value::Array(p)) => p
                                .iter()
                                .map(|x| x.as_str().map_or_else(|| compact_json(x), str::to_owned))
                                .collect::<Vec<_>>()
                                .join("\n"),
                            _ => String::new(),
                        },
                        Some(other) => compact_json(other),
                    };
                    if let Some(st @ ("error" | "cancelled" | "rejected-by-user")) =
                        run.str_at("status")
                    {
                        let err = run.get("error").map(compact_json).unwrap_or_default();
                        text = format!("[{st}] {err}{text}");
                    }
                    let mut r =
                        Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
                    r.tool_name = name;
                    Some(r)
                }
                _ => None,
            };
            if let Some(msg) = msg.filter(|x| !x.content.trim().is_empty()) {
                keys.push(format!("{mid}.{n}"));
                messages.push(msg);
            }
        }
    }
    let times: Vec<i64> = messages.iter().filter_map(|m| m.timestamp).collect();
    info.started_at = created.or_else(|| times.iter().min().copied());
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
