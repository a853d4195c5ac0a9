//! `--format text`: for a person at a terminal. Findings are grouped by
//! credential (a key leaked in five places is one credential with five
//! locations), secrets are redacted, colour only when asked for.

use super::{sanitize_for_terminal, Report, Reporter, Style};
use crate::finding::{CredentialKey, Finding, VerificationStatus};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub struct Text;

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn red(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn cyan(&self, s: &str) -> String {
        self.wrap("36", s)
    }
}

impl Reporter for Text {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()> {
        let paint = Paint(style.color);
        let mut groups: BTreeMap<CredentialKey, Vec<&Finding>> = BTreeMap::new();
        for f in report.findings {
            groups.entry(f.credential.key()).or_default().push(f);
        }
        // Live keys first: they are incidents.
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by_key(|(_, fs)| {
            let live = fs.iter().any(|f| {
                f.verification
                    .as_ref()
                    .is_some_and(|v| v.status == VerificationStatus::Live)
            });
            !live
        });
        for (key, findings) in &groups {
            write_group(out, key, findings, style, &paint)?;
        }
        write_per_repository(out, report.findings, &paint)
    }
}

/// For scans of several repositories (`keysweep org`): after the
/// credentials, one line per repository with findings, so a security team
/// sees at once which repositories to clean.
fn write_per_repository(
    out: &mut dyn Write,
    findings: &[Finding],
    paint: &Paint,
) -> io::Result<()> {
    let mut repos: BTreeMap<&str, (std::collections::HashSet<CredentialKey>, usize)> =
        BTreeMap::new();
    for f in findings {
        if let Some(repo) = &f.repo {
            let entry = repos.entry(repo.as_str()).or_default();
            entry.0.insert(f.credential.key());
            entry.1 += 1;
        }
    }
    if repos.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", paint.bold("Per repository:"))?;
    for (repo, (credentials, count)) in &repos {
        writeln!(
            out,
            "  {}  {} credential{}, {} finding{}",
            paint.cyan(&sanitize_for_terminal(repo)),
            credentials.len(),
            if credentials.len() == 1 { "" } else { "s" },
            count,
            if *count == 1 { "" } else { "s" },
        )?;
    }
    writeln!(out)
}

fn write_group(
    out: &mut dyn Write,
    key: &CredentialKey,
    findings: &[&Finding],
    style: &Style,
    paint: &Paint,
) -> io::Result<()> {
    let first = findings[0];
    let mut head = Vec::new();
    match &key.access_key_id {
        Some(id) => head.push(paint.red(id)),
        None => head.push(paint.red("(no key ID)")),
    }
    if let Some(s) = &key.secret_access_key {
        head.push(format!("secret {}", style.secret(s)));
    } else if key.access_key_id.is_some() {
        head.push(paint.dim("no secret found"));
    }
    if let Some(t) = &key.session_token {
        let shown = style.secret(t);
        let short: String = shown.chars().take(16).collect();
        head.push(format!(
            "session token {short}… ({} chars)",
            t.expose().len()
        ));
    }
    if let Some(acct) = &first.credential.account_id {
        head.push(format!("account {acct}"));
    }
    writeln!(out, "{}", head.join("  "))?;
    if let Some(v) = &first.verification {
        let status = match v.status {
            VerificationStatus::Live => paint.red("LIVE"),
            VerificationStatus::Invalid => paint.green("invalid"),
            VerificationStatus::Expired => paint.green("expired"),
            VerificationStatus::Unverified => paint.yellow("unverified"),
            VerificationStatus::Canary => paint.yellow("canary token (not verified)"),
            VerificationStatus::Skipped => paint.dim("not verified (no secret)"),
        };
        let detail = v.arn.as_deref().or(v.error.as_deref()).unwrap_or("");
        writeln!(out, "  {status} {detail}")?;
        if let Some(steps) = crate::verify::remediation(first) {
            writeln!(out, "  {}", paint.bold("Do this now:"))?;
            for step in steps {
                writeln!(out, "    - {}", sanitize_for_terminal(&step))?;
            }
        }
    }
    for f in findings {
        let pos = f.credential.first_position();
        let mut line = format!(
            "  {}:{}:{}",
            paint.cyan(&sanitize_for_terminal(&location_path(f))),
            pos.line,
            pos.column
        );
        if let Some(p) = &f.provenance {
            match &p.commit {
                Some(c) => {
                    line.push_str(&format!("  commit {}", paint.bold(&c[..c.len().min(12)])));
                    if let Some(d) = &p.date {
                        line.push_str(&format!(" {}", &d[..d.len().min(10)]));
                    }
                    if let Some(a) = &p.author {
                        line.push_str(&format!(" {}", sanitize_for_terminal(a)));
                    }
                }
                None => line.push_str("  unreachable blob (no commit)"),
            }
            if !p.still_at_head {
                line.push_str(&paint.dim("  (not at HEAD)"));
            }
        }
        writeln!(out, "{line}")?;
    }
    writeln!(out)
}

fn location_path(f: &Finding) -> String {
    match &f.repo {
        Some(r) => format!("{r}:{}", f.path),
        None => f.path.clone(),
    }
}

/// The one-line summary printed to stderr after a text report.
pub fn summary(report: &Report<'_>) -> String {
    let credentials: std::collections::HashSet<_> =
        report.findings.iter().map(|f| f.credential.key()).collect();
    let s = report.stats;
    let scanned = if s.blobs > 0 || s.repos > 0 {
        format!("{} blobs", s.blobs)
    } else {
        format!("{} files", s.files)
    };
    let mut line = format!(
        "{} credential{} in {} place{}; scanned {scanned} ({:.1} MB) in {:.2} s",
        credentials.len(),
        if credentials.len() == 1 { "" } else { "s" },
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        s.bytes as f64 / 1e6,
        s.elapsed_ms as f64 / 1e3,
    );
    if s.repos + s.repos_failed > 0 {
        line.push_str(&format!("; {} repositories", s.repos));
        if s.blobs_already_scanned > 0 {
            line.push_str(&format!(
                ", {} blobs already scanned before",
                s.blobs_already_scanned
            ));
        }
        if s.repos_failed > 0 {
            line.push_str(&format!(", {} failed", s.repos_failed));
        }
    }
    if s.problems() > 0 {
        line.push_str(&format!(
            "; {} could not be scanned (see warnings)",
            s.problems()
        ));
    }
    line
}
