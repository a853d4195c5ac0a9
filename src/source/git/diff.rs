//! Which blobs a commit added or changed, by comparing its tree with a
//! parent's.
//!
//! Range scans diff thousands of commits, so this is written for speed:
//! both trees are walked side by side in git's own entry order (a merge
//! join, no maps), identical subtrees are skipped by id without being read,
//! entry names are not copied unless a path is reported, and recently parsed
//! trees are kept, because in a linear history each commit's tree is read
//! again as the old side of its child's diff.

use super::attribution::MAX_TREE_DEPTH;
use super::packs::ObjectReader;
use super::repo::reason;
use gix::objs::tree::EntryMode;
use gix::ObjectId;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Bound;
use std::sync::{Arc, Mutex};

/// A parsed tree: entries in git order, names packed in one buffer.
struct Tree {
    names: Vec<u8>,
    entries: Vec<Entry>,
}

struct Entry {
    mode: EntryMode,
    name: (u32, u32),
    id: ObjectId,
}

impl Tree {
    fn name(&self, e: &Entry) -> &[u8] {
        &self.names[e.name.0 as usize..e.name.1 as usize]
    }
}

/// The paths a merge changed against every parent compared so far: path
/// -> (the merge's blob there, the parents' other blobs at that path).
/// [`Differ::narrow`] takes away what another parent shares.
pub(crate) type Candidates = BTreeMap<Vec<u8>, (ObjectId, HashSet<ObjectId>)>;

/// Two trees being compared, and how far.
struct Frame {
    new: Arc<Tree>,
    old: Option<Arc<Tree>>,
    i: usize,
    j: usize,
    /// Length of the path buffer at this tree (its path and a `/`).
    prefix: usize,
}

/// One changed path: `(path bytes, new blob, old blob at that path if it
/// was a file or symlink)`.
pub(crate) type Change = (Vec<u8>, ObjectId, Option<ObjectId>);

/// Parsed trees shared by the threads that diff one range: a merge's
/// narrowing often needs a tree another thread read for the commit at its
/// other parent. Two generations: when the young one is full it becomes
/// the old one, and a tree found in the old one moves back to the young,
/// so the trees in use stay and the rest go in bulk.
pub(crate) struct TreeCache {
    generations: Mutex<[gix::hashtable::HashMap<ObjectId, Arc<Tree>>; 2]>,
}

/// Parsed trees kept per generation. Large root trees take ~50 bytes per
/// entry: on git/git two generations of 512 keep the cache near 50 MB
/// (the cache per thread that came before it held 512 and read 28 % of
/// the trees of a 3,900-commit range twice).
const CACHE_TREES: usize = 512;

impl TreeCache {
    pub(crate) fn new() -> Self {
        TreeCache {
            generations: Mutex::new(Default::default()),
        }
    }

    fn get(&self, id: &ObjectId) -> Option<Arc<Tree>> {
        let mut g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = g[0].get(id) {
            return Some(t.clone());
        }
        let t = g[1].remove(id)?;
        Self::insert(&mut g, *id, t.clone());
        Some(t)
    }

    fn put(&self, id: ObjectId, tree: Arc<Tree>) {
        let mut g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        Self::insert(&mut g, id, tree);
    }

    fn insert(
        g: &mut [gix::hashtable::HashMap<ObjectId, Arc<Tree>>; 2],
        id: ObjectId,
        tree: Arc<Tree>,
    ) {
        if g[0].len() >= CACHE_TREES {
            g[1] = std::mem::take(&mut g[0]);
        }
        g[0].insert(id, tree);
    }
}

/// Reads trees for diffs through a [`TreeCache`].
pub(crate) struct Differ<'r> {
    objects: ObjectReader<'r>,
    cache: &'r TreeCache,
    /// Submodule paths whose gitlink a diff added or changed.
    pub(crate) gitlinks: BTreeSet<Vec<u8>>,
    /// Subtrees not compared because they were past [`MAX_TREE_DEPTH`].
    pub(crate) too_deep: usize,
    /// Diffs run, for the tests that count them.
    #[cfg(test)]
    pub(crate) diffs: usize,
    /// Narrowing walks run, for the tests that count them.
    #[cfg(test)]
    pub(crate) narrows: usize,
}

impl<'r> Differ<'r> {
    pub(crate) fn new(objects: ObjectReader<'r>, cache: &'r TreeCache) -> Self {
        Differ {
            objects,
            cache,
            gitlinks: BTreeSet::new(),
            too_deep: 0,
            #[cfg(test)]
            diffs: 0,
            #[cfg(test)]
            narrows: 0,
        }
    }

    /// Blobs under `new` that differ from the same path under `old` (or that
    /// `old` lacks; `None` is the empty tree). On a tree that cannot be read
    /// the diff goes on with the rest and the first error is returned.
    ///
    /// Walked with an explicit stack and one path buffer: a tree 20,000
    /// levels deep costs 20,000 small frames (not the thread's stack), and a
    /// path is copied only when it is reported. Subtrees past
    /// [`MAX_TREE_DEPTH`] are not compared (counted in `too_deep`).
    pub(crate) fn diff(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        out: &mut Vec<Change>,
    ) -> Result<(), String> {
        #[cfg(test)]
        {
            self.diffs += 1;
        }
        let mut first_error = None;
        let mut path: Vec<u8> = Vec::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut visit = Some((old, new));
        loop {
            if let Some((old, new)) = visit.take() {
                if stack.len() >= MAX_TREE_DEPTH {
                    self.too_deep += 1;
                } else if let Some(frame) = self.frame(old, new, path.len(), &mut first_error) {
                    stack.push(frame);
                }
            }
            let Some(f) = stack.last_mut() else {
                break;
            };
            path.truncate(f.prefix);
            let old_entries: &[Entry] = f.old.as_ref().map_or(&[], |t| &t.entries);
            let mut changed = None;
            while f.i < f.new.entries.len() {
                let n = &f.new.entries[f.i];
                let order = match old_entries.get(f.j) {
                    Some(o) => git_order(
                        f.new.name(n),
                        n.mode.is_tree(),
                        f.old.as_ref().map_or(&[][..], |t| t.name(o)),
                        o.mode.is_tree(),
                    ),
                    None => Ordering::Less,
                };
                match order {
                    // Only in the old tree: a deletion, nothing to scan.
                    Ordering::Greater => f.j += 1,
                    Ordering::Less => {
                        changed = Some((f.i, None));
                        f.i += 1;
                        break;
                    }
                    Ordering::Equal => {
                        let o = &old_entries[f.j];
                        let differs = o.id != n.id;
                        let at = (f.i, Some((o.mode, o.id)));
                        f.i += 1;
                        f.j += 1;
                        if differs {
                            changed = Some(at);
                            break;
                        }
                    }
                }
            }
            let Some((i, old)) = changed else {
                stack.pop();
                continue;
            };
            let n = &f.new.entries[i];
            path.extend_from_slice(f.new.name(n));
            if n.mode.is_tree() {
                path.push(b'/');
                // A file replaced by a directory: nothing old to compare.
                let old_sub = old.filter(|(m, _)| m.is_tree()).map(|(_, id)| id);
                visit = Some((old_sub, n.id));
            } else if n.mode.is_commit() {
                self.gitlinks.insert(path.clone());
            } else if n.mode.is_blob_or_symlink() {
                let old_blob = old
                    .filter(|(m, _)| m.is_blob_or_symlink())
                    .map(|(_, id)| id);
                out.push((path.clone(), n.id, old_blob));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Takes from `candidates` (paths of `merge`'s tree) what `parent`
    /// shares with the merge: a path where the parent has the same blob,
    /// or everything under a directory where it has the same subtree. A
    /// path where the parent has other content keeps the parent's blob as
    /// an old version.
    ///
    /// Walks the parent's side only, and only into directories that still
    /// hold a candidate: each entry of a parent tree is looked up among the
    /// candidates, so a merge of many small branches costs the size of each
    /// branch's tree (not the merge's tree once per parent), and a topic
    /// merged into a large tree reads the parent's trees along the topic's
    /// paths, not every directory the two sides disagree on.
    pub(crate) fn narrow(
        &mut self,
        parent: ObjectId,
        merge: ObjectId,
        candidates: &mut Candidates,
    ) -> Result<(), String> {
        #[cfg(test)]
        {
            self.narrows += 1;
        }
        let mut first_error = None;
        let mut path: Vec<u8> = Vec::new();
        // (parent's tree, merge's tree, next entry of the parent's, prefix)
        let mut stack: Vec<(Arc<Tree>, Arc<Tree>, usize, usize)> = Vec::new();
        let mut visit = Some((parent, merge));
        loop {
            if let Some((p, m)) = visit.take() {
                if stack.len() >= MAX_TREE_DEPTH {
                    self.too_deep += 1;
                } else {
                    match (self.tree(p), self.tree(m)) {
                        (Ok(p), Ok(m)) => stack.push((p, m, 0, path.len())),
                        (Err(e), _) | (_, Err(e)) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
            }
            if candidates.is_empty() {
                break;
            }
            let Some((p, m, next, prefix)) = stack.last_mut() else {
                break;
            };
            let Some(e) = p.entries.get(*next) else {
                stack.pop();
                continue;
            };
            *next += 1;
            path.truncate(*prefix);
            path.extend_from_slice(p.name(e));
            if !e.mode.is_tree() {
                if let Some((new, olds)) = candidates.get_mut(path.as_slice()) {
                    if *new == e.id {
                        candidates.remove(path.as_slice());
                    } else if e.mode.is_blob_or_symlink() {
                        olds.insert(e.id);
                    }
                }
                continue;
            }
            path.push(b'/');
            if under(candidates, &path).next().is_none() {
                continue;
            }
            let name = p.name(e);
            let found = m
                .entries
                .binary_search_by(|x| git_order(m.name(x), x.mode.is_tree(), name, true));
            let Ok(at) = found else {
                continue;
            };
            let other = m.entries[at].id;
            if other == e.id {
                let shared: Vec<Vec<u8>> = under(candidates, &path).cloned().collect();
                for k in shared {
                    candidates.remove(&k);
                }
            } else {
                visit = Some((e.id, other));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The frame comparing `new` with `old`, or `None` when `new` cannot be
    /// read (the error is kept).
    fn frame(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        prefix: usize,
        first_error: &mut Option<String>,
    ) -> Option<Frame> {
        let new = match self.tree(new) {
            Ok(t) => t,
            Err(e) => {
                first_error.get_or_insert(e);
                return None;
            }
        };
        let old = match old.map(|o| self.tree(o)).transpose() {
            Ok(t) => t,
            Err(e) => {
                first_error.get_or_insert(e);
                None
            }
        };
        Some(Frame {
            new,
            old,
            i: 0,
            j: 0,
            prefix,
        })
    }

    fn tree(&mut self, id: ObjectId) -> Result<Arc<Tree>, String> {
        if let Some(t) = self.cache.get(&id) {
            return Ok(t);
        }
        let hash = id.kind();
        let data = self
            .objects
            .read(&id, gix::objs::Kind::Tree)
            .map_err(|why| format!("tree {id}: {why}"))?;
        // Names take about half a tree's bytes, entries one per ~30 bytes:
        // sized once instead of grown.
        let mut tree = Tree {
            names: Vec::with_capacity(data.len() / 2),
            entries: Vec::with_capacity(data.len() / 28 + 1),
        };
        let iter = gix::objs::TreeRefIter::from_bytes(data, hash);
        for entry in iter {
            let entry = entry.map_err(|e| format!("tree {id}: {}", reason(&e)))?;
            let start = tree.names.len() as u32;
            tree.names.extend_from_slice(entry.filename);
            tree.entries.push(Entry {
                mode: entry.mode,
                name: (start, tree.names.len() as u32),
                id: entry.oid.to_owned(),
            });
        }
        let tree = Arc::new(tree);
        self.cache.put(id, tree.clone());
        Ok(tree)
    }
}

/// The candidate paths under `dir` (a path ending in `/`).
fn under<'c>(candidates: &'c Candidates, dir: &'c [u8]) -> impl Iterator<Item = &'c Vec<u8>> {
    candidates
        .range::<[u8], _>((Bound::Included(dir), Bound::Unbounded))
        .map(|(k, _)| k)
        .take_while(move |k| k.starts_with(dir))
}

/// Git's tree entry order: names compared bytewise, a tree's name as if it
/// ended in `/` (so `a.txt` < `a/` < `a0`).
fn git_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> Ordering {
    let len = a.len().min(b.len());
    match a[..len].cmp(&b[..len]) {
        Ordering::Equal => {}
        other => return other,
    }
    let end = |tree: bool| if tree { b'/' } else { 0 };
    let ca = a.get(len).copied().unwrap_or(end(a_tree));
    let cb = b.get(len).copied().unwrap_or(end(b_tree));
    ca.cmp(&cb)
}

#[cfg(test)]
mod tests {
    use super::git_order;
    use std::cmp::Ordering::*;

    #[test]
    fn trees_sort_as_if_they_ended_in_a_slash() {
        assert_eq!(git_order(b"a.txt", false, b"a", true), Less);
        assert_eq!(git_order(b"a", true, b"a0", false), Less);
        assert_eq!(git_order(b"a", true, b"a", true), Equal);
        assert_eq!(git_order(b"a", false, b"a", true), Less);
        assert_eq!(git_order(b"b", false, b"a", false), Greater);
    }
}
