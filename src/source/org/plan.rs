//! From the `org` settings to one scan: every forge listing and repository
//! list resolved to clone URLs (credentials per host for the clones), one
//! scan per URL however many sources name it, this shard's share, and what
//! was left out said on stderr.

use super::forge::Listing;
use super::{
    azure, bitbucket, clone, dedup, gitea, github, gitlab, scan_org, OrgError, OrgOptions,
};
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::settings::{OrgSettings, Source};
use crate::source::git::HistoryOptions;
use crate::source::SourceScan;

/// `keysweep org`: lists every source's repositories, keeps one per URL
/// (and this shard's share), scans them, and says what was left out.
pub(crate) fn scan_sources(
    o: &OrgSettings,
    detector: &Detector,
    history: &HistoryOptions,
    diag: &Diagnostics,
) -> Result<SourceScan, OrgError> {
    let tokens = &o.tokens;
    let mut auth = clone::Auth::new(tokens.github.clone(), &o.github_api_url);
    let mut repos = Vec::new();
    for source in &o.sources {
        let (what, listing): (String, Listing) = match source {
            Source::File(specs) => {
                repos.extend(specs.iter().cloned());
                continue;
            }
            Source::GithubOrg(name) | Source::GithubUser(name) => {
                let owner = match source {
                    Source::GithubOrg(_) => github::Owner::Org(name),
                    _ => github::Owner::User(name),
                };
                let listing = github::list_repos(&github::Query {
                    api_url: &o.github_api_url,
                    owner,
                    token: tokens.github.as_deref(),
                    filter: o.filter,
                })?;
                (name.clone(), listing)
            }
            Source::GitlabGroup { url, group } => {
                if let (Some(t), Some(host)) = (&tokens.gitlab, clone::git_host_of(url)) {
                    auth.add_basic(&host, "oauth2", t);
                }
                let listing = gitlab::list_repos(&gitlab::Query {
                    url,
                    group,
                    token: tokens.gitlab.as_deref(),
                    filter: o.filter,
                })?;
                (group.clone(), listing)
            }
            Source::GiteaOrg { url, org: name } => {
                if let (Some(t), Some(host)) = (&tokens.gitea, clone::git_host_of(url)) {
                    // Gitea takes a token as the Basic password, whatever the user.
                    auth.add_basic(&host, "oauth2", t);
                }
                let listing = gitea::list_repos(&gitea::Query {
                    url,
                    org: name,
                    token: tokens.gitea.as_deref(),
                    filter: o.filter,
                })?;
                (name.clone(), listing)
            }
            Source::BitbucketWorkspace { api_url, workspace } => {
                if let (Some(t), Some(host)) = (&tokens.bitbucket, clone::git_host_of(api_url)) {
                    // Bitbucket's documented user for access tokens over git.
                    auth.add_basic(&host, "x-token-auth", t);
                }
                let listing = bitbucket::list_repos(&bitbucket::Query {
                    api_url,
                    workspace,
                    token: tokens.bitbucket.as_deref(),
                    filter: o.filter,
                })?;
                (workspace.clone(), listing)
            }
            Source::AzureOrg { url, org, project } => {
                if let (Some(t), Some(host)) = (&tokens.azure, clone::git_host_of(url)) {
                    // A personal access token as Basic with an empty user.
                    auth.add_basic(&host, "", t);
                }
                let listing = azure::list_repos(&azure::Query {
                    url,
                    org,
                    project: project.as_deref(),
                    token: tokens.azure.as_deref(),
                    filter: o.filter,
                })?;
                let name = match project {
                    Some(p) => format!("{org}/{p}"),
                    None => org.clone(),
                };
                (name, listing)
            }
        };
        for (repo, why) in &listing.refused {
            diag.warn(format_args!("{what}: repository `{repo}`: {why}; skipped"));
        }
        let wikis = if o.filter.include_wikis {
            format!(", {} wikis", listing.wikis)
        } else {
            String::new()
        };
        diag.say(format_args!(
            "{} repositories in {what}{wikis} ({} archived and {} forks left out)",
            listing.repos.len() - listing.wikis.min(listing.repos.len()),
            listing.archived_skipped,
            listing.forks_skipped
        ));
        repos.extend(listing.repos);
    }
    // One scan per URL, however many sources list it.
    let mut repos = dedup(repos);
    if let Some(shard) = o.shard {
        let all = repos.len();
        repos.retain(|r| shard.holds(&r.name));
        diag.say(format_args!(
            "shard {}/{}: {} of {all} repositories",
            shard.index,
            shard.count,
            repos.len()
        ));
    }
    let opts = OrgOptions {
        cache_dir: o.cache_dir.clone(),
        jobs: o.jobs,
        repo_timeout: o.repo_timeout,
        auth,
        history: history.clone(),
    };
    let result = scan_org(&repos, detector, &opts, diag)?;
    if result.unchanged > 0 {
        diag.say(format_args!(
            "{} repositories unchanged since their last scan: not read",
            result.unchanged
        ));
    }
    if !result.wikis_absent.is_empty() {
        diag.say(format_args!(
            "{} wikis could not be cloned (most likely never written to); not counted as failures",
            result.wikis_absent.len()
        ));
    }
    if !result.failed.is_empty() {
        diag.say(format_args!(
            "{} of {} repositories could not be scanned:",
            result.failed.len(),
            repos.len()
        ));
        for (repo, _) in &result.failed {
            diag.say(format_args!("  - {repo}"));
        }
    }
    Ok(result.scan)
}
