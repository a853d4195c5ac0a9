//! `--format json` and `--format jsonl`: the machine contract, documented in
//! docs/json-output.md. The wire types live here, apart from the internal
//! ones, so the shape changes only on purpose (and bumps `version`).
//!
//! Reports are also read back (`keysweep merge`, `--baseline`), and a report
//! handed to keysweep is untrusted input like any other: every field is
//! checked (hex object ids, RFC 3339 dates, 12-digit accounts, ARNs, key ID
//! and secret alphabets, known enums) and a bad one is a clear error naming
//! the finding and the field, never a panic and never text that later
//! reaches a terminal unescaped.

use super::vocab::by_tier;
use super::{Report, Reporter, Style};
use crate::finding::{
    is_account_id, Arn, BlobOrigin, Commit, Confidence, Credential, Encoding, Finding, Location,
    MemberPath, Origin, Part, Position, Presigned, RefList, ReportPath, Secret, Signing, Verdict,
};
use crate::stats::Stats;
use crate::verify::owner::OwnerRecord;
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::sync::Arc;

/// Bumped whenever a field is renamed or removed or changes meaning.
/// 2: `path` no longer carries `!member`; archive members are `member`, a
/// list of names; fingerprints of findings in archives changed with it;
/// `refs_total` added.
pub(crate) const FORMAT_VERSION: u32 = 2;

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
struct FindingJson<'a> {
    fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    repo: Option<&'a str>,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<&'a [String]>,
    /// `index` (a staged blob) or `stdin`; absent for files and history.
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<&'static str>,
    commit: Option<&'a str>,
    access_key_id: Option<PartJson>,
    secret_access_key: Option<PartJson>,
    session_token: Option<PartJson>,
    account_id: Option<&'a str>,
    confidence: Confidence,
    #[serde(skip_serializing_if = "Option::is_none")]
    presigned: Option<PresignedJson>,
    verification: Option<VerificationJson>,
    /// Owner lookup (`--owner-lookup`, `keysweep triage`); absent when not
    /// looked up.
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a OwnerRecord>,
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
    refs_total: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unreachable: Option<bool>,
}

#[derive(Serialize, Deserialize)]
struct PartJson {
    value: String,
    line: u32,
    column: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encoding: Option<Encoding>,
}

/// A presigned URL on the wire: how it was signed, when it expires.
#[derive(Serialize, Deserialize)]
struct PresignedJson {
    signing: Signing,
    /// RFC 3339; `null` when the URL states no expiry.
    expires: Option<String>,
}

impl PresignedJson {
    fn into_presigned(self) -> Result<Presigned, String> {
        if let Some(t) = &self.expires {
            if !is_rfc3339(t) {
                return Err(format!(
                    "presigned.expires {:?} is not an RFC 3339 date",
                    capped(t)
                ));
            }
        }
        Ok(Presigned {
            signing: self.signing,
            expires: self.expires,
        })
    }
}

/// A verdict on the wire: a status and the members that status has.
#[derive(Serialize, Deserialize, Default)]
struct VerificationJson {
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl VerificationJson {
    fn of(v: &Verdict) -> Self {
        let base = VerificationJson {
            status: v.label().to_string(),
            ..Default::default()
        };
        match v {
            Verdict::Live {
                arn,
                account,
                user_id,
            } => VerificationJson {
                arn: Some(arn.to_string()),
                account: Some(account.clone()),
                user_id: Some(user_id.clone()),
                ..base
            },
            Verdict::Invalid { code } => VerificationJson {
                error: Some(code.clone()),
                ..base
            },
            Verdict::Expired => VerificationJson {
                error: Some("ExpiredToken".into()),
                ..base
            },
            Verdict::Unverified { reason } | Verdict::Skipped { reason } => VerificationJson {
                error: Some(reason.clone()),
                ..base
            },
            Verdict::Canary { account, reason } => VerificationJson {
                account: Some(account.clone()),
                error: Some(reason.clone()),
                ..base
            },
        }
    }

    fn into_verdict(self) -> Result<Verdict, String> {
        let text = |v: Option<String>| v.map(|s| capped(&s)).unwrap_or_default();
        Ok(match self.status.as_str() {
            "live" => {
                let arn = self.arn.as_deref().unwrap_or("");
                let arn = Arn::parse(arn)
                    .ok_or_else(|| format!("verification.arn {:?} is not an ARN", capped(arn)))?;
                let account = match self.account {
                    Some(a) if is_account_id(&a) => a,
                    Some(a) => {
                        return Err(format!(
                            "verification.account {:?} is not a 12-digit account ID",
                            capped(&a)
                        ))
                    }
                    None => arn.account().unwrap_or_default().to_string(),
                };
                Verdict::Live {
                    arn,
                    account,
                    user_id: text(self.user_id),
                }
            }
            "invalid" => Verdict::Invalid {
                code: text(self.error),
            },
            "expired" => Verdict::Expired,
            "unverified" => Verdict::Unverified {
                reason: text(self.error),
            },
            "canary" => Verdict::Canary {
                account: match self.account {
                    Some(a) if is_account_id(&a) => a,
                    _ => return Err("verification.account of a canary is not an account ID".into()),
                },
                reason: text(self.error),
            },
            "skipped" => Verdict::Skipped {
                reason: text(self.error),
            },
            other => {
                return Err(format!(
                    "verification.status {:?} is not one of live, invalid, expired, unverified, canary, skipped",
                    capped(other)
                ))
            }
        })
    }
}

fn part<V>(p: &Part<V>, value: String) -> PartJson {
    PartJson {
        value,
        line: p.position.line,
        column: p.position.column,
        encoding: p.encoding,
    }
}

impl<'a> FindingJson<'a> {
    fn new(f: &'a Finding, style: &Style) -> Self {
        let c = &f.credential;
        let blob = f.blob();
        let commit = f.commit();
        FindingJson {
            fingerprint: f.fingerprint(),
            repo: f.location.repo.as_deref(),
            path: f.location.path.as_str(),
            member: c.member.as_ref().map(|m| m.names()),
            origin: match &f.location.origin {
                Origin::Index(_) => Some("index"),
                Origin::Stdin => Some("stdin"),
                Origin::File | Origin::Blob(_) => None,
            },
            commit: commit.map(|c| c.id.as_str()),
            access_key_id: c.access_key_id.as_ref().map(|p| part(p, p.value.clone())),
            secret_access_key: c
                .secret_access_key
                .as_ref()
                .map(|p| part(p, style.secret(&p.value))),
            session_token: c
                .session_token
                .as_ref()
                .map(|p| part(p, style.secret(&p.value))),
            account_id: c.account_id.as_deref(),
            confidence: c.confidence,
            presigned: c.presigned.as_ref().map(|p| PresignedJson {
                signing: p.signing,
                expires: p.expires.clone(),
            }),
            verification: f.verdict.as_ref().map(VerificationJson::of),
            owner: f.owner.as_deref(),
            blob: blob.map(|b| b.id.as_str()).or(f.staged_blob()),
            author: commit.and_then(|c| c.author.as_deref()),
            date: commit.and_then(|c| c.date.as_deref()),
            still_at_head: blob.map(|b| b.still_at_head),
            refs: blob.map(|b| b.refs.names()),
            refs_total: blob
                .filter(|b| b.refs.total() > b.refs.names().len())
                .map(|b| b.refs.total()),
            unreachable: blob.map(|b| b.unreachable),
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
            findings: by_tier(report.findings)
                .into_iter()
                .map(|f| FindingJson::new(f, style))
                .collect(),
            stats: report.stats,
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}

/// `--format jsonl`: one finding object per line, no wrapper.
pub(crate) struct JsonLines;

impl Reporter for JsonLines {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()> {
        for f in by_tier(report.findings) {
            serde_json::to_writer(&mut *out, &FindingJson::new(f, style))?;
            writeln!(out)?;
        }
        Ok(())
    }
}

/// Why a file could not be read back as a JSON report.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not a keysweep JSON report (`--format json` or `--format jsonl`): {0}")]
    Json(#[from] serde_json::Error),
    #[error("report format version {0} is not one this keysweep reads (1 to {FORMAT_VERSION})\nhint: use the keysweep that wrote it, or a newer one")]
    Version(u32),
    #[error("finding {index}: {reason}")]
    Field { index: usize, reason: String },
}

/// The parts of a `--format json` document that `keysweep merge` needs.
#[derive(Deserialize)]
struct DocumentIn {
    version: u32,
    findings: Vec<FindingIn>,
    #[serde(default)]
    stats: Stats,
}

#[derive(Deserialize)]
struct FindingIn {
    fingerprint: String,
    #[serde(default)]
    repo: Option<String>,
    path: String,
    #[serde(default)]
    member: Option<Vec<String>>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    access_key_id: Option<PartJson>,
    #[serde(default)]
    secret_access_key: Option<PartJson>,
    #[serde(default)]
    session_token: Option<PartJson>,
    #[serde(default)]
    account_id: Option<String>,
    confidence: Confidence,
    #[serde(default)]
    presigned: Option<PresignedJson>,
    #[serde(default)]
    verification: Option<VerificationJson>,
    #[serde(default)]
    owner: Option<OwnerRecord>,
    #[serde(default)]
    blob: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    still_at_head: Option<bool>,
    #[serde(default)]
    refs: Option<Vec<String>>,
    #[serde(default)]
    refs_total: Option<usize>,
    #[serde(default)]
    unreachable: Option<bool>,
}

/// Longest text kept from a report field that is free text (names, reasons).
const MAX_TEXT: usize = 4096;

/// `s`, cut to [`MAX_TEXT`] bytes at a character boundary.
fn capped(s: &str) -> String {
    let mut end = s.len().min(MAX_TEXT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn is_hex_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64)
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `YYYY-MM-DDTHH:MM:SS` then `Z` or `±HH:MM`, optionally with fractions.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !matches!(b[10], b'T' | b't' | b' ')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &b[i..] {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

impl PartJson {
    /// Checks the value against `alphabet` and length bounds, then builds
    /// the part. Redacted values (`*`) are allowed where secrets go.
    fn into_part<V>(
        self,
        field: &str,
        lengths: std::ops::RangeInclusive<usize>,
        allowed: impl Fn(u8) -> bool,
        make: impl FnOnce(String) -> V,
    ) -> Result<Part<V>, String> {
        if !lengths.contains(&self.value.len()) || !self.value.bytes().all(allowed) {
            return Err(format!(
                "{field}.value {:?} is not a value keysweep reports",
                capped(&self.value).chars().take(64).collect::<String>()
            ));
        }
        Ok(Part {
            value: make(self.value),
            // The byte offset is not in the report; line and column are.
            position: Position {
                offset: 0,
                line: self.line.max(1),
                column: self.column.max(1),
            },
            encoding: self.encoding,
        })
    }
}

fn base64_or_mask(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'=' | b'*')
}

impl FindingIn {
    fn into_finding(self) -> Result<Finding, String> {
        if !(self.fingerprint.len() == 32
            && self.fingerprint.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err("fingerprint is not 32 hex digits".into());
        }
        for (field, id) in [("commit", &self.commit), ("blob", &self.blob)] {
            if let Some(id) = id {
                if !is_hex_id(id) {
                    return Err(format!("{field} {:?} is not a git object id", capped(id)));
                }
            }
        }
        if let Some(date) = &self.date {
            if !is_rfc3339(date) {
                return Err(format!("date {:?} is not an RFC 3339 date", capped(date)));
            }
        }
        if let Some(a) = &self.account_id {
            if !is_account_id(a) {
                return Err(format!(
                    "account_id {:?} is not a 12-digit account ID",
                    capped(a)
                ));
            }
        }
        let access_key_id = self
            .access_key_id
            .map(|p| {
                p.into_part(
                    "access_key_id",
                    20..=20,
                    |b| b.is_ascii_uppercase() || b.is_ascii_digit(),
                    |v| v,
                )
            })
            .transpose()?;
        let secret_access_key = self
            .secret_access_key
            .map(|p| p.into_part("secret_access_key", 40..=40, base64_or_mask, Secret::new))
            .transpose()?;
        let session_token = self
            .session_token
            .map(|p| p.into_part("session_token", 16..=16 << 10, base64_or_mask, Secret::new))
            .transpose()?;
        let verdict = self
            .verification
            .map(VerificationJson::into_verdict)
            .transpose()?;
        let presigned = self
            .presigned
            .map(PresignedJson::into_presigned)
            .transpose()?;
        let owner = self.owner.map(OwnerRecord::checked).transpose()?;
        if let Some(o) = &owner {
            let id = access_key_id.as_ref().map(|p| p.value.as_str());
            if id != Some(o.key_id.as_str()) {
                return Err("owner.key_id is not the finding's access key ID".into());
            }
        }
        // History findings carry provenance fields; file findings none.
        let origin = if let Some(origin) = &self.origin {
            match (origin.as_str(), self.blob) {
                ("index", Some(blob)) => Origin::Index(Arc::from(blob)),
                ("index", None) => return Err("origin `index` without a blob".into()),
                ("stdin", _) => Origin::Stdin,
                (other, _) => {
                    return Err(format!(
                        "origin {:?} is not one of index, stdin",
                        capped(other)
                    ))
                }
            }
        } else if self.blob.is_some() || self.still_at_head.is_some() {
            let refs = self.refs.unwrap_or_default();
            Origin::Blob(Arc::new(BlobOrigin {
                id: self.blob.unwrap_or_default(),
                commit: self.commit.map(|id| Commit {
                    id,
                    author: self.author.map(|a| capped(&a)),
                    date: self.date,
                }),
                still_at_head: self.still_at_head.unwrap_or(false),
                refs: RefList::with_total(
                    refs.iter()
                        .take(crate::finding::MAX_REFS_LISTED)
                        .map(|r| capped(r))
                        .collect(),
                    self.refs_total.unwrap_or(refs.len()),
                ),
                unreachable: self.unreachable.unwrap_or(false),
            }))
        } else {
            Origin::File
        };
        Ok(Finding {
            credential: Credential {
                access_key_id,
                secret_access_key,
                session_token,
                account_id: self.account_id,
                confidence: self.confidence,
                member: self.member.map(MemberPath::from_names),
                presigned,
            },
            location: Location {
                repo: self.repo.map(|r| Arc::from(capped(&r))),
                path: ReportPath::from(capped(&self.path).as_str()),
                origin,
            },
            verdict,
            owner: owner.map(Arc::new),
            // The secrets may be redacted: keep the fingerprint the scan
            // computed from the real ones.
            recorded_fingerprint: Some(self.fingerprint.to_ascii_lowercase()),
        })
    }
}

/// Reads a report back: a `--format json` document (its findings and stats)
/// or `--format jsonl` lines (findings only). Secrets are as the report
/// wrote them (redacted unless it was written with `--show-secrets`);
/// fingerprints are kept as the scan computed them.
pub fn read_report(text: &str) -> Result<(Vec<Finding>, Stats), ReadError> {
    let (findings, stats) = match serde_json::from_str::<DocumentIn>(text) {
        Ok(doc) => {
            if doc.version == 0 || doc.version > FORMAT_VERSION {
                return Err(ReadError::Version(doc.version));
            }
            (doc.findings, doc.stats)
        }
        // Not a document: JSON Lines, or a damaged document.
        Err(doc_error) => {
            let lines: Result<Vec<FindingIn>, _> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str)
                .collect();
            match lines {
                Ok(found) if !found.is_empty() || text.trim().is_empty() => {
                    (found, Stats::default())
                }
                _ => return Err(ReadError::Json(doc_error)),
            }
        }
    };
    let findings = findings
        .into_iter()
        .enumerate()
        .map(|(index, f)| {
            f.into_finding()
                .map_err(|reason| ReadError::Field { index, reason })
        })
        .collect::<Result<_, _>>()?;
    Ok((findings, stats))
}

#[cfg(test)]
mod tests {
    use super::super::{fixture, Format, Style};
    use super::*;

    fn json(format: Format, style: Style) -> String {
        fixture::rendered(format, style)
    }

    #[test]
    fn snapshot_json() {
        let out =
            json(Format::Json, Style::default()).replace(env!("CARGO_PKG_VERSION"), "[version]");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn snapshot_jsonl() {
        insta::assert_snapshot!(json(Format::Jsonl, Style::default()));
    }

    #[test]
    fn a_report_reads_back_to_the_same_findings() {
        for format in [Format::Json, Format::Jsonl] {
            let text = json(format, Style::default());
            let (back, _) = read_report(&text).expect("reads back");
            let original = fixture::findings();
            assert_eq!(back.len(), original.len());
            // Most urgent first: the active administrator key on top.
            assert!(back[0].is_active_admin());
            for a in &original {
                let b = back
                    .iter()
                    .find(|b| b.fingerprint() == a.fingerprint())
                    .expect("every finding reads back");
                assert_eq!(a.fingerprint(), b.fingerprint());
                assert_eq!(a.location.path.as_str(), b.location.path.as_str());
                assert_eq!(a.credential.member, b.credential.member);
                assert_eq!(a.verdict, b.verdict);
                assert_eq!(a.commit(), b.commit());
                assert_eq!(a.credential.presigned, b.credential.presigned);
                assert_eq!(a.owner, b.owner);
            }
        }
    }

    #[test]
    fn staged_and_stdin_origins_read_back() {
        let mut findings = fixture::findings();
        findings.truncate(2);
        findings[0].location.origin =
            Origin::Index(Arc::from("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"));
        findings[1].location.origin = Origin::Stdin;
        findings[1].location.path = ReportPath::from(crate::finding::STDIN_PATH);
        let stats = Stats::default();
        let report = Report {
            findings: &findings,
            stats: &stats,
            options: "",
        };
        let text = super::super::render(Format::Json, &report, &Style::default()).expect("render");
        let doc: serde_json::Value = serde_json::from_slice(&text).expect("json");
        assert_eq!(doc["findings"][0]["origin"], "index");
        assert_eq!(
            doc["findings"][0]["blob"],
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
        assert_eq!(doc["findings"][1]["origin"], "stdin");
        let (back, _) = read_report(std::str::from_utf8(&text).expect("utf-8")).expect("reads");
        for (a, b) in findings.iter().zip(&back) {
            assert_eq!(a.location.origin, b.location.origin);
            assert_eq!(a.fingerprint(), b.fingerprint());
        }
        let bad = std::str::from_utf8(&text)
            .expect("utf-8")
            .replace("\"origin\": \"stdin\"", "\"origin\": \"\\u001b[2J\"");
        let e = read_report(&bad).expect_err("unknown origin").to_string();
        assert!(e.contains("origin") && !e.contains('\x1b'), "{e}");
    }

    #[test]
    fn version_1_reports_still_merge() {
        let v1 = r#"{"version":1,"tool":{"name":"keysweep","version":"0.1.0"},"findings":[
          {"fingerprint":"0123456789abcdef0123456789abcdef","path":"a.zip!x/.env","commit":null,
           "access_key_id":{"value":"AKIA2IJB4LAJLJ6HDU6G","line":2,"column":19},
           "secret_access_key":null,"session_token":null,"account_id":null,"confidence":"medium",
           "verification":{"status":"skipped","error":"no secret"}}],"stats":{"files":1}}"#;
        let (found, stats) = read_report(v1).expect("v1 reads");
        assert_eq!(stats.files, 1);
        // A v1 path is taken as written: `!` is a legal file-name character.
        assert_eq!(found[0].location.path.as_str(), "a.zip!x/.env");
        assert_eq!(found[0].credential.member, None);
    }

    #[test]
    fn hostile_fields_are_clear_errors_not_panics() {
        let finding = |extra: &str| {
            format!(
                r#"{{"version":2,"findings":[{{"fingerprint":"0123456789abcdef0123456789abcdef","path":"p","confidence":"high"{extra}}}]}}"#
            )
        };
        for (extra, needle) in [
            (r#","commit":"é€é€é€é€é€é€é€é€é€é€é€é€é€""#, "commit"),
            (r#","blob":"xyz""#, "blob"),
            (r#","date":"yesterday""#, "date"),
            (r#","account_id":"12""#, "account_id"),
            (
                r#","access_key_id":{"value":"AKIA::error::x","line":1,"column":1}"#,
                "access_key_id",
            ),
            (
                r#","secret_access_key":{"value":"\u001b[2J","line":1,"column":1}"#,
                "secret_access_key",
            ),
            (
                r#","verification":{"status":"live","arn":"::error::pwned"}"#,
                "ARN",
            ),
            (r#","verification":{"status":"owned"}"#, "status"),
            (
                r#","presigned":{"signing":"sigv4","expires":"\u001b[2J"}"#,
                "presigned.expires",
            ),
            (
                r#","presigned":{"signing":"sigv9","expires":null}"#,
                "sigv9",
            ),
            (
                r#","access_key_id":{"value":"AKIA2IJB4LAJLJ6HDU6G","line":1,"column":1},"owner":{"key_id":"AKIADPMRCG4BE4UMR46P","state":"found"}"#,
                "owner.key_id",
            ),
            (
                r#","owner":{"key_id":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz","state":"found"}"#,
                "not an access key ID",
            ),
            (
                r#","access_key_id":{"value":"AKIA2IJB4LAJLJ6HDU6G","line":1,"column":1},"owner":{"key_id":"AKIA2IJB4LAJLJ6HDU6G","state":"pwned"}"#,
                "pwned",
            ),
            (
                r#","access_key_id":{"value":"AKIA2IJB4LAJLJ6HDU6G","line":1,"column":1},"owner":{"key_id":"AKIA2IJB4LAJLJ6HDU6G","state":"found","account":"::error::"}"#,
                "owner.account",
            ),
        ] {
            let err = read_report(&finding(extra)).expect_err(extra).to_string();
            assert!(err.contains(needle), "{extra}: {err}");
        }
        for doc in [
            r#"{"version":3,"findings":[]}"#.to_string(),
            r#"{"version":0,"findings":[]}"#.to_string(),
            "[1,2]".to_string(),
            "\u{0}".to_string(),
        ] {
            assert!(read_report(&doc).is_err(), "{doc}");
        }
    }

    #[test]
    fn dates_are_checked_as_rfc3339() {
        for good in [
            "2026-01-02T03:04:05+00:00",
            "2026-01-02T03:04:05Z",
            "2026-01-02T03:04:05.123-07:30",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "2026-01-02",
            "2026-01-02T03:04:05",
            "2026-01-02T03:04:05+0000",
            "é",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
