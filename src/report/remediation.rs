//! What to do about a live key: the owner, read from the ARN STS returned,
//! and the exact commands that take the key out of service.
//!
//! A report that only says "live" leaves the reader to look up the IAM CLI
//! under pressure; the commands here are ready to paste, with every value
//! shell-quoted. Pure string work, shared by the reporters.

use crate::finding::{Arn, Finding, Verdict};
use crate::term::shell_quote;

/// Who a `GetCallerIdentity` ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    /// `arn:aws:iam::ACCOUNT:user/path/NAME`: a long-term key of an IAM user.
    User {
        account: String,
        path: String,
        name: String,
    },
    /// `arn:aws:iam::ACCOUNT:root`: a key of the account's root user.
    Root { account: String },
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`: temporary credentials.
    AssumedRole {
        account: String,
        role: String,
        session: String,
    },
    /// `arn:aws:sts::ACCOUNT:federated-user/NAME`: temporary credentials from
    /// `GetFederationToken`.
    FederatedUser { account: String, name: String },
    /// Any other ARN, kept whole.
    Other { arn: String },
}

impl Principal {
    /// Reads an ARN of any partition (`aws`, `aws-us-gov`, `aws-cn`, …).
    pub(crate) fn from_arn(arn: &Arn) -> Principal {
        let arn = arn.as_str();
        let other = || Principal::Other {
            arn: arn.to_string(),
        };
        // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (RESOURCE may hold ':')
        let mut parts = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(_partition),
            Some(service),
            Some(_region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return other();
        };
        let account = account.to_string();
        match (service, resource) {
            ("iam", "root") => Principal::Root { account },
            ("iam", r) if r.starts_with("user/") => {
                let full = &r["user/".len()..];
                match full.rsplit_once('/') {
                    Some((path, name)) if !name.is_empty() => Principal::User {
                        account,
                        path: format!("/{path}/"),
                        name: name.to_string(),
                    },
                    None if !full.is_empty() => Principal::User {
                        account,
                        path: "/".into(),
                        name: full.to_string(),
                    },
                    _ => other(),
                }
            }
            ("sts", r) if r.starts_with("assumed-role/") => {
                match r["assumed-role/".len()..].split_once('/') {
                    Some((role, session)) if !role.is_empty() => Principal::AssumedRole {
                        account,
                        role: role.to_string(),
                        session: session.to_string(),
                    },
                    _ => other(),
                }
            }
            ("sts", r) if r.starts_with("federated-user/") => Principal::FederatedUser {
                account,
                name: r["federated-user/".len()..].to_string(),
            },
            _ => other(),
        }
    }
}

/// The steps to take for a live key, one line each, or `None` when the
/// finding is not verified live (a dead key needs no revoking). Every value
/// put into a command is shell-quoted: names come from a server's answer.
pub fn remediation(f: &Finding) -> Option<Vec<String>> {
    let Some(Verdict::Live { arn, account, .. }) = &f.verdict else {
        return active_key_steps(f);
    };
    let key_id = f.credential.key_id().unwrap_or("(unknown key ID)");
    let quoted_key = shell_quote(key_id);
    let cloudtrail = format!(
        "review CloudTrail (event history, filter by Access key ID = {key_id}) for what the key did in account {account}"
    );
    let steps = match Principal::from_arn(arn) {
        Principal::User { name, .. } => {
            let user = shell_quote(&name);
            vec![
                format!("aws iam update-access-key --user-name {user} --access-key-id {quoted_key} --status Inactive"),
                format!("aws iam delete-access-key --user-name {user} --access-key-id {quoted_key}"),
                cloudtrail,
            ]
        }
        Principal::Root { account } => vec![
            format!(
                "this is a root user key of account {account}: sign in as root, open Security credentials, \
                 deactivate and delete access key {key_id}"
            ),
            cloudtrail,
        ],
        Principal::AssumedRole { role, session, .. } => vec![
            format!(
                "temporary session '{session}' of role {role}: it ends on its own when it expires; \
                 to end it now, revoke the role's active sessions (IAM console: Roles > {role} > \
                 Revoke active sessions)"
            ),
            format!("find who could assume {role} (its trust policy) and how these session credentials leaked"),
            cloudtrail,
        ],
        Principal::FederatedUser { name, .. } => vec![
            format!(
                "temporary federated session '{name}': it ends on its own when it expires; deactivate the \
                 IAM user key that called GetFederationToken to stop new ones"
            ),
            cloudtrail,
        ],
        Principal::Other { arn } => vec![format!("owner: {arn}; deactivate the key where it was issued"), cloudtrail],
    };
    Some(steps)
}

/// The steps for a key an owner lookup found Active in one of the
/// operator's accounts (a presigned URL aside: it grants one request).
fn active_key_steps(f: &Finding) -> Option<Vec<String>> {
    let o = f.owner.as_deref().filter(|o| o.is_active())?;
    if f.credential.presigned.is_some() {
        return None;
    }
    let user = shell_quote(o.user.as_deref()?);
    let account = o.account.as_deref().unwrap_or("(unknown account)");
    let key_id = o.key_id.as_str();
    Some(vec![
        format!(
            "in account {account}: aws iam update-access-key --user-name {user} --access-key-id {key_id} --status Inactive \
             (or keysweep revoke REPORT.json --fingerprint {})",
            f.fingerprint()
        ),
        format!("aws iam delete-access-key --user-name {user} --access-key-id {key_id}"),
        format!(
            "review CloudTrail (event history, filter by Access key ID = {key_id}) for what the key did in account {account}"
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Confidence, Credential, Location, Origin, Part, Position, ReportPath};

    fn live_finding(key_id: &str, arn: &str) -> Finding {
        let mut f = Finding::new(
            Credential {
                access_key_id: Some(Part {
                    value: key_id.into(),
                    position: Position::START,
                    encoding: None,
                }),
                secret_access_key: None,
                session_token: None,
                account_id: None,
                confidence: Confidence::High,
                member: None,
                presigned: None,
            },
            Location {
                repo: None,
                path: ReportPath::from("x"),
                origin: Origin::File,
            },
        );
        f.verdict = Some(Verdict::Live {
            arn: Arn::parse(arn).expect("an ARN"),
            account: "123456789012".into(),
            user_id: "AIDAEXAMPLE".into(),
        });
        f
    }

    fn principal(arn: &str) -> Principal {
        Principal::from_arn(&Arn::parse(arn).expect("an ARN"))
    }

    #[test]
    fn parses_user_arns_with_and_without_path() {
        assert_eq!(
            principal("arn:aws:iam::123456789012:user/deploy/ci/ci-deployer"),
            Principal::User {
                account: "123456789012".into(),
                path: "/deploy/ci/".into(),
                name: "ci-deployer".into()
            }
        );
        assert_eq!(
            principal("arn:aws-us-gov:iam::123456789012:user/bob"),
            Principal::User {
                account: "123456789012".into(),
                path: "/".into(),
                name: "bob".into()
            }
        );
    }

    #[test]
    fn parses_temporary_and_root_arns() {
        assert_eq!(
            principal("arn:aws:sts::123456789012:assumed-role/ci-deploy-role/keysweep-test"),
            Principal::AssumedRole {
                account: "123456789012".into(),
                role: "ci-deploy-role".into(),
                session: "keysweep-test".into()
            }
        );
        assert_eq!(
            principal("arn:aws:sts::123456789012:federated-user/alice"),
            Principal::FederatedUser {
                account: "123456789012".into(),
                name: "alice".into()
            }
        );
        assert_eq!(
            principal("arn:aws:iam::123456789012:root"),
            Principal::Root {
                account: "123456789012".into()
            }
        );
        for odd in [
            "arn:aws:iam::123456789012:user/",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:group/admins",
        ] {
            assert_eq!(
                principal(odd),
                Principal::Other { arn: odd.into() },
                "{odd}"
            );
        }
    }

    #[test]
    fn user_key_gets_deactivate_delete_and_cloudtrail() {
        let f = live_finding(
            "AKIARZPUZDIKCEUMK4LK",
            "arn:aws:iam::123456789012:user/deploy/ci-deployer",
        );
        let steps = remediation(&f).expect("live key has steps");
        assert_eq!(
            steps[0],
            "aws iam update-access-key --user-name ci-deployer --access-key-id AKIARZPUZDIKCEUMK4LK --status Inactive"
        );
        assert_eq!(steps[1], "aws iam delete-access-key --user-name ci-deployer --access-key-id AKIARZPUZDIKCEUMK4LK");
        assert!(steps[2].starts_with(
            "review CloudTrail (event history, filter by Access key ID = AKIARZPUZDIKCEUMK4LK)"
        ));
        assert!(steps[2].ends_with("in account 123456789012"));
    }

    #[test]
    fn assumed_role_is_called_temporary_and_named() {
        let f = live_finding(
            "ASIARZPUZDIKAAAAAAAB",
            "arn:aws:sts::123456789012:assumed-role/ci-deploy-role/keysweep-test",
        );
        let steps = remediation(&f).expect("live key has steps");
        assert!(
            steps[0].contains("temporary session 'keysweep-test' of role ci-deploy-role"),
            "{steps:?}"
        );
        assert!(
            steps.iter().all(|s| !s.contains("delete-access-key")),
            "no IAM key to delete: {steps:?}"
        );
        assert!(steps
            .last()
            .is_some_and(|s| s.starts_with("review CloudTrail")));
    }

    #[test]
    fn only_live_keys_get_steps() {
        let mut f = live_finding("AKIARZPUZDIKCEUMK4LK", "arn:aws:iam::123456789012:user/bob");
        for verdict in [
            Verdict::Invalid {
                code: "InvalidClientTokenId".into(),
            },
            Verdict::Expired,
            Verdict::Unverified {
                reason: "timeout".into(),
            },
            Verdict::Canary {
                account: "123456789012".into(),
                reason: "canary".into(),
            },
            Verdict::Skipped {
                reason: "no secret".into(),
            },
        ] {
            f.verdict = Some(verdict.clone());
            assert_eq!(remediation(&f), None, "{verdict:?}");
        }
        f.verdict = None;
        assert_eq!(remediation(&f), None);
    }

    #[test]
    fn names_from_the_server_are_shell_quoted() {
        // IAM user names may hold `+=,.@-_`; an ARN cannot hold quotes or
        // spaces (Arn::parse refuses them), but `$` and `;`-free names with
        // characters a shell reads specially must still be one word.
        let f = live_finding(
            "AKIARZPUZDIKCEUMK4LK",
            "arn:aws:iam::123456789012:user/ops/a$(id)b",
        );
        let steps = remediation(&f).expect("live key has steps");
        assert!(steps[0].contains("--user-name 'a$(id)b' "), "{steps:?}");
    }

    #[test]
    fn active_keys_get_steps_with_the_user_quoted_and_presigned_urls_none() {
        let findings = crate::report::fixture::findings();
        let pair = &findings[0];
        assert!(pair.verdict.is_none() && pair.is_active());
        let mut f = pair.clone();
        let mut owner = (*f.owner.clone().expect("owner")).clone();
        owner.user = Some("x'; rm -rf ~ #".into());
        f.owner = Some(std::sync::Arc::new(owner.clone()));
        let steps = remediation(&f).expect("an active key has steps");
        assert!(
            steps[0].starts_with(
                "in account 123456789012: aws iam update-access-key --user-name 'x'\\''; rm -rf ~ #' --access-key-id AKIA2IJB4LAJLJ6HDU6G --status Inactive"
            ),
            "{steps:?}"
        );
        assert!(steps[0].contains(&format!("--fingerprint {}", f.fingerprint())));
        let presigned = findings
            .iter()
            .find(|f| f.credential.presigned.is_some())
            .expect("a presigned URL");
        assert!(presigned.is_active());
        assert_eq!(remediation(presigned), None);
        owner.key_status = Some(crate::verify::owner::KeyStatus::Inactive);
        f.owner = Some(std::sync::Arc::new(owner));
        assert_eq!(remediation(&f), None, "an inactive key needs nothing");
    }
}
