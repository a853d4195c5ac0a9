//! The detector on raw bytes: whatever a file holds, `scan` returns (no
//! panic, no runaway allocation) and what it returns is well-formed.

#![no_main]

use keysweep::detect::Detector;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

// Built once: construction compiles the anchor automaton.
static DETECTOR: OnceLock<Detector> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let detector = DETECTOR.get_or_init(Detector::new);
    let found = detector.scan(data);
    // One blob contributes a bounded number of findings (issue 20.3).
    assert!(found.credentials.len() <= keysweep::finding::MAX_FINDINGS_PER_BLOB);
    for c in &found.credentials {
        assert!(
            c.access_key_id.is_some() || c.secret_access_key.is_some() || c.session_token.is_some(),
            "a credential has at least one part"
        );
        if let Some(id) = &c.access_key_id {
            assert_eq!(id.value.len(), 20);
            assert!(id.position.line >= 1 && id.position.column >= 1);
        }
        if let Some(s) = &c.secret_access_key {
            assert_eq!(s.value.expose().len(), 40);
            assert!(s.position.line >= 1 && s.position.column >= 1);
        }
        if let Some(t) = &c.session_token {
            assert!(t.value.expose().len() >= 100);
        }
    }
});
