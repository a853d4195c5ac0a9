//! The repository itself: opening it, its refs and HEAD, what it lacks
//! (a shallow clone's cut, submodules), and the small helpers every phase
//! uses (error text, worker pools).

use super::packs::{Finder, ObjectReader};
use super::GitError;
use crate::diag::Diagnostics;
use gix::ObjectId;
use std::path::{Path, PathBuf};

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

/// git's "no object": 40 zeros, or 64 in SHA-256 repositories (sent for a
/// new or deleted ref by pre-push and by CI events).
pub fn is_zero_oid(oid: &str) -> bool {
    (oid.len() == 40 || oid.len() == 64) && oid.bytes().all(|b| b == b'0')
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

/// Submodule content lives in other repositories: say so, naming them, so
/// nobody takes a clean result for the submodules too.
pub(crate) fn warn_about_submodules(paths: &[Vec<u8>], r: &Repo, diag: &Diagnostics) {
    if !paths.is_empty() {
        let names: Vec<String> = paths
            .iter()
            .map(|p| crate::finding::ReportPath::from_bytes(p).to_string())
            .collect();
        diag.warn(format_args!(
            "{}: submodule content is not scanned (scan those repositories separately): {}",
            r.path.display(),
            names.join(", ")
        ));
    }
}

/// A ref tip and what it points to, after peeling tags.
pub(crate) struct Tip {
    pub(crate) name: String,
    pub(crate) id: ObjectId,
    pub(crate) kind: gix::objs::Kind,
}

/// Every ref (branches, tags, remotes, stash, notes, anything under refs/),
/// peeled to the object it finally names.
pub(crate) fn ref_tips(
    r: &Repo,
    objects: &mut ObjectReader<'_>,
    diag: &Diagnostics,
) -> Result<Vec<Tip>, GitError> {
    let refs_err = |source: super::Cause| GitError::References {
        path: r.path.clone(),
        source,
    };
    let platform = r.repo.references().map_err(|e| refs_err(e.into()))?;
    let iter = platform.all().map_err(|e| refs_err(e.into()))?;
    let mut passing = objects.passing();
    let objects = &mut *passing;
    let mut tips = Vec::new();
    for reference in iter {
        let reference = match reference {
            Ok(reference) => reference.inner,
            Err(e) => {
                diag.warn(format_args!(
                    "{}: unreadable reference skipped: {}",
                    r.path.display(),
                    reason(&e)
                ));
                continue;
            }
        };
        let name = crate::finding::ReportPath::from_bytes(reference.name.as_bstr()).to_string();
        let (id, kind) = match peel_ref(&r.repo, reference, objects) {
            Ok(peeled) => peeled,
            Err(e) => {
                diag.warn(format_args!(
                    "{}: reference {name} points to a missing object, skipped: {}",
                    r.path.display(),
                    reason(&e)
                ));
                continue;
            }
        };
        match kind {
            Ok(kind) => tips.push(Tip { name, id, kind }),
            Err(why) => diag.warn(format_args!(
                "{}: reference {name} points to unreadable object {id}, skipped: {why}",
                r.path.display(),
            )),
        }
    }
    Ok(tips)
}

/// Why a file could not be taken from a commit.
#[derive(Debug, thiserror::Error)]
pub enum FileAtError {
    #[error("cannot resolve `{rev}` to a commit")]
    Revision {
        rev: String,
        #[source]
        source: super::Cause,
    },
    #[error("{path} in commit {commit} is {what}, not a regular file")]
    NotAFile {
        path: String,
        commit: ObjectId,
        what: &'static str,
    },
    #[error("{path} in commit {commit} is {size} bytes, over the {max}-byte limit")]
    TooLarge {
        path: String,
        commit: ObjectId,
        size: u64,
        max: u64,
    },
    #[error(transparent)]
    Git(#[from] GitError),
}

/// The bytes of `path` (`/`-separated, from the repository root) in the
/// tree of commit `rev`, or `None` when the commit has no such entry. Used
/// for files keysweep takes as instructions (`.keysweep.toml`, a baseline)
/// from a commit that is not under judgement: a symbolic link, a submodule
/// or a directory there is refused, and so is anything over `max` bytes.
pub fn file_at(
    repo: &Path,
    rev: &str,
    path: &str,
    max: u64,
) -> Result<Option<Vec<u8>>, FileAtError> {
    let r = open(repo)?;
    let bad_rev = |source: super::Cause| FileAtError::Revision {
        rev: rev.to_string(),
        source,
    };
    let commit = r
        .repo
        .rev_parse_single(rev)
        .map_err(|e| bad_rev(e.into()))?
        .object()
        .map_err(|e| bad_rev(e.into()))?
        .peel_to_commit()
        .map_err(|e| bad_rev(e.into()))?;
    let tree = commit.tree().map_err(|e| bad_rev(e.into()))?;
    let Some(entry) = tree
        .lookup_entry_by_path(path)
        .map_err(|e| bad_rev(e.into()))?
    else {
        return Ok(None);
    };
    let mode = entry.mode();
    let what = if mode.is_link() {
        Some("a symbolic link")
    } else if mode.is_tree() {
        Some("a directory")
    } else if mode.is_commit() {
        Some("a submodule")
    } else {
        None
    };
    if let Some(what) = what {
        return Err(FileAtError::NotAFile {
            path: path.to_string(),
            commit: commit.id,
            what,
        });
    }
    let header = r
        .repo
        .find_header(entry.oid())
        .map_err(|e| bad_rev(e.into()))?;
    if header.size() > max {
        return Err(FileAtError::TooLarge {
            path: path.to_string(),
            commit: commit.id,
            size: header.size(),
            max,
        });
    }
    let blob = r
        .repo
        .find_blob(entry.oid())
        .map_err(|e| bad_rev(e.into()))?;
    Ok(Some(blob.data.clone()))
}

/// A repository asked about its refs and commits in process, for planning
/// a push or a CI event: each question used to be a git process (~4 ms
/// each, four or five of them per push, on top of a 1-commit scan of 8 ms).
/// Nothing here runs anything from the repository (hooks, fsmonitor).
pub struct Lookup {
    repo: gix::Repository,
}

impl Lookup {
    /// Opens a work tree, a bare repository or a path inside one.
    pub fn open(path: &Path) -> Result<Lookup, GitError> {
        Ok(Lookup {
            repo: open(path)?.repo,
        })
    }

    /// Whether `sha`, a full hex object id, names a commit here (or a tag
    /// of one). Anything else (the payload of a CI event is untrusted) is
    /// not looked up at all.
    pub fn has_commit(&self, sha: &str) -> bool {
        let hex =
            (sha.len() == 40 || sha.len() == 64) && sha.bytes().all(|b| b.is_ascii_hexdigit());
        let Some(id) = hex
            .then(|| ObjectId::from_hex(sha.as_bytes()).ok())
            .flatten()
        else {
            return false;
        };
        // The header first: a blob or tree is never read in full.
        match self.repo.find_header(id).map(|h| h.kind()) {
            Ok(gix::objs::Kind::Commit) => true,
            Ok(gix::objs::Kind::Tag) => self
                .repo
                .find_object(id)
                .is_ok_and(|o| o.peel_to_commit().is_ok()),
            _ => false,
        }
    }

    /// The commit the ref with the full name `name` points to (tags
    /// peeled), as hex; `None` when there is no such ref or no commit.
    pub fn ref_commit(&self, name: &str) -> Option<String> {
        let mut reference = self.repo.try_find_reference(name).ok()??;
        let id = reference.peel_to_id().ok()?.detach();
        let commit = self.repo.find_object(id).ok()?.peel_to_commit().ok()?;
        Some(commit.id.to_string())
    }

    /// The full names of the refs under `prefix` (`refs/remotes/origin/`),
    /// in name order; none when the prefix is not a valid ref path.
    pub fn refs_under(&self, prefix: &str) -> Vec<String> {
        let Ok(platform) = self.repo.references() else {
            return Vec::new();
        };
        let Ok(iter) = platform.prefixed(prefix) else {
            return Vec::new();
        };
        let mut names: Vec<String> = iter
            .filter_map(Result::ok)
            .map(|r| r.name().as_bstr().to_string())
            .collect();
        names.sort();
        names
    }

    /// The names of the configured remotes.
    pub fn remote_names(&self) -> Vec<String> {
        self.repo
            .remote_names()
            .iter()
            .map(|n| n.to_string())
            .collect()
    }

    /// Whether this is a shallow clone (its history was cut). A shallow
    /// file whose path cannot even be formed counts as shallow: complete
    /// history is what callers must not assume.
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow().unwrap_or(true)
    }
}

/// HEAD's commit, if HEAD points at one (not in an empty repository).
pub(crate) fn head_commit(objects: &mut ObjectReader<'_>) -> Option<ObjectId> {
    let repo = objects.repo();
    let head = repo.find_reference("HEAD").ok()?.inner;
    let (id, kind) = peel_ref(repo, head, objects).ok()?;
    (kind.ok()? == gix::objs::Kind::Commit).then_some(id)
}

/// The object `reference` names once symbolic refs are followed and tags
/// peeled, by gix's own peeling code reading tags through `objects` (the
/// packed-refs file's peeled lines used where it has them), with its kind
/// or why that cannot be told.
pub(crate) fn peel_ref(
    repo: &gix::Repository,
    mut reference: gix::refs::Reference,
    objects: &mut ObjectReader<'_>,
) -> gix::Result<(ObjectId, Result<gix::objs::Kind, String>)> {
    // A ref naming anything but a tag is its own answer, and its kind is in
    // the entry's header: gix's peeling would inflate the object to learn
    // it (twice the cost of 20,000 branches' ref tips).
    if reference.peeled.is_none() {
        if let gix::refs::Target::Object(id) = &reference.target {
            match objects.kind(id) {
                Ok(gix::objs::Kind::Tag) | Err(_) => {}
                Ok(kind) => return Ok((*id, Ok(kind))),
            }
        }
    }
    use gix::refs::file::ReferenceExt;
    let packed = repo.refs.cached_packed_buffer()?;
    let id = reference.peel_to_id_packed(
        &repo.refs,
        &Finder::new(objects),
        packed.as_ref().map(|p| &***p),
    )?;
    Ok((id, objects.kind(&id)))
}

/// A gix error with its causes, on one line.
pub(crate) fn reason(e: &dyn std::error::Error) -> String {
    crate::diag::chain(e)
}

/// A rayon pool of `threads` workers, for work gix does not parallelise.
pub(crate) fn pool(threads: usize) -> Result<rayon::ThreadPool, GitError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|source| GitError::Threads { threads, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::git::packs::Packs;

    /// What gix alone says of every ref: the reference `ref_tips` must match.
    fn gix_tips(r: &Repo) -> Vec<(String, ObjectId, gix::objs::Kind)> {
        let platform = r.repo.references().expect("refs");
        platform
            .all()
            .expect("all")
            .filter_map(|reference| {
                let mut reference = reference.ok()?;
                let name = reference.name().as_bstr().to_string();
                let id = reference.peel_to_id().ok()?.detach();
                let kind = r.repo.find_header(id).ok()?.kind();
                Some((name, id, kind))
            })
            .collect()
    }

    #[test]
    fn ref_tips_peel_every_kind_of_ref_as_gix_does_through_the_reader() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let git = |args: &[&str]| super::super::testing::git(d, d, args);
        git(&["init", "-q", "-b", "main"]);
        std::fs::write(d.join("a.txt"), "a\n").expect("write");
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "one"]);
        git(&["tag", "light"]);
        git(&["tag", "-a", "-m", "annotated", "annotated"]);
        // A tag of a tag, and tags of a blob and of a tree.
        git(&["tag", "-a", "-m", "nested", "nested", "annotated"]);
        git(&["tag", "-a", "-m", "blob", "of-blob", "HEAD:a.txt"]);
        git(&["tag", "-a", "-m", "tree", "of-tree", "HEAD^{tree}"]);
        git(&["symbolic-ref", "refs/heads/alias", "refs/heads/main"]);
        // Written for each state and removed before the next: git refuses
        // to pack refs or objects with it.
        let ghost = d.join(".git/refs/heads/ghost");

        let packed_refs = d.join(".git/packed-refs");
        let states: [(&str, &dyn Fn()); 4] = [
            ("loose refs, loose objects", &|| {}),
            ("packed refs with peeled tags", &|| {
                git(&["pack-refs", "--all"]);
            }),
            ("packed objects", &|| {
                git(&["repack", "-q", "-a", "-d"]);
            }),
            // A packed-refs file that does not say which refs are peeled:
            // every tag must be read to peel it.
            ("packed refs without peeled lines", &|| {
                let text = std::fs::read_to_string(&packed_refs).expect("packed-refs");
                let bare: String = text
                    .lines()
                    .filter(|l| !l.starts_with('^') && !l.starts_with('#'))
                    .map(|l| format!("{l}\n"))
                    .collect();
                std::fs::write(&packed_refs, bare).expect("write");
            }),
        ];
        for (state, change) in states {
            change();
            std::fs::write(&ghost, "1234567890123456789012345678901234567890\n").expect("write");
            let r = open(d).expect("open");
            let packs = Packs::open(&r);
            let mut objects = ObjectReader::new(&packs, &r.repo);
            let mut ours: Vec<_> = ref_tips(&r, &mut objects, &Diagnostics::silent())
                .expect("tips")
                .into_iter()
                .map(|t| (t.name, t.id, t.kind))
                .collect();
            let mut want = gix_tips(&r);
            ours.sort();
            want.sort();
            assert_eq!(ours, want, "{state}");
            let kinds: Vec<_> = ours.iter().map(|(n, _, k)| (n.as_str(), *k)).collect();
            for (name, kind) in [
                ("refs/tags/nested", gix::objs::Kind::Commit),
                ("refs/tags/of-blob", gix::objs::Kind::Blob),
                ("refs/tags/of-tree", gix::objs::Kind::Tree),
                ("refs/heads/alias", gix::objs::Kind::Commit),
            ] {
                assert!(kinds.contains(&(name, kind)), "{state}: {name} {kinds:?}");
            }
            // A ref to a missing object is skipped (with a warning).
            assert!(!kinds.iter().any(|(n, _)| n.contains("ghost")), "{state}");
            std::fs::remove_file(&ghost).expect("remove");
        }
    }
}
