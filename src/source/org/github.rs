//! The repositories of a GitHub organization, from the REST API:
//! `GET /orgs/{org}/repos?per_page=100&type=all`, following the
//! `Link: <…>; rel="next"` header page by page.
//!
//! ureq is a small blocking client with rustls: no async runtime and no
//! OpenSSL, so it works the same in `--no-default-features` builds (org
//! scanning is not part of the `verify` feature). The token is sent only to
//! the API origin the user named: a `next` link to another origin is
//! refused rather than followed with the token.

use super::{OrgError, RepoSpec};
use serde::Deserialize;
use std::time::Duration;

/// What to ask GitHub, and what to keep of its answer.
#[derive(Clone)]
pub struct Query<'a> {
    /// `https://api.github.com`, or a GitHub Enterprise `https://host/api/v3`.
    pub api_url: &'a str,
    pub org: &'a str,
    pub token: Option<&'a str>,
    pub include_archived: bool,
    pub include_forks: bool,
}

#[derive(Deserialize)]
struct RepoJson {
    clone_url: Option<String>,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    fork: bool,
}

/// The organization's repositories, and what was left out.
#[derive(Debug, Default)]
pub struct Listing {
    pub repos: Vec<RepoSpec>,
    pub archived_skipped: usize,
    pub forks_skipped: usize,
}

/// A guard against a server whose `next` link never ends: 100,000
/// repositories.
const MAX_PAGES: usize = 1000;

/// The organization's repositories as clone URLs, archived ones and forks
/// left out unless asked for.
pub fn list_repos(q: &Query<'_>) -> Result<Listing, OrgError> {
    let fail = |reason: String| OrgError::GitHub {
        org: q.org.to_string(),
        reason,
    };
    let valid_org = !q.org.is_empty()
        && q.org
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !valid_org {
        return Err(fail("not a valid organization name".into()));
    }
    let base = q.api_url.trim_end_matches('/');
    let origin = origin_of(base)
        .ok_or_else(|| fail(format!("--github-api-url `{base}` is not an http(s) URL")))?;
    if q.token.is_some() && origin.starts_with("http://") && !is_loopback(&origin) {
        return Err(fail(format!(
            "refusing to send GITHUB_TOKEN over plain http to {origin}; use https"
        )));
    }
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("keysweep/", env!("CARGO_PKG_VERSION")))
        .build();

    let mut url = format!("{base}/orgs/{}/repos?per_page=100&type=all", q.org);
    let mut out = Listing::default();
    for _ in 0..MAX_PAGES {
        let mut req = agent
            .get(&url)
            .set("Accept", "application/vnd.github+json")
            .set("X-GitHub-Api-Version", "2022-11-28");
        if let Some(token) = q.token {
            req = req.set("Authorization", &format!("Bearer {token}"));
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                let hint = match code {
                    401 => "\nhint: set GITHUB_TOKEN to a valid token",
                    403 | 429 => "\nhint: rate limited or not allowed; a token raises the limit",
                    404 => "\nhint: check the organization name (and the token's access to it)",
                    _ => "",
                };
                let body = r.into_string().unwrap_or_default();
                let message = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| {
                        v.get("message")
                            .and_then(|m| m.as_str())
                            .map(str::to_string)
                    })
                    .unwrap_or_default();
                return Err(fail(format!("HTTP {code} {message}{hint}")));
            }
            Err(e) => return Err(fail(format!("request failed: {e}"))),
        };
        let next = resp.header("link").and_then(next_link);
        let body = resp
            .into_string()
            .map_err(|e| fail(format!("cannot read the answer: {e}")))?;
        let page: Vec<RepoJson> = serde_json::from_str(&body).map_err(|e| {
            fail(format!(
                "unexpected answer (not a list of repositories): {e}"
            ))
        })?;
        for repo in page {
            let Some(clone_url) = repo.clone_url else {
                continue;
            };
            if repo.archived && !q.include_archived {
                out.archived_skipped += 1;
            } else if repo.fork && !q.include_forks {
                out.forks_skipped += 1;
            } else {
                out.repos.push(RepoSpec::parse(&clone_url));
            }
        }
        match next {
            None => {
                out.repos = super::dedup(out.repos);
                return Ok(out);
            }
            Some(n) if origin_of(&n).as_deref() == Some(origin.as_str()) => url = n,
            Some(n) => {
                return Err(fail(format!(
                "the API's next page is on another origin ({}); not following it with the token",
                origin_of(&n).unwrap_or(n)
            )))
            }
        }
    }
    Err(fail(format!("more than {MAX_PAGES} pages of repositories")))
}

/// `scheme://host[:port]` of an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// `http://localhost…`, `http://127.…`, `http://[::1]…`: a test server
/// or a tunnel on this machine, where plain http exposes nothing.
fn is_loopback(origin: &str) -> bool {
    let host = origin.split_once("://").map_or(origin, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `rel="next"` target of a `Link` header (RFC 8288), as GitHub writes
/// it: `<url>; rel="next", <url>; rel="last"`.
fn next_link(header: &str) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header() {
        let h = r#"<https://api.github.com/organizations/1/repos?page=2>; rel="next", <https://api.github.com/organizations/1/repos?page=5>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/organizations/1/repos?page=2")
        );
        assert_eq!(next_link(r#"<https://a/x?page=1>; rel="prev""#), None);
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://API.github.com/orgs/x").as_deref(),
            Some("https://api.github.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080/x?y").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("file:///x"), None);
        assert!(is_loopback("http://127.0.0.1:8080"));
        assert!(is_loopback("http://[::1]:80"));
        assert!(is_loopback("http://localhost"));
        assert!(!is_loopback("http://ghe.example.com"));
        assert!(!is_loopback("http://127.0.0.1.evil.io"));
    }
}
