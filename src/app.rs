//! The driver: settings → source → suppress → verify → report → exit code.
//! It is the only place that wires stages together and the only place that
//! decides where report bytes go; the stages below it never print a report
//! and never read a flag.

use crate::cli::Command;
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::Finding;
use crate::integrations::github::actions::{self, GitCheckout};
use crate::integrations::github::event::CiPlan;
use crate::integrations::{hook, prepush};
use crate::report::Format;
use crate::settings::{Config, Env, FailOn, ProcessEnv, Settings, Task};
use crate::source::git::{self, HistoryOptions};
use crate::source::{fs, org, reports, SourceScan};
use crate::stats::Stats;
use anyhow::Context;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

mod commands;
#[cfg(feature = "verify")]
mod owner;

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
    let Some(command) = commands::run_if_no_scan(command)? else {
        return Ok(Exit::Clean);
    };
    let env = ProcessEnv;
    match Settings::from_command(command, &env)? {
        Some(settings) => drive(settings, &env),
        None => Ok(Exit::Clean),
    }
}

/// Runs one scanning command, fully configured.
fn drive(mut s: Settings, env: &dyn Env) -> anyhow::Result<Exit> {
    if let Task::Revoke(r) = &s.task {
        return revoke(r, &s);
    }
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
            crate::verify::verify_scan(&mut scan, opts, &s.config.skip_accounts, &diag)?;
        }
    }
    if let Some(opts) = &s.owner {
        let required = matches!(s.task, Task::Triage { .. });
        look_up_owners(&mut scan, opts, required, &diag)?;
    }
    if !matches!(s.task, Task::Merge { .. } | Task::Triage { .. }) {
        scan.stats.elapsed_ms = crate::stats::elapsed_ms(started);
    }

    crate::sink::write_reports(&s, &scan)?;
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
        } => git::scan_repositories(
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
                    git::scan_commits(
                        repo,
                        &push.commits.tips,
                        &push.commits.exclude,
                        &detector,
                        &history(false),
                        diag,
                    )?
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
                    git::scan_commits(
                        repo,
                        &set.tips,
                        &set.exclude,
                        &detector,
                        &history(false),
                        diag,
                    )?
                }
                CiPlan::FullHistory { reason, trusted: t } => {
                    diag.say(reason);
                    trusted = trust(repo, t);
                    git::scan_history(repo, &detector, &history(false), diag)?
                }
            }
        }
        Task::Org(o) => org::plan::scan_sources(o, &detector, &history(o.reachable_only), diag)?,
        Task::Merge { reports } => reports::merge(reports)?,
        Task::Triage { report } => reports::merge(std::slice::from_ref(report))?,
        // `drive` runs revocations before any source is read.
        Task::Revoke(_) => return Ok(None),
    };
    Ok(Some(Sourced { scan, trusted }))
}

#[cfg(feature = "verify")]
use owner::{look_up_owners, revoke};

/// Unreachable: settings refuse owner lookups in a build without them.
#[cfg(not(feature = "verify"))]
fn look_up_owners(
    _: &mut SourceScan,
    _: &crate::verify::owner::OwnerOptions,
    _: bool,
    _: &Diagnostics,
) -> anyhow::Result<()> {
    anyhow::bail!("this keysweep was built without owner lookups")
}

/// Unreachable: settings refuse owner lookups in a build without them.
#[cfg(not(feature = "verify"))]
fn revoke(_: &crate::settings::RevokeSettings, _: &Settings) -> anyhow::Result<Exit> {
    anyhow::bail!("this keysweep was built without owner lookups")
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
