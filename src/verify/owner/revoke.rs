//! Revocation: which found keys to deactivate, and what was done.
//!
//! A plan is made from owner records alone, before any request: only keys
//! found in an account the operator allowed are taken, and every other key
//! is refused with its reason (someone else's key, a canary, a temporary
//! credential, a key already gone, an account not allowed). Applying a plan
//! (`OwnerLookup::revoke`) sets `Status=Inactive` with
//! `iam:UpdateAccessKey`: reversible, never a deletion. A key found already
//! inactive is left alone, so applying a plan twice changes nothing the
//! second time; the report gives, for every key deactivated, the shell
//! command that turns it back on.

use super::{KeyId, KeyStatus, OwnerRecord, OwnerState};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Which accounts a revocation may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountScope {
    /// Only these 12-digit accounts.
    Only(BTreeSet<String>),
    /// Any account the operator reaches (its own and its Organization's).
    AllReachable,
}

impl AccountScope {
    fn allows(&self, account: &str) -> bool {
        match self {
            AccountScope::Only(set) => set.contains(account),
            AccountScope::AllReachable => true,
        }
    }
}

/// What revocation will do, decided before any request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevokePlan {
    /// Keys to deactivate (or found inactive already), in the order asked.
    pub steps: Vec<RevokeStep>,
    /// Keys that will not be touched, with the reason.
    pub refused: Vec<Refusal>,
}

/// One key to deactivate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokeStep {
    pub key_id: KeyId,
    pub account: String,
    pub account_name: Option<String>,
    pub user: String,
    /// The status the lookup saw; the engine checks again before acting.
    pub status: KeyStatus,
}

impl RevokeStep {
    /// The AWS CLI command that does the same, shell-quoted (to show the
    /// plan before confirmation).
    pub fn command(&self) -> String {
        update_command(&self.user, &self.key_id, KeyStatus::Inactive)
    }
}

/// A key the plan will not touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub key_id: KeyId,
    pub reason: String,
}

/// What applying a plan did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevokeReport {
    pub outcomes: Vec<RevokeOutcome>,
    /// To undo: one command per key deactivated by this run.
    pub undo: Vec<UndoCommand>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokeOutcome {
    pub key_id: KeyId,
    pub account: String,
    pub user: String,
    pub result: RevokeResult,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeResult {
    /// Was active; now inactive.
    Deactivated,
    /// Was inactive already; nothing sent to change it.
    AlreadyInactive,
    /// Dry run: would be deactivated.
    WouldDeactivate,
    /// Not done; the reason. The key's status is unknown.
    Failed(String),
}

/// A command that reverses one deactivation, run with credentials for
/// `account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoCommand {
    pub account: String,
    pub command: String,
}

impl UndoCommand {
    /// The command that sets `key_id` of `user` back to Active.
    pub fn reactivate(account: &str, user: &str, key_id: &KeyId) -> UndoCommand {
        UndoCommand {
            account: account.to_string(),
            command: update_command(user, key_id, KeyStatus::Active),
        }
    }
}

fn update_command(user: &str, key_id: &KeyId, status: KeyStatus) -> String {
    format!(
        "aws iam update-access-key --user-name {} --access-key-id {} --status {}",
        shell_quote(user),
        shell_quote(key_id.as_str()),
        status.as_str()
    )
}

/// Quotes `s` for a POSIX shell: unchanged when made only of characters no
/// shell treats specially, else in single quotes (a `'` inside becomes
/// `'\''`).
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./=:@+%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Decides, from owner records, what revoking `wanted` will do. Keys are
/// taken once each, in the order given.
pub fn plan_revocation(
    records: &[OwnerRecord],
    wanted: &[KeyId],
    scope: &AccountScope,
) -> RevokePlan {
    let by_key: HashMap<&KeyId, &OwnerRecord> = records.iter().map(|r| (&r.key_id, r)).collect();
    let mut seen = HashSet::new();
    let mut plan = RevokePlan::default();
    for key in wanted {
        if !seen.insert(key) {
            continue;
        }
        let refuse = |reason: String| Refusal {
            key_id: key.clone(),
            reason,
        };
        let Some(r) = by_key.get(key) else {
            plan.refused.push(refuse("not looked up".into()));
            continue;
        };
        let account = r.account.clone().unwrap_or_default();
        let why_not = match r.state {
            OwnerState::Found => None,
            OwnerState::NotFound => Some(format!(
                "the key no longer exists in account {account} (deleted, or never issued)"
            )),
            OwnerState::Temporary => Some(
                "temporary credentials cannot be deactivated: they expire, or revoke the \
                 sessions of the role that issued them"
                    .into(),
            ),
            OwnerState::NotYours => Some(format!(
                "account {account} is not one of yours: only its owner can deactivate the key"
            )),
            OwnerState::Canary => Some(format!(
                "account {account} is a canary-token account: the key is a tripwire, not yours"
            )),
            OwnerState::Unreachable | OwnerState::Error => Some(format!(
                "could not look the key up: {}",
                r.error.as_deref().unwrap_or("no reason given")
            )),
        };
        if let Some(reason) = why_not {
            plan.refused.push(refuse(reason));
            continue;
        }
        let (Some(user), Some(status)) = (r.user.clone(), r.key_status) else {
            plan.refused.push(refuse(
                "IAM named no user or status for this key (a root user key?): deactivate it \
                 signed in as the account's root user"
                    .into(),
            ));
            continue;
        };
        if !scope.allows(&account) {
            plan.refused.push(refuse(format!(
                "account {account} is not among the accounts you allowed"
            )));
            continue;
        }
        plan.steps.push(RevokeStep {
            key_id: key.clone(),
            account,
            account_name: r.account_name.clone(),
            user,
            status,
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> KeyId {
        KeyId::parse(s).expect("key ID")
    }

    fn found(k: &str, account: &str, user: &str, status: KeyStatus) -> OwnerRecord {
        let mut r = OwnerRecord::new(key(k), OwnerState::Found);
        r.account = Some(account.into());
        r.user = Some(user.into());
        r.key_status = Some(status);
        r
    }

    #[test]
    fn quotes_only_what_a_shell_would_misread() {
        assert_eq!(shell_quote("ci-deploy"), "ci-deploy");
        assert_eq!(shell_quote("a.b@c+d=e"), "a.b@c+d=e");
        assert_eq!(shell_quote("two words"), "'two words'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(shell_quote("a,b"), "'a,b'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn plans_found_keys_in_allowed_accounts_and_refuses_the_rest() {
        let records = vec![
            found(
                "AKIA2IJB4LAJLJ6HDU6G",
                "111111111111",
                "ci",
                KeyStatus::Active,
            ),
            found(
                "AKIADPMRCG4BE4UMR46P",
                "222222222222",
                "ops",
                KeyStatus::Active,
            ),
            found(
                "AKIAQYLPMN5HHHFPZAM2",
                "111111111111",
                "old",
                KeyStatus::Inactive,
            ),
            {
                let mut r = OwnerRecord::new(key("AKIATCH6YDSY5CNM3OSG"), OwnerState::NotYours);
                r.account = Some("210987654321".into());
                r
            },
            {
                let mut r = OwnerRecord::new(key("AKIA5IVUPVAL2KSBWV7G"), OwnerState::Error);
                r.error = Some("HTTP 503".into());
                r
            },
        ];
        let wanted: Vec<KeyId> = [
            "AKIA2IJB4LAJLJ6HDU6G",
            "AKIADPMRCG4BE4UMR46P",
            "AKIAQYLPMN5HHHFPZAM2",
            "AKIATCH6YDSY5CNM3OSG",
            "AKIA5IVUPVAL2KSBWV7G",
            "AKIA2IJB4LAJLJ6HDU6G", // asked twice: planned once
            "AKIASP2TPHJSQH3FJRUX", // never looked up
        ]
        .iter()
        .map(|k| key(k))
        .collect();
        let scope = AccountScope::Only(["111111111111".to_string()].into());
        let plan = plan_revocation(&records, &wanted, &scope);
        let steps: Vec<(&str, KeyStatus)> = plan
            .steps
            .iter()
            .map(|s| (s.key_id.as_str(), s.status))
            .collect();
        assert_eq!(
            steps,
            [
                ("AKIA2IJB4LAJLJ6HDU6G", KeyStatus::Active),
                ("AKIAQYLPMN5HHHFPZAM2", KeyStatus::Inactive)
            ]
        );
        let refused: Vec<(&str, &str)> = plan
            .refused
            .iter()
            .map(|r| (r.key_id.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(refused.len(), 4, "{refused:?}");
        assert!(refused[0]
            .1
            .contains("222222222222 is not among the accounts you allowed"));
        assert!(refused[1].1.contains("210987654321 is not one of yours"));
        assert!(refused[2].1.contains("could not look the key up: HTTP 503"));
        assert_eq!(refused[3], ("AKIASP2TPHJSQH3FJRUX", "not looked up"));

        let all = plan_revocation(&records, &wanted, &AccountScope::AllReachable);
        assert_eq!(all.steps.len(), 3);
    }

    #[test]
    fn commands_are_ready_to_paste() {
        let step = RevokeStep {
            key_id: key("AKIA2IJB4LAJLJ6HDU6G"),
            account: "111111111111".into(),
            account_name: None,
            user: "deploy bot".into(),
            status: KeyStatus::Active,
        };
        assert_eq!(
            step.command(),
            "aws iam update-access-key --user-name 'deploy bot' --access-key-id AKIA2IJB4LAJLJ6HDU6G --status Inactive"
        );
        let undo = UndoCommand::reactivate("111111111111", "deploy bot", &step.key_id);
        assert_eq!(
            undo.command,
            "aws iam update-access-key --user-name 'deploy bot' --access-key-id AKIA2IJB4LAJLJ6HDU6G --status Active"
        );
    }
}
