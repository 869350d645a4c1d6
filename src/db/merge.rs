//! Import's way of saving a session: merge, never replace.
//!
//! A session can be read from several copies of its transcript (the tool's own file, a backup,
//! a synced folder, an older snapshot, a resumed session's file carrying the earlier id). Each
//! message has an identity within its session, given by the importer (Claude Code's line
//! `uuid`, a Codex item's place in its rollout, a Gemini record id, an Aider block's place),
//! kept in `message_keys`. The stored session is the union of every copy's messages by that
//! identity: a copy never removes a message, and never moves `started_at` later or
//! `updated_at`/`ended_at` earlier. Which copy is the session's `source_path` and gives its
//! metadata is decided by [`is_primary`]. Rules: docs/importers.md, "Merge, never replace".

use std::collections::{HashMap, HashSet, VecDeque};

use super::DbError;
use super::write::{SaveOutcome, Writer, message_row, opt_int, opt_text, row, text};
use crate::model::{Message, ParsedSession, Role, count_turn_roles};
use crate::versioning::value::{Row, Value};

/// One copy of a session, as an importer read it from one file.
pub struct Copy<'a> {
    pub parsed: &'a ParsedSession,
    /// The identity of each message: `keys[i]` names `parsed.messages[i]`. Missing or
    /// repeated keys are replaced by ones made from the message's content.
    pub keys: &'a [String],
    /// The file it was read from (canonical) and its fingerprint.
    pub path: &'a str,
    pub fingerprint: &'a str,
}

/// A stored message of the session being merged.
struct Stored {
    rowid: i64,
    ordinal: i64,
    row: Row,
    key: Option<String>,
}

/// A place in the merged session.
#[derive(Clone, Copy)]
enum Slot {
    /// The copy's message `i`, and the stored message it is (if any).
    Read { i: usize, stored: Option<usize> },
    /// A stored message the copy does not hold: kept.
    Kept(usize),
}

impl Writer<'_> {
    /// Saves one copy of a session: inserts it when new, else merges it into the stored
    /// session (see the module documentation). A session with a tombstone is not brought back.
    pub fn merge_session(
        &mut self,
        copy: &Copy<'_>,
        machine_id: &str,
    ) -> Result<SaveOutcome, DbError> {
        let parsed = copy.parsed;
        let s = &parsed.info;
        let tombstoned = self
            .conn()
            .prepare_cached("SELECT 1 FROM tombstones WHERE session_id = ?1")?
            .exists([&s.id])?;
        if tombstoned {
            return Ok(SaveOutcome::Tombstoned);
        }
        let keys = unique_keys(&parsed.messages, copy.keys);
        let session_key = [text(&s.id)];
        let Some(before) = self.tx.read("sessions", &session_key)? else {
            self.insert_session(parsed, machine_id, Some((copy.path, copy.fingerprint)))?;
            let ids = self.message_ids(&s.id)?;
            let pairs: Vec<(i64, &str)> = (0..parsed.messages.len())
                .filter_map(|o| ids.get(&(o as i64)).map(|&id| (id, keys[o].as_str())))
                .collect();
            self.insert_keys(&s.id, &pairs)?;
            return Ok(SaveOutcome::Inserted);
        };

        let stored = self.stored_messages(&s.id)?;
        let stored_source = as_text(before.get("source_path"));
        let primary = is_primary(
            copy.path,
            parsed,
            stored_source.as_deref(),
            as_int(before.get("updated_at")),
            stored.len(),
        );

        // Match the copy's messages with the stored ones: by key, else (a stored message
        // without a key) by content.
        let by_key: HashMap<&str, usize> = stored
            .iter()
            .enumerate()
            .filter_map(|(j, m)| m.key.as_deref().map(|k| (k, j)))
            .collect();
        let mut unkeyed: HashMap<String, VecDeque<usize>> = HashMap::new();
        for (j, m) in stored.iter().enumerate() {
            if m.key.is_none() {
                unkeyed
                    .entry(row_signature(&m.row))
                    .or_default()
                    .push_back(j);
            }
        }
        let mut matched = vec![false; stored.len()];
        let mut slots: Vec<Slot> = Vec::with_capacity(parsed.messages.len());
        for (i, m) in parsed.messages.iter().enumerate() {
            let j = by_key
                .get(keys[i].as_str())
                .copied()
                .filter(|&j| !matched[j])
                .or_else(|| unkeyed.get_mut(&signature(m)).and_then(VecDeque::pop_front));
            if let Some(j) = j {
                matched[j] = true;
            }
            slots.push(Slot::Read { i, stored: j });
        }
        // Messages a lore from before message identities stored, which the very file they
        // came from no longer yields (an importer fix changed them): replaced, not kept.
        let legacy_reread =
            stored_source.as_deref() == Some(copy.path) && stored.iter().all(|m| m.key.is_none());
        let dropped: Vec<usize> = (0..stored.len())
            .filter(|&j| !matched[j] && legacy_reread)
            .collect();
        let dropped_set: HashSet<usize> = dropped.iter().copied().collect();

        // Stored messages the copy lacks keep their place: after the stored message before
        // them, and after the copy's new messages that are not later than they are.
        for j in 0..stored.len() {
            if matched[j] || dropped_set.contains(&j) {
                continue;
            }
            let anchor = (0..j)
                .rev()
                .find_map(|prev| slots.iter().position(|slot| holds(slot, prev)));
            let mut p = anchor.map_or(0, |a| a + 1);
            let ts = as_int(stored[j].row.get("timestamp"));
            while let Some(Slot::Read { i, stored: None }) = slots.get(p) {
                match (parsed.messages[*i].timestamp, ts) {
                    (Some(a), Some(b)) if a <= b => p += 1,
                    _ => break,
                }
            }
            slots.insert(p, Slot::Kept(j));
        }

        let mut messages_changed = false;
        for &j in &dropped {
            self.tx
                .delete("messages", &[Value::Integer(stored[j].rowid)])?;
            messages_changed = true;
        }
        // What each place should hold; stored rows whose ordinal moves step aside first, so
        // that no two rows of the session ever share an ordinal.
        let mut updates: Vec<(usize, Row)> = Vec::new();
        let mut inserts: Vec<(usize, Row)> = Vec::new();
        let mut new_keys: Vec<(usize, String)> = Vec::new();
        for (ordinal, slot) in slots.iter().enumerate() {
            match *slot {
                Slot::Read { i, stored: Some(j) } => {
                    let want = if primary {
                        message_row(&s.id, ordinal, &parsed.messages[i])
                    } else {
                        with_ordinal(&stored[j].row, ordinal)
                    };
                    if want != stored[j].row {
                        updates.push((j, want));
                    }
                    if stored[j].key.is_none() {
                        new_keys.push((ordinal, keys[i].clone()));
                    }
                }
                Slot::Read { i, stored: None } => {
                    inserts.push((ordinal, message_row(&s.id, ordinal, &parsed.messages[i])));
                    new_keys.push((ordinal, keys[i].clone()));
                }
                Slot::Kept(j) => {
                    let want = with_ordinal(&stored[j].row, ordinal);
                    if want != stored[j].row {
                        updates.push((j, want));
                    }
                }
            }
        }
        let moving: Vec<usize> = updates
            .iter()
            .filter(|(j, want)| as_int(want.get("ordinal")) != Some(stored[*j].ordinal))
            .map(|(j, _)| *j)
            .collect();
        for (n, &j) in moving.iter().enumerate() {
            let aside = row(&[("ordinal", Value::Integer(-1 - n as i64))]);
            self.tx
                .update("messages", &[Value::Integer(stored[j].rowid)], &aside)?;
        }
        for (j, want) in &updates {
            self.tx
                .update("messages", &[Value::Integer(stored[*j].rowid)], want)?;
        }
        messages_changed |= !updates.is_empty() || !inserts.is_empty();
        let rows: Vec<Row> = inserts.into_iter().map(|(_, r)| r).collect();
        self.tx.insert_many("messages", &rows)?;
        if !new_keys.is_empty() {
            let ids = self.message_ids(&s.id)?;
            let pairs: Vec<(i64, &str)> = new_keys
                .iter()
                .filter_map(|(o, k)| ids.get(&(*o as i64)).map(|&id| (id, k.as_str())))
                .collect();
            self.insert_keys(&s.id, &pairs)?;
        }

        // The session's row: times only ever widen; the primary copy's metadata wins, a
        // behind copy only fills what is missing; NULL never replaces a value.
        let extra = extra_count(&slots, &parsed.messages, &stored);
        let read_count = i64::from(s.message_count) + extra;
        let old_count = as_int(before.get("message_count")).unwrap_or(0);
        let message_count = if primary {
            read_count
        } else {
            read_count.max(old_count)
        };
        let pick = |col: &str, new: Value| -> Value {
            let old = before.get(col).cloned().unwrap_or(Value::Null);
            match (primary, &old, &new) {
                (_, _, Value::Null) => old,
                (true, _, _) | (false, Value::Null, _) => new,
                (false, _, _) => old,
            }
        };
        let widen = |col: &str, new: Option<i64>, later: bool| -> Value {
            let old = as_int(before.get(col));
            opt_int(match (old, new) {
                (Some(a), Some(b)) => Some(if later { a.max(b) } else { a.min(b) }),
                (a, b) => a.or(b),
            })
        };
        let mut content = row(&[
            (
                "tool_version",
                pick("tool_version", opt_text(&s.tool_version)),
            ),
            ("model", pick("model", opt_text(&s.model))),
            ("title", pick("title", opt_text(&s.title))),
            ("started_at", widen("started_at", s.started_at, false)),
            ("updated_at", widen("updated_at", s.updated_at, true)),
            ("ended_at", widen("ended_at", s.ended_at, true)),
            ("cwd", pick("cwd", opt_text(&s.cwd))),
            ("git_branch", pick("git_branch", opt_text(&s.git_branch))),
            ("message_count", Value::Integer(message_count)),
            ("parent_id", pick("parent_id", opt_text(&s.parent_id))),
        ]);
        content.retain(|c, v| before.get(c) != Some(v));
        let row_changed = !content.is_empty();
        if row_changed {
            self.tx.update("sessions", &session_key, &content)?;
        }
        // Where the session was read from is bookkeeping: kept current, but not a change.
        if primary {
            let mut source = row(&[
                ("source_path", text(copy.path)),
                ("source_fingerprint", text(copy.fingerprint)),
            ]);
            source.retain(|c, v| before.get(c) != Some(v));
            if !source.is_empty() {
                self.tx.update("sessions", &session_key, &source)?;
            }
        }
        let links_added = self.add_links(&s.id, &parsed.links)?;
        Ok(if row_changed || messages_changed || links_added > 0 {
            SaveOutcome::Updated
        } else {
            SaveOutcome::Unchanged
        })
    }

    /// The stored messages of a session in order, with their keys.
    fn stored_messages(&mut self, id: &str) -> Result<Vec<Stored>, DbError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT m.id, m.ordinal, m.role, m.kind, m.content, m.timestamp, m.tool_name, k.key
             FROM messages m LEFT JOIN message_keys k ON k.message_id = m.id
             WHERE m.session_id = ?1 ORDER BY m.ordinal",
        )?;
        let out = stmt
            .query_map([id], |r| {
                Ok(Stored {
                    rowid: r.get(0)?,
                    ordinal: r.get(1)?,
                    row: row(&[
                        ("session_id", text(id)),
                        ("ordinal", Value::Integer(r.get(1)?)),
                        ("role", r.get(2)?),
                        ("kind", r.get(3)?),
                        ("content", r.get(4)?),
                        ("timestamp", r.get(5)?),
                        ("tool_name", r.get(6)?),
                    ]),
                    key: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(out)
    }

    /// Ordinal → row id of a session's messages.
    fn message_ids(&mut self, id: &str) -> Result<HashMap<i64, i64>, DbError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT ordinal, id FROM messages WHERE session_id = ?1")?;
        let out = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(out)
    }

    fn insert_keys(&mut self, session: &str, pairs: &[(i64, &str)]) -> Result<(), DbError> {
        let rows: Vec<Row> = pairs
            .iter()
            .map(|(id, key)| {
                row(&[
                    ("message_id", Value::Integer(*id)),
                    ("session_id", text(session)),
                    ("key", text(key)),
                ])
            })
            .collect();
        self.tx.insert_many("message_keys", &rows)?;
        Ok(())
    }
}

/// Whether this copy is the session's primary one: the file the session was read from, or a
/// copy that reaches further (a newer `updated_at`, or as new with more messages). The primary
/// copy becomes `source_path`, gives the metadata and rewrites the messages it shares with the
/// stored session (an importer fix); any other copy only adds what is missing.
fn is_primary(
    path: &str,
    parsed: &ParsedSession,
    stored_source: Option<&str>,
    stored_updated: Option<i64>,
    stored_messages: usize,
) -> bool {
    if stored_source.is_none_or(|p| p == path) {
        return true;
    }
    let more = parsed.messages.len() > stored_messages;
    match (parsed.info.updated_at, stored_updated) {
        (Some(new), Some(old)) => new > old || (new == old && more),
        (Some(_), None) => true,
        (None, None) => more,
        (None, Some(_)) => false,
    }
}

/// What the kept stored messages add to the copy's count: the turns of the merged sequence
/// less the turns of the copy alone, under the one turn rule ([`count_turn_roles`]). A turn
/// split between the copy and kept rows counts once; the importer's own count of the copy
/// stays the base.
fn extra_count(slots: &[Slot], read: &[Message], stored: &[Stored]) -> i64 {
    if !slots.iter().any(|s| matches!(s, Slot::Kept(_))) {
        return 0;
    }
    let role_of = |slot: &Slot| match *slot {
        Slot::Read { i, .. } => Some(read[i].role),
        Slot::Kept(j) => as_text(stored[j].row.get("role")).and_then(|r| r.parse::<Role>().ok()),
    };
    let merged = count_turn_roles(slots.iter().filter_map(role_of));
    let copy = count_turn_roles(read.iter().map(|m| m.role));
    i64::from(merged) - i64::from(copy)
}

fn holds(slot: &Slot, j: usize) -> bool {
    match *slot {
        Slot::Read { stored, .. } => stored == Some(j),
        Slot::Kept(k) => k == j,
    }
}

fn with_ordinal(r: &Row, ordinal: usize) -> Row {
    let mut r = r.clone();
    r.insert("ordinal".into(), Value::Integer(ordinal as i64));
    r
}

fn as_int(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Integer(i)) => Some(*i),
        _ => None,
    }
}

fn as_text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

/// What a message is, as text: its role, kind, time, tool and content.
fn signature(m: &Message) -> String {
    signature_of(
        m.role.as_str(),
        m.kind.as_str(),
        m.timestamp,
        m.tool_name.as_deref(),
        &m.content,
    )
}

fn row_signature(r: &Row) -> String {
    signature_of(
        as_text(r.get("role")).as_deref().unwrap_or(""),
        as_text(r.get("kind")).as_deref().unwrap_or(""),
        as_int(r.get("timestamp")),
        as_text(r.get("tool_name")).as_deref(),
        as_text(r.get("content")).as_deref().unwrap_or(""),
    )
}

fn signature_of(
    role: &str,
    kind: &str,
    ts: Option<i64>,
    tool: Option<&str>,
    content: &str,
) -> String {
    format!("{role}\u{1f}{kind}\u{1f}{ts:?}\u{1f}{tool:?}\u{1f}{content}")
}

/// One key per message, unique in the session: the importer's, or for a message without one
/// a key made from its content (`c:` and a hash); a repeated key gets `~2`, `~3`, ….
pub fn unique_keys(messages: &[Message], keys: &[String]) -> Vec<String> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let base = match keys.get(i) {
                Some(k) if !k.is_empty() => k.clone(),
                _ => content_key(m),
            };
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { base } else { format!("{base}~{n}") }
        })
        .collect()
}

/// A key made from what a message says, for a message its format gives no identity.
pub fn content_key(m: &Message) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(signature(m).as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("c:{hex}")
}
