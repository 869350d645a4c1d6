//! Merging the sessions that arrive by sync into lore.db.
//!
//! The rules (the same on every machine, so every machine converges to the same records):
//! - a tombstone deletes the session here too (of two deletion times the earlier is kept),
//!   except on the machine that wrote the session: its author keeps their copy, which is not
//!   shared again, and is told;
//! - a session deleted here stays deleted (a deletion made with `--everywhere` goes out with
//!   the next export; one made here only hides it);
//! - otherwise the newer `updated_at` wins the session's content (its columns and messages);
//!   on a tie, the content whose canonical JSON has the larger SHA-256 wins;
//! - links, tags and annotations are unioned whoever wins (a link both sides have keeps its
//!   earliest version).

use sha2::{Digest, Sha256};

use super::record::{MachineAlias, record_from_conn};
use crate::db::{DbError, Writer};
use crate::gitstore::GitStoreError;
use crate::gitstore::record::{
    RecordKind, RecordSession, SessionRecord, TombstoneRecord, canonical,
};
use crate::model::{Link, LinkKind, Message, ParsedSession, SessionInfo};
use crate::redact::Redactor;

/// What merging one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merged {
    /// A session new here.
    Added,
    /// A session that changed here (its content, or links, tags or annotations added).
    Updated,
    /// A session deleted here because it was deleted elsewhere.
    Deleted,
    /// A session this machine wrote, deleted from the shared store by someone else: kept
    /// here (and not shared again).
    Kept,
    /// Nothing to do.
    Unchanged,
}

/// Why a record could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Record(#[from] GitStoreError),
    #[error("session {id}: {why}")]
    Invalid { id: String, why: String },
}

/// Merges `record` (the bytes of `<id>.json` from a store) into lore.db. `redactor` is the
/// one exports use: the local session is compared as it would leave the machine, so a
/// record that is this machine's own session with its secrets redacted changes nothing.
/// `this_machine` is this machine's id: a deletion of a session it wrote leaves the session
/// here ([`Merged::Kept`]). `alias` is this machine's id in the store the record comes from:
/// a record carrying it is this machine's session, and lore.db keeps `this_machine` for it.
pub fn merge_record(
    w: &mut Writer<'_>,
    id: &str,
    record: &[u8],
    redactor: &Redactor,
    this_machine: &str,
    alias: Option<&MachineAlias>,
) -> Result<Merged, MergeError> {
    let invalid = |why: String| MergeError::Invalid {
        id: id.to_owned(),
        why,
    };
    // Checks the record's format and that it names `id`.
    crate::gitstore::record::meta_of(record, id)?;
    if let Ok(t) = serde_json::from_slice::<TombstoneRecord>(record) {
        if t.kind != RecordKind::Tombstone {
            return Err(invalid("a tombstone record of another kind".into()));
        }
        if w.session_machine(id)?.as_deref() == Some(this_machine) {
            return Ok(Merged::Kept);
        }
        return Ok(if w.merge_tombstone(id, t.deleted_at)? {
            Merged::Deleted
        } else {
            Merged::Unchanged
        });
    }
    let remote: SessionRecord =
        serde_json::from_slice(record).map_err(|e| invalid(e.to_string()))?;
    remote.check_limits().map_err(invalid)?;
    let local = record_from_conn(w.conn(), id, Some(redactor), alias)?;
    let machine_of = |r: &SessionRecord| -> String {
        match alias {
            Some(a) => a.incoming(&r.session.machine_id).to_owned(),
            None => r.session.machine_id.clone(),
        }
    };
    let local: Option<SessionRecord> = match local {
        None => None,
        Some(bytes) => match serde_json::from_slice::<SessionRecord>(&bytes) {
            Ok(r) => Some(r),
            // A tombstone here: deleted here, and it stays deleted.
            Err(_) => return Ok(Merged::Unchanged),
        },
    };
    let mut changed = false;
    let outcome = match &local {
        None => {
            save(w, &remote, &machine_of(&remote))?;
            Merged::Added
        }
        Some(l) => {
            let (theirs, ours) = (content(&remote), content(l));
            if theirs != ours && wins(&remote, &theirs, l, &ours) {
                let machine = machine_of(&remote);
                save(w, &remote, &machine)?;
                // The machine that wrote the content goes with it.
                w.set_machine_id(id, &machine)?;
                changed = true;
            }
            Merged::Updated
        }
    };
    for link in &remote.links {
        let kind = link
            .kind
            .parse::<LinkKind>()
            .map_err(|e| invalid(e.to_string()))?;
        let l = Link {
            commit: link.commit.clone(),
            kind,
            confidence: link.confidence,
        };
        changed |= w.merge_link(id, &l, link.created_at)?;
    }
    for tag in &remote.tags {
        changed |= w.add_tag(id, tag)?;
    }
    for a in &remote.annotations {
        changed |= w.add_annotation(id, &a.body, a.created_at)?;
    }
    Ok(match outcome {
        Merged::Updated if !changed => Merged::Unchanged,
        o => o,
    })
}

/// Whether the remote record's content (`theirs`, canonical) wins over the local one's.
fn wins(remote: &SessionRecord, theirs: &[u8], local: &SessionRecord, ours: &[u8]) -> bool {
    let (r, l) = (remote.session.updated_at, local.session.updated_at);
    match r.cmp(&l) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => {
            Sha256::digest(theirs).as_slice() > Sha256::digest(ours).as_slice()
        }
    }
}

/// The part of a record that wins or loses as a whole: the session's columns and messages.
fn content(r: &SessionRecord) -> Vec<u8> {
    canonical(&(&r.session, &r.messages))
}

/// Makes lore.db's copy of the session's columns and messages the record's.
/// `machine` is the id lore.db keeps for the machine that wrote it.
fn save(w: &mut Writer<'_>, r: &SessionRecord, machine: &str) -> Result<(), MergeError> {
    let s: &RecordSession = &r.session;
    let invalid = |why: String| MergeError::Invalid {
        id: s.id.clone(),
        why,
    };
    let tool = s
        .tool
        .parse()
        .map_err(|e: crate::model::UnknownName| invalid(e.to_string()))?;
    let mut info = SessionInfo::new(s.id.clone(), tool);
    info.tool_version = s.tool_version.clone();
    info.model = s.model.clone();
    info.title = s.title.clone();
    info.started_at = s.started_at;
    info.updated_at = s.updated_at;
    info.ended_at = s.ended_at;
    info.cwd = s.cwd.clone();
    info.git_branch = s.git_branch.clone();
    info.parent_id = s.parent_id.clone();
    info.message_count = u32::try_from(s.message_count).map_err(|e| invalid(e.to_string()))?;
    let mut messages = Vec::with_capacity(r.messages.len());
    for (i, m) in r.messages.iter().enumerate() {
        if m.ordinal != i as i64 {
            return Err(invalid(format!("message {i} has ordinal {}", m.ordinal)));
        }
        messages.push(Message {
            role: m
                .role
                .parse()
                .map_err(|e: crate::model::UnknownName| invalid(e.to_string()))?,
            kind: m
                .kind
                .parse()
                .map_err(|e: crate::model::UnknownName| invalid(e.to_string()))?,
            content: m.content.clone(),
            timestamp: m.timestamp,
            tool_name: m.tool_name.clone(),
        });
    }
    let parsed = ParsedSession {
        info,
        messages,
        links: Vec::new(),
    };
    w.save_session(&parsed, machine, None)?;
    Ok(())
}
