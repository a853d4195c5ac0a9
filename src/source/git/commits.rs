//! Commits and the graph they form: the one commit-header parser, author
//! and date as reports name them, and history in the order a person calls
//! "first" (parents before children, older committer date first among the
//! commits that are ready).

use super::repo::{reason, Repo};
use crate::diag::Diagnostics;
use crate::finding::Commit;
use crate::stats::AtomicStats;
use gix::objs::FindExt;
use gix::ObjectId;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

/// The parts of a commit that order history and lead to its files.
#[derive(Debug, Clone)]
pub(crate) struct CommitHeader {
    pub(crate) tree: ObjectId,
    pub(crate) parents: Vec<ObjectId>,
    /// Committer time in seconds, 0 when it cannot be parsed.
    pub(crate) time: i64,
}

impl CommitHeader {
    /// Parses `data`, a commit object's bytes; `None` when it has no tree.
    pub(crate) fn parse(data: &[u8], hash: gix::hash::Kind) -> Option<Self> {
        Self::from_iter(gix::objs::CommitRefIter::from_bytes(data, hash))
    }

    fn from_iter(commit: gix::objs::CommitRefIter<'_>) -> Option<Self> {
        // The iterator is Copy: parse the tree from a copy, then the rest.
        let mut header = commit;
        let tree = header.tree_id().ok()?;
        Some(CommitHeader {
            tree,
            parents: commit.parent_ids().collect(),
            time: commit.committer().map(|s| s.seconds()).unwrap_or(0),
        })
    }

    /// Reads commit `id` from the object store.
    pub(crate) fn read(
        repo: &gix::Repository,
        id: &gix::oid,
        buf: &mut Vec<u8>,
    ) -> Result<Self, String> {
        let iter = repo
            .objects
            .find_commit_iter(id, buf)
            .map_err(|e| format!("commit {id} cannot be read: {}", reason(&e)))?;
        Self::from_iter(iter).ok_or_else(|| format!("commit {id} is corrupt: it names no tree"))
    }
}

/// The tree of commit `id`, when it can be read.
pub(crate) fn commit_tree(repo: &gix::Repository, id: ObjectId) -> Option<ObjectId> {
    CommitHeader::read(repo, &id, &mut Vec::new())
        .ok()
        .map(|h| h.tree)
}

/// Commit `id` as reports name it: id, `Name <email>`, RFC 3339 author date.
pub(crate) fn commit_info(repo: &gix::Repository, id: ObjectId) -> Commit {
    let mut buf = Vec::new();
    let (author, date) = match repo.objects.find_commit(&id, &mut buf) {
        Ok(c) => match c.author() {
            Ok(sig) => (
                // Capped like a member name: the origin is shared by a
                // blob's findings, but every report line repeats it.
                Some(crate::finding::cap_name(
                    &format!("{} <{}>", sig.name, sig.email),
                    crate::finding::MAX_MEMBER_NAME,
                )),
                sig.time()
                    .ok()
                    .and_then(|t| t.format(gix::date::time::format::ISO8601_STRICT).ok()),
            ),
            Err(_) => (None, None),
        },
        Err(_) => (None, None),
    };
    Commit {
        id: id.to_string(),
        author,
        date,
    }
}

/// A commit in the graph being walked. Parents are indices into the
/// graph's nodes; parents missing from the graph are left out.
pub(crate) struct Node {
    pub(crate) id: ObjectId,
    pub(crate) tree: ObjectId,
    pub(crate) parents: Vec<u32>,
    pub(crate) time: i64,
}

/// The commit graph: nodes, and where each commit id sits.
pub(crate) struct Graph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) index_of: gix::hashtable::HashMap<ObjectId, u32>,
}

impl Graph {
    /// Builds the graph from commits whose headers are known (`None` for a
    /// commit that cannot be read: it is left out, and so are its links).
    pub(crate) fn new(commits: Vec<(ObjectId, CommitHeader)>) -> Graph {
        let index_of: gix::hashtable::HashMap<ObjectId, u32> = commits
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i as u32))
            .collect();
        let nodes = commits
            .into_iter()
            .map(|(id, h)| Node {
                id,
                tree: h.tree,
                parents: h
                    .parents
                    .iter()
                    .filter_map(|p| index_of.get(p).copied())
                    .collect(),
                time: h.time,
            })
            .collect();
        Graph { nodes, index_of }
    }

    /// Marks the nodes reachable from `starts` (through parents).
    pub(crate) fn reachable_from(&self, starts: &[ObjectId]) -> Vec<bool> {
        let mut reachable = vec![false; self.nodes.len()];
        let mut stack: Vec<u32> = starts
            .iter()
            .filter_map(|id| self.index_of.get(id).copied())
            .collect();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut reachable[i as usize], true) {
                stack.extend(self.nodes[i as usize].parents.iter().copied());
            }
        }
        reachable
    }

    /// Node indices with every parent before its children, and among
    /// commits whose parents are done, the oldest committer date first
    /// (Kahn's algorithm with a min-heap).
    pub(crate) fn oldest_first(&self) -> Vec<usize> {
        let nodes = &self.nodes;
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); nodes.len()];
        let mut waiting: Vec<usize> = vec![0; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            // An octopus merge may name the same parent twice.
            let distinct: HashSet<u32> = n.parents.iter().copied().collect();
            for p in distinct {
                children[p as usize].push(i as u32);
                waiting[i] += 1;
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
}

/// Every commit reachable from `starts`, read once each. Headers the object
/// scan already parsed (`known`) are not read again. Missing commits are
/// named and counted, except the parents of a shallow clone's boundary,
/// which are missing by design (and were warned about once already).
pub(crate) fn walk_graph(
    r: &Repo,
    starts: &[ObjectId],
    known: &gix::hashtable::HashMap<ObjectId, CommitHeader>,
    shallow: &[ObjectId],
    diag: &Diagnostics,
    counters: &AtomicStats,
) -> Graph {
    let shallow: HashSet<ObjectId> = shallow.iter().copied().collect();
    let mut seen: gix::hashtable::HashSet<ObjectId> = Default::default();
    let mut commits: Vec<(ObjectId, CommitHeader)> = Vec::new();
    let mut stack: Vec<ObjectId> = starts.to_vec();
    let mut buf = Vec::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let mut header = match known.get(&id) {
            Some(h) => h.clone(),
            None => match CommitHeader::read(&r.repo, &id, &mut buf) {
                Ok(h) => h,
                Err(why) => {
                    AtomicStats::bump(&counters.corrupt_objects, 1);
                    diag.warn(format_args!(
                        "{}: {why}; history behind it is not attributed",
                        r.path.display()
                    ));
                    continue;
                }
            },
        };
        if shallow.contains(&id) {
            header.parents.clear();
        }
        stack.extend(header.parents.iter().copied());
        commits.push((id, header));
    }
    Graph::new(commits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    fn graph(commits: &[(u8, &[u8], i64)]) -> Graph {
        Graph::new(
            commits
                .iter()
                .map(|(c, parents, time)| {
                    (
                        id(*c),
                        CommitHeader {
                            tree: id(*c),
                            parents: parents.iter().map(|p| id(*p)).collect(),
                            time: *time,
                        },
                    )
                })
                .collect(),
        )
    }

    fn order(g: &Graph) -> Vec<ObjectId> {
        g.oldest_first().iter().map(|&i| g.nodes[i].id).collect()
    }

    #[test]
    fn parents_come_before_children_even_when_dated_later() {
        // c2's committer date is older than its parent's (clock skew): the
        // topology still wins.
        let g = graph(&[(2, &[1], 5), (1, &[], 10), (3, &[2, 1], 20)]);
        assert_eq!(order(&g), vec![id(1), id(2), id(3)]);
    }

    #[test]
    fn independent_branches_are_ordered_by_date() {
        let g = graph(&[(1, &[], 10), (2, &[1], 30), (3, &[1], 20)]);
        assert_eq!(order(&g), vec![id(1), id(3), id(2)]);
    }

    #[test]
    fn an_octopus_naming_a_parent_twice_is_ordered_once() {
        let g = graph(&[(1, &[], 10), (2, &[1, 1, 1], 20)]);
        assert_eq!(order(&g), vec![id(1), id(2)]);
        assert_eq!(g.reachable_from(&[id(2)]), vec![true, true]);
    }
}
