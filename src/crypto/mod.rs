//! The cryptography of the session store in git (docs/store-format.md, store format 2).
//!
//! - [`StoreHeader`] is `lore-store.json`: the store's id, the Argon2id parameters, the data key
//!   wrapped under the passphrase, and a key check.
//! - [`DataKey`] is the store's data key with its id and the two HKDF subkeys derived from it.
//! - [`seal`] and [`open`] turn one session record into its `.enc` blob and back.
//! - [`seal_manifest`] and [`open_manifest`] do the same for a commit's manifest, which binds
//!   a ciphertext commit's tree, parents, sequence number and key epoch to the key.
//! - [`passphrase`] generates new passphrases and estimates the strength of chosen ones.
//! - `vectors` (tests) checks the known-answer vectors of docs/store-format.md.
//!
//! Everything here is pure computation on bytes: no files, no git, no prompts.

mod header;
pub mod manifest;
pub mod passphrase;
mod seal;
#[cfg(test)]
mod vectors;

pub use header::{KdfParams, StoreHeader};
pub use manifest::{Manifest, ManifestPrefix, open_manifest, read_prefix, seal_manifest};
pub use seal::{
    MAX_RATIO, MAX_RECORD, MAX_SEALED, check_sealed_prefix, open, open_owned, padme, seal,
};

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Why a cryptographic operation on the store was refused. The messages are written for the
/// person at the terminal: they say what is wrong and, where there is one, what to do.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The passphrase does not unwrap the data key of this store.
    #[error("wrong passphrase for this store")]
    WrongPassphrase,
    /// A data key (from the local key file or a sealed blob) whose id or key check does not match
    /// the store's header: the key belongs to another store, or to this store before a rotation.
    #[error(
        "this key does not belong to store {store_id}: its key id or key check does not match \
         the store's header"
    )]
    WrongKey {
        /// The store's id, 32 hex.
        store_id: String,
    },
    /// An authenticated decryption failed: the blob, its session id, its metadata or its store do
    /// not go together.
    #[error(
        "{what} failed authentication: it was altered, swapped or does not belong to this store"
    )]
    Tampered {
        /// What failed, e.g. "the sealed record of session abc".
        what: String,
    },
    /// The header or a blob was written by a newer lore.
    #[error("this store was written in format {found}, newer than this lore reads: upgrade lore")]
    NewerFormat {
        /// The format number found.
        found: u64,
    },
    /// Bytes that do not follow docs/store-format.md.
    #[error("{what} is malformed: {why}")]
    Malformed {
        /// What was being read ("store header", "sealed record", "session id", ...).
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The header asks for key derivation parameters below lore's minimum; a header an attacker
    /// could write must not make the passphrase cheap to guess.
    #[error(
        "the store header's key derivation parameters are below lore's minimum \
         (argon2id m=65536 KiB, t=3, p=4): refusing to use them"
    )]
    WeakKdf,
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

/// The data key of one store: 32 random bytes (`master`), its 16-byte id, and the three subkeys
/// derived from it (`enc_key`, `nonce_key`). Every byte is zeroized on drop, and `Debug` shows
/// only the key id, so a key never reaches a log by accident.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DataKey {
    key_id: [u8; 16],
    master: [u8; 32],
    enc_key: [u8; 32],
    nonce_key: [u8; 32],
    manifest_key: [u8; 32],
}

impl DataKey {
    /// A new random data key with a new random id (for a new store or a rotation).
    pub fn generate() -> Result<DataKey, CryptoError> {
        let key_id = random::<16>()?;
        let master = Zeroizing::new(random::<32>()?);
        Ok(DataKey::from_parts(key_id, &master))
    }

    /// The data key with id `key_id` and bytes `master` (read back from the local key store or
    /// unwrapped from a header); derives the subkeys.
    pub fn from_parts(key_id: [u8; 16], master: &[u8; 32]) -> DataKey {
        DataKey {
            key_id,
            master: *master,
            enc_key: hkdf32(master, b"lore.enc.v1"),
            nonce_key: hkdf32(master, b"lore.nonce.v1"),
            manifest_key: hkdf32(master, b"lore.manifest.v2"),
        }
    }

    /// The key's id, which the header and every sealed blob name.
    pub fn key_id(&self) -> [u8; 16] {
        self.key_id
    }

    /// The key's id as 32 lower-case hex.
    pub fn key_id_hex(&self) -> String {
        hex(&self.key_id)
    }

    /// The raw data key. Only for the local key store, which must persist it.
    pub fn master(&self) -> &[u8; 32] {
        &self.master
    }

    /// The AES-256-GCM key of sealed records.
    fn enc_key(&self) -> &[u8; 32] {
        &self.enc_key
    }

    /// The HMAC key of synthetic nonces.
    fn nonce_key(&self) -> &[u8; 32] {
        &self.nonce_key
    }

    /// The AES-256-GCM key of manifests.
    fn manifest_key(&self) -> &[u8; 32] {
        &self.manifest_key
    }
}

/// `JCS(value)`: RFC 8785 canonical JSON. Only called with values of strings, integers and
/// arrays of them, which always serialize.
fn canonical_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).unwrap_or_default()
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("key_id", &self.key_id_hex())
            .finish_non_exhaustive()
    }
}

/// `hex(x)`: lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    s
}

/// Exactly `2 * N` lower-case hex digits, decoded; `None` for anything else (upper case too:
/// the format has one spelling of each id).
pub(crate) fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *o = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// Decodes exactly `2 * out.len()` lower-case hex digits into `out` (a caller's zeroizing
/// buffer, so a secret is never copied); false, with `out` unspecified, for anything else.
pub(crate) fn parse_hex_into(s: &str, out: &mut [u8]) -> bool {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if s.len() != 2 * out.len() {
        return false;
    }
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        match (digit(pair[0]), digit(pair[1])) {
            (Some(h), Some(l)) => *o = (h << 4) | l,
            _ => return false,
        }
    }
    true
}

/// The machine id this machine shows in one store (docs/store-format.md, "The metadata"):
/// `HMAC(secret, "lore.machine-id.v1" ‖ store_id)`, its first 16 bytes written as a UUID of
/// version 8 (RFC 9562: the version nibble set to 8, the variant bits to `10`). `secret` is
/// the machine's local secret (`LORE_HOME/machine-secret`), which never leaves it: the host,
/// seeing two stores, cannot tell that one machine wrote to both, and every sync to one store
/// shows the same id.
pub fn store_machine_id(secret: &[u8; 32], store_id: &[u8; 16]) -> String {
    let mac = Zeroizing::new(hmac32(secret, &[b"lore.machine-id.v1", store_id]));
    let mut b = [0u8; 16];
    b.copy_from_slice(&mac[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(b).to_string()
}

/// `N` bytes from the operating system's random number generator.
fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| CryptoError::Random(e.to_string()))?;
    Ok(out)
}

/// `H(x)`: SHA-256.
fn sha256(x: &[u8]) -> [u8; 32] {
    Sha256::digest(x).into()
}

/// `HMAC(key, parts[0] ‖ parts[1] ‖ ...)`, unfinalized, to finish or to verify.
fn hmac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac
}

/// `HMAC(key, parts[0] ‖ parts[1] ‖ ...)`: HMAC-SHA-256.
fn hmac32(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    hmac(key, parts).finalize().into_bytes().into()
}

/// `HKDF(k, info)`: HKDF-SHA-256 with an empty salt, 32 bytes out.
fn hkdf32(k: &[u8; 32], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&[]), k)
        .expand(info, &mut out)
        .expect("32 bytes is a valid HKDF-SHA-256 output length");
    out
}

/// Appends `string(s)`: a 4-byte big-endian length, then the UTF-8 bytes. Only called with
/// session ids (at most 128 bytes).
fn push_string(buf: &mut Vec<u8>, s: &str) {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_upper_case_and_bad_lengths() {
        let bytes: [u8; 16] = std::array::from_fn(|i| (i * 17) as u8);
        let h = hex(&bytes);
        assert_eq!(h, "00112233445566778899aabbccddeeff");
        assert_eq!(parse_hex::<16>(&h), Some(bytes));
        assert_eq!(parse_hex::<16>(&h.to_uppercase()), None);
        assert_eq!(parse_hex::<16>(&h[..30]), None);
        assert_eq!(parse_hex::<16>(&format!("{h}00")), None);
        assert_eq!(parse_hex::<16>("zz112233445566778899aabbccddeeff"), None);
        assert_eq!(parse_hex::<1>("é"), None);
    }

    #[test]
    fn debug_of_a_data_key_shows_no_key_bytes() {
        let master = [0xabu8; 32];
        let key = DataKey::from_parts([0x11; 16], &master);
        let shown = format!("{key:?} {key:#?}");
        assert!(shown.contains(&hex(&[0x11; 16])), "{shown}");
        for secret in [key.master(), key.enc_key(), key.nonce_key()] {
            assert!(!shown.contains(&hex(secret)), "{shown}");
            assert!(!shown.contains(&hex(&secret[..4])), "{shown}");
            assert!(!shown.contains(&format!("{:?}", &secret[..4])), "{shown}");
        }
    }

    #[test]
    fn subkeys_are_distinct_and_follow_rfc5869_with_an_empty_salt() {
        let key = DataKey::from_parts([0; 16], &[7; 32]);
        assert_ne!(key.enc_key(), key.nonce_key());
        assert_ne!(key.enc_key(), key.master());
        // HKDF with an empty salt: PRK = HMAC(0x00..(32), ikm), OKM = HMAC(PRK, info ‖ 0x01).
        let prk = hmac32(&[0u8; 32], &[&[7u8; 32]]);
        assert_eq!(*key.enc_key(), hmac32(&prk, &[b"lore.enc.v1", &[1]]));
        assert_eq!(*key.nonce_key(), hmac32(&prk, &[b"lore.nonce.v1", &[1]]));
    }

    #[test]
    fn generated_keys_differ() {
        let a = DataKey::generate().unwrap();
        let b = DataKey::generate().unwrap();
        assert_ne!(a.key_id(), b.key_id());
        assert_ne!(a.master(), b.master());
        assert_eq!(a.key_id_hex(), hex(&a.key_id()));
    }
}
