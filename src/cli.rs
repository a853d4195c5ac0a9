//! Command-line definitions (clap): what was typed, nothing more. Nothing
//! here does work or is read by the stages: [`crate::settings`] turns it
//! into one validated `Settings` value before anything is read, and `app`
//! runs that.

use crate::source::org::Shard;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "keysweep",
    version,
    about = "Find leaked AWS credentials in files and git history, and tell which still work"
)]
#[command(
    after_help = "Exit codes: 0 nothing found, 1 credentials found, 2 error (nothing found but something could not be scanned, or bad arguments)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories, standard input (`-`), or what is staged for the next commit (--staged).
    Scan(ScanArgs),
    /// Scan the whole history of git repositories (every blob once), or a range of commits.
    Git(GitArgs),
    /// Run as git's pre-push hook: scan the commits being pushed, block the push on a leak.
    PrePush(PrePushArgs),
    /// Install the pre-push or pre-commit hook into a repository.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Scan what a GitHub Actions event brings (push, pull request, schedule).
    Ci(CiArgs),
    /// Scan the full history of many repositories (a list, or a GitHub organization) into one report.
    Org(Box<OrgArgs>),
    /// Combine the JSON reports of `keysweep org --shard K/N` runs into one report.
    Merge(MergeArgs),
    /// Add owner records (account, IAM user, key status, last use, admin) to a JSON report, with your own AWS credentials.
    Triage(TriageArgs),
    /// Deactivate found keys in your AWS accounts (never deletes them); shows the plan and asks first.
    Revoke(RevokeArgs),
    /// Print a completion script for SHELL to standard output (e.g. `keysweep completions bash > ~/.local/share/bash-completion/completions/keysweep`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output; with --dir, write one page per command there.
    Man {
        /// Write keysweep.1 and keysweep-COMMAND.1 into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).multiple(true).args(["repos", "github_org", "github_user", "gitlab_group", "gitea_org", "bitbucket_workspace", "azure_org"])))]
#[command(group(ArgGroup::new("forge").multiple(true).args(["github_org", "github_user", "gitlab_group", "gitea_org", "bitbucket_workspace", "azure_org"])))]
pub struct OrgArgs {
    /// A file with one clone URL or local repository path per line (blank lines and `#` comments ignored).
    #[arg(long, value_name = "FILE")]
    pub repos: Option<PathBuf>,

    /// Scan the repositories of this GitHub organization (token from GITHUB_TOKEN; repeatable).
    #[arg(long, value_name = "NAME")]
    pub github_org: Vec<String>,

    /// Scan the repositories this GitHub user owns (token from GITHUB_TOKEN; repeatable).
    #[arg(long, value_name = "NAME")]
    pub github_user: Vec<String>,

    /// GitHub API base URL (GitHub Enterprise: https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = "https://api.github.com")]
    pub github_api_url: String,

    /// Scan the projects of this GitLab group and its subgroups, e.g. `acme/platform` (token from GITLAB_TOKEN; repeatable).
    #[arg(long, value_name = "PATH")]
    pub gitlab_group: Vec<String>,

    /// The GitLab instance of --gitlab-group.
    #[arg(long, value_name = "URL", default_value = "https://gitlab.com")]
    pub gitlab_url: String,

    /// Scan the repositories of this Gitea or Forgejo organization (token from GITEA_TOKEN; repeatable; needs --gitea-url).
    #[arg(long, value_name = "NAME", requires = "gitea_url")]
    pub gitea_org: Vec<String>,

    /// The Gitea or Forgejo instance of --gitea-org, e.g. https://codeberg.org.
    #[arg(long, value_name = "URL")]
    pub gitea_url: Option<String>,

    /// Scan the repositories of this Bitbucket Cloud workspace (access token from BITBUCKET_TOKEN; repeatable).
    #[arg(long, value_name = "NAME")]
    pub bitbucket_workspace: Vec<String>,

    /// Bitbucket Cloud API base URL.
    #[arg(long, value_name = "URL", default_value = "https://api.bitbucket.org")]
    pub bitbucket_api_url: String,

    /// Scan the repositories of this Azure DevOps organization (personal access token from AZURE_DEVOPS_TOKEN; repeatable).
    #[arg(long, value_name = "NAME")]
    pub azure_org: Vec<String>,

    /// Only these projects of each --azure-org (repeatable; default: every project).
    #[arg(long, value_name = "NAME", requires = "azure_org")]
    pub azure_project: Vec<String>,

    /// The Azure DevOps instance of --azure-org (Azure DevOps Server: its collection URL).
    #[arg(long, value_name = "URL", default_value = "https://dev.azure.com")]
    pub azure_url: String,

    /// Also scan archived repositories of the forges named.
    #[arg(long, requires = "forge")]
    pub include_archived: bool,

    /// Also scan forks of the forges named.
    #[arg(long, requires = "forge")]
    pub include_forks: bool,

    /// Also scan the wikis of the forges' repositories (a wiki never written to is noted, not a failure).
    #[arg(long, requires = "forge")]
    pub include_wikis: bool,

    /// Where mirror clones and the scan state are kept (default: $XDG_CACHE_HOME/keysweep or ~/.cache/keysweep).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Repositories cloned or refreshed at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub jobs: usize,

    /// Stop cloning or refreshing one repository after this many seconds (the repository is reported as failed).
    #[arg(long, default_value_t = 1800, value_name = "SECS")]
    pub repo_timeout: u64,

    /// Scan only shard K of N (1-based): repositories are assigned by a stable hash of their URL or path.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,

    /// Only blobs reachable from refs (default: every object, dangling ones too).
    #[arg(long)]
    pub reachable_only: bool,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub owner: OwnerLookupArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports (`keysweep org --shard K/N --format json -o report-K.json`).
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,

    /// Which findings make the exit code 1: any, only live (verified working) ones, or none.
    #[arg(long, value_enum, default_value_t = FailOnArg::Any)]
    pub fail_on: FailOnArg,

    #[command(flatten)]
    pub owner: OwnerLookupArgs,

    #[command(flatten)]
    pub aws: AwsTargetArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
        .map_err(|e: crate::source::org::OrgError| e.to_string())
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// Repositories: work trees, bare repositories, or paths inside one.
    #[arg(default_value = ".")]
    pub repos: Vec<PathBuf>,

    /// Only blobs reachable from refs (default: every object, dangling ones too).
    #[arg(long, conflicts_with_all = ["range", "since"])]
    pub reachable_only: bool,

    /// Scan only what the commits in BASE..HEAD added or changed.
    #[arg(long, value_name = "BASE..HEAD")]
    pub range: Option<String>,

    /// Scan only what the commits after REV (up to HEAD) added or changed.
    #[arg(long, value_name = "REV", conflicts_with = "range")]
    pub since: Option<String>,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub owner: OwnerLookupArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct PrePushArgs {
    /// The remote's name (or URL), as git passes it.
    pub remote: Option<String>,
    /// The remote's URL, as git passes it.
    pub url: Option<String>,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write .git/hooks/pre-push (or into core.hooksPath) to run `keysweep pre-push`; with --pre-commit, a pre-commit hook running `keysweep scan --staged`.
    Install {
        /// The repository.
        #[arg(default_value = ".")]
        repo: PathBuf,
        /// Replace an existing hook that keysweep did not write.
        #[arg(long)]
        force: bool,
        /// Install the pre-commit hook (checks what is staged, before the commit exists); alone, instead of pre-push.
        #[arg(long)]
        pre_commit: bool,
        /// Install the pre-push hook (the default; give it with --pre-commit to install both).
        #[arg(long)]
        pre_push: bool,
    },
}

#[derive(Debug, Args)]
pub struct CiArgs {
    /// The repository (the Action's checkout).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,

    /// Also write a SARIF report here (for github/codeql-action/upload-sarif).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// Live verification with sts:GetCallerIdentity.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Check each distinct credential with sts:GetCallerIdentity, signed with the found key.
    #[arg(long)]
    pub verify: bool,

    /// Verification requests in flight at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub verify_concurrency: usize,

    /// Seconds allowed for one verification request.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub verify_timeout: u64,

    /// Remember verdicts across runs in this file (no secrets are stored).
    #[arg(long, value_name = "FILE")]
    pub verify_cache: Option<PathBuf>,

    /// How long a remembered verdict is trusted, in hours.
    #[arg(long, default_value_t = 24, value_name = "HOURS")]
    pub verify_cache_hours: u64,

    /// At most this many STS requests in the run; the rest stay unverified (a hostile repository can plant any number of fake keys).
    #[arg(long, value_name = "N", default_value_t = crate::verify::DEFAULT_MAX_REQUESTS)]
    pub max_verify_requests: usize,

    /// STS endpoint (default: AWS_ENDPOINT_URL_STS, else AWS's); plain http:// only to this machine.
    #[arg(long, value_name = "URL")]
    pub sts_endpoint: Option<String>,

    /// Region to sign requests for (verification: default us-east-1; owner lookup: default the profile's, else us-east-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Never send keys of this AWS account (repeatable); known canary-token accounts are always skipped.
    #[arg(long = "skip-account", value_name = "ACCOUNT_ID")]
    pub skip_accounts: Vec<String>,

    /// Which findings make the exit code 1: any, only live (verified working) ones, or none.
    #[arg(long, value_enum, default_value_t = FailOnArg::Any)]
    pub fail_on: FailOnArg,
}

// --- Owner lookup and revocation (issue 12) -------------------------------

/// `--owner-lookup` on the commands that report.
#[derive(Debug, Args)]
pub struct OwnerLookupArgs {
    /// Look up who owns each found key ID (account, IAM user, key status, last use, admin) with your own AWS credentials; the found keys are never used.
    #[arg(long)]
    pub owner_lookup: bool,

    #[command(flatten)]
    pub access: OwnerAccessArgs,
}

/// How owner lookups reach AWS with the operator's own credentials.
#[derive(Debug, Args)]
pub struct OwnerAccessArgs {
    /// AWS profile with your own credentials (default: the standard chain: environment, AWS_PROFILE, SSO, instance role…).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Role to assume in member accounts of your AWS Organization, e.g. OrganizationAccountAccessRole (default: only your own account is looked into).
    #[arg(long, value_name = "NAME")]
    pub assume_role_name: Option<String>,

    /// Owner lookups in flight at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub owner_concurrency: usize,

    /// At most this many AWS requests for owner lookups; keys left over are reported as not looked up.
    #[arg(long, value_name = "N")]
    pub max_owner_requests: Option<usize>,

    /// Remember owner records across runs in this file (no secrets are stored).
    #[arg(long, value_name = "FILE")]
    pub owner_cache: Option<PathBuf>,

    /// How long a remembered owner record is trusted, in minutes.
    #[arg(long, default_value_t = 60, value_name = "MINUTES")]
    pub owner_cache_minutes: u64,

    /// IAM endpoint (default: AWS_ENDPOINT_URL_IAM, else AWS's); plain http:// only to this machine.
    #[arg(long, value_name = "URL")]
    pub iam_endpoint: Option<String>,

    /// Organizations endpoint (default: AWS_ENDPOINT_URL_ORGANIZATIONS, else AWS's); plain http:// only to this machine.
    #[arg(long, value_name = "URL")]
    pub organizations_endpoint: Option<String>,
}

/// Region and STS endpoint, for the commands without `--verify`.
#[derive(Debug, Args)]
pub struct AwsTargetArgs {
    /// Region of the STS endpoint for owner lookups (default: the profile's, else us-east-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// STS endpoint (default: AWS_ENDPOINT_URL_STS, else AWS's); plain http:// only to this machine.
    #[arg(long, value_name = "URL")]
    pub sts_endpoint: Option<String>,
}

#[derive(Debug, Args)]
pub struct TriageArgs {
    /// A JSON report (`--format json` or `jsonl`) of any keysweep command.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,

    /// Which findings make the exit code 1: any, only live (verified working) ones, or none.
    #[arg(long, value_enum, default_value_t = FailOnArg::Any)]
    pub fail_on: FailOnArg,

    #[command(flatten)]
    pub access: OwnerAccessArgs,

    #[command(flatten)]
    pub aws: AwsTargetArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["fingerprint", "all_active"])))]
pub struct RevokeArgs {
    /// A JSON report (`--format json` or `jsonl`): only key IDs it holds can be revoked.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,

    /// Revoke the key of this finding (its `fingerprint` in the report; repeatable).
    #[arg(long, value_name = "F")]
    pub fingerprint: Vec<String>,

    /// Revoke every key of the report that the owner lookup finds Active.
    #[arg(long)]
    pub all_active: bool,

    /// Only keys of this AWS account (repeatable; default: any account you reach).
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Vec<String>,

    /// Do it without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,

    /// Print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub access: OwnerAccessArgs,

    #[command(flatten)]
    pub aws: AwsTargetArgs,

    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

// --- end of owner lookup and revocation -----------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    Any,
    Live,
    None,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input (a file named `-`: `./-`). With --staged: the repository.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Also scan untracked files that git ignores (.gitignore, info/exclude).
    /// Tracked files are always scanned; .ignore files are never honoured.
    #[arg(long)]
    pub no_ignore: bool,

    /// Scan what is staged in git's index (what the next commit would record, by index path), not the work tree.
    #[arg(long, conflicts_with = "no_ignore")]
    pub staged: bool,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub owner: OwnerLookupArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// How much of each file or blob is read.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Skip files and blobs larger than this (e.g. 500K, 64M, 1G); skipped ones are named and counted.
    #[arg(long, default_value = "256M", value_parser = parse_size)]
    pub max_file_size: u64,
}

/// Options every scanning command takes.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print secrets and session tokens in full (redacted by default).
    #[arg(long)]
    pub show_secrets: bool,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,

    /// Config file (default: .keysweep.toml in the scanned directory, if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// A previous JSON report: its findings (by fingerprint) are not reported again.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// No warnings, no progress, no summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow annotations (+ the job summary).
    Github,
    /// One self-contained HTML page (no network needed to open it).
    Html,
    /// CSV, one row per place, for spreadsheets (RFC 4180; cells starting with = + - @ get a leading ').
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

/// Parses `123`, `500K`, `64M`, `1G` (powers of 1024; a trailing `B`/`iB` is allowed).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown size unit in {s:?} (use K, M, G or T)")),
            };
            (&t[..i], mult)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("not a size: {s:?} (examples: 500K, 64M, 1G)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size too large: {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("500K"), Ok(500 << 10));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("lots").is_err());
    }
}
