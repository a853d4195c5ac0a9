//! What a scan reports: one leaked credential at one place.
//!
//! A [`Finding`] joins the parts the detector paired (key ID, secret, session
//! token) with where they were found (path, and for git scans the commit and
//! provenance) and, after `--verify`, what STS said. Secret values live in
//! [`Secret`], which redacts itself in `Debug` and `Display`, so a stray
//! `{:?}` or log line can never print one.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A secret value (secret access key or session token). Only
/// [`Secret::expose`] gives the real text; everything else redacts.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value. Call only where the user asked for it (`--show-secrets`)
    /// or where it must leave the process (signing a verification request).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// First four characters kept, the rest replaced by `*`, same length.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// Keeps the first four characters of `value` and masks the rest.
pub fn redact(value: &str) -> String {
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 4 { c } else { '*' })
        .collect()
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Where a part of a credential was found inside its blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Byte offset of the part, or of the encoded run that holds it.
    pub offset: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in bytes from the start of the line.
    pub column: u32,
}

/// How the part was written in the blob, when it was not plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// String escapes such as `\/`, `\u002F`, `\u{2F}` or `\x2F`.
    Escaped,
    /// HTML/XML character references such as `&#x2F;`, `&#47;` or `&sol;`.
    Html,
    /// URL percent-encoding such as `%2F`.
    Percent,
    /// Base64-encoded content.
    Base64,
    /// UTF-16 text.
    Utf16,
}

/// One part of a credential: its value and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Part<V> {
    pub value: V,
    pub position: Position,
    pub encoding: Option<Encoding>,
}

/// How sure the detector is that this is a real credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A key ID alone, or a labelled secret without a key ID.
    Medium,
    /// A key ID paired with a secret.
    High,
}

/// The credential the detector found in one blob: what the pure detector
/// returns, before a path or commit is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: Option<Part<String>>,
    pub secret_access_key: Option<Part<Secret>>,
    pub session_token: Option<Part<Secret>>,
    /// Account ID decoded offline from the key ID, when the ID allows it.
    pub account_id: Option<String>,
    pub confidence: Confidence,
    /// The archive member the credential was found in (`a/b.txt`, or
    /// `inner.tar!a/b.txt` for nested archives), when the blob is an archive.
    pub member: Option<String>,
}

impl Credential {
    /// The position reported for the whole credential: its first part.
    pub fn first_position(&self) -> Position {
        [
            self.access_key_id.as_ref().map(|p| p.position),
            self.secret_access_key.as_ref().map(|p| p.position),
            self.session_token.as_ref().map(|p| p.position),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(Position {
            offset: 0,
            line: 1,
            column: 1,
        })
    }

    /// The identity used to verify and group a credential: the same key ID,
    /// secret and token are one credential wherever they appear.
    pub fn key(&self) -> CredentialKey {
        CredentialKey {
            access_key_id: self.access_key_id.as_ref().map(|p| p.value.clone()),
            secret_access_key: self.secret_access_key.as_ref().map(|p| p.value.clone()),
            session_token: self.session_token.as_ref().map(|p| p.value.clone()),
        }
    }
}

/// Key ID + secret + token: what makes two findings the same credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialKey {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
}

impl CredentialKey {
    /// A stable hex digest of the credential; safe to print or store (it
    /// cannot be turned back into the secret).
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.access_key_id.as_deref(),
            self.secret_access_key.as_ref().map(Secret::expose),
            self.session_token.as_ref().map(Secret::expose),
        ] {
            h.update(part.unwrap_or("").as_bytes());
            h.update([0u8]);
        }
        hex(&h.finalize())
    }
}

/// Where a git-history finding came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Full SHA of the earliest commit that introduced the blob; `None` for a
    /// blob no commit reaches (dangling).
    pub commit: Option<String>,
    pub author: Option<String>,
    /// Author date, RFC 3339.
    pub date: Option<String>,
    /// Whether the blob is still in the tree of HEAD.
    pub still_at_head: bool,
    /// Branches and tags whose tip still contains the blob.
    pub refs: Vec<String>,
    /// True when no ref reaches the blob.
    pub unreachable: bool,
}

/// What `--verify` learnt about a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub status: VerificationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The AWS error code, or why no verdict could be reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerificationStatus {
    Live,
    Invalid,
    Expired,
    Unverified,
    Canary,
    Skipped,
}

/// One leaked credential at one place: the unit every report is made of.
#[derive(Debug, Clone)]
pub struct Finding {
    pub credential: Credential,
    /// Path relative to the scanned root or repository root, `/`-separated,
    /// with `!member` appended for a credential inside an archive.
    pub path: String,
    /// The repository, for scans of several repositories.
    pub repo: Option<String>,
    /// Git blob ID of the content, for history findings.
    pub blob_id: Option<String>,
    pub provenance: Option<Provenance>,
    pub verification: Option<Verification>,
    /// The fingerprint as a report already wrote it. `keysweep merge` reads
    /// reports whose secrets are redacted, so it cannot compute the
    /// fingerprint again and keeps the one the scan computed. `None` for
    /// findings of a scan.
    pub recorded_fingerprint: Option<String>,
}

impl Finding {
    /// Stable across runs and machines for the same credential at the same
    /// path (and commit): what baselines refer to.
    pub fn fingerprint(&self) -> String {
        if let Some(fp) = &self.recorded_fingerprint {
            return fp.clone();
        }
        let mut h = Sha256::new();
        h.update(self.credential.key().digest().as_bytes());
        h.update([0u8]);
        if let Some(repo) = &self.repo {
            h.update(repo.as_bytes());
        }
        h.update([0u8]);
        h.update(self.path.as_bytes());
        h.update([0u8]);
        if let Some(commit) = self.provenance.as_ref().and_then(|p| p.commit.as_deref()) {
            h.update(commit.as_bytes());
        }
        hex(&h.finalize())[..32].to_string()
    }

    pub fn commit(&self) -> Option<&str> {
        self.provenance.as_ref().and_then(|p| p.commit.as_deref())
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_itself() {
        let s = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz");
        assert_eq!(format!("{s}"), "wJal************************************");
        assert_eq!(
            format!("{s:?}"),
            "Secret(wJal************************************)"
        );
        assert_eq!(s.expose().len(), 40);
    }

    #[test]
    fn debug_of_credentials_and_findings_never_shows_a_secret() {
        let secret = "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+";
        let token = "IQoJb3JpZ2luX2VjDnkHIfxIq2HZt+PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3+YNBDRzrZSgqbjG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8";
        let at = Position {
            offset: 0,
            line: 1,
            column: 1,
        };
        let credential = Credential {
            access_key_id: Some(Part {
                value: "ASIAQM4I2HZ4UEP3ENTH".into(),
                position: at,
                encoding: None,
            }),
            secret_access_key: Some(Part {
                value: Secret::new(secret),
                position: at,
                encoding: Some(Encoding::Escaped),
            }),
            session_token: Some(Part {
                value: Secret::new(token),
                position: at,
                encoding: None,
            }),
            account_id: None,
            confidence: Confidence::High,
            member: None,
        };
        let finding = Finding {
            credential: credential.clone(),
            path: "a/.env".into(),
            repo: None,
            blob_id: None,
            provenance: None,
            verification: None,
            recorded_fingerprint: None,
        };
        let key = credential.key();
        for shown in [
            format!("{credential:?}"),
            format!("{credential:#?}"),
            format!("{finding:?}"),
            format!("{finding:#?}"),
            format!("{key:?}"),
        ] {
            assert!(shown.contains("ASIAQM4I2HZ4UEP3ENTH"), "{shown}");
            // Nothing past the four characters redaction keeps.
            assert!(!shown.contains(&secret[4..]), "{shown}");
            assert!(!shown.contains(&token[4..]), "{shown}");
            assert!(!shown.contains(&token[16..40]), "{shown}");
        }
    }

    #[test]
    fn fingerprint_depends_on_credential_path_and_commit() {
        let cred = Credential {
            access_key_id: Some(Part {
                value: "AKIASP2TPHJSQH3FJRUX".into(),
                position: Position {
                    offset: 0,
                    line: 1,
                    column: 1,
                },
                encoding: None,
            }),
            secret_access_key: None,
            session_token: None,
            account_id: None,
            confidence: Confidence::Medium,
            member: None,
        };
        let f = Finding {
            credential: cred,
            path: "a/b".into(),
            repo: None,
            blob_id: None,
            provenance: None,
            verification: None,
            recorded_fingerprint: None,
        };
        let mut g = f.clone();
        assert_eq!(f.fingerprint(), g.fingerprint());
        g.credential.access_key_id.as_mut().unwrap().position.line = 9;
        assert_eq!(
            f.fingerprint(),
            g.fingerprint(),
            "a moved line keeps the fingerprint"
        );
        g.path = "a/c".into();
        assert_ne!(f.fingerprint(), g.fingerprint());
    }
}
