//! `--format json` and `--format jsonl`: the machine contract, documented in
//! docs/json-output.md. The wire types live here, apart from the internal
//! ones, so the shape changes only on purpose (and bumps `version`).

use super::{Report, Reporter, Style};
use crate::finding::{Confidence, Encoding, Finding, Part, Secret, Verification};
use crate::stats::Stats;
use serde::Serialize;
use std::io::{self, Write};

/// Bumped whenever a field is renamed or removed or changes meaning.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: Tool,
    findings: Vec<FindingJson<'a>>,
    stats: &'a Stats,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// One finding on the wire.
#[derive(Serialize)]
pub struct FindingJson<'a> {
    fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    repo: Option<&'a str>,
    path: &'a str,
    commit: Option<&'a str>,
    access_key_id: Option<PartJson>,
    secret_access_key: Option<PartJson>,
    session_token: Option<PartJson>,
    account_id: Option<&'a str>,
    confidence: Confidence,
    verification: Option<&'a Verification>,
    // Git history only.
    #[serde(skip_serializing_if = "Option::is_none")]
    blob: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    still_at_head: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refs: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unreachable: Option<bool>,
}

#[derive(Serialize)]
struct PartJson {
    value: String,
    line: u32,
    column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<Encoding>,
}

fn part<V>(p: &Part<V>, value: String) -> PartJson {
    PartJson {
        value,
        line: p.position.line,
        column: p.position.column,
        encoding: p.encoding,
    }
}

fn secret_part(p: &Part<Secret>, style: &Style) -> PartJson {
    part(p, style.secret(&p.value))
}

impl<'a> FindingJson<'a> {
    pub fn new(f: &'a Finding, style: &Style) -> Self {
        let c = &f.credential;
        let prov = f.provenance.as_ref();
        FindingJson {
            fingerprint: f.fingerprint(),
            repo: f.repo.as_deref(),
            path: &f.path,
            commit: f.commit(),
            access_key_id: c.access_key_id.as_ref().map(|p| part(p, p.value.clone())),
            secret_access_key: c.secret_access_key.as_ref().map(|p| secret_part(p, style)),
            session_token: c.session_token.as_ref().map(|p| secret_part(p, style)),
            account_id: c.account_id.as_deref(),
            confidence: c.confidence,
            verification: f.verification.as_ref(),
            blob: f.blob_id.as_deref(),
            author: prov.and_then(|p| p.author.as_deref()),
            date: prov.and_then(|p| p.date.as_deref()),
            still_at_head: prov.map(|p| p.still_at_head),
            refs: prov.map(|p| p.refs.as_slice()),
            unreachable: prov.map(|p| p.unreachable),
        }
    }
}

/// `--format json`: one document.
pub struct Json;

impl Reporter for Json {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()> {
        let doc = Document {
            version: FORMAT_VERSION,
            tool: Tool {
                name: "keysweep",
                version: env!("CARGO_PKG_VERSION"),
            },
            findings: report
                .findings
                .iter()
                .map(|f| FindingJson::new(f, style))
                .collect(),
            stats: report.stats,
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}

/// `--format jsonl`: one finding object per line, no wrapper.
pub struct JsonLines;

impl Reporter for JsonLines {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()> {
        for f in report.findings {
            serde_json::to_writer(&mut *out, &FindingJson::new(f, style))?;
            writeln!(out)?;
        }
        Ok(())
    }
}
