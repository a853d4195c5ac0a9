//! What each cloned repository looked like when it was last scanned, so
//! that a rescan of a repository nothing was fetched into reads nothing.
//!
//! Why: with the blob memory, a warm rerun scans no blob, but it still
//! decoded every pack object to learn which blobs there are (36 s for five
//! large repositories). A repository whose refs, packs and loose objects
//! are exactly as at its last scan gives exactly the same findings, so
//! those are kept (`state/repos/<hash of the name>.json`, secrets
//! included, 0600) and reported again without opening the repository.
//!
//! The fingerprint covers every file that decides a history scan's result:
//! `HEAD`, `packed-refs` and every loose ref (contents), every pack and
//! loose object (name, size, modification time; a repack or a `gc`
//! changes them), the alternates, and what the scan was asked (rules
//! version, `--reachable-only`, size limits). Anything else changed, or a
//! damaged or foreign file, means the repository is scanned, decoding only
//! the packs that have no note ([`super::packs`]) and the loose objects.

use crate::atomic_file::{self, Access};
use crate::detect::RULES_VERSION;
use crate::diag::Diagnostics;
use crate::finding::hex;
use crate::report::{self, Format, Report, Style};
use crate::source::git::HistoryOptions;
use crate::source::SourceScan;
use crate::term::Medium;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Shape of a memory file; bumped when it changes.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Remembered {
    v: u32,
    repo: String,
    fingerprint: String,
    /// The repository's findings and stats as a JSON report (format 2),
    /// secrets shown.
    report: String,
}

fn memory_path(cache_dir: &Path, repo: &str) -> PathBuf {
    let digest = hex(&Sha256::digest(repo.as_bytes()));
    cache_dir
        .join("state")
        .join("repos")
        .join(format!("{}.json", &digest[..24]))
}

/// The fingerprint of the git directory `git_dir` for a scan with `opts`.
pub fn fingerprint(git_dir: &Path, opts: &HistoryOptions) -> std::io::Result<String> {
    let mut h = Sha256::new();
    h.update(
        format!(
            "keysweep {} rules {RULES_VERSION} reachable_only {} limits {:?}\n",
            env!("CARGO_PKG_VERSION"),
            opts.reachable_only,
            opts.limits
        )
        .as_bytes(),
    );
    for file in ["HEAD", "packed-refs", "objects/info/alternates"] {
        h.update(file.as_bytes());
        match std::fs::read(git_dir.join(file)) {
            Ok(bytes) => h.update(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => h.update(b"-"),
            Err(e) => return Err(e),
        }
    }
    walk(&git_dir.join("refs"), &mut h, true)?;
    walk(&git_dir.join("objects"), &mut h, false)?;
    Ok(hex(&h.finalize()))
}

/// Adds every file under `dir` (sorted) to `h`: its path and either its
/// contents (refs) or its size and modification time (objects).
fn walk(dir: &Path, h: &mut Sha256, contents: bool) -> std::io::Result<()> {
    let mut entries: Vec<std::fs::DirEntry> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.collect::<Result<_, _>>()?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path)?;
        h.update(path.as_os_str().as_encoded_bytes());
        h.update(b"\0");
        if meta.is_dir() {
            walk(&path, h, contents)?;
        } else if contents {
            h.update(&std::fs::read(&path)?);
        } else {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            h.update(format!("{} {mtime}\n", meta.len()).as_bytes());
        }
    }
    Ok(())
}

/// The findings and stats of `repo`'s last scan, when its fingerprint was
/// `fp`. A missing file is `None`; a damaged one too, with a warning.
pub(crate) fn recall(
    cache_dir: &Path,
    repo: &str,
    fp: &str,
    diag: &Diagnostics,
) -> Option<SourceScan> {
    let path = memory_path(cache_dir, repo);
    let bytes = match crate::settings::config::read_own_file(&path, 1 << 30) {
        Ok(b) => b,
        Err(_) if !path.exists() => return None,
        Err(e) => {
            diag.warn(format_args!(
                "{}: cannot read ({e}); the repository is scanned again",
                path.display()
            ));
            return None;
        }
    };
    let damaged = |why: &str| {
        diag.warn(format_args!(
            "{}: damaged ({why}); the repository is scanned again",
            path.display()
        ));
    };
    let Some(r) = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| serde_json::from_str::<Remembered>(t).ok())
    else {
        damaged("not a memory file");
        return None;
    };
    if r.v != FORMAT || r.repo != repo {
        damaged("another format or repository");
        return None;
    }
    if r.fingerprint != fp {
        return None;
    }
    match report::json::read_report(&r.report) {
        Ok((mut findings, stats)) => {
            // The secrets were kept whole: fingerprints are computed again
            // once the caller sets the repository.
            for f in &mut findings {
                f.recorded_fingerprint = None;
            }
            Some(SourceScan { findings, stats })
        }
        Err(e) => {
            damaged(&e.to_string());
            None
        }
    }
}

/// Keeps `scan` as `repo`'s last scan at fingerprint `fp`: written beside,
/// synced, renamed over, mode 0600.
pub(crate) fn remember(
    cache_dir: &Path,
    repo: &str,
    fp: &str,
    scan: &SourceScan,
) -> std::io::Result<()> {
    let path = memory_path(cache_dir, repo);
    let dir = path.parent().unwrap_or(cache_dir);
    super::clone::create_private_dir(dir)?;
    let style = Style {
        show_secrets: true,
        color: false,
        medium: Medium::Terminal,
        today: None,
    };
    let report = report::render(
        Format::Json,
        &Report {
            findings: &scan.findings,
            stats: &scan.stats,
            options: "",
        },
        &style,
    )?;
    let record = Remembered {
        v: FORMAT,
        repo: repo.to_string(),
        fingerprint: fp.to_string(),
        report: String::from_utf8(report).map_err(std::io::Error::other)?,
    };
    let bytes = serde_json::to_vec(&record)?;
    atomic_file::replace(&path, &bytes, Access::Private)
}
