//! The store header, `lore-store.json`: the store's id, the Argon2id parameters, the data key
//! wrapped under the passphrase, and the key check (docs/store-format.md, "The header").

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::Mac;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{CryptoError, DataKey, hex, hmac, parse_hex, random};

/// The least Argon2id memory (KiB), passes and lanes a reader accepts.
const MIN_M_KIB: u32 = 65536;
const MIN_T: u32 = 3;
const MIN_P: u32 = 4;
/// The most a reader accepts, so that a hostile header cannot make unlocking exhaust memory or
/// run for hours.
const MAX_M_KIB: u32 = 1 << 20;
const MAX_T: u32 = 16;
const MAX_P: u32 = 16;

/// Length of `wrapped_key`: nonce (12) ‖ encrypted master (32) ‖ tag (16).
const WRAPPED_LEN: usize = 12 + 32 + 16;

const WHAT: &str = "store header";

fn malformed(why: impl Into<String>) -> CryptoError {
    CryptoError::Malformed {
        what: WHAT,
        why: why.into(),
    }
}

/// The Argon2id parameters that turn the passphrase into the key-encryption key. In JSON:
/// `{"name":"argon2id","version":19,"m_kib":…,"t":…,"p":…,"salt":"<b64, 16 bytes>"}`; anything
/// else (another name or version, an unknown field, a salt of another length) is refused.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "KdfWire", into = "KdfWire")]
pub struct KdfParams {
    /// Memory in KiB (at least 65536).
    pub m_kib: u32,
    /// Passes (at least 3).
    pub t: u32,
    /// Lanes (at least 4).
    pub p: u32,
    /// 16 random bytes, new at every (re)wrap.
    pub salt: [u8; 16],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfWire {
    name: String,
    version: u32,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
}

impl TryFrom<KdfWire> for KdfParams {
    type Error = String;

    fn try_from(w: KdfWire) -> Result<KdfParams, String> {
        if w.name != "argon2id" {
            return Err(format!("kdf {:?} is not argon2id", w.name));
        }
        if w.version != 19 {
            return Err(format!("argon2id version {} is not 19", w.version));
        }
        let salt = B64
            .decode(&w.salt)
            .ok()
            .and_then(|s| <[u8; 16]>::try_from(s.as_slice()).ok())
            .ok_or("kdf salt is not base64 of 16 bytes")?;
        Ok(KdfParams {
            m_kib: w.m_kib,
            t: w.t,
            p: w.p,
            salt,
        })
    }
}

impl From<KdfParams> for KdfWire {
    fn from(k: KdfParams) -> KdfWire {
        KdfWire {
            name: "argon2id".into(),
            version: 19,
            m_kib: k.m_kib,
            t: k.t,
            p: k.p,
            salt: B64.encode(k.salt),
        }
    }
}

impl KdfParams {
    /// lore's parameters (the minimum readers accept) with a new random salt.
    fn fresh(m_kib: u32, t: u32, p: u32) -> Result<KdfParams, CryptoError> {
        Ok(KdfParams {
            m_kib,
            t,
            p,
            salt: random::<16>()?,
        })
    }

    /// Refuses parameters below the minimum (`WeakKdf`) or above what a reader accepts.
    fn check(&self) -> Result<(), CryptoError> {
        if self.m_kib < MIN_M_KIB || self.t < MIN_T || self.p < MIN_P {
            return Err(CryptoError::WeakKdf);
        }
        if self.m_kib > MAX_M_KIB || self.t > MAX_T || self.p > MAX_P {
            return Err(malformed(format!(
                "argon2id parameters m={} KiB, t={}, p={} exceed what lore accepts \
                 (m ≤ {MAX_M_KIB} KiB, t ≤ {MAX_T}, p ≤ {MAX_P})",
                self.m_kib, self.t, self.p
            )));
        }
        Ok(())
    }

    /// `kek = Argon2id(passphrase, salt, m_kib, t, p)`, 32 bytes.
    fn derive(&self, passphrase: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        self.check()?;
        let params = Params::new(self.m_kib, self.t, self.p, Some(32))
            .map_err(|e| malformed(format!("argon2id parameters refused: {e}")))?;
        let mut kek = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase, &self.salt, kek.as_mut_slice())
            .map_err(|e| CryptoError::Malformed {
                what: "key derivation",
                why: e.to_string(),
            })?;
        Ok(kek)
    }
}

/// `lore-store.json`: everything needed to turn the passphrase into the store's data key, and to
/// recognise that key. It holds no secret in clear; both trees carry the same bytes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StoreHeader {
    /// The header's `format`: 1 or 2 (a store of format 1, before or after a rotation), or 3
    /// (store format 2: an epoch, and the v2 key check that covers it).
    format: u64,
    /// The key's generation: 1 at creation, one more per rotation. For a format-1 header,
    /// `1 + len(previous_keys)`.
    epoch: u64,
    store_id: [u8; 16],
    store_id_hex: String,
    kdf: KdfParams,
    key_id: [u8; 16],
    key_id_hex: String,
    wrapped_key: [u8; WRAPPED_LEN],
    key_check: [u8; 32],
    /// The data keys of the store before its rotations, newest first, each wrapped under the
    /// current data key: old commits stay sealed under the key of their time, and whoever
    /// holds the current key can read them. Empty until the first rotation (format 1).
    previous: Vec<PreviousKey>,
}

/// A data key the store had before a rotation, wrapped under the current one.
#[derive(Clone, PartialEq, Eq, Debug)]
struct PreviousKey {
    key_id: [u8; 16],
    wrapped: [u8; WRAPPED_LEN],
}

/// One entry of `previous_keys`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviousWire {
    key_id: String,
    wrapped_key: String,
}

/// The header's JSON shape; `deny_unknown_fields` because an unknown field could be plaintext.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderWire {
    format: u64,
    store_id: String,
    kdf: KdfParams,
    key_id: String,
    wrapped_key: String,
    key_check: String,
    /// Format 3 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    epoch: Option<u64>,
    /// Formats 2 and 3 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_keys: Option<Vec<PreviousWire>>,
}

/// `"lore.wrap.v1" ‖ store_id ‖ key_id`.
fn wrap_aad(store_id: &[u8; 16], key_id: &[u8; 16]) -> Vec<u8> {
    [b"lore.wrap.v1".as_slice(), store_id, key_id].concat()
}

/// `"lore.previous.v1" ‖ store_id ‖ current key_id ‖ previous key_id`.
fn previous_aad(store_id: &[u8; 16], current: &[u8; 16], previous: &[u8; 16]) -> Vec<u8> {
    [b"lore.previous.v1".as_slice(), store_id, current, previous].concat()
}

/// The key that wraps previous keys: `HMAC(master, "lore.previous-wrap.v1")`.
fn previous_wrap_key(current: &DataKey) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(
        hmac(current.master(), &[b"lore.previous-wrap.v1"])
            .finalize()
            .into_bytes()
            .into(),
    )
}

impl StoreHeader {
    /// The newest format this lore reads and writes: 3, store format 2. (1 and 2 are the
    /// headers of a format-1 store, before and after a rotation: read, and upgraded.)
    pub const FORMAT: u64 = 3;

    /// A new store: random store id, salt and data key, Argon2id with m = 64 MiB, t = 3, p = 4.
    /// Returns the header to publish and the data key to keep.
    pub fn create(passphrase: &[u8]) -> Result<(StoreHeader, DataKey), CryptoError> {
        let store_id = random::<16>()?;
        let key = DataKey::generate()?;
        let kdf = KdfParams::fresh(MIN_M_KIB, MIN_T, MIN_P)?;
        let header = StoreHeader::wrap(store_id, kdf, &key, passphrase, 1)?;
        Ok((header, key))
    }

    /// Wraps `key` under `passphrase` for the store `store_id`.
    fn wrap(
        store_id: [u8; 16],
        kdf: KdfParams,
        key: &DataKey,
        passphrase: &[u8],
        epoch: u64,
    ) -> Result<StoreHeader, CryptoError> {
        let kek = kdf.derive(passphrase)?;
        let nonce = random::<12>()?;
        let key_id = key.key_id();
        let aad = wrap_aad(&store_id, &key_id);
        let sealed = Aes256Gcm::new((&*kek).into())
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: key.master(),
                    aad: &aad,
                },
            )
            .map_err(|_| malformed("cannot wrap the data key"))?;
        let mut wrapped_key = [0u8; WRAPPED_LEN];
        if sealed.len() != WRAPPED_LEN - 12 {
            return Err(malformed("the wrapped data key has an unexpected length"));
        }
        wrapped_key[..12].copy_from_slice(&nonce);
        wrapped_key[12..].copy_from_slice(&sealed);
        Ok(StoreHeader {
            format: Self::FORMAT,
            epoch,
            store_id,
            store_id_hex: hex(&store_id),
            kdf,
            key_id,
            key_id_hex: hex(&key_id),
            wrapped_key,
            key_check: key_check(Self::FORMAT, key.master(), &store_id, epoch),
            previous: Vec::new(),
        })
    }

    /// Reads `lore-store.json`. Strict: an unknown or missing field, a wrong length, upper-case
    /// or malformed hex, or non-canonical base64 is `Malformed`; a format above 1 is
    /// `NewerFormat`; Argon2id parameters below the minimum are `WeakKdf`. Never panics.
    pub fn parse(bytes: &[u8]) -> Result<StoreHeader, CryptoError> {
        // A newer format may have other fields: recognise it before the strict parse.
        #[derive(Deserialize)]
        struct Probe {
            format: u64,
        }
        if let Ok(Probe { format }) = serde_json::from_slice::<Probe>(bytes)
            && format > Self::FORMAT
        {
            return Err(CryptoError::NewerFormat { found: format });
        }
        let w: HeaderWire = serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        match (w.format, &w.previous_keys, w.epoch) {
            (1, None, None) => {}
            (2, Some(p), None) if !p.is_empty() => {}
            (3, Some(_), Some(e)) if e >= 1 => {}
            (1 | 2, _, Some(_)) => {
                return Err(malformed("epoch belongs to format 3 only"));
            }
            (1 | 2, _, None) => {
                return Err(malformed(
                    "previous_keys must be present (and not empty) in format 2 and only there",
                ));
            }
            (3, _, _) => {
                return Err(malformed(
                    "format 3 needs an epoch of at least 1 and previous_keys (empty or not)",
                ));
            }
            (f, _, _) => return Err(malformed(format!("format {f} is not a format of lore"))),
        }
        let store_id = parse_hex::<16>(&w.store_id)
            .ok_or_else(|| malformed("store_id is not 32 lower-case hex digits"))?;
        let key_id = parse_hex::<16>(&w.key_id)
            .ok_or_else(|| malformed("key_id is not 32 lower-case hex digits"))?;
        let key_check = parse_hex::<32>(&w.key_check)
            .ok_or_else(|| malformed("key_check is not 64 lower-case hex digits"))?;
        let wrapped_key = B64
            .decode(&w.wrapped_key)
            .ok()
            .and_then(|v| <[u8; WRAPPED_LEN]>::try_from(v.as_slice()).ok())
            .ok_or_else(|| {
                malformed(format!("wrapped_key is not base64 of {WRAPPED_LEN} bytes"))
            })?;
        w.kdf.check()?;
        let mut previous = Vec::new();
        for p in w.previous_keys.iter().flatten() {
            let pid = parse_hex::<16>(&p.key_id)
                .ok_or_else(|| malformed("a previous key_id is not 32 lower-case hex digits"))?;
            let wrapped = B64
                .decode(&p.wrapped_key)
                .ok()
                .and_then(|v| <[u8; WRAPPED_LEN]>::try_from(v.as_slice()).ok())
                .ok_or_else(|| {
                    malformed(format!(
                        "a previous wrapped_key is not base64 of {WRAPPED_LEN} bytes"
                    ))
                })?;
            if pid == key_id || previous.iter().any(|q: &PreviousKey| q.key_id == pid) {
                return Err(malformed("a key id appears twice among the keys"));
            }
            previous.push(PreviousKey {
                key_id: pid,
                wrapped,
            });
        }
        let epoch = match w.epoch {
            Some(e) => e,
            None => 1 + previous.len() as u64,
        };
        if epoch <= previous.len() as u64 {
            return Err(malformed(
                "its epoch is not above the number of keys before it",
            ));
        }
        Ok(StoreHeader {
            format: w.format,
            epoch,
            store_id,
            store_id_hex: w.store_id,
            kdf: w.kdf,
            key_id,
            key_id_hex: w.key_id,
            wrapped_key,
            key_check,
            previous,
        })
    }

    /// The header's bytes: `JCS` of its JSON, so equal headers are equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let legacy = self.format < 3;
        let w = HeaderWire {
            format: if !legacy {
                3
            } else if self.previous.is_empty() {
                1
            } else {
                2
            },
            epoch: (!legacy).then_some(self.epoch),
            store_id: self.store_id_hex.clone(),
            kdf: self.kdf.clone(),
            key_id: self.key_id_hex.clone(),
            wrapped_key: B64.encode(self.wrapped_key),
            key_check: hex(&self.key_check),
            previous_keys: (!legacy || !self.previous.is_empty()).then(|| {
                self.previous
                    .iter()
                    .map(|p| PreviousWire {
                        key_id: hex(&p.key_id),
                        wrapped_key: B64.encode(p.wrapped),
                    })
                    .collect()
            }),
        };
        serde_json_canonicalizer::to_vec(&w).expect("a header of strings and integers serializes")
    }

    /// The header's `format`: 3 for store format 2, 1 or 2 for a format-1 store.
    pub fn format(&self) -> u64 {
        self.format
    }

    /// Whether this is the header of a format-2 store (with manifests and epochs).
    pub fn is_format2(&self) -> bool {
        self.format >= 3
    }

    /// The key's generation (1 at creation, one more per rotation).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The key id as its 16 raw bytes.
    pub fn key_id(&self) -> [u8; 16] {
        self.key_id
    }

    /// The same store and key as a format-3 header (store format 2): the same wraps, the epoch
    /// of its format-1 counting, and the v2 key check. `key` must be this store's key (else
    /// `WrongKey`). A format-3 header is returned as it is.
    pub fn upgraded(&self, key: &DataKey) -> Result<StoreHeader, CryptoError> {
        self.verify_key(key)?;
        let mut header = self.clone();
        if header.format < 3 {
            header.format = 3;
            header.key_check = key_check(3, key.master(), &self.store_id, self.epoch);
        }
        Ok(header)
    }

    /// The store's id: 16 random bytes fixed at creation, kept through passphrase changes and
    /// rotations.
    pub fn store_id(&self) -> [u8; 16] {
        self.store_id
    }

    /// The store's id as 32 lower-case hex (names the local key file).
    pub fn store_id_hex(&self) -> &str {
        &self.store_id_hex
    }

    /// The id of the data key this header wraps, as 32 lower-case hex.
    pub fn key_id_hex(&self) -> &str {
        &self.key_id_hex
    }

    /// The Argon2id parameters (to show them; unlocking uses them itself).
    pub fn kdf(&self) -> &KdfParams {
        &self.kdf
    }

    /// The data key, from the passphrase: Argon2id gives the key-encryption key, which unwraps
    /// the data key; the key check then confirms it. A passphrase that does not unwrap the key
    /// is `WrongPassphrase`.
    pub fn unlock(&self, passphrase: &[u8]) -> Result<DataKey, CryptoError> {
        let kek = self.kdf.derive(passphrase)?;
        let aad = wrap_aad(&self.store_id, &self.key_id);
        let (nonce, sealed) = self.wrapped_key.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| CryptoError::WrongPassphrase)?;
        let master = Zeroizing::new(
            Aes256Gcm::new((&*kek).into())
                .decrypt(
                    (&nonce).into(),
                    Payload {
                        msg: sealed,
                        aad: &aad,
                    },
                )
                .map_err(|_| CryptoError::WrongPassphrase)?,
        );
        let master: Zeroizing<[u8; 32]> = Zeroizing::new(
            master
                .as_slice()
                .try_into()
                .map_err(|_| CryptoError::WrongPassphrase)?,
        );
        let key = DataKey::from_parts(self.key_id, &master);
        if self.verify_key(&key).is_err() {
            // The passphrase unwrapped a key (so it is right) that the header's own check
            // refuses: the header was written wrongly or altered by someone who knows it.
            return Err(malformed("its key_check does not match the key it wraps"));
        }
        Ok(key)
    }

    /// Checks that `key` (e.g. from the local key file) is this store's current data key: same
    /// key id and same key check. Otherwise `WrongKey`.
    pub fn verify_key(&self, key: &DataKey) -> Result<(), CryptoError> {
        let check_ok = key_check_mac(self.format, key.master(), &self.store_id, self.epoch)
            .verify_slice(&self.key_check)
            .is_ok();
        if key.key_id() == self.key_id && check_ok {
            Ok(())
        } else {
            Err(CryptoError::WrongKey {
                store_id: self.store_id_hex.clone(),
            })
        }
    }

    /// The header after a passphrase change: the same store id, data key, previous keys and
    /// Argon2id costs, a new salt and a new wrap. `key` must be this store's key (else
    /// `WrongKey`).
    pub fn rewrap(&self, key: &DataKey, new_passphrase: &[u8]) -> Result<StoreHeader, CryptoError> {
        self.verify_key(key)?;
        let kdf = KdfParams::fresh(self.kdf.m_kib, self.kdf.t, self.kdf.p)?;
        let mut header = StoreHeader::wrap(self.store_id, kdf, key, new_passphrase, self.epoch)?;
        header.previous = self.previous.clone();
        if self.format < 3 {
            header.format = self.format;
            header.key_check = key_check(self.format, key.master(), &self.store_id, self.epoch);
        }
        Ok(header)
    }

    /// The header after a rotation: the same store id and Argon2id costs, a new data key with
    /// a new key id under `new_passphrase` (new salt), and every earlier key (`key`, this
    /// store's current one, and its own previous keys) wrapped under the new key, so that
    /// history stays readable to whoever holds the new key. Records written from now on are
    /// sealed under the new key. `key` must be this store's key (else `WrongKey`).
    pub fn rotate(
        &self,
        key: &DataKey,
        new_passphrase: &[u8],
    ) -> Result<(StoreHeader, DataKey), CryptoError> {
        let previous = self.previous_keys(key)?;
        let earlier = std::iter::once(key).chain(previous.iter());
        let new_key = DataKey::generate()?;
        let kdf = KdfParams::fresh(self.kdf.m_kib, self.kdf.t, self.kdf.p)?;
        let mut header =
            StoreHeader::wrap(self.store_id, kdf, &new_key, new_passphrase, self.epoch + 1)?;
        let wrap_key = previous_wrap_key(&new_key);
        let cipher = Aes256Gcm::new((&*wrap_key).into());
        for old in earlier {
            let nonce = random::<12>()?;
            let aad = previous_aad(&self.store_id, &new_key.key_id(), &old.key_id());
            let sealed = cipher
                .encrypt(
                    (&nonce).into(),
                    Payload {
                        msg: old.master(),
                        aad: &aad,
                    },
                )
                .map_err(|_| malformed("cannot wrap a previous key"))?;
            let mut wrapped = [0u8; WRAPPED_LEN];
            if sealed.len() != WRAPPED_LEN - 12 {
                return Err(malformed("a wrapped previous key has an unexpected length"));
            }
            wrapped[..12].copy_from_slice(&nonce);
            wrapped[12..].copy_from_slice(&sealed);
            header.previous.push(PreviousKey {
                key_id: old.key_id(),
                wrapped,
            });
        }
        Ok((header, new_key))
    }

    /// The store's earlier data keys, newest first, unwrapped with `key` (this store's current
    /// key, else `WrongKey`). One that does not open is `Malformed`: the header was altered.
    pub fn previous_keys(&self, key: &DataKey) -> Result<Vec<DataKey>, CryptoError> {
        self.verify_key(key)?;
        if self.previous.is_empty() {
            return Ok(Vec::new());
        }
        let wrap_key = previous_wrap_key(key);
        let cipher = Aes256Gcm::new((&*wrap_key).into());
        let mut keys = Vec::with_capacity(self.previous.len());
        for p in &self.previous {
            let (nonce, sealed) = p.wrapped.split_at(12);
            let nonce: [u8; 12] = nonce
                .try_into()
                .map_err(|_| malformed("a previous key is cut short"))?;
            let aad = previous_aad(&self.store_id, &self.key_id, &p.key_id);
            let master = Zeroizing::new(
                cipher
                    .decrypt(
                        (&nonce).into(),
                        Payload {
                            msg: sealed,
                            aad: &aad,
                        },
                    )
                    .map_err(|_| malformed("a previous key does not open with the current key"))?,
            );
            let master: Zeroizing<[u8; 32]> = Zeroizing::new(
                master
                    .as_slice()
                    .try_into()
                    .map_err(|_| malformed("a previous key is not 32 bytes"))?,
            );
            keys.push(DataKey::from_parts(p.key_id, &master));
        }
        Ok(keys)
    }
}

/// The key check of a header of `format`, unfinalized: `HMAC(master, "lore.key-check.v1" ‖
/// store_id)` for formats 1 and 2, `HMAC(master, "lore.key-check.v2" ‖ store_id ‖
/// u64be(epoch))` for format 3, which binds the epoch to the key.
fn key_check_mac(
    format: u64,
    master: &[u8; 32],
    store_id: &[u8; 16],
    epoch: u64,
) -> hmac::Hmac<sha2::Sha256> {
    if format >= 3 {
        hmac(
            master,
            &[b"lore.key-check.v2", store_id, &epoch.to_be_bytes()],
        )
    } else {
        hmac(master, &[b"lore.key-check.v1", store_id])
    }
}

/// The key check of a header of `format` (store id as its 16 raw bytes).
fn key_check(format: u64, master: &[u8; 32], store_id: &[u8; 16], epoch: u64) -> [u8; 32] {
    key_check_mac(format, master, store_id, epoch)
        .finalize()
        .into_bytes()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    const PASS: &[u8] = b"correct horse battery staple";

    /// One store for all tests: Argon2id at 64 MiB is slow, so derive as little as possible.
    fn fixture() -> &'static (StoreHeader, DataKey) {
        static F: OnceLock<(StoreHeader, DataKey)> = OnceLock::new();
        F.get_or_init(|| StoreHeader::create(PASS).unwrap())
    }

    fn json(h: &StoreHeader) -> serde_json::Value {
        serde_json::from_slice(&h.to_bytes()).unwrap()
    }

    fn parse_value(v: &serde_json::Value) -> Result<StoreHeader, CryptoError> {
        StoreHeader::parse(&serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn create_unlock_round_trip() {
        let (h, key) = fixture();
        assert_eq!(h.store_id_hex(), hex(&h.store_id()));
        assert_eq!(h.key_id_hex(), key.key_id_hex());
        assert_eq!(h.kdf().m_kib, 65536);
        assert_eq!((h.kdf().t, h.kdf().p), (3, 4));
        let unlocked = h.unlock(PASS).unwrap();
        assert_eq!(unlocked.master(), key.master());
        assert_eq!(unlocked.key_id(), key.key_id());
        h.verify_key(&unlocked).unwrap();
    }

    #[test]
    fn wrong_passphrase_is_refused() {
        let (h, _) = fixture();
        assert!(matches!(
            h.unlock(b"correct horse battery stapler"),
            Err(CryptoError::WrongPassphrase)
        ));
    }

    #[test]
    fn header_bytes_are_canonical_and_parse_back() {
        let (h, _) = fixture();
        let bytes = h.to_bytes();
        let parsed = StoreHeader::parse(&bytes).unwrap();
        assert_eq!(&parsed, h);
        assert_eq!(parsed.to_bytes(), bytes);
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.starts_with(
                r#"{"epoch":1,"format":3,"kdf":{"m_kib":65536,"name":"argon2id","p":4,"#
            ),
            "{text}"
        );
        assert!(text.contains(r#""previous_keys":[]"#), "{text}");
        let v = json(h);
        assert_eq!(v["store_id"].as_str().unwrap().len(), 32);
        assert_eq!(v["key_check"].as_str().unwrap().len(), 64);
        assert_eq!(
            B64.decode(v["wrapped_key"].as_str().unwrap())
                .unwrap()
                .len(),
            60
        );
        assert_eq!(
            B64.decode(v["kdf"]["salt"].as_str().unwrap())
                .unwrap()
                .len(),
            16
        );
    }

    #[test]
    fn key_check_catches_a_wrong_key_without_any_session() {
        let (h, key) = fixture();
        // Same id, other bytes: only the key check can tell.
        let forged = DataKey::from_parts(key.key_id(), &[0x42; 32]);
        assert!(
            matches!(h.verify_key(&forged), Err(CryptoError::WrongKey { store_id }) if store_id == h.store_id_hex())
        );
        // Right bytes, other id.
        let renamed = DataKey::from_parts([0; 16], key.master());
        assert!(matches!(
            h.verify_key(&renamed),
            Err(CryptoError::WrongKey { .. })
        ));
        h.verify_key(key).unwrap();
        // The check covers the store id: the same key under another store id does not pass.
        let mut other = h.clone();
        other.store_id[0] ^= 1;
        assert!(matches!(
            other.verify_key(key),
            Err(CryptoError::WrongKey { .. })
        ));
    }

    #[test]
    fn parse_refuses_unknown_and_missing_fields() {
        let (h, _) = fixture();
        let mut v = json(h);
        v["comment"] = "hello".into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
        let mut v = json(h);
        v["kdf"]["pepper"] = 1.into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
        for field in [
            "store_id",
            "kdf",
            "key_id",
            "wrapped_key",
            "key_check",
            "format",
            "epoch",
            "previous_keys",
        ] {
            let mut v = json(h);
            v.as_object_mut().unwrap().remove(field);
            assert!(
                matches!(parse_value(&v), Err(CryptoError::Malformed { .. })),
                "{field}"
            );
        }
        // A duplicated field is refused too (serde_json's derive refuses duplicates).
        let text = String::from_utf8(h.to_bytes()).unwrap();
        let dup = text.replacen("\"format\":3,", "\"format\":3,\"format\":3,", 1);
        assert!(matches!(
            StoreHeader::parse(dup.as_bytes()),
            Err(CryptoError::Malformed { .. })
        ));
    }

    #[test]
    fn parse_refuses_newer_and_unknown_formats() {
        let (h, _) = fixture();
        let mut v = json(h);
        v["format"] = 4.into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::NewerFormat { found: 4 })
        ));
        // Format 2 is a format-1 store's header with previous keys and no epoch, and only that.
        v["format"] = 2.into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
        // A newer format is recognised even when its fields are unknown to this lore.
        assert!(matches!(
            StoreHeader::parse(br#"{"format":7,"whatever":[1,2]}"#),
            Err(CryptoError::NewerFormat { found: 7 })
        ));
        v["format"] = 0.into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
        v["format"] = "1".into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
    }

    #[test]
    fn parse_refuses_weak_and_excessive_kdf_parameters() {
        let (h, _) = fixture();
        for (field, value) in [("m_kib", 65535), ("t", 2), ("p", 3), ("m_kib", 8)] {
            let mut v = json(h);
            v["kdf"][field] = value.into();
            assert!(
                matches!(parse_value(&v), Err(CryptoError::WeakKdf)),
                "{field}={value}"
            );
        }
        for (field, value) in [("m_kib", u64::from(u32::MAX)), ("t", 1000), ("p", 1 << 20)] {
            let mut v = json(h);
            v["kdf"][field] = value.into();
            assert!(
                matches!(parse_value(&v), Err(CryptoError::Malformed { .. })),
                "{field}={value}"
            );
        }
        let mut v = json(h);
        v["kdf"]["m_kib"] = (1u64 << 33).into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
        let mut v = json(h);
        v["kdf"]["name"] = "argon2i".into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
        let mut v = json(h);
        v["kdf"]["version"] = 16.into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
    }

    #[test]
    fn parse_refuses_bad_lengths_hex_and_base64() {
        let (h, _) = fixture();
        let v0 = json(h);
        let sid = v0["store_id"].as_str().unwrap().to_string();
        let check = v0["key_check"].as_str().unwrap().to_string();
        let salt = B64.decode(v0["kdf"]["salt"].as_str().unwrap()).unwrap();
        let wrapped = B64.decode(v0["wrapped_key"].as_str().unwrap()).unwrap();
        let cases: Vec<(&str, Option<&str>, serde_json::Value)> = vec![
            ("store_id", None, sid[..30].into()),
            ("store_id", None, format!("{sid}00").into()),
            ("store_id", None, sid.to_uppercase().into()),
            ("store_id", None, format!("g{}", &sid[1..]).into()),
            ("store_id", None, 5.into()),
            ("key_id", None, sid[..31].into()),
            ("key_check", None, check[..62].into()),
            ("key_check", None, check.to_uppercase().into()),
            ("wrapped_key", None, B64.encode(&wrapped[..59]).into()),
            (
                "wrapped_key",
                None,
                B64.encode([wrapped.as_slice(), &[0]].concat()).into(),
            ),
            ("wrapped_key", None, "not base64!".into()),
            ("salt", Some("kdf"), B64.encode(&salt[..15]).into()),
            (
                "salt",
                Some("kdf"),
                B64.encode([salt.as_slice(), &[0]].concat()).into(),
            ),
            // Unpadded base64 is not the spec's encoding.
            (
                "salt",
                Some("kdf"),
                B64.encode(&salt).trim_end_matches('=').into(),
            ),
        ];
        for (field, parent, value) in cases {
            let mut v = v0.clone();
            match parent {
                Some(p) => v[p][field] = value.clone(),
                None => v[field] = value.clone(),
            }
            assert!(
                matches!(parse_value(&v), Err(CryptoError::Malformed { .. })),
                "{field}={value}"
            );
        }
    }

    #[test]
    fn parse_never_panics_on_truncations_and_flips() {
        let (h, _) = fixture();
        let bytes = h.to_bytes();
        for n in 0..bytes.len() {
            assert!(StoreHeader::parse(&bytes[..n]).is_err());
        }
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x20, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= bit;
                let _ = StoreHeader::parse(&b);
            }
        }
        for junk in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            b"\xff\xfe",
            b"{\"format\":1e400}",
        ] {
            assert!(StoreHeader::parse(junk).is_err());
        }
    }

    #[test]
    fn rewrap_keeps_the_data_key_and_drops_the_old_passphrase() {
        let (h, key) = fixture();
        let new = h.rewrap(key, b"a new passphrase").unwrap();
        assert_eq!(new.store_id(), h.store_id());
        assert_eq!(new.key_id_hex(), h.key_id_hex());
        assert_ne!(new.kdf().salt, h.kdf().salt);
        assert_eq!(new.key_check, h.key_check);
        let reparsed = StoreHeader::parse(&new.to_bytes()).unwrap();
        let unlocked = reparsed.unlock(b"a new passphrase").unwrap();
        assert_eq!(unlocked.master(), key.master());
        assert!(matches!(
            reparsed.unlock(PASS),
            Err(CryptoError::WrongPassphrase)
        ));
        // Rewrapping needs the store's own key.
        let stranger = DataKey::generate().unwrap();
        assert!(matches!(
            h.rewrap(&stranger, b"x"),
            Err(CryptoError::WrongKey { .. })
        ));
    }

    #[test]
    fn rotate_gives_a_new_key_under_the_same_store_id() {
        let (h, key) = fixture();
        let (new, new_key) = h.rotate(key, PASS).unwrap();
        assert_eq!(new.store_id(), h.store_id());
        assert_ne!(new.key_id_hex(), h.key_id_hex());
        assert_eq!(new.key_id_hex(), new_key.key_id_hex());
        assert_ne!(new_key.master(), key.master());
        new.verify_key(&new_key).unwrap();
        assert!(matches!(
            new.verify_key(key),
            Err(CryptoError::WrongKey { .. })
        ));
        assert!(matches!(
            h.verify_key(&new_key),
            Err(CryptoError::WrongKey { .. })
        ));
    }

    #[test]
    fn the_wrap_is_bound_to_the_store_id_and_key_id() {
        let (h, _) = fixture();
        // A header whose store id or key id was edited no longer unwraps, even with the right
        // passphrase: the wrap's AAD covers both.
        let mut v = json(h);
        let mut sid = v["store_id"].as_str().unwrap().to_string();
        let flipped = if sid.starts_with('0') { "1" } else { "0" };
        sid.replace_range(0..1, flipped);
        v["store_id"] = sid.into();
        let edited = parse_value(&v).unwrap();
        assert!(matches!(
            edited.unlock(PASS),
            Err(CryptoError::WrongPassphrase)
        ));
    }

    #[test]
    fn a_rotation_carries_every_earlier_key_under_the_new_one() {
        let (h, key) = fixture();
        assert_eq!(json(h)["format"], 3);
        assert_eq!(h.epoch(), 1);
        assert!(h.previous_keys(key).unwrap().is_empty());
        let (r1, k1) = h.rotate(key, b"second passphrase").unwrap();
        assert_eq!(r1.store_id(), h.store_id());
        assert_eq!(r1.epoch(), 2);
        let v = json(&r1);
        assert_eq!(v["format"], 3);
        assert_eq!(v["epoch"], 2);
        assert_eq!(v["previous_keys"].as_array().unwrap().len(), 1);
        let parsed = StoreHeader::parse(&r1.to_bytes()).unwrap();
        assert_eq!(parsed, r1);
        let earlier = parsed.previous_keys(&k1).unwrap();
        assert_eq!(earlier.len(), 1);
        assert_eq!(earlier[0].key_id(), key.key_id());
        assert_eq!(earlier[0].master(), key.master());
        // Only the current key opens them.
        assert!(matches!(
            parsed.previous_keys(key),
            Err(CryptoError::WrongKey { .. })
        ));
        // A second rotation: both earlier keys, newest first.
        let (r2, k2) = r1.rotate(&k1, b"third passphrase").unwrap();
        let earlier = r2.previous_keys(&k2).unwrap();
        let ids: Vec<_> = earlier.iter().map(DataKey::key_id).collect();
        assert_eq!(ids, vec![k1.key_id(), key.key_id()]);
        assert_eq!(r2.epoch(), 3);
        // A passphrase change keeps them, and the epoch.
        let rewrapped = r2.rewrap(&k2, b"fourth passphrase").unwrap();
        assert_eq!(rewrapped.epoch(), 3);
        assert_eq!(rewrapped.previous_keys(&k2).unwrap().len(), 2);
        assert_eq!(
            rewrapped.unlock(b"fourth passphrase").unwrap().key_id(),
            k2.key_id()
        );
    }

    #[test]
    fn altered_previous_keys_are_refused() {
        let (h, key) = fixture();
        let (r, k) = h.rotate(key, b"second passphrase").unwrap();
        let mut v = json(&r);
        // A wrap bound to another key id does not open.
        v["previous_keys"][0]["key_id"] = "00".repeat(16).into();
        let edited = parse_value(&v).unwrap();
        assert!(matches!(
            edited.previous_keys(&k),
            Err(CryptoError::Malformed { .. })
        ));
        // The current key id listed again, an epoch not above the keys before it, a list in
        // format 1, a short wrap.
        let mut v = json(&r);
        v["previous_keys"][0]["key_id"] = v["key_id"].clone();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
        let mut v = json(&r);
        v["epoch"] = 1.into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
        let mut v = json(&r);
        v["format"] = 1.into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
        let mut v = json(&r);
        v["previous_keys"][0]["wrapped_key"] = "AAAA".into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
        let mut v = json(&r);
        v["previous_keys"][0]["extra"] = 1.into();
        assert!(matches!(
            parse_value(&v),
            Err(CryptoError::Malformed { .. })
        ));
    }

    #[test]
    fn the_epoch_is_bound_to_the_key() {
        let (h, key) = fixture();
        let (r, k) = h.rotate(key, b"second passphrase").unwrap();
        assert!(r.verify_key(&k).is_ok());
        // A header whose epoch was raised or lowered by someone without the key no longer
        // checks against the key.
        for epoch in [2u64, 5] {
            let mut v = json(&r);
            v["epoch"] = (epoch + 1).into();
            let edited = parse_value(&v).unwrap();
            assert!(matches!(
                edited.verify_key(&k),
                Err(CryptoError::WrongKey { .. })
            ));
        }
    }

    #[test]
    fn format_1_headers_are_read_and_upgraded() {
        let (h, key) = fixture();
        // The same key as a format-1 header: no epoch, no previous_keys, the v1 key check.
        let mut v = json(h);
        let obj = v.as_object_mut().unwrap();
        obj.remove("epoch");
        obj.remove("previous_keys");
        obj.insert("format".into(), 1.into());
        let v1 = hmac(key.master(), &[b"lore.key-check.v1", &h.store_id()])
            .finalize()
            .into_bytes();
        obj.insert("key_check".into(), hex(&v1).into());
        let legacy = parse_value(&v).unwrap();
        assert_eq!((legacy.format(), legacy.epoch()), (1, 1));
        assert!(!legacy.is_format2());
        assert!(legacy.verify_key(key).is_ok());
        assert_eq!(legacy.to_bytes(), serde_json::to_vec(&v).unwrap());
        // Its upgrade: the same wraps, format 3, epoch 1, the v2 key check.
        let up = legacy.upgraded(key).unwrap();
        assert!(up.is_format2());
        assert_eq!(up.epoch(), 1);
        assert_eq!(up.key_id(), legacy.key_id());
        assert!(up.verify_key(key).is_ok());
        assert_eq!(up.unlock(PASS).unwrap().key_id(), key.key_id());
        assert_eq!(StoreHeader::parse(&up.to_bytes()).unwrap(), up);
        // A format-1 header with an epoch, or a format-3 one without, is refused.
        let mut bad = v.clone();
        bad["epoch"] = 1.into();
        assert!(parse_value(&bad).is_err());
        let mut bad = json(&up);
        bad.as_object_mut().unwrap().remove("epoch");
        assert!(parse_value(&bad).is_err());
    }
}
