//! `--format github`: GitHub Actions workflow annotations, escaped as the
//! runner requires. GitHub shows only 10 error annotations per step, so the
//! most severe come first and the rest are counted in one notice. The job
//! summary's Markdown is [`super::summary`]'s; the driver writes it.
//!
//! An annotation line is itself a workflow command, and the runner acts on
//! `##[` anywhere in a line: data in it is escaped twice, first by
//! [`crate::term`] for the CI log, then as the command syntax requires.

use super::vocab::{active_admin, by_urgency, describe, Rule};
use super::{Report, Reporter, Style};
use crate::term::Medium;
use std::io::{self, Write};

/// Annotations GitHub displays per step and level.
pub(crate) const SHOWN_PER_STEP: usize = 10;

pub struct Github;

/// Escapes a message (`%`, CR, LF).
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (also `:` and `,`). A legacy `##[` is broken
/// with `%23`, which the runner does not decode: a file so named gets a
/// wrong annotation path rather than a command.
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s)
        .replace(':', "%3A")
        .replace(',', "%2C")
        .replace("##[", "#%23[")
}

impl Reporter for Github {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()> {
        // Whatever the environment says, this format is read by the runner.
        let style = Style {
            medium: Medium::CiLog,
            ..*style
        };
        let findings = by_urgency(report.findings);
        for f in findings.iter().take(SHOWN_PER_STEP) {
            let pos = f.credential.first_position();
            // A presigned URL is low severity: a notice, not an error.
            let command = match Rule::of(&f.credential) {
                Rule::PresignedUrl => "notice",
                _ => "error",
            };
            let title = if active_admin(f) {
                format!(
                    "keysweep: ACTIVE ADMINISTRATOR KEY: {}",
                    Rule::of(&f.credential).title()
                )
            } else {
                format!("keysweep: {}", Rule::of(&f.credential).title())
            };
            writeln!(
                out,
                "::{command} file={},line={},col={},title={}::{}",
                escape_property(&style.clean(f.location.path.as_str())),
                pos.line,
                pos.column,
                escape_property(&title),
                escape_data(&describe(f, &style)),
            )?;
        }
        if findings.len() > SHOWN_PER_STEP {
            writeln!(
                out,
                "::notice title=keysweep::{} more findings are not annotated (GitHub shows {SHOWN_PER_STEP} per step); see the job summary or the SARIF report",
                findings.len() - SHOWN_PER_STEP
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{fixture, Format, Style};
    use super::*;

    #[test]
    fn escapes_as_github_requires() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(
            escape_property("v ##[stop-commands]x"),
            "v #%23[stop-commands]x"
        );
    }

    #[test]
    fn snapshot() {
        let out = fixture::rendered(Format::Github, Style::default());
        for line in out.lines() {
            // One command per line, at its start, and no legacy command.
            assert!(
                line.starts_with("::error ") || line.starts_with("::notice "),
                "{line}"
            );
            assert!(!line.contains("##["), "{line}");
            assert!(!line.contains('\x1b'), "{line}");
            // The command ends at the first `::` after its name.
            let (_, message) = line[2..].split_once("::").expect("a message");
            assert!(!message.is_empty(), "{line}");
        }
        insta::assert_snapshot!(out);
    }
}
