//! OpenAI Codex CLI: `~/.codex/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl`.
//!
//! Each line is `{"timestamp", "type", "payload"}`. The conversation is read from `response_item`
//! lines; the `event_msg` copies of prompts and replies are used only for old files that have no
//! `response_item` messages, never both. Rules in full: `docs/importers.md`.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::jsonl::{
    JsonLines, Timeline, ValueExt, compact_json, media_marker, take_str, timestamp_at,
    tool_use_text,
};
use super::{ParseError, ParseReport, cap_tool_content};
use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};

/// `role: user` text that Codex injected itself (context, instructions, notices).
const INJECTED_PREFIXES: &[&str] = &[
    "<environment_context",
    "<user_instructions",
    "<permissions",
    "<INSTRUCTIONS>",
    "# AGENTS.md instructions",
    "<user_shell_command",
    "<turn_aborted",
    "<subagent_notification",
    "<skill",
    "<collaboration_mode",
    "<apps_instructions",
    "<model_switch",
    "<user_action",
];

fn is_injected(text: &str) -> bool {
    super::jsonl::starts_with_any(text, INJECTED_PREFIXES)
}

/// Reads one Codex rollout. `path` supplies the session id only if `session_meta` is missing.
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    if path.extension().is_some_and(|e| e == "json") {
        return parse_document(path, reader);
    }
    let mut lines = JsonLines::new(reader);
    let mut st = State::default();
    let mut parsed = 0u64;
    while let Some(line) = lines.next_line()? {
        parsed += 1;
        st.item = parsed;
        st.line(line.value, parsed == 1);
    }
    if lines.nonblank_lines == 0 {
        return Err(ParseError::Empty);
    }
    if !st.recognised {
        if parsed == 0 && lines.truncated_tail {
            return Ok(lines.into_report(Vec::new()));
        }
        return Err(ParseError::NotATranscript {
            tool: Tool::Codex,
            reason: "no session_meta, response_item or event_msg line".into(),
        });
    }
    match st.finish(path) {
        Some(session) => {
            let keys = std::mem::take(&mut st.keys);
            Ok(lines.into_keyed_report(vec![session], vec![keys]))
        }
        None => Err(ParseError::NotATranscript {
            tool: Tool::Codex,
            reason: "no session id in session_meta or in the file name".into(),
        }),
    }
}

/// The single-document rollout of 2025 (`rollout-<date>-<uuid>.json`): `{"session": {id,
/// timestamp, instructions}, "items": [...]}`, items without `type` being messages.
fn parse_document(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    if bytes.trim_ascii().is_empty() {
        return Err(ParseError::Empty);
    }
    let not_codex = |reason: String| ParseError::NotATranscript {
        tool: Tool::Codex,
        reason,
    };
    let mut doc: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) if e.is_eof() => {
            return Ok(ParseReport {
                truncated_tail: true,
                ..ParseReport::default()
            });
        }
        Err(e) => return Err(not_codex(format!("not a JSON document ({e})"))),
    };
    drop(bytes);
    let (Some(session), Some(Value::Array(items))) = (
        doc.get_mut("session").map(Value::take),
        doc.get_mut("items").map(Value::take),
    ) else {
        return Err(not_codex("no session and items".into()));
    };
    let mut st = State {
        recognised: true,
        ..State::default()
    };
    st.times.see(timestamp_at(&session, "timestamp"));
    st.session_meta(session);
    for (n, mut item) in items.into_iter().enumerate() {
        st.item = n as u64 + 1;
        if item.get("type").is_none() && item.get("role").is_some() {
            item["type"] = Value::String("message".into());
        }
        let ts = timestamp_at(&item, "timestamp");
        st.times.see(ts);
        st.response_item(item, ts);
    }
    match st.finish(path) {
        Some(session) => Ok(ParseReport {
            sessions: vec![session],
            keys: vec![std::mem::take(&mut st.keys)],
            ..ParseReport::default()
        }),
        None => Err(not_codex("no session id".into())),
    }
}

struct Entry {
    msg: Message,
    /// An `agent_message` event read after the conversation moved to `response_item`s, which
    /// a `response_item` then said again: the event is not kept (see [`State::event`]).
    dropped: bool,
    /// Its identity: `i<n>`, the place of its line among the rollout's JSON lines.
    key: String,
    /// Read from an `event_msg` (the fallback source).
    from_event: bool,
}

#[derive(Default)]
struct State {
    meta_seen: bool,
    id: Option<String>,
    cwd: Option<String>,
    context_cwd: Option<String>,
    version: Option<String>,
    branch: Option<String>,
    parent_id: Option<String>,
    model: Option<String>,
    times: Timeline,
    entries: Vec<Entry>,
    /// A `response_item` message (user or assistant) was read: events are no longer a source.
    response_messages: bool,
    /// `call_id` → tool name, to name the outputs.
    tool_names: HashMap<String, String>,
    recognised: bool,
    /// The place of the line being read among the file's JSON lines.
    item: u64,
    /// `session_meta.timestamp`: when the session started, as Codex recorded it.
    meta_start: Option<i64>,
    /// Assistant texts of `response_item`s no `agent_message` event has matched yet, and
    /// pending events (entry positions) by text.
    replies: HashMap<String, u32>,
    pending_events: HashMap<String, Vec<usize>>,
    /// One identity per message, filled by `finish`.
    keys: Vec<String>,
    /// Reading the history a forked rollout inherited from its ancestors (after an ancestor's
    /// `session_meta`, before this session's own first turn): it is theirs, not this session's.
    inherited: bool,
    /// `forked_from_id` of this session's `session_meta`.
    forked_from: Option<String>,
}

#[derive(Clone, Copy)]
enum Envelope {
    SessionMeta,
    TurnContext,
    ResponseItem,
    Event,
    Compacted,
}

/// `response_item` payload types, also found bare (no envelope) in early rollouts.
fn is_item_type(t: &str) -> bool {
    matches!(
        t,
        "message"
            | "reasoning"
            | "function_call"
            | "function_call_output"
            | "custom_tool_call"
            | "custom_tool_call_output"
            | "local_shell_call"
            | "web_search_call"
    )
}

impl State {
    fn line(&mut self, mut v: Value, first: bool) {
        let ts = timestamp_at(&v, "timestamp");
        let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
        let has_payload = v.get("payload").is_some_and(Value::is_object);
        if !has_payload {
            // Early rollouts: a bare meta object first, then bare response items.
            if first && ty.is_empty() && v.str_at("id").is_some() && v.get("timestamp").is_some() {
                self.recognised = true;
                self.times.see(ts);
                self.session_meta(v);
            } else if is_item_type(ty) {
                self.recognised = true;
                self.times.see(ts);
                self.response_item(v, ts);
            }
            return;
        }
        let kind = match ty {
            "session_meta" => Envelope::SessionMeta,
            "turn_context" => Envelope::TurnContext,
            "response_item" => Envelope::ResponseItem,
            "event_msg" => Envelope::Event,
            "compacted" => Envelope::Compacted,
            _ => return,
        };
        self.recognised = true;
        self.times.see(ts);
        let payload = v.get_mut("payload").map(Value::take).unwrap_or_default();
        if self.inherited && !matches!(kind, Envelope::SessionMeta) {
            if !self.own_turn_starts(&payload, matches!(kind, Envelope::TurnContext)) {
                return;
            }
            self.inherited = false;
        }
        match kind {
            Envelope::SessionMeta => self.session_meta(payload),
            Envelope::TurnContext => {
                if let Some(m) = payload.str_at("model")
                    && self.model.as_deref() != Some(m)
                {
                    self.model = Some(m.to_owned());
                }
                if self.context_cwd.is_none() {
                    self.context_cwd = payload.str_at("cwd").map(str::to_owned);
                }
            }
            Envelope::ResponseItem => self.response_item(payload, ts),
            Envelope::Event => self.event(payload, ts),
            Envelope::Compacted => {
                let mut payload = payload;
                if let Some(text) = take_str(&mut payload, "message") {
                    self.push(Message::new(Role::System, Kind::Text, text, ts), false);
                }
            }
        }
    }

    fn session_meta(&mut self, mut p: Value) {
        // A forked rollout repeats its ancestors' meta lines and history; the first meta line
        // is this session, and what follows an ancestor's is the ancestor's.
        if self.meta_seen {
            // Only a rollout that says it is a fork (`forked_from_id`): older rollouts that
            // repeat another session's meta (Codex 0.3x) have no turn times to find the end
            // of the repeated part by, and are read whole, as before.
            if self.forked_from.is_some()
                && p.str_at("id")
                    .is_some_and(|id| Some(id) != self.id.as_deref())
            {
                self.inherited = true;
            }
            return;
        }
        self.meta_seen = true;
        self.id = take_str(&mut p, "id");
        self.forked_from = take_str(&mut p, "forked_from_id").filter(|s| !s.is_empty());
        self.cwd = take_str(&mut p, "cwd");
        self.version = take_str(&mut p, "cli_version");
        if self.model.is_none() {
            self.model = take_str(&mut p, "model");
        }
        self.meta_start = timestamp_at(&p, "timestamp");
        self.times.see(self.meta_start);
        if let Some(git) = p.get_mut("git") {
            self.branch = take_str(git, "branch");
            // `git.commit_hash` is the commit the session started from, not one it made: it
            // is not a link (docs/links.md, "Codex's start commit"; issue 16).
        }
        self.parent_id = p
            .pointer("/source/subagent/thread_spawn/parent_thread_id")
            .or_else(|| p.get("parent_thread_id"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .or_else(|| self.forked_from.clone());
    }

    /// Whether a line read in the inherited part starts this session's own first turn: a
    /// `task_started` event or a `turn_context` whose turn began at or after this session's
    /// recorded start (`task_started.started_at`, in seconds, else the time in the turn id,
    /// a UUIDv7). A turn marker whose time cannot be read ends the inherited part too, so
    /// that a layout this rule does not know loses nothing; other lines never do.
    fn own_turn_starts(&self, payload: &Value, turn_context: bool) -> bool {
        if !turn_context && payload.str_at("type") != Some("task_started") {
            return false;
        }
        let Some(start) = self.meta_start else {
            return true;
        };
        let began = match payload.get("started_at").and_then(Value::as_i64) {
            Some(secs) if !turn_context => secs.checked_mul(1000),
            _ => payload.str_at("turn_id").and_then(uuid_v7_millis),
        };
        match began {
            // `started_at` has whole seconds: compare in seconds.
            Some(ms) => ms.div_euclid(1000) >= start.div_euclid(1000),
            None => true,
        }
    }

    fn push(&mut self, msg: Message, from_event: bool) {
        self.times.message(msg.timestamp);
        let key = format!("i{}", self.item);
        self.entries.push(Entry {
            msg,
            key,
            from_event,
            dropped: false,
        });
    }

    fn response_item(&mut self, mut p: Value, ts: Option<i64>) {
        let ty = p
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        match ty.as_str() {
            "message" => {
                let role = p.str_at("role").unwrap_or("").to_owned();
                let text = content_text(p.get_mut("content").map(Value::take));
                if matches!(role.as_str(), "user" | "assistant") && !self.response_messages {
                    self.response_messages = true;
                    self.entries.retain(|e| !e.from_event);
                }
                if text.trim().is_empty() {
                    return;
                }
                if self.context_cwd.is_none() {
                    self.context_cwd = environment_cwd(&text);
                }
                let role = match role.as_str() {
                    "user" if is_injected(&text) => Role::System,
                    "user" => Role::User,
                    "assistant" => Role::Assistant,
                    _ => Role::System,
                };
                if role == Role::Assistant {
                    self.reply_seen(&text);
                }
                self.push(Message::new(role, Kind::Text, text, ts), false);
            }
            "reasoning" => {
                let mut text = join_texts(p.get_mut("summary").map(Value::take), "\n\n");
                if text.trim().is_empty() {
                    text = join_texts(p.get_mut("content").map(Value::take), "\n\n");
                }
                if !text.trim().is_empty() {
                    self.push(
                        Message::new(Role::Assistant, Kind::Thinking, text, ts),
                        false,
                    );
                }
            }
            "function_call" | "custom_tool_call" => {
                let name = take_str(&mut p, "name").unwrap_or_else(|| "tool".into());
                let input = match p.get(if ty == "function_call" {
                    "arguments"
                } else {
                    "input"
                }) {
                    Some(v) => compact_json(v),
                    None => String::new(),
                };
                self.tool_call(&mut p, name, &input, ts);
            }
            "local_shell_call" => {
                let command = match p.pointer("/action/command") {
                    Some(Value::Array(parts)) => parts
                        .iter()
                        .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(" "),
                    Some(other) => compact_json(other),
                    None => p.get("action").map(compact_json).unwrap_or_default(),
                };
                self.tool_call(&mut p, "local_shell".into(), &command, ts);
            }
            "web_search_call" => {
                let action = p.get("action").map(compact_json).unwrap_or_default();
                self.tool_call(&mut p, "web_search".into(), &action, ts);
            }
            "function_call_output" | "custom_tool_call_output" => {
                let name = p
                    .str_at("call_id")
                    .and_then(|id| self.tool_names.get(id))
                    .cloned();
                let text = output_text(p.get_mut("output").map(Value::take));
                let mut m = Message::new(Role::Tool, Kind::ToolResult, cap_tool_content(text), ts);
                m.tool_name = name;
                self.push(m, false);
            }
            _ => {}
        }
    }

    fn tool_call(&mut self, p: &mut Value, name: String, input: &str, ts: Option<i64>) {
        if let Some(id) = take_str(p, "call_id") {
            self.tool_names.insert(id, name.clone());
        }
        let text = cap_tool_content(tool_use_text(&name, input));
        self.push(
            Message::new(Role::Assistant, Kind::ToolUse, text, ts).with_tool(name),
            false,
        );
    }

    fn event(&mut self, mut p: Value, ts: Option<i64>) {
        let ty = p
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        // An error Codex showed exists only as an event.
        if ty == "error" {
            if let Some(text) = take_str(&mut p, "message").filter(|t| !t.trim().is_empty()) {
                self.push(Message::new(Role::System, Kind::Text, text, ts), false);
            }
            return;
        }
        if self.response_messages {
            // A reply of an interrupted turn may exist only as its event.
            if ty == "agent_message"
                && let Some(text) = take_str(&mut p, "message").filter(|t| !t.trim().is_empty())
            {
                match self.replies.get_mut(&text) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => {
                        self.push(
                            Message::new(Role::Assistant, Kind::Text, text.clone(), ts),
                            false,
                        );
                        let at = self.entries.len() - 1;
                        self.pending_events.entry(text).or_default().push(at);
                    }
                }
            }
            return;
        }
        let (role, kind) = match ty.as_str() {
            "user_message" => (Role::User, Kind::Text),
            "agent_message" => (Role::Assistant, Kind::Text),
            "agent_reasoning" => (Role::Assistant, Kind::Thinking),
            _ => return,
        };
        let key = if kind == Kind::Thinking {
            "text"
        } else {
            "message"
        };
        let Some(text) = take_str(&mut p, key).filter(|t| !t.trim().is_empty()) else {
            return;
        };
        if role == Role::User
            && self.context_cwd.is_none()
            && let Some(cwd) = environment_cwd(&text)
        {
            self.context_cwd = Some(cwd);
        }
        let role = if role == Role::User && is_injected(&text) {
            Role::System
        } else {
            role
        };
        self.push(Message::new(role, kind, text, ts), true);
    }

    /// A `response_item` reply: it takes the place of a pending event saying the same, or
    /// waits for that event.
    fn reply_seen(&mut self, text: &str) {
        if let Some(at) = self.pending_events.get_mut(text).and_then(Vec::pop) {
            self.entries[at].dropped = true;
        } else {
            *self.replies.entry(text.to_owned()).or_default() += 1;
        }
    }

    fn finish(&mut self, path: &Path) -> Option<ParsedSession> {
        let id = self.id.take().or_else(|| id_from_file_name(path))?;
        let (messages, keys): (Vec<Message>, Vec<String>) = std::mem::take(&mut self.entries)
            .into_iter()
            .filter(|e| !e.dropped)
            .map(|e| (e.msg, e.key))
            .unzip();
        self.keys = keys;
        let mut info = SessionInfo::new(id, Tool::Codex);
        info.tool_version = self.version.take();
        info.model = self.model.take();
        info.cwd = self.cwd.take().or(self.context_cwd.take());
        info.git_branch = self.branch.take();
        info.parent_id = self.parent_id.take();
        info.message_count = count(&messages);
        self.times.apply(&mut info);
        // The session's recorded start, not the first line's write time.
        if let Some(start) = self.meta_start {
            info.started_at = Some(start);
        }
        Some(ParsedSession {
            info,
            messages,
            links: Vec::new(),
        })
    }
}

/// Human prompts plus assistant turns, where a turn is a run of consecutive assistant messages
/// (reasoning, replies, tool calls) not broken by a prompt or a tool output; injected (System)
/// messages neither count nor break a run.
fn count(messages: &[Message]) -> u32 {
    let mut n = 0u32;
    let mut in_turn = false;
    for m in messages {
        match m.role {
            Role::User => {
                n = n.saturating_add(1);
                in_turn = false;
            }
            Role::Tool => in_turn = false,
            Role::Assistant => {
                if !in_turn {
                    n = n.saturating_add(1);
                    in_turn = true;
                }
            }
            Role::System => {}
        }
    }
    n
}

/// `rollout-2026-03-11T10-00-00-<uuid>.jsonl` → the uuid.
fn id_from_file_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let tail = stem.get(stem.len().checked_sub(36)?..)?;
    uuid::Uuid::parse_str(tail).ok().map(|_| tail.to_owned())
}

/// The Unix milliseconds a version 7 UUID carries in its first 48 bits.
fn uuid_v7_millis(text: &str) -> Option<i64> {
    let id = uuid::Uuid::parse_str(text).ok()?;
    if id.get_version_num() != 7 {
        return None;
    }
    i64::try_from(id.as_u128() >> 80).ok()
}

/// `<cwd>…</cwd>` inside an `<environment_context>` block.
fn environment_cwd(text: &str) -> Option<String> {
    let rest = text.trim_start().strip_prefix("<environment_context")?;
    let start = rest.find("<cwd>")? + "<cwd>".len();
    let end = rest[start..].find("</cwd>")? + start;
    let cwd = rest[start..end].trim();
    (!cwd.is_empty()).then(|| cwd.to_owned())
}

/// A message's content parts: text parts joined by newlines, images as markers.
fn content_text(content: Option<Value>) -> String {
    match content {
        Some(Value::String(s)) => s,
        Some(Value::Array(parts)) => {
            let mut out = String::new();
            for mut part in parts {
                let piece = match part.get("type").and_then(Value::as_str) {
                    Some(
                        "input_text" | "output_text" | "text" | "summary_text" | "reasoning_text",
                    ) => take_str(&mut part, "text"),
                    Some("input_image") => Some(match part.str_at("image_url") {
                        Some(url) if url.starts_with("data:") => media_marker("image", None, url),
                        Some(url) => format!("[image {url}]"),
                        None => "[image]".to_owned(),
                    }),
                    _ => None,
                };
                if let Some(piece) = piece {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    out.push_str(&piece);
                }
            }
            out
        }
        _ => String::new(),
    }
}

fn join_texts(parts: Option<Value>, sep: &str) -> String {
    let Some(Value::Array(parts)) = parts else {
        return String::new();
    };
    let mut out = String::new();
    for mut part in parts {
        if let Some(t) = take_str(&mut part, "text") {
            if !out.is_empty() {
                out.push_str(sep);
            }
            out.push_str(&t);
        }
    }
    out
}

/// A tool output: a string, content items (MCP results), or an older `{content}` object.
fn output_text(output: Option<Value>) -> String {
    match output {
        Some(Value::String(s)) => s,
        Some(arr @ Value::Array(_)) => content_text(Some(arr)),
        Some(mut obj @ Value::Object(_)) => {
            take_str(&mut obj, "content").unwrap_or_else(|| compact_json(&obj))
        }
        Some(Value::Null) | None => String::new(),
        Some(other) => compact_json(&other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::jsonl::parse_timestamp;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/transcripts/codex/sessions/2026/03/11/rollout-2026-03-11T10-00-00-019cd2a4-7e1b-7c30-8f2d-4a6b8c0d1e2f.jsonl"
    );
    const ID: &str = "019cd2a4-7e1b-7c30-8f2d-4a6b8c0d1e2f";

    fn run(path: &str, bytes: &[u8]) -> Result<ParseReport, ParseError> {
        let mut reader = bytes;
        parse(Path::new(path), &mut reader)
    }

    fn one(bytes: &[u8]) -> ParsedSession {
        let mut r = run("/s/rollout-x.jsonl", bytes).expect("parses");
        assert_eq!(r.sessions.len(), 1);
        r.sessions.remove(0)
    }

    fn ts(s: &str) -> Option<i64> {
        parse_timestamp(s)
    }

    #[test]
    fn fixture_metadata_and_commit_link() {
        let mut r = run(FIXTURE, &std::fs::read(FIXTURE).unwrap()).unwrap();
        assert!(r.issues.is_empty());
        let s = r.sessions.remove(0);
        let i = &s.info;
        assert_eq!(i.id, ID);
        assert_eq!(i.tool, Tool::Codex);
        assert_eq!(i.tool_version.as_deref(), Some("0.139.0"));
        // The last turn_context's model.
        assert_eq!(i.model.as_deref(), Some("gpt-5.2-codex"));
        assert_eq!(i.cwd.as_deref(), Some("/home/dev/acme"));
        assert_eq!(i.git_branch.as_deref(), Some("feat/json-status"));
        assert_eq!(i.title, None);
        assert_eq!(i.parent_id, None);
        // The session's recorded start (session_meta.payload.timestamp), not the line's.
        assert_eq!(i.started_at, ts("2026-03-11T09:00:00.100Z"));
        assert_eq!(i.updated_at, ts("2026-03-11T09:01:21.600Z"));
        assert_eq!(i.ended_at, ts("2026-03-11T09:01:21.501Z"));
        // git.commit_hash is where the session started: no link to it.
        assert!(s.links.is_empty());
    }

    #[test]
    fn fixture_messages_come_from_response_items_only() {
        let s = one(&std::fs::read(FIXTURE).unwrap());
        let got: Vec<(Role, Kind)> = s.messages.iter().map(|m| (m.role, m.kind)).collect();
        use Kind::*;
        use Role::*;
        assert_eq!(
            got,
            vec![
                (System, Text), // developer permissions
                (System, Text), // AGENTS.md
                (System, Text), // environment_context
                (User, Text),
                (Assistant, Thinking),
                (Assistant, ToolUse),
                (Tool, ToolResult),
                (Assistant, ToolUse),
                (Tool, ToolResult),
                (Assistant, Text),
                (User, Text),
                (Assistant, ToolUse),
                (Tool, ToolResult),
                (Assistant, Text),
            ]
        );
        let m = &s.messages;
        assert_eq!(m[3].content, "Add a --json flag to `acme status`.");
        assert_eq!(m[3].timestamp, ts("2026-03-11T09:00:04.010Z"));
        assert_eq!(m[4].content, "**Finding the status command**");
        assert_eq!(
            m[5].content,
            r#"shell_command: {"command":"rg -n \"fn status\" src","workdir":"/home/dev/acme"}"#
        );
        assert_eq!(m[5].tool_name.as_deref(), Some("shell_command"));
        assert_eq!(m[6].tool_name.as_deref(), Some("shell_command"));
        assert!(m[6].content.starts_with("Exit code: 0"));
        assert!(m[7].content.starts_with("apply_patch: *** Begin Patch"));
        assert_eq!(m[8].tool_name.as_deref(), Some("apply_patch"));
        assert_eq!(m[9].content, "Added `--json` to `acme status`.");
        assert_eq!(m[11].content, "local_shell: cargo test -q");
        assert_eq!(m[12].content, "test result: ok. 12 passed; 0 failed");
        assert_eq!(m[12].tool_name.as_deref(), Some("local_shell"));
        // Prompts: 2. Turns: [reasoning, shell] [apply_patch] [reply] | [local_shell] [reply].
        assert_eq!(s.info.message_count, 7);
    }

    #[test]
    fn events_are_the_fallback_and_never_counted_twice() {
        let old = br#"{"timestamp":"2025-09-01T10:00:00Z","type":"session_meta","payload":{"id":"S","cwd":"/w"}}
{"timestamp":"2025-09-01T10:00:01Z","type":"event_msg","payload":{"type":"user_message","message":"hello"}}
{"timestamp":"2025-09-01T10:00:02Z","type":"event_msg","payload":{"type":"agent_reasoning","text":"thinking"}}
{"timestamp":"2025-09-01T10:00:03Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{}","call_id":"c"}}
{"timestamp":"2025-09-01T10:00:04Z","type":"response_item","payload":{"type":"function_call_output","call_id":"c","output":{"content":"out","success":true}}}
{"timestamp":"2025-09-01T10:00:05Z","type":"event_msg","payload":{"type":"agent_message","message":"hi"}}
"#;
        let s = one(old);
        let got: Vec<(Role, &str)> = s
            .messages
            .iter()
            .map(|m| (m.role, m.content.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Role::User, "hello"),
                (Role::Assistant, "thinking"),
                (Role::Assistant, "shell: {}"),
                (Role::Tool, "out"),
                (Role::Assistant, "hi"),
            ]
        );
        assert_eq!(s.info.message_count, 3);

        // Events before the first response_item message are dropped once it appears.
        let new = br#"{"timestamp":"2025-09-01T10:00:00Z","type":"session_meta","payload":{"id":"S"}}
{"timestamp":"2025-09-01T10:00:01Z","type":"event_msg","payload":{"type":"user_message","message":"hello"}}
{"timestamp":"2025-09-01T10:00:01Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"hello"}]}}
{"timestamp":"2025-09-01T10:00:05Z","type":"event_msg","payload":{"type":"agent_message","message":"hi"}}
{"timestamp":"2025-09-01T10:00:05Z","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]}}
"#;
        let s = one(new);
        assert_eq!(s.messages.len(), 2);
        assert_eq!(s.info.message_count, 2);
    }

    #[test]
    fn injected_user_turns_are_system() {
        let input = br#"{"type":"session_meta","payload":{"id":"S"}}
{"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"<user_instructions>\nbe brief\n</user_instructions>"}]}}
{"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"  <environment_context><cwd>/w</cwd></environment_context>"}]}}
{"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,aGVsbG8h"},{"type":"input_text","text":"what is this?"}]}}
"#;
        let s = one(input);
        let roles: Vec<Role> = s.messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, vec![Role::System, Role::System, Role::User]);
        assert_eq!(
            s.messages[2].content,
            "[image image/png, 6 bytes]\nwhat is this?"
        );
        assert_eq!(s.info.message_count, 1);
        assert!(s.links.is_empty());
    }

    #[test]
    fn first_session_meta_wins_and_subagent_parent_is_read() {
        let input = br#"{"timestamp":"2026-01-01T00:00:00Z","type":"session_meta","payload":{"id":"CHILD","cwd":"/a","source":{"subagent":{"thread_spawn":{"parent_thread_id":"PARENT","depth":1}}}}}
{"timestamp":"2026-01-01T00:00:01Z","type":"session_meta","payload":{"id":"PARENT","cwd":"/b","git":{"commit_hash":"abc"}}}
{"timestamp":"2026-01-01T00:00:02Z","type":"turn_context","payload":{"cwd":"/c","model":"m"}}
"#;
        let s = one(input);
        assert_eq!(s.info.id, "CHILD");
        assert_eq!(s.info.parent_id.as_deref(), Some("PARENT"));
        assert_eq!(s.info.cwd.as_deref(), Some("/a"));
        assert!(s.links.is_empty());
        assert!(s.messages.is_empty());
        assert_eq!(s.info.message_count, 0);
    }

    const FORK: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/formats/codex-fork/sessions/2026/03/12/rollout-2026-03-12T10-05-00-019ce181-b4e0-7c01-8abc-def012345678.jsonl"
    );

    #[test]
    fn forked_subagent_starts_at_its_own_first_turn() {
        let s = one(&std::fs::read(FORK).unwrap());
        assert_eq!(s.info.id, "019ce181-b4e0-7c01-8abc-def012345678");
        assert_eq!(
            s.info.parent_id.as_deref(),
            Some("019ce17d-2100-7a01-8abc-def012345678")
        );
        assert_eq!(s.info.cwd.as_deref(), Some("/home/dev/acme"));
        // The inherited turn_context (the parent's model) is not this session's.
        assert_eq!(s.info.model.as_deref(), Some("gpt-5.1-codex-mini"));
        assert_eq!(s.info.started_at, ts("2026-03-12T10:05:00.000Z"));
        let got: Vec<(Role, Kind, &str)> = s
            .messages
            .iter()
            .map(|m| (m.role, m.kind, m.content.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Role::System,
                    Kind::Text,
                    "<model_switch>\nContinue with the instructions below.\n</model_switch>"
                ),
                (
                    Role::User,
                    Kind::Text,
                    "Inspect src/config.rs and report its entry points."
                ),
                (
                    Role::Assistant,
                    Kind::Thinking,
                    "**Listing the public functions**"
                ),
                (
                    Role::Assistant,
                    Kind::ToolUse,
                    r#"shell_command: {"command":"rg -n \"pub fn\" src/config.rs","workdir":"/home/dev/acme"}"#
                ),
                (
                    Role::Tool,
                    Kind::ToolResult,
                    "Exit code: 0\nOutput:\n3:pub fn load(path: &Path) -> Result<Config>\n"
                ),
                (
                    Role::Assistant,
                    Kind::Text,
                    "One entry point: `config::load` (src/config.rs:3)."
                ),
            ]
        );
        assert!(
            s.messages
                .iter()
                .all(|m| !m.content.contains("Review the config parser"))
        );
        assert_eq!(s.info.message_count, 3);
    }

    #[test]
    fn a_repeated_meta_without_forked_from_id_is_read_whole() {
        // Codex 0.3x wrote another session's meta and history without saying it forked.
        let input = br#"{"timestamp":"2026-01-01T00:00:05Z","type":"session_meta","payload":{"id":"CHILD","timestamp":"2026-01-01T00:00:05Z"}}
{"timestamp":"2026-01-01T00:00:05Z","type":"session_meta","payload":{"id":"OTHER","timestamp":"2026-01-01T00:00:00Z"}}
{"timestamp":"2026-01-01T00:00:05Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"first prompt"}]}}
"#;
        let s = one(input);
        let texts: Vec<&str> = s.messages.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, vec!["first prompt"]);
        assert_eq!(s.info.parent_id, None);
    }

    #[test]
    fn forked_inherited_part_ends_at_a_turn_whose_time_is_unknown() {
        // A fork whose turn markers carry no time: nothing is dropped (the layout before
        // this rule), rather than the session's own turns.
        let input = br#"{"timestamp":"2026-01-01T00:00:05Z","type":"session_meta","payload":{"id":"CHILD","forked_from_id":"PARENT","timestamp":"2026-01-01T00:00:05Z"}}
{"timestamp":"2026-01-01T00:00:05Z","type":"session_meta","payload":{"id":"PARENT","timestamp":"2026-01-01T00:00:00Z"}}
{"timestamp":"2026-01-01T00:00:05Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"parent prompt"}]}}
{"timestamp":"2026-01-01T00:00:06Z","type":"turn_context","payload":{"turn_id":"t-9","model":"m"}}
{"timestamp":"2026-01-01T00:00:06Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"own prompt"}]}}
"#;
        let s = one(input);
        assert_eq!(s.info.parent_id.as_deref(), Some("PARENT"));
        let texts: Vec<&str> = s.messages.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, vec!["own prompt"]);
        assert_eq!(s.info.model.as_deref(), Some("m"));
        assert_eq!(
            uuid_v7_millis("019ce181-b4e0-7c01-8abc-def012345678"),
            ts("2026-03-12T10:05:00.000Z")
        );
        assert_eq!(uuid_v7_millis("019cd2a4-7e1b-4c30-8f2d-4a6b8c0d1e2f"), None);
    }

    #[test]
    fn turn_context_cwd_and_file_name_id_are_fallbacks() {
        let input = br#"{"timestamp":"2026-01-01T00:00:02Z","type":"turn_context","payload":{"cwd":"/c","model":"m"}}
"#;
        let mut r = run(&format!("/s/rollout-2026-01-01T00-00-00-{ID}.jsonl"), input).unwrap();
        let s = r.sessions.remove(0);
        assert_eq!(s.info.id, ID);
        assert_eq!(s.info.cwd.as_deref(), Some("/c"));
        assert!(matches!(
            run("/s/rollout-x.jsonl", input),
            Err(ParseError::NotATranscript {
                tool: Tool::Codex,
                ..
            })
        ));
    }

    #[test]
    fn early_bare_rollouts_are_read() {
        let input = br#"{"id":"E","timestamp":"2025-05-01T10:00:00Z","instructions":null}
{"record_type":"state"}
{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}
{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hello"}]}
"#;
        let s = one(input);
        assert_eq!(s.info.id, "E");
        assert_eq!(s.info.started_at, ts("2025-05-01T10:00:00Z"));
        assert_eq!(s.messages.len(), 2);
        assert_eq!(s.info.message_count, 2);
    }

    #[test]
    fn empty_foreign_truncated_and_invalid_utf8() {
        assert!(matches!(run("/s/r.jsonl", b""), Err(ParseError::Empty)));
        assert!(matches!(
            run("/s/r.jsonl", b"{\"type\":\"user\",\"sessionId\":\"x\"}\n"),
            Err(ParseError::NotATranscript { .. })
        ));
        let mut input = b"{\"type\":\"session_meta\",\"payload\":{\"id\":\"S\"}}\n".to_vec();
        input.extend_from_slice(b"{\"type\":\"response_item\",\"payload\":{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"na\xefve\"}]}}\n");
        input.extend_from_slice(b"garbage\n");
        input.extend_from_slice(b"{\"type\":\"response_item\",\"payload\":{\"type\":\"mess");
        let r = run("/s/r.jsonl", &input).unwrap();
        assert!(r.truncated_tail);
        assert_eq!(
            r.issues.iter().map(|i| i.line).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(r.sessions[0].messages[0].content, "na\u{fffd}ve");
        assert_eq!(r.sessions[0].info.message_count, 1);
    }
}
