//! The helper's cache: `$GIT_DIR/lore/cache.db`.
//!
//! It remembers which plaintext commit each ciphertext commit translates to (and back), so a
//! fetch or push translates only commits it has not seen, and the last ciphertext tip seen on
//! each remote, so a remote ref that moves backwards is noticed. Only what a remote holds is
//! recorded (what a fetch decrypted, what a push got taken), so everything in it can be rebuilt
//! from the remote alone: delete the folder and the next fetch derives the same ids.

use std::path::Path;

use gix::ObjectId;
use rusqlite::{Connection, OptionalExtension};

use super::RemoteError;
use crate::gitstore::crypt::Direction;

/// The open cache.
pub struct Cache {
    conn: Connection,
}

impl Cache {
    /// Opens (creating) the cache in `dir`.
    pub fn open(dir: &Path) -> Result<Cache, RemoteError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| RemoteError::Io(format!("cannot create {}: {e}", dir.display())))?;
        let conn = Connection::open(dir.join("cache.db"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS commit_map (
                 plain  BLOB PRIMARY KEY NOT NULL,
                 cipher BLOB NOT NULL
             );
             CREATE INDEX IF NOT EXISTS commit_map_cipher ON commit_map(cipher);
             CREATE TABLE IF NOT EXISTS remote_tip (
                 remote TEXT PRIMARY KEY NOT NULL,
                 cipher BLOB NOT NULL
             );",
        )?;
        Ok(Cache { conn })
    }

    /// The translation of `id` in `direction` (plaintext → ciphertext for `Encrypt`).
    pub fn mapped(
        &self,
        direction: Direction,
        id: ObjectId,
    ) -> Result<Option<ObjectId>, RemoteError> {
        let sql = match direction {
            Direction::Encrypt => "SELECT cipher FROM commit_map WHERE plain = ?1",
            Direction::Decrypt => "SELECT plain FROM commit_map WHERE cipher = ?1 LIMIT 1",
        };
        let found: Option<Vec<u8>> = self
            .conn
            .prepare_cached(sql)?
            .query_row([id.as_bytes()], |r| r.get(0))
            .optional()?;
        Ok(found.and_then(|b| ObjectId::try_from(b.as_slice()).ok()))
    }

    /// Remembers a batch of (plaintext, ciphertext) pairs in one transaction.
    pub fn record(&mut self, pairs: &[(ObjectId, ObjectId)]) -> Result<(), RemoteError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO commit_map (plain, cipher) VALUES (?1, ?2)",
            )?;
            for (plain, cipher) in pairs {
                stmt.execute([plain.as_bytes(), cipher.as_bytes()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The last ciphertext tip seen on `remote`.
    pub fn last_tip(&self, remote: &str) -> Result<Option<ObjectId>, RemoteError> {
        let found: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT cipher FROM remote_tip WHERE remote = ?1")?
            .query_row([remote], |r| r.get(0))
            .optional()?;
        Ok(found.and_then(|b| ObjectId::try_from(b.as_slice()).ok()))
    }

    /// Records the ciphertext tip now on `remote` (`None`: the ref is gone).
    pub fn set_last_tip(&self, remote: &str, tip: Option<ObjectId>) -> Result<(), RemoteError> {
        match tip {
            Some(t) => self.conn.execute(
                "INSERT OR REPLACE INTO remote_tip (remote, cipher) VALUES (?1, ?2)",
                rusqlite::params![remote, t.as_bytes()],
            )?,
            None => self
                .conn
                .execute("DELETE FROM remote_tip WHERE remote = ?1", [remote])?,
        };
        Ok(())
    }
}
