//! Scans only what a range of commits changed: `BASE..HEAD`, `--since REV`,
//! the commits of a push, a pull request.
//!
//! Each commit in `tips --not exclude` is diffed against each of its parents
//! (a root commit against the empty tree). For a merge, a path counts as
//! changed only when it differs from every parent: content brought over
//! unchanged from one side was introduced by that side's commits, while
//! content that exists only in the merge result (a conflict resolution) is
//! the merge's own. Each new blob is scanned once; only when it holds
//! credentials is the previous version of the same path scanned too, and
//! credentials that version already had are not reported again, so editing
//! a file with an old leak does not re-report it on every push.

use super::diff::Differ;
use super::odb::{BlobScanner, Scanned};
use super::provenance::{commit_tree, head_commit, order_oldest_first, ref_tips, TreeIndex};
use super::{
    author_of, make_finding, open, pool, reason, sort_findings, warn_about_submodules,
    warn_if_shallow, GitError, HistoryOptions, HistoryScan, Repo,
};
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::{Credential, CredentialKey, Provenance};
use crate::stats::AtomicStats;
use gix::objs::FindExt;
use gix::ObjectId;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Scans the commits of `range`: `BASE..HEAD`, or a single `REV` meaning
/// `REV..HEAD` (`--since REV`).
pub fn scan_range(
    repo: &Path,
    range: &str,
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
) -> Result<HistoryScan, GitError> {
    let (base, head) = parse_range(range)?;
    scan_commits(repo, &[head], &[base], detector, opts, diag)
}

/// Splits `BASE..HEAD` (or `REV`, meaning `REV..HEAD`).
fn parse_range(range: &str) -> Result<(String, String), GitError> {
    let invalid = |reason: &str| GitError::InvalidRange {
        range: range.to_string(),
        reason: reason.to_string(),
    };
    let range_t = range.trim();
    if range_t.is_empty() {
        return Err(invalid("it is empty"));
    }
    if range_t.contains("...") {
        return Err(invalid("symmetric differences (A...B) are not supported"));
    }
    match range_t.split_once("..") {
        Some(("", _)) => Err(invalid("the base before `..` is missing")),
        Some((base, "")) => Ok((base.to_string(), "HEAD".to_string())),
        Some((base, head)) => Ok((base.to_string(), head.to_string())),
        None => Ok((range_t.to_string(), "HEAD".to_string())),
    }
}

/// Resolves a revision to a commit. An all-zero id means "nothing" (git
/// sends it for a new or deleted branch in pre-push and CI events).
fn resolve(r: &Repo, rev: &str) -> Result<Option<ObjectId>, GitError> {
    let rev_t = rev.trim();
    if super::is_zero_oid(rev_t) {
        return Ok(None);
    }
    let err = |reason: String| GitError::Revision {
        path: r.path.clone(),
        rev: rev.to_string(),
        reason,
    };
    let id = r
        .repo
        .rev_parse_single(rev_t)
        .map_err(|e| err(reason(&e)))?;
    let commit = id
        .object()
        .map_err(|e| err(reason(&e)))?
        .peel_to_commit()
        .map_err(|e| err(reason(&e)))?;
    Ok(Some(commit.id))
}

/// One path a commit added or changed.
struct Change {
    /// Index into the range's commits.
    commit: usize,
    path: String,
    new: ObjectId,
    /// The blob(s) at the same path in the parent(s), when it was a file.
    olds: Vec<ObjectId>,
}

/// Scans the commits reachable from `tips` but not from `exclude`.
pub fn scan_commits(
    repo: &Path,
    tips: &[String],
    exclude: &[String],
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
) -> Result<HistoryScan, GitError> {
    let started = std::time::Instant::now();
    let r = open(repo)?;
    let shallow = warn_if_shallow(&r, diag);
    let counters = AtomicStats::default();
    let mut tip_ids = Vec::new();
    for t in tips {
        tip_ids.extend(resolve(&r, t)?);
    }
    let mut hidden = Vec::new();
    for x in exclude {
        hidden.extend(resolve(&r, x)?);
    }
    let what = || format!("{} --not {}", tips.join(" "), exclude.join(" "));
    diag.set_message("scanning commits");

    let mut commits: Vec<(ObjectId, Vec<ObjectId>, i64)> = Vec::new();
    // Commit -> tree, for the range and the parents just outside it.
    let mut tree_of: gix::hashtable::HashMap<ObjectId, Option<ObjectId>> = Default::default();
    if !tip_ids.is_empty() {
        let walk = r
            .repo
            .rev_walk(tip_ids)
            .with_hidden(hidden)
            .all()
            .map_err(|e| GitError::Walk {
                path: r.path.clone(),
                what: what(),
                reason: reason(&e),
            })?;
        let mut buf = Vec::new();
        for info in walk {
            let info = info.map_err(|e| GitError::Walk {
                path: r.path.clone(),
                what: what(),
                reason: reason(&e),
            })?;
            // One read of the commit gives the date (for ordering) and the tree.
            let (time, tree) = match r.repo.objects.find_commit_iter(&info.id, &mut buf) {
                Ok(c) => {
                    let mut header = c;
                    let tree = header.tree_id().ok();
                    (c.committer().map(|s| s.seconds()).unwrap_or(0), tree)
                }
                Err(_) => (0, None),
            };
            tree_of.insert(info.id, tree);
            commits.push((info.id, info.parent_ids.iter().copied().collect(), time));
        }
    }
    AtomicStats::bump(&counters.commits, commits.len() as u64);
    let order = order_oldest_first(&commits);

    // What each commit changed, oldest commit first.
    let mut changes: Vec<Change> = Vec::new();
    let mut differ = Differ::new(&r.repo);
    let shallow_set: HashSet<ObjectId> = shallow.iter().copied().collect();
    for &c in &order {
        let (id, parents, _) = &commits[c];
        let Some(tree) = tree_of.get(id).copied().flatten() else {
            AtomicStats::bump(&counters.corrupt_objects, 1);
            diag.warn(format_args!(
                "{}: commit {id} or its tree cannot be read; skipped",
                r.path.display()
            ));
            continue;
        };
        let mut parent_trees: Vec<Option<ObjectId>> = Vec::new();
        if !shallow_set.contains(id) {
            for p in parents {
                let parent_tree = *tree_of
                    .entry(*p)
                    .or_insert_with(|| commit_tree(&r.repo, *p));
                match parent_tree {
                    Some(t) => parent_trees.push(Some(t)),
                    None => {
                        diag.warn(format_args!(
                            "{}: parent {p} of commit {id} is missing (shallow or incomplete clone); commit {id} is compared with an empty tree",
                            r.path.display()
                        ));
                        parent_trees.push(None);
                    }
                }
            }
        }
        if parent_trees.is_empty() {
            parent_trees.push(None);
        }
        let mut per_parent: Vec<HashMap<String, (ObjectId, Option<ObjectId>)>> = Vec::new();
        for pt in &parent_trees {
            let mut out = Vec::new();
            if let Err(why) = differ.diff(*pt, tree, &mut out) {
                AtomicStats::bump(&counters.corrupt_objects, 1);
                diag.warn(format_args!(
                    "{}: commit {id}: a tree cannot be read, its changes may be incomplete: {why}",
                    r.path.display()
                ));
            }
            per_parent.push(out.into_iter().map(|(p, n, o)| (p, (n, o))).collect());
        }
        let (first, rest) = per_parent
            .split_first()
            .expect("at least one (possibly empty) parent tree");
        for (path, (new, old)) in first {
            // Changed against every parent, or it is not this commit's doing.
            if !rest.iter().all(|m| m.contains_key(path)) {
                continue;
            }
            let mut olds: Vec<ObjectId> = old.iter().copied().collect();
            for m in rest {
                if let Some((_, Some(o))) = m.get(path) {
                    if !olds.contains(o) {
                        olds.push(*o);
                    }
                }
            }
            changes.push(Change {
                commit: c,
                path: path.clone(),
                new: *new,
                olds,
            });
        }
    }
    let gitlinks: Vec<String> = std::mem::take(&mut differ.gitlinks).into_iter().collect();
    drop(differ);
    warn_about_submodules(&gitlinks, &r, diag);
    // Oldest commit first, then by path: "first" below means that, on
    // every run (paths within a commit come out of a hash map).
    let mut rank = vec![0usize; commits.len()];
    for (position, &c) in order.iter().enumerate() {
        rank[c] = position;
    }
    changes.sort_by(|a, b| (rank[a.commit], &a.path).cmp(&(rank[b.commit], &b.path)));

    let scanner = BlobScanner {
        detector,
        max_blob_size: opts.max_blob_size,
        counters: &counters,
        diag,
        repo: &r.path,
    };
    let mut new_blobs: Vec<ObjectId> = changes.iter().map(|ch| ch.new).collect();
    new_blobs.sort();
    new_blobs.dedup();
    let scanned = scan_blobs(&r, &new_blobs, &scanner, opts.threads)?;

    for (id, outcome) in &scanned {
        if let Outcome::TooLarge(size) = outcome {
            let place = changes
                .iter()
                .find(|ch| ch.new == *id)
                .map(|ch| format!(" ({} in commit {})", ch.path, commits[ch.commit].0))
                .unwrap_or_default();
            diag.warn(format_args!(
                "{}: blob {id}{place} is {size} bytes, over the {}-byte limit: not scanned",
                r.path.display(),
                opts.max_blob_size
            ));
        }
    }

    // Previous versions, only of paths whose new version has findings.
    let mut old_blobs: Vec<ObjectId> = changes
        .iter()
        .filter(|ch| matches!(scanned.get(&ch.new), Some(Outcome::Found(_))))
        .flat_map(|ch| ch.olds.iter().copied())
        .filter(|o| !scanned.contains_key(o))
        .collect();
    old_blobs.sort();
    old_blobs.dedup();
    let old_scanned = scan_blobs(&r, &old_blobs, &scanner, opts.threads)?;
    let keys_in = |id: &ObjectId| -> HashSet<CredentialKey> {
        match scanned.get(id).or_else(|| old_scanned.get(id)) {
            Some(Outcome::Found(creds)) => creds.iter().map(Credential::key).collect(),
            _ => HashSet::new(),
        }
    };

    // (change, credential) pairs to report: new to the path, first time seen.
    let mut reported: HashSet<(ObjectId, CredentialKey)> = HashSet::new();
    let mut picked: Vec<(usize, Credential)> = Vec::new();
    for (i, ch) in changes.iter().enumerate() {
        let Some(Outcome::Found(creds)) = scanned.get(&ch.new) else {
            continue;
        };
        let before: HashSet<CredentialKey> = ch.olds.iter().flat_map(&keys_in).collect();
        for cred in creds {
            let key = cred.key();
            if before.contains(&key) {
                continue;
            }
            if reported.insert((ch.new, key)) {
                picked.push((i, cred.clone()));
            }
        }
    }

    // Where those blobs still are: HEAD and ref tips.
    let targets: Vec<ObjectId> = {
        let mut t: Vec<ObjectId> = picked.iter().map(|(i, _)| changes[*i].new).collect();
        t.sort();
        t.dedup();
        t
    };
    let mut at_head: HashSet<ObjectId> = HashSet::new();
    let mut refs_of: HashMap<ObjectId, Vec<String>> = HashMap::new();
    if !targets.is_empty() {
        let mut index = TreeIndex::new(&r.repo, &targets);
        if let Some(tree) = head_commit(&r.repo).and_then(|h| commit_tree(&r.repo, h)) {
            at_head.extend(
                index
                    .contents(tree)
                    .iter()
                    .map(|(t, _)| targets[*t as usize]),
            );
        }
        for tip in ref_tips(&r, diag)? {
            if tip.kind != gix::objs::Kind::Commit {
                continue;
            }
            if let Some(tree) = commit_tree(&r.repo, tip.id) {
                for (t, _) in index.contents(tree).iter() {
                    let list = refs_of.entry(targets[*t as usize]).or_default();
                    if !list.contains(&tip.name) {
                        list.push(tip.name.clone());
                    }
                }
            }
        }
    }

    let mut authors: HashMap<ObjectId, (Option<String>, Option<String>)> = HashMap::new();
    let mut findings = Vec::new();
    for (i, cred) in picked {
        let ch = &changes[i];
        let commit = commits[ch.commit].0;
        let (author, date) = authors
            .entry(commit)
            .or_insert_with(|| author_of(&r.repo, commit))
            .clone();
        let mut refs = refs_of.get(&ch.new).cloned().unwrap_or_default();
        refs.sort();
        let prov = Provenance {
            commit: Some(commit.to_string()),
            author,
            date,
            still_at_head: at_head.contains(&ch.new),
            refs,
            unreachable: false,
        };
        findings.push(make_finding(cred, &ch.path, ch.new, prov));
    }
    sort_findings(&mut findings);

    let mut stats = counters.snapshot();
    stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(HistoryScan { findings, stats })
}

/// What scanning one blob of a range gave.
enum Outcome {
    Clean,
    Found(Vec<Credential>),
    TooLarge(u64),
    Unreadable,
}

/// Reads and scans `ids` in parallel, one repository handle per worker.
fn scan_blobs(
    r: &Repo,
    ids: &[ObjectId],
    scanner: &BlobScanner<'_>,
    threads: usize,
) -> Result<HashMap<ObjectId, Outcome>, GitError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sync = r.repo.clone().into_sync();
    let repo_path = r.path.as_path();
    let pool = pool(threads)?;
    let results: Vec<(ObjectId, Outcome)> = pool.install(|| {
        ids.par_iter()
            .map_init(
                || (sync.to_thread_local(), Vec::new()),
                |(repo, buf), id| {
                    let outcome = match repo.objects.find_blob(id, buf) {
                        Ok(blob) => match scanner.scan(id, blob.data) {
                            Scanned::Clean => Outcome::Clean,
                            Scanned::Found(c) => Outcome::Found(c),
                            Scanned::TooLarge(n) => Outcome::TooLarge(n),
                        },
                        Err(e) => {
                            AtomicStats::bump(&scanner.counters.corrupt_objects, 1);
                            scanner.diag.warn(format_args!(
                                "{}: blob {id} cannot be read; skipped: {}",
                                repo_path.display(),
                                reason(&e)
                            ));
                            Outcome::Unreadable
                        }
                    };
                    (*id, outcome)
                },
            )
            .collect()
    });
    Ok(results.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_parse_like_git() {
        assert_eq!(parse_range("a..b").ok(), Some(("a".into(), "b".into())));
        assert_eq!(parse_range("v1").ok(), Some(("v1".into(), "HEAD".into())));
        assert_eq!(parse_range("v1..").ok(), Some(("v1".into(), "HEAD".into())));
        assert!(parse_range("..b").is_err());
        assert!(parse_range("a...b").is_err());
        assert!(parse_range("  ").is_err());
    }
}
