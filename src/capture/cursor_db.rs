//! Cursor IDE's conversations in its `state.vscdb` (SQLite): the composer (chat and agent)
//! conversations of 2025–2026 in the `cursorDiskKV` table, and the 2024 chat panel's tabs in
//! `ItemTable`.
//!
//! `cursorDiskKV` holds `composerData:<composer id>` (one conversation: name, times, model,
//! workspace, tracked repositories, the ordered bubble ids in `fullConversationHeadersOnly`, or
//! older versions' bubbles inline in `conversation`) and `bubbleId:<composer id>:<bubble id>`
//! (one bubble: `type` 1 the user, 2 the assistant, with `text`, `thinking`, `toolFormerData`).
//! The 2024 panel keeps `workbench.panel.aichat.view.aichat.chatdata` in `ItemTable`: tabs of
//! `user` and `ai` bubbles. Keys and fields lore does not know are ignored; a value that does not
//! parse is one issue and the rest is read. Refuses a database that has neither. Opened
//! read-only through [`super::sqlite`]. Rules: docs/importers.md ("Cursor IDE state.vscdb").

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;
use serde_json::Value;

use super::jsonl::{Timeline, ValueExt, tool_use_text};
use super::sqlite::{self, OpenError};
use super::{LineIssue, ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

const LEGACY_KEY: &str = "workbench.panel.aichat.view.aichat.chatdata";

/// Reads every conversation in the `state.vscdb` at `path`.
pub fn parse_db(path: &Path) -> Result<ParseReport, ParseError> {
    let src = sqlite::open(path).map_err(refuse)?;
    read(&src.conn).map_err(|e| refuse(OpenError::Sqlite(e)))?
}

fn refuse(e: OpenError) -> ParseError {
    match e {
        OpenError::Io(e) => ParseError::Io(e),
        other => ParseError::NotATranscript {
            tool: Tool::Cursor,
            reason: other.to_string(),
        },
    }
}

/// Whether `conn` is a Cursor `state.vscdb` with conversations (for content detection).
pub fn is_cursor_db(conn: &Connection) -> bool {
    sqlite::has_tables(conn, &["cursorDiskKV"]).unwrap_or(false) || legacy_value(conn).is_some()
}

fn legacy_value(conn: &Connection) -> Option<Vec<u8>> {
    if !sqlite::has_tables(conn, &["ItemTable"]).unwrap_or(false) {
        return None;
    }
    conn.query_row(
        "SELECT value FROM ItemTable WHERE key = ?1",
        [LEGACY_KEY],
        |r| value_bytes(r, 0),
    )
    .ok()
    .flatten()
}

/// A value column as bytes, whether SQLite stored it as text or as a blob.
fn value_bytes(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Vec<u8>>> {
    use rusqlite::types::ValueRef;
    Ok(match r.get_ref(i)? {
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(t.to_vec()),
        _ => None,
    })
}

type ReadResult = Result<Result<ParseReport, ParseError>, rusqlite::Error>;

fn read(conn: &Connection) -> ReadResult {
    let modern = sqlite::has_tables(conn, &["cursorDiskKV"])?;
    let legacy = legacy_value(conn);
    if !modern && legacy.is_none() {
        return Ok(Err(ParseError::NotATranscript {
            tool: Tool::Cursor,
            reason: "no cursorDiskKV table and no chat panel data".into(),
        }));
    }
    let mut report = ParseReport::default();
    if modern {
        read_composers(conn, &mut report)?;
    }
    if let Some(bytes) = legacy {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => read_legacy(&v, &mut report),
            Err(e) => report.issues.push(LineIssue {
                line: 0,
                message: format!("{LEGACY_KEY}: unreadable ({e}); skipped"),
            }),
        }
    }
    Ok(Ok(report))
}

fn read_composers(conn: &Connection, report: &mut ParseReport) -> Result<(), rusqlite::Error> {
    let mut composers: Vec<(String, Value)> = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT key, value FROM cursorDiskKV WHERE key LIKE 'composerData:%' ORDER BY key",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let key: String = r.get(0)?;
            let Some(bytes) = value_bytes(r, 1)? else {
                continue;
            };
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) if v.is_object() => composers.push((key, v)),
                Ok(_) => {}
                Err(e) => report.issues.push(LineIssue {
                    line: 0,
                    message: format!("{key}: unreadable ({e}); skipped"),
                }),
            }
        }
    }
    // A sub-agent's composer is listed by its parent.
    let mut parent_of: HashMap<String, String> = HashMap::new();
    for (key, c) in &composers {
        let id = composer_id(key, c);
        for list in ["subagentComposerIds", "subComposerIds"] {
            if let Some(Value::Array(kids)) = c.get(list) {
                for k in kids.iter().filter_map(Value::as_str) {
                    parent_of.insert(k.to_owned(), id.clone());
                }
            }
        }
    }
    let mut stmt = conn.prepare("SELECT value FROM cursorDiskKV WHERE key = ?1")?;
    for (key, c) in composers {
        let id = composer_id(&key, &c);
        let mut conv = Conversation::default();
        // Newer: the order of bubble ids, each bubble its own row.
        if let Some(Value::Array(headers)) = c.get("fullConversationHeadersOnly") {
            for h in headers {
                let Some(bubble) = h.str_at("bubbleId") else {
                    continue;
                };
                let row_key = format!("bubbleId:{id}:{bubble}");
                let bytes = match stmt.query_row([&row_key], |r| value_bytes(r, 0)) {
                    Ok(Some(b)) => b,
                    Ok(None) | Err(rusqlite::Error::QueryReturnedNoRows) => continue,
                    Err(e) => return Err(e),
                };
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(b) => conv.bubble(bubble, &b),
                    Err(e) => report.issues.push(LineIssue {
                        line: 0,
                        message: format!("{row_key}: unreadable ({e}); skipped"),
                    }),
                }
            }
        }
        // Older: the bubbles inline.
        if let Some(Value::Array(bubbles)) = c.get("conversation") {
            for (n, b) in bubbles.iter().enumerate() {
                let bid = b
                    .str_at("bubbleId")
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("b{n}"));
                conv.bubble(&bid, b);
            }
        }
        if conv.messages.is_empty() {
            // Drafts and empty tabs: Cursor makes one per window.
            continue;
        }
        let mut info = SessionInfo::new(id.clone(), Tool::Cursor);
        let created = time_at(&c, "createdAt");
        conv.times.see(created);
        conv.times.see(time_at(&c, "lastUpdatedAt"));
        conv.times.apply(&mut info);
        if created.is_some() {
            info.started_at = created;
        }
        info.title = c
            .str_at("name")
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned);
        info.model = conv.model.or_else(|| {
            c.get("modelConfig")
                .and_then(|m| m.str_at("modelName"))
                .filter(|m| !m.is_empty() && *m != "default")
                .map(str::to_owned)
        });
        info.cwd = c
            .get("workspaceIdentifier")
            .and_then(|w| w.get("uri"))
            .and_then(|u| u.str_at("fsPath"))
            .map(str::to_owned);
        info.git_branch = branch(&c);
        info.parent_id = parent_of.get(&id).cloned();
        info.message_count = crate::model::count_turns(&conv.messages);
        report.sessions.push(ParsedSession {
            info,
            messages: conv.messages,
            links: Vec::new(),
        });
        report.keys.push(conv.keys);
    }
    Ok(())
}

fn composer_id(key: &str, c: &Value) -> String {
    c.str_at("composerId")
        .map(str::to_owned)
        .unwrap_or_else(|| key.trim_start_matches("composerData:").to_owned())
}

/// The branch most recently worked on in the first repository the composer tracked.
fn branch(c: &Value) -> Option<String> {
    let repo = c.get("trackedGitRepos")?.as_array()?.first()?;
    repo.get("branches")?
        .as_array()?
        .iter()
        .max_by_key(|b| {
            b.get("lastInteractionAt")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        })?
        .str_at("branchName")
        .map(str::to_owned)
}

/// A time field: Unix ms as a number, or an RFC 3339 string.
fn time_at(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => super::jsonl::parse_timestamp(s),
        _ => None,
    }
}

#[derive(Default)]
struct Conversation {
    messages: Vec<Message>,
    keys: Vec<String>,
    times: Timeline,
    model: Option<String>,
}

impl Conversation {
    fn push(&mut self, key: String, m: Message) {
        self.times.message(m.timestamp);
        self.messages.push(m);
        self.keys.push(key);
    }

    /// One bubble: `type` 1 is the user's, 2 the assistant's.
    fn bubble(&mut self, id: &str, b: &Value) {
        let ts = time_at(b, "createdAt");
        let text = b.str_at("text").filter(|t| !t.trim().is_empty());
        match b.get("type").and_then(Value::as_i64) {
            Some(1) => {
                if let Some(t) = text {
                    self.push(
                        format!("{id}.text"),
                        Message::new(Role::User, Kind::Text, t, ts),
                    );
                }
            }
            Some(2) => {
                if let Some(m) = b
                    .get("modelInfo")
                    .and_then(|m| m.str_at("modelName"))
                    .filter(|m| !m.is_empty() && *m != "default")
                {
                    self.model = Some(m.to_owned());
                }
                if let Some(t) = b
                    .get("thinking")
                    .and_then(|t| t.str_at("text"))
                    .filter(|t| !t.trim().is_empty())
                {
                    self.push(
                        format!("{id}.thinking"),
                        Message::new(Role::Assistant, Kind::Thinking, t, ts),
                    );
                }
                if let Some(t) = text {
                    self.push(
                        format!("{id}.text"),
                        Message::new(Role::Assistant, Kind::Text, t, ts),
                    );
                }
                if let Some(tool) = b.get("toolFormerData").filter(|t| t.is_object()) {
                    self.tool(id, tool, ts);
                }
            }
            _ => {}
        }
    }

    fn tool(&mut self, id: &str, t: &Value, ts: Option<i64>) {
        let name = t.str_at("name").unwrap_or("tool").to_owned();
        // `rawArgs` is what the model sent; `params` what Cursor ran (some tools have only it).
        let input = t
            .str_at("rawArgs")
            .or_else(|| t.str_at("params"))
            .unwrap_or("");
        let input = compact(input);
        let mut call = Message::new(
            Role::Assistant,
            Kind::ToolUse,
            cap_tool_content(tool_use_text(&name, &input)),
            ts,
        );
        call.tool_name = Some(name.clone());
        self.push(format!("{id}.tool"), call);
        let text = match (t.str_at("status"), t.get("result")) {
            (_, Some(Value::String(r))) if !r.is_empty() => r.clone(),
            (Some("error"), _) => match t.get("error") {
                Some(Value::String(e)) => format!("error: {e}"),
                Some(e) if !e.is_null() => format!("error: {e}"),
                _ => "error".to_owned(),
            },
            _ => return,
        };
        let mut result = Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
        result.tool_name = Some(name);
        self.push(format!("{id}.result"), result);
    }
}

/// A JSON text as compact JSON (as other importers store tool inputs); other text as it is.
fn compact(s: &str) -> String {
    match serde_json::from_str::<Value>(s) {
        Ok(v) => super::jsonl::compact_json(&v),
        Err(_) => s.to_owned(),
    }
}

/// The 2024 chat panel: one session per tab (`tabId`), `user` bubbles (the typed text is in
/// `text`, or in `delegate.a` for the rich editor) and `ai` bubbles (`rawText`, `modelType`).
fn read_legacy(v: &Value, report: &mut ParseReport) {
    let Some(Value::Array(tabs)) = v.get("tabs") else {
        return;
    };
    for tab in tabs {
        let Some(tab_id) = tab.str_at("tabId") else {
            continue;
        };
        let mut conv = Conversation::default();
        if let Some(Value::Array(bubbles)) = tab.get("bubbles") {
            for (n, b) in bubbles.iter().enumerate() {
                let id = b
                    .str_at("id")
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("b{n}"));
                let ts = b.get("contextCacheTimestamp").and_then(Value::as_i64);
                match b.str_at("type") {
                    Some("user") => {
                        let text = b
                            .str_at("text")
                            .filter(|t| !t.trim().is_empty())
                            .or_else(|| b.get("delegate").and_then(|d| d.str_at("a")))
                            .filter(|t| !t.trim().is_empty());
                        if let Some(t) = text {
                            conv.push(
                                format!("{id}.text"),
                                Message::new(Role::User, Kind::Text, t, ts),
                            );
                        }
                    }
                    Some("ai") => {
                        if let Some(m) = b.str_at("modelType").filter(|m| !m.is_empty()) {
                            conv.model = Some(m.to_owned());
                        }
                        if let Some(t) = b
                            .str_at("rawText")
                            .or_else(|| b.str_at("text"))
                            .filter(|t| !t.trim().is_empty())
                        {
                            conv.push(
                                format!("{id}.text"),
                                Message::new(Role::Assistant, Kind::Text, t, ts),
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
        if conv.messages.is_empty() {
            continue;
        }
        let mut info = SessionInfo::new(tab_id, Tool::Cursor);
        conv.times
            .see(tab.get("lastSendTime").and_then(Value::as_i64));
        conv.times.apply(&mut info);
        info.title = tab
            .str_at("chatTitle")
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned);
        info.model = conv.model;
        info.message_count = crate::model::count_turns(&conv.messages);
        report.sessions.push(ParsedSession {
            info,
            messages: conv.messages,
            links: Vec::new(),
        });
        report.keys.push(conv.keys);
    }
}
