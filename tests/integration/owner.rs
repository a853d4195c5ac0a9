//! Owner lookup and revocation (`keysweep::verify::owner`) against a loopback
//! AWS Organization (moto with signatures and IAM policies enforced): every
//! record comes from real signed requests, made with an operator profile
//! from a temporary AWS config file whose IAM policy is the one
//! docs/owner-lookup.md prints. The server records every request it
//! receives, so the tests can prove that no leaked secret is ever sent.

use crate::support::owner::{self, OwnerServer};
use keysweep::verify::owner::{
    plan_revocation, AccountScope, AccountSource, ConfigFiles, Endpoints, KeyId, KeyStatus,
    OwnerError, OwnerLookup, OwnerOptions, OwnerRecord, OwnerState, PolicyKind, RevokeResult,
};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// A key ID of a known canary-token account (Thinkst's 171436882533).
pub(crate) const CANARY_KEY: &str = "AKIASP2TPHJSQH3FJRUX";
/// An old-style key ID that no account has.
const UNKNOWN_OLD_KEY: &str = "AKIAJQZXPWC3LNE4B6TD";

fn opts(dir: &Path, operator: usize) -> OwnerOptions {
    let s = owner::server();
    OwnerOptions {
        profile: Some("auditor".into()),
        config_files: Some(ConfigFiles {
            config: Some(s.config_file(dir, operator)),
            credentials: None,
        }),
        endpoints: Endpoints::all(&s.endpoint),
        assume_role_name: Some(s.role_name.clone()),
        backoff: Duration::from_millis(10),
        ..OwnerOptions::default()
    }
}

fn connect(opts: OwnerOptions) -> OwnerLookup {
    OwnerLookup::connect(opts).unwrap_or_else(|e| panic!("connect: {e}"))
}

fn key_id(s: &OwnerServer, name: &str) -> KeyId {
    KeyId::parse(&s.key(name).access_key_id).expect("seeded key IDs are valid")
}

fn lookup_one(lookup: &OwnerLookup, key: &KeyId) -> OwnerRecord {
    let mut records = lookup.lookup(std::slice::from_ref(key));
    assert_eq!(records.len(), 1);
    records.remove(0)
}

/// No request the server ever received holds a leaked secret or session
/// token, and none was signed with a leaked key.
pub(crate) fn assert_no_leaked_secret_was_sent(s: &OwnerServer) {
    let requests = s.recorded();
    assert!(!requests.is_empty());
    let everything = serde_json::to_string(&requests).expect("JSON");
    for k in s.all_keys() {
        assert!(
            !everything.contains(&k.secret_access_key),
            "a leaked secret was sent (key {})",
            k.access_key_id
        );
        if let Some(t) = &k.session_token {
            assert!(
                !everything.contains(t.as_str()),
                "a leaked session token was sent"
            );
        }
        assert_eq!(
            s.requests_signed_by(&k.access_key_id),
            0,
            "a request was signed with leaked key {}",
            k.access_key_id
        );
    }
    let signers: BTreeSet<String> = requests
        .iter()
        .filter_map(|r| r["headers"]["authorization"].as_str())
        .filter_map(|a| a.split("Credential=").nth(1))
        .filter_map(|c| c.split('/').next())
        .map(str::to_string)
        .collect();
    let leaked: BTreeSet<String> = s.all_keys().map(|k| k.access_key_id.clone()).collect();
    assert!(signers.is_disjoint(&leaked), "{signers:?}");
    assert!(
        !everything.contains(CANARY_KEY),
        "nothing is asked about a canary key ID"
    );
}

#[test]
fn looks_up_every_kind_of_key_with_the_operators_own_credentials() {
    let s = owner::server();
    let dir = tempfile::tempdir().expect("temp dir");
    let lookup = connect(opts(dir.path(), 0));
    assert_eq!(lookup.operator().0, s.account("management"));
    assert!(lookup.operator().1.ends_with(":user/keysweep-auditor"));

    let names = [
        "admin_used",
        "never_used",
        "inactive",
        "deleted",
        "legacy",
        "admin_by_document",
        "mgmt_backup",
        "outside",
        "temporary",
        "unreachable",
    ];
    let mut keys: Vec<KeyId> = names.iter().map(|n| key_id(s, n)).collect();
    keys.push(KeyId::parse(CANARY_KEY).expect("key"));
    keys.push(KeyId::parse(UNKNOWN_OLD_KEY).expect("key"));
    // Every key found many times over: still one lookup each.
    let repeated: Vec<KeyId> = keys.iter().chain(&keys).chain(&keys).cloned().collect();
    let records = lookup.lookup(&repeated);
    assert_eq!(records.len(), keys.len(), "one record per distinct key ID");
    let by = |name: &str| -> &OwnerRecord {
        let id = &s.key(name).access_key_id;
        records
            .iter()
            .find(|r| r.key_id.as_str() == id)
            .unwrap_or_else(|| panic!("no record for {name}"))
    };

    // Every key found where it was seeded, as the seeded user, with the
    // seeded status.
    for name in names {
        let (r, k) = (by(name), s.key(name));
        assert_eq!(r.account.as_deref(), Some(k.account.as_str()), "{name}");
        if r.state == OwnerState::Found {
            assert_eq!(r.user, k.user, "{name}");
            assert_eq!(
                r.key_status.map(|s| s.as_str()),
                Some(k.status.as_str()),
                "{name}"
            );
        }
    }

    // An admin of prod, used from s3 in eu-west-1.
    let r = by("admin_used");
    assert_eq!(r.state, OwnerState::Found, "{r:?}");
    assert_eq!(r.account.as_deref(), Some(s.account("prod")));
    assert_eq!(r.account_source, Some(AccountSource::KeyId));
    assert_eq!(r.account_name.as_deref(), Some("prod"));
    assert_eq!(r.user.as_deref(), Some("ci-deploy"));
    assert_eq!(r.key_status, Some(KeyStatus::Active));
    assert!(
        r.created.as_deref().is_some_and(|c| c.starts_with("20")),
        "{r:?}"
    );
    let used = r.last_used.as_ref().expect("last use known");
    assert!(used.date.is_some());
    assert_eq!(used.service.as_deref(), Some("s3"));
    assert_eq!(used.region.as_deref(), Some("eu-west-1"));
    assert_eq!(r.admin, Some(true));
    assert!(r.policies.iter().any(|p| p.name == "AdministratorAccess"
        && p.kind == PolicyKind::Managed
        && p.admin == Some(true)));
    assert_eq!(r.error, None);

    // Never used; its rights come through a group and inline policies.
    let r = by("never_used");
    assert_eq!(r.state, OwnerState::Found, "{r:?}");
    assert_eq!(r.user.as_deref(), Some("reporting"));
    assert!(r.last_used.as_ref().is_some_and(|u| u.never()), "{r:?}");
    assert_eq!(r.admin, Some(false));
    let mut policies: Vec<(String, Option<String>, PolicyKind)> = r
        .policies
        .iter()
        .map(|p| (p.name.clone(), p.group.clone(), p.kind))
        .collect();
    policies.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        policies,
        [
            (
                "ReadOnlyAccess".to_string(),
                Some("readers".to_string()),
                PolicyKind::Managed
            ),
            ("extra".to_string(), None, PolicyKind::Inline),
            (
                "reports-bucket".to_string(),
                Some("readers".to_string()),
                PolicyKind::Inline
            ),
        ]
    );

    let r = by("inactive");
    assert_eq!(
        (r.state, r.key_status, r.user.as_deref()),
        (
            OwnerState::Found,
            Some(KeyStatus::Inactive),
            Some("rotated")
        )
    );
    let used = r.last_used.as_ref().expect("last use known");
    assert_eq!(
        (used.service.as_deref(), used.region.as_deref()),
        (Some("sqs"), Some("us-west-2"))
    );

    // Deleted: IAM answers AccessDenied, the account's key list settles it.
    let r = by("deleted");
    assert_eq!(r.state, OwnerState::NotFound, "{r:?}");
    assert_eq!(r.account.as_deref(), Some(s.account("prod")));

    // An old-style ID: only sts:GetAccessKeyInfo knows its account.
    let r = by("legacy");
    assert!(s.key("legacy").access_key_id.starts_with("AKIAJ"));
    assert_eq!(r.state, OwnerState::Found, "{r:?}");
    assert_eq!(r.account_source, Some(AccountSource::GetAccessKeyInfo));
    assert_eq!(r.account.as_deref(), Some(s.account("staging")));
    assert_eq!(r.account_name.as_deref(), Some("staging"));
    assert_eq!(r.user.as_deref(), Some("legacy-svc"));

    // Admin by a customer managed policy allowing * on *.
    let r = by("admin_by_document");
    assert_eq!((r.state, r.admin), (OwnerState::Found, Some(true)), "{r:?}");
    assert!(r
        .policies
        .iter()
        .any(|p| p.name == "everything" && p.admin == Some(true)));

    // The operator's own account needs no role.
    let r = by("mgmt_backup");
    assert_eq!(r.state, OwnerState::Found, "{r:?}");
    assert_eq!(r.account.as_deref(), Some(s.account("management")));
    assert_eq!(
        (r.user.as_deref(), r.admin),
        (Some("mgmt-backup"), Some(false))
    );

    let r = by("outside");
    assert_eq!(r.state, OwnerState::NotYours, "{r:?}");
    assert_eq!(r.account.as_deref(), Some(s.account("outside")));
    assert_eq!(r.user, None);

    let r = by("temporary");
    assert_eq!(r.state, OwnerState::Temporary, "{r:?}");
    assert_eq!(r.account.as_deref(), Some(s.account("prod")));

    let r = by("unreachable");
    assert_eq!(r.state, OwnerState::Unreachable, "{r:?}");
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("could not assume")
                && e.contains(s.account("sandbox"))
                && e.contains("AccessDenied")),
        "{r:?}"
    );

    let canary = records
        .iter()
        .find(|r| r.key_id.as_str() == CANARY_KEY)
        .expect("canary record");
    assert_eq!(canary.state, OwnerState::Canary);
    assert_eq!(canary.account.as_deref(), Some("171436882533"));

    let unknown = records
        .iter()
        .find(|r| r.key_id.as_str() == UNKNOWN_OLD_KEY)
        .expect("record");
    assert_eq!(
        unknown.state,
        OwnerState::Error,
        "no verdict from a failed call"
    );
    assert!(
        unknown
            .error
            .as_deref()
            .is_some_and(|e| e.contains("GetAccessKeyInfo")),
        "{unknown:?}"
    );

    // One GetAccessKeyLastUsed per key looked up in IAM, one role session
    // per member account, one listing of the Organization.
    let st = lookup.stats();
    let n = |a: &str| st.by_action.get(a).copied().unwrap_or(0);
    assert_eq!(n("iam:GetAccessKeyLastUsed"), 7, "{st:?}");
    assert_eq!(n("sts:AssumeRole"), 3, "prod, staging, sandbox: {st:?}");
    assert_eq!(n("organizations:ListAccounts"), 1);
    assert_eq!(n("sts:GetAccessKeyInfo"), 2, "the two old-style IDs only");
    assert_eq!(n("iam:UpdateAccessKey"), 0);

    assert_no_leaked_secret_was_sent(s);
}

#[test]
fn without_a_role_member_accounts_are_unreachable_and_outsiders_still_not_yours() {
    let s = owner::server();
    let dir = tempfile::tempdir().expect("temp dir");
    let lookup = connect(OwnerOptions {
        assume_role_name: None,
        ..opts(dir.path(), 0)
    });
    let records = lookup.lookup(&[
        key_id(s, "admin_used"),
        key_id(s, "mgmt_backup"),
        key_id(s, "outside"),
    ]);
    assert_eq!(records[0].state, OwnerState::Unreachable);
    assert!(
        records[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("--assume-role-name")),
        "{:?}",
        records[0]
    );
    assert_eq!(records[1].state, OwnerState::Found);
    assert_eq!(records[2].state, OwnerState::NotYours);
    assert_eq!(lookup.stats().by_action.get("sts:AssumeRole"), None);
}

#[test]
fn revoke_deactivates_exactly_the_keys_asked_for_and_can_be_undone() {
    let s = owner::server();
    let dir = tempfile::tempdir().expect("temp dir");
    let lookup = connect(opts(dir.path(), 0));
    let target = key_id(s, "revoke_target");
    let other_account = key_id(s, "revoke_other_account");
    let already = key_id(s, "revoke_already_inactive");
    let keep = key_id(s, "revoke_keep");
    let outside = key_id(s, "outside");
    let records = lookup.lookup(&[
        target.clone(),
        other_account.clone(),
        already.clone(),
        keep.clone(),
        outside.clone(),
    ]);
    let wanted = [
        target.clone(),
        other_account.clone(),
        already.clone(),
        outside.clone(),
    ];

    // Only prod allowed: the staging key is refused, and so is the outsider.
    let prod_only = AccountScope::Only([s.account("prod").to_string()].into());
    let plan = plan_revocation(&records, &wanted, &prod_only);
    let planned: Vec<&str> = plan.steps.iter().map(|p| p.key_id.as_str()).collect();
    assert_eq!(planned, [target.as_str(), already.as_str()]);
    assert_eq!(plan.refused.len(), 2, "{:?}", plan.refused);
    assert!(plan.refused[0]
        .reason
        .contains("not among the accounts you allowed"));
    assert!(plan.refused[1].reason.contains("is not one of yours"));

    let both = AccountScope::Only(
        [
            s.account("prod").to_string(),
            s.account("staging").to_string(),
        ]
        .into(),
    );
    let plan = plan_revocation(&records, &wanted, &both);
    assert_eq!(plan.steps.len(), 3);
    assert_eq!(
        plan.steps[0].command(),
        format!(
            "aws iam update-access-key --user-name revoke-me --access-key-id {target} --status Inactive"
        )
    );
    let report = lookup.revoke(&plan, false);
    let results: Vec<(&str, &RevokeResult)> = report
        .outcomes
        .iter()
        .map(|o| (o.key_id.as_str(), &o.result))
        .collect();
    assert_eq!(
        results,
        [
            (target.as_str(), &RevokeResult::Deactivated),
            (other_account.as_str(), &RevokeResult::Deactivated),
            (already.as_str(), &RevokeResult::AlreadyInactive),
        ]
    );
    // The effect, read from the server's state directly.
    assert_eq!(s.key_status(target.as_str()).as_deref(), Some("Inactive"));
    assert_eq!(
        s.key_status(other_account.as_str()).as_deref(),
        Some("Inactive")
    );
    assert_eq!(s.key_status(already.as_str()).as_deref(), Some("Inactive"));
    assert_eq!(
        s.key_status(keep.as_str()).as_deref(),
        Some("Active"),
        "the user's other key is untouched"
    );
    assert_eq!(s.key_status(outside.as_str()).as_deref(), Some("Active"));
    let undo: Vec<(&str, &str)> = report
        .undo
        .iter()
        .map(|u| (u.account.as_str(), u.command.as_str()))
        .collect();
    assert_eq!(
        undo,
        [
            (
                s.account("prod"),
                format!("aws iam update-access-key --user-name revoke-me --access-key-id {target} --status Active").as_str()
            ),
            (
                s.account("staging"),
                format!("aws iam update-access-key --user-name revoke-b --access-key-id {other_account} --status Active").as_str()
            ),
        ]
    );
    let updates = |l: &OwnerLookup| {
        l.stats()
            .by_action
            .get("iam:UpdateAccessKey")
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(updates(&lookup), 2, "one write per key actually changed");

    // Again, from the same (now stale) plan: nothing left to do.
    let again = lookup.revoke(&plan, false);
    assert!(
        again
            .outcomes
            .iter()
            .all(|o| o.result == RevokeResult::AlreadyInactive),
        "{again:?}"
    );
    assert!(again.undo.is_empty());
    assert_eq!(updates(&lookup), 2, "idempotent: no further writes");

    // A plan made by hand for an outsider's key is refused at apply time too,
    // without a request to that account.
    let mut forged = plan.clone();
    forged.steps = vec![keysweep::verify::owner::RevokeStep {
        key_id: outside.clone(),
        account: s.account("outside").to_string(),
        account_name: None,
        user: "stranger".into(),
        status: KeyStatus::Active,
    }];
    let refused = lookup.revoke(&forged, false);
    assert!(
        matches!(&refused.outcomes[0].result, RevokeResult::Failed(why) if why.contains("not one of yours")),
        "{refused:?}"
    );
    assert_eq!(s.key_status(outside.as_str()).as_deref(), Some("Active"));
    assert_eq!(updates(&lookup), 2);

    let recorded = serde_json::to_string(&s.recorded()).expect("JSON");
    assert!(
        !recorded.contains("DeleteAccessKey"),
        "keys are never deleted"
    );
    assert_no_leaked_secret_was_sent(s);
}

#[test]
fn a_dry_run_sends_nothing_and_changes_nothing() {
    let s = owner::server();
    let dir = tempfile::tempdir().expect("temp dir");
    let lookup = connect(opts(dir.path(), 0));
    let key = key_id(s, "dry_run");
    let records = lookup.lookup(std::slice::from_ref(&key));
    let plan = plan_revocation(
        &records,
        std::slice::from_ref(&key),
        &AccountScope::AllReachable,
    );
    assert_eq!(plan.steps.len(), 1);
    let before = lookup.stats().requests;
    let report = lookup.revoke(&plan, true);
    assert_eq!(report.outcomes[0].result, RevokeResult::WouldDeactivate);
    assert!(report.undo.is_empty());
    assert_eq!(
        lookup.stats().requests,
        before,
        "a dry run sends no request"
    );
    assert_eq!(s.key_status(key.as_str()).as_deref(), Some("Active"));
}

#[test]
fn throttling_is_retried_and_a_spent_budget_is_no_verdict() {
    let s = owner::server();
    let dir = tempfile::tempdir().expect("temp dir");
    // Operator 1 is used by this test alone: the injected throttling hits
    // only its requests.
    let op = s.operators[1].access_key_id.clone();
    let lookup = connect(opts(dir.path(), 1));
    let key = key_id(s, "mgmt_backup");
    s.inject(&op, 2, 400, "Throttling");
    let before = lookup.stats().requests;
    let r = lookup_one(&lookup, &key);
    assert_eq!(r.state, OwnerState::Found, "{r:?}");
    let spent = lookup.stats().requests - before;
    // GetAccessKeyLastUsed twice throttled, then the rest of the lookup.
    assert!(spent >= 2 + 5, "{spent} requests");

    let failing = connect(OwnerOptions {
        retries: 1,
        ..opts(dir.path(), 1)
    });
    s.inject(&op, 50, 503, "ServiceUnavailable");
    let r = lookup_one(&failing, &key_id(s, "never_used"));
    assert_eq!(r.state, OwnerState::Error, "{r:?}");
    s.inject(&op, 0, 503, "ServiceUnavailable");

    let budget = 3; // GetCallerIdentity, ListAccounts, AssumeRole
    let bounded = connect(OwnerOptions {
        max_requests: Some(budget),
        ..opts(dir.path(), 1)
    });
    let r = lookup_one(&bounded, &key_id(s, "admin_used"));
    assert_eq!(r.state, OwnerState::Error, "{r:?}");
    assert!(
        r.error.as_deref().is_some_and(|e| e.contains("budget")),
        "{r:?}"
    );
    assert_eq!(bounded.stats().requests, budget);
}

#[test]
fn without_confirmation_a_denied_key_stays_unknown() {
    let s = owner::server();
    let dir = tempfile::tempdir().expect("temp dir");
    let lookup = connect(OwnerOptions {
        confirm_deleted: false,
        ..opts(dir.path(), 0)
    });
    let r = lookup_one(&lookup, &key_id(s, "deleted"));
    assert_eq!(r.state, OwnerState::Error, "{r:?}");
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("AccessDenied")),
        "{r:?}"
    );
    assert_eq!(lookup.stats().by_action.get("iam:ListUsers"), None);
}

#[test]
fn records_are_cached_across_runs_without_secrets() {
    let s = owner::server();
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("owners.json");
    let keys = [
        key_id(s, "never_used"),
        key_id(s, "outside"),
        key_id(s, "unreachable"),
    ];
    let first = connect(OwnerOptions {
        cache_file: Some(cache.clone()),
        ..opts(dir.path(), 0)
    });
    let a = first.lookup(&keys);
    assert_eq!(first.stats().cached, 0);

    let second = connect(OwnerOptions {
        cache_file: Some(cache.clone()),
        ..opts(dir.path(), 0)
    });
    let before = second.stats().requests;
    let b = second.lookup(&keys);
    assert_eq!(a[..2], b[..2]);
    assert_eq!(second.stats().cached, 2, "unreachable is asked again");
    assert_eq!(b[2].state, OwnerState::Unreachable);
    assert!(
        second.stats().requests > before,
        "the unreachable key was asked again"
    );
    assert!(second.stats().warnings.is_empty());

    let text = std::fs::read_to_string(&cache).expect("cache written");
    for k in s.all_keys() {
        assert!(!text.contains(&k.secret_access_key));
    }
    assert!(text.contains(keys[0].as_str()));
}

/// SSO, `credential_process` and `role_arn` profiles come from aws-config's
/// profile provider; `credential_process` can run here without any other
/// service.
#[test]
#[cfg(unix)]
fn operator_credentials_can_come_from_a_credential_process() {
    use std::os::unix::fs::PermissionsExt;
    let s = owner::server();
    let dir = tempfile::tempdir().expect("temp dir");
    let op = &s.operators[0];
    let script = dir.path().join("issue-credentials");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\"}}'\n",
            op.access_key_id, op.secret_access_key
        ),
    )
    .expect("write script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let config = dir.path().join("vault-config");
    std::fs::write(
        &config,
        format!(
            "[profile vault]\nregion = us-east-1\ncredential_process = {}\n",
            script.display()
        ),
    )
    .expect("write config");
    let lookup = connect(OwnerOptions {
        profile: Some("vault".into()),
        config_files: Some(ConfigFiles {
            config: Some(config),
            credentials: None,
        }),
        ..opts(dir.path(), 0)
    });
    assert!(lookup.operator().1.ends_with(":user/keysweep-auditor"));
    let r = lookup_one(&lookup, &key_id(s, "mgmt_backup"));
    assert_eq!(r.state, OwnerState::Found, "{r:?}");
}

#[test]
fn bad_operator_credentials_stop_before_any_key_is_asked_about() {
    let s = owner::server();
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = OwnerLookup::connect(OwnerOptions {
        profile: Some("no-such-profile".into()),
        ..opts(dir.path(), 0)
    });
    assert!(
        matches!(missing, Err(OwnerError::Credentials(_))),
        "{:?}",
        missing.err()
    );

    let path = dir.path().join("wrong-config");
    std::fs::write(
        &path,
        format!(
            "[profile auditor]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            s.operators[0].access_key_id,
            "x".repeat(40)
        ),
    )
    .expect("write");
    let wrong = OwnerLookup::connect(OwnerOptions {
        config_files: Some(ConfigFiles {
            config: Some(path),
            credentials: None,
        }),
        ..opts(dir.path(), 0)
    });
    match wrong {
        Err(OwnerError::Identity(e)) => assert!(e.contains("SignatureDoesNotMatch"), "{e}"),
        other => panic!("expected an identity error, got {:?}", other.err()),
    }
}

/// Lookups per second against moto, and the request count for a large
/// report: 500 distinct key IDs, two per user, across the management
/// account and two member accounts. Run with bench/owner.sh.
#[test]
#[ignore = "benchmark: run with bench/owner.sh"]
fn bench_owner_lookup() {
    let keys_wanted = 500;
    let s = owner::start_with_bench_keys(keys_wanted);
    let dir = tempfile::tempdir().expect("temp dir");
    let keys: Vec<KeyId> = s
        .bench_keys
        .iter()
        .map(|k| KeyId::parse(k).expect("key"))
        .collect();
    assert_eq!(keys.len(), keys_wanted);
    let config = s.config_file(dir.path(), 0);
    for concurrency in [1, 4, 8] {
        let lookup = connect(OwnerOptions {
            profile: Some("auditor".into()),
            config_files: Some(ConfigFiles {
                config: Some(config.clone()),
                credentials: None,
            }),
            endpoints: Endpoints::all(&s.endpoint),
            assume_role_name: Some(s.role_name.clone()),
            concurrency,
            ..OwnerOptions::default()
        });
        let before = lookup.stats().requests;
        let started = Instant::now();
        let records = lookup.lookup(&keys);
        let secs = started.elapsed().as_secs_f64();
        assert!(records.iter().all(|r| r.state == OwnerState::Found));
        let st = lookup.stats();
        let sent = st.requests - before;
        // Per key: GetAccessKeyLastUsed. Per user: ListAccessKeys and three
        // policy listings. Per run: ListAccounts and two AssumeRoles
        // (GetCallerIdentity was sent by connect, before `before`). The seed
        // makes a user for keys i with i % 6 < 3, its second key at i + 3.
        let users = (0..keys_wanted).filter(|i| i % 6 < 3).count();
        assert_eq!(sent, keys_wanted + 4 * users + 1 + 2, "{:?}", st.by_action);
        println!(
            "bench: concurrency {concurrency}: {keys_wanted} key IDs, {sent} requests in {secs:.2} s = {:.0} requests/s, {:.0} keys/s",
            sent as f64 / secs,
            keys_wanted as f64 / secs
        );
        if concurrency == 1 {
            println!("bench: requests by action: {:?}", st.by_action);
        }
    }

    // The same through the command line: `keysweep triage` of a report of
    // the 500 key IDs (a process of its own each time: its connection, the
    // report read and written are in the time).
    let report = dir.path().join("report.jsonl");
    let lines: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            serde_json::json!({
                "fingerprint": format!("{i:032x}"),
                "path": format!("keys/{i}.env"),
                "access_key_id": {"value": k.as_str(), "line": 1, "column": 1},
                "confidence": "medium",
            })
            .to_string()
        })
        .collect();
    std::fs::write(&report, lines.join("\n")).expect("write report");
    for concurrency in [1, 4, 8] {
        let n = concurrency.to_string();
        let started = Instant::now();
        let r = crate::support::run(
            crate::owner_cli::operator(
                &s,
                dir.path(),
                &["triage", "--format", "json", "--owner-concurrency", &n],
            )
            .arg(&report),
        );
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(r.code, 1, "{}", r.stderr);
        let found = r
            .findings()
            .iter()
            .filter(|f| f["owner"]["state"] == "found")
            .count();
        assert_eq!(found, keys_wanted, "{}", r.stderr);
        let sent: usize = r
            .stderr
            .lines()
            .find_map(|l| l.split(" key IDs, ").nth(1))
            .and_then(|t| t.split(' ').next())
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("no request count in: {}", r.stderr));
        let users = (0..keys_wanted).filter(|i| i % 6 < 3).count();
        assert_eq!(sent, 1 + keys_wanted + 4 * users + 1 + 2, "{}", r.stderr);
        println!(
            "bench: cli triage, concurrency {concurrency}: {keys_wanted} key IDs, {sent} requests in {secs:.2} s = {:.0} requests/s, {:.0} keys/s",
            sent as f64 / secs,
            keys_wanted as f64 / secs
        );
    }
}
