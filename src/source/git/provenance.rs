//! Which commit and path first brought a blob into history, whether HEAD
//! still has it, and which refs' tips do.
//!
//! Run only for the blobs that had findings (usually a handful), because it
//! touches the whole commit graph: commits are ordered oldest first
//! (topologically, parents before children, older committer date first among
//! the ready ones) and the first commit whose tree contains a target blob
//! introduced it. A merge is a commit like any other, so content that exists
//! only in a merge result is attributed to the merge, which patch walkers
//! (`git log -p` without `-m`) miss. A renamed file keeps its first commit and
//! path, because the blob was first seen there.
//!
//! Cost is kept down by [`TreeIndex`]: for each tree id it remembers which
//! targets it contains and at which sub-paths, so each unique tree is read
//! once however many commits share it, and the walk stops as soon as every
//! target has its commit.

use super::odb::{CommitHeader, PackedTrees, ScannedCommit};
use super::treefilter::{self, TreeFilter};
use super::{author_of, reason, GitError, Origin, Repo};
use crate::diag::Diagnostics;
use crate::stats::AtomicStats;
use gix::objs::FindExt;
use gix::ObjectId;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::rc::Rc;

/// The targets a tree contains: (target index, path inside the tree).
type Contents = Rc<[(u32, String)]>;

/// A tree entry that may lead to a target.
enum Relevant {
    Tree(ObjectId, Vec<u8>),
    Target(u32, Vec<u8>),
}

/// Memoized "which targets are in this tree, and where".
pub(crate) struct TreeIndex<'r> {
    repo: &'r gix::Repository,
    // gix's maps hash object ids by their leading bytes (already uniformly
    // random) instead of running SipHash over them.
    targets: gix::hashtable::HashMap<ObjectId, u32>,
    memo: gix::hashtable::HashMap<ObjectId, Contents>,
    empty: Contents,
    buf: Vec<u8>,
    /// Trees read so far (memo misses).
    pub(crate) reads: usize,
    /// When set, trees it rules out are not read at all.
    pub(crate) filter: Option<TreeFilter>,
    /// Trees that could not be read (corrupt, or cut off by a shallow clone).
    pub(crate) unreadable: Vec<(ObjectId, String)>,
}

impl<'r> TreeIndex<'r> {
    /// `targets` must not repeat an id: its positions are the target indices.
    pub(crate) fn new(repo: &'r gix::Repository, targets: &[ObjectId]) -> Self {
        debug_assert!(
            targets.iter().collect::<HashSet<_>>().len() == targets.len(),
            "target ids are unique"
        );
        let targets = targets
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        TreeIndex {
            repo,
            targets,
            memo: Default::default(),
            empty: Rc::from(Vec::new()),
            buf: Vec::new(),
            reads: 0,
            filter: None,
            unreadable: Vec::new(),
        }
    }

    /// The targets inside `tree` (recursively), with their paths.
    pub(crate) fn contents(&mut self, tree: ObjectId) -> Contents {
        if let Some(c) = self.memo.get(&tree) {
            return c.clone();
        }
        if self.filter.as_ref().is_some_and(|f| !f.may_contain(&tree)) {
            self.memo.insert(tree, self.empty.clone());
            return self.empty.clone();
        }
        self.reads += 1;
        let entries = match self.read(tree) {
            Ok(entries) => entries,
            Err(why) => {
                self.unreadable.push((tree, why));
                self.memo.insert(tree, self.empty.clone());
                return self.empty.clone();
            }
        };
        let mut found: Vec<(u32, String)> = Vec::new();
        for entry in entries {
            match entry {
                Relevant::Tree(id, name) => {
                    let sub = self.contents(id);
                    if !sub.is_empty() {
                        let name = String::from_utf8_lossy(&name);
                        found.extend(sub.iter().map(|(t, p)| (*t, format!("{name}/{p}"))));
                    }
                }
                Relevant::Target(t, name) => {
                    found.push((t, String::from_utf8_lossy(&name).into_owned()))
                }
            }
        }
        let contents: Contents = if found.is_empty() {
            self.empty.clone()
        } else {
            Rc::from(found)
        };
        self.memo.insert(tree, contents.clone());
        contents
    }

    /// The entries of `tree` that can lead to a target: subtrees and target
    /// blobs. Everything else (most entries) is skipped without allocating,
    /// which matters when every tree of a large history is read.
    /// Gitlinks (submodules) point into other repositories: their content
    /// is not here, and `submodule_paths` names them.
    fn read(&mut self, tree: ObjectId) -> Result<Vec<Relevant>, String> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = (|| {
            let iter = self
                .repo
                .objects
                .find_tree_iter(&tree, &mut buf)
                .map_err(|e| reason(&e))?;
            let mut out = Vec::new();
            for entry in iter {
                let entry = entry.map_err(|e| reason(&e))?;
                if entry.mode.is_tree() {
                    out.push(Relevant::Tree(
                        entry.oid.to_owned(),
                        entry.filename.to_vec(),
                    ));
                } else if entry.mode.is_blob_or_symlink() {
                    if let Some(t) = self.targets.get(entry.oid) {
                        out.push(Relevant::Target(*t, entry.filename.to_vec()));
                    }
                }
            }
            Ok(out)
        })();
        self.buf = buf;
        result
    }

    pub(crate) fn len(&self) -> usize {
        self.targets.len()
    }
}

/// A commit in the graph being walked.
struct Node {
    id: ObjectId,
    tree: ObjectId,
    parents: Vec<u32>,
    time: i64,
}

/// A ref tip and what it points to, after peeling tags.
pub(crate) struct Tip {
    pub(crate) name: String,
    pub(crate) id: ObjectId,
    pub(crate) kind: gix::objs::Kind,
}

/// Every ref (branches, tags, remotes, stash, notes, anything under refs/),
/// peeled to the object it finally names.
pub(crate) fn ref_tips(r: &Repo, diag: &Diagnostics) -> Result<Vec<Tip>, GitError> {
    let refs_err = |e: &dyn std::error::Error| GitError::References {
        path: r.path.clone(),
        reason: reason(e),
    };
    let platform = r.repo.references().map_err(|e| refs_err(&e))?;
    let iter = platform.all().map_err(|e| refs_err(&e))?;
    let mut tips = Vec::new();
    for reference in iter {
        let mut reference = match reference {
            Ok(reference) => reference,
            Err(e) => {
                diag.warn(format_args!(
                    "{}: unreadable reference skipped: {}",
                    r.path.display(),
                    reason(&e)
                ));
                continue;
            }
        };
        let name = reference.name().as_bstr().to_string();
        let id = match reference.peel_to_id() {
            Ok(id) => id.detach(),
            Err(e) => {
                diag.warn(format_args!(
                    "{}: reference {name} points to a missing object, skipped: {}",
                    r.path.display(),
                    reason(&e)
                ));
                continue;
            }
        };
        match r.repo.find_header(id) {
            Ok(header) => tips.push(Tip {
                name,
                id,
                kind: header.kind(),
            }),
            Err(e) => diag.warn(format_args!(
                "{}: reference {name} points to unreadable object {id}, skipped: {}",
                r.path.display(),
                reason(&e)
            )),
        }
    }
    Ok(tips)
}

/// HEAD's commit, if HEAD points at one (not in an empty repository).
pub(crate) fn head_commit(repo: &gix::Repository) -> Option<ObjectId> {
    let id = repo.head_id().ok()?.detach();
    let header = repo.find_header(id).ok()?;
    (header.kind() == gix::objs::Kind::Commit).then_some(id)
}

pub(crate) fn commit_tree(repo: &gix::Repository, commit: ObjectId) -> Option<ObjectId> {
    let mut buf = Vec::new();
    let mut iter = repo.objects.find_commit_iter(&commit, &mut buf).ok()?;
    iter.tree_id().ok()
}

/// The paths of submodules (gitlinks) in HEAD's tree.
pub(crate) fn submodule_paths(repo: &gix::Repository) -> Vec<String> {
    fn walk(
        repo: &gix::Repository,
        tree: ObjectId,
        prefix: &str,
        out: &mut Vec<String>,
        budget: &mut usize,
    ) {
        // Only to name submodules in a warning: give up on huge trees
        // rather than make every scan pay for it.
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let mut buf = Vec::new();
        let Ok(iter) = repo.objects.find_tree_iter(&tree, &mut buf) else {
            return;
        };
        let entries: Vec<_> = iter
            .filter_map(Result::ok)
            .map(|e| (e.mode, e.filename.to_string(), e.oid.to_owned()))
            .collect();
        for (mode, name, id) in entries {
            if mode.is_commit() {
                out.push(format!("{prefix}{name}"));
            } else if mode.is_tree() {
                walk(repo, id, &format!("{prefix}{name}/"), out, budget);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(tree) = head_commit(repo).and_then(|c| commit_tree(repo, c)) {
        walk(repo, tree, "", &mut out, &mut 20_000);
    }
    out
}

/// Trees read one by one before it pays to index all trees in one parallel
/// pass (see [`treefilter`]): below this, walks that end early stay cheap.
/// On git/git the pass (decoding every tree, ~0.9 s on two cores) costs
/// about what reading 27,000 trees one by one does (~33 µs each); like the
/// first choice (20,000 against a whole-pack pass worth 80,000 reads), the
/// limit is a quarter of that, so a walk that needs the pass wastes little.
const TREE_READS_BEFORE_FILTER: usize = 7_000;

/// What [`attribute`] learnt.
pub(crate) struct Attribution {
    pub(crate) origins: HashMap<ObjectId, Origin>,
    /// Submodule paths at HEAD, whose content is not scanned.
    pub(crate) gitlinks: Vec<String>,
}

/// Finds the origin of each target blob (see the module docs).
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, all inputs distinct"
)]
pub(crate) fn attribute(
    r: &Repo,
    targets: &[ObjectId],
    all_commits: &[ScannedCommit],
    packed: &[PackedTrees],
    known_corrupt: &[ObjectId],
    shallow: &[ObjectId],
    threads: usize,
    diag: &Diagnostics,
    counters: &AtomicStats,
) -> Result<Attribution, GitError> {
    let (attribution, _) = attribute_with(
        r,
        targets,
        all_commits,
        packed,
        known_corrupt,
        shallow,
        threads,
        TREE_READS_BEFORE_FILTER,
        diag,
        counters,
    )?;
    Ok(attribution)
}

/// [`attribute`], with the point at which the tree filter is built, and
/// returning how many trees were read (for tests).
#[expect(clippy::too_many_arguments, reason = "internal, mirrors attribute")]
fn attribute_with(
    r: &Repo,
    targets: &[ObjectId],
    all_commits: &[ScannedCommit],
    packed: &[PackedTrees],
    known_corrupt: &[ObjectId],
    shallow: &[ObjectId],
    threads: usize,
    filter_after: usize,
    diag: &Diagnostics,
    counters: &AtomicStats,
) -> Result<(Attribution, usize), GitError> {
    // Every tree of the history may be read here, in commit order, where
    // consecutive trees are deltas of each other: a 64 MiB delta-base cache
    // (instead of gix's default 64-entry list) made this phase 1.5x faster
    // on git/git; 256 MiB was no better.
    let mut repo = r.repo.clone();
    repo.objects.set_pack_cache(|| {
        Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
            64 << 20,
        ))
    });
    let repo = &repo;
    let gitlinks = submodule_paths(repo);
    let mut origins: HashMap<ObjectId, Origin> = HashMap::new();
    if targets.is_empty() {
        return Ok((Attribution { origins, gitlinks }, 0));
    }
    // Indices into `targets` are used below: make them unique first.
    let mut unique = targets.to_vec();
    unique.sort();
    unique.dedup();
    let targets = unique.as_slice();
    let mut index = TreeIndex::new(repo, targets);

    let tips = ref_tips(r, diag)?;
    let head = head_commit(repo);
    let mut starts: Vec<ObjectId> = tips
        .iter()
        .filter(|t| t.kind == gix::objs::Kind::Commit)
        .map(|t| t.id)
        .collect();
    starts.extend(head);

    // The graph holds every commit in the object database; `reachable`
    // marks those a ref or HEAD reaches. The others (reflog-only commits,
    // `reset --hard`, force-pushed history) are searched only for blobs no
    // reachable commit holds, so their blobs still get a commit and a path.
    let mut all_starts = starts.clone();
    all_starts.extend(all_commits.iter().map(|c| c.id));
    let (nodes, index_of) = commit_graph(r, &all_starts, all_commits, shallow, diag, counters);
    let reachable = mark_reachable(&nodes, &index_of, &starts);

    // first[t] = (commit node, path) of the earliest commit holding target t.
    let mut first: Vec<Option<(usize, String)>> = vec![None; index.len()];
    let mut remaining = index.len();
    let order = oldest_first(&nodes);
    let mut filter_tried = false;
    for pass in [true, false] {
        for &n in &order {
            if remaining == 0 {
                break;
            }
            if index.reads >= filter_after && !filter_tried {
                filter_tried = true;
                match treefilter::build(r, packed, targets, threads, diag) {
                    Ok(filter) => index.filter = Some(filter),
                    // Reading every tree is slower, but just as right.
                    Err(why) => diag.warn(format_args!(
                        "{}: cannot index trees ({why}); attribution reads every tree",
                        r.path.display()
                    )),
                }
            }
            if reachable[n] != pass {
                continue;
            }
            for (t, path) in index.contents(nodes[n].tree).iter() {
                let slot = &mut first[*t as usize];
                if slot.is_none() {
                    *slot = Some((n, path.clone()));
                    remaining -= 1;
                }
            }
        }
    }

    let at_head: HashSet<u32> = match head.and_then(|h| commit_tree(repo, h)) {
        Some(tree) => index.contents(tree).iter().map(|(t, _)| *t).collect(),
        None => HashSet::new(),
    };
    let mut refs_of: Vec<Vec<String>> = vec![Vec::new(); index.len()];
    for tip in &tips {
        let held: Vec<u32> = match tip.kind {
            gix::objs::Kind::Commit => match commit_tree(repo, tip.id) {
                Some(tree) => index.contents(tree).iter().map(|(t, _)| *t).collect(),
                None => Vec::new(),
            },
            gix::objs::Kind::Tree => index.contents(tip.id).iter().map(|(t, _)| *t).collect(),
            gix::objs::Kind::Blob => index.targets.get(&tip.id).copied().into_iter().collect(),
            gix::objs::Kind::Tag => Vec::new(),
        };
        for t in held {
            let list = &mut refs_of[t as usize];
            if !list.contains(&tip.name) {
                list.push(tip.name.clone());
            }
        }
    }

    report_unreadable_trees(r, &index, known_corrupt, shallow, diag, counters);

    for (i, id) in targets.iter().enumerate() {
        let mut refs = std::mem::take(&mut refs_of[i]);
        refs.sort();
        let origin = match &first[i] {
            Some((n, path)) => {
                let commit = nodes[*n].id;
                let (author, date) = author_of(repo, commit);
                Origin {
                    commit: Some(commit),
                    path: Some(path.clone()),
                    author,
                    date,
                    still_at_head: at_head.contains(&(i as u32)),
                    unreachable: !reachable[*n] && refs.is_empty(),
                    refs,
                }
            }
            // A tag pointing straight at a tree or blob reaches it without
            // any commit: reachable, but no commit to name.
            None if !refs.is_empty() => Origin {
                refs,
                ..Origin::default()
            },
            None => Origin {
                unreachable: true,
                ..Origin::default()
            },
        };
        origins.insert(*id, origin);
    }
    Ok((Attribution { origins, gitlinks }, index.reads))
}

fn report_unreadable_trees(
    r: &Repo,
    index: &TreeIndex<'_>,
    known_corrupt: &[ObjectId],
    shallow: &[ObjectId],
    diag: &Diagnostics,
    counters: &AtomicStats,
) {
    for (tree, why) in &index.unreadable {
        // Counted once: the object scan may have met it already.
        if !known_corrupt.contains(tree) {
            AtomicStats::bump(&counters.corrupt_objects, 1);
        }
        let hint = if shallow.is_empty() {
            ""
        } else {
            " (shallow clone)"
        };
        diag.warn(format_args!(
            "{}: tree {tree} cannot be read{hint}, blobs under it are not attributed: {why}",
            r.path.display()
        ));
    }
}

/// Marks the nodes reachable from `starts` (through parents).
fn mark_reachable(
    nodes: &[Node],
    index_of: &gix::hashtable::HashMap<ObjectId, u32>,
    starts: &[ObjectId],
) -> Vec<bool> {
    let mut reachable = vec![false; nodes.len()];
    let mut stack: Vec<u32> = starts
        .iter()
        .filter_map(|id| index_of.get(id).copied())
        .filter(|&i| i != u32::MAX)
        .collect();
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut reachable[i as usize], true) {
            stack.extend(nodes[i as usize].parents.iter().copied());
        }
    }
    reachable
}

/// Reads every commit reachable from `starts`. Missing commits are named and
/// counted, except the parents of a shallow clone's boundary, which are
/// missing by design (and were warned about once already).
fn commit_graph(
    r: &Repo,
    starts: &[ObjectId],
    scanned: &[ScannedCommit],
    shallow: &[ObjectId],
    diag: &Diagnostics,
    counters: &AtomicStats,
) -> (Vec<Node>, gix::hashtable::HashMap<ObjectId, u32>) {
    // The commits the object scan parsed already; the others (none, unless
    // damaged or only reachable through a ref) are read here.
    let known: gix::hashtable::HashMap<ObjectId, &CommitHeader> = scanned
        .iter()
        .filter_map(|c| c.header.as_ref().map(|h| (c.id, h)))
        .collect();
    let shallow: HashSet<ObjectId> = shallow.iter().copied().collect();
    let mut index_of: gix::hashtable::HashMap<ObjectId, u32> = Default::default();
    let mut nodes: Vec<Node> = Vec::new();
    let mut parent_ids: Vec<Vec<ObjectId>> = Vec::new();
    let mut stack: Vec<ObjectId> = starts.to_vec();
    let mut buf = Vec::new();
    while let Some(id) = stack.pop() {
        if index_of.contains_key(&id) {
            continue;
        }
        let (tree, time, mut parents) = match known.get(&id) {
            Some(h) => (h.tree, h.time, h.parents.clone()),
            None => match read_commit(r, id, &mut buf, diag, counters) {
                Some(h) => (h.tree, h.time, h.parents),
                None => {
                    // Remember it as seen so it is reported once.
                    index_of.insert(id, u32::MAX);
                    continue;
                }
            },
        };
        if shallow.contains(&id) {
            parents.clear();
        }
        index_of.insert(id, nodes.len() as u32);
        nodes.push(Node {
            id,
            tree,
            parents: Vec::new(),
            time,
        });
        stack.extend(parents.iter().copied());
        parent_ids.push(parents);
    }
    for (node, parents) in nodes.iter_mut().zip(parent_ids) {
        node.parents = parents
            .iter()
            .filter_map(|p| index_of.get(p).copied())
            .filter(|&i| i != u32::MAX)
            .collect();
    }
    (nodes, index_of)
}

/// Reads a commit the object scan did not parse, warning and counting it
/// if it cannot be read or parsed.
fn read_commit(
    r: &Repo,
    id: ObjectId,
    buf: &mut Vec<u8>,
    diag: &Diagnostics,
    counters: &AtomicStats,
) -> Option<CommitHeader> {
    let data = match r.repo.objects.find_commit_iter(&id, buf) {
        Ok(commit) => commit,
        Err(e) => {
            AtomicStats::bump(&counters.corrupt_objects, 1);
            diag.warn(format_args!(
                "{}: commit {id} cannot be read, history behind it is not attributed: {}",
                r.path.display(),
                reason(&e)
            ));
            return None;
        }
    };
    // The iterator is Copy: parse the tree from a copy, then the rest.
    let mut header = data;
    let tree = match header.tree_id() {
        Ok(t) => t,
        Err(e) => {
            AtomicStats::bump(&counters.corrupt_objects, 1);
            diag.warn(format_args!(
                "{}: commit {id} is corrupt: {}",
                r.path.display(),
                reason(&e)
            ));
            return None;
        }
    };
    Some(CommitHeader {
        tree,
        time: data.committer().map(|s| s.seconds()).unwrap_or(0),
        parents: data.parent_ids().collect(),
    })
}

/// Node indices with every parent before its children, and among commits
/// whose parents are done, the oldest committer date first (Kahn's algorithm
/// with a min-heap), so "first" means what a person would call first.
fn oldest_first(nodes: &[Node]) -> Vec<usize> {
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); nodes.len()];
    let mut waiting: Vec<usize> = vec![0; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        let mut seen = Vec::with_capacity(n.parents.len());
        for &p in &n.parents {
            // An octopus merge may name the same parent twice.
            if !seen.contains(&p) {
                seen.push(p);
                children[p as usize].push(i as u32);
                waiting[i] += 1;
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId, u32)>> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| waiting[*i] == 0)
        .map(|(i, n)| Reverse((n.time, n.id, i as u32)))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse((_, _, i))) = ready.pop() {
        order.push(i as usize);
        for &c in &children[i as usize] {
            waiting[c as usize] -= 1;
            if waiting[c as usize] == 0 {
                let n = &nodes[c as usize];
                ready.push(Reverse((n.time, n.id, c)));
            }
        }
    }
    order
}

/// Commits from `starts` back, for range scans: the same ordering.
pub(crate) fn order_oldest_first(commits: &[(ObjectId, Vec<ObjectId>, i64)]) -> Vec<usize> {
    let index_of: HashMap<ObjectId, u32> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.0, i as u32))
        .collect();
    let nodes: Vec<Node> = commits
        .iter()
        .map(|(id, parents, time)| Node {
            id: *id,
            tree: *id,
            parents: parents
                .iter()
                .filter_map(|p| index_of.get(p).copied())
                .collect(),
            time: *time,
        })
        .collect();
    oldest_first(&nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    #[test]
    fn parents_come_before_children_even_when_dated_later() {
        // c2's committer date is older than its parent's (clock skew): the
        // topology still wins.
        let commits = vec![
            (id(2), vec![id(1)], 5),
            (id(1), vec![], 10),
            (id(3), vec![id(2), id(1)], 20),
        ];
        let order = order_oldest_first(&commits);
        let ids: Vec<ObjectId> = order.iter().map(|&i| commits[i].0).collect();
        assert_eq!(ids, vec![id(1), id(2), id(3)]);
    }

    /// Runs git in `dir` with no user or system config.
    fn git(dir: &std::path::Path, home: &std::path::Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn the_tree_filter_reads_fewer_trees_and_changes_nothing() {
        let home = tempfile::tempdir().expect("tempdir");
        let dir = home.path().join("repo");
        std::fs::create_dir_all(&dir).expect("mkdir");
        git(&dir, home.path(), &["init", "-q", "-b", "main"]);
        for i in 0..12 {
            for d in ["a", "b/c", "d/e/f"] {
                std::fs::create_dir_all(dir.join(d)).expect("mkdir");
                std::fs::write(dir.join(d).join("n.txt"), format!("{d} {i}\n")).expect("write");
            }
            if i == 3 {
                std::fs::write(dir.join("b/c/early.txt"), "early\n").expect("write");
            }
            if i == 11 {
                std::fs::write(dir.join("d/e/late.txt"), "late\n").expect("write");
            }
            git(&dir, home.path(), &["add", "-A"]);
            git(&dir, home.path(), &["commit", "-q", "-m", &format!("c{i}")]);
            if i == 8 {
                // Packed history, and loose trees after it.
                git(&dir, home.path(), &["gc", "-q"]);
            }
        }
        let parse = |s: String| ObjectId::from_hex(s.as_bytes()).expect("hex id");
        let targets = vec![
            parse(git(&dir, home.path(), &["rev-parse", "HEAD:b/c/early.txt"])),
            parse(git(&dir, home.path(), &["rev-parse", "HEAD:d/e/late.txt"])),
        ];
        let r = super::super::open(&dir).expect("open");
        let scanned = super::super::odb::scan_all_blobs(
            &r,
            &crate::detect::Detector::new(),
            &super::super::HistoryOptions::default(),
            &Diagnostics::silent(),
            &AtomicStats::default(),
            None,
        )
        .expect("scan");
        assert!(scanned.packed_trees.iter().all(|p| p.trees.is_some()));
        assert!(scanned.commits.iter().all(|c| c.header.is_some()));
        let run = |filter_after: usize| {
            let counters = AtomicStats::default();
            let diag = Diagnostics::silent();
            attribute_with(
                &r,
                &targets,
                &scanned.commits,
                &scanned.packed_trees,
                &[],
                &[],
                2,
                filter_after,
                &diag,
                &counters,
            )
            .expect("attribute")
        };
        let (exhaustive, all_reads) = run(usize::MAX);
        let (filtered, few_reads) = run(0);
        assert!(few_reads < all_reads, "{few_reads} < {all_reads}");
        for t in &targets {
            let (a, b) = (&exhaustive.origins[t], &filtered.origins[t]);
            assert_eq!(
                (a.commit, &a.path, a.still_at_head, &a.refs),
                (b.commit, &b.path, b.still_at_head, &b.refs)
            );
            assert!(a.commit.is_some());
        }
        assert_eq!(
            exhaustive.origins[&targets[1]].path.as_deref(),
            Some("d/e/late.txt")
        );
    }

    #[test]
    fn independent_branches_are_ordered_by_date() {
        let commits = vec![
            (id(1), vec![], 10),
            (id(2), vec![id(1)], 30),
            (id(3), vec![id(1)], 20),
        ];
        let ids: Vec<ObjectId> = order_oldest_first(&commits)
            .iter()
            .map(|&i| commits[i].0)
            .collect();
        assert_eq!(ids, vec![id(1), id(3), id(2)]);
    }
}
