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
//!   the cost, so it is computed only for the few blobs that had findings:
//!   [`provenance`] walks the commit graph oldest first and reads each unique
//!   tree at most once. Commits no ref reaches (reflog-only, `reset --hard`,
//!   force-pushed) are searched too, after the reachable ones, so a blob
//!   they hold still gets a commit and a path (marked `unreachable`).
//! - Ranges (`--since`, CI pushes, pre-push) diff each commit against its
//!   parents, merges included, and report only credentials the previous
//!   version of the same path did not already hold, so an old leak is not
//!   reported again on every push of that file.
//!
//! Nothing here runs git hooks, filters, textconv or fsmonitor from the
//! scanned repository: everything is read with gix, in process.

mod diff;
mod odb;
mod provenance;
mod range;
mod treefilter;

use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::{Credential, Finding, Provenance};
use crate::stats::{AtomicStats, Stats};
use std::path::{Path, PathBuf};

pub use gix::ObjectId;
pub use range::{scan_commits, scan_range};

/// How a history scan behaves.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    /// Drop findings in blobs that no ref reaches (dangling objects).
    pub reachable_only: bool,
    /// Worker threads for decoding and scanning (at least 1 is used).
    pub threads: usize,
    /// Blobs larger than this many bytes are counted and named, not scanned.
    pub max_blob_size: u64,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            reachable_only: false,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_blob_size: 100 * 1024 * 1024,
        }
    }
}

/// What a history scan found, and what it did.
///
/// Each finding has `blob_id` and `provenance`. `path` is the blob's path in
/// the commit that introduced it; a blob that no commit holds (staged, then
/// dropped) or whose trees cannot be read has no path, and its `path` is its
/// blob id.
#[derive(Debug, Clone, Default)]
pub struct HistoryScan {
    pub findings: Vec<Finding>,
    pub stats: Stats,
}

/// Why a history scan could not run at all. Problems with single objects
/// (corrupt, missing) are warnings and counts, not errors.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{}: not a git repository: {reason}\nhint: pass a work tree, a bare repository or a path inside one", path.display())]
    NotARepository { path: PathBuf, reason: String },
    #[error("{}: cannot list references: {reason}", path.display())]
    References { path: PathBuf, reason: String },
    #[error("{}: cannot read the object database at {}: {source}", repo.display(), dir.display())]
    ObjectDirectory {
        repo: PathBuf,
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot resolve revision `{rev}` to a commit: {reason}\nhint: check the name; in a shallow clone the commit may not have been fetched (git fetch --deepen=N or --unshallow)", path.display())]
    Revision {
        path: PathBuf,
        rev: String,
        reason: String,
    },
    #[error("invalid commit range `{range}`: {reason}\nhint: use BASE..HEAD, or a single REV meaning REV..HEAD")]
    InvalidRange { range: String, reason: String },
    #[error("{}: cannot walk the commits of `{what}`: {reason}", path.display())]
    Walk {
        path: PathBuf,
        what: String,
        reason: String,
    },
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads { threads: usize, reason: String },
}

/// An opened repository and the path the user named it by (for messages).
pub(crate) struct Repo {
    pub(crate) repo: gix::Repository,
    pub(crate) path: PathBuf,
}

/// Opens a work tree, a bare repository or a path inside one.
pub(crate) fn open(path: &Path) -> Result<Repo, GitError> {
    let repo = gix::discover(path).map_err(|e| GitError::NotARepository {
        path: path.to_path_buf(),
        reason: reason(&e),
    })?;
    Ok(Repo {
        repo,
        path: path.to_path_buf(),
    })
}

/// Says plainly that a shallow clone lacks history, naming the boundary.
pub(crate) fn warn_if_shallow(r: &Repo, diag: &Diagnostics) -> Vec<ObjectId> {
    let boundary: Vec<ObjectId> = match r.repo.shallow_commits() {
        Ok(Some(commits)) => commits.iter().copied().collect(),
        Ok(None) => Vec::new(),
        Err(e) => {
            diag.warn(format_args!(
                "{}: cannot read the shallow file, history may be incomplete: {e}",
                r.path.display()
            ));
            Vec::new()
        }
    };
    if !boundary.is_empty() {
        let names: Vec<String> = boundary.iter().map(|id| id.to_string()).collect();
        diag.warn(format_args!(
            "{}: shallow clone, history is incomplete: nothing before commit(s) {} was fetched, so older leaks cannot be found (git fetch --unshallow)",
            r.path.display(),
            names.join(", ")
        ));
    }
    boundary
}

/// The commits at which a shallow clone's history stops, as full hex ids;
/// empty for a complete clone. Callers (CI, pre-push) use it to refuse or
/// qualify a result that cannot see the whole history.
pub fn shallow_boundary(repo: &Path) -> Result<Vec<String>, GitError> {
    let r = open(repo)?;
    let commits = r
        .repo
        .shallow_commits()
        .map_err(|e| GitError::NotARepository {
            path: repo.to_path_buf(),
            reason: format!("cannot read the shallow file: {}", reason(&e)),
        })?;
    Ok(commits.map_or_else(Vec::new, |c| c.iter().map(|id| id.to_string()).collect()))
}

/// Submodule content lives in other repositories: say so, naming them, so
/// nobody takes a clean result for the submodules too.
pub(crate) fn warn_about_submodules(paths: &[String], r: &Repo, diag: &Diagnostics) {
    if !paths.is_empty() {
        diag.warn(format_args!(
            "{}: submodule content is not scanned (scan those repositories separately): {}",
            r.path.display(),
            paths.join(", ")
        ));
    }
}

/// git's "no object": 40 zeros, or 64 in SHA-256 repositories (sent for a
/// new or deleted ref by pre-push and by CI events).
pub fn is_zero_oid(oid: &str) -> bool {
    (oid.len() == 40 || oid.len() == 64) && oid.bytes().all(|b| b == b'0')
}

/// Scans every blob in the repository's object database once: all
/// branches, tags, remotes, stashes, notes and unreachable objects.
pub fn scan_history(
    repo: &Path,
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
) -> Result<HistoryScan, GitError> {
    scan_history_inner(repo, detector, opts, diag, None).map(|(scan, _)| scan)
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
pub type ScannedBlobs = Vec<(ObjectId, Vec<Credential>)>;

/// [`scan_history`] with a memory of blobs scanned before: a recalled blob
/// is not detected again (it counts in `stats.blobs_already_scanned`, not in
/// `stats.blobs`), but its credentials still become findings, with the
/// provenance they have in this repository. Also returns the blobs this
/// scan did detect, for the memory.
pub fn scan_history_with_memory(
    repo: &Path,
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
    memory: &dyn BlobMemory,
) -> Result<(HistoryScan, ScannedBlobs), GitError> {
    scan_history_inner(repo, detector, opts, diag, Some(memory))
}

fn scan_history_inner(
    repo: &Path,
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
    memory: Option<&dyn BlobMemory>,
) -> Result<(HistoryScan, ScannedBlobs), GitError> {
    let started = std::time::Instant::now();
    let r = open(repo)?;
    let shallow = warn_if_shallow(&r, diag);
    let counters = AtomicStats::default();

    diag.set_message("reading git objects");
    let mut scanned = odb::scan_all_blobs(&r, detector, opts, diag, &counters, memory)?;
    let fresh = std::mem::take(&mut scanned.fresh);

    // Provenance only for blobs that matter: those with findings, and those
    // too large to scan (so the warning can name a path).
    let mut targets: Vec<ObjectId> = scanned.hits.iter().map(|h| h.id).collect();
    targets.extend(scanned.too_large.iter().map(|(id, _)| *id));
    if !targets.is_empty() {
        diag.set_message("finding the commits that introduced them");
    }
    let attribution = provenance::attribute(
        &r,
        &targets,
        &scanned.commits,
        &scanned.packed_trees,
        &scanned.corrupt,
        &shallow,
        opts.threads,
        diag,
        &counters,
    )?;
    warn_about_submodules(&attribution.gitlinks, &r, diag);

    for (id, size) in &scanned.too_large {
        let place = match attribution.origins.get(id) {
            Some(o) => match (&o.path, o.commit) {
                (Some(p), Some(c)) => format!(" ({p} in commit {c})"),
                _ => " (unreachable)".to_string(),
            },
            None => String::new(),
        };
        diag.warn(format_args!(
            "{}: blob {id}{place} is {size} bytes, over the {}-byte limit: not scanned",
            r.path.display(),
            opts.max_blob_size
        ));
    }

    let mut findings = Vec::new();
    for hit in scanned.hits {
        let origin = attribution
            .origins
            .get(&hit.id)
            .cloned()
            .unwrap_or_default();
        if opts.reachable_only && origin.unreachable {
            continue;
        }
        let path = origin.path.clone().unwrap_or_else(|| hit.id.to_string());
        let prov = origin.to_provenance();
        findings.extend(
            hit.credentials
                .into_iter()
                .map(|c| make_finding(c, &path, hit.id, prov.clone())),
        );
    }
    sort_findings(&mut findings);

    let mut stats = counters.snapshot();
    stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok((HistoryScan { findings, stats }, fresh))
}

/// Everything provenance found out about one blob.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin {
    pub(crate) commit: Option<ObjectId>,
    pub(crate) path: Option<String>,
    pub(crate) author: Option<String>,
    pub(crate) date: Option<String>,
    pub(crate) still_at_head: bool,
    pub(crate) refs: Vec<String>,
    pub(crate) unreachable: bool,
}

impl Origin {
    pub(crate) fn to_provenance(&self) -> Provenance {
        Provenance {
            commit: self.commit.map(|c| c.to_string()),
            author: self.author.clone(),
            date: self.date.clone(),
            still_at_head: self.still_at_head,
            refs: self.refs.clone(),
            unreachable: self.unreachable,
        }
    }
}

pub(crate) fn make_finding(
    credential: Credential,
    path: &str,
    blob: ObjectId,
    provenance: Provenance,
) -> Finding {
    let path = match &credential.member {
        Some(member) => format!("{path}!{member}"),
        None => path.to_string(),
    };
    Finding {
        credential,
        path,
        repo: None,
        blob_id: Some(blob.to_string()),
        provenance: Some(provenance),
        verification: None,
        recorded_fingerprint: None,
    }
}

/// Findings come out of parallel workers in no particular order; reports
/// and tests want the same order on every run.
pub(crate) fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (
            a.path.as_str(),
            a.commit(),
            a.credential.first_position(),
            a.blob_id.as_deref(),
        )
            .cmp(&(
                b.path.as_str(),
                b.commit(),
                b.credential.first_position(),
                b.blob_id.as_deref(),
            ))
    });
}

/// `Name <email>` and the RFC 3339 author date of a commit.
pub(crate) fn author_of(
    repo: &gix::Repository,
    commit: ObjectId,
) -> (Option<String>, Option<String>) {
    use gix::objs::FindExt;
    let mut buf = Vec::new();
    let Ok(c) = repo.objects.find_commit(&commit, &mut buf) else {
        return (None, None);
    };
    let Ok(sig) = c.author() else {
        return (None, None);
    };
    let who = format!("{} <{}>", sig.name, sig.email);
    let date = sig
        .time()
        .ok()
        .and_then(|t| t.format(gix::date::time::format::ISO8601_STRICT).ok());
    (Some(who), date)
}

/// A gix error with its causes, on one line.
pub(crate) fn reason(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = cause.source();
    }
    s
}

/// A rayon pool of `threads` workers, for work gix does not parallelise.
pub(crate) fn pool(threads: usize) -> Result<rayon::ThreadPool, GitError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| GitError::Threads {
            threads,
            reason: e.to_string(),
        })
}
