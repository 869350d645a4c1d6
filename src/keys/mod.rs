//! lore's local key store: the data key of each store lore has unlocked, so the passphrase is
//! asked once per machine (docs/store-format.md, "The local key file"; docs/sync.md, "Keys").
//!
//! A key is kept in the OS keychain when lore is allowed to use one and one is reachable, else
//! in a 0600 file `<dir>/<store_id>.key` (dir is `LORE_HOME/keys`), which always works. Keys a
//! store had before a rotation are kept beside its current one, as `<store_id>.<key_id>.key`:
//! commits sealed before the rotation need them. A keychain entry holds exactly the bytes the
//! file would, and is named after it (service `lore`, account the file's path), so each lore
//! home keeps its own keys and one parser checks both.
//!
//! Saving writes the keychain and then removes a file of the same name, so a key lives in one
//! place; when the keychain is not reachable, refuses, or may not be used, the key goes to the
//! file instead. Reading therefore looks in the file first (a file beside an entry is the newer
//! copy), then in the keychain.
//!
//! [`EpochBook`] keeps, beside the keys, the newest key epoch this machine has seen of each
//! store, so that a rotation cannot be undone behind its back.

mod epoch;
mod file;
mod keychain;

use std::path::PathBuf;

pub use epoch::EpochBook;
pub use keychain::{Keychain, KeychainError};

use crate::crypto::{DataKey, parse_hex};

/// Why a key could not be read, written or removed.
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
    /// The keychain entry standing in for `path` is not what lore writes.
    #[error(
        "the OS keychain entry for {path} is not a lore key: {why}; delete it, or run 'lore sync setup' again"
    )]
    MalformedEntry {
        /// The key file the entry stands in for (its account name).
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The keychain is there but would not give the key, and there is no key file either.
    #[error(
        "{source}: unlock the keychain and try again, or set LORE_KEYCHAIN=off and run 'lore sync setup' to keep keys in files"
    )]
    Keychain {
        /// What the keychain said.
        source: KeychainError,
    },
}

/// Where a key is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    /// In the OS keychain.
    Keychain,
    /// In this 0600 file.
    File(PathBuf),
}

impl std::fmt::Display for KeyLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyLocation::Keychain => f.write_str("the OS keychain"),
            KeyLocation::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// What a save did.
#[derive(Debug)]
pub struct Saved {
    /// Where the key now is.
    pub location: KeyLocation,
    /// Why the key went to a file although a keychain is reachable (it refused); `None` when
    /// it went to the keychain, or when there is no keychain or lore may not use it.
    pub keychain_refused: Option<KeychainError>,
}

/// The keys of one lore home: in the OS keychain, else in files under `dir`.
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
    keychain: Option<Keychain>,
    /// `dir` made absolute, with the lore home's symbolic links resolved: keychain entries are
    /// named after paths in it, so the name does not change with the working directory.
    account_dir: PathBuf,
}

impl KeyStore {
    /// The key store in `dir` (normally `LORE_HOME/keys`), in files only; nothing is created
    /// until a save.
    pub fn new(dir: impl Into<PathBuf>) -> KeyStore {
        let dir = dir.into();
        KeyStore {
            account_dir: dir.clone(),
            dir,
            keychain: None,
        }
    }

    /// The key store in `dir` that keeps keys in `keychain` when it can, and in files under
    /// `dir` when it cannot.
    pub fn with_keychain(dir: impl Into<PathBuf>, keychain: Keychain) -> KeyStore {
        let dir = dir.into();
        let account_dir = resolve(&dir);
        KeyStore {
            dir,
            keychain: Some(keychain),
            account_dir,
        }
    }

    /// The keychain this store may use, if any.
    pub fn keychain(&self) -> Option<&Keychain> {
        self.keychain.as_ref()
    }

    /// The record of the newest key epoch seen of each store: `stores/` beside the keys'
    /// folder (`LORE_HOME/stores`).
    pub fn epochs(&self) -> EpochBook {
        let home = self.dir.parent().unwrap_or(&self.dir);
        EpochBook::new(home.join("stores"))
    }

    /// Where the key file of store `store_id_hex` lives: `<dir>/<store_id_hex>.key`. Does not
    /// check the id; `load`, `save` and `remove` refuse anything but 32 lower-case hex digits.
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

    /// The saved data key of store `store_id_hex`; `None` when there is none. The caller
    /// still checks the key against the store's header (`StoreHeader::verify_key`).
    pub fn load(&self, store_id_hex: &str) -> Result<Option<DataKey>, KeyError> {
        Ok(self.locate(store_id_hex)?.map(|(key, _)| key))
    }

    /// The saved data key of store `store_id_hex` and where it was found.
    pub fn locate(&self, store_id_hex: &str) -> Result<Option<(DataKey, KeyLocation)>, KeyError> {
        let path = self.checked_path(store_id_hex)?;
        self.read(path, store_id_hex)
    }

    /// A data key of store `store_id_hex` with id `key_id_hex`: the current key when it has
    /// that id, else a key the store had before a rotation (saved by
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
            .read(path, store_id_hex)?
            .map(|(key, _)| key)
            .filter(|k| k.key_id_hex() == key_id_hex))
    }

    /// Saves `key` as the key of store `store_id_hex`, replacing any previous one.
    pub fn save(&self, store_id_hex: &str, key: &DataKey) -> Result<Saved, KeyError> {
        let path = self.checked_path(store_id_hex)?;
        self.write(path, store_id_hex, key)
    }

    /// Saves `key`, a key store `store_id_hex` had before a rotation, beside the current one.
    pub fn save_previous(&self, store_id_hex: &str, key: &DataKey) -> Result<Saved, KeyError> {
        let path = self.checked_previous_path(store_id_hex, &key.key_id_hex())?;
        self.write(path, store_id_hex, key)
    }

    /// Deletes the key of store `store_id_hex` wherever it is; `false` when there was none.
    pub fn remove(&self, store_id_hex: &str) -> Result<bool, KeyError> {
        let path = self.checked_path(store_id_hex)?;
        let mut removed = false;
        if let Some(keychain) = &self.keychain {
            match keychain.delete(&self.account(&path)) {
                Ok(found) => removed |= found,
                Err(KeychainError::Unavailable(_)) => {}
                Err(source) => return Err(KeyError::Keychain { source }),
            }
        }
        removed |= file::remove(&path)?;
        Ok(removed)
    }

    /// The keychain account of the entry standing in for key file `path`: the file's absolute
    /// path, so entries of different lore homes never meet and a user can tell what an entry
    /// is.
    fn account(&self, path: &std::path::Path) -> String {
        let name = path.file_name().unwrap_or_default();
        self.account_dir.join(name).to_string_lossy().into_owned()
    }

    /// The key standing in for the file `path`: the file, else the keychain's entry. A file
    /// beside an entry is the newer copy: a save into the keychain removes the file, so the
    /// file can only have been written since, when the keychain refused or was switched off.
    fn read(
        &self,
        path: PathBuf,
        store_id_hex: &str,
    ) -> Result<Option<(DataKey, KeyLocation)>, KeyError> {
        if let Some(key) = file::read(&path, store_id_hex)? {
            return Ok(Some((key, KeyLocation::File(path))));
        }
        let Some(keychain) = &self.keychain else {
            return Ok(None);
        };
        match keychain.get(&self.account(&path)) {
            Ok(Some(bytes)) => match file::parse(store_id_hex, &bytes) {
                Ok(key) => Ok(Some((key, KeyLocation::Keychain))),
                Err(why) => Err(KeyError::MalformedEntry { path, why }),
            },
            Ok(None) | Err(KeychainError::Unavailable(_)) => Ok(None),
            // The key may well be in the keychain that would not answer: saying "no key"
            // would send the user to set up again for nothing.
            Err(source) => Err(KeyError::Keychain { source }),
        }
    }

    /// Writes the key standing in for the file `path`: into the keychain (and then the file
    /// goes, so the key lives in one place), else into the file.
    fn write(&self, path: PathBuf, store_id_hex: &str, key: &DataKey) -> Result<Saved, KeyError> {
        let mut keychain_refused = None;
        if let Some(keychain) = &self.keychain {
            match keychain.set(&self.account(&path), &file::encode(store_id_hex, key)) {
                Ok(()) => {
                    file::remove(&path)?;
                    return Ok(Saved {
                        location: KeyLocation::Keychain,
                        keychain_refused: None,
                    });
                }
                Err(KeychainError::Unavailable(_)) => {}
                Err(e) => keychain_refused = Some(e),
            }
        }
        file::write(&self.dir, &path, store_id_hex, key)?;
        Ok(Saved {
            location: KeyLocation::File(path),
            keychain_refused,
        })
    }
}

/// `path` made absolute, with the symbolic links of its deepest existing ancestor resolved:
/// the same name whether or not the lore home exists yet (`lore sync setup` may save a key into
/// the keychain before anything creates the home).
fn resolve(path: &std::path::Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut missing = Vec::new();
    let mut at = absolute.as_path();
    loop {
        if let Ok(mut resolved) = std::fs::canonicalize(at) {
            resolved.extend(missing.iter().rev());
            return resolved;
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_owned());
                at = parent;
            }
            _ => return absolute,
        }
    }
}

/// Whether lore may use the OS keychain, from `LORE_KEYCHAIN` (`on`/`off`, also `1`/`0`,
/// `true`/`false`, `yes`/`no`) when it is set and non-empty, else from the `keychain` setting
/// (default on). The binaries call this; the library reads no environment.
pub fn keychain_wanted(env: Option<&str>, setting: Option<bool>) -> Result<bool, String> {
    match env.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(setting.unwrap_or(true)),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "1" | "on" | "true" | "yes" => Ok(true),
            "0" | "off" | "false" | "no" => Ok(false),
            _ => Err(format!(
                "LORE_KEYCHAIN is {v:?}: set it to on or off (or unset it to follow the 'keychain' setting)"
            )),
        },
    }
}

#[cfg(test)]
mod tests;
