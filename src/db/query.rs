//! Reading the store: listing, resolving ids, messages, full-text search, statistics.

use rusqlite::types::Value as SqlValue;
use rusqlite::{OptionalExtension, Row, params_from_iter};

use super::{Db, DbError};
use crate::model::{Kind, Link, Message, Role, Tool};

/// Which sessions a listing or search covers. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tool: Option<Tool>,
    pub branch: Option<String>,
    /// Sessions whose working directory is this folder or inside it.
    pub repo: Option<String>,
    /// With `repo`: sessions that belong to the repository by its identity though they ran
    /// elsewhere (another clone, a teammate's machine); found by `link::identity_sessions`.
    pub repo_also: Vec<String>,
    /// Sessions with this tag (`lore tag`).
    pub tag: Option<String>,
    /// Sessions active at or after this moment (Unix ms).
    pub since: Option<i64>,
    /// Sessions started at or before this moment (Unix ms).
    pub until: Option<i64>,
}

impl Filter {
    /// SQL conditions on the `sessions` table aliased `s`, with their parameters.
    fn sql(&self) -> (String, Vec<SqlValue>) {
        let mut conds = Vec::new();
        let mut params = Vec::new();
        if let Some(t) = self.tool {
            conds.push("s.tool = ?");
            params.push(SqlValue::Text(t.as_str().to_owned()));
        }
        if let Some(b) = &self.branch {
            conds.push("s.git_branch = ?");
            params.push(SqlValue::Text(b.clone()));
        }
        if let Some(r) = &self.repo {
            let root = r.trim_end_matches('/');
            conds.push(
                "(s.cwd = ? OR substr(s.cwd, 1, ?) = ? OR s.id IN (SELECT value FROM json_each(?)))",
            );
            params.push(SqlValue::Text(root.to_owned()));
            params.push(SqlValue::Integer(root.len() as i64 + 1));
            params.push(SqlValue::Text(format!("{root}/")));
            params.push(SqlValue::Text(
                serde_json::to_string(&self.repo_also).unwrap_or_else(|_| "[]".to_owned()),
            ));
        }
        if let Some(t) = &self.tag {
            conds.push("EXISTS (SELECT 1 FROM tags t WHERE t.session_id = s.id AND t.tag = ? AND t.removed_at IS NULL)");
            params.push(SqlValue::Text(t.clone()));
        }
        if let Some(t) = self.since {
            conds.push("coalesce(s.updated_at, s.started_at) >= ?");
            params.push(SqlValue::Integer(t));
        }
        if let Some(t) = self.until {
            conds.push("coalesce(s.started_at, s.updated_at) <= ?");
            params.push(SqlValue::Integer(t));
        }
        let sql = if conds.is_empty() {
            "1".to_owned()
        } else {
            conds.join(" AND ")
        };
        (sql, params)
    }
}

/// A stored session as listings show it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id: String,
    pub tool: String,
    pub tool_version: Option<String>,
    pub model: Option<String>,
    /// The transcript's title, or failing that the first line of the first prompt.
    pub title: Option<String>,
    pub started_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    pub machine_id: String,
    pub message_count: i64,
    pub source_path: Option<String>,
    pub parent_id: Option<String>,
}

const SESSION_COLUMNS: &str = "s.id, s.tool, s.tool_version, s.model,
    coalesce(s.title, (SELECT substr(m.content, 1, 200) FROM messages m
        WHERE m.session_id = s.id AND m.role = 'user' ORDER BY m.ordinal LIMIT 1)),
    s.started_at, s.updated_at, s.ended_at, s.cwd, s.git_branch, s.machine_id,
    s.message_count, s.source_path, s.parent_id";

fn session_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    let title: Option<String> = r.get(4)?;
    Ok(SessionRow {
        id: r.get(0)?,
        tool: r.get(1)?,
        tool_version: r.get(2)?,
        model: r.get(3)?,
        title: title.map(|t| first_line(&t)),
        started_at: r.get(5)?,
        updated_at: r.get(6)?,
        ended_at: r.get(7)?,
        cwd: r.get(8)?,
        git_branch: r.get(9)?,
        machine_id: r.get(10)?,
        message_count: r.get(11)?,
        source_path: r.get(12)?,
        parent_id: r.get(13)?,
    })
}

fn first_line(s: &str) -> String {
    let line = s.trim_start().lines().next().unwrap_or("").trim();
    if line.chars().count() > 100 {
        let cut: String = line.chars().take(99).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

/// One message that matched a search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub session_id: String,
    pub tool: String,
    pub title: Option<String>,
    pub cwd: Option<String>,
    pub ordinal: i64,
    pub role: String,
    pub kind: String,
    pub timestamp: Option<i64>,
    /// Text around the match. Matched terms are wrapped in [`HIT_START`] and [`HIT_END`].
    pub snippet: String,
    /// The session's parent, for a hit in a sub-agent's session.
    pub parent_id: Option<String>,
}

/// Search ranks by relevance among at most this many of the newest matching messages, so that
/// a query costs the same whatever the size of the store.
pub const RANK_WINDOW: usize = 2_000;

/// Marks the start of a matched term inside [`SearchHit::snippet`].
pub const HIT_START: char = '\u{2}';
/// Marks the end of a matched term inside [`SearchHit::snippet`].
pub const HIT_END: char = '\u{3}';

/// The fewest hex digits of an abbreviated commit id that a link may match by prefix: git's
/// own default abbreviation.
pub const MIN_ABBREV: usize = 7;

/// A session and the link that joins it to a commit.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedSession {
    pub session: SessionRow,
    pub link: Link,
    /// Why the link exists, as lore's link code wrote it (JSON, `links.evidence`); `None` for
    /// a link made before lore recorded evidence, or one that came by sync.
    pub evidence: Option<String>,
}

/// Which links `lore links` lists and `lore unlink` removes in bulk. Empty fields do not
/// filter.
#[derive(Debug, Clone, Default)]
pub struct LinkQuery {
    /// Links of these kinds only.
    pub kinds: Vec<crate::model::LinkKind>,
    /// Links at least this sure.
    pub min_confidence: Option<f64>,
    /// Links at most this sure.
    pub max_confidence: Option<f64>,
    /// Links of this session (its full id) only.
    pub session: Option<String>,
    /// Links to these commits (full ids) only.
    pub commits: Option<Vec<String>>,
}

/// A link with its session, as `lore links` lists it.
#[derive(Debug, Clone)]
pub struct LinkRow {
    pub session: SessionRow,
    pub link: Link,
    /// The JSON of `links.evidence`, `None` when none was recorded.
    pub evidence: Option<String>,
    /// When the link was made (Unix ms).
    pub created_at: i64,
}

/// A message read by [`Db::messages_page`].
#[derive(Debug, Clone, PartialEq)]
pub struct PagedMessage {
    /// Its position in the session, from 0.
    pub ordinal: i64,
    /// The length of its stored content in characters (also when the content was omitted).
    pub chars: i64,
    pub message: Message,
}

/// Counts that `lore status` shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DbStats {
    pub sessions: i64,
    pub messages: i64,
    pub links: i64,
    pub by_tool: Vec<(String, i64)>,
    pub oldest: Option<i64>,
    pub newest: Option<i64>,
    pub last_import: Option<i64>,
    pub tombstones: i64,
    pub sources: i64,
}

impl Db {
    /// Sessions matching `filter`, newest first, at most `limit`.
    pub fn sessions(&self, filter: &Filter, limit: usize) -> Result<Vec<SessionRow>, DbError> {
        let (cond, mut params) = filter.sql();
        params.push(SqlValue::Integer(limit as i64));
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE {cond}
             ORDER BY coalesce(s.updated_at, s.started_at) DESC, s.id LIMIT ?"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt
            .query_map(params_from_iter(params), session_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The session whose id is `id_or_prefix`, or the only one whose id starts with it.
    pub fn session(&self, id_or_prefix: &str) -> Result<SessionRow, DbError> {
        let id = self.resolve_id(id_or_prefix)?;
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.id = ?1");
        Ok(self.conn().query_row(&sql, [&id], session_row)?)
    }

    /// The full id of the one session that `id_or_prefix` names.
    pub fn resolve_id(&self, id_or_prefix: &str) -> Result<String, DbError> {
        if id_or_prefix.is_empty() {
            return Err(DbError::NotFound(String::new()));
        }
        let exact: Option<String> = self
            .conn()
            .query_row(
                "SELECT id FROM sessions WHERE id = ?1",
                [id_or_prefix],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = exact {
            return Ok(id);
        }
        // Listings shorten a sub-agent's id to `<parent prefix>…<suffix>`; accept it back.
        if let Some((head, tail)) = id_or_prefix.split_once('…') {
            let mut stmt = self.conn().prepare(
                "SELECT id FROM sessions WHERE id >= ?1 AND id < ?2
                   AND substr(id, -?4) = ?3 ORDER BY id LIMIT 2",
            )?;
            let ids: Vec<String> = stmt
                .query_map(
                    rusqlite::params![head, upper_bound(head), tail, tail.len() as i64],
                    |r| r.get(0),
                )?
                .collect::<Result<_, _>>()?;
            return match ids.as_slice() {
                [one] => Ok(one.clone()),
                [] => Err(DbError::NotFound(id_or_prefix.to_owned())),
                _ => Err(DbError::Ambiguous {
                    prefix: id_or_prefix.to_owned(),
                    count: ids.len(),
                }),
            };
        }
        // A bounded range scan on the primary key: every id that starts with the prefix and
        // nothing after them.
        let mut stmt = self
            .conn()
            .prepare("SELECT id FROM sessions WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 64")?;
        let ids: Vec<String> = stmt
            .query_map(
                rusqlite::params![id_or_prefix, upper_bound(id_or_prefix)],
                |r| r.get(0),
            )?
            .collect::<Result<_, _>>()?;
        match ids.as_slice() {
            [] => Err(DbError::NotFound(id_or_prefix.to_owned())),
            [one] => Ok(one.clone()),
            // A session and its sub-agents (`<id>-agent-…`): every match extends the first, so
            // the prefix names that one, as the listing shows it.
            [first, rest @ ..]
                if ids.len() < 64 && rest.iter().all(|id| id.starts_with(first.as_str())) =>
            {
                Ok(first.clone())
            }
            _ => {
                let count: i64 = self.conn().query_row(
                    "SELECT count(*) FROM sessions WHERE id >= ?1 AND id < ?2",
                    rusqlite::params![id_or_prefix, upper_bound(id_or_prefix)],
                    |r| r.get(0),
                )?;
                Err(DbError::Ambiguous {
                    prefix: id_or_prefix.to_owned(),
                    count: count as usize,
                })
            }
        }
    }

    /// Calls `f` with each message of session `id` in order, one at a time, so that a session
    /// of any size is shown without holding it in memory.
    pub fn for_each_message(
        &self,
        id: &str,
        mut f: impl FnMut(Message) -> std::io::Result<()>,
    ) -> Result<(), ForEachError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT role, kind, content, timestamp, tool_name FROM messages
             WHERE session_id = ?1 ORDER BY ordinal",
        )?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            let role: String = r.get(0)?;
            let kind: String = r.get(1)?;
            let message = Message {
                role: role.parse().unwrap_or(Role::System),
                kind: kind.parse().unwrap_or(Kind::Text),
                content: r.get(2)?,
                timestamp: r.get(3)?,
                tool_name: r.get(4)?,
            };
            f(message).map_err(ForEachError::Output)?;
        }
        Ok(())
    }

    /// A page of session `id`'s messages: at most `limit` of those at ordinal `from` or after
    /// whose role is in `roles` (every role when empty), in order, each with its ordinal and its
    /// content's length in characters. With `omit_tool_output`, a tool result's content is left
    /// empty (never read into memory) while its length is still given (the rule of
    /// [`crate::reading::is_tool_output`], in SQL).
    pub fn messages_page(
        &self,
        id: &str,
        from: i64,
        roles: &[Role],
        omit_tool_output: bool,
        limit: usize,
    ) -> Result<Vec<PagedMessage>, DbError> {
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let roles = serde_json::to_string(&roles).unwrap_or_else(|_| "[]".to_owned());
        let mut stmt = self.conn().prepare_cached(
            "SELECT ordinal, role, kind,
                    CASE WHEN ?4 AND kind = 'tool_result' THEN '' ELSE content END,
                    length(content), timestamp, tool_name
             FROM messages
             WHERE session_id = ?1 AND ordinal >= ?2
               AND (?3 = '[]' OR role IN (SELECT value FROM json_each(?3)))
             ORDER BY ordinal LIMIT ?5",
        )?;
        let rows = stmt
            .query_map(
                rusqlite::params![id, from, roles, omit_tool_output, limit as i64],
                |r| {
                    let role: String = r.get(1)?;
                    let kind: String = r.get(2)?;
                    Ok(PagedMessage {
                        ordinal: r.get(0)?,
                        chars: r.get(4)?,
                        message: Message {
                            role: role.parse().unwrap_or(Role::System),
                            kind: kind.parse().unwrap_or(Kind::Text),
                            content: r.get(3)?,
                            timestamp: r.get(5)?,
                            tool_name: r.get(6)?,
                        },
                    })
                },
            )?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The sessions whose parent is session `id` (its sub-agents), oldest first.
    pub fn children(&self, id: &str) -> Result<Vec<SessionRow>, DbError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.parent_id = ?1
             ORDER BY coalesce(s.started_at, s.updated_at), s.id"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map([id], session_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The first and last ordinals of session `id`'s messages; `None` when it has none.
    pub fn ordinal_range(&self, id: &str) -> Result<Option<(i64, i64)>, DbError> {
        let (lo, hi): (Option<i64>, Option<i64>) = self.conn().query_row(
            "SELECT min(ordinal), max(ordinal) FROM messages WHERE session_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(lo.zip(hi))
    }

    /// The text of session `id`'s first user prompt, if it has one.
    pub fn first_prompt(&self, id: &str) -> Result<Option<String>, DbError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT content FROM messages WHERE session_id = ?1 AND role = 'user'
                   AND kind = 'text' ORDER BY ordinal LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The commits linked to session `id` (links taken back with `lore unlink` left out).
    pub fn links(&self, id: &str) -> Result<Vec<Link>, DbError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT commit_id, kind, confidence FROM links
             WHERE session_id = ?1 AND kind != 'removed' ORDER BY created_at, commit_id",
        )?;
        let links = stmt
            .query_map([id], |r| {
                let kind: String = r.get(1)?;
                Ok(Link {
                    commit: r.get(0)?,
                    kind: kind.parse().unwrap_or(crate::model::LinkKind::Import),
                    confidence: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(links)
    }

    /// The evidence recorded for each link of session `id` (links taken back left out):
    /// commit id → the JSON lore's link code wrote, `None` when none was recorded.
    pub fn link_evidence(
        &self,
        id: &str,
    ) -> Result<std::collections::HashMap<String, Option<String>>, DbError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT commit_id, evidence FROM links WHERE session_id = ?1 AND kind != 'removed'",
        )?;
        let rows = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every link (taken back ones left out) that `q` selects, with its session, newest
    /// first. docs/links.md, "`lore links`".
    pub fn all_links(&self, q: &LinkQuery) -> Result<Vec<LinkRow>, DbError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS}, l.commit_id, l.kind, l.confidence, l.evidence, l.created_at
             FROM links l JOIN sessions s ON s.id = l.session_id
             WHERE l.kind != 'removed' AND l.confidence >= ?1 AND l.confidence <= ?2
               AND (?3 IS NULL OR l.session_id = ?3)
             ORDER BY l.created_at DESC, l.session_id, l.commit_id"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(
            rusqlite::params![
                q.min_confidence.unwrap_or(f64::NEG_INFINITY),
                q.max_confidence.unwrap_or(f64::INFINITY),
                q.session
            ],
            |r| {
                let kind: String = r.get(15)?;
                Ok(LinkRow {
                    session: session_row(r)?,
                    link: Link {
                        commit: r.get(14)?,
                        kind: kind.parse().unwrap_or(crate::model::LinkKind::Import),
                        confidence: r.get(16)?,
                    },
                    evidence: r.get(17)?,
                    created_at: r.get(18)?,
                })
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let row = row?;
            if !q.kinds.is_empty() && !q.kinds.contains(&row.link.kind) {
                continue;
            }
            if let Some(commits) = &q.commits {
                // The full id, or a link recorded with an abbreviation of it (7+ digits).
                let c = &row.link.commit;
                let hit = commits.iter().any(|full| {
                    full == c || (c.len() >= MIN_ABBREV && full.starts_with(c.as_str()))
                });
                if !hit {
                    continue;
                }
            }
            out.push(row);
        }
        Ok(out)
    }

    /// Every commit session `id` has a link row for, including links taken back with
    /// `lore unlink` (which `--auto` must not make again).
    pub fn link_commits_ever(&self, id: &str) -> Result<Vec<String>, DbError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT commit_id FROM links WHERE session_id = ?1")?;
        let ids = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// The sessions linked to the commit whose full id is `full_id`, surest link first.
    ///
    /// A link recorded with an abbreviated id (Aider writes `Commit 1a2b3c4`) counts when it is
    /// a prefix of `full_id` of at least [`MIN_ABBREV`] hex digits. The lookup is a bounded
    /// range scan on the links' commit index (every prefix of `full_id` sorts between its first
    /// [`MIN_ABBREV`] digits and itself), so blame costs the same whatever the number of links.
    pub fn sessions_for_commit(&self, full_id: &str) -> Result<Vec<LinkedSession>, DbError> {
        let Some(low) = full_id.get(..MIN_ABBREV) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {SESSION_COLUMNS}, l.commit_id, l.kind, l.confidence, l.evidence
             FROM links l JOIN sessions s ON s.id = l.session_id
             WHERE l.commit_id >= ?1 AND l.commit_id <= ?2
               AND substr(?2, 1, length(l.commit_id)) = l.commit_id
               AND l.kind != 'removed'
             ORDER BY l.confidence DESC, coalesce(s.started_at, s.updated_at), s.id"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params![low, full_id], |r| {
                let kind: String = r.get(15)?;
                Ok(LinkedSession {
                    session: session_row(r)?,
                    link: Link {
                        commit: r.get(14)?,
                        kind: kind.parse().unwrap_or(crate::model::LinkKind::Import),
                        confidence: r.get(16)?,
                    },
                    evidence: r.get(17)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every session's id and recorded working directory.
    pub fn session_cwds(&self) -> Result<Vec<(String, Option<String>)>, DbError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id, cwd FROM sessions ORDER BY id")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The working directory of session `id`: `None` when there is no such session,
    /// `Some(None)` when it has none.
    pub fn session_cwd(&self, id: &str) -> Result<Option<Option<String>>, DbError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT cwd FROM sessions WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    /// Whether lore.db knows session `id` (exactly that id): as a session, or as a deleted
    /// one (its tombstone).
    pub fn has_session(&self, id: &str) -> Result<bool, DbError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT 1 FROM sessions WHERE id = ?1 UNION ALL SELECT 1 FROM tombstones WHERE session_id = ?1",
            )?
            .exists([id])?)
    }

    /// Whether session `id` was deleted on this machine only (`lore delete` without
    /// `--everywhere`): hidden here, kept in the shared store.
    pub fn deleted_here_only(&self, id: &str) -> Result<bool, DbError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM tombstones WHERE session_id = ?1 AND scope = 'here'")?
            .exists([id])?)
    }

    /// The ids of every deleted session (its tombstone).
    pub fn tombstone_ids(&self) -> Result<Vec<String>, DbError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT session_id FROM tombstones ORDER BY session_id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// The annotations of session `id`, oldest first: (body, created_at in Unix ms).
    pub fn annotations(&self, id: &str) -> Result<Vec<(String, i64)>, DbError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT body, created_at FROM annotations WHERE session_id = ?1 ORDER BY created_at, body",
        )?;
        let rows = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The tags of session `id` (those removed left out).
    pub fn tags(&self, id: &str) -> Result<Vec<String>, DbError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT tag FROM tags WHERE session_id = ?1 AND removed_at IS NULL ORDER BY tag",
        )?;
        let tags = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(tags)
    }

    /// Messages matching `query` (see [`fts_query`]) in sessions matching `filter`, best first:
    /// the most relevant among the newest [`RANK_WINDOW`] matches.
    pub fn search(
        &self,
        query: &str,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<SearchHit>, SearchError> {
        let fts = fts_query(query).ok_or(SearchError::EmptyQuery)?;
        if let Some(words) = cjk_words(query) {
            return self.search_cjk(&words, filter, limit);
        }
        let terms = query_terms(query);
        let (cond, filter_params) = filter.sql();
        // Ranking every match of a common word costs time in proportion to the store (bm25 over
        // 165,000 matches: half a second). So: the newest RANK_WINDOW matches (cheap: the index
        // hands them out in rowid order), ranked by relevance; titles and snippets only for the
        // rows kept. Snippets are cut here rather than by FTS5's snippet(), whose cost grows
        // with the number of hits in a message (a long test log: half a second for 20 rows).
        // Without filters the index alone ranks; with them, CROSS JOIN fixes the order so the
        // full-text index drives, never a scan of messages.
        let matches = if filter_params.is_empty() {
            "FROM messages_fts"
        } else {
            "FROM messages_fts
                CROSS JOIN messages m ON m.id = messages_fts.rowid
                CROSS JOIN sessions s ON s.id = m.session_id"
        };
        let mut params = vec![SqlValue::Text(fts.clone())];
        params.extend(filter_params.iter().cloned());
        params.push(SqlValue::Text(fts.clone()));
        params.extend(filter_params);
        params.push(SqlValue::Integer(limit as i64));
        let sql = format!(
            "WITH recent AS MATERIALIZED (
                SELECT messages_fts.rowid AS rid {matches}
                WHERE messages_fts MATCH ? AND {cond}
                ORDER BY messages_fts.rowid DESC LIMIT {RANK_WINDOW}),
             top AS MATERIALIZED (
                SELECT messages_fts.rowid AS rid, messages_fts.rank AS score {matches}
                WHERE messages_fts MATCH ? AND {cond}
                  AND messages_fts.rowid >= (SELECT min(rid) FROM recent)
                ORDER BY messages_fts.rank LIMIT ?)
             SELECT m.session_id, s.tool, {title}, s.cwd, m.ordinal, m.role, m.kind, m.timestamp,
                m.content, s.parent_id
             FROM top
             JOIN messages m ON m.id = top.rid
             JOIN sessions s ON s.id = m.session_id
             ORDER BY top.score",
            title = "coalesce(s.title, (SELECT substr(f.content, 1, 200) FROM messages f
                WHERE f.session_id = s.id AND f.role = 'user' ORDER BY f.ordinal LIMIT 1))"
        );
        let mut stmt = self.conn().prepare(&sql).map_err(DbError::from)?;
        let hits = stmt
            .query_map(params_from_iter(params.iter()), |r| {
                search_hit(r, |content| snippet(content, &terms))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>());
        // The statement itself is fixed; a plain SQL error while running it comes from the
        // MATCH expression, which is the user's.
        hits.map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::Unknown) => SearchError::Syntax(match &e {
                rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
                other => other.to_string(),
            }),
            _ => SearchError::Db(DbError::Sqlite(e)),
        })
    }

    /// [`Db::search`] for a query holding Chinese, Japanese or Korean: the messages holding
    /// every word as a substring, newest first, found through the trigram index of messages
    /// with CJK text (`messages_cjk`, schema 5). Words of three characters or more are looked
    /// up in the index; shorter ones are checked in its rows (only messages with CJK text).
    fn search_cjk(
        &self,
        words: &[String],
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<SearchHit>, SearchError> {
        let (cond, filter_params) = filter.sql();
        let long: Vec<String> = words
            .iter()
            .filter(|w| w.chars().count() >= 3)
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect();
        let mut conds = Vec::new();
        let mut params = Vec::new();
        if !long.is_empty() {
            conds.push("messages_cjk MATCH ?".to_owned());
            params.push(SqlValue::Text(long.join(" ")));
        }
        for w in words.iter().filter(|w| w.chars().count() < 3) {
            conds.push("instr(lower(messages_cjk.content), lower(?)) > 0".to_owned());
            params.push(SqlValue::Text(w.clone()));
        }
        params.extend(filter_params);
        params.push(SqlValue::Integer(limit as i64));
        let sql = format!(
            "SELECT m.session_id, s.tool, {title}, s.cwd, m.ordinal, m.role, m.kind, m.timestamp,
                m.content, s.parent_id
             FROM messages_cjk
             CROSS JOIN messages m ON m.id = messages_cjk.rowid
             CROSS JOIN sessions s ON s.id = m.session_id
             WHERE {matches} AND {cond}
             ORDER BY messages_cjk.rowid DESC LIMIT ?",
            matches = conds.join(" AND "),
            title = "coalesce(s.title, (SELECT substr(f.content, 1, 200) FROM messages f
                WHERE f.session_id = s.id AND f.role = 'user' ORDER BY f.ordinal LIMIT 1))"
        );
        let mut stmt = self.conn().prepare(&sql).map_err(DbError::from)?;
        let hits = stmt
            .query_map(params_from_iter(params.iter()), |r| {
                search_hit(r, |content| substring_snippet(content, words))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(DbError::from)?;
        Ok(hits)
    }

    /// The fingerprint and tool a transcript file had when import last read it.
    pub fn source_state(&self, path: &str) -> Result<Option<(String, Option<String>)>, DbError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT fingerprint, tool FROM sources WHERE path = ?1")?
            .query_row([path], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Counts for `lore status`.
    pub fn stats(&self) -> Result<DbStats, DbError> {
        let c = self.conn();
        let one = |sql: &str| -> rusqlite::Result<i64> { c.query_row(sql, [], |r| r.get(0)) };
        let opt =
            |sql: &str| -> rusqlite::Result<Option<i64>> { c.query_row(sql, [], |r| r.get(0)) };
        let mut stmt = c.prepare(
            "SELECT tool, count(*) FROM sessions GROUP BY tool ORDER BY count(*) DESC, tool",
        )?;
        let by_tool = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(DbStats {
            sessions: one("SELECT count(*) FROM sessions")?,
            messages: one("SELECT count(*) FROM messages")?,
            links: one("SELECT count(*) FROM links WHERE kind != 'removed'")?,
            by_tool,
            oldest: opt("SELECT min(started_at) FROM sessions")?,
            newest: opt("SELECT max(updated_at) FROM sessions")?,
            last_import: opt("SELECT max(checked_at) FROM sources")?,
            tombstones: one("SELECT count(*) FROM tombstones")?,
            sources: one("SELECT count(*) FROM sources")?,
        })
    }
}

/// The smallest string above every string that starts with `prefix` (ids hold no U+10FFFF).
fn upper_bound(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// A query's words, lower-cased, each with whether it is a prefix (`word*`); FTS5 operators and
/// quotes are dropped.
fn query_terms(query: &str) -> Vec<(String, bool)> {
    let mut terms = Vec::new();
    for raw in query.split_whitespace() {
        if matches!(raw, "AND" | "OR" | "NOT") || raw.starts_with("NEAR") {
            continue;
        }
        let prefix = raw.trim_end_matches(['"', ')']).ends_with('*');
        let words: Vec<String> = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        let n = words.len();
        for (i, w) in words.into_iter().enumerate() {
            terms.push((w, prefix && i + 1 == n));
        }
    }
    terms
}

/// About this many characters of a message are shown around its first hit.
const SNIPPET_CHARS: usize = 160;

/// The part of `text` around the first word that matches `terms`, every matching word in it
/// wrapped in [`HIT_START`] and [`HIT_END`], and `…` where it was cut. Words are runs of letters
/// and digits, compared without case, as the full-text index tokenizes them.
fn snippet(text: &str, terms: &[(String, bool)]) -> String {
    let matches = |word: &str| {
        let w = word.to_lowercase();
        terms.iter().any(|(t, prefix)| {
            if *prefix {
                w.starts_with(t.as_str())
            } else {
                w == *t
            }
        })
    };
    let mut words = Vec::new(); // (byte start, byte end) of each matching word
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if matches(&text[s..i]) {
                    words.push((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    render_snippet(text, &words)
}

/// The part of `text` around the first of `words` (byte ranges, in order), each marked.
fn render_snippet(text: &str, words: &[(usize, usize)]) -> String {
    let first = words.first().map_or(0, |w| w.0);
    // Start a little before the first hit, on a character boundary.
    let from = text[..first]
        .char_indices()
        .rev()
        .nth(SNIPPET_CHARS / 3)
        .map_or(0, |(i, _)| i);
    let to = text[from..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(text.len(), |(i, _)| from + i);
    let mut out = String::with_capacity(to - from + 16);
    if from > 0 {
        out.push('…');
    }
    let mut at = from;
    for &(s, e) in words.iter().filter(|(s, e)| *s >= from && *e <= to) {
        out.push_str(&text[at..s]);
        out.push(HIT_START);
        out.push_str(&text[s..e]);
        out.push(HIT_END);
        at = e;
    }
    out.push_str(&text[at..to]);
    if to < text.len() {
        out.push('…');
    }
    out
}

/// Errors of [`Db::for_each_message`]: the store's, or the caller's output failing.
#[derive(Debug, thiserror::Error)]
pub enum ForEachError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Output(std::io::Error),
}

impl From<rusqlite::Error> for ForEachError {
    fn from(e: rusqlite::Error) -> Self {
        ForEachError::Db(DbError::Sqlite(e))
    }
}

/// Errors of [`Db::search`].
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the search query is empty; give one or more words")]
    EmptyQuery,
    #[error("invalid search syntax ({0}); put the words in quotes or drop the operators")]
    Syntax(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Whether `c` is a Chinese, Japanese or Korean character: the classes `messages_cjk` indexes
/// (migration 005).
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30ff}'
        | '\u{3400}'..='\u{4dbf}'
        | '\u{4e00}'..='\u{9fff}'
        | '\u{ac00}'..='\u{d7af}'
        | '\u{f900}'..='\u{faff}'
        | '\u{ff66}'..='\u{ff9f}')
}

/// The words of a plain query (no FTS5 syntax) that holds CJK text; `None` otherwise, for the
/// ordinary full-text index.
fn cjk_words(query: &str) -> Option<Vec<String>> {
    if !query.chars().any(is_cjk) || query.contains(['"', '*', '(', ')']) {
        return None;
    }
    let words: Vec<String> = query
        .split_whitespace()
        .filter(|w| !matches!(*w, "AND" | "OR" | "NOT"))
        .map(str::to_owned)
        .collect();
    (!words.is_empty()).then_some(words)
}

/// A snippet marking every occurrence of `words` as substrings (ASCII case ignored): CJK text
/// has no spaces between words.
fn substring_snippet(text: &str, words: &[String]) -> String {
    let lower = text.to_ascii_lowercase();
    let mut found: Vec<(usize, usize)> = Vec::new();
    for w in words {
        let w = w.to_ascii_lowercase();
        found.extend(lower.match_indices(&w).map(|(i, m)| (i, i + m.len())));
    }
    found.sort_unstable();
    let mut words_at: Vec<(usize, usize)> = Vec::new();
    for (s, e) in found {
        match words_at.last_mut() {
            Some(last) if s < last.1 => last.1 = last.1.max(e),
            _ => words_at.push((s, e)),
        }
    }
    render_snippet(text, &words_at)
}

/// Turns what a user typed into an FTS5 query.
///
/// Plain words are each quoted, so `fix bug-123 in foo.rs` finds messages holding all of
/// them, punctuation and all. A query that uses FTS5 syntax on purpose (double quotes, `*`,
/// parentheses, or the operators AND, OR, NOT, NEAR in capitals) is passed as it is.
pub fn fts_query(input: &str) -> Option<String> {
    let input = input.trim();
    if input.is_empty() {
        return None;
    }
    let uses_syntax = input.contains(['"', '*', '(', ')'])
        || input
            .split_whitespace()
            .any(|w| matches!(w, "AND" | "OR" | "NOT") || w.starts_with("NEAR"));
    if uses_syntax {
        return Some(input.to_owned());
    }
    let quoted: Vec<String> = input
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    Some(quoted.join(" "))
}

/// A search hit from a row of the search queries' shared column list (session id, tool, title,
/// cwd, ordinal, role, kind, timestamp, content, parent id); `snippet` cuts the content around
/// the match.
fn search_hit(
    r: &rusqlite::Row<'_>,
    snippet: impl FnOnce(&str) -> String,
) -> rusqlite::Result<SearchHit> {
    let title: Option<String> = r.get(2)?;
    Ok(SearchHit {
        session_id: r.get(0)?,
        tool: r.get(1)?,
        title: title.map(|t| first_line(&t)),
        cwd: r.get(3)?,
        ordinal: r.get(4)?,
        role: r.get(5)?,
        kind: r.get(6)?,
        timestamp: r.get(7)?,
        snippet: snippet(&r.get::<_, String>(8)?),
        parent_id: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_are_quoted_and_syntax_passes_through() {
        assert_eq!(
            fts_query("fix bug-123").as_deref(),
            Some("\"fix\" \"bug-123\"")
        );
        assert_eq!(fts_query("  ").as_deref(), None);
        assert_eq!(
            fts_query("\"exact phrase\"").as_deref(),
            Some("\"exact phrase\"")
        );
        assert_eq!(fts_query("foo OR bar").as_deref(), Some("foo OR bar"));
        assert_eq!(fts_query("pref*").as_deref(), Some("pref*"));
    }

    #[test]
    fn snippets_mark_every_hit_around_the_first() {
        let terms = query_terms("\"Connection refused\" OR retr*");
        assert_eq!(
            terms,
            vec![
                ("connection".to_owned(), false),
                ("refused".to_owned(), false),
                ("retr".to_owned(), true)
            ]
        );
        let s = snippet("The connection was REFUSED; retrying.", &terms);
        assert_eq!(
            s,
            "The \u{2}connection\u{3} was \u{2}REFUSED\u{3}; \u{2}retrying\u{3}."
        );
        let long = format!("{} needle {}", "a ".repeat(500), "b ".repeat(500));
        let s = snippet(&long, &query_terms("needle"));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("\u{2}needle\u{3}"));
        assert!(
            s.chars().count() <= SNIPPET_CHARS + 4,
            "two ellipses and two markers"
        );
        // Multi-byte text is cut on character boundaries.
        let s = snippet(&"é".repeat(1000), &query_terms("x"));
        assert!(s.ends_with('…'));
    }

    #[test]
    fn long_titles_are_cut_on_one_line() {
        assert_eq!(first_line("  hello\nworld"), "hello");
        let long = "x".repeat(150);
        assert_eq!(first_line(&long).chars().count(), 100);
    }
}

/// What changed in lore.db after a given commit: see [`Db::sessions_changed_since`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangedSince {
    /// The head when the question was answered: ask again from here next time.
    pub head: Option<String>,
    /// Sessions whose row, messages, links, tags, annotations or tombstone changed.
    pub ids: std::collections::BTreeSet<String>,
    /// How many commits were looked at (those in `skip` left out).
    pub commits: usize,
}

impl Db {
    /// The head commit of lore.db's history (`None` before the first write).
    pub fn head(&self) -> Result<Option<String>, DbError> {
        if !crate::versioning::log::is_versioned(self.conn())? {
            return Ok(None);
        }
        Ok(crate::versioning::tx::head(self.conn())?)
    }

    /// The sessions that commits after `since` (`None`: from the first) changed, read from
    /// the history's row effects, so the cost follows what changed, not the size of lore.db.
    /// The commits named in `skip` (a sync's own merges) are left out. `None` when `since` is
    /// not a commit of this lore.db (another database, or its history was replaced): the
    /// caller falls back to looking at everything.
    pub fn sessions_changed_since(
        &self,
        since: Option<&str>,
        skip: &[String],
    ) -> Result<Option<ChangedSince>, DbError> {
        use crate::versioning::value::Value;
        let conn = self.conn();
        let mut ids = std::collections::BTreeSet::new();
        let tables = [
            "sessions",
            "messages",
            "links",
            "tags",
            "annotations",
            "tombstones",
        ];
        let commits = crate::versioning::log::changes_since(conn, since, skip, &tables, |c| {
            let id = match c.table.as_str() {
                // Keyed by the session id (first key column).
                "sessions" | "links" | "tags" | "tombstones" => first_text(&c.key),
                // Keyed by a row number: the live row says whose it is; a deleted row's
                // recorded copy says it.
                _ => match live_session_of(conn, &c.table, &c.key)? {
                    Some(id) => Some(id),
                    None => c.row()?.and_then(|row| match row.get("session_id") {
                        Some(Value::Text(s)) => Some(s.clone()),
                        _ => None,
                    }),
                },
            };
            ids.extend(id);
            Ok(())
        })?;
        let Some(commits) = commits else {
            return Ok(None);
        };
        Ok(Some(ChangedSince {
            head: self.head()?,
            ids,
            commits,
        }))
    }
}

/// The session of the live row of `table` (`messages` or `annotations`) whose key is `key`.
fn live_session_of(
    conn: &rusqlite::Connection,
    table: &str,
    key: &[crate::versioning::value::Value],
) -> rusqlite::Result<Option<String>> {
    let Some(crate::versioning::value::Value::Integer(rowid)) = key.first() else {
        return Ok(None);
    };
    let sql = match table {
        "messages" => "SELECT session_id FROM messages WHERE id = ?1",
        "annotations" => "SELECT session_id FROM annotations WHERE id = ?1",
        _ => return Ok(None),
    };
    conn.prepare_cached(sql)?
        .query_row([rowid], |r| r.get(0))
        .optional()
}

fn first_text(key: &[crate::versioning::value::Value]) -> Option<String> {
    match key.first() {
        Some(crate::versioning::value::Value::Text(s)) => Some(s.clone()),
        _ => None,
    }
}
