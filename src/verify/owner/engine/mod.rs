//! The lookup and revocation engine: which account, can we reach it, and
//! what IAM says there.
//!
//! For each distinct key ID, in this order:
//!
//! 1. the account: decoded from the key ID, else `sts:GetAccessKeyInfo`;
//! 2. a known canary-token account: stop (nothing is asked about it);
//! 3. whose account: the operator's own, a member of its Organization
//!    (`organizations:ListAccounts`, listed once per run), or not one of
//!    yours (stop);
//! 4. temporary credentials (`ASIA…`): stop, IAM keeps no record of them;
//! 5. in the account (a role session assumed once per account for members):
//!    `GetAccessKeyLastUsed` names the user, `ListAccessKeys` gives status
//!    and creation date, and the user's attached, inline and group policies
//!    say whether it is an administrator.
//!
//! Everything asked about a user, a group or a managed policy is asked once
//! per run, however many keys share it. The rest of keysweep is synchronous,
//! so the tokio runtime lives inside [`OwnerLookup`].

mod apply;
mod iam;
mod setup;

use super::cache::{now_unix, Cache};
use super::client::{cap, CallError, Http, HttpSettings, Service};
use super::creds::{fresh, OperatorCredentials};
use super::revoke::{RevokePlan, RevokeReport};
use super::{
    AccountSource, KeyId, KeyKind, KeyStatus, LastUsed, OwnerError, OwnerOptions, OwnerRecord,
    OwnerState, PolicyRef,
};
use crate::verify::canary::is_canary_account;
use apply::dry_run_report;
use aws_credential_types::Credentials;
use setup::{check, default_services, with_override};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

const IAM_VERSION: &str = "2010-05-08";
const STS_VERSION: &str = "2011-06-15";
const ORGANIZATIONS_TARGET: &str = "AWSOrganizationsV20161128";
/// Shown in the member accounts' CloudTrail as the session name.
const SESSION_NAME: &str = "keysweep-owner-lookup";
/// Pages of one listing read at most (IAM pages hold up to 1000 items).
const MAX_PAGES: usize = 100;

/// Owner lookups and revocations with the operator's credentials.
pub struct OwnerLookup {
    runtime: tokio::runtime::Runtime,
    engine: Arc<Engine>,
}

/// What a run cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerStats {
    /// Requests sent (retries included).
    pub requests: usize,
    /// Requests per `service:Action`.
    pub by_action: BTreeMap<String, usize>,
    /// Records taken from the cache file.
    pub cached: usize,
    /// Problems with the cache file (the lookups went on without it).
    pub warnings: Vec<String>,
}

impl OwnerLookup {
    /// Loads the operator's credentials and asks STS whose they are. Fails
    /// when options are unusable or no credentials can be found; nothing
    /// about any found key is sent.
    pub fn connect(opts: OwnerOptions) -> Result<OwnerLookup, OwnerError> {
        check(&opts)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(opts.concurrency.clamp(1, 2))
            .thread_name("keysweep-owner")
            .enable_all()
            .build()
            .map_err(OwnerError::Runtime)?;
        let engine = runtime.block_on(Engine::connect(opts))?;
        Ok(OwnerLookup {
            runtime,
            engine: Arc::new(engine),
        })
    }

    /// The operator's account and ARN, as STS named them.
    pub fn operator(&self) -> (&str, &str) {
        (&self.engine.me_account, &self.engine.me_arn)
    }

    /// One record per distinct key ID, in the order first given. Never
    /// fails: a key that could not be looked up says why in its record.
    pub fn lookup(&self, keys: &[KeyId]) -> Vec<OwnerRecord> {
        let engine = Arc::clone(&self.engine);
        let keys = distinct(keys);
        self.runtime.block_on(engine.lookup_all(keys))
    }

    /// Carries out `plan`: each key is checked again (`ListAccessKeys`) and,
    /// if still active, set Inactive with `UpdateAccessKey`. `dry_run` sends
    /// nothing at all and reports what would be done from the plan alone.
    pub fn revoke(&self, plan: &RevokePlan, dry_run: bool) -> RevokeReport {
        if dry_run {
            return dry_run_report(plan);
        }
        let engine = Arc::clone(&self.engine);
        self.runtime.block_on(engine.revoke(plan))
    }

    pub fn stats(&self) -> OwnerStats {
        OwnerStats {
            requests: self.engine.http.sent(),
            by_action: self.engine.http.by_action(),
            cached: *self.engine.cached.lock().unwrap_or_else(|e| e.into_inner()),
            warnings: self
                .engine
                .cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map(|c| c.warnings.clone())
                .unwrap_or_default(),
        }
    }
}

fn distinct(keys: &[KeyId]) -> Vec<KeyId> {
    let mut seen = HashSet::new();
    keys.iter().filter(|k| seen.insert(*k)).cloned().collect()
}

/// Per-run memo: one computation per key, shared by concurrent callers.
struct Memo<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    fn new() -> Self {
        Memo {
            cells: Mutex::new(HashMap::new()),
        }
    }

    async fn get<F, Fut>(&self, key: K, init: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(cells.entry(key).or_default())
        };
        cell.get_or_init(init).await.clone()
    }
}

/// The operator's Organization, as far as it could be listed.
#[derive(Clone)]
enum Org {
    /// Member accounts (the management account too) and their names.
    Listed(HashMap<String, String>),
    /// The operator's account belongs to no Organization.
    None,
    /// Listing failed: other accounts cannot be told apart.
    Failed(String),
}

/// A member account entered through the role, or why not.
type Session = Result<Credentials, String>;

/// A user's access keys: ID → (status, created).
type UserKeys = HashMap<String, (Option<KeyStatus>, Option<String>)>;

/// Policies of a user or group, as far as they could be read.
#[derive(Clone, Default)]
struct Policies {
    refs: Vec<PolicyRef>,
    problems: Vec<String>,
}

struct Engine {
    http: Http,
    sts: Service,
    iam: Service,
    org: Service,
    partition: &'static str,
    operator: OperatorCredentials,
    me_account: String,
    me_arn: String,
    role_name: Option<String>,
    concurrency: usize,
    confirm_deleted: bool,
    organization: OnceCell<Org>,
    sessions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Session>>>>>,
    user_keys: Memo<(String, String), Result<UserKeys, String>>,
    user_policies: Memo<(String, String), Policies>,
    group_policies: Memo<(String, String), Policies>,
    managed_admin: Memo<(String, String), Result<bool, String>>,
    account_keys: Memo<String, Result<HashSet<String>, String>>,
    cache: Mutex<Option<Cache>>,
    cache_ttl: std::time::Duration,
    cached: Mutex<usize>,
}

impl Engine {
    async fn connect(opts: OwnerOptions) -> Result<Engine, OwnerError> {
        let http = Http::new(HttpSettings {
            timeout: opts.timeout,
            retries: opts.retries,
            backoff: opts.backoff,
            max_requests: opts.max_requests,
        });
        let (operator, profile_region) = OperatorCredentials::load(&opts, http.for_sdk()).await?;
        let region = opts
            .region
            .clone()
            .or(profile_region)
            .unwrap_or_else(|| "us-east-1".to_string());
        let (partition, sts, iam, org) = default_services(region.trim());
        let e = &opts.endpoints;
        let (sts, iam, org) = (
            with_override(sts, &e.sts),
            with_override(iam, &e.iam),
            with_override(org, &e.organizations),
        );
        let creds = operator.get().await.map_err(OwnerError::Credentials)?;
        let me = http
            .query(&sts, &creds, "GetCallerIdentity", STS_VERSION, &[])
            .await
            .map_err(|e| OwnerError::Identity(e.to_string()))?;
        let me_account = me
            .text_at(&["GetCallerIdentityResult", "Account"])
            .filter(|a| is_account_id(a))
            .ok_or_else(|| OwnerError::Identity("STS named no account".into()))?;
        let me_arn = me
            .text_at(&["GetCallerIdentityResult", "Arn"])
            .map(|a| cap(&a, 2048))
            .unwrap_or_default();
        let cache = opts.cache_file.as_deref().map(|path| {
            let endpoints = format!("{}|{}|{}", sts.url, iam.url, org.url);
            Cache::load(path, &me_account, &endpoints)
        });
        Ok(Engine {
            http,
            sts,
            iam,
            org,
            partition,
            operator,
            me_account,
            me_arn,
            role_name: opts.assume_role_name.clone(),
            concurrency: opts.concurrency,
            confirm_deleted: opts.confirm_deleted,
            organization: OnceCell::new(),
            sessions: Mutex::new(HashMap::new()),
            user_keys: Memo::new(),
            user_policies: Memo::new(),
            group_policies: Memo::new(),
            managed_admin: Memo::new(),
            account_keys: Memo::new(),
            cache: Mutex::new(cache),
            cache_ttl: opts.cache_ttl,
            cached: Mutex::new(0),
        })
    }

    async fn lookup_all(self: Arc<Self>, keys: Vec<KeyId>) -> Vec<OwnerRecord> {
        let mut out: Vec<Option<OwnerRecord>> = vec![None; keys.len()];
        let mut to_ask = Vec::new();
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let now = now_unix();
            for (i, k) in keys.iter().enumerate() {
                match cache.as_ref().and_then(|c| c.get(k, now, self.cache_ttl)) {
                    Some(r) => out[i] = Some(r),
                    None => to_ask.push(i),
                }
            }
        }
        if let Ok(mut n) = self.cached.lock() {
            *n += keys.len() - to_ask.len();
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for i in to_ask.iter().copied() {
            let engine = Arc::clone(&self);
            let permits = Arc::clone(&permits);
            let key = keys[i].clone();
            tasks.spawn(async move {
                let record = match permits.acquire_owned().await {
                    Ok(_permit) => engine.look_up(&key).await,
                    Err(_) => error(&key, "internal: the lookup was shut down".into()),
                };
                (i, record)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            // A task that panicked loses its index; the guard below reports
            // that key as not looked up.
            if let Ok((i, record)) = joined {
                out[i] = Some(record);
            }
        }
        let records: Vec<OwnerRecord> = out
            .into_iter()
            .zip(&keys)
            .map(|(r, k)| r.unwrap_or_else(|| error(k, "internal: the lookup failed".into())))
            .collect();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.as_mut() {
            let now = now_unix();
            for i in to_ask {
                c.put(&records[i], now);
            }
            c.save(now, self.cache_ttl);
        }
        records
    }

    async fn look_up(&self, key: &KeyId) -> OwnerRecord {
        // 1. The account.
        let (account, source) = match key.encoded_account() {
            Some(a) => (a, AccountSource::KeyId),
            None => match self.account_of(key).await {
                Ok(a) => (a, AccountSource::GetAccessKeyInfo),
                Err(e) => {
                    return error(
                        key,
                        format!(
                            "could not find the account of this key ID (sts:GetAccessKeyInfo): {e}"
                        ),
                    )
                }
            },
        };
        let mut r = OwnerRecord::new(key.clone(), OwnerState::Error);
        r.account = Some(account.clone());
        r.account_source = Some(source);

        // 2. Canaries: nothing more is asked.
        if is_canary_account(&account) {
            r.state = OwnerState::Canary;
            return r;
        }

        // 3. Whose account.
        let org = self.organization().await;
        if let Org::Listed(names) = &org {
            r.account_name = names.get(&account).cloned();
        }
        let own = account == self.me_account;
        if !own {
            match &org {
                Org::Listed(names) if names.contains_key(&account) => {}
                Org::Listed(_) | Org::None => {
                    r.state = OwnerState::NotYours;
                    return r;
                }
                Org::Failed(why) => {
                    r.error = Some(format!(
                        "could not tell whether account {account} is yours: listing your \
                         Organization's accounts failed: {why}"
                    ));
                    return r;
                }
            }
        }

        // 4. Temporary credentials have no IAM record.
        if key.kind() == KeyKind::Temporary {
            r.state = OwnerState::Temporary;
            return r;
        }

        // 5. IAM in the account.
        let creds = match self.credentials_for(&account).await {
            Ok(c) => c,
            Err(why) => {
                r.state = OwnerState::Unreachable;
                r.error = Some(why);
                return r;
            }
        };
        self.look_up_in_iam(r, &account, &creds).await
    }

    async fn look_up_in_iam(
        &self,
        mut r: OwnerRecord,
        account: &str,
        creds: &Credentials,
    ) -> OwnerRecord {
        let key = r.key_id.as_str().to_string();
        let answer = self
            .iam_call(creds, "GetAccessKeyLastUsed", &[("AccessKeyId", &key)])
            .await;
        let answer = match answer {
            Ok(a) => a,
            Err(e) if e.code() == Some("AccessDenied") || e.code() == Some("NoSuchEntity") => {
                return self.denied_or_gone(r, account, creds, e).await;
            }
            Err(e) => {
                r.error = Some(format!("iam:GetAccessKeyLastUsed failed: {e}"));
                return r;
            }
        };
        let result = answer.child("GetAccessKeyLastUsedResult");
        let last = result.and_then(|n| n.child("AccessKeyLastUsed"));
        r.last_used = last.map(|n| LastUsed {
            date: n.text_at(&["LastUsedDate"]).and_then(timestamp),
            service: n.text_at(&["ServiceName"]).and_then(known),
            region: n.text_at(&["Region"]).and_then(known),
        });
        let Some(user) = result
            .and_then(|n| n.text_at(&["UserName"]))
            .map(|u| cap(&u, 128))
        else {
            r.state = OwnerState::Found;
            r.error = Some("IAM named no user for this key (a root user key?)".into());
            return r;
        };
        r.user = Some(user.clone());
        r.state = OwnerState::Found;

        let keys = self
            .user_keys
            .get((account.to_string(), user.clone()), || {
                self.list_user_keys(creds, &user)
            })
            .await;
        let mut problems = Vec::new();
        match keys {
            Ok(keys) => match keys.get(&key) {
                Some((status, created)) => {
                    r.key_status = *status;
                    r.created = created.clone();
                }
                None => problems.push(format!(
                    "iam:ListAccessKeys did not list the key for {user}"
                )),
            },
            Err(e) => problems.push(format!("status not read: iam:ListAccessKeys failed: {e}")),
        }

        let policies = self
            .user_policies
            .get((account.to_string(), user.clone()), || {
                self.policies_of_user(account, creds, &user)
            })
            .await;
        r.admin = if policies.refs.iter().any(|p| p.admin == Some(true)) {
            Some(true)
        } else if policies.problems.is_empty() && policies.refs.iter().all(|p| p.admin.is_some()) {
            Some(false)
        } else {
            None
        };
        r.policies = policies.refs;
        problems.extend(policies.problems);
        if !problems.is_empty() {
            r.error = Some(problems.join("; "));
        }
        r
    }

    /// `GetAccessKeyLastUsed` was denied: AWS's answer for a key that is not
    /// in the account (deleted, never issued) and for a caller without the
    /// permission alike. A list of the account's keys tells them apart.
    async fn denied_or_gone(
        &self,
        mut r: OwnerRecord,
        account: &str,
        creds: &Credentials,
        denied: CallError,
    ) -> OwnerRecord {
        if !self.confirm_deleted {
            r.error = Some(format!(
                "iam:GetAccessKeyLastUsed was denied ({denied}): the key is deleted, or your \
                 credentials lack the permission"
            ));
            return r;
        }
        let keys = self
            .account_keys
            .get(account.to_string(), || self.list_account_keys(creds))
            .await;
        match keys {
            Ok(keys) if keys.contains(r.key_id.as_str()) => {
                r.error = Some(format!(
                    "the key exists, but iam:GetAccessKeyLastUsed was denied: {denied}"
                ));
            }
            Ok(_) => r.state = OwnerState::NotFound,
            Err(e) => {
                r.error = Some(format!(
                    "iam:GetAccessKeyLastUsed was denied ({denied}), and listing the account's \
                     keys to tell a deleted key from a missing permission failed: {e}"
                ));
            }
        }
        r
    }

    async fn account_of(&self, key: &KeyId) -> Result<String, String> {
        let creds = self.operator.get().await?;
        let answer = self
            .http
            .query(
                &self.sts,
                &creds,
                "GetAccessKeyInfo",
                STS_VERSION,
                &[("AccessKeyId", key.as_str())],
            )
            .await
            .map_err(|e| e.to_string())?;
        answer
            .text_at(&["GetAccessKeyInfoResult", "Account"])
            .filter(|a| is_account_id(a))
            .ok_or_else(|| "STS named no account".to_string())
    }

    async fn organization(&self) -> Org {
        self.organization
            .get_or_init(|| async {
                match self.list_organization().await {
                    Ok(names) => Org::Listed(names),
                    Err(e) if e.code() == Some("AWSOrganizationsNotInUseException") => Org::None,
                    Err(e) => Org::Failed(format!("organizations:ListAccounts failed: {e}")),
                }
            })
            .await
            .clone()
    }

    async fn list_organization(&self) -> Result<HashMap<String, String>, CallError> {
        let creds = self.operator.get().await.map_err(CallError::Transport)?;
        let mut names = HashMap::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let body = match &token {
                Some(t) => serde_json::json!({ "NextToken": t }),
                None => serde_json::json!({}),
            };
            let page = self
                .http
                .json(
                    &self.org,
                    &creds,
                    ORGANIZATIONS_TARGET,
                    "ListAccounts",
                    &body,
                )
                .await?;
            for a in page
                .get("Accounts")
                .and_then(|v| v.as_array())
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let id = a.get("Id").and_then(|v| v.as_str()).unwrap_or("");
                if is_account_id(id) {
                    let name = a.get("Name").and_then(|v| v.as_str()).unwrap_or("");
                    names.insert(id.to_string(), cap(name, 128));
                }
            }
            token = page
                .get("NextToken")
                .and_then(|v| v.as_str())
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(names)
    }

    /// Credentials valid in `account`: the operator's own there, else a
    /// session of the role, assumed once (and again shortly before it
    /// expires). A failure is remembered for the run.
    async fn credentials_for(&self, account: &str) -> Result<Credentials, String> {
        if account == self.me_account {
            return self
                .operator
                .get()
                .await
                .map_err(|e| format!("your credentials could not be refreshed: {e}"));
        }
        let Some(role) = &self.role_name else {
            return Err(format!(
                "account {account} is a member of your Organization, but no role name was \
                 given to enter it (--assume-role-name)"
            ));
        };
        let slot = {
            let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(sessions.entry(account.to_string()).or_default())
        };
        let mut slot = slot.lock().await;
        match slot.as_ref() {
            Some(Ok(c)) if fresh(c.expiry()) => return Ok(c.clone()),
            Some(Err(e)) => return Err(e.clone()),
            _ => {}
        }
        let arn = format!("arn:{}:iam::{account}:role/{role}", self.partition);
        let session = self
            .assume(&arn)
            .await
            .map_err(|e| format!("could not assume {arn}: {e}"));
        *slot = Some(session.clone());
        session
    }

    async fn assume(&self, role_arn: &str) -> Result<Credentials, String> {
        let creds = self.operator.get().await?;
        let answer = self
            .http
            .query(
                &self.sts,
                &creds,
                "AssumeRole",
                STS_VERSION,
                &[
                    ("RoleArn", role_arn),
                    ("RoleSessionName", SESSION_NAME),
                    ("DurationSeconds", "3600"),
                ],
            )
            .await
            .map_err(|e| e.to_string())?;
        let c = answer
            .at(&["AssumeRoleResult", "Credentials"])
            .ok_or("STS returned no credentials")?;
        let (Some(id), Some(secret), Some(token)) = (
            c.text_at(&["AccessKeyId"]),
            c.text_at(&["SecretAccessKey"]),
            c.text_at(&["SessionToken"]),
        ) else {
            return Err("STS returned incomplete credentials".into());
        };
        let expiry = c.text_at(&["Expiration"]).and_then(|t| {
            aws_smithy_types::DateTime::from_str(&t, aws_smithy_types::date_time::Format::DateTime)
                .ok()
                .and_then(|d| std::time::SystemTime::try_from(d).ok())
        });
        Ok(Credentials::new(
            id,
            secret,
            Some(token),
            expiry,
            "keysweep-assumed-role",
        ))
    }
}

fn error(key: &KeyId, why: String) -> OwnerRecord {
    let mut r = OwnerRecord::new(key.clone(), OwnerState::Error);
    r.error = Some(why);
    r
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// IAM's `N/A` means "none".
fn known(s: String) -> Option<String> {
    (s != "N/A").then(|| cap(&s, 64))
}

/// An ISO 8601 timestamp as IAM gives it; anything else is dropped rather
/// than passed on.
fn timestamp(s: String) -> Option<String> {
    super::record::is_timestamp(&s).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_values_are_checked() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901"));
        assert!(!is_account_id("12345678901x"));
        assert_eq!(known("N/A".into()), None);
        assert_eq!(known("s3".into()).as_deref(), Some("s3"));
        assert_eq!(
            timestamp("2026-11-30T23:46:11.016536Z".into()).as_deref(),
            Some("2026-11-30T23:46:11.016536Z")
        );
        assert_eq!(timestamp("\u{1b}[31mred".into()), None);
        assert_eq!(timestamp("tomorrow".into()), None);
    }
}
