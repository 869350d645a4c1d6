//! lore's local key store: the data key of each store lore has unlocked, one file per store at
//! `<dir>/<store_id>.key` (dir is `LORE_HOME/keys`), so the passphrase is asked once per machine
//! (docs/store-format.md, "The local key file").
//!
//! Keys a store had before a rotation are kept beside its current one as
//! `<store_id>.<key_id>.key`, in the same format: commits sealed before the rotation need them.
//! A key file is JSON, `{"format":1,"store_id":"<32 hex>","key_id":"<32 hex>","key":"<b64 of
//! the 32-byte data key>"}`. The folder is created 0700 and each file written 0600, atomically;
//! a file that other users can read or write is refused.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::{DataKey, parse_hex};

/// Why a key file could not be read, written or removed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file system refused.
    #[error("cannot access the key file {path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file (or the store id naming it) is not what lore writes.
    #[error("{path} is not a valid lore key file: {why}")]
    Malformed {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The file is readable or writable by other users: the key may have leaked, and lore will not
    /// use it until the permissions are fixed.
    #[error(
        "{path} is readable or writable by others (mode {mode:04o}): run chmod 600 {path}",
        path = path.display()
    )]
    Permissions {
        /// The file concerned.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// The format of key files this lore reads and writes.
const FORMAT: u64 = 1;

/// A key file's JSON; zeroized on drop since `key` is the data key.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: u64,
    store_id: String,
    key_id: String,
    key: String,
}

/// The key files of one lore home: `<dir>/<store_id>.key`.
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    /// The key store in `dir` (normally `LORE_HOME/keys`); nothing is created until a save.
    pub fn new(dir: impl Into<PathBuf>) -> KeyStore {
        KeyStore { dir: dir.into() }
    }

    /// Where the key of store `store_id_hex` lives: `<dir>/<store_id_hex>.key`. Does not check
    /// the id; `load`, `save` and `remove` refuse anything but 32 lower-case hex digits.
    pub fn path_for(&self, store_id_hex: &str) -> PathBuf {
        self.dir.join(format!("{store_id_hex}.key"))
    }

    /// The path for a store id that is exactly 32 lower-case hex digits, so it cannot name
    /// anything outside `dir`.
    fn checked_path(&self, store_id_hex: &str) -> Result<PathBuf, KeyError> {
        if parse_hex::<16>(store_id_hex).is_none() {
            return Err(KeyError::Malformed {
                path: self.dir.clone(),
                why: format!(
                    "{:?} is not a store id (32 lower-case hex digits)",
                    store_id_hex.chars().take(64).collect::<String>()
                ),
            });
        }
        Ok(self.path_for(store_id_hex))
    }

    /// The saved data key of store `store_id_hex`; `None` when there is no key file. The caller
    /// still checks the key against the store's header (`StoreHeader::verify_key`).
    pub fn load(&self, store_id_hex: &str) -> Result<Option<DataKey>, KeyError> {
        let path = self.checked_path(store_id_hex)?;
        self.load_path(path, store_id_hex)
    }

    /// A data key of store `store_id_hex` with id `key_id_hex`: the current key when it has
    /// that id, else a key the store had before a rotation (`<store_id>.<key_id>.key`, saved by
    /// [`KeyStore::save_previous`]). Old commits stay sealed under the key of their time.
    pub fn load_id(
        &self,
        store_id_hex: &str,
        key_id_hex: &str,
    ) -> Result<Option<DataKey>, KeyError> {
        if let Some(key) = self.load(store_id_hex)?
            && key.key_id_hex() == key_id_hex
        {
            return Ok(Some(key));
        }
        let path = self.checked_previous_path(store_id_hex, key_id_hex)?;
        Ok(self
            .load_path(path, store_id_hex)?
            .filter(|k| k.key_id_hex() == key_id_hex))
    }

    /// Saves `key`, a key store `store_id_hex` had before a rotation, beside the current one.
    pub fn save_previous(&self, store_id_hex: &str, key: &DataKey) -> Result<PathBuf, KeyError> {
        let path = self.checked_previous_path(store_id_hex, &key.key_id_hex())?;
        self.save_path(path, store_id_hex, key)
    }

    /// `<dir>/<store_id>.<key_id>.key`, both ids checked.
    fn checked_previous_path(
        &self,
        store_id_hex: &str,
        key_id_hex: &str,
    ) -> Result<PathBuf, KeyError> {
        self.checked_path(store_id_hex)?;
        if parse_hex::<16>(key_id_hex).is_none() {
            return Err(KeyError::Malformed {
                path: self.dir.clone(),
                why: "not a key id (32 lower-case hex digits)".into(),
            });
        }
        Ok(self.dir.join(format!("{store_id_hex}.{key_id_hex}.key")))
    }

    fn load_path(&self, path: PathBuf, store_id_hex: &str) -> Result<Option<DataKey>, KeyError> {
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(malformed(&path, "it is not a regular file"));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions { path, mode });
            }
        }
        if meta.len() > 4096 {
            return Err(malformed(&path, "it is larger than a key file can be"));
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(512));
        file.take(4097).read_to_end(&mut bytes).map_err(io)?;
        parse(&path, store_id_hex, &bytes).map(Some)
    }

    /// Saves `key` as the key of store `store_id_hex`, replacing any previous one atomically:
    /// the folder is created 0700 if missing, the file is written 0600 from its creation, synced,
    /// and renamed into place. Returns the file's path.
    pub fn save(&self, store_id_hex: &str, key: &DataKey) -> Result<PathBuf, KeyError> {
        let path = self.checked_path(store_id_hex)?;
        self.save_path(path, store_id_hex, key)
    }

    fn save_path(
        &self,
        path: PathBuf,
        store_id_hex: &str,
        key: &DataKey,
    ) -> Result<PathBuf, KeyError> {
        let dir_io = |source| KeyError::Io {
            path: self.dir.clone(),
            source,
        };
        let mut b = fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&self.dir).map_err(dir_io)?;

        let content = KeyFile {
            format: FORMAT,
            store_id: store_id_hex.to_string(),
            key_id: key.key_id_hex(),
            key: B64.encode(key.master()),
        };
        let mut bytes = Zeroizing::new(
            serde_json::to_vec(&content).map_err(|e| malformed(&path, e.to_string()))?,
        );
        bytes.push(b'\n');

        let tmp = self.dir.join(format!(
            ".{store_id_hex}.{}.key.{}.{}.tmp",
            key.key_id_hex(),
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let written = write_private(&tmp, &bytes)
            .and_then(|()| fs::rename(&tmp, &path))
            .map_err(|source| KeyError::Io {
                path: tmp.clone(),
                source,
            });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        // Make the rename itself durable.
        #[cfg(unix)]
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(dir_io)?;
        Ok(path)
    }

    /// Deletes the key file of store `store_id_hex`; `false` when there was none.
    pub fn remove(&self, store_id_hex: &str) -> Result<bool, KeyError> {
        let path = self.checked_path(store_id_hex)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(source) => Err(KeyError::Io { path, source }),
        }
    }
}

fn malformed(path: &Path, why: impl Into<String>) -> KeyError {
    KeyError::Malformed {
        path: path.to_path_buf(),
        why: why.into(),
    }
}

/// Creates `path` (which must not exist) readable and writable by its owner only, writes
/// `bytes` and syncs them to disk.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts.open(path)?;
    // The umask can only remove bits from 0600; set it exactly anyway.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

/// A key file's bytes, checked: format 1, the expected store id, a key id of 32 hex, a key of
/// 32 bytes.
fn parse(path: &Path, store_id_hex: &str, bytes: &[u8]) -> Result<DataKey, KeyError> {
    #[derive(Deserialize)]
    struct Probe {
        format: u64,
    }
    if let Ok(Probe { format }) = serde_json::from_slice::<Probe>(bytes)
        && format > FORMAT
    {
        return Err(malformed(
            path,
            format!("format {format} is newer than this lore reads ({FORMAT}): upgrade lore"),
        ));
    }
    let file: KeyFile =
        serde_json::from_slice(bytes).map_err(|e| malformed(path, e.to_string()))?;
    if file.format != FORMAT {
        return Err(malformed(
            path,
            format!("format {} is not a format of lore", file.format),
        ));
    }
    if file.store_id != store_id_hex {
        return Err(malformed(
            path,
            format!(
                "it holds the key of store {:?}, not {store_id_hex}",
                file.store_id.chars().take(64).collect::<String>()
            ),
        ));
    }
    let key_id = parse_hex::<16>(&file.key_id)
        .ok_or_else(|| malformed(path, "key_id is not 32 lower-case hex digits"))?;
    let decoded = Zeroizing::new(B64.decode(&file.key).unwrap_or_default());
    let master: Zeroizing<[u8; 32]> = Zeroizing::new(
        decoded
            .as_slice()
            .try_into()
            .map_err(|_| malformed(path, "key is not base64 of 32 bytes"))?,
    );
    Ok(DataKey::from_parts(key_id, &master))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

    const SID: &str = "00112233445566778899aabbccddeeff";

    fn store() -> (tempfile::TempDir, KeyStore) {
        let tmp = tempfile::tempdir().unwrap();
        let ks = KeyStore::new(tmp.path().join("keys"));
        (tmp, ks)
    }

    #[test]
    fn save_load_remove_round_trip() {
        let (_tmp, ks) = store();
        assert!(ks.load(SID).unwrap().is_none());
        let key = DataKey::generate().unwrap();
        let path = ks.save(SID, &key).unwrap();
        assert_eq!(path, ks.path_for(SID));
        assert_eq!(path.file_name().unwrap(), format!("{SID}.key").as_str());
        let loaded = ks.load(SID).unwrap().unwrap();
        assert_eq!(loaded.master(), key.master());
        assert_eq!(loaded.key_id(), key.key_id());
        // The file has exactly the documented shape.
        let v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "format": 1, "store_id": SID, "key_id": key.key_id_hex(),
                "key": B64.encode(key.master()),
            })
        );
        // Saving again replaces the key and leaves no temporary file.
        let key2 = DataKey::generate().unwrap();
        ks.save(SID, &key2).unwrap();
        assert_eq!(ks.load(SID).unwrap().unwrap().master(), key2.master());
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(format!("{SID}.key"))]);
        assert!(ks.remove(SID).unwrap());
        assert!(!ks.remove(SID).unwrap());
        assert!(ks.load(SID).unwrap().is_none());
    }

    #[test]
    fn keys_from_before_a_rotation_are_kept_beside_the_current_one() {
        let (_tmp, ks) = store();
        let old = DataKey::generate().unwrap();
        let current = DataKey::generate().unwrap();
        let path = ks.save_previous(SID, &old).unwrap();
        assert_eq!(
            path.file_name().unwrap().to_str().unwrap(),
            format!("{SID}.{}.key", old.key_id_hex())
        );
        ks.save(SID, &current).unwrap();
        let found = ks.load_id(SID, &old.key_id_hex()).unwrap().unwrap();
        assert_eq!(found.master(), old.master());
        let found = ks.load_id(SID, &current.key_id_hex()).unwrap().unwrap();
        assert_eq!(found.master(), current.master());
        let stranger = DataKey::generate().unwrap();
        assert!(ks.load_id(SID, &stranger.key_id_hex()).unwrap().is_none());
        assert!(ks.load_id(SID, "../../etc/passwd").is_err());
        #[cfg(unix)]
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_0600_in_a_0700_folder_and_a_0644_file_is_refused() {
        let (_tmp, ks) = store();
        let key = DataKey::generate().unwrap();
        let path = ks.save(SID, &key).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        match ks.load(SID) {
            Err(e @ KeyError::Permissions { mode: 0o644, .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("mode 0644"), "{msg}");
                assert!(msg.contains("chmod 600"), "{msg}");
            }
            r => panic!("{r:?}"),
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o620)).unwrap();
        assert!(matches!(ks.load(SID), Err(KeyError::Permissions { .. })));
        // Saving again replaces the loose file with a private one.
        ks.save(SID, &key).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(ks.load(SID).unwrap().is_some());
    }

    #[test]
    fn invalid_store_ids_are_refused_before_any_path_is_used() {
        let (_tmp, ks) = store();
        let key = DataKey::generate().unwrap();
        for bad in [
            "",
            "../../etc/passwd",
            "00112233445566778899AABBCCDDEEFF",
            "00112233445566778899aabbccddeef",
            "00112233445566778899aabbccddeeff0",
            "0011223344556677/899aabbccddeeff",
        ] {
            assert!(
                matches!(ks.load(bad), Err(KeyError::Malformed { .. })),
                "{bad}"
            );
            assert!(
                matches!(ks.save(bad, &key), Err(KeyError::Malformed { .. })),
                "{bad}"
            );
            assert!(
                matches!(ks.remove(bad), Err(KeyError::Malformed { .. })),
                "{bad}"
            );
        }
        assert!(!ks.path_for(SID).parent().unwrap().exists());
    }

    fn write_raw(ks: &KeyStore, content: &str) {
        fs::create_dir_all(&ks.dir).unwrap();
        write_private(&ks.path_for(SID), content.as_bytes())
            .or_else(|_| {
                fs::remove_file(ks.path_for(SID))?;
                write_private(&ks.path_for(SID), content.as_bytes())
            })
            .unwrap();
    }

    #[test]
    fn malformed_key_files_are_refused() {
        let (_tmp, ks) = store();
        let kid = "ffeeddccbbaa99887766554433221100";
        let key = B64.encode([7u8; 32]);
        let other = "0123456789abcdef0123456789abcdef";
        let cases = [
            String::new(),
            "{}".into(),
            "not json".into(),
            format!(r#"{{"format":1,"store_id":"{other}","key_id":"{kid}","key":"{key}"}}"#),
            format!(r#"{{"format":1,"store_id":"{SID}","key_id":"{kid}","key":"{key}","x":1}}"#),
            format!(r#"{{"format":0,"store_id":"{SID}","key_id":"{kid}","key":"{key}"}}"#),
            format!(r#"{{"format":2,"store_id":"{SID}","key_id":"{kid}","key":"{key}"}}"#),
            format!(
                r#"{{"format":1,"store_id":"{SID}","key_id":"{}","key":"{key}"}}"#,
                &kid[1..]
            ),
            format!(
                r#"{{"format":1,"store_id":"{SID}","key_id":"{kid}","key":"{}"}}"#,
                B64.encode([7u8; 31])
            ),
            format!(r#"{{"format":1,"store_id":"{SID}","key_id":"{kid}","key":"!!"}}"#),
            " ".repeat(5000),
        ];
        for content in &cases {
            write_raw(&ks, content);
            assert!(
                matches!(ks.load(SID), Err(KeyError::Malformed { .. })),
                "{content}"
            );
        }
        write_raw(
            &ks,
            &format!(r#"{{"format":1,"store_id":"{SID}","key_id":"{kid}","key":"{key}"}}"#),
        );
        let k = ks.load(SID).unwrap().unwrap();
        assert_eq!(k.key_id_hex(), kid);
        assert_eq!(k.master(), &[7u8; 32]);
    }
}
