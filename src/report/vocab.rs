//! The words every report shares: rule ids and titles, severities, status
//! labels, the one-line description of a finding, how places are named, and
//! the order of urgency. One place, so the formats never disagree.

use super::Style;
use crate::finding::{Credential, Finding, Presigned, Signing, Verdict};

/// The rule a finding falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Pair,
    KeyId,
    Secret,
    SessionToken,
    /// A key ID (and token) in a presigned URL: no secret, low severity.
    PresignedUrl,
}

impl Rule {
    pub const ALL: [Rule; 5] = [
        Rule::Pair,
        Rule::KeyId,
        Rule::Secret,
        Rule::SessionToken,
        Rule::PresignedUrl,
    ];

    pub fn of(c: &Credential) -> Rule {
        if c.presigned.is_some() {
            return Rule::PresignedUrl;
        }
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
            Rule::PresignedUrl => "aws-presigned-url",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Rule::Pair => "Leaked AWS access key and secret",
            Rule::KeyId => "Leaked AWS access key ID",
            Rule::Secret => "Leaked AWS secret access key",
            Rule::SessionToken => "Leaked AWS session token",
            Rule::PresignedUrl => "AWS presigned URL",
        }
    }

    /// GitHub code scanning's `security-severity` (0–10).
    pub(crate) fn security_severity(self) -> &'static str {
        match self {
            Rule::Pair => "9.5",
            Rule::Secret | Rule::SessionToken => "8.0",
            Rule::KeyId => "5.0",
            Rule::PresignedUrl => "2.0",
        }
    }

    /// The SARIF default level of the rule (a finding's own level is
    /// [`level`]).
    pub(crate) fn default_level(self) -> &'static str {
        match self {
            Rule::Pair | Rule::Secret | Rule::SessionToken => "error",
            Rule::KeyId => "warning",
            Rule::PresignedUrl => "note",
        }
    }
}

/// What a presigned URL states: how it was signed and when it expires.
pub(crate) fn presigned_text(p: &Presigned, style: &Style) -> String {
    let signing = match p.signing {
        Signing::Sigv2 => "SigV2",
        Signing::Sigv4 => "SigV4",
    };
    match &p.expires {
        Some(t) => format!("{signing}, expires {}", style.clean(t)),
        None => format!("{signing}, states no expiry"),
    }
}

/// How urgent a finding is; lower is more urgent. Live keys first, then
/// pairs (usable as found), then lone secrets and tokens, then lone key
/// IDs, then presigned URLs.
pub(crate) fn urgency(f: &Finding) -> (u8, u8) {
    let rule = match Rule::of(&f.credential) {
        Rule::Pair => 0,
        Rule::Secret | Rule::SessionToken => 1,
        Rule::KeyId => 2,
        Rule::PresignedUrl => 3,
    };
    (u8::from(!f.is_live()), rule)
}

/// Whether a finding is an error (must be acted on) or a warning.
pub(crate) fn is_error(f: &Finding) -> bool {
    f.is_live() || Rule::of(&f.credential) == Rule::Pair
}

/// The SARIF level of a finding: errors, presigned URLs as notes, the
/// rest as warnings.
pub fn level(f: &Finding) -> &'static str {
    if is_error(f) {
        "error"
    } else if Rule::of(&f.credential) == Rule::PresignedUrl {
        "note"
    } else {
        "warning"
    }
}

/// The findings, most urgent first; ties keep their canonical order.
pub(crate) fn by_urgency(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by_key(|f| urgency(f));
    v
}

/// The status word of a finding: its verdict, or `found` when not verified.
pub(crate) fn status_label(v: Option<&Verdict>) -> &'static str {
    v.map_or("found", Verdict::label)
}

/// What a verdict means, in a few words (server-provided text cleaned).
pub(crate) fn verdict_text(v: &Verdict, style: &Style) -> String {
    match v {
        Verdict::Live { arn, .. } => format!("LIVE: still works ({})", style.clean(arn.as_str())),
        Verdict::Invalid { code } => format!("no longer valid ({})", style.clean(code)),
        Verdict::Expired => "expired".to_string(),
        Verdict::Unverified { reason } => {
            format!("could not be verified ({})", style.clean(reason))
        }
        Verdict::Canary { account, .. } => {
            format!(
                "a canary token of account {}: not verified",
                style.clean(account)
            )
        }
        Verdict::Skipped { reason } => format!("not verified ({})", style.clean(reason)),
    }
}

/// The first 12 characters of a commit id (counted in characters: a
/// report read back may hold anything there).
pub(crate) fn short_id(id: &str) -> String {
    id.chars().take(12).collect()
}

/// The place as a person reads it: `repo: path`, and for an archive member
/// `archive.zip → inner.tar → a/b.env`. Cleaned for the style's medium.
pub fn place(f: &Finding, style: &Style) -> String {
    let mut s = String::new();
    if let Some(repo) = &f.location.repo {
        s.push_str(&style.clean(repo));
        s.push_str(": ");
    }
    s.push_str(&style.clean(f.location.path.as_str()));
    if let Some(member) = &f.credential.member {
        for name in member.names() {
            s.push_str(" → ");
            s.push_str(&style.clean(name));
        }
    }
    s
}

/// A one-line, redacted description of a finding, for annotations and SARIF.
pub(crate) fn describe(f: &Finding, style: &Style) -> String {
    let c = &f.credential;
    let mut text = if let Some(p) = &c.presigned {
        let mut t = format!(
            "AWS presigned URL signed with access key {}",
            c.key_id().unwrap_or("(none)")
        );
        if c.session_token.is_some() {
            t.push_str(" and a session token");
        }
        t.push_str(&format!(
            " ({}); it holds no secret",
            presigned_text(p, style)
        ));
        t
    } else {
        let mut t = match c.key_id() {
            Some(id) => format!("AWS access key {id}"),
            None => "AWS credential".to_string(),
        };
        if let Some(s) = &c.secret_access_key {
            t.push_str(&format!(
                " with its secret access key ({})",
                style.secret(&s.value)
            ));
        }
        if c.session_token.is_some() {
            t.push_str(" and session token");
        }
        t
    };
    if let Some(a) = &c.account_id {
        text.push_str(&format!(" (account {a})"));
    }
    if let Some(v) = &f.verdict {
        text.push_str(" — ");
        text.push_str(&verdict_text(v, style));
    }
    if let Some(member) = &c.member {
        let names: Vec<String> = member.names().iter().map(|n| style.clean(n)).collect();
        text.push_str(&format!(" — in archive member {}", names.join(" → ")));
    }
    if let Some(commit) = f.commit() {
        text.push_str(&format!(" — introduced in commit {}", short_id(&commit.id)));
    }
    text
}

/// What to do about a leaked key, for SARIF help and the docs.
pub(crate) const HELP: &str = "An AWS credential is committed to the repository. Deleting the file does not remove it from git history.\n\
1. Deactivate the key now: aws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive\n\
2. Check CloudTrail (Event history, filter by Access key ID) for what the key was used for.\n\
3. Delete it: aws iam delete-access-key --user-name USER --access-key-id KEY_ID, and issue a new one if still needed (better: an IAM role).\n\
4. Remove it from the code; rewrite history if the repository is public.\n\
A false alarm can be suppressed with `keysweep:allow` on the line, an allowlist in .keysweep.toml, or a baseline.";

/// What to do about a presigned URL, for SARIF help and the docs.
pub(crate) const PRESIGNED_HELP: &str = "A presigned URL is committed to the repository. It holds the access key ID that signed it (and, for temporary credentials, a session token) but no secret access key: it grants the one request it names, to anyone who has it, until it expires.\n\
1. If it has not expired, and the object is private, treat it as exposed: for temporary credentials revoke the role's active sessions; for a long-term key deactivate the key, which ends every URL it signed.\n\
2. Replace the link with one generated when needed, with a short expiry, and keep generated links out of committed docs and notebook outputs.\n\
It is reported apart from leaked keys and never verified: there is no secret to sign with.";
