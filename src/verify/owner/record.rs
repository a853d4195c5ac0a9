//! What an owner lookup learned about one key ID: the `owner` object of the
//! JSON report.
//!
//! Every field that could not be learned is absent rather than guessed, and
//! the [`OwnerState`] says how far the lookup got. A state other than
//! `found`, `not_found`, `temporary`, `not_yours` or `canary` is no verdict
//! about the key: `error` says what went wrong.

use super::KeyId;
use serde::{Deserialize, Serialize};

/// One key ID's owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRecord {
    pub key_id: KeyId,
    pub state: OwnerState,
    /// The 12-digit AWS account the key belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Where `account` came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_source: Option<AccountSource>,
    /// The account's name in the operator's Organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// The IAM user the key belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_status: Option<KeyStatus>,
    /// When the key was created, as IAM gives it (ISO 8601, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When, where and with what service the key was last used; `date`
    /// absent inside it means IAM has no record of any use. Absent
    /// altogether: not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<LastUsed>,
    /// Whether the user has administrator rights (AdministratorAccess, or a
    /// policy allowing `*` on `*`); absent when the policies could not all be
    /// read and none of those read grants them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    /// The user's policies: attached and inline, its own and its groups'.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyRef>,
    /// Why the lookup stopped short (or, for a found key, what part could not
    /// be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How far a lookup got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerState {
    /// The key exists in an account the operator reaches; the details are
    /// filled in.
    Found,
    /// The account is reachable and its users hold no such key: deleted, or
    /// never issued.
    NotFound,
    /// Temporary (`ASIA…`) or service credentials of one of the operator's
    /// accounts: IAM keeps no record of them; CloudTrail does.
    Temporary,
    /// The account is neither the operator's nor a member of its
    /// Organization: someone else's key, or an account nobody told you about.
    NotYours,
    /// The account is a known canary-token account: a tripwire, planted to
    /// catch whoever uses it. Nothing was asked about it.
    Canary,
    /// The account is the operator's (a member of its Organization) but could
    /// not be entered: no role name given, or assuming it failed.
    Unreachable,
    /// Could not look the key up; `error` says why. No verdict.
    Error,
}

impl OwnerState {
    /// True for the states that say something about the key (and may be
    /// cached); false for `unreachable` and `error`.
    pub fn is_verdict(self) -> bool {
        !matches!(self, OwnerState::Unreachable | OwnerState::Error)
    }
}

/// Where the account of a key ID came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSource {
    /// Decoded offline from the key ID.
    KeyId,
    /// `sts:GetAccessKeyInfo` (old `AKIAI…`/`AKIAJ…` IDs encode no account).
    GetAccessKeyInfo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// IAM's record of a key's last use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastUsed {
    /// ISO 8601, UTC; absent: never used (IAM records uses since April 2015).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The service of the last request (`s3`, `ec2`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The region of the last request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl LastUsed {
    pub fn never(&self) -> bool {
        self.date.is_none()
    }
}

/// One policy that applies to the key's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    pub name: String,
    pub kind: PolicyKind,
    /// The group it comes through; absent for the user's own policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The managed policy's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Whether this policy grants administrator rights; absent when its
    /// document was not read (AWS managed policies other than
    /// AdministratorAccess are judged by name only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// A managed policy (AWS's or the account's own), attached.
    Managed,
    /// An inline policy, embedded in the user or group.
    Inline,
}

impl OwnerRecord {
    /// Found in one of the operator's accounts, and `Active`.
    pub fn is_active(&self) -> bool {
        self.state == OwnerState::Found && self.key_status == Some(KeyStatus::Active)
    }

    /// Active, and its user has administrator rights.
    pub fn is_active_admin(&self) -> bool {
        self.is_active() && self.admin == Some(true)
    }

    /// A record with only the key ID and state; the engine fills in the rest.
    pub fn new(key_id: KeyId, state: OwnerState) -> OwnerRecord {
        OwnerRecord {
            key_id,
            state,
            account: None,
            account_source: None,
            account_name: None,
            user: None,
            key_status: None,
            created: None,
            last_used: None,
            admin: None,
            policies: Vec::new(),
            error: None,
        }
    }
}

/// Longest free text kept from a record read back from a report (names,
/// reasons), in bytes; AWS's own limits are far below it.
const MAX_TEXT: usize = 1024;
/// Most policies kept from a record read back from a report.
const MAX_POLICIES: usize = 1000;

/// An ISO 8601 timestamp as IAM gives it (`2026-11-30T23:46:11.016536Z`):
/// digits first, then only digits and `-:.TZ+` and spaces. Anything else is
/// not passed on.
pub(crate) fn is_timestamp(s: &str) -> bool {
    s.len() <= 40
        && s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b"-:.TZ+ ".contains(&b))
}

fn cap_text(s: &mut String) {
    if s.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

impl OwnerRecord {
    /// A record read back from a report (untrusted input), checked: the
    /// account is 12 digits, dates are timestamps, policy ARNs are ARNs;
    /// free text (names, reasons) is cut to a bounded length. Reporters
    /// escape it like any scanned text.
    pub fn checked(mut self) -> Result<OwnerRecord, String> {
        if let Some(a) = &self.account {
            if !crate::finding::is_account_id(a) {
                return Err("owner.account is not a 12-digit account ID".into());
            }
        }
        if let Some(c) = &self.created {
            if !is_timestamp(c) {
                return Err("owner.created is not a timestamp".into());
            }
        }
        if let Some(d) = self.last_used.as_ref().and_then(|u| u.date.as_ref()) {
            if !is_timestamp(d) {
                return Err("owner.last_used.date is not a timestamp".into());
            }
        }
        self.policies.truncate(MAX_POLICIES);
        for p in &mut self.policies {
            if let Some(arn) = &p.arn {
                // AWS managed policies name `aws` as their account, which
                // `Arn::parse` (made for principals) refuses.
                let as_principal = arn.replacen("::aws:policy/", "::000000000000:policy/", 1);
                if crate::finding::Arn::parse(&as_principal).is_none() {
                    return Err("owner.policies[].arn is not an ARN".into());
                }
            }
            cap_text(&mut p.name);
            if let Some(g) = &mut p.group {
                cap_text(g);
            }
        }
        for text in [&mut self.account_name, &mut self.user, &mut self.error]
            .into_iter()
            .flatten()
        {
            cap_text(text);
        }
        if let Some(u) = &mut self.last_used {
            for text in [&mut u.service, &mut u.region].into_iter().flatten() {
                cap_text(text);
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_are_checked() {
        let key = KeyId::parse("AKIA2IJB4LAJLJ6HDU6G").expect("key ID");
        let mut r = OwnerRecord::new(key, OwnerState::Found);
        r.user = Some("x".repeat(5000));
        r.created = Some("2026-11-30T23:46:11Z".into());
        let ok = r.clone().checked().expect("valid");
        assert_eq!(ok.user.as_deref().map(str::len), Some(MAX_TEXT));
        for bad in [
            OwnerRecord {
                account: Some("12".into()),
                ..r.clone()
            },
            OwnerRecord {
                created: Some("\u{1b}[2J".into()),
                ..r.clone()
            },
            OwnerRecord {
                last_used: Some(LastUsed {
                    date: Some("yesterday".into()),
                    service: None,
                    region: None,
                }),
                ..r.clone()
            },
            OwnerRecord {
                policies: vec![PolicyRef {
                    name: "p".into(),
                    kind: PolicyKind::Managed,
                    group: None,
                    arn: Some("javascript:alert(1)".into()),
                    admin: None,
                }],
                ..r.clone()
            },
        ] {
            assert!(bad.checked().is_err());
        }
    }

    #[test]
    fn active_admin_needs_found_active_and_admin() {
        let key = KeyId::parse("AKIA2IJB4LAJLJ6HDU6G").expect("key ID");
        let mut r = OwnerRecord::new(key, OwnerState::Found);
        r.key_status = Some(KeyStatus::Active);
        assert!(r.is_active() && !r.is_active_admin());
        r.admin = Some(true);
        assert!(r.is_active_admin());
        r.key_status = Some(KeyStatus::Inactive);
        assert!(!r.is_active() && !r.is_active_admin());
    }

    #[test]
    fn json_shape_is_snake_case_and_omits_the_unknown() {
        let mut r = OwnerRecord::new(
            KeyId::parse("AKIA2IJB4LAJLJ6HDU6G").expect("key ID"),
            OwnerState::NotYours,
        );
        r.account = Some("210987654321".into());
        r.account_source = Some(AccountSource::KeyId);
        let v = serde_json::to_value(&r).expect("serialize");
        assert_eq!(
            v,
            serde_json::json!({
                "key_id": "AKIA2IJB4LAJLJ6HDU6G",
                "state": "not_yours",
                "account": "210987654321",
                "account_source": "key_id",
            })
        );
        let back: OwnerRecord = serde_json::from_value(v).expect("deserialize");
        assert_eq!(back, r);
    }

    #[test]
    fn the_documented_example_is_a_record() {
        let doc = include_str!("../../../docs/owner-lookup.md");
        let example = doc
            .split("For example")
            .nth(1)
            .and_then(|rest| rest.split("```json").nth(1))
            .and_then(|block| block.split("```").next())
            .expect("docs/owner-lookup.md has the example");
        let r: OwnerRecord = serde_json::from_str(example).expect("the example parses");
        assert_eq!(r.state, OwnerState::Found);
        assert_eq!(r.key_status, Some(KeyStatus::Active));
        assert_eq!(r.policies[1].group.as_deref(), Some("deployers"));
        let again = serde_json::to_value(&r).expect("serialize");
        let original: serde_json::Value = serde_json::from_str(example).expect("JSON");
        assert_eq!(
            again, original,
            "nothing in the example is dropped or renamed"
        );
    }

    #[test]
    fn only_unreachable_and_error_are_not_verdicts() {
        assert!(OwnerState::Found.is_verdict());
        assert!(OwnerState::NotYours.is_verdict());
        assert!(!OwnerState::Unreachable.is_verdict());
        assert!(!OwnerState::Error.is_verdict());
    }
}
