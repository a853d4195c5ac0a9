//! The driver: settings → source → suppress → verify → report → exit code.
//! It is the only place that wires stages together and the only place that
//! decides where report bytes go; the stages below it never print a report
//! and never read a flag.

use crate::atomic_file::{self, Access};
use crate::cli::{Command, HookCommand};
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::{sort_canonical, Finding};
use crate::integrations::github::actions::{self, GitCheckout};
use crate::integrations::github::event::CiPlan;
use crate::integrations::{hook, prepush, CommitSet};
use crate::report::{self, summary, Format, Report};
use crate::settings::{Config, Env, FailOn, OrgSettings, ProcessEnv, Settings, Task};
use crate::source::git::{self, HistoryOptions};
use crate::source::org::{self, OrgOptions};
use crate::source::{fs, SourceScan};
use crate::stats::Stats;
use anyhow::Context;
use std::io::{Read, Write};
use std::path::Path;
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
    if let Command::Hook(HookCommand::Install {
        repo,
        force,
        pre_commit,
        pre_push,
    }) = command
    {
        let exe = std::env::current_exe().context("cannot find the keysweep binary")?;
        // Pre-push unless only --pre-commit was asked for.
        let mut kinds = Vec::new();
        if pre_push || !pre_commit {
            kinds.push(hook::Kind::PrePush);
        }
        if pre_commit {
            kinds.push(hook::Kind::PreCommit);
        }
        for kind in kinds {
            let path = hook::install(&repo, &exe, kind, force)?;
            eprintln!(
                "installed the keysweep {} hook at {}",
                kind.name(),
                path.display()
            );
        }
        return Ok(Exit::Clean);
    }
    match command {
        Command::Completions { shell } => {
            // Rendered first: clap_complete panics on a write error, and
            // `keysweep completions bash | head` closes the pipe early.
            let mut script = Vec::new();
            crate::integrations::shell::completions(shell, &mut script);
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&script)?;
            stdout.flush()?;
            return Ok(Exit::Clean);
        }
        Command::Man { dir: None } => {
            let mut stdout = std::io::stdout().lock();
            crate::integrations::shell::man(&mut stdout)?;
            stdout.flush()?;
            return Ok(Exit::Clean);
        }
        Command::Man { dir: Some(dir) } => {
            let pages = crate::integrations::shell::man_pages(&dir)
                .with_context(|| format!("cannot write man pages into {}", dir.display()))?;
            eprintln!("wrote {} man pages into {}", pages.len(), dir.display());
            return Ok(Exit::Clean);
        }
        _ => {}
    }
    let env = ProcessEnv;
    match Settings::from_command(command, &env)? {
        Some(settings) => drive(settings, &env),
        None => Ok(Exit::Clean),
    }
}

/// Runs one scanning command, fully configured.
fn drive(mut s: Settings, env: &dyn Env) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let diag = Diagnostics::new(s.output.progress, s.output.quiet, s.output.style.medium);
    let Some(Sourced { mut scan, trusted }) = source(&s, &diag, env)? else {
        return Ok(Exit::Clean);
    };
    diag.finish();

    if s.config_from_trusted_commit {
        match &trusted {
            Some(t) => {
                let mut committed = Config::load_at_commit(&t.repo, &t.rev)?;
                // An explicit --baseline still counts.
                committed.absorb(std::mem::take(&mut s.config));
                s.config = committed;
            }
            None => diag.say(
                "no commit outside the ones being judged to take .keysweep.toml from: no allowlist applies",
            ),
        }
    }

    let before = scan.findings.len();
    scan.findings.retain(|f| !s.config.allow.allows(f));
    scan.stats.suppressed += (before - scan.findings.len()) as u64;
    if let Some(opts) = &s.verify {
        if !scan.findings.is_empty() {
            verify(&mut scan, opts, &s, &diag)?;
        }
    }
    if !matches!(s.task, Task::Merge { .. }) {
        scan.stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    }

    write_reports(&s, &scan)?;
    let exit = exit_code(&scan.findings, &scan.stats, s.fail_on);
    if exit == Exit::Found && matches!(s.task, Task::PrePush { .. }) {
        eprintln!(
            "{}",
            prepush::blocked_message(&scan.findings, &s.output.style)
        );
    }
    if exit == Exit::Found && matches!(s.task, Task::Staged { .. }) && !s.output.quiet {
        eprintln!(
            "{}",
            hook::staged_blocked_message(&scan.findings, &s.output.style)
        );
    }
    Ok(exit)
}

/// A commit whose configuration may be trusted.
struct Trusted {
    repo: std::path::PathBuf,
    rev: String,
}

/// What the source stage produced.
struct Sourced {
    scan: SourceScan,
    /// For `ci` and `pre-push`: the commit not under judgement.
    trusted: Option<Trusted>,
}

/// The source stage: what the task reads. `None` when there is nothing to
/// scan at all (a push that only deletes).
fn source(s: &Settings, diag: &Diagnostics, env: &dyn Env) -> anyhow::Result<Option<Sourced>> {
    let detector = Detector::new();
    let history = |reachable_only| HistoryOptions {
        reachable_only,
        threads: s.threads,
        limits: s.limits,
        // Only the JSON reports name the refs that hold a finding's blob.
        list_refs: matches!(s.output.format, Format::Json | Format::Jsonl),
    };
    let trust = |repo: &Path, rev: Option<String>| {
        rev.map(|rev| Trusted {
            repo: repo.to_path_buf(),
            rev,
        })
    };
    let mut trusted = None;
    let scan = match &s.task {
        Task::Files {
            paths,
            respect_ignore,
        } => {
            diag.set_message("scanning files");
            let opts = fs::WalkOptions {
                respect_ignore: *respect_ignore,
                threads: s.threads,
                limits: s.limits,
            };
            fs::scan_paths(paths, &detector, &opts, diag)
        }
        Task::Staged { repo, index_file } => {
            diag.set_message("scanning what is staged");
            let opts = git::StagedOptions {
                index_file: index_file.clone(),
                limits: s.limits,
                threads: s.threads,
            };
            git::scan_staged(repo, &detector, &opts, diag)?
        }
        Task::Stdin => {
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() {
                diag.say("reading standard input until end of file (Ctrl-D)");
            }
            diag.set_message("scanning standard input");
            let counters = crate::stats::AtomicStats::default();
            let scanner = crate::blob::BlobScanner {
                detector: &detector,
                limits: s.limits,
                counters: &counters,
                diag,
            };
            crate::source::stdin::scan_stdin(&mut std::io::stdin().lock(), &scanner)
        }
        Task::History {
            repos,
            range,
            reachable_only,
        } => history_of(
            repos,
            range.as_deref(),
            &detector,
            &history(*reachable_only),
            diag,
        )?,
        Task::PrePush { repo, remote } => {
            let mut stdin = String::new();
            std::io::stdin()
                .read_to_string(&mut stdin)
                .context("cannot read the refs git is pushing from stdin")?;
            let var = |k: &str| env.var(k);
            match prepush::commits_to_push(repo, remote.as_deref(), &stdin, &var)? {
                Some(push) => {
                    trusted = trust(repo, push.trusted);
                    commits(repo, &push.commits, &detector, &history(false), diag)?
                }
                None => return Ok(None),
            }
        }
        Task::Ci { repo } => {
            let (name, payload) = actions::read_event()?;
            let checkout = GitCheckout::open(repo)?;
            match checkout.plan(&name, &payload)? {
                CiPlan::Nothing { reason } => {
                    diag.say(reason);
                    SourceScan::default()
                }
                CiPlan::Commits {
                    set,
                    what,
                    note,
                    trusted: t,
                } => {
                    if let Some(n) = note {
                        diag.warn(n);
                    }
                    diag.say(format_args!("scanning {what}"));
                    trusted = trust(repo, t);
                    commits(repo, &set, &detector, &history(false), diag)?
                }
                CiPlan::FullHistory { reason, trusted: t } => {
                    diag.say(reason);
                    trusted = trust(repo, t);
                    git::scan_history(repo, &detector, &history(false), diag)?
                }
            }
        }
        Task::Org(o) => organization(o, &detector, &history(o.reachable_only), diag)?,
        Task::Merge { reports } => merge(reports)?,
    };
    Ok(Some(Sourced { scan, trusted }))
}

fn commits(
    repo: &Path,
    set: &CommitSet,
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
) -> anyhow::Result<SourceScan> {
    Ok(git::scan_commits(
        repo,
        &set.tips,
        &set.exclude,
        detector,
        opts,
        diag,
    )?)
}

/// Whole histories (or a range) of one or more repositories. With several,
/// a repository that cannot be read is a warning and a count, not the end.
fn history_of(
    repos: &[std::path::PathBuf],
    range: Option<&str>,
    detector: &Detector,
    opts: &HistoryOptions,
    diag: &Diagnostics,
) -> anyhow::Result<SourceScan> {
    let several = repos.len() > 1;
    let mut out = SourceScan::default();
    for repo in repos {
        let result = match range {
            Some(r) => git::scan_range(repo, r, detector, opts, diag),
            None => git::scan_history(repo, detector, opts, diag),
        };
        match result {
            Ok(mut scan) => {
                if several {
                    let name: std::sync::Arc<str> =
                        std::sync::Arc::from(repo.to_string_lossy().as_ref());
                    for f in &mut scan.findings {
                        f.location.repo = Some(name.clone());
                    }
                }
                out.absorb(scan);
            }
            Err(e) if !several => return Err(e.into()),
            Err(e) => {
                diag.warn(crate::diag::chain(&e));
                out.stats.walk_errors += 1;
            }
        }
    }
    sort_canonical(&mut out.findings);
    Ok(out)
}

/// `keysweep org`: many repositories, one report.
fn organization(
    o: &OrgSettings,
    detector: &Detector,
    history: &HistoryOptions,
    diag: &Diagnostics,
) -> anyhow::Result<SourceScan> {
    use crate::settings::Source;
    use org::forge::Listing;
    let tokens = &o.tokens;
    let mut auth = org::clone::Auth::new(tokens.github.clone(), &o.github_api_url);
    let mut repos = Vec::new();
    for source in &o.sources {
        let (what, listing): (String, Listing) = match source {
            Source::File(specs) => {
                repos.extend(specs.iter().cloned());
                continue;
            }
            Source::GithubOrg(name) | Source::GithubUser(name) => {
                let owner = match source {
                    Source::GithubOrg(_) => org::github::Owner::Org(name),
                    _ => org::github::Owner::User(name),
                };
                let listing = org::github::list_repos(&org::github::Query {
                    api_url: &o.github_api_url,
                    owner,
                    token: tokens.github.as_deref(),
                    filter: o.filter,
                })?;
                (name.clone(), listing)
            }
            Source::GitlabGroup { url, group } => {
                if let (Some(t), Some(host)) = (&tokens.gitlab, org::clone::git_host_of(url)) {
                    auth.add_basic(&host, "oauth2", t);
                }
                let listing = org::gitlab::list_repos(&org::gitlab::Query {
                    url,
                    group,
                    token: tokens.gitlab.as_deref(),
                    filter: o.filter,
                })?;
                (group.clone(), listing)
            }
            Source::GiteaOrg { url, org: name } => {
                if let (Some(t), Some(host)) = (&tokens.gitea, org::clone::git_host_of(url)) {
                    // Gitea takes a token as the Basic password, whatever the user.
                    auth.add_basic(&host, "oauth2", t);
                }
                let listing = org::gitea::list_repos(&org::gitea::Query {
                    url,
                    org: name,
                    token: tokens.gitea.as_deref(),
                    filter: o.filter,
                })?;
                (name.clone(), listing)
            }
            Source::BitbucketWorkspace { api_url, workspace } => {
                if let (Some(t), Some(host)) = (&tokens.bitbucket, org::clone::git_host_of(api_url))
                {
                    // Bitbucket's documented user for access tokens over git.
                    auth.add_basic(&host, "x-token-auth", t);
                }
                let listing = org::bitbucket::list_repos(&org::bitbucket::Query {
                    api_url,
                    workspace,
                    token: tokens.bitbucket.as_deref(),
                    filter: o.filter,
                })?;
                (workspace.clone(), listing)
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
    let mut repos = org::dedup(repos);
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
    let result = org::scan_org(&repos, detector, &opts, diag)?;
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

/// `keysweep merge`: the shard reports of `keysweep org --shard`, as the
/// report one run over all repositories would give.
fn merge(reports: &[std::path::PathBuf]) -> anyhow::Result<SourceScan> {
    let mut out = SourceScan::default();
    let mut elapsed_ms = 0;
    let mut seen = std::collections::HashSet::new();
    for path in reports {
        let bytes = crate::settings::config::read_own_file(
            path,
            crate::settings::config::MAX_BASELINE_BYTES,
        )
        .with_context(|| format!("cannot read {}", path.display()))?;
        let text = std::str::from_utf8(&bytes)
            .with_context(|| format!("cannot merge {}: not UTF-8 text", path.display()))?;
        let (part, part_stats) = report::json::read_report(text)
            .with_context(|| format!("cannot merge {}", path.display()))?;
        // Shards run side by side: the run took as long as the slowest.
        elapsed_ms = elapsed_ms.max(part_stats.elapsed_ms);
        out.stats.add(&part_stats);
        for f in part {
            if seen.insert((f.fingerprint(), f.location.repo.clone())) {
                out.findings.push(f);
            }
        }
    }
    sort_canonical(&mut out.findings);
    out.stats.elapsed_ms = elapsed_ms;
    Ok(out)
}

#[cfg(feature = "verify")]
fn verify(
    scan: &mut SourceScan,
    opts: &crate::verify::VerifyOptions,
    s: &Settings,
    diag: &Diagnostics,
) -> anyhow::Result<()> {
    let mut opts = opts.clone();
    opts.skip_accounts
        .extend(s.config.skip_accounts.iter().cloned());
    if let Some(endpoint) = &opts.endpoint {
        diag.say(format_args!(
            "verifying against the STS endpoint {endpoint}"
        ));
    }
    let summary = crate::verify::verify_findings(&mut scan.findings, &opts, diag)?;
    scan.stats.verify_requests = summary.requests as u64;
    scan.stats.verify_cached = summary.cached as u64;
    scan.stats.credentials_verified = summary.distinct as u64;
    Ok(())
}

/// Unreachable: settings refuse `--verify` in a build without it.
#[cfg(not(feature = "verify"))]
fn verify(
    _: &mut SourceScan,
    _: &crate::verify::VerifyOptions,
    _: &Settings,
    _: &Diagnostics,
) -> anyhow::Result<()> {
    anyhow::bail!("this keysweep was built without verification")
}

/// 1 when a finding fails the run (all of them, or only live ones); else 2
/// when something could not be scanned; else 0.
fn exit_code(findings: &[Finding], stats: &Stats, fail_on: FailOn) -> Exit {
    let failing = match fail_on {
        FailOn::Any => !findings.is_empty(),
        FailOn::Live => findings.iter().any(Finding::is_live),
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

/// Every output of the run: the report (file or stdout), the SARIF file
/// and step outputs of `keysweep ci`, the job summary, the summary line.
fn write_reports(s: &Settings, scan: &SourceScan) -> anyhow::Result<()> {
    let out = &s.output;
    let options = s.describe();
    let report = Report {
        findings: &scan.findings,
        stats: &scan.stats,
        options: &options,
    };
    if let Some(path) = &out.sarif {
        let style = report::Style {
            color: false,
            ..out.style
        };
        let bytes = report::render(Format::Sarif, &report, &style)?;
        write_file(path, &bytes, &style)?;
    }
    let bytes = report::render(out.format, &report, &out.style)?;
    match &out.file {
        Some(path) => write_file(path, &bytes, &out.style)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&bytes)?;
            stdout.flush()?;
        }
    }
    if let Some(path) = &out.step_summary {
        actions::append_step_summary(path, &summary::step_summary(&scan.findings, &out.style))?;
    }
    if let Some(path) = &out.step_outputs {
        let live = scan.findings.iter().filter(|f| f.is_live()).count();
        actions::write_step_outputs(path, scan.findings.len(), live, out.sarif.as_deref())?;
    }
    if out.format == Format::Text && !out.quiet {
        eprintln!("{}", report::text::summary(&report));
    }
    Ok(())
}

/// Replaces the file whole (see [`crate::atomic_file`]); private when the
/// report shows secrets in full.
fn write_file(path: &Path, bytes: &[u8], style: &report::Style) -> anyhow::Result<()> {
    let access = if style.show_secrets {
        Access::Private
    } else {
        Access::Shared
    };
    atomic_file::write_replacing(path, bytes, access).with_context(|| {
        format!(
            "cannot write {}; any earlier file there is unchanged",
            path.display()
        )
    })
}
