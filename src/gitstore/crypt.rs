//! Translating store commits between the plaintext and the ciphertext shape, one for one
//! (docs/store-format.md, "Commits", "The manifest", "Verifying what the remote serves").
//!
//! A plaintext commit becomes a ciphertext commit with the ciphertext of its tree, its parents
//! mapped the same way, fixed author, committer and message lines, and (store format 2) a
//! sealed manifest that carries the plaintext commit's own lines and binds the tree, the
//! parents, a sequence number and the key epoch to the key. Decrypting verifies all of that
//! before it decrypts anything and gives the plaintext commit back, byte for byte; it refuses a
//! commit that does not match its manifest, a manifest that does not chain to its parents, an
//! epoch below what this machine has seen, and a format-1 commit on top of a format-2 one.
//! Trees are translated against the commit's first parent, whose translation is already known:
//! only the folders that differ are read, and only the sessions that changed are encrypted or
//! decrypted. With synthetic nonces the result depends on nothing but the key and the content,
//! so every machine derives the same ids.

use std::collections::HashMap;

use gix::ObjectId;

use super::local::{dir_entry, set_dir};
use super::record::meta_of;
use super::tree::{EntryKind, Level, Odb, RawCommit, read_blob, read_level, write_level};
use super::{GitStoreError, HEADER_FILE, MANIFEST_FILE, SESSIONS_DIR, shard, valid_id};
use crate::crypto::{self, CryptoError, DataKey, Manifest, StoreHeader};

/// The lines of every format-2 ciphertext commit after its `tree` and `parent` lines: the host
/// learns neither when nor by whom the store changed.
pub const CIPHER_REST: &[u8] =
    b"author lore <lore@localhost> 0 +0000\ncommitter lore <lore@localhost> 0 +0000\n\nlore\n";

/// What a translation holds the commits it translates to, beyond their own consistency.
/// (The tip's epoch against what this machine has seen is the caller's check: older epochs
/// are history below the tip, never a new tip.)
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect {
    /// The store every commit must belong to (the tip's), once known.
    pub store_id: Option<[u8; 16]>,
}

/// Which way a translation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Plaintext (local) to ciphertext (remote): for a push.
    Encrypt,
    /// Ciphertext (remote) to plaintext (local): for a fetch.
    Decrypt,
}

/// Where [`Keys`] asks for a store's key.
type Lookup<'a> = Box<dyn FnMut(&StoreHeader) -> Result<DataKey, GitStoreError> + 'a>;

/// Finds the data key for a store header, remembering the keys it has found.
pub struct Keys<'a> {
    lookup: Lookup<'a>,
    known: Vec<(String, String, DataKey)>,
}

impl<'a> Keys<'a> {
    /// `lookup` is asked once per store and key id (lore's key store, then LORE_PASSPHRASE).
    pub fn new(
        lookup: impl FnMut(&StoreHeader) -> Result<DataKey, GitStoreError> + 'a,
    ) -> Keys<'a> {
        Keys {
            lookup: Box::new(lookup),
            known: Vec::new(),
        }
    }

    /// Adds `key`, checked against `header` (the tip's, unlocked by the caller).
    pub fn insert(&mut self, header: &StoreHeader, key: DataKey) -> Result<(), GitStoreError> {
        header.verify_key(&key)?;
        let known = self
            .known
            .iter()
            .any(|(s, k, _)| s == header.store_id_hex() && k == header.key_id_hex());
        if !known {
            self.known.push((
                header.store_id_hex().to_owned(),
                header.key_id_hex().to_owned(),
                key,
            ));
        }
        Ok(())
    }

    /// Finds the key of `header` (the newest one, say) and learns the store's earlier keys it
    /// carries, so commits sealed before a rotation open without asking for them.
    pub fn prime(&mut self, header: &StoreHeader) -> Result<(), GitStoreError> {
        let key = self.key_for(header)?;
        let previous = header.previous_keys(key)?;
        for k in previous {
            let known = self
                .known
                .iter()
                .any(|(s, id, _)| s == header.store_id_hex() && *id == k.key_id_hex());
            if !known {
                self.known
                    .push((header.store_id_hex().to_owned(), k.key_id_hex(), k));
            }
        }
        Ok(())
    }

    fn key_for(&mut self, header: &StoreHeader) -> Result<&DataKey, GitStoreError> {
        let pos = self
            .known
            .iter()
            .position(|(s, k, _)| s == header.store_id_hex() && k == header.key_id_hex());
        let pos = match pos {
            Some(p) => p,
            None => {
                let key = (self.lookup)(header)?;
                header.verify_key(&key)?;
                self.known.push((
                    header.store_id_hex().to_owned(),
                    header.key_id_hex().to_owned(),
                    key,
                ));
                self.known.len() - 1
            }
        };
        Ok(&self.known[pos].2)
    }
}

/// How much work a translation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Sessions encrypted or decrypted.
    pub sessions: usize,
    /// Bytes of plaintext records handled.
    pub bytes: u64,
}

/// What a ciphertext commit's manifest says of it, read without the key from the manifest's
/// authenticated prefix (for a commit verified before): `None` for a format-1 commit.
pub fn cipher_info(
    odb: &Odb<'_>,
    commit: ObjectId,
) -> Result<Option<crypto::ManifestPrefix>, GitStoreError> {
    let c = RawCommit::read(odb, commit)?;
    let root = read_level(odb, Some(c.tree))?;
    match root.get(MANIFEST_FILE) {
        Some((EntryKind::Blob, blob)) => {
            let bytes = read_small_blob(odb, *blob, crypto::manifest::MAX_MANIFEST)?;
            Ok(Some(crypto::read_prefix(&bytes)?))
        }
        Some(_) => Err(refused(commit, "its lore-manifest is not a file")),
        None => Ok(None),
    }
}

/// The largest `.meta.json` read: its seven fields fit in well under 1 KiB.
const MAX_META: usize = 64 << 10;

/// Reads a blob that must be at most `max` bytes, checking its size before reading it whole.
fn read_small_blob(odb: &Odb<'_>, id: ObjectId, max: usize) -> Result<Vec<u8>, GitStoreError> {
    super::tree::read_blob_capped(odb, id, max)
}

/// A commit the remote served that lore refuses, and why.
fn refused(commit: ObjectId, why: impl std::fmt::Display) -> GitStoreError {
    GitStoreError::Refused {
        commit: commit.to_string(),
        why: why.to_string(),
    }
}

/// Translates commit `src` whose parents are already translated (`map` gives a parent's
/// translation), checking it as `expect` says. Returns the translated commit's id.
pub fn translate_commit(
    odb: &Odb<'_>,
    keys: &mut Keys<'_>,
    direction: Direction,
    src: ObjectId,
    mut map: impl FnMut(ObjectId) -> Result<Option<ObjectId>, GitStoreError>,
    expect: &Expect,
    work: &mut Work,
) -> Result<ObjectId, GitStoreError> {
    let commit = RawCommit::read(odb, src)?;
    let mut parents = Vec::with_capacity(commit.parents.len());
    for p in &commit.parents {
        parents.push(map(*p)?.ok_or_else(|| {
            GitStoreError::Other(format!("parent {p} of {src} has not been translated"))
        })?);
    }
    // The ciphertext side's parents: what the manifest chains to.
    let cipher_parents = match direction {
        Direction::Encrypt => &parents,
        Direction::Decrypt => &commit.parents,
    };
    let mut parent_infos = Vec::with_capacity(cipher_parents.len());
    for p in cipher_parents {
        parent_infos.push(cipher_info(odb, *p)?);
    }
    let (base_src, base_dst) = match (commit.parents.first(), parents.first()) {
        (Some(ps), Some(pd)) => (
            Some(RawCommit::read(odb, *ps)?.tree),
            Some(RawCommit::read(odb, *pd)?.tree),
        ),
        _ => (None, None),
    };
    let root = read_level(odb, Some(commit.tree))?;
    // Nothing but the header, the sessions and (on the remote) the manifest: anything else
    // could carry plaintext, or anything at all.
    for (name, (kind, _)) in &root {
        let allowed = (name == HEADER_FILE && *kind == EntryKind::Blob)
            || (name == SESSIONS_DIR && *kind == EntryKind::Tree)
            || (name == MANIFEST_FILE && direction == Direction::Decrypt);
        if !allowed {
            return Err(GitStoreError::Malformed {
                what: "store".into(),
                why: format!("unexpected entry {name:?} at the top of the tree"),
            });
        }
    }
    let manifest_blob = match (direction, root.get(MANIFEST_FILE)) {
        (Direction::Decrypt, Some((EntryKind::Blob, blob))) => Some(*blob),
        (_, None) => None,
        (Direction::Decrypt, Some(_)) => {
            return Err(refused(src, "its lore-manifest is not a file"));
        }
        (Direction::Encrypt, Some(_)) => {
            return Err(GitStoreError::Malformed {
                what: "local store".into(),
                why: format!("commit {src} holds a {MANIFEST_FILE}, which only the remote has"),
            });
        }
    };
    let header_blob = match root.get(HEADER_FILE) {
        Some((EntryKind::Blob, id)) => *id,
        _ => return Err(GitStoreError::NoHeader),
    };
    let header = StoreHeader::parse(&read_blob(odb, header_blob)?)?;
    let format2 = header.is_format2();
    let after_upgrade = parent_infos.iter().any(Option::is_some);
    let seq = 1 + parent_infos
        .iter()
        .flatten()
        .map(|p| p.seq)
        .max()
        .unwrap_or(0);
    let parent_epoch = parent_infos.iter().flatten().map(|p| p.epoch).max();
    if let Some(store_id) = expect.store_id
        && header.store_id() != store_id
    {
        return Err(refused(
            src,
            format!("its header names another store ({})", header.store_id_hex()),
        ));
    }
    if !format2 && after_upgrade {
        return Err(match direction {
            Direction::Decrypt => refused(
                src,
                "a format-1 commit on top of the format-2 store (written by an old lore, or forged)",
            ),
            Direction::Encrypt => GitStoreError::Other(format!(
                "commit {src} of the local store has a format-1 header on top of the format-2 store: sync first"
            )),
        });
    }
    // Epochs never go down along the history: a commit sealed under an older key than its
    // parent's is a former member (or a host with an old key) writing after a rotation.
    if let Some(pe) = parent_epoch
        && format2
        && header.epoch() < pe
    {
        return Err(GitStoreError::OldEpoch {
            commit: src.to_string(),
            found: header.epoch(),
            seen: pe,
        });
    }
    let rest = match (direction, format2) {
        (Direction::Decrypt, true) => {
            if commit.rest != CIPHER_REST {
                return Err(refused(
                    src,
                    "its author, committer or message lines are not lore's",
                ));
            }
            let Some(blob) = manifest_blob else {
                return Err(refused(src, "it has no lore-manifest (it was removed)"));
            };
            let key = keys.key_for(&header)?;
            let bytes = read_small_blob(odb, blob, crypto::manifest::MAX_MANIFEST)?;
            let m =
                crypto::open_manifest(key, &header.store_id(), &bytes).map_err(|e| match e {
                    CryptoError::Tampered { .. } | CryptoError::WrongKey { .. } => refused(
                        src,
                        "its lore-manifest does not open under the store's key (forged or altered)",
                    ),
                    e => GitStoreError::Crypto(e),
                })?;
            let sessions = dir_entry(&root, SESSIONS_DIR)?;
            let hexes: Vec<String> = commit.parents.iter().map(|p| p.to_string()).collect();
            if m.epoch != header.epoch() {
                return Err(refused(src, "its manifest's epoch is not its header's"));
            }
            if m.header.parse::<ObjectId>().ok() != Some(header_blob) {
                return Err(refused(src, "its header is not the one its manifest names"));
            }
            if m.sessions != sessions.map(|s| s.to_string()) {
                return Err(refused(
                    src,
                    "its sessions are not the ones its manifest names (a session file was removed, replaced or added)",
                ));
            }
            if m.parents != hexes {
                return Err(refused(
                    src,
                    "its parents are not the ones its manifest names (the history was rewritten)",
                ));
            }
            if m.seq != seq {
                return Err(refused(
                    src,
                    format!(
                        "its sequence number {} does not follow its parents' ({})",
                        m.seq,
                        seq - 1
                    ),
                ));
            }
            m.commit
        }
        (Direction::Decrypt, false) => {
            if manifest_blob.is_some() {
                return Err(refused(src, "a format-1 header beside a lore-manifest"));
            }
            commit.rest.clone()
        }
        (Direction::Encrypt, true) => CIPHER_REST.to_vec(),
        (Direction::Encrypt, false) => commit.rest.clone(),
    };
    if !crypto::manifest::valid_rest(&rest) {
        return Err(refused(
            src,
            "its author, committer or message holds a control character (a terminal escape?) or is too long",
        ));
    }
    let (header_out, sessions) = translate_tree(
        odb,
        keys,
        direction,
        &header,
        header_blob,
        &root,
        base_src,
        base_dst,
        work,
    )?;
    let mut out = Level::new();
    out.insert(HEADER_FILE.to_owned(), (EntryKind::Blob, header_out));
    set_dir(&mut out, SESSIONS_DIR, sessions);
    if direction == Direction::Encrypt && format2 {
        let key = keys.key_for(&header)?;
        let manifest = Manifest {
            epoch: header.epoch(),
            seq,
            parents: parents.iter().map(|p| p.to_string()).collect(),
            header: header_out.to_string(),
            sessions: sessions.map(|s| s.to_string()),
            commit: commit.rest.clone(),
        };
        let sealed = crypto::seal_manifest(key, &header.store_id(), &manifest)?;
        out.insert(
            MANIFEST_FILE.to_owned(),
            (EntryKind::Blob, odb.write_kept(&sealed)?),
        );
    }
    let tree = write_level(odb, &out)?.ok_or_else(|| GitStoreError::Other("empty tree".into()))?;
    RawCommit {
        tree,
        parents,
        rest,
    }
    .write(odb)
}

/// Translates the sessions of tree `root` (whose header, `header_blob`, is parsed as
/// `header`), given the translation `base_dst` of a related tree `base_src` (usually the
/// parent commit's). Returns the translated header blob and `sessions/` tree.
#[allow(clippy::too_many_arguments)]
fn translate_tree(
    odb: &Odb<'_>,
    keys: &mut Keys<'_>,
    direction: Direction,
    header: &StoreHeader,
    header_blob: ObjectId,
    root: &Level,
    base_src: Option<ObjectId>,
    base_dst: Option<ObjectId>,
    work: &mut Work,
) -> Result<(ObjectId, Option<ObjectId>), GitStoreError> {
    let key = keys.key_for(header)?;
    let store_id = header.store_id();

    // A new key (a rotation) means every session is translated afresh; a new header of the
    // same key (a passphrase change, the upgrade to format 2) changes no session.
    let base_root = read_level(odb, base_src)?;
    let same_key = match base_root.get(HEADER_FILE) {
        Some((EntryKind::Blob, id)) if *id == header_blob => true,
        Some((EntryKind::Blob, id)) => StoreHeader::parse(&read_blob(odb, *id)?)
            .is_ok_and(|base| base.key_id() == header.key_id()),
        _ => false,
    };
    let (base_src_sessions, base_dst_sessions) = if same_key {
        let base_dst_root = read_level(odb, base_dst)?;
        (
            dir_entry(&base_root, SESSIONS_DIR)?,
            dir_entry(&base_dst_root, SESSIONS_DIR)?,
        )
    } else {
        (None, None)
    };
    // Three passes: find the sessions that changed, translate them (in parallel), then write
    // the trees around the results.
    let mut ctx = Ctx {
        odb,
        direction,
        work,
        phase: Phase::Collect(Vec::new()),
    };
    let src_sessions = dir_entry(root, SESSIONS_DIR)?;
    ctx.dir(0, "", base_src_sessions, src_sessions, base_dst_sessions)?;
    let Phase::Collect(jobs) = std::mem::replace(&mut ctx.phase, Phase::Build(HashMap::new()))
    else {
        return Err(GitStoreError::Other("translation out of order".into()));
    };
    let done = run_jobs(odb, key, &store_id, direction, jobs, ctx.work)?;
    ctx.phase = Phase::Build(done);
    let sessions = ctx.dir(0, "", base_src_sessions, src_sessions, base_dst_sessions)?;
    Ok((header_blob, sessions))
}

struct Ctx<'o, 'r, 'w> {
    odb: &'o Odb<'r>,
    direction: Direction,
    work: &'w mut Work,
    phase: Phase,
}

/// One session to encrypt or decrypt: its id, and its record blob (encrypt) or its `.enc`
/// and `.meta.json` blobs (decrypt).
struct Job {
    id: String,
    blob: ObjectId,
    meta: Option<ObjectId>,
}

/// The files a translated session became: name → blob.
type Outputs = Vec<(String, ObjectId)>;

enum Phase {
    /// Walking the trees to list the sessions that changed.
    Collect(Vec<Job>),
    /// Writing the trees, with every changed session's translation at hand.
    Build(HashMap<String, Outputs>),
}

/// Translates `jobs`, on several threads when there are enough of them, writing the results
/// into `odb` (from this thread only) as they arrive.
fn run_jobs(
    odb: &Odb<'_>,
    key: &DataKey,
    store_id: &[u8; 16],
    direction: Direction,
    jobs: Vec<Job>,
    work: &mut Work,
) -> Result<HashMap<String, Outputs>, GitStoreError> {
    let mut done = HashMap::with_capacity(jobs.len());
    let mut store = |result: Translated, work: &mut Work| -> Result<(), GitStoreError> {
        let mut outputs = Vec::with_capacity(2);
        match result.files {
            TranslatedFiles::Encrypted { sealed, meta } => {
                outputs.push((format!("{}.enc", result.id), odb.write_sealed(&sealed)?));
                outputs.push((format!("{}.meta.json", result.id), odb.write_blob(&meta)?));
            }
            TranslatedFiles::Decrypted { record } => {
                outputs.push((format!("{}.json", result.id), odb.write_blob(&record)?));
            }
        }
        work.sessions += 1;
        work.bytes += result.bytes;
        done.insert(result.id, outputs);
        Ok(())
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    if workers < 2 || jobs.len() < 16 {
        for job in &jobs {
            store(translate_one(odb, key, store_id, direction, job)?, work)?;
        }
        return Ok(done);
    }
    // Each worker opens the repository itself (gix handles are per thread here).
    let git_dir = odb.repo().git_dir().to_path_buf();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Translated, GitStoreError>>(workers * 2);
    let mut first_error = None;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (git_dir, next, stop, jobs) = (&git_dir, &next, &stop, &jobs);
            scope.spawn(move || {
                let repo = match gix::open_opts(git_dir, super::local::open_options()) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Err(e.into()));
                        return;
                    }
                };
                let odb = Odb::loose(&repo);
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= jobs.len() || stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let result = translate_one(&odb, key, store_id, direction, &jobs[i]);
                    if tx.send(result).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for result in rx {
            let stored = result.and_then(|r| store(r, work));
            if let Err(e) = stored {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                first_error.get_or_insert(e);
            }
        }
    });
    match first_error {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

/// A translated session, before its blobs are written.
struct Translated {
    id: String,
    bytes: u64,
    files: TranslatedFiles,
}

enum TranslatedFiles {
    Encrypted { sealed: Vec<u8>, meta: Vec<u8> },
    Decrypted { record: Vec<u8> },
}

/// Encrypts or decrypts one session (pure work: reads its source blobs, writes nothing).
fn translate_one(
    odb: &Odb<'_>,
    key: &DataKey,
    store_id: &[u8; 16],
    direction: Direction,
    job: &Job,
) -> Result<Translated, GitStoreError> {
    let id = job.id.as_str();
    match direction {
        Direction::Encrypt => {
            let record = read_small_blob(odb, job.blob, crypto::MAX_RECORD)?;
            let meta = meta_of(&record, id)?.to_bytes();
            let sealed = crypto::seal(key, store_id, id, &meta, &record)?;
            Ok(Translated {
                id: job.id.clone(),
                bytes: record.len() as u64,
                files: TranslatedFiles::Encrypted { sealed, meta },
            })
        }
        Direction::Decrypt => {
            let Some(meta) = job.meta else {
                return Err(tampered(id, "its .enc or .meta.json file is missing"));
            };
            // Sizes first (from the objects' headers), then the magic, version and key id,
            // then the rest: a blob lore would refuse is never decrypted.
            let sealed = read_small_blob(odb, job.blob, crypto::MAX_SEALED)?;
            crypto::check_sealed_prefix(&sealed, key, store_id)?;
            let meta = read_small_blob(odb, meta, MAX_META)?;
            let record =
                crypto::open_owned(key, store_id, id, &meta, sealed).map_err(|e| match e {
                    CryptoError::Tampered { .. } => tampered(
                        id,
                        "its encrypted record failed authentication (altered, swapped with \
                     another, or its metadata edited)",
                    ),
                    e => GitStoreError::Crypto(e),
                })?;
            let derived = meta_of(&record, id)?.to_bytes();
            if derived != meta {
                return Err(tampered(id, "its metadata does not match its record"));
            }
            Ok(Translated {
                id: job.id.clone(),
                bytes: record.len() as u64,
                files: TranslatedFiles::Decrypted { record },
            })
        }
    }
}

impl Ctx<'_, '_, '_> {
    /// Translates one folder of `sessions/`: depth 0 is `sessions` itself, 1 a first-level
    /// shard, 2 a leaf holding files.
    fn dir(
        &mut self,
        depth: u8,
        path: &str,
        base_src: Option<ObjectId>,
        src: Option<ObjectId>,
        base_dst: Option<ObjectId>,
    ) -> Result<Option<ObjectId>, GitStoreError> {
        if base_src == src && (src.is_none() || base_dst.is_some()) {
            return Ok(base_dst);
        }
        let Some(src) = src else {
            return Ok(None);
        };
        if depth == 2 {
            return self.leaf(path, base_src, src, base_dst);
        }
        let old = read_level(self.odb, base_src)?;
        let new = read_level(self.odb, Some(src))?;
        let mut out = read_level(self.odb, base_dst)?;
        let names: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for name in names {
            let o = dir_entry(&old, name)?;
            let n = dir_entry(&new, name)?;
            if o == n {
                continue;
            }
            if !is_shard_name(name) {
                return Err(GitStoreError::Malformed {
                    what: "store".into(),
                    why: format!("unexpected folder {SESSIONS_DIR}/{path}{name}"),
                });
            }
            let sub = self.dir(
                depth + 1,
                &format!("{path}{name}/"),
                o,
                n,
                dir_entry(&out, name)?,
            )?;
            set_dir(&mut out, name, sub);
        }
        match self.phase {
            Phase::Collect(_) => Ok(None),
            Phase::Build(_) => write_level(self.odb, &out),
        }
    }

    fn leaf(
        &mut self,
        path: &str,
        base_src: Option<ObjectId>,
        src: ObjectId,
        base_dst: Option<ObjectId>,
    ) -> Result<Option<ObjectId>, GitStoreError> {
        let old = read_level(self.odb, base_src)?;
        let new = read_level(self.odb, Some(src))?;
        let mut out = read_level(self.odb, base_dst)?;
        let old = sessions_in(&old, self.direction, path)?;
        let new = sessions_in(&new, self.direction, path)?;
        let ids: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for id in ids {
            let before = old.get(id);
            let after = new.get(id);
            if before == after {
                continue;
            }
            match &mut self.phase {
                Phase::Collect(jobs) => {
                    if let Some(files) = after {
                        jobs.push(Job {
                            id: id.clone(),
                            blob: files.0,
                            meta: files.1,
                        });
                    }
                }
                Phase::Build(done) => {
                    for name in dst_names(self.direction, id) {
                        out.remove(&name);
                    }
                    if after.is_some() {
                        let outputs = done.remove(id.as_str()).ok_or_else(|| {
                            GitStoreError::Other(format!("session {id} was not translated"))
                        })?;
                        for (name, blob) in outputs {
                            out.insert(name, (EntryKind::Blob, blob));
                        }
                    }
                }
            }
        }
        match self.phase {
            Phase::Collect(_) => Ok(None),
            Phase::Build(_) => write_level(self.odb, &out),
        }
    }
}

fn tampered(id: &str, why: &str) -> GitStoreError {
    GitStoreError::Crypto(CryptoError::Tampered {
        what: format!("session {id} on the remote: {why}"),
    })
}

fn is_shard_name(name: &str) -> bool {
    name.len() == 2
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The files of a translated session, by direction.
fn dst_names(direction: Direction, id: &str) -> Vec<String> {
    match direction {
        Direction::Encrypt => vec![format!("{id}.enc"), format!("{id}.meta.json")],
        Direction::Decrypt => vec![format!("{id}.json")],
    }
}

/// The sessions of a leaf folder: id → (record or `.enc` blob, `.meta.json` blob). Refuses
/// files that do not belong (they could carry anything) and sessions filed under the wrong
/// shard.
fn sessions_in(
    level: &Level,
    direction: Direction,
    path: &str,
) -> Result<std::collections::BTreeMap<String, (ObjectId, Option<ObjectId>)>, GitStoreError> {
    let mut out: std::collections::BTreeMap<String, (ObjectId, Option<ObjectId>)> =
        Default::default();
    let mut metas: Vec<(String, ObjectId)> = Vec::new();
    let unexpected = |name: &str| GitStoreError::Malformed {
        what: "store".into(),
        why: format!("unexpected file {SESSIONS_DIR}/{path}{name}"),
    };
    for (name, (kind, id)) in level {
        if *kind != EntryKind::Blob {
            return Err(unexpected(name));
        }
        let (sid, is_meta) = match direction {
            Direction::Encrypt => (name.strip_suffix(".json"), false),
            Direction::Decrypt => match name.strip_suffix(".meta.json") {
                Some(s) => (Some(s), true),
                None => (name.strip_suffix(".enc"), false),
            },
        };
        let sid = sid
            .filter(|s| valid_id(s))
            .ok_or_else(|| unexpected(name))?;
        let (a, b) = shard(sid);
        if path != format!("{a}/{b}/") {
            return Err(GitStoreError::Malformed {
                what: "store".into(),
                why: format!("session {sid} is filed under {path} instead of {a}/{b}/"),
            });
        }
        if is_meta {
            metas.push((sid.to_owned(), *id));
        } else {
            out.insert(sid.to_owned(), (*id, None));
        }
    }
    for (sid, meta) in metas {
        match out.get_mut(&sid) {
            Some(entry) => entry.1 = Some(meta),
            // A metadata file without its record: a deleted `.enc`.
            None => return Err(tampered(&sid, "its .enc file is missing")),
        }
    }
    Ok(out)
}
