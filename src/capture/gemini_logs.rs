//! Gemini CLI's other records of a conversation, beside `chats/`: `<project>/logs.json` (every
//! prompt typed, of every session of the project; for 2025 projects the only record) and
//! `<project>/checkpoint-<tag>.json` (a conversation saved with `/chat save <tag>`: bare
//! `{role, parts}` entries). Rules: docs/importers.md, "Gemini CLI".

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::gemini::{read_project_root, response_text};
use super::jsonl::{ValueExt, compact_json, timestamp_at, tool_use_text};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// The text Gemini CLI puts first in a saved conversation: its own context, not a prompt.
const CONTEXT_PREFIX: &str = "This is the Gemini CLI. We are setting up the context";

fn not_gemini(reason: String) -> ParseError {
    ParseError::NotATranscript {
        tool: Tool::Gemini,
        reason,
    }
}

/// Reads a whole JSON file; `Ok(None)` when it was cut short (being rewritten).
fn read_json(reader: &mut dyn BufRead) -> Result<Option<Value>, ParseError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    if bytes.trim_ascii().is_empty() {
        return Err(ParseError::Empty);
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_eof() => Ok(None),
        Err(e) => Err(not_gemini(format!("not a JSON document ({e})"))),
    }
}

/// A slash command typed at the prompt (`/model set`): a command to the CLI, not a prompt.
fn is_command(text: &str) -> bool {
    let t = text.trim();
    let first = t.split_whitespace().next().unwrap_or("");
    !t.contains('\n')
        && first.strip_prefix('/').is_some_and(|w| {
            w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// `logs.json`: one session per `sessionId` whose conversation the project's `chats/` folder
/// does not hold (there, the chat file is the fuller record).
pub fn parse_logs(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let Some(v) = read_json(reader)? else {
        return Ok(ParseReport {
            truncated_tail: true,
            ..ParseReport::default()
        });
    };
    let Value::Array(entries) = v else {
        return Err(not_gemini("logs.json is not an array".into()));
    };
    let project = path.parent().unwrap_or(Path::new(""));
    let chats = chat_ids(&project.join("chats"));
    let cwd = read_project_root(project);
    let mut by_session: BTreeMap<String, Vec<(i64, Message, String)>> = BTreeMap::new();
    let mut first_seen: Vec<String> = Vec::new();
    for e in entries {
        let Some(sid) = e.str_at("sessionId") else {
            continue;
        };
        if chats.iter().any(|short| sid.starts_with(short.as_str())) {
            continue;
        }
        let Some(text) = e.str_at("message").filter(|t| !t.trim().is_empty()) else {
            continue;
        };
        let ts = timestamp_at(&e, "timestamp");
        let id = e
            .get("messageId")
            .map(compact_json)
            .unwrap_or_else(|| "?".into());
        let role = if e.str_at("type") == Some("user") && !is_command(text) {
            Role::User
        } else {
            Role::System
        };
        if !by_session.contains_key(sid) {
            first_seen.push(sid.to_owned());
        }
        let list = by_session.entry(sid.to_owned()).or_default();
        let n = list.len() as i64;
        list.push((
            n,
            Message::new(role, Kind::Text, text, ts),
            format!("log:{id}"),
        ));
    }
    let mut report = ParseReport::default();
    for sid in first_seen {
        let Some(list) = by_session.remove(&sid) else {
            continue;
        };
        let mut info = SessionInfo::new(sid, Tool::Gemini);
        info.cwd = cwd.clone();
        let times: Vec<i64> = list.iter().filter_map(|(_, m, _)| m.timestamp).collect();
        info.started_at = times.iter().min().copied();
        info.updated_at = times.iter().max().copied();
        info.ended_at = list.iter().rev().find_map(|(_, m, _)| m.timestamp);
        info.message_count = list.iter().filter(|(_, m, _)| m.role == Role::User).count() as u32;
        let (messages, keys): (Vec<Message>, Vec<String>) =
            list.into_iter().map(|(_, m, k)| (m, k)).unzip();
        report.sessions.push(ParsedSession {
            info,
            messages,
            links: Vec::new(),
        });
        report.keys.push(keys);
    }
    Ok(report)
}

/// The first 8 characters of every session id that `chats/` holds a file of
/// (`session-<time>-<id8>.json[l]`).
fn chat_ids(chats: &Path) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(chats) else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".jsonl").or(name.strip_suffix(".json"))?;
            let short = stem.rsplit('-').next()?;
            (name.starts_with("session-") && short.len() == 8).then(|| short.to_owned())
        })
        .collect()
}

/// `checkpoint-<tag>.json`: one session, `gemini-checkpoint-` and 16 hex digits of
/// sha256(`<project folder name>\n<tag>`). No times: the file records none.
pub fn parse_checkpoint(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let Some(v) = read_json(reader)? else {
        return Ok(ParseReport {
            truncated_tail: true,
            ..ParseReport::default()
        });
    };
    let Value::Array(entries) = v else {
        return Err(not_gemini(
            "a checkpoint is an array of {role, parts}".into(),
        ));
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let tag = name
        .strip_prefix("checkpoint-")
        .and_then(|n| n.strip_suffix(".json"))
        .unwrap_or(name);
    let project = path.parent().unwrap_or(Path::new(""));
    let folder = project
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digest = Sha256::digest(format!("{folder}\n{tag}").as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let mut info = SessionInfo::new(format!("gemini-checkpoint-{hex}"), Tool::Gemini);
    info.title = Some(format!("/chat save {tag}"));
    info.cwd = read_project_root(project);
    let mut messages = Vec::new();
    let mut keys = Vec::new();
    let mut count = 0u32;
    for (n, entry) in entries.into_iter().enumerate() {
        let role = entry.str_at("role").unwrap_or("").to_owned();
        let Some(Value::Array(parts)) = entry.get("parts").cloned() else {
            continue;
        };
        let before = messages.len();
        for mut part in parts {
            if let Some(text) = part.str_at("text").filter(|t| !t.trim().is_empty()) {
                if part.get("thought").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                let r = match role.as_str() {
                    "user" if n == 0 && text.starts_with(CONTEXT_PREFIX) => Role::System,
                    "user" if is_command(text) => Role::System,
                    "user" => Role::User,
                    _ => Role::Assistant,
                };
                messages.push(Message::new(r, Kind::Text, text, None));
            } else if let Some(call) = part.get("functionCall") {
                let name = call.str_at("name").unwrap_or("tool").to_owned();
                let args = call.get("args").map(compact_json).unwrap_or_default();
                messages.push(
                    Message::new(
                        Role::Assistant,
                        Kind::ToolUse,
                        cap_tool_content(tool_use_text(&name, &args)),
                        None,
                    )
                    .with_tool(name),
                );
            } else if let Some(resp) = part.get_mut("functionResponse") {
                let name = resp.str_at("name").map(str::to_owned);
                let text = response_text(resp.get_mut("response").map(Value::take));
                let mut m =
                    Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), None);
                m.tool_name = name;
                messages.push(m);
            }
        }
        let added = &messages[before..];
        if added.iter().any(|m| m.role == Role::User)
            || (role == "model" && added.iter().any(|m| m.role == Role::Assistant))
        {
            count = count.saturating_add(1);
        }
        for b in 0..added.len() {
            keys.push(format!("p{n}.{b}"));
        }
    }
    info.message_count = count;
    Ok(ParseReport {
        sessions: vec![ParsedSession {
            info,
            messages,
            links: Vec::new(),
        }],
        keys: vec![keys],
        ..ParseReport::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_commands_are_not_prompts() {
        assert!(is_command("/model set"));
        assert!(!is_command("/home/dev is where it lives"));
        assert!(!is_command("fix /etc/hosts"));
        assert!(!is_command("/"));
    }
}
