//! UTF-16 sniffing and transcoding: any bytes in, valid UTF-8 out, at most
//! three bytes for each two read.

#![no_main]

use keysweep::detect::decode::{self, Utf16};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode::sniff_utf16(data);
    for order in [Utf16::Le, Utf16::Be] {
        let text = decode::transcode_utf16(data, order);
        assert!(std::str::from_utf8(&text).is_ok());
        assert!(text.len() <= data.len() / 2 * 3);
    }
});
