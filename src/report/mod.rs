//! Reporters: one per output format, behind one trait. Reporters never
//! re-match and never verify; they only write what the run found.
//! Secrets are redacted unless the user asked with `--show-secrets`.

pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

use crate::finding::{Finding, Secret};
use crate::stats::Stats;
use std::io::{self, Write};

/// Everything a reporter writes about one run.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub stats: &'a Stats,
}

/// How to write a report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub show_secrets: bool,
    pub color: bool,
}

impl Style {
    /// The value of a secret as this report may show it.
    pub fn secret(&self, s: &Secret) -> String {
        if self.show_secrets {
            s.expose().to_string()
        } else {
            s.redacted()
        }
    }
}

/// One output format.
pub trait Reporter {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()>;
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Jsonl,
    Sarif,
    Github,
}

impl Format {
    pub fn reporter(self) -> Box<dyn Reporter> {
        match self {
            Format::Text => Box::new(text::Text),
            Format::Json => Box::new(json::Json),
            Format::Jsonl => Box::new(json::JsonLines),
            Format::Sarif => Box::new(sarif::Sarif),
            Format::Github => Box::new(github::Github),
        }
    }
}

/// Escapes control and bidi characters so a file name or message cannot
/// drive the terminal.
pub fn sanitize_for_terminal(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => '\u{FFFD}',
            c if c.is_control() && c != '\t' => '\u{FFFD}',
            c => c,
        })
        .collect()
}
