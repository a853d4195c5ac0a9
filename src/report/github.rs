//! `--format github`: GitHub Actions workflow annotations, escaped as the
//! runner requires. GitHub shows only 10 error annotations per step, so the
//! most severe come first and the rest are counted in one notice. With
//! `GITHUB_STEP_SUMMARY` set, a Markdown table is appended there too.

use super::sarif::{message, Rule};
use super::{Report, Reporter, Style};
use crate::finding::{Finding, VerificationStatus};
use std::io::{self, Write};

/// Annotations GitHub displays per step and level.
pub const SHOWN_PER_STEP: usize = 10;
/// GitHub's size limit for one step summary.
const SUMMARY_LIMIT: usize = 1 << 20;

pub struct Github;

/// Sort key: live credentials first, then pairs, then lone parts.
pub fn severity_rank(f: &Finding) -> (u8, u8) {
    let live = f
        .verification
        .as_ref()
        .is_some_and(|v| v.status == VerificationStatus::Live);
    let rule = match Rule::of(f) {
        Rule::Pair => 0,
        Rule::Secret | Rule::SessionToken => 1,
        Rule::KeyId => 2,
    };
    (u8::from(!live), rule)
}

/// Escapes a message (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (also `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

impl Reporter for Github {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()> {
        let mut findings: Vec<&Finding> = report.findings.iter().collect();
        findings.sort_by_key(|f| severity_rank(f));
        for f in findings.iter().take(SHOWN_PER_STEP) {
            let pos = f.credential.first_position();
            let file = f.path.split('!').next().unwrap_or(&f.path);
            writeln!(
                out,
                "::error file={},line={},col={},title={}::{}",
                escape_property(file),
                pos.line,
                pos.column,
                escape_property(&format!("keysweep: {}", Rule::of(f).title())),
                escape_data(&message(f, style)),
            )?;
        }
        if findings.len() > SHOWN_PER_STEP {
            writeln!(
                out,
                "::notice title=keysweep::{} more findings are not annotated (GitHub shows {SHOWN_PER_STEP} per step); see the job summary or the SARIF report",
                findings.len() - SHOWN_PER_STEP
            )?;
        }
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let summary = step_summary(&findings, style);
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?
                .write_all(summary.as_bytes())?;
        }
        Ok(())
    }
}

/// A Markdown table of the findings, within GitHub's size limit.
pub fn step_summary(findings: &[&Finding], style: &Style) -> String {
    let mut s = String::from("## keysweep\n\n");
    if findings.is_empty() {
        s.push_str("No leaked AWS credentials found.\n");
        return s;
    }
    s.push_str(&format!(
        "**{} leaked AWS credential finding(s).**\n\n",
        findings.len()
    ));
    s.push_str("| Status | Key ID | Location | Commit |\n| --- | --- | --- | --- |\n");
    let cell = |t: &str| t.replace('|', "\\|").replace('\n', " ");
    for (i, f) in findings.iter().enumerate() {
        let status = match &f.verification {
            Some(v) => format!("{:?}", v.status).to_lowercase(),
            None => "found".to_string(),
        };
        let id = f.credential.access_key_id.as_ref().map_or_else(
            || {
                f.credential
                    .secret_access_key
                    .as_ref()
                    .map_or("(token)".to_string(), |p| style.secret(&p.value))
            },
            |p| p.value.clone(),
        );
        let pos = f.credential.first_position();
        let row = format!(
            "| {} | `{}` | `{}:{}` | {} |\n",
            status,
            cell(&id),
            cell(&f.path),
            pos.line,
            f.commit()
                .map_or(String::new(), |c| format!("`{}`", &c[..c.len().min(12)]))
        );
        if s.len() + row.len() + 100 > SUMMARY_LIMIT {
            s.push_str(&format!(
                "\n…and {} more (truncated to GitHub's summary size limit).\n",
                findings.len() - i
            ));
            break;
        }
        s.push_str(&row);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_github_requires() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
