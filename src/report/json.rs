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

/// Why a file could not be read back as a JSON report.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not a keysweep JSON report (`--format json`): {0}")]
    Json(#[from] serde_json::Error),
    #[error("report format version {0} is newer than this keysweep reads ({FORMAT_VERSION}); use a newer keysweep to merge")]
    Version(u32),
}

/// The parts of a `--format json` document that `keysweep merge` needs.
#[derive(serde::Deserialize)]
struct DocumentIn {
    version: u32,
    findings: Vec<FindingIn>,
    #[serde(default)]
    stats: Stats,
}

#[derive(serde::Deserialize)]
struct FindingIn {
    fingerprint: String,
    repo: Option<String>,
    path: String,
    commit: Option<String>,
    access_key_id: Option<PartIn>,
    secret_access_key: Option<PartIn>,
    session_token: Option<PartIn>,
    account_id: Option<String>,
    confidence: Confidence,
    verification: Option<Verification>,
    blob: Option<String>,
    author: Option<String>,
    date: Option<String>,
    still_at_head: Option<bool>,
    refs: Option<Vec<String>>,
    unreachable: Option<bool>,
}

#[derive(serde::Deserialize)]
struct PartIn {
    value: String,
    line: u32,
    column: u32,
    encoding: Option<Encoding>,
}

impl PartIn {
    fn into_part<V>(self, f: impl FnOnce(String) -> V) -> Part<V> {
        Part {
            value: f(self.value),
            // The byte offset is not in the report; line and column are.
            position: crate::finding::Position {
                offset: 0,
                line: self.line,
                column: self.column,
            },
            encoding: self.encoding,
        }
    }
}

impl FindingIn {
    fn into_finding(self) -> Finding {
        use crate::finding::{Credential, Provenance};
        // History findings carry provenance fields; file findings none.
        let provenance =
            (self.commit.is_some() || self.still_at_head.is_some()).then(|| Provenance {
                commit: self.commit,
                author: self.author,
                date: self.date,
                still_at_head: self.still_at_head.unwrap_or(false),
                refs: self.refs.unwrap_or_default(),
                unreachable: self.unreachable.unwrap_or(false),
            });
        Finding {
            credential: Credential {
                access_key_id: self.access_key_id.map(|p| p.into_part(|v| v)),
                secret_access_key: self.secret_access_key.map(|p| p.into_part(Secret::new)),
                session_token: self.session_token.map(|p| p.into_part(Secret::new)),
                account_id: self.account_id,
                confidence: self.confidence,
                // Already part of `path` (`archive!member`).
                member: None,
            },
            path: self.path,
            repo: self.repo,
            blob_id: self.blob,
            provenance,
            verification: self.verification,
            // The secrets may be redacted: keep the fingerprint the scan
            // computed from the real ones.
            recorded_fingerprint: Some(self.fingerprint),
        }
    }
}

/// Reads a `--format json` report back: its findings (secrets as the
/// report wrote them, redacted unless it was written with
/// `--show-secrets`; fingerprints as computed by the scan) and stats.
pub fn read_report(text: &str) -> Result<(Vec<Finding>, Stats), ReadError> {
    let doc: DocumentIn = serde_json::from_str(text)?;
    if doc.version > FORMAT_VERSION {
        return Err(ReadError::Version(doc.version));
    }
    let findings = doc
        .findings
        .into_iter()
        .map(FindingIn::into_finding)
        .collect();
    Ok((findings, doc.stats))
}
