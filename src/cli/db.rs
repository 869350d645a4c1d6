//! Opening the database the versioning commands work on: `--db PATH`, or lore's own lore.db.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use rusqlite::{Connection, OpenFlags};

use super::Ctx;

/// `--db PATH`, shared by every versioning command.
#[derive(Args, Clone)]
pub struct DbArg {
    /// The SQLite database to work on (default: lore's own lore.db).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// Whether the command may create the database.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reads only: opened read-only, so it works in a read-only home.
    Read,
    /// Writes to a database that must exist (`revert`).
    Update,
    /// Writes, creating the database if needed.
    Write,
}

impl DbArg {
    /// Opens the database. lore.db is created and migrated as usual; any other path must exist
    /// unless `mode` is `Write`.
    pub fn open(&self, ctx: &Ctx, mode: Mode) -> anyhow::Result<Connection> {
        let path = match &self.db {
            Some(p) => p.clone(),
            None => {
                if mode != Mode::Read {
                    // Creates or upgrades lore.db's own schema first (and refuses a database
                    // that is not lore's before anything is written).
                    drop(ctx.home.open_db()?);
                } else {
                    // Only checks it: a reading command works in a read-only home too.
                    drop(ctx.home.open_db_readable()?);
                }
                ctx.home.db_path()
            }
        };
        if mode != Mode::Write && !path.exists() {
            anyhow::bail!(
                "{} does not exist; give an existing database with --db",
                path.display()
            );
        }
        let flags = match mode {
            Mode::Write => {
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
            }
            Mode::Update => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            Mode::Read => OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        };
        let opened = match mode {
            // Works in a read-only folder too (see `connect_read_only`).
            Mode::Read => lore::db::connect_read_only(&path),
            _ => Connection::open_with_flags(&path, flags).and_then(|conn| {
                conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                    r.get::<_, i64>(0)
                })?;
                Ok(conn)
            }),
        };
        let conn = opened.map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => anyhow::anyhow!(
                "{} is not a SQLite database; check the path",
                path.display()
            ),
            _ => anyhow::Error::new(e).context(format!("cannot read {}", path.display())),
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        if mode != Mode::Read {
            conn.pragma_update(None, "foreign_keys", true)?;
        }
        Ok(conn)
    }
}

/// Runs `f` in an immediate transaction: committed on `Ok`, rolled back on `Err`.
pub fn in_transaction<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(v) => {
            conn.execute_batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Reads a plan from `-f FILE`, `-f -` or standard input.
pub fn read_plan(file: Option<&PathBuf>) -> anyhow::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    match file {
        Some(p) if p.as_os_str() != "-" => {
            text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read plan {}", p.display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the plan from standard input")?;
        }
    }
    Ok(text)
}
