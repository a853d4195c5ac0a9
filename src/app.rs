//! The one place that wires the stages together: source → detect → report,
//! and the exit code.

use crate::blob::ReadLimits;
use crate::cli::{ColorArg, Command, CommonArgs, FormatArg, ScanArgs};
use crate::config::Config;
use crate::detect::Detector;
use crate::diag::Diagnostics;
use crate::finding::Finding;
use crate::report::{self, Format, Report, Style};
use crate::source::fs::{self, WalkOptions};
use crate::stats::Stats;
use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Exit codes, documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing found, everything scanned.
    Clean = 0,
    /// Credentials found.
    Found = 1,
    /// Nothing found, but something could not be scanned (or bad arguments).
    Error = 2,
}

pub fn run(command: Command) -> anyhow::Result<Exit> {
    match command {
        Command::Scan(args) => scan(args),
    }
}

fn scan(args: ScanArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let root = args.paths.first().cloned().unwrap_or_else(|| ".".into());
    let config = load_config(&args.common, &root)?;
    let diag = diagnostics(&args.common);
    let detector = Detector::new();
    let opts = WalkOptions {
        respect_ignore: !args.no_ignore,
        threads: threads(&args.common),
        limits: ReadLimits {
            max_file_size: args.max_file_size,
            ..ReadLimits::default()
        },
    };
    diag.set_message("scanning files");
    let result = fs::scan_paths(&args.paths, &detector, &opts, &diag);
    diag.finish();
    let mut stats = result.stats;
    let findings = suppress(result.findings, &config, &mut stats);
    stats.elapsed_ms = started.elapsed().as_millis() as u64;
    finish(&args.common, &findings, &stats)
}

/// The config file and baseline, validated before any scanning.
fn load_config(common: &CommonArgs, root: &std::path::Path) -> anyhow::Result<Config> {
    let mut config = Config::load(common.config.as_deref(), root)?;
    if let Some(baseline) = &common.baseline {
        config.add_baseline(baseline)?;
    }
    Ok(config)
}

/// Drops findings the config or baseline allows, counting them.
fn suppress(findings: Vec<Finding>, config: &Config, stats: &mut Stats) -> Vec<Finding> {
    let before = findings.len();
    let kept: Vec<Finding> = findings
        .into_iter()
        .filter(|f| !config.allow.allows(f))
        .collect();
    stats.suppressed += (before - kept.len()) as u64;
    kept
}

/// Writes the report and decides the exit code.
fn finish(common: &CommonArgs, findings: &[Finding], stats: &Stats) -> anyhow::Result<Exit> {
    let format = match common.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
    };
    let report = Report { findings, stats };
    let to_terminal = common.output.is_none() && std::io::stdout().is_terminal();
    let style = Style {
        show_secrets: common.show_secrets,
        color: use_color(common.color, to_terminal),
    };
    let reporter = format.reporter();
    match &common.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            reporter.write(&mut w, &report, &style)?;
            w.flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            reporter.write(&mut w, &report, &style)?;
            w.flush()?;
        }
    }
    if format == Format::Text && !common.quiet {
        eprintln!("{}", report::text::summary(&report));
    }
    Ok(if !findings.is_empty() {
        Exit::Found
    } else if stats.problems() > 0 {
        Exit::Error
    } else {
        Exit::Clean
    })
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
