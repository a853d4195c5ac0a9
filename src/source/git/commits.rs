//! Commits and the graph they form: the one commit-header parser, author
//! and date as reports name them, and history in the order a person calls
//! "first" (parents before children, older committer date first among the
//! commits that are ready).

use super::packs::ObjectReader;
use super::repo::{reason, Repo};
use crate::diag::Diagnostics;
use crate::finding::Commit;
use crate::stats::AtomicStats;
use gix::objs::FindExt;
use gix::ObjectId;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

/// The parts of a commit that order history and lead to its files.
#[derive(Debug, Clone, PartialEq)]
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

    /// Reads commit `id` through `objects` (packs first): what a range
    /// walk does for each of the thousands of commits it settles.
    pub(crate) fn read_from(
        objects: &mut super::packs::ObjectReader<'_>,
        id: &gix::oid,
    ) -> Result<Self, String> {
        let data = objects
            .read(id, gix::objs::Kind::Commit)
            .map_err(|why| format!("commit {id} cannot be read: {why}"))?;
        Self::parse(data, id.kind())
            .ok_or_else(|| format!("commit {id} is corrupt: it names no tree"))
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
pub(crate) fn commit_tree(objects: &mut ObjectReader<'_>, id: ObjectId) -> Option<ObjectId> {
    CommitHeader::read_from(objects, &id).ok().map(|h| h.tree)
}

/// Commit `id` as reports name it: id, `Name <email>`, RFC 3339 author date.
pub(crate) fn commit_info(objects: &mut ObjectReader<'_>, id: ObjectId) -> Commit {
    let commit = objects
        .read(&id, gix::objs::Kind::Commit)
        .ok()
        .and_then(|data| gix::objs::CommitRef::from_bytes(data, id.kind()).ok());
    let (author, date) = match commit {
        Some(c) => match c.author() {
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
        None => (None, None),
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

/// What [`range_walk`] found: the commits of the range with their headers
/// (in no particular order), and the commits of the range that could not
/// be read (history behind them is not walked).
#[derive(Debug, Default)]
pub(crate) struct RangeWalk {
    pub(crate) commits: Vec<(ObjectId, CommitHeader)>,
    pub(crate) unreadable: Vec<(ObjectId, String)>,
    /// Commits read, on both sides (for tests: the walk must not cover
    /// the history behind the range).
    pub(crate) reads: usize,
}

/// Told by [`range_walk`] of each commit it takes into the range: its id,
/// its header and its parents' trees.
pub(crate) type OnFound<'a> = dyn FnMut(ObjectId, &CommitHeader, Vec<Option<ObjectId>>) + 'a;

/// Commits read after the walk could stop, in case a commit dated out of
/// order (clock skew) still leads from the hidden side into the range:
/// git's `rev-list` uses the same margin.
const SLOP: usize = 5;

/// A commit seen by [`range_walk`].
struct Seen {
    header: CommitHeader,
    hidden: bool,
    queued: bool,
}

/// The commits reachable from `tips` but not from `hidden` (git's
/// `rev-list TIPS --not HIDDEN`), reading only what decides it: newest
/// commit first, both sides at once, stopping once every commit still
/// queued is hidden and older than the last commit of the range (plus
/// [`SLOP`] more). Its cost follows the range and how far its base lies
/// behind the hidden tips, not the length of the history or the number
/// of refs. Parents of `shallow` commits were never fetched and are not
/// followed. Like git without a commit-graph, a commit dated long before
/// its parents (clock skew) can make the range a little larger, never
/// smaller: hidden commits are only left out when the walk proves them
/// hidden.
///
/// `found` hears of each commit as the walk takes it into the range, with
/// the trees of its parents (`None` for a parent that cannot be read; no
/// parents for a root or a shallow boundary), so its diff can start while
/// the walk goes on. A commit found this way can still turn out hidden (a
/// skewed clock): [`RangeWalk::commits`] is the final word.
pub(crate) fn range_walk(
    read: &mut dyn FnMut(&ObjectId) -> Result<CommitHeader, String>,
    tips: &[ObjectId],
    hidden: &[ObjectId],
    shallow: &HashSet<ObjectId>,
    found: &mut OnFound<'_>,
) -> RangeWalk {
    let mut out = RangeWalk::default();
    let mut seen: gix::hashtable::HashMap<ObjectId, Seen> = Default::default();
    // Newest first; the sequence number keeps equal dates in a fixed order.
    let mut queue: BinaryHeap<(i64, Reverse<u64>, ObjectId)> = BinaryHeap::new();
    let mut seq = 0u64;
    // Queued commits not (yet) known to be hidden.
    let mut visible_queued = 0usize;

    let starts = hidden
        .iter()
        .map(|id| (id, true))
        .chain(tips.iter().map(|id| (id, false)));
    for (id, is_hidden) in starts {
        if let Some(s) = seen.get_mut(id) {
            // Named on both sides: hidden wins.
            if is_hidden && !s.hidden {
                s.hidden = true;
                visible_queued -= 1;
            }
            continue;
        }
        out.reads += 1;
        match read(id) {
            Ok(header) => {
                seq += 1;
                queue.push((header.time, Reverse(seq), *id));
                visible_queued += usize::from(!is_hidden);
                seen.insert(
                    *id,
                    Seen {
                        header,
                        hidden: is_hidden,
                        queued: true,
                    },
                );
            }
            Err(why) if !is_hidden => out.unreadable.push((*id, why)),
            // Hiding less only makes the range larger.
            Err(_) => {}
        }
    }

    let mut in_range: Vec<ObjectId> = Vec::new();
    let mut last_date = i64::MAX;
    let mut slop = SLOP;
    while let Some((_, _, id)) = queue.pop() {
        let Some(node) = seen.get_mut(&id) else {
            continue;
        };
        node.queued = false;
        let is_hidden = node.hidden;
        let time = node.header.time;
        if !is_hidden {
            visible_queued -= 1;
        }
        if shallow.contains(&id) {
            node.header.parents.clear();
        }
        let parents = node.header.parents.clone();
        for p in parents {
            match seen.get(&p) {
                Some(s) => {
                    if is_hidden && !s.hidden {
                        hide(&mut seen, p, &mut visible_queued);
                    }
                }
                None => {
                    out.reads += 1;
                    match read(&p) {
                        Ok(header) => {
                            seq += 1;
                            queue.push((header.time, Reverse(seq), p));
                            visible_queued += usize::from(!is_hidden);
                            seen.insert(
                                p,
                                Seen {
                                    header,
                                    hidden: is_hidden,
                                    queued: true,
                                },
                            );
                        }
                        Err(why) if !is_hidden => out.unreadable.push((p, why)),
                        Err(_) => {}
                    }
                }
            }
        }
        if is_hidden {
            match queue.peek() {
                None => break,
                Some((newest, _, _)) if *newest >= last_date || visible_queued > 0 => {
                    slop = SLOP;
                }
                Some(_) => {
                    slop -= 1;
                    if slop == 0 {
                        break;
                    }
                }
            }
            continue;
        }
        last_date = time;
        in_range.push(id);
        if let Some(node) = seen.get(&id) {
            let parent_trees = node
                .header
                .parents
                .iter()
                .map(|p| seen.get(p).map(|s| s.header.tree))
                .collect();
            found(id, &node.header, parent_trees);
        }
    }
    let mut once = HashSet::new();
    out.unreadable.retain(|(id, _)| once.insert(*id));
    for id in in_range {
        if let Some(s) = seen.remove(&id) {
            if !s.hidden {
                out.commits.push((id, s.header));
            }
        }
    }
    out
}

/// Clock skew forgiven when [`tips_reaching`] rules a commit out by its
/// date: a day, as git's `name-rev` does.
const CUTOFF_DATE_SLOP: i64 = 86_400;

/// For each of `tips`, whether it is or descends from one of `wanted`.
/// Depth first, each commit read once, and only commits dated no earlier
/// than a day before the oldest wanted one: on a repository of a thousand
/// tags, a range at its tip reads the tags' commits and stops there. A
/// commit dated more than a day before its own ancestor (a skewed clock)
/// can hide the ancestor, as in git's `name-rev`; an unreadable commit
/// leads nowhere.
pub(crate) fn tips_reaching(
    read: &mut dyn FnMut(&ObjectId) -> Result<CommitHeader, String>,
    tips: &[ObjectId],
    wanted: &[ObjectId],
) -> Vec<bool> {
    let Some(oldest) = wanted
        .iter()
        .filter_map(|w| read(w).ok())
        .map(|h| h.time)
        .min()
    else {
        return vec![false; tips.len()];
    };
    let cutoff = oldest.saturating_sub(CUTOFF_DATE_SLOP);
    let wanted: HashSet<ObjectId> = wanted.iter().copied().collect();
    // true: reaches a wanted commit; false: does not, or is being walked
    // (a commit met again while on the stack would be a cycle).
    let mut known: gix::hashtable::HashMap<ObjectId, bool> = Default::default();
    let mut open = |id: ObjectId, known: &mut gix::hashtable::HashMap<ObjectId, bool>| {
        if wanted.contains(&id) {
            known.insert(id, true);
            return None;
        }
        known.insert(id, false);
        match read(&id) {
            Ok(h) if h.time >= cutoff => Some((id, h.parents, 0usize)),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(tips.len());
    for &tip in tips {
        if let Some(&k) = known.get(&tip) {
            out.push(k);
            continue;
        }
        let mut stack: Vec<(ObjectId, Vec<ObjectId>, usize)> =
            open(tip, &mut known).into_iter().collect();
        let mut found = known.get(&tip) == Some(&true);
        while let Some((_, parents, next)) = stack.last_mut() {
            let Some(&p) = parents.get(*next) else {
                stack.pop();
                continue;
            };
            *next += 1;
            let reached = match known.get(&p) {
                Some(&k) => k,
                None => match open(p, &mut known) {
                    Some(frame) => {
                        stack.push(frame);
                        continue;
                    }
                    None => known.get(&p) == Some(&true),
                },
            };
            if reached {
                found = true;
                break;
            }
        }
        if found {
            // Every commit on the path down to it reaches it too.
            for (id, _, _) in stack {
                known.insert(id, true);
            }
            known.insert(tip, true);
        }
        out.push(found);
    }
    out
}

/// Marks `id` and every ancestor already seen as hidden.
fn hide(
    seen: &mut gix::hashtable::HashMap<ObjectId, Seen>,
    id: ObjectId,
    visible_queued: &mut usize,
) {
    let mut stack = vec![id];
    while let Some(id) = stack.pop() {
        let Some(s) = seen.get_mut(&id) else {
            continue;
        };
        if s.hidden {
            continue;
        }
        s.hidden = true;
        if s.queued {
            *visible_queued -= 1;
        }
        stack.extend(s.header.parents.iter().copied());
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
    use std::collections::HashMap;

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

    /// Runs [`range_walk`] over made-up commits `(id, parents, time)`;
    /// returns the range's ids (sorted), the unreadable ones and the reads.
    fn walk(
        commits: &[(u8, &[u8], i64)],
        tips: &[u8],
        hidden: &[u8],
        shallow: &[u8],
    ) -> (Vec<u8>, Vec<u8>, usize) {
        let mut read = |id: &ObjectId| {
            commits
                .iter()
                .find(|(c, _, _)| self::id(*c) == *id)
                .map(|(c, parents, time)| CommitHeader {
                    tree: self::id(*c),
                    parents: parents.iter().map(|p| self::id(*p)).collect(),
                    time: *time,
                })
                .ok_or_else(|| format!("commit {id} is missing"))
        };
        let ids = |xs: &[u8]| xs.iter().map(|x| id(*x)).collect::<Vec<_>>();
        let shallow: HashSet<ObjectId> = ids(shallow).into_iter().collect();
        let w = range_walk(
            &mut read,
            &ids(tips),
            &ids(hidden),
            &shallow,
            &mut |_, _, _| {},
        );
        let back = |o: &ObjectId| o.as_bytes()[0];
        let mut got: Vec<u8> = w.commits.iter().map(|(o, _)| back(o)).collect();
        got.sort();
        let bad = w.unreadable.iter().map(|(o, _)| back(o)).collect();
        (got, bad, w.reads)
    }

    /// A line of `n` commits 1..=n, one a minute, each the parent of the next.
    fn line(n: u8) -> Vec<(u8, Vec<u8>, i64)> {
        (1..=n)
            .map(|i| (i, if i == 1 { vec![] } else { vec![i - 1] }, i as i64 * 60))
            .collect()
    }

    fn borrowed(c: &[(u8, Vec<u8>, i64)]) -> Vec<(u8, &[u8], i64)> {
        c.iter().map(|(i, p, t)| (*i, p.as_slice(), *t)).collect()
    }

    /// [`tips_reaching`] over `g`, and how many commits it read.
    fn reaching(g: &[(u8, &[u8], i64)], tips: &[u8], wanted: &[u8]) -> (Vec<bool>, usize) {
        let headers: HashMap<ObjectId, CommitHeader> = g
            .iter()
            .map(|(n, parents, time)| {
                (
                    id(*n),
                    CommitHeader {
                        tree: id(0),
                        parents: parents.iter().map(|p| id(*p)).collect(),
                        time: *time,
                    },
                )
            })
            .collect();
        let mut reads = 0;
        let mut read = |c: &ObjectId| {
            reads += 1;
            headers.get(c).cloned().ok_or_else(|| "missing".to_string())
        };
        let tips: Vec<ObjectId> = tips.iter().map(|t| id(*t)).collect();
        let wanted: Vec<ObjectId> = wanted.iter().map(|w| id(*w)).collect();
        let out = tips_reaching(&mut read, &tips, &wanted);
        (out, reads)
    }

    #[test]
    fn tips_reaching_finds_descendants_and_reads_only_what_is_newer() {
        const DAY: i64 = 86_400;
        // 1 <- 2 <- 3 <- 4 (main), 3 <- 5 (topic), 2 <- 6 (old tag),
        // 7 unrelated and new; 8 is a merge of 6 and 5; 9 is missing.
        let g: Vec<(u8, &[u8], i64)> = vec![
            (1, &[], DAY),
            (2, &[1], 2 * DAY),
            (3, &[2], 10 * DAY),
            (4, &[3], 11 * DAY),
            (5, &[3], 12 * DAY),
            (6, &[2], 3 * DAY),
            (7, &[], 20 * DAY),
            (8, &[6, 5], 13 * DAY),
            (10, &[9], 14 * DAY),
        ];
        let (out, _) = reaching(&g, &[4, 5, 6, 7, 8, 3, 10], &[3]);
        assert_eq!(out, vec![true, true, false, false, true, true, false]);
        // The old tag's commit is read and nothing behind it: it is dated
        // more than a day before the wanted commit.
        let (out, reads) = reaching(&g, &[6], &[3]);
        assert_eq!((out, reads), (vec![false], 2));
        // Wanted commits on two lines: either will do.
        let (out, _) = reaching(&g, &[6, 4, 1], &[6, 4]);
        assert_eq!(out, vec![true, true, false]);
        // Nothing wanted can be read: nothing reaches it.
        let (out, _) = reaching(&g, &[4], &[9]);
        assert_eq!(out, vec![false]);
    }

    #[test]
    fn tips_reaching_forgives_a_day_of_clock_skew_and_no_more() {
        const DAY: i64 = 86_400;
        // 2 is dated before its parent 1 (the wanted commit): by hours,
        // then by days.
        let hours: Vec<(u8, &[u8], i64)> = vec![
            (1, &[], 10 * DAY),
            (2, &[1], 10 * DAY - 3600),
            (3, &[2], 11 * DAY),
        ];
        assert_eq!(reaching(&hours, &[3], &[1]).0, vec![true]);
        let days: Vec<(u8, &[u8], i64)> =
            vec![(1, &[], 10 * DAY), (2, &[1], 7 * DAY), (3, &[2], 11 * DAY)];
        assert_eq!(reaching(&days, &[3], &[1]).0, vec![false]);
    }

    #[test]
    fn tips_reaching_a_long_line_uses_no_deep_recursion() {
        let n: u32 = 100_000;
        let ids: Vec<ObjectId> = (0..n)
            .map(|i| {
                // Spread like real ids: gix's maps hash the leading bytes.
                let mut b = [0u8; 20];
                b[..8].copy_from_slice(
                    &(u64::from(i) + 1)
                        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                        .to_le_bytes(),
                );
                ObjectId::from_bytes_or_panic(&b)
            })
            .collect();
        let last = ids[ids.len() - 1];
        let first = ids[0];
        let index: HashMap<ObjectId, usize> =
            ids.iter().enumerate().map(|(i, x)| (*x, i)).collect();
        let mut read = |c: &ObjectId| {
            let i = *index.get(c).ok_or("missing")?;
            Ok(CommitHeader {
                tree: first,
                parents: if i == 0 { vec![] } else { vec![ids[i - 1]] },
                time: i as i64,
            })
        };
        assert_eq!(tips_reaching(&mut read, &[last], &[first]), vec![true]);
    }

    #[test]
    fn a_range_at_the_end_of_a_long_history_reads_only_its_end() {
        let history = line(200);
        let c = borrowed(&history);
        let (got, bad, reads) = walk(&c, &[200], &[199], &[]);
        assert_eq!((got, bad), (vec![200], vec![]));
        // The tips, the parent both share, and at most SLOP more.
        assert!(reads <= 3 + SLOP, "{reads} reads");
        // A base far behind: the range, and the few commits after it.
        let (got, _, reads) = walk(&c, &[200], &[150], &[]);
        assert_eq!(got, (151..=200).collect::<Vec<u8>>());
        assert!(reads <= 52 + SLOP, "{reads} reads");
    }

    #[test]
    fn hidden_tips_ahead_of_the_range_or_unrelated_to_it_cost_little() {
        // 1..=100 is main; 101..=110 a newer branch on top of it that the
        // remote has; 200..=230 an unrelated history (like git's `todo`),
        // all newer than the range.
        let mut c = line(100);
        c.extend((101..=110).map(|i| (i, vec![i - 1], 10_000 + i as i64)));
        c.push((200, vec![], 20_000));
        c.extend((201..=230).map(|i| (i, vec![i - 1], 20_000 + i as i64)));
        let c = borrowed(&c);
        // Pushing commit 100, which the remote's branch already holds.
        let (got, _, reads) = walk(&c, &[100], &[110, 230], &[]);
        assert!(got.is_empty(), "{got:?}");
        assert!(
            reads <= 50,
            "{reads} reads: the unrelated history is not walked"
        );
        // A new commit on main (101 in the branch is newer, the range is
        // only 100): the branch is walked down to the range, not beyond.
        let (got, _, _) = walk(&c, &[100], &[99, 230], &[]);
        assert_eq!(got, vec![100]);
    }

    #[test]
    fn merges_skew_shallow_cuts_and_missing_commits() {
        // 1 - 2 - 4 (merge of 2 and 3), 3 branches off 1; the remote has 3.
        let c: Vec<(u8, &[u8], i64)> = vec![
            (1, &[], 60),
            (2, &[1], 120),
            (3, &[1], 180),
            (4, &[2, 3], 240),
        ];
        assert_eq!(walk(&c, &[4], &[3], &[]).0, vec![2, 4]);
        assert_eq!(walk(&c, &[4], &[], &[]).0, vec![1, 2, 3, 4]);
        assert_eq!(walk(&c, &[4], &[4], &[]).0, Vec::<u8>::new());
        // Clock skew: 3 says it is older than everything; the hidden tip 5
        // reaches 2 only through it. The walk still proves 2 hidden.
        let c: Vec<(u8, &[u8], i64)> = vec![
            (1, &[], 60),
            (2, &[1], 120),
            (3, &[2], 10),
            (5, &[3], 300),
            (6, &[2], 400),
        ];
        assert_eq!(walk(&c, &[6], &[5], &[]).0, vec![6]);
        // A shallow cut: nothing behind commit 2 is asked for.
        let c: Vec<(u8, &[u8], i64)> = vec![(2, &[1], 120), (3, &[2], 180)];
        assert_eq!(walk(&c, &[3], &[], &[2]), (vec![2, 3], vec![], 2));
        // A parent missing without a shallow cut is named, once.
        let c: Vec<(u8, &[u8], i64)> = vec![(3, &[1], 180), (4, &[1, 3], 240)];
        let (got, bad, _) = walk(&c, &[4], &[], &[]);
        assert_eq!((got, bad), (vec![3, 4], vec![1]));
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
