//! One `sts:GetCallerIdentity` per credential, and what its answer means.
//!
//! The client is built from `aws_sdk_sts::Config::builder()` alone: it reads
//! no environment variables, no `~/.aws` files and never asks instance
//! metadata, so only the found key can sign and only the chosen endpoint is
//! contacted (aws-config's loader would honour a profile's `endpoint_url`).
//! One client, with one HTTP client, serves the whole run: building an
//! HTTPS client loads every root certificate. The SDK's own retries are off
//! because the retry rules here depend on the answer (see [`StsVerifier::verify`]).

use super::VerifyOptions;
use crate::finding::{is_account_id, Arn, Secret, Verdict};
use aws_sdk_sts::config::{
    retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Credentials, IdentityCache, Region,
};
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Error codes STS and its front ends use for rate limiting.
const THROTTLING_CODES: [&str; 5] = [
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
];

/// The outcome of one request.
enum Answer {
    Live {
        arn: Option<String>,
        account: Option<String>,
        user_id: Option<String>,
    },
    /// A rejection STS gives for a key that does not work.
    Rejected(Verdict),
    SignatureDoesNotMatch,
    Throttled(String),
    /// No verdict: network trouble, timeouts, 5xx, unknown answers.
    Inconclusive(String),
}

pub(crate) struct StsVerifier {
    client: aws_sdk_sts::Client,
    timeout: Duration,
    signature_retry_pause: Duration,
    throttle_retries: u32,
    throttle_backoff: Duration,
    max_requests: Option<usize>,
    requests: AtomicUsize,
    /// Credentials left unverified because the budget was used up.
    over_budget: AtomicUsize,
}

impl StsVerifier {
    /// Builds the one client of the run. Call inside the tokio runtime, with
    /// options the runner has checked.
    pub(crate) fn new(opts: &VerifyOptions) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(opts.region.trim().to_string()))
            .http_client(http)
            // Each request brings its own credentials; caching them would only
            // keep secrets in memory longer.
            .identity_cache(IdentityCache::no_cache())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(opts.timeout)
                    .operation_attempt_timeout(opts.timeout)
                    .operation_timeout(opts.timeout)
                    .build(),
            )
            .retry_config(RetryConfig::disabled());
        if let Some(endpoint) = &opts.endpoint {
            config = config.endpoint_url(endpoint.clone());
        }
        StsVerifier {
            client: aws_sdk_sts::Client::from_conf(config.build()),
            timeout: opts.timeout,
            signature_retry_pause: opts.signature_retry_pause,
            throttle_retries: opts.throttle_retries,
            throttle_backoff: opts.throttle_backoff,
            max_requests: opts.max_requests,
            requests: AtomicUsize::new(0),
            over_budget: AtomicUsize::new(0),
        }
    }

    /// Requests sent so far.
    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Credentials not asked because the request budget was used up.
    pub(crate) fn over_budget(&self) -> usize {
        self.over_budget.load(Ordering::Relaxed)
    }

    /// Asks STS about one credential and turns the answer into a verdict.
    ///
    /// `SignatureDoesNotMatch` is asked once more after a pause, because STS
    /// sometimes gives it wrongly to a quick repeat with the same key ID;
    /// twice means the key ID exists but the secret is wrong (invalid).
    /// Throttling is retried with doubling pauses, then given up as
    /// unverified. Nothing else is retried: a timeout or a refused connection
    /// will not be different a moment later, and the run must stay bounded.
    pub(crate) async fn verify(
        &self,
        key_id: &str,
        secret: &Secret,
        token: Option<&Secret>,
    ) -> Verdict {
        let mut signature_retried = false;
        let mut throttled = 0u32;
        loop {
            match self.ask(key_id, secret, token).await {
                Answer::Live {
                    arn,
                    account,
                    user_id,
                } => return live(arn, account, user_id),
                Answer::Rejected(verdict) => return verdict,
                Answer::SignatureDoesNotMatch if !signature_retried => {
                    signature_retried = true;
                    tokio::time::sleep(self.signature_retry_pause).await;
                }
                Answer::SignatureDoesNotMatch => {
                    return Verdict::Invalid {
                        code: "SignatureDoesNotMatch".into(),
                    };
                }
                Answer::Throttled(_) if throttled < self.throttle_retries => {
                    tokio::time::sleep(
                        self.throttle_backoff.saturating_mul(1 << throttled.min(16)),
                    )
                    .await;
                    throttled += 1;
                }
                Answer::Throttled(reason) => {
                    return unverified(format!(
                        "{reason} (throttled; gave up after {} tries)",
                        throttled + 1
                    ));
                }
                Answer::Inconclusive(reason) => return unverified(reason),
            }
        }
    }

    async fn ask(&self, key_id: &str, secret: &Secret, token: Option<&Secret>) -> Answer {
        // The budget is claimed before sending, so concurrent tasks cannot
        // overshoot it.
        let sent_before = self.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(max) = self.max_requests {
            if sent_before >= max {
                self.requests.fetch_sub(1, Ordering::Relaxed);
                self.over_budget.fetch_add(1, Ordering::Relaxed);
                return Answer::Inconclusive(format!(
                    "the run's budget of {max} STS requests is used up (--max-verify-requests)"
                ));
            }
        }
        let credentials = Credentials::new(
            key_id,
            secret.expose(),
            token.map(|t| t.expose().to_string()),
            None,
            "keysweep-found-key",
        );
        let result = self
            .client
            .get_caller_identity()
            .customize()
            .config_override(
                aws_sdk_sts::config::Builder::default().credentials_provider(credentials),
            )
            .send()
            .await;
        match result {
            Ok(out) => Answer::Live {
                arn: out.arn().map(str::to_string),
                account: out.account().map(str::to_string),
                user_id: out.user_id().map(str::to_string),
            },
            Err(SdkError::ServiceError(e)) => {
                let status = e.raw().status().as_u16();
                classify_service_error(e.err().code(), e.err().message(), status)
            }
            Err(SdkError::TimeoutError(_)) => {
                Answer::Inconclusive(format!("no answer from STS within {:?}", self.timeout))
            }
            Err(SdkError::DispatchFailure(e)) => {
                if e.is_timeout() {
                    Answer::Inconclusive(format!("no answer from STS within {:?}", self.timeout))
                } else if let Some(cause) = e.as_connector_error() {
                    Answer::Inconclusive(format!(
                        "could not reach STS: {}",
                        DisplayErrorContext(cause)
                    ))
                } else {
                    Answer::Inconclusive("could not reach STS".into())
                }
            }
            // Not an STS answer (a body that does not parse, a proxy page, …).
            Err(e) => Answer::Inconclusive(format!(
                "unexpected answer from STS: {}",
                DisplayErrorContext(&e)
            )),
        }
    }
}

/// Maps an error answer to its meaning. Matches on the code, not the status:
/// a 403 from a proxy or firewall is not STS rejecting the key.
///
/// A `SignatureDoesNotMatch` that says "Signature expired" or "not yet
/// current" is about this machine's clock, not the secret, so no verdict.
fn classify_service_error(code: Option<&str>, message: Option<&str>, status: u16) -> Answer {
    let message = message.unwrap_or("");
    match code {
        Some("SignatureDoesNotMatch")
            if message.contains("Signature expired")
                || message.contains("Signature not yet current") =>
        {
            Answer::Inconclusive(format!(
                "HTTP {status} SignatureDoesNotMatch: the local clock is off ({message})"
            ))
        }
        Some("InvalidClientTokenId") => Answer::Rejected(Verdict::Invalid {
            code: "InvalidClientTokenId".into(),
        }),
        Some("SignatureDoesNotMatch") => Answer::SignatureDoesNotMatch,
        Some("ExpiredToken") => Answer::Rejected(Verdict::Expired),
        Some(c) if THROTTLING_CODES.contains(&c) => Answer::Throttled(format!("HTTP {status} {c}")),
        None if status == 429 => Answer::Throttled("HTTP 429".into()),
        Some(c) => Answer::Inconclusive(format!("HTTP {status} {c}")),
        None => Answer::Inconclusive(format!("HTTP {status} without an AWS error code")),
    }
}

/// A "works" answer becomes a verdict only when it names its principal
/// with a well-formed ARN and account: the answer is printed and a report
/// reader acts on it, so a server (or anything posing as one) cannot put
/// arbitrary text there.
fn live(arn: Option<String>, account: Option<String>, user_id: Option<String>) -> Verdict {
    let Some(arn) = arn.as_deref().and_then(Arn::parse) else {
        return unverified("STS accepted the key but answered without a well-formed ARN".into());
    };
    let account = match account {
        Some(a) if is_account_id(&a) => a,
        _ => match arn.account() {
            Some(a) if is_account_id(a) => a.to_string(),
            _ => {
                return unverified(
                    "STS accepted the key but answered without a 12-digit account".into(),
                )
            }
        },
    };
    let user_id = user_id
        .filter(|u| u.len() <= 128 && u.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_default();
    Verdict::Live {
        arn,
        account,
        user_id,
    }
}

pub(crate) fn unverified(reason: String) -> Verdict {
    Verdict::Unverified { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(a: Answer) -> String {
        match a {
            Answer::Live { .. } => "live".into(),
            Answer::Rejected(v) => format!("{v:?}"),
            Answer::SignatureDoesNotMatch => "sig".into(),
            Answer::Throttled(r) => format!("throttled {r}"),
            Answer::Inconclusive(r) => format!("inconclusive {r}"),
        }
    }

    #[test]
    fn a_clock_skew_is_not_a_wrong_secret() {
        let msg = "Signature expired: 20260101T000000Z is now earlier than 20261122T181500Z";
        let a = kind(classify_service_error(
            Some("SignatureDoesNotMatch"),
            Some(msg),
            403,
        ));
        assert!(a.starts_with("inconclusive") && a.contains("clock"), "{a}");
    }

    #[test]
    fn a_live_answer_needs_a_well_formed_arn_and_account() {
        let arn = "arn:aws:iam::123456789012:user/ci".to_string();
        assert!(live(Some(arn.clone()), Some("123456789012".into()), None).is_live());
        assert!(
            live(Some(arn.clone()), None, None).is_live(),
            "account from the ARN"
        );
        for (a, acct) in [
            (None, Some("123456789012".to_string())),
            (Some("::error::pwned".to_string()), None),
            (
                Some("arn:aws:iam::123456789012:user/x\x1b[2J".to_string()),
                None,
            ),
            (
                Some("arn:aws:iam:::user/x".to_string()),
                Some("evil".to_string()),
            ),
        ] {
            let v = live(a.clone(), acct, None);
            assert!(matches!(v, Verdict::Unverified { .. }), "{a:?}: {v:?}");
        }
    }

    #[test]
    fn codes_decide_not_statuses() {
        assert_eq!(
            kind(classify_service_error(
                Some("InvalidClientTokenId"),
                None,
                403
            )),
            "Invalid { code: \"InvalidClientTokenId\" }"
        );
        assert_eq!(
            kind(classify_service_error(Some("ExpiredToken"), None, 400)),
            "Expired"
        );
        assert_eq!(
            kind(classify_service_error(
                Some("SignatureDoesNotMatch"),
                None,
                403
            )),
            "sig"
        );
        assert_eq!(
            kind(classify_service_error(Some("Throttling"), None, 400)),
            "throttled HTTP 400 Throttling"
        );
        assert_eq!(
            kind(classify_service_error(None, None, 429)),
            "throttled HTTP 429"
        );
        assert_eq!(
            kind(classify_service_error(None, None, 403)),
            "inconclusive HTTP 403 without an AWS error code",
            "a bare 403 (proxy, firewall) is no verdict"
        );
        assert_eq!(
            kind(classify_service_error(Some("AccessDenied"), None, 403)),
            "inconclusive HTTP 403 AccessDenied"
        );
        assert_eq!(
            kind(classify_service_error(None, None, 503)),
            "inconclusive HTTP 503 without an AWS error code"
        );
    }
}
