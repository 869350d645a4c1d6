//! Importers: one file per tool, each turning a transcript on disk into [`ParsedSession`]s.
//!
//! Every importer reads fields by key, tolerates unknown fields and line types, and never
//! rebuilds a working directory from a folder name. A bad line is an [`LineIssue`] and the rest
//! of the file is still read; a file that is no transcript at all is a [`ParseError`].
//! Format notes, with the rules each importer follows: `docs/importers.md`.

pub mod aider;
pub mod amp;
pub mod claude;
pub mod cline;
pub mod codex;
pub mod continue_dev;
pub mod copilot;
pub mod crush;
pub mod cursor;
pub mod cursor_db;
pub mod droid;
pub mod gemini;
mod gemini_logs;
pub mod goose;
pub mod jsonl;
pub mod kiro;
mod locate;
pub mod opencode;
pub mod opencode_storage;
pub mod pi;
pub mod qwen;
pub mod sqlite;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::model::{ParsedSession, Tool};

pub use locate::{DefaultLocations, discover};

/// A problem with one line that did not stop the file from being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIssue {
    /// 1-based line number.
    pub line: u64,
    pub message: String,
}

/// What an importer read from one file.
#[derive(Debug, Default)]
pub struct ParseReport {
    pub sessions: Vec<ParsedSession>,
    /// For each session (same order), the identity of each of its messages within the
    /// session, which import uses to merge copies of a transcript (docs/importers.md, "Merge,
    /// never replace"). A missing list or an empty key means "make one from the content".
    pub keys: Vec<Vec<String>>,
    pub issues: Vec<LineIssue>,
    /// The last line was incomplete (the tool is still writing); it was left for a later import.
    pub truncated_tail: bool,
    /// For each session (same order; missing means none), how an earlier version of lore
    /// named it: import keeps that id for a session lore.db already holds under it and not
    /// under the new one (Aider: docs/importers.md).
    pub legacy_ids: Vec<Option<LegacyId>>,
}

/// The id an earlier version of lore gave a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyId {
    /// Aider before parser version 4: made from the history file's path and the block's header
    /// time text ([`aider::legacy_id`]), so it depends on where the file was read.
    AiderPath { header: String },
}

/// Why a file could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("empty file")]
    Empty,
    #[error("not a {tool} transcript: {reason}")]
    NotATranscript { tool: Tool, reason: String },
    #[error("not a transcript lore can read (no known format matched)")]
    Unrecognised,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The longest tool call or tool result kept whole; longer ones are cut with a marker saying
/// how much was dropped. Prompts, replies and thinking are never cut.
pub const MAX_TOOL_CONTENT: usize = 256 * 1024;

/// Cuts `content` to at most [`MAX_TOOL_CONTENT`] bytes on a character boundary, before any
/// secret the cut would split ([`crate::redact::safe_cut`]), saying what was cut.
pub fn cap_tool_content(mut content: String) -> String {
    if content.len() <= MAX_TOOL_CONTENT {
        return content;
    }
    // Never through the middle of a secret: half a token is a token no redaction rule knows.
    let end = crate::redact::safe_cut(&content, MAX_TOOL_CONTENT);
    let dropped = content.len() - end;
    content.truncate(end);
    content.push_str(&format!("\n[… {dropped} more bytes not kept by lore]"));
    content
}

/// Parses one file as `tool`'s transcript.
pub fn parse_file(tool: Tool, path: &Path) -> Result<ParseReport, ParseError> {
    let mut file = File::open(path)?;
    // OpenCode before 1.2 kept a JSON tree where 1.2 keeps a database: a `.json` file that is
    // no database is a session file of the tree.
    if tool == Tool::OpenCode
        && path.extension().is_some_and(|e| e == "json")
        && !starts_like_sqlite(&mut file)?
    {
        let mut reader = BufReader::new(file);
        return opencode_storage::parse(path, &mut reader);
    }
    // Cursor's IDE keeps a database where its agent keeps JSONL: the file says which.
    if tool.is_sqlite() || (tool == Tool::Cursor && starts_like_sqlite(&mut file)?) {
        return parse_database(tool, path);
    }
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    parse_reader(tool, path, &mut reader)
}

/// Parses a transcript from any reader; `path` is used for context (Aider's repository root,
/// Gemini's project folder, Claude Code's sub-agent naming) and never opened for reading here.
pub fn parse_reader(
    tool: Tool,
    path: &Path,
    reader: &mut dyn BufRead,
) -> Result<ParseReport, ParseError> {
    match tool {
        Tool::ClaudeCode => claude::parse(path, reader),
        Tool::Codex => codex::parse(path, reader),
        Tool::Gemini => gemini::parse(path, reader),
        Tool::Aider => aider::parse(path, reader),
        Tool::Copilot => copilot::parse(path, reader),
        Tool::Cursor => cursor::parse(path, reader),
        Tool::Qwen => qwen::parse(path, reader),
        Tool::Pi => pi::parse(path, reader),
        Tool::Droid => droid::parse(path, reader),
        Tool::Kiro => kiro::parse(path, reader),
        Tool::Continue => continue_dev::parse(path, reader),
        Tool::Cline | Tool::RooCode | Tool::KiloCode => cline::parse(tool, path, reader),
        Tool::Amp => amp::parse(path, reader),
        Tool::OpenCode | Tool::Kilo | Tool::Crush | Tool::Goose => {
            Err(ParseError::NotATranscript {
                tool,
                reason: "a database, read from its file and not from a stream".into(),
            })
        }
    }
}

/// Parses the SQLite database at `path` as `tool`'s (read-only, WAL-aware: [`sqlite`]).
fn parse_database(tool: Tool, path: &Path) -> Result<ParseReport, ParseError> {
    match tool {
        Tool::OpenCode | Tool::Kilo => opencode::parse_db(tool, path),
        Tool::Cursor => cursor_db::parse_db(path),
        Tool::Crush => crush::parse_db(path),
        Tool::Goose => goose::parse_db(path),
        _ => Err(ParseError::Unrecognised),
    }
}

/// Whether the file begins with SQLite's header; the file is left at its start.
fn starts_like_sqlite(file: &mut File) -> std::io::Result<bool> {
    use std::io::{Seek, SeekFrom};
    let mut head = [0u8; 16];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(sqlite::is_sqlite(&head[..n]))
}

/// The tool whose SQLite database `path` is, from its tables (and, for OpenCode's schema,
/// the file's name: Kilo CLI's is `kilo.db`).
fn detect_database(path: &Path, name: &str) -> Option<Tool> {
    let src = sqlite::open(path).ok()?;
    if cursor_db::is_cursor_db(&src.conn) {
        return Some(Tool::Cursor);
    }
    if crush::is_crush(&src.conn) {
        return Some(Tool::Crush);
    }
    if goose::is_goose(&src.conn) {
        return Some(Tool::Goose);
    }
    if opencode::is_opencode(&src.conn) {
        return Some(if name.starts_with("kilo") {
            Tool::Kilo
        } else {
            Tool::OpenCode
        });
    }
    None
}

/// How much of a file [`detect`] reads at most.
const DETECT_BYTES: u64 = 4 * 1024 * 1024;
/// How many lines of a file [`detect`] reads at most.
const DETECT_LINES: usize = 64;

/// Guesses which tool wrote `path` from its name and its first lines.
///
/// Returns `Ok(None)` for a file that matches no format (the caller reports it and moves on).
pub fn detect(path: &Path) -> std::io::Result<Option<Tool>> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".aider.chat.history.md") || name == ".aider.chat.history.md" {
        return Ok(Some(Tool::Aider));
    }
    // Whole lines decide, and a first line can be long (Codex puts its whole system prompt in
    // `session_meta`): read up to DETECT_LINES lines, at most DETECT_BYTES.
    let mut reader = BufReader::new(File::open(path)?.take(DETECT_BYTES));
    if sqlite::is_sqlite(reader.fill_buf()?) {
        return Ok(detect_database(path, name));
    }
    let mut head = Vec::with_capacity(64 * 1024);
    for _ in 0..DETECT_LINES {
        if reader.read_until(b'\n', &mut head)? == 0 {
            break;
        }
    }
    Ok(match detect_bytes(name, &head) {
        // Cline's task files are Roo Code's and Kilo Code's too: the extension folder says.
        Some(Tool::Cline) => Some(cline::tool_of_path(path)),
        other => other,
    })
}

/// [`detect`] on bytes already read.
pub fn detect_bytes(name: &str, head: &[u8]) -> Option<Tool> {
    let text = String::from_utf8_lossy(head);
    if name.ends_with(".md") {
        return text
            .contains("# aider chat started at")
            .then_some(Tool::Aider);
    }
    if name.ends_with(".json") {
        let t = text.trim_start();
        // Codex's single-document rollout of 2025.
        if name.starts_with("rollout-")
            && text.contains("\"session\"")
            && text.contains("\"items\"")
        {
            return Some(Tool::Codex);
        }
        if matches!(name, "api_conversation_history.json" | "ui_messages.json")
            && t.starts_with('[')
        {
            return Some(Tool::Cline);
        }
        if amp::looks_like(name, &text) {
            return Some(Tool::Amp);
        }
        if continue_dev::looks_like(&text) {
            return Some(Tool::Continue);
        }
        // OpenCode's pre-1.2 session file (storage/session/<project>/ses_….json).
        if name.starts_with("ses_")
            && t.starts_with('{')
            && text.contains("\"projectID\"")
            && text.contains("\"time\"")
        {
            return Some(Tool::OpenCode);
        }
        // Gemini's prompt log and saved conversations: arrays.
        if t.starts_with('[')
            && ((text.contains("\"sessionId\"") && text.contains("\"messageId\""))
                || (text.contains("\"role\"") && text.contains("\"parts\"")))
        {
            return Some(Tool::Gemini);
        }
        // Gemini's legacy single-object session file.
        if t.starts_with('{') && text.contains("\"sessionId\"") && text.contains("\"messages\"") {
            return Some(Tool::Gemini);
        }
        return None;
    }
    // JSONL: look at whole lines only; the first that tells a format decides.
    for line in text.lines().take(64) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(t) = sniff_line(&v) {
            return Some(t);
        }
    }
    None
}

fn sniff_line(v: &serde_json::Value) -> Option<Tool> {
    let obj = v.as_object()?;
    let ty = obj.get("type").and_then(|t| t.as_str());
    if copilot::is_event(v) {
        return Some(Tool::Copilot);
    }
    if obj.contains_key("payload")
        && matches!(
            ty,
            Some("session_meta" | "response_item" | "event_msg" | "turn_context" | "compacted")
        )
    {
        return Some(Tool::Codex);
    }
    // Early Codex rollouts: a bare header ({id, timestamp, instructions}), state markers.
    if obj.contains_key("record_type")
        || (ty.is_none()
            && obj.contains_key("id")
            && obj.contains_key("timestamp")
            && obj.contains_key("instructions"))
    {
        return Some(Tool::Codex);
    }
    // Qwen Code: Claude Code's envelope around Gemini's parts; before Claude Code's rule.
    if qwen::is_line(v) {
        return Some(Tool::Qwen);
    }
    if pi::is_line(v) {
        return Some(Tool::Pi);
    }
    if droid::is_line(v) {
        return Some(Tool::Droid);
    }
    if kiro::is_line(v) {
        return Some(Tool::Kiro);
    }
    if obj.contains_key("$set") || obj.contains_key("$rewindTo") {
        return Some(Tool::Gemini);
    }
    if obj.contains_key("sessionId") && obj.contains_key("projectHash") {
        return Some(Tool::Gemini);
    }
    if matches!(ty, Some("gemini" | "info" | "warning" | "error")) && obj.contains_key("id") {
        return Some(Tool::Gemini);
    }
    if obj.contains_key("sessionId")
        && matches!(
            ty,
            Some("user" | "assistant" | "system" | "summary" | "ai-title" | "attachment")
        )
    {
        return Some(Tool::ClaudeCode);
    }
    if ty == Some("summary") && obj.contains_key("leafUuid") {
        return Some(Tool::ClaudeCode);
    }
    if cursor::is_line(v) {
        return Some(Tool::Cursor);
    }
    None
}

/// A file found by a scan, with the tool it belongs to when the location says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    /// Known from the location (a default folder or `--tool`); `None` means detect from content.
    pub tool: Option<Tool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_reads_past_a_long_first_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("rollout-2026-03-11T10-00-00-x.jsonl");
        let meta = serde_json::json!({
            "timestamp": "2026-03-11T10:00:00.000Z", "type": "session_meta",
            "payload": {"id": "x", "cwd": "/w", "base_instructions": {"text": "y".repeat(40_000)}},
        });
        std::fs::write(&p, format!("{meta}\n")).unwrap();
        assert_eq!(detect(&p).unwrap(), Some(Tool::Codex));
    }
}

#[cfg(test)]
mod key_order_tests {
    use super::*;

    /// The tool calls of one transcript, as `lore` stores them.
    fn tool_uses(
        parse: fn(&Path, &mut dyn std::io::BufRead) -> Result<ParseReport, ParseError>,
        path: &str,
        text: &str,
    ) -> Vec<String> {
        let mut reader = text.as_bytes();
        let r = parse(Path::new(path), &mut reader).unwrap();
        r.sessions
            .iter()
            .flat_map(|s| &s.messages)
            .filter(|m| m.kind == crate::model::Kind::ToolUse)
            .map(|m| m.content.clone())
            .collect()
    }

    /// An Edit input in the tool's own order, with a nested object, an array, numbers, an
    /// escaped quote and non-ASCII text; and how lore must show it.
    const EDIT: &str = r#"{"file_path":"/src/a.rs","old_string":"fn a() {\"é\"}","new_string":"fn b() {}","replace_all":false,"opts":{"z":1,"a":[2.5,null]}}"#;
    const SHOWN: &str = r#"Edit: {"file_path":"/src/a.rs","old_string":"fn a() {\"é\"}","new_string":"fn b() {}","replace_all":false,"opts":{"z":1,"a":[2.5,null]}}"#;

    #[test]
    fn claude_code_tool_inputs_keep_their_key_order() {
        let text = format!(
            "{{\"type\":\"user\",\"sessionId\":\"S\",\"uuid\":\"u1\",\"message\":{{\"role\":\"user\",\"content\":\"edit it\"}}}}\n{{\"type\":\"assistant\",\"sessionId\":\"S\",\"uuid\":\"u2\",\"message\":{{\"id\":\"m\",\"role\":\"assistant\",\"content\":[{{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"Edit\",\"input\": {EDIT} }}]}}}}\n"
        );
        assert_eq!(
            tool_uses(claude::parse, "/p/S.jsonl", &text),
            vec![SHOWN.to_owned()]
        );
    }

    #[test]
    fn cursor_gemini_copilot_and_codex_tool_inputs_keep_their_key_order() {
        let cursor = format!(
            "{{\"role\":\"user\",\"message\":{{\"content\":[{{\"type\":\"text\",\"text\":\"edit\"}}]}}}}\n{{\"role\":\"assistant\",\"message\":{{\"content\":[{{\"type\":\"tool_use\",\"name\":\"Edit\",\"input\":{EDIT}}}]}}}}\n"
        );
        assert_eq!(
            tool_uses(cursor::parse, "/p/agent-transcripts/c.jsonl", &cursor),
            vec![SHOWN.to_owned()]
        );

        let gemini = format!(
            "{{\"sessionId\":\"G\",\"projectHash\":\"h\",\"startTime\":\"2026-01-01T00:00:00Z\",\"lastUpdated\":\"2026-01-01T00:00:01Z\"}}\n{{\"id\":\"g1\",\"timestamp\":\"2026-01-01T00:00:01Z\",\"type\":\"gemini\",\"content\":\"\",\"toolCalls\":[{{\"id\":\"t\",\"name\":\"Edit\",\"args\":{EDIT},\"status\":\"success\"}}]}}\n"
        );
        assert_eq!(
            tool_uses(gemini::parse, "/g/chats/session-x.jsonl", &gemini),
            vec![SHOWN.to_owned()]
        );

        let copilot = format!(
            "{{\"type\":\"session.start\",\"data\":{{\"sessionId\":\"C\",\"startTime\":\"2026-01-01T00:00:00Z\"}},\"id\":\"e1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"parentId\":null}}\n{{\"type\":\"assistant.message\",\"data\":{{\"messageId\":\"m\",\"content\":\"\",\"toolRequests\":[{{\"toolCallId\":\"c1\",\"name\":\"Edit\",\"arguments\":{EDIT}}}]}},\"id\":\"e2\",\"timestamp\":\"2026-01-01T00:00:01Z\",\"parentId\":\"e1\"}}\n{{\"type\":\"tool.execution_start\",\"data\":{{\"toolCallId\":\"c2\",\"toolName\":\"Edit\",\"arguments\":{EDIT}}},\"id\":\"e3\",\"timestamp\":\"2026-01-01T00:00:02Z\",\"parentId\":\"e2\"}}\n"
        );
        assert_eq!(
            tool_uses(copilot::parse, "/c/session-state/C/events.jsonl", &copilot),
            vec![SHOWN.to_owned(), SHOWN.to_owned()]
        );

        // Codex's arguments are text already: kept as written.
        let args = serde_json::to_string(EDIT).unwrap();
        let codex = format!(
            "{{\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"session_meta\",\"payload\":{{\"id\":\"X\",\"timestamp\":\"2026-01-01T00:00:00Z\"}}}}\n{{\"timestamp\":\"2026-01-01T00:00:01Z\",\"type\":\"response_item\",\"payload\":{{\"type\":\"function_call\",\"name\":\"Edit\",\"arguments\":{args},\"call_id\":\"c\"}}}}\n"
        );
        assert_eq!(
            tool_uses(codex::parse, "/x/rollout-x.jsonl", &codex),
            vec![SHOWN.to_owned()]
        );
    }
}
