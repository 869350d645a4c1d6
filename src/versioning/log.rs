//! Reading history: commits, their effects, the reflog, and verifying the chain and the state.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::Error;
use super::pack;
use super::schema::{self, TableDef, hex};
use super::tx::{self, Kind};
use super::value::{Row, Value, decode_key, row_hash};

/// A stored commit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Commit {
    pub seq: i64,
    pub commit_id: String,
    pub parent_id: Option<String>,
    pub kind: String,
    pub message: String,
    pub created_at: i64,
    pub schema_hash_before: String,
    pub schema_hash_after: String,
    pub state_hash_after: String,
    pub plan_hash: String,
    pub effects_hash: String,
    pub revertible: bool,
    pub reverts_commit_id: Option<String>,
    /// The operations, as canonical JSON text.
    pub operations: String,
}

impl Commit {
    /// The id the commit's fields give: SHA-256 of the JCS encoding of every field but
    /// `commit_id` and `operations` (which `plan_hash` covers), with the history format
    /// (docs/versioning.md). A stored commit whose `commit_id` differs was edited.
    pub fn computed_id(&self) -> Result<String, Error> {
        let v = serde_json::json!({
            "format": tx::FORMAT_VERSION,
            "parent_id": self.parent_id,
            "seq": self.seq,
            "kind": self.kind,
            "message": self.message,
            "created_at": self.created_at,
            "schema_hash_before": self.schema_hash_before,
            "schema_hash_after": self.schema_hash_after,
            "state_hash_after": self.state_hash_after,
            "plan_hash": self.plan_hash,
            "effects_hash": self.effects_hash,
            "revertible": self.revertible,
            "reverts_commit_id": self.reverts_commit_id,
        });
        let bytes = serde_json_canonicalizer::to_vec(&v)
            .map_err(|e| Error::Invalid(format!("commit cannot be encoded: {e}")))?;
        Ok(hex(&Sha256::digest(&bytes)))
    }
}

const COMMIT_COLUMNS: &str = "seq, commit_id, parent_id, kind, message, created_at,
    schema_hash_before, schema_hash_after, state_hash_after, plan_hash, effects_hash, revertible,
    reverts_commit_id, operations";

fn commit_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<Commit> {
    Ok(Commit {
        seq: r.get(0)?,
        commit_id: r.get(1)?,
        parent_id: r.get(2)?,
        kind: r.get(3)?,
        message: r.get(4)?,
        created_at: r.get(5)?,
        schema_hash_before: r.get(6)?,
        schema_hash_after: r.get(7)?,
        state_hash_after: r.get(8)?,
        plan_hash: r.get(9)?,
        effects_hash: r.get(10)?,
        revertible: r.get(11)?,
        reverts_commit_id: r.get(12)?,
        operations: r.get(13)?,
    })
}

/// Whether the database has the versioning tables at all.
pub fn is_versioned(conn: &Connection) -> Result<bool, Error> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_lore_commit'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The newest `limit` commits, newest first.
pub fn history(conn: &Connection, limit: usize) -> Result<Vec<Commit>, Error> {
    if !is_versioned(conn)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT {COMMIT_COLUMNS} FROM _lore_commit ORDER BY seq DESC LIMIT ?1"
    ))?;
    let commits = stmt
        .query_map([limit as i64], commit_from)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(commits)
}

/// The commit whose id is, or starts with, `id_or_prefix`.
pub fn resolve(conn: &Connection, id_or_prefix: &str) -> Result<Commit, Error> {
    if !is_versioned(conn)? || id_or_prefix.is_empty() {
        return Err(Error::NoCommit(id_or_prefix.to_owned()));
    }
    // A bounded range on the unique index: every id that starts with the prefix and nothing
    // after them (an open-ended range would test every later id: O(history)).
    let upper = format!("{id_or_prefix}\u{10FFFF}");
    let mut stmt = conn.prepare(&format!(
        "SELECT {COMMIT_COLUMNS} FROM _lore_commit
         WHERE commit_id >= ?1 AND commit_id < ?2 ORDER BY commit_id LIMIT 2"
    ))?;
    let found: Vec<Commit> = stmt
        .query_map(params![id_or_prefix, upper], commit_from)?
        .collect::<rusqlite::Result<_>>()?;
    match found.len() {
        0 => Err(Error::NoCommit(id_or_prefix.to_owned())),
        1 => Ok(found
            .into_iter()
            .next()
            .ok_or_else(|| Error::NoCommit(id_or_prefix.to_owned()))?),
        _ => {
            let count: i64 = conn.query_row(
                "SELECT count(*) FROM _lore_commit WHERE commit_id >= ?1 AND commit_id < ?2",
                params![id_or_prefix, upper],
                |r| r.get(0),
            )?;
            Err(Error::AmbiguousCommit {
                prefix: id_or_prefix.to_owned(),
                count: count as usize,
            })
        }
    }
}

/// The commit with sequence number `seq`.
pub fn by_seq(conn: &Connection, seq: i64) -> Result<Option<Commit>, Error> {
    Ok(conn
        .query_row(
            &format!("SELECT {COMMIT_COLUMNS} FROM _lore_commit WHERE seq = ?1"),
            [seq],
            commit_from,
        )
        .optional()?)
}

/// One recorded row change.
#[derive(Debug, Clone, PartialEq)]
pub struct RowEffect {
    pub idx: i64,
    pub table: String,
    pub key: Vec<Value>,
    pub kind: String,
    pub before: Option<Row>,
    pub after: Option<Row>,
    pub before_hash: Option<Vec<u8>>,
    pub after_hash: Option<Vec<u8>>,
}

/// Calls `f` with each row effect of commit `seq`, in order, streaming.
pub fn for_each_row_effect(
    conn: &Connection,
    seq: i64,
    reverse: bool,
    mut f: impl FnMut(RowEffect) -> Result<(), Error>,
) -> Result<(), Error> {
    let order = if reverse { "DESC" } else { "ASC" };
    let mut stmt = conn.prepare(&format!(
        "SELECT idx, table_name, pk, kind, before, after, before_hash, after_hash
         FROM _lore_row_effect WHERE seq = ?1 ORDER BY idx {order}"
    ))?;
    let mut rows = stmt.query([seq])?;
    while let Some(r) = rows.next()? {
        let pk: Vec<u8> = r.get(2)?;
        let before: Option<Vec<u8>> = r.get(4)?;
        let after: Option<Vec<u8>> = r.get(5)?;
        f(RowEffect {
            idx: r.get(0)?,
            table: r.get(1)?,
            key: decode_key(&pk)?,
            kind: r.get(3)?,
            before: before.as_deref().map(pack::unpack_row).transpose()?,
            after: after.as_deref().map(pack::unpack_row).transpose()?,
            before_hash: r.get(6)?,
            after_hash: r.get(7)?,
        })?;
    }
    Ok(())
}

/// A row that a commit changed, as [`changes_since`] hands it out: its table and key, and the
/// row as recorded (packed; unpacked only when asked for).
pub struct ChangedRow {
    pub table: String,
    pub key: Vec<Value>,
    before: Option<Vec<u8>>,
    after: Option<Vec<u8>>,
}

impl ChangedRow {
    /// The row as the commit left it, or as it was before a deletion.
    pub fn row(&self) -> Result<Option<Row>, Error> {
        self.after
            .as_deref()
            .or(self.before.as_deref())
            .map(pack::unpack_row)
            .transpose()
    }
}

/// What changed since a commit: calls `f` with every row effect on one of `tables` of every
/// commit after `since` (`None`: from the first), oldest first, leaving out the commits named in
/// `skip`. Returns how many commits were looked at, or `None` when `since` is not a commit of
/// this database (another database, or a replaced history). A database without history has
/// no commits: `Some(0)` from the beginning, `None` from any commit.
pub fn changes_since(
    conn: &Connection,
    since: Option<&str>,
    skip: &[String],
    tables: &[&str],
    mut f: impl FnMut(ChangedRow) -> Result<(), Error>,
) -> Result<Option<usize>, Error> {
    if !is_versioned(conn)? {
        return Ok(since.is_none().then_some(0));
    }
    let from = match since {
        None => 0,
        Some(since) => match conn
            .query_row(
                "SELECT seq FROM _lore_commit WHERE commit_id = ?1",
                [since],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
        {
            Some(seq) => seq,
            None => return Ok(None),
        },
    };
    let mut commits =
        conn.prepare("SELECT seq, commit_id FROM _lore_commit WHERE seq > ?1 ORDER BY seq")?;
    let seqs: Vec<i64> = commits
        .query_map([from], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .filter_map(|row| match row {
            Ok((_, id)) if skip.contains(&id) => None,
            Ok((seq, _)) => Some(Ok(seq)),
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()?;
    let mut effects = conn.prepare(
        "SELECT table_name, pk, before, after FROM _lore_row_effect
         WHERE seq = ?1 AND table_name IN (SELECT value FROM json_each(?2))",
    )?;
    let wanted = serde_json::to_string(tables).unwrap_or_else(|_| "[]".into());
    for &seq in &seqs {
        let mut rows = effects.query(params![seq, wanted])?;
        while let Some(r) = rows.next()? {
            let pk: Vec<u8> = r.get(1)?;
            f(ChangedRow {
                table: r.get(0)?,
                key: decode_key(&pk)?,
                before: r.get(2)?,
                after: r.get(3)?,
            })?;
        }
    }
    Ok(Some(seqs.len()))
}

/// One recorded schema change.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaEffect {
    pub idx: i64,
    pub table: String,
    pub before: Option<TableDef>,
    pub after: Option<TableDef>,
    pub before_hash: Option<Vec<u8>>,
    pub after_hash: Option<Vec<u8>>,
    pub end_hash: Option<Vec<u8>>,
    pub rows_kept: bool,
}

/// The schema effects of commit `seq`, in order.
pub fn schema_effects(conn: &Connection, seq: i64) -> Result<Vec<SchemaEffect>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT idx, table_name, before, after, before_hash, after_hash, end_hash, rows_kept
         FROM _lore_schema_effect WHERE seq = ?1 ORDER BY idx",
    )?;
    let mut rows = stmt.query([seq])?;
    let mut out = Vec::new();
    let def = |b: Option<Vec<u8>>| -> Result<Option<TableDef>, Error> {
        b.map(|b| {
            serde_json::from_value(pack::unpack(&b)?)
                .map_err(|e| Error::Corrupt(format!("a stored table definition is damaged: {e}")))
        })
        .transpose()
    };
    while let Some(r) = rows.next()? {
        out.push(SchemaEffect {
            idx: r.get(0)?,
            table: r.get(1)?,
            before: def(r.get(2)?)?,
            after: def(r.get(3)?)?,
            before_hash: r.get(4)?,
            after_hash: r.get(5)?,
            end_hash: r.get(6)?,
            rows_kept: r.get(7)?,
        });
    }
    Ok(out)
}

/// Calls `f` with each stored snapshot row of schema effect (`seq`, `idx`) on `side`
/// (0 = before, 1 = after).
pub fn for_each_snapshot_row(
    conn: &Connection,
    seq: i64,
    idx: i64,
    side: i64,
    mut f: impl FnMut(Row) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT row FROM _lore_snapshot_row WHERE seq = ?1 AND idx = ?2 AND side = ?3 ORDER BY pk",
    )?;
    let mut rows = stmt.query(params![seq, idx, side])?;
    while let Some(r) = rows.next()? {
        let b: Vec<u8> = r.get(0)?;
        f(pack::unpack_row(&b)?)?;
    }
    Ok(())
}

/// The commits after `seq` whose effects touched the row (`table`, `key`).
pub fn later_commits_touching(
    conn: &Connection,
    table: &str,
    key: &[Value],
    seq: i64,
) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT c.commit_id FROM _lore_row_effect e JOIN _lore_commit c ON c.seq = e.seq
         WHERE e.table_name = ?1 AND e.pk = ?2 AND e.seq > ?3 ORDER BY e.seq",
    )?;
    let ids = stmt
        .query_map(params![table, super::value::key_bytes(key), seq], |r| {
            r.get(0)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// The commits after `seq` that changed `table`'s rows or schema.
pub fn later_commits_on_table(
    conn: &Connection,
    table: &str,
    seq: i64,
) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.commit_id FROM _lore_commit c WHERE c.seq > ?2 AND (
            EXISTS (SELECT 1 FROM _lore_schema_effect s WHERE s.seq = c.seq AND s.table_name = ?1)
         OR EXISTS (SELECT 1 FROM _lore_row_effect r WHERE r.seq = c.seq AND r.table_name = ?1))
         ORDER BY c.seq",
    )?;
    let ids = stmt
        .query_map(params![table, seq], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// A move of `main`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReflogEntry {
    pub old_id: Option<String>,
    pub new_id: String,
    pub reason: String,
    pub created_at: i64,
}

/// The newest `limit` moves of `main`, newest first.
pub fn reflog(conn: &Connection, limit: usize) -> Result<Vec<ReflogEntry>, Error> {
    if !is_versioned(conn)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(
        "SELECT old_id, new_id, reason, created_at FROM _lore_reflog WHERE ref = 'main'
         ORDER BY id DESC LIMIT ?1",
    )?;
    let entries = stmt
        .query_map([limit as i64], |r| {
            Ok(ReflogEntry {
                old_id: r.get(0)?,
                new_id: r.get(1)?,
                reason: r.get(2)?,
                created_at: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(entries)
}

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub commits: u64,
    pub row_effects: u64,
    pub head: Option<String>,
    /// Damage to the chain: each names the commit and what does not match.
    pub problems: Vec<String>,
    /// With `full`: tables whose rows differ from what the history recorded.
    pub drifted_tables: Vec<String>,
    /// With `full`: whether the schema differs from what the history recorded.
    pub schema_drift: bool,
    pub full: bool,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.drifted_tables.is_empty() && !self.schema_drift
    }
}

/// Walks the chain, recomputing every commit id, effects hash and plan hash; with `full`, also
/// recomputes the state hash from scratch and names each table that drifted.
pub fn verify(conn: &Connection, full: bool) -> Result<VerifyReport, Error> {
    let mut report = VerifyReport {
        full,
        ..VerifyReport::default()
    };
    if !is_versioned(conn)? {
        return Ok(report);
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT {COMMIT_COLUMNS} FROM _lore_commit ORDER BY seq"
    ))?;
    let mut rows = stmt.query([])?;
    let mut previous: Option<String> = None;
    let mut last: Option<Commit> = None;
    let mut expected_seq = 1;
    while let Some(r) = rows.next()? {
        let c = commit_from(r)?;
        report.commits += 1;
        let label = format!("commit {} ({})", c.seq, short(&c.commit_id));
        if c.seq != expected_seq {
            report.problems.push(format!("{label}: sequence number {} where {expected_seq} was expected (a commit is missing)", c.seq));
        }
        expected_seq = c.seq + 1;
        if c.parent_id != previous {
            report.problems.push(format!(
                "{label}: its parent is {} but the commit before it is {}",
                c.parent_id.as_deref().unwrap_or("none"),
                previous.as_deref().unwrap_or("none")
            ));
        }
        let ops: serde_json::Value = serde_json::from_str(&c.operations)
            .map_err(|e| Error::Corrupt(format!("{label}: stored operations are not JSON: {e}")))?;
        if super::plan::plan_hash_of(&ops) != c.plan_hash {
            report.problems.push(format!(
                "{label}: its operations do not match its plan hash"
            ));
        }
        let (effects_hash, n, bad_rows) = recompute_effects_hash(conn, c.seq)?;
        report.row_effects += n;
        for b in bad_rows {
            report.problems.push(format!("{label}: {b}"));
        }
        if effects_hash != c.effects_hash {
            report.problems.push(format!(
                "{label}: its effects do not match its effects hash"
            ));
        }
        if Kind::parse(&c.kind).is_none() {
            report
                .problems
                .push(format!("{label}: unknown kind '{}'", c.kind));
        }
        if c.computed_id()? != c.commit_id {
            report.problems.push(format!(
                "{label}: its id does not match its content (a field of _lore_commit was edited)"
            ));
        }
        previous = Some(c.commit_id.clone());
        last = Some(c);
    }
    drop(rows);
    drop(stmt);
    let head = tx::head(conn)?;
    if head != previous {
        report.problems.push(format!(
            "main points at {} but the newest commit is {}",
            head.as_deref().unwrap_or("nothing"),
            previous.as_deref().unwrap_or("none")
        ));
    }
    report.head = head;
    if full {
        let objects = schema::schema_objects(conn)?;
        let schema_hash = schema::schema_hash(&objects);
        let mut total = schema::schema_acc(&objects);
        if schema::schema_acc(&objects) != tx::stored_acc(conn, "")? {
            report.schema_drift = true;
        }
        for name in schema::user_tables(conn)? {
            let Some(t) = schema::table(conn, &name)? else {
                continue;
            };
            let live = schema::table_acc(conn, &t)?;
            if live != tx::stored_acc(conn, &name)? {
                report.drifted_tables.push(name.clone());
            }
            total.add_all(&live);
        }
        if let Some(c) = &last
            && tx::state_hash(&schema_hash, &total) != c.state_hash_after
            && report.drifted_tables.is_empty()
            && !report.schema_drift
        {
            report.problems.push(format!(
                "the state does not match commit {}'s state hash",
                short(&c.commit_id)
            ));
        }
    }
    Ok(report)
}

/// A commit's effects hash, computed from its stored effects.
pub fn effects_hash(conn: &Connection, seq: i64) -> Result<String, Error> {
    Ok(recompute_effects_hash(conn, seq)?.0)
}

/// Recomputes a commit's effects hash from its stored effects, checking each stored row
/// against its stored hash. Returns the hash, the number of row effects, and problems.
fn recompute_effects_hash(
    conn: &Connection,
    seq: i64,
) -> Result<(String, u64, Vec<String>), Error> {
    let schema = schema_effects(conn, seq)?;
    let mut problems = Vec::new();
    let mut n = 0u64;
    let mut h = Sha256::new();
    let mut stmt = conn.prepare_cached(
        "SELECT idx, table_name, pk, kind, before, after, before_hash, after_hash
         FROM _lore_row_effect WHERE seq = ?1 ORDER BY idx",
    )?;
    let mut rows = stmt.query([seq])?;
    let mut schema_iter = schema.iter().peekable();
    while let Some(r) = rows.next()? {
        n += 1;
        let idx: i64 = r.get(0)?;
        // Schema effects and row effects share one idx sequence: merge them in order.
        while let Some(s) = schema_iter.next_if(|s| s.idx < idx) {
            h.update((s.idx as u64).to_be_bytes());
            h.update(schema_effect_hash(s));
        }
        let table: String = r.get(1)?;
        let pk: Vec<u8> = r.get(2)?;
        let kind: String = r.get(3)?;
        let before: Option<Vec<u8>> = r.get(4)?;
        let after: Option<Vec<u8>> = r.get(5)?;
        let before_hash: Option<Vec<u8>> = r.get(6)?;
        let after_hash: Option<Vec<u8>> = r.get(7)?;
        for (side, row, hash) in [
            ("before", &before, &before_hash),
            ("after", &after, &after_hash),
        ] {
            match (row, hash) {
                (Some(bytes), Some(hash)) => {
                    let ok = pack::unpack_row(bytes).map(|row| row_hash(&row).as_slice() == hash.as_slice());
                    if !matches!(ok, Ok(true)) {
                        problems.push(format!("the stored {side} row of effect {idx} on {table} does not match its hash"));
                    }
                }
                (None, None) => {}
                _ => problems.push(format!("effect {idx} on {table} has a {side} row without a hash, or a hash without a row")),
            }
        }
        let eh = tx::effect_hash_row_stored(
            &table,
            &pk,
            &kind,
            before_hash.as_deref(),
            after_hash.as_deref(),
        )?;
        h.update((idx as u64).to_be_bytes());
        h.update(eh);
    }
    for s in schema_iter {
        h.update((s.idx as u64).to_be_bytes());
        h.update(schema_effect_hash(s));
    }
    Ok((hex(&h.finalize()), n, problems))
}

fn schema_effect_hash(s: &SchemaEffect) -> [u8; 32] {
    tx::effect_hash_schema(
        &s.table,
        s.before_hash.as_deref(),
        s.after_hash.as_deref(),
        s.end_hash.as_deref(),
        s.rows_kept,
    )
}

/// The first 12 characters of a commit id.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}
