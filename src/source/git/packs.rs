//! Reads objects by id straight from a repository's packs, with gix as the
//! authority for everything else.
//!
//! A range scan reads thousands of commits, trees and blobs one by one
//! (and a full-history scan every tree, to say where a finding came
//! from), and inflating them was half its time. [`ObjectReader`] looks an id up in
//! the pack indexes, inflates with libdeflate (1.6x faster than the zlib-rs
//! gix uses, measured on every entry of git/git's pack), resolves offset
//! deltas itself and keeps each object it decodes, delta bases included,
//! in a per-thread cache (gix's keeps only the objects asked for, so the
//! versions between two of them were inflated again).
//!
//! Loose objects are read with gix's loose-object store of each object
//! directory. What it does not handle is read through gix's whole object
//! database instead: deltas against a base named by id, an entry it finds
//! damaged in any way (a header, a zlib stream or a delta that does not
//! add up), an object over [`MAX_OBJECT`] bytes, an index that disagrees
//! with its pack, a loose object gix's loose store cannot read. So errors
//! are gix's, worded as before, and a hostile pack costs the fast path
//! nothing but a retry.
//!
//! gix maps the same pack files for itself, and every page touched through
//! either mapping counts in the resident size: a thousand ref tips looked
//! up through both touched all of git/git's 11 MiB pack index twice, and
//! gix's first object read checks its whole index. So what a range scan
//! reads object by object (its revisions when written plainly, HEAD, ref
//! tips and their kinds, tags peeled by gix code through [`Finder`], the
//! commits findings name) comes through here, and gix's object database is
//! not opened at all unless a revision needs gix's rev-parse.

use super::odb::{object_dirs, pack_indexes};
use super::repo::{reason, Repo};
use crate::diag::Diagnostics;
use gix::objs::Kind;
use gix::odb::pack;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// The largest object decoded here; a larger one is gix's to read.
const MAX_OBJECT: usize = 256 << 20;

/// Longest delta chain followed here. Git's own limit is 4,095
/// (`pack.depth`); a longer chain is gix's to read.
const MAX_CHAIN: usize = 4_096;

/// Decoded bytes kept per reader (two generations of half each). On
/// git/git's 3,900-commit range 8, 16, 32 and 64 MiB took the same CPU
/// time; each doubling cost ~20-60 MiB more RSS on 2 threads.
const CACHE_BYTES: usize = 16 << 20;

/// The packs of a repository and of its alternates, opened once and read
/// by every thread.
pub(crate) struct Packs {
    packs: Vec<(pack::index::File, pack::data::File)>,
    /// The loose objects of the same directories, read directly: gix's
    /// object database would search its own mapping of every pack first.
    loose: Vec<gix::odb::loose::Store>,
}

impl Packs {
    /// Opens every pack whose index and data agree (object count and pack
    /// checksum); one that cannot be opened is left to gix, which names
    /// the problem when one of its objects is read.
    pub(crate) fn open(r: &Repo) -> Packs {
        let hash = r.repo.object_hash();
        let mut packs = Vec::new();
        let mut loose = Vec::new();
        for dir in object_dirs(r, &Diagnostics::silent()) {
            loose.push(gix::odb::loose::Store::at(&dir, hash));
            for idx in pack_indexes(r, &dir).unwrap_or_default() {
                let index = pack::index::File::at(&idx, hash);
                let data = pack::data::File::at(idx.with_extension("pack"), hash);
                let (Ok(index), Ok(data)) = (index, data) else {
                    continue;
                };
                if index.num_objects() == data.num_objects()
                    && index.pack_checksum() == data.checksum()
                {
                    packs.push((index, data));
                }
            }
        }
        Packs { packs, loose }
    }

    /// The pack holding `id` and the entry's offset in it, trying pack
    /// `first` before the others.
    pub(crate) fn locate(&self, id: &gix::oid, first: usize) -> Option<(usize, u64)> {
        let at = |n: usize| {
            let (index, _) = self.packs.get(n)?;
            index.lookup(id).map(|i| (n, index.pack_offset_at_index(i)))
        };
        at(first).or_else(|| (0..self.packs.len()).filter(|n| *n != first).find_map(at))
    }
}

/// Reads objects for one thread: packs first, gix for the rest.
pub(crate) struct ObjectReader<'r> {
    packs: &'r Packs,
    repo: &'r gix::Repository,
    inflater: libdeflater::Decompressor,
    /// Whether what is read is kept in `cache` ([`ObjectReader::passing`]).
    keeping: bool,
    /// For gix's header decoding, which probes a delta's first bytes.
    header_inflater: gix::zlib::Inflate,
    cache: Decoded,
    /// The pack the last object was found in: a range's objects mostly
    /// sit in one.
    last_pack: usize,
    /// The last object read.
    current: Arc<Vec<u8>>,
    /// What gix reads into.
    buf: Vec<u8>,
    /// A delta being applied.
    delta: Vec<u8>,
    /// Objects read from the packs, and deltas applied, for the tests.
    #[cfg(test)]
    from_packs: usize,
    #[cfg(test)]
    deltas: usize,
    #[cfg(test)]
    gix_reads: usize,
    #[cfg(test)]
    loose_reads: usize,
}

impl<'r> ObjectReader<'r> {
    pub(crate) fn new(packs: &'r Packs, repo: &'r gix::Repository) -> Self {
        ObjectReader {
            packs,
            repo,
            inflater: libdeflater::Decompressor::new(),
            keeping: true,
            header_inflater: gix::zlib::Inflate::default(),
            cache: Decoded::default(),
            last_pack: 0,
            current: Arc::default(),
            buf: Vec::new(),
            delta: Vec::new(),
            #[cfg(test)]
            from_packs: 0,
            #[cfg(test)]
            deltas: 0,
            #[cfg(test)]
            gix_reads: 0,
            #[cfg(test)]
            loose_reads: 0,
        }
    }

    /// The reader, keeping nothing new in its cache while the guard lives:
    /// for objects read once each (a thousand ref tips' commits, the tags
    /// peeled on the way), which would only grow the heap and push out
    /// what is read again. Cached objects are still found.
    pub(crate) fn passing(&mut self) -> Passing<'_, 'r> {
        let was = std::mem::replace(&mut self.keeping, false);
        Passing(self, was)
    }

    /// The repository gix reads from.
    pub(crate) fn repo(&self) -> &'r gix::Repository {
        self.repo
    }

    /// The bytes of object `id`, which must be a `kind`. The error is
    /// gix's, in words (`reason`).
    pub(crate) fn read(&mut self, id: &gix::oid, kind: Kind) -> Result<&[u8], String> {
        // With a kind asked for, gix's read either gives the object or
        // fails in its words: `None` does not come back.
        let Some((_, data)) = self.find(id, Some(kind)).map_err(|e| reason(&e))? else {
            return Err(format!("object {id} not found"));
        };
        self.current = data;
        Ok(self.current.as_slice())
    }

    /// The kind of object `id`: gix's own header decoding (entry headers
    /// down the delta chain, the first delta's size probed) over the
    /// reader's mapping of the packs; gix's whole database for the rest.
    pub(crate) fn kind(&mut self, id: &gix::oid) -> Result<Kind, String> {
        if let Some((n, offset)) = self.packs.locate(id, self.last_pack) {
            if let Some((_, data)) = self.packs.packs.get(n) {
                let header = data.entry(offset).and_then(|entry| {
                    // A base named by id is gix's to find: "not here".
                    data.decode_header(entry, &mut self.header_inflater, &|_| Ok(None))
                });
                if let Ok(header) = header {
                    return Ok(header.kind);
                }
            }
        }
        for store in &self.packs.loose {
            if let Ok(Some((_, kind))) = store.try_header(id) {
                return Ok(kind);
            }
        }
        self.repo
            .find_header(id.to_owned())
            .map(|h| h.kind())
            .map_err(|e| reason(&e))
    }

    /// `id` from the packs, the objects kept by id, the loose objects, then
    /// gix's whole object database, each tried while what the one before
    /// gave is not a `want` (`None`: any kind). gix's answer is final; with
    /// `want` it is gix's read of that kind, so a missing object or one of
    /// another kind is refused in gix's own words for it. `None` only when
    /// no kind was asked for and no database holds `id`.
    fn find(
        &mut self,
        id: &gix::oid,
        want: Option<Kind>,
    ) -> gix::Result<Option<(Kind, Arc<Vec<u8>>)>> {
        let fits = |found: &(Kind, Arc<Vec<u8>>)| want.is_none_or(|kind| kind == found.0);
        if let Some((n, offset)) = self.packs.locate(id, self.last_pack) {
            self.last_pack = n;
            if let Some(found) = self.decode(n, offset).filter(fits) {
                #[cfg(test)]
                {
                    self.from_packs += 1;
                }
                return Ok(Some(found));
            }
        }
        // Objects gix or the loose store gave are kept by id: the new
        // commits of a push are often loose, and a range reads their
        // trees more than once.
        let place = Place::Id(id.to_owned());
        if let Some(found) = self.cache.get(&place).filter(fits) {
            return Ok(Some(found));
        }
        if let Some(found) = self.loose(id).filter(fits) {
            return Ok(Some(found));
        }
        #[cfg(test)]
        {
            self.gix_reads += 1;
        }
        use gix::objs::{Find, FindExt};
        let objects = &self.repo.objects;
        let buf = &mut self.buf;
        let kind = match want {
            None => match objects.try_find(id, buf)? {
                Some(object) => object.kind,
                None => return Ok(None),
            },
            // One arm per kind: each error is gix's wording for that kind.
            Some(Kind::Blob) => objects.find_blob(id, buf).map(|_| Kind::Blob)?,
            Some(Kind::Tree) => objects.find_tree_iter(id, buf).map(|_| Kind::Tree)?,
            Some(Kind::Commit) => objects.find_commit_iter(id, buf).map(|_| Kind::Commit)?,
            Some(Kind::Tag) => objects.find_tag_iter(id, buf).map(|_| Kind::Tag)?,
        };
        let data = Arc::new(std::mem::take(&mut self.buf));
        if self.keeping {
            self.cache.put(place, kind, &data);
        }
        Ok(Some((kind, data)))
    }

    /// `id` from the loose objects, kept by id.
    fn loose(&mut self, id: &gix::oid) -> Option<(Kind, Arc<Vec<u8>>)> {
        for store in &self.packs.loose {
            // Unreadable or damaged: gix's whole database reads it again
            // and words the error.
            if let Ok(Some(object)) = store.try_find(id, &mut self.buf) {
                let kind = object.kind;
                let data = Arc::new(std::mem::take(&mut self.buf));
                if self.keeping {
                    self.cache.put(Place::Id(id.to_owned()), kind, &data);
                }
                #[cfg(test)]
                {
                    self.loose_reads += 1;
                }
                return Some((kind, data));
            }
        }
        None
    }

    /// The object at `offset` in pack `n`: the chain of offset deltas is
    /// followed back to a base (or to an object in the cache), then
    /// applied forwards, each result kept.
    fn decode(&mut self, n: usize, offset: u64) -> Option<(Kind, Arc<Vec<u8>>)> {
        if let Some(hit) = self.cache.get(&Place::Packed(n, offset)) {
            return Some(hit);
        }
        let (_, data) = self.packs.packs.get(n)?;
        let mut chain: Vec<pack::data::Entry> = Vec::new();
        let mut at = offset;
        let (kind, mut object) = loop {
            if !chain.is_empty() {
                if let Some(hit) = self.cache.get(&Place::Packed(n, at)) {
                    break hit;
                }
            }
            let entry = data.entry(at).ok()?;
            use pack::data::entry::Header;
            let kind = match entry.header {
                Header::Commit => Kind::Commit,
                Header::Tree => Kind::Tree,
                Header::Blob => Kind::Blob,
                Header::Tag => Kind::Tag,
                Header::OfsDelta { base_distance } => {
                    if chain.len() == MAX_CHAIN {
                        return None;
                    }
                    // Strictly backwards, so a chain always ends.
                    at = entry
                        .checked_base_pack_offset(base_distance)
                        .filter(|base| *base < at)?;
                    chain.push(entry);
                    continue;
                }
                Header::RefDelta { .. } => return None,
            };
            let mut out = Vec::new();
            inflate(&mut self.inflater, data, &entry, &mut out)?;
            let out = Arc::new(out);
            if self.keeping {
                self.cache.put(Place::Packed(n, at), kind, &out);
            }
            break (kind, out);
        };
        while let Some(entry) = chain.pop() {
            inflate(&mut self.inflater, data, &entry, &mut self.delta)?;
            let mut target = Vec::new();
            apply_delta(&object, &self.delta, &mut target)?;
            #[cfg(test)]
            {
                self.deltas += 1;
            }
            object = Arc::new(target);
            if self.keeping {
                self.cache
                    .put(Place::Packed(n, entry.pack_offset()), kind, &object);
            }
        }
        Some((kind, object))
    }
}

/// An [`ObjectReader`] that keeps nothing new ([`ObjectReader::passing`]).
/// It holds whether the reader kept before, to put back.
pub(crate) struct Passing<'a, 'r>(&'a mut ObjectReader<'r>, bool);

impl Drop for Passing<'_, '_> {
    fn drop(&mut self) {
        self.0.keeping = self.1;
    }
}

impl<'r> std::ops::Deref for Passing<'_, 'r> {
    type Target = ObjectReader<'r>;
    fn deref(&self) -> &ObjectReader<'r> {
        self.0
    }
}

impl std::ops::DerefMut for Passing<'_, '_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0
    }
}

/// An [`ObjectReader`] as gix's object database, for the gix code that
/// takes any (peeling a ref's tags): its reads come through the reader's
/// mapping of the packs and its cache.
pub(crate) struct Finder<'a, 'r>(RefCell<&'a mut ObjectReader<'r>>);

impl<'a, 'r> Finder<'a, 'r> {
    pub(crate) fn new(objects: &'a mut ObjectReader<'r>) -> Self {
        Finder(RefCell::new(objects))
    }
}

impl gix::objs::Find for Finder<'_, '_> {
    fn try_find<'a>(
        &self,
        id: &gix::oid,
        buffer: &'a mut Vec<u8>,
    ) -> gix::Result<Option<gix::objs::Data<'a>>> {
        let found = self.0.borrow_mut().find(id, None)?;
        Ok(found.map(|(kind, data)| {
            buffer.clear();
            buffer.extend_from_slice(&data);
            gix::objs::Data::new(buffer, kind, id.kind())
        }))
    }
}

/// Inflates `entry`'s zlib stream into `out`, which must come out exactly
/// as long as its header says.
fn inflate(
    inflater: &mut libdeflater::Decompressor,
    data: &pack::data::File,
    entry: &pack::data::Entry,
    out: &mut Vec<u8>,
) -> Option<()> {
    let size = usize::try_from(entry.decompressed_size)
        .ok()
        .filter(|s| *s <= MAX_OBJECT)?;
    let input = data.entry_slice(entry.data_offset..data.pack_end() as u64)?;
    out.clear();
    out.resize(size, 0);
    let written = inflater.zlib_decompress(input, out).ok()?;
    (written == size).then_some(())
}

/// Applies git delta `delta` to `base` into `out`. `None` for a delta that
/// does not fit its base or its own header.
///
/// Format (git's `patch-delta.c`): the base's size and the result's, as
/// little-endian base-128 numbers, then instructions: a byte with the top
/// bit set copies from the base (its low 4 bits say which offset bytes
/// follow, the next 3 which size bytes; size 0 means 0x10000), a byte
/// 1–127 inserts that many literal bytes, 0 is reserved.
pub fn apply_delta(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let (base_size, rest) = delta_size(delta)?;
    let (size, mut ops) = delta_size(rest)?;
    if base_size != base.len() as u64 {
        return None;
    }
    let size = usize::try_from(size).ok().filter(|s| *s <= MAX_OBJECT)?;
    out.clear();
    out.reserve_exact(size);
    while let Some((&op, rest)) = ops.split_first() {
        ops = rest;
        let piece = if op & 0x80 != 0 {
            let mut field = |bits: u8, first: u8| -> Option<usize> {
                let mut value = 0usize;
                for i in 0..bits {
                    if op & (first << i) != 0 {
                        let (&b, rest) = ops.split_first()?;
                        ops = rest;
                        value |= usize::from(b) << (8 * i);
                    }
                }
                Some(value)
            };
            let from = field(4, 0x01)?;
            let len = match field(3, 0x10)? {
                0 => 0x10000,
                n => n,
            };
            base.get(from..from.checked_add(len)?)?
        } else if op != 0 {
            let (literal, rest) = ops.split_at_checked(usize::from(op))?;
            ops = rest;
            literal
        } else {
            return None;
        };
        if piece.len() > size - out.len() {
            return None;
        }
        out.extend_from_slice(piece);
    }
    (out.len() == size).then_some(())
}

/// A delta header's size and the bytes after it.
fn delta_size(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// Where a decoded object came from: an entry of a pack (a delta base is
/// found by its offset), or gix, by id.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Place {
    Packed(usize, u64),
    Id(gix::ObjectId),
}

/// Decoded objects, in two generations: when the young one holds half the
/// budget it becomes the old one, and an object found in the old one moves
/// back, so what is in use stays and the rest goes in bulk.
#[derive(Default)]
struct Decoded {
    young: HashMap<Place, (Kind, Arc<Vec<u8>>)>,
    old: HashMap<Place, (Kind, Arc<Vec<u8>>)>,
    young_bytes: usize,
}

impl Decoded {
    fn get(&mut self, place: &Place) -> Option<(Kind, Arc<Vec<u8>>)> {
        if let Some(hit) = self.young.get(place) {
            return Some(hit.clone());
        }
        let (kind, data) = self.old.remove(place)?;
        self.put(place.clone(), kind, &data);
        Some((kind, data))
    }

    fn put(&mut self, place: Place, kind: Kind, data: &Arc<Vec<u8>>) {
        let half = CACHE_BYTES / 2;
        if data.len() > half {
            return;
        }
        if self.young_bytes + data.len() > half {
            self.old = std::mem::take(&mut self.young);
            self.young_bytes = 0;
        }
        self.young_bytes += data.len();
        self.young.insert(place, (kind, data.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn git(dir: &Path, args: &[&str]) -> String {
        super::super::testing::git(dir, dir, args)
    }

    /// A repository whose file went through 40 versions, packed with
    /// deep delta chains, plus one commit left loose.
    fn deltified(dir: &Path) {
        git(dir, &["init", "-q", "-b", "main"]);
        let mut text = String::new();
        for v in 0..40 {
            text.push_str(&format!("line {v}: {}\n", "x".repeat(200)));
            std::fs::write(dir.join("notes.txt"), &text).expect("write");
            std::fs::write(dir.join(format!("f{}.txt", v % 5)), format!("{v}\n")).expect("write");
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "-q", "-m", &format!("v{v}")]);
        }
        git(dir, &["gc", "-q", "--aggressive"]);
        std::fs::write(dir.join("loose.txt"), "not packed\n").expect("write");
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", "loose"]);
    }

    /// Every object of the repository at `dir` with its kind.
    fn all_objects(dir: &Path) -> Vec<(gix::ObjectId, Kind)> {
        git(
            dir,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objectname) %(objecttype)",
            ],
        )
        .lines()
        .map(|l| {
            let (id, kind) = l.split_once(' ').expect("id kind");
            let kind = Kind::from_bytes(kind.as_bytes()).expect("kind");
            (gix::ObjectId::from_hex(id.as_bytes()).expect("id"), kind)
        })
        .collect()
    }

    /// Whether the reader says an unknown id has no kind (gix's refusal).
    fn fresh_kind_refused(packs: &Packs, repo: &gix::Repository, id: &gix::oid) -> bool {
        ObjectReader::new(packs, repo).kind(id).is_err()
    }

    /// gix's own read of `id`: the reference the reader must match.
    fn through_gix(repo: &gix::Repository, id: &gix::oid) -> Result<(Kind, Vec<u8>), String> {
        use gix::objs::Find;
        let mut buf = Vec::new();
        match repo.objects.try_find(id, &mut buf) {
            Ok(Some(o)) => Ok((o.kind, o.data.to_vec())),
            Ok(None) => Err("missing".into()),
            Err(e) => Err(reason(&e)),
        }
    }

    #[test]
    fn packed_objects_read_here_are_byte_for_byte_what_gix_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        deltified(dir.path());
        let r = super::super::repo::open(dir.path()).expect("open");
        let packs = Packs::open(&r);
        let mut reader = ObjectReader::new(&packs, &r.repo);
        let objects = all_objects(dir.path());
        for (id, kind) in &objects {
            let (want_kind, want) = through_gix(&r.repo, id).expect("gix reads it");
            assert_eq!(*kind, want_kind);
            assert_eq!(reader.read(id, *kind).expect("read"), &want[..], "{id}");
        }
        // Packed objects came from the packs (deltas resolved here), the
        // loose commit's objects from the loose store, none through gix's
        // whole database (which would search its own mapping of the packs).
        let loose = 3; // the last commit, its tree and loose.txt
        assert_eq!(reader.from_packs, objects.len() - loose);
        assert_eq!(reader.loose_reads, loose);
        assert_eq!(reader.gix_reads, 0);
        // Read again, the loose ones come from the cache.
        for (id, kind) in &objects {
            reader.read(id, *kind).expect("read again");
        }
        assert_eq!(reader.loose_reads, loose);
        assert!(reader.deltas > 0, "gc --aggressive made deltas");
        // Kinds from entry headers, and the reader as gix's object database,
        // agree with gix for every object; an unknown id is not found.
        let mut fresh = ObjectReader::new(&packs, &r.repo);
        for (id, kind) in &objects {
            assert_eq!(fresh.kind(id), Ok(*kind), "{id}");
        }
        assert_eq!(fresh.from_packs + fresh.loose_reads, 0, "headers only");
        let finder = Finder::new(&mut fresh);
        let mut buf = Vec::new();
        for (id, kind) in &objects {
            use gix::objs::Find;
            let found = finder.try_find(id, &mut buf).expect("find").expect("found");
            let (_, want) = through_gix(&r.repo, id).expect("gix reads it");
            assert_eq!((found.kind, found.data), (*kind, &want[..]), "{id}");
        }
        let unknown =
            gix::ObjectId::from_hex(b"00000000000000000000000000000000000000ff").expect("id");
        assert!(gix::objs::Find::try_find(&finder, &unknown, &mut buf)
            .expect("no error")
            .is_none());
        assert!(fresh_kind_refused(&packs, &r.repo, &unknown));
        // Asked for the wrong kind: gix's refusal, worded by gix.
        let (blob, _) = objects
            .iter()
            .find(|(_, k)| *k == Kind::Blob)
            .expect("a blob");
        let refused = reader
            .read(blob, Kind::Tree)
            .expect_err("a blob is not a tree");
        assert!(
            refused.contains("tree") && refused.contains("blob"),
            "{refused}"
        );
    }

    #[test]
    fn a_damaged_pack_reads_as_gix_reads_it_and_never_panics() {
        let dir = tempfile::tempdir().expect("tempdir");
        deltified(dir.path());
        let objects = all_objects(dir.path());
        let pack_dir = dir.path().join(".git/objects/pack");
        let pack = std::fs::read_dir(&pack_dir)
            .expect("pack dir")
            .map(|e| e.expect("entry").path())
            .find(|p| p.extension().is_some_and(|e| e == "pack"))
            .expect("a pack");
        let pristine = std::fs::read(&pack).expect("read pack");
        // Damage at many places past the 12-byte header and before the
        // trailer: entry headers, zlib streams, delta instructions.
        let len = pristine.len() - 20;
        let mut from_packs = 0;
        for (n, at) in (12..len).step_by((len / 61).max(1)).enumerate() {
            let mut damaged = pristine.clone();
            damaged[at] ^= [0xff, 0x01, 0x80][n % 3];
            std::fs::write(&pack, &damaged).expect("write pack");
            let r = super::super::repo::open(dir.path()).expect("open");
            let packs = Packs::open(&r);
            let mut reader = ObjectReader::new(&packs, &r.repo);
            for (id, kind) in &objects {
                let ours = reader.read(id, *kind).map(<[u8]>::to_vec);
                match through_gix(&r.repo, id) {
                    Ok((k, data)) if k == *kind => {
                        assert_eq!(ours.as_deref(), Ok(&data[..]), "byte {at}: {id}")
                    }
                    _ => assert!(ours.is_err(), "byte {at}: {id} read where gix cannot"),
                }
                let kind = ObjectReader::new(&packs, &r.repo).kind(id);
                match r.repo.find_header(*id) {
                    Ok(header) => assert_eq!(kind, Ok(header.kind()), "byte {at}: {id}"),
                    Err(_) => assert!(
                        kind.is_err(),
                        "byte {at}: {id} has a kind where gix has none"
                    ),
                }
            }
            from_packs += reader.from_packs;
        }
        assert!(from_packs > 0, "the damaged packs were still read here");
    }

    /// A delta header: base size, result size.
    fn header(base: usize, result: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for mut n in [base, result] {
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(b);
                    break;
                }
                out.push(b | 0x80);
            }
        }
        out
    }

    #[test]
    fn a_delta_copies_and_inserts() {
        let base = b"0123456789";
        let mut delta = header(10, 7);
        // copy offset 2, size 3: op 0x80 | offset byte 0 | size byte 0
        delta.extend_from_slice(&[0x91, 2, 3]);
        delta.extend_from_slice(&[4, b'a', b'b', b'c', b'd']);
        let mut out = Vec::new();
        assert_eq!(apply_delta(base, &delta, &mut out), Some(()));
        assert_eq!(out, b"234abcd");
    }

    #[test]
    fn a_copy_of_size_zero_means_64_kib() {
        let base = vec![7u8; 0x10000];
        let mut delta = header(0x10000, 0x10000);
        delta.push(0x80); // copy offset 0, size 0 = 0x10000
        let mut out = Vec::new();
        assert_eq!(apply_delta(&base, &delta, &mut out), Some(()));
        assert_eq!(out, base);
    }

    #[test]
    fn hostile_deltas_are_refused_not_trusted() {
        let base = b"0123456789";
        let refused = |delta: Vec<u8>, why: &str| {
            let mut out = Vec::new();
            assert_eq!(apply_delta(base, &delta, &mut out), None, "{why}");
        };
        let with = |result: usize, ops: &[u8]| {
            let mut d = header(10, result);
            d.extend_from_slice(ops);
            d
        };
        refused(with(3, &[0x91, 8, 3]), "copy past the end of the base");
        refused(
            with(3, &[0x9f, 0xff, 0xff, 0xff, 0xff, 3]),
            "copy offset that overflows",
        );
        refused(with(2, &[0x91, 0, 3]), "copy past the result size");
        refused(
            with(4, &[3, b'a', b'b', b'c']),
            "result shorter than its header",
        );
        refused(
            with(2, &[3, b'a', b'b', b'c']),
            "insert past the result size",
        );
        refused(with(3, &[5, b'a']), "insert longer than the delta");
        refused(with(1, &[0]), "reserved instruction 0");
        refused(with(1, &[0x91, 0]), "copy whose size byte is missing");
        refused(header(9, 0), "base size that is not the base's");
        refused(vec![0x80; 20], "header that never ends");
        refused(header(10, 300)[..2].to_vec(), "result size cut short");
        refused(
            header(10, MAX_OBJECT + 1),
            "result larger than any object read here",
        );
        refused(Vec::new(), "empty delta");
    }

    #[test]
    fn a_passing_reader_keeps_nothing_new_and_the_reader_keeps_again_after() {
        let dir = tempfile::tempdir().expect("tempdir");
        deltified(dir.path());
        let r = super::super::repo::open(dir.path()).expect("open");
        let packs = Packs::open(&r);
        let mut reader = ObjectReader::new(&packs, &r.repo);
        let objects = all_objects(dir.path());
        let kept = |reader: &ObjectReader<'_>| reader.cache.young.len() + reader.cache.old.len();
        let (first, kind) = objects[0];
        reader.read(&first, kind).expect("read");
        let before = kept(&reader);
        assert!(before > 0);
        {
            let mut passing = reader.passing();
            for (id, kind) in &objects {
                passing.read(id, *kind).expect("read");
            }
            // What was kept is still found.
            passing.read(&first, kind).expect("read");
            assert_eq!(kept(&passing), before, "nothing new kept");
        }
        for (id, kind) in &objects {
            reader.read(id, *kind).expect("read");
        }
        assert!(kept(&reader) > before, "kept again once the guard is gone");
    }

    #[test]
    fn the_cache_keeps_what_is_used_and_drops_the_rest_in_bulk() {
        let at = |offset| Place::Packed(0, offset);
        let mut cache = Decoded::default();
        let chunk = Arc::new(vec![0u8; CACHE_BYTES / 8]);
        cache.put(at(1), Kind::Blob, &chunk);
        for offset in 2..=4 {
            cache.put(at(offset), Kind::Blob, &chunk);
        }
        // The young generation is full: the next put ages all four.
        cache.put(at(5), Kind::Blob, &chunk);
        assert!(cache.get(&at(1)).is_some(), "found in the old generation");
        for offset in 6..=8 {
            cache.put(at(offset), Kind::Blob, &chunk);
        }
        // 1 moved back to the young generation and stays; 2..4 are gone.
        assert!(cache.get(&at(1)).is_some());
        assert!(cache.get(&at(2)).is_none());
        let huge = Arc::new(vec![0u8; CACHE_BYTES / 2 + 1]);
        cache.put(at(9), Kind::Blob, &huge);
        assert!(cache.get(&at(9)).is_none(), "larger than a generation");
    }
}
