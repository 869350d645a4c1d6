//! Translating store commits between the plaintext and the ciphertext shape, one for one.
//!
//! A plaintext commit becomes a ciphertext commit with the ciphertext of its tree, its parents
//! mapped the same way, and its author, committer, dates and message byte for byte; decrypting
//! gives the plaintext commit back, byte for byte. Trees are translated against the commit's
//! first parent, whose translation is already known: only the folders that differ are read, and
//! only the sessions that changed are encrypted or decrypted. With a synthetic nonce the result
//! depends on nothing but the key and the content, so every machine derives the same ids.

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
    let mut ctx = Ctx {
        odb,
        key,
        store_id,
        direction,
        work,
    };
    let sessions = ctx.dir(
        0,
        "",
        base_src_sessions,
        dir_entry(&root, SESSIONS_DIR)?,
        base_dst_sessions,
    )?;
    let mut out = Level::new();
    out.insert(HEADER_FILE.to_owned(), (EntryKind::Blob, header_blob));
    set_dir(&mut out, SESSIONS_DIR, sessions);
    write_level(odb, &out)?.ok_or_else(|| GitStoreError::Other("empty tree".into()))
}

struct Ctx<'o, 'r, 'k, 'w> {
    odb: &'o Odb<'r>,
    key: &'k DataKey,
    store_id: [u8; 16],
    direction: Direction,
    work: &'w mut Work,
}

impl Ctx<'_, '_, '_, '_> {
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
        write_level(self.odb, &out)
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
            for name in dst_names(self.direction, id) {
                out.remove(&name);
            }
            let Some(files) = after else { continue };
            match self.direction {
                Direction::Encrypt => {
                    let record = read_blob(self.odb, files.0)?;
                    let meta = meta_of(&record, id)?.to_bytes();
                    let sealed = crypto::seal(self.key, &self.store_id, id, &meta, &record)?;
                    let enc = self.odb.write_sealed(&sealed)?;
                    let meta = self.odb.write_blob(&meta)?;
                    out.insert(format!("{id}.enc"), (EntryKind::Blob, enc));
                    out.insert(format!("{id}.meta.json"), (EntryKind::Blob, meta));
                    self.work.bytes += record.len() as u64;
                }
                Direction::Decrypt => {
                    let (Some(enc), Some(meta)) = (Some(files.0), files.1) else {
                        return Err(tampered(id, "its .enc or .meta.json file is missing"));
                    };
                    let sealed = read_blob(self.odb, enc)?;
                    let meta = read_blob(self.odb, meta)?;
                    let record = crypto::open(self.key, &self.store_id, id, &meta, &sealed)
                        .map_err(|e| match e {
                            CryptoError::Tampered { .. } => tampered(
                                id,
                                "its encrypted record failed authentication (altered, swapped \
                                 with another, or its metadata edited)",
                            ),
                            e => GitStoreError::Crypto(e),
                        })?;
                    let derived = meta_of(&record, id)?.to_bytes();
                    if derived != meta {
                        return Err(tampered(id, "its metadata does not match its record"));
                    }
                    let blob = self.odb.write_blob(&record)?;
                    out.insert(format!("{id}.json"), (EntryKind::Blob, blob));
                    self.work.bytes += record.len() as u64;
                }
            }
            self.work.sessions += 1;
        }
        write_level(self.odb, &out)
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
