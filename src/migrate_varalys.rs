//! `lore migrate --from varalys`: bring a varalys/lore database into lore.db.
//!
//! varalys/lore (another tool named Lore, <https://github.com/varalys/lore>) keeps its sessions
//! in `~/.lore/lore.db`: tables `sessions`, `messages` (content as serde JSON: a string, or
//! blocks `text`, `thinking`, `tool_use`, `tool_result`), `session_links`, `tags`,
//! `annotations`, `summaries`, `machines`, timestamps as RFC 3339 text. This module reads such
//! a database without changing a byte of it (opened read-only and `immutable`; when a `-wal`
//! or `-journal` sits beside it, a private copy of the three files is read instead) and writes
//! what it holds into lore.db through one [`Db::write`], so the whole migration is one
//! revertible commit.
//!
//! What is carried: sessions of the tools lore knows (Claude Code, Codex, Gemini CLI, Aider)
//! with their messages, tags, annotations, commit links, and summaries (as annotations, lore
//! having no summary of its own). What is not, and why, is counted in [`Report::not_carried`]:
//! sessions of other tools, links to a branch or pull request rather than a commit, content
//! blocks lore has no kind for (images), machine names, repositories, memories. A session lore
//! holds already keeps its messages; only messages it lacks (by role, kind and text) are added,
//! so running the migration twice changes nothing the second time. A session deleted in lore
//! is not brought back.
//!
//! Refuses: a path that is not a SQLite database, or a database that is not varalys's.
//! Spec: docs/migrate.md.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::Value;

use crate::capture::cap_tool_content;
use crate::capture::jsonl::{compact_json, parse_timestamp, tool_use_text};
use crate::db::identity::{self, Foreign, Identity};
use crate::db::{Db, DbError, SaveOutcome, Writer};
use crate::model::{Kind, Link, LinkKind, Message, ParsedSession, Role, SessionInfo, Tool};

/// Why a migration could not run. Nothing was written to lore.db in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{path}: no such file; give the path of varalys's lore.db (default ~/.lore/lore.db)")]
    Missing { path: PathBuf },
    #[error("{path} is not a SQLite database; give the path of varalys's lore.db")]
    NotADatabase { path: PathBuf },
    #[error("{path} is not a varalys/lore database: it is {what}; nothing was read")]
    NotVaralys { path: PathBuf, what: String },
    #[error("{path} is lore's own database; migrate reads a varalys/lore database")]
    IsLore { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading {path}: {source}")]
    Source {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Something of the source that lore did not take, with how many and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotCarried {
    pub what: String,
    pub count: u64,
    pub why: String,
}

/// What a migration did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Sessions of the source that lore did not hold before.
    pub sessions_new: u64,
    /// Sessions lore held already, to which something was added.
    pub sessions_merged: u64,
    /// Sessions lore held already with everything the source has.
    pub sessions_unchanged: u64,
    /// Messages written (lore stores one message per content block).
    pub messages: u64,
    pub tags: u64,
    pub annotations: u64,
    pub summaries: u64,
    pub links: u64,
    pub not_carried: Vec<NotCarried>,
    /// The commit the migration made, `None` when it changed nothing.
    pub commit: Option<String>,
}

/// One varalys session as read, before it is written.
struct Source {
    /// The session and its messages (links apart, so that they are counted as written).
    parsed: ParsedSession,
    links: Vec<Link>,
    machine: Option<String>,
}

/// Checks that `path` is a varalys/lore database lore can read, reading nothing else.
pub fn check(path: &Path) -> Result<(), MigrateError> {
    SourceDb::open(path).map(|_| ())
}

/// Migrates the varalys database at `path` into `store` as one commit labelled
/// `migrate: …`. `machine_id` is used for sessions the source names no machine for.
pub fn migrate(store: &mut Db, path: &Path, machine_id: &str) -> Result<Report, MigrateError> {
    let reader = SourceDb::open(path)?;
    let conn = &reader.conn;
    let src = |e| MigrateError::Source {
        path: path.to_owned(),
        source: e,
    };
    let mut report = Report::default();
    let mut skipped: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut skip = |what: String, why: &str, n: u64| {
        if n > 0 {
            *skipped.entry((what, why.to_owned())).or_default() += n;
        }
    };

    let sessions = read_sessions(conn).map_err(src)?;
    let tags = read_pairs(conn, "tags", "label", None).map_err(src)?;
    let annotations =
        read_pairs(conn, "annotations", "content", Some("created_at")).map_err(src)?;
    let summaries = read_pairs(conn, "summaries", "content", Some("generated_at")).map_err(src)?;
    let links = read_links(conn).map_err(src)?;

    let mut prepared: Vec<Source> = Vec::new();
    for row in sessions {
        let Some(tool) = tool_of(&row.tool) else {
            skip(
                format!("sessions of {}", row.tool),
                "lore imports Claude Code, Codex, Gemini CLI and Aider only",
                1,
            );
            continue;
        };
        let mut info = SessionInfo::new(row.id.clone(), tool);
        info.tool_version = row.tool_version;
        info.model = row.model;
        info.started_at = row.started_at.as_deref().and_then(parse_timestamp);
        info.ended_at = row.ended_at.as_deref().and_then(parse_timestamp);
        info.cwd = row.cwd.filter(|c| !c.is_empty());
        info.git_branch = row.git_branch.filter(|b| !b.is_empty());
        let mut messages = Vec::new();
        let mut unknown_blocks: BTreeMap<String, u64> = BTreeMap::new();
        for m in read_messages(conn, &row.id).map_err(src)? {
            convert(&m, &mut messages, &mut unknown_blocks);
        }
        for (kind, n) in unknown_blocks {
            skip(
                format!("message blocks of type {kind}"),
                "lore has no kind of message for them",
                n,
            );
        }
        info.updated_at = messages
            .iter()
            .filter_map(|m| m.timestamp)
            .max()
            .or(info.ended_at)
            .or(info.started_at);
        info.message_count = crate::model::count_turns(&messages);
        let mut session_links = Vec::new();
        for l in links.get(&row.id).into_iter().flatten() {
            match &l.commit {
                Some(c) if is_commit_id(c) => session_links.push(Link {
                    commit: c.clone(),
                    kind: if l.by_user {
                        LinkKind::Explicit
                    } else {
                        LinkKind::Auto
                    },
                    confidence: l.confidence.unwrap_or(1.0).clamp(0.0, 1.0),
                }),
                _ => skip(
                    format!("{} links", l.link_type),
                    "lore links sessions to commits only",
                    1,
                ),
            }
        }
        prepared.push(Source {
            parsed: ParsedSession {
                info,
                messages,
                links: Vec::new(),
            },
            links: session_links,
            machine: row.machine.filter(|m| !m.is_empty()),
        });
    }
    // Child rows whose session is not carried.
    let carried: std::collections::HashSet<&str> =
        prepared.iter().map(|s| s.parsed.info.id.as_str()).collect();
    for (name, map) in [
        ("tags", &tags),
        ("annotations", &annotations),
        ("summaries", &summaries),
    ] {
        let orphans: u64 = map
            .iter()
            .filter(|(id, _)| !carried.contains(id.as_str()))
            .map(|(_, v)| v.len() as u64)
            .sum();
        skip(
            format!("{name} of sessions not carried"),
            "their session is not in lore",
            orphans,
        );
    }
    for (table, why) in [
        (
            "machines",
            "lore keeps each session's machine id, not machine names",
        ),
        (
            "repositories",
            "lore finds a session's repository from its folder",
        ),
        ("memories", "lore has no memories"),
    ] {
        let n = count_rows(conn, table).map_err(src)?;
        skip(format!("{table} rows"), why, n);
    }

    let label = format!(
        "migrate: {} sessions from varalys/lore {}",
        prepared.len(),
        path.display()
    );
    let mut tombstoned = 0u64;
    store.write(&label, |w| -> Result<(), MigrateError> {
        for s in &prepared {
            let id = s.parsed.info.id.clone();
            let machine = s.machine.as_deref().unwrap_or(machine_id);
            let (outcome, added) = save(w, &s.parsed, machine)?;
            if outcome == SaveOutcome::Tombstoned {
                tombstoned += 1;
                continue;
            }
            report.messages += added;
            let mut changed = outcome != SaveOutcome::Unchanged;
            for tag in tags.get(&id).into_iter().flatten() {
                if w.add_tag(&id, &tag.0)? {
                    report.tags += 1;
                    changed = true;
                }
            }
            for (body, at) in annotations.get(&id).into_iter().flatten() {
                if w.add_annotation(&id, body, *at)? {
                    report.annotations += 1;
                    changed = true;
                }
            }
            for (body, at) in summaries.get(&id).into_iter().flatten() {
                let body = format!("Summary (from varalys/lore): {body}");
                if w.add_annotation(&id, &body, *at)? {
                    report.summaries += 1;
                    changed = true;
                }
            }
            let links = w.add_links(&id, &s.links)?;
            report.links += links as u64;
            changed |= links > 0;
            match outcome {
                SaveOutcome::Inserted => report.sessions_new += 1,
                _ if changed => report.sessions_merged += 1,
                _ => report.sessions_unchanged += 1,
            }
        }
        Ok(())
    })?;
    skip(
        "sessions deleted in lore".into(),
        "a deleted session is not brought back",
        tombstoned,
    );
    report.not_carried = skipped
        .into_iter()
        .map(|((what, why), count)| NotCarried { what, count, why })
        .collect();
    report.commit = store.last_commit().map(str::to_owned);
    Ok(report)
}

/// Writes one session: inserted whole when new; otherwise only the messages lore lacks are
/// added. Returns the outcome and how many messages were written.
fn save(
    w: &mut Writer<'_>,
    parsed: &ParsedSession,
    machine: &str,
) -> Result<(SaveOutcome, u64), DbError> {
    let id = &parsed.info.id;
    let existing: Option<Vec<(String, String, String)>> = if w.session_machine(id)?.is_some() {
        let mut stmt = w
            .conn()
            .prepare_cached("SELECT role, kind, content FROM messages WHERE session_id = ?1")?;
        let rows = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Some(rows)
    } else {
        None
    };
    let Some(existing) = existing else {
        // A new session: stored without message identities, so that a later import of the
        // same transcript matches these messages by their content (docs/migrate.md).
        let outcome = w.save_session(parsed, machine, None)?;
        let n = if outcome == SaveOutcome::Inserted {
            parsed.messages.len() as u64
        } else {
            0
        };
        return Ok((outcome, n));
    };
    let mut have: HashMap<(String, String, String), u32> = HashMap::new();
    for k in existing {
        *have.entry(k).or_default() += 1;
    }
    let mut missing = Vec::new();
    for m in &parsed.messages {
        let k = (
            m.role.as_str().to_owned(),
            m.kind.as_str().to_owned(),
            m.content.clone(),
        );
        match have.get_mut(&k) {
            Some(n) if *n > 0 => *n -= 1,
            _ => missing.push(m.clone()),
        }
    }
    if missing.is_empty() {
        return Ok((SaveOutcome::Unchanged, 0));
    }
    let n = missing.len() as u64;
    let mut copy = parsed.clone();
    copy.info.message_count = crate::model::count_turns(&missing);
    // Never the primary copy: lore's own reading keeps the session's metadata and source.
    copy.info.updated_at = None;
    copy.messages = missing;
    let fake_path = format!("varalys:{id}");
    let outcome = w.merge_session(
        &crate::db::Copy {
            parsed: &copy,
            keys: &[],
            path: &fake_path,
            fingerprint: "varalys",
        },
        machine,
    )?;
    Ok((outcome, n))
}

/// The source database, open for reading only.
struct SourceDb {
    conn: Connection,
    /// A private copy read instead of the source (removed on drop).
    _copy: Option<TempDir>,
}

impl SourceDb {
    fn open(path: &Path) -> Result<SourceDb, MigrateError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => MigrateError::Missing {
                path: path.to_owned(),
            },
            _ => MigrateError::Io {
                path: path.to_owned(),
                source: e,
            },
        })?;
        if !meta.is_file() {
            return Err(MigrateError::Missing {
                path: path.to_owned(),
            });
        }
        let side = |ext: &str| {
            let mut p = path.as_os_str().to_owned();
            p.push(ext);
            PathBuf::from(p)
        };
        let pending = ["-wal", "-journal"]
            .iter()
            .any(|e| std::fs::metadata(side(e)).is_ok_and(|m| m.len() > 0));
        let io = |e| MigrateError::Io {
            path: path.to_owned(),
            source: e,
        };
        let (conn, copy) = if pending {
            // Changes not yet in the main file: read a private copy, which SQLite may recover
            // as it likes, rather than let it touch the source's log.
            let dir = TempDir::new().map_err(io)?;
            let target = dir.0.join("source.db");
            std::fs::copy(path, &target).map_err(io)?;
            for ext in ["-wal", "-journal"] {
                if side(ext).is_file() {
                    let mut t = target.as_os_str().to_owned();
                    t.push(ext);
                    std::fs::copy(side(ext), PathBuf::from(t)).map_err(io)?;
                }
            }
            let conn = Connection::open_with_flags(
                &target,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            );
            (conn, Some(dir))
        } else {
            let uri = format!("file:{}?mode=ro&immutable=1", uri_path(path));
            let conn = Connection::open_with_flags(
                uri,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            );
            (conn, None)
        };
        let not_db = |_| MigrateError::NotADatabase {
            path: path.to_owned(),
        };
        let conn = conn.map_err(not_db)?;
        let found = identity::identify(&conn).map_err(not_db)?;
        match found {
            Identity::Foreign(Foreign::Varalys) => Ok(SourceDb { conn, _copy: copy }),
            Identity::Lore | Identity::LoreUnmarked => Err(MigrateError::IsLore {
                path: path.to_owned(),
            }),
            Identity::New => Err(MigrateError::NotVaralys {
                path: path.to_owned(),
                what: "an empty database".into(),
            }),
            Identity::Foreign(other) => Err(MigrateError::NotVaralys {
                path: path.to_owned(),
                what: other.describe(),
            }),
        }
    }
}

/// A folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let p = std::env::temp_dir().join(format!("lore-migrate-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&p)?;
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A path written for an SQLite `file:` URI (`?`, `#` and `%` escaped).
fn uri_path(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut out = String::new();
    for c in abs.to_string_lossy().chars() {
        match c {
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

struct SessionRow {
    id: String,
    tool: String,
    tool_version: Option<String>,
    started_at: Option<String>,
    ended_at: Option<String>,
    model: Option<String>,
    cwd: Option<String>,
    git_branch: Option<String>,
    machine: Option<String>,
}

fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    stmt.query_map([table], |r| r.get(0))?.collect()
}

/// A column's expression, or NULL when this version of varalys's schema lacks it.
fn col(cols: &[String], name: &str) -> String {
    if cols.iter().any(|c| c == name) {
        format!("\"{name}\"")
    } else {
        "NULL".into()
    }
}

fn read_sessions(conn: &Connection) -> rusqlite::Result<Vec<SessionRow>> {
    let c = columns(conn, "sessions")?;
    let sql = format!(
        "SELECT CAST(id AS TEXT), CAST(tool AS TEXT), {}, {}, {}, {}, {}, {}, {} FROM sessions
         ORDER BY started_at, id",
        col(&c, "tool_version"),
        col(&c, "started_at"),
        col(&c, "ended_at"),
        col(&c, "model"),
        col(&c, "working_directory"),
        col(&c, "git_branch"),
        col(&c, "machine_id"),
    );
    let mut stmt = conn.prepare(&sql)?;
    stmt.query_map([], |r| {
        Ok(SessionRow {
            id: r.get(0)?,
            tool: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            tool_version: r.get(2)?,
            started_at: r.get(3)?,
            ended_at: r.get(4)?,
            model: r.get(5)?,
            cwd: r.get(6)?,
            git_branch: r.get(7)?,
            machine: r.get(8)?,
        })
    })?
    .collect()
}

struct MessageRow {
    role: String,
    timestamp: Option<String>,
    content: String,
}

fn read_messages(conn: &Connection, session: &str) -> rusqlite::Result<Vec<MessageRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT CAST(role AS TEXT), CAST(timestamp AS TEXT), CAST(content AS TEXT) FROM messages
         WHERE session_id = ?1 ORDER BY idx, timestamp",
    )?;
    stmt.query_map([session], |r| {
        Ok(MessageRow {
            role: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            timestamp: r.get(1)?,
            content: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        })
    })?
    .collect()
}

/// Rows of a child table by session: (text, time in ms).
fn read_pairs(
    conn: &Connection,
    table: &str,
    text: &str,
    time: Option<&str>,
) -> rusqlite::Result<HashMap<String, Vec<(String, i64)>>> {
    let c = columns(conn, table)?;
    let mut out: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    if !c.iter().any(|n| n == text) || !c.iter().any(|n| n == "session_id") {
        return Ok(out);
    }
    let t = time.map_or_else(|| "NULL".to_owned(), |t| col(&c, t));
    let sql = format!(
        "SELECT CAST(session_id AS TEXT), CAST(\"{text}\" AS TEXT), CAST({t} AS TEXT)
         FROM \"{table}\" ORDER BY rowid"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    for row in rows {
        let (Some(session), Some(body), at) = row? else {
            continue;
        };
        let at = at.as_deref().and_then(parse_timestamp).unwrap_or(0);
        out.entry(session).or_default().push((body, at));
    }
    Ok(out)
}

struct LinkRow {
    link_type: String,
    commit: Option<String>,
    by_user: bool,
    confidence: Option<f64>,
}

fn read_links(conn: &Connection) -> rusqlite::Result<HashMap<String, Vec<LinkRow>>> {
    let c = columns(conn, "session_links")?;
    let mut out: HashMap<String, Vec<LinkRow>> = HashMap::new();
    if !c.iter().any(|n| n == "session_id") {
        return Ok(out);
    }
    let sql = format!(
        "SELECT CAST(session_id AS TEXT), CAST({} AS TEXT), CAST({} AS TEXT), CAST({} AS TEXT), {}
         FROM session_links ORDER BY rowid",
        col(&c, "link_type"),
        col(&c, "commit_sha"),
        col(&c, "created_by"),
        col(&c, "confidence"),
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?,
            LinkRow {
                link_type: r
                    .get::<_, Option<String>>(1)?
                    .unwrap_or_else(|| "commit".into()),
                commit: r.get(2)?,
                by_user: r.get::<_, Option<String>>(3)?.as_deref() == Some("user"),
                confidence: r.get::<_, Option<f64>>(4).ok().flatten(),
            },
        ))
    })?;
    for row in rows {
        let (session, link) = row?;
        if let Some(session) = session {
            out.entry(session).or_default().push(link);
        }
    }
    Ok(out)
}

fn count_rows(conn: &Connection, table: &str) -> rusqlite::Result<u64> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(0);
    }
    let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
        r.get(0)
    })?;
    Ok(n.max(0) as u64)
}

/// lore's tool for varalys's tool name, if lore imports that tool.
fn tool_of(name: &str) -> Option<Tool> {
    let n = name.trim().to_ascii_lowercase().replace([' ', '_'], "-");
    n.parse().ok()
}

fn is_commit_id(s: &str) -> bool {
    (4..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One varalys message as lore's messages: one per content block.
fn convert(m: &MessageRow, out: &mut Vec<Message>, unknown: &mut BTreeMap<String, u64>) {
    let ts = m.timestamp.as_deref().and_then(parse_timestamp);
    let role = match m.role.as_str() {
        "assistant" => Role::Assistant,
        "system" => Role::System,
        _ => Role::User,
    };
    let content = match serde_json::from_str::<Value>(&m.content) {
        Ok(v @ (Value::String(_) | Value::Array(_))) => v,
        // varalys reads content that is not its JSON as plain text; so does lore.
        _ => Value::String(m.content.clone()),
    };
    let blocks = match content {
        Value::String(s) => vec![serde_json::json!({"type": "text", "text": s})],
        Value::Array(b) => b,
        _ => Vec::new(),
    };
    for block in blocks {
        let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
        let text_of = |k: &str| {
            block
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
        };
        let msg = match kind {
            "text" => text_of("text").map(|t| Message::new(role, Kind::Text, t, ts)),
            "thinking" => {
                text_of("thinking").map(|t| Message::new(Role::Assistant, Kind::Thinking, t, ts))
            }
            "tool_use" => {
                let name = text_of("name").unwrap_or_else(|| "tool".into());
                let input = block.get("input").map(compact_json).unwrap_or_default();
                let text = cap_tool_content(tool_use_text(&name, &input));
                Some(Message::new(Role::Assistant, Kind::ToolUse, text, ts).with_tool(name))
            }
            "tool_result" => {
                let text = match block.get("content") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Array(parts)) => parts
                        .iter()
                        .filter_map(|p| p.get("text").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => compact_json(other),
                };
                Some(Message::new(
                    Role::Tool,
                    Kind::ToolResult,
                    cap_tool_content(text),
                    ts,
                ))
            }
            other => {
                *unknown
                    .entry(if other.is_empty() { "(none)" } else { other }.to_owned())
                    .or_default() += 1;
                None
            }
        };
        out.extend(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_blocks_become_lore_messages() {
        let m = MessageRow {
            role: "assistant".into(),
            timestamp: Some("2026-01-02T03:04:05Z".into()),
            content: r#"[{"type":"thinking","thinking":"hmm"},{"type":"text","text":"done"},
                {"type":"tool_use","id":"t1","name":"Edit","input":{"old_string":"a","new_string":"b"}},
                {"type":"image","source":{}}]"#
                .into(),
        };
        let mut out = Vec::new();
        let mut unknown = BTreeMap::new();
        convert(&m, &mut out, &mut unknown);
        let kinds: Vec<Kind> = out.iter().map(|m| m.kind).collect();
        assert_eq!(kinds, vec![Kind::Thinking, Kind::Text, Kind::ToolUse]);
        assert_eq!(out[2].tool_name.as_deref(), Some("Edit"));
        assert!(out[2].content.starts_with("Edit: {"), "{}", out[2].content);
        assert_eq!(unknown.get("image"), Some(&1));
        assert_eq!(out[0].timestamp, Some(1_767_323_045_000));
        // A plain string and text that is not JSON are both text.
        let plain = MessageRow {
            role: "user".into(),
            timestamp: None,
            content: "\"hello\"".into(),
        };
        let raw = MessageRow {
            role: "user".into(),
            timestamp: None,
            content: "not json".into(),
        };
        let mut out = Vec::new();
        convert(&plain, &mut out, &mut unknown);
        convert(&raw, &mut out, &mut unknown);
        assert_eq!(out[0].content, "hello");
        assert_eq!(out[1].content, "not json");
        assert_eq!(crate::model::count_turns(&out), 2);
    }

    #[test]
    fn tool_names_are_read_leniently() {
        assert_eq!(tool_of("claude-code"), Some(Tool::ClaudeCode));
        assert_eq!(tool_of("Claude Code"), Some(Tool::ClaudeCode));
        assert_eq!(tool_of("gemini"), Some(Tool::Gemini));
        assert_eq!(tool_of("amp"), Some(Tool::Amp));
        assert_eq!(tool_of("windsurf"), None);
    }
}
