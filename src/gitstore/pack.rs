//! Writing many new objects at once as one pack, not thousands of loose files.
//!
//! A store operation (an export, the translation of a push or a fetch) may write tens of
//! thousands of objects. As loose objects that is a file, a rename and a zlib stream each;
//! here they stream into one pack file (version 2, no deltas: ciphertext does not delta) with
//! its version 2 index written beside it, both in-process. Trees and commits written during the
//! operation stay readable from memory, since the translation reads them back.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::object::Kind;

use super::GitStoreError;

/// A pack being written into `objects/pack/`.
pub struct PackWriter {
    dir: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    offset: u64,
    /// (id, offset, crc32) of every entry, in write order.
    entries: Vec<(ObjectId, u64, u32)>,
    ids: HashSet<ObjectId>,
    /// Trees and commits written so far, for reading back.
    small: HashMap<ObjectId, (Kind, Vec<u8>)>,
}

fn io(path: &Path, e: std::io::Error) -> GitStoreError {
    GitStoreError::Other(format!("{}: {e}", path.display()))
}

impl PackWriter {
    /// Starts a pack in `objects_dir/pack`.
    pub fn new(objects_dir: &Path) -> Result<PackWriter, GitStoreError> {
        let dir = objects_dir.join("pack");
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let tmp = dir.join(format!(
            "tmp_lore_{}_{}.pack",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| io(&tmp, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        // The object count is patched in when the pack is finished.
        out.write_all(b"PACK\0\0\0\x02\0\0\0\0")
            .map_err(|e| io(&tmp, e))?;
        Ok(PackWriter {
            dir,
            tmp,
            out: Some(out),
            offset: 12,
            entries: Vec::new(),
            ids: HashSet::new(),
            small: HashMap::new(),
        })
    }

    /// Whether this pack already holds `id`.
    pub fn contains(&self, id: &ObjectId) -> bool {
        self.ids.contains(id)
    }

    /// A tree or commit written into this pack.
    pub fn find_small(&self, id: &ObjectId) -> Option<(Kind, Vec<u8>)> {
        self.small.get(id).cloned()
    }

    /// Appends object `id` (already hashed by the caller) of `kind` with `data`; `compress`
    /// false stores it without compression (ciphertext does not compress). Trees, commits and
    /// blobs added with `keep` stay readable before the pack is finished.
    pub fn add(
        &mut self,
        id: ObjectId,
        kind: Kind,
        data: &[u8],
        compress: bool,
        keep: bool,
    ) -> Result<(), GitStoreError> {
        if !self.ids.insert(id) {
            return Ok(());
        }
        let type_bits: u8 = match kind {
            Kind::Commit => 1,
            Kind::Tree => 2,
            Kind::Blob => 3,
            Kind::Tag => 4,
        };
        let mut header = Vec::with_capacity(10);
        let mut size = data.len() as u64;
        let mut byte = (type_bits << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            header.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        header.push(byte);
        let mut z = flate2::write::ZlibEncoder::new(
            Vec::with_capacity(data.len() / 2 + 64),
            if compress {
                flate2::Compression::fast()
            } else {
                flate2::Compression::none()
            },
        );
        z.write_all(data).map_err(|e| io(&self.tmp, e))?;
        let compressed = z.finish().map_err(|e| io(&self.tmp, e))?;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&header);
        crc.update(&compressed);
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| GitStoreError::Other("pack already finished".into()))?;
        out.write_all(&header)
            .and_then(|_| out.write_all(&compressed))
            .map_err(|e| io(&self.tmp, e))?;
        self.entries.push((id, self.offset, crc.finalize()));
        self.offset += (header.len() + compressed.len()) as u64;
        if kind != Kind::Blob || keep {
            self.small.insert(id, (kind, data.to_vec()));
        }
        Ok(())
    }

    /// Finishes the pack and writes its index; git and gix see the objects from then on.
    /// An empty pack is simply removed.
    pub fn finish(mut self) -> Result<(), GitStoreError> {
        let dir = self.dir.clone();
        let tmp = self.tmp.clone();
        let entries = std::mem::take(&mut self.entries);
        let out = self
            .out
            .take()
            .ok_or_else(|| GitStoreError::Other("pack already finished".into()))?;
        let mut file = out.into_inner().map_err(|e| io(&tmp, e.into_error()))?;
        if entries.is_empty() {
            drop(file);
            let _ = std::fs::remove_file(&tmp);
            return Ok(());
        }
        let count = u32::try_from(entries.len())
            .map_err(|_| GitStoreError::Other("too many objects for one pack".into()))?;
        file.seek(SeekFrom::Start(8)).map_err(|e| io(&tmp, e))?;
        file.write_all(&count.to_be_bytes())
            .map_err(|e| io(&tmp, e))?;
        // The trailer: SHA-1 of everything before it.
        file.seek(SeekFrom::Start(0)).map_err(|e| io(&tmp, e))?;
        let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(|e| io(&tmp, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let checksum = hasher
            .try_finalize()
            .map_err(|e| GitStoreError::Other(format!("pack checksum: {e}")))?;
        file.seek(SeekFrom::End(0)).map_err(|e| io(&tmp, e))?;
        file.write_all(checksum.as_bytes())
            .map_err(|e| io(&tmp, e))?;
        file.sync_all().map_err(|e| io(&tmp, e))?;
        drop(file);

        let name = format!("pack-{checksum}");
        let idx_tmp = dir.join(format!("tmp_{name}.idx"));
        write_index(&idx_tmp, entries, checksum)?;
        // The index goes in last: git looks for packs by their .idx.
        let pack = dir.join(format!("{name}.pack"));
        std::fs::rename(&tmp, &pack).map_err(|e| io(&pack, e))?;
        let idx = dir.join(format!("{name}.idx"));
        std::fs::rename(&idx_tmp, &idx).map_err(|e| io(&idx, e))?;
        Ok(())
    }
}

impl Drop for PackWriter {
    fn drop(&mut self) {
        // Abandoned (an error part way): leave no temporary file behind. After `finish` the
        // file has been renamed and this does nothing.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Writes a version 2 pack index for `entries`.
fn write_index(
    path: &Path,
    mut entries: Vec<(ObjectId, u64, u32)>,
    pack_checksum: ObjectId,
) -> Result<(), GitStoreError> {
    entries.sort_by_key(|e| e.0);
    let mut out = Vec::with_capacity(8 + 1024 + entries.len() * 28 + 40);
    out.extend_from_slice(b"\xfftOc\0\0\0\x02");
    let mut fanout = [0u32; 256];
    for (id, _, _) in &entries {
        fanout[id.as_bytes()[0] as usize] += 1;
    }
    let mut total = 0u32;
    for slot in fanout {
        total += slot;
        out.extend_from_slice(&total.to_be_bytes());
    }
    for (id, _, _) in &entries {
        out.extend_from_slice(id.as_bytes());
    }
    for (_, _, crc) in &entries {
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut large = Vec::new();
    for (_, offset, _) in &entries {
        if *offset < 0x8000_0000 {
            out.extend_from_slice(&(*offset as u32).to_be_bytes());
        } else {
            let index = 0x8000_0000u32 | large.len() as u32;
            out.extend_from_slice(&index.to_be_bytes());
            large.push(*offset);
        }
    }
    for offset in large {
        out.extend_from_slice(&offset.to_be_bytes());
    }
    out.extend_from_slice(pack_checksum.as_bytes());
    let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
    hasher.update(&out);
    let own = hasher
        .try_finalize()
        .map_err(|e| GitStoreError::Other(format!("index checksum: {e}")))?;
    out.extend_from_slice(own.as_bytes());
    let mut file = File::create(path).map_err(|e| io(path, e))?;
    file.write_all(&out).map_err(|e| io(path, e))?;
    file.sync_all().map_err(|e| io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tree::Odb;
    use gix::object::Kind;

    #[test]
    fn git_reads_the_pack_and_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap()
        };
        assert!(git(&["init", "-q", "--bare", "."]).status.success());
        let repo = gix::open(dir.path()).unwrap();
        let odb = Odb::packed(&repo).unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let a = odb.write_blob(b"hello\n").unwrap();
        let b = odb.write_sealed(&big).unwrap();
        // Written twice, stored once; trees read back before the pack is finished.
        assert_eq!(odb.write_blob(b"hello\n").unwrap(), a);
        let mut tree = Vec::new();
        tree.extend_from_slice(b"100644 a\0");
        tree.extend_from_slice(a.as_bytes());
        tree.extend_from_slice(b"100644 b\0");
        tree.extend_from_slice(b.as_bytes());
        let t = odb.write(Kind::Tree, &tree).unwrap();
        assert_eq!(odb.find(t).unwrap().1, tree);
        odb.finish().unwrap();
        let fsck = git(&["fsck", "--full", "--strict", "--no-dangling"]);
        assert!(
            fsck.status.success(),
            "{}",
            String::from_utf8_lossy(&fsck.stderr)
        );
        let shown = git(&["cat-file", "-p", &a.to_string()]);
        assert_eq!(shown.stdout, b"hello\n");
        let shown = git(&["cat-file", "blob", &b.to_string()]);
        assert_eq!(shown.stdout, big);
        let packs = std::fs::read_dir(dir.path().join("objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect::<Vec<_>>();
        assert_eq!(packs.len(), 2, "{packs:?}"); // one .pack, one .idx, no temporary file
    }
}
