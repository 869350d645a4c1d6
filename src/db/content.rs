//! The content index in lore.db: for each message that wrote code, the hashes of the lines it
//! wrote (`_lore_content_lines`), so that blame and `lore link --auto` find the sessions that
//! wrote a line by its content, whatever commit carries it now.
//!
//! Triggers of schema 008 queue every inserted message that may write
//! (`_lore_content_pending`) and drop the rows of a deleted one; this module hashes the queue
//! ([`crate::content::message_hashes`]) at the end of each [`super::Db::write`] and when a
//! writable store is opened, so import, sync, delete and revert all keep it right. A queue
//! left (a read-only store, or another lore writing at the time) is hashed in memory when
//! asked. It
//! refuses nothing: a message that writes nothing gets no rows.
//!
//! Spec: docs/links.md, "The content index".

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use crate::model::{Kind, Role};

use super::{Db, DbError};

/// How many queued messages are hashed per round.
const BATCH: i64 = 512;

/// A message whose writing produced one of the lines looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentMatch {
    /// The line's hash ([`crate::content::line_hash`]).
    pub hash: i64,
    pub session_id: String,
    /// The message's position in its session, from 0.
    pub ordinal: i64,
}

/// Whether messages are waiting to be hashed.
pub(crate) fn has_pending(conn: &Connection) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM _lore_content_pending LIMIT 1")?
        .query_row([], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
}

type Queued = (i64, Option<(String, String, Option<String>, String)>);

/// The next queued messages: id, and role, kind, tool name, content (`None`: gone).
fn next_batch(conn: &Connection, after: i64) -> rusqlite::Result<Vec<Queued>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.message_id, m.role, m.kind, m.tool_name, m.content
           FROM _lore_content_pending p LEFT JOIN messages m ON m.id = p.message_id
          WHERE p.message_id > ?1 ORDER BY p.message_id LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![after, BATCH], |r| {
        let id: i64 = r.get(0)?;
        let role: Option<String> = r.get(1)?;
        Ok((
            id,
            match role {
                Some(role) => Some((role, r.get(2)?, r.get(3)?, r.get(4)?)),
                None => None,
            },
        ))
    })?;
    rows.collect()
}

fn hashes_of(role: &str, kind: &str, tool: Option<&str>, content: &str) -> Vec<i64> {
    let role: Role = role.parse().unwrap_or(Role::System);
    let kind: Kind = kind.parse().unwrap_or(Kind::Text);
    crate::content::message_hashes(role, kind, tool, content)
}

/// Hashes every queued message into `_lore_content_lines` and empties the queue; the caller
/// holds the transaction. Returns how many messages were hashed.
pub(crate) fn drain(conn: &Connection) -> rusqlite::Result<usize> {
    let mut done = 0;
    let mut after = i64::MIN;
    loop {
        let batch = next_batch(conn, after)?;
        let Some(last) = batch.last() else { break };
        after = last.0;
        let mut insert = conn.prepare_cached(
            "INSERT OR IGNORE INTO _lore_content_lines(hash, message_id) VALUES (?1, ?2)",
        )?;
        let mut forget =
            conn.prepare_cached("DELETE FROM _lore_content_pending WHERE message_id = ?1")?;
        for (id, message) in &batch {
            if let Some((role, kind, tool, content)) = message {
                for h in hashes_of(role, kind, tool.as_deref(), content) {
                    insert.execute(rusqlite::params![h, id])?;
                }
                done += 1;
            }
            forget.execute([id])?;
        }
    }
    Ok(done)
}

impl Db {
    /// The messages whose writing produced any of the lines hashed as `hashes`
    /// ([`crate::content::line_hash`]), with their session, in no particular order.
    pub fn content_matches(&self, hashes: &[i64]) -> Result<Vec<ContentMatch>, DbError> {
        let conn = self.conn();
        let mut out = Vec::new();
        let mut stmt = conn.prepare_cached(
            "SELECT m.session_id, m.ordinal FROM _lore_content_lines c
               JOIN messages m ON m.id = c.message_id
              WHERE c.hash = ?1",
        )?;
        for &h in hashes {
            let rows = stmt.query_map([h], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            for row in rows {
                let (session_id, ordinal) = row?;
                out.push(ContentMatch {
                    hash: h,
                    session_id,
                    ordinal,
                });
            }
        }
        // Messages not hashed yet (a read-only home after a revert, or another lore writing
        // when this one opened): hashed here, for this answer only.
        if has_pending(conn)? {
            let wanted: HashMap<i64, ()> = hashes.iter().map(|h| (*h, ())).collect();
            let mut stmt = conn.prepare_cached(
                "SELECT m.session_id, m.ordinal, m.role, m.kind, m.tool_name, m.content
                   FROM _lore_content_pending p JOIN messages m ON m.id = p.message_id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let (role, kind, tool, content): (String, String, Option<String>, String) =
                    (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
                for h in hashes_of(&role, &kind, tool.as_deref(), &content) {
                    if wanted.contains_key(&h) {
                        out.push(ContentMatch {
                            hash: h,
                            session_id: r.get(0)?,
                            ordinal: r.get(1)?,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// The size of the content index: rows, and bytes of its table and index pages (from
    /// SQLite's `dbstat` when it is compiled in, else `None`).
    pub fn content_index_size(&self) -> Result<(i64, Option<i64>), DbError> {
        let conn = self.conn();
        let rows: i64 =
            conn.query_row("SELECT count(*) FROM _lore_content_lines", [], |r| r.get(0))?;
        let bytes: Option<i64> = conn
            .query_row(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE '\\_lore\\_content\\_%' ESCAPE '\\'",
                [],
                |r| r.get(0),
            )
            .ok();
        Ok((rows, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Message, ParsedSession, SessionInfo, Tool};

    fn session(id: &str, calls: &[&str]) -> ParsedSession {
        let mut messages = vec![Message::new(Role::User, Kind::Text, "write it", Some(0))];
        for (i, c) in calls.iter().enumerate() {
            let mut m = Message::new(
                Role::Assistant,
                Kind::ToolUse,
                format!("Write: {c}"),
                Some(i as i64 + 1),
            );
            m.tool_name = Some("Write".into());
            messages.push(m);
        }
        ParsedSession {
            info: SessionInfo::new(id, Tool::ClaudeCode),
            messages,
            links: Vec::new(),
        }
    }

    #[test]
    fn writes_index_lines_and_deletes_take_them_back() {
        let d = tempfile::tempdir().unwrap();
        let mut s = Db::open(&d.path().join("lore.db")).unwrap();
        let h = crate::content::line_hash("fn indexed_line() -> u32 {");
        let call = r#"{"file_path":"a.rs","content":"fn indexed_line() -> u32 {\n}"}"#;
        s.write("t", |w| w.save_session(&session("s1", &[call]), "m", None))
            .unwrap();
        let found = s.content_matches(&[h]).unwrap();
        assert_eq!(
            found,
            vec![ContentMatch {
                hash: h,
                session_id: "s1".into(),
                ordinal: 1
            }]
        );
        assert!(!has_pending(s.conn()).unwrap());
        // A short line (`}`) is not indexed.
        let short = crate::content::line_hash("}");
        assert!(s.content_matches(&[short]).unwrap().is_empty());
        s.write("t", |w| w.delete_session("s1", 1, false)).unwrap();
        assert!(s.content_matches(&[h]).unwrap().is_empty());
        let rows: i64 = s
            .conn()
            .query_row("SELECT count(*) FROM _lore_content_lines", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0);
        let report = crate::versioning::log::verify(s.conn(), true).unwrap();
        assert!(report.ok());
    }

    #[test]
    fn a_queue_left_is_hashed_when_opened_or_in_memory_when_read_only() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("lore.db");
        let h = crate::content::line_hash("let backfilled = true;");
        {
            let mut s = Db::open(&path).unwrap();
            let call = r#"{"file_path":"b.rs","content":"let backfilled = true;"}"#;
            s.write("t", |w| w.save_session(&session("s1", &[call]), "m", None))
                .unwrap();
            // As the migration leaves it: everything queued, nothing hashed.
            s.conn()
                .execute_batch(
                    "DELETE FROM _lore_content_lines;
                     INSERT INTO _lore_content_pending SELECT id FROM messages;",
                )
                .unwrap();
        }
        let count = |s: &Db| -> i64 {
            s.conn()
                .query_row("SELECT count(*) FROM _lore_content_lines", [], |r| r.get(0))
                .unwrap()
        };
        {
            let ro = Db::open_read_only(&path).unwrap();
            assert_eq!(count(&ro), 0);
            let found = ro.content_matches(&[h]).unwrap();
            assert_eq!(found.len(), 1, "hashed in memory");
            assert_eq!(found[0].session_id, "s1");
        }
        let s = Db::open(&path).unwrap();
        assert_eq!(count(&s), 1);
        assert!(!has_pending(s.conn()).unwrap());
        assert_eq!(s.content_matches(&[h]).unwrap().len(), 1);
        let (rows, _) = s.content_index_size().unwrap();
        assert_eq!(rows, 1);
    }
}
