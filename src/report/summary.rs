//! The GitHub Actions job summary: a Markdown table of the findings, within
//! GitHub's size limit. GitHub renders it as GitHub-flavoured Markdown with
//! HTML allowed, so every scanned value is written through
//! [`crate::term::markdown_code`]: it cannot close its cell or code span,
//! nor inject links, images, headings or HTML.

use super::vocab::{
    active_admin, by_urgency, owner_label, place, presigned_text, short_id, status_label,
};
use super::Style;
use crate::finding::Finding;
use crate::term::{markdown_code, Medium};

/// GitHub's size limit for one step summary.
pub(crate) const SUMMARY_LIMIT: usize = 1 << 20;

/// The summary's Markdown.
pub fn step_summary(findings: &[Finding], style: &Style) -> String {
    // Names are escaped for Markdown below; inside, show controls as escapes.
    let style = Style {
        medium: Medium::Terminal,
        ..*style
    };
    let mut s = String::from("## keysweep\n\n");
    if findings.is_empty() {
        s.push_str("No leaked AWS credentials found.\n");
        return s;
    }
    let presigned = findings
        .iter()
        .filter(|f| f.credential.presigned.is_some())
        .count();
    s.push_str(&format!(
        "**{} leaked AWS credential finding(s).**",
        findings.len() - presigned
    ));
    if presigned > 0 {
        s.push_str(&format!(
            " {presigned} presigned URL(s): key IDs without a secret, low severity."
        ));
    }
    s.push_str("\n\n| Status | Key ID | Location | Commit |\n| --- | --- | --- | --- |\n");
    let ordered = by_urgency(findings);
    for (i, f) in ordered.iter().enumerate() {
        let id = match (&f.credential.access_key_id, &f.credential.secret_access_key) {
            (Some(p), _) => p.value.clone(),
            (None, Some(p)) => style.secret(&p.value),
            (None, None) => "(session token)".to_string(),
        };
        let pos = f.credential.first_position();
        let status = match &f.credential.presigned {
            // Its expiry came from the scanned URL: escaped like any value.
            Some(p) => markdown_code(&format!("presigned URL, {}", presigned_text(p, &style))),
            None => {
                let mut t = status_label(f.verdict.as_ref()).to_string();
                // The owner lookup's word, and the account that is not
                // yours: fixed words and digits, no name AWS gave.
                if let Some(o) = &f.owner {
                    t.push_str(&format!(", {}", owner_label(o)));
                    if active_admin(f) {
                        t.push_str(", **admin**");
                    }
                }
                t
            }
        };
        let row = format!(
            "| {} | {} | {} | {} |\n",
            status,
            markdown_code(&id),
            markdown_code(&format!("{}:{}", place(f, &style), pos.line)),
            f.commit()
                .map_or(String::new(), |c| markdown_code(&short_id(&c.id))),
        );
        if s.len() + row.len() + 100 > SUMMARY_LIMIT {
            s.push_str(&format!(
                "\n…and {} more (truncated to GitHub's summary size limit).\n",
                ordered.len() - i
            ));
            break;
        }
        s.push_str(&row);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn snapshot() {
        let out = step_summary(&fixture::findings(), &Style::default());
        let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("| ")).collect();
        for row in &rows {
            // Four cells: the only pipes are the table's own.
            assert_eq!(row.matches('|').count(), 5, "{row}");
            assert!(!row.contains('`'), "{row}");
        }
        insta::assert_snapshot!(out);
    }
}
