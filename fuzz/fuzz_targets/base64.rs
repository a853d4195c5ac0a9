//! Lenient base64 decoding and the helpers around it: never panics, output
//! is bounded by the input, and whatever the standard encoder writes (at
//! least four characters) decodes back to the original.

#![no_main]

use base64::Engine;
use keysweep::detect::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(plain) = decode::base64(data) {
        assert!(plain.len() <= data.len() / 4 * 3 + 2);
    }
    let _ = decode::is_mostly_text(data);
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    if encoded.trim_end_matches('=').len() >= 4 {
        assert_eq!(
            decode::base64(encoded.as_bytes()).as_deref(),
            Some(data),
            "round trip"
        );
    }
    // The anchor fragments for a short literal: every alignment of its encoding.
    let plain = &data[..data.len().min(24)];
    for frag in decode::base64_fragments(plain) {
        assert!(frag.len() <= plain.len() * 4 / 3 + 1);
    }
});
