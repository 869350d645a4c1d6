//! `lore blame`: which commit last changed each line of a file (the user's `git blame
//! --porcelain`, read as it streams), then the sessions linked to those commits, then the
//! messages in those sessions that mention the file or the changed code.
//!
//! Nothing here prints: [`blame`] returns the lines and commits, [`reasoning`] the messages
//! for one commit, and the CLI renders them.

use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;

use regex::{Regex, RegexBuilder};

use crate::db::query::ForEachError;
use crate::db::{Db, DbError, SessionRow};
use crate::link::{Git, GitError};
use crate::model::{Kind, Link, Role};

/// The id git gives lines that are not committed yet.
const UNCOMMITTED: &str = "0000000000000000000000000000000000000000";

/// How many bytes are read to tell a binary file from a text one (git's own rule: a NUL in
/// the first 8000 bytes).
const BINARY_PROBE: usize = 8000;

/// Why a file could not be blamed.
#[derive(Debug, thiserror::Error)]
pub enum BlameError {
    #[error("no such file: {0}")]
    NoSuchFile(PathBuf),
    #[error("{0} is a folder: blame a file in it")]
    Folder(PathBuf),
    #[error(
        "{path} is outside the repository at {root}: run lore blame in the repository that holds it",
        path = path.display(), root = root.display()
    )]
    OutsideRepository { path: PathBuf, root: PathBuf },
    #[error("{0} is a binary file: lore blame reads text files")]
    Binary(PathBuf),
    #[error("{0} is not committed yet: git has no history for it, so no reasoning can be linked")]
    NotCommitted(PathBuf),
    #[error("line numbers start at 1: '{0}' is not a line range")]
    ZeroLine(String),
    #[error("line range {start}-{end} is reversed: give START-END with START at most END")]
    Reversed { start: u32, end: u32 },
    #[error("'{0}' is not a line range: use LINE, START-END, START,END or START,+COUNT")]
    BadRange(String),
    #[error(
        "'{0}' is not a line range for -L: use START,END, START,+COUNT, END,-COUNT, START (to the \
         end), START, or ,END (line numbers)"
    )]
    BadLines(String),
    #[error(
        "-L '{0}': lore blame takes line numbers only; git's /regex/ and :funcname ranges are not \
         supported, run git blame -L to find the lines, then give their numbers"
    )]
    UnsupportedRange(String),
    #[error("line {line} is past the end of {path} ({count} line{s})", s = if *count == 1 { "" } else { "s" })]
    PastEnd {
        line: u32,
        path: PathBuf,
        count: u32,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("git blame printed something lore does not understand: {0}")]
    Porcelain(String),
}

/// Lines `start..=end`, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRange {
    pub start: u32,
    pub end: u32,
}

impl LineRange {
    /// Reads `N`, `N-M`, `N,M` or `N,+COUNT` (git blame's `-L` forms with numbers).
    pub fn parse(s: &str) -> Result<LineRange, BlameError> {
        let bad = || BlameError::BadRange(s.to_owned());
        let num = |t: &str| t.trim().parse::<u32>().map_err(|_| bad());
        let (start, end) = match s.split_once(['-', ',']) {
            Some((a, b)) if b.trim_start().starts_with('+') => {
                let start = num(a)?;
                let count = num(b.trim_start().trim_start_matches('+'))?;
                if count == 0 {
                    return Err(bad());
                }
                (start, start.saturating_add(count - 1))
            }
            Some((a, b)) => (num(a)?, num(b)?),
            None => {
                let n = num(s)?;
                (n, n)
            }
        };
        if start == 0 || end == 0 {
            return Err(BlameError::ZeroLine(s.to_owned()));
        }
        if start > end {
            return Err(BlameError::Reversed { start, end });
        }
        Ok(LineRange { start, end })
    }
}

/// The end of a range that runs to the file's last line (`-L START`, `-L START,`).
pub const TO_END: u32 = u32::MAX;

impl LineRange {
    /// Reads the numeric forms of git blame's `-L`: `START,END`, `START,+COUNT`,
    /// `END,-COUNT` (COUNT lines ending at END), `START` and `START,` (to the end: the range
    /// ends at [`TO_END`] until [`blame`] knows the file's length), `,END` (from line 1); and
    /// lore's `START-END`. git's `/regex/` and `:funcname` forms are refused with a clear
    /// error.
    pub fn parse_option(s: &str) -> Result<LineRange, BlameError> {
        let t = s.trim();
        let unsupported = || BlameError::UnsupportedRange(s.to_owned());
        let bad = || BlameError::BadLines(s.to_owned());
        if t.starts_with(['/', ':', '^']) {
            return Err(unsupported());
        }
        let num = |t: &str| t.trim().parse::<u32>().map_err(|_| bad());
        let (start, end) = match t.split_once(',') {
            None => match t.split_once('-') {
                Some((a, b)) if !a.trim().is_empty() => (num(a)?, num(b)?),
                Some(_) => return Err(bad()),
                None => (num(t)?, TO_END),
            },
            Some((a, b)) => {
                let b = b.trim();
                if b.starts_with('/') {
                    return Err(unsupported());
                }
                let start = if a.trim().is_empty() { 1 } else { num(a)? };
                if b.is_empty() {
                    if a.trim().is_empty() {
                        return Err(bad());
                    }
                    (start, TO_END)
                } else if let Some(k) = b.strip_prefix('+') {
                    let count = num(k)?;
                    if count == 0 {
                        return Err(bad());
                    }
                    (start, start.saturating_add(count - 1))
                } else if let Some(k) = b.strip_prefix('-') {
                    let count = num(k)?;
                    if count == 0 || a.trim().is_empty() {
                        return Err(bad());
                    }
                    // COUNT lines ending at the line given, from line 1 at the earliest.
                    (start.saturating_sub(count - 1).max(1), start)
                } else {
                    (start, num(b)?)
                }
            }
        };
        if start == 0 || end == 0 {
            return Err(BlameError::ZeroLine(s.to_owned()));
        }
        if start > end {
            return Err(BlameError::Reversed { start, end });
        }
        Ok(LineRange { start, end })
    }
}

/// Splits `FILE:LINE[-END]` into the file and the range. A name that exists as given is a
/// file, whatever it holds (`notes:12` may be a file name); otherwise a suffix after the last
/// `:` that reads as a range is one.
pub fn parse_target(arg: &str) -> Result<(PathBuf, Option<LineRange>), BlameError> {
    if Path::new(arg).exists() {
        return Ok((PathBuf::from(arg), None));
    }
    if let Some((file, range)) = arg.rsplit_once(':')
        && !file.is_empty()
        && range.chars().next().is_some_and(|c| c.is_ascii_digit())
    {
        return Ok((PathBuf::from(file), Some(LineRange::parse(range)?)));
    }
    Ok((PathBuf::from(arg), None))
}

/// A commit that last changed some of the blamed lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlameCommit {
    /// The full id; all zeros for lines not committed yet.
    pub id: String,
    pub author: String,
    pub author_email: String,
    /// Author time, Unix ms.
    pub author_time: i64,
    pub subject: String,
    /// The file's path in that commit (differs from today's after a rename).
    pub path: String,
    /// The lines of the blamed range it last changed (final line numbers, ascending).
    pub lines: Vec<u32>,
}

impl BlameCommit {
    /// Whether these are lines changed in the work tree and not committed yet.
    pub fn uncommitted(&self) -> bool {
        self.id == UNCOMMITTED
    }
}

/// One blamed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlameLine {
    /// The line number in the file today.
    pub line: u32,
    /// Index into [`Blame::commits`].
    pub commit: usize,
    pub text: String,
}

/// A blamed file: its lines and the commits they came from, in order of first appearance.
#[derive(Debug, Clone)]
pub struct Blame {
    /// The file, relative to the work tree's top.
    pub path: String,
    pub range: Option<LineRange>,
    pub lines: Vec<BlameLine>,
    pub commits: Vec<BlameCommit>,
}

/// The path of `file` (as given on the command line, relative to `cwd`) inside the work tree
/// `root`, after checking that it is a text file there.
pub fn locate(root: &Path, cwd: &Path, file: &Path) -> Result<(String, u32), BlameError> {
    let abs = if file.is_absolute() {
        file.to_path_buf()
    } else {
        cwd.join(file)
    };
    // The entry itself, not what a symlink points to: git tracks a symlink as a file whose
    // content is the target's path.
    let meta = std::fs::symlink_metadata(&abs).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => BlameError::NoSuchFile(file.to_path_buf()),
        _ => BlameError::Io {
            path: file.to_path_buf(),
            source: e,
        },
    })?;
    if meta.is_dir() {
        return Err(BlameError::Folder(file.to_path_buf()));
    }
    // The folder resolved (symlinks, `..`), the name kept: a symlinked file is blamed as the
    // link git tracks.
    let name = abs.file_name().map(|n| n.to_owned());
    let parent = abs.parent().unwrap_or(Path::new("/"));
    let parent = std::fs::canonicalize(parent).unwrap_or_else(|_| normalize(parent));
    let real = match name {
        Some(n) => parent.join(n),
        None => parent,
    };
    let Ok(rel) = real.strip_prefix(root) else {
        return Err(BlameError::OutsideRepository {
            path: file.to_path_buf(),
            root: root.to_path_buf(),
        });
    };
    if rel
        .components()
        .next()
        .is_some_and(|c| c.as_os_str() == ".git")
    {
        return Err(BlameError::OutsideRepository {
            path: file.to_path_buf(),
            root: root.to_path_buf(),
        });
    }
    // A symlink is blamed as git stores it: one line, the target's path (no newline).
    let (binary, count) = if meta.file_type().is_symlink() {
        (false, 1)
    } else {
        probe(&real).map_err(|source| BlameError::Io {
            path: file.to_path_buf(),
            source,
        })?
    };
    if binary {
        return Err(BlameError::Binary(file.to_path_buf()));
    }
    Ok((rel.to_string_lossy().replace('\\', "/"), count))
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Whether the file looks binary, and how many lines it has; read in blocks, never whole.
fn probe(path: &Path) -> std::io::Result<(bool, u32)> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut lines: u32 = 0;
    let mut seen = 0usize;
    let mut last = b'\n';
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        if seen < BINARY_PROBE {
            let upto = (BINARY_PROBE - seen).min(n);
            if chunk[..upto].contains(&0) {
                return Ok((true, 0));
            }
        }
        seen += n;
        lines = lines.saturating_add(chunk.iter().filter(|&&b| b == b'\n').count() as u32);
        last = chunk[n - 1];
    }
    if last != b'\n' {
        lines = lines.saturating_add(1);
    }
    Ok((false, lines))
}

/// Blames `path` (relative to the work tree, `line_count` lines long) over `range`.
///
/// Lines are as they are in the work tree: lines changed and not committed yet belong to a
/// commit whose [`BlameCommit::uncommitted`] is true. git follows renames of the whole file.
pub fn blame(
    git: &Git,
    path: &str,
    line_count: u32,
    range: Option<LineRange>,
) -> Result<Blame, BlameError> {
    // A range to the end ends at the last line (or at its start, which is then past it).
    let range = range.map(|r| LineRange {
        start: r.start,
        end: if r.end == TO_END {
            line_count.max(r.start)
        } else {
            r.end
        },
    });
    if let Some(r) = range {
        for line in [r.start, r.end] {
            if line > line_count {
                return Err(BlameError::PastEnd {
                    line,
                    path: PathBuf::from(path),
                    count: line_count,
                });
            }
        }
    }
    let mut blame = Blame {
        path: path.to_owned(),
        range,
        lines: Vec::new(),
        commits: Vec::new(),
    };
    // An empty file is blamed too: git says whether it has history (an empty untracked
    // file is not committed yet, not just empty).
    let l_arg = range.map(|r| format!("-L{},{}", r.start, r.end));
    let mut args = vec!["blame", "--porcelain"];
    if let Some(l) = &l_arg {
        args.push(l);
    }
    args.extend(["--", path]);
    let mut child = git
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| git.spawn_error(e))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| BlameError::Porcelain("no output".into()))?;
    // stderr is read on a thread so a chatty git never blocks on a full pipe.
    let stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(mut e) = stderr {
            let _ = e.read_to_end(&mut s);
        }
        s
    });
    let parsed = read_porcelain(BufReader::with_capacity(64 * 1024, stdout), &mut blame);
    let status = child.wait().map_err(|e| git.spawn_error(e))?;
    let stderr = errors.join().unwrap_or_default();
    if !status.success() {
        let message = crate::link::git::first_error_line(&stderr);
        // An untracked file, or a repository without a commit yet.
        if message.starts_with("no such path") || !git.has_commits().unwrap_or(true) {
            return Err(BlameError::NotCommitted(PathBuf::from(path)));
        }
        return Err(GitError::Failed {
            command: "blame".into(),
            message,
        }
        .into());
    }
    parsed?;
    Ok(blame)
}

/// Reads `git blame --porcelain` into `blame`, one line at a time.
fn read_porcelain(mut r: impl BufRead, blame: &mut Blame) -> Result<(), BlameError> {
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut buf = Vec::new();
    let mut current: Option<(usize, u32)> = None;
    loop {
        buf.clear();
        let n = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| BlameError::Porcelain(e.to_string()))?;
        if n == 0 {
            break;
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        if let Some(content) = buf.strip_prefix(b"\t") {
            let Some((commit, line)) = current.take() else {
                return Err(BlameError::Porcelain("a line before its header".into()));
            };
            // A CRLF file's lines keep no carriage return: they are shown, not written back.
            let content = content.strip_suffix(b"\r").unwrap_or(content);
            blame.lines.push(BlameLine {
                line,
                commit,
                text: String::from_utf8_lossy(content).into_owned(),
            });
            blame.commits[commit].lines.push(line);
            continue;
        }
        let line = String::from_utf8_lossy(&buf);
        let (key, value) = line.split_once(' ').unwrap_or((&line, ""));
        match current {
            // A header: `<id> <orig line> <final line> [<group size>]`.
            None => {
                let mut f = value.split(' ');
                let final_line = f
                    .nth(1)
                    .and_then(|n| n.parse::<u32>().ok())
                    .ok_or_else(|| BlameError::Porcelain(line.to_string()))?;
                let i = match index.get(key) {
                    Some(&i) => i,
                    None => {
                        blame.commits.push(BlameCommit {
                            id: key.to_owned(),
                            author: String::new(),
                            author_email: String::new(),
                            author_time: 0,
                            subject: String::new(),
                            path: blame.path.clone(),
                            lines: Vec::new(),
                        });
                        index.insert(key.to_owned(), blame.commits.len() - 1);
                        blame.commits.len() - 1
                    }
                };
                current = Some((i, final_line));
            }
            Some((i, _)) => {
                let c = &mut blame.commits[i];
                match key {
                    "author" => c.author = value.to_owned(),
                    "author-mail" => {
                        c.author_email = value
                            .trim_start_matches('<')
                            .trim_end_matches('>')
                            .to_owned()
                    }
                    "author-time" => c.author_time = value.parse::<i64>().unwrap_or(0) * 1000,
                    "summary" => c.subject = value.to_owned(),
                    "filename" => c.path = crate::link::git::unquote_path(value),
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// Why a message was picked as reasoning for a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mention {
    /// It quotes one of the commit's blamed lines.
    Code,
    /// It is the assistant's text just before a tool call that wrote those lines.
    BeforeEdit,
    /// It is the text just before a tool call that wrote to the file (not those lines).
    BeforeFileEdit,
    /// It names the file.
    File,
}

impl Mention {
    /// The stable name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Mention::Code => "code",
            Mention::BeforeEdit => "before-edit",
            Mention::BeforeFileEdit => "before-file-edit",
            Mention::File => "file",
        }
    }
}

/// A message picked as reasoning, cut to an excerpt.
#[derive(Debug, Clone, PartialEq)]
pub struct Excerpt {
    /// The message's position in its session, from 0.
    pub ordinal: usize,
    pub role: Role,
    pub kind: Kind,
    pub timestamp: Option<i64>,
    pub mention: Mention,
    pub text: String,
}

/// A session linked to a commit, with the messages that explain it.
#[derive(Debug, Clone)]
pub struct Reasoning {
    pub session: SessionRow,
    /// The session's link to the commit; `None` when the content index alone found it (its
    /// tool calls wrote these lines, and it is not linked to the commit that carries them).
    pub link: Option<Link>,
    /// Why the link exists, as recorded (or implied by its kind); `None` when unknown.
    pub evidence: Option<crate::link::Evidence>,
    /// Of the commit's blamed lines (those long enough to be evidence), how many the
    /// session's writing tool calls produced, and how many there are.
    pub wrote_lines: usize,
    pub lines_considered: usize,
    /// Whether the session's writing tool calls wrote to the file.
    pub wrote_file: bool,
    /// At most the number asked for, the surest first.
    pub messages: Vec<Excerpt>,
    /// How many messages matched in all.
    pub matched: usize,
}

/// What the messages of a session are searched for: the file's names and the commit's lines.
pub struct Needles {
    file: Option<Regex>,
    code: Code,
    /// The commit's lines as compared with what tool calls wrote ([`crate::link::evidence`]).
    normalised: Vec<String>,
}

/// A commit's lines: a few are searched one by one (no regex to compile), many through one
/// regex (one pass over each message).
enum Code {
    None,
    Few(Vec<String>),
    Many(Regex),
}

impl Code {
    /// The first match, as a byte range.
    fn find(&self, text: &str) -> Option<(usize, usize)> {
        match self {
            Code::None => None,
            Code::Few(lines) => lines
                .iter()
                .filter_map(|l| text.find(l.as_str()).map(|at| (at, at + l.len())))
                .min(),
            Code::Many(r) => r.find(text).map(|m| (m.start(), m.end())),
        }
    }
}

/// Lines shorter than this (trimmed) are too common to quote as evidence (`}`, `else {`).
const MIN_CODE_LINE: usize = 12;
/// At most this many of a commit's lines are searched for, the longest first.
const MAX_CODE_LINES: usize = 200;
/// Up to this many lines are searched for one by one; more through a regex.
const FEW_CODE_LINES: usize = 24;

fn build_regex(alts: &[String]) -> Option<Regex> {
    if alts.is_empty() {
        return None;
    }
    RegexBuilder::new(&alts.join("|"))
        .size_limit(64 << 20)
        .build()
        .ok()
}

/// A regex matching any of `paths`, or its bare name as a word (not inside a longer name or
/// path segment). ASCII classes only: Unicode word tables would cost more to compile than
/// the whole search.
pub fn file_regex(paths: &[&str]) -> Option<Regex> {
    let mut names: Vec<String> = Vec::new();
    for p in paths {
        names.push(regex::escape(p));
        if let Some(base) = Path::new(p).file_name().and_then(|b| b.to_str())
            && base != *p
        {
            names.push(format!(
                r"(?:^|[^A-Za-z0-9_./-]){}(?:$|[^A-Za-z0-9_])",
                regex::escape(base)
            ));
        }
    }
    build_regex(&names)
}

impl Needles {
    /// Needles for a commit: its lines' text and the file's names in it (`paths`).
    pub fn new<'a>(paths: &[&str], lines: impl Iterator<Item = &'a str>) -> Needles {
        Needles::with_file_regex(file_regex(paths), lines)
    }

    /// Needles with a file regex made once for many commits (see [`file_regex`]).
    pub fn with_file_regex<'a>(
        file: Option<Regex>,
        lines: impl Iterator<Item = &'a str>,
    ) -> Needles {
        let lines: Vec<&str> = lines.collect();
        let mut normalised: Vec<String> = lines
            .iter()
            .map(|l| crate::link::evidence::normalise(l))
            .filter(|l| crate::link::evidence::is_significant(l))
            .collect();
        normalised.sort();
        normalised.dedup();
        let mut code: Vec<&str> = lines
            .into_iter()
            .map(str::trim)
            .filter(|l| l.len() >= MIN_CODE_LINE && l.chars().any(char::is_alphanumeric))
            .collect();
        code.sort_by_key(|l| std::cmp::Reverse(l.len()));
        code.dedup();
        code.truncate(MAX_CODE_LINES);
        let code = if code.is_empty() {
            Code::None
        } else if code.len() <= FEW_CODE_LINES {
            Code::Few(code.iter().map(|l| (*l).to_owned()).collect())
        } else {
            let alts: Vec<String> = code.iter().map(|l| regex::escape(l)).collect();
            build_regex(&alts).map_or(Code::None, Code::Many)
        };
        Needles {
            file,
            code,
            normalised,
        }
    }
}

/// The messages of session `linked` that explain a commit, at most `limit` (0: all).
///
/// A message that quotes the commit's lines comes first; a tool call that wrote them brings
/// the text just before it in its turn (the why of the edit: the assistant's text, else the
/// prompt); then messages that name the file.
/// Tool output (file reads, command output) is not searched: it quotes whole files.
pub fn reasoning(
    store: &Db,
    linked: crate::db::LinkedSession,
    needles: &Needles,
    limit: usize,
) -> Result<Reasoning, ForEachError> {
    let crate::db::LinkedSession {
        session,
        link,
        evidence,
    } = linked;
    let evidence = crate::link::Evidence::of_link(link.kind, evidence.as_deref());
    reasoning_of(store, session, Some(link), evidence, needles, limit)
}

/// The messages of `session` that explain lines it is not linked to the commit of: found by
/// the content index only ([`Reasoning::link`] is `None`).
pub fn reasoning_by_content(
    store: &Db,
    session: SessionRow,
    needles: &Needles,
    limit: usize,
) -> Result<Reasoning, ForEachError> {
    reasoning_of(store, session, None, None, needles, limit)
}

fn reasoning_of(
    store: &Db,
    session: SessionRow,
    link: Option<Link>,
    evidence: Option<crate::link::Evidence>,
    needles: &Needles,
    limit: usize,
) -> Result<Reasoning, ForEachError> {
    let mut writes = crate::link::Writes::default();
    let mut found: Vec<Excerpt> = Vec::new();
    let mut last_text: Option<Excerpt> = None;
    let mut ordinal = 0usize;
    store.for_each_message(&session.id, |m| {
        let i = ordinal;
        ordinal += 1;
        if m.kind == Kind::ToolResult || m.role == Role::Tool || m.role == Role::System {
            return Ok(());
        }
        // A tool call's input is JSON: its strings are compared decoded, so that a line with
        // a `"`, a `\\` or a tab matches what the call wrote.
        let input = crate::link::evidence::tool_input(m.tool_name.as_deref(), &m.content);
        let decoded = (m.kind == Kind::ToolUse).then(|| decoded_strings(input));
        let searched = decoded.as_deref().unwrap_or(&m.content);
        // What this message wrote, compared normalised with the lines (a re-indented or
        // re-spaced copy of the line still makes it the edit that wrote them).
        let mut wrote = crate::content::Writes::default();
        let wrote_needle = wrote.add_message(m.role, m.kind, m.tool_name.as_deref(), &m.content)
            && wrote
                .lines
                .iter()
                .any(|l| needles.normalised.binary_search(l).is_ok());
        writes.lines.extend(wrote.lines);
        writes.paths.push_str(&wrote.paths);
        let code_at = needles.code.find(searched);
        let file_at = needles
            .file
            .as_ref()
            .and_then(|r| r.find(searched))
            .map(|m| (m.start(), m.end()));
        let excerpt = |mention, at: usize, end: usize| Excerpt {
            ordinal: i,
            role: m.role,
            kind: m.kind,
            timestamp: m.timestamp,
            mention,
            text: cut(&m.content, at, end),
        };
        if m.kind == Kind::ToolUse {
            if code_at.is_some() || wrote_needle || file_at.is_some() {
                let why = if code_at.is_some() || wrote_needle {
                    Mention::BeforeEdit
                } else {
                    Mention::BeforeFileEdit
                };
                if let Some(mut t) = last_text.take()
                    && !found.iter().any(|e| e.ordinal == t.ordinal)
                {
                    t.mention = why;
                    found.push(t);
                }
            }
            return Ok(());
        }
        if let Some((at, end)) = code_at {
            found.push(excerpt(Mention::Code, at, end));
        } else if let Some((at, end)) = file_at {
            found.push(excerpt(Mention::File, at, end));
        }
        // The text a tool call follows: the assistant's, or, when the assistant said nothing
        // since, the prompt that asked for it. A new prompt forgets the previous turn's text.
        if m.kind == Kind::Text && (m.role == Role::Assistant || m.role == Role::User) {
            last_text = Some(excerpt(Mention::File, 0, 0));
        }
        Ok(())
    })?;
    let matched = found.len();
    let rank = |m: Mention| match m {
        Mention::Code => 0,
        Mention::BeforeEdit => 1,
        Mention::BeforeFileEdit => 2,
        Mention::File => 3,
    };
    let wrote_lines = needles
        .normalised
        .iter()
        .filter(|l| writes.lines.contains(*l))
        .count();
    let wrote_file = needles
        .file
        .as_ref()
        .is_some_and(|r| r.is_match(&writes.paths));
    found.sort_by_key(|e| (rank(e.mention), e.ordinal));
    if limit > 0 {
        found.truncate(limit);
    }
    found.sort_by_key(|e| e.ordinal);
    Ok(Reasoning {
        session,
        link,
        evidence,
        wrote_lines,
        lines_considered: needles.normalised.len(),
        wrote_file,
        messages: found,
        matched,
    })
}

/// The strings of a tool call's JSON input, decoded, one after the other (a line each at
/// least); the text as it is when it is not JSON.
fn decoded_strings(content: &str) -> String {
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(o) => o.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(content) {
        Ok(v) => {
            let mut out = String::new();
            walk(&v, &mut out);
            out
        }
        Err(_) => content.to_owned(),
    }
}

/// At most this many characters of a message are shown.
const EXCERPT_CHARS: usize = 600;

/// The char boundary at or before byte `i` of `s` (its length when past the end).
fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The char boundary at or after byte `i` of `s` (its length when past the end).
fn ceil_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// `text` (trimmed) whole when short, else about [`EXCERPT_CHARS`] around bytes `at..end`
/// (offsets into `text` as given, before trimming).
fn cut(text: &str, at: usize, end: usize) -> String {
    // The match offsets count the leading whitespace that trimming drops.
    let lead = text.len() - text.trim_start().len();
    let text = text.trim();
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_owned();
    }
    let at = floor_boundary(text, at.saturating_sub(lead));
    let end = ceil_boundary(text, end.saturating_sub(lead)).max(at);
    let before = EXCERPT_CHARS / 3;
    let mut start = text[..at]
        .char_indices()
        .rev()
        .nth(before)
        .map_or(0, |(i, _)| i);
    // Start at a line when one is near.
    if let Some(nl) = text[start..at].find('\n') {
        start += nl + 1;
    }
    let mut stop = text[end..]
        .char_indices()
        .nth(EXCERPT_CHARS.saturating_sub(before + text[at..end].chars().count()))
        .map_or(text.len(), |(i, _)| end + i);
    if let Some(nl) = text[end..stop].rfind('\n') {
        stop = end + nl;
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(text[start..stop].trim());
    if stop < text.len() {
        out.push('…');
    }
    out
}

/// Finds the reasoning for the commits of one blame, compiling each file-name regex once.
pub struct Reasoner<'s> {
    store: &'s Db,
    limit: usize,
    files: std::collections::HashMap<String, Option<Regex>>,
}

impl<'s> Reasoner<'s> {
    /// At most `limit` messages per session (0: all).
    pub fn new(store: &'s Db, limit: usize) -> Reasoner<'s> {
        Reasoner {
            store,
            limit,
            files: Default::default(),
        }
    }

    /// The sessions linked to `commit`, and those the content index says wrote its lines
    /// (at most [`MAX_CONTENT_SESSIONS`] of those not linked), with their reasoning for the
    /// lines `blame` gave it. Lines not committed yet have no link: only the content index
    /// finds who wrote them.
    pub fn commit(&mut self, blame: &Blame, commit: &BlameCommit) -> Result<Found, ReasoningError> {
        let linked = if commit.uncommitted() {
            Vec::new()
        } else {
            self.store.sessions_for_commit(&commit.id)?
        };
        let idx = blame.commits.iter().position(|c| c.id == commit.id);
        let lines = blame
            .lines
            .iter()
            .filter(|l| Some(l.commit) == idx)
            .map(|l| l.text.as_str());
        let file = self
            .files
            .entry(commit.path.clone())
            .or_insert_with(|| {
                let mut paths = vec![blame.path.as_str()];
                if commit.path != blame.path {
                    paths.push(commit.path.as_str());
                }
                file_regex(&paths)
            })
            .clone();
        let needles = Needles::with_file_regex(file, lines);
        // The sessions whose messages wrote these lines, by the content index: how many of
        // the lines each wrote.
        let hashes: Vec<i64> = needles
            .normalised
            .iter()
            .map(|l| crate::content::line_hash(l))
            .collect();
        let mut wrote: std::collections::HashMap<String, std::collections::HashSet<i64>> =
            Default::default();
        if !hashes.is_empty() {
            for m in self.store.content_matches(&hashes)? {
                wrote.entry(m.session_id).or_default().insert(m.hash);
            }
        }
        let mut out = Vec::with_capacity(linked.len());
        let mut seen = std::collections::HashSet::new();
        for l in linked {
            // A session linked by a full and an abbreviated id appears once.
            if !seen.insert(l.session.id.clone()) {
                continue;
            }
            out.push(reasoning(self.store, l, &needles, self.limit)?);
        }
        // Those found by content alone: the most lines written first, then the latest.
        let mut by_content: Vec<(String, usize)> = wrote
            .into_iter()
            .filter(|(id, _)| !seen.contains(id))
            .map(|(id, h)| (id, h.len()))
            .collect();
        let mut rows: Vec<(SessionRow, usize)> = Vec::with_capacity(by_content.len());
        for (id, n) in by_content.drain(..) {
            match self.store.session(&id) {
                Ok(row) => rows.push((row, n)),
                Err(DbError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        rows.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| {
                    b.0.started_at
                        .or(b.0.updated_at)
                        .cmp(&a.0.started_at.or(a.0.updated_at))
                })
                .then_with(|| a.0.id.cmp(&b.0.id))
        });
        let more_by_content = rows.len().saturating_sub(MAX_CONTENT_SESSIONS);
        for (row, _) in rows.into_iter().take(MAX_CONTENT_SESSIONS) {
            out.push(reasoning_by_content(self.store, row, &needles, self.limit)?);
        }
        // The sessions that wrote these lines first (linked ones before those found by
        // content alone), then those that wrote to the file, then by the link's confidence
        // (the order they came in).
        out.sort_by_key(|r| (r.wrote_lines == 0, !r.wrote_file, r.link.is_none()));
        Ok(Found {
            sessions: out,
            more_by_content,
        })
    }
}

/// At most this many sessions found by content alone are shown per commit (the most lines
/// written first): a common line may have been written by many.
pub const MAX_CONTENT_SESSIONS: usize = 5;

/// The sessions behind one commit's lines.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Linked sessions and those found by content, the strongest evidence first.
    pub sessions: Vec<Reasoning>,
    /// How many more sessions the content index found beyond [`MAX_CONTENT_SESSIONS`].
    pub more_by_content: usize,
}

/// Why reasoning could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReasoningError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Messages(#[from] ForEachError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_and_checked() {
        assert_eq!(
            LineRange::parse("3").unwrap(),
            LineRange { start: 3, end: 3 }
        );
        assert_eq!(
            LineRange::parse("3-9").unwrap(),
            LineRange { start: 3, end: 9 }
        );
        assert_eq!(
            LineRange::parse("3,9").unwrap(),
            LineRange { start: 3, end: 9 }
        );
        assert!(matches!(
            LineRange::parse("0"),
            Err(BlameError::ZeroLine(_))
        ));
        assert!(matches!(
            LineRange::parse("9-3"),
            Err(BlameError::Reversed { start: 9, end: 3 })
        ));
        assert!(matches!(
            LineRange::parse("x"),
            Err(BlameError::BadRange(_))
        ));
        assert!(matches!(
            LineRange::parse("3-"),
            Err(BlameError::BadRange(_))
        ));
    }

    #[test]
    fn l_options_take_gits_numeric_forms() {
        let r = |s: &str| LineRange::parse_option(s).map(|r| (r.start, r.end));
        assert_eq!(r("2,5").unwrap(), (2, 5));
        assert_eq!(r("2-5").unwrap(), (2, 5));
        assert_eq!(r("2").unwrap(), (2, TO_END));
        assert_eq!(r("2,").unwrap(), (2, TO_END));
        assert_eq!(r(",3").unwrap(), (1, 3));
        assert_eq!(r("2,+3").unwrap(), (2, 4));
        assert_eq!(r("3,-2").unwrap(), (2, 3));
        assert_eq!(r("3,-9").unwrap(), (1, 3));
        assert!(matches!(r("0"), Err(BlameError::ZeroLine(_))));
        assert!(matches!(r("5,2"), Err(BlameError::Reversed { .. })));
        for s in ["x", ",", "2,+0", "2,-0", ",-2", "-3", "2,x"] {
            assert!(matches!(r(s), Err(BlameError::BadLines(_))), "{s}");
        }
        for s in ["/fn main/", ":parse", "/a/,+3", "3,/b/", "^/x/"] {
            assert!(matches!(r(s), Err(BlameError::UnsupportedRange(_))), "{s}");
        }
    }

    #[test]
    fn targets_split_at_the_last_colon() {
        let (f, r) = parse_target("src/no such:12-14").unwrap();
        assert_eq!(f, PathBuf::from("src/no such"));
        assert_eq!(r, Some(LineRange { start: 12, end: 14 }));
        let (f, r) = parse_target("c:/x").unwrap();
        assert_eq!((f, r), (PathBuf::from("c:/x"), None));
    }

    #[test]
    fn porcelain_is_read_with_commits_in_first_appearance_order() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let text = format!(
            "{a} 1 1 2\nauthor Ann\nauthor-mail <ann@x>\nauthor-time 100\nsummary First\nfilename old.rs\n\tone\n\
             {a} 2 2\n\ttwo\n\
             {b} 3 3 1\nauthor Bob\nauthor-mail <bob@x>\nauthor-time 200\nsummary Second\nprevious {a} old.rs\nfilename new.rs\n\tthree\n"
        );
        let mut blame = Blame {
            path: "new.rs".into(),
            range: None,
            lines: vec![],
            commits: vec![],
        };
        read_porcelain(text.as_bytes(), &mut blame).unwrap();
        assert_eq!(blame.commits.len(), 2);
        assert_eq!(blame.commits[0].path, "old.rs");
        assert_eq!(blame.commits[0].lines, vec![1, 2]);
        assert_eq!(blame.commits[0].author_email, "ann@x");
        assert_eq!(blame.commits[0].author_time, 100_000);
        assert_eq!(blame.commits[1].subject, "Second");
        assert_eq!(blame.lines[2].text, "three");
        assert_eq!(blame.lines[2].commit, 1);
    }

    #[test]
    fn needles_find_code_and_names_but_not_longer_words() {
        let n = Needles::new(
            &["src/parse.rs"],
            ["    let end = start + len;", "}", "x"].into_iter(),
        );
        let file = n.file.as_ref().unwrap();
        assert!(
            n.code
                .find("we need `let end = start + len;` here")
                .is_some()
        );
        assert!(n.code.find("}").is_none());
        let many: Vec<String> = (0..40)
            .map(|i| format!("let value_{i} = compute({i});"))
            .collect();
        let m = Needles::new(&["x.rs"], many.iter().map(String::as_str));
        assert!(matches!(m.code, Code::Many(_)));
        assert_eq!(
            m.code.find("so let value_7 = compute(7); it is"),
            Some((3, 28))
        );
        assert!(file.is_match("see src/parse.rs"));
        assert!(file.is_match("in parse.rs the bug"));
        assert!(!file.is_match("in reparse.rs the bug"));
        assert!(!file.is_match("in lib/parse.rs.bak"));
    }

    #[test]
    fn long_messages_are_cut_around_the_match() {
        let text = format!("{}NEEDLE{}", "a ".repeat(1000), "b ".repeat(1000));
        let at = text.find("NEEDLE").unwrap();
        let c = cut(&text, at, at + 6);
        assert!(c.contains("NEEDLE"));
        assert!(c.starts_with('…') && c.ends_with('…'));
        assert!(c.chars().count() <= EXCERPT_CHARS + 2);
    }

    #[test]
    fn cutting_counts_trimmed_whitespace_and_never_splits_a_character() {
        // Leading whitespace is trimmed, multi-byte characters sit right at the match.
        let text = format!(
            "\n  {}«lexer.rs» is wrong é{}",
            "wörd ".repeat(200),
            " wörd".repeat(200)
        );
        let at = text.find("«").unwrap();
        let end = text.find("» is").unwrap() + "»".len();
        let c = cut(&text, at, end);
        assert!(c.contains("«lexer.rs» is wrong"), "{c}");
        // Offsets inside a character, or past the end, are rounded, not a panic.
        for (a, z) in [
            (at + 1, end - 1),
            (at + 1, at + 1),
            (0, 1),
            (text.len() + 9, 0),
        ] {
            let c = cut(&text, a, z);
            assert!(c.chars().count() <= EXCERPT_CHARS + 2, "{a}..{z}");
        }
    }
}
