//! `lore-store.json` as fetched from the remote: `StoreHeader::parse` must refuse, never panic
//! on, any bytes a host or an attacker with write access could put there.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lore::crypto::StoreHeader;

fuzz_target!(|data: &[u8]| {
    let _ = StoreHeader::parse(data);
});
