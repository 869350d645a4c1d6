//! Answers to what an agent or a reader asks of the archive, as JSON values: sessions matching
//! filters, search hits, a session read in pages, the reasoning behind a file's lines (what
//! `lore blame` finds), the sessions linked to a commit, and a repository's recent context.
//!
//! Both the CLI's `--json` outputs and `lore mcp serve` build their data here, so the names are
//! the same everywhere (a session is `id`, a message has `ordinal`). Nothing here prints, and
//! nothing writes: every answer is read from a store opened for reading. Pages are bounded
//! ([`MAX_PAGE_MESSAGES`], [`MAX_PAGE_CHARS`]): a request for more is clamped, and the answer
//! says so. Read docs/mcp.md for the tools built on these answers, docs/links.md for evidence.

use std::path::{Path, PathBuf};

use jiff::{Span, Timestamp, Zoned, civil::Date, tz::TimeZone};
use serde_json::{Value, json};

use crate::blame::{self, Blame, BlameError, LineRange, Reasoner, Reasoning, ReasoningError};
use crate::db::query::{ForEachError, HIT_END, HIT_START, SearchError, SearchHit};
use crate::db::{Db, DbError, Filter, SessionRow};
use crate::link::{Git, GitError, LinkError};
use crate::model::{Role, Tool};

/// The most messages one page of a session holds; a larger request is clamped.
pub const MAX_PAGE_MESSAGES: usize = 200;
/// The most characters of content one page holds; the page ends early past it.
pub const MAX_PAGE_CHARS: usize = 60_000;
/// The most characters of one message a page shows; the rest is cut (and said so).
pub const MAX_MESSAGE_CHARS: usize = 8_000;
/// The most characters of a first prompt the recent context shows.
const PROMPT_CHARS: usize = 500;

/// Why an answer could not be given. Each message is one line saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Blame(#[from] BlameError),
    #[error(transparent)]
    Reasoning(#[from] ReasoningError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Messages(#[from] ForEachError),
    #[error("--repo {}: no such folder: {source}", path.display())]
    NoSuchFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--{flag}: {message}")]
    BadTime { flag: &'static str, message: String },
    #[error("no session matches '{0}': nothing has been imported yet; run 'lore import'")]
    NothingImported(String),
    #[error("{0}")]
    Invalid(String),
}

/// Unix ms as RFC 3339 UTC (`2026-03-11T10:00:00Z`, `2026-03-11T10:00:00.415Z` when the
/// milliseconds are not 0), for JSON; `null` when unknown (docs/json.md).
pub fn iso(ms: Option<i64>) -> Value {
    let Some((ms, t)) = ms.and_then(|ms| Some((ms, Timestamp::from_millisecond(ms).ok()?))) else {
        return Value::Null;
    };
    let format = if ms.rem_euclid(1000) == 0 {
        "%Y-%m-%dT%H:%M:%SZ"
    } else {
        "%Y-%m-%dT%H:%M:%S%.3fZ"
    };
    Value::String(t.strftime(format).to_string())
}

/// Reads a `since`/`until` value: a timestamp, a date (local; `end_of_day` picks its last
/// moment), `today`, `yesterday`, or an age such as `7d`, `2 weeks`, `3 hours ago`.
pub fn parse_when(s: &str, end_of_day: bool) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let bad = |e: jiff::Error| e.to_string();
    if let Ok(d) = s.parse::<Date>() {
        let dt = if end_of_day {
            d.to_datetime(jiff::civil::time(23, 59, 59, 999_999_999))
        } else {
            d.to_datetime(jiff::civil::Time::midnight())
        };
        let z = dt.to_zoned(TimeZone::system()).map_err(bad)?;
        return Ok(z.timestamp().as_millisecond());
    }
    let now = Zoned::now();
    match s {
        "today" => {
            return Ok(now
                .start_of_day()
                .map_err(bad)?
                .timestamp()
                .as_millisecond());
        }
        "yesterday" => {
            return Ok(now
                .start_of_day()
                .map_err(bad)?
                .checked_sub(Span::new().days(1))
                .map_err(bad)?
                .timestamp()
                .as_millisecond());
        }
        _ => {}
    }
    let age = s.strip_suffix("ago").unwrap_or(s).trim();
    match age.parse::<Span>() {
        Ok(span) => Ok(now
            .checked_sub(span.abs())
            .map_err(bad)?
            .timestamp()
            .as_millisecond()),
        Err(_) => Err(format!(
            "cannot read '{s}' as a time: use a date (2026-03-01), a timestamp (2026-03-01T10:00:00Z) or an age (7d, \"2 weeks\")"
        )),
    }
}

/// The filters `lore sessions`, `lore search` and their MCP tools share, as given.
#[derive(Debug, Clone, Default)]
pub struct FilterSpec {
    /// A path inside a repository (or a plain folder).
    pub repo: Option<PathBuf>,
    pub tool: Option<Tool>,
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

impl FilterSpec {
    /// The store filter, without the sessions that belong to the repository by identity
    /// ([`FilterSpec::add_identity`] adds those once a store is open).
    pub fn to_filter(&self) -> Result<Filter, AnswerError> {
        let repo = match &self.repo {
            None => None,
            Some(p) => {
                let abs = std::fs::canonicalize(p).map_err(|source| AnswerError::NoSuchFolder {
                    path: p.clone(),
                    source,
                })?;
                let root = crate::repo::root_of(&abs).unwrap_or(abs);
                Some(root.to_string_lossy().into_owned())
            }
        };
        let when = |flag: &'static str, v: &Option<String>, end: bool| {
            v.as_deref()
                .map(|s| {
                    parse_when(s, end).map_err(|message| AnswerError::BadTime { flag, message })
                })
                .transpose()
        };
        Ok(Filter {
            tool: self.tool,
            branch: self.branch.clone(),
            repo,
            repo_also: Vec::new(),
            tag: self.tag.clone(),
            since: when("since", &self.since, false)?,
            until: when("until", &self.until, true)?,
        })
    }

    /// With a repository: adds to `filter` the sessions that belong to it by its identity
    /// (another clone, a teammate's synced session). Outside a git repository the path alone
    /// counts.
    pub fn add_identity(&self, filter: &mut Filter, store: &Db) -> Result<(), AnswerError> {
        let Some(p) = &self.repo else {
            return Ok(());
        };
        let Ok(git) = Git::discover(&Git::program_from_env(), p) else {
            return Ok(());
        };
        filter.repo_also = crate::link::identity_sessions(store, &git)?;
        Ok(())
    }

    /// The complete filter for `store`.
    pub fn filter_for(&self, store: &Db) -> Result<Filter, AnswerError> {
        let mut f = self.to_filter()?;
        self.add_identity(&mut f, store)?;
        Ok(f)
    }
}

/// A session as JSON: the shape of `lore sessions --json` and `lore show --json`'s head.
pub fn session(r: &SessionRow) -> Value {
    json!({
        "id": r.id,
        "tool": r.tool,
        "tool_version": r.tool_version,
        "model": r.model,
        "title": r.title,
        "started_at": iso(r.started_at),
        "updated_at": iso(r.updated_at),
        "ended_at": iso(r.ended_at),
        "cwd": r.cwd,
        "git_branch": r.git_branch,
        "machine_id": r.machine_id,
        "message_count": r.message_count,
        "source_path": r.source_path,
        "parent_id": r.parent_id,
    })
}

/// A search hit as JSON: the shape of `lore search --json`.
pub fn search_hit(h: &SearchHit) -> Value {
    let (snippet, highlights) = split_highlights(&h.snippet);
    json!({
        "session": {
            "id": h.session_id,
            "tool": h.tool,
            "title": h.title,
            "cwd": h.cwd,
        },
        "ordinal": h.ordinal,
        "role": h.role,
        "kind": h.kind,
        "created_at": iso(h.timestamp),
        "snippet": snippet,
        "highlights": highlights,
    })
}

/// A snippet without its markers, and the matched spans as character offsets.
pub fn split_highlights(marked: &str) -> (String, Vec<[usize; 2]>) {
    let mut plain = String::with_capacity(marked.len());
    let mut spans = Vec::new();
    let mut start = None;
    let mut chars = 0usize;
    for c in marked.chars() {
        match c {
            HIT_START => start = Some(chars),
            HIT_END => {
                if let Some(s) = start.take() {
                    spans.push([s, chars]);
                }
            }
            _ => {
                plain.push(c);
                chars += 1;
            }
        }
    }
    (plain, spans)
}

/// Sessions matching `spec`, newest first, at most `limit`, as JSON: `{"sessions", "more"}`,
/// the shape of `lore sessions --json`.
pub fn sessions(store: &Db, spec: &FilterSpec, limit: usize) -> Result<Value, AnswerError> {
    let filter = spec.filter_for(store)?;
    let mut rows = store.sessions(&filter, limit.saturating_add(1))?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok(sessions_json(&rows, more))
}

/// A list of sessions as JSON (docs/json.md): `{"sessions": [...], "more": bool}`.
pub fn sessions_json(rows: &[SessionRow], more: bool) -> Value {
    json!({ "sessions": rows.iter().map(session).collect::<Vec<_>>(), "more": more })
}

/// Messages matching `query` in sessions matching `spec`, at most `limit`, as JSON: the shape
/// of `lore search --json`.
pub fn search(
    store: &Db,
    query: &str,
    spec: &FilterSpec,
    limit: usize,
) -> Result<Value, AnswerError> {
    let filter = spec.filter_for(store)?;
    let limit = limit.max(1);
    let mut hits = store.search(query, &filter, limit.saturating_add(1))?;
    let more = hits.len() > limit;
    hits.truncate(limit);
    Ok(hits_json(query, &hits, more))
}

/// Search hits as JSON (docs/json.md): `{"query", "hits": [...], "more": bool}`.
pub fn hits_json(query: &str, hits: &[SearchHit], more: bool) -> Value {
    json!({
        "query": query,
        "hits": hits.iter().map(search_hit).collect::<Vec<_>>(),
        "more": more,
    })
}

/// What a page of a session is asked for.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// The session id or a unique beginning of it.
    pub id: String,
    /// The first ordinal wanted (0: the start).
    pub from: i64,
    /// How many messages at most; clamped to [`MAX_PAGE_MESSAGES`].
    pub limit: usize,
    /// Only these roles (all when empty).
    pub roles: Vec<Role>,
    /// Whether tool results are shown (they are omitted, with their length, by default).
    pub tool_output: bool,
}

/// One page of a session: the session, its messages from `from`, and where the next page
/// starts (`next_ordinal`, `null` at the end). A page holds at most [`MAX_PAGE_MESSAGES`]
/// messages and about [`MAX_PAGE_CHARS`] characters; each message at most
/// [`MAX_MESSAGE_CHARS`] (a cut one says `truncated` and its full length).
pub fn session_page(store: &Db, req: &PageRequest) -> Result<Value, AnswerError> {
    if req.from < 0 {
        return Err(AnswerError::Invalid(format!(
            "from_ordinal {} is negative: messages are numbered from 0",
            req.from
        )));
    }
    let s = store.session(&req.id)?;
    let asked = req.limit.max(1);
    let limit = asked.min(MAX_PAGE_MESSAGES);
    // One more than asked, to tell whether another page follows.
    let rows = store.messages_page(&s.id, req.from, &req.roles, !req.tool_output, limit + 1)?;
    let mut messages = Vec::new();
    let mut budget = MAX_PAGE_CHARS;
    let mut next = None;
    for (i, p) in rows.iter().enumerate() {
        if i == limit || (budget == 0 && !messages.is_empty()) {
            next = Some(p.ordinal);
            break;
        }
        let m = &p.message;
        let omitted = !req.tool_output && crate::reading::is_tool_output(m.kind);
        let cap = MAX_MESSAGE_CHARS.min(budget.max(1_000));
        let (content, truncated) = if omitted {
            (Value::Null, false)
        } else {
            let n = m.content.chars().count();
            if n > cap {
                (Value::String(m.content.chars().take(cap).collect()), true)
            } else {
                (Value::String(m.content.clone()), false)
            }
        };
        let shown = content.as_str().map_or(0, |c| c.chars().count());
        budget = budget.saturating_sub(shown);
        messages.push(json!({
            "ordinal": p.ordinal,
            "role": m.role,
            "kind": m.kind,
            "created_at": iso(m.timestamp),
            "tool_name": m.tool_name,
            "content": content,
            "chars": p.chars,
            "truncated": truncated,
            "omitted": omitted,
        }));
    }
    let mut note = Vec::new();
    if asked > MAX_PAGE_MESSAGES {
        note.push(format!(
            "limit {asked} was clamped to {MAX_PAGE_MESSAGES} messages per page"
        ));
    }
    if next.is_some() {
        note.push("more messages follow: ask again with from_ordinal = next_ordinal".to_owned());
    }
    if !req.tool_output {
        note.push("tool output omitted (content null, chars its length); ask with tool_output true to see it".to_owned());
    }
    Ok(json!({
        "session": session(&s),
        "from_ordinal": req.from,
        "limit": limit,
        "clamped": asked > MAX_PAGE_MESSAGES,
        "messages": messages,
        "next_ordinal": next,
        "note": note.join("; "),
    }))
}

/// The file `file` (relative to `cwd`, or absolute) in `git`'s work tree, blamed over `range`.
/// Errors name the file as given.
pub fn blame_file(
    git: &Git,
    cwd: &Path,
    file: &Path,
    range: Option<LineRange>,
) -> Result<Blame, BlameError> {
    let (path, count) = blame::locate(git.root(), cwd, file)?;
    match blame::blame(git, &path, count, range) {
        Err(BlameError::PastEnd { line, count, .. }) => Err(BlameError::PastEnd {
            line,
            path: file.to_path_buf(),
            count,
        }),
        Err(BlameError::NotCommitted(_)) => Err(BlameError::NotCommitted(file.to_path_buf())),
        other => other,
    }
}

/// The kind of evidence a session has for a commit's lines: `lines` (its tool calls wrote
/// them), `file` (it wrote to the file) or `commit` (only linked to the commit).
pub fn evidence_kind(r: &Reasoning) -> &'static str {
    if r.wrote_lines > 0 {
        "lines"
    } else if r.wrote_file {
        "file"
    } else {
        "commit"
    }
}

/// The blame of a file with the reasoning of each commit, as JSON: the shape of
/// `lore blame --json` and of the MCP `why` tool. Without a store, no commit has sessions.
pub fn blame_json(
    b: &Blame,
    reasoner: Option<&mut Reasoner<'_>>,
    shallow: &[&str],
) -> Result<Value, ReasoningError> {
    let mut reasoner = reasoner;
    let mut commits = Vec::with_capacity(b.commits.len());
    for c in &b.commits {
        let found = match reasoner.as_deref_mut() {
            Some(r) => r.commit(b, c)?,
            None => crate::blame::Found::default(),
        };
        let reasons = &found.sessions;
        let committed = |v: Value| if c.uncommitted() { Value::Null } else { v };
        commits.push(json!({
            "sha": committed(json!(c.id)),
            "uncommitted": c.uncommitted(),
            "subject": committed(json!(c.subject)),
            "author": committed(json!(c.author)),
            "author_email": committed(json!(c.author_email)),
            "authored_at": committed(iso(Some(c.author_time))),
            "path": c.path,
            "lines": runs(&c.lines).iter().map(|&(a, z)| [a, z]).collect::<Vec<_>>(),
            "sessions": reasons.iter().map(|r| json!({
                "id": r.session.id,
                "tool": r.session.tool,
                "title": r.session.title,
                "started_at": iso(r.session.started_at),
                "git_branch": r.session.git_branch,
                "machine_id": r.session.machine_id,
                "link": r.link.as_ref().map(|l| json!({
                    "sha": l.commit,
                    "kind": l.kind,
                    "confidence": l.confidence,
                    "evidence": r.evidence,
                })),
                "found_by": if r.link.is_some() { "link" } else { "content" },
                "evidence": {
                    "kind": evidence_kind(r),
                    "wrote_lines": r.wrote_lines,
                    "lines_considered": r.lines_considered,
                    "wrote_file": r.wrote_file,
                },
                "matched": r.matched,
                "messages": r.messages.iter().map(|m| json!({
                    "ordinal": m.ordinal,
                    "role": m.role,
                    "kind": m.kind,
                    "created_at": iso(m.timestamp),
                    "mention": m.mention.as_str(),
                    "excerpt": m.text,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "more_by_content": found.more_by_content,
        }));
    }
    Ok(json!({
        "file": b.path,
        "range": b.range.map(|r| [r.start, r.end]),
        "shallow_boundary": shallow,
        "lines": b.lines.iter().map(|l| json!({
            "line": l.line,
            "sha": b.commits.get(l.commit).filter(|c| !c.uncommitted()).map(|c| &c.id),
            "text": l.text,
        })).collect::<Vec<_>>(),
        "commits": commits,
    }))
}

/// `3-5, 9`: sorted line numbers as runs `(start, end)`.
pub fn runs(lines: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &l in lines {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == l => *end = l,
            _ => out.push((l, l)),
        }
    }
    out
}

/// The reasoning behind `file`'s lines (all, or `range`): each line's commit, the sessions
/// linked to it, their evidence and the messages that wrote or name the lines (at most
/// `messages` per session; 0: all).
pub fn why(
    store: Option<&Db>,
    git: &Git,
    cwd: &Path,
    file: &Path,
    range: Option<LineRange>,
    messages: usize,
) -> Result<Value, AnswerError> {
    let b = blame_file(git, cwd, file, range)?;
    let boundaries = git.shallow_boundaries()?;
    let shallow: Vec<&str> = b
        .commits
        .iter()
        .filter(|c| boundaries.contains(&c.id))
        .map(|c| c.id.as_str())
        .collect();
    let mut reasoner = store.map(|s| Reasoner::new(s, messages));
    Ok(blame_json(&b, reasoner.as_mut(), &shallow)?)
}

/// The commit `rev` names and the sessions linked to it, as JSON: the shape of
/// `lore show --commit REV --json`.
pub fn commit_sessions(store: Option<&Db>, git: &Git, rev: &str) -> Result<Value, AnswerError> {
    let id = git.resolve_commit(rev)?;
    let info = git.commit_info(&id)?;
    let linked = match store {
        Some(s) => s.sessions_for_commit(&id)?,
        None => Vec::new(),
    };
    Ok(json!({
        "commit": {
            "sha": info.id,
            "subject": info.subject,
            "author": info.author,
            "author_email": info.author_email,
            "authored_at": iso(Some(info.author_time)),
        },
        "sessions": linked.iter().map(|l| {
            let mut v = session(&l.session);
            v["link"] = link_json(&l.link, l.evidence.as_deref());
            v
        }).collect::<Vec<_>>(),
    }))
}

/// A session's link to a git commit as JSON (docs/json.md): `{sha, kind, confidence, evidence}`.
pub fn link_json(l: &crate::model::Link, evidence: Option<&str>) -> Value {
    json!({
        "sha": l.commit,
        "kind": l.kind,
        "confidence": l.confidence,
        "evidence": crate::link::Evidence::of_link(l.kind, evidence),
    })
}

/// The recent context of a repository: its latest sessions (at most `limit`), each with its
/// first prompt (cut to a few hundred characters), its tags and the commits it is linked to.
pub fn recent(store: &Db, spec: &FilterSpec, limit: usize) -> Result<Value, AnswerError> {
    let filter = spec.filter_for(store)?;
    let rows = store.sessions(&filter, limit)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut v = session(r);
        let prompt = store.first_prompt(&r.id)?.map(|p| {
            let n = p.chars().count();
            if n > PROMPT_CHARS {
                let cut: String = p.chars().take(PROMPT_CHARS).collect();
                format!("{cut}…")
            } else {
                p
            }
        });
        v["first_prompt"] = json!(prompt);
        v["tags"] = json!(store.tags(&r.id)?);
        v["commits"] = json!(
            store
                .links(&r.id)?
                .iter()
                .map(|l| l.commit.clone())
                .collect::<Vec<_>>()
        );
        out.push(v);
    }
    Ok(json!({ "sessions": out }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc_3339_utc() {
        assert_eq!(
            iso(Some(1_773_244_332_000)),
            Value::String("2026-03-11T15:52:12Z".into())
        );
        assert_eq!(
            iso(Some(1_773_244_332_050)),
            Value::String("2026-03-11T15:52:12.050Z".into())
        );
        assert_eq!(
            iso(Some(1_773_244_332_500)),
            Value::String("2026-03-11T15:52:12.500Z".into())
        );
        assert_eq!(
            iso(Some(-1)),
            Value::String("1969-12-31T23:59:59.999Z".into())
        );
        assert_eq!(iso(None), Value::Null);
    }

    #[test]
    fn highlights_are_character_offsets() {
        let (p, h) = split_highlights("a \u{2}é\u{3} b \u{2}cd\u{3}");
        assert_eq!(p, "a é b cd");
        assert_eq!(h, vec![[2, 3], [6, 8]]);
    }

    #[test]
    fn when_parses_dates_timestamps_and_ages() {
        assert_eq!(
            parse_when("2026-03-11T15:52:12Z", false).unwrap(),
            1_773_244_332_000
        );
        let week = parse_when("7d", false).unwrap();
        let now = Timestamp::now().as_millisecond();
        assert!((now - week - 7 * 86_400_000).abs() < 60_000);
        assert!(parse_when("2 weeks ago", false).unwrap() < week);
        assert!(parse_when("2026-03-01", true).unwrap() > parse_when("2026-03-01", false).unwrap());
        assert!(parse_when("whenever", false).is_err());
    }

    #[test]
    fn runs_join_consecutive_lines() {
        assert_eq!(runs(&[1, 2, 3, 7, 9, 10]), vec![(1, 3), (7, 7), (9, 10)]);
        assert!(runs(&[]).is_empty());
    }
}
