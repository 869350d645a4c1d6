//! The only code that changes `lore.db`. A [`Writer`] lives inside one transaction opened by
//! [`super::Db::write`], and makes every change through the versioning engine's [`Tx`]: each
//! `write` becomes one commit that `lore history` lists and `lore revert` undoes.
//!
//! Two ways to save a session: [`Writer::merge_session`] (import) keeps the union of what every
//! copy of a transcript held, matched by each message's identity, and never shrinks a session
//! (docs/importers.md, "Merge, never replace"); [`Writer::save_session`] (sync) makes the stored
//! session equal to a record that won as a whole.

use rusqlite::{OptionalExtension, params};

use super::DbError;
use crate::model::{Link, LinkKind, Message, ParsedSession};
use crate::versioning::value::{Row, Value};
use crate::versioning::{Tx, now_ms};

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
    /// `imported`, `empty`, `not-a-transcript`.
    pub outcome: &'a str,
    pub checked_at: i64,
}

/// Writes to the store inside one transaction. Dropped without commit, it writes nothing.
pub struct Writer<'a> {
    pub(super) tx: Tx<'a>,
    message: String,
}

pub(super) fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

pub(super) fn opt_text(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::Text(s.clone()))
}

pub(super) fn opt_int(i: Option<i64>) -> Value {
    i.map_or(Value::Null, Value::Integer)
}

pub(super) fn row(pairs: &[(&str, Value)]) -> Row {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

pub(super) fn message_row(session: &str, ordinal: usize, m: &Message) -> Row {
    row(&[
        ("session_id", text(session)),
        ("ordinal", Value::Integer(ordinal as i64)),
        ("role", text(m.role.as_str())),
        ("kind", text(m.kind.as_str())),
        ("content", text(&m.content)),
        ("timestamp", opt_int(m.timestamp)),
        ("tool_name", opt_text(&m.tool_name)),
    ])
}

impl<'a> Writer<'a> {
    pub(super) fn new(tx: Tx<'a>, message: &str) -> Self {
        Writer {
            tx,
            message: message.to_owned(),
        }
    }

    pub(super) fn finish(self) -> (Tx<'a>, String) {
        (self.tx, self.message)
    }

    /// What this change is: as given to [`super::Db::write`], or as last set.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Replaces the description of this change, for writers that only know at the end what
    /// they did (`import: 12 sessions from codex`).
    pub fn set_message(&mut self, message: impl Into<String>) {
        self.message = message.into();
    }

    /// The connection, for reads inside this transaction.
    pub(crate) fn conn(&self) -> &'a rusqlite::Connection {
        self.tx.conn()
    }

    /// The machine session `id` came from, if lore.db holds the session.
    pub fn session_machine(&self, id: &str) -> Result<Option<String>, DbError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT machine_id FROM sessions WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    /// Whether lore.db holds session `id` or a tombstone for it.
    pub fn knows_session(&self, id: &str) -> Result<bool, DbError> {
        let conn = self.conn();
        let held = conn
            .prepare_cached("SELECT 1 FROM sessions WHERE id = ?1")?
            .exists([id])?;
        Ok(held
            || conn
                .prepare_cached("SELECT 1 FROM tombstones WHERE session_id = ?1")?
                .exists([id])?)
    }

    /// Aider sessions that started at `started_at` and whose first message is `first`, with
    /// the file each was read from: where import looks for a session an earlier lore stored
    /// under an id made from another path (docs/importers.md, Aider).
    pub fn aider_sessions_like(
        &self,
        started_at: Option<i64>,
        first: &str,
    ) -> Result<Vec<(String, Option<String>)>, DbError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT s.id, s.source_path FROM sessions s \
             JOIN messages m ON m.session_id = s.id \
             WHERE s.tool = 'aider' AND s.started_at IS ?1 AND m.content = ?2 \
             AND m.ordinal = (SELECT MIN(ordinal) FROM messages WHERE session_id = s.id)",
        )?;
        let rows = stmt.query_map(rusqlite::params![started_at, first], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sets the machine a session came from (sync: the winning record's).
    pub fn set_machine_id(&mut self, id: &str, machine_id: &str) -> Result<bool, DbError> {
        let key = [text(id)];
        let Some(old) = self.tx.read("sessions", &key)? else {
            return Ok(false);
        };
        if old.get("machine_id") == Some(&text(machine_id)) {
            return Ok(false);
        }
        self.tx
            .update("sessions", &key, &row(&[("machine_id", text(machine_id))]))?;
        Ok(true)
    }

    /// Inserts or updates a session with its messages and links, making the stored messages
    /// equal to `parsed`'s (sync: a record that won as a whole). Import uses
    /// [`Writer::merge_session`] instead, which never removes a message.
    ///
    /// Only what differs is written: a grown transcript appends its new messages, and an
    /// unchanged one writes nothing. `updated_at` never moves backwards. A session with a
    /// tombstone is not brought back.
    pub fn save_session(
        &mut self,
        parsed: &ParsedSession,
        machine_id: &str,
        source: Option<(&str, &str)>,
    ) -> Result<SaveOutcome, DbError> {
        let s = &parsed.info;
        let tombstoned = self
            .conn()
            .prepare_cached("SELECT 1 FROM tombstones WHERE session_id = ?1")?
            .exists([&s.id])?;
        if tombstoned {
            return Ok(SaveOutcome::Tombstoned);
        }
        let (source_path, fingerprint) = source.unzip();
        let key = [text(&s.id)];
        // The stored row, read once: whether the session exists, and what in it differs.
        let Some(before) = self.tx.read("sessions", &key)? else {
            self.insert_session(parsed, machine_id, source)?;
            return Ok(SaveOutcome::Inserted);
        };

        let old_updated = match before.get("updated_at") {
            Some(Value::Integer(t)) => Some(*t),
            _ => None,
        };
        let updated_at = match (old_updated, s.updated_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let content = row(&[
            ("tool_version", opt_text(&s.tool_version)),
            ("model", opt_text(&s.model)),
            ("title", opt_text(&s.title)),
            ("started_at", opt_int(s.started_at)),
            ("updated_at", opt_int(updated_at)),
            ("ended_at", opt_int(s.ended_at)),
            ("cwd", opt_text(&s.cwd)),
            ("git_branch", opt_text(&s.git_branch)),
            ("message_count", Value::Integer(s.message_count.into())),
            ("parent_id", opt_text(&s.parent_id)),
        ]);
        let differs = |set: &Row| set.iter().any(|(c, v)| before.get(c) != Some(v));
        let row_changed = differs(&content);
        if row_changed {
            self.tx.update("sessions", &key, &content)?;
        }
        // Where the session was read from is bookkeeping: kept current, but not a change.
        if let (Some(path), Some(fp)) = (source_path, fingerprint) {
            let source = row(&[
                ("source_path", text(path)),
                ("source_fingerprint", text(fp)),
            ]);
            if differs(&source) {
                self.tx.update("sessions", &key, &source)?;
            }
        }
        let messages_changed = self.sync_messages(&s.id, &parsed.messages)?;
        let links_added = self.add_links(&s.id, &parsed.links)?;
        Ok(if row_changed || messages_changed || links_added > 0 {
            SaveOutcome::Updated
        } else {
            SaveOutcome::Unchanged
        })
    }

    /// Inserts a session that is not stored yet, with its messages and links.
    pub(super) fn insert_session(
        &mut self,
        parsed: &ParsedSession,
        machine_id: &str,
        source: Option<(&str, &str)>,
    ) -> Result<(), DbError> {
        let s = &parsed.info;
        let (source_path, fingerprint) = source.unzip();
        self.tx.insert(
            "sessions",
            &row(&[
                ("id", text(&s.id)),
                ("tool", text(s.tool.as_str())),
                ("tool_version", opt_text(&s.tool_version)),
                ("model", opt_text(&s.model)),
                ("title", opt_text(&s.title)),
                ("started_at", opt_int(s.started_at)),
                ("updated_at", opt_int(s.updated_at)),
                ("ended_at", opt_int(s.ended_at)),
                ("cwd", opt_text(&s.cwd)),
                ("git_branch", opt_text(&s.git_branch)),
                ("machine_id", text(machine_id)),
                ("message_count", Value::Integer(s.message_count.into())),
                ("source_path", source_path.map_or(Value::Null, text)),
                ("source_fingerprint", fingerprint.map_or(Value::Null, text)),
                ("parent_id", opt_text(&s.parent_id)),
            ]),
        )?;
        let rows: Vec<Row> = parsed
            .messages
            .iter()
            .enumerate()
            .map(|(ordinal, m)| message_row(&s.id, ordinal, m))
            .collect();
        self.tx.insert_many("messages", &rows)?;
        self.add_links(&s.id, &parsed.links)?;
        Ok(())
    }

    /// Makes the stored messages of `id` equal to `messages`, touching only rows that differ.
    fn sync_messages(&mut self, id: &str, messages: &[Message]) -> Result<bool, DbError> {
        let mut changed = false;
        let stored: Vec<(i64, i64, Row)> = {
            let mut stmt = self.conn().prepare_cached(
                "SELECT id, ordinal, role, kind, content, timestamp, tool_name FROM messages
                 WHERE session_id = ?1 ORDER BY ordinal",
            )?;
            stmt.query_map([id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    row(&[
                        ("session_id", text(id)),
                        ("ordinal", Value::Integer(r.get(1)?)),
                        ("role", r.get(2)?),
                        ("kind", r.get(3)?),
                        ("content", r.get(4)?),
                        ("timestamp", r.get(5)?),
                        ("tool_name", r.get(6)?),
                    ]),
                ))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut seen = vec![false; messages.len()];
        for (rowid, ordinal, old) in stored {
            let key = [Value::Integer(rowid)];
            match messages.get(ordinal as usize) {
                Some(m) => {
                    seen[ordinal as usize] = true;
                    let new = message_row(id, ordinal as usize, m);
                    if new != old {
                        // No longer known to be the transcript item its key named.
                        self.tx.delete("message_keys", &key)?;
                        self.tx.update("messages", &key, &new)?;
                        changed = true;
                    }
                }
                None => {
                    self.tx.delete("message_keys", &key)?;
                    self.tx.delete("messages", &key)?;
                    changed = true;
                }
            }
        }
        let added: Vec<Row> = messages
            .iter()
            .enumerate()
            .filter(|(ordinal, _)| !seen[*ordinal])
            .map(|(ordinal, m)| message_row(id, ordinal, m))
            .collect();
        changed |= !added.is_empty();
        self.tx.insert_many("messages", &added)?;
        Ok(changed)
    }

    /// Adds links that are not there yet; returns how many were new.
    pub fn add_links(&mut self, session_id: &str, links: &[Link]) -> Result<usize, DbError> {
        let mut added = 0;
        for l in links {
            let exists = self
                .conn()
                .prepare_cached("SELECT 1 FROM links WHERE session_id = ?1 AND commit_id = ?2")?
                .exists(params![session_id, l.commit])?;
            if exists {
                continue;
            }
            self.tx
                .insert("links", &link_row(session_id, l, now_ms()))?;
            added += 1;
        }
        Ok(added)
    }

    /// Links `session_id` to `commit` with `kind` and `confidence` (`lore link`). A link that
    /// exists already is left alone, unless this one is surer, or is an `explicit` link at
    /// least as sure as another kind: then it takes the new kind and confidence (an `auto`
    /// link of 1.00 confirmed by hand becomes `explicit`). Returns whether anything changed,
    /// so that a command that changes nothing writes no commit.
    pub fn set_link(&mut self, session_id: &str, link: &Link) -> Result<bool, DbError> {
        let key = [text(session_id), text(&link.commit)];
        match self.tx.read("links", &key)? {
            None => {
                self.tx
                    .insert("links", &link_row(session_id, link, now_ms()))?;
                Ok(true)
            }
            Some(old) if is_removed(&old) => {
                // Taken back with `lore unlink`: only a link made by hand brings it back.
                if link.kind != LinkKind::Explicit {
                    return Ok(false);
                }
                self.tx.update(
                    "links",
                    &key,
                    &row(&[
                        ("kind", text(link.kind.as_str())),
                        ("confidence", Value::Real(link.confidence)),
                        ("created_at", Value::Integer(now_ms())),
                    ]),
                )?;
                Ok(true)
            }
            Some(old) => {
                let old_confidence = match old.get("confidence") {
                    Some(Value::Real(c)) => *c,
                    Some(Value::Integer(c)) => *c as f64,
                    _ => 0.0,
                };
                let old_kind = match old.get("kind") {
                    Some(Value::Text(k)) => k.as_str(),
                    _ => "",
                };
                let confirms = link.kind == LinkKind::Explicit
                    && old_kind != LinkKind::Explicit.as_str()
                    && link.confidence >= old_confidence;
                if link.confidence <= old_confidence && !confirms {
                    return Ok(false);
                }
                self.tx.update(
                    "links",
                    &key,
                    &row(&[
                        ("kind", text(link.kind.as_str())),
                        ("confidence", Value::Real(link.confidence)),
                    ]),
                )?;
                Ok(true)
            }
        }
    }

    /// Records why the link between `session_id` and `commit_id` exists (`evidence`, JSON
    /// written by lore's link code; docs/links.md). Nothing when there is no such link, or it
    /// was taken back. Returns whether anything changed.
    pub fn set_link_evidence(
        &mut self,
        session_id: &str,
        commit_id: &str,
        evidence: &str,
    ) -> Result<bool, DbError> {
        let key = [text(session_id), text(commit_id)];
        match self.tx.read("links", &key)? {
            Some(old) if !is_removed(&old) => {
                if old.get("evidence") == Some(&text(evidence)) {
                    return Ok(false);
                }
                self.tx
                    .update("links", &key, &row(&[("evidence", text(evidence))]))?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The evidence recorded for the link between `session_id` and `commit_id` (the JSON of
    /// `links.evidence`): `Ok(None)` when there is no such link, it was taken back, or it has
    /// no evidence.
    pub fn link_evidence(
        &mut self,
        session_id: &str,
        commit_id: &str,
    ) -> Result<Option<String>, DbError> {
        let key = [text(session_id), text(commit_id)];
        Ok(match self.tx.read("links", &key)? {
            Some(old) if !is_removed(&old) => match old.get("evidence") {
                Some(Value::Text(e)) => Some(e.clone()),
                _ => None,
            },
            _ => None,
        })
    }

    /// Takes back the link between `session_id` and `commit_id` (`lore unlink`): it becomes a
    /// link of kind `removed` (confidence 0, the time of the removal), which sync carries to
    /// other machines and which import and `--auto` respect. Returns whether there was a link.
    pub fn remove_link(&mut self, session_id: &str, commit_id: &str) -> Result<bool, DbError> {
        let key = [text(session_id), text(commit_id)];
        match self.tx.read("links", &key)? {
            Some(old) if !is_removed(&old) => {
                self.tx.update(
                    "links",
                    &key,
                    &row(&[
                        ("kind", text(LinkKind::Removed.as_str())),
                        ("confidence", Value::Real(0.0)),
                        ("created_at", Value::Integer(now_ms())),
                    ]),
                )?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Adds a link with the time it was made elsewhere (sync). Between a link and its removal
    /// the later one wins (a tie goes to the removal); between two versions of a link, or two
    /// removals, the earliest, so that every machine ends with the same row. Returns whether
    /// anything changed.
    pub fn merge_link(
        &mut self,
        session_id: &str,
        link: &Link,
        created_at: i64,
    ) -> Result<bool, DbError> {
        let key = [text(session_id), text(&link.commit)];
        let new = link_row(session_id, link, created_at);
        match self.tx.read("links", &key)? {
            None => {
                self.tx.insert("links", &new)?;
                Ok(true)
            }
            Some(old) => {
                let old_at = match old.get("created_at") {
                    Some(Value::Integer(t)) => *t,
                    _ => i64::MAX,
                };
                let (old_removed, new_removed) = (is_removed(&old), link.kind == LinkKind::Removed);
                let replace = if old_removed == new_removed {
                    old_at > created_at
                } else if new_removed {
                    created_at >= old_at
                } else {
                    created_at > old_at
                };
                if replace {
                    self.tx.update("links", &key, &new)?;
                }
                Ok(replace)
            }
        }
    }

    /// Puts a tag on a session now unless it has it (a tag removed earlier comes back, with
    /// this time); returns whether it was new.
    pub fn add_tag(&mut self, session_id: &str, tag: &str) -> Result<bool, DbError> {
        let key = [text(session_id), text(tag)];
        let new = row(&[
            ("session_id", text(session_id)),
            ("tag", text(tag)),
            ("added_at", Value::Integer(now_ms())),
            ("removed_at", Value::Null),
        ]);
        match self.tx.read("tags", &key)? {
            Some(old) if !tag_removed(&old) => Ok(false),
            Some(_) => {
                self.tx.update("tags", &key, &new)?;
                Ok(true)
            }
            None => {
                self.tx.insert("tags", &new)?;
                Ok(true)
            }
        }
    }

    /// Takes a tag off a session (`lore tag --remove`): the row stays as the tag's tombstone
    /// (`removed_at`, now), which sync carries to teammates. Returns whether it had the tag.
    pub fn remove_tag(&mut self, session_id: &str, tag: &str) -> Result<bool, DbError> {
        let key = [text(session_id), text(tag)];
        match self.tx.read("tags", &key)? {
            Some(old) if !tag_removed(&old) => {
                self.tx.update(
                    "tags",
                    &key,
                    &row(&[("removed_at", Value::Integer(now_ms()))]),
                )?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Merges a tag's state from elsewhere (sync): put on at `added_at` (`None`: before lore
    /// kept tag times), or removed at `removed_at`. The latest event wins, a tie going to the
    /// removal, and a tag without a time is older than any: every machine ends with the same
    /// row whatever order records arrive in (docs/store-format.md, "Record format 2"). Returns
    /// whether anything changed.
    pub fn merge_tag(
        &mut self,
        session_id: &str,
        tag: &str,
        event: TagEvent,
    ) -> Result<bool, DbError> {
        let key = [text(session_id), text(tag)];
        let new = match event {
            TagEvent::Added(at) => row(&[
                ("session_id", text(session_id)),
                ("tag", text(tag)),
                ("added_at", at.map_or(Value::Null, Value::Integer)),
                ("removed_at", Value::Null),
            ]),
            TagEvent::Removed(at) => row(&[
                ("session_id", text(session_id)),
                ("tag", text(tag)),
                ("added_at", Value::Null),
                ("removed_at", Value::Integer(at)),
            ]),
        };
        match self.tx.read("tags", &key)? {
            None => {
                self.tx.insert("tags", &new)?;
                Ok(true)
            }
            Some(old) => {
                let int = |c: &str| match old.get(c) {
                    Some(Value::Integer(t)) => Some(*t),
                    _ => None,
                };
                let current = match int("removed_at") {
                    Some(r) => TagEvent::Removed(r),
                    None => TagEvent::Added(int("added_at")),
                };
                if event.beats(&current) {
                    self.tx.update("tags", &key, &new)?;
                    Ok(true)
                } else {
                    Ok(false)
                }
            }
        }
    }

    /// Adds an annotation unless the session has one with the same body and time; returns
    /// whether it was new.
    pub fn add_annotation(
        &mut self,
        session_id: &str,
        body: &str,
        created_at: i64,
    ) -> Result<bool, DbError> {
        let exists = self
            .conn()
            .prepare_cached(
                "SELECT 1 FROM annotations WHERE session_id = ?1 AND body = ?2 AND created_at = ?3",
            )?
            .exists(params![session_id, body, created_at])?;
        if exists {
            return Ok(false);
        }
        self.tx.insert(
            "annotations",
            &row(&[
                ("session_id", text(session_id)),
                ("body", text(body)),
                ("created_at", Value::Integer(created_at)),
            ]),
        )?;
        Ok(true)
    }

    /// Records that session `id` was deleted at `deleted_at` (elsewhere, arriving by sync),
    /// deleting it here too. Of two deletion times the earlier is kept, so every machine
    /// agrees. Returns whether anything changed.
    pub fn merge_tombstone(&mut self, id: &str, deleted_at: i64) -> Result<bool, DbError> {
        let key = [text(id)];
        let existing = match self.tx.read("tombstones", &key)? {
            Some(old) => match old.get("deleted_at") {
                Some(Value::Integer(t)) => Some(*t),
                _ => None,
            },
            None => None,
        };
        let when = existing.map_or(deleted_at, |t| t.min(deleted_at));
        let deleted = self.delete_session(id, when, true)?;
        if deleted {
            return Ok(true);
        }
        let tomb = row(&[
            ("session_id", text(id)),
            ("deleted_at", Value::Integer(when)),
            ("scope", text("everywhere")),
        ]);
        match existing {
            Some(t) if t == when => Ok(false),
            Some(_) => {
                self.tx.update("tombstones", &key, &tomb)?;
                Ok(true)
            }
            None => {
                self.tx.insert("tombstones", &tomb)?;
                Ok(true)
            }
        }
    }

    /// Deletes a session with everything attached to it and leaves a tombstone, so import does
    /// not bring it back: `everywhere` says whether the deletion travels to the team with the
    /// next sync, or only hides the session here (the shared store keeps it). Returns false
    /// when there was no such session.
    pub fn delete_session(
        &mut self,
        id: &str,
        deleted_at: i64,
        everywhere: bool,
    ) -> Result<bool, DbError> {
        let exists = self
            .conn()
            .prepare_cached("SELECT 1 FROM sessions WHERE id = ?1")?
            .exists([id])?;
        if !exists {
            return Ok(false);
        }
        // Children one by one (not by ON DELETE CASCADE), so that every row removed is
        // recorded and a revert can bring the session back whole.
        for (table, key_sql) in [
            (
                "message_keys",
                "SELECT message_id FROM message_keys WHERE session_id = ?1",
            ),
            ("messages", "SELECT id FROM messages WHERE session_id = ?1"),
            (
                "annotations",
                "SELECT id FROM annotations WHERE session_id = ?1",
            ),
        ] {
            let keys: Vec<i64> = self
                .conn()
                .prepare_cached(key_sql)?
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for k in keys {
                self.tx.delete(table, &[Value::Integer(k)])?;
            }
        }
        for (table, key_sql) in [
            ("links", "SELECT commit_id FROM links WHERE session_id = ?1"),
            ("tags", "SELECT tag FROM tags WHERE session_id = ?1"),
        ] {
            let keys: Vec<String> = self
                .conn()
                .prepare_cached(key_sql)?
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for k in keys {
                self.tx.delete(table, &[text(id), Value::Text(k)])?;
            }
        }
        self.tx.delete("sessions", &[text(id)])?;
        let tomb = row(&[
            ("session_id", text(id)),
            ("deleted_at", Value::Integer(deleted_at)),
            (
                "scope",
                text(if everywhere { "everywhere" } else { "here" }),
            ),
        ]);
        if self.tx.update("tombstones", &[text(id)], &tomb)?.is_none() {
            self.tx.insert("tombstones", &tomb)?;
        }
        Ok(true)
    }

    /// Remembers how a transcript file looked when import last read it.
    pub fn record_source(&mut self, rec: &SourceRecord<'_>) -> Result<(), DbError> {
        let r = row(&[
            ("path", text(rec.path)),
            ("fingerprint", text(rec.fingerprint)),
            ("tool", rec.tool.map_or(Value::Null, text)),
            ("outcome", text(rec.outcome)),
            ("checked_at", Value::Integer(rec.checked_at)),
        ]);
        if self.tx.update("sources", &[text(rec.path)], &r)?.is_none() {
            self.tx.insert("sources", &r)?;
        }
        Ok(())
    }
}

/// A `links` row.
fn link_row(session_id: &str, link: &Link, created_at: i64) -> crate::versioning::value::Row {
    row(&[
        ("session_id", text(session_id)),
        ("commit_id", text(&link.commit)),
        ("kind", text(link.kind.as_str())),
        ("confidence", Value::Real(link.confidence)),
        ("created_at", Value::Integer(created_at)),
    ])
}

/// Whether a `links` row is a removal (`lore unlink`).
fn is_removed(link: &crate::versioning::value::Row) -> bool {
    matches!(link.get("kind"), Some(Value::Text(k)) if k == LinkKind::Removed.as_str())
}

/// Whether a `tags` row is a tag's tombstone (`lore tag --remove`).
fn tag_removed(tag: &crate::versioning::value::Row) -> bool {
    matches!(tag.get("removed_at"), Some(Value::Integer(_)))
}

/// The last thing that happened to a tag of a session: put on (when, if known) or taken off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagEvent {
    Added(Option<i64>),
    Removed(i64),
}

impl TagEvent {
    /// Whether this event is later than `other`: the later time wins, a removal wins a tie,
    /// a tag without a time is older than any time. A total order, so merging is the same in
    /// any order on every machine.
    pub fn beats(&self, other: &TagEvent) -> bool {
        // (time, removal?) compared as a pair; an unknown time is the oldest.
        let key = |e: &TagEvent| match *e {
            TagEvent::Added(t) => (t.map_or(i64::MIN, |t| t), false),
            TagEvent::Removed(t) => (t, true),
        };
        key(self) > key(other)
    }
}
