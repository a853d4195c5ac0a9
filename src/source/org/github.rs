//! The repositories of a GitHub organization or user, from the REST API:
//! `GET /orgs/{org}/repos?per_page=100&type=all` (or
//! `/users/{user}/repos?per_page=100&type=owner`), following the
//! `Link: <…>; rel="next"` header page by page.
//!
//! ureq is a small blocking client with rustls: no async runtime and no
//! OpenSSL, so it works the same in `--no-default-features` builds (org
//! scanning is not part of the `verify` feature). The hardening (token only
//! to the API origin, clone URLs only on GitHub's host) is [`super::forge`]'s.

use super::forge::{self, Api, Filter, Listing};
use super::OrgError;

/// Whose repositories to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    Org(&'a str),
    User(&'a str),
}

/// What to ask GitHub, and what to keep of its answer.
#[derive(Clone)]
pub(crate) struct Query<'a> {
    /// `https://api.github.com`, or a GitHub Enterprise `https://host/api/v3`.
    pub api_url: &'a str,
    pub owner: Owner<'a>,
    pub token: Option<&'a str>,
    pub filter: Filter,
}

/// The owner's repositories as clone URLs, archived ones and forks left
/// out unless asked for.
pub(crate) fn list_repos(q: &Query<'_>) -> Result<Listing, OrgError> {
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

    forge::list_link_paged(&api, format!("{base}/{path}"), &q.filter)
}
