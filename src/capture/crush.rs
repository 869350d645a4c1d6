//! Crush's (Charm) per-project database, `<project>/.crush/crush.db` (SQLite): every session of
//! the file, with its messages.
//!
//! Tables read: `sessions` (id, `parent_session_id` for a sub-agent, title, times) and
//! `messages` (role `user`/`assistant`/`tool`, `model`, times, and `parts`: a JSON list of
//! `{type, data}` with types `text`, `reasoning`, `tool_call`, `tool_result`, `finish`, …).
//! Times are Unix seconds in the files seen (the schema's comments say milliseconds): values
//! below 10^11 are read as seconds. Columns and part types lore does not know are ignored; a
//! `parts` value that does not parse is one issue and the rest is read. Refuses a database
//! without `sessions` and `messages` tables with a `parts` column. Opened read-only through
//! [`super::sqlite`]. Rules: docs/importers.md ("Crush").

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;
use serde_json::Value;

use super::jsonl::{Timeline, ValueExt, compact_json, tool_use_text};
use super::sqlite::{self, OpenError};
use super::{LineIssue, ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// Reads every session in the Crush database at `path`.
pub fn parse_db(path: &Path) -> Result<ParseReport, ParseError> {
    let src = sqlite::open(path).map_err(refuse)?;
    read(&src.conn).map_err(|e| refuse(OpenError::Sqlite(e)))?
}

fn refuse(e: OpenError) -> ParseError {
    match e {
        OpenError::Io(e) => ParseError::Io(e),
        other => ParseError::NotATranscript {
            tool: Tool::Crush,
            reason: other.to_string(),
        },
    }
}

/// Whether `conn` holds Crush's tables (for content detection).
pub fn is_crush(conn: &Connection) -> bool {
    sqlite::has_tables(conn, &["sessions", "messages"]).unwrap_or(false)
        && sqlite::columns(conn, "messages")
            .is_ok_and(|c| c.iter().any(|n| n == "parts") && c.iter().any(|n| n == "session_id"))
}

/// Unix seconds or milliseconds, as milliseconds.
fn ms(t: Option<i64>) -> Option<i64> {
    t.filter(|t| *t > 0)
        .map(|t| if t < 100_000_000_000 { t * 1000 } else { t })
}

type ReadResult = Result<Result<ParseReport, ParseError>, rusqlite::Error>;

fn read(conn: &Connection) -> ReadResult {
    if !is_crush(conn) {
        return Ok(Err(ParseError::NotATranscript {
            tool: Tool::Crush,
            reason: "no sessions and messages tables with parts".into(),
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
        "SELECT id, {}, {}, {}, {} FROM sessions ORDER BY {}, id",
        col("parent_session_id"),
        col("title"),
        col("created_at"),
        col("updated_at"),
        col("created_at"),
    );
    struct Row {
        id: String,
        parent: Option<String>,
        title: Option<String>,
        created: Option<i64>,
        updated: Option<i64>,
    }
    let rows = conn
        .prepare(&sql)?
        .query_map([], |r| {
            Ok(Row {
                id: r.get(0)?,
                parent: r.get::<_, Option<String>>(1).ok().flatten(),
                title: r.get::<_, Option<String>>(2).ok().flatten(),
                created: r.get::<_, Option<i64>>(3).ok().flatten(),
                updated: r.get::<_, Option<i64>>(4).ok().flatten(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mcols = sqlite::columns(conn, "messages")?;
    let mcol = |name: &str| -> String {
        if mcols.iter().any(|c| c == name) {
            format!("\"{name}\"")
        } else {
            "NULL".to_owned()
        }
    };
    let msql = format!(
        "SELECT id, role, parts, {}, {}, {} FROM messages WHERE session_id = ?1 ORDER BY {}, rowid",
        mcol("model"),
        mcol("created_at"),
        mcol("finished_at"),
        mcol("created_at"),
    );
    let mut stmt = conn.prepare(&msql)?;
    let mut report = ParseReport::default();
    for row in rows {
        let mut st = State::default();
        st.times.see(ms(row.created));
        let mut q = stmt.query([&row.id])?;
        while let Some(r) = q.next()? {
            let id: String = r.get(0)?;
            let role = r
                .get::<_, Option<String>>(1)
                .ok()
                .flatten()
                .unwrap_or_default();
            let parts = r
                .get::<_, Option<String>>(2)
                .ok()
                .flatten()
                .unwrap_or_default();
            let model = r.get::<_, Option<String>>(3).ok().flatten();
            let created = ms(r.get::<_, Option<i64>>(4).ok().flatten());
            let parts: Vec<Value> = match serde_json::from_str::<Value>(&parts) {
                Ok(Value::Array(a)) => a,
                Ok(_) => Vec::new(),
                Err(e) => {
                    report.issues.push(LineIssue {
                        line: 0,
                        message: format!(
                            "session {}, message {id}: unreadable parts ({e}); skipped",
                            row.id
                        ),
                    });
                    continue;
                }
            };
            if role == "assistant"
                && let Some(m) = model.filter(|m| !m.is_empty())
            {
                st.model = Some(m);
            }
            st.message(&id, &role, &parts, created);
        }
        st.times.see(ms(row.updated));
        let mut info = SessionInfo::new(row.id.clone(), Tool::Crush);
        st.times.apply(&mut info);
        if let Some(c) = ms(row.created) {
            info.started_at = Some(c);
        }
        info.title = row.title.filter(|t| !t.trim().is_empty());
        info.parent_id = row.parent.filter(|p| !p.is_empty());
        info.model = st.model;
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
    model: Option<String>,
    /// Tool call id → tool name, for the results.
    calls: HashMap<String, String>,
}

impl State {
    fn push(&mut self, key: String, m: Message) {
        self.times.message(m.timestamp);
        self.messages.push(m);
        self.keys.push(key);
    }

    fn message(&mut self, id: &str, role: &str, parts: &[Value], ts: Option<i64>) {
        for (n, p) in parts.iter().enumerate() {
            let key = format!("{id}.{n}");
            let d = p.get("data").unwrap_or(&Value::Null);
            match p.str_at("type") {
                Some("text") => {
                    if let Some(t) = d.str_at("text").filter(|t| !t.trim().is_empty()) {
                        let role = match role {
                            "user" => Role::User,
                            "assistant" => Role::Assistant,
                            _ => Role::System,
                        };
                        self.push(key, Message::new(role, Kind::Text, t, ts));
                    }
                }
                Some("reasoning") => {
                    if let Some(t) = d.str_at("thinking").filter(|t| !t.trim().is_empty()) {
                        let at = ms(d.get("started_at").and_then(Value::as_i64)).or(ts);
                        self.push(key, Message::new(Role::Assistant, Kind::Thinking, t, at));
                    }
                }
                Some("tool_call") => {
                    let name = d.str_at("name").unwrap_or("tool").to_owned();
                    // `input` is the model's JSON text.
                    let input = match d.get("input") {
                        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                            Ok(v) => compact_json(&v),
                            Err(_) => s.clone(),
                        },
                        Some(v) => compact_json(v),
                        None => String::new(),
                    };
                    if let Some(call) = d.str_at("id") {
                        self.calls.insert(call.to_owned(), name.clone());
                    }
                    let mut m = Message::new(
                        Role::Assistant,
                        Kind::ToolUse,
                        cap_tool_content(tool_use_text(&name, &input)),
                        ts,
                    );
                    m.tool_name = Some(name);
                    self.push(key, m);
                }
                Some("tool_result") => {
                    let content = d.str_at("content").unwrap_or("").to_owned();
                    let text = if d.get("is_error").and_then(Value::as_bool) == Some(true) {
                        format!("error: {content}")
                    } else {
                        content
                    };
                    let name = d
                        .str_at("name")
                        .filter(|n| !n.is_empty())
                        .map(str::to_owned)
                        .or_else(|| {
                            d.str_at("tool_call_id")
                                .and_then(|c| self.calls.get(c))
                                .cloned()
                        });
                    let mut m =
                        Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
                    m.tool_name = name;
                    self.push(key, m);
                }
                // A turn that ended in an error says why; other endings are bookkeeping.
                Some("finish") if d.str_at("reason") == Some("error") => {
                    let msg = d.str_at("message").unwrap_or("error");
                    let text = match d.str_at("details").filter(|x| !x.is_empty()) {
                        Some(det) => format!("[{msg}] {det}"),
                        None => format!("[{msg}]"),
                    };
                    let at = ms(d.get("time").and_then(Value::as_i64)).or(ts);
                    self.push(key, Message::new(Role::System, Kind::Text, text, at));
                }
                Some("image_url" | "binary") => {
                    let what = d
                        .str_at("path")
                        .or_else(|| d.str_at("mime_type"))
                        .unwrap_or("attachment");
                    let text = format!("[attachment: {what}]");
                    self.push(key, Message::new(Role::System, Kind::Text, text, ts));
                }
                _ => {}
            }
        }
    }
}
