//! The filesystem source: a parallel walk of directory trees (the `ignore`
//! crate, as ripgrep uses it), each regular file read once and handed to the
//! detector.
//!
//! Hidden files are scanned (`.env` and `.aws/credentials` are where keys
//! hide); `.git/` is not (history is `keysweep git`'s job). Bad input never
//! stops the walk: every problem is one warning and one count.
//!
//! The walker matches each file against the ignore files of every directory
//! above it, so 2,000 nested directories that each hold a `.gitignore` cost
//! 2,000 matches per file. A walk therefore stops [`IGNORE_LEVELS`] levels
//! down and goes on from there as a new walk: a file is matched against the
//! ignore files of at most that many directories above it (and the root's
//! parents, as git does), never more. Below the first restart, `.gitignore`
//! and `.ignore` files apply; the global ignore file and
//! `.git/info/exclude` do not (finding them means checking every directory
//! up to `/` again).

use super::SourceScan;
use crate::blob::{BlobScanner, ReadLimits, Scanned};
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::{sort_canonical, Finding, Location, Origin, ReportPath};
use crate::stats::AtomicStats;
use ignore::{WalkBuilder, WalkState};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Levels of directories whose ignore files apply to a file (see the
/// module docs). Real trees are rarely a tenth as deep.
pub const IGNORE_LEVELS: usize = 64;

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Honour `.gitignore`, `.ignore` and git's exclude files.
    pub respect_ignore: bool,
    pub threads: usize,
    pub limits: ReadLimits,
}

/// Scans every file under `roots`. Paths in findings are relative to the
/// root they were found under (prefixed with the root when there are
/// several roots).
pub fn scan_paths(
    roots: &[PathBuf],
    detector: &Detector,
    opts: &WalkOptions,
    diag: &Diagnostics,
) -> SourceScan {
    let stats = AtomicStats::default();
    let findings = Mutex::new(Vec::new());
    let prefix_root = roots.len() > 1;
    let scanner = BlobScanner {
        detector,
        limits: opts.limits,
        counters: &stats,
        diag,
    };
    for root in roots {
        scan_root(root, prefix_root, &scanner, opts, &findings);
    }
    let mut findings = findings.into_inner().unwrap_or_else(|p| p.into_inner());
    sort_canonical(&mut findings);
    SourceScan {
        findings,
        stats: stats.snapshot(),
    }
}

fn scan_root(
    root: &Path,
    prefix_root: bool,
    scanner: &BlobScanner<'_>,
    opts: &WalkOptions,
    findings: &Mutex<Vec<Finding>>,
) {
    let (diag, stats) = (scanner.diag, scanner.counters);
    if let Err(e) = std::fs::symlink_metadata(root) {
        diag.warn(format_args!("{}: {e}", root.display()));
        AtomicStats::bump(&stats.unreadable, 1);
        return;
    }
    // Directories where a walk stopped, to walk next (see the module docs).
    let deeper = Mutex::new(Vec::new());
    walk(
        root,
        root,
        true,
        prefix_root,
        scanner,
        opts,
        findings,
        &deeper,
    );
    let mut restarted = false;
    loop {
        let next = std::mem::take(&mut *deeper.lock().unwrap_or_else(|p| p.into_inner()));
        if next.is_empty() {
            break;
        }
        restarted = true;
        for dir in next {
            walk(
                &dir,
                root,
                false,
                prefix_root,
                scanner,
                opts,
                findings,
                &deeper,
            );
        }
    }
    if restarted {
        diag.warn(format_args!(
            "{}: directories are nested more than {IGNORE_LEVELS} levels deep; ignore files more than {IGNORE_LEVELS} levels above a file are not applied to it (it is scanned)",
            root.display()
        ));
    }
}

/// Walks `start` (the scan root, or a directory a walk stopped at), naming
/// files relative to `root`. With `parents`, the ignore files above
/// `start` apply too (only for the scan root).
#[expect(
    clippy::too_many_arguments,
    reason = "one caller, the walk's whole context"
)]
fn walk(
    start: &Path,
    root: &Path,
    parents: bool,
    prefix_root: bool,
    scanner: &BlobScanner<'_>,
    opts: &WalkOptions,
    findings: &Mutex<Vec<Finding>>,
    deeper: &Mutex<Vec<PathBuf>>,
) {
    let (diag, stats) = (scanner.diag, scanner.counters);
    let mut builder = WalkBuilder::new(start);
    builder
        .hidden(false)
        .parents(parents)
        .ignore(opts.respect_ignore)
        .git_ignore(opts.respect_ignore)
        .git_global(opts.respect_ignore)
        .git_exclude(opts.respect_ignore)
        .require_git(false)
        .follow_links(false)
        .threads(opts.threads)
        .filter_entry(|e| e.file_name() != ".git");
    if !parents && opts.respect_ignore {
        // A walk that goes on deep down: git's rules look for the
        // repository above it, checking every directory up to `/` (each
        // check resolving a path that deep). `.gitignore` files are read
        // as plain ignore files instead, with the same syntax.
        builder
            .git_ignore(false)
            .git_global(false)
            .git_exclude(false)
            .add_custom_ignore_filename(".gitignore");
    }
    let walker = builder.build_parallel();
    walker.run(|| {
        let mut flush = FlushOnDrop {
            into: findings,
            local: Vec::new(),
        };
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    diag.warn(&err);
                    AtomicStats::bump(&stats.walk_errors, 1);
                    return WalkState::Continue;
                }
            };
            let path = entry.path();
            let Some(file_type) = entry.file_type() else {
                return WalkState::Continue; // stdin, never here
            };
            if file_type.is_dir() {
                if opts.respect_ignore && entry.depth() >= IGNORE_LEVELS {
                    deeper
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(path.to_path_buf());
                    return WalkState::Skip;
                }
                return WalkState::Continue;
            }
            if file_type.is_symlink() {
                // Scan what a link to a file holds; never follow links to
                // directories (loops) and report dangling ones.
                match std::fs::metadata(path) {
                    Ok(m) if m.is_file() => {}
                    Ok(_) => return WalkState::Continue,
                    Err(e) => {
                        diag.warn(format_args!(
                            "{}: broken symbolic link: {e}",
                            path.display()
                        ));
                        AtomicStats::bump(&stats.unreadable, 1);
                        return WalkState::Continue;
                    }
                }
            } else if !file_type.is_file() {
                diag.warn(format_args!(
                    "{}: not a regular file (FIFO, socket or device), skipped",
                    path.display()
                ));
                AtomicStats::bump(&stats.skipped_special, 1);
                return WalkState::Continue;
            }
            let shown = display_path(root, path, prefix_root);
            scan_file(path, shown, scanner, &mut flush.local);
            WalkState::Continue
        })
    });
}

/// Hands a worker's findings over when the walker drops it.
struct FlushOnDrop<'a> {
    into: &'a Mutex<Vec<Finding>>,
    local: Vec<Finding>,
}

impl Drop for FlushOnDrop<'_> {
    fn drop(&mut self) {
        let mut all = self.into.lock().unwrap_or_else(|p| p.into_inner());
        all.append(&mut self.local);
    }
}

fn scan_file(path: &Path, shown: ReportPath, scanner: &BlobScanner<'_>, out: &mut Vec<Finding>) {
    let (diag, stats) = (scanner.diag, scanner.counters);
    match scanner.scan_file(path, &shown) {
        Ok(Scanned::Clean) => {}
        Ok(Scanned::Found(credentials)) => {
            out.extend(credentials.into_iter().map(|credential| {
                Finding::new(
                    credential,
                    Location {
                        repo: None,
                        path: shown.clone(),
                        origin: Origin::File,
                    },
                )
            }));
        }
        Ok(Scanned::TooLarge(size)) => {
            diag.warn(format_args!(
                "{shown}: skipped, {size} bytes is over --max-file-size ({} bytes)",
                scanner.limits.max_file_size
            ));
        }
        Err(e) => {
            diag.warn(format_args!("{shown}: {e}"));
            AtomicStats::bump(&stats.unreadable, 1);
        }
    }
}

/// The path as reported: relative to the scanned root (prefixed with the
/// root when several were given), `/`-separated; a name that is not UTF-8
/// keeps its bytes (see [`ReportPath`]).
fn display_path(root: &Path, path: &Path, prefix_root: bool) -> ReportPath {
    let rel = match path.strip_prefix(root) {
        Ok(r) if !r.as_os_str().is_empty() => r,
        // The root itself is a file: report it as given.
        _ => return ReportPath::from_bytes(&os_bytes(path.as_os_str())),
    };
    let mut bytes = Vec::new();
    if prefix_root {
        let root = os_bytes(root.as_os_str());
        let trimmed = root.strip_suffix(b"/").unwrap_or(&root);
        bytes.extend_from_slice(trimmed);
        bytes.push(b'/');
    }
    for (i, part) in rel.components().enumerate() {
        if i > 0 {
            bytes.push(b'/');
        }
        bytes.extend_from_slice(&os_bytes(part.as_os_str()));
    }
    ReportPath::from_bytes(&bytes)
}

/// The bytes of a file name (on Unix, exactly the name's bytes).
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        s.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        s.to_string_lossy().into_owned().into_bytes()
    }
}
