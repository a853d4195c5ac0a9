//! Counters for what one run did, reported in `stats` of every output.
//!
//! Workers count into [`AtomicStats`] without locks; the run ends with one
//! plain [`Stats`] snapshot for the reporters.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What a run did. Problems are counted here as well as printed.
// Deserialize: `keysweep merge` reads the stats of shard reports back;
// `default` lets it read reports written before a counter existed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Files read and scanned (filesystem scans).
    pub files: u64,
    /// Git blobs read and scanned (each unique blob once).
    pub blobs: u64,
    /// Commits walked.
    pub commits: u64,
    /// Bytes scanned.
    pub bytes: u64,
    pub elapsed_ms: u64,
    /// Files or blobs over `--max-file-size`, skipped (each is named on stderr).
    pub skipped_too_large: u64,
    /// Files that could not be opened or read, and dangling symlinks.
    pub unreadable: u64,
    /// FIFOs, sockets and device files: never read.
    pub skipped_special: u64,
    /// Other walk errors (symlink loops, permission denied on a directory).
    pub walk_errors: u64,
    /// Untracked paths (files or whole directories) skipped because git
    /// ignores them (`.gitignore`, `info/exclude`); tracked files are
    /// always scanned.
    pub skipped_ignored: u64,
    /// Symbolic links found in a scanned tree that point outside every
    /// scanned root: not followed (each is named on stderr).
    pub skipped_links_outside: u64,
    /// Git objects that could not be read.
    pub corrupt_objects: u64,
    /// Archive members scanned inside zip/gzip/tar files.
    pub archive_members: u64,
    /// Blobs not scanned again because an earlier run or another repository
    /// already scanned them.
    pub blobs_already_scanned: u64,
    /// Findings suppressed by `keysweep:allow`, a baseline or the config.
    pub suppressed: u64,
    /// Credentials (and unpaired parts) found in a blob past the first
    /// 1,000 of that blob: counted, not reported (each such blob is named
    /// on stderr).
    pub findings_over_limit: u64,
    /// Subtrees a range scan did not compare because they were nested
    /// deeper than 4,096 levels: what changed below them was not scanned
    /// (named on stderr).
    pub trees_too_deep: u64,
    /// Distinct credentials verified (`--verify`).
    pub credentials_verified: u64,
    /// Requests sent to STS, retries included.
    pub verify_requests: u64,
    /// Verdicts taken from the `--verify-cache` file.
    pub verify_cached: u64,
    /// Repositories scanned (`keysweep org`).
    pub repos: u64,
    /// Repositories that could not be cloned, refreshed or read
    /// (`keysweep org`; each is named on stderr).
    pub repos_failed: u64,
    /// Of `repos_failed`: repositories whose scan was stopped at
    /// `--repo-timeout`; what they found until then is reported, with blob
    /// ids for paths.
    pub repos_timed_out: u64,
    /// Git objects decoded (inflated, deltas applied): what a history scan
    /// costs, whether its blobs were scanned or recalled.
    pub objects_decoded: u64,
    /// Packs not decoded because an earlier run noted what they hold
    /// (`keysweep org` rescans).
    pub packs_recalled: u64,
}

/// Milliseconds since `started`, as the reports give `elapsed_ms`.
pub(crate) fn elapsed_ms(started: std::time::Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Stats {
    /// Problems that make the exit code 2 when nothing was found.
    pub fn problems(&self) -> u64 {
        self.skipped_too_large
            + self.trees_too_deep
            + self.unreadable
            + self.walk_errors
            + self.corrupt_objects
            + self.repos_failed
    }

    pub fn add(&mut self, o: &Stats) {
        self.files += o.files;
        self.blobs += o.blobs;
        self.commits += o.commits;
        self.bytes += o.bytes;
        self.skipped_too_large += o.skipped_too_large;
        self.unreadable += o.unreadable;
        self.skipped_special += o.skipped_special;
        self.walk_errors += o.walk_errors;
        self.skipped_ignored += o.skipped_ignored;
        self.skipped_links_outside += o.skipped_links_outside;
        self.corrupt_objects += o.corrupt_objects;
        self.archive_members += o.archive_members;
        self.blobs_already_scanned += o.blobs_already_scanned;
        self.suppressed += o.suppressed;
        self.findings_over_limit += o.findings_over_limit;
        self.trees_too_deep += o.trees_too_deep;
        self.credentials_verified += o.credentials_verified;
        self.verify_requests += o.verify_requests;
        self.verify_cached += o.verify_cached;
        self.repos += o.repos;
        self.repos_failed += o.repos_failed;
        self.repos_timed_out += o.repos_timed_out;
        self.objects_decoded += o.objects_decoded;
        self.packs_recalled += o.packs_recalled;
    }
}

/// Lock-free counters shared by worker threads.
#[derive(Debug, Default)]
pub(crate) struct AtomicStats {
    pub files: AtomicU64,
    pub blobs: AtomicU64,
    pub commits: AtomicU64,
    pub bytes: AtomicU64,
    pub skipped_too_large: AtomicU64,
    pub unreadable: AtomicU64,
    pub skipped_special: AtomicU64,
    pub walk_errors: AtomicU64,
    pub skipped_ignored: AtomicU64,
    pub skipped_links_outside: AtomicU64,
    pub corrupt_objects: AtomicU64,
    pub archive_members: AtomicU64,
    pub blobs_already_scanned: AtomicU64,
    pub suppressed: AtomicU64,
    pub findings_over_limit: AtomicU64,
    pub trees_too_deep: AtomicU64,
    pub objects_decoded: AtomicU64,
    pub packs_recalled: AtomicU64,
}

impl AtomicStats {
    pub(crate) fn bump(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            files: self.files.load(Relaxed),
            blobs: self.blobs.load(Relaxed),
            commits: self.commits.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            elapsed_ms: 0,
            skipped_too_large: self.skipped_too_large.load(Relaxed),
            unreadable: self.unreadable.load(Relaxed),
            skipped_special: self.skipped_special.load(Relaxed),
            walk_errors: self.walk_errors.load(Relaxed),
            skipped_ignored: self.skipped_ignored.load(Relaxed),
            skipped_links_outside: self.skipped_links_outside.load(Relaxed),
            corrupt_objects: self.corrupt_objects.load(Relaxed),
            archive_members: self.archive_members.load(Relaxed),
            blobs_already_scanned: self.blobs_already_scanned.load(Relaxed),
            suppressed: self.suppressed.load(Relaxed),
            findings_over_limit: self.findings_over_limit.load(Relaxed),
            trees_too_deep: self.trees_too_deep.load(Relaxed),
            objects_decoded: self.objects_decoded.load(Relaxed),
            packs_recalled: self.packs_recalled.load(Relaxed),
            ..Stats::default()
        }
    }
}
