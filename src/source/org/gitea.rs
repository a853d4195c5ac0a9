//! The repositories of a Gitea or Forgejo organization, from the REST API
//! v1: `GET /api/v1/orgs/{org}/repos?limit=50&page=N`, following the
//! `Link: rel="next"` header (50 is the servers' default page size cap).
//!
//! The token goes in Gitea's `Authorization: token …` header.

use super::forge::{self, Api, Candidate, Filter, Listing};
use super::OrgError;
use serde::Deserialize;

pub struct Query<'a> {
    /// The instance, e.g. `https://codeberg.org` (the API is under `/api/v1`).
    pub url: &'a str,
    pub org: &'a str,
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

pub fn list_repos(q: &Query<'_>) -> Result<Listing, OrgError> {
    let what = format!("Gitea organization `{}`", q.org);
    if !forge::valid_name(q.org) {
        return Err(OrgError::Forge {
            what,
            reason: "not a valid name".into(),
        });
    }
    let base = format!("{}/api/v1", q.url.trim_end_matches('/'));
    let auth = q.token.map(|t| ("Authorization", format!("token {t}")));
    let api = Api::new(what, &base, auth, "GITEA_TOKEN")?;

    let mut url = format!("{base}/orgs/{}/repos?limit=50&page=1", q.org);
    let mut out = Listing::default();
    for _ in 0..forge::MAX_PAGES {
        let answer = api.get(&url)?;
        let page: Vec<RepoJson> = serde_json::from_str(&answer.body).map_err(|e| {
            api.fail(format!(
                "unexpected answer (not a list of repositories): {e}"
            ))
        })?;
        for r in &page {
            let Some(clone_url) = &r.clone_url else {
                continue;
            };
            out.take(
                &api,
                &q.filter,
                Candidate {
                    name: &r.full_name,
                    clone_url,
                    archived: r.archived,
                    fork: r.fork,
                    wiki_url: r.has_wiki.then(|| forge::wiki_beside(clone_url)),
                },
            );
        }
        match answer.next_link() {
            // An empty page ends the listing even if a server keeps
            // linking onwards.
            Some(next) if !page.is_empty() => url = next,
            _ => return Ok(out.finish()),
        }
    }
    Err(api.fail(format!(
        "more than {} pages of repositories",
        forge::MAX_PAGES
    )))
}
