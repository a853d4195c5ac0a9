//! What every forge listing shares: one hardened HTTP client for the API
//! and one rule for the clone URLs its answers hold.
//!
//! Why here and not in each forge: the rules are security rules and must be
//! the same everywhere.
//!
//! - The token goes only to the API origin the user named (`https://`, or
//!   `http://` to this machine), and a next-page URL on another origin is
//!   refused, not followed with the token.
//! - An API answer is hostile input: a clone URL is accepted only when it
//!   is `https://` (or `http://` when the API itself is on loopback) or ssh,
//!   on the API's own git host. Anything else (a local path, `file://`,
//!   `ext::`, another host) would make keysweep read this machine's files or
//!   hand the token's repositories to a stranger; it is skipped with a
//!   warning. User info in an https URL is dropped (credentials travel in a
//!   header, never in a URL).
//! - Error answers say what happened and what to do: 401 (token), 403/429
//!   (rate limit, with when it resets), 404 (name), 5xx (retried twice).

use super::{OrgError, RepoSpec};
use crate::settings::{is_loopback, url_host};
use std::time::Duration;

/// A guard against a server whose pages never end: 1000 pages of up to 100.
pub(crate) const MAX_PAGES: usize = 1000;

/// One forge API: its origin, its auth header, and what it lists (for
/// messages: "GitLab group `acme`").
pub(crate) struct Api {
    agent: ureq::Agent,
    origin: String,
    auth: Option<(&'static str, String)>,
    pub what: String,
    /// The host clone URLs must be on.
    pub git_host: String,
    /// The API is on this machine: `http://` clone URLs are accepted too.
    loopback: bool,
    /// Where the token comes from, for hints (`GITLAB_TOKEN`).
    token_var: &'static str,
}

/// An answer the caller reads: its body and the headers pagination needs.
pub(crate) struct Answer {
    pub body: String,
    headers: Vec<(String, String)>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `rel="next"` target of the `Link` header.
    pub(crate) fn next_link(&self) -> Option<String> {
        self.header("link").and_then(next_link)
    }
}

impl Api {
    /// `base` is the API root the user named (already checked by settings:
    /// `https://`, or `http://` to loopback); `auth` is the header name and
    /// value that carry the token.
    pub fn new(
        what: String,
        base: &str,
        auth: Option<(&'static str, String)>,
        token_var: &'static str,
    ) -> Result<Api, OrgError> {
        let fail = |reason: String| OrgError::Forge {
            what: what.clone(),
            reason,
        };
        let (origin, scheme, host) = match (origin_of(base), url_host(base)) {
            (Some(o), Some((scheme, host))) => (o, scheme, host),
            _ => return Err(fail(format!("API URL `{base}` is not an http(s) URL"))),
        };
        let loopback = is_loopback(&host);
        if scheme != "https" && !loopback {
            return Err(fail(format!(
                "refusing to use the API over plain http at {origin}; use https"
            )));
        }
        let git_host = host.strip_prefix("api.").unwrap_or(&host).to_string();
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .redirects(0)
            .user_agent(concat!("keysweep/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Api {
            agent,
            origin,
            auth,
            what,
            git_host,
            loopback,
            token_var,
        })
    }

    pub fn fail(&self, reason: impl Into<String>) -> OrgError {
        OrgError::Forge {
            what: self.what.clone(),
            reason: reason.into(),
        }
    }

    /// GETs `url` (on the API's origin only) as JSON, retrying a 5xx
    /// answer twice; any other error answer is an error naming the status
    /// and what to do.
    pub fn get(&self, url: &str) -> Result<Answer, OrgError> {
        if origin_of(url).as_deref() != Some(self.origin.as_str()) {
            return Err(self.fail(format!(
                "the API's next page is on another origin ({}); not following it with the token",
                origin_of(url).unwrap_or_else(|| "not an http(s) URL".into())
            )));
        }
        let mut attempt = 0u32;
        loop {
            let mut req = self.agent.get(url).set("Accept", "application/json");
            if let Some((name, value)) = &self.auth {
                req = req.set(name, value);
            }
            match req.call() {
                Ok(resp) => {
                    let headers = resp
                        .headers_names()
                        .into_iter()
                        .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
                        .collect();
                    let body = resp
                        .into_string()
                        .map_err(|e| self.fail(format!("cannot read the answer: {e}")))?;
                    return Ok(Answer { body, headers });
                }
                Err(ureq::Error::Status(code, _)) if code >= 500 && attempt < 2 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(500 * u64::from(attempt)));
                }
                Err(ureq::Error::Status(code, resp)) => return Err(self.status_error(code, resp)),
                Err(e) => return Err(self.fail(format!("request failed: {e}"))),
            }
        }
    }

    fn status_error(&self, code: u16, resp: ureq::Response) -> OrgError {
        let reset = resp
            .header("x-ratelimit-reset")
            .or_else(|| resp.header("ratelimit-reset"))
            .and_then(|v| v.trim().parse::<u64>().ok());
        let retry_after = resp
            .header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok());
        let remaining_zero = resp
            .header("x-ratelimit-remaining")
            .or_else(|| resp.header("ratelimit-remaining"))
            .is_some_and(|v| v.trim() == "0");
        let body = resp.into_string().unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                ["message", "error"].iter().find_map(|k| match v.get(k) {
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(serde_json::Value::Object(o)) => o
                        .get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string),
                    _ => None,
                })
            })
            .map(|m| format!(" {}", m.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let rate_limited =
            code == 429 || (code == 403 && (remaining_zero || retry_after.is_some()));
        let hint = if rate_limited {
            let wait = retry_after.or_else(|| reset.map(|r| r.saturating_sub(now)));
            match wait {
                Some(s) => format!(
                    "\nhint: rate limited; the limit resets in {s} s (a token raises the limit)"
                ),
                None => "\nhint: rate limited; a token raises the limit".to_string(),
            }
        } else {
            match code {
                401 => format!("\nhint: set {} to a valid token", self.token_var),
                403 => format!(
                    "\nhint: the token in {} is not allowed to list these repositories",
                    self.token_var
                ),
                404 => "\nhint: check the name (and the token's access to it)".to_string(),
                _ => String::new(),
            }
        };
        self.fail(format!("HTTP {code}{message}{hint}"))
    }

    /// The clone URL of one repository in an answer, when it is allowed:
    /// `https://` (user info dropped) or ssh on the API's git host, or
    /// `http://` when the API is on loopback. `Err` says why not.
    pub fn clone_url(&self, url: &str) -> Result<String, String> {
        let url = url.trim();
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("holds spaces or control characters".into());
        }
        if let Some((scheme, rest)) = url.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let Some((_, host)) = url_host(url) else {
                return Err("has no host".into());
            };
            let on_host = host == self.git_host;
            match scheme.as_str() {
                "https" | "http" if on_host && (scheme == "https" || self.loopback) => {
                    let path = rest.strip_prefix(authority).unwrap_or("");
                    if path.is_empty() || path == "/" {
                        return Err("names no repository".into());
                    }
                    Ok(format!("{scheme}://{host_port}{path}"))
                }
                "ssh" if on_host => Ok(url.to_string()),
                _ if !on_host => Err(format!("is not on {}", self.git_host)),
                _ => Err(format!(
                    "is not https{} or ssh",
                    if self.loopback { "/http" } else { "" }
                )),
            }
        } else {
            // scp-like `user@host:path` (ssh); never a local path.
            match url.split_once(':') {
                Some((head, path))
                    if head.contains('@') && !head.contains('/') && !path.is_empty() =>
                {
                    let host = head.rsplit_once('@').map_or(head, |(_, h)| h);
                    if host.eq_ignore_ascii_case(&self.git_host) && !path.starts_with('-') {
                        Ok(url.to_string())
                    } else {
                        Err(format!("is not on {}", self.git_host))
                    }
                }
                _ => Err("is not a URL (a local path?)".into()),
            }
        }
    }
}

/// Repositories of one listing and what was left out.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub repos: Vec<RepoSpec>,
    pub archived_skipped: usize,
    pub forks_skipped: usize,
    /// Clone URLs the rule refused: `(repository, why)`, already checked
    /// against [`Api::clone_url`].
    pub refused: Vec<(String, String)>,
    pub wikis: usize,
}

impl Listing {
    /// Adds one repository of an answer: its clone URL checked, archived
    /// ones and forks left out unless asked for, and its wiki when asked.
    pub fn take(&mut self, api: &Api, filter: &Filter, repo: Candidate<'_>) {
        if repo.archived && !filter.include_archived {
            self.archived_skipped += 1;
            return;
        }
        if repo.fork && !filter.include_forks {
            self.forks_skipped += 1;
            return;
        }
        match api.clone_url(repo.clone_url) {
            Ok(url) => {
                if filter.include_wikis {
                    if let Some(wiki) = repo.wiki_url.and_then(|w| api.clone_url(&w).ok()) {
                        self.wikis += 1;
                        let mut spec = RepoSpec::parse(&wiki);
                        spec.wiki = true;
                        self.repos.push(spec);
                    }
                }
                self.repos.push(RepoSpec::parse(&url));
            }
            Err(why) => {
                let shown: String = repo.clone_url.chars().take(200).collect();
                self.refused
                    .push((repo.name.to_string(), format!("clone URL `{shown}` {why}")));
            }
        }
    }

    pub fn finish(mut self) -> Listing {
        self.repos = super::dedup(self.repos);
        self
    }
}

/// What to keep of a listing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Filter {
    pub include_archived: bool,
    pub include_forks: bool,
    pub include_wikis: bool,
}

/// One repository as an API describes it.
pub(crate) struct Candidate<'a> {
    pub name: &'a str,
    pub clone_url: &'a str,
    pub archived: bool,
    pub fork: bool,
    /// Its wiki's clone URL, when the forge says it has one.
    pub wiki_url: Option<String>,
}

/// One repository as GitHub's REST API (and Gitea's, which follows it)
/// lists it.
#[derive(serde::Deserialize)]
struct GithubShapedRepo {
    #[serde(default)]
    full_name: String,
    clone_url: Option<String>,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    fork: bool,
    #[serde(default)]
    has_wiki: bool,
}

/// Lists a GitHub-shaped API (GitHub, Gitea, Forgejo) from `first`: each
/// page a JSON list of repositories, the next page in the `Link` header. An
/// empty page ends the listing even if a server keeps linking onwards.
pub(crate) fn list_link_paged(
    api: &Api,
    first: String,
    filter: &Filter,
) -> Result<Listing, OrgError> {
    let mut url = first;
    let mut out = Listing::default();
    for _ in 0..MAX_PAGES {
        let answer = api.get(&url)?;
        let page: Vec<GithubShapedRepo> = serde_json::from_str(&answer.body).map_err(|e| {
            api.fail(format!(
                "unexpected answer (not a list of repositories): {e}"
            ))
        })?;
        for repo in &page {
            let Some(clone_url) = &repo.clone_url else {
                continue;
            };
            out.take(
                api,
                filter,
                Candidate {
                    name: &repo.full_name,
                    clone_url,
                    archived: repo.archived,
                    fork: repo.fork,
                    wiki_url: repo.has_wiki.then(|| wiki_beside(clone_url)),
                },
            );
        }
        match answer.next_link() {
            Some(next) if !page.is_empty() => url = next,
            _ => return Ok(out.finish()),
        }
    }
    Err(api.fail(format!("more than {MAX_PAGES} pages of repositories")))
}

/// `https://host/x/r.git` → `https://host/x/r.wiki.git`: where GitHub,
/// GitLab and Gitea serve a repository's wiki.
pub(crate) fn wiki_beside(clone_url: &str) -> String {
    let base = clone_url.strip_suffix(".git").unwrap_or(clone_url);
    format!("{base}.wiki.git")
}

/// `scheme://host[:port]` of an http(s) URL, lower-cased.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{}", host_port.to_ascii_lowercase()))
}

/// The `rel="next"` target of a `Link` header (RFC 8288):
/// `<url>; rel="next", <url>; rel="last"`.
pub(crate) fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_string())
    })
}

/// Whether `name` is a plausible account, organization or workspace name:
/// what goes into an API path is never able to change the path.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(base: &str) -> Api {
        Api::new("test".into(), base, None, "T").expect("valid API")
    }

    #[test]
    fn clone_urls_only_on_the_api_host() {
        let gh = api("https://api.github.com");
        assert_eq!(gh.git_host, "github.com");
        assert_eq!(
            gh.clone_url("https://github.com/acme/a.git").as_deref(),
            Ok("https://github.com/acme/a.git")
        );
        assert_eq!(
            gh.clone_url("https://user:pw@GitHub.com/acme/a.git")
                .as_deref(),
            Ok("https://GitHub.com/acme/a.git")
        );
        assert!(gh.clone_url("git@github.com:acme/a.git").is_ok());
        assert!(gh.clone_url("ssh://git@github.com/acme/a.git").is_ok());
        for hostile in [
            "file:///etc",
            "/home/victim/repo",
            "../repo",
            "ext::sh -c touch% /tmp/pwned",
            "http://github.com/acme/a.git",
            "https://github.com.evil.io/a.git",
            "https://evil.io/github.com/a.git",
            "git@evil.io:acme/a.git",
            "git://github.com/acme/a.git",
            "https://github.com",
            "https://github.com/a b",
            "git@github.com:-oProxyCommand=x",
            "",
        ] {
            assert!(gh.clone_url(hostile).is_err(), "{hostile} accepted");
        }
        let local = api("http://127.0.0.1:8080/api/v4");
        assert!(local.clone_url("http://127.0.0.1:9/x/a.git").is_ok());
        assert!(local.clone_url("http://localhost/x/a.git").is_err());
        let ghe = api("https://ghe.example.com/api/v3");
        assert_eq!(ghe.git_host, "ghe.example.com");
        assert!(ghe.clone_url("https://github.com/a/b.git").is_err());
    }

    #[test]
    fn plain_http_api_only_on_loopback() {
        assert!(Api::new("t".into(), "http://ghe.example.com", None, "T").is_err());
        assert!(Api::new("t".into(), "http://[::1]:80/api", None, "T").is_ok());
        assert!(Api::new("t".into(), "ftp://x", None, "T").is_err());
    }

    #[test]
    fn link_header_and_helpers() {
        let h = r#"<https://api.github.com/organizations/1/repos?page=2>; rel="next", <https://api.github.com/organizations/1/repos?page=5>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/organizations/1/repos?page=2")
        );
        assert_eq!(next_link(r#"<https://a/x?page=1>; rel="prev""#), None);
        assert_eq!(
            origin_of("https://API.github.com/orgs/x").as_deref(),
            Some("https://api.github.com")
        );
        assert_eq!(origin_of("file:///x"), None);
        assert_eq!(
            crate::term::percent_encode(b"acme/sub group", b""),
            "acme%2Fsub%20group"
        );
        assert_eq!(wiki_beside("https://h/a/b.git"), "https://h/a/b.wiki.git");
        assert!(valid_name("acme-1.x"));
        assert!(!valid_name("../x") && !valid_name("a/b") && !valid_name(""));
    }
}
