//! What the last successful sync with a remote left behind, so the next one can tell cheaply
//! whether anything is to be done and which sessions to look at.
//!
//! Kept in `$GIT_DIR/lore/sync-state/<remote namespace>` as JSON. It is only ever a hint:
//! missing, unreadable or from another lore.db, it makes the next sync look at everything,
//! which is always correct.

use std::path::PathBuf;

use gix::ObjectId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Scope;
use crate::gitstore::LocalStore;

/// The state of one remote after a successful sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// Always 1.
    pub version: u32,
    /// lore.db's head when the sync exported: every change after it is still to be exported.
    pub db_head: Option<String>,
    /// [`scope`] of the work trees and redaction rules the export used.
    pub scope: String,
    /// The local refs/lore/sessions after the sync.
    pub store_tip: Option<String>,
    /// The ciphertext commit the remote's refs/lore/sessions pointed at after the sync.
    pub wire_tip: Option<String>,
}

impl SyncState {
    /// The local store tip, parsed.
    pub fn store_tip(&self) -> Option<ObjectId> {
        self.store_tip.as_deref().and_then(parse_oid)
    }

    /// The remote's ciphertext tip, parsed.
    pub fn wire_tip(&self) -> Option<ObjectId> {
        self.wire_tip.as_deref().and_then(parse_oid)
    }
}

fn parse_oid(s: &str) -> Option<ObjectId> {
    ObjectId::from_hex(s.as_bytes()).ok()
}

/// A digest of what decides which sessions belong in the store and how they are written: the
/// [`Scope`] (a repository's work trees, or everything) and the redaction rules. A change
/// means every session is looked at again.
pub fn scope(scope: &Scope, redaction: &str) -> String {
    let mut h = Sha256::new();
    h.update(scope.describe());
    h.update([0]);
    h.update(redaction.as_bytes());
    crate::crypto::hex(&h.finalize())
}

fn path(local: &LocalStore, remote: &str) -> PathBuf {
    local
        .repo()
        .git_dir()
        .join("lore")
        .join("sync-state")
        .join(crate::remote::namespace(remote))
}

/// The state the last successful sync with `remote` left, if it can be read.
pub fn load(local: &LocalStore, remote: &str) -> Option<SyncState> {
    let bytes = std::fs::read(path(local, remote)).ok()?;
    serde_json::from_slice::<SyncState>(&bytes)
        .ok()
        .filter(|s| s.version == 1)
}

/// Records `state` for `remote` (best effort: a sync that cannot record it has still synced,
/// and the next one looks at everything). Written to a temporary file and renamed, so a reader
/// never sees half of it.
pub fn save(local: &LocalStore, remote: &str, state: &SyncState) {
    let target = path(local, remote);
    let Some(dir) = target.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(bytes) = serde_json::to_vec(state) else {
        return;
    };
    let tmp = target.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, &target).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// Forgets the state of `remote` (the next sync looks at everything).
pub fn clear(local: &LocalStore, remote: &str) {
    let _ = std::fs::remove_file(path(local, remote));
}
