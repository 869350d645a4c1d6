//! The session record (one `<id>.json` in the plaintext tree) and its metadata file.
//!
//! A record is the canonical JSON (RFC 8785) of one session with everything that travels with
//! it: messages, links, tags, annotations. Equal content gives equal bytes, hence equal blob ids
//! on every machine. A deletion travels as a tombstone record. The metadata (`<id>.meta.json` on
//! the remote) is derived from the record and holds exactly seven fields, none of them content.
//! Record format 2 adds link evidence, tag times and tag removals (tombstones); a record
//! without any of them is written as format 1, byte for byte what earlier lore wrote.
//! Format: docs/store-format.md ("The session record", "Record vectors").

use serde::{Deserialize, Serialize};

use super::GitStoreError;

/// The highest record format this lore writes and reads (docs/store-format.md, "The session
/// record"). Tombstones, and session records with no evidence, tag time or tag removal, are
/// written as [`RECORD_FORMAT_1`].
pub const RECORD_FORMAT: u64 = 2;

/// The first record format: what lore before record format 2 reads.
pub const RECORD_FORMAT_1: u64 = 1;

/// The longest message content (and annotation body) a record holds: 8 MiB of UTF-8. Writers
/// cut a longer one ([`cut_to_limit`]); readers refuse a record holding one
/// ([`SessionRecord::check_limits`]). docs/store-format.md, "The session record".
pub const MAX_MESSAGE: usize = 8 << 20;

/// What ends a text cut to [`MAX_MESSAGE`].
const CUT_MARK: &str = "\n[lore: cut at 8 MiB]";

/// `text` if it is at most [`MAX_MESSAGE`] bytes; else its start, cut at a character boundary,
/// and a note saying so, [`MAX_MESSAGE`] bytes at most in all.
pub fn cut_to_limit(mut text: String) -> String {
    if text.len() <= MAX_MESSAGE {
        return text;
    }
    let mut end = MAX_MESSAGE - CUT_MARK.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(CUT_MARK);
    text
}

/// One session as it travels: every column that means something on another machine.
/// (`source_path` and `source_fingerprint` describe this machine's files and stay home.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRecord {
    pub format: u64,
    pub kind: RecordKind,
    pub session: RecordSession,
    pub messages: Vec<RecordMessage>,
    pub links: Vec<RecordLink>,
    pub tags: Vec<RecordTag>,
    pub annotations: Vec<RecordAnnotation>,
    /// Format 2: the tags taken off the session (`lore tag --remove`), by tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_tags: Vec<RemovedTag>,
}

/// A tag: its label (format 1), or its label and when it was put on (format 2; `null` when
/// lore.db does not know, for a tag from before record format 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordTag {
    Name(String),
    Timed(TimedTag),
}

/// A tag with the time it was put on (record format 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedTag {
    pub tag: String,
    pub added_at: Option<i64>,
}

/// A tag taken off the session, and when (record format 2): a tag's tombstone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovedTag {
    pub tag: String,
    pub removed_at: i64,
}

impl RecordTag {
    /// The tag's label.
    pub fn label(&self) -> &str {
        match self {
            RecordTag::Name(t) => t,
            RecordTag::Timed(t) => &t.tag,
        }
    }

    /// When it was put on, when known.
    pub fn added_at(&self) -> Option<i64> {
        match self {
            RecordTag::Name(_) => None,
            RecordTag::Timed(t) => t.added_at,
        }
    }
}

/// What a record is: a session, or the tombstone of a deleted one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Session,
    Tombstone,
}

impl SessionRecord {
    /// Sets `format` (and the shape of `tags`) to what a writer writes: format 1, as earlier
    /// lore wrote it, when no link has evidence, no tag a time and no tag was removed; else
    /// format 2, every tag with its time (docs/store-format.md, "The session record").
    pub fn settle_format(&mut self) {
        let v2 = self.links.iter().any(|l| l.evidence.is_some())
            || self.tags.iter().any(|t| t.added_at().is_some())
            || !self.removed_tags.is_empty();
        self.format = if v2 { RECORD_FORMAT } else { RECORD_FORMAT_1 };
        self.tags = self
            .tags
            .drain(..)
            .map(|t| {
                if v2 {
                    RecordTag::Timed(TimedTag {
                        added_at: t.added_at(),
                        tag: t.label().to_owned(),
                    })
                } else {
                    RecordTag::Name(t.label().to_owned())
                }
            })
            .collect();
    }

    /// Refuses a record whose parts do not fit its format: in format 1, evidence, timed tags
    /// or removed tags; in format 2, a tag without its time field; evidence that is not a
    /// JSON object; a tag both on and removed; a format other than 1 or 2. Why, for the
    /// caller's error.
    pub fn check_shape(&self) -> Result<(), String> {
        match self.format {
            RECORD_FORMAT_1 => {
                if self.links.iter().any(|l| l.evidence.is_some())
                    || self.tags.iter().any(|t| matches!(t, RecordTag::Timed(_)))
                    || !self.removed_tags.is_empty()
                {
                    return Err("a format-1 record holds format-2 fields".into());
                }
            }
            RECORD_FORMAT => {
                if self.tags.iter().any(|t| matches!(t, RecordTag::Name(_))) {
                    return Err("a format-2 record holds a tag without its time".into());
                }
            }
            n => return Err(format!("record format {n} is not a session record format")),
        }
        if self
            .links
            .iter()
            .any(|l| l.evidence.as_ref().is_some_and(|e| !e.is_object()))
        {
            return Err("a link's evidence is not a JSON object".into());
        }
        for r in &self.removed_tags {
            if self.tags.iter().any(|t| t.label() == r.tag) {
                return Err(format!("tag {:?} is both on and removed", r.tag));
            }
        }
        Ok(())
    }

    /// Refuses a message content or annotation body above [`MAX_MESSAGE`] bytes: why, for
    /// the caller's error.
    pub fn check_limits(&self) -> Result<(), String> {
        for m in &self.messages {
            if m.content.len() > MAX_MESSAGE {
                return Err(format!(
                    "message {} is {} bytes, above the limit of {MAX_MESSAGE} for one message",
                    m.ordinal,
                    m.content.len()
                ));
            }
        }
        for a in &self.annotations {
            if a.body.len() > MAX_MESSAGE {
                return Err(format!(
                    "an annotation is {} bytes, above the limit of {MAX_MESSAGE}",
                    a.body.len()
                ));
            }
        }
        Ok(())
    }
}

/// The session's own columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSession {
    pub id: String,
    pub parent_id: Option<String>,
    pub tool: String,
    pub tool_version: Option<String>,
    pub model: Option<String>,
    pub title: Option<String>,
    pub started_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    pub machine_id: String,
    pub message_count: i64,
}

/// One message, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordMessage {
    pub ordinal: i64,
    pub role: String,
    pub kind: String,
    pub content: String,
    pub timestamp: Option<i64>,
    pub tool_name: Option<String>,
}

/// A link from the session to a commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordLink {
    pub commit: String,
    pub kind: String,
    pub confidence: f64,
    pub created_at: i64,
    /// Format 2: why the link exists, the object of docs/links.md ("Evidence"); absent when
    /// none was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<serde_json::Value>,
}

/// A note on the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordAnnotation {
    pub body: String,
    pub created_at: i64,
}

/// The tombstone of a deleted session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TombstoneRecord {
    pub format: u64,
    pub kind: RecordKind,
    pub id: String,
    pub deleted_at: i64,
}

/// The plaintext metadata beside each encrypted record: exactly these seven fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub id: String,
    pub tool: Option<String>,
    pub started_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub message_count: i64,
    pub machine_id: Option<String>,
    pub git_branch: Option<String>,
}

impl Meta {
    /// The canonical bytes of the metadata file.
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical(self)
    }

    /// Reads a metadata file, refusing any field beyond the seven.
    pub fn parse(bytes: &[u8]) -> Result<Meta, GitStoreError> {
        serde_json::from_slice(bytes).map_err(|e| GitStoreError::Malformed {
            what: "metadata file".into(),
            why: e.to_string(),
        })
    }
}

/// Only the fields of a record the metadata needs; messages are skipped, not collected.
#[derive(Deserialize)]
struct RecordView {
    format: u64,
    kind: RecordKind,
    #[serde(default)]
    session: Option<SessionView>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    deleted_at: Option<i64>,
}

#[derive(Deserialize)]
struct SessionView {
    id: String,
    tool: String,
    started_at: Option<i64>,
    updated_at: Option<i64>,
    git_branch: Option<String>,
    machine_id: String,
    message_count: i64,
}

/// The metadata of a record (a session or a tombstone), checked against the id its path names.
pub fn meta_of(record: &[u8], expected_id: &str) -> Result<Meta, GitStoreError> {
    let malformed = |why: String| GitStoreError::Malformed {
        what: format!("record of session {expected_id}"),
        why,
    };
    let view: RecordView = serde_json::from_slice(record).map_err(|e| malformed(e.to_string()))?;
    if view.format > RECORD_FORMAT {
        return Err(GitStoreError::NewerFormat {
            what: "session record",
            found: view.format,
        });
    }
    let meta = match (view.kind, view.session) {
        (RecordKind::Session, Some(s)) => Meta {
            id: s.id,
            tool: Some(s.tool),
            started_at: s.started_at,
            updated_at: s.updated_at,
            message_count: s.message_count,
            machine_id: Some(s.machine_id),
            git_branch: s.git_branch,
        },
        (RecordKind::Tombstone, None) => Meta {
            id: view
                .id
                .ok_or_else(|| malformed("tombstone without an id".into()))?,
            tool: None,
            started_at: None,
            updated_at: Some(
                view.deleted_at
                    .ok_or_else(|| malformed("tombstone without deleted_at".into()))?,
            ),
            message_count: 0,
            machine_id: None,
            git_branch: None,
        },
        _ => return Err(malformed("kind and fields do not agree".into())),
    };
    if meta.id != expected_id {
        return Err(malformed(format!(
            "it names session {} but is stored as {expected_id}",
            meta.id
        )));
    }
    Ok(meta)
}

/// The canonical JSON bytes of `value`.
pub fn canonical<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain structs cannot fail (no maps with non-string keys, no NaN:
    // confidences are clamped when stored).
    serde_json_canonicalizer::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_to_the_limit_at_a_character_boundary() {
        let short = "é".repeat(10);
        assert_eq!(cut_to_limit(short.clone()), short);
        let long = "é".repeat(MAX_MESSAGE);
        let cut = cut_to_limit(long);
        assert!(cut.len() <= MAX_MESSAGE && cut.len() > MAX_MESSAGE - 64);
        assert!(cut.ends_with(CUT_MARK));
    }

    #[test]
    fn a_record_with_a_message_above_the_limit_is_refused() {
        let mut r: SessionRecord = serde_json::from_slice(&record("s1")).unwrap();
        let message = |content: String| RecordMessage {
            ordinal: 0,
            role: "user".into(),
            kind: "text".into(),
            content,
            timestamp: None,
            tool_name: None,
        };
        r.messages.push(message("x".repeat(MAX_MESSAGE)));
        assert_eq!(r.check_limits(), Ok(()));
        r.messages[0] = message("x".repeat(MAX_MESSAGE + 1));
        let why = r.check_limits().unwrap_err();
        assert!(why.contains("message 0") && why.contains("limit"), "{why}");
        r.messages[0] = message(cut_to_limit("x".repeat(MAX_MESSAGE + 1)));
        assert_eq!(r.check_limits(), Ok(()));
    }

    fn record(id: &str) -> Vec<u8> {
        canonical(&SessionRecord {
            format: 1,
            kind: RecordKind::Session,
            session: RecordSession {
                id: id.into(),
                parent_id: None,
                tool: "codex".into(),
                tool_version: None,
                model: None,
                title: Some("secret title".into()),
                started_at: Some(1),
                updated_at: Some(2),
                ended_at: None,
                cwd: Some("/home/me/secret".into()),
                git_branch: Some("main".into()),
                machine_id: "m".into(),
                message_count: 3,
            },
            messages: vec![],
            links: vec![],
            tags: vec![],
            removed_tags: vec![],
            annotations: vec![],
        })
    }

    #[test]
    fn metadata_holds_seven_fields_and_no_content() {
        let meta = meta_of(&record("s1"), "s1").unwrap();
        let bytes = meta.to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 7);
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(Meta::parse(text.as_bytes()).unwrap(), meta);
    }

    #[test]
    fn a_record_stored_under_another_id_is_refused() {
        assert!(meta_of(&record("s1"), "s2").is_err());
        assert!(meta_of(b"{}", "s1").is_err());
        assert!(meta_of(b"\xff", "s1").is_err());
    }

    #[test]
    fn tombstones_have_metadata_too() {
        let t = canonical(&TombstoneRecord {
            format: 1,
            kind: RecordKind::Tombstone,
            id: "gone".into(),
            deleted_at: 5,
        });
        let meta = meta_of(&t, "gone").unwrap();
        assert_eq!(meta.updated_at, Some(5));
        assert_eq!(meta.message_count, 0);
    }

    #[test]
    fn extra_metadata_fields_are_refused() {
        let bad = br#"{"id":"a","tool":null,"started_at":null,"updated_at":null,"message_count":0,"machine_id":null,"git_branch":null,"cwd":"/x"}"#;
        assert!(Meta::parse(bad).is_err());
    }
}
