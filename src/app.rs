//! The one place that wires the stages together: source → detect →
//! suppress → verify → report, and the exit code.

use crate::blob::ReadLimits;
use crate::cli::{
    CiArgs, ColorArg, Command, CommonArgs, FailOn, FormatArg, GitArgs, HookCommand, MergeArgs,
    OrgArgs, PrePushArgs, ScanArgs, VerifyArgs,
};
use crate::config::Config;
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::{Finding, VerificationStatus};
use crate::integrations::github_event::{self, CiPlan};
use crate::integrations::{hook, prepush, CommitSet};
use crate::report::{self, Format, Report, Style};
use crate::source::fs::{self, WalkOptions};
use crate::source::git::{self, HistoryOptions, HistoryScan};
use crate::source::org::{self, OrgOptions};
use crate::stats::Stats;
use anyhow::{bail, Context};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Instant;

/// Exit codes, documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing found, everything scanned.
    Clean = 0,
    /// Credentials found (as `--fail-on` counts them).
    Found = 1,
    /// Nothing found, but something could not be scanned (or bad arguments).
    Error = 2,
}

pub fn run(command: Command) -> anyhow::Result<Exit> {
    match command {
        Command::Scan(args) => scan(args),
        Command::Git(args) => git_history(args),
        Command::PrePush(args) => pre_push(args),
        Command::Hook(HookCommand::Install { repo, force }) => {
            let exe = std::env::current_exe().context("cannot find the keysweep binary")?;
            let path = hook::install(&repo, &exe, force)?;
            eprintln!("installed the keysweep pre-push hook at {}", path.display());
            Ok(Exit::Clean)
        }
        Command::Ci(args) => ci(args),
        Command::Org(args) => org_scan(args),
        Command::Merge(args) => merge(args),
    }
}

/// What a scan produced, before suppression and verification.
struct Outcome {
    findings: Vec<Finding>,
    stats: Stats,
}

fn scan(args: ScanArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let root = args.paths.first().cloned().unwrap_or_else(|| ".".into());
    let config = load_config(&args.common, &root, &args.verify)?;
    let diag = diagnostics(&args.common);
    let opts = WalkOptions {
        respect_ignore: !args.no_ignore,
        threads: threads(&args.common),
        limits: ReadLimits {
            max_file_size: args.max_file_size,
            ..ReadLimits::default()
        },
    };
    diag.set_message("scanning files");
    let result = fs::scan_paths(&args.paths, &Detector::new(), &opts, &diag);
    let outcome = Outcome {
        findings: result.findings,
        stats: result.stats,
    };
    let (findings, stats) = settle(outcome, &config, &args.verify, &diag, started)?;
    write_report(&args.common, &findings, &stats)?;
    Ok(exit_code(&findings, &stats, args.verify.fail_on))
}

fn history_options(
    common: &CommonArgs,
    max_blob_size: u64,
    reachable_only: bool,
) -> HistoryOptions {
    HistoryOptions {
        reachable_only,
        threads: threads(common),
        max_blob_size,
    }
}

fn git_history(args: GitArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let root = args.repos.first().cloned().unwrap_or_else(|| ".".into());
    let config = load_config(&args.common, &root, &args.verify)?;
    let diag = diagnostics(&args.common);
    let detector = Detector::new();
    let opts = history_options(&args.common, args.max_file_size, args.reachable_only);
    let range = args.range.clone().or_else(|| args.since.clone());
    let several = args.repos.len() > 1;
    let mut outcome = Outcome {
        findings: Vec::new(),
        stats: Stats::default(),
    };
    for repo in &args.repos {
        let result = match &range {
            Some(r) => git::scan_range(repo, r, &detector, &opts, &diag),
            None => git::scan_history(repo, &detector, &opts, &diag),
        };
        match result {
            Ok(HistoryScan { findings, stats }) => {
                outcome.stats.add(&stats);
                outcome.findings.extend(findings.into_iter().map(|mut f| {
                    if several {
                        f.repo = Some(repo.to_string_lossy().into_owned());
                    }
                    f
                }));
            }
            // One repository: its error is the run's error. Several: report it, go on.
            Err(e) if !several => return Err(e.into()),
            Err(e) => {
                diag.warn(format_args!("{e}"));
                outcome.stats.walk_errors += 1;
            }
        }
    }
    let (findings, stats) = settle(outcome, &config, &args.verify, &diag, started)?;
    write_report(&args.common, &findings, &stats)?;
    Ok(exit_code(&findings, &stats, args.verify.fail_on))
}

/// `keysweep org`: many repositories, one report.
fn org_scan(args: OrgArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let config = load_config(&args.common, Path::new("."), &args.verify)?;
    let diag = diagnostics(&args.common);
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    let mut repos = match (&args.repos, &args.github_org) {
        (Some(list), _) => org::read_list(list)?,
        (None, Some(name)) => {
            let listing = org::github::list_repos(&org::github::Query {
                api_url: &args.github_api_url,
                org: name,
                token: token.as_deref(),
                include_archived: args.include_archived,
                include_forks: args.include_forks,
            })?;
            if !args.common.quiet {
                eprintln!(
                    "keysweep: {} repositories in {name} ({} archived and {} forks left out)",
                    listing.repos.len(),
                    listing.archived_skipped,
                    listing.forks_skipped
                );
            }
            listing.repos
        }
        (None, None) => bail!("name the repositories: --repos FILE or --github-org NAME"),
    };
    if let Some(shard) = args.shard {
        let all = repos.len();
        repos.retain(|r| shard.holds(&r.name));
        if !args.common.quiet {
            eprintln!(
                "keysweep: shard {}/{}: {} of {all} repositories",
                shard.index,
                shard.count,
                repos.len()
            );
        }
    }
    let cache_dir = args
        .cache_dir
        .clone()
        .or_else(org::default_cache_dir)
        .context("no cache directory: pass --cache-dir (neither XDG_CACHE_HOME nor HOME is set)")?;
    let opts = OrgOptions {
        cache_dir,
        jobs: args.jobs.max(1),
        repo_timeout: std::time::Duration::from_secs(args.repo_timeout.max(1)),
        auth: org::clone::Auth::new(token, &args.github_api_url),
        history: history_options(&args.common, args.max_file_size, args.reachable_only),
    };
    let scan = org::scan_org(&repos, &Detector::new(), &opts, &diag)?;
    let failed = scan.failed;
    let outcome = Outcome {
        findings: scan.findings,
        stats: scan.stats,
    };
    let (findings, stats) = settle(outcome, &config, &args.verify, &diag, started)?;
    write_report(&args.common, &findings, &stats)?;
    if !failed.is_empty() && !args.common.quiet {
        eprintln!(
            "keysweep: {} of {} repositories could not be scanned:",
            failed.len(),
            repos.len()
        );
        for (repo, _) in &failed {
            eprintln!("  - {}", report::sanitize_for_terminal(repo));
        }
    }
    Ok(exit_code(&findings, &stats, args.verify.fail_on))
}

/// `keysweep merge`: the shard reports of `keysweep org --shard`, as the
/// report one run over all repositories would give.
fn merge(args: MergeArgs) -> anyhow::Result<Exit> {
    let mut config = Config::load(args.common.config.as_deref(), Path::new("."))?;
    if let Some(baseline) = &args.common.baseline {
        config.add_baseline(baseline)?;
    }
    let mut findings = Vec::new();
    let mut stats = Stats::default();
    let mut elapsed_ms = 0;
    let mut seen = std::collections::HashSet::new();
    for path in &args.reports {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let (part, part_stats) = report::json::read_report(&text)
            .with_context(|| format!("cannot merge {}", path.display()))?;
        // Shards run side by side: the run took as long as the slowest.
        elapsed_ms = elapsed_ms.max(part_stats.elapsed_ms);
        stats.add(&part_stats);
        for f in part {
            if seen.insert((f.fingerprint(), f.repo.clone())) {
                findings.push(f);
            }
        }
    }
    let before = findings.len();
    findings.retain(|f| !config.allow.allows(f));
    stats.suppressed += (before - findings.len()) as u64;
    org::sort_findings(&mut findings);
    stats.elapsed_ms = elapsed_ms;
    write_report(&args.common, &findings, &stats)?;
    Ok(exit_code(&findings, &stats, args.fail_on))
}

/// `keysweep pre-push`: git runs it with the remote and URL as arguments
/// and the refs being pushed on stdin.
fn pre_push(args: PrePushArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let repo = PathBuf::from(".");
    let config = load_config(&args.common, &repo, &args.verify)?;
    let diag = diagnostics(&args.common);
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the refs git is pushing from stdin")?;
    let mut updates = prepush::parse(&input)?;
    let mut remote = args.remote.clone().unwrap_or_default();
    if updates.is_empty() {
        // Under the pre-commit framework the refs arrive as PRE_COMMIT_* variables.
        let var = |k: &str| std::env::var(k).ok();
        let local_oid_of = |r: &str| {
            git_output(
                &repo,
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{r}^{{commit}}"),
                ],
            )
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
        };
        if let Some((name, update)) = prepush::from_pre_commit_env(&var, &local_oid_of) {
            if remote.is_empty() {
                remote = name;
            }
            updates.push(update);
        }
    }
    let remote = remote.as_str();
    let remote_refs = remote_tracking_refs(&repo, remote)?;
    let set = prepush::plan(&updates, &|oid| has_commit(&repo, oid), &remote_refs);
    if set.tips.is_empty() {
        return Ok(Exit::Clean);
    }
    let outcome = scan_commit_set(&repo, &set, &args.common, args.max_file_size, &diag)?;
    let (findings, stats) = settle(outcome, &config, &args.verify, &diag, started)?;
    write_report(&args.common, &findings, &stats)?;
    let exit = exit_code(&findings, &stats, args.verify.fail_on);
    if exit == Exit::Found {
        eprintln!("{}", blocked_push_message(&findings));
    }
    Ok(exit)
}

fn blocked_push_message(findings: &[Finding]) -> String {
    let mut msg = String::from(
        "\nkeysweep: push blocked: the commits being pushed contain AWS credentials.\n",
    );
    for f in findings {
        let id = f
            .credential
            .access_key_id
            .as_ref()
            .map_or("a secret access key", |p| p.value.as_str());
        let pos = f.credential.first_position();
        let commit = f.commit().map_or(String::new(), |c| {
            format!(" (commit {})", &c[..c.len().min(12)])
        });
        msg.push_str(&format!("  - {id} in {}:{}{commit}\n", f.path, pos.line));
    }
    msg.push_str(
        "\nHow to fix:\n\
         \x20 1. Deactivate the key in IAM: it may already have been copied.\n\
         \x20 2. Remove it from every pushed commit (a later commit that deletes it is not enough):\n\
         \x20    git rebase -i <base> and edit the commit, or git commit --amend for the last one.\n\
         \x20 3. If it is a false alarm: add `keysweep:allow` on the line, allow it in .keysweep.toml,\n\
         \x20    or pass a --baseline.\n\
         Bypass this check once (not recommended): git push --no-verify\n",
    );
    msg
}

/// `keysweep ci`: what a GitHub Actions event brings.
fn ci(args: CiArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let config = load_config(&args.common, &args.repo, &args.verify)?;
    let diag = diagnostics(&args.common);
    let event_name = std::env::var("GITHUB_EVENT_NAME").unwrap_or_default();
    if event_name.is_empty() {
        bail!("GITHUB_EVENT_NAME is not set\nhint: `keysweep ci` runs inside GitHub Actions; elsewhere use `keysweep git`");
    }
    let event: serde_json::Value = match std::env::var_os("GITHUB_EVENT_PATH") {
        Some(p) => {
            let text = std::fs::read_to_string(&p).with_context(|| {
                format!("cannot read GITHUB_EVENT_PATH {}", Path::new(&p).display())
            })?;
            serde_json::from_str(&text).with_context(|| {
                format!("GITHUB_EVENT_PATH {} is not JSON", Path::new(&p).display())
            })?
        }
        None => serde_json::Value::Null,
    };
    let checkout = GitCheckout {
        repo: args.repo.clone(),
    };
    if checkout.is_shallow() {
        bail!(
            "{} is a shallow clone: its history is incomplete, so leaks in it could be missed\nhint: check out with full history: actions/checkout with `fetch-depth: 0`",
            args.repo.display()
        );
    }
    let plan = github_event::plan(&event_name, &event, &checkout)?;
    let outcome = match plan {
        CiPlan::Nothing { reason } => {
            eprintln!("keysweep: {reason}");
            Outcome {
                findings: Vec::new(),
                stats: Stats::default(),
            }
        }
        CiPlan::Commits { set, what, note } => {
            if let Some(n) = note {
                diag.warn(n);
            }
            eprintln!("keysweep: scanning {what}");
            scan_commit_set(&args.repo, &set, &args.common, args.max_file_size, &diag)?
        }
        CiPlan::FullHistory { reason } => {
            eprintln!("keysweep: {reason}");
            let opts = history_options(&args.common, args.max_file_size, false);
            let r = git::scan_history(&args.repo, &Detector::new(), &opts, &diag)?;
            Outcome {
                findings: r.findings,
                stats: r.stats,
            }
        }
    };
    let (findings, stats) = settle(outcome, &config, &args.verify, &diag, started)?;
    let style = Style {
        show_secrets: args.common.show_secrets,
        color: false,
    };
    let report = Report {
        findings: &findings,
        stats: &stats,
    };
    if let Some(path) = &args.sarif {
        write_to_file(path, Format::Sarif, &report, &style)?;
    }
    write_report(&args.common, &findings, &stats)?;
    if let Some(out) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
        let live = findings.iter().filter(|f| is_live(f)).count();
        let mut lines = format!("findings={}\nlive-findings={live}\n", findings.len());
        if let Some(path) = &args.sarif {
            lines.push_str(&format!("sarif-file={}\n", path.display()));
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&out)
            .and_then(|mut f| f.write_all(lines.as_bytes()))
            .with_context(|| format!("cannot write GITHUB_OUTPUT {}", Path::new(&out).display()))?;
    }
    Ok(exit_code(&findings, &stats, args.verify.fail_on))
}

/// The repository facts a CI plan needs, asked of git.
struct GitCheckout {
    repo: PathBuf,
}

impl GitCheckout {
    fn is_shallow(&self) -> bool {
        git_output(&self.repo, &["rev-parse", "--is-shallow-repository"])
            .is_some_and(|o| o.trim() == "true")
    }
}

impl github_event::Checkout for GitCheckout {
    fn has_commit(&self, sha: &str) -> bool {
        has_commit(&self.repo, sha)
    }

    fn other_refs(&self, pushed_ref: &str) -> Vec<String> {
        let short = pushed_ref.strip_prefix("refs/heads/");
        git_output(
            &self.repo,
            &[
                "for-each-ref",
                "--format=%(refname)",
                "refs/remotes/",
                "refs/tags/",
                "refs/heads/",
            ],
        )
        .unwrap_or_default()
        .lines()
        .filter(|r| {
            let same_branch = short.is_some_and(|b| {
                *r == pushed_ref
                    || r.strip_prefix("refs/remotes/")
                        .and_then(|x| x.split_once('/'))
                        .is_some_and(|(_, name)| name == b)
            });
            !same_branch && *r != pushed_ref && !r.ends_with("/HEAD")
        })
        .map(str::to_string)
        .collect()
    }
}

/// Runs a git command in `repo` without any of its hooks or helpers; `None`
/// when git fails.
fn git_output(repo: &Path, args: &[&str]) -> Option<String> {
    let out = Process::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn has_commit(repo: &Path, sha: &str) -> bool {
    git_output(repo, &["cat-file", "-e", &format!("{sha}^{{commit}}")]).is_some()
}

/// What the remote already has, as remote-tracking refs: those of `remote`
/// when it names a configured remote, else (a push to a URL) all of them.
fn remote_tracking_refs(repo: &Path, remote: &str) -> anyhow::Result<Vec<String>> {
    let remotes = git_output(repo, &["remote"]).context("cannot list git remotes")?;
    let prefix = if !remote.is_empty() && remotes.lines().any(|r| r == remote) {
        format!("refs/remotes/{remote}/")
    } else {
        "refs/remotes/".to_string()
    };
    Ok(
        git_output(repo, &["for-each-ref", "--format=%(refname)", &prefix])
            .unwrap_or_default()
            .lines()
            .filter(|r| !r.ends_with("/HEAD"))
            .map(str::to_string)
            .collect(),
    )
}

fn scan_commit_set(
    repo: &Path,
    set: &CommitSet,
    common: &CommonArgs,
    max_blob_size: u64,
    diag: &Diagnostics,
) -> anyhow::Result<Outcome> {
    let opts = history_options(common, max_blob_size, false);
    let r = git::scan_commits(repo, &set.tips, &set.exclude, &Detector::new(), &opts, diag)?;
    Ok(Outcome {
        findings: r.findings,
        stats: r.stats,
    })
}

/// Suppression, then verification: what every scanning command does after
/// the source stage.
fn settle(
    outcome: Outcome,
    config: &Config,
    verify: &VerifyArgs,
    diag: &Diagnostics,
    started: Instant,
) -> anyhow::Result<(Vec<Finding>, Stats)> {
    diag.finish();
    let Outcome {
        findings,
        mut stats,
    } = outcome;
    let before = findings.len();
    let mut findings: Vec<Finding> = findings
        .into_iter()
        .filter(|f| !config.allow.allows(f))
        .collect();
    stats.suppressed += (before - findings.len()) as u64;
    if verify.verify && !findings.is_empty() {
        verify_findings(&mut findings, verify, config, diag, &mut stats)?;
    }
    stats.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok((findings, stats))
}

#[cfg(feature = "verify")]
fn verify_findings(
    findings: &mut [Finding],
    args: &VerifyArgs,
    config: &Config,
    diag: &Diagnostics,
    stats: &mut Stats,
) -> anyhow::Result<()> {
    use crate::verify::{verify_findings, VerifyOptions};
    use std::time::Duration;
    let mut skip_accounts = args.skip_accounts.clone();
    skip_accounts.extend(config.skip_accounts.iter().cloned());
    let opts = VerifyOptions {
        concurrency: args.verify_concurrency,
        timeout: Duration::from_secs(args.verify_timeout.max(1)),
        endpoint: VerifyOptions::resolve_endpoint(args.sts_endpoint.clone()),
        region: args.region.clone(),
        skip_accounts,
        cache_file: args.verify_cache.clone(),
        cache_ttl: Duration::from_secs(args.verify_cache_hours * 3600),
        max_requests: args.max_verify_requests,
        ..VerifyOptions::default()
    };
    let summary = verify_findings(findings, &opts, diag)?;
    stats.verify_requests = summary.requests as u64;
    stats.verify_cached = summary.cached as u64;
    stats.credentials_verified = summary.distinct as u64;
    Ok(())
}

/// Unreachable: `load_config` refuses `--verify` in a build without it.
#[cfg(not(feature = "verify"))]
fn verify_findings(
    _: &mut [Finding],
    _: &VerifyArgs,
    _: &Config,
    _: &Diagnostics,
    _: &mut Stats,
) -> anyhow::Result<()> {
    bail!("this keysweep was built without verification")
}

fn is_live(f: &Finding) -> bool {
    f.verification
        .as_ref()
        .is_some_and(|v| v.status == VerificationStatus::Live)
}

/// 1 when a finding fails the run (all of them, or only live ones); else 2
/// when something could not be scanned; else 0.
fn exit_code(findings: &[Finding], stats: &Stats, fail_on: FailOn) -> Exit {
    let failing = match fail_on {
        FailOn::Any => !findings.is_empty(),
        FailOn::Live => findings.iter().any(is_live),
        FailOn::None => false,
    };
    if failing {
        Exit::Found
    } else if stats.problems() > 0 {
        Exit::Error
    } else {
        Exit::Clean
    }
}

/// The config file, baseline and verification flags, validated before any
/// scanning.
fn load_config(common: &CommonArgs, root: &Path, verify: &VerifyArgs) -> anyhow::Result<Config> {
    if verify.fail_on == FailOn::Live && !verify.verify {
        bail!("--fail-on live needs --verify: without it no key is known to be live");
    }
    if verify.verify && !cfg!(feature = "verify") {
        bail!("this keysweep was built without verification\nhint: rebuild with the default features (cargo feature `verify`)");
    }
    let mut config = Config::load(common.config.as_deref(), root)?;
    if let Some(baseline) = &common.baseline {
        config.add_baseline(baseline)?;
    }
    Ok(config)
}

fn format_of(arg: FormatArg) -> Format {
    match arg {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
    }
}

fn write_to_file(
    path: &Path,
    format: Format,
    report: &Report<'_>,
    style: &Style,
) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    format.reporter().write(&mut w, report, style)?;
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes the report in the chosen format, and the summary line for people.
fn write_report(common: &CommonArgs, findings: &[Finding], stats: &Stats) -> anyhow::Result<()> {
    let format = format_of(common.format);
    let report = Report { findings, stats };
    let to_terminal = common.output.is_none() && std::io::stdout().is_terminal();
    let style = Style {
        show_secrets: common.show_secrets,
        color: use_color(common.color, to_terminal),
    };
    match &common.output {
        Some(path) => write_to_file(path, format, &report, &style)?,
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            format.reporter().write(&mut w, &report, &style)?;
            w.flush()?;
        }
    }
    if format == Format::Text && !common.quiet {
        eprintln!("{}", report::text::summary(&report));
    }
    Ok(())
}

fn diagnostics(common: &CommonArgs) -> Diagnostics {
    Diagnostics::new(!common.no_progress, common.quiet)
}

fn threads(common: &CommonArgs) -> usize {
    common
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// Colour on a terminal unless `NO_COLOR` is set (https://no-color.org).
fn use_color(arg: ColorArg, to_terminal: bool) -> bool {
    match arg {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}
