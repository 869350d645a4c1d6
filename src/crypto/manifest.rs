//! The manifest, `lore-manifest` (docs/store-format.md, "The manifest"): sealed under the data
//! key in every ciphertext commit of a format-2 store, it says exactly what the commit is (its
//! parents, its header and session tree, its sequence number and key epoch, and the local
//! commit's own lines), so that nobody without the key can rewrite, withhold, replay or roll
//! back anything:
//!
//! ```text
//! prefix = "LOREMAN" ‖ 0x02 ‖ key_id(16) ‖ u64be(epoch) ‖ u64be(seq)
//! body   = JCS({"format": 2, "parents": [..], "header": .., "sessions": .., "commit": b64})
//! nonce  = HMAC(nonce_key, "lore.manifest-nonce.v2" ‖ prefix ‖ H(body))[0..12]
//! aad    = "lore.manifest.v2" ‖ store_id(16) ‖ prefix
//! blob   = prefix ‖ nonce ‖ AES-256-GCM(HKDF(master, "lore.manifest.v2"), nonce, body, aad)
//! ```
//!
//! The prefix is in the clear but authenticated, so a reader finds a verified parent's epoch
//! and sequence number without its key. Pure computation on bytes: object ids are hex strings.
//! Refuses anything malformed, larger than [`MAX_MANIFEST`], or sealed under another key.

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{CryptoError, DataKey, hex, hmac32, sha256};

const MAGIC: &[u8; 7] = b"LOREMAN";
const VERSION: u8 = 2;
/// "LOREMAN" ‖ version ‖ key_id ‖ epoch ‖ seq.
pub const PREFIX_LEN: usize = 7 + 1 + 16 + 8 + 8;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The largest manifest blob a reader opens (and a writer makes): 64 KiB.
pub const MAX_MANIFEST: usize = 64 * 1024;
/// The longest local commit "rest" (author, committer, message) a manifest carries.
pub const MAX_REST: usize = 16 * 1024;

/// What a manifest says about its commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The key's generation (the header's epoch).
    pub epoch: u64,
    /// 1 plus the largest sequence number of the commit's format-2 parents.
    pub seq: u64,
    /// The ciphertext commit's parents, in order, as lower-case hex object ids.
    pub parents: Vec<String>,
    /// The blob id of `lore-store.json`.
    pub header: String,
    /// The tree id of `sessions/`, if the store has sessions.
    pub sessions: Option<String>,
    /// The local commit's lines after `tree` and `parent` (author, committer, message).
    pub commit: Vec<u8>,
}

/// The clear, authenticated prefix of a manifest blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestPrefix {
    pub key_id: [u8; 16],
    pub epoch: u64,
    pub seq: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    format: u64,
    parents: Vec<String>,
    header: String,
    sessions: Option<String>,
    commit: String,
}

fn malformed(why: impl Into<String>) -> CryptoError {
    CryptoError::Malformed {
        what: "manifest",
        why: why.into(),
    }
}

/// Whether `s` is a git object id: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits.
fn is_object_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64)
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `rest` may be a commit's lines after `tree` and `parent`: at most [`MAX_REST`]
/// bytes, and no control byte but `\n` (no terminal escapes).
pub fn valid_rest(rest: &[u8]) -> bool {
    rest.len() <= MAX_REST && rest.iter().all(|&b| (b >= 0x20 && b != 0x7f) || b == b'\n')
}

fn prefix_bytes(p: &ManifestPrefix) -> [u8; PREFIX_LEN] {
    let mut out = [0u8; PREFIX_LEN];
    out[..7].copy_from_slice(MAGIC);
    out[7] = VERSION;
    out[8..24].copy_from_slice(&p.key_id);
    out[24..32].copy_from_slice(&p.epoch.to_be_bytes());
    out[32..40].copy_from_slice(&p.seq.to_be_bytes());
    out
}

fn aad(store_id: &[u8; 16], prefix: &[u8]) -> Vec<u8> {
    [b"lore.manifest.v2".as_slice(), store_id, prefix].concat()
}

/// Reads the clear prefix of a manifest blob (its key id, epoch and sequence number) without
/// opening it. Only trust it for a blob that was opened (verified) before.
pub fn read_prefix(blob: &[u8]) -> Result<ManifestPrefix, CryptoError> {
    if blob.len() < PREFIX_LEN + NONCE_LEN + TAG_LEN {
        return Err(malformed(format!("{} bytes is too short", blob.len())));
    }
    if blob.len() > MAX_MANIFEST {
        return Err(malformed(format!(
            "{} bytes is above the {MAX_MANIFEST}-byte limit",
            blob.len()
        )));
    }
    if &blob[..7] != MAGIC {
        return Err(malformed("it does not start with \"LOREMAN\""));
    }
    match blob[7] {
        VERSION => {}
        v if v > VERSION => {
            return Err(CryptoError::NewerFormat {
                found: u64::from(v),
            });
        }
        v => return Err(malformed(format!("version {v} is not a manifest version"))),
    }
    let mut key_id = [0u8; 16];
    key_id.copy_from_slice(&blob[8..24]);
    let mut word = [0u8; 8];
    word.copy_from_slice(&blob[24..32]);
    let epoch = u64::from_be_bytes(word);
    word.copy_from_slice(&blob[32..40]);
    let seq = u64::from_be_bytes(word);
    Ok(ManifestPrefix { key_id, epoch, seq })
}

/// Refuses a manifest whose object ids are not ids, or whose commit lines [`valid_rest`]
/// refuses: the same rules when sealing and when opening.
fn check(manifest: &Manifest) -> Result<(), CryptoError> {
    let ids = manifest
        .parents
        .iter()
        .chain(std::iter::once(&manifest.header))
        .chain(manifest.sessions.iter());
    for id in ids {
        if !is_object_id(id) {
            return Err(malformed(format!("{id:?} is not an object id")));
        }
    }
    if !valid_rest(&manifest.commit) {
        return Err(malformed(
            "the commit's author, committer or message holds a control character or is too long",
        ));
    }
    Ok(())
}

/// Seals `manifest` for the store `store_id` under `key`. Deterministic: the same manifest
/// always gives the same bytes. Refuses invalid object ids, a rest that [`valid_rest`] refuses
/// and a result above [`MAX_MANIFEST`].
pub fn seal_manifest(
    key: &DataKey,
    store_id: &[u8; 16],
    manifest: &Manifest,
) -> Result<Vec<u8>, CryptoError> {
    check(manifest)?;
    let body = Zeroizing::new(super::canonical_json(&Body {
        format: 2,
        parents: manifest.parents.clone(),
        header: manifest.header.clone(),
        sessions: manifest.sessions.clone(),
        commit: B64.encode(&manifest.commit),
    }));
    let prefix = prefix_bytes(&ManifestPrefix {
        key_id: key.key_id(),
        epoch: manifest.epoch,
        seq: manifest.seq,
    });
    let nonce_full = hmac32(
        key.nonce_key(),
        &[b"lore.manifest-nonce.v2", &prefix, &sha256(&body)],
    );
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&nonce_full[..NONCE_LEN]);
    let mut out = Vec::with_capacity(PREFIX_LEN + NONCE_LEN + body.len() + TAG_LEN);
    out.extend_from_slice(&prefix);
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(&body);
    let tag = Aes256Gcm::new(key.manifest_key().into())
        .encrypt_inout_detached(
            (&nonce).into(),
            &aad(store_id, &prefix),
            (&mut out[start..]).into(),
        )
        .map_err(|_| malformed("too large to seal"))?;
    out.extend_from_slice(&tag);
    if out.len() > MAX_MANIFEST {
        return Err(malformed(format!(
            "{} bytes is above the {MAX_MANIFEST}-byte limit",
            out.len()
        )));
    }
    Ok(out)
}

/// Opens a manifest blob of the store `store_id` with `key`. A blob sealed under another key
/// is `WrongKey`; any alteration (of the prefix too), or a blob of another store, is
/// `Tampered`; anything that does not follow the format is `Malformed`. Never panics.
pub fn open_manifest(
    key: &DataKey,
    store_id: &[u8; 16],
    blob: &[u8],
) -> Result<Manifest, CryptoError> {
    let prefix = read_prefix(blob)?;
    if prefix.key_id != key.key_id() {
        return Err(CryptoError::WrongKey {
            store_id: hex(store_id),
        });
    }
    let (head, rest) = blob.split_at(PREFIX_LEN);
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (sealed, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut nonce_bytes = [0u8; NONCE_LEN];
    nonce_bytes.copy_from_slice(nonce);
    let mut tag_bytes = [0u8; TAG_LEN];
    tag_bytes.copy_from_slice(tag);
    let mut body = Zeroizing::new(sealed.to_vec());
    Aes256Gcm::new(key.manifest_key().into())
        .decrypt_inout_detached(
            (&nonce_bytes).into(),
            &aad(store_id, head),
            body.as_mut_slice().into(),
            (&tag_bytes).into(),
        )
        .map_err(|_| CryptoError::Tampered {
            what: "the manifest".into(),
        })?;
    let expected = hmac32(
        key.nonce_key(),
        &[b"lore.manifest-nonce.v2", head, &sha256(&body)],
    );
    if expected[..NONCE_LEN] != nonce_bytes {
        return Err(malformed(
            "its nonce is not the synthetic nonce of its content",
        ));
    }
    let b: Body = serde_json::from_slice(&body).map_err(|e| malformed(e.to_string()))?;
    if b.format != 2 {
        return Err(malformed(format!("its body has format {}", b.format)));
    }
    let commit = B64
        .decode(&b.commit)
        .map_err(|_| malformed("commit is not canonical base64"))?;
    if B64.encode(&commit) != b.commit {
        return Err(malformed("commit is not canonical base64"));
    }
    let manifest = Manifest {
        epoch: prefix.epoch,
        seq: prefix.seq,
        parents: b.parents,
        header: b.header,
        sessions: b.sessions,
        commit,
    };
    check(&manifest)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::from_parts([7; 16], &[9; 32])
    }

    fn sample() -> Manifest {
        Manifest {
            epoch: 2,
            seq: 5,
            parents: vec!["a".repeat(40)],
            header: "b".repeat(40),
            sessions: Some("c".repeat(40)),
            commit: b"author lore <lore@localhost> 1 +0000\ncommitter lore <lore@localhost> 1 +0000\n\nlore: sync 1 session\n".to_vec(),
        }
    }

    #[test]
    fn round_trip_is_deterministic() {
        let m = sample();
        let a = seal_manifest(&key(), &[1; 16], &m).unwrap();
        let b = seal_manifest(&key(), &[1; 16], &m).unwrap();
        assert_eq!(a, b);
        assert_eq!(open_manifest(&key(), &[1; 16], &a).unwrap(), m);
        let p = read_prefix(&a).unwrap();
        assert_eq!((p.epoch, p.seq, p.key_id), (2, 5, [7; 16]));
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let blob = seal_manifest(&key(), &[1; 16], &sample()).unwrap();
        for i in 0..blob.len() {
            let mut b = blob.clone();
            b[i] ^= 0x01;
            assert!(open_manifest(&key(), &[1; 16], &b).is_err(), "byte {i}");
        }
        // Another store, another key.
        assert!(matches!(
            open_manifest(&key(), &[2; 16], &blob),
            Err(CryptoError::Tampered { .. })
        ));
        let other = DataKey::from_parts([8; 16], &[9; 32]);
        assert!(matches!(
            open_manifest(&other, &[1; 16], &blob),
            Err(CryptoError::WrongKey { .. })
        ));
        // Cut short, too long, never a panic.
        for n in 0..blob.len() {
            assert!(open_manifest(&key(), &[1; 16], &blob[..n]).is_err());
        }
        assert!(read_prefix(&vec![0u8; MAX_MANIFEST + 1]).is_err());
    }

    #[test]
    fn control_characters_and_bad_ids_are_refused_when_sealing() {
        let mut m = sample();
        m.commit = b"author x <x> 1 +0000\ncommitter x <x> 1 +0000\n\n\x1b]0;pwned\x07\n".to_vec();
        assert!(seal_manifest(&key(), &[1; 16], &m).is_err());
        let mut m = sample();
        m.parents = vec!["A".repeat(40)];
        assert!(seal_manifest(&key(), &[1; 16], &m).is_err());
        assert!(valid_rest(b"author a <b> 1 +0000\n\nmsg\n"));
        assert!(!valid_rest(b"a\rb"));
        assert!(!valid_rest(&vec![b'a'; MAX_REST + 1]));
    }
}

#[cfg(test)]
mod fuzz_seed {
    use super::*;

    /// The fuzz target's seed (fuzz/corpus/manifest/valid-sealed) opens under the target's key.
    #[test]
    fn the_fuzz_seed_opens_under_the_targets_key() {
        let key = DataKey::from_parts([7; 16], &[9; 32]);
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fuzz/corpus/manifest/valid-sealed"
        );
        if std::env::var_os("LORE_WRITE_FUZZ_SEED").is_some() {
            let m = Manifest {
                epoch: 1,
                seq: 2,
                parents: vec!["a".repeat(40)],
                header: "b".repeat(40),
                sessions: None,
                commit: b"author lore <lore@localhost> 1 +0000\ncommitter lore <lore@localhost> 1 +0000\n\nlore: sync 1 session\n".to_vec(),
            };
            std::fs::write(path, seal_manifest(&key, &[5; 16], &m).unwrap()).unwrap();
        }
        let blob = std::fs::read(path).unwrap();
        let m = open_manifest(&key, &[5; 16], &blob).unwrap();
        assert_eq!((m.epoch, m.seq), (1, 2));
    }
}
