//! OpenCode before 1.2: the `storage/` JSON tree, one file per session, per message and per part.
//!
//! ```text
//! storage/session/<project id>/<session id>.json   id, parentID, directory, title, version, time
//! storage/message/<session id>/<message id>.json   role, time, modelID, error, … (a turn)
//! storage/part/<message id>/<part id>.json         type, text / tool state / … (its blocks)
//! ```
//!
//! The session file is what lore imports; its messages and parts are read with it, and they are
//! part of its fingerprint ([`tree_files`]), so a part that changes re-reads its session. A
//! message or part is the same JSON as the `data` of the 1.2 database's rows
//! ([`super::opencode`]), with the same ids, so the rules are shared and a session OpenCode
//! later moved into `opencode.db` merges with the one read from here. Refuses a session file
//! without an `id`; a message or part file that does not parse is one issue and the rest is
//! read. The 0.x layout (`project/<id>/storage/session/info/…`) is not read. Rules:
//! docs/importers.md ("OpenCode and Kilo CLI").

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::jsonl::ValueExt;
use super::opencode::{SessionRow, Turn, part_data, session_of};
use super::{LineIssue, ParseError, ParseReport};
use crate::model::Tool;

/// The `storage` folder of a session file `storage/session/<project>/<id>.json`, judged by
/// the path alone.
pub fn storage_of(session_file: &Path) -> Option<&Path> {
    if session_file.extension()? != "json" {
        return None;
    }
    let sessions = session_file.parent()?.parent()?;
    let storage = sessions.parent()?;
    (sessions.file_name()? == "session" && storage.file_name()? == "storage").then_some(storage)
}

/// Whether `p` is a file of a storage tree other than a session file (a message, a part, a
/// project, a diff): read through its session, never on its own.
pub fn is_companion(p: &Path) -> bool {
    p.ancestors().skip(1).any(|a| {
        a.file_name().is_some_and(|n| {
            matches!(
                n.to_str(),
                Some("message" | "part" | "project" | "session_diff" | "todo" | "share")
            )
        }) && a
            .parent()
            .is_some_and(|s| s.file_name().is_some_and(|n| n == "storage"))
    })
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    // Ids sort in the order OpenCode made them, which is its display order.
    v.sort();
    v
}

fn stem(p: &Path) -> Option<&str> {
    p.file_stem().and_then(|s| s.to_str())
}

/// The files a session file's content lives in besides itself: its messages, then each
/// message's parts, in order. Empty for a path that is not a storage session file.
pub fn tree_files(session_file: &Path) -> Vec<PathBuf> {
    let (Some(storage), Some(id)) = (storage_of(session_file), stem(session_file)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in json_files(&storage.join("message").join(id)) {
        let parts = stem(&m).map(|mid| json_files(&storage.join("part").join(mid)));
        out.push(m);
        out.extend(parts.unwrap_or_default());
    }
    out
}

/// The session file a changed message or part file belongs to (what `lore watch` imports
/// when OpenCode writes a part), if it can be found.
pub fn session_file_of(changed: &Path) -> Option<PathBuf> {
    let dir = changed.parent()?;
    let kind = dir.parent()?;
    let storage = kind.parent()?;
    if storage.file_name()? != "storage" {
        return None;
    }
    let session_id = match kind.file_name()?.to_str()? {
        "message" => dir.file_name()?.to_str()?.to_owned(),
        // A part's folder is its message's id; the part names its session.
        "part" => {
            let v: Value = serde_json::from_slice(&std::fs::read(changed).ok()?).ok()?;
            v.str_at("sessionID")?.to_owned()
        }
        _ => return None,
    };
    std::fs::read_dir(storage.join("session"))
        .ok()?
        .filter_map(Result::ok)
        .map(|project| project.path().join(format!("{session_id}.json")))
        .find(|p| p.is_file())
}

/// Reads the session whose file is `path` (its content from `reader`), with its messages and
/// parts from the storage folder around it.
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let refuse = |reason: String| ParseError::NotATranscript {
        tool: Tool::OpenCode,
        reason,
    };
    let doc: Value = match serde_json::from_reader(reader) {
        Ok(v) => v,
        // OpenCode rewrites the file in place: a cut one is read again later.
        Err(e) if e.is_eof() => {
            return Ok(ParseReport {
                truncated_tail: true,
                ..ParseReport::default()
            });
        }
        Err(e) => return Err(refuse(format!("not a JSON document ({e})"))),
    };
    let Some(id) = doc.str_at("id").filter(|i| !i.is_empty()) else {
        return Err(refuse("a session file without an id".into()));
    };
    let time = |k: &str| {
        doc.get("time")
            .and_then(|t| t.get(k))
            .and_then(Value::as_i64)
    };
    let row = SessionRow {
        id: id.to_owned(),
        parent_id: doc.str_at("parentID").map(str::to_owned),
        directory: doc.str_at("directory").map(str::to_owned),
        title: doc.str_at("title").map(str::to_owned),
        version: doc.str_at("version").map(str::to_owned),
        time_created: time("created"),
        time_updated: time("updated"),
        workspace_id: None,
    };
    let mut issues = Vec::new();
    let turns = match storage_of(path) {
        Some(storage) => read_turns(storage, id, &mut issues),
        None => {
            issues.push(LineIssue {
                line: 0,
                message: "not inside OpenCode's storage/session/<project>/ folder: \
                          its messages were not found"
                    .into(),
            });
            Vec::new()
        }
    };
    let (session, keys) = session_of(Tool::OpenCode, row, None, turns, &mut issues);
    Ok(ParseReport {
        sessions: vec![session],
        keys: vec![keys],
        issues,
        truncated_tail: false,
        legacy_ids: Vec::new(),
    })
}

fn read_json(p: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(p).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

fn read_part(p: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(p).map_err(|e| e.to_string())?;
    part_data(&text)
}

fn read_turns(storage: &Path, session: &str, issues: &mut Vec<LineIssue>) -> Vec<Turn> {
    let mut turns = Vec::new();
    for m in json_files(&storage.join("message").join(session)) {
        let Some(mid) = stem(&m) else { continue };
        let data = match read_json(&m) {
            Ok(v) => v,
            Err(e) => {
                issues.push(LineIssue {
                    line: 0,
                    message: format!("session {session}, message {mid}: unreadable ({e}); skipped"),
                });
                continue;
            }
        };
        let parts = json_files(&storage.join("part").join(mid))
            .into_iter()
            .filter_map(|p| Some((stem(&p)?.to_owned(), None, read_part(&p))))
            .collect();
        turns.push(Turn {
            id: mid.to_owned(),
            created: None,
            data,
            parts,
        });
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_the_tree_are_told_apart_by_their_place() {
        let s = Path::new("/h/.local/share/opencode/storage/session/abc/ses_1.json");
        assert_eq!(
            storage_of(s),
            Some(Path::new("/h/.local/share/opencode/storage"))
        );
        assert!(!is_companion(s));
        assert!(storage_of(Path::new("/h/storage/message/ses_1/msg_1.json")).is_none());
        assert!(storage_of(Path::new("/h/x/session/abc/ses_1.json")).is_none());
        assert!(is_companion(Path::new(
            "/h/storage/message/ses_1/msg_1.json"
        )));
        assert!(is_companion(Path::new("/h/storage/part/msg_1/prt_1.json")));
        assert!(is_companion(Path::new(
            "/h/storage/session_diff/ses_1.json"
        )));
        assert!(!is_companion(Path::new("/h/part/msg_1/prt_1.json")));
    }
}
