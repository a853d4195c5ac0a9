//! What a full-history scan learnt from one pack, so that a later scan of
//! a repository that still has the pack need not decode it again.
//!
//! Why: a nightly rescan after a fetch used to decode every object of
//! every pack (the blob memory spared the scanning, not the decoding). A
//! pack file never changes once written, and its checksum (the pack's
//! trailer, also recorded in its index) names its contents, so what a scan
//! needs from it — its commits (for the history graph), its trees (for the
//! tree filter of provenance), its blobs with findings and its blobs over
//! the size limit — can be noted once and recalled while a pack with that
//! checksum is there. A note lists what the pack holds, not what that scan
//! read from it, so it stays right whatever other packs come and go.
//!
//! The encoding is binary (a large history has 100k commits and 200k trees)
//! and ends with a SHA-256 of what precedes it: a torn or altered file is
//! not a note.

use super::commits::CommitHeader;
use gix::ObjectId;
use sha2::{Digest, Sha256};

/// What one pack holds that a history scan needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackNote {
    /// Every commit in the pack, with its header when it parsed.
    pub(crate) commits: Vec<(ObjectId, Option<CommitHeader>)>,
    /// Every tree in the pack.
    pub(crate) trees: Vec<ObjectId>,
    /// Its blobs with at least one credential (the credentials are in the
    /// blob memory, or read again).
    pub(crate) hits: Vec<ObjectId>,
    /// Its blobs over the size limit, with their sizes.
    pub(crate) too_large: Vec<(ObjectId, u64)>,
}

const MAGIC: &[u8] = b"keysweep pack note 1\n";
/// SHA-1 object ids only: a SHA-256 repository is read in full each time.
const ID: usize = 20;

impl PackNote {
    /// The note as bytes, for a file of keysweep's own.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let id = |out: &mut Vec<u8>, id: &ObjectId| out.extend_from_slice(id.as_bytes());
        let n = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u64).to_le_bytes());
        n(&mut out, self.commits.len());
        for (c, header) in &self.commits {
            id(&mut out, c);
            match header {
                None => out.push(0),
                Some(h) => {
                    out.push(1);
                    id(&mut out, &h.tree);
                    out.extend_from_slice(&h.time.to_le_bytes());
                    n(&mut out, h.parents.len());
                    for p in &h.parents {
                        id(&mut out, p);
                    }
                }
            }
        }
        n(&mut out, self.trees.len());
        for t in &self.trees {
            id(&mut out, t);
        }
        n(&mut out, self.hits.len());
        for h in &self.hits {
            id(&mut out, h);
        }
        n(&mut out, self.too_large.len());
        for (b, size) in &self.too_large {
            id(&mut out, b);
            out.extend_from_slice(&size.to_le_bytes());
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Reads a note; `None` for anything that is not one whole note.
    pub fn from_bytes(bytes: &[u8]) -> Option<PackNote> {
        let (body, digest) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
        if Sha256::digest(body).as_slice() != digest {
            return None;
        }
        let mut r = Reader(body.strip_prefix(MAGIC)?);
        let mut note = PackNote::default();
        for _ in 0..r.count()? {
            let c = r.id()?;
            let header = match r.take(1)?.first()? {
                0 => None,
                1 => {
                    let tree = r.id()?;
                    let time = i64::from_le_bytes(r.take(8)?.try_into().ok()?);
                    let parents = (0..r.count()?)
                        .map(|_| r.id())
                        .collect::<Option<Vec<_>>>()?;
                    Some(CommitHeader {
                        tree,
                        parents,
                        time,
                    })
                }
                _ => return None,
            };
            note.commits.push((c, header));
        }
        for _ in 0..r.count()? {
            note.trees.push(r.id()?);
        }
        for _ in 0..r.count()? {
            note.hits.push(r.id()?);
        }
        for _ in 0..r.count()? {
            let b = r.id()?;
            let size = u64::from_le_bytes(r.take(8)?.try_into().ok()?);
            note.too_large.push((b, size));
        }
        r.0.is_empty().then_some(note)
    }
}

/// A cursor over a note's bytes; every read checks what is left.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn id(&mut self) -> Option<ObjectId> {
        ObjectId::try_from(self.take(ID)?).ok()
    }

    /// A count, never more than the bytes left could hold (so a damaged
    /// count cannot make a loop run for long).
    fn count(&mut self) -> Option<usize> {
        let n = u64::from_le_bytes(self.take(8)?.try_into().ok()?);
        let n = usize::try_from(n).ok()?;
        (n <= self.0.len()).then_some(n)
    }
}

/// Notes of packs read by earlier scans, by pack checksum.
pub trait PackMemory: Sync {
    /// The note of the pack whose checksum is `pack`, if one was kept.
    fn recall(&self, pack: &gix::oid) -> Option<PackNote>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip_and_damage_is_refused() {
        let id = |b: u8| ObjectId::from_bytes_or_panic(&[b; 20]);
        let note = PackNote {
            commits: vec![
                (
                    id(1),
                    Some(CommitHeader {
                        tree: id(2),
                        parents: vec![id(3), id(4)],
                        time: -5,
                    }),
                ),
                (id(5), None),
            ],
            trees: vec![id(2), id(6)],
            hits: vec![id(7)],
            too_large: vec![(id(8), 1 << 40)],
        };
        let bytes = note.to_bytes();
        assert_eq!(PackNote::from_bytes(&bytes), Some(note));
        for cut in [0, 10, bytes.len() - 1] {
            assert_eq!(PackNote::from_bytes(&bytes[..cut]), None);
        }
        let mut flipped = bytes.clone();
        flipped[MAGIC.len() + 3] ^= 1;
        assert_eq!(PackNote::from_bytes(&flipped), None);
    }
}
