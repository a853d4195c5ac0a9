//! Reads every blob in the object database once, in parallel, and scans it.
//!
//! Packs are decoded with gix's pack traversal (`DeltaTreeLookup`): entries
//! in pack order, each delta base decoded once and handed to its deltas, no
//! per-object hash check. This is 4x faster than `git cat-file
//! --batch-all-objects --unordered` and 5x faster than random access through
//! the object store (research/git-read-speed.md). Loose objects are read
//! after the packs. A blob stored twice (in two packs, or packed and loose)
//! is scanned only where it is seen first: a pack entry is skipped when an
//! earlier pack's index has the id, a loose object when any pack (or an
//! earlier object directory) has it. The repeats are found before reading,
//! in one merge of the sorted id lists ([`repeated_ids`]), so a repository
//! of 4,000 packs (never repacked) costs no more per object than one of a
//! single pack.
//!
//! Each worker thread keeps what it found in its own [`Collected`] and hands
//! it over once, when the traversal drops the worker: nothing is locked per
//! object.

use super::commits::CommitHeader;
use super::notes::{PackMemory, PackNote};
use super::packs::Packs;
use super::repo::{pool, reason, Repo};
use super::{BlobMemory, Deadline, GitError};
use crate::blob::{BlobScanner, Scanned};
use crate::diag::Diagnostics;
use crate::finding::Credential;
use crate::stats::AtomicStats;
use gix::odb::pack;
use gix::ObjectId;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Mutex;

/// A blob with at least one credential in it.
#[derive(Debug)]
pub(crate) struct Hit {
    pub(crate) id: ObjectId,
    pub(crate) credentials: Vec<Credential>,
}

/// What reading the object database produced.
#[derive(Debug, Default)]
pub(crate) struct OdbScan {
    pub(crate) hits: Vec<Hit>,
    /// Blobs over the size limit, with their size: named later, with a path.
    pub(crate) too_large: Vec<(ObjectId, u64)>,
    /// Every commit object, reachable or not, each once, with its header
    /// parsed on the scan's threads (`None` if it does not parse: provenance
    /// reads it again to report why). Provenance looks for blobs no ref
    /// reaches in the commits no ref reaches (reflogs, `reset --hard`,
    /// force-pushed history).
    pub(crate) commits: Vec<(ObjectId, Option<CommitHeader>)>,
    /// Objects that could not be read (already warned about and counted).
    pub(crate) corrupt: Vec<ObjectId>,
    /// With a [`BlobMemory`]: every blob scanned in this run (not recalled),
    /// with its credentials (often none), for the caller to remember.
    pub(crate) fresh: Vec<(ObjectId, Vec<Credential>)>,
    /// Where each pack keeps its trees, for the tree filter of provenance.
    pub(crate) packed_trees: Vec<PackedTrees>,
    /// The deadline passed: some objects were not read, and `commits` and
    /// `packed_trees` are incomplete.
    pub(crate) stopped: bool,
    /// With a [`PackMemory`]: a note for each pack decoded in full, by
    /// pack checksum, for the caller to keep.
    pub(crate) noted: Vec<(ObjectId, PackNote)>,
}

/// The tree entries of one pack, noted while it is traversed, so the tree
/// filter can decode only the trees' delta chains (a third of git/git's
/// inflated bytes) instead of traversing the whole pack a second time.
#[derive(Debug)]
pub(crate) struct PackedTrees {
    /// The pack's index file.
    pub(crate) index: PathBuf,
    /// Its trees, or `None` when the pack could not be traversed in one pass
    /// (its trees are unknown).
    pub(crate) trees: Option<Vec<ObjectId>>,
}

/// What some workers found: one thread's, or a whole pack's once merged.
#[derive(Default)]
struct Collected {
    hits: Vec<Hit>,
    too_large: Vec<(ObjectId, u64)>,
    commits: Vec<(ObjectId, Option<CommitHeader>)>,
    corrupt: Vec<ObjectId>,
    fresh: Vec<(ObjectId, Vec<Credential>)>,
    trees: Vec<ObjectId>,
}

impl Collected {
    fn append(&mut self, other: &mut Collected) {
        self.hits.append(&mut other.hits);
        self.too_large.append(&mut other.too_large);
        self.commits.append(&mut other.commits);
        self.corrupt.append(&mut other.corrupt);
        self.fresh.append(&mut other.fresh);
        self.trees.append(&mut other.trees);
    }

    fn drain_into(mut self, out: &mut OdbScan) {
        out.hits.append(&mut self.hits);
        out.too_large.append(&mut self.too_large);
        out.commits.append(&mut self.commits);
        out.corrupt.append(&mut self.corrupt);
        out.fresh.append(&mut self.fresh);
    }
}

/// One worker's view: the scanner, the blob memory, and its own findings,
/// handed to `shared` when the worker is dropped. Cloning gives a new
/// worker with nothing collected yet.
struct Worker<'s, 'm> {
    scanner: &'s BlobScanner<'s>,
    memory: Option<&'m dyn BlobMemory>,
    deadline: Option<&'s Deadline>,
    repo: &'s Path,
    shared: &'s Mutex<Collected>,
    mine: Collected,
}

impl Clone for Worker<'_, '_> {
    fn clone(&self) -> Self {
        Worker {
            mine: Collected::default(),
            ..*self
        }
    }
}

impl Drop for Worker<'_, '_> {
    fn drop(&mut self) {
        // A poisoned lock means another worker panicked mid-append; the data
        // behind it is still a valid collection, so keep going.
        self.shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(&mut self.mine);
    }
}

impl Worker<'_, '_> {
    /// Whether the deadline has passed: no more objects are taken.
    fn must_stop(&self) -> bool {
        self.deadline.is_some_and(Deadline::passed)
    }

    /// Takes one decoded object: scans blobs, notes commits.
    fn object(&mut self, kind: gix::objs::Kind, id: &gix::oid, data: &[u8]) {
        match kind {
            gix::objs::Kind::Blob => self.blob(id, data),
            gix::objs::Kind::Commit => {
                AtomicStats::bump(&self.scanner.counters.commits, 1);
                self.mine
                    .commits
                    .push((id.to_owned(), CommitHeader::parse(data, id.kind())));
            }
            gix::objs::Kind::Tree | gix::objs::Kind::Tag => {}
        }
    }

    /// A blob: recalled when the memory knows it, else scanned (and noted
    /// as fresh for the memory). A blob over the size limit is not noted,
    /// so it is named (and counted) again on every run rather than silently
    /// forgotten.
    fn blob(&mut self, id: &gix::oid, data: &[u8]) {
        if let Some(memory) = self.memory {
            if let Some(credentials) = memory.recall(id) {
                AtomicStats::bump(&self.scanner.counters.blobs_already_scanned, 1);
                self.record(id.to_owned(), Scanned::Found(credentials));
                return;
            }
        }
        let name = BlobName {
            repo: self.repo,
            id,
        };
        let outcome = self.scanner.scan_blob(&name, data);
        if self.memory.is_some() {
            match &outcome {
                Scanned::Clean => self.mine.fresh.push((id.to_owned(), Vec::new())),
                Scanned::Found(c) => self.mine.fresh.push((id.to_owned(), c.clone())),
                Scanned::TooLarge(_) => {}
            }
        }
        self.record(id.to_owned(), outcome);
    }

    fn record(&mut self, id: ObjectId, outcome: Scanned) {
        match outcome {
            Scanned::Clean => {}
            Scanned::Found(credentials) if credentials.is_empty() => {}
            Scanned::Found(credentials) => self.mine.hits.push(Hit { id, credentials }),
            Scanned::TooLarge(size) => self.mine.too_large.push((id, size)),
        }
    }

    /// An object that could not be read: named, counted, remembered.
    fn corrupt(&mut self, id: &gix::oid, what: &str) {
        AtomicStats::bump(&self.scanner.counters.corrupt_objects, 1);
        self.mine.corrupt.push(id.to_owned());
        self.scanner
            .diag
            .warn(format_args!("{}: {what}; skipped", self.repo.display()));
    }
}

/// `repo: blob <id>`, for the blob worker's warnings.
struct BlobName<'a> {
    repo: &'a Path,
    id: &'a gix::oid,
}

impl std::fmt::Display for BlobName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: blob {}", self.repo.display(), self.id)
    }
}

/// The object directories to read: the repository's own and its alternates.
pub(crate) fn object_dirs(r: &Repo, diag: &Diagnostics) -> Vec<PathBuf> {
    let own = r.repo.objects.store_ref().path().to_path_buf();
    let mut dirs = vec![own.clone()];
    let cwd = std::env::current_dir().unwrap_or_else(|_| own.clone());
    match gix::odb::alternate::resolve(own.clone(), &cwd) {
        Ok(alternates) => dirs.extend(alternates),
        Err(e) => diag.warn(format_args!(
            "{}: cannot resolve alternates of {}, their objects are not scanned: {}",
            r.path.display(),
            own.display(),
            reason(&e)
        )),
    }
    dirs
}

/// Every `*.idx` under `dir/pack`, sorted for a stable order.
pub(crate) fn pack_indexes(r: &Repo, dir: &Path) -> Result<Vec<PathBuf>, GitError> {
    let pack_dir = dir.join("pack");
    let entries = match std::fs::read_dir(&pack_dir) {
        Ok(entries) => entries,
        // A fresh or never-packed repository has no pack directory.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(GitError::ObjectDirectory {
                repo: r.path.clone(),
                dir: pack_dir,
                source,
            })
        }
    };
    let mut idx = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| GitError::ObjectDirectory {
            repo: r.path.clone(),
            dir: pack_dir.clone(),
            source,
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "idx") {
            idx.push(path);
        }
    }
    idx.sort();
    Ok(idx)
}

/// Sorts `ids` into the order the packs keep them: pack by pack, by offset,
/// then objects in no pack. Git writes a delta after its base and the
/// reader's cache ([`super::packs::ObjectReader`]) keeps what was decoded,
/// so reading in this order
/// finds most bases decoded already instead of inflating each chain again
/// (on git/git a range's objects sit on chains 3.6 times longer, summed,
/// than the objects themselves). Only an order: an object in no pack
/// [`Packs`] opened goes last, and reading it reports any problem.
pub(crate) fn sort_by_pack_offset(packs: &Packs, ids: &mut [ObjectId]) {
    ids.sort_by_cached_key(|id| (packs.locate(id, 0).unwrap_or((usize::MAX, 0)), *id));
}

/// Reads and scans every object once. With a `deadline`, stops taking
/// objects once it has passed and returns what was found until then, with
/// `stopped` set. With `packs`, a pack it has a note of is not decoded:
/// the note stands for it ([`super::notes`]), and the other packs are noted.
pub(crate) fn scan_all_blobs(
    r: &Repo,
    scanner: &BlobScanner<'_>,
    threads: usize,
    memory: Option<&dyn BlobMemory>,
    packs: Option<&dyn PackMemory>,
    deadline: Option<&Deadline>,
) -> Result<OdbScan, GitError> {
    let dirs = object_dirs(r, scanner.diag);
    let mut out = OdbScan::default();
    let bundles = open_packs(r, &dirs, scanner, &mut out)?;

    // Packs with a note are not decoded, and do not take part in the
    // search for repeats: the objects they share with a decoded pack are
    // read there too, and the duplicates merged at the end.
    let checksums: Vec<Option<ObjectId>> = bundles.iter().map(pack_checksum).collect();
    let mut notes: Vec<Option<PackNote>> = checksums
        .iter()
        .map(|c| c.as_ref().zip(packs).and_then(|(c, m)| m.recall(c)))
        .collect();
    // Only the packs decoded now get a (new) note.
    let to_note: Vec<Option<ObjectId>> = checksums
        .iter()
        .zip(&notes)
        .map(|(c, n)| if n.is_none() { *c } else { None })
        .collect();
    let mut loose = Vec::new();
    for dir in &dirs {
        loose.push(list_loose(r, dir, scanner));
    }
    let mut sources: Vec<Box<dyn Iterator<Item = ObjectId> + '_>> = Vec::new();
    for (b, _) in bundles.iter().zip(&notes).filter(|(_, n)| n.is_none()) {
        let idx = &b.index;
        sources.push(Box::new(
            (0..idx.num_objects()).map(move |i| idx.oid_at_index(i).to_owned()),
        ));
    }
    for ids in &loose {
        sources.push(Box::new(ids.iter().copied()));
    }
    let repeated = repeated_ids(sources);
    let decoded_packs = notes.iter().filter(|n| n.is_none()).count();

    let threads = threads.max(1);
    let passed = || deadline.is_some_and(Deadline::passed);
    let mut recalled_hits = Vec::new();
    let mut decoded = 0;
    for (bundle, note) in bundles.iter().zip(&mut notes) {
        if passed() {
            out.stopped = true;
            return Ok(out);
        }
        if let Some(note) = note.take() {
            recall_pack(bundle, note, memory, scanner, &mut out, &mut recalled_hits);
            continue;
        }
        let i = decoded;
        decoded += 1;
        let seen_before = |id: &gix::oid| repeated[i].contains(id);
        let stopped = decode_pack(
            r,
            bundle,
            &seen_before,
            Reading {
                scanner,
                memory,
                deadline,
                threads,
            },
            &mut out,
        )?;
        if stopped {
            out.stopped = true;
            return Ok(out);
        }
    }

    // Blobs with findings in noted packs: their credentials from the blob
    // memory, or (forgotten) read and scanned again.
    if !recalled_hits.is_empty() {
        read_objects(
            r,
            &recalled_hits,
            scanner,
            memory,
            deadline,
            threads,
            |id| format!("blob {id}"),
        )?
        .drain_into(&mut out);
    }

    for (d, (dir, ids)) in dirs.iter().zip(loose).enumerate() {
        let skip = &repeated[decoded_packs + d];
        let ids: Vec<ObjectId> = ids.into_iter().filter(|id| !skip.contains(id)).collect();
        scan_loose(r, dir, &ids, scanner, memory, deadline, threads)?.drain_into(&mut out);
        if passed() {
            out.stopped = true;
            return Ok(out);
        }
    }
    if out.packed_trees.len() > decoded_packs {
        // A noted pack and a decoded one (or loose objects) may share
        // objects: each once.
        out.hits.sort_by_key(|h| h.id);
        out.hits.dedup_by(|a, b| a.id == b.id);
        out.commits.sort_by_key(|c| c.0);
        out.commits.dedup_by(|a, b| a.0 == b.0);
        out.too_large.sort();
        out.too_large.dedup();
    }
    if packs.is_some() {
        out.noted = note_packs(&bundles, &to_note, &out);
    }
    Ok(out)
}

/// Opens every pack of `dirs`; one that cannot be opened is named, counted
/// and recorded without its trees.
fn open_packs(
    r: &Repo,
    dirs: &[PathBuf],
    scanner: &BlobScanner<'_>,
    out: &mut OdbScan,
) -> Result<Vec<pack::Bundle>, GitError> {
    let hash = r.repo.object_hash();
    let counters = scanner.counters;
    let mut bundles: Vec<pack::Bundle> = Vec::new();
    for dir in dirs {
        for idx in pack_indexes(r, dir)? {
            match pack::Bundle::at(&idx, hash) {
                Ok(b) => bundles.push(b),
                Err(e) => {
                    out.packed_trees.push(PackedTrees {
                        index: idx.clone(),
                        trees: None,
                    });
                    // Its objects may still be elsewhere; what is only here
                    // is lost, and the count says so.
                    AtomicStats::bump(&counters.corrupt_objects, 1);
                    scanner.diag.warn(format_args!(
                        "{}: cannot open pack {}, its objects are not scanned: {}",
                        r.path.display(),
                        idx.display(),
                        reason(&e)
                    ));
                }
            }
        }
    }

    Ok(bundles)
}

/// What reading objects needs besides the repository.
#[derive(Clone, Copy)]
struct Reading<'a> {
    scanner: &'a BlobScanner<'a>,
    memory: Option<&'a dyn BlobMemory>,
    deadline: Option<&'a Deadline>,
    threads: usize,
}

/// Decodes one pack in a single pass (gix's delta-tree traversal) and scans
/// its blobs and commits not `seen_before`; a pack that cannot be decoded in
/// one pass is read object by object. `true` when the deadline stopped it.
fn decode_pack(
    r: &Repo,
    bundle: &pack::Bundle,
    seen_before: &(dyn Fn(&gix::oid) -> bool + Sync),
    reading: Reading<'_>,
    out: &mut OdbScan,
) -> Result<bool, GitError> {
    let Reading {
        scanner,
        memory,
        deadline,
        threads,
    } = reading;
    let counters = scanner.counters;
    let passed = || deadline.is_some_and(Deadline::passed);
    // Counters and findings for this pack only, merged when the
    // traversal succeeds, so a pack that fails half-way can be read
    // again object by object without counting anything twice.
    let local = AtomicStats::default();
    let local_scanner = BlobScanner {
        counters: &local,
        ..*scanner
    };
    let shared = Mutex::new(Collected::default());
    let worker = Worker {
        scanner: &local_scanner,
        memory,
        deadline,
        repo: &r.path,
        shared: &shared,
        mine: Collected::default(),
    };
    let interrupt = AtomicBool::new(false);
    let traversal = bundle.index.traverse(
        &bundle.pack,
        &mut gix::progress::Discard,
        &interrupt,
        {
            let mut worker = worker;
            let interrupt = &interrupt;
            move |kind, data: &[u8], entry: &pack::index::Entry, _: &dyn gix::progress::Progress| {
                if worker.must_stop() {
                    // Stops gix's decoding too, at its next check.
                    interrupt.store(true, Relaxed);
                    return Ok(());
                }
                AtomicStats::bump(&worker.scanner.counters.objects_decoded, 1);
                if kind == gix::objs::Kind::Tree {
                    // Every tree, even one an earlier pack has too: the
                    // filter then needs nothing but this pack to resolve it.
                    worker.mine.trees.push(entry.oid);
                }
                if matches!(kind, gix::objs::Kind::Blob | gix::objs::Kind::Commit)
                    && !seen_before(&entry.oid)
                {
                    worker.object(kind, &entry.oid, data);
                }
                Ok(())
            }
        },
        pack::index::traverse::Options {
            traversal: pack::index::traverse::Algorithm::DeltaTreeLookup,
            thread_limit: Some(threads),
            // Object ids come from the index; re-hashing every object
            // would double the CPU cost and find nothing a decode error
            // would not.
            check: pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
            alloc_limit_bytes: None,
            make_pack_lookup_cache: || pack::cache::Never,
        },
    );
    let mut collected = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    if passed() {
        // Stopped part-way (or just done: it cannot be told): what was
        // scanned counts and is kept; the pack's trees are not known.
        add_counts(counters, &local);
        out.packed_trees.push(PackedTrees {
            index: bundle.index.path().to_path_buf(),
            trees: None,
        });
        collected.drain_into(out);
        return Ok(true);
    }
    match traversal {
        Ok(_) => {
            add_counts(counters, &local);
            out.packed_trees.push(PackedTrees {
                index: bundle.index.path().to_path_buf(),
                trees: Some(std::mem::take(&mut collected.trees)),
            });
            collected.drain_into(out);
        }
        Err(e) => {
            scanner.diag.warn(format_args!(
                "{}: pack {} cannot be decoded in one pass ({}); reading its objects one by one",
                r.path.display(),
                bundle.index.path().display(),
                reason(&e)
            ));
            out.packed_trees.push(PackedTrees {
                index: bundle.index.path().to_path_buf(),
                trees: None,
            });
            let ids: Vec<ObjectId> = bundle
                .index
                .iter()
                .map(|e| e.oid)
                .filter(|id| !seen_before(id))
                .collect();
            let pack_path = bundle.pack.path().display().to_string();
            let got = read_objects(r, &ids, scanner, memory, deadline, threads, |id| {
                format!("packed object {id} in {pack_path}")
            })?;
            got.drain_into(out);
            return Ok(passed());
        }
    }
    Ok(false)
}

/// The checksum that names a pack's contents: its trailer, as its index
/// records it and as the pack file ends. `None` (the pack is always
/// decoded) when the two differ or the ids are not SHA-1.
fn pack_checksum(bundle: &pack::Bundle) -> Option<ObjectId> {
    let recorded = bundle.index.pack_checksum();
    (recorded.kind() == gix::hash::Kind::Sha1 && bundle.pack.checksum() == recorded)
        .then_some(recorded)
}

/// Stands a pack's note in for decoding it: its commits and trees as
/// noted, its blobs over the limit counted again (and named later), its
/// blobs with findings recalled from the blob memory or, when forgotten,
/// put in `reread`.
fn recall_pack(
    bundle: &pack::Bundle,
    note: PackNote,
    memory: Option<&dyn BlobMemory>,
    scanner: &BlobScanner<'_>,
    out: &mut OdbScan,
    reread: &mut Vec<ObjectId>,
) {
    let counters = scanner.counters;
    AtomicStats::bump(&counters.packs_recalled, 1);
    AtomicStats::bump(&counters.commits, note.commits.len() as u64);
    AtomicStats::bump(&counters.skipped_too_large, note.too_large.len() as u64);
    out.commits.extend(note.commits);
    out.too_large.extend(note.too_large);
    out.packed_trees.push(PackedTrees {
        index: bundle.index.path().to_path_buf(),
        trees: Some(note.trees),
    });
    for id in note.hits {
        match memory.and_then(|m| m.recall(&id)) {
            Some(credentials) if !credentials.is_empty() => {
                AtomicStats::bump(&counters.blobs_already_scanned, 1);
                out.hits.push(Hit { id, credentials });
            }
            _ => reread.push(id),
        }
    }
}

/// A note for each pack decoded in one pass (`checksums[i]` set): what of
/// the whole scan's commits, blobs with findings and blobs over the limit
/// its index holds (also those read from another pack first), and its
/// trees. One pass over each index, so it costs the number of index
/// entries however many packs there are.
fn note_packs(
    bundles: &[pack::Bundle],
    checksums: &[Option<ObjectId>],
    out: &OdbScan,
) -> Vec<(ObjectId, PackNote)> {
    if out.stopped || !out.corrupt.is_empty() || checksums.iter().all(Option::is_none) {
        return Vec::new();
    }
    let commits: gix::hashtable::HashMap<ObjectId, &Option<CommitHeader>> =
        out.commits.iter().map(|(id, h)| (*id, h)).collect();
    let hits: gix::hashtable::HashSet<ObjectId> = out.hits.iter().map(|h| h.id).collect();
    let too_large: gix::hashtable::HashMap<ObjectId, u64> = out.too_large.iter().copied().collect();
    let packed_trees: std::collections::HashMap<&Path, &Option<Vec<ObjectId>>> = out
        .packed_trees
        .iter()
        .map(|p| (p.index.as_path(), &p.trees))
        .collect();
    let mut noted = Vec::new();
    for (bundle, checksum) in bundles.iter().zip(checksums) {
        let Some(checksum) = checksum else { continue };
        let trees = packed_trees
            .get(bundle.index.path())
            .and_then(|t| (*t).clone());
        let Some(trees) = trees else { continue };
        let mut note = PackNote {
            trees,
            ..PackNote::default()
        };
        for entry in bundle.index.iter() {
            let id = entry.oid;
            if let Some(header) = commits.get(&id) {
                note.commits.push((id, (*header).clone()));
            } else if hits.contains(&id) {
                note.hits.push(id);
            } else if let Some(size) = too_large.get(&id) {
                note.too_large.push((id, *size));
            }
        }
        noted.push((*checksum, note));
    }
    noted
}

/// For each source of object ids (each sorted; packs in reading order,
/// then loose directories), the ids an earlier source holds too: they are
/// read there, not again here. One k-way merge, O(n log k) for n ids in k
/// sources, holding only the repeats. A source that is not sorted (a
/// damaged index) only makes a repeat go unnoticed, and its blob scanned
/// twice.
fn repeated_ids<'a>(
    mut sources: Vec<Box<dyn Iterator<Item = ObjectId> + 'a>>,
) -> Vec<gix::hashtable::HashSet<ObjectId>> {
    use std::cmp::Reverse;
    let mut repeated = vec![gix::hashtable::HashSet::default(); sources.len()];
    if sources.len() < 2 {
        return repeated;
    }
    let mut heap = std::collections::BinaryHeap::new();
    for (k, source) in sources.iter_mut().enumerate() {
        if let Some(id) = source.next() {
            heap.push(Reverse((id, k)));
        }
    }
    let mut last: Option<ObjectId> = None;
    // Equal ids come out in source order: the first is read, the rest skipped.
    while let Some(Reverse((id, k))) = heap.pop() {
        if last == Some(id) {
            repeated[k].insert(id);
        }
        last = Some(id);
        if let Some(next) = sources[k].next() {
            heap.push(Reverse((next, k)));
        }
    }
    repeated
}

fn add_counts(into: &AtomicStats, from: &AtomicStats) {
    for (a, b) in [
        (&into.blobs, &from.blobs),
        (&into.bytes, &from.bytes),
        (&into.skipped_too_large, &from.skipped_too_large),
        (&into.corrupt_objects, &from.corrupt_objects),
        (&into.archive_members, &from.archive_members),
        (&into.commits, &from.commits),
        (&into.suppressed, &from.suppressed),
        (&into.blobs_already_scanned, &from.blobs_already_scanned),
        (&into.findings_over_limit, &from.findings_over_limit),
        (&into.objects_decoded, &from.objects_decoded),
        (&into.packs_recalled, &from.packs_recalled),
    ] {
        a.fetch_add(b.load(Relaxed), Relaxed);
    }
}

/// The ids of the loose objects of one object directory, sorted.
fn list_loose(r: &Repo, dir: &Path, scanner: &BlobScanner<'_>) -> Vec<ObjectId> {
    let store = gix::odb::loose::Store::at(dir, r.repo.object_hash());
    let mut ids = Vec::new();
    for id in store.iter() {
        match id {
            Ok(id) => ids.push(id),
            Err(e) => {
                AtomicStats::bump(&scanner.counters.corrupt_objects, 1);
                scanner.diag.warn(format_args!(
                    "{}: cannot list loose objects in {}: {}",
                    r.path.display(),
                    dir.display(),
                    reason(&e)
                ));
            }
        }
    }
    ids.sort_unstable();
    ids
}

/// The loose objects `ids` of one object directory.
fn scan_loose(
    r: &Repo,
    dir: &Path,
    ids: &[ObjectId],
    scanner: &BlobScanner<'_>,
    memory: Option<&dyn BlobMemory>,
    deadline: Option<&Deadline>,
    threads: usize,
) -> Result<Collected, GitError> {
    let store = gix::odb::loose::Store::at(dir, r.repo.object_hash());
    let shared = Mutex::new(Collected::default());
    let worker = Worker {
        scanner,
        memory,
        deadline,
        repo: &r.path,
        shared: &shared,
        mine: Collected::default(),
    };
    let pool = pool(threads)?;
    pool.install(|| {
        ids.par_iter()
            .for_each_with((worker, Vec::new()), |(worker, buf), id| {
                if worker.must_stop() {
                    return;
                }
                // A loose blob over the limit is judged by its header and
                // never inflated, so its size costs no memory.
                AtomicStats::bump(&scanner.counters.objects_decoded, 1);
                if let Ok(Some((size, gix::objs::Kind::Blob))) = store.try_header(id) {
                    if size > scanner.limits.max_file_size {
                        let outcome = scanner.too_large(size);
                        worker.record(id.to_owned(), outcome);
                        return;
                    }
                }
                match store.try_find(id, buf) {
                    Ok(Some(obj)) => worker.object(obj.kind, id, obj.data),
                    Ok(None) => {
                        worker.corrupt(id, &format!("loose object {id} vanished while reading"))
                    }
                    Err(e) => worker.corrupt(
                        id,
                        &format!(
                            "loose object {id} ({}) cannot be read: {}",
                            loose_path(dir, id),
                            reason(&e)
                        ),
                    ),
                }
            });
    });
    Ok(shared.into_inner().unwrap_or_else(|p| p.into_inner()))
}

fn loose_path(dir: &Path, id: &gix::oid) -> String {
    let hex = id.to_string();
    dir.join(&hex[..2]).join(&hex[2..]).display().to_string()
}

/// Reads `ids` through the object store in parallel and scans the blobs:
/// the slow path for a damaged pack, so one bad object is named and
/// counted and the rest are still scanned.
fn read_objects(
    r: &Repo,
    ids: &[ObjectId],
    scanner: &BlobScanner<'_>,
    memory: Option<&dyn BlobMemory>,
    deadline: Option<&Deadline>,
    threads: usize,
    name: impl Fn(&gix::oid) -> String + Sync,
) -> Result<Collected, GitError> {
    let sync = r.repo.clone().into_sync();
    let shared = Mutex::new(Collected::default());
    let worker = Worker {
        scanner,
        memory,
        deadline,
        repo: &r.path,
        shared: &shared,
        mine: Collected::default(),
    };
    let pool = pool(threads)?;
    pool.install(|| {
        ids.par_iter().for_each_init(
            || (worker.clone(), sync.to_thread_local(), Vec::new()),
            |(worker, repo, buf), id| {
                use gix::objs::Find;
                if worker.must_stop() {
                    return;
                }
                AtomicStats::bump(&scanner.counters.objects_decoded, 1);
                match repo.objects.try_find(id, buf) {
                    Ok(Some(obj)) => worker.object(obj.kind, id, obj.data),
                    Ok(None) => worker.corrupt(id, &format!("{} is missing", name(id))),
                    Err(e) => {
                        worker.corrupt(id, &format!("{} cannot be read: {}", name(id), reason(&e)))
                    }
                }
            },
        );
    });
    drop(worker);
    Ok(shared.into_inner().unwrap_or_else(|p| p.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(bytes: &[u8]) -> Vec<ObjectId> {
        bytes
            .iter()
            .map(|b| ObjectId::from_bytes_or_panic(&[*b; 20]))
            .collect()
    }

    #[test]
    fn repeats_are_found_in_one_merge_and_kept_where_first_seen() {
        let sources = [ids(&[1, 3, 5]), ids(&[2, 3]), ids(&[3, 5, 9]), ids(&[])];
        let repeated = repeated_ids(
            sources
                .iter()
                .map(|s| Box::new(s.iter().copied()) as Box<dyn Iterator<Item = ObjectId>>)
                .collect(),
        );
        let sorted = |set: &gix::hashtable::HashSet<ObjectId>| {
            let mut v: Vec<ObjectId> = set.iter().copied().collect();
            v.sort();
            v
        };
        assert_eq!(sorted(&repeated[0]), ids(&[]));
        assert_eq!(sorted(&repeated[1]), ids(&[3]));
        assert_eq!(sorted(&repeated[2]), ids(&[3, 5]));
        assert_eq!(sorted(&repeated[3]), ids(&[]));
    }

    /// Runs git in `dir` with no user or system config.
    fn git(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
        use std::io::Write;
        let mut child = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("HOME", dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run git");
        let mut input = child.stdin.take().expect("stdin");
        input
            .write_all(stdin.unwrap_or("").as_bytes())
            .expect("write");
        drop(input);
        let out = child.wait_with_output().expect("git");
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn a_scan_stopped_at_its_deadline_keeps_what_it_found() {
        // Ten commits, each adding a file with its own key, in one pack.
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"], None);
        git(d, &["config", "gc.auto", "0"], None);
        for (i, c) in "ABCDEFGHIJ".chars().enumerate() {
            std::fs::write(
                d.join(format!("k{i}.env")),
                format!("aws_access_key_id = AKIASP2TPHJSQH3FJR{c}X\n"),
            )
            .expect("write");
            git(d, &["add", "-A"], None);
            git(d, &["commit", "-q", "-m", &format!("c{i}")], None);
        }
        git(d, &["repack", "-adq"], None);

        struct Forgetful;
        impl BlobMemory for Forgetful {
            fn recall(&self, _: &gix::oid) -> Option<Vec<Credential>> {
                None
            }
        }
        impl PackMemory for Forgetful {
            fn recall(&self, _: &gix::oid) -> Option<PackNote> {
                None
            }
        }
        let opts = super::super::HistoryOptions {
            threads: 1,
            ..Default::default()
        };
        let scan = |deadline: &Deadline| {
            super::super::scan_history_with_memory(
                d,
                &crate::detect::Detector::new(),
                &opts,
                &Diagnostics::silent(),
                &Forgetful,
                &Forgetful,
                deadline,
            )
            .expect("scan")
        };

        let whole = scan(&Deadline::after(std::time::Duration::from_secs(3600)));
        assert!(!whole.stopped);
        assert_eq!(whole.scan.stats.blobs, 10);
        assert_eq!(whole.scan.findings.len(), 10);

        // 30 objects (10 commits, trees, blobs; git packs the commits
        // first): stop half-way, after 15 of them.
        let part = scan(&Deadline::after_objects(16));
        assert!(part.stopped);
        let blobs = part.scan.stats.blobs;
        assert!(blobs > 0 && blobs < 10, "{blobs} blobs scanned");
        // Every blob scanned is reported and remembered: nothing is lost.
        assert_eq!(part.scan.findings.len() as u64, blobs);
        assert_eq!(part.fresh.len() as u64, blobs);
        for f in &part.scan.findings {
            let blob = f.blob().expect("a blob finding");
            assert_eq!(f.location.path.to_string(), blob.id, "blob id as path");
            assert!(blob.commit.is_none() && !blob.unreachable);
        }

        // Past the deadline before the first object: nothing is read.
        let none = scan(&Deadline::after(std::time::Duration::ZERO));
        assert!(none.stopped);
        assert_eq!(none.scan.stats.blobs + none.scan.stats.commits, 0);
    }

    #[test]
    fn a_blob_in_many_packs_and_loose_is_scanned_once() {
        // Issue 20.7: a repository that never repacks has a pack per push;
        // each entry used to be looked up in every earlier pack's index.
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"], None);
        git(d, &["config", "gc.auto", "0"], None);
        std::fs::write(
            d.join("k.env"),
            "aws_access_key_id = AKIASP2TPHJSQH3FJRUX\n",
        )
        .expect("write");
        for i in 0..8 {
            std::fs::write(d.join(format!("f{i}")), format!("file {i}\n")).expect("write");
            git(d, &["add", "-A"], None);
            git(d, &["commit", "-q", "-m", &format!("c{i}")], None);
            // A new pack of the loose objects; the loose copies stay.
            git(d, &["repack", "-q"], None);
        }
        // The leaking blob once more, in a pack of its own.
        let leak = git(d, &["rev-parse", "HEAD:k.env"], None);
        git(
            d,
            &["pack-objects", "-q", ".git/objects/pack/pack"],
            Some(&format!("{leak}\n")),
        );
        let listed = git(
            d,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objecttype)",
            ],
            None,
        );
        let blobs = listed.lines().filter(|l| *l == "blob").count() as u64;
        let r = super::super::repo::open(d).expect("open");
        assert!(
            pack_indexes(&r, r.repo.objects.store_ref().path())
                .expect("packs")
                .len()
                >= 9
        );
        let counters = AtomicStats::default();
        let diag = Diagnostics::silent();
        let detector = crate::detect::Detector::new();
        let scanner = BlobScanner {
            detector: &detector,
            limits: crate::blob::ReadLimits::default(),
            counters: &counters,
            diag: &diag,
        };
        let scanned = scan_all_blobs(&r, &scanner, 2, None, None, None).expect("scan");
        assert_eq!(counters.blobs.load(Relaxed), blobs, "each blob once");
        assert_eq!(scanned.hits.len(), 1);
        assert_eq!(scanned.hits[0].id.to_string(), leak);
        assert_eq!(counters.commits.load(Relaxed), 8);
    }
}
