//! `lore-manifest` blobs as fetched from the remote: `crypto::read_prefix`, which reads the
//! clear prefix of a verified parent's manifest without the key, and `crypto::open_manifest`
//! under a fixed data key and store id.
//!
//! The seed corpus holds a valid manifest sealed under this key (see docs/fuzzing.md), so the
//! fuzzer starts past the size, magic, version and key-id checks; the AES-GCM tag stops the rest
//! without the key, as it should.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lore::crypto::{DataKey, open_manifest, read_prefix};

/// The seed corpus is sealed under exactly these values.
const KEY_ID: [u8; 16] = [7; 16];
const MASTER: [u8; 32] = [9; 32];
const STORE_ID: [u8; 16] = [5; 16];

fuzz_target!(|data: &[u8]| {
    let _ = read_prefix(data);
    let key = DataKey::from_parts(KEY_ID, &MASTER);
    let _ = open_manifest(&key, &STORE_ID, data);
});
