//! The session store in git: `refs/lore/sessions`.
//!
//! Locally the ref holds a plaintext tree that plain git can read; on a remote it holds the
//! ciphertext of that tree. This module knows both shapes (docs/store-format.md):
//! [`local`] writes sessions from lore.db into the plaintext store and reads them back,
//! [`crypt`] turns plaintext commits into ciphertext commits and back, one for one.
//! The git remote helper (`crate::remote`) moves the ciphertext over the wire.

pub mod crypt;
pub mod local;
pub mod pack;
pub mod record;
pub mod tree;

pub use local::LocalStore;

use sha2::{Digest, Sha256};

use crate::crypto::CryptoError;

/// The ref that holds the session store, locally and on every remote.
pub const SESSIONS_REF: &str = "refs/lore/sessions";
/// The header's path at the root of the store's tree.
pub const HEADER_FILE: &str = "lore-store.json";
/// The folder that holds the sessions.
pub const SESSIONS_DIR: &str = "sessions";
/// The sealed manifest at the root of every format-2 ciphertext commit's tree.
pub const MANIFEST_FILE: &str = "lore-manifest";

/// Everything that can go wrong reading or writing a store in git.
#[derive(Debug, thiserror::Error)]
pub enum GitStoreError {
    #[error("git: {0}")]
    Git(String),
    #[error("{what} is malformed: {why}")]
    Malformed { what: String, why: String },
    #[error("this {what} has format {found}, newer than this lore reads: upgrade lore")]
    NewerFormat { what: &'static str, found: u64 },
    /// A ciphertext commit the remote served that does not verify (docs/store-format.md,
    /// "Verifying what the remote serves").
    #[error("refused commit {commit} of the remote's store: {why}")]
    Refused { commit: String, why: String },
    /// A commit sealed under an older key than this machine has seen for the store: a
    /// rotation undone, or a former member writing with a retired key.
    #[error(
        "refused commit {commit} of the remote's store: it is sealed under key epoch {found}, older than epoch {seen} this machine has seen (a rotation was undone, or a former member wrote with a retired key)"
    )]
    OldEpoch {
        commit: String,
        found: u64,
        seen: u64,
    },
    /// This machine holds a key of the store, but not the one its header names now.
    #[error(
        "the store's key was rotated: run 'lore sync setup' with the new passphrase (ask a member for it)"
    )]
    Rotated { store_id: String },
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    #[error("no lore store here: {SESSIONS_REF} has no {HEADER_FILE}")]
    NoHeader,
    #[error(
        "{SESSIONS_REF} moved while lore was writing to it (now {found}); nothing was lost: run the command again"
    )]
    Raced { found: String },
    #[error(
        "session id {0:?} is not allowed in a store (letters, digits, '.', '_', '-'; at most 128)"
    )]
    BadId(String),
    #[error(
        "no key for lore store {store_id}: run 'lore sync setup' in this repository (or set LORE_PASSPHRASE)"
    )]
    NoKey { store_id: String },
    #[error("LORE_PASSPHRASE is not the passphrase of lore store {store_id}")]
    WrongPassphrase { store_id: String },
    #[error("{0}")]
    Other(String),
}

impl From<gix::Error> for GitStoreError {
    fn from(e: gix::Error) -> Self {
        GitStoreError::Git(format!("{e:#}"))
    }
}

/// The error for a store whose key `keys` does not hold: the store's key was rotated when this
/// machine holds another key of it, else there is no key at all.
pub fn missing_key(
    keys: &crate::keys::KeyStore,
    header: &crate::crypto::StoreHeader,
) -> GitStoreError {
    let store_id = header.store_id_hex().to_owned();
    match keys.load(&store_id) {
        Ok(Some(k)) if k.key_id() != header.key_id() => GitStoreError::Rotated { store_id },
        _ => GitStoreError::NoKey { store_id },
    }
}

/// Whether `id` may name a session in a store: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`.
pub fn valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// The two shard folder names of session `id`: the first two and next two hex digits of
/// SHA-256(id).
pub fn shard(id: &str) -> (String, String) {
    let digest = Sha256::digest(id.as_bytes());
    (format!("{:02x}", digest[0]), format!("{:02x}", digest[1]))
}

/// The path of session `id`'s plaintext record: `sessions/ab/cd/<id>.json`.
pub fn record_path(id: &str) -> String {
    let (a, b) = shard(id);
    format!("{SESSIONS_DIR}/{a}/{b}/{id}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_shards() {
        assert!(valid_id("5b1f3c9e-2a4d-4f8b-9c61-7e0d2a3b4c5d"));
        assert!(valid_id("aider-0123456789abcdef"));
        assert!(!valid_id(""));
        assert!(!valid_id("../x"));
        assert!(!valid_id(".hidden"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id(&"a".repeat(129)));
        let (a, b) = shard("abc");
        // sha256("abc") = ba7816bf…
        assert_eq!((a.as_str(), b.as_str()), ("ba", "78"));
        assert_eq!(record_path("abc"), "sessions/ba/78/abc.json");
    }
}
