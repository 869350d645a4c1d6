//! Schema migrations, tracked in SQLite's `user_version`.
//!
//! Migration N takes a database from version N-1 to N. Each runs in its own transaction, so a
//! failure leaves the database at the last good version. Migrations are append-only: once
//! released, a migration's SQL never changes. A database that already has a history (the
//! `_lore_*` tables) records a migration as a commit of the versioning engine, so that
//! `lore verify --full` sees no drift. The application id ([`super::identity`]) is set in the
//! first transaction that writes, never before the database is known to be lore's.

use std::path::Path;

use rusqlite::Connection;

use super::DbError;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_sources_tombstones.sql"),
    include_str!("migrations/003_message_keys.sql"),
    include_str!("migrations/004_deletion_scope.sql"),
    include_str!("migrations/005_cjk_search.sql"),
    include_str!("migrations/006_link_evidence.sql"),
    include_str!("migrations/007_content_index.sql"),
    include_str!("migrations/008_tag_times.sql"),
    include_str!("migrations/009_search_queue.sql"),
];

/// The tables each migration creates or changes, for the commit that records it.
const TABLES: &[&[&str]] = &[
    &["sessions", "messages", "links", "tags", "annotations"],
    &["sessions", "sources", "tombstones"],
    &["message_keys"],
    &["tombstones"],
    // Triggers on messages and a full-text index: no row changes.
    &["messages"],
    &["links"],
    // lore's own tables (_lore_content_*) and triggers on messages: no row changes.
    &["messages"],
    &["tags"],
    // Triggers on messages and lore's own queue: no row changes.
    &["messages"],
];

/// The schema version this build of lore creates and understands.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Refuses a database written by a newer lore.
pub fn check_not_newer(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let current = version(conn).map_err(|e| DbError::classify(path, e))?;
    if current > LATEST {
        return Err(DbError::TooNew {
            path: path.to_owned(),
            found: current,
            supported: LATEST,
        });
    }
    Ok(())
}

/// Brings the database at `path` up to [`LATEST`], and marks it as lore's.
pub fn migrate(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let classify = |e| DbError::classify(path, e);
    check_not_newer(conn, path)?;
    let current = version(conn).map_err(classify)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let to = i as i64 + 1;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(classify)?;
        // Another process (two agents' hooks on a new home) may have applied it while this
        // one waited for the lock: read the version again under the lock.
        match version(conn) {
            Ok(v) if v >= to => {
                conn.execute_batch("COMMIT").map_err(classify)?;
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(classify(e));
            }
        }
        let done = apply_one(conn, i, sql, to);
        match done {
            Ok(()) => conn.execute_batch("COMMIT").map_err(classify)?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(match e {
                    crate::versioning::Error::Sqlite(e) => classify(e),
                    other => DbError::Versioning(other),
                });
            }
        }
    }
    let app: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(classify)?;
    if app != super::identity::APPLICATION_ID {
        conn.pragma_update(None, "application_id", super::identity::APPLICATION_ID)
            .map_err(classify)?;
    }
    Ok(())
}

fn apply_one(
    conn: &Connection,
    i: usize,
    sql: &str,
    to: i64,
) -> Result<(), crate::versioning::Error> {
    conn.pragma_update(None, "application_id", super::identity::APPLICATION_ID)?;
    if crate::versioning::log::is_versioned(conn)? {
        let mut tx = crate::versioning::Tx::begin(conn)?;
        tx.schema_change(TABLES.get(i).copied().unwrap_or(&[]), |c| {
            c.execute_batch(sql)?;
            Ok(())
        })?;
        let message = format!("migrate: lore.db schema {to}");
        let operations =
            serde_json::json!([{"op": "lore", "action": "migrate", "message": message}]);
        tx.commit(crate::versioning::CommitInput {
            kind: crate::versioning::Kind::Apply,
            message: &message,
            operations: &operations,
            reverts: None,
            reason: "migrate",
            created_at: None,
        })?;
    } else {
        conn.execute_batch(sql)?;
    }
    conn.pragma_update(None, "user_version", to)?;
    Ok(())
}

/// For a read-only open: the schema must already be current.
pub fn check_current(conn: &Connection, path: &Path) -> Result<(), DbError> {
    check_not_newer(conn, path)?;
    let current = version(conn).map_err(|e| DbError::classify(path, e))?;
    if current < LATEST {
        return Err(DbError::ReadOnly {
            path: path.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_one_by_one_and_are_idempotent() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn, Path::new(":memory:")).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        migrate(&conn, Path::new(":memory:")).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
    }

    #[test]
    fn a_database_with_history_records_its_migration_as_a_commit() {
        use crate::versioning::value::Value;
        let conn = Connection::open_in_memory().unwrap();
        // Version 2, as an older lore left it, with one commit in its history.
        for (i, sql) in MIGRATIONS.iter().enumerate().take(2) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1)
                .unwrap();
        }
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        let mut tx = crate::versioning::Tx::begin(&conn).unwrap();
        let row = [
            ("id", Value::Text("s".into())),
            ("tool", Value::Text("codex".into())),
            ("machine_id", Value::Text("m".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        tx.insert("sessions", &row).unwrap();
        // Codex's start commit, imported as a link by lore before schema 6.
        let link = [
            ("session_id", Value::Text("s".into())),
            ("commit_id", Value::Text("abc1234".into())),
            ("kind", Value::Text("import".into())),
            ("confidence", Value::Real(1.0)),
            ("created_at", Value::Integer(5)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        tx.insert("links", &link).unwrap();
        let ops = serde_json::json!([]);
        tx.commit(crate::versioning::CommitInput {
            kind: crate::versioning::Kind::Apply,
            message: "import: 1 session",
            operations: &ops,
            reverts: None,
            reason: "import",
            created_at: None,
        })
        .unwrap();
        conn.execute_batch("COMMIT").unwrap();

        migrate(&conn, Path::new(":memory:")).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let app: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .unwrap();
        assert_eq!(app, super::super::identity::APPLICATION_ID);
        let history = crate::versioning::log::history(&conn, 10).unwrap();
        // One commit per migration from 3 to the latest, newest first.
        for (i, h) in history.iter().take(LATEST as usize - 2).enumerate() {
            assert_eq!(
                h.message,
                format!("migrate: lore.db schema {}", LATEST - i as i64)
            );
        }
        assert!(crate::versioning::log::verify(&conn, true).unwrap().ok());
        // Schema 6 took back the Codex start-commit link.
        let kind: String = conn
            .query_row("SELECT kind FROM links WHERE session_id = 's'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kind, "removed");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
        let err = migrate(&conn, Path::new("x.db")).unwrap_err();
        assert!(matches!(err, DbError::TooNew { .. }));
    }
}
