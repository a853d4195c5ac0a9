//! Which trees can contain a target blob, from one pass over every tree.
//!
//! Provenance reads trees one at a time through the object store, and on a
//! history whose leak is recent (the common case in CI) it must read every
//! unique tree of the history before it reaches the commit that introduced
//! the blob: about 5 s on git/git's 170k trees. When that starts to happen,
//! this pass decodes all objects again in pack order (in parallel, as the
//! object scan does), keeps only tree-to-subtree edges and the trees that
//! hold a target directly, and marks every tree from which a target can be
//! reached. Provenance then skips unmarked trees without reading them.
//!
//! Ids are kept as their first 4 bytes, so an edge costs 8 bytes (git/git
//! has millions of tree-to-subtree edges). Two trees sharing a prefix only
//! make the set larger, never smaller: a marked tree is read and checked for
//! real, so the result is exact either way.

use super::odb::{object_dirs, pack_indexes};
use super::{reason, Repo};
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
        targets: &HashSet<u32>,
    ) -> Result<(), String> {
        let parent = key(id);
        for entry in gix::objs::TreeRefIter::from_bytes(data, hash) {
            let entry = entry.map_err(|e| format!("tree {id}: {}", reason(&e)))?;
            if entry.mode.is_tree() {
                self.edges.push((key(entry.oid), parent));
            } else if entry.mode.is_blob_or_symlink() && targets.contains(&key(entry.oid)) {
                self.direct.push(parent);
            }
        }
        Ok(())
    }
}

/// Builds the filter for `targets`. Any problem (a damaged pack, an
/// unreadable tree) gives an error, and provenance simply reads every tree.
pub(crate) fn build(
    r: &Repo,
    targets: &[ObjectId],
    threads: usize,
    diag: &Diagnostics,
) -> Result<TreeFilter, String> {
    let hash = r.repo.object_hash();
    let target_keys: HashSet<u32> = targets.iter().map(|t| key(t)).collect();
    let all = Mutex::new(Found::default());
    let dirs = object_dirs(r, diag);
    for dir in &dirs {
        for idx in pack_indexes(r, dir).map_err(|e| e.to_string())? {
            let bundle = pack::Bundle::at(&idx, hash).map_err(|e| reason(&e))?;
            let mut local = Local::new(&all);
            let target_keys = &target_keys;
            bundle
                .index
                .traverse(
                    &bundle.pack,
                    &mut gix::progress::Discard,
                    &AtomicBool::new(false),
                    move |kind, data: &[u8], entry: &pack::index::Entry, _: &dyn gix::progress::Progress| {
                        if kind == gix::objs::Kind::Tree {
                            local
                                .tree(&entry.oid, data, hash, target_keys)
                                .map_err(|e| gix::error::corruption(e).corrupted_error())?;
                        }
                        Ok(())
                    },
                    pack::index::traverse::Options {
                        traversal: pack::index::traverse::Algorithm::DeltaTreeLookup,
                        thread_limit: Some(threads.max(1)),
                        check: pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                        alloc_limit_bytes: None,
                        make_pack_lookup_cache: || pack::cache::Never,
                    },
                )
                .map_err(|e| reason(&e))?;
        }
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
