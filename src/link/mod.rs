//! Links between sessions and commits: finding the sessions whose tool calls wrote what a
//! commit changed (`lore link --current`, the post-commit hook), scoring candidate pairs
//! (`lore link --auto`), and finding a linked commit again after amend or rebase by its patch
//! id. Every link carries its [`Evidence`]; a session without evidence for a commit is never
//! linked to it by the hook. docs/links.md describes the rules (issue 16 the spec); this
//! module only computes, the CLI writes.

pub mod evidence;
pub mod git;

pub use evidence::{Evidence, Writes};

use std::collections::{HashMap, HashSet};
use std::path::Path;

pub use git::{CommitInfo, Git, GitError};

use crate::db::query::ForEachError;
use crate::db::{Db, DbError, Filter, SessionRow};
use crate::model::{Kind, Link, LinkKind};

/// `lore link --current` and the post-commit hook look at the sessions of the repository
/// active at most this long before the commit: the session that wrote a file may have been
/// quiet for a while before the user committed. Only those with evidence are linked.
pub const LOOKBACK_MS: i64 = 4 * 60 * 60 * 1000;

/// By the content index, `lore link --current` and the post-commit hook also find the
/// sessions of the repository active at most this long before the commit that wrote its
/// lines, however long they were quiet before it.
pub const CONTENT_LOOKBACK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// `lore link --auto` considers a commit for a session when the commit was made at most this
/// long before the session started or after its last activity.
pub const AUTO_WINDOW_MS: i64 = 30 * 60 * 1000;

/// The score `lore link --auto` needs, unless `link_auto_threshold` is set.
pub const DEFAULT_THRESHOLD: f64 = 0.6;

/// Why links could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot read messages: {0}")]
    Messages(#[from] ForEachError),
}

/// When a session was active: from its start to its last recorded activity (Unix ms).
pub fn activity(s: &SessionRow) -> Option<(i64, i64)> {
    let start = s.started_at.or(s.updated_at).or(s.ended_at)?;
    let end = [s.updated_at, s.ended_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(start)
        .max(start);
    Some((start, end))
}

/// The sessions whose working directory is inside `root` (a canonical path), active at or
/// after `since`. A working directory recorded through a symlink (`/tmp` on macOS) counts
/// once resolved, as for sync.
pub fn repo_sessions(
    store: &Db,
    root: &Path,
    since: Option<i64>,
) -> Result<Vec<SessionRow>, DbError> {
    let filter = Filter {
        since,
        ..Filter::default()
    };
    let mut sessions = store.sessions(&filter, i64::MAX as usize)?;
    sessions.retain(|s| {
        s.cwd.as_deref().is_some_and(|cwd| {
            let recorded = Path::new(cwd);
            recorded.starts_with(root)
                || std::fs::canonicalize(recorded).is_ok_and(|real| real.starts_with(root))
        })
    });
    Ok(sessions)
}

/// The sessions that belong to the repository `git` works in by its identity, though their
/// working directory is not inside this work tree: those whose working directory (on this
/// machine) is in another clone of the same repository (sharing a root commit), and those
/// linked to a commit of this repository (a teammate's session, synced). The sessions inside
/// the work tree are not listed (the path finds them). docs/links.md, "Repository identity".
pub fn identity_sessions(store: &Db, git: &Git) -> Result<Vec<String>, LinkError> {
    let roots: HashSet<String> = git.root_commits()?.into_iter().collect();
    let root = git.root();
    let mut found = Vec::new();
    let mut clones: HashMap<std::path::PathBuf, bool> = HashMap::new();
    let mut by_link: Vec<(String, String)> = Vec::new();
    for (id, cwd) in store.session_cwds()? {
        if let Some(c) = cwd.as_deref() {
            let p = Path::new(c);
            if p.starts_with(root) {
                continue;
            }
            if let Some(other) = std::fs::canonicalize(p)
                .ok()
                .and_then(|real| crate::repo::root_of(&real))
            {
                if other.as_path() == root {
                    continue;
                }
                let same = match clones.get(&other) {
                    Some(same) => *same,
                    None => {
                        let same = Git::discover(&Git::program_from_env(), &other)
                            .and_then(|g| g.root_commits())
                            .is_ok_and(|r| r.iter().any(|c| roots.contains(c)));
                        clones.insert(other, same);
                        same
                    }
                };
                if same {
                    found.push(id);
                    continue;
                }
            }
        }
        for l in store.links(&id)? {
            by_link.push((id.clone(), l.commit));
        }
    }
    let revs: Vec<String> = by_link.iter().map(|(_, c)| c.clone()).collect();
    let exists = git.existing_commits(&revs)?;
    for ((id, _), yes) in by_link.into_iter().zip(exists) {
        if yes && found.last() != Some(&id) {
            found.push(id);
        }
    }
    found.dedup();
    Ok(found)
}

/// A session and its evidence for one commit.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub session: SessionRow,
    pub evidence: Evidence,
}

/// The sessions of the repository `git` works in that were active in the [`LOOKBACK_MS`]
/// before `now` and started before commit `commit` was made, each with its evidence for that
/// commit (files of the commit its writing tool calls wrote, lines of the commit they
/// produced). Then, by the content index, the sessions of the repository active in the
/// [`CONTENT_LOOKBACK_MS`] before the commit whose messages wrote at least
/// [`INDEX_MIN_LINES`] of its added lines (or half of them), however long they were quiet
/// before it: their evidence is those lines, marked `content`. Sessions without evidence come
/// back too, with empty evidence: the caller says why they were left out.
/// docs/links.md, "`lore link --current` and the post-commit hook".
pub fn current_candidates(
    store: &Db,
    git: &Git,
    commit: &str,
    now: i64,
) -> Result<Vec<Candidate>, LinkError> {
    let info = git.commit_info(commit)?;
    let made = info.commit_time.max(info.author_time);
    let started_before =
        |s: &SessionRow| activity(s).is_some_and(|(start, _)| start <= made + 60_000);
    let mut sessions = repo_sessions(store, git.root(), Some(now.min(made) - LOOKBACK_MS))?;
    sessions.retain(started_before);
    let (files, diff) = git.commit_changes(commit)?;
    let added = evidence::added_lines(&diff);
    // The content index: who wrote the commit's lines, whenever.
    let mut by_content: Vec<(SessionRow, usize)> = Vec::new();
    if !added.is_empty() {
        let hashes: Vec<i64> = added.iter().map(|l| crate::content::line_hash(l)).collect();
        let mut wrote: HashMap<String, HashSet<i64>> = HashMap::new();
        for m in store.content_matches(&hashes)? {
            wrote.entry(m.session_id).or_default().insert(m.hash);
        }
        wrote.retain(|id, h| {
            !sessions.iter().any(|s| &s.id == id)
                && (h.len() >= INDEX_MIN_LINES || h.len() * 2 >= added.len())
        });
        if !wrote.is_empty() {
            for s in repo_sessions(store, git.root(), Some(made - CONTENT_LOOKBACK_MS))? {
                if let Some(h) = wrote.get(&s.id)
                    && started_before(&s)
                {
                    let n = h.len();
                    by_content.push((s, n));
                }
            }
        }
    }
    let mut out = Vec::with_capacity(sessions.len() + by_content.len());
    for (s, n) in by_content {
        out.push(Candidate {
            session: s,
            evidence: Evidence {
                lines: n,
                lines_added: added.len(),
                content: true,
                ..Evidence::default()
            },
        });
    }
    for s in sessions {
        let writes = Writes::of_session(store, &s.id)?;
        let cwd_rel = s
            .cwd
            .as_deref()
            .and_then(|c| relative_to(Path::new(c), git.root()));
        let evidence =
            evidence::for_commit(&writes, &files, &added, git.root(), cwd_rel.as_deref());
        out.push(Candidate {
            session: s,
            evidence,
        });
    }
    Ok(out)
}

/// The evidence session `s` has for commit `commit` in the repository `git` works in: the
/// files of the commit its writing tool calls wrote, the commit's lines they produced.
pub fn evidence_for(
    store: &Db,
    git: &Git,
    s: &SessionRow,
    commit: &str,
) -> Result<Evidence, LinkError> {
    let (files, diff) = git.commit_changes(commit)?;
    let added = evidence::added_lines(&diff);
    let writes = Writes::of_session(store, &s.id)?;
    let cwd_rel = s
        .cwd
        .as_deref()
        .and_then(|c| relative_to(Path::new(c), git.root()));
    Ok(evidence::for_commit(
        &writes,
        &files,
        &added,
        git.root(),
        cwd_rel.as_deref(),
    ))
}

/// How well a session and a commit fit, part by part (docs/links.md has the formula).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// The sum, 0 to 1.
    pub total: f64,
    /// 0.2 when the commit is on the session's branch.
    pub branch: f64,
    /// 0.4 × the share of the commit's files that the session's tool calls name.
    pub files: f64,
    /// 0.3 × (1 − minutes apart / 30), plus 0.1 when under 5 minutes apart.
    pub time: f64,
    /// Minutes between the commit and the session's activity (0 when made during it).
    pub minutes_apart: f64,
    /// Of the commit's files, how many the session's tool calls name.
    pub files_matched: usize,
    /// How many files the commit changed.
    pub files_changed: usize,
}

/// Scores a commit authored at `authored` against a session active over `span`. `None` when
/// they are more than [`AUTO_WINDOW_MS`] apart.
pub fn score(
    span: (i64, i64),
    authored: i64,
    on_branch: bool,
    files_matched: usize,
    files_changed: usize,
) -> Option<Score> {
    let (start, end) = span;
    let apart_ms = if authored < start {
        start - authored
    } else {
        (authored - end).max(0)
    };
    if apart_ms > AUTO_WINDOW_MS {
        return None;
    }
    let minutes = apart_ms as f64 / 60_000.0;
    let branch = if on_branch { 0.2 } else { 0.0 };
    let files = if files_changed == 0 {
        0.0
    } else {
        0.4 * files_matched as f64 / files_changed as f64
    };
    let time = 0.3 * (1.0 - minutes / 30.0) + if minutes < 5.0 { 0.1 } else { 0.0 };
    let total = ((branch + files + time) * 100.0).round() / 100.0;
    Some(Score {
        total: total.clamp(0.0, 1.0),
        branch,
        files,
        time,
        minutes_apart: minutes,
        files_matched,
        files_changed,
    })
}

/// The text of every tool call in session `id`: where its file paths are.
fn tool_call_text(store: &Db, id: &str) -> Result<String, ForEachError> {
    let mut text = String::new();
    store.for_each_message(id, |m| {
        if m.kind == Kind::ToolUse {
            text.push_str(&m.content);
            text.push('\n');
        }
        Ok(())
    })?;
    Ok(text)
}

/// `dir` relative to the work tree `root` (`""` for the root itself), through symlinks too.
fn relative_to(dir: &Path, root: &Path) -> Option<String> {
    let rel = match dir.strip_prefix(root) {
        Ok(r) => r.to_path_buf(),
        Err(_) => std::fs::canonicalize(dir)
            .ok()?
            .strip_prefix(root)
            .ok()?
            .to_path_buf(),
    };
    Some(rel.to_string_lossy().replace('\\', "/"))
}

/// Characters that continue a file path on either side of a match (a match inside a longer
/// name or path is not a mention of the file).
fn continues_path(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '~' | '@' | '+')
}

/// Characters that end a path written in a tool call's text, going backwards from a match.
fn ends_token(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '"' | '\'' | '`' | '(' | '[' | '{' | '<' | '=' | ',' | ';'
        )
}

/// Whether tool-call text `tools` names `file` (a path relative to the work tree at `root`)
/// on path boundaries: the file's path itself; an absolute path to it (the work tree's path,
/// or any path to a folder named like it, as through a symlink, then `/` and the file's
/// path); or, for a session working in the folder `cwd_rel` of the work tree, the path
/// relative to that folder. `lib.rs` is not named by `src/lib.rs`, nor `src/lib.rs` by
/// `src/lib.rs.bak`.
pub fn names_file(tools: &str, file: &str, root: &Path, cwd_rel: Option<&str>) -> bool {
    if file.is_empty() {
        return false;
    }
    let root_text = root.to_string_lossy();
    let root_name = root.file_name();
    let ends_well = |end: usize| {
        let mut rest = tools[end..].chars();
        match rest.next() {
            None => true,
            // A sentence's full stop.
            Some('.') => rest.next().is_none_or(|c| !continues_path(c)),
            Some(c) => !continues_path(c),
        }
    };
    let mentions = |name: &str, absolute_ok: bool| {
        tools.match_indices(name).any(|(at, _)| {
            if !ends_well(at + name.len()) {
                return false;
            }
            let before = &tools[..at];
            match before.chars().next_back() {
                None => true,
                Some('/') if absolute_ok => {
                    let dir = &before[..before.len() - 1];
                    if dir.ends_with(root_text.as_ref()) {
                        return true;
                    }
                    let start = dir
                        .char_indices()
                        .rev()
                        .find(|&(_, c)| ends_token(c))
                        .map_or(0, |(i, c)| i + c.len_utf8());
                    let token = &dir[start..];
                    token.starts_with('/') && Path::new(token).file_name() == root_name
                }
                Some(c) => !continues_path(c),
            }
        })
    };
    if mentions(file, true) {
        return true;
    }
    match cwd_rel {
        Some(sub) if !sub.is_empty() => file
            .strip_prefix(sub)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|r| mentions(r, false)),
        _ => false,
    }
}

/// A link `lore link --auto` proposes.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub session: SessionRow,
    pub link: Link,
    pub commit: CommitInfo,
    /// For a scored pair: how it scored.
    pub score: Option<Score>,
    /// For a commit found again after amend or rebase: the linked commit it replaces.
    pub relinked_from: Option<String>,
    /// Why: the files the session's tool calls name, or the commits it was carried from.
    pub evidence: Evidence,
    /// Found by content: the commit carries the lines of linked commits (a squash, a
    /// cherry-pick, a rebase), rather than their exact patch.
    pub by_content: bool,
}

/// A linked commit that amend or rebase left behind and that could not be found again.
#[derive(Debug, Clone)]
pub struct Lost {
    pub session_id: String,
    pub commit: String,
    /// Why: no commit on a branch has its patch, or the commit itself is gone.
    pub reason: &'static str,
}

/// What `lore link --auto` found.
#[derive(Debug, Clone, Default)]
pub struct AutoPlan {
    pub proposals: Vec<Proposal>,
    pub lost: Vec<Lost>,
    /// Sessions and commits looked at.
    pub sessions: usize,
    pub commits: usize,
    /// Pairs of a session and a commit in its time window that were left out, by reason:
    /// linked already (or found again by patch id), no file of the session's changed, or
    /// scored under the threshold.
    pub already_linked: usize,
    pub no_shared_file: usize,
    pub below_threshold: usize,
}

/// Finds the links `lore link --auto` would make in the repository `git` works in: every
/// pair of a session of this repository active since `since` and a commit on a local branch
/// authored since then that changed at least one file the session's tool calls name, scores
/// at least `threshold` and is not linked yet; and, for every
/// linked commit that is no longer on any branch (amended, rebased), the commit on a branch
/// with the same patch id.
pub fn plan_auto(store: &Db, git: &Git, since: i64, threshold: f64) -> Result<AutoPlan, LinkError> {
    let sessions = repo_sessions(store, git.root(), Some(since))?;
    let since_secs = (since - AUTO_WINDOW_MS).div_euclid(1000);
    let commits = git.commits_since(since_secs)?;
    let mut plan = AutoPlan {
        sessions: sessions.len(),
        commits: commits.len(),
        ..AutoPlan::default()
    };
    let mut branches: HashMap<String, HashSet<String>> = HashMap::new();
    let mut planned: HashSet<(String, String)> = HashSet::new();
    // Rewritten commits first: a commit that an amend or rebase made from a linked one takes
    // that link's kind and confidence, rather than a score of its own.
    relink(store, git, &sessions, since_secs, &mut planned, &mut plan)?;
    // Then by content: squashes, cherry-picks, and rebases whose old commits are gone.
    carry(store, git, &sessions, since_secs, &mut planned, &mut plan)?;
    plan.lost.retain(|l| {
        !plan.proposals.iter().any(|p| {
            p.session.id == l.session_id
                && p.evidence
                    .carried_from
                    .iter()
                    .any(|c| c.starts_with(&l.commit) || l.commit.starts_with(c.as_str()))
        })
    });
    for s in &sessions {
        let Some(span) = activity(s) else { continue };
        // Links taken back with `lore unlink` count too: --auto does not make them again.
        let existing: HashSet<String> = store.link_commits_ever(&s.id)?.into_iter().collect();
        let mut near: Vec<&(CommitInfo, Vec<String>)> = commits
            .iter()
            // The author date: when the work was done. The committer date is reset by a
            // rebase or cherry-pick, and says when the commit was last copied.
            .filter(|(c, _)| {
                c.author_time >= span.0 - AUTO_WINDOW_MS && c.author_time <= span.1 + AUTO_WINDOW_MS
            })
            .collect();
        let window = near.len();
        near.retain(|(c, _)| {
            !existing.contains(&c.id) && !planned.contains(&(s.id.clone(), c.id.clone()))
        });
        plan.already_linked += window - near.len();
        if near.is_empty() {
            continue;
        }
        let tools = tool_call_text(store, &s.id)?;
        // The session's folder inside the work tree, for paths its tools gave relative to it.
        let cwd_rel = s
            .cwd
            .as_deref()
            .and_then(|c| relative_to(Path::new(c), git.root()));
        let on_branch = match &s.git_branch {
            Some(b) => {
                if !branches.contains_key(b) {
                    branches.insert(b.clone(), git.branch_commits(b, since_secs)?);
                }
                branches.get(b)
            }
            None => None,
        };
        for (c, files) in near {
            let named: Vec<String> = files
                .iter()
                .filter(|f| names_file(&tools, f, git.root(), cwd_rel.as_deref()))
                .cloned()
                .collect();
            let matched = named.len();
            // Branch and time alone reach the threshold (0.2 + 0.4) for any commit made on
            // the branch during the session: a link needs a file the session worked on.
            if matched == 0 {
                plan.no_shared_file += 1;
                continue;
            }
            let on = on_branch.is_some_and(|set| set.contains(&c.id));
            let Some(sc) = score(span, c.author_time, on, matched, files.len()) else {
                continue;
            };
            if sc.total + 1e-9 < threshold {
                plan.below_threshold += 1;
                continue;
            }
            planned.insert((s.id.clone(), c.id.clone()));
            plan.proposals.push(Proposal {
                session: s.clone(),
                link: Link {
                    commit: c.id.clone(),
                    kind: LinkKind::Auto,
                    confidence: sc.total,
                },
                commit: c.clone(),
                score: Some(sc),
                relinked_from: None,
                by_content: false,
                evidence: Evidence {
                    files: named,
                    files_changed: files.len(),
                    ..Evidence::default()
                },
            });
        }
    }
    // Last, by the content index: sessions whose messages wrote the lines of a commit that no
    // step above linked them to (a squash merge or cherry-pick of work never linked, a commit
    // outside the session's time window).
    by_index(store, git, &sessions, since_secs, &mut planned, &mut plan)?;
    Ok(plan)
}

/// Finds again, by patch id, the linked commits of `sessions` that are on no branch.
fn relink(
    store: &Db,
    git: &Git,
    sessions: &[SessionRow],
    since_secs: i64,
    planned: &mut HashSet<(String, String)>,
    plan: &mut AutoPlan,
) -> Result<(), LinkError> {
    let mut patches: Option<HashMap<String, Vec<String>>> = None;
    for s in sessions {
        let links = store.links(&s.id)?;
        let linked: HashSet<String> = links.iter().map(|l| l.commit.clone()).collect();
        for l in &links {
            let Ok(full) = git.resolve_commit(&l.commit) else {
                // Not in this repository at all (or gone): nothing to compare.
                continue;
            };
            if git.is_on_a_branch(&full)? {
                continue;
            }
            let Some(patch) = git.patch_id(&full)? else {
                continue;
            };
            let map = match &patches {
                Some(m) => m,
                None => patches.insert(git.patch_ids_since(since_secs)?),
            };
            let found: Vec<&String> = map
                .get(&patch)
                .map(|v| v.iter().filter(|c| **c != full).collect())
                .unwrap_or_default();
            if found.is_empty() {
                plan.lost.push(Lost {
                    session_id: s.id.clone(),
                    commit: l.commit.clone(),
                    reason: "no commit on a branch has its patch",
                });
                continue;
            }
            for new in found {
                if linked.contains(new) || !planned.insert((s.id.clone(), new.clone())) {
                    continue;
                }
                let info = git.commit_info(new)?;
                plan.proposals.push(Proposal {
                    session: s.clone(),
                    link: Link {
                        commit: new.clone(),
                        kind: l.kind,
                        confidence: l.confidence,
                    },
                    commit: info,
                    score: None,
                    relinked_from: Some(full.clone()),
                    by_content: false,
                    evidence: Evidence {
                        carried_from: vec![full.clone()],
                        ..Evidence::default()
                    },
                });
            }
        }
    }
    Ok(())
}

/// Finds, by content, the commits that carry the changes of linked commits: for a session
/// with links, every commit on a branch made since `since_secs`, not linked to it yet, that
/// adds at least half of the lines a linked commit added (a cherry-pick, a rebase, or a squash
/// of several linked commits into one: each of them is carried). When a linked commit is no
/// longer in the repository (a rebase or a squash, then `git gc`), what the session's writing
/// tool calls wrote stands in for it: the commit must add at least 3 of those lines, or at
/// least half of its own lines must be. The link takes the kind and confidence of the surest
/// link it carries. docs/links.md, "Squash, cherry-pick and rebase".
fn carry(
    store: &Db,
    git: &Git,
    sessions: &[SessionRow],
    since_secs: i64,
    planned: &mut HashSet<(String, String)>,
    plan: &mut AutoPlan,
) -> Result<(), LinkError> {
    let mut commits: Option<Vec<(String, Vec<String>)>> = None;
    let mut lines_of: HashMap<String, HashSet<String>> = HashMap::new();
    for s in sessions {
        let links = store.links(&s.id)?;
        if links.is_empty() {
            continue;
        }
        let ever: Vec<String> = store.link_commits_ever(&s.id)?;
        let mut present: Vec<(&Link, String)> = Vec::new();
        let mut gone: Vec<&Link> = Vec::new();
        for l in &links {
            match git.resolve_commit(&l.commit) {
                Ok(full) => {
                    if !lines_of.contains_key(&full) {
                        let (_, diff) = git.commit_changes(&full)?;
                        let lines = evidence::added_lines(&diff).into_iter().collect();
                        lines_of.insert(full.clone(), lines);
                    }
                    present.push((l, full));
                }
                Err(GitError::UnknownRevision(_)) => gone.push(l),
                Err(e) => return Err(e.into()),
            }
        }
        let all = match &commits {
            Some(c) => c,
            None => commits.insert(git.added_lines_since(since_secs)?),
        };
        let mut writes: Option<Writes> = None;
        for (c, added) in all {
            if added.is_empty()
                || ever.iter().any(|e| c.starts_with(e.as_str()))
                || planned.contains(&(s.id.clone(), c.clone()))
            {
                continue;
            }
            let set: HashSet<&String> = added.iter().collect();
            let mut from: Vec<String> = Vec::new();
            let mut surest: Option<&Link> = None;
            for (l, full) in &present {
                let Some(lines) = lines_of.get(full) else {
                    continue;
                };
                let common = lines.iter().filter(|x| set.contains(x)).count();
                if common > 0 && common * 2 >= lines.len() {
                    from.push(full.clone());
                    if surest.is_none_or(|b| l.confidence > b.confidence) {
                        surest = Some(l);
                    }
                }
            }
            if from.is_empty() && !gone.is_empty() {
                let w = match &writes {
                    Some(w) => w,
                    None => writes.insert(Writes::of_session(store, &s.id)?),
                };
                let matched = added.iter().filter(|x| w.lines.contains(*x)).count();
                if matched > 0 && (matched >= 3 || matched * 2 >= added.len()) {
                    for l in &gone {
                        from.push(l.commit.clone());
                        if surest.is_none_or(|b| l.confidence > b.confidence) {
                            surest = Some(l);
                        }
                    }
                }
            }
            let Some(surest) = surest else { continue };
            planned.insert((s.id.clone(), c.clone()));
            let info = git.commit_info(c)?;
            let w = match &writes {
                Some(w) => w,
                None => writes.insert(Writes::of_session(store, &s.id)?),
            };
            let lines = added.iter().filter(|x| w.lines.contains(*x)).count();
            plan.proposals.push(Proposal {
                session: s.clone(),
                link: Link {
                    commit: c.clone(),
                    kind: surest.kind,
                    confidence: surest.confidence,
                },
                commit: info,
                score: None,
                relinked_from: from.first().cloned(),
                by_content: true,
                evidence: Evidence {
                    lines,
                    lines_added: added.len(),
                    carried_from: from,
                    ..Evidence::default()
                },
            });
        }
    }
    Ok(())
}

/// A commit is linked by the content index to a session that wrote at least this many of
/// its added lines (or at least half of them, when it adds fewer).
pub const INDEX_MIN_LINES: usize = 3;

/// Finds, by the content index, the commits on a branch made since `since_secs` whose added
/// lines the messages of one of `sessions` wrote: at least [`INDEX_MIN_LINES`] of them, or at
/// least half. Each such pair not linked yet (nor taken back, nor planned by an earlier step)
/// becomes an `auto` link whose confidence follows the evidence (0.7 + 0.3 × the share of the
/// commit's lines the session wrote), its evidence marked `content`. docs/links.md, "The
/// content index" and "Squash, cherry-pick and rebase".
fn by_index(
    store: &Db,
    git: &Git,
    sessions: &[SessionRow],
    since_secs: i64,
    planned: &mut HashSet<(String, String)>,
    plan: &mut AutoPlan,
) -> Result<(), LinkError> {
    if sessions.is_empty() {
        return Ok(());
    }
    let ours: HashMap<&str, &SessionRow> = sessions.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut ever: HashMap<String, Vec<String>> = HashMap::new();
    for (c, added) in git.added_lines_since(since_secs)? {
        if added.is_empty() {
            continue;
        }
        let hashes: Vec<i64> = added.iter().map(|l| crate::content::line_hash(l)).collect();
        let mut wrote: HashMap<String, HashSet<i64>> = HashMap::new();
        for m in store.content_matches(&hashes)? {
            if ours.contains_key(m.session_id.as_str()) {
                wrote.entry(m.session_id).or_default().insert(m.hash);
            }
        }
        let mut found: Vec<(String, usize)> =
            wrote.into_iter().map(|(id, h)| (id, h.len())).collect();
        found.sort();
        for (id, n) in found {
            if n < INDEX_MIN_LINES && n * 2 < added.len() {
                continue;
            }
            if planned.contains(&(id.clone(), c.clone())) {
                continue;
            }
            if !ever.contains_key(&id) {
                ever.insert(id.clone(), store.link_commits_ever(&id)?);
            }
            if ever
                .get(&id)
                .is_some_and(|e| e.iter().any(|x| c.starts_with(x.as_str())))
            {
                continue;
            }
            let Some(s) = ours.get(id.as_str()) else {
                continue;
            };
            let evidence = Evidence {
                lines: n,
                lines_added: added.len(),
                content: true,
                ..Evidence::default()
            };
            planned.insert((id.clone(), c.clone()));
            plan.proposals.push(Proposal {
                session: (*s).clone(),
                link: Link {
                    commit: c.clone(),
                    kind: LinkKind::Auto,
                    confidence: evidence.confidence(),
                },
                commit: git.commit_info(&c)?,
                score: None,
                relinked_from: None,
                by_content: true,
                evidence,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn the_score_adds_branch_files_and_time() {
        // During the session, on its branch, every file named: the best there is.
        let s = score((0, 60 * MIN), 30 * MIN, true, 2, 2).unwrap();
        assert_eq!(s.total, 1.0);
        // Ten minutes after, no branch, half the files.
        let s = score((0, 60 * MIN), 70 * MIN, false, 1, 2).unwrap();
        assert!((s.total - 0.4).abs() < 1e-9, "{s:?}");
        // Just over the window: not a candidate.
        assert!(score((0, 60 * MIN), 91 * MIN, true, 1, 1).is_none());
        assert!(score((40 * MIN, 60 * MIN), 9 * MIN, true, 1, 1).is_none());
        // A commit without files (empty) scores on time and branch alone.
        let s = score((0, MIN), MIN, true, 0, 0).unwrap();
        assert!((s.total - 0.6).abs() < 1e-9);
    }

    #[test]
    fn files_are_named_on_path_boundaries() {
        let root = Path::new("/home/me/app");
        let yes = |tools: &str, file: &str| names_file(tools, file, root, None);
        assert!(yes(
            r#"{"file_path":"/home/me/app/src/lib.rs"}"#,
            "src/lib.rs"
        ));
        assert!(yes("*** Update File: src/lib.rs\n", "src/lib.rs"));
        assert!(yes("src/lib.rs", "src/lib.rs"));
        assert!(yes("edit src/lib.rs.", "src/lib.rs"));
        // Through a symlink: another path to a folder of the same name.
        assert!(yes(r#"{"file_path":"/tmp/link/app/lib.rs"}"#, "lib.rs"));
        // A top-level file is not named by a file of the same name in a folder.
        assert!(!yes(r#"{"file_path":"/home/me/app/src/lib.rs"}"#, "lib.rs"));
        assert!(!yes("*** Update File: src/lib.rs", "lib.rs"));
        assert!(!yes("edit mylib.rs", "lib.rs"));
        assert!(!yes("edit src/lib.rs.bak", "src/lib.rs"));
        assert!(!yes("edit src/lib.rsx", "src/lib.rs"));
        // A root whose path has a space.
        let spaced = Path::new("/home/me/my app");
        assert!(names_file(
            r#"{"file_path":"/home/me/my app/src/x.rs"}"#,
            "src/x.rs",
            spaced,
            None
        ));
        // A session working in src/ names src/lib.rs as lib.rs.
        assert!(names_file(
            "edit lib.rs now",
            "src/lib.rs",
            root,
            Some("src")
        ));
        assert!(!names_file("edit lib.rs now", "src/lib.rs", root, Some("")));
        assert!(!names_file(
            "edit lib.rs now",
            "tests/lib.rs",
            root,
            Some("src")
        ));
    }

    #[test]
    fn activity_spans_start_to_last_activity() {
        let mut row = SessionRow {
            id: "s".into(),
            tool: "codex".into(),
            tool_version: None,
            model: None,
            title: None,
            started_at: Some(10),
            updated_at: Some(50),
            ended_at: Some(40),
            cwd: None,
            git_branch: None,
            machine_id: "m".into(),
            message_count: 0,
            source_path: None,
            parent_id: None,
        };
        assert_eq!(activity(&row), Some((10, 50)));
        row.started_at = None;
        assert_eq!(activity(&row), Some((50, 50)));
        row.updated_at = None;
        row.ended_at = None;
        assert_eq!(activity(&row), None);
    }
}
