//! Where the report bytes go: the report file or standard output, the SARIF
//! file, and in GitHub Actions the job summary and step outputs. Reporters
//! ([`crate::report`]) only turn findings into bytes; this is the one place
//! that writes them, each file replaced whole or left as it was.

use crate::atomic_file::{self, Access};
use crate::integrations::github::actions;
use crate::report::{self, summary, Format, Report};
use crate::settings::Settings;
use crate::source::SourceScan;
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Every output of the run: the report (file or stdout), the SARIF file
/// and step outputs of `keysweep ci`, the job summary, the summary line.
pub(crate) fn write_reports(s: &Settings, scan: &SourceScan) -> anyhow::Result<()> {
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
