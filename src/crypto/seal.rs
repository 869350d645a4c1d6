//! The encrypted record, `<id>.enc` (docs/store-format.md, "The encrypted record"), version 2,
//! padded to Padmé sizes so that the host does not learn a record's exact size:
//!
//! ```text
//! plain  = gzip(JCS(record))               -- RFC 1952, mtime 0, no name, OS 255, level 1
//! body   = u32be(len(plain)) ‖ plain ‖ 0x00 × (padme(4 + len(plain)) - 4 - len(plain))
//! aad    = "lore.session.v2" ‖ store_id(16) ‖ key_id(16) ‖ string(id) ‖ H(meta.json bytes)
//! nonce  = HMAC(nonce_key, "lore.nonce.v2" ‖ string(id) ‖ H(body))[0..12]
//! .enc   = "LORE" ‖ 0x02 ‖ key_id(16) ‖ nonce(12) ‖ AES-256-GCM(enc_key, nonce, body, aad)
//! ```
//!
//! Version 1 (no padding: `body = plain`, labels `.v1`) is still read, never written. A
//! padding that is not exactly what a writer would write (a length that does not fit, a size
//! that is not the Padmé size, a non-zero pad byte) is refused.

use std::io::{Read, Write};

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};
use flate2::Compression;
use zeroize::Zeroizing;

use super::{CryptoError, DataKey, hex, hmac32, push_string, sha256};

const MAGIC: &[u8; 4] = b"LORE";
/// The version lore writes: padded.
const VERSION: u8 = 2;
/// The version before padding, still read.
const VERSION_1: u8 = 1;
/// "LORE" ‖ version ‖ key_id ‖ nonce.
const PREFIX_LEN: usize = 4 + 1 + 16 + 12;
const TAG_LEN: usize = 16;
/// The largest record lore seals or opens: 64 MiB (2^26 bytes) of JCS bytes, ten times the
/// largest real transcripts. The cap on opening keeps a hostile blob (a gzip bomb) from
/// exhausting memory or filling lore.db.
pub const MAX_RECORD: usize = 64 << 20;
/// The most a record may grow on decompression: 1000 times its gzip bytes (deflate's own
/// ceiling is about 1032). Real records compress 5 to 20 times.
pub const MAX_RATIO: usize = 1000;
/// The largest gzip of a [`MAX_RECORD`] record: one that did not compress (gzip adds at most
/// 5 bytes per 16 KiB block and 18 of header and trailer).
const MAX_GZIP: usize = MAX_RECORD + MAX_RECORD / 1024 + 128;
/// The largest `.enc` lore writes or reads: the padded body of a [`MAX_RECORD`] record that
/// did not compress, plus the 49 bytes around it. A reader checks a blob's size against it
/// before reading the blob.
pub const MAX_SEALED: usize = PREFIX_LEN + padme(4 + MAX_GZIP) + TAG_LEN;

/// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication
/// with PURBs", PETS 2019): `len` rounded up so that only its top `⌊log2 ⌊log2 len⌋⌋ + 1`
/// bits may be set. The overhead is below 12% (at most 2^(E-S) - 1 bytes for a length of
/// 2^E or more, S = ⌊log2 E⌋ + 1), and a size reveals O(log log len) bits instead of
/// O(log len). Lengths below 2 are their own size.
pub const fn padme(len: usize) -> usize {
    if len < 2 {
        return len;
    }
    let e = usize::BITS - 1 - len.leading_zeros();
    let s = u32::BITS - e.leading_zeros();
    let mask = (1usize << (e - s)) - 1;
    (len + mask) & !mask
}

fn malformed(what: &'static str, why: impl Into<String>) -> CryptoError {
    CryptoError::Malformed {
        what,
        why: why.into(),
    }
}

/// Encrypts one session record (its canonical JSON bytes, `JCS(record)`) for the remote tree:
/// the `.enc` blob of session `session_id` in the store `store_id`, bound to `meta` (the exact
/// bytes of its `.meta.json`). Deterministic: the same inputs always give the same bytes, so an
/// unchanged session is never uploaded again. Refuses an invalid session id and a record above
/// [`MAX_RECORD`] (64 MiB). The body is padded to a Padmé size ([`padme`]).
pub fn seal(
    key: &DataKey,
    store_id: &[u8; 16],
    session_id: &str,
    meta: &[u8],
    record: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_session_id(session_id)?;
    if record.len() > MAX_RECORD {
        return Err(malformed(
            "session record",
            format!(
                "{} bytes is above the {} MiB limit",
                record.len(),
                MAX_RECORD >> 20
            ),
        ));
    }
    let plain = gzip(record)?;
    if record.len() > plain.len().saturating_mul(MAX_RATIO) {
        return Err(malformed(
            "session record",
            format!("it compresses more than {MAX_RATIO} times, which readers refuse"),
        ));
    }
    // The padded body, written in place behind the prefix (no second copy of the record).
    let body_len = padme(4 + plain.len());
    let mut out = Vec::with_capacity(PREFIX_LEN + body_len + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&key.key_id());
    out.extend_from_slice(&[0; 12]);
    let plain_len =
        u32::try_from(plain.len()).map_err(|_| malformed("session record", "too large to seal"))?;
    out.extend_from_slice(&plain_len.to_be_bytes());
    out.extend_from_slice(&plain);
    out.resize(PREFIX_LEN + body_len, 0);
    let nonce = synthetic_nonce(key, VERSION, session_id, &out[PREFIX_LEN..]);
    out[21..PREFIX_LEN].copy_from_slice(&nonce);
    let aad = aad(VERSION, store_id, &key.key_id(), session_id, meta);
    let tag = Aes256Gcm::new(key.enc_key().into())
        .encrypt_inout_detached((&nonce).into(), &aad, (&mut out[PREFIX_LEN..]).into())
        .map_err(|_| malformed("session record", "too large for AES-256-GCM"))?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Reverses [`seal`]: the record's JCS bytes. Any alteration of the blob, or a blob paired with
/// another session id, another store, another key or other metadata bytes, is `Tampered`; a
/// blob too short, without the magic, or of version 0 is `Malformed`, of a higher version
/// `NewerFormat`; a blob sealed under another key id is `WrongKey`. A blob whose nonce is not
/// the synthetic nonce of its content, whose content is not exactly one gzip member, or which
/// decompresses to more than [`MAX_RECORD`] bytes or [`MAX_RATIO`] times its size is
/// `Malformed`, as is a blob above [`MAX_SEALED`] bytes. Never panics on any input.
pub fn open(
    key: &DataKey,
    store_id: &[u8; 16],
    session_id: &str,
    meta: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    open_owned(key, store_id, session_id, meta, sealed.to_vec())
}

/// [`open`] of a blob the caller owns: decrypted in place, so the ciphertext is never copied.
pub fn open_owned(
    key: &DataKey,
    store_id: &[u8; 16],
    session_id: &str,
    meta: &[u8],
    sealed: Vec<u8>,
) -> Result<Vec<u8>, CryptoError> {
    const WHAT: &str = "sealed record";
    check_session_id(session_id)?;
    if sealed.len() > MAX_SEALED {
        return Err(malformed(
            WHAT,
            format!(
                "{} bytes is above the {MAX_SEALED}-byte limit",
                sealed.len()
            ),
        ));
    }
    if sealed.len() < PREFIX_LEN + TAG_LEN {
        return Err(malformed(
            WHAT,
            format!(
                "{} bytes is shorter than the {} of an empty one",
                sealed.len(),
                PREFIX_LEN + TAG_LEN
            ),
        ));
    }
    let version = check_prefix(&sealed, key, store_id)?;
    let mut plain = Zeroizing::new(sealed);
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&plain[21..PREFIX_LEN]);
    let mut tag_bytes = [0u8; TAG_LEN];
    let body_end = plain.len() - TAG_LEN;
    tag_bytes.copy_from_slice(&plain[body_end..]);
    // Decrypt the body where it lies, then drop the prefix and the tag.
    plain.truncate(body_end);

    let aad = aad(version, store_id, &key.key_id(), session_id, meta);
    Aes256Gcm::new(key.enc_key().into())
        .decrypt_inout_detached(
            (&nonce).into(),
            &aad,
            (&mut plain[PREFIX_LEN..]).into(),
            (&tag_bytes).into(),
        )
        .map_err(|_| CryptoError::Tampered {
            what: format!("the sealed record of session {session_id}"),
        })?;
    let body = &plain[PREFIX_LEN..];
    if synthetic_nonce(key, version, session_id, body) != nonce {
        return Err(malformed(
            WHAT,
            "its nonce is not the synthetic nonce of its content",
        ));
    }
    let plain = if version == VERSION_1 {
        body
    } else {
        unpad(body)?
    };
    gunzip(plain, MAX_RECORD)
}

/// The gzip bytes of a version-2 body, `u32be(len) ‖ plain ‖ zeros`, refusing any padding
/// a writer would not write: a length that does not fit, a body that is not the Padmé size
/// of `4 + len`, a non-zero pad byte.
fn unpad(body: &[u8]) -> Result<&[u8], CryptoError> {
    const WHAT: &str = "sealed record";
    let Some((len, rest)) = body.split_first_chunk::<4>() else {
        return Err(malformed(WHAT, "its body is shorter than its length field"));
    };
    let len = usize::try_from(u32::from_be_bytes(*len)).unwrap_or(usize::MAX);
    if len > rest.len() {
        return Err(malformed(
            WHAT,
            format!(
                "its length field says {len} bytes but {} follow",
                rest.len()
            ),
        ));
    }
    if body.len() != padme(4 + len) {
        return Err(malformed(
            WHAT,
            format!(
                "its padding is wrong: {} bytes where {len} bytes pad to {}",
                body.len(),
                padme(4 + len)
            ),
        ));
    }
    let (plain, pad) = rest.split_at(len);
    if pad.iter().any(|&b| b != 0) {
        return Err(malformed(WHAT, "its padding holds non-zero bytes"));
    }
    Ok(plain)
}

/// Checks the first bytes of a `.enc` blob (at least [`PREFIX_LEN`] of them): the magic, the
/// version and the key id. Cheap, so done before anything else.
pub fn check_sealed_prefix(
    prefix: &[u8],
    key: &DataKey,
    store_id: &[u8; 16],
) -> Result<(), CryptoError> {
    if prefix.len() < PREFIX_LEN {
        return Err(malformed("sealed record", "it is shorter than its prefix"));
    }
    check_prefix(prefix, key, store_id).map(|_| ())
}

/// The blob's version, once its magic, version and key id are checked.
fn check_prefix(sealed: &[u8], key: &DataKey, store_id: &[u8; 16]) -> Result<u8, CryptoError> {
    const WHAT: &str = "sealed record";
    let prefix = &sealed[..PREFIX_LEN];
    if &prefix[..4] != MAGIC {
        return Err(malformed(WHAT, "it does not start with \"LORE\""));
    }
    let version = prefix[4];
    match version {
        VERSION | VERSION_1 => {}
        0 => return Err(malformed(WHAT, "version 0 is not a version of lore")),
        v => {
            return Err(CryptoError::NewerFormat {
                found: u64::from(v),
            });
        }
    }
    if prefix[5..21] != key.key_id() {
        return Err(CryptoError::WrongKey {
            store_id: hex(store_id),
        });
    }
    Ok(version)
}

/// A session id matches `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`.
fn check_session_id(id: &str) -> Result<(), CryptoError> {
    let b = id.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        let shown: String = id.chars().take(140).collect();
        Err(malformed(
            "session id",
            format!("{shown:?} does not match [A-Za-z0-9][A-Za-z0-9._-]{{0,127}}"),
        ))
    }
}

/// `"lore.session.v<version>" ‖ store_id ‖ key_id ‖ string(id) ‖ H(meta)`: the version in
/// the label, so that a blob relabelled with another version fails authentication.
fn aad(
    version: u8,
    store_id: &[u8; 16],
    key_id: &[u8; 16],
    session_id: &str,
    meta: &[u8],
) -> Vec<u8> {
    let mut aad = Vec::with_capacity(15 + 16 + 16 + 4 + session_id.len() + 32);
    aad.extend_from_slice(if version == VERSION_1 {
        b"lore.session.v1"
    } else {
        b"lore.session.v2"
    });
    aad.extend_from_slice(store_id);
    aad.extend_from_slice(key_id);
    push_string(&mut aad, session_id);
    aad.extend_from_slice(&sha256(meta));
    aad
}

/// `HMAC(nonce_key, "lore.nonce.v<version>" ‖ string(id) ‖ H(body))[0..12]` (the body is
/// `plain` in version 1).
fn synthetic_nonce(key: &DataKey, version: u8, session_id: &str, body: &[u8]) -> [u8; 12] {
    let mut id = Vec::with_capacity(4 + session_id.len());
    push_string(&mut id, session_id);
    let label: &[u8] = if version == VERSION_1 {
        b"lore.nonce.v1"
    } else {
        b"lore.nonce.v2"
    };
    let mac = hmac32(key.nonce_key(), &[label, &id, &sha256(body)]);
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&mac[..12]);
    nonce
}

/// RFC 1952 gzip, one member: mtime 0, no name, no extra field, no comment, OS 255, level 1
/// (the fastest: compressing is most of the cost of sealing, and level 6 saves little on JSON).
fn gzip(record: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    // Reserve enough for incompressible input, so the buffer is never reallocated (a
    // reallocation would leave a copy of the compressed record behind, unzeroized).
    let bound = record.len() + record.len() / 1024 + 128;
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::with_capacity(bound), Compression::fast());
    let fail = |e: std::io::Error| malformed("session record", format!("gzip failed: {e}"));
    enc.write_all(record).map_err(fail)?;
    Ok(Zeroizing::new(enc.finish().map_err(fail)?))
}

/// Decompresses exactly one gzip member as a stream, refusing trailing bytes and output above
/// `cap` bytes ([`MAX_RECORD`] outside tests) or above [`MAX_RATIO`] times the input: it stops
/// one byte past the limit, so memory never holds more than the limit.
fn gunzip(plain: &[u8], cap: usize) -> Result<Vec<u8>, CryptoError> {
    const WHAT: &str = "sealed record";
    let by_ratio = plain.len().saturating_mul(MAX_RATIO);
    let limit = cap.min(by_ratio);
    let mut dec = flate2::bufread::GzDecoder::new(plain);
    let mut out = Zeroizing::new(Vec::with_capacity(
        plain.len().saturating_mul(4).min(limit).min(8 << 20),
    ));
    (&mut dec)
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| malformed(WHAT, format!("its content is not valid gzip: {e}")))?;
    if out.len() > limit {
        return Err(malformed(
            WHAT,
            if limit == cap {
                format!("it decompresses to more than the limit of {cap} bytes")
            } else {
                format!(
                    "it decompresses to more than {MAX_RATIO} times its {} bytes (a gzip bomb?)",
                    plain.len()
                )
            },
        ));
    }
    if !dec.into_inner().is_empty() {
        return Err(malformed(WHAT, "bytes follow its gzip member"));
    }
    Ok(std::mem::take(&mut *out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::random;

    const ID: &str = "3f2c9e1a-7b4d-4e2f-9a1b-0c8d7e6f5a4b";
    const META: &[u8] = br#"{"git_branch":"main","id":"3f2c","machine_id":null,"message_count":2,"started_at":1,"tool":"claude","updated_at":2}"#;
    const RECORD: &[u8] = br#"{"annotations":[],"format":1,"kind":"session","links":[],"messages":[{"text":"hello hello hello hello"}],"session":{"id":"3f2c"},"tags":[]}"#;

    fn key() -> DataKey {
        DataKey::from_parts([0x11; 16], &[0x22; 32])
    }

    const STORE: [u8; 16] = [0x33; 16];

    #[test]
    fn seal_open_round_trip() {
        let k = key();
        let blob = seal(&k, &STORE, ID, META, RECORD).unwrap();
        assert_eq!(&blob[..4], b"LORE");
        assert_eq!(blob[4], 2);
        assert_eq!(&blob[5..21], &k.key_id());
        assert_eq!(open(&k, &STORE, ID, META, &blob).unwrap(), RECORD);
        // Empty record and a large, compressible one.
        let blob = seal(&k, &STORE, ID, META, b"").unwrap();
        assert_eq!(open(&k, &STORE, ID, META, &blob).unwrap(), b"");
        let big = RECORD.repeat(20_000);
        let blob = seal(&k, &STORE, ID, META, &big).unwrap();
        assert!(blob.len() < big.len() / 10);
        assert_eq!(open(&k, &STORE, ID, META, &blob).unwrap(), big);
    }

    #[test]
    fn the_layout_is_the_spec_s() {
        let k = key();
        let blob = seal(&k, &STORE, ID, META, RECORD).unwrap();
        let plain = gzip(RECORD).unwrap();
        // gzip header: magic, deflate, no flags, mtime 0, xfl 4 (fastest), OS 255.
        assert_eq!(&plain[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255]);
        // body = u32be(len(plain)) ‖ plain ‖ zeros, padded to padme(4 + len(plain)).
        let mut expected = (plain.len() as u32).to_be_bytes().to_vec();
        expected.extend_from_slice(&plain);
        expected.resize(padme(4 + plain.len()), 0);
        let mut id = vec![0, 0, 0, ID.len() as u8];
        id.extend_from_slice(ID.as_bytes());
        let mac = hmac32(k.nonce_key(), &[b"lore.nonce.v2", &id, &sha256(&expected)]);
        assert_eq!(&blob[21..33], &mac[..12]);
        assert_eq!(blob.len(), 33 + expected.len() + 16);
        let aad = [
            b"lore.session.v2".as_slice(),
            &STORE,
            &k.key_id(),
            &id,
            &sha256(META),
        ]
        .concat();
        let mut body = blob[33..blob.len() - 16].to_vec();
        let tag: [u8; 16] = blob[blob.len() - 16..].try_into().unwrap();
        Aes256Gcm::new(k.enc_key().into())
            .decrypt_inout_detached(
                blob[21..33].try_into().unwrap(),
                &aad,
                body.as_mut_slice().into(),
                (&tag).into(),
            )
            .unwrap();
        assert_eq!(body, expected);
    }

    #[test]
    fn padme_follows_purbs_and_its_overhead_stays_below_12_percent() {
        // Values from the definition: only the top ⌊log2 E⌋ + 1 bits of a length may be set.
        for (len, padded) in [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 3),
            (9, 10),
            (100, 104),
            (1000, 1024),
            (1025, 1088),
            (65_537, 67_584),
            (1 << 20, 1 << 20),
            ((1 << 20) + 1, (1 << 20) + (1 << 15)),
        ] {
            assert_eq!(padme(len), padded, "{len}");
        }
        let mut len = 2usize;
        while len < 1 << 27 {
            for l in [len, len + 1, len + len / 3] {
                let p = padme(l);
                assert!(p >= l && (p - l) * 100 < l * 12, "{l} -> {p}");
                assert_eq!(padme(p), p, "{l} -> {p} is not a fixed point");
            }
            len = len * 5 / 4 + 1;
        }
        assert_eq!(MAX_SEALED, 49 + 69_206_016);
    }

    #[test]
    fn records_of_nearby_sizes_seal_to_the_same_size() {
        let k = key();
        // Incompressible records of 40_000 to 40_400 bytes: their .enc sizes fall in one or
        // two buckets, while unpadded they would all differ.
        let sizes: std::collections::BTreeSet<usize> = (0..=400)
            .step_by(20)
            .map(|extra| {
                let record = letters(40_000 + extra);
                let blob = seal(&k, &STORE, ID, META, &record).unwrap();
                assert_eq!(open(&k, &STORE, ID, META, &blob).unwrap(), record);
                blob.len()
            })
            .collect();
        assert!(sizes.len() <= 2, "{sizes:?}");
        for size in &sizes {
            assert_eq!(padme(size - 49), size - 49, "{size}");
        }
    }

    #[test]
    fn a_version_1_blob_still_opens_and_cannot_pass_for_version_2() {
        let k = key();
        let plain = gzip(RECORD).unwrap();
        let v1 = seal_raw(&k, VERSION_1, &plain, None);
        assert_eq!(v1[4], 1);
        assert_eq!(open(&k, &STORE, ID, META, &v1).unwrap(), RECORD);
        // Relabelled as version 2 (or a version-2 blob as 1): the AAD differs, so it fails.
        let mut relabelled = v1.clone();
        relabelled[4] = 2;
        assert!(matches!(
            open(&k, &STORE, ID, META, &relabelled),
            Err(CryptoError::Tampered { .. })
        ));
        let mut v2 = seal(&k, &STORE, ID, META, RECORD).unwrap();
        v2[4] = 1;
        assert!(matches!(
            open(&k, &STORE, ID, META, &v2),
            Err(CryptoError::Tampered { .. })
        ));
    }

    #[test]
    fn padding_that_a_writer_would_not_write_is_refused() {
        let k = key();
        let plain = gzip(RECORD).unwrap();
        let good = padded(&plain);
        assert_eq!(
            open(&k, &STORE, ID, META, &seal_raw(&k, VERSION, &good, None)).unwrap(),
            RECORD
        );
        let n = good.len();
        assert!(n > 4 + plain.len(), "the test record needs some padding");
        // A non-zero pad byte.
        let mut nonzero = good.clone();
        nonzero[n - 1] = 1;
        // A length field too large, or too small (the rest passes as padding).
        let mut long = good.clone();
        long[..4].copy_from_slice(&(plain.len() as u32 + 1).to_be_bytes());
        let mut huge = good.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        let mut short = good.clone();
        short[..4].copy_from_slice(&(plain.len() as u32 - 1).to_be_bytes());
        // Padded to the wrong size: more, or none.
        let mut more = good.clone();
        more.extend_from_slice(&[0; 16]);
        let mut none = (plain.len() as u32).to_be_bytes().to_vec();
        none.extend_from_slice(&plain);
        for (what, bad) in [
            ("non-zero", nonzero),
            ("long", long),
            ("huge", huge),
            ("short", short),
            ("more", more),
            ("none", none),
            ("empty", Vec::new()),
            ("three bytes", vec![0, 0, 0]),
        ] {
            match open(&k, &STORE, ID, META, &seal_raw(&k, VERSION, &bad, None)) {
                Err(CryptoError::Malformed { .. }) => {}
                r => panic!("{what}: {:?}", r.map(|v| v.len())),
            }
        }
    }

    #[test]
    fn seal_is_deterministic_and_nonces_follow_content() {
        let k = key();
        let a = seal(&k, &STORE, ID, META, RECORD).unwrap();
        let b = seal(&k, &STORE, ID, META, RECORD).unwrap();
        assert_eq!(a, b);
        let other = seal(&k, &STORE, ID, META, b"{\"format\":1}").unwrap();
        assert_ne!(a[21..33], other[21..33]);
        // The nonce depends on the id too; the metadata only enters the AAD.
        let other_id = seal(&k, &STORE, "other", META, RECORD).unwrap();
        assert_ne!(a[21..33], other_id[21..33]);
        let other_meta = seal(&k, &STORE, ID, b"{}", RECORD).unwrap();
        assert_eq!(a[21..33], other_meta[21..33]);
        assert_ne!(a, other_meta);
    }

    #[test]
    fn every_single_byte_flip_fails() {
        let k = key();
        let blob = seal(&k, &STORE, ID, META, RECORD).unwrap();
        for i in 0..blob.len() {
            for bit in [0x01u8, 0x80] {
                let mut b = blob.clone();
                b[i] ^= bit;
                let err = open(&k, &STORE, ID, META, &b).unwrap_err();
                let expected = match i {
                    0..=3 => matches!(err, CryptoError::Malformed { .. }),
                    4 => matches!(
                        err,
                        CryptoError::Malformed { .. } | CryptoError::NewerFormat { .. }
                    ),
                    5..=20 => matches!(err, CryptoError::WrongKey { .. }),
                    _ => matches!(err, CryptoError::Tampered { .. }),
                };
                assert!(expected, "byte {i} bit {bit:#x}: {err}");
            }
        }
        // Truncations and extensions fail too.
        for n in 0..blob.len() {
            assert!(open(&k, &STORE, ID, META, &blob[..n]).is_err(), "{n}");
        }
        let longer = [blob.as_slice(), &[0]].concat();
        assert!(open(&k, &STORE, ID, META, &longer).is_err());
    }

    #[test]
    fn swapped_id_other_store_other_key_or_edited_meta_fail() {
        let k = key();
        let blob = seal(&k, &STORE, ID, META, RECORD).unwrap();
        let tampered =
            |r: Result<Vec<u8>, CryptoError>| matches!(r, Err(CryptoError::Tampered { .. }));
        assert!(tampered(open(&k, &STORE, "another-session", META, &blob)));
        assert!(tampered(open(&k, &[0x34; 16], ID, META, &blob)));
        let mut meta = META.to_vec();
        *meta.last_mut().unwrap() = b' ';
        assert!(tampered(open(&k, &STORE, ID, &meta, &blob)));
        assert!(tampered(open(&k, &STORE, ID, b"", &blob)));
        // Same key id, other key bytes (a forged key file): authentication fails.
        let forged = DataKey::from_parts(k.key_id(), &[0x23; 32]);
        assert!(tampered(open(&forged, &STORE, ID, META, &blob)));
        // Another key id: WrongKey, naming the store.
        let other = DataKey::from_parts([0x12; 16], k.master());
        match open(&other, &STORE, ID, META, &blob) {
            Err(CryptoError::WrongKey { store_id }) => assert_eq!(store_id, hex(&STORE)),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn bad_session_ids_are_refused() {
        let k = key();
        let long = "a".repeat(129);
        for id in ["", ".hidden", "-x", "a/b", "a b", "é", "a\0", long.as_str()] {
            assert!(
                matches!(
                    seal(&k, &STORE, id, META, RECORD),
                    Err(CryptoError::Malformed {
                        what: "session id",
                        ..
                    })
                ),
                "{id:?}"
            );
        }
        let ok = "a".repeat(128);
        let blob = seal(&k, &STORE, &ok, META, RECORD).unwrap();
        assert!(open(&k, &STORE, &ok, META, &blob).is_ok());
        assert!(matches!(
            open(&k, &STORE, "../x", META, &blob),
            Err(CryptoError::Malformed {
                what: "session id",
                ..
            })
        ));
    }

    #[test]
    fn short_unknown_and_newer_blobs_are_refused() {
        let k = key();
        let blob = seal(&k, &STORE, ID, META, RECORD).unwrap();
        assert!(matches!(
            open(&k, &STORE, ID, META, &blob[..48]),
            Err(CryptoError::Malformed { .. })
        ));
        let mut b = blob.clone();
        b[..4].copy_from_slice(b"EROL");
        assert!(matches!(
            open(&k, &STORE, ID, META, &b),
            Err(CryptoError::Malformed { .. })
        ));
        let mut b = blob.clone();
        b[4] = 3;
        assert!(matches!(
            open(&k, &STORE, ID, META, &b),
            Err(CryptoError::NewerFormat { found: 3 })
        ));
        b[4] = 0;
        assert!(matches!(
            open(&k, &STORE, ID, META, &b),
            Err(CryptoError::Malformed { .. })
        ));
    }

    /// `u32be(len(plain)) ‖ plain ‖ zeros`, as a version-2 writer pads.
    fn padded(plain: &[u8]) -> Vec<u8> {
        let mut body = (plain.len() as u32).to_be_bytes().to_vec();
        body.extend_from_slice(plain);
        body.resize(padme(4 + plain.len()), 0);
        body
    }

    /// Seals an arbitrary `body` (version 1: the gzip bytes; version 2: the padded body) the
    /// way `seal` would, with a synthetic or a chosen nonce: what a key holder who does not
    /// follow the spec (or lore before padding) could publish.
    fn seal_raw(k: &DataKey, version: u8, body: &[u8], nonce: Option<[u8; 12]>) -> Vec<u8> {
        let nonce = nonce.unwrap_or_else(|| synthetic_nonce(k, version, ID, body));
        let aad = aad(version, &STORE, &k.key_id(), ID, META);
        let mut out = [MAGIC.as_slice(), &[version], &k.key_id(), &nonce, body].concat();
        let tag = Aes256Gcm::new(k.enc_key().into())
            .encrypt_inout_detached((&nonce).into(), &aad, (&mut out[PREFIX_LEN..]).into())
            .unwrap();
        out.extend_from_slice(&tag);
        out
    }

    #[test]
    fn content_that_seal_would_not_write_is_refused() {
        let k = key();
        let plain = gzip(RECORD).unwrap();
        assert_eq!(
            open(&k, &STORE, ID, META, &seal_raw(&k, VERSION_1, &plain, None)).unwrap(),
            RECORD
        );
        // A random nonce: authentic, but not synthetic.
        let random_nonce = seal_raw(&k, VERSION_1, &plain, Some(random::<12>().unwrap()));
        assert!(matches!(
            open(&k, &STORE, ID, META, &random_nonce),
            Err(CryptoError::Malformed { .. })
        ));
        // Not gzip, trailing bytes, two members, a corrupt CRC.
        let mut trailing = plain.to_vec();
        trailing.push(0);
        let two = [plain.as_slice(), &plain].concat();
        let mut crc = plain.to_vec();
        let n = crc.len();
        crc[n - 8] ^= 1;
        for bad in [RECORD.to_vec(), trailing, two, crc, Vec::new()] {
            assert!(matches!(
                open(&k, &STORE, ID, META, &seal_raw(&k, VERSION_1, &bad, None)),
                Err(CryptoError::Malformed { .. })
            ));
        }
    }

    /// `n` bytes of lower-case letters from a fixed LCG: compresses about 1.6 times.
    fn letters(n: usize) -> Vec<u8> {
        let mut x: u32 = 1;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b'a' + u8::try_from((x >> 16) % 26).unwrap()
            })
            .collect()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), Compression::new(9));
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn a_record_above_the_cap_is_refused() {
        // With a 1 MiB cap, decompression stops one byte past it.
        let cap = 1 << 20;
        assert_eq!(gunzip(&gz(&letters(cap)), cap).unwrap().len(), cap);
        match gunzip(&gz(&letters(cap + 1)), cap) {
            Err(CryptoError::Malformed { why, .. }) => assert!(why.contains("limit"), "{why}"),
            r => panic!("{:?}", r.map(|v| v.len())),
        }
        assert_eq!(MAX_RECORD, 64 << 20);
    }

    #[test]
    fn a_gzip_bomb_is_refused_by_its_ratio() {
        // 16 MiB of zeros: about 16 KiB of gzip, a ratio above 1000, under the 64 MiB cap.
        let bomb = gz(&vec![0u8; 16 << 20]);
        assert!(bomb.len() < 20 << 10);
        match gunzip(&bomb, MAX_RECORD) {
            Err(CryptoError::Malformed { why, .. }) => {
                assert!(why.contains("1000 times"), "{why}")
            }
            r => panic!("{:?}", r.map(|v| v.len())),
        }
        // lore's own writer (gzip level 1) stays far below the ratio even on the most
        // repetitive record, so it never writes what readers refuse.
        let k = key();
        let mut record = br#"{"a":""#.to_vec();
        record.extend(std::iter::repeat_n(b'a', 4 << 20));
        record.extend_from_slice(br#""}"#);
        let sealed = seal(&k, &STORE, ID, META, &record).unwrap();
        assert_eq!(open(&k, &STORE, ID, META, &sealed).unwrap(), record);
        // A record that compresses 100 times is fine.
        let mut mixed = Vec::new();
        for _ in 0..64 {
            mixed.extend(letters(160));
            mixed.extend(std::iter::repeat_n(b'x', 16_000));
        }
        assert_eq!(gunzip(&gz(&mixed), MAX_RECORD).unwrap(), mixed);
    }

    #[test]
    fn a_blob_above_max_sealed_is_refused_before_decryption() {
        let k = key();
        let mut big = vec![0u8; MAX_SEALED + 1];
        big[..4].copy_from_slice(b"LORE");
        match open_owned(&k, &STORE, ID, META, big) {
            Err(CryptoError::Malformed { why, .. }) => assert!(why.contains("limit"), "{why}"),
            r => panic!("{:?}", r.map(|v| v.len())),
        }
    }

    #[test]
    fn open_never_panics_on_junk() {
        let k = key();
        for len in [0usize, 1, 4, 5, 21, 32, 33, 48, 49, 50, 200] {
            let mut junk = vec![0u8; len];
            if len >= 21 {
                junk[..4].copy_from_slice(b"LORE");
                junk[4] = 1;
                junk[5..21].copy_from_slice(&k.key_id());
            }
            assert!(open(&k, &STORE, ID, META, &junk).is_err(), "{len}");
        }
    }
}
