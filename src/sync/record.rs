//! Sessions of lore.db as store records: what `lore sync` writes into the plaintext store
//! (docs/store-format.md, "The session record"). The record types and their metadata live in
//! `gitstore::record`, which knows nothing of lore.db; reading lore.db is sync's business.

use super::SyncError;
use crate::db::{Db, DbError};
use crate::gitstore::local::WriteOutcome;
use crate::gitstore::record::{
    RECORD_FORMAT_1, RecordAnnotation, RecordKind, RecordLink, RecordMessage, RecordSession,
    RecordTag, RemovedTag, SessionRecord, TimedTag, TombstoneRecord, canonical, cut_to_limit,
};
use crate::gitstore::{GitStoreError, LocalStore};
use crate::redact::Redactor;

/// How this machine's id appears in the records of one store (docs/store-format.md, "The
/// metadata"): lore.db keeps the machine's own id (`LORE_HOME/machine-id`) on the sessions it
/// imported; a record leaving for the store carries instead the id derived for that store
/// from the machine's local secret, and a record arriving with that id is this machine's
/// again. So the host, which sees the id in each `.meta.json`, cannot link two stores of one
/// user, and the same store always sees the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineAlias {
    /// This machine's id in lore.db.
    pub local: String,
    /// Its id in this store's records.
    pub in_store: String,
}

impl MachineAlias {
    /// The alias of machine `local` in the store `store_id`, from the machine's local secret.
    pub fn derive(local: &str, secret: &[u8; 32], store_id: &[u8; 16]) -> MachineAlias {
        MachineAlias {
            local: local.to_owned(),
            in_store: crate::crypto::store_machine_id(secret, store_id),
        }
    }

    /// The id a record carries for a session lore.db says machine `id` wrote.
    pub fn outgoing(&self, id: String) -> String {
        if id == self.local {
            self.in_store.clone()
        } else {
            id
        }
    }

    /// The id lore.db keeps for a session a record says machine `id` wrote.
    pub fn incoming<'a>(&'a self, id: &'a str) -> &'a str {
        if id == self.in_store { &self.local } else { id }
    }
}

/// The record of session `id` as it is in lore.db, or its tombstone; `None` when lore.db
/// knows neither. With a `redactor`, secrets in the title, messages and annotations are
/// replaced (the copy that leaves the machine); lore.db is not changed. With an `alias`,
/// this machine's id is the one it has in the store the record is for.
pub fn record_from_store(
    store: &Db,
    id: &str,
    redactor: Option<&Redactor>,
    alias: Option<&MachineAlias>,
) -> Result<Option<Vec<u8>>, DbError> {
    record_from_conn(store.conn(), id, redactor, alias)
}

/// [`record_from_store`] on a connection (inside a write transaction, say).
pub(crate) fn record_from_conn(
    conn: &rusqlite::Connection,
    id: &str,
    redactor: Option<&Redactor>,
    alias: Option<&MachineAlias>,
) -> Result<Option<Vec<u8>>, DbError> {
    let clean = |text: String| -> String {
        match redactor {
            Some(r) => match r.redact(&text) {
                std::borrow::Cow::Borrowed(_) => text,
                std::borrow::Cow::Owned(o) => o,
            },
            None => text,
        }
    };
    let session = conn.query_row(
        "SELECT id, parent_id, tool, tool_version, model, title, started_at, updated_at, ended_at,
                cwd, git_branch, machine_id, message_count
           FROM sessions WHERE id = ?1",
        [id],
        |r| {
            Ok(RecordSession {
                id: r.get(0)?,
                parent_id: r.get(1)?,
                tool: r.get(2)?,
                tool_version: r.get(3)?,
                model: r.get(4)?,
                title: r.get::<_, Option<String>>(5)?.map(clean),
                started_at: r.get(6)?,
                updated_at: r.get(7)?,
                ended_at: r.get(8)?,
                cwd: r.get(9)?,
                git_branch: r.get(10)?,
                machine_id: match alias {
                    Some(a) => a.outgoing(r.get(11)?),
                    None => r.get(11)?,
                },
                message_count: r.get(12)?,
            })
        },
    );
    let session = match session {
        Ok(s) => s,
        Err(rusqlite::Error::QueryReturnedNoRows) => {
            let deleted: Option<i64> = conn
                .query_row(
                    "SELECT deleted_at FROM tombstones WHERE session_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            return Ok(deleted.map(|deleted_at| {
                canonical(&TombstoneRecord {
                    format: RECORD_FORMAT_1,
                    kind: RecordKind::Tombstone,
                    id: id.to_owned(),
                    deleted_at,
                })
            }));
        }
        Err(e) => return Err(e.into()),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT ordinal, role, kind, content, timestamp, tool_name FROM messages
          WHERE session_id = ?1 ORDER BY ordinal",
    )?;
    let messages = stmt
        .query_map([id], |r| {
            Ok(RecordMessage {
                ordinal: r.get(0)?,
                role: r.get(1)?,
                kind: r.get(2)?,
                content: cut_to_limit(clean(r.get(3)?)),
                timestamp: r.get(4)?,
                tool_name: r.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT commit_id, kind, confidence, created_at, evidence FROM links
          WHERE session_id = ?1 ORDER BY commit_id",
    )?;
    let links = stmt
        .query_map([id], |r| {
            let confidence: f64 = r.get(2)?;
            Ok(RecordLink {
                commit: r.get(0)?,
                kind: r.get(1)?,
                confidence: if confidence.is_finite() {
                    confidence.clamp(0.0, 1.0)
                } else {
                    0.0
                },
                created_at: r.get(3)?,
                evidence: evidence_value(r.get(4)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT tag, added_at, removed_at FROM tags WHERE session_id = ?1 ORDER BY tag",
    )?;
    let mut tags = Vec::new();
    let mut removed_tags = Vec::new();
    for row in stmt.query_map([id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, Option<i64>>(2)?,
        ))
    })? {
        match row? {
            (tag, _, Some(removed_at)) => removed_tags.push(RemovedTag { tag, removed_at }),
            (tag, added_at, None) => tags.push(RecordTag::Timed(TimedTag { tag, added_at })),
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT body, created_at FROM annotations WHERE session_id = ?1
          ORDER BY created_at, body",
    )?;
    let annotations = stmt
        .query_map([id], |r| {
            Ok(RecordAnnotation {
                body: cut_to_limit(clean(r.get(0)?)),
                created_at: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut record = SessionRecord {
        format: RECORD_FORMAT_1,
        kind: RecordKind::Session,
        session,
        messages,
        links,
        tags,
        annotations,
        removed_tags,
    };
    record.settle_format();
    Ok(Some(canonical(&record)))
}

/// A link's recorded evidence (`links.evidence`) as it travels: the JSON object lore's link
/// code wrote, or nothing when none was recorded or it is not an object.
fn evidence_value(json: Option<String>) -> Option<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(&json?).ok()?;
    value.is_object().then_some(value)
}

/// Writes the records of `ids` from lore.db into the store (sessions, or tombstones for
/// deleted ones; ids lore.db does not know are skipped) in one commit.
/// The commit says how many sessions it wrote, and nothing else. `redactor` replaces secrets
/// in what is written (the store leaves the machine); lore.db keeps the original. `alias` is
/// this machine's id in the store ([`MachineAlias`]).
pub fn export(
    store: &Db,
    local: &LocalStore,
    ids: impl IntoIterator<Item = String>,
    redactor: &Redactor,
    alias: Option<&MachineAlias>,
) -> Result<WriteOutcome, SyncError> {
    let record = |id: &str| -> Result<Option<Vec<u8>>, DbError> {
        // A session deleted here only (`lore delete` without --everywhere) stays in the store.
        if store.deleted_here_only(id)? {
            return Ok(None);
        }
        record_from_store(store, id, Some(redactor), alias)
    };
    let records = ids.into_iter().filter_map(|id| match record(&id) {
        Ok(Some(bytes)) => Some(Ok((id, bytes))),
        Ok(None) => None,
        Err(e) => Some(Err(GitStoreError::Other(e.to_string()))),
    });
    Ok(local.write_records(records, |o| {
        format!(
            "lore: sync {} session{}",
            o.written,
            if o.written == 1 { "" } else { "s" }
        )
    })?)
}
