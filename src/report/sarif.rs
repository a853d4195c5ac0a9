//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it: one run,
//! unique rule ids, relative URIs (percent-encoded per RFC 3986, so a name
//! such as `x#y.env` or `%41.env` points at itself), our own
//! `partialFingerprints`, redacted messages, help with remediation, and
//! GitHub's per-run result limit.

use super::vocab::{
    by_urgency, describe, level, owner_label, security_severity, Rule, HELP, PRESIGNED_HELP,
};
use super::{Report, Reporter, Style};
use crate::finding::Finding;
use serde_json::{json, Value};
use std::io::{self, Write};

/// GitHub accepts at most this many results per run.
pub(crate) const MAX_RESULTS: usize = 25_000;

pub struct Sarif;

/// A relative path as a URI reference: RFC 3986 unreserved characters and
/// `/` as they are, every other byte percent-encoded.
pub(crate) fn uri_of(path: &[u8]) -> String {
    crate::term::percent_encode(path, b"/")
}

fn result(f: &Finding, style: &Style) -> Value {
    let rule = Rule::of(&f.credential);
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
    let mut properties = json!({"confidence": f.credential.confidence});
    if let Some(account) = &f.credential.account_id {
        properties["accountId"] = json!(account);
    }
    if let Some(commit) = f.commit() {
        properties["commitSha"] = json!(commit.id);
    }
    if let Some(repo) = &f.location.repo {
        properties["repository"] = json!(repo.as_ref());
    }
    if let Some(member) = &f.credential.member {
        // Line and column count inside this member, not inside the archive.
        properties["archiveMember"] = json!(member.names());
    }
    if let Some(v) = &f.verdict {
        properties["verification"] = json!(v.label());
    }
    if let Some(o) = &f.owner {
        // The owner lookup's answer, and the severity it sets: an active
        // administrator key is the most severe finding there is.
        properties["owner"] = json!(owner_label(o));
        properties["security-severity"] = json!(security_severity(f));
        if let Some(a) = &o.account {
            properties["ownerAccount"] = json!(a);
        }
    }
    if let Some(p) = &f.credential.presigned {
        properties["presignedUrl"] = json!({"signing": p.signing, "expires": p.expires});
    }
    json!({
        "ruleId": rule.id(),
        "level": level(f),
        "message": {"text": describe(f, style)},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri_of(f.location.path.identity())},
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
                let help = if *r == Rule::PresignedUrl { PRESIGNED_HELP } else { HELP };
                json!({
                    "id": r.id(),
                    "name": r.title().replace(' ', ""),
                    "shortDescription": {"text": r.title()},
                    "fullDescription": {"text": format!("{}. Found by keysweep in files or git history.", r.title())},
                    "help": {"text": help, "markdown": help.replace('\n', "\n\n")},
                    "defaultConfiguration": {"level": r.default_level()},
                    "properties": {"security-severity": r.security_severity(), "tags": ["security", "secrets", "aws"], "precision": "very-high"},
                })
            })
            .collect();
        // Most severe first, so a truncated run keeps what matters.
        let findings = by_urgency(report.findings);
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

#[cfg(test)]
mod tests {
    use super::super::{fixture, Format, Style};
    use super::uri_of;

    #[test]
    fn snapshot() {
        let out = fixture::rendered(Format::Sarif, Style::default())
            .replace(env!("CARGO_PKG_VERSION"), "[version]");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn uris_point_at_the_file_itself() {
        assert_eq!(uri_of(b"config/prod.env"), "config/prod.env");
        assert_eq!(uri_of(b"x#y.env"), "x%23y.env");
        assert_eq!(uri_of(b"%41.env"), "%2541.env");
        assert_eq!(uri_of(b"a b?c"), "a%20b%3Fc");
        assert_eq!(uri_of(b"docs.md!/prod.env"), "docs.md%21/prod.env");
        assert_eq!(uri_of("é".as_bytes()), "%C3%A9");
        assert_eq!(uri_of(b"k\xffey"), "k%FFey");
    }
}
