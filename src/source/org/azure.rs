//! The repositories of an Azure DevOps organization (or one of its
//! projects), from the REST API 7.1:
//! `GET {url}/{org}[/{project}]/_apis/git/repositories?api-version=7.1`.
//! The list comes whole today; when an answer carries an
//! `x-ms-continuationtoken` header (Azure's paging for long lists), the
//! same request is sent again with `continuationToken=…` until none comes.
//!
//! The token (a personal access token, from AZURE_DEVOPS_TOKEN) goes as
//! HTTP Basic with an empty user name, as Azure documents for PATs, to the
//! API and to git. Disabled repositories (`isDisabled`: Azure refuses to
//! serve them) are skipped with a warning; forks (`isFork`) are left out
//! unless asked for; Azure has no archived flag. A project wiki is a git
//! repository of its own that the repository list does not show: with
//! `--include-wikis` the wikis are listed
//! (`_apis/wiki/wikis?api-version=7.1`) and those of type `projectWiki`
//! cloned (a `codeWiki` is published from a repository already listed).
//!
//! Clone URLs (`remoteUrl`) look like `https://acme@dev.azure.com/acme/
//! Project/_git/repo`: the `acme@` user name is dropped like any user
//! info, and the host must be the API's own.

use super::forge::{self, Api, Candidate, Filter, Listing};
use super::{OrgError, RepoSpec};
use crate::term::percent_encode;
use serde::Deserialize;

pub(crate) struct Query<'a> {
    /// `https://dev.azure.com`, or an Azure DevOps Server collection URL.
    pub url: &'a str,
    pub org: &'a str,
    /// One project of the organization; `None`: all of them.
    pub project: Option<&'a str>,
    pub token: Option<&'a str>,
    pub filter: Filter,
}

#[derive(Deserialize)]
struct PageJson {
    #[serde(default)]
    value: Vec<RepoJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepoJson {
    #[serde(default)]
    name: String,
    #[serde(default)]
    project: ProjectJson,
    remote_url: Option<String>,
    #[serde(default)]
    is_disabled: bool,
    #[serde(default)]
    is_fork: bool,
}

#[derive(Deserialize, Default)]
struct ProjectJson {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct WikisJson {
    #[serde(default)]
    value: Vec<WikiJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WikiJson {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    remote_url: Option<String>,
}

/// A project name as a path segment: Azure allows spaces and most
/// punctuation in project names; `/`, `\`, `?`, `#`, `%` and control
/// characters are refused rather than escaped.
fn project_segment(project: &str) -> Option<String> {
    let ok = !project.is_empty()
        && project.len() <= 256
        && !project.chars().all(|c| c == '.')
        && !project
            .chars()
            .any(|c| c.is_control() || matches!(c, '/' | '\\' | '?' | '#' | '%'));
    ok.then(|| percent_encode(project.as_bytes(), b""))
}

pub(crate) fn list_repos(q: &Query<'_>) -> Result<Listing, OrgError> {
    let what = match q.project {
        Some(p) => format!("Azure DevOps project `{}/{p}`", q.org),
        None => format!("Azure DevOps organization `{}`", q.org),
    };
    let bad = |what: String| OrgError::Forge {
        what,
        reason: "not a valid name".into(),
    };
    if !forge::valid_name(q.org) {
        return Err(bad(what));
    }
    let mut scope = format!("{}/{}", q.url.trim_end_matches('/'), q.org);
    if let Some(p) = q.project {
        let Some(segment) = project_segment(p) else {
            return Err(bad(what));
        };
        scope = format!("{scope}/{segment}");
    }
    let auth = q.token.map(|t| {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(":{t}"));
        ("Authorization", format!("Basic {basic}"))
    });
    let api = Api::new(what, q.url, auth, "AZURE_DEVOPS_TOKEN")?;

    let first = format!("{scope}/_apis/git/repositories?api-version=7.1");
    let mut url = first.clone();
    let mut out = Listing::default();
    let mut pages = 0;
    loop {
        pages += 1;
        if pages > forge::MAX_PAGES {
            return Err(api.fail(format!(
                "more than {} pages of repositories",
                forge::MAX_PAGES
            )));
        }
        let answer = api.get(&url)?;
        let page: PageJson = serde_json::from_str(&answer.body).map_err(|e| {
            api.fail(format!(
                "unexpected answer (not a list of repositories): {e}"
            ))
        })?;
        for r in &page.value {
            let name = format!("{}/{}", r.project.name, r.name);
            if r.is_disabled {
                out.refused.push((
                    name,
                    "is disabled in Azure DevOps (it cannot be cloned)".into(),
                ));
                continue;
            }
            let Some(clone_url) = &r.remote_url else {
                continue;
            };
            out.take(
                &api,
                &q.filter,
                Candidate {
                    name: &name,
                    clone_url,
                    archived: false,
                    fork: r.is_fork,
                    wiki_url: None,
                },
            );
        }
        match answer.header("x-ms-continuationtoken") {
            Some(token) if !token.trim().is_empty() && !page.value.is_empty() => {
                url = format!(
                    "{first}&continuationToken={}",
                    percent_encode(token.trim().as_bytes(), b"")
                );
            }
            _ => break,
        }
    }
    if q.filter.include_wikis {
        let answer = api.get(&format!("{scope}/_apis/wiki/wikis?api-version=7.1"))?;
        let wikis: WikisJson = serde_json::from_str(&answer.body)
            .map_err(|e| api.fail(format!("unexpected answer (not a list of wikis): {e}")))?;
        for w in wikis.value.iter().filter(|w| w.kind == "projectWiki") {
            let Some(remote) = &w.remote_url else {
                continue;
            };
            match api.clone_url(remote) {
                Ok(url) => {
                    let mut spec = RepoSpec::parse(&url);
                    spec.wiki = true;
                    out.wikis += 1;
                    out.repos.push(spec);
                }
                Err(why) => {
                    let shown: String = remote.chars().take(200).collect();
                    out.refused
                        .push((w.name.clone(), format!("wiki clone URL `{shown}` {why}")));
                }
            }
        }
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_escaped_or_refused() {
        assert_eq!(
            project_segment("Fabrikam Fiber").as_deref(),
            Some("Fabrikam%20Fiber")
        );
        assert_eq!(project_segment("a+b=c").as_deref(), Some("a%2Bb%3Dc"));
        for bad in ["", "a/b", "a?b", "../x%2F", "a\nb", ".."] {
            assert_eq!(project_segment(bad), None, "{bad:?}");
        }
    }
}
