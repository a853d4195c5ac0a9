//! The full-history scan: every blob in the object database once
//! ([`super::odb`]), then attribution for the few that had findings
//! ([`super::attribution`]), then findings with their origins.

use super::attribution::{attribute, Known};
use super::notes::{PackMemory, PackNote};
use super::repo::{open, warn_about_submodules, warn_if_shallow};
use super::{blob_finding, BlobMemory, Deadline, GitError, HistoryOptions, ScannedBlobs};
use crate::blob::BlobScanner;
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::{BlobOrigin, ReportPath};
use crate::source::SourceScan;
use crate::stats::AtomicStats;
use gix::ObjectId;
use std::path::Path;
use std::sync::Arc;

/// Scans every blob in the repository's object database once: all
/// branches, tags, remotes, stashes, notes and unreachable objects.
///
/// Each finding carries its blob's origin. Its path is the blob's path in
/// the commit that introduced it; a blob that no commit holds (staged, then
/// dropped) or whose trees cannot be read has no path, and its path is its
/// blob id.
pub fn scan_history(
    repo: &Path,
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
) -> Result<SourceScan, GitError> {
    scan(repo, detector, opts, diag, None, None, None).map(|s| s.scan)
}

/// What [`scan_history_with_memory`] found and did.
#[derive(Debug)]
pub struct MemoryScan {
    pub scan: SourceScan,
    /// The blobs this scan detected (not recalled), for the memory.
    pub(crate) fresh: ScannedBlobs,
    /// A note of each pack decoded in full, by pack checksum, for the
    /// pack memory.
    pub noted: Vec<(gix::ObjectId, PackNote)>,
    /// The deadline passed before every object was read: `scan` holds what
    /// was found until then, each finding with its blob id for a path and
    /// no commit (provenance needs every commit read).
    pub stopped: bool,
}

/// [`scan_history`] with a memory of blobs scanned before: a recalled blob
/// is not detected again (it counts in `stats.blobs_already_scanned`, not in
/// `stats.blobs`), but its credentials still become findings, with the
/// provenance they have in this repository. Also returns the blobs this
/// scan did detect, for the memory. Stops reading once `deadline` has
/// passed, keeping what it found ([`MemoryScan::stopped`]). A pack that
/// `packs` has a note of is not decoded.
pub fn scan_history_with_memory(
    repo: &Path,
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
    memory: &dyn BlobMemory,
    packs: &dyn PackMemory,
    deadline: &Deadline,
) -> Result<MemoryScan, GitError> {
    scan(
        repo,
        detector,
        opts,
        diag,
        Some(memory),
        Some(packs),
        Some(deadline),
    )
}

fn scan(
    repo: &Path,
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
    memory: Option<&dyn BlobMemory>,
    packs: Option<&dyn PackMemory>,
    deadline: Option<&Deadline>,
) -> Result<MemoryScan, GitError> {
    let started = std::time::Instant::now();
    let r = open(repo)?;
    let shallow = warn_if_shallow(&r, diag);
    let counters = AtomicStats::default();
    let scanner = BlobScanner {
        detector,
        limits: opts.limits,
        counters: &counters,
        diag,
    };

    diag.set_message("reading git objects");
    let mut scanned =
        super::odb::scan_all_blobs(&r, &scanner, opts.threads, memory, packs, deadline)?;
    let fresh = std::mem::take(&mut scanned.fresh);
    let noted = std::mem::take(&mut scanned.noted);
    if scanned.stopped {
        return Ok(MemoryScan {
            scan: stopped_scan(&r.path, scanned, opts, diag, &counters, started),
            fresh,
            noted,
            stopped: true,
        });
    }

    // Provenance only for blobs that matter: those with findings, and those
    // too large to scan (so the warning can name a path).
    let mut targets: Vec<ObjectId> = scanned.hits.iter().map(|h| h.id).collect();
    targets.extend(scanned.too_large.iter().map(|(id, _)| *id));
    if !targets.is_empty() {
        diag.set_message("finding the commits that introduced them");
    }
    let known = Known {
        commits: &scanned.commits,
        packed_trees: &scanned.packed_trees,
        corrupt: &scanned.corrupt,
        shallow: &shallow,
    };
    let attribution = attribute(&r, &targets, &known, opts.threads, diag, &counters)?;
    warn_about_submodules(&attribution.gitlinks, &r, diag);

    for (id, size) in &scanned.too_large {
        let place = match attribution.origins.get(id) {
            Some((origin, Some(path))) => match &origin.commit {
                Some(c) => format!(" ({} in commit {})", ReportPath::from_bytes(path), c.id),
                None => String::new(),
            },
            Some((_, None)) => " (unreachable)".to_string(),
            None => String::new(),
        };
        diag.warn(format_args!(
            "{}: blob {id}{place} is {size} bytes, over the {}-byte limit: not scanned",
            r.path.display(),
            opts.limits.max_file_size
        ));
    }

    let mut findings = Vec::new();
    for hit in std::mem::take(&mut scanned.hits) {
        let (origin, path) = match attribution.origins.get(&hit.id) {
            Some((origin, path)) => (origin.clone(), path.clone()),
            None => (
                BlobOrigin {
                    id: hit.id.to_string(),
                    commit: None,
                    still_at_head: false,
                    refs: Default::default(),
                    unreachable: true,
                },
                None,
            ),
        };
        if opts.reachable_only && origin.unreachable {
            continue;
        }
        let path = ReportPath::from_bytes(&path.unwrap_or_else(|| hit.id.to_string().into_bytes()));
        let origin = Arc::new(origin);
        findings.extend(
            hit.credentials
                .into_iter()
                .map(|c| blob_finding(c, &path, origin.clone())),
        );
    }
    Ok(MemoryScan {
        scan: SourceScan::finished(findings, &counters, started),
        fresh,
        noted,
        stopped: false,
    })
}

/// The findings of a scan stopped at its deadline. Provenance is not
/// searched: it needs every commit (those no ref reaches are known only
/// from reading every object) and its own time, which the repository no
/// longer has. Each finding's path is its blob id and its origin has no
/// commit and is not called unreachable (that is not known either), so
/// `--reachable-only` does not drop it.
fn stopped_scan(
    repo: &Path,
    scanned: super::odb::OdbScan,
    opts: &HistoryOptions,
    diag: &Diagnostics,
    counters: &AtomicStats,
    started: std::time::Instant,
) -> SourceScan {
    for (id, size) in &scanned.too_large {
        diag.warn(format_args!(
            "{}: blob {id} is {size} bytes, over the {}-byte limit: not scanned",
            repo.display(),
            opts.limits.max_file_size
        ));
    }
    let mut findings = Vec::new();
    for hit in scanned.hits {
        let id = hit.id.to_string();
        let path = ReportPath::from_bytes(id.as_bytes());
        let origin = Arc::new(BlobOrigin {
            id,
            commit: None,
            still_at_head: false,
            refs: Default::default(),
            unreachable: false,
        });
        findings.extend(
            hit.credentials
                .into_iter()
                .map(|c| blob_finding(c, &path, origin.clone())),
        );
    }
    SourceScan::finished(findings, counters, started)
}
