//! `scan --staged`: what the next commit would record, judged before it is
//! recorded (the pre-commit hook). By the time a pre-push hook sees a key
//! it is in local history, and taking it out is a rewrite.
//!
//! What is judged is the index, not the work tree: a file staged in part
//! (`git add -p`) is judged as staged, and a path is reported by its index
//! path. git lists what the index changes against HEAD (`git diff-index
//! --cached`, which compares the index with HEAD's tree using the index's
//! cached subtree ids, without reading the work tree), and only those blobs
//! are read, through the one blob worker: the cost grows with what is
//! staged, not with the size of the repository.
//!
//! As in range scans (and so in the pre-push hook that will judge the same
//! commit later), a credential the HEAD version of the same path already
//! held is not reported again, and a renamed or copied file is judged at
//! its new path like a new file.

use super::packs::{ObjectReader, Packs};
use super::range::{scan_blobs, Outcome};
use super::repo::{head_commit, open, Repo};
use super::GitError;
use crate::blob::{BlobScanner, ReadLimits, Scanned};
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::ReportPath;
use crate::finding::{Credential, CredentialKey, Finding, Location, Origin};
use crate::gitcli::Git;
use crate::source::SourceScan;
use crate::stats::AtomicStats;
use gix::ObjectId;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What `scan --staged` needs besides the detector.
#[derive(Debug, Clone)]
pub struct StagedOptions {
    /// The index to judge; `None`: the repository's own. A hook gets the
    /// one its commit prepared in `GIT_INDEX_FILE`.
    pub index_file: Option<PathBuf>,
    pub limits: ReadLimits,
    pub threads: usize,
}

/// One path the index changes against HEAD.
#[derive(Debug, PartialEq, Eq)]
struct Staged {
    path: Vec<u8>,
    new: ObjectId,
    /// HEAD's blob at the same path, when it was a file.
    old: Option<ObjectId>,
}

/// What `git diff-index --cached --raw -z` said, sorted out.
#[derive(Debug, Default, PartialEq, Eq)]
struct Listing {
    staged: Vec<Staged>,
    /// Submodule commits staged: their content is in other repositories.
    gitlinks: Vec<Vec<u8>>,
    /// Paths with a merge conflict not yet resolved.
    unmerged: Vec<Vec<u8>>,
}

/// Scans the blobs the index of the repository at `repo` adds or changes
/// against HEAD (against the empty tree before the first commit).
pub fn scan_staged(
    repo: &Path,
    detector: &Detector,
    opts: &StagedOptions,
    diag: &Diagnostics,
) -> Result<SourceScan, GitError> {
    let started = std::time::Instant::now();
    let r = open(repo)?;
    let packs = Packs::open(&r);
    let base = head_commit(&mut ObjectReader::new(&packs, &r.repo))
        .unwrap_or_else(|| r.repo.object_hash().empty_tree())
        .to_string();
    let mut git = Git::new(Some(repo), "diff-index")
        .discovering()
        .args(["diff-index", "--cached", "--raw", "-z", "--no-abbrev"])
        .args(["--no-renames", "--ignore-submodules=none", &base, "--"]);
    if let Some(index) = &opts.index_file {
        git = git.index_file(index);
    }
    let index_error = |reason: String| GitError::Index {
        path: repo.to_path_buf(),
        reason,
    };
    let raw = git
        .output()
        .map_err(|e| index_error(crate::diag::chain(&e)))?;
    let listing = parse_raw(&raw, r.repo.object_hash())
        .map_err(|e| index_error(format!("git diff-index said: {e}")))?;
    super::repo::warn_about_submodules(&listing.gitlinks, &r, diag);
    for path in &listing.unmerged {
        diag.warn(format_args!(
            "{}: {} has a merge conflict and is not scanned until it is resolved and staged",
            r.path.display(),
            ReportPath::from_bytes(path)
        ));
    }

    let counters = AtomicStats::default();
    let scanner = BlobScanner {
        detector,
        limits: opts.limits,
        counters: &counters,
        diag,
    };
    let mut new_blobs: Vec<ObjectId> = listing.staged.iter().map(|s| s.new).collect();
    new_blobs.sort();
    new_blobs.dedup();
    let scanned = scan_blobs(&r, &packs, &new_blobs, &scanner, opts.threads);
    warn_too_large(&r, &listing, &scanned, opts.limits, diag);

    // HEAD's versions, only of paths whose staged version has findings.
    let mut old_blobs: Vec<ObjectId> = listing
        .staged
        .iter()
        .filter(|s| scanned.get(&s.new).and_then(Outcome::credentials).is_some())
        .filter_map(|s| s.old)
        .filter(|o| !scanned.contains_key(o))
        .collect();
    old_blobs.sort();
    old_blobs.dedup();
    let old_scanned = scan_blobs(&r, &packs, &old_blobs, &scanner, opts.threads);

    let mut findings = Vec::new();
    for s in &listing.staged {
        let Some(creds) = scanned.get(&s.new).and_then(Outcome::credentials) else {
            continue;
        };
        let before: HashSet<CredentialKey> = s
            .old
            .and_then(|o| scanned.get(&o).or_else(|| old_scanned.get(&o)))
            .and_then(Outcome::credentials)
            .map(|c| c.iter().map(Credential::key).collect())
            .unwrap_or_default();
        let path = ReportPath::from_bytes(&s.path);
        let origin = Origin::Index(Arc::from(s.new.to_string()));
        for cred in creds.iter().filter(|c| !before.contains(&c.key())) {
            findings.push(Finding::new(
                cred.clone(),
                Location {
                    repo: None,
                    path: path.clone(),
                    origin: origin.clone(),
                },
            ));
        }
    }
    Ok(SourceScan::finished(findings, &counters, started))
}

/// Names every staged blob over the size limit by its path.
fn warn_too_large(
    r: &Repo,
    listing: &Listing,
    scanned: &HashMap<ObjectId, Outcome>,
    limits: ReadLimits,
    diag: &Diagnostics,
) {
    for s in &listing.staged {
        if let Some(Outcome::Scanned(Scanned::TooLarge(size))) = scanned.get(&s.new) {
            diag.warn(format_args!(
                "{}: staged {} is {size} bytes, over the {}-byte limit: not scanned",
                r.path.display(),
                ReportPath::from_bytes(&s.path),
                limits.max_file_size
            ));
        }
    }
}

/// Parses `git diff-index --raw -z --no-abbrev --no-renames` output:
/// `:OLDMODE NEWMODE OLDID NEWID STATUS\0PATH\0` per path.
fn parse_raw(raw: &[u8], hash: gix::hash::Kind) -> Result<Listing, String> {
    let mut listing = Listing::default();
    let mut fields = raw.split(|b| *b == 0);
    while let Some(head) = fields.next() {
        if head.is_empty() {
            continue;
        }
        let path = fields
            .next()
            .filter(|p| !p.is_empty())
            .ok_or("a change without a path")?;
        let text = std::str::from_utf8(head).map_err(|_| "a change line that is not text")?;
        let parts: Vec<&str> = text.strip_prefix(':').unwrap_or(text).split(' ').collect();
        let [old_mode, new_mode, old_id, new_id, status] = parts[..] else {
            return Err(format!("unexpected change line {:?}", text));
        };
        let id = |hex: &str| -> Result<ObjectId, String> {
            ObjectId::from_hex(hex.as_bytes())
                .ok()
                .filter(|id| id.kind() == hash)
                .ok_or_else(|| format!("unexpected object id {hex:?}"))
        };
        let is_file = |mode: &str| matches!(mode, "100644" | "100755" | "120000");
        match status.as_bytes().first() {
            Some(b'U') => listing.unmerged.push(path.to_vec()),
            // Deleted: nothing is added.
            Some(b'D') => {}
            Some(b'A' | b'M' | b'T') if new_mode == "160000" => {
                listing.gitlinks.push(path.to_vec())
            }
            Some(b'A' | b'M' | b'T') if is_file(new_mode) => {
                let old = if is_file(old_mode) {
                    Some(id(old_id)?)
                } else {
                    None
                };
                listing.staged.push(Staged {
                    path: path.to_vec(),
                    new: id(new_id)?,
                    old,
                });
            }
            _ => return Err(format!("unexpected change line {:?}", text)),
        }
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    fn oid(hex: &str) -> ObjectId {
        ObjectId::from_hex(hex.as_bytes()).expect("hex")
    }

    #[test]
    fn raw_listing_is_sorted_out() {
        let raw = format!(
            ":000000 100644 {Z} {A} A\0new file.env\0\
             :100644 100644 {A} {B} M\0dir/changed\0\
             :100644 000000 {A} {Z} D\0gone\0\
             :120000 100755 {A} {B} T\0was-a-link\0\
             :000000 160000 {Z} {A} A\0vendor/sub\0\
             :000000 000000 {Z} {Z} U\0conflict\0"
        );
        let l = parse_raw(raw.as_bytes(), gix::hash::Kind::Sha1).expect("parses");
        assert_eq!(
            l.staged,
            vec![
                Staged {
                    path: b"new file.env".to_vec(),
                    new: oid(A),
                    old: None
                },
                Staged {
                    path: b"dir/changed".to_vec(),
                    new: oid(B),
                    old: Some(oid(A))
                },
                Staged {
                    path: b"was-a-link".to_vec(),
                    new: oid(B),
                    old: Some(oid(A))
                },
            ]
        );
        assert_eq!(l.gitlinks, vec![b"vendor/sub".to_vec()]);
        assert_eq!(l.unmerged, vec![b"conflict".to_vec()]);
        assert_eq!(
            parse_raw(b"", gix::hash::Kind::Sha1),
            Ok(Listing::default())
        );
    }

    #[test]
    fn garbled_listings_are_errors_not_panics() {
        for bad in [
            format!(":100644 100644 {A} {B} M\0"),
            format!(":100644 100644 {A} M\0p\0"),
            format!(":100644 100644 {A} xyz M\0p\0"),
            format!(":100644 100644 {A} {B} R100\0old\0new\0"),
            ":\0p\0".to_string(),
            "\u{ff}\0p\0".to_string(),
        ] {
            assert!(
                parse_raw(bad.as_bytes(), gix::hash::Kind::Sha1).is_err(),
                "{bad:?}"
            );
        }
    }
}
