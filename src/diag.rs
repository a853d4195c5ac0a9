//! Messages for the person at the terminal: warnings (one line each, on
//! stderr) and the progress bar, which must not tear each other's lines.
//! Warnings often quote scanned data (a path, a member name, a ref), so
//! each line goes through the sanitizer for the medium ([`crate::term`]).

use crate::term::Medium;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Shared by every stage that has something to tell the user.
#[derive(Clone)]
pub struct Diagnostics {
    progress: ProgressBar,
    quiet: bool,
    medium: Medium,
}

/// An error and its causes on one line (`a: b: c`), a cause left out when
/// the message before it already says it.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = cause.source();
    }
    s
}

impl Diagnostics {
    /// A progress bar is drawn only when stderr is a terminal and `progress`
    /// is asked for; warnings are printed unless `quiet`.
    pub fn new(progress: bool, quiet: bool, medium: Medium) -> Self {
        let bar = if progress && !quiet && std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix}{msg} {binary_bytes} scanned ({binary_bytes_per_sec}) [{elapsed}]",
                )
                .expect("static template is valid"),
            );
            // Short scans finish before the bar would help: show it after a pause.
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        } else {
            ProgressBar::hidden()
        };
        Diagnostics {
            progress: bar,
            quiet,
            medium,
        }
    }

    /// A silent instance, for tests and library use.
    pub fn silent() -> Self {
        Diagnostics {
            progress: ProgressBar::hidden(),
            quiet: true,
            medium: Medium::Terminal,
        }
    }

    /// One problem, one line: `warning: <message>`.
    pub(crate) fn warn(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            let line = self.medium.clean_message(&format!("warning: {message}"));
            self.progress.suspend(|| eprintln!("{line}"));
        }
    }

    /// Counts scanned bytes on the progress bar.
    pub(crate) fn advance(&self, bytes: u64) {
        self.progress.inc(bytes);
    }

    pub(crate) fn set_message(&self, msg: &str) {
        self.progress.set_message(self.medium.clean(msg));
    }

    /// A fixed part before the message, e.g. `[3/40 repos] ` in org scans,
    /// which the per-repository messages do not overwrite.
    pub(crate) fn set_prefix(&self, prefix: &str) {
        self.progress.set_prefix(self.medium.clean(prefix));
    }

    /// A line for the person running keysweep (not a warning), cleaned for
    /// the medium, unless quiet.
    pub fn say(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            let line = self.medium.clean(&format!("keysweep: {message}"));
            self.progress.suspend(|| eprintln!("{line}"));
        }
    }

    pub fn finish(&self) {
        self.progress.finish_and_clear();
    }
}
