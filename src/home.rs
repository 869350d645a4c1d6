//! `LORE_HOME`: where lore keeps `lore.db`, `config.toml`, `machine-id` and `machine-secret`
//! (the local secret from which each store's own machine id is derived, docs/store-format.md
//! "The metadata").
//!
//! The home holds the unredacted archive of every session, so it is private: created 0700,
//! `lore.db` (and SQLite's `-wal` and `-shm` beside it) created 0600. A home or file that
//! group or others can reach is tightened by [`Home::tighten`], which says what it changed;
//! printing that is the CLI's job. Spec: docs/redaction.md ("Local files").

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::db::{Db, DbError};

/// Errors about the home folder itself.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    #[error("cannot tell where LORE_HOME is: neither LORE_HOME nor HOME is set")]
    NoHome,
    #[error("cannot create {path}: {source}; point LORE_HOME at a writable folder")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} does not hold a machine id (expected a UUID); delete it and lore makes a new one"
    )]
    BadMachineId { path: PathBuf },
    #[error(
        "{path} does not hold a machine secret (expected 64 lower-case hex digits); delete it \
         and lore makes a new one (your sessions then show a new machine id in each store)"
    )]
    BadMachineSecret { path: PathBuf },
    #[error(
        "{path} can be read by group or others (mode {mode:o}): it is a secret; run \
         'chmod 600 {path}'"
    )]
    LooseMachineSecret { path: PathBuf, mode: u32 },
    #[error(
        "cannot make {path} private (chmod {mode:o}): {source}; it holds your unredacted \
         sessions: fix its owner or permissions"
    )]
    Tighten {
        path: PathBuf,
        mode: u32,
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A home folder or file whose permissions [`Home::tighten`] narrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tightened {
    pub path: PathBuf,
    /// Its permission bits before (`0o755`, say).
    pub was: u32,
    /// Its permission bits now (`0o700` or `0o600`).
    pub now: u32,
}

/// The lore home folder.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// The home at `root` (nothing is created yet).
    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    /// `$LORE_HOME`, else `$HOME/.lore`; the caller passes the two variables.
    pub fn locate(lore_home: Option<PathBuf>, home: Option<PathBuf>) -> Result<Home, HomeError> {
        match (lore_home, home) {
            (Some(p), _) if !p.as_os_str().is_empty() => Ok(Home::new(p)),
            (_, Some(h)) if !h.as_os_str().is_empty() => Ok(Home::new(h.join(".lore"))),
            _ => Err(HomeError::NoHome),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join("lore.db")
    }

    /// The key store's folder: one 0600 file per sync key kept out of the keychain (see
    /// `crate::keys`).
    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// This home's sync keys: in the OS keychain when `keychain` is true and one is reachable,
    /// else in files under [`Home::keys_dir`]. See [`crate::keys::keychain_wanted`].
    pub fn key_store(&self, keychain: bool) -> crate::keys::KeyStore {
        if keychain {
            crate::keys::KeyStore::with_keychain(self.keys_dir(), crate::keys::Keychain::system())
        } else {
            crate::keys::KeyStore::new(self.keys_dir())
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    pub fn machine_id_path(&self) -> PathBuf {
        self.root.join("machine-id")
    }

    /// Creates the folder (mode 0700: it holds private transcripts) if it does not exist.
    pub fn ensure(&self) -> Result<(), HomeError> {
        if self.root.is_dir() {
            return Ok(());
        }
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&self.root).map_err(|source| HomeError::Create {
            path: self.root.clone(),
            source,
        })
    }

    /// Opens `lore.db` for writing, creating home and database as needed. A new database is
    /// created 0600 before SQLite opens it, so its `-wal` and `-shm` (which SQLite creates
    /// with the database's mode) are 0600 too.
    pub fn open_db(&self) -> Result<Db, HomeError> {
        self.ensure()?;
        let path = self.db_path();
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(HomeError::Create { path, source }),
            }
        }
        Ok(Db::open(&path)?)
    }

    /// What must stay private, with the mode it should have: the home itself (0700), and
    /// `lore.db`, its `-wal` and `-shm`, `machine-id` and `machine-secret` (0600). (`config.toml` holds
    /// settings, not sessions.)
    fn private_paths(&self) -> Vec<(PathBuf, u32)> {
        let mut v = vec![(self.root.clone(), 0o700)];
        for name in [
            "lore.db",
            "lore.db-wal",
            "lore.db-shm",
            "machine-id",
            "machine-secret",
        ] {
            v.push((self.root.join(name), 0o600));
        }
        v
    }

    /// The home's folder and files that group or others can reach, with their permission
    /// bits. Nothing (an empty list) when the home does not exist yet. Links are not followed,
    /// except the home itself.
    pub fn loose(&self) -> Result<Vec<(PathBuf, u32)>, HomeError> {
        let mut out = Vec::new();
        #[cfg(unix)]
        for (i, (path, _)) in self.private_paths().into_iter().enumerate() {
            use std::os::unix::fs::PermissionsExt;
            let meta = if i == 0 {
                std::fs::metadata(&path)
            } else {
                std::fs::symlink_metadata(&path)
            };
            let meta = match meta {
                Ok(m) if i == 0 || m.is_file() => m,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(HomeError::Read { path, source }),
            };
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                out.push((path, mode));
            }
        }
        Ok(out)
    }

    /// Takes group and other permissions away from the home (0700) and its private files
    /// (0600), and says what it changed. An error names the first path it could not change.
    pub fn tighten(&self) -> Result<Vec<Tightened>, HomeError> {
        let mut done = Vec::new();
        let loose = self.loose()?;
        // A database that is not lore's (another tool's `~/.lore/lore.db`) is left exactly as
        // it is, modes included: the command refuses it on its own.
        if !loose.is_empty() && self.holds_foreign_db() {
            return Ok(done);
        }
        #[cfg(unix)]
        for (path, was) in loose {
            use std::os::unix::fs::PermissionsExt;
            let now = if path == self.root { 0o700 } else { 0o600 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(now)).map_err(
                |source| HomeError::Tighten {
                    path: path.clone(),
                    mode: now,
                    source,
                },
            )?;
            done.push(Tightened { path, was, now });
        }
        Ok(done)
    }

    /// Whether `lore.db` is there and is another tool's database (read without changing
    /// anything: opened immutable).
    fn holds_foreign_db(&self) -> bool {
        let path = self.db_path();
        if !path.exists() {
            return false;
        }
        let uri = crate::db::immutable_uri(&path);
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
        match rusqlite::Connection::open_with_flags(uri, flags)
            .and_then(|c| crate::db::identity::identify(&c))
        {
            Ok(crate::db::identity::Identity::Foreign(_)) => true,
            Ok(_) => false,
            // Not a database at all: not lore's either.
            Err(_) => true,
        }
    }

    /// Opens `lore.db` for reading. `None` when there is no database yet (nothing was imported);
    /// a database in a read-only home is opened read-only.
    pub fn open_db_readable(&self) -> Result<Option<Db>, HomeError> {
        let path = self.db_path();
        if !path.exists() {
            return Ok(None);
        }
        let store = match Db::open(&path) {
            Ok(s) => s,
            Err(DbError::ReadOnly { .. }) => Db::open_read_only(&path)?,
            Err(e) => return Err(e.into()),
        };
        store.map_for_reading()?;
        Ok(Some(store))
    }

    /// This machine's id: a random UUID made on first use and kept in `machine-id`.
    ///
    /// Never derived from hardware or the host name, so it says nothing about the machine.
    pub fn machine_id(&self) -> Result<String, HomeError> {
        let path = self.machine_id_path();
        match std::fs::read_to_string(&path) {
            Ok(s) => return parse_machine_id(&s, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(HomeError::Read { path, source }),
        }
        let id = uuid::Uuid::new_v4().to_string();
        if self.create_once(&path, format!("{id}\n").as_bytes())? {
            return Ok(id);
        }
        let s = std::fs::read_to_string(&path).map_err(|source| HomeError::Read {
            path: path.clone(),
            source,
        })?;
        parse_machine_id(&s, &path)
    }

    /// Where the machine secret is kept: `LORE_HOME/machine-secret`.
    pub fn machine_secret_path(&self) -> PathBuf {
        self.root.join("machine-secret")
    }

    /// This machine's local secret: 32 random bytes made once (`machine-secret`, 64 hex and a
    /// newline, mode 0600 from its creation) and never shared. Each store's machine id is
    /// derived from it ([`crate::crypto::store_machine_id`]), so that two stores of one user
    /// cannot be linked by it. Refuses a file group or others can read, or that does not hold
    /// 64 lower-case hex digits. The bytes are zeroized when dropped.
    pub fn machine_secret(&self) -> Result<zeroize::Zeroizing<[u8; 32]>, HomeError> {
        let path = self.machine_secret_path();
        for _ in 0..2 {
            match read_secret(&path) {
                Ok(secret) => return Ok(secret),
                Err(HomeError::Read { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let mut fresh = zeroize::Zeroizing::new([0u8; 32]);
            getrandom::fill(fresh.as_mut()).map_err(|e| HomeError::Create {
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
            let text = zeroize::Zeroizing::new(format!("{}\n", crate::crypto::hex(&*fresh)));
            if self.create_once(&path, text.as_bytes())? {
                return Ok(fresh);
            }
            // Another process made it first: read theirs.
        }
        read_secret(&path)
    }

    /// Creates `path` (mode 0600 from the start) holding `contents`, unless it exists: a
    /// temporary file is written, synced, then linked into place, and the link fails if
    /// another process won the race. Whether this call created it.
    fn create_once(&self, path: &Path, contents: &[u8]) -> Result<bool, HomeError> {
        self.ensure()?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = self
            .root
            .join(format!(".{name}.{}.tmp", std::process::id()));
        let create = |e| HomeError::Create {
            path: path.to_owned(),
            source: e,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = (|| {
            let mut f = options.open(&tmp)?;
            f.write_all(contents)?;
            f.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(create(e));
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(create(e)),
        }
    }
}

/// Reads a machine secret file: 64 lower-case hex digits and a newline, private to its owner.
fn read_secret(path: &Path) -> Result<zeroize::Zeroizing<[u8; 32]>, HomeError> {
    let read = |source| HomeError::Read {
        path: path.to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(read)?.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(HomeError::LooseMachineSecret {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(read)?);
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    if crate::crypto::parse_hex_into(text.trim_end_matches('\n'), secret.as_mut()) {
        Ok(secret)
    } else {
        Err(HomeError::BadMachineSecret {
            path: path.to_owned(),
        })
    }
}

fn parse_machine_id(s: &str, path: &Path) -> Result<String, HomeError> {
    let s = s.trim();
    uuid::Uuid::parse_str(s)
        .map(|u| u.to_string())
        .map_err(|_| HomeError::BadMachineId {
            path: path.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_secret_is_made_once_private_and_refused_when_loose_or_bad() {
        let d = tempfile::tempdir().unwrap();
        let home = Home::new(d.path().join("h"));
        let a = home.machine_secret().unwrap();
        let b = home.machine_secret().unwrap();
        assert_eq!(*a, *b);
        assert_ne!(*a, [0u8; 32]);
        let path = home.machine_secret_path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{}\n", crate::crypto::hex(&*a)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
            assert!(matches!(
                home.machine_secret(),
                Err(HomeError::LooseMachineSecret { mode: 0o640, .. })
            ));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&path, "not hex\n").unwrap();
        assert!(matches!(
            home.machine_secret(),
            Err(HomeError::BadMachineSecret { .. })
        ));
        // Two different homes have two different secrets.
        let other = Home::new(d.path().join("other"));
        assert_ne!(*other.machine_secret().unwrap(), *a);
    }

    #[test]
    fn machine_id_is_made_once_and_kept() {
        let d = tempfile::tempdir().unwrap();
        let home = Home::new(d.path().join("h"));
        let a = home.machine_id().unwrap();
        let b = home.machine_id().unwrap();
        assert_eq!(a, b);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
        assert_eq!(std::fs::read_dir(home.root()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(home.machine_id_path()).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_loose_home_is_tightened_and_says_what_changed() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let d = tempfile::tempdir().unwrap();
        let home = Home::new(d.path().join("h"));
        assert_eq!(home.tighten().unwrap(), vec![]);
        drop(home.open_db().unwrap());
        assert_eq!(mode(home.root()), 0o700);
        assert_eq!(mode(&home.db_path()), 0o600);
        assert_eq!(home.tighten().unwrap(), vec![]);

        let set = |p: &Path, m| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
        set(home.root(), 0o755).unwrap();
        set(&home.db_path(), 0o644).unwrap();
        std::fs::write(home.machine_id_path(), "").unwrap();
        set(&home.machine_id_path(), 0o640).unwrap();
        assert_eq!(home.loose().unwrap().len(), 3);
        let done = home.tighten().unwrap();
        assert_eq!(
            done,
            vec![
                Tightened {
                    path: home.root().to_owned(),
                    was: 0o755,
                    now: 0o700
                },
                Tightened {
                    path: home.db_path(),
                    was: 0o644,
                    now: 0o600
                },
                Tightened {
                    path: home.machine_id_path(),
                    was: 0o640,
                    now: 0o600
                },
            ]
        );
        assert_eq!(mode(home.root()), 0o700);
        assert_eq!(mode(&home.db_path()), 0o600);
        assert!(home.loose().unwrap().is_empty());
    }

    #[test]
    fn locate_prefers_lore_home() {
        let h = Home::locate(Some("/x".into()), Some("/home/u".into())).unwrap();
        assert_eq!(h.root(), Path::new("/x"));
        let h = Home::locate(None, Some("/home/u".into())).unwrap();
        assert_eq!(h.root(), Path::new("/home/u/.lore"));
        assert!(Home::locate(None, None).is_err());
    }
}
