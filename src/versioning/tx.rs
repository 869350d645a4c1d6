//! [`Tx`]: one commit in the making. Every row and schema change is recorded as an effect, the
//! state hash follows each change, and [`Tx::commit`] seals it all into one commit.
//!
//! A `Tx` runs inside a SQLite transaction its caller opened (and commits or rolls back): data,
//! effects, hashes and refs change together or not at all.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::Error;
use super::log::Commit;
use super::lthash::LtHash;
use super::pack::{Packed, Packer, pack};
use super::schema::{self, Table, TableDef, hex, quote, row_element};
use super::value::{self, Row, Value, key_bytes, row_hash};

/// The on-disk format version of the `_lore_*` tables.
pub const FORMAT_VERSION: i64 = 1;

const SCHEMA_ACC: &str = "";

const CREATE_TABLES: &str = "
CREATE TABLE IF NOT EXISTS _lore_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _lore_commit (
    seq INTEGER PRIMARY KEY, commit_id TEXT NOT NULL UNIQUE, parent_id TEXT, kind TEXT NOT NULL,
    message TEXT NOT NULL, created_at INTEGER NOT NULL, schema_hash_before TEXT NOT NULL,
    schema_hash_after TEXT NOT NULL, state_hash_after TEXT NOT NULL, plan_hash TEXT NOT NULL,
    effects_hash TEXT NOT NULL, revertible INTEGER NOT NULL, reverts_commit_id TEXT,
    operations TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS _lore_commit_reverts ON _lore_commit(reverts_commit_id);
CREATE TABLE IF NOT EXISTS _lore_row_effect (
    seq INTEGER NOT NULL, idx INTEGER NOT NULL, table_name TEXT NOT NULL, pk BLOB NOT NULL,
    kind TEXT NOT NULL, before BLOB, after BLOB, before_hash BLOB, after_hash BLOB,
    PRIMARY KEY (seq, idx));
CREATE INDEX IF NOT EXISTS _lore_row_effect_key ON _lore_row_effect(table_name, pk, seq);
CREATE TABLE IF NOT EXISTS _lore_schema_effect (
    seq INTEGER NOT NULL, idx INTEGER NOT NULL, table_name TEXT NOT NULL, before BLOB, after BLOB,
    before_hash BLOB, after_hash BLOB, end_hash BLOB, rows_kept INTEGER NOT NULL,
    PRIMARY KEY (seq, idx));
CREATE INDEX IF NOT EXISTS _lore_schema_effect_table ON _lore_schema_effect(table_name, seq);
CREATE TABLE IF NOT EXISTS _lore_snapshot_row (
    seq INTEGER NOT NULL, idx INTEGER NOT NULL, side INTEGER NOT NULL, pk BLOB NOT NULL,
    row BLOB NOT NULL, PRIMARY KEY (seq, idx, side, pk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _lore_table_hash (table_name TEXT PRIMARY KEY NOT NULL, acc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS _lore_ref (name TEXT PRIMARY KEY NOT NULL, commit_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _lore_reflog (
    id INTEGER PRIMARY KEY, ref TEXT NOT NULL, old_id TEXT, new_id TEXT NOT NULL,
    reason TEXT NOT NULL, created_at INTEGER NOT NULL);
";

/// What kind of commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Apply,
    Revert,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Apply => "apply",
            Kind::Revert => "revert",
        }
    }

    /// The kind a stored commit names, if lore knows it.
    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Apply, Kind::Revert]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// How many rows and tables a commit changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub schema: u64,
}

/// A sealed commit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommitSummary {
    pub commit_id: String,
    pub seq: i64,
    pub parent_id: Option<String>,
    pub state_hash_after: String,
    pub counts: Counts,
}

/// The commit being built.
pub struct Tx<'c> {
    conn: &'c Connection,
    seq: i64,
    idx: i64,
    parent: Option<String>,
    schema_before: String,
    tables: HashMap<String, Option<Table>>,
    accs: HashMap<String, LtHash>,
    effects: Sha256,
    revertible: bool,
    counts: Counts,
    /// Tables whose accumulator must be rebuilt from a scan before sealing (changed by means
    /// that could not be captured row by row).
    rescan: HashSet<String>,
    /// Row effects whose rows are being compressed (on a second thread in a large commit).
    packer: Packer<PendingEffect>,
}

/// A row effect waiting for its compressed rows before it is stored.
struct PendingEffect {
    idx: i64,
    table: String,
    pk: Vec<u8>,
    kind: &'static str,
    before_hash: Option<[u8; 32]>,
    after_hash: Option<[u8; 32]>,
}

/// Creates the `_lore_*` tables if needed and refuses a newer format.
pub fn ensure_tables(conn: &Connection) -> Result<(), Error> {
    // Parsing eleven CREATE statements costs more than a small commit: skip it once they exist.
    let exists = conn
        .prepare_cached(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '_lore_reflog'",
        )?
        .query_row([], |r| r.get::<_, i64>(0))?
        > 0;
    if !exists {
        conn.execute_batch(CREATE_TABLES)?;
    }
    let found: Option<String> = conn
        .prepare_cached("SELECT value FROM _lore_meta WHERE key = 'format_version'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    match found.as_deref().map(str::parse::<i64>) {
        None => {
            conn.execute(
                "INSERT INTO _lore_meta (key, value) VALUES ('format_version', ?1)",
                [FORMAT_VERSION.to_string()],
            )?;
        }
        Some(Ok(v)) if v == FORMAT_VERSION => {}
        Some(Ok(v)) => return Err(Error::NewerFormat(v)),
        Some(Err(_)) => {
            return Err(Error::Corrupt(
                "_lore_meta.format_version is not a number".into(),
            ));
        }
    }
    Ok(())
}

/// The commit `main` points at, if any.
pub fn head(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT commit_id FROM _lore_ref WHERE name = 'main'")?
        .query_row([], |r| r.get(0))
        .optional()
}

/// Builds every accumulator from a scan, the first time a database is versioned (or when
/// `verify --full` is asked to repair, never silently).
pub fn rebuild_accumulators(conn: &Connection) -> Result<(), Error> {
    conn.execute("DELETE FROM _lore_table_hash", [])?;
    let objects = schema::schema_objects(conn)?;
    store_acc(conn, SCHEMA_ACC, &schema::schema_acc(&objects))?;
    for name in schema::user_tables(conn)? {
        if let Some(t) = schema::table(conn, &name)? {
            store_acc(conn, &name, &schema::table_acc(conn, &t)?)?;
        }
    }
    conn.execute(
        "INSERT INTO _lore_meta (key, value) VALUES ('accumulators', 'ready')
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [],
    )?;
    Ok(())
}

fn store_acc(conn: &Connection, table: &str, acc: &LtHash) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO _lore_table_hash (table_name, acc) VALUES (?1, ?2)
         ON CONFLICT (table_name) DO UPDATE SET acc = excluded.acc",
    )?
    .execute(params![table, acc.to_bytes()])?;
    Ok(())
}

/// The stored accumulator of `table` (empty if none).
pub fn stored_acc(conn: &Connection, table: &str) -> Result<LtHash, Error> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT acc FROM _lore_table_hash WHERE table_name = ?1")?
        .query_row([table], |r| r.get(0))
        .optional()?;
    match bytes {
        None => Ok(LtHash::new()),
        Some(b) => LtHash::from_bytes(&b)
            .ok_or_else(|| Error::Corrupt(format!("accumulator of {table} has the wrong size"))),
    }
}

/// `stateHash` from a schema hash and the sum of all accumulators.
pub fn state_hash(schema_hash: &str, total: &LtHash) -> String {
    let mut h = Sha256::new();
    h.update(b"lore.state.v1");
    h.update(schema_hash.as_bytes());
    h.update(total.to_bytes());
    hex(&h.finalize())
}

/// The sum of every stored accumulator (tables and schema).
pub fn stored_total(conn: &Connection) -> Result<LtHash, Error> {
    let mut total = LtHash::new();
    let mut stmt = conn.prepare_cached("SELECT table_name, acc FROM _lore_table_hash")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let name: String = r.get(0)?;
        let bytes: Vec<u8> = r.get(1)?;
        let acc = LtHash::from_bytes(&bytes)
            .ok_or_else(|| Error::Corrupt(format!("accumulator of {name} has the wrong size")))?;
        total.add_all(&acc);
    }
    Ok(total)
}

fn effect_hash_row(
    table: &str,
    key: &[u8],
    kind: &str,
    before: Option<&[u8; 32]>,
    after: Option<&[u8; 32]>,
) -> [u8; 32] {
    let mut buf = b"lore.row-effect.v1".to_vec();
    value::encode_str(table, &mut buf);
    buf.extend_from_slice(key);
    value::encode_str(kind, &mut buf);
    buf.extend_from_slice(before.unwrap_or(&[0; 32]));
    buf.extend_from_slice(after.unwrap_or(&[0; 32]));
    Sha256::digest(&buf).into()
}

/// The effect hash of a schema effect.
pub fn effect_hash_schema(
    table: &str,
    before: Option<&[u8]>,
    after: Option<&[u8]>,
    end: Option<&[u8]>,
    rows_kept: bool,
) -> [u8; 32] {
    let mut buf = b"lore.schema-effect.v1".to_vec();
    value::encode_str(table, &mut buf);
    for h in [before, after, end] {
        buf.extend_from_slice(h.unwrap_or(&[0; 32]));
    }
    buf.push(rows_kept as u8);
    Sha256::digest(&buf).into()
}

/// The effect hash of a stored row effect (for verify).
pub fn effect_hash_row_stored(
    table: &str,
    key: &[u8],
    kind: &str,
    before: Option<&[u8]>,
    after: Option<&[u8]>,
) -> Result<[u8; 32], Error> {
    let conv = |h: Option<&[u8]>| -> Result<Option<[u8; 32]>, Error> {
        h.map(|b| {
            <[u8; 32]>::try_from(b).map_err(|_| Error::Corrupt("a row hash is not 32 bytes".into()))
        })
        .transpose()
    };
    let (b, a) = (conv(before)?, conv(after)?);
    Ok(effect_hash_row(table, key, kind, b.as_ref(), a.as_ref()))
}

impl<'c> Tx<'c> {
    /// Starts a commit on `conn`, which must be inside a write transaction.
    pub fn begin(conn: &'c Connection) -> Result<Tx<'c>, Error> {
        ensure_tables(conn)?;
        let ready: Option<String> = conn
            .prepare_cached("SELECT value FROM _lore_meta WHERE key = 'accumulators'")?
            .query_row([], |r| r.get(0))
            .optional()?;
        if ready.is_none() {
            rebuild_accumulators(conn)?;
        }
        let seq: i64 = conn
            .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM _lore_commit")?
            .query_row([], |r| r.get(0))?;
        let schema_before = schema::schema_hash(&schema::schema_objects(conn)?);
        Ok(Tx {
            conn,
            seq,
            idx: 0,
            parent: head(conn)?,
            schema_before,
            tables: HashMap::new(),
            accs: HashMap::new(),
            effects: Sha256::new(),
            revertible: true,
            counts: Counts::default(),
            rescan: HashSet::new(),
            packer: Packer::default(),
        })
    }

    /// The connection, for reads and for writes whose effects the caller records.
    pub fn conn(&self) -> &'c Connection {
        self.conn
    }

    /// The head this commit will have as its parent.
    pub fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }

    /// What this commit changed so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Whether anything was recorded.
    pub fn is_empty(&self) -> bool {
        self.idx == 0 && self.rescan.is_empty()
    }

    /// Marks the commit as not revertible (it changed what could not be captured).
    pub fn mark_not_revertible(&mut self) {
        self.revertible = false;
    }

    /// A table's columns and key, cached for the commit.
    pub fn table(&mut self, name: &str) -> Result<Option<Table>, Error> {
        if let Some(t) = self.tables.get(name) {
            return Ok(t.clone());
        }
        let t = schema::table(self.conn, name)?;
        self.tables.insert(name.to_owned(), t.clone());
        Ok(t)
    }

    /// A table that must exist and have a primary key.
    pub fn keyed_table(&mut self, name: &str) -> Result<Table, Error> {
        match self.table(name)? {
            None => Err(Error::Invalid(format!("no table named '{name}'"))),
            Some(t) if !t.has_key() => Err(Error::Invalid(format!(
                "table '{name}' has no primary key; its rows cannot be versioned (add one, or use an sql operation, which makes the commit non-revertible)"
            ))),
            Some(t) => Ok(t),
        }
    }

    fn acc(&mut self, table: &str) -> Result<&mut LtHash, Error> {
        if !self.accs.contains_key(table) {
            let acc = stored_acc(self.conn, table)?;
            self.accs.insert(table.to_owned(), acc);
        }
        Ok(self.accs.entry(table.to_owned()).or_default())
    }

    fn next_idx(&mut self) -> i64 {
        let i = self.idx;
        self.idx += 1;
        i
    }

    /// Records that the row of `table` with key `key` went from `before` to `after` (`None`:
    /// did not exist). No-op when both are equal.
    pub fn record_row(
        &mut self,
        table: &str,
        key: &[Value],
        before: Option<&Row>,
        after: Option<&Row>,
    ) -> Result<(), Error> {
        if before == after {
            return Ok(());
        }
        let kind = match (before, after) {
            (None, Some(_)) => "insert",
            (Some(_), None) => "delete",
            _ => "update",
        };
        match kind {
            "insert" => self.counts.inserted += 1,
            "delete" => self.counts.deleted += 1,
            _ => self.counts.updated += 1,
        }
        let pk = key_bytes(key);
        let before_hash = before.map(row_hash);
        let after_hash = after.map(row_hash);
        {
            let acc = self.acc(table)?;
            if let Some(b) = before {
                acc.remove(&row_element(table, key, b));
            }
            if let Some(a) = after {
                acc.add(&row_element(table, key, a));
            }
        }
        let idx = self.next_idx();
        let hash = effect_hash_row(table, &pk, kind, before_hash.as_ref(), after_hash.as_ref());
        self.effects.update((idx as u64).to_be_bytes());
        self.effects.update(hash);
        let effect = PendingEffect {
            idx,
            table: table.to_owned(),
            pk,
            kind,
            before_hash,
            after_hash,
        };
        let ready = self.packer.give(effect, before, after)?;
        self.store_effects(ready)
    }

    /// Writes row effects whose rows are compressed.
    fn store_effects(&self, ready: Vec<Packed<PendingEffect>>) -> Result<(), Error> {
        if ready.is_empty() {
            return Ok(());
        }
        let mut insert = self.conn.prepare_cached(
            "INSERT INTO _lore_row_effect (seq, idx, table_name, pk, kind, before, after,
                before_hash, after_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (e, [before, after]) in ready {
            insert.execute(params![
                self.seq,
                e.idx,
                e.table,
                e.pk,
                e.kind,
                before,
                after,
                e.before_hash.map(|h| h.to_vec()),
                e.after_hash.map(|h| h.to_vec()),
            ])?;
        }
        Ok(())
    }

    /// The live row of `table` with `key`.
    pub fn read(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        let t = self.keyed_table(table)?;
        Ok(schema::read_row(self.conn, &t, key)?)
    }

    /// Inserts `row` into `table` and records it. Returns the stored row (defaults filled in).
    ///
    /// For writers whose changes have no side effects on other user tables (lore's own
    /// tables); plans are captured with the session extension instead.
    pub fn insert(&mut self, table: &str, row: &Row) -> Result<Row, Error> {
        let t = self.keyed_table(table)?;
        let cols: Vec<&String> = row.keys().collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING {}",
            quote(table),
            cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
            (1..=cols.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", "),
            t.column_list(),
        );
        let stored = self
            .conn
            .prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(row.values()), |r| {
                schema::row_from(&t, r)
            })?;
        let key = t.key_of(&stored);
        self.record_row(table, &key, None, Some(&stored))?;
        Ok(stored)
    }

    /// Inserts `rows` (all with the same columns) into `table` with as few statements as
    /// SQLite's limits allow, recording each. Much faster than one statement per row when the
    /// table has triggers: SQLite opens a statement journal per statement, and a full-text
    /// index flushes its pending terms at each one.
    pub fn insert_many(&mut self, table: &str, rows: &[Row]) -> Result<(), Error> {
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let t = self.keyed_table(table)?;
        let cols: Vec<&String> = first.keys().collect();
        // At most 32,766 bound parameters per statement (SQLite's default limit), and
        // statements of a bounded size.
        let per_statement = (32_000 / cols.len().max(1)).clamp(1, 500);
        let returning = t.column_list();
        for chunk in rows.chunks(per_statement) {
            if chunk
                .iter()
                .any(|r| r.len() != cols.len() || !r.keys().eq(cols.iter().copied()))
            {
                return Err(Error::Invalid(format!(
                    "rows inserted into {table} together must have the same columns"
                )));
            }
            let mut n = 0;
            let groups: Vec<String> = chunk
                .iter()
                .map(|_| {
                    let marks: Vec<String> = (0..cols.len())
                        .map(|_| {
                            n += 1;
                            format!("?{n}")
                        })
                        .collect();
                    format!("({})", marks.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {} RETURNING {}",
                quote(table),
                cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
                groups.join(", "),
                returning,
            );
            let params = chunk.iter().flat_map(|r| r.values());
            let stored: Vec<Row> = self
                .conn
                .prepare_cached(&sql)?
                .query_map(rusqlite::params_from_iter(params), |r| {
                    schema::row_from(&t, r)
                })?
                .collect::<rusqlite::Result<_>>()?;
            for row in &stored {
                let key = t.key_of(row);
                self.record_row(table, &key, None, Some(row))?;
            }
        }
        Ok(())
    }

    /// Sets `set` on the row of `table` with `key`; records and returns the new row, or `None`
    /// when there is no such row.
    pub fn update(&mut self, table: &str, key: &[Value], set: &Row) -> Result<Option<Row>, Error> {
        let t = self.keyed_table(table)?;
        let Some(before) = schema::read_row(self.conn, &t, key)? else {
            return Ok(None);
        };
        if set.iter().all(|(c, v)| before.get(c) == Some(v)) {
            return Ok(Some(before));
        }
        let sets: Vec<String> = set
            .keys()
            .enumerate()
            .map(|(i, c)| format!("{} = ?{}", quote(c), i + 1))
            .collect();
        let sql = format!(
            "UPDATE {} SET {} WHERE {} RETURNING {}",
            quote(table),
            sets.join(", "),
            t.key_condition(set.len() + 1),
            t.column_list(),
        );
        let params: Vec<&Value> = set.values().chain(key.iter()).collect();
        let after = self
            .conn
            .prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(params), |r| {
                schema::row_from(&t, r)
            })?;
        self.record_row(table, &t.key_of(&after), Some(&before), Some(&after))?;
        Ok(Some(after))
    }

    /// Deletes the row of `table` with `key`; records and returns it (`None`: no such row).
    pub fn delete(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        let t = self.keyed_table(table)?;
        let sql = format!(
            "DELETE FROM {} WHERE {} RETURNING {}",
            quote(table),
            t.key_condition(1),
            t.column_list(),
        );
        let before = self
            .conn
            .prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(key.iter()), |r| {
                schema::row_from(&t, r)
            })
            .optional()?;
        if let Some(b) = &before {
            self.record_row(table, key, Some(b), None)?;
        }
        Ok(before)
    }

    /// Runs `change`, a schema change to `tables`, and records a schema effect for each table
    /// whose definition changed: full snapshots before and after.
    pub fn schema_change<T>(
        &mut self,
        tables: &[&str],
        change: impl FnOnce(&Connection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut before = Vec::new();
        for &name in tables {
            let def = schema::table_def(self.conn, name)?;
            let acc = match &def {
                Some(_) => self.acc(name)?.clone(),
                None => LtHash::new(),
            };
            before.push((name.to_owned(), def, acc));
        }
        let schema_acc_before = schema::schema_acc(&schema::schema_objects(self.conn)?);
        let out = change(self.conn)?;
        // Every table's definition may have changed: forget what is cached.
        self.tables.clear();
        for (name, def_before, acc_before) in before {
            let def_after = schema::table_def(self.conn, &name)?;
            if def_after == def_before {
                continue;
            }
            self.record_schema_effect(&name, def_before, acc_before, def_after)?;
        }
        let schema_acc_after = schema::schema_acc(&schema::schema_objects(self.conn)?);
        let acc = self.acc(SCHEMA_ACC)?;
        acc.remove_all(&schema_acc_before);
        acc.add_all(&schema_acc_after);
        Ok(out)
    }

    fn record_schema_effect(
        &mut self,
        name: &str,
        def_before: Option<TableDef>,
        acc_before: LtHash,
        def_after: Option<TableDef>,
    ) -> Result<(), Error> {
        self.counts.schema += 1;
        let idx = self.next_idx();
        let rows_kept = matches!((&def_before, &def_after), (Some(b), Some(a)) if b.sql == a.sql);
        // The rows before the change were stored by `snapshot_before` (the change has run by
        // now); the rows after it are stored here.
        let before_hash = def_before
            .as_ref()
            .map(|d| schema::snapshot_hash(d, &acc_before));
        let (after_hash, acc_after) = match &def_after {
            None => (None, LtHash::new()),
            Some(d) => {
                let acc = if rows_kept {
                    acc_before.clone()
                } else {
                    let t = schema::table(self.conn, name)?
                        .ok_or_else(|| Error::Corrupt(format!("table {name} vanished")))?;
                    let mut acc = LtHash::new();
                    self.store_snapshot(idx, 1, &t, Some(&mut acc))?;
                    acc
                };
                (Some(schema::snapshot_hash(d, &acc)), acc)
            }
        };
        {
            let acc = self.acc(name)?;
            *acc = acc_after;
        }
        let pack_def = |d: &Option<TableDef>| {
            d.as_ref()
                .map(|d| pack(&serde_json::to_value(d).unwrap_or(serde_json::Value::Null)))
        };
        self.conn
            .prepare_cached(
                "INSERT INTO _lore_schema_effect (seq, idx, table_name, before, after,
                    before_hash, after_hash, end_hash, rows_kept)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8)",
            )?
            .execute(params![
                self.seq,
                idx,
                name,
                pack_def(&def_before),
                pack_def(&def_after),
                before_hash.map(|h| h.to_vec()),
                after_hash.map(|h| h.to_vec()),
                rows_kept,
            ])?;
        Ok(())
    }

    /// Seals the commit: end hashes of changed tables, accumulators, the commit row, `main` and
    /// the reflog. Returns `None` (and writes nothing) when nothing was recorded.
    pub fn commit(mut self, c: CommitInput<'_>) -> Result<Option<CommitSummary>, Error> {
        if self.is_empty() {
            return Ok(None);
        }
        let rest = self.packer.finish()?;
        self.store_effects(rest)?;
        for name in std::mem::take(&mut self.rescan) {
            let acc = match schema::table(self.conn, &name)? {
                Some(t) => schema::table_acc(self.conn, &t)?,
                None => LtHash::new(),
            };
            self.accs.insert(name, acc);
        }
        // A schema effect's hash covers the table as the commit left it: fill that in first.
        let schema_effects = super::log::schema_effects(self.conn, self.seq)?;
        for s in &schema_effects {
            let end = self.end_hash(&s.table)?;
            self.conn.execute(
                "UPDATE _lore_schema_effect SET end_hash = ?3 WHERE seq = ?1 AND idx = ?2",
                params![self.seq, s.idx, end.map(|h| h.to_vec())],
            )?;
        }
        // Row effects were hashed as they came. Schema effects interleave with them by idx, so
        // with any of them the hash is computed the way `verify` recomputes it.
        let effects_hash = if schema_effects.is_empty() {
            hex(&std::mem::take(&mut self.effects).finalize())
        } else {
            super::log::effects_hash(self.conn, self.seq)?
        };

        for (name, acc) in &self.accs {
            if name != SCHEMA_ACC && schema::table(self.conn, name)?.is_none() {
                self.conn
                    .execute("DELETE FROM _lore_table_hash WHERE table_name = ?1", [name])?;
            } else {
                store_acc(self.conn, name, acc)?;
            }
        }
        let objects = schema::schema_objects(self.conn)?;
        let schema_after = schema::schema_hash(&objects);
        let state_after = state_hash(&schema_after, &stored_total(self.conn)?);
        let created_at = c.created_at.unwrap_or_else(super::now_ms);
        let ops_text = String::from_utf8(
            serde_json_canonicalizer::to_vec(c.operations)
                .map_err(|e| Error::Invalid(format!("operations cannot be encoded: {e}")))?,
        )
        .map_err(|e| Error::Invalid(format!("operations cannot be encoded: {e}")))?;
        let mut commit = Commit {
            seq: self.seq,
            commit_id: String::new(),
            parent_id: self.parent.clone(),
            kind: c.kind.as_str().to_owned(),
            message: c.message.to_owned(),
            created_at,
            schema_hash_before: self.schema_before.clone(),
            schema_hash_after: schema_after,
            state_hash_after: state_after.clone(),
            plan_hash: super::plan::plan_hash_of(c.operations),
            effects_hash,
            revertible: self.revertible,
            reverts_commit_id: c.reverts.map(str::to_owned),
            operations: ops_text,
        };
        commit.commit_id = commit.computed_id()?;
        let commit_id = commit.commit_id.clone();
        self.conn
            .prepare_cached(
                "INSERT INTO _lore_commit (seq, commit_id, parent_id, kind, message, created_at,
                schema_hash_before, schema_hash_after, state_hash_after, plan_hash, effects_hash,
                revertible, reverts_commit_id, operations)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                commit.seq,
                commit.commit_id,
                commit.parent_id,
                commit.kind,
                commit.message,
                commit.created_at,
                commit.schema_hash_before,
                commit.schema_hash_after,
                commit.state_hash_after,
                commit.plan_hash,
                commit.effects_hash,
                commit.revertible,
                commit.reverts_commit_id,
                commit.operations,
            ])?;
        self.conn
            .prepare_cached(
                "INSERT INTO _lore_ref (name, commit_id) VALUES ('main', ?1)
                 ON CONFLICT (name) DO UPDATE SET commit_id = excluded.commit_id",
            )?
            .execute([&commit_id])?;
        self.conn
            .prepare_cached(
                "INSERT INTO _lore_reflog (ref, old_id, new_id, reason, created_at)
                 VALUES ('main', ?1, ?2, ?3, ?4)",
            )?
            .execute(params![self.parent, commit_id, c.reason, created_at])?;
        Ok(Some(CommitSummary {
            commit_id,
            seq: self.seq,
            parent_id: self.parent.clone(),
            state_hash_after: state_after,
            counts: self.counts,
        }))
    }

    fn end_hash(&mut self, name: &str) -> Result<Option<[u8; 32]>, Error> {
        let Some(def) = schema::table_def(self.conn, name)? else {
            return Ok(None);
        };
        let acc = self.acc(name)?.clone();
        Ok(Some(schema::snapshot_hash(&def, &acc)))
    }

    /// Stores the rows of `name` as the *before* snapshot of the schema effect that the next
    /// [`Tx::schema_change`] will record, when that change rewrites rows. Call it right before.
    pub fn snapshot_before(&mut self, name: &str) -> Result<(), Error> {
        let Some(t) = schema::table(self.conn, name)? else {
            return Ok(());
        };
        // The schema effect about to be recorded takes the next idx.
        self.store_snapshot(self.idx, 0, &t, None)
    }

    /// Stores every row of `t` as snapshot `side` (0 before, 1 after) of schema effect `idx`,
    /// adding each row's element to `acc` when given. A keyless table's rows are numbered so
    /// that each stored row is unique.
    fn store_snapshot(
        &self,
        idx: i64,
        side: i64,
        t: &Table,
        mut acc: Option<&mut LtHash>,
    ) -> Result<(), Error> {
        let seq = self.seq;
        let mut ins = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO _lore_snapshot_row (seq, idx, side, pk, row) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut n = 0i64;
        schema::for_each_row(self.conn, t, |key, row| {
            if let Some(acc) = acc.as_deref_mut() {
                acc.add(&row_element(&t.name, &key, &row));
            }
            let pk = if key.is_empty() {
                n += 1;
                key_bytes(&[Value::Integer(n)])
            } else {
                key_bytes(&key)
            };
            ins.execute(params![seq, idx, side, pk, super::pack::pack_row(&row)])?;
            Ok(())
        })
    }

    /// Marks `table` as changed by means that were not captured row by row: its accumulator is
    /// rebuilt from a scan at commit, and the commit cannot be reverted.
    pub fn changed_uncaptured(&mut self, table: &str) {
        self.revertible = false;
        self.rescan.insert(table.to_owned());
    }
}

/// What the caller says about a commit when sealing it.
pub struct CommitInput<'a> {
    pub kind: Kind,
    pub message: &'a str,
    /// The operations array (a plan's, or a description of lore's own write).
    pub operations: &'a serde_json::Value,
    pub reverts: Option<&'a str>,
    /// The reflog reason: `apply`, `revert`, or lore's label (`import`, `delete`, …).
    pub reason: &'a str,
    /// Defaults to now.
    pub created_at: Option<i64>,
}
