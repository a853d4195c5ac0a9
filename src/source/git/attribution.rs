//! Attribution: for the few blobs that had findings, which commit and path
//! first brought each into history, whether HEAD still has it, and which
//! refs' tips do. Shared by full-history scans (which search the whole
//! graph) and range scans (which know the commit and only ask where the
//! blob is now).
//!
//! Commits are visited oldest first ([`super::commits::Graph::oldest_first`])
//! and the first commit whose tree contains a target introduced it. A merge
//! is a commit like any other, so content that exists only in a merge result
//! is attributed to the merge, which patch walkers (`git log -p` without
//! `-m`) miss. A renamed file keeps its first commit and path, because the
//! blob was first seen there.
//!
//! Cost is kept down by [`TreeIndex`]: for each tree id it remembers which
//! targets it contains and at which sub-paths, so each unique tree is read
//! once however many commits share it, and the walk stops as soon as every
//! target has its commit. Past a few thousand tree reads, a [`TreeFilter`]
//! built in one parallel pass rules out the trees that cannot hold a target.

use super::commits::{commit_info, commit_tree, walk_graph, CommitHeader};
use super::odb::PackedTrees;
use super::packs::{ObjectReader, Packs};
use super::repo::{head_commit, reason, ref_tips, Repo, Tip};
use super::treefilter::{self, TreeFilter};
use super::GitError;
use crate::diag::Diagnostics;
use crate::finding::{BlobOrigin, RefList, MAX_REFS_LISTED};
use crate::stats::AtomicStats;
use gix::ObjectId;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::rc::Rc;

/// Trees nested deeper than this are not searched (git itself refuses
/// deeper trees by default, `core.maxTreeDepth`). Walks keep one frame per
/// level, so this bounds their memory; a warning names the repository.
pub(crate) const MAX_TREE_DEPTH: usize = 4096;

/// The targets a tree contains, as sorted target indices. Equal sets are
/// shared (interned): every commit of a long history holds the same few.
type Contents = Rc<[u32]>;

/// A tree being walked by [`TreeIndex::contents`]: its subtrees still to
/// visit and the targets found so far.
struct Frame {
    tree: ObjectId,
    subtrees: Vec<ObjectId>,
    next: usize,
    found: Vec<u32>,
}

/// Memoized "which targets are in this tree". Only the set is kept per
/// tree, never the paths under it: a blob at 20,000 paths of a subtree that
/// 2,000 commits keep, or one at the bottom of a 20,000-level tree, would
/// otherwise cost memory in the product of the two. Paths are found
/// afterwards, for the commit that introduced each target only
/// ([`TreeIndex::paths`]).
pub(crate) struct TreeIndex<'r> {
    objects: ObjectReader<'r>,
    // gix's maps hash object ids by their leading bytes (already uniformly
    // random) instead of running SipHash over them.
    targets: gix::hashtable::HashMap<ObjectId, u32>,
    memo: gix::hashtable::HashMap<ObjectId, Contents>,
    interned: HashSet<Contents>,
    empty: Contents,
    /// Trees read so far (memo misses and path searches).
    pub(crate) reads: usize,
    /// When set, trees it rules out are not read at all.
    pub(crate) filter: Option<TreeFilter>,
    /// Trees that could not be read (corrupt, or cut off by a shallow clone).
    pub(crate) unreadable: Vec<(ObjectId, String)>,
    /// Subtrees left unsearched because they were past [`MAX_TREE_DEPTH`].
    pub(crate) too_deep: usize,
}

impl<'r> TreeIndex<'r> {
    /// `targets` must not repeat an id: its positions are the target indices.
    pub(crate) fn new(objects: ObjectReader<'r>, targets: &[ObjectId]) -> Self {
        debug_assert!(
            targets.iter().collect::<HashSet<_>>().len() == targets.len(),
            "target ids are unique"
        );
        let targets = targets
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        let empty: Contents = Rc::from(Vec::new());
        TreeIndex {
            objects,
            targets,
            memo: Default::default(),
            interned: HashSet::from([empty.clone()]),
            empty,
            reads: 0,
            filter: None,
            unreadable: Vec::new(),
            too_deep: 0,
        }
    }

    /// The reader the index reads trees with, for other reads of the same
    /// trees (its cache has them).
    pub(crate) fn objects(&mut self) -> &mut ObjectReader<'r> {
        &mut self.objects
    }

    /// The targets inside `tree` (recursively). Walked with an explicit
    /// stack, so a tree 20,000 levels deep costs 20,000 small frames, not
    /// the thread's stack.
    pub(crate) fn contents(&mut self, tree: ObjectId) -> Contents {
        if let Some(c) = self.memo.get(&tree) {
            return c.clone();
        }
        let Some(root) = self.open(tree) else {
            return self.memo.get(&tree).cloned().unwrap_or(self.empty.clone());
        };
        let mut stack = vec![root];
        loop {
            let depth = stack.len();
            let Some(top) = stack.last_mut() else {
                return self.empty.clone();
            };
            if let Some(&child) = top.subtrees.get(top.next) {
                top.next += 1;
                if let Some(c) = self.memo.get(&child) {
                    top.found.extend_from_slice(c);
                } else if depth >= MAX_TREE_DEPTH {
                    self.too_deep += 1;
                } else if let Some(frame) = self.open(child) {
                    stack.push(frame);
                } else if let Some(c) = self.memo.get(&child) {
                    // Ruled out or unreadable: memoized as empty by `open`.
                    top.found.extend_from_slice(c);
                }
                continue;
            }
            let Some(done) = stack.pop() else {
                return self.empty.clone();
            };
            let set = self.intern(done.found);
            self.memo.insert(done.tree, set.clone());
            match stack.last_mut() {
                Some(parent) => parent.found.extend_from_slice(&set),
                None => return set,
            }
        }
    }

    /// Reads `tree` into a frame, or memoizes it as empty (ruled out by the
    /// filter, or unreadable) and gives `None`.
    fn open(&mut self, tree: ObjectId) -> Option<Frame> {
        if self.filter.as_ref().is_some_and(|f| !f.may_contain(&tree)) {
            self.memo.insert(tree, self.empty.clone());
            return None;
        }
        self.reads += 1;
        let mut frame = Frame {
            tree,
            subtrees: Vec::new(),
            next: 0,
            found: Vec::new(),
        };
        let read = read_tree(
            &mut self.objects,
            &self.targets,
            tree,
            |_, entry| match entry {
                Entry::Tree(id) => frame.subtrees.push(id),
                Entry::Target(t) => frame.found.push(t),
            },
        );
        match read {
            Ok(()) => Some(frame),
            Err(why) => {
                self.unreadable.push((tree, why));
                self.memo.insert(tree, self.empty.clone());
                None
            }
        }
    }

    /// The one shared copy of the set `found` (sorted, without repeats).
    fn intern(&mut self, mut found: Vec<u32>) -> Contents {
        found.sort_unstable();
        found.dedup();
        if let Some(c) = self.interned.get(found.as_slice()) {
            return c.clone();
        }
        let c: Contents = Rc::from(found);
        self.interned.insert(c.clone());
        c
    }

    /// The first path (in git's tree order, depth first) of each target of
    /// `wanted` under `root`, which [`TreeIndex::contents`] has walked.
    /// Descends only into subtrees that hold a target still wanted, with one
    /// path buffer; trees are read again, once per introducing commit.
    pub(crate) fn paths(&mut self, root: ObjectId, wanted: &[u32]) -> HashMap<u32, Vec<u8>> {
        let mut left: HashSet<u32> = wanted.iter().copied().collect();
        let mut out = HashMap::new();
        // Per level: the relevant entries (name, what), the next one, and
        // the length of the path buffer before this level's names.
        struct Level {
            entries: Vec<(Vec<u8>, Entry)>,
            next: usize,
            prefix: usize,
        }
        let mut path: Vec<u8> = Vec::new();
        let mut stack: Vec<Level> = Vec::new();
        let mut visit = Some(root);
        loop {
            if let Some(tree) = visit.take() {
                if stack.len() >= MAX_TREE_DEPTH {
                    self.too_deep += 1;
                } else {
                    self.reads += 1;
                    let mut entries = Vec::new();
                    let memo = &self.memo;
                    // An unreadable tree was named by `contents` already.
                    let _ = read_tree(&mut self.objects, &self.targets, tree, |name, entry| {
                        let wanted = match &entry {
                            Entry::Target(t) => left.contains(t),
                            Entry::Tree(id) => memo
                                .get(id)
                                .is_some_and(|c| c.iter().any(|t| left.contains(t))),
                        };
                        if wanted {
                            entries.push((name.to_vec(), entry));
                        }
                    });
                    stack.push(Level {
                        entries,
                        next: 0,
                        prefix: path.len(),
                    });
                }
            }
            if left.is_empty() {
                return out;
            }
            let Some(level) = stack.last_mut() else {
                return out;
            };
            let Some((name, entry)) = level.entries.get(level.next) else {
                // Done here; the parent's next entry resets the buffer.
                stack.pop();
                continue;
            };
            level.next += 1;
            path.truncate(level.prefix);
            path.extend_from_slice(name);
            match entry {
                Entry::Target(t) => {
                    if left.remove(t) {
                        out.insert(*t, path.clone());
                    }
                }
                Entry::Tree(id) => {
                    path.push(b'/');
                    visit = Some(*id);
                }
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.targets.len()
    }

    /// Where the targets are now: those in HEAD's tree, and the refs
    /// holding each ([`TreeIndex::refs_holding`]).
    pub(crate) fn placement(&mut self, tips: &[Tip], head: Option<ObjectId>) -> Placement {
        let at_head: HashSet<u32> = match head.and_then(|h| commit_tree(&mut self.objects, h)) {
            Some(tree) => self.contents(tree).iter().copied().collect(),
            None => HashSet::new(),
        };
        Placement {
            at_head,
            refs: self.refs_holding(tips),
        }
    }

    /// For each target, the refs among `tips` that hold it (a tag may name
    /// a tree or a blob directly). Each target keeps its first
    /// [`MAX_REFS_LISTED`] names and a count, so 80,000 tags over a
    /// thousand leaking blobs cost a thousand short lists, not 80 million
    /// names.
    pub(crate) fn refs_holding(&mut self, tips: &[Tip]) -> Vec<RefList> {
        let mut refs: Vec<RefCollector> =
            (0..self.len()).map(|_| RefCollector::default()).collect();
        // Many tags name the same commit: read each commit's tree once.
        let mut trees: gix::hashtable::HashMap<ObjectId, Option<ObjectId>> = Default::default();
        for tip in tips {
            let held: Contents = match tip.kind {
                gix::objs::Kind::Commit => {
                    let tree = *trees
                        .entry(tip.id)
                        .or_insert_with(|| commit_tree(&mut self.objects, tip.id));
                    match tree {
                        Some(tree) => self.contents(tree),
                        None => self.empty.clone(),
                    }
                }
                gix::objs::Kind::Tree => self.contents(tip.id),
                gix::objs::Kind::Blob => match self.targets.get(&tip.id) {
                    Some(t) => Rc::from(vec![*t]),
                    None => self.empty.clone(),
                },
                gix::objs::Kind::Tag => self.empty.clone(),
            };
            for &t in held.iter() {
                refs[t as usize].add(&tip.name);
            }
        }
        refs.into_iter().map(RefCollector::finish).collect()
    }

    /// Names and counts the trees that could not be read; `known_corrupt`
    /// were counted already by the object scan.
    pub(crate) fn report_unreadable(
        &self,
        r: &Repo,
        known_corrupt: &[ObjectId],
        shallow: bool,
        diag: &Diagnostics,
        counters: &AtomicStats,
    ) {
        let known: HashSet<&ObjectId> = known_corrupt.iter().collect();
        for (tree, why) in &self.unreadable {
            if !known.contains(tree) {
                AtomicStats::bump(&counters.corrupt_objects, 1);
            }
            let hint = if shallow { " (shallow clone)" } else { "" };
            diag.warn(format_args!(
                "{}: tree {tree} cannot be read{hint}, blobs under it are not attributed: {why}",
                r.path.display()
            ));
        }
        if self.too_deep > 0 {
            diag.warn(format_args!(
                "{}: trees are nested deeper than {MAX_TREE_DEPTH} levels; blobs below that depth are not attributed ({} subtrees not searched)",
                r.path.display(),
                self.too_deep
            ));
        }
    }
}

/// An entry of a tree that may lead to a target.
enum Entry {
    Tree(ObjectId),
    Target(u32),
}

/// The ref names holding one target: the first [`MAX_REFS_LISTED`] in name
/// order (a bounded max-heap) and how many in all.
#[derive(Default)]
struct RefCollector {
    first: BinaryHeap<String>,
    total: usize,
}

impl RefCollector {
    fn add(&mut self, name: &str) {
        self.total += 1;
        if self.first.len() < MAX_REFS_LISTED {
            self.first.push(name.to_string());
        } else if self.first.peek().is_some_and(|last| name < last.as_str()) {
            self.first.pop();
            self.first.push(name.to_string());
        }
    }

    fn finish(self) -> RefList {
        RefList::with_total(self.first.into_sorted_vec(), self.total)
    }
}

/// Where targets are now, by target index.
pub(crate) struct Placement {
    pub(crate) at_head: HashSet<u32>,
    pub(crate) refs: Vec<RefList>,
}

/// Calls `each` with the name and kind of every entry of `tree` that can
/// lead to one of `targets`: subtrees and target blobs. Everything else
/// (most entries) is skipped without allocating, which matters when every
/// tree of a large history is read. Gitlinks (submodules) point into other
/// repositories: their content is not here.
fn read_tree(
    objects: &mut ObjectReader<'_>,
    targets: &gix::hashtable::HashMap<ObjectId, u32>,
    tree: ObjectId,
    mut each: impl FnMut(&[u8], Entry),
) -> Result<(), String> {
    let data = objects.read(&tree, gix::objs::Kind::Tree)?;
    for entry in gix::objs::TreeRefIter::from_bytes(data, tree.kind()) {
        let entry = entry.map_err(|e| reason(&e))?;
        if entry.mode.is_tree() {
            each(entry.filename, Entry::Tree(entry.oid.to_owned()));
        } else if entry.mode.is_blob_or_symlink() {
            if let Some(t) = targets.get(entry.oid) {
                each(entry.filename, Entry::Target(*t));
            }
        }
    }
    Ok(())
}

/// The paths of submodules (gitlinks) in HEAD's tree, to name them in a
/// warning; gives up on huge trees rather than make every scan pay for it.
/// Depth first with one path buffer: a path is built only for a gitlink.
fn submodule_paths(objects: &mut ObjectReader<'_>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(root) = head_commit(objects).and_then(|c| commit_tree(objects, c)) else {
        return out;
    };
    let mut budget = 20_000usize;
    // Per level: its subtrees (name, id), the next one, and the length of
    // the path buffer before this level's names.
    type Level = (Vec<(Vec<u8>, ObjectId)>, usize, usize);
    let mut stack: Vec<Level> = Vec::new();
    let mut path: Vec<u8> = Vec::new();
    let mut visit = Some(root);
    loop {
        if let Some(tree) = visit.take() {
            if budget > 0 && stack.len() < MAX_TREE_DEPTH {
                budget -= 1;
                let mut subtrees = Vec::new();
                if let Ok(data) = objects.read(&tree, gix::objs::Kind::Tree) {
                    let iter = gix::objs::TreeRefIter::from_bytes(data, tree.kind());
                    for entry in iter.filter_map(Result::ok) {
                        if entry.mode.is_commit() {
                            let mut p = path.clone();
                            p.extend_from_slice(entry.filename);
                            out.push(p);
                        } else if entry.mode.is_tree() {
                            subtrees.push((entry.filename.to_vec(), entry.oid.to_owned()));
                        }
                    }
                }
                stack.push((subtrees, 0, path.len()));
            }
        }
        let Some((subtrees, next, prefix)) = stack.last_mut() else {
            break;
        };
        path.truncate(*prefix);
        match subtrees.get(*next) {
            Some((name, id)) => {
                *next += 1;
                path.extend_from_slice(name);
                path.push(b'/');
                visit = Some(*id);
            }
            None => {
                stack.pop();
            }
        }
    }
    out.sort();
    out
}

/// Trees read one by one before it pays to index all trees in one parallel
/// pass (see [`treefilter`]): below this, walks that end early stay cheap.
/// On git/git the pass (decoding every tree, ~0.9 s on two cores) costs
/// about what reading 27,000 trees one by one does (~33 µs each); like the
/// first choice (20,000 against a whole-pack pass worth 80,000 reads), the
/// limit is a quarter of that, so a walk that needs the pass wastes little.
const TREE_READS_BEFORE_FILTER: usize = 7_000;

/// What [`attribute`] learnt: per target, its origin and the path it was
/// first seen at (`None` when no commit holds it).
pub(crate) struct Attribution {
    pub(crate) origins: HashMap<ObjectId, (BlobOrigin, Option<Vec<u8>>)>,
    /// Submodule paths at HEAD, whose content is not scanned.
    pub(crate) gitlinks: Vec<Vec<u8>>,
}

/// What the object scan already knows that attribution needs.
pub(crate) struct Known<'a> {
    /// Every commit in the object database, with its header when it parsed.
    pub(crate) commits: &'a [(ObjectId, Option<CommitHeader>)],
    pub(crate) packed_trees: &'a [PackedTrees],
    pub(crate) corrupt: &'a [ObjectId],
    pub(crate) shallow: &'a [ObjectId],
}

/// Finds the origin of each target blob (see the module docs).
pub(crate) fn attribute(
    r: &Repo,
    targets: &[ObjectId],
    known: &Known<'_>,
    threads: usize,
    diag: &Diagnostics,
    counters: &AtomicStats,
) -> Result<Attribution, GitError> {
    attribute_with(
        r,
        targets,
        known,
        threads,
        TREE_READS_BEFORE_FILTER,
        diag,
        counters,
    )
    .map(|(a, _)| a)
}

/// [`attribute`], with the point at which the tree filter is built, and
/// returning how many trees were read (for tests).
fn attribute_with(
    r: &Repo,
    targets: &[ObjectId],
    known: &Known<'_>,
    threads: usize,
    filter_after: usize,
    diag: &Diagnostics,
    counters: &AtomicStats,
) -> Result<(Attribution, usize), GitError> {
    let repo = &r.repo;
    // Every tree of the history may be read here, in commit order, where
    // consecutive trees are deltas of each other: the pack reader keeps
    // each decoded version, bases included, for the next.
    let packs = Packs::open(r);
    // Indices into `targets` are used below: make them unique first.
    let mut unique = targets.to_vec();
    unique.sort();
    unique.dedup();
    let targets = unique.as_slice();
    let mut index = TreeIndex::new(ObjectReader::new(&packs, repo), targets);
    // HEAD's trees, read here for submodules, stay in the index's cache for
    // placement below.
    let gitlinks = submodule_paths(index.objects());
    let mut origins = HashMap::new();
    if targets.is_empty() {
        return Ok((Attribution { origins, gitlinks }, 0));
    }

    let tips = ref_tips(r, index.objects(), diag)?;
    let head = head_commit(index.objects());
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
    let parsed: gix::hashtable::HashMap<ObjectId, CommitHeader> = known
        .commits
        .iter()
        .filter_map(|(id, h)| h.clone().map(|h| (*id, h)))
        .collect();
    let mut all_starts = starts.clone();
    all_starts.extend(known.commits.iter().map(|(id, _)| *id));
    let graph = walk_graph(r, &all_starts, &parsed, known.shallow, diag, counters);
    drop(parsed);
    let reachable = graph.reachable_from(&starts);

    // first[t] = the earliest commit node holding target t.
    let mut first: Vec<Option<usize>> = vec![None; index.len()];
    let mut remaining = index.len();
    let order = graph.oldest_first();
    let mut filter_tried = false;
    for pass in [true, false] {
        for &n in &order {
            if remaining == 0 {
                break;
            }
            if index.reads >= filter_after && !filter_tried {
                filter_tried = true;
                match treefilter::build(r, known.packed_trees, targets, threads, diag) {
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
            for &t in index.contents(graph.nodes[n].tree).iter() {
                let slot = &mut first[t as usize];
                if slot.is_none() {
                    *slot = Some(n);
                    remaining -= 1;
                }
            }
        }
    }
    // The path of each target in the commit that introduced it, one walk
    // per such commit.
    let mut introduced: HashMap<usize, Vec<u32>> = HashMap::new();
    for (t, n) in first.iter().enumerate() {
        if let Some(n) = n {
            introduced.entry(*n).or_default().push(t as u32);
        }
    }
    let mut first_path: HashMap<u32, Vec<u8>> = HashMap::new();
    for (n, wanted) in &introduced {
        first_path.extend(index.paths(graph.nodes[*n].tree, wanted));
    }

    let mut placement = index.placement(&tips, head);
    index.report_unreadable(r, known.corrupt, !known.shallow.is_empty(), diag, counters);

    for (i, id) in targets.iter().enumerate() {
        let refs = std::mem::take(&mut placement.refs[i]);
        let origin = match first[i] {
            Some(n) => (
                BlobOrigin {
                    id: id.to_string(),
                    commit: Some(commit_info(index.objects(), graph.nodes[n].id)),
                    still_at_head: placement.at_head.contains(&(i as u32)),
                    unreachable: !reachable[n] && refs.total() == 0,
                    refs,
                },
                first_path.remove(&(i as u32)),
            ),
            // A tag pointing straight at a tree or blob reaches it without
            // any commit: reachable, but no commit to name.
            None => (
                BlobOrigin {
                    id: id.to_string(),
                    commit: None,
                    still_at_head: false,
                    unreachable: refs.total() == 0,
                    refs,
                },
                None,
            ),
        };
        origins.insert(*id, origin);
    }
    Ok((Attribution { origins, gitlinks }, index.reads))
}

#[cfg(test)]
mod tests {
    use super::super::testing::git;
    use super::*;

    /// A fresh repository in `home/repo` built by `git fast-import` from
    /// `script` (one process, whatever the number of trees).
    fn imported(home: &std::path::Path, script: &str) -> std::path::PathBuf {
        use std::io::Write;
        let dir = home.join("repo");
        std::fs::create_dir_all(&dir).expect("mkdir");
        git(&dir, home, &["init", "-q", "-b", "main"]);
        let mut child = std::process::Command::new("git")
            .args(["fast-import", "--quiet"])
            .current_dir(&dir)
            .env("HOME", home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("run git fast-import");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(script.as_bytes())
            .expect("write script");
        assert!(child.wait().expect("wait").success());
        dir
    }

    fn commit(mark: usize, from: Option<usize>, changes: &str) -> String {
        let from = from.map(|f| format!("from :{f}\n")).unwrap_or_default();
        format!(
            "commit refs/heads/main\nmark :{mark}\ncommitter T <t@example.com> {} +0000\ndata 1\nc\n{from}{changes}\n",
            1_700_000_000 + mark
        )
    }

    fn id(dir: &std::path::Path, home: &std::path::Path, rev: &str) -> ObjectId {
        ObjectId::from_hex(git(dir, home, &["rev-parse", rev]).as_bytes()).expect("hex id")
    }

    #[test]
    fn deep_trees_are_walked_in_frames_not_on_the_stack() {
        // Issue 20.5: 20,000 levels overflowed the stack, and every level
        // kept its own copy of the path below it (memory depth²). Trees
        // read grow with the depth, the path is built once, and a tree
        // past MAX_TREE_DEPTH is left out with a count, not a crash.
        for depth in [1_000, 3_000, MAX_TREE_DEPTH + 500] {
            let home = tempfile::tempdir().expect("tempdir");
            let path = format!("{}k.txt", "d/".repeat(depth));
            let script = format!(
                "blob\nmark :1\ndata 21\nAKIASP2TPHJSQH3FJRUX\n\n{}",
                commit(2, None, &format!("M 100644 :1 {path}\n"))
            );
            let dir = imported(home.path(), &script);
            let r = super::super::repo::open(&dir).expect("open");
            let target = id(&dir, home.path(), "HEAD~0^{tree}");
            let blob = id(&dir, home.path(), &format!("HEAD:{path}"));
            let packs = Packs::open(&r);
            let mut index = TreeIndex::new(ObjectReader::new(&packs, &r.repo), &[blob]);
            let held = index.contents(target);
            let trees = super::super::diff::TreeCache::new();
            let packs = super::super::packs::Packs::open(&r);
            let objects = super::super::packs::ObjectReader::new(&packs, &r.repo);
            let mut differ = super::super::diff::Differ::new(objects, &trees);
            let mut changes = Vec::new();
            differ.diff(None, target, &mut changes).expect("diff");
            if depth < MAX_TREE_DEPTH {
                assert_eq!(&held[..], &[0], "{depth}");
                assert_eq!(index.reads, depth + 1, "each tree read once");
                let paths = index.paths(target, &[0]);
                assert_eq!(paths[&0], path.as_bytes(), "{depth}");
                assert_eq!(index.reads, 2 * (depth + 1), "and once more for the path");
                assert_eq!(index.too_deep, 0);
                assert_eq!(changes.len(), 1);
                assert_eq!(changes[0].0, path.as_bytes());
                assert_eq!(differ.too_deep, 0);
            } else {
                assert!(held.is_empty(), "below the depth limit");
                assert_eq!(index.reads, MAX_TREE_DEPTH);
                assert_eq!(index.too_deep, 1);
                assert!(changes.is_empty());
                assert_eq!(differ.too_deep, 1);
            }
        }
    }

    #[test]
    fn a_blob_at_many_paths_kept_by_many_commits_is_memoized_as_a_set() {
        // Issue 20.6: each commit's memo copied the subtree's whole path
        // list (20k paths × 2k commits: 2.5 GB). Now each tree is read once
        // and holds one shared set, whatever the number of paths and commits.
        for commits in [20, 80] {
            let home = tempfile::tempdir().expect("tempdir");
            let mut script = String::from("blob\nmark :1\ndata 21\nAKIASP2TPHJSQH3FJRUX\n\n");
            let paths: String = (0..500)
                .map(|i| format!("M 100644 :1 s/k{i:05}\n"))
                .collect();
            script.push_str(&commit(2, None, &paths));
            for c in 1..commits {
                let change = format!("M 100644 inline n\ndata 4\n{c:03}\n");
                script.push_str(&commit(2 + c, Some(1 + c), &change));
            }
            let dir = imported(home.path(), &script);
            let r = super::super::repo::open(&dir).expect("open");
            let blob = id(&dir, home.path(), "HEAD:s/k00000");
            let packs = Packs::open(&r);
            let mut index = TreeIndex::new(ObjectReader::new(&packs, &r.repo), &[blob]);
            let roots: Vec<ObjectId> = (0..commits)
                .map(|c| id(&dir, home.path(), &format!("HEAD~{c}^{{tree}}")))
                .collect();
            for root in &roots {
                assert_eq!(&index.contents(*root)[..], &[0]);
            }
            // One read per root, one for the shared subtree.
            assert_eq!(index.reads, commits + 1);
            // The empty set and {0}: every tree shares one of the two.
            assert_eq!(index.interned.len(), 2);
            let first = index.paths(roots[commits - 1], &[0]);
            assert_eq!(first[&0], b"s/k00000");
        }
    }

    #[test]
    fn ref_lists_keep_the_first_names_and_count_all() {
        let home = tempfile::tempdir().expect("tempdir");
        let mut script = String::from("blob\nmark :1\ndata 21\nAKIASP2TPHJSQH3FJRUX\n\n");
        script.push_str(&commit(2, None, "M 100644 :1 k.txt\n"));
        for t in (0..250).rev() {
            script.push_str(&format!("reset refs/tags/v{t:03}\nfrom :2\n\n"));
        }
        let dir = imported(home.path(), &script);
        let r = super::super::repo::open(&dir).expect("open");
        let blob = id(&dir, home.path(), "HEAD:k.txt");
        let packs = Packs::open(&r);
        let mut index = TreeIndex::new(ObjectReader::new(&packs, &r.repo), &[blob]);
        let tips = ref_tips(&r, index.objects(), &Diagnostics::silent()).expect("tips");
        let head = head_commit(index.objects());
        let placement = index.placement(&tips, head);
        let refs = &placement.refs[0];
        assert_eq!(refs.total(), 251, "250 tags and main");
        assert_eq!(refs.names().len(), MAX_REFS_LISTED);
        assert_eq!(refs.names()[0], "refs/heads/main");
        assert_eq!(refs.names()[1], "refs/tags/v000");
        assert_eq!(refs.names()[99], "refs/tags/v098");
        assert!(placement.at_head.contains(&0));
        // The 251 tips name one commit: its tree was read once.
        assert_eq!(index.reads, 1);
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
        let r = super::super::repo::open(&dir).expect("open");
        let counters = AtomicStats::default();
        let diag = Diagnostics::silent();
        let detector = crate::detect::Detector::new();
        let scanner = crate::blob::BlobScanner {
            detector: &detector,
            limits: crate::blob::ReadLimits::default(),
            counters: &counters,
            diag: &diag,
        };
        let scanned =
            super::super::odb::scan_all_blobs(&r, &scanner, 2, None, None, None).expect("scan");
        assert!(scanned.packed_trees.iter().all(|p| p.trees.is_some()));
        assert!(scanned.commits.iter().all(|(_, h)| h.is_some()));
        let known = Known {
            commits: &scanned.commits,
            packed_trees: &scanned.packed_trees,
            corrupt: &[],
            shallow: &[],
        };
        let run = |filter_after: usize| {
            attribute_with(&r, &targets, &known, 2, filter_after, &diag, &counters)
                .expect("attribute")
        };
        let (exhaustive, all_reads) = run(usize::MAX);
        let (filtered, few_reads) = run(0);
        assert!(few_reads < all_reads, "{few_reads} < {all_reads}");
        for t in &targets {
            let (a, b) = (&exhaustive.origins[t], &filtered.origins[t]);
            assert_eq!(a, b);
            assert!(a.0.commit.is_some());
        }
        assert_eq!(
            exhaustive.origins[&targets[1]].1.as_deref(),
            Some(&b"d/e/late.txt"[..])
        );
    }
}
