//! The projects of a GitLab group and all its subgroups, from the REST API
//! v4: `GET /api/v4/groups/{path}/projects?include_subgroups=true`, page by
//! page as the `x-next-page` header says (empty on the last page), else the
//! `Link: rel="next"` header GitLab sends when it pages by keyset.
//!
//! The token goes in GitLab's `PRIVATE-TOKEN` header. Projects shared into
//! the group from elsewhere are left out (`with_shared=false`): the group's
//! own projects are what its owners answer for.

use super::forge::{self, Api, Candidate, Filter, Listing};
use super::OrgError;
use serde::Deserialize;

pub(crate) struct Query<'a> {
    /// The instance, e.g. `https://gitlab.com` (the API is under `/api/v4`).
    pub url: &'a str,
    /// The group's full path, e.g. `acme` or `acme/platform`.
    pub group: &'a str,
    pub token: Option<&'a str>,
    pub filter: Filter,
}

#[derive(Deserialize)]
struct ProjectJson {
    #[serde(default)]
    path_with_namespace: String,
    http_url_to_repo: Option<String>,
    #[serde(default)]
    archived: bool,
    /// Present (an object) on forks.
    #[serde(default)]
    forked_from_project: Option<serde_json::Value>,
    #[serde(default)]
    wiki_enabled: bool,
}

/// Whether `group` is a GitLab group path: names joined by `/`.
fn valid_group(group: &str) -> bool {
    !group.is_empty() && group.split('/').all(forge::valid_name)
}

pub(crate) fn list_repos(q: &Query<'_>) -> Result<Listing, OrgError> {
    let what = format!("GitLab group `{}`", q.group);
    if !valid_group(q.group) {
        return Err(OrgError::Forge {
            what,
            reason: "not a valid group path".into(),
        });
    }
    let base = format!("{}/api/v4", q.url.trim_end_matches('/'));
    let auth = q.token.map(|t| ("PRIVATE-TOKEN", t.to_string()));
    let api = Api::new(what, &base, auth, "GITLAB_TOKEN")?;
    let first = |page: &str| {
        format!(
            "{base}/groups/{}/projects?include_subgroups=true&with_shared=false&per_page=100&order_by=id&sort=asc&page={page}",
            crate::term::percent_encode(q.group.as_bytes(), b"")
        )
    };

    let mut url = first("1");
    let mut out = Listing::default();
    for _ in 0..forge::MAX_PAGES {
        let answer = api.get(&url)?;
        let page: Vec<ProjectJson> = serde_json::from_str(&answer.body)
            .map_err(|e| api.fail(format!("unexpected answer (not a list of projects): {e}")))?;
        for p in &page {
            let Some(clone_url) = &p.http_url_to_repo else {
                continue;
            };
            out.take(
                &api,
                &q.filter,
                Candidate {
                    name: &p.path_with_namespace,
                    clone_url,
                    archived: p.archived,
                    fork: p.forked_from_project.as_ref().is_some_and(|f| !f.is_null()),
                    wiki_url: p.wiki_enabled.then(|| forge::wiki_beside(clone_url)),
                },
            );
        }
        let next_page = answer
            .header("x-next-page")
            .map(str::trim)
            .filter(|n| !n.is_empty());
        match (next_page, answer.next_link()) {
            (Some(n), _) => {
                let n: u32 = n.parse().map_err(|_| {
                    api.fail(format!(
                        "x-next-page `{}` is not a page number",
                        n.chars().take(20).collect::<String>()
                    ))
                })?;
                url = first(&n.to_string());
            }
            (None, Some(link)) => url = link,
            (None, None) => return Ok(out.finish()),
        }
    }
    Err(api.fail(format!("more than {} pages of projects", forge::MAX_PAGES)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_paths() {
        assert!(valid_group("acme"));
        assert!(valid_group("acme/platform/infra"));
        assert!(!valid_group("acme//x"));
        assert!(!valid_group("acme/../x"));
        assert!(!valid_group("acme?x=1"));
    }
}
