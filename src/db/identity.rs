//! Whose database `lore.db` is, decided before lore writes a byte to it.
//!
//! Two other projects named Lore keep their database at `~/.lore/lore.db` too: varalys/lore
//! (tables `sessions`, `messages`, `schema_version`, …) and lore-sh/lore (`_lore_commit`,
//! `_lore_op`, `__drizzle_migrations`, …). lore marks its own database with
//! `PRAGMA application_id` = [`APPLICATION_ID`] when it creates it; a database made by a lore
//! from before the mark is recognised by its schema (`sessions.source_fingerprint`, a
//! `user_version` lore wrote) and marked when it is next opened for writing. Anything else is
//! refused by [`super::Db::open`] before the journal mode is touched, so a foreign file stays
//! byte-identical. This module only reads. Spec: docs/database.md ("Whose database").

use rusqlite::Connection;

/// `PRAGMA application_id` of every lore.db: the ASCII bytes `lore`.
pub const APPLICATION_ID: i32 = 0x6c6f_7265;

/// What a database at `LORE_HOME/lore.db` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// No tables and no marks: a file SQLite just created (or an empty database).
    New,
    /// Marked with lore's application id.
    Lore,
    /// lore's schema without the mark: made before lore set an application id.
    LoreUnmarked,
    /// Someone else's database.
    Foreign(Foreign),
}

/// A database lore did not make, as far as its tables tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Foreign {
    /// varalys/lore, a session-capture tool also named Lore.
    Varalys,
    /// lore-sh/lore, a database-versioning tool also named Lore.
    LoreSh,
    /// Something else: its application id (0 when unset) and a few of its tables.
    Unknown {
        application_id: i32,
        tables: Vec<String>,
    },
}

impl Foreign {
    /// What the file looks like, for an error message.
    pub fn describe(&self) -> String {
        match self {
            Foreign::Varalys => {
                "a database of varalys/lore (another tool named Lore: it has tables schema_version, sessions, messages)".into()
            }
            Foreign::LoreSh => {
                "a database of lore-sh/lore (another tool named Lore: it has tables _lore_op, __drizzle_migrations)".into()
            }
            Foreign::Unknown {
                application_id,
                tables,
            } => {
                let mut s = String::from("a SQLite database lore did not create");
                if *application_id != 0 {
                    s.push_str(&format!(" (application id {application_id:#x})"));
                }
                if !tables.is_empty() {
                    s.push_str(&format!(" (tables {})", tables.join(", ")));
                }
                s
            }
        }
    }

    /// What to do about it, for an error message.
    pub fn advice(&self) -> &'static str {
        match self {
            Foreign::Varalys => {
                "set LORE_HOME to another folder, then bring its sessions over with 'lore migrate --from varalys PATH'"
            }
            _ => "set LORE_HOME to another folder for lore",
        }
    }
}

/// Reads the marks and tables of the database open on `conn`; changes nothing.
///
/// Every read is of one snapshot: another lore creating the database (two agents' hooks on a
/// new home) commits its tables and its mark together, and reading the mark before that
/// commit and the tables after it would take lore's own database for someone else's.
pub fn identify(conn: &Connection) -> rusqlite::Result<Identity> {
    if conn.is_autocommit() {
        let tx = conn.unchecked_transaction()?;
        let found = read_marks(conn);
        tx.rollback()?;
        return found;
    }
    read_marks(conn)
}

fn read_marks(conn: &Connection) -> rusqlite::Result<Identity> {
    let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let user_version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if app == APPLICATION_ID {
        return Ok(Identity::Lore);
    }
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         ORDER BY name",
    )?;
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let has = |t: &str| tables.iter().any(|n| n == t);
    if app == 0 && tables.is_empty() && user_version == 0 {
        return Ok(Identity::New);
    }
    if app == 0 {
        if has("__drizzle_migrations") || has("_lore_op") || has("_lore_commit_parent") {
            return Ok(Identity::Foreign(Foreign::LoreSh));
        }
        if has("schema_version")
            || columns(conn, "sessions")?
                .iter()
                .any(|c| c == "working_directory")
        {
            return Ok(Identity::Foreign(Foreign::Varalys));
        }
        let sessions = columns(conn, "sessions")?;
        let is_lore = user_version >= 1
            && sessions.iter().any(|c| c == "source_fingerprint")
            && sessions.iter().any(|c| c == "machine_id")
            && has("messages")
            && has("links");
        if is_lore {
            return Ok(Identity::LoreUnmarked);
        }
    }
    Ok(Identity::Foreign(Foreign::Unknown {
        application_id: app,
        tables: tables.into_iter().take(6).collect(),
    }))
}

fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    stmt.query_map([table], |r| r.get(0))?.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(sql: &str) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(sql).unwrap();
        c
    }

    #[test]
    fn each_kind_of_database_is_told_apart() {
        assert_eq!(identify(&db("")).unwrap(), Identity::New);
        assert_eq!(
            identify(&db("PRAGMA application_id = 1819243109;")).unwrap(),
            Identity::Lore
        );
        let varalys = "CREATE TABLE schema_version (version INTEGER);
            CREATE TABLE sessions (id TEXT PRIMARY KEY, working_directory TEXT);
            CREATE TABLE messages (id TEXT PRIMARY KEY);";
        assert_eq!(
            identify(&db(varalys)).unwrap(),
            Identity::Foreign(Foreign::Varalys)
        );
        let lore_sh = "CREATE TABLE _lore_commit (commit_id TEXT PRIMARY KEY);
            CREATE TABLE _lore_op (op_json TEXT);
            CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY);";
        assert_eq!(
            identify(&db(lore_sh)).unwrap(),
            Identity::Foreign(Foreign::LoreSh)
        );
        let old_lore = format!(
            "{}\nPRAGMA user_version = 1;",
            include_str!("migrations/001_initial.sql")
        );
        assert_eq!(identify(&db(&old_lore)).unwrap(), Identity::LoreUnmarked);
        let other = db("CREATE TABLE notes (id INTEGER PRIMARY KEY);");
        assert!(matches!(
            identify(&other).unwrap(),
            Identity::Foreign(Foreign::Unknown { .. })
        ));
        // lore's schema under someone else's application id is not lore's.
        let marked = db(&format!("{old_lore}\nPRAGMA application_id = 7;"));
        assert!(matches!(
            identify(&marked).unwrap(),
            Identity::Foreign(Foreign::Unknown {
                application_id: 7,
                ..
            })
        ));
    }
}
