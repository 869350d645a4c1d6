//! The domain types every part of lore shares: sessions, their messages and links.
//!
//! These are plain data. Importers produce them, the store persists them, the CLI renders them.
//! Timestamps are Unix milliseconds (UTC) throughout; rendering is the caller's business.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The AI coding tool a session came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    ClaudeCode,
    Codex,
    Gemini,
    Aider,
    Copilot,
    Cursor,
    Qwen,
    Pi,
    Droid,
    Kiro,
    Continue,
    Cline,
    RooCode,
    KiloCode,
    Amp,
    /// OpenCode (`opencode.db`).
    OpenCode,
    /// Kilo CLI (`kilo.db`, OpenCode's schema).
    Kilo,
    /// Crush (`<project>/.crush/crush.db`).
    Crush,
    /// Goose (`sessions.db`).
    Goose,
}

impl Tool {
    /// Every tool lore can import, in the order `lore import` scans them.
    pub const ALL: [Tool; 19] = [
        Tool::ClaudeCode,
        Tool::Codex,
        Tool::Gemini,
        Tool::Aider,
        Tool::Copilot,
        Tool::Cursor,
        Tool::Qwen,
        Tool::Pi,
        Tool::Droid,
        Tool::Kiro,
        Tool::Continue,
        Tool::Cline,
        Tool::RooCode,
        Tool::KiloCode,
        Tool::Amp,
        Tool::OpenCode,
        Tool::Kilo,
        Tool::Crush,
        Tool::Goose,
    ];

    /// Whether the tool keeps its sessions in an SQLite database (read from its path, never
    /// as a stream of lines).
    pub fn is_sqlite(self) -> bool {
        matches!(
            self,
            Tool::OpenCode | Tool::Kilo | Tool::Crush | Tool::Goose
        )
    }

    /// The stable name used in the database, on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::ClaudeCode => "claude-code",
            Tool::Codex => "codex",
            Tool::Gemini => "gemini",
            Tool::Aider => "aider",
            Tool::Copilot => "copilot",
            Tool::Cursor => "cursor",
            Tool::Qwen => "qwen-code",
            Tool::Pi => "pi",
            Tool::Droid => "droid",
            Tool::Kiro => "kiro",
            Tool::Continue => "continue",
            Tool::Cline => "cline",
            Tool::RooCode => "roo-code",
            Tool::KiloCode => "kilo-code",
            Tool::Amp => "amp",
            Tool::OpenCode => "opencode",
            Tool::Kilo => "kilo",
            Tool::Crush => "crush",
            Tool::Goose => "goose",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tool {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "claude-code" | "claude" => Ok(Tool::ClaudeCode),
            "codex" => Ok(Tool::Codex),
            "gemini" | "gemini-cli" => Ok(Tool::Gemini),
            "aider" => Ok(Tool::Aider),
            "copilot" | "copilot-cli" | "github-copilot" => Ok(Tool::Copilot),
            "cursor" | "cursor-agent" => Ok(Tool::Cursor),
            "qwen-code" | "qwen" => Ok(Tool::Qwen),
            "pi" | "pi-agent" => Ok(Tool::Pi),
            "droid" | "factory" | "factory-droid" => Ok(Tool::Droid),
            "kiro" | "kiro-cli" => Ok(Tool::Kiro),
            "continue" | "continue-dev" => Ok(Tool::Continue),
            "cline" => Ok(Tool::Cline),
            "roo-code" | "roo" | "roo-cline" => Ok(Tool::RooCode),
            "kilo-code" => Ok(Tool::KiloCode),
            "amp" => Ok(Tool::Amp),
            "opencode" => Ok(Tool::OpenCode),
            "kilo" | "kilo-cli" => Ok(Tool::Kilo),
            "crush" => Ok(Tool::Crush),
            "goose" => Ok(Tool::Goose),
            _ => Err(UnknownName {
                what: "tool",
                name: s.to_owned(),
                expected: "claude-code, codex, gemini, aider, copilot, cursor, qwen-code, pi, droid, kiro, continue, cline, roo-code, kilo-code, amp, opencode, kilo, crush, goose",
            }),
        }
    }
}

/// A name that is not one of a fixed set (a tool, a role, a message kind).
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown {what} '{name}' (expected one of: {expected})")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
    pub expected: &'static str,
}

/// Who produced a message.
///
/// `User` is reserved for what a human typed. Tool output that a transcript files under the user
/// (Claude Code's `tool_result` lines) is `Tool`; text the tool injected on its own (Codex's
/// `<environment_context>`, Aider's status lines) is `System`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
    Tool,
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::System => "system",
        }
    }
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "assistant" => Ok(Role::Assistant),
            "tool" => Ok(Role::Tool),
            "system" => Ok(Role::System),
            _ => Err(UnknownName {
                what: "role",
                name: s.to_owned(),
                expected: "user, assistant, tool, system",
            }),
        }
    }
}

/// What a message holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    Thinking,
    ToolUse,
    ToolResult,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Thinking => "thinking",
            Kind::ToolUse => "tool_use",
            Kind::ToolResult => "tool_result",
        }
    }
}

impl FromStr for Kind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Kind::Text),
            "thinking" => Ok(Kind::Thinking),
            "tool_use" => Ok(Kind::ToolUse),
            "tool_result" => Ok(Kind::ToolResult),
            _ => Err(UnknownName {
                what: "message kind",
                name: s.to_owned(),
                expected: "text, thinking, tool_use, tool_result",
            }),
        }
    }
}

/// One block of a conversation: a prompt, a reply, a thought, a tool call or its result.
///
/// A single model response that holds thinking, text and two tool calls becomes four messages
/// with consecutive ordinals; [`Session::message_count`] counts turns, not blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub kind: Kind,
    pub content: String,
    /// Unix milliseconds, when the transcript records it.
    pub timestamp: Option<i64>,
    /// For `tool_use` and `tool_result`: the tool's name (`Bash`, `apply_patch`, …) when known.
    pub tool_name: Option<String>,
}

impl Message {
    pub fn new(role: Role, kind: Kind, content: impl Into<String>, timestamp: Option<i64>) -> Self {
        Message {
            role,
            kind,
            content: content.into(),
            timestamp,
            tool_name: None,
        }
    }

    pub fn with_tool(mut self, name: impl Into<String>) -> Self {
        self.tool_name = Some(name.into());
        self
    }
}

/// What a session is, as far as its transcript says.
///
/// `machine_id`, `source_path` and the fingerprint are stamped by the import, not the parser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Stable across re-imports: the tool's own id where it has one.
    pub id: String,
    pub tool: Tool,
    pub tool_version: Option<String>,
    pub model: Option<String>,
    pub title: Option<String>,
    pub started_at: Option<i64>,
    /// The newest moment the transcript records; moves forward as a transcript grows.
    pub updated_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// The working directory the tool recorded. Never rebuilt from a folder name.
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    /// For a sub-agent transcript: the session that started it.
    pub parent_id: Option<String>,
    /// Human prompts plus assistant turns (see docs/importers.md for each tool's rule).
    pub message_count: u32,
}

impl SessionInfo {
    /// A session with only its identity filled in.
    pub fn new(id: impl Into<String>, tool: Tool) -> Self {
        SessionInfo {
            id: id.into(),
            tool,
            tool_version: None,
            model: None,
            title: None,
            started_at: None,
            updated_at: None,
            ended_at: None,
            cwd: None,
            git_branch: None,
            parent_id: None,
            message_count: 0,
        }
    }
}

/// How a link between a session and a commit was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// `lore link SESSION --commit REV`.
    Explicit,
    /// Made by the post-commit hook.
    Hook,
    /// Read from the transcript itself (Aider's `Commit <sha>` lines, Codex's `git.commit_hash`).
    Import,
    /// Found by `lore link --auto`.
    Auto,
    /// Taken back with `lore unlink`. Kept (with confidence 0 and the time of the removal) so
    /// that the removal travels through sync like the link did, and so that import and
    /// `--auto` do not make the link again; only `lore link` by hand does.
    Removed,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Explicit => "explicit",
            LinkKind::Hook => "hook",
            LinkKind::Import => "import",
            LinkKind::Auto => "auto",
            LinkKind::Removed => "removed",
        }
    }
}

impl FromStr for LinkKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "explicit" => Ok(LinkKind::Explicit),
            "hook" => Ok(LinkKind::Hook),
            "import" => Ok(LinkKind::Import),
            "auto" => Ok(LinkKind::Auto),
            "removed" => Ok(LinkKind::Removed),
            _ => Err(UnknownName {
                what: "link kind",
                name: s.to_owned(),
                expected: "explicit, hook, import, auto, removed",
            }),
        }
    }
}

/// A session joined to a commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// A full or abbreviated commit id, as the source gave it.
    pub commit: String,
    pub kind: LinkKind,
    /// 0.0 to 1.0; 1.0 for explicit and imported links.
    pub confidence: f64,
}

/// Everything an importer read from one transcript about one session.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSession {
    pub info: SessionInfo,
    pub messages: Vec<Message>,
    pub links: Vec<Link>,
}

/// A session's `message_count`: human prompts plus assistant turns (consecutive assistant
/// messages, tool calls included, count once; a tool result or a prompt ends a turn).
pub fn count_turns(messages: &[Message]) -> u32 {
    count_turn_roles(messages.iter().map(|m| m.role))
}

/// [`count_turns`] over the messages' roles alone (the rule for rows already stored).
pub fn count_turn_roles(roles: impl IntoIterator<Item = Role>) -> u32 {
    let mut n = 0u32;
    let mut in_turn = false;
    for role in roles {
        match role {
            Role::User => {
                n = n.saturating_add(1);
                in_turn = false;
            }
            Role::Assistant => {
                if !in_turn {
                    n = n.saturating_add(1);
                }
                in_turn = true;
            }
            Role::Tool => in_turn = false,
            Role::System => {}
        }
    }
    n
}
