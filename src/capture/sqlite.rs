//! Reading another tool's SQLite database without disturbing it: the shared opening rule of the
//! SQLite-family importers (OpenCode, Kilo CLI, …).
//!
//! A source is opened through the URI `file:…?mode=ro`: a reader's shared lock only, so the
//! running tool keeps writing, and SQLite reads the `-wal` beside the database (where a
//! running tool keeps most of its recent rows). When that fails (the folder or the `-shm` is
//! not writable, which a WAL reader needs), the database and its `-wal` are copied into a
//! private temporary folder and the copy is read; the copy is removed afterwards. Refuses
//! anything that is not an SQLite database. Never writes to the source: no journal-mode
//! change, no checkpoint. Rules: docs/importers.md ("SQLite sources").

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// The first 16 bytes of every SQLite database file.
pub const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Whether `head` (a file's first bytes) is an SQLite database's.
pub fn is_sqlite(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// An open source database, and the private copy behind it when one was needed.
pub struct Source {
    pub conn: Connection,
    /// Set when the source could not be read in place: removed on drop.
    copy: Option<PathBuf>,
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Some(dir) = self.copy.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Why a database could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("not an SQLite database")]
    NotSqlite,
    #[error("cannot read the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Whether the file at `path` starts with SQLite's header.
pub fn is_sqlite_file(path: &Path) -> std::io::Result<bool> {
    Ok(read_head(path)?.is_some_and(|h| is_sqlite(&h)))
}

/// The first 20 bytes of the file (through the header's journal-mode bytes), if it has them.
fn read_head(path: &Path) -> std::io::Result<Option<[u8; 20]>> {
    use std::io::Read;
    let mut head = [0u8; 20];
    let mut f = std::fs::File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..])? {
            0 => return Ok(None),
            k => n += k,
        }
    }
    Ok(Some(head))
}

/// Opens `path` read-only, in place when SQLite can, else through a private copy.
///
/// A database in WAL mode (header bytes 18 and 19 are 2) whose `-wal` is absent (the tool is
/// not running) is read from a copy: opening it in place would make SQLite create `-wal` and
/// `-shm` files beside it.
pub fn open(path: &Path) -> Result<Source, OpenError> {
    let Some(head) = read_head(path)?.filter(|h| is_sqlite(h)) else {
        return Err(OpenError::NotSqlite);
    };
    let wal_mode = head[18] == 2 && head[19] == 2;
    if wal_mode && !companion(path, "-wal").exists() {
        return open_copy(path);
    }
    match open_in_place(path) {
        Ok(conn) => Ok(Source { conn, copy: None }),
        Err(_) => open_copy(path),
    }
}

fn open_in_place(path: &Path) -> Result<Connection, rusqlite::Error> {
    let uri = format!("file:{}?mode=ro", uri_path(path));
    let conn = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // A busy writer holds its lock for milliseconds; wait rather than fail.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Reading the schema is what fails when the WAL index cannot be opened.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })?;
    Ok(conn)
}

/// Copies the database and its `-wal` (not the `-shm`: SQLite rebuilds the index from the
/// log) into a new folder only this user can read, and opens the copy.
fn open_copy(path: &Path) -> Result<Source, OpenError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "lore-sqlite-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(&dir)?;
    let guard = Source {
        // Placeholder connection replaced below; the guard removes the folder on any error.
        conn: Connection::open_in_memory()?,
        copy: Some(dir.clone()),
    };
    let name = path
        .file_name()
        .map(|n| n.to_owned())
        .unwrap_or_else(|| "source.db".into());
    let target = dir.join(&name);
    // The log first would be wrong: rows committed between the two copies could be in a log
    // whose database copy predates them. SQLite's log is self-checking, so a log copied after
    // the database holds at worst extra frames, which apply cleanly.
    std::fs::copy(path, &target)?;
    let wal = companion(path, "-wal");
    if wal.is_file() {
        let mut t = target.clone().into_os_string();
        t.push("-wal");
        std::fs::copy(&wal, PathBuf::from(t))?;
    }
    let conn = Connection::open_with_flags(
        &target,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })?;
    let mut guard = guard;
    guard.conn = conn;
    Ok(guard)
}

/// `path` with `suffix` appended to its file name (`db-wal`, `db-shm`).
pub fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The path part of a `file:` URI: `?` and `#` would end it, `%` starts an escape.
fn uri_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            _ => out.push(c),
        }
    }
    out
}

/// The names of `table`'s columns (empty when there is no such table).
pub fn columns(conn: &Connection, table: &str) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt
        .query_map([table], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(names)
}

/// Whether every one of `tables` exists.
pub fn has_tables(conn: &Connection, tables: &[&str]) -> Result<bool, rusqlite::Error> {
    for t in tables {
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [t],
            |r| r.get(0),
        )?;
        if n == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_uri_specials() {
        assert_eq!(uri_path(Path::new("/a?b#c%d")), "/a%3fb%23c%25d");
    }

    #[test]
    fn refuses_a_file_that_is_no_database() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.db");
        std::fs::write(&p, b"hello, this is text and no database at all").unwrap();
        assert!(matches!(open(&p), Err(OpenError::NotSqlite)));
    }

    #[test]
    fn reads_rows_that_are_only_in_the_wal_and_leaves_both_files_as_they_were() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.db");
        let w = Connection::open(&p).unwrap();
        w.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
             CREATE TABLE t(x); INSERT INTO t VALUES (1),(2);",
        )
        .unwrap();
        // `w` stays open, so the rows stay in the -wal, as with a running tool.
        let before = (
            std::fs::read(&p).unwrap(),
            std::fs::read(companion(&p, "-wal")).unwrap(),
        );
        assert!(!before.1.is_empty());
        let s = open(&p).unwrap();
        let n: i64 = s
            .conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        assert!(s.copy.is_none(), "read in place");
        drop(s);
        assert_eq!(
            before,
            (
                std::fs::read(&p).unwrap(),
                std::fs::read(companion(&p, "-wal")).unwrap(),
            )
        );
        // The tool can still write while lore reads.
        w.execute("INSERT INTO t VALUES (3)", []).unwrap();
        let copy = open_copy(&p).unwrap();
        let n: i64 = copy
            .conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3, "the copy holds the rows of the log too");
        let dir = copy.copy.clone().unwrap();
        drop(copy);
        assert!(!dir.exists(), "the private copy is removed");
        drop(w);
    }

    #[test]
    fn a_wal_database_without_its_log_is_read_from_a_copy_and_nothing_is_created_beside_it() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.db");
        let w = Connection::open(&p).unwrap();
        w.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        drop(w); // the last connection checkpoints and removes the -wal and -shm
        assert!(!companion(&p, "-wal").exists());
        let s = open(&p).unwrap();
        let n: i64 = s
            .conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        assert!(s.copy.is_some());
        drop(s);
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("t.db")]);
    }
}
