//! Git history as a source of blobs: every blob in a repository's object
//! database, or only the blobs a range of commits added or changed.
//!
//! Why it is built this way (see DESIGN.md, "Git history"):
//!
//! - A full-history scan reads the object database, not the commit graph:
//!   every pack is decoded once in pack order (delta bases before their
//!   deltas, measured at 0.25x `git cat-file --batch-all-objects`), plus the
//!   loose objects, so each unique blob is scanned exactly once, whatever
//!   number of branches, commits or paths share it, and dangling blobs
//!   (force-pushed away, `reset --hard`) are scanned too.
//! - Provenance (which commit and path introduced a blob) is the other half of
//!   the cost, so it is computed only for the few blobs that had findings.
//!   Commits no ref reaches (reflog-only, `reset --hard`, force-pushed) are
//!   searched too, after the reachable ones, so a blob they hold still gets
//!   a commit and a path (marked `unreachable`).
//! - Ranges (`--since`, CI pushes, pre-push) diff each commit against its
//!   parents, merges included, and report only credentials the previous
//!   version of the same path did not already hold, so an old leak is not
//!   reported again on every push of that file.
//!
//! The modules follow the phases: [`repo`] (opening, refs, HEAD, shallow
//! cuts), [`commits`] (the header parser and the graph), [`odb`] (reading
//! every object), [`packs`] (reading objects by id), [`attribution`] (which commit and path, HEAD, refs),
//! [`range`] (planning and scanning a range), [`staged`] (what the index
//! would commit), and [`history`] (the full scan). Nothing here runs git
//! hooks, filters, textconv or fsmonitor from the scanned repository:
//! objects are read in process (gix, and [`packs`] for objects read by
//! id); only the list of staged paths
//! comes from the git program (through [`crate::gitcli`]), since git alone
//! knows every index format and extension a checkout may use.

mod attribution;
mod commits;
mod diff;
mod history;
mod notes;
mod odb;
mod packs;
mod range;
mod repo;
mod staged;
mod treefilter;

use crate::blob::ReadLimits;
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::{BlobOrigin, Credential, Finding, Location, Origin, ReportPath};
use crate::source::SourceScan;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use gix::ObjectId;
pub use history::{scan_history, scan_history_with_memory, MemoryScan};
pub use notes::{PackMemory, PackNote};
/// Public for the fuzz target only.
#[doc(hidden)]
pub use packs::apply_delta;
pub use range::{parse_range, scan_commits, scan_range};
pub use repo::{file_at, is_zero_oid, Lookup};
pub use staged::{scan_staged, StagedOptions};

/// How a history scan behaves.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    /// Drop findings in blobs that no ref reaches (dangling objects).
    pub reachable_only: bool,
    /// Worker threads for decoding and scanning (at least 1 is used).
    pub threads: usize,
    /// Blobs larger than `limits.max_file_size` are counted and named, not
    /// scanned.
    pub limits: ReadLimits,
    /// Name the refs whose tips still hold each blob with findings. A range
    /// scan finds them by reading the trees of every ref tip (about 0.4 s
    /// for git/git's 1,016 refs, whatever the size of the range), so it is
    /// done only when a report shows refs; a full-history scan reads those
    /// trees anyway.
    pub list_refs: bool,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            reachable_only: false,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            limits: ReadLimits::default(),
            list_refs: true,
        }
    }
}

/// When a history scan must stop: `keysweep org --repo-timeout` bounds
/// the scan of each repository as well as its clone. The scan runs in this
/// process, so it cannot be killed like git: the workers check the deadline
/// before each object and stop taking new ones once it has passed, so a
/// scan overruns by at most one object per thread (one blob is bounded by
/// `--max-file-size`).
#[derive(Debug)]
pub struct Deadline {
    at: Instant,
    limit: Duration,
    passed: AtomicBool,
    /// Unit tests: passes after this many objects instead of at a time, so
    /// a scan can be stopped half-way deterministically.
    #[cfg(test)]
    objects: Option<std::sync::atomic::AtomicU64>,
}

impl Deadline {
    /// `limit` from now.
    pub fn after(limit: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + limit,
            limit,
            passed: AtomicBool::new(false),
            #[cfg(test)]
            objects: None,
        }
    }

    /// How long the scan was given, for messages.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Whether the scan must stop; once true, always true.
    pub(crate) fn passed(&self) -> bool {
        if self.passed.load(Relaxed) {
            return true;
        }
        #[cfg(test)]
        if let Some(left) = &self.objects {
            let none_left = left
                .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
                .is_err();
            if none_left {
                self.passed.store(true, Relaxed);
            }
            return none_left;
        }
        let passed = Instant::now() >= self.at;
        if passed {
            self.passed.store(true, Relaxed);
        }
        passed
    }

    /// A deadline that passes after `n` objects (unit tests only).
    #[cfg(test)]
    pub(crate) fn after_objects(n: u64) -> Deadline {
        Deadline {
            objects: Some(std::sync::atomic::AtomicU64::new(n)),
            ..Deadline::after(Duration::from_secs(3600))
        }
    }
}

/// A boxed cause, kept as the `source` of the error that wraps it.
pub(crate) type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why a history scan could not run at all. Problems with single objects
/// (corrupt, missing) are warnings and counts, not errors.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{}: not a git repository: {reason}\nhint: pass a work tree, a bare repository or a path inside one", path.display())]
    NotARepository { path: PathBuf, reason: String },
    #[error("{}: cannot list references", path.display())]
    References {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    #[error("{}: cannot read the object database at {}", repo.display(), dir.display())]
    ObjectDirectory {
        repo: PathBuf,
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot resolve revision `{rev}` to a commit\nhint: check the name; in a shallow clone the commit may not have been fetched (git fetch --deepen=N or --unshallow)", path.display())]
    Revision {
        path: PathBuf,
        rev: String,
        #[source]
        source: Cause,
    },
    #[error("{}: cannot list what is staged: {reason}\nhint: --staged needs a work tree with git installed", path.display())]
    Index { path: PathBuf, reason: String },
    #[error("invalid commit range `{range}`: {reason}\nhint: use BASE..HEAD, or a single REV meaning REV..HEAD")]
    InvalidRange { range: String, reason: String },
    #[error("cannot start {threads} worker threads")]
    Threads {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
}

/// What earlier scans learnt about blobs, so that a blob shared by several
/// repositories (forks, vendored code) or already scanned by an earlier run
/// is detected once. `keysweep org` keeps it on disk.
pub trait BlobMemory: Sync {
    /// The credentials an earlier scan found in blob `id` (empty: it was
    /// clean), or `None` when the blob was never scanned.
    fn recall(&self, id: &gix::oid) -> Option<Vec<Credential>>;
}

/// Blobs a scan detected (not recalled), each with its credentials (often
/// none): what the caller adds to its [`BlobMemory`].
pub(crate) type ScannedBlobs = Vec<(ObjectId, Vec<Credential>)>;

/// A finding in a git blob at `path`, sharing the blob's path and origin
/// with the blob's other findings (build each once per blob: a blob may
/// hold a thousand findings, and a path may be long).
pub(crate) fn blob_finding(
    credential: Credential,
    path: &ReportPath,
    origin: Arc<BlobOrigin>,
) -> Finding {
    Finding::new(
        credential,
        Location {
            repo: None,
            path: path.clone(),
            origin: Origin::Blob(origin),
        },
    )
}

/// Whole histories (or a range) of one or more repositories. With several,
/// a repository that cannot be read is a warning and a count, not the end.
pub(crate) fn scan_repositories(
    repos: &[PathBuf],
    range: Option<&str>,
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
) -> Result<SourceScan, GitError> {
    let several = repos.len() > 1;
    let mut out = SourceScan::default();
    for repo in repos {
        let result = match range {
            Some(r) => scan_range(repo, r, detector, opts, diag),
            None => scan_history(repo, detector, opts, diag),
        };
        match result {
            Ok(mut scan) => {
                if several {
                    let name: std::sync::Arc<str> =
                        std::sync::Arc::from(repo.to_string_lossy().as_ref());
                    for f in &mut scan.findings {
                        f.location.repo = Some(name.clone());
                    }
                }
                out.absorb(scan);
            }
            Err(e) if !several => return Err(e),
            Err(e) => {
                diag.warn(crate::diag::chain(&e));
                out.stats.walk_errors += 1;
            }
        }
    }
    crate::finding::sort_canonical(&mut out.findings);
    Ok(out)
}

/// What the tests of this module's parts share.
#[cfg(test)]
mod testing {
    /// Runs git in `dir` with `home` as its home, no user or system config
    /// and a fixed identity; its output, trimmed.
    pub(crate) fn git(dir: &std::path::Path, home: &std::path::Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}
