//! The GitHub event planner on any payload, with a fake clone whose
//! contents the fuzzer picks: it plans or explains, never panics.
//!
//! Half the inputs are raw JSON; the other half are NUL-separated field
//! values dropped into the shapes real push and pull-request payloads
//! have, so the planner sees any string where it expects a SHA or a ref
//! (random bytes rarely make JSON that deep).

#![no_main]

use keysweep::integrations::github::event::{self as github_event, Checkout, CiPlan};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

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

    fn branch_ref(&self, name: &str) -> Option<String> {
        // Only names the planner checked may reach git.
        assert!(github_event::is_branch_name(name), "{name:?}");
        (self.parity % 3 != 0).then(|| format!("refs/remotes/origin/{name}"))
    }
}

fn structured(mode: u8, fields: &[u8]) -> Value {
    let text = String::from_utf8_lossy(fields);
    let mut parts = text.split('\0');
    let mut next = || parts.next().unwrap_or("").to_string();
    let (r, before, after, base, head) = (next(), next(), next(), next(), next());
    let mut event = json!({
        "ref": r,
        "before": before,
        "after": after,
        "pull_request": {"base": {"sha": base}, "head": {"sha": head}},
        "repository": {"default_branch": next()},
    });
    if mode & 2 != 0 {
        event["deleted"] = json!(true);
    }
    if mode & 4 != 0 {
        event["before"] = Value::Null;
    }
    event
}

fuzz_target!(|data: &[u8]| {
    let [event, parity, mode, rest @ ..] = data else {
        return;
    };
    let payload = if mode % 2 == 0 {
        match serde_json::from_slice::<Value>(rest) {
            Ok(v) => v,
            Err(_) => return,
        }
    } else {
        structured(*mode, rest)
    };
    let name = EVENTS[*event as usize % EVENTS.len()];
    let clone = Fake { parity: *parity };
    match github_event::plan(name, &payload, &clone) {
        Ok(CiPlan::Commits {
            set,
            what,
            note,
            trusted,
        }) => {
            assert_eq!(set.tips.len(), 1);
            assert!(!what.is_empty());
            // Nothing excluded means nothing compared with: it is said.
            assert!(!set.exclude.is_empty() || note.is_some());
            // The trusted commit is never one under judgement (a push whose
            // tip did not move judges nothing).
            assert!(trusted.as_deref() != Some(set.tips[0].as_str()) || set.exclude.contains(&set.tips[0]));
        }
        Ok(CiPlan::Nothing { reason } | CiPlan::FullHistory { reason, .. }) => {
            assert!(!reason.is_empty())
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
