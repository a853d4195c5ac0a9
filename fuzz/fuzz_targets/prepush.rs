//! The pre-push hook's stdin parser and planner: any text is either parsed
//! into ref updates or rejected with the line it failed on, and the plan
//! scans only what is pushed, each tip and exclusion once.

#![no_main]

use keysweep::integrations::prepush::{self, PrePushError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let updates = match prepush::parse(text) {
        Ok(u) => u,
        Err(e) => {
            let PrePushError::Malformed { line, text: shown } = &e;
            assert!(*line >= 1 && *line <= text.lines().count());
            assert!(shown.chars().count() <= 200);
            let _ = e.to_string();
            return;
        }
    };
    // The fuzzer decides which remote oids exist locally.
    let known = |oid: &str| oid.bytes().map(u32::from).sum::<u32>() % 2 == 0;
    let remote_refs = vec![
        "refs/remotes/origin/main".to_string(),
        "refs/remotes/origin/dev".to_string(),
    ];
    let set = prepush::plan(&updates, &known, &remote_refs);
    for tip in &set.tips {
        assert!(updates
            .iter()
            .any(|u| &u.local_oid == tip && !u.is_deletion()));
    }
    for (i, t) in set.tips.iter().enumerate() {
        assert!(!set.tips[..i].contains(t), "tip {t} twice");
    }
    for (i, x) in set.exclude.iter().enumerate() {
        assert!(!set.exclude[..i].contains(x), "exclusion {x} twice");
    }
    if updates.iter().all(|u| u.is_deletion()) {
        assert!(set.tips.is_empty() && set.exclude.is_empty());
    }
});
