//! The filesystem source: a parallel walk of directory trees (the `ignore`
//! crate, as ripgrep uses it), each regular file read once and handed to the
//! detector.
//!
//! Hidden files are scanned (`.env` and `.aws/credentials` are where keys
//! hide); `.git/` is not (history is `keysweep git`'s job). Bad input never
//! stops the walk: every problem is one warning and one count.
//!
//! The tree is untrusted (docs/security.md, "The scanned tree"):
//! - ignore rules come from git alone, asked which *untracked* paths it
//!   ignores: a tracked file is always scanned, whatever `.gitignore` says,
//!   and `.ignore`/`.rgignore` files (which git never reads) hide nothing;
//!   outside a git work tree no ignore rules apply;
//! - a symbolic link is followed only when its target lies inside a scanned
//!   root: a link to `~/.aws/credentials` or `/proc/self/environ` would
//!   otherwise report the scanning machine's own secrets. Paths named on
//!   the command line are read as given.

use super::SourceScan;
use crate::blob::{BlobScanner, ReadLimits, Scanned};
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::{sort_canonical, Finding, Location, Origin, ReportPath};
use crate::gitcli::Git;
use crate::stats::AtomicStats;
use ignore::{WalkBuilder, WalkState};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Skip the untracked paths git ignores (`.gitignore`, `info/exclude`,
    /// the global excludes file).
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
    // Where links may lead: inside any root (resolved, as link targets are).
    let inside: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .collect();
    for root in roots {
        scan_root(root, prefix_root, &inside, &scanner, opts, &findings);
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
    inside: &[PathBuf],
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
    let ignored = if opts.respect_ignore && root.is_dir() {
        git_ignored(root, diag)
    } else {
        HashSet::new()
    };
    let ignored = Arc::new(ignored);
    let skipped_ignored = Arc::new(AtomicU64::new(0));
    let walker = {
        let (root, ignored, skipped) =
            (root.to_path_buf(), ignored.clone(), skipped_ignored.clone());
        WalkBuilder::new(&root)
            .standard_filters(false)
            .follow_links(false)
            .threads(opts.threads)
            .filter_entry(move |e| {
                if e.file_name() == ".git" {
                    return false;
                }
                if ignored.is_empty() || e.depth() == 0 {
                    return true;
                }
                let keep = !ignored.contains(&relative_bytes(&root, e.path()));
                if !keep {
                    skipped.fetch_add(1, Relaxed);
                }
                keep
            })
            .build_parallel()
    };
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
                return WalkState::Continue;
            }
            let shown = display_path(root, path, prefix_root);
            let mut read_from = path.to_path_buf();
            if file_type.is_symlink() && entry.depth() > 0 {
                // Scan what a link to a file holds when it stays inside the
                // scanned roots; never follow links to directories (loops).
                let target = match std::fs::canonicalize(path) {
                    Ok(t) => t,
                    Err(e) => {
                        diag.warn(format_args!("{shown}: broken symbolic link: {e}"));
                        AtomicStats::bump(&stats.unreadable, 1);
                        return WalkState::Continue;
                    }
                };
                if !inside.iter().any(|r| target.starts_with(r)) {
                    diag.warn(format_args!(
                        "{shown}: symbolic link out of the scanned tree, not followed"
                    ));
                    AtomicStats::bump(&stats.skipped_links_outside, 1);
                    return WalkState::Continue;
                }
                match std::fs::metadata(&target) {
                    Ok(m) if m.is_file() => read_from = target,
                    Ok(m) if m.is_dir() => return WalkState::Continue,
                    Ok(_) => {
                        diag.warn(format_args!(
                            "{shown}: link to something not a regular file (FIFO, socket or device), skipped"
                        ));
                        AtomicStats::bump(&stats.skipped_special, 1);
                        return WalkState::Continue;
                    }
                    Err(e) => {
                        diag.warn(format_args!("{shown}: {e}"));
                        AtomicStats::bump(&stats.unreadable, 1);
                        return WalkState::Continue;
                    }
                }
            } else if !file_type.is_file() && !file_type.is_symlink() && entry.depth() > 0 {
                diag.warn(format_args!(
                    "{shown}: not a regular file (FIFO, socket or device), skipped"
                ));
                AtomicStats::bump(&stats.skipped_special, 1);
                return WalkState::Continue;
            }
            // A path named on the command line is read if it can be (a
            // FIFO as a stream) and is a problem if it cannot: it was asked
            // for, so skipping it would leave "everything was scanned" untrue.
            let given = entry.depth() == 0;
            scan_file(&read_from, given, shown, scanner, &mut flush.local);
            WalkState::Continue
        })
    });
    AtomicStats::bump(&stats.skipped_ignored, skipped_ignored.load(Relaxed));
}

/// The untracked paths under `root` that git ignores, relative to `root`
/// (a whole ignored directory is one entry, without its trailing `/`).
/// Empty outside a git work tree; when git cannot answer, a warning and
/// nothing ignored (scanning too much is the safe side).
fn git_ignored(root: &Path, diag: &Diagnostics) -> HashSet<Vec<u8>> {
    let listing = Git::new(Some(root), "ls-files")
        .discovering()
        .args([
            "ls-files",
            "-z",
            "--others",
            "--ignored",
            "--exclude-standard",
            "--directory",
        ])
        .timeout(Duration::from_secs(120))
        .output();
    match listing {
        Ok(out) => out
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| p.strip_suffix(b"/").unwrap_or(p).to_vec())
            .collect(),
        Err(crate::gitcli::GitCliError::Failed { message, .. })
            if message.contains("not a git repository") =>
        {
            HashSet::new()
        }
        Err(e) => {
            diag.warn(format_args!(
                "{}: cannot ask git which files it ignores ({e}); scanning every file",
                root.display()
            ));
            HashSet::new()
        }
    }
}

/// `path` relative to `root`, as `/`-separated bytes (git's form).
fn relative_bytes(root: &Path, path: &Path) -> Vec<u8> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut bytes = Vec::new();
    for (i, part) in rel.components().enumerate() {
        if i > 0 {
            bytes.push(b'/');
        }
        bytes.extend_from_slice(&os_bytes(part.as_os_str()));
    }
    bytes
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

fn scan_file(
    path: &Path,
    given: bool,
    shown: ReportPath,
    scanner: &BlobScanner<'_>,
    out: &mut Vec<Finding>,
) {
    let (diag, stats) = (scanner.diag, scanner.counters);
    match scanner.scan_file(path, given, &shown) {
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
    if !matches!(path.strip_prefix(root), Ok(r) if !r.as_os_str().is_empty()) {
        // The root itself is a file: report it as given.
        return ReportPath::from_bytes(&os_bytes(path.as_os_str()));
    }
    let mut bytes = Vec::new();
    if prefix_root {
        let root = os_bytes(root.as_os_str());
        let trimmed = root.strip_suffix(b"/").unwrap_or(&root);
        bytes.extend_from_slice(trimmed);
        bytes.push(b'/');
    }
    bytes.extend_from_slice(&relative_bytes(root, path));
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
