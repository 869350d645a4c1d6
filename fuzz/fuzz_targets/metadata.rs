//! The JSON documents of a session store read back from git: `<id>.meta.json` files
//! (`Meta::parse`) and decrypted or plaintext session records (`meta_of`, which reads the
//! fields the metadata is made from and checks the id).

#![no_main]

use libfuzzer_sys::fuzz_target;
use lore::gitstore::record::{Meta, meta_of};

fuzz_target!(|data: &[u8]| {
    let _ = Meta::parse(data);
    let _ = meta_of(data, "some-id");
});
