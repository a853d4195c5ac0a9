//! The repositories of a GitHub organization or user, from the REST API:
//! `GET /orgs/{org}/repos?per_page=100&type=all` (or
//! `/users/{user}/repos?per_page=100&type=owner`), following the
//! `Link: <…>; rel="next"` header page by page.
//!
//! ureq is a small blocking client with rustls: no async runtime and no
//! OpenSSL, so it works the same in `--no-default-features` builds (org
//! scanning is not part of the `verify` feature). The hardening (token only
//! to the API origin, clone URLs only on GitHub's host) is [`super::forge`]'s.

use super::forge::{self, Api, Candidate, Filter, Listing};
use super::OrgError;
use serde::Deserialize;

/// Whose repositories to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    Org(&'a str),
    User(&'a str),
}

/// What to ask GitHub, and what to keep of its answer.
#[derive(Clone)]
pub struct Query<'a> {
    /// `https://api.github.com`, or a GitHub Enterprise `https://host/api/v3`.
    pub api_url: &'a str,
    pub owner: Owner<'a>,
    pub token: Option<&'a str>,
    pub filter: Filter,
}

#[derive(Deserialize)]
struct RepoJson {
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

/// The owner's repositories as clone URLs, archived ones and forks left
/// out unless asked for.
pub fn list_repos(q: &Query<'_>) -> Result<Listing, OrgError> {
    let (what, name, path) = match q.owner {
        Owner::Org(o) => (
            format!("GitHub organization `{o}`"),
            o,
            format!("orgs/{o}/repos?per_page=100&type=all"),
        ),
        Owner::User(u) => (
            format!("GitHub user `{u}`"),
            u,
            format!("users/{u}/repos?per_page=100&type=owner"),
        ),
    };
    if !forge::valid_name(name) {
        return Err(OrgError::Forge {
            what,
            reason: "not a valid name".into(),
        });
    }
    let base = q.api_url.trim_end_matches('/');
    let auth = q.token.map(|t| ("Authorization", format!("Bearer {t}")));
    let api = Api::new(what, base, auth, "GITHUB_TOKEN")?;

    let mut url = format!("{base}/{path}");
    let mut out = Listing::default();
    for _ in 0..forge::MAX_PAGES {
        let answer = api.get(&url)?;
        let page: Vec<RepoJson> = serde_json::from_str(&answer.body).map_err(|e| {
            api.fail(format!(
                "unexpected answer (not a list of repositories): {e}"
            ))
        })?;
        for repo in &page {
            let Some(clone_url) = &repo.clone_url else {
                continue;
            };
            out.take(
                &api,
                &q.filter,
                Candidate {
                    name: &repo.full_name,
                    clone_url,
                    archived: repo.archived,
                    fork: repo.fork,
                    wiki_url: repo.has_wiki.then(|| forge::wiki_beside(clone_url)),
                },
            );
        }
        match answer.next_link() {
            None => return Ok(out.finish()),
            Some(next) => url = next,
        }
    }
    Err(api.fail(format!(
        "more than {} pages of repositories",
        forge::MAX_PAGES
    )))
}
