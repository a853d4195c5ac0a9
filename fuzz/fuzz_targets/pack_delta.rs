//! Git delta application on hostile bytes (a repository's packs are
//! input like any other): never panics, never allocates past the object
//! cap, and an accepted delta gives exactly the size its header names,
//! made only of the base's bytes and its own literals.

#![no_main]

use keysweep::source::git::apply_delta;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: how much of the rest is the base.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (base, delta) = rest.split_at(usize::from(split).min(rest.len()));
    let mut out = Vec::new();
    if apply_delta(base, delta, &mut out).is_some() {
        // The result size is the second number of the header.
        let mut sizes = Vec::new();
        let mut value = 0u64;
        let mut shift = 0;
        for &b in delta {
            value |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                sizes.push(value);
                value = 0;
                shift = 0;
                if sizes.len() == 2 {
                    break;
                }
            }
        }
        assert_eq!(sizes, [base.len() as u64, out.len() as u64]);
    }
});
