//! Carrying out a revocation plan: check again, then deactivate.

use super::super::cache::now_unix;
use super::super::revoke::{RevokeOutcome, RevokePlan, RevokeReport, RevokeResult, UndoCommand};
use super::super::{KeyId, KeyStatus};
use super::{Engine, Org};
use std::sync::Arc;

pub(super) fn dry_run_report(plan: &RevokePlan) -> RevokeReport {
    let outcomes = plan
        .steps
        .iter()
        .map(|s| RevokeOutcome {
            key_id: s.key_id.clone(),
            account: s.account.clone(),
            user: s.user.clone(),
            result: match s.status {
                KeyStatus::Active => RevokeResult::WouldDeactivate,
                KeyStatus::Inactive => RevokeResult::AlreadyInactive,
            },
        })
        .collect();
    RevokeReport {
        outcomes,
        undo: Vec::new(),
    }
}

impl Engine {
    pub(super) async fn revoke(self: Arc<Self>, plan: &RevokePlan) -> RevokeReport {
        let mut report = RevokeReport::default();
        for step in &plan.steps {
            let result = self
                .deactivate(&step.account, &step.user, &step.key_id)
                .await;
            if result == RevokeResult::Deactivated {
                report.undo.push(UndoCommand::reactivate(
                    &step.account,
                    &step.user,
                    &step.key_id,
                ));
            }
            report.outcomes.push(RevokeOutcome {
                key_id: step.key_id.clone(),
                account: step.account.clone(),
                user: step.user.clone(),
                result,
            });
        }
        // Remembered records of these keys are stale now.
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.as_mut() {
            for step in &plan.steps {
                c.forget(&step.key_id);
            }
            c.save(now_unix(), self.cache_ttl);
        }
        report
    }

    pub(super) async fn deactivate(&self, account: &str, user: &str, key: &KeyId) -> RevokeResult {
        // A plan is plain data: whoever built it, never act outside the
        // operator's own accounts.
        if account != self.me_account {
            match self.organization().await {
                Org::Listed(names) if names.contains_key(account) => {}
                Org::Failed(why) => {
                    return RevokeResult::Failed(format!(
                        "could not tell whether account {account} is yours: {why}"
                    ))
                }
                _ => return RevokeResult::Failed(format!("account {account} is not one of yours")),
            }
        }
        let creds = match self.credentials_for(account).await {
            Ok(c) => c,
            Err(e) => return RevokeResult::Failed(e),
        };
        // Fresh status: the plan may come from an old report, and a key
        // already off must not be touched (idempotence).
        let keys = match self.list_user_keys(&creds, user).await {
            Ok(k) => k,
            Err(e) => {
                return RevokeResult::Failed(format!(
                    "could not read the key's status (iam:ListAccessKeys): {e}"
                ))
            }
        };
        match keys.get(key.as_str()) {
            None => {
                return RevokeResult::Failed(format!(
                    "user {user} in account {account} no longer has this key"
                ))
            }
            Some((Some(KeyStatus::Inactive), _)) => return RevokeResult::AlreadyInactive,
            Some(_) => {}
        }
        match self
            .iam_call(
                &creds,
                "UpdateAccessKey",
                &[
                    ("UserName", user),
                    ("AccessKeyId", key.as_str()),
                    ("Status", "Inactive"),
                ],
            )
            .await
        {
            Ok(_) => RevokeResult::Deactivated,
            Err(e) => RevokeResult::Failed(format!("iam:UpdateAccessKey failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_reports_from_the_plan() {
        let k = KeyId::parse("AKIA2IJB4LAJLJ6HDU6G").expect("key");
        let plan = RevokePlan {
            steps: vec![
                super::super::super::RevokeStep {
                    key_id: k.clone(),
                    account: "111111111111".into(),
                    account_name: None,
                    user: "a".into(),
                    status: KeyStatus::Active,
                },
                super::super::super::RevokeStep {
                    key_id: k,
                    account: "111111111111".into(),
                    account_name: None,
                    user: "b".into(),
                    status: KeyStatus::Inactive,
                },
            ],
            refused: Vec::new(),
        };
        let r = dry_run_report(&plan);
        let results: Vec<_> = r.outcomes.iter().map(|o| o.result.clone()).collect();
        assert_eq!(
            results,
            [RevokeResult::WouldDeactivate, RevokeResult::AlreadyInactive]
        );
        assert!(r.undo.is_empty());
    }
}
