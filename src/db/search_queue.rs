//! The search indexes' queue: an inserted message waits in `_lore_search_pending` (schema 9)
//! and goes into `messages_fts` and `messages_cjk` with one statement per index at the end of
//! each [`super::Db::write`] and when a writable store is opened.
//!
//! Why not at once, as a trigger: FTS5 writes what it holds in memory to disk whenever a
//! statement opens a savepoint, and every multi-row INSERT does, so an import wrote one small
//! index segment per session and then spent a fifth of its time merging them. Filled here, the
//! index gets segments of FTS5's own size. It refuses nothing. Spec: docs/database.md, "Search".

use rusqlite::{Connection, OptionalExtension};

/// The SQL that moves the queue into the indexes and empties it.
const DRAIN: &str = include_str!("search_drain.sql");

/// Whether messages are waiting to be indexed.
pub(crate) fn has_pending(conn: &Connection) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM _lore_search_pending LIMIT 1")?
        .query_row([], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
}

/// Indexes every queued message and empties the queue; the caller holds the transaction.
pub(crate) fn drain(conn: &Connection) -> rusqlite::Result<()> {
    if has_pending(conn)? {
        conn.execute_batch(DRAIN)?;
    }
    Ok(())
}
