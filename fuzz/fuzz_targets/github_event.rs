//! The GitHub event planner on any JSON payload, with a fake clone whose
//! contents the fuzzer picks: it plans or explains, never panics.

#![no_main]

use keysweep::integrations::github_event::{self, Checkout, CiPlan};
use libfuzzer_sys::fuzz_target;

const EVENTS: [&str; 6] = [
    "push",
    "pull_request",
    "pull_request_target",
    "schedule",
    "workflow_dispatch",
    "merge_group",
];

/// A clone that has a commit when `parity` says so.
struct Fake {
    parity: u8,
}

impl Checkout for Fake {
    fn has_commit(&self, sha: &str) -> bool {
        sha.bytes().fold(0u8, |a, b| a.wrapping_add(b)) % 2 == self.parity % 2
    }

    fn other_refs(&self, pushed_ref: &str) -> Vec<String> {
        vec![format!("refs/remotes/origin/not-{pushed_ref}")]
    }
}

fuzz_target!(|data: &[u8]| {
    let [event, parity, payload @ ..] = data else {
        return;
    };
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return;
    };
    let name = EVENTS[*event as usize % EVENTS.len()];
    let clone = Fake { parity: *parity };
    match github_event::plan(name, &payload, &clone) {
        Ok(CiPlan::Commits { set, what, note }) => {
            assert_eq!(set.tips.len(), 1);
            assert!(!what.is_empty());
            let _ = note;
        }
        Ok(CiPlan::Nothing { reason } | CiPlan::FullHistory { reason }) => {
            assert!(!reason.is_empty())
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
