//! Cursor's agent transcripts (the CLI `agent` and the IDE's agent):
//! `~/.cursor/projects/<project slug>/agent-transcripts/<id>.jsonl` (or `<id>/<id>.jsonl`).
//!
//! Every line is `{role, message: {content: [blocks]}}`: `user` lines hold the prompt inside
//! `<user_query>` with the context Cursor attached around it (`<attached_files>`,
//! `<git_diff_from_branch_to_main>`, skills, …); `assistant` lines hold `text` and `tool_use`
//! blocks. The format records no time, no model, no working directory and no tool results;
//! lore invents none of them (the project folder's name is a lossy slug of a path, never read
//! back as one). Unknown block types and fields are skipped. Refuses a file with no line of
//! that shape. Rules: `docs/importers.md` ("Cursor agent transcripts").

use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::jsonl::{JsonLines, Step, ValueExt, compact_json, keep_key_order_in, tool_use_text};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// Reads one agent transcript; its id is the file's stem.
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let mut lines = JsonLines::new(reader);
    let mut messages = Vec::new();
    let mut keys = Vec::new();
    let mut recognised = 0u64;
    while let Some(line) = lines.next_line()? {
        if !is_line(&line.value) {
            continue;
        }
        recognised += 1;
        let mut value = line.value;
        // Tool inputs keep the tool's key order.
        keep_key_order_in(
            &mut value,
            &line.raw,
            &[Step::Key("message"), Step::Key("content")],
            "input",
        );
        for (n, m) in convert(&value).into_iter().enumerate() {
            keys.push(format!("l{}.{n}", line.number));
            messages.push(m);
        }
    }
    if lines.nonblank_lines == 0 {
        return Err(ParseError::Empty);
    }
    if recognised == 0 {
        if lines.truncated_tail {
            return Ok(lines.into_report(Vec::new()));
        }
        return Err(ParseError::NotATranscript {
            tool: Tool::Cursor,
            reason: "no {role, message} line".into(),
        });
    }
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cursor".into());
    let mut info = SessionInfo::new(id, Tool::Cursor);
    info.message_count = crate::model::count_turns(&messages);
    let session = ParsedSession {
        info,
        messages,
        links: Vec::new(),
    };
    Ok(lines.into_keyed_report(vec![session], vec![keys]))
}

/// `{role: "user"|"assistant", message: {content: …}}` and no `type` (Claude Code's lines
/// have one).
pub fn is_line(v: &Value) -> bool {
    matches!(v.str_at("role"), Some("user" | "assistant"))
        && v.get("message").is_some_and(Value::is_object)
        && v.get("type").is_none()
        && v.get("sessionId").is_none()
}

fn convert(v: &Value) -> Vec<Message> {
    let mut out = Vec::new();
    let user = v.str_at("role") == Some("user");
    let content = v.get("message").and_then(|m| m.get("content"));
    let blocks: Vec<&Value> = match content {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    };
    if user {
        let mut text = String::new();
        for b in blocks {
            match b {
                Value::String(s) => text.push_str(s),
                _ => {
                    if let Some(t) = b.str_at("text") {
                        text.push_str(t);
                    }
                }
            }
        }
        let (context, query) = split_query(&text);
        if !context.trim().is_empty() {
            out.push(Message::new(
                Role::System,
                Kind::Text,
                context.trim().to_owned(),
                None,
            ));
        }
        if !query.trim().is_empty() {
            out.push(Message::new(Role::User, Kind::Text, query, None));
        }
        return out;
    }
    for b in blocks {
        match (b, b.str_at("type")) {
            (Value::String(s), _) if !s.trim().is_empty() => {
                out.push(Message::new(Role::Assistant, Kind::Text, s.clone(), None));
            }
            (_, Some("text")) => {
                if let Some(t) = b.str_at("text").filter(|t| !t.trim().is_empty()) {
                    out.push(Message::new(
                        Role::Assistant,
                        Kind::Text,
                        t.to_owned(),
                        None,
                    ));
                }
            }
            (_, Some("thinking" | "reasoning")) => {
                if let Some(t) = b
                    .str_at("thinking")
                    .or_else(|| b.str_at("text"))
                    .filter(|t| !t.trim().is_empty())
                {
                    out.push(Message::new(
                        Role::Assistant,
                        Kind::Thinking,
                        t.to_owned(),
                        None,
                    ));
                }
            }
            (_, Some("tool_use")) => {
                let name = b.str_at("name").unwrap_or("tool").to_owned();
                let input = b.get("input").map(compact_json).unwrap_or_default();
                let mut m = Message::new(
                    Role::Assistant,
                    Kind::ToolUse,
                    cap_tool_content(tool_use_text(&name, &input)),
                    None,
                );
                m.tool_name = Some(name);
                out.push(m);
            }
            _ => {}
        }
    }
    out
}

/// The human's words (inside the last `<user_query>…</user_query>`) and the context Cursor
/// put around them. Without the tags the whole text is the prompt.
fn split_query(text: &str) -> (String, String) {
    const OPEN: &str = "<user_query>";
    const CLOSE: &str = "</user_query>";
    let Some(start) = text.rfind(OPEN) else {
        return (String::new(), text.to_owned());
    };
    let inner_start = start + OPEN.len();
    let (inner_end, after) = match text[inner_start..].find(CLOSE) {
        Some(e) => (inner_start + e, inner_start + e + CLOSE.len()),
        None => (text.len(), text.len()),
    };
    let query = text[inner_start..inner_end].trim().to_owned();
    let mut context = String::with_capacity(text.len() - (inner_end - inner_start));
    context.push_str(text[..start].trim_end());
    let rest = text[after..].trim();
    if !rest.is_empty() {
        if !context.is_empty() {
            context.push_str("\n\n");
        }
        context.push_str(rest);
    }
    (context, query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_query_from_the_attached_context() {
        let (c, q) = split_query(
            "<attached_files>\nx\n</attached_files>\n<user_query>\nfix it\n</user_query>",
        );
        assert_eq!(q, "fix it");
        assert_eq!(c, "<attached_files>\nx\n</attached_files>");
        let (c, q) = split_query("just words");
        assert_eq!((c.as_str(), q.as_str()), ("", "just words"));
    }

    #[test]
    fn refuses_claude_lines() {
        let mut r: &[u8] = b"{\"type\":\"user\",\"role\":\"user\",\"message\":{}}\n";
        let e = parse(Path::new("/x/a.jsonl"), &mut r);
        assert!(matches!(e, Err(ParseError::NotATranscript { .. })), "{e:?}");
    }
}
