//! What a GitHub Actions event asks to scan, computed from the event payload
//! (`GITHUB_EVENT_NAME`, `GITHUB_EVENT_PATH`) and the clone itself, never
//! from the payload's `commits[]` (capped, and empty for new branches).
//!
//! - push: `before..after`; a new branch or tag (`before` all zeros): the
//!   commits no other remote branch has; a force push whose `before` is not
//!   in the clone: the same, and we say so; a deletion: nothing.
//! - pull_request / pull_request_target: `base.sha..head.sha`.
//! - schedule, workflow_dispatch and anything else: the full history.
//!
//! A clone too shallow for the range is an error with the fix, never a
//! silent pass.

use crate::integrations::{is_zero_oid, CommitSet};
use serde_json::Value;

/// What to scan for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiPlan {
    /// Nothing was pushed (a branch or tag deletion).
    Nothing { reason: String },
    /// A set of commits; `note` explains a fallback.
    Commits {
        set: CommitSet,
        what: String,
        note: Option<String>,
    },
    /// Every blob in the repository.
    FullHistory { reason: String },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CiError {
    #[error("the {event} event payload has no {field}")]
    Missing { event: String, field: &'static str },
    #[error("commit {sha} ({what}) is not in this clone, so the range cannot be scanned\nhint: check out with full history: actions/checkout with `fetch-depth: 0`")]
    NotInClone { sha: String, what: &'static str },
}

/// The repository facts a plan needs.
pub trait Checkout {
    /// Whether `sha` names a commit present in the clone.
    fn has_commit(&self, sha: &str) -> bool;
    /// Remote-tracking refs (and tags) other than `pushed_ref`'s own: what
    /// the repository already had before this push.
    fn other_refs(&self, pushed_ref: &str) -> Vec<String>;
}

fn field<'a>(
    event: &'a Value,
    name: &str,
    path: &[&str],
    label: &'static str,
) -> Result<&'a str, CiError> {
    let mut v = event;
    for p in path {
        v = &v[*p];
    }
    v.as_str().ok_or(CiError::Missing {
        event: name.to_string(),
        field: label,
    })
}

/// Plans the scan for `event_name` with payload `event`.
pub fn plan(event_name: &str, event: &Value, clone: &dyn Checkout) -> Result<CiPlan, CiError> {
    match event_name {
        "push" => plan_push(event, clone),
        "pull_request" | "pull_request_target" => {
            let base = field(
                event,
                event_name,
                &["pull_request", "base", "sha"],
                "pull_request.base.sha",
            )?;
            let head = field(
                event,
                event_name,
                &["pull_request", "head", "sha"],
                "pull_request.head.sha",
            )?;
            for (sha, what) in [
                (head, "the pull request head"),
                (base, "the pull request base"),
            ] {
                if !clone.has_commit(sha) {
                    return Err(CiError::NotInClone {
                        sha: sha.to_string(),
                        what,
                    });
                }
            }
            Ok(CiPlan::Commits {
                set: CommitSet {
                    tips: vec![head.to_string()],
                    exclude: vec![base.to_string()],
                },
                what: format!("pull request commits {}..{}", short(base), short(head)),
                note: None,
            })
        }
        other => Ok(CiPlan::FullHistory {
            reason: format!("{other} event: scanning the full history"),
        }),
    }
}

fn plan_push(event: &Value, clone: &dyn Checkout) -> Result<CiPlan, CiError> {
    let after = field(event, "push", &["after"], "after")?;
    let before = event["before"].as_str().unwrap_or("");
    let pushed_ref = event["ref"].as_str().unwrap_or("");
    if event["deleted"].as_bool() == Some(true) || is_zero_oid(after) {
        return Ok(CiPlan::Nothing {
            reason: format!("{pushed_ref} was deleted: nothing to scan"),
        });
    }
    if !clone.has_commit(after) {
        return Err(CiError::NotInClone {
            sha: after.to_string(),
            what: "the pushed commit",
        });
    }
    let new_commits = |note: Option<String>| CiPlan::Commits {
        set: CommitSet {
            tips: vec![after.to_string()],
            exclude: clone.other_refs(pushed_ref),
        },
        what: format!("commits of {pushed_ref} not on any other branch"),
        note,
    };
    if before.is_empty() || is_zero_oid(before) {
        return Ok(new_commits(None));
    }
    if !clone.has_commit(before) {
        return Ok(new_commits(Some(format!(
            "the previous tip {} is not in this clone (a force push?); scanning the commits of {pushed_ref} that no other branch has",
            short(before)
        ))));
    }
    Ok(CiPlan::Commits {
        set: CommitSet {
            tips: vec![after.to_string()],
            exclude: vec![before.to_string()],
        },
        what: format!("pushed commits {}..{}", short(before), short(after)),
        note: None,
    })
}

/// The first 12 characters, for messages. The payload is untrusted JSON: a
/// "SHA" may hold any characters, so cut at a character boundary (slicing
/// 12 bytes panicked inside a multi-byte one).
fn short(sha: &str) -> &str {
    sha.char_indices()
        .nth(12)
        .map_or(sha, |(end, _)| &sha[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fake(Vec<&'static str>);
    impl Checkout for Fake {
        fn has_commit(&self, sha: &str) -> bool {
            self.0.contains(&sha)
        }
        fn other_refs(&self, _: &str) -> Vec<String> {
            vec!["refs/remotes/origin/main".into()]
        }
    }

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn push_events() {
        let clone = Fake(vec![A, B]);
        let p = plan(
            "push",
            &json!({"ref": "refs/heads/main", "before": B, "after": A}),
            &clone,
        )
        .unwrap();
        assert!(
            matches!(p, CiPlan::Commits { ref set, note: None, .. } if set.exclude == vec![B.to_string()])
        );
        let p = plan(
            "push",
            &json!({"ref": "refs/heads/feat", "before": Z, "after": A, "created": true}),
            &clone,
        )
        .unwrap();
        assert!(
            matches!(p, CiPlan::Commits { ref set, .. } if set.exclude == vec!["refs/remotes/origin/main".to_string()])
        );
        let p = plan(
            "push",
            &json!({"ref": "refs/heads/feat", "before": A, "after": Z, "deleted": true}),
            &clone,
        )
        .unwrap();
        assert!(matches!(p, CiPlan::Nothing { .. }));
        let forced = Fake(vec![A]);
        let p = plan(
            "push",
            &json!({"ref": "refs/heads/main", "before": B, "after": A, "forced": true}),
            &forced,
        )
        .unwrap();
        assert!(matches!(p, CiPlan::Commits { note: Some(ref n), .. } if n.contains("force push")));
        let shallow = Fake(vec![]);
        assert!(matches!(
            plan("push", &json!({"before": B, "after": A}), &shallow),
            Err(CiError::NotInClone { .. })
        ));
        assert!(matches!(
            plan("push", &json!({}), &clone),
            Err(CiError::Missing { .. })
        ));
    }

    #[test]
    fn any_string_where_a_sha_belongs_is_planned_without_panicking() {
        // Found by fuzzing (fuzz/fuzz_targets/github_event.rs): a `before`
        // with a multi-byte character across byte 12 panicked in `short`.
        let before = "0123456789aé€𝄞";
        let p = plan(
            "push",
            &json!({"ref": "refs/heads/main", "before": before, "after": A}),
            &Fake(vec![A]),
        )
        .unwrap();
        assert!(
            matches!(p, CiPlan::Commits { note: Some(ref n), .. } if n.contains("0123456789aé ")),
            "{p:?}"
        );
        let p = plan(
            "push",
            &json!({"ref": "refs/heads/main", "before": before, "after": A}),
            &Fake(vec![A, before]),
        )
        .unwrap();
        assert!(
            matches!(p, CiPlan::Commits { ref what, .. } if what == "pushed commits 0123456789aé..111111111111"),
            "{p:?}"
        );
        assert_eq!(short("ééééééééééééééé"), "éééééééééééé");
        assert_eq!(short("abc"), "abc");
    }

    #[test]
    fn pull_requests_and_others() {
        let ev = json!({"pull_request": {"base": {"sha": B}, "head": {"sha": A}}});
        let p = plan("pull_request", &ev, &Fake(vec![A, B])).unwrap();
        assert!(
            matches!(p, CiPlan::Commits { ref set, .. } if set.tips == vec![A.to_string()] && set.exclude == vec![B.to_string()])
        );
        let e = plan("pull_request", &ev, &Fake(vec![A])).unwrap_err();
        assert!(e.to_string().contains("fetch-depth: 0"), "{e}");
        assert!(matches!(
            plan("schedule", &json!({}), &Fake(vec![])),
            Ok(CiPlan::FullHistory { .. })
        ));
        assert!(matches!(
            plan("workflow_dispatch", &json!({}), &Fake(vec![])),
            Ok(CiPlan::FullHistory { .. })
        ));
    }
}
