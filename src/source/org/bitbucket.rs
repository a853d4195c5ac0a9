//! The repositories of a Bitbucket Cloud workspace, from the REST API 2.0:
//! `GET /2.0/repositories/{workspace}?pagelen=100`, following the `next`
//! URL each page's body holds (absent on the last page).
//!
//! The token (a workspace, project or repository access token) goes as
//! `Authorization: Bearer …`. Bitbucket Cloud has no archived flag; forks
//! have a `parent`. A wiki is cloned from `<clone URL>/wiki`.

use super::forge::{self, Api, Candidate, Filter, Listing};
use super::OrgError;
use serde::Deserialize;

pub(crate) struct Query<'a> {
    /// `https://api.bitbucket.org` (git is served on bitbucket.org).
    pub api_url: &'a str,
    pub workspace: &'a str,
    pub token: Option<&'a str>,
    pub filter: Filter,
}

#[derive(Deserialize)]
struct PageJson {
    #[serde(default)]
    values: Vec<RepoJson>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct RepoJson {
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    links: LinksJson,
    #[serde(default)]
    parent: Option<serde_json::Value>,
    #[serde(default)]
    has_wiki: bool,
}

#[derive(Deserialize, Default)]
struct LinksJson {
    #[serde(default)]
    clone: Vec<CloneLink>,
}

#[derive(Deserialize)]
struct CloneLink {
    #[serde(default)]
    name: String,
    #[serde(default)]
    href: String,
}

pub(crate) fn list_repos(q: &Query<'_>) -> Result<Listing, OrgError> {
    let what = format!("Bitbucket workspace `{}`", q.workspace);
    if !forge::valid_name(q.workspace) {
        return Err(OrgError::Forge {
            what,
            reason: "not a valid name".into(),
        });
    }
    let base = q.api_url.trim_end_matches('/');
    let auth = q.token.map(|t| ("Authorization", format!("Bearer {t}")));
    let api = Api::new(what, base, auth, "BITBUCKET_TOKEN")?;

    let mut url = format!("{base}/2.0/repositories/{}?pagelen=100", q.workspace);
    let mut out = Listing::default();
    for _ in 0..forge::MAX_PAGES {
        let answer = api.get(&url)?;
        let page: PageJson = serde_json::from_str(&answer.body).map_err(|e| {
            api.fail(format!(
                "unexpected answer (not a page of repositories): {e}"
            ))
        })?;
        for r in &page.values {
            let Some(https) = r.links.clone.iter().find(|l| l.name == "https") else {
                continue;
            };
            out.take(
                &api,
                &q.filter,
                Candidate {
                    name: &r.full_name,
                    clone_url: &https.href,
                    archived: false,
                    fork: r.parent.as_ref().is_some_and(|p| !p.is_null()),
                    wiki_url: r.has_wiki.then(|| format!("{}/wiki", https.href)),
                },
            );
        }
        match page.next {
            Some(next) if !page.values.is_empty() => url = next,
            _ => return Ok(out.finish()),
        }
    }
    Err(api.fail(format!(
        "more than {} pages of repositories",
        forge::MAX_PAGES
    )))
}
