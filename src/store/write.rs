//! The only code that changes `lore.db`. A [`Writer`] lives inside one transaction opened by
//! [`super::Store::write`].

use rusqlite::{OptionalExtension, Transaction, params};

use super::StoreError;
use crate::model::{Link, Message, ParsedSession};

/// What saving a session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveOutcome {
    /// The session was new.
    Inserted,
    /// The session existed and changed.
    Updated,
    /// The session existed and nothing in it differed.
    Unchanged,
    /// The session was deleted with `lore delete`; it stays deleted.
    Tombstoned,
}

/// A transcript file as import last saw it.
#[derive(Debug, Clone)]
pub struct SourceRecord<'a> {
    pub path: &'a str,
    pub fingerprint: &'a str,
    pub tool: Option<&'a str>,
    /// `imported`, `empty`, `not-a-transcript`, `error`.
    pub outcome: &'a str,
    pub checked_at: i64,
}

/// Writes to the store inside one transaction. Dropped without commit, it writes nothing.
pub struct Writer<'a> {
    tx: &'a Transaction<'a>,
    message: String,
}

impl<'a> Writer<'a> {
    pub(super) fn new(tx: &'a Transaction<'a>, message: &str) -> Self {
        Writer {
            tx,
            message: message.to_owned(),
        }
    }

    /// What this change is: as given to [`super::Store::write`], or as last set.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Replaces the description of this change, for writers that only know at the end what
    /// they did (`import: 12 sessions from codex`).
    pub fn set_message(&mut self, message: impl Into<String>) {
        self.message = message.into();
    }

    /// Inserts or updates a session with its messages and links.
    ///
    /// Only what differs is written: a grown transcript appends its new messages, and an
    /// unchanged one writes nothing. `updated_at` never moves backwards. A session with a
    /// tombstone is not brought back.
    pub fn save_session(
        &mut self,
        parsed: &ParsedSession,
        machine_id: &str,
        source: Option<(&str, &str)>,
    ) -> Result<SaveOutcome, StoreError> {
        let s = &parsed.info;
        let tombstoned: bool = self
            .tx
            .prepare_cached("SELECT 1 FROM tombstones WHERE session_id = ?1")?
            .exists([&s.id])?;
        if tombstoned {
            return Ok(SaveOutcome::Tombstoned);
        }
        let (source_path, fingerprint) = source.unzip();
        let existing: Option<Option<i64>> = self
            .tx
            .prepare_cached("SELECT updated_at FROM sessions WHERE id = ?1")?
            .query_row([&s.id], |r| r.get(0))
            .optional()?;

        let Some(old_updated) = existing else {
            self.tx
                .prepare_cached(
                    "INSERT INTO sessions (id, tool, tool_version, model, title, started_at,
                        updated_at, ended_at, cwd, git_branch, machine_id, message_count,
                        source_path, source_fingerprint, parent_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )?
                .execute(params![
                    s.id,
                    s.tool.as_str(),
                    s.tool_version,
                    s.model,
                    s.title,
                    s.started_at,
                    s.updated_at,
                    s.ended_at,
                    s.cwd,
                    s.git_branch,
                    machine_id,
                    s.message_count,
                    source_path,
                    fingerprint,
                    s.parent_id,
                ])?;
            let mut insert = self.tx.prepare_cached(
                "INSERT INTO messages (session_id, ordinal, role, kind, content, timestamp, tool_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for (ordinal, m) in parsed.messages.iter().enumerate() {
                insert.execute(params![
                    s.id,
                    ordinal as i64,
                    m.role.as_str(),
                    m.kind.as_str(),
                    m.content,
                    m.timestamp,
                    m.tool_name,
                ])?;
            }
            self.add_links(&s.id, &parsed.links)?;
            return Ok(SaveOutcome::Inserted);
        };

        let updated_at = match (old_updated, s.updated_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let row_changed = self
            .tx
            .prepare_cached(
                "UPDATE sessions SET tool_version = ?2, model = ?3, title = ?4, started_at = ?5,
                    updated_at = ?6, ended_at = ?7, cwd = ?8, git_branch = ?9, message_count = ?10,
                    parent_id = ?11
                 WHERE id = ?1 AND NOT (tool_version IS ?2 AND model IS ?3 AND title IS ?4
                    AND started_at IS ?5 AND updated_at IS ?6 AND ended_at IS ?7 AND cwd IS ?8
                    AND git_branch IS ?9 AND message_count IS ?10 AND parent_id IS ?11)",
            )?
            .execute(params![
                s.id,
                s.tool_version,
                s.model,
                s.title,
                s.started_at,
                updated_at,
                s.ended_at,
                s.cwd,
                s.git_branch,
                s.message_count,
                s.parent_id,
            ])?
            > 0;
        // Where the session was read from is bookkeeping: kept current, but not a change.
        if let (Some(path), Some(fp)) = (source_path, fingerprint) {
            self.tx
                .prepare_cached(
                    "UPDATE sessions SET source_path = ?2, source_fingerprint = ?3
                     WHERE id = ?1 AND NOT (source_path IS ?2 AND source_fingerprint IS ?3)",
                )?
                .execute(params![s.id, path, fp])?;
        }
        let messages_changed = self.sync_messages(&s.id, &parsed.messages)?;
        let links_added = self.add_links(&s.id, &parsed.links)?;
        Ok(if row_changed || messages_changed || links_added > 0 {
            SaveOutcome::Updated
        } else {
            SaveOutcome::Unchanged
        })
    }

    /// Makes the stored messages of `id` equal to `messages`, touching only rows that differ.
    fn sync_messages(&mut self, id: &str, messages: &[Message]) -> Result<bool, StoreError> {
        let mut changed = false;
        let mut stored = self.tx.prepare_cached(
            "SELECT ordinal, role, kind, content, timestamp, tool_name FROM messages
             WHERE session_id = ?1 ORDER BY ordinal",
        )?;
        let mut update = self.tx.prepare_cached(
            "UPDATE messages SET role = ?3, kind = ?4, content = ?5, timestamp = ?6, tool_name = ?7
             WHERE session_id = ?1 AND ordinal = ?2",
        )?;
        let mut rows = stored.query([id])?;
        let mut seen = 0usize;
        while let Some(row) = rows.next()? {
            let ordinal: i64 = row.get(0)?;
            let Some(new) = messages.get(ordinal as usize) else {
                break;
            };
            seen = ordinal as usize + 1;
            let text = |i| -> rusqlite::Result<String> { row.get::<_, String>(i) };
            let same = text(1)? == new.role.as_str()
                && text(2)? == new.kind.as_str()
                && text(3)? == new.content
                && row.get::<_, Option<i64>>(4)? == new.timestamp
                && row.get::<_, Option<String>>(5)? == new.tool_name;
            if !same {
                update.execute(params![
                    id,
                    ordinal,
                    new.role.as_str(),
                    new.kind.as_str(),
                    new.content,
                    new.timestamp,
                    new.tool_name,
                ])?;
                changed = true;
            }
        }
        drop(rows);
        let removed = self
            .tx
            .prepare_cached("DELETE FROM messages WHERE session_id = ?1 AND ordinal >= ?2")?
            .execute(params![id, messages.len() as i64])?;
        changed |= removed > 0;
        let mut insert = self.tx.prepare_cached(
            "INSERT INTO messages (session_id, ordinal, role, kind, content, timestamp, tool_name)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (ordinal, m) in messages.iter().enumerate().skip(seen) {
            insert.execute(params![
                id,
                ordinal as i64,
                m.role.as_str(),
                m.kind.as_str(),
                m.content,
                m.timestamp,
                m.tool_name,
            ])?;
            changed = true;
        }
        Ok(changed)
    }

    /// Adds links that are not there yet; returns how many were new.
    pub fn add_links(&mut self, session_id: &str, links: &[Link]) -> Result<usize, StoreError> {
        let mut added = 0;
        let mut insert = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO links (session_id, commit_id, kind, confidence, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for l in links {
            added += insert.execute(params![
                session_id,
                l.commit,
                l.kind.as_str(),
                l.confidence,
                now_ms()
            ])?;
        }
        Ok(added)
    }

    /// Deletes a session with everything attached to it and leaves a tombstone, so import does
    /// not bring it back. Returns false when there was no such session.
    pub fn delete_session(&mut self, id: &str, deleted_at: i64) -> Result<bool, StoreError> {
        let n = self
            .tx
            .prepare_cached("DELETE FROM sessions WHERE id = ?1")?
            .execute([id])?;
        if n == 0 {
            return Ok(false);
        }
        self.tx
            .prepare_cached(
                "INSERT INTO tombstones (session_id, deleted_at) VALUES (?1, ?2)
                 ON CONFLICT (session_id) DO UPDATE SET deleted_at = excluded.deleted_at",
            )?
            .execute(params![id, deleted_at])?;
        Ok(true)
    }

    /// Remembers how a transcript file looked when import last read it.
    pub fn record_source(&mut self, rec: &SourceRecord<'_>) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO sources (path, fingerprint, tool, outcome, checked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (path) DO UPDATE SET fingerprint = excluded.fingerprint,
                    tool = excluded.tool, outcome = excluded.outcome, checked_at = excluded.checked_at",
            )?
            .execute(params![
                rec.path,
                rec.fingerprint,
                rec.tool,
                rec.outcome,
                rec.checked_at
            ])?;
        Ok(())
    }
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
