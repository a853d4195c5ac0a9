//! `--format csv`: one row per place, for the security team's spreadsheet.
//!
//! The columns are the fields of the JSON report a person filters and sorts
//! on (status, rule, key, account, where, when, who), flat: no nesting, one
//! cell each. Quoting is RFC 4180 (fields with a comma, quote or line break
//! quoted, quotes doubled, CRLF line ends), by the `csv` crate.
//!
//! Every cell built from scanned data is cleaned like any other text for
//! people ([`Style::clean`]: control characters shown as escapes), and a
//! cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets
//! a leading `'`: spreadsheets run such a cell as a formula (OWASP's "CSV
//! injection"), and paths, member names, authors and refs all come from the
//! scanned repositories.

use super::vocab::{level, status_label, Rule};
use super::{Report, Reporter, Style};
use crate::finding::{Finding, Origin, Verdict};
use std::io::{self, Write};

/// The header row, in column order.
pub(crate) const COLUMNS: [&str; 22] = [
    "status",
    "rule",
    "severity",
    "access_key_id",
    "secret_access_key",
    "session_token",
    "account_id",
    "confidence",
    "owner_arn",
    "verification_error",
    "repo",
    "path",
    "member",
    "line",
    "column",
    "origin",
    "commit",
    "author",
    "date",
    "blob",
    "still_at_head",
    "fingerprint",
];

/// `--format csv`.
pub struct Csv;

impl Reporter for Csv {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()> {
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .quote_style(::csv::QuoteStyle::Necessary)
            .from_writer(out);
        w.write_record(COLUMNS)?;
        for f in report.findings {
            w.write_record(row(f, style))?;
        }
        w.flush()
    }
}

/// One finding's cells, in [`COLUMNS`] order.
fn row(f: &Finding, style: &Style) -> Vec<String> {
    let c = &f.credential;
    let text = |s: &str| guard(style.clean(s));
    let pos = c.first_position();
    let blob = f.blob();
    let commit = f.commit();
    let (arn, error) = match &f.verdict {
        Some(Verdict::Live { arn, .. }) => (arn.as_str().to_string(), String::new()),
        Some(
            Verdict::Invalid { code: e }
            | Verdict::Unverified { reason: e }
            | Verdict::Canary { reason: e, .. }
            | Verdict::Skipped { reason: e },
        ) => (String::new(), e.clone()),
        Some(Verdict::Expired) => (String::new(), "ExpiredToken".to_string()),
        None => (String::new(), String::new()),
    };
    let member = c
        .member
        .as_ref()
        .map(|m| m.names().join(" → "))
        .unwrap_or_default();
    let origin = match &f.location.origin {
        Origin::File => "file",
        Origin::Blob(_) => "history",
        Origin::Index(_) => "index",
        Origin::Stdin => "stdin",
    };
    vec![
        status_label(f.verdict.as_ref()).to_string(),
        Rule::of(c).id().to_string(),
        level(f).to_string(),
        c.key_id().map(text).unwrap_or_default(),
        c.secret_access_key
            .as_ref()
            .map(|p| text(&style.secret(&p.value)))
            .unwrap_or_default(),
        c.session_token
            .as_ref()
            .map(|p| text(&style.secret(&p.value)))
            .unwrap_or_default(),
        c.account_id.as_deref().map(text).unwrap_or_default(),
        match c.confidence {
            crate::finding::Confidence::High => "high",
            crate::finding::Confidence::Medium => "medium",
        }
        .to_string(),
        text(&arn),
        text(&error),
        f.location.repo.as_deref().map(text).unwrap_or_default(),
        text(f.location.path.as_str()),
        text(&member),
        pos.line.to_string(),
        pos.column.to_string(),
        origin.to_string(),
        commit.map(|c| text(&c.id)).unwrap_or_default(),
        commit
            .and_then(|c| c.author.as_deref())
            .map(text)
            .unwrap_or_default(),
        commit
            .and_then(|c| c.date.as_deref())
            .map(text)
            .unwrap_or_default(),
        blob.map(|b| b.id.as_str())
            .or(f.staged_blob())
            .map(text)
            .unwrap_or_default(),
        blob.map(|b| b.still_at_head.to_string())
            .unwrap_or_default(),
        f.fingerprint(),
    ]
}

/// `'` before a cell a spreadsheet would take for a formula.
fn guard(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::super::{fixture, Format};
    use super::*;

    #[test]
    fn snapshot_csv() {
        insta::assert_snapshot!(fixture::rendered(Format::Csv, Style::default()));
    }

    #[test]
    fn formula_cells_are_defused() {
        for (cell, shown) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(guard(cell.to_string()), shown, "{cell:?}");
        }
    }

    #[test]
    fn one_row_per_place_and_a_header() {
        let out = fixture::rendered(Format::Csv, Style::default());
        let mut r = ::csv::Reader::from_reader(out.as_bytes());
        let header: Vec<String> = r
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(header, COLUMNS);
        let rows: Vec<::csv::StringRecord> = r.records().map(|r| r.expect("row")).collect();
        assert_eq!(rows.len(), fixture::findings().len());
        assert!(rows.iter().all(|r| r.len() == COLUMNS.len()));
        assert!(out.ends_with("\r\n"), "CRLF line ends");
        assert!(!out.contains('\x1b'), "control characters are escaped");
    }
}
