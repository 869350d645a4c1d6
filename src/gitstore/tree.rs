//! Reading and writing the raw tree and commit objects of a session store.
//!
//! The store's trees have a fixed shape (a header, then `sessions/<h0h1>/<h2h3>/<files>`), so
//! lore reads and writes them level by level: a tree is parsed into a sorted map of at most a
//! few hundred entries, edited, and written back. Nothing holds more than one level at a time,
//! and no object above [`MAX_OBJECT`] bytes is read (its size is checked first).

use std::cell::RefCell;
use std::collections::BTreeMap;

use gix::ObjectId;
use gix::object::Kind;
use gix::objs::Write as _;

use super::GitStoreError;
use super::pack::PackWriter;

/// The largest object lore reads from a store: the `.enc` of the largest record
/// (docs/store-format.md, "The encrypted record"). Trees, commits and every other blob are far
/// smaller; whatever a remote serves, no read holds more than this.
pub const MAX_OBJECT: usize = crate::crypto::MAX_SEALED;

/// Where a store operation reads and writes objects: the repository, and for operations that
/// write many objects a pack being written ([`Odb::packed`]), finished with [`Odb::finish`].
pub struct Odb<'r> {
    repo: &'r gix::Repository,
    pack: Option<RefCell<PackWriter>>,
}

impl<'r> Odb<'r> {
    /// Objects written one by one, as loose objects.
    pub fn loose(repo: &'r gix::Repository) -> Odb<'r> {
        Odb { repo, pack: None }
    }

    /// Objects written into one new pack; nothing is visible to git until [`Odb::finish`].
    pub fn packed(repo: &'r gix::Repository) -> Result<Odb<'r>, GitStoreError> {
        let pack = PackWriter::new(&repo.common_dir().join("objects"))?;
        Ok(Odb {
            repo,
            pack: Some(RefCell::new(pack)),
        })
    }

    /// The repository.
    pub fn repo(&self) -> &'r gix::Repository {
        self.repo
    }

    /// Finishes the pack, if there is one.
    pub fn finish(self) -> Result<(), GitStoreError> {
        match self.pack {
            Some(p) => p.into_inner().finish(),
            None => Ok(()),
        }
    }

    /// Reads object `id`: its kind and bytes. At most [`MAX_OBJECT`] bytes.
    pub fn find(&self, id: ObjectId) -> Result<(Kind, Vec<u8>), GitStoreError> {
        self.find_capped(id, MAX_OBJECT)
    }

    /// Reads object `id` if it is at most `max` bytes: its size is read from the object's
    /// header first, so a larger object is refused without being inflated into memory.
    pub fn find_capped(&self, id: ObjectId, max: usize) -> Result<(Kind, Vec<u8>), GitStoreError> {
        if let Some(pack) = &self.pack
            && let Some(found) = pack.borrow().find_small(&id)
        {
            return Ok(found);
        }
        let header = self
            .repo
            .find_header(id)
            .map_err(|e| GitStoreError::Git(e.to_string()))?;
        if header.size() > u64::try_from(max).unwrap_or(u64::MAX) {
            return Err(GitStoreError::Malformed {
                what: "store".into(),
                why: format!(
                    "{} {id} is {} bytes, above its limit of {max}",
                    header.kind(),
                    header.size()
                ),
            });
        }
        let object = self.repo.find_object(id)?;
        let kind = object.kind;
        Ok((kind, object.detach().data))
    }

    /// Writes an object given its raw bytes, skipping it when it exists already.
    pub fn write(&self, kind: Kind, data: &[u8]) -> Result<ObjectId, GitStoreError> {
        self.write_with(kind, data, true, false)
    }

    /// Writes a blob of ciphertext: into a pack, without compression.
    pub fn write_sealed(&self, data: &[u8]) -> Result<ObjectId, GitStoreError> {
        self.write_with(Kind::Blob, data, false, false)
    }

    /// Writes a small blob (a manifest) that stays readable before the pack is finished.
    pub fn write_kept(&self, data: &[u8]) -> Result<ObjectId, GitStoreError> {
        self.write_with(Kind::Blob, data, false, true)
    }

    fn write_with(
        &self,
        kind: Kind,
        data: &[u8],
        compress: bool,
        keep: bool,
    ) -> Result<ObjectId, GitStoreError> {
        let id = gix::objs::compute_hash(self.repo.object_hash(), kind, data)
            .map_err(|e| GitStoreError::Git(e.to_string()))?;
        match &self.pack {
            Some(pack) => {
                if !pack.borrow().contains(&id) && !self.repo.has_object(id) {
                    pack.borrow_mut().add(id, kind, data, compress, keep)?;
                }
            }
            None => {
                if !self.repo.has_object(id) {
                    self.repo
                        .objects
                        .write_buf(kind, data)
                        .map_err(|e| GitStoreError::Git(e.to_string()))?;
                }
            }
        }
        Ok(id)
    }

    /// Writes a blob.
    pub fn write_blob(&self, data: &[u8]) -> Result<ObjectId, GitStoreError> {
        self.write(Kind::Blob, data)
    }
}

/// What a tree entry points at. The store has nothing but plain files and folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Blob,
    Tree,
}

/// One level of a tree: entry name → (kind, object id), in name order.
pub type Level = BTreeMap<String, (EntryKind, ObjectId)>;

/// Parses the raw bytes of a tree object. Executable files, symlinks, submodules and names
/// that are not UTF-8 are refused: none of them belongs in a session store.
pub fn parse_tree(data: &[u8]) -> Result<Level, GitStoreError> {
    let bad = |why: &str| GitStoreError::Malformed {
        what: "tree".into(),
        why: why.into(),
    };
    let mut level = Level::new();
    let mut rest = data;
    while !rest.is_empty() {
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| bad("entry without a mode"))?;
        let mode = &rest[..space];
        rest = &rest[space + 1..];
        let nul = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| bad("entry without a name"))?;
        let name = std::str::from_utf8(&rest[..nul]).map_err(|_| bad("a name is not UTF-8"))?;
        rest = &rest[nul + 1..];
        if rest.len() < 20 {
            return Err(bad("truncated object id"));
        }
        let oid = ObjectId::from_bytes_or_panic(&rest[..20]);
        rest = &rest[20..];
        let kind = match mode {
            b"100644" => EntryKind::Blob,
            b"40000" | b"040000" => EntryKind::Tree,
            _ => {
                return Err(GitStoreError::Malformed {
                    what: "tree".into(),
                    why: format!(
                        "{name} has mode {}; a store holds only plain files and folders",
                        String::from_utf8_lossy(mode)
                    ),
                });
            }
        };
        if level.insert(name.to_owned(), (kind, oid)).is_some() {
            return Err(bad("a name appears twice"));
        }
    }
    Ok(level)
}

/// Reads the tree `id` (the empty level for `None`).
pub fn read_level(odb: &Odb<'_>, id: Option<ObjectId>) -> Result<Level, GitStoreError> {
    let Some(id) = id else {
        return Ok(Level::new());
    };
    let (kind, data) = odb.find(id)?;
    if kind != Kind::Tree {
        return Err(GitStoreError::Malformed {
            what: "tree".into(),
            why: format!("{id} is a {kind}, not a tree"),
        });
    }
    parse_tree(&data)
}

/// Writes `level` as a tree object; `None` when it is empty (git keeps no empty folders).
pub fn write_level(odb: &Odb<'_>, level: &Level) -> Result<Option<ObjectId>, GitStoreError> {
    if level.is_empty() {
        return Ok(None);
    }
    // Git orders entries by name, a folder's name compared as if it ended in '/'.
    let mut entries: Vec<(&String, &(EntryKind, ObjectId))> = level.iter().collect();
    entries.sort_by_key(|(name, (kind, _))| sort_key(name, *kind));
    let mut data = Vec::with_capacity(entries.len() * 64);
    for (name, (kind, oid)) in entries {
        data.extend_from_slice(match kind {
            EntryKind::Blob => b"100644 ",
            EntryKind::Tree => b"40000 ",
        });
        data.extend_from_slice(name.as_bytes());
        data.push(0);
        data.extend_from_slice(oid.as_bytes());
    }
    Ok(Some(odb.write(Kind::Tree, &data)?))
}

fn sort_key(name: &str, kind: EntryKind) -> Vec<u8> {
    let mut k = name.as_bytes().to_vec();
    if kind == EntryKind::Tree {
        k.push(b'/');
    }
    k
}

/// Reads blob `id`.
pub fn read_blob(odb: &Odb<'_>, id: ObjectId) -> Result<Vec<u8>, GitStoreError> {
    read_blob_capped(odb, id, MAX_OBJECT)
}

/// Reads blob `id` if it is at most `max` bytes (checked before the blob is read).
pub fn read_blob_capped(odb: &Odb<'_>, id: ObjectId, max: usize) -> Result<Vec<u8>, GitStoreError> {
    let (kind, data) = odb.find_capped(id, max)?;
    if kind != Kind::Blob {
        return Err(GitStoreError::Malformed {
            what: "store".into(),
            why: format!("{id} is a {kind}, not a file"),
        });
    }
    Ok(data)
}

/// The parts of a raw commit lore rewrites: its tree and parents; everything after them
/// (author, committer, other headers, message) is kept byte for byte in `rest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCommit {
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    pub rest: Vec<u8>,
}

impl RawCommit {
    /// Splits the raw bytes of a commit object.
    pub fn parse(data: &[u8]) -> Result<RawCommit, GitStoreError> {
        let bad = |why: &str| GitStoreError::Malformed {
            what: "commit".into(),
            why: why.into(),
        };
        let mut rest = data;
        let mut line = |prefix: &[u8]| -> Option<ObjectId> {
            let hex_len = 40;
            if rest.len() > prefix.len() + hex_len
                && rest.starts_with(prefix)
                && rest[prefix.len() + hex_len] == b'\n'
            {
                let hex = &rest[prefix.len()..prefix.len() + hex_len];
                let id = ObjectId::from_hex(hex).ok()?;
                rest = &rest[prefix.len() + hex_len + 1..];
                Some(id)
            } else {
                None
            }
        };
        let tree = line(b"tree ").ok_or_else(|| bad("no tree line"))?;
        let mut parents = Vec::new();
        while let Some(p) = line(b"parent ") {
            parents.push(p);
        }
        Ok(RawCommit {
            tree,
            parents,
            rest: rest.to_vec(),
        })
    }

    /// The raw bytes of this commit.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.rest.len() + 48 * (1 + self.parents.len()));
        out.extend_from_slice(format!("tree {}\n", self.tree).as_bytes());
        for p in &self.parents {
            out.extend_from_slice(format!("parent {p}\n").as_bytes());
        }
        out.extend_from_slice(&self.rest);
        out
    }

    /// Reads commit `id`.
    pub fn read(odb: &Odb<'_>, id: ObjectId) -> Result<RawCommit, GitStoreError> {
        let (kind, data) = odb.find(id)?;
        if kind != Kind::Commit {
            return Err(GitStoreError::Malformed {
                what: "store".into(),
                why: format!("{id} is a {kind}, not a commit"),
            });
        }
        RawCommit::parse(&data)
    }

    /// Writes this commit and returns its id.
    pub fn write(&self, odb: &Odb<'_>) -> Result<ObjectId, GitStoreError> {
        odb.write(Kind::Commit, &self.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_split_and_join_byte_for_byte() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\nauthor a <a> 1 +0000\ncommitter a <a> 1 +0000\n\nmsg\n";
        let c = RawCommit::parse(raw).unwrap();
        assert_eq!(c.parents.len(), 1);
        assert_eq!(c.to_bytes(), raw.to_vec());
        assert!(RawCommit::parse(b"garbage").is_err());
    }

    #[test]
    fn odd_trees_are_refused_not_panicked_on() {
        assert!(parse_tree(b"100644 a").is_err());
        assert!(parse_tree(b"100755 a\0aaaaaaaaaaaaaaaaaaaa").is_err());
        assert!(parse_tree(b"100644 a\0short").is_err());
        let ok = parse_tree(b"100644 a\0aaaaaaaaaaaaaaaaaaaa").unwrap();
        assert_eq!(ok.len(), 1);
    }
}
