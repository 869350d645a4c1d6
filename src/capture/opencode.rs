//! OpenCode's database (`opencode.db`, SQLite, since OpenCode 1.2) and Kilo CLI's (`kilo.db`, an
//! OpenCode fork with the same schema): every session of the file, with its messages.
//!
//! Tables read: `session` (id, parent_id, directory, title, version, times), `message` (one row
//! per turn, JSON `data`: role, model, times, error), `part` (the turn's blocks, JSON `data`
//! with a `type`: `text`, `reasoning`, `tool`, `file`, `subtask`, `compaction`, `retry`, …),
//! and `workspace.branch` where the session names a workspace. Columns and part types lore does
//! not know are ignored, so a newer OpenCode never breaks the read; a part whose JSON does not
//! parse is a line issue and the rest is read. Refuses a database without `session`,
//! `message` and `part` tables. Opened read-only through [`super::sqlite`]. Rules and what is
//! not kept: docs/importers.md ("OpenCode and Kilo CLI").

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;
use serde_json::Value;

use super::jsonl::{Step, Timeline, ValueExt, compact_json, keep_key_order, tool_use_text};
use super::sqlite::{self, OpenError};
use super::{LineIssue, ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// Reads every session in the database at `path`, as `tool` (OpenCode or Kilo CLI).
pub fn parse_db(tool: Tool, path: &Path) -> Result<ParseReport, ParseError> {
    let src = sqlite::open(path).map_err(|e| refuse(tool, e))?;
    read(tool, &src.conn).map_err(|e| refuse(tool, OpenError::Sqlite(e)))?
}

fn refuse(tool: Tool, e: OpenError) -> ParseError {
    match e {
        OpenError::Io(e) => ParseError::Io(e),
        other => ParseError::NotATranscript {
            tool,
            reason: other.to_string(),
        },
    }
}

/// Whether `conn` holds OpenCode's tables (for content detection).
pub fn is_opencode(conn: &Connection) -> bool {
    sqlite::has_tables(conn, &["session", "message", "part"]).unwrap_or(false)
        && sqlite::columns(conn, "part")
            .is_ok_and(|c| c.iter().any(|n| n == "message_id") && c.iter().any(|n| n == "data"))
}

/// A session row's columns lore reads (those the table has).
#[derive(Default)]
pub(super) struct SessionRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub directory: Option<String>,
    pub title: Option<String>,
    pub version: Option<String>,
    pub time_created: Option<i64>,
    pub time_updated: Option<i64>,
    pub workspace_id: Option<String>,
}

type ReadResult = Result<Result<ParseReport, ParseError>, rusqlite::Error>;

fn read(tool: Tool, conn: &Connection) -> ReadResult {
    if !is_opencode(conn) {
        return Ok(Err(ParseError::NotATranscript {
            tool,
            reason: "no session, message and part tables".into(),
        }));
    }
    let have = sqlite::columns(conn, "session")?;
    let col = |name: &str| -> String {
        if have.iter().any(|c| c == name) {
            format!("\"{name}\"")
        } else {
            "NULL".to_owned()
        }
    };
    let sql = format!(
        "SELECT id, {}, {}, {}, {}, {}, {}, {} FROM session ORDER BY {}, id",
        col("parent_id"),
        col("directory"),
        col("title"),
        col("version"),
        col("time_created"),
        col("time_updated"),
        col("workspace_id"),
        col("time_created"),
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SessionRow {
                id: r.get(0)?,
                parent_id: text_of(r, 1),
                directory: text_of(r, 2),
                title: text_of(r, 3),
                version: text_of(r, 4),
                time_created: r.get::<_, Option<i64>>(5).ok().flatten(),
                time_updated: r.get::<_, Option<i64>>(6).ok().flatten(),
                workspace_id: text_of(r, 7),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let branches = workspace_branches(conn)?;
    let mut report = ParseReport::default();
    for row in rows {
        let (session, keys) = read_session(tool, conn, row, &branches, &mut report.issues)?;
        report.sessions.push(session);
        report.keys.push(keys);
    }
    Ok(Ok(report))
}

/// A text column as an owned string; other types and NULL are `None`.
fn text_of(r: &rusqlite::Row<'_>, i: usize) -> Option<String> {
    r.get::<_, Option<String>>(i).ok().flatten()
}

/// `workspace.id → workspace.branch`, where the table and column exist (OpenCode 1.4+).
fn workspace_branches(conn: &Connection) -> Result<HashMap<String, String>, rusqlite::Error> {
    let cols = sqlite::columns(conn, "workspace")?;
    if !cols.iter().any(|c| c == "branch") || !cols.iter().any(|c| c == "id") {
        return Ok(HashMap::new());
    }
    let mut stmt = conn.prepare("SELECT id, branch FROM workspace WHERE branch IS NOT NULL")?;
    let map = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .filter_map(Result::ok)
        .collect();
    Ok(map)
}

/// A part's JSON, its tool input in the tool's own key order ([`keep_key_order`]).
pub(super) fn part_data(raw: &str) -> Result<Value, String> {
    let mut v = serde_json::from_str::<Value>(raw).map_err(|e| e.to_string())?;
    if v.str_at("type") == Some("tool") {
        keep_key_order(&mut v, raw, &[Step::Key("state"), Step::Key("input")]);
    }
    Ok(v)
}

/// One message row with its parts: `(part id, time created, data or why it is unreadable)`.
pub(super) struct Turn {
    pub id: String,
    pub created: Option<i64>,
    pub data: Value,
    pub parts: Vec<(String, Option<i64>, Result<Value, String>)>,
}

fn read_session(
    tool: Tool,
    conn: &Connection,
    row: SessionRow,
    branches: &HashMap<String, String>,
    issues: &mut Vec<LineIssue>,
) -> Result<(ParsedSession, Vec<String>), rusqlite::Error> {
    // Message and part ids are made so that they sort in the order they were created; it is
    // the order OpenCode shows them in.
    let mut turns: Vec<Turn> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT id, time_created, data FROM message WHERE session_id = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([&row.id])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let created = r.get::<_, Option<i64>>(1).ok().flatten();
            let data = r
                .get::<_, Option<String>>(2)
                .ok()
                .flatten()
                .and_then(|s| serde_json::from_str::<Value>(&s).ok())
                .unwrap_or(Value::Null);
            index.insert(id.clone(), turns.len());
            turns.push(Turn {
                id,
                created,
                data,
                parts: Vec::new(),
            });
        }
    }
    {
        let mut stmt = conn.prepare(
            "SELECT id, message_id, time_created, data FROM part \
             WHERE message_id IN (SELECT id FROM message WHERE session_id = ?1) ORDER BY id",
        )?;
        let mut rows = stmt.query([&row.id])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let message_id: String = r.get(1)?;
            let created = r.get::<_, Option<i64>>(2).ok().flatten();
            let data = match r.get::<_, Option<String>>(3).ok().flatten() {
                Some(s) => part_data(&s),
                None => Err("no data".to_owned()),
            };
            if let Some(&n) = index.get(&message_id) {
                turns[n].parts.push((id, created, data));
            }
        }
    }
    let branch = row
        .workspace_id
        .as_ref()
        .and_then(|w| branches.get(w).cloned());
    Ok(session_of(tool, row, branch, turns, issues))
}

/// One lore session from a session's row and its turns (each with its parts, in id order):
/// what the database and the pre-1.2 `storage/` tree ([`super::opencode_storage`]) share.
pub(super) fn session_of(
    tool: Tool,
    row: SessionRow,
    branch: Option<String>,
    turns: Vec<Turn>,
    issues: &mut Vec<LineIssue>,
) -> (ParsedSession, Vec<String>) {
    let mut st = State {
        messages: Vec::new(),
        keys: Vec::new(),
        times: Timeline::default(),
        model: None,
    };
    st.times.see(row.time_created);
    for turn in turns {
        st.turn(turn, &row.id, issues);
    }
    st.times.see(row.time_updated);
    let mut info = SessionInfo::new(row.id.clone(), tool);
    st.times.apply(&mut info);
    if let Some(c) = row.time_created {
        info.started_at = Some(c);
    }
    info.tool_version = row.version.filter(|v| !v.is_empty());
    info.model = st.model;
    info.cwd = row.directory.filter(|d| !d.is_empty());
    info.parent_id = row.parent_id.filter(|p| !p.is_empty());
    info.git_branch = branch;
    // OpenCode names a session "New session - <time>" (a sub-agent's "… subagent)") until it
    // has made a title: that is no title.
    info.title = row.title.filter(|t| {
        !t.trim().is_empty()
            && !t.starts_with("New session - ")
            && !t.starts_with("Child session - ")
    });
    info.message_count = crate::model::count_turns(&st.messages);
    (
        ParsedSession {
            info,
            messages: st.messages,
            links: Vec::new(),
        },
        st.keys,
    )
}

struct State {
    messages: Vec<Message>,
    keys: Vec<String>,
    times: Timeline,
    model: Option<String>,
}

impl State {
    fn push(&mut self, key: String, m: Message) {
        self.times.message(m.timestamp);
        self.messages.push(m);
        self.keys.push(key);
    }

    fn turn(&mut self, turn: Turn, session: &str, issues: &mut Vec<LineIssue>) {
        let d = &turn.data;
        let user = d.str_at("role") == Some("user");
        let turn_time = d
            .get("time")
            .and_then(|t| t.get("created"))
            .and_then(Value::as_i64)
            .or(turn.created);
        if !user && let Some(m) = d.str_at("modelID").filter(|m| !m.is_empty()) {
            self.model = Some(m.to_owned());
        }
        for (part_id, created, data) in turn.parts {
            let data = match data {
                Ok(v) => v,
                Err(e) => {
                    issues.push(LineIssue {
                        line: 0,
                        message: format!(
                            "session {session}, part {part_id}: unreadable data ({e}); skipped"
                        ),
                    });
                    continue;
                }
            };
            let ts = data
                .get("time")
                .and_then(|t| t.get("start"))
                .and_then(Value::as_i64)
                .or(created)
                .or(turn_time);
            self.part(&part_id, user, &data, ts);
        }
        // A turn that failed says why (the provider refused, the user stopped it).
        if let Some(err) = d.get("error").filter(|e| e.is_object()) {
            let name = err.str_at("name").unwrap_or("error");
            let msg = err
                .get("data")
                .and_then(|x| x.str_at("message"))
                .or_else(|| err.str_at("message"))
                .unwrap_or("");
            let text = if msg.is_empty() {
                format!("[{name}]")
            } else {
                format!("[{name}] {msg}")
            };
            let ts = d
                .get("time")
                .and_then(|t| t.get("completed"))
                .and_then(Value::as_i64)
                .or(turn_time);
            self.push(
                format!("{}.error", turn.id),
                Message::new(Role::System, Kind::Text, text, ts),
            );
        }
    }

    fn part(&mut self, id: &str, user: bool, p: &Value, ts: Option<i64>) {
        match p.str_at("type") {
            Some("text") => {
                let Some(text) = p.str_at("text").filter(|t| !t.trim().is_empty()) else {
                    return;
                };
                // `synthetic` text is what OpenCode added on its own (a file's content for an
                // @-mention, "the user ran …" notes); `ignored` text was not sent.
                let synthetic = p.get("synthetic").and_then(Value::as_bool) == Some(true);
                let role = match (user, synthetic) {
                    (true, false) => Role::User,
                    (true, true) => Role::System,
                    (false, _) => Role::Assistant,
                };
                self.push(id.to_owned(), Message::new(role, Kind::Text, text, ts));
            }
            Some("reasoning") => {
                if let Some(text) = p.str_at("text").filter(|t| !t.trim().is_empty()) {
                    self.push(
                        id.to_owned(),
                        Message::new(Role::Assistant, Kind::Thinking, text, ts),
                    );
                }
            }
            Some("tool") => self.tool(id, p, ts),
            Some("file") => {
                let what = p
                    .str_at("filename")
                    .or_else(|| p.get("source").and_then(|s| s.str_at("path")))
                    .or_else(|| p.str_at("mime"))
                    .unwrap_or("file");
                let text = format!("[attachment: {what}]");
                self.push(
                    id.to_owned(),
                    Message::new(Role::System, Kind::Text, text, ts),
                );
            }
            Some("subtask") => {
                let agent = p.str_at("agent").unwrap_or("agent");
                let prompt = p.str_at("prompt").unwrap_or("");
                let text = format!("[sub-agent {agent}] {prompt}");
                self.push(
                    id.to_owned(),
                    Message::new(Role::System, Kind::Text, text, ts),
                );
            }
            Some("compaction") => {
                self.push(
                    id.to_owned(),
                    Message::new(Role::System, Kind::Text, "[conversation compacted]", ts),
                );
            }
            Some("retry") => {
                let attempt = p.get("attempt").and_then(Value::as_i64).unwrap_or(0);
                let why = p
                    .get("error")
                    .and_then(|e| {
                        e.get("data")
                            .and_then(|d| d.str_at("message"))
                            .or_else(|| e.str_at("message"))
                    })
                    .unwrap_or("");
                let text = format!("[retry {attempt}] {why}").trim_end().to_owned();
                self.push(
                    id.to_owned(),
                    Message::new(Role::System, Kind::Text, text, ts),
                );
            }
            // step-start, step-finish, snapshot, patch, agent: bookkeeping; unknown: skipped.
            _ => {}
        }
    }

    fn tool(&mut self, id: &str, p: &Value, ts: Option<i64>) {
        let name = p.str_at("tool").unwrap_or("tool").to_owned();
        let state = p.get("state");
        let input = state
            .and_then(|s| s.get("input"))
            .map(compact_json)
            .unwrap_or_default();
        let mut call = Message::new(
            Role::Assistant,
            Kind::ToolUse,
            cap_tool_content(tool_use_text(&name, &input)),
            ts,
        );
        call.tool_name = Some(name.clone());
        self.push(id.to_owned(), call);
        let Some(state) = state else { return };
        let end = state
            .get("time")
            .and_then(|t| t.get("end"))
            .and_then(Value::as_i64)
            .or(ts);
        let text = match state.str_at("status") {
            Some("completed") => state
                .get("output")
                .map(|o| match o {
                    Value::String(s) => s.clone(),
                    other => compact_json(other),
                })
                .unwrap_or_default(),
            Some("error") => format!("error: {}", state.str_at("error").unwrap_or("")),
            // pending / running: no result yet; a later import adds it.
            _ => return,
        };
        let mut result = Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), end);
        result.tool_name = Some(name);
        self.push(format!("{id}.result"), result);
    }
}

/// Whether the database at `path` is OpenCode's (or a fork's with its schema).
pub fn detect(path: &Path) -> bool {
    sqlite::open(path).is_ok_and(|s| is_opencode(&s.conn))
}
