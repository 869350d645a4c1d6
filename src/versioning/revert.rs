//! `revert`: undo one commit with a new commit, after checking that nothing written since
//! would be lost or contradicted (docs/versioning.md, "Revert").

use std::collections::{BTreeMap, HashSet};

use rusqlite::{Connection, OptionalExtension};

use super::Error;
use super::log::{self, Commit, SchemaEffect};
use super::schema::{self, quote};
use super::tx::{self, CommitInput, CommitSummary, Kind, Tx};
use super::value::{Row, key_bytes, row_hash, to_json};

/// Why a revert cannot go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    RowModifiedLater,
    RowDeletedLater,
    KeyReusedLater,
    SchemaChangedLater,
    WouldDropData,
    NameTakenLater,
    ForeignKey,
}

impl ConflictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::RowModifiedLater => "row_modified_later",
            ConflictKind::RowDeletedLater => "row_deleted_later",
            ConflictKind::KeyReusedLater => "key_reused_later",
            ConflictKind::SchemaChangedLater => "schema_changed_later",
            ConflictKind::WouldDropData => "would_drop_data",
            ConflictKind::NameTakenLater => "name_taken_later",
            ConflictKind::ForeignKey => "foreign_key",
        }
    }

    /// Row conflicts, schema conflicts, or constraint violations.
    pub fn group(self) -> &'static str {
        match self {
            ConflictKind::RowModifiedLater
            | ConflictKind::RowDeletedLater
            | ConflictKind::KeyReusedLater => "row",
            ConflictKind::ForeignKey => "foreign_key",
            _ => "schema",
        }
    }
}

/// One reason a revert was refused.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Conflict {
    pub kind: ConflictKind,
    pub table: String,
    /// The row's key, for row conflicts and foreign-key violations.
    pub key: Option<Vec<serde_json::Value>>,
    pub detail: String,
    /// Commits after the reverted one that touched the row or table.
    pub later_commits: Vec<String>,
}

/// Whether `commit_id` is currently reverted: some revert of it exists that is not itself
/// reverted.
pub fn is_reverted(conn: &Connection, commit_id: &str) -> Result<bool, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT commit_id FROM _lore_commit WHERE reverts_commit_id = ?1 ORDER BY seq",
    )?;
    let reverts: Vec<String> = stmt
        .query_map([commit_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    for r in reverts {
        if !is_reverted(conn, &r)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Reverts the commit `target` (an id or unique prefix) inside the caller's write
/// transaction. On `Err` the caller must roll back: nothing of a refused revert may stay.
pub fn revert(conn: &Connection, target: &str) -> Result<CommitSummary, Error> {
    let c = log::resolve(conn, target)?;
    if !c.revertible {
        return Err(Error::NotRevertible(c.commit_id));
    }
    if is_reverted(conn, &c.commit_id)? {
        return Err(Error::AlreadyReverted(c.commit_id));
    }
    let schema_effects = log::schema_effects(conn, c.seq)?;
    let conflicts = check(conn, &c, &schema_effects)?;
    if !conflicts.is_empty() {
        return Err(Error::Conflicts {
            commit: c.commit_id,
            conflicts,
        });
    }

    conn.execute_batch("PRAGMA defer_foreign_keys = ON")?;
    let mut tx = Tx::begin(conn)?;
    undo(&mut tx, &c, &schema_effects)?;
    let violations = foreign_key_violations(conn)?;
    if !violations.is_empty() {
        return Err(Error::Conflicts {
            commit: c.commit_id,
            conflicts: violations,
        });
    }
    let message = format!("Revert \"{}\"", c.message);
    let ops = serde_json::json!([{"op": "revert", "commit": c.commit_id}]);
    tx.commit(CommitInput {
        kind: Kind::Revert,
        message: &message,
        operations: &ops,
        reverts: Some(&c.commit_id),
        reason: "revert",
        created_at: None,
    })?
    .ok_or_else(|| {
        Error::Invalid(format!(
            "commit {} changed nothing; there is nothing to revert",
            log::short(&c.commit_id)
        ))
    })
}

/// Every conflict that reverting `c` would meet, without changing anything.
pub fn check(
    conn: &Connection,
    c: &Commit,
    schema_effects: &[SchemaEffect],
) -> Result<Vec<Conflict>, Error> {
    let mut conflicts = Vec::new();
    // Tables whose schema the commit changed: the whole table must be as the commit left it.
    let mut last_effect: BTreeMap<&str, &SchemaEffect> = BTreeMap::new();
    for s in schema_effects {
        last_effect.insert(&s.table, s);
    }
    for (table, s) in &last_effect {
        let live_def = schema::table_def(conn, table)?;
        let live_hash = match &live_def {
            Some(d) => Some(schema::snapshot_hash(d, &tx::stored_acc(conn, table)?).to_vec()),
            None => None,
        };
        if live_hash == s.end_hash {
            continue;
        }
        let later = log::later_commits_on_table(conn, table, c.seq)?;
        let (kind, detail) = match (&s.end_hash, &live_def) {
            (None, Some(_)) => (
                ConflictKind::NameTakenLater,
                format!(
                    "the commit removed or renamed table '{table}', and that name is in use again"
                ),
            ),
            (Some(_), None) => (
                ConflictKind::SchemaChangedLater,
                format!("table '{table}' was dropped or renamed after the commit"),
            ),
            (_, Some(live)) if Some(live) != s.after.as_ref() => (
                ConflictKind::SchemaChangedLater,
                format!(
                    "table '{table}' was altered after the commit (columns, indexes or triggers)"
                ),
            ),
            _ => (
                ConflictKind::WouldDropData,
                format!(
                    "rows of '{table}' changed after the commit; undoing its schema change would lose them"
                ),
            ),
        };
        conflicts.push(Conflict {
            kind,
            table: table.to_string(),
            key: None,
            detail,
            later_commits: later,
        });
    }
    // Rows: the live row must be what the commit's last effect on it left.
    let mut seen: HashSet<(String, Vec<u8>)> = HashSet::new();
    let mut tables: BTreeMap<String, Option<schema::Table>> = BTreeMap::new();
    log::for_each_row_effect(conn, c.seq, true, |e| {
        if last_effect.contains_key(e.table.as_str()) {
            return Ok(()); // covered by the table check above
        }
        if !seen.insert((e.table.clone(), key_bytes(&e.key))) {
            return Ok(()); // an earlier effect on a row the commit changed again
        }
        let t = match tables.get(&e.table) {
            Some(t) => t.clone(),
            None => {
                let t = schema::table(conn, &e.table)?;
                tables.insert(e.table.clone(), t.clone());
                t
            }
        };
        let key_json = Some(e.key.iter().map(to_json).collect::<Vec<_>>());
        let Some(t) = t else {
            conflicts.push(Conflict {
                kind: ConflictKind::SchemaChangedLater,
                table: e.table.clone(),
                key: key_json,
                detail: format!("table '{}' no longer exists", e.table),
                later_commits: log::later_commits_on_table(conn, &e.table, c.seq)?,
            });
            return Ok(());
        };
        let live = schema::read_row(conn, &t, &e.key)?;
        let kind = match (&e.after_hash, &live) {
            (Some(_), None) => Some(ConflictKind::RowDeletedLater),
            (Some(h), Some(l)) if row_hash(l).as_slice() != h.as_slice() => {
                Some(ConflictKind::RowModifiedLater)
            }
            (None, Some(_)) => Some(ConflictKind::KeyReusedLater),
            _ => None,
        };
        if let Some(kind) = kind {
            let detail = match kind {
                ConflictKind::RowDeletedLater => "the row the commit wrote was deleted later",
                ConflictKind::RowModifiedLater => "the row the commit wrote was changed later",
                _ => "the commit deleted this row, and a row with the same key exists again",
            };
            conflicts.push(Conflict {
                kind,
                table: e.table.clone(),
                key: key_json,
                detail: detail.into(),
                later_commits: log::later_commits_touching(conn, &e.table, &e.key, c.seq)?,
            });
        }
        Ok(())
    })?;
    conflicts.sort_by(|a, b| (a.kind, &a.table).cmp(&(b.kind, &b.table)));
    Ok(conflicts)
}

/// Applies the inverse of every effect of `c`, newest first, recording it in `tx`.
fn undo(tx: &mut Tx<'_>, c: &Commit, schema_effects: &[SchemaEffect]) -> Result<(), Error> {
    let conn = tx.conn();
    // Row effects stream newest first; schema effects (few) interleave by idx.
    let mut pending: Vec<&SchemaEffect> = schema_effects.iter().collect();
    let mut row_effects = Vec::new();
    // Collecting the keys only would save memory; the rows are needed to restore deletions.
    log::for_each_row_effect(conn, c.seq, true, |e| {
        row_effects.push(e);
        Ok(())
    })?;
    for e in row_effects {
        while let Some(s) = pending.last().filter(|s| s.idx > e.idx).copied() {
            pending.pop();
            undo_schema(tx, c.seq, s)?;
        }
        match (&e.before, &e.after) {
            (None, Some(_)) => {
                tx.delete(&e.table, &e.key)?;
            }
            (Some(b), None) => {
                tx.insert(&e.table, b)?;
            }
            (Some(b), Some(_)) => {
                if tx.update(&e.table, &e.key, b)?.is_none() {
                    return Err(Error::Invalid(format!(
                        "row of {} vanished while reverting",
                        e.table
                    )));
                }
            }
            (None, None) => {}
        }
    }
    while let Some(s) = pending.pop() {
        undo_schema(tx, c.seq, s)?;
    }
    Ok(())
}

/// Puts table `s.table` back as it was before schema effect `s`.
fn undo_schema(tx: &mut Tx<'_>, seq: i64, s: &SchemaEffect) -> Result<(), Error> {
    let table = s.table.clone();
    if s.rows_kept {
        // Only indexes or triggers changed: drop what the change added, recreate what it removed.
        let (before, after) = match (&s.before, &s.after) {
            (Some(b), Some(a)) => (b.clone(), a.clone()),
            _ => {
                return Err(Error::Corrupt(format!(
                    "schema effect on {table} keeps rows but lacks a definition"
                )));
            }
        };
        return tx.schema_change(&[&table], |conn| {
            for sql in after.indexes.iter().chain(after.triggers.iter()) {
                if !before.indexes.contains(sql) && !before.triggers.contains(sql) {
                    drop_object(conn, sql)?;
                }
            }
            for sql in before.indexes.iter().chain(before.triggers.iter()) {
                if !after.indexes.contains(sql) && !after.triggers.contains(sql) {
                    conn.execute_batch(sql)?;
                }
            }
            Ok(())
        });
    }
    tx.snapshot_before(&table)?;
    let before = s.before.clone();
    let idx = s.idx;
    tx.schema_change(&[&table], |conn| {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote(&table)))?;
        if let Some(def) = &before {
            conn.execute_batch(&def.sql)?;
            let t = schema::table(conn, &table)?
                .ok_or_else(|| Error::Corrupt(format!("recreating {table} failed")))?;
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quote(&table),
                t.column_list(),
                (1..=t.columns.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut ins = conn.prepare(&sql)?;
            log::for_each_snapshot_row(conn, seq, idx, 0, |row: Row| {
                let values: Vec<_> = t
                    .columns
                    .iter()
                    .map(|c| {
                        row.get(&c.name)
                            .cloned()
                            .unwrap_or(rusqlite::types::Value::Null)
                    })
                    .collect();
                ins.execute(rusqlite::params_from_iter(values))?;
                Ok(())
            })?;
            for sql in def.indexes.iter().chain(def.triggers.iter()) {
                conn.execute_batch(sql)?;
            }
        }
        Ok(())
    })
}

fn drop_object(conn: &Connection, create_sql: &str) -> Result<(), Error> {
    let found: Option<(String, String)> = conn
        .query_row(
            "SELECT type, name FROM sqlite_schema WHERE sql = ?1",
            [create_sql],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((kind, name)) = found {
        let what = if kind == "trigger" {
            "TRIGGER"
        } else {
            "INDEX"
        };
        conn.execute_batch(&format!("DROP {what} IF EXISTS {}", quote(&name)))?;
    }
    Ok(())
}

fn foreign_key_violations(conn: &Connection) -> Result<Vec<Conflict>, Error> {
    let mut stmt =
        conn.prepare("SELECT \"table\", rowid, parent, fkid FROM pragma_foreign_key_check")?;
    let found = stmt
        .query_map([], |r| {
            let table: String = r.get(0)?;
            let rowid: Option<i64> = r.get(1)?;
            let parent: String = r.get(2)?;
            Ok(Conflict {
                kind: ConflictKind::ForeignKey,
                table: table.clone(),
                key: rowid.map(|id| vec![serde_json::json!(id)]),
                detail: format!("a row of '{table}' would refer to a missing row of '{parent}'"),
                later_commits: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(found)
}
