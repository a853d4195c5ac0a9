//! Owner lookup and revocation with the operator's own AWS credentials
//! (`--owner-lookup`, `keysweep triage`, `keysweep revoke`).
//!
//! `--verify` asks STS whether a found key works by *using* it. A security
//! team scanning its own organization has a better tool: its own
//! credentials in its own accounts. With them this module learns, for each
//! distinct key ID, the owning account, the IAM user, whether the key is
//! Active or Inactive, when it was created and last used, and whether its
//! owner is an administrator — also for the many findings that have a key ID
//! and no secret. `revoke` then deactivates keys (never deletes them).
//!
//! What is sent, and with what:
//!
//! * Every request is signed with the operator's credentials, loaded the
//!   standard AWS way by `aws-config` (environment, profiles with SSO and
//!   `credential_process`, web identity, container and instance roles), or
//!   with a role session assumed from them in a member account. Never with
//!   anything found in a scan: the API takes [`KeyId`]s, which cannot hold a
//!   secret, so the leaked secret is never sent anywhere by this path, and no
//!   request is ever signed with a leaked key. In particular a canary
//!   (honeytoken) account is never contacted through its leaked key here;
//!   this path does not even ask about keys whose ID decodes to a known
//!   canary account.
//! * The account of a key ID is decoded offline where the ID encodes it
//!   (`detect::keyid::account_id`); only old `AKIAI…`/`AKIAJ…` IDs cost an
//!   `sts:GetAccessKeyInfo` call, in the operator's own account.
//! * IAM is asked only in accounts the operator reaches: its own, and member
//!   accounts of its AWS Organization (`organizations:ListAccounts`) through
//!   a role it names. Any other account is reported as not one of yours,
//!   without a request to it.
//! * One lookup per distinct key ID, bounded (concurrency, a request budget,
//!   retries with backoff on throttling). A failed call is never a verdict:
//!   the record says it could not look the key up, and why.
//!
//! The record types, the policy analysis and the revocation plan are pure and
//! build without the `verify` feature (reports carry owner records in every
//! build); the engine that talks to AWS needs it.

mod keyid;
pub mod policy;
mod record;
mod revoke;

#[cfg(feature = "verify")]
mod cache;
#[cfg(feature = "verify")]
mod client;
#[cfg(feature = "verify")]
mod creds;
#[cfg(feature = "verify")]
mod engine;
#[cfg(feature = "verify")]
mod xml;

pub use keyid::{InvalidKeyId, KeyId, KeyKind};
pub use record::{
    AccountSource, KeyStatus, LastUsed, OwnerRecord, OwnerState, PolicyKind, PolicyRef,
};
pub use revoke::{
    plan_revocation, shell_quote, AccountScope, Refusal, RevokeOutcome, RevokePlan, RevokeReport,
    RevokeResult, RevokeStep, UndoCommand,
};

#[cfg(feature = "verify")]
pub use engine::{OwnerLookup, OwnerStats};

use std::path::PathBuf;
use std::time::Duration;

/// How owner lookups run. Build with `..OwnerOptions::default()` so new
/// knobs do not break callers.
#[derive(Debug, Clone)]
pub struct OwnerOptions {
    /// Named profile for the operator's credentials (`--profile`). Like the
    /// AWS CLI's, it wins over `AWS_ACCESS_KEY_ID` in the environment.
    /// `None`: the standard chain (environment, `AWS_PROFILE` or `default`,
    /// web identity, container and instance roles).
    pub profile: Option<String>,
    /// Shared config and credentials files to read instead of `~/.aws/config`
    /// and `~/.aws/credentials` (the `AWS_CONFIG_FILE` and
    /// `AWS_SHARED_CREDENTIALS_FILE` of the AWS CLI). `None`: the defaults.
    pub config_files: Option<ConfigFiles>,
    /// Region of the STS endpoint; `None`: the profile's or environment's,
    /// else `us-east-1`. It also picks the partition (`cn-…`, `us-gov-…`).
    pub region: Option<String>,
    /// Endpoint overrides, for tests and private endpoints.
    pub endpoints: Endpoints,
    /// Role to assume in member accounts of the operator's Organization
    /// (`--assume-role-name`, e.g. `OrganizationAccountAccessRole`). `None`:
    /// only the operator's own account is looked into.
    pub assume_role_name: Option<String>,
    /// Keys looked up at once (default 4). Must be at least 1.
    pub concurrency: usize,
    /// At most this many requests in the run; keys left over are reported
    /// as not looked up. `None`: no limit.
    pub max_requests: Option<usize>,
    /// Time allowed for one request, connecting included (default 10 s).
    pub timeout: Duration,
    /// Retries after throttling or a 5xx answer, with doubling pauses
    /// (default 4).
    pub retries: u32,
    /// First pause before a retry (default 500 ms), doubled each time.
    pub backoff: Duration,
    /// When IAM denies `GetAccessKeyLastUsed` for a key of a reachable
    /// account (AWS's answer both for a deleted key and for missing
    /// permission), list the account's users and their keys once to tell
    /// the two apart (default true). Off: such keys stay "could not look up".
    pub confirm_deleted: bool,
    /// JSON file that remembers records across runs (no secrets in it).
    pub cache_file: Option<PathBuf>,
    /// How long a remembered record is trusted (default 1 h: key statuses
    /// change when someone acts on a report).
    pub cache_ttl: Duration,
}

impl Default for OwnerOptions {
    fn default() -> Self {
        OwnerOptions {
            profile: None,
            config_files: None,
            region: None,
            endpoints: Endpoints::default(),
            assume_role_name: None,
            concurrency: 4,
            max_requests: None,
            timeout: Duration::from_secs(10),
            retries: 4,
            backoff: Duration::from_millis(500),
            confirm_deleted: true,
            cache_file: None,
            cache_ttl: Duration::from_secs(3600),
        }
    }
}

/// Shared config files to read instead of the defaults under `~/.aws`.
#[derive(Debug, Clone, Default)]
pub struct ConfigFiles {
    /// The config file (`[profile NAME]` sections).
    pub config: Option<PathBuf>,
    /// The credentials file (`[NAME]` sections).
    pub credentials: Option<PathBuf>,
}

/// Endpoint overrides. Each must be an `https://` URL, or `http://` to a
/// loopback address (a signed request to anywhere else must not travel in
/// clear text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub sts: Option<String>,
    pub iam: Option<String>,
    pub organizations: Option<String>,
}

impl Endpoints {
    /// The same URL for the three services (one test server serves all).
    pub fn all(url: &str) -> Endpoints {
        Endpoints {
            sts: Some(url.to_string()),
            iam: Some(url.to_string()),
            organizations: Some(url.to_string()),
        }
    }

    /// `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_IAM` and
    /// `AWS_ENDPOINT_URL_ORGANIZATIONS`, the service-specific variables of
    /// the AWS SDKs. The generic `AWS_ENDPOINT_URL` is not honoured: CI jobs
    /// often set it for a local emulator, and owner lookups must not be
    /// captured by it.
    pub fn from_env() -> Endpoints {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    fn from_env_with(env: impl Fn(&str) -> Option<String>) -> Endpoints {
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Endpoints {
            sts: get("AWS_ENDPOINT_URL_STS"),
            iam: get("AWS_ENDPOINT_URL_IAM"),
            organizations: get("AWS_ENDPOINT_URL_ORGANIZATIONS"),
        }
    }

    /// True when any override is set (the CLI says so on stderr).
    pub fn any(&self) -> bool {
        self.sts.is_some() || self.iam.is_some() || self.organizations.is_some()
    }
}

/// Why owner lookups cannot run at all. A key that could not be looked up
/// is not an error: its record says why.
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("owner lookup concurrency must be at least 1")]
    ZeroConcurrency,
    #[error("invalid {service} endpoint {url:?}: {why}")]
    InvalidEndpoint {
        service: &'static str,
        url: String,
        why: &'static str,
    },
    #[error("invalid role name {0:?}: IAM role names are 1-64 characters of letters, digits and +=,.@_-")]
    InvalidRoleName(String),
    #[error("empty region")]
    EmptyRegion,
    #[error("could not start the owner lookup runtime")]
    Runtime(#[source] std::io::Error),
    #[error("could not load your AWS credentials: {0}\nhint: set AWS_PROFILE or pass --profile, or run `aws sso login` for an SSO profile")]
    Credentials(String),
    #[error("could not tell who your AWS credentials belong to (sts:GetCallerIdentity): {0}")]
    Identity(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_service_variables_only() {
        let env = |name: &str| match name {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:4566".to_string()),
            "AWS_ENDPOINT_URL_IAM" => Some(" http://127.0.0.1:9000 ".to_string()),
            "AWS_ENDPOINT_URL_STS" => Some("  ".to_string()),
            _ => None,
        };
        let e = Endpoints::from_env_with(env);
        assert_eq!(e.iam.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(
            e.sts, None,
            "empty is unset, and the generic one is ignored"
        );
        assert_eq!(e.organizations, None);
        assert!(e.any());
        assert!(!Endpoints::from_env_with(|_| None).any());
    }
}
