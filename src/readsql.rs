//! `lore read --sql`: one read-only query on lore.db or a user's SQLite database, its rows
//! streamed to the caller.
//!
//! What it refuses, with the reason, before any row is read: several statements, anything that
//! is not a query (a write, a schema change, a transaction), ATTACH and DETACH, and PRAGMAs that
//! set a value or act (optimize, wal_checkpoint, …). The guarantees are SQLite's own, never a
//! pattern over the SQL text: the database is opened read-only with `query_only` on, an
//! authorizer allows only reading actions, and the prepared statement must be
//! `sqlite3_stmt_readonly` and return columns. Read docs/database.md ("Reading with SQL").

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// PRAGMAs that act even without a value; refused.
const ACTING_PRAGMAS: &[&str] = &[
    "optimize",
    "wal_checkpoint",
    "incremental_vacuum",
    "shrink_memory",
];

/// PRAGMAs whose argument names what to read (`PRAGMA table_info(t)`); any other PRAGMA
/// given a value is refused, as SQLite's authorizer cannot tell `x = v` from `x(v)`.
const READING_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_info",
    "index_xinfo",
    "index_list",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
];

/// Why a query was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadSqlError {
    #[error("no database at {}: give an existing SQLite file with --db", .0.display())]
    NoDatabase(PathBuf),
    #[error("cannot open {path} for reading: {source}", path = path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the SQL is empty: give one query, such as \"SELECT count(*) FROM sessions\"")]
    Empty,
    #[error("several statements given: read --sql runs one query at a time; run each separately")]
    Several,
    #[error("refused: {0}; read --sql only reads (to change lore.db, write a plan for lore apply)")]
    Refused(String),
    #[error("{0}")]
    Sql(rusqlite::Error),
}

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Cell {
    /// As JSON: a blob is its bytes in lower-case hex, as `x'…'` (SQL's own literal).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Integer(i) => (*i).into(),
            Cell::Real(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Cell::Text(s) => s.clone().into(),
            Cell::Blob(b) => format!("x'{}'", hex(b)).into(),
        }
    }

    /// As text for a table: NULL is empty, a blob `x'…'`.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Integer(i) => i.to_string(),
            Cell::Real(f) => f.to_string(),
            Cell::Text(s) => s.clone(),
            Cell::Blob(b) => format!("x'{}'", hex(b)),
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Why the authorizer refuses `action`, or `None` when it only reads.
fn refusal(action: &AuthAction<'_>) -> Option<String> {
    match action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => None,
        AuthAction::Function { function_name } => {
            if function_name.eq_ignore_ascii_case("load_extension") {
                Some("load_extension loads code into SQLite".to_owned())
            } else {
                None
            }
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            if let Some(v) = pragma_value
                && !READING_PRAGMAS
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(pragma_name))
            {
                Some(format!("PRAGMA {pragma_name} = {v} sets a value"))
            } else if ACTING_PRAGMAS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(pragma_name))
            {
                Some(format!("PRAGMA {pragma_name} acts on the database"))
            } else {
                None
            }
        }
        AuthAction::Attach { .. } => {
            Some("ATTACH opens another database; query one database at a time with --db".to_owned())
        }
        AuthAction::Detach { .. } => Some("DETACH changes the connection".to_owned()),
        AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => {
            Some("a transaction statement is not a query".to_owned())
        }
        AuthAction::Insert { table_name }
        | AuthAction::Update { table_name, .. }
        | AuthAction::Delete { table_name }
            if table_name.starts_with("sqlite_") =>
        {
            Some("the statement changes the database or its schema".to_owned())
        }
        AuthAction::Insert { table_name } => Some(format!("INSERT writes to {table_name}")),
        AuthAction::Update { table_name, .. } => Some(format!("UPDATE writes to {table_name}")),
        AuthAction::Delete { table_name } => Some(format!("DELETE writes to {table_name}")),
        _ => Some("the statement changes the database or its schema".to_owned()),
    }
}

/// Opens `path` for reading only, with the authorizer in place.
fn open(path: &Path) -> Result<Connection, ReadSqlError> {
    if !path.is_file() {
        return Err(ReadSqlError::NoDatabase(path.to_path_buf()));
    }
    let open_err = |source| ReadSqlError::Open {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_err)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(open_err)?;
    Ok(conn)
}

/// Installs the authorizer on `conn`; the first refusal's reason lands in the returned slot.
fn guard(conn: &mut Connection, path: &Path) -> Result<Arc<Mutex<Option<String>>>, ReadSqlError> {
    let open_err = |source| ReadSqlError::Open {
        path: path.to_path_buf(),
        source,
    };
    let reason = Arc::new(Mutex::new(None::<String>));
    let seen = Arc::clone(&reason);
    conn.authorizer(Some(move |ctx: AuthContext<'_>| {
        match refusal(&ctx.action) {
            None => Authorization::Allow,
            Some(why) => {
                if let Ok(mut r) = seen.lock()
                    && r.is_none()
                {
                    *r = Some(why);
                }
                Authorization::Deny
            }
        }
    }))
    .map_err(open_err)?;
    Ok(reason)
}

/// What [`query`] hands its caller: the column names once, then each row in order.
#[derive(Debug)]
pub enum Out<'a> {
    Columns(&'a [String]),
    Row(Vec<Cell>),
}

/// Runs the one query `sql` on the database at `path`, calling `on` with the column names,
/// then with each row. An error from `on` stops the query and is returned as is.
pub fn query<E: From<ReadSqlError>>(
    path: &Path,
    sql: &str,
    mut on: impl FnMut(Out<'_>) -> Result<(), E>,
) -> Result<(), E> {
    if sql.trim().is_empty() {
        return Err(ReadSqlError::Empty.into());
    }
    let mut conn = open(path)?;
    // Counted first, without the authorizer: preparing executes nothing, and rusqlite prepares
    // the tail after the first statement to see whether there is another one.
    match conn.prepare(sql) {
        Ok(_) => {}
        Err(rusqlite::Error::MultipleStatement) => return Err(ReadSqlError::Several.into()),
        Err(e) => return Err(ReadSqlError::Sql(e).into()),
    }
    let reason = guard(&mut conn, path)?;
    let taken = || reason.lock().ok().and_then(|mut r| r.take());
    let mut stmt = match conn.prepare(sql) {
        Ok(s) => s,
        Err(e) => {
            return Err(match taken() {
                Some(why) => ReadSqlError::Refused(why),
                None => ReadSqlError::Sql(e),
            }
            .into());
        }
    };
    if let Some(why) = taken() {
        return Err(ReadSqlError::Refused(why).into());
    }
    if !stmt.readonly() {
        return Err(ReadSqlError::Refused("the statement writes".to_owned()).into());
    }
    if stmt.column_count() == 0 {
        return Err(ReadSqlError::Refused(
            "the statement returns no rows: it is not a query".to_owned(),
        )
        .into());
    }
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    on(Out::Columns(&names))?;
    let n = names.len();
    let mut rows = stmt.query([]).map_err(|e| E::from(ReadSqlError::Sql(e)))?;
    loop {
        let r = match rows.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return Err(ReadSqlError::Sql(e).into()),
        };
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            let v = r.get_ref(i).map_err(|e| E::from(ReadSqlError::Sql(e)))?;
            cells.push(match v {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(i) => Cell::Integer(i),
                ValueRef::Real(f) => Cell::Real(f),
                ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
            });
        }
        on(Out::Row(cells))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE t(a INTEGER, b TEXT, c BLOB); INSERT INTO t VALUES (1, 'x', x'00ff'), (2, NULL, NULL);")
            .unwrap();
        (dir, path)
    }

    fn run(path: &Path, sql: &str) -> Result<(Vec<String>, Vec<Vec<Cell>>), ReadSqlError> {
        let mut cols = Vec::new();
        let mut rows = Vec::new();
        query::<ReadSqlError>(path, sql, |o| {
            match o {
                Out::Columns(c) => cols = c.to_vec(),
                Out::Row(r) => rows.push(r),
            }
            Ok(())
        })?;
        Ok((cols, rows))
    }

    #[test]
    fn a_select_reads_rows_and_types() {
        let (_d, p) = db();
        let (cols, rows) = run(&p, "SELECT a, b, c FROM t ORDER BY a").unwrap();
        assert_eq!(cols, ["a", "b", "c"]);
        assert_eq!(rows[0][2].to_json(), serde_json::json!("x'00ff'"));
        assert_eq!(rows[1], vec![Cell::Integer(2), Cell::Null, Cell::Null]);
        let (_, rows) = run(&p, "PRAGMA table_info(t)").unwrap();
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn every_kind_of_change_is_refused_with_its_reason() {
        let (_d, p) = db();
        let cases = [
            ("INSERT INTO t VALUES (3, 'y', NULL)", "INSERT writes to t"),
            ("UPDATE t SET a = 9", "UPDATE writes to t"),
            ("DELETE FROM t", "DELETE writes to t"),
            ("DROP TABLE t", "changes the database"),
            ("CREATE TABLE u(x)", "changes the database"),
            ("ATTACH 'other.db' AS o", "ATTACH opens another database"),
            (
                "PRAGMA user_version = 7",
                "PRAGMA user_version = 7 sets a value",
            ),
            ("PRAGMA query_only = 0", "sets a value"),
            ("PRAGMA optimize", "acts on the database"),
            ("BEGIN", "not a query"),
        ];
        for (sql, why) in cases {
            let e = run(&p, sql).unwrap_err();
            assert!(
                matches!(&e, ReadSqlError::Refused(r) if r.contains(why)),
                "{sql}: {e}"
            );
        }
        assert!(matches!(
            run(&p, "SELECT 1; DELETE FROM t").unwrap_err(),
            ReadSqlError::Several
        ));
        assert!(matches!(run(&p, "  ").unwrap_err(), ReadSqlError::Empty));
        // Nothing changed.
        let (_, rows) = run(&p, "SELECT count(*) FROM t").unwrap();
        assert_eq!(rows[0][0], Cell::Integer(2));
    }
}
