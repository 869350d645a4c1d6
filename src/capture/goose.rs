//! Goose's session database (`sessions.db`, SQLite, since Goose 1.10): every session of the
//! file, with its messages.
//!
//! Tables read: `sessions` (id, `name`, `working_dir`, `created_at`, `updated_at`) and `messages`
//! (`role`, `created_timestamp` in Unix seconds, `content_json`: the message's list of content
//! items, `metadata_json`: `userVisible`/`agentVisible`). Content items: `text`, `thinking`,
//! `toolRequest` (`toolCall.value {name, arguments}`), `toolResponse` (`toolResult.value`, a
//! list of content), `image`; unknown types are skipped. Tool responses come in `user`
//! messages (as the model's API has them) and are tool results, never prompts; text the user
//! never saw (`userVisible: false`) is injected context. Refuses a database without those
//! tables. Opened read-only through [`super::sqlite`]. Rules: docs/importers.md ("Goose").

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;
use serde_json::Value;

use super::jsonl::{Timeline, ValueExt, compact_json, parse_timestamp, tool_use_text};
use super::sqlite::{self, OpenError};
use super::{LineIssue, ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// Reads every session in the Goose database at `path`.
pub fn parse_db(path: &Path) -> Result<ParseReport, ParseError> {
    let src = sqlite::open(path).map_err(refuse)?;
    read(&src.conn).map_err(|e| refuse(OpenError::Sqlite(e)))?
}

fn refuse(e: OpenError) -> ParseError {
    match e {
        OpenError::Io(e) => ParseError::Io(e),
        other => ParseError::NotATranscript {
            tool: Tool::Goose,
            reason: other.to_string(),
        },
    }
}

/// Whether `conn` holds Goose's tables (for content detection).
pub fn is_goose(conn: &Connection) -> bool {
    sqlite::has_tables(conn, &["sessions", "messages"]).unwrap_or(false)
        && sqlite::columns(conn, "messages").is_ok_and(|c| c.iter().any(|n| n == "content_json"))
}

/// A time column: Unix seconds or milliseconds as a number, or SQLite's `YYYY-MM-DD HH:MM:SS`
/// (UTC) text.
fn time_of(r: &rusqlite::Row<'_>, i: usize) -> Option<i64> {
    use rusqlite::types::ValueRef;
    match r.get_ref(i).ok()? {
        ValueRef::Integer(t) if t > 0 => Some(if t < 100_000_000_000 { t * 1000 } else { t }),
        ValueRef::Text(t) => {
            let s = std::str::from_utf8(t).ok()?.trim();
            parse_timestamp(s).or_else(|| parse_timestamp(&format!("{}Z", s.replacen(' ', "T", 1))))
        }
        _ => None,
    }
}

type ReadResult = Result<Result<ParseReport, ParseError>, rusqlite::Error>;

fn read(conn: &Connection) -> ReadResult {
    if !is_goose(conn) {
        return Ok(Err(ParseError::NotATranscript {
            tool: Tool::Goose,
            reason: "no sessions and messages tables with content_json".into(),
        }));
    }
    let have = sqlite::columns(conn, "sessions")?;
    let col = |name: &str| -> String {
        if have.iter().any(|c| c == name) {
            format!("\"{name}\"")
        } else {
            "NULL".to_owned()
        }
    };
    let sql = format!(
        "SELECT id, {}, {}, {}, {} FROM sessions ORDER BY id",
        col("name"),
        col("working_dir"),
        col("created_at"),
        col("updated_at"),
    );
    struct Row {
        id: String,
        name: Option<String>,
        cwd: Option<String>,
        created: Option<i64>,
        updated: Option<i64>,
    }
    let rows = conn
        .prepare(&sql)?
        .query_map([], |r| {
            Ok(Row {
                id: r.get(0)?,
                name: r.get::<_, Option<String>>(1).ok().flatten(),
                cwd: r.get::<_, Option<String>>(2).ok().flatten(),
                created: time_of(r, 3),
                updated: time_of(r, 4),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mcols = sqlite::columns(conn, "messages")?;
    let meta = if mcols.iter().any(|c| c == "metadata_json") {
        "metadata_json"
    } else {
        "NULL"
    };
    let ts = if mcols.iter().any(|c| c == "created_timestamp") {
        "created_timestamp"
    } else {
        "NULL"
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT id, role, content_json, {ts}, {meta} FROM messages WHERE session_id = ?1 ORDER BY id"
    ))?;
    let mut report = ParseReport::default();
    for row in rows {
        let mut st = State::default();
        st.times.see(row.created);
        let mut q = stmt.query([&row.id])?;
        while let Some(r) = q.next()? {
            let id = match r.get_ref(0)? {
                rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                _ => continue,
            };
            let role = r
                .get::<_, Option<String>>(1)
                .ok()
                .flatten()
                .unwrap_or_default();
            let content = r
                .get::<_, Option<String>>(2)
                .ok()
                .flatten()
                .unwrap_or_default();
            let at = time_of(r, 3);
            let visible = r
                .get::<_, Option<String>>(4)
                .ok()
                .flatten()
                .and_then(|m| serde_json::from_str::<Value>(&m).ok())
                .and_then(|m| m.get("userVisible").and_then(Value::as_bool))
                .unwrap_or(true);
            let items = match serde_json::from_str::<Value>(&content) {
                Ok(Value::Array(a)) => a,
                Ok(_) => Vec::new(),
                Err(e) => {
                    report.issues.push(LineIssue {
                        line: 0,
                        message: format!(
                            "session {}, message {id}: unreadable content_json ({e}); skipped",
                            row.id
                        ),
                    });
                    continue;
                }
            };
            st.message(&id, &role, visible, &items, at);
        }
        st.times.see(row.updated);
        let mut info = SessionInfo::new(row.id.clone(), Tool::Goose);
        st.times.apply(&mut info);
        if row.created.is_some() {
            info.started_at = row.created;
        }
        // Goose names a session "CLI Session" until it has made a name.
        info.title = row
            .name
            .filter(|t| !t.trim().is_empty() && t != "CLI Session");
        info.cwd = row.cwd.filter(|c| !c.is_empty());
        info.message_count = crate::model::count_turns(&st.messages);
        report.sessions.push(ParsedSession {
            info,
            messages: st.messages,
            links: Vec::new(),
        });
        report.keys.push(st.keys);
    }
    Ok(Ok(report))
}

#[derive(Default)]
struct State {
    messages: Vec<Message>,
    keys: Vec<String>,
    times: Timeline,
    /// Tool request id → tool name, for the responses.
    calls: HashMap<String, String>,
}

impl State {
    fn push(&mut self, key: String, m: Message) {
        self.times.message(m.timestamp);
        self.messages.push(m);
        self.keys.push(key);
    }

    fn message(&mut self, id: &str, role: &str, visible: bool, items: &[Value], ts: Option<i64>) {
        let user = role == "user";
        for (n, it) in items.iter().enumerate() {
            let key = format!("{id}.{n}");
            match it.str_at("type") {
                Some("text") => {
                    let Some(t) = it.str_at("text").filter(|t| !t.trim().is_empty()) else {
                        continue;
                    };
                    let r = match (user, visible) {
                        (true, true) => Role::User,
                        (true, false) => Role::System,
                        (false, _) => Role::Assistant,
                    };
                    self.push(key, Message::new(r, Kind::Text, t, ts));
                }
                Some("thinking") => {
                    if let Some(t) = it.str_at("thinking").filter(|t| !t.trim().is_empty()) {
                        self.push(key, Message::new(Role::Assistant, Kind::Thinking, t, ts));
                    }
                }
                Some("toolRequest") => {
                    let call = it.get("toolCall");
                    let value = call.and_then(|c| c.get("value"));
                    let name = value
                        .and_then(|v| v.str_at("name"))
                        .unwrap_or("tool")
                        .to_owned();
                    let text = match value {
                        Some(v) => {
                            let input = v.get("arguments").map(compact_json).unwrap_or_default();
                            tool_use_text(&name, &input)
                        }
                        // A request the model got wrong: what Goose kept of it.
                        None => match call.and_then(|c| c.get("error")) {
                            Some(e) => format!("{name}: [invalid call] {}", compact_json(e)),
                            None => name.clone(),
                        },
                    };
                    if let Some(rid) = it.str_at("id") {
                        self.calls.insert(rid.to_owned(), name.clone());
                    }
                    let mut m =
                        Message::new(Role::Assistant, Kind::ToolUse, cap_tool_content(text), ts);
                    m.tool_name = Some(name);
                    self.push(key, m);
                }
                Some("toolResponse") => {
                    let result = it.get("toolResult");
                    let text = match result.and_then(|r| r.get("value")) {
                        Some(Value::Array(parts)) => parts
                            .iter()
                            .filter_map(|p| match p.str_at("type") {
                                Some("text") => p.str_at("text").map(str::to_owned),
                                Some("image") => Some(format!(
                                    "[image {}]",
                                    p.str_at("mimeType").unwrap_or("image")
                                )),
                                _ => None,
                            })
                            .collect::<Vec<_>>()
                            .join("\n"),
                        Some(v) => compact_json(v),
                        None => match result.and_then(|r| r.get("error")) {
                            Some(Value::String(e)) => format!("error: {e}"),
                            Some(e) => format!("error: {}", compact_json(e)),
                            None => String::new(),
                        },
                    };
                    let name = it.str_at("id").and_then(|r| self.calls.get(r)).cloned();
                    let mut m =
                        Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
                    m.tool_name = name;
                    self.push(key, m);
                }
                Some("image") => {
                    let what = it.str_at("mimeType").unwrap_or("image");
                    self.push(
                        key,
                        Message::new(Role::System, Kind::Text, format!("[image {what}]"), ts),
                    );
                }
                _ => {}
            }
        }
    }
}
