//! The lines git sends `git-remote-lore` on its stdin (gitremote-helpers(7)): each line of the
//! input goes through `protocol::parse`, and the whole input and each line through `unquote`
//! (the C-style unquoting of `option` values). Neither may panic on any line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lore::remote::protocol::{parse, unquote};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = unquote(&text);
    for line in text.split('\n') {
        let _ = parse(line);
        let _ = unquote(line);
    }
});
