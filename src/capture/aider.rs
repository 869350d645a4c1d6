//! Aider: `<repo>/.aider.chat.history.md`, one file per repository, appended to by every launch.
//!
//! Each launch starts a block headed `# aider chat started at YYYY-MM-DD HH:MM:SS` (local time);
//! each block is a session. `#### ` lines are what the user typed (a `/command` is a command,
//! not a prompt), `> ` lines ending with Aider's two spaces are Aider's own output (including
//! `Commit <sha> <msg>`), `<thinking-content-…>` blocks are the model's reasoning, anything else
//! is the model's reply. There are no per-message timestamps and no session id: the id is made
//! from the block's own text, never from the file's path. Rules in full: `docs/importers.md`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

use super::{LegacyId, LineIssue, ParseError, ParseReport};
use crate::model::{Kind, Link, LinkKind, Message, ParsedSession, Role, SessionInfo, Tool};

const HEADER: &str = "# aider chat started at ";

/// Reads an Aider chat history; header times are read in the system time zone.
pub fn parse(path: &Path, reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    parse_in(path, reader, &TimeZone::system())
}

/// [`parse`] with the time zone the header times are in.
pub fn parse_in(
    path: &Path,
    reader: &mut dyn BufRead,
    tz: &TimeZone,
) -> Result<ParseReport, ParseError> {
    let file = canonical(path);
    let cwd = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_string_lossy().into_owned());

    let mut report = ParseReport::default();
    let mut buf = Vec::new();
    let mut number = 0u64;
    let mut nonblank = false;
    let mut current: Option<Block> = None;
    // The unfinished last line could be a header being written.
    let mut tail_may_be_header = false;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        number += 1;
        if buf.last() != Some(&b'\n') {
            // Aider ends every write with a newline: this line is still being written.
            let tail = String::from_utf8_lossy(&buf);
            if !tail.trim().is_empty() {
                nonblank = true;
                report.truncated_tail = true;
                tail_may_be_header = HEADER.starts_with(&*tail) || tail.starts_with(HEADER);
            }
            break;
        }
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => {
                report.issues.push(LineIssue {
                    line: number,
                    message: "invalid UTF-8 replaced with U+FFFD".into(),
                });
                String::from_utf8_lossy(&buf)
            }
        };
        let line = text.trim_end_matches(['\n', '\r']);
        nonblank |= !line.trim().is_empty();
        if let Some(when) = line.strip_prefix(HEADER) {
            if let Some(done) = current.take() {
                push(&mut report, done.finish(cwd.as_deref(), tz));
            }
            current = Some(Block::new(when.trim()));
        } else if let Some(block) = current.as_mut() {
            block.line(line);
        }
    }
    // The last block without a prompt yet may still be having its banner written (its id
    // depends on the text up to the first prompt): it is read when the file grows.
    let pending = current.as_ref().is_some_and(|b| !b.has_prompt);
    if let Some(done) = current.take().filter(|b| b.has_prompt) {
        push(&mut report, done.finish(cwd.as_deref(), tz));
    }
    if !nonblank {
        return Err(ParseError::Empty);
    }
    if report.sessions.is_empty() && !tail_may_be_header && !pending {
        return Err(ParseError::NotATranscript {
            tool: Tool::Aider,
            reason: format!("no '{}' line", HEADER.trim_end()),
        });
    }
    // A message's identity is its place in its block: `b<n>`.
    report.keys = report
        .sessions
        .iter()
        .map(|s| (0..s.messages.len()).map(|n| format!("b{n}")).collect())
        .collect();
    Ok(report)
}

fn push(report: &mut ParseReport, (session, header): (ParsedSession, String)) {
    report.sessions.push(session);
    report.legacy_ids.push(Some(LegacyId::AiderPath { header }));
}

/// The id lore gave an Aider session before parser version 4: `aider-` + 16 hex digits of
/// sha256(`<canonical file path>\n<header time text>`). Import keeps it for a session lore.db
/// already holds under it (docs/importers.md, Aider).
pub fn legacy_id(file: &str, header: &str) -> String {
    let digest = Sha256::digest(format!("{file}\n{header}").as_bytes());
    format!("aider-{}", hex16(&digest))
}

fn hex16(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The history file's absolute path, resolved through symlinks when it exists.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    None,
    User,
    System,
    Assistant,
    Thinking,
}

/// Aider ends each line it writes itself (`> ` output, `#### ` prompts) with two spaces, a
/// Markdown line break; a model's reply is written as it came.
fn ends_as_aider_writes(line: &str) -> bool {
    line.ends_with("  ")
}

/// `<thinking-content-7bbeb8e1441453ad999a0bbba8a46d4b>` → the closing tag.
fn thinking_open(line: &str) -> Option<String> {
    let tag = line.trim().strip_prefix('<')?.strip_suffix('>')?;
    let hex = tag.strip_prefix("thinking-content-")?;
    (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| format!("</{tag}>"))
}

/// A prompt Aider runs as a command (`/add`, `/run`, `/ask …`, `!cmd`), not one it sends.
fn is_command(prompt: &str) -> bool {
    let mut chars = prompt.chars();
    match chars.next() {
        Some('/') => chars.next().is_some_and(|c| c.is_ascii_alphabetic()),
        Some('!') => chars.next().is_some_and(|c| !c.is_whitespace()),
        _ => false,
    }
}

/// One `# aider chat started at` block being read.
struct Block {
    header: String,
    messages: Vec<Message>,
    links: Vec<Link>,
    model: Option<String>,
    version: Option<String>,
    count: u32,
    part: Part,
    lines: Vec<String>,
    /// A blank line came after the last line of the current part.
    blank_since: bool,
    /// The current `> ` message's last line did not end with Aider's two spaces: Aider is
    /// still writing it (multi-line output, blank lines included).
    system_open: bool,
    /// Inside a `<thinking-content-…>` block: its closing tag.
    thinking_close: Option<String>,
    /// A `####` line was read.
    has_prompt: bool,
    /// The block's text up to and including its first `####` line: what its id is made of.
    id_text: String,
}

impl Block {
    fn new(header: &str) -> Self {
        Block {
            header: header.to_owned(),
            messages: Vec::new(),
            links: Vec::new(),
            model: None,
            version: None,
            count: 0,
            part: Part::None,
            lines: Vec::new(),
            blank_since: false,
            system_open: false,
            thinking_close: None,
            has_prompt: false,
            id_text: String::new(),
        }
    }

    fn line(&mut self, line: &str) {
        let prompt = strip_marker(line, "####");
        if !self.has_prompt {
            self.id_text.push_str(line);
            self.id_text.push('\n');
            self.has_prompt = prompt.is_some();
        }
        if let Some(close) = &self.thinking_close {
            if line.trim() == close {
                self.thinking_close = None;
                self.flush();
            } else {
                self.lines.push(line.trim_end().to_owned());
            }
            return;
        }
        if self.part == Part::System && self.system_open && prompt.is_none() {
            // Aider's multi-line output runs, blank lines included, to its last line.
            self.lines.push(line.trim_end().to_owned());
            self.system_open = !ends_as_aider_writes(line);
            return;
        }
        if line.trim().is_empty() {
            match self.part {
                // Prompts and status lines are written without blank lines inside.
                Part::User | Part::System => self.flush(),
                Part::Assistant => self.lines.push(String::new()),
                Part::None | Part::Thinking => {}
            }
            self.blank_since = true;
            return;
        }
        let aider_output = strip_marker(line, ">")
            // A `> ` line inside a reply is the reply's own Markdown quote, unless it ends
            // the way Aider ends what it writes.
            .filter(|_| self.part != Part::Assistant || ends_as_aider_writes(line));
        if let Some(rest) = prompt {
            let rest = if rest == "<blank>" { "" } else { rest };
            self.add(Part::User, rest);
        } else if let Some(rest) = aider_output {
            self.status(rest);
            self.add(Part::System, rest);
            self.system_open = !ends_as_aider_writes(line);
        } else if let Some(close) = thinking_open(line) {
            self.flush();
            self.part = Part::Thinking;
            self.thinking_close = Some(close);
        } else if self.part == Part::System && !self.blank_since {
            // Aider before the two-space rule prefixed only the first line of a message.
            self.add(Part::System, line.trim_end());
        } else {
            self.add(Part::Assistant, line.trim_end());
        }
    }

    fn add(&mut self, part: Part, text: &str) {
        if self.part != part {
            self.flush();
            self.part = part;
        }
        self.lines.push(text.to_owned());
        self.blank_since = false;
    }

    /// Reads what a status line says about the session.
    fn status(&mut self, text: &str) {
        if let Some(rest) = text.strip_prefix("Commit ") {
            let sha = rest.split_whitespace().next().unwrap_or("");
            if (7..=40).contains(&sha.len())
                && sha.bytes().all(|b| b.is_ascii_hexdigit())
                && !self.links.iter().any(|l| l.commit == sha)
            {
                self.links.push(Link {
                    commit: sha.to_owned(),
                    kind: LinkKind::Import,
                    confidence: 1.0,
                });
            }
        } else if let Some(rest) = text
            .strip_prefix("Main model: ")
            .or_else(|| text.strip_prefix("Model: "))
            .or_else(|| text.strip_prefix("Models: "))
        {
            if let Some(name) = rest.split_whitespace().next() {
                self.model = Some(name.to_owned());
            }
        } else if let Some(rest) = text.strip_prefix("Aider v")
            && let Some(v) = rest.split_whitespace().next()
        {
            self.version = Some(v.to_owned());
        }
    }

    fn flush(&mut self) {
        let part = std::mem::replace(&mut self.part, Part::None);
        if self.lines.is_empty() {
            return;
        }
        let mut text = self.lines.join("\n");
        self.lines.clear();
        let trimmed = text.trim_matches('\n');
        if trimmed.len() != text.len() {
            text = trimmed.to_owned();
        }
        if text.trim().is_empty() {
            return;
        }
        let (role, kind) = match part {
            Part::User if is_command(&text) => (Role::System, Kind::Text),
            Part::User => (Role::User, Kind::Text),
            Part::Assistant => (Role::Assistant, Kind::Text),
            Part::Thinking => (Role::Assistant, Kind::Thinking),
            Part::System | Part::None => (Role::System, Kind::Text),
        };
        // A reply and the reasoning before it are one turn.
        let same_turn = role == Role::Assistant
            && self
                .messages
                .last()
                .is_some_and(|m| m.role == Role::Assistant);
        if role != Role::System && !same_turn {
            self.count = self.count.saturating_add(1);
        }
        self.messages.push(Message::new(role, kind, text, None));
    }

    /// The session, and its header time text (what lore's id before parser version 4 used).
    fn finish(mut self, cwd: Option<&str>, tz: &TimeZone) -> (ParsedSession, String) {
        self.flush();
        let digest = Sha256::digest(format!("{}\n{}", self.header, self.id_text).as_bytes());
        let mut info = SessionInfo::new(format!("aider-{}", hex16(&digest)), Tool::Aider);
        let started = header_time(&self.header, tz);
        info.started_at = started;
        info.updated_at = started;
        info.ended_at = started;
        info.cwd = cwd.map(str::to_owned);
        info.model = self.model;
        info.tool_version = self.version;
        info.message_count = self.count;
        (
            ParsedSession {
                info,
                messages: self.messages,
                links: self.links,
            },
            self.header,
        )
    }
}

/// `#### text` → `text`; `####` alone → ``. Trailing spaces (Markdown line breaks) are dropped.
fn strip_marker<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(marker)?;
    if rest.is_empty() {
        return Some("");
    }
    let rest = rest.strip_prefix(' ')?;
    Some(rest.trim_end())
}

/// `2026-03-02 10:15:42` in `tz`, as Unix milliseconds.
fn header_time(text: &str, tz: &TimeZone) -> Option<i64> {
    let dt = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text).ok()?;
    let zoned = dt.to_zoned(tz.clone()).ok()?;
    Some(zoned.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/transcripts/aider/.aider.chat.history.md"
    );

    fn run(path: &str, bytes: &[u8]) -> Result<ParseReport, ParseError> {
        let mut reader = bytes;
        parse_in(Path::new(path), &mut reader, &TimeZone::UTC)
    }

    fn link(sha: &str) -> Link {
        Link {
            commit: sha.into(),
            kind: LinkKind::Import,
            confidence: 1.0,
        }
    }

    fn roles_and_text(s: &ParsedSession) -> Vec<(Role, &str)> {
        s.messages
            .iter()
            .map(|m| (m.role, m.content.as_str()))
            .collect()
    }

    #[test]
    fn fixture_two_sessions() {
        let r = run(FIXTURE, &std::fs::read(FIXTURE).unwrap()).unwrap();
        assert!(r.issues.is_empty());
        assert!(!r.truncated_tail);
        assert_eq!(r.sessions.len(), 2);
        let dir = std::fs::canonicalize(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/transcripts/aider"
        ))
        .unwrap();
        let file = dir.join(".aider.chat.history.md");

        let a = &r.sessions[0];
        // The id is made of the block's text (header time, banner, first prompt), not the path.
        let expected_id = {
            let text = "2026-03-02 10:15:42\n\n> /home/dev/.local/bin/aider --model sonnet  \n> Aider v0.86.2  \n> Main model: anthropic/claude-sonnet-4-5 with diff edit format  \n> Git repo: .git with 42 files  \n> Repo-map: using 4096 tokens, auto refresh  \n\n#### Make `acme status` skip binary files.  \n";
            let d = Sha256::digest(text.as_bytes());
            let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
            format!("aider-{}", &hex[..16])
        };
        let legacy = {
            let d = Sha256::digest(format!("{}\n2026-03-02 10:15:42", file.display()).as_bytes());
            let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
            format!("aider-{}", &hex[..16])
        };
        let Some(LegacyId::AiderPath { header }) = &r.legacy_ids[0] else {
            panic!("no legacy id");
        };
        assert_eq!(legacy_id(&file.to_string_lossy(), header), legacy);
        assert_eq!(a.info.id, expected_id);
        assert_eq!(a.info.tool, Tool::Aider);
        assert_eq!(a.info.cwd.as_deref(), Some(dir.to_str().unwrap()));
        assert_eq!(a.info.model.as_deref(), Some("anthropic/claude-sonnet-4-5"));
        assert_eq!(a.info.tool_version.as_deref(), Some("0.86.2"));
        // 2026-03-02 10:15:42 UTC
        assert_eq!(a.info.started_at, Some(1_772_446_542_000));
        assert_eq!(a.info.updated_at, a.info.started_at);
        assert_eq!(a.info.ended_at, a.info.started_at);
        assert_eq!(a.info.title, None);
        assert_eq!(a.info.message_count, 4);
        assert_eq!(a.links, vec![link("1a2b3c4"), link("5d6e7f8a9b")]);
        let m = roles_and_text(a);
        assert_eq!(m.len(), 7);
        assert_eq!(
            m[0],
            (
                Role::System,
                "/home/dev/.local/bin/aider --model sonnet\nAider v0.86.2\nMain model: anthropic/claude-sonnet-4-5 with diff edit format\nGit repo: .git with 42 files\nRepo-map: using 4096 tokens, auto refresh"
            )
        );
        assert_eq!(m[1], (Role::User, "Make `acme status` skip binary files."));
        assert_eq!(m[2].0, Role::Assistant);
        assert!(m[2].1.starts_with(
            "I'll add a NUL-byte check before reading a file.\n\nsrc/status.rs\n```rust\n"
        ));
        assert!(m[2].1.ends_with(">>>>>>> REPLACE\n```"));
        assert_eq!(
            m[3],
            (
                Role::System,
                "Tokens: 4.1k sent, 96 received. Cost: $0.01 message, $0.01 session.\nApplied edit to src/status.rs\nCommit 1a2b3c4 feat: Skip binary files in status"
            )
        );
        // Consecutive #### lines are one prompt.
        assert_eq!(
            m[4],
            (Role::User, "Now add a test for it.\nUse a temp dir.")
        );
        assert_eq!(
            m[5],
            (
                Role::Assistant,
                "Added `skips_binary_files` to tests/status.rs."
            )
        );
        assert_eq!(m[6].0, Role::System);
        assert!(
            a.messages
                .iter()
                .all(|m| m.timestamp.is_none() && m.kind == Kind::Text)
        );

        let b = &r.sessions[1];
        assert_ne!(b.info.id, a.info.id);
        assert_eq!(b.info.model.as_deref(), Some("gpt-4o"));
        assert_eq!(b.info.tool_version.as_deref(), Some("0.86.3"));
        assert_eq!(b.info.started_at, Some(1_772_524_805_000));
        assert!(b.links.is_empty());
        let got: Vec<(Role, Kind, &str)> = b
            .messages
            .iter()
            .map(|m| (m.role, m.kind, m.content.as_str()))
            .collect();
        assert_eq!(got.len(), 9, "{got:#?}");
        assert_eq!(got[0].0, Role::System);
        // Slash commands are commands, not prompts (nor titles).
        assert_eq!(got[1], (Role::System, Kind::Text, "/add src/status.rs"));
        assert_eq!(
            got[2],
            (Role::System, Kind::Text, "Added src/status.rs to the chat")
        );
        assert_eq!(got[3], (Role::System, Kind::Text, "/run cargo test"));
        assert_eq!(got[4].0, Role::System);
        assert_eq!(
            got[5],
            (Role::User, Kind::Text, "Why is `status_json` flaky?")
        );
        // Reasoning is its own message.
        assert_eq!(
            got[6],
            (
                Role::Assistant,
                Kind::Thinking,
                "The test compares JSON text.\n\nMap order is not fixed."
            )
        );
        // The whole reply, blank lines and its own Markdown quote included.
        assert_eq!(got[7].0, Role::Assistant);
        assert_eq!(got[7].1, Kind::Text);
        assert!(got[7].2.starts_with(
            "It depends on the iteration order of a `HashMap`; sort the keys first.\n\nAs the Rust docs say:\n\n> Iteration order is unspecified.\n\nSo use a `BTreeMap`.\n\nsrc/status.rs\n```rust\n"
        ));
        assert!(got[7].2.ends_with(">>>>>>> REPLACE\n```"));
        assert!(!got[7].2.contains("thinking-content"));
        // Aider's multi-line output runs through its blank lines to its last line.
        assert_eq!(got[8].0, Role::System);
        assert!(got[8].2.starts_with(
            "Tokens: 2.2k sent, 80 received.\nThe LLM did not conform to the edit format.\n# 1 SEARCH/REPLACE block failed to match!\n\n## SearchReplaceNoExactMatch"
        ));
        assert!(
            got[8]
                .2
                .ends_with("\n\nThe SEARCH section must exactly match an existing block of lines.")
        );
        // One prompt, one reply (its reasoning included).
        assert_eq!(b.info.message_count, 2);
    }

    #[test]
    fn header_time_uses_the_given_zone() {
        let tz = TimeZone::fixed(jiff::tz::offset(2));
        assert_eq!(
            header_time("2026-03-02 10:15:42", &tz),
            Some(1_772_446_542_000 - 2 * 3600 * 1000)
        );
        assert_eq!(header_time("yesterday", &tz), None);
    }

    #[test]
    fn ids_depend_on_content_not_on_the_path() {
        let input = b"# aider chat started at 2026-01-01 00:00:00\n#### hi\n";
        let a = run("/r1/.aider.chat.history.md", input).unwrap();
        let b = run("/elsewhere/r2/.aider.chat.history.md", input).unwrap();
        assert_eq!(a.sessions[0].info.id, b.sessions[0].info.id);
        assert_eq!(a.sessions[0].info.id.len(), "aider-".len() + 16);
        assert_eq!(a.sessions[0].info.cwd.as_deref(), Some("/r1"));
        assert_eq!(b.sessions[0].info.cwd.as_deref(), Some("/elsewhere/r2"));
        // The ids lore gave before depended on the path.
        let header = Some(LegacyId::AiderPath {
            header: "2026-01-01 00:00:00".into(),
        });
        assert_eq!(a.legacy_ids[0], header);
        assert_ne!(
            legacy_id("/r1/.aider.chat.history.md", "2026-01-01 00:00:00"),
            legacy_id(
                "/elsewhere/r2/.aider.chat.history.md",
                "2026-01-01 00:00:00"
            )
        );
        // Another launch time, or another first prompt, is another session.
        let c = run(
            "/r1/.aider.chat.history.md",
            b"# aider chat started at 2026-01-01 00:00:01\n#### hi\n",
        )
        .unwrap();
        let d = run(
            "/r1/.aider.chat.history.md",
            b"# aider chat started at 2026-01-01 00:00:00\n#### hello\n",
        )
        .unwrap();
        assert_ne!(c.sessions[0].info.id, a.sessions[0].info.id);
        assert_ne!(d.sessions[0].info.id, a.sessions[0].info.id);
        // A growing block keeps its id.
        let e = run(
            "/r1/.aider.chat.history.md",
            b"# aider chat started at 2026-01-01 00:00:00\n#### hi\n\nHello.\n\n#### more\n",
        )
        .unwrap();
        assert_eq!(e.sessions[0].info.id, a.sessions[0].info.id);
    }

    #[test]
    fn multi_line_status_and_blank_prompt_lines() {
        let input = "# aider chat started at 2026-01-01 00:00:00\n\n#### first  \n####  \n#### third  \n\n> Error: something broke  \nTraceback line 1\nTraceback line 2\n\nThe fix is simple.\n\n> Commit zzzzzzz not a sha  \n> Commit 0123456789abcdef0123456789abcdef01234567 full sha  \n";
        let r = run("/r/.aider.chat.history.md", input.as_bytes()).unwrap();
        let s = &r.sessions[0];
        assert_eq!(
            roles_and_text(s),
            vec![
                (Role::User, "first\n\nthird"),
                (
                    Role::System,
                    "Error: something broke\nTraceback line 1\nTraceback line 2"
                ),
                (Role::Assistant, "The fix is simple."),
                (
                    Role::System,
                    "Commit zzzzzzz not a sha\nCommit 0123456789abcdef0123456789abcdef01234567 full sha"
                ),
            ]
        );
        assert_eq!(
            s.links,
            vec![link("0123456789abcdef0123456789abcdef01234567")]
        );
        assert_eq!(s.info.message_count, 2);
    }

    #[test]
    fn header_only_block_is_a_session_and_text_before_it_is_ignored() {
        let input =
            b"stray text\n# aider chat started at 2026-01-01 00:00:00\n\n> Aider v0.86.2  \n\n# aider chat started at 2026-01-01 00:05:00\n\n#### hi  \n";
        let r = run("/r/.aider.chat.history.md", input).unwrap();
        assert_eq!(r.sessions.len(), 2);
        assert_eq!(r.sessions[0].messages.len(), 1);
        assert_eq!(r.sessions[0].info.message_count, 0);
        assert_eq!(r.sessions[0].info.started_at, Some(1_767_225_600_000));
    }

    #[test]
    fn a_last_block_without_a_prompt_waits_for_the_file_to_grow() {
        // Its banner may still be being written, and its id is made of it.
        let r = run(
            "/r/.aider.chat.history.md",
            b"# aider chat started at 2026-01-01 00:00:00\n\n> Aider v0.86.2  \n",
        )
        .unwrap();
        assert!(r.sessions.is_empty());
        let r = run(
            "/r/.aider.chat.history.md",
            b"# aider chat started at 2026-01-01 00:00:00\n\n#### hi  \n\n# aider chat started at 2026-01-01 00:09:00\n\n> Aider v0.86.2  \n",
        )
        .unwrap();
        assert_eq!(r.sessions.len(), 1);
        assert_eq!(r.legacy_ids.len(), 1);
    }

    #[test]
    fn quotes_commands_and_open_output() {
        let input = "# aider chat started at 2026-01-01 00:00:00\n\n#### !ls  \n> a.txt  \n\n#### /ask why?  \n\n#### why?  \n\nBecause:\n\n> quoted in the reply\n> still quoted\n\nDone.\n\n> Tokens: 1k sent.  \n\n#### /home is full, why?  \n";
        let r = run("/r/.aider.chat.history.md", input.as_bytes()).unwrap();
        let s = &r.sessions[0];
        assert_eq!(
            roles_and_text(s),
            vec![
                (Role::System, "!ls"),
                (Role::System, "a.txt"),
                (Role::System, "/ask why?"),
                (Role::User, "why?"),
                (
                    Role::Assistant,
                    "Because:\n\n> quoted in the reply\n> still quoted\n\nDone."
                ),
                (Role::System, "Tokens: 1k sent."),
                // Aider too would run this as a command: `/home` is not one, so it says so.
                (Role::System, "/home is full, why?"),
            ]
        );
        assert_eq!(s.info.message_count, 2);
        assert!(is_command("/add x") && is_command("!git status"));
        assert!(!is_command("/ x") && !is_command("! x") && !is_command("why /add?"));
    }

    #[test]
    fn empty_not_aider_truncated_and_invalid_utf8() {
        assert!(matches!(run("/r/h.md", b""), Err(ParseError::Empty)));
        assert!(matches!(
            run("/r/h.md", b"\n\n  \n"),
            Err(ParseError::Empty)
        ));
        assert!(matches!(
            run("/r/README.md", b"# Title\n\nSome text.\n"),
            Err(ParseError::NotATranscript {
                tool: Tool::Aider,
                ..
            })
        ));
        assert!(matches!(
            run("/r/README.md", b"# Title\n\nNo newline at the end"),
            Err(ParseError::NotATranscript {
                tool: Tool::Aider,
                ..
            })
        ));
        // A first header still being written.
        let r = run("/r/h.md", b"\n# aider chat sta").unwrap();
        assert!(r.sessions.is_empty());
        assert!(r.truncated_tail);
        let mut input = b"# aider chat started at 2026-01-01 00:00:00\n#### caf\xe9\n".to_vec();
        input.extend_from_slice(b"> Commit 1234567 par");
        let r = run("/r/h.md", &input).unwrap();
        assert!(r.truncated_tail);
        assert_eq!(r.issues.iter().map(|i| i.line).collect::<Vec<_>>(), vec![2]);
        let s = &r.sessions[0];
        assert_eq!(roles_and_text(s), vec![(Role::User, "caf\u{fffd}")]);
        // The unfinished line is left for the next import.
        assert!(s.links.is_empty());
    }
}
