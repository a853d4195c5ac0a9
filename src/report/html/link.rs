//! Links to a commit on GitHub or GitLab, built only from validated parts.
//!
//! The repository name is scanned data (an org list, a merged report): it
//! may be `javascript:…`, hold quotes, or point anywhere. A link is made
//! only when the name parses as an `https` URL or an scp-style
//! `git@host:path` whose host is plain (letters, digits, `-`, `.`, an
//! optional port), whose first label says which forge it is (`github…` or
//! `gitlab…`), and the commit id is 40 or 64 lowercase hex digits. Every path
//! segment is percent-encoded, so nothing in it can end the path or the
//! attribute. Any other name gets no link.

/// The forges whose commit URLs we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forge {
    GitHub,
    GitLab,
}

/// `https://HOST/SEGMENTS…/commit/ID` (GitHub) or `…/-/commit/ID` (GitLab).
pub(super) fn commit_url(repo: &str, commit: &str) -> Option<String> {
    if !is_commit_id(commit) {
        return None;
    }
    let (host, path) = split_repo(repo)?;
    let host = host.to_ascii_lowercase();
    if !is_plain_host(&host) {
        return None;
    }
    let forge = match host.split('.').next() {
        Some("github") => Forge::GitHub,
        Some("gitlab") => Forge::GitLab,
        _ => return None,
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() < 2
        || (forge == Forge::GitHub && segments.len() != 2)
        || segments
            .iter()
            .any(|s| s.is_empty() || *s == "." || *s == ".." || *s == "-")
    {
        return None;
    }
    let mut url = format!("https://{host}");
    for s in &segments {
        url.push('/');
        url.push_str(&crate::term::percent_encode(s.as_bytes(), b""));
    }
    match forge {
        Forge::GitHub => url.push_str("/commit/"),
        Forge::GitLab => url.push_str("/-/commit/"),
    }
    url.push_str(commit);
    Some(url)
}

/// Host and path of `https://HOST/PATH` or `git@HOST:PATH`; nothing else
/// (no user info, query or fragment).
fn split_repo(repo: &str) -> Option<(&str, &str)> {
    if let Some(rest) = repo.strip_prefix("https://") {
        let (host, path) = rest.split_once('/')?;
        if path.contains(['?', '#']) {
            return None;
        }
        return Some((host, path));
    }
    let rest = repo.strip_prefix("git@")?;
    let (host, path) = rest.split_once(':')?;
    if path.starts_with('/') || path.contains(['?', '#']) {
        return None;
    }
    Some((host, path))
}

/// Lowercase DNS labels, optionally `:PORT`; no user info, no IP literal
/// brackets, nothing a URL parser would read differently.
fn is_plain_host(host: &str) -> bool {
    let (name, port) = match host.split_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok
        && !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// A full SHA-1 or SHA-256 commit id in lowercase hex.
fn is_commit_id(id: &str) -> bool {
    (id.len() == 40 || id.len() == 64)
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn github_and_gitlab_urls() {
        assert_eq!(
            commit_url("https://github.com/acme/api.git", ID).as_deref(),
            Some("https://github.com/acme/api/commit/0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(
            commit_url("git@github.com:acme/api.git", ID).as_deref(),
            Some("https://github.com/acme/api/commit/0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(
            commit_url("https://gitlab.com/acme/platform/api/", ID).as_deref(),
            Some("https://gitlab.com/acme/platform/api/-/commit/0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(
            commit_url("https://GitLab.example.org:8443/a/b", ID).as_deref(),
            Some("https://gitlab.example.org:8443/a/b/-/commit/0123456789abcdef0123456789abcdef01234567")
        );
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(
            commit_url("https://github.com/ac me/a\"b<c>", ID).as_deref(),
            Some("https://github.com/ac%20me/a%22b%3Cc%3E/commit/0123456789abcdef0123456789abcdef01234567")
        );
    }

    #[test]
    fn anything_else_gets_no_link() {
        for repo in [
            "javascript:alert(1)//github.com/a/b",
            "JavaScript://github.com/a/b",
            "data:text/html,<script>alert(1)</script>",
            "http://github.com/acme/api",
            "https://evil.com/acme/api",
            "https://user@github.com/acme/api",
            "https://github.com@evil.com/acme/api",
            "https://github.com/acme",
            "https://github.com/acme/api/extra",
            "https://github.com/acme/../api",
            "https://github.com/acme/api?x=1",
            "https://github.com/acme/api#frag",
            "https://github.com\\evil.com/a/b",
            "https://[::1]/a/b",
            "https://github.com:/a/b",
            "https://-github.com/a/b",
            "git@github.com:/etc/passwd",
            "/srv/git/api",
            "../github.com/a/b",
            "",
        ] {
            assert_eq!(commit_url(repo, ID), None, "{repo}");
        }
        for commit in [
            "0123456789ABCDEF0123456789abcdef01234567",
            "0123456789abcdef",
            "javascript:alert(1)",
            "0123456789abcdef0123456789abcdef0123456g",
        ] {
            assert_eq!(
                commit_url("https://github.com/a/b", commit),
                None,
                "{commit}"
            );
        }
    }
}
