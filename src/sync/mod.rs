//! Syncing reasoning history: the steps `lore sync` is made of.
//!
//! - [`default_remote`]: which remote a repository syncs with;
//! - [`remote_header`]: whether a remote already holds a store, and its header (read from the
//!   ciphertext with plain git, no key needed);
//! - [`Scope`], [`work_tree_roots`], [`repo_session_ids`]: the sessions that belong to a
//!   store (a repository's work trees, or everything for the global store);
//! - [`record`]: sessions of lore.db as store records, and their export into the store;
//! - [`merge`]: how arriving sessions merge into lore.db;
//! - [`cycle`]: one whole `lore sync`; [`lock`]: one at a time per repository;
//!   [`state`]: what the last one left, so the next can skip what it did;
//! - [`status`]: where a store's sync stands.
//!
//! docs/sync.md tells the whole story.

pub mod cycle;
pub mod lock;
pub mod merge;
pub mod record;
pub mod state;
pub mod status;

use std::path::{Path, PathBuf};

use crate::crypto::StoreHeader;
use crate::db::{Db, DbError};
use crate::gitstore::tree::{EntryKind, Odb, RawCommit, read_blob, read_level};
use crate::gitstore::{GitStoreError, HEADER_FILE, LocalStore, SESSIONS_REF};
use crate::remote::RemoteError;
use crate::remote::wire::Git;

/// Why a sync step failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "this repository has no remote to sync with: add one (git remote add origin URL) or pass --remote NAME"
    )]
    NoRemote,
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    Store(#[from] GitStoreError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Merge(#[from] merge::MergeError),
    #[error(transparent)]
    Key(crate::keys::KeyError),
    #[error("the push failed: {0}")]
    PushRejected(String),
    #[error(
        "the remote kept moving: {0} tries lost a race to other pushes; nothing was lost, run 'lore sync' again"
    )]
    TooManyRaces(u32),
    #[error("cannot use {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The remote to sync with: the current branch's upstream remote, else `origin`, else the
/// only remote there is.
pub fn default_remote(store: &LocalStore) -> Option<String> {
    let repo = store.repo();
    let config = repo.config_snapshot();
    if let Ok(Some(head)) = repo.head_name() {
        let branch = head.shorten().to_string();
        if let Some(r) = config.string(format!("branch.{branch}.remote").as_str()) {
            let r = r.to_string();
            if r != "." {
                return Some(r);
            }
        }
    }
    let names: Vec<String> = repo.remote_names().iter().map(|n| n.to_string()).collect();
    if names.iter().any(|n| n == "origin") {
        return Some("origin".into());
    }
    match names.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// The header of the store on `remote`, if it has one. Fetches the ciphertext ref (plain
/// git, no key needed) into the helper's private namespace, where the helper finds it later.
pub fn remote_header(
    git: &Git,
    store: &LocalStore,
    remote: &str,
) -> Result<Option<StoreHeader>, SyncError> {
    let url = git.remote_url(remote, false)?;
    let advertised = git.ls_remote(&url)?;
    if !advertised.refs.iter().any(|r| r.name == SESSIONS_REF) {
        return Ok(None);
    }
    // The objects are fetched through a holding ref that is deleted as soon as the header
    // is read: nothing unverified stays in a ref (the helper verifies the store on the next
    // fetch, and finds the objects here already).
    let holding = crate::remote::incoming_ref(&crate::remote::namespace(remote));
    git.fetch(&url, &[format!("+{SESSIONS_REF}:{holding}")])?;
    let tip = crate::gitstore::local::ref_target(store.repo(), &holding)?
        .ok_or_else(|| GitStoreError::Other(format!("git fetch did not bring {SESSIONS_REF}")))?;
    let header = (|| {
        let odb = Odb::loose(store.repo());
        let root = read_level(&odb, Some(RawCommit::read(&odb, tip)?.tree))?;
        match root.get(HEADER_FILE) {
            Some((EntryKind::Blob, blob)) => {
                Ok(Some(StoreHeader::parse(&read_blob(&odb, *blob)?)?))
            }
            _ => Err(GitStoreError::NoHeader),
        }
    })();
    crate::gitstore::local::update_ref(store.repo(), &holding, Some(tip), None, "lore: read")?;
    Ok(header?)
}

/// `$GIT_DIR/lore/joined/<remote>`: written by `lore sync setup` when it joins the store a
/// remote holds (no local store yet), so that `lore sync` knows it may fetch it.
fn joined_file(store: &LocalStore, remote: &str) -> PathBuf {
    store
        .repo()
        .git_dir()
        .join("lore")
        .join("joined")
        .join(crate::remote::namespace(remote))
}

/// Records that this repository joined the store `remote` holds (see [`joined`]).
pub fn mark_joined(store: &LocalStore, remote: &str, store_id_hex: &str) -> Result<(), SyncError> {
    let path = joined_file(store, remote);
    let io = |source| SyncError::Io {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(&path, format!("{store_id_hex}\n")).map_err(io)
}

/// The id of the store `lore sync setup` joined on `remote` (32 hex), if it did.
pub fn joined_store(store: &LocalStore, remote: &str) -> Option<String> {
    let text = std::fs::read_to_string(joined_file(store, remote)).ok()?;
    let id = text.trim();
    crate::crypto::parse_hex::<16>(id).map(|_| id.to_owned())
}

/// Whether `lore sync setup` joined the store `remote` holds, or a fetch brought it here.
pub fn joined(store: &LocalStore, remote: &str) -> bool {
    let ns = crate::remote::namespace(remote);
    joined_file(store, remote).exists()
        || [
            crate::remote::tracking_ref(&ns),
            crate::remote::wire_ref(&ns),
        ]
        .iter()
        .any(|name| {
            store
                .repo()
                .try_find_reference(name.as_str())
                .is_ok_and(|r| r.is_some())
        })
}

/// The work tree root of the repository holding `path` (symlinks resolved).
pub fn work_tree_root(path: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(path).ok()?;
    crate::repo::root_of(&abs)
}

/// The ids of every session in lore.db whose working directory is inside `root`, as recorded
/// or with symlinks resolved (a session started through a symlinked path belongs too).
pub fn repo_session_ids(db: &Db, root: &Path) -> Result<Vec<String>, SyncError> {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut ids = Vec::new();
    for (id, cwd) in db.session_cwds()? {
        if cwd.is_some_and(|cwd| inside(&cwd, &root)) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Which sessions a store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A repository's store: sessions whose working directory is inside one of its work
    /// trees (canonical paths), as recorded or with symlinks resolved.
    WorkTrees(Vec<PathBuf>),
    /// The global store (`lore sync --global`): every session in lore.db.
    Everything,
}

impl Scope {
    /// A repository's scope: its work trees, symlinks resolved.
    pub fn work_trees(roots: impl IntoIterator<Item = PathBuf>) -> Scope {
        let mut roots: Vec<PathBuf> = roots
            .into_iter()
            .map(|r| std::fs::canonicalize(&r).unwrap_or(r))
            .collect();
        roots.sort();
        roots.dedup();
        Scope::WorkTrees(roots)
    }

    /// Whether a session with working directory `cwd` belongs.
    pub fn holds(&self, cwd: Option<&str>) -> bool {
        match self {
            Scope::Everything => true,
            Scope::WorkTrees(roots) => cwd.is_some_and(|cwd| roots.iter().any(|r| inside(cwd, r))),
        }
    }

    /// The ids of every session in lore.db that belongs.
    pub fn session_ids(&self, db: &Db) -> Result<Vec<String>, SyncError> {
        Ok(db
            .session_cwds()?
            .into_iter()
            .filter(|(_, cwd)| self.holds(cwd.as_deref()))
            .map(|(id, _)| id)
            .collect())
    }

    /// A stable description, for [`state::scope`].
    pub fn describe(&self) -> Vec<u8> {
        match self {
            Scope::Everything => b"everything".to_vec(),
            Scope::WorkTrees(roots) => {
                let mut out = b"work trees".to_vec();
                for r in roots {
                    out.push(0);
                    out.extend_from_slice(r.as_os_str().as_encoded_bytes());
                }
                out
            }
        }
    }
}

/// Whether session `id` belongs in the store whose tip is `tip`: in `scope` by its working
/// directory, or held by the store already (a teammate's session changed here, a session
/// deleted here whose tombstone replaces it).
pub fn belongs(
    db: &Db,
    local: &LocalStore,
    tip: gix::ObjectId,
    scope: &Scope,
    id: &str,
) -> Result<bool, SyncError> {
    let in_scope = match db.session_cwd(id)? {
        Some(cwd) => scope.holds(cwd.as_deref()),
        None => false,
    };
    Ok(in_scope || local.read_record(tip, id)?.is_some())
}

/// Whether working directory `cwd` is inside `root` (canonical), as recorded or with symlinks
/// resolved.
pub fn inside(cwd: &str, root: &Path) -> bool {
    let recorded = Path::new(cwd);
    recorded.starts_with(root)
        || std::fs::canonicalize(recorded).is_ok_and(|real| real.starts_with(root))
}

/// The work trees of `repo`: the main one and every linked worktree (symlinks resolved), as
/// `git worktree list` gives them, read in-process. Empty for a bare repository.
pub fn work_tree_roots(repo: &gix::Repository) -> Vec<PathBuf> {
    let main = repo.main_repo().unwrap_or_else(|_| repo.clone());
    let mut roots: Vec<PathBuf> = main.workdir().map(Path::to_path_buf).into_iter().collect();
    if let Ok(linked) = main.worktrees() {
        roots.extend(linked.iter().filter_map(|w| w.base().ok()));
    }
    roots
        .into_iter()
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
        .collect()
}
