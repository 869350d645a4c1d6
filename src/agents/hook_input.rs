//! What an agent's hook hands lore, and which transcript files that names.
//!
//! Claude Code and Gemini CLI run a hook command with one JSON object on stdin
//! (`session_id`, `transcript_path`, `cwd`, `hook_event_name`); Codex CLI's `notify` program
//! gets one JSON argument (`type`, `thread-id`, `cwd`, ...) and no transcript path, so the
//! rollout is found by its thread id in its file name. Qwen Code and Factory Droid send
//! Claude Code's fields. Copilot CLI sends `sessionId` and, but
//! at session end, `transcriptPath`; Cursor `conversation_id` and a `transcript_path` that is
//! null in its CLI agent, so both are also found by their id; Cline sends `taskId`, and its task
//! folder is found in the editors' `globalStorage`. Anything else in the payload is
//! ignored; a payload that is not a JSON object, or that names no transcript that exists,
//! is an error for the caller to log. Spec: docs/capture.md.

use std::path::{Path, PathBuf};

use serde_json::Value;
use walkdir::WalkDir;

use super::Agent;
use crate::capture::{Candidate, DefaultLocations};

/// Hook payloads larger than this are refused (they are a few hundred bytes; Codex's carries
/// the turn's prompts and last reply).
pub const MAX_PAYLOAD: usize = 4 * 1024 * 1024;

/// What a hook payload said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookEvent {
    /// `hook_event_name` (Claude Code, Gemini CLI) or `type` (Codex).
    pub event: Option<String>,
    pub session_id: Option<String>,
    pub transcript: Option<PathBuf>,
    pub cwd: Option<String>,
}

/// Why a hook payload led to no import.
#[derive(Debug, thiserror::Error)]
pub enum HookInputError {
    #[error("the hook input is empty")]
    Empty,
    #[error("the hook input is larger than {MAX_PAYLOAD} bytes")]
    TooLarge,
    #[error("the hook input is not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("the hook input is not a JSON object")]
    NotAnObject,
    #[error("the hook input names no transcript (no transcript_path and no session id)")]
    NoTranscript,
    #[error("the transcript {0} does not exist")]
    Missing(PathBuf),
    #[error("no Codex rollout for thread {0} under {1}")]
    NoRollout(String, PathBuf),
}

/// Reads a payload.
pub fn parse(agent: Agent, payload: &str) -> Result<HookEvent, HookInputError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(HookInputError::TooLarge);
    }
    if payload.trim().is_empty() {
        return Err(HookInputError::Empty);
    }
    let v: Value = serde_json::from_str(payload).map_err(HookInputError::NotJson)?;
    let obj = v.as_object().ok_or(HookInputError::NotAnObject)?;
    let text = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(match agent {
        Agent::Claude | Agent::Gemini | Agent::Qwen | Agent::Droid => HookEvent {
            event: text("hook_event_name"),
            session_id: text("session_id"),
            transcript: text("transcript_path").map(PathBuf::from),
            cwd: text("cwd"),
        },
        Agent::Codex => HookEvent {
            event: text("type"),
            session_id: text("thread-id").or_else(|| text("thread_id")),
            transcript: None,
            cwd: text("cwd"),
        },
        // camelCase for the camelCase event names lore registers; snake_case for the
        // PascalCase ones a user may have written.
        Agent::Copilot => HookEvent {
            event: text("hook_event_name").or_else(|| {
                let by = |k: &str, e: &str| obj.contains_key(k).then(|| e.to_owned());
                by("stopReason", "agentStop")
                    .or_else(|| by("trigger", "preCompact"))
                    .or_else(|| by("reason", "sessionEnd"))
            }),
            session_id: text("sessionId").or_else(|| text("session_id")),
            transcript: text("transcriptPath")
                .or_else(|| text("transcript_path"))
                .map(PathBuf::from),
            cwd: text("cwd"),
        },
        // `transcript_path` is null in the CLI agent and when transcripts are off; there is no
        // cwd, only the workspace's roots.
        Agent::Cursor => HookEvent {
            event: text("hook_event_name"),
            session_id: text("conversation_id").or_else(|| text("session_id")),
            transcript: text("transcript_path").map(PathBuf::from),
            cwd: obj
                .get("workspace_roots")
                .and_then(|r| r.get(0))
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        // `hookName`, `taskId` and the workspace's roots; no transcript path.
        Agent::Cline => HookEvent {
            event: text("hookName"),
            session_id: text("taskId"),
            transcript: None,
            cwd: obj
                .get("workspaceRoots")
                .and_then(|r| r.get(0))
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
    })
}

/// The files to import for `event`: the transcript it names and, for Claude Code, its
/// sub-agents' transcripts beside it.
pub fn transcripts(
    agent: Agent,
    event: &HookEvent,
    loc: &DefaultLocations,
) -> Result<Vec<Candidate>, HookInputError> {
    let tool = agent.tool();
    let path = match (&event.transcript, agent) {
        // Droid's documented example path is not where it keeps sessions: a path that names
        // nothing is looked for by id.
        (Some(p), Agent::Droid) if !p.is_file() && event.session_id.is_some() => {
            droid_session(event, loc)?
        }
        (Some(p), _) => p.clone(),
        (None, Agent::Codex) => {
            let id = session_id(event)?;
            let root = loc.codex.clone().unwrap_or_default();
            find_rollout(&root, id).ok_or_else(|| HookInputError::NoRollout(id.to_owned(), root))?
        }
        (None, Agent::Claude) => {
            let id = session_id(event)?;
            let name = format!("{id}.jsonl");
            let roots: Vec<PathBuf> = loc.claude.iter().map(|r| r.join("projects")).collect();
            roots
                .iter()
                .find_map(|root| find_named(root, &name, 2))
                .ok_or_else(|| {
                    let first = roots.first().cloned().unwrap_or_default();
                    HookInputError::Missing(first.join(format!("*/{name}")))
                })?
        }
        (None, Agent::Qwen) => {
            let id = session_id(event)?;
            let name = format!("{id}.jsonl");
            let root = loc.qwen.clone().unwrap_or_default().join("projects");
            find_named(&root, &name, 3)
                .ok_or_else(|| HookInputError::Missing(root.join(format!("*/chats/{name}"))))?
        }
        (None, Agent::Gemini) => return Err(HookInputError::NoTranscript),
        (None, Agent::Droid) => droid_session(event, loc)?,
        (None, Agent::Copilot) => {
            let id = folder_id(event)?;
            let root = loc.copilot.clone().unwrap_or_default();
            root.join("session-state").join(id).join("events.jsonl")
        }
        (None, Agent::Cline) => cline_task(event, loc)?,
        (None, Agent::Cursor) => {
            let id = session_id(event)?;
            // projects/<workspace>/agent-transcripts/<id>.jsonl (the IDE: <id>/<id>.jsonl).
            let name = format!("{id}.jsonl");
            let root = loc.cursor.clone().unwrap_or_default().join("projects");
            find_named(&root, &name, 4).ok_or_else(|| {
                HookInputError::Missing(root.join(format!("*/agent-transcripts/{name}")))
            })?
        }
    };
    if !path.is_file() {
        return Err(HookInputError::Missing(path));
    }
    let mut out = vec![Candidate {
        path: path.clone(),
        tool: Some(tool),
    }];
    if agent == Agent::Claude
        && let (Some(dir), Some(stem)) = (path.parent(), path.file_stem())
    {
        let subagents = dir.join(stem).join("subagents");
        if let Ok(rd) = std::fs::read_dir(&subagents) {
            let mut more: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl") && p.is_file())
                .collect();
            more.sort();
            out.extend(more.into_iter().map(|p| Candidate {
                path: p,
                tool: Some(tool),
            }));
        }
    }
    Ok(out)
}

/// The event's session id.
fn session_id(event: &HookEvent) -> Result<&str, HookInputError> {
    event
        .session_id
        .as_deref()
        .ok_or(HookInputError::NoTranscript)
}

/// The event's session id where it names a folder of the tool's: ids are UUIDs or numbers,
/// and anything else (`../..`) cannot name one of ours.
fn folder_id(event: &HookEvent) -> Result<&str, HookInputError> {
    let id = session_id(event)?;
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(HookInputError::NoTranscript);
    }
    Ok(id)
}

/// Cline's task of the event: `<globalStorage>/saoudrizwan.claude-dev/tasks/<task id>/`, its
/// `api_conversation_history.json`, else its `ui_messages.json`, in the first editor that has
/// it.
fn cline_task(event: &HookEvent, loc: &DefaultLocations) -> Result<PathBuf, HookInputError> {
    let id = folder_id(event)?;
    let dirs: Vec<PathBuf> = loc
        .vscode
        .iter()
        .map(|gs| gs.join("saoudrizwan.claude-dev").join("tasks").join(id))
        .collect();
    dirs.iter()
        .flat_map(|d| {
            ["api_conversation_history.json", "ui_messages.json"].map(|name| d.join(name))
        })
        .find(|p| p.is_file())
        .ok_or_else(|| {
            let first = dirs.first().cloned().unwrap_or_default();
            HookInputError::Missing(first.join("api_conversation_history.json"))
        })
}

/// Droid's transcript of the event's session: `sessions/<cwd with / as ->/<id>.jsonl`.
fn droid_session(event: &HookEvent, loc: &DefaultLocations) -> Result<PathBuf, HookInputError> {
    let id = session_id(event)?;
    let name = format!("{id}.jsonl");
    let root = loc.droid.clone().unwrap_or_default().join("sessions");
    find_named(&root, &name, 2)
        .ok_or_else(|| HookInputError::Missing(root.join(format!("*/{name}"))))
}

/// The rollout of thread `id` under `$CODEX_HOME`: `sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`
/// (newest folders first), else `archived_sessions/`.
pub fn find_rollout(codex: &Path, id: &str) -> Option<PathBuf> {
    // A thread id is a UUID; anything else cannot name a file of ours.
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return None;
    }
    let suffix = format!("-{id}.jsonl");
    for sub in ["sessions", "archived_sessions"] {
        let found = WalkDir::new(codex.join(sub))
            .follow_links(false)
            .max_depth(4)
            .sort_by(|a, b| b.file_name().cmp(a.file_name()))
            .into_iter()
            .flatten()
            .find(|e| {
                e.file_type().is_file()
                    && e.file_name()
                        .to_str()
                        .is_some_and(|n| n.starts_with("rollout-") && n.ends_with(&suffix))
            });
        if let Some(e) = found {
            return Some(e.into_path());
        }
    }
    None
}

fn find_named(root: &Path, name: &str, depth: usize) -> Option<PathBuf> {
    WalkDir::new(root)
        .follow_links(false)
        .max_depth(depth)
        .into_iter()
        .flatten()
        .find(|e| e.file_type().is_file() && e.file_name() == name)
        .map(|e| e.into_path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_agents_payload() {
        let claude = r#"{"session_id":"abc","transcript_path":"/t/abc.jsonl","cwd":"/w","hook_event_name":"SessionEnd","reason":"exit"}"#;
        let e = parse(Agent::Claude, claude).unwrap();
        assert_eq!(e.transcript.as_deref(), Some(Path::new("/t/abc.jsonl")));
        assert_eq!(e.event.as_deref(), Some("SessionEnd"));
        let codex = r#"{"type":"agent-turn-complete","thread-id":"0199","turn-id":"1","cwd":"/w","input-messages":["hi"],"last-assistant-message":"ok"}"#;
        let e = parse(Agent::Codex, codex).unwrap();
        assert_eq!(e.session_id.as_deref(), Some("0199"));
        assert!(e.transcript.is_none());
        assert!(matches!(
            parse(Agent::Claude, "not json"),
            Err(HookInputError::NotJson(_))
        ));
        assert!(matches!(
            parse(Agent::Claude, "[1]"),
            Err(HookInputError::NotAnObject)
        ));
        assert!(matches!(
            parse(Agent::Gemini, "  "),
            Err(HookInputError::Empty)
        ));
    }

    #[test]
    fn finds_a_rollout_by_thread_id() {
        let d = tempfile::tempdir().unwrap();
        let p = d
            .path()
            .join("sessions/2026/03/11/rollout-2026-03-11T10-00-00-0199aa-bb.jsonl");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "{}\n").unwrap();
        assert_eq!(find_rollout(d.path(), "0199aa-bb"), Some(p));
        assert_eq!(find_rollout(d.path(), "0199aa"), None);
        assert_eq!(find_rollout(d.path(), "../x"), None);
    }
}
