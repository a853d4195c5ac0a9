//! Archive walking (zip, gzip, tar, xz, zstd, bzip2, 7z) with small limits:
//! damaged or hostile archives are reported, never fatal, and the limits
//! hold: no member over its cap, no more decompressed bytes than the budget,
//! nesting no deeper than allowed, and opening a zip reads it at most a few
//! times over.

#![no_main]

use keysweep::detect::archive::{self, Kind, Limits};
use libfuzzer_sys::fuzz_target;
use std::cell::Cell;

const LIMITS: Limits = Limits {
    max_depth: 2,
    max_member_bytes: 1 << 20,
    max_total_bytes: 4 << 20,
    max_entries: 64,
};

/// Walks `data` as `kind`, and archives inside it as the detector does;
/// returns the bytes handed out.
fn walk(data: &[u8], kind: Kind, depth: u8, budget: &Cell<u64>) -> u64 {
    let mut handed = 0u64;
    let mut members = 0u64;
    let w = archive::walk(data, kind, &LIMITS, budget, &mut |name, bytes| {
        let _ = name.len();
        assert!(bytes.len() as u64 <= LIMITS.max_member_bytes);
        members += 1;
        handed += bytes.len() as u64;
        if depth + 1 < LIMITS.max_depth {
            if let Some(inner) = archive::sniff(bytes) {
                handed += walk(bytes, inner, depth + 1, budget);
            }
        }
    });
    assert_eq!(w.members, members);
    assert!(w.index_bytes_read <= 4 * data.len() as u64);
    assert!(members as usize <= LIMITS.max_entries);
    handed
}

fuzz_target!(|data: &[u8]| {
    // Every reader on every input: the sniffer only decides which one runs
    // first in the detector, the readers must survive anything.
    let _ = archive::sniff(data);
    for kind in [
        Kind::Zip,
        Kind::Gzip,
        Kind::Tar,
        Kind::Xz,
        Kind::Zstd,
        Kind::Bzip2,
        Kind::SevenZ,
    ] {
        let budget = Cell::new(LIMITS.max_total_bytes);
        let handed = walk(data, kind, 0, &budget);
        assert!(handed <= LIMITS.max_total_bytes);
        assert_eq!(budget.get(), LIMITS.max_total_bytes - handed);
    }
});
