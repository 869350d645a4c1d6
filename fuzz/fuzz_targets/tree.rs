//! Raw tree and commit objects fetched from a host: `parse_tree` (one level of a store's
//! tree) and `RawCommit::parse` (tree and parent lines of a commit) must refuse, never panic
//! on, any object bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lore::gitstore::tree::{RawCommit, parse_tree};

fuzz_target!(|data: &[u8]| {
    let _ = parse_tree(data);
    let _ = RawCommit::parse(data);
});
