//! The words every report shares: rule ids and titles, severities, status
//! labels, the one-line description of a finding, how places are named, and
//! the order of urgency. One place, so the formats never disagree.

use super::Style;
use crate::finding::{Credential, Finding, Presigned, Signing, Verdict};
use crate::verify::owner::{OwnerRecord, OwnerState};

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

/// How urgent a finding is; lower is more urgent. Active administrator
/// keys first (owner lookup), then live or active keys, then keys of
/// accounts that are not the operator's, then the rest; within each, pairs
/// (usable as found), then lone secrets and tokens, then lone key IDs, then
/// presigned URLs.
pub(crate) fn urgency(f: &Finding) -> (u8, u8) {
    let rule = match Rule::of(&f.credential) {
        Rule::Pair => 0,
        Rule::Secret | Rule::SessionToken => 1,
        Rule::KeyId => 2,
        Rule::PresignedUrl => 3,
    };
    let tier = if active_admin(f) {
        0
    } else if f.is_live() || active(f) {
        1
    } else if f
        .owner
        .as_deref()
        .is_some_and(|o| o.state == OwnerState::NotYours)
    {
        2
    } else {
        3
    };
    (tier, rule)
}

/// The owner lookup says the finding's key is Active. A presigned URL is
/// not: it grants the one request it names, whatever its key can do.
pub(crate) fn active(f: &Finding) -> bool {
    f.is_active() && Rule::of(&f.credential) != Rule::PresignedUrl
}

/// Active, and its user is an administrator (presigned URLs aside, as for
/// [`active`]): the most severe finding there is.
pub(crate) fn active_admin(f: &Finding) -> bool {
    f.is_active_admin() && Rule::of(&f.credential) != Rule::PresignedUrl
}

/// Whether a finding is an error (must be acted on) or a warning: live or
/// active keys, and pairs.
pub(crate) fn is_error(f: &Finding) -> bool {
    f.is_live() || active(f) || Rule::of(&f.credential) == Rule::Pair
}

/// The SARIF level of a finding: errors, presigned URLs as notes, the
/// rest as warnings.
pub(crate) fn level(f: &Finding) -> &'static str {
    if is_error(f) {
        "error"
    } else if Rule::of(&f.credential) == Rule::PresignedUrl {
        "note"
    } else {
        "warning"
    }
}

/// GitHub code scanning's `security-severity` of one finding: its rule's,
/// raised to the top for an active key whose user is an administrator.
pub(crate) fn security_severity(f: &Finding) -> &'static str {
    if active_admin(f) {
        "10.0"
    } else {
        Rule::of(&f.credential).security_severity()
    }
}

/// The owner lookup's state in a word or two, for tables and filters.
pub(crate) fn owner_label(o: &OwnerRecord) -> &'static str {
    match o.state {
        OwnerState::Found if o.is_active() => "active",
        OwnerState::Found => match o.key_status {
            Some(crate::verify::owner::KeyStatus::Inactive) => "inactive",
            _ => "found",
        },
        OwnerState::NotFound => "deleted",
        OwnerState::Temporary => "temporary",
        OwnerState::NotYours => "not yours",
        OwnerState::Canary => "canary",
        OwnerState::Unreachable => "unreachable",
        OwnerState::Error => "lookup failed",
    }
}

/// `prod (123456789012)`, or the account alone; cleaned.
fn account_text(o: &OwnerRecord, style: &Style) -> String {
    let account = style.clean(o.account.as_deref().unwrap_or("?"));
    match &o.account_name {
        Some(name) => format!("{} ({account})", style.clean(name)),
        None => account,
    }
}

/// The first ten characters of a timestamp (its day), as days since
/// 1970-01-01 when they are a date.
fn day_number(date: &str) -> Option<i64> {
    let day: String = date.chars().take(10).collect();
    let mut parts = day.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    ((1..=12).contains(&m) && (1..=31).contains(&d))
        .then(|| crate::calendar::days_from_civil(y, m, d))
}

/// `2026-01-01`, and `(2 days ago)` when the style knows today's date.
fn day_text(date: &str, style: &Style) -> String {
    let day: String = date.chars().take(10).collect();
    let day = style.clean(&day);
    let ago = match (style.today, day_number(date)) {
        (Some(today), Some(then)) if today >= then => match today - then {
            0 => " (today)".to_string(),
            1 => " (yesterday)".to_string(),
            n => format!(" ({n} days ago)"),
        },
        _ => String::new(),
    };
    format!("{day}{ago}")
}

/// When the key was created and last used (`created 2024-03-02 · last used
/// 2026-01-01 by s3 in eu-west-1`), for tables that show the user, account
/// and status in columns of their own; cleaned.
pub(crate) fn owner_dates(o: &OwnerRecord, style: &Style) -> String {
    date_parts(o, style).join(" · ")
}

/// `created …` and `last used … by … in …` (or `never used`), as known.
fn date_parts(o: &OwnerRecord, style: &Style) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(c) = &o.created {
        parts.push(format!("created {}", day_text(c, style)));
    }
    if let Some(u) = &o.last_used {
        parts.push(match &u.date {
            None => "never used".to_string(),
            Some(d) => {
                let mut t = format!("last used {}", day_text(d, style));
                if let Some(svc) = &u.service {
                    t.push_str(&format!(" by {}", style.clean(svc)));
                }
                if let Some(r) = &u.region {
                    t.push_str(&format!(" in {}", style.clean(r)));
                }
                t
            }
        });
    }
    parts
}

/// What the owner lookup says about a key, in one line, every name AWS
/// gave cleaned for the style's medium: `owned by ci-deploy in prod
/// (123456789012), Active, created 2024-03-02, last used 2026-01-01 (2 days
/// ago) by s3 in eu-west-1, AdministratorAccess`.
pub(crate) fn owner_text(o: &OwnerRecord, style: &Style) -> String {
    let account = account_text(o, style);
    let why = |e: &Option<String>| style.clean(e.as_deref().unwrap_or("no reason given"));
    match o.state {
        OwnerState::Found => {
            let mut parts = vec![match &o.user {
                Some(u) => format!("owned by {} in {account}", style.clean(u)),
                None => format!("in {account} (IAM named no user: a root user key?)"),
            }];
            if let Some(s) = o.key_status {
                parts.push(s.as_str().to_string());
            }
            parts.extend(date_parts(o, style));
            parts.push(match o.admin {
                Some(true) => {
                    let names: Vec<String> = o
                        .policies
                        .iter()
                        .filter(|p| p.admin == Some(true))
                        .map(|p| style.clean(&p.name))
                        .collect();
                    if names.is_empty() {
                        "administrator".to_string()
                    } else {
                        format!("administrator ({})", names.join(", "))
                    }
                }
                Some(false) => "not an administrator".to_string(),
                None => "administrator rights unknown".to_string(),
            });
            let mut t = parts.join(", ");
            if o.error.is_some() {
                t.push_str(&format!(" (partly: {})", why(&o.error)));
            }
            t
        }
        OwnerState::NotFound => {
            format!("no longer exists in {account} (deleted, or never issued)")
        }
        OwnerState::Temporary => format!(
            "temporary credentials of {account}: IAM keeps no record of them (CloudTrail does)"
        ),
        OwnerState::NotYours => format!(
            "account {account} is NOT one of yours: someone else's key, or an account you did not know you had"
        ),
        OwnerState::Canary => {
            format!("account {account} is a canary-token account: a tripwire, not yours")
        }
        OwnerState::Unreachable => format!(
            "account {account} is yours but could not be entered: {}",
            why(&o.error)
        ),
        OwnerState::Error => format!("owner not looked up: {}", why(&o.error)),
    }
}

/// The findings with the most urgent tier first (active administrator
/// keys, live and active keys, keys not yours: [`urgency`]`.0`); within a
/// tier, canonical order. The order of the JSON reports: without owner
/// lookup or verification it is the canonical order itself.
pub(crate) fn by_tier(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by_key(|f| urgency(f).0);
    v
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
    if let Some(o) = &f.owner {
        text.push_str(" — ");
        text.push_str(&owner_text(o, style));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::term::Medium;

    #[test]
    fn the_owner_line_cleans_what_aws_said_and_counts_days() {
        let o = fixture::owner_found();
        let today = crate::calendar::days_from_civil(2026, 1, 3);
        let style = Style {
            today: Some(today),
            ..Style::default()
        };
        let text = owner_text(&o, &style);
        assert!(
            text.starts_with("owned by ci-deploy in prod <img/src=x onerror=alert(1)> "),
            "{text}"
        );
        assert!(
            !text.contains('\x1b') && !text.contains('\u{202e}'),
            "{text:?}"
        );
        assert!(
            text.ends_with(
                "(123456789012), Active, created 2024-03-02 (672 days ago), last used \
                 2026-01-01 (2 days ago) by s3 in eu-west-1, administrator (AdministratorAccess)"
            ),
            "{text}"
        );
        let ci = Style {
            medium: Medium::CiLog,
            ..Style::default()
        };
        assert!(!crate::term::runner_would_act(&owner_text(&o, &ci)));
        assert!(owner_text(&o, &Style::default()).contains("last used 2026-01-01 by s3"));
    }

    #[test]
    fn active_admin_keys_are_most_urgent() {
        let findings = fixture::findings();
        let ordered = by_urgency(&findings);
        assert!(active_admin(ordered[0]));
        let presigned = ordered
            .iter()
            .find(|f| f.credential.presigned.is_some())
            .expect("a presigned URL");
        assert!(presigned.is_active_admin() && !active_admin(presigned));
        assert_eq!(security_severity(presigned), "2.0", "a URL, not the key");
        assert_eq!(level(presigned), "note");
        assert_eq!(security_severity(ordered[0]), "10.0");
        assert_eq!(
            owner_label(ordered[0].owner.as_deref().expect("owner")),
            "active"
        );
        // Then the live key, then someone else's key.
        assert!(
            ordered.iter().position(|f| f.is_live())
                < ordered.iter().position(|f| {
                    f.owner
                        .as_deref()
                        .is_some_and(|o| o.state == OwnerState::NotYours)
                })
        );
    }
}
