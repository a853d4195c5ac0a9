//! One validated [`Settings`] value, built from the command line, the
//! environment and `.keysweep.toml` before anything is scanned (ripgrep's
//! `HiArgs`, fd's `Config`): every invalid flag or combination is an error
//! in milliseconds, with a hint, never after an hour of organization scan.
//! No clap type goes past this module; the stages see plain values.

pub mod config;

use crate::blob::ReadLimits;
use crate::cli::{
    CiArgs, ColorArg, Command, CommonArgs, FailOnArg, FormatArg, GitArgs, MergeArgs, OrgArgs,
    PrePushArgs, ReadArgs, ScanArgs, VerifyArgs,
};
use crate::cli::{OwnerAccessArgs, OwnerLookupArgs, RevokeArgs, TriageArgs};
use crate::report::{Format, Style};
use crate::source::org::forge::Filter;
use crate::source::org::{RepoSpec, Shard};
use crate::term::Medium;
use crate::verify::owner::{Endpoints, OwnerOptions};
use crate::verify::VerifyOptions;
pub use config::Config;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which findings make the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailOn {
    Any,
    Live,
    None,
}

/// What one run does, fully checked.
#[derive(Debug)]
pub(crate) struct Settings {
    pub task: Task,
    /// Worker threads for reading and scanning.
    pub threads: usize,
    pub limits: ReadLimits,
    /// What to leave out of reports and never verify: the explicit
    /// `--config` and `--baseline`, or `.keysweep.toml` of the scanned
    /// directory.
    pub config: Config,
    /// `ci` and `pre-push` without `--config`: `.keysweep.toml` is read from
    /// the commit the plan trusts (the push's base, the default branch, the
    /// pull request's base), never from the commits under judgement nor
    /// from the work tree they are checked out in.
    pub config_from_trusted_commit: bool,
    /// `Some` with `--verify`.
    pub verify: Option<VerifyOptions>,
    /// `Some` with `--owner-lookup`, for `triage` and for `revoke`: how to
    /// reach AWS with the operator's own credentials.
    pub owner: Option<OwnerOptions>,
    pub output: Output,
    pub fail_on: FailOn,
}

/// Where the findings come from.
#[derive(Debug)]
pub(crate) enum Task {
    /// Files and directories.
    Files {
        paths: Vec<PathBuf>,
        respect_ignore: bool,
    },
    /// What git's index would commit, against HEAD (`scan --staged`).
    Staged {
        repo: PathBuf,
        /// The index a commit hook was handed (`GIT_INDEX_FILE`), made
        /// absolute; `None`: the repository's own.
        index_file: Option<PathBuf>,
    },
    /// Standard input (`scan -`).
    Stdin,
    /// Whole histories, or a range of commits, of one or more repositories.
    History {
        repos: Vec<PathBuf>,
        range: Option<String>,
        reachable_only: bool,
    },
    /// The commits a `git push` is sending (the pre-push hook).
    PrePush {
        repo: PathBuf,
        remote: Option<String>,
    },
    /// What a GitHub Actions event brings.
    Ci { repo: PathBuf },
    /// Many repositories.
    Org(OrgSettings),
    /// JSON reports of earlier runs (`keysweep org --shard`), combined.
    Merge { reports: Vec<PathBuf> },
    /// A JSON report, enriched with owner records (`keysweep triage`).
    Triage { report: PathBuf },
    /// Deactivating keys of a JSON report (`keysweep revoke`).
    Revoke(RevokeSettings),
}

/// What `keysweep revoke` was asked to do, checked.
#[derive(Debug)]
#[cfg_attr(
    not(feature = "verify"),
    expect(dead_code, reason = "without `verify` revoke stops before reading it")
)]
pub(crate) struct RevokeSettings {
    pub report: PathBuf,
    pub which: RevokeWhich,
    /// Only keys of these accounts; `None`: any account the operator reaches.
    pub accounts: Option<BTreeSet<String>>,
    /// `--yes`: no question asked.
    pub yes: bool,
    pub dry_run: bool,
}

/// Which keys of the report to revoke.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RevokeWhich {
    /// The keys of these findings (fingerprints, lower-case hex).
    Fingerprints(Vec<String>),
    /// Every key of the report the owner lookup finds Active.
    AllActive,
}

/// The repositories of an organization scan, and how to fetch them.
#[derive(Debug)]
pub(crate) struct OrgSettings {
    /// Every source named, in the order the flags list them; their
    /// repositories are merged into one run.
    pub sources: Vec<Source>,
    pub filter: Filter,
    pub cache_dir: PathBuf,
    pub jobs: usize,
    pub repo_timeout: Duration,
    pub shard: Option<Shard>,
    pub reachable_only: bool,
    pub tokens: ForgeTokens,
    pub github_api_url: String,
}

/// Where repositories come from.
#[derive(Debug)]
pub(crate) enum Source {
    /// A file of URLs and paths, already read.
    File(Vec<RepoSpec>),
    GithubOrg(String),
    GithubUser(String),
    GitlabGroup {
        url: String,
        group: String,
    },
    GiteaOrg {
        url: String,
        org: String,
    },
    BitbucketWorkspace {
        api_url: String,
        workspace: String,
    },
    /// An Azure DevOps organization, or one project of it.
    AzureOrg {
        url: String,
        org: String,
        project: Option<String>,
    },
}

/// The forges' tokens, from the environment (never from a flag, which
/// `ps` would show).
#[derive(Default)]
pub(crate) struct ForgeTokens {
    pub github: Option<String>,
    pub gitlab: Option<String>,
    pub gitea: Option<String>,
    pub bitbucket: Option<String>,
    pub azure: Option<String>,
}

impl std::fmt::Debug for ForgeTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |t: &Option<String>| if t.is_some() { "set" } else { "unset" };
        f.debug_struct("ForgeTokens")
            .field("github", &set(&self.github))
            .field("gitlab", &set(&self.gitlab))
            .field("gitea", &set(&self.gitea))
            .field("bitbucket", &set(&self.bitbucket))
            .field("azure", &set(&self.azure))
            .finish()
    }
}

/// Where the report goes and how it looks.
#[derive(Debug)]
pub struct Output {
    pub format: Format,
    /// `None`: standard output.
    pub file: Option<PathBuf>,
    pub style: Style,
    /// No warnings, progress or summary on stderr.
    pub quiet: bool,
    pub progress: bool,
    /// `keysweep ci --sarif FILE`: a SARIF report beside the main one.
    pub sarif: Option<PathBuf>,
    /// GitHub Actions' job summary file, for `--format github`.
    pub step_summary: Option<PathBuf>,
    /// GitHub Actions' step outputs file, for `keysweep ci`.
    pub step_outputs: Option<PathBuf>,
}

/// A flag or combination that cannot work, said before any work.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SettingsError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
}

fn invalid(message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid(message.into())
}

/// The environment a run sees, passed in so tests can set it.
pub(crate) trait Env {
    fn var(&self, name: &str) -> Option<String>;
    fn stdout_is_terminal(&self) -> bool;
}

/// The process's own environment.
pub(crate) struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn stdout_is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        std::io::stdout().is_terminal()
    }
}

impl Settings {
    /// Checks a scanning command and builds its settings; `None` for a
    /// command that scans nothing (`hook install`, `completions`, `man`).
    pub(crate) fn from_command(
        command: Command,
        env: &dyn Env,
    ) -> Result<Option<Settings>, SettingsError> {
        Ok(Some(match command {
            Command::Scan(a) => scan(a, env)?,
            Command::Git(a) => git(a, env)?,
            Command::PrePush(a) => pre_push(a, env)?,
            Command::Ci(a) => ci(a, env)?,
            Command::Org(a) => org(*a, env)?,
            Command::Merge(a) => merge(a, env)?,
            Command::Triage(a) => triage(a, env)?,
            Command::Revoke(a) => revoke(a, env)?,
            Command::Hook(_) | Command::Completions { .. } | Command::Man { .. } => {
                return Ok(None)
            }
        }))
    }

    /// What this run was asked to do, in a few words, for a report's
    /// reader: the command, verification, limits, what fails the run.
    /// Counts, never local paths (a report is passed on).
    pub(crate) fn describe(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = vec![match &self.task {
            Task::Files {
                paths,
                respect_ignore,
            } => {
                let mut t = format!("scan of {}", plural(paths.len(), "path", "paths"));
                if !respect_ignore {
                    t.push_str(" (--no-ignore)");
                }
                t
            }
            Task::Staged { .. } => "scan --staged: what the index would commit".to_string(),
            Task::Stdin => "scan of standard input".to_string(),
            Task::History {
                repos,
                range,
                reachable_only,
            } => {
                let what = match range {
                    Some(r) => format!("commits {r}"),
                    None if *reachable_only => "reachable history".to_string(),
                    None => "whole history".to_string(),
                };
                format!(
                    "git: {what} of {}",
                    plural(repos.len(), "repository", "repositories")
                )
            }
            Task::PrePush { .. } => "pre-push: the commits being pushed".to_string(),
            Task::Ci { .. } => "ci: what the GitHub Actions event brings".to_string(),
            Task::Org(o) => {
                let sources: Vec<String> = o
                    .sources
                    .iter()
                    .map(|src| match src {
                        Source::File(specs) => format!(
                            "{} from a list",
                            plural(specs.len(), "repository", "repositories")
                        ),
                        Source::GithubOrg(name) => format!("GitHub organization {name}"),
                        Source::GithubUser(name) => format!("GitHub user {name}"),
                        Source::GitlabGroup { group, .. } => format!("GitLab group {group}"),
                        Source::GiteaOrg { org, .. } => format!("Gitea organization {org}"),
                        Source::BitbucketWorkspace { workspace, .. } => {
                            format!("Bitbucket workspace {workspace}")
                        }
                        Source::AzureOrg { org, project, .. } => match project {
                            Some(p) => format!("Azure DevOps project {org}/{p}"),
                            None => format!("Azure DevOps organization {org}"),
                        },
                    })
                    .collect();
                let mut t = format!("org: {}", sources.join(" + "));
                if let Some(shard) = &o.shard {
                    t.push_str(&format!(", shard {}/{}", shard.index, shard.count));
                }
                if o.reachable_only {
                    t.push_str(", reachable history only");
                }
                t
            }
            Task::Merge { reports } => {
                format!("merge of {}", plural(reports.len(), "report", "reports"))
            }
            Task::Triage { .. } => "triage of 1 report".to_string(),
            Task::Revoke(_) => "revoke".to_string(),
        }];
        parts.push(
            if self.verify.is_some() {
                "--verify"
            } else {
                "not verified"
            }
            .to_string(),
        );
        if self.owner.is_some() {
            parts.push("--owner-lookup".to_string());
        }
        if !matches!(self.task, Task::Merge { .. } | Task::Triage { .. }) {
            parts.push(format!(
                "--max-file-size {}",
                human_size(self.limits.max_file_size)
            ));
        }
        parts.push(
            match self.fail_on {
                FailOn::Any => "--fail-on any",
                FailOn::Live => "--fail-on live",
                FailOn::None => "--fail-on none",
            }
            .to_string(),
        );
        if self.output.style.show_secrets {
            parts.push("--show-secrets".to_string());
        }
        parts.join(" · ")
    }
}

/// `256M`, `1G`, `500K` or bytes: how `--max-file-size` is written.
fn human_size(bytes: u64) -> String {
    for (unit, size) in [
        ("T", 1u64 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

fn scan(a: ScanArgs, env: &dyn Env) -> Result<Settings, SettingsError> {
    let root = a.paths.first().cloned().unwrap_or_else(|| ".".into());
    let stdin = a.paths.iter().any(|p| p.as_os_str() == "-");
    let task = if a.staged {
        if stdin || a.paths.len() > 1 {
            return Err(invalid(
                "--staged scans the index of one repository: give at most one path, the repository\nhint: keysweep scan --staged [REPO]",
            ));
        }
        Task::Staged {
            repo: root.clone(),
            index_file: env.var("GIT_INDEX_FILE").map(|f| {
                let f = PathBuf::from(f);
                if f.is_absolute() {
                    f
                } else {
                    // git hands hooks a path relative to where it runs them.
                    std::env::current_dir().map_or(f.clone(), |cwd| cwd.join(&f))
                }
            }),
        }
    } else if stdin {
        if a.paths.len() > 1 {
            return Err(invalid(
                "`-` (standard input) is scanned on its own, not with other paths\nhint: a file named `-` is `./-`",
            ));
        }
        if a.no_ignore {
            return Err(invalid("--no-ignore does not apply to standard input"));
        }
        Task::Stdin
    } else {
        Task::Files {
            paths: a.paths,
            respect_ignore: !a.no_ignore,
        }
    };
    let root = if matches!(task, Task::Stdin) {
        PathBuf::from(".")
    } else {
        root
    };
    let owner = lookup_options(&a.owner, &a.verify, env)?;
    with_owner(
        owner,
        common(
            task,
            &root,
            Some(&a.read),
            Some(&a.verify),
            a.verify.fail_on,
            a.common,
            env,
        ),
    )
}

fn git(a: GitArgs, env: &dyn Env) -> Result<Settings, SettingsError> {
    let range = a.range.or(a.since);
    if let Some(r) = &range {
        crate::source::git::parse_range(r).map_err(|e| invalid(e.to_string()))?;
    }
    let root = a.repos.first().cloned().unwrap_or_else(|| ".".into());
    let owner = lookup_options(&a.owner, &a.verify, env)?;
    with_owner(
        owner,
        common(
            Task::History {
                repos: a.repos,
                range,
                reachable_only: a.reachable_only,
            },
            &root,
            Some(&a.read),
            Some(&a.verify),
            a.verify.fail_on,
            a.common,
            env,
        ),
    )
}

fn pre_push(a: PrePushArgs, env: &dyn Env) -> Result<Settings, SettingsError> {
    let repo = PathBuf::from(".");
    common(
        Task::PrePush {
            repo: repo.clone(),
            remote: a.remote,
        },
        &repo,
        Some(&a.read),
        Some(&a.verify),
        a.verify.fail_on,
        a.common,
        env,
    )
}

fn ci(a: CiArgs, env: &dyn Env) -> Result<Settings, SettingsError> {
    let sarif = a.sarif;
    let mut s = common(
        Task::Ci {
            repo: a.repo.clone(),
        },
        &a.repo,
        Some(&a.read),
        Some(&a.verify),
        a.verify.fail_on,
        a.common,
        env,
    )?;
    // The CI log is read by the Actions runner, whatever GITHUB_ACTIONS says.
    s.output.style.medium = Medium::CiLog;
    s.output.style.color = false;
    s.output.sarif = sarif;
    s.output.step_outputs = env.var("GITHUB_OUTPUT").map(PathBuf::from);
    Ok(s)
}

fn org(a: OrgArgs, env: &dyn Env) -> Result<Settings, SettingsError> {
    let mut sources = Vec::new();
    if let Some(list) = &a.repos {
        sources.push(Source::File(
            crate::source::org::read_list(list).map_err(|e| invalid(e.to_string()))?,
        ));
    }
    if !a.github_org.is_empty() || !a.github_user.is_empty() {
        check_api_url("--github-api-url", &a.github_api_url)?;
    }
    sources.extend(a.github_org.iter().cloned().map(Source::GithubOrg));
    sources.extend(a.github_user.iter().cloned().map(Source::GithubUser));
    if !a.gitlab_group.is_empty() {
        check_api_url("--gitlab-url", &a.gitlab_url)?;
    }
    sources.extend(a.gitlab_group.iter().map(|g| Source::GitlabGroup {
        url: a.gitlab_url.clone(),
        group: g.trim_matches('/').to_string(),
    }));
    if let Some(url) = &a.gitea_url {
        check_api_url("--gitea-url", url)?;
        sources.extend(a.gitea_org.iter().map(|o| Source::GiteaOrg {
            url: url.clone(),
            org: o.clone(),
        }));
    }
    if !a.bitbucket_workspace.is_empty() {
        check_api_url("--bitbucket-api-url", &a.bitbucket_api_url)?;
    }
    sources.extend(
        a.bitbucket_workspace
            .iter()
            .map(|w| Source::BitbucketWorkspace {
                api_url: a.bitbucket_api_url.clone(),
                workspace: w.clone(),
            }),
    );
    // Azure DevOps: each organization, or each named project of each.
    if !a.azure_org.is_empty() {
        check_api_url("--azure-url", &a.azure_url)?;
    }
    for org in &a.azure_org {
        let source = |project: Option<&String>| Source::AzureOrg {
            url: a.azure_url.clone(),
            org: org.clone(),
            project: project.cloned(),
        };
        if a.azure_project.is_empty() {
            sources.push(source(None));
        } else {
            sources.extend(a.azure_project.iter().map(|p| source(Some(p))));
        }
    }
    if sources.is_empty() {
        return Err(invalid(
            "name the repositories: --repos FILE, --github-org, --github-user, --gitlab-group, --gitea-org, --bitbucket-workspace or --azure-org",
        ));
    }
    let non_empty = |name: &str| env.var(name).filter(|t| !t.is_empty());
    let tokens = ForgeTokens {
        github: non_empty("GITHUB_TOKEN"),
        gitlab: non_empty("GITLAB_TOKEN"),
        gitea: non_empty("GITEA_TOKEN"),
        bitbucket: non_empty("BITBUCKET_TOKEN"),
        azure: non_empty("AZURE_DEVOPS_TOKEN"),
    };
    let cache_dir = a
        .cache_dir
        .clone()
        .or_else(|| default_cache_dir(env))
        .ok_or_else(|| {
            invalid("no cache directory: pass --cache-dir (neither XDG_CACHE_HOME nor HOME is set)")
        })?;
    if a.jobs == 0 {
        return Err(invalid("--jobs must be at least 1"));
    }
    if a.repo_timeout == 0 {
        return Err(invalid("--repo-timeout must be at least 1 second"));
    }
    let task = Task::Org(OrgSettings {
        sources,
        filter: Filter {
            include_archived: a.include_archived,
            include_forks: a.include_forks,
            include_wikis: a.include_wikis,
        },
        cache_dir,
        jobs: a.jobs,
        repo_timeout: Duration::from_secs(a.repo_timeout),
        shard: a.shard,
        reachable_only: a.reachable_only,
        tokens,
        github_api_url: a.github_api_url,
    });
    let owner = lookup_options(&a.owner, &a.verify, env)?;
    with_owner(
        owner,
        common(
            task,
            Path::new("."),
            Some(&a.read),
            Some(&a.verify),
            a.verify.fail_on,
            a.common,
            env,
        ),
    )
}

fn merge(a: MergeArgs, env: &dyn Env) -> Result<Settings, SettingsError> {
    let owner = if a.owner.owner_lookup {
        Some(owner_options(
            &a.owner.access,
            a.aws.region.as_deref(),
            a.aws.sts_endpoint.as_deref(),
            env,
        )?)
    } else {
        None
    };
    with_owner(
        owner,
        common(
            Task::Merge { reports: a.reports },
            Path::new("."),
            None,
            None,
            a.fail_on,
            a.common,
            env,
        ),
    )
}

// --- Owner lookup and revocation (issue 12) -------------------------------

/// Settings with the owner lookup's options set.
fn with_owner(
    owner: Option<OwnerOptions>,
    settings: Result<Settings, SettingsError>,
) -> Result<Settings, SettingsError> {
    let mut s = settings?;
    s.owner = owner;
    Ok(s)
}

/// `--owner-lookup` on `scan`, `git` and `org`: the region and STS
/// endpoint are the ones `--region` and `--sts-endpoint` name.
fn lookup_options(
    a: &OwnerLookupArgs,
    verify: &VerifyArgs,
    env: &dyn Env,
) -> Result<Option<OwnerOptions>, SettingsError> {
    if !a.owner_lookup {
        return Ok(None);
    }
    owner_options(
        &a.access,
        verify.region.as_deref(),
        verify.sts_endpoint.as_deref(),
        env,
    )
    .map(Some)
}

/// How to reach AWS with the operator's own credentials, checked.
fn owner_options(
    a: &OwnerAccessArgs,
    region: Option<&str>,
    sts_endpoint: Option<&str>,
    env: &dyn Env,
) -> Result<OwnerOptions, SettingsError> {
    if !cfg!(feature = "verify") {
        return Err(invalid(
            "this keysweep was built without owner lookups\nhint: rebuild with the default features (cargo feature `verify`)",
        ));
    }
    if a.owner_concurrency == 0 {
        return Err(invalid("--owner-concurrency must be at least 1"));
    }
    if a.max_owner_requests == Some(0) {
        return Err(invalid("--max-owner-requests must be at least 1"));
    }
    if a.owner_cache_minutes == 0 {
        return Err(invalid("--owner-cache-minutes must be at least 1"));
    }
    if region.is_some_and(|r| r.trim().is_empty()) {
        return Err(invalid("--region must not be empty"));
    }
    if a.profile.as_deref().is_some_and(|p| p.trim().is_empty()) {
        return Err(invalid("--profile must not be empty"));
    }
    if let Some(role) = &a.assume_role_name {
        let ok = (1..=64).contains(&role.len())
            && role
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
        if !ok {
            return Err(invalid(
                "--assume-role-name: IAM role names are 1-64 characters of letters, digits and +=,.@_-\nhint: give the role's name, not its ARN",
            ));
        }
    }
    // Each service: keysweep's flag, else the service's own variable (the
    // generic AWS_ENDPOINT_URL never moves owner lookups).
    let endpoint = |flag: Option<&str>, flag_name: &str, var: &str| match (
        flag.map(str::trim).filter(|f| !f.is_empty()),
        env.var(var),
    ) {
        (Some(f), _) => check_endpoint(flag_name, f).map(|()| Some(f.to_string())),
        (None, Some(v)) => check_endpoint(var, v.trim()).map(|()| Some(v.trim().to_string())),
        (None, None) => Ok(None),
    };
    let endpoints = Endpoints {
        sts: endpoint(sts_endpoint, "--sts-endpoint", "AWS_ENDPOINT_URL_STS")?,
        iam: endpoint(
            a.iam_endpoint.as_deref(),
            "--iam-endpoint",
            "AWS_ENDPOINT_URL_IAM",
        )?,
        organizations: endpoint(
            a.organizations_endpoint.as_deref(),
            "--organizations-endpoint",
            "AWS_ENDPOINT_URL_ORGANIZATIONS",
        )?,
    };
    Ok(OwnerOptions {
        profile: a.profile.as_ref().map(|p| p.trim().to_string()),
        region: region.map(|r| r.trim().to_string()),
        endpoints,
        assume_role_name: a.assume_role_name.clone(),
        concurrency: a.owner_concurrency,
        max_requests: a.max_owner_requests,
        cache_file: a.owner_cache.clone(),
        cache_ttl: Duration::from_secs(a.owner_cache_minutes.saturating_mul(60)),
        ..OwnerOptions::default()
    })
}

fn triage(a: TriageArgs, env: &dyn Env) -> Result<Settings, SettingsError> {
    let owner = owner_options(
        &a.access,
        a.aws.region.as_deref(),
        a.aws.sts_endpoint.as_deref(),
        env,
    )?;
    with_owner(
        Some(owner),
        common(
            Task::Triage { report: a.report },
            Path::new("."),
            None,
            None,
            a.fail_on,
            a.common,
            env,
        ),
    )
}

fn revoke(a: RevokeArgs, env: &dyn Env) -> Result<Settings, SettingsError> {
    let owner = owner_options(
        &a.access,
        a.aws.region.as_deref(),
        a.aws.sts_endpoint.as_deref(),
        env,
    )?;
    let which = if a.all_active {
        if !a.fingerprint.is_empty() {
            return Err(invalid("give --fingerprint or --all-active, not both"));
        }
        RevokeWhich::AllActive
    } else {
        let mut fps = Vec::new();
        for f in &a.fingerprint {
            let f = f.trim().to_ascii_lowercase();
            if !(f.len() == 32 && f.bytes().all(|b| b.is_ascii_hexdigit())) {
                return Err(invalid(format!(
                    "--fingerprint {:?} is not a finding's fingerprint (32 hex digits, as the JSON report gives them)",
                    f.chars().take(64).collect::<String>()
                )));
            }
            if !fps.contains(&f) {
                fps.push(f);
            }
        }
        RevokeWhich::Fingerprints(fps)
    };
    let accounts = if a.account.is_empty() {
        None
    } else {
        let mut set = BTreeSet::new();
        for acct in &a.account {
            set.insert(account_id("--account", acct)?);
        }
        Some(set)
    };
    let common_args = CommonArgs {
        format: FormatArg::Text,
        output: None,
        show_secrets: false,
        threads: Some(1),
        color: a.color,
        config: None,
        baseline: None,
        quiet: false,
        no_progress: true,
    };
    // Revocation reads no tree: no .keysweep.toml applies.
    let mut s = common(
        Task::Revoke(RevokeSettings {
            report: a.report,
            which,
            accounts,
            yes: a.yes,
            dry_run: a.dry_run,
        }),
        Path::new("."),
        None,
        None,
        FailOnArg::Any,
        common_args,
        env,
    )?;
    s.owner = Some(owner);
    Ok(s)
}

// --- end of owner lookup and revocation -----------------------------------

/// What every scanning command shares: threads, limits, config and
/// baseline, verification, output, fail-on.
fn common(
    task: Task,
    config_root: &Path,
    read: Option<&ReadArgs>,
    verify: Option<&VerifyArgs>,
    fail_on: FailOnArg,
    c: CommonArgs,
    env: &dyn Env,
) -> Result<Settings, SettingsError> {
    let fail_on = match fail_on {
        FailOnArg::Any => FailOn::Any,
        FailOnArg::Live => FailOn::Live,
        FailOnArg::None => FailOn::None,
    };
    let verifying = verify.is_some_and(|v| v.verify);
    // Merged reports carry the verdicts of the runs that wrote them.
    if fail_on == FailOn::Live
        && !verifying
        && !matches!(task, Task::Merge { .. } | Task::Triage { .. })
    {
        return Err(invalid(
            "--fail-on live needs --verify: without it no key is known to be live",
        ));
    }
    let max_file_size = read.map_or(ReadLimits::default().max_file_size, |r| r.max_file_size);
    if max_file_size == 0 {
        return Err(invalid("--max-file-size must be more than 0"));
    }
    let threads = match c.threads {
        Some(0) => return Err(invalid("--threads must be at least 1")),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let verify_options = match verify {
        Some(v) if v.verify => Some(verify_options(v, env)?),
        _ => None,
    };
    let judging_commits = matches!(task, Task::Ci { .. } | Task::PrePush { .. });
    let config_from_trusted_commit = judging_commits && c.config.is_none();
    let mut config = if config_from_trusted_commit || matches!(task, Task::Revoke(_)) {
        Config::default()
    } else {
        Config::load(c.config.as_deref(), config_root)?
    };
    if let Some(baseline) = &c.baseline {
        config.add_baseline(baseline)?;
    }
    let format = match c.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
        FormatArg::Html => Format::Html,
        FormatArg::Csv => Format::Csv,
    };
    let medium = if format == Format::Github {
        Medium::CiLog
    } else {
        Medium::from_env_with(|k| env.var(k))
    };
    let to_terminal = c.output.is_none() && env.stdout_is_terminal();
    let color = match c.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        // https://no-color.org
        ColorArg::Auto => to_terminal && env.var("NO_COLOR").is_none(),
    };
    let output = Output {
        format,
        file: c.output,
        style: Style {
            show_secrets: c.show_secrets,
            color,
            medium,
            today: today(),
        },
        quiet: c.quiet,
        progress: !c.no_progress,
        sarif: None,
        step_summary: if format == Format::Github {
            env.var("GITHUB_STEP_SUMMARY").map(PathBuf::from)
        } else {
            None
        },
        step_outputs: None,
    };
    Ok(Settings {
        task,
        threads,
        limits: ReadLimits {
            max_file_size,
            ..ReadLimits::default()
        },
        config,
        config_from_trusted_commit,
        verify: verify_options,
        owner: None,
        output,
        fail_on,
    })
}

/// Today in days since 1970-01-01 (UTC), for "last used 2 days ago".
fn today() -> Option<i64> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    i64::try_from(secs / 86_400).ok()
}

/// `--verify` and its options, checked.
/// An account ID given to `flag`, written as the console shows it
/// (1234-5678-9012) or as 12 digits.
fn account_id(flag: &str, acct: &str) -> Result<String, SettingsError> {
    let digits: String = acct.chars().filter(|c| *c != '-').collect();
    if !crate::finding::is_account_id(&digits) {
        return Err(invalid(format!(
            "{flag} {acct:?} is not a 12-digit account ID"
        )));
    }
    Ok(digits)
}

fn verify_options(a: &VerifyArgs, env: &dyn Env) -> Result<VerifyOptions, SettingsError> {
    if !cfg!(feature = "verify") {
        return Err(invalid(
            "this keysweep was built without verification\nhint: rebuild with the default features (cargo feature `verify`)",
        ));
    }
    if a.verify_concurrency == 0 {
        return Err(invalid("--verify-concurrency must be at least 1"));
    }
    if a.verify_timeout == 0 {
        return Err(invalid("--verify-timeout must be at least 1 second"));
    }
    let region = a.region.as_deref().unwrap_or("us-east-1").trim();
    if region.is_empty() {
        return Err(invalid("--region must not be empty"));
    }
    if a.max_verify_requests == 0 {
        return Err(invalid("--max-verify-requests must be at least 1"));
    }
    let skip_accounts = a
        .skip_accounts
        .iter()
        .map(|acct| account_id("--skip-account", acct))
        .collect::<Result<Vec<_>, _>>()?;
    // Only keysweep's own flag and the STS-specific variable move the
    // endpoint: the generic AWS_ENDPOINT_URL is often set job-wide for
    // LocalStack and must not capture verification.
    let endpoint = match (&a.sts_endpoint, env.var("AWS_ENDPOINT_URL_STS")) {
        (Some(flag), _) if !flag.trim().is_empty() => {
            check_endpoint("--sts-endpoint", flag.trim())?;
            Some(flag.trim().to_string())
        }
        (_, Some(var)) => {
            check_endpoint("AWS_ENDPOINT_URL_STS", var.trim())?;
            Some(var.trim().to_string())
        }
        _ => None,
    };
    Ok(VerifyOptions {
        concurrency: a.verify_concurrency,
        timeout: Duration::from_secs(a.verify_timeout),
        endpoint,
        region: region.to_string(),
        skip_accounts,
        cache_file: a.verify_cache.clone(),
        cache_ttl: Duration::from_secs(a.verify_cache_hours.saturating_mul(3600)),
        max_requests: Some(a.max_verify_requests),
        ..VerifyOptions::default()
    })
}

/// The host of an `http(s)://` URL, lower-cased, without port or user.
pub(crate) fn url_host(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?.to_string()
    } else {
        host_port.split(':').next()?.to_string()
    };
    (!host.is_empty()).then(|| (scheme, host.to_ascii_lowercase()))
}

/// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or `::1`.
pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An endpoint credentials go to: `https://`, or `http://` to this machine
/// only (a session token over plain HTTP to another host travels in clear).
fn check_endpoint(what: &str, url: &str) -> Result<(), SettingsError> {
    match url_host(url) {
        Some((scheme, _)) if scheme == "https" => Ok(()),
        Some((scheme, host)) if scheme == "http" && is_loopback(&host) => Ok(()),
        Some((scheme, _)) if scheme == "http" => Err(invalid(format!(
            "{what} {url:?}: plain http:// is allowed only to this machine (localhost, 127.0.0.1, ::1)\nhint: use https://"
        ))),
        _ => Err(invalid(format!(
            "{what} {url:?} is not an http:// or https:// URL"
        ))),
    }
}

/// A forge API URL a token may be sent to: the same rule as endpoints.
fn check_api_url(what: &str, url: &str) -> Result<(), SettingsError> {
    check_endpoint(what, url)
}

/// `$XDG_CACHE_HOME/keysweep`, else `~/.cache/keysweep`.
fn default_cache_dir(env: &dyn Env) -> Option<PathBuf> {
    env.var("XDG_CACHE_HOME")
        .map(|d| PathBuf::from(d).join("keysweep"))
        .or_else(|| {
            env.var("HOME")
                .map(|h| PathBuf::from(h).join(".cache").join("keysweep"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;
    use std::collections::HashMap;

    struct FakeEnv(HashMap<&'static str, &'static str>);

    impl Env for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
        fn stdout_is_terminal(&self) -> bool {
            false
        }
    }

    fn settings(args: &[&str], env: &[(&'static str, &'static str)]) -> Result<Settings, String> {
        let cli = Cli::try_parse_from(std::iter::once("keysweep").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        let env = FakeEnv(env.iter().copied().collect());
        Settings::from_command(cli.command, &env)
            .map(|s| s.expect("a scanning command"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn bad_combinations_fail_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        for (args, needle) in [
            (vec!["scan", d, "--fail-on", "live"], "needs --verify"),
            (vec!["scan", d, "--threads", "0"], "--threads"),
            (vec!["scan", d, "--max-file-size", "0"], "--max-file-size"),
            (vec!["git", d, "--range", "a...b"], "symmetric"),
            (
                vec![
                    "org",
                    "--github-org",
                    "acme",
                    "--jobs",
                    "0",
                    "--cache-dir",
                    d,
                ],
                "--jobs",
            ),
            (
                vec![
                    "org",
                    "--github-org",
                    "acme",
                    "--github-api-url",
                    "http://evil.example",
                    "--cache-dir",
                    d,
                ],
                "plain http://",
            ),
        ] {
            let e = settings(&args, &[]).expect_err(&format!("{args:?}"));
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn azure_orgs_expand_per_project() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let args = [
            "org",
            "--azure-org",
            "acme",
            "--azure-org",
            "globex",
            "--azure-project",
            "Fabrikam Fiber",
            "--azure-project",
            "ops",
            "--cache-dir",
            d,
        ];
        let s = settings(&args, &[("AZURE_DEVOPS_TOKEN", "pat")]).expect("valid");
        let Task::Org(o) = s.task else {
            panic!("an org task")
        };
        let scopes: Vec<(String, Option<String>)> = o
            .sources
            .iter()
            .map(|src| match src {
                Source::AzureOrg { url, org, project } => {
                    assert_eq!(url, "https://dev.azure.com");
                    (org.clone(), project.clone())
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(scopes.len(), 4);
        assert_eq!(scopes[0], ("acme".into(), Some("Fabrikam Fiber".into())));
        assert_eq!(scopes[3], ("globex".into(), Some("ops".into())));
        assert_eq!(o.tokens.azure.as_deref(), Some("pat"));
        assert!(!format!("{:?}", o.tokens).contains("pat\""));
        let e = settings(
            &[
                "org",
                "--azure-org",
                "a",
                "--azure-url",
                "http://ado.example",
                "--cache-dir",
                d,
            ],
            &[],
        )
        .expect_err("plain http");
        assert!(e.contains("plain http://"), "{e}");
        let e = settings(&["org", "--azure-project", "p", "--cache-dir", d], &[])
            .expect_err("a project needs an organization");
        assert!(e.contains("--azure-org"), "{e}");
    }

    #[test]
    fn forge_sources_merge_and_their_urls_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let s = settings(
            &[
                "org",
                "--github-org",
                "acme",
                "--github-user",
                "alice",
                "--gitlab-group",
                "/acme/platform/",
                "--gitea-org",
                "acme",
                "--gitea-url",
                "https://codeberg.org",
                "--bitbucket-workspace",
                "ws",
                "--include-wikis",
                "--cache-dir",
                d,
            ],
            &[("GITLAB_TOKEN", "glpat"), ("GITEA_TOKEN", "")],
        )
        .expect("valid");
        let Task::Org(o) = s.task else {
            panic!("an org task")
        };
        assert_eq!(o.sources.len(), 5);
        assert!(
            matches!(&o.sources[2], Source::GitlabGroup { group, .. } if group == "acme/platform")
        );
        assert!(o.filter.include_wikis && !o.filter.include_forks);
        assert_eq!(o.tokens.gitlab.as_deref(), Some("glpat"));
        assert!(o.tokens.gitea.is_none(), "an empty token is no token");
        assert!(!format!("{:?}", o.tokens).contains("glpat"));
        for (args, needle) in [
            (
                vec!["org", "--gitea-org", "acme", "--cache-dir", d],
                "--gitea-url",
            ),
            (
                vec![
                    "org",
                    "--gitlab-group",
                    "a",
                    "--gitlab-url",
                    "http://gl.example",
                    "--cache-dir",
                    d,
                ],
                "plain http://",
            ),
            (
                vec![
                    "org",
                    "--bitbucket-workspace",
                    "w",
                    "--bitbucket-api-url",
                    "file:///x",
                    "--cache-dir",
                    d,
                ],
                "not an http",
            ),
            (
                vec![
                    "org",
                    "--repos",
                    "x.txt",
                    "--include-wikis",
                    "--cache-dir",
                    d,
                ],
                "--include-wikis",
            ),
        ] {
            let e = settings(&args, &[]).expect_err(&format!("{args:?}"));
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[cfg(feature = "verify")]
    #[test]
    fn verification_endpoints_are_checked_up_front() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        for (flag, ok) in [
            ("ftp://x", false),
            ("http://sts.example.com", false),
            ("http://127.0.0.1:5000", true),
            ("http://[::1]:5000", true),
            ("http://localhost:1", true),
            ("https://sts.example.com", true),
            ("not a url", false),
        ] {
            let r = settings(&["scan", d, "--verify", "--sts-endpoint", flag], &[]);
            assert_eq!(r.is_ok(), ok, "{flag}: {r:?}");
        }
        // The generic variable never moves verification; the STS one does.
        let s = settings(
            &["scan", d, "--verify"],
            &[("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")],
        )
        .expect("valid");
        assert_eq!(s.verify.expect("verify").endpoint, None);
        let s = settings(
            &["scan", d, "--verify"],
            &[("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")],
        )
        .expect("valid");
        assert_eq!(
            s.verify.expect("verify").endpoint.as_deref(),
            Some("http://127.0.0.1:9")
        );
        let e = settings(
            &["scan", d, "--verify"],
            &[("AWS_ENDPOINT_URL_STS", "http://10.0.0.1")],
        )
        .expect_err("plain http to another host");
        assert!(e.contains("AWS_ENDPOINT_URL_STS"), "{e}");
    }

    #[cfg(feature = "verify")]
    #[test]
    fn verification_has_a_request_budget_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let s = settings(&["scan", d, "--verify"], &[]).expect("valid");
        assert_eq!(s.verify.expect("verify").max_requests, Some(10_000));
        let s =
            settings(&["git", d, "--verify", "--max-verify-requests", "3"], &[]).expect("valid");
        assert_eq!(s.verify.expect("verify").max_requests, Some(3));
        let e = settings(&["scan", d, "--verify", "--max-verify-requests", "0"], &[])
            .expect_err("zero");
        assert!(e.contains("--max-verify-requests"), "{e}");
    }

    #[test]
    fn staged_and_stdin_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let s = settings(
            &["scan", "--staged", d],
            &[("GIT_INDEX_FILE", ".git/next-index")],
        )
        .expect("valid");
        let Task::Staged { repo, index_file } = s.task else {
            panic!("a staged task")
        };
        assert_eq!(repo, dir.path());
        let index_file = index_file.expect("from GIT_INDEX_FILE");
        assert!(index_file.is_absolute() && index_file.ends_with(".git/next-index"));
        let s = settings(&["scan", "--staged"], &[]).expect("valid");
        assert!(matches!(
            s.task,
            Task::Staged {
                index_file: None,
                ..
            }
        ));
        assert!(
            s.describe().starts_with("scan --staged"),
            "{}",
            s.describe()
        );
        let s = settings(&["scan", "-"], &[]).expect("valid");
        assert!(matches!(s.task, Task::Stdin));
        assert!(settings(&["scan", "./-"], &[]).is_ok_and(|s| matches!(s.task, Task::Files { .. })));
        for (args, needle) in [
            (vec!["scan", "--staged", d, d], "one repository"),
            (vec!["scan", "--staged", "-"], "one repository"),
            (vec!["scan", "-", d], "on its own"),
            (vec!["scan", "-", "--no-ignore"], "--no-ignore"),
            (vec!["scan", "--staged", "--no-ignore"], "--no-ignore"),
        ] {
            let e = settings(&args, &[]).expect_err(&format!("{args:?}"));
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn github_format_and_actions_clean_for_the_ci_log() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let s = settings(&["scan", d], &[("GITHUB_ACTIONS", "true")]).expect("valid");
        assert_eq!(s.output.style.medium, Medium::CiLog);
        let s = settings(&["scan", d, "--format", "github"], &[]).expect("valid");
        assert_eq!(s.output.style.medium, Medium::CiLog);
        let s = settings(&["scan", d], &[]).expect("valid");
        assert_eq!(s.output.style.medium, Medium::Terminal);
    }

    #[test]
    fn describe_says_what_was_asked_without_paths() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let s = settings(&["git", d, d, "--max-file-size", "64M"], &[]).expect("valid");
        assert_eq!(
            s.describe(),
            "git: whole history of 2 repositories · not verified · --max-file-size 64M · --fail-on any"
        );
        let s = settings(&["scan", d, "--no-ignore", "--show-secrets"], &[]).expect("valid");
        let text = s.describe();
        assert!(
            text.starts_with("scan of 1 path (--no-ignore) · "),
            "{text}"
        );
        assert!(
            text.ends_with("--max-file-size 256M · --fail-on any · --show-secrets"),
            "{text}"
        );
        assert!(!text.contains(d), "no local path: {text}");
    }

    #[test]
    fn html_format_on_every_reporting_command() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let report = dir.path().join("r.json");
        std::fs::write(&report, "{}").unwrap();
        let r = report.to_str().unwrap();
        for args in [
            vec!["scan", d, "--format", "html", "-o", "x.html"],
            vec!["git", d, "--format", "html"],
            vec!["merge", r, "--format", "html"],
        ] {
            let s = settings(&args, &[("GITHUB_STEP_SUMMARY", "/dev/null")])
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_eq!(s.output.format, Format::Html, "{args:?}");
            assert_eq!(s.output.step_summary, None, "{args:?}");
        }
    }

    #[cfg(feature = "verify")]
    #[test]
    fn owner_lookup_flags_are_checked_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let report = dir.path().join("r.json");
        std::fs::write(&report, "{}").unwrap();
        let r = report.to_str().unwrap();
        let s = settings(
            &[
                "scan",
                d,
                "--owner-lookup",
                "--profile",
                "auditor",
                "--assume-role-name",
                "OrganizationAccountAccessRole",
                "--region",
                "eu-west-1",
                "--max-owner-requests",
                "50",
                "--iam-endpoint",
                "http://127.0.0.1:9",
            ],
            &[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
                ("AWS_ENDPOINT_URL_ORGANIZATIONS", "http://localhost:8"),
            ],
        )
        .expect("valid");
        let o = s.owner.as_ref().expect("owner lookup on");
        assert_eq!(o.profile.as_deref(), Some("auditor"));
        assert_eq!(
            o.assume_role_name.as_deref(),
            Some("OrganizationAccountAccessRole")
        );
        assert_eq!(o.region.as_deref(), Some("eu-west-1"));
        assert_eq!(o.max_requests, Some(50));
        assert_eq!(o.endpoints.iam.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(
            o.endpoints.organizations.as_deref(),
            Some("http://localhost:8")
        );
        assert_eq!(o.endpoints.sts, None, "the generic variable is ignored");
        assert!(s.describe().contains("--owner-lookup"), "{}", s.describe());
        // Verification keeps its own default region.
        let v = settings(&["scan", d, "--verify"], &[]).expect("valid");
        assert_eq!(v.verify.expect("verify").region, "us-east-1");
        assert!(v.owner.is_none());

        let t = settings(&["triage", r, "--fail-on", "live"], &[]).expect("valid");
        assert!(matches!(t.task, Task::Triage { .. }) && t.owner.is_some());
        let m = settings(&["merge", r, "--owner-lookup"], &[]).expect("valid");
        assert!(m.owner.is_some());

        let fp = "0123456789ABCDEF0123456789abcdef";
        let v = settings(
            &[
                "revoke",
                r,
                "--fingerprint",
                fp,
                "--fingerprint",
                fp,
                "--account",
                "1234-5678-9012",
                "--dry-run",
            ],
            &[],
        )
        .expect("valid");
        let Task::Revoke(rv) = &v.task else {
            panic!("a revoke task")
        };
        assert_eq!(
            rv.which,
            RevokeWhich::Fingerprints(vec![fp.to_ascii_lowercase()])
        );
        assert_eq!(
            rv.accounts
                .as_ref()
                .map(|a| a.iter().cloned().collect::<Vec<_>>()),
            Some(vec!["123456789012".to_string()])
        );
        assert!(rv.dry_run && !rv.yes);

        for (args, needle) in [
            (
                vec!["scan", d, "--owner-lookup", "--owner-concurrency", "0"],
                "--owner-concurrency",
            ),
            (
                vec![
                    "scan",
                    d,
                    "--owner-lookup",
                    "--assume-role-name",
                    "arn:aws:iam::123456789012:role/x",
                ],
                "--assume-role-name",
            ),
            (
                vec![
                    "git",
                    d,
                    "--owner-lookup",
                    "--iam-endpoint",
                    "http://10.0.0.1",
                ],
                "plain http://",
            ),
            (vec!["triage", r, "--profile", " "], "--profile"),
            (vec!["triage", r, "--region", ""], "--region"),
            (
                vec!["merge", r, "--owner-lookup", "--max-owner-requests", "0"],
                "--max-owner-requests",
            ),
            (vec!["revoke", r, "--fingerprint", "xyz"], "--fingerprint"),
            (
                vec!["revoke", r, "--all-active", "--account", "12"],
                "--account",
            ),
            (
                vec!["revoke", r, "--all-active", "--fingerprint", fp],
                "cannot be used with",
            ),
            (vec!["revoke", r], "required"),
        ] {
            let e = settings(&args, &[]).expect_err(&format!("{args:?}"));
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn csv_format_on_every_reporting_command() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let report = dir.path().join("r.json");
        std::fs::write(&report, "{}").unwrap();
        let r = report.to_str().unwrap();
        for args in [
            vec!["scan", d, "--format", "csv"],
            vec!["scan", "--staged", d, "--format", "csv"],
            vec!["git", d, "--format", "csv"],
            vec!["merge", r, "--format", "csv"],
            vec![
                "org",
                "--github-org",
                "acme",
                "--cache-dir",
                d,
                "--format",
                "csv",
            ],
        ] {
            let s = settings(&args, &[]).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_eq!(s.output.format, Format::Csv, "{args:?}");
        }
    }

    #[test]
    fn hosts_and_loopback() {
        assert_eq!(
            url_host("https://u:p@Api.GitHub.com:443/x"),
            Some(("https".into(), "api.github.com".into()))
        );
        assert_eq!(
            url_host("http://[::1]:8/x"),
            Some(("http".into(), "::1".into()))
        );
        assert!(is_loopback("127.0.0.2") && is_loopback("::1") && is_loopback("localhost"));
        assert!(!is_loopback("127.0.0.1.evil.io") && !is_loopback("10.0.0.1"));
    }
}
