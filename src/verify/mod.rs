//! Live verification (`--verify`): does a found key still work, and whose is it?
//!
//! Each distinct credential is asked `sts:GetCallerIdentity`, signed with the
//! found key itself (and its session token), never with the user's own AWS
//! credentials: the call needs no permission and changes nothing. The stage
//! runs after the scan and only writes `Finding::verification`.
//!
//! Safety and cost come first, in this order:
//!
//! 1. keys of known canary-token accounts, or of accounts the user listed,
//!    are never sent ([`canary`]): the account is decoded offline from the
//!    key ID. Old `AKIAI…`/`AKIAJ…` IDs encode no account and so cannot be
//!    screened; they are verified normally;
//! 2. each credential (key ID + secret + token) is asked once, however many
//!    findings share it, and an optional cache file remembers verdicts
//!    across runs;
//! 3. requests are bounded (concurrency, per-request timeout, backoff on
//!    throttling, a request budget of 10,000 by default), and anything that is not a
//!    clear answer from STS is `unverified` with its reason, never a verdict.
//!
//! The canary screen, the STS client, the cache and the runner need the
//! `verify` feature; the owner record types do not (reports carry them in
//! every build).
//!
//! [`owner`] is the other path: the operator's own credentials, never the
//! found key, to learn who owns a key ID and to deactivate it.

#[cfg(feature = "verify")]
pub mod canary;
pub mod owner;

#[cfg(feature = "verify")]
mod cache;
#[cfg(feature = "verify")]
mod run;
#[cfg(feature = "verify")]
mod sts;

#[cfg(feature = "verify")]
pub use run::verify_findings;

use std::path::PathBuf;
use std::time::Duration;

/// How verification runs. Build with `..VerifyOptions::default()` so new
/// knobs do not break callers.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Requests in flight at once (default 8). Must be at least 1.
    pub concurrency: usize,
    /// Time allowed for one request, connecting included (default 5 s).
    pub timeout: Duration,
    /// STS endpoint URL; `None` means AWS's regional endpoint for `region`.
    /// Settings take it only from `--sts-endpoint` or `AWS_ENDPOINT_URL_STS`,
    /// and plain `http://` only to this machine.
    pub endpoint: Option<String>,
    /// Signing region (default `us-east-1`).
    pub region: String,
    /// Accounts whose keys must never be sent, on top of the canary list.
    pub skip_accounts: Vec<String>,
    /// JSON file that remembers verdicts across runs (no secrets in it).
    pub cache_file: Option<PathBuf>,
    /// How long a cached verdict is trusted (default 24 h).
    pub cache_ttl: Duration,
    /// Pause before asking again after `SignatureDoesNotMatch` (default 1 s):
    /// STS sometimes gives it wrongly to a quick second request with the same
    /// key ID, so one answer is not enough to call the secret wrong.
    pub signature_retry_pause: Duration,
    /// Retries after throttling, with doubling pauses, before giving up as
    /// unverified (default 3).
    pub throttle_retries: u32,
    /// First pause after throttling (default 500 ms), doubled each retry.
    pub throttle_backoff: Duration,
    /// At most this many requests in the run (default
    /// [`DEFAULT_MAX_REQUESTS`]); the credentials left over are unverified.
    /// `None`: no limit (only for callers of the library; the command line
    /// always sets one).
    pub max_requests: Option<usize>,
}

/// The request budget of a run unless `--max-verify-requests` says
/// otherwise. A hostile repository can plant any number of distinct fake
/// key pairs, and each would be one signed request to AWS from the user's
/// address; no real organization has this many distinct leaked keys.
pub(crate) const DEFAULT_MAX_REQUESTS: usize = 10_000;

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            concurrency: 8,
            timeout: Duration::from_secs(5),
            endpoint: None,
            region: "us-east-1".into(),
            skip_accounts: Vec::new(),
            cache_file: None,
            cache_ttl: Duration::from_secs(24 * 3600),
            signature_retry_pause: Duration::from_secs(1),
            throttle_retries: 3,
            throttle_backoff: Duration::from_millis(500),
            max_requests: Some(DEFAULT_MAX_REQUESTS),
        }
    }
}

/// What a verification run did, counted in distinct credentials (except
/// `requests`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifySummary {
    /// Distinct credentials among the findings.
    pub distinct: usize,
    /// HTTP requests sent to STS, retries included.
    pub requests: usize,
    /// Verdicts taken from the cache file.
    pub cached: usize,
    /// Credentials not sent because their account is a canary or skipped.
    pub canary: usize,
    /// Credentials that are live.
    pub live: usize,
    /// Credentials left unverified because the request budget ran out.
    pub over_budget: usize,
}

/// Why verification could not run at all. A credential that could not be
/// checked is not an error: it is `unverified` with a reason.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("verification concurrency must be at least 1")]
    ZeroConcurrency,
    #[error("invalid STS endpoint {0:?}: expected an http:// or https:// URL")]
    InvalidEndpoint(String),
    #[error("empty signing region")]
    EmptyRegion,
    #[error("could not start the verification runtime")]
    Runtime(#[source] std::io::Error),
}

/// The verify stage of a run: every finding of `scan` asked about (the
/// accounts of the trusted config skipped too), the request counts kept in
/// its stats.
#[cfg(feature = "verify")]
pub(crate) fn verify_scan(
    scan: &mut crate::source::SourceScan,
    opts: &VerifyOptions,
    skip_accounts: &[String],
    diag: &crate::diag::Diagnostics,
) -> Result<(), VerifyError> {
    let mut opts = opts.clone();
    opts.skip_accounts.extend(skip_accounts.iter().cloned());
    if let Some(endpoint) = &opts.endpoint {
        diag.say(format_args!(
            "verifying against the STS endpoint {endpoint}"
        ));
    }
    let summary = verify_findings(&mut scan.findings, &opts, diag)?;
    scan.stats.verify_requests = summary.requests as u64;
    scan.stats.verify_cached = summary.cached as u64;
    scan.stats.credentials_verified = summary.distinct as u64;
    Ok(())
}

/// Unreachable: settings refuse `--verify` in a build without it.
#[cfg(not(feature = "verify"))]
pub(crate) fn verify_scan(
    _: &mut crate::source::SourceScan,
    _: &VerifyOptions,
    _: &[String],
    _: &crate::diag::Diagnostics,
) -> anyhow::Result<()> {
    anyhow::bail!("this keysweep was built without verification")
}
