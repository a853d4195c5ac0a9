//! The notes of packs already read, kept in the cache directory, so that a
//! rescan after a fetch decodes only the packs (and loose objects) the fetch
//! added ([`crate::source::git::PackNote`] says what a note holds).
//!
//! One file per pack, named by the pack's checksum, in a directory whose
//! name holds the crate version, [`RULES_VERSION`] and the size limit: a
//! note lists the blobs with findings and those over the limit, which a
//! keysweep with other rules or limits would judge differently. Notes are
//! written only for clones keysweep made (their ids computed by `git
//! index-pack`, like the blob memory; docs/security.md), 0600 in the 0700
//! state directory, beside the target then renamed over it. A note that
//! cannot be read or is damaged is ignored and its pack decoded again.
//! A note whose pack no repository holds any more is removed by
//! [`PackStore::prune`] once it is a month old.

use crate::atomic_file::{self, Access};
use crate::detect::RULES_VERSION;
use crate::diag::Diagnostics;
use crate::finding::hex;
use crate::source::git::{PackMemory, PackNote};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A note larger than this is not read (a 1M-commit history's note is
/// about 60 MB).
const MAX_NOTE: u64 = 512 << 20;

/// Notes unused this long (their modification time is refreshed when they
/// are recalled) are removed.
const KEEP_UNUSED: Duration = Duration::from_secs(31 * 24 * 3600);

/// The notes of one cache directory, for one set of rules and limits.
pub(crate) struct PackStore<'d> {
    dir: PathBuf,
    diag: &'d Diagnostics,
}

impl<'d> PackStore<'d> {
    /// The store under `cache_dir` for scans with `max_file_size`.
    pub(crate) fn new(cache_dir: &Path, max_file_size: u64, diag: &'d Diagnostics) -> Self {
        let dir = cache_dir.join("state").join(format!(
            "packs-v{}-rules{RULES_VERSION}-max{max_file_size}",
            env!("CARGO_PKG_VERSION")
        ));
        PackStore { dir, diag }
    }

    fn path(&self, pack: &gix::oid) -> PathBuf {
        self.dir.join(format!("{}.note", hex(pack.as_bytes())))
    }

    /// Keeps `notes` (from a clone keysweep made).
    pub(crate) fn keep(&self, notes: &[(gix::ObjectId, PackNote)]) -> std::io::Result<()> {
        if notes.is_empty() {
            return Ok(());
        }
        super::clone::create_private_dir(&self.dir)?;
        for (pack, note) in notes {
            let path = self.path(pack);
            atomic_file::replace(&path, &note.to_bytes(), Access::Private)?;
        }
        Ok(())
    }

    /// Removes notes no scan recalled or wrote for [`KEEP_UNUSED`]: their
    /// packs were repacked away (or their repositories left the list).
    pub(crate) fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > KEEP_UNUSED);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

impl PackMemory for PackStore<'_> {
    fn recall(&self, pack: &gix::oid) -> Option<PackNote> {
        let path = self.path(pack);
        let bytes = match crate::settings::config::read_own_file(&path, MAX_NOTE) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                self.diag.warn(format_args!(
                    "{}: cannot read ({e}); its pack is decoded again",
                    path.display()
                ));
                return None;
            }
        };
        let Some(note) = PackNote::from_bytes(&bytes) else {
            self.diag.warn(format_args!(
                "{}: damaged; its pack is decoded again",
                path.display()
            ));
            let _ = std::fs::remove_file(&path);
            return None;
        };
        // Used: not pruned for another month.
        if let Ok(f) = std::fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(note)
    }
}
