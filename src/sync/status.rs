//! `lore sync status`: where this repository's sync stands, read without touching the network.

use gix::ObjectId;

use super::SyncError;
use super::record::record_from_store;
use crate::crypto::StoreHeader;
use crate::db::Db;
use crate::gitstore::LocalStore;
use crate::gitstore::local::ref_target;
use crate::keys::KeyStore;
use crate::redact::Redactor;

/// Where the data key would come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    /// In lore's key store: the OS keychain or a 0600 file.
    Stored(crate::keys::KeyLocation),
    /// Not stored, but LORE_PASSPHRASE is set.
    FromEnvironment,
    /// The key store could not be read (a locked keychain, a key file with loose
    /// permissions, ...): why.
    Unreadable(String),
    /// Neither.
    Missing,
    /// This machine holds a key of the store, but the remote's store was rotated to a newer
    /// one since (seen in what was last fetched).
    Rotated,
}

/// How the local store relates to the remote's (as of the last fetch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// No store here or there.
    Nothing,
    /// A local store the remote has not seen.
    NotPushed,
    /// Only the remote has a store (joined, not yet synced).
    NotFetched,
    InSync,
    Ahead(usize),
    Behind(usize),
    Diverged {
        ahead: usize,
        behind: usize,
    },
}

/// The whole status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub remote: String,
    /// The store's id, when there is a store here or a joined one on the remote.
    pub store_id: Option<String>,
    pub key: KeyState,
    /// This repository's sessions whose record in lore.db differs from the local store's.
    pub pending: usize,
    /// Unix ms of the last successful `lore sync`.
    pub last_sync: Option<i64>,
    pub relation: Relation,
}

/// The file where `lore sync` notes its last success.
pub fn last_sync_file(local: &LocalStore) -> std::path::PathBuf {
    local.repo().git_dir().join("lore").join("last-sync")
}

/// How this machine's records leave it, for comparing them with the store's: secrets
/// replaced by `redactor`, and its own id replaced by its id in the store, derived from
/// `machine` (its id and local secret; `None` when the home has none).
pub struct Outgoing<'a> {
    pub redactor: &'a Redactor,
    pub machine: Option<(&'a str, &'a [u8; 32])>,
}

/// Reads the status of `local`'s sync with `remote`.
pub fn status(
    local: &LocalStore,
    db: Option<&Db>,
    keys: &KeyStore,
    passphrase_set: bool,
    remote: &str,
    scope: &super::Scope,
    outgoing: Outgoing<'_>,
) -> Result<Status, SyncError> {
    let Outgoing { redactor, machine } = outgoing;
    let repo = local.repo();
    let tip = local.tip()?;
    let ns = crate::remote::namespace(remote);
    let tracking = ref_target(repo, &crate::remote::tracking_ref(&ns))?;
    let wire = ref_target(repo, &crate::remote::wire_ref(&ns))?;
    let header: Option<StoreHeader> = match (tip, tracking.or(wire)) {
        (Some(t), _) => local.header_at(t)?,
        (None, Some(w)) => local.header_at(w)?,
        (None, None) => None,
    };
    // What was fetched last, verified or not: a rotation shows there first.
    let incoming = ref_target(repo, &crate::remote::incoming_ref(&ns))?
        .and_then(|i| local.header_at(i).ok().flatten())
        .filter(|i| header.as_ref().is_none_or(|h| h.store_id() == i.store_id()));
    let rotated = |k: &crate::crypto::DataKey| {
        incoming
            .as_ref()
            .is_some_and(|i| i.key_id() != k.key_id() && i.verify_key(k).is_err())
    };
    let key = match &header {
        Some(h) => match keys.locate(h.store_id_hex()) {
            Ok(Some((k, _))) if rotated(&k) => KeyState::Rotated,
            Ok(Some((k, location))) if h.verify_key(&k).is_ok() => KeyState::Stored(location),
            Ok(Some(_)) => KeyState::Rotated,
            _ if passphrase_set => KeyState::FromEnvironment,
            Err(e) => KeyState::Unreadable(e.to_string()),
            _ => KeyState::Missing,
        },
        // Joined with `lore sync setup` and not yet synced: the key saved for the store.
        None => match super::joined_store(local, remote).map(|id| keys.locate(&id)) {
            Some(Ok(Some((_, location)))) => KeyState::Stored(location),
            Some(Err(e)) => KeyState::Unreadable(e.to_string()),
            _ if passphrase_set => KeyState::FromEnvironment,
            _ => KeyState::Missing,
        },
    };
    let mut pending = 0;
    let alias = match (machine, &header) {
        (Some((id, secret)), Some(h)) => Some(super::record::MachineAlias::derive(
            id,
            secret,
            &h.store_id(),
        )),
        _ => None,
    };
    if let (Some(db), Some(t)) = (db, tip) {
        // Since the last sync, only what lore.db's history says changed can be pending; with
        // no usable record of it, every session in scope is compared.
        let fingerprint = super::state::scope(scope, &redactor.fingerprint());
        let changed = match super::state::load(local, remote).filter(|s| s.scope == fingerprint) {
            Some(st) => match st.db_head.as_deref() {
                Some(head) => db.sessions_changed_since(Some(head), &[])?,
                None => None,
            },
            None => None,
        };
        let candidates: Vec<String> = match changed {
            Some(changed) => {
                let mut ids = Vec::new();
                for id in changed.ids {
                    if super::belongs(db, local, t, scope, &id)? {
                        ids.push(id);
                    }
                }
                ids
            }
            None => scope.session_ids(db)?,
        };
        for id in candidates {
            if db.deleted_here_only(&id)? {
                continue;
            }
            let ours = record_from_store(db, &id, Some(redactor), alias.as_ref())?;
            let stored = local.read_record(t, &id)?;
            if ours != stored {
                pending += 1;
            }
        }
    }
    let last_sync = std::fs::read_to_string(last_sync_file(local))
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let relation = match (tip, tracking) {
        (None, None) if wire.is_some() => Relation::NotFetched,
        (None, None) => Relation::Nothing,
        (Some(_), None) => Relation::NotPushed,
        (None, Some(_)) => Relation::NotFetched,
        (Some(l), Some(r)) if l == r => Relation::InSync,
        (Some(l), Some(r)) => {
            let ahead = count(repo, l, r)?;
            let behind = count(repo, r, l)?;
            match (ahead, behind) {
                (a, 0) => Relation::Ahead(a),
                (0, b) => Relation::Behind(b),
                (a, b) => Relation::Diverged {
                    ahead: a,
                    behind: b,
                },
            }
        }
    };
    Ok(Status {
        remote: remote.to_owned(),
        store_id: header
            .map(|h| h.store_id_hex().to_owned())
            .or_else(|| super::joined_store(local, remote)),
        key,
        pending,
        last_sync,
        relation,
    })
}

/// Commits reachable from `from` but not from `not`.
fn count(repo: &gix::Repository, from: ObjectId, not: ObjectId) -> Result<usize, SyncError> {
    let walk = repo
        .rev_walk([from])
        .with_hidden([not])
        .all()
        .map_err(crate::gitstore::GitStoreError::from)?;
    Ok(walk.filter(|c| c.is_ok()).count())
}
