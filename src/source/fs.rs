//! The filesystem source: a parallel walk of directory trees (the `ignore`
//! crate, as ripgrep uses it), each regular file read once and handed to the
//! detector.
//!
//! Hidden files are scanned (`.env` and `.aws/credentials` are where keys
//! hide); `.git/` is not (history is `keysweep git`'s job). Bad input never
//! stops the walk: every problem is one warning and one count.

use crate::blob::{read_file, FileRead, ReadLimits};
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::Finding;
use crate::stats::{AtomicStats, Stats};
use ignore::{WalkBuilder, WalkState};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Honour `.gitignore`, `.ignore` and git's exclude files.
    pub respect_ignore: bool,
    pub threads: usize,
    pub limits: ReadLimits,
}

/// What a filesystem scan found.
#[derive(Debug, Default)]
pub struct FsScan {
    pub findings: Vec<Finding>,
    pub stats: Stats,
}

/// Scans every file under `roots`. Paths in findings are relative to the
/// root they were found under (prefixed with the root when there are
/// several roots).
pub fn scan_paths(
    roots: &[PathBuf],
    detector: &Detector,
    opts: &WalkOptions,
    diag: &Diagnostics,
) -> FsScan {
    let stats = AtomicStats::default();
    let findings = Mutex::new(Vec::new());
    let prefix_root = roots.len() > 1;
    for root in roots {
        scan_root(root, prefix_root, detector, opts, diag, &stats, &findings);
    }
    let mut findings = findings.into_inner().unwrap_or_else(|p| p.into_inner());
    findings.sort_by(|a: &Finding, b: &Finding| {
        (&a.path, a.credential.first_position().offset)
            .cmp(&(&b.path, b.credential.first_position().offset))
    });
    FsScan {
        findings,
        stats: stats.snapshot(),
    }
}

fn scan_root(
    root: &Path,
    prefix_root: bool,
    detector: &Detector,
    opts: &WalkOptions,
    diag: &Diagnostics,
    stats: &AtomicStats,
    findings: &Mutex<Vec<Finding>>,
) {
    if let Err(e) = std::fs::symlink_metadata(root) {
        diag.warn(format_args!("{}: {e}", root.display()));
        AtomicStats::bump(&stats.unreadable, 1);
        return;
    }
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .parents(true)
        .ignore(opts.respect_ignore)
        .git_ignore(opts.respect_ignore)
        .git_global(opts.respect_ignore)
        .git_exclude(opts.respect_ignore)
        .require_git(false)
        .follow_links(false)
        .threads(opts.threads)
        .filter_entry(|e| e.file_name() != ".git")
        .build_parallel();
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
            scan_file(path, &shown, detector, opts, diag, stats, &mut flush.local);
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

fn scan_file(
    path: &Path,
    shown: &str,
    detector: &Detector,
    opts: &WalkOptions,
    diag: &Diagnostics,
    stats: &AtomicStats,
    out: &mut Vec<Finding>,
) {
    let result = read_file(path, &opts.limits, &mut |window| {
        let detection = detector.scan_chunk(window.bytes, window.owned.clone(), window.start);
        for note in &detection.incomplete {
            diag.warn(format_args!("{shown}: {note}"));
        }
        stats
            .archive_members
            .fetch_add(detection.archive_members, Relaxed);
        stats
            .suppressed
            .fetch_add(detection.suppressed_inline, Relaxed);
        diag.advance(window.owned.len() as u64);
        out.extend(detection.credentials.into_iter().map(|credential| Finding {
            path: match &credential.member {
                Some(m) => format!("{shown}!{m}"),
                None => shown.to_string(),
            },
            credential,
            repo: None,
            blob_id: None,
            provenance: None,
            verification: None,
            recorded_fingerprint: None,
        }));
    });
    match result {
        Ok(FileRead::Scanned { bytes }) => {
            AtomicStats::bump(&stats.files, 1);
            AtomicStats::bump(&stats.bytes, bytes);
        }
        Ok(FileRead::TooLarge { size }) => {
            diag.warn(format_args!(
                "{shown}: skipped, {size} bytes is over --max-file-size ({} bytes)",
                opts.limits.max_file_size
            ));
            AtomicStats::bump(&stats.skipped_too_large, 1);
        }
        Err(e) => {
            diag.warn(format_args!("{shown}: {e}"));
            AtomicStats::bump(&stats.unreadable, 1);
        }
    }
}

/// The path as reported: relative to the scanned root, `/`-separated, lossy
/// for names that are not UTF-8.
fn display_path(root: &Path, path: &Path, prefix_root: bool) -> String {
    let rel = match path.strip_prefix(root) {
        Ok(r) if !r.as_os_str().is_empty() => r,
        // The root itself is a file: report it as given.
        _ => return path.to_string_lossy().into_owned(),
    };
    let rel = rel
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/");
    if prefix_root {
        format!("{}/{rel}", root.to_string_lossy().trim_end_matches('/'))
    } else {
        rel
    }
}
