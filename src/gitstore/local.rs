//! The plaintext store: `refs/lore/sessions` in the user's own repository.
//!
//! Plain git reads it (`git show refs/lore/sessions:sessions/ab/cd/<id>.json`). lore writes it
//! from lore.db ([`export`]) and reads it back ([`LocalStore::read_record`],
//! [`LocalStore::for_each_record`]); the remote helper encrypts it on the way out.

use std::collections::BTreeMap;
use std::path::Path;

use gix::ObjectId;
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use super::record::meta_of;
use super::tree::{EntryKind, Level, Odb, RawCommit, read_blob, read_level, write_level};
use super::{GitStoreError, HEADER_FILE, SESSIONS_DIR, SESSIONS_REF, shard, valid_id};
use crate::crypto::StoreHeader;

/// The name and address lore signs its store commits with. The remote sees commit headers in
/// the clear, so they carry nothing about the user.
pub const COMMITTER: &str = "lore <lore@localhost>";

/// A repository's session store.
pub struct LocalStore {
    repo: gix::Repository,
}

/// What writing records did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The new commit on `refs/lore/sessions`; `None` when nothing changed.
    pub commit: Option<ObjectId>,
    /// Records added or changed.
    pub written: usize,
    /// Records already in the store with the same bytes.
    pub unchanged: usize,
}

impl LocalStore {
    /// Opens the repository at `git_dir` (a `.git` folder or a bare repository).
    pub fn open(git_dir: &Path) -> Result<LocalStore, GitStoreError> {
        let repo = gix::open_opts(git_dir, open_options())?;
        LocalStore::from_repo(repo)
    }

    /// Finds the repository holding `path`, as git does.
    pub fn discover(path: &Path) -> Result<LocalStore, GitStoreError> {
        let found = gix::discover(path)?;
        LocalStore::open(found.git_dir())
    }

    fn from_repo(repo: gix::Repository) -> Result<LocalStore, GitStoreError> {
        if repo.object_hash() != gix::hash::Kind::Sha1 {
            return Err(GitStoreError::Other(
                "this repository uses SHA-256 object ids; lore supports SHA-1 repositories only"
                    .into(),
            ));
        }
        Ok(LocalStore { repo })
    }

    /// The underlying repository.
    pub fn repo(&self) -> &gix::Repository {
        &self.repo
    }

    /// The commit `refs/lore/sessions` points at, if the ref exists.
    pub fn tip(&self) -> Result<Option<ObjectId>, GitStoreError> {
        ref_target(&self.repo, SESSIONS_REF)
    }

    /// The store header in `commit`'s tree.
    pub fn header_at(&self, commit: ObjectId) -> Result<Option<StoreHeader>, GitStoreError> {
        let odb = Odb::loose(&self.repo);
        let c = RawCommit::read(&odb, commit)?;
        let root = read_level(&odb, Some(c.tree))?;
        match root.get(HEADER_FILE) {
            Some((EntryKind::Blob, id)) => Ok(Some(StoreHeader::parse(&read_blob(&odb, *id)?)?)),
            _ => Ok(None),
        }
    }

    /// The header of the store at the tip, if there is a store.
    pub fn header(&self) -> Result<Option<StoreHeader>, GitStoreError> {
        match self.tip()? {
            Some(tip) => self.header_at(tip),
            None => Ok(None),
        }
    }

    /// Starts a store: the first commit of `refs/lore/sessions`, holding only `header`.
    /// With an existing store, replaces its header (passphrase change, rotation) in a new
    /// commit on top.
    pub fn write_header(
        &self,
        header: &StoreHeader,
        message: &str,
    ) -> Result<ObjectId, GitStoreError> {
        let odb = Odb::loose(&self.repo);
        let tip = self.tip()?;
        let mut root = match tip {
            Some(t) => read_level(&odb, Some(RawCommit::read(&odb, t)?.tree))?,
            None => Level::new(),
        };
        let blob = odb.write_blob(&header.to_bytes())?;
        root.insert(HEADER_FILE.to_owned(), (EntryKind::Blob, blob));
        let tree =
            write_level(&odb, &root)?.ok_or_else(|| GitStoreError::Other("empty tree".into()))?;
        self.commit(odb, tree, tip, message)
    }

    /// Writes `records` (session id, canonical record bytes) into the store in one commit on
    /// top of the tip, with the message `message` makes from the outcome. Records equal to
    /// what the store holds are skipped; with nothing new no commit is made. Needs a store (a
    /// header) to exist.
    pub fn write_records(
        &self,
        records: impl IntoIterator<Item = Result<(String, Vec<u8>), GitStoreError>>,
        message: impl FnOnce(&WriteOutcome) -> String,
    ) -> Result<WriteOutcome, GitStoreError> {
        let tip = self.tip()?.ok_or(GitStoreError::NoHeader)?;
        let odb = Odb::packed(&self.repo)?;
        let base = RawCommit::read(&odb, tip)?;
        let mut root = read_level(&odb, Some(base.tree))?;
        if !root.contains_key(HEADER_FILE) {
            return Err(GitStoreError::NoHeader);
        }
        // Blobs first, one record in memory at a time; then the trees, one shard at a time.
        let mut changes: BTreeMap<(String, String), BTreeMap<String, ObjectId>> = BTreeMap::new();
        for item in records {
            let (id, bytes) = item?;
            if !valid_id(&id) {
                return Err(GitStoreError::BadId(id));
            }
            meta_of(&bytes, &id)?;
            let blob = odb.write_blob(&bytes)?;
            changes
                .entry(shard(&id))
                .or_default()
                .insert(format!("{id}.json"), blob);
        }
        let mut outcome = WriteOutcome::default();
        let sessions_id = dir_entry(&root, SESSIONS_DIR)?;
        let mut sessions = read_level(&odb, sessions_id)?;
        type Leaves = Vec<(String, BTreeMap<String, ObjectId>)>;
        let mut by_top: BTreeMap<String, Leaves> = BTreeMap::new();
        for ((a, b), files) in changes {
            by_top.entry(a).or_default().push((b, files));
        }
        for (a, subs) in by_top {
            let mut top = read_level(&odb, dir_entry(&sessions, &a)?)?;
            for (b, files) in subs {
                let mut leaf = read_level(&odb, dir_entry(&top, &b)?)?;
                for (name, blob) in files {
                    match leaf.insert(name, (EntryKind::Blob, blob)) {
                        Some((_, old)) if old == blob => outcome.unchanged += 1,
                        _ => outcome.written += 1,
                    }
                }
                set_dir(&mut top, &b, write_level(&odb, &leaf)?);
            }
            set_dir(&mut sessions, &a, write_level(&odb, &top)?);
        }
        if outcome.written == 0 {
            return Ok(outcome);
        }
        set_dir(&mut root, SESSIONS_DIR, write_level(&odb, &sessions)?);
        let tree =
            write_level(&odb, &root)?.ok_or_else(|| GitStoreError::Other("empty tree".into()))?;
        let message = message(&outcome);
        outcome.commit = Some(self.commit(odb, tree, Some(tip), &message)?);
        Ok(outcome)
    }

    /// The record of session `id` in `commit`'s tree.
    pub fn read_record(
        &self,
        commit: ObjectId,
        id: &str,
    ) -> Result<Option<Vec<u8>>, GitStoreError> {
        if !valid_id(id) {
            return Err(GitStoreError::BadId(id.to_owned()));
        }
        let (a, b) = shard(id);
        let odb = Odb::loose(&self.repo);
        let root = read_level(&odb, Some(RawCommit::read(&odb, commit)?.tree))?;
        let sessions = read_level(&odb, dir_entry(&root, SESSIONS_DIR)?)?;
        let top = read_level(&odb, dir_entry(&sessions, &a)?)?;
        let leaf = read_level(&odb, dir_entry(&top, &b)?)?;
        match leaf.get(&format!("{id}.json")) {
            Some((EntryKind::Blob, blob)) => Ok(Some(read_blob(&odb, *blob)?)),
            _ => Ok(None),
        }
    }

    /// Calls `f` with the id and blob id of every record in `commit`'s tree, in shard order,
    /// holding one folder of the tree at a time.
    pub fn for_each_record(
        &self,
        commit: ObjectId,
        mut f: impl FnMut(&str, ObjectId) -> Result<(), GitStoreError>,
    ) -> Result<(), GitStoreError> {
        let odb = Odb::loose(&self.repo);
        let root = read_level(&odb, Some(RawCommit::read(&odb, commit)?.tree))?;
        let sessions = read_level(&odb, dir_entry(&root, SESSIONS_DIR)?)?;
        for (_, (_, top_id)) in sessions {
            for (_, (_, leaf_id)) in read_level(&odb, Some(top_id))? {
                for (name, (_, blob)) in read_level(&odb, Some(leaf_id))? {
                    if let Some(id) = name.strip_suffix(".json") {
                        f(id, blob)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Calls `f` with the id and blob of every record that `new`'s tree holds and `old`'s
    /// (none: the empty tree) does not hold with the same bytes: what arrived or changed.
    /// Only the folders that differ are read.
    pub fn changed_records(
        &self,
        old: Option<ObjectId>,
        new: ObjectId,
        mut f: impl FnMut(&str, ObjectId) -> Result<(), GitStoreError>,
    ) -> Result<(), GitStoreError> {
        let odb = Odb::loose(&self.repo);
        let sessions_of = |commit: Option<ObjectId>| -> Result<Option<ObjectId>, GitStoreError> {
            match commit {
                None => Ok(None),
                Some(c) => {
                    let root = read_level(&odb, Some(RawCommit::read(&odb, c)?.tree))?;
                    dir_entry(&root, SESSIONS_DIR)
                }
            }
        };
        let (a, b) = (sessions_of(old)?, sessions_of(Some(new))?);
        diff_dirs(&odb, 0, a, b, &mut f)
    }

    /// Writes a merge commit of `local` and `remote` (in that order) whose tree is
    /// `remote`'s (with `header` in place of its header, when given), and moves
    /// `refs/lore/sessions` from `local` to it.
    pub fn merge_commit(
        &self,
        local: ObjectId,
        remote: ObjectId,
        header: Option<&StoreHeader>,
        message: &str,
    ) -> Result<ObjectId, GitStoreError> {
        let odb = Odb::loose(&self.repo);
        let mut tree = RawCommit::read(&odb, remote)?.tree;
        if let Some(header) = header {
            let mut root = read_level(&odb, Some(tree))?;
            let blob = odb.write_blob(&header.to_bytes())?;
            root.insert(HEADER_FILE.to_owned(), (EntryKind::Blob, blob));
            tree = write_level(&odb, &root)?
                .ok_or_else(|| GitStoreError::Other("empty tree".into()))?;
        }
        let now = jiff::Timestamp::now().as_second();
        let commit = RawCommit {
            tree,
            parents: vec![local, remote],
            rest: format!(
                "author {COMMITTER} {now} +0000\ncommitter {COMMITTER} {now} +0000\n\n{message}\n"
            )
            .into_bytes(),
        };
        let id = commit.write(&odb)?;
        update_ref(&self.repo, SESSIONS_REF, Some(local), Some(id), message)?;
        Ok(id)
    }

    /// Reads blob `id` (a record found by [`LocalStore::for_each_record`]).
    pub fn read_blob(&self, id: ObjectId) -> Result<Vec<u8>, GitStoreError> {
        read_blob(&Odb::loose(&self.repo), id)
    }

    /// Writes the commit, finishes `odb`'s pack, then moves the ref (compare-and-swap).
    fn commit(
        &self,
        odb: Odb<'_>,
        tree: ObjectId,
        parent: Option<ObjectId>,
        message: &str,
    ) -> Result<ObjectId, GitStoreError> {
        let now = jiff::Timestamp::now().as_second();
        let commit = RawCommit {
            tree,
            parents: parent.into_iter().collect(),
            rest: format!(
                "author {COMMITTER} {now} +0000\ncommitter {COMMITTER} {now} +0000\n\n{message}\n"
            )
            .into_bytes(),
        };
        let id = commit.write(&odb)?;
        odb.finish()?;
        update_ref(&self.repo, SESSIONS_REF, parent, Some(id), message)?;
        Ok(id)
    }
}

/// How lore opens repositories: like git, except that the object database keeps room for many
/// more pack indexes than are on disk when it opens. Every store write adds a pack, and other
/// processes (another sync, the helper, git) add theirs while this one runs; gix's default
/// (10% more than at opening, at least 32) would run out.
pub(crate) fn open_options() -> gix::open::Options {
    gix::open::Options::default().object_store_slots(
        gix::odb::store::init::Slots::AsNeededByDiskState {
            multiplier: 2.0,
            minimum: 512,
        },
    )
}

/// Walks two versions of `sessions/` (depth 0), a shard (1) or a leaf folder (2), calling `f`
/// for each record of `new` that `old` lacks or holds with other bytes.
fn diff_dirs(
    odb: &Odb<'_>,
    depth: u8,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
    f: &mut impl FnMut(&str, ObjectId) -> Result<(), GitStoreError>,
) -> Result<(), GitStoreError> {
    if old == new || new.is_none() {
        return Ok(());
    }
    let before = read_level(odb, old)?;
    let after = read_level(odb, new)?;
    for (name, (kind, id)) in &after {
        let previous = before.get(name).map(|(_, id)| *id);
        if previous == Some(*id) {
            continue;
        }
        match (depth, kind) {
            (2, EntryKind::Blob) => {
                if let Some(sid) = name.strip_suffix(".json") {
                    f(sid, *id)?;
                }
            }
            (0 | 1, EntryKind::Tree) => diff_dirs(odb, depth + 1, previous, Some(*id), f)?,
            _ => {
                return Err(GitStoreError::Malformed {
                    what: "store".into(),
                    why: format!("unexpected entry {name}"),
                });
            }
        }
    }
    Ok(())
}

/// The commit `name` points at, if the ref exists.
pub fn ref_target(repo: &gix::Repository, name: &str) -> Result<Option<ObjectId>, GitStoreError> {
    match repo.try_find_reference(name)? {
        Some(mut r) => Ok(Some(r.peel_to_id()?.detach())),
        None => Ok(None),
    }
}

/// Moves ref `name` from `expected` to `new` (`None`: absent), failing with
/// [`GitStoreError::Raced`] when someone else moved it first: a compare-and-swap.
pub fn update_ref(
    repo: &gix::Repository,
    name: &str,
    expected: Option<ObjectId>,
    new: Option<ObjectId>,
    message: &str,
) -> Result<(), GitStoreError> {
    let full: gix::refs::FullName = name
        .try_into()
        .map_err(|e: gix::validate::reference::name::Error| GitStoreError::Other(e.to_string()))?;
    let previous = match expected {
        Some(id) => PreviousValue::MustExistAndMatch(Target::Object(id)),
        None => PreviousValue::MustNotExist,
    };
    let change = match new {
        Some(id) => Change::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: false,
                message: message.lines().next().unwrap_or("").into(),
            },
            expected: previous,
            new: Target::Object(id),
        },
        None => Change::Delete {
            expected: previous,
            log: RefLog::AndReference,
        },
    };
    let now = format!("{} +0000", jiff::Timestamp::now().as_second());
    let signature = gix::actor::SignatureRef {
        name: "lore".into(),
        email: "lore@localhost".into(),
        time: &now,
    };
    let edit = RefEdit {
        change,
        name: full,
        deref: false,
    };
    match repo.edit_references_as([edit], Some(signature)) {
        Ok(_) => Ok(()),
        Err(e) => {
            // Tell a lost race from other failures: look at the ref again.
            let found = ref_target(repo, name)?;
            if found != expected {
                Err(GitStoreError::Raced {
                    found: found.map_or_else(|| "absent".to_owned(), |f| f.to_string()),
                })
            } else {
                Err(e.into())
            }
        }
    }
}

/// The folder entry `name` of `level`: its tree id, `None` when absent; an error when `name`
/// is a file.
pub(crate) fn dir_entry(level: &Level, name: &str) -> Result<Option<ObjectId>, GitStoreError> {
    match level.get(name) {
        None => Ok(None),
        Some((EntryKind::Tree, id)) => Ok(Some(*id)),
        Some((EntryKind::Blob, _)) => Err(GitStoreError::Malformed {
            what: "store".into(),
            why: format!("{name} is a file where a folder belongs"),
        }),
    }
}

/// Sets folder `name` of `level` to `tree`, or removes it when the folder became empty.
pub(crate) fn set_dir(level: &mut Level, name: &str, tree: Option<ObjectId>) {
    match tree {
        Some(id) => {
            level.insert(name.to_owned(), (EntryKind::Tree, id));
        }
        None => {
            level.remove(name);
        }
    }
}
