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
//! - links and annotations are unioned whoever wins (a link both sides have keeps its
//!   earliest version; between a link and its removal the later wins); the evidence of a link
//!   both sides have is joined ([`Evidence::join`]);
//! - for each tag, the later of its addition and its removal wins, a tie going to the removal
//!   ([`TagEvent::beats`]).
//!
//! Spec: docs/store-format.md ("The session record", its "Record format 2").

use sha2::{Digest, Sha256};

use super::record::{MachineAlias, record_from_conn};
use crate::db::{DbError, TagEvent, Writer};
use crate::gitstore::GitStoreError;
use crate::gitstore::record::{
    RecordKind, RecordSession, SessionRecord, TombstoneRecord, canonical,
};
use crate::link::evidence::Evidence;
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
    remote.check_shape().map_err(invalid)?;
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
        if let Some(value) = &link.evidence {
            let theirs: Evidence = serde_json::from_value(value.clone())
                .map_err(|e| invalid(format!("link to {}: evidence: {e}", link.commit)))?;
            // Only a link that is not taken back here holds evidence.
            if kind != LinkKind::Removed {
                let ours = w.link_evidence(id, &link.commit)?;
                let joined = match Evidence::parse(ours.as_deref()) {
                    Some(o) => o.join(&theirs),
                    None => Evidence::default().join(&theirs),
                };
                changed |= w.set_link_evidence(id, &link.commit, &joined.to_json())?;
            }
        }
    }
    for tag in &remote.tags {
        changed |= w.merge_tag(id, tag.label(), TagEvent::Added(tag.added_at()))?;
    }
    for r in &remote.removed_tags {
        changed |= w.merge_tag(id, &r.tag, TagEvent::Removed(r.removed_at))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitstore::record::{RecordLink, RecordTag, RemovedTag, TimedTag};

    const DOC: &str = include_str!("../../docs/store-format.md");

    /// The `name = value` lines of the block after "## Record vectors".
    fn vector(name: &str) -> String {
        let section = DOC.split("## Record vectors").nth(1).unwrap_or("");
        let block = section.split("```").nth(1).unwrap_or("");
        block
            .lines()
            .filter_map(|l| l.split_once(" = "))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| panic!("docs/store-format.md has no record vector {name}"))
    }

    fn record(evidence: bool, tag_time: bool, removed: bool) -> SessionRecord {
        let mut r = SessionRecord {
            format: 0,
            kind: RecordKind::Session,
            session: RecordSession {
                id: "s1".into(),
                parent_id: None,
                tool: "claude".into(),
                tool_version: None,
                model: None,
                title: None,
                started_at: Some(1),
                updated_at: Some(2),
                ended_at: None,
                cwd: None,
                git_branch: Some("main".into()),
                machine_id: "m".into(),
                message_count: 0,
            },
            messages: vec![],
            links: vec![RecordLink {
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
                kind: "hook".into(),
                confidence: 0.85,
                created_at: 1_700_000_000_000,
                evidence: evidence.then(|| {
                    serde_json::json!({"files": ["src/a.rs"], "files_changed": 2,
                                       "lines": 3, "lines_added": 6})
                }),
            }],
            tags: vec![RecordTag::Timed(TimedTag {
                tag: "bugfix".into(),
                added_at: tag_time.then_some(1_700_000_001_000),
            })],
            annotations: vec![],
            removed_tags: if removed {
                vec![RemovedTag {
                    tag: "wip".into(),
                    removed_at: 1_700_000_002_000,
                }]
            } else {
                vec![]
            },
        };
        r.settle_format();
        r
    }

    #[test]
    fn the_documents_record_vectors_are_what_the_code_writes() {
        let v2 = record(true, true, true);
        let v2_bytes = String::from_utf8(canonical(&v2)).unwrap();
        assert_eq!(v2_bytes, vector("record_v2"));
        let v1 = record(false, false, false);
        assert_eq!(
            String::from_utf8(canonical(&v1)).unwrap(),
            vector("record_v1")
        );
        // Both read back to what was written, and fit their format.
        for (text, want) in [(vector("record_v2"), &v2), (vector("record_v1"), &v1)] {
            let back: SessionRecord = serde_json::from_str(&text).unwrap();
            assert_eq!(&back, want);
            assert_eq!(back.check_shape(), Ok(()));
        }
        // Any one of the new parts makes a record format 2.
        for (e, t, r) in [
            (true, false, false),
            (false, true, false),
            (false, false, true),
        ] {
            assert_eq!(record(e, t, r).format, 2, "{e} {t} {r}");
        }
    }

    fn event(s: &str) -> TagEvent {
        let (sign, at) = s.split_at(1);
        match (sign, at) {
            ("+", "?") => TagEvent::Added(None),
            ("+", t) => TagEvent::Added(Some(t.parse().unwrap())),
            (_, t) => TagEvent::Removed(t.parse().unwrap()),
        }
    }

    #[test]
    fn the_documents_tag_merge_vectors_hold_in_either_order() {
        let line = vector("merge_tags");
        let cases: Vec<&str> = line.split("; ").collect();
        assert!(cases.len() >= 6, "{line}");
        for case in cases {
            let (sum, want) = case.split_once(" = ").unwrap();
            let (a, b) = sum.split_once(" + ").unwrap();
            let (a, b, want) = (event(a), event(b), event(want));
            let winner = |x: TagEvent, y: TagEvent| if y.beats(&x) { y } else { x };
            assert_eq!(winner(a, b), want, "{case}");
            assert_eq!(winner(b, a), want, "{case} (the other way round)");
        }
    }

    #[test]
    fn records_whose_parts_do_not_fit_their_format_are_refused() {
        let mut r = record(true, true, true);
        r.format = 1;
        assert!(r.check_shape().is_err());
        let mut r = record(false, false, false);
        r.removed_tags.push(RemovedTag {
            tag: "bugfix".into(),
            removed_at: 3,
        });
        r.settle_format();
        assert!(r.check_shape().unwrap_err().contains("both on and removed"));
        let mut r = record(true, true, false);
        r.links[0].evidence = Some(serde_json::json!([1]));
        assert!(r.check_shape().unwrap_err().contains("not a JSON object"));
        let mut r = record(true, true, false);
        r.tags = vec![RecordTag::Name("x".into())];
        assert!(r.check_shape().is_err());
        let mut r = record(false, false, false);
        r.format = 3;
        assert!(r.check_shape().is_err());
    }

    #[test]
    fn evidence_joins_the_same_whichever_side_comes_first() {
        let a = Evidence {
            files: vec!["b.rs".into(), "a.rs".into()],
            lines: 2,
            lines_added: 9,
            user: true,
            ..Evidence::default()
        };
        let b = Evidence {
            files: vec!["c.rs".into(), "a.rs".into()],
            files_changed: 4,
            lines: 2,
            lines_added: 10,
            content: true,
            ..Evidence::default()
        };
        let ab = a.join(&b);
        assert_eq!(ab, b.join(&a));
        assert_eq!(ab.files, ["a.rs", "b.rs", "c.rs"]);
        assert_eq!((ab.lines, ab.lines_added, ab.files_changed), (2, 10, 4));
        assert!(ab.user && ab.content);
        assert_eq!(ab.join(&ab), ab);
        assert_eq!(Evidence::default().join(&ab), ab);
        // Stored, the same evidence is the same text whatever order its files came in.
        let reversed = Evidence {
            files: vec!["c.rs".into(), "b.rs".into(), "a.rs".into()],
            ..ab.clone()
        };
        assert_eq!(reversed.to_json(), ab.to_json());
    }
}
