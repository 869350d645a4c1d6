//! Reading a database's schema: which tables are versioned, their columns and keys, the schema
//! objects that make up the schema hash, and the canonical elements of the state hash.

use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use super::lthash::LtHash;
use super::value::{Row, Value, encode_row, encode_str, key_bytes};

/// A column of a user table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub decl_type: String,
    pub not_null: bool,
    /// 1-based position in the primary key, 0 when not part of it.
    pub pk: u32,
}

/// A user table as the engine needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Primary-key column names in key order; empty for a table without one.
    pub key: Vec<String>,
}

impl Table {
    pub fn has_key(&self) -> bool {
        !self.key.is_empty()
    }

    /// The key of `row`, in key order (`Value::Null` for a missing column).
    pub fn key_of(&self, row: &Row) -> Vec<Value> {
        self.key
            .iter()
            .map(|k| row.get(k).cloned().unwrap_or(Value::Null))
            .collect()
    }

    /// The table's columns, quoted and comma-separated, in table order.
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| quote(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `WHERE "a" = ? AND "b" = ?` over the key columns, parameters numbered from `first`.
    pub fn key_condition(&self, first: usize) -> String {
        self.key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} IS ?{}", quote(k), first + i))
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

/// One entry of the schema hash: a table, index, trigger or view of a user table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaObject {
    pub kind: String,
    pub name: String,
    pub sql: String,
}

/// Quotes an identifier for SQL.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether `name` is reserved: lore's own tables and SQLite's.
pub fn is_reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("_lore_") || lower.starts_with("sqlite_")
}

/// Names of the versioned tables (`type = 'table'`, not reserved), sorted.
pub fn user_tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' ORDER BY name",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names.into_iter().filter(|n| !is_reserved(n)).collect())
}

/// What kind of table `name` is (`table`, `virtual`, `shadow`, `view`), if it exists.
pub fn table_type(conn: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT type FROM pragma_table_list WHERE schema = 'main' AND name = ?1 COLLATE NOCASE",
    )?
    .query_row([name], |r| r.get(0))
    .optional()
}

/// The columns and key of `name`, or `None` if there is no such table.
pub fn table(conn: &Connection, name: &str) -> rusqlite::Result<Option<Table>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid",
    )?;
    let columns = stmt
        .query_map([name], |r| {
            Ok(Column {
                name: r.get(0)?,
                decl_type: r.get(1)?,
                not_null: r.get(2)?,
                pk: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if columns.is_empty() {
        return Ok(None);
    }
    let mut keyed: Vec<&Column> = columns.iter().filter(|c| c.pk > 0).collect();
    keyed.sort_by_key(|c| c.pk);
    let key = keyed.iter().map(|c| c.name.clone()).collect();
    Ok(Some(Table {
        name: name.to_owned(),
        columns,
        key,
    }))
}

/// Every schema object that belongs to the user: tables, and the indexes, triggers and views of
/// schema `main`, excluding reserved names, shadow tables and SQLite's automatic indexes.
pub fn schema_objects(conn: &Connection) -> rusqlite::Result<Vec<SchemaObject>> {
    // pragma_table_list is computed afresh at each use: read it once, not once per object.
    let mut stmt = conn.prepare_cached(
        "WITH shadow AS MATERIALIZED (
            SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow')
         SELECT s.type, s.name, s.sql FROM sqlite_schema s
         WHERE s.sql IS NOT NULL AND s.name NOT IN (SELECT name FROM shadow)
         ORDER BY s.type, s.name",
    )?;
    let objects = stmt
        .query_map([], |r| {
            Ok(SchemaObject {
                kind: r.get(0)?,
                name: r.get(1)?,
                sql: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(objects
        .into_iter()
        .filter(|o| !is_reserved(&o.name))
        .collect())
}

/// `schemaHash`: SHA-256 over every schema object, sorted by (type, name).
pub fn schema_hash(objects: &[SchemaObject]) -> String {
    let mut sorted: Vec<&SchemaObject> = objects.iter().collect();
    sorted.sort();
    let mut buf = Vec::new();
    encode_str("lore.schema.v1", &mut buf);
    for o in sorted {
        encode_str(&o.kind, &mut buf);
        encode_str(&o.name, &mut buf);
        encode_str(&o.sql, &mut buf);
    }
    hex(&Sha256::digest(&buf))
}

/// The state-hash element of a schema object.
pub fn schema_element(o: &SchemaObject) -> Vec<u8> {
    let mut buf = b"lore.schema.v1".to_vec();
    encode_str(&o.kind, &mut buf);
    encode_str(&o.name, &mut buf);
    encode_str(&o.sql, &mut buf);
    buf
}

/// The state-hash element of a row of `table` with key `key`.
pub fn row_element(table: &str, key: &[Value], row: &Row) -> Vec<u8> {
    let mut buf = b"lore.row.v1".to_vec();
    encode_str(table, &mut buf);
    buf.extend_from_slice(&key_bytes(key));
    encode_row(row, &mut buf);
    buf
}

/// The schema accumulator over `objects`.
pub fn schema_acc(objects: &[SchemaObject]) -> LtHash {
    let mut acc = LtHash::new();
    for o in objects {
        acc.add(&schema_element(o));
    }
    acc
}

/// Reads a whole row from a result row whose columns are the table's, in table order.
pub fn row_from(t: &Table, r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let mut row = Row::new();
    for (i, c) in t.columns.iter().enumerate() {
        row.insert(c.name.clone(), r.get::<_, Value>(i)?);
    }
    Ok(row)
}

/// `SELECT "a", "b", … FROM "t"`: the table's columns in table order.
pub fn select_all(t: &Table) -> String {
    format!("SELECT {} FROM {}", t.column_list(), quote(&t.name))
}

/// The live row of `t` with key `key`.
pub fn read_row(conn: &Connection, t: &Table, key: &[Value]) -> rusqlite::Result<Option<Row>> {
    let sql = format!("{} WHERE {}", select_all(t), t.key_condition(1));
    conn.prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(key.iter()), |r| row_from(t, r))
        .optional()
}

/// Calls `f` with every row of `t` (key, row), streaming.
pub fn for_each_row(
    conn: &Connection,
    t: &Table,
    mut f: impl FnMut(Vec<Value>, Row) -> Result<(), super::Error>,
) -> Result<(), super::Error> {
    let mut stmt = conn.prepare(&select_all(t))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let row = row_from(t, r)?;
        let key = if t.has_key() {
            t.key_of(&row)
        } else {
            // Keyless tables are hashed by content: the row itself is its identity.
            Vec::new()
        };
        f(key, row)?;
    }
    Ok(())
}

/// The accumulator of every row of `t`, from a scan.
pub fn table_acc(conn: &Connection, t: &Table) -> Result<LtHash, super::Error> {
    let mut acc = LtHash::new();
    for_each_row(conn, t, |key, row| {
        acc.add(&row_element(&t.name, &key, &row));
        Ok(())
    })?;
    Ok(acc)
}

/// A table's definition: its CREATE statement, indexes and triggers (sorted by name).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableDef {
    pub sql: String,
    pub indexes: Vec<String>,
    pub triggers: Vec<String>,
}

/// The definition of table `name`, if it exists.
pub fn table_def(conn: &Connection, name: &str) -> rusqlite::Result<Option<TableDef>> {
    let sql: Option<String> = conn
        .prepare_cached("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    let Some(sql) = sql else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT type, sql FROM sqlite_schema
         WHERE tbl_name = ?1 AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY name",
    )?;
    let mut indexes = Vec::new();
    let mut triggers = Vec::new();
    for r in stmt.query_map([name], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (kind, sql) = r?;
        if kind == "index" {
            indexes.push(sql);
        } else {
            triggers.push(sql);
        }
    }
    Ok(Some(TableDef {
        sql,
        indexes,
        triggers,
    }))
}

/// A snapshot hash: a table's definition and the LtHash of its rows.
pub fn snapshot_hash(def: &TableDef, rows: &LtHash) -> [u8; 32] {
    let mut buf = Vec::new();
    buf.extend_from_slice(b"lore.snapshot.v1");
    encode_str(&def.sql, &mut buf);
    buf.extend_from_slice(&(def.indexes.len() as u32).to_be_bytes());
    for s in &def.indexes {
        encode_str(s, &mut buf);
    }
    buf.extend_from_slice(&(def.triggers.len() as u32).to_be_bytes());
    for s in &def.triggers {
        encode_str(s, &mut buf);
    }
    buf.extend_from_slice(&rows.to_bytes());
    Sha256::digest(&buf).into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
