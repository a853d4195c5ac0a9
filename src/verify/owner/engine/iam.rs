//! What IAM is asked in an account: a user's keys, every key of the
//! account (to tell a deleted key from a denied call), and the user's and
//! its groups' policies, each read once per run.

use super::super::client::{cap, CallError};
use super::super::policy::{
    decode_document, grants_everything, is_administrator_access, is_aws_managed,
};
use super::super::xml::Node;
use super::super::{KeyStatus, PolicyKind, PolicyRef};
use super::{timestamp, Engine, Policies, UserKeys, IAM_VERSION, MAX_PAGES};
use aws_credential_types::Credentials;
use std::collections::HashSet;

impl Engine {
    pub(super) async fn iam_call(
        &self,
        creds: &Credentials,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Node, CallError> {
        self.http
            .query(&self.iam, creds, action, IAM_VERSION, params)
            .await
    }

    /// Every page of an IAM listing: the members of `list` in
    /// `<Action>Result`.
    pub(super) async fn iam_list(
        &self,
        creds: &Credentials,
        action: &str,
        params: &[(&str, &str)],
        list: &str,
    ) -> Result<Vec<Node>, CallError> {
        let result = format!("{action}Result");
        let mut items = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut p: Vec<(&str, &str)> = params.to_vec();
            p.push(("MaxItems", "1000"));
            if let Some(m) = &marker {
                p.push(("Marker", m));
            }
            let page = self.iam_call(creds, action, &p).await?;
            items.extend(page.members(&[&result, list]).cloned());
            let truncated = page.text_at(&[&result, "IsTruncated"]).as_deref() == Some("true");
            marker = page.text_at(&[&result, "Marker"]).filter(|_| truncated);
            if marker.is_none() {
                break;
            }
        }
        Ok(items)
    }

    pub(super) async fn list_user_keys(
        &self,
        creds: &Credentials,
        user: &str,
    ) -> Result<UserKeys, String> {
        let items = self
            .iam_list(
                creds,
                "ListAccessKeys",
                &[("UserName", user)],
                "AccessKeyMetadata",
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(items
            .iter()
            .filter_map(|m| {
                let id = m.text_at(&["AccessKeyId"])?;
                let status = match m.text_at(&["Status"]).as_deref() {
                    Some("Active") => Some(KeyStatus::Active),
                    Some("Inactive") => Some(KeyStatus::Inactive),
                    _ => None,
                };
                Some((id, (status, m.text_at(&["CreateDate"]).and_then(timestamp))))
            })
            .collect())
    }

    /// Every access key ID of every user in the account.
    pub(super) async fn list_account_keys(
        &self,
        creds: &Credentials,
    ) -> Result<HashSet<String>, String> {
        let users = self
            .iam_list(creds, "ListUsers", &[], "Users")
            .await
            .map_err(|e| format!("iam:ListUsers failed: {e}"))?;
        let mut keys = HashSet::new();
        for u in users {
            let Some(name) = u.text_at(&["UserName"]) else {
                continue;
            };
            let items = self
                .iam_list(
                    creds,
                    "ListAccessKeys",
                    &[("UserName", &name)],
                    "AccessKeyMetadata",
                )
                .await
                .map_err(|e| format!("iam:ListAccessKeys failed for {name}: {e}"))?;
            keys.extend(items.iter().filter_map(|m| m.text_at(&["AccessKeyId"])));
        }
        Ok(keys)
    }

    pub(super) async fn policies_of_user(
        &self,
        account: &str,
        creds: &Credentials,
        user: &str,
    ) -> Policies {
        let mut out = self.policies_of(account, creds, "User", user, None).await;
        match self
            .iam_list(creds, "ListGroupsForUser", &[("UserName", user)], "Groups")
            .await
        {
            Ok(groups) => {
                for g in groups {
                    let Some(group) = g.text_at(&["GroupName"]) else {
                        continue;
                    };
                    let p = self
                        .group_policies
                        .get((account.to_string(), group.clone()), || {
                            self.policies_of(account, creds, "Group", &group, Some(&group))
                        })
                        .await;
                    out.refs.extend(p.refs);
                    out.problems.extend(p.problems);
                }
            }
            Err(e) => out.problems.push(format!(
                "groups not read: iam:ListGroupsForUser failed: {e}"
            )),
        }
        out
    }

    /// Attached and inline policies of a user or group (`kind` is `User` or
    /// `Group`, as in the IAM action names).
    pub(super) async fn policies_of(
        &self,
        account: &str,
        creds: &Credentials,
        kind: &str,
        name: &str,
        group: Option<&str>,
    ) -> Policies {
        let name_param = if kind == "User" {
            "UserName"
        } else {
            "GroupName"
        };
        let mut out = Policies::default();
        let attached_action = format!("ListAttached{kind}Policies");
        match self
            .iam_list(
                creds,
                &attached_action,
                &[(name_param, name)],
                "AttachedPolicies",
            )
            .await
        {
            Ok(items) => {
                for m in items {
                    let (Some(policy), Some(arn)) =
                        (m.text_at(&["PolicyName"]), m.text_at(&["PolicyArn"]))
                    else {
                        continue;
                    };
                    let admin = if is_administrator_access(&arn) {
                        Some(true)
                    } else if is_aws_managed(&arn) {
                        Some(false)
                    } else {
                        let verdict = self
                            .managed_admin
                            .get((account.to_string(), arn.clone()), || {
                                self.managed_policy_is_admin(creds, &arn)
                            })
                            .await;
                        match verdict {
                            Ok(v) => Some(v),
                            Err(e) => {
                                out.problems.push(format!("policy {policy} not read: {e}"));
                                None
                            }
                        }
                    };
                    out.refs.push(PolicyRef {
                        name: cap(&policy, 128),
                        kind: PolicyKind::Managed,
                        group: group.map(str::to_string),
                        arn: Some(cap(&arn, 2048)),
                        admin,
                    });
                }
            }
            Err(e) => out.problems.push(format!(
                "attached policies not read: iam:{attached_action} failed: {e}"
            )),
        }
        let inline_action = format!("List{kind}Policies");
        match self
            .iam_list(creds, &inline_action, &[(name_param, name)], "PolicyNames")
            .await
        {
            Ok(items) => {
                for m in items {
                    let policy = m.text.trim().to_string();
                    if policy.is_empty() {
                        continue;
                    }
                    let get = format!("Get{kind}Policy");
                    let answer = self
                        .iam_call(creds, &get, &[(name_param, name), ("PolicyName", &policy)])
                        .await;
                    let admin = match answer {
                        Ok(doc) => {
                            let text = doc.text_at(&[&format!("{get}Result"), "PolicyDocument"]);
                            let verdict =
                                text.and_then(|d| grants_everything(&decode_document(&d)).ok());
                            if verdict.is_none() {
                                out.problems.push(format!(
                                    "inline policy {policy} is not a readable document"
                                ));
                            }
                            verdict
                        }
                        Err(e) => {
                            out.problems
                                .push(format!("inline policy {policy} not read: {e}"));
                            None
                        }
                    };
                    out.refs.push(PolicyRef {
                        name: cap(&policy, 128),
                        kind: PolicyKind::Inline,
                        group: group.map(str::to_string),
                        arn: None,
                        admin,
                    });
                }
            }
            Err(e) => out.problems.push(format!(
                "inline policies not read: iam:{inline_action} failed: {e}"
            )),
        }
        out
    }

    pub(super) async fn managed_policy_is_admin(
        &self,
        creds: &Credentials,
        arn: &str,
    ) -> Result<bool, String> {
        let policy = self
            .iam_call(creds, "GetPolicy", &[("PolicyArn", arn)])
            .await
            .map_err(|e| format!("iam:GetPolicy failed: {e}"))?;
        let version = policy
            .text_at(&["GetPolicyResult", "Policy", "DefaultVersionId"])
            .ok_or("iam:GetPolicy named no default version")?;
        let doc = self
            .iam_call(
                creds,
                "GetPolicyVersion",
                &[("PolicyArn", arn), ("VersionId", &version)],
            )
            .await
            .map_err(|e| format!("iam:GetPolicyVersion failed: {e}"))?;
        let text = doc
            .text_at(&["GetPolicyVersionResult", "PolicyVersion", "Document"])
            .ok_or("iam:GetPolicyVersion returned no document")?;
        grants_everything(&decode_document(&text)).map_err(|e| e.to_string())
    }
}
