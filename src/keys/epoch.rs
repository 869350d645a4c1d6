//! What this machine has seen of each store's keys: the highest key epoch and its key id
//! (docs/store-format.md, "Key epochs on each machine"), in `LORE_HOME/stores/<store_id>.json`.
//!
//! A fetch refuses anything sealed under an older epoch than recorded here, so a host (or a
//! former member who kept an old key) cannot undo a rotation for a machine that has seen it.
//! The record only ever goes up. It holds no secret, but it is written like a key file (0600,
//! atomically, in a 0700 folder) so that nobody else can lower it. A record that cannot be read
//! is an error, never "no record": that would let an attacker reset it by spoiling the file.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::KeyError;
use crate::crypto::{hex, parse_hex};

/// The largest record lore reads; a real one is about 120 bytes.
const MAX_LEN: usize = 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    format: u64,
    store_id: String,
    epoch: u64,
    key_id: String,
}

/// The records of one lore home, in `dir` (normally `LORE_HOME/stores`).
#[derive(Debug, Clone)]
pub struct EpochBook {
    dir: PathBuf,
}

impl EpochBook {
    /// The records in `dir`; nothing is created until one is raised.
    pub fn new(dir: impl Into<PathBuf>) -> EpochBook {
        EpochBook { dir: dir.into() }
    }

    fn path(&self, store_id_hex: &str) -> Result<PathBuf, KeyError> {
        if parse_hex::<16>(store_id_hex).is_none() {
            return Err(KeyError::Malformed {
                path: self.dir.clone(),
                why: "not a store id (32 lower-case hex digits)".into(),
            });
        }
        Ok(self.dir.join(format!("{store_id_hex}.json")))
    }

    /// The highest epoch recorded for store `store_id_hex`, with its key id; `None` when this
    /// machine has never seen the store in format 2.
    pub fn get(&self, store_id_hex: &str) -> Result<Option<(u64, [u8; 16])>, KeyError> {
        let path = self.path(store_id_hex)?;
        let bytes = match read_limited(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(KeyError::Io { path, source }),
        };
        let bad = |why: &str| KeyError::Malformed {
            path: path.clone(),
            why: format!(
                "{why}; it records the newest key this machine has seen of the store: restore it, or delete it and run 'lore sync' to record the store's current key again"
            ),
        };
        let r: Record =
            serde_json::from_slice(&bytes).map_err(|_| bad("not a lore epoch record"))?;
        let key_id = parse_hex::<16>(&r.key_id).ok_or_else(|| bad("its key id is not 32 hex"))?;
        if r.format != 1 || r.store_id != store_id_hex || r.epoch == 0 {
            return Err(bad("it is not a format-1 record of this store"));
        }
        Ok(Some((r.epoch, key_id)))
    }

    /// Records that store `store_id_hex` has reached `epoch` with key `key_id`, unless a
    /// higher epoch is recorded already. Returns whether the record changed.
    pub fn raise(
        &self,
        store_id_hex: &str,
        epoch: u64,
        key_id: [u8; 16],
    ) -> Result<bool, KeyError> {
        if let Some((seen, seen_key)) = self.get(store_id_hex)?
            && (seen > epoch || (seen == epoch && seen_key == key_id))
        {
            return Ok(false);
        }
        let path = self.path(store_id_hex)?;
        let record = Record {
            format: 1,
            store_id: store_id_hex.to_owned(),
            epoch,
            key_id: hex(&key_id),
        };
        let mut bytes = serde_json::to_vec(&record).unwrap_or_default();
        bytes.push(b'\n');
        write_atomic(&self.dir, &path, &bytes)?;
        Ok(true)
    }
}

fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(MAX_LEN as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_LEN {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            "larger than an epoch record can be",
        ));
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` through a 0600 temporary file in `dir` (created 0700) and a rename.
fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyError::Io { path, source }
    };
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(io(dir))?;
    let tmp = dir.join(format!(
        ".epoch.{}.{}.tmp",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let written = super::file::write_private(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(KeyError::Io {
            path: path.to_path_buf(),
            source: e,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_goes_up_and_refuses_a_spoiled_record() {
        let dir = tempfile::tempdir().unwrap();
        let book = EpochBook::new(dir.path().join("stores"));
        let sid = "ab".repeat(16);
        assert_eq!(book.get(&sid).unwrap(), None);
        assert!(book.raise(&sid, 2, [2; 16]).unwrap());
        assert!(!book.raise(&sid, 1, [1; 16]).unwrap());
        assert!(!book.raise(&sid, 2, [2; 16]).unwrap());
        assert_eq!(book.get(&sid).unwrap(), Some((2, [2; 16])));
        assert!(book.raise(&sid, 3, [3; 16]).unwrap());
        assert_eq!(book.get(&sid).unwrap(), Some((3, [3; 16])));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(book.path(&sid).unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(book.path(&sid).unwrap(), b"{}").unwrap();
        assert!(book.get(&sid).is_err());
        assert!(book.raise(&sid, 9, [9; 16]).is_err());
        assert!(book.get("../x").is_err());
    }
}
