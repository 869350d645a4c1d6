//! The key file format and its 0600 files (docs/store-format.md, "The local key file").
//!
//! A key file is JSON, `{"format":1,"store_id":"<32 hex>","key_id":"<32 hex>","key":"<b64 of
//! the 32-byte data key>"}`. The same bytes are what lore keeps in the OS keychain, so one
//! parser checks both. Files are written 0600, atomically, in a folder created 0700; a file
//! that other users can read or write is refused.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::KeyError;
use crate::crypto::{DataKey, parse_hex};

/// The format of key files this lore reads and writes.
const FORMAT: u64 = 1;

/// The largest key file lore reads; a real one is about 150 bytes.
pub(super) const MAX_LEN: usize = 4096;

/// A key file's JSON; zeroized on drop since `key` is the data key.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: u64,
    store_id: String,
    key_id: String,
    key: String,
}

/// The bytes of the key file for `key` of store `store_id_hex`, newline-terminated.
pub(super) fn encode(store_id_hex: &str, key: &DataKey) -> Zeroizing<Vec<u8>> {
    let content = KeyFile {
        format: FORMAT,
        store_id: store_id_hex.to_string(),
        key_id: key.key_id_hex(),
        key: B64.encode(key.master()),
    };
    // Room for the whole file up front: a buffer that grew would leave a copy of part of the
    // key behind, unwiped. Serializing four strings and a number into a Vec cannot fail.
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_LEN));
    let _ = serde_json::to_writer(&mut *bytes, &content);
    bytes.push(b'\n');
    bytes
}

/// Reads the key file at `path`: `None` when there is none. Refuses a file that is not a
/// regular file, is readable or writable by others, or is larger than a key file can be.
pub(super) fn read(path: &Path, store_id_hex: &str) -> Result<Option<DataKey>, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(malformed(path, "it is not a regular file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    if meta.len() > MAX_LEN as u64 {
        return Err(malformed(path, "it is larger than a key file can be"));
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(512));
    file.take(MAX_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    parse(store_id_hex, &bytes)
        .map(Some)
        .map_err(|why| malformed(path, why))
}

/// Writes `key` of store `store_id_hex` to `path` in `dir`, replacing any file there
/// atomically: the folder is created 0700 if missing, the file is written 0600 from its
/// creation, synced, and renamed into place.
pub(super) fn write(
    dir: &Path,
    path: &Path,
    store_id_hex: &str,
    key: &DataKey,
) -> Result<(), KeyError> {
    let dir_io = |source| KeyError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(dir_io)?;

    let bytes = encode(store_id_hex, key);
    let tmp = dir.join(format!(
        ".{store_id_hex}.{}.key.{}.{}.tmp",
        key.key_id_hex(),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let written = write_private(&tmp, &bytes)
        .and_then(|()| fs::rename(&tmp, path))
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
    File::open(dir).and_then(|d| d.sync_all()).map_err(dir_io)?;
    Ok(())
}

/// Deletes the key file at `path`; `false` when there was none.
pub(super) fn remove(path: &Path) -> Result<bool, KeyError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(source) => Err(KeyError::Io {
            path: path.to_path_buf(),
            source,
        }),
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
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
/// 32 bytes. The error says what is wrong.
pub(super) fn parse(store_id_hex: &str, bytes: &[u8]) -> Result<DataKey, String> {
    #[derive(Deserialize)]
    struct Probe {
        format: u64,
    }
    if bytes.len() > MAX_LEN {
        return Err("it is larger than a key file can be".into());
    }
    if let Ok(Probe { format }) = serde_json::from_slice::<Probe>(bytes)
        && format > FORMAT
    {
        return Err(format!(
            "format {format} is newer than this lore reads ({FORMAT}): upgrade lore"
        ));
    }
    let file: KeyFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if file.format != FORMAT {
        return Err(format!("format {} is not a format of lore", file.format));
    }
    if file.store_id != store_id_hex {
        return Err(format!(
            "it holds the key of store {:?}, not {store_id_hex}",
            file.store_id.chars().take(64).collect::<String>()
        ));
    }
    let key_id = parse_hex::<16>(&file.key_id)
        .ok_or_else(|| "key_id is not 32 lower-case hex digits".to_string())?;
    let decoded = Zeroizing::new(B64.decode(&file.key).unwrap_or_default());
    let master: Zeroizing<[u8; 32]> = Zeroizing::new(
        decoded
            .as_slice()
            .try_into()
            .map_err(|_| "key is not base64 of 32 bytes".to_string())?,
    );
    Ok(DataKey::from_parts(key_id, &master))
}
