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

/// Credentials for cloning: per git host, the HTTP header that carries
/// that forge's token. A token is only ever sent to its own forge's host.
#[derive(Clone, Default)]
pub struct Auth {
    /// `(host, header)`: the `http.extraHeader` for https URLs of `host`.
    entries: Vec<(String, String)>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hosts: Vec<&str> = self.entries.iter().map(|(h, _)| h.as_str()).collect();
        f.debug_struct("Auth").field("hosts", &hosts).finish()
    }
}

impl Auth {
    /// GitHub's token for github.com and the `--github-api-url` host
    /// (GitHub Enterprise serves git and the API on one host). GitHub's git
    /// endpoint refuses `Bearer` tokens (it answers 401 and git then asks
    /// for a user name); it takes HTTP Basic with the user
    /// `x-access-token`, as actions/checkout sends it.
    pub fn new(token: Option<String>, api_url: &str) -> Self {
        let mut auth = Auth::default();
        if let Some(token) = token.filter(|t| !t.is_empty()) {
            auth.add_basic("github.com", "x-access-token", &token);
            if let Some(h) = git_host_of(api_url) {
                auth.add_basic(&h, "x-access-token", &token);
            }
        }
        auth
    }

    /// Sends `user:token` as HTTP Basic to `host` (the host of an API URL
    /// with a leading `api.` dropped, as forges serve git beside it).
    pub(crate) fn add_basic(&mut self, host: &str, user: &str, token: &str) {
        use base64::Engine;
        if token.is_empty() {
            return;
        }
        let host = host.to_ascii_lowercase();
        if self.entries.iter().any(|(h, _)| *h == host) {
            // The first forge named for a host keeps it.
            return;
        }
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
        self.entries
            .push((host, format!("Authorization: Basic {basic}")));
    }

    /// The `http.extraHeader` value for `url`, when it is an https URL of
    /// a host with a token (or http to this machine, for a test server).
    fn header_for(&self, url: &str) -> Option<String> {
        let host = http_host(url)?;
        self.entries
            .iter()
            .find(|(h, _)| *h == host)
            .map(|(_, header)| header.clone())
    }
}

/// The lower-cased `host[:port]` of an `https://` URL (`:443` dropped), or
/// of an `http://` URL to this machine (no user info). The port is kept so
/// that two forges on one host (two test servers on loopback) never get
/// each other's token.
fn http_host(url: &str) -> Option<String> {
    let (scheme, host) = crate::settings::url_host(url)?;
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = host_port
        .rsplit_once(':')
        .filter(|(h, _)| !h.ends_with(']') || host_port.starts_with('['))
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let with_port = |default: &str| match port {
        Some(p) if p != default => format!("{host}:{p}"),
        _ => host.clone(),
    };
    match scheme.as_str() {
        "https" => Some(with_port("443")),
        "http" if crate::settings::is_loopback(&host) => Some(with_port("80")),
        _ => None,
    }
}

/// The git host (`host[:port]`) of a forge API URL: its host without a
/// leading `api.` (forges serve git beside their API).
pub(crate) fn git_host_of(api_url: &str) -> Option<String> {
    let h = http_host(api_url)?;
    Some(h.strip_prefix("api.").unwrap_or(&h).to_string())
}

/// The cache directory of a repository: a readable name from the end of
/// the URL plus a short hash of the whole URL, so two `api.git` of
/// different owners never share a clone.
pub(crate) fn cache_name(url: &str) -> String {
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
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
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
        assert_eq!(api.entries.len(), 1);
        assert!(!format!("{auth:?}").contains("t0k"));
        let mut gl = Auth::default();
        gl.add_basic("gitlab.example.com", "oauth2", "glpat");
        assert!(gl
            .header_for("https://gitlab.example.com/a/b.git")
            .is_some());
        assert!(gl.header_for("https://github.com/a/b.git").is_none());
        assert!(gl.header_for("http://gitlab.example.com/a/b.git").is_none());
        gl.add_basic("127.0.0.1:8080", "oauth2", "glpat");
        assert!(gl.header_for("http://127.0.0.1:8080/a/b.git").is_some());
        assert!(gl.header_for("http://127.0.0.1:8081/a/b.git").is_none());
        assert_eq!(
            git_host_of("https://api.github.com:443/").as_deref(),
            Some("github.com")
        );
        assert_eq!(git_host_of("http://[::1]:9/api").as_deref(), Some("::1:9"));
    }
}
