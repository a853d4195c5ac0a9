//! What a GitHub Actions event asks to scan, computed from the event payload
//! (`GITHUB_EVENT_NAME`, `GITHUB_EVENT_PATH`) and the clone itself, never
//! from the payload's `commits[]` (capped, and empty for new branches).
//!
//! - push: `before..after`; a new branch or tag (`before` all zeros), or a
//!   force push whose `before` is not in the clone: the commits the
//!   repository's default branch (named by the payload) does not have, and
//!   nothing else hides commits: not tags, not other new branches (a push of
//!   several refs at once brings them all into the checkout). A push that
//!   creates the default branch itself, or a clone without it: every commit
//!   of the pushed ref, and we say so. A deletion: nothing.
//! - pull_request / pull_request_target: `base.sha..head.sha`.
//! - schedule, workflow_dispatch and anything else: the full history.
//!
//! Each plan also names the commit whose `.keysweep.toml` may be trusted:
//! one that is not under judgement (the push's previous tip, the default
//! branch, the pull request's base), or none.
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
        /// The commit whose configuration applies, if any is trusted.
        trusted: Option<String>,
    },
    /// Every blob in the repository.
    FullHistory {
        reason: String,
        trusted: Option<String>,
    },
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
    /// The ref of branch `name` in the clone (its remote-tracking ref, or a
    /// local branch), when the clone has it.
    fn branch_ref(&self, name: &str) -> Option<String>;
}

/// Whether `name` can be a branch name (git's check-ref-format rules, most
/// of them): the payload is untrusted and the name is handed to git.
pub fn is_branch_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && name
            .chars()
            .all(|c| !c.is_control() && !" ~^:?*[\\".contains(c))
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
                trusted: Some(base.to_string()),
            })
        }
        // Scheduled and manual runs check out a branch of the repository
        // itself, not code under review.
        other => Ok(CiPlan::FullHistory {
            reason: format!("{other} event: scanning the full history"),
            trusted: Some("HEAD".to_string()),
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
    if !(before.is_empty() || is_zero_oid(before)) && clone.has_commit(before) {
        return Ok(CiPlan::Commits {
            set: CommitSet {
                tips: vec![after.to_string()],
                exclude: vec![before.to_string()],
            },
            what: format!("pushed commits {}..{}", short(before), short(after)),
            note: None,
            trusted: Some(before.to_string()),
        });
    }
    // A new ref, or a force push whose previous tip is gone.
    let forced = (!(before.is_empty() || is_zero_oid(before))).then(|| {
        format!(
            "the previous tip {} is not in this clone (a force push?)",
            short(before)
        )
    });
    let every_commit = |why: String| CiPlan::Commits {
        set: CommitSet {
            tips: vec![after.to_string()],
            exclude: Vec::new(),
        },
        what: format!("every commit of {pushed_ref}"),
        note: Some(match &forced {
            Some(f) => format!("{f}; {why}"),
            None => why,
        }),
        trusted: None,
    };
    let default = event["repository"]["default_branch"]
        .as_str()
        .filter(|d| is_branch_name(d));
    let Some(default) = default else {
        return Ok(every_commit(
            "the event names no default branch to compare with: every commit of the pushed ref is scanned".into(),
        ));
    };
    if pushed_ref == format!("refs/heads/{default}") {
        return Ok(every_commit(format!(
            "{pushed_ref} is the default branch, with no earlier tip to compare with: every commit of it is scanned"
        )));
    }
    match clone.branch_ref(default) {
        Some(base) => Ok(CiPlan::Commits {
            set: CommitSet {
                tips: vec![after.to_string()],
                exclude: vec![base.clone()],
            },
            what: format!("commits of {pushed_ref} not on the default branch {default}"),
            note: forced,
            trusted: Some(base),
        }),
        None => Ok(every_commit(format!(
            "the default branch {default} is not in this clone: every commit of the pushed ref is scanned"
        ))),
    }
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
        fn branch_ref(&self, name: &str) -> Option<String> {
            (name == "main").then(|| "refs/remotes/origin/main".into())
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
        let repo = json!({"default_branch": "main"});
        for pushed in ["refs/heads/feat", "refs/tags/v1", "refs/heads/other"] {
            let p = plan(
                "push",
                &json!({"ref": pushed, "before": Z, "after": A, "created": true, "repository": repo}),
                &clone,
            )
            .unwrap();
            assert!(
                matches!(p, CiPlan::Commits { ref set, ref trusted, .. }
                    if set.exclude == vec!["refs/remotes/origin/main".to_string()]
                    && trusted.as_deref() == Some("refs/remotes/origin/main")),
                "{pushed}: {p:?}"
            );
        }
        // The default branch created, no default named, or one the clone
        // lacks: every commit of the ref, said so, no config trusted.
        for (pushed, repo) in [
            ("refs/heads/main", json!({"default_branch": "main"})),
            ("refs/heads/feat", json!({})),
            ("refs/heads/feat", json!({"default_branch": "trunk"})),
            (
                "refs/heads/feat",
                json!({"default_branch": "--upload-pack=x"}),
            ),
            ("refs/heads/feat", json!({"default_branch": "a..b"})),
        ] {
            let p = plan(
                "push",
                &json!({"ref": pushed, "before": Z, "after": A, "repository": repo}),
                &clone,
            )
            .unwrap();
            assert!(
                matches!(p, CiPlan::Commits { ref set, note: Some(_), trusted: None, .. } if set.exclude.is_empty()),
                "{pushed} {repo}: {p:?}"
            );
        }
        let p = plan(
            "push",
            &json!({"ref": "refs/heads/feat", "before": A, "after": Z, "deleted": true}),
            &clone,
        )
        .unwrap();
        assert!(matches!(p, CiPlan::Nothing { .. }));
        let forced = Fake(vec![A]);
        for pushed in ["refs/heads/main", "refs/heads/feat"] {
            let p = plan(
                "push",
                &json!({"ref": pushed, "before": B, "after": A, "forced": true, "repository": repo}),
                &forced,
            )
            .unwrap();
            assert!(
                matches!(p, CiPlan::Commits { note: Some(ref n), .. } if n.contains("force push")),
                "{p:?}"
            );
        }
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
    fn branch_names_from_the_payload_are_checked() {
        for good in ["main", "release/1.x", "feat-1_2"] {
            assert!(is_branch_name(good), "{good}");
        }
        for bad in [
            "", "-x", "a..b", "a b", "a\nb", "x.lock", "a:b", "a^", "@{u}", "/x", "x/",
        ] {
            assert!(!is_branch_name(bad), "{bad:?}");
        }
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
