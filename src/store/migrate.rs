//! Schema migrations, tracked in SQLite's `user_version`.
//!
//! Migration N takes a database from version N-1 to N. Each runs in its own transaction, so a
//! failure leaves the database at the last good version. Migrations are append-only: once
//! released, a migration's SQL never changes.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_sources_tombstones.sql"),
    include_str!("migrations/004_deletion_scope.sql"),
];

/// The schema version this build of lore creates and understands.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Refuses a database written by a newer lore.
pub fn check_not_newer(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let current = version(conn).map_err(|e| StoreError::classify(path, e))?;
    if current > LATEST {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: current,
            supported: LATEST,
        });
    }
    Ok(())
}

/// Brings the database at `path` up to [`LATEST`].
pub fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let classify = |e| StoreError::classify(path, e);
    check_not_newer(conn, path)?;
    let current = version(conn).map_err(classify)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let to = i as i64 + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {to};\nCOMMIT;"
        ))
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            classify(e)
        })?;
    }
    Ok(())
}

/// For a read-only open: the schema must already be current.
pub fn check_current(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    check_not_newer(conn, path)?;
    let current = version(conn).map_err(|e| StoreError::classify(path, e))?;
    if current < LATEST {
        return Err(StoreError::ReadOnly {
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
    fn a_newer_schema_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
        let err = migrate(&conn, Path::new("x.db")).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }));
    }
}
