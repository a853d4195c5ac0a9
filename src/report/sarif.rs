//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it: one run,
//! unique rule ids, relative URIs, our own `partialFingerprints`, redacted
//! messages, help with remediation, and GitHub's per-run result limit.

use super::{Report, Reporter, Style};
use crate::finding::{Finding, VerificationStatus};
use serde_json::{json, Value};
use std::io::{self, Write};

/// GitHub accepts at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;

pub struct Sarif;

/// The rule a finding falls under.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Pair,
    KeyId,
    Secret,
    SessionToken,
}

impl Rule {
    pub const ALL: [Rule; 4] = [Rule::Pair, Rule::KeyId, Rule::Secret, Rule::SessionToken];

    pub fn of(f: &Finding) -> Rule {
        let c = &f.credential;
        match (&c.access_key_id, &c.secret_access_key) {
            (Some(_), Some(_)) => Rule::Pair,
            (Some(_), None) => Rule::KeyId,
            (None, Some(_)) => Rule::Secret,
            (None, None) => Rule::SessionToken,
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Rule::Pair => "aws-access-key-pair",
            Rule::KeyId => "aws-access-key-id",
            Rule::Secret => "aws-secret-access-key",
            Rule::SessionToken => "aws-session-token",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Rule::Pair => "Leaked AWS access key and secret",
            Rule::KeyId => "Leaked AWS access key ID",
            Rule::Secret => "Leaked AWS secret access key",
            Rule::SessionToken => "Leaked AWS session token",
        }
    }

    fn severity(self) -> &'static str {
        match self {
            Rule::Pair => "9.5",
            Rule::Secret | Rule::SessionToken => "8.0",
            Rule::KeyId => "5.0",
        }
    }
}

const HELP: &str = "An AWS credential is committed to the repository. Deleting the file does not remove it from git history.\n\
1. Deactivate the key now: aws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive\n\
2. Check CloudTrail (Event history, filter by Access key ID) for what the key was used for.\n\
3. Delete it: aws iam delete-access-key --user-name USER --access-key-id KEY_ID, and issue a new one if still needed (better: an IAM role).\n\
4. Remove it from the code; rewrite history if the repository is public.\n\
A false alarm can be suppressed with `keysweep:allow` on the line, an allowlist in .keysweep.toml, or a baseline.";

/// A one-line, redacted description of a finding.
pub fn message(f: &Finding, style: &Style) -> String {
    let c = &f.credential;
    let mut parts = Vec::new();
    match &c.access_key_id {
        Some(id) => parts.push(format!("AWS access key {}", id.value)),
        None => parts.push("AWS credential".to_string()),
    }
    if let Some(s) = &c.secret_access_key {
        parts.push(format!(
            "with its secret access key ({})",
            style.secret(&s.value)
        ));
    }
    if c.session_token.is_some() {
        parts.push("and session token".to_string());
    }
    if let Some(a) = &c.account_id {
        parts.push(format!("(account {a})"));
    }
    let mut text = parts.join(" ");
    if let Some(v) = &f.verification {
        let status = match v.status {
            VerificationStatus::Live => format!(
                "LIVE: still works ({})",
                v.arn.as_deref().unwrap_or("unknown ARN")
            ),
            VerificationStatus::Invalid => "no longer valid".to_string(),
            VerificationStatus::Expired => "expired".to_string(),
            VerificationStatus::Unverified => format!(
                "could not be verified ({})",
                v.error.as_deref().unwrap_or("unknown")
            ),
            VerificationStatus::Canary => "a canary token: not verified".to_string(),
            VerificationStatus::Skipped => "not verified".to_string(),
        };
        text.push_str(&format!(" — {status}"));
    }
    if let Some(commit) = f.commit() {
        text.push_str(&format!(
            " — introduced in commit {}",
            &commit[..commit.len().min(12)]
        ));
    }
    text
}

fn result(f: &Finding, style: &Style) -> Value {
    let rule = Rule::of(f);
    let pos = f.credential.first_position();
    let len = f
        .credential
        .access_key_id
        .as_ref()
        .map(|p| p.value.len())
        .or_else(|| {
            f.credential
                .secret_access_key
                .as_ref()
                .map(|p| p.value.expose().len())
        })
        .unwrap_or(1);
    let uri = f.path.split('!').next().unwrap_or(&f.path);
    let live = f
        .verification
        .as_ref()
        .is_some_and(|v| v.status == VerificationStatus::Live);
    let level = if live || rule == Rule::Pair {
        "error"
    } else {
        "warning"
    };
    let mut properties = json!({"confidence": f.credential.confidence});
    if let Some(account) = &f.credential.account_id {
        properties["accountId"] = json!(account);
    }
    if let Some(commit) = f.commit() {
        properties["commitSha"] = json!(commit);
    }
    if f.path.contains('!') {
        properties["archiveMember"] = json!(f.path);
    }
    if let Some(v) = &f.verification {
        properties["verification"] = json!(v);
    }
    json!({
        "ruleId": rule.id(),
        "level": level,
        "message": {"text": message(f, style)},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": {
                    "startLine": pos.line.max(1),
                    "startColumn": pos.column.max(1),
                    "endLine": pos.line.max(1),
                    "endColumn": pos.column.max(1) as usize + len,
                }
            }
        }],
        "partialFingerprints": {"keysweepFingerprint/v1": f.fingerprint()},
        "properties": properties,
    })
}

impl Reporter for Sarif {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()> {
        let rules: Vec<Value> = Rule::ALL
            .iter()
            .map(|r| {
                json!({
                    "id": r.id(),
                    "name": r.title().replace(' ', ""),
                    "shortDescription": {"text": r.title()},
                    "fullDescription": {"text": format!("{}. Found by keysweep in files or git history.", r.title())},
                    "help": {"text": HELP, "markdown": HELP.replace('\n', "\n\n")},
                    "defaultConfiguration": {"level": if *r == Rule::KeyId { "warning" } else { "error" }},
                    "properties": {"security-severity": r.severity(), "tags": ["security", "secrets", "aws"], "precision": "very-high"},
                })
            })
            .collect();
        // Most severe first, so a truncated run keeps what matters.
        let mut findings: Vec<&Finding> = report.findings.iter().collect();
        findings.sort_by_key(|f| super::github::severity_rank(f));
        let results: Vec<Value> = findings
            .iter()
            .take(MAX_RESULTS)
            .map(|f| result(f, style))
            .collect();
        let mut run = json!({
            "tool": {"driver": {
                "name": "keysweep",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/keysweep/keysweep",
                "rules": rules,
            }},
            "results": results,
        });
        if findings.len() > MAX_RESULTS {
            run["properties"] = json!({"truncated": true, "totalResults": findings.len()});
        }
        let doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [run],
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}
