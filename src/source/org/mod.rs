//! Organization scans: the full history of many repositories, one report.
//!
//! Why it is built this way (see DESIGN.md, "Integrations"):
//!
//! - Repositories come from a list (clone URLs or local paths) or from the
//!   GitHub REST API ([`github`]). Remote ones are kept as bare mirror
//!   clones in a cache directory and refreshed with `git fetch --prune` on
//!   the next run ([`clone`]), so a second run transfers only what is new.
//!   git runs without hooks, prompts or submodules, with a timeout that
//!   kills it, and a token only in an HTTP header for GitHub hosts.
//! - Clones run in a bounded pool ahead of the scans; the scans run one
//!   repository after another (each is itself parallel), so the memory of
//!   scanned blobs ([`state`]) is consistent: a blob shared by forks or
//!   vendored code is detected once, and its credentials are still
//!   reported in every repository that holds it, with that repository's
//!   provenance.
//! - The memory is an append-only file in the cache directory, written and
//!   flushed after each repository: a second run scans only new blobs, and
//!   an interrupted run resumes where it stopped. A rescan decodes only the
//!   packs a fetch added ([`packs`]): those read before are noted, and a
//!   clone nothing was fetched into is not read at all ([`rescan`]). Only
//!   clones keysweep made itself add to the memory and the notes (their
//!   ids were computed by `git index-pack`); local repositories read them
//!   but never write them (docs/security.md).
//! - A repository that fails (bad URL, timeout, corrupt) is named, counted
//!   in `stats.repos_failed` and skipped: one bad repository never loses the
//!   rest of the run.
//! - `--shard K/N` assigns repositories by a stable hash of their name, so
//!   N machines (a CI matrix, a Kubernetes Indexed Job) split the work and
//!   `keysweep merge` joins their JSON reports.

pub mod azure;
pub mod bitbucket;
pub mod clone;
pub mod forge;
pub mod gitea;
pub mod github;
pub mod gitlab;
pub(crate) mod packs;
pub(crate) mod plan;
pub mod rescan;
pub mod state;

use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::sort_canonical;
use crate::source::git::{self, GitError, HistoryOptions};
use crate::source::SourceScan;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Why an organization scan, or one repository of it, could not be done.
/// Every variant that concerns one repository names it.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("cannot read the repository list {}: {source}", path.display())]
    List {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{repo}: git {what} failed: {reason}")]
    Git {
        repo: String,
        what: &'static str,
        reason: String,
    },
    #[error("{repo}: git {what} did not finish within {secs} s and was stopped\nhint: raise --repo-timeout for very large repositories")]
    Timeout {
        repo: String,
        what: &'static str,
        secs: u64,
    },
    #[error("{repo}: the scan did not finish within {secs} s and was stopped; its {found} findings so far are reported, with blob ids for paths (raise --repo-timeout; for a cloned repository the next run does not scan again the blobs this one did)")]
    ScanTimeout {
        repo: String,
        secs: u64,
        found: usize,
    },
    #[error("{repo}: {source}")]
    Scan {
        repo: String,
        #[source]
        source: GitError,
    },
    #[error("{repo}: cache directory {}: {source}", path.display())]
    RepoCache {
        repo: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A forge API listing failed; `what` names it ("GitLab group `acme`").
    #[error("{what}: {reason}")]
    Forge { what: String, reason: String },
    #[error("cache directory {}: {source}\nhint: pass a writable --cache-dir", path.display())]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("scan state {}: {source}", path.display())]
    State {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cache directory {} is in use by another keysweep run (pid {pid})\nhint: wait for it to finish, or pass another --cache-dir", path.display())]
    Busy { path: PathBuf, pid: String },
    #[error("invalid shard `{0}`: use K/N with 1 <= K <= N, e.g. --shard 2/8")]
    Shard(String),
}

/// One repository of the organization, as the user (or GitHub) named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    /// The URL or path as listed (a password in a URL masked): the `repo` of
    /// its findings, the name in messages and the key for sharding.
    pub name: String,
    pub location: Location,
    /// A wiki the forge says is enabled: it may never have been written
    /// to, so failing to clone it is noted, not counted as a failure.
    pub wiki: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Cloned (mirror) into the cache, refreshed on later runs.
    Remote(String),
    /// A repository on this machine, scanned in place.
    Local(PathBuf),
}

impl RepoSpec {
    /// A clone URL (`scheme://…` or scp-like `user@host:path`) is cloned;
    /// anything else is a local path.
    pub fn parse(line: &str) -> RepoSpec {
        let line = line.trim();
        let scp_like = line
            .split_once(':')
            .is_some_and(|(head, _)| head.contains('@') && !head.contains('/'));
        if line.contains("://") || scp_like {
            RepoSpec {
                name: mask_password(line),
                location: Location::Remote(line.to_string()),
                wiki: false,
            }
        } else {
            RepoSpec {
                name: line.to_string(),
                location: Location::Local(PathBuf::from(line)),
                wiki: false,
            }
        }
    }
}

/// `https://user:secret@host/…` → `https://user:***@host/…`, so a password
/// written into a list never reaches a report or a message.
pub(crate) fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                // A bare token as user name (`https://TOKEN@github.com/…`).
                "***".to_string()
            };
            format!("{scheme}://{masked}@{host}{}", &rest[authority_end..])
        }
        None => url.to_string(),
    }
}

/// Reads a repository list: one clone URL or local path a line; blank
/// lines and `#` comments ignored; duplicates (same normalized name) kept
/// once.
pub(crate) fn read_list(path: &Path) -> Result<Vec<RepoSpec>, OrgError> {
    let text = std::fs::read_to_string(path).map_err(|source| OrgError::List {
        path: path.to_path_buf(),
        source,
    })?;
    let specs = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(RepoSpec::parse)
        .collect();
    Ok(dedup(specs))
}

/// Keeps the first of several specs with the same normalized name.
pub fn dedup(specs: Vec<RepoSpec>) -> Vec<RepoSpec> {
    let mut seen = std::collections::HashSet::new();
    specs
        .into_iter()
        .filter(|s| seen.insert(normalize(&s.name)))
        .collect()
}

/// The form of a repository name that sharding hashes: `x`, `x/` and
/// `x.git` are the same repository; host names are case-insensitive (and
/// GitHub's owner and repository names too).
pub(crate) fn normalize(name: &str) -> String {
    let t = name.trim().trim_end_matches('/');
    let t = t.strip_suffix(".git").unwrap_or(t);
    t.to_ascii_lowercase()
}

/// Shard K of N (1-based K), from `--shard K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = OrgError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || OrgError::Shard(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether this shard scans `name`. A stable hash of the normalized
    /// name, not a position in the list, so a repository stays in its shard
    /// when others are added or removed.
    pub fn holds(&self, name: &str) -> bool {
        let digest = Sha256::digest(normalize(name).as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % self.count == self.index - 1
    }
}

/// How an organization scan runs.
#[derive(Debug, Clone)]
pub struct OrgOptions {
    /// Mirror clones and the scan state live here.
    pub cache_dir: PathBuf,
    /// Clones and refreshes at once.
    pub jobs: usize,
    /// Longest a clone or refresh of one repository may take, and then
    /// longest its scan may take.
    pub repo_timeout: Duration,
    /// Credentials for GitHub clones (never in a URL or an argument).
    pub auth: clone::Auth,
    pub history: HistoryOptions,
}

/// What an organization scan found, and what it did.
#[derive(Debug, Default)]
pub(crate) struct OrgScan {
    pub scan: SourceScan,
    /// The repositories that failed, each with why.
    pub failed: Vec<(String, String)>,
    /// Wikis that could not be cloned (most were never written to).
    pub wikis_absent: Vec<String>,
    /// Clones unchanged since their last scan: not read at all.
    pub unchanged: usize,
}

/// Clones or refreshes every repository (a pool of `opts.jobs`) and scans
/// each one's full history as its clone is ready, one scan at a time.
/// Fails only when the cache or the scan state cannot be used at all.
pub(crate) fn scan_org(
    repos: &[RepoSpec],
    detector: &Detector,
    opts: &OrgOptions,
    diag: &Diagnostics,
) -> Result<OrgScan, OrgError> {
    let started = Instant::now();
    clone::create_private_dir(&opts.cache_dir).map_err(|source| OrgError::Cache {
        path: opts.cache_dir.clone(),
        source,
    })?;
    let mut memory = state::BlobState::open(&opts.cache_dir, diag)?;
    let packs = packs::PackStore::new(&opts.cache_dir, opts.history.limits.max_file_size, diag);
    let mut out = OrgScan::default();
    let total = repos.len();
    diag.set_prefix(&format!("[0/{total} repos] "));

    let mut unchanged = 0usize;
    let next = AtomicUsize::new(0);
    let (tx, rx) = crossbeam_channel::unbounded::<(usize, Result<PathBuf, OrgError>)>();
    let mut fatal = None;
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.clamp(1, total.max(1)) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(spec) = repos.get(i) else { break };
                let ready = match &spec.location {
                    Location::Local(path) => Ok(path.clone()),
                    Location::Remote(url) => clone::sync(&spec.name, url, opts),
                };
                if tx.send((i, ready)).is_err() {
                    // The scanning side stopped (fatal state error): no
                    // point cloning the rest.
                    break;
                }
            });
        }
        drop(tx);

        for (done, (i, ready)) in rx.iter().enumerate() {
            let spec = &repos[i];
            // In the prefix: the history scan sets its own messages.
            diag.set_prefix(&format!("[{done}/{total} repos] {}: ", spec.name));
            let result = ready.and_then(|path| {
                // A clone nothing was fetched into: its last findings, and
                // nothing read ([`rescan`]).
                let fp = match spec.location {
                    Location::Remote(_) => rescan::fingerprint(&path, &opts.history).ok(),
                    Location::Local(_) => None,
                };
                if let Some(fp) = &fp {
                    if let Some(mut last) = rescan::recall(&opts.cache_dir, &spec.name, fp, diag) {
                        last.stats.blobs_already_scanned += last.stats.blobs;
                        last.stats.blobs = 0;
                        last.stats.bytes = 0;
                        last.stats.objects_decoded = 0;
                        last.stats.packs_recalled = 0;
                        unchanged += 1;
                        let scan = git::MemoryScan {
                            scan: last,
                            fresh: Vec::new(),
                            noted: Vec::new(),
                            stopped: false,
                        };
                        return Ok((scan, None));
                    }
                }
                // The clone had its own bound; the scan gets the same.
                let deadline = git::Deadline::after(opts.repo_timeout);
                git::scan_history_with_memory(
                    &path,
                    detector,
                    &opts.history,
                    diag,
                    &memory,
                    &packs,
                    &deadline,
                )
                .map(|scan| (scan, fp))
                .map_err(|source| OrgError::Scan {
                    repo: spec.name.clone(),
                    source,
                })
            });
            match result {
                Ok((
                    git::MemoryScan {
                        scan,
                        fresh,
                        noted,
                        stopped,
                    },
                    fp,
                )) => {
                    // Only what a git that hashed the objects wrote may
                    // teach the shared memory (docs/security.md): a clone
                    // in the cache was indexed by `git index-pack`, which
                    // computes every id; a local repository's pack index
                    // is a claim keysweep does not check (it decodes
                    // without hashing), so its blobs are never remembered.
                    let (fresh, noted) = match spec.location {
                        Location::Remote(_) => (fresh, noted),
                        Location::Local(_) => (Vec::new(), Vec::new()),
                    };
                    if let Err(e) = packs.keep(&noted) {
                        diag.warn(format_args!(
                            "{}: cannot keep notes of its packs ({e}); they will be decoded again",
                            spec.name
                        ));
                    }
                    // Persist before moving on, so an interrupted run
                    // resumes after this repository.
                    if let Err(e) = memory.record(&spec.name, fresh) {
                        fatal = Some(e);
                        break;
                    }
                    // A stopped scan is not this repository's result: the
                    // next run reads it again (its scanned blobs recalled).
                    let fp = fp.filter(|_| !stopped);
                    if let Some(fp) = fp {
                        if let Err(e) = rescan::remember(&opts.cache_dir, &spec.name, &fp, &scan) {
                            diag.warn(format_args!(
                                "{}: cannot keep its findings for the next run ({e}); it will be read again",
                                spec.name
                            ));
                        }
                    }
                    out.scan.stats.add(&scan.stats);
                    if stopped {
                        let e = OrgError::ScanTimeout {
                            repo: spec.name.clone(),
                            secs: opts.repo_timeout.as_secs(),
                            found: scan.findings.len(),
                        };
                        let why = e.to_string();
                        diag.warn(format_args!("{why}"));
                        out.scan.stats.repos_failed += 1;
                        out.scan.stats.repos_timed_out += 1;
                        out.failed.push((spec.name.clone(), why));
                    } else {
                        out.scan.stats.repos += 1;
                    }
                    let repo: std::sync::Arc<str> = std::sync::Arc::from(spec.name.as_str());
                    out.scan
                        .findings
                        .extend(scan.findings.into_iter().map(|mut f| {
                            f.location.repo = Some(repo.clone());
                            f
                        }));
                }
                Err(OrgError::Git { .. }) if spec.wiki => {
                    out.wikis_absent.push(spec.name.clone());
                }
                Err(e) => {
                    let why = crate::diag::chain(&e);
                    diag.warn(format_args!("{why}; repository skipped"));
                    out.scan.stats.repos_failed += 1;
                    out.failed.push((spec.name.clone(), why));
                }
            }
            diag.set_prefix(&format!("[{}/{total} repos] ", done + 1));
        }
        // Dropping the receiver makes the clone workers stop after their
        // current repository.
        drop(rx);
    });
    if let Some(e) = fatal {
        return Err(e);
    }
    diag.set_prefix("");
    packs.prune();
    out.unchanged = unchanged;
    sort_canonical(&mut out.scan.findings);
    out.scan.stats.elapsed_ms = crate::stats::elapsed_ms(started);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert_eq!(
            RepoSpec::parse("https://github.com/acme/api.git").location,
            Location::Remote("https://github.com/acme/api.git".into())
        );
        assert_eq!(
            RepoSpec::parse("git@github.com:acme/api.git").location,
            Location::Remote("git@github.com:acme/api.git".into())
        );
        assert_eq!(
            RepoSpec::parse("../repos/api").location,
            Location::Local("../repos/api".into())
        );
        assert_eq!(
            RepoSpec::parse("file:///srv/git/api.git").location,
            Location::Remote("file:///srv/git/api.git".into())
        );
    }

    #[test]
    fn a_scan_past_repo_timeout_fails_the_repository_not_the_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = dir.path().join("r");
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", dir.path())
                .env("GIT_AUTHOR_NAME", "T")
                .env("GIT_AUTHOR_EMAIL", "t@example.com")
                .env("GIT_COMMITTER_NAME", "T")
                .env("GIT_COMMITTER_EMAIL", "t@example.com")
                .status()
                .expect("run git")
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "r"]);
        std::fs::write(
            repo.join("k.env"),
            "aws_access_key_id = AKIASP2TPHJSQH3FJRUX\n",
        )
        .expect("write");
        git(&["-C", "r", "add", "-A"]);
        git(&["-C", "r", "commit", "-q", "-m", "leak"]);
        let specs = vec![
            RepoSpec::parse(&repo.display().to_string()),
            RepoSpec::parse(&dir.path().join("missing").display().to_string()),
        ];
        let run = |timeout| {
            let opts = OrgOptions {
                cache_dir: dir.path().join("cache"),
                jobs: 1,
                repo_timeout: timeout,
                auth: clone::Auth::new(None, "https://api.github.com"),
                history: HistoryOptions::default(),
            };
            scan_org(&specs, &Detector::new(), &opts, &Diagnostics::silent()).expect("run")
        };

        // A deadline already past: the scan stops before its first object,
        // the repository is named with why, and the run goes on to the next.
        let stopped = run(Duration::ZERO);
        let stats = &stopped.scan.stats;
        assert_eq!(
            (stats.repos, stats.repos_failed, stats.repos_timed_out),
            (0, 2, 1)
        );
        assert_eq!(stats.blobs, 0);
        assert!(
            stopped.failed[0].1.contains("did not finish within 0 s"),
            "{:?}",
            stopped.failed
        );
        assert!(stopped.failed[1].1.contains("not a git repository"));

        let whole = run(Duration::from_secs(3600));
        let stats = &whole.scan.stats;
        assert_eq!(
            (stats.repos, stats.repos_failed, stats.repos_timed_out),
            (1, 1, 0)
        );
        assert_eq!(whole.scan.findings.len(), 1);
    }

    #[test]
    fn passwords_never_reach_names() {
        assert_eq!(
            mask_password("https://bob:hunter2@git.example.com/a.git"),
            "https://bob:***@git.example.com/a.git"
        );
        assert_eq!(
            mask_password("https://ghp_abc@github.com/a/b"),
            "https://***@github.com/a/b"
        );
        assert_eq!(mask_password("https://h/a@b"), "https://h/a@b");
        let spec = RepoSpec::parse("https://bob:hunter2@host/a.git");
        assert!(!spec.name.contains("hunter2"));
    }

    #[test]
    fn shards_partition_and_are_stable() {
        let names: Vec<String> = (0..200)
            .map(|i| format!("https://github.com/acme/r{i}"))
            .collect();
        let shards: Vec<Shard> = (1..=3)
            .map(|k| format!("{k}/3").parse().expect("valid shard"))
            .collect();
        for n in &names {
            let holders = shards.iter().filter(|s| s.holds(n)).count();
            assert_eq!(holders, 1, "{n} is in exactly one shard");
        }
        for s in &shards {
            assert!(names.iter().filter(|n| s.holds(n)).count() > 30);
        }
        // Same repository, other spellings: same shard.
        let s = shards
            .iter()
            .find(|s| s.holds("https://github.com/acme/r7"))
            .expect("some shard");
        assert!(s.holds("https://github.com/Acme/r7.git"));
        assert!(s.holds("https://github.com/acme/r7/"));
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }

    #[test]
    fn list_comments_blanks_duplicates() {
        let dir = tempfile::tempdir().expect("temp dir");
        let list = dir.path().join("repos.txt");
        std::fs::write(
            &list,
            "# org\n\nhttps://h/a.git\n  https://h/a  \n./local\n",
        )
        .expect("write list");
        let specs = read_list(&list).expect("read list");
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].name, "https://h/a.git");
    }
}
