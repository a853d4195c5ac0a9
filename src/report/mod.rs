//! Reporters: one per output format, behind one trait. Each is a pure
//! function of (findings, stats, style) to bytes: reporters never re-match,
//! never verify, never open a file (the driver decides where bytes go).
//! They share one vocabulary ([`vocab`]) and escape everything that came
//! from scanned data through [`crate::term`]. Secrets are redacted unless
//! the user asked with `--show-secrets`.

pub mod csv;
pub mod github;
pub mod html;
pub mod json;
pub mod remediation;
pub mod sarif;
pub mod summary;
pub mod text;
pub mod vocab;

use crate::finding::{Finding, Secret};
use crate::stats::Stats;
use crate::term::Medium;
use std::io::{self, Write};

/// Everything a reporter writes about one run.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub stats: &'a Stats,
    /// What the run was asked to do, in a few words
    /// ([`crate::settings::Settings::describe`]); empty where unknown. The
    /// HTML report's header shows it.
    pub options: &'a str,
}

/// How to write a report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub show_secrets: bool,
    pub color: bool,
    /// Where human-readable text goes (a CI log neutralises workflow commands).
    pub medium: Medium,
    /// Today, in days since 1970-01-01, for "last used 2 days ago"; `None`:
    /// dates only (snapshot tests, reproducible output).
    pub today: Option<i64>,
}

impl Style {
    /// The value of a secret as this report may show it.
    pub fn secret(&self, s: &Secret) -> String {
        if self.show_secrets {
            s.expose().to_string()
        } else {
            s.redacted()
        }
    }

    /// Scanned text made safe for this style's medium.
    pub fn clean(&self, s: &str) -> String {
        self.medium.clean(s)
    }
}

/// One output format.
pub trait Reporter {
    fn write(&self, out: &mut dyn Write, report: &Report<'_>, style: &Style) -> io::Result<()>;
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Jsonl,
    Sarif,
    Github,
    /// One self-contained HTML page.
    Html,
    /// One row per place, RFC 4180, formula cells defused.
    Csv,
}

impl Format {
    pub fn reporter(self) -> Box<dyn Reporter> {
        match self {
            Format::Text => Box::new(text::Text),
            Format::Json => Box::new(json::Json),
            Format::Jsonl => Box::new(json::JsonLines),
            Format::Sarif => Box::new(sarif::Sarif),
            Format::Github => Box::new(github::Github),
            Format::Html => Box::new(html::Html),
            Format::Csv => Box::new(csv::Csv),
        }
    }
}

/// The report as bytes.
pub fn render(format: Format, report: &Report<'_>, style: &Style) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    format.reporter().write(&mut out, report, style)?;
    Ok(out)
}

/// A fixed set of findings every reporter's snapshot test renders: a file
/// pair, a history finding in an archive member with hostile names, a live
/// key, a lone secret, a session token, a key ID in a presigned URL.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::finding::*;
    use crate::stats::Stats;
    use crate::verify::owner::{
        AccountSource, KeyId, KeyStatus, LastUsed, OwnerRecord, OwnerState, PolicyKind, PolicyRef,
    };
    use std::sync::Arc;

    fn at(line: u32, column: u32) -> Position {
        Position {
            offset: 0,
            line,
            column,
        }
    }

    fn id(v: &str, line: u32) -> Option<Part<String>> {
        Some(Part {
            value: v.into(),
            position: at(line, 19),
            encoding: None,
        })
    }

    fn secret(v: &str, line: u32) -> Option<Part<Secret>> {
        Some(Part {
            value: Secret::new(v),
            position: at(line, 23),
            encoding: None,
        })
    }

    fn file(path: &str) -> Location {
        Location {
            repo: None,
            path: ReportPath::from(path),
            origin: Origin::File,
        }
    }

    pub(crate) fn findings() -> Vec<Finding> {
        let pair = Finding::new(
            Credential {
                access_key_id: id("AKIA2IJB4LAJLJ6HDU6G", 2),
                secret_access_key: secret("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", 3),
                session_token: None,
                account_id: Some("123456789012".into()),
                confidence: Confidence::High,
                member: None,
                presigned: None,
            },
            file("config/prod.env"),
        );
        let mut live = Finding::new(
            Credential {
                access_key_id: id("AKIADPMRCG4BE4UMR46P", 7),
                secret_access_key: secret("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", 8),
                session_token: None,
                account_id: Some("210987654321".into()),
                confidence: Confidence::High,
                member: None,
                presigned: None,
            },
            Location {
                repo: Some(Arc::from("https://git.example.com/acme/api.git")),
                path: ReportPath::from("deploy/ci.yml"),
                origin: Origin::Blob(Arc::new(BlobOrigin {
                    id: "5f3c0e2a7d0b9c1e4f6a8b2d3c4e5f60718293a4".into(),
                    commit: Some(Commit {
                        id: "0123456789abcdef0123456789abcdef01234567".into(),
                        author: Some("Dev <dev@example.com>".into()),
                        date: Some("2026-01-02T03:04:05+00:00".into()),
                    }),
                    still_at_head: true,
                    refs: RefList::new(vec!["refs/heads/main".into()]),
                    unreachable: false,
                })),
            },
        );
        live.verdict = Some(Verdict::Live {
            arn: Arn::parse("arn:aws:iam::210987654321:user/ci-deploy").expect("an ARN"),
            account: "210987654321".into(),
            user_id: "AIDAQM4I2HZ4EXAMPLE1".into(),
        });
        let hostile = Finding::new(
            Credential {
                access_key_id: id("AKIAQM4I2HZ4UEP3ENTH", 1),
                secret_access_key: None,
                session_token: None,
                account_id: None,
                confidence: Confidence::Medium,
                member: Some(
                    MemberPath::default()
                        .join("inner ##[stop-commands]x.tar")
                        .join("a`b|c\r\n::error::pwned.env"),
                ),
                presigned: None,
            },
            Location {
                repo: None,
                path: ReportPath::from_bytes(b"vendor/\x1b[2Jbundle\xff.zip"),
                origin: Origin::Blob(Arc::new(BlobOrigin {
                    id: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
                    commit: None,
                    still_at_head: false,
                    refs: RefList::default(),
                    unreachable: true,
                })),
            },
        );
        let lone_secret = Finding::new(
            Credential {
                access_key_id: None,
                secret_access_key: secret("Zq9v3bT7mK2pW8xR4nL6yH1cF5dJ0gS3aE7uB2oI", 4),
                session_token: None,
                account_id: None,
                confidence: Confidence::Medium,
                member: None,
                presigned: None,
            },
            file("terraform/main.tf"),
        );
        let mut token = Finding::new(
            Credential {
                access_key_id: id("ASIAQM4I2HZ4UEP3ENTH", 1),
                secret_access_key: secret("PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+", 2),
                session_token: Some(Part {
                    value: Secret::new("IQoJb3JpZ2luX2VjDnkHIfxIq2HZt+PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3+YNBDRzrZSgqbjG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8"),
                    position: at(3, 19),
                    encoding: Some(Encoding::Base64),
                }),
                account_id: Some("123456789012".into()),
                confidence: Confidence::High,
                member: None,
                presigned: None,
            },
            file("notebooks/explore.ipynb"),
        );
        token.verdict = Some(Verdict::Expired);
        // The same key ID leaked in the pair above, here only inside a
        // presigned link: a finding of its own kind.
        let presigned = Finding::new(
            Credential {
                access_key_id: id("AKIA2IJB4LAJLJ6HDU6G", 12),
                secret_access_key: None,
                session_token: None,
                account_id: Some("123456789012".into()),
                confidence: Confidence::Medium,
                member: None,
                presigned: Some(Presigned {
                    signing: Signing::Sigv4,
                    expires: Some("2026-01-02T04:04:05Z".into()),
                }),
            },
            file("docs/download.md"),
        );
        // Owner lookup: the pair's key is an active admin key of a member
        // account whose names AWS handed back are hostile; the presigned
        // URL's key is the same key; the hostile finding's key is someone
        // else's.
        let owner = Arc::new(owner_found());
        let (mut pair, mut presigned, mut hostile) = (pair, presigned, hostile);
        pair.owner = Some(owner.clone());
        presigned.owner = Some(owner);
        let mut stranger = OwnerRecord::new(
            KeyId::parse("AKIAQM4I2HZ4UEP3ENTH").expect("key ID"),
            OwnerState::NotYours,
        );
        stranger.account = Some("048271465316".into());
        stranger.account_source = Some(AccountSource::KeyId);
        hostile.owner = Some(Arc::new(stranger));
        vec![pair, live, hostile, lone_secret, token, presigned]
    }

    /// An active administrator key, with names an attacker could choose
    /// (IAM user names allow `+=,.@_-`; account names are free text).
    pub(crate) fn owner_found() -> OwnerRecord {
        let mut r = OwnerRecord::new(
            KeyId::parse("AKIA2IJB4LAJLJ6HDU6G").expect("key ID"),
            OwnerState::Found,
        );
        r.account = Some("123456789012".into());
        r.account_source = Some(AccountSource::KeyId);
        r.account_name = Some("prod <img/src=x onerror=alert(1)> \u{202e}\x1b[2J::error::x".into());
        r.user = Some("ci-deploy".into());
        r.key_status = Some(KeyStatus::Active);
        r.created = Some("2024-03-02T09:15:27Z".into());
        r.last_used = Some(LastUsed {
            date: Some("2026-01-01T17:02:11Z".into()),
            service: Some("s3".into()),
            region: Some("eu-west-1".into()),
        });
        r.admin = Some(true);
        r.policies = vec![
            PolicyRef {
                name: "AdministratorAccess".into(),
                kind: PolicyKind::Managed,
                group: None,
                arn: Some("arn:aws:iam::aws:policy/AdministratorAccess".into()),
                admin: Some(true),
            },
            PolicyRef {
                name: "deploy</script>".into(),
                kind: PolicyKind::Inline,
                group: Some("deployers".into()),
                arn: None,
                admin: Some(false),
            },
        ];
        r
    }

    /// The fixture rendered by `format` in `style`, as text.
    pub(crate) fn rendered(format: super::Format, style: super::Style) -> String {
        let (findings, stats) = (findings(), stats());
        let report = super::Report {
            findings: &findings,
            stats: &stats,
            options: "",
        };
        let bytes = super::render(format, &report, &style).expect("render");
        String::from_utf8(bytes).expect("UTF-8")
    }

    pub(crate) fn stats() -> Stats {
        Stats {
            files: 3,
            blobs: 2,
            commits: 4,
            bytes: 48_000,
            elapsed_ms: 310,
            ..Stats::default()
        }
    }
}
