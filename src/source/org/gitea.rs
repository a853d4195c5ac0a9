//! The repositories of a Gitea or Forgejo organization, from the REST API
//! v1: `GET /api/v1/orgs/{org}/repos?limit=50&page=N`, following the
//! `Link: rel="next"` header (50 is the servers' default page size cap).
//!
//! The token goes in Gitea's `Authorization: token …` header.

use super::forge::{self, Api, Filter, Listing};
use super::OrgError;

pub(crate) struct Query<'a> {
    /// The instance, e.g. `https://codeberg.org` (the API is under `/api/v1`).
    pub url: &'a str,
    pub org: &'a str,
    pub token: Option<&'a str>,
    pub filter: Filter,
}

pub(crate) fn list_repos(q: &Query<'_>) -> Result<Listing, OrgError> {
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

    forge::list_link_paged(
        &api,
        format!("{base}/orgs/{}/repos?limit=50&page=1", q.org),
        &q.filter,
    )
}
