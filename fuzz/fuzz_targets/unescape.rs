//! `%XX`, `\/`, `\uXXXX`, `\u{X}`, `\xXX` and `&#…;` un-escaping: never panics,
//! and what it calls decoded is always shorter than the input (every escape shrinks).

#![no_main]

use keysweep::detect::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((plain, _encoding)) = decode::unescape(data) {
        assert!(plain.len() < data.len(), "an escape always shrinks");
    }
});
