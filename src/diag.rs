//! Messages for the person at the terminal: warnings (one line each, on
//! stderr) and the progress bar, which must not tear each other's lines.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Shared by every stage that has something to tell the user.
#[derive(Clone)]
pub struct Diagnostics {
    progress: ProgressBar,
    quiet: bool,
}

impl Diagnostics {
    /// A progress bar is drawn only when stderr is a terminal and `progress`
    /// is asked for; warnings are printed unless `quiet`.
    pub fn new(progress: bool, quiet: bool) -> Self {
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
        }
    }

    /// A silent instance, for tests and library use.
    pub fn silent() -> Self {
        Diagnostics {
            progress: ProgressBar::hidden(),
            quiet: true,
        }
    }

    /// One problem, one line: `warning: <message>`.
    pub fn warn(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            let line = crate::report::sanitize_for_terminal(&format!("warning: {message}"));
            self.progress.suspend(|| eprintln!("{line}"));
        }
    }

    /// Counts scanned bytes on the progress bar.
    pub fn advance(&self, bytes: u64) {
        self.progress.inc(bytes);
    }

    pub fn set_message(&self, msg: impl Into<std::borrow::Cow<'static, str>>) {
        self.progress.set_message(msg);
    }

    /// A fixed part before the message, e.g. `[3/40 repos] ` in org scans,
    /// which the per-repository messages do not overwrite.
    pub fn set_prefix(&self, prefix: impl Into<std::borrow::Cow<'static, str>>) {
        self.progress.set_prefix(prefix);
    }

    pub fn finish(&self) {
        self.progress.finish_and_clear();
    }
}
