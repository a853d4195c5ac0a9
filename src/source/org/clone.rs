//! The clone cache: one bare mirror clone per remote repository, made the
//! first time and refreshed with `git fetch --prune` afterwards.
//!
//! git is run through [`crate::gitcli`] (no hooks, no prompts, no
//! submodules, a timeout that kills it), with `--` before every URL so none
//! is read as an option, and a token only in an HTTP header passed through
//! the environment (never in the URL, the arguments `ps` shows, the clone's
//! config, or a message): the URLs may come from an API answer.

use super::{OrgError, OrgOptions};
use crate::finding::hex;
use crate::gitcli::{Git, GitCliError};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Credentials for cloning from GitHub.
#[derive(Clone, Default)]
pub struct Auth {
    /// The token (`GITHUB_TOKEN`).
    token: Option<String>,
    /// Hosts the token may be sent to: github.com and the `--github-api-url`
    /// host (GitHub Enterprise serves git and the API on one host).
    hosts: Vec<String>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("hosts", &self.hosts)
            .finish()
    }
}

impl Auth {
    pub fn new(token: Option<String>, api_url: &str) -> Self {
        let mut hosts = vec!["github.com".to_string()];
        if let Some(h) = https_host(api_url) {
            let h = h.strip_prefix("api.").unwrap_or(&h).to_string();
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        Auth {
            token: token.filter(|t| !t.is_empty()),
            hosts,
        }
    }

    /// The `http.extraHeader` value for `url`, when it is an https URL of a
    /// GitHub host. GitHub's git endpoint refuses `Bearer` tokens (it
    /// answers 401 and git then asks for a user name); it takes HTTP Basic
    /// with the user `x-access-token`, as actions/checkout sends it.
    fn header_for(&self, url: &str) -> Option<String> {
        use base64::Engine;
        let token = self.token.as_deref()?;
        let host = https_host(url)?;
        if !self.hosts.contains(&host) {
            return None;
        }
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
        Some(format!("Authorization: Basic {basic}"))
    }
}

/// The lower-cased host of an `https://` URL (no user info, no port).
fn https_host(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The cache directory of a repository: a readable name from the end of
/// the URL plus a short hash of the whole URL, so two `api.git` of
/// different owners never share a clone.
pub fn cache_name(url: &str) -> String {
    let stripped = url.split_once("://").map_or(url, |(_, r)| r);
    let stripped = stripped.rsplit_once('@').map_or(stripped, |(_, r)| r);
    let tail: Vec<&str> = stripped
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .take(2)
        .collect();
    let readable: String = tail
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("-")
        .trim_end_matches(".git")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let readable = readable.trim_start_matches('.');
    let digest = hex(&Sha256::digest(url.as_bytes()));
    format!("{readable}-{}.git", &digest[..12])
}

/// Makes `dir` (and its parents) with mode 0700 on Unix: the cache holds
/// other people's repositories and the scan state holds secrets.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Brings the mirror clone of `url` up to date and returns its path:
/// refreshes an existing clone, clones afresh when there is none or when
/// the refresh fails for another reason than the timeout (a damaged cache
/// heals itself; an unreachable remote fails both ways).
pub fn sync(name: &str, url: &str, opts: &OrgOptions) -> Result<PathBuf, OrgError> {
    let repos = opts.cache_dir.join("repos");
    let dir = repos.join(cache_name(url));
    let cache_err = |path: &Path, source| OrgError::RepoCache {
        repo: name.to_string(),
        path: path.to_path_buf(),
        source,
    };
    create_private_dir(&repos).map_err(|e| cache_err(&repos, e))?;
    let header = opts.auth.header_for(url);
    let header = header.as_deref();

    if dir.join("HEAD").is_file() {
        let refresh = run_git(
            name,
            "fetch",
            &[
                "--git-dir".as_ref(),
                dir.as_os_str(),
                "fetch".as_ref(),
                "--prune".as_ref(),
                "--quiet".as_ref(),
                "--no-recurse-submodules".as_ref(),
                "origin".as_ref(),
            ],
            opts.repo_timeout,
            header,
        );
        match refresh {
            Ok(()) => return Ok(dir),
            Err(e @ OrgError::Timeout { .. }) => return Err(e),
            Err(_) => {} // Cloned again below.
        }
    }

    // Clone beside the final place and rename, so a killed or interrupted
    // clone never looks like a good cache entry.
    let partial = repos.join(format!(
        "{}.partial-{}",
        cache_name(url),
        std::process::id()
    ));
    remove_dir_if_present(&partial).map_err(|e| cache_err(&partial, e))?;
    let cloned = run_git(
        name,
        "clone",
        &[
            "clone".as_ref(),
            "--mirror".as_ref(),
            "--quiet".as_ref(),
            "--".as_ref(),
            url.as_ref(),
            partial.as_os_str(),
        ],
        opts.repo_timeout,
        header,
    );
    if let Err(e) = cloned {
        // Best effort: the next run removes it anyway.
        let _ = std::fs::remove_dir_all(&partial);
        return Err(e);
    }
    remove_dir_if_present(&dir).map_err(|e| cache_err(&dir, e))?;
    std::fs::rename(&partial, &dir).map_err(|e| cache_err(&dir, e))?;
    Ok(dir)
}

fn remove_dir_if_present(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Runs git with `args` through the one hardened runner, killing it after
/// `timeout`; the auth header, when any, goes through the environment.
fn run_git(
    repo: &str,
    what: &'static str,
    args: &[&std::ffi::OsStr],
    timeout: Duration,
    auth_header: Option<&str>,
) -> Result<(), OrgError> {
    let mut git = Git::new(None, what).args(args).timeout(timeout);
    if let Some(header) = auth_header {
        git = git.secret_config("http.extraHeader", header);
    }
    match git.output() {
        Ok(_) => Ok(()),
        Err(GitCliError::Timeout { secs, .. }) => Err(OrgError::Timeout {
            repo: repo.to_string(),
            what,
            secs,
        }),
        Err(e) => Err(OrgError::Git {
            repo: repo.to_string(),
            what,
            // A URL in git's message may carry a password.
            reason: super::mask_password(&crate::diag::chain(&e)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names_are_safe_and_distinct() {
        let a = cache_name("https://github.com/acme/api.git");
        let b = cache_name("https://github.com/other/api.git");
        assert!(a.starts_with("acme-api-"), "{a}");
        assert!(a.ends_with(".git"));
        assert_ne!(a, b);
        let odd = cache_name("file:///tmp/../x y/..");
        assert!(!odd.contains('/') && !odd.starts_with('.'), "{odd}");
        let scp = cache_name("git@github.com:acme/tools.git");
        assert!(scp.starts_with("acme-tools-"), "{scp}");
    }

    #[test]
    fn token_only_for_github_hosts_over_https() {
        let auth = Auth::new(Some("t0k".into()), "https://ghe.example.com/api/v3");
        assert!(auth.header_for("https://github.com/acme/a.git").is_some());
        assert!(auth
            .header_for("https://x@ghe.example.com/acme/a.git")
            .is_some());
        assert!(auth.header_for("http://github.com/acme/a.git").is_none());
        assert!(auth.header_for("https://gitlab.com/acme/a.git").is_none());
        assert!(auth.header_for("https://github.com.evil.io/a").is_none());
        assert!(auth.header_for("file:///srv/a.git").is_none());
        let api = Auth::new(Some("t".into()), "https://api.github.com");
        assert_eq!(api.hosts, vec!["github.com".to_string()]);
        assert!(!format!("{auth:?}").contains("t0k"));
    }
}
