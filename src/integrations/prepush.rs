//! The pre-push hook protocol: git runs the hook with the remote's name and
//! URL as arguments and writes one line per ref on stdin:
//! `<local ref> <local oid> <remote ref> <remote oid>`.
//!
//! Every line counts (pushing three branches pushes three ranges). What the
//! remote already has is never scanned again: each remote oid the remote
//! reports is excluded, and for a new branch (remote oid all zeros) or a
//! remote tip we do not have locally (someone else pushed it), everything
//! our remote-tracking refs know to be on that remote is excluded.

use super::{is_zero_oid, CommitSet};
use crate::finding::Finding;
use crate::gitcli::Git;
use crate::report::Style;
use crate::source::git::Lookup;
use std::path::Path;

/// One line of the hook's stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub local_ref: String,
    pub local_oid: String,
    pub remote_ref: String,
    pub remote_oid: String,
}

impl RefUpdate {
    /// `git push origin :branch` or `--delete`: nothing is sent.
    pub fn is_deletion(&self) -> bool {
        is_zero_oid(&self.local_oid)
    }

    pub(crate) fn is_new_ref(&self) -> bool {
        is_zero_oid(&self.remote_oid)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrePushError {
    #[error("pre-push input line {line}: expected `<local ref> <local oid> <remote ref> <remote oid>`, got {text:?}")]
    Malformed { line: usize, text: String },
}

/// Why the commits of a push could not be worked out.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PushError {
    #[error(transparent)]
    Input(#[from] PrePushError),
    #[error(transparent)]
    Repository(#[from] crate::source::git::GitError),
}

/// The push as the pre-commit framework hands it to a hook. pre-commit reads
/// git's stdin itself and runs hooks with none, passing the ref being pushed
/// as `PRE_COMMIT_*` variables instead (`FROM_REF` is absent when the whole
/// branch is new to the remote and has no commit there). Returns the remote's
/// name and the update git would have written, or `None` outside pre-commit.
/// `local_oid_of` resolves the local branch when `TO_REF` is absent too.
pub(crate) fn from_pre_commit_env(
    var: &dyn Fn(&str) -> Option<String>,
    local_oid_of: &dyn Fn(&str) -> Option<String>,
) -> Option<(String, RefUpdate)> {
    let var = |k: &str| var(k).filter(|v| !v.is_empty());
    if var("PRE_COMMIT").as_deref() != Some("1") {
        return None;
    }
    let local_ref = var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| "HEAD".to_string());
    let local_oid = var("PRE_COMMIT_TO_REF").or_else(|| local_oid_of(&local_ref))?;
    let remote_oid = var("PRE_COMMIT_FROM_REF").unwrap_or_else(|| "0".repeat(local_oid.len()));
    Some((
        var("PRE_COMMIT_REMOTE_NAME").unwrap_or_default(),
        RefUpdate {
            remote_ref: var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_else(|| local_ref.clone()),
            local_ref,
            local_oid,
            remote_oid,
        },
    ))
}

/// Parses the hook's stdin. Blank lines are ignored.
pub fn parse(stdin: &str) -> Result<Vec<RefUpdate>, PrePushError> {
    stdin
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let is_oid = |s: &str| {
                (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
            };
            match fields.as_slice() {
                [lr, lo, rr, ro] if is_oid(lo) && is_oid(ro) => Ok(RefUpdate {
                    local_ref: lr.to_string(),
                    local_oid: lo.to_string(),
                    remote_ref: rr.to_string(),
                    remote_oid: ro.to_string(),
                }),
                _ => Err(PrePushError::Malformed {
                    line: i + 1,
                    text: l.chars().take(200).collect(),
                }),
            }
        })
        .collect()
}

/// The commits a push sends. `remote_known(oid)` says whether a remote oid
/// exists locally; `remote_refs` are the remote-tracking refs that stand
/// for what the remote already has (`refs/remotes/<name>/*`, or all
/// remote-tracking refs when pushing to a URL).
pub fn plan(
    updates: &[RefUpdate],
    remote_known: &dyn Fn(&str) -> bool,
    remote_refs: &[String],
) -> CommitSet {
    let mut set = CommitSet::default();
    let mut need_remote_refs = false;
    for u in updates.iter().filter(|u| !u.is_deletion()) {
        if !set.tips.contains(&u.local_oid) {
            set.tips.push(u.local_oid.clone());
        }
        if !u.is_new_ref() && remote_known(&u.remote_oid) {
            if !set.exclude.contains(&u.remote_oid) {
                set.exclude.push(u.remote_oid.clone());
            }
        } else {
            need_remote_refs = true;
        }
    }
    if need_remote_refs {
        for r in remote_refs {
            if !set.exclude.contains(r) {
                set.exclude.push(r.clone());
            }
        }
    }
    set
}

/// What a push sends, and what it may be judged by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Push {
    pub commits: CommitSet,
    /// A commit the remote already has, whose `.keysweep.toml` applies: the
    /// remote's default branch (`refs/remotes/<remote>/HEAD`), else a tip
    /// the remote reported; `None` when the remote has nothing we know.
    pub trusted: Option<String>,
}

/// The commits a push sends, as git (stdin lines) or the pre-commit
/// framework (`PRE_COMMIT_*` variables, `var`) describes it; `None` when it
/// sends none (only deletions).
pub(crate) fn commits_to_push(
    repo: &Path,
    remote: Option<&str>,
    stdin: &str,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Push>, PushError> {
    let mut updates = parse(stdin)?;
    let mut remote = remote.unwrap_or_default().to_string();
    if updates.is_empty() {
        let local_oid_of = |r: &str| {
            Git::new(Some(repo), "rev-parse")
                .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
                .arg(format!("{r}^{{commit}}"))
                .text()
                .filter(|o| !o.is_empty())
        };
        if let Some((name, update)) = from_pre_commit_env(var, &local_oid_of) {
            if remote.is_empty() {
                remote = name;
            }
            updates.push(update);
        }
    }
    // Every question below is answered in process: a git process each
    // cost more than scanning a pushed commit.
    let lookup = Lookup::open(repo)?;
    let remote_refs = remote_tracking_refs(&lookup, &remote);
    let known = |oid: &str| lookup.has_commit(oid);
    let set = plan(&updates, &known, &remote_refs);
    if set.tips.is_empty() {
        return Ok(None);
    }
    let default = format!("refs/remotes/{remote}/HEAD");
    let trusted = if !remote.is_empty()
        && remote_refs
            .iter()
            .any(|r| r.starts_with(&format!("refs/remotes/{remote}/")))
        && lookup.ref_commit(&default).is_some()
    {
        Some(default)
    } else {
        updates
            .iter()
            .map(|u| u.remote_oid.clone())
            .find(|oid| !is_zero_oid(oid) && known(oid))
    };
    Ok(Some(Push {
        commits: set,
        trusted,
    }))
}

/// What the remote already has, as remote-tracking refs: those of `remote`
/// when it names a configured remote, else (a push to a URL) all of them.
fn remote_tracking_refs(lookup: &Lookup, remote: &str) -> Vec<String> {
    let prefix = if !remote.is_empty() && lookup.remote_names().iter().any(|r| r == remote) {
        format!("refs/remotes/{remote}/")
    } else {
        "refs/remotes/".to_string()
    };
    lookup
        .refs_under(&prefix)
        .into_iter()
        .filter(|r| !r.ends_with("/HEAD"))
        .collect()
}

/// What the hook prints when it blocks a push: one line per finding (place
/// names cleaned for the terminal), then how to fix it.
pub(crate) fn blocked_message(findings: &[Finding], style: &Style) -> String {
    super::blocked_message(
        "push blocked: the commits being pushed contain AWS credentials.",
        findings,
        style,
        "\x20 1. Deactivate the key in IAM: it may already have been copied.\n\
         \x20 2. Remove it from every pushed commit (a later commit that deletes it is not enough):\n\
         \x20    git rebase -i <base> and edit the commit, or git commit --amend for the last one.\n",
        "push",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    fn line(lr: &str, lo: &str, rr: &str, ro: &str) -> String {
        format!("{lr} {lo} {rr} {ro}\n")
    }

    #[test]
    fn parses_every_line_and_rejects_garbage() {
        let input = line("refs/heads/main", A, "refs/heads/main", B)
            + "\n"
            + &line("(delete)", Z, "refs/heads/old", A);
        let u = parse(&input).unwrap();
        assert_eq!(u.len(), 2);
        assert!(u[1].is_deletion());
        assert!(parse("refs/heads/main abc refs/heads/main def\n").is_err());
        assert_eq!(parse("").unwrap(), vec![]);
        let sha256_zero = "0".repeat(64);
        let u = parse(&line(
            "refs/heads/x",
            &"a".repeat(64),
            "refs/heads/x",
            &sha256_zero,
        ))
        .unwrap();
        assert!(u[0].is_new_ref());
    }

    #[test]
    fn plans_updates_new_branches_and_deletions() {
        let remote_refs = vec!["refs/remotes/origin/main".to_string()];
        let known = |oid: &str| oid == B;
        // A fast-forward: the remote's old tip is excluded.
        let u = parse(&line("refs/heads/main", A, "refs/heads/main", B)).unwrap();
        assert_eq!(
            plan(&u, &known, &remote_refs),
            CommitSet {
                tips: vec![A.into()],
                exclude: vec![B.into()]
            }
        );
        // A new branch: everything the remote already has is excluded.
        let u = parse(&line("refs/heads/feat", A, "refs/heads/feat", Z)).unwrap();
        assert_eq!(
            plan(&u, &known, &remote_refs),
            CommitSet {
                tips: vec![A.into()],
                exclude: remote_refs.clone()
            }
        );
        // A force push over a commit we never fetched.
        let u = parse(&line(
            "refs/heads/main",
            A,
            "refs/heads/main",
            "3333333333333333333333333333333333333333",
        ))
        .unwrap();
        assert_eq!(plan(&u, &known, &remote_refs).exclude, remote_refs);
        // A deletion sends nothing.
        let u = parse(&line("(delete)", Z, "refs/heads/feat", A)).unwrap();
        assert_eq!(plan(&u, &known, &remote_refs), CommitSet::default());
        // The same commit pushed under two refs is scanned once.
        let u = parse(
            &(line("refs/heads/a", A, "refs/heads/a", B)
                + &line("refs/heads/b", A, "refs/heads/b", B)),
        )
        .unwrap();
        assert_eq!(
            plan(&u, &known, &remote_refs),
            CommitSet {
                tips: vec![A.into()],
                exclude: vec![B.into()]
            }
        );
    }

    #[test]
    fn pre_commit_env_gives_the_ref_being_pushed() {
        use std::collections::HashMap;
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let no_lookup = |_: &str| -> Option<String> { None };
        // Outside pre-commit: nothing.
        let outside = env(&[("PRE_COMMIT_TO_REF", A)]);
        assert_eq!(
            from_pre_commit_env(&|k| outside.get(k).cloned(), &no_lookup),
            None
        );
        // An update: FROM..TO.
        let update = env(&[
            ("PRE_COMMIT", "1"),
            ("PRE_COMMIT_FROM_REF", A),
            ("PRE_COMMIT_TO_REF", B),
            ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/feat"),
            ("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/feat"),
            ("PRE_COMMIT_REMOTE_NAME", "origin"),
        ]);
        let (remote, u) = from_pre_commit_env(&|k| update.get(k).cloned(), &no_lookup).unwrap();
        assert_eq!(remote, "origin");
        assert_eq!(
            u,
            RefUpdate {
                local_ref: "refs/heads/feat".into(),
                local_oid: B.into(),
                remote_ref: "refs/heads/feat".into(),
                remote_oid: A.into(),
            }
        );
        // A branch with nothing on the remote yet: no refs at all; the local
        // branch is resolved and the remote side is zeros of the same width.
        let root = env(&[
            ("PRE_COMMIT", "1"),
            ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
            ("PRE_COMMIT_REMOTE_NAME", "origin"),
        ]);
        let (_, u) = from_pre_commit_env(&|k| root.get(k).cloned(), &|r: &str| {
            (r == "refs/heads/main").then(|| A.to_string())
        })
        .unwrap();
        assert_eq!((u.local_oid.as_str(), u.remote_oid.as_str()), (A, Z));
        assert!(u.is_new_ref());
    }
}
