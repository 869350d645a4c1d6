//! `<id>.enc` blobs and their `.meta.json` bytes as fetched from the remote, opened with
//! `crypto::open` under a fixed data key, store id and session id.
//!
//! Input layout: the first byte is the length of the metadata (clamped to what is left), then
//! the metadata bytes, then the sealed blob. The seed corpus holds one valid blob sealed under
//! this key (see docs/fuzzing.md), so the fuzzer starts past the length, magic, version and
//! key-id checks; the AES-GCM tag stops everything else without the key, as it should.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lore::crypto::{DataKey, open};

/// The seed corpus is sealed under exactly these values.
const KEY_ID: [u8; 16] = [7; 16];
const MASTER: [u8; 32] = [9; 32];
const STORE_ID: [u8; 16] = [5; 16];
const SESSION_ID: &str = "fuzz-session";

fuzz_target!(|data: &[u8]| {
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let (meta, sealed) = rest.split_at(usize::from(len).min(rest.len()));
    let key = DataKey::from_parts(KEY_ID, &MASTER);
    let _ = open(&key, &STORE_ID, SESSION_ID, meta, sealed);
});
