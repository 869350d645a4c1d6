//! Translating store commits between the plaintext and the ciphertext shape, one for one.
//!
//! A plaintext commit becomes a ciphertext commit with the ciphertext of its tree, its parents
//! mapped the same way, and its author, committer, dates and message byte for byte; decrypting
//! gives the plaintext commit back, byte for byte. Trees are translated against the commit's
//! first parent, whose translation is already known: only the folders that differ are read, and
//! only the sessions that changed are encrypted or decrypted. With a synthetic nonce the result
//! depends on nothing but the key and the content, so every machine derives the same ids.

use std::collections::HashMap;

use gix::ObjectId;

use super::local::{dir_entry, set_dir};
use super::record::meta_of;
use super::tree::{EntryKind, Level, Odb, RawCommit, read_blob, read_level, write_level};
use super::{GitStoreError, HEADER_FILE, SESSIONS_DIR, shard, valid_id};
use crate::crypto::{self, CryptoError, DataKey, StoreHeader};

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

/// Translates commit `src` whose parents are already translated (`map` gives a parent's
/// translation). Returns the translated commit's id.
pub fn translate_commit(
    odb: &Odb<'_>,
    keys: &mut Keys<'_>,
    direction: Direction,
    src: ObjectId,
    mut map: impl FnMut(ObjectId) -> Result<Option<ObjectId>, GitStoreError>,
    work: &mut Work,
) -> Result<ObjectId, GitStoreError> {
    let commit = RawCommit::read(odb, src)?;
    let mut parents = Vec::with_capacity(commit.parents.len());
    for p in &commit.parents {
        parents.push(map(*p)?.ok_or_else(|| {
            GitStoreError::Other(format!("parent {p} of {src} has not been translated"))
        })?);
    }
    let (base_src, base_dst) = match (commit.parents.first(), parents.first()) {
        (Some(ps), Some(pd)) => (
            Some(RawCommit::read(odb, *ps)?.tree),
            Some(RawCommit::read(odb, *pd)?.tree),
        ),
        _ => (None, None),
    };
    let tree = translate_tree(odb, keys, direction, base_src, base_dst, commit.tree, work)?;
    RawCommit {
        tree,
        parents,
        rest: commit.rest,
    }
    .write(odb)
}

/// Translates tree `src`, given the translation `base_dst` of a related tree `base_src`
/// (usually the parent commit's).
pub fn translate_tree(
    odb: &Odb<'_>,
    keys: &mut Keys<'_>,
    direction: Direction,
    base_src: Option<ObjectId>,
    base_dst: Option<ObjectId>,
    src: ObjectId,
    work: &mut Work,
) -> Result<ObjectId, GitStoreError> {
    let root = read_level(odb, Some(src))?;
    for (name, (kind, _)) in &root {
        let allowed = (name == HEADER_FILE && *kind == EntryKind::Blob)
            || (name == SESSIONS_DIR && *kind == EntryKind::Tree);
        if !allowed {
            return Err(GitStoreError::Malformed {
                what: "store".into(),
                why: format!("unexpected entry {name:?} at the top of the tree"),
            });
        }
    }
    let header_blob = match root.get(HEADER_FILE) {
        Some((_, id)) => *id,
        None => return Err(GitStoreError::NoHeader),
    };
    let header = StoreHeader::parse(&read_blob(odb, header_blob)?)?;
    let key = keys.key_for(&header)?;
    let store_id = header.store_id();

    // A new header (a rotated key) means every session is translated afresh.
    let base_root = read_level(odb, base_src)?;
    let (base_src_sessions, base_dst_sessions) = match base_root.get(HEADER_FILE) {
        Some((_, id)) if *id == header_blob => {
            let base_dst_root = read_level(odb, base_dst)?;
            (
                dir_entry(&base_root, SESSIONS_DIR)?,
                dir_entry(&base_dst_root, SESSIONS_DIR)?,
            )
        }
        _ => (None, None),
    };
    // Three passes: find the sessions that changed, translate them (in parallel), then write
    // the trees around the results.
    let mut ctx = Ctx {
        odb,
        direction,
        work,
        phase: Phase::Collect(Vec::new()),
    };
    let src_sessions = dir_entry(&root, SESSIONS_DIR)?;
    ctx.dir(0, "", base_src_sessions, src_sessions, base_dst_sessions)?;
    let Phase::Collect(jobs) = std::mem::replace(&mut ctx.phase, Phase::Build(HashMap::new()))
    else {
        return Err(GitStoreError::Other("translation out of order".into()));
    };
    let done = run_jobs(odb, key, &store_id, direction, jobs, ctx.work)?;
    ctx.phase = Phase::Build(done);
    let sessions = ctx.dir(0, "", base_src_sessions, src_sessions, base_dst_sessions)?;
    let mut out = Level::new();
    out.insert(HEADER_FILE.to_owned(), (EntryKind::Blob, header_blob));
    set_dir(&mut out, SESSIONS_DIR, sessions);
    write_level(odb, &out)?.ok_or_else(|| GitStoreError::Other("empty tree".into()))
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
            let record = read_blob(odb, job.blob)?;
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
            let sealed = read_blob(odb, job.blob)?;
            let meta = read_blob(odb, meta)?;
            let record = crypto::open(key, store_id, id, &meta, &sealed).map_err(|e| match e {
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
