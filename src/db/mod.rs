//! `lore.db`: the local session database ([`Db`]). Named `db`, not "store", so it is never
//! confused with the encrypted git store (`gitstore`) or the key store (`keys`).
//!
//! Opening it applies any pending schema migrations. Reads are methods on [`Db`]
//! (see [`query`]); every write goes through [`Db::write`], which runs a closure against a
//! [`Writer`] inside one transaction labelled with a message. That one narrow door is where
//! versioning hooks in: each `write` becomes one revertible commit.
//!
//! Opening refuses, before changing anything (not even the journal mode), a file that is not
//! SQLite, a database lore did not make ([`identity`]: varalys/lore, lore-sh/lore, anything
//! else) and one from a newer lore. Spec: docs/database.md.

mod content;
pub mod identity;
mod merge;
mod migrate;
pub mod query;
mod search_queue;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use content::ContentMatch;
pub use merge::Copy;
pub use query::{DbStats, Filter, LinkQuery, LinkRow, LinkedSession, SearchHit, SessionRow};
pub use write::{SaveOutcome, SourceRecord, TagEvent, Writer};

/// Errors from the session store.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path} is not a SQLite database; move it aside or point LORE_HOME elsewhere")]
    NotADatabase { path: PathBuf },
    #[error(
        "{path} cannot be written (read-only file system or permissions); point LORE_HOME at a writable folder"
    )]
    ReadOnly { path: PathBuf },
    #[error(
        "{path} has schema version {found}, newer than this lore understands ({supported}); upgrade lore"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{path} is not lore's database: it is {}; nothing was changed; {}", .kind.describe(), .kind.advice())]
    Foreign {
        path: PathBuf,
        kind: identity::Foreign,
    },
    #[error("no session matches '{0}'; run 'lore sessions' to list them")]
    NotFound(String),
    #[error("'{prefix}' matches {count} sessions; give more characters of the id")]
    Ambiguous { prefix: String, count: usize },
    #[error(transparent)]
    Versioning(#[from] crate::versioning::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl DbError {
    /// Turns a raw SQLite error met while opening or writing `path` into the precise case.
    fn classify(path: &Path, e: rusqlite::Error) -> DbError {
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => DbError::NotADatabase {
                path: path.to_owned(),
            },
            Some(ErrorCode::ReadOnly)
            | Some(ErrorCode::CannotOpen)
            | Some(ErrorCode::PermissionDenied) => DbError::ReadOnly {
                path: path.to_owned(),
            },
            _ => DbError::Sqlite(e),
        }
    }
}

fn classify_versioning(path: &Path, e: crate::versioning::Error) -> DbError {
    match e {
        crate::versioning::Error::Sqlite(e) => DbError::classify(path, e),
        other => DbError::Versioning(other),
    }
}

/// Empties the queues of the search indexes and the content index in a transaction of its own
/// (a store just opened or migrated).
fn drain_queues_now(conn: &Connection) -> rusqlite::Result<()> {
    if !search_queue::has_pending(conn)? && !content::has_pending(conn)? {
        return Ok(());
    }
    // Another lore writing now (an import) holds the lock: the queues wait for the next write
    // or open (answers from the content index hash its queue in memory meanwhile); a reading
    // command never fails for it.
    match conn.execute_batch("BEGIN IMMEDIATE") {
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => return Ok(()),
        other => other?,
    }
    match search_queue::drain(conn).and_then(|()| content::drain(conn)) {
        Ok(_) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Opens the SQLite database at `path` for reading only, and reads its header (SQLite opens
/// lazily): the error, if any, is the real one (not a database, cannot open).
///
/// A database in WAL mode needs its `-shm` file, which SQLite creates on first read: in a
/// folder nobody may write (a read-only `LORE_HOME`, a backup mounted read-only) that fails.
/// When there is no `-wal` file, or an empty one, the database file alone is the whole
/// database and nobody can be writing it, so it is then opened `immutable` (no `-shm`, no
/// locks). A non-empty `-wal` that cannot be shared is an error: reading the file alone would
/// miss the latest writes.
pub fn connect_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let first_read = |c: &Connection| {
        c.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
    };
    let conn = Connection::open_with_flags(path, flags)?;
    let err = match first_read(&conn) {
        Ok(_) => return Ok(conn),
        Err(e) => e,
    };
    let cannot_open = matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::PermissionDenied)
    );
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_empty = match std::fs::metadata(&wal) {
        Ok(m) => m.len() == 0,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    };
    if !(cannot_open && wal_empty) {
        return Err(err);
    }
    drop(conn);
    let conn =
        Connection::open_with_flags(immutable_uri(path), flags | OpenFlags::SQLITE_OPEN_URI)?;
    first_read(&conn)?;
    Ok(conn)
}

/// A `file:` URI naming `path`, opened immutable. Every byte but ASCII letters, digits and
/// `/._-~` is percent-escaped (SQLite decodes escapes; `?` and `#` would end the path).
pub fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// An open `lore.db`.
pub struct Db {
    conn: Connection,
    path: PathBuf,
    read_only: bool,
    /// The id of the commit the last [`Db::write`] made (`None`: it changed nothing).
    last_commit: Option<String>,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// A file that is not SQLite is refused without being changed. Several lore processes may
    /// open a new home's database at once (every agent's hook at the end of a session): while
    /// one creates it, SQLite can answer another "busy" at once, without waiting (a journal
    /// mode change, a lock it cannot wait for without a deadlock), so the whole open is tried
    /// again for up to 10 seconds; every step of it is safe to repeat.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match Db::open_once(path) {
                Err(DbError::Sqlite(e))
                    if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Db, DbError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| DbError::classify(path, e))?;
        // Before the first read: another lore creating the file (two agents' hooks on a new
        // home) holds its lock for a moment, and a read without a timeout fails at once.
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| DbError::classify(path, e))?;
        let store = Db {
            conn,
            path: path.to_owned(),
            read_only: false,
            last_commit: None,
        };
        store.check_is_database()?;
        // SQLite quietly opens read-only when the file cannot be written: say so now.
        if store
            .conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(|e| DbError::classify(path, e))?
        {
            return Err(DbError::ReadOnly {
                path: path.to_owned(),
            });
        }
        // Refuse someone else's database and a newer schema before changing anything (even
        // the journal mode).
        store.check_identity()?;
        migrate::check_not_newer(&store.conn, path)?;
        store
            .configure(true)
            .map_err(|e| DbError::classify(path, e))?;
        migrate::migrate(&store.conn, path)?;
        // The queues of the search indexes and the content index: messages a migration, a
        // revert or another lore left unindexed (docs/database.md, "Search"; docs/links.md,
        // "The content index").
        drain_queues_now(&store.conn).map_err(|e| DbError::classify(path, e))?;
        Ok(store)
    }

    /// Opens an existing database for reading only: nothing is created or migrated.
    ///
    /// Used where LORE_HOME is read-only; a database of an older schema is refused (run any
    /// writing command once to upgrade it).
    pub fn open_read_only(path: &Path) -> Result<Db, DbError> {
        let conn = connect_read_only(path).map_err(|e| DbError::classify(path, e))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| DbError::classify(path, e))?;
        let store = Db {
            conn,
            path: path.to_owned(),
            read_only: true,
            last_commit: None,
        };
        store.check_is_database()?;
        store.check_identity()?;
        store
            .configure(false)
            .map_err(|e| DbError::classify(path, e))?;
        migrate::check_current(&store.conn, path)?;
        Ok(store)
    }

    /// Reads through a memory map from now on: a short-lived reading command (a search) then
    /// touches index pages without copying each into SQLite's cache first. Not for imports:
    /// mapped pages count towards the process's resident memory.
    pub fn map_for_reading(&self) -> Result<(), DbError> {
        self.conn.pragma_update(None, "mmap_size", 1_i64 << 30)?;
        Ok(())
    }

    /// The path this store was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, DbError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Runs `f` in one transaction. `message` says what the change is (`import: 3 sessions from
    /// codex`); it labels the change in history. If `f` fails nothing is written.
    pub fn write<T, E>(
        &mut self,
        message: &str,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let path = self.path.clone();
        if self.read_only {
            return Err(DbError::ReadOnly { path }.into());
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| DbError::classify(&path, e))?;
        let versioned =
            crate::versioning::Tx::begin(&tx).map_err(|e| classify_versioning(&path, e))?;
        let mut writer = Writer::new(versioned, message);
        let value = f(&mut writer)?;
        let (versioned, message) = writer.finish();
        // The search indexes and the content index follow the messages this write inserted
        // (lore's own tables: not part of the commit).
        search_queue::drain(&tx).map_err(|e| DbError::classify(&path, e))?;
        content::drain(&tx).map_err(|e| DbError::classify(&path, e))?;
        // The label before the colon (`import: 3 sessions`) is the reflog's reason.
        let reason = message
            .split(':')
            .next()
            .unwrap_or("write")
            .trim()
            .to_owned();
        let operations = serde_json::json!([{"op": "lore", "action": reason, "message": message}]);
        let summary = versioned
            .commit(crate::versioning::CommitInput {
                kind: crate::versioning::Kind::Apply,
                message: &message,
                operations: &operations,
                reverts: None,
                reason: &reason,
                created_at: None,
            })
            .map_err(|e| classify_versioning(&path, e))?;
        tx.commit().map_err(|e| DbError::classify(&path, e))?;
        self.last_commit = summary.map(|s| s.commit_id);
        Ok(value)
    }

    /// The id of the commit the last [`Db::write`] on this handle made, if it changed
    /// anything.
    pub fn last_commit(&self) -> Option<&str> {
        self.last_commit.as_deref()
    }

    fn check_is_database(&self) -> Result<(), DbError> {
        // SQLite opens lazily: the first read of the header tells whether this is a database.
        self.conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|_| ())
            .map_err(|e| DbError::classify(&self.path, e))
    }

    /// Refuses a database that is not lore's ([`identity::identify`]).
    fn check_identity(&self) -> Result<identity::Identity, DbError> {
        let found = identity::identify(&self.conn).map_err(|e| DbError::classify(&self.path, e))?;
        match found {
            identity::Identity::Foreign(kind) => Err(DbError::Foreign {
                path: self.path.clone(),
                kind,
            }),
            other => Ok(other),
        }
    }

    fn configure(&self, writable: bool) -> rusqlite::Result<()> {
        self.conn.busy_timeout(Duration::from_secs(10))?;
        self.conn.pragma_update(None, "foreign_keys", true)?;
        if writable {
            self.conn.pragma_update(None, "journal_mode", "wal")?;
            self.conn.pragma_update(None, "synchronous", "normal")?;
        }
        // A 64 MiB page cache (SQLite's default is 2 MiB): imports update the message index
        // and the full-text index all over the file. Bounded, whatever the store's size.
        self.conn.pragma_update(None, "cache_size", -65_536)?;
        Ok(())
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_sqlite_is_refused_and_left_alone() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("lore.db");
        let junk = b"this is not a database, it is a shopping list\n".repeat(200);
        std::fs::write(&p, &junk).unwrap();
        let err = Db::open(&p).err().unwrap();
        assert!(matches!(err, DbError::NotADatabase { .. }), "{err}");
        assert_eq!(std::fs::read(&p).unwrap(), junk);
    }

    #[test]
    fn open_creates_the_current_schema() {
        let d = tempfile::tempdir().unwrap();
        let s = Db::open(&d.path().join("lore.db")).unwrap();
        assert_eq!(s.schema_version().unwrap(), migrate::LATEST);
        let mode: String = s
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn merging_keeps_every_copys_messages_and_replaces_what_an_older_lore_stored() {
        use crate::model::{Kind, Message, ParsedSession, Role, SessionInfo, Tool};
        let d = tempfile::tempdir().unwrap();
        let mut s = Db::open(&d.path().join("lore.db")).unwrap();
        let session = |texts: &[(Role, &str)]| ParsedSession {
            info: SessionInfo::new("s1", Tool::ClaudeCode),
            messages: texts
                .iter()
                .enumerate()
                .map(|(i, (r, t))| Message::new(*r, Kind::Text, *t, Some(i as i64)))
                .collect(),
            links: Vec::new(),
        };
        let contents = |s: &Db| -> Vec<String> {
            s.conn
                .prepare("SELECT content FROM messages ORDER BY ordinal")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        // As a lore without message identities stored it: no keys, one message misread.
        let old = session(&[(Role::User, "a"), (Role::User, "misread")]);
        s.write("t", |w| {
            w.save_session(&old, "m", Some(("/p/a.jsonl", "f1")))
        })
        .unwrap();
        // The same file read again by a fixed importer: the misread message is replaced.
        let fixed = session(&[(Role::User, "a"), (Role::System, "read right")]);
        let keys = ["u1.0".to_owned(), "u2.0".to_owned()];
        let copy = Copy {
            parsed: &fixed,
            keys: &keys,
            path: "/p/a.jsonl",
            fingerprint: "f2",
        };
        s.write("t", |w| w.merge_session(&copy, "m")).unwrap();
        assert_eq!(contents(&s), vec!["a", "read right"]);
        // A shorter copy elsewhere, with a message of its own, removes nothing.
        let other = session(&[(Role::User, "a"), (Role::User, "b")]);
        let other_keys = ["u1.0".to_owned(), "u3.0".to_owned()];
        let copy = Copy {
            parsed: &other,
            keys: &other_keys,
            path: "/q/b.jsonl",
            fingerprint: "f3",
        };
        let out = s.write("t", |w| w.merge_session(&copy, "m")).unwrap();
        assert_eq!(out, SaveOutcome::Updated);
        assert_eq!(contents(&s), vec!["a", "b", "read right"]);
        let source: String = s
            .conn
            .query_row("SELECT source_path FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(source, "/p/a.jsonl");
        let report = crate::versioning::log::verify(&s.conn, true).unwrap();
        assert!(report.ok());
    }

    #[test]
    fn between_a_link_and_its_removal_the_later_wins_everywhere() {
        use crate::model::{Link, LinkKind, ParsedSession, SessionInfo, Tool};
        let d = tempfile::tempdir().unwrap();
        let mut s = Db::open(&d.path().join("lore.db")).unwrap();
        let parsed = ParsedSession {
            info: SessionInfo::new("s1", Tool::ClaudeCode),
            messages: Vec::new(),
            links: Vec::new(),
        };
        let link = |kind| Link {
            commit: "a".repeat(40),
            kind,
            confidence: if kind == LinkKind::Removed { 0.0 } else { 1.0 },
        };
        let kinds = |s: &Db| -> Vec<String> {
            s.conn
                .prepare("SELECT kind || '@' || created_at FROM links")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        s.write("test: session", |w| {
            w.save_session(&parsed, "m", None)?;
            w.merge_link("s1", &link(LinkKind::Explicit), 100)
        })
        .unwrap();
        // An older removal loses; a later one wins; a tie goes to the removal.
        let older = s.write("t", |w| w.merge_link("s1", &link(LinkKind::Removed), 50));
        assert!(!older.unwrap());
        assert_eq!(kinds(&s), vec!["explicit@100"]);
        let tie = s.write("t", |w| w.merge_link("s1", &link(LinkKind::Removed), 100));
        assert!(tie.unwrap());
        assert_eq!(kinds(&s), vec!["removed@100"]);
        // A link made again later wins over the removal; an older copy of it does not.
        let stale = s.write("t", |w| w.merge_link("s1", &link(LinkKind::Hook), 90));
        assert!(!stale.unwrap());
        let again = s.write("t", |w| w.merge_link("s1", &link(LinkKind::Explicit), 200));
        assert!(again.unwrap());
        assert_eq!(kinds(&s), vec!["explicit@200"]);
        // Unlink keeps a removal row that readers do not show; import and hook links do not
        // bring it back, a link made by hand does.
        s.write("t", |w| w.remove_link("s1", &"a".repeat(40)))
            .unwrap();
        assert!(s.links("s1").unwrap().is_empty());
        assert_eq!(s.link_commits_ever("s1").unwrap(), vec!["a".repeat(40)]);
        let added = s.write("t", |w| w.add_links("s1", &[link(LinkKind::Import)]));
        assert_eq!(added.unwrap(), 0);
        let hook = s.write("t", |w| w.set_link("s1", &link(LinkKind::Hook)));
        assert!(!hook.unwrap());
        let by_hand = s.write("t", |w| w.set_link("s1", &link(LinkKind::Explicit)));
        assert!(by_hand.unwrap());
        assert_eq!(s.links("s1").unwrap().len(), 1);
    }
}
