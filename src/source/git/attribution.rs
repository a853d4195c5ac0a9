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
use super::repo::{head_commit, reason, ref_tips, Repo, Tip};
use super::treefilter::{self, TreeFilter};
use super::GitError;
use crate::diag::Diagnostics;
use crate::finding::{BlobOrigin, RefList};
use crate::stats::AtomicStats;
use gix::objs::FindExt;
use gix::ObjectId;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// The targets a tree contains: (target index, path inside the tree).
type Contents = Rc<[(u32, Vec<u8>)]>;

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
        let mut found: Vec<(u32, Vec<u8>)> = Vec::new();
        for entry in entries {
            match entry {
                Relevant::Tree(id, name) => {
                    let sub = self.contents(id);
                    found.extend(sub.iter().map(|(t, p)| {
                        let mut path = Vec::with_capacity(name.len() + 1 + p.len());
                        path.extend_from_slice(&name);
                        path.push(b'/');
                        path.extend_from_slice(p);
                        (*t, path)
                    }));
                }
                Relevant::Target(t, name) => found.push((t, name)),
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
    /// which matters when every tree of a large history is read. Gitlinks
    /// (submodules) point into other repositories: their content is not here.
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

    /// Where the targets are now: those in HEAD's tree, and for each
    /// target the refs whose tips hold it (a tag may name a tree or a blob
    /// directly).
    pub(crate) fn placement(&mut self, tips: &[Tip], head: Option<ObjectId>) -> Placement {
        let at_head: HashSet<u32> = match head.and_then(|h| commit_tree(self.repo, h)) {
            Some(tree) => self.contents(tree).iter().map(|(t, _)| *t).collect(),
            None => HashSet::new(),
        };
        let mut refs: Vec<HashSet<String>> = vec![HashSet::new(); self.len()];
        for tip in tips {
            let held: Vec<u32> = match tip.kind {
                gix::objs::Kind::Commit => match commit_tree(self.repo, tip.id) {
                    Some(tree) => self.contents(tree).iter().map(|(t, _)| *t).collect(),
                    None => Vec::new(),
                },
                gix::objs::Kind::Tree => self.contents(tip.id).iter().map(|(t, _)| *t).collect(),
                gix::objs::Kind::Blob => self.targets.get(&tip.id).copied().into_iter().collect(),
                gix::objs::Kind::Tag => Vec::new(),
            };
            for t in held {
                refs[t as usize].insert(tip.name.clone());
            }
        }
        Placement {
            at_head,
            refs: refs
                .into_iter()
                .map(|set| RefList::new(set.into_iter().collect()))
                .collect(),
        }
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
    }
}

/// Where targets are now, by target index.
pub(crate) struct Placement {
    pub(crate) at_head: HashSet<u32>,
    pub(crate) refs: Vec<RefList>,
}

/// The paths of submodules (gitlinks) in HEAD's tree, to name them in a
/// warning; gives up on huge trees rather than make every scan pay for it.
fn submodule_paths(repo: &gix::Repository) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(root) = head_commit(repo).and_then(|c| commit_tree(repo, c)) else {
        return out;
    };
    let mut budget = 20_000usize;
    let mut stack: Vec<(ObjectId, Vec<u8>)> = vec![(root, Vec::new())];
    let mut buf = Vec::new();
    while let Some((tree, prefix)) = stack.pop() {
        if budget == 0 {
            break;
        }
        budget -= 1;
        let Ok(iter) = repo.objects.find_tree_iter(&tree, &mut buf) else {
            continue;
        };
        for entry in iter.filter_map(Result::ok) {
            let mut path = prefix.clone();
            path.extend_from_slice(entry.filename);
            if entry.mode.is_commit() {
                out.push(path);
            } else if entry.mode.is_tree() {
                path.push(b'/');
                stack.push((entry.oid.to_owned(), path));
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
    let mut origins = HashMap::new();
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

    // first[t] = (commit node, path) of the earliest commit holding target t.
    let mut first: Vec<Option<(usize, Vec<u8>)>> = vec![None; index.len()];
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
            for (t, path) in index.contents(graph.nodes[n].tree).iter() {
                let slot = &mut first[*t as usize];
                if slot.is_none() {
                    *slot = Some((n, path.clone()));
                    remaining -= 1;
                }
            }
        }
    }

    let mut placement = index.placement(&tips, head);
    index.report_unreadable(r, known.corrupt, !known.shallow.is_empty(), diag, counters);

    for (i, id) in targets.iter().enumerate() {
        let refs = std::mem::take(&mut placement.refs[i]);
        let origin = match &first[i] {
            Some((n, path)) => (
                BlobOrigin {
                    id: id.to_string(),
                    commit: Some(commit_info(repo, graph.nodes[*n].id)),
                    still_at_head: placement.at_head.contains(&(i as u32)),
                    unreachable: !reachable[*n] && refs.total() == 0,
                    refs,
                },
                Some(path.clone()),
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
    use super::*;

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
        let scanned = super::super::odb::scan_all_blobs(&r, &scanner, 2, None).expect("scan");
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
