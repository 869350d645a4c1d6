//! Applying a plan (docs/plans.md): every operation in one transaction, each data change
//! captured with SQLite's session extension (so trigger side effects are recorded too), each
//! schema change with snapshots, sealed as one commit.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

use super::Error;
use super::alter;
use super::changeset::{ChangeOp, ChangeRecorder};
use super::plan::{ColumnDef, ExpectHead, Filter, FkAction, Operation, Plan, Test};
use super::schema::{self, quote};
use super::tx::{self, CommitInput, CommitSummary, Counts, Kind, Tx};
use super::value::{Row, Value};

/// Applies `plan` inside the caller's write transaction and returns the new commit. On `Err`
/// the caller must roll back; the error names the operation that failed.
pub fn apply(conn: &mut Connection, plan: &Plan) -> Result<CommitSummary, Error> {
    let (summary, _) = with_authorizer(conn, |conn, guard| run(conn, plan, guard))?;
    summary
        .ok_or_else(|| Error::Invalid("the plan changed nothing; no commit was written".to_owned()))
}

/// Runs `plan` and returns what it would record, for a dry run: the caller rolls back.
pub fn preview(conn: &mut Connection, plan: &Plan) -> Result<Counts, Error> {
    let (_, counts) = with_authorizer(conn, |conn, guard| run(conn, plan, guard))?;
    Ok(counts)
}

/// Installs the authorizer that watches `sql` operations for the duration of `f`.
fn with_authorizer<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Connection, &Guard) -> Result<T, Error>,
) -> Result<T, Error> {
    let guard: Guard = Arc::new(Mutex::new(Seen::default()));
    let hook = Arc::clone(&guard);
    conn.authorizer(Some(move |ctx: AuthContext<'_>| {
        let mut seen = hook.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.active {
            authorize(&mut seen, ctx)
        } else {
            Authorization::Allow
        }
    }))?;
    let out = f(conn, &guard);
    conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
    out
}

type Guard = Arc<Mutex<Seen>>;

fn run(
    conn: &Connection,
    plan: &Plan,
    guard: &Guard,
) -> Result<(Option<CommitSummary>, Counts), Error> {
    tx::ensure_tables(conn)?;
    let head = tx::head(conn)?;
    match (&plan.expect_head, &head) {
        (None, _) => {}
        (Some(ExpectHead::Empty), None) => {}
        (Some(ExpectHead::Empty), Some(h)) => {
            return Err(Error::StaleHead {
                expected: "(no commits)".into(),
                actual: h.clone(),
            });
        }
        (Some(ExpectHead::Commit(e)), h) => {
            let matches = h
                .as_deref()
                .is_some_and(|h| h == e || (e.len() >= 8 && h.starts_with(e.as_str())));
            if !matches {
                return Err(Error::StaleHead {
                    expected: e.clone(),
                    actual: h.clone().unwrap_or_else(|| "(no commits)".into()),
                });
            }
        }
    }
    if let Some(expected) = &plan.expect_schema {
        let actual = schema::schema_hash(&schema::schema_objects(conn)?);
        if *expected != actual {
            return Err(Error::StaleSchema {
                expected: expected.clone(),
                actual,
            });
        }
    }
    let mut tx = Tx::begin(conn)?;
    for (i, op) in plan.operations.iter().enumerate() {
        run_op(&mut tx, op, guard).map_err(|e| at(i, op, e))?;
    }
    let counts = tx.counts();
    let summary = tx.commit(CommitInput {
        kind: Kind::Apply,
        message: &plan.message,
        operations: &plan.operations_json,
        reverts: None,
        reason: "apply",
        created_at: None,
    })?;
    Ok((summary, counts))
}

/// Prefixes an error with the operation it came from.
fn at(i: usize, op: &Operation, e: Error) -> Error {
    match e {
        Error::Invalid(m) => Error::Invalid(format!("operations[{i}] ({}): {m}", op.name())),
        Error::Sqlite(s) => Error::Invalid(format!(
            "operations[{i}] ({}): {}",
            op.name(),
            sqlite_message(&s)
        )),
        Error::Value(v) => Error::Invalid(format!("operations[{i}] ({}): {v}", op.name())),
        other => other,
    }
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => other.to_string(),
    }
}

fn run_op(tx: &mut Tx<'_>, op: &Operation, guard: &Guard) -> Result<(), Error> {
    match op {
        Operation::CreateTable {
            table,
            columns,
            primary_key,
            without_rowid,
            strict,
        } => {
            let sql = create_table_sql(table, columns, primary_key, *without_rowid, *strict);
            tx.schema_change(&[table], |c| Ok(c.execute_batch(&sql)?))
        }
        Operation::AddColumn { table, column } => {
            existing(tx, table)?;
            let sql = format!(
                "ALTER TABLE {} ADD COLUMN {}",
                quote(table),
                column_sql(column)
            );
            tx.snapshot_before(table)?;
            tx.schema_change(&[table], |c| Ok(c.execute_batch(&sql)?))
        }
        Operation::DropColumn { table, column } => {
            existing(tx, table)?;
            let sql = format!("ALTER TABLE {} DROP COLUMN {}", quote(table), quote(column));
            tx.snapshot_before(table)?;
            tx.schema_change(&[table], |c| Ok(c.execute_batch(&sql)?))
        }
        Operation::RenameTable { from, to } => {
            existing(tx, from)?;
            let sql = format!("ALTER TABLE {} RENAME TO {}", quote(from), quote(to));
            tx.snapshot_before(from)?;
            tx.schema_change(&[from, to], |c| Ok(c.execute_batch(&sql)?))
        }
        Operation::DropTable { table } => {
            existing(tx, table)?;
            let sql = format!("DROP TABLE {}", quote(table));
            tx.snapshot_before(table)?;
            tx.schema_change(&[table], |c| Ok(c.execute_batch(&sql)?))
        }
        Operation::CreateIndex {
            name,
            table,
            columns,
            unique,
        } => {
            existing(tx, table)?;
            let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            let sql = format!(
                "CREATE {}INDEX {} ON {} ({})",
                if *unique { "UNIQUE " } else { "" },
                quote(name),
                quote(table),
                cols.join(", ")
            );
            tx.schema_change(&[table], |c| Ok(c.execute_batch(&sql)?))
        }
        Operation::DropIndex { name, table } => {
            let table = owner(tx, "index", name, table.as_deref())?;
            let sql = format!("DROP INDEX {}", quote(name));
            tx.schema_change(&[&table], |c| Ok(c.execute_batch(&sql)?))
        }
        Operation::DropTrigger { name, table } => {
            let table = owner(tx, "trigger", name, table.as_deref())?;
            let sql = format!("DROP TRIGGER {}", quote(name));
            tx.schema_change(&[&table], |c| Ok(c.execute_batch(&sql)?))
        }
        Operation::AlterColumnType {
            table,
            column,
            new_type,
        } => {
            existing(tx, table)?;
            tx.snapshot_before(table)?;
            tx.schema_change(&[table], |c| {
                alter::alter_column_type(c, table, column, new_type)
            })
        }
        Operation::AddCheck { table, expression } => {
            existing(tx, table)?;
            tx.snapshot_before(table)?;
            tx.schema_change(&[table], |c| alter::add_check(c, table, expression))
        }
        Operation::DropCheck { table, expression } => {
            existing(tx, table)?;
            tx.snapshot_before(table)?;
            tx.schema_change(&[table], |c| alter::drop_check(c, table, expression))
        }
        Operation::Insert { table, rows } => {
            tx.keyed_table(table)?;
            capture(tx, |c| {
                for row in rows {
                    insert_row(c, table, row, None)?;
                }
                Ok(())
            })
        }
        Operation::Upsert {
            table,
            conflict_key,
            rows,
        } => {
            tx.keyed_table(table)?;
            capture(tx, |c| {
                for row in rows {
                    insert_row(c, table, row, Some(conflict_key))?;
                }
                Ok(())
            })
        }
        Operation::Update {
            table,
            filter,
            set,
            expect_count,
        } => {
            tx.keyed_table(table)?;
            let (cond, mut params) = where_sql(filter);
            let sets: Vec<String> = set.keys().map(|c| format!("{} = ?", quote(c))).collect();
            let mut all: Vec<Value> = set.values().cloned().collect();
            all.append(&mut params);
            let sql = format!(
                "UPDATE {} SET {} WHERE {cond}",
                quote(table),
                sets.join(", ")
            );
            let n = capture(tx, |c| {
                Ok(c.execute(&sql, rusqlite::params_from_iter(all.iter()))?)
            })?;
            check_count(*expect_count, n)
        }
        Operation::Delete {
            table,
            filter,
            expect_count,
        } => {
            tx.keyed_table(table)?;
            let (cond, params) = where_sql(filter);
            let sql = format!("DELETE FROM {} WHERE {cond}", quote(table));
            let n = capture(tx, |c| {
                Ok(c.execute(&sql, rusqlite::params_from_iter(params.iter()))?)
            })?;
            check_count(*expect_count, n)
        }
        Operation::Sql { sql, params } => run_sql(tx, sql, params, guard),
    }
}

/// The table of index or trigger `name` (`kind`), which must be `expected` when given.
fn owner(tx: &Tx<'_>, kind: &str, name: &str, expected: Option<&str>) -> Result<String, Error> {
    let table: Option<String> = tx
        .conn()
        .query_row(
            "SELECT tbl_name FROM sqlite_schema WHERE type = ?1 AND name = ?2 COLLATE NOCASE",
            [kind, name],
            |r| r.get(0),
        )
        .ok();
    match (table, expected) {
        (None, _) => Err(Error::Invalid(format!("no {kind} named '{name}'"))),
        (Some(t), Some(e)) if !t.eq_ignore_ascii_case(e) => Err(Error::Invalid(format!(
            "{kind} '{name}' belongs to table '{t}', not '{e}'"
        ))),
        (Some(t), _) => Ok(t),
    }
}

fn existing(tx: &mut Tx<'_>, table: &str) -> Result<(), Error> {
    match tx.table(table)? {
        Some(_) => Ok(()),
        None => Err(Error::Invalid(format!("no table named '{table}'"))),
    }
}

fn check_count(expected: Option<u64>, n: usize) -> Result<(), Error> {
    match expected {
        Some(e) if e != n as u64 => Err(Error::Invalid(format!(
            "expected {e} row(s) to match, but {n} did; nothing was written"
        ))),
        _ => Ok(()),
    }
}

fn insert_row(
    c: &Connection,
    table: &str,
    row: &Row,
    conflict: Option<&Vec<String>>,
) -> Result<(), Error> {
    let cols: Vec<String> = row.keys().map(|k| quote(k)).collect();
    let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quote(table),
        cols.join(", "),
        marks.join(", ")
    );
    if let Some(key) = conflict {
        let updates: Vec<String> = row
            .keys()
            .filter(|k| !key.contains(k))
            .map(|k| format!("{} = excluded.{}", quote(k), quote(k)))
            .collect();
        let target: Vec<String> = key.iter().map(|k| quote(k)).collect();
        if updates.is_empty() {
            sql.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", target.join(", ")));
        } else {
            sql.push_str(&format!(
                " ON CONFLICT ({}) DO UPDATE SET {}",
                target.join(", "),
                updates.join(", ")
            ));
        }
    }
    c.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(row.values()))?;
    Ok(())
}

/// `WHERE` text and parameters for a filter.
fn where_sql(filter: &Filter) -> (String, Vec<Value>) {
    let Filter::Conditions(conds) = filter else {
        return ("1".into(), Vec::new());
    };
    let mut parts = Vec::new();
    let mut params = Vec::new();
    for c in conds {
        let col = quote(&c.column);
        let part = match &c.test {
            Test::Eq(Value::Null) | Test::IsNull(true) => format!("{col} IS NULL"),
            Test::IsNull(false) => format!("{col} IS NOT NULL"),
            Test::Eq(v) => {
                params.push(v.clone());
                format!("{col} = ?")
            }
            Test::Ne(v) => {
                params.push(v.clone());
                format!("{col} IS NOT ?")
            }
            Test::In(vs) if vs.is_empty() => "0".to_owned(),
            Test::In(vs) => {
                params.extend(vs.iter().cloned());
                format!("{col} IN ({})", vec!["?"; vs.len()].join(", "))
            }
            Test::Gt(v) | Test::Gte(v) | Test::Lt(v) | Test::Lte(v) => {
                let op = match &c.test {
                    Test::Gt(_) => ">",
                    Test::Gte(_) => ">=",
                    Test::Lt(_) => "<",
                    _ => "<=",
                };
                params.push(v.clone());
                format!("{col} {op} ?")
            }
        };
        parts.push(part);
    }
    (parts.join(" AND "), params)
}

fn column_sql(c: &ColumnDef) -> String {
    let mut s = quote(&c.name);
    if !c.sql_type.is_empty() {
        s.push(' ');
        s.push_str(&c.sql_type);
    }
    if c.primary_key {
        s.push_str(" PRIMARY KEY");
    }
    if c.not_null {
        s.push_str(" NOT NULL");
    }
    if c.unique {
        s.push_str(" UNIQUE");
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {}", literal(d)));
    }
    if let Some(d) = c.default_sql {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if let Some(r) = &c.references {
        s.push_str(&format!(
            " REFERENCES {} ({})",
            quote(&r.table),
            quote(&r.column)
        ));
        if let Some(a) = &r.on_delete {
            s.push_str(match a {
                FkAction::Cascade => " ON DELETE CASCADE",
                FkAction::SetNull => " ON DELETE SET NULL",
                FkAction::SetDefault => " ON DELETE SET DEFAULT",
                FkAction::Restrict => " ON DELETE RESTRICT",
                FkAction::NoAction => " ON DELETE NO ACTION",
            });
        }
    }
    s
}

/// A value as an SQL literal (for DEFAULT clauses, which take no parameters).
fn literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) if f.is_finite() => format!("{f:?}"),
        Value::Real(f) if *f > 0.0 => "1e999".into(),
        Value::Real(_) => "-1e999".into(),
        Value::Text(t) => format!("'{}'", t.replace('\'', "''")),
        Value::Blob(b) => format!("X'{}'", schema::hex(b)),
    }
}

fn create_table_sql(
    table: &str,
    columns: &[ColumnDef],
    primary_key: &[String],
    without_rowid: bool,
    strict: bool,
) -> String {
    let mut parts: Vec<String> = columns.iter().map(column_sql).collect();
    if !primary_key.is_empty() {
        let k: Vec<String> = primary_key.iter().map(|c| quote(c)).collect();
        parts.push(format!("PRIMARY KEY ({})", k.join(", ")));
    }
    let mut opts = Vec::new();
    if without_rowid {
        opts.push("WITHOUT ROWID");
    }
    if strict {
        opts.push("STRICT");
    }
    format!(
        "CREATE TABLE {} ({}){}{}",
        quote(table),
        parts.join(", "),
        if opts.is_empty() { "" } else { " " },
        opts.join(", ")
    )
}

/// Runs `f` with the session extension recording every versioned table, then records each
/// captured change as a row effect: before and after rows in full.
fn capture<T>(
    tx: &mut Tx<'_>,
    f: impl FnOnce(&Connection) -> Result<T, Error>,
) -> Result<T, Error> {
    let conn = tx.conn();
    let names = schema::user_tables(conn)?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let recorder = ChangeRecorder::new(conn, &refs)?;
    let out = f(conn)?;
    let changes = recorder.changes()?;
    drop(recorder);
    for ch in changes {
        let Some(t) = tx.table(&ch.table)? else {
            continue;
        };
        if !t.has_key() {
            tx.changed_uncaptured(&ch.table);
            continue;
        }
        let key = ch.key();
        let after = match ch.op {
            ChangeOp::Delete => None,
            _ => schema::read_row(conn, &t, &key)?,
        };
        let before = match ch.op {
            ChangeOp::Insert => None,
            ChangeOp::Delete => Some(row_of(&t, &ch.old, None)),
            ChangeOp::Update => Some(row_of(&t, &ch.old, after.as_ref())),
        };
        tx.record_row(&ch.table, &key, before.as_ref(), after.as_ref())?;
    }
    Ok(out)
}

/// A full row from a change's column values, taking unchanged columns from `base`.
fn row_of(t: &schema::Table, values: &[Option<Value>], base: Option<&Row>) -> Row {
    let mut row = base.cloned().unwrap_or_default();
    for (c, v) in t.columns.iter().zip(values) {
        if let Some(v) = v {
            row.insert(c.name.clone(), v.clone());
        } else if base.is_none() {
            row.insert(c.name.clone(), Value::Null);
        }
    }
    row
}

/// What an `sql` operation's statements do, as SQLite's authorizer reports while preparing.
#[derive(Default)]
struct Seen {
    /// Whether a user statement is being prepared (lore's own statements are not watched).
    active: bool,
    /// Tables created, dropped or altered.
    ddl: BTreeSet<String>,
    /// Tables written (insert, update, delete).
    written: BTreeSet<String>,
    /// The first forbidden action, if any.
    forbidden: Option<String>,
}

fn run_sql(tx: &mut Tx<'_>, sql: &str, params: &[Value], guard: &Guard) -> Result<(), Error> {
    let lock = || guard.lock().unwrap_or_else(PoisonError::into_inner);
    let result = run_sql_statements(tx, sql, params, guard);
    lock().active = false;
    result
}

fn run_sql_statements(
    tx: &mut Tx<'_>,
    sql: &str,
    params: &[Value],
    guard: &Guard,
) -> Result<(), Error> {
    let lock = || guard.lock().unwrap_or_else(PoisonError::into_inner);
    let conn = tx.conn();
    let mut rest = sql.trim();
    let mut used_params = false;
    while !rest.is_empty() {
        *lock() = Seen {
            active: true,
            ..Seen::default()
        };
        // Prepare one statement; the authorizer records what it will do.
        let (stmt_sql, tail) = split_statement(rest);
        rest = tail.trim();
        if stmt_sql.trim().is_empty() {
            continue;
        }
        let stmt = conn.prepare(stmt_sql);
        let (forbidden, ddl, written) = {
            let mut s = lock();
            s.active = false;
            (
                s.forbidden.take(),
                std::mem::take(&mut s.ddl),
                std::mem::take(&mut s.written),
            )
        };
        if let Some(f) = forbidden {
            return Err(Error::Invalid(format!("sql may not {f}")));
        }
        let mut stmt = stmt?;
        let count = stmt.parameter_count();
        let bound: Vec<Value> = if count > 0 {
            if used_params {
                return Err(Error::Invalid(
                    "only one statement of an sql operation may take params".into(),
                ));
            }
            used_params = true;
            if count != params.len() {
                return Err(Error::Invalid(format!(
                    "the statement takes {count} parameter(s) but params has {}",
                    params.len()
                )));
            }
            params.to_vec()
        } else {
            Vec::new()
        };
        for t in &written {
            match schema::table_type(conn, t)?.as_deref() {
                Some("table") if !schema::is_reserved(t) => {
                    if let Some(info) = tx.table(t)?
                        && !info.has_key()
                    {
                        tx.changed_uncaptured(t);
                    }
                }
                Some("virtual") | Some("shadow") => tx.mark_not_revertible(),
                _ => {}
            }
        }
        if ddl.is_empty() {
            capture(tx, |_| {
                let mut rows = stmt.query(rusqlite::params_from_iter(bound.iter()))?;
                while rows.next()?.is_some() {}
                Ok(())
            })?;
        } else {
            for t in &ddl {
                if schema::table_type(conn, t)?.as_deref() == Some("table") {
                    tx.snapshot_before(t)?;
                }
            }
            let names: Vec<&str> = ddl.iter().map(String::as_str).collect();
            tx.schema_change(&names, |_| {
                let mut rows = stmt.query(rusqlite::params_from_iter(bound.iter()))?;
                while rows.next()?.is_some() {}
                Ok(())
            })?;
        }
    }
    if !params.is_empty() && !used_params {
        return Err(Error::Invalid(
            "params given but no statement takes parameters".into(),
        ));
    }
    Ok(())
}

/// Splits off the first complete statement of `sql` (a `;` outside quotes that SQLite agrees
/// completes a statement: trigger bodies hold semicolons of their own).
fn split_statement(sql: &str) -> (&str, &str) {
    let mut in_quote: Option<char> = None;
    for (i, ch) in sql.char_indices() {
        match in_quote {
            Some(q) if ch == q => in_quote = None,
            Some(_) => {}
            None if matches!(ch, '\'' | '"' | '`') => in_quote = Some(ch),
            None if ch == ';' && is_complete(&sql[..=i]) => return (&sql[..=i], &sql[i + 1..]),
            None => {}
        }
    }
    (sql, "")
}

/// Whether `sql` ends a complete statement (CREATE TRIGGER bodies hold semicolons).
fn is_complete(sql: &str) -> bool {
    let Ok(text) = std::ffi::CString::new(sql) else {
        return true;
    };
    // SAFETY: sqlite3_complete reads a NUL-terminated string and nothing else.
    unsafe { rusqlite::ffi::sqlite3_complete(text.as_ptr()) != 0 }
}

fn authorize(seen: &mut Seen, ctx: AuthContext<'_>) -> Authorization {
    use AuthAction as A;
    let reserved = |name: &str| schema::is_reserved(name);
    fn refuse(seen: &mut Seen, what: String) -> Authorization {
        if seen.forbidden.is_none() {
            seen.forbidden = Some(what);
        }
        Authorization::Deny
    }
    match ctx.action {
        A::Pragma { .. } => refuse(seen, "run PRAGMA statements".into()),
        A::Attach { .. } | A::Detach { .. } => refuse(seen, "attach or detach databases".into()),
        A::Transaction { .. } | A::Savepoint { .. } => refuse(
            seen,
            "begin, commit or roll back transactions (the whole plan is one)".into(),
        ),
        A::Reindex { .. } => refuse(seen, "reindex".into()),
        A::Analyze { .. } => refuse(seen, "analyze".into()),
        // Virtual tables hold derived data lore does not version.
        A::CreateVtable { .. } | A::DropVtable { .. } => {
            refuse(seen, "create or drop virtual tables".into())
        }
        A::Insert { table_name } | A::Delete { table_name } | A::Update { table_name, .. }
            if reserved(table_name) =>
        {
            // SQLite maintains sqlite_sequence for AUTOINCREMENT itself; only a direct write is refused.
            if table_name.eq_ignore_ascii_case("sqlite_sequence") && ctx.accessor.is_some() {
                Authorization::Allow
            } else if table_name.eq_ignore_ascii_case("sqlite_master")
                || table_name.eq_ignore_ascii_case("sqlite_schema")
            {
                // Writes to the schema table are how DDL works internally.
                Authorization::Allow
            } else {
                refuse(seen, format!("write to {table_name}"))
            }
        }
        A::Insert { table_name } | A::Delete { table_name } | A::Update { table_name, .. } => {
            seen.written.insert(table_name.to_owned());
            Authorization::Allow
        }
        A::Read { table_name, .. } if table_name.to_ascii_lowercase().starts_with("_lore_") => {
            refuse(seen, format!("read {table_name}"))
        }
        A::CreateTable { table_name }
        | A::CreateTempTable { table_name }
        | A::DropTable { table_name }
        | A::DropTempTable { table_name } => {
            if reserved(table_name) {
                return refuse(seen, format!("create or drop {table_name}"));
            }
            seen.ddl.insert(table_name.to_owned());
            Authorization::Allow
        }
        A::AlterTable { table_name, .. } => {
            if reserved(table_name) {
                return refuse(seen, format!("alter {table_name}"));
            }
            seen.ddl.insert(table_name.to_owned());
            Authorization::Allow
        }
        A::CreateIndex { table_name, .. }
        | A::DropIndex { table_name, .. }
        | A::CreateTrigger { table_name, .. }
        | A::DropTrigger { table_name, .. } => {
            if reserved(table_name) {
                return refuse(seen, format!("change indexes or triggers of {table_name}"));
            }
            seen.ddl.insert(table_name.to_owned());
            Authorization::Allow
        }
        _ => Authorization::Allow,
    }
}
