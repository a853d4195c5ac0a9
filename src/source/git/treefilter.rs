//! Which trees can contain a target blob, from one pass over every tree.
//!
//! Provenance reads trees one at a time through the object store, and on a
//! history whose leak is recent (the common case in CI) it must read every
//! unique tree of the history before it reaches the commit that introduced
//! the blob: about 5 s on git/git's 170k trees. When that starts to happen,
//! this pass decodes every tree again in pack order (in parallel, as the
//! object scan does), keeps only tree-to-subtree edges and the trees that
//! hold a target directly, and marks every tree from which a target can be
//! reached. Provenance then skips unmarked trees without reading them.
//!
//! The object scan noted where each pack keeps its trees, and a delta chain
//! never changes object type, so this pass builds gix's delta tree from the
//! tree entries alone: blobs and commits (two thirds of git/git's inflated
//! bytes) are not decoded a second time. Keeping every tree's entries from
//! the object scan instead, to skip this pass, does not fit: git/git's trees
//! hold about 86 million entries (2.6 GB inflated), and even 4 bytes each
//! would be far over the scan's memory budget.
//!
//! Ids are kept as their first 4 bytes, so an edge costs 8 bytes (git/git
//! has millions of tree-to-subtree edges). Two trees sharing a prefix only
//! make the set larger, never smaller: a marked tree is read and checked for
//! real, so the result is exact either way.

use super::odb::{object_dirs, PackedTrees};
use super::repo::{reason, Repo};
use crate::diag::Diagnostics;
use gix::odb::pack;
use gix::ObjectId;
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

/// A superset of the trees that contain a target, at any depth.
pub(crate) struct TreeFilter {
    marked: HashSet<u32>,
}

impl TreeFilter {
    pub(crate) fn may_contain(&self, tree: &gix::oid) -> bool {
        self.marked.contains(&key(tree))
    }
}

fn key(id: &gix::oid) -> u32 {
    let mut k = [0u8; 4];
    k.copy_from_slice(&id.as_bytes()[..4]);
    u32::from_be_bytes(k)
}

/// The targets' keys, tested once per blob entry of every tree (about 80
/// million on git/git). A table of their top 16 bits answers almost every
/// test with one load; only the few entries that pass it are looked up in
/// the sorted keys. (A binary search alone was a tenth of the whole scan's
/// CPU time: its branches cannot be predicted.)
struct TargetKeys {
    /// Bit `k >> 16` is set for every target key `k`: 8 KiB, cache-resident.
    top: Vec<u64>,
    sorted: Vec<u32>,
}

impl TargetKeys {
    fn new(targets: &[ObjectId]) -> Self {
        let mut sorted: Vec<u32> = targets.iter().map(|t| key(t)).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut top = vec![0u64; (1 << 16) / 64];
        for k in &sorted {
            let t = (k >> 16) as usize;
            top[t / 64] |= 1 << (t % 64);
        }
        TargetKeys { top, sorted }
    }

    fn contains(&self, k: u32) -> bool {
        let t = (k >> 16) as usize;
        self.top[t / 64] & (1 << (t % 64)) != 0 && self.sorted.binary_search(&k).is_ok()
    }
}

/// What the tree pass collects: `(child, parent)` edges and the trees that
/// hold a target blob themselves. Each worker's edges stay a chunk of their
/// own (sorted at the end), so they are never copied into one big vector.
#[derive(Default)]
struct Found {
    edges: Vec<Vec<(u32, u32)>>,
    direct: Vec<u32>,
}

/// One worker's share, handed over when gix drops the worker's copy of the
/// callback, so workers never contend on a lock per tree.
struct Local<'a> {
    edges: Vec<(u32, u32)>,
    direct: Vec<u32>,
    into: &'a Mutex<Found>,
}

impl Clone for Local<'_> {
    /// A new worker starts empty; what this one found stays with it.
    fn clone(&self) -> Self {
        Local::new(self.into)
    }
}

impl Drop for Local<'_> {
    fn drop(&mut self) {
        let mut all = self.into.lock().unwrap_or_else(|p| p.into_inner());
        if !self.edges.is_empty() {
            all.edges.push(std::mem::take(&mut self.edges));
        }
        all.direct.append(&mut self.direct);
    }
}

impl<'a> Local<'a> {
    fn new(into: &'a Mutex<Found>) -> Self {
        Local {
            edges: Vec::new(),
            direct: Vec::new(),
            into,
        }
    }

    fn tree(
        &mut self,
        id: &gix::oid,
        data: &[u8],
        hash: gix::hash::Kind,
        targets: &TargetKeys,
    ) -> Result<(), String> {
        let parent = key(id);
        for entry in gix::objs::TreeRefIter::from_bytes(data, hash) {
            let entry = entry.map_err(|e| format!("tree {id}: {}", reason(&e)))?;
            if entry.mode.is_tree() {
                self.edges.push((key(entry.oid), parent));
            } else if entry.mode.is_blob_or_symlink() && targets.contains(key(entry.oid)) {
                self.direct.push(parent);
            }
        }
        Ok(())
    }
}

/// Builds the filter for `targets`, from the packs' trees as the object scan
/// noted them and the loose trees. Any problem (a pack the scan could not
/// traverse, an unreadable tree) gives an error, and provenance simply reads
/// every tree.
pub(crate) fn build(
    r: &Repo,
    packed: &[PackedTrees],
    targets: &[ObjectId],
    threads: usize,
    diag: &Diagnostics,
) -> Result<TreeFilter, String> {
    let hash = r.repo.object_hash();
    let target_keys = TargetKeys::new(targets);
    let all = Mutex::new(Found::default());
    for pack in packed {
        let trees = pack.trees.as_deref().ok_or_else(|| {
            format!(
                "pack {} was not traversed in one pass",
                pack.index.display()
            )
        })?;
        pack_trees(&pack.index, trees, hash, &target_keys, threads, &all)?;
    }
    for dir in &object_dirs(r, diag) {
        let store = gix::odb::loose::Store::at(dir, hash);
        let mut local = Local::new(&all);
        let mut buf = Vec::new();
        for id in store.iter() {
            let id = id.map_err(|e| reason(&e))?;
            if let Some(obj) = store.try_find(&id, &mut buf).map_err(|e| reason(&e))? {
                if obj.kind == gix::objs::Kind::Tree {
                    local.tree(&id, obj.data, hash, &target_keys)?;
                }
            }
        }
    }
    let Found { mut edges, direct } = all.into_inner().unwrap_or_else(|p| p.into_inner());
    for chunk in &mut edges {
        chunk.sort_unstable();
    }

    // Up from the trees holding a target, through every parent.
    let mut marked: HashSet<u32> = HashSet::new();
    let mut stack: Vec<u32> = direct;
    while let Some(k) = stack.pop() {
        if !marked.insert(k) {
            continue;
        }
        for chunk in &edges {
            let start = chunk.partition_point(|&(child, _)| child < k);
            stack.extend(
                chunk[start..]
                    .iter()
                    .take_while(|&&(child, _)| child == k)
                    .map(|&(_, parent)| parent)
                    .filter(|p| !marked.contains(p)),
            );
        }
    }
    Ok(TreeFilter { marked })
}

/// Where a pack's first object starts, after its 12-byte header.
const FIRST_ENTRY: u64 = pack::data::header::SIZE as u64;

/// Decodes the `trees` of one pack. Each entry's slice of the pack then runs
/// to the next tree, over any other objects between them; inflating stops at
/// the end of the entry's own stream, so the extra bytes are never read (git
/// writes a pack's trees next to each other anyway).
fn pack_trees(
    index: &std::path::Path,
    trees: &[ObjectId],
    hash: gix::hash::Kind,
    target_keys: &TargetKeys,
    threads: usize,
    all: &Mutex<Found>,
) -> Result<(), String> {
    if trees.is_empty() {
        return Ok(());
    }
    let bundle = pack::Bundle::at(index, hash).map_err(|e| reason(&e))?;
    let mut entries = Vec::with_capacity(trees.len());
    for id in trees {
        let i = bundle
            .index
            .lookup(id)
            .ok_or_else(|| format!("tree {id} is not in {}", index.display()))?;
        entries.push((bundle.index.pack_offset_at_index(i), *id));
    }
    entries.sort_unstable();
    // gix reads the first entry's header without seeking to it, right after
    // the pack header: lead with the pack's first object, whatever it is, and
    // skip it below if it is no tree.
    if entries
        .first()
        .is_some_and(|(offset, _)| *offset != FIRST_ENTRY)
    {
        let first = bundle
            .index
            .iter()
            .find(|e| e.pack_offset == FIRST_ENTRY)
            .ok_or_else(|| format!("{} has no object at offset {FIRST_ENTRY}", index.display()))?;
        entries.insert(0, (FIRST_ENTRY, first.oid));
    }
    let interrupt = AtomicBool::new(false);
    let delta_tree = pack::cache::delta::Tree::from_offsets_in_pack(
        bundle.pack.path(),
        entries.iter(),
        &|(offset, _)| *offset,
        // A base that is not among `trees` (never so in a sound pack: a
        // delta has its base's type) makes the traversal fail, not skip it.
        &|id| {
            Ok(bundle
                .index
                .lookup(id)
                .map(|i| bundle.index.pack_offset_at_index(i)))
        },
        &mut gix::progress::Discard,
        &interrupt,
        hash,
    )
    .map_err(|e| reason(&e))?;
    let mut local = Local::new(all);
    delta_tree
        .traverse(
            |slice, pack: &pack::data::File| pack.entry_slice(slice),
            &bundle.pack,
            bundle.pack.pack_end() as u64,
            move |(_, id): &mut &(u64, ObjectId), _: &dyn gix::progress::Progress, ctx| {
                // A delta's header names no type; all but the lead are trees.
                if ctx
                    .entry
                    .header
                    .as_kind()
                    .is_some_and(|k| k != gix::objs::Kind::Tree)
                {
                    return Ok(());
                }
                local
                    .tree(id, ctx.decompressed, hash, target_keys)
                    .map_err(|e| gix::error::corruption(e).corrupted_error())
            },
            pack::cache::delta::traverse::Options {
                object_progress: Box::new(gix::progress::Discard),
                size_progress: &mut gix::progress::Discard,
                thread_limit: Some(threads.max(1)),
                should_interrupt: &interrupt,
                object_hash: hash,
                alloc_limit_bytes: None,
            },
        )
        .map_err(|e| reason(&e))?;
    Ok(())
}
