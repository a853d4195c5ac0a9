//! `--format text`: for a person at a terminal. Findings are grouped by
//! credential (a key leaked in five places is one credential with five
//! places), live keys first, secrets redacted, colour only when asked for,
//! every scanned name cleaned for the medium.

use super::remediation::remediation;
use super::vocab::{active, active_admin, owner_text, place, presigned_text, short_id, urgency};
use super::{Report, Reporter, Style};
use crate::finding::{CredentialKey, Finding, Verdict};
use crate::verify::owner::OwnerState;
use std::collections::{BTreeMap, HashSet};
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
        // Live and active administrator keys first: they are incidents
        // (the urgency tier; the rest keeps credential order).
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by_key(|(_, fs)| fs.iter().map(|f| urgency(f).0).min());
        for (key, findings) in &groups {
            write_group(out, key, findings, style, &paint)?;
        }
        write_per_repository(out, report.findings, style, &paint)
    }
}

/// For scans of several repositories (`keysweep org`): after the
/// credentials, one line per repository with findings, so a security team
/// sees at once which repositories to clean.
fn write_per_repository(
    out: &mut dyn Write,
    findings: &[Finding],
    style: &Style,
    paint: &Paint,
) -> io::Result<()> {
    let mut repos: BTreeMap<&str, (HashSet<CredentialKey>, usize)> = BTreeMap::new();
    for f in findings {
        if let Some(repo) = &f.location.repo {
            let entry = repos.entry(repo).or_default();
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
            paint.cyan(&style.clean(repo)),
            credentials.len(),
            plural(credentials.len()),
            count,
            plural(*count),
        )?;
    }
    writeln!(out)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn write_group(
    out: &mut dyn Write,
    key: &CredentialKey,
    findings: &[&Finding],
    style: &Style,
    paint: &Paint,
) -> io::Result<()> {
    let Some(first) = findings.first() else {
        return Ok(());
    };
    let mut head = Vec::new();
    // A presigned URL's key ID is low severity: not in alarm red.
    let id_paint = |s: &str| {
        if key.presigned {
            paint.yellow(s)
        } else {
            paint.red(s)
        }
    };
    match &key.access_key_id {
        Some(id) => head.push(id_paint(id)),
        None => head.push(id_paint("(no key ID)")),
    }
    if key.presigned {
        head.push("in a presigned URL (no secret; not a leaked key pair)".to_string());
    } else if let Some(s) = &key.secret_access_key {
        head.push(format!("secret {}", style.secret(s)));
    } else if key.access_key_id.is_some() {
        head.push(paint.dim("no secret found"));
    }
    if let Some(t) = &key.session_token {
        let shown: String = style.secret(t).chars().take(16).collect();
        head.push(format!(
            "session token {shown}… ({} chars)",
            t.expose().chars().count()
        ));
    }
    if let Some(acct) = &first.credential.account_id {
        head.push(format!("account {acct}"));
    }
    writeln!(out, "{}", head.join("  "))?;
    if let Some(v) = &first.verdict {
        let (status, detail) = match v {
            Verdict::Live { arn, .. } => (paint.red("LIVE"), style.clean(arn.as_str())),
            Verdict::Invalid { code } => (paint.green("invalid"), style.clean(code)),
            Verdict::Expired => (paint.green("expired"), String::new()),
            Verdict::Unverified { reason } => (paint.yellow("unverified"), style.clean(reason)),
            Verdict::Canary { reason, .. } => (
                paint.yellow("canary token (not verified)"),
                style.clean(reason),
            ),
            Verdict::Skipped { reason } => (paint.dim("not verified"), style.clean(reason)),
        };
        if detail.is_empty() {
            writeln!(out, "  {status}")?;
        } else {
            writeln!(out, "  {status} {detail}")?;
        }
    }
    if let Some(o) = &first.owner {
        let text = owner_text(o, style);
        let shown = if active_admin(first) || o.state == OwnerState::NotYours {
            paint.red(&text)
        } else if active(first) {
            paint.yellow(&text)
        } else {
            text
        };
        writeln!(out, "  {} {shown}", paint.bold("owner:"))?;
    }
    if let Some(steps) = remediation(first) {
        writeln!(out, "  {}", paint.bold("Do this now:"))?;
        for step in steps {
            writeln!(out, "    - {}", style.clean(&step))?;
        }
    }
    for f in findings {
        let pos = f.credential.first_position();
        let mut line = format!(
            "  {}:{}:{}",
            paint.cyan(&place(f, style)),
            pos.line,
            pos.column
        );
        if let Some(blob) = f.blob() {
            match &blob.commit {
                Some(c) => {
                    line.push_str(&format!("  commit {}", paint.bold(&short_id(&c.id))));
                    if let Some(d) = &c.date {
                        let day: String = d.chars().take(10).collect();
                        line.push_str(&format!(" {}", style.clean(&day)));
                    }
                    if let Some(a) = &c.author {
                        line.push_str(&format!(" {}", style.clean(a)));
                    }
                }
                None => line.push_str("  unreachable blob (no commit)"),
            }
            if !blob.still_at_head {
                line.push_str(&paint.dim("  (not at HEAD)"));
            }
        }
        if let Some(id) = f.staged_blob() {
            line.push_str(&format!("  staged, blob {}", paint.bold(&short_id(id))));
        }
        if let Some(p) = &f.credential.presigned {
            line.push_str(&format!("  {}", presigned_text(p, style)));
        }
        writeln!(out, "{line}")?;
    }
    writeln!(out)
}

/// The one-line summary printed to stderr after a text report.
pub fn summary(report: &Report<'_>) -> String {
    let (presigned, leaked): (Vec<&Finding>, Vec<&Finding>) = report
        .findings
        .iter()
        .partition(|f| f.credential.presigned.is_some());
    let credentials: HashSet<_> = leaked.iter().map(|f| f.credential.key()).collect();
    let s = report.stats;
    let scanned = if s.blobs > 0 || s.repos > 0 {
        format!("{} blobs", s.blobs)
    } else {
        format!("{} files", s.files)
    };
    let mut line = format!(
        "{} credential{} in {} place{}",
        credentials.len(),
        plural(credentials.len()),
        leaked.len(),
        plural(leaked.len()),
    );
    if !presigned.is_empty() {
        line.push_str(&format!(
            ", {} presigned URL{} (no secret)",
            presigned.len(),
            plural(presigned.len())
        ));
    }
    line.push_str(&format!(
        "; scanned {scanned} ({:.1} MB) in {:.2} s",
        s.bytes as f64 / 1e6,
        s.elapsed_ms as f64 / 1e3,
    ));
    if s.findings_over_limit > 0 {
        line.push_str(&format!(
            " (and {} more past the limit of {} per file, not listed)",
            s.findings_over_limit,
            crate::finding::MAX_FINDINGS_PER_BLOB
        ));
    }
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
            if s.repos_timed_out > 0 {
                line.push_str(&format!(
                    " ({} stopped at --repo-timeout, findings incomplete)",
                    s.repos_timed_out
                ));
            }
        }
    }
    let owned: Vec<&Finding> = leaked
        .iter()
        .copied()
        .filter(|f| f.owner.is_some())
        .collect();
    if !owned.is_empty() {
        let count = |keep: &dyn Fn(&Finding) -> bool| {
            owned
                .iter()
                .filter(|f| keep(f))
                .filter_map(|f| f.owner.as_ref().map(|o| o.key_id.clone()))
                .collect::<HashSet<_>>()
                .len()
        };
        line.push_str(&format!(
            "; owner lookup: {} active key{} ({} administrator), {} not yours",
            count(&|f| active(f)),
            plural(count(&|f| active(f))),
            count(&|f| active_admin(f)),
            count(&|f| f
                .owner
                .as_deref()
                .is_some_and(|o| o.state == OwnerState::NotYours)),
        ));
    }
    if s.skipped_ignored > 0 {
        line.push_str(&format!(
            "; {} ignored by git (--no-ignore to scan)",
            s.skipped_ignored
        ));
    }
    if s.skipped_links_outside > 0 {
        line.push_str(&format!(
            "; {} link{} out of the scanned tree not followed",
            s.skipped_links_outside,
            plural(s.skipped_links_outside as usize)
        ));
    }
    if s.problems() > 0 {
        line.push_str(&format!(
            "; {} could not be scanned (see warnings)",
            s.problems()
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::super::{fixture, Format, Report, Style};
    use crate::term::Medium;

    fn text(style: Style) -> String {
        fixture::rendered(Format::Text, style)
    }

    #[test]
    fn snapshot_plain() {
        insta::assert_snapshot!(text(Style::default()));
    }

    #[test]
    fn snapshot_ci_log_with_colour() {
        let out = text(Style {
            color: true,
            medium: Medium::CiLog,
            ..Style::default()
        });
        for line in out.lines() {
            assert!(!crate::term::runner_would_act(line), "{line}");
        }
        insta::assert_snapshot!(out);
    }

    #[test]
    fn summary_counts_credentials_and_places() {
        let findings = fixture::findings();
        let stats = fixture::stats();
        insta::assert_snapshot!(super::summary(&Report {
            findings: &findings,
            stats: &stats,
            options: "",
        }));
    }
}
